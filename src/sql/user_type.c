/* SPDX-License-Identifier: MIT */
/* User-defined column types (SQLAlchemy's TypeDecorator): a stored type
 * plus the program's bind and result functions. This file runs them and
 * checks what they give, so that every place a value crosses the column
 * (expressions, Core DML, the ORM's flush and loads, result rows) gets the
 * same checks and the same messages; where the bytes they make go is each
 * caller's business (a literal's node, a rowset, a flush's parameters).
 *
 * The scratch a function writes into is on the caller's stack for small
 * values, so a column of short texts costs no allocation per value. */
#include <stdlib.h>
#include <string.h>

#include "core/nomem.h"
#include "core/value_int.h"
#include "sql/expr_int.h"
#include "sql/user_type.h"

struct calx__scratch_block {
    struct calx__scratch_block *next;
    _Alignas(max_align_t) char data[];
};

void calx__type_scratch_init(calx_type_scratch *s)
{
    s->used = 0;
    s->blocks = NULL;
}

void calx__type_scratch_done(calx_type_scratch *s)
{
    while (s->blocks) {
        struct calx__scratch_block *b = s->blocks;
        s->blocks = b->next;
        free(b);
    }
    s->used = 0;
}

void *calx_type_scratch_alloc(calx_type_scratch *s, size_t n)
{
    if (!s)
        return NULL;
    const size_t align = _Alignof(max_align_t);
    size_t at = (s->used + align - 1) / align * align;
    if (at <= CALX__TYPE_SCRATCH_LOCAL && n <= CALX__TYPE_SCRATCH_LOCAL - at) {
        s->used = at + n;
        return s->local + at;
    }
    if (n > SIZE_MAX - sizeof(struct calx__scratch_block))
        return NULL;
    struct calx__scratch_block *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    b->next = s->blocks;
    s->blocks = b;
    return b->data;
}

/* Whether v is a value of what column c stores (*want, its type). */
static bool stored_type_fits(const calx_column *c, const calx_value *v, calx_xtype *want)
{
    if (v->type == CALX_NULL || !calx__xtype_of_col(c->type, want))
        return true;
    return calx__xtype_of_value(v->type) == *want;
}

/* Runs fn on *v, the message of its error prefixed with the column and
 * the type. */
static int run(const calx_column *c, calx_type_fn fn, calx_value *v, calx_type_scratch *s,
               calx_error *err)
{
    calx_value out = calx_null();
    calx_error mine = { 0 };
    int rc = fn(v, &out, s, c->user_type->context, &mine);
    if (rc) {
        int code = mine.code ? mine.code : rc;
        return calx_error_set(err, code, "column %s (%s): %s", c->name, c->user_type->name,
                              mine.message[0] ? mine.message : "the conversion failed");
    }
    *v = out;
    return 0;
}

int calx__user_type_bind(const calx_column *c, calx_value *v, calx_type_scratch *s,
                         calx_error *err)
{
    const calx_user_type *t = c->user_type;
    if (v->type == CALX_NULL)
        return 0;
    if (v->type != t->value_type)
        return calx_error_set(err, CALX_ERR_TYPE, "column %s (%s) takes %s values, not %s",
                              c->name, t->name, calx_type_name(t->value_type),
                              calx_type_name(v->type));
    int rc = run(c, t->bind, v, s, err);
    if (rc)
        return rc;
    calx_xtype want;
    if (!stored_type_fits(c, v, &want))
        return calx_error_set(err, CALX_ERR_TYPE,
                              "column %s (%s): bind gave a %s value; the column stores %s",
                              c->name, t->name, calx_type_name(v->type), calx__xtype_name(want));
    return 0;
}

int calx__user_type_result(const calx_column *c, calx_value *v, calx_type_scratch *s,
                           calx_error *err)
{
    const calx_user_type *t = c->user_type;
    if (v->type == CALX_NULL)
        return 0;
    int rc = run(c, t->result, v, s, err);
    if (rc)
        return rc;
    if (v->type != CALX_NULL && v->type != t->value_type)
        return calx_error_set(err, CALX_ERR_DATA,
                              "column %s (%s): result gave a %s value, not %s", c->name,
                              t->name, calx_type_name(v->type), calx_type_name(t->value_type));
    return 0;
}

int calx__user_type_keep(calx_value *v, char **owned, calx_error *err)
{
    *owned = NULL;
    size_t n = calx__value_keep_size(v);
    if (!n)
        return 0;
    if (!(*owned = malloc(n)))
        return calx__nomem(err, "keeping a converted value");
    char *p = *owned;
    calx__value_keep(v, &p);
    return 0;
}
