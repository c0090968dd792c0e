/* SPDX-License-Identifier: MIT */
/* "Did you mean ...?": how far apart two names are, for errors that name
 * an unknown option and the known one the user probably meant. */
#ifndef CALX_CORE_SPELL_H
#define CALX_CORE_SPELL_H

#include <stdbool.h>
#include <stddef.h>

/* The number of single-character insertions, deletions, substitutions and
 * swaps of neighbours that turn a into b, ignoring ASCII case (the optimal
 * string alignment distance). Names longer than CALX_SPELL_MAX_NAME
 * characters are never close: the answer is then CALX_SPELL_FAR. a and b
 * must not be NULL. */
#define CALX_SPELL_MAX_NAME 63
#define CALX_SPELL_FAR ((size_t)-1)
size_t calx__spell_distance(const char *a, const char *b);

/* Whether candidate is a likelier meaning of the unknown name than the
 * best one so far, whose distance is *best (CALX_SPELL_FAR before any):
 * within 2 edits, fewer than half of name's length (so that "ab" does not
 * suggest "cd"), and closer than *best, which is then updated. */
bool calx__spell_better(const char *name, const char *candidate, size_t *best);

#endif
