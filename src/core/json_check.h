/* SPDX-License-Identifier: MIT */
/* Whether text is JSON (RFC 8259): json_check.c. */
#ifndef CALX_CORE_JSON_CHECK_H
#define CALX_CORE_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* Nesting deeper than this is refused (a bound on the checker's stack). */
#define CALX_JSON_MAX_DEPTH 512

/* Whether the n bytes at s are one JSON value, with white space around it
 * allowed: what PostgreSQL's json type and SQLite's json_valid accept.
 * When not, *error_at (if error_at is not NULL) is the byte offset where
 * the text stops being JSON. s must not be NULL. */
bool calx__json_valid(const char *s, size_t n, size_t *error_at);

#endif
