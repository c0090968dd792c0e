/* SPDX-License-Identifier: MIT */
/* Zeroed allocation written by calx itself: for what is allocated once per
 * statement (a future, a result, a rowset, an operation), and for hash
 * tables (calx__array_zeroed, below). glibc's calloc (2.36, Debian 12) does
 * not take blocks from its per-thread cache as malloc does, and costs
 * about four times malloc plus the memset for a small struct (callgrind:
 * some 180 instructions against 40 and a few); a get by primary key made
 * four such blocks. calloc stays right for other arrays.
 * GCC and clang turn malloc followed by memset back into calloc: the
 * empty asm between them hides that the block is malloc's. */
#ifndef CALX_CORE_ZEROED_H
#define CALX_CORE_ZEROED_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* size bytes, all zero, owned by the caller (free); NULL on no memory. */
static inline void *calx__alloc_zeroed(size_t size)
{
    void *p = malloc(size);
    __asm__("" : "+r"(p));
    if (p)
        memset(p, 0, size);
    return p;
}

/* Arrays this large have their pages made present in one system call
 * before the zeroes are written (calx__array_zeroed). */
#define CALX__PREFAULT_BYTES ((size_t)1 << 20)

/* n elements of size bytes, all zero and written: a hash table's slots,
 * which a probe reads before anything writes them. calloc hands a large
 * table out as fresh pages that the kernel maps to its one shared zero
 * page on a first read; the first write after must copy that page and
 * flush the TLB of every CPU the process's threads ran on, an
 * inter-processor interrupt each (costly on a VM). Writing the zeroes
 * first makes each page one plain fault. Measured on SQLite B2 (100,000
 * objects loaded while the worker thread reads): the identity map's
 * tables cost 1,000 page faults more, and ten interleaved runs took 35.6
 * ms (median) against 31.7 ms. From CALX__PREFAULT_BYTES up, the pages
 * are first made present at once (MADV_POPULATE_WRITE, as core/blocks.c
 * does for its blocks): SQLite B2, interleaved, 1.42-1.44 M heroes/s
 * against 1.30-1.40 M faulting them in one by one. Owned by the caller
 * (free); NULL on no memory or when n * size overflows. */
static inline void *calx__array_zeroed(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
#ifdef MADV_POPULATE_WRITE
    if (bytes >= CALX__PREFAULT_BYTES) {
        char *p = malloc(bytes);
        if (!p)
            return NULL;
        /* The whole pages inside the block (a kernel before 5.14 refuses
         * the advice: the pages then fault in as the zeroes go in). */
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
        uintptr_t to = ((uintptr_t)p + bytes) & ~(page - 1);
        if (to > from)
            (void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
        __asm__("" : "+r"(p));
        memset(p, 0, bytes);
        return p;
    }
#endif
    return calx__alloc_zeroed(bytes);
}

#endif
