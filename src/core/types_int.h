/* SPDX-License-Identifier: MIT */
/* The value types' insides (calx/types.h), shared by decimal.c, uuid.c,
 * datetime.c, interval.c and value_repr.c, and the helpers the rest of
 * the library needs from them: a decimal as the scaled integer SQLite
 * stores for NUMERIC(p, s), and a decimal's canonical form for the
 * identity map's keys. */
#ifndef CALX_CORE_TYPES_INT_H
#define CALX_CORE_TYPES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "calx/types.h"

/* Decimals, interval comparison and the date-time arithmetic's overflow
 * checks are exact through 128-bit integers. */
#ifndef __SIZEOF_INT128__
#error "calx's value types need a 128-bit integer type (unsigned __int128: gcc or clang on a 64-bit target)"
#endif

/* ---- shared by the four files ---- */

/* Quoting text in an error message: "'%.*s%s'" with CALX__SHOWN(s, n)
 * prints at most CALX__SHOWN_MAX bytes of it and "..." when it was cut, so
 * that a megabyte of garbage makes a readable message. */
#define CALX__SHOWN_MAX 80
#define CALX__SHOWN(s, n)                                                    \
    (int)((n) < CALX__SHOWN_MAX ? (n) : CALX__SHOWN_MAX), (s),               \
        ((n) > CALX__SHOWN_MAX ? "..." : "")

/* The formatters' ending, as snprintf's: text (len bytes) copied into buf,
 * cut to size - 1 bytes and NUL-terminated; returns len. buf may be NULL
 * when size is 0. */
static inline size_t calx__text_out(char *buf, size_t size, const char *text, size_t len)
{
    if (size > 0) {
        size_t k = len < size - 1 ? len : size - 1;
        memcpy(buf, text, k);
        buf[k] = '\0';
    }
    return len;
}

/* ---- in decimal.c ---- */

/* d's coefficient at exactly scale digits after the point (scale 0 ..
 * CALX_DECIMAL_MAX_SCALE) into *out: 1.5 at scale 2 is 150. False, *out
 * unchanged, when digits would be lost (1.25 at scale 1) or the result
 * does not fit an int64. SQLite stores NUMERIC(p, s) as this integer. */
bool calx__decimal_to_scaled_int64(calx_decimal d, int scale, int64_t *out);

/* The decimal v * 10^-scale (calx_decimal_of: scale clamped to 0 ..
 * CALX_DECIMAL_MAX_SCALE), the way back from the integer above. */
calx_decimal calx__decimal_from_scaled_int64(int64_t v, int scale);

/* Strips d's trailing zeros after the point (1.10 becomes 1.1, 0.00
 * becomes 0), so that equal values have equal fields: an identity-map key
 * hashes and compares a normalised decimal's lo, hi and scale (field by
 * field: the struct's 4 bytes of padding are not part of the value). */
void calx__decimal_normalize(calx_decimal *d);

/* ---- in datetime.c ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
 * Hinnant's days_from_civil / civil_from_days: exact for any int32 day,
 * no time zone, no libc). interval.c and value_repr.c use them too. */
int64_t calx__days_from_civil(int64_t y, unsigned m, unsigned d);
void calx__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* After a seconds' point at s[*i], its 1 to 6 digits as microseconds
 * into *us ("5" is 500000), *i moved past them. NULL when they are
 * fine, else what is wrong with them (static: "more than 6 digits ...",
 * "no digits ..."). interval.c reads its seconds with it too. */
const char *calx__take_fraction(const char *s, size_t n, size_t *i, int64_t *us);

#define CALX__USEC_PER_SEC INT64_C(1000000)
#define CALX__USEC_PER_DAY INT64_C(86400000000)
/* 0001-01-01 and 9999-12-31 as calx_date: the years 1-9999 calx reads. */
#define CALX__DATE_MIN (-719162)
#define CALX__DATE_MAX 2932896

#endif
