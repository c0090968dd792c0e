/* The SQLite driver's extras beyond the driver vtable: counters a test or
 * a diagnostic can read off one connection. */
#ifndef CALX_DRIVER_SQLITE_H
#define CALX_DRIVER_SQLITE_H

#include <stdint.h>
#include "driver/driver.h"

typedef struct calx_sqlite_stats {
    uint64_t requests;     /* requests run, on the worker or inline */
    uint64_t inline_runs;  /* of those, run on the loop thread (inline_reads) */
    uint64_t prepares;     /* statements prepared: misses of the statement cache
                              (CALX_SQLITE_CACHE_SIZE, least recently used out) */
} calx_sqlite_stats;

/* Fills *out with c's counters. c must be a connection of
 * calx__sqlite_driver; anything else, or NULL, gives all zeros. Loop
 * thread only, between requests (prepares is counted by the worker while
 * one runs). */
void calx__sqlite_conn_stats(const calx_dconn *c, calx_sqlite_stats *out);

#endif
