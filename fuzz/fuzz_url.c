/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the database URL parser (src/core/url.c).
 *
 * Whatever the input, parsing must not crash, leak or hit undefined
 * behaviour, and a failure must be a CALX_ERR_URL with a message. A URL
 * that parses must round-trip: rendering it (password shown) and parsing
 * that gives the same fields, and renders the same string again; the
 * masked render (password as ***) must parse too and name the same user,
 * hosts, database and options, since that is what logs and reprs show.
 * A broken property is an abort, so libFuzzer keeps the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx/url.h"

/* Stops the run on a broken property, naming it and the URLs involved. */
static void broken(const char *what, const char *url, const char *render)
{
    fprintf(stderr, "url property broken: %s\n  url:    '%s'\n  render: '%s'\n",
            what, url, render ? render : "(null)");
    abort();
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether a and b have equal fields; the password and password-like query
 * values only when with_password. */
static const char *differs(const calx_url *a, const calx_url *b, bool with_password)
{
    if (!same_str(a->dialect, b->dialect))
        return "dialect";
    if (!same_str(a->driver, b->driver))
        return "driver";
    if (!same_str(a->username, b->username))
        return "username";
    if (with_password ? !same_str(a->password, b->password)
                      : (a->password == NULL) != (b->password == NULL))
        return "password";
    if (!same_str(a->host, b->host) || a->port != b->port)
        return "first host";
    if (a->nhosts != b->nhosts)
        return "number of hosts";
    for (size_t i = 0; i < a->nhosts; i++)
        if (!same_str(a->hosts[i].host, b->hosts[i].host) ||
            a->hosts[i].port != b->hosts[i].port)
            return "a host of the list";
    if (!same_str(a->database, b->database) || a->memory != b->memory)
        return "database";
    if (a->nquery != b->nquery)
        return "number of query options";
    for (size_t i = 0; i < a->nquery; i++) {
        const char *key = a->query[i].key;
        size_t n = strlen(key);
        bool secret = n >= 8 && strcmp(key + n - 8, "password") == 0;
        if (!same_str(key, b->query[i].key) ||
            ((with_password || !secret) && !same_str(a->query[i].value, b->query[i].value)))
            return "a query option";
    }
    return NULL;
}

/* render(url, hide_password) must parse back to url's fields. */
static void check_render(const char *s, const calx_url *url, bool hide_password)
{
    calx_error err;
    char *r = calx_url_render(url, hide_password);
    if (!r)
        broken("render gave NULL", s, NULL);
    calx_url *back = calx_url_parse(r, &err);
    if (!back)
        broken(err.message, s, r);
    const char *field = differs(url, back, !hide_password);
    if (field)
        broken(field, s, r);
    if (!hide_password) {
        char *again = calx_url_render(back, false);
        if (!again || strcmp(again, r) != 0)
            broken("a second render differs", s, r);
        free(again);
    }
    calx_url_free(back);
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    calx_error err;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';   /* the parser takes a C string: a NUL ends it */
    calx_url *url = calx_url_parse(s, &err);
    if (!url) {
        if (err.code != CALX_ERR_URL || !err.message[0])
            broken("a failed parse that is no CALX_ERR_URL", s, err.message);
    } else {
        check_render(s, url, false);
        check_render(s, url, true);
        calx_url *copy = calx_url_copy(url);
        if (!copy || differs(url, copy, true))
            broken("the copy differs", s, NULL);
        calx_url_free(copy);
        calx_url_free(url);
    }
    free(s);
    return 0;
}
