/* SPDX-License-Identifier: MIT */
/* Compiled, not run, by scripts/check-typed-out.sh: the typed forms of
 * calx/session.h (CALX_GET, CALX_ONE, ...) take a Hero ** and refuse a
 * Hero * at compile time. Built as is it must compile; with -DWRONG it
 * must not. */
#include "calx.h"

#define Hero_FIELDS(F, M)                                                     \
    F(M, id,    OPT_INT64, NONE,     .primary_key = true)                     \
    F(M, name,  TEXT,      REQUIRED)
CALX_MODEL(Hero, "hero")

int get_one(calx_session *s, const calx_select *q, calx_error *err);
int get_one(calx_session *s, const calx_select *q, calx_error *err)
{
    Hero *h = NULL;
#ifdef WRONG
    /* The pointer itself, not its address: the struct would be written. */
    return CALX_GET(s, Hero, calx_int(1), h, err) || CALX_ONE(s, Hero, q, h, err);
#else
    return CALX_GET(s, Hero, calx_int(1), &h, err) || CALX_ONE(s, Hero, q, &h, err);
#endif
}
