/* SPDX-License-Identifier: MIT */
/* A statement's cache key (SQLAlchemy's cache key): its shape written out
 * as bytes, and its bound values listed in the order the walk meets them.
 * Two statements with the same key compile to the same text, so the
 * engine's statement cache (src/engine/stmt_cache.c) compiles a shape
 * once and binds every later statement of it through a table of parameter
 * sources: which of the statement's values each '?' takes. Shared by
 * cache_key.c and the statement cache. */
#ifndef CALX_SQL_CACHE_KEY_H
#define CALX_SQL_CACHE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sql/compiler.h"

typedef struct calx__cache_key {
    calx_buf bytes;              /* the key: compare all of it, not a hash */
    const calx_value **vals;     /* the statement's values, in walk order */
    size_t nvals, vals_cap;
    const calx_from **froms;     /* FROM items met, numbered in order */
    size_t nfroms, froms_cap;
    bool oom;
} calx__cache_key;

/* Writes st's key into k, replacing what k held (k's memory is reused:
 * zero it once, free it with calx__cache_key_free). The key holds
 * everything the compiler reads: the tree's kinds, operators, tables and
 * columns by name, labels, function names, FROM items (an alias or
 * subquery met again is written as a reference to its first meeting, as
 * the compiler tells them apart by identity), counts (an IN of 2 values
 * is not one of 3), which literals are NULL (rendered inline), the
 * booleans written inline, LIKE's escape character; and of a bound value
 * only its type. st must have no sticky error (check first: a statement
 * with one never compiles). False when memory ran out. */
bool calx__cache_key_make(calx__cache_key *k, calx__stmt_ref st);

/* Frees what k holds and empties it. */
void calx__cache_key_free(calx__cache_key *k);

/* A parameter source for a constant the compiler added (no value of the
 * statement's): its value is kept with the compiled text. */
#define CALX__SRC_CONST SIZE_MAX

/* The parameter-source table of a compile of the statement whose key k
 * is: idx[i] is the position in k->vals of srcs[i] (a calx_compiled's
 * srcs), or CALX__SRC_CONST for a NULL source. CALX_OK; CALX_ERR_INTERNAL
 * when a source is none of k's values (the key missed a value the
 * compiler binds: such a statement must not be cached); CALX_ERR_NOMEM. */
int calx__cache_key_sources(const calx__cache_key *k, const calx_value *const *srcs, size_t n,
                            size_t *idx, calx_error *err);

#endif
