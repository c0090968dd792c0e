/* SPDX-License-Identifier: MIT */
/* The routes of SQLModel's FastAPI tutorial (its final app, with teams
 * and relationships), each run in a calx task of its own with a session of
 * its own from the service's one sessionmaker: Python's
 * `session: Session = Depends(get_session)`. A route fills the call's
 * status and JSON; whatever fails, the session is closed before the task
 * ends, so that its connection is back in the pool when the answer goes.
 *
 * What the database says is not the client's business: a database error
 * is a 500 with a short detail, and the whole error goes to the log
 * (stderr). A value the model refuses (its constructor and
 * calx_obj_validate check max_length, ge and NOT NULL) is a 422 naming
 * the field.
 *
 * A transaction that lost a race is run again, from a new session, at most
 * ROUTE_ATTEMPTS times: PostgreSQL's serialization failure, and SQLite's
 * "database is locked" in a transaction that began by reading (PATCH and
 * DELETE read the row first, and SQLite says "roll back and retry"; the
 * service's one writer connection keeps that from happening between its
 * own requests, so this is for another program writing the same file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hero_api.h"

#define ROUTE_ATTEMPTS 20
/* SQLite's SQLITE_BUSY, the low byte of calx_error.driver_code. */
#define SQLITE_BUSY_CODE 5

CALX_MODEL_DEFINE_WITH_RELATIONS(Team, "team")
CALX_MODEL_DEFINE_WITH_RELATIONS(Hero, "hero")

calx_metadata *route_metadata(calx_error *err)
{
    return calx_models_metadata(err);
}

static const char *not_found(const api_call *c)
{
    return c->resource == API_HEROES ? "Hero not found" : "Team not found";
}

static void answer(api_call *c, int status, json_t *body)
{
    c->status = status;
    c->response = shape_dump(body);
}

static bool lost_a_race(const calx_error *err)
{
    return err->code == CALX_ERR_SERIALIZATION ||
           (err->code == CALX_ERR_OPERATIONAL && (err->driver_code & 0xff) == SQLITE_BUSY_CODE);
}

/* A failure that is not the client's: 500, the cause in the log; or,
 * when another attempt may succeed, nothing yet. */
static void failed(api_call *c, const char *what, const calx_error *err)
{
    if (c->may_retry && lost_a_race(err)) {
        c->retry = true;
        return;
    }
    fprintf(stderr, "hero_api: %s failed: %s: %s\n", what, calx_errcode_name(err->code),
            err->message);
    c->status = 500;
    c->response = shape_detail("Internal Server Error");
}

/* The model refused a value: calx's message is "Hero.age: ensure this
 * value is greater than or equal to 0 (it is -1)"; the field after the
 * model's name is the location, the rest the message. */
static void refused(api_call *c, const calx_error *err)
{
    const char *dot = strchr(err->message, '.');
    const char *colon = strstr(err->message, ": ");
    char field[64] = "";
    const char *msg = err->message;
    if (dot && colon && colon > dot && (size_t)(colon - dot - 1) < sizeof field) {
        memcpy(field, dot + 1, (size_t)(colon - dot - 1));
        field[colon - dot - 1] = '\0';
        msg = colon + 2;
    }
    json_t *errors = json_array();
    shape_error(errors, "value_error", "body", field[0] ? field : NULL, msg,
                field[0] && c->body ? json_object_get(c->body, field) : NULL);
    c->status = 422;
    c->response = shape_422(errors);
}

static void fail_or_refuse(api_call *c, const char *what, const calx_error *err)
{
    if (err->code == CALX_ERR_VALIDATION)
        refused(c, err);
    else
        failed(c, what, err);
}

static const char *text_of(json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

static calx_opt_int64 int_of(json_t *body, const char *name)
{
    json_t *v = json_object_get(body, name);
    if (!json_is_integer(v))
        return (calx_opt_int64)CALX_NONE;
    return (calx_opt_int64)CALX_SOME(json_integer_value(v));
}

/* PATCH: only the fields sent (model_dump(exclude_unset=True)). */
static int set_text(void *obj, const char **field, json_t *body, const char *name)
{
    json_t *v = json_object_get(body, name);
    if (!v)
        return 0;
    return calx_obj_set_text(obj, field, json_string_value(v));
}

static void set_int(calx_opt_int64 *field, json_t *body, const char *name)
{
    if (json_object_get(body, name))
        *field = int_of(body, name);
}

static int apply(api_call *c, void *obj)
{
    if (c->resource == API_HEROES) {
        Hero *h = obj;
        set_int(&h->age, c->body, "age");
        set_int(&h->team_id, c->body, "team_id");
        return set_text(h, &h->name, c->body, "name") ||
               set_text(h, &h->secret_name, c->body, "secret_name");
    }
    Team *t = obj;
    return set_text(t, &t->name, c->body, "name") ||
           set_text(t, &t->headquarters, c->body, "headquarters");
}

static json_t *public_shape(const api_call *c, const void *obj)
{
    return c->resource == API_HEROES ? shape_hero(obj) : shape_team(obj);
}

/* session.commit(); session.refresh(obj); return obj. */
static void commit_and_answer(api_call *c, calx_session *s, void *obj)
{
    calx_error err;
    if (calx_session_commit(s, &err) || calx_session_refresh(s, obj, &err)) {
        fail_or_refuse(c, "commit", &err);
        return;
    }
    answer(c, 200, public_shape(c, obj));
}

/* POST: Hero.model_validate(hero); add; commit; refresh. */
static void create(api_call *c, calx_session *s)
{
    calx_error err;
    void *obj;
    if (c->resource == API_HEROES)
        obj = CALX_NEW(Hero, &err, .name = text_of(c->body, "name"),
                       .secret_name = text_of(c->body, "secret_name"),
                       .age = int_of(c->body, "age"), .team_id = int_of(c->body, "team_id"));
    else
        obj = CALX_NEW(Team, &err, .name = text_of(c->body, "name"),
                       .headquarters = text_of(c->body, "headquarters"));
    if (!obj) {
        fail_or_refuse(c, "create", &err);
        return;
    }
    if (calx_session_add(s, obj, &err)) {
        calx_obj_free(obj);
        failed(c, "add", &err);
        return;
    }
    commit_and_answer(c, s, obj);
}

/* GET /heroes/?offset=&limit= (in key order, so that a page is the same
 * on every database). */
static void list(api_call *c, calx_session *s)
{
    calx_error err;
    const calx_model *m = c->resource == API_HEROES ? &Hero_model : &Team_model;
    calx_select *q = calx_select_new(&m->table);
    calx_select_order_by(q, c->resource == API_HEROES ? CALX_C(Hero, id) : CALX_C(Team, id),
                         CALX_ASC);
    calx_select_limit(calx_select_offset(q, c->offset), c->limit);
    calx_objlist objs = { 0 };
    int rc = calx_session_all(s, q, &objs, &err);
    calx_select_free(q);
    if (rc) {
        failed(c, "select", &err);
        return;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < objs.n; i++)
        json_array_append_new(out, public_shape(c, objs.items[i]));
    calx_objlist_free(&objs);
    answer(c, 200, out);
}

/* session.get(Model, id, options=...); NULL (and the 404 written) when
 * there is none. opts NULL: a plain get. */
static void *get(api_call *c, calx_session *s, const calx_exec_opts *opts)
{
    calx_error err;
    void *obj = NULL;
    const calx_model *m = c->resource == API_HEROES ? &Hero_model : &Team_model;
    calx_value id = calx_int(c->id);
    if (calx_session_get_opts(s, m, &id, 1, opts, &obj, &err)) {
        failed(c, "get", &err);
        return NULL;
    }
    if (!obj) {
        c->status = 404;
        c->response = shape_detail(not_found(c));
    }
    return obj;
}

/* HeroPublicWithTeam / TeamPublicWithHeroes: the relationship loaded with
 * the object, in the get's own SELECT (calx loads when told to, where
 * Python loads when the attribute is read: one more statement). */
static void read(api_call *c, calx_session *s)
{
    calx_loader load[] = { CALX_JOINEDLOAD(c->resource == API_HEROES ? CALX_REL(Hero, team)
                                                                       : CALX_REL(Team, heroes)) };
    calx_exec_opts opts = { .loaders = load, .nloaders = 1 };
    void *obj = get(c, s, &opts);
    if (!obj)
        return;
    json_t *out = public_shape(c, obj);
    if (c->resource == API_HEROES) {
        Hero *h = obj;
        json_object_set_new(out, "team", h->team ? shape_team(h->team) : json_null());
    } else {
        Team *t = obj;
        json_t *list = json_array();
        for (size_t i = 0; i < t->heroes.n; i++)
            json_array_append_new(list, shape_hero(t->heroes.items[i]));
        json_object_set_new(out, "heroes", list);
    }
    answer(c, 200, out);
}

static void update(api_call *c, calx_session *s)
{
    calx_error err;
    void *obj = get(c, s, NULL);
    if (!obj)
        return;
    if (apply(c, obj)) {
        calx_error_set(&err, CALX_ERR_NOMEM, "out of memory setting a text field");
        failed(c, "update", &err);
        return;
    }
    /* Checked before the flush would: the answer is a 422, not a 500. */
    if (calx_obj_validate(obj, &err)) {
        refused(c, &err);
        return;
    }
    commit_and_answer(c, s, obj);
}

static void delete(api_call *c, calx_session *s)
{
    calx_error err;
    void *obj = get(c, s, NULL);
    if (!obj)
        return;
    if (calx_session_delete(s, obj, &err) || calx_session_commit(s, &err)) {
        failed(c, "delete", &err);
        return;
    }
    json_t *ok = json_object();
    json_object_set_new(ok, "ok", json_true());
    answer(c, 200, ok);
}

/* One attempt of the route, in a session of its own. */
static void run_once(api_call *c)
{
    calx_error err;
    calx_session *s = calx_sessionmaker_session(c->sessions, &err);
    if (!s) {
        failed(c, "session", &err);
        return;
    }
    switch (c->op) {
    case API_CREATE: create(c, s); break;
    case API_LIST: list(c, s); break;
    case API_READ: read(c, s); break;
    case API_UPDATE: update(c, s); break;
    case API_DELETE: delete(c, s); break;
    }
    /* The rollback of whatever did not commit, and the connection back. */
    if (calx_session_close(s, &err))
        fprintf(stderr, "hero_api: session close: %s\n", err.message);
    calx_session_free(s);
}

void *route_run(void *arg)
{
    api_call *c = arg;
    calx_error err;
    for (int attempt = 1;; attempt++) {
        c->may_retry = attempt < ROUTE_ATTEMPTS;
        c->retry = false;
        run_once(c);
        if (!c->retry)
            break;
        free(c->response);
        c->response = NULL;
        /* A pause of a few ms, growing and spread, so that the racers do
         * not meet again at once. */
        uint64_t ms = (uint64_t)attempt + (uint64_t)(rand() % (2 * attempt + 1));
        calx_await(calx_sleep(c->loop, ms, &err), NULL, &err);
    }
    if (!c->response) {
        calx_error_set(&err, CALX_ERR_NOMEM, "out of memory writing the answer");
        failed(c, "answer", &err);
    }
    return NULL;
}
