/* The current risk level, safety first (docs/domain.md "Risk assessment", rule
 * R-RISK-1, R-RISK-2): a higher level takes effect at once from anyone; a lower
 * one only from a clinician who saw the patient, and only from the same or
 * a higher tier (三级三评) than the one that set the level. Pure. */
#ifndef JF_RISK_H
#define JF_RISK_H

#include <stdbool.h>

#include "date.h"

/* Who stands behind an observation, lowest first. An observer who is not a
 * clinician (a grid worker's home check, a phone call) ranks below all. */
typedef enum jf_risk_tier {
    JF_RTIER_OBSERVER = 0,
    JF_RTIER_COMMUNITY, /* 社区初评, or a clinician's face-to-face follow-up */
    JF_RTIER_TOWNSHIP,  /* 乡镇复评 */
    JF_RTIER_CITY,      /* 市级综合评估 */
} jf_risk_tier;

/* One dated risk level: an assessment, a visit's level, a home check's. */
typedef struct jf_risk_obs {
    int level;         /* 0..5 */
    jf_risk_tier tier; /* community/township/city for a clinician, else OBSERVER */
    bool face_to_face; /* the patient was seen in person (面访) */
} jf_risk_obs;

typedef struct jf_risk_state {
    int level;         /* -1: never assessed */
    jf_risk_tier tier; /* the tier that set (or last confirmed) it */
} jf_risk_state;

#define JF_RISK_NONE ((jf_risk_state){-1, JF_RTIER_OBSERVER})

/* The state after one more observation, newer than all before it. [R-RISK-1, R-RISK-2] */
jf_risk_state jf_risk_apply(jf_risk_state cur, const jf_risk_obs *o);
/* The state after n observations in the order they happened. */
jf_risk_state jf_risk_current(const jf_risk_obs *obs, int n);
/* "community", "township", "city" → tier; anything else OBSERVER. */
jf_risk_tier jf_risk_tier_parse(const char *s);

#endif
