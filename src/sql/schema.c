/* SPDX-License-Identifier: MIT */
/* Table declarations and the metadata that gathers them: validation, and
 * the foreign-key order tables are created in (SQLAlchemy's sort_tables). */
#include <stdlib.h>
#include <string.h>

#include "calx/schema.h"
#include "core/chars.h"
#include "core/grow.h"
#include "core/nomem.h"
#include "sql/ddl.h"

struct calx_metadata {
    const calx_table **tables;   /* in the order added */
    size_t n, cap;
};

static const char *const fk_actions[] = {
    "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"
};

/* ---- facts about declarations ---- */

size_t calx__fk_split(const char *fk, const char **column)
{
    const char *dot = fk ? strchr(fk, '.') : NULL;
    if (!dot || dot == fk || !dot[1] || strchr(dot + 1, '.'))
        return 0;
    *column = dot + 1;
    return (size_t)(dot - fk);
}

bool calx__fk_to(const calx_column *c, const char *table, const char **column)
{
    const char *col;
    size_t n = calx__fk_split(c->foreign_key, &col);
    if (!n || strlen(table) != n || strncmp(c->foreign_key, table, n) != 0)
        return false;
    if (column)
        *column = col;
    return true;
}

static bool is_integer(calx_coltype t)
{
    return t == CALX_COL_INT32 || t == CALX_COL_INT64;
}

size_t calx__table_npk(const calx_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncolumns; i++)
        n += t->columns[i].primary_key;
    return n;
}

const calx_column *calx__table_autoinc_column(const calx_table *t)
{
    const calx_column *pk = NULL;
    size_t npk = 0;
    for (size_t i = 0; i < t->ncolumns; i++) {
        const calx_column *c = &t->columns[i];
        if (!c->primary_key)
            continue;
        if (c->autoincrement == CALX_AUTOINC_ON)
            return c;
        pk = c;
        npk++;
    }
    /* "auto" holds for a lone key only, and leaves out keys that get their
     * values elsewhere: from the parent row (a foreign key) or from a
     * server default. */
    if (npk == 1 && pk->autoincrement == CALX_AUTOINC_AUTO && is_integer(pk->type) &&
        !pk->foreign_key && !pk->server_default)
        return pk;
    return NULL;
}

/* ---- checking one table ---- */

static const calx_column *find_column(const calx_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return &t->columns[i];
    return NULL;
}

static bool valid_action(const char *a)
{
    for (size_t i = 0; i < sizeof fk_actions / sizeof *fk_actions; i++)
        if (calx__ascii_casecmp(a, fk_actions[i]) == 0)
            return true;
    return false;
}

/* An ARRAY's element type: a scalar type other than BLOB (PostgreSQL's
 * bytea[] is left for later); none on other columns. */
static int check_array_of(const calx_table *t, const calx_column *c, calx_error *err)
{
    calx_coltype e = c->array_of;
    if (c->type != CALX_COL_ARRAY)
        return e ? calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s.%s: array_of is for ARRAY columns", t->name,
                                  c->name)
                 : 0;
    if (e < CALX_COL_INT32 || e > CALX__COL_LAST || e == CALX_COL_BLOB || e == CALX_COL_ARRAY)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: an ARRAY column needs array_of, the elements' "
                              "type: any column type but BLOB and ARRAY (it is %d)",
                              t->name, c->name, (int)e);
    return 0;
}

const calx_enum *calx__column_enum(const calx_column *c)
{
    bool of_enum = c->type == CALX_COL_ENUM ||
                   (c->type == CALX_COL_ARRAY && c->array_of == CALX_COL_ENUM);
    return of_enum ? c->enum_type : NULL;
}

/* A user type's parts: a name, both functions, a value type calx has. */
static int check_user_type(const calx_table *t, const calx_column *c, calx_error *err)
{
    const calx_user_type *u = c->user_type;
    if (!u)
        return 0;
    if (!u->name || !*u->name || !u->bind || !u->result)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: a user type needs a name, a bind and a result "
                              "function", t->name, c->name);
    if (u->value_type <= CALX_NULL || u->value_type > CALX_JSON)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: user type %s has no value_type (one of CALX_INT "
                              "... CALX_JSON; not CALX_NULL nor CALX_ARRAY)",
                              t->name, c->name, u->name);
    return 0;
}

/* A DECIMAL's precision and scale, an ENUM's names; nothing for the other
 * types, which take neither. An ARRAY's are its elements'. */
static int check_type_arguments(const calx_table *t, const calx_column *c, calx_error *err)
{
    if (check_array_of(t, c, err))
        return err ? err->code : CALX_ERR_ARGUMENT;
    calx_coltype type = c->type == CALX_COL_ARRAY ? c->array_of : c->type;
    if (type == CALX_COL_DECIMAL) {
        if (c->precision < 1 || c->precision > CALX_DECIMAL_MAX_DIGITS || c->scale < 0 ||
            c->scale > c->precision)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s.%s: NUMERIC(%d, %d) needs a precision of 1 to %d "
                                  "and a scale of 0 to the precision",
                                  t->name, c->name, c->precision, c->scale,
                                  CALX_DECIMAL_MAX_DIGITS);
    } else if (c->precision || c->scale) {
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: precision and scale are for DECIMAL columns",
                              t->name, c->name);
    }
    const calx_enum *e = c->enum_type;
    if (type != CALX_COL_ENUM)
        return e ? calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s.%s: enum_type is for ENUM columns", t->name,
                                  c->name)
                 : 0;
    if (!e || !e->name || !*e->name || !e->names || e->n == 0)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: an ENUM column needs an enum_type with a name "
                              "and at least one value name",
                              t->name, c->name);
    for (size_t i = 0; i < e->n; i++) {
        if (!e->names[i] || !*e->names[i])
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "enum type %s (column %s.%s): value %zu has no name",
                                  e->name, t->name, c->name, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->names[i], e->names[j]) == 0)
                return calx_error_set(err, CALX_ERR_ARGUMENT,
                                      "enum type %s (column %s.%s): the name '%s' is given "
                                      "twice",
                                      e->name, t->name, c->name, e->names[i]);
    }
    return 0;
}

static int check_column(const calx_table *t, size_t i, const calx_column **autoinc,
                        calx_error *err)
{
    const calx_column *c = &t->columns[i];
    if (!c->name || !*c->name)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "column %zu of table '%s' has no name",
                              i + 1, t->name);
    for (size_t j = 0; j < i; j++)
        if (strcmp(t->columns[j].name, c->name) == 0)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column '%s' is declared twice in table '%s'", c->name,
                                  t->name);
    if (c->type < CALX_COL_INT32 || c->type > CALX__COL_LAST)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "column %s.%s has %s type (%d)",
                              t->name, c->name, c->type ? "an unknown" : "no", (int)c->type);
    if (check_type_arguments(t, c, err) || check_user_type(t, c, err))
        return err ? err->code : CALX_ERR_ARGUMENT;
    if (c->max_length < 0 ||
        (c->max_length && c->type != CALX_COL_TEXT &&
         !(c->type == CALX_COL_ARRAY && c->array_of == CALX_COL_TEXT)))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: max_length %d (it is for TEXT columns, > 0)",
                              t->name, c->name, c->max_length);
    if (c->autoincrement < CALX_AUTOINC_AUTO || c->autoincrement > CALX_AUTOINC_OFF)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: unknown autoincrement value %d", t->name,
                              c->name, (int)c->autoincrement);
    if (c->autoincrement == CALX_AUTOINC_ON) {
        if (!c->primary_key || !is_integer(c->type))
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s.%s: autoincrement ON needs an integer "
                                  "primary key column",
                                  t->name, c->name);
        if (*autoinc)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "table '%s': only one column may be autoincrement ON, "
                                  "found both %s and %s",
                                  t->name, (*autoinc)->name, c->name);
        *autoinc = c;
    }
    const char *col;
    if (c->foreign_key && !calx__fk_split(c->foreign_key, &col))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: foreign_key '%s' is not written \"table.column\"",
                              t->name, c->name, c->foreign_key);
    if (c->onupdate && c->type == CALX_COL_BLOB)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s.%s: onupdate is not supported on a BLOB column", t->name,
                              c->name);
    const char *actions[2] = { c->on_delete, c->on_update };
    for (int k = 0; k < 2; k++) {
        const char *what = k ? "on_update" : "on_delete";
        if (!actions[k])
            continue;
        if (!c->foreign_key)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s.%s: %s is set but there is no foreign_key",
                                  t->name, c->name, what);
        if (!valid_action(actions[k]))
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s.%s: %s '%s' is not one of CASCADE, SET NULL, "
                                  "SET DEFAULT, RESTRICT, NO ACTION",
                                  t->name, c->name, what, actions[k]);
    }
    return 0;
}

static int check_table(const calx_table *t, calx_error *err)
{
    if (!t)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the table is NULL");
    if (!t->name || !*t->name)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "a table has an empty name");
    if (!t->columns || t->ncolumns == 0)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "table '%s' has no columns", t->name);
    const calx_column *autoinc = NULL;
    for (size_t i = 0; i < t->ncolumns; i++) {
        int rc = check_column(t, i, &autoinc, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the metadata ---- */

calx_metadata *calx_metadata_new(calx_error *err)
{
    calx_metadata *md = calloc(1, sizeof *md);
    if (!md)
        calx__nomem(err, "for a metadata");
    return md;
}

void calx_metadata_free(calx_metadata *md)
{
    if (!md)
        return;
    free(md->tables);
    free(md);
}

int calx_metadata_add(calx_metadata *md, const calx_table *t, calx_error *err)
{
    if (!md)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the metadata is NULL");
    int rc = check_table(t, err);
    if (rc)
        return rc;
    if (calx_metadata_find(md, t->name))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "table '%s' is already defined in this metadata", t->name);
    if (!calx__grow(&md->tables, &md->cap, md->n + 1, sizeof *md->tables))
        return calx__nomem(err, "adding table '%s'", t->name);
    md->tables[md->n++] = t;
    return 0;
}

size_t calx_metadata_ntables(const calx_metadata *md)
{
    return md ? md->n : 0;
}

const calx_table *calx_metadata_table(const calx_metadata *md, size_t i)
{
    return md && i < md->n ? md->tables[i] : NULL;
}

const calx_table *calx_metadata_find(const calx_metadata *md, const char *name)
{
    for (size_t i = 0; md && name && i < md->n; i++)
        if (strcmp(md->tables[i]->name, name) == 0)
            return md->tables[i];
    return NULL;
}

/* The index of the table a foreign key references, after checking the
 * column exists. */
static int resolve_fk(const calx_metadata *md, const calx_table *t, const calx_column *c,
                      size_t *parent, calx_error *err)
{
    const char *colname = NULL;   /* set by calx__fk_split; -O3 cannot tell */
    size_t tlen = calx__fk_split(c->foreign_key, &colname);
    for (size_t i = 0; i < md->n; i++) {
        const calx_table *p = md->tables[i];
        if (strlen(p->name) != tlen || strncmp(p->name, c->foreign_key, tlen) != 0)
            continue;
        if (!find_column(p, colname))
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "foreign key %s.%s references unknown column '%s'",
                                  t->name, c->name, c->foreign_key);
        *parent = i;
        return 0;
    }
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "foreign key %s.%s references unknown table '%.*s'", t->name,
                          c->name, (int)tlen, c->foreign_key);
}

/* Checks what needs every table at hand: foreign keys and index names. */
static int check_all(const calx_metadata *md, calx_error *err)
{
    for (size_t i = 0; i < md->n; i++) {
        const calx_table *t = md->tables[i];
        for (size_t k = 0; k < t->ncolumns; k++) {
            const calx_column *c = &t->columns[k];
            size_t parent = 0;
            int rc = c->foreign_key ? resolve_fk(md, t, c, &parent, err) : 0;
            if (rc)
                return rc;
            if (c->on_delete && calx__ascii_casecmp(c->on_delete, "SET NULL") == 0 &&
                (!c->nullable || c->primary_key))
                return calx_error_set(err, CALX_ERR_ARGUMENT,
                                      "foreign key %s.%s has on_delete SET NULL but the "
                                      "column is NOT NULL",
                                      t->name, c->name);
        }
    }
    /* Index names live in one namespace per database (SQLite, and a
     * PostgreSQL schema): ix_a_b_c may come from a_b.c and from a.b_c. */
    for (size_t i = 0; i < md->n; i++) {
        const calx_table *t = md->tables[i];
        for (size_t k = 0; k < t->ncolumns; k++) {
            if (!t->columns[k].index)
                continue;
            char *name = calx__ddl_index_name(t, &t->columns[k]);
            if (!name)
                return calx__nomem(err, NULL);
            for (size_t j = 0; j <= i; j++) {
                const calx_table *u = md->tables[j];
                for (size_t m = 0; m < (j == i ? k : u->ncolumns); m++) {
                    if (!u->columns[m].index)
                        continue;
                    char *other = calx__ddl_index_name(u, &u->columns[m]);
                    bool same = other && strcmp(name, other) == 0;
                    free(other);
                    if (same) {
                        calx_error_set(err, CALX_ERR_ARGUMENT,
                                       "index name %s is given by both %s.%s and %s.%s", name,
                                       u->name, u->columns[m].name, t->name,
                                       t->columns[k].name);
                        free(name);
                        return CALX_ERR_ARGUMENT;
                    }
                }
            }
            free(name);
        }
    }
    return 0;
}

/* The index among tables[0 .. n) of the table fk ("table.column")
 * references, or n when it is none of them. */
static size_t parent_of(const calx_table *const *tables, size_t n, const char *fk)
{
    const char *colname;
    size_t tlen = calx__fk_split(fk, &colname);
    for (size_t i = 0; tlen && i < n; i++)
        if (strlen(tables[i]->name) == tlen && strncmp(tables[i]->name, fk, tlen) == 0)
            return i;
    return n;
}

/* dep[i * n + j]: table i references table j (itself does not count). */
static bool *dependencies(const calx_table *const *tables, size_t n)
{
    bool *dep = calloc(n * n, sizeof *dep);
    for (size_t i = 0; dep && i < n; i++) {
        const calx_table *t = tables[i];
        for (size_t k = 0; k < t->ncolumns; k++) {
            size_t parent = t->columns[k].foreign_key
                                ? parent_of(tables, n, t->columns[k].foreign_key)
                                : n;
            if (parent < n && parent != i)
                dep[i * n + parent] = true;
        }
    }
    return dep;
}

static int report_cycle(const calx_table *const *tables, size_t n, const bool *dep,
                        const bool *done, const char *who, calx_error *err)
{
    /* Every table left references another one left: walk those references
     * from the first until a table comes round again. */
    size_t *path = malloc(n * sizeof *path);
    if (!path)
        return calx__nomem(err, NULL);
    size_t len = 0, at = 0;
    while (done[at])
        at++;
    for (;;) {
        for (size_t k = 0; k < len; k++) {
            if (path[k] != at)
                continue;
            calx_buf b = { 0 };
            for (size_t m = k; m < len; m++)
                calx__buf_printf(&b, "%s -> ", tables[path[m]]->name);
            calx__buf_puts(&b, tables[at]->name);
            calx_error_set(err, CALX_ERR_ARGUMENT,
                           "foreign keys form a cycle: %s (%s cannot order these tables)",
                           b.p ? b.p : "?", who);
            calx__buf_free(&b);
            free(path);
            return CALX_ERR_ARGUMENT;
        }
        path[len++] = at;
        size_t next = 0;
        while (done[next] || !dep[at * n + next])
            next++;
        at = next;
    }
}

int calx__tables_sorted(const calx_table *const *tables, size_t n, const calx_table **out,
                        const char *who, calx_error *err)
{
    if (n == 0)
        return 0;
    bool *dep = dependencies(tables, n);
    bool *done = calloc(n, 2 * sizeof *done);
    if (!dep || !done) {
        free(dep);
        free(done);
        return calx__nomem(err, "sorting tables");
    }
    /* Kahn's algorithm by layers, each layer in the order given, as
     * SQLAlchemy's topological.sort_as_subsets: the output is the same. */
    bool *ready = done + n;
    size_t nout = 0;
    int rc = 0;
    while (nout < n) {
        size_t layer = 0;
        for (size_t i = 0; i < n; i++) {
            ready[i] = false;
            if (done[i])
                continue;
            bool ok = true;
            for (size_t j = 0; j < n && ok; j++)
                if (!done[j] && dep[i * n + j])
                    ok = false;
            ready[i] = ok;
            layer += ok;
        }
        if (layer == 0) {
            rc = report_cycle(tables, n, dep, done, who, err);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (ready[i]) {
                done[i] = true;
                out[nout++] = tables[i];
            }
        }
    }
    free(dep);
    free(done);
    return rc;
}

int calx_metadata_sorted(const calx_metadata *md, const calx_table **out, calx_error *err)
{
    if (!md)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the metadata is NULL");
    int rc = check_all(md, err);
    if (rc)
        return rc;
    return calx__tables_sorted(md->tables, md->n, out, "create_all", err);
}
