/* SPDX-License-Identifier: MIT */
/* Evaluating an expression in memory over one row of a table's values
 * (evaluate.c): for the ORM's synchronize_session "evaluate". */
#ifndef CALX_SQL_EVALUATE_H
#define CALX_SQL_EVALUATE_H

#include <stdbool.h>
#include "calx/schema.h"
#include "calx/sql.h"
#include "calx/value.h"

/* e's value over row (t's columns in order) in *out, SQL NULL included:
 * 0, or -1 when e cannot be evaluated exactly as the database would (a
 * column of another table, text ordering, LIKE, division, a function, a
 * subquery, an integer overflow). Text and blob values point into row or
 * into e. */
int calx__expr_eval(const calx_expr *e, const calx_table *t, const calx_value *row,
                    calx_value *out);

/* Whether the condition e holds for row (unknown, SQL NULL, does not): 0
 * with *matched, or -1 as calx__expr_eval. */
int calx__expr_matches(const calx_expr *e, const calx_table *t, const calx_value *row,
                       bool *matched);

#endif
