/* SPDX-License-Identifier: MIT */
/* The hero service (examples/hero_api/): what its three files share.
 *
 *   main.c    the HTTP side: options, the libuv loop that h2o and calx
 *             share, routing a request, a calx task per request, the
 *             answer sent when the task ends, shutdown on SIGINT/SIGTERM
 *   shapes.c  JSON in and out: a request body checked against the
 *             tutorial's create / update shapes, an object written as its
 *             public shape, FastAPI's 422 detail list
 *   routes.c  the tutorial's route bodies, run in the task with a session
 *             of their own
 */
#ifndef HERO_API_H
#define HERO_API_H

#include <jansson.h>
#include <stdint.h>

#include "calx.h"

/* The tutorial's table models (docs_src/tutorial/fastapi/relationships),
 * with two bounds SQLModel's tutorial leaves out so that the model's own
 * validation has something to say: a name of at most NAME_MAX_CHARS
 * characters, an age of at least 0. */
#define NAME_MAX_CHARS 100

#define Team_FIELDS(F, M)                                                     \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, name,         TEXT,      REQUIRED, .index = true,                    \
                                            .max_length = NAME_MAX_CHARS)     \
    F(M, headquarters, TEXT,      REQUIRED)
#define Team_RELATIONS(R, M)                                                  \
    R(M, heroes, Hero, ONE_TO_MANY, .back_populates = "team")

#define Hero_FIELDS(F, M)                                                     \
    F(M, id,          OPT_INT64, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED, .index = true,                     \
                                           .max_length = NAME_MAX_CHARS)      \
    F(M, secret_name, TEXT,      REQUIRED)                                    \
    F(M, age,         OPT_INT64, NONE,     .index = true, .ge = CALX_SOME(0)) \
    F(M, team_id,     OPT_INT64, NONE,     .foreign_key = "team.id")
#define Hero_RELATIONS(R, M)                                                  \
    R(M, team, Team, MANY_TO_ONE, .back_populates = "heroes")

CALX_MODEL_WITH_RELATIONS(Team, "team")
CALX_MODEL_WITH_RELATIONS(Hero, "hero")

/* GET /heroes/?limit= : Query(default=100, le=100). */
#define LIST_LIMIT_MAX 100

typedef enum api_resource { API_HEROES, API_TEAMS } api_resource;
typedef enum api_op { API_CREATE, API_LIST, API_READ, API_UPDATE, API_DELETE } api_op;

/* One request, as the route's task sees it. main.c fills the request
 * part (the body already checked against its shape); the task fills
 * status and response. */
typedef struct api_call {
    api_resource resource;
    api_op op;
    int64_t id;                 /* READ, UPDATE, DELETE */
    int64_t offset, limit;      /* LIST */
    json_t *body;               /* CREATE, UPDATE: the fields sent, checked; owned */
    const calx_sessionmaker *sessions;
    calx_loop *loop;            /* for the pause before a retry */
    bool may_retry;             /* this attempt is not the last */
    bool retry;                 /* it failed in a way worth another attempt */
    int status;                 /* the answer: an HTTP status ... */
    char *response;             /* ... and its JSON body, malloc'd */
} api_call;

/* ---- shapes.c ---- */

/* The JSON shapes a body is checked against. */
typedef enum api_shape { SHAPE_HERO_CREATE, SHAPE_HERO_UPDATE, SHAPE_TEAM_CREATE,
                         SHAPE_TEAM_UPDATE } api_shape;

/* Checks body (the request's parsed JSON) against shape as pydantic does:
 * required fields present, each field of its type ("48" and 48.0 are the
 * integer 48, as pydantic's lax mode takes them), other members ignored
 * (an "id" sent to a create is dropped, as FastAPI drops it). Returns a
 * new object holding the fields sent, converted, or NULL after appending
 * one FastAPI error per problem to errors. */
json_t *shape_check(api_shape shape, json_t *body, json_t *errors);

/* Appends FastAPI's {"type", "loc", "msg", "input"} to errors. loc is
 * "body", "query" or "path" followed by a field name (NULL: none); input
 * is borrowed (NULL: null). */
void shape_error(json_t *errors, const char *type, const char *where, const char *field,
                 const char *msg, json_t *input);

/* FastAPI's 422 body, {"detail": errors}, as malloc'd text. Steals errors. */
char *shape_422(json_t *errors);

/* {"detail": "text"}, malloc'd. */
char *shape_detail(const char *text);

/* HeroPublic / TeamPublic: the fields a client sees, id last. */
json_t *shape_hero(const Hero *h);
json_t *shape_team(const Team *t);

/* Writes j compactly (malloc'd) and drops the reference; NULL stays NULL. */
char *shape_dump(json_t *j);

/* ---- routes.c ---- */

/* The task body: runs call's route in a session of its own and fills
 * call->status and call->response. Returns NULL. */
void *route_run(void *call);

/* SQLModel.metadata: the two tables, for create_all at start. Caller-owned. */
calx_metadata *route_metadata(calx_error *err);

#endif
