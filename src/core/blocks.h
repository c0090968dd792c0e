/* SPDX-License-Identifier: MIT */
/* Blocks: memory for many small allocations made one after another on one
 * thread and freed one by one, from any thread, in any order: the objects
 * a session loads from a large result.
 *
 * Why not malloc: a large load makes 100,000 objects one after another,
 * and malloc spends a call, a header and a lock of its arena on each.
 * Allocation from a block is a bump of an offset; each block counts its
 * live allocations and goes back to the system when the last is freed and
 * its allocator has moved on. A block is 2 MiB and aligned to its size, so
 * the block of an allocation is found from its address, and allocations
 * carry no header.
 *
 * A new block is advised as a transparent huge page (MADV_HUGEPAGE) and
 * its pages made present in one system call (MADV_POPULATE_WRITE), not
 * faulted in one by one as objects reach them. Fresh memory is most of a
 * large load's cost on the virtual machines this was measured on, and
 * what it costs depends on the host. On the bench machine of 2026-12-04
 * from 15:00 (kernel build fc-v1272, a PVM guest whose host shadows its
 * page tables), writing 32 MiB of fresh memory (a C program, three runs
 * each, after two idle seconds / back to back) took 87-124 / 86-113 ms
 * in 4 KiB pages, 47-49 / 58-64 ms with them made present first (the
 * host still takes each page on its first write), 27-63 / 3 ms advised
 * as huge pages, 11-26 / 2.7 ms advised and made present; SQLite B2,
 * interleaved with raw C: 0.92 M heroes/s (made present, no advice)
 * against 1.16 M (both) after two idle seconds, 0.86 M against 1.43 M
 * back to back (raw C 1.22 M and 1.40 M); B1 228 k against 245 k. On the
 * machine of that morning (fc-v1098) the advice had lost after a pause:
 * its host took back free memory in 2 MiB pieces, 4 KiB pages cost 15-22
 * ms for the 32 MiB, huge pages 44-94 ms after two idle seconds (4-5 ms
 * back to back), and B2 ran 0.51x-0.61x raw C's speed advised against
 * 0.82x-0.84x (the seventeenth session's block of bench/README.md); blocks
 * went unadvised from then until the afternoon's machine was measured. A
 * block is only taken for allocations in bulk, which fill it, so a huge
 * page wastes none of it; the kernel's THP setting still decides ("never"
 * refuses the advice, and a kernel before 5.14 the population).
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

/* A block's size and alignment: a transparent huge page's on x86-64 and
 * arm64 with 4 KiB pages, so that a kernel set to THP "always" can back a
 * block with one. */
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

/* Blocks mapped now by the whole process (tests: freeing the last
 * allocation of a closed allocator's block unmaps it). */
size_t calx__blocks_mapped(void);

#endif
