/* SPDX-License-Identifier: MIT */
/* Read replicas on a real PostgreSQL primary with two streaming standbys
 * (scripts/pg-test-cluster.sh, started once for the suite by
 * scripts/with-test-servers.sh): where connections and sessions go, a
 * replica down and back, no replica healthy, echo and errors naming the
 * server, sessions reading on a replica until they write.
 *
 * Needs CALX_TEST_PG_PRIMARY_URL, CALX_TEST_PG_STANDBY1_URL,
 * CALX_TEST_PG_STANDBY2_URL and CALX_TEST_PG_CLUSTER_DIR; without them only
 * the cases that need no server run and the rest are skipped. The table
 * (sighting) is made on the primary and dropped at the end: the cluster
 * serves this program only (CTest's RESOURCE_LOCK calx_pg_cluster). A
 * standby whose replay a case pauses is resumed before the case ends. */
#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "calx.h"
#include "test.h"

#ifndef CALX_SOURCE_DIR
#define CALX_SOURCE_DIR "."
#endif

#define Sighting_FIELDS(F, M)                                                 \
    F(M, id,   OPT_INT64, NONE,     .primary_key = true)                      \
    F(M, name, TEXT,      REQUIRED)
CALX_MODEL(Sighting, "sighting")
CALX_MODEL_DEFINE(Sighting, "sighting")

#define Doctor_FIELDS(F, M)                                                   \
    F(M, id,      OPT_INT64, NONE,     .primary_key = true)                   \
    F(M, name,    TEXT,      REQUIRED)                                        \
    F(M, on_call, BOOL,      DEFAULT(true))
CALX_MODEL(Doctor, "doctor")
CALX_MODEL_DEFINE(Doctor, "doctor")

static const char *primary_url, *standby_url[2], *cluster_dir;
static PGconn *admin;                /* blocking libpq on the primary, for setup */
static const char *table = "sighting";
/* Nothing listens on port 1: a replica that refuses every connection. */
#define DEAD_URL "postgresql://calx@127.0.0.1:1/calx_test?connect_timeout=2"

static bool have_cluster(void)
{
    return primary_url && standby_url[0] && standby_url[1] && cluster_dir;
}

#define NEED_CLUSTER()                                                       \
    do {                                                                     \
        if (!have_cluster())                                                 \
            SKIP("CALX_TEST_PG_PRIMARY_URL and the standbys' URLs not set "  \
                 "(scripts/with-test-servers.sh starts the cluster)");       \
    } while (0)

static bool admin_exec(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "  admin: %s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

/* NOTICEs of DROP ... IF EXISTS: noise in the test's output. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs the cluster script (stop-standby / start-standby N). */
static bool cluster_cmd(const char *cmd, int n)
{
    char line[1024];
    snprintf(line, sizeof line, "sh %s/scripts/pg-test-cluster.sh %s %s %d", CALX_SOURCE_DIR,
             cmd, cluster_dir, n);
    int rc = system(line);
    if (rc != 0)
        fprintf(stderr, "  %s: exit %d\n", line, rc);
    return rc == 0;
}

/* Runs sql on standby n (1, 2) over a plain libpq connection. */
static bool standby_exec(int n, const char *sql)
{
    PGconn *sb = PQconnectdb(standby_url[n - 1]);
    bool ok = PQstatus(sb) == CONNECTION_OK && admin_exec(sb, sql);
    PQfinish(sb);
    return ok;
}

/* Waits until standby n (1, 2) has replayed everything the primary has
 * now: the tests' setup is then visible on both. */
static bool wait_replayed(int n)
{
    PGresult *r = PQexec(admin, "SELECT pg_current_wal_insert_lsn()");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return false;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT pg_last_wal_replay_lsn() >= '%s'", PQgetvalue(r, 0, 0));
    PQclear(r);
    PGconn *sb = PQconnectdb(standby_url[n - 1]);
    bool ok = false;
    for (int i = 0; i < 500 && PQstatus(sb) == CONNECTION_OK && !ok; i++) {
        PGresult *q = PQexec(sb, sql);
        ok = PQresultStatus(q) == PGRES_TUPLES_OK && PQgetvalue(q, 0, 0)[0] == 't';
        PQclear(q);
        if (!ok)
            nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    PQfinish(sb);
    if (!ok)
        fprintf(stderr, "  standby%d did not replay the primary's log\n", n);
    return ok;
}

static calx_engine *make_engine(calx_engine_opts o, const char *const *replicas, size_t n)
{
    calx_error err;
    o.replicas = replicas;
    o.nreplicas = n;
    calx_engine *e = calx_create_engine(primary_url, &o, &err);
    if (!e)
        fprintf(stderr, "  create_engine: %s\n", err.message);
    CHECK(e != NULL);
    return e;
}

static void free_engine(calx_engine *e)
{
    calx_engine_free(e);
    calx_loop_run(calx_loop_default());
}

static calx_connection *connect_to(calx_engine *e, bool replica)
{
    calx_error err;
    calx_connection *c = NULL;
    if (calx_wait(replica ? calx_engine_connect_replica(e, &err) : calx_engine_connect(e, &err),
                  &c, &err)) {
        fprintf(stderr, "  connect: %s\n", err.message);
        return NULL;
    }
    return c;
}

static int64_t query_int(calx_connection *c, const char *sql)
{
    calx_error err;
    calx_result *r = NULL;
    int64_t v = -999;
    if (calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        v = calx_row_int(calx_result_first(r), 0);
    else
        fprintf(stderr, "  %s: %s\n", sql, err.message);
    calx_result_free(r);
    return v;
}

/* The port of the server c is on: which of the three it reached. */
static int64_t server_port(calx_connection *c)
{
    return query_int(c, "SELECT inet_server_port()");
}

static int url_port(const char *url)
{
    const char *p = strrchr(url, ':');
    return p ? atoi(p + 1) : -1;
}

/* ---- no server needed ---- */

TEST(a_sqlite_engine_takes_no_replica_urls)
{
    calx_error err;
    const char *replicas[] = { "sqlite:///other.db" };
    calx_engine *e = calx_create_engine(
        "sqlite:///app.db", &(calx_engine_opts){ .replicas = replicas, .nreplicas = 1 }, &err);
    CHECK(e == NULL);
    CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
    CHECK_CONTAINS(err.message, "SQLite has no streaming replicas");
}

TEST(a_replica_url_must_name_the_primarys_database)
{
    calx_error err;
    const char *other[] = { "sqlite:///x.db" };
    calx_engine *e = calx_create_engine(
        "postgresql://u@127.0.0.1/db", &(calx_engine_opts){ .replicas = other, .nreplicas = 1 },
        &err);
    CHECK(e == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "replica 1's URL names sqlite, the primary's postgresql");

    const char *bad[] = { "postgresql://u@127.0.0.1/db", "postgresql://u@[::1/db" };
    e = calx_create_engine("postgresql://u@127.0.0.1/db",
                           &(calx_engine_opts){ .replicas = bad, .nreplicas = 2 }, &err);
    CHECK(e == NULL);
    CHECK_INT(err.code, CALX_ERR_URL);
    CHECK_CONTAINS(err.message, "replica 2");

    e = calx_create_engine("postgresql://u@127.0.0.1/db",
                           &(calx_engine_opts){ .replicas = NULL, .nreplicas = 1 }, &err);
    CHECK(e == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);

    e = calx_create_engine("postgresql://u@127.0.0.1/db",
                           &(calx_engine_opts){ .replicas = bad, .nreplicas = 1,
                                                .replica_retry_interval = -1 }, &err);
    CHECK(e == NULL);
    CHECK_CONTAINS(err.message, "replica_retry_interval");
}

/* ---- on the cluster ---- */

TEST(connect_goes_to_the_primary_and_connect_replica_to_each_replica_in_turn)
{
    NEED_CLUSTER();
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, standby_url, 2);
    if (!e)
        return;
    calx_connection *c = connect_to(e, false);
    CHECK(c && !calx_conn_is_replica(c));
    CHECK_INT(query_int(c, "SELECT CAST(pg_is_in_recovery() AS INTEGER)"), 0);
    CHECK_INT(server_port(c), url_port(primary_url));
    CHECK(strncmp(calx_conn_server(c), "primary (127.0.0.1:", 19) == 0);
    calx_conn_close(c);

    int seen[2] = { 0, 0 };
    for (int i = 0; i < 4; i++) {
        c = connect_to(e, true);
        CHECK(c && calx_conn_is_replica(c));
        if (!c)
            break;
        CHECK_INT(query_int(c, "SELECT CAST(pg_is_in_recovery() AS INTEGER)"), 1);
        int64_t port = server_port(c);
        int which = port == url_port(standby_url[0]) ? 0 : 1;
        CHECK_INT(port, url_port(standby_url[which]));
        char name[32];
        snprintf(name, sizeof name, "replica %d (127.0.0.1:", which + 1);
        CHECK(strncmp(calx_conn_server(c), name, strlen(name)) == 0);
        /* Round-robin: replica 1, 2, 1, 2. */
        CHECK_INT(which, i % 2);
        seen[which]++;
        calx_conn_close(c);
    }
    CHECK_INT(seen[0], 2);
    CHECK_INT(seen[1], 2);

    char *st = calx_engine_status(e);
    CHECK_CONTAINS(st, "primary (127.0.0.1:");
    CHECK_CONTAINS(st, "replica 1 (127.0.0.1:");
    CHECK_CONTAINS(st, "replica 2 (127.0.0.1:");
    CHECK_CONTAINS(st, "Connections in pool: 1");
    free(st);
    free_engine(e);
}

TEST(with_no_healthy_replica_connect_replica_falls_back_to_the_primary)
{
    NEED_CLUSTER();
    const char *dead[] = { DEAD_URL, DEAD_URL };
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, dead, 2);
    if (!e)
        return;
    calx_connection *c = connect_to(e, true);
    CHECK(c && !calx_conn_is_replica(c));
    CHECK_INT(server_port(c), url_port(primary_url));
    calx_conn_close(c);
    char *st = calx_engine_status(e);
    CHECK_CONTAINS(st, "replica 1 (127.0.0.1:1): Pool size: 5");
    CHECK_CONTAINS(st, "skipped for");
    free(st);
    free_engine(e);
}

TEST(a_replica_that_is_down_is_skipped_and_used_again_once_it_is_back)
{
    NEED_CLUSTER();
    calx_engine *e = make_engine((calx_engine_opts){ .pool_pre_ping = true,
                                                     .replica_retry_interval = 0.2 },
                                 standby_url, 2);
    if (!e)
        return;
    /* One idle connection in each replica's pool. */
    calx_connection *c1 = connect_to(e, true), *c2 = connect_to(e, true);
    CHECK(c1 && c2);
    calx_conn_close(c1);
    calx_conn_close(c2);
    if (!cluster_cmd("stop-standby", 2)) {
        free_engine(e);
        return;
    }
    /* standby2's idle connection is dead and no new one opens: every
     * replica read goes to standby1. */
    for (int i = 0; i < 3; i++) {
        calx_connection *c = connect_to(e, true);
        CHECK(c && calx_conn_is_replica(c));
        if (c)
            CHECK_INT(server_port(c), url_port(standby_url[0]));
        calx_conn_close(c);
    }
    char *st = calx_engine_status(e);
    CHECK_CONTAINS(st, "skipped for");
    free(st);
    CHECK(cluster_cmd("start-standby", 2));
    calx_error err;
    CHECK_OK(calx_wait(calx_sleep(calx_loop_default(), 300, &err), NULL, &err), &err);
    /* Past the retry interval, standby2 takes its turn again. */
    /* Within two turns, unless it is still starting up: then the next
     * retry interval, for at most 5 s. */
    bool back = false;
    for (int i = 0; i < 40 && !back; i++) {
        calx_connection *c = connect_to(e, true);
        back = c && server_port(c) == url_port(standby_url[1]);
        calx_conn_close(c);
        if (!back && i % 2 == 1)
            calx_wait(calx_sleep(calx_loop_default(), 250, &err), NULL, &err);
    }
    CHECK(back);
    free_engine(e);
}

/* What echo wrote, for the case that reads it. */
static char logbuf[1 << 16];

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    (void)udata;
    (void)level;
    (void)logger;
    size_t len = strlen(logbuf);
    snprintf(logbuf + len, sizeof logbuf - len, "%s\n", msg);
}

TEST(echo_and_errors_name_the_server_a_statement_went_to)
{
    NEED_CLUSTER();
    logbuf[0] = 0;
    calx_engine *e = make_engine((calx_engine_opts){ .echo = true, .log = capture },
                                 standby_url, 1);
    if (!e)
        return;
    calx_connection *c = connect_to(e, true);
    CHECK_INT(query_int(c, "SELECT 1"), 1);
    char want[128];
    snprintf(want, sizeof want, "[replica 1 (127.0.0.1:%d)] SELECT 1",
             url_port(standby_url[0]));
    CHECK_CONTAINS(logbuf, want);
    snprintf(want, sizeof want, "[replica 1 (127.0.0.1:%d)] BEGIN (implicit)",
             url_port(standby_url[0]));
    CHECK_CONTAINS(logbuf, want);
    /* A write on a standby: the server says it cannot, the error says where. */
    calx_error err;
    calx_result *r = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO %s (name) VALUES ('x')", table);
    CHECK_INT(calx_wait(calx_conn_execute(c, sql, NULL, &err), &r, &err), CALX_ERR_INTERNAL);
    CHECK_STR(err.sqlstate, "25006");   /* read_only_sql_transaction */
    snprintf(want, sizeof want, "[server: replica 1 (127.0.0.1:%d)]", url_port(standby_url[0]));
    CHECK_CONTAINS(err.message, want);
    calx_conn_close(c);

    c = connect_to(e, false);
    CHECK_INT(query_int(c, "SELECT 2"), 2);
    snprintf(want, sizeof want, "[primary (127.0.0.1:%d)] SELECT 2", url_port(primary_url));
    CHECK_CONTAINS(logbuf, want);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- sessions ---- */

/* The table empty on every server, then standby1's replay paused and a row
 * the session did not write ("by-admin") on the primary only: a read
 * that finds 0 rows went to standby1, 1 row to the primary. */
static bool lagging_standby1(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s", table);
    if (!admin_exec(admin, sql) || !wait_replayed(1) ||
        !standby_exec(1, "SELECT pg_wal_replay_pause()"))
        return false;
    snprintf(sql, sizeof sql, "INSERT INTO %s (name) VALUES ('by-admin')", table);
    return admin_exec(admin, sql);
}

static void resume_standby1(void)
{
    CHECK(standby_exec(1, "SELECT pg_wal_replay_resume()"));
}

static int64_t count_rows(calx_session *s, const calx_exec_opts *opts)
{
    calx_error err;
    calx_objlist l = { 0 };
    calx_select *q = calx_select_new(CALX_TABLE(Sighting));
    int rc = calx_session_execute(s, q, opts, &l, &err);
    calx_select_free(q);
    if (rc) {
        fprintf(stderr, "  query: %s\n", err.message);
        return -1;
    }
    int64_t n = (int64_t)l.n;
    calx_objlist_free(&l);
    return n;
}

typedef struct routing {
    calx_engine *e;
    int64_t counts[8];
    const char *where[8];
} routing;

static void *reads_then_write_task(void *arg)
{
    routing *x = arg;
    calx_error err;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = x->e }, &err);
    if (!s)
        return NULL;
    x->counts[0] = count_rows(s, NULL);          /* the replica: 0 */
    Sighting *o = CALX_NEW(Sighting, &err, .name = "by-session");
    if (o && calx_session_add(s, o, &err) == 0 && calx_session_flush(s, &err) == 0)
        x->counts[1] = count_rows(s, NULL);      /* the primary, in the transaction: 2 */
    else
        fprintf(stderr, "  add/flush: %s\n", err.message);
    calx_session_rollback(s, &err);
    x->counts[2] = count_rows(s, NULL);          /* a new transaction, replica: 0 */
    calx_session_commit(s, &err);
    calx_session_close(s, &err);
    calx_session_free(s);
    return NULL;
}

static void run_task(calx_task_fn fn, void *arg)
{
    calx_error err;
    CHECK_OK(calx_wait(calx_spawn(calx_loop_default(), fn, arg, NULL, &err), NULL, &err), &err);
}

TEST(a_session_reads_on_a_replica_until_it_writes_and_then_on_the_primary)
{
    NEED_CLUSTER();
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, standby_url, 1);
    if (!e)
        return;
    if (lagging_standby1()) {
        routing x = { .e = e };
        run_task(reads_then_write_task, &x);
        CHECK_INT(x.counts[0], 0);
        CHECK_INT(x.counts[1], 2);
        CHECK_INT(x.counts[2], 0);
    }
    resume_standby1();
    free_engine(e);
}

static void *pinned_task(void *arg)
{
    routing *x = arg;
    calx_error err;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = x->e, .use_primary = true },
                                       &err);
    x->counts[0] = count_rows(s, NULL);          /* pinned session: primary, 1 */
    calx_session_close(s, &err);
    calx_session_free(s);

    s = calx_session_new(&(calx_session_opts){ .bind = x->e }, &err);
    x->counts[1] = count_rows(s, NULL);          /* replica: 0 */
    x->counts[2] = count_rows(s, &(calx_exec_opts){ .use_primary = true });   /* 1 */
    x->counts[3] = count_rows(s, NULL);          /* the transaction moved: 1 */
    calx_session_commit(s, &err);
    x->counts[4] = count_rows(s, NULL);          /* a new one, on the replica: 0 */
    calx_session_close(s, &err);
    calx_session_free(s);
    return NULL;
}

TEST(a_session_or_one_query_pinned_to_the_primary_reads_there)
{
    NEED_CLUSTER();
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, standby_url, 1);
    if (!e)
        return;
    if (lagging_standby1()) {
        routing x = { .e = e };
        run_task(pinned_task, &x);
        CHECK_INT(x.counts[0], 1);
        CHECK_INT(x.counts[1], 0);
        CHECK_INT(x.counts[2], 1);
        CHECK_INT(x.counts[3], 1);
        CHECK_INT(x.counts[4], 0);
    }
    resume_standby1();
    free_engine(e);
}

/* ---- read-your-writes ---- */

typedef struct ryw {
    calx_engine *e;
    calx_session_opts opts;        /* the writer's */
    calx_session_opts reader;      /* the reader's, carrying the token */
    int64_t plain, own, carried;   /* rows each read saw */
    char token[CALX_CAUSAL_TOKEN_SIZE];
    int resume_after_ms;           /* >0: standby1 resumes while the reads wait */
    int sleep_ms;                  /* >0: a pause before the writer reads */
} ryw;

static int64_t count_in_new_session(const calx_session_opts *o, const char *token)
{
    calx_error err;
    calx_session *s = calx_session_new(o, &err);
    if (!s)
        return -1;
    if (token && calx_session_set_causal_token(s, token, &err))
        fprintf(stderr, "  set token: %s\n", err.message);
    int64_t n = count_rows(s, NULL);
    calx_session_close(s, &err);
    calx_session_free(s);
    return n;
}

static void *resume_later_task(void *arg)
{
    int ms = *(int *)arg;
    calx_error err;
    calx_await(calx_sleep(calx_loop_default(), (uint64_t)ms, &err), NULL, &err);
    /* Blocking libpq inside the loop: a few milliseconds, test only. */
    standby_exec(1, "SELECT pg_wal_replay_resume()");
    return NULL;
}

static void *ryw_task(void *arg)
{
    ryw *x = arg;
    calx_error err;
    calx_session *s = calx_session_new(&x->opts, &err);
    Sighting *o = CALX_NEW(Sighting, &err, .name = "written");
    if (!s || !o || calx_session_add(s, o, &err) || calx_session_commit(s, &err)) {
        fprintf(stderr, "  write: %s\n", err.message);
        calx_session_free(s);
        return NULL;
    }
    if (calx_session_causal_token(s))
        snprintf(x->token, sizeof x->token, "%s", calx_session_causal_token(s));
    /* Another session, no read-your-writes: the paused replica. */
    x->plain = count_in_new_session(&(calx_session_opts){ .bind = x->e }, NULL);
    calx_future *resumer = NULL;
    if (x->resume_after_ms)
        resumer = calx_spawn(calx_loop_default(), resume_later_task, &x->resume_after_ms,
                             NULL, &err);
    if (x->sleep_ms)
        calx_await(calx_sleep(calx_loop_default(), (uint64_t)x->sleep_ms, &err), NULL, &err);
    x->own = count_rows(s, NULL);
    x->carried = count_in_new_session(&x->reader, x->token[0] ? x->token : NULL);
    if (resumer)
        calx_await(resumer, NULL, &err);
    calx_session_close(s, &err);
    calx_session_free(s);
    return NULL;
}

/* The table empty everywhere, standby1 paused: the write that follows is
 * on the primary only until replay resumes. */
static bool paused_standby1(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s", table);
    return admin_exec(admin, sql) && wait_replayed(1) &&
           standby_exec(1, "SELECT pg_wal_replay_pause()");
}

TEST(read_your_writes_by_time_reads_on_the_primary_for_a_while_after_a_write)
{
    NEED_CLUSTER();
    calx_engine *e = make_engine((calx_engine_opts){ 0 }, standby_url, 1);
    if (!e)
        return;
    if (paused_standby1()) {
        ryw x = { .e = e };
        x.opts = (calx_session_opts){ .bind = e, .primary_after_write = 60 };
        x.reader = (calx_session_opts){ .bind = e, .primary_after_write = 60 };
        run_task(ryw_task, &x);
        CHECK_INT(x.plain, 0);      /* the replica has not replayed the write */
        CHECK_INT(x.own, 1);        /* the writer reads on the primary */
        CHECK_INT(x.carried, 0);    /* another session never wrote: the replica */
        CHECK(x.token[0] == 0);     /* no causal_reads: no position asked for */

        /* Once primary_after_write has passed, reads are the replica's again. */
        x = (ryw){ .e = e, .sleep_ms = 150 };
        x.opts = (calx_session_opts){ .bind = e, .primary_after_write = 0.1 };
        x.reader = x.opts;
        run_task(ryw_task, &x);
        CHECK_INT(x.own, 0);
    }
    resume_standby1();
    free_engine(e);
}

/* A write with causal_reads and the reads after it (ryw_task) on an
 * engine that echoes into logbuf, standby1 paused (resumed after
 * resume_ms when not 0). The engine, or NULL (the case then fails). The
 * caller resumes standby1 and frees the engine. */
static calx_engine *causal_run(double timeout, int resume_ms, ryw *x)
{
    logbuf[0] = 0;
    calx_engine *e = make_engine((calx_engine_opts){ .echo = true, .log = capture },
                                 standby_url, 1);
    if (!e || !paused_standby1()) {
        CHECK(!"the cluster could not be set up");
        resume_standby1();
        if (e)
            free_engine(e);
        return NULL;
    }
    *x = (ryw){ .e = e, .resume_after_ms = resume_ms };
    x->opts = (calx_session_opts){ .bind = e, .causal_reads = true, .causal_timeout = timeout };
    x->reader = x->opts;
    run_task(ryw_task, x);
    return e;
}

TEST(read_your_writes_by_log_position_falls_back_to_the_primary_after_the_timeout)
{
    NEED_CLUSTER();
    ryw x;
    calx_engine *e = causal_run(0.2, 0, &x);
    if (e) {
        CHECK(x.token[0] != 0);
        CHECK_INT(x.plain, 0);      /* a plain read on the paused replica misses it */
        CHECK_INT(x.own, 1);        /* waited 0.2 s, then read on the primary */
        CHECK_INT(x.carried, 1);    /* the token carried to another session: the same */
        /* The waits asked the replica, then gave up on it. */
        char want[128];
        snprintf(want, sizeof want, "[replica 1 (127.0.0.1:%d)] SELECT coalesce("
                 "pg_last_wal_replay_lsn()", url_port(standby_url[0]));
        CHECK_CONTAINS(logbuf, want);
        resume_standby1();
        free_engine(e);
    }
}

TEST(read_your_writes_by_log_position_reads_on_the_replica_once_it_has_replayed)
{
    NEED_CLUSTER();
    ryw x;
    calx_engine *e = causal_run(10, 100, &x);
    if (e) {
        CHECK_INT(x.plain, 0);
        CHECK_INT(x.own, 1);        /* waited for the replay, then read there */
        CHECK_INT(x.carried, 1);
        /* Both reads ran on the replica: no SELECT of the table on the primary. */
        char want[128];
        snprintf(want, sizeof want, "[replica 1 (127.0.0.1:%d)] SELECT sighting.id",
                 url_port(standby_url[0]));
        CHECK_CONTAINS(logbuf, want);
        snprintf(want, sizeof want, "[primary (127.0.0.1:%d)] SELECT sighting.id",
                 url_port(primary_url));
        CHECK(strstr(logbuf, want) == NULL);
        resume_standby1();
        free_engine(e);
    }
}

TEST(a_causal_token_is_checked_before_it_is_kept)
{
    calx_error err;
    calx_engine *e = calx_create_engine("sqlite:///:memory:", NULL, &err);
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = e }, &err);
    CHECK_INT(calx_session_set_causal_token(s, "0/1", &err), CALX_ERR_NOT_SUPPORTED);
    CHECK(calx_session_causal_token(s) == NULL);
    calx_session_free(s);
    calx_engine_free(e);
    CHECK_INT(calx_session_set_causal_token(NULL, "0/1", &err), CALX_ERR_ARGUMENT);
    CHECK(calx_session_new(&(calx_session_opts){ .bind = e, .causal_timeout = -1 }, &err) ==
          NULL);
    CHECK_CONTAINS(err.message, "causal_timeout");

    e = calx_create_engine("postgresql://u@127.0.0.1/db", NULL, &err);
    s = calx_session_new(&(calx_session_opts){ .bind = e }, &err);
    CHECK_OK(calx_session_set_causal_token(s, "0/3000148", &err), &err);
    CHECK_STR(calx_session_causal_token(s), "0/3000148");
    CHECK_INT(calx_session_set_causal_token(s, "0/1; DROP", &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "character 5");
    char longer[CALX_CAUSAL_TOKEN_SIZE + 1];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    CHECK_INT(calx_session_set_causal_token(s, longer, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(calx_session_causal_token(s), "0/3000148");   /* kept as it was */
    CHECK_OK(calx_session_set_causal_token(s, NULL, &err), &err);
    CHECK(calx_session_causal_token(s) == NULL);
    calx_session_free(s);
    free_engine(e);
}

/* ---- retrying a transaction ---- */

static int64_t admin_int(const char *sql)
{
    PGresult *r = PQexec(admin, sql);
    int64_t v = -999;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "  admin: %s: %s", sql, PQerrorMessage(admin));
    PQclear(r);
    return v;
}

/* Two doctors on call, alice (id 1) and bob (id 2). */
static bool two_doctors(void)
{
    return admin_exec(admin, "DROP TABLE IF EXISTS doctor; CREATE TABLE doctor (id bigserial "
                             "PRIMARY KEY, name text NOT NULL, on_call boolean NOT NULL); "
                             "INSERT INTO doctor (name, on_call) VALUES ('alice', true), "
                             "('bob', true)");
}

/* An engine on url (the primary's, no replicas) over two_doctors(); NULL
 * (the case fails) when either cannot be had. */
static calx_engine *doctors_engine(const char *url, calx_engine_opts o)
{
    calx_error err;
    calx_engine *e = calx_create_engine(url, &o, &err);
    if (!e)
        fprintf(stderr, "  create_engine: %s\n", err.message);
    if (e && !two_doctors()) {
        free_engine(e);
        e = NULL;
    }
    CHECK(e != NULL);
    return e;
}

typedef struct txn {
    calx_engine *e;
    int me;                   /* 1: alice, 2: bob */
    int runs;                 /* times fn ran */
    int *met;                 /* the first runs' meeting point */
    int rc, attempts;
    calx_error err;
} txn;

/* Waits (bounded) until *met reaches 2: both transactions are there. */
static int meet(int *met, calx_error *err)
{
    (*met)++;
    for (int i = 0; i < 1000 && *met < 2; i++) {
        int rc = calx_await(calx_sleep(calx_loop_default(), 5, err), NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Write skew: a doctor goes off call when two are on call. Two such
 * transactions, each reading before the other writes, would leave nobody
 * on call; SERIALIZABLE fails one of them (40001). */
static int go_off_call(calx_session *s, void *arg, calx_error *err)
{
    txn *t = arg;
    t->runs++;
    calx_objlist l = { 0 };
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Doctor)),
                                       calx_eq(CALX_C(Doctor, on_call), calx_bool(true)));
    int rc = calx_session_all(s, q, &l, err);
    calx_select_free(q);
    if (!rc && t->runs == 1)
        rc = meet(t->met, err);
    if (!rc && l.n >= 2)
        for (size_t i = 0; i < l.n; i++) {
            Doctor *d = l.items[i];
            if (d->id.value == t->me)
                d->on_call = false;
        }
    calx_objlist_free(&l);
    return rc;
}

/* A deadlock: alice's transaction renames alice then bob, bob's bob then
 * alice, each flushing its first UPDATE before either sends its second. */
static int rename_both(calx_session *s, void *arg, calx_error *err)
{
    txn *t = arg;
    t->runs++;
    for (int k = 0; k < 2; k++) {
        int id = k == 0 ? t->me : 3 - t->me;
        Doctor *d = NULL;
        int rc = CALX_GET_ONE(s, Doctor, calx_int(id), &d, err);
        if (rc)
            return rc;
        d->name = t->me == 1 ? "by-alice" : "by-bob";
        if ((rc = calx_session_flush(s, err)))
            return rc;
        if (k == 0 && t->runs == 1 && (rc = meet(t->met, err)))
            return rc;
    }
    return 0;
}

typedef struct txn_run {
    txn *t;
    calx_transaction_fn fn;
} txn_run;

static void *txn_task(void *arg)
{
    txn_run *r = arg;
    txn *t = r->t;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = t->e }, &t->err);
    t->rc = calx_session_run_transaction(s, r->fn, t,
                                         &(calx_retry_opts){ .attempts = &t->attempts },
                                         &t->err);
    calx_error e2;
    calx_session_close(s, &e2);
    calx_session_free(s);
    return NULL;
}

/* Runs fn for alice and bob at once, in two tasks. */
static void run_pair(calx_engine *e, calx_transaction_fn fn, txn t[2])
{
    static int met;
    met = 0;
    txn_run r[2];
    calx_future *f[2];
    calx_error err;
    for (int i = 0; i < 2; i++) {
        t[i] = (txn){ .e = e, .me = i + 1, .met = &met };
        r[i] = (txn_run){ &t[i], fn };
        f[i] = calx_spawn(calx_loop_default(), txn_task, &r[i], NULL, &err);
    }
    for (int i = 0; i < 2; i++)
        CHECK_OK(calx_wait(f[i], NULL, &err), &err);
    for (int i = 0; i < 2; i++)
        if (t[i].rc)
            fprintf(stderr, "  transaction %d: %s\n", i + 1, t[i].err.message);
}

TEST(the_retry_helper_runs_a_transaction_again_after_a_real_serialization_failure)
{
    NEED_CLUSTER();
    calx_engine *e = doctors_engine(primary_url,
                                    (calx_engine_opts){ .isolation_level = "SERIALIZABLE" });
    if (!e)
        return;
    txn t[2];
    run_pair(e, go_off_call, t);
    CHECK_INT(t[0].rc, 0);
    CHECK_INT(t[1].rc, 0);
    /* One of them failed with 40001 and ran again, seeing one on call. */
    CHECK(t[0].attempts + t[1].attempts >= 3);
    CHECK_INT(admin_int("SELECT count(*) FROM doctor WHERE on_call"), 1);
    free_engine(e);
}

TEST(the_retry_helper_runs_a_transaction_again_after_a_real_deadlock)
{
    NEED_CLUSTER();
    /* The server looks for deadlocks after 50 ms, not its default 1 s. */
    char url[512];
    snprintf(url, sizeof url, "%s?options=-cdeadlock_timeout%%3D50", primary_url);
    calx_engine *e = doctors_engine(url, (calx_engine_opts){ 0 });
    if (!e)
        return;
    txn t[2];
    run_pair(e, rename_both, t);
    CHECK_INT(t[0].rc, 0);
    CHECK_INT(t[1].rc, 0);
    /* One was chosen as the deadlock's victim (40P01) and ran again after
     * the other committed: both rows are that one's. */
    CHECK_INT(t[0].attempts + t[1].attempts, 3);
    int victim = t[0].attempts == 2 ? 1 : 2;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM doctor WHERE name = 'by-%s'",
             victim == 1 ? "alice" : "bob");
    CHECK_INT(admin_int(sql), 2);
    free_engine(e);
}

static int add_doctor(calx_session *s, void *arg, calx_error *err)
{
    txn *t = arg;
    t->runs++;
    Doctor *d = CALX_NEW(Doctor, err, .name = "carol");
    if (!d)
        return err->code;
    int rc = calx_session_add(s, d, err);
    if (rc || t->me != 3 || t->runs > 1)
        return rc;
    /* Lose the connection mid-transaction, before the COMMIT: flush, have
     * the server end the backend, flush again. */
    if ((rc = calx_session_flush(s, err)))
        return rc;
    admin_exec(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                      "state = 'idle in transaction' AND datname = current_database() "
                      "AND pid <> pg_backend_pid()");
    d = CALX_NEW(Doctor, err, .name = "carol");
    if (!d || (rc = calx_session_add(s, d, err)))
        return err->code;
    return calx_session_flush(s, err);
}

TEST(the_retry_helper_runs_again_after_a_disconnect_before_the_commit)
{
    NEED_CLUSTER();
    calx_engine *e = doctors_engine(primary_url, (calx_engine_opts){ 0 });
    if (!e)
        return;
    txn t = { .e = e, .me = 3 };
    txn_run r = { &t, add_doctor };
    run_task(txn_task, &r);
    CHECK_INT(t.rc, 0);
    CHECK_INT(t.attempts, 2);
    /* The first attempt's rows went with its connection; the second's
     * one row is there. */
    CHECK_INT(admin_int("SELECT count(*) FROM doctor WHERE name = 'carol'"), 1);
    free_engine(e);
}

static void *terminate_sync_waiters_task(void *arg)
{
    (void)arg;
    calx_error err;
    /* The COMMIT waits for the stopped synchronous standby; end it. */
    for (int i = 0; i < 200; i++) {
        calx_await(calx_sleep(calx_loop_default(), 20, &err), NULL, &err);
        if (admin_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE wait_event = 'SyncRep'") > 0)
            break;
    }
    return NULL;
}

TEST(the_retry_helper_never_runs_again_once_the_commit_may_have_succeeded)
{
    NEED_CLUSTER();
    calx_engine *e = doctors_engine(primary_url, (calx_engine_opts){ 0 });
    if (!e)
        return;
    /* With the synchronous standby down, the primary commits locally and
     * waits for it before answering: the answer is then cut off. */
    if (cluster_cmd("stop-standby", 1)) {
        calx_error err;
        calx_future *killer = calx_spawn(calx_loop_default(), terminate_sync_waiters_task,
                                         NULL, NULL, &err);
        txn t = { .e = e, .me = 4 };
        txn_run r = { &t, add_doctor };
        run_task(txn_task, &r);
        CHECK_OK(calx_wait(killer, NULL, &err), &err);
        CHECK_INT(t.rc, CALX_ERR_AMBIGUOUS_COMMIT);
        CHECK_CONTAINS(t.err.message, "may have committed");
        CHECK_INT(t.attempts, 1);
        /* It had committed: running it again would have added carol twice. */
        CHECK_INT(admin_int("SELECT count(*) FROM doctor WHERE name = 'carol'"), 1);
        CHECK(cluster_cmd("start-standby", 1));
    }
    free_engine(e);
}

int main(void)
{
    RUN(a_sqlite_engine_takes_no_replica_urls);
    RUN(a_replica_url_must_name_the_primarys_database);
    RUN(a_causal_token_is_checked_before_it_is_kept);
    primary_url = getenv("CALX_TEST_PG_PRIMARY_URL");
    standby_url[0] = getenv("CALX_TEST_PG_STANDBY1_URL");
    standby_url[1] = getenv("CALX_TEST_PG_STANDBY2_URL");
    cluster_dir = getenv("CALX_TEST_PG_CLUSTER_DIR");
    if (have_cluster()) {
        admin = PQconnectdb(primary_url);
        if (PQstatus(admin) != CONNECTION_OK) {
            fprintf(stderr, "cannot connect to CALX_TEST_PG_PRIMARY_URL (%s): %s", primary_url,
                    PQerrorMessage(admin));
            PQfinish(admin);
            return 1;
        }
        PQsetNoticeProcessor(admin, quiet, NULL);
        /* A run killed midway may have left standby1 paused. */
        standby_exec(1, "SELECT pg_wal_replay_resume()");
        char sql[256];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id bigserial "
                 "PRIMARY KEY, name text NOT NULL)", table, table);
        /* A run killed midway may have left standby1 stopped. */
        if (!standby_exec(1, "SELECT 1"))
            cluster_cmd("start-standby", 1);
        if (!admin_exec(admin, sql) || !wait_replayed(1) || !wait_replayed(2))
            return 1;
    }
    RUN(connect_goes_to_the_primary_and_connect_replica_to_each_replica_in_turn);
    RUN(with_no_healthy_replica_connect_replica_falls_back_to_the_primary);
    RUN(a_replica_that_is_down_is_skipped_and_used_again_once_it_is_back);
    RUN(echo_and_errors_name_the_server_a_statement_went_to);
    RUN(a_session_reads_on_a_replica_until_it_writes_and_then_on_the_primary);
    RUN(a_session_or_one_query_pinned_to_the_primary_reads_there);
    RUN(read_your_writes_by_time_reads_on_the_primary_for_a_while_after_a_write);
    RUN(read_your_writes_by_log_position_falls_back_to_the_primary_after_the_timeout);
    RUN(read_your_writes_by_log_position_reads_on_the_replica_once_it_has_replayed);
    RUN(the_retry_helper_runs_a_transaction_again_after_a_real_serialization_failure);
    RUN(the_retry_helper_runs_a_transaction_again_after_a_real_deadlock);
    RUN(the_retry_helper_runs_again_after_a_disconnect_before_the_commit);
    RUN(the_retry_helper_never_runs_again_once_the_commit_may_have_succeeded);
    if (admin) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS doctor", table);
        admin_exec(admin, sql);
        PQfinish(admin);
    }
    calx_loop_free_default();
    return TEST_REPORT();
}
