/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's insides, shared by its files, a section each
 * below: postgres.c (the driver interface, cancel and timeouts, the socket
 * watch, freeing), pg_connect.c (options, name resolution, the
 * non-blocking connect), pg_pipeline.c (a request as one pipeline: queued,
 * sent, its results read), pg_params.c (parameters as libpq takes them),
 * pg_prepare.c (the prepared-statement cache), pg_result.c (SQLSTATE
 * classes, values decoded by column type) and pg_error.c (the request's
 * error). Everything here is touched on the loop thread only; the one
 * exception is a cancel job, which owns its own PGcancel and touches
 * nothing else. */
#ifndef CALX_DRIVER_PG_INT_H
#define CALX_DRIVER_PG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/clock.h"
#include "core/evloop.h"
#include "driver/driver.h"
#include "driver/postgres.h"

/* Type OIDs (catalog/pg_type_d.h is a server header). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_UNKNOWN = 705,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_INTERVAL = 1186,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
    OID_JSONB = 3802,
    /* arrays of the types above (pg_type's typarray) */
    OID_BOOL_ARRAY = 1000,
    OID_NAME_ARRAY = 1003,
    OID_INT2_ARRAY = 1005,
    OID_INT4_ARRAY = 1007,
    OID_TEXT_ARRAY = 1009,
    OID_BPCHAR_ARRAY = 1014,
    OID_VARCHAR_ARRAY = 1015,
    OID_INT8_ARRAY = 1016,
    OID_FLOAT4_ARRAY = 1021,
    OID_FLOAT8_ARRAY = 1022,
    OID_OID_ARRAY = 1028,
    OID_TIMESTAMP_ARRAY = 1115,
    OID_DATE_ARRAY = 1182,
    OID_TIME_ARRAY = 1183,
    OID_TIMESTAMPTZ_ARRAY = 1185,
    OID_INTERVAL_ARRAY = 1187,
    OID_NUMERIC_ARRAY = 1231,
    OID_UUID_ARRAY = 2951,
    OID_JSON_ARRAY = 199,
    OID_JSONB_ARRAY = 3807
};

/* PostgreSQL's epoch for dates and times in binary, 2000-01-01, in calx's
 * days since 1970-01-01. */
#define PG_EPOCH_DAYS INT64_C(10957)

/* The format a statement's rows are asked for in (pg_result.c decides):
 * not known until its first result is seen, then binary when every column
 * has a binary decoder, else text. */
typedef enum pg_fmt {
    PG_FMT_UNKNOWN,
    PG_FMT_TEXT,
    PG_FMT_BINARY
} pg_fmt;

#define CALX_PG_CACHE_DEFAULT 100      /* prepared statements per connection (asyncpg's) */
#define CALX_PG_CONNECT_TIMEOUT_S 60.0 /* when neither connect_args, the URL nor
                                          PGCONNECT_TIMEOUT say (asyncpg's) */
#define CALX_PG_FETCHES_AHEAD 2       /* a stream's FETCHes out beyond the chunk
                                          being read (pg_pipeline.c) */
#define CALX_PG_CANCEL_GRACE_S 10.0    /* how long an interrupted request waits for
                                          the server to answer the cancel when no
                                          command_timeout is set; then the
                                          connection is given up */

/* A prepared statement: the SQL text and the parameter types it was
 * prepared with (the same text with other types is another entry). */
typedef struct pg_cached {
    uint64_t hash;
    char *sql;
    Oid *types;
    int ntypes;
    unsigned id;              /* its server-side name is calx_<id> */
    char name[16];            /* that name, made once (not at every run) */
    uint64_t used;            /* request tick of the last use; the smallest goes */
    bool ready;               /* the server confirmed the Parse */
    pg_fmt rows;              /* the format its rows are asked for in, learnt
                                 from its first result (a prepared statement's
                                 result types cannot change: the server fails
                                 it with 0A000 instead) */
    calx_colnames *names;     /* its result's column names, from its first
                                 result with columns, shared by the rowsets
                                 of every run (a reference held); dropped
                                 when it is prepared afresh */
} pg_cached;

/* What a command in the pipeline is, so that its result is put to use. */
typedef enum pg_cmd_kind {
    PGC_BEGIN,
    PGC_PREPARE,              /* confirms entry */
    PGC_DESCRIBE,             /* tells entry's result types: its rows' format */
    PGC_STMT,                 /* rows and counts go to statement stmt */
    PGC_DEALLOC,
    PGC_DECLARE,              /* opens the cursor of statement stmt */
    PGC_FETCH,                /* rows go to statement stmt, streamed */
    PGC_CLOSE,                /* closes the cursor */
    PGC_COMMIT,
    PGC_ROLLBACK,
    PGC_PING,
    PGC_AHEAD                 /* the reply to a FETCH sent ahead that no fetch
                                 took: read and dropped */
} pg_cmd_kind;

typedef struct pg_cmd {
    pg_cmd_kind kind;
    size_t stmt;
    size_t set;
    pg_cached *entry;
} pg_cmd;

typedef enum pg_iso {
    PG_ISO_DEFAULT,           /* the server's default_transaction_isolation */
    PG_ISO_SERIALIZABLE,
    PG_ISO_REPEATABLE_READ,
    PG_ISO_READ_COMMITTED,
    PG_ISO_READ_UNCOMMITTED,
    PG_ISO_AUTOCOMMIT
} pg_iso;

typedef struct pg_conn pg_conn;

/* A host of the URL or of the host option, and its addresses once known. */
typedef struct pg_host {
    char *name;               /* as given: a name, an address, a socket directory or "" */
    char *port;               /* "" for libpq's default */
    bool resolve;             /* a name to look up before connecting */
    char **addrs;             /* what it resolved to */
    size_t naddrs;
    char *error;              /* why it did not resolve */
} pg_host;

struct pg_conn {
    calx_dconn base;
    PGconn *pg;
    calx_io *io;              /* the socket's watch; NULL while there is no socket */
    int io_fd;                /* the socket it watches */
    int io_events;
    bool io_ref;

    /* Options, fixed at connect. */
    char **keys, **vals;      /* libpq keywords and values, NULL-terminated */
    size_t nkv, kvcap;
    pg_host *hosts;
    size_t nhosts, nresolving;
    double connect_timeout_s; /* 0: no limit */
    double command_timeout_s; /* a request's bound; 0: none (asyncpg's default) */
    size_t cache_cap;         /* 0: no prepared statements (PgBouncer) */
    pg_iso iso;

    /* Connecting. */
    calx_dconnect_cb connect_cb;
    void *connect_udata;
    calx_timer *timer;
    bool connecting;
    bool abandoned;           /* the connect failed while lookups were out */

    /* The request running. */
    const calx_dreq *req;
    calx_dreq_cb cb;
    void *udata;
    bool busy;
    bool sent;                /* the pipeline is out: results are awaited */
    bool flushing;            /* libpq holds output not yet written */
    bool start_waiting;       /* a cancel is in flight: start once it is back */
    pg_cmd *cmds;
    size_t ncmds, cmdcap, cur;
    bool cur_seen;            /* a result of cmds[cur] came */
    calx_rowset **rsets;      /* one per statement of the request */
    size_t nrsets, rsetcap;
    bool failed;
    calx_error err;           /* the first failure */
    char *scratch;            /* parameter text of one parameter set */
    size_t scratch_cap;
    const char **pvals;       /* one parameter set, as libpq takes it */
    int *plens, *pfmts;
    Oid *ptypes;
    size_t pcap;
    int nulls_in_a_row;       /* PQgetResult NULLs with no result between */
    bool res_kept;            /* the result being handled went to a rowset */
    bool describing;          /* the pipeline out prepares and describes the
                                 request's query; the query itself follows
                                 at its Sync (pg_pipeline.c) */
    bool described;           /* ... and that pipeline is done */
    bool looked_up;           /* build_describe found the lone query's cache
                                 entry (NULL: none) and hash, for send_stmt */
    pg_cached *looked_up_entry;
    uint64_t looked_up_hash;
    unsigned draining;        /* the pipelines out are FETCHes sent ahead that
                                 this request does not take: their replies
                                 are dropped, then the request's own is sent */

    /* Transactions, as the engine sees them: begun and not yet ended by a
     * COMMIT or ROLLBACK op (the server may have ended it meanwhile). */
    bool tx_open;

    /* The streamed statement's cursor. */
    char cursor[32];          /* "" when none is open */
    bool cursor_hold;         /* WITH HOLD: outlives the transaction */
    bool cursor_done;         /* read to the end: close it with the next request */
    bool cursor_new;          /* declared by the request running */
    bool cursor_ok;           /* ... and the server confirmed the DECLARE */
    pg_fmt cursor_fmt;        /* its FETCHes' format, learnt from the first */
    size_t stream_rows;
    /* The next FETCH, sent ahead (pg_pipeline.c): when a chunk comes back
     * full, the next FETCH and its Sync go out before the chunk is decoded,
     * so that the server makes the next chunk while this one becomes rows.
     * Its reply waits in libpq for the next CALX_DOP_FETCH; any other
     * request reads it and drops it first. */
    unsigned nahead;          /* such FETCHes out, their replies unread */
    size_t ahead_rows;        /* the rows each asked for */

    /* Prepared statements. */
    pg_cached **cache;
    size_t ncached, cache_alloc;
    pg_cached *last_hit;      /* execute-many looks here first */
    bool cache_reset;         /* DISCARD ALL / DEALLOCATE ALL seen: forget all */
    unsigned *dealloc;        /* ids to DEALLOCATE in the next pipeline */
    size_t ndealloc, dealloc_cap;
    uint64_t tick;
    unsigned next_stmt_id;
    unsigned next_cursor_id;

    /* Cancel, and the bounds that keep a request from waiting forever on a
     * server that stopped answering: command_timeout, then a grace for the
     * cancel, after which the connection is given up. */
    bool cancel_requested;    /* an interrupt asked for this request */
    int cancel_jobs;          /* PQcancel calls running on the thread pool */
    calx_timer *req_timer;    /* made when the connection is up */
    bool cancelling;          /* req_timer now bounds the wait for the cancel */
    bool timed_out;           /* command_timeout ran out: 57014 reads as TIMEOUT */

    /* A completion that needs no I/O runs deferred (never from inside the
     * call that starts it). */
    calx_work deferred;
    bool deferred_queued;
    bool deferred_is_connect;
    bool deferred_read;       /* the request's reply may be in libpq already
                                 (a FETCH sent ahead): read it, not complete */

    char notice[256];         /* the last error the server sent outside any
                                 query (FATAL before hanging up) */
    char notice_state[6];

    bool dead;                /* the connection is lost */
    bool closing;
    uint64_t heard_ns;        /* when a request last completed, its reply read
                                 off the socket (calx__mono_ns); 0: never */
    calx_pg_stats stats;
};

/* pg_connect.c: the driver's connect entry point. */
int calx__pg_connect(calx_loop *loop, const calx_url *url, const calx_kv *args, size_t nargs,
                     const char *isolation_level, calx_dconnect_cb cb, void *udata,
                     calx_error *err);

/* pg_connect.c: the driver's check_options (driver.h): the options parsed
 * as connect parses them, nothing opened. */
int calx__pg_check_options(const calx_url *url, const calx_kv *args, size_t nargs,
                           const char *isolation_level, calx_error *err);

/* postgres.c */
/* The connection is up: pipeline mode on, the idle watch set. 0 or an error. */
int calx__pg_ready(pg_conn *c, calx_error *err);
/* Sets the socket watch to events (0 stops it), re-creating it when libpq's
 * socket changed or closed; ref says whether it keeps the loop alive. */
void calx__pg_watch(pg_conn *c, int events, bool ref);
/* Drops the socket watch (before the socket goes, or for good). */
void calx__pg_unwatch(pg_conn *c);
/* Frees everything c holds, and c (no callback runs). */
void calx__pg_free(pg_conn *c);
/* The socket is ready (or failed: events < 0). */
void calx__pg_on_io(void *arg, int events);
/* Queues c's deferred completion (connect or request). */
void calx__pg_defer(pg_conn *c, bool is_connect);

/* pg_pipeline.c */
/* Sends c->req's pipeline, or completes it deferred when it needs nothing
 * sent or failed before sending. */
void calx__pg_start_request(pg_conn *c);
/* Socket events while a pipeline is out: read, flush, collect results;
 * completes the request at its Sync. */
void calx__pg_pump(pg_conn *c, int events);
/* Between requests, with a FETCH sent ahead: takes in what the server
 * sent of its reply (libpq keeps it for the next request) and writes what
 * libpq still holds of the FETCH. Marks the connection dead when it is gone. */
void calx__pg_read_ahead(pg_conn *c);
/* Ends the request and calls back; nothing may touch c afterwards (the
 * callback may close it). */
void calx__pg_complete(pg_conn *c);
/* Frees the running request's rowsets, keeping their slots. */
void calx__pg_free_rsets(pg_conn *c);
/* Queues DEALLOCATE of prepared statement calx_<id>; false when the
 * request failed (recorded). */
bool calx__pg_send_dealloc(pg_conn *c, unsigned id);

/* pg_params.c */
/* Checks every parameter of req before anything is queued; false when
 * one is bad (the failure is recorded). */
bool calx__pg_check_params(pg_conn *c, const calx_dreq *req);
/* Lays one parameter set out in c->pvals, plens, pfmts and ptypes, as
 * libpq takes it, each value typed as types says (the statement's: NULL,
 * or n entries) where it fits; false when memory runs out (recorded). */
bool calx__pg_bind_set(pg_conn *c, const calx_value *vals, const calx_dtype *types, size_t n);

/* pg_prepare.c */
/* The cache key's hash: st's SQL text (its sql_hash when known) and
 * parameter types. */
uint64_t calx__pg_hash_stmt(const calx_dstmt *st, const Oid *types, int n);
/* The entry for sql with these parameter types, or NULL. */
pg_cached *calx__pg_cache_find(pg_conn *c, uint64_t h, const char *sql, const Oid *types,
                               int n);
/* A new entry for sql (its Parse still to queue), evicting the least
 * recently used one this request does not use; NULL when every entry is in
 * use or memory runs out: the statement then runs unprepared. */
pg_cached *calx__pg_cache_add(pg_conn *c, uint64_t h, const char *sql, const Oid *types,
                              int n);
/* After a request: forgets what the server does not hold. */
void calx__pg_cache_settle(pg_conn *c);
/* Remembers a statement to DEALLOCATE at the front of the next EXEC. */
void calx__pg_queue_dealloc(pg_conn *c, unsigned id);
/* Frees a cache entry (NULL is accepted). */
void calx__pg_cached_free(pg_cached *e);

/* pg_error.c: the request's failure, recorded in c->err; the first wins. */
void calx__pg_fail(pg_conn *c, const calx_error *err);
void calx__pg_failf(pg_conn *c, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The error a failed result carries, with the server's DETAIL and HINT,
 * its SQLSTATE and class, and where in the request cmd was. */
void calx__pg_result_error(pg_conn *c, const pg_cmd *cmd, const PGresult *res);
/* The connection is gone: c is dead and the request fails with
 * CALX_ERR_DISCONNECT (this error wins over an earlier one). */
void calx__pg_lost(pg_conn *c);
/* What a command is called in an error ("DECLARE CURSOR", ...). */
const char *calx__pg_cmd_name(pg_cmd_kind k);

/* pg_connect.c: a connect step from the socket watch; the deferred
 * connect completion. */
void calx__pg_connect_io(pg_conn *c, int events);
void calx__pg_connect_deferred(pg_conn *c);

/* pg_result.c: the calx error code for an SQLSTATE (as psycopg2 classes
 * them, with lost connections and serialization failures singled out). */
int calx__pg_errcode(const char *sqlstate);
/* Adds a result's rows (decoded by column type, in text or binary format)
 * and its count of changed rows to *slot, making the rowset on the first
 * result. names (NULL: none) is the prepared statement's slot for its
 * column names: the rowset shares them, made from res when the slot is
 * empty, instead of copying each name every run. Texts are read in place:
 * *kept true when the rowset took res (it PQclears it when the rows go),
 * else res stays the caller's. 0, or CALX_ERR_NOMEM, or CALX_ERR_INTERNAL
 * for a malformed binary value, with err set (*slot stays valid, to be
 * freed by the caller). */
int calx__pg_add_rows(calx_rowset **slot, PGresult *res, calx_colnames **names, bool *kept,
                      calx_error *err);
/* The format to ask for the rows of a statement whose results look like
 * res (its column types): PG_FMT_BINARY when every column has a binary
 * decoder, else PG_FMT_TEXT. */
pg_fmt calx__pg_rows_format(const PGresult *res);

/* Copies at most n-1 bytes of s into buf with trailing blanks removed. */
void calx__pg_trim_copy(char *buf, size_t n, const char *s);

#endif
