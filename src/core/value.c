/* SPDX-License-Identifier: MIT */
/* Values: what is not inline in calx/value.h. */
#include "calx/value.h"

const char *calx_type_name(calx_type t)
{
    switch (t) {
    case CALX_NULL: return "NULL";
    case CALX_INT: return "INTEGER";
    case CALX_REAL: return "REAL";
    case CALX_TEXT: return "TEXT";
    case CALX_BLOB: return "BLOB";
    case CALX_BOOL: return "BOOLEAN";
    }
    return "UNKNOWN";
}
