/* SPDX-License-Identifier: MIT */
/* The database registry: one row per database calx talks to, joining the
 * URL scheme that names it (and its aliases, and how its URLs are
 * written) to its SQL dialect and its driver. It lives on the engine floor
 * because the engine is where a dialect and a driver meet; the URL parser
 * (core) gets the rows' schemes handed down (core/url_scheme.h). Adding a
 * database is adding a row here (docs/architecture.md, "Adding a
 * database"). Shared by registry.c (the rows, calx_url_parse), engine.c
 * and the session (orm), which asks an engine for its dialect. */
#ifndef CALX_ENGINE_REGISTRY_H
#define CALX_ENGINE_REGISTRY_H

#include <stddef.h>
#include "calx/engine.h"
#include "calx/error.h"
#include "core/url_scheme.h"
#include "driver/driver.h"
#include "sql/dialect.h"

typedef struct calx__database {
    calx__url_scheme scheme;     /* name (= dialect->name), aliases, URL form */
    const calx_dialect *dialect;
    const calx_driver *driver;   /* NULL: the backend was left out of the build */
    const char *build_option;    /* the CMake option that builds it: "CALX_WITH_SQLITE" */
} calx__database;

/* The row whose name or alias is scheme (lowercase, as calx_url's dialect
 * holds it), or NULL with CALX_ERR_NOT_SUPPORTED naming it and listing the
 * known ones (also for scheme NULL or ""). Static; err may be NULL. */
const calx__database *calx__database_for(const char *scheme, calx_error *err);

/* As calx__database_for, and also NULL with CALX_ERR_NOT_SUPPORTED when
 * the database's backend was left out of this build, naming the CMake
 * option that builds it. What opening a connection asks. */
const calx__database *calx__database_built(const char *scheme, calx_error *err);

/* The i-th row (from 0), or NULL past the last. */
const calx__database *calx__database_at(size_t i);

/* The row of the database e talks to. e must not be NULL. */
const calx__database *calx__engine_database(const calx_engine *e);

#endif
