/* Subsidies and assistance (救治救助, DOMAIN.md "Subsidies and assistance"):
 * the standards of each kind (configuration per org unit, admin-edited),
 * applications → approval or rejection → payments, the monthly 以奖代补
 * batches with eligibility explained per condition, in-person collection
 * (当面领取) against a receipt, payments withheld (by decision, or by the
 * database when an incident of the month is recorded), and totals by kind
 * and child unit. Civil affairs work these records; officials and admins
 * read their area's; doctors read their patients'; police and grid workers
 * have no access (route capabilities in api/auth/scope.c). */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/assistance.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Candidates of a batch for the month $1 in the area [$2, $3): approved
 * 以奖代补 applications covering the month and not yet paid for it. */
static jf_stmt batch_candidates = {
    "assist_batch_candidates",
    "SELECT a.id, p.id, p.name, p.org_path, a.guardian_id," FACTS(
        "a.guardian_id") " FROM assistance_applications a JOIN patients p ON p.id = "
                         "a.patient_id" FACTS_FROM
                         " WHERE a.kind = 'guardian_reward' AND a.state IN ('approved', 'ended')"
                         " AND a.from_month <= $1::date AND (a.to_month IS NULL OR a.to_month >= "
                         "$1::date)"
                         " AND p.org_path >= $2 AND p.org_path < $3"
                         " AND NOT EXISTS (SELECT 1 FROM assistance_payments x WHERE "
                         "x.application_id = a.id"
                         "  AND x.period_month = $1::date)"
                         " ORDER BY p.org_path, p.id",
    0,
};
/* The same facts for patient $2, with the approved application (if any). */
static jf_stmt patient_facts = {
    "assist_patient_facts",
    "SELECT a.id, p.id, p.name, p.org_path, a.guardian_id," FACTS(
        "a.guardian_id") " FROM patients p LEFT JOIN LATERAL (SELECT a.id, a.guardian_id FROM "
                         "assistance_applications a"
                         "  WHERE a.patient_id = p.id AND a.kind = 'guardian_reward' AND a.state "
                         "IN ('approved',"
                         "  'ended') AND a.from_month <= $1::date AND (a.to_month IS NULL OR "
                         "a.to_month >= $1::date)"
                         "  ORDER BY a.id DESC LIMIT 1) a ON true" FACTS_FROM " WHERE p.id = $2",
    0,
};
static jf_stmt patient_apps = {
    "assist_patient_apps",
    "SELECT json_build_object('patient_id', $1::bigint, 'items', coalesce(json_agg(" APP_JSON
    " ORDER BY a.id DESC), '[]'))::text FROM assistance_applications a"
    " JOIN patients p ON p.id = a.patient_id WHERE a.patient_id = $1",
    0,
};
static jf_stmt app_doc = {
    "assist_app_doc",
    "SELECT " APP_JSON "::text, a.version FROM assistance_applications a"
    " JOIN patients p ON p.id = a.patient_id WHERE a.id = $1",
    0,
};
/* An application with its patient's scope, locked when $2. */
static jf_stmt app_head = {
    "assist_app_head",
    "SELECT a.state, a.kind, a.patient_id, p.org_path, p.org_unit_id, a.applied_on,"
    " a.from_month, a.to_month, a.amount_fen, a.period, a.version, p.status"
    " FROM assistance_applications a JOIN patients p ON p.id = a.patient_id WHERE a.id = $1",
    0,
};
static jf_stmt app_lock = {"assist_app_lock",
                           "SELECT 1 FROM assistance_applications WHERE id = $1 FOR UPDATE", 0};
enum { A_STATE, A_KIND, A_PATIENT, A_PATH, A_UNIT, A_APPLIED, A_FROM, A_TO, A_AMOUNT, A_PERIOD };
static jf_stmt app_insert = {
    "assist_app_insert",
    "INSERT INTO assistance_applications (patient_id, kind, applied_on, guardian_id, note,"
    " created_by) VALUES ($1, $2, $3::date, $4::bigint, $5, $6) RETURNING id",
    0,
};
static jf_stmt guardian_of = {
    "assist_guardian_of", "SELECT 1 FROM guardians WHERE id = $1 AND patient_id = $2 AND active",
    0};
static jf_stmt standard_of = {
    "assist_standard_of",
    "SELECT s.amount_fen, s.period FROM patients p"
    " CROSS JOIN LATERAL assistance_standard(p.org_path, $2) s WHERE p.id = $1",
    0,
};
static jf_stmt app_approve = {
    "assist_app_approve",
    "UPDATE assistance_applications SET state = 'approved', decided_on = $2::date,"
    " decided_by = $3, amount_fen = $4::bigint, period = $5, from_month = $6::date,"
    " to_month = $7::date, decision_reason = $8, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND state = 'pending'",
    0,
};
static jf_stmt app_reject = {
    "assist_app_reject",
    "UPDATE assistance_applications SET state = 'rejected', decided_on = $2::date,"
    " decided_by = $3, decision_reason = $4, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND state = 'pending'",
    0,
};
/* Ending stops the coverage at the month of the end (never before it starts). */
static jf_stmt app_end = {
    "assist_app_end",
    "UPDATE assistance_applications SET state = 'ended', ended_on = $2::date,"
    " to_month = greatest(from_month, least(coalesce(to_month, 'infinity'),"
    " date_trunc('month', $2::date)::date)), end_reason = $3,"
    " version = version + 1, updated_at = now() WHERE id = $1 AND state = 'approved'",
    0,
};
static jf_stmt pay_insert = {
    "assist_pay_insert",
    "INSERT INTO assistance_payments (application_id, patient_id, kind, org_path, batch_id,"
    " period_month, amount_fen, status, paid_on, paid_at, receipt_no, recorded_by)"
    " SELECT a.id, a.patient_id, a.kind, p.org_path, $2::bigint, $3::date, $4::bigint, $5,"
    " $6::date, CASE WHEN $5 = 'paid' THEN now() END, $7, $8"
    " FROM assistance_applications a JOIN patients p ON p.id = a.patient_id WHERE a.id = $1"
    " RETURNING id",
    0,
};
static jf_stmt pay_doc = {
    "assist_pay_doc",
    "SELECT " PAY_JSON "::text, x.version FROM assistance_payments x WHERE x.id = $1", 0};
/* A payment with its patient's scope (locked when in a transaction that asks). */
static jf_stmt pay_head = {
    "assist_pay_head",
    "SELECT x.status, x.kind, x.patient_id, p.org_path, p.org_unit_id, x.period_month,"
    " x.withheld_reason FROM assistance_payments x JOIN patients p ON p.id = x.patient_id"
    " WHERE x.id = $1",
    0,
};
static jf_stmt pay_lock = {"assist_pay_lock",
                           "SELECT 1 FROM assistance_payments WHERE id = $1 FOR UPDATE", 0};
enum { P_STATUS, P_KIND, P_PATIENT, P_PATH, P_UNIT, P_MONTH, P_WITHHELD };
static jf_stmt pay_collect = {
    "assist_pay_collect",
    "UPDATE assistance_payments SET status = 'paid', paid_on = $2::date, paid_at = now(),"
    " collected_by_guardian = $3, receipt_no = $4, recorded_by = $5, version = version + 1,"
    " updated_at = now() WHERE id = $1 AND status = 'pending'",
    0,
};
static jf_stmt pay_withhold = {
    "assist_pay_withhold",
    "UPDATE assistance_payments SET status = 'withheld', withheld_cause = 'decision',"
    " withheld_reason = $2, withheld_at = now(), recorded_by = $3, version = version + 1,"
    " updated_at = now() WHERE id = $1 AND status = 'pending'",
    0,
};
static jf_stmt batch_insert = {
    "assist_batch_insert",
    "INSERT INTO assistance_batches (org_unit_id, month, created_by) VALUES ($1, $2::date, $3)"
    " ON CONFLICT (org_unit_id, month) DO NOTHING RETURNING id",
    0,
};
static jf_stmt batch_existing = {
    "assist_batch_existing",
    "SELECT id FROM assistance_batches WHERE org_unit_id = $1 AND month = $2::date", 0};
static jf_stmt batch_ineligible = {
    "assist_batch_ineligible", "UPDATE assistance_batches SET ineligible = $2::jsonb WHERE id = $1",
    0};
static jf_stmt batch_doc = {
    "assist_batch_doc",
    "SELECT json_build_object('id', b.id, 'org_unit_id', b.org_unit_id, 'org_unit_name', o.name,"
    " 'month', to_char(b.month, 'YYYY-MM'), 'created_at', b.created_at,"
    " 'totals', (SELECT json_build_object('payments', count(*), 'amount_fen',"
    "  coalesce(sum(amount_fen), 0), 'pending', count(*) FILTER (WHERE status = 'pending'),"
    "  'paid', count(*) FILTER (WHERE status = 'paid'), 'withheld', count(*) FILTER (WHERE"
    "  status = 'withheld')) FROM assistance_payments WHERE batch_id = b.id),"
    " 'payments', coalesce((SELECT json_agg(" PAY_JSON " ORDER BY x.org_path, x.patient_id)"
    "  FROM assistance_payments x WHERE x.batch_id = b.id), '[]'),"
    " 'ineligible', b.ineligible)::text, o.path, b.org_unit_id"
    " FROM assistance_batches b JOIN org_units o ON o.id = b.org_unit_id WHERE b.id = $1",
    0,
};
/* Applications of the area [$1, $2) after id $3, optionally of state $4 and
 * kind $5, $6 rows. */
static jf_stmt app_list = {
    "assist_app_list",
    "SELECT a.id, " APP_JSON "::text FROM assistance_applications a"
    " JOIN patients p ON p.id = a.patient_id WHERE p.org_path >= $1 AND p.org_path < $2"
    " AND a.id > $3::bigint AND ($4::text IS NULL OR a.state = $4)"
    " AND ($5::text IS NULL OR a.kind = $5) ORDER BY a.id LIMIT $6",
    0,
};

/* Totals of the payments for months $2..$3 in unit $1's subtree, by kind
 * and by child unit (a patient held by the unit itself counts under it),
 * and the patients enrolled per kind. */
#define TOTALS                                                                                     \
    "jsonb_build_object('payments', count(*), 'patients', count(DISTINCT patient_id),"             \
    " 'paid_count', count(*) FILTER (WHERE status = 'paid'), 'paid_fen',"                          \
    " coalesce(sum(amount_fen) FILTER (WHERE status = 'paid'), 0), 'pending_count', count(*)"      \
    " FILTER (WHERE status = 'pending'), 'pending_fen', coalesce(sum(amount_fen) FILTER (WHERE"    \
    " status = 'pending'), 0), 'withheld_count', count(*) FILTER (WHERE status = 'withheld'),"     \
    " 'withheld_fen', coalesce(sum(amount_fen) FILTER (WHERE status = 'withheld'), 0))"
static jf_stmt totals = {
    "assist_totals",
    "WITH u AS (SELECT id, name, path FROM org_units WHERE id = $1),"
    " f AS (SELECT f.*, coalesce(nullif(split_part(substr(f.org_path, length(u.path) + 1), '/',"
    "  1), '')::bigint, u.id) AS unit FROM assistance_payment_facts f, u"
    "  WHERE f.org_path COLLATE \"C\" >= u.path AND f.org_path COLLATE \"C\" <"
    "  left(u.path, -1) || '0' AND f.period_month BETWEEN $2::date AND $3::date)"
    " SELECT jsonb_build_object('org_unit_id', u.id, 'org_unit_name', u.name, 'from',"
    " to_char($2::date, 'YYYY-MM'), 'to', to_char($3::date, 'YYYY-MM'),"
    " 'total', (SELECT " TOTALS " FROM f),"
    " 'by_kind', (SELECT coalesce(jsonb_agg(k.t ORDER BY k.kind), '[]') FROM (SELECT kind,"
    "  jsonb_build_object('kind', kind) || " TOTALS " AS t FROM f GROUP BY kind) k),"
    " 'by_unit', (SELECT coalesce(jsonb_agg(c.t ORDER BY c.unit, c.kind), '[]') FROM (SELECT"
    "  unit, kind, jsonb_build_object('org_unit_id', unit, 'org_unit_name', (SELECT name FROM"
    "  org_units WHERE id = unit), 'kind', kind) || " TOTALS " AS t FROM f GROUP BY unit, kind) c),"
    /* 纳入…患者人数 (seed 000 附件2): patients of the area now with an
     * approved application covering some of the months. */
    " 'enrolled_by_kind', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', e.kind,"
    "  'patients', e.n) ORDER BY e.kind), '[]') FROM (SELECT a.kind, count(DISTINCT a.patient_id)"
    "  AS n FROM assistance_applications a JOIN patients p ON p.id = a.patient_id"
    "  WHERE p.org_path >= u.path AND p.org_path < left(u.path, -1) || '0'"
    "  AND a.state IN ('approved', 'ended') AND a.from_month <= $3::date"
    "  AND (a.to_month IS NULL OR a.to_month >= $2::date) GROUP BY a.kind) e)"
    ")::text FROM u",
    0,
};
/* The configuration in force at the unit of path $1 (id $2). */
static jf_stmt config_doc = {
    "assist_config_doc",
    "SELECT json_build_object('org_unit_id', $2::bigint, 'standards', (SELECT"
    " json_agg(json_build_object('kind', k.kind, 'amount_fen', s.amount_fen, 'period', s.period,"
    " 'set_at_org_unit_id', s.org_unit_id) ORDER BY k.ord) FROM unnest(ARRAY['dibao',"
    " 'medical_assistance', 'outpatient_chronic', 'critical_illness', 'employee_large_medical',"
    " 'disability_subsidies', 'temporary_assistance', 'long_acting_injection',"
    " 'guardian_reward']) WITH ORDINALITY k(kind, ord)"
    " CROSS JOIN LATERAL assistance_standard($1, k.kind) s),"
    " 'reward_rule', (SELECT json_build_object('min_risk', r.min_risk, 'extra_flags',"
    " to_json(r.extra_flags), 'police_key_person', r.police_key_person, 'set_at_org_unit_id',"
    " r.org_unit_id) FROM assistance_reward_rule($1) r))::text",
    0,
};
static jf_stmt standards_store = {
    "assist_standards_store",
    "INSERT INTO assistance_standards (org_unit_id, kind, amount_fen, period, updated_at,"
    " updated_by) SELECT $1::bigint, t.key, (t.value->>'amount_fen')::bigint, t.value->>'period', "
    "now(),"
    " $3 FROM json_each($2::json) t ON CONFLICT (org_unit_id, kind) DO UPDATE SET"
    " amount_fen = excluded.amount_fen, period = excluded.period,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};
static jf_stmt rule_store = {
    "assist_rule_store",
    "INSERT INTO assistance_reward_rules (org_unit_id, min_risk, extra_flags, police_key_person,"
    " updated_at, updated_by) VALUES ($1::bigint, $2::smallint, $3::text[], $4::bool, now(), $5)"
    " ON CONFLICT (org_unit_id) DO UPDATE SET min_risk = excluded.min_risk,"
    " extra_flags = excluded.extra_flags, police_key_person = excluded.police_key_person,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};

/* ---- small helpers --------------------------------------------------------- */

static bool receipt_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 32 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* "YYYY-MM" field of the body → "YYYY-MM-01" (arena), or NULL (absent, or
 * bad with an error). Months after the current one are refused unless
 * future is true. */
static const char *body_month(jf_req *req, jf_errors *e, const char *field, bool required,
                              bool future)
{
    json_t *v = json_object_get(req->body, field);
    jf_date d;
    char out[11];

    if (v == NULL) {
        if (required)
            jf_errors_add(e, field, "is required (YYYY-MM)");
        return NULL;
    }
    if (!json_is_string(v) || jf_assist_month_parse(json_string_value(v), &d) != 0) {
        jf_errors_add(e, field, "must be a month YYYY-MM");
        return NULL;
    }
    if (!future && d > jf_assist_month_of(jf_date_today())) {
        jf_errors_add(e, field, "must not be after the current month");
        return NULL;
    }
    jf_date_format(d, out);
    return jf_arena_strdup(&req->arena, out);
}

/* A month query parameter, "YYYY-MM" (or a date "YYYY-MM-DD", meaning its
 * month) → "YYYY-MM-01" (arena); dflt when absent. */
static const char *query_month(jf_req *req, jf_errors *e, const char *name, jf_date dflt)
{
    const char *s = jf_req_query(req, name);
    jf_date d = dflt;
    char out[11];

    if (s != NULL && strlen(s) == 10 && jf_date_parse(s, &d) == 0) {
        d = jf_assist_month_of(d);
    } else if (s != NULL && jf_assist_month_parse(s, &d) != 0) {
        jf_errors_add(e, name, "must be a month YYYY-MM");
        return NULL;
    }
    jf_date_format(d, out);
    return jf_arena_strdup(&req->arena, out);
}

static const char *today_text(jf_req *req)
{
    char out[11];

    jf_date_format(jf_date_today(), out);
    return jf_arena_strdup(&req->arena, out);
}

static int refused(jf_req *req, const char *title, const char *detail, const char *field)
{
    jf_resp_problem(req, 409, "transition-refused", title, detail, field, detail);
    return JF_ERR_CONFLICT;
}

/* Answer 404 / 403 for path of a record the caller asked about. */
static int scope_gate(jf_req *req, const char *path, jf_access access)
{
    switch (jf_scope_check(&req->claims, path, access)) {
    case JF_SCOPE_OK:
        return 0;
    case JF_SCOPE_FORBIDDEN:
        jf_resp_forbidden(req, "your role may not change this record");
        return JF_ERR_AUTH;
    default:
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
}

/* Load the head row of record {id} (path parameter 0) with stmt (path at
 * column path_col), locking it first with lock when in a transaction.
 * 0 with *res set (the caller clears it); a missing or forbidden record
 * is answered, a database error returned unanswered. */
static int load_head(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const jf_stmt *lock,
                     int path_col, jf_access access, PGresult **res)
{
    const char *p[] = {jf_req_param(req, 0)};
    int rc;

    *res = NULL;
    if (jf_req_param_id(req, 0) == 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    if (lock != NULL) {
        rc = jf_db_exec(conn, lock, 1, p, res);
        PQclear(*res);
        *res = NULL;
        if (rc != 0)
            return rc;
    }
    rc = jf_db_exec(conn, stmt, 1, p, res);
    if (rc == 0 && PQntuples(*res) == 0) {
        jf_resp_not_found(req);
        rc = JF_ERR_NOT_FOUND;
    } else if (rc == 0) {
        rc = scope_gate(req, PQgetvalue(*res, 0, path_col), access);
    }
    if (rc != 0) {
        PQclear(*res);
        *res = NULL;
    }
    return rc;
}

static int audit(jf_req *req, jf_db_conn *conn, const char *action, const char *type,
                 const char *id, long long unit, const char *detail)
{
    jf_audit_entry a = {.action = action,
                        .target_type = type,
                        .target_id = id,
                        .org_unit_id = unit,
                        .detail_json = detail};

    return jf_audit_record(conn, req, &a);
}

/* Send the document of stmt for id (column 0 JSON, column 1 version) with
 * status; 201 adds Location: <location>/<id>. */
static int send_doc(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const char *id, int status,
                    const char *location)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    int rc = jf_db_exec(conn, stmt, 1, p, &res);

    if (rc != 0 || PQntuples(res) == 0) {
        PQclear(res);
        return rc ? rc : JF_ERR_DB;
    }
    jf_res_etag(req, PQgetvalue(res, 0, 1));
    if (status == 201)
        jf_resp_header(req, "Location", jf_arena_printf(&req->arena, "%s/%s", location, id));
    rc = jf_resp_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

/* Is guardian gid an active guardian of patient pid? Adds an error on field. */
static int check_guardian(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                          long long gid, const char *pid)
{
    PGresult *res = NULL;
    const char *p[] = {jf_res_id(req, gid), pid};
    int rc = jf_db_exec(conn, &guardian_of, 2, p, &res);

    if (rc == 0 && PQntuples(res) == 0)
        jf_errors_add(e, field, "no such active guardian of the patient");
    PQclear(res);
    return rc;
}

/* Resolve org unit *unit (0: the caller's, set there) inside the caller's
 * subtree: its path, or an error naming field added to e. */
static int area_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                     long long *unit, const char **path)
{
    if (*unit <= 0)
        *unit = req->claims.org_unit_id;
    return jf_record_area(req, conn, e, field, *unit, path);
}

/* ---- eligibility ----------------------------------------------------------- */

static unsigned flag_bits(jf_req *req, const char *csv)
{
    char *s = jf_arena_strdup(&req->arena, csv), *p = s;
    unsigned bits = 0;

    while (p != NULL && *p != '\0') {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        bits |= jf_reward_flag_bit(p);
        p = comma ? comma + 1 : NULL;
    }
    return bits;
}

static long long col_ll(const PGresult *res, int row, int col, long long dflt)
{
    return PQgetisnull(res, row, col) ? dflt : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static bool col_true(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && strcmp(PQgetvalue(res, row, col), "t") == 0;
}

/* Decide row i of a facts result. */
static void decide(jf_req *req, const PGresult *res, int i, jf_reward_result *out)
{
    jf_reward_facts f = {
        .on_register = col_true(res, i, F_ON_REGISTER),
        .incidents_to_date = (int)col_ll(res, i, F_INCIDENTS, 0),
        .incidents_in_month = (int)col_ll(res, i, F_INCIDENTS_MONTH, 0),
        .max_risk = (int)col_ll(res, i, F_MAX_RISK, -1),
        .flags = flag_bits(req, PQgetvalue(res, i, F_FLAGS)),
        .police_key_person = col_true(res, i, F_POLICE_KEY),
        .agreement_signed = col_true(res, i, F_AGREEMENT),
    };
    jf_reward_rule rule = {
        .min_risk = (int)col_ll(res, i, F_MIN_RISK, 3),
        .extra_flags = flag_bits(req, PQgetvalue(res, i, F_EXTRA_FLAGS)),
        .police_key_person = col_true(res, i, F_RULE_POLICE),
    };

    jf_reward_eligibility(&f, &rule, out);
}

/* [{condition, met, basis?}] of a decision (new reference). */
static json_t *conditions_json(const jf_reward_result *r)
{
    json_t *list = json_array();

    for (int c = 0; c < JF_RC_COUNT; c++) {
        json_t *o = json_pack("{s:s,s:b}", "condition", jf_reward_cond_name((jf_reward_cond)c),
                              "met", r->met[c]);
        if (c == JF_RC_TARGET_GROUP) {
            json_t *b = json_array();
            for (int k = 0; k < r->nbasis; k++)
                json_array_append_new(b, json_string(r->basis[k]));
            json_object_set_new(o, "basis", b);
        }
        json_array_append_new(list, o);
    }
    return list;
}

/* The monthly amount of the standard of row i (-1 when it has none). */
static long long monthly_fen(const PGresult *res, int i)
{
    if (PQgetisnull(res, i, F_AMOUNT))
        return -1;
    return jf_assist_monthly_fen(strtoll(PQgetvalue(res, i, F_AMOUNT), NULL, 10),
                                 PQgetvalue(res, i, F_PERIOD));
}

/* ---- patients' assistance ---------------------------------------------------- */

/* GET /patients/{id}/assistance */
static int patient_list(jf_req *req)
{
    jf_patient_row row;
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0 ||
        (rc = audit(req, conn, "patient.assistance_read", "patient", row.id, row.org_unit_id,
                    NULL)) != 0)
        return rc;
    const char *p[] = {row.id};
    return jf_res_send_row(req, conn, &patient_apps, 1, p, 200);
}

/* POST /patients/{id}/assistance {kind, applied_on, guardian_id?, note?} */
static int apply(jf_req *req)
{
    static const char *const allowed[] = {"kind", "applied_on", "guardian_id", "note", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    const char *kind, *applied_on, *note, *id = NULL;
    long long gid = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    kind = jf_body_code(req, &e, "kind", true, jf_assist_kinds);
    applied_on = jf_body_date(req, &e, "applied_on", true);
    jf_body_int(req, &e, "guardian_id", false, 1, INT64_MAX, &gid);
    note = jf_body_str(req, &e, "note", false, 1, 500);
    if (kind != NULL && strcmp(kind, "guardian_reward") == 0 && !jf_body_has(req, "guardian_id"))
        jf_errors_add(&e, "guardian_id", "is required for guardian_reward (the guardian rewarded)");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (row.status == JF_PS_DECEASED || row.status == JF_PS_DEREGISTERED ||
        row.status == JF_PS_RULED_OUT || row.status == JF_PS_SUSPECTED)
        return jf_resp_problem(req, 409, "record-closed", "Not on the register",
                               "only a patient on the register can be supported", NULL, NULL);
    if (gid > 0 && (rc = check_guardian(req, conn, &e, "guardian_id", gid, row.id)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    rc = jf_db_begin(conn);
    const char *p[] = {row.id,     kind,
                       applied_on, gid > 0 ? jf_res_id(req, gid) : NULL,
                       note,       jf_res_id(req, req->claims.user_id)};
    if (rc == 0)
        rc = jf_db_exec(conn, &app_insert, 6, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Already open",
                             "the patient already has a pending or approved application of this "
                             "kind",
                             "kind", "an application of this kind is open");
        goto out;
    }
    if (rc != 0)
        goto out;
    id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = audit(req, conn, "assistance.apply", "assistance_application", id, row.org_unit_id,
               jf_arena_printf(&req->arena, "{\"patient_id\":%s,\"kind\":\"%s\"}", row.id, kind));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_doc(req, conn, &app_doc, id, 201, "/api/v1/assistance/applications");
out:
    PQclear(res);
    return rc;
}

/* GET /patients/{id}/assistance/guardian-reward?month=YYYY-MM */
static int explain(jf_req *req)
{
    jf_errors e = {0};
    jf_patient_row row;
    jf_reward_result r;
    const char *month = query_month(req, &e, "month", jf_assist_month_of(jf_date_today()));
    jf_db_conn *conn;
    PGresult *res = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    int rc;

    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    rc = audit(req, conn, "patient.assistance_read", "patient", row.id, row.org_unit_id,
               "{\"what\":\"guardian_reward_eligibility\"}");
    const char *p[] = {month, row.id};
    if (rc == 0)
        rc = jf_db_exec(conn, &patient_facts, 2, p, &res);
    if (rc != 0 || PQntuples(res) != 1) {
        rc = rc ? rc : JF_ERR_DB;
        goto out;
    }
    decide(req, res, 0, &r);
    long long fen = monthly_fen(res, 0);
    doc = json_pack(
        "{s:I,s:s#,s:o,s:b,s:o,s:o,s:{s:I,s:o,s:b},s:{s:o,s:s,s:o}}", "patient_id",
        (json_int_t)strtoll(row.id, NULL, 10), "month", month, (int)7, "application_id",
        PQgetisnull(res, 0, F_APP) ? json_null() : json_integer(col_ll(res, 0, F_APP, 0)),
        "eligible", r.eligible, "guardian_id",
        PQgetisnull(res, 0, F_GUARDIAN) ? json_null() : json_integer(col_ll(res, 0, F_GUARDIAN, 0)),
        "conditions", conditions_json(&r), "rule", "min_risk",
        (json_int_t)col_ll(res, 0, F_MIN_RISK, 3), "extra_flags",
        json_string(PQgetvalue(res, 0, F_EXTRA_FLAGS)), "police_key_person",
        col_true(res, 0, F_RULE_POLICE), "standard", "amount_fen",
        PQgetisnull(res, 0, F_AMOUNT) ? json_null() : json_integer(col_ll(res, 0, F_AMOUNT, 0)),
        "period", PQgetvalue(res, 0, F_PERIOD), "monthly_fen",
        fen < 0 ? json_null() : json_integer(fen));
    if (doc == NULL) {
        rc = jf_resp_internal(req);
        goto out;
    }
    /* extra_flags as a list rather than the database's comma-joined text. */
    {
        json_t *list = json_array(), *rule = json_object_get(doc, "rule");
        const char *csv = PQgetvalue(res, 0, F_EXTRA_FLAGS);
        for (int i = 0; i < JF_FLAG_COUNT; i++)
            if ((flag_bits(req, csv) & (1u << i)) != 0)
                json_array_append_new(list, json_string(jf_flag_name((jf_flag)i)));
        json_object_set_new(rule, "extra_flags", list);
    }
    text = json_dumps(doc, JSON_COMPACT);
    rc = text ? jf_resp_json_text(req, 200, text, strlen(text)) : jf_resp_internal(req);
out:
    free(text);
    json_decref(doc);
    PQclear(res);
    return rc;
}

/* ---- applications ------------------------------------------------------------ */

/* GET one application or payment {id}: scope by its head row (path and
 * unit in columns path_col/unit_col), audited as a read of type. */
static int read_one(jf_req *req, const jf_stmt *head_stmt, int path_col, int unit_col,
                    const char *type, const jf_stmt *doc)
{
    jf_db_conn *conn;
    PGresult *head = NULL;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = load_head(req, conn, head_stmt, NULL, path_col, JF_ACCESS_READ, &head)) != 0)
        return rc;
    rc = audit(req, conn, "assistance.read", type, jf_req_param(req, 0),
               col_ll(head, 0, unit_col, 0), NULL);
    if (rc == 0)
        rc = send_doc(req, conn, doc, jf_req_param(req, 0), 200, NULL);
    PQclear(head);
    return rc;
}

/* GET /assistance/applications/{id} */
static int app_get(jf_req *req)
{
    return read_one(req, &app_head, A_PATH, A_UNIT, "assistance_application", &app_doc);
}

/* GET /assistance/applications?org_unit_id&state&kind&limit&cursor */
static int app_list_get(jf_req *req)
{
    static const char *const states[] = {"pending", "approved", "rejected", "ended", NULL};
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id"), after = 0;
    const char *state = jf_req_query(req, "state"), *kind = jf_req_query(req, "kind");
    const char *path = NULL;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (state != NULL && !jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be pending, approved, rejected or ended");
    if (kind != NULL && !jf_in_set(kind, jf_assist_kinds))
        jf_errors_add(&e, "kind", "is not an assistance kind");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {path, jf_res_path_upper(req, path), jf_res_id(req, after), state,
                       kind, jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &app_list, 6, p, &res);
    if (rc == 0)
        rc = audit(req, conn, "assistance.list", "org_unit", jf_res_id(req, unit), unit, NULL);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* The decision fields of a transition, read from the body. */
typedef struct decision {
    const char *action, *on, *reason, *from_month, *to_month, *period, *amount_txt;
    long long amount;
    bool has_amount;
} decision;

static int read_decision(jf_req *req, jf_errors *e, decision *d)
{
    static const char *const approve_f[] = {"decided_on", "amount_fen", "period", "from_month",
                                            "to_month",   "note",       NULL};
    static const char *const reject_f[] = {"decided_on", "reason", NULL};
    static const char *const end_f[] = {"ended_on", "reason", NULL};

    if (strcmp(d->action, "approve") == 0) {
        jf_body_only(req, e, approve_f);
        d->on = jf_body_date(req, e, "decided_on", false);
        d->has_amount = jf_body_int(req, e, "amount_fen", false, 0, MAX_FEN, &d->amount) == 1;
        d->period = jf_body_code(req, e, "period", false, jf_assist_periods);
        d->from_month = body_month(req, e, "from_month", false, true);
        d->to_month = body_month(req, e, "to_month", false, true);
        d->reason = jf_body_str(req, e, "note", false, 1, 500);
        if (d->from_month && d->to_month && strcmp(d->to_month, d->from_month) < 0)
            jf_errors_add(e, "to_month", "must not be before from_month");
    } else if (strcmp(d->action, "reject") == 0) {
        jf_body_only(req, e, reject_f);
        d->on = jf_body_date(req, e, "decided_on", false);
        d->reason = jf_body_str(req, e, "reason", true, 1, 500);
    } else {
        jf_body_only(req, e, end_f);
        d->on = jf_body_date(req, e, "ended_on", false);
        d->reason = jf_body_str(req, e, "reason", true, 1, 500);
    }
    if (d->on == NULL)
        d->on = today_text(req);
    return 0;
}

/* Approve: amount and period from the body or the standard in force. */
static int approve_apply(jf_req *req, jf_db_conn *conn, const PGresult *head, decision *d,
                         jf_errors *e)
{
    const char *kind = PQgetvalue(head, 0, A_KIND), *amount = NULL;
    PGresult *res = NULL;
    int rc;
    const char *sp[] = {PQgetvalue(head, 0, A_PATIENT), kind};

    rc = jf_db_exec(conn, &standard_of, 2, sp, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (strcmp(kind, "guardian_reward") == 0) {
        /* 以奖代补 is paid by the monthly batches at the standard in force. */
        if (d->has_amount)
            jf_errors_add(e, "amount_fen", "guardian_reward is paid at the configured standard");
        if (d->period != NULL)
            jf_errors_add(e, "period", "guardian_reward is paid monthly");
    }
    if (!d->has_amount) {
        if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
            jf_errors_add(e, "amount_fen", "is required: this kind has no standard amount here");
        else
            amount = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    } else {
        amount = jf_res_id(req, d->amount);
    }
    if (d->period == NULL && PQntuples(res) > 0)
        d->period = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1));
    PQclear(res);
    res = NULL;
    if (d->from_month == NULL) {
        char m[11];
        jf_date t;
        jf_date_parse(d->on, &t);
        jf_date_format(jf_assist_month_of(t), m);
        d->from_month = jf_arena_strdup(&req->arena, m);
    }
    if (d->to_month != NULL && strcmp(d->to_month, d->from_month) < 0)
        jf_errors_add(e, "to_month", "must not be before from_month");
    if (jf_errors_any(e))
        return 0;
    const char *p[] = {jf_req_param(req, 0),
                       d->on,
                       jf_res_id(req, req->claims.user_id),
                       amount,
                       d->period,
                       d->from_month,
                       d->to_month,
                       d->reason};
    rc = jf_db_exec(conn, &app_approve, 8, p, &res);
    d->amount_txt = amount;
    PQclear(res);
    return rc;
}

/* POST /assistance/applications/{id}/{approve|reject|end} */
static int transition(jf_req *req, const char *action)
{
    decision d = {.action = action};
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    const char *id = jf_req_param(req, 0), *next, *amount = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    read_decision(req, &e, &d);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = load_head(req, conn, &app_head, &app_lock, A_PATH, JF_ACCESS_WRITE, &head)) != 0)
        return rc;
    next = jf_assist_next_state(PQgetvalue(head, 0, A_STATE), d.action);
    if (next == NULL) {
        rc = refused(req, "Transition refused",
                     jf_arena_printf(&req->arena, "an application that is %s cannot be %s",
                                     PQgetvalue(head, 0, A_STATE),
                                     strcmp(d.action, "approve") == 0  ? "approved"
                                     : strcmp(d.action, "reject") == 0 ? "rejected"
                                                                       : "ended"),
                     "state");
        goto out;
    }
    if (strcmp(d.on, PQgetvalue(head, 0, A_APPLIED)) < 0) {
        jf_errors_add(&e, strcmp(d.action, "end") == 0 ? "ended_on" : "decided_on",
                      "must not be before the application (%s)", PQgetvalue(head, 0, A_APPLIED));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if (strcmp(d.action, "approve") == 0) {
        rc = approve_apply(req, conn, head, &d, &e);
        if (rc == 0 && jf_errors_any(&e)) {
            rc = jf_errors_respond(req, &e);
            goto out;
        }
        amount = d.amount_txt;
    } else if (strcmp(d.action, "reject") == 0) {
        const char *p[] = {id, d.on, jf_res_id(req, req->claims.user_id), d.reason};
        rc = jf_db_exec(conn, &app_reject, 4, p, &res);
    } else {
        const char *p[] = {id, d.on, d.reason};
        rc = jf_db_exec(conn, &app_end, 3, p, &res);
    }
    if (rc != 0)
        goto out;
    rc = audit(req, conn, jf_arena_printf(&req->arena, "assistance.%s", d.action),
               "assistance_application", id, col_ll(head, 0, A_UNIT, 0),
               jf_arena_printf(&req->arena,
                               "{\"from\":\"%s\",\"to\":\"%s\",\"kind\":\"%s\",\"amount_fen\":%s}",
                               PQgetvalue(head, 0, A_STATE), next, PQgetvalue(head, 0, A_KIND),
                               amount ? amount : "null"));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_doc(req, conn, &app_doc, id, 200, NULL);
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

/* POST /assistance/applications/{id}/payments {period_month, paid_on,
 * amount_fen?, receipt_no?}: a payment made (not 以奖代补: batches). */
static int pay(jf_req *req)
{
    static const char *const allowed[] = {"period_month", "paid_on", "amount_fen", "receipt_no",
                                          NULL};
    jf_errors e = {0};
    const char *month, *paid_on, *receipt, *id = jf_req_param(req, 0), *pid = NULL;
    long long amount = 0;
    int has_amount;
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    month = body_month(req, &e, "period_month", true, false);
    paid_on = jf_body_date(req, &e, "paid_on", true);
    has_amount = jf_body_int(req, &e, "amount_fen", false, 0, MAX_FEN, &amount);
    receipt = jf_body_str(req, &e, "receipt_no", false, 1, 32);
    if (receipt != NULL && !receipt_ok(receipt))
        jf_errors_add(&e, "receipt_no", "must be 1-32 letters, digits or '-'");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = load_head(req, conn, &app_head, &app_lock, A_PATH, JF_ACCESS_WRITE, &head)) != 0)
        return rc;
    if (strcmp(PQgetvalue(head, 0, A_KIND), "guardian_reward") == 0) {
        rc = refused(req, "Paid by batches",
                     "guardian_reward is paid by the monthly batches and collected in person",
                     "kind");
        goto out;
    }
    if (strcmp(PQgetvalue(head, 0, A_STATE), "approved") != 0) {
        rc = refused(req, "Not approved",
                     jf_arena_printf(&req->arena, "an application that is %s cannot be paid",
                                     PQgetvalue(head, 0, A_STATE)),
                     "state");
        goto out;
    }
    /* The month must lie in the approved months (dates compare as text). */
    if (strcmp(month, PQgetvalue(head, 0, A_FROM)) < 0 ||
        (!PQgetisnull(head, 0, A_TO) && strcmp(month, PQgetvalue(head, 0, A_TO)) > 0))
        jf_errors_add(&e, "period_month", "is outside the approved months");
    if (strcmp(paid_on, PQgetvalue(head, 0, A_APPLIED)) < 0)
        jf_errors_add(&e, "paid_on", "must not be before the application");
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *amount_txt =
        has_amount == 1 ? jf_res_id(req, amount) : PQgetvalue(head, 0, A_AMOUNT);
    const char *p[] = {id,     NULL,    month,   amount_txt,
                       "paid", paid_on, receipt, jf_res_id(req, req->claims.user_id)};
    rc = jf_db_exec(conn, &pay_insert, 8, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = refused(req, "Already paid", "this application was already paid for this month",
                     "period_month");
        goto out;
    }
    if (rc != 0)
        goto out;
    pid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = audit(req, conn, "assistance.pay", "assistance_payment", pid, col_ll(head, 0, A_UNIT, 0),
               jf_arena_printf(&req->arena,
                               "{\"application_id\":%s,\"month\":\"%.7s\",\"amount_fen\":%s}", id,
                               month, amount_txt));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_doc(req, conn, &pay_doc, pid, 201, "/api/v1/assistance/payments");
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

static int approve(jf_req *req)
{
    return transition(req, "approve");
}

static int reject(jf_req *req)
{
    return transition(req, "reject");
}

static int end_app(jf_req *req)
{
    return transition(req, "end");
}

/* ---- payments ---------------------------------------------------------------- */

/* GET /assistance/payments/{id} */
static int pay_get(jf_req *req)
{
    return read_one(req, &pay_head, P_PATH, P_UNIT, "assistance_payment", &pay_doc);
}

/* POST /assistance/payments/{id}/collect {collected_on, guardian_id,
 * receipt_no} and /withhold {reason}. */
static int pay_step(jf_req *req, bool collect)
{
    static const char *const collect_f[] = {"collected_on", "guardian_id", "receipt_no", NULL};
    static const char *const withhold_f[] = {"reason", NULL};
    jf_errors e = {0};
    const char *on = NULL, *receipt = NULL, *reason = NULL, *id = jf_req_param(req, 0);
    long long gid = 0;
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    if (collect) {
        jf_body_only(req, &e, collect_f);
        on = jf_body_date(req, &e, "collected_on", true);
        jf_body_int(req, &e, "guardian_id", true, 1, INT64_MAX, &gid);
        receipt = jf_body_str(req, &e, "receipt_no", true, 1, 32);
        if (receipt != NULL && !receipt_ok(receipt))
            jf_errors_add(&e, "receipt_no", "must be 1-32 letters, digits or '-'");
    } else {
        jf_body_only(req, &e, withhold_f);
        reason = jf_body_str(req, &e, "reason", true, 1, 500);
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = load_head(req, conn, &pay_head, &pay_lock, P_PATH, JF_ACCESS_WRITE, &head)) != 0)
        return rc;
    const char *status = PQgetvalue(head, 0, P_STATUS);
    if (strcmp(status, "pending") != 0) {
        rc = refused(req, strcmp(status, "withheld") == 0 ? "Withheld" : "Already paid",
                     strcmp(status, "withheld") == 0
                         ? jf_arena_printf(&req->arena, "the payment is withheld: %s",
                                           PQgetvalue(head, 0, P_WITHHELD))
                         : "the payment was already collected",
                     "status");
        goto out;
    }
    if (collect) {
        rc = check_guardian(req, conn, &e, "guardian_id", gid, PQgetvalue(head, 0, P_PATIENT));
        if (rc != 0)
            goto out;
        if (strcmp(on, PQgetvalue(head, 0, P_MONTH)) < 0)
            jf_errors_add(&e, "collected_on", "must not be before the month paid for");
        if (jf_errors_any(&e)) {
            rc = jf_errors_respond(req, &e);
            goto out;
        }
        const char *p[] = {id, on, jf_res_id(req, gid), receipt,
                           jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &pay_collect, 5, p, &res);
    } else {
        const char *p[] = {id, reason, jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &pay_withhold, 3, p, &res);
    }
    if (rc == 0) {
        json_t *detail = collect ? json_pack("{s:s,s:I,s:s}", "collected_on", on, "guardian_id",
                                             (json_int_t)gid, "receipt_no", receipt)
                                 : json_pack("{s:s}", "reason", reason);
        char *dtext = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
        json_decref(detail);
        rc = dtext ? audit(req, conn, collect ? "assistance.collect" : "assistance.withhold",
                           "assistance_payment", id, col_ll(head, 0, P_UNIT, 0), dtext)
                   : JF_ERR_NOMEM;
        free(dtext);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_doc(req, conn, &pay_doc, id, 200, NULL);
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

static int collect(jf_req *req)
{
    return pay_step(req, true);
}

static int withhold(jf_req *req)
{
    return pay_step(req, false);
}

/* ---- 以奖代补 batches ------------------------------------------------------------ */

/* Insert the batch's payments and collect the ineligible (inside the
 * transaction). *count and *total get the payments made. */
static int batch_fill(jf_req *req, jf_db_conn *conn, const char *bid, const char *month,
                      const char *path, json_t *ineligible, int *count, long long *total)
{
    PGresult *res = NULL;
    const char *p[] = {month, path, jf_res_path_upper(req, path)};
    int rc = jf_db_exec(conn, &batch_candidates, 3, p, &res);

    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        jf_reward_result r;
        long long fen = monthly_fen(res, i);
        decide(req, res, i, &r);
        if (!r.eligible || fen < 0) {
            json_array_append_new(ineligible,
                                  json_pack("{s:I,s:s,s:I,s:o}", "patient_id",
                                            (json_int_t)col_ll(res, i, F_PATIENT, 0),
                                            "patient_name", PQgetvalue(res, i, F_NAME),
                                            "application_id", (json_int_t)col_ll(res, i, F_APP, 0),
                                            "conditions", conditions_json(&r)));
            continue;
        }
        PGresult *ins = NULL;
        const char *ip[] = {PQgetvalue(res, i, F_APP),
                            bid,
                            month,
                            jf_res_id(req, fen),
                            "pending",
                            NULL,
                            NULL,
                            jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &pay_insert, 8, ip, &ins);
        if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(ins), "23505") == 0)
            rc = JF_ERR_CONFLICT; /* an overlapping batch paid it meanwhile */
        PQclear(ins);
        (*count)++;
        *total += fen;
    }
    PQclear(res);
    return rc;
}

/* POST /assistance/batches {org_unit_id, month} */
static int batch_create(jf_req *req)
{
    static const char *const allowed[] = {"org_unit_id", "month", NULL};
    jf_errors e = {0};
    long long unit = 0, total = 0;
    const char *month, *path = NULL, *bid = NULL;
    json_t *ineligible = json_array();
    char *itext = NULL;
    int count = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        goto out;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    month = body_month(req, &e, "month", true, false);
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        goto out;
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    rc = jf_db_begin(conn);
    const char *bp[] = {jf_res_id(req, unit), month, jf_res_id(req, req->claims.user_id)};
    if (rc == 0)
        rc = jf_db_exec(conn, &batch_insert, 3, bp, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = NULL;
        jf_db_rollback(conn);
        rc = jf_db_exec(conn, &batch_existing, 2, bp, &res);
        const char *old = rc == 0 && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?";
        jf_resp_header(req, "Location",
                       jf_arena_printf(&req->arena, "/api/v1/assistance/batches/%s", old));
        rc = refused(req, "Batch exists",
                     jf_arena_printf(&req->arena,
                                     "the unit already has batch %s for this month: read it there",
                                     old),
                     "month");
        goto out;
    }
    bid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    rc = batch_fill(req, conn, bid, month, path, ineligible, &count, &total);
    if (rc == JF_ERR_CONFLICT) {
        rc = refused(req, "Batch overlaps", "another batch paid some of these patients meanwhile",
                     "month");
        goto out;
    }
    if (rc != 0)
        goto out;
    itext = json_dumps(ineligible, JSON_COMPACT);
    const char *up[] = {bid, itext};
    rc = itext ? jf_db_exec(conn, &batch_ineligible, 2, up, &res) : JF_ERR_NOMEM;
    if (rc == 0)
        rc = audit(req, conn, "assistance.batch", "assistance_batch", bid, unit,
                   jf_arena_printf(&req->arena,
                                   "{\"org_unit_id\":%lld,\"month\":\"%.7s\",\"payments\":%d,"
                                   "\"amount_fen\":%lld,\"ineligible\":%zu}",
                                   unit, month, count, total, json_array_size(ineligible)));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    PQclear(res);
    res = NULL;
    const char *dp[] = {bid};
    rc = jf_db_exec(conn, &batch_doc, 1, dp, &res);
    if (rc != 0 || PQntuples(res) != 1) {
        rc = rc ? rc : JF_ERR_DB;
        goto out;
    }
    jf_res_etag(req, "1");
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/assistance/batches/%s", bid));
    rc = jf_resp_json_text(req, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    free(itext);
    json_decref(ineligible);
    return rc;
}

/* GET /assistance/batches/{id} */
static int batch_get(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0)};
    rc = jf_db_exec(conn, &batch_doc, 1, p, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if ((rc = scope_gate(req, PQgetvalue(res, 0, 1), JF_ACCESS_READ)) != 0)
        goto out;
    rc = audit(req, conn, "assistance.read", "assistance_batch", p[0], col_ll(res, 0, 2, 0), NULL);
    if (rc != 0)
        goto out;
    jf_res_etag(req, "1");
    rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

/* ---- totals and configuration -------------------------------------------------- */

/* GET /assistance/totals?unit=&from=YYYY-MM&to=YYYY-MM (default: this year to date) */
static int totals_get(jf_req *req)
{
    jf_errors e = {0};
    jf_date now = jf_assist_month_of(jf_date_today());
    int y, m, d;
    long long unit = jf_query_id(req, &e, "unit");
    const char *from, *to, *path = NULL;
    jf_db_conn *conn;
    int rc;

    jf_date_to_ymd(now, &y, &m, &d);
    from = query_month(req, &e, "from", jf_date_from_ymd(y, 1, 1));
    to = query_month(req, &e, "to", now);
    if (from != NULL && to != NULL && strcmp(to, from) < 0)
        jf_errors_add(&e, "to", "must not be before from");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = area_unit(req, conn, &e, "unit", &unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {jf_res_id(req, unit), from, to};
    return jf_res_send_row(req, conn, &totals, 3, p, 200);
}

/* GET /config/assistance?org_unit_id= */
static int config_get(jf_req *req)
{
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id");
    const char *path = NULL;
    jf_db_conn *conn;
    int rc;

    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {path, jf_res_id(req, unit)};
    return jf_res_send_row(req, conn, &config_doc, 2, p, 200);
}

/* Validate "standards" into {kind: {amount_fen, period}} (owned), or NULL. */
static json_t *read_standards(const jf_req *req, jf_errors *e)
{
    static const char *const keys[] = {"amount_fen", "period", NULL};
    json_t *in = json_object_get(req->body, "standards"), *out, *v;
    const char *kind, *k;
    json_t *x;
    char field[80];

    if (in == NULL)
        return NULL;
    if (!json_is_object(in) || json_object_size(in) == 0) {
        jf_errors_add(e, "standards", "must be an object of kinds: {amount_fen, period}");
        return NULL;
    }
    out = json_object();
    json_object_foreach(in, kind, v)
    {
        json_t *amount = json_object_get(v, "amount_fen"), *period = json_object_get(v, "period");
        if (!jf_in_set(kind, jf_assist_kinds)) {
            jf_errors_add(e, "standards", "%s is not an assistance kind", kind);
            continue;
        }
        snprintf(field, sizeof(field), "standards.%s", kind);
        if (!json_is_object(v)) {
            jf_errors_add(e, field, "must be {amount_fen, period}");
            continue;
        }
        json_object_foreach(v, k, x)
        {
            if (!jf_in_set(k, keys))
                jf_errors_add(e, field, "%s is not a known key", k);
        }
        snprintf(field, sizeof(field), "standards.%s.amount_fen", kind);
        if (!json_is_null(amount) && (!json_is_integer(amount) || json_integer_value(amount) < 0 ||
                                      json_integer_value(amount) > MAX_FEN))
            jf_errors_add(e, field, "must be null or a whole number of fen from 0 to %lld",
                          MAX_FEN);
        if (amount == NULL)
            jf_errors_add(e, field, "is required (null: decided per application)");
        snprintf(field, sizeof(field), "standards.%s.period", kind);
        if (!json_is_string(period) || !jf_in_set(json_string_value(period), jf_assist_periods))
            jf_errors_add(e, field, "must be month, year or case");
        if (strcmp(kind, "guardian_reward") == 0) {
            if (json_is_null(amount))
                jf_errors_add(e, "standards.guardian_reward.amount_fen",
                              "以奖代补 needs a standard amount");
            if (json_is_string(period) && strcmp(json_string_value(period), "case") == 0)
                jf_errors_add(e, "standards.guardian_reward.period", "must be month or year");
        }
        json_object_set_new(
            out, kind,
            json_pack("{s:O,s:O}", "amount_fen", amount, "period", period ? period : json_null()));
    }
    return out;
}

/* Validate "reward_rule"; fills min_risk, flags ("{a,b}") and police. */
static bool read_rule(jf_req *req, jf_errors *e, long long *min_risk, const char **flags,
                      bool *police)
{
    static const char *const keys[] = {"min_risk", "extra_flags", "police_key_person", NULL};
    json_t *in = json_object_get(req->body, "reward_rule"), *v, *f;
    const char *k;
    size_t i;
    jf_buf b;
    unsigned seen = 0;

    if (in == NULL)
        return false;
    if (!json_is_object(in)) {
        jf_errors_add(e, "reward_rule", "must be {min_risk, extra_flags, police_key_person}");
        return false;
    }
    json_object_foreach(in, k, v)
    {
        if (!jf_in_set(k, keys))
            jf_errors_add(e, "reward_rule", "%s is not a known key", k);
    }
    v = json_object_get(in, "min_risk");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 5)
        jf_errors_add(e, "reward_rule.min_risk", "must be a risk level from 1 to 5");
    else
        *min_risk = json_integer_value(v);
    v = json_object_get(in, "police_key_person");
    if (!json_is_boolean(v))
        jf_errors_add(e, "reward_rule.police_key_person", "must be true or false");
    else
        *police = json_is_true(v);
    f = json_object_get(in, "extra_flags");
    if (!json_is_array(f)) {
        jf_errors_add(e, "reward_rule.extra_flags", "must be a list of key-flag codes");
        return true;
    }
    jf_buf_init(&b, 1024);
    jf_buf_puts(&b, "{");
    json_array_foreach(f, i, v)
    {
        unsigned bit = json_is_string(v) ? jf_reward_flag_bit(json_string_value(v)) : 0;
        if (bit == 0 || (seen & bit) != 0) {
            jf_errors_add(e, "reward_rule.extra_flags", "item %zu is not a new key-flag code", i);
            continue;
        }
        seen |= bit;
        jf_buf_printf(&b, "%s%s", b.len > 1 ? "," : "", json_string_value(v));
    }
    jf_buf_puts(&b, "}");
    *flags = jf_arena_strndup(&req->arena, b.data, b.len);
    jf_buf_free(&b);
    return true;
}

/* PUT /config/assistance {org_unit_id?, standards?, reward_rule?} */
static int config_put(jf_req *req)
{
    static const char *const allowed[] = {"org_unit_id", "standards", "reward_rule", NULL};
    jf_errors e = {0};
    long long unit = 0, min_risk = 3;
    const char *path = NULL, *flags = "{}", *before = NULL;
    bool police = false, has_rule;
    json_t *standards;
    char *stext = NULL;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "org_unit_id", false, 1, INT64_MAX, &unit);
    standards = read_standards(req, &e);
    has_rule = read_rule(req, &e, &min_risk, &flags, &police);
    if (!jf_body_has(req, "standards") && !jf_body_has(req, "reward_rule"))
        jf_errors_add(&e, "standards", "give standards, reward_rule or both");
    if (jf_errors_any(&e)) {
        json_decref(standards);
        return jf_errors_respond(req, &e);
    }
    stext = standards ? json_dumps(standards, JSON_COMPACT) : NULL;
    json_decref(standards);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        goto out;
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *cp[] = {path, jf_res_id(req, unit)};
    const char *uid = jf_res_id(req, req->claims.user_id), *uidp = jf_res_id(req, unit);
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &config_doc, 2, cp, &res);
    if (rc == 0)
        before = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    if (rc == 0 && stext != NULL) {
        const char *p[] = {uidp, stext, uid};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &standards_store, 3, p, &res);
    }
    if (rc == 0 && has_rule) {
        const char *p[] = {uidp, jf_res_id(req, min_risk), flags, jf_res_tf(police), uid};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &rule_store, 5, p, &res);
    }
    if (rc == 0) {
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &config_doc, 2, cp, &res);
    }
    if (rc == 0)
        rc = audit(req, conn, "config.update", "config", "assistance", unit,
                   jf_arena_printf(&req->arena, "{\"before\":%s,\"after\":%s}", before,
                                   PQgetvalue(res, 0, 0)));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    free(stext);
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/config/assistance", config_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"PUT", "/api/v1/config/assistance", config_put, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
    {"GET", "/api/v1/patients/{id}/assistance", patient_list, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"POST", "/api/v1/patients/{id}/assistance", apply, JF_ROUTE_AUTH, JF_CAP_ASSIST_WRITE},
    {"GET", "/api/v1/patients/{id}/assistance/guardian-reward", explain, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_READ},
    {"GET", "/api/v1/assistance/applications", app_list_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_AREA},
    {"GET", "/api/v1/assistance/applications/{id}", app_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"POST", "/api/v1/assistance/applications/{id}/approve", approve, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/applications/{id}/reject", reject, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/applications/{id}/end", end_app, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/applications/{id}/payments", pay, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"GET", "/api/v1/assistance/payments/{id}", pay_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"POST", "/api/v1/assistance/payments/{id}/collect", collect, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/payments/{id}/withhold", withhold, JF_ROUTE_AUTH,
     JF_CAP_ASSIST_WRITE},
    {"POST", "/api/v1/assistance/batches", batch_create, JF_ROUTE_AUTH, JF_CAP_ASSIST_WRITE},
    {"GET", "/api/v1/assistance/batches/{id}", batch_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_AREA},
    {"GET", "/api/v1/assistance/totals", totals_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_AREA},
};

int jf_res_assistance_init(void)
{
    jf_stmt *const s[] = {&batch_candidates, &patient_facts,   &patient_apps, &app_doc,
                          &app_head,         &app_lock,        &app_insert,   &guardian_of,
                          &standard_of,      &app_approve,     &app_reject,   &app_end,
                          &pay_insert,       &pay_doc,         &pay_head,     &pay_lock,
                          &pay_collect,      &pay_withhold,    &batch_insert, &batch_existing,
                          &batch_ineligible, &batch_doc,       &app_list,     &totals,
                          &config_doc,       &standards_store, &rule_store};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
