/* SPDX-License-Identifier: MIT */
/* The one out-of-memory error: every allocation failure in calx reports
 * through calx__nomem, so its code and wording are written once. */
#ifndef CALX_CORE_NOMEM_H
#define CALX_CORE_NOMEM_H

#include "calx/error.h"

/* Fills err (which may be NULL) with CALX_ERR_NOMEM, "out of memory" or
 * "out of memory <doing>", doing a printf format with its arguments
 * ("loading %s.%s", model, field; NULL: the first), and returns
 * CALX_ERR_NOMEM, so a caller can `return calx__nomem(err, "...")`. */
int calx__nomem(calx_error *err, const char *doing, ...)
    __attribute__((format(printf, 2, 3)));

#endif
