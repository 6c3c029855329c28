/* The FHIR R4 view's rules, pure: which resource types an agency's view
 * includes, which view a service account's system gets, and how the search
 * parameters identifier and _lastUpdated read. Tested row by row. */
#ifndef JF_FHIR_H
#define JF_FHIR_H

#include <stdbool.h>
#include <stddef.h>

#include "views.h"

/* The resource types the view serves. */
typedef enum jf_fhir_type {
    JF_FHIR_PATIENT = 0,
    JF_FHIR_RELATED_PERSON,       /* guardians */
    JF_FHIR_ENCOUNTER,            /* follow-up visits and admissions */
    JF_FHIR_CONDITION,            /* the diagnosis */
    JF_FHIR_RISK_ASSESSMENT,      /* risk assessments, level 0–5 */
    JF_FHIR_FLAG,                 /* colour tier, current risk ≥ 3, key-patient flags */
    JF_FHIR_MEDICATION_STATEMENT, /* prescriptions */
    JF_FHIR_NTYPES
} jf_fhir_type;

/* The system of the resident ID number (WS/T 500: 患者身份证号标识). */
#define JF_FHIR_ID_SYSTEM "urn:oid:2.16.156.10011.1.3"
/* The base of the CodeSystem URLs of jingfang's own codes. */
#define JF_FHIR_CS "https://jingfang.example/fhir/CodeSystem/"

/* "Patient", "RelatedPerson" …; "" for an unknown type. */
const char *jf_fhir_type_name(jf_fhir_type t);
/* Does view v include resources of type t? Clinical types (Condition,
 * MedicationStatement) need v.clinical, risk types (RiskAssessment, Flag)
 * v.risk; identity, guardians and encounters are in every view (an
 * Encounter's clinical detail follows v.clinical). */
bool jf_fhir_type_visible(jf_fhir_type t, jf_patient_view v);
/* The view of a service account of system ("hospital" or "police", as
 * service_system() in SQL names them): what a doctor or a police officer
 * sees, as the exports to those agencies. Any other: nothing but masked
 * identity. */
jf_patient_view jf_fhir_view_for_system(const char *system);

/* One _lastUpdated value ("ge2026-01-01", "lt2026-03-01T08:00:00+08:00")
 * as a half-open range [lo + lo_step, hi + hi_step) of timestamptz texts,
 * lo or hi NULL when open; each step is "0", "1 day" or "1 microsecond" (a
 * day after a date, the next instant after a dateTime, for gt, le and eq).
 * Prefixes ge, gt, le, lt, eq or none (eq). A date is a calendar day
 * (YYYY-MM-DD, read in the database's time zone, China Standard Time); a
 * dateTime carries its zone (Z or ±hh:mm). lo and hi point into value.
 * 0, or -1 when malformed. */
typedef struct jf_fhir_range {
    const char *lo, *lo_step, *hi, *hi_step;
} jf_fhir_range;
int jf_fhir_last_updated(const char *value, jf_fhir_range *r);

/* The Patient's "identifier" array as JSON text into out (n bytes): the
 * whole resident ID number id18, or, id18 NULL (a view that masks it), the
 * identifier without a value, only a data-absent-reason "masked"
 * extension, so that nothing looks like a real number. 0, or -1 when out
 * is too small. */
#define JF_FHIR_IDENTIFIER_MAX 256
int jf_fhir_identifier_json(const char *id18, char *out, size_t n);

/* identifier=[system|]value: 0 with *value pointing into s when the
 * system is absent, empty or JF_FHIR_ID_SYSTEM; -1 for another system. */
int jf_fhir_identifier(const char *s, const char **value);

#endif
