/* SPDX-License-Identifier: MIT */
/* Relationships inside the ORM: a relationship resolved to the fields
 * that join its two sides, the per-object state of each relationship
 * (loaded or not, what the database has), and the list operations the
 * loaders (relload.c), the write helpers and the flush (relwrite.c,
 * cascade.c) share. Declarations are in calx/model.h. */
#ifndef CALX_ORM_RELATION_H
#define CALX_ORM_RELATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calx/model.h"
#include "orm/object.h"

/* The most relationships one model may declare (a bit each in
 * calx_obj.rel_loaded). */
#define CALX__MAX_RELATIONS 32

/* Cascade words, as bits (calx__relinfo.cascade). */
enum {
    CALX__CASCADE_SAVE_UPDATE = 1u << 0,
    CALX__CASCADE_MERGE = 1u << 1,
    CALX__CASCADE_DELETE = 1u << 2,
    CALX__CASCADE_DELETE_ORPHAN = 1u << 3,
    CALX__CASCADE_REFRESH_EXPIRE = 1u << 4,
    CALX__CASCADE_EXPUNGE = 1u << 5
};

/* A relationship resolved against its models' fields. Keys are single
 * columns (a composite foreign key is refused by calx__rel_resolve).
 *   MANY_TO_ONE:  owner.fields[local] (the foreign key) = target.fields[remote]
 *   ONE_TO_MANY, ONE_TO_ONE:
 *                 owner.fields[local] = target.fields[remote] (the foreign key)
 *   MANY_TO_MANY: owner.fields[local] = link.fields[link_local], and
 *                 target.fields[remote] = link.fields[link_remote] */
typedef struct calx__relinfo {
    const calx_relation *rel;
    const calx_relation *back;   /* back_populates' relationship, or NULL */
    size_t index;                /* rel's index in its owner's relations */
    size_t local, remote;
    size_t link_local, link_remote;
    unsigned cascade;            /* CALX__CASCADE_* */
    int order_field;             /* a target field to order a collection by, or -1 */
    bool order_desc;
} calx__relinfo;

/* Resolves r (see calx_model_check for the errors, CALX_ERR_ARGUMENT
 * naming the model, the relationship and the cause). out must not be
 * NULL. */
int calx__rel_resolve(const calx_relation *r, calx__relinfo *out, calx_error *err);

/* Whether r is a collection (ONE_TO_MANY, MANY_TO_MANY). */
static inline bool calx__rel_is_list(const calx_relation *r)
{
    return r->kind == CALX_ONE_TO_MANY || r->kind == CALX_MANY_TO_MANY;
}

/* Index of r among its owner's relations. */
static inline size_t calx__rel_index(const calx_relation *r)
{
    return (size_t)(r - r->owner->relations);
}

/* The rel_loaded bits of a new object of m: every relationship. */
static inline uint32_t calx__rel_all_loaded(const calx_model *m)
{
    return m->nrelations >= 32 ? UINT32_MAX : (UINT32_C(1) << m->nrelations) - 1;
}

/* What the database has for one relationship of one object (after a load
 * or a flush): the flush compares the member with it. `cap` is the room in
 * the collection member's items array, which the object owns. */
typedef struct calx__relstate {
    void *one;                   /* a scalar relationship's target */
    void **items;                /* a collection's items */
    size_t n, items_cap;
    size_t cap;                  /* room in the member's items array */
    bool unknown;                /* set while unloaded (calx_rel_set): the
                                    flush writes the key whatever the
                                    database had */
    bool raised;                 /* a raiseload left it unloaded */
} calx__relstate;

/* The state array of o (allocated on first use), or NULL when out of memory. */
calx__relstate *calx__rel_states(calx_obj *o);

/* A collection member, read and written as bytes: the member's type is
 * CALX_LIST(Target), whose layout this is. */
typedef struct calx__list {
    void **items;
    size_t n;
} calx__list;

void calx__rel_list_get(const calx_obj *o, const calx_relation *r, calx__list *out);
void calx__rel_list_put(calx_obj *o, const calx_relation *r, const calx__list *l);
/* A scalar relationship's member. */
void *calx__rel_one_get(const calx_obj *o, const calx_relation *r);
void calx__rel_one_put(calx_obj *o, const calx_relation *r, void *target);

/* Whether the collection r of o holds item. */
bool calx__rel_list_has(const calx_obj *o, const calx_relation *r, const void *item);
/* Appends item to the collection r of o, growing its items array.
 * CALX_ERR_NOMEM. */
int calx__rel_list_push(calx_obj *o, const calx_relation *r, void *item, calx_error *err);
/* Removes item (order kept); false when it was not there. */
bool calx__rel_list_drop(calx_obj *o, const calx_relation *r, const void *item);

static inline bool calx__rel_loaded(const calx_obj *o, size_t index)
{
    return o->rel_loaded >> index & 1;
}
void calx__rel_mark_loaded(calx_obj *o, size_t index);

/* Records that the database has what relationship `index` of o holds now
 * (after it was loaded or flushed). CALX_ERR_NOMEM. */
int calx__rel_remember(calx_obj *o, size_t index, calx_error *err);

/* Makes relationship `index` of o unloaded: member NULL / empty, state
 * forgotten. */
void calx__rel_unload(calx_obj *o, size_t index);
/* Every relationship of o. */
void calx__rel_unload_all(calx_obj *o);

/* Frees what o's relationships own (calx__obj_destroy). */
void calx__rel_destroy(calx_obj *o);

#endif
