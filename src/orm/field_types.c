/* SPDX-License-Identifier: MIT */
/* The model fields of the richer types — DECIMAL, UUID, DATE, TIME,
 * DATETIME, INTERVAL, ENUM — as one family: each is a fixed-size C value,
 * its nullable form the same value followed by a valid flag, so one set of
 * functions (size, NULL, to and from values, validation, repr) serves them
 * all. The basic kinds keep their own code in model.c; JSON is a text. */
#include <stdlib.h>
#include <string.h>

#include "core/types_int.h"
#include "core/value_repr.h"
#include "orm/object.h"

/* The C value's size; its nullable form is { value; bool valid; } with the
 * flag right after the value (every value's size is a multiple of its
 * alignment). */
static size_t value_size(calx_ftype t)
{
    switch (t) {
    case CALX_F_DECIMAL: return sizeof(calx_decimal);
    case CALX_F_UUID: return sizeof(calx_uuid);
    case CALX_F_DATE: return sizeof(calx_date);
    case CALX_F_TIME: return sizeof(calx_time);
    case CALX_F_DATETIME: return sizeof(calx_datetime);
    case CALX_F_INTERVAL: return sizeof(calx_interval);
    case CALX_F_ENUM: return sizeof(int);
    default: return 0;
    }
}

_Static_assert(offsetof(calx_opt_decimal, valid) == sizeof(calx_decimal), "flag placement");
_Static_assert(offsetof(calx_opt_uuid, valid) == sizeof(calx_uuid), "flag placement");
_Static_assert(offsetof(calx_opt_date, valid) == sizeof(calx_date), "flag placement");
_Static_assert(offsetof(calx_opt_time, valid) == sizeof(calx_time), "flag placement");
_Static_assert(offsetof(calx_opt_datetime, valid) == sizeof(calx_datetime), "flag placement");
_Static_assert(offsetof(calx_opt_interval, valid) == sizeof(calx_interval), "flag placement");
_Static_assert(offsetof(calx_opt_int32, valid) == sizeof(int) && sizeof(int) == 4,
               "an ENUM's nullable form is a calx_opt_int32");

size_t calx__rich_size(const calx_field *f)
{
    if (!f->nullable)
        return value_size(f->type);
    switch (f->type) {
    case CALX_F_DECIMAL: return sizeof(calx_opt_decimal);
    case CALX_F_UUID: return sizeof(calx_opt_uuid);
    case CALX_F_DATE: return sizeof(calx_opt_date);
    case CALX_F_TIME: return sizeof(calx_opt_time);
    case CALX_F_DATETIME: return sizeof(calx_opt_datetime);
    case CALX_F_INTERVAL: return sizeof(calx_opt_interval);
    case CALX_F_ENUM: return sizeof(calx_opt_int32);
    default: return 0;
    }
}

bool calx__rich_is_null(const calx_field *f, const void *p)
{
    return f->nullable && !*((const bool *)((const char *)p + value_size(f->type)));
}

void calx__rich_set_null(const calx_field *f, void *p)
{
    if (f->nullable)
        *(bool *)((char *)p + value_size(f->type)) = false;
}

static const calx_column *column_of(const calx_model *m, const calx_field *f)
{
    return &m->table.columns[f - m->fields];
}

calx_value calx__rich_value(const calx_model *m, const calx_field *f, const void *p)
{
    if (calx__rich_is_null(f, p))
        return calx_null();
    switch (f->type) {
    case CALX_F_DECIMAL: {
        /* At the column's scale, which SQLite's storage needs; validation
         * made sure no digit is lost. */
        calx_decimal d = *(const calx_decimal *)p, at;
        if (calx_decimal_round(d, column_of(m, f)->scale, CALX_ROUND_DOWN, &at, NULL) == 0)
            d = at;
        return calx_value_decimal(d);
    }
    case CALX_F_UUID: return calx_value_uuid(*(const calx_uuid *)p);
    case CALX_F_DATE: return calx_value_date(*(const calx_date *)p);
    case CALX_F_TIME: return calx_value_time(*(const calx_time *)p);
    case CALX_F_DATETIME: return calx_value_datetime(*(const calx_datetime *)p);
    case CALX_F_INTERVAL: return calx_value_interval(*(const calx_interval *)p);
    case CALX_F_ENUM: {
        const calx_enum *e = column_of(m, f)->enum_type;
        int i = *(const int *)p;
        /* Validation refuses any other value before a write. */
        return i >= 0 && (size_t)i < e->n ? calx_text(e->names[i]) : calx_null();
    }
    default: return calx_null();
    }
}

int calx__rich_store(const calx_model *m, const calx_field *f, void *p, const calx_value *v,
                     calx_error *err)
{
    union {
        calx_decimal dec;
        calx_uuid uuid;
        calx_interval iv;
        int64_t i;
        int e;
        int32_t date;
    } x;
    calx_type want;
    switch (f->type) {
    case CALX_F_DECIMAL: want = CALX_DECIMAL; x.dec = calx_value_get_decimal(v); break;
    case CALX_F_UUID: want = CALX_UUID; x.uuid = v->u.uuid; break;
    case CALX_F_DATE: want = CALX_DATE; x.date = (int32_t)v->u.i; break;
    case CALX_F_TIME: want = CALX_TIME; x.i = v->u.i; break;
    case CALX_F_DATETIME: want = CALX_DATETIME; x.i = v->u.i; break;
    case CALX_F_INTERVAL: want = CALX_INTERVAL; x.iv = v->u.interval; break;
    case CALX_F_ENUM: {
        want = CALX_TEXT;
        if (v->type != CALX_TEXT)
            break;
        const calx_enum *e = column_of(m, f)->enum_type;
        size_t k = 0;
        while (k < e->n && !(strlen(e->names[k]) == v->u.s.len &&
                             memcmp(e->names[k], v->u.s.ptr, v->u.s.len) == 0))
            k++;
        if (k == e->n)
            return calx_error_set(err, CALX_ERR_DATA,
                                  "%s.%s: the database holds '%.*s', which is not a name "
                                  "of enum type %s",
                                  m->name, f->name, (int)(v->u.s.len > 64 ? 64 : v->u.s.len),
                                  v->u.s.ptr, e->name);
        x.e = (int)k;
        break;
    }
    default: want = CALX_NULL; break;
    }
    if (v->type != want)
        return calx_error_set(err, CALX_ERR_TYPE,
                              "%s.%s cannot hold the %s value the database returned",
                              m->name, f->name, calx_type_name(v->type));
    size_t n = value_size(f->type);
    memcpy(p, &x, n);
    if (f->nullable)
        *(bool *)((char *)p + n) = true;
    return 0;
}

bool calx__rich_changed(const calx_field *f, const void *a, const void *b)
{
    if (f->type == CALX_F_DECIMAL)
        return calx_decimal_cmp(*(const calx_decimal *)a, *(const calx_decimal *)b) != 0;
    return memcmp(a, b, value_size(f->type)) != 0;
}

int calx__rich_check(const calx_model *m, const calx_field *f, const void *p, calx_error *err)
{
    const calx_column *c = column_of(m, f);
    if (f->type == CALX_F_DECIMAL) {
        const calx_decimal *d = p;
        calx_decimal at;
        char text[CALX_DECIMAL_TEXT_SIZE];
        calx_decimal_format(*d, text, sizeof text);
        if (calx_decimal_round(*d, c->scale, CALX_ROUND_DOWN, &at, NULL) != 0 ||
            calx_decimal_cmp(at, *d) != 0)
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: ensure that there are no more than %d decimal "
                                  "places (the value is %s)",
                                  m->name, f->name, c->scale, text);
        if (!calx_decimal_fits(at, c->precision, c->scale))
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: ensure that there are no more than %d digits in "
                                  "total (the value is %s)",
                                  m->name, f->name, c->precision, text);
    } else if (f->type == CALX_F_ENUM) {
        int i = *(const int *)p;
        if (i < 0 || (size_t)i >= c->enum_type->n)
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: %d is not a value of enum type %s (it has %zu)",
                                  m->name, f->name, i, c->enum_type->name, c->enum_type->n);
    } else if (f->type == CALX_F_INTERVAL) {
        const calx_interval *iv = p;
        if (iv->months == INT32_MIN)
            return calx_error_set(err, CALX_ERR_VALIDATION, "%s.%s: not a valid interval",
                                  m->name, f->name);
    }
    return 0;
}

bool calx__rich_arg_unset(const calx_field *f, const void *a)
{
    if (f->nullable)
        return false;
    switch (f->type) {
    case CALX_F_DECIMAL: return ((const calx_decimal *)a)->scale == -1;
    case CALX_F_UUID: {
        static const calx_uuid nil;
        return memcmp(a, &nil, sizeof nil) == 0;
    }
    case CALX_F_DATE: return *(const calx_date *)a == INT32_MIN;
    case CALX_F_TIME:
    case CALX_F_DATETIME: return *(const int64_t *)a == INT64_MIN;
    case CALX_F_INTERVAL: return ((const calx_interval *)a)->months == INT32_MIN;
    case CALX_F_ENUM: return *(const int64_t *)a == INT64_MIN;
    default: return false;
    }
}

int calx__rich_take_arg(const calx_model *m, const calx_field *f, void *p, const void *a,
                        calx_error *err)
{
    if (f->type == CALX_F_ENUM && !f->nullable) {
        /* Taken as int64_t, so a value out of int's range is seen. */
        int64_t x = *(const int64_t *)a;
        if (x < 0 || x > INT32_MAX)
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: %lld is not a value of enum type %s", m->name,
                                  f->name, (long long)x, column_of(m, f)->enum_type->name);
        *(int *)p = (int)x;
        return 0;
    }
    memcpy(p, a, calx__rich_size(f));
    return 0;
}

void calx__enum_repr(calx_buf *b, const calx_enum *e, int64_t i)
{
    /* SQLModel shows an Enum member: <Mood.happy: 'happy'>. */
    if (i >= 0 && (uint64_t)i < e->n)
        calx__buf_printf(b, "<%s.%s: '%s'>", e->name, e->names[i], e->names[i]);
    else
        calx__buf_printf(b, "%lld", (long long)i);
}

void calx__rich_repr(calx_buf *b, const calx_model *m, const calx_field *f, const void *p)
{
    switch (f->type) {
    case CALX_F_DECIMAL: calx__decimal_repr(b, *(const calx_decimal *)p); break;
    case CALX_F_UUID: calx__uuid_repr(b, *(const calx_uuid *)p); break;
    case CALX_F_DATE: calx__date_repr(b, *(const calx_date *)p); break;
    case CALX_F_TIME: calx__time_repr(b, *(const calx_time *)p); break;
    case CALX_F_DATETIME: calx__datetime_repr(b, *(const calx_datetime *)p); break;
    case CALX_F_INTERVAL: calx__interval_repr(b, *(const calx_interval *)p); break;
    case CALX_F_ENUM: calx__enum_repr(b, column_of(m, f)->enum_type, *(const int *)p); break;
    default: break;
    }
}
