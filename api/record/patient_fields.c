/* The patient field table and its reader. */
#include "patient_fields.h"

#include <string.h>

static const char *const genders[] = {"male", "female", NULL};
static const char *const household[] = {"urban", "rural", NULL};
static const char *const employment[] = {"worker",  "manager", "farmer",       "unemployed",
                                         "student", "retired", "professional", "other",
                                         "unknown", NULL};
static const char *const economic[] = {"poor", "not_poor", "unknown", NULL};
static const char *const consent[] = {"agreed", "refused", NULL};
static const char *const diagnoses[] = {"schizophrenia",      "schizoaffective",
                                        "paranoid_psychosis", "bipolar",
                                        "epilepsy_psychosis", "intellectual_disability_psychosis",
                                        "other_harm",         NULL};

const jf_pfield jf_pfields[] = {
    {"name", JF_PF_TEXT, 32, NULL, NULL},
    {"gender", JF_PF_ENUM, 0, genders, NULL},
    {"birth_date", JF_PF_DATE, 0, NULL, NULL},
    {"phone", JF_PF_PHONE, 0, NULL, NULL},
    {"ethnicity", JF_PF_TEXT, 16, NULL, NULL},
    {"address", JF_PF_TEXT, 128, NULL, NULL},
    {"hukou_area_code", JF_PF_AREA9, 0, NULL, NULL},
    {"hukou_address", JF_PF_TEXT, 128, NULL, NULL},
    {"household_type", JF_PF_ENUM, 0, household, NULL},
    {"employment", JF_PF_ENUM, 0, employment, NULL},
    {"economic_status", JF_PF_ENUM, 0, economic, "unknown"},
    {"dibao", JF_PF_BOOL, 0, NULL, "false"},
    {"tekun", JF_PF_BOOL, 0, NULL, "false"},
    {"lives_alone", JF_PF_BOOL, 0, NULL, "false"},
    {"can_drive", JF_PF_BOOL, 0, NULL, "false"},
    {"family_history", JF_PF_BOOL, 0, NULL, "false"},
    {"migrant", JF_PF_BOOL, 0, NULL, "false"},
    {"vagrant", JF_PF_BOOL, 0, NULL, "false"},
    {"consent", JF_PF_ENUM, 0, consent, NULL},
    {"consent_date", JF_PF_DATE, 0, NULL, NULL},
    {"onset_date", JF_PF_DATE, 0, NULL, NULL},
    {"diagnosis", JF_PF_ENUM, 0, diagnoses, NULL},
    {"diagnosing_hospital", JF_PF_TEXT, 64, NULL, NULL},
    {"diagnosis_date", JF_PF_DATE, 0, NULL, NULL},
    {"report_note", JF_PF_TEXT, 500, NULL, NULL},
};
const size_t jf_npfields = sizeof(jf_pfields) / sizeof(jf_pfields[0]);

void jf_pf_defaults(jf_pvalues *v)
{
    for (size_t i = 0; i < jf_npfields; i++)
        if (v->val[i] == NULL && jf_pfields[i].def != NULL)
            v->val[i] = jf_pfields[i].def;
}

int jf_pf_index(const char *name)
{
    for (size_t i = 0; i < jf_npfields; i++)
        if (strcmp(jf_pfields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool phone_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 5 || n > 20)
        return false;
    return strspn(s, "0123456789+-") == n;
}

int jf_pf_read(jf_req *req, jf_errors *e, jf_pvalues *v)
{
    jf_date today = jf_date_today();

    v->val = jf_arena_alloc(&req->arena, jf_npfields * sizeof(*v->val));
    v->present = jf_arena_alloc(&req->arena, jf_npfields * sizeof(*v->present));
    v->date = jf_arena_alloc(&req->arena, jf_npfields * sizeof(*v->date));
    if (v->val == NULL || v->present == NULL || v->date == NULL)
        return -1;
    for (size_t i = 0; i < jf_npfields; i++) {
        const jf_pfield *f = &jf_pfields[i];
        json_t *j = json_object_get(req->body, f->name);
        bool b;

        v->val[i] = NULL;
        v->date[i] = JF_DATE_NONE;
        v->present[i] = j != NULL;
        if (j == NULL || json_is_null(j))
            continue;
        switch (f->type) {
        case JF_PF_BOOL:
            if (jf_body_bool(req, e, f->name, false, &b) == 1)
                v->val[i] = b ? "true" : "false";
            break;
        case JF_PF_TEXT:
            v->val[i] = jf_body_str(req, e, f->name, false, 1, f->maxc);
            break;
        case JF_PF_ENUM:
            v->val[i] = jf_body_str(req, e, f->name, false, 1, 64);
            if (v->val[i] && !jf_in_set(v->val[i], f->codes)) {
                jf_errors_add(e, f->name, "is not one of the allowed codes");
                v->val[i] = NULL;
            }
            break;
        case JF_PF_PHONE:
            v->val[i] = jf_body_str(req, e, f->name, false, 1, 20);
            if (v->val[i] && !phone_ok(v->val[i])) {
                jf_errors_add(e, f->name, "must be 5-20 digits, '+' or '-'");
                v->val[i] = NULL;
            }
            break;
        case JF_PF_AREA9:
            v->val[i] = jf_body_str(req, e, f->name, false, 1, 9);
            if (v->val[i] && !all_digits(v->val[i], 9)) {
                jf_errors_add(e, f->name, "must be a 9-digit area code");
                v->val[i] = NULL;
            }
            break;
        case JF_PF_DATE:
            v->val[i] = jf_body_str(req, e, f->name, false, 10, 10);
            if (v->val[i] == NULL)
                break; /* jf_body_str said why */
            if (jf_date_parse(v->val[i], &v->date[i]) != 0) {
                jf_errors_add(e, f->name, "must be a real date YYYY-MM-DD");
                v->val[i] = NULL;
            } else if (v->date[i] > today) {
                jf_errors_add(e, f->name, "must not be in the future");
                v->val[i] = NULL;
            }
            break;
        }
    }
    return 0;
}

const char *jf_pf_get(const jf_pvalues *v, const char *name)
{
    int i = jf_pf_index(name);

    return i < 0 ? NULL : v->val[i];
}

static jf_date date_of(const jf_pvalues *v, const char *name)
{
    int i = jf_pf_index(name);

    return i < 0 ? JF_DATE_NONE : v->date[i];
}

void jf_pf_check_dates(const jf_pvalues *v, jf_date birth, jf_errors *e)
{
    jf_date onset = date_of(v, "onset_date"), diag = date_of(v, "diagnosis_date");
    jf_date consent_date = date_of(v, "consent_date");

    if (onset != JF_DATE_NONE && diag != JF_DATE_NONE && onset > diag)
        jf_errors_add(e, "onset_date", "must not be after diagnosis_date");
    if (birth != JF_DATE_NONE && onset != JF_DATE_NONE && onset < birth)
        jf_errors_add(e, "onset_date", "must not be before the birth date");
    if (birth != JF_DATE_NONE && diag != JF_DATE_NONE && diag < birth)
        jf_errors_add(e, "diagnosis_date", "must not be before the birth date");
    if (consent_date != JF_DATE_NONE && jf_pf_get(v, "consent") == NULL)
        jf_errors_add(e, "consent_date", "needs a consent decision (consent)");
}
