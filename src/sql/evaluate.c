/* SPDX-License-Identifier: MIT */
/* Evaluating an expression in memory, over one row of one table's values:
 * what the ORM's synchronize_session "evaluate" needs to tell which of the
 * objects it holds an UPDATE or DELETE matched, and what the UPDATE set
 * them to, without asking the database (SQLAlchemy's orm/evaluator.py).
 *
 * It evaluates only what it can evaluate exactly as both databases do:
 * columns of the table, literals, = and != on any type, < <= > >= on
 * numbers and booleans, + - * on numbers (integers checked for overflow),
 * IS [NOT] NULL, IS [NOT] DISTINCT FROM, IN lists, AND, OR and NOT, with SQL's three-valued logic
 * (a comparison with NULL is unknown, and unknown never matches). Text
 * ordering (the database's collation decides), LIKE (case rules differ
 * between databases), division (each dialect divides its own way),
 * functions, subqueries and anything else are refused, so that the caller
 * falls back to asking the database: a wrong guess here would leave
 * objects in memory that disagree with their rows. */
#include <string.h>

#include "sql/evaluate.h"
#include "sql/expr_int.h"

/* SQL NULL, and the "cannot" answer. */
#define UNKNOWN 1
#define CANNOT (-1)

static int eval(const calx_expr *e, const calx_table *t, const calx_value *row,
                calx_value *out);

static bool numeric(const calx_value *v)
{
    return v->type == CALX_INT || v->type == CALX_REAL || v->type == CALX_BOOL;
}

static double as_real(const calx_value *v)
{
    return v->type == CALX_REAL ? v->u.d : v->type == CALX_BOOL ? (double)v->u.b : (double)v->u.i;
}

static bool same_bytes(const calx_value *a, const calx_value *b)
{
    return a->u.s.len == b->u.s.len && (a->u.s.len == 0 || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
}

/* a compared with b: -1, 0, 1 in *cmp; CANNOT for an order the database
 * may see differently (text and blobs other than equality). */
static int compare(const calx_value *a, const calx_value *b, bool equality_only, int *cmp)
{
    if (numeric(a) && numeric(b)) {
        if (a->type != CALX_REAL && b->type != CALX_REAL) {
            int64_t x = a->type == CALX_BOOL ? a->u.b : a->u.i;
            int64_t y = b->type == CALX_BOOL ? b->u.b : b->u.i;
            *cmp = x < y ? -1 : x > y;
            return 0;
        }
        double x = as_real(a), y = as_real(b);
        *cmp = x < y ? -1 : x > y;
        return 0;
    }
    if (a->type == b->type && (a->type == CALX_TEXT || a->type == CALX_BLOB) && equality_only) {
        *cmp = same_bytes(a, b) ? 0 : 1;
        return 0;
    }
    /* The richer types order the same everywhere: by time, by value, and
     * a UUID by its bytes (PostgreSQL's order, and SQLite's hex text's). */
    if (a->type != b->type)
        return CANNOT;
    switch (a->type) {
    case CALX_DATE:
    case CALX_TIME:
    case CALX_DATETIME:
    case CALX_TIMESTAMP:
        *cmp = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        return 0;
    case CALX_DECIMAL:
        *cmp = calx_decimal_cmp(calx_value_get_decimal(a), calx_value_get_decimal(b));
        return 0;
    case CALX_UUID:
        *cmp = calx_uuid_cmp(a->u.uuid, b->u.uuid);
        return 0;
    default:
        return CANNOT;
    }
}

static int arithmetic(calx_opcode op, const calx_value *a, const calx_value *b, calx_value *out)
{
    if (!numeric(a) || !numeric(b))
        return CANNOT;
    if (a->type == CALX_REAL || b->type == CALX_REAL) {
        double x = as_real(a), y = as_real(b);
        *out = calx_real(op == CALX_OP_ADD ? x + y : op == CALX_OP_SUB ? x - y : x * y);
        return 0;
    }
    int64_t x = a->type == CALX_BOOL ? a->u.b : a->u.i;
    int64_t y = b->type == CALX_BOOL ? b->u.b : b->u.i;
    int64_t r;
    bool overflow = op == CALX_OP_ADD   ? __builtin_add_overflow(x, y, &r)
                    : op == CALX_OP_SUB ? __builtin_sub_overflow(x, y, &r)
                                        : __builtin_mul_overflow(x, y, &r);
    if (overflow)
        return CANNOT;   /* the database raises an error; let it */
    *out = calx_int(r);
    return 0;
}

/* A condition's value: 0 with *truth, UNKNOWN for SQL NULL, CANNOT. */
static int truth(const calx_expr *e, const calx_table *t, const calx_value *row, bool *out)
{
    calx_value v;
    int rc = eval(e, t, row, &v);
    if (rc)
        return rc;
    if (v.type == CALX_NULL)
        return UNKNOWN;
    if (v.type == CALX_BOOL)
        *out = v.u.b;
    else if (v.type == CALX_INT)
        *out = v.u.i != 0;
    else
        return CANNOT;
    return 0;
}

static int binop(const calx_expr *e, const calx_table *t, const calx_value *row, calx_value *out)
{
    calx_opcode op = e->u.bin.op;
    calx_value a, b;
    int rc = eval(e->u.bin.a, t, row, &a);
    if (!rc)
        rc = eval(e->u.bin.b, t, row, &b);
    if (rc)
        return rc;
    bool arith = op == CALX_OP_ADD || op == CALX_OP_SUB || op == CALX_OP_MUL;
    bool order = op == CALX_OP_LT || op == CALX_OP_LE || op == CALX_OP_GT || op == CALX_OP_GE;
    bool distinct = op == CALX_OP_IS_DISTINCT_FROM || op == CALX_OP_IS_NOT_DISTINCT_FROM;
    if (!arith && !order && !distinct && op != CALX_OP_EQ && op != CALX_OP_NE)
        return CANNOT;
    if (distinct) {
        /* NULL-safe: two NULLs are not distinct, NULL and a value are. */
        bool differ;
        int c;
        if (a.type == CALX_NULL || b.type == CALX_NULL)
            differ = (a.type == CALX_NULL) != (b.type == CALX_NULL);
        else if (compare(&a, &b, true, &c))
            return CANNOT;
        else
            differ = c != 0;
        *out = calx_bool(differ == (op == CALX_OP_IS_DISTINCT_FROM));
        return 0;
    }
    if (a.type == CALX_NULL || b.type == CALX_NULL) {
        *out = calx_null();
        return 0;
    }
    if (arith)
        return arithmetic(op, &a, &b, out);
    int c;
    if (compare(&a, &b, !order, &c))
        return CANNOT;
    bool r = op == CALX_OP_EQ   ? c == 0
             : op == CALX_OP_NE ? c != 0
             : op == CALX_OP_LT ? c < 0
             : op == CALX_OP_LE ? c <= 0
             : op == CALX_OP_GT ? c > 0
                                : c >= 0;
    *out = calx_bool(r);
    return 0;
}

/* AND / OR over three values: false wins an AND, true an OR, else
 * unknown if any item was. */
static int junction(const calx_expr *e, const calx_table *t, const calx_value *row,
                    calx_value *out)
{
    bool is_and = e->kind == CALX_X_AND, unknown = false;
    for (size_t i = 0; i < e->u.list.n; i++) {
        bool v = false;
        int rc = truth(e->u.list.items[i], t, row, &v);
        if (rc == CANNOT)
            return CANNOT;
        if (rc == UNKNOWN) {
            unknown = true;
            continue;
        }
        if (v != is_and) {
            *out = calx_bool(v);
            return 0;
        }
    }
    *out = unknown ? calx_null() : calx_bool(is_and);
    return 0;
}

static int in_list(const calx_expr *e, const calx_table *t, const calx_value *row,
                   calx_value *out)
{
    calx_value a;
    int rc = eval(e->u.in.a, t, row, &a);
    if (rc)
        return rc;
    bool unknown = a.type == CALX_NULL, found = false;
    for (size_t i = 0; i < e->u.in.n && !found && a.type != CALX_NULL; i++) {
        const calx_value *v = &e->u.in.vals[i];
        int c;
        if (v->type == CALX_NULL)
            unknown = true;
        else if (compare(&a, v, true, &c))
            return CANNOT;
        else
            found = c == 0;
    }
    /* x IN (...) is true when found, else unknown if a NULL took part. */
    if (found)
        *out = calx_bool(!e->negated);
    else if (unknown)
        *out = calx_null();
    else
        *out = calx_bool(e->negated);
    return 0;
}

static int eval(const calx_expr *e, const calx_table *t, const calx_value *row,
                calx_value *out)
{
    switch (e->kind) {
    case CALX_X_COL:
        /* A column of t itself, not of an alias of it nor of a subquery. */
        if (e->u.col.t != t || e->u.col.f)
            return CANNOT;
        *out = row[e->u.col.index];
        return 0;
    case CALX_X_LIT:
        *out = e->u.lit.v;
        return 0;
    case CALX_X_BINOP:
        return binop(e, t, row, out);
    case CALX_X_ISNULL: {
        calx_value a;
        int rc = eval(e->u.a, t, row, &a);
        if (rc)
            return rc;
        *out = calx_bool((a.type == CALX_NULL) != e->negated);
        return 0;
    }
    case CALX_X_IN:
        return in_list(e, t, row, out);
    case CALX_X_AND:
    case CALX_X_OR:
        return junction(e, t, row, out);
    case CALX_X_NOT: {
        bool v = false;
        int rc = truth(e->u.a, t, row, &v);
        if (rc == CANNOT)
            return CANNOT;
        *out = rc == UNKNOWN ? calx_null() : calx_bool(!v);
        return 0;
    }
    default:
        return CANNOT;
    }
}

int calx__expr_eval(const calx_expr *e, const calx_table *t, const calx_value *row,
                    calx_value *out)
{
    return eval(e, t, row, out) == CANNOT ? -1 : 0;
}

int calx__expr_matches(const calx_expr *e, const calx_table *t, const calx_value *row,
                       bool *matched)
{
    bool v = false;
    int rc = truth(e, t, row, &v);
    if (rc == CANNOT)
        return -1;
    *matched = rc == 0 && v;
    return 0;
}
