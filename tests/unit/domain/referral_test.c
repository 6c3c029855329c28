/* Unit: referrals (转诊) — the last day by urgency, with and without a
 * unit's setting, overdue, and every transition, one row per case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/referral.h"

static jf_date d(const char *s)
{
    jf_date t = 0;
    assert_int_equal(jf_date_parse(s, &t), 0);
    return t;
}

static const struct {
    const char *urgency, *on;
    int days; /* the unit's setting; -1: none */
    const char *due;
} dues[] = {
    {"routine", "2026-04-01", -1, "2026-04-08"},   /* a week */
    {"urgent", "2026-04-01", -1, "2026-04-02"},    /* the next day */
    {"emergency", "2026-04-01", -1, "2026-04-01"}, /* the same day */
    {"routine", "2026-12-28", -1, "2027-01-04"},   /* across the year */
    {"urgent", "2028-02-28", -1, "2028-02-29"},    /* a leap day */
    {"routine", "2026-04-01", 14, "2026-04-15"},   /* the unit allows two weeks */
    {"urgent", "2026-04-01", 0, "2026-04-01"},     /* or wants it the same day */
    {"emergency", "2026-04-01", 1, "2026-04-02"},
};

/* [R-REF-1] */
static void due_dates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dues) / sizeof(dues[0]); i++) {
        int u = jf_referral_urgency_parse(dues[i].urgency);
        char got[11];
        assert_true(u >= 0);
        jf_date_format(jf_referral_due(d(dues[i].on), (jf_ref_urgency)u, dues[i].days), got);
        if (strcmp(got, dues[i].due) != 0)
            fail_msg("row %zu: %s, expected %s", i, got, dues[i].due);
    }
    assert_int_equal(jf_referral_urgency_parse("soon"), -1);
    assert_int_equal(jf_referral_urgency_parse(NULL), -1);
}

static const struct {
    const char *state, *due, *today;
    bool overdue;
} overdues[] = {
    {"open", "2026-04-08", "2026-04-08", false}, /* the last day itself */
    {"open", "2026-04-08", "2026-04-09", true},
    {"accepted", "2026-04-08", "2026-04-09", true}, /* accepted, not yet admitted */
    {"admitted", "2026-04-08", "2026-05-01", false},
    {"returned", "2026-04-08", "2026-05-01", false},
};

/* [R-REF-1] */
static void overdue_rule(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(overdues) / sizeof(overdues[0]); i++)
        if (jf_referral_overdue(jf_referral_state_parse(overdues[i].state), d(overdues[i].due),
                                d(overdues[i].today)) != overdues[i].overdue)
            fail_msg("row %zu", i);
}

static const struct {
    const char *from;
    jf_ref_action action;
    const char *to; /* "none": refused */
} moves[] = {
    {"open", JF_REF_ACCEPT, "accepted"},    {"open", JF_REF_ADMIT, "admitted"},
    {"open", JF_REF_RETURN, "returned"},    {"accepted", JF_REF_ACCEPT, "none"},
    {"accepted", JF_REF_ADMIT, "admitted"}, {"accepted", JF_REF_RETURN, "returned"},
    {"admitted", JF_REF_ACCEPT, "none"},    {"admitted", JF_REF_ADMIT, "none"},
    {"admitted", JF_REF_RETURN, "none"},    {"returned", JF_REF_ACCEPT, "none"},
    {"returned", JF_REF_ADMIT, "none"},     {"returned", JF_REF_RETURN, "none"},
};

static void transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        const char *got = jf_referral_state_name(
            jf_referral_next(jf_referral_state_parse(moves[i].from), moves[i].action));
        if (strcmp(got, moves[i].to) != 0)
            fail_msg("row %zu: %s, expected %s", i, got, moves[i].to);
    }
    assert_int_equal(jf_referral_state_parse("closed"), JF_REF_NONE);
    assert_true(jf_referral_is_open(JF_REF_OPEN));
    assert_false(jf_referral_is_open(JF_REF_RETURNED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(due_dates),
        cmocka_unit_test(overdue_rule),
        cmocka_unit_test(transitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
