/* SPDX-License-Identifier: MIT */
/* The SQLite driver's extras beyond the driver vtable: how its URLs are
 * written, for the URL parser, and counters a test or a diagnostic can
 * read off one connection. */
#ifndef CALX_DRIVER_SQLITE_H
#define CALX_DRIVER_SQLITE_H

#include <stdint.h>
#include "core/url_scheme.h"
#include "driver/driver.h"

/* SQLite's URLs name a file, not a server: sqlite:///relative/path.db,
 * sqlite:////absolute/path.db, and sqlite:// or sqlite:///:memory: for an
 * in-memory database (calx_url's memory). The registry row's URL form
 * (sqlite_options.c). */
extern const calx__url_form calx__sqlite_url_form;

typedef struct calx_sqlite_stats {
    uint64_t requests;     /* requests run, on the worker or inline */
    uint64_t inline_runs;  /* of those, run on the loop thread (inline_reads) */
    uint64_t read_rows;    /* of those, run by read_row: a get's row handed back
                              at once */
    uint64_t inline_refusals; /* reads tried on the loop thread that would have
                                 waited (a lock, the disk) and went to the worker */
    uint64_t inline_ends;  /* COMMITs and ROLLBACKs of transactions that had not
                              written, run on the loop thread (not in inline_runs) */
    uint64_t prepares;     /* statements prepared: misses of the statement cache
                              (CALX_SQLITE_CACHE_SIZE, least recently used out) */
    uint64_t refills;      /* stream chunks read into one the loop thread gave
                              back (sqlite_recycle), not a new rowset */
} calx_sqlite_stats;

/* Fills *out with c's counters. c must be a connection of
 * calx__sqlite_driver; anything else, or NULL, gives all zeros. Loop
 * thread only, between requests (prepares is counted by the worker while
 * one runs). */
void calx__sqlite_conn_stats(const calx_dconn *c, calx_sqlite_stats *out);

#endif
