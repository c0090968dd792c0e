/* SPDX-License-Identifier: MIT */
/* What every dialect shares. The facts of each database live in its own
 * file (dialect_sqlite.c, dialect_postgresql.c); this file only reads them
 * in ways that do not depend on which database it is. */
#include <string.h>

#include "sql/dialect.h"

bool calx__dialect_is_reserved(const calx_dialect *d, const char *name)
{
    /* The first letter settles most words without a strcmp (the flush
     * renders its statements' names on every flush). */
    for (const char *const *w = d->reserved_words; w && *w; w++)
        if ((*w)[0] == name[0] && strcmp(*w, name) == 0)
            return true;
    return false;
}
