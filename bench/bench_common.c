/* SPDX-License-Identifier: MIT */
/* bench_common.c — see bench_common.h. */
#include "bench_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <valgrind/callgrind.h>

const char *bench_progname = "bench";

noreturn void bench_die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", bench_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        bench_die("out of memory (%zu bytes)", n);
    return p;
}

void *bench_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        bench_die("out of memory (%zu bytes)", n);
    return p;
}

bench_sizes bench_sizes_get(void)
{
    const char *q = getenv("BENCH_QUICK");
    bool quick = q && *q && strcmp(q, "0") != 0;
    long div = quick ? 10 : 1;
    return (bench_sizes){
        .heroes = BENCH_HEROES / div,
        .gets = BENCH_GETS / div,
        .updates = BENCH_UPDATES / div,
        .txns = BENCH_TXNS / div,
        .b6_teams = BENCH_B6_TEAMS / div,
        .quick = quick,
    };
}

/* ---- workload ---------------------------------------------------------- */

int hero_name(long i, char *buf) { return snprintf(buf, 32, "hero-%ld", i); }
int hero_secret(long i, char *buf) { return snprintf(buf, 32, "secret-%ld", i); }

bool hero_age(long i, int32_t *age)
{
    if (i % 7 == 0)
        return false;
    *age = (int32_t)(i % 100);
    return true;
}

long hero_team_of(long i, long teams) { return 1 + i % teams; }
long hero_team(long i) { return hero_team_of(i, BENCH_TEAMS); }

int32_t hero_new_age(const hero *h) { return (h->age_null ? 0 : h->age) + 1; }

/* 7919 is prime and divides neither 2 nor 5, so i -> i * 7919 mod n is a
 * permutation of 0..n-1 for the sizes used here (powers of ten). */
long bench_get_pk(long i, long n) { return 1 + (long)(((unsigned long long)i * 7919ULL) % (unsigned long long)n); }

long bench_rand_pk(uint64_t *state, long n)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return 1 + (long)((*state >> 33) % (uint64_t)n);
}

void bench_check_b5(long done, long grew, long txns, long heroes)
{
    unsigned char *seen = calloc((size_t)heroes + 1, 1);
    if (!seen)
        bench_die("B5 check: out of memory");
    uint64_t rng = BENCH_SEED;
    long distinct = 0;
    for (long i = 0; i < txns; i++) {
        long pk = bench_rand_pk(&rng, heroes);
        distinct += !seen[pk];
        seen[pk] = 1;
    }
    free(seen);
    if (done != txns || grew < distinct || grew > txns)
        bench_die("B5: %ld of %ld transactions, ages grew by %ld; expected %ld to %ld (the "
                  "heroes drawn, to the transactions)",
                  done, txns, grew, distinct, txns);
}

void b6_check_begin(b6_check *c, long teams)
{
    c->teams = teams;
    c->nseen = 0;
    c->seen = calloc((size_t)teams + 1, 1);
    if (!c->seen)
        bench_die("B6 check: out of memory");
}

void b6_check_team(b6_check *c, int64_t id, const char *name, const char *hq, size_t nheroes)
{
    char buf[32];
    if (id < 1 || id > c->teams || c->seen[id])
        bench_die("B6: team %lld is out of range or loaded twice", (long long)id);
    c->seen[id] = 1;
    c->nseen++;
    snprintf(buf, sizeof buf, "team-%lld", (long long)id);
    if (!name || strcmp(name, buf))
        bench_die("B6: team %lld has name %s", (long long)id, name ? name : "NULL");
    snprintf(buf, sizeof buf, "hq-%lld", (long long)id);
    if (!hq || strcmp(hq, buf))
        bench_die("B6: team %lld has headquarters %s", (long long)id, hq ? hq : "NULL");
    if (nheroes != (size_t)BENCH_B6_PER_TEAM)
        bench_die("B6: team %lld has %zu heroes, not %ld", (long long)id, nheroes, BENCH_B6_PER_TEAM);
}

void b6_check_hero(const b6_check *c, int64_t team_id, int64_t id, const char *name,
                   const char *secret, bool age_null, int64_t age, int64_t hero_team_id)
{
    char nbuf[32], sbuf[32];
    int32_t want_age = 0;
    bool has_age = hero_age((long)id, &want_age);
    hero_name((long)id, nbuf);
    hero_secret((long)id, sbuf);
    if (hero_team_id != team_id || hero_team_of((long)id, c->teams) != team_id)
        bench_die("B6: hero %lld (team_id %lld) is in team %lld", (long long)id, (long long)hero_team_id,
                  (long long)team_id);
    if (!name || !secret || strcmp(name, nbuf) || strcmp(secret, sbuf) || age_null == has_age ||
        (has_age && age != want_age))
        bench_die("B6: hero %lld read back wrong", (long long)id);
}

void b6_check_end(b6_check *c, size_t nteams)
{
    if ((long)nteams != c->teams || c->nseen != c->teams)
        bench_die("B6: loaded %zu teams (%ld distinct), not %ld", nteams, c->nseen, c->teams);
    free(c->seen);
    c->seen = NULL;
}

/* ---- arena and vectors --------------------------------------------------- */

#define ARENA_BLOCK (1u << 20)

struct arena_block {
    struct arena_block *next;
    char data[];
};

char *arena_copy(str_arena *a, const char *s, size_t len)
{
    if (len + 1 > a->left) {
        size_t sz = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
        struct arena_block *b = bench_xmalloc(sizeof *b + sz);
        b->next = a->head;
        a->head = b;
        a->cur = b->data;
        a->left = sz;
    }
    char *p = a->cur;
    memcpy(p, s, len);
    p[len] = '\0';
    a->cur += len + 1;
    a->left -= len + 1;
    return p;
}

void arena_free(str_arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    *a = (str_arena){0};
}

void hero_vec_reserve(hero_vec *hv, size_t cap)
{
    if (cap <= hv->cap)
        return;
    hv->v = bench_xrealloc(hv->v, cap * sizeof *hv->v);
    hv->cap = cap;
}

hero *hero_vec_push(hero_vec *hv)
{
    if (hv->n == hv->cap)
        hero_vec_reserve(hv, hv->cap ? hv->cap * 2 : 1024);
    hero *h = &hv->v[hv->n++];
    memset(h, 0, sizeof *h);
    return h;
}

void hero_vec_free(hero_vec *hv)
{
    free(hv->v);
    *hv = (hero_vec){0};
}

/* Fibonacci hashing: ids in runs (1, 2, 3, ...) spread over the slots. */
static size_t team_slot(const team_set *ts, int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 32) & ts->mask;
}

static void team_map_put(team_set *ts, int64_t id, uint32_t index)
{
    size_t s = team_slot(ts, id);
    while (ts->idx[s])
        s = (s + 1) & ts->mask;
    ts->keys[s] = id;
    ts->idx[s] = index + 1;
}

team *team_set_add(team_set *ts, int64_t id)
{
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? ts->cap * 2 : 256;
        ts->v = bench_xrealloc(ts->v, ts->cap * sizeof *ts->v);
    }
    /* The map stays at most half full: rebuilt at twice the size. */
    if (2 * (ts->n + 1) > ts->mask + 1 || !ts->idx) {
        size_t slots = ts->idx ? 2 * (ts->mask + 1) : 1024;
        free(ts->keys);
        free(ts->idx);
        ts->keys = bench_xmalloc(slots * sizeof *ts->keys);
        ts->idx = calloc(slots, sizeof *ts->idx);
        if (!ts->idx)
            bench_die("out of memory");
        ts->mask = slots - 1;
        for (size_t k = 0; k < ts->n; k++)
            team_map_put(ts, ts->v[k].id, (uint32_t)k);
    }
    team *t = &ts->v[ts->n];
    memset(t, 0, sizeof *t);
    t->id = id;
    team_map_put(ts, id, (uint32_t)ts->n++);
    return t;
}

team *team_set_find(const team_set *ts, int64_t id)
{
    if (!ts->idx)
        return NULL;
    for (size_t s = team_slot(ts, id); ts->idx[s]; s = (s + 1) & ts->mask)
        if (ts->keys[s] == id)
            return &ts->v[ts->idx[s] - 1];
    return NULL;
}

void team_set_attach(team_set *ts, hero_vec *hv)
{
    /* Each hero's team is looked up once; the counts cut one array. */
    team **of = bench_xmalloc((hv->n ? hv->n : 1) * sizeof *of);
    for (size_t k = 0; k < hv->n; k++) {
        team *t = hv->v[k].team_null ? NULL : team_set_find(ts, hv->v[k].team_id);
        if (!t)
            bench_die("hero %lld names no team that was loaded", (long long)hv->v[k].id);
        t->nheroes++;
        of[k] = t;
    }
    free(ts->ptrs);
    ts->ptrs = bench_xmalloc((hv->n ? hv->n : 1) * sizeof *ts->ptrs);
    size_t at = 0;
    for (size_t j = 0; j < ts->n; j++) {
        ts->v[j].heroes = ts->ptrs + at;
        at += ts->v[j].nheroes;
        ts->v[j].nheroes = 0;
    }
    for (size_t k = 0; k < hv->n; k++)
        of[k]->heroes[of[k]->nheroes++] = &hv->v[k];
    free(of);
}

void team_set_check_b6(const team_set *ts, long teams)
{
    b6_check c;
    b6_check_begin(&c, teams);
    for (size_t j = 0; j < ts->n; j++) {
        const team *t = &ts->v[j];
        b6_check_team(&c, t->id, t->name, t->headquarters, t->nheroes);
        for (size_t k = 0; k < t->nheroes; k++) {
            const hero *h = t->heroes[k];
            b6_check_hero(&c, t->id, h->id, h->name, h->secret_name, h->age_null, h->age, h->team_id);
        }
    }
    b6_check_end(&c, ts->n);
}

void team_set_free(team_set *ts)
{
    free(ts->v);
    free(ts->keys);
    free(ts->idx);
    free(ts->ptrs);
    *ts = (team_set){0};
}

/* ---- time, memory, latencies ----------------------------------------------- */

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The process's usage at the last timed part's start, and what that part
 * cost once it ended (timed_done until bench_emit writes it). */
static struct rusage timed_start;
static bool timed_done;
static double timed_user_ms, timed_sys_ms;
static long timed_minflt;

static double rusage_ms(const struct timeval *a, const struct timeval *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_usec - a->tv_usec) * 1e-3;
}

double bench_timed_begin(void)
{
    getrusage(RUSAGE_SELF, &timed_start);
    CALLGRIND_ZERO_STATS;
    return bench_now();
}

double bench_timed_end(void)
{
    double t = bench_now();
    CALLGRIND_DUMP_STATS;
    struct rusage end;
    getrusage(RUSAGE_SELF, &end);
    timed_user_ms = rusage_ms(&timed_start.ru_utime, &end.ru_utime);
    timed_sys_ms = rusage_ms(&timed_start.ru_stime, &end.ru_stime);
    timed_minflt = end.ru_minflt - timed_start.ru_minflt;
    timed_done = true;
    return t;
}

long bench_maxrss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_maxrss; /* kilobytes on Linux */
}

void lat_add(bench_lat *l, double us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->us = bench_xrealloc(l->us, l->cap * sizeof *l->us);
    }
    l->us[l->n++] = us;
}

double lat_mean(const bench_lat *l)
{
    double s = 0;
    for (size_t i = 0; i < l->n; i++)
        s += l->us[i];
    return l->n ? s / (double)l->n : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank 99th percentile (the same rule as bench.py). */
double lat_p99(bench_lat *l)
{
    if (!l->n)
        return 0;
    qsort(l->us, l->n, sizeof *l->us, cmp_double);
    size_t rank = (size_t)((double)l->n * 0.99 + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > l->n)
        rank = l->n;
    return l->us[rank - 1];
}

void lat_free(bench_lat *l)
{
    free(l->us);
    *l = (bench_lat){0};
}

/* ---- output --------------------------------------------------------------- */

static void json_str(const char *key, const char *v)
{
    if (!v)
        return;
    printf(",\"%s\":\"", key);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

void bench_emit(const bench_rec *r)
{
    printf("{\"case\":\"%s\"", r->case_name);
    json_str("backend", r->backend);
    json_str("impl", r->impl);
    json_str("variant", r->variant);
    json_str("journal", r->journal);
    json_str("phase", r->phase);
    if (r->ops)
        printf(",\"ops\":%ld", r->ops);
    if (r->seconds > 0) {
        printf(",\"seconds\":%.6f", r->seconds);
        if (r->ops)
            printf(",\"ops_per_s\":%.1f", (double)r->ops / r->seconds);
    }
    if (r->mean_us > 0)
        printf(",\"mean_us\":%.3f", r->mean_us);
    if (r->p99_us > 0)
        printf(",\"p99_us\":%.3f", r->p99_us);
    if (r->peak_rss_kb > 0)
        printf(",\"peak_rss_kb\":%ld", r->peak_rss_kb);
    if (r->base_rss_kb > 0)
        printf(",\"base_rss_kb\":%ld", r->base_rss_kb);
    if (timed_done) {
        printf(",\"timed_user_ms\":%.1f,\"timed_sys_ms\":%.1f,\"timed_minflt\":%ld",
               timed_user_ms, timed_sys_ms, timed_minflt);
        timed_done = false;
    }
    json_str("note", r->note);
    printf("}\n");
    fflush(stdout);
}

/* ---- options ---------------------------------------------------------------- */

static noreturn void usage(void)
{
    fprintf(stderr,
            "usage: %s --case B1|B2|B3|B4|B5|B6 [--variant V] [--backend sqlite|postgresql]\n"
            "          [--journal delete|wal] [--dir DIR] [--pg-url URL]\n"
            "  Prints one JSON line per measurement. BENCH_QUICK=1 shrinks every case\n"
            "  tenfold. --dir (default $BENCH_DIR, else .) holds the SQLite files;\n"
            "  --pg-url defaults to $CALX_TEST_PG_URL.\n",
            bench_progname);
    exit(2);
}

void bench_parse_args(int argc, char **argv, bench_opts *o)
{
    const char *slash = strrchr(argv[0], '/');
    bench_progname = slash ? slash + 1 : argv[0];
    *o = (bench_opts){.journal = "delete"};
    o->dir = getenv("BENCH_DIR");
    o->pg_url = getenv("CALX_TEST_PG_URL");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "--case"))
            dst = &o->case_name;
        else if (!strcmp(a, "--variant"))
            dst = &o->variant;
        else if (!strcmp(a, "--backend"))
            dst = &o->backend;
        else if (!strcmp(a, "--journal"))
            dst = &o->journal;
        else if (!strcmp(a, "--dir"))
            dst = &o->dir;
        else if (!strcmp(a, "--pg-url"))
            dst = &o->pg_url;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            usage();
        else {
            fprintf(stderr, "%s: unknown option %s\n", bench_progname, a);
            usage();
        }
        if (++i >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", bench_progname, a);
            usage();
        }
        *dst = argv[i];
    }
    if (!o->case_name) {
        fprintf(stderr, "%s: --case is required\n", bench_progname);
        usage();
    }
    if (strcmp(o->journal, "delete") && strcmp(o->journal, "wal"))
        bench_die("--journal must be delete or wal, not %s", o->journal);
    if (!o->dir || !*o->dir)
        o->dir = ".";
}

bool bench_want(const bench_opts *o, const char *v) { return !o->variant || !strcmp(o->variant, v); }
