/* SPDX-License-Identifier: MIT */
/* SQLite reads on the loop thread (inline_reads, the default): a read that
 * would wait -- for another process's lock, for the disk -- never stalls
 * the event loop; it goes to the connection's worker instead, and its
 * result and any open transaction are as if it had run there. Real files,
 * another real process holding the lock, pages really evicted from the OS
 * cache. The loop's health is a timer ticking every few milliseconds while
 * a read waits: a loop blocked by the read would not tick at all. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <uv.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "sqlite_driver_test.h"

#define TICK_MS 5
#define HOLD_MS 1000         /* how long the other process holds its lock */
#define COLD_ROWS 24000      /* about 26 MB: far more than SQLite's page cache */
#define ROW_PAD 1000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- the loop's health, and one-value reads ---- */

/* A timer ticking every TICK_MS on the loop while requests run, counting
 * its ticks: a loop blocked by a read would not tick. */
typedef struct ticker {
    uv_timer_t timer;
    long ticks;
    double started_ms;
} ticker;

static void on_tick(uv_timer_t *t)
{
    ((ticker *)t->data)->ticks++;
}

static void ticker_start(ticker *tk)
{
    tk->ticks = 0;
    uv_timer_init(calx_loop_uv(loop), &tk->timer);
    tk->timer.data = tk;
    uv_timer_start(&tk->timer, on_tick, TICK_MS, TICK_MS);
    tk->started_ms = now_ms();
}

/* Stops the timer; the milliseconds it ran. */
static double ticker_stop(ticker *tk)
{
    double ran = now_ms() - tk->started_ms;
    uv_close((uv_handle_t *)&tk->timer, NULL);
    run_loop();
    return ran;
}

/* At least a fifth of the ticks a free loop would have had in ran ms. */
static bool ticked_enough(const ticker *tk, double ran, const char *what)
{
    long expected = (long)(ran / TICK_MS);
    if (tk->ticks >= expected / 5)
        return true;
    fprintf(stderr, "  %s: %ld ticks in %.0f ms\n", what, tk->ticks, ran);
    return false;
}

/* Connects to path (NULL: memory) with the URL options in query (n of
 * them), or NULL (the case failed). */
static calx_dconn *connect_with(char *path, calx_url_param *query, size_t n)
{
    calx_url u = make_url(path, query, n);
    return connect_url(&u);
}

static void must_op(calx_dconn *c, calx_dop o)
{
    calx_error err;
    CHECK_OK(op(c, o, &err), &err);
}

/* Whether read_int first offers each read to the driver's read_row, as a
 * session's get does (engine/connection.c, calx__conn_read_row), and
 * sends it as a request only when read_row declines. The cases run both
 * ways: a read that would wait must be given up either way. */
static bool by_read_row;

/* The integer a one-row, one-column read gives (with key bound when
 * key >= 0), or -1 on failure. */
static long long read_int(calx_dconn *c, const char *sql, long long key)
{
    calx_value k = calx_int(key);
    calx_rowset *rs = NULL;
    calx_error err;
    if (by_read_row) {
        calx_dstmt st = { .sql = sql, .nparams = key >= 0, .nsets = 1,
                          .params = key >= 0 ? &k : NULL };
        calx_dreq req = { .op = CALX_DOP_EXEC, .nstmts = 1, .stmts = &st };
        calx_value row[2];
        char bytes[64];
        size_t n = 0;
        calx_dread got = c->driver->read_row(c, &req, row, 2, &n, bytes, sizeof bytes, &err);
        if (got == CALX_DREAD_FAILED) {
            fprintf(stderr, "  %s: %s\n", sql, err.message);
            CHECK(got != CALX_DREAD_FAILED);
            return -1;
        }
        if (got != CALX_DREAD_DECLINED)
            return got == CALX_DREAD_ROW && n == 1 && row[0].type == CALX_INT ? row[0].u.i : -1;
    }
    int rc = exec_p(c, sql, key >= 0 ? &k : NULL, key >= 0 ? 1 : 0, &rs, &err);
    if (rc) {
        fprintf(stderr, "  %s: %s\n", sql, err.message);
        CHECK_INT(rc, 0);
        return -1;
    }
    long long v = -1;
    if (rs && rs->nrows == 1 && rs->ncols == 1 && rs->vals[0].type == CALX_INT)
        v = rs->vals[0].u.i;
    calx__rowset_free(rs);
    return v;
}

static calx_sqlite_stats stats_of(calx_dconn *c)
{
    calx_sqlite_stats s;
    calx__sqlite_conn_stats(c, &s);
    return s;
}

/* ---- files ---- */

/* A fresh database at path (journal: "delete" or "wal") whose table t has
 * rows 1..n, each with x = id * 7 and a pad of ROW_PAD bytes, written
 * through SQLite directly. */
static bool make_db(const char *path, const char *journal, int n)
{
    char name[700];
    unlink(path);
    snprintf(name, sizeof name, "%s-wal", path);
    unlink(name);
    snprintf(name, sizeof name, "%s-shm", path);
    unlink(name);
    sqlite3 *db = NULL;
    char sql[400];
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode = %s; CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, pad BLOB);"
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
             "INSERT INTO t SELECT i, i * 7, zeroblob(%d) FROM k;",
             journal, n, ROW_PAD);
    bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
              sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        fprintf(stderr, "  making %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    CHECK(ok);
    return ok;
}

/* Which pages of fd's file (size bytes, *npages of them) the OS page
 * cache holds, as mincore sees: bit 0 of each byte; NULL when it cannot
 * tell. The caller frees it. */
static unsigned char *cached_pages(int fd, size_t size, size_t *npages)
{
    long page = sysconf(_SC_PAGESIZE);
    *npages = (size + (size_t)page - 1) / (size_t)page;
    unsigned char *vec = malloc(*npages);
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED || !vec || mincore(map, size, vec) != 0) {
        free(vec);
        vec = NULL;
    }
    if (map != MAP_FAILED)
        munmap(map, size);
    return vec;
}

/* Writes the file out and drops its pages from the OS page cache; the
 * share of its pages still cached afterwards (0 to 1), as mincore sees. */
static double evict(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 1;
    struct stat st;
    double left = 1;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        fdatasync(fd);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        size_t npages;
        unsigned char *vec = cached_pages(fd, (size_t)st.st_size, &npages);
        if (vec) {
            size_t cached = 0;
            for (size_t i = 0; i < npages; i++)
                cached += vec[i] & 1;
            left = (double)cached / (double)npages;
        }
        free(vec);
    }
    close(fd);
    return left;
}

/* Drops path's pages from the OS cache: false when the OS keeps more than
 * half of them, and the case, which needs them gone, skips (NOT_EVICTED). */
#define NOT_EVICTED "the OS keeps this file's pages cached (posix_fadvise cannot evict here)"
static bool evicted(const char *path)
{
    return evict(path) <= 0.5;
}

/* Whether the kernel refuses, right now, an RWF_NOWAIT read of a page only
 * the disk has: evicts path, then reads up to PROBES of its uncached pages
 * (spread over the file; 4 KB each, as the VFS reads) and says whether one
 * or more came back EAGAIN. Such a read starts the kernel's read-ahead and
 * looks again; when the device has answered meanwhile (a virtual disk whose
 * host caches the file can, in a tenth of a millisecond) the page is served
 * at once, never waited for. Then there is nothing to refuse, for the VFS
 * as for this probe, and that lasts for whole runs of the suite. The file
 * is left evicted again. */
static bool kernel_refuses_cold_reads(const char *path)
{
    enum { PROBES = 8 };
    evict(path);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    size_t npages, page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *vec = cached_pages(fd, (size_t)st.st_size, &npages);
    int refusals = 0;
    char buf[4096];
    size_t step = npages / PROBES ? npages / PROBES : 1;
    for (size_t i = 0; vec && i < npages; i += step) {
        if (vec[i] & 1)
            continue;
        struct iovec v = { buf, sizeof buf };
        if (preadv2(fd, &v, 1, (off_t)(i * page), RWF_NOWAIT) < 0 && errno == EAGAIN)
            refusals++;
    }
    free(vec);
    close(fd);
    evict(path);
    return refusals > 0;
}

/* A case needs a read refused for a page only the disk has, and the kernel
 * served every one (see kernel_refuses_cold_reads). */
#define SERVED_COLD "the kernel served every page only the disk had without a refusal here"

/* Reads x of each of the n keys through c, one request each: true when
 * every one is key * 7, as make_db wrote it. *refused gets how many of the
 * reads the loop gave to the worker, *requests how many requests c ran. */
static bool read_each(calx_dconn *c, const long long *keys, int n, long long *refused,
                      long long *requests)
{
    calx_sqlite_stats before = stats_of(c);
    bool all_right = true;
    for (int i = 0; i < n; i++) {
        long long got = read_int(c, "SELECT x FROM t WHERE id = ?", keys[i]);
        if (got != keys[i] * 7) {
            fprintf(stderr, "  key %lld: x = %lld\n", keys[i], got);
            all_right = false;
        }
    }
    calx_sqlite_stats after = stats_of(c);
    *refused = (long long)(after.inline_refusals - before.inline_refusals);
    *requests = (long long)(after.requests - before.requests);
    return all_right;
}

/* ---- another process holding the lock ---- */

typedef struct holder {
    pid_t pid;
    int go;     /* parent -> child: take the lock */
    int held;   /* child -> parent: a byte once it holds it */
} holder;

/* Forks a process that, when told, opens path, holds BEGIN EXCLUSIVE for
 * HOLD_MS, rolls back and exits. Forked before this test connects, so no
 * thread of the library is running in the parent at the fork. */
static bool holder_start(holder *h, const char *path)
{
    int go[2], held[2];
    if (pipe(go) != 0 || pipe(held) != 0)
        return false;
    h->pid = fork();
    if (h->pid < 0)
        return false;
    if (h->pid == 0) {
        close(go[1]);
        close(held[0]);
        char b;
        if (read(go[0], &b, 1) != 1)
            _exit(2);
        sqlite3 *db = NULL;
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA busy_timeout = 5000; BEGIN EXCLUSIVE", NULL, NULL, NULL) !=
                SQLITE_OK)
            _exit(3);
        if (write(held[1], "h", 1) != 1)
            _exit(4);
        usleep(HOLD_MS * 1000);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(0);
    }
    close(go[0]);
    close(held[1]);
    h->go = go[1];
    h->held = held[0];
    return true;
}

/* Tells the holder to lock and returns once it holds the lock. */
static bool holder_lock(holder *h)
{
    char b;
    return write(h->go, "g", 1) == 1 && read(h->held, &b, 1) == 1;
}

static void holder_end(holder *h)
{
    int status = -1;
    close(h->go);
    close(h->held);
    waitpid(h->pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- the cases ---- */

/* In the rollback-journal mode another process's EXCLUSIVE lock keeps
 * readers out: the read tried on the loop finds the lock, goes to the
 * worker, which waits out the busy timeout's retries, and the loop turns
 * meanwhile. */
TEST(a_read_that_waits_for_another_process_lock_leaves_the_loop_turning)
{
    char *path = path_in_tmp(0, "locked.db");
    if (!make_db(path, "delete", 100))
        return;
    holder h;
    CHECK(holder_start(&h, path));
    calx_url_param q[] = { { "journal_mode", "delete" } };
    calx_dconn *c = connect_with(path, q, 1);
    if (!c) {
        holder_end(&h);
        return;
    }
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 5), 35);
    calx_sqlite_stats before = stats_of(c);
    CHECK(holder_lock(&h));
    ticker tk;
    ticker_start(&tk);
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 6), 42);
    double waited = ticker_stop(&tk);
    holder_end(&h);
    calx_sqlite_stats after = stats_of(c);
    CHECK_INT(after.inline_refusals - before.inline_refusals, 1);
    CHECK_INT(after.inline_runs - before.inline_runs, 0);
    /* It did wait for the lock (most of HOLD_MS), and the loop kept
     * ticking meanwhile. */
    CHECK(waited > HOLD_MS / 4);
    CHECK(ticked_enough(&tk, waited, "waiting for the lock"));
    /* Back on the loop thread once the lock is gone. */
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 7), 49);
    CHECK_INT(stats_of(c).inline_runs - after.inline_runs, 1);
    close_conn(c);
}

/* In WAL mode a writer does not keep readers out: the same read runs on
 * the loop thread while the other process still holds its lock. */
TEST(in_wal_mode_a_read_runs_on_the_loop_while_another_process_writes)
{
    char *path = path_in_tmp(0, "locked_wal.db");
    if (!make_db(path, "wal", 100))
        return;
    holder h;
    CHECK(holder_start(&h, path));
    calx_dconn *c = connect_with(path, NULL, 0);
    if (!c) {
        holder_end(&h);
        return;
    }
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 5), 35);
    calx_sqlite_stats before = stats_of(c);
    CHECK(holder_lock(&h));
    double start = now_ms();
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 6), 42);
    double took = now_ms() - start;
    calx_sqlite_stats after = stats_of(c);
    CHECK_INT(after.inline_runs - before.inline_runs, 1);
    CHECK(took < HOLD_MS);  /* the holder is still sleeping on its lock */
    holder_end(&h);
    close_conn(c);
}

/* A database far bigger than SQLite's page cache, its pages dropped from
 * the OS cache: gets by random keys find pages that only the disk has. The
 * loop never waits for the disk (the VFS refuses, the worker reads), every
 * get is right, and the loop keeps turning. Both journal modes.
 *
 * RWF_NOWAIT does not promise a refusal for a page only the disk has (see
 * kernel_refuses_cold_reads): a pass in which the kernel served every get
 * is run again, evicted, with other keys, up to COLD_PASSES times. The VFS
 * must refuse at least once unless the kernel's own refusals, probed
 * between the passes, were missing in all passes but one (a pass that
 * probes refused and reads did not can be the moment the disk slowed). */
TEST(a_get_on_a_cold_cache_goes_to_the_worker_and_the_loop_keeps_turning)
{
    enum { COLD_GETS = 300, WARM_GETS = 50, COLD_PASSES = 5 };
    long long keys[COLD_GETS];
    uint32_t seed = 12345;
    const char *journals[] = { "delete", "wal" };
    for (int j = 0; j < 2; j++) {
        char path[700];
        snprintf(path, sizeof path, "%s", path_in_tmp(0, j ? "cold_wal.db" : "cold.db"));
        if (!make_db(path, journals[j], COLD_ROWS))
            return;
        calx_url_param q[] = { { "journal_mode", (char *)journals[j] } };
        calx_dconn *c = connect_with(path, q, 1);
        if (!c)
            return;
        CHECK_INT(read_int(c, "SELECT count(*) FROM t WHERE id < 10", -1), 9);
        long long refused = 0, requests;
        int kernel_refused = 0;
        for (int pass = 0; pass < COLD_PASSES && refused == 0; pass++) {
            kernel_refused += pass > 0 && kernel_refuses_cold_reads(path);
            for (int i = 0; i < COLD_GETS; i++) {
                seed = seed * 1103515245u + 12345u;
                keys[i] = 1 + (seed >> 8) % COLD_ROWS;
            }
            if (!evicted(path)) {
                close_conn(c);
                SKIP(NOT_EVICTED);
            }
            ticker tk;
            ticker_start(&tk);
            CHECK(read_each(c, keys, COLD_GETS, &refused, &requests));
            double ran = ticker_stop(&tk);
            CHECK_INT(requests, COLD_GETS);
            CHECK(ticked_enough(&tk, ran, journals[j]));
        }
        if (refused == 0 && kernel_refused <= 1) {
            close_conn(c);
            SKIP(SERVED_COLD);
        }
        /* Pages only the disk had: refused on the loop, read by the worker. */
        CHECK(refused > 0);
        /* Warm again: the same keys run on the loop thread. */
        calx_sqlite_stats warm = stats_of(c);
        CHECK(read_each(c, keys, WARM_GETS, &refused, &requests));
        CHECK_INT(stats_of(c).inline_runs - warm.inline_runs, WARM_GETS);
        close_conn(c);
        unlink(path);
    }
}

/* Inside a read transaction (WAL) a read the loop has to give up leaves
 * the transaction, and the snapshot it reads, as they were: a change
 * another connection committed meanwhile stays invisible until the end. */
TEST(a_refused_read_inside_a_transaction_keeps_its_snapshot)
{
    /* Each pass reads three changed rows on pages c has not read; a pass
     * the kernel served whole (see the cold-cache case) is followed by
     * another, on other pages, after a new eviction, and the kernel's own
     * refusals probed between them. */
    enum { PASSES = 5, PER_PASS = 3 };
    char *path = path_in_tmp(0, "snapshot.db");
    if (!make_db(path, "wal", 2000))
        return;
    calx_dconn *c = connect_with(path, NULL, 0);
    if (!c)
        return;
    must_op(c, CALX_DOP_BEGIN);
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 1), 7);  /* the snapshot */

    sqlite3 *other = NULL;
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "UPDATE t SET x = -1 WHERE id >= 1000 AND id % 10 = 0", NULL,
                       NULL, NULL) == SQLITE_OK);
    sqlite3_close(other);
    /* The changed rows' pages were never read by c: after an eviction only
     * the disk has them (the committed change is in the WAL, out of c's
     * snapshot). Three rows on three pages a pass, the passes twenty rows
     * (five pages) apart: the eviction may leave a page or two cached (it
     * needs half of them gone), and one read the loop gives up is what
     * this case needs. */
    long long keys[PASSES * PER_PASS], refused = 0, requests;
    int read = 0, kernel_refused = 0;
    for (int pass = 0; pass < PASSES && refused == 0; pass++) {
        kernel_refused += pass > 0 && kernel_refuses_cold_reads(path);
        for (int i = 0; i < PER_PASS; i++)
            keys[read + i] = 1900 - 400 * i - 20 * pass;
        if (!evicted(path)) {
            must_op(c, CALX_DOP_ROLLBACK);
            close_conn(c);
            SKIP(NOT_EVICTED);
        }
        CHECK(read_each(c, keys + read, PER_PASS, &refused, &requests));
        read += PER_PASS;
    }
    if (refused == 0 && kernel_refused <= 1) {
        must_op(c, CALX_DOP_ROLLBACK);
        close_conn(c);
        SKIP(SERVED_COLD);
    }
    CHECK(refused >= 1);
    /* Still the same transaction: the next reads see the old values too. */
    for (int i = 0; i < read; i++)
        CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", keys[i]), keys[i] * 7);
    must_op(c, CALX_DOP_COMMIT);
    for (int i = 0; i < read; i++)
        CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", keys[i]), -1);
    close_conn(c);
}

/* Writes, and reads that would take a write lock, never run on the loop. */
TEST(writes_never_run_on_the_loop_thread)
{
    char *path = path_in_tmp(0, "writes.db");
    if (!make_db(path, "wal", 10))
        return;
    calx_dconn *c = connect_with(path, NULL, 0);
    if (!c)
        return;
    calx_sqlite_stats before = stats_of(c);
    must(c, "INSERT INTO t (id, x) VALUES (100, 700)");
    must(c, "UPDATE t SET x = 8 WHERE id = 1");
    must(c, "DELETE FROM t WHERE id = 2");
    calx_sqlite_stats after = stats_of(c);
    CHECK_INT(after.requests - before.requests, 3);
    CHECK_INT(after.inline_runs - before.inline_runs, 0);
    CHECK_INT(after.inline_refusals - before.inline_refusals, 0);  /* not even tried */
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 100), 700);
    /* Nor transaction control sent as SQL, which SQLite calls read-only:
     * a COMMIT writes. */
    before = stats_of(c);
    must(c, "BEGIN");
    must(c, "INSERT INTO t (id, x) VALUES (101, 707)");
    must(c, "COMMIT");
    after = stats_of(c);
    CHECK_INT(after.inline_runs - before.inline_runs, 0);
    CHECK_INT(after.inline_refusals - before.inline_refusals, 0);
    close_conn(c);

    /* begin=immediate: a transaction's first read takes the write lock
     * (BEGIN IMMEDIATE). In the rollback-journal mode that is a file lock
     * above SHARED: refused on the loop, taken by the worker. In WAL mode
     * it is a non-blocking try on the WAL index, which the loop may make
     * itself. Either way the transaction holds the write lock. */
    const char *journals[] = { "delete", "wal" };
    for (int j = 0; j < 2; j++) {
        calx_url_param q[] = { { "begin", "immediate" }, { "journal_mode", (char *)journals[j] } };
        c = connect_with(path, q, 2);
        if (!c)
            return;
        must_op(c, CALX_DOP_BEGIN);
        before = stats_of(c);
        CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 1), 8);
        after = stats_of(c);
        if (j == 0) {
            CHECK_INT(after.inline_runs - before.inline_runs, 0);
            CHECK_INT(after.inline_refusals - before.inline_refusals, 1);
        }
        sqlite3 *other = NULL;
        CHECK(sqlite3_open(path, &other) == SQLITE_OK);
        CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_BUSY);
        sqlite3_close(other);
        must_op(c, CALX_DOP_COMMIT);
        close_conn(c);
    }
}

/* The COMMIT or ROLLBACK of a transaction that only read runs on the
 * loop thread, and does end it (a write committed meanwhile is seen
 * after); that of a transaction that wrote goes to the worker. */
TEST(a_transaction_that_only_read_ends_on_the_loop_and_one_that_wrote_on_the_worker)
{
    char *path = path_in_tmp(0, "ends.db");
    if (!make_db(path, "wal", 10))
        return;
    calx_dconn *c = connect_with(path, NULL, 0);
    if (!c)
        return;
    calx_dop ends[] = { CALX_DOP_ROLLBACK, CALX_DOP_COMMIT };
    for (int i = 0; i < 2; i++) {
        must_op(c, CALX_DOP_BEGIN);
        long long was = read_int(c, "SELECT x FROM t WHERE id = ?", 1);
        sqlite3 *other = NULL;
        CHECK(sqlite3_open(path, &other) == SQLITE_OK);
        CHECK(sqlite3_exec(other, "UPDATE t SET x = x + 1 WHERE id = 1", NULL, NULL, NULL) ==
              SQLITE_OK);
        sqlite3_close(other);
        CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 1), was);  /* the snapshot */
        calx_sqlite_stats before = stats_of(c);
        must_op(c, ends[i]);
        calx_sqlite_stats after = stats_of(c);
        CHECK_INT(after.inline_ends - before.inline_ends, 1);
        CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 1), was + 1);
    }
    for (int i = 0; i < 2; i++) {
        must_op(c, CALX_DOP_BEGIN);
        must(c, "UPDATE t SET x = 100 + x WHERE id = 2");
        calx_sqlite_stats before = stats_of(c);
        must_op(c, ends[i]);
        calx_sqlite_stats after = stats_of(c);
        CHECK_INT(after.inline_ends - before.inline_ends, 0);
        CHECK_INT(after.inline_refusals - before.inline_refusals, 0);  /* not even tried */
    }
    CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", 2), 114);   /* the COMMIT's */
    close_conn(c);
}

/* inline_reads=false, or a VFS of the program's choosing: every read goes
 * to the worker. */
TEST(inline_reads_false_or_another_vfs_runs_every_read_on_the_worker)
{
    char *path = path_in_tmp(0, "off.db");
    if (!make_db(path, "wal", 10))
        return;
    calx_url_param off[] = { { "inline_reads", "false" } };
    calx_url_param unix_vfs[] = { { "vfs", "unix" } };
    calx_url_param *qs[] = { off, unix_vfs, NULL };
    for (int i = 0; i < 3; i++) {
        calx_dconn *c = connect_with(path, qs[i], qs[i] ? 1 : 0);
        if (!c)
            return;
        calx_sqlite_stats before = stats_of(c);
        for (int k = 1; k <= 5; k++)
            CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", k), k * 7);
        calx_sqlite_stats after = stats_of(c);
        /* The last round, the default, for contrast. */
        CHECK_INT(after.inline_runs - before.inline_runs, qs[i] ? 0 : 5);
        close_conn(c);
    }
    /* A VFS that does not exist is an error naming it. */
    calx_url_param bad[] = { { "vfs", "no_such_vfs" } };
    calx_url u = make_url(path, bad, 1);
    calx_error err;
    bool sync;
    CHECK(connect_ex(&u, NULL, 0, NULL, &err, &sync) == NULL);
    CHECK(!sync);
    CHECK_CONTAINS(err.message, "no_such_vfs");
}

/* The rollback journal's other modes keep a journal file between
 * transactions, which SQLite opens and reads at the start of each to see
 * whether it is hot: that check runs on the loop too. */
TEST(in_truncate_and_persist_journal_modes_reads_still_run_on_the_loop)
{
    const char *modes[] = { "truncate", "persist" };
    for (int m = 0; m < 2; m++) {
        char *path = path_in_tmp(0, "kept_journal.db");
        if (!make_db(path, "delete", 10))
            return;
        calx_url_param q[] = { { "journal_mode", (char *)modes[m] } };
        calx_dconn *c = connect_with(path, q, 1);
        if (!c)
            return;
        must(c, "UPDATE t SET x = 0 WHERE id = 10");  /* the journal file stays */
        calx_sqlite_stats before = stats_of(c);
        for (int k = 1; k <= 5; k++)
            CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", k), k * 7);
        calx_sqlite_stats after = stats_of(c);
        CHECK_INT(after.inline_runs - before.inline_runs, 5);
        CHECK_INT(after.inline_refusals - before.inline_refusals, 0);
        close_conn(c);
    }
}

/* tmpfs (/dev/shm, and /tmp on many systems) does not take RWF_NOWAIT,
 * and keeps every page in memory: reads there run on the loop all the
 * same, rather than giving up on the first. */
TEST(on_tmpfs_reads_run_on_the_loop)
{
    struct statfs fs;
    if (statfs("/dev/shm", &fs) != 0 || fs.f_type != TMPFS_MAGIC || access("/dev/shm", W_OK) != 0)
        SKIP("no writable tmpfs at /dev/shm");
    char path[100];
    snprintf(path, sizeof path, "/dev/shm/calx_loop_reads.%d.db", (int)getpid());
    if (!make_db(path, "wal", 10))
        return;
    calx_dconn *c = connect_with(path, NULL, 0);
    if (c) {
        calx_sqlite_stats before = stats_of(c);
        for (int k = 1; k <= 5; k++)
            CHECK_INT(read_int(c, "SELECT x FROM t WHERE id = ?", k), k * 7);
        calx_sqlite_stats after = stats_of(c);
        CHECK_INT(after.inline_runs - before.inline_runs, 5);
        CHECK_INT(after.inline_refusals - before.inline_refusals, 0);
        close_conn(c);
    }
    char side[120];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* A long read starts on the loop but does not stay there: past its step
 * budget it is stopped and the worker runs it, the loop turning. */
TEST(a_long_read_moves_to_the_worker_and_the_loop_keeps_turning)
{
    calx_dconn *c = connect_with(NULL, NULL, 0);
    if (!c)
        return;
    calx_sqlite_stats before = stats_of(c);
    long long n = RUNNING_ON_VALGRIND ? 300000 : 3000000;
    char sql[200];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %lld) "
             "SELECT count(*) FROM k",
             n);
    ticker tk;
    ticker_start(&tk);
    CHECK_INT(read_int(c, sql, -1), n);
    double ran = ticker_stop(&tk);
    calx_sqlite_stats after = stats_of(c);
    CHECK_INT(after.inline_refusals - before.inline_refusals, 1);
    CHECK_INT(after.inline_runs - before.inline_runs, 0);
    /* (Valgrind runs one thread at a time: there the worker's counting
     * starves the loop, which says nothing about calx.) */
    if (!RUNNING_ON_VALGRIND)
        CHECK(ticked_enough(&tk, ran, "a long read"));
    close_conn(c);
}

/* The cases above with each read offered to read_row first: a read it
 * cannot finish without waiting is declined, counted once as refused, and
 * run by the worker (the request that follows does not try the loop
 * again); the snapshot of a transaction stays. */
#define THROUGH_READ_ROW(name, of)                                                        \
    TEST(name)                                                                            \
    {                                                                                     \
        by_read_row = true;                                                               \
        of();                                                                             \
        by_read_row = false;                                                              \
    }
THROUGH_READ_ROW(read_row_gives_up_a_read_another_process_lock_holds_and_the_loop_turns,
                 a_read_that_waits_for_another_process_lock_leaves_the_loop_turning)
THROUGH_READ_ROW(read_row_reads_in_wal_mode_while_another_process_writes,
                 in_wal_mode_a_read_runs_on_the_loop_while_another_process_writes)
THROUGH_READ_ROW(read_row_gives_up_a_get_on_a_cold_cache_and_the_loop_turns,
                 a_get_on_a_cold_cache_goes_to_the_worker_and_the_loop_keeps_turning)
THROUGH_READ_ROW(a_read_row_given_up_inside_a_transaction_keeps_its_snapshot,
                 a_refused_read_inside_a_transaction_keeps_its_snapshot)
THROUGH_READ_ROW(read_row_gives_up_a_long_read_and_the_loop_turns,
                 a_long_read_moves_to_the_worker_and_the_loop_keeps_turning)
THROUGH_READ_ROW(read_row_never_runs_a_write_on_the_loop_thread,
                 writes_never_run_on_the_loop_thread)
THROUGH_READ_ROW(with_inline_reads_false_or_another_vfs_read_row_declines_every_read,
                 inline_reads_false_or_another_vfs_runs_every_read_on_the_worker)

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    if (!loop) {
        fprintf(stderr, "calx_loop_new: %s\n", err.message);
        return 1;
    }
    tmp = test_tmpdir("test_sqlite_loop_reads");
    RUN(a_read_that_waits_for_another_process_lock_leaves_the_loop_turning);
    RUN(in_wal_mode_a_read_runs_on_the_loop_while_another_process_writes);
    RUN(a_get_on_a_cold_cache_goes_to_the_worker_and_the_loop_keeps_turning);
    RUN(a_refused_read_inside_a_transaction_keeps_its_snapshot);
    RUN(writes_never_run_on_the_loop_thread);
    RUN(a_transaction_that_only_read_ends_on_the_loop_and_one_that_wrote_on_the_worker);
    RUN(inline_reads_false_or_another_vfs_runs_every_read_on_the_worker);
    RUN(in_truncate_and_persist_journal_modes_reads_still_run_on_the_loop);
    RUN(on_tmpfs_reads_run_on_the_loop);
    RUN(a_long_read_moves_to_the_worker_and_the_loop_keeps_turning);
    RUN(read_row_gives_up_a_read_another_process_lock_holds_and_the_loop_turns);
    RUN(read_row_reads_in_wal_mode_while_another_process_writes);
    RUN(read_row_gives_up_a_get_on_a_cold_cache_and_the_loop_turns);
    RUN(a_read_row_given_up_inside_a_transaction_keeps_its_snapshot);
    RUN(read_row_gives_up_a_long_read_and_the_loop_turns);
    RUN(read_row_never_runs_a_write_on_the_loop_thread);
    RUN(with_inline_reads_false_or_another_vfs_read_row_declines_every_read);
    calx_loop_free(loop);
    return TEST_REPORT();
}
