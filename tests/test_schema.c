/* SPDX-License-Identifier: MIT */
/* Table schema, DDL per dialect, and create_all / drop_all on real SQLite
 * files, checked against what SQLAlchemy + SQLModel emit for the SQLModel
 * tutorial (the strings below are copied from its echo log). */
#include <stdint.h>

#include "calx.h"
#include "core/evloop.h"
#include "sql/ddl.h"
#include "sql/ident.h"
#include "sql/text.h"
#include "test.h"

static calx_loop *loop;
static const char *dir;
static int seq;

/* ---- the tutorial's tables ---- */

static const calx_column team_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .index = true },
    { .name = "headquarters", .type = CALX_COL_TEXT },
};
static const calx_table team_table = { .name = "team", .columns = team_cols, .ncolumns = 3 };

static const calx_column hero_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .index = true },
    { .name = "secret_name", .type = CALX_COL_TEXT },
    { .name = "age", .type = CALX_COL_INT64, .nullable = true, .index = true },
    { .name = "team_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "team.id" },
};
static const calx_table hero_table = { .name = "hero", .columns = hero_cols, .ncolumns = 5 };

#define REF_CREATE_TEAM                                                      \
    "\nCREATE TABLE team (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, " \
    "\n\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)\n\n"
#define REF_CREATE_HERO                                                      \
    "\nCREATE TABLE hero (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, " \
    "\n\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, "  \
    "\n\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)\n\n"

/* The "### create_all" block of the reference log, timings as "T". */
static const char ref_create_all[] =
    "INFO sqlalchemy.engine.Engine BEGIN (implicit)\n"
    "INFO sqlalchemy.engine.Engine PRAGMA main.table_info(\"team\")\n"
    "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
    "INFO sqlalchemy.engine.Engine PRAGMA temp.table_info(\"team\")\n"
    "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
    "INFO sqlalchemy.engine.Engine PRAGMA main.table_info(\"hero\")\n"
    "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
    "INFO sqlalchemy.engine.Engine PRAGMA temp.table_info(\"hero\")\n"
    "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
    "INFO sqlalchemy.engine.Engine \n"
    "CREATE TABLE team (\n"
    "\tid INTEGER NOT NULL, \n"
    "\tname VARCHAR NOT NULL, \n"
    "\theadquarters VARCHAR NOT NULL, \n"
    "\tPRIMARY KEY (id)\n"
    ")\n"
    "\n"
    "\n"
    "INFO sqlalchemy.engine.Engine [no key T] ()\n"
    "INFO sqlalchemy.engine.Engine CREATE INDEX ix_team_name ON team (name)\n"
    "INFO sqlalchemy.engine.Engine [no key T] ()\n"
    "INFO sqlalchemy.engine.Engine \n"
    "CREATE TABLE hero (\n"
    "\tid INTEGER NOT NULL, \n"
    "\tname VARCHAR NOT NULL, \n"
    "\tsecret_name VARCHAR NOT NULL, \n"
    "\tage INTEGER, \n"
    "\tteam_id INTEGER, \n"
    "\tPRIMARY KEY (id), \n"
    "\tFOREIGN KEY(team_id) REFERENCES team (id)\n"
    ")\n"
    "\n"
    "\n"
    "INFO sqlalchemy.engine.Engine [no key T] ()\n"
    "INFO sqlalchemy.engine.Engine CREATE INDEX ix_hero_name ON hero (name)\n"
    "INFO sqlalchemy.engine.Engine [no key T] ()\n"
    "INFO sqlalchemy.engine.Engine CREATE INDEX ix_hero_age ON hero (age)\n"
    "INFO sqlalchemy.engine.Engine [no key T] ()\n"
    "INFO sqlalchemy.engine.Engine COMMIT\n";

/* ---- helpers ---- */

static char logbuf[65536];
static size_t loglen;

/* Captures the log as SQLAlchemy's logger would print it, timings as "T". */
static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    if (strcmp(logger, "calx.engine.Engine") == 0)
        logger = "sqlalchemy.engine.Engine";
    char line[4096];
    snprintf(line, sizeof line, "%s %s %s\n", calx_log_level_name(level), logger, msg);
    char *t = strstr(line, "[no key ");
    if (t) {
        char *end = strchr(t, ']');
        if (end)
            memmove(t + 9, end, strlen(end) + 1), t[8] = 'T';
    }
    int n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s", line);
    if (n > 0 && loglen + (size_t)n < sizeof logbuf)
        loglen += (size_t)n;
}

static void log_reset(void)
{
    loglen = 0;
    logbuf[0] = '\0';
}

static calx_engine *make_engine(bool echo)
{
    char url[600];
    calx_error err;
    snprintf(url, sizeof url, "sqlite:///%s/s%d.db", dir, ++seq);
    calx_engine *e = calx_create_engine(
        url, &(calx_engine_opts){ .loop = loop, .echo = echo, .log = capture }, &err);
    if (!e)
        fprintf(stderr, "  create_engine: %s\n", err.message);
    return e;
}

static void free_engine(calx_engine *e)
{
    calx_engine_free(e);
    calx_loop_run(loop);
}

static calx_metadata *tutorial_metadata(bool hero_first)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    CHECK_OK(calx_metadata_add(md, hero_first ? &hero_table : &team_table, &err), &err);
    CHECK_OK(calx_metadata_add(md, hero_first ? &team_table : &hero_table, &err), &err);
    return md;
}

/* Runs sql on a fresh connection of e and returns its result (caller frees). */
static calx_result *query(calx_engine *e, const char *sql, const calx_params *p,
                          calx_error *err)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    if (calx_wait(calx_engine_connect(e, err), &c, err) == 0)
        calx_wait(calx_conn_execute(c, sql, p, err), &r, err);
    calx_conn_close(c);
    return r;
}

static int64_t count(calx_engine *e, const char *sql)
{
    calx_error err;
    calx_result *r = query(e, sql, NULL, &err);
    int64_t n = r ? calx_result_scalar(r).u.i : -1;
    calx_result_free(r);
    return n;
}

static char *ddl_table(const calx_dialect *d, const calx_table *t)
{
    calx_error err;
    char *s = calx__ddl_create_table(d, t, &err);
    if (!s)
        fprintf(stderr, "  create_table: %s\n", err.message);
    return s;
}

/* ---- DDL text ---- */

TEST(sqlite_ddl_matches_sqlalchemy)
{
    calx_error err;
    const calx_dialect *d = &calx__dialect_sqlite;
    char *s = ddl_table(d, &team_table);
    CHECK_STR(s, REF_CREATE_TEAM);
    free(s);
    s = ddl_table(d, &hero_table);
    CHECK_STR(s, REF_CREATE_HERO);
    free(s);
    s = calx__ddl_create_index(d, &hero_table, &hero_cols[1], &err);
    CHECK_STR(s, "CREATE INDEX ix_hero_name ON hero (name)");
    free(s);
    s = calx__ddl_create_index(d, &hero_table, &hero_cols[3], &err);
    CHECK_STR(s, "CREATE INDEX ix_hero_age ON hero (age)");
    free(s);
    s = calx__ddl_drop_table(d, &hero_table, &err);
    CHECK_STR(s, "\nDROP TABLE hero");
    free(s);
    s = calx__ddl_drop_index(d, &hero_table, &hero_cols[1], &err);
    CHECK_STR(s, "\nDROP INDEX ix_hero_name");
    free(s);
    char *sql[CALX_DDL_HAS_TABLE_MAX];
    CHECK_INT(calx__ddl_has_table(d, "team", sql, &err), 2);
    CHECK_STR(sql[0], "PRAGMA main.table_info(\"team\")");
    CHECK_STR(sql[1], "PRAGMA temp.table_info(\"team\")");
    free(sql[0]);
    free(sql[1]);
    calx_param items[CALX_DDL_HAS_TABLE_PARAMS];
    CHECK_INT(calx__ddl_has_table_params(d, "team", items), 0);
}

static const calx_column types_cols[] = {
    { .name = "i32", .type = CALX_COL_INT32 },
    { .name = "i64", .type = CALX_COL_INT64 },
    { .name = "d", .type = CALX_COL_DOUBLE, .nullable = true },
    { .name = "b", .type = CALX_COL_BOOL, .server_default = "false" },
    { .name = "t", .type = CALX_COL_TEXT, .max_length = 50 },
    { .name = "bl", .type = CALX_COL_BLOB, .nullable = true },
    { .name = "ts", .type = CALX_COL_TIMESTAMP, .server_default = "CURRENT_TIMESTAMP" },
};
static const calx_table types_table = { .name = "types", .columns = types_cols, .ncolumns = 7 };

TEST(types_per_dialect)
{
    char *s = ddl_table(&calx__dialect_sqlite, &types_table);
    CHECK_STR(s, "\nCREATE TABLE types (\n\ti32 INTEGER NOT NULL, \n\ti64 INTEGER NOT NULL, "
                 "\n\td FLOAT, \n\tb BOOLEAN DEFAULT false NOT NULL, "
                 "\n\tt VARCHAR(50) NOT NULL, \n\tbl BLOB, "
                 "\n\tts DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL\n)\n\n");
    free(s);
    s = ddl_table(&calx__dialect_postgresql, &types_table);
    CHECK_STR(s, "\nCREATE TABLE types (\n\ti32 INTEGER NOT NULL, \n\ti64 BIGINT NOT NULL, "
                 "\n\td DOUBLE PRECISION, \n\tb BOOLEAN DEFAULT false NOT NULL, "
                 "\n\tt VARCHAR(50) NOT NULL, \n\tbl BYTEA, "
                 "\n\tts TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL\n)\n\n");
    free(s);
}

TEST(postgresql_ddl)
{
    calx_error err;
    const calx_dialect *d = &calx__dialect_postgresql;
    char *s = ddl_table(d, &hero_table);
    CHECK_STR(s, "\nCREATE TABLE hero (\n\tid BIGSERIAL NOT NULL, \n\tname VARCHAR NOT NULL, "
                 "\n\tsecret_name VARCHAR NOT NULL, \n\tage BIGINT, \n\tteam_id BIGINT, "
                 "\n\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)\n\n");
    free(s);
    static const calx_column c32[] = {
        { .name = "id", .type = CALX_COL_INT32, .primary_key = true },
        { .name = "n", .type = CALX_COL_INT32, .unique = true, .index = true },
    };
    static const calx_table t32 = { .name = "t32", .columns = c32, .ncolumns = 2 };
    s = ddl_table(d, &t32);
    CHECK_STR(s, "\nCREATE TABLE t32 (\n\tid SERIAL NOT NULL, \n\tn INTEGER NOT NULL, "
                 "\n\tPRIMARY KEY (id)\n)\n\n");
    free(s);
    s = calx__ddl_create_index(d, &t32, &c32[1], &err);
    CHECK_STR(s, "CREATE UNIQUE INDEX ix_t32_n ON t32 (n)");
    free(s);
    char *sql[CALX_DDL_HAS_TABLE_MAX];
    CHECK_INT(calx__ddl_has_table(d, "hero", sql, &err), 1);
    CHECK_STR(sql[0],
              "SELECT pg_catalog.pg_class.relname \n"
              "FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
              "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
              "WHERE pg_catalog.pg_class.relname = :table_name AND "
              "pg_catalog.pg_class.relkind = ANY (ARRAY[:param_1, :param_2, :param_3, "
              ":param_4, :param_5]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
              "AND pg_catalog.pg_namespace.nspname != :nspname_1");
    calx_param items[CALX_DDL_HAS_TABLE_PARAMS];
    CHECK_INT(calx__ddl_has_table_params(d, "hero", items), 7);
    CHECK_STR(items[0].name, "table_name");
    CHECK_STR(items[0].value.u.s.ptr, "hero");
    CHECK_STR(items[5].value.u.s.ptr, "m");
    CHECK_STR(items[6].value.u.s.ptr, "pg_catalog");
    /* The query compiles to $n placeholders with every name bound. */
    calx_text_plan plan;
    CHECK_OK(calx__text_compile(sql[0], &(calx_params){ items, 7 }, CALX_PARAMSTYLE_DOLLAR,
                                &plan, &err), &err);
    CHECK_INT(plan.nslots, 7);
    CHECK_CONTAINS(plan.sql, "relname = $1 AND");
    CHECK_CONTAINS(plan.sql, "nspname != $7");
    calx__text_plan_free(&plan);
    free(sql[0]);
}

TEST(autoincrement_rules)
{
    calx_error err;
    const calx_dialect *pg = &calx__dialect_postgresql, *lite = &calx__dialect_sqlite;
    /* A composite key autoincrements only where asked, that column first. */
    static const calx_column comp[] = {
        { .name = "a", .type = CALX_COL_INT32, .primary_key = true },
        { .name = "b", .type = CALX_COL_INT64, .primary_key = true,
          .autoincrement = CALX_AUTOINC_ON },
    };
    static const calx_table tcomp = { .name = "comp", .columns = comp, .ncolumns = 2 };
    char *s = ddl_table(pg, &tcomp);
    CHECK_STR(s, "\nCREATE TABLE comp (\n\ta INTEGER NOT NULL, \n\tb BIGSERIAL NOT NULL, "
                 "\n\tPRIMARY KEY (b, a)\n)\n\n");
    free(s);
    CHECK(calx__ddl_create_table(lite, &tcomp, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
    CHECK_CONTAINS(err.message, "SQLite does not support autoincrement for composite");
    /* No autoincrement: OFF, a key that is a foreign key, a composite key. */
    static const calx_column off[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true,
          .autoincrement = CALX_AUTOINC_OFF },
    };
    static const calx_table toff = { .name = "plain", .columns = off, .ncolumns = 1 };
    s = ddl_table(pg, &toff);
    CHECK_STR(s, "\nCREATE TABLE plain (\n\tid BIGINT NOT NULL, \n\tPRIMARY KEY (id)\n)\n\n");
    free(s);
    static const calx_column fkpk[] = {
        { .name = "hero_id", .type = CALX_COL_INT32, .primary_key = true,
          .foreign_key = "hero.id", .on_delete = "CASCADE" },
    };
    static const calx_table tfkpk = { .name = "detail", .columns = fkpk, .ncolumns = 1 };
    s = ddl_table(pg, &tfkpk);
    CHECK_STR(s, "\nCREATE TABLE detail (\n\thero_id INTEGER NOT NULL, "
                 "\n\tPRIMARY KEY (hero_id), \n\tFOREIGN KEY(hero_id) REFERENCES hero (id) "
                 "ON DELETE CASCADE\n)\n\n");
    free(s);
    static const calx_column two[] = {
        { .name = "a", .type = CALX_COL_INT32, .primary_key = true },
        { .name = "b", .type = CALX_COL_TEXT, .primary_key = true, .nullable = true },
    };
    static const calx_table ttwo = { .name = "two", .columns = two, .ncolumns = 2 };
    s = ddl_table(pg, &ttwo);
    CHECK_STR(s, "\nCREATE TABLE two (\n\ta INTEGER NOT NULL, \n\tb VARCHAR NOT NULL, "
                 "\n\tPRIMARY KEY (a, b)\n)\n\n");
    free(s);
    /* No primary key at all is allowed. */
    static const calx_column nopk[] = { { .name = "x", .type = CALX_COL_TEXT } };
    static const calx_table tnopk = { .name = "log", .columns = nopk, .ncolumns = 1 };
    s = ddl_table(lite, &tnopk);
    CHECK_STR(s, "\nCREATE TABLE log (\n\tx VARCHAR NOT NULL\n)\n\n");
    free(s);
}

TEST(quoting_of_reserved_and_uppercase_names)
{
    const calx_dialect *pg = &calx__dialect_postgresql, *lite = &calx__dialect_sqlite;
    static const calx_column user_cols[] = {
        { .name = "id", .type = CALX_COL_INT32, .primary_key = true },
        { .name = "Name", .type = CALX_COL_TEXT, .index = true },
        { .name = "order", .type = CALX_COL_INT32, .nullable = true },
        { .name = "_hidden", .type = CALX_COL_BOOL, .nullable = true },
        { .name = "we\"ird col", .type = CALX_COL_TEXT, .nullable = true },
        { .name = "group_id", .type = CALX_COL_INT32, .nullable = true,
          .foreign_key = "group.id" },
    };
    static const calx_table user_table = { .name = "user", .columns = user_cols,
                                           .ncolumns = 6 };
    char *s = ddl_table(pg, &user_table);
    CHECK_STR(s, "\nCREATE TABLE \"user\" (\n\tid SERIAL NOT NULL, "
                 "\n\t\"Name\" VARCHAR NOT NULL, \n\t\"order\" INTEGER, "
                 "\n\t_hidden BOOLEAN, \n\t\"we\"\"ird col\" VARCHAR, "
                 "\n\tgroup_id INTEGER, \n\tPRIMARY KEY (id), "
                 "\n\tFOREIGN KEY(group_id) REFERENCES \"group\" (id)\n)\n\n");
    free(s);
    /* SQLite does not reserve "user" and SQLAlchemy leaves it bare there. */
    s = ddl_table(lite, &user_table);
    CHECK(s && strncmp(s, "\nCREATE TABLE user (\n", 21) == 0);
    CHECK_CONTAINS(s, "REFERENCES \"group\" (id)");
    free(s);
    calx_error err;
    s = calx__ddl_create_index(pg, &user_table, &user_cols[1], &err);
    CHECK_STR(s, "CREATE INDEX \"ix_user_Name\" ON \"user\" (\"Name\")");
    free(s);
    CHECK(calx__sql_requires_quotes(lite, "select"));
    CHECK(calx__sql_requires_quotes(lite, "Hero"));
    CHECK(calx__sql_requires_quotes(lite, "1st"));
    CHECK(calx__sql_requires_quotes(lite, "$x"));
    CHECK(calx__sql_requires_quotes(lite, "a-b"));
    CHECK(calx__sql_requires_quotes(lite, "h\xc3\xa9ro"));
    CHECK(!calx__sql_requires_quotes(lite, "hero_2$"));
    CHECK(!calx__sql_requires_quotes(lite, "_private"));  /* as SQLAlchemy: '_' may lead */
    CHECK(!calx__sql_requires_quotes(pg, "_private"));
    CHECK(!calx__sql_requires_quotes(lite, "user"));
    CHECK(calx__sql_requires_quotes(pg, "user"));
    CHECK(calx__sql_requires_quotes(pg, "returning"));
    CHECK(!calx__sql_requires_quotes(pg, "pragma"));
}

TEST(unique_and_index_combinations)
{
    calx_error err;
    const calx_dialect *d = &calx__dialect_sqlite;
    static const calx_column cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "email", .type = CALX_COL_TEXT, .unique = true },
        { .name = "login", .type = CALX_COL_TEXT, .unique = true, .index = true },
        { .name = "city", .type = CALX_COL_TEXT, .index = true },
        { .name = "team_id", .type = CALX_COL_INT64, .unique = true, .nullable = true,
          .foreign_key = "team.id", .on_delete = "SET NULL", .on_update = "cascade" },
    };
    static const calx_table t = { .name = "account", .columns = cols, .ncolumns = 5 };
    char *s = ddl_table(d, &t);
    CHECK_STR(s, "\nCREATE TABLE account (\n\tid INTEGER NOT NULL, \n\temail VARCHAR NOT NULL, "
                 "\n\tlogin VARCHAR NOT NULL, \n\tcity VARCHAR NOT NULL, \n\tteam_id INTEGER, "
                 "\n\tPRIMARY KEY (id), \n\tUNIQUE (email), \n\tUNIQUE (team_id), "
                 "\n\tFOREIGN KEY(team_id) REFERENCES team (id) ON DELETE SET NULL "
                 "ON UPDATE cascade\n)\n\n");
    free(s);
    s = calx__ddl_create_index(d, &t, &cols[2], &err);
    CHECK_STR(s, "CREATE UNIQUE INDEX ix_account_login ON account (login)");
    free(s);
    s = calx__ddl_create_index(d, &t, &cols[3], &err);
    CHECK_STR(s, "CREATE INDEX ix_account_city ON account (city)");
    free(s);
}

/* ---- metadata ---- */

TEST(metadata_rejects_bad_declarations)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    static const calx_column one[] = { { .name = "id", .type = CALX_COL_INT64 } };
    static const calx_table noname = { .name = "", .columns = one, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &noname, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "empty name");
    static const calx_table nocols = { .name = "t" };
    CHECK_INT(calx_metadata_add(md, &nocols, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "table 't' has no columns");
    static const calx_column dup[] = { { .name = "a", .type = CALX_COL_INT64 },
                                       { .name = "a", .type = CALX_COL_TEXT } };
    static const calx_table tdup = { .name = "t", .columns = dup, .ncolumns = 2 };
    CHECK_INT(calx_metadata_add(md, &tdup, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "column 'a' is declared twice in table 't'");
    static const calx_column notype[] = { { .name = "a" } };
    static const calx_table tnotype = { .name = "t", .columns = notype, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &tnotype, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "column t.a has no type");
    static const calx_column badlen[] = {
        { .name = "a", .type = CALX_COL_INT64, .max_length = 5 } };
    static const calx_table tbadlen = { .name = "t", .columns = badlen, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &tbadlen, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "max_length");
    static const calx_column badfk[] = {
        { .name = "a", .type = CALX_COL_INT64, .foreign_key = "team" } };
    static const calx_table tbadfk = { .name = "t", .columns = badfk, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &tbadfk, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "foreign_key 'team' is not written \"table.column\"");
    static const calx_column badact[] = {
        { .name = "a", .type = CALX_COL_INT64, .foreign_key = "team.id",
          .on_delete = "DESTROY" } };
    static const calx_table tbadact = { .name = "t", .columns = badact, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &tbadact, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "on_delete 'DESTROY' is not one of CASCADE");
    static const calx_column nofk[] = {
        { .name = "a", .type = CALX_COL_INT64, .on_delete = "CASCADE" } };
    static const calx_table tnofk = { .name = "t", .columns = nofk, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &tnofk, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "no foreign_key");
    static const calx_column autotext[] = {
        { .name = "a", .type = CALX_COL_TEXT, .primary_key = true,
          .autoincrement = CALX_AUTOINC_ON } };
    static const calx_table tautotext = { .name = "t", .columns = autotext, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(md, &tautotext, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "autoincrement ON needs an integer primary key");
    static const calx_column twoauto[] = {
        { .name = "a", .type = CALX_COL_INT32, .primary_key = true,
          .autoincrement = CALX_AUTOINC_ON },
        { .name = "b", .type = CALX_COL_INT32, .primary_key = true,
          .autoincrement = CALX_AUTOINC_ON } };
    static const calx_table ttwoauto = { .name = "t", .columns = twoauto, .ncolumns = 2 };
    CHECK_INT(calx_metadata_add(md, &ttwoauto, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "found both a and b");
    CHECK_INT(calx_metadata_ntables(md), 0);
    CHECK_OK(calx_metadata_add(md, &hero_table, &err), &err);
    CHECK_INT(calx_metadata_add(md, &hero_table, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "table 'hero' is already defined");
    CHECK_INT(calx_metadata_ntables(md), 1);
    CHECK(calx_metadata_find(md, "hero") == &hero_table);
    CHECK(calx_metadata_find(md, "team") == NULL);
    calx_metadata_free(md);
}

TEST(foreign_key_order)
{
    calx_error err;
    calx_metadata *md = tutorial_metadata(true);
    const calx_table *out[2];
    CHECK_OK(calx_metadata_sorted(md, out, &err), &err);
    CHECK(out[0] == &team_table && out[1] == &hero_table);
    calx_metadata_free(md);

    /* Layers keep the order added: power and hero both wait for team. */
    static const calx_column power_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "team_id", .type = CALX_COL_INT64, .foreign_key = "team.id" },
        { .name = "parent_id", .type = CALX_COL_INT64, .nullable = true,
          .foreign_key = "power.id" },   /* itself: no dependency */
    };
    static const calx_table power = { .name = "power", .columns = power_cols, .ncolumns = 3 };
    md = calx_metadata_new(&err);
    calx_metadata_add(md, &hero_table, &err);
    calx_metadata_add(md, &power, &err);
    calx_metadata_add(md, &team_table, &err);
    const calx_table *out3[3];
    CHECK_OK(calx_metadata_sorted(md, out3, &err), &err);
    CHECK(out3[0] == &team_table && out3[1] == &hero_table && out3[2] == &power);
    calx_metadata_free(md);
}

TEST(cycle_is_an_error_naming_the_tables)
{
    calx_error err;
    static const calx_column a_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "b_id", .type = CALX_COL_INT64, .foreign_key = "b.id" } };
    static const calx_column b_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "c_id", .type = CALX_COL_INT64, .foreign_key = "c.id" } };
    static const calx_column c_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "a_id", .type = CALX_COL_INT64, .foreign_key = "a.id" } };
    static const calx_table a = { .name = "a", .columns = a_cols, .ncolumns = 2 };
    static const calx_table b = { .name = "b", .columns = b_cols, .ncolumns = 2 };
    static const calx_table c = { .name = "c", .columns = c_cols, .ncolumns = 2 };
    calx_metadata *md = calx_metadata_new(&err);
    calx_metadata_add(md, &team_table, &err);
    calx_metadata_add(md, &a, &err);
    calx_metadata_add(md, &b, &err);
    calx_metadata_add(md, &c, &err);
    const calx_table *out[4];
    CHECK_INT(calx_metadata_sorted(md, out, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "foreign keys form a cycle: a -> b -> c -> a");
    calx_engine *e = make_engine(false);
    CHECK(calx_engine_create_all(e, md, &err) == NULL);
    CHECK_CONTAINS(err.message, "cycle");
    CHECK_INT(count(e, "SELECT count(*) FROM sqlite_master"), 0);
    free_engine(e);
    calx_metadata_free(md);
}

TEST(unknown_foreign_key_target_is_reported)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    CHECK_OK(calx_metadata_add(md, &hero_table, &err), &err);   /* fine at add time */
    const calx_table *out[2];
    CHECK_INT(calx_metadata_sorted(md, out, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "foreign key hero.team_id references unknown table 'team'");
    calx_engine *e = make_engine(false);
    CHECK(calx_engine_create_all(e, md, &err) == NULL);
    CHECK_STR(err.message, "foreign key hero.team_id references unknown table 'team'");
    static const calx_column bad_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "hero_id", .type = CALX_COL_INT64, .foreign_key = "hero.idx" } };
    static const calx_table bad = { .name = "bad", .columns = bad_cols, .ncolumns = 2 };
    CHECK_OK(calx_metadata_add(md, &team_table, &err), &err);
    CHECK_OK(calx_metadata_add(md, &bad, &err), &err);
    CHECK_INT(calx_metadata_sorted(md, (const calx_table *[3]){ 0 }, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "foreign key bad.hero_id references unknown column 'hero.idx'");
    free_engine(e);
    calx_metadata_free(md);
}

TEST(set_null_on_not_null_and_index_name_clash)
{
    calx_error err;
    static const calx_column cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "team_id", .type = CALX_COL_INT64, .foreign_key = "team.id",
          .on_delete = "set null" } };
    static const calx_table t = { .name = "member", .columns = cols, .ncolumns = 2 };
    calx_metadata *md = tutorial_metadata(false);
    CHECK_OK(calx_metadata_add(md, &t, &err), &err);
    const calx_table *out[3];
    CHECK_INT(calx_metadata_sorted(md, out, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "member.team_id has on_delete SET NULL but the column is NOT NULL");
    calx_metadata_free(md);

    static const calx_column c1[] = { { .name = "b_c", .type = CALX_COL_TEXT, .index = true } };
    static const calx_column c2[] = { { .name = "c", .type = CALX_COL_TEXT, .index = true } };
    static const calx_table t1 = { .name = "a", .columns = c1, .ncolumns = 1 };
    static const calx_table t2 = { .name = "a_b", .columns = c2, .ncolumns = 1 };
    md = calx_metadata_new(&err);
    calx_metadata_add(md, &t1, &err);
    calx_metadata_add(md, &t2, &err);
    CHECK_INT(calx_metadata_sorted(md, out, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "index name ix_a_b_c is given by both a.b_c and a_b.c");
    calx_metadata_free(md);
}

/* ---- create_all / drop_all on SQLite ---- */

TEST(create_all_echo_matches_reference)
{
    calx_error err;
    calx_engine *e = make_engine(true);
    calx_metadata *md = tutorial_metadata(false);
    log_reset();
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);
    CHECK_STR(logbuf, ref_create_all);
    /* Line by line, so a difference shows where it is. */
    const char *a = logbuf, *b = ref_create_all;
    for (int line = 1; *a || *b; line++) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            fprintf(stderr, "  line %d: \"%.*s\" != \"%.*s\"\n", line, (int)la, a, (int)lb, b);
            CHECK(0);
            break;
        }
        a += la + (a[la] != 0);
        b += lb + (b[lb] != 0);
    }

    /* Again: the tables are found in main, so no temp check, no CREATE. */
    log_reset();
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);
    CHECK_STR(logbuf, "INFO sqlalchemy.engine.Engine BEGIN (implicit)\n"
                      "INFO sqlalchemy.engine.Engine PRAGMA main.table_info(\"team\")\n"
                      "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
                      "INFO sqlalchemy.engine.Engine PRAGMA main.table_info(\"hero\")\n"
                      "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
                      "INFO sqlalchemy.engine.Engine COMMIT\n");
    CHECK(strstr(logbuf, "CREATE") == NULL);
    free_engine(e);
    calx_metadata_free(md);
}

TEST(create_all_builds_what_was_declared)
{
    calx_error err;
    calx_engine *e = make_engine(false);
    static const calx_column member_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "email", .type = CALX_COL_TEXT, .max_length = 120, .unique = true },
        { .name = "login", .type = CALX_COL_TEXT, .unique = true, .index = true },
        { .name = "hero_id", .type = CALX_COL_INT64, .nullable = true,
          .foreign_key = "hero.id", .on_delete = "CASCADE" },
    };
    static const calx_table member = { .name = "member", .columns = member_cols,
                                       .ncolumns = 4 };
    calx_metadata *md = calx_metadata_new(&err);
    calx_metadata_add(md, &member, &err);
    calx_metadata_add(md, &hero_table, &err);
    calx_metadata_add(md, &team_table, &err);
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);

    calx_result *r = query(e, "SELECT type, name, tbl_name FROM sqlite_master "
                              "WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY rowid",
                           NULL, &err);
    const char *want[][3] = {
        { "table", "team", "team" },       { "index", "ix_team_name", "team" },
        { "table", "hero", "hero" },       { "index", "ix_hero_name", "hero" },
        { "index", "ix_hero_age", "hero" }, { "table", "member", "member" },
        { "index", "ix_member_login", "member" },
    };
    CHECK_INT(calx_result_nrows(r), 7);
    for (size_t i = 0; r && i < 7 && i < calx_result_nrows(r); i++) {
        const calx_row *row = calx_result_row(r, i);
        for (int k = 0; k < 3; k++)
            CHECK_STR(calx_row_text(row, k), want[i][k]);
    }
    calx_result_free(r);

    /* Columns: type, NOT NULL, primary key. */
    r = query(e, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('hero')", NULL,
              &err);
    CHECK_INT(calx_result_nrows(r), 5);
    const char *types[] = { "INTEGER", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER" };
    const int notnull[] = { 1, 1, 1, 0, 0 }, pk[] = { 1, 0, 0, 0, 0 };
    for (size_t i = 0; r && i < 5 && i < calx_result_nrows(r); i++) {
        const calx_row *row = calx_result_row(r, i);
        CHECK_STR(calx_row_text(row, 0), hero_cols[i].name);
        CHECK_STR(calx_row_text(row, 1), types[i]);
        CHECK_INT(calx_row_int(row, 2), notnull[i]);
        CHECK_INT(calx_row_int(row, 3), pk[i]);
    }
    calx_result_free(r);
    r = query(e, "SELECT type FROM pragma_table_info('member') WHERE name = 'email'", NULL,
              &err);
    CHECK_STR(r ? calx_row_text(calx_result_row(r, 0), 0) : NULL, "VARCHAR(120)");
    calx_result_free(r);

    /* Indexes: UNIQUE (email) is a constraint (origin 'u'), login a unique
     * index, and the plain ones not unique. */
    r = query(e, "SELECT name, \"unique\", origin FROM pragma_index_list('member') "
                 "ORDER BY name", NULL, &err);
    CHECK_INT(calx_result_nrows(r), 2);
    if (r && calx_result_nrows(r) == 2) {
        CHECK_STR(calx_row_text(calx_result_row(r, 0), 0), "ix_member_login");
        CHECK_INT(calx_row_int(calx_result_row(r, 0), 1), 1);
        CHECK_STR(calx_row_text(calx_result_row(r, 0), 2), "c");
        CHECK_STR(calx_row_text(calx_result_row(r, 1), 0), "sqlite_autoindex_member_1");
        CHECK_STR(calx_row_text(calx_result_row(r, 1), 2), "u");
    }
    calx_result_free(r);
    CHECK_INT(count(e, "SELECT count(*) FROM pragma_index_list('hero') WHERE \"unique\" = 0"), 2);

    /* Foreign keys, with their ON DELETE. */
    r = query(e, "SELECT \"table\", \"from\", \"to\", on_delete FROM "
                 "pragma_foreign_key_list('member')", NULL, &err);
    CHECK_INT(calx_result_nrows(r), 1);
    if (r && calx_result_nrows(r) == 1) {
        const calx_row *row = calx_result_row(r, 0);
        CHECK_STR(calx_row_text(row, 0), "hero");
        CHECK_STR(calx_row_text(row, 1), "hero_id");
        CHECK_STR(calx_row_text(row, 2), "id");
        CHECK_STR(calx_row_text(row, 3), "CASCADE");
    }
    calx_result_free(r);
    r = query(e, "SELECT \"table\", \"from\", \"to\", on_delete FROM "
                 "pragma_foreign_key_list('hero')", NULL, &err);
    CHECK_INT(calx_result_nrows(r), 1);
    if (r && calx_result_nrows(r) == 1)
        CHECK_STR(calx_row_text(calx_result_row(r, 0), 3), "NO ACTION");
    calx_result_free(r);

    /* The integer primary key is the rowid: ids come by themselves. */
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(e, &err), &c, &err), &err);
    r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "INSERT INTO team (name, headquarters) VALUES "
                                            "('Preventers', 'Sharp Tower') RETURNING id",
                                         NULL, &err), &r, &err), &err);
    CHECK_INT(r ? calx_result_scalar(r).u.i : -1, 1);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);

    free_engine(e);
    calx_metadata_free(md);
}

TEST(drop_all_drops_children_first)
{
    calx_error err;
    calx_engine *e = make_engine(true);
    calx_metadata *md = tutorial_metadata(true);   /* hero declared before team */
    log_reset();
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);
    const char *team = strstr(logbuf, "CREATE TABLE team"), *hero = strstr(logbuf, "CREATE TABLE hero");
    CHECK(team && hero && team < hero);
    /* Checks go in the order added, as SQLAlchemy's. */
    const char *chk_hero = strstr(logbuf, "PRAGMA main.table_info(\"hero\")");
    const char *chk_team = strstr(logbuf, "PRAGMA main.table_info(\"team\")");
    CHECK(chk_hero && chk_team && chk_hero < chk_team);

    log_reset();
    CHECK_OK(calx_wait(calx_engine_drop_all(e, md, &err), NULL, &err), &err);
    CHECK_STR(logbuf, "INFO sqlalchemy.engine.Engine BEGIN (implicit)\n"
                      "INFO sqlalchemy.engine.Engine PRAGMA main.table_info(\"hero\")\n"
                      "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
                      "INFO sqlalchemy.engine.Engine PRAGMA main.table_info(\"team\")\n"
                      "INFO sqlalchemy.engine.Engine [raw sql] ()\n"
                      "INFO sqlalchemy.engine.Engine \nDROP TABLE hero\n"
                      "INFO sqlalchemy.engine.Engine [no key T] ()\n"
                      "INFO sqlalchemy.engine.Engine \nDROP TABLE team\n"
                      "INFO sqlalchemy.engine.Engine [no key T] ()\n"
                      "INFO sqlalchemy.engine.Engine COMMIT\n");
    CHECK_INT(count(e, "SELECT count(*) FROM sqlite_master"), 0);

    /* Nothing to drop: only the checks run. */
    log_reset();
    CHECK_OK(calx_wait(calx_engine_drop_all(e, md, &err), NULL, &err), &err);
    CHECK(strstr(logbuf, "DROP") == NULL);
    CHECK_CONTAINS(logbuf, "PRAGMA temp.table_info(\"team\")");
    free_engine(e);
    calx_metadata_free(md);
}

TEST(not_null_is_enforced_and_committed_data_survives)
{
    calx_error err;
    calx_engine *e = make_engine(false);
    calx_metadata *md = tutorial_metadata(false);
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(e, &err), &c, &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "INSERT INTO hero (name, secret_name) VALUES "
                                            "(:n, :s)",
                                         CALX_PARAMS(CALX_P("n", calx_text("Deadpond")),
                                                     CALX_P("s", calx_text("Dive Wilson"))),
                                         &err), &r, &err), &err);
    calx_result_free(r);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    r = NULL;
    CHECK_INT(calx_wait(calx_conn_execute(c, "INSERT INTO hero (name, secret_name) VALUES "
                                             "(:n, :s)",
                                          CALX_PARAMS(CALX_P("n", calx_null()),
                                                      CALX_P("s", calx_text("x"))),
                                          &err), &r, &err),
              CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "NOT NULL");
    CHECK_CONTAINS(err.message, "hero.name");
    CHECK_OK(calx_wait(calx_conn_rollback(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    CHECK_INT(count(e, "SELECT count(*) FROM hero WHERE name = 'Deadpond'"), 1);
    free_engine(e);
    calx_metadata_free(md);
}

static void commit_and_close(void *conn)
{
    calx_error err;
    calx_future_release(calx_conn_commit(conn, &err));
    calx_conn_close(conn);
}

/* create_all reads (the checks) before it writes: begun as a reader, its
 * transaction could not wait for another connection's write lock and
 * failed at once with "database is locked"; it takes the lock at BEGIN
 * now, and waits the busy timeout there. drop_all the same. */
TEST(create_all_and_drop_all_wait_for_another_writer)
{
    calx_error err;
    calx_engine *e = make_engine(false);
    calx_metadata *md = tutorial_metadata(false);
    for (int drop = 0; drop <= 1; drop++) {
        calx_connection *w = NULL;
        CHECK_OK(calx_wait(calx_engine_connect(e, &err), &w, &err), &err);
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute(w, drop ? "DROP TABLE other" :
                                                "CREATE TABLE other (x INTEGER)", NULL, &err),
                           &r, &err), &err);
        calx_result_free(r);
        /* w holds the write lock for 200 ms more. */
        calx_timer *t = calx__timer_new(loop, commit_and_close, w);
        calx__timer_start(t, 200);
        CHECK_OK(calx_wait(drop ? calx_engine_drop_all(e, md, &err)
                                : calx_engine_create_all(e, md, &err), NULL, &err), &err);
        calx_loop_run(loop);
        calx__timer_free(t);
        CHECK_INT(count(e, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"),
                  drop ? 0 : 3);
    }
    free_engine(e);
    calx_metadata_free(md);
}

TEST(a_failed_create_all_creates_nothing)
{
    calx_error err;
    calx_engine *e = make_engine(true);
    static const calx_column bad_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "x", .type = CALX_COL_INT64, .server_default = "nonsense(" },
    };
    static const calx_table bad = { .name = "bad", .columns = bad_cols, .ncolumns = 2 };
    calx_metadata *md = tutorial_metadata(false);
    CHECK_OK(calx_metadata_add(md, &bad, &err), &err);
    log_reset();
    /* A syntax error, which SQLite (and so SQLAlchemy) calls OperationalError. */
    CHECK_INT(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "[SQL: \nCREATE TABLE bad (");
    /* bad needs no other table, so it comes right after team. */
    CHECK_CONTAINS(logbuf, "CREATE INDEX ix_team_name");
    CHECK(strstr(logbuf, "CREATE TABLE hero") == NULL);
    CHECK_CONTAINS(logbuf, "INFO sqlalchemy.engine.Engine ROLLBACK\n");
    /* SQLite's DDL is transactional: team went with the rollback. */
    CHECK_INT(count(e, "SELECT count(*) FROM sqlite_master"), 0);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.checked_out, 0);
    free_engine(e);
    calx_metadata_free(md);
}

/* ---- on a connection, inside a task ---- */

typedef struct task_ctx {
    calx_engine *e;
    calx_metadata *md;
    int rc1, rc2, rc3;
    bool in_tx;
    int64_t tables;
} task_ctx;

static void *schema_task(void *arg)
{
    task_ctx *t = arg;
    calx_error err;
    calx_connection *c = NULL;
    if (calx_await(calx_engine_connect(t->e, &err), &c, &err))
        return NULL;
    t->rc1 = calx_await(calx_metadata_create_all(c, t->md, &err), NULL, &err);
    /* The caller's transaction stays open, as with SQLAlchemy's
     * metadata.create_all(conn). */
    t->in_tx = calx_conn_in_transaction(c);
    /* Busy while it runs: a second call on the same connection is refused. */
    calx_future *f = calx_metadata_drop_all(c, t->md, &err);
    t->rc2 = calx_metadata_create_all(c, t->md, &err) == NULL ? err.code : 0;
    calx_await(f, NULL, &err);
    t->rc3 = calx_await(calx_metadata_create_all(c, t->md, &err), NULL, &err);
    calx_await(calx_conn_commit(c, &err), NULL, &err);
    calx_result *r = NULL;
    if (calx_await(calx_conn_execute(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                                     NULL, &err), &r, &err) == 0)
        t->tables = calx_result_scalar(r).u.i;
    calx_result_free(r);
    calx_conn_close(c);
    return NULL;
}

TEST(create_all_on_a_connection_in_a_task)
{
    calx_error err;
    task_ctx t = { .e = make_engine(false), .md = tutorial_metadata(false), .tables = -1 };
    CHECK_OK(calx_wait(calx_spawn(loop, schema_task, &t, NULL, &err), NULL, &err), &err);
    CHECK_INT(t.rc1, 0);
    CHECK(t.in_tx);
    CHECK_INT(t.rc2, CALX_ERR_BUSY);
    CHECK_INT(t.rc3, 0);
    CHECK_INT(t.tables, 2);
    free_engine(t.e);
    calx_metadata_free(t.md);
}

TEST(cancelled_create_all_gives_the_connection_back)
{
    calx_error err;
    calx_engine *e = make_engine(false);
    calx_metadata *md = tutorial_metadata(false);
    calx_future *f = calx_engine_create_all(e, md, &err);
    CHECK(f != NULL);
    CHECK(calx_future_cancel(f));
    CHECK_INT(calx_wait(f, NULL, &err), CALX_ERR_CANCELED);
    calx_pool_stats st;
    calx_engine_stats(e, &st);
    CHECK_INT(st.checked_out, 0);
    CHECK_INT(count(e, "SELECT count(*) FROM sqlite_master"), 0);
    free_engine(e);
    calx_metadata_free(md);
}

TEST(empty_metadata_is_a_no_op)
{
    calx_error err;
    calx_engine *e = make_engine(false);
    calx_metadata *md = calx_metadata_new(&err);
    CHECK_OK(calx_wait(calx_engine_create_all(e, md, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_engine_drop_all(e, md, &err), NULL, &err), &err);
    CHECK(calx_engine_create_all(e, NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    free_engine(e);
    calx_metadata_free(md);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_schema");
    RUN(sqlite_ddl_matches_sqlalchemy);
    RUN(types_per_dialect);
    RUN(postgresql_ddl);
    RUN(autoincrement_rules);
    RUN(quoting_of_reserved_and_uppercase_names);
    RUN(unique_and_index_combinations);
    RUN(metadata_rejects_bad_declarations);
    RUN(foreign_key_order);
    RUN(cycle_is_an_error_naming_the_tables);
    RUN(unknown_foreign_key_target_is_reported);
    RUN(set_null_on_not_null_and_index_name_clash);
    RUN(create_all_echo_matches_reference);
    RUN(create_all_builds_what_was_declared);
    RUN(drop_all_drops_children_first);
    RUN(not_null_is_enforced_and_committed_data_survives);
    RUN(create_all_and_drop_all_wait_for_another_writer);
    RUN(a_failed_create_all_creates_nothing);
    RUN(create_all_on_a_connection_in_a_task);
    RUN(cancelled_create_all_gives_the_connection_back);
    RUN(empty_metadata_is_a_no_op);
    calx_loop_free(loop);
    return TEST_REPORT();
}
