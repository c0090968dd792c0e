/* SPDX-License-Identifier: MIT */
/* JSON in expressions (SQLAlchemy's JSON type's comparator): a path into a
 * JSON column — calx_json_get(data, "a") for data["a"], calx_json_at for
 * an array index — read as JSON or, at its end, as text, integer, real or
 * bool (as_string(), as_integer(), ...); and containment, a @> b. Each
 * step is a node holding its key as a literal, so keys are bound like any
 * value and the statement cache sees them as values. The SQL is the
 * dialect's (json_path, json_contains): PostgreSQL's -> and ->> operators,
 * SQLite's JSON_EXTRACT with a path it builds from the bound keys. */
#include <string.h>

#include "sql/expr_int.h"

static calx_expr *json_node(calx_expr *a, calx_expr *step, calx_json_as as, calx_xtype type)
{
    calx_expr *kids[2] = { a, step };
    if (!a || a->kind == CALX_X_ERROR || !step || step->kind == CALX_X_ERROR)
        return calx__expr_take_error(kids, 2);
    calx_expr *e = calx__expr_new2(CALX_X_JSON, type, a, step);
    if (!e)
        return calx__expr_oom();
    e->u.json.a = a;
    e->u.json.step = step;
    e->u.json.as = as;
    return e;
}

/* The number of steps of the path ending at e (0: e is no path). */
static size_t path_length(const calx_expr *e)
{
    size_t n = 0;
    for (; e->kind == CALX_X_JSON && e->u.json.as != CALX_JSON_CONTAINS; e = e->u.json.a)
        n++;
    return n;
}

/* Whether json may take one more step: JSON itself, not a path already
 * read as text, and not too deep. NULL when it may, else the error node
 * (json freed). */
static calx_expr *check_base(calx_expr *json, calx_expr *step, const char *fn)
{
    if (!json || json->kind == CALX_X_ERROR || !step || step->kind == CALX_X_ERROR)
        return NULL;
    char what[200];
    if (json->type != CALX_XT_JSON) {
        calx__expr_describe(json, what, sizeof what);
        calx_expr_free(json);
        calx_expr_free(step);
        return calx__expr_errorf(CALX_ERR_TYPE, "%s: %s is not JSON", fn, what);
    }
    if (path_length(json) >= CALX__JSON_PATH_MAX) {
        calx_expr_free(json);
        calx_expr_free(step);
        return calx__expr_errorf(CALX_ERR_ARGUMENT, "%s: a JSON path of more than %d steps",
                                 fn, CALX__JSON_PATH_MAX);
    }
    return NULL;
}

calx_expr *calx_json_get(calx_expr *json, const char *key)
{
    calx_expr *step = key ? calx_lit_text(key)
                          : calx__expr_errorf(CALX_ERR_ARGUMENT, "calx_json_get: the key is NULL");
    calx_expr *bad = check_base(json, step, "calx_json_get");
    return bad ? bad : json_node(json, step, CALX_JSON_VALUE, CALX_XT_JSON);
}

calx_expr *calx_json_at(calx_expr *json, int64_t index)
{
    calx_expr *step = calx_lit(calx_int(index));
    calx_expr *bad = check_base(json, step, "calx_json_at");
    return bad ? bad : json_node(json, step, CALX_JSON_VALUE, CALX_XT_JSON);
}

/* The path's last step read as `as` (type t). */
static calx_expr *read_as(calx_expr *path, calx_json_as as, calx_xtype t, const char *fn)
{
    if (!path || path->kind == CALX_X_ERROR)
        return calx__expr_take_error(&path, 1);
    if (path->kind != CALX_X_JSON || path->u.json.as != CALX_JSON_VALUE) {
        char what[200];
        calx__expr_describe(path, what, sizeof what);
        calx_expr_free(path);
        return calx__expr_errorf(CALX_ERR_ARGUMENT,
                                 "%s takes a JSON path (calx_json_get, calx_json_at), not %s",
                                 fn, what);
    }
    path->u.json.as = as;
    path->type = t;
    return path;
}

calx_expr *calx_json_as_text(calx_expr *path)
{
    return read_as(path, CALX_JSON_TEXT, CALX_XT_TEXT, "calx_json_as_text");
}

calx_expr *calx_json_as_int(calx_expr *path)
{
    return read_as(path, CALX_JSON_INT, CALX_XT_INT, "calx_json_as_int");
}

calx_expr *calx_json_as_real(calx_expr *path)
{
    return read_as(path, CALX_JSON_REAL, CALX_XT_REAL, "calx_json_as_real");
}

calx_expr *calx_json_as_bool(calx_expr *path)
{
    return read_as(path, CALX_JSON_BOOL, CALX_XT_BOOL, "calx_json_as_bool");
}

calx_expr *calx_json_contains(calx_expr *json, const char *json_text)
{
    calx_expr *step = json_text ? calx_lit(calx_value_json(json_text))
                                : calx__expr_errorf(CALX_ERR_ARGUMENT,
                                                    "calx_json_contains: the JSON is NULL");
    calx_expr *bad = check_base(json, step, "calx_json_contains");
    return bad ? bad : json_node(json, step, CALX_JSON_CONTAINS, CALX_XT_BOOL);
}

size_t calx__json_path_steps(const calx_expr *e, const calx_expr **steps)
{
    size_t n = path_length(e);
    for (size_t i = n; i-- > 0; e = e->u.json.a)
        steps[i] = e->u.json.step;
    return n;
}

const calx_expr *calx__json_path_base(const calx_expr *e)
{
    while (e->kind == CALX_X_JSON && e->u.json.as != CALX_JSON_CONTAINS)
        e = e->u.json.a;
    return e;
}
