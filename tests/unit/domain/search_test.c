/* Unit: search tasks (查找) — who reads, notes and closes, and when a task
 * may be closed as found or by a decision, one row per case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/search.h"

static const struct {
    jf_role role;
    bool read, note, close;
} roles[] = {
    {JF_ROLE_ADMIN, true, false, false},
    {JF_ROLE_OFFICIAL, true, true, true}, /* 平安办, the township office, village cadres */
    {JF_ROLE_POLICE, true, true, true},
    {JF_ROLE_DOCTOR, true, true, false},
    {JF_ROLE_GRID_WORKER, true, true, false},
    {JF_ROLE_CIVIL_AFFAIRS, false, false, false},
    {JF_ROLE_SERVICE, false, false, false},
    {JF_ROLE_NONE, false, false, false},
};

/* [R-LOST-3] */
static void role_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (jf_search_may_read(roles[i].role) != roles[i].read ||
            jf_search_may_note(roles[i].role) != roles[i].note ||
            jf_search_may_close(roles[i].role) != roles[i].close)
            fail_msg("row %zu (%s)", i, jf_role_name(roles[i].role));
    }
}

static const struct {
    bool open;
    const char *outcome;
    bool seen, police;
    bool allowed;
} closes[] = {
    /* found needs evidence: in person or the police */
    {true, "found", false, false, false},
    {true, "found", true, false, true},
    {true, "found", false, true, true},
    {true, "found", true, true, true},
    /* a decision needs none (its reason is checked with the body) */
    {true, "deceased", false, false, true},
    {true, "moved_away", false, false, true},
    {true, "detained", false, false, true},
    {true, "deregistered", false, false, true},
    {true, "other", false, false, true},
    /* a closed task stays closed, whatever the evidence */
    {false, "found", true, true, false},
    {false, "deceased", false, false, false},
};

/* [R-LOST-4] */
static void close_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(closes) / sizeof(closes[0]); i++) {
        const char *why = jf_search_close_refusal(closes[i].open, closes[i].outcome, closes[i].seen,
                                                  closes[i].police);
        if ((why == NULL) != closes[i].allowed)
            fail_msg("row %zu: %s", i, why ? why : "allowed");
    }
}

static void decisions_exclude_found(void **state)
{
    size_t n = 0;

    (void)state;
    for (; jf_search_decisions[n] != NULL; n++)
        assert_string_not_equal(jf_search_decisions[n], "found");
    assert_int_equal(n, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(role_rules),
        cmocka_unit_test(close_rules),
        cmocka_unit_test(decisions_exclude_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
