/* The national follow-up form's own consistency rules (随访表), apart from
 * the request that carries the form: what a visit that did not reach the
 * patient may not record, what a death needs, what a reached visit must
 * hold, and that a joint visit is a 面访 [R-VISIT-3]. Pure: the handler
 * says which fields the form holds, this says which are wrong. */
#ifndef JF_FOLLOWUP_FORM_H
#define JF_FOLLOWUP_FORM_H

#include <stdbool.h>
#include <stddef.h>

/* The social-function items of the form, in its order. */
#define JF_FORM_SOCIAL_ITEMS 5
extern const char *const jf_form_social_items[JF_FORM_SOCIAL_ITEMS + 1];

/* The fields only a visit that reached the patient can fill, NULL-ended. */
extern const char *const jf_form_reached_only[];

/* What the form holds (has_*: the field is given and not null). */
typedef struct jf_form_facts {
    bool reached, died;
    bool face_to_face; /* reached, at the clinic or at home, the patient seen */
    bool joint;        /* joint_visit: true */
    bool away;         /* a temporary absence is reported with the visit */
    bool has_unreached_reason, has_death_date, has_death_cause;
    bool has_risk_level, has_insight, has_compliance;
    bool has_social[JF_FORM_SOCIAL_ITEMS];
    bool discharged; /* hospitalisation: discharged */
    bool has_discharged_on;
    /* Which of jf_form_reached_only the form holds, by index. */
    bool has_reached_only[16];
} jf_form_facts;

/* One wrong field: its name and why (static text). */
typedef struct jf_form_problem {
    const char *field, *message;
} jf_form_problem;

/* The form's problems, in the order the form reads, into out (at most
 * max); returns how many there are (more than max: the rest not stored). */
size_t jf_followup_form_check(const jf_form_facts *f, jf_form_problem *out, size_t max);

#endif
