/* SPDX-License-Identifier: MIT */
/* The PostgreSQL dialect: SQLAlchemy's PGDialect's facts and forms, as data
 * and hooks behind calx_dialect (dialect.h). Everything calx renders
 * differently for PostgreSQL is decided here; the compilers only read it. */
#include <stdlib.h>
#include <string.h>

#include "core/array_text.h"
#include "core/nomem.h"
#include "sql/compiler_int.h"
#include "sql/convert.h"

/* SQLAlchemy's postgresql RESERVED_WORDS. */
static const char *const reserved[] = {
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

/* SQLAlchemy's PGCompiler.limit_clause: LIMIT ALL stands in when only an
 * OFFSET is given. */
static void limit_offset(calx__sqlc *c, const calx_value *limit, const calx_value *offset)
{
    if (limit) {
        calx__sqlc_put(c, " \n LIMIT ");
        calx__sqlc_bind(c, limit);
    }
    if (offset) {
        if (!limit)
            calx__sqlc_put(c, "\n LIMIT ALL");
        calx__sqlc_put(c, " OFFSET ");
        calx__sqlc_bind(c, offset);
    }
}

/* SQLAlchemy 2.0's PGDialect.has_table query, parameters bound by name. */
static const char has_table_sql[] =
    "SELECT pg_catalog.pg_class.relname \n"
    "FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
    "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
    "WHERE pg_catalog.pg_class.relname = :table_name AND pg_catalog.pg_class.relkind = "
    "ANY (ARRAY[:param_1, :param_2, :param_3, :param_4, :param_5]) AND "
    "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
    "pg_catalog.pg_namespace.nspname != :nspname_1";

static size_t has_table(const calx_dialect *d, const char *table, char **sql,
                        calx_error *err)
{
    (void)d;
    (void)table;   /* bound, see has_table_params */
    if (!(sql[0] = strdup(has_table_sql)))
        return calx__nomem(err, "rendering DDL"), 0;
    return 1;
}

static size_t has_table_params(const char *table, calx_param *items)
{
    /* Tables, partitioned tables, foreign tables, views, materialized views. */
    static const char *const names[] = { "param_1", "param_2", "param_3", "param_4",
                                         "param_5" };
    static const char *const kinds[] = { "r", "p", "f", "v", "m" };
    items[0] = (calx_param){ "table_name", calx_text(table) };
    for (size_t i = 0; i < 5; i++)
        items[1 + i] = (calx_param){ names[i], calx_text(kinds[i]) };
    items[6] = (calx_param){ "nspname_1", calx_text("pg_catalog") };
    return 7;
}

/* An enum array read back: the driver hands it up as its text, {sad,NULL},
 * since its type's OID is the database's own (made by CREATE TYPE) and no
 * table of the driver's names it. The column says what it is, so it is
 * read here into the enum's C values, its items in room. That, rather
 * than the driver learning the OIDs from pg_type (asyncpg's way), keeps
 * the driver free of a catalog query and a per-connection cache that a
 * DROP TYPE would make stale; the cost is text, for arrays that are
 * short names. An array the driver did decode (a query that cast the
 * column to text[]) has its names read the same way. */
static int enum_array(const calx_column *c, calx_value *v, calx_type_scratch *room,
                      calx_error *err)
{
    if (v->type == CALX_ARRAY && v->elem == CALX_INT)
        return 0;   /* read already */
    if (v->type == CALX_ARRAY && v->elem == CALX_TEXT) {
        calx_value *items = calx_type_scratch_alloc(room, v->u.array.n * sizeof *items + 1);
        if (!items)
            return calx__nomem(err, "reading column %s", c->name);
        if (v->u.array.n)
            memcpy(items, v->u.array.items, v->u.array.n * sizeof *items);
        *v = calx_value_array(CALX_TEXT, items, v->u.array.n);
        return calx__enum_array_from_names(c, v, err);
    }
    if (v->type != CALX_TEXT)
        return 0;
    bool nested;
    const char *p = calx__array_text_start(v->u.s.ptr, &nested);
    if (!p)
        return calx_error_set(err, CALX_ERR_DATA, "column %s: '%.*s' is not %s of enum type %s",
                              c->name, (int)(v->u.s.len > 64 ? 64 : v->u.s.len), v->u.s.ptr,
                              nested ? "a one-dimensional array (calx's arrays have one)"
                                     : "an array",
                              c->enum_type->name);
    /* The names unescaped one after another, each NUL-ended, then read as
     * an array of names. */
    size_t most = calx__array_text_most(p), n = 0;
    calx_value *items = calx_type_scratch_alloc(room, most * sizeof *items);
    char *names = calx_type_scratch_alloc(room, v->u.s.len + most + 1);
    if (!items || !names)
        return calx__nomem(err, "reading column %s", c->name);
    if (*p == '}')
        p++;
    else
        for (;;) {
            const char *end;
            size_t len;
            bool null;
            if (n == most || !calx__array_text_element(p, &end, names, &len, &null))
                return calx_error_set(err, CALX_ERR_DATA, "column %s: '%.*s' is not an array "
                                      "of enum type %s", c->name,
                                      (int)(v->u.s.len > 64 ? 64 : v->u.s.len), v->u.s.ptr,
                                      c->enum_type->name);
            items[n++] = null ? calx_null() : calx_textn(names, len);
            names += len + 1;
            p = end + 1;
            if (*end == '}')
                break;
        }
    *v = calx_value_array(CALX_TEXT, items, n);
    return calx__enum_array_from_names(c, v, err);
}

int calx__pg_stored_value(const calx_column *c, calx_value *v, char *scratch,
                          calx_type_scratch *room, calx_error *err)
{
    (void)scratch;
    if (c->type == CALX_COL_ARRAY && c->array_of == CALX_COL_ENUM)
        return enum_array(c, v, room, err);
    return calx__value_from_text(c, v, err);
}

/* SQLAlchemy's PostgreSQL JSON operators: (data -> ?) for a step, ->> for
 * the last when it is read as text, CAST of that text for a number or a
 * bool. An index is cast to INTEGER: json -> has a text and an integer
 * form, and a bound integer would otherwise be a BIGINT that neither
 * takes. */
static void json_path(calx__sqlc *c, const calx_expr *e)
{
    const char *cast = e->u.json.as == CALX_JSON_INT    ? "INTEGER"
                       : e->u.json.as == CALX_JSON_REAL ? "DOUBLE PRECISION"
                       : e->u.json.as == CALX_JSON_BOOL ? "BOOLEAN"
                                                        : NULL;
    if (cast)
        calx__sqlc_put(c, "CAST(");
    calx__sqlc_put(c, "(");
    calx__sqlc_expr(c, e->u.json.a, false);
    calx__sqlc_put(c, e->u.json.as == CALX_JSON_VALUE ? " -> " : " ->> ");
    bool index = e->u.json.step->type == CALX_XT_INT;
    if (index)
        calx__sqlc_put(c, "CAST(");
    calx__sqlc_expr(c, e->u.json.step, false);
    if (index)
        calx__sqlc_put(c, " AS INTEGER)");
    calx__sqlc_put(c, ")");
    if (cast) {
        calx__sqlc_put(c, " AS ");
        calx__sqlc_put(c, cast);
        calx__sqlc_put(c, ")");
    }
}

/* JSONB's @>, on json and jsonb columns alike. */
static void json_contains(calx__sqlc *c, const calx_expr *e)
{
    calx__sqlc_put(c, "(CAST(");
    calx__sqlc_expr(c, e->u.json.a, false);
    calx__sqlc_put(c, " AS JSONB) @> CAST(");
    calx__sqlc_expr(c, e->u.json.step, false);
    calx__sqlc_put(c, " AS JSONB))");
}

/* SQLAlchemy's PostgreSQL ARRAY operators: value = ANY (array), a @> b,
 * a && b, array_length(a, 1). */
static void array_op(calx__sqlc *c, const calx_expr *e)
{
    /* json has no equality operator: the server would refuse these with
     * "could not identify an equality operator for type json". */
    const calx_column *col = calx__expr_column(e->u.arr.a);
    if (e->u.arr.op != CALX_ARRAY_LENGTH && col && col->type == CALX_COL_ARRAY &&
        col->array_of == CALX_COL_JSON) {
        char what[200];
        calx__expr_describe(e->u.arr.a, what, sizeof what);
        calx__sqlc_fail(c, CALX_ERR_NOT_SUPPORTED,
                        "%s is JSON[]: PostgreSQL's json has no equality, so ANY, @> and && "
                        "cannot compare its elements (array_length can)",
                        what);
        return;
    }
    switch (e->u.arr.op) {
    case CALX_ARRAY_ANY:
        calx__sqlc_expr(c, e->u.arr.b, false);
        calx__sqlc_put(c, " = ANY (");
        calx__sqlc_expr(c, e->u.arr.a, false);
        calx__sqlc_put(c, ")");
        return;
    case CALX_ARRAY_CONTAINS:
    case CALX_ARRAY_OVERLAPS:
        calx__sqlc_put(c, "(");
        calx__sqlc_expr(c, e->u.arr.a, false);
        calx__sqlc_put(c, e->u.arr.op == CALX_ARRAY_CONTAINS ? " @> " : " && ");
        calx__sqlc_expr(c, e->u.arr.b, false);
        calx__sqlc_put(c, ")");
        return;
    case CALX_ARRAY_LENGTH:
        calx__sqlc_put(c, "array_length(");
        calx__sqlc_expr(c, e->u.arr.a, false);
        calx__sqlc_put(c, ", 1)");
        return;
    }
}

const calx_dialect calx__dialect_postgresql = {
    .name = "postgresql",
    .display_name = "PostgreSQL",
    .paramstyle = CALX_PARAMSTYLE_DOLLAR,
    .supports_returning = true,
    .supports_savepoints = true,
    .supports_native_boolean = true,
    .supports_ilike = true,
    .supports_update_from = true,
    .supports_delete_using = true,
    .max_params = 65535,             /* the protocol's 16-bit parameter count */
    /* No lastrowid: the row's own key comes back, several rows' keys by a
     * sentinel (SQLAlchemy 2.0), or drawn first from the sequence. */
    .key_strategy = CALX_KEYS_RETURNING,
    .supports_unnest_rows = true,
    /* A data-modifying WITH runs to its end whatever reads it; 1 / 0 is
     * 22012. A key matches one row at most, so none is the only miss. */
    .row_check_open = "WITH row_check AS (",
    .row_check_close = " RETURNING 1) SELECT 1 / count(*) FROM row_check",
    .row_check_state = "22012",
    .sequence_prefetch_sql = "SELECT nextval(pg_get_serial_sequence(?, ?)) "
                             "FROM generate_series(1, ?)",
    .upsert = CALX_UPSERT_ON_CONFLICT,
    .current_timestamp = "now()",
    .truediv = CALX_TRUEDIV_CAST,
    .is_distinct_from = "IS DISTINCT FROM",
    .is_not_distinct_from = "IS NOT DISTINCT FROM",
    .reserved_words = reserved,
    .identifier_quote = '"',
    .type_names = {
        [CALX_COL_INT32] = "INTEGER",
        [CALX_COL_INT64] = "BIGINT",
        [CALX_COL_DOUBLE] = "DOUBLE PRECISION",
        [CALX_COL_BOOL] = "BOOLEAN",
        [CALX_COL_TEXT] = "VARCHAR",
        [CALX_COL_BLOB] = "BYTEA",
        [CALX_COL_TIMESTAMP] = "TIMESTAMP WITH TIME ZONE",
        [CALX_COL_DECIMAL] = "NUMERIC",
        [CALX_COL_UUID] = "UUID",
        [CALX_COL_DATE] = "DATE",
        [CALX_COL_TIME] = "TIME WITHOUT TIME ZONE",
        [CALX_COL_DATETIME] = "TIMESTAMP WITHOUT TIME ZONE",
        [CALX_COL_INTERVAL] = "INTERVAL",
        [CALX_COL_JSON] = "JSON",
        [CALX_COL_ENUM] = NULL,          /* native: the type's own name */
    },
    .native_enum = true,
    .supports_arrays = true,
    .decimal_max_precision = CALX_DECIMAL_MAX_DIGITS,
    /* The driver hands the richer types over as they are, and decodes what
     * it knows by type; text left over parses as PostgreSQL prints it. */
    .stored_value = calx__pg_stored_value,
    .bind_value = NULL,
    .serial_int32 = "SERIAL",
    .serial_int64 = "BIGSERIAL",
    .supports_composite_autoincrement = true,
    /* PostgreSQL wants an alias on a FROM subquery, so the empty set is
     * NULL and a false (or, negated, true) condition instead. */
    .empty_in = "NULL) AND (1 != 1",
    .empty_not_in = "NULL) OR (1 = 1",
    .empty_in_is_and = true,
    .json_path = json_path,
    .json_contains = json_contains,
    .array_op = array_op,
    .limit_offset = limit_offset,
    .has_table = has_table,
    .has_table_params = has_table_params,
    /* The insert position, not the write one: the commit record is in it
     * as soon as COMMIT returns, whether or not it was flushed yet. */
    .replica_position_sql = "SELECT CAST(pg_current_wal_insert_lsn() AS TEXT)",
    /* NULL (not a standby: a primary reached by mistake) reads as caught
     * up, since a primary has every commit. */
    .replica_caught_up_sql = "SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(? AS pg_lsn), "
                             "true)",
};
