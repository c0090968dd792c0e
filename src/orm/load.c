/* SPDX-License-Identifier: MIT */
/* Loading: rows into objects through the identity map; get, refresh,
 * reloading expired objects one SELECT per table, merge, and queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/grow.h"
#include "core/nomem.h"
#include "engine/engine_int.h"
#include "engine/sql_memo.h"
#include "orm/relation.h"
#include "orm/session_int.h"
#include "sql/compiler.h"
#include "sql/convert.h"
#include "sql/user_type.h"

#define IN_CHUNK 500
/* run_select: a load by key (get, refresh, reload), one plain statement. */
#define BY_KEY 0x100u

/* ---- rows into objects ---- */

/* The key of a row of m (fx: its facts) into key: how many values. */
static size_t row_key(const calx_model *m, const calx__model_facts *fx, const calx_value *vals,
                      calx_value *key)
{
    if (fx->npk == 1 && fx->pk >= 0) {
        key[0] = vals[fx->pk];
        if (key[0].type == CALX_BOOL)
            key[0] = calx_int(key[0].u.b);
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->nfields && n < CALX__MAX_KEY; i++) {
        if (!m->table.columns[i].primary_key)
            continue;
        key[n] = vals[i];
        if (key[n].type == CALX_BOOL)
            key[n] = calx_int(key[n].u.b);
        n++;
    }
    return n;
}

/* Fills o from a row. keep_changes: a field the program changed while o
 * was expired keeps the program's value (and is flushed as a change). */
static int fill(calx_obj *o, const calx_value *vals, bool keep_changes, calx_error *err)
{
    for (size_t i = 0; i < o->model->nfields; i++) {
        if (keep_changes && o->has_snap && calx__obj_field_changed(o, i))
            continue;
        if (calx__obj_load_field(o, i, &vals[i], err))
            return err->code;
    }
    o->has_snap = true;
    o->expired = false;
    return 0;
}

int calx__field_from_stored(const calx_dialect *d, const calx_column *c, calx_value *v,
                            char *scratch, calx_type_scratch *user, calx_error *err)
{
    if (d->stored_value && d->stored_value(c, v, scratch, user, err))
        return err->code;
    return c->user_type ? calx__user_type_result(c, v, user, err) : 0;
}

/* Up to this many fields, a row being converted is copied on the stack. */
#define ROW_ON_STACK 32
static int load_converted(calx_session *s, const calx_model *m,
                          const calx__model_facts *facts, const calx_value *vals, bool populate,
                          calx_obj **out, calx_error *err);

/* calx__load_row with m's facts, its key checked (load_rows asks once). */
static int load_row_checked(calx_session *s, const calx_model *m,
                            const calx__model_facts *facts, const calx_value *vals,
                            bool populate, calx_obj **out, calx_error *err)
{
    for (size_t i = 0; facts->stored_forms && i < m->nfields; i++) {
        if (!calx__field_has_stored_form(m, i))
            continue;
        /* A copy of the row, its stored forms made the fields' types; a
         * text a field's conversion makes lives in that field's scratch
         * until the object has copied it. */
        calx_value stack[ROW_ON_STACK], *row = stack;
        char stack_scratch[ROW_ON_STACK][CALX_BIND_SCRATCH_SIZE];
        char (*scratch)[CALX_BIND_SCRATCH_SIZE] = stack_scratch;
        if (m->nfields > ROW_ON_STACK) {
            row = malloc(m->nfields * sizeof *row);
            scratch = malloc(m->nfields * sizeof *scratch);
            if (!row || !scratch) {
                free(row);
                free(scratch);
                return calx__nomem(err, "loading a %s", m->name);
            }
        }
        memcpy(row, vals, m->nfields * sizeof *row);
        calx_type_scratch user;
        calx__type_scratch_init(&user);
        int rc = 0;
        for (size_t k = i; !rc && k < m->nfields; k++)
            if (calx__field_has_stored_form(m, k))
                rc = calx__field_from_stored(s->dialect, &m->table.columns[k], &row[k],
                                             scratch[k], &user, err);
        if (!rc)
            rc = load_converted(s, m, facts, row, populate, out, err);
        calx__type_scratch_done(&user);
        if (row != stack) {
            free(row);
            free(scratch);
        }
        return rc;
    }
    return load_converted(s, m, facts, vals, populate, out, err);
}

int calx__load_row(calx_session *s, const calx_model *m, const calx_value *vals,
                   bool populate, calx_obj **out, calx_error *err)
{
    const calx__model_facts *facts = calx__model_facts_of(m);
    if (calx__model_check_key(m, facts, err))
        return err->code;
    return load_row_checked(s, m, facts, vals, populate, out, err);
}

/* calx__load_row once the row holds the fields' own types. */
static int load_converted(calx_session *s, const calx_model *m,
                          const calx__model_facts *facts, const calx_value *vals, bool populate,
                          calx_obj **out, calx_error *err)
{
    calx_value key[CALX__MAX_KEY];
    size_t nkey = row_key(m, facts, vals, key);
    uint64_t h = calx__key_hash_fast(m, key, nkey);
    calx_obj *o = calx__map_find_h(s, m, key, nkey, h);
    if (o) {
        *out = o;
        if (o->expired || populate)
            return fill(o, vals, o->expired && !populate, err);
        return 0;
    }
    o = calx__obj_from_row(m, facts, vals, calx__session_blocks(s), err);
    if (!o)
        return err->code;
    if (!o->in_block)
        s->loaded_bytes += o->size;
    if (calx__map_insert_h(s, o, h)) {
        calx__obj_destroy(o);
        return calx__nomem(err, "loading a %s", m->name);
    }
    o->state = CALX_OBJ_PERSISTENT;
    calx__session_own(s, o);
    o->in_session = true;   /* after: owning it moves it out of another's hands */
    *out = o;
    return 0;
}

/* ---- running selects ---- */

/* How many rows ahead a load prefetches the identity map's slot of a
 * row's key: a lookup in a large map is a cache miss (~100 ns here, most
 * of the map's share of a 100,000-row load), and a few rows' work hides
 * it. */
#define LOAD_PREFETCH_ROWS 8
/* Below this many slots (8 KiB) the table is in the cache already and the
 * hint would cost a hash a row for nothing. */
#define LOAD_PREFETCH_MIN_SLOTS 1024

/* Prefetches the map slot of the row LOAD_PREFETCH_ROWS past the one r
 * gave last (its key as the row holds it: a key whose stored form differs
 * prefetches a slot of no use, which costs nothing but the hint). */
static void prefetch_ahead(const calx_session *s, const calx_model *m,
                           const calx__model_facts *facts, const calx_result *r)
{
    const calx_row *ahead = calx__result_ahead(r, LOAD_PREFETCH_ROWS);
    if (!ahead || s->map_cap < LOAD_PREFETCH_MIN_SLOTS)
        return;
    calx_value key[CALX__MAX_KEY];
    size_t nkey = row_key(m, facts, calx_row_value(ahead, 0), key);
    calx__map_prefetch(s, calx__key_hash_fast(m, key, nkey));
}

/* Reads the rows of the query f runs (a SELECT of m's columns in field
 * order) into objects, appended to list when it is not NULL; *one (when
 * one is not NULL) is the last row's object, or stays NULL without rows:
 * a get, whose key admits one row at most, needs no list. converted:
 * the rows hold the fields' own types already (a Core select converts its
 * columns' stored forms and user types as rows arrive), so they are not
 * converted again: a user type's result function is not run on its own
 * output. */
static int load_rows(calx_session *s, const calx_model *m, calx_future *f, bool converted,
                     bool populate, calx_objlist *list, calx_obj **one, calx_error *err)
{
    calx_result *r = NULL;
    int rc = calx_await(f, &r, err);
    if (rc)
        return rc;
    size_t ncols = calx_result_ncols(r);
    if (ncols < m->nfields) {
        calx_result_free(r);
        return calx_error_set(err, CALX_ERR_INTERNAL,
                              "the SELECT returned %zu columns for %zu fields", ncols,
                              m->nfields);
    }
    /* m's facts and its key's check once, not a row at a time. */
    const calx__model_facts *facts = calx__model_facts_of(m);
    if (calx__model_check_key(m, facts, err)) {
        calx_result_free(r);
        return err->code;
    }
    bool bulk = calx__load_begin(s, r);
    for (;;) {
        const calx_row *row;
        rc = calx_result_anext(r, &row, err);
        if (rc || !row)
            break;
        calx_obj *o;
        const calx_value *vals = calx_row_value(row, 0);
        prefetch_ahead(s, m, facts, r);
        rc = converted ? load_converted(s, m, facts, vals, populate, &o, err)
                       : load_row_checked(s, m, facts, vals, populate, &o, err);
        if (rc)
            break;
        if (one)
            *one = o;
        if (list) {
            if (!calx__grow(&list->items, &list->cap, list->n + 1, sizeof *list->items)) {
                rc = calx__nomem(err, NULL);
                break;
            }
            list->items[list->n++] = calx__obj_ptr(o);
        }
    }
    calx__load_end(s, bulk);
    calx_result_free(r);
    return rc;
}

/* Runs sql and reads its rows into objects (load_rows, which says what
 * list and one get). A query's rows stream in chunks: a large result never
 * sits in memory twice (as rows and as objects). Loads by key are small
 * and run as one plain statement: no cursor. kept: sql is a text the
 * engine keeps (a get's, get_sql), whose plan it finds by address. */
static int load_sql(calx_session *s, const calx_model *m, const char *sql,
                    const calx_param *params, const calx_dtype *types, size_t nparams,
                    bool by_key, bool kept, bool populate, calx_objlist *list, calx_obj **one,
                    calx_error *err)
{
    calx_connection *c;
    if (calx__session_read_conn(s, &c, err))
        return err->code;
    calx_params p = { params, nparams };
    calx_future *f = !by_key ? calx__conn_stream_typed(c, sql, &p, types, CALX__LOAD_FIRST_ROWS,
                                                       CALX__LOAD_CHUNK_ROWS, err)
                     : kept  ? calx__conn_execute_kept(c, sql, &p, types, err)
                             : calx__conn_execute_typed(c, sql, &p, types, err);
    return load_rows(s, m, f, false, populate, list, one, err);
}

/* Runs q (compiled with flags) and reads its rows into objects. A query as
 * the program wrote it (no flags) goes through the engine's statement
 * cache: compiled once per shape, its echo saying which. */
static int run_select(calx_session *s, const calx_select *q, unsigned flags, bool populate,
                      calx_objlist *list, calx_error *err)
{
    const calx_table *t = calx_select_table(q);
    const calx_model *m = t ? t->model : NULL;
    if (calx_select_error(q, err))
        return err->code;
    if (!m)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "the select is over table '%s', which no model declares; run "
                              "it with calx_conn_execute_select", t ? t->name : "?");
    bool by_key = flags & BY_KEY;
    if (!(flags & ~BY_KEY)) {
        calx_connection *c;
        if (calx__session_read_conn(s, &c, err))
            return err->code;
        calx_future *f = by_key ? calx_conn_execute_select(c, q, err)
                                : calx__conn_stream_select(c, q, CALX__LOAD_FIRST_ROWS,
                                                           CALX__LOAD_CHUNK_ROWS, err);
        return load_rows(s, m, f, true, populate, list, NULL, err);
    }
    calx_compiled c = { 0 };
    if (calx__select_compile(q, s->dialect, flags & ~BY_KEY, &c, err))
        return err->code;
    int rc = load_sql(s, m, c.sql, c.params, c.types, c.nparams, by_key, false, populate, list,
                      NULL, err);
    calx__compiled_free(&c);
    return rc;
}

/* A select of m's rows whose key equals key (AND over the key columns). */
static calx_select *by_key(const calx_model *m, const calx_value *key, size_t nkey)
{
    calx_select *q = calx_select_new(&m->table);
    for (size_t i = 0, k = 0; i < m->nfields && k < nkey; i++)
        if (m->table.columns[i].primary_key)
            calx_select_where(q, calx_binop(CALX_OP_EQ, calx_col(&m->table, i),
                                            calx_lit(key[k++])));
    return q;
}

static size_t npk(const calx_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->table.ncolumns; i++)
        n += m->table.columns[i].primary_key;
    return n;
}

/* ---- expired objects ---- */

/* Reloads one chunk of a model's expired objects with one SELECT. Objects
 * whose rows are gone become detached. */
static int reload_chunk(calx_session *s, const calx_model *m, calx_obj **objs, size_t n,
                        calx_error *err)
{
    calx_value *keys = malloc(n * CALX__MAX_KEY * sizeof *keys);
    if (!keys)
        return calx__nomem(err, NULL);
    calx_select *q;
    if (npk(m) != 1) {
        /* Composite keys: one object per SELECT (n is 1 here). */
        size_t nk = calx__obj_key(objs[0], calx__obj_snap(objs[0]), keys);
        q = by_key(m, keys, nk);
    } else {
        for (size_t i = 0; i < n; i++)
            calx__obj_key(objs[i], calx__obj_snap(objs[i]), &keys[i]);
        q = calx_select_new(&m->table);
        calx_expr *col = calx_col(&m->table, (size_t)calx__model_pk(m));
        calx_select_where(q, n == 1 ? calx_binop(CALX_OP_EQ, col, calx_lit(keys[0]))
                                    : calx_in_values(col, keys, n));
    }
    int rc = run_select(s, q, CALX_COMPILE_LABELS | BY_KEY, false, NULL, err);
    calx_select_free(q);
    free(keys);
    size_t kept = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (objs[i]->expired)
            calx__session_detach(s, objs[i]);
        else
            objs[kept++] = objs[i];
    }
    /* Their relationships were unloaded with the expire: the models'
     * eager ones load again. */
    if (!rc)
        rc = calx__rel_after_load_objs(s, m, objs, kept, NULL, false, err);
    return rc;
}

int calx__load_expired(calx_session *s, const calx_model *only, calx_error *err)
{
    calx_objvec exp = { 0 };
    for (size_t i = 0; i < s->map_used; i++) {
        calx_obj *o = s->map_objs[i];
        if (o && o->expired && (!only || o->model == only) && calx__objvec_push(&exp, o)) {
            calx__objvec_free(&exp);
            return calx__nomem(err, NULL);
        }
    }
    /* Group by model, keeping the order seen: one SELECT per model (per
     * chunk of IN_CHUNK keys). */
    calx_obj **group = malloc((exp.n ? exp.n : 1) * sizeof *group);
    int rc = group ? 0 : calx__nomem(err, NULL);
    for (size_t i = 0; i < exp.n && !rc; i++) {
        const calx_model *m = exp.v[i] ? exp.v[i]->model : NULL;
        if (!m)
            continue;
        size_t n = 0;
        for (size_t j = i; j < exp.n; j++) {
            if (exp.v[j] && exp.v[j]->model == m) {
                group[n++] = exp.v[j];
                exp.v[j] = NULL;
            }
        }
        size_t chunk = npk(m) == 1 ? IN_CHUNK : 1;
        for (size_t k = 0; k < n && !rc; k += chunk)
            rc = reload_chunk(s, m, group + k, n - k < chunk ? n - k : chunk, err);
    }
    free(group);
    calx__objvec_free(&exp);
    return rc;
}

int calx_session_reload_expired(calx_session *s, calx_error *err)
{
    int rc = calx__session_enter(s, true, err);
    if (rc)
        return rc;
    return calx__session_leave(s, calx__load_expired(s, NULL, err), err);
}

/* ---- get, refresh, merge ---- */

static int autoflush(calx_session *s, bool scan, calx_error *err)
{
    if (s->opts.no_autoflush || !calx__flush_needed(s, scan))
        return 0;
    return calx__flush(s, err);
}

int calx__session_autoflush(calx_session *s, calx_error *err)
{
    return autoflush(s, true, err);
}

/* The SELECT a get runs for m and what its key parameters meet, compiled
 * once per engine (engine/sql_memo.c; a get is the session's most
 * frequent statement, and a program may open a session per request), or
 * per session when the engine keeps no more. Owned by the engine or s:
 * *by_engine says which (the engine's text lives, unchanged, as long as
 * the engine, so its plan is found by address: calx__engine_plan_kept). */
static int get_sql(calx_session *s, const calx_model *m, calx__memo_text *out, bool *by_engine,
                   calx_error *err)
{
    const calx__memo_text *kept = calx__engine_memo_find(s->opts.bind, m, CALX__MEMO_GET, 0);
    *by_engine = kept != NULL;
    if (kept) {
        *out = *kept;
        return 0;
    }
    for (size_t i = 0; i < s->ngetsql; i++)
        if (s->getsql[i].m == m) {
            *out = (calx__memo_text){ s->getsql[i].sql, s->getsql[i].types };
            return 0;
        }
    if (calx__memo_select(s, m, CALX__MEMO_GET, 0, CALX_COMPILE_LABELS, calx__get_select(m), out,
                          by_engine, err))
        return err->code;
    if (*by_engine)
        return 0;
    /* The engine keeps no more: the session does. */
    void *v = realloc(s->getsql, (s->ngetsql + 1) * sizeof *s->getsql);
    if (!v) {
        free(out->sql);
        free(out->types);
        return calx__nomem(err, NULL);
    }
    s->getsql = v;
    s->getsql[s->ngetsql++] = (calx_getsql){ m, out->sql, out->types };
    return 0;
}

/* The text does not depend on the values: placeholders of the key
 * columns' stored types. */
calx_select *calx__get_select(const calx_model *m)
{
    calx_select *q = calx_select_new(&m->table);
    for (size_t i = 0; i < m->nfields; i++)
        if (m->table.columns[i].primary_key)
            calx_select_where(q, calx_binop(CALX_OP_EQ, calx_col(&m->table, i),
                                            calx__column_slot(&m->table.columns[i])));
    return q;
}

int calx__memo_select(calx_session *s, const void *owner, unsigned kind, uint64_t mask,
                      unsigned flags, calx_select *q, calx__memo_text *out, bool *kept,
                      calx_error *err)
{
    calx_compiled c = { 0 };
    int rc = calx__select_compile(q, s->dialect, flags, &c, err);
    calx_select_free(q);
    if (rc)
        return rc;
    *out = (calx__memo_text){ c.sql, c.types };
    *kept = calx__engine_memo_keep(s->opts.bind, owner, kind, mask, *out);
    c.sql = NULL;   /* *out's now: the engine's, or the caller's */
    c.types = NULL;
    calx__compiled_free(&c);
    return 0;
}

/* The n key values in params made what their columns store, where a
 * user type's column holds them. */
static int user_keys(const calx_model *m, calx_param *params, size_t n, calx_type_scratch *user,
                     calx_error *err)
{
    for (size_t i = 0, col = 0; i < n; i++, col++) {
        while (!m->table.columns[col].primary_key)
            col++;
        const calx_column *c = &m->table.columns[col];
        if (c->user_type && calx__user_type_bind(c, &params[i].value, user, err))
            return err->code;
    }
    return 0;
}

/* What a get of model m needs to know of its key, kept until a get of
 * another model. */
static void get_model_facts(calx_session *s, const calx_model *m)
{
    s->get_model = m;
    s->get_npk = npk(m);
    int pk = calx__model_pk(m);
    calx_ftype t = pk >= 0 ? m->fields[pk].type : CALX_F_TEXT;
    s->get_intpk = s->get_npk == 1 && (t == CALX_F_INT32 || t == CALX_F_INT64) ? pk : -1;
    s->get_joins = calx__rel_joins(NULL, m);
}

static CALX__NOINLINE int get_key_cold(calx_session *s, const calx_model *m, const calx_value *key,
                                       size_t nkey, const calx_exec_opts *opts, void *out,
                                       calx_obj *o, bool looked, calx_error *err);

int calx_session_get_key(calx_session *s, const calx_model *m, const calx_value *key,
                         size_t nkey, void *out, calx_error *err)
{
    if (out)
        *(void **)out = NULL;
    if (!m || !out || !key)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_get needs a model, a key and out");
    if (s && s->get_model != m)
        get_model_facts(s, m);
    /* The hot path: one integer key, found in the map. What it finds (or
     * that it finds nothing) is the map's answer for the key below too: a
     * cold get looks once. The rest is a function apart, so that a hit
     * pays for none of its frame. */
    calx_obj *o = NULL;
    if (s && s->get_intpk >= 0 && nkey == 1 && key[0].type == CALX_INT && !s->busy &&
        !s->need_rollback) {
        o = calx__map_find_int(s, m, (size_t)s->get_intpk, key[0].u.i);
        if (o && !o->expired) {
            *(void **)out = calx__obj_ptr(o);
            return 0;
        }
        return get_key_cold(s, m, key, nkey, NULL, out, o, true, err);
    }
    return get_key_cold(s, m, key, nkey, NULL, out, NULL, false, err);
}

int calx_session_get_opts(calx_session *s, const calx_model *m, const calx_value *key,
                          size_t nkey, const calx_exec_opts *opts, void *out, calx_error *err)
{
    if (!opts)
        return calx_session_get_key(s, m, key, nkey, out, err);
    if (out)
        *(void **)out = NULL;
    if (!m || !out || !key)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "calx_session_get_opts needs a model, a key and out");
    if (s && s->get_model != m)
        get_model_facts(s, m);
    return get_key_cold(s, m, key, nkey, opts, out, NULL, false, err);
}

int calx__get_read_now(calx_connection *c, const calx__memo_text *text, bool kept,
                       const calx_params *params, size_t width, calx_value *row, char *bytes,
                       bool *done, bool *found, calx_error *err)
{
    *done = *found = false;
    size_t ncols = 0;
    calx_dread r = calx__conn_read_row(c, text->sql, params, text->types, kept, row,
                                       CALX__GET_NOW_COLUMNS, &ncols, bytes,
                                       CALX__GET_NOW_BYTES, err);
    if (r == CALX_DREAD_DECLINED)
        return 0;
    *done = true;
    if (r == CALX_DREAD_FAILED)
        return err->code;
    if (r == CALX_DREAD_NONE)
        return 0;
    if (ncols < width)
        return calx_error_set(err, CALX_ERR_INTERNAL,
                              "the SELECT returned %zu columns for %zu", ncols, width);
    *found = true;
    return 0;
}

/* The get's SELECT run at once where the driver can (calx__get_read_now:
 * SQLite's reads on the loop thread), the row made an object straight
 * from the statement's columns; *done false when it could not, and the
 * caller loads it the usual way (nothing has happened). */
static int get_now(calx_session *s, const calx_model *m, const calx__memo_text *get, bool kept,
                   const calx_param *params, size_t nkey, bool populate, calx_obj **got,
                   bool *done, calx_error *err)
{
    *done = false;
    if (m->nfields > CALX__GET_NOW_COLUMNS)
        return 0;
    calx_connection *c;
    if (calx__session_read_conn(s, &c, err))
        return err->code;
    calx_value row[CALX__GET_NOW_COLUMNS];
    char bytes[CALX__GET_NOW_BYTES];
    calx_params p = { params, nkey };
    bool found;
    int rc = calx__get_read_now(c, get, kept, &p, m->nfields, row, bytes, done, &found, err);
    if (rc || !found)
        return rc;
    const calx__model_facts *facts = calx__model_facts_of(m);
    if (calx__model_check_key(m, facts, err))
        return err->code;
    return load_row_checked(s, m, facts, row, populate, got, err);
}

/* The get's SELECT, with what loads joined in its rows: *got the object
 * or NULL, *joined whether the rows carried joined relationships. */
static int get_select(calx_session *s, const calx_model *m, const calx_value *k, size_t nkey,
                      const calx_exec_opts *opts, calx_obj **got, bool *joined,
                      calx_error *err)
{
    *joined = false;
    calx_param params[CALX__MAX_KEY];
    calx_type_scratch user;
    calx__type_scratch_init(&user);
    for (size_t i = 0; i < nkey; i++)
        params[i] = (calx_param){ NULL, k[i] };
    int rc = user_keys(m, params, nkey, &user, err);
    if (!rc && (opts ? calx__rel_joins(opts, m) : s->get_joins))
        rc = calx__rel_joined_get(s, m, params, nkey, opts, joined, got, err);
    if (!rc && !*joined) {
        calx__memo_text get;
        bool by_engine, done = false;
        bool populate = opts && opts->populate_existing;
        rc = get_sql(s, m, &get, &by_engine, err);
        if (!rc)
            rc = get_now(s, m, &get, by_engine, params, nkey, populate, got, &done, err);
        if (!rc && !done)
            rc = load_sql(s, m, get.sql, params, get.types, nkey, true, by_engine, populate,
                          NULL, got, err);
    }
    calx__type_scratch_done(&user);
    return rc;
}

/* calx_session_get_key and calx_session_get_opts past the identity map's
 * hot path: o is what the map gave for the key when looked. */
static CALX__NOINLINE int get_key_cold(calx_session *s, const calx_model *m,
                                       const calx_value *key, size_t nkey,
                                       const calx_exec_opts *opts, void *out, calx_obj *o,
                                       bool looked, calx_error *err)
{
    if (nkey != (s ? s->get_npk : npk(m)) || nkey > CALX__MAX_KEY)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s's primary key has %zu column(s); %zu value(s) given", m->name,
                              npk(m), nkey);
    calx_value k[CALX__MAX_KEY];
    for (size_t i = 0, col = 0; i < nkey; i++, col++) {
        k[i] = key[i].type == CALX_BOOL ? calx_int(key[i].u.b) : key[i];
        /* A key of the richer types as its column holds it: '1b4e...' for
         * a UUID, 1.1 at the column's scale. */
        while (!m->table.columns[col].primary_key)
            col++;
        const calx_column *c = &m->table.columns[col];
        calx_xtype xt;
        char why[200];
        if (!c->user_type && calx__xtype_of_col(c->type, &xt) && calx__xtype_is_rich(xt) &&
            calx__value_into_column(&k[i], xt, c, why, sizeof why))
            return calx_error_set(err, CALX_ERR_TYPE, "%s's key %s cannot be %s", m->name,
                                  c->name, why);
    }
    if (!looked && s && !s->busy && !s->need_rollback)
        o = calx__map_find(s, m, k, nkey);
    /* The identity map answers: no SQL, no task needed. An object marked
     * for delete is answered too: it stays persistent (in the map) until
     * its DELETE is flushed, as in SQLAlchemy. */
    if (o && !o->expired && !opts) {
        *(void **)out = calx__obj_ptr(o);
        return 0;
    }
    int rc = calx__session_enter(s, true, err);
    if (rc)
        return rc;
    s->call_primary = opts && opts->use_primary;
    calx_obj *got = NULL;
    bool joined = false;
    if (o && !(opts && opts->populate_existing)) {
        /* In the map: an expired object is reloaded, with every expired
         * object of m (their models' eager relationships with them). */
        rc = o->expired ? calx__load_expired(s, m, err) : 0;
        if (!rc && o->in_map)
            got = o;
    } else {
        /* A get by key is not changed by other objects' pending UPDATEs:
         * flush only what is added or deleted. */
        rc = autoflush(s, false, err);
        if (!rc)
            rc = get_select(s, m, k, nkey, opts, &got, &joined, err);
    }
    /* The loaders' relationships, and the model's eager ones, that the
     * object has not loaded yet: whichever way it came. SQLAlchemy's get
     * skips its options when the identity map answers, leaving a
     * relationship that fails to load under asyncio when read. */
    if (!rc && got && (!o || opts))
        rc = calx__rel_after_load_objs(s, m, &got, 1, opts, joined, err);
    if (!rc && got)
        *(void **)out = calx__obj_ptr(got);
    return calx__session_leave(s, rc, err);
}

int calx_session_get(calx_session *s, const calx_model *m, calx_value key, void *out,
                     calx_error *err)
{
    return calx_session_get_key(s, m, &key, 1, out, err);
}

int calx_session_get_one(calx_session *s, const calx_model *m, calx_value key, void *out,
                         calx_error *err)
{
    int rc = calx_session_get(s, m, key, out, err);
    if (!rc && !*(void **)out)
        return calx_error_set(err, CALX_ERR_NO_RESULT, "No row was found when one was required");
    return rc;
}

int calx_session_refresh(calx_session *s, void *obj, calx_error *err)
{
    calx_obj *o = calx__obj_check(obj);
    if (!o)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "not a calx model object");
    int rc = calx__session_enter(s, true, err);
    if (rc)
        return rc;
    if (calx__obj_session(o) != s || o->state != CALX_OBJ_PERSISTENT)
        return calx__session_leave(
            s, calx_error_set(err, CALX_ERR_STATE, "Instance '%s' is not persistent within this Session",
                              o->model->name),
            err);
    calx_value key[CALX__MAX_KEY];
    size_t n = calx__obj_key(o, calx__obj_snap(o), key);
    calx_select *q = by_key(o->model, key, n);
    /* Overwrite: a refresh drops changes not flushed, as SQLAlchemy's.
     * Its relationships too: unloaded, and those the model loads eagerly
     * (.lazy SELECT_IN, JOINED) loaded again, as SQLAlchemy's refresh
     * expires them all and reloads its eager ones. */
    o->expired = true;
    calx__rel_unload_all(o);
    calx_objlist l = { 0 };
    rc = run_select(s, q, BY_KEY, true, &l, err);
    calx_select_free(q);
    if (!rc)
        rc = calx__rel_after_load(s, o->model, l.items, l.n, NULL, false, err);
    if (!rc && l.n == 0) {
        char r[200];
        calx_obj_repr(obj, r, sizeof r);
        rc = calx_error_set(err, CALX_ERR_NO_RESULT, "Could not refresh instance '%s'", r);
    }
    calx_objlist_free(&l);
    return calx__session_leave(s, rc, err);
}

/* Copies every field of src (a struct of dst's model) onto dst. */
static int copy_fields(calx_obj *dst, const void *src, calx_error *err)
{
    void *d = calx__obj_ptr(dst);
    for (size_t i = 0; i < dst->model->nfields; i++) {
        const calx_field *f = &dst->model->fields[i];
        void *dp = calx__field_ptr(d, f);
        const void *sp = calx__field_ptr(src, f);
        int rc = 0;
        if (f->type == CALX_F_TEXT || f->type == CALX_F_JSON)
            rc = calx_obj_set_text(d, dp, *(const char *const *)sp);
        else if (f->type == CALX_F_ARRAY)
            rc = calx_obj_set_array(d, dp, *(const calx_value *)sp);
        else if (f->type == CALX_F_JSON_VALUE)
            rc = calx_obj_set_json_new(d, dp, calx__json_field_copy(*(struct json_t *const *)sp));
        else if (f->type == CALX_F_BLOB)
            rc = calx_obj_set_blob(d, dp, ((const calx_bytes *)sp)->data,
                                   ((const calx_bytes *)sp)->len);
        else
            memcpy(dp, sp, calx__field_size(f));
        if (rc)
            return calx__nomem(err, "merging a %s",
                                  dst->model->name);
    }
    return 0;
}

int calx_session_merge(calx_session *s, const void *obj, void *out, calx_error *err)
{
    if (out)
        *(void **)out = NULL;
    calx_obj *src = calx__obj_check(obj);
    if (!src || !out)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_merge needs a model object and out");
    const calx_model *m = src->model;
    calx_value key[CALX__MAX_KEY];
    size_t n = calx__obj_key(src, obj, key);
    bool has_key = true;
    for (size_t i = 0; i < n; i++)
        has_key = has_key && key[i].type != CALX_NULL;
    calx_obj *dst = NULL;
    if (has_key) {
        void *found = NULL;
        int rc = calx_session_get_key(s, m, key, n, &found, err);
        if (rc)
            return rc;
        dst = found ? calx__obj_hdr(found) : NULL;
    }
    if (dst == src) {
        *(void **)out = (void *)obj;
        return 0;
    }
    bool fresh = !dst;
    if (fresh && !(dst = calx__obj_alloc(m, 0, NULL)))
        return calx__nomem(err, "merging a %s", m->name);
    if (copy_fields(dst, obj, err)) {
        if (fresh)
            calx__obj_destroy(dst);
        return err->code;
    }
    if (fresh) {
        int rc = calx_session_add(s, calx__obj_ptr(dst), err);
        if (rc) {
            calx__obj_destroy(dst);
            return rc;
        }
    }
    *(void **)out = calx__obj_ptr(dst);
    return 0;
}

/* ---- queries ---- */

void calx_objlist_free(calx_objlist *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

int calx_session_execute(calx_session *s, const calx_select *q, const calx_exec_opts *opts,
                         calx_objlist *out, calx_error *err)
{
    if (out)
        *out = (calx_objlist){ 0 };
    if (!out)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_session_execute needs out");
    int rc = calx__session_enter(s, true, err);
    if (rc)
        return rc;
    s->call_primary = opts && opts->use_primary;
    rc = autoflush(s, true, err);
    bool joined = false;
    if (!rc)
        rc = calx__rel_joined_query(s, q, opts, &joined, out, err);
    if (!rc && !joined)
        rc = run_select(s, q, 0, opts && opts->populate_existing, out, err);
    /* The relationships the options and the models' .lazy load. */
    if (!rc)
        rc = calx__rel_after_load(s, calx_select_table(q)->model, out->items, out->n, opts,
                                  joined, err);
    if (rc)
        calx_objlist_free(out);
    return calx__session_leave(s, rc, err);
}

int calx_session_all(calx_session *s, const calx_select *q, calx_objlist *out,
                     calx_error *err)
{
    return calx_session_execute(s, q, NULL, out, err);
}

/* first (mode -1), one_or_none (0) and one (1): their messages are
 * SQLAlchemy's, word for word, since programs match on them. */
static int pick(calx_session *s, const calx_select *q, void *out, int mode, calx_error *err)
{
    if (!out)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "out is NULL");
    *(void **)out = NULL;
    calx_objlist l;
    int rc = calx_session_execute(s, q, NULL, &l, err);
    if (rc)
        return rc;
    if (mode > 0 && l.n == 0)
        rc = calx_error_set(err, CALX_ERR_NO_RESULT, "No row was found when one was required");
    else if (mode >= 0 && l.n > 1)
        rc = calx_error_set(err, CALX_ERR_MULTIPLE_RESULTS,
                            "Multiple rows were found when %s was required",
                            mode > 0 ? "exactly one" : "one or none");
    else if (l.n)
        *(void **)out = l.items[0];
    calx_objlist_free(&l);
    return rc;
}

int calx_session_first(calx_session *s, const calx_select *q, void *out, calx_error *err)
{
    return pick(s, q, out, -1, err);
}

int calx_session_one(calx_session *s, const calx_select *q, void *out, calx_error *err)
{
    return pick(s, q, out, 1, err);
}

int calx_session_one_or_none(calx_session *s, const calx_select *q, void *out,
                             calx_error *err)
{
    return pick(s, q, out, 0, err);
}
