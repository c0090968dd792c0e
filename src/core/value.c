/* SPDX-License-Identifier: MIT */
/* Values: what is not inline in calx/value.h. */
#include "calx/value.h"
#include "core/value_int.h"

#include <stdalign.h>
#include <stdint.h>

const char *calx_type_name(calx_type t)
{
    switch (t) {
    case CALX_NULL: return "NULL";
    case CALX_INT: return "INTEGER";
    case CALX_REAL: return "REAL";
    case CALX_TEXT: return "TEXT";
    case CALX_BLOB: return "BLOB";
    case CALX_BOOL: return "BOOLEAN";
    case CALX_DECIMAL: return "DECIMAL";
    case CALX_UUID: return "UUID";
    case CALX_DATE: return "DATE";
    case CALX_TIME: return "TIME";
    case CALX_DATETIME: return "DATETIME";
    case CALX_TIMESTAMP: return "TIMESTAMP";
    case CALX_INTERVAL: return "INTERVAL";
    case CALX_JSON: return "JSON";
    case CALX_ARRAY: return "ARRAY";
    }
    return "UNKNOWN";
}

/* The decimal's scale sits in the padding after the type, so a value is
 * still three words: rows hold one per column. */
_Static_assert(sizeof(calx_value) <= 24 || sizeof(void *) < 8,
               "calx_value grew past three words");

int calx__value_parse(calx_type t, const char *s, size_t n, calx_value *out, calx_error *err)
{
    int rc;
    switch (t) {
    case CALX_DECIMAL: {
        calx_decimal d;
        if ((rc = calx_decimal_parse(s, n, &d, err)) == 0)
            *out = calx_value_decimal(d);
        return rc;
    }
    case CALX_UUID: {
        calx_uuid u;
        if ((rc = calx_uuid_parse(s, n, &u, err)) == 0)
            *out = calx_value_uuid(u);
        return rc;
    }
    case CALX_INTERVAL: {
        calx_interval iv;
        if ((rc = calx_interval_parse(s, n, &iv, err)) == 0)
            *out = calx_value_interval(iv);
        return rc;
    }
    case CALX_DATE: {
        calx_date d;
        if ((rc = calx_date_parse(s, n, &d, err)) == 0)
            *out = calx_value_date(d);
        return rc;
    }
    case CALX_TIME:
    case CALX_DATETIME:
    case CALX_TIMESTAMP: {
        int64_t i;
        rc = t == CALX_TIME       ? calx_time_parse(s, n, &i, err)
             : t == CALX_DATETIME ? calx_datetime_parse(s, n, &i, err)
                                  : calx_timestamp_parse(s, n, &i, err);
        if (rc == 0)
            *out = calx__value_i(t, i);
        return rc;
    }
    case CALX_JSON:
        *out = calx_textn(s, n);
        out->type = CALX_JSON;
        return 0;
    default:
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s values are not parsed from text",
                              calx_type_name(t));
    }
}

bool calx__array_elem_ok(calx_type t)
{
    return t != CALX_NULL && t != CALX_BLOB && t != CALX_ARRAY &&
           (unsigned)t <= CALX_ARRAY;
}

static bool scalar_ok(const calx_value *v)
{
    if ((unsigned)v->type > CALX_JSON)
        return false;
    return !(calx__value_is_bytes(v) && v->u.s.len && !v->u.s.ptr);
}

bool calx__value_ok(const calx_value *v)
{
    if (v->type != CALX_ARRAY)
        return scalar_ok(v);
    if (!calx__array_elem_ok(v->elem) || (v->u.array.n && !v->u.array.items))
        return false;
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        if ((e->type != CALX_NULL && e->type != v->elem) || !scalar_ok(e))
            return false;
    }
    return true;
}

static size_t bytes_size(const calx_value *v)
{
    return calx__value_is_bytes(v) ? v->u.s.len + 1 : 0;
}

size_t calx__value_keep_size(const calx_value *v)
{
    if (v->type != CALX_ARRAY)
        return bytes_size(v);
    size_t n = v->u.array.n * sizeof(calx_value) + alignof(calx_value) - 1;
    for (size_t i = 0; i < v->u.array.n; i++)
        n += bytes_size(&v->u.array.items[i]);
    return n;
}

static void keep_bytes(calx_value *v, char **p)
{
    if (!calx__value_is_bytes(v))
        return;
    if (v->u.s.len)
        memcpy(*p, v->u.s.ptr, v->u.s.len);
    (*p)[v->u.s.len] = '\0';
    v->u.s.ptr = *p;
    *p += v->u.s.len + 1;
}

void calx__value_keep(calx_value *v, char **p)
{
    if (v->type != CALX_ARRAY) {
        keep_bytes(v, p);
        return;
    }
    uintptr_t at = ((uintptr_t)*p + alignof(calx_value) - 1) & ~(uintptr_t)(alignof(calx_value) - 1);
    calx_value *items = (calx_value *)at;
    size_t n = v->u.array.n;
    if (n)
        memcpy(items, v->u.array.items, n * sizeof *items);
    *p = (char *)(items + n);
    for (size_t i = 0; i < n; i++)
        keep_bytes(&items[i], p);
    v->u.array.items = items;
}
