/* SPDX-License-Identifier: MIT */
/* Database URLs: parsing, copying and rendering.
 *
 *   dialect[+driver]://[user[:password]@][host[:port][,host[:port]...]]
 *                      [/database][?key=value&key=value...]
 *
 * The split follows SQLAlchemy's make_url, so URLs from Python
 * configurations parse the same way, except where libpq would read the URL
 * otherwise and validly. The user name runs to the first ':', '/' or '?'.
 * When that is a ':' followed somewhere by an '@', the password runs from
 * the ':' to the first '@' after it: an unescaped '/', '?' or ':' in a
 * password works, an '@' must be written %40. Otherwise the user info, if
 * any, ends at the last '@' before that first ':', '/' or '?', so
 * "me@example.com@host" is the user "me@example.com" on "host".
 *
 * The exception, libpq's rule: an '@' past the first '/' or '?' ends no
 * user info when what comes before that '/' or '?' is a valid host list,
 * so "h:5432/db@x" is the database "db@x" on h, not the password "5432/db"
 * on x (SQLAlchemy's reading). "u:pa/ss@h", whose "port" is no number,
 * still has the password "pa/ss".
 *
 * Unlike SQLAlchemy, query values are only %-decoded ('+' stays '+'), the
 * host is %-decoded too (libpq's %2Fvar%2Frun%2Fpostgresql socket
 * directories), a host list "h1:5432,h2:5433" is split as libpq does, and
 * the checks SQLAlchemy makes at connect time for a file database's URL
 * (no host, no user) are made here.
 *
 * Which schemes exist, and which of them are file URLs, is not this file's
 * knowledge: the database registry passes the list in (url_scheme.h), and
 * defines calx_url_parse.
 *
 * Error messages quote the URL with the password replaced by ***. Which
 * part is the password is only known once parsing has got that far, so the
 * mask is worked out up front, conservatively: from the first ':' after a
 * well-formed "dialect://" (or the first ':' at all, when the URL does not
 * start so) to the last '@' in the URL, a superset of what the parser will
 * call the password; and from the value of any "password=" option to the
 * end.
 * Positions count from 1 in the URL as quoted; anything inside a masked
 * part is neither quoted nor pointed at.
 *
 * Rendering %-encodes every character that would change how the parse
 * splits the URL ('@' even in the database and the query, where calx would
 * not misread it but SQLAlchemy would), so render and parse round-trip.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/url.h"
#include "core/buf.h"
#include "core/chars.h"
#include "core/grow.h"
#include "core/nomem.h"
#include "core/spell.h"
#include "core/url_scheme.h"

#define NOPOS SIZE_MAX
#define ECHO_MAX 200   /* longest part of a URL quoted in a message */
#define TOKEN_MAX 40   /* longest piece of a URL quoted as the culprit */
#define MASK_MAX 2
#define SCHEME_CHARS \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+"

typedef struct span {
    size_t lo, hi;     /* [lo, hi) of the URL */
} span;

typedef struct parser {
    const char *s;
    size_t len;
    calx__url_scheme_at schemes;
    const calx__url_scheme *scheme;   /* the URL's, once parse_scheme found it */
    span mask[MASK_MAX];   /* shown as ***, in order, not overlapping */
    int nmask;
    calx_error *err;
} parser;

/* ---- characters ---- */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}


static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* strdup, which strict C11 lacks. */
static char *dup_str(const char *s)
{
    return dup_range(s, strlen(s));
}

/* ---- masking and errors ---- */

static void find_masks(parser *p)
{
    const char *s = p->s;
    size_t n = strspn(s, SCHEME_CHARS);
    /* Past a well-formed "dialect://"; in anything else, any ':' may be
     * the one before a password. */
    const char *colon = strchr(strncmp(s + n, "://", 3) == 0 ? s + n + 3 : s, ':');
    const char *at = strrchr(s, '@');
    size_t from = 0;

    p->nmask = 0;
    if (colon && at && colon < at) {
        p->mask[p->nmask++] = (span){ (size_t)(colon + 1 - s), (size_t)(at - s) };
        from = (size_t)(at - s);
    }
    /* libpq also takes the password as ?password=... (and sslpassword). */
    const char *pw = strstr(s + from, "password=");
    if (pw)
        p->mask[p->nmask++] = (span){ (size_t)(pw + 9 - s), p->len };
}

static bool masked(const parser *p, size_t lo, size_t hi)
{
    for (int i = 0; i < p->nmask; i++)
        if (lo < p->mask[i].hi && hi > p->mask[i].lo)
            return true;
    return false;
}

/* The URL as quoted in messages: masked, and cut at ECHO_MAX. */
static void echo_url(const parser *p, char *buf, size_t size)
{
    size_t n = 0, i = 0;
    int m = 0;

    while (i < p->len && n + 4 < size) {
        if (m < p->nmask && i == p->mask[m].lo) {
            memcpy(buf + n, "***", 3);
            n += 3;
            i = p->mask[m++].hi;
            continue;
        }
        unsigned char c = (unsigned char)p->s[i++];
        buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (m < p->nmask && i == p->mask[m].lo && n + 4 < size) {
        memcpy(buf + n, "***", 3);
        n += 3;
        i = p->len;
    }
    if (i < p->len) {
        n = n > size - 4 ? size - 4 : n;
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

/* 1-based position of s[pos] in the quoted URL. */
static size_t shown_pos(const parser *p, size_t pos)
{
    size_t shown = pos;
    for (int i = 0; i < p->nmask; i++)
        if (pos >= p->mask[i].hi)
            shown = shown - (p->mask[i].hi - p->mask[i].lo) + 3;
    return shown + 1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(parser *p, size_t pos, const char *fmt, ...)
{
    char echo[ECHO_MAX + 4];
    char reason[224];
    va_list ap;

    echo_url(p, echo, sizeof echo);
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (pos != NOPOS && !masked(p, pos, pos + 1))
        return calx_error_set(p->err, CALX_ERR_URL,
                              "invalid database URL '%s': %s at character %zu",
                              echo, reason, shown_pos(p, pos));
    return calx_error_set(p->err, CALX_ERR_URL, "invalid database URL '%s': %s",
                          echo, reason);
}

static int nomem(parser *p)
{
    return calx__nomem(p->err, "parsing a database URL");
}

/* ---- components ---- */

/* %-decodes s[lo, hi) into a new string *out; what names the component. */
static int decode(parser *p, size_t lo, size_t hi, const char *what, char **out)
{
    const char *s = p->s;
    char *d = malloc(hi - lo + 1);
    size_t n = 0;

    *out = NULL;
    if (!d)
        return nomem(p);
    for (size_t i = lo; i < hi; i++) {
        char c = s[i];
        if (c == '%') {
            int h = i + 1 < hi ? calx__hex_digit((unsigned char)s[i + 1]) : -1;
            int l = h >= 0 && i + 2 < hi ? calx__hex_digit((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                size_t end = i + 3 < hi ? i + 3 : hi;
                free(d);
                if (masked(p, i, end))
                    return fail(p, NOPOS, "bad percent escape in the %s "
                                "(write '%%' as %%25)", what);
                return fail(p, i, "bad percent escape '%.*s' in the %s "
                            "(write '%%' as %%25)", (int)(end - i), s + i, what);
            }
            if (h == 0 && l == 0) {
                free(d);
                return fail(p, masked(p, i, i + 3) ? NOPOS : i,
                            "%%00 (a NUL byte) in the %s", what);
            }
            c = (char)(h * 16 + l);
            i += 2;
        }
        d[n++] = c;
    }
    d[n] = '\0';
    *out = d;
    return 0;
}

/* Parses the port s[lo, hi) of the first or a later host into *port: 0
 * when empty, else 1-65535. */
static int parse_port(parser *p, size_t lo, size_t hi, bool first, int *port)
{
    const char *s = p->s;
    long v = 0;
    bool digits = true;

    *port = 0;
    if (lo == hi)
        return 0;  /* "host:" is the default port, as in SQLAlchemy and libpq */
    for (size_t i = lo; i < hi; i++) {
        if (!is_digit((unsigned char)s[i])) {
            digits = false;
            break;
        }
        if (v <= 65535)
            v = v * 10 + (s[i] - '0');
    }
    /* In "postgresql://user:secret" (no '@') the "port" is likely a
     * password that lost its "@host": hide it. */
    if ((!digits || v < 1 || v > 65535) && first && !memchr(s, '@', p->len) &&
        !masked(p, lo, hi) && p->nmask < MASK_MAX) {
        memmove(p->mask + 1, p->mask, (size_t)p->nmask * sizeof *p->mask);
        p->mask[0] = (span){ lo, hi };
        p->nmask++;
    }
    bool quote = !masked(p, lo, hi);
    int n = (int)(hi - lo > TOKEN_MAX ? TOKEN_MAX : hi - lo);
    if (!digits) {
        const char *hint = memchr(s + lo, ':', hi - lo)
            ? " (write IPv6 hosts in brackets: [::1]:5432)" : "";
        if (quote)
            return fail(p, lo, "port '%.*s' is not a number%s", n, s + lo, hint);
        return fail(p, NOPOS, "the port is not a number%s", hint);
    }
    if (v < 1 || v > 65535) {
        if (quote)
            return fail(p, lo, "port '%.*s' is out of range (1-65535)", n, s + lo);
        return fail(p, NOPOS, "the port is out of range (1-65535)");
    }
    *port = (int)v;
    return 0;
}

/* One entry of the host list, s[lo, hi): host, [v6], host:port, [v6]:port. */
static int parse_host(parser *p, size_t lo, size_t hi, bool first,
                      calx_url_host *h)
{
    const char *s = p->s;
    size_t host_lo = lo, host_hi, port_lo = hi;

    if (lo < hi && s[lo] == '[') {
        const char *close = memchr(s + lo, ']', hi - lo);
        if (!close)
            return fail(p, lo, "'[' without a closing ']' in the host");
        host_lo = lo + 1;
        host_hi = (size_t)(close - s);
        if (host_hi == host_lo)
            return fail(p, lo, "empty IPv6 host '[]'");
        if (host_hi + 1 < hi) {
            if (s[host_hi + 1] != ':')
                return fail(p, host_hi + 1, "'%c' after the IPv6 host "
                            "(expected ':port')", s[host_hi + 1]);
            port_lo = host_hi + 2;
        }
    } else {
        const char *colon = memchr(s + lo, ':', hi - lo);
        host_hi = colon ? (size_t)(colon - s) : hi;
        port_lo = colon ? host_hi + 1 : hi;
        for (size_t i = lo; i < host_hi; i++)
            if (s[i] == '[' || s[i] == ']')
                return fail(p, i, "'%c' in the host (IPv6 hosts are "
                            "written [::1]:5432)", s[i]);
    }
    int rc = decode(p, host_lo, host_hi, "host", &h->host);
    return rc ? rc : parse_port(p, port_lo, hi, first, &h->port);
}

/* The host list s[lo, hi), split on commas outside brackets. */
static int parse_hosts(parser *p, size_t lo, size_t hi, calx_url *u)
{
    const char *s = p->s;
    const char *at = memchr(s + lo, '@', hi - lo);
    size_t n = 1, i, k;
    bool bracket = false;

    if (lo == hi)
        return 0;
    if (at)
        return fail(p, (size_t)(at - s), "'@' in the host (write an '@' in "
                    "a user name or password as %%40)");
    for (i = lo; i < hi; i++) {
        if (s[i] == '[')
            bracket = true;
        else if (s[i] == ']')
            bracket = false;
        else if (s[i] == ',' && !bracket)
            n++;
    }
    u->hosts = calloc(n, sizeof *u->hosts);
    if (!u->hosts)
        return nomem(p);
    u->nhosts = n;
    for (k = 0, i = lo; k < n; k++) {
        size_t end = i;
        for (bracket = false; end < hi; end++) {
            if (s[end] == '[')
                bracket = true;
            else if (s[end] == ']')
                bracket = false;
            else if (s[end] == ',' && !bracket)
                break;
        }
        int rc = parse_host(p, i, end, k == 0, &u->hosts[k]);
        if (rc != 0)
            return rc;
        i = end + 1;
    }
    /* A lone ":" names no host at all; keep the URL host-less so that it
     * renders and parses back the same. */
    if (n == 1 && !u->hosts[0].host[0] && !u->hosts[0].port) {
        free(u->hosts[0].host);
        free(u->hosts);
        u->hosts = NULL;
        u->nhosts = 0;
        return 0;
    }
    if (u->hosts[0].host[0] && !(u->host = dup_str(u->hosts[0].host)))
        return nomem(p);
    u->port = u->hosts[0].port;
    return 0;
}

/* 1 when s[lo, hi) parses as a host list, 0 when not, -1 when memory ran
 * out finding out. Parses a copy of p, so no error or mask is recorded. */
static int is_host_list(const parser *p, size_t lo, size_t hi)
{
    parser trial = *p;
    calx_url *scratch = calloc(1, sizeof *scratch);

    if (!scratch)
        return -1;
    trial.err = NULL;
    int rc = parse_hosts(&trial, lo, hi, scratch);
    calx_url_free(scratch);
    return rc == CALX_ERR_NOMEM ? -1 : rc == 0;
}

/* key=value&key=value... from s[lo] to the end. */
static int parse_query(parser *p, size_t lo, calx_url *u)
{
    const char *s = p->s;
    size_t cap = 0;

    for (size_t i = lo; i < p->len;) {
        size_t end = i + strcspn(s + i, "&");
        if (end > i) {
            size_t eq = i + strcspn(s + i, "=&");
            if (eq == i)
                return fail(p, i, "empty query option name");
            if (!calx__grow(&u->query, &cap, u->nquery + 1, sizeof *u->query))
                return nomem(p);
            calx_url_param *q = &u->query[u->nquery];
            int rc = decode(p, i, eq, "query option name", &q->key);
            if (rc == 0 && (rc = decode(p, eq < end ? eq + 1 : end, end,
                                        "query option value", &q->value)) != 0)
                free(q->key);
            if (rc != 0)
                return rc;
            u->nquery++;
        }
        i = end + 1;
    }
    return 0;
}

/* Whether the dlen characters at s spell name, ignoring ASCII case
 * (schemes are case-insensitive, RFC 3986). */
static bool same_name(const char *s, size_t dlen, const char *name)
{
    size_t i = 0;
    for (; i < dlen && name[i]; i++) {
        char c = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
        if (c != name[i])
            return false;
    }
    return i == dlen && !name[i];
}

/* The registered scheme the dlen characters at s name, or NULL. */
static const calx__url_scheme *find_scheme(const parser *p, const char *s, size_t dlen)
{
    const calx__url_scheme *sc;
    for (size_t i = 0; (sc = p->schemes(i)) != NULL; i++) {
        if (same_name(s, dlen, sc->name))
            return sc;
        for (const char *const *a = sc->aliases; a && *a; a++)
            if (same_name(s, dlen, *a))
                return sc;
    }
    return NULL;
}

void calx__url_schemes_list(calx__url_scheme_at at, char *buf, size_t n)
{
    calx_buf b = { 0 };
    const calx__url_scheme *sc;
    for (size_t i = 0; (sc = at(i)) != NULL; i++) {
        calx__buf_printf(&b, "%s%s", i ? ", " : "", sc->name);
        for (const char *const *a = sc->aliases; a && *a; a++)
            calx__buf_printf(&b, ", %s", *a);
    }
    snprintf(buf, n, "%s", b.p && !b.oom ? b.p : "");
    calx__buf_free(&b);
}

/* An unknown scheme: named, the known ones listed, and the likeliest of
 * them offered ("postgre" -> "postgres"). */
static int unknown_scheme(parser *p, const char *s, size_t dlen)
{
    char known[256], name[CALX_SPELL_MAX_NAME + 1];
    const char *guess = NULL;
    size_t best = CALX_SPELL_FAR;
    const calx__url_scheme *sc;

    calx__url_schemes_list(p->schemes, known, sizeof known);
    if (dlen < sizeof name) {
        memcpy(name, s, dlen);
        name[dlen] = '\0';
        for (size_t i = 0; (sc = p->schemes(i)) != NULL; i++) {
            if (calx__spell_better(name, sc->name, &best))
                guess = sc->name;
            for (const char *const *a = sc->aliases; a && *a; a++)
                if (calx__spell_better(name, *a, &best))
                    guess = *a;
        }
    }
    int shown = (int)(dlen > TOKEN_MAX ? TOKEN_MAX : dlen);
    if (guess)
        return fail(p, 0, "unsupported dialect '%.*s' (calx supports %s; did you mean "
                    "'%s'?)", shown, s, known, guess);
    return fail(p, 0, "unsupported dialect '%.*s' (calx supports %s)", shown, s, known);
}

/* dialect[+driver], ending at s[*pos] == "://"; advances *pos past it. */
static int parse_scheme(parser *p, calx_url *u, size_t *pos)
{
    const char *s = p->s;
    size_t n = strspn(s, SCHEME_CHARS);

    if (strncmp(s + n, "://", 3) != 0) {
        if (p->len == 0)
            return fail(p, NOPOS, "the URL is empty (expected "
                        "dialect[+driver]://...)");
        if (s[n] != ':' && s[n] != '\0' && strstr(s + n, "://"))
            return fail(p, n, "'%c' in the dialect name", s[n]);
        if (n == 0)
            return fail(p, 0, "no dialect name (expected "
                        "dialect[+driver]://...)");
        return fail(p, n, "no '://' after the dialect name '%.*s'",
                    (int)(n > TOKEN_MAX ? TOKEN_MAX : n), s);
    }
    if (n == 0)
        return fail(p, 0, "empty dialect name before '://'");

    const char *plus = memchr(s, '+', n);
    size_t dlen = plus ? (size_t)(plus - s) : n;
    if (dlen == 0)
        return fail(p, 0, "empty dialect name before '+'");
    if (plus) {
        const char *plus2 = memchr(plus + 1, '+', n - dlen - 1);
        if (dlen + 1 == n)
            return fail(p, n, "empty driver name after '+'");
        if (plus2)
            return fail(p, (size_t)(plus2 - s), "'+' in the driver name");
    }

    const calx__url_scheme *sc = find_scheme(p, s, dlen);
    if (!sc)
        return unknown_scheme(p, s, dlen);
    p->scheme = sc;
    const char *dialect = sc->name;
    if (!(u->dialect = dup_str(dialect)))
        return nomem(p);
    if (plus && !(u->driver = dup_range(plus + 1, n - dlen - 1)))
        return nomem(p);
    *pos = n + 3;
    return 0;
}

static int parse(parser *p, calx_url *u)
{
    const char *s = p->s;
    size_t pos = 0, db_lo, q;
    int rc;

    if ((rc = parse_scheme(p, u, &pos)) != 0)
        return rc;

    const calx__url_form *form = p->scheme->form;
    if (form && form->path_only) {
        if (s[pos] != '\0' && s[pos] != '/' && s[pos] != '?')
            return fail(p, pos, "%s URLs have no user name, password, host or port "
                        "(write %s)", u->dialect, form->path_only);
        db_lo = pos;
    } else {
        size_t uend = pos + strcspn(s + pos, ":/?");
        size_t aend = pos + strcspn(s + pos, "/?");
        size_t hpos = pos, hend;
        const char *at = s[uend] == ':' ? strchr(s + uend + 1, '@') : NULL;

        /* An '@' past the authority ends a password only when libpq's
         * reading of the authority, as a host list, fails. */
        if (at && at > s + aend) {
            if (memchr(s + pos, '@', aend - pos))
                at = NULL;  /* the user info ends inside the authority */
            else if ((rc = is_host_list(p, pos, aend)) < 0)
                return nomem(p);
            else if (rc)
                at = NULL;
        }
        if (at) {
            if ((rc = decode(p, pos, uend, "user name", &u->username)) != 0 ||
                (rc = decode(p, uend + 1, (size_t)(at - s), "password",
                             &u->password)) != 0)
                return rc;
            hpos = (size_t)(at - s) + 1;
        } else {
            size_t i = uend;
            while (i > pos && s[i - 1] != '@')
                i--;
            if (i > pos) {
                if ((rc = decode(p, pos, i - 1, "user name", &u->username)) != 0)
                    return rc;
                hpos = i;
            }
        }
        hend = hpos + strcspn(s + hpos, "/?");
        if ((rc = parse_hosts(p, hpos, hend, u)) != 0)
            return rc;
        db_lo = hend;
    }

    q = db_lo + strcspn(s + db_lo, "?");
    if (s[db_lo] == '/') {
        if ((rc = decode(p, db_lo + 1, q, "database", &u->database)) != 0)
            return rc;
        if (!u->database[0]) {
            free(u->database);
            u->database = NULL;
        }
    }
    if (form && form->finish)
        form->finish(u);
    if (s[q] == '?')
        return parse_query(p, q + 1, u);
    return 0;
}

calx_url *calx__url_parse_among(const char *url, calx__url_scheme_at at, calx_error *err)
{
    parser p = { .schemes = at };
    calx_url *u;

    if (!url) {
        calx_error_set(err, CALX_ERR_ARGUMENT, "the database URL is NULL");
        return NULL;
    }
    p.s = url;
    p.len = strlen(url);
    p.err = err;
    find_masks(&p);
    u = calloc(1, sizeof *u);
    if (!u) {
        nomem(&p);
        return NULL;
    }
    if (parse(&p, u) != 0) {
        calx_url_free(u);
        return NULL;
    }
    return u;
}

void calx_url_free(calx_url *url)
{
    if (!url)
        return;
    free(url->dialect);
    free(url->driver);
    free(url->username);
    if (url->password) {
        /* Do not leave the password lying around in freed memory. */
        volatile char *v = url->password;
        while (*v)
            *v++ = '\0';
        free(url->password);
    }
    free(url->host);
    for (size_t i = 0; i < url->nhosts; i++)
        free(url->hosts[i].host);
    free(url->hosts);
    free(url->database);
    for (size_t i = 0; i < url->nquery; i++) {
        free(url->query[i].key);
        free(url->query[i].value);
    }
    free(url->query);
    free(url);
}

/* Copies src into *dst; false only when memory runs out. */
static bool dup_opt(const char *src, char **dst)
{
    *dst = src ? dup_str(src) : NULL;
    return !src || *dst;
}

calx_url *calx_url_copy(const calx_url *url)
{
    calx_url *c;
    bool ok;

    if (!url || !(c = calloc(1, sizeof *c)))
        return NULL;
    c->port = url->port;
    c->memory = url->memory;
    ok = dup_opt(url->dialect, &c->dialect) && dup_opt(url->driver, &c->driver) &&
         dup_opt(url->username, &c->username) &&
         dup_opt(url->password, &c->password) && dup_opt(url->host, &c->host) &&
         dup_opt(url->database, &c->database);
    if (ok && url->nhosts) {
        ok = (c->hosts = calloc(url->nhosts, sizeof *c->hosts)) != NULL;
        for (size_t i = 0; ok && i < url->nhosts; i++) {
            c->nhosts++;
            c->hosts[i].port = url->hosts[i].port;
            ok = dup_opt(url->hosts[i].host, &c->hosts[i].host);
        }
    }
    if (ok && url->nquery) {
        ok = (c->query = calloc(url->nquery, sizeof *c->query)) != NULL;
        for (size_t i = 0; ok && i < url->nquery; i++) {
            c->nquery++;
            ok = dup_opt(url->query[i].key, &c->query[i].key) &&
                 dup_opt(url->query[i].value, &c->query[i].value);
        }
    }
    if (!ok) {
        calx_url_free(c);
        return NULL;
    }
    return c;
}

/* ---- rendering ---- */

/* Appends s with '%', control characters and those in special %-encoded. */
static void sb_enc(calx_buf *b, const char *s, const char *special)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '%' || strchr(special, c)) {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            calx__buf_put(b, e, 3);
        } else {
            calx__buf_put(b, (const char *)&c, 1);
        }
    }
}

static void sb_host(calx_buf *b, const char *host, int port)
{
    if (strchr(host, ':')) {
        calx__buf_puts(b, "[");
        sb_enc(b, host, "/?#@[],");
        calx__buf_puts(b, "]");
    } else {
        sb_enc(b, host, ":/?#@[],");
    }
    if (port) {
        char num[16];
        snprintf(num, sizeof num, ":%d", port);
        calx__buf_puts(b, num);
    }
}

/* Whether a query option holds a password (libpq's password, sslpassword). */
static bool is_password_key(const char *key)
{
    size_t n = strlen(key);
    return n >= 8 && strcmp(key + n - 8, "password") == 0;
}

char *calx_url_render(const calx_url *url, bool hide_password)
{
    calx_buf b = { 0 };

    if (!url)
        return NULL;
    calx__buf_puts(&b, url->dialect ? url->dialect : "");
    if (url->driver) {
        calx__buf_puts(&b, "+");
        calx__buf_puts(&b, url->driver);
    }
    calx__buf_puts(&b, "://");
    if (url->username || url->password) {
        sb_enc(&b, url->username ? url->username : "", ":@/?#[]");
        if (url->password) {
            calx__buf_puts(&b, ":");
            if (hide_password)
                calx__buf_puts(&b, "***");
            else
                sb_enc(&b, url->password, ":@/?#[]");
        }
        calx__buf_puts(&b, "@");
    }
    if (url->nhosts) {
        for (size_t i = 0; i < url->nhosts; i++) {
            if (i)
                calx__buf_puts(&b, ",");
            sb_host(&b, url->hosts[i].host ? url->hosts[i].host : "",
                    url->hosts[i].port);
        }
    } else if (url->host || url->port) {
        sb_host(&b, url->host ? url->host : "", url->port);
    }
    if (url->database && !url->memory) {
        calx__buf_puts(&b, "/");
        sb_enc(&b, url->database, "?#@");
    }
    for (size_t i = 0; i < url->nquery; i++) {
        const calx_url_param *q = &url->query[i];
        calx__buf_puts(&b, i ? "&" : "?");
        sb_enc(&b, q->key ? q->key : "", "&=#@");
        calx__buf_puts(&b, "=");
        if (hide_password && q->key && is_password_key(q->key))
            calx__buf_puts(&b, "***");
        else
            sb_enc(&b, q->value ? q->value : "", "&#@");
    }
    return calx__buf_take(&b);
}

const char *calx_url_query_get(const calx_url *url, const char *key)
{
    if (!url || !key)
        return NULL;
    for (size_t i = url->nquery; i-- > 0;)
        if (url->query[i].key && strcmp(url->query[i].key, key) == 0)
            return url->query[i].value;
    return NULL;
}
