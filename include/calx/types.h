/* SPDX-License-Identifier: MIT */
/* calx — the value types beyond SQL's basic five: exact decimals, UUIDs,
 * dates, times of day, date-times with and without a time zone, and
 * intervals. Each is a small C value, copied by assignment, with parse,
 * format and compare; the decimal also has the arithmetic a program needs
 * to total money. None allocates.
 *
 *     calx_decimal price;
 *     if (calx_decimal_parse("19.99", 5, &price, &err) != 0) ...
 *     calx_decimal total;
 *     calx_decimal_mul_int(price, 3, &total, &err);        59.97
 *     char text[CALX_DECIMAL_TEXT_SIZE];
 *     calx_decimal_format(total, text, sizeof text);
 *
 * Text forms are ISO 8601 and Python's (what SQLAlchemy stores on SQLite
 * and PostgreSQL prints): "2024-02-29", "13:45:00.250000",
 * "2024-02-29 13:45:00.250000", "2024-02-29 13:45:00.250000+05:30".
 * Dates are proleptic Gregorian, years 1 to 9999 (Python's range): a value
 * outside it is CALX_ERR_DATA wherever it is read.
 */
#ifndef CALX_TYPES_H
#define CALX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- exact decimals (Python's Decimal, SQL NUMERIC) ----
 *
 * value = coefficient * 10^-scale, the coefficient a 128-bit integer of at
 * most CALX_DECIMAL_MAX_DIGITS digits. 1.10 is coefficient 110, scale 2:
 * the scale is kept (1.10 formats as "1.10"), and compares equal to 1.1.
 * No double is used anywhere. */
#define CALX_DECIMAL_MAX_DIGITS 38
#define CALX_DECIMAL_MAX_SCALE 38
/* Room for any decimal's text: sign, 38 digits, "0." and the NUL. */
#define CALX_DECIMAL_TEXT_SIZE 48

typedef struct calx_decimal {
    uint64_t lo;    /* the coefficient, two's complement, low 64 bits */
    int64_t hi;     /* and its high 64 bits */
    int32_t scale;  /* digits after the point, 0 .. CALX_DECIMAL_MAX_SCALE */
} calx_decimal;

typedef struct calx_opt_decimal { calx_decimal value; bool valid; } calx_opt_decimal;

/* coefficient * 10^-scale: calx_decimal_of(110, 2) is 1.10. scale is
 * clamped to 0 .. CALX_DECIMAL_MAX_SCALE. Never fails. */
CALX_API calx_decimal calx_decimal_of(int64_t coefficient, int scale);

/* Parses n bytes of s: an optional sign, digits with at most one point
 * ("-12.50", ".5", "7."), and an optional exponent ("1.5e3", "2E-2").
 * The scale is the digits written after the point less the exponent,
 * never below 0 ("1.5e3" is 1500, scale 0). Errors: CALX_ERR_DATA for
 * anything else (empty text, spaces, NaN, Infinity), naming the text, and
 * for more than CALX_DECIMAL_MAX_DIGITS digits (leading zeros do not
 * count) or a scale above CALX_DECIMAL_MAX_SCALE. s must not be NULL; out
 * is written only on success; err may be NULL. */
CALX_API int calx_decimal_parse(const char *s, size_t n, calx_decimal *out, calx_error *err);

/* Writes d as plain digits with exactly d.scale digits after the point
 * ("-0.05", "1.10", "3"), NUL-terminated and cut to size - 1 bytes.
 * Returns the length of the whole text (as snprintf does); a size of
 * CALX_DECIMAL_TEXT_SIZE always suffices. buf may be NULL when size is 0. */
CALX_API size_t calx_decimal_format(calx_decimal d, char *buf, size_t size);

/* -1, 0 or 1 as a is below, equal to or above b, by value: 1.1 and 1.10
 * are equal. Exact for every pair. */
CALX_API int calx_decimal_cmp(calx_decimal a, calx_decimal b);

/* Digits of the coefficient (precision as NUMERIC counts it, at least 1)
 * and whether d fits NUMERIC(precision, scale) without rounding: at most
 * scale digits after the point (trailing zeros past it lose nothing: 1.10
 * fits NUMERIC(3, 1)) and precision - scale before it. */
CALX_API int calx_decimal_digits(calx_decimal d);
CALX_API bool calx_decimal_fits(calx_decimal d, int precision, int scale);

/* a + b, a - b at the larger of the two scales, and a * k at a's scale.
 * Errors: CALX_ERR_DATA when the result needs more than
 * CALX_DECIMAL_MAX_DIGITS digits; *out is then unchanged. out must not be
 * NULL; err may be. */
CALX_API int calx_decimal_add(calx_decimal a, calx_decimal b, calx_decimal *out,
                              calx_error *err);
CALX_API int calx_decimal_sub(calx_decimal a, calx_decimal b, calx_decimal *out,
                              calx_error *err);
CALX_API int calx_decimal_mul_int(calx_decimal a, int64_t k, calx_decimal *out,
                                  calx_error *err);

typedef enum calx_rounding {
    CALX_ROUND_HALF_EVEN = 0, /* Python's Decimal default: 2.665 -> 2.66 */
    CALX_ROUND_HALF_UP,       /* away from zero on a tie: 2.665 -> 2.67 */
    CALX_ROUND_DOWN           /* toward zero: the digits are cut */
} calx_rounding;

/* a at exactly scale digits after the point (Decimal.quantize): rounded
 * as mode says when digits go, padded with zeros when they come.
 * Errors: CALX_ERR_DATA for a scale outside 0 .. CALX_DECIMAL_MAX_SCALE
 * or a result of more than CALX_DECIMAL_MAX_DIGITS digits. */
CALX_API int calx_decimal_round(calx_decimal a, int scale, calx_rounding mode,
                                calx_decimal *out, calx_error *err);

/* ---- UUIDs ---- */

/* Room for the 36-character hyphenated form and its NUL. */
#define CALX_UUID_TEXT_SIZE 37

typedef struct calx_uuid {
    uint8_t bytes[16];  /* in the order the text writes them */
} calx_uuid;

typedef struct calx_opt_uuid { calx_uuid value; bool valid; } calx_opt_uuid;

/* Parses n bytes of s as Python's uuid.UUID does: 32 hex digits, with or
 * without the four hyphens, optionally in braces or after "urn:uuid:";
 * either case. Errors: CALX_ERR_DATA naming the text. s must not be NULL;
 * err may be. */
CALX_API int calx_uuid_parse(const char *s, size_t n, calx_uuid *out, calx_error *err);

/* The hyphenated lower-case form, 36 characters and a NUL, into out
 * (room for CALX_UUID_TEXT_SIZE). */
CALX_API void calx_uuid_format(calx_uuid u, char *out);

/* A random (version 4) UUID from the operating system's generator
 * (getrandom). Errors: CALX_ERR_OPERATIONAL when the system has no
 * randomness to give. out must not be NULL; err may be. */
CALX_API int calx_uuid4(calx_uuid *out, calx_error *err);

/* memcmp order: -1, 0 or 1. */
CALX_API int calx_uuid_cmp(calx_uuid a, calx_uuid b);

/* ---- dates and times ---- */

/* A point in time: microseconds since 1970-01-01 00:00:00 UTC. */
typedef int64_t calx_timestamp;
typedef struct calx_opt_timestamp { calx_timestamp value; bool valid; } calx_opt_timestamp;

/*
 *
 * calx_date      a calendar date: days since 1970-01-01
 * calx_time      a time of day, no zone: microseconds since midnight
 * calx_datetime  a date and time, no zone ("naive"): microseconds since
 *                1970-01-01 00:00 on the same wall clock; never shifted
 * calx_timestamp an instant: microseconds since
 *                1970-01-01 00:00 UTC; what an aware datetime denotes
 * calx_interval  PostgreSQL's INTERVAL: months, days and microseconds,
 *                kept apart because a month and a day have no fixed length */
typedef int32_t calx_date;
typedef int64_t calx_time;
typedef int64_t calx_datetime;

typedef struct calx_interval {
    int32_t months;
    int32_t days;
    int64_t micros;
} calx_interval;

typedef struct calx_opt_date { calx_date value; bool valid; } calx_opt_date;
typedef struct calx_opt_time { calx_time value; bool valid; } calx_opt_time;
typedef struct calx_opt_datetime { calx_datetime value; bool valid; } calx_opt_datetime;
typedef struct calx_opt_interval { calx_interval value; bool valid; } calx_opt_interval;

/* Room for the longest text form of any of them, NUL included (the
 * longest is an interval's, every part at its limit: 56 characters). */
#define CALX_DATETIME_TEXT_SIZE 64

/* A date from its parts, checked (month 1-12, the day in that month, leap
 * years, year 1-9999). Errors: CALX_ERR_DATA naming the parts. */
CALX_API int calx_date_make(int year, int month, int day, calx_date *out, calx_error *err);
/* The parts of a date; any pointer may be NULL. */
CALX_API void calx_date_parts(calx_date d, int *year, int *month, int *day);

/* A time of day from its parts (hour 0-23, minute 0-59, second 0-59,
 * microsecond 0-999999). Errors: CALX_ERR_DATA naming the parts. */
CALX_API int calx_time_make(int hour, int minute, int second, int microsecond,
                            calx_time *out, calx_error *err);

/* A naive date-time from a date and a time of day. Never fails: a date
 * too far out for 64 bits of microseconds (far outside years 1-9999)
 * gives the nearest int64, itself out of range. */
CALX_API calx_datetime calx_datetime_of(calx_date d, calx_time t);
/* Its date and time of day (floored: 1969-12-31 23:00 has the date
 * 1969-12-31). Either pointer may be NULL. */
CALX_API void calx_datetime_split(calx_datetime dt, calx_date *d, calx_time *t);

/* Parsers of n bytes of s. They accept what they format and what
 * PostgreSQL and SQLite print: "YYYY-MM-DD"; "HH:MM[:SS[.f...]]" (up to 6
 * fraction digits); a date and a time joined by ' ' or 'T'. A timestamp
 * needs its offset ("Z", "+HH", "+HH:MM", "+HHMM", "-...", and the
 * "+HH:MM:SS" PostgreSQL prints for the local mean time of old dates),
 * which it subtracts to reach UTC, and the instant must fall in years
 * 1-9999 in UTC; calx_datetime_parse refuses an offset (a naive value is
 * never shifted). Errors: CALX_ERR_DATA naming the text and what is
 * wrong with it (the day 30 in February, an hour of 24, a missing offset).
 * s must not be NULL; err may be. */
CALX_API int calx_date_parse(const char *s, size_t n, calx_date *out, calx_error *err);
CALX_API int calx_time_parse(const char *s, size_t n, calx_time *out, calx_error *err);
CALX_API int calx_datetime_parse(const char *s, size_t n, calx_datetime *out, calx_error *err);
CALX_API int calx_timestamp_parse(const char *s, size_t n, calx_timestamp *out,
                                  calx_error *err);

/* Formatters, NUL-terminated and cut to size - 1 bytes, returning the
 * whole length (as snprintf; CALX_DATETIME_TEXT_SIZE always suffices):
 *   date       "2024-02-29"
 *   time       "13:45:00" or "13:45:00.250000" (fraction only when not 0)
 *   datetime   "2024-02-29 13:45:00[.250000]"
 *   timestamp  the instant on the clock offset_minutes east of UTC, with
 *              that offset: "2024-02-29 08:15:00+00:00" at 0,
 *              "2024-02-29 13:45:00+05:30" at 330
 * A value outside years 1-9999, a time of day below 0 or of 24 hours or
 * more, and an offset of a day or more (|offset_minutes| >= 1440) format
 * as "out of range". */
CALX_API size_t calx_date_format(calx_date d, char *buf, size_t size);
CALX_API size_t calx_time_format(calx_time t, char *buf, size_t size);
CALX_API size_t calx_datetime_format(calx_datetime dt, char *buf, size_t size);
CALX_API size_t calx_timestamp_format(calx_timestamp ts, int offset_minutes, char *buf,
                                      size_t size);

/* Intervals. calx_interval_parse reads ISO 8601 durations ("P1Y2M3DT4H5M6.5S",
 * "-P3D", "PT-1.5S") and PostgreSQL's own output ("1 year 2 mons 3 days
 * 04:05:06.5", "-3 days", "-00:00:01.5"); years count 12 months, weeks 7
 * days, hours, minutes and seconds go to micros; only seconds take a
 * fraction, of up to 6 digits. calx_interval_format writes ISO 8601
 * ("P1Y2M3DT4H5M6.5S", "PT0S" for zero), each part with its own sign
 * when they differ ("P1DT-2H", as PostgreSQL's iso_8601 style), which
 * calx_interval_parse reads back to the same parts. Errors:
 * CALX_ERR_DATA naming the text; overflow of a part is one. */
CALX_API int calx_interval_parse(const char *s, size_t n, calx_interval *out, calx_error *err);
CALX_API size_t calx_interval_format(calx_interval iv, char *buf, size_t size);

/* -1, 0 or 1 as PostgreSQL orders intervals: by their length with a
 * month of 30 days and a day of 24 hours, so "1 mon" equals "30 days"
 * (compare the parts yourself where that is not what you want). Exact. */
CALX_API int calx_interval_cmp(calx_interval a, calx_interval b);

#ifdef __cplusplus
}
#endif
#endif
