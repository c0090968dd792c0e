/* SPDX-License-Identifier: MIT */
/* The harness of the ORM tests (test_session, test_orm_statements): an
 * engine on the database CALX_TEST_URL names (a fresh SQLite file when it
 * is unset) with echo captured, the tutorial's tables made afresh for each
 * test, tests run inside a task, and the tutorial's teams and heroes.
 * The including file defines the models (CALX_MODEL_DEFINE), fills md in
 * main and sets dir. */
#ifndef CALX_TESTS_ORM_TEST_H
#define CALX_TESTS_ORM_TEST_H

#include "calx.h"
#include "engine/engine_int.h"
#include "models.h"
#include "test.h"

static calx_loop *loop;
static const char *dir;
static int seq;
static calx_engine *engine;
static calx_metadata *md;
static calx_error err;

/* ---- echo capture ---- */

static char logbuf[1 << 20]; /* room for multi-row INSERTs of 1,000 rows */
static size_t loglen;

static inline void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    size_t n = strlen(msg);
    if (loglen + n + 2 < sizeof logbuf) {
        memcpy(logbuf + loglen, msg, n);
        loglen += n;
        logbuf[loglen++] = '\n';
        logbuf[loglen] = '\0';
    }
}

static inline void log_reset(void)
{
    loglen = 0;
    logbuf[0] = '\0';
}

/* Where line p's statement starts: inside the dialect's row-checking
 * form (PostgreSQL's "WITH row_check AS (UPDATE ...") when a commit's
 * UPDATE or DELETE went in it (flush.c), so that a test names the
 * statement the form carries; test_session checks the form itself. */
static inline const char *statement_at(const char *p)
{
    const char *open = engine ? engine->dialect->row_check_open : NULL;
    if (open && strncmp(p, open, strlen(open)) == 0)
        return p + strlen(open);
    return p;
}

/* Lines of the log that start with prefix. */
static inline int log_count(const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *p = logbuf; *p;) {
        if (strncmp(statement_at(p), prefix, len) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* Where the first line starting with prefix is (-1: none). */
static inline int log_pos(const char *prefix)
{
    size_t len = strlen(prefix);
    int line = 0;
    for (const char *p = logbuf; *p; line++) {
        if (strncmp(statement_at(p), prefix, len) == 0)
            return line;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return -1;
}

/* ---- set-up ---- */

static inline void setup_opts(const calx_engine_opts *extra)
{
    char url[600];
    const char *env = getenv("CALX_TEST_URL");
    if (env && *env)
        snprintf(url, sizeof url, "%s", env);
    else
        snprintf(url, sizeof url, "sqlite:///%s/s%d.db", dir, ++seq);
    calx_engine_opts o = extra ? *extra : (calx_engine_opts){ 0 };
    o.loop = loop;
    o.echo = true;
    o.log = capture;
    engine = calx_create_engine(url, &o, &err);
    if (!engine) {
        fprintf(stderr, "  create_engine: %s\n", err.message);
        exit(1);
    }
    CHECK_OK(calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err), &err);
    log_reset();
}

static inline void setup(void)
{
    setup_opts(NULL);
}

static inline void teardown(void)
{
    calx_engine_free(engine);
    calx_loop_run(loop);
    engine = NULL;
}

static inline calx_session *new_session(void)
{
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    CHECK(s != NULL);
    return s;
}

static void *task_main(void *arg)
{
    ((void (*)(void))arg)();
    return NULL;
}

/* Runs body inside a task, as session calls need. */
static inline void in_task(void (*body)(void))
{
    setup();
    calx_error e;
    CHECK_OK(calx_wait(calx_spawn(loop, task_main, (void *)body, NULL, &e), NULL, &e), &e);
    teardown();
}

#define TASK_TEST(name)                                                      \
    static void name##_body(void);                                           \
    TEST(name) { in_task(name##_body); }                                     \
    static void name##_body(void)

static inline Hero *hero(const char *name, const char *secret, long long age)
{
    Hero *h = age < 0 ? CALX_NEW(Hero, &err, .name = name, .secret_name = secret)
                      : CALX_NEW(Hero, &err, .name = name, .secret_name = secret,
                                 .age = CALX_SOME(age));
    CHECK(h != NULL);
    return h;
}

/* Adds the tutorial's teams and heroes and commits. */
static inline void seed(calx_session *s, Team **t, Hero **h)
{
    t[0] = CALX_NEW(Team, &err, .name = "Preventers", .headquarters = "Sharp Tower");
    t[1] = CALX_NEW(Team, &err, .name = "Z-Force", .headquarters = "Sister Margaret's Bar");
    CHECK_OK(calx_session_add_all(s, (void *[]){ t[0], t[1] }, 2, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    h[0] = hero("Deadpond", "Dive Wilson", -1);
    h[0]->team_id = t[1]->id;
    h[1] = hero("Rusty-Man", "Tommy Sharp", 48);
    h[1]->team_id = t[0]->id;
    h[2] = hero("Spider-Boy", "Pedro Parqueador", -1);
    CHECK_OK(calx_session_add_all(s, (void *[]){ h[0], h[1], h[2] }, 3, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
}

static inline calx_select *where_name(const char *name)
{
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    return calx_select_where(q, calx_eq(calx_col(CALX_TABLE(Hero), CALX_FIELD(Hero, name)), name));
}

/* Rows in table, read with Core on another connection. */
static inline long long count_rows(const char *table)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    long long n = -1;
    if (calx_await(calx_engine_connect(engine, &err), &c, &err) == 0 &&
        calx_await(calx_conn_execute(c, sql, NULL, &err), &r, &err) == 0)
        n = calx_result_scalar(r).u.i;
    calx_result_free(r);
    calx_conn_close(c);
    return n;
}

#endif
