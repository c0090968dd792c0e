/* calx — results.
 *
 * A calx_result holds what one statement returned: its columns, its rows,
 * and the rows it affected. A result from calx_conn_execute is buffered
 * (every row is in memory, the connection is free again); one from
 * calx_conn_stream holds a chunk of rows at a time and keeps its connection
 * busy until it has been read to the end or freed.
 *
 * Rows are views into their result: a row pointer, and the text and blob
 * pointers it gives, stay valid until the result is freed (buffered) or the
 * next chunk is fetched (streaming).
 */
#ifndef CALX_RESULT_H
#define CALX_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "future.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_result calx_result;
typedef struct calx_row calx_row;

/* Frees a result (a streaming one stops its statement and frees its
 * connection for the next operation). NULL is a no-op. */
void calx_result_free(calx_result *r);

size_t calx_result_ncols(const calx_result *r);
/* Column i's name, owned by r; NULL when i is out of range. */
const char *calx_result_colname(const calx_result *r, size_t i);
/* The index of the column named name, or -1. */
int calx_result_colindex(const calx_result *r, const char *name);

/* Rows inserted, updated or deleted (summed over an execute-many), or -1
 * for a statement that returns rows and changes none. */
int64_t calx_result_rowcount(const calx_result *r);
/* SQLite's last insert rowid after an INSERT, else 0. */
int64_t calx_result_lastrowid(const calx_result *r);

/* Rows held now: all of them (buffered) or the current chunk (streaming). */
size_t calx_result_nrows(const calx_result *r);
/* A batch's result (calx_conn_execute_batch) holds one set of rows per
 * statement. Moves r to the next statement's rows, rowcount and lastrowid,
 * freeing the current ones (rows taken from r before are invalid after).
 * False, with r unchanged, when there is no next statement. */
bool calx_result_nextset(calx_result *r);
/* Row i of those held, or NULL when out of range. Owned by r. */
const calx_row *calx_result_row(const calx_result *r, size_t i);

/* The next row of the iteration, or NULL when the rows held are used up
 * (for a streaming result, calx_result_more then says whether to fetch). */
const calx_row *calx_result_next(calx_result *r);
/* Streaming: true while the statement may have rows beyond those held. */
bool calx_result_more(const calx_result *r);
/* Streaming: a future (value NULL) that completes when the next chunk is
 * held; the iteration restarts at its first row. NULL and err filled when
 * there is nothing more to fetch or r is buffered. */
calx_future *calx_result_fetch(calx_result *r, calx_error *err);
/* Inside a task: the next row, fetching chunks as needed. Returns 0 and sets
 * *row (NULL at the end), or an error code. */
int calx_result_anext(calx_result *r, const calx_row **row, calx_error *err);

/* SQLAlchemy's shortcuts, over the rows held (the whole result when
 * buffered). first: the first row or NULL. one: exactly one row, else
 * CALX_ERR_NO_RESULT or CALX_ERR_MULTIPLE_RESULTS. one_or_none: at most
 * one (NULL when none). scalar: the first column of the first row (a NULL
 * value when there is no row). scalar_one: as one, then its first column.
 * The rows and values are owned by r. */
const calx_row *calx_result_first(const calx_result *r);
int calx_result_one(const calx_result *r, const calx_row **row, calx_error *err);
int calx_result_one_or_none(const calx_result *r, const calx_row **row, calx_error *err);
calx_value calx_result_scalar(const calx_result *r);
int calx_result_scalar_one(const calx_result *r, calx_value *out, calx_error *err);

/* Getters. col is a column index (calx_row_col finds one by name; -1 reads
 * as NULL). The lenient ones give 0, 0.0, false or NULL for SQL NULL —
 * calx_row_isnull tells NULL apart from 0, "" and false. The strict
 * calx_row_get_* return CALX_ERR_TYPE, naming the column, for NULL or a
 * value of another type. Text and blob pointers are owned by the result;
 * text is NUL-terminated. */
int calx_row_col(const calx_row *row, const char *name);
const calx_value *calx_row_value(const calx_row *row, int col);
bool calx_row_isnull(const calx_row *row, int col);
int64_t calx_row_int(const calx_row *row, int col);
double calx_row_real(const calx_row *row, int col);
bool calx_row_bool(const calx_row *row, int col);
const char *calx_row_text(const calx_row *row, int col);
const void *calx_row_blob(const calx_row *row, int col, size_t *len);

int calx_row_get_int(const calx_row *row, int col, int64_t *out, calx_error *err);
int calx_row_get_real(const calx_row *row, int col, double *out, calx_error *err);
int calx_row_get_bool(const calx_row *row, int col, bool *out, calx_error *err);
int calx_row_get_text(const calx_row *row, int col, const char **out, calx_error *err);
int calx_row_get_blob(const calx_row *row, int col, const void **out, size_t *len,
                      calx_error *err);

#ifdef __cplusplus
}
#endif
#endif
