/* SPDX-License-Identifier: MIT */
/* SQL dialects: everything the SQL layer and the engine need to know about
 * one database, as data plus a few hooks. Each database has its own file
 * (dialect_sqlite.c, dialect_postgresql.c), the way SQLite keeps
 * os_unix.c and os_win.c behind one sqlite3_vfs; the compilers read these
 * fields and call these hooks, and never test a dialect's name or its
 * paramstyle to decide what to render. dialect.c holds what the dialect
 * files share. Which URL scheme names which dialect (and driver) is the
 * database registry's business (src/engine/registry.c).
 *
 * Dialects are static and never freed. */
#ifndef CALX_SQL_DIALECT_H
#define CALX_SQL_DIALECT_H

#include <stdbool.h>
#include <stddef.h>
#include "calx/error.h"
#include "calx/schema.h"
#include "calx/value.h"

struct calx__sqlc;   /* compiler_int.h: the text and parameters being compiled */
struct calx_expr;    /* expr_int.h: an expression node */

/* How "/" divides two integers truly (SQLAlchemy 2.0's truediv). */
typedef enum calx_truediv {
    CALX_TRUEDIV_NATIVE = 0, /* a / b already does */
    CALX_TRUEDIV_PLUS_REAL,  /* a / (b + 0.0)                      (SQLite) */
    CALX_TRUEDIV_CAST        /* a / CAST(b AS NUMERIC), b's own type name for
                                a REAL b                           (PostgreSQL) */
} calx_truediv;

/* How a dialect's SQL marks bound parameters. Only the text compiler
 * (text.c) reads it, to write the placeholders; it says nothing else about
 * the database. */
typedef enum calx_paramstyle {
    CALX_PARAMSTYLE_QMARK,   /* ? ? ?      (SQLite) */
    CALX_PARAMSTYLE_DOLLAR   /* $1 $2 $3   (PostgreSQL) */
} calx_paramstyle;

/* How the key the database makes for a new row (an autoincrement primary
 * key left NULL) gets back to the program. The flush and calx_insert read
 * this; none of them asks which database it is. */
typedef enum calx_key_strategy {
    /* The driver reads the key right after each parameter set runs
     * (sqlite3_last_insert_rowid), when the statement asks for it
     * (calx_stmt's want_key): one row per execution, nothing in the SQL. */
    CALX_KEYS_LASTROWID = 1,
    /* INSERT ... RETURNING the key. A statement that inserts several rows
     * must match each returned key to its row by a sentinel returned beside
     * it (SQLAlchemy 2.0's insertmanyvalues), never by the order the rows
     * come back in, which the database does not promise. */
    CALX_KEYS_RETURNING,
    /* The keys are drawn first from the column's sequence
     * (sequence_prefetch_sql) and sent in the INSERT like any other value,
     * so the INSERT needs nothing back. */
    CALX_KEYS_SEQUENCE_PREFETCH
} calx_key_strategy;

/* Which upsert the database understands (calx_insert_on_conflict_*). */
typedef enum calx_upsert_style {
    CALX_UPSERT_NONE = 0,
    /* INSERT ... ON CONFLICT (cols) DO NOTHING / DO UPDATE SET c = excluded.c
     * (PostgreSQL 9.5, SQLite 3.24). MySQL's ON DUPLICATE KEY UPDATE would be
     * another value, added with the first database that needs it. */
    CALX_UPSERT_ON_CONFLICT
} calx_upsert_style;

typedef struct calx_dialect calx_dialect;

struct calx_dialect {
    const char *name;            /* "sqlite", "postgresql": calx_engine_dialect,
                                    the registry row's name */
    const char *display_name;    /* "SQLite", "PostgreSQL": for messages */
    calx_paramstyle paramstyle;

    /* ---- capabilities, read by the statement compilers and the engine ---- */
    bool supports_returning;     /* INSERT/UPDATE/DELETE ... RETURNING */
    bool supports_savepoints;    /* SAVEPOINT / RELEASE / ROLLBACK TO */
    bool supports_native_boolean;   /* false: a boolean column standing alone as a
                                       condition renders "col = 1" ("col = 0"
                                       negated), as SQLAlchemy does on SQLite */
    bool supports_ilike;         /* false: ILIKE renders lower(a) LIKE lower(b) */
    bool supports_update_from;   /* UPDATE t SET ... FROM other */
    bool supports_delete_using;  /* DELETE FROM t USING other */
    unsigned max_params;         /* the most bound parameters one statement may carry */
    calx_key_strategy key_strategy;
    /* true: the rows of a many-row INSERT whose keys the database makes may
     * go as one array per column (CALX__ROWS_ARRAYS: INSERT ... SELECT ...
     * FROM unnest(CAST(? AS T0[]), ...) WITH ORDINALITY AS imp_sen(p0, ...,
     * sen_counter) ORDER BY sen_counter; PostgreSQL). One short text and one
     * parameter a column for any number of rows, which the server binds and
     * plans in less time than a VALUES list of thousands of parameters. */
    bool supports_unnest_rows;
    /* An UPDATE or DELETE by key that fails when it matches no row, so that
     * the COMMIT may go in the same batch behind it: the database checks
     * the row count SQLAlchemy's flush reads before it commits. The
     * statement goes between row_check_open and row_check_close; it then
     * fails with SQLSTATE row_check_state when it matched no row, and gives
     * one row otherwise. NULL: no such form (SQLite, whose hand-over to its
     * worker costs little); the flush reads the counts, then commits. */
    const char *row_check_open;
    const char *row_check_close;
    const char *row_check_state;
    /* With the keys' sequence: "SELECT nextval(...) FROM generate_series(1, ?)",
     * bound to the quoted table name, the column name and the number of
     * keys wanted; one row per key, ascending. NULL: the database has no
     * sequences. */
    const char *sequence_prefetch_sql;
    calx_upsert_style upsert;
    const char *current_timestamp;  /* SQLAlchemy's func.now(): "CURRENT_TIMESTAMP"
                                       on SQLite, "now()" on PostgreSQL */

    /* ---- operators (compile_expr.c) ---- */
    calx_truediv truediv;
    const char *is_distinct_from;      /* "IS DISTINCT FROM"; SQLite: "IS NOT" */
    const char *is_not_distinct_from;  /* "IS NOT DISTINCT FROM"; SQLite: "IS" */

    /* ---- identifiers (ident.c) ---- */
    const char *const *reserved_words;  /* lowercase, NULL-terminated: quoted as names */
    char identifier_quote;       /* '"'; doubled inside a quoted name */

    /* ---- DDL (ddl.c) ---- */
    /* The type name of each calx_coltype; CALX_COL_TEXT gets "(max_length)"
     * appended when the column has one, CALX_COL_DECIMAL "(precision,
     * scale)". CALX_COL_ENUM's is used only without native enums, with the
     * longest name's length appended. */
    const char *type_names[CALX__COL_LAST + 1];
    /* true: an ENUM column's type is a named type made before its table
     * and dropped after it (PostgreSQL's CREATE TYPE ... AS ENUM). */
    bool native_enum;
    /* true: ARRAY columns (CALX_COL_ARRAY), rendered as their element
     * type's name and [] (PostgreSQL's INTEGER[]); false: CREATE TABLE
     * refuses them (CALX_ERR_NOT_SUPPORTED), as SQLAlchemy's ARRAY is
     * PostgreSQL-only. */
    bool supports_arrays;
    /* The largest NUMERIC precision the database keeps exactly: SQLite
     * stores a decimal as a 64-bit integer of units of 10^-scale (18
     * digits always fit); PostgreSQL as NUMERIC (calx's own 38). */
    int decimal_max_precision;
    /* What the driver returned for column c (*v) made the column's own
     * type, in place: SQLite's texts and scaled integers become dates,
     * UUIDs and decimals; a value already of the right type is left. NULL
     * stays NULL. A text the hook makes is written in scratch
     * (CALX_BIND_SCRATCH_SIZE bytes), which the caller copies before it is
     * used again; an array it makes (PostgreSQL's enum arrays, which come
     * as text) has its items in room (calx_type_scratch_alloc), which the
     * caller keeps until it has copied them. Errors (CALX_ERR_DATA) name
     * the column and the value. */
    int (*stored_value)(const calx_column *c, calx_value *v, char *scratch,
                        calx_type_scratch *room, calx_error *err);
    /* What a value of the richer types (DECIMAL ... JSON) is handed to the
     * driver as, written to *out: SQLite has no decimal, UUID, date or
     * interval type, so they become scaled integers and text (in scratch,
     * CALX_BIND_SCRATCH_SIZE bytes). NULL: the driver takes them as
     * they are (PostgreSQL's). Errors: CALX_ERR_DATA for a value the
     * storage cannot hold, saying why. */
    int (*bind_value)(const calx_value *v, calx_value *out, char *scratch, calx_error *err);
    /* Written in place of the type of an autoincrement key, with no DEFAULT
     * (PostgreSQL's SERIAL / BIGSERIAL: the sequence is the default), for an
     * INT32 and an INT64 key. NULL: the column's own type (SQLite: an
     * INTEGER PRIMARY KEY is the rowid). */
    const char *serial_int32, *serial_int64;
    /* false: a table whose autoincrement column is one of several primary
     * key columns is refused (SQLite's AUTOINCREMENT needs a lone key). */
    bool supports_composite_autoincrement;

    /* ---- forms the compilers render per database ---- */
    /* The empty IN (SQLAlchemy's "empty set" expressions): what stands
     * between the parentheses of "a IN (...)" for an empty list, and of
     * "(a NOT IN (...))". A text may close and reopen the parentheses
     * ("NULL) AND (1 != 1"); empty_in_is_and says the IN form is then an
     * AND, and binds as one. */
    const char *empty_in;
    const char *empty_not_in;
    bool empty_in_is_and;

    /* Renders a JSON node (CALX_X_JSON) that is a path: a column's
     * json[key][index]..., read as JSON or as text / integer / real / bool
     * (SQLAlchemy's JSON index and as_string() ...); every key and index
     * bound, in order. And JSON containment (a @> b), NULL where the
     * database has none. */
    void (*json_path)(struct calx__sqlc *c, const struct calx_expr *e);
    void (*json_contains)(struct calx__sqlc *c, const struct calx_expr *e);

    /* Renders an array operation (CALX_X_ARRAY, array.c): b = ANY (a),
     * a @> b, a && b, array_length(a, 1). NULL: the database has no
     * arrays, and the statement fails to compile (CALX_ERR_NOT_SUPPORTED). */
    void (*array_op)(struct calx__sqlc *c, const struct calx_expr *e);

    /* Appends a select's LIMIT / OFFSET, values bound: the select's with
     * calx__sqlc_bind (limit and offset point into it), a value of the
     * dialect's own (SQLite's LIMIT -1) with calx__sqlc_bind_const, so the
     * statement cache knows which to take from a later statement. limit
     * and offset are NULL when the select has none; the hook is only
     * called when one of them is set. */
    void (*limit_offset)(struct calx__sqlc *c, const calx_value *limit,
                         const calx_value *offset);

    /* The statements that tell whether a table exists, run in order until
     * one returns a row: fills sql[0 .. n) (malloc'd, n at most
     * CALX_DDL_HAS_TABLE_MAX) and returns n, or 0 with CALX_ERR_NOMEM in
     * err. ddl.h's calx__ddl_has_table calls it. */
    size_t (*has_table)(const calx_dialect *d, const char *table, char **sql,
                        calx_error *err);
    /* The named parameters those statements take: fills items (room for
     * CALX_DDL_HAS_TABLE_PARAMS; values point at table and static text)
     * and returns their number. NULL: they take none. */
    size_t (*has_table_params)(const char *table, calx_param *items);

    /* ---- read replicas (engine/replicas.c, the ORM's read-your-writes) ---- */
    /* One row, one text: where the write-ahead log stands on the primary,
     * run on the connection that just committed (its commit is before
     * it). NULL: the database has no streaming replicas. */
    const char *replica_position_sql;
    /* One row, one boolean: whether the replica it runs on has replayed
     * the log up to the position bound to its one ?. NULL: the database
     * has no streaming replicas, and an engine for it refuses replica
     * URLs. */
    const char *replica_caught_up_sql;
};

/* Room for any text a bind_value hook writes. */
#define CALX_BIND_SCRATCH_SIZE 48

/* SQLite's storage of the richer types (dialect_sqlite_storage.c). */
int calx__sqlite_bind_value(const calx_value *v, calx_value *out, char *scratch,
                            calx_error *err);
int calx__sqlite_stored_value(const calx_column *c, calx_value *v, char *scratch,
                              calx_type_scratch *room, calx_error *err);
/* PostgreSQL's: its driver decodes by type, so only text is left to parse
 * (convert.c's calx__value_from_text), and an enum array's text. */
int calx__pg_stored_value(const calx_column *c, calx_value *v, char *scratch,
                          calx_type_scratch *room, calx_error *err);

extern const calx_dialect calx__dialect_sqlite;
extern const calx_dialect calx__dialect_postgresql;

/* ---- shared by every dialect (dialect.c) ---- */

/* Whether name is one of d's reserved words (compared as written: the
 * words are lowercase, and a name with an uppercase letter is quoted
 * anyway). */
bool calx__dialect_is_reserved(const calx_dialect *d, const char *name);

#endif
