/* SPDX-License-Identifier: MIT */
/* JSON_VALUE fields: a JSON column held as jansson's parsed json_t
 * (docs/types.md says why jansson). The object holds one reference to the
 * value; its two buffer slots hold texts:
 *
 *   old  the value as the database has it, written out: what a flush
 *        compares the value's text with, and what a rollback parses back
 *   cur  the text the flush under way binds (calx__json_field_sync)
 *
 * Comparing texts, not pointers, is what lets the session see a change
 * made inside the value (json_object_set on it), which SQLAlchemy's JSON
 * type misses unless the program wraps it in MutableDict. The price is
 * writing each such field out at every flush that looks at the object.
 *
 * The text is written compactly, keys in the value's own order, reals
 * with 17 significant digits, so every double reads back as itself; a
 * value the program did not change is never rewritten, so the database
 * keeps its own text (0.1 stays 0.1) until the program changes the value.
 * The snapshot's copy of the field pointer is never used: it may point at
 * a value the object has since let go. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/nomem.h"
#include "orm/object.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))
#define LOAD_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static json_t **value_at(const calx_obj *o, size_t i)
{
    return (json_t **)calx__field_ptr(calx__obj_ptr(o), &o->model->fields[i]);
}

/* Field i's two slots, [0] `cur` and [1] `old`: to read (NULL when the
 * object has none: both NULL), and to write (NULL: out of memory). */
static void **slots_if(const calx_obj *o, size_t i)
{
    return calx__field_slots_if(o, calx__model_facts_of(o->model), i);
}

static void **slots_made(calx_obj *o, size_t i)
{
    return calx__field_slots(o, calx__model_facts_of(o->model), i);
}

/* The value written out (malloc'd), or NULL when out of memory. */
static char *dump(const json_t *v)
{
    return json_dumps(v, DUMP_FLAGS);
}

void calx__json_field_release(calx_obj *o)
{
    for (size_t i = 0; i < o->model->nfields; i++)
        if (o->model->fields[i].type == CALX_F_JSON_VALUE) {
            json_t **p = value_at(o, i);
            json_decref(*p);
            *p = NULL;
        }
}

/* Parses n bytes of text into *out (a new reference). */
static int parse(const calx_obj *o, size_t i, const char *text, size_t n, json_t **out,
                 calx_error *err)
{
    json_error_t why;
    json_t *v = json_loadb(text, n, LOAD_FLAGS, &why);
    if (!v)
        return calx_error_set(err, CALX_ERR_DATA,
                              "%s.%s: the JSON '%.*s%s' cannot be held: %s (at byte %d)",
                              o->model->name, o->model->fields[i].name, (int)(n > 60 ? 60 : n),
                              text, n > 60 ? "..." : "", why.text, why.position);
    *out = v;
    return 0;
}

int calx__json_field_set(calx_obj *o, size_t i, const calx_value *v, calx_error *err)
{
    json_t *parsed = NULL;
    if (v->type != CALX_NULL) {
        if (v->type != CALX_JSON && v->type != CALX_TEXT)
            return calx_error_set(err, CALX_ERR_TYPE,
                                  "%s.%s (JSON_VALUE) cannot hold the %s value the database "
                                  "returned",
                                  o->model->name, o->model->fields[i].name,
                                  calx_type_name(v->type));
        if (parse(o, i, v->u.s.ptr, v->u.s.len, &parsed, err))
            return err->code;
    }
    json_t **p = value_at(o, i);
    json_decref(*p);
    *p = parsed;
    return 0;
}

int calx__json_field_load(calx_obj *o, size_t i, const calx_value *v, calx_error *err)
{
    if (calx__json_field_set(o, i, v, err))
        return err->code;
    json_t *now = *value_at(o, i);
    char *text = now ? dump(now) : NULL;
    void **slot = text ? slots_made(o, i) : slots_if(o, i);
    if (now && (!text || !slot)) {
        free(text);
        return calx__nomem(err, "loading %s.%s", o->model->name, o->model->fields[i].name);
    }
    if (!slot)
        return 0;   /* NULL, and no texts to drop */
    free(slot[0]);
    free(slot[1]);
    slot[0] = NULL;
    slot[1] = text;
    return 0;
}

bool calx__json_field_changed(const calx_obj *o, size_t i)
{
    void **slot = slots_if(o, i);
    const char *had = slot ? slot[1] : NULL;
    const json_t *now = *value_at(o, i);
    if (!now || !had)
        return (now == NULL) != (had == NULL);
    char *text = dump(now);
    bool changed = !text || strcmp(text, had) != 0;   /* no memory: write it */
    free(text);
    return changed;
}

int calx__json_field_sync(calx_obj *o, size_t i, calx_error *err)
{
    const json_t *now = *value_at(o, i);
    char *text = now ? dump(now) : NULL;
    void **slot = text ? slots_made(o, i) : slots_if(o, i);
    if (now && (!text || !slot)) {
        free(text);
        return calx__nomem(err, "writing out %s.%s", o->model->name, o->model->fields[i].name);
    }
    if (!slot)
        return 0;
    free(slot[0]);
    slot[0] = text;
    return 0;
}

calx_value calx__json_field_value(const calx_obj *o, size_t i)
{
    /* The text bound is the one the flush made; before any, the text the
     * database has (the value is not written out here: no allocation). */
    void **slot = slots_if(o, i);
    const char *text = !slot ? NULL : slot[0] ? slot[0] : slot[1];
    return *value_at(o, i) && text ? calx_value_json(text) : calx_null();
}

int calx__json_field_snapshot(calx_obj *o, size_t i, calx_error *err)
{
    if (calx__json_field_sync(o, i, err))
        return err->code;
    void **slot = slots_if(o, i);
    if (!slot)
        return 0;   /* NULL, as the database has it */
    free(slot[1]);
    slot[1] = slot[0];
    slot[0] = NULL;
    return 0;
}

void calx__json_field_revert(calx_obj *o, size_t i)
{
    void **slot = slots_if(o, i);
    const char *had = slot ? slot[1] : NULL;
    if (slot) {
        free(slot[0]);
        slot[0] = NULL;
    }
    if (!calx__json_field_changed(o, i))
        return;
    json_t *back = NULL;
    if (had && parse(o, i, had, strlen(had), &back, NULL))
        return;   /* no memory: the value stays as the program left it */
    json_t **p = value_at(o, i);
    json_decref(*p);
    *p = back;
}

int calx_obj_set_json_new(void *obj, struct json_t **field, struct json_t *value)
{
    calx_obj *o = calx__obj_check(obj);
    int i = o && field ? calx_model_field_at(o->model, (size_t)((const char *)field -
                                                                (const char *)obj))
                       : -1;
    if (i < 0 || o->model->fields[i].type != CALX_F_JSON_VALUE) {
        json_decref(value);
        return CALX_ERR_ARGUMENT;
    }
    json_decref(*field);
    *field = value;
    return 0;
}

struct json_t *calx__json_field_copy(const struct json_t *v)
{
    return json_deep_copy(v);
}

void calx__json_value_release(struct json_t *v)
{
    json_decref(v);
}

void calx__json_repr(calx_buf *b, const struct json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        calx__buf_puts(b, "{");
        json_object_foreach((json_t *)v, key, item) {
            if (!first)
                calx__buf_puts(b, ", ");
            first = false;
            calx__repr_str(b, key, strlen(key));
            calx__buf_puts(b, ": ");
            calx__json_repr(b, item);
        }
        calx__buf_puts(b, "}");
        break;
    }
    case JSON_ARRAY:
        calx__buf_puts(b, "[");
        for (size_t k = 0; k < json_array_size(v); k++) {
            if (k)
                calx__buf_puts(b, ", ");
            calx__json_repr(b, json_array_get(v, k));
        }
        calx__buf_puts(b, "]");
        break;
    case JSON_STRING: calx__repr_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: calx__buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: calx__repr_real(b, json_real_value(v)); break;
    case JSON_TRUE: calx__buf_puts(b, "True"); break;
    case JSON_FALSE: calx__buf_puts(b, "False"); break;
    case JSON_NULL: calx__buf_puts(b, "None"); break;
    }
}
