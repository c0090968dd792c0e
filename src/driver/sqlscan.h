/* SPDX-License-Identifier: MIT */
/* Reading the start of SQL text, for drivers that must know what kind of
 * statement they were given (a transaction statement, a query that can
 * stream, COPY) without parsing it. */
#ifndef CALX_DRIVER_SQLSCAN_H
#define CALX_DRIVER_SQLSCAN_H

#include <stdbool.h>

/* p past white space and comments (-- and block comments), and also past
 * semicolons when semicolons is true (a statement's empty tail). */
const char *calx__sql_skip_space(const char *p, bool semicolons);

/* True when sql starts with keyword kw (case-insensitive, whole word). */
bool calx__sql_starts_with_word(const char *sql, const char *kw);

#endif
