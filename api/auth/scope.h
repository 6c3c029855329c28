/* Who may see or change what: roles, their capabilities, and the org-unit
 * subtree rule (township → village → grid). Pure functions, no I/O; every
 * resource asks these before it touches a row. */
#ifndef JF_SCOPE_H
#define JF_SCOPE_H

#include <stdbool.h>

#include "token.h"

typedef enum jf_role {
    JF_ROLE_NONE = 0,
    JF_ROLE_ADMIN,
    JF_ROLE_OFFICIAL,      /* township official: dashboard, read-mostly */
    JF_ROLE_DOCTOR,        /* 精防医生: assessments, follow-ups */
    JF_ROLE_POLICE,        /* risk and whereabouts, never clinical notes */
    JF_ROLE_CIVIL_AFFAIRS, /* subsidies and economic status, never diagnoses */
    JF_ROLE_GRID_WORKER,   /* 网格员: own grid, visits, reports of suspected persons */
    JF_ROLE_SERVICE,       /* a police or hospital system */
} jf_role;

/* Capabilities a role may hold; a route asks for one. */
typedef enum jf_cap {
    JF_CAP_USERS_ADMIN = 1u << 0,      /* manage users in one's subtree */
    JF_CAP_ORG_READ = 1u << 1,         /* read org units and agencies */
    JF_CAP_AUDIT_READ = 1u << 2,       /* read the audit log */
    JF_CAP_WRITE = 1u << 3,            /* change records at all (officials only read) */
    JF_CAP_PATIENT_READ = 1u << 4,     /* read patient records (through a role view) */
    JF_CAP_PATIENT_REGISTER = 1u << 5, /* register, edit, diagnose, change status */
    JF_CAP_PATIENT_REPORT = 1u << 6,   /* report a suspected person (疑似) */
    JF_CAP_GUARDIAN_WRITE = 1u << 7,   /* add, change or end guardians */
    JF_CAP_CLINICAL_READ = 1u << 8,    /* follow-up forms, assessments, medication */
    JF_CAP_FOLLOWUP_WRITE = 1u << 9,   /* record a follow-up visit (the national form) */
    JF_CAP_CLINICAL_WRITE = 1u << 10,  /* assessments, admissions, prescriptions */
    JF_CAP_INCIDENT_WRITE = 1u << 11,  /* report an incident (肇事肇祸) */
    JF_CAP_CONFIG_WRITE = 1u << 12,    /* edit tier thresholds and settings */
    JF_CAP_ASSIST_READ = 1u << 13,     /* a patient's assistance (救助) records */
    JF_CAP_ASSIST_AREA = 1u << 14,     /* an area's applications, batches and totals */
    JF_CAP_ASSIST_WRITE = 1u << 15,    /* apply, decide, pay, batch, collect (民政) */
    JF_CAP_HOME_CHECK = 1u << 16,      /* 走访 and absences: grid workers, cadres, doctors */
} jf_cap;

typedef enum jf_access { JF_ACCESS_READ, JF_ACCESS_WRITE } jf_access;

typedef enum jf_scope_verdict {
    JF_SCOPE_OK = 0,
    JF_SCOPE_HIDDEN,    /* outside the caller's subtree: answer 404, reveal nothing */
    JF_SCOPE_FORBIDDEN, /* inside, but the role may not do this: answer 403 */
} jf_scope_verdict;

/* "admin" → JF_ROLE_ADMIN …; JF_ROLE_NONE for anything else. */
jf_role jf_role_parse(const char *s);
/* The stable English code of a role. */
const char *jf_role_name(jf_role r);
/* Does role r hold capability cap? */
bool jf_role_has(jf_role r, jf_cap cap);
/* Is target_path the unit at ancestor_path or below it? Paths are the
 * materialised "/1/4/9/" form; "/1/4/" contains "/1/4/9/" but not "/1/40/". [R-VIEW-1] */
bool jf_scope_contains(const char *ancestor_path, const char *target_path);
/* The one question every resource asks: may caller c read or change things
 * held by the org unit at target_path? */
jf_scope_verdict jf_scope_check(const jf_claims *c, const char *target_path, jf_access access);

#endif
