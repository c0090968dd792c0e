/* SPDX-License-Identifier: MIT */
/* Texts a layer above the engine makes once per engine (sql_memo.c). */
#ifndef CALX_ENGINE_SQL_MEMO_H
#define CALX_ENGINE_SQL_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "calx/engine.h"

/* The text kept for (owner, kind, mask) on e, or NULL. It lives as long
 * as the engine. owner is an address that names what the text is of (a
 * model); kind and mask tell its statements apart. */
const char *calx__engine_memo_find(calx_engine *e, const void *owner, unsigned kind,
                                   uint64_t mask);

/* Keeps sql (malloc'd) for (owner, kind, mask): true when e took it, to
 * free with itself; false when e keeps no more texts (CALX_PLAN_CACHE_MAX)
 * or memory ran out, and sql stays the caller's. */
bool calx__engine_memo_keep(calx_engine *e, const void *owner, unsigned kind, uint64_t mask,
                            char *sql);

/* Frees every text e kept (the engine's own free). */
void calx__engine_memo_free(calx_engine *e);

#endif
