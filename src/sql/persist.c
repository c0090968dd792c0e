/* SPDX-License-Identifier: MIT */
/* The statements a unit of work runs (the ORM's flush), made with the
 * statement builders and compiled for their text alone: each text is run
 * with many parameter sets of the flush's own, one per object (or one
 * per chunk of rows), so it is compiled once per shape. The values given
 * to the builders here only hold their places ("slots"): what matters is
 * the order the parameters come in, which calx/sql.h fixes (columns in
 * the table's order, SET before WHERE). */
#include <stdlib.h>

#include "core/buf.h"
#include "core/nomem.h"
#include "sql/compiler.h"
#include "sql/convert.h"
#include "sql/dml_int.h"

/* A literal of column c's stored type that the column takes (the
 * builders check it as any value: an empty text is no date, UUID or
 * decimal, nor a name of every enum). */
static calx_expr *slot_value(const calx_column *c)
{
    calx_xtype type = CALX_XT_NULL;
    calx__xtype_of_col(c->type, &type);
    switch (type) {
    case CALX_XT_INT: return calx_lit(calx_int(0));
    case CALX_XT_REAL: return calx_lit(calx_real(0));
    case CALX_XT_BOOL: return calx_lit(calx_bool(false));
    case CALX_XT_BLOB: return calx_lit(calx_blob("", 0));
    case CALX_XT_TIMESTAMP: return calx_lit(calx_value_timestamp(0));
    case CALX_XT_DECIMAL: return calx_lit(calx_value_decimal(calx_decimal_of(0, c->scale)));
    case CALX_XT_UUID: return calx_lit(calx_value_uuid((calx_uuid){ { 0 } }));
    case CALX_XT_DATE: return calx_lit(calx_value_date(0));
    case CALX_XT_TIME: return calx_lit(calx_value_time(0));
    case CALX_XT_DATETIME: return calx_lit(calx_value_datetime(0));
    case CALX_XT_INTERVAL: return calx_lit(calx_value_interval((calx_interval){ 0, 0, 0 }));
    case CALX_XT_JSON: return calx_lit(calx_value_json("null"));
    case CALX_XT_ARRAY: return calx_lit(calx_value_array(calx__array_elem_type(c), NULL, 0));
    default:
        if (c->type == CALX_COL_ENUM && c->enum_type && c->enum_type->n)
            return calx_lit(calx_text(c->enum_type->names[0]));
        return calx_lit(calx_text(""));
    }
}

calx_expr *calx__column_slot(const calx_column *c)
{
    calx_expr *e = slot_value(c);
    if (e->kind == CALX_X_LIT) {
        e->u.lit.stored = true;
        e->u.lit.dtype = calx__column_dtype(c, false);
    }
    return e;
}

static calx_expr *slot(const calx_table *t, size_t col)
{
    return calx__column_slot(&t->columns[col]);
}

/* "t.k = ?" for key column k, the value always bound: SQLAlchemy's flush
 * binds a boolean key too, where a comparison with a bool literal would
 * write it inline. */
static calx_expr *key_is(const calx_table *t, size_t k)
{
    calx_expr *e = calx_eq(calx_col(t, k), slot(t, k));
    if (e->kind == CALX_X_BINOP && e->u.bin.b->kind == CALX_X_TRUTH)
        e->u.bin.b->kind = CALX_X_LIT;
    return e;
}

/* The WHERE of a statement by primary key: every key column. */
static calx_expr *by_key(const calx_table *t)
{
    calx_expr *where = NULL;
    for (size_t k = 0; k < t->ncolumns; k++) {
        if (!t->columns[k].primary_key)
            continue;
        calx_expr *c = key_is(t, k);
        where = where ? calx_and(where, c) : c;
    }
    return where;
}

char *calx__update_by_key_sql(const calx_dialect *d, const calx_table *t, uint64_t mask,
                              calx_error *err)
{
    /* The flush binds onupdate columns itself: they are in mask. */
    calx_update *s = calx__update_new_ex(t, false);
    for (size_t i = 0; s && i < t->ncolumns && i < 64; i++)
        if (mask >> i & 1)
            calx_update_value(s, t->columns[i].name, slot(t, i));
    calx_update_where(s, by_key(t));
    calx_compiled c;
    char *sql = NULL;
    if (calx__update_compile(s, d, &c, err) == 0) {
        sql = c.sql;
        c.sql = NULL;
    }
    calx__compiled_free(&c);
    calx_update_free(s);
    return sql;
}

char *calx__delete_by_key_sql(const calx_dialect *d, const calx_table *t, calx_error *err)
{
    calx_delete *s = calx_delete_where(calx_delete_new(t), by_key(t));
    calx_compiled c;
    char *sql = NULL;
    if (calx__delete_compile(s, d, &c, err) == 0) {
        sql = c.sql;
        c.sql = NULL;
    }
    calx__compiled_free(&c);
    calx_delete_free(s);
    return sql;
}

calx_insert *calx__insert_of_columns(const calx_table *t, uint64_t mask, long key,
                                     uint64_t fetch)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < t->ncolumns && i < 64; i++)
        if (mask >> i & 1)
            names[n++] = t->columns[i].name;
    calx_insert *s = calx_insert_new(t);
    if (n)
        calx_insert_columns(s, names, n);
    if (key >= 0)
        calx_insert_returning(s, calx_col(t, (size_t)key));
    for (size_t i = 0; i < t->ncolumns && i < 64; i++)
        if (fetch >> i & 1 && (long)i != key)
            calx_insert_returning(s, calx_col(t, i));
    return s;
}

char *calx__checked_by_key_sql(const calx_dialect *d, const char *sql, calx_error *err)
{
    if (!d->row_check_open)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "the %s dialect has no UPDATE or DELETE that checks its row count",
                              d->name), NULL;
    calx_buf b = { 0 };
    calx__buf_puts(&b, d->row_check_open);
    calx__buf_puts(&b, sql);
    calx__buf_puts(&b, d->row_check_close);
    char *out = calx__buf_take(&b);
    if (!out)
        calx__nomem(err, "making a statement");
    return out;
}
