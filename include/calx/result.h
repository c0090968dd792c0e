/* SPDX-License-Identifier: MIT */
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
#include "export.h"
#include "future.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_result calx_result;
typedef struct calx_row calx_row;

/* NULL: a NULL result (what a failed call leaves) or a NULL row (what
 * calx_result_first gives on no rows) reads as "no rows": every accessor
 * below that answers with a value accepts NULL and gives the empty answer
 * its comment names. The calls that report errors (fetch, anext, one,
 * one_or_none, scalar_one) give CALX_ERR_ARGUMENT for a NULL result. Out
 * parameters (row, out, len where required) must not be NULL. */

/* Frees a result (a streaming one stops its statement and frees its
 * connection for the next operation). NULL is a no-op. */
CALX_API void calx_result_free(calx_result *r);

/* The number of columns; 0 for a statement without rows or a NULL r. */
CALX_API size_t calx_result_ncols(const calx_result *r);
/* Column i's name, owned by r; NULL when i is out of range or r is NULL. */
CALX_API const char *calx_result_colname(const calx_result *r, size_t i);
/* The index of the column named name, or -1 (also when r or name is NULL). */
CALX_API int calx_result_colindex(const calx_result *r, const char *name);

/* Rows inserted, updated or deleted (summed over an execute-many, and over
 * the statements of an INSERT calx_conn_execute_insert split at the
 * dialect's parameter limit), or -1 for a statement that returns rows and
 * changes none, and for a NULL r. */
CALX_API int64_t calx_result_rowcount(const calx_result *r);
/* SQLite's last insert rowid after an INSERT, else 0 (also for a NULL r). */
CALX_API int64_t calx_result_lastrowid(const calx_result *r);

/* Rows held now: all of them (buffered) or the current chunk (streaming);
 * 0 for a NULL r. */
CALX_API size_t calx_result_nrows(const calx_result *r);
/* A batch's result (calx_conn_execute_batch) holds one set of rows per
 * statement. Moves r to the next statement's rows, rowcount and lastrowid,
 * freeing the current ones (rows taken from r before are invalid after).
 * False, with r unchanged, when there is no next statement or r is NULL. */
CALX_API bool calx_result_nextset(calx_result *r);
/* Row i of those held, or NULL when out of range or r is NULL. Owned by r. */
CALX_API const calx_row *calx_result_row(const calx_result *r, size_t i);

/* The next row of the iteration, or NULL when the rows held are used up
 * (for a streaming result, calx_result_more then says whether to fetch) or
 * r is NULL. */
CALX_API const calx_row *calx_result_next(calx_result *r);
/* Streaming: true while the statement may have rows beyond those held;
 * false for a buffered or NULL r. */
CALX_API bool calx_result_more(const calx_result *r);
/* Streaming: a future (value NULL) that completes when the next chunk is
 * held; the iteration restarts at its first row. NULL and err filled when
 * there is nothing more to fetch or r is buffered (CALX_ERR_STATE), or r
 * is NULL (CALX_ERR_ARGUMENT). */
CALX_API calx_future *calx_result_fetch(calx_result *r, calx_error *err);
/* Inside a task: the next row, fetching chunks as needed. Returns 0 and sets
 * *row (NULL at the end), or an error code with *row NULL: a fetch's error,
 * or CALX_ERR_ARGUMENT when r is NULL. row must not be NULL. */
CALX_API int calx_result_anext(calx_result *r, const calx_row **row, calx_error *err);

/* SQLAlchemy's shortcuts, over the rows held (the whole result when
 * buffered). first: the first row or NULL (also for a NULL r). one:
 * exactly one row, else CALX_ERR_NO_RESULT or CALX_ERR_MULTIPLE_RESULTS.
 * one_or_none: at most one (NULL when none). scalar: the first column of
 * the first row (a NULL value when there is no row or r is NULL).
 * scalar_one: as one, then its first column. one, one_or_none and
 * scalar_one give CALX_ERR_ARGUMENT for a NULL r, with *row NULL (*out
 * unchanged); row and out must not be NULL. The rows and values are owned
 * by r. */
CALX_API const calx_row *calx_result_first(const calx_result *r);
CALX_API int calx_result_one(const calx_result *r, const calx_row **row, calx_error *err);
CALX_API int calx_result_one_or_none(const calx_result *r, const calx_row **row,
                                     calx_error *err);
CALX_API calx_value calx_result_scalar(const calx_result *r);
CALX_API int calx_result_scalar_one(const calx_result *r, calx_value *out, calx_error *err);

/* Getters. col is a column index; calx_row_col finds one by name, giving
 * -1 for no such column, a NULL name or a NULL row, and every getter reads
 * col -1 (or any out-of-range col) as SQL NULL. So on an empty result
 * calx_row_int(row, calx_row_col(row, "n")) with row NULL is 0, not a
 * crash. Every getter accepts a NULL row as a row of NULLs.
 *
 * The lenient ones give 0, 0.0, false or NULL for SQL NULL —
 * calx_row_isnull tells NULL apart from 0, "" and false — and convert
 * between numbers: calx_row_int truncates a real toward zero, gives 0 for
 * NaN and saturates at INT64_MIN / INT64_MAX for reals beyond int64's
 * range (infinities included), so no value gives undefined behaviour;
 * calx_row_real gives the nearest double to an integer; calx_row_bool is
 * true for any non-zero number (NaN included, as in Python). A text that
 * is a decimal number and nothing else gives that number to calx_row_int
 * and calx_row_real, as a DECIMAL does (PostgreSQL's NUMERIC, which avg()
 * and sum() of a BIGINT return; calx_row_real rounds it to the nearest
 * double, calx_row_int truncates a fraction as for reals); other text,
 * and blobs, give 0 / 0.0 / false from the numeric getters. calx_row_text
 * gives JSON's text too.
 *
 * The strict calx_row_get_* convert nothing but an integer to a real or a
 * bool: they return CALX_ERR_TYPE, naming the column, for NULL or a value
 * of another type (a real is never an int to calx_row_get_int, so no range
 * question arises), and CALX_ERR_ARGUMENT for a NULL row or a column out
 * of range; *out is only written on success. out and len must not be NULL.
 *
 * Text and blob pointers are owned by the result; text is NUL-terminated.
 * calx_row_blob's len may be NULL. */
CALX_API int calx_row_col(const calx_row *row, const char *name);
CALX_API const calx_value *calx_row_value(const calx_row *row, int col);
CALX_API bool calx_row_isnull(const calx_row *row, int col);
CALX_API int64_t calx_row_int(const calx_row *row, int col);
CALX_API double calx_row_real(const calx_row *row, int col);
CALX_API bool calx_row_bool(const calx_row *row, int col);
CALX_API const char *calx_row_text(const calx_row *row, int col);
CALX_API const void *calx_row_blob(const calx_row *row, int col, size_t *len);

CALX_API int calx_row_get_int(const calx_row *row, int col, int64_t *out, calx_error *err);
CALX_API int calx_row_get_real(const calx_row *row, int col, double *out, calx_error *err);
CALX_API int calx_row_get_bool(const calx_row *row, int col, bool *out, calx_error *err);
CALX_API int calx_row_get_text(const calx_row *row, int col, const char **out, calx_error *err);
CALX_API int calx_row_get_blob(const calx_row *row, int col, const void **out, size_t *len,
                               calx_error *err);

/* Strict getters of the richer types (calx/types.h), as the ones above:
 * CALX_ERR_TYPE for NULL or a value of another type, CALX_ERR_ARGUMENT for
 * no row or column. Each also reads text, as a database returns these
 * types to plain SQL where it has none (SQLite: '2024-02-29', 32 hex
 * digits), parsed as calx_date_parse etc. do, CALX_ERR_DATA naming the
 * column when it does not parse. calx_row_get_decimal also takes an
 * integer (scale 0). On SQLite, a NUMERIC(p, s) column read through plain
 * SQL holds its scaled integer (19.99 is 1999): read it through a Core
 * select, which knows the column and gives the decimal. */
CALX_API int calx_row_get_decimal(const calx_row *row, int col, calx_decimal *out,
                                  calx_error *err);
CALX_API int calx_row_get_uuid(const calx_row *row, int col, calx_uuid *out, calx_error *err);
CALX_API int calx_row_get_date(const calx_row *row, int col, calx_date *out, calx_error *err);
CALX_API int calx_row_get_time(const calx_row *row, int col, calx_time *out, calx_error *err);
CALX_API int calx_row_get_datetime(const calx_row *row, int col, calx_datetime *out,
                                   calx_error *err);
CALX_API int calx_row_get_timestamp(const calx_row *row, int col, calx_timestamp *out,
                                    calx_error *err);
CALX_API int calx_row_get_interval(const calx_row *row, int col, calx_interval *out,
                                   calx_error *err);

/* Lenient getters of the richer types: what the strict getter above
 * reads, or the type's zero where it would fail (SQL NULL, another type,
 * text that does not parse, no row or column): the decimal 0, the nil
 * UUID, 1970-01-01 for a date, midnight, 1970-01-01 00:00 for a datetime
 * and an instant, the empty interval; calx_row_isnull tells NULL apart. A
 * real is not a decimal here either: a double is not exact (read it with
 * calx_row_real). row may be NULL. */
CALX_API calx_decimal calx_row_decimal(const calx_row *row, int col);
CALX_API calx_uuid calx_row_uuid(const calx_row *row, int col);
CALX_API calx_date calx_row_date(const calx_row *row, int col);
CALX_API calx_time calx_row_time(const calx_row *row, int col);
CALX_API calx_datetime calx_row_datetime(const calx_row *row, int col);
CALX_API calx_timestamp calx_row_timestamp(const calx_row *row, int col);
CALX_API calx_interval calx_row_interval(const calx_row *row, int col);

#ifdef __cplusplus
}
#endif
#endif
