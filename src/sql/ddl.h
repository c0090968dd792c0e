/* SPDX-License-Identifier: MIT */
/* DDL: CREATE / DROP statements for calx_table declarations, rendered per
 * dialect as SQLAlchemy's DDLCompiler renders them (byte for byte on
 * SQLite: "\nCREATE TABLE hero (\n\tid INTEGER NOT NULL, \n...\n)\n\n"),
 * and the facts about a table that schema.c and ddl.c share.
 *
 * Every string returned is malloc'd and owned by the caller. */
#ifndef CALX_SQL_DDL_H
#define CALX_SQL_DDL_H

#include <stdbool.h>
#include <stddef.h>
#include "calx/error.h"
#include "calx/schema.h"
#include "calx/value.h"
#include "core/buf.h"
#include "sql/dialect.h"

/* ---- facts about declarations (schema.c) ---- */

/* Splits a foreign_key "table.column": returns the length of the table part
 * and points *column past the dot, or returns 0 when fk is not written so. */
size_t calx__fk_split(const char *fk, const char **column);

/* Whether column c's foreign key references table `table`; *column (when
 * column is not NULL) is then the referenced column's name. */
bool calx__fk_to(const calx_column *c, const char *table, const char **column);

/* Puts the n tables into out in foreign-key order, each after the ones
 * among them it references (references to other tables are not
 * followed), otherwise in the order given: SQLAlchemy's sort_tables, the
 * order calx_metadata_sorted gives (create_all) and the flush writes in.
 * A cycle is CALX_ERR_ARGUMENT naming its tables and who cannot order
 * them ("foreign keys form a cycle: a -> b -> a (the flush cannot order
 * these tables)"); CALX_ERR_NOMEM. out has room for n. */
int calx__tables_sorted(const calx_table *const *tables, size_t n, const calx_table **out,
                        const char *who, calx_error *err);

/* The column that autoincrements, by SQLAlchemy's rule (its
 * PrimaryKeyConstraint._autoincrement_column), or NULL. */
const calx_column *calx__table_autoinc_column(const calx_table *t);

/* The enum type column c's values are of: an ENUM column's, an ARRAY of
 * ENUM's elements'; NULL for other columns. create_all makes it, the
 * results name it. */
const calx_enum *calx__column_enum(const calx_column *c);

/* The number of primary key columns. */
size_t calx__table_npk(const calx_table *t);

/* ---- names ---- */

/* SQLAlchemy's default index name, "ix_<table>_<column>". NULL on OOM. */
char *calx__ddl_index_name(const calx_table *t, const calx_column *c);

/* Column c's type as d's DDL writes it: VARCHAR(50), NUMERIC(10, 2), an
 * enum's own type where d has native enums, an ARRAY's elements' type
 * followed by [] (SQLAlchemy's ARRAY(Integer) is INTEGER[]). */
void calx__ddl_put_type(calx_buf *b, const calx_dialect *d, const calx_column *c);

/* ---- statements ---- */

/* "\nCREATE TABLE ...\n)\n\n". Errors: CALX_ERR_NOT_SUPPORTED for what the
 * dialect cannot express (autoincrement ON in a composite key on SQLite, a
 * NUMERIC precision above its decimal_max_precision),
 * CALX_ERR_NOMEM. */
char *calx__ddl_create_table(const calx_dialect *d, const calx_table *t, calx_error *err);

/* "CREATE TYPE mood AS ENUM ('sad', 'ok')" and "DROP TYPE mood", for a
 * dialect with native_enum; create_all makes each type before the first
 * table using it, drop_all drops it after the last. */
char *calx__ddl_create_enum(const calx_dialect *d, const calx_enum *e, calx_error *err);
char *calx__ddl_drop_enum(const calx_dialect *d, const calx_enum *e, calx_error *err);

/* "CREATE [UNIQUE ]INDEX ix_t_c ON t (c)" for column c of t. */
char *calx__ddl_create_index(const calx_dialect *d, const calx_table *t,
                             const calx_column *c, calx_error *err);

/* "\nDROP TABLE t" (its indexes go with it). */
char *calx__ddl_drop_table(const calx_dialect *d, const calx_table *t, calx_error *err);

/* "\nDROP INDEX ix_t_c". drop_all does not need it; for migrations. */
char *calx__ddl_drop_index(const calx_dialect *d, const calx_table *t,
                           const calx_column *c, calx_error *err);

/* The statements that tell whether a table exists, run in order until one
 * returns a row: on SQLite PRAGMA main.table_info("t") then PRAGMA
 * temp.table_info("t"); on PostgreSQL one pg_catalog query with bound
 * parameters. Fills sql[0 .. n) and returns n (1 or 2), or 0 with err. */
#define CALX_DDL_HAS_TABLE_MAX 2
size_t calx__ddl_has_table(const calx_dialect *d, const char *table,
                           char *sql[CALX_DDL_HAS_TABLE_MAX], calx_error *err);

/* The parameters those statements take: fills items (room for
 * CALX_DDL_HAS_TABLE_PARAMS; the values point at table and static text)
 * and returns their number, 0 for SQLite. */
#define CALX_DDL_HAS_TABLE_PARAMS 7
size_t calx__ddl_has_table_params(const calx_dialect *d, const char *table,
                                  calx_param *items);

#endif
