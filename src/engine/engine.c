/* SPDX-License-Identifier: MIT */
/* Engines: a URL, a dialect, a driver, a pool per server (the primary's,
 * and each replica's: replicas.c) and a cache of compiled SQL texts.
 * Nothing is opened until the first checkout. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/engine.h"
#include "core/chars.h"
#include "core/hash.h"
#include "core/nomem.h"
#include "core/number_text.h"
#include "core/promise.h"
#include "core/spares.h"
#include "engine/engine_int.h"
#include "engine/registry.h"
#include "engine/sql_memo.h"

/* A checkout under way: from the primary's pool, or from a replica's and,
 * when that fails, from the next healthy one, and at last the primary's. */
typedef struct connecting {
    calx_engine *e;
    calx_future *f;       /* ours, to the caller */
    calx_future *pf;      /* the pool's, now */
    calx__server *srv;
    bool *tried;          /* replicas tried (nreplicas), or NULL */
} connecting;

static void free_engine(calx_engine *e)
{
    calx__loop_detach(&e->on_loop);
    for (size_t i = 0; i < e->plans_cap; i++) {
        calx_plan_entry *pe = e->plans ? e->plans[i] : NULL;
        while (pe) {
            calx_plan_entry *next = pe->next;
            calx__text_plan_free(&pe->plan);
            free(pe->source);
            free(pe);
            pe = next;
        }
    }
    free(e->plans);
    calx__stmt_cache_free(e->stmts);
    calx__engine_memo_free(e);
    calx__conn_spares_free(e);
    calx__spares_free(e->spare_checkouts, &e->nspare_checkouts, sizeof(connecting));
    for (size_t i = 0; i < e->nconnect_args; i++) {
        free((char *)e->connect_args[i].key);
        free((char *)e->connect_args[i].value);
    }
    free(e->connect_args);
    free(e->isolation_level);
    calx__replicas_free(e);
    free(e->primary.name);
    free(e->primary.tag);
    calx_url_free(e->url);
    free(e);
}

static void maybe_free_engine(calx_engine *e)
{
    if (e->freed && e->pools_live == 0 && e->nconns == 0)
        free_engine(e);
}

static void on_pool_empty(void *ctx)
{
    calx__server *srv = ctx;
    calx_engine *e = srv->engine;
    srv->pool = NULL;
    e->pools_live--;
    maybe_free_engine(e);
}

/* Frees every server's pool (each calls on_pool_empty, now or once its
 * connections are back); the engine is held meanwhile, since the last
 * pool's on_empty may free it. */
static void free_pools(calx_engine *e)
{
    e->nconns++;
    calx__pool_free(e->primary.pool);
    for (size_t i = 0; i < e->nreplicas; i++)
        calx__pool_free(e->replicas[i].pool);
    calx__engine_conn_closed(e);
}

void calx__engine_conn_closed(calx_engine *e)
{
    e->nconns--;
    maybe_free_engine(e);
}

/* calx_loop_close asks: a connection checked out (or being checked out)
 * belongs to the program, which alone knows whether its transaction
 * should commit, so the loop cannot close it. */
static int engine_busy(calx_loop_user *u, calx_error *err)
{
    calx_engine *e = (calx_engine *)((char *)u - offsetof(calx_engine, on_loop));
    if (e->nconns == 0)
        return 0;
    char *repr = calx_engine_repr(e);
    int rc = calx_error_set(err, CALX_ERR_STATE,
                            "calx_loop_free: %s still has %zu connection(s) checked out; "
                            "close them (calx_conn_close, calx_session_close) and let the "
                            "loop run, then free the loop",
                            repr ? repr : "an engine", e->nconns);
    free(repr);
    return rc;
}

/* The loop is being freed: the pool closes its connections now (the loop
 * runs until they are closed), and the engine reaches for the loop no
 * more. The program still frees the engine itself. */
static void engine_release(calx_loop_user *u)
{
    calx_engine *e = (calx_engine *)((char *)u - offsetof(calx_engine, on_loop));
    e->loop_gone = true;
    if (!e->freed)
        free_pools(e); /* on_pool_empty, now or during the drain */
}

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

calx_engine *calx_create_engine(const char *url, const calx_engine_opts *opts,
                                calx_error *err)
{
    static const calx_engine_opts defaults;
    if (!opts)
        opts = &defaults;
    if (!url) {
        calx_error_set(err, CALX_ERR_ARGUMENT, "calx_create_engine: the URL is NULL");
        return NULL;
    }
    if (!(opts->command_timeout >= 0 && opts->command_timeout <= 1e9)) {
        calx_error_set(err, CALX_ERR_ARGUMENT,
                       "calx_create_engine: command_timeout must be a number of seconds, "
                       "0 or more (0: no limit)");
        return NULL;
    }
    if (opts->nconnect_args && !opts->connect_args) {
        calx_error_set(err, CALX_ERR_ARGUMENT,
                       "calx_create_engine: nconnect_args is %zu but connect_args is NULL",
                       opts->nconnect_args);
        return NULL;
    }
    if (opts->query_cache_size < CALX_QUERY_CACHE_OFF) {
        calx_error_set(err, CALX_ERR_ARGUMENT,
                       "calx_create_engine: query_cache_size must be a count of statements, "
                       "0 (the default, %d) or CALX_QUERY_CACHE_OFF",
                       CALX_QUERY_CACHE_DEFAULT);
        return NULL;
    }
    if (opts->pool_size < 0 || opts->max_overflow < CALX_OVERFLOW_NONE ||
        opts->pool_timeout < 0 || opts->pool_recycle < 0 ||
        (opts->pool_overflow_idle < 0 && opts->pool_overflow_idle != CALX_OVERFLOW_IDLE_NONE)) {
        calx_error_set(err, CALX_ERR_ARGUMENT,
                       "calx_create_engine: pool_size, pool_timeout and pool_recycle "
                       "must not be negative, max_overflow must be a count, "
                       "CALX_OVERFLOW_UNLIMITED or CALX_OVERFLOW_NONE, and "
                       "pool_overflow_idle seconds or CALX_OVERFLOW_IDLE_NONE");
        return NULL;
    }
    calx_url *u = calx_url_parse(url, err);
    if (!u)
        return NULL;
    /* The parse accepted a registered scheme; the row gives its parts. */
    const calx__database *db = calx__database_built(u->dialect, err);
    if (!db) {
        calx_url_free(u);
        return NULL;
    }
    const calx_driver *driver = db->driver;
    /* A bad option fails here, not at the first checkout (SQLAlchemy's
     * ArgumentError at create_engine). */
    if (driver->check_options(u, opts->connect_args, opts->nconnect_args,
                              opts->isolation_level, err) != 0) {
        calx_url_free(u);
        return NULL;
    }
    calx_engine *e = calloc(1, sizeof *e);
    if (!e) {
        calx_url_free(u);
        calx__nomem(err, "making an engine");
        return NULL;
    }
    e->url = u;
    e->database = db;
    e->driver = driver;
    e->dialect = db->dialect;
    e->loop = opts->loop ? opts->loop : calx_loop_default();
    e->echo = opts->echo;
    e->log = opts->log;
    e->log_udata = opts->log_udata;
    e->isolation_level = dupstr(opts->isolation_level);
    e->autocommit =
        opts->isolation_level && calx__ascii_casecmp(opts->isolation_level, "AUTOCOMMIT") == 0;
    /* command_timeout reaches the driver as a connect arg, put last so that
     * it wins over the URL's and connect_args'. */
    bool pass_timeout = opts->command_timeout > 0 && driver->command_timeout;
    size_t nargs = opts->nconnect_args + pass_timeout;
    if (nargs) {
        e->connect_args = calloc(nargs, sizeof *e->connect_args);
        if (!e->connect_args)
            goto nomem;
        e->nconnect_args = nargs;
        for (size_t i = 0; i < opts->nconnect_args; i++) {
            e->connect_args[i].key = dupstr(opts->connect_args[i].key);
            e->connect_args[i].value = dupstr(opts->connect_args[i].value);
            if (!e->connect_args[i].key || !e->connect_args[i].value)
                goto nomem;
        }
    }
    if (pass_timeout) {
        char secs[32];
        calx__double_text(secs, sizeof secs, 17, opts->command_timeout);
        e->connect_args[nargs - 1].key = dupstr("command_timeout");
        e->connect_args[nargs - 1].value = dupstr(secs);
        if (!e->connect_args[nargs - 1].key || !e->connect_args[nargs - 1].value)
            goto nomem;
    }

    e->pool_opts = *opts;
    e->pool_opts.connect_args = NULL; /* the engine's copies are used */
    e->pool_opts.replicas = NULL;
    e->primary.engine = e;
    e->primary.url = u;
    if (calx__server_name(&e->primary, "primary", 0))
        goto nomem;
    if (opts->query_cache_size != CALX_QUERY_CACHE_OFF &&
        !(e->stmts = calx__stmt_cache_new(opts->query_cache_size
                                              ? (size_t)opts->query_cache_size
                                              : CALX_QUERY_CACHE_DEFAULT)))
        goto nomem;
    if (!calx__engine_pool_new(e, &e->primary, u))
        goto nomem;
    int rc = calx__replicas_new(e, opts, err);
    if (rc) {
        free_pools(e);
        e->freed = true;
        maybe_free_engine(e);
        return NULL;
    }
    e->on_loop.busy = engine_busy;
    e->on_loop.release = engine_release;
    calx__loop_attach(e->loop, &e->on_loop);
    return e;

nomem:
    if (e->primary.pool) {
        free_pools(e);
        e->freed = true;
        maybe_free_engine(e);
    } else {
        free_engine(e);
    }
    calx__nomem(err, "making an engine");
    return NULL;
}

calx_pool *calx__engine_pool_new(calx_engine *e, calx__server *srv, const calx_url *url)
{
    const calx_engine_opts *opts = &e->pool_opts;
    calx_pool_config pc = {
        .loop = e->loop,
        .driver = e->driver,
        .url = url,
        .connect_args = e->connect_args,
        .nconnect_args = e->nconnect_args,
        .isolation_level = e->isolation_level,
        .kind = opts->poolclass,
        .size = opts->pool_size ? opts->pool_size : 5,
        .max_overflow = opts->max_overflow == 0 ? 10
                      : opts->max_overflow == CALX_OVERFLOW_NONE ? 0
                      : opts->max_overflow,
        .timeout_ms = (uint64_t)((opts->pool_timeout ? opts->pool_timeout : 30.0) * 1000.0),
        .recycle_ms = (uint64_t)(opts->pool_recycle * 1000.0),
        .overflow_idle_ms = opts->pool_overflow_idle < 0 ? 0
                          : (uint64_t)((opts->pool_overflow_idle ? opts->pool_overflow_idle
                                                                 : CALX_POOL_OVERFLOW_IDLE_S) *
                                       1000.0),
        .pre_ping = opts->pool_pre_ping,
        .reset_rollback = opts->pool_reset_on_return != CALX_RESET_NONE,
        .use_lifo = opts->pool_use_lifo,
        .echo = opts->echo_pool,
        .log = opts->log,
        .log_udata = opts->log_udata,
        .on_empty = on_pool_empty,
        .on_empty_ctx = srv,
    };
    if (pc.kind == CALX_POOL_DEFAULT)
        /* Every connection to an in-memory database is a database of its
         * own: share one so that all sessions see the same data. (The URL
         * parser sets memory for the databases that have it.) */
        pc.kind = url->memory ? CALX_POOL_STATIC : CALX_POOL_QUEUE;
    srv->pool = calx__pool_new(&pc);
    if (srv->pool)
        e->pools_live++;
    return srv->pool;
}

/* ---- checkout ---- */

static int start_checkout(connecting *cg, calx__server *srv, calx_error *err);

/* Frees cg (its tried list too), or keeps it for e's next checkout. */
static void connecting_free(calx_engine *e, connecting *cg)
{
    free(cg->tried);
    if (!calx__spare_give(e->spare_checkouts, &e->nspare_checkouts, CALX__SPARE_CHECKOUTS, cg,
                          sizeof *cg))
        free(cg);
}

static void on_checked_out(calx_future *pf, void *udata)
{
    connecting *cg = udata;
    calx_engine *e = cg->e;
    calx_pconn *pc = NULL;
    calx_error err;
    cg->pf = NULL;
    if (calx_future_take(pf, &pc, &err)) {
        if (cg->srv->replica && !calx__future_cancelled(cg->f) && err.code != CALX_ERR_CLOSED &&
            err.code != CALX_ERR_CANCELED && !e->freed && !e->loop_gone) {
            /* The replica is down or unreachable: the next one, else the
             * primary. */
            calx__replica_down(cg->srv, &err);
            calx__server *next = calx__replica_pick(e, cg->tried);
            if (start_checkout(cg, next ? next : &e->primary, &err) == 0)
                return;
        }
        calx__future_reject(cg->f, &err);
    } else {
        calx_connection *c = calx__connection_new(e, cg->srv, pc);
        if (c) {
            calx__future_resolve(cg->f, c);
        } else {
            calx__pool_checkin(pc);
            calx__future_rejectf(cg->f, CALX_ERR_NOMEM, "out of memory making a connection");
        }
    }
    connecting_free(e, cg);
    calx__engine_conn_closed(e); /* the hold taken in connect() */
}

static int start_checkout(connecting *cg, calx__server *srv, calx_error *err)
{
    if (srv->replica)
        cg->tried[srv - cg->e->replicas] = true;
    cg->srv = srv;
    calx_future *pf = calx__pool_checkout(srv->pool, err);
    if (!pf)
        return err->code;
    cg->pf = pf;
    calx_future_then(pf, on_checked_out, cg);
    return 0;
}

static void cancel_checkout(void *ctx)
{
    connecting *cg = ctx;
    if (cg->pf)
        calx_future_cancel(cg->pf);
}

static void close_unclaimed(void *value)
{
    calx_conn_close(value);
}

static calx_future *connect(calx_engine *e, bool replica, const char *fn, calx_error *err)
{
    if (!e || e->freed) {
        calx_error_set(err, CALX_ERR_CLOSED, "%s: the engine has been freed", fn);
        return NULL;
    }
    if (e->loop_gone) {
        calx_error_set(err, CALX_ERR_CLOSED,
                       "%s: the engine's loop has been freed "
                       "(calx_loop_free); make the engine on a live loop", fn);
        return NULL;
    }
    connecting *cg = calx__spare_take(e->spare_checkouts, &e->nspare_checkouts,
                                      sizeof *cg);  /* one a checkout */
    calx_future *f = cg ? calx__future_new(e->loop) : NULL;
    if (f && replica && e->nreplicas && !(cg->tried = calloc(e->nreplicas, sizeof *cg->tried))) {
        calx_future_release(f);
        calx__future_reject(f, NULL);
        f = NULL;
    }
    if (!f) {
        if (cg)
            connecting_free(e, cg);
        calx__nomem(err, "checking out a connection");
        return NULL;
    }
    cg->e = e;
    cg->f = f;
    calx__server *srv = cg->tried ? calx__replica_pick(e, cg->tried) : NULL;
    if (start_checkout(cg, srv ? srv : &e->primary, err) != 0) {
        calx_future_release(f);
        calx__future_reject(f, NULL);
        connecting_free(e, cg);
        return NULL;
    }
    e->nconns++; /* keeps the engine alive until the checkout settles */
    calx__future_set_dtor(f, close_unclaimed);
    calx__future_set_cancel(f, cancel_checkout, cg);
    return f;
}

calx_future *calx_engine_connect(calx_engine *e, calx_error *err)
{
    return connect(e, false, "calx_engine_connect", err);
}

calx_future *calx_engine_connect_replica(calx_engine *e, calx_error *err)
{
    return connect(e, true, "calx_engine_connect_replica", err);
}

void calx_engine_dispose(calx_engine *e)
{
    if (!e)
        return;
    if (e->primary.pool)
        calx__pool_dispose(e->primary.pool);
    for (size_t i = 0; i < e->nreplicas; i++)
        if (e->replicas[i].pool)
            calx__pool_dispose(e->replicas[i].pool);
}

void calx_engine_free(calx_engine *e)
{
    if (!e || e->freed)
        return;
    e->freed = true;
    if (e->pools_live == 0)
        maybe_free_engine(e); /* the loop shut the pools down already */
    else
        free_pools(e); /* on_pool_empty, now or later */
}

const calx_url *calx_engine_url(const calx_engine *e)
{
    return e->url;
}

const char *calx_engine_dialect(const calx_engine *e)
{
    return e->dialect->name;
}

char *calx_engine_repr(const calx_engine *e)
{
    char *u = calx_url_render(e->url, true);
    char *s = NULL;
    char settings[128];
    e->driver->describe(e->url, e->connect_args, e->nconnect_args, settings, sizeof settings);
    if (u && asprintf(&s, "Engine(%s%s)", u, settings) < 0)
        s = NULL;
    free(u);
    return s;
}

char *calx_engine_status(const calx_engine *e)
{
    if (!e->primary.pool)
        return strdup("disposed");
    if (!e->nreplicas)
        return calx__pool_status(e->primary.pool);
    return calx__replicas_status(e);
}

void calx_engine_stats(const calx_engine *e, calx_pool_stats *out)
{
    if (e->primary.pool)
        calx__pool_read_stats(e->primary.pool, out);
    else
        memset(out, 0, sizeof *out);
}

/* ---- the compiled-text cache ---- */

static int grow_plans(calx_engine *e)
{
    size_t cap = e->plans_cap ? e->plans_cap * 2 : 64;
    calx_plan_entry **t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < e->plans_cap; i++) {
        calx_plan_entry *pe = e->plans[i];
        while (pe) {
            calx_plan_entry *next = pe->next;
            size_t h = (size_t)calx__hash_str(CALX_HASH_INIT, pe->source) & (cap - 1);
            pe->next = t[h];
            t[h] = pe;
            pe = next;
        }
    }
    free(e->plans);
    e->plans = t;
    e->plans_cap = cap;
    return 0;
}

int calx__engine_plan(calx_engine *e, const char *sql, const calx_params *params,
                      calx_plan_entry **out, bool *fresh, calx_error *err)
{
    /* A loop of gets asks for the same text each time: one comparison
     * then, and no hash of the whole text. */
    if (e->last_plan && strcmp(e->last_plan->source, sql) == 0) {
        *out = e->last_plan;
        *fresh = false;
        return 0;
    }
    if (e->plans_cap) {
        size_t bucket = (size_t)calx__hash_str(CALX_HASH_INIT, sql) & (e->plans_cap - 1);
        for (calx_plan_entry *pe = e->plans[bucket]; pe; pe = pe->next) {
            if (strcmp(pe->source, sql) == 0) {
                *out = e->last_plan = pe;
                *fresh = false;
                return 0;
            }
        }
    }
    /* Programs that build SQL with literal values in it would grow the
     * cache without end: past the cap, texts are compiled for one use. */
    bool cache = e->nplans < CALX_PLAN_CACHE_MAX;
    if (cache && e->nplans >= e->plans_cap * 3 / 4 && grow_plans(e) != 0)
        return calx__nomem(err, "compiling SQL");
    calx_plan_entry *pe = calloc(1, sizeof *pe);
    if (!pe || !(pe->source = strdup(sql))) {
        free(pe);
        return calx__nomem(err, "compiling SQL");
    }
    uint64_t t0 = calx__mono_ns();
    int rc = calx__text_compile(sql, params, e->dialect->paramstyle, &pe->plan, err);
    if (rc) {
        free(pe->source);
        free(pe);
        return rc;
    }
    pe->sql_hash = calx__hash_str(CALX_HASH_INIT, pe->plan.sql);
    pe->created_ns = calx__mono_ns();
    pe->compile_s = (double)(pe->created_ns - t0) / 1e9;
    *out = pe;
    *fresh = true;
    if (!cache) {
        pe->uncached = true;
        return 0;
    }
    size_t h = (size_t)calx__hash_str(CALX_HASH_INIT, sql) & (e->plans_cap - 1);
    pe->next = e->plans[h];
    e->plans[h] = pe;
    e->nplans++;
    e->last_plan = pe;
    return 0;
}

int calx__engine_plan_kept(calx_engine *e, const char *sql, const calx_params *params,
                           calx_plan_entry **out, bool *fresh, calx_error *err)
{
    if (e->kept_sql == sql) {
        *out = e->kept_plan;
        *fresh = false;
        return 0;
    }
    int rc = calx__engine_plan(e, sql, params, out, fresh, err);
    /* An entry compiled for one use is freed after it: never remembered. */
    if (rc == 0 && !(*out)->uncached) {
        e->kept_sql = sql;
        e->kept_plan = *out;
    }
    return rc;
}

void calx__plan_entry_release(calx_plan_entry *pe)
{
    if (pe && pe->uncached) {
        calx__text_plan_free(&pe->plan);
        free(pe->source);
        free(pe);
    }
}
