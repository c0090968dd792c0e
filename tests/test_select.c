/* SPDX-License-Identifier: MIT */
/* SELECT beyond one table: several entities and expressions in the
 * columns clause with SQLAlchemy's labels, joins (the ON clause from the
 * foreign key, or given), aliases, DISTINCT, GROUP BY / HAVING, NULLS
 * FIRST / LAST, derived tables, scalar / EXISTS / IN subqueries with
 * auto-correlation, CTEs (WITH RECURSIVE too) and UNION / INTERSECT /
 * EXCEPT. For each construct: the text and parameters it compiles to on
 * SQLite and on PostgreSQL (the expected strings are what SQLAlchemy
 * 1.4.46 renders for the same statement, and the lines of
 * ../shared/reference/sqlmodel_relationships.echo.txt where it has them),
 * and the rows the database returns (a SQLite file, or a fresh schema on
 * the server CALX_TEST_URL names: tests/backend.h). Then the mistakes,
 * each with the error that names its cause, and an out-of-memory sweep. */
#include <stdint.h>

#include "backend.h"
#include "calx.h"
#include "sql/compiler.h"
#include "sql/select_int.h"
#include "test.h"
#include "alloc_fail.h"
#include "sql_expect.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

/* ---- tables: the reference's, a hierarchy, and a table with two keys to
 * one other ---- */

static const calx_column team_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
    { .name = "headquarters", .type = CALX_COL_TEXT },
};
static const calx_table team = { .name = "team", .columns = team_cols, .ncolumns = 3 };

static const calx_column hero_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
    { .name = "secret_name", .type = CALX_COL_TEXT },
    { .name = "age", .type = CALX_COL_INT64, .nullable = true },
    { .name = "team_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "team.id" },
};
static const calx_table hero = { .name = "hero", .columns = hero_cols, .ncolumns = 5 };

static const calx_column mission_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "title", .type = CALX_COL_TEXT },
};
static const calx_table mission = { .name = "mission", .columns = mission_cols, .ncolumns = 2 };

static const calx_column link_cols[] = {
    { .name = "hero_id", .type = CALX_COL_INT64, .primary_key = true, .foreign_key = "hero.id" },
    { .name = "mission_id", .type = CALX_COL_INT64, .primary_key = true,
      .foreign_key = "mission.id" },
    { .name = "is_leader", .type = CALX_COL_BOOL },
};
static const calx_table hmlink = { .name = "heromissionlink", .columns = link_cols, .ncolumns = 3 };

static const calx_column employee_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
    { .name = "manager_id", .type = CALX_COL_INT64, .nullable = true,
      .foreign_key = "employee.id" },
};
static const calx_table employee = { .name = "employee", .columns = employee_cols, .ncolumns = 3 };

/* "match" is a reserved word on SQLite: quoted there. */
static const calx_column match_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "home_id", .type = CALX_COL_INT64, .foreign_key = "team.id" },
    { .name = "away_id", .type = CALX_COL_INT64, .foreign_key = "team.id" },
};
static const calx_table match = { .name = "match", .columns = match_cols, .ncolumns = 3 };

#define T(c) calx_col_named(&team, #c)
#define H(c) calx_col_named(&hero, #c)
#define M(c) calx_col_named(&mission, #c)
#define L(c) calx_col_named(&hmlink, #c)
#define E(c) calx_col_named(&employee, #c)
#define X(c) calx_col_named(&match, #c)
#define F(f, c) calx_from_col((f), #c)

/* The FROM items the cases share, made in main (they outlive every select
 * that uses them, as calx_from requires). */
static calx_from *mgr, *home, *away, *team_anon, *emp_e;
static calx_from *older_sq, *anon_sq, *dup_sq, *names_sq, *older_heroes, *counts_sq, *oldest_sq;
static calx_from *older_cte, *cte_a, *cte_b, *heist_cte, *chain;

static void make_froms(void)
{
    mgr = calx_alias_new(&employee, "mgr");
    home = calx_alias_new(&team, "home");
    away = calx_alias_new(&team, "away");
    team_anon = calx_alias_new(&team, NULL);
    emp_e = calx_alias_new(&employee, "e");
    older_sq = calx_subquery_new(
        calx_select_where(calx_select_columns(H(team_id), H(age)), calx_gt(H(age), 30)), "older");
    anon_sq = calx_subquery_new(
        calx_select_where(calx_select_columns(H(id), H(name)), calx_gt(H(age), 1)), NULL);
    dup_sq = calx_subquery_new(
        calx_select_join(calx_select_columns(H(id), T(id)), &team, NULL, CALX_JOIN_INNER), NULL);
    older_heroes = calx_subquery_new(calx_select_where(calx_select_new(&hero), calx_gt(H(age), 30)),
                                     NULL);
    calx_select *counts = calx_select_columns(H(team_id), calx_label(calx_count(H(id)), "n"));
    counts_sq = calx_subquery_new(calx_select_group_by(counts, H(team_id)), NULL);
    calx_select *oldest = calx_select_columns(H(team_id), calx_max(H(age)));
    oldest_sq = calx_subquery_new(calx_select_group_by(oldest, H(team_id)), NULL);
    names_sq = calx_subquery_new(
        calx_union(calx_select_columns(H(name)), calx_select_columns(T(name))), "names");
    older_cte = calx_cte_new(
        calx_select_where(calx_select_columns(H(team_id), H(age)), calx_gt(H(age), 30)), "older");
    cte_a = calx_cte_new(calx_select_where(calx_select_columns(H(id)), calx_gt(H(age), 1)), "a");
    cte_b = calx_cte_new(
        calx_select_where(calx_select_columns(F(cte_a, id)), calx_lt(F(cte_a, id), 9)), "b");
    heist_cte = calx_cte_new(
        calx_select_where(calx_select_columns(M(id)), calx_eq(M(title), "Heist")), NULL);
    chain = calx_cte_recursive_new(
        calx_select_where(calx_select_columns(E(id), E(name), E(manager_id)),
                          calx_is_null(E(manager_id))),
        "chain");
    calx_select *down = calx_select_columns(F(emp_e, id), F(emp_e, name), F(emp_e, manager_id));
    calx_select_join_from(down, chain, calx_eq(F(emp_e, manager_id), F(chain, id)),
                          CALX_JOIN_INNER);
    calx_cte_union_all(chain, down);
}

static void free_froms(void)
{
    calx_from *all[] = { mgr,       home,    away,      team_anon, emp_e,  older_sq, anon_sq,
                         dup_sq,    names_sq, older_cte, cte_a,    cte_b,  heist_cte, chain,
                         older_heroes, counts_sq, oldest_sq };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        calx_from_free(all[i]);
}

/* ---- the statements, one builder each ---- */

typedef calx_select *(*builder)(void);

static calx_select *q_multi(void)
{
    calx_select *q = calx_select_add_entity(calx_select_new(&hero), &team);
    return calx_select_where(q, calx_eq(H(team_id), T(id)));
}

static calx_select *q_join(void)
{
    calx_select *q = calx_select_add_entity(calx_select_new(&hero), &team);
    calx_select_join(q, &team, NULL, CALX_JOIN_INNER);
    return calx_select_where(q, calx_eq(T(name), "Preventers"));
}

static calx_select *q_louter(void)
{
    calx_select *q = calx_select_add_entity(calx_select_new(&hero), &team);
    calx_select_join(q, &team, NULL, CALX_JOIN_LEFT);
    return calx_select_order_by(q, H(id), CALX_ASC);
}

static calx_select *q_full(void)
{
    calx_select *q = calx_select_columns(H(name), T(name));
    calx_select_join(q, &team, NULL, CALX_JOIN_FULL);
    calx_select_order_by(q, H(name), CALX_ASC | CALX_NULLS_LAST);
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_team_join_hero(void)
{
    calx_select *q = calx_select_join(calx_select_new(&team), &hero, NULL, CALX_JOIN_INNER);
    return calx_select_order_by(q, H(id), CALX_ASC);
}

static calx_select *q_explicit_on(void)
{
    calx_select *q = calx_select_columns(T(name), H(name));
    calx_select_join(q, &hero, calx_eq(H(team_id), T(id)), CALX_JOIN_INNER);
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_chain(void)
{
    calx_select *q = calx_select_from(calx_select_columns(H(name), M(title)), &hero);
    calx_select_join(q, &hmlink, NULL, CALX_JOIN_INNER);
    calx_select_join(q, &mission, NULL, CALX_JOIN_INNER);
    calx_select_where(q, calx_eq(M(title), "Rescue"));
    return calx_select_order_by(q, H(name), CALX_ASC);
}

static calx_select *q_select_from(void)
{
    calx_select *q = calx_select_from(calx_select_columns(H(name)), &team);
    calx_select_join(q, &hero, NULL, CALX_JOIN_INNER);
    return calx_select_where(q, calx_eq(T(name), "Preventers"));
}

static calx_select *q_ids(void)
{
    calx_select *q = calx_select_columns(H(id), T(id), E(id));
    calx_select_where(q, calx_eq(H(team_id), T(id)));
    calx_select_where(q, calx_eq(E(id), H(id)));
    return calx_select_order_by(q, H(id), CALX_ASC);
}

static calx_select *q_twice(void)
{
    return calx_select_where(calx_select_columns(H(id), H(id), H(name)), calx_eq(H(id), 1));
}

static calx_select *q_exprs(void)
{
    calx_select *q = calx_select_columns(H(name), calx_gt(H(age), 40), calx_gt(H(age), 30));
    return calx_select_order_by(q, H(id), CALX_ASC);
}

static calx_select *q_distinct(void)
{
    calx_select *q = calx_select_distinct(calx_select_columns(H(team_id)));
    return calx_select_order_by(q, H(team_id), CALX_NULLS_FIRST);
}

static calx_select *q_group(void)
{
    calx_select *q = calx_select_group_by(calx_select_columns(H(team_id)), H(team_id));
    calx_select_having(q, calx_gt(H(team_id), 1));
    return calx_select_order_by(q, H(team_id), CALX_ASC);
}

static calx_select *q_nulls(void)
{
    calx_select *q = calx_select_columns(H(name));
    calx_select_order_by(q, H(age), CALX_DESC | CALX_NULLS_LAST);
    return calx_select_order_by(q, H(name), CALX_NULLS_FIRST);
}

static calx_select *q_selfjoin(void)
{
    calx_select *q = calx_select_columns(E(name), F(mgr, name));
    calx_select_join_from(q, mgr, calx_eq(E(manager_id), F(mgr, id)), CALX_JOIN_INNER);
    return calx_select_order_by(q, E(id), CALX_ASC);
}

static calx_select *q_twokeys(void)
{
    calx_select *q = calx_select_columns(X(id), F(home, name), F(away, name));
    calx_select_join_from(q, home, calx_eq(X(home_id), F(home, id)), CALX_JOIN_INNER);
    calx_select_join_from(q, away, calx_eq(X(away_id), F(away, id)), CALX_JOIN_INNER);
    return calx_select_order_by(q, X(id), CALX_ASC);
}

static calx_select *q_anonalias(void)
{
    calx_select *q = calx_select_add_entity_from(calx_select_new(&hero), team_anon);
    calx_select_join_from(q, team_anon, NULL, CALX_JOIN_LEFT);
    return calx_select_order_by(q, H(id), CALX_ASC);
}

static calx_select *q_derived(void)
{
    calx_select *q = calx_select_columns(T(name), F(older_sq, age));
    calx_select_join_from(q, older_sq, calx_eq(F(older_sq, team_id), T(id)), CALX_JOIN_INNER);
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_derived_anon(void)
{
    calx_select *q = calx_select_columns(F(anon_sq, name));
    calx_select_where(q, calx_gt(F(anon_sq, id), 1));
    return calx_select_order_by(q, F(anon_sq, name), CALX_ASC);
}

static calx_select *q_derived_dup(void)
{
    calx_select *q = calx_select_add_entity_from(calx_select_columns_n(NULL, 0), dup_sq);
    return calx_select_order_by(q, calx_from_col_at(dup_sq, 0), CALX_ASC);
}

static calx_select *q_derived_fk(void)
{
    calx_select *q = calx_select_columns(T(name), F(older_heroes, name));
    calx_select_join_from(q, older_heroes, NULL, CALX_JOIN_INNER);
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_scalar(void)
{
    calx_select *first = calx_select_columns(H(name));
    calx_select_where(first, calx_eq(H(team_id), T(id)));
    calx_select_limit(calx_select_order_by(first, H(id), CALX_ASC), 1);
    calx_select *q = calx_select_columns(T(name), calx_scalar_subquery(first));
    return calx_select_order_by(q, T(id), CALX_ASC);
}

static calx_select *q_scalar_where(void)
{
    calx_select *age =
        calx_select_where(calx_select_columns(H(age)), calx_eq(H(name), "Black Lion"));
    return calx_select_where(calx_select_columns(H(name)),
                             calx_gt(H(age), calx_scalar_subquery(age)));
}

/* EXISTS (a hero over 40 in the team). */
static calx_expr *old_hero_in_team(void)
{
    calx_select *q = calx_select_where(calx_select_columns(H(id)), calx_eq(H(team_id), T(id)));
    return calx_exists(calx_select_where(q, calx_gt(H(age), 40)));
}

static calx_select *q_exists(void)
{
    return calx_select_where(calx_select_columns(T(name)), old_hero_in_team());
}

static calx_select *q_not_exists(void)
{
    calx_select *q = calx_select_where(calx_select_columns(T(name)), calx_not(old_hero_in_team()));
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_exists_and(void)
{
    return calx_select_where(calx_select_columns(T(name)),
                             calx_and(old_hero_in_team(), calx_gt(T(id), 1)));
}

static calx_expr *in_land_teams(void)
{
    return calx_in_select(H(team_id), calx_select_where(calx_select_columns(T(id)),
                                                        calx_like(T(name), "%land")));
}

static calx_select *q_in_select(void)
{
    calx_select *q = calx_select_where(calx_select_columns(H(name)), in_land_teams());
    return calx_select_order_by(q, H(name), CALX_ASC);
}

static calx_select *q_not_in_select(void)
{
    calx_select *q = calx_select_where(calx_select_columns(H(name)), calx_not(in_land_teams()));
    return calx_select_order_by(q, H(name), CALX_ASC);
}

static calx_select *q_exists_col(void)
{
    return calx_select_order_by(calx_select_columns(T(name), old_hero_in_team()), T(id),
                                CALX_ASC);
}

static calx_select *q_cte(void)
{
    calx_select *q = calx_select_columns(T(name), F(older_cte, age));
    calx_select_join_from(q, older_cte, calx_eq(F(older_cte, team_id), T(id)), CALX_JOIN_INNER);
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_two_ctes(void)
{
    calx_select *q = calx_select_columns(F(cte_b, id), H(name));
    calx_select_join(q, &hero, calx_eq(H(id), F(cte_b, id)), CALX_JOIN_INNER);
    calx_select_where(q, calx_lt(H(age), 100));
    return calx_select_order_by(q, F(cte_b, id), CALX_ASC);
}

static calx_select *q_cte_where(void)
{
    calx_select *heist = calx_select_columns(F(heist_cte, id));
    calx_select *links = calx_select_where(calx_select_columns(L(hero_id)),
                                           calx_in_select(L(mission_id), heist));
    return calx_select_where(calx_select_columns(H(name)), calx_in_select(H(id), links));
}

static calx_select *q_recursive(void)
{
    return calx_select_order_by(calx_select_columns(F(chain, name)), F(chain, id), CALX_ASC);
}

static calx_select *q_union(void)
{
    return calx_union(calx_select_where(calx_select_columns(H(name)), calx_gt(H(age), 40)),
                      calx_select_columns(T(name)));
}

static calx_select *q_union_all_order(void)
{
    calx_select *q = calx_union_all(calx_select_columns(H(name)), calx_select_columns(T(name)));
    calx_select_order_by(q, H(name), CALX_DESC);
    return calx_select_offset(calx_select_limit(q, 3), 1);
}

static calx_select *q_intersect(void)
{
    return calx_intersect(calx_select_columns(H(id)),
                          calx_select_where(calx_select_columns(H(id)), calx_gt(H(age), 40)));
}

static calx_select *q_except(void)
{
    return calx_except(calx_select_columns(H(id)),
                       calx_select_where(calx_select_columns(H(id)), calx_gt(H(age), 40)));
}

static calx_select *q_union3(void)
{
    return calx_union(calx_union(calx_select_columns(H(id)), calx_select_columns(T(id))),
                      calx_select_columns(M(id)));
}

static calx_select *q_union_mixed(void)
{
    return calx_union(calx_intersect(calx_select_columns(H(id)), calx_select_columns(T(id))),
                      calx_select_columns(M(id)));
}

static calx_select *q_union_sub(void)
{
    calx_select *q = calx_select_columns(F(names_sq, name));
    calx_select_where(q, calx_like(F(names_sq, name), "%an%"));
    return calx_select_order_by(q, F(names_sq, name), CALX_ASC);
}

static calx_select *q_union_limited_member(void)
{
    calx_select *first = calx_select_order_by(calx_select_columns(H(id)), H(id), CALX_ASC);
    return calx_union(calx_select_limit(first, 2), calx_select_columns(T(id)));
}

/* The reference's "aggregates" step. */
static calx_select *q_agg(void)
{
    calx_select *q = calx_select_columns(T(name), calx_count(H(id)), calx_avg(H(age)));
    calx_select_join(q, &hero, calx_eq(H(team_id), T(id)), CALX_JOIN_INNER);
    calx_select_group_by(q, T(name));
    calx_select_having(q, calx_ge(calx_count(H(id)), 1));
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_count_all(void)
{
    return calx_select_from(calx_select_columns(calx_count_all()), &hero);
}

static calx_select *q_order_by_label(void)
{
    calx_select *q = calx_select_columns(L(hero_id), calx_label(calx_count(L(mission_id)), "n"));
    calx_select_group_by(q, L(hero_id));
    calx_select_having(q, calx_ge(calx_count(L(mission_id)), 1));
    return calx_select_order_by(q, calx_label(calx_count(L(mission_id)), "n"), CALX_DESC);
}

static calx_select *q_group_by_label(void)
{
    calx_select *q = calx_select_columns(calx_label(calx_lower(H(name)), "ln"), calx_count_all());
    calx_select_group_by(q, calx_label(calx_lower(H(name)), "ln"));
    return calx_select_order_by(q, calx_label(calx_lower(H(name)), "ln"), CALX_DESC);
}

static calx_select *q_labelled_subquery(void)
{
    calx_select *q = calx_select_columns(T(name), F(counts_sq, n));
    calx_select_join_from(q, counts_sq, calx_eq(F(counts_sq, team_id), T(id)), CALX_JOIN_INNER);
    calx_select_order_by(q, F(counts_sq, n), CALX_DESC);
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_unlabelled_function_in_subquery(void)
{
    return calx_select_add_entity_from(calx_select_columns_n(NULL, 0), oldest_sq);
}

static calx_select *q_scalar_count(void)
{
    calx_select *n = calx_select_columns(calx_count(H(id)));
    calx_select_where(n, calx_eq(H(team_id), T(id)));
    calx_select *q = calx_select_columns(T(name), calx_label(calx_scalar_subquery(n), "heroes"));
    return calx_select_order_by(q, T(name), CALX_ASC);
}

static calx_select *q_label_takes_a_column_name(void)
{
    return calx_select_where(calx_select_columns(calx_label(H(name), "id"), H(id)),
                             calx_eq(H(id), 1));
}

static calx_select *q_compound_by_label(void)
{
    calx_select *q = calx_union(calx_select_columns(calx_label(H(name), "nm")),
                                calx_select_columns(T(name)));
    return calx_select_order_by(q, calx_label(H(name), "nm"), CALX_ASC);
}

/* ---- checking the text ---- */

/* b's select compiles to sql with params on both dialects; PER_DIALECT:
 * to the text and parameters of each. */
#define PER_DIALECT(b, lite_sql, lite_params, pg_sql, pg_params)             \
    do {                                                                     \
        EXPECT(b(), lite, 0, (lite_sql), (lite_params));                     \
        EXPECT(b(), pg, 0, (pg_sql), (pg_params));                           \
    } while (0)


#define SAME(b, sql, params)                                                 \
    do {                                                                     \
        EXPECT(b(), lite, 0, (sql), (params));                               \
        EXPECT(b(), pg, 0, (sql), (params));                                 \
    } while (0)

/* ---- the database ---- */

static bool on_pg;

#define V(x) CALX_V(x)
#define TXT(s) V(calx_text(s))
#define INT(i) V(calx_int(i))
#define NUL V(calx_null())

TEST(setup_database)
{
    calx_error err;
    on_pg = test_backend_pg();
    const calx_table *all[] = { &team, &hero, &mission, &hmlink, &employee, &match };
    if (!sql_db_open(loop, dir, NULL, all, sizeof all / sizeof *all, false, NULL))
        return;
    static const char *const teams[][2] = {
        { "Z-Force", "Sister Margaret's Bar" }, { "Preventers", "Sharp Tower" },
        { "Wakaland", "Wakaland Capital City" }, { "Avengers", "Avengers Tower" },
    };
    for (int i = 0; i < 4; i++)
        CHECK_OK(run_sql("INSERT INTO team (id, name, headquarters) VALUES (?, ?, ?)",
                         CALX_PARAMS(INT(i + 1), TXT(teams[i][0]), TXT(teams[i][1]))),
                 &err);
    const char *hsql =
        "INSERT INTO hero (id, name, secret_name, age, team_id) VALUES (?, ?, ?, ?, ?)";
    CHECK_OK(run_sql(hsql, CALX_PARAMS(INT(1), TXT("Deadpond"), TXT("Dive Wilson"), NUL, INT(1))),
             &err);
    CHECK_OK(run_sql(hsql, CALX_PARAMS(INT(2), TXT("Rusty-Man"), TXT("Tommy Sharp"), INT(48),
                                       INT(2))),
             &err);
    CHECK_OK(run_sql(hsql, CALX_PARAMS(INT(3), TXT("Spider-Boy"), TXT("Pedro Parqueador"), NUL,
                                       NUL)),
             &err);
    CHECK_OK(run_sql(hsql, CALX_PARAMS(INT(4), TXT("Black Lion"), TXT("Trevor Challa"), INT(35),
                                       INT(3))),
             &err);
    CHECK_OK(run_sql("INSERT INTO mission (id, title) VALUES (1, 'Rescue'), (2, 'Heist')", NULL),
             &err);
    const char *lsql =
        "INSERT INTO heromissionlink (hero_id, mission_id, is_leader) VALUES (?, ?, ?)";
    CHECK_OK(run_sql(lsql, CALX_PARAMS(INT(2), INT(1), V(calx_bool(true)))), &err);
    CHECK_OK(run_sql(lsql, CALX_PARAMS(INT(1), INT(1), V(calx_bool(false)))), &err);
    CHECK_OK(run_sql(lsql, CALX_PARAMS(INT(1), INT(2), V(calx_bool(false)))), &err);
    CHECK_OK(run_sql("INSERT INTO employee (id, name, manager_id) VALUES (1, 'Ada', NULL), "
                     "(2, 'Bob', 1), (3, 'Cy', 2), (4, 'Di', 1)",
                     NULL),
             &err);
    CHECK_OK(run_sql("INSERT INTO \"match\" (id, home_id, away_id) VALUES (1, 1, 2), (2, 2, 3), "
                     "(3, 3, 1)",
                     NULL),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

/* PostgreSQL's NUMERIC (avg of an integer) reaches calx as its exact text,
 * "48.0000000000000000": printed as the number it is. */
static bool number_text(const calx_value *v)
{
    if (v->type != CALX_TEXT || !v->u.s.len)
        return false;
    char *end;
    strtod(v->u.s.ptr, &end);
    return *end == '\0' && strchr(v->u.s.ptr, '.');
}

/* Runs q (and frees it): its rows as "a|b;c|d", the columns listed in cols
 * ("1,6"; NULL: all), NULL as None, a boolean as 1 or 0 (SQLite has no
 * other); sorted when the order is the database's to choose. "ERR
 * <message>" when it fails. */
static const char *rows_of(calx_select *q, const char *cols, bool sorted)
{
    static char out[2048];
    char rows[32][256];
    size_t n = 0;
    calx_error err;
    calx_result *r = NULL;
    if (!conn) {
        calx_select_free(q);
        return "no connection";
    }
    int rc = calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err);
    calx_select_free(q);
    if (rc) {
        snprintf(out, sizeof out, "ERR %s", err.message);
        /* A failed statement ends the transaction on PostgreSQL. */
        calx_wait(calx_conn_rollback(conn, &err), NULL, &err);
        return out;
    }
    int pick[16];
    size_t npick = 0;
    for (const char *s = cols; s && *s && npick < 16; s += strcspn(s, ","), s += *s == ',')
        pick[npick++] = atoi(s);
    if (!cols)
        for (size_t i = 0; i < calx_result_ncols(r) && npick < 16; i++)
            pick[npick++] = (int)i;
    for (const calx_row *row; (row = calx_result_next(r)) && n < 32; n++) {
        size_t len = 0;
        rows[n][0] = '\0';
        for (size_t k = 0; k < npick; k++) {
            const calx_value *v = calx_row_value(row, pick[k]);
            char one[128];
            if (!v || v->type == CALX_NULL)
                snprintf(one, sizeof one, "None");
            else if (v->type == CALX_INT)
                snprintf(one, sizeof one, "%lld", (long long)v->u.i);
            else if (v->type == CALX_REAL)
                snprintf(one, sizeof one, "%g", v->u.d);
            else if (v->type == CALX_BOOL)
                snprintf(one, sizeof one, "%d", v->u.b);
            else if (number_text(v) || v->type == CALX_DECIMAL)
                snprintf(one, sizeof one, "%g", calx_row_real(row, pick[k]));
            else
                snprintf(one, sizeof one, "%.*s", (int)v->u.s.len, v->u.s.ptr);
            len += (size_t)snprintf(rows[n] + len, sizeof rows[n] - len, "%s%s", k ? "|" : "", one);
        }
    }
    calx_result_free(r);
    for (size_t i = 1; sorted && i < n; i++)
        for (size_t j = i; j > 0 && strcmp(rows[j - 1], rows[j]) > 0; j--) {
            char t[256];
            memcpy(t, rows[j], sizeof t);
            memcpy(rows[j], rows[j - 1], sizeof t);
            memcpy(rows[j - 1], t, sizeof t);
        }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? ";" : "", rows[i]);
    return out;
}

#define ROWS(b, cols, want) CHECK_STR(rows_of(b(), (cols), false), (want))
#define ROWS_SORTED(b, cols, want) CHECK_STR(rows_of(b(), (cols), true), (want))

#define HERO_TEAM_COLS                                                       \
    "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, team.id AS id_1, " \
    "team.name AS name_1, team.headquarters \nFROM hero "

/* ---- several entities, joins ---- */

TEST(two_entities_label_the_second_ones_duplicate_names_and_list_both_tables)
{
    /* The reference's "join: select(Hero, Team).where(Hero.team_id ==
     * Team.id)". */
    SAME(q_multi,
         "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, team.id AS id_1, "
         "team.name AS name_1, team.headquarters \nFROM hero, team \nWHERE hero.team_id = team.id",
         "()");
    ROWS_SORTED(q_multi, "1,6", "Black Lion|Wakaland;Deadpond|Z-Force;Rusty-Man|Preventers");
    /* The labels are the result's column names. */
    calx_error err;
    calx_result *r = NULL;
    calx_select *q = q_multi();
    CHECK_OK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), &err);
    calx_select_free(q);
    CHECK_INT(calx_result_ncols(r), 8);
    CHECK_INT(calx_result_colindex(r, "id_1"), 5);
    CHECK_INT(calx_result_colindex(r, "name_1"), 6);
    CHECK_INT(calx_result_colindex(r, "headquarters"), 7);
    calx_result_free(r);
}

TEST(a_join_takes_its_on_clause_from_the_one_foreign_key)
{
    /* The reference's "join: select(Hero, Team).join(Team)" and "left
     * outer join". */
    SAME(q_join, HERO_TEAM_COLS "JOIN team ON team.id = hero.team_id \nWHERE team.name = ?",
         "('Preventers',)");
    ROWS(q_join, "1,6,7", "Rusty-Man|Preventers|Sharp Tower");
    SAME(q_louter, HERO_TEAM_COLS "LEFT OUTER JOIN team ON team.id = hero.team_id ORDER BY hero.id",
         "()");
    ROWS(q_louter, "1,6",
         "Deadpond|Z-Force;Rusty-Man|Preventers;Spider-Boy|None;Black Lion|Wakaland");
    SAME(q_full,
         "SELECT hero.name, team.name AS name_1 \nFROM hero FULL OUTER JOIN team ON team.id = "
         "hero.team_id ORDER BY hero.name NULLS LAST, team.name",
         "()");
    ROWS(q_full, NULL,
         "Black Lion|Wakaland;Deadpond|Z-Force;Rusty-Man|Preventers;Spider-Boy|None;None|Avengers");
    /* From the referenced side: the referenced column still comes first. */
    SAME(q_team_join_hero,
         "SELECT team.id, team.name, team.headquarters \nFROM team JOIN hero ON team.id = "
         "hero.team_id ORDER BY hero.id",
         "()");
    ROWS(q_team_join_hero, "1", "Z-Force;Preventers;Wakaland");
}

TEST(a_join_finds_its_left_side_from_the_on_clause_or_select_from)
{
    /* The reference's aggregate step joins so: the ON clause names team,
     * which becomes the left side although hero is in the columns too. */
    SAME(q_explicit_on,
         "SELECT team.name, hero.name AS name_1 \nFROM team JOIN hero ON hero.team_id = team.id "
         "ORDER BY team.name",
         "()");
    ROWS(q_explicit_on, NULL, "Preventers|Rusty-Man;Wakaland|Black Lion;Z-Force|Deadpond");
    SAME(q_select_from,
         "SELECT hero.name \nFROM team JOIN hero ON team.id = hero.team_id \nWHERE team.name = ?",
         "('Preventers',)");
    ROWS(q_select_from, NULL, "Rusty-Man");
    /* A chain through the link table: each join finds the key to the last
     * table joined. */
    SAME(q_chain,
         "SELECT hero.name, mission.title \nFROM hero JOIN heromissionlink ON hero.id = "
         "heromissionlink.hero_id JOIN mission ON mission.id = heromissionlink.mission_id "
         "\nWHERE mission.title = ? ORDER BY hero.name",
         "('Rescue',)");
    ROWS(q_chain, NULL, "Deadpond|Rescue;Rusty-Man|Rescue");
}

TEST(columns_and_expressions_get_sqlalchemys_labels)
{
    SAME(q_ids,
         "SELECT hero.id, team.id AS id_1, employee.id AS id_2 \nFROM hero, team, employee "
         "\nWHERE hero.team_id = team.id AND employee.id = hero.id ORDER BY hero.id",
         "()");
    ROWS(q_ids, NULL, "1|1|1;2|2|2;4|3|4");
    /* The same column twice. */
    SAME(q_twice, "SELECT hero.id, hero.id AS id__1, hero.name \nFROM hero \nWHERE hero.id = ?",
         "(1,)");
    ROWS(q_twice, NULL, "1|1|Deadpond");
    /* Expressions that are no column: anon_1, anon_2. */
    SAME(q_exprs,
         "SELECT hero.name, hero.age > ? AS anon_1, hero.age > ? AS anon_2 \nFROM hero ORDER BY "
         "hero.id",
         "(40, 30)");
    ROWS(q_exprs, NULL, "Deadpond|None|None;Rusty-Man|1|1;Spider-Boy|None|None;Black Lion|0|1");
    /* Rows read by label. */
    calx_error err;
    calx_result *r = NULL;
    calx_select *q = q_exprs();
    CHECK_OK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), &err);
    calx_select_free(q);
    const calx_row *row = calx_result_row(r, 3);
    CHECK_INT(calx_row_col(row, "anon_2"), 2);
    CHECK_INT(calx_row_int(row, calx_row_col(row, "anon_1")), 0);
    CHECK_STR(calx_row_text(row, calx_row_col(row, "name")), "Black Lion");
    calx_result_free(r);
    /* With CALX_COMPILE_LABELS (the ORM's): every column "<from>_<name>". */
    calx_select *j = calx_select_add_entity(calx_select_new(&hero), &team);
    calx_select_join(j, &team, NULL, CALX_JOIN_INNER);
    EXPECT(j, lite, CALX_COMPILE_LABELS,
           "SELECT hero.id AS hero_id, hero.name AS hero_name, hero.secret_name AS "
           "hero_secret_name, hero.age AS hero_age, hero.team_id AS hero_team_id, team.id AS "
           "team_id, team.name AS team_name, team.headquarters AS team_headquarters \nFROM hero "
           "JOIN team ON team.id = hero.team_id",
           "()");
    calx_select *a = calx_select_add_entity_from(calx_select_new(&hero), team_anon);
    EXPECT(a, pg, CALX_COMPILE_LABELS,
           "SELECT hero.id AS hero_id, hero.name AS hero_name, hero.secret_name AS "
           "hero_secret_name, hero.age AS hero_age, hero.team_id AS hero_team_id, team_1.id AS "
           "team_1_id, team_1.name AS team_1_name, team_1.headquarters AS team_1_headquarters "
           "\nFROM hero, team AS team_1",
           "()");
}

TEST(distinct_group_by_having_and_nulls_first_or_last)
{
    SAME(q_distinct, "SELECT DISTINCT hero.team_id \nFROM hero ORDER BY hero.team_id NULLS FIRST",
         "()");
    ROWS(q_distinct, NULL, "None;1;2;3");
    SAME(q_group,
         "SELECT hero.team_id \nFROM hero GROUP BY hero.team_id \nHAVING hero.team_id > ? ORDER "
         "BY hero.team_id",
         "(1,)");
    ROWS(q_group, NULL, "2;3");
    SAME(q_nulls,
         "SELECT hero.name \nFROM hero ORDER BY hero.age DESC NULLS LAST, hero.name NULLS FIRST",
         "()");
    ROWS(q_nulls, NULL, "Rusty-Man;Black Lion;Deadpond;Spider-Boy");
}

/* ---- aliases ---- */

TEST(aliases_join_a_table_to_itself_and_one_table_through_two_keys)
{
    SAME(q_selfjoin,
         "SELECT employee.name, mgr.name AS name_1 \nFROM employee JOIN employee AS mgr ON "
         "employee.manager_id = mgr.id ORDER BY employee.id",
         "()");
    ROWS(q_selfjoin, NULL, "Bob|Ada;Cy|Bob;Di|Ada");
    PER_DIALECT(q_twokeys,
                "SELECT \"match\".id, home.name, away.name AS name_1 \nFROM \"match\" JOIN team AS "
                "home ON \"match\".home_id = home.id JOIN team AS away ON \"match\".away_id = "
                "away.id ORDER BY \"match\".id",
                "()",
                "SELECT match.id, home.name, away.name AS name_1 \nFROM match JOIN team AS home ON "
                "match.home_id = home.id JOIN team AS away ON match.away_id = away.id ORDER BY "
                "match.id",
                "()");
    ROWS(q_twokeys, NULL, "1|Z-Force|Preventers;2|Preventers|Wakaland;3|Wakaland|Z-Force");
    /* An anonymous alias is named per statement: the reference's
     * joinedload. */
    SAME(q_anonalias,
         "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, team_1.id AS id_1, "
         "team_1.name AS name_1, team_1.headquarters \nFROM hero LEFT OUTER JOIN team AS team_1 "
         "ON team_1.id = hero.team_id ORDER BY hero.id",
         "()");
    ROWS(q_anonalias, "1,6",
         "Deadpond|Z-Force;Rusty-Man|Preventers;Spider-Boy|None;Black Lion|Wakaland");
}

/* ---- subqueries ---- */

TEST(derived_tables_label_their_columns_and_take_anonymous_names)
{
    SAME(q_derived,
         "SELECT team.name, older.age \nFROM team JOIN (SELECT hero.team_id AS team_id, hero.age "
         "AS age \nFROM hero \nWHERE hero.age > ?) AS older ON older.team_id = team.id ORDER BY "
         "team.name",
         "(30,)");
    ROWS(q_derived, NULL, "Preventers|48;Wakaland|35");
    SAME(q_derived_anon,
         "SELECT anon_1.name \nFROM (SELECT hero.id AS id, hero.name AS name \nFROM hero \nWHERE "
         "hero.age > ?) AS anon_1 \nWHERE anon_1.id > ? ORDER BY anon_1.name",
         "(1, 1)");
    ROWS(q_derived_anon, NULL, "Black Lion;Rusty-Man");
    SAME(q_derived_dup,
         "SELECT anon_1.id, anon_1.id_1 \nFROM (SELECT hero.id AS id, team.id AS id_1 \nFROM "
         "hero JOIN team ON team.id = hero.team_id) AS anon_1 ORDER BY anon_1.id",
         "()");
    ROWS(q_derived_dup, NULL, "1|1;2|2;4|3");
    /* A subquery's columns carry their table's foreign keys: a join to it
     * finds its ON clause. */
    SAME(q_derived_fk,
         "SELECT team.name, anon_1.name AS name_1 \nFROM team JOIN (SELECT hero.id AS id, "
         "hero.name AS name, hero.secret_name AS secret_name, hero.age AS age, hero.team_id AS "
         "team_id \nFROM hero \nWHERE hero.age > ?) AS anon_1 ON team.id = anon_1.team_id ORDER "
         "BY team.name",
         "(30,)");
    ROWS(q_derived_fk, NULL, "Preventers|Rusty-Man;Wakaland|Black Lion");
}

TEST(scalar_exists_and_in_subqueries_correlate_to_the_select_around_them)
{
    PER_DIALECT(q_scalar,
                "SELECT team.name, (SELECT hero.name \nFROM hero \nWHERE hero.team_id = team.id "
                "ORDER BY hero.id\n LIMIT ? OFFSET ?) AS anon_1 \nFROM team ORDER BY team.id",
                "(1, 0)",
                "SELECT team.name, (SELECT hero.name \nFROM hero \nWHERE hero.team_id = team.id "
                "ORDER BY hero.id \n LIMIT ?) AS anon_1 \nFROM team ORDER BY team.id",
                "(1,)");
    ROWS(q_scalar, NULL, "Z-Force|Deadpond;Preventers|Rusty-Man;Wakaland|Black Lion;Avengers|None");
    /* One FROM item: nothing is correlated, as in SQLAlchemy. */
    SAME(q_scalar_where,
         "SELECT hero.name \nFROM hero \nWHERE hero.age > (SELECT hero.age \nFROM hero \nWHERE "
         "hero.name = ?)",
         "('Black Lion',)");
    ROWS(q_scalar_where, NULL, "Rusty-Man");
    const char *ex = "EXISTS (SELECT hero.id \nFROM hero \nWHERE hero.team_id = team.id AND "
                     "hero.age > ?)";
    char want[600];
    snprintf(want, sizeof want, "SELECT team.name \nFROM team \nWHERE %s", ex);
    SAME(q_exists, want, "(40,)");
    ROWS(q_exists, NULL, "Preventers");
    snprintf(want, sizeof want, "SELECT team.name \nFROM team \nWHERE NOT (%s) ORDER BY team.name",
             ex);
    SAME(q_not_exists, want, "(40,)");
    ROWS(q_not_exists, NULL, "Avengers;Wakaland;Z-Force");
    snprintf(want, sizeof want, "SELECT team.name \nFROM team \nWHERE (%s) AND team.id > ?", ex);
    SAME(q_exists_and, want, "(40, 1)");
    ROWS(q_exists_and, NULL, "Preventers");
    snprintf(want, sizeof want, "SELECT team.name, %s AS anon_1 \nFROM team ORDER BY team.id", ex);
    SAME(q_exists_col, want, "(40,)");
    ROWS(q_exists_col, NULL, "Z-Force|0;Preventers|1;Wakaland|0;Avengers|0");
    SAME(q_in_select,
         "SELECT hero.name \nFROM hero \nWHERE hero.team_id IN (SELECT team.id \nFROM team "
         "\nWHERE team.name LIKE ?) ORDER BY hero.name",
         "('%land',)");
    ROWS(q_in_select, NULL, "Black Lion");
    SAME(q_not_in_select,
         "SELECT hero.name \nFROM hero \nWHERE (hero.team_id NOT IN (SELECT team.id \nFROM team "
         "\nWHERE team.name LIKE ?)) ORDER BY hero.name",
         "('%land',)");
    ROWS(q_not_in_select, NULL, "Deadpond;Rusty-Man");
}

/* ---- CTEs ---- */

TEST(ctes_go_in_front_each_after_the_ctes_it_uses)
{
    SAME(q_cte,
         "WITH older AS \n(SELECT hero.team_id AS team_id, hero.age AS age \nFROM hero \nWHERE "
         "hero.age > ?)\n SELECT team.name, older.age \nFROM team JOIN older ON older.team_id = "
         "team.id ORDER BY team.name",
         "(30,)");
    ROWS(q_cte, NULL, "Preventers|48;Wakaland|35");
    SAME(q_two_ctes,
         "WITH a AS \n(SELECT hero.id AS id \nFROM hero \nWHERE hero.age > ?), \nb AS \n(SELECT "
         "a.id AS id \nFROM a \nWHERE a.id < ?)\n SELECT b.id, hero.name \nFROM b JOIN hero ON "
         "hero.id = b.id \nWHERE hero.age < ? ORDER BY b.id",
         "(1, 9, 100)");
    ROWS(q_two_ctes, NULL, "2|Rusty-Man;4|Black Lion");
    /* Used two subqueries deep, and anonymous. */
    SAME(q_cte_where,
         "WITH anon_1 AS \n(SELECT mission.id AS id \nFROM mission \nWHERE mission.title = ?)\n "
         "SELECT hero.name \nFROM hero \nWHERE hero.id IN (SELECT heromissionlink.hero_id \nFROM "
         "heromissionlink \nWHERE heromissionlink.mission_id IN (SELECT anon_1.id \nFROM anon_1))",
         "('Heist',)");
    ROWS(q_cte_where, NULL, "Deadpond");
}

TEST(a_recursive_cte_walks_a_hierarchy)
{
    SAME(q_recursive,
         "WITH RECURSIVE chain(id, name, manager_id) AS \n(SELECT employee.id AS id, "
         "employee.name AS name, employee.manager_id AS manager_id \nFROM employee \nWHERE "
         "employee.manager_id IS NULL UNION ALL SELECT e.id AS id, e.name AS name, e.manager_id "
         "AS manager_id \nFROM employee AS e JOIN chain ON e.manager_id = chain.id)\n SELECT "
         "chain.name \nFROM chain ORDER BY chain.id",
         "()");
    ROWS(q_recursive, NULL, "Ada;Bob;Cy;Di");
}

/* ---- set operations ---- */

TEST(union_intersect_and_except_with_order_by_and_limit_on_the_whole)
{
    SAME(q_union,
         "SELECT hero.name \nFROM hero \nWHERE hero.age > ? UNION SELECT team.name \nFROM team",
         "(40,)");
    ROWS_SORTED(q_union, NULL, "Avengers;Preventers;Rusty-Man;Wakaland;Z-Force");
    PER_DIALECT(q_union_all_order,
                "SELECT hero.name \nFROM hero UNION ALL SELECT team.name \nFROM team ORDER BY name "
                "DESC\n LIMIT ? OFFSET ?",
                "(3, 1)",
                "SELECT hero.name \nFROM hero UNION ALL SELECT team.name \nFROM team ORDER BY name "
                "DESC \n LIMIT ? OFFSET ?",
                "(3, 1)");
    ROWS(q_union_all_order, NULL, "Wakaland;Spider-Boy;Rusty-Man");
    SAME(q_intersect,
         "SELECT hero.id \nFROM hero INTERSECT SELECT hero.id \nFROM hero \nWHERE hero.age > ?",
         "(40,)");
    ROWS(q_intersect, NULL, "2");
    SAME(q_except,
         "SELECT hero.id \nFROM hero EXCEPT SELECT hero.id \nFROM hero \nWHERE hero.age > ?",
         "(40,)");
    ROWS_SORTED(q_except, NULL, "1;3;4");
    /* union(union(a, b), c) is union(a, b, c). */
    SAME(q_union3,
         "SELECT hero.id \nFROM hero UNION SELECT team.id \nFROM team UNION SELECT mission.id "
         "\nFROM mission",
         "()");
    ROWS_SORTED(q_union3, NULL, "1;2;3;4");
    /* As a derived table its members label their columns. */
    SAME(q_union_sub,
         "SELECT names.name \nFROM (SELECT hero.name AS name \nFROM hero UNION SELECT team.name "
         "AS name \nFROM team) AS names \nWHERE names.name LIKE ? ORDER BY names.name",
         "('%an%',)");
    ROWS(q_union_sub, NULL, "Rusty-Man;Wakaland");
}

TEST(a_compound_member_that_needs_parentheses_gets_them)
{
    /* As SQLAlchemy writes them: PostgreSQL runs them, SQLite's grammar
     * has no parenthesized member and refuses. */
    SAME(q_union_mixed,
         "(SELECT hero.id \nFROM hero INTERSECT SELECT team.id \nFROM team) UNION SELECT "
         "mission.id \nFROM mission",
         "()");
    PER_DIALECT(q_union_limited_member,
                "(SELECT hero.id \nFROM hero ORDER BY hero.id\n LIMIT ? OFFSET ?) UNION SELECT "
                "team.id \nFROM team",
                "(2, 0)",
                "(SELECT hero.id \nFROM hero ORDER BY hero.id \n LIMIT ?) UNION SELECT team.id "
                "\nFROM team",
                "(2,)");
    if (on_pg) {
        ROWS_SORTED(q_union_mixed, NULL, "1;2;3;4");
        ROWS_SORTED(q_union_limited_member, NULL, "1;2;3;4");
    } else {
        CHECK_CONTAINS(rows_of(q_union_mixed(), NULL, false), "ERR ");
        CHECK_CONTAINS(rows_of(q_union_limited_member(), NULL, false), "syntax error");
    }
}

/* ---- aggregates and labels ---- */

TEST(aggregates_group_by_and_having_match_the_reference)
{
    /* The reference's "aggregates" step, byte for byte. */
    SAME(q_agg,
         "SELECT team.name, count(hero.id) AS count_1, avg(hero.age) AS avg_1 \nFROM team JOIN "
         "hero ON hero.team_id = team.id GROUP BY team.name \nHAVING count(hero.id) >= ? ORDER "
         "BY team.name",
         "(1,)");
    ROWS(q_agg, NULL, "Preventers|1|48;Wakaland|1|35;Z-Force|1|None");
    SAME(q_count_all, "SELECT count(*) AS count_1 \nFROM hero", "()");
    ROWS(q_count_all, NULL, "4");
    /* Rows read by the anonymous labels. */
    calx_error err;
    calx_result *r = NULL;
    calx_select *q = q_agg();
    CHECK_OK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), &err);
    calx_select_free(q);
    const calx_row *row = calx_result_row(r, 1);
    CHECK_STR(calx_row_text(row, calx_row_col(row, "name")), "Wakaland");
    CHECK_INT(calx_row_int(row, calx_row_col(row, "count_1")), 1);
    CHECK_INT(calx_row_col(row, "avg_1"), 2);
    calx_result_free(r);
}

TEST(labels_name_columns_and_order_by_writes_a_selected_label_by_its_name)
{
    SAME(q_order_by_label,
         "SELECT heromissionlink.hero_id, count(heromissionlink.mission_id) AS n \nFROM "
         "heromissionlink GROUP BY heromissionlink.hero_id \nHAVING "
         "count(heromissionlink.mission_id) >= ? ORDER BY n DESC",
         "(1,)");
    ROWS(q_order_by_label, NULL, "1|2;2|1");
    /* GROUP BY writes the expression, ORDER BY the label. */
    SAME(q_group_by_label,
         "SELECT lower(hero.name) AS ln, count(*) AS count_1 \nFROM hero GROUP BY "
         "lower(hero.name) ORDER BY ln DESC",
         "()");
    ROWS(q_group_by_label, NULL, "spider-boy|1;rusty-man|1;deadpond|1;black lion|1");
    SAME(q_labelled_subquery,
         "SELECT team.name, anon_1.n \nFROM team JOIN (SELECT hero.team_id AS team_id, "
         "count(hero.id) AS n \nFROM hero GROUP BY hero.team_id) AS anon_1 ON anon_1.team_id = "
         "team.id ORDER BY anon_1.n DESC, team.name",
         "()");
    ROWS(q_labelled_subquery, NULL, "Preventers|1;Wakaland|1;Z-Force|1");
    SAME(q_unlabelled_function_in_subquery,
         "SELECT anon_1.team_id, anon_1.max_1 \nFROM (SELECT hero.team_id AS team_id, "
         "max(hero.age) AS max_1 \nFROM hero GROUP BY hero.team_id) AS anon_1",
         "()");
    ROWS_SORTED(q_unlabelled_function_in_subquery, NULL, "1|None;2|48;3|35;None|None");
    SAME(q_scalar_count,
         "SELECT team.name, (SELECT count(hero.id) AS count_1 \nFROM hero \nWHERE hero.team_id "
         "= team.id) AS heroes \nFROM team ORDER BY team.name",
         "()");
    ROWS(q_scalar_count, NULL, "Avengers|0;Preventers|1;Wakaland|1;Z-Force|1");
    /* A label holds its name; a column of that name after it is id_1. */
    SAME(q_label_takes_a_column_name,
         "SELECT hero.name AS id, hero.id AS id_1 \nFROM hero \nWHERE hero.id = ?", "(1,)");
    ROWS(q_label_takes_a_column_name, NULL, "Deadpond|1");
    SAME(q_compound_by_label,
         "SELECT hero.name AS nm \nFROM hero UNION SELECT team.name \nFROM team ORDER BY nm",
         "()");
    ROWS(q_compound_by_label, NULL,
         "Avengers;Black Lion;Deadpond;Preventers;Rusty-Man;Spider-Boy;Wakaland;Z-Force");
}

/* ---- mistakes ---- */

/* q must hold the error code / message (and compile to it). */
static void expect_sticky(int line, calx_select *q, int code, const char *message)
{
    calx_error err;
    calx_select_error(q, &err);
    if (err.code != code || strcmp(err.message, message) != 0) {
        fprintf(stderr, "  line %d: got error %d \"%s\"\n    expected %d \"%s\"\n", line,
                err.code, err.message, code, message);
        test_failed_now = 1;
    }
    calx_compiled c;
    CHECK_INT(calx__select_compile(q, lite, 0, &c, &err), code);
    calx_select_free(q);
}
#define EXPECT_STICKY(q, code, message) expect_sticky(__LINE__, (q), (code), (message))

/* q builds without error, and compiling it gives the error. */
static void expect_compile_error(int line, calx_select *q, int code, const char *message)
{
    calx_error err;
    CHECK_INT(calx_select_error(q, &err), CALX_OK);
    calx_compiled c;
    int rc = calx__select_compile(q, pg, 0, &c, &err);
    if (rc != code || strcmp(err.message, message) != 0) {
        fprintf(stderr, "  line %d: got error %d \"%s\"\n    expected %d \"%s\"\n", line, rc,
                rc ? err.message : c.sql, code, message);
        test_failed_now = 1;
    }
    CHECK(c.sql == NULL && c.params == NULL);
    calx__compiled_free(&c);
    calx_select_free(q);
}
#define EXPECT_COMPILE_ERROR(q, code, message)                               \
    expect_compile_error(__LINE__, (q), (code), (message))

TEST(a_join_with_no_or_several_foreign_keys_names_the_tables_and_the_keys)
{
    EXPECT_STICKY(calx_select_join(calx_select_new(&hero), &mission, NULL, CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join mission to hero: no foreign key links them; give the ON clause");
    EXPECT_STICKY(calx_select_join(calx_select_new(&team), &match, NULL, CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join match to team: more than one foreign key links them "
                  "(match.home_id -> team.id, match.away_id -> team.id); give the ON clause");
    EXPECT_STICKY(calx_select_join_from(calx_select_new(&employee), mgr, NULL, CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join mgr to employee: more than one foreign key links them "
                  "(mgr.manager_id -> employee.id, employee.manager_id -> mgr.id); give the ON "
                  "clause");
    /* The left side: nothing, several, none with a key. */
    EXPECT_STICKY(calx_select_join(calx_select_new(&hero), &hero, NULL, CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join hero: the select has nothing else to join it to; select a column "
                  "of the left side, or name it first with calx_select_from");
    EXPECT_STICKY(calx_select_join(calx_select_columns(calx_lit_int(1)), &hero, NULL,
                                   CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join hero: the select has nothing else to join it to; select a column "
                  "of the left side, or name it first with calx_select_from");
    EXPECT_STICKY(calx_select_join(calx_select_columns(H(name), M(title)), &hmlink, NULL,
                                   CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join heromissionlink: several FROM items could be its left side (hero, "
                  "mission); name the left side first with calx_select_from, and give the ON "
                  "clause");
    EXPECT_STICKY(calx_select_join(calx_select_columns(H(name), T(name)), &mission, NULL,
                                   CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT,
                  "cannot join mission: none of hero, team has a foreign key to or from it; give "
                  "the ON clause, and the left side with calx_select_from");
    calx_select *q = calx_select_join(calx_select_new(&hero), &team, NULL, CALX_JOIN_INNER);
    EXPECT_STICKY(calx_select_join(q, &team, NULL, CALX_JOIN_LEFT), CALX_ERR_ARGUMENT,
                  "cannot join team: it is already in this FROM clause; join an alias of it "
                  "(calx_alias_new) to use a table twice");
    EXPECT_STICKY(calx_select_join(calx_select_new(&hero), &team, NULL, (calx_join_kind)7),
                  CALX_ERR_ARGUMENT, "calx_select_join: unknown join kind 7");
    EXPECT_STICKY(calx_select_join(calx_select_new(&hero), &team, H(age), CALX_JOIN_INNER),
                  CALX_ERR_TYPE, "ON takes a BOOLEAN expression, not hero.age (INTEGER)");
    EXPECT_STICKY(calx_select_join(calx_select_new(&hero), &team, calx_eq(T(name), 3),
                                   CALX_JOIN_INNER),
                  CALX_ERR_TYPE, "cannot compare team.name (TEXT) with an INTEGER value");
    EXPECT_STICKY(calx_select_join(calx_select_new(&hero), NULL, NULL, CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT, "calx_select_join: the table is NULL");
}

TEST(a_column_of_a_from_item_the_select_does_not_have_is_an_error)
{
    EXPECT_COMPILE_ERROR(calx_select_group_by(calx_select_columns(H(name)), T(name)),
                         CALX_ERR_ARGUMENT,
                         "GROUP BY refers to team.name, but team is not in the FROM clause of its "
                         "select (FROM hero); join it, add it with calx_select_from, or select a "
                         "column of it");
    EXPECT_COMPILE_ERROR(calx_select_having(calx_select_columns(H(name)), calx_gt(F(mgr, id), 1)),
                         CALX_ERR_ARGUMENT,
                         "HAVING refers to mgr.id, but mgr is not in the FROM clause of its "
                         "select (FROM hero); join it, add it with calx_select_from, or select a "
                         "column of it");
    EXPECT_COMPILE_ERROR(calx_select_join(calx_select_new(&hero), &team,
                                          calx_eq(M(id), T(id)), CALX_JOIN_INNER),
                         CALX_ERR_ARGUMENT,
                         "ON refers to mission.id, but mission is not in the FROM clause of its "
                         "select (FROM hero, team); join it, add it with calx_select_from, or "
                         "select a column of it");
    /* The FROM items' own columns. */
    calx_expr *e = F(mgr, nope);
    EXPECT_STICKY(calx_select_columns(e), CALX_ERR_ARGUMENT, "alias mgr has no column 'nope'");
    EXPECT_STICKY(calx_select_columns(calx_from_col_at(mgr, 9)), CALX_ERR_ARGUMENT,
                  "alias mgr has no column at index 9 (it has 3)");
    EXPECT_STICKY(calx_select_columns(F(older_sq, name)), CALX_ERR_ARGUMENT,
                  "subquery older has no column 'name'");
    calx_from *anon = calx_subquery_new(calx_select_columns(calx_gt(H(age), 1)), NULL);
    EXPECT_STICKY(calx_select_columns(F(anon, anon_1)), CALX_ERR_ARGUMENT,
                  "an anonymous subquery has no column 'anon_1' (an unlabelled expression's name "
                  "is given when the statement compiles: take it by position, or label it)");
    EXPECT(calx_select_columns(calx_from_col_at(anon, 0)), lite, 0,
           "SELECT anon_2.anon_1 \nFROM (SELECT hero.age > ? AS anon_1 \nFROM hero) AS anon_2",
           "(1,)");
    calx_from_free(anon);
}

TEST(from_items_keep_their_first_error)
{
    calx_error err;
    calx_from *bad = calx_alias_new(NULL, "x");
    CHECK_INT(calx_from_error(bad, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_alias_new: the table is NULL");
    EXPECT_STICKY(calx_select_columns(F(bad, id)), CALX_ERR_ARGUMENT,
                  "calx_alias_new: the table is NULL");
    EXPECT_STICKY(calx_select_add_entity_from(calx_select_new(&hero), bad), CALX_ERR_ARGUMENT,
                  "calx_alias_new: the table is NULL");
    EXPECT_STICKY(calx_select_join_from(calx_select_new(&hero), bad, NULL, CALX_JOIN_INNER),
                  CALX_ERR_ARGUMENT, "calx_alias_new: the table is NULL");
    calx_from_free(bad);
    bad = calx_subquery_new(calx_select_where(calx_select_new(&hero), calx_eq(H(name), 1)), "s");
    CHECK_INT(calx_from_error(bad, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare hero.name (TEXT) with an INTEGER value");
    EXPECT_STICKY(calx_select_from_from(calx_select_columns(calx_lit_int(1)), bad), CALX_ERR_TYPE,
                  "cannot compare hero.name (TEXT) with an INTEGER value");
    calx_from_free(bad);
    bad = calx_cte_new(calx_select_columns_n(NULL, 0), "empty");
    CHECK_INT(calx_from_error(bad, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_cte_new: the select has no columns");
    calx_from_free(bad);
    /* The recursive part: only once, only on a recursive CTE, as many
     * columns as the anchor. */
    bad = calx_cte_new(calx_select_columns(E(id)), "plain");
    calx_cte_union_all(bad, calx_select_columns(E(id)));
    CHECK_INT(calx_from_error(bad, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_cte_union_all: the CTE was not made by calx_cte_recursive_new");
    calx_from_free(bad);
    bad = calx_cte_recursive_new(calx_select_columns(E(id), E(name)), "r");
    calx_cte_union_all(bad, calx_select_columns(E(id)));
    CHECK_INT(calx_from_error(bad, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "UNION ALL: select 1 has 2 columns, select 2 has 1; the selects of a "
                           "compound must have as many columns each");
    calx_from_free(bad);
    bad = calx_cte_recursive_new(calx_select_columns(E(id)), "r");
    calx_cte_union_all(bad, calx_select_columns(E(id)));
    calx_cte_union_all(bad, calx_select_columns(E(id)));
    CHECK_INT(calx_from_error(bad, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_cte_union_all: the CTE has its recursive part already");
    calx_from_free(bad);
    /* NULLs: out of memory, everywhere. */
    CHECK(calx_cte_union_all(NULL, calx_select_columns(E(id))) == NULL);
    CHECK_INT(calx_from_error(NULL, &err), CALX_ERR_NOMEM);
    EXPECT_STICKY(calx_select_columns(calx_from_col(NULL, "id")), CALX_ERR_NOMEM,
                  "out of memory building an SQL expression (the FROM item is NULL)");
    EXPECT_STICKY(calx_select_from_from(calx_select_new(&hero), NULL), CALX_ERR_NOMEM,
                  "out of memory building a FROM item (it is NULL)");
    calx_from_free(NULL);
}

TEST(subquery_and_compound_mistakes_name_the_cause)
{
    EXPECT_STICKY(calx_select_columns(calx_scalar_subquery(calx_select_columns(H(id), H(name)))),
                  CALX_ERR_ARGUMENT, "a scalar subquery needs a select of one column, not 2");
    EXPECT_STICKY(calx_select_where(calx_select_new(&hero),
                                    calx_in_select(H(name), calx_select_columns(T(id)))),
                  CALX_ERR_TYPE,
                  "cannot compare hero.name (TEXT) with team.id (INTEGER) IN (SELECT ...)");
    EXPECT_STICKY(calx_select_where(calx_select_new(&hero), calx_exists(NULL)), CALX_ERR_NOMEM,
                  "out of memory building EXISTS (the select is NULL)");
    EXPECT_STICKY(calx_select_where(calx_select_new(&hero),
                                    calx_exists(calx_select_limit(calx_select_new(&team), -1))),
                  CALX_ERR_ARGUMENT, "LIMIT must not be negative (got -1)");
    /* Auto-correlation that would leave the subquery no FROM. */
    calx_select *q = calx_select_add_entity(calx_select_new(&hero), &team);
    calx_select_where(q, calx_exists(calx_select_where(calx_select_columns(H(id)),
                                                       calx_eq(H(team_id), T(id)))));
    EXPECT_COMPILE_ERROR(q, CALX_ERR_ARGUMENT,
                         "a subquery names only FROM items of the select around it (hero, team), "
                         "so auto-correlation leaves it no FROM clause; select from an alias of "
                         "one (calx_alias_new)");
    /* Compounds. */
    EXPECT_STICKY(calx_union(calx_select_columns(H(id)), calx_select_columns(H(id), H(name))),
                  CALX_ERR_ARGUMENT,
                  "UNION: select 1 has 1 column, select 2 has 2; the selects of a compound must "
                  "have as many columns each");
    EXPECT_STICKY(calx_union(calx_union(calx_select_columns(H(id)), calx_select_columns(T(id))),
                             calx_select_new(&team)),
                  CALX_ERR_ARGUMENT,
                  "UNION: select 1 has 1 column, select 3 has 3; the selects of a compound must "
                  "have as many columns each");
    EXPECT_STICKY(calx_select_where(q_union(), calx_gt(H(id), 1)), CALX_ERR_ARGUMENT,
                  "WHERE on a compound select (UNION): it takes only ORDER BY, LIMIT and OFFSET; "
                  "select from it as a subquery (calx_subquery_new) to filter or join it");
    EXPECT_STICKY(calx_select_join(q_intersect(), &team, NULL, CALX_JOIN_INNER), CALX_ERR_ARGUMENT,
                  "calx_select_join on a compound select (INTERSECT): it takes only ORDER BY, "
                  "LIMIT and OFFSET; select from it as a subquery (calx_subquery_new) to filter or "
                  "join it");
    EXPECT_STICKY(calx_union(calx_select_where(calx_select_new(&hero), calx_eq(H(id), "x")),
                             calx_select_new(&hero)),
                  CALX_ERR_TYPE, "cannot compare hero.id (INTEGER) with a TEXT value");
    CHECK(calx_union(NULL, calx_select_new(&hero)) == NULL);
    CHECK(calx_except(calx_select_new(&hero), NULL) == NULL);
    EXPECT_COMPILE_ERROR(calx_select_order_by(q_union(), H(age), CALX_ASC), CALX_ERR_ARGUMENT,
                         "ORDER BY of a UNION refers to hero.age (INTEGER), but the compound has "
                         "no column named 'age' (it is ordered by the names of its first "
                         "select's columns)");
    /* A select with no columns. */
    EXPECT_COMPILE_ERROR(calx_select_from(calx_select_columns_n(NULL, 0), &hero), CALX_ERR_ARGUMENT,
                         "the select has no columns (add some with calx_select_add_column or "
                         "calx_select_add_entity)");
    EXPECT_STICKY(calx_select_columns_n(NULL, 2), CALX_ERR_NOMEM,
                  "out of memory building a select (2 columns but cols is NULL)");
    EXPECT_STICKY(calx_select_order_by(calx_select_new(&hero), H(id),
                                       CALX_NULLS_FIRST | CALX_NULLS_LAST),
                  CALX_ERR_ARGUMENT,
                  "ORDER BY: unknown direction 6 (CALX_ASC or CALX_DESC, with one of "
                  "CALX_NULLS_FIRST and CALX_NULLS_LAST OR-ed in)");
    /* NULL selects: every builder is safe and frees what it was given. */
    CHECK(calx_select_add_entity(NULL, &hero) == NULL);
    CHECK(calx_select_add_column(NULL, H(id)) == NULL);
    CHECK(calx_select_join(NULL, &team, calx_eq(H(team_id), T(id)), CALX_JOIN_INNER) == NULL);
    CHECK(calx_select_group_by(NULL, H(id)) == NULL);
    CHECK(calx_select_having(NULL, calx_gt(H(id), 1)) == NULL);
    CHECK(calx_select_distinct(NULL) == NULL);
    CHECK(calx_select_from(NULL, &hero) == NULL);
    calx_expr *sub = calx_scalar_subquery(NULL);
    EXPECT_STICKY(calx_select_columns(sub), CALX_ERR_NOMEM,
                  "out of memory building a scalar subquery (the select is NULL)");
}

/* ---- table of the entity, for the ORM ---- */

TEST(the_entity_table_is_the_first_entitys)
{
    calx_select *q = calx_select_add_entity(calx_select_new(&hero), &team);
    CHECK(calx_select_table(q) == &hero);
    calx_select_free(q);
    q = calx_select_add_entity(calx_select_columns_n(NULL, 0), &team);
    CHECK(calx_select_table(q) == &team);
    calx_select_free(q);
    q = calx_select_add_entity(calx_select_columns(H(name)), &team);
    CHECK(calx_select_table(q) == NULL);
    calx_select_free(q);
    q = calx_select_add_entity_from(calx_select_columns_n(NULL, 0), mgr);
    CHECK(calx_select_table(q) == NULL);
    calx_select_free(q);
    q = q_union();
    CHECK(calx_select_table(q) == NULL);
    calx_select_free(q);
}

/* ---- out of memory ---- */

/* Builds and compiles statements that use every builder and path that
 * allocates (aliases, subqueries, CTEs, compounds, joins inferred and
 * given, anonymous names). Returns the compile status; *sql gets the
 * texts. */
static int build_everything(calx_error *err, char **sql)
{
    *sql = NULL;
    calx_from *a = calx_alias_new(&team, NULL);
    calx_from *m = calx_alias_new(&employee, "m");
    calx_from *sq = calx_subquery_new(
        calx_select_where(calx_select_columns(H(team_id), calx_gt(H(age), 1)), calx_gt(H(id), 0)),
        NULL);
    calx_from *cte = calx_cte_new(calx_select_columns(T(id), T(name)), NULL);
    calx_from *rec = calx_cte_recursive_new(
        calx_select_where(calx_select_columns(E(id)), calx_is_null(E(manager_id))), "r");
    calx_cte_union_all(rec, calx_select_join_from(calx_select_columns(F(m, id)), rec,
                                                  calx_eq(F(m, manager_id), F(rec, id)),
                                                  CALX_JOIN_INNER));
    calx_select *q = calx_select_add_entity_from(calx_select_new(&hero), a);
    calx_select_from(q, &hero);
    calx_select_add_column(q, calx_from_col_at(sq, 1));
    calx_select_add_column(q, F(cte, name));
    calx_select_add_column(q, H(id));
    calx_select_add_column(q, calx_count_all());
    calx_select_join_from(q, a, NULL, CALX_JOIN_LEFT);
    calx_select_join_from(q, sq, calx_eq(calx_from_col_at(sq, 0), F(a, id)), CALX_JOIN_INNER);
    calx_select_where(q, calx_exists(calx_select_where(calx_select_columns(L(hero_id)),
                                                       calx_eq(L(hero_id), H(id)))));
    calx_select_where(q, calx_in_select(H(id), calx_select_columns(F(rec, id))));
    calx_select_where(q, calx_gt(H(age), calx_scalar_subquery(calx_select_columns(E(id)))));
    calx_select_group_by(q, H(id));
    calx_select_having(q, calx_gt(H(id), 0));
    calx_select_order_by(q, H(name), CALX_DESC | CALX_NULLS_LAST);
    calx_select_distinct(q);
    calx_select *u = calx_union(calx_select_columns(H(name)), calx_select_columns(T(name)));
    u = calx_union(u, calx_select_columns(M(title)));
    calx_select_order_by(u, H(name), CALX_ASC);
    calx_select_limit(u, 5);
    calx_compiled c1, c2;
    int rc = calx__select_compile(q, lite, 0, &c1, err);
    if (rc == 0) {
        rc = calx__select_compile(u, pg, 0, &c2, err);
        if (rc == 0) {
            size_t n = strlen(c1.sql) + strlen(c2.sql) + 2;
            if ((*sql = malloc(n)))
                snprintf(*sql, n, "%s\n%s", c1.sql, c2.sql);
            else
                rc = CALX_ERR_NOMEM;
            calx__compiled_free(&c2);
        }
    }
    calx__compiled_free(&c1);
    calx_select_free(q);
    calx_select_free(u);
    calx_from *all[] = { a, m, sq, cte, rec };
    for (size_t i = 0; i < 5; i++)
        calx_from_free(all[i]);
    return rc;
}

static void oom_attempt(void *want, long k)
{
    calx_error err;
    char *sql = NULL;
    int rc = build_everything(&err, &sql);
    alloc_fail_stop();
    if (rc != CALX_ERR_NOMEM && (rc != 0 || strcmp(sql, want) != 0)) {
        fprintf(stderr, "  failing allocation %ld%s: rc %d %s\n", k, fail_rest ? " and after" : "",
                rc, rc ? err.message : sql);
        test_failed_now = 1;
    }
    free(sql);
}

/* Fails each allocation in turn (then each with all after it): every
 * failure comes out as CALX_ERR_NOMEM (never a crash, never a leak under
 * ASan or valgrind), and a success is the full text. */
TEST(out_of_memory_anywhere_is_reported_and_leaks_nothing)
{
    calx_error err;
    char *want = NULL;
    CHECK_OK(build_everything(&err, &want), &err);
    /* What SQLAlchemy renders for the same statements (with
     * select_from(Hero): its compile-time join sees the subquery's foreign
     * key to team too). */
    CHECK_STR(want,
              "WITH RECURSIVE anon_3 AS \n(SELECT team.id AS id, team.name AS name \nFROM team), "
              "\nr(id) AS \n(SELECT employee.id AS id \nFROM employee \nWHERE employee.manager_id "
              "IS NULL UNION ALL SELECT m.id AS id \nFROM employee AS m JOIN r ON m.manager_id = "
              "r.id)\n SELECT DISTINCT hero.id, hero.name, hero.secret_name, hero.age, "
              "hero.team_id, team_1.id AS id_1, team_1.name AS name_1, team_1.headquarters, "
              "anon_2.anon_1, anon_3.name AS name_2, hero.id AS id__1, count(*) AS count_1 \nFROM "
              "anon_3, hero LEFT "
              "OUTER JOIN team AS team_1 ON team_1.id = hero.team_id JOIN (SELECT hero.team_id AS "
              "team_id, hero.age > ? AS anon_1 \nFROM hero \nWHERE hero.id > ?) AS anon_2 ON "
              "anon_2.team_id = team_1.id \nWHERE (EXISTS (SELECT heromissionlink.hero_id \nFROM "
              "heromissionlink \nWHERE heromissionlink.hero_id = hero.id)) AND hero.id IN (SELECT "
              "r.id \nFROM r) AND hero.age > (SELECT employee.id \nFROM employee) GROUP BY hero.id "
              "\nHAVING hero.id > ? ORDER BY hero.name DESC NULLS LAST\nSELECT hero.name \nFROM "
              "hero UNION SELECT team.name \nFROM team UNION SELECT mission.title \nFROM mission "
              "ORDER BY name \n LIMIT ?");
    CHECK(alloc_fail_sweep(false, oom_attempt, want) > 100);
    CHECK(alloc_fail_sweep(true, oom_attempt, want) > 100);
    free(want);
}

/* The tables go with the database: a scratch SQLite file, or a schema
 * test_backend_cleanup drops. */
TEST(teardown_database)
{
    sql_db_close(loop, false);
}

/* ---- extending a select (the ORM's joinedload) ---- */

TEST(an_extended_select_adds_joins_and_columns_and_leaves_its_base_alone)
{
    /* The reference's "eager loading: joinedload": select(Hero) ordered
     * by id, extended with an anonymous alias of team. */
    calx_select *base = calx_select_order_by(calx_select_new(&hero), H(id), CALX_ASC);
    calx_from *team_1 = calx_alias_new(&team, NULL);
    calx_select *x = calx__select_extend(base);
    calx_select_add_entity_from(x, team_1);
    calx_select_join_from(x, team_1, calx_eq(calx_from_col(team_1, "id"), H(team_id)),
                          CALX_JOIN_LEFT);
    calx_select_order_by(x, calx_from_col(team_1, "id"), CALX_ASC);
    calx_compiled c;
    calx_error err;
    CHECK_OK(calx__select_compile(x, lite, 0, &c, &err), &err);
    CHECK_STR(c.sql, "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, "
                     "team_1.id AS id_1, team_1.name AS name_1, team_1.headquarters \n"
                     "FROM hero LEFT OUTER JOIN team AS team_1 ON team_1.id = hero.team_id "
                     "ORDER BY hero.id, team_1.id");
    calx__compiled_free(&c);
    /* Its base is as it was, and an extension shares nothing it frees. */
    CHECK_OK(calx__select_compile(base, lite, 0, &c, &err), &err);
    CHECK_STR(c.sql, "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \n"
                     "FROM hero ORDER BY hero.id");
    calx__compiled_free(&c);
    /* What it shares it may not change. */
    calx_select_where(x, calx_eq(H(name), "x"));
    CHECK(calx_select_error(x, &err) == CALX_ERR_ARGUMENT);
    calx_select_free(x);
    /* A base with joins of its own: the extension's join goes on the
     * same entry, the base keeps its one. */
    calx_select *j = calx_select_join(calx_select_new(&hero), &team, NULL, CALX_JOIN_INNER);
    x = calx__select_extend(j);
    calx_from *m = calx_alias_new(&employee, NULL);
    calx_select_join_from(x, m, calx_eq(calx_from_col(m, "id"), T(id)), CALX_JOIN_LEFT);
    EXPECT(x, lite, 0,
           "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \nFROM hero "
           "JOIN team ON team.id = hero.team_id LEFT OUTER JOIN employee AS employee_1 ON "
           "employee_1.id = team.id", "()");
    EXPECT(j, lite, 0,
           "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \nFROM hero "
           "JOIN team ON team.id = hero.team_id", "()");
    /* A compound is refused. */
    x = calx__select_extend(calx_union(calx_select_new(&hero), calx_select_new(&hero)));
    CHECK(calx_select_error(x, &err) == CALX_ERR_ARGUMENT);
    calx_select *u = (calx_select *)x->base;   /* the extension goes first */
    calx_select_free(x);
    calx_select_free(u);
    calx_select_free(base);
    calx_from_free(team_1);
    calx_from_free(m);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_select");
    make_froms();
    RUN(setup_database);
    RUN(two_entities_label_the_second_ones_duplicate_names_and_list_both_tables);
    RUN(a_join_takes_its_on_clause_from_the_one_foreign_key);
    RUN(a_join_finds_its_left_side_from_the_on_clause_or_select_from);
    RUN(columns_and_expressions_get_sqlalchemys_labels);
    RUN(distinct_group_by_having_and_nulls_first_or_last);
    RUN(aliases_join_a_table_to_itself_and_one_table_through_two_keys);
    RUN(derived_tables_label_their_columns_and_take_anonymous_names);
    RUN(scalar_exists_and_in_subqueries_correlate_to_the_select_around_them);
    RUN(ctes_go_in_front_each_after_the_ctes_it_uses);
    RUN(a_recursive_cte_walks_a_hierarchy);
    RUN(union_intersect_and_except_with_order_by_and_limit_on_the_whole);
    RUN(a_compound_member_that_needs_parentheses_gets_them);
    RUN(aggregates_group_by_and_having_match_the_reference);
    RUN(labels_name_columns_and_order_by_writes_a_selected_label_by_its_name);
    RUN(a_join_with_no_or_several_foreign_keys_names_the_tables_and_the_keys);
    RUN(a_column_of_a_from_item_the_select_does_not_have_is_an_error);
    RUN(from_items_keep_their_first_error);
    RUN(subquery_and_compound_mistakes_name_the_cause);
    RUN(the_entity_table_is_the_first_entitys);
    RUN(out_of_memory_anywhere_is_reported_and_leaks_nothing);
    RUN(an_extended_select_adds_joins_and_columns_and_leaves_its_base_alone);
    RUN(teardown_database);
    free_froms();
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
