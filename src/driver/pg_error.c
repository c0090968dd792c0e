/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: the request's error.
 *
 * The first failing command's error is the request's, classified by its
 * SQLSTATE (calx__pg_errcode, pg_result.c) and worded as psql prints it,
 * with DETAIL and HINT; the server skips the rest of the pipeline up to
 * the Sync. A cancel reads as CALX_ERR_CANCELED, or as CALX_ERR_TIMEOUT
 * when command_timeout sent it; a lost connection as CALX_ERR_DISCONNECT,
 * naming what the server said last. It is a file of its own because the
 * pipeline, the parameters' checks and the driver interface all record
 * failures the same way, through here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "driver/pg_int.h"

/* Records err as the request's failure unless one came first. */
void calx__pg_fail(pg_conn *c, const calx_error *err)
{
    if (c->failed)
        return;
    c->failed = true;
    c->err = *err;
}

void calx__pg_failf(pg_conn *c, int code, const char *fmt, ...)
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
    calx__pg_fail(c, &err);
}

const char *calx__pg_cmd_name(pg_cmd_kind k)
{
    switch (k) {
    case PGC_BEGIN: return "BEGIN";
    case PGC_PREPARE: return "preparing the statement";
    case PGC_DESCRIBE: return "describing the statement";
    case PGC_DEALLOC: return "DEALLOCATE";
    case PGC_DECLARE: return "DECLARE CURSOR";
    case PGC_FETCH: return "FETCH";
    case PGC_AHEAD: return "a FETCH sent ahead";
    case PGC_CLOSE: return "CLOSE";
    case PGC_COMMIT: return "COMMIT";
    case PGC_ROLLBACK: return "ROLLBACK";
    case PGC_PING: return "ping";
    default: return "statement";
    }
}

/* The error a failed result carries: the server's message with its
 * DETAIL and HINT lines (as psql prints them), its SQLSTATE, its class. */
void calx__pg_result_error(pg_conn *c, const pg_cmd *cmd, const PGresult *res)
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
    if (cmd &&
        (cmd->kind == PGC_STMT || cmd->kind == PGC_PREPARE || cmd->kind == PGC_DESCRIBE) && req &&
        req->op == CALX_DOP_EXEC) {
        calx__error_note_where(&err, req, cmd->stmt, cmd->set);
    } else if (cmd && cmd->kind != PGC_STMT && cmd->kind != PGC_FETCH &&
               cmd->kind != PGC_PING) {
        calx__error_note(&err, "in %s", calx__pg_cmd_name(cmd->kind));
    }
    calx__pg_fail(c, &err);
}

/* The connection is gone: the request fails with CALX_ERR_DISCONNECT,
 * naming what the server said last if it said anything. */
void calx__pg_lost(pg_conn *c)
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
    calx__pg_fail(c, &err);
}
