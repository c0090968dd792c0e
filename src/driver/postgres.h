/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's extras beyond the driver vtable: counters a test
 * or a diagnostic can read off one connection. */
#ifndef CALX_DRIVER_POSTGRES_H
#define CALX_DRIVER_POSTGRES_H

#include <stddef.h>
#include <stdint.h>
#include "driver/driver.h"

/* How recently a connection must have read a reply for alive() to trust
 * it without reading its socket (postgres.c's pg_alive): 0.5 ms. */
#define CALX_PG_FRESH_REPLY_NS 500000u

typedef struct calx_pg_stats {
    uint64_t round_trips;  /* pipelines sent, one Sync each: a batch of any size
                              is one, and costs about one network round trip */
    uint64_t commands;     /* commands sent in them (BEGIN, each parameter set, ...) */
    uint64_t prepares;     /* named prepared statements created */
    uint64_t cancels;      /* cancel requests sent (interrupt) */
    uint64_t probes;       /* reads of the socket between requests, each a
                              syscall: is the server still there? (alive;
                              not within CALX_PG_FRESH_REPLY_NS of a
                              reply) */
    uint64_t int4_params;  /* integer parameters sent as int4 (meeting an
                              INTEGER column) ... */
    uint64_t int8_params;  /* ... and as int8: what the server was told, in
                              prepared statements and cursors alike */
    size_t cached;         /* prepared statements held now */
    int backend_pid;       /* the server process serving the connection */
} calx_pg_stats;

/* Fills *out with c's counters. c must be a connection of
 * calx__postgres_driver; anything else gives all zeros. */
void calx__pg_conn_stats(const calx_dconn *c, calx_pg_stats *out);

#endif
