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
                              INTEGER[], VARCHAR[], NUMERIC(p, s)[], ...); values are
                              CALX_ARRAY */
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
    const calx_enum *enum_type; /* ENUM only, and required there */
    const char *foreign_key;    /* "table.column", or NULL */
    const char *on_delete;      /* CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION */
    const char *on_update;      /* the same choices */
    const char *server_default; /* SQL text for DEFAULT, used as written */
    calx_opt_double ge, le;     /* numeric bounds the ORM checks before
                                   writing (Pydantic's ge / le) */
    calx_coltype array_of;      /* ARRAY only, and required there: the elements'
                                   type, any but BLOB, JSON, ENUM and ARRAY;
                                   max_length, precision and scale apply to the
                                   elements (VARCHAR(n)[], NUMERIC(p, s)[]) */

    /* SQLAlchemy's Column(onupdate=...): a factory called for every UPDATE
     * that does not set the column itself, its value bound: the ORM's flush
     * of a changed object (the object's field then holds the value) and
     * Core's calx_update (called when the statement is made, calx_update_new).
     * calx_now_utc for a TIMESTAMP "updated_at". Not for BLOB columns. */
    calx_factory_fn onupdate;
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
