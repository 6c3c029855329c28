/* Key flags and colour tiers. */
#include "tier.h"

#include <string.h>

static const char *const flag_names[JF_FLAG_COUNT] = {
    "incident_history", "risk_3_plus",      "weak_guardian", "poor_compliance", "refuses_follow_up",
    "ever_lost",        "unstable",         "lives_alone",   "family_history",  "extreme_poverty",
    "can_drive",        "forced_admission", "migrant",       "vagrant",
};
static const char *const colour_names[] = {"green", "yellow", "orange", "red"};

const char *jf_flag_name(jf_flag f)
{
    return (unsigned)f < JF_FLAG_COUNT ? flag_names[f] : "";
}

const char *jf_scheme_name(jf_scheme s)
{
    return s == JF_SCHEME_POINTS ? "points" : "rules";
}

const char *jf_colour_name(jf_colour c)
{
    return (unsigned)c < 4 ? colour_names[c] : "";
}

jf_colour jf_colour_parse(const char *s)
{
    for (int i = 0; s != NULL && i < 4; i++)
        if (strcmp(s, colour_names[i]) == 0)
            return (jf_colour)i;
    return (jf_colour)-1;
}

jf_tier_config jf_tier_config_default(void)
{
    jf_tier_config c = {
        .red_min_risk = 3,
        .incident_months = 12,
        .relapse_count = 2,
        .miss_gap_days = 7,
        .interval_months = {[JF_GREEN] = 3, [JF_YELLOW] = 3, [JF_ORANGE] = 1, [JF_RED] = 1},
        .joint = {[JF_RED] = true},
    };

    return c;
}

static void reason(jf_tier_result *r, const char *code)
{
    if (r->ncolour_reasons < (int)(sizeof(r->colour_reasons) / sizeof(r->colour_reasons[0])))
        r->colour_reasons[r->ncolour_reasons++] = code;
}

#define SET(r, flag, cond)                                                                         \
    do {                                                                                           \
        if (cond)                                                                                  \
            (r)->flags |= 1u << (flag);                                                            \
    } while (0)

static void rules(const jf_patient_facts *f, const jf_tier_config *cfg, jf_tier_result *out)
{
    bool weak_guardian = !f->capable_guardian;
    bool poor = f->poor_compliance || f->relapses_recent >= cfg->relapse_count;

    memset(out, 0, sizeof(*out));
    SET(out, JF_FLAG_INCIDENT_HISTORY, f->incidents_total > 0);
    SET(out, JF_FLAG_RISK_3_PLUS, f->risk_level >= 3 || f->max_risk_ever >= 3);
    SET(out, JF_FLAG_WEAK_GUARDIAN, weak_guardian);
    SET(out, JF_FLAG_POOR_COMPLIANCE, poor);
    SET(out, JF_FLAG_REFUSES_FOLLOW_UP, f->refuses_follow_up);
    SET(out, JF_FLAG_EVER_LOST, f->ever_lost || f->lost);
    SET(out, JF_FLAG_UNSTABLE, f->last_class == JF_CLASS_UNSTABLE);
    SET(out, JF_FLAG_LIVES_ALONE, f->lives_alone);
    SET(out, JF_FLAG_FAMILY_HISTORY, f->family_history);
    SET(out, JF_FLAG_EXTREME_POVERTY, f->extreme_poverty);
    SET(out, JF_FLAG_CAN_DRIVE, f->can_drive);
    SET(out, JF_FLAG_FORCED_ADMISSION, f->forced_admission);
    SET(out, JF_FLAG_MIGRANT, f->migrant);
    SET(out, JF_FLAG_VAGRANT, f->vagrant);

    /* red: risk ≥ 3, or unstable, or an incident in the last 12 months, or lost. */
    if (f->risk_level >= cfg->red_min_risk)
        reason(out, "risk_level");
    if (f->last_class == JF_CLASS_UNSTABLE)
        reason(out, "unstable");
    if (f->incidents_recent > 0)
        reason(out, "recent_incident");
    if (f->lost)
        reason(out, "lost");
    if (out->ncolour_reasons > 0) {
        out->colour = JF_RED;
        return;
    }
    /* orange: risk 1-2 with a weak or no guardian, or poor compliance. */
    if (f->risk_level >= 1 && (weak_guardian || poor)) {
        reason(out, "risk_level");
        reason(out, weak_guardian ? "weak_guardian" : "poor_compliance");
        out->colour = JF_ORANGE;
        return;
    }
    /* yellow: basically stable, or any key-patient flag. Green is only for
     * a patient last seen stable: one never classified is not green yet. */
    if (f->last_class == JF_CLASS_BASICALLY_STABLE)
        reason(out, "basically_stable");
    if (f->last_class == JF_CLASS_NONE)
        reason(out, "not_yet_classified");
    if (f->risk_level >= 1) /* green means risk 0 */
        reason(out, "risk_level");
    if (out->flags != 0)
        reason(out, "key_flags");
    out->colour = out->ncolour_reasons > 0 ? JF_YELLOW : JF_GREEN;
}

static void term(jf_tier_result *r, const char *item, int points)
{
    if (points == 0)
        return;
    r->breakdown[r->nbreakdown].item = item;
    r->breakdown[r->nbreakdown++].points = points;
    r->points += points;
}

/* The colour by points, over the colour the rules gave (out). */
static void points(const jf_patient_facts *f, const jf_points_config *pc, jf_tier_result *out)
{
    jf_colour by_points = JF_GREEN;
    bool floor = out->colour == JF_RED;

    term(out, "risk_level", f->risk_level > 0 ? f->risk_level * pc->per_risk_level : 0);
    for (int i = 0; i < JF_FLAG_COUNT; i++)
        if (out->flags & (1u << i))
            term(out, flag_names[i], pc->per_flag[i]);
    for (int c = JF_RED; c > JF_GREEN && by_points == JF_GREEN; c--)
        if (out->points >= pc->threshold[c])
            by_points = (jf_colour)c;
    if (floor) {
        /* The rules' red stands, with its reasons; the points say so too when they agree. */
        if (by_points == JF_RED)
            reason(out, "points");
        return;
    }
    out->colour = by_points;
    out->ncolour_reasons = 0;
    reason(out, "points");
}

void jf_tier_compute(const jf_patient_facts *f, const jf_tier_config *cfg, jf_tier_result *out)
{
    rules(f, cfg, out);
    if (cfg->scheme == JF_SCHEME_POINTS)
        points(f, &cfg->points, out);
}
