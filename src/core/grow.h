/* SPDX-License-Identifier: MIT */
/* Growing an array: the one helper for "make room for one more" (Lua's
 * luaM_growvector), so that every growable array in calx doubles the same
 * way and fails the same way. */
#ifndef CALX_CORE_GROW_H
#define CALX_CORE_GROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/present.h"

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

/* Room for n elements after the first have of *items, all of which the
 * caller is about to write (a reservation before a known number of
 * pushes): calx__grow, then those elements' pages made present at once
 * when they are large (calx__prefault_large), not faulted in one by one
 * as the pushes reach them. */
static inline bool calx__grow_for(void *items, size_t *cap, size_t have, size_t n, size_t elem)
{
    if (n > SIZE_MAX - have || !calx__grow(items, cap, have + n, elem))
        return false;
    calx__prefault_slice(*(void **)items, have, n, elem);
    return true;
}

/* As calx__grow, for an array that starts in room: its owner's own
 * storage (in a struct, on the stack) of *cap elements, *items pointing
 * at it. Growing past it moves the elements to the heap; the owner frees
 * the array with calx__room_free, which leaves room alone. For the arrays
 * most uses keep small (a commit of one object), which then allocate
 * nothing. */
static inline bool calx__grow_room(void *items, size_t *cap, size_t need, size_t elem,
                                   const void *room)
{
    if (need <= *cap)
        return true;
    void **p = items;
    if (*p != room)
        return calx__grow(items, cap, need, elem);
    void *heap = NULL;
    size_t n = 0;
    if (!calx__grow(&heap, &n, need, elem))
        return false;
    memcpy(heap, room, *cap * elem);
    *p = heap;
    *cap = n;
    return true;
}

/* Frees an array calx__grow_room grew: nothing when it is still room. */
static inline void calx__room_free(void *array, const void *room)
{
    if (array != room)
        free(array);
}

#endif
