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
 * dialect may store as something else (calx_dialect's bind_value). */
static inline bool calx__value_is_rich(const calx_value *v)
{
    return v->type >= CALX_DECIMAL;
}

/* n bytes of s as a value of the richer type t (DECIMAL ... JSON), by
 * calx_decimal_parse, calx_date_parse, ...; JSON is taken as it is (the
 * text points at s). Errors: the parser's CALX_ERR_DATA naming the text;
 * CALX_ERR_ARGUMENT for a type that does not parse. out is written only
 * on success. */
int calx__value_parse(calx_type t, const char *s, size_t n, calx_value *out, calx_error *err);

#endif
