/* The cores of the episode writes (admission, discharge, incident), shared by
 * the patient routes of episodes.c and the incoming integrations of external
 * systems (integrations.c), so that both have the same effects.
 *
 * Contract of every core: call it inside the caller's open transaction with
 * the patient loaded and in the caller's scope. It checks the patient's
 * state, writes the record, moves the status with a dated event, recomputes
 * the derived clinical state, raises the notifications and audits the
 * write. 0 with the record's JSON appended to out: the caller commits and
 * answers. Otherwise non-zero (409, 400, or a database failure: common.h),
 * and the request's transaction is rolled back when the handler returns. */
#ifndef JF_RES_EPISODES_H
#define JF_RES_EPISODES_H

#include <stdbool.h>

#include "../record/patient.h"

/* What an admission records; reason, escorted_by and escort_names may be
 * NULL. */
typedef struct jf_admission {
    const char *admitted_on, *hospital, *reason, *escorted_by, *escort_names;
    bool involuntary;
} jf_admission;

/* A discharge and its summary (出院信息单); every field but discharged_on
 * may be NULL (risk_level: -1, community_doctor_id: 0 when absent). */
typedef struct jf_discharge {
    const char *discharged_on, *note, *diagnosis, *medications, *advice;
    long long risk_level, community_doctor_id;
} jf_discharge;

/* An incident (肇事肇祸); police_case_no and description may be NULL. */
typedef struct jf_incident {
    const char *occurred_on, *place, *kind, *police_case_no, *description;
    long long injured, dead;
} jf_incident;

/* The incident kinds (轻度滋事/肇事/肇祸), NULL-terminated. */
extern const char *const jf_incident_kinds[];

/* Read an admission's fields from the request body (errors added). */
void jf_episode_read_admission(jf_req *req, jf_errors *e, jf_admission *a);
/* Read a discharge's fields (errors added). */
void jf_episode_read_discharge(jf_req *req, jf_errors *e, jf_discharge *d);
/* Read an incident's fields; police_case_no is required when case_no_required. */
void jf_episode_read_incident(jf_req *req, jf_errors *e, jf_incident *in, bool case_no_required);
/* Admit the patient (hospitalised from admitted_on). */
int jf_episode_admit(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                     const jf_admission *a, jf_buf *out);
/* Discharge admission_id, or the patient's open admission when NULL, with
 * the summary: its risk level becomes a risk assessment of the discharge
 * date; the clinic and the police station are notified (the 7-day visit). */
int jf_episode_discharge(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                         const char *admission_id, const jf_discharge *d, jf_buf *out);
/* Record an incident; every agency is notified. */
int jf_episode_incident(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                        const jf_incident *in, jf_buf *out);

/* Insert one record (stmt returns its id and JSON) for the loaded patient
 * inside the open transaction, recompute the derived state, raise
 * notify_kind (when not NULL) with the record as detail and audit
 * {"<key>": id} as action; the record goes to out. 0, or non-zero as the
 * cores above. */
int jf_episode_record_write(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                            const jf_stmt *stmt, int n, const char *const *p, const char *action,
                            const char *key, const char *notify_kind, jf_buf *out);
/* jf_episode_record_write in a transaction of its own (with the request's
 * Idempotency-Key), committed, answered 201 with the record; a failure as
 * the cores above. */
int jf_episode_record_insert(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                             const jf_stmt *stmt, int n, const char *const *p, const char *action,
                             const char *key, const char *notify_kind);
/* GET the patient's records (stmt: $1 the patient, one JSON array) as
 * {"items": [...]}, the read audited naming the list, on the request's
 * connection. */
int jf_episode_list(jf_req *req, const jf_stmt *stmt, const char *what);
/* The same with more: stmt takes $2 x2 and $3 x3 too when x2 is given;
 * with one, its value is one record, sent alone (404 when NULL: not the
 * patient's). The read is audited with detail. */
int jf_episode_read(jf_req *req, const jf_stmt *stmt, const char *detail, const char *x2,
                    const char *x3, bool one);

#endif
