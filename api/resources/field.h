/* Temporary absences (外出), shared by the field records that learn of
 * them: a follow-up, a home check, or a report alone. */
#ifndef JF_RES_FIELD_H
#define JF_RES_FIELD_H

#include <stdbool.h>

#include "../core/buf.h"
#include "../record/patient.h"

typedef struct jf_absence {
    bool present;
    const char *kind, *destination, *left_on, *expected_return, *note;
} jf_absence;

/* Read an absence object o (NULL or JSON null: none); errors are named
 * "<prefix>.<field>" (the bare field when prefix is ""). left_on is
 * required only alone (prefix ""): at a visit it defaults to the visit. */
void jf_absence_read(jf_req *req, jf_errors *e, json_t *o, const char *prefix, jf_absence *a);
/* Record it inside the open transaction (via: report, follow_up,
 * home_check; source_id may be NULL), notify the police station and the
 * mental-health centre when the patient is at risk ≥ 3 or unstable, audit.
 * The record's JSON goes to out when out is not NULL. 0 or a jf_db_exec
 * error. */
int jf_absence_write(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, const jf_absence *a,
                     const char *via, const char *source_id, jf_buf *out);

#endif
