/* Unit: a record kind's table generates its INSERT, its JSON and the
 * INSERT's parameters (what is shown only is never stored, what is stored
 * but folded into another member is never shown). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/record/kind.h"

static const char *const colours[] = {"red", "green", NULL};
enum { K_ID, K_PATIENT, K_DAY, K_COLOUR, K_FLAGS, K_PART_A, K_PART_B, K_PARTS, K_N };
static const jf_kfield fields[] = {
    [K_ID] = {"id", NULL, JF_K_OUT, .json = "x.id"},
    [K_PATIENT] = {NULL, "patient_id", JF_K_SET, .flags = 0},
    [K_DAY] = {"day", "day", JF_K_DATE, .cast = "date", .flags = JF_KF_REQUIRED},
    [K_COLOUR] = {"colour", "colour", JF_K_CODE, colours, .flags = 0},
    [K_FLAGS] = {"flags", "flags", JF_K_CODES, colours, .max = 2, .cast = "text[]",
                 .dflt = "'{}'"},
    [K_PART_A] = {NULL, "part_a", JF_K_SET, .flags = JF_KF_NO_JSON},
    [K_PART_B] = {NULL, "part_b", JF_K_SET, .flags = JF_KF_NO_JSON},
    [K_PARTS] = {"parts", NULL, JF_K_OUT, .json = "json_build_object('a', x.part_a, 'b', x.part_b)"},
};
static const jf_kind kind = {"things", "x", fields, K_N};

static void insert_sql(void **state)
{
    char sql[1024];

    assert_int_equal(jf_kind_insert_sql(&kind, NULL, sql, sizeof(sql)), 0);
    assert_string_equal(sql, "INSERT INTO things AS x (patient_id, day, colour, flags, part_a,"
                             " part_b) VALUES ($1, $2::date, $3, coalesce($4::text[], '{}'), $5,"
                             " $6) RETURNING x.id");
    assert_int_equal(jf_kind_insert_sql(&kind, "x.doc", sql, sizeof(sql)), 0);
    assert_non_null(strstr(sql, " RETURNING x.id, x.doc::text"));
    /* Too small a buffer is refused, not cut. */
    assert_int_not_equal(jf_kind_insert_sql(&kind, NULL, sql, 40), 0);
}

static void json_sql(void **state)
{
    char sql[1024];

    assert_int_equal(jf_kind_json_sql(&kind, sql, sizeof(sql)), 0);
    assert_string_equal(sql, "json_build_object('id', x.id, 'patient_id', x.patient_id,"
                             " 'day', x.day, 'colour', x.colour, 'flags', x.flags,"
                             " 'parts', json_build_object('a', x.part_a, 'b', x.part_b))");
}

static void params_skip_what_is_shown_only(void **state)
{
    const char *vals[K_N] = {"ignored", "7", "2026-03-01", NULL, "{red}", "A", "B", "ignored"};
    const char *p[K_N];

    assert_int_equal(jf_kind_params(&kind, vals, p), 6);
    assert_string_equal(p[0], "7");
    assert_string_equal(p[1], "2026-03-01");
    assert_null(p[2]);
    assert_string_equal(p[3], "{red}");
    assert_string_equal(p[5], "B");
    assert_int_equal(jf_kind_index(&kind, "colour"), K_COLOUR);
    assert_int_equal(jf_kind_index(&kind, "parts"), -1); /* shown only: no column */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert_sql),
        cmocka_unit_test(json_sql),
        cmocka_unit_test(params_skip_what_is_shown_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
