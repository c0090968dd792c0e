/* SPDX-License-Identifier: MIT */
/* The session's insides, shared by session.c (states, transactions),
 * identity.c (the identity map), flush.c (the unit of work), load.c
 * (get, refresh, queries), rows.c (selects of several entities) and
 * relload.c / reljoin.c (loading relationships). */
#ifndef CALX_ORM_SESSION_INT_H
#define CALX_ORM_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calx/connection.h"
#include "calx/session.h"
#include "core/blocks.h"
#include "driver/driver.h"
#include "engine/sql_memo.h"
#include "orm/object.h"
#include "sql/dialect.h"

/* A growable array of objects. */
typedef struct calx_objvec {
    calx_obj **v;
    size_t n, cap;
} calx_objvec;

int calx__objvec_push(calx_objvec *ov, calx_obj *o);
/* Removes o (order kept). */
void calx__objvec_remove(calx_objvec *ov, calx_obj *o);
void calx__objvec_free(calx_objvec *ov);

/* A slot of the identity map's index table (identity.c): the low 32 bits
 * of an object's key hash and its place in the session's map_objs, plus
 * one (0: the slot is empty). A probe compares the hash bits in the table
 * and reads an object only when they match: a lookup that missed in a
 * map of 100,000 objects used to read several, a cache miss each. */
typedef struct calx__map_slot {
    uint32_t hash;
    uint32_t entry;
} calx__map_slot;

/* The slots of a session's first table (a power of two). */
#define CALX__MAP_FIRST_SLOTS 8

/* A savepoint's mark: what the lists held when it began. */
typedef struct calx_spframe {
    size_t ninserted, ndeleted;
    uint32_t gen;             /* objects flushed after it have sp_gen >= gen */
} calx_spframe;

#define CALX_SESSION_MAX_SAVEPOINTS 32

/* What the ORM's texts kept by the engine are (calx__engine_memo_*, with
 * the model as owner): a get's SELECT by key, the same joining a set of
 * the model's relationships (the mask: bit i for relations[i]; reljoin.c),
 * a flush's UPDATE of a set of columns and its DELETE by key; and, with
 * the relationship as owner, the SELECT that loads it for one owner
 * (relload.c). */
enum {
    CALX__MEMO_GET = 1,
    CALX__MEMO_GET_JOINED,
    CALX__MEMO_UPDATE,
    CALX__MEMO_DELETE,
    CALX__MEMO_UPDATE_CHECKED,  /* in the dialect's row-checking form (flush.c) */
    CALX__MEMO_DELETE_CHECKED,
    CALX__MEMO_REL_ONE
};

/* Compiles q (freed here) with flags (calx__select_compile's; the ORM's
 * loads by key: CALX_COMPILE_LABELS) for a text kept per engine under
 * (owner, kind, mask) (sql_memo.c; load.c): 0 and *kept true when the
 * engine took it (*out then lives as long as the engine), 0 and *kept
 * false when the engine keeps no more (out->sql and out->types then the
 * caller's to free), or the compile's error. */
int calx__memo_select(calx_session *s, const void *owner, unsigned kind, uint64_t mask,
                      unsigned flags, calx_select *q, calx__memo_text *out, bool *kept,
                      calx_error *err);
/* A get's select: m's row whose key columns equal parameters (slots of
 * the columns' stored types, bound in key-column order). */
calx_select *calx__get_select(const calx_model *m);

typedef struct calx_getsql {
    const calx_model *m;
    char *sql;
    calx_dtype *types;        /* what its key parameters meet (the compile's) */
} calx_getsql;

struct calx_session {
    calx_session_opts opts;
    const calx_dialect *dialect;
    calx_connection *conn;    /* the primary's, checked out while a transaction
                                 that wrote (or is pinned there) is open */
    calx_connection *read_conn; /* a replica's, while the transaction has only
                                 read (the engine's replicas; docs/replicas.md) */
    bool wrote;               /* the transaction has written (calx__session_conn) */
    bool commit_sent;         /* the last commit's COMMIT went to the database
                                 (a failure after it may have committed) */
    bool call_primary;        /* this call's reads go to the primary
                                 (calx_exec_opts.use_primary); leave clears it */
    /* Read-your-writes (docs/replicas.md). */
    uint64_t wrote_ns;        /* monotonic time of the last commit that wrote */
    char token[CALX_CAUSAL_TOKEN_SIZE]; /* the log position replica reads wait
                                           for; "" for none */
    bool token_lost;          /* the position after a commit could not be read:
                                 the next transaction reads on the primary */
    bool began;               /* a transaction is open (maybe with no connection yet) */
    bool explicit_begin;      /* calx_session_begin was called */
    bool busy;                /* a call is suspended in a task */
    bool need_rollback;
    calx_error failed;        /* the flush error that made need_rollback */

    calx_obj *owned;          /* every object the session owns (prev/next) */
    bool has_relations;       /* an object of a model with relationships has
                                 entered it (owned or mapped): until then the
                                 flush's relationship passes have nothing to do */

    /* Where loaded objects' memory comes from: malloc until the session
     * has loaded a block's worth, then blocks (core/blocks.h), an offset
     * bumped for each object. A get or a small query never maps a
     * block. */
    size_t loaded_bytes;      /* object bytes loaded through malloc */
    bool bulk_load;           /* a load of more rows than its first chunk runs */
    calx__blocks blocks;

    /* The identity map (identity.c): its objects in the order they entered
     * it, NULL where one has left since (the session-wide passes walk
     * these, map_used of them), and an index table of map_cap slots. */
    calx_obj **map_objs;
    size_t map_used, map_objs_cap;
    calx__map_slot *map;
    size_t map_cap, map_n;    /* slots; objects in the map */
    /* Where both start: the commonest session, one request's or one
     * transaction's, holds an object or two, and its map then costs no
     * allocation. */
    calx__map_slot map_first[CALX__MAP_FIRST_SLOTS];
    calx_obj *map_objs_first[CALX__MAP_FIRST_SLOTS / 4 * 3];

    calx_objvec pending;      /* added, not flushed, in the order added */
    calx_objvec deleting;     /* delete() called, not flushed */
    calx_objvec inserted;     /* INSERTed in this transaction */
    calx_objvec deleted;      /* DELETEd in this transaction */
    uint32_t gen;             /* savepoints begun (calx_obj.sp_gen's width) */
    size_t sp_depth;
    calx_spframe sp[CALX_SESSION_MAX_SAVEPOINTS];

    /* The SELECT of a get, per model (load.c). */
    struct calx_getsql *getsql;
    size_t ngetsql;

    /* The last model a get asked for, and its key: an integer key's field
     * (or -1) and the number of key columns. */
    const calx_model *get_model;
    int get_intpk;
    size_t get_npk;
    bool get_joins;           /* get_model's .lazy joins a relationship */
};

/* ---- identity.c ---- */

/* One key value's hash, and whether two key values are equal (the map's
 * own; relload.c sorts rows to their owners with them). */
uint64_t calx__value_hash(const calx_value *v);
bool calx__value_eq(const calx_value *a, const calx_value *b);
/* The hash of a model's primary key given as values. */
uint64_t calx__key_hash(const calx_model *m, const calx_value *key, size_t nkey);

/* Its parts, inline for the commonest key, one integer, which a load
 * hashes for every row and a get for every call: calx__key_hash_int(m, v)
 * is calx__key_hash(m, &calx_int(v), 1). */
static inline uint64_t calx__key_mix(uint64_t h, uint64_t x)
{
    return h ^ (x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

static inline uint64_t calx__int_hash(int64_t i)
{
    return (uint64_t)i * 0xff51afd7ed558ccdull;
}

static inline uint64_t calx__key_hash_end(uint64_t h)
{
    return h ? h : 1;   /* 0 is no object's hash */
}

static inline uint64_t calx__key_hash_int(const calx_model *m, int64_t v)
{
    return calx__key_hash_end(calx__key_mix((uint64_t)(uintptr_t)m, calx__int_hash(v)));
}

/* calx__key_hash, one integer's without the call. */
static inline uint64_t calx__key_hash_fast(const calx_model *m, const calx_value *key,
                                           size_t nkey)
{
    if (nkey == 1 && key[0].type == CALX_INT)
        return calx__key_hash_int(m, key[0].u.i);
    return calx__key_hash(m, key, nkey);
}
/* The most primary-key columns a model may have: keys are built on the
 * stack. calx_model_check refuses a model with more, by name; so do the
 * constructor and the loaders (calx__model_check_key), which a model
 * reaches whether or not the program ran that check. */
#define CALX__MAX_KEY 8
/* The primary key of o (struct s: the object or its snapshot) as values,
 * at most CALX__MAX_KEY of them; texts point into s. */
size_t calx__obj_key(const calx_obj *o, const void *s, calx_value *out);
/* Orders two keys of n values, integers by value and texts by strcmp,
 * column by column (what the flush's key order and the identity map's
 * listing sort by); values of other types compare equal. */
int calx__key_cmp(const calx_value *a, const calx_value *b, size_t n);
/* The object of m with key in the map, or NULL. */
calx_obj *calx__map_find(const calx_session *s, const calx_model *m, const calx_value *key,
                         size_t nkey);
/* The object of m whose single integer key field pk holds v, or NULL. */
calx_obj *calx__map_find_int(const calx_session *s, const calx_model *m, size_t pk, int64_t v);
/* calx__map_find with the key's hash already computed. */
calx_obj *calx__map_find_h(const calx_session *s, const calx_model *m, const calx_value *key,
                           size_t nkey, uint64_t h);
/* The hash of o's current key for calx__map_insert_h, with a prefetch
 * of the slot where that insert starts looking: a flush placing 100,000
 * new rows asks some rows ahead, so that their slots' cache misses
 * overlap instead of coming one after another. */
uint64_t calx__map_prepare(const calx_session *s, const calx_obj *o);
/* A prefetch of the slot where a lookup or insert of hash h starts. */
static inline void calx__map_prefetch(const calx_session *s, uint64_t h)
{
    if (s->map_cap)
        __builtin_prefetch(&s->map[h & (s->map_cap - 1)], 1);
}
/* calx__map_insert for a key whose hash is h. */
int calx__map_insert_h(calx_session *s, calx_obj *o, uint64_t h);
/* Puts o in the map under its current key. 0 or CALX_ERR_NOMEM. */
int calx__map_insert(calx_session *s, calx_obj *o);
/* Room in the map for n more objects, made at once (a flush about to
 * insert 100,000 would otherwise grow it a dozen times, each time
 * visiting every object again). 0 or CALX_ERR_NOMEM. */
int calx__map_reserve(calx_session *s, size_t n);
void calx__map_remove(calx_session *s, calx_obj *o);
void calx__map_free(calx_session *s);

/* ---- session.c ---- */

/* Takes o out of s, the map and every list: it is then in no session
 * (transient if it was pending, else detached), still owned by s. The
 * one way out of a session for a single object, so that another session
 * can take it over without s touching it again. */
void calx__session_detach(calx_session *s, calx_obj *o);
/* Records that o's row was deleted in this transaction (by a flush or a
 * bulk DELETE): out of the map, DELETED, and on the deleted list that
 * commit detaches and rollback restores. 0 or CALX_ERR_NOMEM. */
int calx__session_deleted(calx_session *s, calx_obj *o, calx_error *err);
/* Makes s o's owner (on s's owned list), taking o from the session that
 * owned it before, if any: an object has one owner (see session.h). */
void calx__session_own(calx_session *s, calx_obj *o);

/* Where the next object s loads gets its memory: NULL (malloc) until s
 * has loaded CALX_BLOCK_SIZE bytes of objects or runs a bulk load
 * (calx__load_begin), then s's blocks. */
static inline calx__blocks *calx__session_blocks(calx_session *s)
{
    return s->loaded_bytes >= CALX_BLOCK_SIZE || s->bulk_load ? &s->blocks : NULL;
}

/* calx_session_add without the call's guard, and without the cascade:
 * the save-update cascade (relwrite.c) adds what it reaches this way. */
int calx__session_add_obj(calx_session *s, calx_obj *o, calx_error *err);
/* calx_session_delete without the call's guard: marks persistent o for
 * DELETE (the delete cascades and delete-orphan, relwrite.c, cascade.c). */
int calx__session_delete_obj(calx_session *s, calx_obj *o, calx_error *err);
/* Takes the connection the session's transaction runs on for a write,
 * checking one out (and beginning) when needed: the primary's (a
 * replica's connection held for reads is given back first); the
 * transaction has written from then on. Must run in a task. */
int calx__session_conn(calx_session *s, calx_error *err);
/* As calx__session_conn for a read pinned to the primary: the transaction
 * has not written for it. */
int calx__session_primary(calx_session *s, calx_error *err);
/* CALX_ERR_STATE when s may not begin by itself (no_autobegin). */
int calx__session_check_autobegin(const calx_session *s, calx_error *err);

/* ---- route.c ---- */

/* The connection a read runs on (*out, the session's): the primary's when
 * the transaction has one (it wrote, or the session or call is pinned
 * there, or read-your-writes sends it there), else a replica's
 * (calx_engine_connect_replica, which gives the primary's when the engine
 * has no replica or none is healthy: that one then becomes the
 * transaction's own), which has replayed the session's causal token when
 * it has one. Must run in a task. */
int calx__session_read_conn(calx_session *s, calx_connection **out, calx_error *err);
/* The transaction on s->conn has committed having written: read-your-writes
 * takes note (the time; with causal_reads the log position, one query on
 * s->conn). Never fails: a position it cannot read sends the next
 * transaction to the primary. */
void calx__route_committed(calx_session *s);
/* Entering and leaving a public call (see session.c): the busy guard,
 * the task check, the failed-flush state, and autocommit. */
int calx__session_enter(calx_session *s, bool db, calx_error *err);
int calx__session_leave(calx_session *s, int rc, calx_error *err);

/* ---- flush.c ---- */

/* The flush proper (the caller has the session entered). */
int calx__flush(calx_session *s, calx_error *err);
/* As calx__flush; with commit, a flush that sends anything ends its batch
 * with COMMIT (*committed then true). */
int calx__flush_ex(calx_session *s, bool commit, bool *committed, calx_error *err);
/* Whether anything is waiting to be flushed; with scan, persistent
 * objects are compared with their snapshots too. */
bool calx__flush_needed(const calx_session *s, bool scan);

/* ---- relwrite.c (writing through relationships) ---- */

/* A foreign key the sync could not set: o's field waits for the key of
 * target, a pending object whose key the database makes. o is NULL for a
 * many-to-many pair whose link row waits for target's key. */
typedef struct calx__relwait {
    calx_obj *o;
    size_t field;
    calx_obj *target;
    const struct calx_relation *rel;   /* the relationship that needs it */
} calx__relwait;

typedef struct calx__relwaits {
    calx__relwait *v;
    size_t n, cap;
} calx__relwaits;

/* save-update from o: every transient or detached object o's loaded
 * relationships reach (where their cascade has save-update) is added to
 * s, and so on from those. CALX_ERR_STATE for an object reached that is
 * in another session (those before it stay added); CALX_ERR_NOMEM. */
int calx__relwrite_cascade(calx_session *s, calx_obj *o, calx_error *err);
/* The flush's first pass: save-update again from every object in s (its
 * relationships may have changed since it was added). *found: whether any
 * object writes through a relationship; when none does, the flush changes
 * no relationship either, and calx__relwrite_flushed has nothing to do. */
int calx__relwrite_prepare(calx_session *s, bool *found, calx_error *err);
/* The foreign-key sync (see relwrite.c): sets the key fields that follow
 * from the relationships, deletes orphans, makes and deletes link-model
 * objects, and lists in w (emptied first) what waits for a key. */
int calx__relwrite_sync(calx_session *s, calx__relwaits *w, calx_error *err);
/* Whether a relationship of a persistent object differs from what the
 * database has (a flush has work even when no field changed). */
bool calx__relwrite_changed(const calx_session *s);
/* After a flush: what the relationships hold is what the database has. */
int calx__relwrite_flushed(calx_session *s, calx_error *err);
/* The link row of the pair (o, t) of ri goes: its link object (the
 * identity map's, or a stub made from the key) is marked for delete. */
struct calx__relinfo;
int calx__relwrite_unlink(calx_session *s, const struct calx__relinfo *ri, calx_obj *o,
                          calx_obj *t, calx_error *err);

/* ---- cascade.c (deleting through relationships) ---- */

/* Before a flush sends anything: the delete cascades of every object
 * marked for delete (children deleted, loaded first; link rows deleted;
 * children's keys NULL without cascade). CALX_ERR_INTEGRITY naming the
 * parent, the relationship and the child when that key is NOT NULL; the
 * loads' errors. */
int calx__cascade_deletes(calx_session *s, calx_error *err);

/* ---- load.c ---- */

/* Rows a query's load reads at a time (load.c's queries, relload.c's
 * relationship loads): a large result streams, so it never sits in memory
 * whole as rows beside its objects, and the driver reads the next chunk
 * while the loop builds the objects of this one. */
#define CALX__LOAD_CHUNK_ROWS 5000

/* The first chunk of a load, each chunk after having twice the rows of
 * the one before, up to CALX__LOAD_CHUNK_ROWS (the engine's growth). The
 * program builds the objects of a small first chunk while the driver reads
 * the next, where a full first chunk kept both waiting for the database's
 * first 5,000 rows; the large chunks after cost SQLite's worker fewer
 * hand-overs a row (1,000 throughout: B6's 100,000 heroes 10% slower).
 * Interleaved: 10,000 heroes loaded on SQLite (B4) 14.7-15.1 ms ->
 * 13.6-14.5 ms; on PostgreSQL, whose FETCHes ahead keep the first's size
 * (pg_pipeline.c), 21.5-23.6 ms -> 16.8-21.7 ms, and B2's 100,000 heroes
 * 0.95-1.04 M -> 1.18-1.57 M a second. SQLAlchemy's buffered rows grow
 * from a few likewise. A load that streams, having more rows than this
 * first chunk, is a bulk load (calx__load_begin: its objects from blocks). */
#define CALX__LOAD_FIRST_ROWS 1000

/* Room for the one row a get reads at once (calx__conn_read_row: a plain
 * get's in load.c, a get with joined to-one relationships in reljoin.c),
 * on the get's stack: its values, and the bytes of its texts and blobs. A
 * wider or larger row is read the usual way. With what the load below
 * uses, a get stays well inside the smallest task stack (32 KiB). */
#define CALX__GET_NOW_COLUMNS 32
#define CALX__GET_NOW_BYTES 4096

/* Runs a get's text (with params; kept: the engine keeps it) at once
 * where c's driver can (calx__conn_read_row), its row into row
 * (CALX__GET_NOW_COLUMNS values) and bytes (CALX__GET_NOW_BYTES), the
 * caller's: *done false when the driver could not (nothing happened: run
 * it the usual way); else *found says whether a row came, at least width
 * columns wide. 0, the database's error, or CALX_ERR_INTERNAL for a row
 * narrower than width. */
int calx__get_read_now(calx_connection *c, const calx__memo_text *text, bool kept,
                       const calx_params *params, size_t width, calx_value *row, char *bytes,
                       bool *done, bool *found, calx_error *err);

/* A load of r's rows begins: a bulk one, whose objects come from s's
 * blocks from the first row, when r streams (its first chunk was full) or
 * holds more than CALX__LOAD_FIRST_ROWS rows; before, a load's first 2 MiB
 * of objects came from malloc, each touching fresh 4 KiB pages one fault
 * at a time (10,000 heroes loaded, B4 on SQLite: 14.4-14.7 ms -> 9.9-10.4
 * ms, interleaved). Returns what calx__load_end gives back: loads nest (a
 * relationship's inside a query's). */
static inline bool calx__load_begin(calx_session *s, const calx_result *r)
{
    bool was = s->bulk_load;
    s->bulk_load = was || calx_result_more(r) || calx_result_nrows(r) > CALX__LOAD_FIRST_ROWS;
    return was;
}
static inline void calx__load_end(calx_session *s, bool was)
{
    s->bulk_load = was;
}

/* Makes the object of a row (row values in the table's column order):
 * the one in the map (refreshed when expired or populate) or a new one. */
int calx__load_row(calx_session *s, const calx_model *m, const calx_value *vals,
                   bool populate, calx_obj **out, calx_error *err);
/* *v, a value of column c as the database returned it, made the field's:
 * by d's stored_value (scratch: CALX_BIND_SCRATCH_SIZE bytes), then by
 * c's user type (its bytes in user). The callers copy what they keep
 * before either scratch goes. Errors: the hook's and the user type's. */
int calx__field_from_stored(const calx_dialect *d, const calx_column *c, calx_value *v,
                            char *scratch, calx_type_scratch *user, calx_error *err);
/* Reloads the expired objects of m (every model when m is NULL). */
int calx__load_expired(calx_session *s, const calx_model *m, calx_error *err);
/* What a query does first: flushes pending changes unless the session's
 * no_autoflush is set (the caller has the session entered). */
int calx__session_autoflush(calx_session *s, calx_error *err);

/* ---- relload.c ---- */

/* Loads relationship rel for those of objs[0..n) (objects of rel's owner,
 * in s) where it is not loaded: one SELECT for the list (the lazy load's
 * shape when n is 1), batched at the dialect's parameter limit; targets
 * through the identity map. An unloaded scalar the program set is its
 * change and is left as it is. No autoflush; the caller has s entered.
 * Errors: rel's resolution (calx_model_check's), the database's,
 * CALX_ERR_NOMEM. */
int calx__rel_load(calx_session *s, calx_obj *const *objs, size_t n, const calx_relation *rel,
                   calx_error *err);
/* A set of pointers (open addressing), for telling objects seen from
 * new ones. Zero is empty; add returns CALX_ERR_NOMEM or 0, *added false
 * when p was there. */
typedef struct calx__ptrset {
    const void **slots;
    size_t cap, n;
} calx__ptrset;
int calx__ptrset_add(calx__ptrset *ps, const void *p, bool *added);
bool calx__ptrset_has(const calx__ptrset *ps, const void *p);
void calx__ptrset_free(calx__ptrset *ps);

struct calx__relinfo;
/* Whether relationship r of o is to be loaded: not loaded yet (or every
 * time, with reload). An unloaded scalar the program has set is its
 * change, which the flush writes: a load leaves it. */
bool calx__rel_wanted(const calx_obj *o, const calx_relation *r, bool reload);
/* Puts target into the relationship ri of owner o (a collection gains
 * it; a scalar is set when it is NULL), and a one-to-many's target gets
 * back_populates' many-to-one. CALX_ERR_NOMEM. */
int calx__rel_attach(calx_obj *o, const struct calx__relinfo *ri, calx_obj *target,
                     calx_error *err);
/* The load of o's relationship r is done: loaded, and the database's
 * state (calx__rel_remember). CALX_ERR_NOMEM. */
int calx__rel_finish(calx_obj *o, const calx_relation *r, calx_error *err);

/* How the last relationship of path[0..n) (a chain from a query's entity)
 * is loaded: a loader option naming that path, else one naming a longer
 * path through it, else the relationship's .lazy (ON_DEMAND for a
 * relationship the path came through already, or its back_populates). */
calx_loading calx__rel_how(const calx_exec_opts *opts, const calx_relation *const *path,
                           size_t n);

/* What every path that makes objects of m from rows does with them
 * (items: the objects' pointers, NULLs skipped): each relationship loaded
 * as calx__rel_how says (opts may be NULL: the models' defaults), then
 * the relationships of what that loaded, up to CALX_LOADER_DEPTH. SELECT
 * IN loads only what is not loaded (everything with populate_existing);
 * NOLOAD makes it loaded and empty; RAISE leaves it unloaded with
 * calx_rel_check's "lazy='raise'" error. joined: the objects came from
 * calx__rel_joined_query, whose rows loaded the joined paths; else those
 * load as SELECT IN. */
int calx__rel_after_load(calx_session *s, const calx_model *m, void *const *items, size_t n,
                         const calx_exec_opts *opts, bool joined, calx_error *err);
/* The same for objects given by their headers (no NULLs). */
int calx__rel_after_load_objs(calx_session *s, const calx_model *m, calx_obj *const *objs,
                              size_t n, const calx_exec_opts *opts, bool joined,
                              calx_error *err);

/* ---- reljoin.c ---- */

/* Whether every relationship of path[0..n) loads joined (calx__rel_how):
 * then the query loaded the last one in its own rows. */
bool calx__rel_joined_path(const calx_exec_opts *opts, const calx_relation *const *path,
                           size_t n);
/* Whether a query of m's objects joins anything (a relationship of m's
 * loads joined): else calx__rel_joined_query would run none. */
bool calx__rel_joins(const calx_exec_opts *opts, const calx_model *m);
/* A get of m's row by key (key[0..nkey): calx__get_select's parameters)
 * with what loads joined in its rows, as calx__rel_joined_query runs a
 * query: *got the object or NULL; *done false (nothing run) when nothing
 * loads joined. Its text is kept by the engine when every joined
 * relationship is m's own (CALX__MEMO_GET_JOINED), else compiled each
 * time. */
int calx__rel_joined_get(calx_session *s, const calx_model *m, const calx_param *key,
                         size_t nkey, const calx_exec_opts *opts, bool *done, calx_obj **got,
                         calx_error *err);
/* Runs q with the relationships that load joined (options, or the
 * models' .lazy) in its rows: LEFT OUTER JOINs of aliases, q left as it
 * was. *done false (and nothing run) when none does: the caller runs q
 * as usual. The query's objects go to out (each once). The caller has s
 * entered and autoflushed. Errors: the compiler's, the database's,
 * CALX_ERR_NOT_SUPPORTED past 16 joined relationships. */
int calx__rel_joined_query(calx_session *s, const calx_select *q, const calx_exec_opts *opts,
                           bool *done, calx_objlist *out, calx_error *err);

/* The object gone leaves s's relationships: every relationship of an
 * object s owns that holds it (or whose database state does) is unloaded,
 * and so are gone's own, so no pointer to it is left behind. */
void calx__rel_forget(calx_session *s, calx_obj *gone);

#endif
