/* SPDX-License-Identifier: MIT */
/* The constructor of model objects (calx_model_new, behind CALX_NEW):
 * defaults, factories, texts copied into the object, and validation —
 * required fields, max_length, ge / le — which the flush repeats before
 * every write (calx_obj_validate). SQLModel's table models skip
 * validation; calx's never do. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compiler.h"
#include "core/json_check.h"
#include "core/nomem.h"
#include "core/value_int.h"
#include "orm/object.h"
#include "orm/relation.h"
#include "sql/convert.h"
#include "sql/user_type.h"

/* ---- the constructor and validation ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Whether the user type of field i's column takes the field's value: its
 * bind function runs, as it will at flush, and what it makes is dropped. */
static int check_user_value(const calx_model *m, size_t i, const void *s, calx_error *err)
{
    const calx_column *c = &m->table.columns[i];
    calx_value v = calx__field_value(m, &m->fields[i], s);
    calx_type_scratch scratch;
    calx_error why;
    calx__type_scratch_init(&scratch);
    int rc = calx__user_type_bind(c, &v, &scratch, &why);
    calx__type_scratch_done(&scratch);
    if (rc)
        return calx_error_set(err, CALX_ERR_VALIDATION, "%s.%s: %s", m->name, m->fields[i].name,
                              why.message);
    return 0;
}

/* The elements of the ARRAY field i (at p) against its column's element
 * type, as a statement would convert them (on a copy: the field keeps
 * what the program gave). */
static int check_array(const calx_model *m, size_t i, const void *p, calx_error *err)
{
    const calx_column *c = &m->table.columns[i];
    calx_value v = *(const calx_value *)p;
    size_t n = calx__value_keep_size(&v);
    char *copy = n ? malloc(n) : NULL, *at = copy;
    if (n && !copy)
        return calx__nomem(err, "checking %s.%s", m->name, m->fields[i].name);
    if (n)
        calx__value_keep(&v, &at);
    char why[240];
    const char *bad = calx__array_into_column(&v, c, why, sizeof why);
    int rc = bad ? calx_error_set(err, CALX_ERR_VALIDATION, "%s.%s: %s", m->name,
                                  m->fields[i].name, bad)
                 : 0;
    free(copy);
    return rc;
}

bool calx__field_has_checks(const calx_model *m, size_t i)
{
    const calx_field *f = &m->fields[i];
    const calx_column *c = &m->table.columns[i];
    bool number = f->type == CALX_F_DOUBLE || f->type == CALX_F_INT32 || f->type == CALX_F_INT64;
    return c->user_type || calx__ftype_is_rich(f->type) || f->type == CALX_F_ARRAY ||
           f->type == CALX_F_JSON || (f->type == CALX_F_TEXT && c->max_length > 0) ||
           (number && (c->ge.valid || c->le.valid));
}

/* What check_fields asks of a field whose value is not NULL; what it
 * looks at is what calx__field_has_checks names. */
static CALX__NOINLINE int check_value(const calx_model *m, size_t i, const void *s, calx_error *err)
{
    const calx_field *f = &m->fields[i];
    const calx_column *c = &m->table.columns[i];
    const void *p = calx__field_ptr(s, f);
    if (c->user_type && check_user_value(m, i, s, err))
        return err->code;
    if (calx__ftype_is_rich(f->type))
        return calx__rich_check(m, f, p, err);
    if (f->type == CALX_F_ARRAY)
        return check_array(m, i, p, err);
    if (f->type == CALX_F_JSON) {
        const char *j = *(const char *const *)p;
        size_t at;
        if (!calx__json_valid(j, strlen(j), &at))
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: invalid JSON at byte %zu of '%.*s%s'", m->name,
                                  f->name, at, 60, j, strlen(j) > 60 ? "..." : "");
        return 0;
    }
    if (f->type == CALX_F_TEXT && c->max_length > 0) {
        size_t n = utf8_chars(*(const char *const *)p);
        if (n > (size_t)c->max_length)
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: ensure this value has at most %d characters (it has %zu)",
                                  m->name, f->name, c->max_length, n);
    }
    if (c->ge.valid || c->le.valid) {
        double x;
        if (f->type == CALX_F_DOUBLE)
            x = calx__field_double(f, p);
        else if (f->type == CALX_F_INT32 || f->type == CALX_F_INT64)
            x = (double)calx__field_int(f, p);
        else
            return 0;
        if (c->ge.valid && !(x >= c->ge.value))
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: ensure this value is greater than or equal to %g (it is %g)",
                                  m->name, f->name, c->ge.value, x);
        if (c->le.valid && !(x <= c->le.value))
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: ensure this value is less than or equal to %g (it is %g)",
                                  m->name, f->name, c->le.value, x);
    }
    return 0;
}

static CALX__NOINLINE int null_error(const calx_model *m, const calx_field *f,
                                     calx_error *err)
{
    return calx_error_set(err, CALX_ERR_VALIDATION,
                          "%s.%s: none is not an allowed value (the column is NOT NULL)",
                          m->name, f->name);
}

/* Inline in both of check_fields' loops: the commonest check is a NOT
 * NULL text's pointer. */
static inline int check_field(const calx_model *m, const calx__model_facts *fx, size_t i,
                              const void *s, calx_error *err)
{
    const calx_field *f = &m->fields[i];
    if (calx__field_is_null(f, s))
        return f->nullable || (int)i == fx->autoinc ? 0 : null_error(m, f, err);
    return calx__facts_field_checked(fx, i) ? check_value(m, i, s, err) : 0;
}

/* Every field of m's struct s: NULL only where the field is nullable (or
 * the generated key, NULL until the INSERT fills it), and each value that
 * has checks (the model's facts say which) within them. Visits only the
 * fields that can fail (the facts' `validated` mask, in field order, so
 * the first failure named is the first field's): a nullable field without
 * checks passes whatever it holds. Fields past the 64th are all visited. */
static int check_fields(const calx_model *m, const calx__model_facts *fx, const void *s,
                        calx_error *err)
{
    for (uint64_t todo = fx->validated; todo; todo &= todo - 1)
        if (check_field(m, fx, (size_t)__builtin_ctzll(todo), s, err))
            return err->code;
    for (size_t i = 64; i < m->nfields; i++)
        if (check_field(m, fx, i, s, err))
            return err->code;
    return 0;
}

int calx_obj_validate(const void *obj, calx_error *err)
{
    calx_obj *o = calx__obj_check(obj);
    if (!o)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "not a model object");
    return check_fields(o->model, calx__model_facts_of(o->model), obj, err) ? CALX_ERR_VALIDATION
                                                                              : 0;
}

static bool arg_unset(const calx_field *f, const void *a)
{
    switch (f->type) {
    case CALX_F_INT32:
    case CALX_F_INT64:
    case CALX_F_TIMESTAMP:
        return !f->nullable && *(const int64_t *)a == INT64_MIN;
    case CALX_F_BOOL:
        return !f->nullable && *(const int *)a == INT32_MIN;
    case CALX_F_DOUBLE: {
        if (f->nullable)
            return false;
        double u = __builtin_nan("0xca1"), d = *(const double *)a;
        return memcmp(&u, &d, sizeof d) == 0;
    }
    case CALX_F_TEXT:
    case CALX_F_JSON:
        return *(const char *const *)a == NULL;
    case CALX_F_BLOB:
        return ((const calx_bytes *)a)->data == NULL;
    case CALX_F_ARRAY:
        return ((const calx_value *)a)->type == CALX_NULL;
    case CALX_F_JSON_VALUE:
        return *(struct json_t *const *)a == NULL;
    default:
        return calx__rich_arg_unset(f, a);
    }
}

/* Copies one argument into the object (texts and blobs into its own
 * memory). */
static int take_arg(calx_obj *o, size_t i, const void *a, char **tail, calx_error *err)
{
    const calx_model *m = o->model;
    const calx_field *f = &m->fields[i];
    void *p = calx__field_ptr(calx__obj_ptr(o), f);
    switch (f->type) {
    case CALX_F_INT32:
        if (f->nullable) {
            *(calx_opt_int32 *)p = *(const calx_opt_int32 *)a;
        } else {
            int64_t x = *(const int64_t *)a;
            if (x < INT32_MIN || x > INT32_MAX)
                return calx_error_set(err, CALX_ERR_VALIDATION,
                                      "%s.%s: %" PRId64 " does not fit a 32-bit integer",
                                      m->name, f->name, x);
            *(int32_t *)p = (int32_t)x;
        }
        return 0;
    case CALX_F_BOOL:
        if (f->nullable)
            *(calx_opt_bool *)p = *(const calx_opt_bool *)a;
        else
            *(bool *)p = *(const int *)a != 0;
        return 0;
    case CALX_F_TEXT:
    case CALX_F_JSON:
    case CALX_F_BLOB: {
        bool text = calx__field_is_text(f);
        const void *src = text ? (const void *)*(const char *const *)a
                               : ((const calx_bytes *)a)->data;
        if (!src)
            return 0;
        size_t len = text ? strlen(src) : ((const calx_bytes *)a)->len;
        if (len)
            memcpy(*tail, src, len);
        (*tail)[len] = '\0';
        calx__field_set_buffer(f, p, *tail, len);
        *tail += len + 1;
        return 0;
    }
    case CALX_F_INT64:
    case CALX_F_TIMESTAMP:
        memcpy(p, a, f->nullable ? sizeof(calx_opt_int64) : sizeof(int64_t));
        return 0;
    case CALX_F_DOUBLE:
        memcpy(p, a, f->nullable ? sizeof(calx_opt_double) : sizeof(double));
        return 0;
    case CALX_F_JSON_VALUE:
        return 0;   /* taken before the other fields (calx_model_new) */
    case CALX_F_ARRAY: {
        const calx_value *v = a;
        if (v->type == CALX_NULL)
            return 0;
        if (v->type != CALX_ARRAY || !calx__value_ok(v))
            return calx_error_set(err, CALX_ERR_VALIDATION,
                                  "%s.%s: an ARRAY field takes an ARRAY value (calx_value_array), "
                                  "not %s%s", m->name, f->name, calx_type_name(v->type),
                                  v->type == CALX_ARRAY ? " with invalid elements" : "");
        calx__field_put_bytes(f, p, v, *tail);
        *tail += calx__field_bytes_size(f, v);
        return 0;
    }
    default:
        return calx__rich_take_arg(m, f, p, a, err);
    }
}

void *calx_model_new(const calx_model *m, const void *args, calx_error *err)
{
    if (!m || !args)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_model_new needs a model and arguments"),
               NULL;
    /* Texts and blobs given live in the object's own allocation. */
    size_t extra = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        const calx_field *f = &m->fields[i];
        const void *a = (const char *)args + f->arg_offset;
        if (calx__field_is_text(f) && *(const char *const *)a)
            extra += strlen(*(const char *const *)a) + 1;
        else if (f->type == CALX_F_BLOB && ((const calx_bytes *)a)->data)
            extra += ((const calx_bytes *)a)->len + 1;
        else if (f->type == CALX_F_ARRAY && ((const calx_value *)a)->type == CALX_ARRAY &&
                 calx__value_ok(a))
            extra += calx__field_bytes_size(f, a);
    }
    const calx__model_facts *facts = calx__model_facts_of(m);
    int too_big = calx__obj_check_size(m, extra, err);
    calx_obj *o = too_big ? NULL : calx__obj_alloc_new(m, extra);
    /* JSON values given are taken first, so that the object releases
     * them whatever fails after. */
    for (size_t i = 0; facts->json_values && i < m->nfields; i++) {
        const calx_field *f = &m->fields[i];
        struct json_t *const *a = (const void *)((const char *)args + f->arg_offset);
        if (f->type != CALX_F_JSON_VALUE)
            continue;
        if (o)
            *(struct json_t **)calx__field_ptr(calx__obj_ptr(o), f) = *a;
        else
            calx__json_value_release(*a);
    }
    if (!o)
        return too_big ? NULL : (calx__nomem(err, "creating a %s", m->name), NULL);
    void *obj = calx__obj_ptr(o);
    char *tail = calx__obj_tail(o);
    if (calx__model_check_key(m, facts, err))
        goto fail;
    for (size_t i = 0; i < m->nfields; i++) {
        const calx_field *f = &m->fields[i];
        const void *a = (const char *)args + f->arg_offset;
        if (arg_unset(f, a)) {
            if (f->dflt == CALX_DEFAULT_FACTORY && f->factory) {
                if (f->factory(calx__field_ptr(obj, f), err) != 0)
                    goto fail;
                /* A text or blob from a factory is the object's to free. */
                const void *made = calx__field_is_buffer(f) ? calx__field_buffer(f, obj) : NULL;
                if (made) {
                    void **slot = calx__field_slots(o, facts, i);
                    if (!slot) {
                        free((void *)made);   /* the object goes: nothing reads it */
                        calx__nomem(err, "creating a %s", m->name);
                        goto fail;
                    }
                    slot[0] = (void *)made;
                }
                continue;
            }
            if (f->dflt == CALX_DEFAULT_REQUIRED || !f->nullable) {
                calx_error_set(err, CALX_ERR_VALIDATION, "%s.%s: field required", m->name,
                               f->name);
                goto fail;
            }
            continue;
        }
        if (take_arg(o, i, a, &tail, err))
            goto fail;
    }
    if (check_fields(m, facts, obj, err))
        goto fail;
    /* A new object's relationships are loaded, and empty. */
    o->rel_loaded = calx__rel_all_loaded(m);
    return obj;
fail:
    calx__obj_destroy(o);
    return NULL;
}

int calx_uuid4_factory(void *p, calx_error *err)
{
    return calx_uuid4(p, err);
}

int calx_now_utc(void *p, calx_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *(calx_timestamp *)p = (calx_timestamp)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return 0;
}
