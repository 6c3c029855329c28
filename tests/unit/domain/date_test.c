/* Unit: calendar arithmetic under the follow-up rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/date.h"

static jf_date D(const char *s)
{
    jf_date d;

    assert_int_equal(jf_date_parse(s, &d), 0);
    return d;
}

static void parse_and_format(void **state)
{
    static const char *good[] = {"1970-01-01", "2000-02-29", "2024-02-29", "2026-12-31",
                                 "1900-01-01", "2199-12-31"};
    static const char *bad[] = {"2023-02-29", "1900-02-29", "2026-13-01", "2026-00-10",
                                "2026-04-31", "2026-1-01",  "20260101",   "2026/01/01",
                                "1899-12-31", "2200-01-01", "",           "2026-01-0a"};
    char out[11];
    jf_date d;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        jf_date_format(D(good[i]), out);
        assert_string_equal(out, good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (jf_date_parse(bad[i], &d) == 0)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(jf_date_parse(NULL, &d), -1);
    assert_int_equal(D("1970-01-01"), 0);
    assert_int_equal(D("1970-01-02") - D("1970-01-01"), 1);
    assert_int_equal(D("2026-03-15") - D("2026-03-01"), 14);
}

static void add_months_clamps(void **state)
{
    static const struct {
        const char *from;
        int n;
        const char *to;
    } rows[] = {
        {"2026-03-01", 3, "2026-06-01"},  {"2026-03-15", 1, "2026-04-15"},
        {"2026-01-31", 1, "2026-02-28"},  {"2024-01-31", 1, "2024-02-29"},
        {"2026-11-30", 3, "2027-02-28"},  {"2026-12-15", 1, "2027-01-15"},
        {"2026-03-31", -1, "2026-02-28"}, {"2026-01-15", -1, "2025-12-15"},
        {"2026-05-31", 12, "2027-05-31"},
    };
    char out[11];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_date_format(jf_date_add_months(D(rows[i].from), rows[i].n), out);
        if (strcmp(out, rows[i].to) != 0)
            fail_msg("%s %+d months: expected %s, got %s", rows[i].from, rows[i].n, rows[i].to,
                     out);
    }
}

static void today_is_injectable(void **state)
{
    jf_date_set_today(D("2026-03-01"));
    assert_int_equal(jf_date_today(), D("2026-03-01"));
    assert_int_equal(jf_date_ymd_int(jf_date_today()), 20260301);
    jf_date_set_today(JF_DATE_NONE);
    assert_true(jf_date_today() > D("2026-01-01"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(add_months_clamps),
        cmocka_unit_test(today_is_injectable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
