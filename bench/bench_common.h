/* SPDX-License-Identifier: MIT */
/* bench_common.h — what the C benchmark programs share (raw_sqlite,
 * raw_libpq, and calx_bench once it exists): the heroes workload and its
 * sizes, timing, latency statistics, peak RSS, options, and the JSON line
 * each measurement is printed as. bench/README.md describes the cases. */
#ifndef CALX_BENCH_COMMON_H
#define CALX_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Full sizes; BENCH_QUICK=1 divides each by ten. bench/py/bench.py keeps
 * the same numbers. */
#define BENCH_HEROES 100000L /* B1 inserts this many; B2-B5 tables hold as many */
#define BENCH_GETS 10000L    /* B3: gets per pass (cold, then warm) */
#define BENCH_UPDATES 10000L /* B4: heroes loaded and updated */
#define BENCH_TXNS 10000L    /* B5: transactions */
#define BENCH_CLIENTS 50     /* B5: concurrent logical clients */
#define BENCH_POOL_SIZE 5    /* B5: pool_size ... */
#define BENCH_MAX_OVERFLOW 10 /* ... and max_overflow: 15 connections at most */
/* B5's warm-up, before the clock: BENCH_POOL_SIZE + BENCH_MAX_OVERFLOW of
 * these at once through the pool, so that it opens every connection it may
 * use, as raw libpq opens its connections first (each pool then keeps what
 * it keeps). The Python and MikroORM programs run the same. */
#define BENCH_B5_WARM_SQL "SELECT pg_sleep(0.05)"
#define BENCH_TEAMS 10        /* B1-B5: the teams the heroes spread over */
#define BENCH_B6_TEAMS 1000L  /* B6: teams loaded with their heroes ... */
#define BENCH_B6_PER_TEAM 100L /* ... this many each (quick: a tenth of the teams) */

typedef struct bench_sizes {
    long heroes, gets, updates, txns;
    long b6_teams;            /* B6: teams; heroes are b6_teams * BENCH_B6_PER_TEAM */
    bool quick;
} bench_sizes;

/* The sizes for this run (reads BENCH_QUICK). */
bench_sizes bench_sizes_get(void);

/* ---- the heroes workload ---------------------------------------------- */

/* One hero as a C program holds it. Strings point into a str_arena. */
typedef struct hero {
    int64_t id;
    const char *name;
    const char *secret_name;
    int32_t age;
    bool age_null;
    int64_t team_id;
    bool team_null;
} hero;

/* Hero i (1-based; hero i gets primary key i when inserted in order):
 * name 'hero-<i>', secret_name 'secret-<i>', age i % 100 or NULL when
 * i % 7 == 0, team_id 1 + i % teams (hero_team: B1-B5's 10 teams). Team j
 * is 'team-<j>', 'hq-<j>'. The string functions return the length written
 * (buf needs 32 bytes). */
int hero_name(long i, char *buf);
int hero_secret(long i, char *buf);
bool hero_age(long i, int32_t *age); /* false: NULL */
long hero_team_of(long i, long teams);
long hero_team(long i);
/* B4 and B5 change an age to this: (age, or 0 when NULL) + 1. */
int32_t hero_new_age(const hero *h);

/* B3's primary keys: the i-th get (0-based) in a table of n heroes. Distinct
 * for i < n, so every cold get misses an identity map. */
long bench_get_pk(long i, long n);
/* B5's random primary keys: a 64-bit LCG (Knuth's MMIX constants), seeded
 * with BENCH_SEED, the same sequence the Python peers draw. */
#define BENCH_SEED 20240605ULL
long bench_rand_pk(uint64_t *state, long n);
/* B5's check, outside the clock: done transactions of txns ran, and the
 * ages grew by grew. Each adds 1 to one hero's age, and two at once on one
 * hero lose one update (absolute values, as an ORM writes them), so the
 * ages grow by at most txns and at least the number of distinct heroes the
 * txns draws of bench_rand_pk name: each of those keeps at least one
 * committed update. Less means commits were lost; dies saying so. */
void bench_check_b5(long done, long grew, long txns, long heroes);

/* B6's check, outside the clock, of teams loaded with their heroes: every
 * team 1..teams once, its name and headquarters, BENCH_B6_PER_TEAM heroes
 * each, and every hero's fields and team_id (each program calls these with
 * its own structs' fields). Dies naming what is wrong. */
typedef struct b6_check {
    long teams;
    unsigned char *seen;      /* team ids met */
    long nseen;
} b6_check;
void b6_check_begin(b6_check *c, long teams);
void b6_check_team(b6_check *c, int64_t id, const char *name, const char *hq, size_t nheroes);
void b6_check_hero(const b6_check *c, int64_t team_id, int64_t id, const char *name,
                   const char *secret, bool age_null, int64_t age, int64_t hero_team_id);
void b6_check_end(b6_check *c, size_t nteams);

/* ---- memory for loaded rows ------------------------------------------- */

/* Strings copied out of results: 1 MiB blocks, freed at once. */
typedef struct str_arena {
    struct arena_block *head;
    char *cur;
    size_t left;
} str_arena;
/* A NUL-terminated copy of s[0..len). */
char *arena_copy(str_arena *a, const char *s, size_t len);
void arena_free(str_arena *a);

typedef struct hero_vec {
    hero *v;
    size_t n, cap;
} hero_vec;
void hero_vec_reserve(hero_vec *hv, size_t cap);
hero *hero_vec_push(hero_vec *hv); /* a zeroed new slot */
void hero_vec_free(hero_vec *hv);

/* B6 in raw C: a team as a C program holds it, with its heroes attached. */
typedef struct team {
    int64_t id;
    const char *name;
    const char *headquarters;
    hero **heroes;            /* heroes[0..nheroes), pointers into a hero_vec */
    size_t nheroes;
} team;

/* The teams of a load and the in-memory join that attaches heroes to them:
 * the teams in an array, found by id through an open-addressing map, as a
 * C program would (the ids are not assumed dense). */
typedef struct team_set {
    team *v;
    size_t n, cap;
    int64_t *keys;            /* the map: keys[slot] an id, idx[slot] its team + 1 (0: free) */
    uint32_t *idx;
    size_t mask;
    hero **ptrs;              /* every team's heroes, one array */
} team_set;
/* A new zeroed team with id, which must not be in ts yet. */
team *team_set_add(team_set *ts, int64_t id);
/* The team with id, or NULL. */
team *team_set_find(const team_set *ts, int64_t id);
/* Attaches every hero of hv to the team its team_id names (dies for one
 * that names no team): a count per team, then one pointer array cut into
 * each team's list, heroes in hv's order. hv must not grow afterwards. */
void team_set_attach(team_set *ts, hero_vec *hv);
/* B6's check (b6_check_*) of teams 1..teams loaded into ts. */
void team_set_check_b6(const team_set *ts, long teams);
void team_set_free(team_set *ts);

/* ---- time, memory, latencies ------------------------------------------ */

double bench_now(void);       /* seconds, CLOCK_MONOTONIC */
/* bench_now at the start and at the end of a case's timed part. Under
 * `valgrind --tool=callgrind` (bench/profile.sh) they also zero the
 * instruction counts of every thread at the start and dump them at the end,
 * so a profile holds the timed part alone, the SQLite worker's share with
 * it; outside valgrind the markers are a few instructions. Outside the
 * timed part (before its first clock read, after its last) they also read
 * the process's getrusage: the next bench_emit writes what the timed part
 * cost in user and system CPU time and in minor page faults, every thread
 * counted, so a slow round shows whether it waited in the kernel (first
 * touches of fresh memory) or computed. */
double bench_timed_begin(void);
double bench_timed_end(void);
long bench_maxrss_kb(void);   /* getrusage(RUSAGE_SELF).ru_maxrss */

typedef struct bench_lat {
    double *us;
    size_t n, cap;
} bench_lat;
void lat_add(bench_lat *l, double us);
double lat_mean(const bench_lat *l);
double lat_p99(bench_lat *l); /* sorts l */
void lat_free(bench_lat *l);

/* ---- output ------------------------------------------------------------ */

/* One measurement, printed as one JSON line on stdout. Fields left 0 / NULL
 * are omitted; ops_per_s is ops / seconds. */
typedef struct bench_rec {
    const char *case_name; /* "B1".."B6" */
    const char *backend;   /* "sqlite" or "postgresql" */
    const char *impl;      /* "raw_c", "calx" */
    const char *variant;
    const char *journal;   /* SQLite: "delete" or "wal" */
    const char *phase;     /* B3: "cold" or "warm" */
    const char *note;
    long ops;
    double seconds;
    double mean_us, p99_us;
    long peak_rss_kb, base_rss_kb;
} bench_rec;
void bench_emit(const bench_rec *r);

/* ---- options ----------------------------------------------------------- */

/* PROG --case B1|B2|B3|B4|B5|B6 [--variant V] [--backend sqlite|postgresql]
 *      [--journal delete|wal] [--dir DIR] [--pg-url URL]
 * --dir defaults to $BENCH_DIR, then "."; --pg-url to $CALX_TEST_PG_URL. */
typedef struct bench_opts {
    const char *case_name;
    const char *variant; /* NULL: every variant of the case */
    const char *backend;
    const char *journal; /* "delete" (default) or "wal" */
    const char *dir;
    const char *pg_url;
} bench_opts;
void bench_parse_args(int argc, char **argv, bench_opts *o);
/* True when the case runs variant v (no --variant, or --variant v). */
bool bench_want(const bench_opts *o, const char *v);

noreturn void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *bench_xmalloc(size_t n);
void *bench_xrealloc(void *p, size_t n);

#endif
