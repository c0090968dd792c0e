/* SPDX-License-Identifier: MIT */
/* Relationships: finding a declared relationship, resolving it to the
 * fields that join its sides (the foreign key inferred as SQLAlchemy
 * infers it, back_populates and cascade checked), each object's
 * relationship state (loaded or not; what the database has), and the
 * program's write helpers, which keep back_populates' side in step.
 *
 * Collection members are CALX_LIST(Target): an items array the object owns
 * and a count. They are read and written here as bytes (calx__list), so no
 * code reads one struct type through another. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blocks.h"
#include "core/grow.h"
#include "core/once_table.h"
#include "core/nomem.h"
#include "orm/relation.h"
#include "orm/session_int.h"
#include "sql/ddl.h"

/* ---- finding ---- */

const calx_relation *calx_model_relation_at(const calx_model *m, size_t off)
{
    for (size_t i = 0; m && i < m->nrelations; i++)
        if (m->relations[i].offset == off)
            return &m->relations[i];
    return NULL;
}

const calx_relation *calx_model_relation(const calx_model *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->nrelations; i++)
        if (strcmp(m->relations[i].name, name) == 0)
            return &m->relations[i];
    return NULL;
}

/* ---- resolving ---- */

static int field_named(const calx_model *m, const char *name, size_t len)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (strlen(m->fields[i].name) == len && strncmp(m->fields[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* The one field of `holder` with a foreign key to table `to`, or the one
 * r->foreign_key names ("holder_table.column"); *ref is the referenced
 * field of model `tom`. */
static int find_fk(const calx_relation *r, const calx_model *holder, const calx_model *tom,
                   size_t *field, size_t *ref, calx_error *err)
{
    const char *to = tom->table.name;
    const char *hname = holder->table.name;
    int found = -1, count = 0;
    char names[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < holder->nfields; i++) {
        const calx_column *c = &holder->table.columns[i];
        if (!calx__fk_to(c, to, NULL))
            continue;
        if (r->foreign_key) {
            size_t hl = strlen(hname);
            if (strncmp(r->foreign_key, hname, hl) != 0 || r->foreign_key[hl] != '.' ||
                strcmp(r->foreign_key + hl + 1, c->name) != 0)
                continue;
        }
        count++;
        found = (int)i;
        if (used < sizeof names)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s.%s",
                                     used ? ", " : "", hname, c->name);
    }
    if (count == 0) {
        if (r->foreign_key)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "%s.%s: .foreign_key \"%s\" is not a column of %s with a "
                                  "foreign key to %s",
                                  r->owner->name, r->name, r->foreign_key, hname, to);
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s.%s: %s has no foreign key to %s; declare one on a field "
                              "(.foreign_key = \"%s.id\")",
                              r->owner->name, r->name, holder->name, to, to);
    }
    if (count > 1)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s.%s: %s has %d foreign keys to %s (%s); name one with "
                              ".foreign_key",
                              r->owner->name, r->name, holder->name, count, to, names);
    const char *col = NULL;
    calx__fk_to(&holder->table.columns[found], to, &col);
    int rf = field_named(tom, col, strlen(col));
    if (rf < 0)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s.%s: the foreign key %s.%s references %s.%s, which is not a "
                              "field of %s",
                              r->owner->name, r->name, hname, holder->fields[found].name, to, col,
                              tom->name);
    *field = (size_t)found;
    *ref = (size_t)rf;
    return 0;
}

static const struct {
    const char *word;
    unsigned bits;
} cascade_words[] = {
    { "save-update", CALX__CASCADE_SAVE_UPDATE },
    { "merge", CALX__CASCADE_MERGE },
    { "delete", CALX__CASCADE_DELETE },
    { "delete-orphan", CALX__CASCADE_DELETE_ORPHAN },
    { "refresh-expire", CALX__CASCADE_REFRESH_EXPIRE },
    { "expunge", CALX__CASCADE_EXPUNGE },
    { "all", CALX__CASCADE_SAVE_UPDATE | CALX__CASCADE_MERGE | CALX__CASCADE_DELETE |
                 CALX__CASCADE_REFRESH_EXPIRE | CALX__CASCADE_EXPUNGE },
    { "none", 0 },
};

static int parse_cascade(const calx_relation *r, unsigned *out, calx_error *err)
{
    if (!r->cascade) {
        *out = CALX__CASCADE_SAVE_UPDATE | CALX__CASCADE_MERGE;
        return 0;
    }
    unsigned bits = 0;
    for (const char *p = r->cascade; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        size_t k = 0, nw = sizeof cascade_words / sizeof cascade_words[0];
        while (k < nw && !(strlen(cascade_words[k].word) == n &&
                           strncmp(cascade_words[k].word, p, n) == 0))
            k++;
        if (k == nw)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "%s.%s: unknown cascade word '%.*s' (known: save-update, "
                                  "merge, delete, delete-orphan, refresh-expire, expunge, all, "
                                  "none)",
                                  r->owner->name, r->name, (int)n, p);
        bits |= cascade_words[k].bits;
        p += n;
    }
    if ((bits & CALX__CASCADE_DELETE_ORPHAN) && r->kind != CALX_ONE_TO_MANY &&
        r->kind != CALX_ONE_TO_ONE)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s.%s: delete-orphan needs a one-to-many or one-to-one "
                              "relationship (the children's foreign key says whose they are)",
                              r->owner->name, r->name);
    *out = bits;
    return 0;
}

static int parse_order(const calx_relation *r, calx__relinfo *out, calx_error *err)
{
    out->order_field = -1;
    out->order_desc = false;
    if (!r->order_by)
        return 0;
    const char *p = r->order_by;
    size_t n = strcspn(p, " ");
    int f = field_named(r->target, p, n);
    const char *rest = p + n;
    while (*rest == ' ')
        rest++;
    bool desc = strcmp(rest, "DESC") == 0 || strcmp(rest, "desc") == 0;
    bool asc = !*rest || strcmp(rest, "ASC") == 0 || strcmp(rest, "asc") == 0;
    if (f < 0 || !(desc || asc))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s.%s: order_by \"%s\" is not a field of %s, optionally "
                              "followed by ASC or DESC",
                              r->owner->name, r->name, r->order_by, r->target->name);
    out->order_field = f;
    out->order_desc = desc;
    return 0;
}

static bool kinds_pair(calx_relkind a, calx_relkind b)
{
    switch (a) {
    case CALX_MANY_TO_ONE: return b == CALX_ONE_TO_MANY || b == CALX_ONE_TO_ONE;
    case CALX_ONE_TO_MANY:
    case CALX_ONE_TO_ONE: return b == CALX_MANY_TO_ONE;
    case CALX_MANY_TO_MANY: return b == CALX_MANY_TO_MANY;
    }
    return false;
}

static int resolve(const calx_relation *r, calx__relinfo *out, calx_error *err)
{
    memset(out, 0, sizeof *out);
    out->rel = r;
    const calx_model *owner = r->owner, *target = r->target;
    if (!owner || !target)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "relationship %s has no owner or target",
                              r->name ? r->name : "(unnamed)");
    out->index = calx__rel_index(r);
    if (owner->nrelations > CALX__MAX_RELATIONS)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "%s declares %zu relationships; at most %d are supported",
                              owner->name, owner->nrelations, CALX__MAX_RELATIONS);
    int rc;
    switch (r->kind) {
    case CALX_MANY_TO_ONE:
        rc = find_fk(r, owner, target, &out->local, &out->remote, err);
        break;
    case CALX_ONE_TO_MANY:
    case CALX_ONE_TO_ONE:
        rc = find_fk(r, target, owner, &out->remote, &out->local, err);
        break;
    case CALX_MANY_TO_MANY:
        if (!r->link)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "%s.%s: a many-to-many relationship needs a link model "
                                  "(.link = &Link_model)",
                                  owner->name, r->name);
        if (owner == target)
            return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                                  "%s.%s: a self-referential many-to-many relationship is not "
                                  "supported yet",
                                  owner->name, r->name);
        rc = find_fk(r, r->link, owner, &out->link_local, &out->local, err);
        if (!rc)
            rc = find_fk(r, r->link, target, &out->link_remote, &out->remote, err);
        break;
    default:
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s.%s: unknown relationship kind %d",
                              owner->name, r->name, (int)r->kind);
    }
    if (rc)
        return rc;
    if (parse_cascade(r, &out->cascade, err) || parse_order(r, out, err))
        return err->code;
    if (r->back_populates) {
        const calx_relation *b = calx_model_relation(target, r->back_populates);
        if (!b)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "%s.%s: back_populates names '%s', which is not a "
                                  "relationship of %s",
                                  owner->name, r->name, r->back_populates, target->name);
        if (b->target != owner || !kinds_pair(r->kind, b->kind) ||
            (r->kind == CALX_MANY_TO_MANY && b->link != r->link) ||
            (b->back_populates && strcmp(b->back_populates, r->name) != 0))
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "%s.%s: back_populates names %s.%s, which does not point "
                                  "back at it",
                                  owner->name, r->name, target->name, b->name);
        out->back = b;
    }
    return 0;
}

/* Resolved relationships, by relation: a relationship is static data, so
 * its resolution never changes, and the flush and the loaders ask for it
 * per object (resolving each time cost the bench's B1 a third more
 * instructions). */
CALX_ONCE_TABLE(resolved, calx__relinfo, 1024);

int calx__rel_resolve(const calx_relation *r, calx__relinfo *out, calx_error *err)
{
    const calx__relinfo *kept = calx__once_find(&resolved, r);
    if (kept) {
        *out = *kept;
        return 0;
    }
    if (resolve(r, out, err))
        return err->code;
    calx__once_keep(&resolved, r, out);
    return 0;
}

/* ---- state ---- */

calx__relstate *calx__rel_states(calx_obj *o)
{
    if (o->rels || !o->model->nrelations)
        return o->rels;
    /* An object of a large load takes its states from its session's blocks,
     * as it took itself: a selectinload of 100,000 heroes remembers each
     * one's team, and as 100,000 callocs that was a quarter of the loop
     * thread's time (malloc's first touches of fresh pages). */
    size_t size = o->model->nrelations * sizeof *o->rels;
    calx_session *in = calx__obj_session(o);
    calx__blocks *b = o->in_block && in ? calx__session_blocks(in) : NULL;
    calx__relstate *st = b ? calx__blocks_alloc(b, size) : NULL;
    bool in_block = st != NULL;
    if (in_block)
        memset(st, 0, size);
    else if (!(st = calloc(o->model->nrelations, sizeof *st)))
        return NULL;
    o->rels = st;
    o->rels_in_block = in_block;
    return st;
}

void calx__rel_list_get(const calx_obj *o, const calx_relation *r, calx__list *out)
{
    memcpy(out, (const char *)calx__obj_ptr(o) + r->offset, sizeof *out);
}

void calx__rel_list_put(calx_obj *o, const calx_relation *r, const calx__list *l)
{
    memcpy((char *)calx__obj_ptr(o) + r->offset, l, sizeof *l);
}

void *calx__rel_one_get(const calx_obj *o, const calx_relation *r)
{
    void *p;
    memcpy(&p, (const char *)calx__obj_ptr(o) + r->offset, sizeof p);
    return p;
}

void calx__rel_one_put(calx_obj *o, const calx_relation *r, void *target)
{
    memcpy((char *)calx__obj_ptr(o) + r->offset, &target, sizeof target);
}

bool calx__rel_list_has(const calx_obj *o, const calx_relation *r, const void *item)
{
    calx__list l;
    calx__rel_list_get(o, r, &l);
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i] == item)
            return true;
    return false;
}

/* Room for one more item in the collection r of o. */
static int list_reserve(calx_obj *o, const calx_relation *r, calx_error *err)
{
    calx__relstate *st = calx__rel_states(o);
    if (!st)
        return calx__nomem(err, NULL);
    st += calx__rel_index(r);
    calx__list l;
    calx__rel_list_get(o, r, &l);
    if (!calx__grow(&l.items, &st->cap, l.n + 1, sizeof *l.items))
        return calx__nomem(err, NULL);
    calx__rel_list_put(o, r, &l);
    return 0;
}

int calx__rel_list_push(calx_obj *o, const calx_relation *r, void *item, calx_error *err)
{
    if (list_reserve(o, r, err))
        return err->code;
    calx__list l;
    calx__rel_list_get(o, r, &l);
    l.items[l.n++] = item;
    calx__rel_list_put(o, r, &l);
    return 0;
}

bool calx__rel_list_drop(calx_obj *o, const calx_relation *r, const void *item)
{
    calx__list l;
    calx__rel_list_get(o, r, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (l.items[i] != item)
            continue;
        memmove(&l.items[i], &l.items[i + 1], (l.n - i - 1) * sizeof *l.items);
        l.n--;
        calx__rel_list_put(o, r, &l);
        return true;
    }
    return false;
}

void calx__rel_mark_loaded(calx_obj *o, size_t index)
{
    o->rel_loaded |= UINT32_C(1) << index;
}

int calx__rel_remember(calx_obj *o, size_t index, calx_error *err)
{
    calx__relstate *st = calx__rel_states(o);
    if (!st)
        return calx__nomem(err, NULL);
    st += index;
    const calx_relation *r = &o->model->relations[index];
    if (!calx__rel_is_list(r)) {
        st->one = calx__rel_one_get(o, r);
        return 0;
    }
    calx__list l;
    calx__rel_list_get(o, r, &l);
    if (!calx__grow(&st->items, &st->items_cap, l.n ? l.n : 1, sizeof *st->items))
        return calx__nomem(err, NULL);
    if (l.n)
        memcpy(st->items, l.items, l.n * sizeof *l.items);
    st->n = l.n;
    return 0;
}

void calx__rel_unload(calx_obj *o, size_t index)
{
    const calx_relation *r = &o->model->relations[index];
    if (calx__rel_is_list(r)) {
        calx__list l;
        calx__rel_list_get(o, r, &l);
        /* The items array stays for the next load; only the count goes. */
        l.n = 0;
        calx__rel_list_put(o, r, &l);
    } else {
        calx__rel_one_put(o, r, NULL);
    }
    if (o->rels) {
        o->rels[index].one = NULL;
        o->rels[index].n = 0;
        o->rels[index].unknown = false;
        o->rels[index].raised = false;
    }
    o->rel_loaded &= ~(UINT32_C(1) << index);
}

void calx__rel_unload_all(calx_obj *o)
{
    for (size_t i = 0; i < o->model->nrelations; i++)
        calx__rel_unload(o, i);
}

void calx__rel_destroy(calx_obj *o)
{
    const calx_model *m = o->model;
    for (size_t i = 0; i < m->nrelations; i++) {
        if (!calx__rel_is_list(&m->relations[i]))
            continue;
        calx__list l;
        calx__rel_list_get(o, &m->relations[i], &l);
        free(l.items);
        if (o->rels)
            free(o->rels[i].items);
    }
    if (o->rels_in_block)
        calx__blocks_free(o->rels);
    else
        free(o->rels);
    o->rels = NULL;
    o->rels_in_block = false;
}

/* ---- the program's view ---- */

/* The header of obj when rel is one of its model's relationships. */
static calx_obj *owner_of(const void *obj, const calx_relation *rel)
{
    calx_obj *o = calx__obj_check(obj);
    if (!o || !rel || rel->owner != o->model)
        return NULL;
    return o;
}

bool calx_is_loaded(const void *obj, const calx_relation *rel)
{
    calx_obj *o = owner_of(obj, rel);
    return o && calx__rel_loaded(o, calx__rel_index(rel));
}

int calx_rel_check(const void *obj, const calx_relation *rel, calx_error *err)
{
    calx_obj *o = owner_of(obj, rel);
    if (!o)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_rel_check needs an object and one of its model's "
                              "relationships");
    if (calx__rel_loaded(o, calx__rel_index(rel)))
        return 0;
    if (rel->lazy == CALX_LOAD_RAISE || (o->rels && o->rels[calx__rel_index(rel)].raised))
        return calx_error_set(err, CALX_ERR_NOT_LOADED,
                              "'%s.%s' is not available due to lazy='raise'", o->model->name,
                              rel->name);
    return calx_error_set(err, CALX_ERR_NOT_LOADED,
                          "%s.%s is not loaded: load it with a loader option or "
                          "calx_session_load",
                          o->model->name, rel->name);
}

/* The checks the write helpers share: obj's relationship, of the kind the
 * helper takes, and an item of its target model. */
static calx_obj *writable(void *obj, const calx_relation *rel, bool list, void *item,
                          bool item_needed, calx_obj **io, const char *fn, calx_error *err)
{
    calx_obj *o = owner_of(obj, rel);
    if (!o)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s needs an object and one of its model's relationships", fn),
               NULL;
    if (calx__rel_is_list(rel) != list)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s.%s is %s: use %s", o->model->name,
                              rel->name, list ? "not a collection" : "a collection",
                              list ? "calx_rel_set" : "calx_rel_append / calx_rel_remove"),
               NULL;
    *io = NULL;
    if (!item) {
        if (item_needed)
            return calx_error_set(err, CALX_ERR_ARGUMENT, "%s: %s.%s needs an object, not NULL",
                                  fn, o->model->name, rel->name),
                   NULL;
        return o;
    }
    calx_obj *it = calx__obj_check(item);
    if (!it || it->model != rel->target)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s.%s holds %s objects, not %s",
                              o->model->name, rel->name, rel->target->name,
                              it ? it->model->name : "a non-model pointer"),
               NULL;
    *io = it;
    return o;
}

/* Adding to a collection that is not loaded would be lost at its next
 * load, and removing from it cannot be checked: the program loads first.
 * A new object's collections are loaded (empty). */
static int need_loaded(calx_obj *o, const calx_relation *rel, calx_error *err)
{
    if (calx__rel_loaded(o, calx__rel_index(rel)))
        return 0;
    return calx_error_set(err, CALX_ERR_NOT_LOADED,
                          "%s.%s is not loaded: load it (calx_session_load) before changing it",
                          o->model->name, rel->name);
}

/* back_populates' side of (o, rel) gains (add) or loses o for item it,
 * where that side is loaded. */
static int back_side(calx_obj *o, const calx_relation *rel, calx_obj *it, bool add,
                     calx_error *err)
{
    const calx_relation *b = rel->back_populates
                                 ? calx_model_relation(rel->target, rel->back_populates)
                                 : NULL;
    if (!b || !it)
        return 0;
    void *obj = calx__obj_ptr(o);
    size_t bi = calx__rel_index(b);
    if (!calx__rel_is_list(b)) {
        /* The other side is scalar: it points at obj, or at nothing. */
        if (add) {
            void *old = calx__rel_one_get(it, b);
            if (old && old != obj) {
                /* it moves: its old owner loses it (from a loaded
                 * collection, or as a one-to-one's target). */
                calx_obj *oo = calx__obj_check(old);
                if (oo && calx__rel_loaded(oo, calx__rel_index(rel))) {
                    if (calx__rel_is_list(rel))
                        calx__rel_list_drop(oo, rel, calx__obj_ptr(it));
                    else if (calx__rel_one_get(oo, rel) == calx__obj_ptr(it))
                        calx__rel_one_put(oo, rel, NULL);
                }
            }
            calx__rel_one_put(it, b, obj);
            calx__rel_mark_loaded(it, bi);
        } else if (calx__rel_one_get(it, b) == obj) {
            calx__rel_one_put(it, b, NULL);
        }
        return 0;
    }
    if (!calx__rel_loaded(it, bi))
        return 0;
    if (add)
        return calx__rel_list_has(it, b, obj) ? 0 : calx__rel_list_push(it, b, obj, err);
    calx__rel_list_drop(it, b, obj);
    return 0;
}

/* Makes room, before anything changes, for the one item back_side may
 * add to it's loaded back_populates collection: a helper that fails on
 * memory then leaves both sides as they were. */
static int reserve_back(const calx_relation *rel, calx_obj *it, calx_error *err)
{
    const calx_relation *b = rel->back_populates
                                 ? calx_model_relation(rel->target, rel->back_populates)
                                 : NULL;
    if (!b || !it || !calx__rel_is_list(b) || !calx__rel_loaded(it, calx__rel_index(b)))
        return 0;
    return list_reserve(it, b, err);
}

int calx_rel_set(void *obj, const calx_relation *rel, void *target, calx_error *err)
{
    calx_obj *t;
    calx_obj *o = writable(obj, rel, false, target, false, &t, "calx_rel_set", err);
    if (!o || reserve_back(rel, t, err))
        return err->code;
    size_t ri = calx__rel_index(rel);
    void *old = calx__rel_loaded(o, ri) ? calx__rel_one_get(o, rel) : NULL;
    if (old == target && calx__rel_loaded(o, ri))
        return 0;
    /* Set while unloaded, what the database has is not known: the flush
     * writes the key (NULL too), as SQLAlchemy does. The state is made
     * before anything changes. */
    calx__relstate *st = NULL;
    if (!calx__rel_loaded(o, ri) && !(st = calx__rel_states(o)))
        return calx__nomem(err, NULL);
    if (old) {
        calx_obj *oo = calx__obj_check(old);
        if (oo && back_side(o, rel, oo, false, err))
            return err->code;
    }
    if (st)
        st[ri].unknown = true;
    calx__rel_one_put(o, rel, target);
    calx__rel_mark_loaded(o, ri);
    /* back_side also takes a one-to-one's target from its old owner. */
    return t ? back_side(o, rel, t, true, err) : 0;
}

int calx_rel_append(void *obj, const calx_relation *rel, void *item, calx_error *err)
{
    calx_obj *it;
    calx_obj *o = writable(obj, rel, true, item, true, &it, "calx_rel_append", err);
    if (!o || need_loaded(o, rel, err))
        return err->code;
    if (calx__rel_list_has(o, rel, item))
        return 0;
    if (reserve_back(rel, it, err) || calx__rel_list_push(o, rel, item, err))
        return err->code;
    it->orphan = false;
    return back_side(o, rel, it, true, err);
}

int calx_rel_remove(void *obj, const calx_relation *rel, void *item, calx_error *err)
{
    calx_obj *it;
    calx_obj *o = writable(obj, rel, true, item, true, &it, "calx_rel_remove", err);
    if (!o || need_loaded(o, rel, err))
        return err->code;
    if (!calx__rel_list_drop(o, rel, item))
        return 0;
    if (rel->kind == CALX_ONE_TO_MANY) {
        calx__relinfo ri;
        if (calx__rel_resolve(rel, &ri, err))
            return err->code;
        if (ri.cascade & CALX__CASCADE_DELETE_ORPHAN)
            it->orphan = true;
    }
    return back_side(o, rel, it, false, err);
}
