/* SPDX-License-Identifier: MIT */
/* NULL where a handle goes: every public function whose comment accepts
 * NULL is called with it here, and must do what the comment says — a
 * no-op for frees and closes, the documented empty answer for accessors,
 * CALX_ERR_ARGUMENT naming the NULL for calls that report errors — never
 * a crash. The calls that need a live object beside the NULL one get it on
 * an in-memory SQLite database. (result.h and url.h have their own:
 * tests/test_result.c and tests/test_url.c.) */
#include <stdint.h>

#include "calx.h"
#include "models.h"
#include "test.h"

CALX_MODEL_DEFINE(Hero, "hero")

static calx_loop *loop;

static const calx_column t_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
};
static const calx_table t_table = { .name = "t", .columns = t_cols, .ncolumns = 2 };

/* The code of the error a select was left with by the builders. */
static int select_code(calx_select *q, calx_error *err)
{
    int rc = calx_select_error(q, err);
    calx_select_free(q);
    return rc;
}

static calx_engine *memory_engine(void)
{
    calx_error err;
    calx_engine *e = calx_create_engine("sqlite://", &(calx_engine_opts){ .loop = loop }, &err);
    if (!e)
        fprintf(stderr, "  create_engine: %s\n", err.message);
    return e;
}

static void free_engine(calx_engine *e)
{
    calx_engine_free(e);
    calx_loop_run(loop);
}

/* A call that returns a pointer gives NULL, with the code want in err. */
#define NO_RESULT(call, want)                                                \
    do {                                                                     \
        calx_error_clear(&err);                                              \
        CHECK((call) == NULL);                                               \
        CHECK_INT(err.code, (want));                                         \
    } while (0)

/* A call that returns a code refuses with CALX_ERR_ARGUMENT, in err too. */
#define REFUSED(call)                                                        \
    do {                                                                     \
        calx_error_clear(&err);                                              \
        CHECK_INT((call), CALX_ERR_ARGUMENT);                                \
        CHECK_INT(err.code, CALX_ERR_ARGUMENT);                              \
    } while (0)

/* The first line print writes to a file, in got ("" when none). */
static void first_line_printed(void (*print)(FILE *f), char *got, size_t n)
{
    got[0] = '\0';
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    print(f);
    rewind(f);
    CHECK(fgets(got, (int)n, f) != NULL);
    fclose(f);
}

static void print_null_obj(FILE *f)
{
    calx_obj_print(NULL, f);
}

static void print_null_map(FILE *f)
{
    calx_session_print_identity_map(NULL, f);
}

/* ---- frees and closes ---- */

static int then_calls;
static void count_call(calx_future *f, void *udata)
{
    (void)f;
    (void)udata;
    then_calls++;
}

TEST(freeing_null_handles_does_nothing)
{
    calx_error err;
    CHECK_INT(calx_loop_close(NULL, &err), 0);
    CHECK_INT(calx_loop_close(NULL, NULL), 0);
    CHECK_INT(calx_loop_free(NULL), 0);
    calx_future_release(NULL);
    calx_engine_dispose(NULL);
    calx_engine_free(NULL);
    calx_conn_close(NULL);
    calx_conn_invalidate(NULL);
    calx_metadata_free(NULL);
    calx_expr_free(NULL);
    calx_select_free(NULL);
    CHECK_INT(calx_obj_free(NULL), 0);
    calx_objlist_free(NULL);
    calx_sessionmaker_free(NULL);
    calx_session_free(NULL);
    calx_session_expunge_all(NULL);
    calx_session_expire_all(NULL);
    /* A callback on no future is never called. */
    then_calls = 0;
    calx_future_then(NULL, count_call, NULL);
    calx_loop_run(loop);
    CHECK_INT(then_calls, 0);
}

TEST(errors_may_be_null_where_the_error_calls_say_so)
{
    calx_error_clear(NULL);
    CHECK_INT(calx_error_set(NULL, CALX_ERR_STATE, "nobody reads %s", "this"), CALX_ERR_STATE);
    calx_select *q = calx_select_new(&t_table);
    CHECK_INT(calx_select_error(q, NULL), CALX_OK);
    calx_select_free(q);
}

/* ---- the loop, tasks and futures ---- */

static void *nothing(void *arg)
{
    return arg;
}

TEST(a_null_loop_is_an_argument_error)
{
    calx_error err;
    CHECK_INT(calx_loop_run(NULL), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_spawn(NULL, nothing, NULL, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "calx_spawn was given a NULL loop");
    NO_RESULT(calx_spawn(loop, NULL, NULL, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "NULL task function");
    CHECK_INT(calx_task_count(loop), 0);   /* nothing was started */
    NO_RESULT(calx_sleep(NULL, 1, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "calx_sleep was given a NULL loop");
    CHECK(calx_spawn(NULL, nothing, NULL, NULL, NULL) == NULL);
}

TEST(loop_accessors_on_a_null_loop_answer_nothing)
{
    CHECK(calx_loop_uv(NULL) == NULL);
    CHECK_INT(calx_task_count(NULL), 0);
    CHECK(calx_loop_uv(loop) != NULL);
}

TEST(a_null_future_is_never_done_and_has_nothing_to_take)
{
    calx_error err;
    void *out = &err;
    CHECK(!calx_future_done(NULL));
    CHECK(!calx_future_cancel(NULL));
    CHECK_INT(calx_future_take(NULL, &out, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "calx_future_take was given a NULL future");
    CHECK(out == &err);
    CHECK_INT(calx_future_take(NULL, NULL, NULL), CALX_ERR_ARGUMENT);
}

TEST(waiting_on_a_null_future_returns_the_failed_calls_error)
{
    calx_error err;
    /* What the call that gave no future left in err is what comes back. */
    CHECK(calx_sleep(NULL, 1, &err) == NULL);
    CHECK_INT(calx_wait(NULL, NULL, &err), CALX_ERR_ARGUMENT);
    calx_error_set(&err, CALX_ERR_TIMEOUT, "from the call");
    CHECK_INT(calx_wait(NULL, NULL, &err), CALX_ERR_TIMEOUT);
    CHECK_STR(err.message, "from the call");
    CHECK_INT(calx_await(NULL, NULL, &err), CALX_ERR_TIMEOUT);
    /* With no error in err, the NULL itself is the error. */
    calx_error_clear(&err);
    CHECK_INT(calx_wait(NULL, NULL, &err), CALX_ERR_ARGUMENT);
    calx_error_clear(&err);
    CHECK_INT(calx_await(NULL, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_wait(NULL, NULL, NULL), CALX_ERR_ARGUMENT);
}

/* ---- engines and connections ---- */

TEST(a_null_url_or_engine_is_refused)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    NO_RESULT(calx_create_engine(NULL, NULL, &err), CALX_ERR_ARGUMENT);
    /* A NULL engine fails the checkout as a freed one does. */
    NO_RESULT(calx_engine_connect(NULL, &err), CALX_ERR_CLOSED);
    NO_RESULT(calx_engine_create_all(NULL, md, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the engine is NULL");
    NO_RESULT(calx_engine_drop_all(NULL, md, &err), CALX_ERR_ARGUMENT);
    calx_metadata_free(md);
}

TEST(a_null_connection_is_an_argument_error)
{
    calx_error err;
    calx_stmt st = { .sql = "SELECT 1" };
    calx_params one = { NULL, 0 };
    calx_metadata *md = calx_metadata_new(&err);
    calx_future *(*const calls[])(calx_connection *, calx_error *) = {
        calx_conn_begin, calx_conn_commit, calx_conn_rollback, calx_conn_begin_nested,
        calx_conn_release_savepoint, calx_conn_rollback_savepoint,
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        NO_RESULT(calls[i](NULL, &err), CALX_ERR_ARGUMENT);
        CHECK_CONTAINS(err.message, "the connection is NULL");
    }
    NO_RESULT(calx_conn_execute(NULL, "SELECT 1", NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the connection is NULL");
    NO_RESULT(calx_conn_execute_many(NULL, "SELECT 1", &one, 1, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the connection is NULL");
    NO_RESULT(calx_conn_execute_batch(NULL, &st, 1, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the connection is NULL");
    NO_RESULT(calx_conn_execute_batch_commit(NULL, &st, 1, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_conn_stream(NULL, "SELECT 1", NULL, 0, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_metadata_create_all(NULL, md, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the connection is NULL");
    NO_RESULT(calx_metadata_drop_all(NULL, md, &err), CALX_ERR_ARGUMENT);
    /* The documented exception: as a closed connection. */
    calx_select *q = calx_select_new(&t_table);
    NO_RESULT(calx_conn_execute_select(NULL, q, &err), CALX_ERR_CLOSED);
    calx_select_free(q);
    calx_metadata_free(md);
}

TEST(connection_accessors_on_a_null_connection_answer_no_transaction)
{
    CHECK(!calx_conn_in_transaction(NULL));
    CHECK_INT(calx_conn_savepoint_depth(NULL), 0);
    CHECK(calx_conn_engine(NULL) == NULL);
}

TEST(a_live_connection_refuses_null_sql_statements_sets_and_metadata)
{
    calx_error err;
    calx_engine *e = memory_engine();
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(e, &err), &c, &err), &err);
    if (!c) {
        free_engine(e);
        return;
    }
    NO_RESULT(calx_conn_execute(c, NULL, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the SQL text is NULL");
    NO_RESULT(calx_conn_stream(c, NULL, NULL, 0, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_conn_execute_many(c, "SELECT ?", NULL, 2, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_conn_execute_batch(c, NULL, 1, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_conn_execute_batch_commit(c, NULL, 1, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_metadata_create_all(c, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the metadata is NULL");
    NO_RESULT(calx_metadata_drop_all(c, NULL, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_conn_execute_select(c, NULL, &err), CALX_ERR_NOMEM);
    NO_RESULT(calx_engine_create_all(e, NULL, &err), CALX_ERR_ARGUMENT);
    /* Nothing ran, nothing began, and the connection still works: NULL
     * params are no parameters. */
    CHECK(!calx_conn_in_transaction(c));
    CHECK(calx_conn_engine(c) == e);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT 7", NULL, &err), &r, &err), &err);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 7);
    calx_result_free(r);
    calx_conn_close(c);
    free_engine(e);
}

/* ---- schema and SQL ---- */

TEST(a_null_metadata_or_table_is_refused_or_empty)
{
    calx_error err;
    const calx_table *out[1];
    calx_metadata *md = calx_metadata_new(NULL);
    CHECK(md != NULL);
    CHECK_INT(calx_metadata_add(NULL, &t_table, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the metadata is NULL");
    CHECK_INT(calx_metadata_add(md, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the table is NULL");
    CHECK_INT(calx_metadata_ntables(md), 0);
    CHECK_INT(calx_metadata_sorted(NULL, out, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_metadata_ntables(NULL), 0);
    CHECK(calx_metadata_table(NULL, 0) == NULL);
    CHECK(calx_metadata_find(NULL, "t") == NULL);
    CHECK_OK(calx_metadata_add(md, &t_table, &err), &err);
    CHECK(calx_metadata_find(md, NULL) == NULL);
    CHECK(calx_metadata_find(md, "t") == &t_table);
    calx_metadata_free(md);
}

TEST(sql_builders_take_null_as_a_sticky_error)
{
    calx_error err;
    /* A NULL expression is out of memory; its sibling is freed (ASan and
     * valgrind see a leak otherwise). */
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table),
                                            calx_binop(CALX_OP_EQ, NULL, calx_lit_int(1))),
                          &err), CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table), calx_is_null(NULL)), &err),
              CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table), calx_is_not_null(NULL)),
                          &err), CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table), calx_not(NULL)), &err),
              CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table),
                                            calx_in_values(NULL, NULL, 0)), &err),
              CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table), calx_and_n(NULL, 2)), &err),
              CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table), calx_or_n(NULL, 0)), &err),
              CALX_ERR_ARGUMENT);
    CHECK_INT(select_code(calx_select_where(calx_select_new(&t_table), NULL), &err),
              CALX_ERR_NOMEM);
    CHECK_INT(select_code(calx_select_order_by(calx_select_new(&t_table), NULL, CALX_ASC), &err),
              CALX_ERR_NOMEM);
    /* A NULL table or name is an argument error naming it. */
    CHECK_INT(select_code(calx_select_order_by(calx_select_new(&t_table), calx_col(NULL, 0),
                                               CALX_ASC), &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the table is NULL");
    CHECK_INT(select_code(calx_select_order_by(calx_select_new(&t_table),
                                               calx_col_named(&t_table, NULL), CALX_ASC), &err),
              CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the column name is NULL");
    CHECK_INT(select_code(calx_select_order_by(calx_select_new(&t_table),
                                               calx_col_named(NULL, "id"), CALX_ASC), &err),
              CALX_ERR_ARGUMENT);
    CHECK_INT(select_code(calx_select_new(NULL), &err), CALX_ERR_ARGUMENT);
}

TEST(select_calls_on_a_null_select_free_what_they_take)
{
    calx_error err;
    CHECK(calx_select_where(NULL, calx_eq(calx_col(&t_table, 0), 1)) == NULL);
    CHECK(calx_select_order_by(NULL, calx_col(&t_table, 1), CALX_DESC) == NULL);
    CHECK(calx_select_limit(NULL, 1) == NULL);
    CHECK(calx_select_offset(NULL, 1) == NULL);
    CHECK(calx_select_table(NULL) == NULL);
    CHECK_INT(calx_select_error(NULL, &err), CALX_ERR_NOMEM);
    CHECK_INT(calx_select_error(NULL, NULL), CALX_ERR_NOMEM);
}

/* ---- models and objects ---- */

TEST(a_null_model_or_object_is_refused_or_empty)
{
    calx_error err;
    Hero_args args = { .name = "Deadpond", .secret_name = "Dive Wilson" };
    NO_RESULT(calx_model_new(NULL, &args, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_model_new(&Hero_model, NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_obj_validate(NULL, &err), CALX_ERR_ARGUMENT);
    CHECK(calx_obj_model(NULL) == NULL);
    CHECK_INT(calx_model_field_at(NULL, 0), -1);
    CHECK_INT(calx_obj_state(NULL), CALX_STATE_TRANSIENT);
    CHECK(!calx_obj_expired(NULL));
    calx_bytes b = { 0 };
    const char *text = NULL;
    CHECK_INT(calx_obj_set_text(NULL, &text, "x"), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_obj_set_blob(NULL, &b, "x", 1), CALX_ERR_ARGUMENT);
    CHECK(text == NULL && b.data == NULL);

    Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    CHECK(h != NULL);
    if (!h)
        return;
    CHECK_INT(calx_obj_set_text(h, NULL, "x"), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_obj_set_blob(h, NULL, "x", 1), CALX_ERR_ARGUMENT);
    CHECK_STR(h->name, "Deadpond");
    /* repr: a NULL buffer with size 0 only measures. */
    char buf[128];
    size_t need = calx_obj_repr(h, NULL, 0);
    CHECK_INT(calx_obj_repr(h, buf, sizeof buf), need);
    CHECK_INT(strlen(buf), need);
    CHECK_INT(calx_obj_repr(NULL, buf, sizeof buf), strlen("<not a calx object>"));
    CHECK_STR(buf, "<not a calx object>");
    char got[64];
    first_line_printed(print_null_obj, got, sizeof got);
    CHECK_STR(got, "<not a calx object>");
    calx_timestamp ts = 0;
    CHECK_INT(calx_now_utc(&ts, NULL), 0);
    CHECK(ts > 0);
    CHECK_INT(calx_obj_free(h), 0);
}

/* ---- sessions ---- */

TEST(a_null_session_maker_or_opts_makes_no_session)
{
    calx_error err;
    NO_RESULT(calx_sessionmaker_new(NULL, &err), CALX_ERR_ARGUMENT);
    NO_RESULT(calx_sessionmaker_session(NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the session maker is NULL");
    NO_RESULT(calx_session_new(NULL, &err), CALX_ERR_ARGUMENT);
}

/* Outside any task: a NULL session is refused before the task check. */
TEST(a_null_session_is_an_argument_error)
{
    calx_error err;
    Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    CHECK(h != NULL);
    if (!h)
        return;
    void *out = h;
    calx_objlist l;
    calx_value key = calx_int(1);
    calx_select *q = calx_select_new(CALX_TABLE(Hero));

    REFUSED(calx_session_add(NULL, h, &err));
    CHECK_CONTAINS(err.message, "the session is NULL");
    REFUSED(calx_session_add_all(NULL, (void *const *)&h, 1, &err));
    CHECK_CONTAINS(err.message, "calx_session_add_all was given a NULL session");
    REFUSED(calx_session_add_all(NULL, NULL, 0, &err));
    REFUSED(calx_session_delete(NULL, h, &err));
    REFUSED(calx_session_expunge(NULL, h, &err));
    REFUSED(calx_session_expire(NULL, h, &err));
    REFUSED(calx_session_refresh(NULL, h, &err));
    REFUSED(calx_session_merge(NULL, h, &out, &err));
    CHECK(out == NULL);
    REFUSED(calx_session_get(NULL, &Hero_model, key, &out, &err));
    REFUSED(calx_session_get_key(NULL, &Hero_model, &key, 1, &out, &err));
    REFUSED(calx_session_get_one(NULL, &Hero_model, key, &out, &err));
    calx_exec_opts reload = { .populate_existing = true };
    REFUSED(calx_session_get_opts(NULL, &Hero_model, &key, 1, &reload, &out, &err));
    CHECK_CONTAINS(err.message, "the session is NULL");
    REFUSED(calx_session_reload_expired(NULL, &err));
    REFUSED(calx_session_all(NULL, q, &l, &err));
    REFUSED(calx_session_execute(NULL, q, NULL, &l, &err));
    REFUSED(calx_session_first(NULL, q, &out, &err));
    REFUSED(calx_session_one(NULL, q, &out, &err));
    REFUSED(calx_session_one_or_none(NULL, q, &out, &err));
    REFUSED(calx_session_flush(NULL, &err));
    REFUSED(calx_session_commit(NULL, &err));
    REFUSED(calx_session_rollback(NULL, &err));
    REFUSED(calx_session_begin(NULL, &err));
    REFUSED(calx_session_begin_nested(NULL, &err));
    REFUSED(calx_session_commit_nested(NULL, &err));
    REFUSED(calx_session_rollback_nested(NULL, &err));
    REFUSED(calx_session_close(NULL, &err));
    /* The object was never taken: the program still owns it. */
    CHECK_INT(calx_obj_state(h), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_obj_free(h), 0);
    calx_select_free(q);
}

TEST(questions_to_a_null_session_answer_empty)
{
    calx_error err;
    void *objs[2] = { NULL, NULL };
    Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    CHECK(h != NULL);
    CHECK(!calx_session_contains(NULL, h));
    CHECK(!calx_session_contains(NULL, NULL));
    calx_obj_free(h);
    CHECK(!calx_session_in_transaction(NULL));
    CHECK(!calx_session_needs_rollback(NULL));
    CHECK_INT(calx_session_identity_count(NULL), 0);
    CHECK_INT(calx_session_identity_map(NULL, objs, 2), 0);
    char got[16];
    first_line_printed(print_null_map, got, sizeof got);
    CHECK_STR(got, "{}\n");
}

static calx_engine *session_engine;

/* In a task: a live session given NULL objects, models, keys and outs. */
static void *null_arguments_to_a_session(void *arg)
{
    (void)arg;
    calx_error err;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = session_engine }, &err);
    CHECK(s != NULL);
    if (!s)
        return NULL;
    Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    void *out = h;
    calx_value key = calx_int(1);
    calx_objlist l = { 0 };
    calx_select *q = calx_select_new(CALX_TABLE(Hero));

    REFUSED(calx_session_add(s, NULL, &err));
    REFUSED(calx_session_add_all(s, NULL, 2, &err));
    CHECK_CONTAINS(err.message, "NULL array of objects");
    CHECK_OK(calx_session_add_all(s, NULL, 0, &err), &err);
    REFUSED(calx_session_delete(s, NULL, &err));
    REFUSED(calx_session_expunge(s, NULL, &err));
    REFUSED(calx_session_expire(s, NULL, &err));
    REFUSED(calx_session_refresh(s, NULL, &err));
    REFUSED(calx_session_merge(s, NULL, &out, &err));
    CHECK(out == NULL);
    REFUSED(calx_session_merge(s, h, NULL, &err));
    out = h;
    REFUSED(calx_session_get(s, NULL, key, &out, &err));
    CHECK(out == NULL);
    REFUSED(calx_session_get(s, &Hero_model, key, NULL, &err));
    REFUSED(calx_session_get_key(s, &Hero_model, NULL, 1, &out, &err));
    calx_exec_opts reload = { .populate_existing = true };
    out = h;
    REFUSED(calx_session_get_opts(s, NULL, &key, 1, &reload, &out, &err));
    CHECK(out == NULL);
    REFUSED(calx_session_get_opts(s, &Hero_model, NULL, 1, &reload, &out, &err));
    REFUSED(calx_session_get_opts(s, &Hero_model, &key, 1, &reload, NULL, &err));
    CHECK_CONTAINS(err.message, "calx_session_get_opts needs a model, a key and out");
    REFUSED(calx_session_execute(s, q, NULL, NULL, &err));
    REFUSED(calx_session_all(s, q, NULL, &err));
    REFUSED(calx_session_first(s, q, NULL, &err));
    REFUSED(calx_session_one(s, q, NULL, &err));
    REFUSED(calx_session_one_or_none(s, q, NULL, &err));
    CHECK(!calx_session_contains(s, NULL));
    /* A NULL select is its own error, out of memory (calx/sql.h). */
    CHECK_INT(calx_session_all(s, NULL, &l, &err), CALX_ERR_NOMEM);
    CHECK_INT(l.n, 0);
    /* Nothing was added, nothing began; the session still works. */
    CHECK_INT(calx_session_identity_count(s), 0);
    CHECK(!calx_session_in_transaction(s));
    CHECK_INT(calx_obj_state(h), CALX_STATE_TRANSIENT);
    CHECK_OK(calx_session_add(s, h, &err), &err);
    CHECK(calx_session_contains(s, h));
    CHECK_INT(calx_session_identity_map(s, NULL, 0), 0); /* pending: not in the map */
    calx_select_free(q);
    calx_session_free(s);  /* frees h, which it owns */
    return NULL;
}

TEST(a_live_session_refuses_null_objects_models_keys_and_outs)
{
    calx_error err;
    session_engine = memory_engine();
    if (!session_engine)
        return;
    CHECK_OK(calx_wait(calx_spawn(loop, null_arguments_to_a_session, NULL, NULL, &err), NULL,
                       &err), &err);
    free_engine(session_engine);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    if (!loop) {
        fprintf(stderr, "calx_loop_new: %s\n", err.message);
        return 1;
    }
    RUN(freeing_null_handles_does_nothing);
    RUN(errors_may_be_null_where_the_error_calls_say_so);
    RUN(a_null_loop_is_an_argument_error);
    RUN(loop_accessors_on_a_null_loop_answer_nothing);
    RUN(a_null_future_is_never_done_and_has_nothing_to_take);
    RUN(waiting_on_a_null_future_returns_the_failed_calls_error);
    RUN(a_null_url_or_engine_is_refused);
    RUN(a_null_connection_is_an_argument_error);
    RUN(connection_accessors_on_a_null_connection_answer_no_transaction);
    RUN(a_live_connection_refuses_null_sql_statements_sets_and_metadata);
    RUN(a_null_metadata_or_table_is_refused_or_empty);
    RUN(sql_builders_take_null_as_a_sticky_error);
    RUN(select_calls_on_a_null_select_free_what_they_take);
    RUN(a_null_model_or_object_is_refused_or_empty);
    RUN(a_null_session_maker_or_opts_makes_no_session);
    RUN(a_null_session_is_an_argument_error);
    RUN(questions_to_a_null_session_answer_empty);
    RUN(a_live_session_refuses_null_objects_models_keys_and_outs);
    CHECK_INT(calx_loop_free(loop), 0);
    return TEST_REPORT();
}
