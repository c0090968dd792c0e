/* SPDX-License-Identifier: MIT */
/* The engine's statement cache (SQLAlchemy's compiled cache): a Core
 * statement compiled once per shape. For statements of every construct on
 * both dialects, a second statement of the same shape with other values is
 * a cache hit that gives exactly the text and parameters its own compile
 * would; statements of different shapes never share an entry; the bound
 * evicts the least recently used; and on a real database (a SQLite file,
 * or a fresh schema on CALX_TEST_URL's PostgreSQL) a hit returns the right
 * rows while echo says "[cached since ...s ago]" instead of "[generated in
 * ...s]". */
#include <stdint.h>

#include "backend.h"
#include "calx.h"
#include "engine/engine_int.h"
#include "engine/stmt_cache.h"
#include "sql/compiler.h"
#include "test.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

/* ---- tables ---- */

static const calx_column team_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .unique = true },
};
static const calx_table team = { .name = "team", .columns = team_cols, .ncolumns = 2 };

static const calx_column hero_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
    { .name = "age", .type = CALX_COL_INT64, .nullable = true },
    { .name = "team_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "team.id" },
    { .name = "active", .type = CALX_COL_BOOL, .nullable = true },
    { .name = "score", .type = CALX_COL_DOUBLE, .nullable = true },
};
static const calx_table hero = { .name = "hero", .columns = hero_cols, .ncolumns = 6 };
static const calx_table archive = { .name = "hero_archive", .columns = hero_cols,
                                    .ncolumns = 6 };

#define H(c) calx_col_named(&hero, #c)
#define T(c) calx_col_named(&team, #c)
#define F(f, c) calx_from_col((f), #c)
#define COLS(...) (const char *[]){ __VA_ARGS__ }, sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)

/* ---- statements of every construct, values from v ---- */

/* A statement and the FROM items it uses (which must outlive it). */
typedef struct built {
    calx__stmt_ref st;
    calx_from *froms[4];
    size_t nfroms;
} built;

static built of_select(calx_select *q)
{
    return (built){ { CALX__STMT_SELECT, { .select = q } }, { 0 }, 0 };
}

static void built_free(built *b)
{
    switch (b->st.kind) {
    case CALX__STMT_SELECT: calx_select_free((calx_select *)b->st.u.select); break;
    case CALX__STMT_INSERT: calx_insert_free((calx_insert *)b->st.u.insert); break;
    case CALX__STMT_UPDATE: calx_update_free((calx_update *)b->st.u.update); break;
    case CALX__STMT_DELETE: calx_delete_free((calx_delete *)b->st.u.del); break;
    }
    for (size_t i = 0; i < b->nfroms; i++)
        calx_from_free(b->froms[i]);
}

static char name_of[8][32];

/* A text that differs per v, kept as long as the statement. */
static const char *text_v(int v, const char *what)
{
    char *s = name_of[(unsigned)v % 8];
    snprintf(s, sizeof name_of[0], "%s-%d", what, v);
    return s;
}

static built b_where(int v)
{
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_ge(H(age), v));
    return of_select(calx_select_where(q, calx_eq(H(name), text_v(v, "name"))));
}

static built b_in_lists(int v)
{
    calx_select *q = calx_select_columns(H(id), H(name));
    calx_select_where(q, calx_in(H(id), calx_int(v), calx_int(v + 1), calx_int(v + 2)));
    calx_select_where(q, calx_not(calx_in(H(name), calx_text(text_v(v, "x")), calx_null())));
    return of_select(calx_select_where(q, calx_in_values(H(age), NULL, 0)));
}

static built b_operators(int v)
{
    calx_select *q = calx_select_columns(calx_label(calx_div(H(age), calx_add(H(id), v)), "r"),
                                         calx_concat(H(name), text_v(v, "-")),
                                         calx_mod(H(age), v + 2));
    calx_select_where(q, calx_or(calx_like_escape(H(name), text_v(v, "a/%"), '/'),
                                 calx_ilike(H(name), "b%"), calx_contains(H(name), "c"),
                                 calx_startswith(H(name), text_v(v, "s"))));
    calx_select_where(q, calx_between(H(age), v, v + 10));
    calx_select_where(q, calx_is_distinct_from(H(score), 1.5 * v));
    calx_select_where(q, calx_and(calx_is_not_null(H(team_id)), calx_not(H(active)),
                                  calx_eq(H(active), true)));
    return of_select(q);
}

static built b_functions(int v)
{
    calx_select *q = calx_select_columns(
        H(team_id), calx_count(H(id)), calx_sum(H(age)), calx_avg(H(age)),
        calx_coalesce(H(age), calx_lit_int(v)), calx_lower(H(name)), calx_upper(H(name)),
        calx_length(H(name)), calx_abs(H(age)), calx_now(), calx_cast(H(age), CALX_COL_TEXT),
        calx_label(calx_case(calx_lit_text(text_v(v, "young")), calx_gt(H(age), v),
                             calx_lit_text("old")),
                   "band"),
        calx_func("max", CALX_COL_INT64, H(age)), calx_count_all());
    calx_select_distinct(q);
    calx_select_group_by(q, H(team_id));
    calx_select_having(q, calx_gt(calx_count(H(id)), v));
    calx_select_order_by(q, calx_label(calx_count(H(id)), "band"), CALX_DESC);
    calx_select_order_by(q, H(team_id), CALX_ASC | CALX_NULLS_LAST);
    return of_select(calx_select_offset(calx_select_limit(q, v), v + 1));
}

static built b_offset_only(int v)
{
    /* SQLite writes LIMIT -1 then: a constant of the dialect's. */
    return of_select(calx_select_offset(calx_select_new(&team), v));
}

static built b_joins(int v)
{
    built b = { 0 };
    calx_from *boss = calx_alias_new(&hero, "boss"), *anon = calx_alias_new(&team, NULL);
    calx_select *q = calx_select_new(&hero);
    calx_select_join(q, &team, NULL, CALX_JOIN_LEFT);
    calx_select_join_from(q, boss, calx_eq(F(boss, id), H(team_id)), CALX_JOIN_INNER);
    calx_select_join_from(q, anon, calx_eq(F(anon, id), F(boss, team_id)), CALX_JOIN_FULL);
    calx_select_add_entity(q, &team);
    calx_select_add_column(q, F(boss, name));
    calx_select_add_column(q, F(anon, name));
    calx_select_where(q, calx_eq(T(name), text_v(v, "team")));
    b = of_select(q);
    b.froms[0] = boss;
    b.froms[1] = anon;
    b.nfroms = 2;
    return b;
}

static built b_subqueries(int v)
{
    built b = { 0 };
    calx_select *inner = calx_select_where(calx_select_columns(H(team_id), H(age)),
                                           calx_gt(H(age), v));
    calx_from *older = calx_subquery_new(inner, NULL);
    calx_select *q = calx_select_columns(T(name), F(older, age));
    calx_select_join_from(q, older, calx_eq(F(older, team_id), T(id)), CALX_JOIN_INNER);
    calx_select_where(q, calx_exists(calx_select_where(calx_select_columns(H(id)),
                                                       calx_eq(H(team_id), T(id)))));
    calx_select_where(q, calx_in_select(T(id), calx_select_where(calx_select_columns(H(team_id)),
                                                                 calx_lt(H(age), v + 5))));
    calx_select_add_column(q, calx_label(calx_scalar_subquery(calx_select_where(
                                             calx_select_columns(calx_max(H(age))),
                                             calx_ne(H(name), text_v(v, "n")))),
                                         "oldest"));
    b = of_select(q);
    b.froms[0] = older;
    b.nfroms = 1;
    return b;
}

static built b_ctes_and_sets(int v)
{
    built b = { 0 };
    calx_from *young = calx_cte_new(calx_select_where(calx_select_columns(H(id), H(name)),
                                                      calx_lt(H(age), v)),
                                    "young");
    calx_from *chain = calx_cte_recursive_new(
        calx_select_where(calx_select_columns(T(id)), calx_eq(T(id), v)), "chain");
    calx_select *step = calx_select_columns(calx_add(F(chain, id), 1));
    calx_select_where(step, calx_lt(F(chain, id), v + 3));
    calx_cte_union_all(chain, step);
    calx_select *a = calx_select_columns(F(young, name));
    calx_select *c = calx_select_where(calx_select_columns(T(name)),
                                       calx_in_select(T(id), calx_select_columns(F(chain, id))));
    calx_select *u = calx_union(a, c);
    calx_select *x = calx_except(calx_select_columns(H(name)),
                                 calx_select_where(calx_select_columns(H(name)),
                                                   calx_eq(H(age), v)));
    calx_select *all = calx_union_all(u, x);
    calx_select_order_by(all, calx_col_named(&hero, "name"), CALX_ASC);
    b = of_select(calx_select_limit(all, v));
    b.froms[0] = young;
    b.froms[1] = chain;
    b.nfroms = 2;
    return b;
}

static built b_insert_one(int v)
{
    calx_insert *s = calx_insert_new(&hero);
    calx_insert_set(s, "name", text_v(v, "hero"));
    calx_insert_set(s, "age", calx_lit_int(v));
    calx_insert_value(s, "team_id", calx_lit(calx_null()));
    calx_insert_value(s, "score", calx_add(calx_lit_real(0.5), v));
    calx_insert_returning(s, H(id));
    return (built){ { CALX__STMT_INSERT, { .insert = s } }, { 0 }, 0 };
}

static built b_insert_rows(int v)
{
    calx_insert *s = calx_insert_new(&hero);
    calx_insert_columns(s, COLS("id", "name", "age"));
    for (int i = 0; i < 3; i++)
        calx_insert_row(s, (calx_value[]){ calx_int(100 * v + i), calx_text(text_v(v, "r")),
                                           i == 1 ? calx_null() : calx_int(v + i) });
    calx_insert_on_conflict_do_update(s, COLS("id"));
    calx_insert_on_conflict_set(s, "age", calx_add(calx_excluded(&hero, "age"), v));
    calx_insert_on_conflict_where(s, calx_lt(H(age), calx_excluded(&hero, "age")));
    return (built){ { CALX__STMT_INSERT, { .insert = s } }, { 0 }, 0 };
}

static built b_insert_select(int v)
{
    calx_insert *s = calx_insert_new(&archive);
    calx_insert_from_select(s, COLS("id", "name", "age", "team_id", "active", "score"),
                            calx_select_where(calx_select_new(&hero), calx_gt(H(id), v)));
    calx_insert_on_conflict_do_nothing(s, NULL, 0);
    return (built){ { CALX__STMT_INSERT, { .insert = s } }, { 0 }, 0 };
}

static built b_update(int v)
{
    calx_update *s = calx_update_new(&hero);
    calx_update_value(s, "age", calx_add(H(age), v));
    calx_update_set(s, "name", text_v(v, "renamed"));
    calx_update_value(s, "score", calx_lit(calx_null()));
    calx_update_where(s, calx_in_select(H(team_id),
                                        calx_select_where(calx_select_columns(T(id)),
                                                          calx_eq(T(name), text_v(v, "t")))));
    calx_update_returning(s, H(id));
    return (built){ { CALX__STMT_UPDATE, { .update = s } }, { 0 }, 0 };
}

static built b_update_from(int v)
{
    calx_update *s = calx_update_new(&hero);
    calx_update_from(s, &team);
    calx_update_set(s, "age", v);
    calx_update_where(s, calx_and(calx_eq(H(team_id), T(id)), calx_eq(T(name), text_v(v, "t"))));
    return (built){ { CALX__STMT_UPDATE, { .update = s } }, { 0 }, 0 };
}

static built b_delete(int v)
{
    calx_delete *s = calx_delete_new(&hero);
    calx_delete_using(s, &team);
    calx_delete_where(s, calx_and(calx_eq(H(team_id), T(id)), calx_gt(T(id), v)));
    calx_delete_returning(s, H(name));
    return (built){ { CALX__STMT_DELETE, { .del = s } }, { 0 }, 0 };
}

typedef built (*builder)(int v);

static const struct {
    const char *name;
    builder make;
} every_construct[] = {
    { "where", b_where },
    { "in lists", b_in_lists },
    { "operators", b_operators },
    { "functions", b_functions },
    { "offset only", b_offset_only },
    { "joins and aliases", b_joins },
    { "subqueries", b_subqueries },
    { "ctes and sets", b_ctes_and_sets },
    { "insert of one row", b_insert_one },
    { "insert of rows, upsert", b_insert_rows },
    { "insert from select", b_insert_select },
    { "update", b_update },
    { "update from", b_update_from },
    { "delete using", b_delete },
};

/* ---- comparing a readied statement with a compile ---- */

static bool same_value(const calx_value *a, const calx_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case CALX_INT: return a->u.i == b->u.i;
    case CALX_REAL: return a->u.d == b->u.d;
    case CALX_BOOL: return a->u.b == b->u.b;
    case CALX_TEXT:
    case CALX_BLOB:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
    default: return true;
    }
}

/* Whether r runs exactly what compiling st for d gives. */
static bool runs_its_compile(const char *what, const calx__stmt_ready *r, calx__stmt_ref st,
                             const calx_dialect *d)
{
    calx_compiled_list l;
    calx_error err;
    if (calx__statement_compile(st, d, &l, &err)) {
        fprintf(stderr, "  %s (%s): %s\n", what, d->name, err.message);
        return false;
    }
    bool same = l.n == r->n;
    for (size_t i = 0; same && i < l.n; i++) {
        const calx_compiled *c = &l.parts[i].c;
        const calx_stmt *s = &r->stmts[i];
        same = strcmp(c->sql, s->sql) == 0 && s->nsets == l.parts[i].nsets;
        size_t per = c->nparams / l.parts[i].nsets;
        for (size_t k = 0; same && k < c->nparams; k++)
            same = same_value(&c->params[k].value, &s->params[k / per].items[k % per].value);
    }
    if (!same)
        fprintf(stderr, "  %s (%s): the readied statement is not its compile (%s)\n", what,
                d->name, l.n ? l.parts[0].c.sql : "");
    calx__compiled_list_free(&l);
    return same;
}

/* Readies b through sc, checking it against its own compile. */
static void ready_and_check(const char *what, calx__stmt_cache *sc, const calx_dialect *d,
                            built *b)
{
    calx__stmt_ready r;
    calx_error err;
    int rc = calx__stmt_cache_ready(sc, d, b->st, &r, &err);
    if (rc) {
        fprintf(stderr, "  %s (%s): %s\n", what, d->name, err.message);
        test_failed_now = 1;
    } else {
        CHECK(runs_its_compile(what, &r, b->st, d));
    }
    calx__stmt_ready_free(&r);
}

static calx__stmt_cache_stats stats_of(const calx__stmt_cache *sc)
{
    calx__stmt_cache_stats s;
    calx__stmt_cache_stats_read(sc, &s);
    return s;
}

/* Whether d can compile b's statement at all (SQLite has no UPDATE ...
 * FROM or DELETE ... USING in calx's dialect: those are errors, and an
 * error is never cached). */
static bool compiles(const calx_dialect *d, builder make)
{
    built b = make(1);
    calx_compiled_list l;
    calx_error err;
    int rc = calx__statement_compile(b.st, d, &l, &err);
    calx__compiled_list_free(&l);
    built_free(&b);
    return rc == CALX_OK;
}

/* ---- the cache itself ---- */

TEST(the_same_shape_with_other_values_compiles_once_and_binds_the_new_values)
{
    const calx_dialect *const dialects[] = { lite, pg };
    for (size_t di = 0; di < 2; di++) {
        const calx_dialect *d = dialects[di];
        for (size_t i = 0; i < sizeof every_construct / sizeof every_construct[0]; i++) {
            if (!compiles(d, every_construct[i].make))
                continue;   /* SQLite's DELETE ... USING */
            calx__stmt_cache *sc = calx__stmt_cache_new(8);
            for (int v = 1; v <= 3; v++) {
                built b = every_construct[i].make(v);
                ready_and_check(every_construct[i].name, sc, d, &b);
                built_free(&b);
            }
            calx__stmt_cache_stats s = stats_of(sc);
            if (s.misses != 1 || s.hits != 2 || s.uncacheable) {
                fprintf(stderr, "  %s (%s): %llu misses, %llu hits, %llu uncacheable\n",
                        every_construct[i].name, d->name, (unsigned long long)s.misses,
                        (unsigned long long)s.hits, (unsigned long long)s.uncacheable);
                test_failed_now = 1;
            }
            calx__stmt_cache_free(sc);
        }
    }
}

TEST(a_statement_that_does_not_compile_is_not_cached_and_fails_each_time)
{
    /* RETURNING on a dialect without it. */
    calx_dialect old = *lite;
    old.supports_returning = false;
    calx__stmt_cache *sc = calx__stmt_cache_new(8);
    for (int i = 0; i < 2; i++) {
        built b = b_delete(1);
        calx__stmt_ready r;
        calx_error err;
        CHECK_INT(calx__stmt_cache_ready(sc, &old, b.st, &r, &err), CALX_ERR_NOT_SUPPORTED);
        calx__stmt_ready_free(&r);
        built_free(&b);
    }
    calx__stmt_cache_stats s = stats_of(sc);
    CHECK_INT(s.size, 0);
    CHECK_INT(s.hits, 0);
    calx__stmt_cache_free(sc);
}

static built rows_of_n(int n)
{
    calx_insert *s = calx_insert_new(&team);
    calx_insert_columns(s, COLS("id", "name"));
    for (int i = 0; i < n; i++)
        calx_insert_row(s, (calx_value[]){ calx_int(i), calx_text("t") });
    return (built){ { CALX__STMT_INSERT, { .insert = s } }, { 0 }, 0 };
}

static built where_id(calx_expr *cond)
{
    return of_select(calx_select_where(calx_select_columns(H(id)), cond));
}

/* Statements that differ in shape, not only in values, by number. */
enum {
    S_NAME_COL, S_AGE_COL, S_GT, S_GE, S_IN2, S_IN3, S_IN_NULL, S_LIMIT, S_OFFSET,
    S_NO_LIMIT, S_ALIAS_A, S_ALIAS_B, S_TRUE, S_FALSE, S_LABEL_A, S_LABEL_B, S_ROWS2,
    S_ROWS3, S_SET_AGE, S_SET_NAME
};

static built shape(int k)
{
    calx_from *a;
    built b;
    switch (k) {
    case S_NAME_COL:
        return of_select(calx_select_where(calx_select_columns(H(name)), calx_eq(H(id), 1)));
    case S_AGE_COL:
        return of_select(calx_select_where(calx_select_columns(H(age)), calx_eq(H(id), 1)));
    case S_GT: return where_id(calx_gt(H(age), 1));
    case S_GE: return where_id(calx_ge(H(age), 1));
    case S_IN2: return where_id(calx_in(H(id), calx_int(1), calx_int(2)));
    case S_IN3: return where_id(calx_in(H(id), calx_int(1), calx_int(2), calx_int(3)));
    case S_IN_NULL: return where_id(calx_in(H(id), calx_int(1), calx_null()));
    case S_LIMIT: return of_select(calx_select_limit(calx_select_columns(H(id)), 5));
    case S_OFFSET: return of_select(calx_select_offset(calx_select_columns(H(id)), 5));
    case S_NO_LIMIT: return of_select(calx_select_columns(H(id)));
    case S_ALIAS_A:
    case S_ALIAS_B:
        a = calx_alias_new(&team, k == S_ALIAS_A ? "a" : "b");
        b = of_select(calx_select_where(calx_select_columns(F(a, name)), calx_eq(F(a, id), 1)));
        b.froms[b.nfroms++] = a;
        return b;
    case S_TRUE: return where_id(calx_eq(H(active), true));
    case S_FALSE: return where_id(calx_eq(H(active), false));
    case S_LABEL_A: return of_select(calx_select_columns(calx_label(H(age), "a")));
    case S_LABEL_B: return of_select(calx_select_columns(calx_label(H(age), "b")));
    case S_ROWS2: return rows_of_n(2);
    case S_ROWS3: return rows_of_n(3);
    case S_SET_AGE:
        return (built){ { CALX__STMT_UPDATE,
                          { .update = calx_update_set(calx_update_new(&hero), "age", 1) } },
                        { 0 }, 0 };
    default:
        return (built){ { CALX__STMT_UPDATE,
                          { .update = calx_update_set(calx_update_new(&hero), "name", "x") } },
                        { 0 }, 0 };
    }
}

TEST(statements_of_different_shapes_never_share_an_entry)
{
    static const struct {
        const char *what;
        int a, b;
    } pairs[] = {
        { "another column", S_NAME_COL, S_AGE_COL },
        { "another operator", S_GT, S_GE },
        { "IN with 2 and with 3 values", S_IN2, S_IN3 },
        { "a NULL in an IN list (written inline)", S_IN2, S_IN_NULL },
        { "a limit and an offset", S_LIMIT, S_OFFSET },
        { "a limit and none", S_LIMIT, S_NO_LIMIT },
        { "another alias name", S_ALIAS_A, S_ALIAS_B },
        { "true and false (written inline)", S_TRUE, S_FALSE },
        { "another label", S_LABEL_A, S_LABEL_B },
        { "2 rows and 3 rows", S_ROWS2, S_ROWS3 },
        { "another column set", S_SET_AGE, S_SET_NAME },
    };
    const calx_dialect *const dialects[] = { lite, pg };
    for (size_t di = 0; di < 2; di++) {
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
            calx__stmt_cache *sc = calx__stmt_cache_new(8);
            built a = shape(pairs[i].a), b = shape(pairs[i].b);
            ready_and_check(pairs[i].what, sc, dialects[di], &a);
            ready_and_check(pairs[i].what, sc, dialects[di], &b);
            calx__stmt_cache_stats s = stats_of(sc);
            if (s.misses != 2 || s.hits != 0) {
                fprintf(stderr, "  %s (%s): shared an entry\n", pairs[i].what,
                        dialects[di]->name);
                test_failed_now = 1;
            }
            built_free(&a);
            built_free(&b);
            calx__stmt_cache_free(sc);
        }
    }
}

TEST(two_aliases_are_not_one_alias_used_twice)
{
    /* Two aliases named alike are two FROM items; one used twice is one. */
    calx__stmt_cache *sc = calx__stmt_cache_new(8);
    calx_from *a1 = calx_alias_new(&team, "t"), *a2 = calx_alias_new(&team, "t");
    calx_select *once = calx_select_columns(F(a1, id), F(a1, name));
    calx_select *twice = calx_select_columns(F(a1, id), F(a2, name));
    built b1 = of_select(once), b2 = of_select(twice);
    ready_and_check("one alias", sc, pg, &b1);
    ready_and_check("two aliases", sc, pg, &b2);
    CHECK_INT(stats_of(sc).misses, 2);
    built_free(&b1);
    built_free(&b2);
    calx_from_free(a1);
    calx_from_free(a2);
    calx__stmt_cache_free(sc);
}

TEST(the_bound_evicts_the_least_recently_used_shape)
{
    calx__stmt_cache *sc = calx__stmt_cache_new(2);
    const int order[] = { S_GT, S_GE, S_GT, S_IN2, S_GT, S_GE };
    /* gt, ge: two misses; gt: a hit (now newest); in2: a miss that evicts
     * ge, the least recently used; gt: a hit; ge: a miss again. */
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        built b = shape(order[i]);
        ready_and_check("lru", sc, lite, &b);
        built_free(&b);
    }
    calx__stmt_cache_stats s = stats_of(sc);
    CHECK_INT(s.misses, 4);
    CHECK_INT(s.hits, 2);
    CHECK_INT(s.evictions, 2);
    CHECK_INT(s.size, 2);
    calx__stmt_cache_free(sc);
}

TEST(a_split_insert_is_cached_with_all_its_parts)
{
    /* Room for 2 rows of 2 values a statement: 5 rows are two full
     * statements and one of 1 row. */
    calx_dialect tiny = *lite;
    tiny.max_params = 4;
    calx__stmt_cache *sc = calx__stmt_cache_new(4);
    for (int i = 0; i < 2; i++) {
        built b = rows_of_n(5);
        ready_and_check("split insert", sc, &tiny, &b);
        built_free(&b);
    }
    CHECK_INT(stats_of(sc).hits, 1);
    calx__stmt_cache_free(sc);
}

/* ---- on the database, with echo ---- */

static char logbuf[16384];
static size_t loglen;

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    (void)udata;
    (void)level;
    (void)logger;
    int n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s\n", msg);
    if (n > 0 && loglen + (size_t)n < sizeof logbuf)
        loglen += (size_t)n;
}

static char url[1200];
static calx_engine *echo_engine;
static calx_connection *echo_conn;

TEST(setup_database)
{
    calx_error err;
    const calx_table *all[] = { &team, &hero };
    if (!test_fresh_url(url, sizeof url, dir, 1, NULL)) {
        test_failed_now = 1;
        return;
    }
    if (!sql_db_open(loop, dir, url, all, 2, false, NULL))
        return;
    echo_engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop, .echo = true,
                                                                .log = capture },
                                     &err);
    CHECK(echo_engine != NULL);
    if (echo_engine)
        CHECK_OK(calx_wait(calx_engine_connect(echo_engine, &err), &echo_conn, &err), &err);
}

/* Runs a Core statement on the echo connection: its result, or NULL. */
static calx_result *run(calx_future *f)
{
    calx_error err;
    calx_result *r = NULL;
    if (calx_wait(f, &r, &err)) {
        fprintf(stderr, "  %s\n", err.message);
        test_failed_now = 1;
        return NULL;
    }
    return r;
}

/* The ids q returns, "1,2,3". Frees q. */
static const char *ids_of(calx_select *q)
{
    static char out[256];
    calx_error err;
    calx_result *r = run(calx_conn_execute_select(echo_conn, q, &err));
    calx_select_free(q);
    size_t n = 0;
    out[0] = '\0';
    for (const calx_row *row; r && (row = calx_result_next(r));)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", n ? "," : "",
                              (long long)calx_row_int(row, 0));
    calx_result_free(r);
    return out;
}

static size_t count_of(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

TEST(a_cache_hit_returns_the_right_rows_and_echo_says_cached_since)
{
    if (!echo_conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    calx_insert *ins = calx_insert_new(&team);
    calx_insert_columns(ins, COLS("id", "name"));
    calx_insert_row(ins, (calx_value[]){ calx_int(1), calx_text("Preventers") });
    calx_insert_row(ins, (calx_value[]){ calx_int(2), calx_text("Z-Force") });
    calx_result_free(run(calx_conn_execute_insert(echo_conn, ins, &err)));
    calx_insert_free(ins);
    for (int i = 1; i <= 5; i++) {
        calx_insert *one = calx_insert_new(&hero);
        calx_insert_set(one, "id", calx_lit_int(i));
        calx_insert_set(one, "name", i % 2 ? "odd" : "even");
        calx_insert_set(one, "age", calx_lit_int(10 * i));
        calx_insert_set(one, "team_id", calx_lit_int(i % 2 + 1));
        calx_result_free(run(calx_conn_execute_insert(echo_conn, one, &err)));
        calx_insert_free(one);
    }
    loglen = 0;
    logbuf[0] = '\0';
    for (int i = 0; i < 3; i++) {
        calx_select *q = calx_select_columns(H(id));
        calx_select_where(q, calx_ge(H(age), 10 + 10 * i));
        calx_select_where(q, calx_eq(H(name), i == 1 ? "even" : "odd"));
        calx_select_order_by(q, H(id), CALX_ASC);
        CHECK_STR(ids_of(q), i == 0 ? "1,3,5" : i == 1 ? "2,4" : "3,5");
    }
    /* The first compiled, the others only bound. */
    CHECK_INT(count_of(logbuf, "[generated in "), 1);
    CHECK_INT(count_of(logbuf, "[cached since "), 2);
    CHECK_CONTAINS(logbuf, "s ago] (30, 'odd')\n");
    /* A join, hit with other values. */
    for (int i = 0; i < 2; i++) {
        calx_select *q = calx_select_columns(H(id));
        calx_select_join(q, &team, NULL, CALX_JOIN_INNER);
        calx_select_where(q, calx_eq(T(name), i ? "Preventers" : "Z-Force"));
        calx_select_order_by(q, H(id), CALX_ASC);
        CHECK_STR(ids_of(q), i ? "2,4" : "1,3,5");
    }
    calx__stmt_cache_stats s;
    calx__stmt_cache_stats_read(echo_engine->stmts, &s);
    CHECK_INT(s.uncacheable, 0);
    CHECK_INT(s.hits, 4 + 3);   /* the five single-row inserts: four hits */
    CHECK_OK(calx_wait(calx_conn_commit(echo_conn, &err), NULL, &err), &err);
}

TEST(updates_and_deletes_hit_the_cache_and_change_the_rows_their_values_name)
{
    if (!echo_conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    loglen = 0;
    logbuf[0] = '\0';
    for (int i = 1; i <= 2; i++) {
        calx_update *u = calx_update_new(&hero);
        calx_update_value(u, "age", calx_add(H(age), i));
        calx_update_where(u, calx_eq(H(id), i));
        calx_result *r = run(calx_conn_execute_update(echo_conn, u, &err));
        CHECK_INT(calx_result_rowcount(r), 1);
        calx_result_free(r);
        calx_update_free(u);
    }
    for (int i = 4; i <= 5; i++) {
        calx_delete *d = calx_delete_where(calx_delete_new(&hero), calx_eq(H(id), i));
        calx_result *r = run(calx_conn_execute_delete(echo_conn, d, &err));
        CHECK_INT(calx_result_rowcount(r), 1);
        calx_result_free(r);
        calx_delete_free(d);
    }
    CHECK_INT(count_of(logbuf, "[generated in "), 2);
    CHECK_INT(count_of(logbuf, "[cached since "), 2);
    calx_select *q = calx_select_columns(calx_label(calx_sum(H(age)), "total"));
    calx_result *r = run(calx_conn_execute_select(echo_conn, q, &err));
    calx_select_free(q);
    /* 11 + 22 + 30 (4 and 5 deleted). */
    CHECK_INT(r ? calx_row_int(calx_result_first(r), 0) : -1, 63);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(echo_conn, &err), NULL, &err), &err);
}

TEST(without_a_cache_every_statement_compiles_and_echo_says_caching_disabled)
{
    if (!echo_conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    calx_engine *e = calx_create_engine(
        url,
        &(calx_engine_opts){ .loop = loop, .echo = true, .log = capture,
                             .query_cache_size = CALX_QUERY_CACHE_OFF },
        &err);
    CHECK(e != NULL);
    CHECK(e && e->stmts == NULL);
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(e, &err), &c, &err), &err);
    loglen = 0;
    logbuf[0] = '\0';
    for (int i = 0; i < 2; i++) {
        calx_select *q = calx_select_where(calx_select_columns(H(id)), calx_eq(H(id), i + 1));
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute_select(c, q, &err), &r, &err), &err);
        CHECK_INT(r ? calx_row_int(calx_result_first(r), 0) : -1, i + 1);
        calx_result_free(r);
        calx_select_free(q);
    }
    CHECK_INT(count_of(logbuf, "[caching disabled "), 2);
    CHECK_INT(count_of(logbuf, "[cached since "), 0);
    calx_conn_close(c);
    calx_engine_free(e);
    calx_loop_run(loop);
    /* Below CALX_QUERY_CACHE_OFF is no size. */
    CHECK(calx_create_engine(url, &(calx_engine_opts){ .loop = loop, .query_cache_size = -2 },
                             &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "query_cache_size");
}

TEST(teardown_database)
{
    calx_conn_close(echo_conn);
    echo_conn = NULL;
    calx_engine_free(echo_engine);
    echo_engine = NULL;
    calx_loop_run(loop);
    sql_db_close(loop, true);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_statement_cache");
    RUN(the_same_shape_with_other_values_compiles_once_and_binds_the_new_values);
    RUN(a_statement_that_does_not_compile_is_not_cached_and_fails_each_time);
    RUN(statements_of_different_shapes_never_share_an_entry);
    RUN(two_aliases_are_not_one_alias_used_twice);
    RUN(the_bound_evicts_the_least_recently_used_shape);
    RUN(a_split_insert_is_cached_with_all_its_parts);
    RUN(setup_database);
    RUN(a_cache_hit_returns_the_right_rows_and_echo_says_cached_since);
    RUN(updates_and_deletes_hit_the_cache_and_change_the_rows_their_values_name);
    RUN(without_a_cache_every_statement_compiles_and_echo_says_caching_disabled);
    RUN(teardown_database);
    calx_loop_free(loop);
    return TEST_REPORT();
}
