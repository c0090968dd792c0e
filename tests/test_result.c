/* SPDX-License-Identifier: MIT */
/* Results and row getters at the edges, without a database: a NULL result
 * or row (what a failed or empty query leaves), columns that do not exist,
 * and values no getter may turn into undefined behaviour (reals beyond
 * int64, NaN, infinities). The results are made straight from rowsets, as
 * a driver hands them to the engine. */
#include <math.h>

#include "calx/result.h"
#include "driver/rowset.h"
#include "engine/engine_int.h"
#include "test.h"

/* A buffered result with one column "n" and one row per value given. */
static calx_result *column_of(const calx_value *vals, size_t n)
{
    calx_rowset *rs = calx__rowset_new(1);
    if (!rs || calx__rowset_set_colname(rs, 0, "n") != 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        calx_value *row = calx__rowset_add_row(rs);
        if (!row)
            return NULL;
        row[0] = vals[i];
    }
    return calx__result_new(rs, NULL, 0, 0);
}

/* ---- a NULL row: what calx_result_first gives on an empty result ---- */

TEST(row_col_on_a_null_row_finds_no_column)
{
    CHECK_INT(calx_row_col(NULL, "n"), -1);
    CHECK_INT(calx_row_col(NULL, NULL), -1);
}

TEST(getters_on_an_empty_result_read_null_instead_of_crashing)
{
    calx_result *r = column_of(NULL, 0);
    CHECK(r != NULL);
    const calx_row *row = calx_result_first(r);
    CHECK(row == NULL);
    CHECK_INT(calx_row_int(row, calx_row_col(row, "n")), 0);
    CHECK(calx_row_real(row, calx_row_col(row, "n")) == 0.0);
    CHECK(!calx_row_bool(row, calx_row_col(row, "n")));
    CHECK(calx_row_text(row, calx_row_col(row, "n")) == NULL);
    size_t len = 99;
    CHECK(calx_row_blob(row, calx_row_col(row, "n"), &len) == NULL);
    CHECK_INT(len, 0);
    CHECK(calx_row_isnull(row, calx_row_col(row, "n")));
    CHECK_INT(calx_row_value(row, 0)->type, CALX_NULL);
    calx_result_free(r);
}

TEST(strict_getters_on_a_null_row_say_there_is_no_row)
{
    calx_error err;
    int64_t i = 7;
    double d = 7.0;
    bool b = true;
    const char *t = "kept";
    const void *p = "kept";
    size_t len = 7;

    CHECK_INT(calx_row_get_int(NULL, 0, &i, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "no row");
    CHECK_INT(calx_row_get_real(NULL, 0, &d, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_row_get_bool(NULL, 0, &b, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_row_get_text(NULL, 0, &t, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_row_get_blob(NULL, 0, &p, &len, &err), CALX_ERR_ARGUMENT);
    /* Nothing is written on failure. */
    CHECK_INT(i, 7);
    CHECK(d == 7.0 && b && len == 7);
    CHECK_STR(t, "kept");
}

TEST(row_col_on_a_row_finds_columns_by_name_and_no_others)
{
    calx_value v = calx_int(5);
    calx_result *r = column_of(&v, 1);
    const calx_row *row = calx_result_first(r);
    CHECK_INT(calx_row_col(row, "n"), 0);
    CHECK_INT(calx_row_col(row, "m"), -1);
    CHECK_INT(calx_row_col(row, NULL), -1);
    CHECK_INT(calx_row_int(row, calx_row_col(row, "n")), 5);
    CHECK_INT(calx_row_int(row, calx_row_col(row, "m")), 0);
    calx_error err;
    int64_t i = 0;
    CHECK_INT(calx_row_get_int(row, calx_row_col(row, "m"), &i, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "no column -1");
    calx_result_free(r);
}

/* ---- a NULL result: what a failed call leaves ---- */

TEST(read_only_accessors_on_a_null_result_answer_no_rows)
{
    CHECK_INT(calx_result_ncols(NULL), 0);
    CHECK(calx_result_colname(NULL, 0) == NULL);
    CHECK_INT(calx_result_colindex(NULL, "n"), -1);
    CHECK_INT(calx_result_rowcount(NULL), -1);
    CHECK_INT(calx_result_lastrowid(NULL), 0);
    CHECK_INT(calx_result_nrows(NULL), 0);
    CHECK(!calx_result_nextset(NULL));
    CHECK(calx_result_row(NULL, 0) == NULL);
    CHECK(calx_result_next(NULL) == NULL);
    CHECK(!calx_result_more(NULL));
    CHECK(calx_result_first(NULL) == NULL);
    CHECK_INT(calx_result_scalar(NULL).type, CALX_NULL);
    calx_result_free(NULL);
}

TEST(calls_that_report_errors_refuse_a_null_result)
{
    calx_error err;
    const calx_row *row = (const calx_row *)&err;
    calx_value out = calx_int(7);

    CHECK_INT(calx_result_one(NULL, &row, &err), CALX_ERR_ARGUMENT);
    CHECK(row == NULL);
    CHECK_CONTAINS(err.message, "calx_result_one was given a NULL result");
    row = (const calx_row *)&err;
    CHECK_INT(calx_result_one_or_none(NULL, &row, &err), CALX_ERR_ARGUMENT);
    CHECK(row == NULL);
    CHECK_INT(calx_result_scalar_one(NULL, &out, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "calx_result_scalar_one");
    CHECK_INT(out.type, CALX_INT);
    CHECK(calx_result_fetch(NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    row = (const calx_row *)&err;
    CHECK_INT(calx_result_anext(NULL, &row, &err), CALX_ERR_ARGUMENT);
    CHECK(row == NULL);
}

/* ---- numbers no getter may turn into undefined behaviour ---- */

TEST(row_int_saturates_reals_beyond_int64_and_reads_nan_as_zero)
{
    /* 2^63 is the first double past INT64_MAX; -2^63 is INT64_MIN exactly. */
    const calx_value vals[] = {
        calx_real(1e300), calx_real(-1e300), calx_real(INFINITY),
        calx_real(-INFINITY), calx_real(NAN), calx_real(9223372036854775808.0),
        calx_real(-9223372036854775808.0), calx_real(3.9), calx_real(-3.9),
        calx_real(9223372036854774784.0),  /* the largest double below 2^63 */
    };
    const int64_t want[] = {
        INT64_MAX, INT64_MIN, INT64_MAX, INT64_MIN, 0, INT64_MAX, INT64_MIN,
        3, -3, INT64_C(9223372036854774784),
    };
    size_t n = sizeof vals / sizeof *vals;
    calx_result *r = column_of(vals, n);
    CHECK(r != NULL);
    for (size_t i = 0; i < n; i++) {
        const calx_row *row = calx_result_row(r, i);
        CHECK_INT(calx_row_int(row, 0), want[i]);
        /* The strict getter never converts a real to an int. */
        calx_error err;
        int64_t out = 42;
        CHECK_INT(calx_row_get_int(row, 0, &out, &err), CALX_ERR_TYPE);
        CHECK_CONTAINS(err.message, "column 'n' is");
        CHECK_INT(out, 42);
    }
    calx_result_free(r);
}

TEST(row_real_and_row_bool_are_defined_for_every_number)
{
    const calx_value vals[] = { calx_int(INT64_MAX), calx_int(INT64_MIN), calx_real(NAN),
                                calx_real(-0.0), calx_bool(true) };
    calx_result *r = column_of(vals, 5);
    CHECK(calx_row_real(calx_result_row(r, 0), 0) == 9223372036854775808.0);
    CHECK(calx_row_real(calx_result_row(r, 1), 0) == -9223372036854775808.0);
    CHECK(isnan(calx_row_real(calx_result_row(r, 2), 0)));
    CHECK(calx_row_bool(calx_result_row(r, 2), 0));    /* NaN is true, as in Python */
    CHECK(!calx_row_bool(calx_result_row(r, 3), 0));   /* -0.0 is zero */
    CHECK(calx_row_bool(calx_result_row(r, 0), 0));
    CHECK_INT(calx_row_int(calx_result_row(r, 4), 0), 1);
    CHECK(calx_row_real(calx_result_row(r, 4), 0) == 1.0);
    calx_result_free(r);
}

TEST(numeric_text_reads_as_a_number_and_other_text_as_zero)
{
    /* PostgreSQL's NUMERIC (avg(), sum() of a BIGINT) arrives as text. */
    const calx_value vals[] = { calx_text("48.0000000000000000"), calx_text("-12"),
                                calx_text("9223372036854775807"), calx_text("1e3"),
                                calx_text("abc"), calx_text("12abc"), calx_text("nan"),
                                calx_text(" 5"), calx_text("") };
    calx_result *r = column_of(vals, 9);
    CHECK(calx_row_real(calx_result_row(r, 0), 0) == 48.0);
    CHECK_INT(calx_row_int(calx_result_row(r, 0), 0), 48);
    CHECK(calx_row_real(calx_result_row(r, 1), 0) == -12.0);
    CHECK_INT(calx_row_int(calx_result_row(r, 1), 0), -12);
    CHECK_INT(calx_row_int(calx_result_row(r, 2), 0), INT64_MAX);   /* exact, not via double */
    CHECK(calx_row_real(calx_result_row(r, 3), 0) == 1000.0);
    for (size_t i = 4; i < 9; i++) {
        CHECK(calx_row_real(calx_result_row(r, i), 0) == 0.0);
        CHECK_INT(calx_row_int(calx_result_row(r, i), 0), 0);
    }
    /* The strict getters still say it is text. */
    double d = -1;
    calx_error err;
    CHECK(calx_row_get_real(calx_result_row(r, 0), 0, &d, &err) == CALX_ERR_TYPE && d == -1);
    calx_result_free(r);
}

int main(void)
{
    RUN(row_col_on_a_null_row_finds_no_column);
    RUN(getters_on_an_empty_result_read_null_instead_of_crashing);
    RUN(strict_getters_on_a_null_row_say_there_is_no_row);
    RUN(row_col_on_a_row_finds_columns_by_name_and_no_others);
    RUN(read_only_accessors_on_a_null_result_answer_no_rows);
    RUN(calls_that_report_errors_refuse_a_null_result);
    RUN(row_int_saturates_reals_beyond_int64_and_reads_nan_as_zero);
    RUN(row_real_and_row_bool_are_defined_for_every_number);
    RUN(numeric_text_reads_as_a_number_and_other_text_as_zero);
    return TEST_REPORT();
}
