/* The unit of work: finds what changed, orders the statements (parents
 * before children; per table UPDATEs, then INSERTs in the order added;
 * DELETEs children first), sends them as one batch, and moves the objects
 * to their new states.
 *
 * Generated keys come back per statement (SQLite's lastrowid, or
 * PostgreSQL's RETURNING of that one INSERT), so a key always reaches the
 * object whose row made it, never by position in a multi-row result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/connection.h"
#include "core/buf.h"
#include "orm/session_int.h"
#include "sql/ident.h"
#include "sql/text.h"

typedef enum op_kind { OP_UPDATE, OP_INSERT, OP_DELETE } op_kind;

typedef struct flush_op {
    op_kind kind;
    calx_obj *o;
    const char *sql;
    size_t p0, np;            /* its parameters in the flush's array */
    bool want_key;            /* the database generates the primary key */
} flush_op;

/* SQL texts built in this flush, by (model, kind, column mask): repeated
 * statements share one text, which the batch then plans once. */
typedef struct sql_entry {
    const calx_model *m;
    op_kind kind;
    uint64_t mask;
    char *sql;
} sql_entry;

typedef struct flush_ctx {
    calx_session *s;
    calx_objvec dirty;
    const calx_model **models;
    size_t nmodels;
    flush_op *ops;
    size_t nops, ops_cap;
    sql_entry *sqls;
    size_t nsqls, sqls_cap;
    calx_param *params;
    size_t nparams, params_cap;
    char *ts;                 /* 40 bytes per timestamp parameter */
    size_t nts, ts_cap;
    calx_objvec keyed;        /* given keys drawn from the sequence (PostgreSQL) */
    bool commit;              /* the batch ends with COMMIT (session commit) */
    char **texts;             /* multi-row INSERT texts made for this flush */
    size_t ntexts;
} flush_ctx;

/* One statement of the batch: ops [first, first + count) of one SQL. A
 * multi-row statement inserts all its rows with one VALUES list. */
typedef struct flush_stmt {
    size_t first, count;
    const char *sql;
    bool multirow;
} flush_stmt;

/* Rows per multi-row INSERT: PostgreSQL takes at most 65535 parameters. */
#define MULTIROW_MAX_ROWS 1000
#define MULTIROW_MAX_PARAMS 30000

static bool is_dirty(const calx_obj *o)
{
    for (size_t i = 0; i < o->model->nfields; i++)
        if (calx__obj_field_changed(o, i))
            return true;
    return false;
}

bool calx__flush_needed(const calx_session *s, bool scan)
{
    if (s->pending.n || s->deleting.n)
        return true;
    for (size_t i = 0; scan && i < s->map_cap; i++)
        if (s->map[i] && is_dirty(s->map[i]))
            return true;
    return false;
}

/* ---- ordering ---- */

static int add_model(flush_ctx *x, const calx_model *m)
{
    for (size_t i = 0; i < x->nmodels; i++)
        if (x->models[i] == m)
            return 0;
    const calx_model **v = realloc(x->models, (x->nmodels + 1) * sizeof *v);
    if (!v)
        return CALX_ERR_NOMEM;
    x->models = v;
    x->models[x->nmodels++] = m;
    return 0;
}

/* Whether a has a foreign key to b's table. */
static bool references(const calx_model *a, const calx_model *b)
{
    size_t n = strlen(b->table.name);
    for (size_t i = 0; i < a->table.ncolumns; i++) {
        const char *fk = a->table.columns[i].foreign_key;
        if (fk && a != b && strncmp(fk, b->table.name, n) == 0 && fk[n] == '.')
            return true;
    }
    return false;
}

/* Parents before children, otherwise in first-seen order. A cycle keeps
 * first-seen order for the models in it (the database's deferred checks,
 * or the program's order of flushes, must settle those). */
static void sort_models(flush_ctx *x)
{
    size_t n = x->nmodels, done = 0;
    const calx_model **out = x->models;
    while (done < n) {
        size_t pick = done;
        for (size_t i = done; i < n; i++) {
            bool ready = true;
            for (size_t j = done; j < n && ready; j++)
                if (j != i && references(out[i], out[j]))
                    ready = false;
            if (ready) {
                pick = i;
                break;
            }
        }
        const calx_model *m = out[pick];
        memmove(&out[done + 1], &out[done], (pick - done) * sizeof *out);
        out[done++] = m;
    }
}

/* ---- statements ---- */

static int push_op(flush_ctx *x, flush_op op)
{
    if (x->nops == x->ops_cap) {
        size_t cap = x->ops_cap ? x->ops_cap * 2 : 64;
        flush_op *v = realloc(x->ops, cap * sizeof *v);
        if (!v)
            return CALX_ERR_NOMEM;
        x->ops = v;
        x->ops_cap = cap;
    }
    x->ops[x->nops++] = op;
    return 0;
}

static calx_param *more_params(flush_ctx *x, size_t n)
{
    if (x->nparams + n > x->params_cap) {
        size_t cap = x->params_cap ? x->params_cap * 2 : 256;
        while (cap < x->nparams + n)
            cap *= 2;
        calx_param *v = realloc(x->params, cap * sizeof *v);
        if (!v)
            return NULL;
        x->params = v;
        x->params_cap = cap;
    }
    calx_param *p = &x->params[x->nparams];
    x->nparams += n;
    return p;
}

/* Where a timestamp parameter is written. Parameters keep offsets, not
 * pointers, into this arena, until the batch is sent. */
static char *ts_slot(flush_ctx *x, size_t *off)
{
    if (x->nts == x->ts_cap) {
        size_t cap = x->ts_cap ? x->ts_cap * 2 : 64;
        char *v = realloc(x->ts, cap * 40);
        if (!v)
            return NULL;
        x->ts = v;
        x->ts_cap = cap;
    }
    *off = x->nts++;
    return x->ts + *off * 40;
}

/* Binds field f of struct src to param p. A timestamp's text goes to the
 * arena; its pointer is fixed up before sending (see fix_ts). */
static int bind_field(flush_ctx *x, calx_param *p, const calx_field *f, const void *src)
{
    char buf[40];
    p->name = NULL;
    p->value = calx__field_value(f, src, buf);
    if (f->type == CALX_F_TIMESTAMP && p->value.type == CALX_TEXT) {
        size_t off;
        char *slot = ts_slot(x, &off);
        if (!slot)
            return CALX_ERR_NOMEM;
        memcpy(slot, buf, 40);
        p->value.u.s.ptr = NULL;
        p->value.u.s.len = off; /* fixed up in fix_ts */
        p->name = (const char *)1; /* marks a timestamp awaiting its pointer */
    }
    return 0;
}

static void fix_ts(flush_ctx *x)
{
    for (size_t i = 0; x->nts && i < x->nparams; i++) {
        calx_param *p = &x->params[i];
        if (p->name == (const char *)1) {
            const char *t = x->ts + p->value.u.s.len * 40;
            p->value.u.s.ptr = t;
            p->value.u.s.len = strlen(t);
            p->name = NULL;
        }
    }
}

/* The columns in mask, comma-separated, each followed by suffix. */
static size_t put_columns(calx_buf *b, const calx_dialect *d, const calx_table *t,
                          uint64_t mask, const char *suffix)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (!(mask >> i & 1))
            continue;
        if (n++)
            calx__buf_puts(b, ", ");
        calx__sql_put_ident(b, d, t->columns[i].name, false);
        calx__buf_puts(b, suffix);
    }
    return n;
}

static const char *sql_for(flush_ctx *x, const calx_model *m, op_kind kind, uint64_t mask,
                           calx_error *err)
{
    for (size_t i = x->nsqls; i-- > 0;)
        if (x->sqls[i].m == m && x->sqls[i].kind == kind && x->sqls[i].mask == mask)
            return x->sqls[i].sql;
    const calx_dialect *d = x->s->dialect;
    const calx_table *t = &m->table;
    calx_buf b = { 0 };
    if (kind == OP_INSERT) {
        calx__buf_puts(&b, "INSERT INTO ");
        calx__sql_put_ident(&b, d, t->name, false);
        calx__buf_puts(&b, " (");
        size_t n = put_columns(&b, d, t, mask, "");
        if (n == 0) {
            calx__buf_puts(&b, ") DEFAULT VALUES");
        } else {
            calx__buf_puts(&b, ") VALUES (");
            for (size_t i = 0; i < n; i++)
                calx__buf_puts(&b, i ? ", ?" : "?");
            calx__buf_puts(&b, ")");
        }
        int ai = calx__model_autoinc(m);
        if (ai >= 0 && !(mask >> ai & 1) && d->paramstyle == CALX_PARAMSTYLE_DOLLAR) {
            /* PostgreSQL has no lastrowid: the row's own key comes back. */
            calx__buf_puts(&b, " RETURNING ");
            calx__sql_put_ident(&b, d, t->name, false);
            calx__buf_puts(&b, ".");
            calx__sql_put_ident(&b, d, t->columns[ai].name, false);
        }
    } else {
        if (kind == OP_UPDATE) {
            calx__buf_puts(&b, "UPDATE ");
            calx__sql_put_ident(&b, d, t->name, false);
            calx__buf_puts(&b, " SET ");
            put_columns(&b, d, t, mask, "=?");
        } else {
            calx__buf_puts(&b, "DELETE FROM ");
            calx__sql_put_ident(&b, d, t->name, false);
        }
        calx__buf_puts(&b, " WHERE ");
        size_t n = 0;
        for (size_t i = 0; i < t->ncolumns; i++) {
            if (!t->columns[i].primary_key)
                continue;
            if (n++)
                calx__buf_puts(&b, " AND ");
            calx__sql_put_ident(&b, d, t->name, false);
            calx__buf_puts(&b, ".");
            calx__sql_put_ident(&b, d, t->columns[i].name, false);
            calx__buf_puts(&b, " = ?");
        }
    }
    char *sql = calx__buf_take(&b);
    if (!sql)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory"), NULL;
    if (x->nsqls == x->sqls_cap) {
        size_t cap = x->sqls_cap ? x->sqls_cap * 2 : 8;
        sql_entry *v = realloc(x->sqls, cap * sizeof *v);
        if (!v) {
            free(sql);
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory"), NULL;
        }
        x->sqls = v;
        x->sqls_cap = cap;
    }
    x->sqls[x->nsqls++] = (sql_entry){ m, kind, mask, sql };
    return sql;
}

static int plan_insert(flush_ctx *x, calx_obj *o, calx_error *err)
{
    const calx_model *m = o->model;
    const void *obj = calx__obj_ptr(o);
    int ai = calx__model_autoinc(m);
    uint64_t mask = 0;
    size_t np = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        bool null = calx__field_is_null(&m->fields[i], obj);
        /* A NULL generated key is the database's to make; a NULL column
         * with a server default gets its default. */
        if (null && ((int)i == ai || m->table.columns[i].server_default))
            continue;
        mask |= 1ull << i;
        np++;
    }
    const char *sql = sql_for(x, m, OP_INSERT, mask, err);
    if (!sql)
        return CALX_ERR_NOMEM;
    size_t p0 = x->nparams;
    calx_param *p = more_params(x, np);
    if (!p)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    for (size_t i = 0, k = 0; i < m->nfields; i++)
        if (mask >> i & 1)
            if (bind_field(x, &x->params[p0 + k++], &m->fields[i], obj))
                return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    return push_op(x, (flush_op){ OP_INSERT, o, sql, p0, np,
                                  ai >= 0 && !(mask >> ai & 1) })
               ? calx_error_set(err, CALX_ERR_NOMEM, "out of memory")
               : 0;
}

static int bind_key(flush_ctx *x, const calx_obj *o, calx_error *err)
{
    const calx_model *m = o->model;
    for (size_t i = 0; i < m->nfields; i++) {
        if (!m->table.columns[i].primary_key)
            continue;
        size_t at = x->nparams;
        if (!more_params(x, 1) ||
            bind_field(x, &x->params[at], &m->fields[i], calx__obj_snap(o)))
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int plan_update(flush_ctx *x, calx_obj *o, calx_error *err)
{
    const calx_model *m = o->model;
    uint64_t mask = 0;
    size_t np = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        if (calx__obj_field_changed(o, i)) {
            mask |= 1ull << i;
            np++;
        }
    }
    const char *sql = sql_for(x, m, OP_UPDATE, mask, err);
    if (!sql)
        return CALX_ERR_NOMEM;
    size_t p0 = x->nparams;
    if (!more_params(x, np))
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    for (size_t i = 0, k = 0; i < m->nfields; i++)
        if (mask >> i & 1)
            if (bind_field(x, &x->params[p0 + k++], &m->fields[i], calx__obj_ptr(o)))
                return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    if (bind_key(x, o, err))
        return CALX_ERR_NOMEM;
    return push_op(x, (flush_op){ OP_UPDATE, o, sql, p0, x->nparams - p0, false })
               ? calx_error_set(err, CALX_ERR_NOMEM, "out of memory")
               : 0;
}

static int plan_delete(flush_ctx *x, calx_obj *o, calx_error *err)
{
    const char *sql = sql_for(x, o->model, OP_DELETE, 0, err);
    if (!sql)
        return CALX_ERR_NOMEM;
    size_t p0 = x->nparams;
    if (bind_key(x, o, err))
        return CALX_ERR_NOMEM;
    return push_op(x, (flush_op){ OP_DELETE, o, sql, p0, x->nparams - p0, false })
               ? calx_error_set(err, CALX_ERR_NOMEM, "out of memory")
               : 0;
}

static int cmp_key(const void *a, const void *b)
{
    calx_obj *x = *(calx_obj *const *)a, *y = *(calx_obj *const *)b;
    calx_value kx[8], ky[8];
    char tx[320], ty[320];
    calx__obj_key(x, calx__obj_snap(x), kx, tx);
    calx__obj_key(y, calx__obj_snap(y), ky, ty);
    if (kx[0].type == CALX_INT && ky[0].type == CALX_INT)
        return kx[0].u.i < ky[0].u.i ? -1 : kx[0].u.i > ky[0].u.i;
    if (kx[0].type == CALX_TEXT && ky[0].type == CALX_TEXT)
        return strcmp(kx[0].u.s.ptr, ky[0].u.s.ptr);
    return 0;
}

/* PostgreSQL: the keys of new rows are drawn from the key column's
 * sequence first, in one statement per table, and given to the objects in
 * the order they were added; the INSERTs then carry them, many rows to a
 * statement, and nothing has to be matched back from RETURNING (whose row
 * order PostgreSQL does not promise). One round trip, whatever the number
 * of rows. Tables with one new row keep INSERT ... RETURNING. */
static int draw_keys(flush_ctx *x, const calx_model *m, calx_error *err)
{
    calx_session *s = x->s;
    int ai = calx__model_autoinc(m);
    if (ai < 0)
        return 0;
    const calx_field *f = &m->fields[ai];
    size_t n = 0;
    for (size_t i = 0; i < s->pending.n; i++)
        if (s->pending.v[i]->model == m && calx__field_is_null(f, calx__obj_ptr(s->pending.v[i])))
            n++;
    if (n < 2)
        return 0;
    int rc = calx__session_conn(s, err);
    if (rc)
        return rc;
    calx_buf tb = { 0 };
    calx__sql_put_ident(&tb, s->dialect, m->table.name, false);
    char *tname = calx__buf_take(&tb);
    if (!tname)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    calx_result *r = NULL;
    rc = calx_await(calx_conn_execute(s->conn,
                                      "SELECT nextval(pg_get_serial_sequence(?, ?)) "
                                      "FROM generate_series(1, ?)",
                                      CALX_PARAMS(CALX_V(calx_text(tname)),
                                                  CALX_V(calx_text(m->table.columns[ai].name)),
                                                  CALX_V(calx_int((int64_t)n))),
                                      err),
                    &r, err);
    free(tname);
    if (rc)
        return rc;
    if (calx_result_nrows(r) != n) {
        calx_result_free(r);
        return calx_error_set(err, CALX_ERR_INTERNAL, "the sequence of %s.%s gave %zu keys for %zu rows",
                              m->table.name, m->table.columns[ai].name, calx_result_nrows(r), n);
    }
    /* Ascending, so keys follow the order the objects were added. */
    int64_t *keys = malloc(n * sizeof *keys);
    if (!keys) {
        calx_result_free(r);
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = calx_row_int(calx_result_row(r, i), 0);
    calx_result_free(r);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
            int64_t t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    size_t k = 0;
    for (size_t i = 0; i < s->pending.n && !rc; i++) {
        calx_obj *o = s->pending.v[i];
        if (o->model != m || !calx__field_is_null(f, calx__obj_ptr(o)))
            continue;
        calx_value v = calx_int(keys[k++]);
        if (calx__objvec_push(&x->keyed, o))
            rc = calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
        else
            rc = calx__obj_load_field(o, (size_t)ai, &v, err);
    }
    free(keys);
    return rc;
}

/* A flush that failed takes back the keys it drew: the objects are as
 * they were before it. */
static void undraw_keys(flush_ctx *x)
{
    for (size_t i = 0; i < x->keyed.n; i++) {
        calx_obj *o = x->keyed.v[i];
        int ai = calx__model_autoinc(o->model);
        calx_value null = calx_null();
        calx__obj_load_field(o, (size_t)ai, &null, NULL);
    }
}

static int plan(flush_ctx *x, calx_error *err)
{
    calx_session *s = x->s;
    /* Column sets are 64-bit masks. */
    for (size_t i = 0; i < s->pending.n; i++)
        if (s->pending.v[i]->model->nfields > 64)
            return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                                  "%s has more than 64 fields, which the flush does not support yet",
                                  s->pending.v[i]->model->name);
    for (size_t i = 0; i < s->map_cap; i++) {
        calx_obj *o = s->map[i];
        if (o && !o->delete_marked && is_dirty(o) && calx__objvec_push(&x->dirty, o))
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    }
    /* Validation first: a bad object sends nothing. */
    for (size_t i = 0; i < s->pending.n; i++)
        if (calx_obj_validate(calx__obj_ptr(s->pending.v[i]), err))
            return CALX_ERR_VALIDATION;
    for (size_t i = 0; i < x->dirty.n; i++)
        if (calx_obj_validate(calx__obj_ptr(x->dirty.v[i]), err))
            return CALX_ERR_VALIDATION;
    for (size_t i = 0; i < s->pending.n; i++)
        if (add_model(x, s->pending.v[i]->model))
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < x->dirty.n; i++)
        if (add_model(x, x->dirty.v[i]->model))
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->deleting.n; i++)
        if (add_model(x, s->deleting.v[i]->model))
            return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    sort_models(x);
    if (x->dirty.n)
        qsort(x->dirty.v, x->dirty.n, sizeof *x->dirty.v, cmp_key);
    if (s->dialect->paramstyle == CALX_PARAMSTYLE_DOLLAR)
        for (size_t k = 0; k < x->nmodels; k++)
            if (draw_keys(x, x->models[k], err))
                return err->code;
    for (size_t k = 0; k < x->nmodels; k++) {
        const calx_model *m = x->models[k];
        for (size_t i = 0; i < x->dirty.n; i++)
            if (x->dirty.v[i]->model == m && plan_update(x, x->dirty.v[i], err))
                return err->code;
        for (size_t i = 0; i < s->pending.n; i++)
            if (s->pending.v[i]->model == m && plan_insert(x, s->pending.v[i], err))
                return err->code;
    }
    calx_obj **del = malloc((s->deleting.n ? s->deleting.n : 1) * sizeof *del);
    if (!del)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    if (s->deleting.n) {
        memcpy(del, s->deleting.v, s->deleting.n * sizeof *del);
        qsort(del, s->deleting.n, sizeof *del, cmp_key);
    }
    int rc = 0;
    for (size_t k = x->nmodels; k-- > 0 && !rc;)
        for (size_t i = 0; i < s->deleting.n && !rc; i++)
            if (del[i]->model == x->models[k])
                rc = plan_delete(x, del[i], err);
    free(del);
    return rc;
}

/* ---- running it ---- */

/* Consecutive operations with the same SQL (same table, kind and
 * columns) go as one execute-many: on PostgreSQL one pipeline, on SQLite
 * one prepared statement stepped per row. */
static size_t group_end(const flush_ctx *x, size_t i)
{
    size_t j = i + 1;
    while (j < x->nops && x->ops[j].sql == x->ops[i].sql)
        j++;
    return j;
}

/* "INSERT ... VALUES (?, ?)" for rows rows: the VALUES tuple repeated. */
static const char *multirow_sql(flush_ctx *x, const char *sql, size_t rows)
{
    const char *tuple = strstr(sql, " VALUES (");
    if (!tuple)
        return NULL;
    tuple += 8;
    char **v = realloc(x->texts, (x->ntexts + 1) * sizeof *v);
    if (!v)
        return NULL;
    x->texts = v;
    calx_buf b = { 0 };
    calx__buf_puts(&b, sql);
    for (size_t i = 1; i < rows; i++) {
        calx__buf_puts(&b, ", ");
        calx__buf_puts(&b, tuple);
    }
    char *text = calx__buf_take(&b);
    if (text)
        x->texts[x->ntexts++] = text;
    return text;
}

/* The batch's statements. PostgreSQL INSERTs whose keys are known go many
 * rows to a statement; everything else one statement per run of equal
 * SQL, an execute-many when the run is longer than one. */
static flush_stmt *plan_stmts(flush_ctx *x, size_t *nout, calx_error *err)
{
    flush_stmt *st = malloc((x->nops ? x->nops : 1) * sizeof *st);
    if (!st)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory"), NULL;
    bool pg = x->s->dialect->paramstyle == CALX_PARAMSTYLE_DOLLAR;
    size_t n = 0;
    for (size_t i = 0; i < x->nops;) {
        size_t end = group_end(x, i);
        flush_op *op = &x->ops[i];
        if (pg && op->kind == OP_INSERT && !op->want_key && end - i > 1 && op->np) {
            size_t per = MULTIROW_MAX_PARAMS / op->np;
            per = per < 1 ? 1 : per > MULTIROW_MAX_ROWS ? MULTIROW_MAX_ROWS : per;
            for (; i < end; n++) {
                size_t rows = end - i < per ? end - i : per;
                const char *sql = rows > 1 ? multirow_sql(x, op->sql, rows) : op->sql;
                if (!sql) {
                    free(st);
                    return calx_error_set(err, CALX_ERR_NOMEM, "out of memory"), NULL;
                }
                st[n] = (flush_stmt){ i, rows, sql, rows > 1 };
                i += rows;
            }
        } else {
            st[n++] = (flush_stmt){ i, end - i, op->sql, false };
            i = end;
        }
    }
    *nout = n;
    return st;
}

static int send(flush_ctx *x, const flush_stmt *st, size_t nst, calx_result **out,
                calx_error *err)
{
    calx_session *s = x->s;
    int rc = calx__session_conn(s, err);
    if (rc)
        return rc;
    fix_ts(x);
    calx_stmt *stmts = malloc(nst * sizeof *stmts);
    calx_params *ps = malloc(x->nops * sizeof *ps);
    if (!stmts || !ps) {
        free(stmts);
        free(ps);
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    }
    bool lastrowid = s->dialect->paramstyle == CALX_PARAMSTYLE_QMARK;
    for (size_t i = 0; i < x->nops; i++)
        ps[i] = (calx_params){ x->params + x->ops[i].p0, x->ops[i].np };
    for (size_t k = 0; k < nst; k++) {
        const flush_op *op = &x->ops[st[k].first];
        if (st[k].multirow) {
            /* The rows' parameters lie one after another: one set. */
            ps[st[k].first].n = op->np * st[k].count;
            stmts[k] = (calx_stmt){ st[k].sql, &ps[st[k].first], 1, false };
        } else {
            stmts[k] = (calx_stmt){ st[k].sql, &ps[st[k].first], st[k].count,
                                    op->want_key && lastrowid };
        }
    }
    /* The batch copies every value when it is made: the arrays can go
     * before it runs. */
    calx_future *f = x->commit ? calx_conn_execute_batch_commit(s->conn, stmts, nst, err)
                               : calx_conn_execute_batch(s->conn, stmts, nst, err);
    free(stmts);
    free(ps);
    return calx_await(f, out, err);
}

/* A database error names the statement that failed, as Core's errors do
 * ("\n[SQL: ...]", in the dialect's paramstyle, as echo shows it). A batch
 * error of several statements says which one failed ("statement k of n",
 * the drivers' note); a failure outside the statements (PostgreSQL's "in
 * COMMIT") names none. */
static void name_statement(const flush_ctx *x, const flush_stmt *st, size_t nst,
                           calx_error *err)
{
    if (err->code < CALX_ERR_INTEGRITY || err->code > CALX_ERR_DATABASE ||
        strstr(err->message, "\n[SQL: ") || strstr(err->message, "(in "))
        return;
    size_t k = 0;
    if (nst > 1) {
        const char *note = strstr(err->message, "(statement ");
        size_t i, n;
        if (!note || sscanf(note, "(statement %zu of %zu", &i, &n) != 2 || n != nst || i < 1 ||
            i > nst)
            return;
        k = i - 1;
    }
    const flush_op *op = &x->ops[st[k].first];
    calx_params ps = { x->params + op->p0, st[k].multirow ? op->np * st[k].count : op->np };
    calx_text_plan plan = { 0 };
    calx_error ignored;
    const char *sql = calx__text_compile(st[k].sql, &ps, x->s->dialect->paramstyle, &plan,
                                         &ignored) == 0
                          ? plan.sql
                          : st[k].sql;
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof err->message - len, "\n[SQL: %s]", sql);
    calx__text_plan_free(&plan);
}

/* Checks each statement's outcome and fills generated keys: row j of an
 * INSERT's result is set j's key (each set runs on its own, so the row
 * comes from that set's execution, never from a multi-row statement). */
static int read_results(flush_ctx *x, const flush_stmt *st, size_t nst, calx_result *r,
                        calx_error *err)
{
    for (size_t k = 0; k < nst; k++) {
        size_t i = st[k].first, count = st[k].count;
        flush_op *op = &x->ops[i];
        if (k > 0 && !calx_result_nextset(r))
            return calx_error_set(err, CALX_ERR_INTERNAL,
                                  "the database answered fewer statements than the flush sent");
        const calx_table *t = &op->o->model->table;
        int64_t rc = calx_result_rowcount(r);
        if (op->kind != OP_INSERT && rc >= 0 && (size_t)rc != count)
            return calx_error_set(err, CALX_ERR_STALE_DATA,
                                  op->kind == OP_UPDATE
                                      ? "UPDATE statement on table '%s' expected to update %zu "
                                        "row(s); %lld were matched."
                                      : "DELETE statement on table '%s' expected to delete %zu "
                                        "row(s); Only %lld were matched.",
                                  t->name, count, (long long)rc);
        if (!op->want_key)
            continue;
        if (calx_result_nrows(r) != count)
            return calx_error_set(err, CALX_ERR_INTERNAL,
                                  "INSERT INTO %s returned %zu keys for %zu rows", t->name,
                                  calx_result_nrows(r), count);
        int ai = calx__model_autoinc(op->o->model);
        for (size_t j = 0; j < count; j++)
            if (calx__obj_load_field(x->ops[i + j].o, (size_t)ai,
                                     calx_row_value(calx_result_row(r, j), 0), err))
                return err->code;
    }
    return 0;
}

/* Moves every flushed object to its new state. */
static int apply(flush_ctx *x, calx_error *err)
{
    calx_session *s = x->s;
    for (size_t i = 0; i < x->nops; i++) {
        flush_op *op = &x->ops[i];
        calx_obj *o = op->o;
        o->sp_gen = s->gen;
        switch (op->kind) {
        case OP_INSERT:
            if (calx__obj_take_snapshot(o, err) || calx__map_insert(s, o) ||
                calx__objvec_push(&s->inserted, o))
                return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
            o->state = CALX_OBJ_PERSISTENT;
            o->expired = false;
            break;
        case OP_UPDATE: {
            calx_value k1[8], k2[8];
            char t1[320], t2[320];
            size_t n = calx__obj_key(o, calx__obj_ptr(o), k1, t1);
            calx__obj_key(o, calx__obj_snap(o), k2, t2);
            bool rekey = calx__key_hash(o->model, k1, n) != calx__key_hash(o->model, k2, n);
            if (calx__obj_take_snapshot(o, err))
                return err->code;
            if (rekey) {
                calx__map_remove(s, o);
                if (calx__map_insert(s, o))
                    return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
            }
            break;
        }
        case OP_DELETE:
            calx__map_remove(s, o);
            o->delete_marked = false;
            o->state = CALX_OBJ_DELETED;
            if (calx__objvec_push(&s->deleted, o))
                return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
            break;
        }
    }
    s->pending.n = 0;
    s->deleting.n = 0;
    return 0;
}

static void ctx_free(flush_ctx *x)
{
    calx__objvec_free(&x->dirty);
    calx__objvec_free(&x->keyed);
    for (size_t i = 0; i < x->ntexts; i++)
        free(x->texts[i]);
    free(x->texts);
    free(x->models);
    free(x->ops);
    for (size_t i = 0; i < x->nsqls; i++)
        free(x->sqls[i].sql);
    free(x->sqls);
    free(x->params);
    free(x->ts);
}

int calx__flush(calx_session *s, calx_error *err)
{
    return calx__flush_ex(s, false, NULL, err);
}

int calx__flush_ex(calx_session *s, bool commit, bool *committed, calx_error *err)
{
    if (committed)
        *committed = false;
    if (!s->pending.n && !s->deleting.n && !calx__flush_needed(s, true))
        return 0;
    flush_ctx x = { .s = s, .commit = commit };
    int rc = plan(&x, err);
    if (rc || x.nops == 0) {
        if (rc)
            undraw_keys(&x);
        ctx_free(&x);
        return rc;
    }
    /* An UPDATE or DELETE must match the rows it expects (StaleDataError)
     * before anything commits: its count is known only from its result, so
     * its COMMIT cannot ride in the same batch, where the database would
     * commit the rest of the flush before the check could stop it. */
    for (size_t i = 0; i < x.nops && x.commit; i++)
        if (x.ops[i].kind != OP_INSERT)
            x.commit = false;
    calx_result *r = NULL;
    size_t nst = 0;
    flush_stmt *st = plan_stmts(&x, &nst, err);
    rc = st ? send(&x, st, nst, &r, err) : err->code;
    if (rc && st)
        name_statement(&x, st, nst, err);
    if (!rc)
        rc = read_results(&x, st, nst, r, err);
    if (!rc && committed)
        *committed = x.commit;
    if (!rc)
        rc = apply(&x, err);
    if (rc)
        undraw_keys(&x);
    free(st);
    calx_result_free(r);
    ctx_free(&x);
    if (rc) {
        s->need_rollback = true;
        s->failed = *err;
    }
    return rc;
}
