/* Follow-up classification and scheduling. */
#include "followup.h"

#include <string.h>

static const char *const class_names[] = {"", "stable", "basically_stable", "unstable"};

const char *jf_visit_class_name(jf_visit_class c)
{
    return (unsigned)c < 4 ? class_names[c] : "";
}

jf_visit_class jf_visit_class_parse(const char *s)
{
    for (int i = 1; s != NULL && i < 4; i++)
        if (strcmp(s, class_names[i]) == 0)
            return (jf_visit_class)i;
    return JF_CLASS_NONE;
}

jf_visit_class jf_followup_classify(const jf_visit_form *f)
{
    bool social_poor = false;

    /* Unstable: risk 3-5, no insight, a serious adverse reaction, a serious
     * physical illness, or obvious psychotic symptoms. */
    if (f->risk_level >= 3 || f->insight == JF_INSIGHT_ABSENT || f->serious_adverse_reaction ||
        f->serious_physical_illness || f->obvious_psychotic)
        return JF_CLASS_UNSTABLE;
    for (int i = 0; i < 5; i++)
        social_poor = social_poor || f->social[i] == JF_L3_POOR;
    /* Basically stable: risk 1-2, or symptoms left, partial insight, or a
     * poor social function. Stable only when all of those are clear. */
    if (f->risk_level >= 1 || f->symptom_count > 0 || f->insight == JF_INSIGHT_PARTIAL ||
        social_poor)
        return JF_CLASS_BASICALLY_STABLE;
    return JF_CLASS_STABLE;
}

static jf_due due(jf_date d, bool joint, const char *rule)
{
    jf_due r = {d, joint, rule};

    return r;
}

jf_due jf_followup_next_due(const jf_due_input *in)
{
    jf_date by_class, cap;
    const char *rule;
    bool joint = in->tier_joint;

    if (in->in_hospital)
        return due(JF_DATE_NONE, false, "in_hospital");
    /* Discharged after the last reached visit: within 7 days (出院即失管). */
    if (in->discharged_on != JF_DATE_NONE &&
        (in->last_reached == JF_DATE_NONE || in->discharged_on >= in->last_reached))
        return due(in->discharged_on + 7, joint, "discharge_7d");
    /* Accepted by transfer and not reached since: the receiving side must
     * visit within two weeks of accepting. */
    if (in->accepted_on != JF_DATE_NONE &&
        (in->last_reached == JF_DATE_NONE || in->last_reached < in->accepted_on))
        return due(in->accepted_on + 14, joint, "transfer_14d");
    /* Newly registered and never reached: within 14 days. */
    if (in->last_reached == JF_DATE_NONE)
        return due(in->registered_on + 14, joint, "new_14d");

    switch (in->last_class) {
    case JF_CLASS_UNSTABLE:
        /* Every two weeks, jointly, while unstable at home (seed 003). */
        by_class = in->last_reached + 14;
        joint = true;
        rule = "unstable_2w";
        break;
    case JF_CLASS_BASICALLY_STABLE:
        if (in->prev_class == JF_CLASS_BASICALLY_STABLE) {
            by_class = jf_date_add_months(in->last_reached, 1);
            rule = "basically_stable_again_1m";
        } else {
            by_class = in->last_reached + 14; /* the check after adjusting treatment */
            rule = "basically_stable_2w";
        }
        break;
    default:
        by_class = jf_date_add_months(in->last_reached, 3);
        rule = "stable_3m";
        break;
    }
    /* The colour tier caps the interval, and nothing waits past 3 months. */
    cap = jf_date_add_months(in->last_reached, in->tier_cap_months >= 1 && in->tier_cap_months <= 3
                                                   ? in->tier_cap_months
                                                   : 3);
    if (cap < by_class)
        return due(cap, joint, "tier_cap");
    return due(by_class, joint, rule);
}

bool jf_followup_lost(int consecutive_unreached)
{
    return consecutive_unreached >= JF_LOST_AFTER_MISSES;
}

bool jf_followup_face_to_face(const char *mode, const char *informant)
{
    return mode != NULL && (strcmp(mode, "clinic") == 0 || strcmp(mode, "home") == 0) &&
           (informant == NULL || strcmp(informant, "patient") == 0);
}

/* The more severe of two classes (NONE is the least). */
static jf_visit_class worse(jf_visit_class a, jf_visit_class b)
{
    return a > b ? a : b;
}

jf_visit_state jf_followup_fold(const jf_visit *v, int n, bool red_otherwise, int miss_gap_days)
{
    jf_visit_state s = {JF_DATE_NONE, JF_CLASS_NONE, JF_CLASS_NONE, JF_DATE_NONE, 0};
    jf_date last_miss = JF_DATE_NONE;

    for (int i = 0; i < n; i++) {
        const jf_visit *x = &v[i];
        bool counts;

        if (!x->reached) {
            if (x->after_return &&
                (last_miss == JF_DATE_NONE || x->date - last_miss >= miss_gap_days)) {
                s.misses++;
                last_miss = x->date;
            }
            continue;
        }
        /* Only a 面访 may clear a danger; anything else learnt is kept when
         * it is worse, and moves the schedule only for a stable patient. */
        counts = x->face_to_face ||
                 (s.last_class == JF_CLASS_STABLE && x->class == JF_CLASS_STABLE && !red_otherwise);
        if (!counts) {
            s.last_class = worse(s.last_class, x->class);
            continue;
        }
        s.prev_class = s.last_class;
        s.last_class = x->face_to_face ? x->class : worse(s.last_class, x->class);
        s.last_reached = x->date;
        if (x->face_to_face)
            s.last_face_to_face = x->date;
        s.misses = 0;
        last_miss = JF_DATE_NONE;
    }
    return s;
}
