/* SPDX-License-Identifier: MIT */
/* The engine's statement cache: Core statements (select, insert, update,
 * delete) compiled once per shape, as SQLAlchemy's compiled cache does.
 * A statement's cache key (sql/cache_key.h) is its shape written out as
 * bytes; the cache maps it to the compiled texts and a parameter-source
 * table, so that a statement of a shape seen before is only bound: its
 * values, listed by the key's walk, are put in the order the compile
 * binds them, and no text is made. Keys are compared whole, never by hash
 * alone. The cache is bounded (query_cache_size entries), least recently
 * used first out.
 *
 * It belongs to the engine, not to a connection: one engine has one
 * dialect, so one compile serves every connection of its pool, and a
 * shape stays compiled while pooled connections come and go. Everything
 * here runs on the engine's loop thread, one call at a time. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/hash.h"
#include "core/nomem.h"
#include "core/value_int.h"
#include "engine/engine_int.h"
#include "engine/stmt_cache.h"
#include "sql/cache_key.h"

/* One text of a compiled shape. src[i] is where parameter i (all sets'
 * together, set after set) takes its value: a position in the key's
 * values, or CALX__SRC_CONST for konst[i]. */
typedef struct shape_part {
    char *sql;
    size_t nsets, nparams;
    size_t *src;
    calx_dtype *types;       /* what each parameter meets (the compile's) */
    calx_value *konst;       /* NULL when the compile added no constant */
} shape_part;

typedef struct shape_entry {
    uint64_t hash;
    unsigned char *key;
    size_t keylen;
    shape_part *parts;
    size_t nparts;
    size_t nvals;            /* values the key lists */
    uint64_t created_ns;
    struct shape_entry *chain;          /* the bucket's next */
    struct shape_entry *newer, *older;  /* the LRU list */
} shape_entry;

struct calx__stmt_cache {
    size_t cap;
    size_t n;
    shape_entry **buckets;   /* a power of two of them, at least 2 * cap */
    size_t nbuckets;
    shape_entry *newest, *oldest;
    calx__cache_key key;     /* the scratch key, reused by every call */
    calx__stmt_cache_stats stats;
};

calx__stmt_cache *calx__stmt_cache_new(size_t cap)
{
    calx__stmt_cache *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->cap = cap ? cap : 1;
    sc->nbuckets = 16;
    while (sc->nbuckets < 2 * sc->cap)
        sc->nbuckets *= 2;
    if (!(sc->buckets = calloc(sc->nbuckets, sizeof *sc->buckets))) {
        free(sc);
        return NULL;
    }
    return sc;
}

static void entry_free(shape_entry *e)
{
    for (size_t i = 0; i < e->nparts; i++) {
        free(e->parts[i].sql);
        free(e->parts[i].src);
        free(e->parts[i].types);
        free(e->parts[i].konst);
    }
    free(e->parts);
    free(e->key);
    free(e);
}

void calx__stmt_cache_free(calx__stmt_cache *sc)
{
    if (!sc)
        return;
    for (shape_entry *e = sc->newest, *next; e; e = next) {
        next = e->older;
        entry_free(e);
    }
    free(sc->buckets);
    calx__cache_key_free(&sc->key);
    free(sc);
}

void calx__stmt_cache_stats_read(const calx__stmt_cache *sc, calx__stmt_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (sc) {
        *out = sc->stats;
        out->size = sc->n;
    }
}

/* ---- the map and the LRU list ---- */

static void unlink_lru(calx__stmt_cache *sc, shape_entry *e)
{
    *(e->newer ? &e->newer->older : &sc->newest) = e->older;
    *(e->older ? &e->older->newer : &sc->oldest) = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(calx__stmt_cache *sc, shape_entry *e)
{
    e->older = sc->newest;
    e->newer = NULL;
    *(sc->newest ? &sc->newest->newer : &sc->oldest) = e;
    sc->newest = e;
}

static shape_entry **bucket(calx__stmt_cache *sc, uint64_t hash)
{
    return &sc->buckets[hash & (sc->nbuckets - 1)];
}

static shape_entry *lookup(calx__stmt_cache *sc, uint64_t hash)
{
    const calx_buf *k = &sc->key.bytes;
    for (shape_entry *e = *bucket(sc, hash); e; e = e->chain)
        if (e->hash == hash && e->keylen == k->len && memcmp(e->key, k->p, k->len) == 0)
            return e;
    return NULL;
}

static void evict_oldest(calx__stmt_cache *sc)
{
    shape_entry *e = sc->oldest;
    shape_entry **p = bucket(sc, e->hash);
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    unlink_lru(sc, e);
    entry_free(e);
    sc->n--;
    sc->stats.evictions++;
}

static void insert_entry(calx__stmt_cache *sc, shape_entry *e)
{
    if (sc->n == sc->cap)
        evict_oldest(sc);
    shape_entry **b = bucket(sc, e->hash);
    e->chain = *b;
    *b = e;
    push_newest(sc, e);
    sc->n++;
}

/* ---- an entry from a compile ---- */

/* The entry for the compile l of the statement whose key sc->key holds;
 * NULL with err: CALX_ERR_INTERNAL when a value the compile binds is not
 * in the key (the statement is then compiled each time), CALX_ERR_NOMEM. */
static shape_entry *entry_new(calx__stmt_cache *sc, uint64_t hash, const calx_compiled_list *l,
                              calx_error *err)
{
    const calx__cache_key *k = &sc->key;
    shape_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = malloc(k->bytes.len)) ||
        !(e->parts = calloc(l->n, sizeof *e->parts))) {
        if (e)
            free(e->key);
        free(e);
        calx__nomem(err, "caching a statement");
        return NULL;
    }
    memcpy(e->key, k->bytes.p, k->bytes.len);
    e->keylen = k->bytes.len;
    e->hash = hash;
    e->nvals = k->nvals;
    e->nparts = l->n;
    for (size_t i = 0; i < l->n; i++) {
        const calx_compiled *c = &l->parts[i].c;
        shape_part *p = &e->parts[i];
        p->nsets = l->parts[i].nsets;
        p->nparams = c->nparams;
        p->sql = strdup(c->sql);
        p->src = c->nparams ? malloc(c->nparams * sizeof *p->src) : NULL;
        p->types = c->nparams ? malloc(c->nparams * sizeof *p->types) : NULL;
        if (!p->sql || (c->nparams && (!p->src || !p->types))) {
            calx__nomem(err, "caching a statement");
            goto fail;
        }
        if (c->nparams)
            memcpy(p->types, c->types, c->nparams * sizeof *p->types);
        if (calx__cache_key_sources(k, c->srcs, c->nparams, p->src, err))
            goto fail;
        for (size_t j = 0; j < c->nparams; j++) {
            if (p->src[j] != CALX__SRC_CONST)
                continue;
            /* A constant of the compiler's is a number; a text would
             * point into memory the entry does not own. */
            if (calx__value_is_bytes(&c->params[j].value)) {
                calx_error_set(err, CALX_ERR_INTERNAL, "a constant text parameter; the "
                               "statement is compiled each time");
                goto fail;
            }
            if (!p->konst && !(p->konst = calloc(c->nparams, sizeof *p->konst))) {
                calx__nomem(err, "caching a statement");
                goto fail;
            }
            p->konst[j] = c->params[j].value;
        }
    }
    return e;
fail:
    entry_free(e);
    return NULL;
}

/* ---- readying a statement ---- */

static int statement_error(calx__stmt_ref st, calx_error *err)
{
    switch (st.kind) {
    case CALX__STMT_SELECT: return calx_select_error(st.u.select, err);
    case CALX__STMT_INSERT: return calx_insert_error(st.u.insert, err);
    case CALX__STMT_UPDATE: return calx_update_error(st.u.update, err);
    case CALX__STMT_DELETE: return calx_delete_error(st.u.del, err);
    }
    return CALX_OK;
}

/* Makes r's statement list over n texts holding nparams values in all. */
static int ready_alloc(calx__stmt_ready *r, size_t n, size_t nsets, size_t nparams,
                       calx_error *err)
{
    r->n = n;
    r->stmts = calloc(n, sizeof *r->stmts);
    r->types = calloc(n, sizeof *r->types);
    r->sets = calloc(nsets ? nsets : 1, sizeof *r->sets);
    r->params = nparams ? malloc(nparams * sizeof *r->params) : NULL;
    if (!r->stmts || !r->types || !r->sets || (nparams && !r->params))
        return calx__nomem(err, "running a statement");
    r->note.param_types = r->types;
    return CALX_OK;
}

/* Points text i of r at sql and its nsets sets at the nparams values at
 * *params (set after set), moving *params and *set past them. */
static void ready_text(calx__stmt_ready *r, size_t i, const char *sql, size_t nsets,
                       size_t nparams, calx_param **params, calx_params **set)
{
    size_t per = nsets ? nparams / nsets : 0;
    r->stmts[i] = (calx_stmt){ sql, *set, nsets, false };
    /* No values: *params may be NULL, where no offset may be taken. */
    for (size_t k = 0; k < nsets; k++)
        *(*set)++ = (calx_params){ per ? *params + k * per : NULL, per };
    if (nparams)
        *params += nparams;
}

/* r runs the compile kept in r->own as it is. */
static int ready_from_compile(calx__stmt_ready *r, calx_error *err)
{
    const calx_compiled_list *l = &r->own;
    size_t nsets = 0, nparams = 0;
    for (size_t i = 0; i < l->n; i++) {
        nsets += l->parts[i].nsets;
        nparams += l->parts[i].c.nparams;
    }
    int rc = ready_alloc(r, l->n, nsets, nparams, err);
    calx_param *p = r->params;
    calx_params *set = r->sets;
    for (size_t i = 0; !rc && i < l->n; i++) {
        const calx_compiled *c = &l->parts[i].c;
        if (c->nparams)
            memcpy(p, c->params, c->nparams * sizeof *p);
        r->types[i] = c->types;
        ready_text(r, i, c->sql, l->parts[i].nsets, c->nparams, &p, &set);
    }
    return rc;
}

/* r runs entry e with the values the key's walk listed. */
static int ready_from_entry(calx__stmt_ready *r, const shape_entry *e,
                            const calx__cache_key *k, calx_error *err)
{
    size_t nsets = 0, nparams = 0;
    for (size_t i = 0; i < e->nparts; i++) {
        nsets += e->parts[i].nsets;
        nparams += e->parts[i].nparams;
    }
    int rc = ready_alloc(r, e->nparts, nsets, nparams, err);
    calx_param *p = r->params;
    calx_params *set = r->sets;
    for (size_t i = 0; !rc && i < e->nparts; i++) {
        const shape_part *sp = &e->parts[i];
        for (size_t j = 0; j < sp->nparams; j++) {
            size_t s = sp->src[j];
            p[j] = (calx_param){ NULL, s == CALX__SRC_CONST ? sp->konst[j] : *k->vals[s] };
        }
        r->types[i] = sp->types;
        ready_text(r, i, sp->sql, sp->nsets, sp->nparams, &p, &set);
    }
    return rc;
}

int calx__stmt_cache_ready(calx__stmt_cache *sc, const calx_dialect *d, calx__stmt_ref st,
                           calx__stmt_ready *out, calx_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = statement_error(st, err);
    if (rc)
        return rc;
    uint64_t hash = 0;
    if (sc) {
        if (!calx__cache_key_make(&sc->key, st))
            return calx__nomem(err, "running a statement");
        hash = calx__hash_bytes(CALX_HASH_INIT, sc->key.bytes.p, sc->key.bytes.len);
        shape_entry *e = lookup(sc, hash);
        if (e && e->nvals == sc->key.nvals) {
            unlink_lru(sc, e);
            push_newest(sc, e);
            sc->stats.hits++;
            out->note = (calx__compile_note){ .how = CALX__COMPILED_CACHED,
                                              .created_ns = e->created_ns };
            return ready_from_entry(out, e, &sc->key, err);
        }
    }
    uint64_t t0 = calx__mono_ns();
    if ((rc = calx__statement_compile(st, d, &out->own, err)))
        return rc;
    uint64_t t1 = calx__mono_ns();
    out->note = (calx__compile_note){ .how = sc ? CALX__COMPILED_NOW : CALX__COMPILED_DISABLED,
                                      .compile_s = (double)(t1 - t0) / 1e9,
                                      .created_ns = t1 };
    if (sc) {
        calx_error why;
        shape_entry *e = entry_new(sc, hash, &out->own, &why);
        if (e) {
            e->created_ns = t1;
            insert_entry(sc, e);
            sc->stats.misses++;
        } else if (why.code == CALX_ERR_INTERNAL) {
            /* The key missed a value: compiled each time, never bound wrong. */
            sc->stats.uncacheable++;
            out->note.how = CALX__COMPILED_NO_KEY;
        } else {
            return calx_error_set(err, why.code, "%s", why.message);
        }
    }
    return ready_from_compile(out, err);
}

void calx__stmt_ready_free(calx__stmt_ready *r)
{
    if (!r)
        return;
    free(r->stmts);
    free(r->types);
    free(r->sets);
    free(r->params);
    calx__compiled_list_free(&r->own);
    memset(r, 0, sizeof *r);
}
