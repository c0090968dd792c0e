/* SPDX-License-Identifier: MIT */
/* Reading the start of SQL text (see sqlscan.h). */
#include <string.h>
#include <strings.h>

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
    size_t n = strlen(kw);
    if (strncasecmp(sql, kw, n) != 0)
        return false;
    char next = sql[n];
    return !((next >= 'A' && next <= 'Z') || (next >= 'a' && next <= 'z') ||
             (next >= '0' && next <= '9') || next == '_');
}
