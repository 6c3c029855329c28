/* The follow-up rules of DOMAIN.md ("Follow-up", "Classification", "When
 * the next follow-up is due", "Lost to follow-up"): pure functions over
 * plain structs, every branch in the table tests. */
#ifndef JF_FOLLOWUP_H
#define JF_FOLLOWUP_H

#include <stdbool.h>

#include "date.h"

typedef enum jf_visit_class {
    JF_CLASS_NONE = 0,         /* not reached: no classification (未访到) */
    JF_CLASS_STABLE,           /* 稳定 */
    JF_CLASS_BASICALLY_STABLE, /* 基本稳定 */
    JF_CLASS_UNSTABLE,         /* 不稳定 */
} jf_visit_class;

typedef enum jf_level3 { JF_L3_NA = 0, JF_L3_GOOD, JF_L3_FAIR, JF_L3_POOR } jf_level3;
typedef enum jf_insight {
    JF_INSIGHT_COMPLETE = 1,
    JF_INSIGHT_PARTIAL,
    JF_INSIGHT_ABSENT
} jf_insight;

/* What classification needs from the national follow-up form. */
typedef struct jf_visit_form {
    int risk_level;         /* 0..5 */
    int symptom_count;      /* current symptoms ticked (其他 included) */
    bool obvious_psychotic; /* 明显精神病性症状, the clinician's judgement */
    jf_insight insight;     /* 自知力 */
    jf_level3 social[5];    /* personal care, housework, work, learning, social contact */
    bool serious_adverse_reaction;
    bool serious_physical_illness;
} jf_visit_form;

/* The server's classification of a reached visit. */
jf_visit_class jf_followup_classify(const jf_visit_form *f);
const char *jf_visit_class_name(jf_visit_class c);
jf_visit_class jf_visit_class_parse(const char *s);

/* What the due date depends on. */
typedef struct jf_due_input {
    jf_date last_reached;      /* date of the last visit that reached the patient, or NONE */
    jf_visit_class last_class; /* its classification */
    jf_visit_class prev_class; /* the reached visit before it (NONE if none) */
    jf_date registered_on;     /* registration */
    jf_date accepted_on;       /* the last acceptance by transfer, or NONE */
    bool in_hospital;          /* nothing is due while in hospital */
    jf_date discharged_on;     /* last discharge, or NONE */
    int tier_cap_months;       /* the colour tier's longest interval (1..3) */
    bool tier_joint;           /* the tier demands joint visits */
} jf_due_input;

typedef struct jf_due {
    jf_date date;     /* JF_DATE_NONE when nothing is due (in hospital) */
    bool joint;       /* the visit must be joint (police + village cadre) */
    const char *rule; /* which rule set it, for the worklist: "unstable_2w", … */
} jf_due;

/* When the next follow-up is due. */
jf_due jf_followup_next_due(const jf_due_input *in);

/* Three consecutive unreached visits make a patient lost (失访). */
#define JF_LOST_AFTER_MISSES 3
bool jf_followup_lost(int consecutive_unreached);

#endif
