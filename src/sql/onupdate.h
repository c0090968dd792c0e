/* SPDX-License-Identifier: MIT */
/* A column's onupdate factory (calx_column.onupdate), called and its result
 * made a value of the column's type. Shared by update.c (Core's UPDATE sets
 * it) and the ORM's flush (src/orm/flush.c), which both bind the value. */
#ifndef CALX_SQL_ONUPDATE_H
#define CALX_SQL_ONUPDATE_H

#include "calx/schema.h"

/* Calls c->onupdate (which must not be NULL) and writes its value, of c's
 * type, to *out. A text or JSON the factory made (malloc) is put in *owned,
 * to free once *out is no longer used; *owned is NULL otherwise. CALX_OK;
 * the factory's error; CALX_ERR_ARGUMENT for a BLOB column (calx_metadata_add
 * refuses one) or an ENUM value out of range. */
int calx__onupdate_value(const calx_column *c, calx_value *out, void **owned, calx_error *err);

#endif
