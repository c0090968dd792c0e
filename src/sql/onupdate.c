/* SPDX-License-Identifier: MIT */
/* calx_column.onupdate (SQLAlchemy's Column(onupdate=...)): the factory
 * writes the column's plain C type, which is turned into the value an
 * UPDATE binds. */
#include <stdlib.h>

#include "sql/onupdate.h"

int calx__onupdate_value(const calx_column *c, calx_value *out, void **owned, calx_error *err)
{
    union {
        int32_t i32;
        int64_t i64;
        double d;
        bool b;
        const char *s;
        calx_decimal dec;
        calx_uuid uuid;
        calx_interval iv;
        int e;
    } u = { 0 };
    *owned = NULL;
    *out = calx_null();
    if (c->type == CALX_COL_BLOB)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "column %s: onupdate is not supported on a BLOB column", c->name);
    int rc = c->onupdate(&u, err);
    if (rc)
        return rc;
    switch (c->type) {
    case CALX_COL_INT32: *out = calx_int(u.i32); break;
    case CALX_COL_INT64: *out = calx_int(u.i64); break;
    case CALX_COL_DOUBLE: *out = calx_real(u.d); break;
    case CALX_COL_BOOL: *out = calx_bool(u.b); break;
    case CALX_COL_TEXT:
    case CALX_COL_JSON:
        *owned = (void *)u.s;
        if (u.s)
            *out = c->type == CALX_COL_JSON ? calx_value_json(u.s) : calx_text(u.s);
        break;
    case CALX_COL_TIMESTAMP: *out = calx_value_timestamp(u.i64); break;
    case CALX_COL_DECIMAL: *out = calx_value_decimal(u.dec); break;
    case CALX_COL_UUID: *out = calx_value_uuid(u.uuid); break;
    case CALX_COL_DATE: *out = calx_value_date(u.i32); break;
    case CALX_COL_TIME: *out = calx_value_time(u.i64); break;
    case CALX_COL_DATETIME: *out = calx_value_datetime(u.i64); break;
    case CALX_COL_INTERVAL: *out = calx_value_interval(u.iv); break;
    case CALX_COL_ENUM:
        if (!c->enum_type || u.e < 0 || (size_t)u.e >= c->enum_type->n)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "column %s: onupdate gave %d, no value of its enum", c->name,
                                  u.e);
        *out = calx_text(c->enum_type->names[u.e]);
        break;
    default:
        return calx_error_set(err, CALX_ERR_ARGUMENT, "column %s: onupdate on a column of type %d",
                              c->name, (int)c->type);
    }
    return 0;
}
