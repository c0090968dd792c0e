/* SPDX-License-Identifier: MIT */
/* SQLModel's repr of a model object, Hero(id=1, name='Deadpond', ...),
 * with Python's quoting of texts and bytes and its spelling of floats,
 * None, True and False. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/number_text.h"
#include "core/value_repr.h"
#include "orm/object.h"

/* ---- repr ---- */

static void putch(calx_buf *b, char c)
{
    calx__buf_put(b, &c, 1);
}

/* Python's repr of a str: single quotes unless the text has a ' and no ". */
static void repr_str(calx_buf *b, const char *s, size_t n, bool bytes)
{
    bool dq = memchr(s, '\'', n) && !memchr(s, '"', n);
    char q = dq ? '"' : '\'';
    if (bytes)
        putch(b, 'b');
    putch(b, q);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == (unsigned char)q)
            calx__buf_printf(b, "\\%c", c);
        else if (c == '\n')
            calx__buf_puts(b, "\\n");
        else if (c == '\r')
            calx__buf_puts(b, "\\r");
        else if (c == '\t')
            calx__buf_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80))
            calx__buf_printf(b, "\\x%02x", c);
        else
            putch(b, (char)c);
    }
    putch(b, q);
}

/* Python's repr of a float: the shortest text that reads back the same. */
static void repr_double(calx_buf *b, double d)
{
    if (isnan(d)) {
        calx__buf_puts(b, "nan");
        return;
    }
    if (isinf(d)) {
        calx__buf_puts(b, d < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[40];
    calx__double_shortest(tmp, sizeof tmp, d);
    calx__buf_puts(b, tmp);
    if (!strpbrk(tmp, ".en"))
        calx__buf_puts(b, ".0");
}

void calx__repr_str(calx_buf *b, const char *s, size_t n)
{
    repr_str(b, s, n, false);
}

void calx__repr_real(calx_buf *b, double d)
{
    repr_double(b, d);
}

/* An ARRAY as Python prints a list: [1, 2], ['a', None], [Decimal('1.10')];
 * an enum array's C values as its members (e: the column's enum type, or
 * NULL), a JSON array's texts as strings (as a JSON field shows). */
static void repr_array(calx_buf *b, const calx_value *v, const calx_enum *e_type)
{
    putch(b, '[');
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        if (i)
            calx__buf_puts(b, ", ");
        switch (e->type) {
        case CALX_NULL: calx__buf_puts(b, "None"); break;
        case CALX_INT:
            if (e_type)
                calx__enum_repr(b, e_type, e->u.i);
            else
                calx__buf_printf(b, "%" PRId64, e->u.i);
            break;
        case CALX_REAL: repr_double(b, e->u.d); break;
        case CALX_BOOL: calx__buf_puts(b, e->u.b ? "True" : "False"); break;
        case CALX_TEXT:
        case CALX_JSON: repr_str(b, e->u.s.ptr, e->u.s.len, false); break;
        default: calx__value_rich_repr(b, e); break;
        }
    }
    putch(b, ']');
}

static void repr_field(calx_buf *b, const calx_model *m, const calx_field *f, const void *s)
{
    if (calx__field_is_null(f, s)) {
        calx__buf_puts(b, "None");
        return;
    }
    const void *p = calx__field_ptr(s, f);
    switch (f->type) {
    case CALX_F_INT32:
    case CALX_F_INT64:
        calx__buf_printf(b, "%" PRId64, calx__field_int(f, p));
        break;
    case CALX_F_DOUBLE:
        repr_double(b, calx__field_double(f, p));
        break;
    case CALX_F_BOOL:
        calx__buf_puts(b, calx__field_bool(f, p) ? "True" : "False");
        break;
    case CALX_F_TEXT: {
        const char *t = *(const char *const *)p;
        repr_str(b, t, strlen(t), false);
        break;
    }
    case CALX_F_BLOB: {
        const calx_bytes *bb = p;
        repr_str(b, bb->data, bb->len, true);
        break;
    }
    case CALX_F_JSON: {
        /* SQLModel shows the parsed value; calx keeps the text. */
        const char *t = *(const char *const *)p;
        repr_str(b, t, strlen(t), false);
        break;
    }
    case CALX_F_TIMESTAMP:
        calx__timestamp_repr(b, calx__field_int(f, p));
        break;
    case CALX_F_ARRAY: {
        const calx_column *c = &m->table.columns[f - m->fields];
        repr_array(b, p, c->array_of == CALX_COL_ENUM ? c->enum_type : NULL);
        break;
    }
    case CALX_F_JSON_VALUE:
        /* SQLModel shows the parsed value: {'a': [1, True]}. */
        calx__json_repr(b, *(struct json_t *const *)p);
        break;
    default:
        calx__rich_repr(b, m, f, p);
        break;
    }
}

size_t calx_obj_repr(const void *obj, char *out, size_t size)
{
    calx_obj *o = calx__obj_check(obj);
    calx_buf b = { 0 };
    
    if (!o) {
        calx__buf_puts(&b, "<not a calx object>");
    } else {
        const calx_model *m = o->model;
        calx__buf_printf(&b, "%s(", m->name);
        for (size_t i = 0; i < m->nfields; i++) {
            calx__buf_printf(&b, "%s%s=", i ? ", " : "", m->fields[i].name);
            repr_field(&b, m, &m->fields[i], obj);
        }
        putch(&b, ')');
    }
    size_t len = b.len;
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        if (n)
            memcpy(out, b.p, n);
        out[n] = '\0';
    }
    calx__buf_free(&b);
    return len;
}

void calx_obj_print(const void *obj, FILE *f)
{
    char small[256];
    size_t n = calx_obj_repr(obj, small, sizeof small);
    if (n < sizeof small) {
        fputs(small, f);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) {
        fputs(small, f);
        return;
    }
    calx_obj_repr(obj, big, n + 1);
    fputs(big, f);
    free(big);
}

void calx_obj_println(const void *obj, FILE *f)
{
    calx_obj_print(obj, f);
    fputc('\n', f);
}
