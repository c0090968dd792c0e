/* SPDX-License-Identifier: MIT */
/* The SQLModel tutorial's models, and one with every field kind, shared
 * by the ORM tests. */
#ifndef CALX_TESTS_MODELS_H
#define CALX_TESTS_MODELS_H

#include "calx.h"
#include "tutorial_fields.h"

CALX_MODEL(Team, "team")
CALX_MODEL(Hero, "hero")

#define Gadget_FIELDS(F, M)                                                   \
    F(M, id,       OPT_INT64,     NONE,              .primary_key = true)     \
    F(M, code,     TEXT,          REQUIRED,          .max_length = 8,         \
                                                     .unique = true)          \
    F(M, power,    INT32,         DEFAULT(10),       .ge = CALX_SOME(0),      \
                                                     .le = CALX_SOME(100))    \
    F(M, weight,   DOUBLE,        DEFAULT(1.5))                               \
    F(M, active,   BOOL,          DEFAULT(true))                              \
    F(M, serial,   INT64,         REQUIRED)                                   \
    F(M, note,     OPT_TEXT,      NONE)                                       \
    F(M, ratio,    OPT_DOUBLE,    NONE)                                       \
    F(M, flag,     OPT_BOOL,      NONE)                                       \
    F(M, small,    OPT_INT32,     NONE)                                       \
    F(M, data,     OPT_BLOB,      NONE)                                       \
    F(M, made_at,  TIMESTAMP,     FACTORY(calx_now_utc))                      \
    F(M, seen_at,  OPT_TIMESTAMP, NONE)
CALX_MODEL(Gadget, "gadget")

#endif
