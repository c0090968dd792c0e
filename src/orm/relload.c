/* SPDX-License-Identifier: MIT */
/* Loading relationships: one relationship of one object or of a list of
 * objects, with the statements SQLAlchemy's loaders send. One object is a
 * lazy load's shape (many-to-one from the identity map with no SQL when it
 * is there, else "WHERE team.id = ?"; a collection "WHERE ? = hero.team_id";
 * many-to-many "FROM mission, heromissionlink WHERE ? = heromissionlink.
 * hero_id AND mission.id = heromissionlink.mission_id"). A list is
 * selectinload's: one "WHERE hero.team_id IN (...)" whose first column is
 * the key the rows are sorted to their parents by, batched at the
 * dialect's parameter limit. Every object a load makes goes through the
 * identity map (one per key; one already there keeps its unflushed
 * changes), and a loaded relationship is remembered as the database's
 * state, which the flush compares with.
 *
 * Also here: what a query does with the relationships of the objects it
 * made (loader options, the models' .lazy), and unloading what points at
 * an object that leaves the session. The joined form, which changes the
 * query itself, is reljoin.c's. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "engine/engine_int.h"
#include "engine/sql_memo.h"
#include "orm/relation.h"
#include "orm/session_int.h"
#include "sql/compiler.h"
#include "sql/user_type.h"

/* ---- a set of keys, each with the owners that have it ---- */

typedef struct keyslot {
    uint64_t h;
    calx_value key;
    size_t head;                 /* first owner + 1; 0: the slot is empty */
} keyslot;

typedef struct keyset {
    keyslot *slots;
    size_t cap;                  /* a power of two */
    size_t *next;                /* per owner: the next owner with its key, + 1 */
    calx_value *distinct;        /* the keys in the order first seen */
    size_t ndistinct;
} keyset;

static void keyset_free(keyset *ks)
{
    free(ks->slots);
    free(ks->next);
    free(ks->distinct);
    memset(ks, 0, sizeof *ks);
}

/* The key value as the identity map compares it (a bool key is an int). */
static calx_value norm(calx_value v)
{
    return v.type == CALX_BOOL ? calx_int(v.u.b) : v;
}

static keyslot *keyset_slot(const keyset *ks, const calx_value *key, uint64_t h)
{
    size_t mask = ks->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        keyslot *sl = &ks->slots[i];
        if (!sl->head || (sl->h == h && calx__value_eq(&sl->key, key)))
            return sl;
    }
}

/* The owners (o + 1 chained through ks->next) whose key is key; 0: none. */
static size_t keyset_owners(const keyset *ks, calx_value key)
{
    if (!ks->cap || key.type == CALX_NULL)
        return 0;
    key = norm(key);
    return keyset_slot(ks, &key, calx__value_hash(&key))->head;
}

/* Fills ks with the value of field f of each of objs[0..n) (texts point
 * into the objects, which a load does not refill: see calx__rel_load).
 * NULL keys are left out: such an owner has no target. */
static int keyset_make(keyset *ks, calx_obj *const *objs, size_t n, const calx_field *f,
                       calx_error *err)
{
    memset(ks, 0, sizeof *ks);
    ks->cap = 16;
    while (ks->cap < n * 2)
        ks->cap *= 2;
    ks->slots = calloc(ks->cap, sizeof *ks->slots);
    ks->next = calloc(n ? n : 1, sizeof *ks->next);
    ks->distinct = malloc((n ? n : 1) * sizeof *ks->distinct);
    if (!ks->slots || !ks->next || !ks->distinct) {
        keyset_free(ks);
        return calx__nomem(err, "loading a relationship");
    }
    for (size_t i = 0; i < n; i++) {
        calx_value v = norm(calx__field_value(objs[i]->model, f, calx__obj_ptr(objs[i])));
        if (v.type == CALX_NULL)
            continue;
        uint64_t h = calx__value_hash(&v);
        keyslot *sl = keyset_slot(ks, &v, h);
        if (!sl->head) {
            *sl = (keyslot){ h, v, 0 };
            ks->distinct[ks->ndistinct++] = v;
        }
        ks->next[i] = sl->head;
        sl->head = i + 1;
    }
    return 0;
}

/* ---- setting members ---- */

/* The load of o's relationship r is done: loaded, and the database's. */
int calx__rel_finish(calx_obj *o, const calx_relation *r, calx_error *err)
{
    size_t i = calx__rel_index(r);
    calx__rel_mark_loaded(o, i);
    if (o->rels)
        o->rels[i].raised = false;
    return calx__rel_remember(o, i, err);
}

/* A loaded one-to-many or one-to-one child points back at its parent
 * through back_populates' many-to-one: that side is known too, with no
 * SQL, where the child has not loaded it. */
static int set_back(calx_obj *child, const calx__relinfo *ri, calx_obj *parent, calx_error *err)
{
    const calx_relation *b = ri->back;
    if (!b || b->kind != CALX_MANY_TO_ONE || calx__rel_loaded(child, calx__rel_index(b)) ||
        calx__rel_one_get(child, b))
        return 0;
    calx__rel_one_put(child, b, calx__obj_ptr(parent));
    return calx__rel_finish(child, b, err);
}

/* Puts target into the relationship of owner o (a collection gains it; a
 * scalar is set once: a one-to-one with several rows keeps the first). */
int calx__rel_attach(calx_obj *o, const calx__relinfo *ri, calx_obj *target, calx_error *err)
{
    const calx_relation *r = ri->rel;
    void *t = calx__obj_ptr(target);
    if (calx__rel_is_list(r)) {
        if (calx__rel_list_push(o, r, t, err))
            return err->code;
    } else if (!calx__rel_one_get(o, r)) {
        calx__rel_one_put(o, r, t);
    }
    if (r->kind == CALX_ONE_TO_MANY || r->kind == CALX_ONE_TO_ONE)
        return set_back(target, ri, o, err);
    return 0;
}

/* ---- the statements ---- */

static calx_expr *col(const calx_model *m, size_t field)
{
    return calx_col(&m->table, field);
}

/* The single form's WHERE: "team.id = ?" for a many-to-one (the key
 * compared, as the get SQLAlchemy's lazy load uses), "? = hero.team_id"
 * otherwise (its lazy clause, the parent's value bound on the left). key:
 * the key's literal, or a placeholder (calx__column_slot). */
static calx_select *single_select(const calx__relinfo *ri, calx_expr *key)
{
    const calx_relation *r = ri->rel;
    const calx_model *t = r->target;
    calx_select *q = calx_select_new(&t->table);
    switch (r->kind) {
    case CALX_MANY_TO_ONE:
        calx_select_where(q, calx_binop(CALX_OP_EQ, col(t, ri->remote), key));
        break;
    case CALX_ONE_TO_MANY:
    case CALX_ONE_TO_ONE:
        calx_select_where(q, calx_binop(CALX_OP_EQ, key, col(t, ri->remote)));
        break;
    case CALX_MANY_TO_MANY:
        calx_select_where(q, calx_binop(CALX_OP_EQ, key, col(r->link, ri->link_local)));
        calx_select_where(q, calx_binop(CALX_OP_EQ, col(t, ri->remote),
                                        col(r->link, ri->link_remote)));
        break;
    }
    return q;
}

/* The list form: the column rows are sorted to their owners by first
 * (the target's foreign key, or the link's key of the owner; not repeated
 * after it), then the target's columns; "WHERE <that column> IN (...)". A
 * many-to-one needs no extra column: its key is the target's own. */
static calx_select *in_select(const calx__relinfo *ri, const calx_value *keys, size_t n)
{
    const calx_relation *r = ri->rel;
    const calx_model *t = r->target;
    if (r->kind == CALX_MANY_TO_ONE) {
        calx_select *q = calx_select_new(&t->table);
        return calx_select_where(q, calx_in_values(col(t, ri->remote), keys, n));
    }
    calx_select *q = calx_select_columns_n(NULL, 0);
    calx_expr *keycol;
    if (r->kind == CALX_MANY_TO_MANY) {
        calx_select_add_column(q, col(r->link, ri->link_local));
        for (size_t i = 0; i < t->nfields; i++)
            calx_select_add_column(q, col(t, i));
        calx_select_from(q, &t->table);
        calx_select_join(q, &r->link->table,
                         calx_binop(CALX_OP_EQ, col(t, ri->remote), col(r->link, ri->link_remote)),
                         CALX_JOIN_INNER);
        keycol = col(r->link, ri->link_local);
    } else {
        calx_select_add_column(q, col(t, ri->remote));
        for (size_t i = 0; i < t->nfields; i++)
            if (i != ri->remote)
                calx_select_add_column(q, col(t, i));
        keycol = col(t, ri->remote);
    }
    return calx_select_where(q, calx_in_values(keycol, keys, n));
}

static void order(calx_select *q, const calx__relinfo *ri)
{
    if (ri->order_field >= 0)
        calx_select_order_by(q, col(ri->rel->target, (size_t)ri->order_field),
                             ri->order_desc ? CALX_DESC : CALX_ASC);
}

/* Runs q (compiled with the table-name labels SQLAlchemy's loaders use)
 * on the session's connection. stream: its rows come in chunks (a
 * selectinload of 100,000 rows reads them as a query's load does), else
 * as one plain statement (prepared, on PostgreSQL). *out is the caller's. */
static int run(calx_session *s, const calx_select *q, bool stream, calx_result **out,
               calx_error *err)
{
    calx_compiled c = { 0 };
    int rc = calx__select_compile(q, s->dialect, CALX_COMPILE_LABELS, &c, err);
    calx_connection *conn = NULL;
    if (!rc)
        rc = calx__session_read_conn(s, &conn, err);
    if (!rc) {
        calx_params p = { c.params, c.nparams };
        rc = calx_await(stream ? calx__conn_stream_typed(conn, c.sql, &p, c.types,
                                                         CALX__LOAD_FIRST_ROWS,
                                                         CALX__LOAD_CHUNK_ROWS, err)
                               : calx__conn_execute_typed(conn, c.sql, &p, c.types, err),
                        out, err);
    }
    calx__compiled_free(&c);
    return rc;
}

/* A row of the list form in the target's field order: vals gets the
 * values (the key column moved back to its field's place), *key the
 * value the row is sorted to its owners by. */
static const calx_value *row_values(const calx__relinfo *ri, const calx_row *row, bool in_form,
                                    calx_value *vals, calx_value *key)
{
    const calx_relation *r = ri->rel;
    const calx_value *v = calx_row_value(row, 0);
    if (!in_form || r->kind == CALX_MANY_TO_ONE) {
        *key = r->kind == CALX_MANY_TO_ONE ? v[ri->remote] : calx_null();
        return v;
    }
    *key = v[0];
    if (r->kind == CALX_MANY_TO_MANY)
        return v + 1;
    const calx_model *t = r->target;
    for (size_t i = 0, k = 1; i < t->nfields; i++)
        vals[i] = i == ri->remote ? v[0] : v[k++];
    return vals;
}

/* The column the list form's key comes from: the target's (or the
 * link's) side of the join. */
static const calx_column *key_column(const calx__relinfo *ri)
{
    const calx_relation *r = ri->rel;
    if (r->kind == CALX_MANY_TO_MANY)
        return &r->link->table.columns[ri->link_local];
    return &r->target->table.columns[ri->remote];
}

/* Whether that column's values come back in another form than its
 * field's (most keys do not: then a row's key is matched as it is). */
static bool key_needs_converting(const calx__relinfo *ri)
{
    const calx_relation *r = ri->rel;
    if (r->kind == CALX_MANY_TO_MANY)
        return calx__field_has_stored_form(r->link, ri->link_local);
    return calx__field_has_stored_form(r->target, ri->remote);
}

/* keyset_owners of a row's key, a stored value of column c: the key is
 * made the field's type first, as the owners' keys are (a user type's
 * text where the column stores an integer). *rc: the conversion's error. */
static size_t owners_of_stored(calx_session *s, const keyset *ks, const calx_column *c,
                               calx_value key, calx_error *err, int *rc)
{
    char scratch[CALX_BIND_SCRATCH_SIZE];
    calx_type_scratch user;
    calx__type_scratch_init(&user);
    *rc = key.type == CALX_NULL ? 0
                                : calx__field_from_stored(s->dialect, c, &key, scratch, &user, err);
    size_t head = *rc ? 0 : keyset_owners(ks, key);
    calx__type_scratch_done(&user);
    return head;
}

/* Whether the list form's load of nkeys keys may bring more rows than a
 * chunk, and so streams: a collection's may; a many-to-one's brings a row
 * a key at most. One owner's load (a lazy load, a web handler's per
 * request) is one plain statement, which PostgreSQL keeps prepared: a
 * cursor there would cost a parse and a plan each time. */
static bool streams(const calx__relinfo *ri, size_t nkeys)
{
    return ri->rel->kind != CALX_MANY_TO_ONE || nkeys > CALX__LOAD_CHUNK_ROWS;
}

/* Whether the single form's key is an integer compared with an integer
 * field: then its SELECT is the same text for every key, with the key
 * bound as it is. */
static bool single_plain(const calx__relinfo *ri, calx_value key)
{
    const calx_relation *r = ri->rel;
    const calx_model *m = r->kind == CALX_MANY_TO_MANY ? r->link : r->target;
    size_t i = r->kind == CALX_MANY_TO_MANY ? ri->link_local : ri->remote;
    calx_ftype t = m->fields[i].type;
    return key.type == CALX_INT && (t == CALX_F_INT32 || t == CALX_F_INT64) &&
           !calx__field_has_stored_form(m, i);
}

/* Runs the single form's SELECT for one owner's key. For a plain key
 * (single_plain: the usual integer key) the text is compiled once per
 * engine, kept as a get's is (sql_memo.c), and run with the key bound: a
 * web handler loads one owner's relationship per request, and compiling
 * the SELECT each time (quoting every identifier) was a twentieth of the
 * hero service's GET. Any other key is compiled into the statement as a
 * literal, converted there to the column's form. *out is the caller's. */
static int run_single(calx_session *s, const calx__relinfo *ri, calx_value key,
                      calx_result **out, calx_error *err)
{
    if (!single_plain(ri, key)) {
        calx_select *q = single_select(ri, calx_lit(key));
        order(q, ri);
        int rc = run(s, q, false, out, err);
        calx_select_free(q);
        return rc;
    }
    const calx__memo_text *found =
        calx__engine_memo_find(s->opts.bind, ri->rel, CALX__MEMO_REL_ONE, 0);
    calx__memo_text text = found ? *found : (calx__memo_text){ 0 };
    bool kept = found != NULL;
    if (!kept) {
        calx_select *q = single_select(ri, calx__column_slot(key_column(ri)));
        order(q, ri);
        if (calx__memo_select(s, ri->rel, CALX__MEMO_REL_ONE, 0, CALX_COMPILE_LABELS, q, &text,
                              &kept, err))
            return err->code;
    }
    calx_connection *conn = NULL;
    int rc = calx__session_read_conn(s, &conn, err);
    if (!rc) {
        calx_param param = { NULL, key };
        calx_params p = { &param, 1 };
        rc = calx_await(kept ? calx__conn_execute_kept(conn, text.sql, &p, text.types, err)
                             : calx__conn_execute_typed(conn, text.sql, &p, text.types, err),
                        out, err);
    }
    if (!kept) {
        free(text.sql);
        free(text.types);
    }
    return rc;
}

/* Loads the rows of res as targets and attaches each to the owners of its
 * key (every one of objs in the single form, where there is one owner).
 * Frees res. */
static int load_rows(calx_session *s, const calx__relinfo *ri, calx_result *res,
                     calx_obj *const *objs, const keyset *ks, bool in_form, calx_error *err)
{
    const calx_model *t = ri->rel->target;
    bool convert_key = in_form && key_needs_converting(ri);
    int rc = 0;
    calx_value *vals = malloc((t->nfields ? t->nfields : 1) * sizeof *vals);
    if (!vals)
        rc = calx__nomem(err, "loading %s.%s",
                            ri->rel->owner->name, ri->rel->name);
    bool bulk = calx__load_begin(s, res);
    while (!rc) {
        const calx_row *row;
        rc = calx_result_anext(res, &row, err);
        if (rc || !row)
            break;
        calx_value key;
        const calx_value *v = row_values(ri, row, in_form, vals, &key);
        calx_obj *o;
        rc = calx__load_row(s, t, v, false, &o, err);
        if (rc)
            break;
        if (!in_form) {
            rc = calx__rel_attach(objs[0], ri, o, err);
            continue;
        }
        size_t first = convert_key ? owners_of_stored(s, ks, key_column(ri), key, err, &rc)
                                   : keyset_owners(ks, key);
        for (size_t k = first; k && !rc; k = ks->next[k - 1])
            rc = calx__rel_attach(objs[k - 1], ri, o, err);
    }
    calx__load_end(s, bulk);
    free(vals);
    calx_result_free(res);
    return rc;
}

/* A many-to-one's targets found in the identity map (not expired) are
 * attached with no SQL, and their keys dropped from ks->distinct. Only
 * when the foreign key references the target's single-column key. */
static int from_map(calx_session *s, const calx__relinfo *ri, calx_obj *const *objs, keyset *ks,
                    calx_error *err)
{
    const calx_model *t = ri->rel->target;
    if (ri->rel->kind != CALX_MANY_TO_ONE || calx__model_pk(t) != (int)ri->remote)
        return 0;
    size_t npk = 0;
    for (size_t i = 0; i < t->nfields; i++)
        npk += t->table.columns[i].primary_key;
    if (npk != 1)
        return 0;
    size_t kept = 0;
    for (size_t d = 0; d < ks->ndistinct; d++) {
        calx_value key = ks->distinct[d];
        calx_obj *o = calx__map_find(s, t, &key, 1);
        if (!o || o->expired) {
            ks->distinct[kept++] = key;
            continue;
        }
        for (size_t k = keyset_owners(ks, key); k; k = ks->next[k - 1])
            if (calx__rel_attach(objs[k - 1], ri, o, err))
                return err->code;
    }
    ks->ndistinct = kept;
    return 0;
}

/* The most keys one IN may bind: the dialect's limit (SQLAlchemy's
 * selectinload sends 500 at a time; one statement per limit is fewer
 * round trips). */
static size_t chunk_size(const calx_session *s)
{
    return s->dialect->max_params ? s->dialect->max_params : 500;
}

/* Loads ri for objs[0..n), every one of which is to be (re)loaded. */
static int load(calx_session *s, const calx__relinfo *ri, calx_obj *const *objs, size_t n,
                bool in_form, calx_error *err)
{
    const calx_relation *r = ri->rel;
    const calx_model *m = r->owner;
    /* Emptied first: what was loaded is replaced by the rows. */
    for (size_t i = 0; i < n; i++)
        calx__rel_unload(objs[i], calx__rel_index(r));
    keyset ks;
    if (keyset_make(&ks, objs, n, &m->fields[ri->local], err))
        return err->code;
    int rc = from_map(s, ri, objs, &ks, err);
    if (!rc && ks.ndistinct && !in_form && n == 1) {
        calx_result *res = NULL;
        rc = run_single(s, ri, ks.distinct[0], &res, err);
        if (!rc)
            rc = load_rows(s, ri, res, objs, &ks, false, err);
    }
    size_t chunk = chunk_size(s);
    for (size_t at = 0; !rc && (in_form || n != 1) && at < ks.ndistinct; at += chunk) {
        size_t k = ks.ndistinct - at < chunk ? ks.ndistinct - at : chunk;
        calx_select *q = in_select(ri, ks.distinct + at, k);
        order(q, ri);
        calx_result *res = NULL;
        rc = run(s, q, streams(ri, k), &res, err);
        calx_select_free(q);
        if (!rc)
            rc = load_rows(s, ri, res, objs, &ks, true, err);
    }
    keyset_free(&ks);
    for (size_t i = 0; i < n && !rc; i++)
        rc = calx__rel_finish(objs[i], r, err);
    /* Half a load is not a load: unloaded, never partly filled. */
    for (size_t i = 0; i < n && rc; i++)
        calx__rel_unload(objs[i], calx__rel_index(r));
    return rc;
}

/* Whether relationship r of o is to be loaded: not loaded yet (or every
 * time, with reload). An unloaded scalar the program has set is its
 * change, which the flush writes: a load leaves it. */
bool calx__rel_wanted(const calx_obj *o, const calx_relation *r, bool reload)
{
    if (reload)
        return true;
    if (calx__rel_loaded(o, calx__rel_index(r)))
        return false;
    return calx__rel_is_list(r) || !calx__rel_one_get(o, r);
}

/* Loads r for those of objs it is wanted for (see wanted). in_form: the
 * list form even for one object (a query's selectinload). */
static int load_wanted(calx_session *s, calx_obj *const *objs, size_t n, const calx_relation *r,
                       bool reload, bool in_form, calx_error *err)
{
    calx__relinfo ri;
    if (calx__rel_resolve(r, &ri, err))
        return err->code;
    calx_obj **want = malloc((n ? n : 1) * sizeof *want);
    if (!want)
        return calx__nomem(err, "loading %s.%s",
                              r->owner->name, r->name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (calx__rel_wanted(objs[i], r, reload))
            want[k++] = objs[i];
    int rc = k ? load(s, &ri, want, k, in_form, err) : 0;
    free(want);
    return rc;
}

int calx__rel_load(calx_session *s, calx_obj *const *objs, size_t n, const calx_relation *rel,
                   calx_error *err)
{
    return load_wanted(s, objs, n, rel, false, false, err);
}

/* ---- on demand ---- */

static int load_public(calx_session *s, void *const *objs, size_t n, const calx_relation *rel,
                       const char *fn, calx_error *err)
{
    if (!s || !rel || (n && !objs))
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s needs a session, %sa relationship", fn,
                              n ? "objects and " : "");
    calx_obj **hdrs = malloc((n ? n : 1) * sizeof *hdrs);
    if (!hdrs)
        return calx__nomem(err, "loading %s.%s",
                              rel->owner ? rel->owner->name : "?", rel->name);
    bool expired = false;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        calx_obj *o = hdrs[i] = calx__obj_check(objs[i]);
        if (!o)
            rc = calx_error_set(err, CALX_ERR_ARGUMENT, "%s: item %zu is not a model object", fn,
                                i);
        else if (o->model != rel->owner)
            rc = calx_error_set(err, CALX_ERR_ARGUMENT, "%s: %s.%s is a relationship of %s, not "
                                "of the %s given", fn, rel->owner->name, rel->name,
                                rel->owner->name, o->model->name);
        else if (calx__obj_session(o) != s || o->state != CALX_OBJ_PERSISTENT)
            rc = calx_error_set(err, CALX_ERR_ARGUMENT, "%s: Instance '%s' is not persistent "
                                "within this Session (add and flush it first)", fn,
                                o->model->name);
        else
            expired |= o->expired;
    }
    if (!rc && n)
        rc = calx__session_enter(s, true, err);
    else if (!rc) {
        free(hdrs);
        return 0;        /* nothing to load: no task needed */
    }
    if (rc) {
        free(hdrs);
        return rc;
    }
    /* An expired owner's key may have changed in the database: its row
     * first, as SQLAlchemy unexpires an object before its lazy load. */
    if (expired)
        rc = calx__load_expired(s, rel->owner, err);
    size_t k = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if (calx__obj_session(hdrs[i]) == s)   /* a row gone detaches its object */
            hdrs[k++] = hdrs[i];
    if (!rc)
        rc = load_wanted(s, hdrs, k, rel, true, false, err);
    free(hdrs);
    return calx__session_leave(s, rc, err);
}

int calx_session_load(calx_session *s, void *obj, const calx_relation *rel, calx_error *err)
{
    if (!obj)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_load needs an object");
    return load_public(s, &obj, 1, rel, "calx_session_load", err);
}

int calx_session_load_many(calx_session *s, void *const *objs, size_t n, const calx_relation *rel,
                           calx_error *err)
{
    return load_public(s, objs, n, rel, "calx_session_load_many", err);
}

/* ---- a set of pointers ---- */

/* Objects are aligned, so a pointer's low bits are all zero: multiply,
 * then fold the high bits down, where the multiply put the entropy. */
static size_t ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ h >> 29);
}

int calx__ptrset_add(calx__ptrset *ps, const void *p, bool *added)
{
    if ((ps->n + 1) * 2 > ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        const void **slots = calloc(cap, sizeof *slots);
        if (!slots)
            return CALX_ERR_NOMEM;
        for (size_t i = 0; i < ps->cap; i++) {
            if (!ps->slots[i])
                continue;
            size_t k = ptr_hash(ps->slots[i]);
            while (slots[k & (cap - 1)])
                k++;
            slots[k & (cap - 1)] = ps->slots[i];
        }
        free(ps->slots);
        ps->slots = slots;
        ps->cap = cap;
    }
    size_t k = ptr_hash(p);
    for (;; k++) {
        const void **sl = &ps->slots[k & (ps->cap - 1)];
        if (*sl == p) {
            *added = false;
            return 0;
        }
        if (!*sl) {
            *sl = p;
            ps->n++;
            *added = true;
            return 0;
        }
    }
}

bool calx__ptrset_has(const calx__ptrset *ps, const void *p)
{
    if (!ps->cap)
        return false;
    for (size_t k = ptr_hash(p);; k++) {
        const void *sl = ps->slots[k & (ps->cap - 1)];
        if (sl == p)
            return true;
        if (!sl)
            return false;
    }
}

void calx__ptrset_free(calx__ptrset *ps)
{
    free(ps->slots);
    memset(ps, 0, sizeof *ps);
}

/* ---- after a query: loader options and the models' .lazy ---- */

static size_t loader_len(const calx_loader *l)
{
    size_t n = 0;
    while (n < CALX_LOADER_DEPTH && l->path[n])
        n++;
    return n;
}

calx_loading calx__rel_how(const calx_exec_opts *opts, const calx_relation *const *path,
                           size_t n)
{
    const calx_loader *through = NULL;
    for (size_t i = 0; opts && i < opts->nloaders; i++) {
        const calx_loader *l = &opts->loaders[i];
        size_t len = loader_len(l);
        if (len < n || memcmp(l->path, path, n * sizeof *path) != 0)
            continue;
        if (len == n)
            return l->how;
        if (!through)
            through = l;
    }
    if (through)
        return through->how;
    /* The model's default, but not for a relationship the path has come
     * through already, or its way back (Team.heroes then Hero.team): a
     * default never loads in a circle. */
    const calx_relation *r = path[n - 1];
    for (size_t i = 0; i + 1 < n; i++) {
        const calx_relation *p = path[i];
        if (p == r || (p->back_populates && p->target == r->owner &&
                       strcmp(p->back_populates, r->name) == 0))
            return CALX_LOAD_ON_DEMAND;
    }
    return r->lazy;
}

/* Whether anything below path (a relationship of m's, or deeper) is to be
 * loaded: the work of going down at all. */
static bool any_below(const calx_exec_opts *opts, const calx_model *m,
                      const calx_relation **path, size_t n)
{
    if (n >= CALX_LOADER_DEPTH)
        return false;
    for (size_t i = 0; i < m->nrelations; i++) {
        path[n] = &m->relations[i];
        if (calx__rel_how(opts, path, n + 1) != CALX_LOAD_ON_DEMAND)
            return true;
    }
    return false;
}

/* The distinct targets objs[0..n) hold in r (loaded ones only). */
static int targets_of(calx_obj *const *objs, size_t n, const calx_relation *r, calx_objvec *out,
                      calx_error *err)
{
    calx__ptrset seen = { 0 };
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!calx__rel_loaded(objs[i], calx__rel_index(r)))
            continue;
        calx__list l = { NULL, 0 };
        void *one;
        if (calx__rel_is_list(r)) {
            calx__rel_list_get(objs[i], r, &l);
        } else if ((one = calx__rel_one_get(objs[i], r)) != NULL) {
            l.items = &one;
            l.n = 1;
        }
        for (size_t k = 0; k < l.n && !rc; k++) {
            bool added;
            rc = calx__ptrset_add(&seen, l.items[k], &added);
            if (!rc && added)
                rc = calx__objvec_push(out, calx__obj_hdr(l.items[k]));
        }
    }
    calx__ptrset_free(&seen);
    return rc ? calx__nomem(err, "loading %s.%s",
                               r->owner->name, r->name) : 0;
}

/* Loads the relationships of objs[0..n) (of model m, reached by path)
 * as the options and the models say, then those of what they loaded.
 * joined: the query that made objs joined what loads joined. */
static int apply(calx_session *s, const calx_model *m, calx_obj *const *objs, size_t n,
                 const calx_relation **path, size_t depth, const calx_exec_opts *opts,
                 bool joined, calx_error *err)
{
    bool reload = opts && opts->populate_existing;
    for (size_t i = 0; i < m->nrelations && n && depth < CALX_LOADER_DEPTH; i++) {
        const calx_relation *r = &m->relations[i];
        path[depth] = r;
        calx_loading how = calx__rel_how(opts, path, depth + 1);
        int rc = 0;
        switch (how) {
        case CALX_LOAD_ON_DEMAND:
            continue;
        case CALX_LOAD_NOLOAD:
            for (size_t k = 0; k < n && !rc; k++)
                if (calx__rel_wanted(objs[k], r, reload)) {
                    calx__rel_unload(objs[k], i);
                    rc = calx__rel_finish(objs[k], r, err);
                }
            if (rc)
                return rc;
            continue;
        case CALX_LOAD_RAISE:
            /* A relationship raise by its model's default needs no mark
             * (calx_rel_check reads .lazy); only a raiseload option's
             * objects carry one, in their relationship state. */
            if (r->lazy == CALX_LOAD_RAISE)
                continue;
            for (size_t k = 0; k < n; k++) {
                if (calx__rel_loaded(objs[k], i))
                    continue;
                calx__relstate *st = calx__rel_states(objs[k]);
                if (!st)
                    return calx__nomem(err, "marking %s.%s as raiseload",
                                       objs[k]->model->name, r->name);
                st[i].raised = true;
            }
            continue;
        case CALX_LOAD_JOINED:
            /* Loaded by the query itself when the whole path was joined
             * (reljoin.c); a joined step below a selectin one, or of
             * objects no joined query made (a get answered by the identity
             * map, an expired reload, a refresh), loads as selectin. */
            if (joined && calx__rel_joined_path(opts, path, depth + 1))
                break;
            /* fall through */
        case CALX_LOAD_SELECT_IN:
            if ((rc = load_wanted(s, objs, n, r, reload, true, err)))
                return rc;
            break;
        }
        if (!any_below(opts, r->target, path, depth + 1))
            continue;
        path[depth] = r;
        calx_objvec t = { 0 };
        rc = targets_of(objs, n, r, &t, err);
        if (!rc)
            rc = apply(s, r->target, t.v, t.n, path, depth + 1, opts, joined, err);
        calx__objvec_free(&t);
        if (rc)
            return rc;
    }
    return 0;
}

int calx__rel_after_load_objs(calx_session *s, const calx_model *m, calx_obj *const *objs,
                              size_t n, const calx_exec_opts *opts, bool joined,
                              calx_error *err)
{
    const calx_relation *path[CALX_LOADER_DEPTH];
    if (!n || !any_below(opts, m, path, 0))
        return 0;
    return apply(s, m, objs, n, path, 0, opts, joined, err);
}

int calx__rel_after_load(calx_session *s, const calx_model *m, void *const *items, size_t n,
                         const calx_exec_opts *opts, bool joined, calx_error *err)
{
    const calx_relation *path[CALX_LOADER_DEPTH];
    if (!n || !any_below(opts, m, path, 0))
        return 0;
    calx_obj **objs = malloc(n * sizeof *objs);
    if (!objs)
        return calx__nomem(err, "loading %s's relationships",
                              m->name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i])
            objs[k++] = calx__obj_hdr(items[i]);
    int rc = calx__rel_after_load_objs(s, m, objs, k, opts, joined, err);
    free(objs);
    return rc;
}

/* ---- leaving the session ---- */

void calx__rel_forget(calx_session *s, calx_obj *gone)
{
    void *p = calx__obj_ptr(gone);
    for (calx_obj *o = s->owned; o; o = o->next) {
        const calx_model *m = o->model;
        for (size_t i = 0; i < m->nrelations; i++) {
            const calx_relation *r = &m->relations[i];
            if (r->target != gone->model)
                continue;
            bool points = calx__rel_is_list(r) ? calx__rel_list_has(o, r, p)
                                               : calx__rel_one_get(o, r) == p;
            if (!points && o->rels)
                points = o->rels[i].one == p;
            for (size_t k = 0; !points && o->rels && k < o->rels[i].n; k++)
                points = o->rels[i].items[k] == p;
            if (points)
                calx__rel_unload(o, i);
        }
    }
    calx__rel_unload_all(gone);
}
