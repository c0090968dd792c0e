/* SPDX-License-Identifier: MIT */
/* The engine's statement cache (SQLAlchemy's compiled cache, sized by
 * query_cache_size): Core statements compiled once per shape. Shared by
 * stmt_cache.c, engine.c (which owns one per engine) and statement_run.c
 * (which runs what it hands out). */
#ifndef CALX_ENGINE_STMT_CACHE_H
#define CALX_ENGINE_STMT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calx/connection.h"
#include "sql/compiler.h"

typedef struct calx__stmt_cache calx__stmt_cache;

/* SQLAlchemy's query_cache_size default. */
#define CALX_QUERY_CACHE_DEFAULT 500

/* A cache of at most cap compiled shapes, least recently used evicted
 * first; NULL when out of memory. cap must be at least 1 (an engine
 * without a cache has none). Free with calx__stmt_cache_free (NULL is a
 * no-op). */
calx__stmt_cache *calx__stmt_cache_new(size_t cap);
void calx__stmt_cache_free(calx__stmt_cache *sc);

/* Counters, for tests and diagnostics. */
typedef struct calx__stmt_cache_stats {
    uint64_t hits;          /* statements bound to a cached compile */
    uint64_t misses;        /* compiled (and cached) */
    uint64_t evictions;     /* entries dropped for the bound */
    uint64_t uncacheable;   /* compiled each time: the key missed a value */
    size_t size;            /* entries held now */
} calx__stmt_cache_stats;

void calx__stmt_cache_stats_read(const calx__stmt_cache *sc, calx__stmt_cache_stats *out);

/* How a statement was compiled, for echo's badge (SQLAlchemy's words). */
typedef enum calx__compile_how {
    CALX__COMPILED_NOW,       /* "generated in 0.00012s" */
    CALX__COMPILED_CACHED,    /* "cached since 2.1s ago" */
    CALX__COMPILED_DISABLED,  /* "caching disabled 0.00012s" (no cache) */
    CALX__COMPILED_NO_KEY     /* "no key 0.00012s" (uncacheable) */
} calx__compile_how;

typedef struct calx__compile_note {
    calx__compile_how how;
    double compile_s;        /* the compile's seconds (not CACHED) */
    uint64_t created_ns;     /* CACHED: when the entry was compiled */
    /* A select's result columns the dialect returns in a stored form
     * (calx__select_stored_columns): nresult_types entries, NULL where a
     * column is taken as it comes; NULL when none is. Valid for the call. */
    const calx_column *const *result_types;
    size_t nresult_types;
    /* What the parameters meet, per text of the statement (as
     * calx_compiled's types: NULL or the text's parameters, first set
     * first), handed to the driver (calx_dstmt's types). NULL: none.
     * Valid for the call. */
    const calx_dtype *const *param_types;
} calx__compile_note;

/* A statement ready to run: n texts, each with its parameter sets (a
 * select, update or delete is one text run once; a many-row insert may
 * be two, run as one statement). The texts belong to the cache entry or
 * to the compile kept here; the values point into the statement. Valid
 * until the next call on the cache, or the statement changes. */
typedef struct calx__stmt_ready {
    calx_stmt *stmts;
    const calx_dtype **types;  /* per text: what its parameters meet */
    size_t n;
    calx_params *sets;
    calx_param *params;
    calx__compile_note note;
    calx_compiled_list own;   /* the compile, when it was not cached */
} calx__stmt_ready;

/* Readies st for d through sc (NULL: no cache, every statement
 * compiled): a statement whose shape is cached is only bound (its values
 * collected in the order the cached compile binds them); another is
 * compiled and cached, evicting the least recently used entry when the
 * cache is full. Free *out with calx__stmt_ready_free (also after a
 * failure). Errors: st's own (its sticky and whole-statement errors, the
 * compiler's), CALX_ERR_NOMEM. */
int calx__stmt_cache_ready(calx__stmt_cache *sc, const calx_dialect *d, calx__stmt_ref st,
                           calx__stmt_ready *out, calx_error *err);
void calx__stmt_ready_free(calx__stmt_ready *r);

#endif
