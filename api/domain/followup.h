/* The follow-up rules of docs/domain.md ("Follow-up", "Classification", "When
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

/* The server's classification of a reached visit. [R-CLASS-1] */
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

/* When the next follow-up is due. [R-DUE-1, R-DUE-2, R-DUE-3, R-DUE-4, R-DUE-5] */
jf_due jf_followup_next_due(const jf_due_input *in);

/* Three consecutive unreached visits make a patient lost (失访). [R-LOST-1] */
#define JF_LOST_AFTER_MISSES 3
bool jf_followup_lost(int consecutive_unreached);

/* 面访: the patient seen in person, at the clinic or at home.
 * A phone call, or a visit where only the family or another informant was
 * seen, is not. informant may be NULL (not said: the patient). [R-VISIT-1] */
bool jf_followup_face_to_face(const char *mode, const char *informant);

/* One follow-up as the fold below reads it, in the order they happened. */
typedef struct jf_visit {
    jf_date date;
    bool reached;
    bool face_to_face;
    jf_visit_class class; /* of a reached visit */
    bool after_return;    /* made after the patient was last brought back into care */
} jf_visit;

/* What a patient's visits say, safety first. */
typedef struct jf_visit_state {
    jf_date last_reached;      /* the last visit that counts as reached for the schedule */
    jf_visit_class last_class; /* the patient's class now */
    jf_visit_class prev_class; /* the class before the last counted visit */
    jf_date last_face_to_face; /* the last 面访 that reached the patient */
    int misses;                /* distinct unreached cycles since the last counted visit */
} jf_visit_state;

/* Fold the visits [R-VISIT-2, R-LOST-1]:
 * - a 面访 that reached the patient sets the class and the schedule, and
 *   clears the misses;
 * - any other reached visit can raise the class, never lower it; it counts
 *   as reached for the schedule (and clears the misses) only while the
 *   patient is stable and not red for another reason (red_otherwise:
 *   risk, a recent incident, lost);
 * - an unreached attempt made after the last return to care counts toward
 *   失访 unless it came less than miss_gap_days after the one that counted. */
jf_visit_state jf_followup_fold(const jf_visit *v, int n, bool red_otherwise, int miss_gap_days);

#endif
