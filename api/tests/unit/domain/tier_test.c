/* Unit: key-patient flags and the colour tier (分色管理), one row per rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../domain/tier.h"

/* A stable patient with a capable guardian and nothing else: green. */
static jf_patient_facts calm(void)
{
    jf_patient_facts f = {.risk_level = 0, .max_risk_ever = 0, .last_class = JF_CLASS_STABLE,
                          .capable_guardian = true};
    return f;
}

static void colour_table(void **state)
{
    jf_tier_config cfg = jf_tier_config_default();
    struct {
        const char *why;
        jf_patient_facts f;
        jf_colour want;
        const char *reason;
    } rows[] = {
        {"stable, nothing else", calm(), JF_GREEN, NULL},
        {"risk 3", calm(), JF_RED, "risk_level"},
        {"unstable", calm(), JF_RED, "unstable"},
        {"incident in the last 12 months", calm(), JF_RED, "recent_incident"},
        {"lost", calm(), JF_RED, "lost"},
        {"risk 1 with weak guardian", calm(), JF_ORANGE, "weak_guardian"},
        {"risk 2 with poor compliance", calm(), JF_ORANGE, "poor_compliance"},
        {"risk 2 with repeated relapse", calm(), JF_ORANGE, "poor_compliance"},
        {"risk 2 with a good guardian and compliance", calm(), JF_YELLOW, NULL},
        {"basically stable", calm(), JF_YELLOW, "basically_stable"},
        {"stable but lives alone (a key flag)", calm(), JF_YELLOW, "key_flags"},
        {"stable, old incident only (key flag)", calm(), JF_YELLOW, "key_flags"},
        {"never classified", calm(), JF_YELLOW, "not_yet_classified"},
    };
    rows[1].f.risk_level = 3;
    rows[2].f.last_class = JF_CLASS_UNSTABLE;
    rows[3].f.incidents_total = rows[3].f.incidents_recent = 1;
    rows[4].f.lost = true;
    rows[5].f.risk_level = 1, rows[5].f.capable_guardian = false;
    rows[6].f.risk_level = 2, rows[6].f.poor_compliance = true;
    rows[7].f.risk_level = 2, rows[7].f.relapses_recent = 2;
    rows[8].f.risk_level = 2;
    rows[9].f.last_class = JF_CLASS_BASICALLY_STABLE;
    rows[10].f.lives_alone = true;
    rows[11].f.incidents_total = 1;
    rows[12].f.last_class = JF_CLASS_NONE;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_tier_result r;
        bool found = rows[i].reason == NULL;

        jf_tier_compute(&rows[i].f, &cfg, &r);
        if (r.colour != rows[i].want)
            fail_msg("%s: expected %s, got %s", rows[i].why, jf_colour_name(rows[i].want),
                     jf_colour_name(r.colour));
        for (int k = 0; k < r.ncolour_reasons; k++)
            found = found || strcmp(r.colour_reasons[k], rows[i].reason) == 0;
        if (!found)
            fail_msg("%s: reason %s missing", rows[i].why, rows[i].reason);
    }
}

static void thresholds_are_configuration(void **state)
{
    jf_tier_config cfg = jf_tier_config_default();
    jf_patient_facts f = calm();
    jf_tier_result r;

    f.risk_level = 3;
    cfg.red_min_risk = 4; /* a county that reds only from level 4 */
    f.capable_guardian = false;
    jf_tier_compute(&f, &cfg, &r);
    assert_int_equal(r.colour, JF_ORANGE);
    f = calm();
    f.incidents_total = 1;
    f.incidents_recent = 0; /* counted against cfg.incident_months by the caller */
    jf_tier_compute(&f, &cfg, &r);
    assert_int_equal(r.colour, JF_YELLOW);
    f = calm();
    f.risk_level = 1;
    f.relapses_recent = 2;
    cfg.relapse_count = 3;
    jf_tier_compute(&f, &cfg, &r);
    assert_int_equal(r.colour, JF_YELLOW);
    cfg = jf_tier_config_default();
    assert_int_equal(cfg.interval_months[JF_RED], 1);
    assert_int_equal(cfg.interval_months[JF_ORANGE], 1);
    assert_int_equal(cfg.interval_months[JF_YELLOW], 3);
    assert_int_equal(cfg.interval_months[JF_GREEN], 3);
    assert_true(cfg.joint[JF_RED]);
    assert_false(cfg.joint[JF_ORANGE]);
}

static void flags_table(void **state)
{
    jf_tier_config cfg = jf_tier_config_default();
    struct {
        jf_flag flag;
        jf_patient_facts f;
    } rows[JF_FLAG_COUNT];

    for (int i = 0; i < JF_FLAG_COUNT; i++) {
        rows[i].flag = (jf_flag)i;
        rows[i].f = calm();
    }
    rows[JF_FLAG_INCIDENT_HISTORY].f.incidents_total = 1;
    rows[JF_FLAG_RISK_3_PLUS].f.max_risk_ever = 4; /* "now or ever" */
    rows[JF_FLAG_WEAK_GUARDIAN].f.capable_guardian = false;
    rows[JF_FLAG_POOR_COMPLIANCE].f.poor_compliance = true;
    rows[JF_FLAG_REFUSES_FOLLOW_UP].f.refuses_follow_up = true;
    rows[JF_FLAG_EVER_LOST].f.ever_lost = true;
    rows[JF_FLAG_UNSTABLE].f.last_class = JF_CLASS_UNSTABLE;
    rows[JF_FLAG_LIVES_ALONE].f.lives_alone = true;
    rows[JF_FLAG_FAMILY_HISTORY].f.family_history = true;
    rows[JF_FLAG_EXTREME_POVERTY].f.extreme_poverty = true;
    rows[JF_FLAG_CAN_DRIVE].f.can_drive = true;
    rows[JF_FLAG_FORCED_ADMISSION].f.forced_admission = true;
    rows[JF_FLAG_MIGRANT].f.migrant = true;
    rows[JF_FLAG_VAGRANT].f.vagrant = true;

    for (int i = 0; i < JF_FLAG_COUNT; i++) {
        jf_tier_result r;
        jf_tier_compute(&rows[i].f, &cfg, &r);
        /* Exactly its own flag is set (an unstable visit flags only itself). */
        if (r.flags != 1u << rows[i].flag)
            fail_msg("flag %s: got mask %#x", jf_flag_name(rows[i].flag), r.flags);
        assert_true(strlen(jf_flag_name(rows[i].flag)) > 0);
    }
    {
        jf_tier_result r;
        jf_patient_facts f = calm();
        jf_tier_compute(&f, &cfg, &r);
        assert_int_equal(r.flags, 0);
    }
}

static void colour_names(void **state)
{
    for (int c = JF_GREEN; c <= JF_RED; c++)
        assert_int_equal(jf_colour_parse(jf_colour_name((jf_colour)c)), c);
    assert_int_equal((int)jf_colour_parse("purple"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(colour_table),
        cmocka_unit_test(thresholds_are_configuration),
        cmocka_unit_test(flags_table),
        cmocka_unit_test(colour_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
