/* Shared by the patient resources (patients.c, patient_flow.c,
 * guardians.c): loading a patient under the caller's scope, and writing a
 * patient document through the caller's role view. */
#ifndef JF_RES_PATIENTS_H
#define JF_RES_PATIENTS_H

#include "../auth/scope.h"
#include "../core/buf.h"
#include "../db/pool.h"
#include "../domain/idcard.h"
#include "../domain/patient_status.h"
#include "../domain/views.h"
#include "../http/request.h"
#include "../http/validate.h"
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
int jf_patients_common_init(void);
/* The caller's role view. */
jf_patient_view jf_res_view(const jf_req *req);
/* Load patient {id} (path parameter 0) and check the caller may access it:
 * 0 with *row set, or a negative jf_err: with the answer (404 hidden or
 * absent, 403 forbidden) sent, or the jf_db_exec error unanswered. */
int jf_res_patient_load(jf_req *req, jf_db_conn *conn, jf_access access, jf_patient_row *row);
/* Append a JSON object text built by PostgreSQL (a guardian) to out,
 * adding "id_number" decrypted from cipher_hex when the view allows it. */
int jf_res_patient_append(jf_req *req, jf_buf *out, const char *doc, size_t len,
                          const char *cipher_hex, jf_patient_view v);
/* The caller's view of patient id as JSON into out (inside or outside a
 * transaction); *version gets its version for the ETag. */
int jf_res_patient_doc(jf_req *req, jf_db_conn *conn, const char *id, jf_buf *out,
                       char version[16]);
/* Check an org unit may hold patients (village or grid) inside the caller's
 * subtree; adds an error naming field when not. *path gets its path. */
int jf_res_residence_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                          long long unit_id, const char **path);
/* The path of org unit `unit` (0 or less: the caller's own) when it lies in
 * the caller's subtree, into *path (arena); else *path is NULL and an
 * error naming field is added to e. 0, or the jf_db_exec error (not
 * answered). */
int jf_res_area(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field, long long unit,
                const char **path);
/* Answer 409 for a duplicate ID number (id_index_hex), naming the existing
 * record when the caller may see it, and return JF_ERR_CONFLICT; or return
 * the jf_db_exec error unanswered. */
int jf_res_patient_duplicate(jf_req *req, jf_db_conn *conn, const char *id_index_hex);

/* Read the "id_number" body field (GB 11643; 15 digits become 18) and check
 * that gender and birth date in v, when given, agree with it. 1 with *id
 * set, 0 absent, -1 bad (an error was added). v may be NULL. */
int jf_res_read_id_number(jf_req *req, jf_errors *e, bool required, const jf_pvalues *v,
                          jf_idcard *id);

/* A dated event on the patient's timeline (NULL fields: none). */
typedef struct jf_patient_event {
    const char *patient_id, *kind, *date /* NULL: today */, *from_status, *to_status, *reason,
        *death_cause, *detail_json;
} jf_patient_event;
/* Insert it; 0 or the jf_db_exec error (not answered). */
int jf_res_patient_event(jf_req *req, jf_db_conn *conn, const jf_patient_event *ev);

#endif
