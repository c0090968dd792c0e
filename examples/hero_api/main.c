/* SPDX-License-Identifier: MIT */
/* The hero service: SQLModel's FastAPI tutorial (its final app, heroes
 * and teams) as an HTTP/1.1 JSON service in C. H2O (Debian's libh2o, built
 * on libuv) and calx run on one libuv loop; each request that reaches the
 * database runs in a calx task of its own (routes.c), with a session of
 * its own from one sessionmaker, all sessions sharing the engine's pool.
 * SQLite has one writer at a time: there the routes that write (POST,
 * PATCH, DELETE) take their sessions from a second sessionmaker, over an
 * engine of one connection, whose pool lines them up (FIFO, pool_timeout)
 * instead of SQLite's busy handler. A PATCH reads its row before it
 * writes, and SQLite cannot let such a transaction wait for the write lock
 * while another connection holds it; with one writer connection that
 * never happens, and the reads (GET) never wait for a writer (WAL).
 * This file is the HTTP side: the options, routing and the checks that
 * need no database (FastAPI's 404, 405 and 422 answers), the task per
 * request and its answer, a small /status for tests, a fixed /health
 * (the HTTP side's ceiling in bench B7), and shutdown.
 *
 *     hero_api [--host ADDR] [--port N] [--db FILE] [--drop-all] [--echo]
 *
 * SQLite in FILE (hero_api.db) by default; DATABASE_URL=postgresql://...
 * for PostgreSQL. Port 0 lets the system pick a free port; the first line
 * on stdout says which ("hero_api: listening on http://127.0.0.1:PORT").
 * --drop-all starts from empty tables.
 *
 * A request never outlives its connection unnoticed: if the client goes
 * away while the task runs, h2o frees the request, a small guard in the
 * request's memory pool tells the call so, and the answer is dropped when
 * the task ends; the session has closed by then either way. On SIGINT or
 * SIGTERM the service stops accepting, lets the requests in flight
 * finish and their connections close (at most SHUTDOWN_GRACE_MS), frees
 * the engine and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <h2o.h>

#include "hero_api.h"

/* A request body larger than this is refused by h2o (413) before it is
 * read into memory. The tutorial's bodies are a few hundred bytes. */
#define BODY_MAX_BYTES (1024 * 1024)
/* A client that sends nothing (a request head or body unfinished, or a
 * keep-alive connection idle) for this long is disconnected. */
#define HTTP_TIMEOUT_MS 5000
/* After a signal, requests in flight and open connections get this long
 * before the loop is stopped anyway. */
#define SHUTDOWN_GRACE_MS (2 * HTTP_TIMEOUT_MS)

static uv_loop_t uv;
static calx_loop *loop;
static calx_engine *engine;
static calx_engine *writer_engine;     /* SQLite only: the one writer connection */
static calx_sessionmaker *sessions;
static calx_sessionmaker *writer_sessions;
static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static uv_tcp_t listener;
static uv_signal_t sigint_watch, sigterm_watch;
static uv_timer_t grace_timer;
static size_t in_flight;     /* tasks running */
static size_t connections;   /* client connections open */
static bool shutting_down;

/* A request handed to a task: the call, and the h2o request while it
 * lives (NULL once h2o freed it). */
typedef struct pending {
    api_call call;
    h2o_req_t *req;
    struct req_guard *guard;
} pending;

/* Lives in the request's pool: h2o disposes it with the request. */
typedef struct req_guard {
    pending *p;
} req_guard;

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 422: return "Unprocessable Entity";
    default: return "Internal Server Error";
    }
}

/* Sends a JSON answer; body NULL (memory ran out writing it) is a bare
 * 500. allow, for a 405, names the methods the route takes. */
static void send_json(h2o_req_t *req, int status, const char *body, const char *allow)
{
    if (!body) {
        status = 500;
        body = "{\"detail\":\"Internal Server Error\"}";
    }
    req->res.status = status;
    req->res.reason = reason_of(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    if (allow)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow,
                       strlen(allow));
    if (shutting_down)
        req->http1_is_persistent = 0;   /* the connection closes after this answer */
    h2o_send_inline(req, body, strlen(body));
}

/* Sends and frees a malloc'd body. */
static void send_owned(h2o_req_t *req, int status, char *body, const char *allow)
{
    send_json(req, status, body, allow);
    free(body);
}

static void maybe_finish(void)
{
    if (shutting_down && in_flight == 0 && connections == 0)
        uv_stop(&uv);
}

static void on_guard_dispose(void *arg)
{
    req_guard *g = arg;
    if (g->p)
        g->p->req = NULL;
}

/* The task ended (on the loop's stack, not the task's): answer if the
 * client is still there, then free the call. */
static void on_call_done(calx_future *f, void *udata)
{
    pending *p = udata;
    calx_error err;
    if (calx_future_take(f, NULL, &err)) {
        fprintf(stderr, "hero_api: task failed: %s\n", err.message);
        p->call.status = 500;
    }
    if (p->req) {
        h2o_req_t *req = p->req;
        p->guard->p = NULL;   /* sending may free the request */
        send_json(req, p->call.status, p->call.status == 500 && !p->call.response
                                           ? NULL : p->call.response, NULL);
    }
    json_decref(p->call.body);
    free(p->call.response);
    free(p);
    in_flight--;
    maybe_finish();
}

static void start_call(h2o_req_t *req, const api_call *call)
{
    calx_error err;
    pending *p = calloc(1, sizeof *p);
    req_guard *g = p ? h2o_mem_alloc_shared(&req->pool, sizeof *g, on_guard_dispose) : NULL;
    calx_future *f = NULL;
    if (g) {
        p->call = *call;
        p->call.sessions = call->op == API_CREATE || call->op == API_UPDATE ||
                                   call->op == API_DELETE ? writer_sessions : sessions;
        p->call.loop = loop;
        p->req = req;
        p->guard = g;
        g->p = p;
        f = calx_spawn(loop, route_run, &p->call, NULL, &err);
    } else {
        calx_error_set(&err, CALX_ERR_NOMEM, "out of memory for a request");
    }
    if (!f) {
        fprintf(stderr, "hero_api: cannot start a task: %s\n", err.message);
        if (g)
            g->p = NULL;
        json_decref(call->body);
        free(p);
        send_json(req, 500, NULL, NULL);
        return;
    }
    in_flight++;
    calx_future_then(f, on_call_done, p);
}

/* FastAPI's int: a whole number, nothing else. */
static bool parse_int(const char *s, size_t n, int64_t *out)
{
    char buf[24];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

/* ?offset=&limit= (offset: int = 0, limit: int = Query(default=100,
 * le=100); neither may be negative here, where the tutorial would pass a
 * negative one to the database). */
static void parse_page(h2o_req_t *req, api_call *call, json_t *errors)
{
    call->offset = 0;
    call->limit = LIST_LIMIT_MAX;
    if (req->query_at == SIZE_MAX)
        return;
    const char *q = req->path.base + req->query_at + 1;
    const char *end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        if (eq) {
            size_t klen = (size_t)(eq - q);
            const char *name = klen == 6 && !memcmp(q, "offset", 6) ? "offset"
                             : klen == 5 && !memcmp(q, "limit", 5) ? "limit" : NULL;
            if (name) {
                int64_t v;
                json_t *input = json_stringn(eq + 1, (size_t)(stop - eq - 1));
                if (!parse_int(eq + 1, (size_t)(stop - eq - 1), &v))
                    shape_error(errors, "int_parsing", "query", name,
                                "Input should be a valid integer, unable to parse string as an integer",
                                input);
                else if (v < 0)
                    shape_error(errors, "greater_than_equal", "query", name,
                                "Input should be greater than or equal to 0", input);
                else if (name[0] == 'l' && v > LIST_LIMIT_MAX)
                    shape_error(errors, "less_than_equal", "query", name,
                                "Input should be less than or equal to 100", input);
                else if (name[0] == 'l')
                    call->limit = v;
                else
                    call->offset = v;
                json_decref(input);
            }
        }
        q = stop + 1;
    }
}

/* The body as JSON, checked against shape; NULL after appending errors. */
static json_t *parse_body(h2o_req_t *req, api_shape shape, json_t *errors)
{
    if (!req->entity.base || req->entity.len == 0) {
        shape_error(errors, "missing", "body", NULL, "Field required", NULL);
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->entity.base, req->entity.len, JSON_DECODE_ANY, &jerr);
    if (!body) {
        /* FastAPI: {"type": "json_invalid", "loc": ["body", position], ...} */
        json_t *e = json_object();
        json_t *loc = json_array();
        json_array_append_new(loc, json_string("body"));
        json_array_append_new(loc, json_integer(jerr.position));
        json_object_set_new(e, "type", json_string("json_invalid"));
        json_object_set_new(e, "loc", loc);
        json_object_set_new(e, "msg", json_string("JSON decode error"));
        json_object_set_new(e, "input", json_object());
        json_object_set_new(e, "ctx", json_pack("{ss}", "error", jerr.text));
        json_array_append_new(errors, e);
        return NULL;
    }
    json_t *checked = shape_check(shape, body, errors);
    json_decref(body);
    return checked;
}

static bool method_is(h2o_req_t *req, const char *m)
{
    return req->method.len == strlen(m) && !memcmp(req->method.base, m, req->method.len);
}

/* GET /status: the pool and the service's counters, for tests. */
static void send_status(h2o_req_t *req)
{
    calx_pool_stats st, wst = { 0 };
    calx_engine_stats(engine, &st);
    if (writer_engine)
        calx_engine_stats(writer_engine, &wst);
    char *pool = calx_engine_status(engine);
    json_t *j = json_pack("{si si si si ss}", "checked_out", st.checked_out + wst.checked_out,
                          "checked_in", st.checked_in + wst.checked_in, "in_flight",
                          (int)in_flight, "connections", (int)connections, "pool",
                          pool ? pool : "");
    free(pool);
    send_owned(req, 200, shape_dump(j), NULL);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    h2o_iovec_t path = req->path_normalized;
    api_call call = { 0 };
    const char *rest;
    size_t rest_len;
    if (path.len >= 8 && !memcmp(path.base, "/heroes/", 8)) {
        call.resource = API_HEROES;
        rest = path.base + 8;
        rest_len = path.len - 8;
    } else if (path.len >= 7 && !memcmp(path.base, "/teams/", 7)) {
        call.resource = API_TEAMS;
        rest = path.base + 7;
        rest_len = path.len - 7;
    } else if (path.len == 7 && !memcmp(path.base, "/status", 7) && method_is(req, "GET")) {
        send_status(req);
        return 0;
    } else if (path.len == 7 && !memcmp(path.base, "/health", 7) && method_is(req, "GET")) {
        /* A fixed body, no task, no database: the HTTP side's own ceiling
         * (bench B7 measures it beside the routes). */
        send_json(req, 200, "{\"status\":\"ok\"}", NULL);
        return 0;
    } else {
        send_owned(req, 404, shape_detail("Not Found"), NULL);
        return 0;
    }
    bool heroes = call.resource == API_HEROES;
    json_t *errors = json_array();
    if (rest_len == 0) {
        if (method_is(req, "GET")) {
            call.op = API_LIST;
            parse_page(req, &call, errors);
        } else if (method_is(req, "POST")) {
            call.op = API_CREATE;
            call.body = parse_body(req, heroes ? SHAPE_HERO_CREATE : SHAPE_TEAM_CREATE, errors);
        } else {
            json_decref(errors);
            send_owned(req, 405, shape_detail("Method Not Allowed"), "GET, POST");
            return 0;
        }
    } else if (memchr(rest, '/', rest_len)) {
        json_decref(errors);
        send_owned(req, 404, shape_detail("Not Found"), NULL);
        return 0;
    } else {
        if (method_is(req, "GET"))
            call.op = API_READ;
        else if (method_is(req, "PATCH"))
            call.op = API_UPDATE;
        else if (method_is(req, "DELETE"))
            call.op = API_DELETE;
        else {
            json_decref(errors);
            send_owned(req, 405, shape_detail("Method Not Allowed"), "GET, PATCH, DELETE");
            return 0;
        }
        if (!parse_int(rest, rest_len, &call.id)) {
            json_t *input = json_stringn(rest, rest_len);
            shape_error(errors, "int_parsing", "path", heroes ? "hero_id" : "team_id",
                        "Input should be a valid integer, unable to parse string as an integer",
                        input);
            json_decref(input);
        }
        if (call.op == API_UPDATE)
            call.body = parse_body(req, heroes ? SHAPE_HERO_UPDATE : SHAPE_TEAM_UPDATE, errors);
    }
    if (json_array_size(errors) > 0) {
        json_decref(call.body);
        send_owned(req, 422, shape_422(errors), NULL);
        return 0;
    }
    json_decref(errors);
    start_call(req, &call);
    return 0;
}

static void on_conn_closed(uv_handle_t *h)
{
    free(h);
    connections--;
    maybe_finish();
}

static void on_accept(uv_stream_t *server, int status)
{
    if (status != 0)
        return;
    uv_tcp_t *conn = malloc(sizeof *conn);
    if (!conn)
        return;
    uv_tcp_init(server->loop, conn);
    if (uv_accept(server, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    connections++;
    h2o_accept(&accept_ctx, h2o_uv_socket_create((uv_stream_t *)conn, on_conn_closed));
}

static void on_grace_over(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "hero_api: shutdown: %zu requests in flight and %zu connections open "
            "after %d ms; stopping anyway\n", in_flight, connections, SHUTDOWN_GRACE_MS);
    uv_stop(&uv);
}

static void on_signal(uv_signal_t *w, int signum)
{
    (void)w;
    if (shutting_down)
        return;
    shutting_down = true;
    fprintf(stderr, "hero_api: signal %d: finishing %zu requests, then exiting\n", signum,
            in_flight);
    uv_close((uv_handle_t *)&listener, NULL);
    uv_close((uv_handle_t *)&sigint_watch, NULL);
    uv_close((uv_handle_t *)&sigterm_watch, NULL);
    /* Not h2o_context_request_shutdown: h2o 2.2 has nothing to do there
     * for HTTP/1 but start HTTP/2's GOAWAY timer, which then outlives the
     * context. Each answer from now on closes its connection (send_json),
     * and an idle connection ends at HTTP_TIMEOUT_MS. */
    uv_timer_start(&grace_timer, on_grace_over, SHUTDOWN_GRACE_MS, 0);
    uv_unref((uv_handle_t *)&grace_timer);
    maybe_finish();
}

static int listen_on(const char *host, int port)
{
    struct sockaddr_storage addr;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc == 0)
        rc = uv_tcp_init(&uv, &listener);
    if (rc == 0 && (rc = uv_tcp_bind(&listener, (struct sockaddr *)&addr, 0)) == 0)
        rc = uv_listen((uv_stream_t *)&listener, SOMAXCONN, on_accept);
    if (rc) {
        fprintf(stderr, "hero_api: cannot listen on %s port %d: %s\n", host, port,
                uv_strerror(rc));
        return -1;
    }
    int len = sizeof addr;
    uv_tcp_getsockname(&listener, (struct sockaddr *)&addr, &len);
    port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                            : ((struct sockaddr_in *)&addr)->sin_port);
    printf("hero_api: listening on http://%s%s%s:%d\n", strchr(host, ':') ? "[" : "", host,
           strchr(host, ':') ? "]" : "", port);
    fflush(stdout);
    return 0;
}

/* create_all (after drop_all with --drop-all): on_startup's
 * create_db_and_tables. */
static int create_tables(bool drop)
{
    calx_error err;
    calx_metadata *md = route_metadata(&err);
    int rc = md ? 0 : -1;
    if (md && drop)
        rc = calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err);
    if (md && !rc)
        rc = calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err);
    calx_metadata_free(md);
    if (rc)
        fprintf(stderr, "hero_api: create_all: %s\n", err.message);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: hero_api [--host ADDR] [--port N] [--db FILE] [--drop-all] [--echo]\n"
                    "       DATABASE_URL=postgresql://... hero_api ...\n");
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    const char *db = "hero_api.db";
    int port = 8000;
    bool drop = false, echo = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i];
        else if (!strcmp(argv[i], "--drop-all"))
            drop = true;
        else if (!strcmp(argv[i], "--echo"))
            echo = true;
        else {
            usage();
            return 2;
        }
    }
    char sqlite_url[4096];
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url) {
        /* A GET's lone SELECTs run on the loop thread when they cannot
         * wait, SQLite's default (docs/sqlite.md): a web API reads far
         * more than it writes. */
        snprintf(sqlite_url, sizeof sqlite_url, "sqlite:///%s", db);
        url = sqlite_url;
    }
    signal(SIGPIPE, SIG_IGN);   /* a client gone mid-write is an error, not a death */

    calx_error err;
    uv_loop_init(&uv);
    loop = calx_loop_new(&uv, &err);
    engine = loop ? calx_create_engine(url, &(calx_engine_opts){ .loop = loop, .echo = echo },
                                       &err) : NULL;
    /* One home for the fact that SQLite has one writer: its dialect. */
    if (engine && !strcmp(calx_engine_dialect(engine), "sqlite"))
        writer_engine = calx_create_engine(url, &(calx_engine_opts){
            .loop = loop, .echo = echo, .pool_size = 1, .max_overflow = CALX_OVERFLOW_NONE }, &err);
    sessions = engine ? calx_sessionmaker_new(&(calx_session_opts){ .bind = engine }, &err)
                      : NULL;
    writer_sessions = sessions ? calx_sessionmaker_new(&(calx_session_opts){
        .bind = writer_engine ? writer_engine : engine }, &err) : NULL;
    int rc = 1;
    if (!writer_sessions) {
        fprintf(stderr, "hero_api: %s\n", err.message);
        goto out;
    }
    if (create_tables(drop))
        goto out;

    h2o_config_init(&config);
    config.max_request_entity_size = BODY_MAX_BYTES;
    config.http1.req_timeout = HTTP_TIMEOUT_MS;
    config.http1.upgrade_to_http2 = 0;   /* HTTP/1.1 only */
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof *handler);
    handler->on_req = on_req;
    h2o_context_init(&ctx, &uv, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;

    uv_timer_init(&uv, &grace_timer);
    uv_signal_init(&uv, &sigint_watch);
    uv_signal_init(&uv, &sigterm_watch);
    uv_signal_start(&sigint_watch, on_signal, SIGINT);
    uv_signal_start(&sigterm_watch, on_signal, SIGTERM);
    if (listen_on(host, port) == 0) {
        uv_run(&uv, UV_RUN_DEFAULT);
        rc = 0;
    } else {
        uv_close((uv_handle_t *)&listener, NULL);
        uv_close((uv_handle_t *)&sigint_watch, NULL);
        uv_close((uv_handle_t *)&sigterm_watch, NULL);
    }
    uv_close((uv_handle_t *)&grace_timer, NULL);
    if (connections == 0) {
        h2o_context_dispose(&ctx);
        h2o_config_dispose(&config);
    }
out:
    calx_sessionmaker_free(sessions);
    calx_sessionmaker_free(writer_sessions);
    calx_engine_free(writer_engine);
    calx_engine_free(engine);
    if (calx_loop_free(loop))
        rc = 1;
    uv_run(&uv, UV_RUN_DEFAULT);   /* the close callbacks of h2o's handles and ours */
    if (uv_loop_close(&uv) != 0 && connections == 0)
        fprintf(stderr, "hero_api: handles left on the loop at exit\n");
    return rc;
}
