/* SPDX-License-Identifier: MIT */
/* Arrays in expressions (SQLAlchemy's ARRAY comparator and any_()):
 * value = ANY (array), containment a @> b, overlap a && b and
 * array_length(a, 1). Each is one node (CALX_X_ARRAY) whose operands are
 * expressions; an array given as a calx_value is a literal, bound as one
 * value, its elements made the array column's element type first
 * (convert.c). The SQL is the dialect's (array_op): PostgreSQL's
 * operators; SQLite has no arrays, and the statement fails to compile. */
#include "sql/expr_int.h"

static calx_expr *array_node(calx_array_op op, calx_expr *a, calx_expr *b, calx_xtype type)
{
    calx_expr *e = calx__expr_new2(CALX_X_ARRAY, type, a, b);
    if (!e)
        return calx__expr_oom();
    e->u.arr.a = a;
    e->u.arr.b = b;
    e->u.arr.op = op;
    return e;
}

/* NULL when array is an array expression, else the error node (array and
 * other freed). */
static calx_expr *check_array(calx_expr *array, calx_expr *other, const char *fn)
{
    calx_expr *kids[2] = { array, other };
    if (!array || array->kind == CALX_X_ERROR || (other && other->kind == CALX_X_ERROR))
        return calx__expr_take_error(kids, other ? 2 : 1);
    if (array->type == CALX_XT_ARRAY)
        return NULL;
    char what[200];
    calx__expr_describe(array, what, sizeof what);
    calx_expr_free(array);
    calx_expr_free(other);
    return calx__expr_errorf(CALX_ERR_TYPE, "%s: %s is not an ARRAY", fn, what);
}

/* A literal array b made array's element type (when array is a column);
 * NULL when fine, else the error node (both freed). */
static calx_expr *coerce_array(calx_expr *array, calx_expr *b, const char *where)
{
    if (b->kind != CALX_X_LIT)
        return NULL;
    calx_expr *fail = calx__expr_coerce(b, CALX_XT_ARRAY, array, where);
    if (fail) {
        calx_expr_free(array);
        calx_expr_free(b);
    }
    return fail;
}

calx_expr *calx_any(calx_expr *value, calx_expr *array)
{
    if (!value)
        value = calx__expr_errorf(CALX_ERR_ARGUMENT, "calx_any: the value is NULL");
    calx_expr *bad = check_array(array, value, "calx_any");
    if (bad)
        return bad;
    /* A literal compared with a column's elements takes their type. */
    const calx_column *col = calx__expr_column(array);
    calx_xtype elem;
    if (value->kind == CALX_X_LIT && col && calx__xtype_of_col(col->array_of, &elem)) {
        calx_expr *fail = calx__expr_coerce(value, elem, array, " (ANY)");
        if (fail) {
            calx_expr_free(array);
            calx_expr_free(value);
            return fail;
        }
    }
    return array_node(CALX_ARRAY_ANY, array, value, CALX_XT_BOOL);
}

/* a @> items or a && items, items bound as one value. */
static calx_expr *with_items(calx_array_op op, calx_expr *array, calx_value items,
                             const char *fn, const char *where)
{
    calx_expr *b = items.type == CALX_ARRAY
                       ? calx_lit(items)
                       : calx__expr_errorf(CALX_ERR_ARGUMENT, "%s: the items are %s, not an ARRAY",
                                           fn, calx_type_name(items.type));
    calx_expr *bad = check_array(array, b, fn);
    if (bad)
        return bad;
    if ((bad = coerce_array(array, b, where)))
        return bad;
    return array_node(op, array, b, CALX_XT_BOOL);
}

calx_expr *calx_array_contains(calx_expr *array, calx_value items)
{
    return with_items(CALX_ARRAY_CONTAINS, array, items, "calx_array_contains", " (@>)");
}

calx_expr *calx_array_overlaps(calx_expr *array, calx_value items)
{
    return with_items(CALX_ARRAY_OVERLAPS, array, items, "calx_array_overlaps", " (&&)");
}

calx_expr *calx_array_length(calx_expr *array)
{
    calx_expr *bad = check_array(array, NULL, "calx_array_length");
    return bad ? bad : array_node(CALX_ARRAY_LENGTH, array, NULL, CALX_XT_INT);
}
