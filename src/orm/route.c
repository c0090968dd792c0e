/* SPDX-License-Identifier: MIT */
/* Where a session's reads go when its engine has replicas, and
 * read-your-writes: a transaction's reads take a replica's connection
 * until it writes (session.c's calx__session_conn moves it to the
 * primary); after a commit that wrote, the session reads on the primary
 * for primary_after_write seconds, and with causal_reads it remembers
 * where the primary's log stood after the commit and makes a replica wait
 * until it has replayed that far (causal_timeout), else reads on the
 * primary. The SQL for both questions is the dialect's
 * (replica_position_sql, replica_caught_up_sql); a database without it
 * has no replicas and none of this runs. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "calx/task.h"
#include "engine/engine_int.h"
#include "orm/session_int.h"

/* Default causal_timeout, seconds. */
#define CALX_CAUSAL_TIMEOUT_DEFAULT_S 1.0
/* The first pause between two looks at a lagging replica, doubled up to
 * the last (milliseconds): replay usually catches up within a few. */
#define CALX_CAUSAL_POLL_FIRST_MS 1
#define CALX_CAUSAL_POLL_MAX_MS 50

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void calx__route_committed(calx_session *s)
{
    s->wrote_ns = mono_ns();
    const char *sql = s->dialect->replica_position_sql;
    if (!s->opts.causal_reads || !sql || !s->conn)
        return;
    /* The commit is before this statement on the same connection, so the
     * position read is past the commit's record. */
    calx_error err;
    calx_result *r = NULL;
    const char *pos = NULL;
    if (calx_await(calx_conn_execute(s->conn, sql, NULL, &err), &r, &err) == 0)
        pos = calx_row_text(calx_result_first(r), 0);
    if (pos && strlen(pos) < sizeof s->token) {
        snprintf(s->token, sizeof s->token, "%s", pos);
        s->token_lost = false;
    } else {
        s->token[0] = 0;
        s->token_lost = true;
    }
    calx_result_free(r);
}

/* Whether replica connection c has replayed s's token; waits (polling,
 * the pause doubling) up to causal_timeout. 0 with *ok, or the
 * database's error (a token it cannot read). */
static int wait_caught_up(calx_session *s, calx_connection *c, bool *ok, calx_error *err)
{
    double timeout = s->opts.causal_timeout > 0 ? s->opts.causal_timeout
                                                : CALX_CAUSAL_TIMEOUT_DEFAULT_S;
    uint64_t deadline = mono_ns() + (uint64_t)(timeout * 1e9);
    uint64_t pause = CALX_CAUSAL_POLL_FIRST_MS;
    calx_param p = { .value = calx_text(s->token) };
    calx_params params = { &p, 1 };
    for (int polls = 1;; polls++) {
        calx_result *r = NULL;
        int rc = calx_await(calx_conn_execute(c, s->dialect->replica_caught_up_sql, &params,
                                              err), &r, err);
        if (rc)
            return rc;
        const calx_row *row = calx_result_first(r);
        *ok = row && calx_row_bool(row, 0);
        calx_result_free(r);
        if (*ok) {
            /* A snapshot taken before the replay caught up (REPEATABLE
             * READ keeps the first statement's) must not serve the reads. */
            if (polls > 1)
                rc = calx_await(calx_conn_rollback(c, err), NULL, err);
            return rc;
        }
        uint64_t now = mono_ns();
        if (now >= deadline)
            return 0;
        uint64_t left_ms = (deadline - now) / 1000000u + 1;
        rc = calx_await(calx_sleep(s->opts.bind->loop, pause < left_ms ? pause
                                                                                   : left_ms,
                                   err), NULL, err);
        if (rc)
            return rc;
        if (pause < CALX_CAUSAL_POLL_MAX_MS)
            pause *= 2;
    }
}

/* Whether read-your-writes sends this transaction's reads to the primary
 * without asking a replica. */
static bool primary_for_recent_write(const calx_session *s)
{
    if (s->token_lost)
        return true;
    if (s->opts.primary_after_write <= 0 || !s->wrote_ns)
        return false;
    return mono_ns() - s->wrote_ns < (uint64_t)(s->opts.primary_after_write * 1e9);
}

int calx__session_read_conn(calx_session *s, calx_connection **out, calx_error *err)
{
    int rc = 0;
    /* Pinned, or read-your-writes by time: the transaction moves to the
     * primary (or starts there). */
    if (!s->conn && (s->opts.use_primary || s->call_primary ||
                     (!s->read_conn && primary_for_recent_write(s))))
        rc = calx__session_primary(s, err);
    if (rc || (*out = s->conn ? s->conn : s->read_conn))
        return rc;
    if ((rc = calx__session_check_autobegin(s, err)))
        return rc;
    calx_connection *c = NULL;
    rc = calx_await(calx_engine_connect_replica(s->opts.bind, err), &c, err);
    if (rc)
        return rc;
    if (calx_conn_is_replica(c) && s->token[0] && s->dialect->replica_caught_up_sql) {
        bool ok = false;
        rc = wait_caught_up(s, c, &ok, err);
        if (rc || !ok) {
            /* Too far behind (or unable to say): the primary has it all. */
            calx_conn_close(c);
            if (!rc && !(rc = calx__session_primary(s, err)))
                *out = s->conn;
            return rc;
        }
    }
    /* No replica (none configured, none healthy): the primary's connection
     * is the transaction's, as if a write had taken it. */
    if (calx_conn_is_replica(c))
        s->read_conn = c;
    else
        s->conn = c;
    s->began = true;
    *out = c;
    return 0;
}

const char *calx_session_causal_token(const calx_session *s)
{
    return s && s->token[0] ? s->token : NULL;
}

int calx_session_set_causal_token(calx_session *s, const char *token, calx_error *err)
{
    if (!s)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the session is NULL");
    if (!s->dialect->replica_caught_up_sql)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "calx_session_set_causal_token: %s has no replicas to wait for",
                              s->dialect->display_name);
    if (!token) {
        s->token[0] = 0;
        return 0;
    }
    size_t n = strlen(token);
    if (n == 0 || n >= sizeof s->token)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_session_set_causal_token: a token has 1 to %d "
                              "characters; this one has %zu",
                              CALX_CAUSAL_TOKEN_SIZE - 1, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)token[i] <= ' ' || token[i] == 0x7f)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "calx_session_set_causal_token: character %zu of the "
                                  "token is a space or a control character; a token is "
                                  "what calx_session_causal_token gave", i + 1);
    memcpy(s->token, token, n + 1);
    return 0;
}
