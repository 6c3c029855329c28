/* Unit: the standard-management rule (规范管理), one row per branch of
 * docs/domain.md "Statistics and reports". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../domain/stats.h"

static jf_date D(const char *s)
{
    jf_date d;

    assert_int_equal(jf_date_parse(s, &d), 0);
    return d;
}

static void required_visits_prorated(void **state)
{
    static const struct {
        const char *s, *e;
        int n;
    } rows[] = {
        {"2026-01-01", "2026-12-31", 4}, /* a whole year: 12 months */
        {"2026-07-15", "2026-12-31", 2}, /* registered in July: 6 months */
        {"2026-10-01", "2026-12-31", 1}, /* one quarter */
        {"2026-12-20", "2026-12-31", 1}, /* one month touched */
        {"2026-01-01", "2026-11-25", 4}, /* this year until today: 11 months */
        {"2026-01-01", "2026-03-31", 1}, /* a quarter as the period */
        {"2026-01-01", "2026-04-01", 2}, /* four months touched */
        {"2025-11-01", "2026-02-28", 2}, /* across a year end */
        {"2026-05-01", "2026-04-30", 0}, /* empty */
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_stats_required_visits(D(rows[i].s), D(rows[i].e)) != rows[i].n)
            fail_msg("%s..%s: expected %d", rows[i].s, rows[i].e, rows[i].n);
}

/* [R-STAT-3] */
static void gap_days_without_hospital(void **state)
{
    jf_stats_stay st[] = {{D("2026-03-01"), D("2026-03-11")}, {D("2026-05-01"), JF_DATE_NONE}};

    assert_int_equal(jf_stats_gap_days(D("2026-01-01"), D("2026-04-03"), NULL, 0), 92);
    /* ten days in hospital (2 Mar .. 11 Mar) are not a gap */
    assert_int_equal(jf_stats_gap_days(D("2026-01-01"), D("2026-04-03"), st, 1), 82);
    /* a stay wholly outside the gap does not count */
    assert_int_equal(jf_stats_gap_days(D("2026-03-20"), D("2026-04-20"), st, 1), 31);
    /* a stay overlapping the start */
    assert_int_equal(jf_stats_gap_days(D("2026-03-06"), D("2026-03-20"), st, 1), 9);
    /* still in hospital: everything after admission is hospital */
    assert_int_equal(jf_stats_gap_days(D("2026-04-01"), D("2026-12-31"), st, 2), 30);
}

#define V(...) ((const char *[]){__VA_ARGS__, NULL})

/* [R-STAT-3] */
static void standard_table(void **state)
{
    const struct {
        const char *what, *s, *e;
        const char **visits;
        int nstays;
        const char *adm, *dis;
        bool standard;
    } rows[] = {
        {"quarterly, exactly 92 days apart", "2026-01-01", "2026-12-31",
         V("2026-04-03", "2026-07-04", "2026-10-04"), 0, NULL, NULL, false},
        {"four visits 92 days apart, tail 88", "2026-01-01", "2026-12-31",
         V("2026-01-01", "2026-04-03", "2026-07-04", "2026-10-04"), 0, NULL, NULL, true},
        {"one gap of 93 days", "2026-01-01", "2026-12-31",
         V("2026-01-01", "2026-04-04", "2026-07-04", "2026-10-04"), 0, NULL, NULL, false},
        {"first visit 92 days after 1 January", "2026-01-01", "2026-12-31",
         V("2026-04-03", "2026-06-01", "2026-08-01", "2026-10-01", "2026-12-01"), 0, NULL, NULL,
         true},
        {"first visit 93 days after 1 January", "2026-01-01", "2026-12-31",
         V("2026-04-04", "2026-06-01", "2026-08-01", "2026-10-01", "2026-12-01"), 0, NULL, NULL,
         false},
        {"last visit 92 days before the end", "2026-01-01", "2026-12-31",
         V("2026-02-01", "2026-04-01", "2026-06-01", "2026-08-01", "2026-09-30"), 0, NULL, NULL,
         true},
        {"last visit 93 days before the end", "2026-01-01", "2026-12-31",
         V("2026-02-01", "2026-04-01", "2026-06-01", "2026-08-01", "2026-09-29"), 0, NULL, NULL,
         false},
        {"never visited", "2026-01-01", "2026-12-31", V(NULL), 0, NULL, NULL, false},
        {"monthly but only three visits", "2026-01-01", "2026-12-31",
         V("2026-03-01", "2026-06-01", "2026-09-01"), 0, NULL, NULL, false},
        {"registered in July: two visits suffice", "2026-07-15", "2026-12-31",
         V("2026-08-01", "2026-11-01"), 0, NULL, NULL, true},
        {"registered in July: one visit is too few", "2026-07-15", "2026-12-31",
         V("2026-10-01"), 0, NULL, NULL, false},
        {"120-day gap with 40 days in hospital", "2026-01-01", "2026-12-31",
         V("2026-01-10", "2026-05-10", "2026-08-01", "2026-10-20"), 1, "2026-02-01", "2026-03-13",
         true},
        {"120-day gap with 20 days in hospital", "2026-01-01", "2026-12-31",
         V("2026-01-10", "2026-05-10", "2026-08-01", "2026-10-20"), 1, "2026-02-01", "2026-02-21",
         false},
        {"in hospital since October: no tail gap", "2026-01-01", "2026-12-31",
         V("2026-01-10", "2026-04-10", "2026-07-10", "2026-09-20"), 1, "2026-10-01", NULL, true},
        {"period until today, four visits", "2026-01-01", "2026-11-25",
         V("2026-02-01", "2026-05-01", "2026-07-30", "2026-10-20"), 0, NULL, NULL, true},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_date v[16];
        size_t n = 0;
        jf_stats_stay st = {0};
        for (; rows[i].visits[n] != NULL; n++)
            v[n] = D(rows[i].visits[n]);
        if (rows[i].nstays) {
            st.admitted = D(rows[i].adm);
            st.discharged = rows[i].dis ? D(rows[i].dis) : JF_DATE_NONE;
        }
        if (jf_stats_standard(D(rows[i].s), D(rows[i].e), v, n, &st, (size_t)rows[i].nstays) !=
            rows[i].standard)
            fail_msg("%s: expected %s", rows[i].what, rows[i].standard ? "standard" : "not");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(required_visits_prorated),
        cmocka_unit_test(gap_days_without_hospital),
        cmocka_unit_test(standard_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
