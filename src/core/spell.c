/* SPDX-License-Identifier: MIT */
/* The distance between two names, for "did you mean" in errors about
 * unknown options: the optimal string alignment distance (Levenshtein with
 * swaps of neighbours, the commonest typo), case-insensitive, on short
 * names only, in a fixed table on the stack. */
#include <string.h>

#include "core/chars.h"
#include "core/spell.h"

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t calx__spell_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > CALX_SPELL_MAX_NAME || m > CALX_SPELL_MAX_NAME)
        return CALX_SPELL_FAR;
    size_t d[CALX_SPELL_MAX_NAME + 1][CALX_SPELL_MAX_NAME + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ai = calx__ascii_lower(a[i - 1]), bj = calx__ascii_lower(b[j - 1]);
            size_t cost = ai != bj;
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && ai == calx__ascii_lower(b[j - 2]) &&
                calx__ascii_lower(a[i - 2]) == bj && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[n][m];
}

bool calx__spell_better(const char *name, const char *candidate, size_t *best)
{
    size_t dist = calx__spell_distance(name, candidate);
    if (dist == CALX_SPELL_FAR || dist > 2 || dist * 2 >= strlen(name) || dist >= *best)
        return false;
    *best = dist;
    return true;
}
