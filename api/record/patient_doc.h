/* The patient document, built in C from plain columns through the caller's
 * role view (个人信息保护法: the minimum necessary). One table below names
 * each field, the SQL that selects it and the view group that may see it,
 * so the column list and the writer cannot drift apart. */
#ifndef JF_PATIENT_DOC_H
#define JF_PATIENT_DOC_H

#include "../core/buf.h"
#include "../domain/views.h"
#include "../http/request.h"

#include <libpq-fe.h>

/* X(json key, SQL expression over patients p, kind, view group). A PHONE
 * selects the full and the masked number; GUARDIANS the guardian summaries
 * as JSON, their phones whole or masked as parameter $1 (boolean) says:
 * every statement built on JF_PATIENT_DOC_SQL passes the view's phone_full
 * as $1. The names and the summaries are kept on the row by triggers
 * (migration 0018), so a document is one row fetch. */
#define JF_PATIENT_DOC_FIELDS(X)                                                                   \
    X("id", "p.id", NUM, BASE)                                                                     \
    X("name", "p.name", STR, BASE)                                                                 \
    X("status", "p.status", STR, BASE)                                                             \
    X("org_unit_id", "p.org_unit_id", NUM, BASE)                                                   \
    X("org_unit_name", "p.org_unit_name", STR, BASE)                                               \
    X("id_number_masked", "p.id_masked", STR, BASE)                                                \
    X("gender", "p.gender", STR, BASE)                                                             \
    X("birth_date", "p.birth_date", STR, BASE)                                                     \
    X("phone", "p.phone, p.phone_masked", PHONE, BASE)                                             \
    X("ethnicity", "p.ethnicity", STR, BASE)                                                       \
    X("address", "p.address", STR, BASE)                                                           \
    X("hukou_area_code", "p.hukou_area_code", STR, BASE)                                           \
    X("hukou_address", "p.hukou_address", STR, BASE)                                               \
    X("household_type", "p.household_type", STR, BASE)                                             \
    X("lives_alone", "p.lives_alone", BOOL, BASE)                                                  \
    X("migrant", "p.migrant", BOOL, BASE)                                                          \
    X("vagrant", "p.vagrant", BOOL, BASE)                                                          \
    X("guardians", "CASE WHEN $1::boolean THEN p.guardians_full ELSE p.guardians_masked END",      \
      GUARDIANS, BASE)                                                                             \
    X("doctor_id", "p.doctor_id", NUM, BASE)                                                       \
    X("doctor_name", "p.doctor_name", STR, BASE)                                                   \
    X("version", "p.version", NUM, BASE)                                                           \
    X("created_at", "p.created_at", TIME, BASE)                                                    \
    X("updated_at", "p.updated_at", TIME, BASE)                                                    \
    X("risk_level", "p.risk_level", NUM, RISK)                                                     \
    X("colour", "p.colour", STR, RISK)                                                             \
    X("colour_scheme", "p.colour_scheme", STR, RISK)                                               \
    X("key_flags", "p.key_flags", JSON, RISK)                                                      \
    X("can_drive", "p.can_drive", BOOL, RISK)                                                      \
    X("police_key_person", "p.police_key_person", BOOL, RISK)                                      \
    X("police_key_person_on", "p.police_key_person_on", STR, RISK)                                 \
    X("employment", "p.employment", STR, ECONOMIC)                                                 \
    X("economic_status", "p.economic_status", STR, ECONOMIC)                                       \
    X("dibao", "p.dibao", BOOL, ECONOMIC)                                                          \
    X("tekun", "p.tekun", BOOL, ECONOMIC)                                                          \
    X("diagnosis", "p.diagnosis", STR, CLINICAL)                                                   \
    X("diagnosing_hospital", "p.diagnosing_hospital", STR, CLINICAL)                               \
    X("diagnosis_date", "p.diagnosis_date", STR, CLINICAL)                                         \
    X("onset_date", "p.onset_date", STR, CLINICAL)                                                 \
    X("family_history", "p.family_history", BOOL, CLINICAL)                                        \
    X("consent", "p.consent", STR, CLINICAL)                                                       \
    X("consent_date", "p.consent_date", STR, CLINICAL)                                             \
    X("report_note", "p.report_note", STR, CLINICAL)

#define JF_PATIENT_DOC_SQL_COL(key, sql, kind, group) sql ", "
/* The select list of a document (ending with the encrypted ID number), for
 * "SELECT " JF_PATIENT_DOC_SQL ", <the statement's own columns> FROM patients p …"
 * with $1 = whole phone numbers (boolean). */
#define JF_PATIENT_DOC_SQL JF_PATIENT_DOC_FIELDS(JF_PATIENT_DOC_SQL_COL) "p.id_cipher"
/* How many result columns JF_PATIENT_DOC_SQL takes. */
extern const int jf_patient_doc_ncols;

/* Append the document of row (columns col0 … col0 + jf_patient_doc_ncols - 1
 * of res) to out as the view v shows it; the whole ID number, decrypted,
 * only when v.id_full. */
int jf_patient_doc_append(jf_req *req, jf_buf *out, const PGresult *res, int row, int col0,
                          jf_patient_view v);

#endif
