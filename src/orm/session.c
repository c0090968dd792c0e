/* SPDX-License-Identifier: MIT */
/* AsyncSession: object states, the session's transaction and connection,
 * rollback and commit bookkeeping, and the one-task-at-a-time guard. */
#include <stdlib.h>
#include <string.h>

#include "calx/task.h"
#include "core/nomem.h"
#include "core/spares.h"
#include "engine/registry.h"
#include "orm/relation.h"
#include "orm/session_int.h"

struct calx_sessionmaker {
    calx_session_opts opts;
};

/* ---- entering and leaving a call ---- */

/* Every public call that may suspend starts here: not while another
 * task's call is suspended on s, inside a task, and not while the session
 * waits for a rollback (unless the call is the rollback). */
static int enter(calx_session *s, bool db, bool allow_failed, calx_error *err)
{
    if (!s)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the session is NULL");
    if (s->busy)
        return calx_error_set(err, CALX_ERR_BUSY,
                              "this session is in use by another task; a session serves "
                              "one task at a time (give each task its own session)");
    if (s->need_rollback && !allow_failed)
        return calx_error_set(err, CALX_ERR_STATE,
                              "This Session's transaction has been rolled back due to a "
                              "previous exception during flush. To begin a new transaction "
                              "with this Session, first issue calx_session_rollback(). "
                              "Original exception was: %s", s->failed.message);
    if (db && !calx_in_task())
        return calx_error_set(err, CALX_ERR_STATE,
                              "session calls that reach the database run inside a calx "
                              "task (calx_spawn); this one was made outside any task");
    if (db)
        s->busy = true;
    return 0;
}

static void release_conn(calx_session *s)
{
    if (s->conn) {
        calx_conn_close(s->conn);
        s->conn = NULL;
    }
    /* A replica's transaction only read: the pool's reset rolls it back. */
    if (s->read_conn) {
        calx_conn_close(s->read_conn);
        s->read_conn = NULL;
    }
}

static int commit_now(calx_session *s, calx_error *err);

/* Ends a call entered with db. In autocommit mode, whatever the call
 * wrote is committed at once and the connection goes back. */
static int leave(calx_session *s, int rc, calx_error *err)
{
    if (rc == 0 && s->opts.autocommit && !s->explicit_begin && s->began && !s->sp_depth)
        rc = commit_now(s, err);
    s->busy = false;
    s->call_primary = false;
    return rc;
}

/* ---- factory, new, free ---- */

static int check_opts(const calx_session_opts *opts, calx_error *err)
{
    if (!opts || !opts->bind)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "a session needs an engine to bind to (opts.bind)");
    if (!(opts->primary_after_write >= 0 && opts->primary_after_write <= 1e9) ||
        !(opts->causal_timeout >= 0 && opts->causal_timeout <= 1e9))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "primary_after_write and causal_timeout are seconds, 0 or "
                              "more (0: %s)", !(opts->causal_timeout >= 0 &&
                                                 opts->causal_timeout <= 1e9)
                                                  ? "1 s" : "off");
    return 0;
}

calx_sessionmaker *calx_sessionmaker_new(const calx_session_opts *opts, calx_error *err)
{
    if (check_opts(opts, err))
        return NULL;
    calx_sessionmaker *mk = calloc(1, sizeof *mk);
    if (!mk)
        return calx__nomem(err, NULL), NULL;
    mk->opts = *opts;
    return mk;
}

void calx_sessionmaker_free(calx_sessionmaker *mk)
{
    free(mk);
}

calx_session *calx_sessionmaker_session(const calx_sessionmaker *mk, calx_error *err)
{
    if (!mk)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the session maker is NULL"), NULL;
    return calx_session_new(&mk->opts, err);
}

calx_session *calx_session_new(const calx_session_opts *opts, calx_error *err)
{
    if (check_opts(opts, err))
        return NULL;
    /* A spare: a session per request or transaction would otherwise be a
     * calloc and a free of ~2 KB each time, past glibc's per-thread cache
     * (B5: ~1,000 instructions a transaction). */
    calx_session *s = calx__thread_spare_take(CALX__SPARE_SESSION, sizeof *s);
    if (!s)
        return calx__nomem(err, NULL), NULL;
    s->opts = *opts;
    s->dialect = calx__engine_database(opts->bind)->dialect;
    return s;
}

static void disown(calx_obj *o);

void calx__session_own(calx_session *s, calx_obj *o)
{
    if (o->model->nrelations)
        s->has_relations = true;
    if (o->owner == s)
        return;
    /* Moving is safe whatever the old owner is doing: o is in none of its
     * lists (an object in a session is owned by that session, and add
     * refuses one in another session), and nothing walks the owned list
     * across a suspension. */
    disown(o);
    o->owner = s;
    o->prev = NULL;
    o->next = s->owned;
    if (s->owned)
        s->owned->prev = o;
    s->owned = o;
}

/* Hands o to the program: off its owner's list. */
static void disown(calx_obj *o)
{
    calx_session *s = o->owner;
    if (!s)
        return;
    if (o->prev)
        o->prev->next = o->next;
    else
        s->owned = o->next;
    if (o->next)
        o->next->prev = o->prev;
    o->prev = o->next = NULL;
    o->owner = NULL;
    o->in_session = false;   /* no owner, no session (calx__obj_session) */
}

void calx_session_free(calx_session *s)
{
    if (!s)
        return;
    release_conn(s);
    for (calx_obj *o = s->owned, *next; o; o = next) {
        next = o->next;
        calx__obj_destroy(o);
    }
    /* Objects the program took keep their blocks mapped. */
    calx__blocks_close(&s->blocks);
    calx__map_free(s);
    for (size_t i = 0; i < s->ngetsql; i++) {
        free(s->getsql[i].sql);
        free(s->getsql[i].types);
    }
    free(s->getsql);
    calx__objvec_free(&s->pending);
    calx__objvec_free(&s->deleting);
    calx__objvec_free(&s->inserted);
    calx__objvec_free(&s->deleted);
    calx__thread_spare_give(CALX__SPARE_SESSION, s, sizeof *s);
}

/* ---- the connection ---- */

int calx__session_check_autobegin(const calx_session *s, calx_error *err)
{
    if (!s->began && s->opts.no_autobegin)
        return calx_error_set(err, CALX_ERR_STATE,
                              "Autobegin is disabled on this Session; please call "
                              "calx_session_begin() to start a new transaction");
    return 0;
}

int calx__session_primary(calx_session *s, calx_error *err)
{
    if (s->conn)
        return 0;
    int rc = calx__session_check_autobegin(s, err);
    if (rc)
        return rc;
    /* The transaction moves to the primary: what it read on a replica is
     * read, and from here on everything goes where the writes go. */
    if (s->read_conn) {
        calx_conn_close(s->read_conn);
        s->read_conn = NULL;
    }
    calx_connection *c = NULL;
    rc = calx_await(calx_engine_connect(s->opts.bind, err), &c, err);
    if (rc)
        return rc;
    s->conn = c;
    s->began = true;
    return 0;
}

int calx__session_conn(calx_session *s, calx_error *err)
{
    int rc = calx__session_primary(s, err);
    if (!rc)
        s->wrote = true;
    return rc;
}

/* ---- states ---- */

static calx_obj *obj_of(const void *obj, calx_error *err);

/* The header of obj after entering s (memory only), when obj is
 * persistent in s; else NULL with err. */
static calx_obj *persistent_in(calx_session *s, void *obj, bool allow_failed, const char *what,
                               calx_error *err)
{
    calx_obj *o = obj_of(obj, err);
    if (!o || enter(s, false, allow_failed, err))
        return NULL;
    if (calx__obj_session(o) != s || o->state != CALX_OBJ_PERSISTENT) {
        calx_error_set(err, CALX_ERR_STATE, "Instance '%s' is not %s%s", o->model->name, what,
                       o->state == CALX_OBJ_PENDING ? " (it is pending: expunge it)" : "");
        return NULL;
    }
    return o;
}

static calx_obj *obj_of(const void *obj, calx_error *err)
{
    calx_obj *o = calx__obj_check(obj);
    if (!o)
        calx_error_set(err, CALX_ERR_ARGUMENT, "not a calx model object");
    return o;
}

calx_state calx_obj_state(const void *obj)
{
    calx_obj *o = calx__obj_check(obj);
    return o ? (calx_state)o->state : CALX_STATE_TRANSIENT;
}

bool calx_obj_expired(const void *obj)
{
    calx_obj *o = calx__obj_check(obj);
    return o && o->expired;
}

bool calx_session_contains(const calx_session *s, const void *obj)
{
    calx_obj *o = calx__obj_check(obj);
    return s && o && calx__obj_session(o) == s &&
           (o->state == CALX_OBJ_PENDING || o->state == CALX_OBJ_PERSISTENT ||
            o->state == CALX_OBJ_DELETED);
}

int calx__session_add_obj(calx_session *s, calx_obj *o, calx_error *err)
{
    /* An object in no session (transient or detached) may come from
     * anywhere; ownership moves to s below. */
    calx_session *in = calx__obj_session(o);
    if (in && in != s)
        return calx_error_set(err, CALX_ERR_STATE,
                              "Object '%s' is already attached to another session",
                              o->model->name);
    switch ((calx_objstate)o->state) {
    case CALX_OBJ_PENDING:
    case CALX_OBJ_PERSISTENT:
        if (o->delete_marked) { /* SQLAlchemy: add() after delete() un-deletes */
            o->delete_marked = false;
            calx__objvec_remove(&s->deleting, o);
        }
        return 0;
    case CALX_OBJ_DELETED:
        return calx_error_set(err, CALX_ERR_STATE,
                              "Instance '%s' has been deleted; use make_transient() first",
                              o->model->name);
    case CALX_OBJ_DETACHED: {
        calx_value key[CALX__MAX_KEY];
        size_t n = calx__obj_key(o, calx__obj_ptr(o), key);
        calx_obj *there = calx__map_find(s, o->model, key, n);
        if (there && there != o)
            return calx_error_set(err, CALX_ERR_STATE,
                                  "Can't attach instance '%s': another instance with the "
                                  "same key is already present in this session",
                                  o->model->name);
        if (calx__map_insert(s, o))
            return calx__nomem(err, NULL);
        o->state = CALX_OBJ_PERSISTENT;
        calx__session_own(s, o);
        o->in_session = true;   /* after: owning it moves it out of another's hands */
        return 0;
    }
    case CALX_OBJ_TRANSIENT:
        break;
    }
    if (calx__objvec_push(&s->pending, o))
        return calx__nomem(err, NULL);
    o->state = CALX_OBJ_PENDING;
    calx__session_own(s, o);
    o->in_session = true;   /* after: owning it moves it out of another's hands */
    return 0;
}

int calx_session_add(calx_session *s, void *obj, calx_error *err)
{
    calx_obj *o = obj_of(obj, err);
    if (!o)
        return CALX_ERR_ARGUMENT;
    int rc = enter(s, false, false, err);
    if (rc)
        return rc;
    rc = calx__session_add_obj(s, o, err);
    /* save-update: what o's relationships reach comes in with it. */
    return rc ? rc : calx__relwrite_cascade(s, o, err);
}

int calx_session_add_all(calx_session *s, void *const *objs, size_t n, calx_error *err)
{
    /* Checked before the loop: n == 0 would otherwise hide a NULL s. */
    if (!s || (n && !objs))
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_add_all was given a NULL %s",
                              s ? "array of objects" : "session");
    for (size_t i = 0; i < n; i++) {
        int rc = calx_session_add(s, objs[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

int calx__session_delete_obj(calx_session *s, calx_obj *o, calx_error *err)
{
    if (o->delete_marked)
        return 0;
    if (calx__objvec_push(&s->deleting, o))
        return calx__nomem(err, NULL);
    o->delete_marked = true;
    return 0;
}

int calx_session_delete(calx_session *s, void *obj, calx_error *err)
{
    calx_obj *o = persistent_in(s, obj, false, "persisted", err);
    return o ? calx__session_delete_obj(s, o, err) : err->code;
}

int calx__session_deleted(calx_session *s, calx_obj *o, calx_error *err)
{
    calx__map_remove(s, o);
    o->delete_marked = false;
    o->state = CALX_OBJ_DELETED;
    if (calx__objvec_push(&s->deleted, o))
        return calx__nomem(err, NULL);
    return 0;
}

void calx__session_detach(calx_session *s, calx_obj *o)
{
    calx__map_remove(s, o);
    if (o->state == CALX_OBJ_PENDING)
        calx__objvec_remove(&s->pending, o);
    if (o->delete_marked)
        calx__objvec_remove(&s->deleting, o);
    calx__objvec_remove(&s->inserted, o);
    calx__objvec_remove(&s->deleted, o);
    o->delete_marked = false;
    o->state = o->state == CALX_OBJ_PENDING ? CALX_OBJ_TRANSIENT : CALX_OBJ_DETACHED;
    o->in_session = false;
}

int calx_session_expunge(calx_session *s, void *obj, calx_error *err)
{
    calx_obj *o = obj_of(obj, err);
    if (!o)
        return CALX_ERR_ARGUMENT;
    int rc = enter(s, false, true, err);
    if (rc)
        return rc;
    /* A detached object s still owns (after close, commit or rollback)
     * may be handed over too; one another session owns may not. */
    if (calx__obj_session(o) != s && !(o->owner == s && !calx__obj_session(o)))
        return calx_error_set(err, CALX_ERR_STATE, "Instance '%s' is not present in this Session",
                              o->model->name);
    if (calx__obj_session(o) == s)
        calx__session_detach(s, o);
    /* The program may free it now: nothing of s may point at it. */
    calx__rel_forget(s, o);
    disown(o);
    return 0;
}

static void expunge_all(calx_session *s)
{
    /* The lists go first, so that detaching each object is no search. */
    s->pending.n = s->deleting.n = s->inserted.n = s->deleted.n = 0;
    for (calx_obj *o = s->owned; o; o = o->next) {
        if (calx__obj_session(o) == s)
            calx__session_detach(s, o);
        calx__rel_unload_all(o);
    }
    calx__map_free(s);
}

void calx_session_expunge_all(calx_session *s)
{
    if (s && !s->busy)
        expunge_all(s);
}

int calx_session_expire(calx_session *s, void *obj, calx_error *err)
{
    calx_obj *o = persistent_in(s, obj, true, "persistent within this Session", err);
    if (!o)
        return err->code;
    calx__obj_restore_snapshot(o);
    o->expired = true;
    calx__rel_unload_all(o);
    return 0;
}

static void expire_all(calx_session *s, bool restore)
{
    for (size_t i = 0; i < s->map_used; i++) {
        calx_obj *o = s->map_objs[i];
        if (!o)
            continue;
        if (restore)
            calx__obj_restore_snapshot(o);
        o->expired = true;
        /* Relationships expire with the fields: unloaded, loaded again
         * when asked (their targets may have changed as well). */
        calx__rel_unload_all(o);
    }
}

void calx_session_expire_all(calx_session *s)
{
    if (s && !s->busy)
        expire_all(s, true);
}

/* ---- transactions ---- */

/* After the database's commit: deleted objects are detached, the rest
 * expired (expire_on_commit), the connection back in the pool. */
static void after_commit(calx_session *s)
{
    for (size_t i = 0; i < s->deleted.n; i++) {
        calx_obj *o = s->deleted.v[i];
        o->state = CALX_OBJ_DETACHED;
        o->in_session = false;
    }
    s->deleted.n = s->inserted.n = 0;
    if (!s->opts.no_expire_on_commit)
        expire_all(s, false);
    release_conn(s);
    s->began = s->explicit_begin = s->wrote = false;
    s->sp_depth = 0;
}

static int commit_now(calx_session *s, calx_error *err)
{
    /* The flush carries the COMMIT in its own batch: one round trip. */
    bool committed = false;
    s->commit_sent = false;
    int rc = calx__flush_ex(s, !s->sp_depth, &committed, err);
    if (rc)
        return rc;
    if (s->conn && !committed) {
        s->commit_sent = true;
        rc = calx_await(calx_conn_commit(s->conn, err), NULL, err);
        if (rc) {
            s->need_rollback = true;
            s->failed = *err;
            return rc;
        }
    }
    if (s->wrote)
        calx__route_committed(s);
    after_commit(s);
    return 0;
}

int calx_session_commit(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, false, err);
    if (rc)
        return rc;
    rc = commit_now(s, err);
    s->busy = false;
    return rc;
}

/* Session state after the database rolled back to the start of the
 * transaction. */
static void after_rollback(calx_session *s)
{
    /* Objects INSERTed or added in the transaction leave the session. */
    for (size_t i = 0; i < s->inserted.n; i++) {
        calx_obj *o = s->inserted.v[i];
        calx__map_remove(s, o);
        o->state = CALX_OBJ_TRANSIENT;
        o->in_session = false;
        o->has_snap = false;
    }
    for (size_t i = 0; i < s->pending.n; i++) {
        calx_obj *o = s->pending.v[i];
        o->state = CALX_OBJ_TRANSIENT;
        o->in_session = false;
    }
    /* Objects DELETEd in it come back, but for those INSERTed in it too,
     * which left above: a row the database never kept. */
    for (size_t i = 0; i < s->deleted.n; i++) {
        calx_obj *o = s->deleted.v[i];
        if (!calx__obj_session(o))
            continue;
        o->state = CALX_OBJ_PERSISTENT;
        calx__map_insert(s, o);
    }
    for (size_t i = 0; i < s->deleting.n; i++)
        s->deleting.v[i]->delete_marked = false;
    s->pending.n = s->deleting.n = s->inserted.n = s->deleted.n = 0;
    expire_all(s, true);
    release_conn(s);
    s->began = s->explicit_begin = s->wrote = false;
    s->need_rollback = false;
    s->sp_depth = 0;
}

static int rollback_now(calx_session *s, calx_error *err)
{
    int rc = 0;
    if (s->conn && calx_conn_in_transaction(s->conn)) {
        calx_error e2;
        /* A connection that died has rolled back with the server: the
         * error is not the caller's problem, the state reset is. */
        if (calx_await(calx_conn_rollback(s->conn, &e2), NULL, &e2) &&
            e2.code != CALX_ERR_DISCONNECT && e2.code != CALX_ERR_CLOSED) {
            *err = e2;
            rc = e2.code;
        }
    }
    after_rollback(s);
    return rc;
}

int calx_session_rollback(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, true, err);
    if (rc)
        return rc;
    rc = rollback_now(s, err);
    s->busy = false;
    return rc;
}

int calx_session_begin(calx_session *s, calx_error *err)
{
    int rc = enter(s, false, false, err);
    if (rc)
        return rc;
    if (s->began)
        return calx_error_set(err, CALX_ERR_STATE,
                              "A transaction is already begun on this Session");
    s->began = s->explicit_begin = true;
    return 0;
}

int calx_session_close(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, true, err);
    if (rc)
        return rc;
    /* The rollback is awaited (not left to the pool's reset on return), so
     * the database's locks are gone when close returns. */
    rc = rollback_now(s, err);
    expunge_all(s);
    s->busy = false;
    return rc;
}

bool calx_session_in_transaction(const calx_session *s)
{
    return s && s->began;
}

bool calx_session_needs_rollback(const calx_session *s)
{
    return s && s->need_rollback;
}

int calx_session_flush(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, false, err);
    if (rc)
        return rc;
    return leave(s, calx__flush(s, err), err);
}

/* ---- savepoints ---- */

int calx_session_begin_nested(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, false, err);
    if (rc)
        return rc;
    if (s->sp_depth == CALX_SESSION_MAX_SAVEPOINTS) {
        s->busy = false;
        return calx_error_set(err, CALX_ERR_STATE, "too many nested savepoints (%d)",
                              CALX_SESSION_MAX_SAVEPOINTS);
    }
    /* A generation that wrapped would make a rollback miss what changed
     * since its savepoint (calx_obj.sp_gen is 32 bits). */
    if (s->gen == UINT32_MAX) {
        s->busy = false;
        return calx_error_set(err, CALX_ERR_STATE,
                              "this session has begun %u savepoints, all calx counts in one "
                              "session; use a new session",
                              (unsigned)UINT32_MAX);
    }
    rc = calx__flush(s, err);
    if (!rc)
        rc = calx__session_conn(s, err);
    if (!rc)
        rc = calx_await(calx_conn_begin_nested(s->conn, err), NULL, err);
    if (!rc) {
        s->sp[s->sp_depth++] = (calx_spframe){ .ninserted = s->inserted.n,
                                               .ndeleted = s->deleted.n,
                                               .gen = ++s->gen };
    }
    s->busy = false;
    return rc;
}

int calx_session_commit_nested(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, false, err);
    if (rc)
        return rc;
    if (!s->sp_depth) {
        s->busy = false;
        return calx_error_set(err, CALX_ERR_STATE, "no savepoint is open (begin_nested)");
    }
    rc = calx__flush(s, err);
    if (!rc)
        rc = calx_await(calx_conn_release_savepoint(s->conn, err), NULL, err);
    if (!rc)
        s->sp_depth--;
    s->busy = false;
    return rc;
}

int calx_session_rollback_nested(calx_session *s, calx_error *err)
{
    int rc = enter(s, true, true, err);
    if (rc)
        return rc;
    if (!s->sp_depth || !s->conn) {
        s->busy = false;
        return calx_error_set(err, CALX_ERR_STATE, "no savepoint is open (begin_nested)");
    }
    rc = calx_await(calx_conn_rollback_savepoint(s->conn, err), NULL, err);
    if (rc) {
        s->busy = false;
        return rc;
    }
    calx_spframe f = s->sp[--s->sp_depth];
    /* Inserted or added since the savepoint: out of the session. */
    for (size_t i = f.ninserted; i < s->inserted.n; i++) {
        calx_obj *o = s->inserted.v[i];
        calx__map_remove(s, o);
        if (o->delete_marked) {
            o->delete_marked = false;
            calx__objvec_remove(&s->deleting, o);
        }
        o->state = CALX_OBJ_TRANSIENT;
        o->in_session = false;
        o->has_snap = false;
    }
    s->inserted.n = f.ninserted;
    /* Every pending object was added since: begin_nested flushed what
     * was pending before it. */
    for (size_t i = 0; i < s->pending.n; i++) {
        calx_obj *o = s->pending.v[i];
        o->state = CALX_OBJ_TRANSIENT;
        o->in_session = false;
    }
    s->pending.n = 0;
    /* Deleted since: back, but for those inserted since too, which left
     * above. */
    for (size_t i = f.ndeleted; i < s->deleted.n; i++) {
        calx_obj *o = s->deleted.v[i];
        if (!calx__obj_session(o))
            continue;
        o->state = CALX_OBJ_PERSISTENT;
        calx__map_insert(s, o);
        o->expired = true;
    }
    s->deleted.n = f.ndeleted;
    /* Changed since (flushed after the savepoint, or changed and not yet
     * flushed): expired, and only those. */
    for (size_t i = 0; i < s->map_used; i++) {
        calx_obj *o = s->map_objs[i];
        if (!o)
            continue;
        bool changed = o->sp_gen >= f.gen;
        for (size_t j = 0; !changed && j < o->model->nfields; j++)
            changed = calx__obj_field_changed(o, j);
        if (changed) {
            calx__obj_restore_snapshot(o);
            o->expired = true;
        }
        /* A collection may hold an object that left above, and appends
         * and removes change no field: every relationship is unloaded. */
        calx__rel_unload_all(o);
    }
    s->need_rollback = false;
    s->busy = false;
    return 0;
}

/* ---- the identity map, for programs ---- */

size_t calx_session_identity_count(const calx_session *s)
{
    return s ? s->map_n : 0;
}

static int cmp_objs(const void *a, const void *b)
{
    const calx_obj *x = calx__obj_hdr(*(void *const *)a), *y = calx__obj_hdr(*(void *const *)b);
    int c = strcmp(x->model->name, y->model->name);
    if (c)
        return c;
    calx_value kx[CALX__MAX_KEY], ky[CALX__MAX_KEY];
    size_t nx = calx__obj_key(x, calx__obj_ptr(x), kx);
    calx__obj_key(y, calx__obj_ptr(y), ky);
    return calx__key_cmp(kx, ky, nx);
}

size_t calx_session_identity_map(const calx_session *s, void **out, size_t cap)
{
    if (!s)
        return 0;
    size_t n = 0;
    void **all = malloc((s->map_n ? s->map_n : 1) * sizeof *all);
    if (!all)
        return 0;
    for (size_t i = 0; i < s->map_used; i++)
        if (s->map_objs[i])
            all[n++] = calx__obj_ptr(s->map_objs[i]);
    qsort(all, n, sizeof *all, cmp_objs);
    if (out && cap)
        memcpy(out, all, (n < cap ? n : cap) * sizeof *out);
    free(all);
    return n;
}

void calx_session_print_identity_map(const calx_session *s, FILE *f)
{
    size_t n = calx_session_identity_count(s);
    void **objs = malloc((n ? n : 1) * sizeof *objs);
    if (!objs)
        return;
    n = calx_session_identity_map(s, objs, n);
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        calx_obj *o = calx__obj_hdr(objs[i]);
        calx_value key[CALX__MAX_KEY];
        size_t nk = calx__obj_key(o, objs[i], key);
        fprintf(f, "%s('%s', (", i ? ", " : "", o->model->name);
        for (size_t k = 0; k < nk; k++) {
            if (key[k].type == CALX_INT)
                fprintf(f, "%lld", (long long)key[k].u.i);
            else if (key[k].type == CALX_TEXT)
                fprintf(f, "'%s'", key[k].u.s.ptr);
            else
                fputs("?", f);
            fputs(nk == 1 ? "," : (k + 1 < nk ? ", " : ""), f);
        }
        fputs(")): ", f);
        calx_obj_print(objs[i], f);
    }
    fputs("}\n", f);
    free(objs);
}

/* load.c and flush.c reach enter/leave through these. */
int calx__session_enter(calx_session *s, bool db, calx_error *err)
{
    return enter(s, db, false, err);
}

int calx__session_leave(calx_session *s, int rc, calx_error *err)
{
    return leave(s, rc, err);
}
