/* Unit tests for the FHIR view's rules (domain/fhir.c): which resource types
 * each view and each system gets, and the identifier and _lastUpdated
 * search values, one row per branch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/domain/fhir.h"

/* The view → types table: a row per system (and an unknown one), a column
 * per type in jf_fhir_type order. */
static void test_types_per_system(void **state)
{
    static const struct {
        const char *system;
        bool visible[JF_FHIR_NTYPES];
    } rows[] = {
        /*               Patient RelPers Encnt  Condtn RiskAs Flag   MedStm */
        {"hospital", {true, true, true, true, true, true, true}},
        {"police", {true, true, true, false, true, true, false}},
        {"civil", {true, true, true, false, false, false, false}},
        {NULL, {true, true, true, false, false, false, false}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_patient_view v = jf_fhir_view_for_system(rows[i].system);
        for (int t = 0; t < JF_FHIR_NTYPES; t++)
            if (jf_fhir_type_visible((jf_fhir_type)t, v) != rows[i].visible[t])
                fail_msg("%s: %s", rows[i].system ? rows[i].system : "(none)",
                         jf_fhir_type_name((jf_fhir_type)t));
    }
    assert_false(jf_fhir_type_visible(JF_FHIR_NTYPES, jf_fhir_view_for_system("hospital")));
}

/* What each system sees of identity: both the whole ID number and phone,
 * guardians' addresses for the hospital only, nothing for others. */
static void test_view_per_system(void **state)
{
    jf_patient_view h = jf_fhir_view_for_system("hospital"), p = jf_fhir_view_for_system("police"),
                    n = jf_fhir_view_for_system("other");

    (void)state;
    assert_true(h.clinical && h.risk && h.id_full && h.phone_full && h.guardian_detail);
    assert_true(!p.clinical && p.risk && p.id_full && p.phone_full && !p.guardian_detail);
    assert_true(!n.clinical && !n.risk && !n.id_full && !n.phone_full);
}

static void test_type_names(void **state)
{
    static const char *const want[] = {
        "Patient",        "RelatedPerson", "Encounter",          "Condition",
        "RiskAssessment", "Flag",          "MedicationStatement"};

    (void)state;
    for (int t = 0; t < JF_FHIR_NTYPES; t++)
        assert_string_equal(jf_fhir_type_name((jf_fhir_type)t), want[t]);
    assert_string_equal(jf_fhir_type_name(JF_FHIR_NTYPES), "");
    assert_string_equal(jf_fhir_type_name((jf_fhir_type)-1), "");
}

static void test_last_updated(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *lo, *lo_step, *hi, *hi_step;
    } rows[] = {
        {"ge2026-01-01", 0, "2026-01-01", "0", NULL, NULL},
        {"gt2026-01-01", 0, "2026-01-01", "1 day", NULL, NULL},
        {"lt2026-01-01", 0, NULL, NULL, "2026-01-01", "0"},
        {"le2026-01-01", 0, NULL, NULL, "2026-01-01", "1 day"},
        {"eq2026-01-01", 0, "2026-01-01", "0", "2026-01-01", "1 day"},
        {"2026-01-01", 0, "2026-01-01", "0", "2026-01-01", "1 day"},
        {"gt2026-01-01T08:00:00Z", 0, "2026-01-01T08:00:00Z", "1 microsecond", NULL, NULL},
        {"le2026-01-01T08:00:00+08:00", 0, NULL, NULL, "2026-01-01T08:00:00+08:00",
         "1 microsecond"},
        {"ge2026-01-01T08:00:00.123456-05:30", 0, "2026-01-01T08:00:00.123456-05:30", "0", NULL,
         NULL},
        {"2026-01-01T08:00:00Z", 0, "2026-01-01T08:00:00Z", "0", "2026-01-01T08:00:00Z",
         "1 microsecond"},
        {"ne2026-01-01", -1, NULL, NULL, NULL, NULL}, /* prefix FHIR has, this server not */
        {"ge2026-02-30", -1, NULL, NULL, NULL, NULL}, /* no such day */
        {"ge2026-1-01", -1, NULL, NULL, NULL, NULL},  /* not zero-padded */
        {"ge2026-01", -1, NULL, NULL, NULL, NULL},    /* a month: not taken */
        {"ge2026-01-01T08:00:00", -1, NULL, NULL, NULL, NULL},   /* a time needs its zone */
        {"ge2026-01-01T24:00:00Z", -1, NULL, NULL, NULL, NULL},  /* no hour 24 */
        {"ge2026-01-01T08:60:00Z", -1, NULL, NULL, NULL, NULL},  /* no minute 60 */
        {"ge2026-01-01T08:00:00.Z", -1, NULL, NULL, NULL, NULL}, /* empty fraction */
        {"ge2026-01-01T08:00:00.1234567Z", -1, NULL, NULL, NULL,
         NULL}, /* finer than PostgreSQL keeps */
        {"ge2026-01-01T08:00:00+8:00", -1, NULL, NULL, NULL, NULL},  /* zone not hh:mm */
        {"ge2026-01-01T08:00:00+15:00", -1, NULL, NULL, NULL, NULL}, /* no such zone */
        {"ge2026-01-01 08:00:00Z", -1, NULL, NULL, NULL, NULL},      /* a space for the T */
        {"ge2026-01-01x", -1, NULL, NULL, NULL, NULL},
        {"ge", -1, NULL, NULL, NULL, NULL},
        {"", -1, NULL, NULL, NULL, NULL},
        {NULL, -1, NULL, NULL, NULL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_fhir_range r;
        int rc = jf_fhir_last_updated(rows[i].in, &r);

        if (rc != rows[i].rc)
            fail_msg("%s: rc %d", rows[i].in ? rows[i].in : "(null)", rc);
        if (rc != 0)
            continue;
        const char *got[] = {r.lo, r.lo_step, r.hi, r.hi_step};
        const char *want[] = {rows[i].lo, rows[i].lo_step, rows[i].hi, rows[i].hi_step};
        for (int k = 0; k < 4; k++)
            if (want[k] == NULL ? got[k] != NULL : got[k] == NULL || strcmp(got[k], want[k]) != 0)
                fail_msg("%s: part %d is %s, expected %s", rows[i].in, k, got[k] ? got[k] : "NULL",
                         want[k] ? want[k] : "NULL");
    }
}

static void test_identifier(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *value;
    } rows[] = {
        {"420102199001011234", 0, "420102199001011234"},
        {"|420102199001011234", 0, "420102199001011234"},
        {"urn:oid:2.16.156.10011.1.3|420102199001011234", 0, "420102199001011234"},
        {"urn:oid:2.16.156.10011.1.3|", 0, ""},
        {"urn:oid:2.16.156.10011.1.30|420102199001011234", -1, NULL},
        {"urn:oid:2.16.156.10011.1|420102199001011234", -1, NULL},
        {"http://example.org/mrn|42", -1, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *v = NULL;
        int rc = jf_fhir_identifier(rows[i].in, &v);
        if (rc != rows[i].rc)
            fail_msg("%s: rc %d", rows[i].in, rc);
        if (rc == 0)
            assert_string_equal(v, rows[i].value);
    }
}

static void test_identifier_json(void **state)
{
    char out[JF_FHIR_IDENTIFIER_MAX], small[40];

    (void)state;
    assert_int_equal(jf_fhir_identifier_json("420102199001011234", out, sizeof(out)), 0);
    assert_string_equal(out, "[{\"use\":\"official\",\"system\":\"urn:oid:2.16.156.10011.1.3\","
                             "\"value\":\"420102199001011234\"}]");
    /* Masked: no value at all, only why it is absent. */
    assert_int_equal(jf_fhir_identifier_json(NULL, out, sizeof(out)), 0);
    assert_string_equal(out,
                        "[{\"use\":\"official\",\"system\":\"urn:oid:2.16.156.10011.1.3\","
                        "\"_value\":{\"extension\":[{\"url\":\"http://hl7.org/fhir/"
                        "StructureDefinition/data-absent-reason\",\"valueCode\":\"masked\"}]}}]");
    assert_null(strstr(out, "\"value\""));
    assert_int_equal(jf_fhir_identifier_json("420102199001011234", small, sizeof(small)), -1);
    assert_int_equal(jf_fhir_identifier_json(NULL, small, sizeof(small)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_per_system), cmocka_unit_test(test_view_per_system),
        cmocka_unit_test(test_type_names),       cmocka_unit_test(test_last_updated),
        cmocka_unit_test(test_identifier),       cmocka_unit_test(test_identifier_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
