/* SPDX-License-Identifier: MIT */
/* The identity map: one object per (model, primary key) per session, in
 * an open-addressed hash table with linear probing (a lookup that hits is
 * a hash, one or two probes and a compare: the session's hot path). */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/hash.h"
#include "core/types_int.h"
#include "core/zeroed.h"
#include "orm/session_int.h"

/* ---- object vectors ---- */

int calx__objvec_push(calx_objvec *ov, calx_obj *o)
{
    if (!calx__grow(&ov->v, &ov->cap, ov->n + 1, sizeof *ov->v))
        return CALX_ERR_NOMEM;
    ov->v[ov->n++] = o;
    return 0;
}

void calx__objvec_remove(calx_objvec *ov, calx_obj *o)
{
    for (size_t i = ov->n; i-- > 0;) {
        if (ov->v[i] == o) {
            memmove(&ov->v[i], &ov->v[i + 1], (ov->n - i - 1) * sizeof *ov->v);
            ov->n--;
            return;
        }
    }
}

void calx__objvec_free(calx_objvec *ov)
{
    free(ov->v);
    memset(ov, 0, sizeof *ov);
}

/* ---- keys ---- */

uint64_t calx__value_hash(const calx_value *v)
{
    switch (v->type) {
    case CALX_INT:
        return calx__int_hash(v->u.i);
    case CALX_BOOL:
        return v->u.b;
    case CALX_REAL: {
        uint64_t x;
        double d = v->u.d == 0 ? 0 : v->u.d; /* -0.0 == 0.0 */
        memcpy(&x, &d, sizeof x);
        return x;
    }
    case CALX_TEXT:
    case CALX_BLOB:
    case CALX_JSON:
        return calx__hash_bytes(CALX_HASH_INIT, v->u.s.ptr, v->u.s.len);
    case CALX_DATE:
    case CALX_TIME:
    case CALX_DATETIME:
    case CALX_TIMESTAMP:
        return (uint64_t)v->u.i * 0xc4ceb9fe1a85ec53ull;
    case CALX_UUID:
        return calx__hash_bytes(CALX_HASH_INIT, v->u.uuid.bytes, sizeof v->u.uuid.bytes);
    case CALX_DECIMAL: {
        /* Equal values hash alike whatever their scale: 1.10 and 1.1. */
        calx_decimal d = calx_value_get_decimal(v);
        calx__decimal_normalize(&d);
        return calx__key_mix(calx__key_mix(d.lo, (uint64_t)d.hi), (uint64_t)d.scale);
    }
    case CALX_INTERVAL:
        return calx__key_mix(calx__key_mix((uint64_t)v->u.interval.months,
                                           (uint64_t)v->u.interval.days),
                             (uint64_t)v->u.interval.micros);
    case CALX_ARRAY: {
        uint64_t h = v->u.array.n;
        for (size_t i = 0; i < v->u.array.n; i++)
            h = calx__key_mix(h, calx__value_hash(&v->u.array.items[i]));
        return h;
    }
    case CALX_NULL:
        break;
    }
    return 0;
}

bool calx__value_eq(const calx_value *a, const calx_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case CALX_INT: return a->u.i == b->u.i;
    case CALX_BOOL: return a->u.b == b->u.b;
    case CALX_REAL: return a->u.d == b->u.d;
    case CALX_TEXT:
    case CALX_BLOB:
    case CALX_JSON:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
    case CALX_DATE:
    case CALX_TIME:
    case CALX_DATETIME:
    case CALX_TIMESTAMP:
        return a->u.i == b->u.i;
    case CALX_UUID:
        return calx_uuid_cmp(a->u.uuid, b->u.uuid) == 0;
    case CALX_DECIMAL:
        return calx_decimal_cmp(calx_value_get_decimal(a), calx_value_get_decimal(b)) == 0;
    case CALX_INTERVAL:
        /* The same parts: an identity, not PostgreSQL's "1 mon" = "30 days". */
        return a->u.interval.months == b->u.interval.months &&
               a->u.interval.days == b->u.interval.days &&
               a->u.interval.micros == b->u.interval.micros;
    case CALX_ARRAY:
        if (a->u.array.n != b->u.array.n)
            return false;
        for (size_t i = 0; i < a->u.array.n; i++)
            if (!calx__value_eq(&a->u.array.items[i], &b->u.array.items[i]))
                return false;
        return true;
    case CALX_NULL: return true;
    }
    return false;
}

uint64_t calx__key_hash(const calx_model *m, const calx_value *key, size_t nkey)
{
    uint64_t h = (uint64_t)(uintptr_t)m;
    for (size_t i = 0; i < nkey; i++)
        h = calx__key_mix(h, calx__value_hash(&key[i]));
    return calx__key_hash_end(h);
}

size_t calx__obj_key(const calx_obj *o, const void *s, calx_value *out)
{
    const calx_model *m = o->model;
    size_t n = 0;
    for (size_t i = 0; i < m->nfields && n < CALX__MAX_KEY; i++) {
        if (!m->table.columns[i].primary_key)
            continue;
        out[n] = calx__field_value(m, &m->fields[i], s);
        /* A key reads the same whether loaded or set by the program. */
        if (out[n].type == CALX_BOOL)
            out[n] = calx_int(out[n].u.b);
        n++;
    }
    return n;
}

int calx__key_cmp(const calx_value *a, const calx_value *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].type == CALX_INT && b[i].type == CALX_INT) {
            if (a[i].u.i != b[i].u.i)
                return a[i].u.i < b[i].u.i ? -1 : 1;
        } else if (a[i].type == CALX_TEXT && b[i].type == CALX_TEXT) {
            int c = strcmp(a[i].u.s.ptr, b[i].u.s.ptr);
            if (c)
                return c;
        }
    }
    return 0;
}

/* ---- the table ---- */

static bool obj_has_key(const calx_obj *o, const calx_model *m, const calx_value *key,
                        size_t nkey)
{
    if (o->model != m)
        return false;
    calx_value mine[CALX__MAX_KEY];
    size_t n = calx__obj_key(o, calx__obj_ptr(o), mine);
    if (n != nkey)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!calx__value_eq(&mine[i], &key[i]))
            return false;
    return true;
}

calx_obj *calx__map_find(const calx_session *s, const calx_model *m, const calx_value *key,
                         size_t nkey)
{
    return calx__map_find_h(s, m, key, nkey, calx__key_hash(m, key, nkey));
}

/* The most objects a map holds: its index table then has at most 2^32
 * slots, so the 32 hash bits a slot keeps are enough to place its entry
 * in any table (a grow moves slots without reading their objects). */
#define MAP_MAX_OBJECTS ((size_t)1 << 31)

/* The object of the non-empty slot. */
static calx_obj *slot_obj(const calx_session *s, calx__map_slot slot)
{
    return s->map_objs[slot.entry - 1];
}

calx_obj *calx__map_find_h(const calx_session *s, const calx_model *m, const calx_value *key,
                           size_t nkey, uint64_t h)
{
    if (!s->map_n)
        return NULL;
    size_t mask = s->map_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        calx__map_slot slot = s->map[i];
        if (!slot.entry)
            return NULL;
        if (slot.hash != (uint32_t)h)
            continue;
        calx_obj *o = slot_obj(s, slot);
        if (obj_has_key(o, m, key, nkey))
            return o;
    }
}

static void place(calx__map_slot *map, size_t cap, uint32_t hash, uint32_t entry)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;
    while (map[i].entry)
        i = (i + 1) & mask;
    map[i] = (calx__map_slot){ .hash = hash, .entry = entry };
}

/* Whether a table of cap slots takes n objects (kept at most 3/4 full). */
static bool roomy(size_t cap, size_t n)
{
    return n <= cap / 4 * 3;
}

static int grow_to(calx_session *s, size_t cap)
{
    calx__map_slot *map;
    if (!s->map_cap && cap == CALX__MAP_FIRST_SLOTS) {
        map = s->map_first;
        memset(map, 0, sizeof s->map_first);
    } else {
        map = calx__array_zeroed(cap, sizeof *map);   /* probed before written */
        if (!map)
            return CALX_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->map_cap; i++)
        if (s->map[i].entry)
            place(map, cap, s->map[i].hash, s->map[i].entry);
    if (s->map != s->map_first)
        free(s->map);
    s->map = map;
    s->map_cap = cap;
    return 0;
}

/* Room in map_objs for need objects, false on no memory. The first few
 * are the session's own (map_objs_first). */
static bool order_room(calx_session *s, size_t need)
{
    const size_t first = sizeof s->map_objs_first / sizeof *s->map_objs_first;
    if (need <= s->map_objs_cap)
        return true;
    if (!s->map_objs_cap && need <= first) {
        s->map_objs = s->map_objs_first;
        s->map_objs_cap = first;
        return true;
    }
    if (s->map_objs == s->map_objs_first) {
        calx_obj **own = NULL;
        size_t cap = 0;
        if (!calx__grow(&own, &cap, need, sizeof *own))
            return false;
        memcpy(own, s->map_objs_first, s->map_used * sizeof *own);
        s->map_objs = own;
        s->map_objs_cap = cap;
        return true;
    }
    return calx__grow(&s->map_objs, &s->map_objs_cap, need, sizeof *s->map_objs);
}

static int grow(calx_session *s)
{
    return grow_to(s, s->map_cap ? s->map_cap * 2 : CALX__MAP_FIRST_SLOTS);
}

int calx__map_reserve(calx_session *s, size_t n)
{
    if (n > MAP_MAX_OBJECTS - s->map_n)
        return CALX_ERR_NOMEM;
    if (!order_room(s, s->map_used + n))
        return CALX_ERR_NOMEM;
    calx__prefault_slice(s->map_objs, s->map_used, n, sizeof *s->map_objs);
    if (roomy(s->map_cap, s->map_n + n))
        return 0;
    size_t cap = s->map_cap ? s->map_cap : CALX__MAP_FIRST_SLOTS;
    while (!roomy(cap, s->map_n + n))
        if ((cap *= 2) > SIZE_MAX / 2 / sizeof *s->map)
            return CALX_ERR_NOMEM;
    return grow_to(s, cap);
}

/* Room in map_objs for one more object: the objects that left give their
 * places back when they are half of it (the table is made again, the
 * places having moved), else it grows. */
static int entry_room(calx_session *s)
{
    if (s->map_used < s->map_objs_cap)
        return 0;
    if (s->map_n < s->map_used && s->map_n <= s->map_used / 2) {
        size_t n = 0;
        for (size_t i = 0; i < s->map_used; i++)
            if (s->map_objs[i])
                s->map_objs[n++] = s->map_objs[i];
        s->map_used = n;
        memset(s->map, 0, s->map_cap * sizeof *s->map);
        for (size_t i = 0; i < n; i++)
            place(s->map, s->map_cap, s->map_objs[i]->hash, (uint32_t)(i + 1));
        return 0;
    }
    if (s->map_n >= MAP_MAX_OBJECTS || !order_room(s, s->map_used + 1))
        return CALX_ERR_NOMEM;
    return 0;
}

/* The hash of o's current key. */
static uint64_t obj_hash(const calx_obj *o)
{
    calx_value key[CALX__MAX_KEY];
    size_t n = calx__obj_key(o, calx__obj_ptr(o), key);
    return calx__key_hash(o->model, key, n);
}

int calx__map_insert(calx_session *s, calx_obj *o)
{
    return calx__map_insert_h(s, o, obj_hash(o));
}

uint64_t calx__map_prepare(const calx_session *s, const calx_obj *o)
{
    uint64_t h = obj_hash(o);
    calx__map_prefetch(s, h);
    return h;
}

int calx__map_insert_h(calx_session *s, calx_obj *o, uint64_t h)
{
    if (o->model->nrelations)
        s->has_relations = true;
    if (!roomy(s->map_cap, s->map_n + 1) && grow(s))
        return CALX_ERR_NOMEM;
    if (entry_room(s))
        return CALX_ERR_NOMEM;
    o->hash = (uint32_t)h;
    s->map_objs[s->map_used++] = o;
    place(s->map, s->map_cap, (uint32_t)h, (uint32_t)s->map_used);
    s->map_n++;
    o->in_map = true;
    return 0;
}

void calx__map_remove(calx_session *s, calx_obj *o)
{
    if (!o->in_map)
        return;
    size_t mask = s->map_cap - 1;
    size_t i = o->hash & mask;
    while (s->map[i].hash != (uint32_t)o->hash || slot_obj(s, s->map[i]) != o)
        i = (i + 1) & mask;
    size_t entry = s->map[i].entry;
    s->map[i] = (calx__map_slot){ 0 };
    /* Re-place the rest of the probe run (deletion with linear probing). */
    for (size_t j = (i + 1) & mask; s->map[j].entry; j = (j + 1) & mask) {
        calx__map_slot x = s->map[j];
        s->map[j] = (calx__map_slot){ 0 };
        place(s->map, s->map_cap, x.hash, x.entry);
    }
    s->map_objs[entry - 1] = NULL;
    if (entry == s->map_used)
        s->map_used--;
    if (--s->map_n == 0)
        s->map_used = 0;
    o->in_map = false;
}

void calx__map_free(calx_session *s)
{
    if (s->map != s->map_first)
        free(s->map);
    if (s->map_objs != s->map_objs_first)
        free(s->map_objs);
    s->map = NULL;
    s->map_objs = NULL;
    s->map_cap = s->map_n = s->map_used = s->map_objs_cap = 0;
}

/* The common case, a single integer key, without building values: the
 * identity map's hot path (a get that hits). pk is the key's field. */
calx_obj *calx__map_find_int(const calx_session *s, const calx_model *m, size_t pk, int64_t v)
{
    if (!s->map_n)
        return NULL;
    uint64_t h = calx__key_hash_int(m, v);
    const calx_field *f = &m->fields[pk];
    size_t mask = s->map_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        calx__map_slot slot = s->map[i];
        if (!slot.entry)
            return NULL;
        if (slot.hash != (uint32_t)h)
            continue;
        calx_obj *o = slot_obj(s, slot);
        if (o->model != m)
            continue;
        const void *p = calx__field_ptr(calx__obj_ptr(o), f);
        int64_t x;
        if (f->type == CALX_F_INT32)
            x = f->nullable ? ((const calx_opt_int32 *)p)->value : *(const int32_t *)p;
        else
            x = f->nullable ? ((const calx_opt_int64 *)p)->value : *(const int64_t *)p;
        if (x == v)
            return o;
    }
}
