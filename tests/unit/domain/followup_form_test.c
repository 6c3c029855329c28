/* Unit: the national form's consistency rules, one row per rule (and the
 * forms that break none). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/followup_form.h"

/* A reached home visit that holds everything a reached visit must. */
static jf_form_facts complete(void)
{
    jf_form_facts f = {.reached = true,
                       .face_to_face = true,
                       .has_risk_level = true,
                       .has_insight = true,
                       .has_compliance = true};

    for (int i = 0; i < JF_FORM_SOCIAL_ITEMS; i++)
        f.has_social[i] = true;
    return f;
}

/* The first problem's field, or "" when the form is consistent. */
static const char *first(const jf_form_facts *f, size_t *n)
{
    static jf_form_problem p[32];

    *n = jf_followup_form_check(f, p, 32);
    return *n ? p[0].field : "";
}

/* [R-VISIT-3, R-VISIT-2] */
static void rules_table(void **state)
{
    struct row {
        const char *what, *field;
        size_t n;
        jf_form_facts f;
    } rows[16];
    size_t k = 0;

    rows[k] = (struct row){"complete reached visit", "", 0, complete()};
    k++;
    rows[k] = (struct row){"joint visit by phone", "joint_visit", 1, complete()};
    rows[k].f.face_to_face = false, rows[k].f.joint = true, k++;
    rows[k] = (struct row){"joint visit seen in person", "", 0, complete()};
    rows[k].f.joint = true, k++;
    rows[k] = (struct row){"away yet seen in person", "absence", 1, complete()};
    rows[k].f.away = true, k++;
    rows[k] = (struct row){"away, family by phone", "", 0, complete()};
    rows[k].f.face_to_face = false, rows[k].f.away = true, k++;
    rows[k] = (struct row){"not reached, no reason", "unreached_reason", 1, {0}};
    k++;
    rows[k] = (struct row){"not reached, with reason", "", 0, {.has_unreached_reason = true}};
    k++;
    rows[k] = (struct row){"reached with an unreached reason", "unreached_reason", 1, complete()};
    rows[k].f.has_unreached_reason = true, k++;
    rows[k] = (struct row){"not reached, with a risk level", "risk_level", 1,
                                {.has_unreached_reason = true, .has_reached_only = {true}}};
    k++;
    rows[k] = (struct row){"died without a cause", "death_cause", 1,
                                {.died = true, .has_death_date = true}};
    k++;
    rows[k] = (struct row){"died with date and cause", "", 0,
                                {.died = true, .has_death_date = true, .has_death_cause = true}};
    k++;
    rows[k] = (struct row){"a death date without a death", "death_date", 1, complete()};
    rows[k].f.has_death_date = true, k++;
    rows[k] = (struct row){"reached without insight", "insight", 1, complete()};
    rows[k].f.has_insight = false, k++;
    rows[k] = (struct row){"reached without two social items", "social_function", 2,
                                complete()};
    rows[k].f.has_social[0] = rows[k].f.has_social[4] = false, k++;
    rows[k] = (struct row){"discharge date while not discharged", "discharged_on", 1,
                                complete()};
    rows[k].f.has_discharged_on = true, k++;
    rows[k] = (struct row){"discharge date when discharged", "", 0, complete()};
    rows[k].f.has_discharged_on = rows[k].f.discharged = true, k++;

    for (size_t i = 0; i < k; i++) {
        size_t n;
        const char *field = first(&rows[i].f, &n);
        if (strcmp(field, rows[i].field) != 0 || n != rows[i].n)
            fail_msg("%s: expected %zu problem(s) starting at '%s', got %zu at '%s'", rows[i].what,
                     rows[i].n, rows[i].field, n, field);
    }
}

/* Every reached-only field is refused on an unreached visit, each named. */
static void reached_only_fields_each_named(void **state)
{
    jf_form_facts f = {.has_unreached_reason = true};
    jf_form_problem p[32];
    size_t n, want = 0;

    for (; jf_form_reached_only[want]; want++)
        f.has_reached_only[want] = true;
    n = jf_followup_form_check(&f, p, 32);
    assert_int_equal(n, want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(p[i].field, jf_form_reached_only[i]);
    /* A short output array still counts them all. */
    assert_int_equal(jf_followup_form_check(&f, p, 2), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_table),
        cmocka_unit_test(reached_only_fields_each_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
