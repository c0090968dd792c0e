/* SPDX-License-Identifier: MIT */
/* The text form of a one-dimensional array, read element by element:
 * array_out's {1,2,NULL}, an element quoted ("a b", "NULL", "") when it is
 * empty, is the word NULL, or holds a space, a brace, a comma, a quote or
 * a backslash, which are then escaped with a backslash; a lower bound
 * other than 1 comes first as "[0:2]=". Core's, for two readers above it:
 * the PostgreSQL driver decodes arrays of the types it knows from it, and
 * the PostgreSQL dialect reads an array of enum names from it, which the
 * driver hands up as text (an enum array's type OID is the database's
 * own, so the driver cannot know it is an array). */
#include <string.h>

#include "core/chars.h"
#include "core/array_text.h"

const char *calx__array_text_start(const char *s, bool *nested)
{
    if (nested)
        *nested = false;
    if (*s == '[') {   /* bounds: [lo:hi]=, or [lo:hi][lo:hi]= for more dimensions */
        s = strchr(s, '=');
        if (!s)
            return NULL;
        s++;
    }
    if (*s != '{')
        return NULL;
    if (s[1] == '{') {
        if (nested)
            *nested = true;
        return NULL;
    }
    return s + 1;
}

size_t calx__array_text_most(const char *s)
{
    size_t most = 1;
    for (; *s; s++)
        most += *s == ',';
    return most;
}

bool calx__array_text_element(const char *s, const char **end, char *out, size_t *len,
                              bool *null)
{
    size_t n = 0;
    *null = false;
    if (*s == '"') {
        for (s++; *s != '"'; s++) {
            if (*s == '\\')
                s++;
            if (!*s)
                return false;
            out[n++] = *s;
        }
        s++;
    } else {
        for (; *s && *s != ',' && *s != '}'; s++) {
            if (*s == '{' || *s == '"')
                return false;
            if (*s == '\\' && !*++s)
                return false;
            out[n++] = *s;
        }
        *null = n == 4 && calx__ascii_ncasecmp(out, "NULL", 4) == 0;
        if (n == 0)
            return false;
    }
    out[n] = '\0';
    *len = n;
    *end = s;
    return *s == ',' || *s == '}';
}
