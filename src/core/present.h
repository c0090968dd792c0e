/* SPDX-License-Identifier: MIT */
/* Making memory present before calx writes it: its pages mapped in one
 * system call (MADV_POPULATE_WRITE) instead of one fault a page as the
 * writes reach them. For memory calx knows it is about to fill: a block
 * (core/blocks.c), a large zeroed table (core/zeroed.h), room reserved
 * for a known count (core/grow.h's calx__grow_for), a batch's bound
 * values. */
#ifndef CALX_CORE_PRESENT_H
#define CALX_CORE_PRESENT_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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
 * calx__array_zeroed (core/zeroed.h), calx__grow_for (core/grow.h).
 * Smaller memory is usually malloc's reused, already present; from here it is usually fresh (a flush
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

/* calx__prefault_large for elements [first, first + n) of array (elements
 * of elem bytes; array may be NULL when n is 0: nothing to do then) --
 * room just reserved for n pushes. */
static inline void calx__prefault_slice(void *array, size_t first, size_t n, size_t elem)
{
    if (array && n)
        calx__prefault_large((char *)array + first * elem, n * elem);
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

#endif
