/* SPDX-License-Identifier: MIT */
/* The URL schemes the parser accepts, and how each one's URLs are written.
 * Core cannot see the dialects and drivers that make the list, so the
 * database registry (src/engine/registry.c) owns it and hands it down:
 * the public calx_url_parse is defined there, as a call of
 * calx__url_parse_among with the registry's rows. A driver whose URLs are
 * not server URLs describes its form here (SQLite's, in sqlite_options.c),
 * so url.c never tests a database's name. */
#ifndef CALX_CORE_URL_SCHEME_H
#define CALX_CORE_URL_SCHEME_H

#include <stddef.h>
#include "calx/error.h"
#include "calx/url.h"

typedef struct calx__url_form {
    /* Non-NULL: a file database's URL, with nothing between "://" and the
     * path ("sqlite:///app.db"); the text says how to write one, for the
     * error when a user, password, host or port is given. NULL: a server's
     * URL (user, password, hosts, database). */
    const char *path_only;
    /* Called once the URL has parsed, to settle what its fields imply
     * (SQLite: no database, or ":memory:", is an in-memory one). May free
     * and clear fields of u; allocates nothing. NULL: nothing to settle. */
    void (*finish)(calx_url *u);
} calx__url_form;

typedef struct calx__url_scheme {
    const char *name;             /* lowercase; what calx_url's dialect says */
    const char *const *aliases;   /* other lowercase names for it,
                                     NULL-terminated; NULL when none */
    const calx__url_form *form;   /* NULL: a server URL, nothing to settle */
} calx__url_scheme;

/* The i-th scheme known (from 0), or NULL past the last. */
typedef const calx__url_scheme *(*calx__url_scheme_at)(size_t i);

/* calx_url_parse (include/calx/url.h, errors and ownership as there),
 * accepting the schemes at lists, and their aliases, in any case: the
 * URL's dialect is the scheme's name. An unknown scheme is CALX_ERR_URL
 * naming it and listing the known ones (with a "did you mean" when one is
 * close). at must not be NULL. */
calx_url *calx__url_parse_among(const char *url, calx__url_scheme_at at, calx_error *err);

/* Writes the known schemes into buf (n bytes, always terminated), as
 * "sqlite, postgresql, postgres": every name, its aliases after it. */
void calx__url_schemes_list(calx__url_scheme_at at, char *buf, size_t n);

#endif
