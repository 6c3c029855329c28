/* Unit: the current risk level, safety first (R-RISK-1, R-RISK-2) — the four
 * test rows of docs/domain.md "Risk assessment" and one row per branch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../../api/domain/risk.h"

#define COMMUNITY(l) {l, JF_RTIER_COMMUNITY, true}
#define TOWNSHIP(l) {l, JF_RTIER_TOWNSHIP, true}
#define CITY(l) {l, JF_RTIER_CITY, true}
#define PHONE(l) {l, JF_RTIER_COMMUNITY, false}    /* a clinician, not face to face */
#define OBSERVER(l) {l, JF_RTIER_OBSERVER, true}   /* a grid worker's home check */

/* [R-RISK-1, R-RISK-2] */
static void current_risk_table(void **state)
{
    static const struct {
        const char *why;
        jf_risk_obs obs[4];
        int n, want;
    } rows[] = {
        /* docs/domain.md's test rows. */
        {"community 4 two days after township 1", {TOWNSHIP(1), COMMUNITY(4)}, 2, 4},
        {"township 1 after community 4", {COMMUNITY(4), TOWNSHIP(1)}, 2, 1},
        {"community 1 after township 3", {TOWNSHIP(3), COMMUNITY(1)}, 2, 3},
        {"phone visit 0 after 3", {COMMUNITY(3), PHONE(0)}, 2, 3},
        /* Each branch. */
        {"never assessed", {{0}}, 0, -1},
        {"the first observation, whoever made it", {OBSERVER(2)}, 1, 2},
        {"a grid worker raises at once", {CITY(1), OBSERVER(4)}, 2, 4},
        {"a grid worker never lowers", {COMMUNITY(3), OBSERVER(0)}, 2, 3},
        {"a phone call raises at once", {COMMUNITY(1), PHONE(3)}, 2, 3},
        {"community lowers what community set", {COMMUNITY(3), COMMUNITY(1)}, 2, 1},
        {"community lowers what a grid worker raised", {COMMUNITY(1), OBSERVER(4), COMMUNITY(1)},
         3, 1},
        {"city lowers what township set", {TOWNSHIP(4), CITY(2)}, 2, 2},
        {"township does not lower what city set", {CITY(4), TOWNSHIP(2)}, 2, 4},
        {"a raise by community is community's to lower", {CITY(2), COMMUNITY(4), COMMUNITY(2)}, 3,
         2},
        {"a township review confirming the level binds community", {COMMUNITY(3), TOWNSHIP(3),
         COMMUNITY(1)}, 3, 3},
        {"a community confirmation does not loosen a township's level",
         {TOWNSHIP(3), COMMUNITY(3), COMMUNITY(1)}, 3, 3},
        {"the same level from below keeps the tier", {CITY(3), OBSERVER(3), TOWNSHIP(1)}, 3, 3},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_risk_state s = jf_risk_current(rows[i].obs, rows[i].n);
        if (s.level != rows[i].want)
            fail_msg("%s: expected %d, got %d", rows[i].why, rows[i].want, s.level);
    }
}

static void tier_names(void **state)
{
    (void)state;
    assert_int_equal(jf_risk_tier_parse("community"), JF_RTIER_COMMUNITY);
    assert_int_equal(jf_risk_tier_parse("township"), JF_RTIER_TOWNSHIP);
    assert_int_equal(jf_risk_tier_parse("city"), JF_RTIER_CITY);
    assert_int_equal(jf_risk_tier_parse("grid"), JF_RTIER_OBSERVER);
    assert_int_equal(jf_risk_tier_parse(NULL), JF_RTIER_OBSERVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(current_risk_table),
        cmocka_unit_test(tier_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
