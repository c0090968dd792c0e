/* SPDX-License-Identifier: MIT */
/* The unit of work: finds what changed, orders the statements (tables in
 * the metadata's foreign-key order, calx__tables_sorted; per table UPDATEs,
 * then INSERTs in the order added; DELETEs children first), sends them as
 * one batch, and moves the objects to their new states.
 *
 * Relationships first (relwrite.c): their pass adds what save-update
 * reaches and sets the foreign keys that follow from the members. A key
 * the database makes (a pending parent's) is known only once its INSERT
 * has run, so a flush with such a wait runs in rounds: each round sends,
 * as one batch, what waits for nothing; the keys come back; the sync runs
 * again; DELETEs and the commit ride on the last round. Rows that wait
 * for each other (a cycle, in a self-referential table) are broken as
 * SQLAlchemy's post_update does: one goes in with its key NULL and gets
 * an UPDATE once the other's key is known. A flush without a wait, the
 * common case, is one round: one batch, one round trip, unless the round
 * has more operations than a segment (SEGMENT_OPS): then it goes a
 * segment at a time (the first small, so the database starts soon), each
 * made into a batch (its values copied) as soon as it is planned and sent
 * when the one before is back. Objects move to
 * their new states only after the last round, so a failure in any round
 * or segment leaves the session as a failed single batch does; one after
 * the COMMIT ran says so in its message.
 *
 * The SQL is the SQL layer's: each statement's text comes from its
 * builders and compilers (src/sql/persist.c), compiled once per shape
 * (table, kind, columns) and run with the objects' values as parameter
 * sets. How new keys come back is the dialect's key_strategy: SQLite's
 * driver reads each row's rowid right after it runs; PostgreSQL's keys
 * come from RETURNING, several rows to a statement in SQLAlchemy 2.0's
 * sentinel form, and are matched to their objects by the sentinel's
 * order, never by the order the rows come back in. A commit's UPDATEs and
 * DELETEs must match their rows before the COMMIT runs: their counts are
 * read back first, unless the dialect can check them in the statement
 * (row_check_open), which a small last round then does, the COMMIT in its
 * batch (flush_ctx.checked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/connection.h"
#include "core/buf.h"
#include "core/grow.h"
#include "core/nomem.h"
#include "core/present.h"
#include "engine/engine_int.h"
#include "engine/registry.h"
#include "engine/sql_memo.h"
#include "orm/relation.h"
#include "orm/session_int.h"
#include "sql/compiler.h"
#include "sql/convert.h"
#include "sql/ddl.h"
#include "sql/dialect.h"
#include "sql/onupdate.h"
#include "sql/ident.h"
#include "sql/text.h"
#include "sql/user_type.h"

typedef enum op_kind { OP_UPDATE, OP_INSERT, OP_DELETE } op_kind;

typedef struct flush_op {
    op_kind kind;
    uint32_t old_gen;         /* an INSERT applied early: the object's sp_gen
                                 before (undo_early puts it back) */
    calx_obj *o;
    const char *sql;
    size_t p0, np;            /* its parameters in the flush's array (while
                                 its segment is planned: make_segment) */
    uint64_t fetch;           /* INSERT: server defaults it reads back (RETURNING) */
    bool want_key;            /* the database generates the primary key */
    bool key_changed;         /* UPDATE: it may set a primary-key field (the
                                 identity map then re-keys the object) */
    bool applied;             /* an INSERT applied while the next segment ran
                                 (apply_early) */
    bool was_expired;         /* its expired flag before that */
} flush_op;

/* A many-row text of an INSERT shape, by its rows and form. */
typedef struct rows_text {
    size_t rows;
    calx__rows_form form;
    char *sql;
} rows_text;

/* SQL texts built in this flush, by (model, kind, column mask): repeated
 * statements share one text, which the batch then plans once. An INSERT
 * keeps its statement, for the texts of many rows. */
typedef struct sql_entry {
    const calx_model *m;
    op_kind kind;
    bool checked;             /* in the dialect's row-checking form */
    uint64_t mask;
    uint64_t fetch;           /* an INSERT's server_fetch columns */
    char *sql;
    calx_insert *ins;
    rows_text *texts;
    size_t ntexts;
} sql_entry;

/* A segment: its operations and statements, made into a batch (its
 * values copied) while the one before runs, then sent, and read when it
 * is back (one at a time in flight: flush_ctx.inflight). */
typedef struct segment {
    calx__batch *made;        /* made, not sent yet */
    calx_future *f;           /* sent: NULL when none is in flight */
    size_t first, end;        /* its operations */
    struct flush_stmt *st;    /* its statements (plan_stmts) */
    size_t nst;
    bool commit;              /* it carries the COMMIT */
} segment;

/* How a statement of the batch writes its operations' rows. */
typedef enum stmt_form {
    FORM_EACH,                /* one execution per operation (an execute-many) */
    FORM_ROWS,                /* `per` rows to an execution: INSERT ... VALUES (..), (..) */
    FORM_SENTINEL,            /* the same, in the sentinel form, RETURNING the keys */
    FORM_ARRAYS               /* the sentinel form over one array a column
                                 (CALX__ROWS_ARRAYS): `per` rows to an execution */
} stmt_form;

/* One statement of the batch: ops [first, first + count) of one SQL, run
 * count / per times with per operations' parameters each. */
typedef struct flush_stmt {
    size_t first, count, per;
    const char *sql;
    stmt_form form;
} flush_stmt;

/* Room a flush holds for its first dirty objects, operations, parameters
 * and models (calx__grow_room), and for two segments' statements: a
 * commit of an object or a few allocates none of those arrays, each a
 * malloc and a free, which glibc serves by its slow paths when many
 * sessions commit at once (B5: some 1,300 instructions a one-object
 * commit). */
#define ROOM_OPS 4
#define ROOM_PARAMS 16
#define ROOM_MODELS 4
#define ROOM_STMTS 4

typedef struct flush_ctx {
    calx_session *s;
    calx_objvec dirty;
    const calx_model **models;
    size_t nmodels, models_cap;
    flush_op *ops;
    size_t nops, ops_cap;
    sql_entry *sqls;
    size_t nsqls, sqls_cap;
    calx_param *params;
    size_t nparams, params_cap;
    calx_dtype *types;        /* beside params: the column each meets (the driver's
                                 type for it: an INTEGER column's int4) */
    size_t types_cap;
    char **kept;              /* bytes of the values user types made, the
                                 items of enum arrays bound as names */
    size_t nkept, kept_cap;
    calx_objvec keyed;        /* given keys drawn from the sequence (sequence prefetch) */
    bool commit;              /* the batch ends with COMMIT (session commit) */
    bool committed;           /* the last round carried it */
    bool checked;             /* the last round's UPDATEs and DELETEs check
                                 their row counts in the statement (the
                                 dialect's row_check_open): its COMMIT rides
                                 behind them */
    calx_objvec inserts;      /* this round's INSERTs, in the order added */
    calx__relwaits waits;     /* foreign keys waiting for a key (relwrite.c) */
    struct post_update *post; /* fields inserted NULL to break a cycle */
    size_t npost, post_cap;
    size_t nread;             /* ops whose results came back */
    size_t napplied;          /* ops before this one had their results
                                 looked at by apply_early */
    size_t inserted0;         /* the session's inserted list before (undo_early) */
    bool early;               /* apply_early may run (a flush that writes
                                 through no relationship: one round) */
    bool early_reserved;      /* it made room for the whole flush's inserts */
    bool sending;             /* a batch went to the database */
    bool rel_writes;          /* an object writes through a relationship
                                 (calx__relwrite_prepare) */
    /* A round of many operations goes in segments (at most SEGMENT_OPS):
     * one is in flight while the next is planned. */
    size_t seg_first;         /* the first operation not yet sent */
    size_t seg_ops;           /* the size of the segment being planned
                                 (FIRST_SEGMENT_OPS growing to SEGMENT_OPS) */
    segment inflight;         /* the segment sent and not yet read (f set) */
    /* Where dirty, models, ops, params and types start (ctx_init). */
    calx_obj *dirty_room[ROOM_OPS];
    const calx_model *models_room[ROOM_MODELS];
    flush_op ops_room[ROOM_OPS];
    calx_param params_room[ROOM_PARAMS];
    calx_dtype types_room[ROOM_PARAMS];
    flush_stmt st_room[2][ROOM_STMTS]; /* two segments' statements (plan_stmts) */
} flush_ctx;

/* A foreign key a cycle made go in NULL: an UPDATE sets it once the key
 * it waits for is known (SQLAlchemy's post_update). */
typedef struct post_update {
    calx_obj *o;
    size_t field;
    bool planned;
} post_update;

/* Rows per many-row INSERT, as SQLAlchemy's insertmanyvalues_page_size;
 * fewer when the dialect's max_params is reached first. */
#define MULTIROW_MAX_ROWS 1000

/* Operations per segment of a round: a round of more is sent a segment at
 * a time, each as soon as it is planned, so that the database (SQLite's
 * worker thread, the PostgreSQL server) runs one while the loop thread
 * plans the next and copies its values; planning 100,000 INSERTs before
 * sending any made the flush take their planning time plus their running
 * time, and copying a segment's values only once the one before was back
 * left SQLite's worker idle for that long (~3 ms a segment). Whole chunks of
 * many-row INSERTs, and more than the flushes most programs make (which go
 * in one round trip, as before). */
#define SEGMENT_OPS (4 * MULTIROW_MAX_ROWS)

/* The first segment of a round of more than SEGMENT_OPS, each one after
 * twice the one before up to SEGMENT_OPS: nothing runs until the first is
 * planned, and planning 4,000 UPDATEs took about as long as running them
 * (B4), so the database sat idle that long. One full many-row INSERT. */
#define FIRST_SEGMENT_OPS MULTIROW_MAX_ROWS

/* The most UPDATEs and DELETEs a commit's last round sends in the form
 * that checks its row count in the statement, the COMMIT riding behind
 * them (a database with that form, calx_dialect's row_check_open). More go
 * plain, their counts read before the COMMIT is sent: on PostgreSQL the
 * checked form cost the server ~1.5 us more a statement (pgbench, one
 * UPDATE by key: 15,560-15,710 against 15,970-16,220 a second, each a
 * round trip), and the round trip it saves ~60 us. */
#define CHECKED_MAX_OPS 32

/* Statements (and parameter sets) of a batch whose lists make_batch keeps
 * on its stack; more go on the heap. */
#define BATCH_STACK_ITEMS 4

static int send_segment(flush_ctx *x, calx_error *err);

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
    for (size_t i = 0; scan && i < s->map_used; i++)
        if (s->map_objs[i] && is_dirty(s->map_objs[i]))
            return true;
    return scan && calx__relwrite_changed(s);
}

/* ---- ordering ---- */

static int add_model(flush_ctx *x, const calx_model *m)
{
    if (x->nmodels && x->models[x->nmodels - 1] == m)
        return 0;   /* the run of one table's rows */
    for (size_t i = 0; i < x->nmodels; i++)
        if (x->models[i] == m)
            return 0;
    if (!calx__grow_room(&x->models, &x->models_cap, x->nmodels + 1, sizeof *x->models,
                         x->models_room))
        return CALX_ERR_NOMEM;
    x->models[x->nmodels++] = m;
    return 0;
}

/* The models' tables in the metadata's foreign-key order (each after the
 * tables among them it references, otherwise in first-seen order), and
 * the models with them. Tables in a cycle cannot be ordered: the flush
 * fails naming them, as create_all does. */
static int sort_models(flush_ctx *x, calx_error *err)
{
    size_t n = x->nmodels;
    if (n < 2)
        return 0;   /* a flush of one table (~900 instructions a flush) */
    const calx_table **tables = malloc(2 * n * sizeof *tables);
    const calx_model **models = malloc(n * sizeof *models);
    int rc = 0;
    if (!tables || !models) {
        rc = calx__nomem(err, NULL);
    } else {
        for (size_t i = 0; i < n; i++)
            tables[i] = &x->models[i]->table;
        rc = calx__tables_sorted(tables, n, tables + n, "the flush", err);
        for (size_t i = 0; !rc && i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (&x->models[j]->table == tables[n + i])
                    models[i] = x->models[j];
        if (!rc)
            memcpy(x->models, models, n * sizeof *models);
    }
    free(tables);
    free(models);
    return rc;
}

/* ---- statements ---- */

/* Before an operation binds its parameters: a full segment goes first,
 * so that the parameters in the flush's array are all of the segment
 * being planned (make_segment empties it once the batch has copied them). */
static int room_for_op(flush_ctx *x, calx_error *err)
{
    if (x->nops - x->seg_first >= x->seg_ops && send_segment(x, err))
        return err->code;
    return 0;
}

static int push_op(flush_ctx *x, flush_op op, calx_error *err)
{
    if (!calx__grow_room(&x->ops, &x->ops_cap, x->nops + 1, sizeof *x->ops, x->ops_room))
        return calx__nomem(err, NULL);
    x->ops[x->nops++] = op;
    return 0;
}

/* Room for n more parameters and their types. */
static bool more_room(flush_ctx *x, size_t n)
{
    return calx__grow_room(&x->params, &x->params_cap, x->nparams + n, sizeof *x->params,
                           x->params_room) &&
           calx__grow_room(&x->types, &x->types_cap, x->nparams + n, sizeof *x->types,
                           x->types_room);
}

/* Room for nops more operations and nparams more parameters, taken at
 * once: a flush of 100,000 rows otherwise doubles its arrays a dozen
 * times, copying them and faulting their fresh pages in each time. The
 * parameters are a segment's at most (room_for_op). */
static int reserve(flush_ctx *x, size_t nops, size_t nparams)
{
    if (!calx__grow_room(&x->ops, &x->ops_cap, x->nops + nops, sizeof *x->ops, x->ops_room) ||
        !more_room(x, nparams))
        return CALX_ERR_NOMEM;
    calx__prefault_slice(x->ops, x->nops, nops, sizeof *x->ops);
    return 0;
}

/* At most the parameters an operation on o binds: each field once, and
 * but for an INSERT its key once more (the WHERE). */
static size_t params_at_most(const calx_obj *o, op_kind kind)
{
    return (kind == OP_INSERT ? 1 : 2) * o->model->nfields;
}

static calx_param *more_params(flush_ctx *x, size_t n)
{
    /* (Room checked here first: this runs once an object.) */
    if ((x->nparams + n > x->params_cap || x->nparams + n > x->types_cap) && !more_room(x, n))
        return NULL;
    calx_param *p = &x->params[x->nparams];
    memset(&x->types[x->nparams], 0, n * sizeof *x->types);
    x->nparams += n;
    return p;
}

/* Binds field i of struct src (of model m) to param p: its value, or
 * the stored value its column's user type makes (kept by x). */
/* An enum array field's C values bound as the names the database takes
 * (the statement's own conversion, on a copy of the items the flush
 * keeps; the names are the enum's static strings). Validation has checked
 * them. */
static int bind_enum_array(flush_ctx *x, calx_param *p, const calx_column *c, calx_error *err)
{
    size_t n = p->value.u.array.n;
    if (n == 0)
        return 0;
    calx_value *items = malloc(n * sizeof *items);
    if (!items || !calx__grow(&x->kept, &x->kept_cap, x->nkept + 1, sizeof *x->kept)) {
        free(items);
        return calx__nomem(err, NULL);
    }
    memcpy(items, p->value.u.array.items, n * sizeof *items);
    x->kept[x->nkept++] = (char *)items;
    p->value.u.array.items = items;
    char why[200];
    if (calx__array_into_column(&p->value, c, why, sizeof why))
        return calx_error_set(err, CALX_ERR_VALIDATION, "column %s: %s", c->name, why);
    return 0;
}

static int bind_field(flush_ctx *x, calx_param *p, const calx_model *m, size_t i,
                      const void *src, calx_error *err)
{
    p->name = NULL;
    /* A JSON value's text is made now, as the program left the value. */
    if (m->fields[i].type == CALX_F_JSON_VALUE &&
        calx__json_field_sync(calx__obj_hdr(src), i, err))
        return err->code;
    p->value = calx__field_value(m, &m->fields[i], src);
    const calx_column *c = &m->table.columns[i];
    x->types[p - x->params] = calx__column_dtype(c, false);
    if (p->value.type == CALX_ARRAY && calx__column_enum(c))
        return bind_enum_array(x, p, c, err);
    if (!c->user_type)
        return 0;
    calx_type_scratch scratch;
    char *owned = NULL;
    calx__type_scratch_init(&scratch);
    int rc = calx__user_type_bind(c, &p->value, &scratch, err);
    if (!rc)
        rc = calx__user_type_keep(&p->value, &owned, err);
    calx__type_scratch_done(&scratch);
    if (!rc && owned && !calx__grow(&x->kept, &x->kept_cap, x->nkept + 1, sizeof *x->kept))
        rc = calx__nomem(err, NULL);
    if (rc) {
        free(owned);
        return rc;
    }
    if (owned)
        x->kept[x->nkept++] = owned;
    return 0;
}

/* The columns an INSERT of the columns in mask reads back: those with a
 * server_default it leaves to the database (SQLAlchemy 2.0's eager_defaults
 * on a RETURNING backend), the generated key apart. */
static uint64_t server_fetch(const calx_model *m, uint64_t mask)
{
    int ai = calx__model_autoinc(m);
    uint64_t fetch = 0;
    for (size_t i = 0; i < m->nfields && i < 64; i++)
        if (!(mask >> i & 1) && (int)i != ai && m->table.columns[i].server_default)
            fetch |= 1ull << i;
    return fetch;
}

/* The text of m's statement of kind for the columns in mask, made once a
 * flush (UPDATE and DELETE: once an engine); *fetch is what an INSERT
 * reads back (server_fetch, kept with the text: asked per row it was a
 * walk of the model's columns per object), 0 for the others; fetch may be
 * NULL. */
static const char *sql_for(flush_ctx *x, const calx_model *m, op_kind kind, uint64_t mask,
                           uint64_t *fetch, calx_error *err)
{
    bool checked = x->checked && kind != OP_INSERT;
    for (size_t i = x->nsqls; i-- > 0;)
        if (x->sqls[i].m == m && x->sqls[i].kind == kind && x->sqls[i].mask == mask &&
            x->sqls[i].checked == checked) {
            if (fetch)
                *fetch = x->sqls[i].fetch;
            return x->sqls[i].sql;
        }
    if (fetch)
        *fetch = 0;
    const calx_dialect *d = x->s->dialect;
    const calx_table *t = &m->table;
    /* A statement by key is the engine's once made (engine/sql_memo.c). */
    unsigned memo = kind == OP_UPDATE ? (checked ? CALX__MEMO_UPDATE_CHECKED : CALX__MEMO_UPDATE)
                                      : (checked ? CALX__MEMO_DELETE_CHECKED : CALX__MEMO_DELETE);
    if (kind != OP_INSERT) {
        const calx__memo_text *kept = calx__engine_memo_find(x->s->opts.bind, m, memo, mask);
        if (kept)
            return kept->sql;
    }
    sql_entry e = { m, kind, checked, mask, 0, NULL, NULL, NULL, 0 };
    if (kind == OP_INSERT) {
        /* With RETURNING the row's own key comes back; with lastrowid the
         * driver reads it, and a prefetched key is sent as a value. Server
         * defaults come back by RETURNING on every dialect, the key first
         * among them when the database makes it (SQLite too: its rowid is
         * then not read apart). */
        int ai = calx__model_autoinc(m);
        e.fetch = server_fetch(m, mask);
        long key = ai >= 0 && !(mask >> ai & 1) &&
                           (d->key_strategy == CALX_KEYS_RETURNING ||
                            (e.fetch && d->key_strategy == CALX_KEYS_LASTROWID))
                       ? ai
                       : -1;
        e.ins = calx__insert_of_columns(t, mask, key, e.fetch);
        if (!e.ins)
            return calx__nomem(err, NULL), NULL;
        calx__insert_shape_sql(e.ins, d, 1, CALX__ROWS_VALUES, &e.sql, err);
    } else if (kind == OP_UPDATE) {
        e.sql = calx__update_by_key_sql(d, t, mask, err);
    } else {
        e.sql = calx__delete_by_key_sql(d, t, err);
    }
    if (checked && e.sql) {
        char *plain = e.sql;
        e.sql = calx__checked_by_key_sql(d, plain, err);
        free(plain);
    }
    /* (The flush types its parameters as it binds them: no types kept.) */
    if (kind != OP_INSERT && e.sql &&
        calx__engine_memo_keep(x->s->opts.bind, m, memo, mask, (calx__memo_text){ e.sql, NULL }))
        return e.sql;
    if (!e.sql || (x->nsqls == x->sqls_cap &&
                   !calx__grow(&x->sqls, &x->sqls_cap, x->nsqls + 1, sizeof *x->sqls))) {
        if (e.sql)
            calx__nomem(err, NULL);
        free(e.sql);
        calx_insert_free(e.ins);
        return NULL;
    }
    x->sqls[x->nsqls++] = e;
    if (fetch)
        *fetch = e.fetch;
    return e.sql;
}

static int plan_insert(flush_ctx *x, calx_obj *o, calx_error *err)
{
    if (room_for_op(x, err))
        return err->code;
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
    uint64_t fetch;
    const char *sql = sql_for(x, m, OP_INSERT, mask, &fetch, err);
    if (!sql)
        return CALX_ERR_NOMEM;
    size_t p0 = x->nparams;
    calx_param *p = more_params(x, np);
    if (!p)
        return calx__nomem(err, NULL);
    for (size_t i = 0, k = 0; i < m->nfields; i++)
        if (mask >> i & 1 && bind_field(x, &x->params[p0 + k++], m, i, obj, err))
            return err->code;
    return push_op(x, (flush_op){ .kind = OP_INSERT, .o = o, .sql = sql, .p0 = p0, .np = np,
                                  .want_key = ai >= 0 && !(mask >> ai & 1), .fetch = fetch },
                   err);
}

/* Binds o's primary key as src (its snapshot, or the object itself for
 * a row this flush inserted) holds it. */
static int bind_key(flush_ctx *x, const calx_obj *o, const void *src, calx_error *err)
{
    const calx_model *m = o->model;
    for (size_t i = 0; i < m->nfields; i++) {
        if (!m->table.columns[i].primary_key)
            continue;
        size_t at = x->nparams;
        if (!more_params(x, 1))
            return calx__nomem(err, NULL);
        if (bind_field(x, &x->params[at], m, i, src, err))
            return err->code;
    }
    return 0;
}

/* Fills the fields of o whose columns have an onupdate factory and that
 * this UPDATE does not set otherwise (SQLAlchemy's Column.onupdate), and
 * adds them to *mask. The object holds the value; the snapshot taken once
 * the flush has run does too, so it is no change after. */
static int set_onupdate(calx_obj *o, uint64_t *mask, calx_error *err)
{
    const calx_model *m = o->model;
    for (size_t i = 0; i < m->nfields && i < 64; i++) {
        const calx_column *c = &m->table.columns[i];
        if (!c->onupdate || *mask >> i & 1)
            continue;
        calx_value v;
        void *owned;
        int rc = calx__onupdate_value(c, &v, &owned, err);
        if (!rc)
            rc = calx__obj_set_field(o, i, &v, err);
        free(owned);
        if (rc)
            return rc;
        *mask |= 1ull << i;
    }
    return 0;
}

/* An UPDATE of o's changed fields, or with post (a row inserted in this
 * flush, which has no snapshot yet), of field post_field alone; either
 * with the columns onupdate fills. */
static int plan_update_of(flush_ctx *x, calx_obj *o, bool post, size_t post_field,
                          calx_error *err)
{
    if (room_for_op(x, err))
        return err->code;
    const calx_model *m = o->model;
    uint64_t mask = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (post ? i == post_field : calx__obj_field_changed(o, i))
            mask |= 1ull << i;
    if (set_onupdate(o, &mask, err))
        return err->code;
    /* Whether it sets a key field. A post-update's mask names only the
     * field it sets, not whatever else changed: its object's keys are
     * compared after it, as every UPDATE's were. */
    bool key_changed = post;
    size_t np = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (mask >> i & 1) {
            np++;
            key_changed = key_changed || m->table.columns[i].primary_key;
        }
    const char *sql = sql_for(x, m, OP_UPDATE, mask, NULL, err);
    if (!sql)
        return CALX_ERR_NOMEM;
    size_t p0 = x->nparams;
    if (!more_params(x, np))
        return calx__nomem(err, NULL);
    for (size_t i = 0, k = 0; i < m->nfields; i++)
        if (mask >> i & 1 && bind_field(x, &x->params[p0 + k++], m, i, calx__obj_ptr(o), err))
            return err->code;
    if (bind_key(x, o, post ? calx__obj_ptr(o) : calx__obj_snap(o), err))
        return err->code;
    return push_op(x, (flush_op){ .kind = OP_UPDATE, .o = o, .sql = sql, .p0 = p0,
                                  .np = x->nparams - p0, .key_changed = key_changed },
                   err);
}

static int plan_update(flush_ctx *x, calx_obj *o, calx_error *err)
{
    return plan_update_of(x, o, false, 0, err);
}

static int plan_delete(flush_ctx *x, calx_obj *o, calx_error *err)
{
    if (room_for_op(x, err))
        return err->code;
    const char *sql = sql_for(x, o->model, OP_DELETE, 0, NULL, err);
    if (!sql)
        return CALX_ERR_NOMEM;
    size_t p0 = x->nparams;
    if (bind_key(x, o, calx__obj_snap(o), err))
        return err->code;
    return push_op(x, (flush_op){ .kind = OP_DELETE, .o = o, .sql = sql, .p0 = p0,
                                  .np = x->nparams - p0 },
                   err);
}

/* An object and the first value of its key as the database has it (the
 * snapshot's), taken once before sorting: the comparisons of a sort by
 * key making each key anew were half of a 10,000-row UPDATE flush. */
typedef struct keyed_obj {
    calx_obj *o;
    calx_value first;
} keyed_obj;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed_obj *x = a, *y = b;
    int c = calx__key_cmp(&x->first, &y->first, 1);
    if (c || x->o->model != y->o->model)
        return c;
    /* The rest of a composite key, rarely needed. */
    calx_value kx[CALX__MAX_KEY], ky[CALX__MAX_KEY];
    size_t n = calx__obj_key(x->o, calx__obj_snap(x->o), kx);
    calx__obj_key(y->o, calx__obj_snap(y->o), ky);
    return n > 1 ? calx__key_cmp(kx + 1, ky + 1, n - 1) : 0;
}

/* An object and its key when the key is one integer, the common case,
 * sorted by a comparison of two integers: cmp_keyed's general one was
 * most of the ~960 instructions an UPDATE the sort cost (callgrind, B4). */
typedef struct int_keyed_obj {
    int64_t key;
    calx_obj *o;
} int_keyed_obj;

static int cmp_int_keyed(const void *a, const void *b)
{
    int64_t x = ((const int_keyed_obj *)a)->key, y = ((const int_keyed_obj *)b)->key;
    return (x > y) - (x < y);
}

/* Sorts v by integer keys when every object has one; false (v as it was)
 * when one does not, or out of memory. */
static bool sort_by_int_key(calx_obj **v, size_t n)
{
    int_keyed_obj *t = malloc(n * sizeof *t);
    if (!t)
        return false;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        calx_value k[CALX__MAX_KEY];
        if (calx__obj_key(v[i], calx__obj_snap(v[i]), k) != 1 || k[0].type != CALX_INT) {
            free(t);
            return false;
        }
        t[i] = (int_keyed_obj){ k[0].u.i, v[i] };
        sorted = sorted && (i == 0 || t[i - 1].key <= t[i].key);
    }
    if (!sorted) {
        qsort(t, n, sizeof *t, cmp_int_keyed);
        for (size_t i = 0; i < n; i++)
            v[i] = t[i].o;
    }
    free(t);
    return true;
}

/* Sorts v by the objects' keys (SQLAlchemy's order for UPDATEs and
 * DELETEs: two flushes touch shared rows in the same order, so they cannot
 * deadlock on each other). */
static int sort_by_key(calx_obj **v, size_t n, calx_error *err)
{
    if (n < 2 || sort_by_int_key(v, n))
        return 0;
    keyed_obj *t = malloc(n * sizeof *t);
    if (!t)
        return calx__nomem(err, NULL);
    for (size_t i = 0; i < n; i++) {
        calx_value k[CALX__MAX_KEY];
        if (!calx__obj_key(v[i], calx__obj_snap(v[i]), k))
            k[0] = calx_null();
        t[i] = (keyed_obj){ v[i], k[0] };
    }
    qsort(t, n, sizeof *t, cmp_keyed);
    for (size_t i = 0; i < n; i++)
        v[i] = t[i].o;
    free(t);
    return 0;
}

/* The self-referential foreign key of m (a field referencing a field of
 * m's own table: employee.manager_id), with the field it references; -1
 * when m has none. */
static int self_fk(const calx_model *m, int *ref)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const char *col;
        if (!calx__fk_to(&m->table.columns[i], m->table.name, &col))
            continue;
        for (size_t j = 0; j < m->nfields; j++) {
            if (strcmp(m->fields[j].name, col) == 0) {
                *ref = (int)j;
                return (int)i;
            }
        }
    }
    return -1;
}

/* Whether the row of a (as the database has it: the snapshot) points at
 * b's through m's self-referential key fk -> ref. */
static bool points_at(const calx_obj *a, const calx_obj *b, int fk, int ref)
{
    const calx_field *ff = &a->model->fields[fk], *rf = &b->model->fields[ref];
    if (calx__field_is_null(ff, calx__obj_snap(a)))
        return false;
    calx_value va = calx__field_value(a->model, ff, calx__obj_snap(a));
    calx_value vb = calx__field_value(b->model, rf, calx__obj_snap(b));
    return calx__value_eq(&va, &vb);
}

/* Orders the rows of one self-referential model that a flush deletes,
 * v[0..n) in key order, so that a row goes before the row it points at
 * (the children of a tree before their parent: the database checks the
 * key at each statement). A cycle keeps key order. */
static int order_self_deletes(calx_obj **v, size_t n, int fk, int ref, calx_error *err)
{
    calx_obj **out = malloc(n * sizeof *out);
    bool *done = calloc(n, sizeof *done);
    if (!out || !done) {
        free(out);
        free(done);
        return calx__nomem(err, NULL);
    }
    size_t nout = 0;
    while (nout < n) {
        size_t before = nout;
        for (size_t i = 0; i < n; i++) {
            bool pointed = false;
            for (size_t j = 0; j < n && !done[i] && !pointed; j++)
                pointed = j != i && !done[j] && points_at(v[j], v[i], fk, ref);
            if (!done[i] && !pointed) {
                done[i] = true;
                out[nout++] = v[i];
            }
        }
        for (size_t i = 0; nout == before && i < n; i++)
            if (!done[i]) {
                done[i] = true;
                out[nout++] = v[i];
            }
    }
    memcpy(v, out, n * sizeof *v);
    free(out);
    free(done);
    return 0;
}

/* A dialect whose keys are drawn first (CALX_KEYS_SEQUENCE_PREFETCH): the
 * keys of a table's new rows come from the key column's sequence in one
 * statement (the dialect's sequence_prefetch_sql), given to the objects in
 * the order they were added; the INSERTs then carry them, many rows to a
 * statement, and nothing has to come back. Tables with one new row keep
 * INSERT ... RETURNING. */
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
        return calx__nomem(err, NULL);
    calx_result *r = NULL;
    rc = calx_await(calx_conn_execute(s->conn, s->dialect->sequence_prefetch_sql,
                                      CALX_PARAMS(CALX_V(calx_text(tname)),
                                                  CALX_V(calx_text(m->table.columns[ai].name)),
                                                  CALX_V(calx_int((int64_t)n))),
                                      err),
                    &r, err);
    free(tname);
    if (rc)
        return rc;
    size_t got = calx_result_nrows(r);
    if (got != n) {
        calx_result_free(r);
        return calx_error_set(err, CALX_ERR_INTERNAL, "the sequence of %s.%s gave %zu keys for %zu rows",
                              m->table.name, m->table.columns[ai].name, got, n);
    }
    /* Ascending, so keys follow the order the objects were added. */
    int64_t *keys = malloc(n * sizeof *keys);
    if (!keys) {
        calx_result_free(r);
        return calx__nomem(err, NULL);
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
            rc = calx__nomem(err, NULL);
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

/* Adds o to the round's dirty objects; CALX_ERR_NOMEM on no memory. */
static int push_dirty(flush_ctx *x, calx_obj *o)
{
    calx_objvec *v = &x->dirty;
    if (!calx__grow_room(&v->v, &v->cap, v->n + 1, sizeof *v->v, x->dirty_room))
        return CALX_ERR_NOMEM;
    v->v[v->n++] = o;
    return 0;
}

/* Checks made once, before anything is sent: a bad object sends nothing.
 * The dirty objects found are the first round's. */
static int check_objects(flush_ctx *x, calx_error *err)
{
    calx_session *s = x->s;
    /* Column sets are 64-bit masks. */
    for (size_t i = 0; i < s->pending.n; i++)
        if (s->pending.v[i]->model->nfields > 64)
            return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                                  "%s has more than 64 fields, which the flush does not support yet",
                                  s->pending.v[i]->model->name);
    for (size_t i = 0; i < s->map_used; i++) {
        calx_obj *o = s->map_objs[i];
        if (o && !o->delete_marked && is_dirty(o) && push_dirty(x, o))
            return calx__nomem(err, NULL);
    }
    for (size_t i = 0; i < s->pending.n; i++)
        if (calx_obj_validate(calx__obj_ptr(s->pending.v[i]), err))
            return CALX_ERR_VALIDATION;
    for (size_t i = 0; i < x->dirty.n; i++)
        if (calx_obj_validate(calx__obj_ptr(x->dirty.v[i]), err))
            return CALX_ERR_VALIDATION;
    return 0;
}

/* Whether one of m's relationships targets m (an employee's manager). */
static bool self_referential(const calx_model *m)
{
    for (size_t i = 0; i < m->nrelations; i++)
        if (m->relations[i].target == m)
            return true;
    return false;
}

static bool has_model(const calx_model *const *v, size_t n, const calx_model *m)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == m)
            return true;
    return false;
}

/* This round's work: the dirty objects and the pending ones that wait for
 * no key, minus what an earlier round sent. A table's rows go in in the
 * order added, so a row that waits holds back the later rows of its table
 * (SQLAlchemy's order, and so its keys); not in a self-referential table,
 * whose rows are ordered row by row (insert_rows). */
static int choose(flush_ctx *x, bool first_round, calx_error *err)
{
    calx_session *s = x->s;
    if (!first_round) {
        x->dirty.n = 0;
        for (size_t i = 0; i < s->map_used; i++) {
            calx_obj *o = s->map_objs[i];
            if (o && !o->delete_marked && !o->sent && is_dirty(o) && push_dirty(x, o))
                return calx__nomem(err, NULL);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < x->dirty.n; i++)
        if (!x->dirty.v[i]->waits)
            x->dirty.v[k++] = x->dirty.v[i];
    x->dirty.n = k;
    x->inserts.n = 0;
    /* Room for every pending row at once (100,000 pushes otherwise double
     * the list 17 times). */
    if (!calx__grow_for(&x->inserts.v, &x->inserts.cap, 0, s->pending.n, sizeof *x->inserts.v))
        return calx__nomem(err, NULL);
    const calx_model **held = NULL;
    size_t nheld = 0;
    int rc = 0;
    for (size_t i = 0; i < s->pending.n && !rc; i++) {
        calx_obj *o = s->pending.v[i];
        if (o->sent)
            continue;
        if (o->waits || has_model(held, nheld, o->model)) {
            if (!self_referential(o->model) && !has_model(held, nheld, o->model)) {
                const calx_model **v = realloc(held, (nheld + 1) * sizeof *v);
                if (!v)
                    rc = calx__nomem(err, NULL);
                else
                    (held = v)[nheld++] = o->model;
            }
            continue;
        }
        if (calx__objvec_push(&x->inserts, o))
            rc = calx__nomem(err, NULL);
    }
    free(held);
    return rc;
}

/* A post-update goes once its row is in and its key is known. */
static bool post_ready(const post_update *p)
{
    return !p->planned && p->o->sent && !p->o->waits;
}

/* Nothing can go: every row left waits for another's key. One whose
 * waiting keys may all be NULL goes in with them NULL, and gets them by
 * an UPDATE later; where none may, the cycle cannot be broken, and the
 * error names it. */
static int break_cycle(flush_ctx *x, calx_error *err)
{
    const calx__relwaits *w = &x->waits;
    for (size_t i = 0; i < w->n; i++) {
        calx_obj *o = w->v[i].o;
        if (!o || o->sent || o->state != CALX_OBJ_PENDING)
            continue;
        bool nullable = true;
        for (size_t j = 0; j < w->n && nullable; j++)
            if (w->v[j].o == o && !o->model->table.columns[w->v[j].field].nullable)
                nullable = false;
        if (!nullable)
            continue;
        for (size_t j = 0; j < w->n; j++) {
            if (w->v[j].o != o)
                continue;
            calx_value null = calx_null();
            if (calx__obj_set_field(o, w->v[j].field, &null, err))
                return err->code;
            if (!calx__grow(&x->post, &x->post_cap, x->npost + 1, sizeof *x->post))
                return calx__nomem(err, NULL);
            x->post[x->npost++] = (post_update){ o, w->v[j].field, false };
        }
        o->waits = false;
        return 0;
    }
    /* The cycle, followed from the first row that waits. */
    calx_buf b = { 0 };
    const calx__relwait *at = NULL;
    for (size_t i = 0; i < w->n && !at; i++)
        if (w->v[i].o)
            at = &w->v[i];
    for (size_t steps = 0; at && steps <= w->n; steps++) {
        const calx_model *m = at->o->model;
        calx__buf_printf(&b, "%s%s.%s (%s.%s%s)", steps ? " -> " : "", m->name, at->rel->name,
                         m->table.name, m->table.columns[at->field].name,
                         m->table.columns[at->field].nullable ? "" : ", NOT NULL");
        const calx__relwait *next = NULL;
        for (size_t i = 0; i < w->n && !next; i++)
            if (w->v[i].o == at->target)
                next = &w->v[i];
        at = next;
    }
    calx_error_set(err, CALX_ERR_INTEGRITY,
                   "the flush cannot order these rows: each needs the key of the next, "
                   "which the database has not made yet: %s; a NOT NULL foreign key cannot go "
                   "in first as NULL (make one of them nullable: the flush then writes it in a "
                   "second statement once the other row's key is known, as SQLAlchemy's "
                   "post_update does)",
                   b.p ? b.p : "?");
    calx__buf_free(&b);
    return CALX_ERR_INTEGRITY;
}

/* Whether p is a row o needs first: o's many-to-one to its own model
 * holds p, or p's collection of its own model holds o. */
static bool needs_first(const calx_obj *o, const calx_obj *p)
{
    const calx_model *m = o->model;
    for (size_t i = 0; i < m->nrelations; i++) {
        const calx_relation *r = &m->relations[i];
        if (r->target != m || r->viewonly)
            continue;
        if (r->kind == CALX_MANY_TO_ONE && calx__rel_one_get(o, r) == calx__obj_ptr(p))
            return true;
        if ((r->kind == CALX_ONE_TO_MANY && calx__rel_list_has(p, r, calx__obj_ptr(o))) ||
            (r->kind == CALX_ONE_TO_ONE && calx__rel_one_get(p, r) == calx__obj_ptr(o)))
            return true;
    }
    return false;
}

/* The INSERTs of model m in this round. In a self-referential table a
 * row's parent goes first, whatever the order added (a report added
 * before its manager, with keys the program gave). */
static int insert_rows(flush_ctx *x, const calx_model *m, calx_error *err)
{
    calx_objvec *v = &x->inserts;
    if (!self_referential(m)) {
        for (size_t i = 0; i < v->n; i++)
            if (v->v[i]->model == m && plan_insert(x, v->v[i], err))
                return err->code;
        return 0;
    }
    calx_objvec left = { 0 };
    int rc = 0;
    for (size_t i = 0; i < v->n && !rc; i++)
        if (v->v[i]->model == m && calx__objvec_push(&left, v->v[i]))
            rc = calx__nomem(err, NULL);
    while (!rc && left.n) {
        /* The first row none of the others left must precede (or, in a
         * cycle of given keys, the first: the database then judges). */
        size_t pick = 0;
        for (size_t i = 0; i < left.n; i++) {
            bool free_row = true;
            for (size_t j = 0; j < left.n && free_row; j++)
                if (j != i && needs_first(left.v[i], left.v[j]))
                    free_row = false;
            if (free_row) {
                pick = i;
                break;
            }
        }
        calx_obj *o = left.v[pick];
        memmove(&left.v[pick], &left.v[pick + 1], (left.n - pick - 1) * sizeof *left.v);
        left.n--;
        rc = plan_insert(x, o, err);
    }
    calx__objvec_free(&left);
    return rc;
}

static int plan_round(flush_ctx *x, bool first_round, bool last, calx_error *err)
{
    calx_session *s = x->s;
    if (choose(x, first_round, err))
        return err->code;
    bool posts = false;
    for (size_t i = 0; i < x->npost; i++)
        posts = posts || post_ready(&x->post[i]);
    if (!last && !x->inserts.n && !x->dirty.n && !posts) {
        if (break_cycle(x, err) || choose(x, false, err))
            return err->code;
    }
    /* The models and the parameters in one pass over the objects (each
     * pass over 100,000 new rows reads 100,000 objects' headers). */
    x->nmodels = 0;
    size_t nops = x->inserts.n + x->dirty.n + x->npost, nparams = 0;
    for (size_t i = 0; i < x->inserts.n; i++) {
        nparams += params_at_most(x->inserts.v[i], OP_INSERT);
        if (add_model(x, x->inserts.v[i]->model))
            return calx__nomem(err, NULL);
    }
    for (size_t i = 0; i < x->dirty.n; i++) {
        nparams += params_at_most(x->dirty.v[i], OP_UPDATE);
        if (add_model(x, x->dirty.v[i]->model))
            return calx__nomem(err, NULL);
    }
    for (size_t i = 0; i < x->npost; i++) {
        nparams += params_at_most(x->post[i].o, OP_UPDATE);
        if (post_ready(&x->post[i]) && add_model(x, x->post[i].o->model))
            return calx__nomem(err, NULL);
    }
    for (size_t i = 0; last && i < s->deleting.n; i++, nops++) {
        nparams += params_at_most(s->deleting.v[i], OP_DELETE);
        if (add_model(x, s->deleting.v[i]->model))
            return calx__nomem(err, NULL);
    }
    if (sort_models(x, err))
        return err->code;
    if (x->dirty.n && sort_by_key(x->dirty.v, x->dirty.n, err))
        return err->code;
    if (nops > SEGMENT_OPS)
        nparams = (nparams / nops + 1) * SEGMENT_OPS;
    if (reserve(x, nops, nparams))
        return calx__nomem(err, NULL);
    /* A round a segment holds stays one batch, one round trip. */
    x->seg_ops = nops > SEGMENT_OPS ? FIRST_SEGMENT_OPS : SEGMENT_OPS;
    size_t nchecks = x->dirty.n + x->npost + (last ? s->deleting.n : 0);
    x->checked = last && x->commit && s->dialect->row_check_open && nops <= SEGMENT_OPS &&
                 nchecks <= CHECKED_MAX_OPS;
    if (s->dialect->key_strategy == CALX_KEYS_SEQUENCE_PREFETCH)
        for (size_t k = 0; k < x->nmodels; k++)
            if (draw_keys(x, x->models[k], err))
                return err->code;
    for (size_t k = 0; k < x->nmodels; k++) {
        const calx_model *m = x->models[k];
        for (size_t i = 0; i < x->dirty.n; i++)
            if (x->dirty.v[i]->model == m && plan_update(x, x->dirty.v[i], err))
                return err->code;
        for (size_t i = 0; i < x->npost; i++) {
            post_update *p = &x->post[i];
            if (p->o->model != m || !post_ready(p))
                continue;
            p->planned = true;
            if (plan_update_of(x, p->o, true, p->field, err))
                return err->code;
        }
        if (insert_rows(x, m, err))
            return err->code;
    }
    if (!last || !s->deleting.n)
        return 0;
    /* del: every row to delete, in key order; mine: one model's of them. */
    calx_obj **del = malloc(2 * s->deleting.n * sizeof *del);
    if (!del)
        return calx__nomem(err, NULL);
    calx_obj **mine = del + s->deleting.n;
    memcpy(del, s->deleting.v, s->deleting.n * sizeof *del);
    int rc = sort_by_key(del, s->deleting.n, err);
    for (size_t k = x->nmodels; k-- > 0 && !rc;) {
        size_t n = 0;
        for (size_t i = 0; i < s->deleting.n; i++)
            if (del[i]->model == x->models[k])
                mine[n++] = del[i];
        /* A table that points at itself: children first. */
        int ref, fk = self_fk(x->models[k], &ref);
        if (fk >= 0 && n > 1)
            rc = order_self_deletes(mine, n, fk, ref, err);
        for (size_t i = 0; i < n && !rc; i++)
            rc = plan_delete(x, mine[i], err);
    }
    free(del);
    return rc;
}

/* ---- running it ---- */

/* Consecutive operations with the same SQL (same table, kind and
 * columns) go as one execute-many: on PostgreSQL one pipeline, on SQLite
 * one prepared statement stepped per row. */
static size_t group_end(const flush_ctx *x, size_t i, size_t end)
{
    size_t j = i + 1;
    while (j < end && x->ops[j].sql == x->ops[i].sql)
        j++;
    return j;
}

/* The shape op's SQL was made for. */
static sql_entry *shape_of(flush_ctx *x, const flush_op *op)
{
    for (size_t i = 0; i < x->nsqls; i++)
        if (x->sqls[i].sql == op->sql)
            return &x->sqls[i];
    return NULL;
}

/* The text of rows rows of op's INSERT shape in form, made once per
 * flush (full chunks share it, and the batch then plans it once). */
static const char *rows_sql(flush_ctx *x, const flush_op *op, size_t rows, calx__rows_form form,
                            calx_error *err)
{
    sql_entry *e = shape_of(x, op);
    if (form == CALX__ROWS_ARRAYS)
        rows = 1;   /* one text for any number of rows */
    for (size_t i = 0; i < e->ntexts; i++)
        if (e->texts[i].rows == rows && e->texts[i].form == form)
            return e->texts[i].sql;
    rows_text *v = realloc(e->texts, (e->ntexts + 1) * sizeof *v);
    if (!v)
        return calx__nomem(err, NULL), NULL;
    e->texts = v;
    char *sql;
    if (calx__insert_shape_sql(e->ins, x->s->dialect, rows, form, &sql, err))
        return NULL;
    e->texts[e->ntexts++] = (rows_text){ rows, form, sql };
    return sql;
}

/* Frees statements plan_stmts made (NULL is a no-op). */
static void free_stmts(flush_ctx *x, flush_stmt *st)
{
    if (st != x->st_room[0] && st != x->st_room[1])
        free(st);
}

/* The batch's statements. INSERTs of several rows go many rows to a
 * statement where the dialect's keys allow it: in the sentinel form when
 * the database makes the keys and returns them (CALX_KEYS_RETURNING), over
 * one array a column where the dialect and the columns allow
 * (calx__insert_arrays_ok), as plain VALUES lists when the keys are
 * known; with lastrowid (SQLite) the
 * driver steps one prepared INSERT per row in-process, which costs no more,
 * and reads each row's key as it goes. Everything else is one statement
 * per run of equal SQL, an execute-many when the run is longer than one. */
static flush_stmt *plan_stmts(flush_ctx *x, size_t first, size_t last, size_t *nout,
                              calx_error *err)
{
    const calx_dialect *d = x->s->dialect;
    /* At most two statements per run: the full chunks, and the rest. A
     * segment of few operations takes the context's room that the one in
     * flight does not hold (two segments live at once: send_next). */
    size_t nops = last - first, need = nops ? 2 * nops : 1;
    flush_stmt *room = x->inflight.f && x->inflight.st == x->st_room[0] ? x->st_room[1]
                                                                          : x->st_room[0];
    flush_stmt *st = need <= ROOM_STMTS ? room : malloc(need * sizeof *st);
    if (!st)
        return calx__nomem(err, NULL), NULL;
    size_t n = 0;
    for (size_t i = first; i < last;) {
        size_t end = group_end(x, i, last), count = end - i;
        flush_op *op = &x->ops[i];
        bool rows = op->kind == OP_INSERT && count > 1 && op->np &&
                    d->key_strategy != CALX_KEYS_LASTROWID;
        bool sentinel = rows && op->want_key;
        if (rows && op->want_key && d->key_strategy != CALX_KEYS_RETURNING)
            rows = sentinel = false;   /* keys by lastrowid: one row at a time */
        if (rows && op->fetch && !sentinel)
            rows = false;   /* rows read back need the sentinel to be told apart */
        if (!rows) {
            st[n++] = (flush_stmt){ i, count, 1, op->sql, FORM_EACH };
            i = end;
            continue;
        }
        bool arrays = sentinel && calx__insert_arrays_ok(shape_of(x, op)->ins, d);
        size_t per = arrays ? MULTIROW_MAX_ROWS : d->max_params / op->np;
        per = per < 1 ? 1 : per > MULTIROW_MAX_ROWS ? MULTIROW_MAX_ROWS : per;
        calx__rows_form form = arrays     ? CALX__ROWS_ARRAYS
                               : sentinel ? CALX__ROWS_SENTINEL
                                          : CALX__ROWS_VALUES;
        stmt_form sform = arrays ? FORM_ARRAYS : sentinel ? FORM_SENTINEL : FORM_ROWS;
        size_t full = count / per, rest = count % per;
        if (full) {
            const char *sql = rows_sql(x, op, per, form, err);
            if (!sql)
                goto fail;
            st[n++] = (flush_stmt){ i, full * per, per, sql, sform };
        }
        if (rest) {
            const char *sql = rest > 1 || sentinel ? rows_sql(x, op, rest, form, err) : op->sql;
            if (!sql)
                goto fail;
            st[n++] = (flush_stmt){ i + full * per, rest, rest, sql, sform };
        }
        i = end;
    }
    *nout = n;
    return st;
fail:
    free_stmts(x, st);
    return NULL;
}

/* Room for the parameters of statements in the sentinel form over arrays
 * (FORM_ARRAYS) while a batch is made of them: the arrays (one a column a
 * set), their types (one a column a statement) and their elements, each
 * with how much of it is used. */
typedef struct array_room {
    calx_param *arrays;
    calx_dtype *types;
    calx_value *items;
    size_t narrays, ntypes, nitems;
} array_room;

static int arrays_alloc(array_room *r, size_t narrays, size_t ntypes, size_t nitems)
{
    if (!narrays)
        return 0;
    r->arrays = malloc(narrays * sizeof *r->arrays);
    r->types = malloc(ntypes * sizeof *r->types);
    r->items = malloc(nitems * sizeof *r->items);
    return r->arrays && r->types && r->items ? 0 : -1;
}

static void arrays_free(array_room *r)
{
    free(r->arrays);
    free(r->types);
    free(r->items);
}

/* What the arrays of op's columns meet: each column's array type. */
static const calx_dtype *array_types(const flush_ctx *x, const flush_op *op, array_room *r)
{
    calx_dtype *t = r->types + r->ntypes;
    for (size_t c = 0; c < op->np; c++)
        t[c] = (calx_dtype)(CALX_DTYPE_ARRAY | x->types[op->p0 + c]);
    r->ntypes += op->np;
    return t;
}

/* The parameters of ops [op, op + rows) as one array a column: element r
 * of array c is row r's value of column c (the flush lays them out row
 * after row). */
static calx_params columns_as_arrays(const flush_ctx *x, const flush_op *op, size_t rows,
                                     array_room *r)
{
    size_t np = op->np;
    calx_param *arrays = r->arrays + r->narrays;
    calx_value *items = r->items + r->nitems;
    for (size_t row = 0; row < rows; row++) {
        const calx_param *p = x->params + op[row].p0;
        for (size_t c = 0; c < np; c++)
            items[c * rows + row] = p[c].value;
    }
    for (size_t c = 0; c < np; c++) {
        calx_type elem = calx__dtype_value_type(x->types[op->p0 + c]);
        arrays[c] = (calx_param){ NULL, calx_value_array(elem, items + c * rows, rows) };
    }
    r->narrays += np;
    r->nitems += np * rows;
    return (calx_params){ arrays, np };
}

/* Statements st made into one batch, every value copied (the flush's
 * arrays can change after), not yet sent: NULL with err set. */
static calx__batch *make_batch(flush_ctx *x, const flush_stmt *st, size_t nst, calx_error *err)
{
    calx_session *s = x->s;
    if (calx__session_conn(s, err))
        return NULL;
    size_t nsets = 0, narrays = 0, ntypes = 0, nitems = 0;
    for (size_t k = 0; k < nst; k++) {
        nsets += st[k].count / st[k].per;
        if (st[k].form == FORM_ARRAYS) {
            size_t np = x->ops[st[k].first].np;
            narrays += st[k].count / st[k].per * np;
            ntypes += np;
            nitems += st[k].count * np;
        }
    }
    /* Most batches are a statement or two of one set each (a web
     * handler's UPDATE and its COMMIT): their lists on the stack, the
     * rest on the heap (three mallocs and frees a flush less). */
    calx_stmt stmts_first[BATCH_STACK_ITEMS];
    const calx_dtype *types_first[BATCH_STACK_ITEMS];
    calx_params ps_first[BATCH_STACK_ITEMS];
    calx_stmt *stmts = nst <= BATCH_STACK_ITEMS ? stmts_first : malloc(nst * sizeof *stmts);
    const calx_dtype **types = nst <= BATCH_STACK_ITEMS ? types_first
                                                        : malloc(nst * sizeof *types);
    calx_params *ps = nsets <= BATCH_STACK_ITEMS ? ps_first : malloc(nsets * sizeof *ps);
    array_room room = { 0 };
    calx__batch *b = NULL;
    if (!stmts || !types || !ps || arrays_alloc(&room, narrays, ntypes, nitems)) {
        calx__nomem(err, NULL);
        goto done;
    }
    bool lastrowid = s->dialect->key_strategy == CALX_KEYS_LASTROWID;
    calx_params *set = ps;
    for (size_t k = 0; k < nst; k++) {
        const flush_op *op = &x->ops[st[k].first];
        stmts[k] = (calx_stmt){ st[k].sql, set, st[k].count / st[k].per,
                                st[k].form == FORM_EACH && op->want_key && lastrowid &&
                                    !op->fetch };
        if (st[k].form == FORM_ARRAYS) {
            types[k] = array_types(x, op, &room);
            for (size_t j = 0; j < st[k].count; j += st[k].per)
                *set++ = columns_as_arrays(x, op + j, st[k].per, &room);
            continue;
        }
        types[k] = x->types + op->p0;   /* every set is laid out as the first */
        /* A set is per operations' parameters, which lie one after
         * another in the flush's array. */
        for (size_t j = 0; j < st[k].count; j += st[k].per)
            *set++ = (calx_params){ x->params + op[j].p0, op[j].np * st[k].per };
    }
    /* The batch copies what it is given, arrays and all. */
    b = calx__conn_batch_make(s->conn, stmts, types, nst, err);
done:
    if (stmts != stmts_first)
        free(stmts);
    if (types != types_first)
        free(types);
    if (ps != ps_first)
        free(ps);
    arrays_free(&room);
    return b;
}

/* A database error names the statement that failed, as Core's errors do
 * ("\n[SQL: ...]", in the dialect's paramstyle, as echo shows it). A batch
 * error of several statements says which one failed ("statement k of n",
 * the drivers' note); a failure outside the statements (PostgreSQL's "in
 * COMMIT") names none. */
/* Which of the batch's nst statements err came from (the driver's note,
 * "statement 2 of 3", when there are several): false when it cannot say. */
static bool failed_statement(const calx_error *err, size_t nst, size_t *k)
{
    *k = 0;
    if (nst <= 1)
        return true;
    const char *note = strstr(err->message, "(statement ");
    size_t i, n;
    if (!note || sscanf(note, "(statement %zu of %zu", &i, &n) != 2 || n != nst || i < 1 ||
        i > nst)
        return false;
    *k = i - 1;
    return true;
}

/* A checked UPDATE or DELETE (flush_ctx.checked) that matched no row
 * fails with the dialect's row_check_state: it becomes SQLAlchemy's
 * StaleDataError, as a count read back says it (read_results). */
static void stale_from_check(const flush_ctx *x, const flush_stmt *st, size_t nst,
                             calx_error *err)
{
    const char *state = x->s->dialect->row_check_state;
    size_t k;
    if (!x->checked || !state || strcmp(err->sqlstate, state) != 0 ||
        !failed_statement(err, nst, &k) || x->ops[st[k].first].kind == OP_INSERT)
        return;
    bool upd = x->ops[st[k].first].kind == OP_UPDATE;
    calx_error_set(err, CALX_ERR_STALE_DATA,
                   "%s statement on table '%s' expected to %s 1 row(s); %s0 were matched.",
                   upd ? "UPDATE" : "DELETE", x->ops[st[k].first].o->model->table.name,
                   upd ? "update" : "delete", upd ? "" : "Only ");
}

static void name_statement(const flush_ctx *x, const flush_stmt *st, size_t nst,
                           calx_error *err)
{
    size_t k;
    if (err->code < CALX_ERR_INTEGRITY || err->code > CALX_ERR_DATABASE ||
        strstr(err->message, "\n[SQL: ") || strstr(err->message, "(in ") ||
        !failed_statement(err, nst, &k))
        return;
    const flush_op *op = &x->ops[st[k].first];
    /* As many values as the text has placeholders: one array a column in
     * the sentinel form over arrays. (The values themselves may be gone:
     * the segment's parameters are dropped once its batch is made.) */
    size_t nvalues = st[k].form == FORM_ARRAYS ? op->np : op->np * st[k].per;
    calx_text_plan plan = { 0 };
    calx_error ignored;
    const char *sql = calx__text_compile_positional(st[k].sql, nvalues,
                                                    x->s->dialect->paramstyle, &plan,
                                                    &ignored) == 0
                          ? plan.sql
                          : st[k].sql;
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof err->message - len, "\n[SQL: %s]", sql);
    calx__text_plan_free(&plan);
}

/* A returned key and the position of its row among those of its chunk. */
typedef struct key_rank {
    calx_value v;
    size_t row;
} key_rank;

static int cmp_key_rank(const void *a, const void *b)
{
    const calx_value *x = &((const key_rank *)a)->v, *y = &((const key_rank *)b)->v;
    return x->u.i < y->u.i ? -1 : x->u.i > y->u.i;
}

/* Fills o from the row its INSERT gave back: the generated key first when
 * key, then the columns of fetch in the table's order, each read as the
 * dialect stores it (SQLite's CURRENT_TIMESTAMP is text). */
static int load_returned(flush_ctx *x, calx_obj *o, const calx_row *row, bool key, uint64_t fetch,
                         calx_error *err)
{
    const calx_model *m = o->model;
    size_t col = 0;
    if (key && calx__obj_load_field(o, (size_t)calx__model_autoinc(m), calx_row_value(row, col++),
                                    err))
        return err->code;
    for (size_t i = 0; i < m->nfields && i < 64; i++) {
        if (!(fetch >> i & 1))
            continue;
        const calx_value *got = calx_row_value(row, col++);
        if (!got)
            return calx_error_set(err, CALX_ERR_INTERNAL,
                                  "the insert into %s returned no value for %s", m->table.name,
                                  m->fields[i].name);
        calx_value v = *got;
        char scratch[CALX_BIND_SCRATCH_SIZE];
        calx_type_scratch user;
        calx__type_scratch_init(&user);
        int rc = calx__field_from_stored(x->s->dialect, &m->table.columns[i], &v, scratch,
                                         &user, err);
        if (!rc)
            rc = calx__obj_load_field(o, i, &v, err);
        calx__type_scratch_done(&user);
        if (rc)
            return rc;
    }
    return 0;
}

/* The keys of a sentinel chunk: the rows went in in counter order and the
 * sequence handed out rising keys as they did, so the k-th smallest key
 * returned is row k's, whatever order RETURNING gives them in (SQLAlchemy
 * 2.0 correlates them so, sorting by the returned sentinel). */
static int chunk_keys(flush_ctx *x, const calx_result *r, size_t from, size_t first, size_t n,
                      calx_error *err)
{
    key_rank *k = malloc(n * sizeof *k);
    if (!k)
        return calx__nomem(err, NULL);
    int rc = 0;
    for (size_t j = 0; j < n && !rc; j++) {
        const calx_value *v = calx_row_value(calx_result_row(r, from + j), 0);
        if (!v || v->type != CALX_INT)
            rc = calx_error_set(err, CALX_ERR_INTERNAL,
                                "the insert into %s returned a key that is not an integer",
                                x->ops[first].o->model->table.name);
        else
            k[j] = (key_rank){ *v, j };
    }
    if (!rc)
        qsort(k, n, sizeof *k, cmp_key_rank);
    for (size_t j = 0; j < n && !rc; j++)
        rc = load_returned(x, x->ops[first + j].o, calx_result_row(r, from + k[j].row), true,
                           x->ops[first + j].fetch, err);
    free(k);
    return rc;
}

/* Checks each statement's outcome and fills generated keys: row j of an
 * execute-many's result is set j's key (each set runs on its own, so the
 * row comes from that set's execution), and a sentinel chunk's keys go to
 * its rows by their order (chunk_keys). */
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
        /* SQLAlchemy's StaleDataError texts. */
        bool upd = op->kind == OP_UPDATE;
        if (op->kind != OP_INSERT && rc >= 0 && (size_t)rc != count)
            return calx_error_set(err, CALX_ERR_STALE_DATA,
                                  "%s statement on table '%s' expected to %s %zu row(s); %s%lld "
                                  "were matched.",
                                  upd ? "UPDATE" : "DELETE", t->name, upd ? "update" : "delete",
                                  count, upd ? "" : "Only ", (long long)rc);
        if (!op->want_key && !op->fetch)
            continue;
        if (calx_result_nrows(r) != count)
            return calx_error_set(err, CALX_ERR_INTERNAL,
                                  "the insert into %s returned %zu rows for %zu rows", t->name,
                                  calx_result_nrows(r), count);
        if (st[k].form == FORM_SENTINEL || st[k].form == FORM_ARRAYS) {
            /* An execute-many gathers its sets' rows set after set. */
            for (size_t j = 0; j < count; j += st[k].per)
                if (chunk_keys(x, r, j, i + j, st[k].per, err))
                    return err->code;
            continue;
        }
        for (size_t j = 0; j < count; j++)
            if (load_returned(x, x->ops[i + j].o, calx_result_row(r, j), op->want_key,
                              x->ops[i + j].fetch, err))
                return err->code;
    }
    return 0;
}

/* Room in the identity map and on the session's inserted list for n
 * more new rows at once: 100,000 pushes otherwise double the list 15
 * times (B1). */
static int reserve_inserts(calx_session *s, size_t n, calx_error *err)
{
    if (calx__map_reserve(s, n) ||
        !calx__grow_for(&s->inserted.v, &s->inserted.cap, s->inserted.n, n,
                        sizeof *s->inserted.v))
        return calx__nomem(err, NULL);
    return 0;
}

/* Whether op is an INSERT still to apply (apply_early did not). */
static bool insert_to_apply(const flush_op *op)
{
    return op->kind == OP_INSERT && !op->applied;
}

/* An INSERTed row's object becomes persistent: its snapshot taken, in the
 * identity map under hash, on the inserted list. Room was reserved. */
static int apply_insert(calx_session *s, calx_obj *o, uint64_t hash, calx_error *err)
{
    if (calx__obj_take_snapshot(o, err))
        return err->code;
    if (calx__map_insert_h(s, o, hash)) {
        o->has_snap = false;
        return calx__nomem(err, NULL);
    }
    if (calx__objvec_push(&s->inserted, o)) {
        calx__map_remove(s, o);
        o->has_snap = false;
        return calx__nomem(err, NULL);
    }
    o->sp_gen = s->gen;
    o->state = CALX_OBJ_PERSISTENT;
    o->expired = false;
    return 0;
}

/* The new rows' slots are asked for AHEAD rows before they are placed
 * (calx__map_prepare): ahead[i % AHEAD] is row i's hash. */
enum { AHEAD = 16 };

static void prefetch_insert(flush_ctx *x, size_t i, size_t end, uint64_t *ahead)
{
    if (i < end && insert_to_apply(&x->ops[i]))
        ahead[i % AHEAD] = calx__map_prepare(x->s, x->ops[i].o);
}

/* Whether apply_early may take op: an INSERT whose object keeps nothing
 * in a slot (its texts in its own tail, no JSON value), so that undoing
 * it (undo_early) is putting a few fields back. *last is the model last
 * asked about and *json whether it has JSON values (a segment's INSERTs
 * are mostly of one model: one facts lookup). */
static bool early_ok(const flush_op *op, const calx_model **last, bool *json)
{
    if (op->kind != OP_INSERT || op->o->slots || op->o->delete_marked)
        return false;
    if (op->o->model != *last) {
        *last = op->o->model;
        *json = calx__model_facts_of(*last)->json_values;
    }
    return !*json;
}

/* The INSERTs of the segment just read, applied while the database runs
 * the next (send_next): a flush of many rows otherwise applies them all
 * after its last segment is back, the database idle meanwhile (SQLite B1,
 * 100,000 rows: 10-15 ms). Only in a flush that writes through no
 * relationship (one round, no row inserted NULL for a cycle), and on a
 * driver that runs a request off the loop thread: PostgreSQL's loop
 * thread writes the next segment as its socket takes it, and the work
 * held it up (B1 there, ten paired runs: 952 -> 1,039 ms median).
 * Should the flush fail after, undo_early puts them back as they were. */
static int apply_early(flush_ctx *x, calx_error *err)
{
    calx_session *s = x->s;
    size_t first = x->napplied, end = x->nread;
    x->napplied = end;
    if (!x->early || first == end)
        return 0;
    /* Every INSERT this flush can make is a pending object's. */
    if (!x->early_reserved && reserve_inserts(s, s->pending.n, err))
        return err->code;
    x->early_reserved = true;
    const calx_model *last = NULL;
    bool json = false;
    uint64_t ahead[AHEAD] = { 0 };
    for (size_t i = first; i < end && i < first + AHEAD; i++)
        if (early_ok(&x->ops[i], &last, &json))
            prefetch_insert(x, i, end, ahead);
    for (size_t i = first; i < end; i++) {
        flush_op *op = &x->ops[i];
        uint64_t hash = ahead[i % AHEAD];
        if (i + AHEAD < end && early_ok(&x->ops[i + AHEAD], &last, &json))
            prefetch_insert(x, i + AHEAD, end, ahead);
        if (!early_ok(op, &last, &json))
            continue;
        op->old_gen = op->o->sp_gen;
        op->was_expired = op->o->expired;
        if (apply_insert(s, op->o, hash, err))
            return err->code;
        op->applied = true;
    }
    return 0;
}

/* A flush that failed takes back what apply_early did: the objects are
 * pending again, out of the identity map and the inserted list, with no
 * snapshot. */
static void undo_early(flush_ctx *x)
{
    calx_session *s = x->s;
    bool any = false;
    for (size_t i = 0; i < x->napplied; i++) {
        flush_op *op = &x->ops[i];
        if (!op->applied)
            continue;
        calx_obj *o = op->o;
        calx__map_remove(s, o);
        o->has_snap = false;
        o->sp_gen = op->old_gen;
        o->expired = op->was_expired;
        o->state = CALX_OBJ_PENDING;
        op->applied = false;
        any = true;
    }
    if (!any)
        return;
    /* What this flush put on the inserted list and kept: all but those. */
    size_t n = x->inserted0;
    for (size_t i = x->inserted0; i < s->inserted.n; i++)
        if (s->inserted.v[i]->state != CALX_OBJ_PENDING)
            s->inserted.v[n++] = s->inserted.v[i];
    s->inserted.n = n;
}

/* Moves every flushed object to its new state. */
static int apply(flush_ctx *x, calx_error *err)
{
    calx_session *s = x->s;
    size_t inserts = 0;
    for (size_t i = 0; i < x->nops; i++)
        inserts += insert_to_apply(&x->ops[i]);
    if (inserts && reserve_inserts(s, inserts, err))
        return err->code;
    uint64_t ahead[AHEAD] = { 0 };
    for (size_t i = 0; i < x->nops && i < AHEAD; i++)
        prefetch_insert(x, i, x->nops, ahead);
    for (size_t i = 0; i < x->nops; i++) {
        flush_op *op = &x->ops[i];
        calx_obj *o = op->o;
        /* Row i's hash, before row i + AHEAD's takes its place. */
        uint64_t hash = ahead[i % AHEAD];
        prefetch_insert(x, i + AHEAD, x->nops, ahead);
        if (op->applied)
            continue;
        o->sp_gen = s->gen;
        switch (op->kind) {
        case OP_INSERT:
            if (apply_insert(s, o, hash, err))
                return err->code;
            break;
        case OP_UPDATE: {
            /* Only an UPDATE that set a key field can have moved the
             * object in the identity map. */
            bool rekey = false;
            if (op->key_changed) {
                calx_value k1[CALX__MAX_KEY], k2[CALX__MAX_KEY];
                size_t n = calx__obj_key(o, calx__obj_ptr(o), k1);
                calx__obj_key(o, calx__obj_snap(o), k2);
                rekey = calx__key_hash(o->model, k1, n) != calx__key_hash(o->model, k2, n);
            }
            if (calx__obj_take_snapshot(o, err))
                return err->code;
            if (rekey) {
                calx__map_remove(s, o);
                if (calx__map_insert(s, o))
                    return calx__nomem(err, NULL);
            }
            break;
        }
        case OP_DELETE:
            if (calx__session_deleted(s, o, err))
                return err->code;
            break;
        }
    }
    s->pending.n = 0;
    s->deleting.n = 0;
    return 0;
}

/* Points the arrays that start in the context's own room at it. */
static void ctx_init(flush_ctx *x)
{
    x->dirty.v = x->dirty_room;
    x->dirty.cap = ROOM_OPS;
    x->models = x->models_room;
    x->models_cap = ROOM_MODELS;
    x->ops = x->ops_room;
    x->ops_cap = ROOM_OPS;
    x->params = x->params_room;
    x->params_cap = ROOM_PARAMS;
    x->types = x->types_room;
    x->types_cap = ROOM_PARAMS;
}

static void ctx_free(flush_ctx *x)
{
    for (size_t i = 0; i < x->nops; i++)
        x->ops[i].o->sent = false;
    calx__room_free(x->dirty.v, x->dirty_room);
    calx__objvec_free(&x->keyed);
    calx__objvec_free(&x->inserts);
    free(x->waits.v);
    free(x->post);
    calx__room_free(x->models, x->models_room);
    calx__room_free(x->ops, x->ops_room);
    for (size_t i = 0; i < x->nsqls; i++) {
        sql_entry *e = &x->sqls[i];
        free(e->sql);
        calx_insert_free(e->ins);
        for (size_t j = 0; j < e->ntexts; j++)
            free(e->texts[j].sql);
        free(e->texts);
    }
    free(x->sqls);
    calx__room_free(x->params, x->params_room);
    calx__room_free(x->types, x->types_room);
    for (size_t i = 0; i < x->nkept; i++)
        free(x->kept[i]);
    free(x->kept);
}

/* A flush that failed gives back the keys its earlier rounds got: the
 * objects are as a failed single batch leaves them, still pending with no
 * key (the database rolls those rows back). */
static void unkey(flush_ctx *x)
{
    undo_early(x);
    undraw_keys(x);
    for (size_t i = 0; i < x->nread; i++) {
        flush_op *op = &x->ops[i];
        if (op->kind != OP_INSERT || !op->want_key)
            continue;
        calx_value null = calx_null();
        calx__obj_load_field(op->o, (size_t)calx__model_autoinc(op->o->model), &null, NULL);
    }
}

/* Makes ops [x->seg_first, x->nops) into one batch (make_batch), not
 * sent: made while the segment before still runs, so that the database
 * does not wait for the copy. */
static int make_segment(flush_ctx *x, segment *g, calx_error *err)
{
    *g = (segment){ .first = x->seg_first, .end = x->nops };
    g->st = plan_stmts(x, g->first, g->end, &g->nst, err);
    x->sending = true;
    if (g->st && !(g->made = make_batch(x, g->st, g->nst, err)))
        name_statement(x, g->st, g->nst, err);
    if (!g->made) {
        free_stmts(x, g->st);
        return err->code;
    }
    /* The batch has copied every value: the next segment's parameters
     * take the same memory (a round of 100,000 INSERTs held 16 MB of them,
     * every page of it faulted in once). */
    x->nparams = 0;
    return 0;
}

static void drop_made(flush_ctx *x, segment *g)
{
    calx__batch_free(g->made);
    free_stmts(x, g->st);
}

/* Sends the segment made, with the COMMIT when commit; it is in flight
 * until finish_segment reads it. */
static int launch_segment(flush_ctx *x, segment *g, bool commit, calx_error *err)
{
    calx_session *s = x->s;
    g->commit = commit;
    g->f = calx__conn_batch_send(s->conn, g->made, commit, err);
    g->made = NULL;
    if (!g->f) {
        name_statement(x, g->st, g->nst, err);
        free_stmts(x, g->st);
        return err->code;
    }
    /* From here a lost connection leaves the COMMIT's fate unknown. */
    if (commit)
        s->commit_sent = true;
    x->inflight = *g;
    x->seg_first = g->end;
    if (x->seg_ops < SEGMENT_OPS)
        x->seg_ops = 2 * x->seg_ops < SEGMENT_OPS ? 2 * x->seg_ops : SEGMENT_OPS;
    return 0;
}

/* Waits for the segment in flight, if any, and reads its results. */
static int finish_segment(flush_ctx *x, calx_error *err)
{
    segment g = x->inflight;
    if (!g.f)
        return 0;
    x->inflight.f = NULL;
    calx_result *r = NULL;
    int rc = calx_await(g.f, &r, err);
    if (rc) {
        stale_from_check(x, g.st, g.nst, err);
        name_statement(x, g.st, g.nst, err);
        rc = err->code;
    } else {
        /* Its COMMIT ran: whatever fails from here on (memory for the
         * keys), the rows are in, and the error must say so. */
        x->committed = g.commit;
        rc = read_results(x, g.st, g.nst, r, err);
    }
    if (!rc) {
        x->nread = g.end;
        for (size_t i = g.first; i < g.end; i++)
            x->ops[i].o->sent = true;
    }
    free_stmts(x, g.st);
    calx_result_free(r);
    return rc;
}

/* Ops [x->seg_first, x->nops) go as one segment, with the COMMIT when
 * commit: made first, then the one in flight is read (one batch at a time
 * is on the connection), then sent. */
static int send_next(flush_ctx *x, bool commit, calx_error *err)
{
    segment g;
    if (make_segment(x, &g, err))
        return err->code;
    if (finish_segment(x, err)) {
        drop_made(x, &g);
        return err->code;
    }
    if (launch_segment(x, &g, commit, err))
        return err->code;
    return apply_early(x, err);
}

/* A full segment goes (push_op). */
static int send_segment(flush_ctx *x, calx_error *err)
{
    return send_next(x, false, err);
}

/* A failed flush waits for the segment in flight: the connection is the
 * session's, and the rollback that follows must not meet it busy. */
static void drop_segment(flush_ctx *x)
{
    calx_error ignored;
    (void)finish_segment(x, &ignored);
}

/* Sends what is left of the round from op first on (the segments before
 * went as it was planned), with the commit when asked and when the round
 * has no UPDATE or DELETE: their counts must be checked (StaleDataError)
 * before anything commits, and are known only from their results, so
 * their COMMIT cannot ride in the same batch, where the database would
 * commit the rest of the flush before the check could stop it. */
static int send_round(flush_ctx *x, size_t first, bool commit, calx_error *err)
{
    for (size_t i = first; i < x->nops && commit && !x->checked; i++)
        if (x->ops[i].kind != OP_INSERT)
            commit = false;
    if (x->nops > x->seg_first && send_next(x, commit, err))
        return err->code;
    return finish_segment(x, err);
}

static void mark_waits(flush_ctx *x, bool on)
{
    for (size_t i = 0; i < x->waits.n; i++)
        if (x->waits.v[i].o)
            x->waits.v[i].o->waits = on;
}

/* The rounds: each sends what waits for no key; the sync after it fills
 * in the keys that came back. The last round (nothing waits) carries the
 * DELETEs and the commit. */
static int run_rounds(flush_ctx *x, calx_error *err)
{
    calx_session *s = x->s;
    int rc = calx__relwrite_prepare(s, &x->rel_writes, err);
    x->early = !x->rel_writes && calx__engine_database(s->opts.bind)->driver->runs_off_loop;
    x->inserted0 = s->inserted.n;
    if (!rc)
        rc = calx__cascade_deletes(s, err);
    if (!rc)
        rc = calx__relwrite_sync(s, &x->waits, err);
    if (!rc)
        rc = check_objects(x, err);
    for (bool first_round = true; !rc; first_round = false) {
        bool last = x->waits.n == 0;
        size_t first = x->nops;
        mark_waits(x, true);
        rc = plan_round(x, first_round, last, err);
        mark_waits(x, false);
        if (!rc && x->nops > first)
            rc = send_round(x, first, last && x->commit, err);
        if (rc || last)
            break;
        rc = calx__relwrite_sync(s, &x->waits, err);
    }
    if (rc)
        drop_segment(x);
    return rc;
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
    ctx_init(&x);
    int rc = run_rounds(&x, err);
    if (!rc && x.nops)
        rc = apply(&x, err);
    /* A walk of the whole identity map, skipped when nothing wrote
     * through a relationship (B1's 100,000 new heroes: 12 ms). */
    if (!rc && x.rel_writes)
        rc = calx__relwrite_flushed(s, err);
    if (!rc && committed)
        *committed = x.committed;
    if (rc && x.committed)
        calx__error_note(err, "the transaction is committed");
    if (rc)
        unkey(&x);
    ctx_free(&x);
    /* A failure before anything was sent (validation, an unordered cycle)
     * leaves the transaction as it was; after, it needs the rollback. */
    if (rc && x.sending) {
        s->need_rollback = true;
        s->failed = *err;
    }
    return rc;
}
