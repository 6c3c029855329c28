/* The FHIR R4 view's pure rules: types per view, view per system, search values. */
#include "fhir.h"
#include "date.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[JF_FHIR_NTYPES] = {
    [JF_FHIR_PATIENT] = "Patient",
    [JF_FHIR_RELATED_PERSON] = "RelatedPerson",
    [JF_FHIR_ENCOUNTER] = "Encounter",
    [JF_FHIR_CONDITION] = "Condition",
    [JF_FHIR_RISK_ASSESSMENT] = "RiskAssessment",
    [JF_FHIR_FLAG] = "Flag",
    [JF_FHIR_MEDICATION_STATEMENT] = "MedicationStatement",
};

const char *jf_fhir_type_name(jf_fhir_type t)
{
    return (unsigned)t < JF_FHIR_NTYPES ? type_names[t] : "";
}

bool jf_fhir_type_visible(jf_fhir_type t, jf_patient_view v)
{
    switch (t) {
    case JF_FHIR_PATIENT:
    case JF_FHIR_RELATED_PERSON:
    case JF_FHIR_ENCOUNTER:
        return true;
    case JF_FHIR_CONDITION:
    case JF_FHIR_MEDICATION_STATEMENT:
        return v.clinical;
    case JF_FHIR_RISK_ASSESSMENT:
    case JF_FHIR_FLAG:
        return v.risk;
    default:
        return false;
    }
}

jf_patient_view jf_fhir_view_for_system(const char *system)
{
    if (system != NULL && strcmp(system, "hospital") == 0)
        return jf_view_for_role(JF_ROLE_DOCTOR);
    if (system != NULL && strcmp(system, "police") == 0)
        return jf_view_for_role(JF_ROLE_POLICE);
    return jf_view_for_role(JF_ROLE_NONE);
}

/* n decimal digits at s, as a number; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Is s a date (1) or a dateTime with its zone (2)? 0 when neither. */
static int date_kind(const char *s)
{
    size_t n = strlen(s), i = 19;

    if (n < 10 || s[4] != '-' || s[7] != '-' ||
        !jf_date_valid(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2)))
        return 0;
    if (n == 10)
        return 1;
    if (n < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || digits(s + 11, 2) < 0 ||
        digits(s + 11, 2) > 23 || digits(s + 14, 2) < 0 || digits(s + 14, 2) > 59 ||
        digits(s + 17, 2) < 0 || digits(s + 17, 2) > 59)
        return 0;
    if (s[i] == '.') { /* 1 to 6 fractional digits: PostgreSQL keeps microseconds */
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f || i - f > 6)
            return 0;
    }
    if (strcmp(s + i, "Z") == 0)
        return 2;
    if (n - i == 6 && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
        digits(s + i + 1, 2) >= 0 && digits(s + i + 1, 2) <= 14 && digits(s + i + 4, 2) >= 0 &&
        digits(s + i + 4, 2) <= 59)
        return 2;
    return 0;
}

int jf_fhir_last_updated(const char *value, jf_fhir_range *r)
{
    static const char *const prefixes[] = {"ge", "gt", "le", "lt", "eq"};
    const char *p = "eq", *s = value;
    const char *next;
    int kind;

    memset(r, 0, sizeof(*r));
    if (value == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(value, prefixes[i], 2) == 0) {
            p = prefixes[i];
            s = value + 2;
        }
    if ((kind = date_kind(s)) == 0)
        return -1;
    next = kind == 1 ? "1 day" : "1 microsecond";
    if (strcmp(p, "ge") == 0 || strcmp(p, "eq") == 0)
        *r = (jf_fhir_range){s, "0", NULL, NULL};
    else if (strcmp(p, "gt") == 0)
        *r = (jf_fhir_range){s, next, NULL, NULL};
    if (strcmp(p, "lt") == 0)
        *r = (jf_fhir_range){NULL, NULL, s, "0"};
    else if (strcmp(p, "le") == 0 || strcmp(p, "eq") == 0) {
        r->hi = s;
        r->hi_step = next;
    }
    return 0;
}

int jf_fhir_identifier(const char *s, const char **value)
{
    const char *bar = strchr(s, '|');

    *value = s;
    if (bar == NULL)
        return 0;
    *value = bar + 1;
    if (bar == s || ((size_t)(bar - s) == strlen(JF_FHIR_ID_SYSTEM) &&
                     strncmp(s, JF_FHIR_ID_SYSTEM, (size_t)(bar - s)) == 0))
        return 0;
    return -1;
}

int jf_fhir_identifier_json(const char *id18, char *out, size_t n)
{
    int w;

    if (id18 != NULL)
        w = snprintf(
            out, n,
            "[{\"use\":\"official\",\"system\":\"" JF_FHIR_ID_SYSTEM "\",\"value\":\"%s\"}]", id18);
    else
        w = snprintf(out, n,
                     "[{\"use\":\"official\",\"system\":\"" JF_FHIR_ID_SYSTEM
                     "\",\"_value\":{\"extension\":[{\"url\":"
                     "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\","
                     "\"valueCode\":\"masked\"}]}}]");
    return w >= 0 && (size_t)w < n ? 0 : -1;
}
