/* SPDX-License-Identifier: MIT */
/* Reading the start of SQL text (see sqlscan.h). */
#include <string.h>

#include "core/chars.h"
#include "driver/sqlscan.h"

const char *calx__sql_skip_space(const char *p, bool semicolons)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
               *p == '\v' || (semicolons && *p == ';'))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

bool calx__sql_starts_with_word(const char *sql, const char *kw)
{
    /* Letter by letter, folding ASCII only (core/chars.h): most calls are
     * a keyword tried against a statement or command tag that starts with
     * another, decided at the first letter (strlen and strncasecmp cost
     * some 80 instructions each time). */
    size_t n = 0;
    for (; kw[n]; n++)
        if (calx__ascii_lower(sql[n]) != calx__ascii_lower(kw[n]))
            return false;
    char next = sql[n];
    return !((next >= 'A' && next <= 'Z') || (next >= 'a' && next <= 'z') ||
             (next >= '0' && next <= '9') || next == '_');
}
