/* SPDX-License-Identifier: MIT */
/* Values: what is not inline in calx/value.h. */
#include "calx/value.h"
#include "core/value_int.h"

const char *calx_type_name(calx_type t)
{
    switch (t) {
    case CALX_NULL: return "NULL";
    case CALX_INT: return "INTEGER";
    case CALX_REAL: return "REAL";
    case CALX_TEXT: return "TEXT";
    case CALX_BLOB: return "BLOB";
    case CALX_BOOL: return "BOOLEAN";
    case CALX_DECIMAL: return "DECIMAL";
    case CALX_UUID: return "UUID";
    case CALX_DATE: return "DATE";
    case CALX_TIME: return "TIME";
    case CALX_DATETIME: return "DATETIME";
    case CALX_TIMESTAMP: return "TIMESTAMP";
    case CALX_INTERVAL: return "INTERVAL";
    case CALX_JSON: return "JSON";
    }
    return "UNKNOWN";
}

/* The decimal's scale sits in the padding after the type, so a value is
 * still three words: rows hold one per column. */
_Static_assert(sizeof(calx_value) <= 24 || sizeof(void *) < 8,
               "calx_value grew past three words");

int calx__value_parse(calx_type t, const char *s, size_t n, calx_value *out, calx_error *err)
{
    int rc;
    switch (t) {
    case CALX_DECIMAL: {
        calx_decimal d;
        if ((rc = calx_decimal_parse(s, n, &d, err)) == 0)
            *out = calx_value_decimal(d);
        return rc;
    }
    case CALX_UUID: {
        calx_uuid u;
        if ((rc = calx_uuid_parse(s, n, &u, err)) == 0)
            *out = calx_value_uuid(u);
        return rc;
    }
    case CALX_INTERVAL: {
        calx_interval iv;
        if ((rc = calx_interval_parse(s, n, &iv, err)) == 0)
            *out = calx_value_interval(iv);
        return rc;
    }
    case CALX_DATE: {
        calx_date d;
        if ((rc = calx_date_parse(s, n, &d, err)) == 0)
            *out = calx_value_date(d);
        return rc;
    }
    case CALX_TIME:
    case CALX_DATETIME:
    case CALX_TIMESTAMP: {
        int64_t i;
        rc = t == CALX_TIME       ? calx_time_parse(s, n, &i, err)
             : t == CALX_DATETIME ? calx_datetime_parse(s, n, &i, err)
                                  : calx_timestamp_parse(s, n, &i, err);
        if (rc == 0)
            *out = calx__value_i(t, i);
        return rc;
    }
    case CALX_JSON:
        *out = calx_textn(s, n);
        out->type = CALX_JSON;
        return 0;
    default:
        return calx_error_set(err, CALX_ERR_ARGUMENT, "%s values are not parsed from text",
                              calx_type_name(t));
    }
}
