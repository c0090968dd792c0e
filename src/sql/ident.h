/* SPDX-License-Identifier: MIT */
/* Identifiers in SQL text, quoted as SQLAlchemy's IdentifierPreparer quotes
 * them: only where the dialect needs it. Shared by DDL and the SELECT
 * compiler so a name reads the same in both. */
#ifndef CALX_SQL_IDENT_H
#define CALX_SQL_IDENT_H

#include <stdbool.h>
#include "core/buf.h"
#include "sql/dialect.h"

/* True when name must be quoted: it is one of the dialect's reserved
 * words, has a character outside [A-Za-z0-9_$] or an uppercase letter
 * (PostgreSQL folds unquoted names to lowercase), or starts with a digit
 * or '$'. */
bool calx__sql_requires_quotes(const calx_dialect *d, const char *name);

/* Appends name to b, double-quoted (inner quotes doubled) when required,
 * or always when force. */
void calx__sql_put_ident(calx_buf *b, const calx_dialect *d, const char *name, bool force);

#endif
