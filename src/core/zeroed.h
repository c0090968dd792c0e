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

/* p (malloc's, size bytes, or NULL) with its bytes zeroed. */
static inline void *calx__zero_filled(void *p, size_t size)
{
    __asm__("" : "+r"(p));
    if (p)
        memset(p, 0, size);
    return p;
}

/* size bytes, all zero, owned by the caller (free); NULL on no memory. */
static inline void *calx__alloc_zeroed(size_t size)
{
    return calx__zero_filled(malloc(size), size);
}

/* Makes the whole pages inside [p, p + size) present and writable in one
 * system call (MADV_POPULATE_WRITE), rather than one fault a page as
 * they are first written: a fault is a trap into the kernel, which costs
 * several microseconds on a virtual machine whose page tables the host
 * manages (core/blocks.h has the measurements). A kernel before 5.14
 * refuses the advice, and the pages fault in as before. */
static inline void calx__prefault(void *p, size_t size)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t to = ((uintptr_t)p + size) & ~(page - 1);
    if (to > from)
        (void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)size;
#endif
}

/* Memory this large, about to be written in full, has its pages made
 * present in one call (calx__prefault) first: calx__alloc_present,
 * calx__array_zeroed, calx__grow_for. Smaller memory is usually malloc's
 * reused, already present; from here it is usually fresh (a flush
 * segment's bound values, 4,000 rows of five, are 480 KB). SQLite B1
 * (100,000 new heroes): 5,693 page faults a process -> 2,450 with the
 * flush's operations, its segments' values, the session's lists of new
 * objects and the identity map's order made present at once. */
#define CALX__PREFAULT_BYTES ((size_t)1 << 18)

/* Makes the pages of [p, p + size) present when size is at least
 * CALX__PREFAULT_BYTES: for memory the caller is about to write in full. */
static inline void calx__prefault_large(void *p, size_t size)
{
    if (p && size >= CALX__PREFAULT_BYTES)
        calx__prefault(p, size);
}

/* size bytes that the caller is about to write in full (malloc's; owned
 * by the caller, free), their pages made present at once when large
 * (calx__prefault_large); NULL on no memory. */
static inline void *calx__alloc_present(size_t size)
{
    void *p = malloc(size);
    calx__prefault_large(p, size);
    return p;
}

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
 * are first made present at once (calx__prefault, as core/blocks.c does
 * for its blocks): SQLite B2, interleaved, 1.42-1.44 M heroes/s
 * against 1.30-1.40 M faulting them in one by one. Owned by the caller
 * (free); NULL on no memory or when n * size overflows. */
static inline void *calx__array_zeroed(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return calx__zero_filled(calx__alloc_present(n * size), n * size);
}

#endif
