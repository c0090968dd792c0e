/* SPDX-License-Identifier: MIT */
/* The SQLite driver's insides, shared by its files, a section each below:
 * sqlite.c (the loop thread's side: the driver interface, jobs handed to
 * the worker, its completions), sqlite_worker.c (the worker thread:
 * opening, the run loop, closing), sqlite_stmt.c (statements: the cache,
 * binding, rows, streaming), sqlite_error.c (error codes, transactions
 * SQLite ended by itself), sqlite_options.c (URL options and
 * connect_args, checked and parsed before a connection opens) and
 * sqlite_vfs.c (the VFS that keeps inline reads from blocking). */
#ifndef CALX_DRIVER_SQLITE_INT_H
#define CALX_DRIVER_SQLITE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/evloop.h"
#include "driver/driver.h"
#include "driver/rowset.h"
#include "driver/sqlite.h"

#define CALX_SQLITE_CACHE_SIZE 64      /* prepared statements kept per connection */
#define CALX_SQLITE_BUSY_MS 5000       /* default busy_timeout */
#define CALX_SQLITE_PROGRESS_STEPS 1000   /* VM steps between progress-handler calls
                                             (interrupt checks, the inline budget) */
#define CALX_SQLITE_INLINE_STEPS 50000    /* VM steps a read may take on the loop
                                             thread before the worker takes it over
                                             (well under a millisecond) */

typedef struct calx_sqlite_cached {
    uint64_t hash;
    uint64_t used;          /* tick of the last use; the smallest is evicted */
    char *sql;
    sqlite3_stmt *stmt;
    calx_colnames *names;   /* its column names, shared by its rowsets; NULL
                               until it first runs */
    int names_reprepares;   /* SQLITE_STMTSTATUS_REPREPARE when names were read:
                               a schema change re-prepares and may rename */
} calx_sqlite_cached;

typedef struct calx_sqlite_pragma {
    char *key;
    char *value;
} calx_sqlite_pragma;

typedef enum calx_sqlite_iso {
    CALX_SQLITE_SERIALIZABLE,
    CALX_SQLITE_READ_UNCOMMITTED,
    CALX_SQLITE_AUTOCOMMIT
} calx_sqlite_iso;

typedef struct calx_sqlite_conn {
    calx_dconn base;

    /* Set by connect before the worker starts; read-only afterwards. */
    char *filename;          /* what sqlite3_open_v2 gets */
    char *vfs;               /* the vfs option: the user's VFS, or NULL */
    int open_flags;
    calx_sqlite_iso iso;
    size_t npragmas;
    calx_sqlite_pragma *pragmas;  /* URL options, then connect_args over them */
    pthread_t thread;

    /* Under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const calx_dreq *job;    /* a request for the worker to take */
    bool quit;               /* close: finish and end the thread */
    bool executing;          /* the worker is inside a request */
    /* Written under mu; read bare by the worker's progress handler. */
    atomic_bool interrupted;

    /* Worker thread only. The loop thread calls sqlite3_interrupt on db,
     * which SQLite allows from any thread, and only while executing. */
    sqlite3 *db;
    calx_sqlite_cached cache[CALX_SQLITE_CACHE_SIZE];
    size_t ncached;
    size_t last_found;       /* the entry the last lookup gave: tried first,
                                by text alone (a loop of gets asks for the
                                same one each time) */
    sqlite3_stmt *inline_stmt; /* set only while a read runs inline: the
                                statement try_inline found for it, which the
                                run takes without looking it up again */
    uint64_t tick;
    sqlite3_stmt *cursor;    /* streaming: the statement with rows left */
    bool cursor_row;         /* ... and it is positioned on an unread row */
    size_t cursor_chunk;     /* ... and its last chunk had this many rows
                                (full: else it would have ended) */
    /* inline_reads: the loop thread runs a short read itself when the
     * worker is idle (the mutex hand-off orders the two threads' use of
     * db and the statement cache). Set from the options, then cleared by
     * the worker at open when the connection is not on calx's VFS
     * (sqlite_vfs.c), and by the loop thread when that VFS finds it
     * cannot read without waiting. */
    bool inline_reads;
    int inline_steps_left;   /* progress calls left to an inline read; 0: none runs */
    bool inline_gave_up;     /* read_row just gave a read up (refused, locked,
                                too long): the request that follows, the same
                                read, goes straight to the worker */
    bool inline_too_long;    /* ... and it used them up: the progress handler stopped it */
    int busy_ms;             /* busy timeout: set from the options before open */
    bool journal_set;        /* the options name a journal_mode (else WAL) */
    const char *begin_sql;   /* begin=immediate|exclusive: every BEGIN; NULL:
                                lazy (IMMEDIATE when the first statement writes) */
    /* Streaming read-ahead: the next chunk, read while the loop thread
     * works through the last one. */
    bool pre_ready;
    int pre_rc;
    calx_rowset *pre_rs;
    calx_error pre_err;
    /* A chunk of the open stream the loop thread gave back
     * (sqlite_recycle), to be filled again by the next read: under mu, as
     * the loop thread gives it while the worker reads ahead. */
    calx_rowset *spare_rs;
    bool tx_wanted;          /* BEGIN seen; the next EXEC really begins */
    bool tx_writes;          /* ... and the request said it will write */
    /* SQLite ended an open transaction by itself (see
     * calx__sqlite_lose_tx_if_ended): every statement and the COMMIT fail
     * until a ROLLBACK. tx_lost_why is the message of the failure that
     * ended it, tx_lost_code its result code. */
    bool tx_lost;
    int tx_lost_code;
    char tx_lost_why[256];
    bool request_ran;        /* the running request has stepped a statement */
    /* WAL checkpoints, run by the worker after the request that committed
     * has been answered (sqlite_worker.c): the log's frames at the last
     * commit, and the count at which to checkpoint (0: never). */
    int wal_frames;
    int checkpoint_frames;
    const char *dbfile;      /* absolute path from SQLite; "" for memory */
    bool have_id;            /* dev/ino recorded at open, for ping */
    dev_t dev;
    ino_t ino;

    /* Filled by the worker, read on the loop thread after the post. */
    calx_work done;
    bool res_ok;
    calx_rowset *res_rs;
    calx_error res_err;

    /* Loop thread only. */
    calx_dconnect_cb connect_cb;
    calx_dreq_cb cb;
    void *udata;
    bool busy;               /* a request is out, its callback not yet run */
    bool held;               /* ... and it holds the loop (it went to the worker;
                                a read run inline is a deferred callback, which
                                keeps the loop running by itself) */
    bool dead;               /* a disconnect was seen: alive() says false */
    bool closing;
    calx_sqlite_stats stats;
} calx_sqlite_conn;

/* sqlite.c: the worker's completions (c->done.fn), run on the loop
 * thread after calx__loop_post: the connect's, a request's (also deferred
 * after a read run inline), the close's. */
void calx__sqlite_on_connected(calx_work *w);
void calx__sqlite_on_request_done(calx_work *w);
void calx__sqlite_on_closed(calx_work *w);

/* sqlite_worker.c */

/* The worker thread (pthread_create's start, arg the connection): opens
 * the database, posts on_connected, runs jobs until quit, closes the
 * database, posts on_closed. */
void *calx__sqlite_worker_main(void *arg);

/* Runs req, leaving the outcome in res_ok, res_rs and res_err. On the
 * worker, or on the loop thread while the worker is idle (inline_reads). */
void calx__sqlite_run_request(calx_sqlite_conn *c, const calx_dreq *req);

/* sqlite_stmt.c: statements, on the worker (or inline) */

/* The prepared statement for sql, from the cache or newly prepared into
 * it; owned by the cache. sql_hash: calx__hash_str(CALX_HASH_INIT, sql)
 * when the caller has it (calx_dstmt.sql_hash), else 0. *out is NULL for
 * SQL with no statement in it. 0 or an error (CALX_ERR_PROGRAMMING for
 * more than one statement). */
int calx__sqlite_prepare_cached(calx_sqlite_conn *c, const char *sql, uint64_t sql_hash,
                                sqlite3_stmt **out, calx_error *err);
/* Finalizes every cached statement. */
void calx__sqlite_cache_clear(calx_sqlite_conn *c);
/* Runs a parameterless statement through the cache, dropping any rows. */
int calx__sqlite_run_simple(calx_sqlite_conn *c, const char *sql, calx_error *err);
/* Runs a statement once, outside the cache (connect-time setup). */
int calx__sqlite_run_once(calx_sqlite_conn *c, const char *sql, calx_error *err);
/* The integer a pragma reads as ("PRAGMA busy_timeout"), or otherwise when
 * it answers nothing. */
int calx__sqlite_pragma_int(sqlite3 *db, const char *sql, int otherwise);
/* Ends the streamed statement, if one is open (it stays cached). */
void calx__sqlite_close_cursor(calx_sqlite_conn *c);
/* Runs an EXEC's statements in order into a chain of rowsets (*out, the
 * caller's), the last one streamed when req->stream_rows says so. 0, or
 * the error with the failing statement and parameter set noted. */
int calx__sqlite_exec_batch(calx_sqlite_conn *c, const calx_dreq *req, calx_rowset **out,
                            calx_error *err);
/* The streamed statement's next rows, at most limit, into *out; the stream
 * closes at its end or on failure (CALX_ERR_STATE when none is open). */
int calx__sqlite_fetch(calx_sqlite_conn *c, size_t limit, calx_rowset **out, calx_error *err);
/* An EXEC that carries the transaction's BEGIN (req->begin): the next
 * statement really begins it (begin_if_wanted in sqlite_stmt.c), taking
 * the write lock first when the request says it will write. Worker, or
 * the loop thread running a read inline. */
static inline void calx__sqlite_want_tx(calx_sqlite_conn *c, const calx_dreq *req)
{
    if (req->begin && c->iso != CALX_SQLITE_AUTOCOMMIT) {
        c->tx_wanted = true;
        c->tx_writes = req->writes;
    }
}

/* The read_row of the driver interface (driver.h) once sqlite.c has found
 * the read may run here: stmt (prepared for st, read-only) bound, stepped
 * and reset, the BEGIN a request would run first run first. */
calx_dread calx__sqlite_read_row(calx_sqlite_conn *c, sqlite3_stmt *stmt, const calx_dstmt *st,
                                 calx_value *row, size_t maxcols, size_t *ncols, char *buf,
                                 size_t size, calx_error *err);
/* The chunk the loop thread gave back (sqlite_recycle), the caller's now;
 * NULL when there is none. Takes mu. */
calx_rowset *calx__sqlite_take_spare(calx_sqlite_conn *c);

/* sqlite_error.c */

/* Fills err from the handle's last error (rc: what the failing call
 * returned) and returns its code. */
int calx__sqlite_db_error(calx_sqlite_conn *c, int rc, calx_error *err);
/* Sets err to CALX_ERR_CANCELED (an interrupted statement) and returns it. */
int calx__sqlite_canceled(calx_error *err);
/* On SQLITE_BUSY, notes in err how long the lock was waited for. */
void calx__sqlite_note_lock_held(const calx_sqlite_conn *c, calx_error *err);
/* After a failure: when a transaction was open before the statement and
 * SQLite ended it, records why (tx_lost) and notes it in err. */
void calx__sqlite_lose_tx_if_ended(calx_sqlite_conn *c, bool was_in_tx, calx_error *err);
/* The error every statement and COMMIT get while tx_lost (25P02). */
int calx__sqlite_tx_lost_error(const calx_sqlite_conn *c, calx_error *err);
/* True for ROLLBACK [TRANSACTION] without TO. */
bool calx__sqlite_is_whole_rollback(const char *sql);
/* After a failed request: a cancel that stopped it part-way inside a
 * transaction rolls the transaction back, as PostgreSQL does. */
void calx__sqlite_cancel_ends_tx(calx_sqlite_conn *c, calx_error *err);

/* sqlite_vfs.c: the VFS under inline reads */

/* What an inline read ran into, worst last. */
typedef enum calx_sqlite_refusal {
    CALX_SQLITE_NOT_REFUSED,
    CALX_SQLITE_REFUSED,          /* it would have waited: the worker runs it */
    CALX_SQLITE_REFUSED_FOR_GOOD  /* ... and always would (no RWF_NOWAIT here) */
} calx_sqlite_refusal;

/* The VFS name for sqlite3_open_v2: calx's own, registered on the first
 * call (not as the default), or NULL when the default VFS is not SQLite's
 * plain "unix" one (then that default is used, and no read runs inline).
 * Any thread. */
const char *calx__sqlite_vfs_for_open(void);
/* True when db's reads can run inline without blocking: it is on calx's
 * VFS, and in memory or with its file's descriptor known. */
bool calx__sqlite_vfs_inline_ok(sqlite3 *db);
/* Brackets an inline read on this thread: between the two, calx's VFS
 * refuses (SQLITE_BUSY) whatever could block. _end says whether, and how,
 * anything was refused; then the result must be discarded. */
void calx__sqlite_vfs_inline_begin(void);
calx_sqlite_refusal calx__sqlite_vfs_inline_end(void);

/* sqlite_options.c */

/* Fills c's option fields (filename, open flags, isolation, pragmas,
 * busy timeout, begin, inline_reads) from url, args and iso. 0, or
 * CALX_ERR_ARGUMENT naming the option (CALX_ERR_NOMEM). Free with
 * calx__sqlite_options_free, also after a failure. */
int calx__sqlite_parse_options(calx_sqlite_conn *c, const calx_url *url, const calx_kv *args,
                               size_t nargs, const char *iso, calx_error *err);

/* Frees what calx__sqlite_parse_options filled in. */
void calx__sqlite_options_free(calx_sqlite_conn *c);

/* Checks c's pragma names against the list SQLite knows, on db: 0, or
 * CALX_ERR_ARGUMENT naming an unknown one. */
int calx__sqlite_check_pragma_names(const calx_sqlite_conn *c, sqlite3 *db, calx_error *err);

/* The driver's check_options and describe (driver.h). */
int calx__sqlite_check_options(const calx_url *url, const calx_kv *args, size_t nargs,
                               const char *isolation_level, calx_error *err);
void calx__sqlite_describe(const calx_url *url, const calx_kv *args, size_t nargs, char *buf,
                           size_t n);

#endif
