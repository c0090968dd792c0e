/* SPDX-License-Identifier: MIT */
/* Identifiers in SQL text: quoted only where the dialect needs it, by
 * SQLAlchemy's IdentifierPreparer rule, so that DDL and queries name tables
 * and columns the same way (ddl.c and the compilers use these). The rule is
 * shared; the reserved words and the quote character are each dialect's
 * (dialect_<db>.c). */
#include "core/chars.h"
#include "sql/ident.h"

bool calx__sql_requires_quotes(const calx_dialect *d, const char *name)
{
    /* SQLAlchemy's illegal_initial_characters are the digits and '$'; a
     * leading '_' is legal and stays unquoted. */
    if (!*name || calx__ascii_is_digit(name[0]) || name[0] == '$')
        return true;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        /* Uppercase needs quotes to keep its case: unquoted, PostgreSQL
         * folds it to lowercase. Anything past ASCII is quoted too. */
        if (!(calx__ascii_is_lower(ch) || calx__ascii_is_digit(ch) || ch == '_' || ch == '$'))
            return true;
    }
    return calx__dialect_is_reserved(d, name);
}

void calx__sql_put_ident(calx_buf *b, const calx_dialect *d, const char *name, bool force)
{
    if (!force && !calx__sql_requires_quotes(d, name)) {
        calx__buf_puts(b, name);
        return;
    }
    char q = d->identifier_quote;
    calx__buf_put(b, &q, 1);
    for (const char *p = name; *p; p++) {
        calx__buf_put(b, p, 1);
        if (*p == q)
            calx__buf_put(b, p, 1);
    }
    calx__buf_put(b, &q, 1);
}
