/* SPDX-License-Identifier: MIT */
/* Rowsets: a grid of values plus an arena for the bytes of their text and
 * blob values and of the column names. A driver fills one per statement
 * and the engine frees the whole chain at once, so nothing inside needs
 * freeing on its own. The column names may instead be a shared,
 * reference-counted set (calx_colnames): a statement run again and again
 * (a get by primary key) then copies no names per run. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calx/error.h"
#include "core/grow.h"
#include "core/spares.h"
#include "core/zeroed.h"
#include "driver/rowset.h"

/* A block of the arena. The head of the list is the one being filled;
 * values too big to share a block get one of their own, linked behind the
 * head so that the head's free space is not wasted. */
struct calx_chunk {
    calx_chunk *next;
    size_t used;
    size_t cap;
    char data[];
};

struct calx_held {
    calx_held *next;
    void *p;
    void (*release)(void *);
};

struct calx_colnames {
    atomic_size_t refs;
    size_t ncols;
    char *names[]; /* ncols pointers, then the texts, in the same block */
};

/* A rowset is one allocation of SMALL_BLOCK bytes: the struct (with an
 * unnamed rowset's name pointers), then room for its first rows (at most
 * half of what is left), then its first arena block (the rest). glibc
 * serves blocks that small from a per-thread cache, several times cheaper
 * to take and give back than bigger ones, and a one-row result (a get by
 * primary key, the commonest there is) then costs one allocation, not
 * three. Bigger results move their rows out and add arena blocks,
 * doubling from there. The own rows and block are never freed on their
 * own (own_rows, own_chunk); a merge therefore keeps a merged rowset whose
 * arena its values point into (spent) instead of moving the blocks. A
 * freed block is kept for the next rowset by the thread that frees it
 * (core/spares.h): a loop of gets run on the loop thread then allocates
 * none. */
#define SMALL_BLOCK 1024
#define CHUNK_FIRST (SMALL_BLOCK - sizeof(calx_chunk))
#define CHUNK_MAX (1024 * 1024)
/* Less room than this left for the own arena block (a very wide rowset's
 * name pointers): the struct is allocated alone. */
#define OWN_CHUNK_MIN 64

/* A zeroed rowset of ncols columns with names bytes after the struct
 * (its name pointers), and the own rows and block where they fit; NULL on
 * no memory. */
static calx_rowset *rowset_alloc(size_t ncols, size_t names)
{
    if (names > SIZE_MAX - sizeof(calx_rowset))
        return NULL;
    size_t head = sizeof(calx_rowset) + names;
    if (head > SMALL_BLOCK - sizeof(calx_chunk) - OWN_CHUNK_MIN) {
        calx_rowset *rs = calx__alloc_zeroed(head);
        if (rs)
            rs->ncols = ncols;
        return rs;
    }
    char *block = calx__thread_spare_take_raw(CALX__SPARE_ROWSET, SMALL_BLOCK);
    if (!block)
        return NULL;
    memset(block, 0, head);  /* the room is written before it is read */
    calx_rowset *rs = (calx_rowset *)block;
    rs->ncols = ncols;
    size_t room = SMALL_BLOCK - head - sizeof(calx_chunk);
    size_t row = (ncols ? ncols : 1) * sizeof(calx_value);
    size_t nrows = room / 2 / row;
    if (nrows) {
        rs->own_rows = rs->vals = (calx_value *)(block + head);
        rs->cap = nrows;
    }
    calx_chunk *ch = (calx_chunk *)(block + head + nrows * row);
    ch->next = NULL;
    ch->used = 0;
    ch->cap = room - nrows * row;
    rs->own_chunk = rs->arena = ch;
    return rs;
}

/* A new empty rowset, owned by the caller (calx__rowset_free); NULL on no
 * memory. */
calx_rowset *calx__rowset_new(size_t ncols)
{
    /* The name pointers live in the same block as the struct: nothing to
     * free separately. */
    if (ncols > (SIZE_MAX - sizeof(calx_rowset)) / sizeof(char *))
        return NULL;
    calx_rowset *rs = rowset_alloc(ncols, ncols * sizeof(char *));
    if (!rs)
        return NULL;
    rs->colnames = (char **)(rs + 1);
    rs->rowcount = -1;
    return rs;
}

/* A new empty rowset sharing names (one more reference to them), owned
 * by the caller (calx__rowset_free); NULL on no memory. */
calx_rowset *calx__rowset_new_named(calx_colnames *names)
{
    calx_rowset *rs = rowset_alloc(names->ncols, 0);
    if (!rs)
        return NULL;
    atomic_fetch_add_explicit(&names->refs, 1, memory_order_relaxed);
    rs->ncols = names->ncols;
    rs->colnames = names->names;
    rs->names = names;
    rs->rowcount = -1;
    return rs;
}

/* rs (no rows yet) takes names's columns; a reference taken, the old
 * names' dropped. */
void calx__rowset_set_names(calx_rowset *rs, calx_colnames *names)
{
    atomic_fetch_add_explicit(&names->refs, 1, memory_order_relaxed);
    calx__colnames_release(rs->names);
    /* Room for rows of the old width is no room for the new: the own
     * rows' room (it ends where the own block begins) is measured again. */
    if (rs->vals != rs->own_rows)
        free(rs->vals);
    rs->vals = rs->own_rows;
    rs->cap = rs->own_rows ? (size_t)((char *)rs->own_chunk - (char *)rs->own_rows) /
                                 ((names->ncols ? names->ncols : 1) * sizeof(calx_value))
                           : 0;
    rs->ncols = names->ncols;
    rs->colnames = names->names;
    rs->names = names;
}

/* Names in one block, its one reference the caller's; NULL on no memory
 * or a NULL name. */
calx_colnames *calx__colnames_new(size_t ncols, const char *(*name)(void *ctx, size_t i),
                                  void *ctx)
{
    if (ncols > (SIZE_MAX - sizeof(calx_colnames)) / sizeof(char *))
        return NULL;
    size_t bytes = sizeof(calx_colnames) + ncols * sizeof(char *);
    for (size_t i = 0; i < ncols; i++) {
        const char *n = name(ctx, i);
        if (!n)
            return NULL;
        size_t len = strlen(n) + 1;
        if (len > SIZE_MAX - bytes)
            return NULL;
        bytes += len;
    }
    calx_colnames *cn = malloc(bytes);
    if (!cn)
        return NULL;
    atomic_init(&cn->refs, 1);
    cn->ncols = ncols;
    char *at = (char *)(cn->names + ncols), *end = (char *)cn + bytes;
    for (size_t i = 0; i < ncols; i++) {
        const char *n = name(ctx, i);
        size_t len = n ? strlen(n) + 1 : 0;
        if (!n || len > (size_t)(end - at)) {
            free(cn);  /* the text changed between the two calls */
            return NULL;
        }
        memcpy(at, n, len);
        cn->names[i] = at;
        at += len;
    }
    return cn;
}

/* Drops one reference; the last one frees. NULL is a no-op. */
void calx__colnames_release(calx_colnames *names)
{
    if (names && atomic_fetch_sub_explicit(&names->refs, 1, memory_order_acq_rel) == 1)
        free(names);
}

/* Frees the arena blocks from ch on, all but rs's own. */
static void chunks_free(const calx_rowset *rs, calx_chunk *ch)
{
    while (ch) {
        calx_chunk *next = ch->next;
        if (ch != rs->own_chunk)
            free(ch);
        ch = next;
    }
}

/* Moves rs's rows to a heap block of cap rows (from the own rows by a
 * copy); 0, or CALX_ERR_NOMEM with rs as it was. */
static int rows_resize(calx_rowset *rs, size_t cap)
{
    size_t width = rs->ncols ? rs->ncols : 1;
    if (cap > SIZE_MAX / width / sizeof(calx_value))
        return CALX_ERR_NOMEM;
    calx_value *vals;
    if (rs->own_rows && rs->vals == rs->own_rows) {
        vals = malloc(cap * width * sizeof(calx_value));
        if (vals && rs->nrows)
            memcpy(vals, rs->vals, rs->nrows * width * sizeof(calx_value));
    } else {
        vals = realloc(rs->vals, cap * width * sizeof(calx_value));
    }
    if (!vals)
        return CALX_ERR_NOMEM;
    rs->vals = vals;
    rs->cap = cap;
    return 0;
}

/* Room for n bytes in the arena; NULL on no memory. */
static char *arena_alloc(calx_rowset *rs, size_t n)
{
    calx_chunk *head = rs->arena;
    if (head && head->cap - head->used >= n) {
        char *p = head->data + head->used;
        head->used += n;
        return p;
    }
    size_t size = head ? head->cap * 2 : CHUNK_FIRST;
    if (size > CHUNK_MAX)
        size = CHUNK_MAX;
    bool own = n > size / 4;
    if (own)
        size = n;
    if (size > SIZE_MAX - sizeof(calx_chunk))
        return NULL;
    calx_chunk *ch = malloc(sizeof *ch + size);
    if (!ch)
        return NULL;
    ch->cap = size;
    ch->used = n;
    if (own && head) {
        ch->next = head->next;
        head->next = ch;
    } else {
        ch->next = head;
        rs->arena = ch;
    }
    return ch->data;
}

/* n bytes of p, NUL-terminated, in rs's arena (owned by rs); NULL on no
 * memory. p may be NULL when n is 0. */
const char *calx__rowset_copy(calx_rowset *rs, const void *p, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *dst = arena_alloc(rs, n + 1);
    if (!dst)
        return NULL;
    if (n)
        memcpy(dst, p, n);
    dst[n] = '\0';
    return dst;
}

/* n writable bytes in rs's arena (owned by rs), followed by a NUL; NULL
 * on no memory. */
char *calx__rowset_alloc(calx_rowset *rs, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *dst = arena_alloc(rs, n + 1);
    if (dst)
        dst[n] = '\0';
    return dst;
}

/* n elements of size bytes aligned to align in rs's arena; NULL on no
 * memory. */
static void *arena_alloc_aligned(calx_rowset *rs, size_t n, size_t size, size_t align)
{
    if (n > (SIZE_MAX - 2 * align) / size)
        return NULL;
    char *room = calx__rowset_alloc(rs, n * size + align - 1);
    if (!room)
        return NULL;
    return (void *)(((uintptr_t)room + align - 1) & ~(uintptr_t)(align - 1));
}

calx_value *calx__rowset_alloc_values(calx_rowset *rs, size_t n)
{
    return arena_alloc_aligned(rs, n, sizeof(calx_value), _Alignof(calx_value));
}

void *calx__rowset_room(calx_rowset *rs, size_t size)
{
    calx_chunk *head = rs->arena;
    if (!head)
        return NULL;
    const size_t align = _Alignof(max_align_t);
    uintptr_t at = (uintptr_t)(head->data + head->used);
    size_t pad = (align - at % align) % align, left = head->cap - head->used;
    if (left < pad || left - pad < size)
        return NULL;
    head->used += pad + size;
    return (void *)(at + pad);
}

/* Copies name into the arena as column i's; 0 or CALX_ERR_NOMEM. */
int calx__rowset_set_colname(calx_rowset *rs, size_t i, const char *name)
{
    const char *copy = calx__rowset_copy(rs, name, strlen(name));
    if (!copy)
        return CALX_ERR_NOMEM;
    rs->colnames[i] = (char *)copy;
    return 0;
}

int calx__rowset_reserve(calx_rowset *rs, size_t nrows)
{
    return nrows > rs->cap ? rows_resize(rs, nrows) : 0;
}

/* A new row of NULLs at the end, to be filled; valid until the next
 * append. NULL on no memory (rs unchanged). */
calx_value *calx__rowset_add_row(calx_rowset *rs)
{
    /* A zero-column row still needs an address to hand back. */
    size_t width = rs->ncols ? rs->ncols : 1;
    if (rs->nrows == rs->cap) {
        size_t first = SMALL_BLOCK / (width * sizeof(calx_value));
        size_t cap = rs->cap ? rs->cap * 2 : first ? first : 1;
        if (cap < rs->cap || rows_resize(rs, cap) != 0)
            return NULL;
    }
    calx_value *row = rs->vals + rs->nrows * width;
    memset(row, 0, width * sizeof *row);
    rs->nrows++;
    return row;
}

int calx__rowset_hold(calx_rowset *rs, void *p, void (*release)(void *))
{
    /* In the arena, whose first block is in the rowset's own allocation:
     * a PostgreSQL rowset holds a result of every query. */
    calx_held *h = arena_alloc_aligned(rs, 1, sizeof *h, _Alignof(calx_held));
    if (!h)
        return CALX_ERR_NOMEM;
    *h = (calx_held){ rs->held, p, release };
    rs->held = h;
    return 0;
}

static void release_held(calx_rowset *rs)
{
    while (rs->held) {
        calx_held *h = rs->held;
        rs->held = h->next;
        h->release(h->p);  /* h is in the arena, freed with it */
    }
}

/* Drops the rows and the bytes they used, keeping the columns. */
void calx__rowset_clear_rows(calx_rowset *rs)
{
    rs->nrows = 0;
    release_held(rs);
    /* The old rows' bytes share the arena with the column names: move the
     * names to a fresh arena and drop the old one whole. Short of memory,
     * keep the old arena; the rows are gone either way. */
    calx_chunk *old = rs->arena;
    if (!old)
        return;
    rs->arena = NULL;
    if (rs->names) {
        chunks_free(rs, old);  /* the names live elsewhere */
        if (rs->own_chunk) {
            rs->own_chunk->next = NULL;
            rs->own_chunk->used = 0;
            rs->arena = rs->own_chunk;
        }
        return;
    }
    char **names = rs->colnames;
    size_t i;
    for (i = 0; i < rs->ncols; i++) {
        if (!names[i])
            continue;
        const char *copy = calx__rowset_copy(rs, names[i], strlen(names[i]));
        if (!copy)
            break;
        names[i] = (char *)copy;
    }
    if (i < rs->ncols) {
        /* Names before i now point into the new arena: keep both. */
        calx_chunk *tail = old;
        while (tail->next)
            tail = tail->next;
        tail->next = rs->arena;
        rs->arena = old;
        return;
    }
    chunks_free(rs, old);  /* the own block stays unused from now on */
}

/* Whether one of rs's column names lives in ch. */
static bool names_in(const calx_rowset *rs, const calx_chunk *ch)
{
    for (size_t i = 0; !rs->names && i < rs->ncols; i++)
        if (rs->colnames[i] >= ch->data && rs->colnames[i] < ch->data + ch->cap)
            return true;
    return false;
}

void calx__rowset_refill(calx_rowset *rs)
{
    calx__rowset_free(rs->next);
    calx__rowset_free(rs->spent);
    rs->next = rs->spent = NULL;
    /* The newest arena block is the largest: kept, emptied, for the next
     * rows' bytes (unless a name lives in it); the rest go. */
    calx_chunk *keep = rs->arena;
    if (keep && (keep == rs->own_chunk || names_in(rs, keep)))
        keep = NULL;
    if (keep)
        rs->arena = keep->next;
    calx__rowset_clear_rows(rs);
    if (keep) {
        keep->used = 0;
        keep->next = rs->arena;
        rs->arena = keep;
    }
    rs->more = false;
    rs->rowcount = -1;
    rs->lastrowid = 0;
}

int calx__rowset_merge(calx_rowset *rs)
{
    if (!rs || !rs->next)
        return 0;
    /* Room for every row first, so that running out of memory leaves the
     * chain untouched. */
    size_t width = rs->ncols ? rs->ncols : 1, total = rs->nrows;
    for (calx_rowset *n = rs->next; n; n = n->next)
        if (n->ncols == rs->ncols)
            total += n->nrows;
    if (total > rs->cap && rows_resize(rs, total) != 0)
        return CALX_ERR_NOMEM;
    while (rs->next) {
        calx_rowset *n = rs->next;
        rs->next = n->next;
        n->next = NULL;
        bool moved = n->ncols == rs->ncols && n->nrows;
        if (moved) {
            memcpy(rs->vals + rs->nrows * width, n->vals, n->nrows * width * sizeof(calx_value));
            rs->nrows += n->nrows;
        }
        if (n->rowcount >= 0)
            rs->rowcount = (rs->rowcount < 0 ? 0 : rs->rowcount) + n->rowcount;
        rs->lastrowid = n->lastrowid;
        if (!moved) {
            calx__rowset_free(n);
            continue;
        }
        /* The moved values point into n's arena (or results it holds),
         * and its own block is part of n's allocation: n stays, its rows
         * and names dropped, until rs is freed. */
        if (n->vals != n->own_rows)
            free(n->vals);
        n->vals = NULL;
        n->nrows = n->cap = 0;
        calx__colnames_release(n->names);
        n->names = NULL;
        n->next = rs->spent;
        rs->spent = n;
    }
    return 0;
}

/* Frees rs and the rest of its chain. NULL is a no-op. */
void calx__rowset_free(calx_rowset *rs)
{
    while (rs) {
        calx_rowset *next = rs->next;
        calx__rowset_free(rs->spent);
        release_held(rs);
        chunks_free(rs, rs->arena);
        calx__colnames_release(rs->names);
        if (rs->vals != rs->own_rows)
            free(rs->vals);
        if (rs->own_chunk)
            calx__thread_spare_give(CALX__SPARE_ROWSET, rs, SMALL_BLOCK);
        else
            free(rs);  /* allocated alone (rowset_alloc) */
        rs = next;
    }
}
