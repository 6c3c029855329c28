/* Referral deadlines and states. */
#include "referral.h"

#include <string.h>

const char *const jf_referral_urgencies[] = {"routine", "urgent", "emergency", NULL};
/* Routine within a week, urgent by the next day, an emergency the same day. */
const int jf_referral_default_days[JF_REF_NURGENCIES] = {7, 1, 0};
static const char *const states[] = {"open", "accepted", "admitted", "returned", NULL};

int jf_referral_urgency_parse(const char *s)
{
    for (int i = 0; s != NULL && jf_referral_urgencies[i] != NULL; i++)
        if (strcmp(s, jf_referral_urgencies[i]) == 0)
            return i;
    return -1;
}

jf_ref_state jf_referral_state_parse(const char *s)
{
    for (int i = 0; s != NULL && states[i] != NULL; i++)
        if (strcmp(s, states[i]) == 0)
            return (jf_ref_state)i;
    return JF_REF_NONE;
}

const char *jf_referral_state_name(jf_ref_state s)
{
    return s >= JF_REF_OPEN && s <= JF_REF_RETURNED ? states[s] : "none";
}

jf_date jf_referral_due(jf_date on, jf_ref_urgency u, int days)
{
    if (days < 0)
        days = u >= 0 && u < JF_REF_NURGENCIES ? jf_referral_default_days[u] : 0;
    return on + days;
}

bool jf_referral_is_open(jf_ref_state s)
{
    return s == JF_REF_OPEN || s == JF_REF_ACCEPTED;
}

bool jf_referral_overdue(jf_ref_state s, jf_date due, jf_date today)
{
    return jf_referral_is_open(s) && today > due;
}

jf_ref_state jf_referral_next(jf_ref_state s, jf_ref_action a)
{
    switch (a) {
    case JF_REF_ACCEPT:
        return s == JF_REF_OPEN ? JF_REF_ACCEPTED : JF_REF_NONE;
    case JF_REF_ADMIT:
        return jf_referral_is_open(s) ? JF_REF_ADMITTED : JF_REF_NONE;
    case JF_REF_RETURN:
        return jf_referral_is_open(s) ? JF_REF_RETURNED : JF_REF_NONE;
    }
    return JF_REF_NONE;
}
