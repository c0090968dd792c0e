/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: a request as one pipeline.
 *
 * A connection lives in libpq's pipeline mode from the moment it is up.
 * Every request becomes one pipeline: its commands (a BEGIN riding along
 * with the first statement, a Parse for a statement not yet prepared, one
 * Bind/Execute per parameter set, ...) are queued in libpq's output buffer
 * and ended with one Sync, then flushed as the socket takes them while
 * results are read as they come (libpq's flush rules for non-blocking
 * connections, so a huge batch cannot deadlock against the server's
 * replies). A batch of any size is one pipeline, about one network round
 * trip; calx__pg_conn_stats counts them. Each queued command has a
 * descriptor (pg_cmd) saying where its result goes, and the results are
 * put to use in that order until the Sync completes the request.
 *
 * Streaming (stream_rows > 0) uses a server-side cursor: DECLARE ... NO
 * SCROLL CURSOR FOR <the query> and FETCH FORWARD n, in the transaction
 * when there is one, else WITH HOLD. Only SELECT, WITH, VALUES and TABLE
 * queries stream; any other statement's rows are read whole. When a FETCH
 * comes back full, the next ones go out at once, each in a pipeline of its
 * own (send_ahead), and wait in libpq for the next fetch (use_ahead).
 *
 * It is a file of its own because it is the one place that talks to the
 * server during a request: what is queued, in which order, and what each
 * answer does. The parameters' encoding (pg_params.c), the prepared
 * statements (pg_prepare.c), the rows' decoding (pg_result.c) and the
 * error's wording (pg_error.c) are asked for, not done here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/grow.h"
#include "driver/pg_int.h"
#include "driver/rowset.h"
#include "driver/sqlscan.h"

/* ---- the pipeline under construction ---- */

/* Records what the next result awaited is for; NULL on no memory. */
static pg_cmd *expect_cmd(pg_conn *c, pg_cmd_kind kind, size_t stmt, size_t set,
                          pg_cached *entry)
{
    if (!calx__grow(&c->cmds, &c->cmdcap, c->ncmds + 1, sizeof *c->cmds))
        return NULL;
    pg_cmd *cmd = &c->cmds[c->ncmds++];
    cmd->kind = kind;
    cmd->stmt = stmt;
    cmd->set = set;
    cmd->entry = entry;
    return cmd;
}

/* Records what the next queued command is; NULL on no memory. */
static pg_cmd *add_cmd(pg_conn *c, pg_cmd_kind kind, size_t stmt, size_t set,
                       pg_cached *entry)
{
    pg_cmd *cmd = expect_cmd(c, kind, stmt, set, entry);
    if (cmd)
        c->stats.commands++;
    return cmd;
}

/* A libpq send call failed: nothing of the pipeline may run (without its
 * Sync the server commits nothing), so the connection is given up. */
static bool send_failed(pg_conn *c, const char *what)
{
    char msg[300];
    calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        calx__pg_lost(c);
    } else {
        calx__pg_failf(c, CALX_ERR_OPERATIONAL, "cannot send %s to the PostgreSQL server: %s", what,
                       msg[0] ? msg : "libpq refused it");
        c->dead = true;  /* part of a pipeline may be queued: never Sync it */
    }
    return false;
}

/* Flushes what libpq holds: 0, 1 (more to write when the socket takes
 * it), or -1 when writing failed (recorded, the connection given up). A
 * connection that is gone flushes nothing more: 0, its loss the read
 * side's to report. */
static int flush_out(pg_conn *c)
{
    int r = PQflush(c->pg);
    if (r >= 0 || PQstatus(c->pg) == CONNECTION_BAD)
        return r < 0 ? 0 : r;
    char msg[300];
    calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
    calx__pg_failf(c, CALX_ERR_DISCONNECT, "writing to the PostgreSQL server failed: %s", msg);
    c->dead = true;
    return -1;
}

/* Watches the socket for the replies (and for writing while flushing),
 * keeping the loop alive; false when it cannot be watched (recorded). */
static bool watch_replies(pg_conn *c)
{
    calx__pg_watch(c, CALX_IO_READ | (c->flushing ? CALX_IO_WRITE : 0), true);
    if (c->io)
        return true;
    /* A dead socket: the results never come. */
    if (PQstatus(c->pg) == CONNECTION_BAD)
        calx__pg_lost(c);
    else
        calx__pg_failf(c, CALX_ERR_DISCONNECT,
                       "the PostgreSQL connection's socket cannot be watched");
    c->dead = true;
    return false;
}

/* "FETCH FORWARD rows FROM <the cursor>" into buf. */
static void fetch_sql(const pg_conn *c, size_t rows, char *buf, size_t n)
{
    snprintf(buf, n, "FETCH FORWARD %zu FROM %s", rows, c->cursor);
}

/* Queues a parameterless command whose rows, if any, come in format fmt
 * (binary or text). */
static bool send_simple_fmt(pg_conn *c, pg_cmd_kind kind, const char *sql, size_t stmt,
                            pg_fmt fmt)
{
    if (!add_cmd(c, kind, stmt, 0, NULL)) {
        calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, fmt == PG_FMT_BINARY))
        return send_failed(c, calx__pg_cmd_name(kind));
    return true;
}

/* Queues a parameterless command. */
static bool send_simple(pg_conn *c, pg_cmd_kind kind, const char *sql, size_t stmt)
{
    return send_simple_fmt(c, kind, sql, stmt, PG_FMT_TEXT);
}

/* Queues DEALLOCATE of prepared statement calx_<id>. */
bool calx__pg_send_dealloc(pg_conn *c, unsigned id)
{
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE calx_%u", id);
    return send_simple(c, PGC_DEALLOC, sql, 0);
}

/* A query DECLARE CURSOR takes. */
static bool is_query(const char *sql)
{
    const char *p = calx__sql_skip_space(sql, false);
    return *p == '(' || calx__sql_starts_with_word(p, "SELECT") || calx__sql_starts_with_word(p, "WITH") ||
           calx__sql_starts_with_word(p, "VALUES") || calx__sql_starts_with_word(p, "TABLE");
}

/* Queues one statement with one parameter set: from the prepared cache
 * (preparing it first in the same pipeline when new), or unnamed. */
static bool send_stmt(pg_conn *c, const calx_dstmt *st, size_t stmt, size_t set)
{
    int n = (int)st->nparams;
    /* A lone statement was bound and looked up by build_describe already
     * (nothing between there and here binds another). */
    bool looked_up = c->looked_up && stmt == 0 && set == 0;
    if (!looked_up &&
        !calx__pg_bind_set(c, st->nparams ? st->params + set * st->nparams : NULL, st->types,
                           st->nparams))
        return false;
    pg_cached *e = NULL;
    if (c->cache_cap) {
        uint64_t h = looked_up ? c->looked_up_hash : calx__pg_hash_stmt(st, c->ptypes, n);
        e = looked_up ? c->looked_up_entry : calx__pg_cache_find(c, h, st->sql, c->ptypes, n);
        if (e) {
            e->used = c->tick;
        } else {
            if (c->failed)
                return false;  /* an eviction's DEALLOCATE could not be sent */
            e = calx__pg_cache_add(c, h, st->sql, c->ptypes, n);
            if (c->failed)
                return false;
            if (e) {
                const char *name = e->name;
                if (!add_cmd(c, PGC_PREPARE, stmt, set, e)) {
                    calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
                    c->dead = true;
                    return false;
                }
                if (!PQsendPrepare(c->pg, name, st->sql, n, c->ptypes))
                    return send_failed(c, "a statement to prepare");
            }
        }
    }
    if (!add_cmd(c, PGC_STMT, stmt, set, e)) {
        calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    int ok;
    if (e) {
        const char *name = e->name;
        /* Rows in binary once the statement's first result showed every
         * column has a binary decoder (pg_result.c). */
        ok = PQsendQueryPrepared(c->pg, name, n, c->pvals, c->plens, c->pfmts,
                                 e->rows == PG_FMT_BINARY);
    } else {
        ok = PQsendQueryParams(c->pg, st->sql, n, c->ptypes, c->pvals, c->plens, c->pfmts, 0);
    }
    if (!ok)
        return send_failed(c, "a statement");
    return true;
}

/* Queues DECLARE <cursor> ... FOR <query> and its first FETCH. */
static bool send_stream(pg_conn *c, const calx_dstmt *st, size_t stmt, size_t nrows,
                        bool in_tx)
{
    if (!calx__pg_bind_set(c, st->params, st->types, st->nparams))
        return false;
    snprintf(c->cursor, sizeof c->cursor, "calx_cur_%u", ++c->next_cursor_id);
    c->cursor_hold = !in_tx;
    c->cursor_done = false;
    c->cursor_new = true;
    c->cursor_ok = false;
    c->cursor_fmt = PG_FMT_UNKNOWN;  /* the first FETCH, in text, shows the columns */
    c->stream_rows = nrows;
    calx_buf b = { 0 };
    calx__buf_printf(&b, "DECLARE %s NO SCROLL CURSOR %sFOR ", c->cursor,
                     in_tx ? "" : "WITH HOLD ");
    calx__buf_puts(&b, st->sql);
    char *sql = calx__buf_take(&b);
    if (!sql || !add_cmd(c, PGC_DECLARE, stmt, 0, NULL)) {
        free(sql);
        calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    int ok = PQsendQueryParams(c->pg, sql, (int)st->nparams, c->ptypes, c->pvals, c->plens,
                               c->pfmts, 0);
    free(sql);
    if (!ok)
        return send_failed(c, "DECLARE CURSOR");
    char fetch[80];
    fetch_sql(c, nrows, fetch, sizeof fetch);
    return send_simple_fmt(c, PGC_FETCH, fetch, stmt, c->cursor_fmt);
}

/* A full chunk came back, so the cursor may have more: one more FETCH
 * goes out now, in a pipeline of its own after the running one, before
 * the chunk is decoded (the caller sends them until CALX_PG_FETCHES_AHEAD
 * are out); the server makes the next chunks meanwhile. The replies wait
 * in libpq for the next CALX_DOP_FETCHes (use_ahead). It asks for as many
 * rows as the FETCH that came back, not the larger chunks the engine's
 * next FETCHes may ask for (calx_dreq's stream_next_rows): the ORM's loads,
 * which start at 1,000 rows, measured fastest at 1,000 a FETCH throughout
 * (100,000 heroes: 1.18-1.57 M a second, against 0.95-1.04 M at 5,000).
 * False when it could not be sent (recorded; the connection is given up). */
static bool send_ahead(pg_conn *c)
{
    char sql[80];
    fetch_sql(c, c->stream_rows, sql, sizeof sql);
    if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL,
                           c->cursor_fmt == PG_FMT_BINARY) ||
        !PQpipelineSync(c->pg))
        return send_failed(c, "the next FETCH");
    c->nahead++;
    c->ahead_rows = c->stream_rows;
    c->stats.commands++;
    c->stats.round_trips++;
    int r = flush_out(c);
    if (r < 0)
        return false;
    c->flushing = c->flushing || r == 1;
    return true;
}

/* The streamed statement's cursor, if one is open, is closed in this
 * pipeline when the transaction it lives in is still usable, else just
 * forgotten (it ends with its transaction). */
static bool close_cursor(pg_conn *c)
{
    if (!c->cursor[0])
        return true;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    char sql[64];
    snprintf(sql, sizeof sql, "CLOSE %s", c->cursor);
    bool usable = c->cursor_hold ? ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS
                                 : ts == PQTRANS_INTRANS;
    c->cursor[0] = '\0';
    return !usable || send_simple(c, PGC_CLOSE, sql, 0);
}

static const char *begin_sql(pg_iso iso)
{
    switch (iso) {
    case PG_ISO_SERIALIZABLE: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case PG_ISO_REPEATABLE_READ: return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case PG_ISO_READ_COMMITTED: return "BEGIN ISOLATION LEVEL READ COMMITTED";
    case PG_ISO_READ_UNCOMMITTED: return "BEGIN ISOLATION LEVEL READ UNCOMMITTED";
    default: return "BEGIN";
    }
}

/* Gives the request n empty rowset slots. The array stays with the
 * connection between requests (calx__pg_free_rsets empties it): calloc
 * bypasses glibc's per-thread cache, and a transaction sends several
 * requests. */
static bool start_rsets(pg_conn *c, size_t n)
{
    size_t slots = n ? n : 1;   /* an array there, even for no statement */
    if (!calx__grow(&c->rsets, &c->rsetcap, slots, sizeof *c->rsets)) {
        calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory starting a request");
        return false;
    }
    memset(c->rsets, 0, slots * sizeof *c->rsets);
    c->nrsets = n;
    return true;
}

/* Queues the commands of an EXEC. */
static bool build_exec(pg_conn *c, const calx_dreq *req)
{
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    bool autocommit = c->iso == PG_ISO_AUTOCOMMIT;
    if (req->begin && !autocommit)
        c->tx_open = true;
    /* The engine's transaction is open but the server's is not (a COMMIT
     * that failed, or COMMIT in the SQL): begin again, as SQLite does. */
    bool begin = !autocommit && c->tx_open && ts == PQTRANS_IDLE;
    if (!c->looked_up && !calx__pg_check_params(c, req))
        return false;   /* (build_describe checked a lone statement's) */
    if (!start_rsets(c, req->nstmts))
        return false;
    for (size_t i = 0; i < c->ndealloc; i++)
        if (!calx__pg_send_dealloc(c, c->dealloc[i]))
            return false;
    c->ndealloc = 0;
    if (!close_cursor(c))
        return false;
    if (begin && !send_simple(c, PGC_BEGIN, begin_sql(c->iso), 0))
        return false;
    for (size_t i = 0; i < req->nstmts; i++) {
        const calx_dstmt *st = &req->stmts[i];
        bool last = i + 1 == req->nstmts;
        if (last && req->stream_rows && st->nsets == 1 && is_query(st->sql))
            return send_stream(c, st, i, req->stream_rows,
                               begin || ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR);
        for (size_t set = 0; set < st->nsets; set++)
            if (!send_stmt(c, st, i, set))
                return false;
    }
    /* A flush's COMMIT rides in its pipeline; after a failed statement the
     * server skips it (the pipeline is aborted up to the Sync). */
    if (req->commit && !autocommit && (begin || ts != PQTRANS_IDLE) &&
        !send_simple(c, PGC_COMMIT, "COMMIT", 0))
        return false;
    return true;
}

/* A query's first execution on a connection: prepared and described in a
 * pipeline of its own, so that its rows come in binary from the start when
 * every column has a binary decoder (pg_result.c); else they would come in
 * text, which depends on the session's DateStyle and IntervalStyle, and
 * only later executions in binary. It costs one round trip on a
 * statement's first use (as asyncpg's prepare does), so it is done for a
 * request of one query with one parameter set, a load's shape, and not for
 * a batch or several statements, whose one pipeline is one round trip, nor
 * for a request that commits (a flush's checked UPDATE is a query, a WITH,
 * whose one row nobody reads). */
/* libpq (15) refuses a ParameterDescription longer than 30,000 bytes as
 * lost synchronization, 4 bytes a parameter: a query with more parameters
 * is not described (its first rows come in text). */
#define PG_DESCRIBE_MAX_PARAMS 7000

static bool describe_first(pg_conn *c, const calx_dreq *req)
{
    return !c->described && c->cache_cap && req->nstmts == 1 && req->stmts[0].nsets == 1 &&
           req->stmts[0].nparams <= PG_DESCRIBE_MAX_PARAMS && !req->stream_rows &&
           !req->commit;
}

/* Queues the Parse and Describe of the request's query when it is new to
 * the cache; nothing when it is known (its rows' format with it) or not a
 * query, and then what it checked, bound and looked up is send_stmt's
 * (looked_up). */
static bool build_describe(pg_conn *c, const calx_dreq *req)
{
    const calx_dstmt *st = &req->stmts[0];
    int n = (int)st->nparams;
    if (!calx__pg_check_params(c, req) ||
        !calx__pg_bind_set(c, st->params, st->types, st->nparams))
        return false;
    uint64_t h = calx__pg_hash_stmt(st, c->ptypes, n);
    pg_cached *known = calx__pg_cache_find(c, h, st->sql, c->ptypes, n);
    /* Known (its rows' format with it), or not a query: nothing to
     * describe, and send_stmt takes what was looked up here. */
    if (known || !is_query(st->sql)) {
        c->looked_up = true;
        c->looked_up_entry = known;
        c->looked_up_hash = h;
        return true;
    }
    pg_cached *e = calx__pg_cache_add(c, h, st->sql, c->ptypes, n);
    if (c->failed || !e)
        return !c->failed;  /* a full cache in use: the query runs unprepared */
    const char *name = e->name;
    if (!add_cmd(c, PGC_PREPARE, 0, 0, e) || !add_cmd(c, PGC_DESCRIBE, 0, 0, e)) {
        calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    if (!PQsendPrepare(c->pg, name, st->sql, n, c->ptypes) ||
        !PQsendDescribePrepared(c->pg, name))
        return send_failed(c, "a statement to prepare");
    c->describing = true;
    return true;
}

/* Queues the request's commands; false when it failed before anything
 * needs sending (the failure is recorded). */
static bool build(pg_conn *c)
{
    const calx_dreq *req = c->req;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    switch (req->op) {
    case CALX_DOP_EXEC:
        if (describe_first(c, req)) {
            if (!build_describe(c, req))
                return false;
            if (c->ncmds > 0 && c->describing)
                return true;
            c->described = true;   /* nothing to describe: the query itself now */
        }
        return build_exec(c, req);
    case CALX_DOP_BEGIN:
        if (c->iso != PG_ISO_AUTOCOMMIT)
            c->tx_open = true;
        return true;
    case CALX_DOP_COMMIT:
    case CALX_DOP_ROLLBACK: {
        bool commit = req->op == CALX_DOP_COMMIT;
        if (!commit)
            c->tx_open = false;
        if (c->cursor[0] && c->cursor_hold && !close_cursor(c))
            return false;
        if (ts == PQTRANS_IDLE) {
            /* Nothing to end: BEGIN never went out, or the server ended it. */
            if (commit)
                c->tx_open = false;
            return true;
        }
        return send_simple(c, commit ? PGC_COMMIT : PGC_ROLLBACK, commit ? "COMMIT" : "ROLLBACK",
                           0);
    }
    case CALX_DOP_PING:
        return send_simple(c, PGC_PING, "", 0);
    case CALX_DOP_FETCH:
        if (!c->cursor[0]) {
            calx__pg_failf(c, CALX_ERR_STATE, "no streamed result is open to fetch from");
            return false;
        }
        if (!start_rsets(c, 1))
            return false;
        if (c->cursor_done)
            return true;  /* read to the end already: an empty last chunk */
        {
            char sql[80];
            c->stream_rows = req->stream_rows ? req->stream_rows : c->stream_rows;
            fetch_sql(c, c->stream_rows, sql, sizeof sql);
            return send_simple_fmt(c, PGC_FETCH, sql, 0, c->cursor_fmt);
        }
    case CALX_DOP_CLOSE_CURSOR:
        return close_cursor(c);
    }
    calx__pg_failf(c, CALX_ERR_ARGUMENT, "unknown driver operation %d", (int)req->op);
    return false;
}

/* ---- sending ---- */

static bool send_pipeline(pg_conn *c);
static void use_ahead(pg_conn *c);

/* Sends the request's pipeline, or completes it deferred when it needs
 * nothing sent or failed before sending. */
void calx__pg_start_request(pg_conn *c)
{
    c->tick++;
    c->describing = false;
    c->described = false;
    c->looked_up = false;
    c->ncmds = 0;
    c->cur = 0;
    c->cur_seen = false;
    c->nulls_in_a_row = 0;
    c->failed = false;
    c->sent = false;
    c->draining = 0;
    if (!c->nahead)
        c->flushing = false;
    if (c->cancel_requested) {
        calx__pg_failf(c, CALX_ERR_CANCELED,
                       "the PostgreSQL request was cancelled before it started");
        calx__pg_defer(c, false);
        return;
    }
    if (c->nahead) {
        use_ahead(c);
        return;
    }
    bool ok = build(c) && !c->failed;
    if (!ok && c->ncmds > 0)
        c->dead = true;  /* queued commands without their Sync: never send more */
    if (!ok || c->ncmds == 0) {
        calx__pg_defer(c, false);
        return;
    }
    if (!send_pipeline(c))
        calx__pg_defer(c, false);
}

/* FETCHes sent ahead are out (send_ahead): a fetch takes the first reply
 * as its own; any other request first reads them all and drops them, then
 * sends its own pipeline (next_pipeline, as after a describe). A reply may
 * be in libpq already, where no socket event would announce it: it is
 * read on the loop's next turn. */
static void use_ahead(pg_conn *c)
{
    bool fetch = c->req->op == CALX_DOP_FETCH && c->cursor[0];
    if (fetch) {
        if (!start_rsets(c, 1)) {
            calx__pg_defer(c, false);
            return;
        }
        c->stream_rows = c->ahead_rows;
    }
    for (unsigned i = 0; i < (fetch ? 1 : c->nahead); i++)
        if (!expect_cmd(c, fetch ? PGC_FETCH : PGC_AHEAD, 0, 0, NULL)) {
            calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory starting a request");
            calx__pg_defer(c, false);
            return;
        }
    c->draining = fetch ? 0 : c->nahead;
    c->nahead = fetch ? c->nahead - 1 : 0;
    c->sent = watch_replies(c);
    calx__pg_defer(c, false);
    c->deferred_read = c->sent;
}

/* Ends the pipeline queued with its Sync and starts sending it; false when
 * that failed (recorded): the request is to complete. */
static bool send_pipeline(pg_conn *c)
{
    if (!PQpipelineSync(c->pg)) {
        send_failed(c, "the end of the pipeline (Sync)");
        return false;
    }
    c->stats.round_trips++;
    int r = flush_out(c);
    c->flushing = r == 1;
    c->sent = r >= 0 && watch_replies(c);
    return c->sent;
}

/* ---- results ---- */

/* Adds a result's rows and counts to statement stmt's rowset, which may
 * keep res (c->res_kept: read_results then leaves it); entry (NULL: none)
 * is the prepared statement it came from, whose column names the rowset
 * shares. */
static bool add_result(pg_conn *c, size_t stmt, pg_cached *entry, PGresult *res)
{
    calx_error err;
    int rc = calx__pg_add_rows(&c->rsets[stmt], res, entry ? &entry->names : NULL, &c->res_kept,
                               &err);
    if (rc == 0)
        return true;
    calx__pg_fail(c, &err);
    return false;
}

/* Puts one result to use. Returns true when the request must end now,
 * without waiting for its Sync. */
static bool handle_result(pg_conn *c, pg_cmd *cmd, PGresult *res)
{
    if (cmd->kind == PGC_AHEAD)
        return false;  /* rows, or an error, of a stream that was left */
    ExecStatusType st = PQresultStatus(res);
    switch (st) {
    case PGRES_PIPELINE_ABORTED:
        return false;  /* skipped after an earlier error */
    case PGRES_FATAL_ERROR:
    case PGRES_NONFATAL_ERROR:
    case PGRES_BAD_RESPONSE: {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (cmd->entry && state &&
            (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0)) {
            /* The statement is gone from the server (DISCARD ALL in a
             * function, a PgBouncer in transaction mode), or its plan no
             * longer fits the table: prepare it afresh next time. */
            if (cmd->entry->ready && strcmp(state, "0A000") == 0)
                calx__pg_queue_dealloc(c, cmd->entry->id);
            cmd->entry->ready = false;
            /* Its columns may be others once prepared again. */
            calx__colnames_release(cmd->entry->names);
            cmd->entry->names = NULL;
        }
        calx__pg_result_error(c, cmd, res);
        return false;
    }
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        /* Only a statement starting with COPY gets here, and those are
         * refused before sending: should one slip through, the protocol
         * is now in COPY mode and the session is given up. */
        calx__pg_failf(c, CALX_ERR_NOT_SUPPORTED,
                       "COPY is not supported by the calx PostgreSQL driver");
        c->dead = true;
        return true;
    default:
        break;
    }
    if (c->failed)
        return false;
    const char *tag = PQcmdStatus((PGresult *)res);
    if (tag && (strcmp(tag, "DISCARD ALL") == 0 || strcmp(tag, "DEALLOCATE ALL") == 0))
        c->cache_reset = true;
    switch (cmd->kind) {
    case PGC_PREPARE:
        cmd->entry->ready = true;
        c->stats.prepares++;
        break;
    case PGC_DESCRIBE:
        cmd->entry->rows = calx__pg_rows_format(res);
        break;
    case PGC_STMT:
        if (cmd->entry && cmd->entry->rows == PG_FMT_UNKNOWN)
            cmd->entry->rows = calx__pg_rows_format(res);
        add_result(c, cmd->stmt, cmd->entry, res);
        break;
    case PGC_DECLARE:
        c->cursor_ok = true;
        break;
    case PGC_FETCH:
        if (c->cursor_fmt == PG_FMT_UNKNOWN)
            c->cursor_fmt = calx__pg_rows_format(res);
        if (c->stream_rows > 0 && (size_t)PQntuples(res) == c->stream_rows) {
            bool sent = true;
            while (sent && c->nahead < CALX_PG_FETCHES_AHEAD && !c->cancel_requested &&
                   !c->cancelling)
                sent = send_ahead(c);
            if (!sent)
                break;
        }
        if (add_result(c, cmd->stmt, NULL, res)) {
            calx_rowset *rs = c->rsets[cmd->stmt];
            rs->rowcount = -1;
            rs->more = rs->nrows == c->stream_rows && c->stream_rows > 0;
            if (!rs->more)
                c->cursor_done = true;
        }
        break;
    case PGC_COMMIT:
        if (tag && strcmp(tag, "ROLLBACK") == 0) {
            calx_error err;
            calx_error_set(&err, CALX_ERR_INTERNAL,
                           "COMMIT failed: the transaction was rolled back, because a "
                           "statement in it had failed (PostgreSQL answers COMMIT with "
                           "ROLLBACK then)");
            snprintf(err.sqlstate, sizeof err.sqlstate, "25P02");
            calx__pg_fail(c, &err);
        }
        break;
    default:
        break;
    }
    return false;
}

/* The request's rowsets, one per statement, chained. */
static calx_rowset *take_rowsets(pg_conn *c)
{
    calx_rowset *head = NULL, **tail = &head;
    for (size_t i = 0; i < c->nrsets; i++) {
        calx_rowset *rs = c->rsets[i];
        if (!rs) {
            rs = calx__rowset_new(0);
            if (!rs) {
                calx__rowset_free(head);
                calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory making a rowset");
                return NULL;
            }
        }
        c->rsets[i] = NULL;
        *tail = rs;
        tail = &rs->next;
    }
    return head;
}

/* Frees the running request's rowsets; their slots stay for the next
 * request (freed with the connection). */
void calx__pg_free_rsets(pg_conn *c)
{
    for (size_t i = 0; i < c->nrsets; i++)
        calx__rowset_free(c->rsets[i]);
    c->nrsets = 0;
}

/* Ends the request and calls back; nothing may touch c afterwards (the
 * callback may close it). */
void calx__pg_complete(pg_conn *c)
{
    const calx_dreq *req = c->req;
    calx_rowset *rs = NULL;
    if (!c->failed && (req->op == CALX_DOP_EXEC || req->op == CALX_DOP_FETCH)) {
        rs = take_rowsets(c);
        if (req->op == CALX_DOP_FETCH && rs && !c->sent) {
            rs->more = false;  /* the cursor was read to its end already */
        }
    }
    calx__pg_free_rsets(c);
    if (c->pg && !c->dead) {
        calx__pg_cache_settle(c);
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        /* A cursor declared by a request that failed is gone with the
         * (implicit or explicit) transaction it was declared in, and a
         * cursor of a transaction ends with it. */
        if (c->cursor[0] && c->cursor_new && (!c->cursor_ok || c->failed))
            c->cursor[0] = '\0';
        if (c->cursor[0] && !c->cursor_hold && !c->nahead && ts != PQTRANS_INTRANS)
            c->cursor[0] = '\0';  /* (with a FETCH out ahead, ts reads "active") */
        if (!c->failed && (req->op == CALX_DOP_COMMIT || (req->op == CALX_DOP_EXEC && req->commit)))
            c->tx_open = false;
    }
    c->cursor_new = false;
    bool failed = c->failed;
    calx_error err = c->err;
    /* What libpq holds of a FETCH sent ahead is written between requests. */
    c->flushing = c->flushing && c->nahead && !c->dead;
    if (c->dead) {
        calx__pg_unwatch(c);
    } else if (c->pg) {
        calx__pg_watch(c, CALX_IO_READ | (c->flushing ? CALX_IO_WRITE : 0), false);
    }
    calx_dreq_cb cb = c->cb;
    void *udata = c->udata;
    c->heard_ns = calx__mono_ns();
    c->busy = false;
    c->sent = false;
    c->draining = 0;
    c->req = NULL;
    c->ncmds = 0;
    c->cur = 0;
    c->describing = false;
    c->described = false;
    c->failed = false;
    c->cancel_requested = false;
    c->cancelling = false;
    c->timed_out = false;
    if (c->req_timer)
        calx__timer_stop(c->req_timer);
    if (failed)
        calx__rowset_free(rs);
    cb(udata, failed ? NULL : rs, failed ? &err : NULL);
}

/* The pipeline before the request's own is done (a describe, or a FETCH
 * sent ahead that the request drops): queues and sends the next. False
 * when the request is to complete now (failed, or nothing to send). */
static bool next_pipeline(pg_conn *c)
{
    if (c->describing) {
        c->describing = false;
        c->described = true;
    }
    if (c->failed || c->dead)
        return false;
    if (c->cancel_requested || c->cancelling) {
        /* Cancelled, or out of command_timeout, between the two: the
         * query is not sent. */
        if (c->timed_out)
            calx__pg_failf(c, CALX_ERR_TIMEOUT,
                           "the statement ran longer than command_timeout (%g s) and was "
                           "cancelled", c->command_timeout_s);
        else
            calx__pg_failf(c, CALX_ERR_CANCELED, "the PostgreSQL request was cancelled");
        return false;
    }
    c->ncmds = 0;
    c->cur = 0;
    c->cur_seen = false;
    c->nulls_in_a_row = 0;
    bool ok = build(c) && !c->failed;
    if (!ok && c->ncmds > 0)
        c->dead = true;
    if (!ok || c->ncmds == 0)
        return false;
    return send_pipeline(c);
}

/* Reads what results libpq has; completes the request at its Sync. Returns
 * true when the request completed (c may be gone). */
static bool read_results(pg_conn *c)
{
    for (;;) {
        bool bad = PQstatus(c->pg) == CONNECTION_BAD;
        if (!bad && PQisBusy(c->pg))
            return false;
        /* With the connection gone PQgetResult returns at once: take the
         * server's last error if it sent one (57P01 ...), then give up. */
        PGresult *res = PQgetResult(c->pg);
        if (bad) {
            if (res && PQresultStatus(res) == PGRES_FATAL_ERROR && c->cur < c->ncmds)
                calx__pg_result_error(c, &c->cmds[c->cur], res);
            PQclear(res);
            calx__pg_lost(c);
            calx__pg_complete(c);
            return true;
        }
        if (!res) {
            if (c->cur_seen && c->cur < c->ncmds) {
                c->cur++;
                c->cur_seen = false;
                c->nulls_in_a_row = 0;
                continue;
            }
            if (++c->nulls_in_a_row > 2) {
                calx__pg_failf(c, CALX_ERR_INTERNAL,
                               "libpq ended the results before the pipeline's end (command %zu of "
                               "%zu)", c->cur + 1, c->ncmds);
                c->dead = true;
                calx__pg_complete(c);
                return true;
            }
            continue;
        }
        c->nulls_in_a_row = 0;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            if (c->draining && --c->draining > 0)
                continue;  /* the next FETCH sent ahead is dropped too */
            if ((c->describing || (c->ncmds && c->cmds[0].kind == PGC_AHEAD)) &&
                next_pipeline(c))
                continue;
            calx__pg_complete(c);
            return true;
        }
        bool stop = false;
        if (c->cur < c->ncmds) {
            c->cur_seen = true;
            stop = handle_result(c, &c->cmds[c->cur], res);
        }
        if (!c->res_kept)
            PQclear(res);
        c->res_kept = false;
        if (stop) {
            calx__pg_complete(c);
            return true;
        }
    }
}

/* Socket events while a pipeline is out: read, flush, collect. */
void calx__pg_pump(pg_conn *c, int events)
{
    if ((events < 0 || (events & CALX_IO_READ)) && !PQconsumeInput(c->pg)) {
        /* Read failure: PQstatus now says whether the connection is gone. */
        if (PQstatus(c->pg) != CONNECTION_BAD) {
            char msg[300];
            calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
            calx__pg_failf(c, CALX_ERR_DISCONNECT, "reading from the PostgreSQL server failed: %s",
                           msg);
            c->dead = true;
            calx__pg_complete(c);
            return;
        }
    }
    if (c->flushing && PQstatus(c->pg) != CONNECTION_BAD) {
        int r = flush_out(c);
        if (r < 0) {
            calx__pg_complete(c);
            return;
        }
        c->flushing = r == 1;
    }
    if (read_results(c))
        return;
    if (!watch_replies(c))
        calx__pg_complete(c);
}

void calx__pg_read_ahead(pg_conn *c)
{
    int r = 0;
    if (!PQconsumeInput(c->pg) || (c->flushing && (r = PQflush(c->pg)) < 0) ||
        PQstatus(c->pg) == CONNECTION_BAD) {
        c->dead = true;  /* the next request says so */
        calx__pg_unwatch(c);
        return;
    }
    c->flushing = r == 1;
    calx__pg_watch(c, CALX_IO_READ | (c->flushing ? CALX_IO_WRITE : 0), false);
}
