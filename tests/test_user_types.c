/* SPDX-License-Identifier: MIT */
/* User-defined column types (SQLAlchemy's TypeDecorator, issue #11) on a
 * real database: an IPv4 address the program holds as text and the table
 * stores as an integer, and a sealed text stored as bytes (a stand-in for
 * encryption: each byte XORed with a key from the type's context). Each
 * is checked where a value crosses the column both ways: the ORM's
 * constructor, flush and loads, a get by a key of such a type, Core
 * comparisons and IN lists, INSERT and UPDATE values, selected columns
 * and min / max; the database holds the stored form (read back with text
 * SQL, which is untyped); the mistakes give errors naming the column and
 * the type.
 *
 * Each case runs on a fresh database (tests/backend.h), so the same file
 * runs as test_user_types and test_user_types_pg. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "calx.h"
#include "test.h"

/* ---- the types ---- */

/* "10.0.0.1" -> 167772161: four decimal parts of 0-255, nothing else. */
static int ip_bind(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                   void *context, calx_error *err)
{
    (void)scratch;
    (void)context;
    const char *s = in->u.s.ptr, *end = s + in->u.s.len;
    int64_t n = 0;
    for (int part = 0; part < 4; part++) {
        int digits = 0, v = 0;
        while (s < end && *s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255 || (part < 3 && (s == end || *s++ != '.')))
            return calx_error_set(err, CALX_ERR_VALIDATION, "'%.*s' is not an IPv4 address",
                                  (int)in->u.s.len, in->u.s.ptr);
        n = n * 256 + v;
    }
    if (s != end)
        return calx_error_set(err, CALX_ERR_VALIDATION, "'%.*s' is not an IPv4 address",
                              (int)in->u.s.len, in->u.s.ptr);
    *out = calx_int(n);
    return 0;
}

static int ip_result(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                     void *context, calx_error *err)
{
    (void)context;
    if (in->type != CALX_INT || in->u.i < 0 || in->u.i > 0xFFFFFFFFll)
        return calx_error_set(err, CALX_ERR_DATA, "the stored value is not an address");
    char *text = calx_type_scratch_alloc(scratch, 16);
    if (!text)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    uint32_t a = (uint32_t)in->u.i;
    snprintf(text, 16, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
    *out = calx_text(text);
    return 0;
}

static const calx_user_type ipv4 = {
    .name = "IPv4", .value_type = CALX_TEXT, .bind = ip_bind, .result = ip_result,
};

/* Text -> bytes XORed with the key in context, and back. Long texts
 * need more than the scratch's stack room. */
static int seal(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                void *context, calx_error *err, calx_type to)
{
    const char *key = context;
    size_t n = in->u.s.len, k = strlen(key);
    unsigned char *b = calx_type_scratch_alloc(scratch, n + 1);
    if (!b)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)in->u.s.ptr[i] ^ (unsigned char)key[i % k];
    b[n] = 0;
    *out = to == CALX_BLOB ? calx_blob(b, n) : calx_textn((const char *)b, n);
    return 0;
}

static int seal_bind(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                     void *context, calx_error *err)
{
    return seal(in, out, scratch, context, err, CALX_BLOB);
}

static int seal_result(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                       void *context, calx_error *err)
{
    return seal(in, out, scratch, context, err, CALX_TEXT);
}

static char seal_key[] = "k3y";
static const calx_user_type sealed = {
    .name = "Sealed", .value_type = CALX_TEXT, .bind = seal_bind, .result = seal_result,
    .context = seal_key,
};

/* A result function that gives the wrong type. */
static int give_int(const calx_value *in, calx_value *out, calx_type_scratch *scratch,
                    void *context, calx_error *err)
{
    (void)in, (void)scratch, (void)context, (void)err;
    *out = calx_int(7);
    return 0;
}

static const calx_user_type broken = {
    .name = "Broken", .value_type = CALX_TEXT, .bind = ip_bind, .result = give_int,
};

/* ---- models ---- */

#define Host_FIELDS(F, M)                                                     \
    F(M, id,      OPT_INT64, NONE, .primary_key = true)                       \
    F(M, name,    TEXT,      REQUIRED)                                        \
    F(M, address, TEXT,      REQUIRED, .type = CALX_COL_INT64, .user_type = &ipv4) \
    F(M, gateway, OPT_TEXT,  NONE, .type = CALX_COL_INT64, .user_type = &ipv4) \
    F(M, secret,  OPT_TEXT,  NONE, .type = CALX_COL_BLOB, .user_type = &sealed)
CALX_MODEL(Host, "host")
CALX_MODEL_DEFINE(Host, "host")

/* A key of a user type. */
#define Lease_FIELDS(F, M)                                                    \
    F(M, address, TEXT, REQUIRED, .primary_key = true, .type = CALX_COL_INT64, \
      .user_type = &ipv4)                                                     \
    F(M, owner,   TEXT, REQUIRED)
CALX_MODEL(Lease, "lease")
CALX_MODEL_DEFINE(Lease, "lease")

#define Odd_FIELDS(F, M)                                                      \
    F(M, id,      OPT_INT64, NONE, .primary_key = true)                       \
    F(M, address, TEXT,      REQUIRED, .type = CALX_COL_INT64, .user_type = &broken)
CALX_MODEL(Odd, "odd")
CALX_MODEL_DEFINE(Odd, "odd")

/* A relationship joining on a column of a user type: each subnet (its
 * key an address) with its devices. */
#define Subnet_FIELDS(F, M)                                                   \
    F(M, address, TEXT, REQUIRED, .primary_key = true, .type = CALX_COL_INT64, \
      .user_type = &ipv4)                                                     \
    F(M, name,    TEXT, REQUIRED)
#define Subnet_RELATIONS(R, M)                                                \
    R(M, devices, Device, ONE_TO_MANY, .back_populates = "subnet", .order_by = "id")

#define Device_FIELDS(F, M)                                                   \
    F(M, id,      OPT_INT64, NONE, .primary_key = true)                       \
    F(M, name,    TEXT,      REQUIRED)                                        \
    F(M, subnet_address, OPT_TEXT, NONE, .type = CALX_COL_INT64, .user_type = &ipv4, \
      .foreign_key = "subnet.address")
#define Device_RELATIONS(R, M)                                                \
    R(M, subnet, Subnet, MANY_TO_ONE, .back_populates = "devices")

CALX_MODEL_WITH_RELATIONS(Subnet, "subnet")
CALX_MODEL_WITH_RELATIONS(Device, "device")
CALX_MODEL_DEFINE_WITH_RELATIONS(Subnet, "subnet")
CALX_MODEL_DEFINE_WITH_RELATIONS(Device, "device")

#define HOST(f) CALX_C(Host, f)

#include "orm_test.h"
#include "orm_db.h"


/* Runs q (freed) on a connection of its own: its result, or NULL with the
 * error in err. */
static calx_result *try_select(calx_select *q)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    if (calx_await(calx_engine_connect(engine, &err), &c, &err) == 0)
        calx_await(calx_conn_execute_select(c, q, &err), &r, &err);
    calx_conn_close(c);
    calx_select_free(q);
    return r;
}

/* Runs text SQL on a connection of its own and commits: the result. */
static calx_result *run_text(const char *sql)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, sql, NULL, &err), &r, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    return r;
}

/* The names of the hosts cond selects, by id: "a,b", or "ERR message". */
static const char *names_where(calx_expr *cond)
{
    static char out[600];
    calx_select *q = calx_select_columns(HOST(name));
    calx_select_order_by(calx_select_where(q, cond), HOST(id), CALX_ASC);
    calx_result *r = try_select(q);
    if (!r) {
        snprintf(out, sizeof out, "ERR %s", err.message);
        return out;
    }
    size_t n = 0;
    out[0] = '\0';
    for (const calx_row *row; (row = calx_result_next(r));)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", n ? "," : "",
                              calx_row_text(row, 0));
    calx_result_free(r);
    return out;
}

/* Adds the three hosts through a session and commits. */
static void add_hosts(void)
{
    calx_session *s = new_session();
    Host *a = CALX_NEW(Host, &err, .name = "a", .address = "10.0.0.1",
                       .gateway = "10.0.0.254", .secret = "alpha");
    Host *b = CALX_NEW(Host, &err, .name = "b", .address = "9.255.0.7");
    Host *c = CALX_NEW(Host, &err, .name = "c", .address = "192.168.1.20");
    CHECK(a && b && c);
    calx_session_add(s, a, &err);
    calx_session_add(s, b, &err);
    calx_session_add(s, c, &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
}

/* ---- the cases ---- */

DB_TEST(a_user_type_field_is_stored_in_its_column_type_and_read_back_as_the_programs,
        CALX_TABLE(Host))
{
    add_hosts();
    /* The table holds integers and bytes: text SQL is untyped. */
    calx_result *r = run_text("SELECT address, gateway, secret FROM host ORDER BY id");
    const calx_row *row = calx_result_first(r);
    CHECK(row && calx_row_value(row, 0)->type == CALX_INT);
    CHECK_INT(calx_row_int(row, 0), 167772161);
    CHECK_INT(calx_row_int(row, 1), 167772414);
    const calx_value *sv = calx_row_value(row, 2);
    CHECK(sv && sv->type == CALX_BLOB && sv->u.s.len == 5 && memcmp(sv->u.s.ptr, "alpha", 5));
    calx_result_free(r);

    /* A new session loads them back as text. */
    calx_session *s = new_session();
    Host *h = NULL;
    CHECK_OK(calx_session_get(s, &Host_model, calx_int(1), &h, &err), &err);
    CHECK(h != NULL);
    if (h) {
        CHECK_STR(h->address, "10.0.0.1");
        CHECK_STR(h->gateway, "10.0.0.254");
        CHECK_STR(h->secret, "alpha");
    }
    /* A query loads them the same (its rows converted once, not twice). */
    calx_objlist all = { 0 };
    calx_select *q = calx_select_new(CALX_TABLE(Host));
    calx_select_where(q, calx_eq(HOST(gateway), "10.0.0.254"));
    CHECK_OK(calx_session_all(s, q, &all, &err), &err);
    calx_select_free(q);
    CHECK(all.n == 1 && all.items[0] == h);
    calx_objlist_free(&all);
    Host *b = NULL;
    CHECK_OK(calx_session_get(s, &Host_model, calx_int(2), &b, &err), &err);
    CHECK(b && b->gateway == NULL && b->secret == NULL);
    /* A change is flushed through bind again. */
    if (h) {
        CHECK_INT(calx_obj_set_text(h, &h->address, "10.0.0.2"), 0);
        CHECK_OK(calx_session_commit(s, &err), &err);
        CHECK(strstr(logbuf, "UPDATE host SET address=") != NULL);
    }
    calx_session_free(s);
    r = run_text("SELECT address FROM host WHERE id = 1");
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 167772162);
    calx_result_free(r);
}

DB_TEST(echo_shows_the_stored_value_as_sqlalchemy_shows_processed_parameters,
        CALX_TABLE(Host))
{
    add_hosts();
    CHECK(strstr(logbuf, "167772161") != NULL);
    CHECK(strstr(logbuf, "'10.0.0.1'") == NULL);
}

DB_TEST(the_database_compares_and_orders_the_stored_values, CALX_TABLE(Host))
{
    add_hosts();
    CHECK_STR(names_where(calx_eq(HOST(address), "10.0.0.1")), "a");
    CHECK_STR(names_where(calx_eq("192.168.1.20", HOST(address))), "c");
    /* As integers 9.255.0.7 < 10.0.0.1, which text would order the other way. */
    CHECK_STR(names_where(calx_lt(HOST(address), "10.0.0.0")), "b");
    CHECK_STR(names_where(calx_between(HOST(address), "10.0.0.0", "10.255.255.255")), "a");
    CHECK_STR(names_where(calx_in(HOST(address), calx_text("9.255.0.7"), calx_text("192.168.1.20"), calx_text("1.2.3.4"))), "b,c");
    CHECK_STR(names_where(calx_eq(HOST(gateway), "10.0.0.254")), "a");
    CHECK_STR(names_where(calx_eq(HOST(secret), "alpha")), "a");

    /* Selected columns come back as the program's values, min and max too. */
    calx_select *q = calx_select_columns(HOST(address), calx_max(HOST(address)));
    calx_select_group_by(q, HOST(address));
    calx_select_order_by(q, HOST(address), CALX_ASC);
    calx_result *r = try_select(q);
    CHECK(r != NULL);
    const calx_row *row = calx_result_first(r);
    CHECK_STR(calx_row_text(row, 0), "9.255.0.7");
    CHECK_STR(calx_row_text(row, 1), "9.255.0.7");
    calx_result_free(r);
    r = try_select(calx_select_columns(calx_min(HOST(address)), calx_max(HOST(address))));
    row = calx_result_first(r);
    CHECK_STR(calx_row_text(row, 0), "9.255.0.7");
    CHECK_STR(calx_row_text(row, 1), "192.168.1.20");
    calx_result_free(r);
}

DB_TEST(core_insert_and_update_values_go_through_bind, CALX_TABLE(Host))
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    calx_insert *ins = calx_insert_new(CALX_TABLE(Host));
    calx_insert_value(ins, "name", CALX_X("x"));
    calx_insert_value(ins, "address", CALX_X("1.2.3.4"));
    calx_insert_value(ins, "secret", CALX_X("x-secret"));
    CHECK_OK(calx_await(calx_conn_execute_insert(c, ins, &err), &r, &err), &err);
    calx_insert_free(ins);
    calx_result_free(r);
    static const char *const cols[] = { "name", "address" };
    ins = calx_insert_columns(calx_insert_new(CALX_TABLE(Host)), cols, 2);
    calx_insert_row(ins, (calx_value[]){ calx_text("y"), calx_text("5.6.7.8") });
    calx_insert_row(ins, (calx_value[]){ calx_text("z"), calx_text("255.255.255.255") });
    CHECK_OK(calx_await(calx_conn_execute_insert(c, ins, &err), &r, &err), &err);
    calx_insert_free(ins);
    calx_result_free(r);
    calx_update *upd = calx_update_set(calx_update_new(CALX_TABLE(Host)), "gateway", "1.2.3.1");
    calx_update_where(upd, calx_eq(HOST(address), "1.2.3.4"));
    calx_update_returning(upd, HOST(gateway));
    CHECK_OK(calx_await(calx_conn_execute_update(c, upd, &err), &r, &err), &err);
    calx_update_free(upd);
    CHECK_INT(calx_result_rowcount(r), 1);
    /* RETURNING gives the program's value too. */
    CHECK_STR(calx_row_text(calx_result_first(r), 0), "1.2.3.1");
    calx_result_free(r);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);

    r = run_text("SELECT address, gateway FROM host ORDER BY address");
    const calx_row *row = calx_result_first(r);
    CHECK_INT(calx_row_int(row, 0), 16909060);
    CHECK_INT(calx_row_int(row, 1), 16909057);
    row = calx_result_next(r);
    row = calx_result_next(r);
    row = calx_result_next(r);
    CHECK_INT(calx_row_int(row, 0), 4294967295ll);
    calx_result_free(r);
    CHECK_STR(names_where(calx_eq(HOST(secret), "x-secret")), "x");
}

DB_TEST(a_key_of_a_user_type_finds_its_object_through_the_identity_map, CALX_TABLE(Lease))
{
    calx_session *s = new_session();
    Lease *l = CALX_NEW(Lease, &err, .address = "10.1.2.3", .owner = "ann");
    CHECK(l != NULL);
    calx_session_add(s, l, &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);

    s = new_session();
    Lease *got = NULL, *again = NULL;
    CHECK_OK(calx_session_get(s, &Lease_model, calx_text("10.1.2.3"), &got, &err), &err);
    CHECK(got && strcmp(got->owner, "ann") == 0 && strcmp(got->address, "10.1.2.3") == 0);
    log_reset();
    CHECK_OK(calx_session_get(s, &Lease_model, calx_text("10.1.2.3"), &again, &err), &err);
    CHECK(again == got);
    CHECK(loglen == 0); /* the identity map answered */
    Lease *none = l;
    CHECK_OK(calx_session_get(s, &Lease_model, calx_text("10.1.2.4"), &none, &err), &err);
    CHECK(none == NULL);
    if (got) {
        CHECK_OK(calx_session_delete(s, got, &err), &err);
        CHECK_OK(calx_session_commit(s, &err), &err);
    }
    calx_session_free(s);
    calx_result *r = run_text("SELECT count(*) FROM lease");
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 0);
    calx_result_free(r);
}

DB_TEST(bad_values_give_errors_naming_the_column_and_the_type, CALX_TABLE(Host), CALX_TABLE(Odd))
{
    /* The constructor runs bind: a value it refuses is not an object. */
    Host *h = CALX_NEW(Host, &err, .name = "bad", .address = "10.0.0.300");
    CHECK(h == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_STR(err.message,
              "Host.address: column address (IPv4): '10.0.0.300' is not an IPv4 address");
    h = CALX_NEW(Host, &err, .name = "bad", .address = "1.2.3.4", .gateway = "1.2.3");
    CHECK(h == NULL);
    CHECK_STR(err.message, "Host.gateway: column gateway (IPv4): '1.2.3' is not an IPv4 address");

    /* A comparison with a value bind refuses, or of another type. */
    CHECK_STR(names_where(calx_eq(HOST(address), "localhost")),
              "ERR column address (IPv4): 'localhost' is not an IPv4 address");
    CHECK_STR(names_where(calx_eq(HOST(address), 167772161)),
              "ERR column address (IPv4) takes TEXT values, not INTEGER");
    CHECK_STR(names_where(calx_in(HOST(address), calx_text("1.2.3.4"), calx_text("x"))),
              "ERR column address (IPv4): 'x' is not an IPv4 address (IN value 2)");

    /* Core DML names the statement too. */
    calx_insert *ins = calx_insert_new(CALX_TABLE(Host));
    calx_insert_value(ins, "name", CALX_X("x"));
    calx_insert_value(ins, "address", CALX_X("1.2.3"));
    CHECK(calx_insert_error(ins, &err) == CALX_ERR_VALIDATION);
    CHECK(strstr(err.message, "column address (IPv4): '1.2.3' is not an IPv4 address") != NULL);
    calx_insert_free(ins);

    /* A result function giving another type than value_type. */
    calx_session *s = new_session();
    Odd *o = CALX_NEW(Odd, &err, .address = "1.1.1.1");
    CHECK(o != NULL);
    calx_session_add(s, o, &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
    s = new_session();
    Odd *back = NULL;
    CHECK(calx_session_get(s, &Odd_model, calx_int(1), &back, &err) == CALX_ERR_DATA);
    CHECK_STR(err.message, "column address (Broken): result gave a INTEGER value, not TEXT");
    calx_session_free(s);

    /* The library stays usable. */
    add_hosts();
    CHECK_STR(names_where(calx_eq(HOST(address), "10.0.0.1")), "a");
}

/* Adds two subnets, three devices in one and none in the other, through
 * the relationship (the flush copies each subnet's address into its
 * devices' foreign key), and commits. */
static void add_subnets(void)
{
    calx_session *s = new_session();
    Subnet *lan = CALX_NEW(Subnet, &err, .address = "10.0.0.0", .name = "lan");
    Subnet *dmz = CALX_NEW(Subnet, &err, .address = "9.255.0.0", .name = "dmz");
    CHECK(lan && dmz);
    const char *names[] = { "router", "printer", "nas" };
    for (size_t i = 0; i < 3; i++) {
        Device *d = CALX_NEW(Device, &err, .name = names[i]);
        CHECK(d != NULL);
        d->subnet = lan;
        calx_session_add(s, d, &err);
    }
    calx_session_add(s, dmz, &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
}

static calx_objlist all_with(calx_session *s, const calx_model *m, const calx_loader *l)
{
    calx_objlist out = { 0 };
    calx_exec_opts o = { .loaders = l, .nloaders = l ? 1 : 0 };
    calx_select *q = calx_select_new(&m->table);
    calx_select_order_by(q, calx_col(&m->table, 0), CALX_ASC);
    CHECK_OK(calx_session_execute(s, q, &o, &out, &err), &err);
    calx_select_free(q);
    return out;
}

/* Subnets in address order (the stored integers: dmz, then lan), each
 * with its devices: "dmz:;lan:router,printer,nas". */
static const char *subnets_text(const calx_objlist *l)
{
    static char out[200];
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        const Subnet *sn = l->items[i];
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s:", i ? ";" : "", sn->name);
        for (size_t k = 0; k < sn->devices.n; k++)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", k ? "," : "",
                                  sn->devices.items[k]->name);
    }
    return out;
}

DB_TEST(relationships_join_on_a_column_of_a_user_type, CALX_TABLE(Subnet), CALX_TABLE(Device))
{
    add_subnets();
    calx_result *r = run_text("SELECT subnet_address FROM device ORDER BY id");
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 167772160);
    calx_result_free(r);

    /* selectinload, both ways. */
    calx_session *s = new_session();
    calx_loader devices[] = { CALX_SELECTINLOAD(CALX_REL(Subnet, devices)) };
    calx_objlist l = all_with(s, &Subnet_model, devices);
    CHECK_STR(subnets_text(&l), "dmz:;lan:router,printer,nas");
    calx_objlist_free(&l);
    calx_session_free(s);
    s = new_session();
    calx_loader subnet[] = { CALX_SELECTINLOAD(CALX_REL(Device, subnet)) };
    l = all_with(s, &Device_model, subnet);
    CHECK_INT(l.n, 3);
    for (size_t i = 0; i < l.n; i++) {
        Device *d = l.items[i];
        CHECK(d->subnet != NULL && strcmp(d->subnet->name, "lan") == 0);
        CHECK(d->subnet == ((Device *)l.items[0])->subnet);
    }
    calx_objlist_free(&l);
    calx_session_free(s);

    /* joinedload, both ways. */
    s = new_session();
    calx_loader joined[] = { CALX_JOINEDLOAD(CALX_REL(Subnet, devices)) };
    l = all_with(s, &Subnet_model, joined);
    CHECK_STR(subnets_text(&l), "dmz:;lan:router,printer,nas");
    calx_objlist_free(&l);
    calx_session_free(s);
    s = new_session();
    calx_loader joined_subnet[] = { CALX_JOINEDLOAD(CALX_REL(Device, subnet)) };
    l = all_with(s, &Device_model, joined_subnet);
    CHECK(l.n == 3 && ((Device *)l.items[2])->subnet &&
          strcmp(((Device *)l.items[2])->subnet->address, "10.0.0.0") == 0);
    calx_objlist_free(&l);
    calx_session_free(s);

    /* One object's load, both ways, and the many-to-one from the identity map. */
    s = new_session();
    Subnet *lan = NULL;
    CHECK_OK(calx_session_get(s, &Subnet_model, calx_text("10.0.0.0"), &lan, &err), &err);
    CHECK(lan != NULL);
    Device *nas = NULL;
    CHECK_OK(calx_session_get(s, &Device_model, calx_int(3), &nas, &err), &err);
    CHECK(nas && strcmp(nas->subnet_address, "10.0.0.0") == 0);
    log_reset();
    CHECK_OK(calx_session_load(s, nas, CALX_REL(Device, subnet), &err), &err);
    CHECK(nas && nas->subnet == lan);
    CHECK(loglen == 0);
    CHECK_OK(calx_session_load(s, lan, CALX_REL(Subnet, devices), &err), &err);
    CHECK(lan && lan->devices.n == 3 && lan->devices.items[2] == nas);
    /* Moving a device: the flush binds the new subnet's address. */
    Subnet *dmz = NULL;
    CHECK_OK(calx_session_get(s, &Subnet_model, calx_text("9.255.0.0"), &dmz, &err), &err);
    CHECK_OK(calx_session_load(s, dmz, CALX_REL(Subnet, devices), &err), &err);
    if (nas && dmz) {
        nas->subnet = dmz;
        CHECK_OK(calx_session_commit(s, &err), &err);
    }
    calx_session_free(s);
    r = run_text("SELECT subnet_address FROM device WHERE id = 3");
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 167706624);
    calx_result_free(r);
}

static const calx_user_type no_result = { .name = "Half", .value_type = CALX_TEXT,
                                          .bind = ip_bind };
static const calx_user_type no_value_type = { .name = "Vague", .bind = ip_bind,
                                              .result = ip_result };

TEST(metadata_refuses_a_user_type_without_its_parts)
{
    calx_metadata *m = calx_metadata_new(&err);
    static const calx_column half_cols[] = {
        { .name = "a", .type = CALX_COL_INT64, .user_type = &no_result },
    };
    static const calx_table half = { .name = "half", .columns = half_cols, .ncolumns = 1 };
    CHECK(calx_metadata_add(m, &half, &err) == CALX_ERR_ARGUMENT);
    CHECK_STR(err.message,
              "column half.a: a user type needs a name, a bind and a result function");
    static const calx_column vague_cols[] = {
        { .name = "a", .type = CALX_COL_INT64, .user_type = &no_value_type },
    };
    static const calx_table vague = { .name = "vague", .columns = vague_cols, .ncolumns = 1 };
    CHECK(calx_metadata_add(m, &vague, &err) == CALX_ERR_ARGUMENT);
    CHECK(strstr(err.message, "user type Vague has no value_type") != NULL);
    calx_metadata_free(m);
}

int main(void)
{
    dir = test_tmpdir("test_user_types");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    RUN(a_user_type_field_is_stored_in_its_column_type_and_read_back_as_the_programs);
    RUN(echo_shows_the_stored_value_as_sqlalchemy_shows_processed_parameters);
    RUN(the_database_compares_and_orders_the_stored_values);
    RUN(core_insert_and_update_values_go_through_bind);
    RUN(a_key_of_a_user_type_finds_its_object_through_the_identity_map);
    RUN(bad_values_give_errors_naming_the_column_and_the_type);
    RUN(relationships_join_on_a_column_of_a_user_type);
    RUN(metadata_refuses_a_user_type_without_its_parts);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
