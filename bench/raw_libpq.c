/* SPDX-License-Identifier: MIT */
/* raw_libpq.c — the heroes cases B1-B6 on raw libpq: the limit an ORM on
 * PostgreSQL can approach, in the ways libpq offers.
 *
 *   raw_libpq --case B1|B2|B3|B4|B5|B6 [--variant V] [--pg-url URL]
 *
 * Variants (all by default; B2 should run one per process for its RSS):
 *   B1  exec_params  PQexecParams per row, INSERT ... RETURNING id
 *       prepared     PQprepare once, PQexecPrepared per row
 *       pipelined    the prepared INSERT per row in pipeline mode
 *       multirow     INSERT ... VALUES (...),(...) RETURNING id, 1000 rows a statement
 *   B2  text, binary one SELECT of every hero, text or binary result format
 *   B3  prepared     PQexecPrepared per get (cold), then the same gets again
 *                    (warm: there is no identity map, the lookup runs again)
 *   B4  per_row      load 10k heroes, PQexecPrepared UPDATE per hero
 *       pipelined    the same UPDATEs in pipeline mode
 *   B5  async_pipelined  15 non-blocking connections driven by poll(), 50
 *                    logical clients; per transaction two round trips:
 *                    BEGIN + SELECT, then UPDATE + COMMIT (each a pipeline)
 *       async        the same with four round trips: BEGIN, SELECT, UPDATE,
 *                    COMMIT (what a session that sends each statement does)
 *   B6  two_queries  the teams, then their heroes WHERE team_id IN ($1, ...),
 *                    in one transaction, joined in memory (selectinload's way)
 *       join         one SELECT ... FROM team LEFT OUTER JOIN hero (joinedload's)
 * Parameters go as text; every case runs in one transaction (B5: one per
 * logical transaction). Each case and variant starts from freshly made
 * tables (heroes_db.h) and its own new connection, so they are independent. */
#include "bench_common.h"
#include "heroes_db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char INSERT_SQL[] =
    "INSERT INTO hero (name, secret_name, age, team_id) VALUES ($1, $2, $3, $4) RETURNING hero.id";
static const char SELECT_ALL_SQL[] = "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero";
static const char SELECT_PK_SQL[] =
    "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero WHERE hero.id = $1";
static const char SELECT_FIRST_SQL[] =
    "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero ORDER BY hero.id LIMIT $1";
static const char UPDATE_SQL[] = "UPDATE hero SET age=$1 WHERE hero.id = $2";
static const char SUM_AGES_SQL[] = "SELECT coalesce(sum(coalesce(age, 0)), 0) FROM hero";
static const char SELECT_TEAMS_SQL[] = "SELECT team.id, team.name, team.headquarters FROM team";
static const char SELECT_JOIN_SQL[] =
    "SELECT team.id, team.name, team.headquarters, hero.id, hero.name, hero.secret_name, hero.age, "
    "hero.team_id FROM team LEFT OUTER JOIN hero ON team.id = hero.team_id";

#define MULTIROW_CHUNK 1000
#define INT4OID 23

static bench_sizes sz;
static bench_opts opt;

/* ---- small helpers ----------------------------------------------------------- */

static void expect(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != want) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        bench_die("%s: %s(status %s)", what, msg, PQresStatus(st));
    }
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        expect(c, r, PGRES_COMMAND_OK, sql);
    PQclear(r);
}

static long scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    expect(c, r, PGRES_TUPLES_OK, sql);
    long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void prepare(PGconn *c, const char *name, const char *sql, int nparams)
{
    PGresult *r = PQprepare(c, name, sql, nparams, NULL);
    expect(c, r, PGRES_COMMAND_OK, sql);
    PQclear(r);
}

static PGconn *pg_connect(void)
{
    if (!opt.pg_url || !*opt.pg_url)
        bench_die("no PostgreSQL URL: pass --pg-url or set CALX_TEST_PG_URL (bench/run.sh starts a server)");
    PGconn *c = PQconnectdb(opt.pg_url);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        PQfinish(c);
        bench_die("cannot connect to %s: %s", opt.pg_url, msg);
    }
    exec_ok(c, "SET client_min_messages = warning");
    return c;
}

/* Heroes 1..n as structs: what B1 inserts. */
static void build_heroes(long n, hero_vec *hv, str_arena *ar)
{
    hero_vec_reserve(hv, (size_t)n);
    for (long i = 1; i <= n; i++) {
        char buf[32];
        hero *h = hero_vec_push(hv);
        h->name = arena_copy(ar, buf, (size_t)hero_name(i, buf));
        h->secret_name = arena_copy(ar, buf, (size_t)hero_secret(i, buf));
        h->age_null = !hero_age(i, &h->age);
        h->team_id = hero_team(i);
    }
}

/* The four INSERT parameters of h, as text (ints into the two buffers). */
static void insert_params(const hero *h, const char **vals, char agebuf[16], char teambuf[24])
{
    vals[0] = h->name;
    vals[1] = h->secret_name;
    if (h->age_null)
        vals[2] = NULL;
    else {
        snprintf(agebuf, 16, "%d", (int)h->age);
        vals[2] = agebuf;
    }
    snprintf(teambuf, 24, "%lld", (long long)h->team_id);
    vals[3] = teambuf;
}

static int64_t text_int(const PGresult *r, int row, int col) { return strtoll(PQgetvalue(r, row, col), NULL, 10); }

static const char *col_text(const PGresult *r, int row, int col, str_arena *ar)
{
    return arena_copy(ar, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* The hero columns of a text-format row, from column c (id, name,
 * secret_name, age, team_id), into *h. */
static void read_hero_text_at(const PGresult *r, int row, int c, hero *h, str_arena *ar)
{
    h->id = text_int(r, row, c);
    h->name = col_text(r, row, c + 1, ar);
    h->secret_name = col_text(r, row, c + 2, ar);
    h->age_null = PQgetisnull(r, row, c + 3);
    h->age = h->age_null ? 0 : (int32_t)text_int(r, row, c + 3);
    h->team_null = PQgetisnull(r, row, c + 4);
    h->team_id = h->team_null ? 0 : text_int(r, row, c + 4);
}

/* Row `row` of a text-format hero result into *h. */
static void read_hero_text(const PGresult *r, int row, hero *h, str_arena *ar)
{
    read_hero_text_at(r, row, 0, h, ar);
}

static int32_t be_int4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return (int32_t)ntohl(v);
}

static void read_hero_binary(const PGresult *r, int row, hero *h, str_arena *ar)
{
    h->id = be_int4(PQgetvalue(r, row, 0));
    h->name = arena_copy(ar, PQgetvalue(r, row, 1), (size_t)PQgetlength(r, row, 1));
    h->secret_name = arena_copy(ar, PQgetvalue(r, row, 2), (size_t)PQgetlength(r, row, 2));
    h->age_null = PQgetisnull(r, row, 3);
    h->age = h->age_null ? 0 : be_int4(PQgetvalue(r, row, 3));
    h->team_null = PQgetisnull(r, row, 4);
    h->team_id = h->team_null ? 0 : be_int4(PQgetvalue(r, row, 4));
}

static void verify_hero(const hero *h)
{
    char buf[32];
    int32_t age = 0;
    bool has_age = hero_age(h->id, &age);
    hero_name(h->id, buf);
    if (strcmp(h->name, buf) || h->age_null == has_age || (has_age && h->age != age) ||
        h->team_id != hero_team(h->id))
        bench_die("hero %lld read back wrong", (long long)h->id);
}

/* ---- pipeline mode ------------------------------------------------------------ */

typedef void (*pipe_send_fn)(PGconn *c, long i, void *ud);           /* sends query i */
typedef void (*pipe_recv_fn)(const PGresult *r, long i, void *ud);   /* query i's result */

/* Runs n queries in pipeline mode on a non-blocking socket, reading results
 * while it sends so neither side's buffers fill up, with one sync at the
 * end. Any error is fatal. */
static void pipeline(PGconn *c, long n, pipe_send_fn send, pipe_recv_fn recv, void *ud)
{
    if (PQsetnonblocking(c, 1) != 0 || PQenterPipelineMode(c) != 1)
        bench_die("cannot enter pipeline mode: %s", PQerrorMessage(c));
    int sock = PQsocket(c);
    long sent = 0, done = 0;
    bool synced = false, have = false, finished = false;
    while (!finished) {
        for (int k = 0; k < 256 && sent < n; k++)
            send(c, sent++, ud);
        if (sent == n && !synced) {
            if (PQpipelineSync(c) != 1)
                bench_die("PQpipelineSync: %s", PQerrorMessage(c));
            synced = true;
        }
        int fl = PQflush(c);
        if (fl < 0)
            bench_die("PQflush: %s", PQerrorMessage(c));
        if (PQconsumeInput(c) != 1)
            bench_die("PQconsumeInput: %s", PQerrorMessage(c));
        while (!PQisBusy(c)) {
            PGresult *r = PQgetResult(c);
            if (!r) {
                if (!have)
                    break;  /* nothing more until the server answers */
                have = false; /* end of query `done`'s results */
                done++;
                continue;
            }
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                finished = true;
                break;
            }
            if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
                expect(c, r, PGRES_COMMAND_OK, "pipelined query");
            recv(r, done, ud);
            PQclear(r);
            have = true;
        }
        if (finished)
            break;
        struct pollfd p = {.fd = sock, .events = (short)(POLLIN | (fl == 1 ? POLLOUT : 0))};
        if (poll(&p, 1, sent < n ? 0 : -1) < 0 && errno != EINTR)
            bench_die("poll: %s", strerror(errno));
    }
    if (done != n)
        bench_die("pipeline: %ld results for %ld queries", done, n);
    if (PQexitPipelineMode(c) != 1 || PQsetnonblocking(c, 0) != 0)
        bench_die("cannot leave pipeline mode: %s", PQerrorMessage(c));
}

/* ---- B1 insert ----------------------------------------------------------------- */

static void b1_pipe_send(PGconn *c, long i, void *ud)
{
    hero_vec *hv = ud;
    const char *vals[4];
    char agebuf[16], teambuf[24];
    insert_params(&hv->v[i], vals, agebuf, teambuf);
    if (PQsendQueryPrepared(c, "b1_ins", 4, vals, NULL, NULL, 0) != 1)
        bench_die("PQsendQueryPrepared: %s", PQerrorMessage(c));
}

static void b1_pipe_recv(const PGresult *r, long i, void *ud)
{
    hero_vec *hv = ud;
    hv->v[i].id = text_int(r, 0, 0);
}

/* INSERT ... VALUES ($1, $2, $3, $4), ... RETURNING hero.id for k rows. */
static char *multirow_sql(int k)
{
    size_t cap = 128 + (size_t)k * 48;
    char *s = bench_xmalloc(cap);
    size_t n = (size_t)snprintf(s, cap, "INSERT INTO hero (name, secret_name, age, team_id) VALUES ");
    for (int j = 0; j < k; j++)
        n += (size_t)snprintf(s + n, cap - n, "%s($%d, $%d, $%d, $%d)", j ? ", " : "", 4 * j + 1, 4 * j + 2,
                              4 * j + 3, 4 * j + 4);
    snprintf(s + n, cap - n, " RETURNING hero.id");
    return s;
}

static void b1_variant(PGconn *c, const char *variant)
{
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    build_heroes(sz.heroes, &hv, &ar);
    exec_ok(c, "BEGIN");
    if (!strcmp(variant, "exec_params") || !strcmp(variant, "prepared")) {
        bool prep = !strcmp(variant, "prepared");
        if (prep)
            prepare(c, "b1_ins", INSERT_SQL, 4);
        for (size_t k = 0; k < hv.n; k++) {
            const char *vals[4];
            char agebuf[16], teambuf[24];
            insert_params(&hv.v[k], vals, agebuf, teambuf);
            PGresult *r = prep ? PQexecPrepared(c, "b1_ins", 4, vals, NULL, NULL, 0)
                               : PQexecParams(c, INSERT_SQL, 4, NULL, vals, NULL, NULL, 0);
            expect(c, r, PGRES_TUPLES_OK, INSERT_SQL);
            hv.v[k].id = text_int(r, 0, 0);
            PQclear(r);
        }
    } else if (!strcmp(variant, "pipelined")) {
        prepare(c, "b1_ins", INSERT_SQL, 4);
        pipeline(c, (long)hv.n, b1_pipe_send, b1_pipe_recv, &hv);
    } else { /* multirow */
        char *full = multirow_sql(MULTIROW_CHUNK);
        prepare(c, "b1_multi", full, 4 * MULTIROW_CHUNK);
        free(full);
        const char **vals = bench_xmalloc(sizeof *vals * 4 * MULTIROW_CHUNK);
        char(*ages)[16] = bench_xmalloc(sizeof *ages * MULTIROW_CHUNK);
        char(*teams)[24] = bench_xmalloc(sizeof *teams * MULTIROW_CHUNK);
        for (size_t at = 0; at < hv.n; at += MULTIROW_CHUNK) {
            int k = (int)(hv.n - at < MULTIROW_CHUNK ? hv.n - at : MULTIROW_CHUNK);
            for (int j = 0; j < k; j++)
                insert_params(&hv.v[at + (size_t)j], vals + 4 * j, ages[j], teams[j]);
            PGresult *r;
            if (k == MULTIROW_CHUNK)
                r = PQexecPrepared(c, "b1_multi", 4 * k, vals, NULL, NULL, 0);
            else {
                char *sql = multirow_sql(k);
                r = PQexecParams(c, sql, 4 * k, NULL, vals, NULL, NULL, 0);
                free(sql);
            }
            expect(c, r, PGRES_TUPLES_OK, "multi-row INSERT");
            if (PQntuples(r) != k)
                bench_die("multi-row INSERT returned %d ids for %d rows", PQntuples(r), k);
            for (int j = 0; j < k; j++)
                hv.v[at + (size_t)j].id = text_int(r, j, 0);
            PQclear(r);
        }
        free(vals);
        free(ages);
        free(teams);
    }
    exec_ok(c, "COMMIT");
    double t1 = bench_timed_end();
    if (hv.v[0].id != 1 || hv.v[hv.n - 1].id != sz.heroes || scalar(c, "SELECT count(*) FROM hero") != sz.heroes)
        bench_die("B1 %s: wrong ids or row count", variant);
    bench_emit(&(bench_rec){.case_name = "B1", .backend = "postgresql", .impl = "raw_c", .variant = variant,
                            .ops = sz.heroes, .seconds = t1 - t0});
    hero_vec_free(&hv);
    arena_free(&ar);
}

/* ---- B2 load --------------------------------------------------------------------- */

static void b2_variant(PGconn *c, const char *variant)
{
    bool binary = !strcmp(variant, "binary");
    long base = bench_maxrss_kb();
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    PGresult *r = PQexecParams(c, SELECT_ALL_SQL, 0, NULL, NULL, NULL, NULL, binary ? 1 : 0);
    expect(c, r, PGRES_TUPLES_OK, SELECT_ALL_SQL);
    int n = PQntuples(r);
    if (binary)
        for (int col = 0; col < 5; col++)
            if (col != 1 && col != 2 && PQftype(r, col) != INT4OID)
                bench_die("B2 binary: column %d is not int4 (type oid %u)", col, PQftype(r, col));
    hero_vec_reserve(&hv, (size_t)n);
    for (int row = 0; row < n; row++) {
        if (binary)
            read_hero_binary(r, row, hero_vec_push(&hv), &ar);
        else
            read_hero_text(r, row, hero_vec_push(&hv), &ar);
    }
    PQclear(r);
    double t1 = bench_timed_end();
    long peak = bench_maxrss_kb();
    if ((long)hv.n != sz.heroes)
        bench_die("B2: loaded %zu heroes, not %ld", hv.n, sz.heroes);
    for (size_t k = 0; k < hv.n; k += 997)
        verify_hero(&hv.v[k]);
    bench_emit(&(bench_rec){.case_name = "B2", .backend = "postgresql", .impl = "raw_c", .variant = variant,
                            .ops = sz.heroes, .seconds = t1 - t0, .peak_rss_kb = peak, .base_rss_kb = base});
    hero_vec_free(&hv);
    arena_free(&ar);
}

/* ---- B3 get ---------------------------------------------------------------------- */

static double b3_pass(PGconn *c, hero_vec *hv, str_arena *ar, bench_lat *lat)
{
    double start = bench_now();
    for (long i = 0; i < sz.gets; i++) {
        char pkbuf[24];
        snprintf(pkbuf, sizeof pkbuf, "%ld", bench_get_pk(i, sz.heroes));
        const char *vals[1] = {pkbuf};
        double t = bench_now();
        PGresult *r = PQexecPrepared(c, "b3_get", 1, vals, NULL, NULL, 0);
        expect(c, r, PGRES_TUPLES_OK, SELECT_PK_SQL);
        if (PQntuples(r) != 1)
            bench_die("B3: no hero %s", pkbuf);
        read_hero_text(r, 0, hero_vec_push(hv), ar);
        PQclear(r);
        lat_add(lat, (bench_now() - t) * 1e6);
    }
    return bench_now() - start;
}

static void b3_variant(PGconn *c)
{
    hero_vec hv = {0};
    str_arena ar = {0};
    bench_lat cold = {0}, warm = {0};
    prepare(c, "b3_get", SELECT_PK_SQL, 1);
    exec_ok(c, "BEGIN");
    /* The cold pass alone is the profile's timed part (bench/profile.sh). */
    bench_timed_begin();
    double tc = b3_pass(c, &hv, &ar, &cold);
    bench_timed_end();
    double tw = b3_pass(c, &hv, &ar, &warm);
    exec_ok(c, "COMMIT");
    for (size_t k = 0; k < hv.n; k += 101) {
        verify_hero(&hv.v[k]);
        if (hv.v[k].id != bench_get_pk((long)(k % (size_t)sz.gets), sz.heroes))
            bench_die("B3: got the wrong hero");
    }
    bench_emit(&(bench_rec){.case_name = "B3", .backend = "postgresql", .impl = "raw_c", .variant = "prepared",
                            .phase = "cold", .ops = sz.gets, .seconds = tc, .mean_us = lat_mean(&cold),
                            .p99_us = lat_p99(&cold)});
    bench_emit(&(bench_rec){.case_name = "B3", .backend = "postgresql", .impl = "raw_c", .variant = "prepared",
                            .phase = "warm", .ops = sz.gets, .seconds = tw, .mean_us = lat_mean(&warm),
                            .p99_us = lat_p99(&warm), .note = "no identity map: warm repeats the lookup"});
    lat_free(&cold);
    lat_free(&warm);
    hero_vec_free(&hv);
    arena_free(&ar);
}

/* ---- B4 update ----------------------------------------------------------------- */

static void update_params(const hero *h, const char **vals, char agebuf[16], char idbuf[24])
{
    snprintf(agebuf, 16, "%d", (int)h->age);
    snprintf(idbuf, 24, "%lld", (long long)h->id);
    vals[0] = agebuf;
    vals[1] = idbuf;
}

static void b4_pipe_send(PGconn *c, long i, void *ud)
{
    hero_vec *hv = ud;
    const char *vals[2];
    char agebuf[16], idbuf[24];
    update_params(&hv->v[i], vals, agebuf, idbuf);
    if (PQsendQueryPrepared(c, "b4_upd", 2, vals, NULL, NULL, 0) != 1)
        bench_die("PQsendQueryPrepared: %s", PQerrorMessage(c));
}

static void b4_pipe_recv(const PGresult *r, long i, void *ud)
{
    (void)ud;
    if (strcmp(PQcmdTuples((PGresult *)r), "1") != 0)
        bench_die("B4: update %ld changed %s rows", i, PQcmdTuples((PGresult *)r));
}

static void b4_variant(PGconn *c, const char *variant)
{
    long before = scalar(c, SUM_AGES_SQL);
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    exec_ok(c, "BEGIN");
    char limbuf[24];
    snprintf(limbuf, sizeof limbuf, "%ld", sz.updates);
    const char *lim[1] = {limbuf};
    PGresult *r = PQexecParams(c, SELECT_FIRST_SQL, 1, NULL, lim, NULL, NULL, 0);
    expect(c, r, PGRES_TUPLES_OK, SELECT_FIRST_SQL);
    hero_vec_reserve(&hv, (size_t)PQntuples(r));
    for (int row = 0; row < PQntuples(r); row++)
        read_hero_text(r, row, hero_vec_push(&hv), &ar);
    PQclear(r);
    for (size_t k = 0; k < hv.n; k++) {
        hv.v[k].age = hero_new_age(&hv.v[k]);
        hv.v[k].age_null = false;
    }
    prepare(c, "b4_upd", UPDATE_SQL, 2);
    if (!strcmp(variant, "pipelined"))
        pipeline(c, (long)hv.n, b4_pipe_send, b4_pipe_recv, &hv);
    else
        for (size_t k = 0; k < hv.n; k++) {
            const char *vals[2];
            char agebuf[16], idbuf[24];
            update_params(&hv.v[k], vals, agebuf, idbuf);
            r = PQexecPrepared(c, "b4_upd", 2, vals, NULL, NULL, 0);
            expect(c, r, PGRES_COMMAND_OK, UPDATE_SQL);
            b4_pipe_recv(r, (long)k, NULL);
            PQclear(r);
        }
    exec_ok(c, "COMMIT");
    double t1 = bench_timed_end();
    long after = scalar(c, SUM_AGES_SQL);
    if ((long)hv.n != sz.updates || after - before != sz.updates)
        bench_die("B4: %zu heroes loaded, ages grew by %ld, expected %ld", hv.n, after - before, sz.updates);
    bench_emit(&(bench_rec){.case_name = "B4", .backend = "postgresql", .impl = "raw_c", .variant = variant,
                            .ops = sz.updates, .seconds = t1 - t0});
    hero_vec_free(&hv);
    arena_free(&ar);
}

/* ---- B5 concurrency ------------------------------------------------------------ */

#define B5_CONNS (BENCH_POOL_SIZE + BENCH_MAX_OVERFLOW)

typedef struct b5_conn {
    PGconn *pg;
    int client;    /* the logical client whose transaction runs here, or -1 */
    int step;      /* its round trip in progress */
    bool have;     /* a result of the current query has been read */
    bool flushing; /* output left to send */
    bool got_row;
    hero h;        /* the hero the SELECT read (strings not kept) */
} b5_conn;

typedef struct b5_state {
    b5_conn conns[B5_CONNS];
    int free_conns[B5_CONNS], nfree;
    int waitq[BENCH_CLIENTS + 1], qhead, qtail; /* FIFO of clients waiting for a connection */
    long client_pk[BENCH_CLIENTS];
    double client_t0[BENCH_CLIENTS];
    long next_tx, done_tx;
    uint64_t rng;
    bool pipelined;
    int nsteps;
    bench_lat lat;
} b5_state;

static void b5_send(PGconn *pg, const char *stmt, int n, const char *const *vals)
{
    int ok = stmt ? PQsendQueryPrepared(pg, stmt, n, vals, NULL, NULL, 0)
                  : PQsendQueryParams(pg, vals[0], 0, NULL, NULL, NULL, NULL, 0);
    if (ok != 1)
        bench_die("B5 send: %s", PQerrorMessage(pg));
}

static void b5_begin(PGconn *pg) { b5_send(pg, NULL, 0, (const char *const[]){"BEGIN"}); }
static void b5_commit(PGconn *pg) { b5_send(pg, NULL, 0, (const char *const[]){"COMMIT"}); }

/* Sends round trip k->step of the transaction: its statements and a sync. */
static void b5_send_step(b5_state *s, b5_conn *k)
{
    char pkbuf[24], agebuf[16], idbuf[24];
    const char *vals[2];
    bool sel = false, upd = false, begin = false, commit = false;
    if (s->pipelined) {
        begin = sel = k->step == 0;
        upd = commit = k->step == 1;
    } else {
        begin = k->step == 0;
        sel = k->step == 1;
        upd = k->step == 2;
        commit = k->step == 3;
    }
    if (begin)
        b5_begin(k->pg);
    if (sel) {
        snprintf(pkbuf, sizeof pkbuf, "%ld", s->client_pk[k->client]);
        vals[0] = pkbuf;
        k->got_row = false;
        b5_send(k->pg, "b5_sel", 1, vals);
    }
    if (upd) {
        if (!k->got_row)
            bench_die("B5: no hero %ld", s->client_pk[k->client]);
        k->h.age = hero_new_age(&k->h);
        update_params(&k->h, vals, agebuf, idbuf);
        b5_send(k->pg, "b5_upd", 2, vals);
    }
    if (commit)
        b5_commit(k->pg);
    if (PQpipelineSync(k->pg) != 1)
        bench_die("B5 sync: %s", PQerrorMessage(k->pg));
    int fl = PQflush(k->pg);
    if (fl < 0)
        bench_die("B5 flush: %s", PQerrorMessage(k->pg));
    k->flushing = fl == 1;
}

static void b5_start(b5_state *s, int ci, int client)
{
    b5_conn *k = &s->conns[ci];
    k->client = client;
    k->step = 0;
    b5_send_step(s, k);
}

/* Client `client` asks for its next transaction, if any are left. */
static void b5_request(b5_state *s, int client, long txns, long heroes)
{
    if (s->next_tx >= txns)
        return;
    s->next_tx++;
    s->client_pk[client] = bench_rand_pk(&s->rng, heroes);
    s->client_t0[client] = bench_now();
    if (s->nfree)
        b5_start(s, s->free_conns[--s->nfree], client);
    else {
        s->waitq[s->qtail] = client;
        s->qtail = (s->qtail + 1) % (BENCH_CLIENTS + 1);
    }
}

/* A transaction committed: the connection goes to the first waiter (or back
 * to the free list), then its client asks for the next one. */
static void b5_finish(b5_state *s, int ci, long txns, long heroes)
{
    b5_conn *k = &s->conns[ci];
    int client = k->client;
    lat_add(&s->lat, (bench_now() - s->client_t0[client]) * 1e6);
    s->done_tx++;
    k->client = -1;
    if (s->qhead != s->qtail) {
        int w = s->waitq[s->qhead];
        s->qhead = (s->qhead + 1) % (BENCH_CLIENTS + 1);
        b5_start(s, ci, w);
    } else
        s->free_conns[s->nfree++] = ci;
    b5_request(s, client, txns, heroes);
}

static void b5_drain(b5_state *s, int ci, long txns, long heroes)
{
    b5_conn *k = &s->conns[ci];
    while (k->client >= 0 && !PQisBusy(k->pg)) {
        PGresult *r = PQgetResult(k->pg);
        if (!r) {
            if (!k->have)
                break;
            k->have = false;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (++k->step == s->nsteps)
                b5_finish(s, ci, txns, heroes);
            else
                b5_send_step(s, k);
            continue;
        }
        if (st == PGRES_TUPLES_OK) {
            if (PQntuples(r) == 1) {
                k->h.id = text_int(r, 0, 0);
                k->h.age_null = PQgetisnull(r, 0, 3);
                k->h.age = k->h.age_null ? 0 : (int32_t)text_int(r, 0, 3);
                k->got_row = true;
            }
        } else if (st != PGRES_COMMAND_OK)
            expect(k->pg, r, PGRES_COMMAND_OK, "B5 statement");
        PQclear(r);
        k->have = true;
    }
}

static void b5_variant(PGconn *c, const char *variant)
{
    long before = scalar(c, SUM_AGES_SQL);
    b5_state *s = calloc(1, sizeof *s);
    if (!s)
        bench_die("out of memory");
    s->pipelined = !strcmp(variant, "async_pipelined");
    s->nsteps = s->pipelined ? 2 : 4;
    s->rng = BENCH_SEED;
    for (int i = 0; i < B5_CONNS; i++) {
        b5_conn *k = &s->conns[i];
        k->pg = pg_connect();
        k->client = -1;
        prepare(k->pg, "b5_sel", SELECT_PK_SQL, 1);
        prepare(k->pg, "b5_upd", UPDATE_SQL, 2);
        if (PQsetnonblocking(k->pg, 1) != 0 || PQenterPipelineMode(k->pg) != 1)
            bench_die("B5: cannot enter pipeline mode: %s", PQerrorMessage(k->pg));
        s->free_conns[s->nfree++] = B5_CONNS - 1 - i;
    }
    double t0 = bench_timed_begin();
    for (int cl = 0; cl < BENCH_CLIENTS; cl++)
        b5_request(s, cl, sz.txns, sz.heroes);
    struct pollfd pfd[B5_CONNS];
    while (s->done_tx < sz.txns) {
        int map[B5_CONNS], n = 0;
        for (int i = 0; i < B5_CONNS; i++) {
            b5_conn *k = &s->conns[i];
            if (k->client < 0)
                continue;
            pfd[n] = (struct pollfd){.fd = PQsocket(k->pg), .events = (short)(POLLIN | (k->flushing ? POLLOUT : 0))};
            map[n++] = i;
        }
        if (n == 0)
            bench_die("B5: nothing in flight with %ld of %ld transactions done", s->done_tx, sz.txns);
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            bench_die("poll: %s", strerror(errno));
        }
        for (int j = 0; j < n; j++) {
            b5_conn *k = &s->conns[map[j]];
            if (pfd[j].revents & POLLOUT) {
                int fl = PQflush(k->pg);
                if (fl < 0)
                    bench_die("B5 flush: %s", PQerrorMessage(k->pg));
                k->flushing = fl == 1;
            }
            if (pfd[j].revents & (POLLIN | POLLERR | POLLHUP)) {
                if (PQconsumeInput(k->pg) != 1)
                    bench_die("B5: %s", PQerrorMessage(k->pg));
                b5_drain(s, map[j], sz.txns, sz.heroes);
            }
        }
    }
    double t1 = bench_timed_end();
    for (int i = 0; i < B5_CONNS; i++) {
        if (PQexitPipelineMode(s->conns[i].pg) != 1)
            bench_die("B5: cannot leave pipeline mode: %s", PQerrorMessage(s->conns[i].pg));
        PQfinish(s->conns[i].pg);
    }
    bench_check_b5(s->done_tx, scalar(c, SUM_AGES_SQL) - before, sz.txns, sz.heroes);
    bench_emit(&(bench_rec){.case_name = "B5", .backend = "postgresql", .impl = "raw_c", .variant = variant,
                            .ops = sz.txns, .seconds = t1 - t0, .mean_us = lat_mean(&s->lat),
                            .p99_us = lat_p99(&s->lat)});
    lat_free(&s->lat);
    free(s);
}

/* ---- B6 relationships ------------------------------------------------------------ */

/* The team columns of a text-format row (id, name, headquarters) as a new team. */
static void read_team_text(const PGresult *r, int row, team_set *ts, str_arena *ar)
{
    team *t = team_set_add(ts, text_int(r, row, 0));
    t->name = col_text(r, row, 1, ar);
    t->headquarters = col_text(r, row, 2, ar);
}

/* The protocol counts a statement's parameters in 16 bits. */
#define PG_MAX_PARAMS 65535

/* The heroes of the teams in ts: SELECT ... WHERE hero.team_id IN ($1, ...),
 * parameters as text, one statement per PG_MAX_PARAMS teams. */
static void load_heroes_in(PGconn *c, const team_set *ts, hero_vec *hv, str_arena *ar)
{
    const char head[] = "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero "
                        "WHERE hero.team_id IN (";
    for (size_t at = 0; at < ts->n;) {
        size_t k = ts->n - at < PG_MAX_PARAMS ? ts->n - at : PG_MAX_PARAMS;
        size_t cap = sizeof head + 9 * k + 2;
        char *sql = bench_xmalloc(cap);
        size_t len = (size_t)snprintf(sql, cap, "%s", head);
        const char **vals = bench_xmalloc(k * sizeof *vals);
        char(*ids)[24] = bench_xmalloc(k * sizeof *ids);
        for (size_t j = 0; j < k; j++) {
            len += (size_t)snprintf(sql + len, cap - len, "%s$%zu", j ? ", " : "", j + 1);
            snprintf(ids[j], sizeof ids[j], "%lld", (long long)ts->v[at + j].id);
            vals[j] = ids[j];
        }
        snprintf(sql + len, cap - len, ")");
        PGresult *r = PQexecParams(c, sql, (int)k, NULL, vals, NULL, NULL, 0);
        expect(c, r, PGRES_TUPLES_OK, "SELECT heroes IN");
        hero_vec_reserve(hv, hv->n + (size_t)PQntuples(r));
        for (int row = 0; row < PQntuples(r); row++)
            read_hero_text(r, row, hero_vec_push(hv), ar);
        PQclear(r);
        free(sql);
        free(vals);
        free(ids);
        at += k;
    }
}

static void b6_variant(PGconn *c, const char *variant)
{
    team_set ts = {0};
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    if (!strcmp(variant, "two_queries")) {
        /* One transaction: both queries see one snapshot, as in a session. */
        exec_ok(c, "BEGIN");
        PGresult *r = PQexecParams(c, SELECT_TEAMS_SQL, 0, NULL, NULL, NULL, NULL, 0);
        expect(c, r, PGRES_TUPLES_OK, SELECT_TEAMS_SQL);
        for (int row = 0; row < PQntuples(r); row++)
            read_team_text(r, row, &ts, &ar);
        PQclear(r);
        load_heroes_in(c, &ts, &hv, &ar);
        exec_ok(c, "COMMIT");
    } else { /* join: a team's columns repeat on each of its rows; read them once */
        PGresult *r = PQexecParams(c, SELECT_JOIN_SQL, 0, NULL, NULL, NULL, NULL, 0);
        expect(c, r, PGRES_TUPLES_OK, SELECT_JOIN_SQL);
        hero_vec_reserve(&hv, (size_t)PQntuples(r));
        for (int row = 0; row < PQntuples(r); row++) {
            if (!team_set_find(&ts, text_int(r, row, 0)))
                read_team_text(r, row, &ts, &ar);
            if (!PQgetisnull(r, row, 3))
                read_hero_text_at(r, row, 3, hero_vec_push(&hv), &ar);
        }
        PQclear(r);
    }
    team_set_attach(&ts, &hv);
    double t1 = bench_timed_end();
    team_set_check_b6(&ts, sz.b6_teams);
    bench_emit(&(bench_rec){.case_name = "B6", .backend = "postgresql", .impl = "raw_c", .variant = variant,
                            .ops = (long)hv.n, .seconds = t1 - t0});
    team_set_free(&ts);
    hero_vec_free(&hv);
    arena_free(&ar);
}

/* ---- main ------------------------------------------------------------------------ */

static const char *const B1_VARIANTS[] = {"exec_params", "prepared", "pipelined", "multirow", NULL};
static const char *const B2_VARIANTS[] = {"text", "binary", NULL};
static const char *const B3_VARIANTS[] = {"prepared", NULL};
static const char *const B4_VARIANTS[] = {"per_row", "pipelined", NULL};
static const char *const B5_VARIANTS[] = {"async_pipelined", "async", NULL};
static const char *const B6_VARIANTS[] = {"two_queries", "join", NULL};

int main(int argc, char **argv)
{
    bench_parse_args(argc, argv, &opt);
    sz = bench_sizes_get();
    if (opt.backend && strcmp(opt.backend, "postgresql"))
        bench_die("raw_libpq runs only --backend postgresql");
    const char *const *variants;
    int which = 0;
    if (!strcmp(opt.case_name, "B1"))
        variants = B1_VARIANTS, which = 1;
    else if (!strcmp(opt.case_name, "B2"))
        variants = B2_VARIANTS, which = 2;
    else if (!strcmp(opt.case_name, "B3"))
        variants = B3_VARIANTS, which = 3;
    else if (!strcmp(opt.case_name, "B4"))
        variants = B4_VARIANTS, which = 4;
    else if (!strcmp(opt.case_name, "B5"))
        variants = B5_VARIANTS, which = 5;
    else if (!strcmp(opt.case_name, "B6"))
        variants = B6_VARIANTS, which = 6;
    else
        bench_die("unknown case %s", opt.case_name);
    bool known = !opt.variant;
    for (const char *const *v = variants; *v; v++)
        known = known || !strcmp(*v, opt.variant);
    if (!known)
        bench_die("%s has no variant %s", opt.case_name, opt.variant);

    for (const char *const *v = variants; *v; v++) {
        if (!bench_want(&opt, *v))
            continue;
        if (which == 6)
            heroes_pg_create(opt.pg_url, sz.b6_teams, sz.b6_teams * BENCH_B6_PER_TEAM);
        else
            heroes_pg_create(opt.pg_url, BENCH_TEAMS, which == 1 ? 0 : sz.heroes);
        PGconn *c = pg_connect();
        switch (which) {
        case 1: b1_variant(c, *v); break;
        case 2: b2_variant(c, *v); break;
        case 3: b3_variant(c); break;
        case 4: b4_variant(c, *v); break;
        case 5: b5_variant(c, *v); break;
        default: b6_variant(c, *v); break;
        }
        PQfinish(c);
    }
    heroes_pg_drop(opt.pg_url);
    return 0;
}
