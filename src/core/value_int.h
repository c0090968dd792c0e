/* SPDX-License-Identifier: MIT */
/* What the library knows of values beyond calx/value.h. */
#ifndef CALX_CORE_VALUE_INT_H
#define CALX_CORE_VALUE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "calx/error.h"
#include "calx/value.h"

/* Whether v points at bytes (u.s): TEXT, BLOB and JSON, the values whose
 * bytes are copied wherever a value is kept past the call that gave it. */
static inline bool calx__value_is_bytes(const calx_value *v)
{
    return v->type == CALX_TEXT || v->type == CALX_BLOB || v->type == CALX_JSON;
}

/* Whether v is of the richer types (DECIMAL ... JSON): the ones a
 * dialect may store as something else (calx_dialect's bind_value). An
 * ARRAY is not one: only a database with arrays takes it. */
static inline bool calx__value_is_rich(const calx_value *v)
{
    return v->type >= CALX_DECIMAL && v->type <= CALX_JSON;
}

/* Whether t may be an ARRAY's element type: a scalar other than BLOB and
 * JSON (PostgreSQL's bytea[] and json[] are left for later). */
bool calx__array_elem_ok(calx_type t);

/* Whether v is a value calx takes: a known type, bytes behind any length,
 * and for an ARRAY an element type calx__array_elem_ok and elements each
 * NULL or of that type (none an ARRAY), items behind any length. */
bool calx__value_ok(const calx_value *v);

/* Keeping a value past the call that gave it: calx__value_keep_size is
 * the bytes its text and, for an ARRAY, its items and their texts take
 * (0 for a value that points at nothing; room for aligning the items
 * included), and calx__value_keep copies them to *p, advancing it, and
 * points v at the copies. Texts are NUL-terminated as well, for drivers
 * and echo that read them so. Several values may share one buffer, each
 * kept in turn, at any alignment. v must be calx__value_ok. */
size_t calx__value_keep_size(const calx_value *v);
void calx__value_keep(calx_value *v, char **p);

/* n bytes of s as a value of the richer type t (DECIMAL ... JSON), by
 * calx_decimal_parse, calx_date_parse, ...; JSON is taken as it is (the
 * text points at s). Errors: the parser's CALX_ERR_DATA naming the text;
 * CALX_ERR_ARGUMENT for a type that does not parse. out is written only
 * on success. */
int calx__value_parse(calx_type t, const char *s, size_t n, calx_value *out, calx_error *err);

#endif
