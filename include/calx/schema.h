/* SPDX-License-Identifier: MIT */
/* calx — table schema (SQLAlchemy's Table / Column / MetaData). Creating
 * and dropping the tables is the engine's (calx_engine_create_all in
 * engine.h, calx_metadata_create_all in connection.h).
 *
 * Tables are declared as const data and gathered in a metadata:
 *
 *     static const calx_column hero_cols[] = {
 *         { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
 *         { .name = "name", .type = CALX_COL_TEXT, .index = true },
 *         { .name = "age", .type = CALX_COL_INT64, .nullable = true },
 *         { .name = "team_id", .type = CALX_COL_INT64, .nullable = true,
 *           .foreign_key = "team.id" },
 *     };
 *     static const calx_table hero_table = {
 *         .name = "hero", .columns = hero_cols, .ncolumns = 4 };
 *
 *     calx_metadata *md = calx_metadata_new(&err);
 *     calx_metadata_add(md, &hero_table, &err);
 *     calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err);
 *
 * Fields left zero take SQLModel's defaults: a column is NOT NULL unless
 * .nullable, a single integer primary key autoincrements, nothing is
 * unique or indexed. The DDL is what SQLAlchemy emits for the same table,
 * byte for byte on SQLite.
 */
#ifndef CALX_SCHEMA_H
#define CALX_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "export.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills the value at p with a value made now: a field's default (calx/model.h's
 * FACTORY) or a column's onupdate. p points at the plain C type of the column's
 * type (calx_timestamp for TIMESTAMP, int64_t for INT64, const char * for TEXT
 * and JSON, ...; for a field, the struct field, whose kind's value comes first).
 * A TEXT / JSON / BLOB factory stores memory from malloc, which its caller
 * takes. Returns 0 or an error code with err filled. */
typedef int (*calx_factory_fn)(void *p, calx_error *err);

/* Column types. Zero is no type, so a column left without one is caught. */
typedef enum calx_coltype {
    CALX_COL_INT32 = 1,    /* SQLite INTEGER, PostgreSQL INTEGER (SERIAL) */
    CALX_COL_INT64,        /* SQLite INTEGER, PostgreSQL BIGINT (BIGSERIAL) */
    CALX_COL_DOUBLE,       /* SQLite FLOAT, PostgreSQL DOUBLE PRECISION */
    CALX_COL_BOOL,         /* BOOLEAN */
    CALX_COL_TEXT,         /* VARCHAR, or VARCHAR(max_length) */
    CALX_COL_BLOB,         /* SQLite BLOB, PostgreSQL BYTEA */
    CALX_COL_TIMESTAMP,    /* an instant (UTC): SQLite DATETIME, PostgreSQL TIMESTAMP WITH
                              TIME ZONE */
    CALX_COL_DECIMAL,      /* NUMERIC(precision, scale), exact: PostgreSQL NUMERIC; SQLite
                              stores the value times 10^scale as a 64-bit integer, so
                              precision is at most 18 there (see docs/types.md) */
    CALX_COL_UUID,         /* PostgreSQL UUID; SQLite CHAR(32), 32 hex digits (SQLAlchemy's Uuid) */
    CALX_COL_DATE,         /* DATE; SQLite text "2024-02-29" */
    CALX_COL_TIME,         /* PostgreSQL TIME WITHOUT TIME ZONE; SQLite TIME text */
    CALX_COL_DATETIME,     /* naive, never shifted: PostgreSQL TIMESTAMP WITHOUT TIME ZONE;
                              SQLite DATETIME text */
    CALX_COL_INTERVAL,     /* PostgreSQL INTERVAL; SQLite DATETIME, 1970-01-01 plus the
                              interval, as SQLAlchemy's Interval (months must be 0 there) */
    CALX_COL_JSON,         /* JSON text: PostgreSQL JSON; SQLite JSON (checked by json_valid) */
    CALX_COL_ENUM,         /* one of .enum_type's names: PostgreSQL a native enum type, made
                              and dropped with the table; SQLite VARCHAR(longest name) */
    CALX_COL_ARRAY         /* a one-dimensional array of .array_of (PostgreSQL only:
                              INTEGER[], VARCHAR[], NUMERIC(p, s)[], JSON[], an
                              enum's mood[], ...); values are CALX_ARRAY */
} calx_coltype;
#define CALX__COL_LAST CALX_COL_ARRAY

/* An enumerated type (SQLAlchemy's Enum): a C enum's names, the i-th
 * naming the C value i. Static data, kept by pointer:
 *
 *     enum mood { MOOD_SAD, MOOD_OK, MOOD_HAPPY };
 *     static const char *const mood_names[] = { "sad", "ok", "happy" };
 *     const calx_enum mood_enum = { .name = "mood", .names = mood_names, .n = 3 };
 */
typedef struct calx_enum {
    const char *name;          /* the SQL type's name (PostgreSQL CREATE TYPE name) */
    const char *const *names;  /* n names, none repeated */
    size_t n;
    bool check;                /* databases without native enums: also a CHECK
                                  constraint listing the names (SQLAlchemy's
                                  create_constraint=True) */
} calx_enum;

/* ---- user-defined types (SQLAlchemy's TypeDecorator) ----
 *
 * A column type made of a stored type (the column's .type, its DDL and
 * storage) and two functions the program gives: bind turns the program's
 * value into the stored one, result turns what the database holds back
 * into the program's. An IPv4 address kept as an integer:
 *
 *     static int ip_bind(const calx_value *in, calx_value *out,
 *                        calx_type_scratch *scratch, void *context,
 *                        calx_error *err);    text "10.0.0.1" -> 167772161
 *     static int ip_result(...);               167772161 -> "10.0.0.1"
 *     static const calx_user_type ipv4 = { .name = "IPv4",
 *         .value_type = CALX_TEXT, .bind = ip_bind, .result = ip_result };
 *     { .name = "address", .type = CALX_COL_INT64, .user_type = &ipv4 }
 *
 * calx runs bind wherever a program value meets the column: a literal
 * compared with it (calx_eq(address, "10.0.0.1"), IN lists), values a Core
 * INSERT or UPDATE writes into it, the ORM's flush of a field, a get by
 * key; and result wherever the column's values come back: a Core select
 * of the column (also through labels, min, max and sum) and Core's
 * RETURNING, the ORM's loads and the values an INSERT reads back. The ORM's constructor and
 * calx_obj_validate also run bind on the field's value, so a value bind
 * refuses is a validation error when the object is made, not a failure at
 * flush (where SQLAlchemy would find it). NULL is never passed to either
 * function: it stays NULL. Text SQL (calx_text) is not typed, so its
 * values and rows are the stored ones. */

/* Where a user type's function puts the bytes of a TEXT, BLOB or JSON value
 * it makes (an opaque handle calx passes in). */
typedef struct calx_type_scratch calx_type_scratch;

/* n bytes (aligned for any type) that stay valid until calx has copied
 * the value the function returns, which it does as soon as the function
 * returns; calx frees them, also when the function fails. NULL when out
 * of memory (the function then returns calx_error_set(err,
 * CALX_ERR_NOMEM, ...)). s must be the scratch calx passed in. */
CALX_API void *calx_type_scratch_alloc(calx_type_scratch *s, size_t n);

/* A user type's conversion: *in (never NULL, never a NULL value) to *out.
 * out's text or blob bytes may point into in's bytes, static memory, or
 * memory from calx_type_scratch_alloc. context is the type's. Returns 0, or
 * an error code with err filled; calx adds the column's name and the
 * type's to the message ("column address (IPv4): '10.0.0.300' is not an
 * IPv4 address"). Called on the thread that runs the statement or builds
 * it: keep the function free of shared state, or guard it. */
typedef int (*calx_type_fn)(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                            void *context, calx_error *err);

/* A user-defined type. Static data, kept by pointer (calx_column.user_type). */
typedef struct calx_user_type {
    const char *name;       /* for messages: "IPv4" */
    calx_type value_type;   /* the program's values: bind takes them, result
                               must give them (or NULL) */
    calx_type_fn bind;      /* program value -> stored value: of the type the
                               column's .type holds (CALX_INT for INT64, ...) */
    calx_type_fn result;    /* stored value -> program value */
    void *context;          /* passed to both */
} calx_user_type;

/* SQLAlchemy's Column(autoincrement=...). */
typedef enum calx_autoincrement {
    CALX_AUTOINC_AUTO = 0, /* "auto": on for a lone integer primary key with
                              no foreign key and no server_default */
    CALX_AUTOINC_ON,       /* True: this integer primary key column (one per table) */
    CALX_AUTOINC_OFF       /* False */
} calx_autoincrement;

typedef struct calx_column {
    const char *name;
    calx_coltype type;
    bool primary_key;      /* several columns: a composite key; never nullable */
    calx_autoincrement autoincrement;
    bool nullable;         /* default NOT NULL, as SQLModel's non-Optional fields */
    bool unique;           /* with index: CREATE UNIQUE INDEX; alone: UNIQUE (col) */
    bool index;            /* CREATE INDEX ix_<table>_<column> */
    int max_length;        /* TEXT only: VARCHAR(n); 0: none */
    int precision, scale;  /* DECIMAL only: NUMERIC(precision, scale), precision 1 to
                              CALX_DECIMAL_MAX_DIGITS, scale 0 to precision */
    const calx_enum *enum_type; /* ENUM (or ARRAY of ENUM) only, and required there */
    const char *foreign_key;    /* "table.column", or NULL */
    const char *on_delete;      /* CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION */
    const char *on_update;      /* the same choices */
    const char *server_default; /* SQL text for DEFAULT, used as written */
    calx_opt_double ge, le;     /* numeric bounds the ORM checks before
                                   writing (Pydantic's ge / le) */
    calx_coltype array_of;      /* ARRAY only, and required there: the elements'
                                   type, any but BLOB and ARRAY; max_length,
                                   precision, scale and enum_type apply to the
                                   elements (VARCHAR(n)[], NUMERIC(p, s)[],
                                   mood[], JSON[]); an enum array's values are
                                   its C values (CALX_INT) or names */

    /* SQLAlchemy's Column(onupdate=...): a factory called for every UPDATE
     * that does not set the column itself, its value bound: the ORM's flush
     * of a changed object (the object's field then holds the value) and
     * Core's calx_update (calx_update_new adds the SET; the factory is
     * called each time the statement runs, as SQLAlchemy calls it at
     * execution, so a statement run twice binds two values).
     * calx_now_utc for a TIMESTAMP "updated_at". Not for BLOB columns. */
    calx_factory_fn onupdate;

    /* A user-defined type (see above), or NULL: .type is then the stored
     * type. A model's field holds the program's values, so its TYPE is
     * the one for user_type->value_type (TEXT for CALX_TEXT). */
    const calx_user_type *user_type;
} calx_column;

typedef struct calx_table {
    const char *name;
    const calx_column *columns;
    size_t ncolumns;
    const struct calx_model *model; /* the ORM model declaring this table,
                                       or NULL (see calx/model.h) */
} calx_table;

/* A set of tables (SQLAlchemy's MetaData). It keeps pointers to the
 * declarations, which must outlive it; it owns none of them. */
typedef struct calx_metadata calx_metadata;

/* A new, empty metadata, owned by the caller (free with
 * calx_metadata_free), or NULL with CALX_ERR_NOMEM. err may be NULL. */
CALX_API calx_metadata *calx_metadata_new(calx_error *err);

/* Frees md, not the tables it lists. NULL is a no-op. */
CALX_API void calx_metadata_free(calx_metadata *md);

/* Adds t (kept by pointer) after checking it on its own: a name for the
 * table and every column, at least one column, a type for each, no column
 * twice, max_length only on TEXT, foreign_key written "table.column",
 * on_delete / on_update one of the five actions, autoincrement ON on at
 * most one integer primary key column. Foreign keys may name tables not
 * added yet; calx_metadata_sorted checks them. A DECIMAL column needs a
 * precision and a scale in range, an ENUM column an enum_type with a name
 * and at least one name, none empty or repeated. Errors: CALX_ERR_ARGUMENT
 * naming the table and column, also for a table name already in md, and
 * for a NULL md or t; CALX_ERR_NOMEM. md is unchanged on error. */
CALX_API int calx_metadata_add(calx_metadata *md, const calx_table *t, calx_error *err);

/* The number of tables, and the i-th in the order they were added (NULL
 * when i is out of range); 0 and NULL for a NULL md. */
CALX_API size_t calx_metadata_ntables(const calx_metadata *md);
CALX_API const calx_table *calx_metadata_table(const calx_metadata *md, size_t i);

/* The table called name, or NULL (also when md or name is NULL). */
CALX_API const calx_table *calx_metadata_find(const calx_metadata *md, const char *name);

/* Fills out (room for calx_metadata_ntables(md) entries) with the tables
 * in foreign-key order, each table after the ones it references, otherwise
 * in the order added (SQLAlchemy's sort_tables). create_all creates in this
 * order and drop_all drops in reverse. Errors (CALX_ERR_ARGUMENT): "foreign
 * key hero.team_id references unknown table 'team'" (or unknown column),
 * on_delete SET NULL on a NOT NULL column, two tables whose index names
 * collide, and a cycle, naming its tables ("foreign keys form a cycle:
 * a -> b -> a"), and a NULL md. out must not be NULL. */
CALX_API int calx_metadata_sorted(const calx_metadata *md, const calx_table **out,
                                  calx_error *err);

#ifdef __cplusplus
}
#endif
#endif
