/* SPDX-License-Identifier: MIT */
/* A JSON syntax check, so that a model's JSON field is validated before it
 * is written, with the same answer on every database: a recursive descent
 * over RFC 8259's grammar that builds nothing. Strings must be valid
 * escapes over bytes >= 0x20 (UTF-8 itself is the text's business, as it
 * is for any TEXT field). */
#include "core/chars.h"
#include "core/json_check.h"

typedef struct scan {
    const char *s;
    size_t n, at;
} scan;

static void skip_space(scan *c)
{
    while (c->at < c->n && (c->s[c->at] == ' ' || c->s[c->at] == '\t' ||
                            c->s[c->at] == '\n' || c->s[c->at] == '\r'))
        c->at++;
}

static bool take(scan *c, char ch)
{
    if (c->at < c->n && c->s[c->at] == ch) {
        c->at++;
        return true;
    }
    return false;
}

static bool is_digit(scan *c)
{
    return c->at < c->n && c->s[c->at] >= '0' && c->s[c->at] <= '9';
}

static bool word(scan *c, const char *w)
{
    size_t i = 0;
    while (w[i] && c->at + i < c->n && c->s[c->at + i] == w[i])
        i++;
    if (w[i])
        return false;
    c->at += i;
    return true;
}

static bool string(scan *c)
{
    if (!take(c, '"'))
        return false;
    while (c->at < c->n) {
        unsigned char ch = (unsigned char)c->s[c->at];
        if (ch == '"') {
            c->at++;
            return true;
        }
        if (ch < 0x20)
            return false;
        c->at++;
        if (ch != '\\')
            continue;
        if (c->at >= c->n)
            return false;
        char e = c->s[c->at++];
        if (e == 'u') {
            for (int k = 0; k < 4; k++, c->at++)
                if (c->at >= c->n || calx__hex_digit(c->s[c->at]) < 0)
                    return false;
        } else if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                     e == 'r' || e == 't')) {
            c->at--;
            return false;
        }
    }
    return false;
}

static bool number(scan *c)
{
    take(c, '-');
    if (take(c, '0')) {
        /* no leading zeros */
    } else if (is_digit(c)) {
        while (is_digit(c))
            c->at++;
    } else {
        return false;
    }
    if (take(c, '.')) {
        if (!is_digit(c))
            return false;
        while (is_digit(c))
            c->at++;
    }
    if (take(c, 'e') || take(c, 'E')) {
        if (!take(c, '+'))
            take(c, '-');
        if (!is_digit(c))
            return false;
        while (is_digit(c))
            c->at++;
    }
    return true;
}

static bool value(scan *c, int depth);

/* The members of an object ({ already taken) or the items of an array. */
static bool members(scan *c, int depth, bool object)
{
    char close = object ? '}' : ']';
    skip_space(c);
    if (take(c, close))
        return true;
    for (;;) {
        skip_space(c);
        if (object) {
            if (!string(c))
                return false;
            skip_space(c);
            if (!take(c, ':'))
                return false;
        }
        if (!value(c, depth + 1))
            return false;
        skip_space(c);
        if (take(c, close))
            return true;
        if (!take(c, ','))
            return false;
    }
}

static bool value(scan *c, int depth)
{
    if (depth > CALX_JSON_MAX_DEPTH)
        return false;
    skip_space(c);
    if (c->at >= c->n)
        return false;
    switch (c->s[c->at]) {
    case '{': c->at++; return members(c, depth, true);
    case '[': c->at++; return members(c, depth, false);
    case '"': return string(c);
    case 't': return word(c, "true");
    case 'f': return word(c, "false");
    case 'n': return word(c, "null");
    default: return number(c);
    }
}

bool calx__json_valid(const char *s, size_t n, size_t *error_at)
{
    scan c = { s, n, 0 };
    bool ok = value(&c, 0);
    if (ok) {
        skip_space(&c);
        ok = c.at == n;
    }
    if (!ok && error_at)
        *error_at = c.at;
    return ok;
}
