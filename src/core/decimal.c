/* SPDX-License-Identifier: MIT */
/* Exact decimals (calx/types.h): a 128-bit coefficient and a scale, as SQL
 * NUMERIC and Python's Decimal keep them, at most 38 digits. Every
 * operation works on the sign and the magnitude apart, the magnitude an
 * unsigned 128-bit integer: a valid magnitude is below 10^38, so a sum of
 * two, or one scaled up to the other's scale, is worked out exactly and
 * only then checked against the 38 digits (a signed intermediate could
 * overflow where the result does not). No double anywhere. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "calx/types.h"
#include "core/types_int.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

/* 10^0 .. 10^38; 10^38 < 2^128. */
static u128 pow10_u128(int k)
{
    u128 p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

#define LIMIT pow10_u128(CALX_DECIMAL_MAX_DIGITS) /* magnitudes are below it */

static int clamp_scale(int32_t s)
{
    return s < 0 ? 0 : s > CALX_DECIMAL_MAX_SCALE ? CALX_DECIMAL_MAX_SCALE : (int)s;
}

/* d's sign and magnitude (INT128_MIN's magnitude is 2^127: still exact). */
static u128 magnitude(calx_decimal d, bool *neg)
{
    i128 c = (i128)(((u128)(uint64_t)d.hi << 64) | d.lo);
    *neg = c < 0;
    return c < 0 ? (u128)0 - (u128)c : (u128)c;
}

/* The decimal of a sign and a magnitude below 2^127. */
static calx_decimal make(bool neg, u128 mag, int scale)
{
    u128 c = neg ? (u128)0 - mag : mag;
    calx_decimal d = { (uint64_t)c, (int64_t)(uint64_t)(c >> 64), scale };
    return d;
}

static int count_digits(u128 m)
{
    int n = 1;
    while (m >= 10) {
        m /= 10;
        n++;
    }
    return n;
}

/* m * 10^k into *out; false when that passes 2^128. */
static bool scale_up(u128 m, int k, u128 *out)
{
    while (k-- > 0) {
        if (__builtin_mul_overflow(m, (u128)10, &m))
            return false;
    }
    *out = m;
    return true;
}

calx_decimal calx_decimal_of(int64_t coefficient, int scale)
{
    bool neg = coefficient < 0;
    u128 mag = neg ? (u128)0 - (u128)(i128)coefficient : (u128)coefficient;
    return make(neg, mag, clamp_scale(scale));
}

calx_decimal calx__decimal_from_scaled_int64(int64_t v, int scale)
{
    return calx_decimal_of(v, scale);
}

int calx_decimal_parse(const char *s, size_t n, calx_decimal *out, calx_error *err)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    u128 mag = 0;
    int sig = 0;       /* significant digits taken (leading zeros are not) */
    int ndigits = 0;   /* digits written, leading zeros too */
    int frac = 0;      /* of them after the point */
    bool point = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.' && !point) {
            point = true;
        } else if (c >= '0' && c <= '9') {
            ndigits++;
            if (point)
                frac++;
            if (mag == 0 && c == '0')
                continue;
            if (++sig > CALX_DECIMAL_MAX_DIGITS)
                return calx_error_set(err, CALX_ERR_DATA,
                                      "decimal '%.*s%s' has more than %d digits",
                                      CALX__SHOWN(s, n), CALX_DECIMAL_MAX_DIGITS);
            mag = mag * 10 + (u128)(c - '0');
        } else {
            break;
        }
    }
    if (ndigits == 0)
        return calx_error_set(err, CALX_ERR_DATA,
                              "'%.*s%s' is not a decimal: expected digits with an optional "
                              "sign, point and exponent (\"-12.50\", \"1.5e3\")",
                              CALX__SHOWN(s, n));
    int64_t exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        size_t start = i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (exp < 1000000)  /* past any scale a decimal can have */
                exp = exp * 10 + (s[i] - '0');
        }
        if (i == start)
            return calx_error_set(err, CALX_ERR_DATA,
                                  "'%.*s%s' is not a decimal: its exponent has no digits",
                                  CALX__SHOWN(s, n));
        if (eneg)
            exp = -exp;
    }
    if (i < n)
        return calx_error_set(err, CALX_ERR_DATA,
                              "'%.*s%s' is not a decimal: unexpected '%c' at position %zu",
                              CALX__SHOWN(s, n), s[i], i + 1);
    int64_t scale = (int64_t)frac - exp;
    if (scale < 0) {
        /* "1.5e3": the coefficient takes the zeros, the scale stays 0. */
        if (mag != 0) {
            if (-scale > CALX_DECIMAL_MAX_DIGITS || !scale_up(mag, (int)-scale, &mag) ||
                mag >= LIMIT)
                return calx_error_set(err, CALX_ERR_DATA,
                                      "decimal '%.*s%s' has more than %d digits before the point",
                                      CALX__SHOWN(s, n), CALX_DECIMAL_MAX_DIGITS);
        }
        scale = 0;
    }
    if (scale > CALX_DECIMAL_MAX_SCALE)
        return calx_error_set(err, CALX_ERR_DATA,
                              "decimal '%.*s%s' has more than %d digits after the point",
                              CALX__SHOWN(s, n), CALX_DECIMAL_MAX_SCALE);
    *out = make(neg && mag != 0, mag, (int)scale);
    return 0;
}

size_t calx_decimal_format(calx_decimal d, char *buf, size_t size)
{
    bool neg;
    u128 mag = magnitude(d, &neg);
    int scale = clamp_scale(d.scale);
    char digits[48];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag);
    /* digits holds them backwards; at least scale + 1 of them are written. */
    while (nd < scale + 1)
        digits[nd++] = '0';
    char text[CALX_DECIMAL_TEXT_SIZE];
    size_t len = 0;
    if (neg)
        text[len++] = '-';
    for (int k = nd - 1; k >= 0; k--) {
        text[len++] = digits[k];
        if (k == scale && scale > 0)
            text[len++] = '.';
    }
    return calx__text_out(buf, size, text, len);
}

int calx_decimal_cmp(calx_decimal a, calx_decimal b)
{
    bool na, nb;
    u128 ma = magnitude(a, &na), mb = magnitude(b, &nb);
    if (ma == 0)
        na = false;
    if (mb == 0)
        nb = false;
    if (na != nb)
        return na ? -1 : 1;
    int sa = clamp_scale(a.scale), sb = clamp_scale(b.scale);
    /* Both magnitudes at the larger scale; one that passes 2^128 on the way
     * is the larger, as the other is below 2^127. */
    int mag_cmp;
    if (sa < sb && !scale_up(ma, sb - sa, &ma))
        mag_cmp = 1;
    else if (sb < sa && !scale_up(mb, sa - sb, &mb))
        mag_cmp = -1;
    else
        mag_cmp = ma < mb ? -1 : ma > mb;
    return na ? -mag_cmp : mag_cmp;
}

int calx_decimal_digits(calx_decimal d)
{
    bool neg;
    return count_digits(magnitude(d, &neg));
}

bool calx_decimal_fits(calx_decimal d, int precision, int scale)
{
    if (precision < 1)
        return false;
    bool neg;
    u128 mag = magnitude(d, &neg);
    if (mag == 0)
        return true;
    int ds = clamp_scale(d.scale);
    /* The coefficient at exactly scale digits after the point, which
     * NUMERIC(precision, scale) holds when it has at most precision digits
     * (the same as at most precision - scale digits before the point). */
    if (scale < ds) {
        for (int k = ds - scale; k > 0; k--) {
            if (mag % 10 != 0)
                return false;   /* a digit after the point would go */
            mag /= 10;
        }
        return count_digits(mag) <= precision;
    }
    return (int64_t)count_digits(mag) + (scale - ds) <= precision;
}

/* The sum of two signed magnitudes at one scale, checked against the 38
 * digits. */
static int add_parts(bool na, u128 ma, bool nb, u128 mb, int scale, calx_decimal *out,
                     calx_error *err, const char *op)
{
    bool neg;
    u128 m;
    if (na == nb) {
        neg = na;
        if (__builtin_add_overflow(ma, mb, &m))
            m = LIMIT; /* past any valid result: the error below */
    } else if (ma >= mb) {
        neg = na;
        m = ma - mb;
    } else {
        neg = nb;
        m = mb - ma;
    }
    if (m >= LIMIT)
        return calx_error_set(err, CALX_ERR_DATA,
                              "decimal %s overflows: the result needs more than %d digits", op,
                              CALX_DECIMAL_MAX_DIGITS);
    *out = make(neg && m != 0, m, scale);
    return 0;
}

static int add_or_sub(calx_decimal a, calx_decimal b, bool sub, calx_decimal *out,
                      calx_error *err)
{
    const char *op = sub ? "subtraction" : "addition";
    bool na, nb;
    u128 ma = magnitude(a, &na), mb = magnitude(b, &nb);
    if (sub)
        nb = !nb;
    int sa = clamp_scale(a.scale), sb = clamp_scale(b.scale);
    int scale = sa > sb ? sa : sb;
    if (!scale_up(ma, scale - sa, &ma) || !scale_up(mb, scale - sb, &mb))
        return calx_error_set(err, CALX_ERR_DATA,
                              "decimal %s overflows: the result needs more than %d digits", op,
                              CALX_DECIMAL_MAX_DIGITS);
    return add_parts(na, ma, nb, mb, scale, out, err, op);
}

int calx_decimal_add(calx_decimal a, calx_decimal b, calx_decimal *out, calx_error *err)
{
    return add_or_sub(a, b, false, out, err);
}

int calx_decimal_sub(calx_decimal a, calx_decimal b, calx_decimal *out, calx_error *err)
{
    return add_or_sub(a, b, true, out, err);
}

int calx_decimal_mul_int(calx_decimal a, int64_t k, calx_decimal *out, calx_error *err)
{
    bool na;
    u128 ma = magnitude(a, &na);
    bool nk = k < 0;
    u128 mk = nk ? (u128)0 - (u128)(i128)k : (u128)k;
    u128 m;
    if (__builtin_mul_overflow(ma, mk, &m) || m >= LIMIT)
        return calx_error_set(err, CALX_ERR_DATA,
                              "decimal multiplication by %lld overflows: the result needs more "
                              "than %d digits",
                              (long long)k, CALX_DECIMAL_MAX_DIGITS);
    *out = make(na != nk && m != 0, m, clamp_scale(a.scale));
    return 0;
}

int calx_decimal_round(calx_decimal a, int scale, calx_rounding mode, calx_decimal *out,
                       calx_error *err)
{
    if (scale < 0 || scale > CALX_DECIMAL_MAX_SCALE)
        return calx_error_set(err, CALX_ERR_DATA,
                              "cannot round a decimal to scale %d: the scale must be 0 to %d",
                              scale, CALX_DECIMAL_MAX_SCALE);
    bool neg;
    u128 m = magnitude(a, &neg);
    int sa = clamp_scale(a.scale);
    if (scale >= sa) {
        if (!scale_up(m, scale - sa, &m) || m >= LIMIT)
            return calx_error_set(err, CALX_ERR_DATA,
                                  "rounding a decimal to scale %d overflows: the result needs "
                                  "more than %d digits",
                                  scale, CALX_DECIMAL_MAX_DIGITS);
    } else {
        u128 p = pow10_u128(sa - scale);
        u128 q = m / p, r = m % p;
        bool up;
        switch (mode) {
        case CALX_ROUND_HALF_EVEN: up = 2 * r > p || (2 * r == p && (q & 1)); break;
        case CALX_ROUND_HALF_UP: up = 2 * r >= p; break;
        default: up = false; break;  /* CALX_ROUND_DOWN */
        }
        m = q + (up ? 1 : 0);
        /* q < 10^(38 - (sa - scale)), so q + 1 has at most 38 digits. */
    }
    *out = make(neg && m != 0, m, scale);
    return 0;
}

bool calx__decimal_to_scaled_int64(calx_decimal d, int scale, int64_t *out)
{
    if (scale < 0 || scale > CALX_DECIMAL_MAX_SCALE)
        return false;
    bool neg;
    u128 m = magnitude(d, &neg);
    int ds = clamp_scale(d.scale);
    if (scale >= ds) {
        if (!scale_up(m, scale - ds, &m))
            return false;
    } else {
        u128 p = pow10_u128(ds - scale);
        if (m % p != 0)
            return false;
        m /= p;
    }
    if (m > (u128)INT64_MAX + (neg ? 1 : 0))
        return false;
    *out = neg ? -(int64_t)(m - 1) - 1 : (int64_t)m;
    return true;
}

void calx__decimal_normalize(calx_decimal *d)
{
    bool neg;
    u128 m = magnitude(*d, &neg);
    int s = clamp_scale(d->scale);
    if (m == 0)
        s = 0;
    while (s > 0 && m % 10 == 0) {
        m /= 10;
        s--;
    }
    *d = make(neg, m, s);
}
