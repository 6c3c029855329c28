/* The patient's life cycle (docs/domain.md "Status"): suspected → registered →
 * in care / hospitalised / lost / moved out / deceased / deregistered, as a
 * table of allowed transitions. Deceased and deregistered are final. */
#ifndef JF_PATIENT_STATUS_H
#define JF_PATIENT_STATUS_H

#include <stdbool.h>

typedef enum jf_pstatus {
    JF_PS_NONE = 0,
    JF_PS_SUSPECTED,
    JF_PS_RULED_OUT,
    JF_PS_REGISTERED,
    JF_PS_IN_CARE,
    JF_PS_HOSPITALISED,
    JF_PS_LOST,
    JF_PS_MOVED_OUT,
    JF_PS_DECEASED,
    JF_PS_DEREGISTERED,
    JF_PS_COUNT
} jf_pstatus;

/* "in_care" → JF_PS_IN_CARE; JF_PS_NONE for anything else. */
jf_pstatus jf_pstatus_parse(const char *s);
const char *jf_pstatus_name(jf_pstatus s);
/* May a patient go from one status to the other by a status change? [R-PAT-2] */
bool jf_pstatus_allowed(jf_pstatus from, jf_pstatus to);
/* Why not, in English, for the 409 answer (NULL when allowed). */
const char *jf_pstatus_refusal(jf_pstatus from, jf_pstatus to);
/* Is the patient on the register (在册: diagnosed, not deceased or
 * deregistered, not ruled out, not merely suspected)? [R-STAT-1] */
bool jf_pstatus_registered(jf_pstatus s);

#endif
