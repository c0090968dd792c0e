/* SPDX-License-Identifier: MIT */
/* calx — the async ORM and SQL toolkit for C. The umbrella header. */
#ifndef CALX_H
#define CALX_H

#include "calx/version.h"
#include "calx/error.h"
#include "calx/log.h"
#include "calx/loop.h"
#include "calx/future.h"
#include "calx/task.h"
#include "calx/url.h"
#include "calx/types.h"
#include "calx/value.h"
#include "calx/result.h"
#include "calx/engine.h"
#include "calx/connection.h"
#include "calx/schema.h"
#include "calx/sql.h"
#include "calx/model.h"
#include "calx/session.h"

#endif
