/* The current risk level, safety first. */
#include "risk.h"

#include <string.h>

/* May this observation lower a level set at tier `set_by`? Only a clinician
 * who saw the patient, of the same or a higher tier. */
static bool may_lower(const jf_risk_obs *o, jf_risk_tier set_by)
{
    return o->face_to_face && o->tier >= JF_RTIER_COMMUNITY && o->tier >= set_by;
}

jf_risk_state jf_risk_apply(jf_risk_state cur, const jf_risk_obs *o)
{
    jf_risk_state next = {o->level, o->tier};

    if (cur.level < 0 || o->level > cur.level)
        return next; /* danger takes effect at once, whoever saw it */
    if (o->level < cur.level)
        return may_lower(o, cur.tier) ? next : cur;
    /* The same level confirmed by a higher tier: only that tier (or one
     * above it) may lower it from now on. */
    if (may_lower(o, cur.tier))
        cur.tier = o->tier;
    return cur;
}

jf_risk_state jf_risk_current(const jf_risk_obs *obs, int n)
{
    jf_risk_state s = JF_RISK_NONE;

    for (int i = 0; i < n; i++)
        s = jf_risk_apply(s, &obs[i]);
    return s;
}

jf_risk_tier jf_risk_tier_parse(const char *s)
{
    static const char *const names[] = {"community", "township", "city"};

    for (int i = 0; s != NULL && i < 3; i++)
        if (strcmp(s, names[i]) == 0)
            return (jf_risk_tier)(JF_RTIER_COMMUNITY + i);
    return JF_RTIER_OBSERVER;
}
