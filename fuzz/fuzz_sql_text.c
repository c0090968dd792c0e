/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the text-SQL parameter compiler (src/sql/text.c):
 * :name and ? markers turned into the dialect's paramstyle.
 *
 * The first input byte picks the paramstyle (its low bit); the rest is the
 * SQL. The target compiles it with no parameters, then keeps supplying what
 * the error asks for (each missing :name, or the number of ? values) and
 * compiles again, so the successful paths are fuzzed as much as the
 * failing ones. Whatever the input: no crash, leak or undefined behaviour,
 * failures are CALX_ERR_ARGUMENT with a message, and a plan that compiled
 * binds the same parameters, each slot to the value of the name it holds.
 * A broken property is an abort, so libFuzzer keeps the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/text.h"

#define NAMES_MAX 32        /* named values supplied before giving up */
#define POSITIONAL_MAX 4096 /* ? values supplied before giving up */

static void broken(const char *what, const char *sql)
{
    fprintf(stderr, "sql text property broken: %s\n  sql: '%s'\n", what, sql);
    abort();
}

/* A plan compiled against params must bind them, each slot to its value. */
static void check_bind(const char *sql, const calx_text_plan *plan, const calx_params *params)
{
    calx_error err;
    calx_value *out = calloc(plan->nslots ? plan->nslots : 1, sizeof *out);

    if (!plan->sql)
        broken("a compiled plan has no SQL", sql);
    if (!out)
        return;
    if (calx__text_bind(plan, params, out, &err) != 0)
        broken(err.message, sql);
    for (size_t i = 0; i < plan->nslots; i++) {
        size_t k = plan->slot_param[i];
        if (k >= params->n)
            broken("a slot points past the parameters", sql);
        if (plan->names[i] && strcmp(plan->names[i], params->items[k].name) != 0)
            broken("a slot holds another name's value", sql);
        if (out[i].type != params->items[k].value.type ||
            out[i].u.i != params->items[k].value.u.i)
            broken("a slot is bound to another value", sql);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    calx_paramstyle style = (data[0] & 1) ? CALX_PARAMSTYLE_DOLLAR : CALX_PARAMSTYLE_QMARK;
    char *sql = malloc(size);
    if (!sql)
        return 0;
    memcpy(sql, data + 1, size - 1);
    sql[size - 1] = '\0';

    calx_param items[POSITIONAL_MAX];
    char names[NAMES_MAX][128];
    calx_params params = { items, 0 };
    for (int attempt = 0; attempt <= NAMES_MAX; attempt++) {
        calx_text_plan plan;
        calx_error err;
        int rc = calx__text_compile(sql, params.n ? &params : NULL, style, &plan, &err);
        if (rc == 0) {
            check_bind(sql, &plan, &params);
            calx__text_plan_free(&plan);
            break;
        }
        calx__text_plan_free(&plan);
        if (rc != CALX_ERR_ARGUMENT || !err.message[0])
            broken("a failed compile that is no CALX_ERR_ARGUMENT", sql);

        /* Supply what the error asks for, if it is something to supply. */
        char name[128];
        size_t want = 0, given = 0;
        if (sscanf(err.message, "A value is required for bind parameter '%127[^']'",
                   name) == 1 && params.n < NAMES_MAX && attempt < NAMES_MAX) {
            if (params.n && !params.items[0].name)
                break;
            memcpy(names[params.n], name, sizeof name);
            items[params.n] = (calx_param){ names[params.n], calx_int((int64_t)params.n) };
            params.n++;
        } else if (sscanf(err.message, "the statement has %zu positional parameter%*[s] (?) "
                          "but %zu value", &want, &given) == 2 ||
                   sscanf(err.message, "the statement has %zu positional parameter (?) "
                          "but %zu value", &want, &given) == 2) {
            if (want > POSITIONAL_MAX || params.n != given || (params.n && items[0].name))
                break;
            for (size_t i = 0; i < want; i++)
                items[i] = (calx_param){ NULL, calx_int((int64_t)i) };
            params.n = want;
        } else {
            break;
        }
    }
    free(sql);
    return 0;
}
