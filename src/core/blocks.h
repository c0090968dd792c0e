/* SPDX-License-Identifier: MIT */
/* Blocks: memory for many small allocations made one after another on one
 * thread and freed one by one, from any thread, in any order: the objects
 * a session loads from a large result.
 *
 * Why not malloc: every page a process touches for the first time costs a
 * page fault, several microseconds on a virtual machine, and loading
 * 100,000 rows into objects touches thousands of pages. A block is 2 MiB,
 * aligned to 2 MiB and advised as a transparent huge page, so the kernel
 * can back it with one page and one fault (where THP is enabled, as in
 * "always" or "madvise" mode; elsewhere a block is ordinary pages and costs
 * what malloc would). Allocation is a bump of an offset; each block counts
 * its live allocations and goes back to the system when the last is freed
 * and its allocator has moved on. The block of an allocation is found from
 * its address (the block's alignment), so allocations carry no header.
 *
 * The cost: a block stays mapped while any allocation in it lives, so a
 * program that keeps one object of a large load keeps its 2 MiB. Callers
 * use blocks only for allocations that come in bulk (the session switches
 * to them once it has loaded a block's worth).
 *
 * Under AddressSanitizer each allocation has a poisoned red zone before
 * it (so one overflowing its end meets the next one's) and a freed one is
 * poisoned; under valgrind each is reported as a heap block of its own
 * (leaks, use after free). */
#ifndef CALX_CORE_BLOCKS_H
#define CALX_CORE_BLOCKS_H

#include <stddef.h>

/* A block's size and alignment: a transparent huge page on x86-64 and
 * arm64 with 4 KiB pages. */
#define CALX_BLOCK_SIZE ((size_t)2 << 20)
/* The largest allocation blocks serve; calx__blocks_alloc refuses larger
 * (so a block is never mostly wasted by its last allocation). */
#define CALX_BLOCK_MAX_ALLOC (CALX_BLOCK_SIZE / 16)
/* What blocks align an allocation to: a pointer's, a 64-bit word's and a
 * double's alignment, all that objects and their relationship states hold;
 * not malloc's 16, which would round a 200-byte object up to 208. */
#define CALX_BLOCKS_ALIGN 8

struct calx__block;

/* One thread's allocator; zero it to start. Not thread-safe: one thread
 * allocates from it at a time (calx__blocks_free may run anywhere). */
typedef struct calx__blocks {
    struct calx__block *cur;  /* the block allocations come from; NULL: none yet */
    size_t used;              /* bytes of cur taken */
} calx__blocks;

/* n bytes (n > 0), aligned to CALX_BLOCKS_ALIGN, from a's current block,
 * which is replaced by a new one when full. Owned by the caller, freed with
 * calx__blocks_free (never free()). Contents undefined. NULL when n is
 * larger than CALX_BLOCK_MAX_ALLOC or the system has no memory (the caller
 * falls back to malloc or reports it). */
void *calx__blocks_alloc(calx__blocks *a, size_t n);

/* Frees p, which calx__blocks_alloc returned; from any thread. NULL is a
 * no-op. */
void calx__blocks_free(void *p);

/* a is done allocating: its current block is returned to the system once
 * its live allocations are freed. a is zeroed and may be used again. NULL
 * is a no-op. */
void calx__blocks_close(calx__blocks *a);

/* The calling thread's own allocator, closed when the thread exits (its
 * last block then goes with its last allocation): for allocations that
 * belong to no session (objects the program constructs). Never close it
 * by hand. NULL when the thread cannot be registered for its exit (the
 * caller uses malloc). */
calx__blocks *calx__blocks_of_thread(void);
/* size bytes of zeroed memory for one large array (an identity map's
 * table): calloc's below CALX_BLOCK_SIZE, else a mapping aligned and
 * advised as huge pages, as a block is. Owned by the caller, freed with
 * calx__pages_free and the same size. NULL on no memory (or size 0). */
void *calx__pages_alloc(size_t size);

/* Frees p (calx__pages_alloc's, of size bytes). NULL is a no-op. */
void calx__pages_free(void *p, size_t size);

/* Arrays of this many bytes or more are advised as huge pages
 * (calx__malloc_large, calx__grow_huge). */
#define CALX_HUGE_ARRAY CALX_BLOCK_SIZE

/* malloc(size), and when size is CALX_HUGE_ARRAY or more, aligned to
 * CALX_BLOCK_SIZE and advised as huge pages up to the next multiple of it
 * (so no stretch at either end faults in 4 KiB pages): for arrays of one
 * allocation that large loads and flushes fill (a batch's bound values).
 * Owned by the caller, freed with free(). NULL on no memory. */
void *calx__malloc_large(size_t size);

/* realloc(old, size) for a large array (core/grow.h): a new block from
 * calx__malloc_large, old's first old_size bytes copied in, old freed.
 * Why not realloc: glibc grows a large block by mremap, and the pages a
 * grown array then touches fault in 4 KiB at a time (a flush of 100,000
 * rows binds into arrays of tens of MiB); advice given after an mremap did
 * not take (measured). NULL on no memory, old untouched. */
void *calx__grow_huge(void *old, size_t old_size, size_t size);

/* Blocks mapped now by the whole process (tests: freeing the last
 * allocation of a closed allocator's block unmaps it). */
size_t calx__blocks_mapped(void);

#endif
