/* SPDX-License-Identifier: MIT */
/* Zeroed allocation for what is allocated once per statement (a future, a
 * result, a rowset, an operation). glibc's calloc (2.36, Debian 12) does
 * not take blocks from its per-thread cache as malloc does, and costs
 * about four times malloc plus the memset for a small struct (callgrind:
 * some 180 instructions against 40 and a few); a get by primary key made
 * four such blocks. calloc stays right for arrays (its overflow check).
 * GCC and clang turn malloc followed by memset back into calloc: the
 * empty asm between them hides that the block is malloc's. */
#ifndef CALX_CORE_ZEROED_H
#define CALX_CORE_ZEROED_H

#include <stdlib.h>
#include <string.h>

/* size bytes, all zero, owned by the caller (free); NULL on no memory. */
static inline void *calx__alloc_zeroed(size_t size)
{
    void *p = malloc(size);
    __asm__("" : "+r"(p));
    if (p)
        memset(p, 0, size);
    return p;
}

#endif
