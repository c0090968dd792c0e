/* SPDX-License-Identifier: MIT */
/* SQL text with bound parameters (see text.h for the lexical rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/nomem.h"
#include "sql/text.h"

#define NAME_SHOWN 100  /* longest parameter name quoted in a message */

enum { KIND_NONE, KIND_NAMED, KIND_POSITIONAL };

/* What finding and writing parameters in a paramstyle's SQL needs to know:
 * how its placeholders are written, and which quoting its database adds to
 * the standard '...' and "..." (text.h). The paramstyle is read here and
 * nowhere else. */
typedef struct lexis {
    bool numbered;          /* $1 $2 ... rather than ? */
    bool estrings;          /* E'...' strings with backslash escapes */
    bool dollar_quotes;     /* $tag$...$tag$ strings; $1 is a driver's placeholder */
    bool nested_comments;   /* block comments nest */
    bool bracket_names;     /* [...] and `...` identifiers */
} lexis;

static const lexis lexes[] = {
    [CALX_PARAMSTYLE_QMARK] = { .bracket_names = true },
    [CALX_PARAMSTYLE_DOLLAR] = { .numbered = true, .estrings = true, .dollar_quotes = true,
                                 .nested_comments = true },
};

typedef struct compiler {
    const char *sql;
    const lexis *lx;
    calx_buf out;
    size_t lit;           /* sql[lit, i) is still to be copied to out */
    calx_text_plan *plan;
    size_t cap;           /* slots allocated in plan */
    int kind;             /* KIND_* of the markers seen so far */
    calx_error *err;
} compiler;

/* ---- characters ---- */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(int c)
{
    return is_name_start(c) || is_digit(c);
}

/* Part of a word: ':' after one is not a parameter (arr[lo:hi]), nor is
 * '$' a dollar quote (PostgreSQL identifiers may hold '$'). Bytes of
 * UTF-8 sequences count, as letters of identifiers. */
static bool is_word(int c)
{
    return is_name_char(c) || c == '$' || c >= 0x80;
}

/* ---- output ---- */

/* Copies the SQL up to (not including) sql[upto] to the output. */
static void flush(compiler *c, size_t upto)
{
    calx__buf_put(&c->out, c->sql + c->lit, upto - c->lit);
    c->lit = upto;
}

/* ---- errors shared by compile and bind ---- */

static int err_missing(calx_error *err, const char *name)
{
    /* SQLAlchemy's words, so that the message is familiar. */
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "A value is required for bind parameter '%.*s'",
                          NAME_SHOWN, name);
}

static int err_count(calx_error *err, size_t nslots, size_t nvalues)
{
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "the statement has %zu positional parameter%s (?) "
                          "but %zu value%s given", nslots,
                          nslots == 1 ? "" : "s", nvalues,
                          nvalues == 1 ? " was" : "s were");
}

static int err_named_for_qmark(calx_error *err)
{
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "the statement has positional parameters (?) but "
                          "named values were given");
}

static int err_positional_for_named(calx_error *err, const char *name)
{
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "the statement has named parameters (:%.*s) but "
                          "positional values were given", NAME_SHOWN, name);
}

/* Whether params are all named or all positional (KIND_NONE when empty). */
static int params_kind(const calx_params *ps, int *kind, calx_error *err)
{
    *kind = KIND_NONE;
    if (!ps || ps->n == 0)
        return 0;
    if (!ps->items)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "the parameters count %zu values but have no "
                              "array", ps->n);
    *kind = ps->items[0].name ? KIND_NAMED : KIND_POSITIONAL;
    for (size_t i = 1; i < ps->n; i++)
        if ((ps->items[i].name != NULL) != (*kind == KIND_NAMED))
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "parameters must be all named or all "
                                  "positional, but value 1 is %s and value "
                                  "%zu is not", *kind == KIND_NAMED ?
                                  "named" : "positional", i + 1);
    return 0;
}

/* ---- scanning ---- */

/* Skips a quoted string or identifier starting at sql[i] == q, where a
 * doubled q stands for itself (and, in E'' strings, \ escapes). Returns
 * the index after it; the end of the SQL when it is unterminated, which
 * the database will then report. */
static size_t skip_quoted(const char *s, size_t i, char q, bool backslash)
{
    for (i++; s[i]; i++) {
        if (backslash && s[i] == '\\' && s[i + 1]) {
            i++;
        } else if (s[i] == q) {
            if (s[i + 1] != q)
                return i + 1;
            i++;
        }
    }
    return i;
}

/* A block comment at sql[i]; PostgreSQL nests them, SQLite does not. */
static size_t skip_comment(const char *s, size_t i, bool nest)
{
    size_t depth = 1;

    for (i += 2; s[i];) {
        if (s[i] == '*' && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else if (nest && s[i] == '/' && s[i + 1] == '*') {
            i += 2;
            depth++;
        } else {
            i++;
        }
    }
    return i;
}

/* A PostgreSQL $tag$...$tag$ string at sql[i] == '$', or just a '$'. */
static size_t skip_dollar(const char *s, size_t i)
{
    size_t j = i + 1, taglen;

    if (is_name_start((unsigned char)s[j]))
        while (is_name_char((unsigned char)s[++j]))
            ;
    if (s[j] != '$')
        return i + 1;
    taglen = j - i + 1;
    for (j++; s[j]; j++)
        if (s[j] == '$' && strncmp(s + j, s + i, taglen) == 0)
            return j + taglen;
    return j;
}

/* An E'...' string: the quote at sql[i] follows a lone E. */
static bool is_estring(const char *s, size_t i)
{
    return i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
           (i < 2 || !is_word((unsigned char)s[i - 2]));
}

/* Replaces sql[lo, hi) by a placeholder for the parameter name (NULL for
 * a ?), name[0 .. namelen) not NUL-terminated. */
static int add_slot(compiler *c, size_t lo, size_t hi, const char *name,
                    size_t namelen)
{
    calx_text_plan *plan = c->plan;
    int kind = name ? KIND_NAMED : KIND_POSITIONAL;

    if (c->kind != KIND_NONE && c->kind != kind)
        return calx_error_set(c->err, CALX_ERR_ARGUMENT,
                              "the statement mixes named (:name) and "
                              "positional (?) parameters at character %zu",
                              lo + 1);
    c->kind = kind;
    if (plan->nslots == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **names = realloc(plan->names, cap * sizeof *names);
        if (!names)
            return calx__nomem(c->err, NULL);
        plan->names = names;
        size_t *slot_param = realloc(plan->slot_param, cap * sizeof *slot_param);
        if (!slot_param)
            return calx__nomem(c->err, NULL);
        plan->slot_param = slot_param;
        c->cap = cap;
    }
    char *copy = NULL;
    if (name) {
        if (!(copy = malloc(namelen + 1)))
            return calx__nomem(c->err, NULL);
        memcpy(copy, name, namelen);
        copy[namelen] = '\0';
    }
    plan->names[plan->nslots] = copy;
    plan->slot_param[plan->nslots] = 0;
    plan->nslots++;

    flush(c, lo);
    if (c->lx->numbered) {
        char num[24];
        int n = snprintf(num, sizeof num, "$%zu", plan->nslots);
        calx__buf_put(&c->out, num, (size_t)n);
    } else {
        calx__buf_put(&c->out, "?", 1);
    }
    c->lit = hi;
    return 0;
}

static int err_driver_placeholder(compiler *c, size_t i)
{
    size_t n = 1;
    while (is_digit((unsigned char)c->sql[i + n]))
        n++;
    return calx_error_set(c->err, CALX_ERR_ARGUMENT,
                          "'%.*s' at character %zu is a driver placeholder; "
                          "write :name or ? (calx numbers parameters itself)",
                          (int)(n > 12 ? 12 : n), c->sql + i, i + 1);
}

static int scan(compiler *c)
{
    const char *s = c->sql;
    const lexis *lx = c->lx;
    size_t i = 0, j;
    int rc;

    while (s[i]) {
        unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : 0;
        switch (s[i]) {
        case '\'':
            i = skip_quoted(s, i, '\'', lx->estrings && is_estring(s, i));
            break;
        case '"':
            i = skip_quoted(s, i, '"', false);
            break;
        case '`':
            i = lx->bracket_names ? skip_quoted(s, i, '`', false) : i + 1;
            break;
        case '[':
            /* A quoted identifier in SQLite, a subscript in PostgreSQL. */
            if (!lx->bracket_names) {
                i++;
            } else {
                j = i + 1 + strcspn(s + i + 1, "]");
                i = s[j] ? j + 1 : j;
            }
            break;
        case '-':
            i = s[i + 1] == '-' ? i + 2 + strcspn(s + i + 2, "\n") : i + 1;
            break;
        case '/':
            i = s[i + 1] == '*' ? skip_comment(s, i, lx->nested_comments) : i + 1;
            break;
        case '$':
            if (!lx->dollar_quotes || is_word(prev)) {
                i++;
            } else if (is_digit((unsigned char)s[i + 1])) {
                return err_driver_placeholder(c, i);
            } else {
                i = skip_dollar(s, i);
            }
            break;
        case '\\':
            if (s[i + 1] == ':' || s[i + 1] == '?') {
                flush(c, i);          /* drop the backslash, keep the mark */
                c->lit = i + 1;
                i += 2;
            } else {
                i++;
            }
            break;
        case ':':
            if (s[i + 1] == ':') {
                i += 2;               /* a PostgreSQL cast, x::int */
            } else if (is_word(prev) || prev == ':' ||
                       !is_name_start((unsigned char)s[i + 1])) {
                i++;
            } else {
                for (j = i + 1; is_name_char((unsigned char)s[j]); j++)
                    ;
                if ((rc = add_slot(c, i, j, s + i + 1, j - i - 1)) != 0)
                    return rc;
                i = j;
            }
            break;
        case '?':
            if (is_digit((unsigned char)s[i + 1]))
                return err_driver_placeholder(c, i);
            if ((rc = add_slot(c, i, i + 1, NULL, 0)) != 0)
                return rc;
            i++;
            break;
        default:
            i++;
            break;
        }
    }
    flush(c, i);
    return 0;
}

/* ---- resolving names ---- */

static int cmp_by_name(const void *a, const void *b)
{
    const calx_param *x = *(const calx_param *const *)a;
    const calx_param *y = *(const calx_param *const *)b;
    int r = strcmp(x->name, y->name);
    /* Ties (a name given twice) in array order, to report them stably. */
    return r ? r : (x > y) - (x < y);
}

/* Points each named slot at its value in params, found through a sorted
 * index so that a large set costs n log n, not slots * n. */
static int resolve_named(calx_text_plan *plan, const calx_params *ps,
                         calx_error *err)
{
    size_t n = ps ? ps->n : 0;
    const calx_param **idx = NULL;
    int rc = 0;

    if (n) {
        if (!(idx = malloc(n * sizeof *idx)))
            return calx__nomem(err, NULL);
        for (size_t i = 0; i < n; i++)
            idx[i] = &ps->items[i];
        qsort(idx, n, sizeof *idx, cmp_by_name);
        for (size_t i = 1; i < n; i++)
            if (strcmp(idx[i - 1]->name, idx[i]->name) == 0) {
                rc = calx_error_set(err, CALX_ERR_ARGUMENT,
                                    "bind parameter '%.*s' is given more than "
                                    "once", NAME_SHOWN, idx[i]->name);
                goto done;
            }
    }
    for (size_t k = 0; k < plan->nslots; k++) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int r = strcmp(plan->names[k], idx[mid]->name);
            if (r == 0) {
                lo = mid;
                break;
            }
            if (r < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (lo >= n || strcmp(plan->names[k], idx[lo]->name) != 0) {
            rc = err_missing(err, plan->names[k]);
            goto done;
        }
        plan->slot_param[k] = (size_t)(idx[lo] - ps->items);
    }
done:
    free(idx);
    return rc;
}

/* calx__text_compile with the parameters' kind pkind told: params are
 * read for their names (KIND_NAMED), n counts positional ones. */
static int compile_as(const char *sql, int pkind, size_t n, const calx_params *params,
                      calx_paramstyle style, calx_text_plan *out, calx_error *err)
{
    compiler c;
    int rc;

    memset(out, 0, sizeof *out);
    if (!sql)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "the SQL text is NULL");

    memset(&c, 0, sizeof c);
    c.sql = sql;
    c.lx = (unsigned)style < sizeof lexes / sizeof *lexes ? &lexes[style]
                                                          : &lexes[CALX_PARAMSTYLE_QMARK];
    c.plan = out;
    c.err = err;
    rc = scan(&c);
    out->sql = calx__buf_take(&c.out);
    if (rc == 0 && !out->sql)
        rc = calx__nomem(err, NULL);
    if (rc != 0)
        goto fail;

    if (c.kind == KIND_NAMED) {
        if (pkind == KIND_POSITIONAL) {
            rc = err_positional_for_named(err, out->names[0]);
            goto fail;
        }
        if ((rc = resolve_named(out, params, err)) != 0)
            goto fail;
    } else {
        if (pkind == KIND_NAMED) {
            if (c.kind == KIND_NONE) {
                /* Unused named values are fine; still refuse duplicates. */
                if ((rc = resolve_named(out, params, err)) != 0)
                    goto fail;
                return 0;
            }
            rc = err_named_for_qmark(err);
            goto fail;
        }
        if (n != out->nslots) {
            rc = err_count(err, out->nslots, n);
            goto fail;
        }
        for (size_t k = 0; k < out->nslots; k++)
            out->slot_param[k] = k;
    }
    return 0;

fail:
    calx__text_plan_free(out);
    return rc;
}

int calx__text_compile(const char *sql, const calx_params *params,
                       calx_paramstyle style, calx_text_plan *out,
                       calx_error *err)
{
    int pkind = KIND_NONE, rc;

    memset(out, 0, sizeof *out);
    if (sql && (rc = params_kind(params, &pkind, err)) != 0)
        return rc;
    return compile_as(sql, pkind, pkind == KIND_NONE ? 0 : params->n, params, style, out, err);
}

int calx__text_compile_positional(const char *sql, size_t n, calx_paramstyle style,
                                  calx_text_plan *out, calx_error *err)
{
    return compile_as(sql, n ? KIND_POSITIONAL : KIND_NONE, n, NULL, style, out, err);
}

int calx__text_bind(const calx_text_plan *plan, const calx_params *set,
                    calx_value *out, calx_error *err)
{
    int kind, rc;

    if ((rc = params_kind(set, &kind, err)) != 0)
        return rc;
    size_t n = kind == KIND_NONE ? 0 : set->n;

    if (plan->nslots == 0 || !plan->names[0]) {
        if (kind == KIND_NAMED)
            return plan->nslots == 0 ? 0 : err_named_for_qmark(err);
        if (n != plan->nslots)
            return err_count(err, plan->nslots, n);
        for (size_t k = 0; k < n; k++)
            out[k] = set->items[k].value;
        return 0;
    }
    if (kind == KIND_POSITIONAL)
        return err_positional_for_named(err, plan->names[0]);
    for (size_t k = 0; k < plan->nslots; k++) {
        const char *name = plan->names[k];
        size_t j = plan->slot_param[k];
        /* Sets of an execute-many are usually built alike: try where the
         * first set had the name before searching. */
        if (j >= n || strcmp(set->items[j].name, name) != 0) {
            for (j = 0; j < n && strcmp(set->items[j].name, name) != 0; j++)
                ;
            if (j == n)
                return err_missing(err, name);
        }
        out[k] = set->items[j].value;
    }
    return 0;
}

void calx__text_plan_free(calx_text_plan *plan)
{
    if (!plan)
        return;
    free(plan->sql);
    for (size_t k = 0; k < plan->nslots; k++)
        free(plan->names[k]);
    free(plan->names);
    free(plan->slot_param);
    memset(plan, 0, sizeof *plan);
}
