/* Identifiers in SQL text: quoted only where the dialect needs it, by
 * SQLAlchemy's IdentifierPreparer rule, so that DDL and queries name tables
 * and columns the same way (ddl.c and the compilers use these). */
#include <ctype.h>
#include <string.h>

#include "sql/ident.h"

/* SQLAlchemy's SQLiteIdentifierPreparer.reserved_words. "user" is not one:
 * SQLite does not reserve it, and SQLAlchemy leaves it unquoted there. */
static const char *const sqlite_reserved[] = {
    "add", "after", "all", "alter", "analyze", "and", "as", "asc", "attach",
    "autoincrement", "before", "begin", "between", "by", "cascade", "case", "cast",
    "check", "collate", "column", "commit", "conflict", "constraint", "create",
    "cross", "current_date", "current_time", "current_timestamp", "database",
    "default", "deferrable", "deferred", "delete", "desc", "detach", "distinct",
    "drop", "each", "else", "end", "escape", "except", "exclusive", "exists",
    "explain", "false", "fail", "for", "foreign", "from", "full", "glob", "group",
    "having", "if", "ignore", "immediate", "in", "index", "indexed", "initially",
    "inner", "insert", "instead", "intersect", "into", "is", "isnull", "join", "key",
    "left", "like", "limit", "match", "natural", "not", "notnull", "null", "of",
    "offset", "on", "or", "order", "outer", "plan", "pragma", "primary", "query",
    "raise", "references", "reindex", "rename", "replace", "restrict", "right",
    "rollback", "row", "select", "set", "table", "temp", "temporary", "then", "to",
    "transaction", "trigger", "true", "union", "unique", "update", "using", "vacuum",
    "values", "view", "virtual", "when", "where", NULL
};

/* SQLAlchemy's postgresql RESERVED_WORDS. */
static const char *const pg_reserved[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
    "both", "case", "cast", "check", "collate", "column", "constraint", "create",
    "current_catalog", "current_date", "current_role", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct",
    "do", "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant",
    "group", "having", "in", "initially", "intersect", "into", "leading", "limit",
    "localtime", "localtimestamp", "new", "not", "null", "of", "off", "offset", "old",
    "on", "only", "or", "order", "placing", "primary", "references", "returning",
    "select", "session_user", "some", "symmetric", "table", "then", "to", "trailing",
    "true", "union", "unique", "user", "using", "variadic", "when", "where", "window",
    "with", "authorization", "between", "binary", "cross", "current_schema", "freeze",
    "full", "ilike", "inner", "is", "isnull", "join", "left", "like", "natural",
    "notnull", "outer", "over", "overlaps", "right", "similar", "verbose", NULL
};

static bool is_pg(const calx_dialect *d)
{
    return d->id == CALX_DIALECT_POSTGRESQL;
}

bool calx__sql_requires_quotes(const calx_dialect *d, const char *name)
{
    /* SQLAlchemy's illegal_initial_characters are the digits and '$'; a
     * leading '_' is legal and stays unquoted. */
    if (!*name || isdigit((unsigned char)name[0]) || name[0] == '$')
        return true;
    for (const char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        /* Uppercase needs quotes to keep its case: unquoted, PostgreSQL
         * folds it to lowercase. */
        if (!(islower(ch) || isdigit(ch) || ch == '_' || ch == '$') || ch > 0x7f)
            return true;
    }
    /* The first letter settles most words without a strcmp (the flush
     * renders its statements' names on every flush). */
    for (const char *const *w = is_pg(d) ? pg_reserved : sqlite_reserved; *w; w++)
        if ((*w)[0] == name[0] && strcmp(*w, name) == 0)
            return true;
    return false;
}

void calx__sql_put_ident(calx_buf *b, const calx_dialect *d, const char *name, bool force)
{
    if (!force && !calx__sql_requires_quotes(d, name)) {
        calx__buf_puts(b, name);
        return;
    }
    calx__buf_put(b, "\"", 1);
    for (const char *p = name; *p; p++)
        calx__buf_put(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    calx__buf_put(b, "\"", 1);
}
