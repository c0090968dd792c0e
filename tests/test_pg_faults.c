/* SPDX-License-Identifier: MIT */
/* Faults on a real PostgreSQL under load: the server restarted, backends
 * terminated, one backend frozen (SIGSTOP) and thawed, while tasks commit
 * small transactions. What a program relies on is checked at the end, in
 * the table itself: every commit it saw succeed is there, and nothing else
 * is -- save the commits whose COMMIT lost its connection or timed out,
 * which may or may not have happened on the server (the honest rule for
 * any client: they are counted, not judged).
 *
 * The faults come from a plain thread with its own blocking libpq
 * connection (it never touches calx), while the main thread runs the loop
 * and the tasks. Bounded: each task stops at a fixed number of
 * transactions or at a time cap, and a frozen backend is always thawed
 * before the thread goes on.
 *
 * Needs CALX_TEST_PG_URL and CALX_TEST_PG_DIR (make test starts the server
 * and sets both); without them the program says "skipped" and exits 77. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "calx.h"
#include "test.h"

#ifndef CALX_SOURCE_DIR
#define CALX_SOURCE_DIR "."
#endif

enum {
    WORKERS = 6,          /* tasks committing, over a pool of POOL_SIZE */
    POOL_SIZE = 4,
    MAX_TX = 3000,        /* transactions per task at the most */
    AFTER_FAULTS = 10,    /* transactions per task once the faults are over */
    TIME_CAP_S = 60,      /* a task stops after this many seconds, whatever happens */
    FREEZE_MS = 3000      /* longer than command_timeout plus its grace */
};
#define COMMAND_TIMEOUT_S 1.0

typedef enum tx_outcome {
    TX_NOT_RUN,
    TX_OK,                /* the commit returned success */
    TX_FAILED,            /* failed before or at COMMIT with a definite answer */
    TX_UNKNOWN            /* the COMMIT lost its connection or timed out */
} tx_outcome;

static const char *base_url;
static calx_loop *loop;
static calx_engine *engine;
static tx_outcome outcomes[WORKERS][MAX_TX];
static atomic_bool faults_over;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the tasks ---- */

typedef struct worker {
    int id;
    int n;                /* transactions run */
    int ok, failed, unknown;
    int ok_after_faults;
    char last_error[sizeof ((calx_error *)0)->message];
} worker;

/* One transaction writing key id * MAX_TX + i, and what the program saw. */
static tx_outcome one_tx(worker *w, int i)
{
    calx_error err;
    calx_connection *c = NULL;
    tx_outcome out = TX_FAILED;
    if (calx_await(calx_engine_connect(engine, &err), &c, &err) == 0) {
        calx_result *r = NULL;
        int rc = calx_await(
            calx_conn_execute(c, "INSERT INTO ledger (k, worker) VALUES (:k, :w)",
                              CALX_PARAMS(CALX_P("k", calx_int((int64_t)w->id * MAX_TX + i)),
                                          CALX_P("w", calx_int(w->id))),
                              &err),
            &r, &err);
        calx_result_free(r);
        if (rc == 0) {
            rc = calx_await(calx_conn_commit(c, &err), NULL, &err);
            /* A COMMIT cut off from the server may have committed or not. */
            out = rc == 0 ? TX_OK
                : err.code == CALX_ERR_DISCONNECT || err.code == CALX_ERR_TIMEOUT ? TX_UNKNOWN
                : TX_FAILED;
        }
        calx_conn_close(c);
    }
    if (out != TX_OK)
        snprintf(w->last_error, sizeof w->last_error, "%s", err.message);
    return out;
}

static void *work(void *arg)
{
    worker *w = arg;
    calx_error err;
    double start = now_s();
    int after = 0;
    for (int i = 0; i < MAX_TX && after < AFTER_FAULTS && now_s() - start < TIME_CAP_S; i++) {
        bool over = atomic_load(&faults_over);
        tx_outcome out = one_tx(w, i);
        outcomes[w->id][i] = out;
        w->n++;
        w->ok += out == TX_OK;
        w->failed += out == TX_FAILED;
        w->unknown += out == TX_UNKNOWN;
        if (over) {
            after++;
            w->ok_after_faults += out == TX_OK;
        }
        /* A short pause; a longer one after a failure, as a program backs off. */
        calx_await(calx_sleep(loop, out == TX_OK ? 5 : 50, &err), NULL, &err);
    }
    return NULL;
}

/* ---- the faults ---- */

typedef struct faults {
    int terminated;       /* backends pg_terminate_backend ended */
    bool froze;           /* a backend was frozen and thawed */
    bool restarted;
} faults;

static int64_t scalar(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    int64_t v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "  faults: %s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
    return v;
}

static int terminate_all(PGconn *pg)
{
    int64_t n = scalar(pg, "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                           "FROM pg_stat_activity WHERE application_name = 'calx_faults'");
    return n > 0 ? (int)n : 0;
}

/* Freezes one of calx's backends, a busy one if there is one, for
 * FREEZE_MS, and always thaws it. */
static bool freeze_one(PGconn *pg)
{
    int64_t pid = scalar(pg, "SELECT pid FROM pg_stat_activity WHERE application_name = "
                             "'calx_faults' ORDER BY state = 'active' DESC, pid LIMIT 1");
    if (pid <= 0 || kill((pid_t)pid, SIGSTOP) != 0)
        return false;
    nap_ms(FREEZE_MS);
    return kill((pid_t)pid, SIGCONT) == 0;
}

static bool restart_server(PGconn *pg)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s/scripts/pg-test-server.sh' restart '%s' >/dev/null",
             CALX_SOURCE_DIR, getenv("CALX_TEST_PG_DIR"));
    int rc = system(cmd);
    PQreset(pg);
    return rc == 0 && PQstatus(pg) == CONNECTION_OK;
}

static void *inject(void *arg)
{
    faults *f = arg;
    PGconn *pg = PQconnectdb(base_url);
    nap_ms(500);
    f->terminated += terminate_all(pg);
    nap_ms(500);
    f->froze = freeze_one(pg);
    nap_ms(500);
    f->restarted = restart_server(pg);
    nap_ms(500);
    f->terminated += terminate_all(pg);
    PQfinish(pg);
    atomic_store(&faults_over, true);
    return NULL;
}

/* ---- the test ---- */

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;  /* the NOTICE of DROP SCHEMA IF EXISTS */
}

TEST(every_commit_seen_to_succeed_survives_restarts_terminations_and_a_frozen_backend)
{
    calx_error err;
    worker ws[WORKERS];
    calx_future *fs[WORKERS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < WORKERS; i++) {
        ws[i].id = i;
        fs[i] = calx_spawn(loop, work, &ws[i], NULL, &err);
        CHECK(fs[i] != NULL);
    }
    faults f = { 0 };
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, inject, &f), 0);
    for (int i = 0; i < WORKERS; i++)
        if (fs[i])
            calx_wait(fs[i], NULL, &err);
    pthread_join(t, NULL);
    CHECK(f.terminated > 0);
    CHECK(f.froze);
    CHECK(f.restarted);

    /* What the table holds, read on a connection of its own. */
    PGconn *pg = PQconnectdb(base_url);
    PGresult *r = PQexec(pg, "SELECT k FROM calx_faults.ledger");
    CHECK_INT(PQresultStatus(r), PGRES_TUPLES_OK);
    static bool present[WORKERS][MAX_TX];
    int strangers = 0;  /* keys no task wrote */
    for (int row = 0; row < PQntuples(r); row++) {
        long long k = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        if (k < 0 || k >= (long long)WORKERS * MAX_TX) {
            strangers++;
            continue;
        }
        present[k / MAX_TX][k % MAX_TX] = true;
    }
    PQclear(r);
    PQfinish(pg);

    int ok = 0, failed = 0, unknown = 0, unknown_there = 0, lost = 0, phantoms = 0;
    for (int w = 0; w < WORKERS; w++) {
        for (int i = 0; i < MAX_TX; i++) {
            switch (outcomes[w][i]) {
            case TX_OK:
                ok++;
                lost += !present[w][i];
                break;
            case TX_FAILED:
                failed++;
                phantoms += present[w][i];
                break;
            case TX_UNKNOWN:
                unknown++;
                unknown_there += present[w][i];
                break;
            case TX_NOT_RUN:
                strangers += present[w][i];
                break;
            }
        }
        if (ws[w].failed + ws[w].unknown)
            fprintf(stderr, "  task %d: %d ok, %d failed, %d unknown; last error: %s\n", w,
                    ws[w].ok, ws[w].failed, ws[w].unknown, ws[w].last_error);
        /* Once the faults are over the pool serves again. */
        CHECK(ws[w].ok_after_faults > 0);
    }
    fprintf(stderr,
            "  %d committed, %d failed, %d unknown (%d of them in the table); "
            "%d backends terminated\n",
            ok, failed, unknown, unknown_there, f.terminated);
    CHECK(ok > 0);
    CHECK_INT(lost, 0);       /* a commit seen to succeed is in the table */
    CHECK_INT(phantoms, 0);   /* a transaction seen to fail is not */
    CHECK_INT(strangers, 0);  /* and nothing else is */
}

int main(void)
{
    base_url = getenv("CALX_TEST_PG_URL");
    const char *dir = getenv("CALX_TEST_PG_DIR");
    if (!base_url || !*base_url || !dir || !*dir) {
        printf("skipped: CALX_TEST_PG_URL or CALX_TEST_PG_DIR not set\n");
        return 77;
    }
    PGconn *admin = PQconnectdb(base_url);
    PQsetNoticeProcessor(admin, quiet, NULL);
    PGresult *r = PQexec(admin, "DROP SCHEMA IF EXISTS calx_faults CASCADE; "
                                "CREATE SCHEMA calx_faults; "
                                "CREATE TABLE calx_faults.ledger "
                                "(k bigint PRIMARY KEY, worker integer NOT NULL)");
    bool ready = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ready)
        fprintf(stderr, "cannot set up on CALX_TEST_PG_URL (%s): %s", base_url,
                PQerrorMessage(admin));
    PQclear(r);
    if (!ready) {
        PQfinish(admin);
        return 1;
    }

    calx_error err;
    loop = calx_loop_new(NULL, &err);
    char url[1024];
    snprintf(url, sizeof url,
             "%s%soptions=-csearch_path%%3Dcalx_faults&application_name=calx_faults"
             "&connect_timeout=5",
             base_url, strchr(base_url, '?') ? "&" : "?");
    engine = calx_create_engine(url,
                                &(calx_engine_opts){ .loop = loop,
                                                     .pool_size = POOL_SIZE,
                                                     .max_overflow = CALX_OVERFLOW_NONE,
                                                     .pool_timeout = 10,
                                                     .pool_pre_ping = true,
                                                     .command_timeout = COMMAND_TIMEOUT_S },
                                &err);
    if (!engine) {
        fprintf(stderr, "create_engine: %s\n", err.message);
        return 1;
    }
    RUN(every_commit_seen_to_succeed_survives_restarts_terminations_and_a_frozen_backend);
    calx_engine_free(engine);
    calx_loop_free(loop);

    if (PQstatus(admin) != CONNECTION_OK)
        PQreset(admin);
    PQclear(PQexec(admin, "DROP SCHEMA IF EXISTS calx_faults CASCADE"));
    PQfinish(admin);
    return TEST_REPORT();
}
