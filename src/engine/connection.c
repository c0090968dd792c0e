/* SPDX-License-Identifier: MIT */
/* Connections (SQLAlchemy's AsyncConnection): one operation at a time over
 * a pooled driver connection, autobegin, savepoints, echo, and a close that
 * never blocks and never loses the connection, even mid-operation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/connection.h"
#include "core/nomem.h"
#include "core/number_text.h"
#include "core/present.h"
#include "core/promise.h"
#include "core/spares.h"
#include "core/value_int.h"
#include "core/zeroed.h"
#include "engine/engine_int.h"

#define MAX_SAVEPOINTS 64

typedef enum op_kind {
    OP_EXEC,
    OP_STREAM,
    OP_FETCH,
    OP_CLOSE_CURSOR,
    OP_COMMIT,
    OP_ROLLBACK,
    OP_SAVEPOINT,
    OP_RELEASE,
    OP_ROLLBACK_TO
} op_kind;

/* Parameters (sets times values) an operation holds in its own struct. */
#define OP_FEW_PARAMS 4

typedef struct conn_op {
    calx_connection *c;
    calx_future *f;           /* NULL for background work (closing a cursor) */
    op_kind kind;
    bool cancelled;           /* its future was cancelled: the driver is stopping it */
    bool merge;               /* a batch answered as one statement (see engine_int.h) */
    calx_dreq req;
    calx_dstmt stmt;
    char *sql;                /* owned when not from the plan cache */
    calx_value *vals;
    char *bytes;              /* the copied text and blob parameters */
    calx_dtype *ptypes;       /* what the parameters meet (copied), or NULL */
    /* Room for a statement's parameters when there are few (vals and
     * ptypes stay NULL then; a batch's first statement's bvals[0] and
     * bptypes[0]): a get by key, or one object's flush, allocates none. */
    calx_value few_vals[OP_FEW_PARAMS];
    calx_dtype few_types[OP_FEW_PARAMS];
    calx_plan_entry *plan;    /* released when the op ends (see engine_int.h) */
    calx_result *stream;      /* OP_FETCH: the result to refill */
    size_t stream_max;        /* OP_STREAM: the rows of its largest chunk */
    /* A select's result columns stored in another form (calx__compile_note's
     * result_types, copied): converted as rows arrive; a stream's result
     * takes them over. */
    const calx_column **types;
    size_t ntypes;
    /* A batch (calx_conn_execute_batch): nbatch statements, each with its
     * plan and its copied values; stmt/vals/bytes/plan above are unused. */
    size_t nbatch;
    calx_dstmt *bstmts;
    calx_plan_entry **bplans;
    calx_value **bvals;
    char **bbytes;
    calx_dtype **bptypes;
    bool *bfresh;             /* statement i's plan was compiled for it (echo) */
    /* The arrays of a batch of one statement (a one-object flush), in
     * place of the block. */
    calx_dstmt one_stmt;
    calx_plan_entry *one_plan;
    calx_value *one_vals;
    char *one_bytes;
    calx_dtype *one_ptypes;
    bool one_fresh;
} conn_op;

struct calx_connection {
    calx_engine *engine;
    const calx__server *server; /* the engine's primary or one of its replicas */
    const char *tag;          /* echo's prefix naming the server, or "" */
    calx_pconn *pc;
    conn_op *op;              /* the operation running, if any */
    conn_op *queued;          /* the next one, waiting for a cancelled op to end */
    calx_result *stream;      /* an open streaming result */
    bool closing;             /* closed while busy: finish when the op ends */
    bool in_tx;
    bool begin_pending;       /* BEGIN not yet sent: goes with the next statement */
    bool tx_writes;           /* ... and that transaction will write
                                 (calx__conn_tx_will_write) */
    size_t sp_depth;
    unsigned sp_ids[MAX_SAVEPOINTS];
    unsigned sp_counter;
};

/* Echo with the server's name first when the engine has several. */
#define conn_echo(c, ...) calx__echo_tagged((c)->engine, (c)->tag, __VA_ARGS__)

calx_connection *calx__connection_new(calx_engine *e, const calx__server *srv,
                                      calx_pconn *pc)
{
    calx_connection *c = calx__spare_take(e->spare_conns, &e->nspare_conns, sizeof *c);
    if (!c)
        return NULL;
    c->engine = e;
    c->server = srv;
    c->tag = e->nreplicas ? srv->tag : "";
    c->pc = pc;
    e->nconns++;
    return c;
}

/* A zeroed operation on c (op->c set), from c's engine's spares when it
 * keeps one; NULL on no memory. */
static conn_op *new_op(calx_connection *c)
{
    calx_engine *e = c->engine;
    conn_op *op = calx__spare_take(e->spare_ops, &e->nspare_ops, sizeof *op);
    if (op)
        op->c = c;
    return op;
}

void calx__conn_spares_free(calx_engine *e)
{
    calx__spares_free(e->spare_ops, &e->nspare_ops, sizeof(conn_op));
    calx__spares_free(e->spare_conns, &e->nspare_conns, sizeof(calx_connection));
}

/* Frees op and what it owns. The struct goes to its connection's
 * engine's spares when there is room: nothing reaches an op once it is
 * freed (its future has completed, so its cancel hook is never called;
 * the driver is done with its request), and the connection, alive until
 * its last op has ended, keeps the engine alive (core/spares.h keeps
 * the spares). */
static void free_op(conn_op *op)
{
    for (size_t i = 0; i < op->nbatch; i++) {
        if (op->bplans && (i == 0 || op->bplans[i] != op->bplans[i - 1]))
            calx__plan_entry_release(op->bplans[i]);
        if (op->bvals)
            free(op->bvals[i]);
        if (op->bbytes)
            free(op->bbytes[i]);
        if (op->bptypes)
            free(op->bptypes[i]);
    }
    if (op->bstmts != &op->one_stmt)
        free(op->bstmts);   /* bplans ... bfresh are in its block (make_batch) */
    calx__plan_entry_release(op->plan);
    free(op->sql);
    free(op->vals);
    free(op->bytes);
    free(op->ptypes);
    free(op->types);
    calx_engine *e = op->c ? op->c->engine : NULL;
    if (!e || !calx__spare_give(e->spare_ops, &e->nspare_ops, CALX__SPARE_OPS, op, sizeof *op))
        free(op);
}

static void finish_close(calx_connection *c)
{
    calx_engine *e = c->engine;
    if (c->in_tx) {
        /* The pool's reset-on-return rolls it back; log it as SQLAlchemy
         * does when a connection with a transaction is closed. */
        conn_echo(c, "ROLLBACK");
        c->pc->dirty = true;
    }
    calx__pool_checkin(c->pc);
    /* Kept before the engine is let go: freeing it frees its spares. */
    if (!calx__spare_give(e->spare_conns, &e->nspare_conns, CALX__SPARE_CONNS, c, sizeof *c))
        free(c);
    calx__engine_conn_closed(e);
}

/* Whether c can take an operation at all: not NULL, not closed. */
static int check_open(const calx_connection *c, calx_error *err)
{
    /* NULL is what a failed calx_engine_connect leaves: a mistake in the
     * caller, not a connection that closed. */
    if (!c)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the connection is NULL");
    if (c->closing)
        return calx_error_set(err, CALX_ERR_CLOSED, "this connection is closed");
    return 0;
}

static int check_ready(calx_connection *c, calx_error *err)
{
    if (check_open(c, err))
        return err->code;
    /* A cancelled operation keeps the driver busy until the database has
     * stopped it (milliseconds); the next one waits behind it rather than
     * fail with BUSY (start_op queues it). */
    if (c->op && c->op->cancelled && !c->queued && !c->stream)
        return 0;
    if (c->op || c->stream)
        return calx_error_set(err, CALX_ERR_BUSY,
                              "another operation is in progress on this connection%s",
                              c->stream ? " (a streaming result is still open)" : "");
    return 0;
}

/* ---- parameters ---- */

/* A value of the richer types (calx__value_is_rich: the callers test it,
 * the plain values skip the call) as the dialect stores it (d's
 * bind_value): in place when it needs no bytes (a scaled integer); else
 * *text is set and *out holds it, its text in scratch. 0 or the hook's
 * error. */
static int stored_form(const calx_dialect *d, calx_value *v, calx_value *out, char *scratch,
                       bool *text, calx_error *err)
{
    *text = false;
    if (!d->bind_value)
        return 0;
    int rc = d->bind_value(v, out, scratch, err);
    if (rc)
        return rc;
    if (calx__value_is_bytes(out))
        *text = true;
    else
        *v = *out;
    return 0;
}

/* Binds every set through the plan and copies the values, so the caller's
 * memory may be reused at once; the richer types become what the dialect
 * stores them as (d's bind_value). types (NULL, or one per parameter of a
 * set: what it meets, from the SQL layer's compile) are copied into
 * *typesp for the driver. Up to nfew values and types go into few_vals
 * and few_types instead (the op's own room), leaving *valsp and *typesp
 * NULL: nothing to allocate or free for a get by key. */
static int bind_stmt(const calx_dialect *d, calx_dstmt *st, calx_value **valsp,
                     char **bytesp, calx_dtype **typesp, const calx_dtype *types,
                     const calx_text_plan *plan, const calx_params *sets, size_t nsets,
                     calx_value *few_vals, calx_dtype *few_types, size_t nfew,
                     calx_error *err)
{
    size_t n = plan->nslots;
    if (nsets == 0)
        nsets = 1;
    if (types && n) {
        calx_dtype *copy = few_types;
        if (n > nfew && !(copy = *typesp = malloc(n * sizeof *copy)))
            return calx__nomem(err, "binding parameters");
        memcpy(copy, types, n * sizeof *copy);
        st->types = copy;
    }
    if (n == 0) {
        for (size_t s = 0; sets && s < nsets; s++)
            if (sets[s].n && !sets[s].items[0].name)
                return calx_error_set(err, CALX_ERR_ARGUMENT,
                                      "the statement has no parameters but %zu values "
                                      "were given", sets[s].n);
        st->nparams = 0;
        st->nsets = nsets;
        return 0;
    }
    calx_value *vals = few_vals;
    if (n > nfew || nsets > nfew / n) {
        if (!(vals = *valsp = calx__alloc_present(n * nsets * sizeof *vals)))
            return calx__nomem(err, "binding parameters");
    }
    size_t nbytes = 0;
    char scratch[CALX_BIND_SCRATCH_SIZE];
    calx_value stored;
    bool text;
    for (size_t s = 0; s < nsets; s++) {
        static const calx_params none;
        const calx_params *set = sets ? &sets[s] : &none;
        if (!plan->names[0] && set->n != n)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "the statement has %zu positional parameters (?) but "
                                  "%zu values were given%s",
                                  n, set->n, nsets > 1 ? " in a parameter set" : "");
        int rc = calx__text_bind(plan, set, vals + s * n, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            calx_value *v = &vals[s * n + i];
            if (!calx__value_is_rich(v)) {
                nbytes += calx__value_keep_size(v);
                continue;
            }
            if ((rc = stored_form(d, v, &stored, scratch, &text, err)))
                return rc;
            if (text)
                nbytes += stored.u.s.len + 1;
            else
                nbytes += calx__value_keep_size(v);
        }
    }
    if (nbytes) {
        *bytesp = malloc(nbytes);
        if (!*bytesp)
            return calx__nomem(err, "binding parameters");
        char *p = *bytesp;
        for (size_t i = 0; i < n * nsets; i++) {
            calx_value *v = &vals[i];
            /* The richer values left are the ones stored as text: made
             * again, now into the copy (the first pass only measured). */
            if (calx__value_is_rich(v) && stored_form(d, v, &stored, scratch, &text, err) == 0 &&
                text)
                *v = stored;
            calx__value_keep(v, &p);
        }
    }
    st->nparams = n;
    st->nsets = nsets;
    st->params = vals;
    return 0;
}

static int bind_params(conn_op *op, const calx_dialect *d, const calx_text_plan *plan,
                       const calx_params *sets, size_t nsets, const calx_dtype *types,
                       calx_error *err)
{
    return bind_stmt(d, &op->stmt, &op->vals, &op->bytes, &op->ptypes, types, plan, sets, nsets,
                     op->few_vals, op->few_types, OP_FEW_PARAMS, err);
}

/* ---- running an operation ---- */

static void on_op_done(void *udata, calx_rowset *rs, const calx_error *derr);

static void cancel_op(void *ctx)
{
    conn_op *op = ctx;
    calx_connection *c = op->c;
    if (c && c->queued == op) {
        /* Never started: drop it. Its future has completed as cancelled. */
        c->queued = NULL;
        calx_error e;
        calx_error_set(&e, CALX_ERR_CANCELED, "the operation was cancelled");
        calx__future_reject(op->f, &e);
        free_op(op);
        return;
    }
    /* The driver stops the statement; the connection stays busy until it
     * reports back, and only then goes back to the pool. */
    op->cancelled = true;
    if (op->kind == OP_FETCH && op->stream) {
        /* A cancelled fetch ends its stream now, as the program sees it;
         * rows that still land are dropped and the cursor closed. */
        calx__result_detach(op->stream);
        op->stream = NULL;
        if (c)
            c->stream = NULL;
    }
    if (c && c->pc)
        c->pc->dconn->driver->interrupt(c->pc->dconn);
}

/* Hands op's request to the driver: 0, or the driver's error with op
 * still the caller's. */
static int send_op(calx_connection *c, conn_op *op, calx_error *err)
{
    calx_dconn *dc = c->pc->dconn;
    int rc = dc->driver->request(dc, &op->req, on_op_done, op, err);
    if (rc == 0)
        c->op = op;
    return rc;
}

/* The operation queued behind a cancelled one starts once that one has
 * ended (or fails, when the connection was closed meanwhile). */
static void start_queued(calx_connection *c)
{
    conn_op *op = c->queued;
    if (!op)
        return;
    c->queued = NULL;
    calx_error err;
    if (c->closing)
        calx_error_set(&err, CALX_ERR_CLOSED, "this connection was closed before the "
                       "operation could start");
    else if (send_op(c, op, &err) == 0)
        return;
    calx__future_reject(op->f, &err);
    free_op(op);
}

static void free_unclaimed_result(void *value)
{
    calx_result_free(value);
}

/* Starts op on c, taking ownership of op. Returns its future, or NULL and
 * err (op freed). */
static calx_future *start_op(calx_connection *c, conn_op *op, calx_error *err)
{
    calx_future *f = calx__future_new(c->engine->loop);
    if (!f) {
        free_op(op);
        calx__nomem(err, "starting an operation");
        return NULL;
    }
    op->c = c;
    op->f = f;
    if (op->kind == OP_EXEC || op->kind == OP_STREAM)
        calx__future_set_dtor(f, free_unclaimed_result);
    calx__future_set_cancel(f, cancel_op, op);
    if (c->op) {
        /* Behind a cancelled operation (check_ready allowed it). */
        c->queued = op;
        return f;
    }
    if (send_op(c, op, err) != 0) {
        calx_future_release(f);
        calx__future_reject(f, err);
        free_op(op);
        return NULL;
    }
    return f;
}

/* Adds "[SQL: ...]" to a database error, as SQLAlchemy does, and with
 * replicas the server it came from: "[server: replica 1 (h:p)]". */
static void describe_error(calx_error *e, const calx_connection *c, const char *sql)
{
    size_t len = strlen(e->message);
    if (sql && e->code >= CALX_ERR_INTEGRITY && e->code <= CALX_ERR_DATABASE) {
        snprintf(e->message + len, sizeof e->message - len, "\n[SQL: %s]", sql);
        len = strlen(e->message);
    }
    if (c->engine->nreplicas)
        snprintf(e->message + len, sizeof e->message - len, "\n[server: %s]",
                 c->server->name);
}

/* The server has ended the transaction with the connection. */
static void lost_connection(calx_connection *c, const calx_error *err)
{
    calx__pool_invalidate(c->pc, err->message);
    c->in_tx = false;
    c->begin_pending = false;
    c->sp_depth = 0;
}

static void on_op_done(void *udata, calx_rowset *rs, const calx_error *derr)
{
    conn_op *op = udata;
    calx_connection *c = op->c;
    c->op = NULL;
    calx_error err;
    bool close_cursor_after = false;
    if (derr) {
        err = *derr;
        if (err.code == CALX_ERR_DISCONNECT)
            lost_connection(c, &err);
        if (op->kind == OP_ROLLBACK) {
            c->in_tx = false;
            c->sp_depth = 0;
        }
        if (op->kind == OP_FETCH || op->kind == OP_CLOSE_CURSOR) {
            c->stream = NULL;
            if (op->stream)
                calx__result_detach(op->stream);
        }
        describe_error(&err, c, op->stmt.sql);
        if (op->f)
            calx__future_reject(op->f, &err);
    } else {
        switch (op->kind) {
        case OP_EXEC:
            if (op->req.commit) {
                /* Logged once it ran: a flush that fails never sends it. */
                conn_echo(c, "COMMIT");
                c->in_tx = false;
                c->sp_depth = 0;
                c->pc->dirty = false;
            }
            if (op->merge && calx__rowset_merge(rs) != 0) {
                calx__future_rejectf(op->f, CALX_ERR_NOMEM, "out of memory gathering the "
                                     "rows of a statement run in parts");
                break;
            }
            if (calx__rowset_convert(c->engine->dialect, op->types, op->ntypes, rs, &err)) {
                calx__future_reject(op->f, &err);
                break;
            }
            calx_result *done = calx__result_new(rs, NULL, 0, 0);
            rs = NULL;
            if (!done) {
                /* The statements ran: a result that cannot be made must not
                 * read as one with no rows, and a COMMIT that ran with them
                 * stays run, which the error says even when no memory is
                 * left to copy it into. */
                static const calx_error ran = {
                    .code = CALX_ERR_NOMEM,
                    .message = "out of memory making the result of statements that ran"
                };
                static const calx_error committed = {
                    .code = CALX_ERR_NOMEM,
                    .message = "out of memory making the result of statements that ran "
                               "(the transaction is committed)"
                };
                calx__future_reject_static(op->f, op->req.commit ? &committed : &ran);
                break;
            }
            calx__future_resolve(op->f, done);
            break;
        case OP_STREAM: {
            if (calx__rowset_convert(c->engine->dialect, op->types, op->ntypes, rs, &err)) {
                close_cursor_after = rs && rs->more;
                calx__future_reject(op->f, &err);
                break;
            }
            bool more = rs && rs->more;
            calx_result *r = calx__result_new(rs, more ? c : NULL, op->req.stream_next_rows,
                                              op->stream_max);
            if (!r) {
                rs = NULL;   /* freed by calx__result_new */
                close_cursor_after = more;
                calx__future_rejectf(op->f, CALX_ERR_NOMEM,
                                     "out of memory making the result of a query");
                break;
            }
            if (rs && rs->more) {
                c->stream = r;
                calx__result_keep_types(r, op->types, op->ntypes);
                op->types = NULL;
            }
            rs = NULL;
            calx__future_resolve(op->f, r);
            break;
        }
        case OP_FETCH: {
            bool more = rs && rs->more;
            size_t ntypes;
            const calx_column *const *types =
                op->stream ? calx__result_types(op->stream, &ntypes) : NULL;
            if (types && calx__rowset_convert(c->engine->dialect, types, ntypes, rs, &err)) {
                c->stream = NULL;
                calx__result_detach(op->stream);
                close_cursor_after = more;
                calx__future_reject(op->f, &err);
                break;
            }
            if (op->stream) {
                /* The chunk replaced goes back to a driver that refills
                 * chunks (calx_driver.recycle) while the stream goes on. */
                calx_rowset *spent = calx__result_set_chunk(op->stream, rs);
                calx_dconn *dc = c->pc->dconn;
                if (spent && more && dc->driver->recycle)
                    dc->driver->recycle(dc, spent);
                else
                    calx__rowset_free(spent);
                rs = NULL;
                if (!more) {
                    c->stream = NULL;
                    calx__result_detach(op->stream);
                }
            } else if (more) {
                /* The result was freed while this fetch ran. */
                close_cursor_after = true;
            }
            calx__future_resolve(op->f, NULL);
            break;
        }
        case OP_CLOSE_CURSOR:
            break;
        case OP_COMMIT:
        case OP_ROLLBACK:
            c->in_tx = false;
            c->sp_depth = 0;
            c->pc->dirty = false;
            calx__future_resolve(op->f, NULL);
            break;
        case OP_SAVEPOINT:
        case OP_RELEASE:
        case OP_ROLLBACK_TO:
            calx__future_resolve(op->f, NULL);
            break;
        }
    }
    calx__rowset_free(rs);
    free_op(op);
    if (close_cursor_after)
        calx__conn_stream_done(c, true);
    if (!c->op)
        start_queued(c);
    if (c->closing && !c->op)
        finish_close(c);
}

/* A statement goes with the pending BEGIN when there is one (autobegin). */
static void attach_begin(calx_connection *c, calx_dreq *req)
{
    if (c->engine->autocommit)
        return;
    if (!c->in_tx) {
        c->in_tx = true;
        c->begin_pending = true;
        conn_echo(c, "BEGIN (implicit)");
    }
    if (c->begin_pending) {
        req->begin = true;
        req->writes = c->tx_writes;
        c->begin_pending = false;
        c->tx_writes = false;
        c->pc->dirty = true;
    }
}

void calx__conn_tx_will_write(calx_connection *c)
{
    if (!c->in_tx || c->begin_pending)
        c->tx_writes = true;
}

/* The badge of a statement the statement cache readied (note): its
 * compile, and the text's own translation when that was done now too. */
static void note_badge(char *badge, size_t size, const calx_plan_entry *pe, bool fresh,
                       const calx__compile_note *note)
{
    char secs[32];
    calx__echo_seconds(secs, sizeof secs, note->compile_s + (fresh ? pe->compile_s : 0));
    switch (note->how) {
    case CALX__COMPILED_NOW: snprintf(badge, size, "generated in %ss", secs); break;
    case CALX__COMPILED_DISABLED: snprintf(badge, size, "caching disabled %ss", secs); break;
    case CALX__COMPILED_NO_KEY: snprintf(badge, size, "no key %ss", secs); break;
    case CALX__COMPILED_CACHED:
        calx__double_text(secs, sizeof secs, 4,
                          (double)(calx__mono_ns() - note->created_ns) / 1e9);
        snprintf(badge, size, "cached since %ss ago", secs);
        break;
    }
}

/* note: how the statement cache readied the statement, or NULL for SQL
 * text, whose badge is the text cache's. */
static void echo_stmt(const calx_connection *c, const calx_plan_entry *pe, bool fresh,
                      calx_echo_badge style, const calx__compile_note *note,
                      const calx_dstmt *st)
{
    const calx_engine *e = c->engine;
    if (!e->echo)
        return;
    char badge[64], secs[32];
    calx__echo_seconds(secs, sizeof secs, pe->compile_s);
    if (note)
        note_badge(badge, sizeof badge, pe, fresh, note);
    else if (style == CALX_BADGE_RAW)
        snprintf(badge, sizeof badge, "raw sql");
    else if (style == CALX_BADGE_NO_KEY)
        snprintf(badge, sizeof badge, "no key %ss", secs);
    else if (fresh)
        snprintf(badge, sizeof badge, "generated in %ss", secs);
    else {
        calx__double_text(secs, sizeof secs, 4,
                          (double)(calx__mono_ns() - pe->created_ns) / 1e9);
        snprintf(badge, sizeof badge, "cached since %ss ago", secs);
    }
    conn_echo(c, "%s", pe->plan.sql);
    calx__echo_params(e, badge, st->params, st->nparams, st->nsets);
}

/* types: what the parameters meet (NULL: nothing known, as for SQL
 * text); a note's param_types are used when it has them. kept: sql is a
 * text the engine keeps (calx__engine_plan_kept). A stream's chunks have
 * stream_rows rows; with first_rows (fewer), the first has that many and
 * each after twice the one before, up to stream_rows. */
static calx_future *execute(calx_connection *c, op_kind kind, const char *sql,
                            const calx_params *sets, size_t nsets, size_t stream_rows,
                            size_t first_rows, calx_echo_badge style, const calx__compile_note *note,
                            const calx_dtype *types, bool kept, calx_error *err)
{
    if (note && note->param_types)
        types = note->param_types[0];
    if (check_ready(c, err))
        return NULL;
    if (!sql)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the SQL text is NULL"), NULL;
    calx_engine *e = c->engine;
    calx_plan_entry *pe;
    bool fresh;
    if ((kept ? calx__engine_plan_kept : calx__engine_plan)(e, sql, sets, &pe, &fresh, err))
        return NULL;
    conn_op *op = new_op(c);
    if (!op) {
        calx__plan_entry_release(pe);
        return calx__nomem(err, NULL), NULL;
    }
    op->kind = kind;
    op->plan = pe;
    if (bind_params(op, e->dialect, &pe->plan, sets, nsets, types, err)) {
        free_op(op);
        return NULL;
    }
    if (note && note->result_types) {
        size_t bytes = note->nresult_types * sizeof *op->types;
        if (!(op->types = malloc(bytes))) {
            free_op(op);
            return calx__nomem(err, NULL), NULL;
        }
        memcpy(op->types, note->result_types, bytes);
        op->ntypes = note->nresult_types;
    }
    op->stmt.sql = pe->plan.sql;
    op->stmt.sql_hash = pe->sql_hash;
    op->req.op = CALX_DOP_EXEC;
    op->req.nstmts = 1;
    op->req.stmts = &op->stmt;
    op->req.stream_rows = first_rows && first_rows < stream_rows ? first_rows : stream_rows;
    op->req.stream_next_rows = calx__next_chunk(op->req.stream_rows, stream_rows);
    op->stream_max = stream_rows;
    attach_begin(c, &op->req);
    echo_stmt(c, pe, fresh, style, note, &op->stmt);
    return start_op(c, op, err);
}

calx_future *calx_conn_execute(calx_connection *c, const char *sql,
                               const calx_params *params, calx_error *err)
{
    return execute(c, OP_EXEC, sql, params, 1, 0, 0, CALX_BADGE_CACHE, NULL, NULL, false, err);
}

calx_future *calx__conn_execute_badge(calx_connection *c, const char *sql,
                                      const calx_params *params, calx_echo_badge badge,
                                      calx_error *err)
{
    return execute(c, OP_EXEC, sql, params, 1, 0, 0, badge, NULL, NULL, false, err);
}

calx_future *calx__conn_execute_noted(calx_connection *c, const char *sql,
                                      const calx_params *params,
                                      const calx__compile_note *note, calx_error *err)
{
    return execute(c, OP_EXEC, sql, params, 1, 0, 0, CALX_BADGE_CACHE, note, NULL, false, err);
}

calx_future *calx__conn_execute_typed(calx_connection *c, const char *sql,
                                      const calx_params *params, const calx_dtype *types,
                                      calx_error *err)
{
    return execute(c, OP_EXEC, sql, params, 1, 0, 0, CALX_BADGE_CACHE, NULL, types, false, err);
}

calx_future *calx__conn_execute_kept(calx_connection *c, const char *sql,
                                     const calx_params *params, const calx_dtype *types,
                                     calx_error *err)
{
    return execute(c, OP_EXEC, sql, params, 1, 0, 0, CALX_BADGE_CACHE, NULL, types, true, err);
}

calx_dread calx__conn_read_row(calx_connection *c, const char *sql, const calx_params *params,
                               const calx_dtype *types, bool kept, calx_value *row,
                               size_t maxcols, size_t *ncols, char *buf, size_t size,
                               calx_error *err)
{
    calx_dconn *dc = c && c->pc && !c->closing ? c->pc->dconn : NULL;
    if (!dc || !dc->driver->read_row || c->op || c->queued || c->stream || !sql)
        return CALX_DREAD_DECLINED;  /* execute says what is wrong, or runs it */
    calx_engine *e = c->engine;
    calx_plan_entry *pe;
    bool fresh;
    if ((kept ? calx__engine_plan_kept : calx__engine_plan)(e, sql, params, &pe, &fresh, err))
        return CALX_DREAD_FAILED;
    calx_value few_vals[OP_FEW_PARAMS], *vals = NULL;
    calx_dtype few_types[OP_FEW_PARAMS], *ptypes = NULL;
    char *bytes = NULL;
    calx_dstmt st = { .sql = pe->plan.sql, .sql_hash = pe->sql_hash };
    calx_dread got = CALX_DREAD_FAILED;
    if (bind_stmt(e->dialect, &st, &vals, &bytes, &ptypes, types, &pe->plan, params, 1, few_vals,
                  few_types, OP_FEW_PARAMS, err) == 0) {
        /* The BEGIN the statement would carry (attach_begin), made the
         * connection's own only once the driver has run it. */
        bool begin = !e->autocommit && (!c->in_tx || c->begin_pending);
        calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st, .begin = begin,
                          .writes = begin && c->tx_writes };
        got = dc->driver->read_row(dc, &req, row, maxcols, ncols, buf, size, err);
        if (got != CALX_DREAD_DECLINED) {
            calx_dreq ran = { 0 };
            attach_begin(c, &ran);
            echo_stmt(c, pe, fresh, CALX_BADGE_CACHE, NULL, &st);
        }
        if (got == CALX_DREAD_FAILED) {
            if (err->code == CALX_ERR_DISCONNECT)
                lost_connection(c, err);
            describe_error(err, c, st.sql);
        }
    }
    free(vals);
    free(bytes);
    free(ptypes);
    calx__plan_entry_release(pe);
    return got;
}

calx_future *calx_conn_execute_many(calx_connection *c, const char *sql,
                                    const calx_params *sets, size_t nsets,
                                    calx_error *err)
{
    if (nsets == 0 || !sets) {
        calx_error_set(err, CALX_ERR_ARGUMENT,
                       "calx_conn_execute_many needs at least one parameter set");
        return NULL;
    }
    return execute(c, OP_EXEC, sql, sets, nsets, 0, 0, CALX_BADGE_CACHE, NULL, NULL, false, err);
}

static conn_op *make_batch(calx_connection *c, const calx_stmt *stmts, size_t n, bool merge,
                           const calx__compile_note *note, const calx_dtype *const *types,
                           calx_error *err);
static calx_future *send_batch(calx_connection *c, conn_op *op, bool commit,
                               const calx__compile_note *note, calx_error *err);

/* A batch at once: made and sent. A busy connection is refused before
 * anything is copied. */
static calx_future *execute_batch(calx_connection *c, const calx_stmt *stmts, size_t n,
                                  bool commit, bool merge, const calx__compile_note *note,
                                  const calx_dtype *const *types, calx_error *err)
{
    if (check_ready(c, err))
        return NULL;
    conn_op *op = make_batch(c, stmts, n, merge, note, types, err);
    return op ? send_batch(c, op, commit, note, err) : NULL;
}

calx_future *calx_conn_execute_batch(calx_connection *c, const calx_stmt *stmts,
                                     size_t n, calx_error *err)
{
    return execute_batch(c, stmts, n, false, false, NULL, NULL, err);
}

calx_future *calx_conn_execute_batch_commit(calx_connection *c, const calx_stmt *stmts,
                                            size_t n, calx_error *err)
{
    return execute_batch(c, stmts, n, true, false, NULL, NULL, err);
}

calx__batch *calx__conn_batch_make(calx_connection *c, const calx_stmt *stmts,
                                   const calx_dtype *const *types, size_t n, calx_error *err)
{
    return make_batch(c, stmts, n, false, NULL, types, err);
}

calx_future *calx__conn_batch_send(calx_connection *c, calx__batch *b, bool commit,
                                   calx_error *err)
{
    return send_batch(c, b, commit, NULL, err);
}

void calx__batch_free(calx__batch *b)
{
    if (b)
        free_op(b);
}

calx_future *calx__conn_execute_parts(calx_connection *c, const calx_stmt *stmts, size_t n,
                                      const calx__compile_note *note, calx_error *err)
{
    return execute_batch(c, stmts, n, false, true, note, NULL, err);
}

/* A batch's operation, every statement planned and its values bound and
 * copied, not sent: it needs an open connection, not an idle one. types:
 * per statement, what its parameters meet (NULL, or entries that may be
 * NULL); a note's param_types are used when it has them. */
static conn_op *make_batch(calx_connection *c, const calx_stmt *stmts, size_t n, bool merge,
                           const calx__compile_note *note, const calx_dtype *const *types,
                           calx_error *err)
{
    if (note && note->param_types)
        types = note->param_types;
    if (check_open(c, err))
        return NULL;
    if (n == 0 || !stmts)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_conn_execute_batch needs at least one statement"), NULL;
    calx_engine *e = c->engine;
    conn_op *op = new_op(c);
    if (!op)
        return calx__nomem(err, NULL), NULL;
    op->kind = OP_EXEC;
    op->merge = merge;
    op->nbatch = n;
    /* The per-statement arrays in one block, pointer-aligned ones first
     * (six callocs cost a one-object commit ~1,200 instructions: callgrind,
     * B5; calloc itself bypasses glibc's per-thread cache, core/zeroed.h);
     * one statement's in the op itself (the op is zeroed). */
    if (n == 1) {
        op->bstmts = &op->one_stmt;
        op->bplans = &op->one_plan;
        op->bvals = &op->one_vals;
        op->bbytes = &op->one_bytes;
        op->bptypes = &op->one_ptypes;
        op->bfresh = &op->one_fresh;
    } else {
        size_t each = sizeof *op->bstmts + sizeof *op->bplans + sizeof *op->bvals +
                      sizeof *op->bbytes + sizeof *op->bptypes + sizeof *op->bfresh;
        void *block = calx__array_zeroed(n, each);
        if (!block) {
            free_op(op);
            return calx__nomem(err, NULL), NULL;
        }
        op->bstmts = block;
        op->bplans = (calx_plan_entry **)(op->bstmts + n);
        op->bvals = (calx_value **)(op->bplans + n);
        op->bbytes = (char **)(op->bvals + n);
        op->bptypes = (calx_dtype **)(op->bbytes + n);
        op->bfresh = (bool *)(op->bptypes + n);
    }
    bool *fresh = op->bfresh;
    for (size_t i = 0; i < n; i++) {
        if (!stmts[i].sql) {
            calx_error_set(err, CALX_ERR_ARGUMENT, "statement %zu of the batch has no SQL", i + 1);
            goto fail;
        }
        /* A flush repeats one text many times: skip the lookup then. */
        if (i > 0 && stmts[i].sql == stmts[i - 1].sql && !op->bplans[i - 1]->uncached) {
            op->bplans[i] = op->bplans[i - 1];
        } else if (calx__engine_plan(e, stmts[i].sql, stmts[i].params, &op->bplans[i],
                                     &fresh[i], err)) {
            goto fail;
        }
        if (stmts[i].nsets > 1 && !stmts[i].params) {
            calx_error_set(err, CALX_ERR_ARGUMENT, "statement %zu of the batch has %zu parameter "
                           "sets but no parameters", i + 1, stmts[i].nsets);
            goto fail;
        }
        op->bstmts[i].rowids = stmts[i].rowids;
        /* The first statement's few values go in the op's own room (the
         * commonest batch is one object's UPDATE). */
        if (bind_stmt(e->dialect, &op->bstmts[i], &op->bvals[i], &op->bbytes[i],
                      &op->bptypes[i], types ? types[i] : NULL, &op->bplans[i]->plan,
                      stmts[i].params, stmts[i].nsets ? stmts[i].nsets : 1,
                      i ? NULL : op->few_vals, i ? NULL : op->few_types,
                      i ? 0 : OP_FEW_PARAMS, err)) {
            size_t len = strlen(err->message);
            snprintf(err->message + len, sizeof err->message - len,
                     " (statement %zu of the batch)", i + 1);
            goto fail;
        }
        op->bstmts[i].sql = op->bplans[i]->plan.sql;
        op->bstmts[i].sql_hash = op->bplans[i]->sql_hash;
    }
    op->req.op = CALX_DOP_EXEC;
    op->req.nstmts = n;
    op->req.stmts = op->bstmts;
    return op;
fail:
    /* Plans shared with the statement before are released once. */
    for (size_t i = n; i-- > 1;)
        if (op->bplans[i] == op->bplans[i - 1])
            op->bplans[i] = NULL;
    free_op(op);
    return NULL;
}

/* Starts the batch made on c (make_batch), which it takes: c must be
 * ready now. Its BEGIN and its echo go now, not when it was made. */
static calx_future *send_batch(calx_connection *c, conn_op *op, bool commit,
                               const calx__compile_note *note, calx_error *err)
{
    if (op->c != c) {
        free_op(op);
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "the batch was made for another connection"), NULL;
    }
    if (check_ready(c, err)) {
        free_op(op);
        return NULL;
    }
    attach_begin(c, &op->req);
    for (size_t i = 0; i < op->nbatch && c->engine->echo; i++)
        echo_stmt(c, op->bplans[i],
                  op->bfresh[i] && (i == 0 || op->bplans[i] != op->bplans[i - 1]),
                  CALX_BADGE_CACHE, note, &op->bstmts[i]);
    /* With autocommit (isolation_level AUTOCOMMIT) there is nothing to
     * commit. */
    op->req.commit = commit && c->in_tx;
    return start_op(c, op, err);
}

calx_future *calx_conn_stream(calx_connection *c, const char *sql,
                              const calx_params *params, size_t chunk_rows,
                              calx_error *err)
{
    return execute(c, OP_STREAM, sql, params, 1, chunk_rows ? chunk_rows : 1000, 0,
                   CALX_BADGE_CACHE, NULL, NULL, false, err);
}

calx_future *calx__conn_stream_noted(calx_connection *c, const char *sql,
                                     const calx_params *params, size_t first_rows,
                                     size_t chunk_rows, const calx__compile_note *note,
                                     calx_error *err)
{
    return execute(c, OP_STREAM, sql, params, 1, chunk_rows ? chunk_rows : 1000, first_rows,
                   CALX_BADGE_CACHE, note, NULL, false, err);
}

calx_future *calx__conn_stream_typed(calx_connection *c, const char *sql,
                                     const calx_params *params, const calx_dtype *types,
                                     size_t first_rows, size_t chunk_rows, calx_error *err)
{
    return execute(c, OP_STREAM, sql, params, 1, chunk_rows ? chunk_rows : 1000, first_rows,
                   CALX_BADGE_CACHE, NULL, types, false, err);
}

calx_future *calx__conn_fetch(calx_connection *c, calx_result *r, size_t nrows,
                              size_t next_rows, calx_error *err)
{
    if (c->op)
        return calx_error_set(err, CALX_ERR_BUSY, "a fetch is already in progress"), NULL;
    conn_op *op = new_op(c);
    if (!op)
        return calx__nomem(err, NULL), NULL;
    op->kind = OP_FETCH;
    op->stream = r;
    op->req.op = CALX_DOP_FETCH;
    op->req.stream_rows = nrows;
    op->req.stream_next_rows = next_rows;
    return start_op(c, op, err);
}

/* A streaming result is done with its connection (read to the end, or
 * freed early: then the driver drops the statement's other rows). */
void calx__conn_stream_done(calx_connection *c, bool close_cursor)
{
    c->stream = NULL;
    if (c->op && c->op->kind == OP_FETCH) {
        /* A fetch is under way: it drops the rest when it lands. */
        c->op->stream = NULL;
        return;
    }
    if (!close_cursor || c->op)
        return;
    conn_op *op = new_op(c);
    if (!op) {
        calx__pool_invalidate(c->pc, "out of memory closing a cursor");
        return;
    }
    op->kind = OP_CLOSE_CURSOR;
    op->req.op = CALX_DOP_CLOSE_CURSOR;
    calx_error err;
    calx_dconn *dc = c->pc->dconn;
    if (dc->driver->request(dc, &op->req, on_op_done, op, &err) != 0) {
        calx__pool_invalidate(c->pc, err.message);
        free_op(op);
        return;
    }
    c->op = op;
}

/* ---- transactions ---- */

static calx_future *resolved(calx_connection *c, calx_error *err)
{
    calx_future *f = calx__future_new(c->engine->loop);
    if (!f)
        return calx__nomem(err, NULL), NULL;
    calx__future_resolve(f, NULL);
    return f;
}

/* A statement of the transaction's own (COMMIT, SAVEPOINT ...), echoed as
 * SQLAlchemy does. */
static calx_future *tx_op(calx_connection *c, op_kind kind, calx_dop dop, const char *sql,
                          calx_error *err)
{
    conn_op *op = new_op(c);
    if (!op)
        return calx__nomem(err, NULL), NULL;
    op->kind = kind;
    op->req.op = dop;
    if (dop == CALX_DOP_EXEC) {
        op->sql = strdup(sql);
        op->stmt.sql = op->sql;
        op->stmt.nsets = 1;
        op->req.nstmts = 1;
        op->req.stmts = &op->stmt;
        attach_begin(c, &op->req);
        conn_echo(c, "%s", sql);
        conn_echo(c, "[no key 0.00000s] ()");
    } else {
        conn_echo(c, "%s", sql);
    }
    return start_op(c, op, err);
}

calx_future *calx_conn_begin(calx_connection *c, calx_error *err)
{
    if (check_ready(c, err))
        return NULL;
    if (c->in_tx) {
        calx_error_set(err, CALX_ERR_STATE, "a transaction is already begun on this connection");
        return NULL;
    }
    if (!c->engine->autocommit) {
        c->in_tx = true;
        c->begin_pending = true;
        conn_echo(c, "BEGIN (implicit)");
    }
    return resolved(c, err);
}

static calx_future *end_tx(calx_connection *c, bool commit, calx_error *err)
{
    if (check_ready(c, err))
        return NULL;
    if (!c->in_tx)
        return resolved(c, err);
    if (c->begin_pending) {
        /* Nothing ran since BEGIN: nothing to send. */
        conn_echo(c, commit ? "COMMIT" : "ROLLBACK");
        c->in_tx = c->begin_pending = false;
        c->sp_depth = 0;
        return resolved(c, err);
    }
    return tx_op(c, commit ? OP_COMMIT : OP_ROLLBACK,
                 commit ? CALX_DOP_COMMIT : CALX_DOP_ROLLBACK, commit ? "COMMIT" : "ROLLBACK",
                 err);
}

calx_future *calx_conn_commit(calx_connection *c, calx_error *err)
{
    return end_tx(c, true, err);
}

calx_future *calx_conn_rollback(calx_connection *c, calx_error *err)
{
    return end_tx(c, false, err);
}

calx_future *calx_conn_begin_nested(calx_connection *c, calx_error *err)
{
    if (check_ready(c, err))
        return NULL;
    if (c->engine->autocommit || !c->engine->dialect->supports_savepoints) {
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "savepoints need a transaction (isolation_level AUTOCOMMIT has none)");
        return NULL;
    }
    if (c->sp_depth == MAX_SAVEPOINTS) {
        calx_error_set(err, CALX_ERR_STATE, "more than %d nested savepoints", MAX_SAVEPOINTS);
        return NULL;
    }
    unsigned id = ++c->sp_counter;
    char sql[64];
    snprintf(sql, sizeof sql, "SAVEPOINT sa_savepoint_%u", id);
    calx_future *f = tx_op(c, OP_SAVEPOINT, CALX_DOP_EXEC, sql, err);
    if (f)
        c->sp_ids[c->sp_depth++] = id;
    return f;
}

static calx_future *end_savepoint(calx_connection *c, bool release, calx_error *err)
{
    if (check_ready(c, err))
        return NULL;
    if (c->sp_depth == 0) {
        calx_error_set(err, CALX_ERR_STATE, "no savepoint is open on this connection");
        return NULL;
    }
    char sql[64];
    snprintf(sql, sizeof sql, release ? "RELEASE SAVEPOINT sa_savepoint_%u"
                                      : "ROLLBACK TO SAVEPOINT sa_savepoint_%u",
             c->sp_ids[c->sp_depth - 1]);
    calx_future *f = tx_op(c, release ? OP_RELEASE : OP_ROLLBACK_TO, CALX_DOP_EXEC, sql, err);
    if (f)
        c->sp_depth--;
    return f;
}

calx_future *calx_conn_release_savepoint(calx_connection *c, calx_error *err)
{
    return end_savepoint(c, true, err);
}

calx_future *calx_conn_rollback_savepoint(calx_connection *c, calx_error *err)
{
    return end_savepoint(c, false, err);
}

bool calx_conn_in_transaction(const calx_connection *c)
{
    return c && c->in_tx;
}

size_t calx_conn_savepoint_depth(const calx_connection *c)
{
    return c ? c->sp_depth : 0;
}

calx_engine *calx_conn_engine(const calx_connection *c)
{
    return c ? c->engine : NULL;
}

const char *calx_conn_server(const calx_connection *c)
{
    return c ? c->server->name : NULL;
}

bool calx_conn_is_replica(const calx_connection *c)
{
    return c && c->server->replica;
}

calx_dconn *calx__conn_dconn(const calx_connection *c)
{
    return c->pc->dconn;
}

void calx_conn_invalidate(calx_connection *c)
{
    if (c)
        calx__pool_invalidate(c->pc, "invalidated by the program");
}

void calx_conn_close(calx_connection *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    if (c->stream) {
        /* The result may outlive its connection; it keeps the rows held. */
        calx__result_detach(c->stream);
        calx__conn_stream_done(c, true);
    }
    if (!c->op)
        finish_close(c);
}
