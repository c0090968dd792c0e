/* SPDX-License-Identifier: MIT */
/* Texts made once per engine by a layer above it: the ORM's statements by
 * primary key (a get's SELECT, a flush's UPDATE and DELETE of a set of
 * columns), found by what they are of (the model's address), a kind and
 * a column mask. They used to be compiled once per session or per flush,
 * and a program that opens a session per request (a web handler, the
 * bench's B5) compiled them on every transaction: a third of B5's client
 * instructions, quoting identifiers mostly. One engine has one dialect,
 * so a text serves every session bound to it.
 *
 * Open addressing on a hash of the three parts; the texts stay until the
 * engine is freed, at most CALX_PLAN_CACHE_MAX of them (the masks of an
 * UPDATE are as many as the sets of columns a program changes together).
 * Everything here runs on the engine's loop thread. */
#include <stdlib.h>

#include "core/hash.h"
#include "engine/engine_int.h"
#include "engine/sql_memo.h"

struct calx__memo_entry {
    const void *owner;      /* NULL: the slot is free */
    unsigned kind;
    uint64_t mask;
    calx__memo_text text;
};

static size_t slot_of(const calx_engine *e, const void *owner, unsigned kind, uint64_t mask)
{
    uint64_t h = calx__hash_word(CALX_HASH_INIT, (uintptr_t)owner);
    h = calx__hash_word(calx__hash_word(h, kind), mask);
    return (size_t)h & (e->memo_cap - 1);
}

const calx__memo_text *calx__engine_memo_find(calx_engine *e, const void *owner, unsigned kind,
                                              uint64_t mask)
{
    if (!e->memo_n)
        return NULL;
    for (size_t i = slot_of(e, owner, kind, mask);; i = (i + 1) & (e->memo_cap - 1)) {
        const calx__memo_entry *m = &e->memo[i];
        if (!m->owner)
            return NULL;
        if (m->owner == owner && m->kind == kind && m->mask == mask)
            return &m->text;
    }
}

static void put(calx_engine *e, calx__memo_entry entry)
{
    size_t i = slot_of(e, entry.owner, entry.kind, entry.mask);
    while (e->memo[i].owner)
        i = (i + 1) & (e->memo_cap - 1);
    e->memo[i] = entry;
}

/* Doubles the table (from 64 slots), keeping it at most half full. */
static bool grow(calx_engine *e)
{
    size_t cap = e->memo_cap ? 2 * e->memo_cap : 64;
    calx__memo_entry *t = calloc(cap, sizeof *t), *old = e->memo;
    if (!t)
        return false;
    size_t old_cap = e->memo_cap;
    e->memo = t;
    e->memo_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].owner)
            put(e, old[i]);
    free(old);
    return true;
}

bool calx__engine_memo_keep(calx_engine *e, const void *owner, unsigned kind, uint64_t mask,
                            calx__memo_text text)
{
    if (!owner || e->memo_n >= CALX_PLAN_CACHE_MAX ||
        ((e->memo_n + 1) * 2 > e->memo_cap && !grow(e)))
        return false;
    put(e, (calx__memo_entry){ owner, kind, mask, text });
    e->memo_n++;
    return true;
}

void calx__engine_memo_free(calx_engine *e)
{
    for (size_t i = 0; i < e->memo_cap; i++) {
        free(e->memo[i].text.sql);
        free(e->memo[i].text.types);
    }
    free(e->memo);
    e->memo = NULL;
    e->memo_cap = e->memo_n = 0;
}
