/* SPDX-License-Identifier: MIT */
/* Cases that each run on a fresh database holding the tables they list
 * (DB_TEST), their bodies inside a task: the harness of test_column_types
 * and test_user_types, on tests/orm_test.h's engine, echo capture and
 * task. Include it after orm_test.h. */
#ifndef CALX_TESTS_ORM_DB_H
#define CALX_TESTS_ORM_DB_H

#include "backend.h"
#include "orm_test.h"

/* Opens engine on a fresh database with tables made (create_all, the log
 * captured from there on). False when that failed. */
static inline bool db_open(const calx_table *const *tables, size_t n)
{
    char url[1200];
    if (!test_fresh_url(url, sizeof url, dir, ++seq, NULL))
        return false;
    engine = calx_create_engine(
        url, &(calx_engine_opts){ .loop = loop, .echo = true, .log = capture }, &err);
    if (!engine) {
        fprintf(stderr, "  create_engine: %s\n", err.message);
        return false;
    }
    md = calx_metadata_new(&err);
    for (size_t i = 0; i < n; i++)
        CHECK_OK(calx_metadata_add(md, tables[i], &err), &err);
    log_reset();
    int rc = calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err);
    CHECK_OK(rc, &err);
    return rc == 0;
}

static inline void db_close(void)
{
    if (engine) {
        CHECK_OK(calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err), &err);
        calx_engine_free(engine);
        calx_loop_run(loop);
    }
    engine = NULL;
    calx_metadata_free(md);
    md = NULL;
}

static inline void in_db(const calx_table *const *tables, size_t n, void (*body)(void))
{
    if (db_open(tables, n)) {
        calx_error e;
        CHECK_OK(calx_wait(calx_spawn(loop, task_main, (void *)body, NULL, &e), NULL, &e), &e);
    } else {
        test_failed_now = 1;
    }
    db_close();
}

/* TEST(name) on a fresh database holding the tables listed, its body run
 * inside a task (as session calls need). */
#define DB_TEST(name, ...)                                                    \
    static void name##_body(void);                                            \
    TEST(name)                                                                \
    {                                                                         \
        static const calx_table *const tables_[] = { __VA_ARGS__ };           \
        in_db(tables_, sizeof tables_ / sizeof *tables_, name##_body);        \
    }                                                                         \
    static void name##_body(void)

#endif
