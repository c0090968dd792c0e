/* SPDX-License-Identifier: MIT */
/* calx_session_run_transaction: a transaction run again when the database
 * says it did not commit and another try may (the loop CockroachDB's and
 * PostgreSQL SERIALIZABLE users write by hand). What is retried is what
 * is certain not to have committed: a serialization failure or deadlock
 * (the server aborted the transaction and said so), a connection lost
 * before the COMMIT left. A connection lost, or a wait cut short, after
 * the COMMIT was sent (the session's commit_sent, set by flush.c and
 * session.c as the COMMIT goes out) is never retried: the transaction may
 * have committed, and running it again could apply it twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calx/task.h"
#include "engine/engine_int.h"
#include "orm/session_int.h"

#define CALX_RETRY_ATTEMPTS_DEFAULT 5
#define CALX_RETRY_BACKOFF_DEFAULT_S 0.01
#define CALX_RETRY_MAX_BACKOFF_DEFAULT_S 1.0

/* Whether an error that ended an attempt means "not committed, try
 * again". */
static bool retryable(const calx_error *e, bool commit_sent)
{
    if (e->code == CALX_ERR_SERIALIZATION)
        return true;
    return e->code == CALX_ERR_DISCONNECT && !commit_sent;
}

/* Whether the commit's fate is unknown: the COMMIT left and no answer came. */
static bool ambiguous(const calx_error *e, bool commit_sent)
{
    return commit_sent && (e->code == CALX_ERR_DISCONNECT || e->code == CALX_ERR_TIMEOUT ||
                           e->code == CALX_ERR_CANCELED || e->code == CALX_ERR_CLOSED);
}

/* A pause of base * 2^(attempt-1) seconds, at most max, its second half
 * random so that two transactions that failed each other do not meet
 * again in step. */
static uint64_t pause_ms(double base, double max, int attempt, unsigned *seed)
{
    double p = base;
    for (int i = 1; i < attempt && p < max; i++)
        p *= 2;
    if (p > max)
        p = max;
    double jitter = (double)rand_r(seed) / ((double)RAND_MAX + 1.0);
    return (uint64_t)((p / 2 + p / 2 * jitter) * 1000.0) + 1;
}

int calx_session_run_transaction(calx_session *s, calx_transaction_fn fn, void *arg,
                                 const calx_retry_opts *opts, calx_error *err)
{
    static const calx_retry_opts defaults;
    if (!opts)
        opts = &defaults;
    if (opts->attempts)
        *opts->attempts = 0;
    if (!s || !fn)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_session_run_transaction: the %s is NULL",
                              s ? "function" : "session");
    if (opts->max_attempts < 0 || !(opts->backoff >= 0 && opts->backoff <= 1e6) ||
        !(opts->max_backoff >= 0 && opts->max_backoff <= 1e6))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_session_run_transaction: max_attempts, backoff and "
                              "max_backoff must not be negative");
    if (s->began || s->need_rollback)
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_session_run_transaction: the session has a transaction "
                              "open; commit or roll it back first, since a retry rolls "
                              "back everything the session holds");
    if (!calx_in_task())
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_session_run_transaction runs inside a calx task "
                              "(calx_spawn)");
    int max = opts->max_attempts ? opts->max_attempts : CALX_RETRY_ATTEMPTS_DEFAULT;
    double base = opts->backoff ? opts->backoff : CALX_RETRY_BACKOFF_DEFAULT_S;
    double cap = opts->max_backoff ? opts->max_backoff : CALX_RETRY_MAX_BACKOFF_DEFAULT_S;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    for (int attempt = 1;; attempt++) {
        if (opts->attempts)
            *opts->attempts = attempt;
        s->commit_sent = false;
        int rc = fn(s, arg, err);
        if (rc == 0)
            rc = calx_session_commit(s, err);
        if (rc == 0)
            return 0;
        bool sent = s->commit_sent;
        calx_error failed = *err, e2;
        /* The failed attempt's state goes: a lost connection has nothing
         * to roll back, and its error is not the caller's concern. */
        calx_session_rollback(s, &e2);
        if (ambiguous(&failed, sent))
            return calx_error_set(err, CALX_ERR_AMBIGUOUS_COMMIT,
                                  "the COMMIT was sent and its answer lost, so the "
                                  "transaction may have committed; it is not run again "
                                  "(attempt %d): %s", attempt, failed.message);
        *err = failed;
        if (!retryable(&failed, sent))
            return rc;
        if (attempt >= max) {
            calx__error_note(err, "gave up after %d attempts", attempt);
            return rc;
        }
        rc = calx_await(calx_sleep(s->opts.bind->loop, pause_ms(base, cap, attempt, &seed), err),
                        NULL, err);
        if (rc)
            return rc;
    }
}
