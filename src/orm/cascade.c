/* SPDX-License-Identifier: MIT */
/* Deleting through relationships: what calx_session_delete of a parent
 * means for the rows that point at it, decided by the flush before it
 * sends anything (flush.c calls calx__cascade_deletes first). As
 * SQLAlchemy: with cascade delete the children are deleted too (loaded
 * first when they are not: calx__rel_load), and their rows go before the
 * parent's (the flush's reverse table order); a many-to-many's link rows
 * go; without delete cascade the children's foreign key is set NULL, or,
 * where it is NOT NULL, the flush fails naming the parent, the
 * relationship and the child before any statement is sent. With
 * passive_deletes an unloaded collection is left to the database's
 * ON DELETE CASCADE (no load). */
#include "orm/relation.h"
#include "orm/session_int.h"

/* What deleting o does to the children of one relationship. */
static int cascade_one(calx_session *s, calx_obj *o, const calx__relinfo *ri, calx_error *err)
{
    const calx_relation *r = ri->rel;
    if (!calx__rel_loaded(o, ri->index)) {
        if (r->passive_deletes)
            return 0;
        if (calx__rel_load(s, &o, 1, r, err))
            return err->code;
    }
    void *one = NULL;
    calx__list l = { &one, 0 };
    if (calx__rel_is_list(r)) {
        calx__rel_list_get(o, r, &l);
    } else {
        one = calx__rel_one_get(o, r);
        l.n = one != NULL;
    }
    for (size_t k = 0; k < l.n; k++) {
        calx_obj *c = calx__obj_check(l.items[k]);
        if (!c || calx__obj_session(c) != s || c->delete_marked || c->state != CALX_OBJ_PERSISTENT)
            continue;
        if (r->kind == CALX_MANY_TO_MANY) {
            if (calx__relwrite_unlink(s, ri, o, c, err))
                return err->code;
            continue;
        }
        if (ri->cascade & CALX__CASCADE_DELETE) {
            if (calx__session_delete_obj(s, c, err))
                return err->code;
            continue;
        }
        const calx_column *col = &c->model->table.columns[ri->remote];
        if (!col->nullable)
            return calx_error_set(err, CALX_ERR_INTEGRITY,
                                  "deleting a %s would set %s.%s to NULL on a %s it holds "
                                  "through %s.%s, but the column is NOT NULL: give %s.%s "
                                  "cascade delete, or delete or move the %s first",
                                  o->model->name, c->model->table.name, col->name,
                                  c->model->name, o->model->name, r->name, o->model->name,
                                  r->name, c->model->name);
        calx_value null = calx_null();
        if (calx__obj_set_field(c, ri->remote, &null, err))
            return err->code;
    }
    return 0;
}

int calx__cascade_deletes(calx_session *s, calx_error *err)
{
    /* The list grows as children join it: they cascade in turn. */
    for (size_t i = 0; i < s->deleting.n; i++) {
        calx_obj *o = s->deleting.v[i];
        for (size_t k = 0; k < o->model->nrelations; k++) {
            const calx_relation *r = &o->model->relations[k];
            calx__relinfo ri;
            if (r->viewonly || r->kind == CALX_MANY_TO_ONE)
                continue;
            if (calx__rel_resolve(r, &ri, err) || cascade_one(s, o, &ri, err))
                return err->code;
        }
    }
    return 0;
}
