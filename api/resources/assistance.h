/* Subsidies and assistance (救治救助), the resource's own shared parts:
 * the documents' JSON, the facts of 以奖代补, the column orders of the head
 * rows, and the helpers every section uses (assistance.c). The sections:
 * assistance_apply.c (a patient's assistance, applications and their
 * decisions), assistance_pay.c (payments and the monthly 以奖代补 batches),
 * assistance_config.c (totals, standards and the local rule). */
#ifndef JF_RES_ASSISTANCE_H
#define JF_RES_ASSISTANCE_H

#include <jansson.h>
#include <stdbool.h>

#include "../auth/scope.h"
#include "../db/pool.h"
#include "../domain/assistance.h"
#include "../domain/date.h"
#include "../http/request.h"
#include "../http/validate.h"

#define MAX_FEN 100000000LL /* 100 万元: the schema's bound on one amount */

/* One payment as JSON (alias x). */
#define PAY_JSON                                                                                   \
    "json_build_object('id', x.id, 'application_id', x.application_id, 'patient_id',"              \
    " x.patient_id, 'patient_name', (SELECT name FROM patients WHERE id = x.patient_id),"          \
    " 'kind', x.kind, 'batch_id', x.batch_id, 'period_month', to_char(x.period_month,"             \
    " 'YYYY-MM'), 'amount_fen', x.amount_fen, 'status', x.status, 'paid_on', x.paid_on,"           \
    " 'paid_at', x.paid_at, 'collected_by_guardian_id', x.collected_by_guardian,"                  \
    " 'collected_by_name', (SELECT name FROM guardians WHERE id = x.collected_by_guardian),"       \
    " 'receipt_no', x.receipt_no, 'withheld_cause', x.withheld_cause, 'withheld_reason',"          \
    " x.withheld_reason, 'withheld_incident_id', x.withheld_incident_id, 'version', x.version,"    \
    " 'created_at', x.created_at, 'updated_at', x.updated_at)"

/* One application with its payments (aliases a, p). */
#define APP_JSON                                                                                   \
    "json_build_object('id', a.id, 'patient_id', a.patient_id, 'patient_name', p.name,"            \
    " 'org_unit_id', p.org_unit_id, 'kind', a.kind, 'state', a.state, 'applied_on',"               \
    " a.applied_on, 'guardian_id', a.guardian_id, 'guardian_name', (SELECT name FROM guardians"    \
    " WHERE id = a.guardian_id), 'note', a.note, 'amount_fen', a.amount_fen, 'period', a.period,"  \
    " 'from_month', to_char(a.from_month, 'YYYY-MM'), 'to_month', to_char(a.to_month,"             \
    " 'YYYY-MM'), 'decided_on', a.decided_on, 'decision_reason', a.decision_reason, 'ended_on',"   \
    " a.ended_on, 'end_reason', a.end_reason, 'version', a.version, 'created_at', a.created_at, "  \
    "'updated_at', a.updated_at,"                                                                  \
    " 'payments', coalesce((SELECT json_agg(" PAY_JSON " ORDER BY x.period_month, x.id)"           \
    " FROM assistance_payments x WHERE x.application_id = a.id), '[]'))"

/* The facts of 以奖代补 for the month starting $1 of patient p with the
 * guardian expression G (NULL: any active guardian), then the rule and the
 * standard in force for the patient's area (see the F_ enum). */
#define FACTS(G)                                                                                   \
    " on_register(p.status),"                                                                      \
    " (SELECT count(*) FROM incidents i WHERE i.patient_id = p.id AND i.occurred_on <= e.m_end),"  \
    " (SELECT count(*) FROM incidents i WHERE i.patient_id = p.id"                                 \
    "  AND i.occurred_on BETWEEN $1::date AND e.m_end),"                                           \
    " coalesce((SELECT max(level) FROM risk_assessments r WHERE r.patient_id = p.id"               \
    "  AND r.assessed_on <= e.m_end), -1),"                                                        \
    " coalesce((SELECT string_agg(f, ',') FROM jsonb_array_elements_text(p.key_flags) f), ''),"    \
    " coalesce(p.police_key_person, false),"                                                       \
    " EXISTS (SELECT 1 FROM guardians g WHERE g.patient_id = p.id AND g.active"                    \
    "  AND g.agreement_signed_on <= e.m_end AND (" G " IS NULL OR g.id = " G ")),"                 \
    " rr.min_risk, array_to_string(rr.extra_flags, ','), rr.police_key_person, s.amount_fen,"      \
    " s.period"
#define FACTS_FROM                                                                                 \
    " CROSS JOIN (SELECT ($1::date + interval '1 month' - interval '1 day')::date AS m_end) e"     \
    " CROSS JOIN LATERAL assistance_reward_rule(p.org_path) rr"                                    \
    " CROSS JOIN LATERAL assistance_standard(p.org_path, 'guardian_reward') s"

/* Columns of a facts row after the application, patient, name and path. */
enum {
    F_APP,
    F_PATIENT,
    F_NAME,
    F_PATH,
    F_GUARDIAN,
    F_ON_REGISTER,
    F_INCIDENTS,
    F_INCIDENTS_MONTH,
    F_MAX_RISK,
    F_FLAGS,
    F_POLICE_KEY,
    F_AGREEMENT,
    F_MIN_RISK,
    F_EXTRA_FLAGS,
    F_RULE_POLICE,
    F_AMOUNT,
    F_PERIOD,
};

/* Columns of an application's and a payment's head rows (app_head, pay_head). */
enum { A_STATE, A_KIND, A_PATIENT, A_PATH, A_UNIT, A_APPLIED, A_FROM, A_TO, A_AMOUNT, A_PERIOD };
enum { P_STATUS, P_KIND, P_PATIENT, P_PATH, P_UNIT, P_MONTH, P_WITHHELD };

/* The statements two sections share. */
extern jf_stmt jf_aid_pay_insert, jf_aid_pay_doc;

/* A receipt number: 1 to 32 letters, digits or '-'. */
bool jf_aid_receipt_ok(const char *s);
/* "YYYY-MM" field of the body → "YYYY-MM-01" (arena), or NULL (absent, or
 * bad with an error). Months after the current one are refused unless
 * future is true. */
const char *jf_aid_body_month(jf_req *req, jf_errors *e, const char *field, bool required,
                              bool future);
/* A month query parameter, "YYYY-MM" (or a date "YYYY-MM-DD", meaning its
 * month) → "YYYY-MM-01" (arena); dflt when absent. */
const char *jf_aid_query_month(jf_req *req, jf_errors *e, const char *name, jf_date dflt);
/* Today (the test clock included) as YYYY-MM-DD, in the arena. */
const char *jf_aid_today_text(jf_req *req);
/* Answer 409 (transition refused) naming field; returns JF_ERR_CONFLICT. */
int jf_aid_refused(jf_req *req, const char *title, const char *detail, const char *field);
/* Answer 404 / 403 for path of a record the caller asked about. */
int jf_aid_scope_gate(jf_req *req, const char *path, jf_access access);
/* Load the head row of record {id} (path parameter 0) with stmt (path at
 * column path_col), locking it first with lock when in a transaction.
 * 0 with *res set (the caller clears it); 404 or 403 for a missing or
 * forbidden record. */
int jf_aid_load_head(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const jf_stmt *lock,
                     int path_col, jf_access access, PGresult **res);
/* Audit action on a record of type (id, its patient's unit). */
int jf_aid_audit(jf_req *req, jf_db_conn *conn, const char *action, const char *type,
                 const char *id, long long unit, const char *detail);
/* Send the document of stmt for id (column 0 JSON, column 1 version) with
 * status; 201 adds Location: <location>/<id>. */
int jf_aid_send_doc(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const char *id, int status,
                    const char *location);
/* Is guardian gid an active guardian of patient pid? Adds an error on field. */
int jf_aid_check_guardian(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                          long long gid, const char *pid);
/* Resolve org unit *unit (0: the caller's, set there) inside the caller's
 * subtree: its path, or an error naming field added to e. */
int jf_aid_area_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                     long long *unit, const char **path);
/* Key-patient flags "a,b" as the bits of domain/assistance.h. */
unsigned jf_aid_flag_bits(jf_req *req, const char *csv);
/* Column col of row as a number (dflt when NULL), and as a boolean. */
long long jf_aid_col_ll(const PGresult *res, int row, int col, long long dflt);
bool jf_aid_col_true(const PGresult *res, int row, int col);
/* Decide row i of a facts result. */
void jf_aid_decide(jf_req *req, const PGresult *res, int i, jf_reward_result *out);
/* [{condition, met, basis?}] of a decision (new reference). */
json_t *jf_aid_conditions_json(const jf_reward_result *r);
/* The monthly amount of the standard of row i (-1 when it has none). */
long long jf_aid_monthly_fen(const PGresult *res, int i);
/* GET one application or payment {id}: scope by its head row (path and
 * unit in columns path_col/unit_col), audited as a read of type. */
int jf_aid_read_one(jf_req *req, const jf_stmt *head_stmt, int path_col, int unit_col,
                    const char *type, const jf_stmt *doc);

/* Register each section's statements and routes (start-up). */
int jf_aid_apply_init(void);
int jf_aid_pay_init(void);
int jf_aid_config_init(void);

#endif
