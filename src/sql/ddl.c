/* SPDX-License-Identifier: MIT */
/* DDL rendering, following SQLAlchemy's DDLCompiler and its SQLite and
 * PostgreSQL dialects (sqlalchemy/sql/compiler.py, dialects/.../base.py):
 * same spacing, same constraint order, same quoting, so a calx log and a
 * SQLAlchemy log of the same schema read the same. What differs per
 * database (type names, SERIAL, the has-table query) is the dialect's data
 * and hooks (dialect_<db>.c); nothing here asks which database it is. */
#include <stdlib.h>
#include <string.h>

#include "core/nomem.h"
#include "sql/ddl.h"
#include "sql/ident.h"

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
        calx__nomem(err, "rendering DDL");
    return s;
}

/* ---- CREATE TABLE ---- */

/* A SQL string literal: names of enum values are declarations, written
 * into DDL as SQLAlchemy does (a ' doubled). */
static void put_string(calx_buf *b, const char *s)
{
    calx__buf_puts(b, "'");
    for (const char *q; (q = strchr(s, '\'')); s = q + 1) {
        calx__buf_put(b, s, (size_t)(q - s));
        calx__buf_puts(b, "''");
    }
    calx__buf_puts(b, s);
    calx__buf_puts(b, "'");
}

static size_t longest_name(const calx_enum *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (strlen(e->names[i]) > n)
            n = strlen(e->names[i]);
    return n;
}

void calx__ddl_put_type(calx_buf *b, const calx_dialect *d, const calx_column *c)
{
    calx_coltype type = c->type == CALX_COL_ARRAY ? c->array_of : c->type;
    if (type == CALX_COL_ENUM && d->native_enum) {
        calx__sql_put_ident(b, d, c->enum_type->name, false);
    } else {
        calx__buf_puts(b, d->type_names[type]);
        if (type == CALX_COL_TEXT && c->max_length > 0)
            calx__buf_printf(b, "(%d)", c->max_length);
        else if (type == CALX_COL_DECIMAL)
            calx__buf_printf(b, "(%d, %d)", c->precision, c->scale);
        else if (type == CALX_COL_ENUM)
            calx__buf_printf(b, "(%zu)", longest_name(c->enum_type));
    }
    if (c->type == CALX_COL_ARRAY)
        calx__buf_puts(b, "[]");
}

static void put_column(calx_buf *b, const calx_dialect *d, const calx_column *c,
                       const calx_column *autoinc)
{
    calx__sql_put_ident(b, d, c->name, false);
    calx__buf_puts(b, " ");
    const char *serial = c != autoinc ? NULL
                         : c->type == CALX_COL_INT64 ? d->serial_int64 : d->serial_int32;
    if (serial) {
        /* SQLAlchemy's PGDDLCompiler: SERIAL in place of the type, no
         * DEFAULT (the sequence is the default). */
        calx__buf_puts(b, serial);
    } else {
        calx__ddl_put_type(b, d, c);
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
    /* SQLAlchemy's Enum(create_constraint=True) where enums are not native:
     * a CHECK named after the type. */
    for (size_t i = 0; !d->native_enum && i < t->ncolumns; i++) {
        const calx_column *c = &t->columns[i];
        if (c->type != CALX_COL_ENUM || !c->enum_type->check)
            continue;
        calx__buf_puts(b, ", \n\tCONSTRAINT ");
        calx__sql_put_ident(b, d, c->enum_type->name, false);
        calx__buf_puts(b, " CHECK (");
        calx__sql_put_ident(b, d, c->name, false);
        calx__buf_puts(b, " IN (");
        for (size_t k = 0; k < c->enum_type->n; k++) {
            calx__buf_puts(b, k ? ", " : "");
            put_string(b, c->enum_type->names[k]);
        }
        calx__buf_puts(b, "))");
    }
}

char *calx__ddl_create_table(const calx_dialect *d, const calx_table *t, calx_error *err)
{
    for (size_t i = 0; i < t->ncolumns; i++) {
        const calx_column *c = &t->columns[i];
        if (c->type == CALX_COL_ARRAY && !d->supports_arrays) {
            /* SQLAlchemy's ARRAY is PostgreSQL's. */
            calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                           "column %s.%s: %s has no ARRAY type (arrays are PostgreSQL's); "
                           "store a JSON column instead",
                           t->name, c->name, d->display_name);
            return NULL;
        }
        if ((c->type == CALX_COL_DECIMAL ||
             (c->type == CALX_COL_ARRAY && c->array_of == CALX_COL_DECIMAL)) &&
            c->precision > d->decimal_max_precision) {
            calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                           "column %s.%s: %s keeps NUMERIC values exactly up to %d digits "
                           "(calx stores them there as scaled 64-bit integers); "
                           "NUMERIC(%d, %d) has more",
                           t->name, c->name, d->display_name, d->decimal_max_precision,
                           c->precision, c->scale);
            return NULL;
        }
    }
    const calx_column *autoinc = calx__table_autoinc_column(t);
    if (!d->supports_composite_autoincrement && autoinc &&
        autoinc->autoincrement == CALX_AUTOINC_ON && calx__table_npk(t) != 1) {
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "table '%s': %s does not support autoincrement for composite "
                       "primary keys (column %s)",
                       t->name, d->display_name, autoinc->name);
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

/* ---- enumerated types (dialects with native enums) ---- */

char *calx__ddl_create_enum(const calx_dialect *d, const calx_enum *e, calx_error *err)
{
    calx_buf b = { 0 };
    calx__buf_puts(&b, "CREATE TYPE ");
    calx__sql_put_ident(&b, d, e->name, false);
    calx__buf_puts(&b, " AS ENUM (");
    for (size_t i = 0; i < e->n; i++) {
        calx__buf_puts(&b, i ? ", " : "");
        put_string(&b, e->names[i]);
    }
    calx__buf_puts(&b, ")");
    return finish(&b, err);
}

char *calx__ddl_drop_enum(const calx_dialect *d, const calx_enum *e, calx_error *err)
{
    calx_buf b = { 0 };
    calx__buf_puts(&b, "DROP TYPE ");
    calx__sql_put_ident(&b, d, e->name, false);
    return finish(&b, err);
}

/* ---- indexes, DROP ---- */

char *calx__ddl_create_index(const calx_dialect *d, const calx_table *t,
                             const calx_column *c, calx_error *err)
{
    char *name = calx__ddl_index_name(t, c);
    if (!name)
        return calx__nomem(err, "rendering DDL"), NULL;
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
        return calx__nomem(err, "rendering DDL"), NULL;
    calx_buf b = { 0 };
    calx__buf_puts(&b, "\nDROP INDEX ");
    calx__sql_put_ident(&b, d, name, false);
    free(name);
    return finish(&b, err);
}

/* ---- does a table exist ---- */

size_t calx__ddl_has_table(const calx_dialect *d, const char *table,
                           char *sql[CALX_DDL_HAS_TABLE_MAX], calx_error *err)
{
    return d->has_table(d, table, sql, err);
}

size_t calx__ddl_has_table_params(const calx_dialect *d, const char *table,
                                  calx_param *items)
{
    return d->has_table_params ? d->has_table_params(table, items) : 0;
}
