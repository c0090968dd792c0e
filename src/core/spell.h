/* "Did you mean ...?": how far apart two names are, for errors that name
 * an unknown option and the known one the user probably meant. */
#ifndef CALX_CORE_SPELL_H
#define CALX_CORE_SPELL_H

#include <stddef.h>

/* The number of single-character insertions, deletions, substitutions and
 * swaps of neighbours that turn a into b, ignoring ASCII case (the optimal
 * string alignment distance). Names longer than CALX_SPELL_MAX_NAME
 * characters are never close: the answer is then CALX_SPELL_FAR. a and b
 * must not be NULL. */
#define CALX_SPELL_MAX_NAME 63
#define CALX_SPELL_FAR ((size_t)-1)
size_t calx__spell_distance(const char *a, const char *b);

/* Whether b is close enough to a to suggest it: within 2 edits, and fewer
 * than half of a's length (so that "ab" does not suggest "cd"). */
int calx__spell_close(const char *a, const char *b);

#endif
