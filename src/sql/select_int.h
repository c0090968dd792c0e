/* SPDX-License-Identifier: MIT */
/* The insides of a select, shared by its builder (select.c), the FROM
 * items built on selects (from.c), the subquery expressions (expr.c) and
 * the compiler (compile_select.c). */
#ifndef CALX_SQL_SELECT_INT_H
#define CALX_SQL_SELECT_INT_H

#include "sql/expr_int.h"
#include "sql/from_int.h"

typedef struct calx_order_term {
    calx_expr *e;
    calx_order dir;              /* CALX_ASC / CALX_DESC | CALX_NULLS_* */
} calx_order_term;

/* A compound select's operator; NONE for a plain select. */
typedef enum calx__setop {
    CALX__SET_NONE = 0,
    CALX__SET_UNION,
    CALX__SET_UNION_ALL,
    CALX__SET_INTERSECT,
    CALX__SET_EXCEPT
} calx__setop;

/* One JOIN of an explicit FROM entry: "<kind> right ON on". */
typedef struct calx__join_step {
    calx__fromref right;
    calx_expr *on;               /* owned: given, or made from the foreign key */
    calx_join_kind kind;
} calx__join_step;

/* An item given to FROM (calx_select_from, or the left side a join found)
 * and the joins made on it, left to right: "base JOIN a ON .. JOIN b ON
 * ..". Its members are base and each step's right. */
typedef struct calx__from_entry {
    calx__fromref base;
    calx__join_step *steps;
    size_t nsteps, steps_cap;
} calx__from_entry;

/* An entity of the columns clause (select(Hero, Team)): every column of
 * the table t (or of an alias of it), cols[first .. first + n) in the
 * table's order. */
typedef struct calx__entity_span {
    const calx_table *t;
    size_t first, n;
} calx__entity_span;

struct calx_select {
    calx__setop op;              /* NONE: a plain select; else parts */
    calx_select **parts;         /* a compound's members, owned (two or more) */
    size_t nparts, parts_cap;

    /* ---- a plain select ---- */
    calx_expr **cols;            /* the columns clause, owned */
    size_t ncols, cols_cap;
    const calx_table *entity;    /* calx_select_table: the table whose every
                                    column starts the columns clause */
    calx__entity_span *spans;    /* the entities among cols, in order (the ORM
                                    makes an object of each) */
    size_t nspans, spans_cap;
    calx__from_entry *from;      /* explicit FROM entries, in order */
    size_t nfrom, from_cap;
    calx_expr *where;            /* the where()s ANDed, or NULL */
    calx_expr **group;
    size_t ngroup, group_cap;
    calx_expr *having;           /* the having()s ANDed, or NULL */
    bool distinct;

    /* ---- both ---- */
    calx_order_term *order;
    size_t norder, order_cap;
    bool has_limit, has_offset;
    calx_value limit, offset;    /* bound from here: compiled params point at q */
    bool failed;
    calx_error err;              /* the first error, when failed */
    const calx_select *base;     /* calx__select_extend's: what it borrows from */
};

/* ---- in select.c ---- */

/* A select that is q plus what is added to it, for a caller that may not
 * change q (the ORM's joinedload: q's LEFT OUTER JOINs and columns of the
 * aliases it loads). It borrows q's expressions, which q keeps owning, and
 * has arrays of its own for its columns, entities, FROM entries and joins
 * and ORDER BY; only those may be added to it (calx_select_add_entity*,
 * _add_column, _join*, _order_by, _limit / _offset); where, group_by and
 * having would change what it shares with q, and are a sticky
 * CALX_ERR_ARGUMENT. q must outlive it; calx_select_free frees only what
 * it owns. A compound q is a failed select (join the compound as a
 * subquery). NULL only when out of memory. */
calx_select *calx__select_extend(const calx_select *q);

enum { CALX__FROMLIST_INLINE = 8 };    /* most selects name fewer items */

/* A list of FROM items, each once (calx__fromref_eq), in place until it
 * outgrows its inline room (a select compiled for every ORM load should
 * not call malloc for it). oom: an add failed. Start it with
 * calx__fromlist_init, end it with calx__fromlist_free; it must not move
 * in between. */
typedef struct calx__fromlist {
    calx__fromref *items;
    size_t n, cap;
    bool oom;
    calx__fromref inl[CALX__FROMLIST_INLINE];
} calx__fromlist;

static inline void calx__fromlist_init(calx__fromlist *l)
{
    l->items = l->inl;
    l->n = 0;
    l->cap = CALX__FROMLIST_INLINE;
    l->oom = false;
}

void calx__fromlist_free(calx__fromlist *l);

/* Adds r unless l has it. */
void calx__fromlist_add(calx__fromlist *l, calx__fromref r);

/* True when l has r. */
bool calx__fromlist_has(const calx__fromlist *l, calx__fromref r);

/* Adds the FROM items e's columns belong to, in the order they appear;
 * not those of the selects of subqueries in e. */
void calx__expr_froms(const calx_expr *e, calx__fromlist *l);

/* Member k of entry: its base (k 0), then each join's right. */
static inline calx__fromref calx__entry_member(const calx__from_entry *en, size_t k)
{
    return k ? en->steps[k - 1].right : en->base;
}

/* The select whose columns a select shows: q, or a compound's first
 * plain member. */
const calx_select *calx__select_first(const calx_select *q);

/* The number of columns q has (a compound: its first member's). */
size_t calx__select_ncols(const calx_select *q);

/* q's i-th column expression (a compound: its first member's). */
const calx_expr *calx__select_col(const calx_select *q, size_t i);

/* The name a column has in a columns clause, under SQLAlchemy's rules: a
 * column's name; a label's; an earlier column's name again gives an
 * anonymous name (name_N, or name__N for the very same column), as does
 * any other expression (count_N for a function, anon_N otherwise). The
 * numbers are given per statement when it compiles (the compiler's anon
 * names), so an anonymous name is its key and base here. */
typedef struct calx__colname {
    const char *base;            /* the name, or an anonymous name's base */
    const void *key;             /* non-NULL: anonymous, named by (key, base) */
    bool dedupe;                 /* anonymous: base "_" N (the same column again) */
    bool label;                  /* the columns clause writes "expr AS name" */
} calx__colname;

/* q's i-th entity (i < *n, the number of them, which is set whatever i):
 * NULL past the last, and for a compound (the first select's). */
const calx__entity_span *calx__select_entity(const calx_select *q, size_t i, size_t *n);

/* The name of q's i-th column (i < calx__select_ncols(q)). asfrom: q is a
 * subquery or CTE body, where every column is labelled. */
void calx__select_colname(const calx_select *q, size_t i, bool asfrom, calx__colname *out);

#endif
