/* SPDX-License-Identifier: MIT */
/* The richer column types (calx/types.h) in one model: an exact decimal
 * price (NUMERIC(10, 2)), a UUID primary key made by calx_uuid4_factory,
 * an aware timestamp (calx_now_utc), a JSON column and an enum. Echo is
 * on: create_all, a few rows inserted, then a query by each type — price
 * above a decimal, get by UUID, a time range, the enum's name — and the
 * JSON read back; the objects print as SQLModel prints them. SQLite keeps
 * the decimal as a scaled integer (1999 for 19.99), exact and comparable
 * in SQL; PostgreSQL has every type natively (the enum is a CREATE TYPE).
 *
 *     build/types                         (types.db in the current directory)
 *     DATABASE_URL=postgresql://... build/types
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "calx.h"

/* class Status(str, enum.Enum): the i-th name is the C value i. */
enum status { STATUS_DRAFT, STATUS_ACTIVE, STATUS_RETIRED };
static const char *const status_names[] = { "draft", "active", "retired" };
static const calx_enum status_enum = { .name = "status", .names = status_names, .n = 3 };

#define Product_FIELDS(F, M)                                                  \
    F(M, id,         UUID,      FACTORY(calx_uuid4_factory),                  \
                                .primary_key = true)                          \
    F(M, name,       TEXT,      REQUIRED)                                     \
    F(M, price,      DECIMAL,   REQUIRED, .precision = 10, .scale = 2)        \
    F(M, status,     ENUM,      DEFAULT(STATUS_DRAFT),                        \
                                .enum_type = &status_enum)                    \
    F(M, attributes, OPT_JSON,  NONE)                                         \
    F(M, created_at, TIMESTAMP, FACTORY(calx_now_utc), .index = true)
CALX_MODEL(Product, "product")
CALX_MODEL_DEFINE(Product, "product")

static calx_engine *engine;

#define TRY(call)                                                             \
    do {                                                                      \
        if ((call) != 0) {                                                    \
            fprintf(stderr, "types: %s failed: %s: %s\n", #call,              \
                    calx_errcode_name(err.code), err.message);                \
            return (void *)1;                                                 \
        }                                                                     \
    } while (0)

static void step(const char *title)
{
    printf("\n### %s\n", title);
    fflush(stdout);
}

/* Runs q in a new session and prints each product it finds, then their
 * count and the total of their prices. */
static int print_products(calx_select *q, calx_error *err)
{
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, err);
    calx_objlist found = { 0 };
    int rc = s ? calx_session_all(s, q, &found, err) : err->code;
    calx_decimal total = calx_decimal_of(0, 2);
    for (size_t i = 0; rc == 0 && i < found.n; i++) {
        const Product *p = found.items[i];
        calx_obj_println(p, stdout);
        rc = calx_decimal_add(total, p->price, &total, err);
    }
    if (rc == 0) {
        char text[CALX_DECIMAL_TEXT_SIZE];
        calx_decimal_format(total, text, sizeof text);
        printf("%zu found, prices totalling %s\n", found.n, text);
    }
    calx_objlist_free(&found);
    calx_select_free(q);
    calx_session_free(s);
    return rc;
}

static void *run(void *unused)
{
    (void)unused;
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    TRY(calx_metadata_add(md, CALX_TABLE(Product), &err));
    step("create_all");
    TRY(calx_await(calx_engine_drop_all(engine, md, &err), NULL, &err));
    TRY(calx_await(calx_engine_create_all(engine, md, &err), NULL, &err));
    calx_metadata_free(md);

    step("insert");
    calx_decimal price;
    TRY(calx_decimal_parse("19.99", 5, &price, &err));
    Product *lamp = CALX_NEW(Product, &err, .name = "Lamp", .price = price,
                             .status = STATUS_ACTIVE,
                             .attributes = "{\"color\": \"red\", \"watts\": 40}");
    Product *chair = CALX_NEW(Product, &err, .name = "Chair",
                              .price = calx_decimal_of(750, 2));   /* 7.50, a draft */
    calx_timestamp listed;        /* an instant given with its offset */
    TRY(calx_timestamp_parse("2024-01-15 09:30:00+01:00", 25, &listed, &err));
    Product *desk = CALX_NEW(Product, &err, .name = "Desk", .price = calx_decimal_of(12900, 2),
                             .status = STATUS_RETIRED, .attributes = "{\"legs\": 4}",
                             .created_at = listed);
    if (!lamp || !chair || !desk) {
        fprintf(stderr, "types: %s\n", err.message);
        calx_obj_free(lamp);
        calx_obj_free(chair);
        calx_obj_free(desk);
        return (void *)1;
    }
    calx_uuid lamp_id = lamp->id, desk_id = desk->id;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    TRY(calx_session_add_all(s, (void *[]){ lamp, chair, desk }, 3, &err));
    TRY(calx_session_commit(s, &err));
    calx_session_free(s);

    step("price > 10.00");
    calx_decimal ten;
    TRY(calx_decimal_parse("10.00", 5, &ten, &err));
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Product)),
                                       calx_gt(CALX_C(Product, price), calx_value_decimal(ten)));
    TRY(print_products(calx_select_order_by(q, CALX_C(Product, price), CALX_ASC), &err));

    step("get by UUID");
    s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    Product *got = NULL;
    TRY(CALX_GET(s, Product, calx_value_uuid(lamp_id), &got, &err));
    calx_obj_println(got, stdout);
    calx_session_free(s);

    step("created in the last hour");
    calx_timestamp now;
    TRY(calx_now_utc(&now, &err));
    const calx_timestamp hour = 3600 * INT64_C(1000000);
    q = calx_select_where(calx_select_new(CALX_TABLE(Product)),
                          calx_between(CALX_C(Product, created_at),
                                       calx_value_timestamp(now - hour),
                                       calx_value_timestamp(now + hour)));
    TRY(print_products(calx_select_order_by(q, CALX_C(Product, name), CALX_ASC), &err));

    step("status == 'active'");
    q = calx_select_where(calx_select_new(CALX_TABLE(Product)),
                          calx_eq(CALX_C(Product, status), "active"));
    TRY(print_products(q, &err));

    step("the JSON column read back");
    s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    TRY(CALX_GET(s, Product, calx_value_uuid(desk_id), &got, &err));
    char when[CALX_DATETIME_TEXT_SIZE];
    calx_timestamp_format(got->created_at, 60, when, sizeof when);
    printf("%s: attributes %s, listed %s\n", got->name, got->attributes, when);
    calx_session_free(s);
    return NULL;
}

int main(void)
{
    calx_error err;
    setvbuf(stdout, NULL, _IOLBF, 0); /* interleave with the echo on stderr */
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url) {
        url = "sqlite:///types.db";
        unlink("types.db");
        unlink("types.db-wal");
        unlink("types.db-shm");
    }
    engine = calx_create_engine(url, &(calx_engine_opts){ .echo = true }, &err);
    if (!engine) {
        fprintf(stderr, "types: %s\n", err.message);
        return 1;
    }
    void *failed = (void *)1;
    int rc = calx_wait(calx_spawn(calx_loop_default(), run, NULL, NULL, &err), &failed, &err);
    if (rc)
        fprintf(stderr, "types: %s\n", err.message);
    calx_engine_free(engine);
    calx_loop_free_default();
    return rc || failed ? 1 : 0;
}
