/* SPDX-License-Identifier: MIT */
/* joinedload: a query that loads relationships in its own rows. The
 * caller's select is extended (calx__select_extend: it stays as it was)
 * with a LEFT OUTER JOIN of an anonymous alias of each relationship's
 * target and the alias's columns, as SQLAlchemy renders the reference's
 * "eager loading: joinedload":
 *
 *     SELECT hero.id, ..., team_1.id AS id_1, team_1.name AS name_1, ...
 *     FROM hero LEFT OUTER JOIN team AS team_1 ON team_1.id = hero.team_id
 *
 * A chain of joined relationships joins alias to alias (Team.heroes then
 * Hero.missions). A many-to-many joins the link's alias, then the
 * target's, both LEFT OUTER (SQLAlchemy nests the second join inside the
 * first: the same rows). A joined collection repeats its parent on each
 * row: parents are taken once, in the order first met, and a collection
 * gains each target once. A LIMIT counts those rows, not the parents
 * (SQLAlchemy wraps the query in a subquery then): use selectin with a
 * LIMIT. What the rows make goes through the identity map as any query's. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "engine/engine_int.h"
#include "orm/relation.h"
#include "orm/session_int.h"
#include "sql/compiler.h"
#include "sql/select_int.h"

/* The most relationships one query joins. */
#define MAX_JOINED 16

typedef struct jnode {
    calx__relinfo ri;
    int parent;                  /* the node it joins from; -1: the query's entity */
    calx_from *alias, *link;     /* owned: the target's alias, a many-to-many's link's */
    size_t first;                /* the alias's first column in the rows */
    calx__ptrset seen, filling;  /* parents met; those this query fills */
    calx_objvec fill;            /* the parents it fills, in order */
    calx_obj *row;               /* this row's target, or NULL */
} jnode;

typedef struct jplan {
    jnode nodes[MAX_JOINED];
    size_t n;
} jplan;

bool calx__rel_joined_path(const calx_exec_opts *opts, const calx_relation *const *path,
                           size_t n)
{
    for (size_t i = 1; i <= n; i++)
        if (calx__rel_how(opts, path, i) != CALX_LOAD_JOINED)
            return false;
    return true;
}

bool calx__rel_joins(const calx_exec_opts *opts, const calx_model *m)
{
    for (size_t i = 0; i < m->nrelations; i++) {
        const calx_relation *path[1] = { &m->relations[i] };
        if (calx__rel_how(opts, path, 1) == CALX_LOAD_JOINED)
            return true;
    }
    return false;
}

/* The nodes of the relationships of m (reached through node parent) that
 * load joined, depth first: a node comes after the one it joins from. */
static int plan(jplan *p, const calx_exec_opts *opts, const calx_model *m, int parent,
                const calx_relation **path, size_t depth, calx_error *err)
{
    for (size_t i = 0; i < m->nrelations && depth < CALX_LOADER_DEPTH; i++) {
        path[depth] = &m->relations[i];
        if (calx__rel_how(opts, path, depth + 1) != CALX_LOAD_JOINED)
            continue;
        if (p->n == MAX_JOINED)
            return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                                  "a query may join at most %d relationships (%s.%s is one "
                                  "more): load some with CALX_SELECTINLOAD",
                                  MAX_JOINED, m->name, m->relations[i].name);
        jnode *nd = &p->nodes[p->n];
        memset(nd, 0, sizeof *nd);
        nd->parent = parent;
        if (calx__rel_resolve(&m->relations[i], &nd->ri, err))
            return err->code;
        int k = (int)p->n++;
        if (plan(p, opts, m->relations[i].target, k, path, depth + 1, err))
            return err->code;
    }
    return 0;
}

static void plan_free(jplan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        calx_from_free(p->nodes[i].alias);
        calx_from_free(p->nodes[i].link);
        calx__ptrset_free(&p->nodes[i].seen);
        calx__ptrset_free(&p->nodes[i].filling);
        calx__objvec_free(&p->nodes[i].fill);
    }
    p->n = 0;
}

/* The plan of a query of m's objects: p->n is 0 when nothing loads
 * joined; on an error p is freed. */
static int plan_query(jplan *p, const calx_exec_opts *opts, const calx_model *m, calx_error *err)
{
    const calx_relation *path[CALX_LOADER_DEPTH];
    int rc = plan(p, opts, m, -1, path, 0, err);
    if (rc)
        plan_free(p);
    return rc;
}

/* Column field of model m on node k's side: the query's table (k < 0) or
 * node k's alias. */
static calx_expr *side(const jplan *p, int k, const calx_model *m, size_t field)
{
    if (k < 0)
        return calx_col(&m->table, field);
    return calx_from_col(p->nodes[k].alias, m->table.columns[field].name);
}

/* x gains node k: its alias's columns and its LEFT OUTER JOIN(s), and the
 * collection's order after the query's own. */
static void extend(jplan *p, int k, calx_select *x)
{
    jnode *nd = &p->nodes[k];
    const calx_relation *r = nd->ri.rel;
    const calx_model *t = r->target;
    nd->alias = calx_alias_new(&t->table, NULL);
    nd->first = calx__select_ncols(x);
    calx_select_add_entity_from(x, nd->alias);
    calx_expr *remote = calx_from_col(nd->alias, t->table.columns[nd->ri.remote].name);
    calx_expr *local = side(p, nd->parent, r->owner, nd->ri.local);
    switch (r->kind) {
    case CALX_MANY_TO_ONE:
        calx_select_join_from(x, nd->alias, calx_binop(CALX_OP_EQ, remote, local), CALX_JOIN_LEFT);
        break;
    case CALX_ONE_TO_MANY:
    case CALX_ONE_TO_ONE:
        calx_select_join_from(x, nd->alias, calx_binop(CALX_OP_EQ, local, remote), CALX_JOIN_LEFT);
        break;
    case CALX_MANY_TO_MANY: {
        const calx_table *lt = &r->link->table;
        nd->link = calx_alias_new(lt, NULL);
        calx_select_join_from(x, nd->link,
                              calx_binop(CALX_OP_EQ, local,
                                         calx_from_col(nd->link,
                                                       lt->columns[nd->ri.link_local].name)),
                              CALX_JOIN_LEFT);
        calx_select_join_from(x, nd->alias,
                              calx_binop(CALX_OP_EQ, remote,
                                         calx_from_col(nd->link,
                                                       lt->columns[nd->ri.link_remote].name)),
                              CALX_JOIN_LEFT);
        break;
    }
    }
    if (nd->ri.order_field >= 0)
        calx_select_order_by(x, side(p, k, t, (size_t)nd->ri.order_field),
                             nd->ri.order_desc ? CALX_DESC : CALX_ASC);
}

/* The object of model m in the row's columns from first on, or NULL when
 * its key is all NULL (the outer join's missing side). */
static int entity(calx_session *s, const calx_model *m, const calx_value *vals, bool populate,
                  calx_obj **out, calx_error *err)
{
    bool any = false;
    for (size_t i = 0; i < m->nfields && !any; i++)
        any = m->table.columns[i].primary_key && vals[i].type != CALX_NULL;
    *out = NULL;
    return any ? calx__load_row(s, m, vals, populate, out, err) : 0;
}

/* One row of node nd: the target to its parent, when this query fills
 * the parent's relationship (the first row meeting a parent decides). */
static int take(jnode *nd, calx_obj *parent, bool reload, calx_error *err)
{
    if (!parent)
        return 0;
    const calx_relation *r = nd->ri.rel;
    bool added, filling;
    if (calx__ptrset_add(&nd->seen, parent, &added))
        return calx__nomem(err, "joining %s.%s",
                              r->owner->name, r->name);
    if (added && calx__rel_wanted(parent, r, reload)) {
        calx__rel_unload(parent, nd->ri.index);
        if (calx__ptrset_add(&nd->filling, parent, &filling) ||
            calx__objvec_push(&nd->fill, parent))
            return calx__nomem(err, "joining %s.%s",
                                  r->owner->name, r->name);
    }
    if (!nd->row || !calx__ptrset_has(&nd->filling, parent))
        return 0;
    if (calx__rel_is_list(r) && calx__rel_list_has(parent, r, calx__obj_ptr(nd->row)))
        return 0;
    return calx__rel_attach(parent, &nd->ri, nd->row, err);
}

/* One row's objects: the query's entity into out (once, whatever rows
 * repeat it; roots holds those taken), each node's target into its
 * parent's relationship. vals holds the row's columns. */
static int take_row(calx_session *s, const calx_model *m, const calx_value *vals, jplan *p,
                    bool reload, calx__ptrset *roots, calx_objlist *out, calx_error *err)
{
    calx_obj *root;
    bool added;
    int rc = calx__load_row(s, m, vals, reload, &root, err);
    if (!rc && calx__ptrset_add(roots, root, &added))
        rc = calx__nomem(err, "running a joined query");
    if (!rc && added) {
        if (!calx__grow(&out->items, &out->cap, out->n + 1, sizeof *out->items))
            rc = calx__nomem(err, "running a query");
        else
            out->items[out->n++] = calx__obj_ptr(root);
    }
    for (size_t k = 0; k < p->n && !rc; k++) {
        jnode *nd = &p->nodes[k];
        rc = entity(s, nd->ri.rel->target, vals + nd->first, reload, &nd->row, err);
        if (!rc)
            rc = take(nd, nd->parent < 0 ? root : p->nodes[nd->parent].row, reload, err);
    }
    return rc;
}

/* Whether each relationship p joins gives one target at most: a get's
 * rows are then one at most, which the driver may read at once. */
static bool joins_to_one(const jplan *p)
{
    for (size_t k = 0; k < p->n; k++) {
        calx_relkind kind = p->nodes[k].ri.rel->kind;
        if (kind != CALX_MANY_TO_ONE && kind != CALX_ONE_TO_ONE)
            return false;
    }
    return true;
}

/* A get's joined row read at once where the driver can
 * (calx__get_read_now): *done false when it could not, and nothing
 * happened. */
static int run_now(calx_session *s, calx_connection *conn, const calx_model *m,
                   const calx__memo_text *text, bool kept, const calx_params *prm, jplan *p,
                   bool reload, calx__ptrset *roots, calx_objlist *out, bool *done,
                   calx_error *err)
{
    *done = false;
    size_t width = m->nfields;
    for (size_t k = 0; k < p->n; k++)
        if (p->nodes[k].first + p->nodes[k].ri.rel->target->nfields > width)
            width = p->nodes[k].first + p->nodes[k].ri.rel->target->nfields;
    if (width > CALX__GET_NOW_COLUMNS || !joins_to_one(p))
        return 0;
    calx_value row[CALX__GET_NOW_COLUMNS];
    char bytes[CALX__GET_NOW_BYTES];
    bool found;
    int rc = calx__get_read_now(conn, text, kept, prm, width, row, bytes, done, &found, err);
    return rc || !found ? rc : take_row(s, m, row, p, reload, roots, out, err);
}

/* Runs text (sql with its parameters and what they meet; kept: a text
 * the engine keeps, its plan found by address) and makes its rows'
 * objects (take_row). get: the query is a get by key, whose rows are one
 * at most when every relationship it joins is to-one. */
static int run(calx_session *s, const calx_model *m, const calx__memo_text *text, bool kept,
               const calx_params *prm, jplan *p, bool reload, bool get, calx_objlist *out,
               calx_error *err)
{
    calx_result *res = NULL;
    calx_connection *conn = NULL;
    calx__ptrset roots = { 0 };
    bool bulk = s->bulk_load, done = false;
    int rc = calx__session_read_conn(s, &conn, err);
    if (!rc && get)
        rc = run_now(s, conn, m, text, kept, prm, p, reload, &roots, out, &done, err);
    if (!rc && !done) {
        rc = calx_await(kept ? calx__conn_execute_kept(conn, text->sql, prm, text->types, err)
                             : calx__conn_execute_typed(conn, text->sql, prm, text->types, err),
                        &res, err);
        size_t nrows = rc ? 0 : calx_result_nrows(res);
        if (!rc)
            bulk = calx__load_begin(s, res);
        for (size_t i = 0; i < nrows && !rc; i++)
            rc = take_row(s, m, calx_row_value(calx_result_row(res, i), 0), p, reload, &roots,
                          out, err);
    }
    for (size_t k = 0; k < p->n && !rc; k++)
        for (size_t j = 0; j < p->nodes[k].fill.n && !rc; j++)
            rc = calx__rel_finish(p->nodes[k].fill.v[j], p->nodes[k].ri.rel, err);
    for (size_t k = 0; k < p->n && rc; k++)   /* half a load is not a load */
        for (size_t j = 0; j < p->nodes[k].fill.n; j++)
            calx__rel_unload(p->nodes[k].fill.v[j], p->nodes[k].ri.index);
    calx__load_end(s, bulk);
    calx__ptrset_free(&roots);
    calx_result_free(res);
    return rc;
}

int calx__rel_joined_query(calx_session *s, const calx_select *q, const calx_exec_opts *opts,
                           bool *done, calx_objlist *out, calx_error *err)
{
    *done = false;
    const calx_table *t = calx_select_table(q);
    const calx_model *m = t ? t->model : NULL;
    if (!m || calx_select_error(q, NULL))
        return 0;     /* the plain path reports it */
    jplan p = { .n = 0 };
    int rc = plan_query(&p, opts, m, err);
    if (rc || !p.n)
        return rc;
    *done = true;
    calx_select *x = calx__select_extend(q);
    for (size_t k = 0; x && k < p.n; k++)
        extend(&p, (int)k, x);
    rc = x ? calx_select_error(x, err)
           : calx__nomem(err, "extending a select");
    calx_compiled c = { 0 };
    if (!rc)
        rc = calx__select_compile(x, s->dialect, 0, &c, err);
    if (!rc) {
        calx_params prm = { c.params, c.nparams };
        rc = run(s, m, &(calx__memo_text){ c.sql, c.types }, false, &prm, &p,
                 opts && opts->populate_existing, false, out, err);
    }
    calx__compiled_free(&c);
    calx_select_free(x);
    plan_free(&p);
    return rc;
}

/* The set of m's relationships p joins (bit i: m->relations[i]) when
 * each joins from m itself, else 0: a deeper plan's text is not kept. */
static uint64_t flat_mask(const jplan *p, const calx_model *m)
{
    uint64_t mask = 0;
    for (size_t k = 0; k < p->n; k++) {
        size_t i = p->nodes[k].ri.index;
        if (p->nodes[k].parent >= 0 || i >= 64 || p->nodes[k].ri.rel != &m->relations[i])
            return 0;
        mask |= UINT64_C(1) << i;
    }
    return mask;
}

/* Where each node's columns start in the rows of a get's text kept by the
 * engine, as extend placed them: after m's, each target's in turn. */
static void layout(jplan *p, const calx_model *m)
{
    size_t at = m->table.ncolumns;
    for (size_t k = 0; k < p->n; k++) {
        p->nodes[k].first = at;
        at += p->nodes[k].ri.rel->target->table.ncolumns;
    }
}

int calx__rel_joined_get(calx_session *s, const calx_model *m, const calx_param *key,
                         size_t nkey, const calx_exec_opts *opts, bool *done, calx_obj **got,
                         calx_error *err)
{
    *done = false;
    *got = NULL;
    jplan p = { .n = 0 };
    int rc = plan_query(&p, opts, m, err);
    if (rc || !p.n)
        return rc;
    *done = true;
    /* A web handler's "a hero with its team": its text is made once per
     * engine, as a plain get's (compiling it was a fifth of the hero
     * service's CPU a GET). */
    uint64_t mask = flat_mask(&p, m);
    const calx__memo_text *found =
        mask ? calx__engine_memo_find(s->opts.bind, m, CALX__MEMO_GET_JOINED, mask) : NULL;
    calx__memo_text text = found ? *found : (calx__memo_text){ 0 };
    bool kept = found != NULL;
    if (kept) {
        layout(&p, m);
    } else {
        calx_select *x = calx__get_select(m);
        for (size_t k = 0; x && k < p.n; k++)
            extend(&p, (int)k, x);
        rc = x ? calx_select_error(x, err) : calx__nomem(err, "extending a select");
        if (rc) {
            calx_select_free(x);
        } else if (mask) {
            rc = calx__memo_select(s, m, CALX__MEMO_GET_JOINED, mask, 0, x, &text, &kept, err);
        } else {
            calx_compiled c = { 0 };
            rc = calx__select_compile(x, s->dialect, 0, &c, err);
            calx_select_free(x);
            text = (calx__memo_text){ c.sql, c.types };
            c.sql = NULL;
            c.types = NULL;
            calx__compiled_free(&c);
        }
    }
    calx_objlist l = { 0 };
    if (!rc) {
        calx_params prm = { key, nkey };
        rc = run(s, m, &text, kept, &prm, &p, opts && opts->populate_existing, true, &l, err);
    }
    if (!rc && l.n)
        *got = calx__obj_hdr(l.items[0]);
    calx_objlist_free(&l);
    if (!kept) {
        free(text.sql);
        free(text.types);
    }
    plan_free(&p);
    return rc;
}
