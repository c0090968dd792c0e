/* SPDX-License-Identifier: MIT */
/* Model objects: allocation, field conversions (to and from values, the
 * timestamp text), snapshots, and setting texts and blobs; a model's
 * derived facts and its check (calx_model_check). The
 * constructor and validation are construct.c's; SQLModel's repr is
 * repr.c's. */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blocks.h"
#include "core/buf.h"
#include "core/nomem.h"
#include "core/once_table.h"
#include "core/value_int.h"
#include "orm/object.h"
#include "orm/relation.h"
#include "orm/session_int.h"

/* ---- allocation ---- */

/* Every byte of the header is faulted in once per object a load makes. */
_Static_assert(sizeof(void *) != 8 || CALX_OBJ_HDR_SIZE == 72,
               "calx_obj grew past 72 bytes");
/* Objects come from blocks too: as aligned there as from malloc. */
_Static_assert(CALX_BLOCKS_ALIGN % CALX_OBJ_ALIGN == 0,
               "blocks align less than an object needs");

calx_obj *calx__obj_check(const void *p)
{
    if (!p)
        return NULL;
    calx_obj *o = calx__obj_hdr(p);
    return o->magic == CALX_OBJ_MAGIC ? o : NULL;
}

/* The bytes of an object of m before its tail. */
static size_t fixed_size(const calx_model *m)
{
    return CALX_OBJ_HDR_SIZE + calx__tail_offset(m);
}

/* Whether fixed + extra bytes pass what calx_obj.size holds. */
static bool too_large(size_t fixed, size_t extra)
{
    return fixed > CALX_OBJ_MAX_SIZE || extra > CALX_OBJ_MAX_SIZE - fixed;
}

int calx__obj_check_size(const calx_model *m, size_t extra, calx_error *err)
{
    if (too_large(fixed_size(m), extra))
        return calx_error_set(err, CALX_ERR_DATA,
                              "a %s with %zu bytes of texts and blobs is larger than the "
                              "%u bytes calx keeps in one object",
                              m->name, extra, (unsigned)CALX_OBJ_MAX_SIZE);
    return 0;
}

calx_obj *calx__obj_alloc(const calx_model *m, size_t extra, calx__blocks *blocks)
{
    size_t fixed = fixed_size(m);
    if (too_large(fixed, extra))
        return NULL;   /* o->size would not hold it */
    size_t sz = fixed + extra;
    calx_obj *o = blocks ? calx__blocks_alloc(blocks, sz) : NULL;
    bool in_block = o != NULL;
    if (!o && !(o = malloc(sz)))
        return NULL;
    /* Zeroed but for the extra bytes, which the caller fills: loading a
     * large result, clearing them was a tenth of the time. */
    memset(o, 0, sz - extra);
    o->in_block = in_block;
    o->magic = CALX_OBJ_MAGIC;
    o->model = m;
    o->size = (uint32_t)sz;
    return o;
}

/* Bytes of constructed objects alive in malloc's memory, in the whole
 * process (objects are freed on any thread). */
static atomic_size_t constructed_bytes;

calx_obj *calx__obj_alloc_new(const calx_model *m, size_t extra)
{
    bool bulk = atomic_load_explicit(&constructed_bytes, memory_order_relaxed) >=
                CALX_BLOCK_SIZE;
    calx_obj *o = calx__obj_alloc(m, extra, bulk ? calx__blocks_of_thread() : NULL);
    if (o && !o->in_block) {
        o->counted = true;
        atomic_fetch_add_explicit(&constructed_bytes, o->size, memory_order_relaxed);
    }
    return o;
}

void **calx__field_slots(calx_obj *o, const calx__model_facts *fx, size_t i)
{
    if (!o->slots && !(o->slots = calloc(2 * fx->nslots, sizeof *o->slots)))
        return NULL;
    return o->slots + 2 * calx__slot_index(fx, i);
}

/* Whether p points into o's own allocation (a text made with it). */
static bool in_object(const calx_obj *o, const void *p)
{
    return (const char *)p >= (const char *)o && (const char *)p < (const char *)o + o->size;
}

void calx__obj_destroy(calx_obj *o)
{
    if (!o)
        return;
    const calx__model_facts *fx = calx__model_facts_of(o->model);
    if (o->slots) {
        for (size_t i = 0; i < 2 * fx->nslots; i++)
            free(o->slots[i]);
        free(o->slots);
    }
    if (fx->json_values)
        calx__json_field_release(o);
    /* Without relationships there is nothing to free (o->rels stays NULL). */
    if (o->model->nrelations)
        calx__rel_destroy(o);
    o->magic = 0;
    if (o->counted)
        atomic_fetch_sub_explicit(&constructed_bytes, o->size, memory_order_relaxed);
    if (o->in_block)
        calx__blocks_free(o);
    else
        free(o);
}

const calx_model *calx_obj_model(const void *obj)
{
    calx_obj *o = calx__obj_check(obj);
    return o ? o->model : NULL;
}

int calx_obj_free(void *obj)
{
    calx_obj *o = calx__obj_check(obj);
    if (!o)
        return 0;
    if (o->owner)
        return CALX_ERR_STATE;
    calx__obj_destroy(o);
    return 0;
}

/* ---- fields ---- */

const void *calx__field_buffer(const calx_field *f, const void *s)
{
    const void *p = calx__field_ptr(s, f);
    if (f->type == CALX_F_ARRAY) {
        const calx_value *v = p;
        return v->type == CALX_ARRAY ? (const void *)v->u.array.items : NULL;
    }
    return calx__field_is_text(f) ? (const void *)*(const char *const *)p
                                  : ((const calx_bytes *)p)->data;
}

size_t calx__field_bytes_size(const calx_field *f, const calx_value *v)
{
    return f->type == CALX_F_ARRAY ? calx__value_keep_size(v) : v->u.s.len + 1;
}

void calx__field_put_bytes(const calx_field *f, void *p, const calx_value *v, char *dst)
{
    if (f->type == CALX_F_ARRAY) {
        calx_value copy = *v;
        if (copy.u.array.n == 0)
            copy.u.array.items = NULL;   /* nothing of the caller's kept */
        else
            calx__value_keep(&copy, &dst);
        *(calx_value *)p = copy;
        return;
    }
    if (v->u.s.len)
        memcpy(dst, v->u.s.ptr, v->u.s.len);
    dst[v->u.s.len] = '\0';
    calx__field_set_buffer(f, p, dst, v->u.s.len);
}

size_t calx__field_size(const calx_field *f)
{
    switch (f->type) {
    case CALX_F_INT32: return f->nullable ? sizeof(calx_opt_int32) : sizeof(int32_t);
    case CALX_F_INT64: return f->nullable ? sizeof(calx_opt_int64) : sizeof(int64_t);
    case CALX_F_DOUBLE: return f->nullable ? sizeof(calx_opt_double) : sizeof(double);
    case CALX_F_BOOL: return f->nullable ? sizeof(calx_opt_bool) : sizeof(bool);
    case CALX_F_TIMESTAMP: return f->nullable ? sizeof(calx_opt_timestamp) : sizeof(calx_timestamp);
    case CALX_F_TEXT:
    case CALX_F_JSON: return sizeof(const char *);
    case CALX_F_BLOB: return sizeof(calx_bytes);
    case CALX_F_ARRAY: return sizeof(calx_value);
    case CALX_F_JSON_VALUE: return sizeof(struct json_t *);
    default: return calx__rich_size(f);
    }
}

int64_t calx__field_int(const calx_field *f, const void *p)
{
    if (f->nullable) {
        if (f->type == CALX_F_INT32)
            return ((const calx_opt_int32 *)p)->value;
        if (f->type == CALX_F_TIMESTAMP)
            return ((const calx_opt_timestamp *)p)->value;
        return ((const calx_opt_int64 *)p)->value;
    }
    if (f->type == CALX_F_INT32)
        return *(const int32_t *)p;
    return *(const int64_t *)p;
}

double calx__field_double(const calx_field *f, const void *p)
{
    return f->nullable ? ((const calx_opt_double *)p)->value : *(const double *)p;
}

bool calx__field_bool(const calx_field *f, const void *p)
{
    return f->nullable ? ((const calx_opt_bool *)p)->value : *(const bool *)p;
}

calx_value calx__field_value(const calx_model *m, const calx_field *f, const void *s)
{
    if (calx__field_is_null(f, s))
        return calx_null();
    const void *p = calx__field_ptr(s, f);
    switch (f->type) {
    case CALX_F_INT32:
    case CALX_F_INT64:
        return calx_int(calx__field_int(f, p));
    case CALX_F_DOUBLE:
        return calx_real(calx__field_double(f, p));
    case CALX_F_BOOL:
        return calx_bool(calx__field_bool(f, p));
    case CALX_F_TEXT:
        return calx_text(*(const char *const *)p);
    case CALX_F_JSON:
        return calx_value_json(*(const char *const *)p);
    case CALX_F_BLOB: {
        const calx_bytes *b = p;
        return calx_blob(b->data, b->len);
    }
    case CALX_F_TIMESTAMP:
        return calx_value_timestamp(calx__field_int(f, p));
    case CALX_F_ARRAY:
        return *(const calx_value *)p;
    case CALX_F_JSON_VALUE: {
        /* Its text is the object's (never a snapshot's or arguments'). */
        const calx_obj *o = calx__obj_check(s);
        return o ? calx__json_field_value(o, (size_t)(f - m->fields)) : calx_null();
    }
    default:
        return calx__rich_value(m, f, p);
    }
}

static void set_null(const calx_field *f, void *p)
{
    if (f->type == CALX_F_ARRAY)
        *(calx_value *)p = calx_null();
    else if (calx__field_is_text(f))
        *(const char **)p = NULL;
    else if (f->type == CALX_F_BLOB)
        memset(p, 0, sizeof(calx_bytes));
    else if (f->nullable) {
        switch (f->type) {
        case CALX_F_INT32: ((calx_opt_int32 *)p)->valid = false; break;
        case CALX_F_INT64: ((calx_opt_int64 *)p)->valid = false; break;
        case CALX_F_DOUBLE: ((calx_opt_double *)p)->valid = false; break;
        case CALX_F_BOOL: ((calx_opt_bool *)p)->valid = false; break;
        case CALX_F_TIMESTAMP: ((calx_opt_timestamp *)p)->valid = false; break;
        default: calx__rich_set_null(f, p); break;
        }
    }
}

/* Stores a scalar in the struct field (object or snapshot). */
static void set_scalar(const calx_field *f, void *p, int64_t i, double d, bool b)
{
    switch (f->type) {
    case CALX_F_INT32:
        if (f->nullable)
            *(calx_opt_int32 *)p = (calx_opt_int32){ (int32_t)i, true };
        else
            *(int32_t *)p = (int32_t)i;
        break;
    case CALX_F_INT64:
        if (f->nullable)
            *(calx_opt_int64 *)p = (calx_opt_int64){ i, true };
        else
            *(int64_t *)p = i;
        break;
    case CALX_F_TIMESTAMP:
        if (f->nullable)
            *(calx_opt_timestamp *)p = (calx_opt_timestamp){ i, true };
        else
            *(calx_timestamp *)p = i;
        break;
    case CALX_F_DOUBLE:
        if (f->nullable)
            *(calx_opt_double *)p = (calx_opt_double){ d, true };
        else
            *(double *)p = d;
        break;
    case CALX_F_BOOL:
        if (f->nullable)
            *(calx_opt_bool *)p = (calx_opt_bool){ b, true };
        else
            *(bool *)p = b;
        break;
    default:
        break;
    }
}

static const char *ftype_name(calx_ftype t)
{
    static const char *names[] = { "?", "INT32", "INT64", "DOUBLE", "BOOL", "TEXT", "BLOB",
                                   "TIMESTAMP", "DECIMAL", "UUID", "DATE", "TIME",
                                   "DATETIME", "INTERVAL", "JSON", "ENUM", "ARRAY", "JSON_VALUE" };
    return (size_t)t < sizeof names / sizeof *names ? names[t] : "?";
}

/* Drops the buffers of field i the object holds, before a load replaces
 * both the field and its snapshot. */
static void drop_buffers(calx_obj *o, size_t i)
{
    void **slot = calx__field_slots_if(o, calx__model_facts_of(o->model), i);
    if (!slot)
        return;
    free(slot[0]);
    free(slot[1]);
    slot[0] = slot[1] = NULL;
}

/* Stores a non-NULL scalar v of a basic kind in the field at p (object or
 * snapshot), converting as the column's type needs. False when v cannot be
 * held. */
static bool store_basic(const calx_field *f, void *p, const calx_value *v)
{
    switch (f->type) {
    case CALX_F_INT32:
    case CALX_F_INT64:
        if (v->type != CALX_INT && v->type != CALX_BOOL)
            return false;
        set_scalar(f, p, v->type == CALX_INT ? v->u.i : v->u.b, 0, false);
        return true;
    case CALX_F_DOUBLE:
        if (v->type != CALX_REAL && v->type != CALX_INT)
            return false;
        set_scalar(f, p, 0, v->type == CALX_REAL ? v->u.d : (double)v->u.i, false);
        return true;
    case CALX_F_BOOL:
        if (v->type != CALX_BOOL && v->type != CALX_INT)
            return false;
        set_scalar(f, p, 0, 0, v->type == CALX_BOOL ? v->u.b : v->u.i != 0);
        return true;
    case CALX_F_TIMESTAMP:
        if (v->type != CALX_TIMESTAMP)
            return false;
        set_scalar(f, p, v->u.i, 0, false);
        return true;
    default:
        return false;
    }
}

static bool buffer_fits(const calx_field *f, const calx_value *v)
{
    return (f->type == CALX_F_TEXT && v->type == CALX_TEXT) ||
           (f->type == CALX_F_JSON && (v->type == CALX_JSON || v->type == CALX_TEXT)) ||
           (f->type == CALX_F_BLOB && (v->type == CALX_BLOB || v->type == CALX_TEXT)) ||
           (f->type == CALX_F_ARRAY && v->type == CALX_ARRAY);
}

static int type_error(const calx_model *m, const calx_field *f, const calx_value *v,
                      calx_error *err)
{
    return calx_error_set(err, CALX_ERR_TYPE,
                          "%s.%s (%s) cannot hold the %s value the database returned", m->name,
                          f->name, ftype_name(f->type), calx_type_name(v->type));
}

/* Stores a non-NULL scalar v in the field at p (object or snapshot).
 * Errors: CALX_ERR_TYPE (and CALX_ERR_DATA for an unknown enum name),
 * naming the model and field. */
static int store_scalar(const calx_model *m, const calx_field *f, void *p,
                        const calx_value *v, calx_error *err)
{
    if (calx__ftype_is_rich(f->type))
        return calx__rich_store(m, f, p, v, err);
    /* A 32-bit field of a column that holds more (SQLite's INTEGER holds
     * 64 bits whatever the model says): refused, not cut to 32 bits. */
    if (f->type == CALX_F_INT32 && v->type == CALX_INT &&
        (v->u.i < INT32_MIN || v->u.i > INT32_MAX))
        return calx_error_set(err, CALX_ERR_DATA,
                              "%s.%s (INT32) cannot hold %lld, the value the database returned",
                              m->name, f->name, (long long)v->u.i);
    return store_basic(f, p, v) ? 0 : type_error(m, f, v, err);
}

/* A row's commonest value, an integer into an integer field that holds
 * it, stored without store_scalar's dispatch; false for anything else
 * (store_scalar then converts, or says why not). */
static inline bool store_int_fast(const calx_field *f, void *p, const calx_value *v)
{
    if (v->type != CALX_INT)
        return false;
    if (f->type == CALX_F_INT64) {
        if (f->nullable)
            *(calx_opt_int64 *)p = (calx_opt_int64){ v->u.i, true };
        else
            *(int64_t *)p = v->u.i;
        return true;
    }
    if (f->type != CALX_F_INT32 || v->u.i < INT32_MIN || v->u.i > INT32_MAX)
        return false;
    if (f->nullable)
        *(calx_opt_int32 *)p = (calx_opt_int32){ (int32_t)v->u.i, true };
    else
        *(int32_t *)p = (int32_t)v->u.i;
    return true;
}

/* Points the buffer field at p (object or snapshot) to b. */
void calx__field_set_buffer(const calx_field *f, void *p, const char *b, size_t len)
{
    if (calx__field_is_text(f))
        *(const char **)p = b;
    else
        *(calx_bytes *)p = (calx_bytes){ b, len };
}

int calx__obj_load_field(calx_obj *o, size_t i, const calx_value *v, calx_error *err)
{
    const calx_field *f = &o->model->fields[i];
    if (f->type == CALX_F_JSON_VALUE)
        return calx__json_field_load(o, i, v, err);
    void *p = calx__field_ptr(calx__obj_ptr(o), f);
    void *sp = calx__field_ptr(calx__obj_snap(o), f);
    if (v->type == CALX_NULL) {
        if (calx__field_is_buffer(f))
            drop_buffers(o, i);
        set_null(f, p);
        set_null(f, sp);
        return 0;
    }
    if (!calx__field_is_buffer(f)) {
        if (store_scalar(o->model, f, p, v, err))
            return err->code;
        return store_scalar(o->model, f, sp, v, err);
    }
    if (!buffer_fits(f, v))
        return type_error(o->model, f, v, err);
    size_t n = calx__field_bytes_size(f, v);
    char *b = n ? malloc(n) : NULL;
    void **slot = b ? calx__field_slots(o, calx__model_facts_of(o->model), i) : NULL;
    if (n && !slot) {
        free(b);
        return calx__nomem(err, "loading %s.%s",
                              o->model->name, f->name);
    }
    drop_buffers(o, i);
    if (slot)
        slot[0] = b;
    calx__field_put_bytes(f, p, v, b);
    memcpy(sp, p, calx__field_size(f));
    return 0;
}

static int set_buffer(void *obj, void *field, calx_ftype want, const calx_value *v);

int calx__obj_set_field(calx_obj *o, size_t i, const calx_value *v, calx_error *err)
{
    const calx_field *f = &o->model->fields[i];
    if (f->type == CALX_F_JSON_VALUE)
        return calx__json_field_set(o, i, v, err);
    void *p = calx__field_ptr(calx__obj_ptr(o), f);
    if (calx__field_is_buffer(f)) {
        if (v->type != CALX_NULL && !buffer_fits(f, v))
            return type_error(o->model, f, v, err);
        /* set_buffer keeps a buffer the snapshot still points at. */
        int rc = set_buffer(calx__obj_ptr(o), p, f->type, v);
        return rc ? calx__nomem(err, "setting %s.%s",
                                   o->model->name, f->name)
                  : 0;
    }
    if (v->type == CALX_NULL) {
        set_null(f, p);
        return 0;
    }
    return store_scalar(o->model, f, p, v, err);
}

calx_obj *calx__obj_from_row(const calx_model *m, const calx__model_facts *fx,
                             const calx_value *vals, calx__blocks *blocks, calx_error *err)
{
    /* Only the fields with slots can have bytes in the tail. A text into
     * a TEXT field, the commonest, is tested first, inline: this runs for
     * every row a query loads. */
    size_t extra = 0;
    for (size_t k = 0; k < fx->nslots; k++) {
        size_t i = calx__slotted_field(fx, k);
        const calx_field *f = &m->fields[i];
        if (f->type == CALX_F_TEXT && vals[i].type == CALX_TEXT)
            extra += vals[i].u.s.len + 1;
        else if (calx__field_is_buffer(f) && buffer_fits(f, &vals[i]))
            extra += calx__field_bytes_size(f, &vals[i]);
    }
    if (calx__obj_check_size(m, extra, err))
        return NULL;
    calx_obj *o = calx__obj_alloc(m, extra, blocks);
    if (!o)
        return calx__nomem(err, "loading a %s", m->name), NULL;
    void *obj = calx__obj_ptr(o);
    char *tail = calx__obj_tail(o);
    for (size_t i = 0; i < m->nfields; i++) {
        const calx_field *f = &m->fields[i];
        const calx_value *v = &vals[i];
        void *p = calx__field_ptr(obj, f);
        if (v->type == CALX_NULL || f->type == CALX_F_JSON_VALUE)
            continue; /* zeroed memory is NULL for every nullable kind */
        if (f->type == CALX_F_TEXT && v->type == CALX_TEXT) {
            /* calx__field_put_bytes' work for a text, inline (as above). */
            if (v->u.s.len)
                memcpy(tail, v->u.s.ptr, v->u.s.len);
            tail[v->u.s.len] = '\0';
            *(const char **)p = tail;
            tail += v->u.s.len + 1;
            continue;
        }
        if (calx__field_is_buffer(f)) {
            if (!buffer_fits(f, v))
                goto bad;
            calx__field_put_bytes(f, p, v, tail);
            tail += calx__field_bytes_size(f, v);
        } else if (!store_int_fast(f, p, v) && store_scalar(m, f, p, v, err)) {
            calx__obj_destroy(o);
            return NULL;
        }
        continue;
    bad:
        type_error(m, f, v, err);
        calx__obj_destroy(o);
        return NULL;
    }
    for (size_t k = 0; fx->json_values && k < fx->nslots; k++) {
        size_t i = calx__slotted_field(fx, k);
        if (m->fields[i].type == CALX_F_JSON_VALUE && calx__json_field_load(o, i, &vals[i], err)) {
            calx__obj_destroy(o);
            return NULL;
        }
    }
    memcpy(calx__obj_snap(o), obj, calx__model_fields_size(m));
    o->has_snap = true;
    return o;
}

/* The bytes of field f, from its start, that every value of it writes:
 * a nullable field's value and then its valid flag, never the padding
 * after them, which an assignment of the struct need not write (valgrind
 * sees it uninitialised); 0 for the kinds whose bytes alone say nothing
 * (decimals, UUIDs, dates and times, enums, arrays, JSON values), which
 * calx__obj_field_changed compares by value. */
static size_t settled_bytes(const calx_field *f)
{
    switch (f->type) {
    case CALX_F_INT32:
        return f->nullable ? offsetof(calx_opt_int32, valid) + 1 : sizeof(int32_t);
    case CALX_F_INT64:
        return f->nullable ? offsetof(calx_opt_int64, valid) + 1 : sizeof(int64_t);
    case CALX_F_DOUBLE:
        return f->nullable ? offsetof(calx_opt_double, valid) + 1 : sizeof(double);
    case CALX_F_BOOL:
        return f->nullable ? offsetof(calx_opt_bool, valid) + 1 : sizeof(bool);
    case CALX_F_TIMESTAMP:
        return f->nullable ? offsetof(calx_opt_timestamp, valid) + 1 : sizeof(calx_timestamp);
    case CALX_F_TEXT:
    case CALX_F_JSON:
        return sizeof(const char *);
    case CALX_F_BLOB:
        return sizeof(calx_bytes);
    default:
        return 0;
    }
}

/* memcmp(a, b, n) == 0 for a field's few bytes, inline for the sizes
 * settled_bytes gives (a call to memcmp was a third of the check). */
#define SAME_BYTES(k)                                                        \
    do {                                                                     \
        memcpy(x, a, k);                                                     \
        memcpy(y, b, k);                                                     \
        return x[0] == y[0] && x[1] == y[1];                                 \
    } while (0)

static bool same_bytes(const void *a, const void *b, size_t n)
{
    uint64_t x[2] = { 0, 0 }, y[2] = { 0, 0 };
    switch (n) {
    case 1: SAME_BYTES(1);
    case 2: SAME_BYTES(2);
    case 4: SAME_BYTES(4);
    case 5: SAME_BYTES(5);      /* a nullable 32-bit field: the value and its flag */
    case 8: SAME_BYTES(8);
    case 9: SAME_BYTES(9);
    case 16: SAME_BYTES(16);
    default: return memcmp(a, b, n) == 0;
    }
}

#undef SAME_BYTES

bool calx__obj_field_changed(const calx_obj *o, size_t i)
{
    const calx_field *f = &o->model->fields[i];
    if (f->type == CALX_F_JSON_VALUE)
        return calx__json_field_changed(o, i);
    const void *s = calx__obj_ptr(o), *snap = calx__obj_snap(o);
    const void *p = calx__field_ptr(s, f), *sp = calx__field_ptr(snap, f);
    /* Most fields of most objects are as the database has them: the same
     * settled bytes in the object and its snapshot (a text or blob: the
     * same buffer, which the comparisons below also read as unchanged).
     * Bytes that differ (a NULL's stale value, -0.0) are looked at below. */
    size_t n = settled_bytes(f);
    if (n && same_bytes(p, sp, n))
        return false;
    bool n1 = calx__field_is_null(f, s), n2 = calx__field_is_null(f, snap);
    if (n1 || n2)
        return n1 != n2;
    if (calx__ftype_is_rich(f->type))
        return calx__rich_changed(f, p, sp);
    switch (f->type) {
    case CALX_F_TEXT:
    case CALX_F_JSON: {
        const char *a = *(const char *const *)p, *b = *(const char *const *)sp;
        return a != b && strcmp(a, b) != 0;
    }
    case CALX_F_BLOB: {
        const calx_bytes *a = p, *b = sp;
        return a->len != b->len || (a->data != b->data && memcmp(a->data, b->data, a->len) != 0);
    }
    case CALX_F_ARRAY:
        return !calx__value_eq(p, sp);
    case CALX_F_DOUBLE: {
        double a = calx__field_double(f, p), b = calx__field_double(f, sp);
        return !(a == b || (isnan(a) && isnan(b)));
    }
    case CALX_F_BOOL:
        return calx__field_bool(f, p) != calx__field_bool(f, sp);
    default:
        return calx__field_int(f, p) != calx__field_int(f, sp);
    }
}

/* Makes b field i's `cur` (slot: its pair), freeing the one before, but
 * for the buffer the snapshot still points at (snapbuf), kept in `old`. */
static void replace_cur(void **slot, const void *snapbuf, void *b)
{
    if (slot[0] && slot[0] == snapbuf) {
        free(slot[1]);
        slot[1] = slot[0];
    } else {
        free(slot[0]);
    }
    slot[0] = b;
}

/* Makes the object own the buffer its field i points at (copying the
 * program's memory in), keeping the snapshot's buffer alive in `old`. */
static int adopt_buffer(calx_obj *o, const calx__model_facts *fx, size_t i, calx_error *err)
{
    const calx_field *f = &o->model->fields[i];
    const void *cur = calx__field_buffer(f, calx__obj_ptr(o));
    void **slot = calx__field_slots_if(o, fx, i);
    if (!cur || (slot && cur == slot[0]) || in_object(o, cur))
        return 0;
    void *p = calx__field_ptr(calx__obj_ptr(o), f);
    calx_value v = calx__field_value(o->model, f, calx__obj_ptr(o));
    size_t n = calx__field_bytes_size(f, &v);
    char *b = n ? malloc(n) : NULL;
    if ((n && !b) || !(slot = calx__field_slots(o, fx, i))) {
        free(b);
        return calx__nomem(err, "copying %s.%s",
                              o->model->name, f->name);
    }
    replace_cur(slot, calx__field_buffer(f, calx__obj_snap(o)), b);
    calx__field_put_bytes(f, p, &v, b);
    return 0;
}

int calx__obj_take_snapshot(calx_obj *o, calx_error *err)
{
    const calx_model *m = o->model;
    const calx__model_facts *fx = calx__model_facts_of(m);
    for (size_t k = 0; k < fx->nslots; k++) {
        size_t i = calx__slotted_field(fx, k);
        if (m->fields[i].type == CALX_F_JSON_VALUE && calx__json_field_snapshot(o, i, err))
            return -1;
        if (!calx__field_is_buffer(&m->fields[i]))
            continue;
        if (adopt_buffer(o, fx, i, err))
            return -1;
        void **slot = calx__field_slots_if(o, fx, i);
        if (!slot)
            continue;   /* the field points at its tail, or is NULL */
        /* The snapshot now points where the field does: `old` is unused. */
        free(slot[1]);
        slot[1] = NULL;
        if (!calx__field_buffer(&m->fields[i], calx__obj_ptr(o))) {
            free(slot[0]);
            slot[0] = NULL;
        }
    }
    memcpy(calx__obj_snap(o), calx__obj_ptr(o), calx__model_fields_size(m));
    o->has_snap = true;
    return 0;
}

void calx__obj_restore_snapshot(calx_obj *o)
{
    const calx_model *m = o->model;
    const calx__model_facts *fx = calx__model_facts_of(m);
    /* A JSON value goes back to the database's by its text; the snapshot's
     * pointer is taken from the object, never the other way. */
    for (size_t k = 0; fx->json_values && k < fx->nslots; k++) {
        size_t i = calx__slotted_field(fx, k);
        const calx_field *f = &m->fields[i];
        if (f->type != CALX_F_JSON_VALUE)
            continue;
        calx__json_field_revert(o, i);
        memcpy(calx__field_ptr(calx__obj_snap(o), f), calx__field_ptr(calx__obj_ptr(o), f),
               sizeof(struct json_t *));
    }
    memcpy(calx__obj_ptr(o), calx__obj_snap(o), calx__model_fields_size(m));
    for (size_t k = 0; k < fx->nslots; k++) {
        size_t i = calx__slotted_field(fx, k);
        void **slot = calx__field_slots_if(o, fx, i);
        if (!calx__field_is_buffer(&m->fields[i]) || !slot || !slot[1])
            continue;
        /* The field is back on the snapshot's buffer: `cur` is garbage. */
        free(slot[0]);
        slot[0] = slot[1];
        slot[1] = NULL;
    }
}

bool calx__field_has_stored_form(const calx_model *m, size_t i)
{
    const calx_field *f = &m->fields[i];
    return f->type == CALX_F_TIMESTAMP || f->type == CALX_F_JSON ||
           f->type == CALX_F_JSON_VALUE || calx__ftype_is_rich(f->type) ||
           m->table.columns[i].user_type ||
           (f->type == CALX_F_ARRAY && m->table.columns[i].array_of == CALX_COL_ENUM);
}

static void make_facts(const calx_model *m, calx__model_facts *out)
{
    int pk = -1, autoinc = -1, npk = 0;
    bool on = false;
    out->stored_forms = false;
    for (size_t i = 0; i < m->table.ncolumns; i++) {
        const calx_column *c = &m->table.columns[i];
        if (i < m->nfields && calx__field_has_stored_form(m, i))
            out->stored_forms = true;
        if (!c->primary_key)
            continue;
        if (pk < 0)
            pk = (int)i;
        npk++;
        if (on)
            continue;
        if (c->autoincrement == CALX_AUTOINC_ON) {
            autoinc = (int)i;
            on = true;
        } else if (c->autoincrement == CALX_AUTOINC_AUTO && !c->foreign_key &&
                   !c->server_default && (c->type == CALX_COL_INT32 || c->type == CALX_COL_INT64)) {
            autoinc = (int)i;
        }
    }
    out->pk = pk;
    out->npk = (size_t)npk;
    out->autoinc = on || npk == 1 ? autoinc : -1;
    out->json_values = false;
    out->checked = out->validated = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        out->json_values = out->json_values || m->fields[i].type == CALX_F_JSON_VALUE;
        if (i < 64 && calx__field_has_checks(m, i))
            out->checked |= 1ull << i;
        if (i < 64 && !m->fields[i].nullable && (int)i != out->autoinc)
            out->validated |= 1ull << i;
    }
    out->validated |= out->checked;
    /* Until the slot arrays are kept (slot_arrays): a pair per field. */
    out->nslots = m->nfields;
    out->slot_of = out->slotted = NULL;
}

/* m's slot arrays (calx__model_facts.slot_of, then .slotted, in one
 * allocation the process keeps), their pair count in *nslots; NULL when
 * out of memory. */
static uint32_t *slot_arrays(const calx_model *m, size_t *nslots)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nfields; i++)
        n += calx__field_has_slots(&m->fields[i]);
    uint32_t *a = malloc((m->nfields + n + 1) * sizeof *a);
    if (!a)
        return NULL;
    uint32_t *slotted = a + m->nfields;
    size_t k = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        a[i] = calx__field_has_slots(&m->fields[i]) ? (uint32_t)k : UINT32_MAX;
        if (a[i] != UINT32_MAX)
            slotted[k++] = (uint32_t)i;
    }
    *nslots = n;
    return a;
}

/* A model is static data (CALX_MODEL_DEFINE), so what is derived from it
 * never changes; the constructor, the flush and the loaders ask per object. */
CALX_ONCE_TABLE(model_facts, calx__model_facts, CALX__MODEL_FACTS_KEPT);

const calx__model_facts *calx__model_facts_of(const calx_model *m)
{
    const calx__model_facts *kept = calx__once_find(&model_facts, m);
    if (kept)
        return kept;
    /* First use: made, and kept unless the table is full (then made
     * again each time, into this thread's own copy). */
    static _Thread_local calx__model_facts made;
    make_facts(m, &made);
    /* The slot arrays only where they will stay as long as the table
     * does; without them (no memory, or a full table) every field has a
     * pair, and whichever an object of m was made with, it is the one
     * the table gives for the life of the process. */
    calx__model_facts with = made;
    uint32_t *arrays = slot_arrays(m, &with.nslots);
    if (arrays) {
        with.slot_of = arrays;
        with.slotted = arrays + m->nfields;
        calx__once_keep(&model_facts, m, &with);
    } else {
        calx__once_keep(&model_facts, m, &made);
    }
    kept = calx__once_find(&model_facts, m);
    if (!kept || kept->slot_of != arrays)
        free(arrays);   /* not kept: a full table, or another thread's are */
    return kept ? kept : &made;
}

int calx__model_check_key(const calx_model *m, const calx__model_facts *facts, calx_error *err)
{
    if (facts->npk > CALX__MAX_KEY)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s's primary key has %zu columns; calx keeps objects with at "
                              "most %d",
                              m->name, facts->npk, CALX__MAX_KEY);
    return 0;
}

/* What calx needs of a model before it keeps objects of it: a key it can
 * build on the stack, and relationships that resolve. A program that runs
 * this at start-up hears of a bad declaration there, by name; one that
 * does not hears of the key from the constructor or the loader, and of a
 * relationship from its first use. */
int calx_model_check(const calx_model *m, calx_error *err)
{
    if (!m)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_model_check needs a model");
    if (calx__model_check_key(m, calx__model_facts_of(m), err))
        return err->code;
    for (size_t i = 0; i < m->nrelations; i++) {
        calx__relinfo ri;
        if (calx__rel_resolve(&m->relations[i], &ri, err))
            return err->code;
    }
    return 0;
}

int calx__model_pk(const calx_model *m)
{
    return calx__model_facts_of(m)->pk;
}

int calx__model_autoinc(const calx_model *m)
{
    return calx__model_facts_of(m)->autoinc;
}

int calx_model_field_at(const calx_model *m, size_t off)
{
    for (size_t i = 0; m && i < m->nfields; i++)
        if (m->fields[i].offset == off)
            return (int)i;
    return -1;
}

/* ---- setting texts and blobs ---- */

static int field_of(calx_obj *o, const void *field, calx_ftype want, size_t *idx)
{
    size_t off = (size_t)((const char *)field - (const char *)calx__obj_ptr(o));
    int i = calx_model_field_at(o->model, off);
    /* calx_obj_set_text serves JSON fields too: both are texts. */
    calx_ftype t = i < 0 ? 0 : o->model->fields[i].type;
    if (i < 0 || (t != want && !(want == CALX_F_TEXT && t == CALX_F_JSON)))
        return -1;
    *idx = (size_t)i;
    return 0;
}

/* Points field (of obj, of kind want) at a copy of v (NULL for SQL NULL)
 * that the object owns. */
static int set_buffer(void *obj, void *field, calx_ftype want, const calx_value *v)
{
    calx_obj *o = calx__obj_check(obj);
    size_t i;
    if (!o || !field || field_of(o, field, want, &i))
        return CALX_ERR_ARGUMENT;
    const calx_field *f = &o->model->fields[i];
    size_t n = v->type == CALX_NULL ? 0 : calx__field_bytes_size(f, v);
    char *b = n ? malloc(n) : NULL;
    const calx__model_facts *fx = calx__model_facts_of(o->model);
    /* No slots yet and NULL to set: no buffer of the object's to let go. */
    void **slot = b ? calx__field_slots(o, fx, i) : calx__field_slots_if(o, fx, i);
    if (n && !slot) {
        free(b);
        return CALX_ERR_NOMEM;
    }
    if (slot)
        replace_cur(slot, o->has_snap ? calx__field_buffer(f, calx__obj_snap(o)) : NULL, b);
    if (v->type == CALX_NULL)
        set_null(f, field);
    else
        calx__field_put_bytes(f, field, v, b);
    return 0;
}

int calx_obj_set_text(void *obj, const char **field, const char *s)
{
    calx_value v = calx_text(s);
    return set_buffer(obj, field, CALX_F_TEXT, &v);
}

int calx_obj_set_blob(void *obj, calx_bytes *field, const void *p, size_t n)
{
    calx_value v = calx_blob(p, n);
    return set_buffer(obj, field, CALX_F_BLOB, &v);
}

int calx_obj_set_array(void *obj, calx_value *field, calx_value v)
{
    if ((v.type != CALX_ARRAY && v.type != CALX_NULL) || !calx__value_ok(&v))
        return CALX_ERR_ARGUMENT;
    return set_buffer(obj, field, CALX_F_ARRAY, &v);
}
