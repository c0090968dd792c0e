/* SPDX-License-Identifier: MIT */
/* Growing an array: the one helper for "make room for one more" (Lua's
 * luaM_growvector), so that every growable array in calx doubles the same
 * way and fails the same way. */
#ifndef CALX_CORE_GROW_H
#define CALX_CORE_GROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for at least need elements of size elem in *items (capacity
 * *cap, doubled from 4). True when there is room; false when memory ran
 * out, with *items and *cap unchanged. items is a pointer to the array
 * pointer (void ** in spirit: pass &array). */
static inline bool calx__grow(void *items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 4;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem)
        return false;
    void **p = items;
    void *grown = realloc(*p, n * elem);
    if (!grown)
        return false;
    *p = grown;
    *cap = n;
    return true;
}

#endif
