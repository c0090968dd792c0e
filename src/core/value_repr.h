/* SPDX-License-Identifier: MIT */
/* Python's repr of the richer values (calx/types.h), as SQLAlchemy's echo
 * log prints bound parameters and SQLModel's repr prints fields: shared by
 * the engine's echo (src/engine/echo.c) and the ORM's repr
 * (src/orm/repr.c), which dispatch on the value's type and call these.
 * Each appends to b (a failed allocation marks b, as every append does).
 * A date, time or date-time outside what Python can hold (years 1-9999, a
 * time of day outside 0-24 h) prints as the formatters write it, quoted:
 * 'out of range'. */
#ifndef CALX_CORE_VALUE_REPR_H
#define CALX_CORE_VALUE_REPR_H

#include <stdbool.h>

#include "calx/types.h"
#include "calx/value.h"
#include "core/buf.h"

/* Decimal('1.10'), in Python's own notation: Decimal('1E-7') for
 * 0.0000001, whose exponent is below -6. */
void calx__decimal_repr(calx_buf *b, calx_decimal d);
/* UUID('1b4e28ba-2fa1-11d2-883f-0016d3cca427') */
void calx__uuid_repr(calx_buf *b, calx_uuid u);
/* datetime.date(2024, 2, 29) */
void calx__date_repr(calx_buf *b, calx_date d);
/* datetime.time(13, 45), datetime.time(13, 45, 5), datetime.time(13, 45,
 * 0, 250000): trailing zero seconds and microseconds left off. */
void calx__time_repr(calx_buf *b, calx_time t);
/* datetime.datetime(2024, 2, 29, 13, 45, 0, 250000), trailing zeros left
 * off as for a time: datetime.datetime(2024, 2, 29, 13, 45). */
void calx__datetime_repr(calx_buf *b, calx_datetime dt);
/* The instant in UTC: datetime.datetime(2024, 2, 29, 8, 15,
 * tzinfo=datetime.timezone.utc). */
void calx__timestamp_repr(calx_buf *b, calx_timestamp ts);
/* With no months, Python's timedelta, normalised as Python normalises it
 * (days, then seconds 0-86399, then microseconds):
 * datetime.timedelta(days=-1, seconds=86399), datetime.timedelta(0). With
 * months, which a timedelta cannot hold, the ISO 8601 text quoted as a
 * Python string: 'P1M3D'. */
void calx__interval_repr(calx_buf *b, calx_interval iv);

/* The repr of a value of the richer types (DECIMAL ... INTERVAL), by the
 * functions above; false, appending nothing, for any other type. */
bool calx__value_rich_repr(calx_buf *b, const calx_value *v);

#endif
