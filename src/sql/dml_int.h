/* SPDX-License-Identifier: MIT */
/* The insides of INSERT, UPDATE and DELETE, shared by their builders
 * (insert.c, update.c, delete.c, and dml.c for what the three have in
 * common) and their compiler (compile_dml.c). */
#ifndef CALX_SQL_DML_INT_H
#define CALX_SQL_DML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "calx/sql.h"
#include "sql/expr_int.h"

/* What every data-changing statement has: its table, a WHERE (UPDATE and
 * DELETE), a RETURNING list, the other tables of UPDATE ... FROM and
 * DELETE ... USING, and the first error met. */
typedef struct calx__dml {
    const calx_table *t;
    const char *verb;            /* "INSERT INTO", "UPDATE", "DELETE FROM": messages */
    calx_expr *where;            /* the where()s ANDed, or NULL */
    calx_expr **returning;
    size_t nreturning, returning_cap;
    const calx_table **froms;    /* FROM (UPDATE) / USING (DELETE) */
    size_t nfroms, froms_cap;
    char **kept;                 /* the bytes of values user types made */
    size_t nkept, kept_cap;
    bool failed;
    calx_error err;              /* the first error, when failed */
} calx__dml;

/* The rows of a many-row INSERT: nrows rows of ncols values, in the
 * table's column order (cols[k] is the table index of value k). Text and
 * blob values point into chunks that never move. */
typedef struct calx__rows_chunk calx__rows_chunk;

typedef enum calx__conflict {
    CALX__CONFLICT_NONE = 0,
    CALX__CONFLICT_NOTHING,
    CALX__CONFLICT_UPDATE
} calx__conflict;

struct calx_insert {
    calx__dml base;
    calx_expr **values;          /* one row: t->ncolumns slots, NULL when not given */
    size_t *cols;                /* many rows, or a select: the columns named */
    size_t ncols;
    size_t *pos;                 /* many rows: pos[k] is where calx_insert_row's
                                    value k is kept (values are kept in table order) */
    calx_xtype *types;           /* many rows: the expression type of each column */
    calx_value *rows;            /* nrows * ncols */
    size_t nrows, rows_cap;      /* rows_cap counts values, not rows */
    calx__rows_chunk *bytes;     /* the rows' text and blobs */
    calx_select *select;         /* INSERT ... SELECT */
    calx__conflict conflict;
    size_t *conflict_cols;       /* ON CONFLICT (...) */
    size_t nconflict;
    calx_expr **conflict_set;    /* t->ncolumns slots, as values */
    calx_expr *conflict_where;
};

struct calx_update {
    calx__dml base;
    calx_expr **set;             /* t->ncolumns slots, NULL when not set */
};

struct calx_delete {
    calx__dml base;
};

/* ==== in dml.c ==== */

/* Sets up s for t: t must have a name and named columns (else a sticky
 * CALX_ERR_ARGUMENT). verb names the statement in messages. */
void calx__dml_init(calx__dml *s, const calx_table *t, const char *verb);

/* Frees what s owns (WHERE, RETURNING, the FROM list), not s. */
void calx__dml_free(calx__dml *s);

/* Records an error unless s has one: the first wins. */
void calx__dml_fail(calx__dml *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void calx__dml_fail_with(calx__dml *s, const calx_error *e);

/* The index of t's column called name, or -1 with a sticky error naming
 * the clause ("UPDATE SET: table hero has no column 'nmae'"). */
long calx__dml_column(calx__dml *s, const char *name, const char *clause);

/* Takes e for clause: false (e freed, s failed) when s already failed or
 * e is NULL or an error node. */
bool calx__dml_take(calx__dml *s, calx_expr *e, const char *clause);

/* The expression type of column col of s's table; false with a sticky
 * error for a column without a valid type. */
bool calx__dml_column_type(calx__dml *s, size_t col, calx_xtype *out);

/* Converts *v, a value for column col (of expression type to), by the
 * assignment rules (calx/sql.h), after the column's user type, if any,
 * has made it the stored value (its bytes then kept by s) unless stored
 * says it is one already. false with a sticky error naming the column:
 * CALX_ERR_TYPE, or the user type's; where says where the value is
 * ("INSERT INTO hero, row 3"). */
bool calx__dml_convert(calx__dml *s, size_t col, calx_xtype to, calx_value *v, bool stored,
                       const char *where);

/* Stores e (taken) as the value of column col in slots[col] (an earlier
 * value is freed) once its type fits the column: a literal is converted
 * by the assignment rules, another expression must have the column's
 * type (INTEGER and REAL mix). Which columns e may name is the caller's
 * check (calx__dml_check_expr). */
void calx__dml_set_value(calx__dml *s, calx_expr **slots, size_t col, calx_expr *e,
                         const char *clause);

/* ANDs cond (taken, BOOLEAN) onto *where. */
void calx__dml_where(calx__dml *s, calx_expr **where, calx_expr *cond, const char *clause);

/* Appends e (taken) to RETURNING. */
void calx__dml_returning(calx__dml *s, calx_expr *e);

/* Adds other to FROM / USING (once); t itself is an error. */
void calx__dml_from(calx__dml *s, const calx_table *other, const char *clause);

/* Checks the columns in e (clause names where e is, for the message):
 * with columns false there may be none (an INSERT's values); otherwise
 * each belongs to s's table or one of its FROM tables. Excluded columns
 * (calx_excluded of s's table) only where excluded_ok. CALX_OK, or the
 * error in err (err may be NULL); s is not changed, so that the checks
 * that need the whole statement can run at compile. */
int calx__dml_check_expr(const calx__dml *s, const calx_expr *e, const char *clause,
                         bool columns, bool excluded_ok, calx_error *err);

/* calx__dml_check_expr over WHERE and every RETURNING column. */
int calx__dml_check_clauses(const calx__dml *s, calx_error *err);

/* CALX_OK, or s's sticky error (err may be NULL). */
int calx__dml_error(const calx__dml *s, calx_error *err);

/* ==== in insert.c, update.c, delete.c ==== */

/* The whole-statement checks of calx_<kind>_error, also run by the
 * compiler: 0 or the error (err may be NULL). */
int calx__insert_check(const calx_insert *s, calx_error *err);
int calx__update_check(const calx_update *s, calx_error *err);
int calx__delete_check(const calx_delete *s, calx_error *err);

/* calx_update_new, with onupdate false leaving columns with an onupdate
 * factory unset (the flush binds those itself). */
calx_update *calx__update_new_ex(const calx_table *t, bool onupdate);

/* The values of s's onupdate columns made anew (their factories called),
 * as SQLAlchemy calls Column.onupdate at each execution: the engine and
 * the session call it before they run s, so a statement built once and
 * run again binds a fresh updated_at. 0, the factory's error, or a
 * conversion's (also left sticky on s); CALX_ERR_NOMEM. */
int calx__update_refresh(calx_update *s, calx_error *err);

#endif
