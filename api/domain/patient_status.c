/* Patient status transitions as one table. */
#include "patient_status.h"

#include <string.h>

static const char *const names[JF_PS_COUNT] = {
    [JF_PS_NONE] = "",
    [JF_PS_SUSPECTED] = "suspected",
    [JF_PS_RULED_OUT] = "ruled_out",
    [JF_PS_REGISTERED] = "registered",
    [JF_PS_IN_CARE] = "in_care",
    [JF_PS_HOSPITALISED] = "hospitalised",
    [JF_PS_LOST] = "lost",
    [JF_PS_MOVED_OUT] = "moved_out",
    [JF_PS_DECEASED] = "deceased",
    [JF_PS_DEREGISTERED] = "deregistered",
};

#define B(s) (1u << (s))

/* allowed[from] is the set of statuses a status change may lead to.
 * Suspected persons leave that state only by diagnosis or ruling out
 * (their own endpoints), so no plain status change applies to them. */
static const unsigned allowed[JF_PS_COUNT] = {
    [JF_PS_REGISTERED] = B(JF_PS_IN_CARE) | B(JF_PS_HOSPITALISED) | B(JF_PS_LOST) |
                         B(JF_PS_MOVED_OUT) | B(JF_PS_DECEASED) | B(JF_PS_DEREGISTERED),
    [JF_PS_IN_CARE] = B(JF_PS_HOSPITALISED) | B(JF_PS_LOST) | B(JF_PS_MOVED_OUT) |
                      B(JF_PS_DECEASED) | B(JF_PS_DEREGISTERED),
    [JF_PS_HOSPITALISED] = B(JF_PS_IN_CARE) | B(JF_PS_DECEASED) | B(JF_PS_DEREGISTERED),
    [JF_PS_LOST] =
        B(JF_PS_IN_CARE) | B(JF_PS_MOVED_OUT) | B(JF_PS_DECEASED) | B(JF_PS_DEREGISTERED),
    [JF_PS_MOVED_OUT] = B(JF_PS_IN_CARE) | B(JF_PS_DEREGISTERED) | B(JF_PS_DECEASED),
};

jf_pstatus jf_pstatus_parse(const char *s)
{
    if (s == NULL)
        return JF_PS_NONE;
    for (int i = 1; i < JF_PS_COUNT; i++)
        if (strcmp(s, names[i]) == 0)
            return (jf_pstatus)i;
    return JF_PS_NONE;
}

const char *jf_pstatus_name(jf_pstatus s)
{
    return (unsigned)s < JF_PS_COUNT ? names[s] : "";
}

bool jf_pstatus_allowed(jf_pstatus from, jf_pstatus to)
{
    return (unsigned)from < JF_PS_COUNT && (unsigned)to < JF_PS_COUNT && to != JF_PS_NONE &&
           (allowed[from] & B(to)) != 0;
}

const char *jf_pstatus_refusal(jf_pstatus from, jf_pstatus to)
{
    if (jf_pstatus_allowed(from, to))
        return NULL;
    if (from == to)
        return "the patient already has this status";
    switch (from) {
    case JF_PS_DECEASED:
        return "the patient is deceased: the record is closed";
    case JF_PS_DEREGISTERED:
        return "the record is deregistered (销案) and closed";
    case JF_PS_RULED_OUT:
        return "the person was ruled out: report them again if needed";
    case JF_PS_SUSPECTED:
        return "a suspected person is first diagnosed or ruled out";
    default:
        break;
    }
    if (to == JF_PS_SUSPECTED || to == JF_PS_RULED_OUT || to == JF_PS_REGISTERED)
        return "that status is reached through reporting or diagnosis, not a status change";
    return "that status cannot follow the current one";
}

bool jf_pstatus_registered(jf_pstatus s)
{
    return s == JF_PS_REGISTERED || s == JF_PS_IN_CARE || s == JF_PS_HOSPITALISED ||
           s == JF_PS_LOST || s == JF_PS_MOVED_OUT;
}
