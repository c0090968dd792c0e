/* SPDX-License-Identifier: MIT */
/* Table models: the struct, schema, constructor defaults and validation,
 * texts the object owns, snapshots and SQLModel's repr. No database. */
#include <math.h>
#include <pthread.h>

#include "calx.h"
#include "core/blocks.h"
#include "models.h"
#include "orm/object.h"
#include "orm/session_int.h"
#include "sql/ddl.h"
#include "sql/dialect.h"
#include "test.h"

CALX_MODEL_DEFINE(Team, "team")
CALX_MODEL_DEFINE(Hero, "hero")
CALX_MODEL_DEFINE(Gadget, "gadget")

/* A key of nine columns, one more than calx keeps objects by. */
#define Grid_FIELDS(F, M)                                                     \
    F(M, a, INT64, REQUIRED, .primary_key = true)                             \
    F(M, b, INT64, REQUIRED, .primary_key = true)                             \
    F(M, c, INT64, REQUIRED, .primary_key = true)                             \
    F(M, d, INT64, REQUIRED, .primary_key = true)                             \
    F(M, e, INT64, REQUIRED, .primary_key = true)                             \
    F(M, f, INT64, REQUIRED, .primary_key = true)                             \
    F(M, g, INT64, REQUIRED, .primary_key = true)                             \
    F(M, h, INT64, REQUIRED, .primary_key = true)                             \
    F(M, i, INT64, REQUIRED, .primary_key = true)
CALX_MODEL(Grid, "grid")
CALX_MODEL_DEFINE(Grid, "grid")

/* Past the 64th field: validation's per-model mask covers 64 fields, and
 * the ones after it are checked every time. */
#define Broad_FIELDS(F, M)                                                    \
    F(M, id, OPT_INT64, NONE, .primary_key = true)                            \
    F(M, f01, OPT_INT64, NONE)                                          \
    F(M, f02, OPT_INT64, NONE)                                          \
    F(M, f03, OPT_INT64, NONE)                                          \
    F(M, f04, OPT_INT64, NONE)                                          \
    F(M, f05, OPT_INT64, NONE)                                          \
    F(M, f06, OPT_INT64, NONE)                                          \
    F(M, f07, OPT_INT64, NONE)                                          \
    F(M, f08, OPT_INT64, NONE)                                          \
    F(M, f09, OPT_INT64, NONE)                                          \
    F(M, f10, OPT_INT64, NONE)                                          \
    F(M, f11, OPT_INT64, NONE)                                          \
    F(M, f12, OPT_INT64, NONE)                                          \
    F(M, f13, OPT_INT64, NONE)                                          \
    F(M, f14, OPT_INT64, NONE)                                          \
    F(M, f15, OPT_INT64, NONE)                                          \
    F(M, f16, OPT_INT64, NONE)                                          \
    F(M, f17, OPT_INT64, NONE)                                          \
    F(M, f18, OPT_INT64, NONE)                                          \
    F(M, f19, OPT_INT64, NONE)                                          \
    F(M, f20, OPT_INT64, NONE)                                          \
    F(M, f21, OPT_INT64, NONE)                                          \
    F(M, f22, OPT_INT64, NONE)                                          \
    F(M, f23, OPT_INT64, NONE)                                          \
    F(M, f24, OPT_INT64, NONE)                                          \
    F(M, f25, OPT_INT64, NONE)                                          \
    F(M, f26, OPT_INT64, NONE)                                          \
    F(M, f27, OPT_INT64, NONE)                                          \
    F(M, f28, OPT_INT64, NONE)                                          \
    F(M, f29, OPT_INT64, NONE)                                          \
    F(M, f30, OPT_INT64, NONE)                                          \
    F(M, f31, OPT_INT64, NONE)                                          \
    F(M, f32, OPT_INT64, NONE)                                          \
    F(M, f33, OPT_INT64, NONE)                                          \
    F(M, f34, OPT_INT64, NONE)                                          \
    F(M, f35, OPT_INT64, NONE)                                          \
    F(M, f36, OPT_INT64, NONE)                                          \
    F(M, f37, OPT_INT64, NONE)                                          \
    F(M, f38, OPT_INT64, NONE)                                          \
    F(M, f39, OPT_INT64, NONE)                                          \
    F(M, f40, OPT_INT64, NONE)                                          \
    F(M, f41, OPT_INT64, NONE)                                          \
    F(M, f42, OPT_INT64, NONE)                                          \
    F(M, f43, OPT_INT64, NONE)                                          \
    F(M, f44, OPT_INT64, NONE)                                          \
    F(M, f45, OPT_INT64, NONE)                                          \
    F(M, f46, OPT_INT64, NONE)                                          \
    F(M, f47, OPT_INT64, NONE)                                          \
    F(M, f48, OPT_INT64, NONE)                                          \
    F(M, f49, OPT_INT64, NONE)                                          \
    F(M, f50, OPT_INT64, NONE)                                          \
    F(M, f51, OPT_INT64, NONE)                                          \
    F(M, f52, OPT_INT64, NONE)                                          \
    F(M, f53, OPT_INT64, NONE)                                          \
    F(M, f54, OPT_INT64, NONE)                                          \
    F(M, f55, OPT_INT64, NONE)                                          \
    F(M, f56, OPT_INT64, NONE)                                          \
    F(M, f57, OPT_INT64, NONE)                                          \
    F(M, f58, OPT_INT64, NONE)                                          \
    F(M, f59, OPT_INT64, NONE)                                          \
    F(M, f60, OPT_INT64, NONE)                                          \
    F(M, f61, OPT_INT64, NONE)                                          \
    F(M, f62, OPT_INT64, NONE)                                          \
    F(M, f63, OPT_INT64, NONE)                                          \
    F(M, f64, OPT_INT64, NONE)                                          \
    F(M, label, TEXT, REQUIRED, .max_length = 3)                              \
    F(M, level, OPT_INT32, NONE, .ge = CALX_SOME(0))
CALX_MODEL(Broad, "broad")
CALX_MODEL_DEFINE(Broad, "broad")

static char *repr(const void *obj)
{
    static char buf[1024];
    calx_obj_repr(obj, buf, sizeof buf);
    return buf;
}

TEST(struct_and_schema_come_from_one_declaration)
{
    const calx_table *t = CALX_TABLE(Hero);
    CHECK_STR(t->name, "hero");
    CHECK_INT(t->ncolumns, 5);
    CHECK(t->model == &Hero_model);
    CHECK_STR(t->columns[0].name, "id");
    CHECK(t->columns[0].primary_key);
    CHECK_INT(t->columns[1].type, CALX_COL_TEXT);
    CHECK(!t->columns[1].nullable);
    CHECK(t->columns[1].index);
    CHECK(t->columns[3].nullable);
    CHECK_STR(t->columns[4].foreign_key, "team.id");
    CHECK_INT(CALX_FIELD(Hero, age), 3);
    CHECK_INT(Hero_model.fields[3].offset, offsetof(Hero, age));
    CHECK_STR(Hero_model.name, "Hero");
    /* The struct fields have the C types the declaration names. */
    Hero h = { .age = CALX_SOME(3), .name = "x" };
    CHECK(h.age.valid && h.age.value == 3);
    const calx_table *g = CALX_TABLE(Gadget);
    CHECK_INT(g->columns[1].max_length, 8);
    CHECK(g->columns[2].ge.valid && g->columns[2].ge.value == 0);
    CHECK(g->columns[2].le.valid && g->columns[2].le.value == 100);
}

TEST(ddl_matches_sqlmodel)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    CHECK_OK(calx_metadata_add(md, CALX_TABLE(Team), &err), &err);
    CHECK_OK(calx_metadata_add(md, CALX_TABLE(Hero), &err), &err);
    const calx_table *sorted[2];
    CHECK_OK(calx_metadata_sorted(md, sorted, &err), &err);
    CHECK_STR(sorted[0]->name, "team");
    char *sql = calx__ddl_create_table(&calx__dialect_sqlite, CALX_TABLE(Hero), &err);
    CHECK_STR(sql, "\nCREATE TABLE hero (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, "
                   "\n\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, "
                   "\n\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)\n\n");
    free(sql);
    calx_metadata_free(md);
}

TEST(constructor_takes_fields_by_name_and_applies_defaults)
{
    calx_error err;
    Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    CHECK(h != NULL);
    CHECK_STR(h->name, "Deadpond");
    CHECK(CALX_IS_NULL(h->age));
    CHECK(CALX_IS_NULL(h->id));
    CHECK_STR(repr(h), "Hero(id=None, name='Deadpond', secret_name='Dive Wilson', age=None, "
                       "team_id=None)");
    CHECK_INT(calx_obj_model(h) == &Hero_model, 1);
    calx_obj_free(h);

    /* NULL is not 0: age 0 is a value. */
    h = CALX_NEW(Hero, &err, .name = "Baby", .secret_name = "b", .age = CALX_SOME(0));
    CHECK(!CALX_IS_NULL(h->age) && h->age.value == 0);
    CHECK_CONTAINS(repr(h), "age=0,");
    calx_obj_free(h);

    Gadget *g = CALX_NEW(Gadget, &err, .code = "", .serial = 0, .active = false);
    CHECK(g != NULL);
    CHECK_STR(g->code, "");          /* "" is a value, not NULL */
    CHECK_INT(g->power, 10);         /* DEFAULT(10) */
    CHECK(g->weight == 1.5);
    CHECK(!g->active);               /* given false beats DEFAULT(true) */
    CHECK(g->made_at > 1700000000000000LL); /* FACTORY(calx_now_utc) */
    CHECK(CALX_IS_NULL(g->seen_at) && g->note == NULL && g->data.data == NULL);
    calx_obj_free(g);

    g = CALX_NEW(Gadget, &err, .code = "c", .serial = 1, .active = true, .power = 0,
                 .ratio = CALX_SOME(0.25), .flag = CALX_SOME(false), .small = CALX_SOME(-3),
                 .note = "n", .data = { "\0\1", 2 }, .seen_at = CALX_SOME(0));
    CHECK(g->active && g->power == 0);
    CHECK(g->flag.valid && !g->flag.value);
    CHECK_INT(g->data.len, 2);
    CHECK(memcmp(g->data.data, "\0\1", 2) == 0);
    CHECK_CONTAINS(repr(g), "ratio=0.25, flag=False, small=-3, data=b'\\x00\\x01', ");
    CHECK_CONTAINS(repr(g), "seen_at=datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)");
    calx_obj_free(g);
}

TEST(constructor_copies_texts)
{
    calx_error err;
    char name[16] = "Spider-Boy";
    Hero *h = CALX_NEW(Hero, &err, .name = name, .secret_name = "Pedro");
    name[0] = 'X';
    CHECK_STR(h->name, "Spider-Boy");
    CHECK(h->name != name);
    calx_obj_free(h);
}

TEST(fields_past_the_64th_are_validated)
{
    calx_error err;
    CHECK_INT(Broad_model.nfields, 67);
    Broad *b = CALX_NEW(Broad, &err, .label = "long");
    CHECK(b == NULL);
    CHECK_STR(err.message, "Broad.label: ensure this value has at most 3 characters (it has 4)");
    b = CALX_NEW(Broad, &err, .label = "ok", .level = CALX_SOME(-1));
    CHECK(b == NULL);
    CHECK_CONTAINS(err.message, "Broad.level: ensure this value is greater than or equal to 0");
    b = CALX_NEW(Broad, &err, .label = "ok", .f64 = CALX_SOME(64));
    CHECK(b != NULL);
    if (!b)
        return;
    b->label = "four";
    CHECK_INT(calx_obj_validate(b, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Broad.label: ensure this value has at most 3 characters");
    b->label = "abc";
    CHECK_OK(calx_obj_validate(b, &err), &err);
    calx_obj_free(b);
}

TEST(validation_names_model_field_and_rule)
{
    calx_error err;
    Hero *h = CALX_NEW(Hero, &err, .name = "Deadpond");
    CHECK(h == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_STR(err.message, "Hero.secret_name: field required");

    Gadget *g = CALX_NEW(Gadget, &err, .code = "abc");
    CHECK(g == NULL);
    CHECK_STR(err.message, "Gadget.serial: field required");

    g = CALX_NEW(Gadget, &err, .code = "123456789", .serial = 1);
    CHECK(g == NULL);
    CHECK_STR(err.message, "Gadget.code: ensure this value has at most 8 characters (it has 9)");
    /* max_length counts characters, not bytes. */
    g = CALX_NEW(Gadget, &err, .code = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", .serial = 1);
    CHECK(g != NULL);
    calx_obj_free(g);

    g = CALX_NEW(Gadget, &err, .code = "a", .serial = 1, .power = -1);
    CHECK(g == NULL);
    CHECK_CONTAINS(err.message, "Gadget.power: ensure this value is greater than or equal to 0");
    g = CALX_NEW(Gadget, &err, .code = "a", .serial = 1, .power = 101);
    CHECK_CONTAINS(err.message, "Gadget.power: ensure this value is less than or equal to 100");
    g = CALX_NEW(Gadget, &err, .code = "a", .serial = 1, .power = 5000000000LL);
    CHECK(g == NULL);
    CHECK_CONTAINS(err.message, "does not fit a 32-bit integer");

    /* Validation of an object changed after construction. */
    g = CALX_NEW(Gadget, &err, .code = "a", .serial = 1);
    g->power = 1000;
    CHECK_INT(calx_obj_validate(g, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Gadget.power");
    g->power = 1;
    g->code = NULL;
    CHECK_INT(calx_obj_validate(g, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Gadget.code: none is not an allowed value");
    g->code = "ok";
    CHECK_OK(calx_obj_validate(g, &err), &err);
    calx_obj_free(g);

    /* A NOT NULL field with no other rule (no max_length) is still checked
     * for NULL, and a nullable one without rules passes NULL. */
    h = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    CHECK(h != NULL);
    h->secret_name = NULL;
    CHECK_INT(calx_obj_validate(h, &err), CALX_ERR_VALIDATION);
    CHECK_STR(err.message,
              "Hero.secret_name: none is not an allowed value (the column is NOT NULL)");
    h->secret_name = "Dive Wilson";
    CALX_SET_NULL(h->age);
    CHECK_OK(calx_obj_validate(h, &err), &err);
    calx_obj_free(h);
}

TEST(repr_quotes_like_python)
{
    calx_error err;
    Team *t = CALX_NEW(Team, &err, .name = "Z-Force", .headquarters = "Sister Margaret's Bar");
    CHECK_STR(repr(t), "Team(id=None, name='Z-Force', headquarters=\"Sister Margaret's Bar\")");
    calx_obj_set_text(t, &t->name, "a'b\"c\\d\n");
    CHECK_STR(repr(t), "Team(id=None, name='a\\'b\"c\\\\d\\n', headquarters=\"Sister Margaret's Bar\")");
    char small[10];
    size_t need = calx_obj_repr(t, small, sizeof small);
    CHECK_INT(need, strlen(repr(t)));
    CHECK_STR(small, "Team(id=N");
    calx_obj_free(t);
}

TEST(println_prints_one_object_per_line)
{
    calx_error err;
    Team *a = CALX_NEW(Team, &err, .name = "Preventers", .headquarters = "Sharp Tower");
    Team *b = CALX_NEW(Team, &err, .name = "Z-Force", .headquarters = "Bar");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (f) {
        calx_obj_println(a, f);
        calx_obj_println(b, f);
        fclose(f);
        CHECK_STR(text, "Team(id=None, name='Preventers', headquarters='Sharp Tower')\n"
                        "Team(id=None, name='Z-Force', headquarters='Bar')\n");
    }
    free(text);
    calx_obj_free(a);
    calx_obj_free(b);
}

TEST(set_text_and_snapshots_track_changes)
{
    calx_error err;
    Hero *h = CALX_NEW(Hero, &err, .name = "A", .secret_name = "s");
    calx_obj *o = calx__obj_hdr(h);
    CHECK_OK(calx__obj_take_snapshot(o, &err), &err);
    for (size_t i = 0; i < Hero_model.nfields; i++)
        CHECK(!calx__obj_field_changed(o, i));
    /* A pointer to the program's memory with the same text: no change. */
    char same[] = "A";
    h->name = same;
    CHECK(!calx__obj_field_changed(o, CALX_FIELD(Hero, name)));
    char other[] = "B";
    h->name = other;
    CHECK(calx__obj_field_changed(o, CALX_FIELD(Hero, name)));
    /* The snapshot copies the program's text in. */
    CHECK_OK(calx__obj_take_snapshot(o, &err), &err);
    CHECK(h->name != other);
    CHECK_STR(h->name, "B");
    CHECK_OK(calx_obj_set_text(h, &h->name, "C"), &err);
    CHECK(calx__obj_field_changed(o, CALX_FIELD(Hero, name)));
    CHECK_OK(calx_obj_set_text(h, &h->name, "D"), &err);
    calx__obj_restore_snapshot(o);
    CHECK_STR(h->name, "B");
    CALX_SET(h->age, 7);
    CHECK(calx__obj_field_changed(o, CALX_FIELD(Hero, age)));
    CALX_SET_NULL(h->age);
    CHECK(!calx__obj_field_changed(o, CALX_FIELD(Hero, age)));
    CHECK_INT(calx_obj_set_text(h, (const char **)&h->age, "x"), CALX_ERR_ARGUMENT);
    calx_obj_free(h);
}

TEST(load_converts_database_values)
{
    calx_error err;
    Gadget *g = CALX_NEW(Gadget, &err, .code = "a", .serial = 1);
    calx_obj *o = calx__obj_hdr(g);
    /* SQLite keeps an instant as UTC text with no offset; an offset, when
     * text has one, is honoured. */
    const calx_column *made = &Gadget_model.table.columns[CALX_FIELD(Gadget, made_at)];
    char scratch[CALX_BIND_SCRATCH_SIZE];
    calx_value v = calx_text("2024-05-01 12:30:15.250000");
    CHECK_OK(calx__sqlite_stored_value(made, &v, scratch, NULL, &err), &err);
    CHECK_OK(calx__obj_load_field(o, CALX_FIELD(Gadget, made_at), &v, &err), &err);
    CHECK_INT(g->made_at, 1714566615250000LL);
    v = calx_text("2024-05-01 14:30:15.25+02:00");
    CHECK_OK(calx__sqlite_stored_value(made, &v, scratch, NULL, &err), &err);
    CHECK_OK(calx__obj_load_field(o, CALX_FIELD(Gadget, seen_at), &v, &err), &err);
    CHECK_INT(g->seen_at.value, 1714566615250000LL);
    calx_value back = calx__field_value(&Gadget_model, &Gadget_model.fields[CALX_FIELD(Gadget, made_at)], g);
    CHECK_INT(back.type, CALX_TIMESTAMP);
    calx_value stored;
    CHECK_OK(calx__sqlite_bind_value(&back, &stored, scratch, &err), &err);
    CHECK_INT(stored.type, CALX_TEXT);
    CHECK_STR(stored.u.s.ptr, "2024-05-01 12:30:15.250000");
    /* Text where an instant belongs, unconverted, is a type error. */
    v = calx_text("2024-05-01 12:30:15");
    CHECK_INT(calx__obj_load_field(o, CALX_FIELD(Gadget, made_at), &v, &err), CALX_ERR_TYPE);
    v = calx_int(1);
    CHECK_OK(calx__obj_load_field(o, CALX_FIELD(Gadget, active), &v, &err), &err);
    CHECK(g->active);
    v = calx_null();
    CHECK_OK(calx__obj_load_field(o, CALX_FIELD(Gadget, flag), &v, &err), &err);
    CHECK(CALX_IS_NULL(g->flag));
    v = calx_text("seven");
    CHECK_INT(calx__obj_load_field(o, CALX_FIELD(Gadget, serial), &v, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "Gadget.serial (INT64) cannot hold the TEXT value");
    /* An INT32 field is refused what it cannot hold (SQLite's INTEGER
     * column holds 64 bits), not given the low 32 bits of it. */
    v = calx_int(3000000000);
    CHECK_INT(calx__obj_load_field(o, CALX_FIELD(Gadget, power), &v, &err), CALX_ERR_DATA);
    CHECK_STR(err.message,
              "Gadget.power (INT32) cannot hold 3000000000, the value the database returned");
    CHECK_INT(g->power, 10);
    v = calx_int(INT32_MIN);
    CHECK_OK(calx__obj_load_field(o, CALX_FIELD(Gadget, power), &v, &err), &err);
    CHECK_INT(g->power, INT32_MIN);
    calx_obj_free(g);
}

/* The facts calx derives from a model (its key, its generated column) are
 * kept for CALX__MODEL_FACTS_KEPT models; a program with more still gets
 * each model's own: copies of Hero and Gadget taking turns, more than the
 * table holds, asked twice over (the second time the kept ones come from
 * the table, the others are made again). */
static bool same_facts(const calx__model_facts *a, const calx__model_facts *b)
{
    return a->pk == b->pk && a->autoinc == b->autoinc && a->npk == b->npk &&
           a->stored_forms == b->stored_forms;
}

TEST(models_past_what_the_facts_table_holds_still_get_their_own_facts)
{
    enum { N = CALX__MODEL_FACTS_KEPT + 100 };
    static calx_model copies[N];
    const calx_model *originals[2] = { &Hero_model, &Gadget_model };
    calx__model_facts want[2] = { *calx__model_facts_of(originals[0]),
                                  *calx__model_facts_of(originals[1]) };
    CHECK(!same_facts(&want[0], &want[1]));  /* else this case tells nothing */
    for (size_t i = 0; i < N; i++)
        copies[i] = *originals[i % 2];
    for (int pass = 0; pass < 2; pass++) {
        size_t wrong = 0;
        for (size_t i = 0; i < N; i++)
            wrong += !same_facts(calx__model_facts_of(&copies[i]), &want[i % 2]);
        CHECK_INT(wrong, 0);
        CHECK_INT(calx__model_pk(&copies[N - 1]), want[(N - 1) % 2].pk);
        CHECK_INT(calx__model_autoinc(&copies[N - 2]), want[(N - 2) % 2].autoinc);
    }
}

/* Past a full facts table a model has no slot arrays: its objects give
 * every field a pair of slots (the layout before slots were per buffer
 * field). Texts, changes, snapshots and rollbacks work the same on it. */
TEST(objects_of_a_model_past_the_facts_table_keep_their_texts_and_changes)
{
    static calx_model late;
    late = Hero_model;
    CHECK(calx__model_facts_of(&late)->slot_of == NULL);  /* the table is full */
    CHECK_INT(calx__model_facts_of(&late)->nslots, late.nfields);
    calx_error err;
    Hero_args a = { .name = "Deadpond", .secret_name = "Dive Wilson", .age = CALX_SOME(30) };
    Hero *h = calx_model_new(&late, &a, &err);
    CHECK(h != NULL);
    if (!h)
        return;
    calx_obj *o = calx__obj_hdr(h);
    CHECK_OK(calx__obj_take_snapshot(o, &err), &err);
    CHECK_INT(calx_obj_set_text(h, &h->name, "Spider-Boy"), 0);
    CALX_SET(h->age, 31);
    CHECK(calx__obj_field_changed(o, 1));
    CHECK(!calx__obj_field_changed(o, 2));
    CHECK(calx__obj_field_changed(o, 3));
    calx__obj_restore_snapshot(o);
    CHECK_STR(h->name, "Deadpond");
    CHECK_INT(h->age.value, 30);
    CHECK(!calx__obj_field_changed(o, 1));
    CHECK_INT(calx_obj_set_text(h, &h->secret_name, "Pedro Parqueador"), 0);
    CHECK_OK(calx__obj_take_snapshot(o, &err), &err);
    CHECK(!calx__obj_field_changed(o, 2));
    char buf[200];
    calx_obj_repr(h, buf, sizeof buf);
    CHECK_CONTAINS(buf, "secret_name='Pedro Parqueador'");
    CHECK_INT(calx_obj_free(h), 0);
}

TEST(a_model_whose_key_has_more_than_eight_columns_is_refused_by_name)
{
    calx_error err;
    /* By the model check a program runs at start-up... */
    CHECK_INT(calx_model_check(&Grid_model, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Grid's primary key has 9 columns; calx keeps objects with at most 8");
    CHECK_OK(calx_model_check(&Hero_model, &err), &err);
    /* ...and, for a program that did not run it, where its objects would
     * enter: the constructor... */
    Grid *g = CALX_NEW(Grid, &err, .a = 1, .b = 2, .c = 3, .d = 4, .e = 5, .f = 6, .g = 7,
                       .h = 8, .i = 9);
    CHECK(g == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Grid's primary key has 9 columns; calx keeps objects with at most 8");
    /* ...and the loaders. */
    calx_value row[9];
    for (int k = 0; k < 9; k++)
        row[k] = calx_int(k + 1);
    /* (The engine opens no database until a connection is asked for.) */
    calx_engine *e = calx_create_engine("sqlite://", NULL, &err);
    CHECK(e != NULL);
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = e }, &err);
    CHECK(s != NULL);
    calx_obj *o = NULL;
    CHECK_INT(calx__load_row(s, &Grid_model, row, false, &o, &err), CALX_ERR_ARGUMENT);
    CHECK(o == NULL);
    CHECK_CONTAINS(err.message, "Grid's primary key has 9 columns");
    calx_session_free(s);
    calx_engine_free(e);
    CHECK_INT(calx_loop_free_default(), 0);
}

TEST(every_defined_model_is_in_the_programs_metadata)
{
    calx_error err;
    calx_metadata *md = calx_models_metadata(&err);
    CHECK(md != NULL);
    CHECK_INT(calx_metadata_ntables(md), 5);
    /* In the order this file defines them. */
    CHECK(calx_metadata_table(md, 0) == CALX_TABLE(Team));
    CHECK(calx_metadata_table(md, 1) == CALX_TABLE(Hero));
    CHECK(calx_metadata_table(md, 2) == CALX_TABLE(Gadget));
    CHECK(calx_metadata_table(md, 3) == CALX_TABLE(Grid));
    CHECK(calx_metadata_table(md, 4) == CALX_TABLE(Broad));
    calx_metadata_free(md);
    /* A second model of one table name is refused, by name. */
    static calx_model_entry again = { &Hero_model, NULL };
    calx_model_register(&again);
    md = calx_models_metadata(&err);
    CHECK(md == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "hero");
}

/* Objects the program constructs come from malloc until the process holds
 * a block's worth of them; then from the constructing thread's blocks
 * (core/blocks.h), whose last goes when the thread has exited and its
 * objects are freed, on whichever thread. */
enum { BULK = 4000, BULK_TEXT = 1000 };

static void *construct_bulk(void *out)
{
    Hero **hs = out;
    calx_error err;
    static char secret[BULK_TEXT + 16];
    for (int i = 0; i < BULK; i++) {
        snprintf(secret, sizeof secret, "%0*d", BULK_TEXT, i);
        hs[i] = CALX_NEW(Hero, &err, .name = "bulk", .secret_name = secret, .age = CALX_SOME(i));
    }
    return NULL;
}

TEST(constructing_in_bulk_takes_blocks_that_go_once_the_thread_and_its_objects_do)
{
    size_t before = calx__blocks_mapped();
    Hero **hs = calloc(BULK, sizeof *hs);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, construct_bulk, hs) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    int made = 0;
    for (int i = 0; i < BULK; i++)
        made += hs[i] != NULL;
    CHECK_INT(made, BULK);
    if (made != BULK)
        return;
    /* The first ~2 MiB from malloc, the rest from blocks. */
    CHECK(!calx__obj_hdr(hs[0])->in_block);
    CHECK(calx__obj_hdr(hs[BULK - 1])->in_block);
    CHECK(calx__blocks_mapped() > before);
    char secret[BULK_TEXT + 16];
    int right = 0;
    for (int i = 0; i < BULK; i++) {
        snprintf(secret, sizeof secret, "%0*d", BULK_TEXT, i);
        right += hs[i]->age.value == i && strcmp(hs[i]->secret_name, secret) == 0;
    }
    CHECK_INT(right, BULK);
    /* Freed here, not on the thread that made them. */
    for (int i = 0; i < BULK; i++)
        CHECK_INT(calx_obj_free(hs[i]), 0);
    CHECK(calx__blocks_mapped() == before);
    /* Nothing constructed is held now: the next object is malloc's. */
    calx_error err;
    Hero *one = CALX_NEW(Hero, &err, .name = "one", .secret_name = "s");
    CHECK(one && !calx__obj_hdr(one)->in_block);
    calx_obj_free(one);
    free(hs);
}

/* In a German locale the C library writes 1.5 as "1,5"; a repr is
 * Python's wherever it runs (SQLModel prints weight=1.5). */
TEST(a_repr_writes_reals_with_a_point_in_a_german_locale)
{
    const char *why = test_locale_enter(test_tmpdir("test_model"), "de_DE", "de_DE.UTF-8");
    if (why)
        SKIP(why);
    calx_error err;
    Gadget *g = CALX_NEW(Gadget, &err, .code = "g", .serial = 1, .weight = 2.5,
                         .ratio = CALX_SOME(0.1));
    CHECK(g != NULL);
    if (g) {
        CHECK_CONTAINS(repr(g), "weight=2.5");
        CHECK_CONTAINS(repr(g), "ratio=0.1");
    }
    char printed[32];
    snprintf(printed, sizeof printed, "%g", 2.5);
    test_locale_leave();
    calx_obj_free(g);
    if (strcmp(printed, "2.5") == 0)
        SKIP("this C library writes '.' as the decimal point in de_DE.UTF-8: nothing to tell apart");
}

int main(void)
{
    RUN(struct_and_schema_come_from_one_declaration);
    RUN(a_repr_writes_reals_with_a_point_in_a_german_locale);
    RUN(ddl_matches_sqlmodel);
    RUN(constructor_takes_fields_by_name_and_applies_defaults);
    RUN(constructor_copies_texts);
    RUN(validation_names_model_field_and_rule);
    RUN(fields_past_the_64th_are_validated);
    RUN(repr_quotes_like_python);
    RUN(println_prints_one_object_per_line);
    RUN(set_text_and_snapshots_track_changes);
    RUN(load_converts_database_values);
    RUN(a_model_whose_key_has_more_than_eight_columns_is_refused_by_name);
    RUN(models_past_what_the_facts_table_holds_still_get_their_own_facts);
    RUN(objects_of_a_model_past_the_facts_table_keep_their_texts_and_changes);
    RUN(every_defined_model_is_in_the_programs_metadata);
    RUN(constructing_in_bulk_takes_blocks_that_go_once_the_thread_and_its_objects_do);
    return TEST_REPORT();
}
