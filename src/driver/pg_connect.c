/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: options, name resolution and the non-blocking
 * connect.
 *
 * Options come from the URL (user, password, host list, database), then its
 * query, then connect_args, a later setting of a key replacing an earlier
 * one. Keys are libpq's connection keywords (sslmode, application_name,
 * options, target_session_attrs, ...) plus a few of calx's own:
 * statement_cache_size / prepared_statement_cache_size (asyncpg's and
 * SQLAlchemy's names; 0 turns prepared statements off, for PgBouncer in
 * transaction mode), connect_timeout / timeout (seconds), asyncpg's
 * command_timeout (seconds a request may run before it is cancelled; the
 * engine's command_timeout option arrives here as a connect arg) and
 * asyncpg's ssl=true|false|<sslmode>.
 *
 * libpq resolves host names with a blocking getaddrinfo, so the driver
 * resolves them first, on libuv's thread pool, and hands libpq each address
 * as hostaddr (keeping host for TLS and error messages). A name with several
 * addresses becomes several entries of libpq's host list, so that libpq
 * still tries them in turn. Then PQconnectStartParams / PQconnectPoll run
 * the connection on the loop, the socket watch re-made at every step
 * because libpq may close its socket and open another (next host, SSL or
 * GSS retry), and a loop timer enforces connect_timeout over the whole
 * attempt. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chars.h"
#include "core/nomem.h"
#include "core/number_text.h"
#include "driver/pg_int.h"

/* ---- small helpers ---- */

void calx__pg_trim_copy(char *buf, size_t n, const char *s)
{
    if (!n)
        return;
    snprintf(buf, n, "%s", s ? s : "");
    size_t len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        buf[--len] = '\0';
}

/* libpq's message for the connection, without its trailing newline, with
 * tabs (libpq indents its hints with one) turned into spaces. */
static void conn_message(PGconn *pg, char *buf, size_t n)
{
    calx__pg_trim_copy(buf, n, pg ? PQerrorMessage(pg) : "out of memory");
    for (char *p = buf; *p; p++)
        if (*p == '\t')
            *p = ' ';
}

/* Sets key to val (copied), replacing an earlier setting. */
static int kv_set(pg_conn *c, const char *key, const char *val, calx_error *err)
{
    char *v = strdup(val ? val : "");
    if (!v)
        return calx__nomem(err, "copying options");
    for (size_t i = 0; i < c->nkv; i++) {
        if (strcmp(c->keys[i], key) == 0) {
            free(c->vals[i]);
            c->vals[i] = v;
            return 0;
        }
    }
    if (c->nkv + 2 > c->kvcap) {
        size_t cap = c->kvcap ? c->kvcap * 2 : 16;
        char **k = realloc(c->keys, cap * sizeof *k);
        if (k)
            c->keys = k;
        char **vv = k ? realloc(c->vals, cap * sizeof *vv) : NULL;
        if (vv)
            c->vals = vv;
        if (!k || !vv) {
            free(v);
            return calx__nomem(err, "copying options");
        }
        c->kvcap = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(v);
        return calx__nomem(err, "copying options");
    }
    c->keys[c->nkv] = k;
    c->vals[c->nkv] = v;
    c->nkv++;
    c->keys[c->nkv] = NULL;
    c->vals[c->nkv] = NULL;
    return 0;
}

/* Removes key's setting, if any. */
static void kv_del(pg_conn *c, const char *key)
{
    for (size_t i = 0; i < c->nkv; i++) {
        if (strcmp(c->keys[i], key) == 0) {
            free(c->keys[i]);
            free(c->vals[i]);
            memmove(&c->keys[i], &c->keys[i + 1], (c->nkv - i) * sizeof *c->keys);
            memmove(&c->vals[i], &c->vals[i + 1], (c->nkv - i) * sizeof *c->vals);
            c->nkv--;
            return;
        }
    }
}

/* ---- options ---- */

typedef struct pg_opts {
    char *host;               /* libpq-style lists, NULL when not given */
    char *port;
    bool hostaddr_given;
} pg_opts;

/* Replaces *slot with a copy of v. 0 or CALX_ERR_NOMEM. */
static int set_str(char **slot, const char *v, calx_error *err)
{
    char *copy = strdup(v ? v : "");
    if (!copy)
        return calx__nomem(err, "copying options");
    free(*slot);
    *slot = copy;
    return 0;
}

/* A whole text read as a finite number of seconds; false when it is not. */
static bool read_seconds(const char *value, double *out)
{
    char *end;
    errno = 0;
    *out = calx__text_double(value, &end);
    return *value && !*end && !errno && isfinite(*out);
}

/* Seconds from text (connect_timeout), with libpq's rules; 0 or
 * CALX_ERR_ARGUMENT naming key. */
static int parse_seconds(const char *key, const char *value, double *out, calx_error *err)
{
    double s;
    if (!read_seconds(value, &s))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "invalid value '%.100s' for %s: expected seconds", value, key);
    /* libpq's rules: zero or less waits forever; less than 2 s is 2 s. */
    if (s <= 0)
        s = 0;
    else if (s < 2)
        s = 2;
    *out = s;
    return 0;
}

/* True when key is one of libpq's connection keywords. */
static bool is_libpq_keyword(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return true;
    return false;
}

/* One URL query option or connect_args entry. */
static int take_option(pg_conn *c, pg_opts *o, const PQconninfoOption *known,
                       const char *key, const char *value, calx_error *err)
{
    if (!key || !*key)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "a connect_args entry has no key");
    if (!value)
        value = "";
    if (strcmp(key, "statement_cache_size") == 0 ||
        strcmp(key, "prepared_statement_cache_size") == 0) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(value, &end, 10);
        if (!*value || *end || errno || value[0] == '-' || n > 1000000)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for %s: expected a count of "
                                  "statements (0 turns prepared statements off)",
                                  value, key);
        c->cache_cap = (size_t)n;
        return 0;
    }
    if (strcmp(key, "connect_timeout") == 0 || strcmp(key, "timeout") == 0)
        return parse_seconds(key, value, &c->connect_timeout_s, err);
    if (strcmp(key, "command_timeout") == 0) {
        /* asyncpg's: seconds, 0 for none. Taken as given (no libpq rounding):
         * a bound the program chose, which the driver enforces itself. */
        double s;
        if (!read_seconds(value, &s) || s < 0 || s > 1e9)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for command_timeout: expected "
                                  "seconds, 0 or more (0: no limit)",
                                  value);
        c->command_timeout_s = s;
        return 0;
    }
    if (strcmp(key, "ssl") == 0) {
        /* asyncpg's ssl= (SQLAlchemy passes it through from the URL). */
        const char *mode = value;
        if (calx__ascii_casecmp(value, "true") == 0 || strcmp(value, "1") == 0)
            mode = "require";
        else if (calx__ascii_casecmp(value, "false") == 0 || strcmp(value, "0") == 0)
            mode = "disable";
        return kv_set(c, "sslmode", mode, err);
    }
    if (strcmp(key, "host") == 0)
        return set_str(&o->host, value, err);
    if (strcmp(key, "port") == 0)
        return set_str(&o->port, value, err);
    if (strcmp(key, "hostaddr") == 0)
        o->hostaddr_given = true;
    if (!is_libpq_keyword(known, key))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "unknown PostgreSQL connection option '%.100s' (from the URL "
                              "or connect_args): calx takes libpq's keywords (sslmode, "
                              "application_name, options, target_session_attrs, ...) and "
                              "statement_cache_size, connect_timeout",
                              key);
    return kv_set(c, key, value, err);
}

/* The engine's isolation_level (spaces or underscores, any case); NULL
 * keeps the server's default. CALX_ERR_ARGUMENT naming an unknown one. */
static int parse_isolation(pg_conn *c, const char *iso, calx_error *err)
{
    static const struct {
        const char *name;
        pg_iso iso;
    } levels[] = {
        { "SERIALIZABLE", PG_ISO_SERIALIZABLE },
        { "REPEATABLE READ", PG_ISO_REPEATABLE_READ },
        { "READ COMMITTED", PG_ISO_READ_COMMITTED },
        { "READ UNCOMMITTED", PG_ISO_READ_UNCOMMITTED },
        { "AUTOCOMMIT", PG_ISO_AUTOCOMMIT },
    };
    c->iso = PG_ISO_DEFAULT;
    if (!iso)
        return 0;
    char norm[32];
    size_t n = strlen(iso);
    if (n < sizeof norm) {
        for (size_t i = 0; i <= n; i++)
            norm[i] = iso[i] == '_' ? ' ' : iso[i];
        for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
            if (calx__ascii_casecmp(norm, levels[i].name) == 0) {
                c->iso = levels[i].iso;
                return 0;
            }
        }
    }
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "isolation level '%.100s' is not supported by PostgreSQL; use "
                          "SERIALIZABLE, REPEATABLE READ, READ COMMITTED, READ UNCOMMITTED "
                          "or AUTOCOMMIT",
                          iso);
}

/* Splits a comma-separated list into a new array of copies. */
static int split_list(const char *s, char ***out, size_t *n, calx_error *err)
{
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    char **items = calloc(count, sizeof *items);
    if (!items)
        return calx__nomem(err, "copying options");
    const char *p = s;
    for (size_t i = 0; i < count; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        items[i] = strndup(p, len);
        if (!items[i]) {
            for (size_t k = 0; k < i; k++)
                free(items[k]);
            free(items);
            return calx__nomem(err, "copying options");
        }
        p = end ? end + 1 : p + len;
    }
    *out = items;
    *n = count;
    return 0;
}

/* Frees what split_list made. */
static void free_list(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

/* True for an IPv4 or IPv6 address written out (nothing to look up). */
static bool is_numeric_addr(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The host list: the URL's hosts and ports, unless the host or port option
 * replaced them; with neither, PGHOST / PGPORT as libpq would (read here so
 * that libpq never resolves a name itself). */
static int build_hosts(pg_conn *c, const calx_url *url, pg_opts *o, calx_error *err)
{
    char **names = NULL, **ports = NULL;
    size_t nnames = 0, nports = 0;
    int rc = 0;
    if (o->hostaddr_given) {
        /* The caller gave addresses: libpq gets host, hostaddr and port as
         * given and looks nothing up. */
        if ((o->host && (rc = kv_set(c, "host", o->host, err)) != 0) ||
            (o->port && (rc = kv_set(c, "port", o->port, err)) != 0))
            return rc;
        return 0;
    }
    if (!o->host && url->nhosts) {
        calx_buf hb = { 0 }, pb = { 0 };
        for (size_t i = 0; i < url->nhosts; i++) {
            if (i) {
                calx__buf_puts(&hb, ",");
                calx__buf_puts(&pb, ",");
            }
            calx__buf_puts(&hb, url->hosts[i].host ? url->hosts[i].host : "");
            if (url->hosts[i].port)
                calx__buf_printf(&pb, "%d", url->hosts[i].port);
        }
        o->host = calx__buf_take(&hb);
        char *p = calx__buf_take(&pb);
        if (!o->host || !p) {
            free(p);
            return calx__nomem(err, "copying the URL");
        }
        bool any_port = false;
        for (size_t i = 0; i < url->nhosts; i++)
            any_port = any_port || url->hosts[i].port;
        /* A URL without ports leaves the port to PGPORT or libpq's default,
         * as libpq's own URL parsing does. */
        if (!o->port && any_port)
            o->port = p;
        else
            free(p);
    }
    if (!o->host && getenv("PGHOST") && *getenv("PGHOST") &&
        (rc = set_str(&o->host, getenv("PGHOST"), err)) != 0)
        return rc;
    if (!o->port && getenv("PGPORT") && *getenv("PGPORT") &&
        (rc = set_str(&o->port, getenv("PGPORT"), err)) != 0)
        return rc;
    if (!o->host) {
        /* libpq's default: its unix socket directory. */
        if (o->port)
            return kv_set(c, "port", o->port, err);
        return 0;
    }
    if ((rc = split_list(o->host, &names, &nnames, err)) != 0)
        return rc;
    if ((rc = split_list(o->port ? o->port : "", &ports, &nports, err)) != 0) {
        free_list(names, nnames);
        return rc;
    }
    if (nports != 1 && nports != nnames) {
        rc = calx_error_set(err, CALX_ERR_ARGUMENT,
                            "the port list has %zu entries for %zu hosts (give one port "
                            "for all or one per host)",
                            nports, nnames);
        goto out;
    }
    c->hosts = calloc(nnames, sizeof *c->hosts);
    if (!c->hosts) {
        rc = calx__nomem(err, "copying options");
        goto out;
    }
    for (size_t i = 0; i < nnames; i++) {
        pg_host *h = &c->hosts[c->nhosts++];
        h->name = names[i];
        names[i] = NULL;
        h->port = strdup(ports[nports == 1 ? 0 : i]);
        if (!h->port) {
            rc = calx__nomem(err, "copying options");
            goto out;
        }
        /* Names get looked up; addresses, socket directories ("/..." or
         * "@abstract") and "" (libpq's default socket) do not. */
        h->resolve = h->name[0] && h->name[0] != '/' && h->name[0] != '@' &&
                     !is_numeric_addr(h->name);
    }
out:
    free_list(names, nnames);
    free_list(ports, nports);
    return rc;
}

/* Everything connect needs from the URL, connect_args and the isolation
 * level, checked now so that a bad option fails the call itself. */
static int parse_options(pg_conn *c, const calx_url *url, const calx_kv *args, size_t nargs,
                         const char *iso, calx_error *err)
{
    int rc = parse_isolation(c, iso, err);
    if (rc)
        return rc;
    c->cache_cap = CALX_PG_CACHE_DEFAULT;
    c->connect_timeout_s = CALX_PG_CONNECT_TIMEOUT_S;
    const char *env_timeout = getenv("PGCONNECT_TIMEOUT");
    if (env_timeout && *env_timeout &&
        parse_seconds("PGCONNECT_TIMEOUT", env_timeout, &c->connect_timeout_s, err))
        return err->code;

    /* calx works in UTF-8; "calx" names the program unless
     * application_name is set. */
    if ((rc = kv_set(c, "client_encoding", "UTF8", err)) != 0 ||
        (rc = kv_set(c, "fallback_application_name", "calx", err)) != 0)
        return rc;
    if ((url->username && (rc = kv_set(c, "user", url->username, err)) != 0) ||
        (url->password && (rc = kv_set(c, "password", url->password, err)) != 0) ||
        (url->database && (rc = kv_set(c, "dbname", url->database, err)) != 0))
        return rc;

    PQconninfoOption *known = PQconndefaults();
    if (!known)
        return calx__nomem(err, "reading libpq's options");
    pg_opts o = { 0 };
    for (size_t i = 0; i < url->nquery && !rc; i++)
        rc = take_option(c, &o, known, url->query[i].key, url->query[i].value, err);
    for (size_t i = 0; i < nargs && !rc; i++)
        rc = take_option(c, &o, known, args[i].key, args[i].value, err);
    PQconninfoFree(known);
    if (!rc)
        rc = build_hosts(c, url, &o, err);
    free(o.host);
    free(o.port);
    return rc;
}

/* ---- connecting ---- */

/* Ends a connect that failed: frees c (or leaves that to the lookups or
 * the deferred start still pointing at it) and calls back with err. */
static void connect_fail(pg_conn *c, const calx_error *err)
{
    calx_dconnect_cb cb = c->connect_cb;
    void *udata = c->connect_udata;
    calx_error copy = *err;
    c->connecting = false;
    if (c->deferred_queued) {
        /* The deferred start frees c when it runs. */
        c->closing = true;
        calx__timer_free(c->timer);
        c->timer = NULL;
    } else if (c->nresolving) {
        /* Timed out while names were being looked up: the lookups still
         * point at c, which goes when the last of them comes back. */
        c->abandoned = true;
        calx__timer_free(c->timer);
        c->timer = NULL;
    } else {
        calx__pg_free(c);
    }
    cb(udata, NULL, &copy);
}

/* The names are looked up: builds libpq's host / hostaddr / port lists
 * (one entry per address) and starts PQconnectStartParams. */
static void start_libpq(pg_conn *c);

void calx__pg_connect_deferred(pg_conn *c)
{
    start_libpq(c);
}

/* connect_timeout ran out: CALX_ERR_TIMEOUT naming where it was going. */
static void on_connect_timeout(void *arg)
{
    pg_conn *c = arg;
    calx_error err;
    const char *host = c->pg ? PQhost(c->pg) : NULL;
    const char *port = c->pg ? PQport(c->pg) : NULL;
    if (!c->pg && c->nhosts) {
        host = c->hosts[0].name;  /* still looking names up */
        port = c->hosts[0].port;
    }
    calx_error_set(&err, CALX_ERR_TIMEOUT,
                   "connecting to PostgreSQL at %s%s%s timed out after %g s (connect_timeout)%s",
                   host && *host ? host : "the default socket", port && *port ? " port " : "",
                   port && *port ? port : "", c->connect_timeout_s,
                   c->pg ? "" : " while looking up the host name");
    connect_fail(c, &err);
}

/* One step of PQconnectPoll, when the socket is ready for it. */
static void connect_step(pg_conn *c)
{
    /* libpq may close the socket and open another in this call: the watch
     * goes first, so that no watch ever outlives its socket. */
    calx__pg_watch(c, 0, true);
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    calx_error err;
    switch (st) {
    case PGRES_POLLING_OK:
        calx__timer_free(c->timer);
        c->timer = NULL;
        c->connecting = false;
        if (calx__pg_ready(c, &err) != 0) {
            connect_fail(c, &err);
            return;
        }
        c->connect_cb(c->connect_udata, &c->base, NULL);
        return;
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
        calx__pg_watch(c, st == PGRES_POLLING_READING ? CALX_IO_READ : CALX_IO_WRITE, true);
        if (!c->io) {
            calx_error_set(&err, CALX_ERR_OPERATIONAL,
                           "cannot watch the PostgreSQL connection's socket");
            connect_fail(c, &err);
        }
        return;
    default: {
        char msg[400];
        conn_message(c->pg, msg, sizeof msg);
        calx_error_set(&err, CALX_ERR_OPERATIONAL, "%s", msg);
        connect_fail(c, &err);
        return;
    }
    }
}

void calx__pg_connect_io(pg_conn *c, int events)
{
    (void)events;  /* an error shows in PQconnectPoll too */
    connect_step(c);
}

/* libpq's notice receiver: keeps the last error the server sent outside a
 * query (its FATAL before hanging up), for the disconnect message. */
static void on_notice(void *arg, const PGresult *res)
{
    pg_conn *c = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (!sev || (strcmp(sev, "FATAL") != 0 && strcmp(sev, "PANIC") != 0 &&
                 strcmp(sev, "ERROR") != 0))
        return;  /* notices and warnings are the program's business, not errors */
    calx__pg_trim_copy(c->notice, sizeof c->notice,
                       PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(c->notice_state, sizeof c->notice_state, "%s", state ? state : "");
}

/* Appends s to a comma-separated list. */
static int add_list_item(calx_buf *b, const char *s, bool first)
{
    if (!first)
        calx__buf_puts(b, ",");
    calx__buf_puts(b, s);
    return 0;
}

static void start_libpq(pg_conn *c)
{
    calx_error err;
    if (c->nhosts) {
        calx_buf hb = { 0 }, ab = { 0 }, pb = { 0 };
        size_t n = 0;
        const char *why = NULL, *which = NULL;
        for (size_t i = 0; i < c->nhosts; i++) {
            pg_host *h = &c->hosts[i];
            if (h->resolve) {
                if (!h->naddrs) {
                    why = h->error;
                    which = h->name;
                }
                for (size_t k = 0; k < h->naddrs; k++, n++) {
                    add_list_item(&hb, h->name, n == 0);
                    add_list_item(&ab, h->addrs[k], n == 0);
                    add_list_item(&pb, h->port, n == 0);
                }
            } else {
                add_list_item(&hb, h->name, n == 0);
                add_list_item(&ab, is_numeric_addr(h->name) ? h->name : "", n == 0);
                add_list_item(&pb, h->port, n == 0);
                n++;
            }
        }
        char *hs = calx__buf_take(&hb), *as = calx__buf_take(&ab), *ps = calx__buf_take(&pb);
        int rc = 0;
        if (n == 0)
            rc = calx_error_set(&err, CALX_ERR_OPERATIONAL,
                                "could not translate host name \"%s\" to address: %s",
                                which ? which : "", why ? why : "no address");
        else if (!hs || !as || !ps)
            rc = calx__nomem(&err, "building the host list");
        else if ((rc = kv_set(c, "host", hs, &err)) == 0 &&
                 (rc = kv_set(c, "hostaddr", as, &err)) == 0)
            rc = kv_set(c, "port", ps, &err);
        free(hs);
        free(as);
        free(ps);
        if (rc) {
            connect_fail(c, &err);
            return;
        }
    }
    /* libpq enforces connect_timeout only in its blocking connect; the
     * loop's timer does it here. */
    kv_del(c, "connect_timeout");
    c->pg = PQconnectStartParams((const char *const *)c->keys, (const char *const *)c->vals, 0);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        char msg[400];
        conn_message(c->pg, msg, sizeof msg);
        calx_error_set(&err, c->pg ? CALX_ERR_OPERATIONAL : CALX_ERR_NOMEM, "%s", msg);
        connect_fail(c, &err);
        return;
    }
    PQsetNoticeReceiver(c->pg, on_notice, c);
    /* libpq's rule: start as if PQconnectPoll had said PGRES_POLLING_WRITING. */
    calx__pg_watch(c, CALX_IO_WRITE, true);
    if (!c->io) {
        calx_error_set(&err, CALX_ERR_OPERATIONAL,
                       "cannot watch the PostgreSQL connection's socket");
        connect_fail(c, &err);
    }
}

/* Resolution results come back per host; the context carries both. */
typedef struct pg_lookup {
    pg_conn *c;
    pg_host *h;
} pg_lookup;

/* One host's lookup is back; the last one starts libpq. */
static void on_lookup(void *arg, int status, const char *errmsg, const char *const *addrs,
                      size_t naddrs)
{
    pg_lookup *lk = arg;
    pg_conn *c = lk->c;
    pg_host *h = lk->h;
    free(lk);
    if (c->abandoned) {
        if (--c->nresolving == 0)
            calx__pg_free(c);
        return;
    }
    if (status == 0) {
        h->addrs = calloc(naddrs, sizeof *h->addrs);
        for (size_t i = 0; h->addrs && i < naddrs; i++) {
            if (!(h->addrs[h->naddrs] = strdup(addrs[i])))
                break;
            h->naddrs++;
        }
        if (!h->naddrs)
            h->error = strdup("out of memory");
    } else {
        h->error = strdup(errmsg ? errmsg : "unknown error");
    }
    if (--c->nresolving == 0)
        start_libpq(c);
}

int calx__pg_check_options(const calx_url *url, const calx_kv *args, size_t nargs,
                           const char *isolation_level, calx_error *err)
{
    pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return calx__nomem(err, "checking options");
    int rc = parse_options(c, url, args, nargs, isolation_level, err);
    calx__pg_free(c);
    return rc;
}

int calx__pg_connect(calx_loop *loop, const calx_url *url, const calx_kv *args, size_t nargs,
                     const char *isolation_level, calx_dconnect_cb cb, void *udata,
                     calx_error *err)
{
    if (!loop || !url || !cb || (nargs && !args))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "postgresql connect: loop, url and callback are required");
    pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return calx__nomem(err, "making a connection");
    c->base.driver = &calx__postgres_driver;
    c->base.loop = loop;
    c->connect_cb = cb;
    c->connect_udata = udata;
    c->connecting = true;
    int rc = parse_options(c, url, args, nargs, isolation_level, err);
    if (rc) {
        calx__pg_free(c);
        return rc;
    }
    /* connect_timeout covers the whole connect: name lookups included. */
    if (c->connect_timeout_s > 0) {
        c->timer = calx__timer_new(loop, on_connect_timeout, c);
        if (!c->timer) {
            calx__pg_free(c);
            return calx__nomem(err, "making a timer");
        }
        calx__timer_start(c->timer, (uint64_t)(c->connect_timeout_s * 1000.0));
    }
    for (size_t i = 0; i < c->nhosts; i++)
        c->nresolving += c->hosts[i].resolve;
    size_t lookups = c->nresolving;
    for (size_t i = 0; i < c->nhosts; i++) {
        pg_host *h = &c->hosts[i];
        if (!h->resolve)
            continue;
        pg_lookup *lk = malloc(sizeof *lk);
        int urc = -1;
        if (lk) {
            lk->c = c;
            lk->h = h;
            urc = calx__resolve(loop, h->name, on_lookup, lk);
        }
        if (urc != 0) {
            /* start_libpq reports the host as unresolved if no other
             * host gets through. */
            h->error = strdup(lk ? "cannot start the lookup" : "out of memory");
            free(lk);
            c->nresolving--;
            lookups--;
        }
    }
    /* With no lookup under way, libpq starts on the loop's next turn, so
     * that even an immediate failure reports back asynchronously. */
    if (lookups == 0)
        calx__pg_defer(c, true);
    return 0;
}
