/* The patient-record module (api/record/), between the resources and the
 * pure rules: every handler that touches a patient loads it here, in the
 * caller's scope [R-VIEW-1], reads it through the caller's role view
 * [R-VIEW-2], records its dated events, and (recompute.h, notify.h) has its
 * derived state recomputed and its notifications raised in the same
 * transaction. */
#ifndef JF_RECORD_PATIENT_H
#define JF_RECORD_PATIENT_H

#include "../auth/scope.h"
#include "../core/buf.h"
#include "../db/pool.h"
#include "../domain/idcard.h"
#include "../domain/patient_status.h"
#include "../domain/views.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "actor.h"
#include "patient_fields.h"

typedef struct jf_patient_row {
    const char *id; /* arena copy of the id as text */
    jf_pstatus status;
    long long version;
    long long org_unit_id;
    const char *org_path; /* arena */
    bool has_id_number;
} jf_patient_row;

/* Register the shared statements (start-up). */
int jf_record_patient_init(void);
/* The caller's role view. */
jf_patient_view jf_record_view(const jf_req *req);
/* Load patient {id} (path parameter 0) and check the caller may access it:
 * 0 with *row set, or a negative jf_err (404 hidden or absent, 403
 * forbidden). */
int jf_record_load(jf_req *req, jf_db_conn *conn, jf_access access, jf_patient_row *row);
/* Append a JSON object text built by PostgreSQL (a guardian) to out,
 * adding "id_number" decrypted from cipher_hex when the view allows it. */
int jf_record_append(jf_req *req, jf_buf *out, const char *doc, size_t len, const char *cipher_hex,
                     jf_patient_view v);
/* The caller's view of patient id as JSON into out (inside or outside a
 * transaction); *version gets its version for the ETag. */
int jf_record_doc(jf_req *req, jf_db_conn *conn, const char *id, jf_buf *out, char version[16]);
/* Check an org unit may hold patients (village or grid) inside the caller's
 * subtree; adds an error naming field when not. *path gets its path. */
int jf_record_residence_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                             long long unit_id, const char **path);
/* The path of org unit `unit` (0 or less: the caller's own) when it lies in
 * the caller's subtree, into *path (arena); else *path is NULL and an
 * error naming field is added to e. 0, or the jf_db_exec error. */
int jf_record_area(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field, long long unit,
                   const char **path);
/* Answer 409 for a duplicate ID number (id_index_hex), naming the existing
 * record when the caller may see it, and return JF_ERR_CONFLICT; or return
 * the jf_db_exec error. */
int jf_record_duplicate(jf_req *req, jf_db_conn *conn, const char *id_index_hex);

/* Read the "id_number" body field (GB 11643; 15 digits become 18) and check
 * that gender and birth date in v, when given, agree with it. 1 with *id
 * set, 0 absent, -1 bad (an error was added). v may be NULL. */
int jf_record_read_id_number(jf_req *req, jf_errors *e, bool required, const jf_pvalues *v,
                             jf_idcard *id);

/* Audit action on the patient (detail: a JSON object or NULL) in the
 * caller's transaction; 0 or the jf_audit_record error. */
int jf_record_audit(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, const char *action,
                    const char *detail);

/* A dated event on the patient's timeline (NULL fields: none). */
typedef struct jf_patient_event {
    const char *patient_id, *kind, *date /* NULL: today */, *from_status, *to_status, *reason,
        *death_cause, *detail_json;
} jf_patient_event;
/* Insert it, by the actor; 0 or the jf_db_exec error. */
int jf_record_event(const jf_actor *who, jf_db_conn *conn, const jf_patient_event *ev);
/* Move the patient from the status it was loaded with (row->status) to
 * `to`, with the dated event ev (kind "status" unless ev names one; the
 * patient and both statuses are filled in here) [R-PAT-2]. 0, or 409
 * (JF_ERR_CONFLICT) when the status changed meanwhile. */
int jf_record_move(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, jf_pstatus to,
                   jf_patient_event ev);

#endif
