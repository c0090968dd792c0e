/* SPDX-License-Identifier: MIT */
/* An engine's read replicas: their URLs checked against the primary's
 * database, a pool each (made as the primary's), the round-robin pick
 * over the healthy ones, a replica skipped for replica_retry_interval
 * after its checkout failed, and the status line of each pool. Which
 * connection goes where is decided by the caller: calx_engine_connect
 * (the primary), calx_engine_connect_replica (engine.c: a replica, the
 * next on failure, the primary last), the session's reads (orm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/logging.h"
#include "core/nomem.h"
#include "engine/engine_int.h"
#include "engine/registry.h"

int calx__server_name(calx__server *srv, const char *what, size_t n)
{
    calx_buf b = { 0 };
    calx__buf_puts(&b, what);
    if (n)
        calx__buf_printf(&b, " %zu", n);
    const calx_url *u = srv->url;
    if (u->nhosts) {
        calx__buf_puts(&b, " (");
        for (size_t i = 0; i < u->nhosts; i++) {
            const calx_url_host *h = &u->hosts[i];
            calx__buf_printf(&b, "%s%s", i ? "," : "", h->host && *h->host ? h->host
                                                                             : "localhost");
            if (h->port)
                calx__buf_printf(&b, ":%d", h->port);
        }
        calx__buf_puts(&b, ")");
    }
    srv->name = calx__buf_take(&b);
    if (srv->name)
        srv->tag = malloc(strlen(srv->name) + 4);
    if (!srv->tag)
        return -1;
    sprintf(srv->tag, "[%s] ", srv->name);
    return 0;
}

int calx__replicas_new(calx_engine *e, const calx_engine_opts *opts, calx_error *err)
{
    double retry = opts->replica_retry_interval;
    if (!(retry >= 0 && retry <= 1e9))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_create_engine: replica_retry_interval must be a number "
                              "of seconds, 0 or more (0: %g)", CALX_REPLICA_RETRY_DEFAULT_S);
    e->replica_retry_ms = (uint64_t)((retry ? retry : CALX_REPLICA_RETRY_DEFAULT_S) * 1000.0);
    if (!opts->nreplicas)
        return 0;
    if (!opts->replicas)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_create_engine: nreplicas is %zu but replicas is NULL",
                              opts->nreplicas);
    if (!e->dialect->replica_caught_up_sql)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "calx_create_engine: %s has no streaming replicas; an engine "
                              "for it takes no replica URLs", e->dialect->display_name);
    e->replicas = calloc(opts->nreplicas, sizeof *e->replicas);
    if (!e->replicas)
        return calx__nomem(err, "making an engine's replicas");
    for (size_t i = 0; i < opts->nreplicas; i++) {
        calx__server *r = &e->replicas[i];
        r->engine = e;
        r->replica = true;
        e->nreplicas = i + 1; /* what calx__replicas_free frees */
        if (!opts->replicas[i])
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "calx_create_engine: replica %zu's URL is NULL", i + 1);
        r->url = calx_url_parse(opts->replicas[i], err);
        if (!r->url) {
            calx__error_note(err, "replica %zu", i + 1);
            return err->code;
        }
        if (strcmp(r->url->dialect, e->url->dialect) != 0)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "calx_create_engine: replica %zu's URL names %s, the "
                                  "primary's %s; a replica is a copy of the primary's "
                                  "database", i + 1, r->url->dialect, e->url->dialect);
        if (e->driver->check_options(r->url, e->connect_args, e->nconnect_args,
                                     e->isolation_level, err) != 0) {
            calx__error_note(err, "replica %zu", i + 1);
            return err->code;
        }
        if (calx__server_name(r, "replica", i + 1) || !calx__engine_pool_new(e, r, r->url))
            return calx__nomem(err, "making an engine's replicas");
    }
    return 0;
}

void calx__replicas_free(calx_engine *e)
{
    for (size_t i = 0; i < e->nreplicas; i++) {
        calx_url_free(e->replicas[i].url);
        free(e->replicas[i].name);
        free(e->replicas[i].tag);
    }
    free(e->replicas);
    e->replicas = NULL;
    e->nreplicas = 0;
}

calx__server *calx__replica_pick(calx_engine *e, const bool *tried)
{
    uint64_t now = calx_loop_now(e->loop);
    for (size_t k = 0; k < e->nreplicas; k++) {
        size_t i = (e->next_replica + k) % e->nreplicas;
        calx__server *r = &e->replicas[i];
        if (tried[i] || !r->pool || r->down_until_ms > now)
            continue;
        e->next_replica = (i + 1) % e->nreplicas;
        return r;
    }
    return NULL;
}

void calx__replica_down(calx__server *r, const calx_error *why)
{
    calx_engine *e = r->engine;
    r->down_until_ms = calx_loop_now(e->loop) + e->replica_retry_ms;
    if (e->pool_opts.echo_pool) {
        char msg[sizeof why->message + 256];
        snprintf(msg, sizeof msg, "%s skipped for %.2f s: %s", r->name,
                 (double)e->replica_retry_ms / 1000.0, why->message);
        calx__log_emit(e->log, e->log_udata, CALX_LOG_WARNING, "calx.pool.replicas", msg);
    }
}

char *calx__replicas_status(const calx_engine *e)
{
    calx_buf b = { 0 };
    uint64_t now = calx_loop_now(e->loop);
    for (size_t i = 0; i <= e->nreplicas; i++) {
        const calx__server *srv = i ? &e->replicas[i - 1] : &e->primary;
        char *st = srv->pool ? calx__pool_status(srv->pool) : strdup("disposed");
        calx__buf_printf(&b, "%s%s: %s", i ? "\n" : "", srv->name, st ? st : "?");
        if (srv->down_until_ms > now)
            calx__buf_printf(&b, " (skipped for %.2f s more: its last checkout failed)",
                             (double)(srv->down_until_ms - now) / 1000.0);
        free(st);
    }
    return calx__buf_take(&b);
}
