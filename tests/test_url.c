/* SPDX-License-Identifier: MIT */
/* Database URLs: the sqlite and postgresql forms, drivers, multi-host and
 * IPv6, percent-decoding, query options, copy and render round trips, and
 * every error, none of which may show the password. */
#include "calx/url.h"
#include "test.h"

/* Parses a URL that must be valid. */
static calx_url *ok(const char *s)
{
    calx_error err;
    calx_error_clear(&err);
    calx_url *u = calx_url_parse(s, &err);
    if (!u)
        fprintf(stderr, "  parse('%s') failed: %s\n", s, err.message);
    return u;
}

/* Parses a URL that must be invalid; returns the message in a static
 * buffer. Also checks that the error is CALX_ERR_URL and, when secret is
 * given, that it does not appear in the message. */
static const char *bad(const char *s, const char *secret)
{
    static char msg[sizeof ((calx_error *)0)->message];
    calx_error err;
    calx_error_clear(&err);
    calx_url *u = calx_url_parse(s, &err);
    CHECK(u == NULL);
    calx_url_free(u);
    CHECK_INT(err.code, CALX_ERR_URL);
    CHECK_CONTAINS(err.message, "invalid database URL '");
    if (secret && strstr(err.message, secret)) {
        fprintf(stderr, "  password '%s' leaked: %s\n", secret, err.message);
        test_failed_now = 1;
    }
    snprintf(msg, sizeof msg, "%s", err.message);
    return msg;
}

/* render(parse(s), false) == s, and parse of that gives the same render. */
static void check_round_trip(const char *s)
{
    calx_url *u = ok(s);
    CHECK(u != NULL);
    if (!u)
        return;
    char *r = calx_url_render(u, false);
    CHECK_STR(r, s);
    calx_url *u2 = ok(r);
    CHECK(u2 != NULL);
    if (u2) {
        char *r2 = calx_url_render(u2, false);
        CHECK_STR(r2, r);
        free(r2);
    }
    free(r);
    calx_url_free(u);
    calx_url_free(u2);
}

/* ---- sqlite ---- */

TEST(sqlite_relative_and_absolute)
{
    calx_url *u = ok("sqlite:///relative/path.db");
    CHECK_STR(u->dialect, "sqlite");
    CHECK(u->driver == NULL);
    CHECK_STR(u->database, "relative/path.db");
    CHECK(!u->memory);
    CHECK(u->username == NULL && u->password == NULL && u->host == NULL);
    CHECK_INT(u->port, 0);
    CHECK_INT(u->nhosts, 0);
    CHECK_INT(u->nquery, 0);
    calx_url_free(u);

    u = ok("sqlite:////absolute/path.db");
    CHECK_STR(u->database, "/absolute/path.db");
    CHECK(!u->memory);
    calx_url_free(u);
}

TEST(sqlite_memory)
{
    const char *forms[] = { "sqlite://", "sqlite:///:memory:", "sqlite:///",
                            "sqlite+aiosqlite://", "sqlite:///%3Amemory%3A" };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        calx_url *u = ok(forms[i]);
        CHECK(u != NULL);
        if (!u)
            continue;
        CHECK(u->memory);
        CHECK(u->database == NULL);
        calx_url_free(u);
    }
    calx_url *u = ok("sqlite://?cache=shared");
    CHECK(u->memory);
    CHECK_STR(calx_url_query_get(u, "cache"), "shared");
    calx_url_free(u);
}

TEST(sqlite_query_in_order)
{
    calx_url *u = ok("sqlite:///app.db?mode=ro&journal_mode=wal&busy_timeout=5000"
                     "&foreign_keys=on&synchronous=normal");
    CHECK_STR(u->database, "app.db");
    CHECK_INT(u->nquery, 5);
    const char *keys[] = { "mode", "journal_mode", "busy_timeout",
                           "foreign_keys", "synchronous" };
    const char *vals[] = { "ro", "wal", "5000", "on", "normal" };
    for (size_t i = 0; i < 5 && i < u->nquery; i++) {
        CHECK_STR(u->query[i].key, keys[i]);
        CHECK_STR(u->query[i].value, vals[i]);
    }
    CHECK_STR(calx_url_query_get(u, "busy_timeout"), "5000");
    CHECK(calx_url_query_get(u, "nope") == NULL);
    CHECK(calx_url_query_get(u, NULL) == NULL);
    CHECK(calx_url_query_get(NULL, "mode") == NULL);
    calx_url_free(u);
}

TEST(sqlite_driver_suffix)
{
    calx_url *u = ok("sqlite+aiosqlite:///x.db");
    CHECK_STR(u->dialect, "sqlite");
    CHECK_STR(u->driver, "aiosqlite");
    CHECK_STR(u->database, "x.db");
    char *r = calx_url_render(u, true);
    CHECK_STR(r, "sqlite+aiosqlite:///x.db");
    free(r);
    calx_url_free(u);
}

/* ---- postgresql ---- */

TEST(postgresql_full)
{
    calx_url *u = ok("postgresql://scott:tiger@localhost:5432/test?sslmode=disable");
    CHECK_STR(u->dialect, "postgresql");
    CHECK(u->driver == NULL);
    CHECK_STR(u->username, "scott");
    CHECK_STR(u->password, "tiger");
    CHECK_STR(u->host, "localhost");
    CHECK_INT(u->port, 5432);
    CHECK_INT(u->nhosts, 1);
    CHECK_STR(u->hosts[0].host, "localhost");
    CHECK_INT(u->hosts[0].port, 5432);
    CHECK_STR(u->database, "test");
    CHECK(!u->memory);
    CHECK_INT(u->nquery, 1);
    CHECK_STR(calx_url_query_get(u, "sslmode"), "disable");
    char *r = calx_url_render(u, true);
    CHECK_STR(r, "postgresql://scott:***@localhost:5432/test?sslmode=disable");
    free(r);
    r = calx_url_render(u, false);
    CHECK_STR(r, "postgresql://scott:tiger@localhost:5432/test?sslmode=disable");
    free(r);
    calx_url_free(u);
}

TEST(postgresql_aliases_and_drivers)
{
    calx_url *u = ok("postgres://u@h/db");
    CHECK_STR(u->dialect, "postgresql");
    CHECK(u->driver == NULL);
    CHECK_STR(u->username, "u");
    CHECK(u->password == NULL);
    char *r = calx_url_render(u, true);
    CHECK_STR(r, "postgresql://u@h/db");
    free(r);
    calx_url_free(u);

    u = ok("postgresql+asyncpg://u:p@h/db");
    CHECK_STR(u->dialect, "postgresql");
    CHECK_STR(u->driver, "asyncpg");
    r = calx_url_render(u, true);
    CHECK_STR(r, "postgresql+asyncpg://u:***@h/db");
    free(r);
    calx_url_free(u);

    u = ok("postgres+psycopg://h");
    CHECK_STR(u->dialect, "postgresql");
    CHECK_STR(u->driver, "psycopg");
    CHECK_STR(u->host, "h");
    CHECK(u->database == NULL);
    calx_url_free(u);

    /* Schemes are case-insensitive; the driver is kept as written. */
    u = ok("PostgreSQL+AsyncPG://h");
    CHECK_STR(u->dialect, "postgresql");
    CHECK_STR(u->driver, "AsyncPG");
    calx_url_free(u);
}

TEST(postgresql_empty_host)
{
    calx_url *u = ok("postgresql:///dbname");
    CHECK(u->host == NULL);
    CHECK_INT(u->port, 0);
    CHECK_INT(u->nhosts, 0);
    CHECK(u->username == NULL);
    CHECK_STR(u->database, "dbname");
    calx_url_free(u);

    u = ok("postgresql://user@/db?host=/var/run/postgresql");
    CHECK_STR(u->username, "user");
    CHECK(u->host == NULL);
    CHECK_INT(u->nhosts, 0);
    CHECK_STR(u->database, "db");
    CHECK_STR(calx_url_query_get(u, "host"), "/var/run/postgresql");
    calx_url_free(u);

    u = ok("postgresql://");
    CHECK(u->host == NULL && u->database == NULL && u->username == NULL);
    calx_url_free(u);

    /* A port with no host: the default socket directory, that port. */
    u = ok("postgresql://:5433/db");
    CHECK(u->host == NULL);
    CHECK_INT(u->port, 5433);
    CHECK_INT(u->nhosts, 1);
    CHECK_STR(u->hosts[0].host, "");
    calx_url_free(u);

    /* "host:" is the default port, as in SQLAlchemy and libpq. */
    u = ok("postgresql://h:/db");
    CHECK_STR(u->host, "h");
    CHECK_INT(u->port, 0);
    calx_url_free(u);

    /* A socket directory as a %-encoded host, as libpq takes it. */
    u = ok("postgresql://%2Fvar%2Frun%2Fpostgresql/db");
    CHECK_STR(u->host, "/var/run/postgresql");
    char *r = calx_url_render(u, false);
    CHECK_STR(r, "postgresql://%2Fvar%2Frun%2Fpostgresql/db");
    free(r);
    calx_url_free(u);

    /* No database, straight to the query. */
    u = ok("postgresql://u@h?sslmode=require");
    CHECK_STR(u->username, "u");
    CHECK_STR(u->host, "h");
    CHECK(u->database == NULL);
    CHECK_STR(calx_url_query_get(u, "sslmode"), "require");
    calx_url_free(u);
}

TEST(postgresql_multi_host)
{
    calx_url *u = ok("postgresql://u@h1:5432,h2:5433/db");
    CHECK_INT(u->nhosts, 2);
    CHECK_STR(u->host, "h1");
    CHECK_INT(u->port, 5432);
    CHECK_STR(u->hosts[0].host, "h1");
    CHECK_INT(u->hosts[0].port, 5432);
    CHECK_STR(u->hosts[1].host, "h2");
    CHECK_INT(u->hosts[1].port, 5433);
    CHECK_STR(u->database, "db");
    calx_url_free(u);

    u = ok("postgresql://u@h1,[::1]:5433,h3/db?target_session_attrs=read-write");
    CHECK_INT(u->nhosts, 3);
    CHECK_STR(u->hosts[0].host, "h1");
    CHECK_INT(u->hosts[0].port, 0);
    CHECK_STR(u->hosts[1].host, "::1");
    CHECK_INT(u->hosts[1].port, 5433);
    CHECK_STR(u->hosts[2].host, "h3");
    CHECK_STR(calx_url_query_get(u, "target_session_attrs"), "read-write");
    char *r = calx_url_render(u, false);
    CHECK_STR(r, "postgresql://u@h1,[::1]:5433,h3/db?target_session_attrs=read-write");
    free(r);
    calx_url_free(u);
}

TEST(postgresql_ipv6)
{
    calx_url *u = ok("postgresql://u:p@[::1]:5432/db");
    CHECK_STR(u->host, "::1");
    CHECK_INT(u->port, 5432);
    calx_url_free(u);

    u = ok("postgresql://[2001:db8::7]/db");
    CHECK_STR(u->host, "2001:db8::7");
    CHECK_INT(u->port, 0);
    calx_url_free(u);

    u = ok("postgresql://[fe80::1%25eth0]:6432");
    CHECK_STR(u->host, "fe80::1%eth0");
    CHECK_INT(u->port, 6432);
    char *r = calx_url_render(u, false);
    CHECK_STR(r, "postgresql://[fe80::1%25eth0]:6432");
    free(r);
    calx_url_free(u);
}

TEST(user_info_split)
{
    /* SQLAlchemy's rules: '/', '?' and ':' may appear unescaped in a
     * password; the user name may hold an '@'. */
    calx_url *u = ok("postgresql://u:pa/ss?w:rd@h/db");
    CHECK_STR(u->username, "u");
    CHECK_STR(u->password, "pa/ss?w:rd");
    CHECK_STR(u->host, "h");
    CHECK_STR(u->database, "db");
    calx_url_free(u);

    u = ok("postgresql://me@example.com:pw@h/db");
    CHECK_STR(u->username, "me@example.com");
    CHECK_STR(u->password, "pw");
    CHECK_STR(u->host, "h");
    calx_url_free(u);

    u = ok("postgresql://me@example.com@h:5432/db");
    CHECK_STR(u->username, "me@example.com");
    CHECK(u->password == NULL);
    CHECK_STR(u->host, "h");
    CHECK_INT(u->port, 5432);
    calx_url_free(u);

    /* Empty user name and empty password are present, not absent. */
    u = ok("postgresql://:@h/db");
    CHECK_STR(u->username, "");
    CHECK_STR(u->password, "");
    calx_url_free(u);

    /* A database name may hold '@' when there is no user info. */
    u = ok("sqlite:///dir/a@b.db");
    CHECK_STR(u->database, "dir/a@b.db");
    calx_url_free(u);
}

/* ---- percent-decoding ---- */

TEST(percent_decoding)
{
    calx_url *u = ok("postgresql://us%40er:p%40ss%3Aw%2Frd%25@h%2Dx/d%20b"
                     "?k%26ey=v%3Dal+ue&plus=a+b");
    CHECK_STR(u->username, "us@er");
    CHECK_STR(u->password, "p@ss:w/rd%");
    CHECK_STR(u->host, "h-x");
    CHECK_STR(u->database, "d b");
    CHECK_STR(u->query[0].key, "k&ey");
    CHECK_STR(u->query[0].value, "v=al+ue");
    /* '+' is not a space: only %-escapes are decoded. */
    CHECK_STR(calx_url_query_get(u, "plus"), "a+b");
    calx_url_free(u);

    u = ok("sqlite:///caf%C3%A9%3F.db?x=%e2%82%ac");
    CHECK_STR(u->database, "caf\xc3\xa9?.db");
    CHECK_STR(calx_url_query_get(u, "x"), "\xe2\x82\xac");
    char *r = calx_url_render(u, false);
    CHECK_STR(r, "sqlite:///caf\xc3\xa9%3F.db?x=\xe2\x82\xac");
    free(r);
    calx_url_free(u);
}

TEST(query_options)
{
    calx_url *u = ok("postgresql://h/db?a=1&b&a=2&&c=&d=x=y");
    CHECK_INT(u->nquery, 5);
    CHECK_STR(u->query[0].key, "a");
    CHECK_STR(u->query[0].value, "1");
    CHECK_STR(u->query[1].key, "b");
    CHECK_STR(u->query[1].value, "");
    CHECK_STR(u->query[2].key, "a");
    CHECK_STR(u->query[2].value, "2");
    CHECK_STR(u->query[3].key, "c");
    CHECK_STR(u->query[3].value, "");
    CHECK_STR(calx_url_query_get(u, "a"), "2");  /* last wins */
    CHECK_STR(calx_url_query_get(u, "b"), "");
    CHECK_STR(calx_url_query_get(u, "d"), "x=y");
    calx_url_free(u);

    /* A bare '?' is no options at all. */
    u = ok("sqlite:///x.db?");
    CHECK_INT(u->nquery, 0);
    CHECK_STR(u->database, "x.db");
    calx_url_free(u);
}

/* ---- render, copy ---- */

TEST(render_round_trips)
{
    check_round_trip("sqlite://");
    check_round_trip("sqlite:///relative/path.db");
    check_round_trip("sqlite:////absolute/path.db");
    check_round_trip("sqlite+aiosqlite:///x.db?mode=ro&journal_mode=wal");
    check_round_trip("sqlite://?cache=shared");
    check_round_trip("postgresql://scott:tiger@localhost:5432/test?sslmode=disable");
    check_round_trip("postgresql+asyncpg://u@h1:5432,h2:5433/db");
    check_round_trip("postgresql:///dbname");
    check_round_trip("postgresql://user@/db?host=/var/run/postgresql");
    check_round_trip("postgresql://[::1]:5432/db");
    check_round_trip("postgresql://:5433");
    check_round_trip("postgresql://h1,,h3/db");
    check_round_trip("postgresql://:@h");

    /* Characters that need it are re-encoded so the parse gives them back. */
    calx_url u0 = { 0 };
    calx_url_param q = { "k&=%", "v&=%#" };
    u0.dialect = "postgresql";
    u0.username = "a@b:c/d?e#f%g[h]";
    u0.password = "p@:/?#%[] +w";
    u0.host = "h";
    u0.database = "d?b#%/x";
    u0.nquery = 1;
    u0.query = &q;
    char *r = calx_url_render(&u0, false);
    CHECK_STR(r, "postgresql://a%40b%3Ac%2Fd%3Fe%23f%25g%5Bh%5D:"
                 "p%40%3A%2F%3F%23%25%5B%5D +w@h/d%3Fb%23%25/x?k%26%3D%25=v%26=%25%23");
    calx_url *u = ok(r);
    if (u) {
        CHECK_STR(u->username, u0.username);
        CHECK_STR(u->password, u0.password);
        CHECK_STR(u->host, "h");
        CHECK_STR(u->database, u0.database);
        CHECK_STR(u->query[0].key, q.key);
        CHECK_STR(u->query[0].value, q.value);
    }
    calx_url_free(u);
    free(r);

    /* Control characters are encoded too. */
    u0.username = "a\tb";
    u0.password = NULL;
    u0.nquery = 0;
    u0.database = NULL;
    r = calx_url_render(&u0, false);
    CHECK_STR(r, "postgresql://a%09b@h");
    free(r);
    CHECK(calx_url_render(NULL, false) == NULL);
}

TEST(render_hides_passwords)
{
    calx_url *u = ok("postgresql://scott:s3cr3t@h/db?password=s3cr3t&sslpassword=s3cr3t&x=1");
    char *r = calx_url_render(u, true);
    CHECK_STR(r, "postgresql://scott:***@h/db?password=***&sslpassword=***&x=1");
    free(r);
    r = calx_url_render(u, false);
    CHECK_STR(r, "postgresql://scott:s3cr3t@h/db?password=s3cr3t&sslpassword=s3cr3t&x=1");
    free(r);
    calx_url_free(u);
}

TEST(copy_is_deep)
{
    calx_url *u = ok("postgresql+asyncpg://u:p@h1:1,[::1]:2/db?a=1&b=2");
    calx_url *c = calx_url_copy(u);
    CHECK(c != NULL);
    char *r1 = calx_url_render(u, false);
    calx_url_free(u);   /* the copy must not share anything with it */
    char *r2 = calx_url_render(c, false);
    CHECK_STR(r2, r1);
    CHECK_STR(c->host, "h1");
    CHECK_INT(c->port, 1);
    CHECK_INT(c->nhosts, 2);
    CHECK_STR(c->hosts[1].host, "::1");
    CHECK_STR(c->driver, "asyncpg");
    CHECK_STR(calx_url_query_get(c, "b"), "2");
    free(r1);
    free(r2);
    calx_url_free(c);

    c = calx_url_copy(u = ok("sqlite://"));
    CHECK(c->memory);
    CHECK(c->database == NULL && c->hosts == NULL && c->query == NULL);
    calx_url_free(c);
    calx_url_free(u);
    CHECK(calx_url_copy(NULL) == NULL);
    calx_url_free(NULL);
}

/* The repr and the masked form must name the server the URL names: an
 * '@' written %40 in the database stays encoded, or the render would parse
 * as a password and another host. */
TEST(an_encoded_at_sign_in_the_database_renders_encoded)
{
    calx_url *u = ok("postgresql://h:5432/db%40x");
    CHECK_STR(u->host, "h");
    CHECK_STR(u->database, "db@x");
    char *r = calx_url_render(u, false);
    CHECK_STR(r, "postgresql://h:5432/db%40x");
    free(r);
    r = calx_url_render(u, true);
    CHECK_STR(r, "postgresql://h:5432/db%40x");
    calx_url *back = ok(r);
    if (back) {
        CHECK_STR(back->host, "h");
        CHECK_INT(back->port, 5432);
        CHECK(back->username == NULL && back->password == NULL);
        CHECK_STR(back->database, "db@x");
    }
    calx_url_free(back);
    free(r);
    calx_url_free(u);

    /* Query options too: SQLAlchemy would read a raw '@' there as the end
     * of a password. */
    u = ok("postgresql://h:5432/db?application_name=a%40b");
    r = calx_url_render(u, true);
    CHECK_STR(r, "postgresql://h:5432/db?application_name=a%40b");
    free(r);
    calx_url_free(u);
}

/* libpq's rule: the user info ends before the first '/', so an '@' after
 * it is part of the database (or of the query, past a '?'). */
TEST(an_at_sign_after_the_first_slash_belongs_to_the_database)
{
    calx_url *u = ok("postgresql://h:5432/db@x");
    CHECK(u->username == NULL && u->password == NULL);
    CHECK_STR(u->host, "h");
    CHECK_INT(u->port, 5432);
    CHECK_INT(u->nhosts, 1);
    CHECK_STR(u->database, "db@x");
    calx_url_free(u);

    u = ok("postgresql://h1:5432,h2:5433/db@x");
    CHECK(u->password == NULL);
    CHECK_INT(u->nhosts, 2);
    CHECK_STR(u->database, "db@x");
    calx_url_free(u);

    u = ok("postgresql://me@x:5432/db@y");
    CHECK_STR(u->username, "me");
    CHECK(u->password == NULL);
    CHECK_STR(u->host, "x");
    CHECK_STR(u->database, "db@y");
    calx_url_free(u);

    u = ok("postgresql://h:1?application_name=a@b");
    CHECK(u->password == NULL);
    CHECK_STR(u->host, "h");
    CHECK_INT(u->port, 1);
    CHECK_STR(calx_url_query_get(u, "application_name"), "a@b");
    calx_url_free(u);

    /* Where libpq's reading is no valid URL (a "port" that is no number),
     * SQLAlchemy's stands: the password holds the '/'. */
    u = ok("postgresql://u:pa/ss@h/db");
    CHECK_STR(u->username, "u");
    CHECK_STR(u->password, "pa/ss");
    CHECK_STR(u->host, "h");
    CHECK_STR(u->database, "db");
    calx_url_free(u);
}

/* ---- errors ---- */

TEST(error_port)
{
    const char *m = bad("postgresql://u:pwd@host:99999/db", "pwd");
    CHECK_STR(m, "invalid database URL 'postgresql://u:***@host:99999/db': "
                 "port '99999' is out of range (1-65535) at character 25");
    m = bad("postgresql://u:pwd@host:0/db", "pwd");
    CHECK_CONTAINS(m, "port '0' is out of range (1-65535)");
    m = bad("postgresql://u:pwd@host:54x2/db", "pwd");
    CHECK_CONTAINS(m, "port '54x2' is not a number at character 25");
    m = bad("postgresql://u:pwd@host:-1/db", "pwd");
    CHECK_CONTAINS(m, "port '-1' is not a number");
    m = bad("postgresql://h:99999999999999999999999/db", NULL);
    CHECK_CONTAINS(m, "is out of range (1-65535)");
    m = bad("postgresql://h1:5432,h2:x/db", NULL);
    CHECK_CONTAINS(m, "port 'x' is not a number at character 25");
    m = bad("postgresql://::1/db", NULL);
    CHECK_CONTAINS(m, "(write IPv6 hosts in brackets: [::1]:5432)");
    /* No '@': the "port" is probably a password missing its "@host". */
    m = bad("postgresql://scott:tiger", "tiger");
    CHECK_STR(m, "invalid database URL 'postgresql://scott:***': "
                 "the port is not a number");
    m = bad("postgresql://scott:123456789", "123456789");
    CHECK_CONTAINS(m, "the port is out of range");
}

TEST(error_scheme)
{
    const char *m = bad("sqlite:/x.db", NULL);
    CHECK_STR(m, "invalid database URL 'sqlite:/x.db': no '://' after the "
                 "dialect name 'sqlite' at character 7");
    m = bad("postgresql", NULL);
    CHECK_CONTAINS(m, "no '://' after the dialect name 'postgresql'");
    m = bad("://h/db", NULL);
    CHECK_CONTAINS(m, "empty dialect name before '://' at character 1");
    m = bad("+asyncpg://h/db", NULL);
    CHECK_CONTAINS(m, "empty dialect name before '+'");
    m = bad("postgresql+://h/db", NULL);
    CHECK_CONTAINS(m, "empty driver name after '+' at character 12");
    m = bad("postgresql+a+b://h/db", NULL);
    CHECK_CONTAINS(m, "'+' in the driver name at character 13");
    m = bad("mysql://u:pwd@h/db", "pwd");
    CHECK_STR(m, "invalid database URL 'mysql://u:***@h/db': unsupported "
                 "dialect 'mysql' (calx supports sqlite, postgresql, postgres) at character 1");
    m = bad("mysql+pymysql://h/db", NULL);
    CHECK_CONTAINS(m, "unsupported dialect 'mysql'");
    m = bad("my-sql://h/db", NULL);
    CHECK_CONTAINS(m, "'-' in the dialect name at character 3");
    m = bad("", NULL);
    CHECK_CONTAINS(m, "the URL is empty");
    m = bad("/tmp/app.db", NULL);
    CHECK_CONTAINS(m, "no dialect name (expected dialect[+driver]://...)");
    m = bad("postgresql:u:pwd@h/db", "pwd");
    CHECK_CONTAINS(m, "no '://'");

    calx_error err;
    CHECK(calx_url_parse(NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK(calx_url_parse("bogus", NULL) == NULL);  /* err may be NULL */
}

TEST(error_sqlite_authority)
{
    const char *m = bad("sqlite://host/x.db", NULL);
    CHECK_CONTAINS(m, "sqlite URLs have no user name, password, host or port");
    CHECK_CONTAINS(m, "at character 10");
    m = bad("sqlite://u:hunter2@/x.db", "hunter2");
    CHECK_CONTAINS(m, "'sqlite://u:***@/x.db'");
    m = bad("sqlite://:memory:", NULL);
    CHECK_CONTAINS(m, "sqlite URLs have no user name");
}

TEST(error_percent)
{
    const char *m = bad("sqlite:///a%zz.db", NULL);
    CHECK_STR(m, "invalid database URL 'sqlite:///a%zz.db': bad percent escape "
                 "'%zz' in the database (write '%' as %25) at character 12");
    m = bad("sqlite:///a.db%4", NULL);
    CHECK_CONTAINS(m, "bad percent escape '%4' in the database");
    m = bad("sqlite:///a.db%", NULL);
    CHECK_CONTAINS(m, "bad percent escape '%' in the database");
    m = bad("sqlite:///a.db?k=%g1", NULL);
    CHECK_CONTAINS(m, "bad percent escape '%g1' in the query option value");
    m = bad("sqlite:///a.db?k%=1", NULL);
    CHECK_CONTAINS(m, "bad percent escape '%' in the query option name");
    m = bad("postgresql://us%xer@h/db", NULL);
    CHECK_CONTAINS(m, "bad percent escape '%xe' in the user name");
    CHECK_CONTAINS(m, "at character 16");
    m = bad("postgresql://u@h%zz/db", NULL);
    CHECK_CONTAINS(m, "in the host");
    m = bad("sqlite:///a%00b.db", NULL);
    CHECK_CONTAINS(m, "%00 (a NUL byte) in the database at character 12");

    /* In the password: neither the escape nor its position is shown. */
    m = bad("postgresql://u:Kq7%zzcret@h/db", "Kq7");
    CHECK_STR(m, "invalid database URL 'postgresql://u:***@h/db': bad percent "
                 "escape in the password (write '%' as %25)");
    m = bad("postgresql://u:Kq7cret%4@h/db", "Kq7");
    CHECK_CONTAINS(m, "bad percent escape in the password");
    m = bad("postgresql://u:Kq7%00ret@h/db", "Kq7");
    CHECK_CONTAINS(m, "%00 (a NUL byte) in the password");
}

TEST(error_hosts)
{
    const char *m = bad("postgresql://u@[::1/db", NULL);
    CHECK_CONTAINS(m, "'[' without a closing ']' in the host at character 16");
    m = bad("postgresql://u@[]:5432/db", NULL);
    CHECK_CONTAINS(m, "empty IPv6 host '[]'");
    m = bad("postgresql://u@[::1]x/db", NULL);
    CHECK_CONTAINS(m, "'x' after the IPv6 host (expected ':port') at character 21");
    m = bad("postgresql://u@h]/db", NULL);
    CHECK_CONTAINS(m, "']' in the host");
    /* An unescaped '@' in the password: the rest of it is in the "host";
     * neither part may be shown. */
    m = bad("postgresql://u:p@ssw0rd@h/db", "ssw0rd");
    CHECK_STR(m, "invalid database URL 'postgresql://u:***@h/db': '@' in the "
                 "host (write an '@' in a user name or password as %40) at character 19");
    m = bad("postgresql://u:p@ss@w0rd@h:99999/db", "w0rd");
    CHECK(strstr(m, "ss@") == NULL);
}

TEST(error_query)
{
    const char *m = bad("sqlite:///x.db?a=1&=2", NULL);
    CHECK_CONTAINS(m, "empty query option name at character 20");
    /* A ?password= value is masked in messages, and later positions shift. */
    m = bad("postgresql://h/db?password=s3cr3t&sslmode=%zz", "s3cr3t");
    CHECK_CONTAINS(m, "'postgresql://h/db?password=***'");
    m = bad("postgresql://u:pwd@h/db?x=%zz", "pwd");
    CHECK_STR(m, "invalid database URL 'postgresql://u:***@h/db?x=%zz': bad "
                 "percent escape '%zz' in the query option value (write '%' as %25) "
                 "at character 27");
}

TEST(error_long_url_is_cut)
{
    char url[1200];
    memcpy(url, "postgresql://u:hunter2@h/", 25);
    memset(url + 25, 'd', 1000);
    strcpy(url + 1025, "?x=%zz");
    const char *m = bad(url, "hunter2");
    CHECK_CONTAINS(m, "...': bad percent escape '%zz' in the query option value");
    CHECK(strlen(m) < 512);
}

/* The password never shows, whatever goes wrong, in messages or renders. */
TEST(password_never_leaks)
{
    const char *urls[] = {
        "postgresql://u:Zq9Secret@h:x/db",
        "postgresql://u:Zq9Secret@h:0/db",
        "postgresql://u:Zq9Secret@[::1/db",
        "postgresql://u:Zq9Secret@h/%zz",
        "postgresql://u:Zq9Secret@h/db?=x",
        "postgresql://u:Zq9Secret@h/db?a=%4",
        "postgresql://u:Zq9Secret",
        "postgresql://u:Zq9Secret/db",
        "postgresql://u:Zq9Secret@@h/db",
        "postgresql://u:Zq9Se@cret@h/db",
        "postgresql://u:Zq9Secret%@h/db",
        "postgres-ql://u:Zq9Secret@h/db",
        "mysql://u:Zq9Secret@h/db",
        "postgresql:/u:Zq9Secret@h/db",
        "postgresql//u:Zq9Secret@h/db",
        "sqlite://u:Zq9Secret@/x.db",
        "postgresql+://u:Zq9Secret@h/db",
        "postgre'ql:)//u:Zq9Secret@h:999://db",  /* found by fuzzing */
        "postgresql://h/db?password=Zq9Secret&a=%zz",
    };
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
        const char *m = bad(urls[i], "Zq9");
        CHECK_CONTAINS(m, "***");
    }
    calx_url *u = ok("postgresql://u:Zq9Secret@h/db");
    char *r = calx_url_render(u, true);
    CHECK(strstr(r, "Zq9") == NULL);
    free(r);
    calx_url_free(u);
}

int main(void)
{
    RUN(sqlite_relative_and_absolute);
    RUN(sqlite_memory);
    RUN(sqlite_query_in_order);
    RUN(sqlite_driver_suffix);
    RUN(postgresql_full);
    RUN(postgresql_aliases_and_drivers);
    RUN(postgresql_empty_host);
    RUN(postgresql_multi_host);
    RUN(postgresql_ipv6);
    RUN(user_info_split);
    RUN(percent_decoding);
    RUN(query_options);
    RUN(render_round_trips);
    RUN(render_hides_passwords);
    RUN(copy_is_deep);
    RUN(an_encoded_at_sign_in_the_database_renders_encoded);
    RUN(an_at_sign_after_the_first_slash_belongs_to_the_database);
    RUN(error_port);
    RUN(error_scheme);
    RUN(error_sqlite_authority);
    RUN(error_percent);
    RUN(error_hosts);
    RUN(error_query);
    RUN(error_long_url_is_cut);
    RUN(password_never_leaks);
    return TEST_REPORT();
}
