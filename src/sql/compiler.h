/* SPDX-License-Identifier: MIT */
/* The SELECT compiler: a calx_select to SQL text and positional
 * parameters, rendered as SQLAlchemy's compiler renders the same statement
 * (byte for byte on SQLite, as its echo log shows it):
 *
 *     SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \n
 *     FROM hero \n
 *     WHERE hero.age >= ? AND hero.age < ? ORDER BY hero.age DESC\n
 *      LIMIT ? OFFSET ?
 *
 * The text marks parameters with '?' (calx's SQL text format): the engine
 * turns them into the dialect's paramstyle through calx__text_compile and
 * caches the plan by the text, so equal shapes share a plan. */
#ifndef CALX_SQL_COMPILER_H
#define CALX_SQL_COMPILER_H

#include <stddef.h>
#include "calx/error.h"
#include "calx/sql.h"
#include "calx/value.h"
#include "driver/driver.h"
#include "sql/dialect.h"

typedef struct calx_compiled {
    char *sql;               /* malloc'd, in calx text format with ? markers */
    calx_param *params;      /* malloc'd array, positional (name NULL); NULL when
                                nparams is 0. The values are shallow: text and
                                blobs point into q's nodes, valid while q lives */
    size_t nparams;
    /* With CALX_COMPILE_SOURCES (or from calx__statement_compile): where
     * each parameter's value comes from, nparams of them, malloc'd: a
     * value in the statement (the address params[i].value was copied
     * from), or NULL for a constant the compiler added. NULL otherwise. */
    const calx_value **srcs;
    /* What each parameter meets, nparams of them beside params, malloc'd
     * (NULL when nparams is 0): the type of the column it is compared with
     * or written into (calx__column_dtype), CALX_DTYPE_VALUE for none. The
     * engine hands them to the driver with the values (calx_dstmt). */
    calx_dtype *types;
} calx_compiled;

/* CALX_COMPILE_LABELS: "hero.id AS hero_id, ..." column labels, as
 * SQLAlchemy renders Session.get and lazy loads (its
 * LABEL_STYLE_TABLENAME_PLUS_COL). CALX_COMPILE_SOURCES: fill srcs. */
enum { CALX_COMPILE_LABELS = 1, CALX_COMPILE_SOURCES = 2 };

/* Compiles q for d into *out (emptied first; free with calx__compiled_free,
 * also safe after a failure). Errors: q's sticky error (calx_select_error),
 * CALX_ERR_NOMEM (also for q NULL), CALX_ERR_ARGUMENT for d NULL. */
int calx__select_compile(const calx_select *q, const calx_dialect *d, unsigned flags,
                         calx_compiled *out, calx_error *err);

/* Frees what c holds and empties it. NULL is a no-op. */
void calx__compiled_free(calx_compiled *c);

/* ---- INSERT, UPDATE, DELETE (compile_dml.c) ---- */

/* One text run nsets times: c.params holds every set's parameters, set
 * after set (c.nparams / nsets each). */
typedef struct calx_compiled_part {
    calx_compiled c;
    size_t nsets;
} calx_compiled_part;

/* What a statement compiles to when one text is not enough: a many-row
 * INSERT split at the dialect's max_params is a text for full statements
 * (run once per full chunk of rows) and one for the rows left over. The
 * parts run in order, in one request. */
typedef struct calx_compiled_list {
    calx_compiled_part *parts;   /* malloc'd */
    size_t n;
} calx_compiled_list;

/* Compiles s for d into *out (emptied first; free with
 * calx__compiled_list_free, also safe after a failure). The parameters are
 * shallow, pointing into s, valid while s lives. Errors: s's sticky error
 * and the whole-statement checks (calx_insert_error), CALX_ERR_ARGUMENT
 * when one row alone has more values than a statement may bind,
 * CALX_ERR_NOT_SUPPORTED for RETURNING on a dialect without it,
 * CALX_ERR_NOMEM (also for s NULL). */
int calx__insert_compile(const calx_insert *s, const calx_dialect *d, calx_compiled_list *out,
                         calx_error *err);

/* Compiles s for d into *out, as calx__select_compile. Errors: the sticky
 * and whole-statement ones (calx_update_error / calx_delete_error),
 * CALX_ERR_NOT_SUPPORTED for FROM / USING / RETURNING the dialect lacks,
 * CALX_ERR_ARGUMENT for more parameters than one statement may carry,
 * CALX_ERR_NOMEM (also for s NULL). */
int calx__update_compile(const calx_update *s, const calx_dialect *d, calx_compiled *out,
                         calx_error *err);
int calx__delete_compile(const calx_delete *s, const calx_dialect *d, calx_compiled *out,
                         calx_error *err);

/* As calx__update_compile / calx__delete_compile; with fetch, the
 * statement also returns what the ORM's synchronize_session 'fetch' reads
 * (an UPDATE every column of its table, a DELETE its primary key), after
 * any RETURNING of its own. CALX_ERR_NOT_SUPPORTED for fetch on a dialect
 * without RETURNING. */
int calx__update_compile_ex(const calx_update *s, const calx_dialect *d, bool fetch,
                            calx_compiled *out, calx_error *err);
int calx__delete_compile_ex(const calx_delete *s, const calx_dialect *d, bool fetch,
                            calx_compiled *out, calx_error *err);

/* Frees what l holds and empties it. NULL is a no-op. */
void calx__compiled_list_free(calx_compiled_list *l);

/* ---- any statement: what treats the four kinds alike (the engine's
 * statement cache, cache_key.h) ---- */

typedef enum calx__stmt_kind {
    CALX__STMT_SELECT,
    CALX__STMT_INSERT,
    CALX__STMT_UPDATE,
    CALX__STMT_DELETE
} calx__stmt_kind;

typedef struct calx__stmt_ref {
    calx__stmt_kind kind;
    union {
        const calx_select *select;
        const calx_insert *insert;
        const calx_update *update;
        const calx_delete *del;
    } u;
} calx__stmt_ref;

/* Compiles st for d into *out (emptied first; free with
 * calx__compiled_list_free, also safe after a failure), as the compiler
 * of its kind does (a select, update or delete is one part run once), with
 * each part's srcs filled: where every parameter's value comes from. The
 * errors of its kind's compiler. */
int calx__statement_compile(calx__stmt_ref st, const calx_dialect *d, calx_compiled_list *out,
                            calx_error *err);

/* ---- statement shapes: a text run with parameters of one's own ---- */

/* How the rows of a many-row INSERT are written. */
typedef enum calx__rows_form {
    CALX__ROWS_VALUES,       /* VALUES (?, ?), (?, ?) */
    /* SELECT CAST(p0 AS T0), ... FROM (VALUES (?, ?, 0), (?, ?, 1)) AS
     * imp_sen(p0, ..., sen_counter) ORDER BY sen_counter: SQLAlchemy 2.0's
     * insertmanyvalues. The rows go in in counter order, so keys a
     * sequence makes as they go in rise with the counter, and the keys
     * RETURNING gives are matched to the rows by sorting them, never by
     * the order the rows come back in (which the database does not
     * promise). */
    CALX__ROWS_SENTINEL,
    /* SELECT p0, ... FROM unnest(CAST(? AS T0[]), ...) WITH ORDINALITY AS
     * imp_sen(p0, ..., sen_counter) ORDER BY sen_counter: the sentinel
     * form with one array parameter per column, its elements the rows'
     * values in row order (the counter is the element's position), so one
     * text serves any number of rows. Where the dialect has
     * supports_unnest_rows and calx__insert_arrays_ok says the columns
     * allow it. */
    CALX__ROWS_ARRAYS
} calx__rows_form;

/* Whether s's rows can go in CALX__ROWS_ARRAYS for d: d has
 * supports_unnest_rows, s names its columns, has no select and no ON
 * CONFLICT, and every column is of a scalar type whose values go as an
 * array of their own (integers, reals, booleans, texts, the date and time
 * types, decimals, UUIDs), none of a user type, an enum, an array, JSON
 * or bytes. */
bool calx__insert_arrays_ok(const calx_insert *s, const calx_dialect *d);

/* The text of s for `rows` rows in form, with s's ON CONFLICT and
 * RETURNING, for running with one's own parameters (the flush's): each
 * row's values in the table's column order, row after row, then the
 * clauses' parameters; in CALX__ROWS_ARRAYS, one array per column (rows
 * does not change the text). s's rows, if any, are not used. An insert
 * without columns (calx_insert_columns) has a text for one row only: its
 * single values, or DEFAULT VALUES. *sql is malloc'd (NULL on failure). Errors:
 * s's sticky error, RETURNING the dialect lacks, CALX_ERR_ARGUMENT for a
 * row count the insert has no text for (or CALX__ROWS_ARRAYS where
 * calx__insert_arrays_ok says no), CALX_ERR_NOMEM. */
int calx__insert_shape_sql(const calx_insert *s, const calx_dialect *d, size_t rows,
                           calx__rows_form form, char **sql, calx_error *err);

/* A literal holding column c's place in a statement whose text is run
 * with parameters of its own (the flush's, a get by key): a value of c's
 * stored type, which c's user type, if any, leaves alone. Owned by the
 * caller (an expression node; the out-of-memory node on failure). */
calx_expr *calx__column_slot(const calx_column *c);

/* The flush's statements (persist.c), by primary key: "UPDATE t SET
 * a=?, b=? WHERE t.k = ?" with the columns whose bits are set in mask
 * (bit i: t's column i; at most 64 columns), then the key columns, each in
 * t's column order; "DELETE FROM t WHERE t.k = ? AND ..." with the key
 * columns. malloc'd texts, or NULL with err (the compilers' errors). */
char *calx__update_by_key_sql(const calx_dialect *d, const calx_table *t, uint64_t mask,
                              calx_error *err);
char *calx__delete_by_key_sql(const calx_dialect *d, const calx_table *t, calx_error *err);
/* sql (an UPDATE or DELETE by key) in the dialect's form that fails when
 * it matches no row (calx_dialect's row_check_open): a malloc'd text, or
 * NULL with err (CALX_ERR_NOT_SUPPORTED when d has no such form,
 * CALX_ERR_NOMEM). */
char *calx__checked_by_key_sql(const calx_dialect *d, const char *sql, calx_error *err);

/* An insert into t of the columns in mask (none: DEFAULT VALUES),
 * RETURNING column key when key >= 0, then the columns in fetch (the
 * server defaults the flush reads back) in t's order, for
 * calx__insert_shape_sql. Owned by the caller (calx_insert_free); its
 * errors are sticky as any insert's. */
calx_insert *calx__insert_of_columns(const calx_table *t, uint64_t mask, long key,
                                     uint64_t fetch);

#endif
