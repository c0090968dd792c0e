/* SPDX-License-Identifier: MIT */
/* Values meeting the richer column types (decimal, UUID, dates and times,
 * intervals, JSON), both ways:
 *
 *   into a column  a literal compared with a column, or written into one,
 *                  takes the column's type as SQLAlchemy coerces it: text
 *                  is parsed ('2024-02-29' for a DATE), an integer becomes
 *                  a decimal, a decimal is brought to the column's scale
 *                  (1.1 becomes 1.10 for NUMERIC(10, 2)) and checked
 *                  against its precision. A decimal at its column's scale
 *                  is what lets SQLite keep it as a scaled integer.
 *   out of one     what a driver returned as text becomes the column's
 *                  type (the dialects' stored_value hooks start here and
 *                  add their own storage forms).
 *
 * The basic types' rules stay with their callers (expr.c's comparisons,
 * dml.c's assignments): this file is only for the types that parse. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/json_check.h"
#include "core/types_int.h"
#include "core/value_int.h"
#include "sql/convert.h"
#include "sql/dml_int.h"
#include "sql/select_int.h"

/* A decimal brought to column c's scale and checked against its precision
 * (c NULL: left as it is). */
static const char *decimal_into(calx_decimal d, const calx_column *c, calx_value *v,
                                char *why, size_t n)
{
    char text[CALX_DECIMAL_TEXT_SIZE];
    if (c) {
        calx_decimal at;
        calx_decimal_format(d, text, sizeof text);
        if (calx_decimal_round(d, c->scale, CALX_ROUND_DOWN, &at, NULL) != 0 ||
            calx_decimal_cmp(at, d) != 0) {
            snprintf(why, n, "the value %s: more than %d digits after the point", text,
                     c->scale);
            return why;
        }
        if (!calx_decimal_fits(at, c->precision, c->scale)) {
            snprintf(why, n, "the value %s: more than %d digits before the point", text,
                     c->precision - c->scale);
            return why;
        }
        d = at;
    }
    *v = calx_value_decimal(d);
    return NULL;
}

/* The value type of a rich xtype. */
static calx_type value_type_of(calx_xtype t)
{
    switch (t) {
    case CALX_XT_DECIMAL: return CALX_DECIMAL;
    case CALX_XT_UUID: return CALX_UUID;
    case CALX_XT_DATE: return CALX_DATE;
    case CALX_XT_TIME: return CALX_TIME;
    case CALX_XT_DATETIME: return CALX_DATETIME;
    case CALX_XT_TIMESTAMP: return CALX_TIMESTAMP;
    case CALX_XT_INTERVAL: return CALX_INTERVAL;
    case CALX_XT_JSON: return CALX_JSON;
    default: return CALX_NULL;
    }
}

bool calx__xtype_is_rich(calx_xtype t)
{
    return value_type_of(t) != CALX_NULL;
}

const char *calx__value_into_column(calx_value *v, calx_xtype to, const calx_column *c,
                                    char *why, size_t n)
{
    calx_type want = value_type_of(to);
    if (v->type == CALX_NULL)
        return NULL;
    if (want == CALX_DECIMAL && v->type == CALX_INT)
        return decimal_into(calx_decimal_of(v->u.i, 0), c, v, why, n);
    if (want == CALX_DECIMAL && v->type == CALX_REAL) {
        /* A double is not exact: 0.1 has no such value. */
        snprintf(why, n, "the REAL value %.17g: a decimal takes an exact value "
                 "(calx_decimal_parse, calx_decimal_of)", v->u.d);
        return why;
    }
    if (v->type == CALX_TEXT && want != CALX_NULL) {
        calx_error err;
        if (calx__value_parse(want, v->u.s.ptr, v->u.s.len, v, &err) != 0) {
            snprintf(why, n, "%s", err.message);
            return why;
        }
    }
    if (v->type == want)
        return want == CALX_DECIMAL ? decimal_into(calx_value_get_decimal(v), c, v, why, n)
                                    : NULL;
    const char *name = calx_type_name(v->type);
    snprintf(why, n, "%s %s value", strchr("AEIOU", name[0]) ? "an" : "a", name);
    return why;
}

/* The value type of an array column's elements. */
static calx_type elem_type_of(calx_xtype t)
{
    switch (t) {
    case CALX_XT_INT: return CALX_INT;
    case CALX_XT_REAL: return CALX_REAL;
    case CALX_XT_BOOL: return CALX_BOOL;
    case CALX_XT_TEXT: return CALX_TEXT;
    default: return value_type_of(t);
    }
}

calx_type calx__array_elem_type(const calx_column *c)
{
    calx_xtype to;
    return calx__xtype_of_col(c->array_of, &to) ? elem_type_of(to) : CALX_NULL;
}

/* An array of enum values made the names the database takes: a C value
 * (an INTEGER element, as read back) becomes its name, a name is checked.
 * The names are the enum's static strings. Bound as text, untyped: see
 * calx__column_dtype. */
static const char *enum_items_into(calx_value *v, const calx_enum *e, char *why, size_t n)
{
    calx_value *items = (calx_value *)v->u.array.items;   /* calx's own copy */
    for (size_t i = 0; i < v->u.array.n; i++) {
        calx_value *x = &items[i];
        if (x->type == CALX_INT && x->u.i >= 0 && (uint64_t)x->u.i < e->n) {
            *x = calx_text(e->names[x->u.i]);
        } else if (x->type == CALX_INT) {
            snprintf(why, n, "an ARRAY whose element %zu is %lld, not a value of enum type %s "
                     "(it has %zu)", i + 1, (long long)x->u.i, e->name, e->n);
            return why;
        } else if (x->type == CALX_TEXT) {
            if (calx__enum_index(e, x->u.s.ptr, x->u.s.len) < 0) {
                snprintf(why, n, "an ARRAY whose element %zu is '%.*s', not a name of enum "
                         "type %s", i + 1, (int)(x->u.s.len > 64 ? 64 : x->u.s.len),
                         x->u.s.ptr, e->name);
                return why;
            }
        } else if (x->type != CALX_NULL) {
            snprintf(why, n, "an ARRAY whose element %zu is a %s (the column's elements are "
                     "enum type %s: names or C values)", i + 1, calx_type_name(x->type),
                     e->name);
            return why;
        }
    }
    v->elem = CALX_TEXT;
    return NULL;
}

int calx__enum_array_from_names(const calx_column *c, calx_value *v, calx_error *err)
{
    const calx_enum *e = c->enum_type;
    calx_value *items = (calx_value *)v->u.array.items;   /* the caller's room */
    for (size_t i = 0; i < v->u.array.n; i++) {
        calx_value *x = &items[i];
        if (x->type != CALX_TEXT)
            continue;
        int k = calx__enum_index(e, x->u.s.ptr, x->u.s.len);
        if (k < 0)
            return calx_error_set(err, CALX_ERR_DATA,
                                  "column %s: the database holds '%.*s' (array element %zu), "
                                  "which is not a name of enum type %s",
                                  c->name, (int)(x->u.s.len > 64 ? 64 : x->u.s.len),
                                  x->u.s.ptr, i + 1, e->name);
        *x = calx_int(k);
    }
    v->elem = CALX_INT;
    return 0;
}

const char *calx__array_into_column(calx_value *v, const calx_column *c, char *why, size_t n)
{
    calx_xtype to;
    if (v->type != CALX_ARRAY || !calx__xtype_of_col(c->array_of, &to))
        return NULL;
    if (c->array_of == CALX_COL_ENUM)
        return enum_items_into(v, c->enum_type, why, n);
    calx_type want = elem_type_of(to);
    calx_value *items = (calx_value *)v->u.array.items;   /* calx's own copy */
    for (size_t i = 0; i < v->u.array.n; i++) {
        calx_value *e = &items[i];
        if (e->type == CALX_NULL)
            continue;
        if (want == CALX_REAL && e->type == CALX_INT)
            *e = calx_real((double)e->u.i);
        const char *bad = NULL;
        char inner[160];
        size_t at;
        if (calx__xtype_is_rich(to))
            bad = calx__value_into_column(e, to, c, inner, sizeof inner);
        else if (e->type != want)
            bad = calx_type_name(e->type);
        /* The database would refuse the whole array for one bad element:
         * say which (a JSON field is checked so too). */
        if (!bad && e->type == CALX_JSON && !calx__json_valid(e->u.s.ptr, e->u.s.len, &at)) {
            snprintf(inner, sizeof inner, "invalid JSON at byte %zu of '%.*s%s'", at,
                     (int)(e->u.s.len > 60 ? 60 : e->u.s.len), e->u.s.ptr,
                     e->u.s.len > 60 ? "..." : "");
            bad = inner;
        }
        if (bad) {
            snprintf(why, n, "an ARRAY whose element %zu is %s%s (the column's elements are %s)",
                     i + 1, bad == inner ? "" : "a ", bad, calx__xtype_name(to));
            return why;
        }
    }
    v->elem = want;
    return NULL;
}

int calx__value_from_text(const calx_column *c, calx_value *v, calx_error *err)
{
    if (v->type != CALX_TEXT)
        return 0;
    calx_xtype to;
    if (!calx__xtype_of_col(c->type, &to) || !calx__xtype_is_rich(to))
        return 0;
    char why[200];
    if (calx__value_into_column(v, to, NULL, why, sizeof why))
        return calx_error_set(err, CALX_ERR_DATA, "column %s: %s", c->name, why);
    return 0;
}

static calx_dtype scalar_dtype(calx_coltype t)
{
    switch (t) {
    case CALX_COL_INT32: return CALX_DTYPE_INT32;
    case CALX_COL_INT64: return CALX_DTYPE_INT64;
    case CALX_COL_DOUBLE: return CALX_DTYPE_DOUBLE;
    case CALX_COL_BOOL: return CALX_DTYPE_BOOL;
    case CALX_COL_TEXT: return CALX_DTYPE_TEXT;
    case CALX_COL_TIMESTAMP: return CALX_DTYPE_TIMESTAMP;
    case CALX_COL_DECIMAL: return CALX_DTYPE_DECIMAL;
    case CALX_COL_UUID: return CALX_DTYPE_UUID;
    case CALX_COL_DATE: return CALX_DTYPE_DATE;
    case CALX_COL_TIME: return CALX_DTYPE_TIME;
    case CALX_COL_DATETIME: return CALX_DTYPE_DATETIME;
    case CALX_COL_INTERVAL: return CALX_DTYPE_INTERVAL;
    case CALX_COL_JSON: return CALX_DTYPE_JSON;
    default: return CALX_DTYPE_VALUE;
    }
}

calx_dtype calx__column_dtype(const calx_column *c, bool element)
{
    if (!c)
        return CALX_DTYPE_VALUE;
    if (c->type != CALX_COL_ARRAY)
        return element ? CALX_DTYPE_VALUE : scalar_dtype(c->type);
    calx_dtype e = scalar_dtype(c->array_of);
    return element || e == CALX_DTYPE_VALUE ? e : (calx_dtype)(CALX_DTYPE_ARRAY | e);
}

int calx__enum_index(const calx_enum *e, const char *name, size_t len)
{
    for (size_t i = 0; i < e->n; i++)
        if (strlen(e->names[i]) == len && memcmp(e->names[i], name, len) == 0)
            return (int)i;
    return -1;
}

/* The column an expression of a columns clause shows, seen through labels
 * and the aggregates that keep their argument's type. */
static const calx_column *shown_column(const calx_expr *e)
{
    for (;;) {
        if (e->kind == CALX_X_LABEL) {
            e = e->u.label.a;
        } else if (e->kind == CALX_X_FUNC && e->u.func.n == 1 &&
                   (strcmp(e->u.func.name, "sum") == 0 || strcmp(e->u.func.name, "min") == 0 ||
                    strcmp(e->u.func.name, "max") == 0)) {
            e = e->u.func.args[0];
        } else {
            return calx__expr_column(e);
        }
    }
}

/* The column behind e when its values come back in a stored form (the
 * richer types, a user type's, an array of enum names), else NULL. */
static const calx_column *stored_column(const calx_expr *e)
{
    const calx_column *c = shown_column(e);
    calx_xtype t;
    bool enum_array = c && c->type == CALX_COL_ARRAY && c->array_of == CALX_COL_ENUM;
    return c && (c->user_type || enum_array ||
                 (calx__xtype_of_col(c->type, &t) && calx__xtype_is_rich(t)))
               ? c
               : NULL;
}

size_t calx__select_stored_columns(const calx_select *q, const calx_column **out, size_t max)
{
    size_t n = calx__select_ncols(q), found = 0;
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        found += (out[i] = stored_column(calx__select_col(q, i))) != NULL;
    return found ? n : 0;
}

size_t calx__returning_stored_columns(const calx__dml *s, const calx_column **out, size_t max)
{
    size_t n = s->nreturning, found = 0;
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        found += (out[i] = stored_column(s->returning[i])) != NULL;
    return found ? n : 0;
}
