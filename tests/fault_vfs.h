/* SPDX-License-Identifier: MIT */
/* A SQLite VFS for fault tests: it wraps the default VFS and, once armed,
 * fails writes with SQLITE_FULL after a budget of bytes, as a disk that
 * fills up mid-transaction does. Registered as the default VFS, so that
 * connections the driver opens on its worker threads use it; the budget is
 * atomic for the same reason.
 *
 *   fault_vfs_install();         before connecting
 *   fault_vfs_arm(50000);        writes fail once 50,000 more bytes are written
 *   fault_vfs_disarm();          writes succeed again
 *   fault_vfs_uninstall();       after every connection using it is closed
 */
#ifndef CALX_TEST_FAULT_VFS_H
#define CALX_TEST_FAULT_VFS_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct fault_file {
    sqlite3_file base;
    sqlite3_file *real;   /* the wrapped VFS's file, allocated after this */
} fault_file;

static sqlite3_vfs fault_vfs, *fault_vfs_real;
static atomic_llong fault_vfs_budget = -1;  /* bytes left; -1: unlimited */

static sqlite3_file *fault_real(sqlite3_file *f)
{
    return ((fault_file *)f)->real;
}

static int fault_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    long long left = atomic_load(&fault_vfs_budget);
    while (left >= 0) {
        if (left < n)
            return SQLITE_FULL;
        if (atomic_compare_exchange_weak(&fault_vfs_budget, &left, left - n))
            break;
    }
    return fault_real(f)->pMethods->xWrite(fault_real(f), buf, n, off);
}

static int fault_close(sqlite3_file *f)
{
    return fault_real(f)->pMethods->xClose(fault_real(f));
}
static int fault_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return fault_real(f)->pMethods->xRead(fault_real(f), buf, n, off);
}
static int fault_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return fault_real(f)->pMethods->xTruncate(fault_real(f), size);
}
static int fault_sync(sqlite3_file *f, int flags)
{
    return fault_real(f)->pMethods->xSync(fault_real(f), flags);
}
static int fault_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return fault_real(f)->pMethods->xFileSize(fault_real(f), size);
}
static int fault_lock(sqlite3_file *f, int level)
{
    return fault_real(f)->pMethods->xLock(fault_real(f), level);
}
static int fault_unlock(sqlite3_file *f, int level)
{
    return fault_real(f)->pMethods->xUnlock(fault_real(f), level);
}
static int fault_check_reserved(sqlite3_file *f, int *out)
{
    return fault_real(f)->pMethods->xCheckReservedLock(fault_real(f), out);
}
static int fault_file_control(sqlite3_file *f, int op, void *arg)
{
    return fault_real(f)->pMethods->xFileControl(fault_real(f), op, arg);
}
static int fault_sector_size(sqlite3_file *f)
{
    return fault_real(f)->pMethods->xSectorSize(fault_real(f));
}
static int fault_device_characteristics(sqlite3_file *f)
{
    return fault_real(f)->pMethods->xDeviceCharacteristics(fault_real(f));
}
static int fault_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **p)
{
    return fault_real(f)->pMethods->xShmMap(fault_real(f), page, size, extend, p);
}
static int fault_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return fault_real(f)->pMethods->xShmLock(fault_real(f), offset, n, flags);
}
static void fault_shm_barrier(sqlite3_file *f)
{
    fault_real(f)->pMethods->xShmBarrier(fault_real(f));
}
static int fault_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return fault_real(f)->pMethods->xShmUnmap(fault_real(f), delete_flag);
}

/* Memory-mapped reads are left off (xFetch never maps), so every write
 * goes through fault_write. */
static int fault_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
    (void)f, (void)off, (void)n;
    *p = NULL;
    return SQLITE_OK;
}
static int fault_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    (void)f, (void)off, (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods fault_methods = {
    3,
    fault_close, fault_read, fault_write, fault_truncate, fault_sync, fault_file_size,
    fault_lock, fault_unlock, fault_check_reserved, fault_file_control, fault_sector_size,
    fault_device_characteristics, fault_shm_map, fault_shm_lock, fault_shm_barrier,
    fault_shm_unmap, fault_fetch, fault_unfetch,
};

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                      int *out_flags)
{
    (void)vfs;
    fault_file *ff = (fault_file *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    int rc = fault_vfs_real->xOpen(fault_vfs_real, name, ff->real, flags, out_flags);
    /* SQLite calls xClose only when pMethods is set. */
    ff->base.pMethods = ff->real->pMethods ? &fault_methods : NULL;
    return rc;
}

static void fault_vfs_install(void)
{
    fault_vfs_real = sqlite3_vfs_find(NULL);
    fault_vfs = *fault_vfs_real;
    fault_vfs.zName = "calx_test_fault";
    fault_vfs.szOsFile = (int)sizeof(fault_file) + fault_vfs_real->szOsFile;
    fault_vfs.xOpen = fault_open;
    fault_vfs.pNext = NULL;
    sqlite3_vfs_register(&fault_vfs, 1);
}

static void fault_vfs_uninstall(void)
{
    sqlite3_vfs_unregister(&fault_vfs);
    sqlite3_vfs_register(fault_vfs_real, 1);
    atomic_store(&fault_vfs_budget, -1);
}

static void fault_vfs_arm(long long bytes)
{
    atomic_store(&fault_vfs_budget, bytes);
}

static void fault_vfs_disarm(void)
{
    atomic_store(&fault_vfs_budget, -1);
}

#endif
