/* Unit: assistance (救治救助) — the application workflow, months, monthly
 * amounts of a standard, and 以奖代补 eligibility: one row per condition
 * and per combination, with the reasons each gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../../api/domain/assistance.h"

#define BIT(f) (1u << (f))

/* A patient in the national target group by nothing yet, on the register,
 * guardian signed, no incident: the rows switch single facts. */
static jf_reward_facts base(void)
{
    jf_reward_facts f = {.on_register = true, .max_risk = 0, .agreement_signed = true};
    return f;
}

/* [R-AID-2] */
static void eligibility_table(void **state)
{
    const jf_reward_rule national = {.min_risk = 3};
    const jf_reward_rule widened = {.min_risk = 3,
                                    .extra_flags = BIT(JF_FLAG_WEAK_GUARDIAN) |
                                                   BIT(JF_FLAG_EVER_LOST) |
                                                   BIT(JF_FLAG_INCIDENT_HISTORY),
                                    .police_key_person = true};
    const jf_reward_rule strict = {.min_risk = 4};
    struct {
        const char *why;
        jf_reward_facts f;
        const jf_reward_rule *rule;
        bool eligible;
        /* expected met per condition: on_register, target_group, agreement, no_incident */
        bool met[JF_RC_COUNT];
        const char *basis; /* the basis codes joined by ',' */
    } rows[] = {
        /* The target group, each way in. */
        {"nothing qualifies", base(), &national, false, {1, 0, 1, 1}, ""},
        {"incident history", base(), &national, true, {1, 1, 1, 1}, "incident_history"},
        {"risk 3", base(), &national, true, {1, 1, 1, 1}, "risk_level"},
        {"risk 5", base(), &national, true, {1, 1, 1, 1}, "risk_level"},
        {"risk 2 only", base(), &national, false, {1, 0, 1, 1}, ""},
        {"risk unknown", base(), &national, false, {1, 0, 1, 1}, ""},
        {"risk 3 under a min_risk 4 rule", base(), &strict, false, {1, 0, 1, 1}, ""},
        {"risk 4 under a min_risk 4 rule", base(), &strict, true, {1, 1, 1, 1}, "risk_level"},
        {"incident history and risk 3", base(), &national, true, {1, 1, 1, 1},
         "incident_history,risk_level"},
        /* The local widening (扩大奖补对象范围). */
        {"weak guardian, national rule", base(), &national, false, {1, 0, 1, 1}, ""},
        {"weak guardian, widened rule", base(), &widened, true, {1, 1, 1, 1}, "weak_guardian"},
        {"ever lost and weak guardian, widened", base(), &widened, true, {1, 1, 1, 1},
         "weak_guardian,ever_lost"},
        {"a flag the rule does not list", base(), &widened, false, {1, 0, 1, 1}, ""},
        {"police key person, national rule", base(), &national, false, {1, 0, 1, 1}, ""},
        {"police key person, widened rule", base(), &widened, true, {1, 1, 1, 1},
         "police_key_person"},
        {"incident history also listed as a local flag: once", base(), &widened, true,
         {1, 1, 1, 1}, "incident_history"},
        /* The other conditions, one at a time and together. */
        {"agreement not signed", base(), &national, false, {1, 1, 0, 1}, "risk_level"},
        {"incident in the month", base(), &national, false, {1, 1, 1, 0},
         "incident_history"},
        {"off the register", base(), &national, false, {0, 1, 1, 1}, "risk_level"},
        {"no agreement and an incident in the month", base(), &national, false, {1, 1, 0, 0},
         "incident_history"},
        {"nothing met at all", base(), &national, false, {0, 0, 0, 1}, ""},
    };
    const size_t n = sizeof(rows) / sizeof(rows[0]);

    /* The single facts each row switches. */
    rows[1].f.incidents_to_date = 1;
    rows[2].f.max_risk = 3;
    rows[3].f.max_risk = 5;
    rows[4].f.max_risk = 2;
    rows[5].f.max_risk = -1;
    rows[6].f.max_risk = 3;
    rows[7].f.max_risk = 4;
    rows[8].f.incidents_to_date = 2;
    rows[8].f.max_risk = 3;
    rows[9].f.flags = BIT(JF_FLAG_WEAK_GUARDIAN);
    rows[10].f.flags = BIT(JF_FLAG_WEAK_GUARDIAN);
    rows[11].f.flags = BIT(JF_FLAG_WEAK_GUARDIAN) | BIT(JF_FLAG_EVER_LOST);
    rows[12].f.flags = BIT(JF_FLAG_LIVES_ALONE) | BIT(JF_FLAG_CAN_DRIVE);
    rows[13].f.police_key_person = true;
    rows[14].f.police_key_person = true;
    rows[15].f.incidents_to_date = 1;
    rows[15].f.flags = BIT(JF_FLAG_INCIDENT_HISTORY);
    rows[16].f.max_risk = 3;
    rows[16].f.agreement_signed = false;
    rows[17].f.incidents_to_date = 1;
    rows[17].f.incidents_in_month = 1;
    rows[18].f.max_risk = 4;
    rows[18].f.on_register = false;
    rows[19].f.incidents_to_date = 3;
    rows[19].f.incidents_in_month = 1;
    rows[19].f.agreement_signed = false;
    rows[20].f.on_register = false;
    rows[20].f.agreement_signed = false;

    for (size_t i = 0; i < n; i++) {
        jf_reward_result r;
        char basis[256] = "";

        jf_reward_eligibility(&rows[i].f, rows[i].rule, &r);
        if (r.eligible != rows[i].eligible)
            fail_msg("%s: eligible %d, want %d", rows[i].why, r.eligible, rows[i].eligible);
        for (int c = 0; c < JF_RC_COUNT; c++)
            if (r.met[c] != rows[i].met[c])
                fail_msg("%s: %s met %d, want %d", rows[i].why,
                         jf_reward_cond_name((jf_reward_cond)c), r.met[c], rows[i].met[c]);
        for (int b = 0; b < r.nbasis; b++) {
            size_t len = strlen(basis);
            snprintf(basis + len, sizeof(basis) - len, "%s%s", b ? "," : "", r.basis[b]);
        }
        if (strcmp(basis, rows[i].basis) != 0)
            fail_msg("%s: basis \"%s\", want \"%s\"", rows[i].why, basis, rows[i].basis);
    }
}

static void condition_names(void **state)
{
    assert_string_equal(jf_reward_cond_name(JF_RC_ON_REGISTER), "on_register");
    assert_string_equal(jf_reward_cond_name(JF_RC_TARGET_GROUP), "target_group");
    assert_string_equal(jf_reward_cond_name(JF_RC_AGREEMENT), "agreement_signed");
    assert_string_equal(jf_reward_cond_name(JF_RC_NO_INCIDENT), "no_incident_in_month");
    assert_string_equal(jf_reward_cond_name(JF_RC_COUNT), "");
    assert_int_equal(jf_reward_flag_bit("weak_guardian"), BIT(JF_FLAG_WEAK_GUARDIAN));
    assert_int_equal(jf_reward_flag_bit("vagrant"), BIT(JF_FLAG_VAGRANT));
    assert_int_equal(jf_reward_flag_bit("violence"), 0);
    assert_int_equal(jf_reward_flag_bit(""), 0);
    assert_int_equal(jf_reward_flag_bit(NULL), 0);
}

/* [R-AID-1] */
static void workflow_table(void **state)
{
    static const struct {
        const char *state, *action, *want; /* want NULL: refused (409) */
    } rows[] = {
        {"pending", "approve", "approved"}, {"pending", "reject", "rejected"},
        {"pending", "end", NULL},           {"approved", "approve", NULL},
        {"approved", "reject", NULL},       {"approved", "end", "ended"},
        {"rejected", "approve", NULL},      {"rejected", "reject", NULL},
        {"rejected", "end", NULL},          {"ended", "approve", NULL},
        {"ended", "end", NULL},             {"pending", "pay", NULL},
        {"", "approve", NULL},              {NULL, "approve", NULL},
        {"pending", NULL, NULL},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = jf_assist_next_state(rows[i].state, rows[i].action);
        if ((got == NULL) != (rows[i].want == NULL) ||
            (got != NULL && strcmp(got, rows[i].want) != 0))
            fail_msg("%s + %s: got %s, want %s", rows[i].state ? rows[i].state : "NULL",
                     rows[i].action ? rows[i].action : "NULL", got ? got : "refused",
                     rows[i].want ? rows[i].want : "refused");
    }
}

static void months_and_amounts(void **state)
{
    static const struct {
        const char *s;
        int ok;
        const char *first, *last;
    } months[] = {
        {"2026-02", 1, "2026-02-01", "2026-02-28"}, {"2024-02", 1, "2024-02-01", "2024-02-29"},
        {"2025-12", 1, "2025-12-01", "2025-12-31"}, {"2026-13", 0, NULL, NULL},
        {"2026-00", 0, NULL, NULL},                 {"2026-1", 0, NULL, NULL},
        {"2026-01-01", 0, NULL, NULL},              {"202601", 0, NULL, NULL},
        {"abcd-01", 0, NULL, NULL},                 {"1899-12", 0, NULL, NULL},
        {"", 0, NULL, NULL},                        {NULL, 0, NULL, NULL},
    };
    static const struct {
        long long amount;
        const char *period;
        long long want;
    } amounts[] = {
        {20000, "month", 20000}, /* 200 元/月 (seed 000) */
        {360000, "year", 30000}, /* 3600 元/年 (seed 004) = 300 元/月 */
        {100, "year", 8},        /* rounded down to the fen */
        {0, "month", 0},          {5000, "case", -1}, {5000, "week", -1},
        {5000, NULL, -1},         {-1, "month", -1},
    };

    for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++) {
        jf_date d = 0;
        char a[11], b[11];
        int rc = jf_assist_month_parse(months[i].s, &d);
        if ((rc == 0) != months[i].ok)
            fail_msg("%s: parse %d", months[i].s ? months[i].s : "NULL", rc);
        if (rc != 0)
            continue;
        jf_date_format(d, a);
        jf_date_format(jf_assist_month_end(d), b);
        assert_string_equal(a, months[i].first);
        assert_string_equal(b, months[i].last);
        assert_int_equal(jf_assist_month_of(jf_assist_month_end(d)), d);
    }
    for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++)
        if (jf_assist_monthly_fen(amounts[i].amount, amounts[i].period) != amounts[i].want)
            fail_msg("%lld per %s: want %lld", amounts[i].amount,
                     amounts[i].period ? amounts[i].period : "NULL", amounts[i].want);
    /* Every kind of docs/domain.md, and only those. */
    size_t n = 0;
    while (jf_assist_kinds[n] != NULL)
        n++;
    assert_int_equal(n, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eligibility_table),
        cmocka_unit_test(condition_names),
        cmocka_unit_test(workflow_table),
        cmocka_unit_test(months_and_amounts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
