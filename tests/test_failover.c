/* SPDX-License-Identifier: MIT */
/* Failover on a real cluster, under load: WRITERS tasks commit rows, one
 * transaction each at a time, through an engine whose URL lists the
 * primary and standby1 with target_session_attrs=read-write; the primary
 * is killed mid-stream and standby1 (the synchronous one) promoted. The
 * statements in flight fail with CALX_ERR_DISCONNECT, the pool replaces
 * its connections, new transactions commit on the new primary with no
 * restart, and every commit acknowledged before the failure is there.
 *
 * The failover destroys the cluster's topology, so this program starts a
 * small cluster of its own (scripts/pg-test-cluster.sh in a temporary
 * directory) rather than the suite's. It runs where the suite's cluster
 * could start: without CALX_TEST_PG_PRIMARY_URL it is skipped. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "calx.h"
#include "test.h"

#ifndef CALX_SOURCE_DIR
#define CALX_SOURCE_DIR "."
#endif

#define WRITERS 8                 /* tasks writing at once, more than the pool's 5 */
#define MAX_ROWS 20000            /* per writer */
#define AFTER_FAILOVER 20         /* commits wanted on the new primary, in all */

static char dir[128];
static char primary[256], standby1[256];

static bool cluster(const char *cmd, const char *n)
{
    char line[512];
    snprintf(line, sizeof line, "sh %s/scripts/pg-test-cluster.sh %s %s %s >/dev/null",
             CALX_SOURCE_DIR, cmd, dir, n ? n : "");
    int rc = system(line);
    if (rc != 0)
        fprintf(stderr, "  %s: exit %d\n", line, rc);
    return rc == 0;
}

/* VAR=value from the cluster's env file. */
static bool read_env(const char *var, char *out, size_t n)
{
    char path[256], line[512];
    snprintf(path, sizeof path, "%.200s/env", dir);
    FILE *f = fopen(path, "r");
    bool found = false;
    size_t len = strlen(var);
    while (f && !found && fgets(line, sizeof line, f))
        if (strncmp(line, var, len) == 0 && line[len] == '=') {
            snprintf(out, n, "%.*s", (int)strcspn(line + len + 1, "\n"), line + len + 1);
            found = true;
        }
    if (f)
        fclose(f);
    return found;
}

typedef struct writer {
    int64_t first;                /* this writer's values are first, first + 1, ... */
    int64_t acked[MAX_ROWS];      /* values whose COMMIT was acknowledged */
    int nacked;
    int after;                    /* commits acknowledged after the kill */
    int disconnects, other_errors;
    calx_error last;
} writer;

static struct {
    calx_engine *e;
    bool stop, killed;
    writer w[WRITERS];
} run;

/* Sums of every writer's counts. */
static int total_acked(void)
{
    int n = 0;
    for (int k = 0; k < WRITERS; k++)
        n += run.w[k].nacked;
    return n;
}

static int total_after(void)
{
    int n = 0;
    for (int k = 0; k < WRITERS; k++)
        n += run.w[k].after;
    return n;
}

/* One row per transaction, as fast as they go, until stop. */
static void *writer_task(void *arg)
{
    writer *w = arg;
    calx_error err;
    calx_connection *c = NULL;
    for (int64_t n = w->first; !run.stop && w->nacked < MAX_ROWS; n++) {
        int rc = 0;
        if (!c)
            rc = calx_await(calx_engine_connect(run.e, &err), &c, &err);
        calx_result *r = NULL;
        if (!rc)
            rc = calx_await(calx_conn_execute(c, "INSERT INTO failover (n) VALUES (:n)",
                                              CALX_PARAMS(CALX_P("n", calx_int(n))), &err),
                            &r, &err);
        calx_result_free(r);
        if (!rc)
            rc = calx_await(calx_conn_commit(c, &err), NULL, &err);
        if (!rc) {
            w->acked[w->nacked++] = n;
            w->after += run.killed;
            continue;
        }
        /* The connection is gone (the pool invalidated it) or was never
         * had: the next attempt checks a new one out. */
        if (err.code == CALX_ERR_DISCONNECT)
            w->disconnects++;
        else
            w->other_errors++;
        w->last = err;
        calx_conn_close(c);
        c = NULL;
        calx_await(calx_sleep(calx_loop_default(), 20, &err), NULL, &err);
    }
    calx_conn_close(c);
    return NULL;
}

/* Kills the primary once the writer is well under way, promotes
 * standby1, and stops the writer once it has committed on the new
 * primary (or 15 s passed). */
static void *failover_task(void *arg)
{
    (void)arg;
    calx_error err;
    for (int i = 0; i < 200 && total_acked() < 50 * WRITERS; i++)
        calx_await(calx_sleep(calx_loop_default(), 10, &err), NULL, &err);
    /* Blocking the loop here is the point: the writers' statements are in
     * flight when the server goes. */
    run.killed = true;
    CHECK(cluster("kill-primary", NULL));
    CHECK(cluster("promote", "1"));
    for (int i = 0; i < 1500 && total_after() < AFTER_FAILOVER; i++)
        calx_await(calx_sleep(calx_loop_default(), 10, &err), NULL, &err);
    run.stop = true;
    return NULL;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(after_the_primary_dies_and_a_standby_is_promoted_new_transactions_commit_and_none_acknowledged_is_lost)
{
    if (!getenv("CALX_TEST_PG_PRIMARY_URL"))
        SKIP("CALX_TEST_PG_PRIMARY_URL not set (scripts/with-test-servers.sh): no cluster here");
    snprintf(dir, sizeof dir, "/tmp/calx-failover.XXXXXX");
    if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
        CHECK(!"a temporary directory");
        return;
    }
    char cdir[64];
    snprintf(cdir, sizeof cdir, "%.60s", dir);
    snprintf(dir, sizeof dir, "%s/c", cdir);
    if (!cluster("start", NULL) || !read_env("CALX_TEST_PG_PRIMARY_URL", primary, sizeof primary) ||
        !read_env("CALX_TEST_PG_STANDBY1_URL", standby1, sizeof standby1)) {
        CHECK(!"the failover cluster did not start");
        cluster("stop", NULL);
        rmdir(cdir);
        return;
    }
    PGconn *pg = PQconnectdb(primary);
    PGresult *res = PQexec(pg, "CREATE TABLE failover (id bigserial PRIMARY KEY, n bigint)");
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(pg);

    /* Both hosts, the writable one wanted: libpq skips the one that is
     * down or read-only. */
    char url[512];
    const char *p1 = strrchr(primary, ':'), *p2 = strrchr(standby1, ':');
    snprintf(url, sizeof url, "postgresql://calx@127.0.0.1:%d,127.0.0.1:%d/calx_test"
             "?target_session_attrs=read-write&connect_timeout=2", atoi(p1 + 1), atoi(p2 + 1));
    calx_error err;
    calx_engine *e = calx_create_engine(url, &(calx_engine_opts){ .pool_pre_ping = true,
                                                                   .pool_timeout = 5 }, &err);
    CHECK(e != NULL);
    memset(&run, 0, sizeof run);
    run.e = e;
    calx_future *wf[WRITERS] = { 0 };
    for (int k = 0; e && k < WRITERS; k++) {
        run.w[k].first = (int64_t)k * 1000000 + 1;
        wf[k] = calx_spawn(calx_loop_default(), writer_task, &run.w[k], NULL, &err);
        CHECK(wf[k] != NULL);
    }
    calx_future *ff = e ? calx_spawn(calx_loop_default(), failover_task, NULL, NULL, &err) : NULL;
    if (ff)
        CHECK_OK(calx_wait(ff, NULL, &err), &err);
    for (int k = 0; k < WRITERS; k++)
        if (wf[k])
            CHECK_OK(calx_wait(wf[k], NULL, &err), &err);
    /* The writes in flight when the primary died failed as disconnects;
     * then writes went on, on the promoted standby. */
    int disconnects = 0, nacked = total_acked(), after = total_after();
    for (int k = 0; k < WRITERS; k++)
        disconnects += run.w[k].disconnects;
    CHECK(disconnects >= 1);
    CHECK(after >= AFTER_FAILOVER);
    if (after < AFTER_FAILOVER)
        fprintf(stderr, "  last error: %s\n", run.w[0].last.message);

    /* Every acknowledged commit is on the new primary (standby1 was
     * synchronous), and nothing else but at most the in-flight ones. */
    pg = PQconnectdb(standby1);
    res = PQexec(pg, "SELECT n FROM failover ORDER BY n");
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
    int rows = PQntuples(res), missing = 0;
    int64_t *have = malloc((rows ? rows : 1) * sizeof *have);
    for (int j = 0; have && j < rows; j++)
        have[j] = strtoll(PQgetvalue(res, j, 0), NULL, 10);
    for (int k = 0; have && k < WRITERS; k++)
        for (int i = 0; i < run.w[k].nacked; i++)
            missing += !bsearch(&run.w[k].acked[i], have, (size_t)rows, sizeof *have, cmp_int64);
    free(have);
    CHECK_INT(missing, 0);
    CHECK(rows >= nacked);
    printf("  %d writers: %d commits acknowledged (%d after the failover), %d on the new "
           "primary, %d disconnects\n", WRITERS, nacked, after, rows, disconnects);
    PQclear(res);
    PQfinish(pg);
    calx_engine_free(e);
    calx_loop_run(calx_loop_default());
    cluster("stop", NULL);
    rmdir(cdir);
}

int main(void)
{
    RUN(after_the_primary_dies_and_a_standby_is_promoted_new_transactions_commit_and_none_acknowledged_is_lost);
    calx_loop_free_default();
    return TEST_REPORT();
}
