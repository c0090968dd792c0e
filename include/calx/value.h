/* SPDX-License-Identifier: MIT */
/* calx — values and bound parameters.
 *
 * A calx_value is one SQL value: NULL, an integer, a real, text, a blob, a
 * bool, or one of the richer types of calx/types.h (an exact decimal, a
 * UUID, a date, a time of day, a naive date-time, an instant, an interval)
 * or JSON text. NULL is its own type, distinct from 0, "" and false. Each
 * database stores the richer types its own way (SQLite as text or scaled
 * integers, PostgreSQL natively); a value says what it is, and the driver
 * and dialect take it from there.
 *
 * Parameters are always bound, never pasted into SQL. SQL text names them
 * :name or marks them positionally with ?, and a call passes them as
 * calx_params, most easily built in place:
 *
 *     calx_conn_execute(conn,
 *         "SELECT * FROM hero WHERE name = :name AND age >= :age",
 *         CALX_PARAMS(CALX_P("name", calx_text("Deadpond")),
 *                     CALX_P("age", calx_int(30))), &err);
 *
 * calx copies parameters when the call is made: the caller's strings and
 * arrays may be reused as soon as the call returns.
 */
#ifndef CALX_VALUE_H
#define CALX_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum calx_type {
    CALX_NULL = 0,
    CALX_INT,    /* int64_t */
    CALX_REAL,   /* double */
    CALX_TEXT,   /* UTF-8, not necessarily NUL-terminated inside parameters */
    CALX_BLOB,   /* bytes */
    CALX_BOOL,   /* bool; SQLite stores it as 0/1 */
    CALX_DECIMAL,   /* u.dec and scale: an exact calx_decimal */
    CALX_UUID,      /* u.uuid */
    CALX_DATE,      /* u.i: a calx_date */
    CALX_TIME,      /* u.i: a calx_time */
    CALX_DATETIME,  /* u.i: a naive calx_datetime */
    CALX_TIMESTAMP, /* u.i: a calx_timestamp, an instant */
    CALX_INTERVAL,  /* u.interval */
    CALX_JSON,      /* u.s: JSON text, UTF-8 */
    CALX_ARRAY      /* u.array: a one-dimensional array (PostgreSQL's ARRAY),
                       its elements' type in elem */
} calx_type;

typedef struct calx_value {
    calx_type type;
    union {
        int32_t scale;   /* DECIMAL: digits after the point; otherwise 0 */
        calx_type elem;  /* ARRAY: the type of every element that is not NULL */
    };
    union {
        int64_t i;
        double d;
        bool b;
        struct {
            const char *ptr;
            size_t len;
        } s;     /* TEXT, BLOB and JSON */
        struct {
            uint64_t lo;
            int64_t hi;
        } dec;   /* DECIMAL: the coefficient (calx_decimal's lo, hi) */
        calx_uuid uuid;
        calx_interval interval;
        struct {
            const struct calx_value *items;
            size_t n;
        } array; /* ARRAY: n elements, none of them an ARRAY */
    } u;
} calx_value;

static inline calx_value calx_null(void)
{
    calx_value v;
    memset(&v, 0, sizeof v);
    return v;
}

static inline calx_value calx_int(int64_t i)
{
    calx_value v = calx_null();
    v.type = CALX_INT;
    v.u.i = i;
    return v;
}

static inline calx_value calx_real(double d)
{
    calx_value v = calx_null();
    v.type = CALX_REAL;
    v.u.d = d;
    return v;
}

static inline calx_value calx_bool(bool b)
{
    calx_value v = calx_null();
    v.type = CALX_BOOL;
    v.u.b = b;
    return v;
}

/* Text of n bytes. A NULL pointer gives SQL NULL. */
static inline calx_value calx_textn(const char *s, size_t n)
{
    calx_value v = calx_null();
    if (s) {
        v.type = CALX_TEXT;
        v.u.s.ptr = s;
        v.u.s.len = n;
    }
    return v;
}

/* NUL-terminated text. A NULL pointer gives SQL NULL (handy for nullable
 * columns); "" is the empty string, not NULL. */
static inline calx_value calx_text(const char *s)
{
    return calx_textn(s, s ? strlen(s) : 0);
}

/* A blob of n bytes. A NULL pointer gives SQL NULL. */
static inline calx_value calx_blob(const void *p, size_t n)
{
    calx_value v = calx_textn((const char *)p, n);
    if (p)
        v.type = CALX_BLOB;
    return v;
}

static inline calx_value calx_value_decimal(calx_decimal d)
{
    calx_value v = calx_null();
    v.type = CALX_DECIMAL;
    v.scale = d.scale;
    v.u.dec.lo = d.lo;
    v.u.dec.hi = d.hi;
    return v;
}

/* The calx_decimal a DECIMAL value holds (zero for any other type). */
static inline calx_decimal calx_value_get_decimal(const calx_value *v)
{
    calx_decimal d;
    memset(&d, 0, sizeof d);
    if (v->type == CALX_DECIMAL) {
        d.lo = v->u.dec.lo;
        d.hi = v->u.dec.hi;
        d.scale = v->scale;
    }
    return d;
}

static inline calx_value calx_value_uuid(calx_uuid u)
{
    calx_value v = calx_null();
    v.type = CALX_UUID;
    v.u.uuid = u;
    return v;
}

static inline calx_value calx__value_i(calx_type t, int64_t i)
{
    calx_value v = calx_null();
    v.type = t;
    v.u.i = i;
    return v;
}

static inline calx_value calx_value_date(calx_date d) { return calx__value_i(CALX_DATE, d); }
static inline calx_value calx_value_time(calx_time t) { return calx__value_i(CALX_TIME, t); }
static inline calx_value calx_value_datetime(calx_datetime dt)
{
    return calx__value_i(CALX_DATETIME, dt);
}
static inline calx_value calx_value_timestamp(calx_timestamp ts)
{
    return calx__value_i(CALX_TIMESTAMP, ts);
}

static inline calx_value calx_value_interval(calx_interval iv)
{
    calx_value v = calx_null();
    v.type = CALX_INTERVAL;
    v.u.interval = iv;
    return v;
}

/* JSON text (not checked here: the database checks it, and a model's JSON
 * field is validated before it is written). NULL gives SQL NULL. */
static inline calx_value calx_value_json(const char *json)
{
    calx_value v = calx_text(json);
    if (json)
        v.type = CALX_JSON;
    return v;
}

/* A one-dimensional array of n values (SQLAlchemy's ARRAY, PostgreSQL's
 * INTEGER[], TEXT[], ...): every element is of type elem (CALX_INT,
 * CALX_REAL, CALX_BOOL, CALX_TEXT, CALX_DECIMAL, CALX_UUID, CALX_DATE,
 * CALX_TIME, CALX_DATETIME, CALX_TIMESTAMP, CALX_INTERVAL, CALX_JSON) or
 * NULL; an array of enum values is of CALX_INT (the C values, as read
 * back) or of CALX_TEXT (the names). The
 * value points at items, which are not copied here: calx copies an array
 * (its items and their text) wherever it copies values, so items may be
 * reused once the call that took the value returns. An array of no
 * elements is the empty array, not NULL; items NULL with n 0 is it too.
 * Arrays nest not: an element that is an ARRAY, or of another type than
 * elem, is refused (CALX_ERR_ARGUMENT) where the value is used. Only
 * PostgreSQL stores arrays. */
static inline calx_value calx_value_array(calx_type elem, const calx_value *items, size_t n)
{
    calx_value v = calx_null();
    v.type = CALX_ARRAY;
    v.elem = elem;
    v.u.array.items = items;
    v.u.array.n = n;
    return v;
}

/* One parameter: named (:name in the SQL) or positional (name NULL, ? in
 * the SQL). One call's parameters are all named or all positional. */
typedef struct calx_param {
    const char *name;
    calx_value value;
} calx_param;

typedef struct calx_params {
    const calx_param *items;
    size_t n;
} calx_params;

#define CALX_P(name, value) { (name), (value) }
#define CALX_V(value) { NULL, (value) }
/* A pointer to a calx_params built in place (a compound literal that lives
 * to the end of the enclosing block). */
#define CALX_PARAMS(...)                                                     \
    (&(const calx_params){ (const calx_param[]){ __VA_ARGS__ },               \
                           sizeof((const calx_param[]){ __VA_ARGS__ }) /     \
                               sizeof(calx_param) })

/* Nullable C values, for struct fields that map a nullable column (SQLModel's
 * Optional[int]). Zero-initialised means NULL, so a field nobody set is
 * never mistaken for 0 or false. Every kind has the same two members, so
 * the macros below work on all of them:
 *
 *     calx_opt_int64 age = CALX_SOME(48);     (an initializer)
 *     CALX_SET(hero->age, 16);                (an assignment)
 *     CALX_SET_NULL(hero->age);
 *     if (CALX_IS_NULL(hero->age)) ...
 */
typedef struct calx_opt_int32 { int32_t value; bool valid; } calx_opt_int32;
typedef struct calx_opt_int64 { int64_t value; bool valid; } calx_opt_int64;
typedef struct calx_opt_double { double value; bool valid; } calx_opt_double;
typedef struct calx_opt_bool { bool value; bool valid; } calx_opt_bool;
/* and calx_opt_decimal, calx_opt_uuid, calx_opt_date, ... in calx/types.h */

#define CALX_SOME(v) { .value = (v), .valid = true }
#define CALX_NONE { .valid = false }
#define CALX_SET(field, v) ((field).value = (v), (field).valid = true)
#define CALX_SET_NULL(field) ((field).valid = false)
#define CALX_IS_NULL(field) (!(field).valid)

/* The name of a type: "NULL", "INTEGER", "REAL", "TEXT", "BLOB", "BOOLEAN",
 * "DECIMAL", "UUID", "DATE", "TIME", "DATETIME", "TIMESTAMP", "INTERVAL",
 * "JSON", "ARRAY"; "UNKNOWN" for any other value. Static, never NULL. */
CALX_API const char *calx_type_name(calx_type t);

#ifdef __cplusplus
}
#endif
#endif
