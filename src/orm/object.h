/* SPDX-License-Identifier: MIT */
/* The hidden part of every model object, and the field-level operations
 * the session builds on (binding, loading, snapshots).
 *
 * One allocation per object:
 *   [calx_obj header][the model's struct][its snapshot][tail]
 * The header is CALX_OBJ_HDR_SIZE bytes, a multiple of CALX_OBJ_ALIGN, so
 * the struct is as aligned as any field needs. The snapshot follows the
 * struct at sizeof the struct (a multiple of its alignment, so the
 * snapshot is as aligned as the struct) and holds the struct's fields
 * only, not the relationship members after them
 * (calx__model_fields_size); the tail follows it at a pointer's
 * alignment and holds the texts and blobs the object was made with.
 * Nothing else is rounded: every byte is memory a large load faults in.
 * CALX_OBJ_ALIGN is 8, not malloc's 16: no struct needs more (calx's
 * field types, calx_decimal's two 64-bit words included, and relationship
 * members), and core/blocks.h carves objects at 8 bytes' alignment.
 * The program's pointer is to the struct. The snapshot is a copy of the
 * struct as the database last had it (after a load or a flush): a flush
 * compares field by field and writes only what differs.
 *
 * Slots: only the fields that need them have them, text, blob, JSON and
 * ARRAY fields (calx__field_is_buffer) and JSON_VALUE fields, two each,
 * in field order: the model's facts give each such field its pair
 * (calx__slot_index), computed once per model, not per object. A buffer
 * field's pair is `cur` (the buffer the field points at, when the object
 * allocated it) and `old` (a buffer only the snapshot still points at).
 * The snapshot never points at the program's memory, so a field the
 * program pointed elsewhere is seen as changed and copied in at the next
 * flush. A JSON_VALUE field's pair holds texts (field_json.c). The pairs
 * are an allocation of their own, made the first time a slot gets a
 * buffer (calx__field_slots): an object loaded or constructed with its
 * texts in its tail, most objects, never has one, and a load of 100,000
 * heroes faults in 3.2 MB less for it. */
#ifndef CALX_ORM_OBJECT_H
#define CALX_ORM_OBJECT_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "calx/model.h"
#include "calx/value.h"
#include "core/buf.h"

struct calx_session;

typedef enum calx_objstate {
    CALX_OBJ_TRANSIENT = 0,  /* not in a session */
    CALX_OBJ_PENDING,        /* added, not flushed */
    CALX_OBJ_PERSISTENT,     /* in the identity map, with a row */
    CALX_OBJ_DELETED,        /* its DELETE flushed, not yet committed */
    CALX_OBJ_DETACHED        /* had a row; no session tracks it now */
} calx_objstate;

/* 72 bytes on a 64-bit machine. */
typedef struct calx_obj {
    struct calx_session *owner;     /* the session that frees it (NULL: the
                                       program); the session it is in, if any
                                       (in_session; calx__obj_session) */
    struct calx_obj *prev, *next;   /* the owner's list of what it owns */
    struct calx__relstate *rels;    /* per relationship, what the database
                                       has; NULL until needed (relation.c) */
    void **slots;            /* the slot pairs (below); NULL until a field
                                needs one, every slot NULL till then */
    uint32_t sp_gen;         /* savepoint generation it was last changed in
                                (a session stops at UINT32_MAX of them) */
    uint32_t size;           /* bytes in the allocation (texts and blobs made
                                with the object live at its end); at most
                                CALX_OBJ_MAX_SIZE */
    uint32_t rel_loaded;     /* bit r: relationship r is loaded */
    /* Last, next to the struct: what an identity-map hit reads (hash,
     * model, expired) shares a cache line with the struct's first field,
     * where a key usually is. */
    uint32_t hash;           /* identity map: the key's hash, its low 32
                                bits (what the map's slots keep) */
    const calx_model *model;
    uint32_t magic;
    /* The state and the flags, in one word: every byte of the header is
     * memory a large load faults in, once per object. */
    unsigned state : 3;          /* calx_objstate */
    bool expired : 1;            /* fields may be stale; reload before use */
    bool has_snap : 1;
    bool delete_marked : 1;      /* session.delete() called, not flushed */
    bool in_map : 1;
    bool in_session : 1;         /* in its owner's session (added or loaded) */
    /* Relationship flags. */
    bool orphan : 1;             /* removed from a delete-orphan collection */
    bool sent : 1;               /* the flush under way has sent its statement
                                    (flush.c: rounds skip it; cleared after) */
    bool waits : 1;              /* during a flush round: a key it needs is not
                                    known yet (relwrite.c lists why) */
    bool in_block : 1;           /* its memory is core/blocks.h's, not malloc's */
    bool counted : 1;            /* constructed into malloc's memory: counted in
                                    the bytes that decide when constructing
                                    turns to blocks (calx__obj_alloc_new) */
    bool rels_in_block : 1;      /* rels is core/blocks.h's memory (relation.c) */
} calx_obj;

#define CALX_OBJ_MAGIC 0xca1c0b1eu
#define CALX_OBJ_ALIGN 8
#define CALX_OBJ_HDR_SIZE                                                     \
    ((sizeof(calx_obj) + CALX_OBJ_ALIGN - 1) / CALX_OBJ_ALIGN * CALX_OBJ_ALIGN)
/* The largest object (calx_obj.size is 32 bits): 4 GiB less one byte. */
#define CALX_OBJ_MAX_SIZE UINT32_MAX

static inline calx_obj *calx__obj_hdr(const void *p)
{
    return (calx_obj *)((char *)p - CALX_OBJ_HDR_SIZE);
}

/* The session o is in, NULL when in none: its owner then, as an object
 * in a session is owned by it (one pointer less in every object). */
static inline struct calx_session *calx__obj_session(const calx_obj *o)
{
    return o->in_session ? o->owner : NULL;
}

static inline void *calx__obj_ptr(const calx_obj *o)
{
    return (char *)o + CALX_OBJ_HDR_SIZE;
}

static inline void *calx__obj_snap(const calx_obj *o)
{
    return (char *)calx__obj_ptr(o) + o->model->size;
}

/* The bytes of m's struct its fields take: the snapshot copies these,
 * never the relationship members that follow them. */
static inline size_t calx__model_fields_size(const calx_model *m)
{
    return m->fields_size ? m->fields_size : m->size;
}

/* Where the tail starts, from the struct's start: past the struct and the
 * snapshot, at a pointer's alignment (a snapshot of int32 fields may end
 * between two, and an ARRAY's items in the tail are values). */
static inline size_t calx__tail_offset(const calx_model *m)
{
    size_t n = m->size + calx__model_fields_size(m);
    return (n + alignof(void *) - 1) / alignof(void *) * alignof(void *);
}

static inline void *calx__field_ptr(const void *s, const calx_field *f)
{
    return (char *)s + f->offset;
}

/* The header of p, or NULL when p is not a model object. */
calx_obj *calx__obj_check(const void *p);

struct calx__blocks;
struct calx__model_facts;

/* A new zeroed object of m (transient) with extra bytes
 * at its end for the texts and blobs it is made with (calx__obj_tail), or
 * NULL (out of memory, or larger than CALX_OBJ_MAX_SIZE:
 * calx__obj_check_size says which first). Its memory comes from blocks
 * when not NULL (and the object fits in one), else from malloc;
 * calx__obj_destroy knows which. */
calx_obj *calx__obj_alloc(const calx_model *m, size_t extra, struct calx__blocks *blocks);

/* calx__obj_alloc for an object the program constructs: from the
 * thread's blocks (core/blocks.h) while the process holds a block's worth
 * of constructed objects from malloc, from malloc otherwise. A program
 * building a bulk insert makes its objects by bumping an offset, no
 * malloc call or header each; a program that builds an object now and
 * then never holds that many, so a kept one never pins a block. */
calx_obj *calx__obj_alloc_new(const calx_model *m, size_t extra);

/* A persistent-to-be object made from a row (values in the model's field
 * order; fx: m's facts), texts and blobs in the same allocation; its
 * snapshot equals it.
 * Memory as calx__obj_alloc's (blocks may be NULL). NULL with
 * CALX_ERR_TYPE, CALX_ERR_DATA (texts and blobs past CALX_OBJ_MAX_SIZE;
 * JSON jansson cannot hold) or CALX_ERR_NOMEM. */
calx_obj *calx__obj_from_row(const calx_model *m, const struct calx__model_facts *fx,
                             const calx_value *vals, struct calx__blocks *blocks,
                             calx_error *err);

/* Frees o and every buffer it owns. */
void calx__obj_destroy(calx_obj *o);

/* Field accessors shared by the object code (model.c), the constructor
 * (construct.c) and the repr (repr.c). p is the field's address (in the
 * object or its snapshot); s is the struct. */
static inline bool calx__field_is_buffer(const calx_field *f)
{
    return f->type == CALX_F_TEXT || f->type == CALX_F_BLOB || f->type == CALX_F_JSON ||
           f->type == CALX_F_ARRAY;
}
/* A buffer field held as a NUL-terminated const char * (TEXT, JSON); the
 * other is BLOB's calx_bytes. */
static inline bool calx__field_is_text(const calx_field *f)
{
    return f->type == CALX_F_TEXT || f->type == CALX_F_JSON;
}

/* A buffer field's value v (not NULL, of a type the field takes) in
 * memory of the object's: calx__field_bytes_size bytes at dst, which
 * calx__field_put_bytes fills, pointing the field at p to them. A text or
 * blob is its bytes and a NUL; an ARRAY its items and their texts
 * (calx__value_keep), none for an empty one. */
size_t calx__field_bytes_size(const calx_field *f, const calx_value *v);
void calx__field_put_bytes(const calx_field *f, void *p, const calx_value *v, char *dst);

/* field_json.c: JSON_VALUE fields (jansson's json_t), field i of o.
 *   release   drops the object's reference to each such field's value
 *   set       the field's value parsed from v (JSON or TEXT; NULL is SQL
 *             NULL), as a change: the slots are left (CALX_ERR_DATA naming
 *             the field for text jansson cannot hold, CALX_ERR_TYPE)
 *   load      set, and the value is what the database has (slot `old`)
 *   changed   whether the value's text differs from the database's
 *   sync      the value's text made, for the flush to bind (slot `cur`)
 *   value     the text the flush binds (after sync), else the database's
 *   snapshot  the value's text becomes what the database has
 *   revert    back to what the database has (a rollback) */
void calx__json_field_release(calx_obj *o);
int calx__json_field_set(calx_obj *o, size_t i, const calx_value *v, calx_error *err);
int calx__json_field_load(calx_obj *o, size_t i, const calx_value *v, calx_error *err);
bool calx__json_field_changed(const calx_obj *o, size_t i);
int calx__json_field_sync(calx_obj *o, size_t i, calx_error *err);
calx_value calx__json_field_value(const calx_obj *o, size_t i);
int calx__json_field_snapshot(calx_obj *o, size_t i, calx_error *err);
void calx__json_field_revert(calx_obj *o, size_t i);
/* A deep copy of v (merge), and a reference dropped; NULL passes. */
struct json_t *calx__json_field_copy(const struct json_t *v);
void calx__json_value_release(struct json_t *v);
/* v as Python prints the dict, list, str, ... SQLModel holds (repr). */
void calx__json_repr(calx_buf *b, const struct json_t *v);

/* repr.c: a text (or bytes) and a double as Python's repr writes them. */
void calx__repr_str(calx_buf *b, const char *s, size_t n);
void calx__repr_real(calx_buf *b, double d);

/* field_types.c: the richer kinds (DECIMAL, UUID, DATE, TIME, DATETIME,
 * INTERVAL, ENUM), p the field's address. */
/* The field's size in the struct (its nullable form's when nullable). */
size_t calx__rich_size(const calx_field *f);
/* The bytes field f takes in the struct (its nullable form's when
 * nullable), of any type. */
size_t calx__field_size(const calx_field *f);
bool calx__rich_is_null(const calx_field *f, const void *p);
void calx__rich_set_null(const calx_field *f, void *p);
/* The field as a value to bind: a decimal at its column's scale, an enum
 * as its name. */
calx_value calx__rich_value(const calx_model *m, const calx_field *f, const void *p);
/* Stores v (not NULL, already the column's type: the dialect's
 * stored_value ran) in the field at p. Errors: CALX_ERR_TYPE for a value of
 * another type; CALX_ERR_DATA for an enum name the type does not have. */
int calx__rich_store(const calx_model *m, const calx_field *f, void *p, const calx_value *v,
                     calx_error *err);
bool calx__rich_changed(const calx_field *f, const void *a, const void *b);
/* Validation: a decimal within its column's precision and scale, an enum
 * value that has a name. CALX_ERR_VALIDATION naming model, field, value. */
int calx__rich_check(const calx_model *m, const calx_field *f, const void *p, calx_error *err);
/* The constructor's "left out" markers (model.h's CALX__UNSET_), and
 * taking an argument into the field. */
bool calx__rich_arg_unset(const calx_field *f, const void *a);
int calx__rich_take_arg(const calx_model *m, const calx_field *f, void *p, const void *a,
                        calx_error *err);
void calx__rich_repr(calx_buf *b, const calx_model *m, const calx_field *f, const void *p);
/* Value i of enum type e as SQLModel shows an Enum member, <mood.happy:
 * 'happy'>; a value out of range as its number. */
void calx__enum_repr(calx_buf *b, const calx_enum *e, int64_t i);
/* A text or blob field's bytes (NULL: SQL NULL). */
const void *calx__field_buffer(const calx_field *f, const void *s);
/* Points the text or blob field at p to b (len bytes, for a blob). */
void calx__field_set_buffer(const calx_field *f, void *p, const char *b, size_t len);
int64_t calx__field_int(const calx_field *f, const void *p);
double calx__field_double(const calx_field *f, const void *p);
bool calx__field_bool(const calx_field *f, const void *p);

/* Whether t is one of the richer kinds field_types.c serves. Inline, as
 * calx__field_is_null: the constructor, the flush and the loaders ask it
 * for every field of every object. */
static inline bool calx__ftype_is_rich(calx_ftype t)
{
    return t >= CALX_F_DECIMAL && t <= CALX_F_ENUM && t != CALX_F_JSON;
}

/* True when field f of struct s (the object or its snapshot) is NULL. */
static inline bool calx__field_is_null(const calx_field *f, const void *s)
{
    const void *p = calx__field_ptr(s, f);
    switch (f->type) {
    case CALX_F_TEXT:
    case CALX_F_JSON: return *(const char *const *)p == NULL;
    case CALX_F_BLOB: return ((const calx_bytes *)p)->data == NULL;
    case CALX_F_ARRAY: return ((const calx_value *)p)->type == CALX_NULL;
    case CALX_F_JSON_VALUE: return *(struct json_t *const *)p == NULL;
    default: break;
    }
    if (!f->nullable)
        return false;
    switch (f->type) {
    case CALX_F_INT32: return !((const calx_opt_int32 *)p)->valid;
    case CALX_F_INT64: return !((const calx_opt_int64 *)p)->valid;
    case CALX_F_DOUBLE: return !((const calx_opt_double *)p)->valid;
    case CALX_F_BOOL: return !((const calx_opt_bool *)p)->valid;
    case CALX_F_TIMESTAMP: return !((const calx_opt_timestamp *)p)->valid;
    default: return calx__rich_is_null(f, p);
    }
}

/* Field f of m's struct s as a value to bind. Text, JSON and blob values
 * point at the struct's memory; the others hold their value. */
calx_value calx__field_value(const calx_model *m, const calx_field *f, const void *s);

/* Sets field i of o (object and snapshot both: the database's value) from
 * v, converting as the column's type needs. CALX_ERR_TYPE when v cannot
 * be held (text in an integer field), CALX_ERR_NOMEM. */
int calx__obj_load_field(calx_obj *o, size_t i, const calx_value *v, calx_error *err);

/* Sets field i of the object only (not the snapshot: the flush then sees
 * a change), from v, as calx__obj_load_field converts it. The foreign-key
 * sync of relationships writes keys this way. CALX_ERR_TYPE, CALX_ERR_NOMEM. */
int calx__obj_set_field(calx_obj *o, size_t i, const calx_value *v, calx_error *err);

/* True when field i differs from the snapshot. */
bool calx__obj_field_changed(const calx_obj *o, size_t i);

/* Makes the snapshot equal the object (after a flush wrote it), copying
 * in any text or blob the program pointed at its own memory. */
int calx__obj_take_snapshot(calx_obj *o, calx_error *err);

/* Puts the snapshot's values back into the object (rollback of a change
 * that was never flushed is not this: used when a reload keeps nothing). */
void calx__obj_restore_snapshot(calx_obj *o);

/* What never changes about a model, computed on first use and kept for
 * the process (core/once_table.h): the model must be static, as
 * CALX_MODEL_DEFINE makes it. */
typedef struct calx__model_facts {
    int pk;             /* calx__model_pk */
    int autoinc;        /* calx__model_autoinc */
    size_t npk;         /* primary-key columns */
    bool stored_forms;  /* a field is read back in a stored form
                           (calx__field_has_stored_form) */
    bool json_values;   /* a JSON_VALUE field (its reference to drop) */
    uint64_t checked;   /* bit i: field i's values have checks beyond NULL
                           (calx__field_has_checks; fields past the 64th:
                           calx__facts_field_checked says yes) */
    uint64_t validated; /* bit i: field i can fail validation: checked, or
                           NOT NULL (not nullable, not the autoinc key);
                           the fields validation visits (to the 64th) */
    size_t nslots;      /* slot pairs: the fields with slots */
    /* Per field, its pair (fields without slots: UINT32_MAX); per pair,
     * its field. Both NULL when the arrays could not be kept (no memory,
     * or a full table): then field i has pair i, nslots is nfields. */
    const uint32_t *slot_of;
    const uint32_t *slotted;
} calx__model_facts;
/* How many models' facts are kept (model.c's once-table); past that,
 * calx__model_facts_of makes them again on each call. */
#define CALX__MODEL_FACTS_KEPT 1024

/* m's facts: calx's, unchanged for the life of the process (in the rare
 * case of a full table, until this thread's next call). */
const calx__model_facts *calx__model_facts_of(const calx_model *m);

/* construct.c: whether a value of m's field i (not NULL) has anything to
 * be checked against -- a user type, a richer kind, an ARRAY, JSON, a
 * max_length, ge / le -- beyond the NULL check every field has. */
bool calx__field_has_checks(const calx_model *m, size_t i);

/* Whether field i of the model fx describes has checks (the validation's
 * per-field test, made once per model). */
static inline bool calx__facts_field_checked(const calx__model_facts *fx, size_t i)
{
    return i >= 64 || (fx->checked >> i & 1);
}

/* Whether field f has slots: a buffer or a JSON_VALUE field. */
static inline bool calx__field_has_slots(const calx_field *f)
{
    return calx__field_is_buffer(f) || f->type == CALX_F_JSON_VALUE;
}

/* Field i's slot pair (field i has slots), and pair k's field. */
static inline size_t calx__slot_index(const calx__model_facts *fx, size_t i)
{
    return fx->slot_of ? fx->slot_of[i] : i;
}
static inline size_t calx__slotted_field(const calx__model_facts *fx, size_t k)
{
    return fx->slotted ? fx->slotted[k] : k;
}

/* Field i's two slots, [0] `cur` and [1] `old` (field i has slots), to
 * read: NULL when o has no slots yet, and both are then NULL. */
static inline void **calx__field_slots_if(const calx_obj *o, const calx__model_facts *fx,
                                          size_t i)
{
    return o->slots ? o->slots + 2 * calx__slot_index(fx, i) : NULL;
}

/* Field i's two slots (field i has slots), to write: o's slots are made,
 * every one NULL, when it has none. NULL only when out of memory. */
void **calx__field_slots(calx_obj *o, const calx__model_facts *fx, size_t i);

/* 0 when an object of m with extra bytes of texts and
 * blobs fits in CALX_OBJ_MAX_SIZE, else CALX_ERR_DATA naming the model
 * and the size. */
int calx__obj_check_size(const calx_model *m, size_t extra, calx_error *err);

/* The extra bytes of calx__obj_alloc. */
static inline char *calx__obj_tail(const calx_obj *o)
{
    return (char *)calx__obj_ptr(o) + calx__tail_offset(o->model);
}

/* 0, or CALX_ERR_ARGUMENT when m has more primary-key columns than calx
 * keeps (CALX__MAX_KEY, session_int.h). */
int calx__model_check_key(const calx_model *m, const calx__model_facts *facts, calx_error *err);

/* Whether field i of m comes back in a form its dialect turns into the
 * column's type (SQLite's texts and scaled integers; PostgreSQL's texts),
 * or that its column's user type turns into the program's. */
bool calx__field_has_stored_form(const calx_model *m, size_t i);

/* Index of the first primary-key column (single-column keys are the
 * common case); -1 when the model has none. */
int calx__model_pk(const calx_model *m);

/* The primary key column that the database generates on insert (an
 * autoincrementing integer), or -1. */
int calx__model_autoinc(const calx_model *m);

#endif
