/* The calx demo: an engine on an embedded SQLite file with echo on, 50
 * concurrent tasks sharing a pool of 5 (+2 overflow), one transaction
 * committed and one rolled back, and the pool's status at the end.
 *
 *     make demo                        (runs this on build/demo.db, WAL mode)
 *     DATABASE_URL=sqlite:///other.db ./demo
 */
#include <stdio.h>
#include <stdlib.h>

#include "calx.h"

#define NTASKS 50

static calx_engine *engine;

static int die(const char *what, const calx_error *err)
{
    fprintf(stderr, "demo: %s: %s: %s\n", what, calx_errcode_name(err->code), err->message);
    return 1;
}

/* One task: check out a connection, record a visit, read the count, commit. */
static void *visitor(void *arg)
{
    intptr_t id = (intptr_t)arg;
    calx_error err;
    calx_connection *conn;
    if (calx_await(calx_engine_connect(engine, &err), &conn, &err))
        return (void *)(intptr_t)die("connect", &err);
    calx_result *r = NULL;
    int rc = calx_await(calx_conn_execute(conn, "INSERT INTO visit (task, note) VALUES (:task, :note)",
                                          CALX_PARAMS(CALX_P("task", calx_int(id)),
                                                      CALX_P("note", calx_text("hello"))),
                                          &err), &r, &err);
    calx_result_free(r);
    if (rc == 0)
        rc = calx_await(calx_conn_commit(conn, &err), NULL, &err);
    if (rc)
        die("visit", &err);
    calx_conn_close(conn);
    return (void *)(intptr_t)rc;
}

static void *run(void *unused)
{
    calx_error err;
    calx_connection *conn;
    calx_result *r = NULL;
    if (calx_await(calx_engine_connect(engine, &err), &conn, &err))
        return (void *)(intptr_t)die("connect", &err);

    /* Set up, and commit. */
    if (calx_await(calx_conn_execute(conn, "DROP TABLE IF EXISTS visit", NULL, &err), &r, &err) ||
        (calx_result_free(r), 0) ||
        calx_await(calx_conn_execute(conn,
                                     "CREATE TABLE visit (id INTEGER PRIMARY KEY, task INTEGER "
                                     "NOT NULL, note TEXT)", NULL, &err), &r, &err) ||
        (calx_result_free(r), 0) ||
        calx_await(calx_conn_commit(conn, &err), NULL, &err))
        return (void *)(intptr_t)die("create table", &err);

    /* A transaction rolled back: its row never lands. */
    if (calx_await(calx_conn_execute(conn, "INSERT INTO visit (task, note) VALUES (?, ?)",
                                     CALX_PARAMS(CALX_V(calx_int(-1)),
                                                 CALX_V(calx_text("rolled back"))), &err),
                   &r, &err))
        return (void *)(intptr_t)die("insert", &err);
    calx_result_free(r);
    if (calx_await(calx_conn_rollback(conn, &err), NULL, &err))
        return (void *)(intptr_t)die("rollback", &err);
    calx_conn_close(conn);

    /* 50 tasks over a pool of 5 + 2 overflow: the rest queue in order. */
    calx_future *tasks[NTASKS];
    for (intptr_t i = 0; i < NTASKS; i++)
        tasks[i] = calx_spawn(calx_loop_default(), visitor, (void *)i, NULL, &err);
    int failed = 0;
    for (int i = 0; i < NTASKS; i++) {
        void *rc = NULL;
        if (calx_await(tasks[i], &rc, &err) || rc)
            failed++;
    }

    if (calx_await(calx_engine_connect(engine, &err), &conn, &err))
        return (void *)(intptr_t)die("connect", &err);
    if (calx_await(calx_conn_execute(conn, "SELECT count(*) AS n, count(DISTINCT task) AS tasks, "
                                           "sum(task < 0) AS rolled_back FROM visit",
                                     NULL, &err), &r, &err))
        return (void *)(intptr_t)die("count", &err);
    const calx_row *row = calx_result_first(r);
    printf("\nvisits: %lld from %lld tasks (%d failed); rows from the rolled-back "
           "transaction: %lld\n",
           (long long)calx_row_int(row, calx_row_col(row, "n")),
           (long long)calx_row_int(row, calx_row_col(row, "tasks")), failed,
           (long long)calx_row_int(row, calx_row_col(row, "rolled_back")));
    calx_result_free(r);
    calx_conn_close(conn);
    return (void *)(intptr_t)failed;
}

int main(void)
{
    calx_error err;
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url)
        url = "sqlite:///demo.db?journal_mode=wal";
    engine = calx_create_engine(url, &(calx_engine_opts){
                                         .echo = true,
                                         .pool_size = 5,
                                         .max_overflow = 2,
                                     }, &err);
    if (!engine)
        return die("create engine", &err);
    char *repr = calx_engine_repr(engine);
    printf("%s\n", repr);
    free(repr);

    void *failed = NULL;
    int rc = calx_wait(calx_spawn(calx_loop_default(), run, NULL, NULL, &err), &failed, &err);
    if (rc)
        die("demo", &err);

    /* Let the last connection's return to the pool settle before reading
     * the pool's state. */
    calx_loop_run(calx_loop_default());
    char *status = calx_engine_status(engine);
    calx_pool_stats st;
    calx_engine_stats(engine, &st);
    printf("pool status: %s\n", status);
    printf("pool counters: checkouts=%llu waits=%llu wait_time=%.3fs timeouts=%llu "
           "opened=%llu closed=%llu invalidated=%llu\n",
           (unsigned long long)st.checkouts, (unsigned long long)st.waits, st.wait_seconds,
           (unsigned long long)st.timeouts, (unsigned long long)st.opened,
           (unsigned long long)st.closed, (unsigned long long)st.invalidated);
    free(status);
    calx_engine_free(engine);
    calx_loop_run(calx_loop_default());
    calx_loop_free_default();
    return rc || failed ? 1 : 0;
}
