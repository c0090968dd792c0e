/* SPDX-License-Identifier: MIT */
/* Values meeting the richer column types: convert.c. */
#ifndef CALX_SQL_CONVERT_H
#define CALX_SQL_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include "calx/error.h"
#include "calx/schema.h"
#include "calx/value.h"
#include "sql/dml_int.h"
#include "sql/expr_int.h"

/* Whether t is one of the types whose values parse from text (DECIMAL,
 * UUID, DATE, TIME, DATETIME, TIMESTAMP, INTERVAL, JSON). */
bool calx__xtype_is_rich(calx_xtype t);

/* Converts *v to the rich type `to`, for column c (NULL when the other
 * side of a comparison is no column): text is parsed, an integer becomes
 * a decimal, a decimal is brought to c's scale and checked against its
 * precision. Returns NULL, *v converted, or why not (written into why, n
 * bytes): "the value 1.234: more than 2 digits after the point". NULL
 * passes. */
const char *calx__value_into_column(calx_value *v, calx_xtype to, const calx_column *c,
                                    char *why, size_t n);

/* An ARRAY value's elements made the element type of c (an ARRAY
 * column), each as calx__value_into_column makes a value (c's precision
 * and scale are the elements'), an INTEGER element into a REAL array
 * too; an enum's elements become its names (from names or C values). The items are changed in place: v must point at calx's own copy
 * of them (calx__value_keep). NULL, or why not, as above. */
const char *calx__array_into_column(calx_value *v, const calx_column *c, char *why, size_t n);

/* An array read back for c, an ARRAY of ENUM column, whose TEXT elements
 * are made the enum's C values (CALX_INT) in place: v's items must be
 * memory the caller may change. Errors: CALX_ERR_DATA naming the column
 * and the name that is not the enum's. */
int calx__enum_array_from_names(const calx_column *c, calx_value *v, calx_error *err);

/* The value type of the elements of c, an ARRAY column (CALX_INT for
 * INTEGER[], ...); CALX_NULL for a column without a valid array_of. */
calx_type calx__array_elem_type(const calx_column *c);

/* A TEXT value the database returned for column c made c's rich type in
 * place (the dialects' stored_value hooks start here). Other values and
 * other column types are left. Errors: CALX_ERR_DATA naming the column and
 * the text. */
int calx__value_from_text(const calx_column *c, calx_value *v, calx_error *err);

/* For each of q's result columns, the table column behind it when that
 * column's values come back in a stored form its dialect must turn into
 * the column's type (the richer types), or a user type must turn into the
 * program's, seen through labels and sum / min / max: out[i] is that
 * column or NULL. Returns q's number of columns, or
 * 0 when no column needs it or there are more than max (out untouched
 * then). */
size_t calx__select_stored_columns(const calx_select *q, const calx_column **out, size_t max);

/* The same for the RETURNING list of an INSERT, UPDATE or DELETE. */
size_t calx__returning_stored_columns(const calx__dml *s, const calx_column **out, size_t max);

/* What a parameter meeting column c goes as (driver.h's calx_dtype): c's
 * stored type, or with element its elements' type (a value compared with
 * an ARRAY column's elements, as ANY does). CALX_DTYPE_VALUE, typed from
 * the value, for a NULL c and for BLOB and ENUM columns (and arrays of
 * ENUM), whose values say it all or whose type only the database knows
 * (an enum's OID is each database's own). */
calx_dtype calx__column_dtype(const calx_column *c, bool element);

/* The index of the name (len bytes) among e's names, or -1. */
int calx__enum_index(const calx_enum *e, const char *name, size_t len);

#endif
