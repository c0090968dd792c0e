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

#include "core/present.h"

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
