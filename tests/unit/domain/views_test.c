/* Unit: what each role sees of a patient (docs/domain.md "Roles"), row by row. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../../api/domain/views.h"

/* [R-VIEW-2] */
static void view_table(void **state)
{
    static const struct {
        const char *role;
        jf_patient_view v;
    } rows[] = {
        /* role            clinical economic risk  id_full phone_full guardian_detail */
        {"doctor", {true, true, true, true, true, true}},
        {"official", {true, true, true, false, false, true}},
        {"admin", {false, false, true, false, false, true}},
        /* Police: risk and whereabouts, never clinical notes; guardian contact only. */
        {"police", {false, false, true, true, true, false}},
        /* Civil affairs: subsidies and economic status, not diagnoses. */
        {"civil_affairs", {false, true, false, true, true, true}},
        {"grid_worker", {false, false, true, false, true, true}},
        {"service", {false, false, true, true, true, false}},
        {"nobody", {false, false, false, false, false, false}},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_patient_view v = jf_view_for_role(jf_role_parse(rows[i].role));
        if (v.clinical != rows[i].v.clinical || v.economic != rows[i].v.economic ||
            v.risk != rows[i].v.risk || v.id_full != rows[i].v.id_full ||
            v.phone_full != rows[i].v.phone_full ||
            v.guardian_detail != rows[i].v.guardian_detail)
            fail_msg("view of role %s differs from the table", rows[i].role);
    }
}

static void no_role_outside_doctors_and_officials_sees_diagnoses(void **state)
{
    for (int r = JF_ROLE_NONE; r <= JF_ROLE_SERVICE; r++) {
        jf_patient_view v = jf_view_for_role((jf_role)r);
        if (v.clinical)
            assert_true(r == JF_ROLE_DOCTOR || r == JF_ROLE_OFFICIAL);
    }
    assert_false(jf_view_for_role((jf_role)1000).clinical);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(view_table),
        cmocka_unit_test(no_role_outside_doctors_and_officials_sees_diagnoses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
