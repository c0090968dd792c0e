/* SPDX-License-Identifier: MIT */
/* The SQLite driver: the VFS that keeps reads on the loop thread from
 * blocking.
 *
 * A read the loop thread runs itself (try_inline in sqlite.c) must never
 * wait: not for a lock, not for the disk, not in a sleep. The busy timeout
 * (0 for it) covers the lock SQLite asks for first; everything below it
 * goes through the VFS, so calx opens its connections with a thin VFS of
 * its own, "calx_loop_reads", wrapping SQLite's "unix" one. On the worker
 * thread it passes every call through. On a thread that has said it is
 * running an inline read (calx__sqlite_vfs_inline_begin, a thread-local
 * mark) it never blocks:
 *
 * - xRead of the database, its WAL or journal reads the bytes with
 *   preadv2(RWF_NOWAIT): served from the OS page cache, or refused
 *   (EAGAIN) when the kernel would have to go to the disk (on tmpfs, which
 *   has no disk and does not take the flag, a plain read);
 * - xWrite, xTruncate, xSync, xDelete and xOpen (temporary files, a
 *   journal to write) are refused, and so is xLock above SHARED (a read never needs
 *   one; a hot-journal rollback would), xFetch maps nothing (the read then
 *   goes through xRead), and xSleep returns at once;
 * - once anything was refused, every further lock and read is refused at
 *   once too, so that the busy handler's retries cost nothing.
 *
 * A refusal answers SQLITE_BUSY and marks the thread; the driver then
 * throws the inline result away and hands the request to the worker, which
 * runs it as if the loop had never tried. BUSY because SQLite rolls a whole
 * transaction back after an I/O error, even a read-only one
 * (sqlite3VdbeHalt's "special errors": NOMEM, IOERR, INTERRUPT, FULL),
 * while a read-only statement that fails with BUSY ends alone: the pager
 * passes a read's code up without entering its error state (readDbPage,
 * getPageNormal), and the transaction and its snapshot stay open.
 *
 * Which descriptor it reads: the unix VFS's own. A second descriptor on the
 * same file would be simpler, but closing it would drop every POSIX lock
 * this process holds on the file (fcntl locks belong to the process and
 * the inode, and any close releases them all): other connections' SHARED
 * locks would vanish, and another process could then delete the WAL or
 * write under a reader. The unix VFS itself defers closing for that reason.
 * SQLite has no call that gives a file's descriptor, so unix_fd reads it
 * where unixFile keeps it (after three pointers, as it has since 3.7) and
 * trusts it only when fstat says it is the very file that was opened;
 * otherwise the file simply has no descriptor and inline reads refuse.
 *
 * Left as it was: xAccess (the rollback-journal mode's check for a hot
 * journal: a path lookup the kernel's dentry cache answers), xShmMap and
 * xShmLock (the WAL index, mapped memory that every transaction touches;
 * its locks are non-blocking F_SETLK calls in this build of SQLite, which
 * has no SQLITE_ENABLE_SETLK_TIMEOUT) and xFileControl.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sqlite3.h>

#include "driver/sqlite_int.h"

#define CALX_SQLITE_VFS_NAME "calx_loop_reads"

typedef struct loop_file {
    sqlite3_file base;
    sqlite3_file *real;    /* the unix VFS's file, allocated right after this */
    int fd;                /* the unix file's descriptor; -1: none */
    bool is_db;            /* a database, WAL or journal file: should have one */
    bool in_memory;        /* on tmpfs or ramfs: no disk to wait for */
    bool nowait_broken;    /* preadv2(RWF_NOWAIT) is not supported here */
} loop_file;

static sqlite3_vfs loop_vfs;
static sqlite3_vfs *unix_vfs;
static pthread_once_t registered = PTHREAD_ONCE_INIT;
static bool registered_ok;

/* This thread is running an inline read, and what was refused meanwhile. */
static _Thread_local bool inline_now;
static _Thread_local calx_sqlite_refusal refused;

static int refuse(calx_sqlite_refusal why)
{
    if (refused < why)
        refused = why;
    return SQLITE_BUSY;
}

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((loop_file *)f)->real;
}

/* The unix file's descriptor, or -1 unless fstat proves it is path's file
 * (see the top of the file for why not a descriptor of our own). */
static int unix_fd(sqlite3_file *real, const char *path)
{
    int fd;
    if (unix_vfs->szOsFile < (int)(3 * sizeof(void *) + sizeof fd))
        return -1;
    memcpy(&fd, (const char *)real + 3 * sizeof(void *), sizeof fd);
    struct stat by_fd, by_path;
    if (fd < 0 || fstat(fd, &by_fd) != 0 || !S_ISREG(by_fd.st_mode) ||
        stat(path, &by_path) != 0 || by_fd.st_dev != by_path.st_dev ||
        by_fd.st_ino != by_path.st_ino)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_ACCMODE) != O_WRONLY ? fd : -1;
}

/* ---- the file's methods ---- */

/* An inline read: from the OS page cache or not at all. */
static int read_nowait(loop_file *f, char *buf, int n, sqlite3_int64 off)
{
    if (f->fd < 0)  /* temp files: always; a database without one: for good */
        return refuse(f->is_db ? CALX_SQLITE_REFUSED_FOR_GOOD : CALX_SQLITE_REFUSED);
    if (refused)
        return refuse(CALX_SQLITE_REFUSED);
    if (f->nowait_broken)
        return refuse(CALX_SQLITE_REFUSED_FOR_GOOD);
    int got = 0;
    while (got < n) {
        struct iovec v = { buf + got, (size_t)(n - got) };
        /* tmpfs refuses RWF_NOWAIT (EOPNOTSUPP), and has no disk behind
         * its pages: a plain read there. */
        ssize_t r = preadv2(f->fd, &v, 1, (off_t)(off + got), f->in_memory ? 0 : RWF_NOWAIT);
        if (r > 0) {
            got += (int)r;  /* a part was cached: ask for the rest */
        } else if (r == 0) {
            /* Past the end: zeros, as the unix VFS gives. */
            memset(buf + got, 0, (size_t)(n - got));
            return SQLITE_IOERR_SHORT_READ;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL) {
            f->nowait_broken = true;
            return refuse(CALX_SQLITE_REFUSED_FOR_GOOD);
        } else {
            /* EAGAIN: the disk would be read. Anything else: the worker
             * reads it again and reports the real error. */
            return refuse(CALX_SQLITE_REFUSED);
        }
    }
    return SQLITE_OK;
}

static int loop_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    if (inline_now)
        return read_nowait((loop_file *)f, buf, n, off);
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

static int loop_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (inline_now)
        return refuse(CALX_SQLITE_REFUSED);
    return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}

static int loop_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (inline_now)
        return refuse(CALX_SQLITE_REFUSED);
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int loop_sync(sqlite3_file *f, int flags)
{
    if (inline_now)
        return refuse(CALX_SQLITE_REFUSED);
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int loop_lock(sqlite3_file *f, int level)
{
    /* SHARED is a non-blocking fcntl; anything above is a write or a
     * hot-journal rollback, neither of which belongs on the loop. */
    if (inline_now && (level > SQLITE_LOCK_SHARED || refused))
        return refuse(CALX_SQLITE_REFUSED);
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int loop_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
    /* A mapped page may fault to the disk: no mapping, xRead instead. */
    if (inline_now || real_of(f)->pMethods->iVersion < 3) {
        *p = NULL;
        return SQLITE_OK;
    }
    return real_of(f)->pMethods->xFetch(real_of(f), off, n, p);
}

static int loop_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    if (real_of(f)->pMethods->iVersion < 3)
        return SQLITE_OK;
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

/* The rest pass through. */

static int loop_close(sqlite3_file *f)
{
    return real_of(f)->pMethods->xClose(real_of(f));
}
static int loop_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
static int loop_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
static int loop_check_reserved(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
static int loop_file_control(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
static int loop_sector_size(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}
static int loop_device_characteristics(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
static int loop_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **p)
{
    if (real_of(f)->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMMAP;
    return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, p);
}
static int loop_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    if (inline_now && refused && !(flags & SQLITE_SHM_UNLOCK))
        return refuse(CALX_SQLITE_REFUSED);
    if (real_of(f)->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMLOCK;
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
static void loop_shm_barrier(sqlite3_file *f)
{
    if (real_of(f)->pMethods->iVersion >= 2)
        real_of(f)->pMethods->xShmBarrier(real_of(f));
}
static int loop_shm_unmap(sqlite3_file *f, int delete_flag)
{
    if (real_of(f)->pMethods->iVersion < 2)
        return SQLITE_OK;
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static const sqlite3_io_methods loop_methods = {
    .iVersion = 3,
    .xClose = loop_close,
    .xRead = loop_read,
    .xWrite = loop_write,
    .xTruncate = loop_truncate,
    .xSync = loop_sync,
    .xFileSize = loop_file_size,
    .xLock = loop_lock,
    .xUnlock = loop_unlock,
    .xCheckReservedLock = loop_check_reserved,
    .xFileControl = loop_file_control,
    .xSectorSize = loop_sector_size,
    .xDeviceCharacteristics = loop_device_characteristics,
    .xShmMap = loop_shm_map,
    .xShmLock = loop_shm_lock,
    .xShmBarrier = loop_shm_barrier,
    .xShmUnmap = loop_shm_unmap,
    .xFetch = loop_fetch,
    .xUnfetch = loop_unfetch,
};

/* ---- the VFS's methods ---- */

static int loop_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                     int *out_flags)
{
    (void)vfs;
    loop_file *f = (loop_file *)file;
    f->base.pMethods = NULL;  /* SQLite calls xClose only when this is set */
    f->fd = -1;
    f->is_db = false;
    f->nowait_broken = false;
    f->real = (sqlite3_file *)(f + 1);
    /* On the loop only the look into an existing journal that every
     * transaction of the truncate and persist journal modes takes (is it
     * hot?): an open(2) of the path xAccess just found, then a read.
     * Temporary files and anything to write are the worker's. */
    bool journal_look = (flags & SQLITE_OPEN_MAIN_JOURNAL) && (flags & SQLITE_OPEN_READONLY);
    if (inline_now && (!journal_look || refused))
        return refuse(CALX_SQLITE_REFUSED);
    int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
    if (!f->real->pMethods)
        return rc;
    f->base.pMethods = &loop_methods;
    f->is_db = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) || journal_look;
    if (rc == SQLITE_OK && name && f->is_db)
        f->fd = unix_fd(f->real, name);
    struct statfs fs;
    f->in_memory = f->fd >= 0 && fstatfs(f->fd, &fs) == 0 &&
                   (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
    return rc;
}

static int loop_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    if (inline_now)
        return refuse(CALX_SQLITE_REFUSED);
    return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

static int loop_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    /* The WAL's retries while another connection rebuilds its index: the
     * worker waits them out instead. */
    if (inline_now) {
        refuse(CALX_SQLITE_REFUSED);
        return 0;
    }
    return unix_vfs->xSleep(unix_vfs, us);
}

static void register_vfs(void)
{
    unix_vfs = sqlite3_vfs_find("unix");
    if (!unix_vfs)
        return;
    loop_vfs = *unix_vfs;
    loop_vfs.pNext = NULL;
    loop_vfs.zName = CALX_SQLITE_VFS_NAME;
    loop_vfs.szOsFile = (int)sizeof(loop_file) + unix_vfs->szOsFile;
    loop_vfs.xOpen = loop_open;
    loop_vfs.xDelete = loop_delete;
    loop_vfs.xSleep = loop_sleep;
    registered_ok = sqlite3_vfs_register(&loop_vfs, 0) == SQLITE_OK;
}

/* ---- the driver's side ---- */

const char *calx__sqlite_vfs_for_open(void)
{
    pthread_once(&registered, register_vfs);
    /* Only over the plain unix VFS: a default some program registered
     * (an encrypting one, a test's fault injector) is used as it is, and
     * inline reads are off (calx__sqlite_vfs_inline_ok says no). */
    if (!registered_ok || sqlite3_vfs_find(NULL) != unix_vfs)
        return NULL;
    return CALX_SQLITE_VFS_NAME;
}

bool calx__sqlite_vfs_inline_ok(sqlite3 *db)
{
    sqlite3_vfs *vfs = NULL;
    if (!registered_ok ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK ||
        vfs != &loop_vfs)
        return false;
    const char *name = sqlite3_db_filename(db, "main");
    if (!name || !*name)
        return true;  /* in memory: no file to wait for */
    sqlite3_file *file = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
        !file || file->pMethods != &loop_methods)
        return false;
    return ((loop_file *)file)->fd >= 0;
}

void calx__sqlite_vfs_inline_begin(void)
{
    inline_now = true;
    refused = CALX_SQLITE_NOT_REFUSED;
}

calx_sqlite_refusal calx__sqlite_vfs_inline_end(void)
{
    inline_now = false;
    calx_sqlite_refusal why = refused;
    refused = CALX_SQLITE_NOT_REFUSED;
    return why;
}
