/* SPDX-License-Identifier: MIT */
/* JSON in and out for the hero service, through jansson (the JSON library
 * calx chose: docs/types.md). A request body is checked against the
 * tutorial's HeroCreate / HeroUpdate / TeamCreate / TeamUpdate before any
 * task starts, with the answers pydantic gives through FastAPI (a detail
 * list of {"type", "loc", "msg", "input"}); what the models themselves
 * check (max_length, ge) is left to the model's constructor, in routes.c.
 * Objects go out as HeroPublic / TeamPublic: the columns, id last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hero_api.h"

typedef enum field_kind { FIELD_TEXT, FIELD_INT } field_kind;

typedef struct shape_field {
    const char *name;
    field_kind kind;
    bool required;  /* a create's str field: no default */
} shape_field;

/* The shapes' fields, in the tutorial's order. An update's fields are all
 * Optional[...] = None: null is accepted there (the model's check then
 * refuses a NOT NULL column set to null). */
static const shape_field hero_fields[] = {
    { "name", FIELD_TEXT, true },
    { "secret_name", FIELD_TEXT, true },
    { "age", FIELD_INT, false },
    { "team_id", FIELD_INT, false },
    { NULL, 0, false },
};
static const shape_field team_fields[] = {
    { "name", FIELD_TEXT, true },
    { "headquarters", FIELD_TEXT, true },
    { NULL, 0, false },
};

void shape_error(json_t *errors, const char *type, const char *where, const char *field,
                 const char *msg, json_t *input)
{
    json_t *loc = json_array();
    json_array_append_new(loc, json_string(where));
    if (field)
        json_array_append_new(loc, json_string(field));
    json_t *e = json_object();
    json_object_set_new(e, "type", json_string(type));
    json_object_set_new(e, "loc", loc);
    json_object_set_new(e, "msg", json_string(msg));
    json_object_set(e, "input", input ? input : json_null());
    json_array_append_new(errors, e);
}

/* pydantic's lax int: an integer, a real with no fraction, or a string
 * holding a whole number. 0 and *out set, or the error appended. */
static int check_int(json_t *errors, const char *field, json_t *v, json_int_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == (double)(json_int_t)d) {
            *out = (json_int_t)d;
            return 0;
        }
        shape_error(errors, "int_from_float", "body", field,
                    "Input should be a valid integer, got a number with a fractional part", v);
        return -1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (*s && !*end && errno == 0) {
            *out = n;
            return 0;
        }
        shape_error(errors, "int_parsing", "body", field,
                    "Input should be a valid integer, unable to parse string as an integer", v);
        return -1;
    }
    shape_error(errors, "int_type", "body", field, "Input should be a valid integer", v);
    return -1;
}

json_t *shape_check(api_shape shape, json_t *body, json_t *errors)
{
    bool create = shape == SHAPE_HERO_CREATE || shape == SHAPE_TEAM_CREATE;
    const shape_field *fields =
        shape == SHAPE_HERO_CREATE || shape == SHAPE_HERO_UPDATE ? hero_fields : team_fields;
    if (!json_is_object(body)) {
        shape_error(errors, "model_attributes_type", "body", NULL,
                    "Input should be a valid dictionary or object to extract fields from", body);
        return NULL;
    }
    json_t *out = json_object();
    size_t before = json_array_size(errors);
    for (const shape_field *f = fields; f->name; f++) {
        json_t *v = json_object_get(body, f->name);
        if (!v) {
            if (create && f->required)
                shape_error(errors, "missing", "body", f->name, "Field required", body);
            continue;
        }
        if (json_is_null(v) && !(create && f->required)) {
            json_object_set(out, f->name, v);
            continue;
        }
        if (f->kind == FIELD_TEXT) {
            if (json_is_string(v))
                json_object_set(out, f->name, v);
            else
                shape_error(errors, "string_type", "body", f->name,
                            "Input should be a valid string", v);
        } else {
            json_int_t n;
            if (check_int(errors, f->name, v, &n) == 0)
                json_object_set_new(out, f->name, json_integer(n));
        }
    }
    if (json_array_size(errors) != before) {
        json_decref(out);
        return NULL;
    }
    return out;
}

char *shape_dump(json_t *j)
{
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return s;
}

char *shape_422(json_t *errors)
{
    json_t *j = json_object();
    json_object_set_new(j, "detail", errors);
    return shape_dump(j);
}

char *shape_detail(const char *text)
{
    json_t *j = json_object();
    json_object_set_new(j, "detail", json_string(text));
    return shape_dump(j);
}

static json_t *opt_int(calx_opt_int64 v)
{
    return v.valid ? json_integer(v.value) : json_null();
}

json_t *shape_hero(const Hero *h)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(h->name));
    json_object_set_new(j, "secret_name", json_string(h->secret_name));
    json_object_set_new(j, "age", opt_int(h->age));
    json_object_set_new(j, "team_id", opt_int(h->team_id));
    json_object_set_new(j, "id", opt_int(h->id));
    return j;
}

json_t *shape_team(const Team *t)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(t->name));
    json_object_set_new(j, "headquarters", json_string(t->headquarters));
    json_object_set_new(j, "id", opt_int(t->id));
    return j;
}
