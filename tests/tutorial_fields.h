/* SPDX-License-Identifier: MIT */
/* The field lists of the SQLModel tutorial's Team and Hero, shared by the
 * tests' models with relationships (rel_models.h) and without (models.h). */
#ifndef CALX_TESTS_TUTORIAL_FIELDS_H
#define CALX_TESTS_TUTORIAL_FIELDS_H

#define Team_FIELDS(F, M)                                                     \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, name,         TEXT,      REQUIRED, .index = true)                    \
    F(M, headquarters, TEXT,      REQUIRED)
#define Hero_FIELDS(F, M)                                                     \
    F(M, id,          OPT_INT64, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED, .index = true)                     \
    F(M, secret_name, TEXT,      REQUIRED)                                    \
    F(M, age,         OPT_INT64, NONE,     .index = true)                     \
    F(M, team_id,     OPT_INT64, NONE,     .foreign_key = "team.id")
#endif
