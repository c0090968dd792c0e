/* SPDX-License-Identifier: MIT */
/* SQL text with bound parameters: turning the :name and ? markers users
 * write into the dialect's paramstyle, and binding values in that order.
 *
 *     SELECT * FROM t WHERE a = :a AND b = :b OR c = :a
 *  -> SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $3   (PostgreSQL)
 *  -> SELECT * FROM t WHERE a = ? AND b = ? OR c = ?      (SQLite)
 *     with the slots bound to a, b, a.
 *
 * Lexical rules, as SQLAlchemy's text() has them:
 *  - :name is a letter or '_' then letters, digits and '_', after a ':'
 *    that does not follow a letter, digit, '_' or another ':' (so x::int
 *    and arr[lo:hi] are left alone); each ? is one positional parameter.
 *    One statement uses one kind or the other.
 *  - \: is a literal ':' and \? a literal '?' (for PostgreSQL's jsonb
 *    operators ? ?| ?&); both are emitted without the backslash.
 *  - Nothing inside '...' strings, "..." identifiers, -- comments and block
 *    comments is a parameter. The paramstyle also picks the dialect's own
 *    quoting: DOLLAR (PostgreSQL) adds E'...' strings with backslash
 *    escapes, $tag$...$tag$ strings and nested block comments; QMARK
 *    (SQLite) adds [...] and `...` identifiers.
 *  - The placeholders the drivers use are refused in the input ($1 for
 *    DOLLAR, ?1 for either), since calx numbers the slots itself.
 */
#ifndef CALX_SQL_TEXT_H
#define CALX_SQL_TEXT_H

#include <stddef.h>
#include "calx/error.h"
#include "calx/value.h"
#include "sql/dialect.h"

/* A compiled statement. Plans do not point into the SQL or the parameters
 * they were compiled from. */
typedef struct calx_text_plan {
    char *sql;          /* in the dialect's paramstyle, malloc'd */
    size_t nslots;      /* placeholders in sql, in order */
    char **names;       /* nslots names (NULL entries when positional) */
    size_t *slot_param; /* for each slot, the index into the params array of
                           the set the plan was compiled with */
} calx_text_plan;

/* Compiles sql for style against params (NULL or empty when the SQL has
 * no parameters), filling *out (free with calx__text_plan_free, also safe
 * after a failure, when *out is left empty). Named values the SQL does not
 * use are allowed. Errors: CALX_ERR_ARGUMENT for a named parameter with no
 * value ("A value is required for bind parameter 'x'"), a positional count
 * mismatch, named and positional mixed in the SQL or in params, named
 * values for ? or positional values for :name, a name given twice, a
 * driver-style placeholder in the SQL, or sql NULL; CALX_ERR_NOMEM. */
int calx__text_compile(const char *sql, const calx_params *params,
                       calx_paramstyle style, calx_text_plan *out,
                       calx_error *err);

/* calx__text_compile for n positional values (? markers) whose values
 * are not at hand: the plan of a statement as it was sent, to name it in
 * an error. The same errors. */
int calx__text_compile_positional(const char *sql, size_t n, calx_paramstyle style,
                                  calx_text_plan *out, calx_error *err);

/* Fills out[0 .. plan->nslots) with the values of one parameter set (each
 * set of an execute-many goes through the same plan). The copies are
 * shallow: text and blob values still point at the caller's memory. Names
 * are matched wherever they sit in set; a name given twice in a set is not
 * detected here (compile checks the first set). Errors: CALX_ERR_ARGUMENT,
 * as calx__text_compile; out is then partly filled. */
int calx__text_bind(const calx_text_plan *plan, const calx_params *set,
                    calx_value *out, calx_error *err);

/* Frees what plan holds and empties it. NULL, or an empty plan, is a
 * no-op. */
void calx__text_plan_free(calx_text_plan *plan);

#endif
