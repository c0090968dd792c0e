/* SPDX-License-Identifier: MIT */
/* Texts a layer above the engine makes once per engine (sql_memo.c). */
#ifndef CALX_ENGINE_SQL_MEMO_H
#define CALX_ENGINE_SQL_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "calx/engine.h"
#include "driver/driver.h"

/* A text kept, and what each of its parameters meets (calx_dstmt's types;
 * NULL: every one typed from its value). */
typedef struct calx__memo_text {
    char *sql;
    calx_dtype *types;
} calx__memo_text;

/* The text kept for (owner, kind, mask) on e, or NULL. Its sql and types
 * live as long as the engine; the struct pointed at only until the next
 * calx__engine_memo_keep (the table may move). owner is an address that
 * names what the text is of (a model); kind and mask tell its statements
 * apart. */
const calx__memo_text *calx__engine_memo_find(calx_engine *e, const void *owner, unsigned kind,
                                              uint64_t mask);

/* Keeps text (its sql and types malloc'd; types may be NULL) for (owner,
 * kind, mask): true when e took both, to free with itself; false when e
 * keeps no more texts (CALX_PLAN_CACHE_MAX) or memory ran out, and they
 * stay the caller's. */
bool calx__engine_memo_keep(calx_engine *e, const void *owner, unsigned kind, uint64_t mask,
                            calx__memo_text text);

/* Frees every text e kept (the engine's own free). */
void calx__engine_memo_free(calx_engine *e);

#endif
