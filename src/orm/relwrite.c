/* SPDX-License-Identifier: MIT */
/* Writing through relationships: what the unit of work makes of the
 * relationship members the program set. The flush (flush.c) runs these
 * passes before it plans statements; calx_session_add runs the first.
 *  - save-update: objects a relationship reaches join the session of the
 *    object that reaches them (ownership moves, as calx_session_add moves it);
 *  - the foreign-key sync: a many-to-one's key field follows its member, a
 *    collection's items take the parent's key, an item that left the
 *    collection loses it (or is deleted: delete-orphan), and each
 *    many-to-many pair added or removed becomes a link-model object to
 *    INSERT or DELETE;
 *  - after the flush, what the members hold becomes the database state the
 *    next flush compares with (calx__rel_remember).
 * Members are compared by pointer with that database state
 * (calx__relstate), never with the snapshot, which holds fields only. A key
 * the database has not made yet (a pending parent's) cannot be copied: the
 * sync lists who waits for whom, and the flush sends the parents in an
 * earlier round, then syncs again. */
#include <stdlib.h>
#include <string.h>

#include "core/nomem.h"
#include "orm/relation.h"
#include "orm/session_int.h"

/* Whether the flush writes through relationship i of o: not viewonly, and
 * loaded (a many-to-one the program set while it was unloaded counts:
 * the program said what it holds). */
static bool usable(const calx_obj *o, size_t i)
{
    const calx_relation *r = &o->model->relations[i];
    if (r->viewonly)
        return false;
    return calx__rel_loaded(o, i) ||
           (r->kind == CALX_MANY_TO_ONE && calx__rel_one_get(o, r) != NULL);
}

/* What relationship r of o holds now, as an array (a scalar's one target
 * is an array of one, in *one). */
static void members(const calx_obj *o, const calx_relation *r, void ***items, size_t *n,
                    void **one)
{
    if (calx__rel_is_list(r)) {
        calx__list l;
        calx__rel_list_get(o, r, &l);
        *items = l.items;
        *n = l.n;
    } else {
        *one = calx__rel_one_get(o, r);
        *items = one;
        *n = *one != NULL;
    }
}

/* Each member of relationship r of o is an object of r's target: a
 * pointer assigned directly (hero->team = (Team *)mission) is checked
 * here, before the flush writes anything through it. */
static int check_members(const calx_obj *o, const calx_relation *r, calx_error *err)
{
    void **items, *one;
    size_t n;
    members(o, r, &items, &n, &one);
    for (size_t k = 0; k < n; k++) {
        calx_obj *t = calx__obj_check(items[k]);
        if (!t || t->model != r->target)
            return calx_error_set(err, CALX_ERR_ARGUMENT, "%s.%s holds %s objects, not %s",
                                  o->model->name, r->name, r->target->name,
                                  t ? t->model->name : "a non-model pointer");
    }
    return 0;
}

/* ---- save-update ---- */

/* Cascades save-update from x's relationships: each member not in s is
 * added to it and pushed on work, whose members are walked in turn. */
static int cascade_from(calx_session *s, calx_obj *x, calx_objvec *work, calx_error *err)
{
    for (size_t i = 0; i < x->model->nrelations; i++) {
        const calx_relation *r = &x->model->relations[i];
        calx__relinfo ri;
        if (!usable(x, i))
            continue;
        void **items, *one;
        size_t n;
        members(x, r, &items, &n, &one);
        /* Nothing to cascade to: a new object's empty relationships, an
         * unset many-to-one (B1's heroes, added by the 100,000). */
        if (n == 0)
            continue;
        if (calx__rel_resolve(r, &ri, err) || check_members(x, r, err))
            return err->code;
        if (!(ri.cascade & CALX__CASCADE_SAVE_UPDATE))
            continue;
        for (size_t k = 0; k < n; k++) {
            calx_obj *t = calx__obj_check(items[k]);
            if (!t || calx__obj_session(t) == s)
                continue;
            if (calx__obj_session(t))
                return calx_error_set(err, CALX_ERR_STATE,
                                      "Object '%s' reached through %s.%s is already attached "
                                      "to another session",
                                      t->model->name, x->model->name, r->name);
            int rc = calx__session_add_obj(s, t, err);
            if (rc)
                return rc;
            if (calx__objvec_push(work, t))
                return calx__nomem(err, NULL);
        }
    }
    return 0;
}

int calx__relwrite_cascade(calx_session *s, calx_obj *o, calx_error *err)
{
    if (!o->model->nrelations)
        return 0;
    /* A work list, not recursion: a chain of objects may be long. Only
     * objects added here go on it; one already in s stops the walk (the
     * flush's own pass starts from every object in s). The list is made
     * only when o reaches an object outside s: add and every flush run
     * this for each object, and most reach none. */
    calx_objvec work = { 0 };
    int rc = cascade_from(s, o, &work, err);
    while (!rc && work.n)
        rc = cascade_from(s, work.v[--work.n], &work, err);
    calx__objvec_free(&work);
    return rc;
}

static bool differs(const calx_obj *o, size_t i);

/* Whether the flush's relationship passes have anything to do with o: a
 * relationship it writes through (usable) that holds something now or
 * held something in the database (differs), or a delete-orphan removal
 * (orphan). Most objects of a bulk insert or update have none: their
 * relationships are unloaded, or (new objects) loaded and empty. */
static bool writes_through_relations(const calx_obj *o)
{
    if (o->orphan)
        return true;
    for (size_t k = 0; k < o->model->nrelations; k++) {
        if (!usable(o, k))
            continue;
        void **items, *one;
        size_t n;
        members(o, &o->model->relations[k], &items, &n, &one);
        if (n || differs(o, k))
            return true;
    }
    return false;
}

/* The objects of s the relationship passes work on (pending ones, then
 * the identity map's): those with relationships that they write through. */
static int gather(calx_session *s, calx_objvec *out, calx_error *err)
{
    if (!s->has_relations)
        return 0;
    for (size_t i = 0; i < s->pending.n; i++)
        if (s->pending.v[i]->model->nrelations && writes_through_relations(s->pending.v[i]) &&
            calx__objvec_push(out, s->pending.v[i]))
            return calx__nomem(err, NULL);
    for (size_t i = 0; i < s->map_used; i++) {
        calx_obj *o = s->map_objs[i];
        if (o && o->model->nrelations && writes_through_relations(o) && calx__objvec_push(out, o))
            return calx__nomem(err, NULL);
    }
    return 0;
}

int calx__relwrite_prepare(calx_session *s, bool *found, calx_error *err)
{
    calx_objvec all = { 0 };
    int rc = gather(s, &all, err);
    *found = all.n > 0;
    for (size_t i = 0; !rc && i < all.n; i++)
        if (!all.v[i]->delete_marked)
            rc = calx__relwrite_cascade(s, all.v[i], err);
    calx__objvec_free(&all);
    return rc;
}

/* ---- keys ---- */

/* Whether field f of t holds its final value: not a key the database has
 * still to make for a pending t. */
static bool key_known(const calx_obj *t, size_t f)
{
    return t->state != CALX_OBJ_PENDING || (int)f != calx__model_autoinc(t->model) ||
           !calx__field_is_null(&t->model->fields[f], calx__obj_ptr(t));
}

/* o.fields[f] := v, only when it differs (an equal write would make a
 * needless UPDATE no more than it changes the field). */
static int put_key(calx_obj *o, size_t f, const calx_value *v, calx_error *err)
{
    calx_value cur = calx__field_value(o->model, &o->model->fields[f], calx__obj_ptr(o));
    return calx__value_eq(&cur, v) ? 0 : calx__obj_set_field(o, f, v, err);
}

static int put_null(calx_obj *o, size_t f, calx_error *err)
{
    calx_value null = calx_null();
    return put_key(o, f, &null, err);
}

static int wait_for(calx__relwaits *w, calx_obj *o, size_t f, calx_obj *t,
                    const calx_relation *r, calx_error *err)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 8;
        calx__relwait *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return calx__nomem(err, NULL);
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (calx__relwait){ o, f, t, r };
    return 0;
}

/* o.fields[of] := t.fields[tf], or o waits for t's key. */
static int copy_key(calx__relwaits *w, const calx_relation *r, calx_obj *o, size_t of,
                    calx_obj *t, size_t tf, calx_error *err)
{
    if (!key_known(t, tf))
        return wait_for(w, o, of, t, r, err);
    calx_value v = calx__field_value(t->model, &t->model->fields[tf], calx__obj_ptr(t));
    return put_key(o, of, &v, err);
}

/* Whether the flush writes to o: in s and not being deleted. */
static bool writable_in(const calx_obj *o, const calx_session *s)
{
    return o && calx__obj_session(o) == s && !o->delete_marked &&
           (o->state == CALX_OBJ_PENDING || o->state == CALX_OBJ_PERSISTENT);
}

/* ---- orphans ---- */

/* A child no parent holds any more, in a delete-orphan relationship: a
 * persistent one is deleted; a pending one never goes in (it leaves the
 * session, still owned by it, as SQLAlchemy expunges a pending orphan). */
static int orphaned(calx_session *s, calx_obj *c, calx_error *err)
{
    if (c->state == CALX_OBJ_PENDING) {
        calx__session_detach(s, c);
        return 0;
    }
    return calx__session_delete_obj(s, c, err);
}

/* Whether o has a parent through a many-to-one whose other side is a
 * delete-orphan collection. */
static bool has_parent(const calx_obj *o)
{
    for (size_t i = 0; i < o->model->nrelations; i++) {
        const calx_relation *r = &o->model->relations[i];
        if (r->kind == CALX_MANY_TO_ONE && calx__rel_one_get(o, r))
            return true;
    }
    return false;
}

/* Child c left relationship ri of parent p (it was there in the database
 * state): its key goes NULL, or with delete-orphan, c goes. Not when c has
 * a new parent through the many-to-one that pairs with ri (the sync sets
 * that one's key). */
static int left(calx_session *s, calx_obj *p, const calx__relinfo *ri, calx_obj *c,
                calx_error *err)
{
    if (!writable_in(c, s))
        return 0;
    if (ri->back && !calx__rel_is_list(ri->back)) {
        void *now = calx__rel_one_get(c, ri->back);
        if (now && now != calx__obj_ptr(p))
            return 0;
    }
    if (ri->cascade & CALX__CASCADE_DELETE_ORPHAN)
        return orphaned(s, c, err);
    return put_null(c, ri->remote, err);
}

/* ---- many-to-many link objects ---- */

/* The link model's primary key for the pair (o, t) of ri, in key column
 * order; 0 when a side has no key yet or the link's key is not the two
 * foreign keys. Texts point into the objects. */
static size_t link_key(const calx__relinfo *ri, const calx_obj *o, const calx_obj *t,
                       calx_value *key)
{
    const calx_model *lm = ri->rel->link;
    size_t n = 0;
    for (size_t j = 0; j < lm->nfields; j++) {
        if (!lm->table.columns[j].primary_key)
            continue;
        const calx_obj *side = j == ri->link_local ? o : j == ri->link_remote ? t : NULL;
        size_t f = j == ri->link_local ? ri->local : ri->remote;
        if (!side || n == 8)
            return 0;
        key[n] = calx__field_value(side->model, &side->model->fields[f], calx__obj_ptr(side));
        if (key[n].type == CALX_NULL)
            return 0;
        n++;
    }
    return n;
}

/* A new link object for (o, t): the link model's defaults (its own
 * fields, such as is_leader, as CALX_NEW would make them) and the two
 * keys. Owned by the caller; NULL with err. */
static calx_obj *make_link(const calx__relinfo *ri, const calx_obj *o, const calx_obj *t,
                           calx_error *err)
{
    const calx_model *lm = ri->rel->link;
    void *args = calloc(1, lm->args_size ? lm->args_size : 1);
    if (!args)
        return calx__nomem(err, NULL), NULL;
    lm->fill_defaults(args);
    void *obj = calx_model_new(lm, args, err);
    free(args);
    calx_obj *l = obj ? calx__obj_check(obj) : NULL;
    calx_value a = calx__field_value(o->model, &o->model->fields[ri->local], calx__obj_ptr(o));
    calx_value b = calx__field_value(t->model, &t->model->fields[ri->remote], calx__obj_ptr(t));
    if (l && (calx__obj_set_field(l, ri->link_local, &a, err) ||
              calx__obj_set_field(l, ri->link_remote, &b, err))) {
        calx__obj_destroy(l);
        return NULL;
    }
    return l;
}

static bool key_is(const calx_obj *l, const calx_value *key, size_t n)
{
    calx_value k[CALX__MAX_KEY];
    if (calx__obj_key(l, calx__obj_ptr(l), k) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!calx__value_eq(&k[i], &key[i]))
            return false;
    return true;
}

/* The link object of the pair (o, t) of ri in the identity map, or NULL;
 * key and *n are the pair's key (*n 0: a side has no key yet). */
static calx_obj *mapped_link(calx_session *s, const calx__relinfo *ri, const calx_obj *o,
                             const calx_obj *t, calx_value *key, size_t *n)
{
    *n = link_key(ri, o, t, key);
    return *n ? calx__map_find(s, ri->rel->link, key, *n) : NULL;
}

/* The pair (o, t) was added to ri: its link row goes in, unless a link
 * object for it is there already (the other side's pass made it, or the
 * program added one). One marked for delete in this flush stays. */
static int link_pair(calx_session *s, const calx__relinfo *ri, calx_obj *o, calx_obj *t,
                     calx_error *err)
{
    calx_value key[CALX__MAX_KEY];
    size_t n;
    calx_obj *l = mapped_link(s, ri, o, t, key, &n);
    if (!n)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "%s.%s: the link model %s's primary key must be its two foreign "
                              "keys",
                              o->model->name, ri->rel->name, ri->rel->link->name);
    if (l) {
        if (l->delete_marked) {
            l->delete_marked = false;
            calx__objvec_remove(&s->deleting, l);
        }
        return 0;
    }
    for (size_t i = 0; i < s->pending.n; i++)
        if (s->pending.v[i]->model == ri->rel->link && key_is(s->pending.v[i], key, n))
            return 0;
    l = make_link(ri, o, t, err);
    if (!l)
        return err->code;
    int rc = calx__session_add_obj(s, l, err);
    if (rc)
        calx__obj_destroy(l);
    return rc;
}

/* The pair (o, t) was removed from ri (or o deleted, cascade.c): its
 * link row goes. The link object is the identity map's, or a stub made from the key (its other fields
 * the defaults), attached as persistent so the flush DELETEs it by key. */
int calx__relwrite_unlink(calx_session *s, const calx__relinfo *ri, calx_obj *o, calx_obj *t,
                          calx_error *err)
{
    calx_value key[CALX__MAX_KEY];
    size_t n;
    calx_obj *l = mapped_link(s, ri, o, t, key, &n);
    if (!n)
        return 0; /* a side never had a row: no link row either */
    if (!l) {
        l = make_link(ri, o, t, err);
        if (!l)
            return err->code;
        if (calx__obj_take_snapshot(l, err)) {
            calx__obj_destroy(l);
            return err->code;
        }
        /* Attached as a detached object is: persistent, in the map. */
        l->state = CALX_OBJ_DETACHED;
        if (calx__session_add_obj(s, l, err)) {
            calx__obj_destroy(l);
            return err->code;
        }
    }
    return calx__session_delete_obj(s, l, err);
}

/* ---- the sync ---- */

/* Pass 1: what left a collection (or a one-to-one) since the database
 * state: keys NULL, orphans deleted, link rows deleted. */
static int removals(calx_session *s, calx_obj *o, const calx__relinfo *ri, calx_error *err)
{
    const calx_relation *r = ri->rel;
    calx__relstate *st = o->rels ? &o->rels[ri->index] : NULL;
    if (!st || r->kind == CALX_MANY_TO_ONE)
        return 0;
    if (r->kind == CALX_ONE_TO_ONE) {
        void *now = calx__rel_one_get(o, r);
        return st->one && st->one != now ? left(s, o, ri, calx__obj_check(st->one), err) : 0;
    }
    for (size_t k = 0; k < st->n; k++) {
        if (calx__rel_list_has(o, r, st->items[k]))
            continue;
        calx_obj *c = calx__obj_check(st->items[k]);
        int rc = r->kind == CALX_ONE_TO_MANY ? left(s, o, ri, c, err)
                 : c                         ? calx__relwrite_unlink(s, ri, o, c, err)
                                             : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* Pass 2: a collection's (or a one-to-one's) items take o's key; pairs
 * added to a many-to-many get their link objects. */
static int additions(calx_session *s, calx__relwaits *w, calx_obj *o, const calx__relinfo *ri,
                     calx_error *err)
{
    const calx_relation *r = ri->rel;
    if (r->kind == CALX_MANY_TO_ONE)
        return 0;
    calx__relstate *st = o->rels ? &o->rels[ri->index] : NULL;
    void **items, *one;
    size_t n;
    members(o, r, &items, &n, &one);
    for (size_t k = 0; k < n; k++) {
        calx_obj *c = calx__obj_check(items[k]);
        if (!writable_in(c, s))
            continue;
        int rc = 0;
        if (r->kind != CALX_MANY_TO_MANY) {
            rc = copy_key(w, r, c, ri->remote, o, ri->local, err);
        } else {
            bool had = false;
            for (size_t j = 0; st && j < st->n && !had; j++)
                had = st->items[j] == items[k];
            if (had)
                continue;
            if (!key_known(o, ri->local))
                rc = wait_for(w, NULL, 0, o, r, err);
            else if (!key_known(c, ri->remote))
                rc = wait_for(w, NULL, 0, c, r, err);
            else
                rc = link_pair(s, ri, o, c, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Pass 3: a many-to-one whose member is not what the database has sets
 * its key from the member (NULL for none). Last, so that it wins over a
 * collection that still holds o. */
static int many_to_one(calx_session *s, calx__relwaits *w, calx_obj *o, const calx__relinfo *ri,
                       calx_error *err)
{
    const calx_relation *r = ri->rel;
    if (r->kind != CALX_MANY_TO_ONE)
        return 0;
    void *now = calx__rel_one_get(o, r);
    const calx__relstate *st = o->rels ? &o->rels[ri->index] : NULL;
    if (now == (st ? st->one : NULL) && !(st && st->unknown))
        return 0;
    if (!now)
        return put_null(o, ri->local, err);
    calx_obj *t = calx__obj_check(now);
    /* A target outside s is not flushed (no save-update): its key is not
     * the database's to know. */
    if (calx__obj_session(t) != s)
        return 0;
    return copy_key(w, r, o, ri->local, t, ri->remote, err);
}

typedef int (*pass_fn)(calx_session *s, calx__relwaits *w, calx_obj *o, const calx__relinfo *ri,
                       calx_error *err);

static int removals_pass(calx_session *s, calx__relwaits *w, calx_obj *o,
                         const calx__relinfo *ri, calx_error *err)
{
    (void)w;
    return removals(s, o, ri, err);
}

static int run_pass(calx_session *s, const calx_objvec *all, calx__relwaits *w, pass_fn fn,
                    calx_error *err)
{
    for (size_t i = 0; i < all->n; i++) {
        calx_obj *o = all->v[i];
        if (!writable_in(o, s))
            continue;
        for (size_t k = 0; k < o->model->nrelations; k++) {
            calx__relinfo ri;
            if (!usable(o, k))
                continue;
            if (calx__rel_resolve(&o->model->relations[k], &ri, err) ||
                check_members(o, ri.rel, err) || fn(s, w, o, &ri, err))
                return err->code;
        }
    }
    return 0;
}

int calx__relwrite_sync(calx_session *s, calx__relwaits *w, calx_error *err)
{
    w->n = 0;
    calx_objvec all = { 0 };
    int rc = gather(s, &all, err);
    if (!rc)
        rc = run_pass(s, &all, w, removals_pass, err);
    /* Removed from a delete-orphan collection that is no longer loaded
     * (calx_rel_remove marked it), and given no parent since. */
    for (size_t i = 0; !rc && i < all.n; i++) {
        calx_obj *o = all.v[i];
        if (o->orphan && writable_in(o, s) && o->state == CALX_OBJ_PERSISTENT && !has_parent(o))
            rc = orphaned(s, o, err);
    }
    if (!rc)
        rc = run_pass(s, &all, w, additions, err);
    if (!rc)
        rc = run_pass(s, &all, w, many_to_one, err);
    calx__objvec_free(&all);
    return rc;
}

/* ---- before and after ---- */

static bool differs(const calx_obj *o, size_t i)
{
    const calx_relation *r = &o->model->relations[i];
    const calx__relstate *st = o->rels ? &o->rels[i] : NULL;
    if (st && st->unknown)
        return true;
    if (!calx__rel_is_list(r))
        return calx__rel_one_get(o, r) != (st ? st->one : NULL);
    calx__list l;
    calx__rel_list_get(o, r, &l);
    if (l.n != (st ? st->n : 0))
        return true;
    return l.n && memcmp(l.items, st->items, l.n * sizeof *l.items) != 0;
}

bool calx__relwrite_changed(const calx_session *s)
{
    for (size_t i = 0; s->has_relations && i < s->map_used; i++) {
        const calx_obj *o = s->map_objs[i];
        if (!o || !o->model->nrelations)
            continue;
        if (o->orphan)
            return true;
        for (size_t k = 0; k < o->model->nrelations; k++)
            if (usable(o, k) && differs(o, k))
                return true;
    }
    return false;
}

int calx__relwrite_flushed(calx_session *s, calx_error *err)
{
    for (size_t i = 0; s->has_relations && i < s->map_used; i++) {
        calx_obj *o = s->map_objs[i];
        if (!o || !o->model->nrelations)
            continue;
        o->orphan = false;
        for (size_t k = 0; k < o->model->nrelations; k++) {
            if (!usable(o, k) || !differs(o, k))
                continue;
            /* A many-to-one set while unloaded is loaded now: the program
             * said what it holds, and the database has that. */
            calx__rel_mark_loaded(o, k);
            if (calx__rel_remember(o, k, err))
                return err->code;
            o->rels[k].unknown = false;
        }
    }
    return 0;
}
