/* SPDX-License-Identifier: MIT */
/* User-defined column types (calx_user_type): running their functions. */
#ifndef CALX_SQL_USER_TYPE_H
#define CALX_SQL_USER_TYPE_H

#include <stddef.h>
#include "calx/error.h"
#include "calx/schema.h"
#include "calx/value.h"

/* Room a scratch has on the stack before it allocates. */
#define CALX__TYPE_SCRATCH_LOCAL 256

struct calx_type_scratch {
    _Alignas(max_align_t) char local[CALX__TYPE_SCRATCH_LOCAL];
    size_t used;               /* bytes of local handed out */
    struct calx__scratch_block *blocks; /* larger requests, malloc'd */
};

/* An empty scratch; calx__type_scratch_done frees what it handed out. */
void calx__type_scratch_init(calx_type_scratch *s);
void calx__type_scratch_done(calx_type_scratch *s);

/* *v, a value the program gives for column c, made the stored value by c's
 * user type (c->user_type must not be NULL). NULL passes. The result's
 * bytes may point into v's old bytes or into s, so copy them before s is
 * done. Errors, naming the column and the type: CALX_ERR_TYPE for a value
 * not of the type's value_type, or bind's output not of the column's
 * stored type; bind's own error. */
int calx__user_type_bind(const calx_column *c, calx_value *v, calx_type_scratch *s,
                         calx_error *err);

/* *v, a stored value of column c (after the dialect's stored_value), made
 * the program's value by c's user type's result, as calx__user_type_bind.
 * Errors: CALX_ERR_DATA when result gives a value not of value_type, or
 * its own error, naming the column and the type. */
int calx__user_type_result(const calx_column *c, calx_value *v, calx_type_scratch *s,
                           calx_error *err);

/* *v's bytes (TEXT, BLOB, JSON) copied into memory from malloc, *owned
 * pointing at it (NULL when v has no bytes): a converted value kept past
 * its scratch. CALX_ERR_NOMEM. */
int calx__user_type_keep(calx_value *v, char **owned, calx_error *err);

#endif
