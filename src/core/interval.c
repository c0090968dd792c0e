/* SPDX-License-Identifier: MIT */
/* Intervals (calx/types.h), PostgreSQL's three parts: months, days and
 * microseconds, kept apart because a month and a day have no fixed
 * length. Read from ISO 8601 durations and from PostgreSQL's default
 * ("postgres" IntervalStyle) output; written as ISO 8601, each part with
 * its own sign as PostgreSQL's iso_8601 style writes mixed signs; ordered
 * as PostgreSQL orders them (a month of 30 days, a day of 24 hours),
 * exactly, through 128-bit sums. Parts are summed in 128 bits while
 * reading, so that "overflow" is decided once, on the finished parts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calx/types.h"
#include "core/types_int.h"

typedef __int128 i128;

#define USEC_PER_HOUR (3600 * CALX__USEC_PER_SEC)
#define USEC_PER_MIN (60 * CALX__USEC_PER_SEC)
/* No one number of a valid interval is larger (int64's micros are 19
 * digits), nor any running sum: past them the text overflows whatever
 * follows, and the 128-bit sums themselves never can (a number times the
 * largest unit, an hour, stays below 2^102). */
#define NUMBER_CAP ((i128)1 << 70)
#define SUM_CAP ((i128)1 << 110)

/* The parts while reading. */
typedef struct sums {
    i128 months, days, micros;
} sums;


/* A parse in progress. */
typedef struct scan {
    const char *s;
    size_t n, i;
    const char *why;   /* static: what is wrong */
} scan;

static bool fail(scan *c, const char *why)
{
    c->why = why;
    return false;
}

enum { MONTHS, DAYS, MICROS };

/* Adds amount to one part (MONTHS, DAYS or MICROS). */
static bool add(scan *c, sums *t, int part, i128 amount)
{
    i128 *sum = part == MONTHS ? &t->months : part == DAYS ? &t->days : &t->micros;
    *sum += amount;
    if (*sum <= -SUM_CAP || *sum >= SUM_CAP)
        return fail(c, "a sum too large for an interval");
    return true;
}

static bool is_digit_at(const scan *c, size_t at)
{
    return at < c->n && c->s[at] >= '0' && c->s[at] <= '9';
}

static bool take(scan *c, char ch)
{
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

/* An optional sign: -1 or 1. */
static int take_sign(scan *c)
{
    if (take(c, '-'))
        return -1;
    take(c, '+');
    return 1;
}

/* One or more digits into *v; false (why set) when there are none or the
 * number passes NUMBER_CAP. */
static bool take_number(scan *c, i128 *v)
{
    if (!is_digit_at(c, c->i))
        return fail(c, "expected a number");
    i128 x = 0;
    while (is_digit_at(c, c->i)) {
        x = x * 10 + (c->s[c->i++] - '0');
        if (x > NUMBER_CAP)
            return fail(c, "a number too large for an interval");
    }
    *v = x;
    return true;
}

/* After a '.', 1 to 6 digits as microseconds. */
static bool take_fraction(scan *c, i128 *us)
{
    int64_t f;
    const char *why = calx__take_fraction(c->s, c->n, &c->i, &f);
    if (why)
        return fail(c, why);
    *us = f;
    return true;
}

/* ISO 8601: [-]P[nY][nM][nW][nD][T[nH][nM][n[.f]S]], each n with its own
 * optional sign, the leading '-' negating the whole. */
static bool scan_iso(scan *c, sums *t)
{
    int whole = take_sign(c);
    if (!take(c, 'P'))
        return fail(c, "expected 'P'");
    static const char date_units[] = "YMWD", time_units[] = "HMS";
    const char *units = date_units;
    int next = 0;      /* units before it were had: they keep their order */
    int parts = 0;
    bool in_time = false;
    while (c->i < c->n) {
        if (!in_time && take(c, 'T')) {
            in_time = true;
            units = time_units;
            next = 0;
            if (c->i == c->n)
                return fail(c, "nothing after 'T'");
            continue;
        }
        int sign = take_sign(c);
        i128 v, frac = 0;
        if (!take_number(c, &v))
            return false;
        bool has_frac = take(c, '.');
        if (has_frac && !take_fraction(c, &frac))
            return false;
        if (c->i == c->n)
            return fail(c, "a number without its unit (Y, M, W, D; H, M, S after T)");
        const char *u = strchr(units + next, c->s[c->i]);
        if (!u || !*u)
            return fail(c, in_time ? "expected H, M or S, in that order, after a number"
                                   : "expected Y, M, W or D, in that order, after a number "
                                     "(T before hours, minutes and seconds)");
        c->i++;
        next = (int)(u - units) + 1;
        if (has_frac && !(in_time && *u == 'S'))
            return fail(c, "only seconds may have a fraction");
        v *= sign * whole;
        frac *= sign * whole;
        bool ok;
        if (!in_time)
            ok = add(c, t, *u == 'Y' || *u == 'M' ? MONTHS : DAYS,
                     v * (*u == 'Y' ? 12 : *u == 'W' ? 7 : 1));
        else
            ok = add(c, t, MICROS,
                     v * (*u == 'H'   ? USEC_PER_HOUR
                          : *u == 'M' ? USEC_PER_MIN
                                      : CALX__USEC_PER_SEC) +
                         frac);
        if (!ok)
            return false;
        parts++;
    }
    if (parts == 0)
        return fail(c, "no parts after 'P' (zero is \"PT0S\")");
    return true;
}

/* A unit word of PostgreSQL's output (and the other spellings its input
 * takes): where it goes and how much one is. */
typedef struct unit_word {
    const char *name;
    int part;      /* MONTHS, DAYS or MICROS */
    int64_t size;
} unit_word;

static const unit_word unit_words[] = {
    { "year", MONTHS, 12 },   { "years", MONTHS, 12 },  { "mon", MONTHS, 1 },
    { "mons", MONTHS, 1 },    { "month", MONTHS, 1 },   { "months", MONTHS, 1 },
    { "week", DAYS, 7 },      { "weeks", DAYS, 7 },     { "day", DAYS, 1 },
    { "days", DAYS, 1 },      { "hour", MICROS, USEC_PER_HOUR },
    { "hours", MICROS, USEC_PER_HOUR },                 { "min", MICROS, USEC_PER_MIN },
    { "mins", MICROS, USEC_PER_MIN },                   { "minute", MICROS, USEC_PER_MIN },
    { "minutes", MICROS, USEC_PER_MIN },                { "sec", MICROS, CALX__USEC_PER_SEC },
    { "secs", MICROS, CALX__USEC_PER_SEC },             { "second", MICROS, CALX__USEC_PER_SEC },
    { "seconds", MICROS, CALX__USEC_PER_SEC },
};

/* [+-]H+:MM[:SS[.f]] (the hours may run past 24), into *us. */
static bool scan_clock(scan *c, int sign, i128 *us)
{
    i128 h, m, s = 0, f = 0;
    if (!take_number(c, &h) || !take(c, ':'))
        return fail(c, "expected a time as HH:MM:SS");
    size_t at = c->i;
    if (!take_number(c, &m) || c->i - at != 2 || m > 59)
        return fail(c, "expected two digits of minutes, 00-59, after the hours");
    if (take(c, ':')) {
        at = c->i;
        if (!take_number(c, &s) || c->i - at != 2 || s > 59)
            return fail(c, "expected two digits of seconds, 00-59, after the minutes");
        if (take(c, '.') && !take_fraction(c, &f))
            return false;
    }
    *us = sign * (h * USEC_PER_HOUR + m * USEC_PER_MIN + s * CALX__USEC_PER_SEC + f);
    return true;
}

/* PostgreSQL's output: "1 year 2 mons 3 days 04:05:06.5", "-3 days",
 * "1 day -02:00:00", "-1 years +3 days": numbers with unit words and at
 * most one clock, one space apart. */
static bool scan_postgres(scan *c, sums *t)
{
    bool clock = false;
    int parts = 0;
    while (c->i < c->n) {
        if (parts > 0 && !take(c, ' '))
            return fail(c, "expected one space between the parts");
        int sign = take_sign(c);
        size_t start = c->i;
        i128 v;
        if (!take_number(c, &v))
            return false;
        if (c->i < c->n && c->s[c->i] == ':') {
            if (clock)
                return fail(c, "two times of day (HH:MM:SS)");
            clock = true;
            c->i = start;
            i128 us;
            if (!scan_clock(c, sign, &us) || !add(c, t, MICROS, us))
                return false;
            parts++;
            continue;
        }
        if (c->i < c->n && c->s[c->i] == '.')
            return fail(c, "a fraction of a unit (PostgreSQL writes them as HH:MM:SS.ffffff)");
        if (!take(c, ' '))
            return fail(c, "a number without its unit (years, mons, days, ...)");
        size_t w = c->i;
        while (c->i < c->n && c->s[c->i] >= 'a' && c->s[c->i] <= 'z')
            c->i++;
        const unit_word *u = NULL;
        for (size_t k = 0; k < sizeof unit_words / sizeof unit_words[0]; k++) {
            if (strlen(unit_words[k].name) == c->i - w &&
                memcmp(unit_words[k].name, c->s + w, c->i - w) == 0)
                u = &unit_words[k];
        }
        if (!u)
            return fail(c, "an unknown unit (years, mons, weeks, days, hours, mins, secs)");
        if (!add(c, t, u->part, v * sign * u->size))
            return false;
        parts++;
    }
    if (parts == 0)
        return fail(c, "it is empty");
    return true;
}

int calx_interval_parse(const char *s, size_t n, calx_interval *out, calx_error *err)
{
    scan c = { .s = s, .n = n };
    sums t = { 0, 0, 0 };
    size_t p = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    bool iso = p < n && s[p] == 'P';
    if (!(iso ? scan_iso(&c, &t) : scan_postgres(&c, &t)))
        return calx_error_set(err, CALX_ERR_DATA,
                              "invalid interval '%.*s%s': %s at position %zu (expected ISO "
                              "8601, \"P1Y2M3DT4H5M6.5S\", or PostgreSQL's \"1 year 2 mons "
                              "3 days 04:05:06.5\")",
                              CALX__SHOWN(s, n), c.why, c.i + 1);
    const char *part = t.months < INT32_MIN || t.months > INT32_MAX ? "months"
                       : t.days < INT32_MIN || t.days > INT32_MAX   ? "days"
                       : t.micros < INT64_MIN || t.micros > INT64_MAX ? "time"
                                                                        : NULL;
    if (part)
        return calx_error_set(err, CALX_ERR_DATA,
                              "interval '%.*s%s' is out of range: its %s overflow%s",
                              CALX__SHOWN(s, n), part, part[0] == 't' ? "s" : "");
    out->months = (int32_t)t.months;
    out->days = (int32_t)t.days;
    out->micros = (int64_t)t.micros;
    return 0;
}

size_t calx_interval_format(calx_interval iv, char *buf, size_t size)
{
    char text[CALX_DATETIME_TEXT_SIZE];
    int len = 0;
    text[len++] = 'P';
    int32_t years = iv.months / 12, mons = iv.months % 12;
    if (years)
        len += sprintf(text + len, "%dY", (int)years);
    if (mons)
        len += sprintf(text + len, "%dM", (int)mons);
    if (iv.days)
        len += sprintf(text + len, "%dD", (int)iv.days);
    if (iv.micros) {
        text[len++] = 'T';
        int64_t h = iv.micros / USEC_PER_HOUR, rem = iv.micros % USEC_PER_HOUR;
        int64_t m = rem / USEC_PER_MIN;
        rem %= USEC_PER_MIN;   /* |rem| < 60 s: negating it is safe */
        if (h)
            len += sprintf(text + len, "%lldH", (long long)h);
        if (m)
            len += sprintf(text + len, "%lldM", (long long)m);
        if (rem) {
            int64_t a = rem < 0 ? -rem : rem;
            len += sprintf(text + len, "%s%lld", rem < 0 ? "-" : "",
                           (long long)(a / CALX__USEC_PER_SEC));
            int f = (int)(a % CALX__USEC_PER_SEC);
            if (f) {
                char frac[8];
                int k = sprintf(frac, "%06d", f);
                while (frac[k - 1] == '0')
                    k--;
                len += sprintf(text + len, ".%.*s", k, frac);
            }
            text[len++] = 'S';
        }
    } else if (len == 1) {
        len += sprintf(text + len, "T0S");
    }
    return calx__text_out(buf, size, text, (size_t)len);
}

int calx_interval_cmp(calx_interval a, calx_interval b)
{
    i128 la = ((i128)a.months * 30 + a.days) * CALX__USEC_PER_DAY + a.micros;
    i128 lb = ((i128)b.months * 30 + b.days) * CALX__USEC_PER_DAY + b.micros;
    return la < lb ? -1 : la > lb;
}
