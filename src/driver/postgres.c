/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: libpq's non-blocking API on the loop thread.
 *
 * A connection lives in libpq's pipeline mode from the moment it is up.
 * Every request becomes one pipeline: its commands (a BEGIN riding along
 * with the first statement, a Parse for a statement not yet prepared, one
 * Bind/Execute per parameter set, ...) are queued in libpq's output buffer
 * and ended with one Sync, then flushed as the socket takes them while
 * results are read as they come (libpq's flush rules for non-blocking
 * connections, so a huge batch cannot deadlock against the server's
 * replies). A batch of any size is one pipeline, about one network round
 * trip; calx__pg_conn_stats counts them.
 *
 * Errors: the first failing command's error is the request's, classified by
 * its SQLSTATE; the server skips the rest of the pipeline up to the Sync. A
 * lost connection (PQstatus CONNECTION_BAD, or SQLSTATE 57P01-57P03 / class
 * 08) fails the request in flight with CALX_ERR_DISCONNECT, and alive() says
 * false from then on. Between requests the socket stays watched (without
 * keeping the loop alive), so a server that hangs up on an idle pooled
 * connection is noticed before the connection is handed out again.
 *
 * Parameters go in text format with the type calx knows (int8, float8,
 * bool; bytea in binary format; text and NULL as "unknown", typed by the
 * server from context). Results come in text format and are decoded by
 * column type: int2/int4/int8/oid -> INTEGER, float4/float8 -> REAL,
 * bool -> BOOLEAN, bytea -> BLOB, NULL -> NULL, and everything else TEXT
 * in PostgreSQL's own spelling -- numeric included, so that no digit of a
 * decimal is lost. (Binary result format would save the parsing; text keeps
 * every type readable.)
 *
 * Prepared statements are cached per connection (LRU, named calx_<n>, keyed
 * by the SQL text and the parameter types); statement_cache_size=0 turns
 * them off for PgBouncer in transaction mode, where a named statement made
 * on one server connection is missing on the next.
 *
 * Nothing waits forever on a server that stopped answering: with
 * command_timeout set, a request that runs longer is cancelled on the
 * server (PQcancel, as an interrupt is) and fails with CALX_ERR_TIMEOUT;
 * a server that answers neither the request nor the cancel within the same
 * time again (CALX_PG_CANCEL_GRACE_S after an interrupt when no
 * command_timeout is set) costs the connection: the request fails at once,
 * alive() says false, and the pool replaces it.
 *
 * Streaming (stream_rows > 0) uses a server-side cursor: DECLARE ... NO
 * SCROLL CURSOR FOR <the query> and FETCH FORWARD n, in the transaction
 * when there is one, else WITH HOLD. Only SELECT, WITH, VALUES and TABLE
 * queries stream; any other statement's rows are read whole. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/hash.h"
#include "core/buf.h"
#include "core/nomem.h"
#include "driver/pg_int.h"
#include "driver/sqlscan.h"
#include "driver/rowset.h"

#define PG_MAX_PARAMS 65535   /* the protocol's limit per statement */

static void start_request(pg_conn *c);
static void complete(pg_conn *c);
static void on_req_timer(void *arg);

/* A timer's milliseconds for s seconds. */
static uint64_t seconds_ms(double s)
{
    return (uint64_t)(s * 1000.0 + 0.5);
}

/* ---- the socket watch ---- */

void calx__pg_watch(pg_conn *c, int events, bool ref)
{
    int fd = c->pg ? PQsocket(c->pg) : -1;
    /* A watch on a socket libpq has closed must go now, before the fd
     * number can come back as another socket. */
    if (c->io && fd != c->io_fd) {
        calx__io_free(c->io);
        c->io = NULL;
    }
    if (fd < 0)
        return;
    if (!c->io) {
        if (!events)
            return;
        c->io = calx__io_new(c->base.loop, fd, calx__pg_on_io, c);
        if (!c->io)
            return;
        c->io_fd = fd;
        c->io_events = 0;
        c->io_ref = true;
    }
    if (events != c->io_events) {
        if (calx__io_set(c->io, events) != 0) {
            calx__io_free(c->io);
            c->io = NULL;
            return;
        }
        c->io_events = events;
    }
    if (ref != c->io_ref) {
        calx__io_ref(c->io, ref);
        c->io_ref = ref;
    }
}

/* Drops the socket watch (before the socket goes, or for good). */
static void unwatch(pg_conn *c)
{
    calx__io_free(c->io);
    c->io = NULL;
}

/* ---- deferred completions ---- */

/* A completion queued by calx__pg_defer, on the loop's next turn. */
static void on_deferred(calx_work *w)
{
    pg_conn *c = (pg_conn *)((char *)w - offsetof(pg_conn, deferred));
    c->deferred_queued = false;
    if (c->closing) {
        if (c->cancel_jobs == 0)
            calx__pg_free(c);
        return;
    }
    if (c->deferred_is_connect)
        calx__pg_connect_deferred(c);
    else
        complete(c);
}

void calx__pg_defer(pg_conn *c, bool is_connect)
{
    c->deferred_is_connect = is_connect;
    c->deferred_queued = true;
    c->deferred.fn = on_deferred;
    calx__loop_defer(c->base.loop, &c->deferred);
}

/* ---- freeing ---- */

/* Frees a prepared-statement cache entry. */
static void cached_free(pg_cached *e)
{
    if (!e)
        return;
    free(e->sql);
    free(e->types);
    free(e);
}

/* Frees the running request's rowsets. */
static void free_rsets(pg_conn *c)
{
    for (size_t i = 0; i < c->nrsets; i++)
        calx__rowset_free(c->rsets[i]);
    free(c->rsets);
    c->rsets = NULL;
    c->nrsets = 0;
}

void calx__pg_free(pg_conn *c)
{
    if (!c)
        return;
    unwatch(c);
    calx__timer_free(c->timer);
    calx__timer_free(c->req_timer);
    if (c->pg)
        PQfinish(c->pg);  /* sends Terminate without blocking: the socket is non-blocking */
    for (size_t i = 0; i < c->nkv; i++) {
        free(c->keys[i]);
        free(c->vals[i]);
    }
    free(c->keys);
    free(c->vals);
    for (size_t i = 0; i < c->nhosts; i++) {
        free(c->hosts[i].name);
        free(c->hosts[i].port);
        for (size_t k = 0; k < c->hosts[i].naddrs; k++)
            free(c->hosts[i].addrs[k]);
        free(c->hosts[i].addrs);
        free(c->hosts[i].error);
    }
    free(c->hosts);
    for (size_t i = 0; i < c->ncached; i++)
        cached_free(c->cache[i]);
    free(c->cache);
    free(c->dealloc);
    free(c->cmds);
    free_rsets(c);
    free(c->scratch);
    free(c->pvals);
    free(c->plens);
    free(c->pfmts);
    free(c->ptypes);
    free(c);
}

/* ---- errors ---- */

/* Records err as the request's failure unless one came first. */
static void fail(pg_conn *c, const calx_error *err)
{
    if (c->failed)
        return;
    c->failed = true;
    c->err = *err;
}

static void failf(pg_conn *c, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void failf(pg_conn *c, int code, const char *fmt, ...)
{
    if (c->failed)
        return;
    calx_error err;
    calx_error_clear(&err);
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    fail(c, &err);
}

static const char *cmd_name(pg_cmd_kind k)
{
    switch (k) {
    case PGC_BEGIN: return "BEGIN";
    case PGC_PREPARE: return "preparing the statement";
    case PGC_DEALLOC: return "DEALLOCATE";
    case PGC_DECLARE: return "DECLARE CURSOR";
    case PGC_FETCH: return "FETCH";
    case PGC_CLOSE: return "CLOSE";
    case PGC_COMMIT: return "COMMIT";
    case PGC_ROLLBACK: return "ROLLBACK";
    case PGC_PING: return "ping";
    default: return "statement";
    }
}

/* The error a failed result carries: the server's message with its
 * DETAIL and HINT lines (as psql prints them), its SQLSTATE, its class. */
static void result_error(pg_conn *c, const pg_cmd *cmd, const PGresult *res)
{
    if (c->failed)
        return;
    calx_error err;
    calx_error_clear(&err);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    char fallback[300];
    if (!primary) {
        calx__pg_trim_copy(fallback, sizeof fallback,
                           *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
                                                     : PQerrorMessage(c->pg));
        primary = fallback;
    }
    err.code = calx__pg_errcode(state);
    bool cancelled = state && strcmp(state, "57014") == 0;
    char timeout_msg[160];
    if (cancelled && c->timed_out) {
        /* Our own cancel, sent because command_timeout ran out: say so
         * rather than "canceling statement due to user request". */
        err.code = CALX_ERR_TIMEOUT;
        snprintf(timeout_msg, sizeof timeout_msg,
                 "the statement ran longer than command_timeout (%g s) and was cancelled",
                 c->command_timeout_s);
        primary = timeout_msg;
        detail = hint = NULL;
    } else if (cancelled && c->cancel_requested) {
        err.code = CALX_ERR_CANCELED;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD)
        err.code = CALX_ERR_DISCONNECT;
    snprintf(err.sqlstate, sizeof err.sqlstate, "%s", state ? state : "");
    calx_buf b = { 0 };
    calx__buf_puts(&b, primary);
    if (detail)
        calx__buf_printf(&b, "\nDETAIL:  %s", detail);
    if (hint)
        calx__buf_printf(&b, "\nHINT:  %s", hint);
    char *msg = calx__buf_take(&b);
    calx__pg_trim_copy(err.message, sizeof err.message, msg ? msg : primary);
    free(msg);

    const calx_dreq *req = c->req;
    if (cmd && (cmd->kind == PGC_STMT || cmd->kind == PGC_PREPARE) && req &&
        req->op == CALX_DOP_EXEC) {
        calx__error_note_where(&err, req, cmd->stmt, cmd->set);
    } else if (cmd && cmd->kind != PGC_STMT && cmd->kind != PGC_FETCH &&
               cmd->kind != PGC_PING) {
        calx__error_note(&err, "in %s", cmd_name(cmd->kind));
    }
    fail(c, &err);
}

/* The connection is gone: the request fails with CALX_ERR_DISCONNECT,
 * naming what the server said last if it said anything. */
static void lost(pg_conn *c)
{
    c->dead = true;
    if (c->failed && c->err.code == CALX_ERR_DISCONNECT)
        return;
    calx_error err;
    calx_error_clear(&err);
    err.code = CALX_ERR_DISCONNECT;
    char msg[300];
    calx__pg_trim_copy(msg, sizeof msg, c->pg ? PQerrorMessage(c->pg) : "");
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    /* The server's last word (57P01 "terminating connection due to
     * administrator command", sent while the connection sat idle) beats
     * libpq's "server closed the connection unexpectedly". (Sent during a
     * query, it is that query's error, already classified as a disconnect.) */
    if (c->notice[0]) {
        snprintf(err.sqlstate, sizeof err.sqlstate, "%s", c->notice_state);
        snprintf(err.message, sizeof err.message,
                 "the connection to the PostgreSQL server was lost: %s", c->notice);
    } else {
        snprintf(err.message, sizeof err.message,
                 "the connection to the PostgreSQL server was lost: %s",
                 msg[0] ? msg : "the server closed the connection");
    }
    c->failed = false;
    fail(c, &err);
}

/* A query DECLARE CURSOR takes. */
static bool is_query(const char *sql)
{
    const char *p = calx__sql_skip_space(sql, false);
    return *p == '(' || calx__sql_starts_with_word(p, "SELECT") || calx__sql_starts_with_word(p, "WITH") ||
           calx__sql_starts_with_word(p, "VALUES") || calx__sql_starts_with_word(p, "TABLE");
}

/* The cache key's hash: SQL text and parameter types. */
static uint64_t hash_stmt(const char *sql, const Oid *types, int n)
{
    uint64_t h = calx__hash_str(CALX_HASH_INIT, sql);
    for (int i = 0; i < n; i++)
        h = calx__hash_word(h, types[i]);
    return h;
}

/* ---- the pipeline under construction ---- */

/* Records what the next queued command is; NULL on no memory. */
static pg_cmd *add_cmd(pg_conn *c, pg_cmd_kind kind, size_t stmt, size_t set,
                       pg_cached *entry)
{
    if (c->ncmds == c->cmdcap) {
        size_t cap = c->cmdcap ? c->cmdcap * 2 : 16;
        pg_cmd *cmds = realloc(c->cmds, cap * sizeof *cmds);
        if (!cmds)
            return NULL;
        c->cmds = cmds;
        c->cmdcap = cap;
    }
    pg_cmd *cmd = &c->cmds[c->ncmds++];
    cmd->kind = kind;
    cmd->stmt = stmt;
    cmd->set = set;
    cmd->entry = entry;
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
        lost(c);
    } else {
        failf(c, CALX_ERR_OPERATIONAL, "cannot send %s to the PostgreSQL server: %s", what,
              msg[0] ? msg : "libpq refused it");
        c->dead = true;  /* part of a pipeline may be queued: never Sync it */
    }
    return false;
}

/* Queues a parameterless command. */
static bool send_simple(pg_conn *c, pg_cmd_kind kind, const char *sql, size_t stmt)
{
    if (!add_cmd(c, kind, stmt, 0, NULL)) {
        failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
        return send_failed(c, cmd_name(kind));
    return true;
}

/* Queues DEALLOCATE of prepared statement calx_<id>. */
static bool send_dealloc(pg_conn *c, unsigned id)
{
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE calx_%u", id);
    return send_simple(c, PGC_DEALLOC, sql, 0);
}

/* ---- prepared statements ---- */

/* Forgets cache entry i (the server's statement is not touched). */
static void cache_remove_at(pg_conn *c, size_t i)
{
    if (c->last_hit == c->cache[i])
        c->last_hit = NULL;
    cached_free(c->cache[i]);
    c->cache[i] = c->cache[--c->ncached];
}

/* Forgets every entry (after DISCARD ALL). */
static void cache_clear(pg_conn *c)
{
    while (c->ncached)
        cache_remove_at(c, c->ncached - 1);
}

/* The entry for sql with these parameter types, or NULL. */
static pg_cached *cache_find(pg_conn *c, uint64_t h, const char *sql, const Oid *types, int n)
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
static pg_cached *cache_add(pg_conn *c, uint64_t h, const char *sql, const Oid *types, int n)
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
        if (!send_dealloc(c, id))
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
        cached_free(e);
        return NULL;
    }
    if (n)
        memcpy(e->types, types, (size_t)n * sizeof *types);
    e->ntypes = n;
    e->hash = h;
    e->id = ++c->next_stmt_id;
    e->used = c->tick;
    c->cache[c->ncached++] = e;
    return c->last_hit = e;
}

/* After a request: forget what the server does not hold (a Parse that an
 * earlier error skipped), or everything after DISCARD ALL. */
static void cache_settle(pg_conn *c)
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
static void queue_dealloc(pg_conn *c, unsigned id)
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

/* ---- parameters ---- */

/* Room for n parameters in the per-set arrays libpq takes. */
static bool ensure_param_arrays(pg_conn *c, size_t n)
{
    if (n <= c->pcap)
        return true;
    const char **v = realloc(c->pvals, n * sizeof *v);
    if (v)
        c->pvals = v;
    int *l = v ? realloc(c->plens, n * sizeof *l) : NULL;
    if (l)
        c->plens = l;
    int *f = l ? realloc(c->pfmts, n * sizeof *f) : NULL;
    if (f)
        c->pfmts = f;
    Oid *t = f ? realloc(c->ptypes, n * sizeof *t) : NULL;
    if (t)
        c->ptypes = t;
    if (!t)
        return false;
    c->pcap = n;
    return true;
}

/* Checks every parameter of the request before anything is queued, so
 * that a bad value fails the request with nothing sent. */
static bool check_params(pg_conn *c, const calx_dreq *req)
{
    for (size_t i = 0; i < req->nstmts; i++) {
        const calx_dstmt *st = &req->stmts[i];
        if (st->nparams > PG_MAX_PARAMS) {
            failf(c, CALX_ERR_PROGRAMMING,
                  "a PostgreSQL statement takes at most %d parameters; this one has %zu",
                  PG_MAX_PARAMS, st->nparams);
            return false;
        }
        if (calx__sql_starts_with_word(calx__sql_skip_space(st->sql, false), "COPY")) {
            failf(c, CALX_ERR_NOT_SUPPORTED,
                  "COPY is not supported by the calx PostgreSQL driver (it runs every "
                  "statement in pipeline mode); insert with execute-many instead");
            return false;
        }
        for (size_t k = 0; k < st->nparams * st->nsets; k++) {
            const calx_value *v = &st->params[k];
            if (v->type == CALX_TEXT && v->u.s.len && memchr(v->u.s.ptr, 0, v->u.s.len)) {
                failf(c, CALX_ERR_DATA,
                      "PostgreSQL text cannot contain a NUL byte (parameter %zu%s); "
                      "send bytes as a blob",
                      k % st->nparams + 1, st->nsets > 1 ? " of a parameter set" : "");
                return false;
            }
            if ((unsigned)v->type > CALX_BOOL) {
                failf(c, CALX_ERR_ARGUMENT, "parameter %zu has an unknown value type %d",
                      k % st->nparams + 1, (int)v->type);
                return false;
            }
            if ((v->type == CALX_TEXT || v->type == CALX_BLOB) && v->u.s.len > INT32_MAX) {
                failf(c, CALX_ERR_DATA, "parameter %zu is larger than PostgreSQL takes (1 GB)",
                      k % st->nparams + 1);
                return false;
            }
        }
    }
    return true;
}

/* Lays one parameter set out as libpq takes it: text format, NUL-ended,
 * except bytea, sent in binary. */
static bool bind_set(pg_conn *c, const calx_value *vals, size_t n)
{
    if (!ensure_param_arrays(c, n ? n : 1)) {
        failf(c, CALX_ERR_NOMEM, "out of memory binding parameters");
        return false;
    }
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        switch (vals[i].type) {
        case CALX_INT:
        case CALX_REAL:
            need += 32;
            break;
        case CALX_TEXT:
            need += vals[i].u.s.len + 1;
            break;
        default:
            break;
        }
    }
    if (need > c->scratch_cap) {
        char *s = realloc(c->scratch, need);
        if (!s) {
            failf(c, CALX_ERR_NOMEM, "out of memory binding parameters");
            return false;
        }
        c->scratch = s;
        c->scratch_cap = need;
    }
    char *p = c->scratch;
    for (size_t i = 0; i < n; i++) {
        const calx_value *v = &vals[i];
        c->plens[i] = 0;
        c->pfmts[i] = 0;
        c->ptypes[i] = 0;
        switch (v->type) {
        case CALX_INT:
            c->ptypes[i] = OID_INT8;
            c->pvals[i] = p;
            p += snprintf(p, 32, "%" PRId64, v->u.i) + 1;
            break;
        case CALX_REAL:
            c->ptypes[i] = OID_FLOAT8;
            c->pvals[i] = p;
            if (isnan(v->u.d))
                p += snprintf(p, 32, "NaN") + 1;
            else if (isinf(v->u.d))
                p += snprintf(p, 32, "%sInfinity", v->u.d < 0 ? "-" : "") + 1;
            else
                p += snprintf(p, 32, "%.17g", v->u.d) + 1;
            break;
        case CALX_BOOL:
            c->ptypes[i] = OID_BOOL;
            c->pvals[i] = v->u.b ? "t" : "f";
            break;
        case CALX_TEXT:
            c->pvals[i] = p;
            if (v->u.s.len)
                memcpy(p, v->u.s.ptr, v->u.s.len);
            p[v->u.s.len] = '\0';
            p += v->u.s.len + 1;
            break;
        case CALX_BLOB:
            c->ptypes[i] = OID_BYTEA;
            c->pfmts[i] = 1;
            c->pvals[i] = v->u.s.ptr ? v->u.s.ptr : "";
            c->plens[i] = (int)v->u.s.len;
            break;
        default:
            c->pvals[i] = NULL;
            break;
        }
    }
    return true;
}

/* Queues one statement with one parameter set: from the prepared cache
 * (preparing it first in the same pipeline when new), or unnamed. */
static bool send_stmt(pg_conn *c, const calx_dstmt *st, size_t stmt, size_t set)
{
    int n = (int)st->nparams;
    if (!bind_set(c, st->nparams ? st->params + set * st->nparams : NULL, st->nparams))
        return false;
    pg_cached *e = NULL;
    if (c->cache_cap) {
        uint64_t h = hash_stmt(st->sql, c->ptypes, n);
        e = cache_find(c, h, st->sql, c->ptypes, n);
        if (e) {
            e->used = c->tick;
        } else {
            if (c->failed)
                return false;  /* an eviction's DEALLOCATE could not be sent */
            e = cache_add(c, h, st->sql, c->ptypes, n);
            if (c->failed)
                return false;
            if (e) {
                char name[32];
                snprintf(name, sizeof name, "calx_%u", e->id);
                if (!add_cmd(c, PGC_PREPARE, stmt, set, e)) {
                    failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
                    c->dead = true;
                    return false;
                }
                if (!PQsendPrepare(c->pg, name, st->sql, n, c->ptypes))
                    return send_failed(c, "a statement to prepare");
            }
        }
    }
    if (!add_cmd(c, PGC_STMT, stmt, set, e)) {
        failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    int ok;
    if (e) {
        char name[32];
        snprintf(name, sizeof name, "calx_%u", e->id);
        ok = PQsendQueryPrepared(c->pg, name, n, c->pvals, c->plens, c->pfmts, 0);
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
    if (!bind_set(c, st->params, st->nparams))
        return false;
    snprintf(c->cursor, sizeof c->cursor, "calx_cur_%u", ++c->next_cursor_id);
    c->cursor_hold = !in_tx;
    c->cursor_done = false;
    c->cursor_new = true;
    c->cursor_ok = false;
    c->stream_rows = nrows;
    calx_buf b = { 0 };
    calx__buf_printf(&b, "DECLARE %s NO SCROLL CURSOR %sFOR ", c->cursor,
                     in_tx ? "" : "WITH HOLD ");
    calx__buf_puts(&b, st->sql);
    char *sql = calx__buf_take(&b);
    if (!sql || !add_cmd(c, PGC_DECLARE, stmt, 0, NULL)) {
        free(sql);
        failf(c, CALX_ERR_NOMEM, "out of memory queuing a command");
        c->dead = true;
        return false;
    }
    int ok = PQsendQueryParams(c->pg, sql, (int)st->nparams, c->ptypes, c->pvals, c->plens,
                               c->pfmts, 0);
    free(sql);
    if (!ok)
        return send_failed(c, "DECLARE CURSOR");
    char fetch[80];
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %zu FROM %s", nrows, c->cursor);
    return send_simple(c, PGC_FETCH, fetch, stmt);
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
    if (!check_params(c, req))
        return false;
    c->rsets = calloc(req->nstmts ? req->nstmts : 1, sizeof *c->rsets);
    if (!c->rsets) {
        failf(c, CALX_ERR_NOMEM, "out of memory starting a request");
        return false;
    }
    c->nrsets = req->nstmts;
    for (size_t i = 0; i < c->ndealloc; i++)
        if (!send_dealloc(c, c->dealloc[i]))
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

/* Queues the request's commands; false when it failed before anything
 * needs sending (the failure is recorded). */
static bool build(pg_conn *c)
{
    const calx_dreq *req = c->req;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    switch (req->op) {
    case CALX_DOP_EXEC:
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
            failf(c, CALX_ERR_STATE, "no streamed result is open to fetch from");
            return false;
        }
        c->rsets = calloc(1, sizeof *c->rsets);
        if (!c->rsets) {
            failf(c, CALX_ERR_NOMEM, "out of memory starting a request");
            return false;
        }
        c->nrsets = 1;
        if (c->cursor_done)
            return true;  /* read to the end already: an empty last chunk */
        {
            char sql[80];
            c->stream_rows = req->stream_rows ? req->stream_rows : c->stream_rows;
            snprintf(sql, sizeof sql, "FETCH FORWARD %zu FROM %s", c->stream_rows, c->cursor);
            return send_simple(c, PGC_FETCH, sql, 0);
        }
    case CALX_DOP_CLOSE_CURSOR:
        return close_cursor(c);
    }
    failf(c, CALX_ERR_ARGUMENT, "unknown driver operation %d", (int)req->op);
    return false;
}

/* ---- results ---- */

/* Adds a result's rows and counts to statement stmt's rowset. */
static bool add_result(pg_conn *c, size_t stmt, const PGresult *res)
{
    if (calx__pg_add_rows(&c->rsets[stmt], res))
        return true;
    failf(c, CALX_ERR_NOMEM, "out of memory reading a row");
    return false;
}

/* Puts one result to use. Returns true when the request must end now,
 * without waiting for its Sync. */
static bool handle_result(pg_conn *c, pg_cmd *cmd, const PGresult *res)
{
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
                queue_dealloc(c, cmd->entry->id);
            cmd->entry->ready = false;
        }
        result_error(c, cmd, res);
        return false;
    }
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        /* Only a statement starting with COPY gets here, and those are
         * refused before sending: should one slip through, the protocol
         * is now in COPY mode and the session is given up. */
        failf(c, CALX_ERR_NOT_SUPPORTED, "COPY is not supported by the calx PostgreSQL driver");
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
    case PGC_STMT:
        add_result(c, cmd->stmt, res);
        break;
    case PGC_DECLARE:
        c->cursor_ok = true;
        break;
    case PGC_FETCH:
        if (add_result(c, cmd->stmt, res)) {
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
            fail(c, &err);
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
                failf(c, CALX_ERR_NOMEM, "out of memory making a rowset");
                return NULL;
            }
        }
        c->rsets[i] = NULL;
        *tail = rs;
        tail = &rs->next;
    }
    return head;
}

/* Ends the request and calls back; nothing may touch c afterwards (the
 * callback may close it). */
static void complete(pg_conn *c)
{
    const calx_dreq *req = c->req;
    calx_rowset *rs = NULL;
    if (!c->failed && (req->op == CALX_DOP_EXEC || req->op == CALX_DOP_FETCH)) {
        rs = take_rowsets(c);
        if (req->op == CALX_DOP_FETCH && rs && !c->sent) {
            rs->more = false;  /* the cursor was read to its end already */
        }
    }
    free_rsets(c);
    if (c->pg && !c->dead) {
        cache_settle(c);
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        /* A cursor declared by a request that failed is gone with the
         * (implicit or explicit) transaction it was declared in, and a
         * cursor of a transaction ends with it. */
        if (c->cursor[0] && c->cursor_new && (!c->cursor_ok || c->failed))
            c->cursor[0] = '\0';
        if (c->cursor[0] && !c->cursor_hold && ts != PQTRANS_INTRANS)
            c->cursor[0] = '\0';
        if (!c->failed && (req->op == CALX_DOP_COMMIT || (req->op == CALX_DOP_EXEC && req->commit)))
            c->tx_open = false;
    }
    c->cursor_new = false;
    bool failed = c->failed;
    calx_error err = c->err;
    if (c->dead) {
        unwatch(c);
    } else if (c->pg) {
        calx__pg_watch(c, CALX_IO_READ, false);
    }
    calx_dreq_cb cb = c->cb;
    void *udata = c->udata;
    c->busy = false;
    c->sent = false;
    c->flushing = false;
    c->req = NULL;
    c->ncmds = 0;
    c->cur = 0;
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
                result_error(c, &c->cmds[c->cur], res);
            PQclear(res);
            lost(c);
            complete(c);
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
                failf(c, CALX_ERR_INTERNAL,
                      "libpq ended the results before the pipeline's end (command %zu of "
                      "%zu)", c->cur + 1, c->ncmds);
                c->dead = true;
                complete(c);
                return true;
            }
            continue;
        }
        c->nulls_in_a_row = 0;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            complete(c);
            return true;
        }
        bool stop = false;
        if (c->cur < c->ncmds) {
            c->cur_seen = true;
            stop = handle_result(c, &c->cmds[c->cur], res);
        }
        PQclear(res);
        if (stop) {
            complete(c);
            return true;
        }
    }
}

/* Socket events while a pipeline is out: read, flush, collect. */
static void pump(pg_conn *c, int events)
{
    if ((events < 0 || (events & CALX_IO_READ)) && !PQconsumeInput(c->pg)) {
        /* Read failure: PQstatus now says whether the connection is gone. */
        if (PQstatus(c->pg) != CONNECTION_BAD) {
            char msg[300];
            calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
            failf(c, CALX_ERR_DISCONNECT, "reading from the PostgreSQL server failed: %s",
                  msg);
            c->dead = true;
            complete(c);
            return;
        }
    }
    if (c->flushing && PQstatus(c->pg) != CONNECTION_BAD) {
        int r = PQflush(c->pg);
        if (r < 0 && PQstatus(c->pg) != CONNECTION_BAD) {
            char msg[300];
            calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
            failf(c, CALX_ERR_DISCONNECT, "writing to the PostgreSQL server failed: %s", msg);
            c->dead = true;
            complete(c);
            return;
        }
        c->flushing = r == 1;
    }
    if (read_results(c))
        return;
    calx__pg_watch(c, CALX_IO_READ | (c->flushing ? CALX_IO_WRITE : 0), true);
    if (!c->io) {
        failf(c, CALX_ERR_DISCONNECT, "the PostgreSQL connection's socket cannot be watched");
        c->dead = true;
        complete(c);
    }
}

/* Reads what the server sent between requests, without blocking: a
 * notification (dropped), or its last words and its hang-up (a restart,
 * pg_terminate_backend). The second read finds the end of the stream that
 * follows a FATAL message. Marks the connection dead when it is gone. */
static void probe(pg_conn *c)
{
    if (c->dead || !c->pg)
        return;
    /* One peek says whether anything waits at all: the common case,
     * nothing, costs a single syscall. */
    int fd = PQsocket(c->pg);
    char byte;
    if (fd >= 0 && recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
        (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    for (int i = 0; i < 2; i++) {
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
            c->dead = true;
            unwatch(c);
            return;
        }
        PGnotify *n;
        while ((n = PQnotifies(c->pg)) != NULL)  /* also parses what came */
            PQfreemem(n);
    }
}

void calx__pg_on_io(void *arg, int events)
{
    pg_conn *c = arg;
    if (events < 0)
        c->io_events = 0;  /* libuv stops a watch that reports an error */
    if (c->connecting) {
        calx__pg_connect_io(c, events);
        return;
    }
    if (c->busy && c->sent) {
        pump(c, events);
        return;
    }
    probe(c);
    if (!c->dead && !c->busy)
        calx__pg_watch(c, CALX_IO_READ, false);
}

/* Sends the request's pipeline, or completes it deferred when it needs
 * nothing sent or failed before sending. */
static void start_request(pg_conn *c)
{
    c->tick++;
    c->ncmds = 0;
    c->cur = 0;
    c->cur_seen = false;
    c->nulls_in_a_row = 0;
    c->failed = false;
    c->sent = false;
    c->flushing = false;
    if (c->cancel_requested) {
        failf(c, CALX_ERR_CANCELED, "the PostgreSQL request was cancelled before it started");
        calx__pg_defer(c, false);
        return;
    }
    bool ok = build(c) && !c->failed;
    if (!ok && c->ncmds > 0)
        c->dead = true;  /* queued commands without their Sync: never send more */
    if (!ok || c->ncmds == 0) {
        calx__pg_defer(c, false);
        return;
    }
    if (!PQpipelineSync(c->pg)) {
        send_failed(c, "the end of the pipeline (Sync)");
        calx__pg_defer(c, false);
        return;
    }
    c->stats.round_trips++;
    c->sent = true;
    int r = PQflush(c->pg);
    if (r < 0 && PQstatus(c->pg) != CONNECTION_BAD) {
        char msg[300];
        calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
        failf(c, CALX_ERR_DISCONNECT, "writing to the PostgreSQL server failed: %s", msg);
        c->dead = true;
        c->sent = false;
        calx__pg_defer(c, false);
        return;
    }
    c->flushing = r == 1;
    calx__pg_watch(c, CALX_IO_READ | (c->flushing ? CALX_IO_WRITE : 0), true);
    if (!c->io) {
        /* A dead socket: the results never come. */
        if (PQstatus(c->pg) == CONNECTION_BAD)
            lost(c);
        else
            failf(c, CALX_ERR_DISCONNECT,
                  "the PostgreSQL connection's socket cannot be watched");
        c->dead = true;
        c->sent = false;
        calx__pg_defer(c, false);
    }
}

/* ---- the driver interface ---- */

int calx__pg_ready(pg_conn *c, calx_error *err)
{
    if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
        char msg[300];
        calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
        return calx_error_set(err, CALX_ERR_OPERATIONAL,
                              "cannot put the PostgreSQL connection in non-blocking "
                              "pipeline mode: %s",
                              msg);
    }
    c->stats.backend_pid = PQbackendPID(c->pg);
    c->notice[0] = '\0';
    c->req_timer = calx__timer_new(c->base.loop, on_req_timer, c);
    if (!c->req_timer)
        return calx__nomem(err, "making a timer");
    calx__pg_watch(c, CALX_IO_READ, false);
    if (!c->io)
        return calx_error_set(err, CALX_ERR_OPERATIONAL,
                              "cannot watch the PostgreSQL connection's socket");
    return 0;
}

/* The driver's request: validates req (CALX_ERR_ARGUMENT), refuses a
 * closed connection (CALX_ERR_CLOSED) or a busy one (CALX_ERR_BUSY), and
 * otherwise sends its pipeline; cb runs once, later, on the loop thread,
 * with the rowsets (the callee owns them) or the error. req must live until
 * then; the driver copies the parameters into libpq's buffer as it sends. */
static int pg_request(calx_dconn *base, const calx_dreq *req, calx_dreq_cb cb, void *udata,
                      calx_error *err)
{
    pg_conn *c = (pg_conn *)base;
    int rc = calx__dreq_check("postgresql", base, req, cb, err);
    if (rc)
        return rc;
    if (c->closing)
        return calx_error_set(err, CALX_ERR_CLOSED, "the PostgreSQL connection is closed");
    if (c->busy)
        return calx_error_set(err, CALX_ERR_BUSY,
                              "the PostgreSQL connection is already running a request");
    c->busy = true;
    c->req = req;
    c->cb = cb;
    c->udata = udata;
    c->cancel_requested = false;
    if (c->dead || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        c->dead = true;
        lost(c);
        calx__pg_defer(c, false);
        return 0;
    }
    if (c->command_timeout_s > 0)
        calx__timer_start(c->req_timer, seconds_ms(c->command_timeout_s));
    if (c->cancel_jobs > 0) {
        /* A cancel for the previous request is still on its way: starting
         * now could let it hit this one. */
        c->start_waiting = true;
        return 0;
    }
    start_request(c);
    return 0;
}

/* A cancel on its way: the PGcancel is the job's own, so the connection
 * may be used (not freed: close waits for cancel_jobs) meanwhile. */
typedef struct cancel_job {
    pg_conn *c;
    PGcancel *cancel;
    char errbuf[256];
} cancel_job;

/* On the thread pool: the blocking PQcancel. */
static void cancel_work(void *arg)
{
    cancel_job *j = arg;
    /* Blocking: connects to the server and sends the cancel request. */
    PQcancel(j->cancel, j->errbuf, (int)sizeof j->errbuf);
}

/* Back on the loop: a request held back by the cancel starts now. */
static void cancel_done(void *arg)
{
    cancel_job *j = arg;
    pg_conn *c = j->c;
    PQfreeCancel(j->cancel);
    free(j);
    c->cancel_jobs--;
    if (c->closing) {
        if (c->cancel_jobs == 0 && !c->deferred_queued)
            calx__pg_free(c);
        return;
    }
    if (c->start_waiting && c->cancel_jobs == 0) {
        c->start_waiting = false;
        start_request(c);
    }
}

/* Asks the server to cancel the request in flight (PQcancel, blocking, so
 * on the thread pool), and bounds the wait for its answer: a server that
 * answers neither the request nor the cancel within the grace (the
 * command_timeout again, else CALX_PG_CANCEL_GRACE_S) is given up by
 * on_req_timer. A request not yet sent fails as cancelled when it starts. */
static void start_cancel(pg_conn *c)
{
    c->cancelling = true;
    calx__timer_start(c->req_timer, seconds_ms(c->command_timeout_s > 0 ? c->command_timeout_s
                                                                     : CALX_PG_CANCEL_GRACE_S));
    if (!c->sent || c->cancel_jobs > 0)
        return;
    cancel_job *j = calloc(1, sizeof *j);
    PGcancel *pc = j ? PQgetCancel(c->pg) : NULL;
    if (!pc) {
        free(j);
        return;  /* the grace still bounds the wait */
    }
    j->c = c;
    j->cancel = pc;
    if (calx__loop_work(c->base.loop, cancel_work, cancel_done, j) != 0) {
        PQfreeCancel(pc);
        free(j);
        return;
    }
    c->cancel_jobs++;
    c->stats.cancels++;
}

/* The server answered neither the request nor its cancel: the connection
 * is given up (alive() says false, so the pool replaces it) and the request
 * fails now, with nothing on the loop left waiting for the server. */
static void give_up(pg_conn *c)
{
    calx_error err;
    calx_error_clear(&err);
    double grace = c->command_timeout_s > 0 ? c->command_timeout_s : CALX_PG_CANCEL_GRACE_S;
    if (!c->timed_out) {
        err.code = CALX_ERR_CANCELED;
        snprintf(err.message, sizeof err.message,
                 "the PostgreSQL server did not answer the cancel within %g s; the "
                 "connection was given up",
                 grace);
    } else if (c->sent) {
        err.code = CALX_ERR_TIMEOUT;
        snprintf(err.message, sizeof err.message,
                 "the PostgreSQL server did not answer: the statement ran longer than "
                 "command_timeout (%g s) and the cancel got no answer in a further %g s; "
                 "the connection was given up",
                 c->command_timeout_s, grace);
    } else {
        err.code = CALX_ERR_TIMEOUT;
        snprintf(err.message, sizeof err.message,
                 "the request could not start within command_timeout (%g s): the PostgreSQL "
                 "server did not answer the cancel of the previous one; the connection was "
                 "given up",
                 c->command_timeout_s);
    }
    c->failed = false;
    fail(c, &err);
    c->dead = true;
    c->start_waiting = false;
    complete(c);
}

/* req_timer ran out: first command_timeout (the request is cancelled on
 * the server), then the grace for the cancel (the connection is given up). */
static void on_req_timer(void *arg)
{
    pg_conn *c = arg;
    if (!c->busy || c->closing || c->deferred_queued)
        return;  /* a completion is already on its way */
    if (!c->cancelling && c->sent) {
        c->timed_out = true;
        start_cancel(c);
        return;
    }
    if (!c->cancelling)
        c->timed_out = true;  /* still waiting behind an earlier cancel */
    give_up(c);
}

/* The driver's interrupt: asks the server to cancel the running request.
 * It then fails with CALX_ERR_CANCELED (SQLSTATE 57014), or finishes if it
 * was about to; a server that does not answer the cancel costs the
 * connection (see start_cancel). A request not yet sent fails as cancelled
 * when it starts. Loop thread only; nothing running: no effect. */
static void pg_interrupt(calx_dconn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c || !c->busy || c->closing || c->cancel_requested)
        return;
    c->cancel_requested = true;
    if (!c->cancelling)
        start_cancel(c);  /* else command_timeout's cancel is on its way */
}

/* Between requests this reads what the server sent (without blocking), so
 * that a connection the server hung up on since its last use reads as
 * dead at checkout, and the pool replaces it before anyone sees an error. */
static bool pg_alive(const calx_dconn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c || c->closing)
        return false;
    if (!c->busy && !c->connecting)
        probe(c);
    return !c->dead && c->pg && PQstatus(c->pg) == CONNECTION_OK;
}

/* The driver's close: PQfinish (a Terminate message, without blocking)
 * and the memory, now or once a cancel in flight is back. */
static void pg_close(calx_dconn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c || c->closing)
        return;
    c->closing = true;
    /* The engine never closes under a running request; should it happen,
     * the request is dropped without a callback. */
    unwatch(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (c->cancel_jobs == 0 && !c->deferred_queued)
        calx__pg_free(c);
}

void calx__pg_conn_stats(const calx_dconn *base, calx_pg_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!base || base->driver != &calx__postgres_driver)
        return;
    const pg_conn *c = (const pg_conn *)base;
    *out = c->stats;
    out->cached = c->ncached;
}

/* The driver's describe (driver.h): nothing to add to an engine's repr. */
static void pg_describe(const calx_url *url, const calx_kv *args, size_t nargs, char *buf,
                        size_t n)
{
    (void)url, (void)args, (void)nargs;
    if (n)
        buf[0] = '\0';
}

const calx_driver calx__postgres_driver = {
    .name = "postgresql",
    .check_options = calx__pg_check_options,
    .describe = pg_describe,
    .connect = calx__pg_connect,
    .request = pg_request,
    .interrupt = pg_interrupt,
    .alive = pg_alive,
    .close = pg_close,
    .command_timeout = true,
};
