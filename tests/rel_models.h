/* SPDX-License-Identifier: MIT */
/* The models of the relationship tests: the tutorial's Team and Hero with
 * their relationships (the same fields as tests/models.h, which this
 * replaces: include it first), SQLModel's Mission and HeroMissionLink
 * (many-to-many through a link model with a field of its own), a hero's
 * Passport (one-to-one), and Employee (self-referential: a manager and
 * reports). The including .c file defines them (rel_models_define.h). */
#ifndef CALX_TESTS_REL_MODELS_H
#define CALX_TESTS_REL_MODELS_H
#define CALX_TESTS_MODELS_H /* tests/models.h declares Team and Hero without relationships */

#include "calx.h"
#include "tutorial_fields.h"

#define Team_RELATIONS(R, M)                                                  \
    R(M, heroes, Hero, ONE_TO_MANY, .back_populates = "team",                 \
      .cascade = "all, delete-orphan", .order_by = "id")

#define Hero_RELATIONS(R, M)                                                  \
    R(M, team, Team, MANY_TO_ONE, .back_populates = "heroes")                 \
    R(M, missions, Mission, MANY_TO_MANY, .back_populates = "heroes",         \
      .link = &HeroMissionLink_model, .order_by = "id")                       \
    R(M, passport, Passport, ONE_TO_ONE, .back_populates = "hero",            \
      .cascade = "all, delete-orphan")

#define Mission_FIELDS(F, M)                                                  \
    F(M, id,     OPT_INT64, NONE,     .primary_key = true)                    \
    F(M, title,  TEXT,      REQUIRED)
#define Mission_RELATIONS(R, M)                                               \
    R(M, heroes, Hero, MANY_TO_MANY, .back_populates = "missions",            \
      .link = &HeroMissionLink_model, .order_by = "id")

#define HeroMissionLink_FIELDS(F, M)                                          \
    F(M, hero_id,     OPT_INT64, NONE,  .primary_key = true,                  \
                                        .foreign_key = "hero.id")             \
    F(M, mission_id,  OPT_INT64, NONE,  .primary_key = true,                  \
                                        .foreign_key = "mission.id")          \
    F(M, is_leader,   BOOL,      DEFAULT(false))

#define Passport_FIELDS(F, M)                                                 \
    F(M, id,       OPT_INT64, NONE,     .primary_key = true)                  \
    F(M, number,   TEXT,      REQUIRED)                                       \
    F(M, hero_id,  OPT_INT64, NONE,     .foreign_key = "hero.id", .unique = true)
#define Passport_RELATIONS(R, M)                                              \
    R(M, hero, Hero, MANY_TO_ONE, .back_populates = "passport")

#define Employee_FIELDS(F, M)                                                 \
    F(M, id,          OPT_INT64, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED)                                    \
    F(M, manager_id,  OPT_INT64, NONE,     .foreign_key = "employee.id")
#define Employee_RELATIONS(R, M)                                              \
    R(M, manager, Employee, MANY_TO_ONE, .back_populates = "reports")         \
    R(M, reports, Employee, ONE_TO_MANY, .back_populates = "manager",         \
      .order_by = "name")

CALX_MODEL_WITH_RELATIONS(Team, "team")
CALX_MODEL_WITH_RELATIONS(Hero, "hero")
CALX_MODEL_WITH_RELATIONS(Mission, "mission")
CALX_MODEL(HeroMissionLink, "heromissionlink")
CALX_MODEL_WITH_RELATIONS(Passport, "passport")
CALX_MODEL_WITH_RELATIONS(Employee, "employee")

/* In the one .c file that includes this: the models' data, and a metadata
 * with their tables. */
#define REL_MODELS_DEFINE                                                     \
    CALX_MODEL_DEFINE_WITH_RELATIONS(Team, "team")                            \
    CALX_MODEL_DEFINE_WITH_RELATIONS(Hero, "hero")                            \
    CALX_MODEL_DEFINE_WITH_RELATIONS(Mission, "mission")                      \
    CALX_MODEL_DEFINE(HeroMissionLink, "heromissionlink")                     \
    CALX_MODEL_DEFINE_WITH_RELATIONS(Passport, "passport")                    \
    CALX_MODEL_DEFINE_WITH_RELATIONS(Employee, "employee")

static inline calx_metadata *rel_models_metadata(void)
{
    calx_error e;
    calx_metadata *m = calx_metadata_new(&e);
    const calx_table *t[] = { CALX_TABLE(Team), CALX_TABLE(Hero), CALX_TABLE(Mission),
                              CALX_TABLE(HeroMissionLink), CALX_TABLE(Passport),
                              CALX_TABLE(Employee) };
    for (size_t i = 0; m && i < sizeof t / sizeof t[0]; i++)
        if (calx_metadata_add(m, t[i], &e))
            return NULL;
    return m;
}

#endif
