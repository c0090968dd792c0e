/* SPDX-License-Identifier: MIT */
/* Dates, times of day, naive date-times and instants (calx/types.h): made
 * from their parts, taken apart, parsed and formatted. The calendar is
 * Howard Hinnant's days_from_civil / civil_from_days arithmetic, not
 * timegm or gmtime: it is exact over the whole proleptic Gregorian range,
 * needs no 64-bit time_t, and nothing here reads the process's time zone
 * (an instant's offset is always explicit). Years 1-9999 are Python's, so
 * every value calx accepts can also be a Python datetime. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "calx/types.h"
#include "core/types_int.h"

static const char *const month_names[12] = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
};

int64_t calx__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void calx__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int y, int m)
{
    static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* What is wrong with a date's parts, into why; false when nothing is. */
static bool date_wrong(int y, int m, int d, char *why, size_t size)
{
    if (y < 1 || y > 9999)
        snprintf(why, size, "year %d is outside 1-9999", y);
    else if (m < 1 || m > 12)
        snprintf(why, size, "month %d is outside 1-12", m);
    else if (d < 1 || d > days_in_month(y, m))
        snprintf(why, size, "day %d is outside %s %d, which has %d days", d,
                 month_names[m - 1], y, days_in_month(y, m));
    else
        return false;
    return true;
}

static bool time_wrong(int h, int mi, int s, int us, char *why, size_t size)
{
    if (h < 0 || h > 23)
        snprintf(why, size, "hour %d is outside 0-23", h);
    else if (mi < 0 || mi > 59)
        snprintf(why, size, "minute %d is outside 0-59", mi);
    else if (s < 0 || s > 59)
        snprintf(why, size, "second %d is outside 0-59", s);
    else if (us < 0 || us > 999999)
        snprintf(why, size, "microsecond %d is outside 0-999999", us);
    else
        return false;
    return true;
}

int calx_date_make(int year, int month, int day, calx_date *out, calx_error *err)
{
    char why[128];
    if (date_wrong(year, month, day, why, sizeof why))
        return calx_error_set(err, CALX_ERR_DATA, "no date %04d-%02d-%02d: %s", year, month,
                              day, why);
    *out = (calx_date)calx__days_from_civil(year, (unsigned)month, (unsigned)day);
    return 0;
}

void calx_date_parts(calx_date d, int *year, int *month, int *day)
{
    int64_t y;
    unsigned m, dd;
    calx__civil_from_days(d, &y, &m, &dd);
    if (year)
        *year = (int)y;
    if (month)
        *month = (int)m;
    if (day)
        *day = (int)dd;
}

int calx_time_make(int hour, int minute, int second, int microsecond, calx_time *out,
                   calx_error *err)
{
    char why[128];
    if (time_wrong(hour, minute, second, microsecond, why, sizeof why))
        return calx_error_set(err, CALX_ERR_DATA, "no time of day %02d:%02d:%02d.%06d: %s",
                              hour, minute, second, microsecond, why);
    *out = ((int64_t)hour * 3600 + minute * 60 + second) * CALX__USEC_PER_SEC + microsecond;
    return 0;
}

calx_datetime calx_datetime_of(calx_date d, calx_time t)
{
    /* Exact for every date and time of day; saturated (and so out of
     * range) for the absurd ones, never undefined. */
    __int128 v = (__int128)d * CALX__USEC_PER_DAY + t;
    return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (calx_datetime)v;
}

void calx_datetime_split(calx_datetime dt, calx_date *d, calx_time *t)
{
    int64_t days = dt / CALX__USEC_PER_DAY, rem = dt % CALX__USEC_PER_DAY;
    if (rem < 0) {
        rem += CALX__USEC_PER_DAY;
        days--;
    }
    if (d)
        *d = (calx_date)days;
    if (t)
        *t = rem;
}

/* ---- parsing ---- */

const char *calx__take_fraction(const char *s, size_t n, size_t *i, int64_t *us)
{
    int k = 0;
    int64_t f = 0;
    for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; ++*i) {
        if (++k > 6)
            return "more than 6 digits after the seconds' point (microseconds are the finest)";
        f = f * 10 + (s[*i] - '0');
    }
    if (k == 0)
        return "no digits after the seconds' point";
    for (; k < 6; k++)
        f *= 10;
    *us = f;
    return NULL;
}

/* A parse in progress: the text, where it has got to, and why it failed. */
typedef struct scan {
    const char *s;
    size_t n, i;
    char why[160];
} scan;

static bool fail(scan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(scan *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_digit(scan *c, size_t at)
{
    return at < c->n && c->s[at] >= '0' && c->s[at] <= '9';
}

/* Exactly k digits into *v. */
static bool take_digits(scan *c, int k, int *v)
{
    int x = 0;
    for (int j = 0; j < k; j++) {
        if (!is_digit(c, c->i + (size_t)j))
            return false;
        x = x * 10 + (c->s[c->i + (size_t)j] - '0');
    }
    c->i += (size_t)k;
    *v = x;
    return true;
}

static bool take_char(scan *c, char ch)
{
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

static bool scan_date(scan *c, int64_t *days)
{
    int y, m, d;
    if (!take_digits(c, 4, &y) || !take_char(c, '-') || !take_digits(c, 2, &m) ||
        !take_char(c, '-') || !take_digits(c, 2, &d))
        return fail(c, "expected a date as YYYY-MM-DD");
    if (is_digit(c, c->i))
        return fail(c, "expected a date as YYYY-MM-DD (two digits of day)");
    if (date_wrong(y, m, d, c->why, sizeof c->why))
        return false;
    *days = calx__days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

/* HH:MM[:SS[.f{1,6}]] into microseconds since midnight. */
static bool scan_time(scan *c, int64_t *us)
{
    int h, mi, s = 0, frac = 0;
    if (!take_digits(c, 2, &h) || !take_char(c, ':') || !take_digits(c, 2, &mi))
        return fail(c, "expected a time as HH:MM[:SS[.ffffff]]");
    if (take_char(c, ':')) {
        if (!take_digits(c, 2, &s))
            return fail(c, "expected two digits of seconds after HH:MM:");
        int64_t f = 0;
        const char *why = take_char(c, '.') ? calx__take_fraction(c->s, c->n, &c->i, &f) : NULL;
        if (why)
            return fail(c, "%s", why);
        frac = (int)f;
    }
    if (is_digit(c, c->i))
        return fail(c, "expected a time as HH:MM[:SS[.ffffff]] (two digits each)");
    if (time_wrong(h, mi, s, frac, c->why, sizeof c->why))
        return false;
    *us = ((int64_t)h * 3600 + mi * 60 + s) * CALX__USEC_PER_SEC + frac;
    return true;
}

/* A date, ' ' or 'T', a time: microseconds since 1970-01-01 00:00. */
static bool scan_datetime(scan *c, int64_t *us)
{
    int64_t days, t;
    if (!scan_date(c, &days))
        return false;
    if (!take_char(c, ' ') && !take_char(c, 'T'))
        return fail(c, "expected a date and a time joined by ' ' or 'T'");
    if (!scan_time(c, &t))
        return false;
    *us = days * CALX__USEC_PER_DAY + t;
    return true;
}

static bool at_offset(scan *c)
{
    return c->i < c->n && (c->s[c->i] == 'Z' || c->s[c->i] == 'z' || c->s[c->i] == '+' ||
                           c->s[c->i] == '-');
}

/* "Z", "+HH", "+HH:MM", "+HHMM", "+HH:MM:SS" (PostgreSQL's for the local
 * mean time of old dates), or the same with '-': seconds east of UTC. */
static bool scan_offset(scan *c, int64_t *secs)
{
    if (take_char(c, 'Z') || take_char(c, 'z')) {
        *secs = 0;
        return true;
    }
    int sign = c->s[c->i] == '-' ? -1 : 1;
    c->i++;
    int h, m = 0, s = 0;
    if (!take_digits(c, 2, &h))
        return fail(c, "expected a UTC offset as Z, +HH, +HH:MM or +HHMM");
    if (take_char(c, ':')) {
        if (!take_digits(c, 2, &m))
            return fail(c, "expected a UTC offset as Z, +HH, +HH:MM or +HHMM");
        if (take_char(c, ':') && !take_digits(c, 2, &s))
            return fail(c, "expected a UTC offset as Z, +HH, +HH:MM or +HHMM");
    } else if (is_digit(c, c->i) && !take_digits(c, 2, &m)) {
        return fail(c, "expected a UTC offset as Z, +HH, +HH:MM or +HHMM");
    }
    if (h > 23 || m > 59 || s > 59)
        return fail(c, "the UTC offset %c%02d:%02d is not one (hours 0-23, minutes 0-59)",
                    sign < 0 ? '-' : '+', h, m);
    *secs = sign * ((int64_t)h * 3600 + m * 60 + s);
    return true;
}

static bool at_end(scan *c)
{
    if (c->i == c->n)
        return true;
    return fail(c, "unexpected '%c' at position %zu", c->s[c->i], c->i + 1);
}

static int parse_error(calx_error *err, const char *what, const scan *c)
{
    return calx_error_set(err, CALX_ERR_DATA, "invalid %s '%.*s%s': %s", what,
                          CALX__SHOWN(c->s, c->n), c->why);
}

int calx_date_parse(const char *s, size_t n, calx_date *out, calx_error *err)
{
    scan c = { .s = s, .n = n };
    int64_t days;
    if (!scan_date(&c, &days) || !at_end(&c))
        return parse_error(err, "date", &c);
    *out = (calx_date)days;
    return 0;
}

int calx_time_parse(const char *s, size_t n, calx_time *out, calx_error *err)
{
    scan c = { .s = s, .n = n };
    int64_t us;
    if (!scan_time(&c, &us) || !at_end(&c))
        return parse_error(err, "time", &c);
    *out = us;
    return 0;
}

int calx_datetime_parse(const char *s, size_t n, calx_datetime *out, calx_error *err)
{
    scan c = { .s = s, .n = n };
    int64_t us;
    if (!scan_datetime(&c, &us))
        return parse_error(err, "datetime", &c);
    if (at_offset(&c)) {
        fail(&c, "it has a UTC offset, which a naive datetime never takes "
                 "(read it as a timestamp)");
        return parse_error(err, "datetime", &c);
    }
    if (!at_end(&c))
        return parse_error(err, "datetime", &c);
    *out = us;
    return 0;
}

int calx_timestamp_parse(const char *s, size_t n, calx_timestamp *out, calx_error *err)
{
    scan c = { .s = s, .n = n };
    int64_t us, off = 0;
    if (!scan_datetime(&c, &us))
        return parse_error(err, "timestamp", &c);
    if (!at_offset(&c)) {
        if (c.i == c.n)
            fail(&c, "it has no UTC offset (\"Z\", \"+HH:MM\"): an instant needs one "
                     "(read a naive value as a datetime)");
        else
            at_end(&c);
        return parse_error(err, "timestamp", &c);
    }
    if (!scan_offset(&c, &off) || !at_end(&c))
        return parse_error(err, "timestamp", &c);
    us -= off * CALX__USEC_PER_SEC;
    if (us < (int64_t)CALX__DATE_MIN * CALX__USEC_PER_DAY ||
        us >= ((int64_t)CALX__DATE_MAX + 1) * CALX__USEC_PER_DAY) {
        fail(&c, "in UTC it falls outside years 1-9999");
        return parse_error(err, "timestamp", &c);
    }
    *out = us;
    return 0;
}

/* ---- formatting ---- */

#define OUT_OF_RANGE "out of range"

static size_t out_of_range(char *buf, size_t size)
{
    return calx__text_out(buf, size, OUT_OF_RANGE, sizeof OUT_OF_RANGE - 1);
}

/* Writes a valid date at p; returns the bytes written (10). */
static int put_date(char *p, calx_date d)
{
    int y, m, dd;
    calx_date_parts(d, &y, &m, &dd);
    return sprintf(p, "%04d-%02d-%02d", y, m, dd);
}

/* Writes a valid time of day at p. */
static int put_time(char *p, calx_time t)
{
    int64_t secs = t / CALX__USEC_PER_SEC;
    int us = (int)(t % CALX__USEC_PER_SEC);
    int len = sprintf(p, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
                      (int)(secs % 60));
    if (us)
        len += sprintf(p + len, ".%06d", us);
    return len;
}

static bool date_ok(int64_t d)
{
    return d >= CALX__DATE_MIN && d <= CALX__DATE_MAX;
}

static bool time_ok(int64_t t)
{
    return t >= 0 && t < CALX__USEC_PER_DAY;
}

static bool datetime_ok(calx_datetime dt)
{
    return dt >= (int64_t)CALX__DATE_MIN * CALX__USEC_PER_DAY &&
           dt < ((int64_t)CALX__DATE_MAX + 1) * CALX__USEC_PER_DAY;
}

size_t calx_date_format(calx_date d, char *buf, size_t size)
{
    if (!date_ok(d))
        return out_of_range(buf, size);
    char text[CALX_DATETIME_TEXT_SIZE];
    int len = put_date(text, d);
    return calx__text_out(buf, size, text, (size_t)len);
}

size_t calx_time_format(calx_time t, char *buf, size_t size)
{
    if (!time_ok(t))
        return out_of_range(buf, size);
    char text[CALX_DATETIME_TEXT_SIZE];
    int len = put_time(text, t);
    return calx__text_out(buf, size, text, (size_t)len);
}

/* A valid naive date-time at p. */
static int put_datetime(char *p, calx_datetime dt)
{
    calx_date d;
    calx_time t;
    calx_datetime_split(dt, &d, &t);
    int len = put_date(p, d);
    p[len++] = ' ';
    return len + put_time(p + len, t);
}

size_t calx_datetime_format(calx_datetime dt, char *buf, size_t size)
{
    if (!datetime_ok(dt))
        return out_of_range(buf, size);
    char text[CALX_DATETIME_TEXT_SIZE];
    int len = put_datetime(text, dt);
    return calx__text_out(buf, size, text, (size_t)len);
}

size_t calx_timestamp_format(calx_timestamp ts, int offset_minutes, char *buf, size_t size)
{
    if (offset_minutes <= -24 * 60 || offset_minutes >= 24 * 60)
        return out_of_range(buf, size);
    __int128 local = (__int128)ts + (__int128)offset_minutes * 60 * CALX__USEC_PER_SEC;
    if (local < INT64_MIN || local > INT64_MAX || !datetime_ok((calx_datetime)local))
        return out_of_range(buf, size);
    char text[CALX_DATETIME_TEXT_SIZE];
    int len = put_datetime(text, (calx_datetime)local);
    int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    len += sprintf(text + len, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', off / 60,
                   off % 60);
    return calx__text_out(buf, size, text, (size_t)len);
}
