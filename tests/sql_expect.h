/* SPDX-License-Identifier: MIT */
/* Checking compiled SQL: a select compiled for a dialect must give the
 * text and the parameters expected (the parameters written as echo writes
 * them). Shared by the tests of the SQL compilers. */
#ifndef CALX_TEST_SQL_EXPECT_H
#define CALX_TEST_SQL_EXPECT_H

#include <stdio.h>
#include <string.h>

#include "calx.h"
#include "core/value_repr.h"
#include "sql/compiler.h"
#include "test.h"

/* The parameters as echo prints them: "(35, 'x', True, None, 2.5)". */
static inline void fmt_params(const calx_compiled *c, char *out, size_t size)
{
    size_t n = 0;
    n += (size_t)snprintf(out + n, size - n, "(");
    for (size_t i = 0; i < c->nparams && n < size; i++) {
        const calx_value *v = &c->params[i].value;
        const char *sep = i ? ", " : "";
        if (c->params[i].name)
            n += (size_t)snprintf(out + n, size - n, "%sNAMED?", sep);
        else if (v->type == CALX_INT)
            n += (size_t)snprintf(out + n, size - n, "%s%lld", sep, (long long)v->u.i);
        else if (v->type == CALX_REAL)
            n += (size_t)snprintf(out + n, size - n, "%s%gr", sep, v->u.d);
        else if (v->type == CALX_BOOL)
            n += (size_t)snprintf(out + n, size - n, "%s%s", sep, v->u.b ? "True" : "False");
        else if (v->type == CALX_TEXT || v->type == CALX_JSON)
            n += (size_t)snprintf(out + n, size - n, "%s'%.*s'", sep, (int)v->u.s.len,
                                  v->u.s.ptr);
        else if (v->type == CALX_BLOB)
            n += (size_t)snprintf(out + n, size - n, "%sb'%.*s'", sep, (int)v->u.s.len,
                                  v->u.s.ptr);
        else if (v->type != CALX_NULL) {
            calx_buf b = { 0 };
            if (!calx__value_rich_repr(&b, v))
                calx__buf_printf(&b, "%s", calx_type_name(v->type));
            n += (size_t)snprintf(out + n, size - n, "%s%s", sep, b.p ? b.p : "?");
            calx__buf_free(&b);
        } else
            n += (size_t)snprintf(out + n, size - n, "%sNone", sep);
    }
    if (n < size)
        snprintf(out + n, size - n, "%s)", c->nparams == 1 ? "," : "");
}

/* Compiles q (and frees it), checking the SQL and the parameters. */
static inline void expect_q(int line, calx_select *q, const calx_dialect *d, unsigned flags,
                            const char *sql, const char *params)
{
    calx_compiled c;
    calx_error err;
    int rc = calx__select_compile(q, d, flags, &c, &err);
    if (rc) {
        fprintf(stderr, "  line %d: compile failed: %s\n", line, err.message);
        test_failed_now = 1;
    } else {
        char p[1024];
        fmt_params(&c, p, sizeof p);
        if (strcmp(c.sql, sql) != 0 || strcmp(p, params) != 0) {
            fprintf(stderr, "  line %d (%s):\n    got      \"%s\" %s\n    expected \"%s\" %s\n",
                    line, d->name, c.sql, p, sql, params);
            test_failed_now = 1;
        }
        /* Every ? has its parameter, and the engine's text compiler takes
         * the text as it is. */
        size_t marks = 0;
        for (const char *s = c.sql; *s; s++)
            marks += *s == '?';
        CHECK_INT(marks, c.nparams);
    }
    calx__compiled_free(&c);
    calx_select_free(q);
}
#define EXPECT(q, d, flags, sql, params) expect_q(__LINE__, (q), (d), (flags), (sql), (params))

#endif
