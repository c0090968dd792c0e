/* DDL rendering, following SQLAlchemy's DDLCompiler and its SQLite and
 * PostgreSQL dialects (sqlalchemy/sql/compiler.py, dialects/.../base.py):
 * same spacing, same constraint order, same quoting, so a calx log and a
 * SQLAlchemy log of the same schema read the same. */
#include <stdlib.h>
#include <string.h>

#include "sql/ddl.h"
#include "sql/ident.h"

static bool is_pg(const calx_dialect *d)
{
    return strcmp(d->name, "postgresql") == 0;
}

/* ---- names ---- */

char *calx__ddl_index_name(const calx_table *t, const calx_column *c)
{
    calx_buf b = { 0 };
    calx__buf_printf(&b, "ix_%s_%s", t->name, c->name);
    return calx__buf_take(&b);
}

static char *finish(calx_buf *b, calx_error *err)
{
    char *s = calx__buf_take(b);
    if (!s)
        calx_error_set(err, CALX_ERR_NOMEM, "out of memory rendering DDL");
    return s;
}

/* ---- CREATE TABLE ---- */

static void put_type(calx_buf *b, const calx_dialect *d, const calx_column *c)
{
    bool pg = is_pg(d);
    switch (c->type) {
    case CALX_COL_INT32: calx__buf_puts(b, "INTEGER"); break;
    case CALX_COL_INT64: calx__buf_puts(b, pg ? "BIGINT" : "INTEGER"); break;
    case CALX_COL_DOUBLE: calx__buf_puts(b, pg ? "DOUBLE PRECISION" : "FLOAT"); break;
    case CALX_COL_BOOL: calx__buf_puts(b, "BOOLEAN"); break;
    case CALX_COL_TEXT:
        calx__buf_puts(b, "VARCHAR");
        if (c->max_length > 0)
            calx__buf_printf(b, "(%d)", c->max_length);
        break;
    case CALX_COL_BLOB: calx__buf_puts(b, pg ? "BYTEA" : "BLOB"); break;
    case CALX_COL_TIMESTAMP:
        calx__buf_puts(b, pg ? "TIMESTAMP WITH TIME ZONE" : "DATETIME");
        break;
    }
}

static void put_column(calx_buf *b, const calx_dialect *d, const calx_column *c,
                       const calx_column *autoinc)
{
    calx__sql_put_ident(b, d, c->name, false);
    calx__buf_puts(b, " ");
    if (is_pg(d) && c == autoinc) {
        /* SQLAlchemy's PGDDLCompiler: SERIAL in place of the type, no
         * DEFAULT (the sequence is the default). */
        calx__buf_puts(b, c->type == CALX_COL_INT64 ? "BIGSERIAL" : "SERIAL");
    } else {
        put_type(b, d, c);
        if (c->server_default)
            calx__buf_printf(b, " DEFAULT %s", c->server_default);
    }
    if (!c->nullable || c->primary_key)
        calx__buf_puts(b, " NOT NULL");
}

/* The table constraints as SQLAlchemy orders them: the primary key first
 * (its autoincrement column leading), then in creation order, which is
 * column order with a column's UNIQUE before its FOREIGN KEY. Each follows
 * the column list as ", \n\t" + constraint. */
static void put_constraints(calx_buf *b, const calx_dialect *d, const calx_table *t,
                            const calx_column *autoinc)
{
    if (calx__table_npk(t)) {
        calx__buf_puts(b, ", \n\tPRIMARY KEY (");
        const char *comma = "";
        if (autoinc) {
            calx__sql_put_ident(b, d, autoinc->name, false);
            comma = ", ";
        }
        for (size_t i = 0; i < t->ncolumns; i++) {
            const calx_column *c = &t->columns[i];
            if (!c->primary_key || c == autoinc)
                continue;
            calx__buf_puts(b, comma);
            calx__sql_put_ident(b, d, c->name, false);
            comma = ", ";
        }
        calx__buf_puts(b, ")");
    }
    for (size_t i = 0; i < t->ncolumns; i++) {
        const calx_column *c = &t->columns[i];
        if (c->unique && !c->index) {
            calx__buf_puts(b, ", \n\tUNIQUE (");
            calx__sql_put_ident(b, d, c->name, false);
            calx__buf_puts(b, ")");
        }
        const char *col;
        size_t tlen = c->foreign_key ? calx__fk_split(c->foreign_key, &col) : 0;
        if (!tlen)
            continue;
        char *parent = strndup(c->foreign_key, tlen);
        if (!parent) {
            b->oom = true;
            return;
        }
        calx__buf_puts(b, ", \n\tFOREIGN KEY(");
        calx__sql_put_ident(b, d, c->name, false);
        calx__buf_puts(b, ") REFERENCES ");
        calx__sql_put_ident(b, d, parent, false);
        calx__buf_puts(b, " (");
        calx__sql_put_ident(b, d, col, false);
        calx__buf_puts(b, ")");
        free(parent);
        if (c->on_delete)
            calx__buf_printf(b, " ON DELETE %s", c->on_delete);
        if (c->on_update)
            calx__buf_printf(b, " ON UPDATE %s", c->on_update);
    }
}

char *calx__ddl_create_table(const calx_dialect *d, const calx_table *t, calx_error *err)
{
    const calx_column *autoinc = calx__table_autoinc_column(t);
    if (!is_pg(d) && autoinc && autoinc->autoincrement == CALX_AUTOINC_ON &&
        calx__table_npk(t) != 1) {
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "table '%s': SQLite does not support autoincrement for composite "
                       "primary keys (column %s)",
                       t->name, autoinc->name);
        return NULL;
    }
    calx_buf b = { 0 };
    calx__buf_puts(&b, "\nCREATE TABLE ");
    calx__sql_put_ident(&b, d, t->name, false);
    calx__buf_puts(&b, " (");
    for (size_t i = 0; i < t->ncolumns; i++) {
        calx__buf_puts(&b, i ? ", \n\t" : "\n\t");
        put_column(&b, d, &t->columns[i], autoinc);
    }
    put_constraints(&b, d, t, autoinc);
    calx__buf_puts(&b, "\n)\n\n");
    return finish(&b, err);
}

/* ---- indexes, DROP ---- */

char *calx__ddl_create_index(const calx_dialect *d, const calx_table *t,
                             const calx_column *c, calx_error *err)
{
    char *name = calx__ddl_index_name(t, c);
    if (!name)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory rendering DDL"), NULL;
    calx_buf b = { 0 };
    calx__buf_puts(&b, c->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    calx__sql_put_ident(&b, d, name, false);
    calx__buf_puts(&b, " ON ");
    calx__sql_put_ident(&b, d, t->name, false);
    calx__buf_puts(&b, " (");
    calx__sql_put_ident(&b, d, c->name, false);
    calx__buf_puts(&b, ")");
    free(name);
    return finish(&b, err);
}

char *calx__ddl_drop_table(const calx_dialect *d, const calx_table *t, calx_error *err)
{
    calx_buf b = { 0 };
    calx__buf_puts(&b, "\nDROP TABLE ");
    calx__sql_put_ident(&b, d, t->name, false);
    return finish(&b, err);
}

char *calx__ddl_drop_index(const calx_dialect *d, const calx_table *t,
                           const calx_column *c, calx_error *err)
{
    char *name = calx__ddl_index_name(t, c);
    if (!name)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory rendering DDL"), NULL;
    calx_buf b = { 0 };
    calx__buf_puts(&b, "\nDROP INDEX ");
    calx__sql_put_ident(&b, d, name, false);
    free(name);
    return finish(&b, err);
}

/* ---- does a table exist ---- */

/* SQLAlchemy 2.0's PGDialect.has_table query, parameters bound by name. */
static const char pg_has_table[] =
    "SELECT pg_catalog.pg_class.relname \n"
    "FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
    "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
    "WHERE pg_catalog.pg_class.relname = :table_name AND pg_catalog.pg_class.relkind = "
    "ANY (ARRAY[:param_1, :param_2, :param_3, :param_4, :param_5]) AND "
    "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
    "pg_catalog.pg_namespace.nspname != :nspname_1";

size_t calx__ddl_has_table(const calx_dialect *d, const char *table,
                           char *sql[CALX_DDL_HAS_TABLE_MAX], calx_error *err)
{
    if (is_pg(d)) {
        if (!(sql[0] = strdup(pg_has_table)))
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory"), 0;
        return 1;
    }
    /* PRAGMA without a schema searches every attached database; SQLAlchemy
     * asks main, then temp (whose tables share main's namespace). */
    static const char *const schemas[] = { "main", "temp" };
    for (size_t i = 0; i < 2; i++) {
        calx_buf b = { 0 };
        calx__buf_printf(&b, "PRAGMA %s.table_info(", schemas[i]);
        calx__sql_put_ident(&b, d, table, true);
        calx__buf_puts(&b, ")");
        if (!(sql[i] = finish(&b, err))) {
            if (i)
                free(sql[0]);
            return 0;
        }
    }
    return 2;
}

size_t calx__ddl_has_table_params(const calx_dialect *d, const char *table,
                                  calx_param *items)
{
    if (!is_pg(d))
        return 0;
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
