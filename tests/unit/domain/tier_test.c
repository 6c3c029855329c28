/* Unit: key-patient flags and the colour tier (分色管理), one row per rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../../api/domain/tier.h"

/* A stable patient with a capable guardian and nothing else: green. */
static jf_patient_facts calm(void)
{
    jf_patient_facts f = {.risk_level = 0,
                          .max_risk_ever = 0,
                          .last_class = JF_CLASS_STABLE,
                          .capable_guardian = true};
    return f;
}

/* [R-TIER-1] */
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

/* [R-TIER-2] */
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

/* [R-FLAG-1] */
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

/* A scheme of the kind seed 001 describes: risk level × 2, incident
 * history 3, weak guardian 2, poor compliance 2, ever lost 3, lives alone 1,
 * migrant 1; red from 8, orange from 5, yellow from 2. */
static jf_tier_config points_config(void)
{
    jf_tier_config cfg = jf_tier_config_default();

    cfg.scheme = JF_SCHEME_POINTS;
    cfg.points.per_risk_level = 2;
    cfg.points.per_flag[JF_FLAG_INCIDENT_HISTORY] = 3;
    cfg.points.per_flag[JF_FLAG_WEAK_GUARDIAN] = 2;
    cfg.points.per_flag[JF_FLAG_POOR_COMPLIANCE] = 2;
    cfg.points.per_flag[JF_FLAG_EVER_LOST] = 3;
    cfg.points.per_flag[JF_FLAG_LIVES_ALONE] = 1;
    cfg.points.per_flag[JF_FLAG_MIGRANT] = 1;
    cfg.points.threshold[JF_RED] = 8;
    cfg.points.threshold[JF_ORANGE] = 5;
    cfg.points.threshold[JF_YELLOW] = 2;
    return cfg;
}

/* [R-TIER-1] */
static void points_table(void **state)
{
    jf_tier_config cfg = points_config();
    struct {
        const char *why;
        jf_patient_facts f;
        jf_colour want;
        int points;
        const char *reasons; /* every colour reason, in order, comma-separated */
    } rows[] = {
        {"nothing: 0 points", calm(), JF_GREEN, 0, "points"},
        {"lives alone: 1, below yellow (the rules say yellow)", calm(), JF_GREEN, 1, "points"},
        {"risk 1, weak guardian: 4 (the rules say orange)", calm(), JF_YELLOW, 4, "points"},
        {"risk 2, weak guardian, poor compliance: 8", calm(), JF_RED, 8, "points"},
        {"old incident, weak guardian: 5 (the rules say yellow)", calm(), JF_ORANGE, 5, "points"},
        {"old incident, migrant, lives alone, risk 1: 7", calm(), JF_ORANGE, 7, "points"},
        {"risk 3 alone: 6 points, but risk 3 stays red", calm(), JF_RED, 6, "risk_level"},
        {"lost: red whatever the points", calm(), JF_RED, 3, "lost"},
        {"unstable: red whatever the points", calm(), JF_RED, 0, "unstable"},
        {"recent incident: red whatever the points", calm(), JF_RED, 3, "recent_incident"},
        {"risk 3, weak guardian, poor compliance: red by both", calm(), JF_RED, 10,
         "risk_level,points"},
        {"never classified, no points: green", calm(), JF_GREEN, 0, "points"},
    };
    rows[1].f.lives_alone = true;
    rows[2].f.risk_level = 1, rows[2].f.capable_guardian = false;
    rows[3].f.risk_level = 2, rows[3].f.capable_guardian = false, rows[3].f.poor_compliance = true;
    rows[4].f.incidents_total = 1, rows[4].f.capable_guardian = false;
    rows[5].f.incidents_total = 1, rows[5].f.migrant = rows[5].f.lives_alone = true;
    rows[5].f.risk_level = 1;
    rows[6].f.risk_level = 3;
    rows[7].f.lost = true;
    rows[8].f.last_class = JF_CLASS_UNSTABLE;
    rows[9].f.incidents_total = rows[9].f.incidents_recent = 1;
    rows[10].f.risk_level = 3, rows[10].f.capable_guardian = false;
    rows[10].f.poor_compliance = true;
    rows[11].f.last_class = JF_CLASS_NONE;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_tier_result r;
        char got[128] = "";
        size_t len = 0;
        int sum = 0;

        jf_tier_compute(&rows[i].f, &cfg, &r);
        for (int k = 0; k < r.ncolour_reasons && len < sizeof(got); k++)
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", k ? "," : "",
                                    r.colour_reasons[k]);
        for (int k = 0; k < r.nbreakdown; k++) {
            assert_true(r.breakdown[k].points != 0);
            sum += r.breakdown[k].points;
        }
        if (r.colour != rows[i].want || r.points != rows[i].points ||
            strcmp(got, rows[i].reasons) != 0 || sum != r.points)
            fail_msg("%s: expected %s %d [%s], got %s %d [%s] (breakdown sums to %d)", rows[i].why,
                     jf_colour_name(rows[i].want), rows[i].points, rows[i].reasons,
                     jf_colour_name(r.colour), r.points, got, sum);
    }
}

/* The breakdown names each term: risk level × points per level, then flags. */
static void points_breakdown(void **state)
{
    jf_tier_config cfg = points_config();
    jf_patient_facts f = calm();
    jf_tier_result r;

    f.risk_level = 2, f.capable_guardian = false, f.poor_compliance = true;
    jf_tier_compute(&f, &cfg, &r);
    assert_int_equal(r.nbreakdown, 3);
    assert_string_equal(r.breakdown[0].item, "risk_level");
    assert_int_equal(r.breakdown[0].points, 4);
    assert_string_equal(r.breakdown[1].item, "weak_guardian");
    assert_int_equal(r.breakdown[1].points, 2);
    assert_string_equal(r.breakdown[2].item, "poor_compliance");
    assert_int_equal(r.breakdown[2].points, 2);
    /* The rules scheme gives no points, and flags are the same either way. */
    cfg.scheme = JF_SCHEME_RULES;
    {
        jf_tier_result rr;
        jf_tier_compute(&f, &cfg, &rr);
        assert_int_equal(rr.colour, JF_ORANGE);
        assert_int_equal(rr.points, 0);
        assert_int_equal(rr.nbreakdown, 0);
        assert_int_equal(rr.flags, r.flags);
    }
    assert_string_equal(jf_scheme_name(JF_SCHEME_POINTS), "points");
    assert_string_equal(jf_scheme_name(JF_SCHEME_RULES), "rules");
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
        cmocka_unit_test(colour_table),     cmocka_unit_test(thresholds_are_configuration),
        cmocka_unit_test(flags_table),      cmocka_unit_test(points_table),
        cmocka_unit_test(points_breakdown), cmocka_unit_test(colour_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
