/* SPDX-License-Identifier: MIT */
/* The SQLite dialect: SQLAlchemy's SQLiteDialect's facts and forms, as data
 * and hooks behind calx_dialect (dialect.h). Everything calx renders
 * differently for SQLite is decided here; the compilers only read it.
 *
 * RETURNING needs SQLite 3.35 (2021), ON CONFLICT 3.24, UPDATE ... FROM
 * 3.33: every SQLite calx builds against is newer (Debian 12 ships 3.40). */
#include <stdlib.h>

#include "core/buf.h"
#include "core/nomem.h"
#include "sql/compiler_int.h"
#include "sql/ident.h"

/* SQLAlchemy's SQLiteIdentifierPreparer.reserved_words. "user" is not one:
 * SQLite does not reserve it, and SQLAlchemy leaves it unquoted there. */
static const char *const reserved[] = {
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

/* SQLAlchemy's SQLiteCompiler.limit_clause: OFFSET needs a LIMIT (-1 is
 * none), and a LIMIT alone gets OFFSET 0, all bound. */
static void limit_offset(calx__sqlc *c, const calx_value *limit, const calx_value *offset)
{
    calx__sqlc_put(c, "\n LIMIT ");
    if (limit)
        calx__sqlc_bind(c, limit);
    else
        calx__sqlc_bind_const(c, calx_int(-1));
    calx__sqlc_put(c, " OFFSET ");
    if (offset)
        calx__sqlc_bind(c, offset);
    else
        calx__sqlc_bind_const(c, calx_int(0));
}

/* PRAGMA without a schema searches every attached database; SQLAlchemy
 * asks main, then temp (whose tables share main's namespace). */
static size_t has_table(const calx_dialect *d, const char *table, char **sql,
                        calx_error *err)
{
    static const char *const schemas[] = { "main", "temp" };
    for (size_t i = 0; i < 2; i++) {
        calx_buf b = { 0 };
        calx__buf_printf(&b, "PRAGMA %s.table_info(", schemas[i]);
        calx__sql_put_ident(&b, d, table, true);
        calx__buf_puts(&b, ")");
        if (!(sql[i] = calx__buf_take(&b))) {
            if (i)
                free(sql[0]);
            return calx__nomem(err, "rendering DDL"), 0;
        }
    }
    return 2;
}

/* SQLAlchemy's SQLite JSON: JSON_EXTRACT(data, path), the path built in
 * SQL from the bound keys ('$' || '.' || JSON_QUOTE(?) || '[' || ? || ']'),
 * so no key is ever written into the text. Read as JSON, the result is
 * quoted back into JSON (JSON_QUOTE), as SQLAlchemy does; read as text or
 * a number, JSON_EXTRACT's own SQL value is it. */
static void json_path(calx__sqlc *c, const calx_expr *e)
{
    const calx_expr *steps[CALX__JSON_PATH_MAX];
    size_t n = calx__json_path_steps(e, steps);
    bool quote = e->u.json.as == CALX_JSON_VALUE;
    calx__sqlc_put(c, quote ? "JSON_QUOTE(JSON_EXTRACT(" : "JSON_EXTRACT(");
    calx__sqlc_expr(c, calx__json_path_base(e), false);
    calx__sqlc_put(c, ", '$'");
    for (size_t i = 0; i < n; i++) {
        bool index = steps[i]->type == CALX_XT_INT;
        calx__sqlc_put(c, index ? " || '[' || " : " || '.' || JSON_QUOTE(");
        calx__sqlc_expr(c, steps[i], false);
        calx__sqlc_put(c, index ? " || ']'" : ")");
    }
    calx__sqlc_put(c, quote ? "))" : ")");
}

const calx_dialect calx__dialect_sqlite = {
    .name = "sqlite",
    .display_name = "SQLite",
    .paramstyle = CALX_PARAMSTYLE_QMARK,
    .supports_returning = true,
    .supports_savepoints = true,
    .supports_native_boolean = false,
    .supports_ilike = false,
    .supports_update_from = true,
    .supports_delete_using = false,
    .max_params = 32766,             /* SQLITE_MAX_VARIABLE_NUMBER since 3.32 */
    .key_strategy = CALX_KEYS_LASTROWID,
    .sequence_prefetch_sql = NULL,
    .upsert = CALX_UPSERT_ON_CONFLICT,
    .current_timestamp = "CURRENT_TIMESTAMP",
    .truediv = CALX_TRUEDIV_PLUS_REAL,   /* CAST(2 AS NUMERIC) stays an integer */
    .is_distinct_from = "IS NOT",        /* SQLite's IS compares NULLs as values */
    .is_not_distinct_from = "IS",
    .reserved_words = reserved,
    .identifier_quote = '"',
    .type_names = {
        [CALX_COL_INT32] = "INTEGER",
        [CALX_COL_INT64] = "INTEGER",
        [CALX_COL_DOUBLE] = "FLOAT",
        [CALX_COL_BOOL] = "BOOLEAN",
        [CALX_COL_TEXT] = "VARCHAR",
        [CALX_COL_BLOB] = "BLOB",
        [CALX_COL_TIMESTAMP] = "DATETIME",
        [CALX_COL_DECIMAL] = "NUMERIC",
        [CALX_COL_UUID] = "CHAR(32)",
        [CALX_COL_DATE] = "DATE",
        [CALX_COL_TIME] = "TIME",
        [CALX_COL_DATETIME] = "DATETIME",
        [CALX_COL_INTERVAL] = "DATETIME",
        [CALX_COL_JSON] = "JSON",
        [CALX_COL_ENUM] = "VARCHAR",
    },
    .native_enum = false,
    .supports_arrays = false,            /* SQLAlchemy's ARRAY is PostgreSQL's */
    .decimal_max_precision = 18,
    .stored_value = calx__sqlite_stored_value,
    .bind_value = calx__sqlite_bind_value,
    .serial_int32 = NULL,
    .serial_int64 = NULL,
    .supports_composite_autoincrement = false,
    /* A subquery that is empty, which SQLite accepts without an alias. */
    .empty_in = "SELECT 1 FROM (SELECT 1) WHERE 1!=1",
    .empty_not_in = "SELECT 1 FROM (SELECT 1) WHERE 1!=1",
    .empty_in_is_and = false,
    .json_path = json_path,
    .json_contains = NULL,               /* no containment operator */
    .array_op = NULL,                    /* no arrays */
    .limit_offset = limit_offset,
    .has_table = has_table,
    .has_table_params = NULL,
};
