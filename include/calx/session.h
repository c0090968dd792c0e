/* SPDX-License-Identifier: MIT */
/* calx — AsyncSession: the identity map and the unit of work.
 *
 *     calx_sessionmaker *maker = calx_sessionmaker_new(
 *         &(calx_session_opts){ .bind = engine }, &err);
 *     ...in a task (calx_spawn):
 *     calx_session *s = calx_sessionmaker_session(maker, &err);
 *     Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
 *     calx_session_add(s, h, &err);
 *     calx_session_commit(s, &err);          INSERT, COMMIT; h->id is set
 *     Hero *same;
 *     calx_session_get(s, &Hero_model, calx_int(h->id.value), &same, &err);
 *     calx_session_free(s);
 *
 * Calls that may reach the database suspend the calling task (they must
 * run in a calx task; see calx/task.h) and never block the loop: this is
 * what `await session.commit()` is in Python. Calls answered from memory
 * (a get that hits the identity map, add, delete, expire, expunge) work
 * anywhere. Each returns 0 or an error code with err filled.
 *
 * One task at a time. A session is not shared by tasks running at once: a
 * call made while another task's call on the same session is suspended
 * fails with CALX_ERR_BUSY and changes nothing. Give each task its own
 * session; they share the engine's pool.
 *
 * Objects and their states are SQLAlchemy's: transient (new, no session),
 * pending (added, not flushed), persistent (has a row, in the identity
 * map), deleted (its DELETE flushed, not committed), detached (had a row,
 * no longer in a session).
 *
 * Memory: one owner per object. Every model object has exactly one
 * owner, the program or one session, and only the owner frees it.
 *  - A session becomes the owner of an object it loads, and of an object
 *    added to it (add, add_all, and the new object merge may make).
 *    Adding moves ownership: from the program, or from the session that
 *    owned the object before, whatever that session's state. An object
 *    loaded in s1, detached by closing s1 and added to s2 is s2's, and
 *    freeing s1 leaves it alone.
 *  - calx_session_expunge hands an object to the program, which frees it
 *    with calx_obj_free (or adds it to a session again).
 *  - calx_session_merge copies and moves nothing: its source keeps its
 *    owner.
 *  - calx_session_free frees every object that session owns, in it or
 *    not (detached by close, commit or expunge_all; made transient by a
 *    rollback). Pointers the session hands out stay valid until then,
 *    and calx_obj_free refuses them.
 * An object is in at most one session at a time, and the session it is
 * in is its owner.
 *
 * Expired objects (C cannot trap a field read, as Python does). After a
 * commit (with expire_on_commit, the default), a rollback, or expire(), an
 * object is expired: its fields still hold the last values the session
 * knew, which another transaction may since have changed. The session
 * reloads expired objects before it hands them out again (get, a query),
 * one SELECT per table for all the expired objects of that table; the
 * program can ask whether an object is expired (calx_obj_expired),
 * refresh it, or reload every expired object in one round trip per table
 * (calx_session_reload_expired). A field the program changed while the
 * object was expired keeps the program's value across the reload, and is
 * flushed as a change. Nothing ever frees or clears the fields of an
 * object the program may hold: there is no crash and no field that reads
 * as a value that was never there. SQLAlchemy's asyncio answer is an error
 * (MissingGreenlet) at the first attribute read after commit; calx's is
 * this documented rule.
 */
#ifndef CALX_SESSION_H
#define CALX_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "engine.h"
#include "error.h"
#include "export.h"
#include "model.h"
#include "sql.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_session calx_session;
typedef struct calx_sessionmaker calx_sessionmaker;

/* NULL: every call below that returns an error code gives
 * CALX_ERR_ARGUMENT for a NULL session, maker, opts, object, model, key,
 * objs array (n > 0) or out — before it does anything else, inside a task
 * or not (add_all stops at a NULL item, the ones before it added). A NULL select is q's own error, CALX_ERR_NOMEM (calx/sql.h).
 * The calls without an error code take NULL as an empty session: frees,
 * expunge_all and expire_all do nothing, the questions answer false or 0.
 * err must not be NULL. */

/* Session options; zero is SQLAlchemy's default for each (so the flags
 * that are on by default are spelled as their negation). */
typedef struct calx_session_opts {
    calx_engine *bind;          /* required: the engine sessions use */
    bool no_autoflush;          /* autoflush=False: queries do not flush first */
    bool no_expire_on_commit;   /* expire_on_commit=False */
    bool no_autobegin;          /* autobegin=False: call calx_session_begin */
    bool autocommit;            /* every flush is committed at once. Not
                                   recommended: a failure midway leaves
                                   earlier flushes committed, and there is
                                   no rollback to a consistent state. */
    /* With an engine that has replicas (docs/replicas.md), a transaction's
     * reads go to a replica until it writes; then it moves to the primary.
     * use_primary: every statement goes to the primary. */
    bool use_primary;
    /* Read-your-writes on a lagging replica: after this session commits a
     * transaction that wrote, its reads go to the primary for this many
     * seconds (0: not at all). Cheap, and blind to how far the replicas
     * really are behind. */
    double primary_after_write;
    /* Read-your-writes by causal consistency: a commit that wrote is
     * followed, on the same connection, by a query for where the primary's
     * log stands (one more round trip); the session's next read on a
     * replica first waits until the replica has replayed that far, at most
     * causal_timeout seconds (0: 1), then reads on the primary instead.
     * calx_session_causal_token carries the position to other sessions. */
    bool causal_reads;
    double causal_timeout;
} calx_session_opts;

/* An object's state, as SQLAlchemy names them (see the top of this file). */
typedef enum calx_state {
    CALX_STATE_TRANSIENT = 0,
    CALX_STATE_PENDING,
    CALX_STATE_PERSISTENT,
    CALX_STATE_DELETED,
    CALX_STATE_DETACHED
} calx_state;

/* ---- the factory ---- */

/* A session factory (async_sessionmaker) holding defaults. Caller-owned
 * (calx_sessionmaker_free, which takes NULL as a no-op); NULL with
 * CALX_ERR_ARGUMENT (opts NULL or no bind) or CALX_ERR_NOMEM. */
CALX_API calx_sessionmaker *calx_sessionmaker_new(const calx_session_opts *opts,
                                                  calx_error *err);
CALX_API void calx_sessionmaker_free(calx_sessionmaker *mk);

/* A new session with the factory's options. Caller-owned
 * (calx_session_free); NULL with CALX_ERR_ARGUMENT (mk NULL) or
 * CALX_ERR_NOMEM. */
CALX_API calx_session *calx_sessionmaker_session(const calx_sessionmaker *mk, calx_error *err);

/* A new session with opts. Caller-owned (calx_session_free); NULL with
 * CALX_ERR_ARGUMENT (opts NULL or no bind) or CALX_ERR_NOMEM. No
 * connection is taken until the first statement. */
CALX_API calx_session *calx_session_new(const calx_session_opts *opts, calx_error *err);

/* Closes s (an open transaction is rolled back, in the background) and
 * frees it with every object it owns. NULL is a no-op. Not while a call on
 * s is suspended. */
CALX_API void calx_session_free(calx_session *s);

/* ---- objects in and out ---- */

/* Adds a transient object (pending: INSERTed at the next flush), or
 * re-attaches a detached one. s owns obj from now on, also when another
 * session owned it (see Memory above). Errors: CALX_ERR_ARGUMENT (not a
 * model object), CALX_ERR_STATE (obj is in another session: pending,
 * persistent or deleted there; or a detached object whose key s already
 * holds), CALX_ERR_BUSY. Adding an object already in s does nothing. */
CALX_API int calx_session_add(calx_session *s, void *obj, calx_error *err);
CALX_API int calx_session_add_all(calx_session *s, void *const *objs, size_t n,
                                  calx_error *err);

/* Marks a persistent object for DELETE at the next flush. CALX_ERR_STATE
 * for an object that is not persistent in s ("Instance 'Hero' is not
 * persisted"). */
CALX_API int calx_session_delete(calx_session *s, void *obj, calx_error *err);

/* Removes obj from s (pending: no INSERT; persistent: no longer tracked)
 * and hands it to the program, which frees it with calx_obj_free. Its
 * relationships are unloaded, and so is every relationship of an object
 * s owns that holds it: nothing of s points at it afterwards. An
 * object s owns but no longer holds (detached by close or commit) is
 * handed over too. CALX_ERR_STATE for any other object ("is not present
 * in this Session"), one another session owns included. */
CALX_API int calx_session_expunge(calx_session *s, void *obj, calx_error *err);

/* Removes every object from s, their relationships unloaded; they stay
 * owned by s (freed with it) until added to a session or expunged. NULL
 * is a no-op. */
CALX_API void calx_session_expunge_all(calx_session *s);

/* Whether obj is in s (pending, persistent, or deleted not committed);
 * false when s or obj is NULL. */
CALX_API bool calx_session_contains(const calx_session *s, const void *obj);

/* The object's state, and whether its fields may be stale; transient and
 * false for a NULL obj. */
CALX_API calx_state calx_obj_state(const void *obj);
CALX_API bool calx_obj_expired(const void *obj);

/* ---- loading ---- */

/* The object of model m with primary key key: from the identity map when
 * it is there and not expired (no SQL), else by SELECT. *out (a pointer to
 * the model's pointer type, e.g. Hero **) is the object, owned by s, or
 * NULL when no row has that key. An object marked for delete is returned
 * until its DELETE is flushed (it is persistent until then, as in
 * SQLAlchemy); after the flush, NULL. calx_session_get_key takes a composite
 * key (nkey values in primary-key column order). */
CALX_API int calx_session_get(calx_session *s, const calx_model *m, calx_value key, void *out,
                              calx_error *err);
CALX_API int calx_session_get_key(calx_session *s, const calx_model *m, const calx_value *key,
                                  size_t nkey, void *out, calx_error *err);

/* As calx_session_get, failing with CALX_ERR_NO_RESULT when there is no
 * such row. */
CALX_API int calx_session_get_one(calx_session *s, const calx_model *m, calx_value key,
                                  void *out,
                                  calx_error *err);

/* Reloads obj's fields from its row now (a persistent object). A change
 * not flushed is lost, as in SQLAlchemy. Its relationships are unloaded,
 * and those its model loads eagerly (.lazy SELECT_IN or JOINED) loaded
 * again, as SQLAlchemy's refresh expires them all and reloads its eager
 * ones. CALX_ERR_NO_RESULT when the row is gone. */
CALX_API int calx_session_refresh(calx_session *s, void *obj, calx_error *err);

/* Marks obj (or every object in s) expired: reloaded before it is handed
 * out again; its relationships are unloaded (the reload loads its model's
 * eager ones again). No SQL. calx_session_expire_all(NULL) is a no-op. */
CALX_API int calx_session_expire(calx_session *s, void *obj, calx_error *err);
CALX_API void calx_session_expire_all(calx_session *s);

/* Reloads every expired object, one SELECT ... WHERE pk IN (...) per
 * table. Rows gone from the database turn their objects detached. */
CALX_API int calx_session_reload_expired(calx_session *s, calx_error *err);

/* Loads relationship rel of obj now, in a task: the async form of
 * SQLAlchemy's lazy load (awaitable_attrs, session.refresh(obj,
 * ["heroes"])). A many-to-one found in the identity map costs no SQL; else
 * one SELECT (WHERE team.id = ?, WHERE ? = hero.team_id, or through the
 * link table). What was loaded already is loaded again (the database's
 * rows win over a change not flushed, as a refresh). The objects loaded are
 * the identity map's, owned by s: one already there keeps its fields and
 * unflushed changes. An expired obj is reloaded first. No autoflush.
 * Errors: CALX_ERR_ARGUMENT for NULL arguments, a rel of another model, an
 * obj not persistent in s; CALX_ERR_NOT_SUPPORTED for a timestamp key; the
 * database's. */
CALX_API int calx_session_load(calx_session *s, void *obj, const calx_relation *rel,
                               calx_error *err);

/* As calx_session_load for n objects of rel's model at once, with one
 * SELECT ... IN (...) (several when n is past the dialect's parameter
 * limit), as selectinload. objs may be NULL when n is 0 (then nothing is
 * done, inside a task or not). On an error no object's rel is half
 * loaded as loaded: those not done are left unloaded. */
CALX_API int calx_session_load_many(calx_session *s, void *const *objs, size_t n,
                                    const calx_relation *rel, calx_error *err);

/* Copies the state of obj (any object of a model, e.g. one from another
 * session or a program's own) onto the object with the same primary key
 * in s, loading it when needed, or onto a new pending object when there is
 * none. *out is the object in s (owned by s); obj is not changed and keeps
 * its owner (the program, or the session that owns it). */
CALX_API int calx_session_merge(calx_session *s, const void *obj, void *out, calx_error *err);

/* ---- queries ---- */

/* Objects a query returns: items[0..n), owned by the session; the array
 * itself is the caller's (calx_objlist_free: empties l, NULL is a no-op). */
typedef struct calx_objlist {
    void **items;
    size_t n;
    size_t cap;               /* room in items */
} calx_objlist;
CALX_API void calx_objlist_free(calx_objlist *l);

/* The most relationships one loader's path may chain. */
#define CALX_LOADER_DEPTH 4

/* A loader option (SQLAlchemy's selectinload / joinedload / noload /
 * raiseload): how a query loads a relationship of the objects it returns,
 * or, with a path of several, of the objects a relationship before it
 * loaded (Team.heroes, then Hero.missions). Each relationship of a path
 * but the last is loaded as a loader naming that shorter path says, else
 * with `how`. Make them with the macros:
 *
 *     calx_loader l[] = { CALX_SELECTINLOAD(CALX_REL(Team, heroes),
 *                                           CALX_REL(Hero, missions)) };
 *     calx_exec_opts o = { .loaders = l, .nloaders = 1 };
 *     calx_session_execute(s, q, &o, &teams, &err);  */
typedef struct calx_loader {
    calx_loading how;
    const calx_relation *path[CALX_LOADER_DEPTH];   /* NULL after the last */
} calx_loader;
#define CALX_SELECTINLOAD(...) { .how = CALX_LOAD_SELECT_IN, .path = { __VA_ARGS__ } }
#define CALX_JOINEDLOAD(...) { .how = CALX_LOAD_JOINED, .path = { __VA_ARGS__ } }
#define CALX_NOLOAD(...) { .how = CALX_LOAD_NOLOAD, .path = { __VA_ARGS__ } }
#define CALX_RAISELOAD(...) { .how = CALX_LOAD_RAISE, .path = { __VA_ARGS__ } }

typedef struct calx_exec_opts {
    bool populate_existing;     /* rows overwrite objects already in the map,
                                   and loaders load what is loaded again */
    const calx_loader *loaders; /* relationships to load with the objects;
                                   the models' .lazy for the others */
    size_t nloaders;
    bool use_primary;           /* this query reads on the primary, whatever
                                   the session's routing (docs/replicas.md) */
} calx_exec_opts;

/* Runs q, a select over a model's table (CALX_TABLE(Hero)), after an
 * autoflush. Each row becomes the object with its primary key in the
 * identity map: a new one, or the one already there, which a row does not
 * overwrite (its pending changes win) unless populate_existing, or it is
 * expired. q stays the caller's. Relationships load as opts->loaders say,
 * else as each relationship's .lazy (for every query below, and get,
 * refresh, expired reloads and calx_session_rows' entities too): selectin
 * is one more SELECT ... IN per relationship, joined LEFT OUTER JOINs q
 * (extended, never changed) to an alias of the target, each object listed
 * once however many rows a joined collection gives it; only relationships
 * not loaded yet are loaded (all with populate_existing). A get joins in
 * its own SELECT too; objects no joined query made (a refresh, expired
 * reloads, calx_session_rows' entities, a map hit of calx_session_get_opts)
 * load a joined relationship with a SELECT of its own. A LIMIT on q
 * counts a joined collection's rows: use selectin with one. Errors: q's own (calx_select_error),
 * CALX_ERR_ARGUMENT for a table that is no model's, the database's. */
CALX_API int calx_session_all(calx_session *s, const calx_select *q, calx_objlist *out,
                              calx_error *err);
CALX_API int calx_session_execute(calx_session *s, const calx_select *q,
                                  const calx_exec_opts *opts,
                                  calx_objlist *out, calx_error *err);
/* A get with a query's options: SQLAlchemy's session.get(Hero, 5,
 * options=[joinedload(Hero.team)], populate_existing=True). key holds
 * nkey values, as calx_session_get_key's. opts->loaders load
 * relationships with the object (a joined one in the get's own SELECT:
 * a hero and its team in one statement), populate_existing reloads an
 * object the identity map holds (its changes not flushed are lost, as in a
 * refresh), use_primary reads on the primary. An object the identity map
 * answers has the relationships the loaders name loaded when they are
 * not loaded yet (SQLAlchemy's get ignores its options then, and the
 * relationship left unloaded fails when read under asyncio). *out as
 * calx_session_get's: owned by s, or NULL when no row has the key. Runs
 * in a task (it may reach the database even when the map answers);
 * opts NULL is calx_session_get_key, which does not need one for a hit.
 * Errors: calx_session_get_key's, a loader's (calx_session_execute's). */
CALX_API int calx_session_get_opts(calx_session *s, const calx_model *m, const calx_value *key,
                                   size_t nkey, const calx_exec_opts *opts, void *out,
                                   calx_error *err);
/* The first object or NULL (limit not added: q is run as given). */
CALX_API int calx_session_first(calx_session *s, const calx_select *q, void *out,
                                calx_error *err);
/* Exactly one: CALX_ERR_NO_RESULT ("No row was found when one was
 * required") or CALX_ERR_MULTIPLE_RESULTS ("Multiple rows were found when
 * exactly one was required") otherwise. */
CALX_API int calx_session_one(calx_session *s, const calx_select *q, void *out,
                              calx_error *err);
/* One or NULL: CALX_ERR_MULTIPLE_RESULTS for several ("Multiple rows were
 * found when one or none was required"). */
CALX_API int calx_session_one_or_none(calx_session *s, const calx_select *q, void *out,
                                      calx_error *err);

/* ---- typed forms ----
 *
 * The calls above take their out-parameter as void *, so passing a Hero *
 * where a Hero ** is needed compiles and writes a pointer into the
 * struct. These forms name the model and check the pointer's type at
 * compile time (a Hero * or a Team ** where a Hero ** belongs is an
 * error, as for calx/future.h's CALX_AWAIT), and take the model by the
 * same name a select does:
 *
 *     Hero *h;
 *     CALX_GET(s, Hero, calx_int(1), &h, &err);
 *     CALX_GET_OPTS(s, Hero, calx_int(1), &opts, &h, &err);
 *     CALX_ONE(s, Hero, q, &h, &err);
 *
 * Each is the call it names, with the same errors and ownership. */
#define CALX__OUT(Model, out) CALX__TYPED_OUT(Model *, out)
#define CALX_GET(s, Model, key, out, err)                                     \
    calx_session_get((s), &Model##_model, (key), CALX__OUT(Model, out), (err))
#define CALX_GET_OPTS(s, Model, key, opts, out, err)                          \
    calx_session_get_opts((s), &Model##_model, (const calx_value[]){ key }, 1, (opts), \
                          CALX__OUT(Model, out), (err))
#define CALX_GET_ONE(s, Model, key, out, err)                                 \
    calx_session_get_one((s), &Model##_model, (key), CALX__OUT(Model, out), (err))
#define CALX_FIRST(s, Model, q, out, err)                                     \
    calx_session_first((s), (q), CALX__OUT(Model, out), (err))
#define CALX_ONE(s, Model, q, out, err)                                       \
    calx_session_one((s), (q), CALX__OUT(Model, out), (err))
#define CALX_ONE_OR_NONE(s, Model, q, out, err)                               \
    calx_session_one_or_none((s), (q), CALX__OUT(Model, out), (err))

/* ---- rows of several entities and columns ---- */

/* The rows of an ORM-enabled select of entities and columns, SQLAlchemy's
 * session.execute(select(Hero, Team).join(Team)):
 *
 *     calx_select *q = calx_select_new(CALX_TABLE(Hero));
 *     calx_select_add_entity(q, CALX_TABLE(Team));
 *     calx_select_join(q, CALX_TABLE(Team), NULL, CALX_JOIN_LEFT);
 *     calx_entity_rows *rows;
 *     calx_session_rows(s, q, &rows, &err);
 *     for (size_t i = 0; i < calx_entity_rows_count(rows); i++) {
 *         Hero *h = calx_entity_rows_object(rows, i, 0);
 *         Team *t = calx_entity_rows_object(rows, i, 1);   // NULL: no team
 *     }
 *     calx_entity_rows_free(rows);
 *
 * Each row has one item per entity of the columns clause (every column of
 * a model's table or of an alias of it, added by calx_select_new,
 * calx_select_add_entity or its _from form), an object through the
 * identity map as calx_session_all makes them, and one item per other
 * column (calx_select_add_column, calx_select_columns; a table no model
 * declares counts column by column), a value. */
typedef struct calx_entity_rows calx_entity_rows;

/* Runs q after an autoflush and holds all its rows in *out (owned by the
 * caller: calx_entity_rows_free; the objects in it stay the session's).
 * An entity whose key columns are all NULL in a row (the missing side of
 * an outer join) is a NULL object there. q stays the caller's. Errors:
 * q's own, CALX_ERR_ARGUMENT for s, q or out NULL, the session's states
 * (calx_session_all), the database's; *out is NULL after an error. */
CALX_API int calx_session_rows(calx_session *s, const calx_select *q, calx_entity_rows **out,
                               calx_error *err);
/* The number of rows, and of items in each; 0 for a NULL r. */
CALX_API size_t calx_entity_rows_count(const calx_entity_rows *r);
CALX_API size_t calx_entity_rows_width(const calx_entity_rows *r);
/* The object of entity item `item` in row `row` (a Hero *, ...): NULL for
 * an outer join's missing entity, an item that is a value, indexes out of
 * range or r NULL. */
CALX_API void *calx_entity_rows_object(const calx_entity_rows *r, size_t row, size_t item);
/* The value of column item `item` in row `row`, owned by r: NULL for an
 * entity item, indexes out of range or r NULL. */
CALX_API const calx_value *calx_entity_rows_value(const calx_entity_rows *r, size_t row,
                                                  size_t item);
/* Frees r (not the objects, which are the session's). NULL is a no-op. */
CALX_API void calx_entity_rows_free(calx_entity_rows *r);

/* ---- bulk UPDATE and DELETE ---- */

/* How a bulk UPDATE or DELETE run through the session keeps the objects
 * it holds in step with their rows (SQLAlchemy 2.0's synchronize_session).
 * Zero is the default. */
typedef enum calx_sync {
    /* Evaluate when the statement can be computed in memory exactly as the
     * database would, else fetch. */
    CALX_SYNC_AUTO = 0,
    /* Compute the WHERE and the new values over each loaded object of the
     * table in memory: columns of the table, literals, comparisons (text
     * only = and !=), + - * on numbers, IS NULL, IN lists, AND, OR, NOT.
     * Anything else is an error (CALX_ERR_ARGUMENT) before the statement
     * runs. Costs no rows on the wire. */
    CALX_SYNC_EVALUATE,
    /* The statement returns what it changed (UPDATE ... RETURNING every
     * column, DELETE ... RETURNING the key) in its own round trip, and the
     * rows are applied to the objects with their keys. Always exact. */
    CALX_SYNC_FETCH,
    /* Leave the objects as they are (they may then disagree with their
     * rows until refreshed or expired). */
    CALX_SYNC_NONE
} calx_sync;

/* Runs u (update(Hero).where(...).values(...)) in the session's
 * transaction after an autoflush, then brings the objects the session
 * holds up to date by sync: an updated object holds the new values as
 * loaded (not as changes to flush); a deleted one is DELETED, as after a
 * flush. Objects the session does not hold are not loaded. *rowcount
 * (rowcount may be NULL) is the number of rows the statement matched.
 * u stays the caller's. Errors: u's sticky error (calx_update_error),
 * CALX_ERR_ARGUMENT for u NULL, an unknown sync, a statement with its own
 * RETURNING (run it with calx_conn_execute_update) and an evaluate that
 * cannot be computed in memory; the session's states (calx_session_all);
 * the database's. Nothing is applied to objects when the statement fails. */
CALX_API int calx_session_execute_update(calx_session *s, const calx_update *u, calx_sync sync,
                                         int64_t *rowcount, calx_error *err);
/* The same for a DELETE (delete(Hero).where(...)). */
CALX_API int calx_session_execute_delete(calx_session *s, const calx_delete *d, calx_sync sync,
                                         int64_t *rowcount, calx_error *err);

/* ---- the unit of work and transactions ---- */

/* Writes pending changes: INSERTs, UPDATEs of changed columns only, and
 * DELETEs, parents before children (and children before parents for
 * DELETE), sent to the database as one batch. Generated primary keys are
 * filled into the objects. Validation runs first (calx_obj_validate): a
 * failure there sends nothing. A database error names the statement that
 * failed, as Core's do ("\n[SQL: INSERT INTO ...]", as echo shows it). A
 * database failure leaves the session needing rollback: every later call but rollback and close fails with
 * CALX_ERR_STATE, naming the original error. */
CALX_API int calx_session_flush(calx_session *s, calx_error *err);

/* Flushes, commits, and gives the connection back to the pool. With
 * expire_on_commit, every object is expired. Errors: the flush's; the
 * COMMIT's (one that times out or loses its connection may or may not have
 * committed); an error after the COMMIT ran (out of memory reading the new
 * keys) says "(the transaction is committed)" in its message: the rows
 * are in, though the session needs its rollback as after any failure. */
CALX_API int calx_session_commit(calx_session *s, calx_error *err);

/* Rolls back and gives the connection back. Pending objects are expunged
 * (they stay owned by s); objects deleted in the transaction come back;
 * every persistent object is expired. */
CALX_API int calx_session_rollback(calx_session *s, calx_error *err);

/* Begins a transaction explicitly (needed with no_autobegin). */
CALX_API int calx_session_begin(calx_session *s, calx_error *err);

/* SAVEPOINT: begin_nested flushes and opens one; rollback_nested rolls
 * back to it, expunging objects inserted since and expiring only the
 * objects changed since; commit_nested releases it. begin_nested gives
 * CALX_ERR_STATE past 32 nested, and for a session's 2^32-th savepoint
 * (a session counts them in 32 bits). */
CALX_API int calx_session_begin_nested(calx_session *s, calx_error *err);
CALX_API int calx_session_commit_nested(calx_session *s, calx_error *err);
CALX_API int calx_session_rollback_nested(calx_session *s, calx_error *err);

/* Rolls back any transaction, gives the connection back and expunges every
 * object (they stay owned by s). The session can be used again. */
CALX_API int calx_session_close(calx_session *s, calx_error *err);

/* Whether s has a transaction open, or is waiting for a rollback after a
 * failed flush; false for a NULL s. */
CALX_API bool calx_session_in_transaction(const calx_session *s);
CALX_API bool calx_session_needs_rollback(const calx_session *s);

/* ---- retrying a transaction (docs/replicas.md) ---- */

/* The work of one transaction: runs in s (adds, changes, queries), and
 * returns 0 or an error code with err filled. It may run more than once:
 * each attempt starts from a rolled-back session, so it must not keep
 * objects or results of an earlier attempt. */
typedef int (*calx_transaction_fn)(calx_session *s, void *arg, calx_error *err);

typedef struct calx_retry_opts {
    int max_attempts;           /* 0: 5 (the first run counts) */
    double backoff;             /* seconds before the second attempt, doubled
                                   for each next one, with a random part;
                                   0: 0.01 */
    double max_backoff;         /* the longest pause, seconds; 0: 1 */
    int *attempts;              /* NULL, or where the number of attempts run
                                   is written */
} calx_retry_opts;

/* Runs fn(s, arg, err) and commits, in a task, as one transaction of s,
 * which must have none open. When fn or the commit fails with what the
 * database says was not committed and may succeed if run again — a
 * serialization failure or a deadlock (CALX_ERR_SERIALIZATION, SQLSTATE
 * 40001 / 40P01), or a lost connection (CALX_ERR_DISCONNECT) before the
 * COMMIT was sent — s is rolled back and fn runs again after a pause, up
 * to max_attempts. It never runs again once the COMMIT was sent and its
 * answer lost (a disconnect, a timeout or a cancel then): that is
 * CALX_ERR_AMBIGUOUS_COMMIT, the original error in its message, since
 * the transaction may have committed. Returns 0 once committed; else
 * fn's or the commit's error (the last attempt's, its message saying how
 * many ran), with s rolled back. opts may be NULL. Errors also:
 * CALX_ERR_ARGUMENT (NULL s or fn, negative options), CALX_ERR_STATE (a
 * transaction already open, not in a task). */
CALX_API int calx_session_run_transaction(calx_session *s, calx_transaction_fn fn, void *arg,
                                          const calx_retry_opts *opts, calx_error *err);

/* ---- read-your-writes across sessions (docs/replicas.md) ---- */

/* Room for a causal token with its terminating NUL. */
#define CALX_CAUSAL_TOKEN_SIZE 64

/* The position in the primary's log that s's replica reads wait for: its
 * last commit's (with causal_reads), or the one given to
 * calx_session_set_causal_token. Opaque text (PostgreSQL's "0/3000148"),
 * shorter than CALX_CAUSAL_TOKEN_SIZE, for the program to copy into
 * another session, a cookie or a redirect. Owned by s, valid until its
 * next commit or set; NULL when there is none, and for a NULL s. */
CALX_API const char *calx_session_causal_token(const calx_session *s);

/* Makes s's reads on a replica wait until the replica has replayed up to
 * token (another session's calx_session_causal_token), as its own commits
 * do with causal_reads, bounded by causal_timeout; NULL forgets it. The
 * token is copied. Errors: CALX_ERR_ARGUMENT for a NULL s or a token of
 * CALX_CAUSAL_TOKEN_SIZE bytes or more, or with characters no token has
 * (a control character, a space); CALX_ERR_NOT_SUPPORTED when s's
 * database has no replicas. A token the database cannot read fails the
 * read that waits for it (the database's error). */
CALX_API int calx_session_set_causal_token(calx_session *s, const char *token,
                                           calx_error *err);

/* ---- the identity map ---- */

/* Number of objects in the identity map; 0 for a NULL s. */
CALX_API size_t calx_session_identity_count(const calx_session *s);

/* Fills out (room for cap) with the identity map's objects sorted by
 * model name and key; returns how many there are (0 for a NULL s). Owned
 * by s. out may be NULL to count only. */
CALX_API size_t calx_session_identity_map(const calx_session *s, void **out, size_t cap);

/* Prints the identity map as Python prints its keys and objects:
 * {('Hero', (1,)): Hero(id=1, ...), ...}; {} for a NULL s. f must not be
 * NULL. */
CALX_API void calx_session_print_identity_map(const calx_session *s, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
