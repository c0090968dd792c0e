/* SPDX-License-Identifier: MIT */
/* Blocks (core/blocks.h): 2 MiB mappings, aligned to their size, carved by
 * bumping an offset. A block's first bytes count what in it is still
 * allocated, plus one while an allocator takes from it; the count reaching
 * zero unmaps it. Counting is atomic because an allocation may be freed on
 * another thread than the one that made it (an object the program took
 * from its session). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/blocks.h"
#include "core/sanitizers.h"
#include "core/thread_exit.h"
#include "core/present.h"

struct calx__block {
    atomic_size_t live;       /* allocations not freed, +1 while current */
};

/* Where allocations start: the counter on a cache line of its own. */
#define FIRST 64
#define ALIGN CALX_BLOCKS_ALIGN
/* AddressSanitizer builds: a poisoned zone before each allocation (it
 * holds the allocation's size, for poisoning it when freed). */
#ifdef CALX_ASAN
#define RED ALIGN
#else
#define RED 0
#endif

static atomic_size_t mapped;

size_t calx__blocks_mapped(void)
{
    return atomic_load_explicit(&mapped, memory_order_relaxed);
}

/* n rounded down and up to a multiple of CALX_BLOCK_SIZE. */
static uintptr_t block_floor(uintptr_t n)
{
    return n & ~(uintptr_t)(CALX_BLOCK_SIZE - 1);
}

static uintptr_t block_ceil(uintptr_t n)
{
    return block_floor(n + CALX_BLOCK_SIZE - 1);
}

static struct calx__block *block_of(const void *p)
{
    return (struct calx__block *)block_floor((uintptr_t)p);
}

/* size bytes (a multiple of CALX_BLOCK_SIZE) of zeroed memory aligned to
 * CALX_BLOCK_SIZE: more mapped and the ends trimmed (mmap promises only
 * page alignment), advised as a huge page and its pages made present at
 * once (calx__prefault): core/blocks.h says why. NULL on no memory. */
static char *map_aligned(size_t size)
{
    size_t span = size + CALX_BLOCK_SIZE;
    char *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    char *start = (char *)block_ceil((uintptr_t)map);
    if (start > map)
        munmap(map, (size_t)(start - map));
    if (start + size < map + span)
        munmap(start + size, (size_t)(map + span - (start + size)));
#ifdef MADV_HUGEPAGE
    (void)madvise(start, size, MADV_HUGEPAGE);   /* refused when THP is off */
#endif
    calx__prefault(start, size);
    return start;
}

/* A new block. */
static struct calx__block *block_new(void)
{
    size_t size = CALX_BLOCK_SIZE;
    char *start = map_aligned(size);
    if (!start)
        return NULL;
    struct calx__block *b = (struct calx__block *)start;
    atomic_init(&b->live, 1);
    atomic_fetch_add_explicit(&mapped, 1, memory_order_relaxed);
#ifdef CALX_ASAN
    ASAN_POISON_MEMORY_REGION(start + FIRST, size - FIRST);
#endif
#ifdef CALX_HAVE_VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(start + FIRST, size - FIRST);
#endif
    return b;
}

/* Drops one reference to b: an allocation freed, or its allocator moving
 * on. The last one unmaps it. */
static void block_release(struct calx__block *b)
{
    if (atomic_fetch_sub_explicit(&b->live, 1, memory_order_acq_rel) != 1)
        return;
    atomic_fetch_sub_explicit(&mapped, 1, memory_order_relaxed);
#ifdef CALX_ASAN
    ASAN_UNPOISON_MEMORY_REGION(b, CALX_BLOCK_SIZE);
#endif
    munmap(b, CALX_BLOCK_SIZE);
}

void *calx__blocks_alloc(calx__blocks *a, size_t n)
{
    if (n == 0 || n > CALX_BLOCK_MAX_ALLOC)
        return NULL;
    size_t take = RED + (n + ALIGN - 1) / ALIGN * ALIGN;
    if (!a->cur || a->used + take > CALX_BLOCK_SIZE) {
        struct calx__block *b = block_new();
        if (!b)
            return NULL;
        if (a->cur)
            block_release(a->cur);
        a->cur = b;
        a->used = FIRST;
    }
    char *p = (char *)a->cur + a->used + RED;
    a->used += take;
    atomic_fetch_add_explicit(&a->cur->live, 1, memory_order_relaxed);
#ifdef CALX_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p - RED, sizeof(size_t));
    *(size_t *)(p - RED) = n;
    ASAN_POISON_MEMORY_REGION(p - RED, sizeof(size_t));
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
#ifdef CALX_HAVE_VALGRIND
    VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0);
#endif
    return p;
}

void calx__blocks_free(void *p)
{
    if (!p)
        return;
#ifdef CALX_ASAN
    char *c = p;
    ASAN_UNPOISON_MEMORY_REGION(c - RED, sizeof(size_t));
    size_t n = *(size_t *)(c - RED);
    ASAN_POISON_MEMORY_REGION(c - RED, RED + n);
#endif
#ifdef CALX_HAVE_VALGRIND
    VALGRIND_FREELIKE_BLOCK(p, 0);
#endif
    block_release(block_of(p));
}

void calx__blocks_close(calx__blocks *a)
{
    if (!a)
        return;
    if (a->cur)
        block_release(a->cur);
    a->cur = NULL;
    a->used = 0;
}

/* ---- each thread's allocator ---- */

static _Thread_local calx__blocks thread_blocks;

/* At the thread's exit (core/thread_exit.h): its current block goes once
 * the allocations in it do. An allocation made after this (by a later
 * destructor) watches the thread again. */
void calx__blocks_thread_exit(void)
{
    calx__blocks_close(&thread_blocks);
}

calx__blocks *calx__blocks_of_thread(void)
{
    /* Unwatched, nothing would close the thread's last block. */
    return calx__thread_exit_watch() ? &thread_blocks : NULL;
}
