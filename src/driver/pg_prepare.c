/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: prepared statements.
 *
 * Prepared statements are cached per connection (LRU, named calx_<n>,
 * keyed by the SQL text and the parameter types); statement_cache_size=0
 * turns them off for PgBouncer in transaction mode, where a named
 * statement made on one server connection is missing on the next. An
 * entry is made when its Parse is queued and kept once the server confirms
 * it; an evicted one is DEALLOCATEd in the same pipeline, one the server
 * lost (DISCARD ALL, a changed table) at the front of the next. It is a
 * file of its own because the cache's bookkeeping is independent of how a
 * request is sent: the pipeline asks it for a name, or for none. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "driver/pg_int.h"

/* The cache key's hash: SQL text (the engine's hash of it when it came
 * with the statement) and parameter types. */
uint64_t calx__pg_hash_stmt(const calx_dstmt *st, const Oid *types, int n)
{
    uint64_t h = st->sql_hash ? st->sql_hash : calx__hash_str(CALX_HASH_INIT, st->sql);
    for (int i = 0; i < n; i++)
        h = calx__hash_word(h, types[i]);
    return h;
}

/* Frees a prepared-statement cache entry. */
void calx__pg_cached_free(pg_cached *e)
{
    if (!e)
        return;
    calx__colnames_release(e->names);
    free(e->sql);
    free(e->types);
    free(e);
}

/* Forgets cache entry i (the server's statement is not touched). */
static void cache_remove_at(pg_conn *c, size_t i)
{
    if (c->last_hit == c->cache[i])
        c->last_hit = NULL;
    calx__pg_cached_free(c->cache[i]);
    c->cache[i] = c->cache[--c->ncached];
}

/* Forgets every entry (after DISCARD ALL). */
static void cache_clear(pg_conn *c)
{
    while (c->ncached)
        cache_remove_at(c, c->ncached - 1);
}

/* The entry for sql with these parameter types, or NULL. */
pg_cached *calx__pg_cache_find(pg_conn *c, uint64_t h, const char *sql, const Oid *types, int n)
{
    pg_cached *e = c->last_hit;
    if (e && e->hash == h && e->ntypes == n && strcmp(e->sql, sql) == 0 &&
        (n == 0 || memcmp(e->types, types, (size_t)n * sizeof *types) == 0))
        return e;
    for (size_t i = 0; i < c->ncached; i++) {
        e = c->cache[i];
        if (e->hash == h && e->ntypes == n && strcmp(e->sql, sql) == 0 &&
            (n == 0 || memcmp(e->types, types, (size_t)n * sizeof *types) == 0))
            return c->last_hit = e;
    }
    return NULL;
}

/* A new entry for sql, evicting the least recently used one not used by
 * this request (its DEALLOCATE goes into this pipeline). NULL when every
 * entry is in use now or memory runs out: the statement then runs
 * unprepared. */
pg_cached *calx__pg_cache_add(pg_conn *c, uint64_t h, const char *sql, const Oid *types, int n)
{
    if (c->ncached == c->cache_cap) {
        size_t victim = SIZE_MAX;
        for (size_t i = 0; i < c->ncached; i++)
            if (c->cache[i]->used < c->tick &&
                (victim == SIZE_MAX || c->cache[i]->used < c->cache[victim]->used))
                victim = i;
        if (victim == SIZE_MAX)
            return NULL;
        unsigned id = c->cache[victim]->id;
        cache_remove_at(c, victim);
        if (!calx__pg_send_dealloc(c, id))
            return NULL;
    }
    if (c->ncached == c->cache_alloc) {
        size_t cap = c->cache_alloc ? c->cache_alloc * 2 : 16;
        if (cap > c->cache_cap)
            cap = c->cache_cap;
        pg_cached **grown = realloc(c->cache, cap * sizeof *grown);
        if (!grown)
            return NULL;
        c->cache = grown;
        c->cache_alloc = cap;
    }
    pg_cached *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->sql = strdup(sql);
    e->types = malloc((n ? (size_t)n : 1) * sizeof *e->types);
    if (!e->sql || !e->types) {
        calx__pg_cached_free(e);
        return NULL;
    }
    if (n)
        memcpy(e->types, types, (size_t)n * sizeof *types);
    e->ntypes = n;
    e->hash = h;
    e->id = ++c->next_stmt_id;
    snprintf(e->name, sizeof e->name, "calx_%u", e->id);
    e->used = c->tick;
    c->cache[c->ncached++] = e;
    return c->last_hit = e;
}

/* After a request: forget what the server does not hold (a Parse that an
 * earlier error skipped), or everything after DISCARD ALL. */
void calx__pg_cache_settle(pg_conn *c)
{
    if (c->cache_reset) {
        cache_clear(c);
        c->cache_reset = false;
        return;
    }
    for (size_t i = c->ncached; i-- > 0;)
        if (!c->cache[i]->ready)
            cache_remove_at(c, i);
}

/* Remembers a statement to DEALLOCATE at the front of the next EXEC. */
void calx__pg_queue_dealloc(pg_conn *c, unsigned id)
{
    if (c->ndealloc == c->dealloc_cap) {
        size_t cap = c->dealloc_cap ? c->dealloc_cap * 2 : 8;
        unsigned *d = realloc(c->dealloc, cap * sizeof *d);
        if (!d)
            return;  /* the statement stays on the server: harmless */
        c->dealloc = d;
        c->dealloc_cap = cap;
    }
    c->dealloc[c->ndealloc++] = id;
}
