/* The national follow-up form's consistency rules, as a pure function. */
#include "followup_form.h"

const char *const jf_form_social_items[JF_FORM_SOCIAL_ITEMS + 1] = {
    "personal_care", "housework", "work", "learning", "social_contact", NULL};

const char *const jf_form_reached_only[] = {"risk_level",
                                            "symptoms",
                                            "obvious_psychotic",
                                            "insight",
                                            "sleep",
                                            "diet",
                                            "social_function",
                                            "compliance",
                                            "adverse_reaction",
                                            "adverse_serious",
                                            "physical_illness_serious",
                                            "treatment_effect",
                                            "medications",
                                            "class_override",
                                            NULL};

static const char *const social_required[JF_FORM_SOCIAL_ITEMS] = {
    "personal_care is required", "housework is required", "work is required",
    "learning is required", "social_contact is required"};

static void add(jf_form_problem *out, size_t max, size_t *n, const char *field, const char *message)
{
    if (*n < max)
        out[*n] = (jf_form_problem){field, message};
    (*n)++;
}

size_t jf_followup_form_check(const jf_form_facts *f, jf_form_problem *out, size_t max)
{
    size_t n = 0;

    /* A joint visit (联合随访) goes to see the patient: it is a 面访. */
    if (f->joint && !f->face_to_face)
        add(out, max, &n, "joint_visit",
            "a joint visit must see the patient in person (面访: clinic or home, the patient "
            "seen)");
    if (f->away && f->face_to_face)
        add(out, max, &n, "absence", "a patient seen in person is not away");
    if (!f->reached && !f->died && !f->has_unreached_reason)
        add(out, max, &n, "unreached_reason",
            "is required when the visit did not reach the patient");
    if (f->reached && f->has_unreached_reason)
        add(out, max, &n, "unreached_reason", "only applies when the patient was not reached");
    if (!f->reached)
        for (int i = 0; jf_form_reached_only[i]; i++)
            if (f->has_reached_only[i])
                add(out, max, &n, jf_form_reached_only[i],
                    "only a visit that reached the patient records it");
    if (f->died && (!f->has_death_date || !f->has_death_cause))
        add(out, max, &n, !f->has_death_date ? "death_date" : "death_cause",
            "is required when the patient died");
    if (!f->died && (f->has_death_date || f->has_death_cause))
        add(out, max, &n, f->has_death_date ? "death_date" : "death_cause",
            "only applies when the patient died");
    if (f->reached && !f->died) {
        if (!f->has_risk_level)
            add(out, max, &n, "risk_level", "is required for a visit that reached the patient");
        if (!f->has_insight)
            add(out, max, &n, "insight", "is required for a visit that reached the patient");
        if (!f->has_compliance)
            add(out, max, &n, "compliance", "is required for a visit that reached the patient");
        for (int i = 0; i < JF_FORM_SOCIAL_ITEMS; i++)
            if (!f->has_social[i])
                add(out, max, &n, "social_function", social_required[i]);
    }
    if (!f->discharged && f->has_discharged_on)
        add(out, max, &n, "discharged_on", "only applies when hospitalisation is discharged");
    return n;
}
