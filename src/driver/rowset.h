/* SPDX-License-Identifier: MIT */
/* The rows a driver hands back: columns, values, and the bytes of text and
 * blob values in an arena of their own, so a whole set is freed at once,
 * or in a result of the driver's the rowset holds (calx__rowset_hold).
 * Text values are always NUL-terminated. */
#ifndef CALX_DRIVER_ROWSET_H
#define CALX_DRIVER_ROWSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "calx/value.h"

typedef struct calx_chunk calx_chunk;
typedef struct calx_held calx_held;

/* A set of column names in one block, shared by reference: a driver keeps
 * one per cached statement and every rowset of that statement points at
 * it instead of copying the names. The count is atomic because a rowset
 * made on a worker thread may be freed on the loop thread. */
typedef struct calx_colnames calx_colnames;

typedef struct calx_rowset {
    size_t ncols;
    char **colnames;          /* ncols names, in the arena or in names */
    calx_colnames *names;     /* the shared names (a reference held), or NULL */
    size_t nrows;
    size_t cap;               /* rows allocated in vals */
    calx_value *vals;         /* nrows * ncols, row-major */
    int64_t rowcount;         /* rows changed; -1 when the statement changes none */
    int64_t lastrowid;
    bool more;                /* streaming: more rows wait in the driver */
    calx_chunk *arena;
    struct calx_rowset *next; /* the next statement's rows in a batch */
    /* The first rows' room and the first arena block, in the rowset's own
     * allocation (rowset.c says why); NULL where there was no room. */
    calx_value *own_rows;
    calx_chunk *own_chunk;
    /* Rowsets merged into this one (calx__rowset_merge) whose arenas hold
     * bytes its values point at, linked by next; freed with it. */
    struct calx_rowset *spent;
    calx_held *held;          /* driver results values point into */
} calx_rowset;

/* A new empty rowset with ncols columns (names unset). NULL on no memory. */
calx_rowset *calx__rowset_new(size_t ncols);
/* A new empty rowset with names's columns, holding a reference to them
 * (calx__rowset_free drops it). NULL on no memory. */
calx_rowset *calx__rowset_new_named(calx_colnames *names);
/* Gives rs, which has no rows yet, names's columns in place of its own
 * (a reference to names taken, the old names' dropped). */
void calx__rowset_set_names(calx_rowset *rs, calx_colnames *names);
/* Names for ncols columns, name(ctx, i) giving column i's (called twice
 * per column, first to measure, then to copy; it must give the same text
 * both times). One reference, the caller's; NULL on no memory or when
 * name gives NULL. */
calx_colnames *calx__colnames_new(size_t ncols, const char *(*name)(void *ctx, size_t i),
                                  void *ctx);
/* Drops one reference; the last frees the names. NULL is a no-op. */
void calx__colnames_release(calx_colnames *names);
/* Sets column i's name (copied); not for a rowset made with names.
 * 0 or CALX_ERR_NOMEM. */
int calx__rowset_set_colname(calx_rowset *rs, size_t i, const char *name);
/* Room for nrows rows in all, made at once: a stream's next chunk, whose
 * size the fetch knows, then neither grows nor copies its rows. 0 or
 * CALX_ERR_NOMEM (rs unchanged). */
int calx__rowset_reserve(calx_rowset *rs, size_t nrows);
/* Appends a row and returns its ncols values, all NULL, to be filled; NULL
 * on no memory. The pointer is valid until the next append. */
calx_value *calx__rowset_add_row(calx_rowset *rs);
/* Keeps p, a driver's result whose bytes values point into (PostgreSQL's
 * texts, read in place), until the rows go: release(p) when they are
 * cleared or rs is freed. 0, or CALX_ERR_NOMEM with nothing kept (p
 * stays the caller's). */
int calx__rowset_hold(calx_rowset *rs, void *p, void (*release)(void *));
/* Copies n bytes into the arena (plus a NUL) and returns the copy. */
const char *calx__rowset_copy(calx_rowset *rs, const void *p, size_t n);
/* Room for n bytes in the arena, plus a NUL already written at [n], for a
 * driver to decode a value into (a bytea's hex); NULL on no memory. */
char *calx__rowset_alloc(calx_rowset *rs, size_t n);
/* Aligned room in the arena for n values (an array's items; n may be 0);
 * NULL on no memory. */
calx_value *calx__rowset_alloc_values(calx_rowset *rs, size_t n);
/* Room for size bytes, aligned for any object, in the arena's current
 * block, for something that lives and dies with rs (a result's struct);
 * NULL when that block has too little left: the caller allocates the
 * thing elsewhere. Not zeroed. */
void *calx__rowset_room(calx_rowset *rs, size_t size);
/* Drops every row (keeping the columns), for the next streamed chunk. */
void calx__rowset_clear_rows(calx_rowset *rs);
/* rs, a chunk of a stream the program is done with, made empty for the
 * next chunk of the same statement: its columns, the room its rows took
 * and its largest block of bytes kept (memory already faulted in), its
 * rows, the rest of their bytes and what they held dropped, as is any
 * rowset chained to it. */
void calx__rowset_refill(calx_rowset *rs);
/* Makes rs's chain one rowset: the rows of the rowsets after it are
 * appended to rs's (their text and blob bytes move with them, nothing is
 * copied), the rowcounts summed (-1 only when every one is -1), lastrowid
 * taken from the last. A rowset whose columns differ in number from rs's
 * gives its rowcount and no rows. 0, or CALX_ERR_NOMEM with rs's chain as
 * it was. */
int calx__rowset_merge(calx_rowset *rs);
/* Frees rs and the rowsets after it in the chain. NULL is a no-op. */
void calx__rowset_free(calx_rowset *rs);

#endif
