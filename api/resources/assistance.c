/* Subsidies and assistance (救治救助, DOMAIN.md "Subsidies and assistance"):
 * the standards of each kind (configuration per org unit, admin-edited),
 * applications → approval or rejection → payments, the monthly 以奖代补
 * batches with eligibility explained per condition, in-person collection
 * (当面领取) against a receipt, payments withheld (by decision, or by the
 * database when an incident of the month is recorded), and totals by kind
 * and child unit. Civil affairs work these records; officials and admins
 * read their area's; doctors read their patients'; police and grid workers
 * have no access (route capabilities in api/auth/scope.c). */
#include "assistance.h"
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

static jf_stmt guardian_of = {
    "assist_guardian_of", "SELECT 1 FROM guardians WHERE id = $1 AND patient_id = $2 AND active",
    0};
jf_stmt jf_aid_pay_insert = {
    "assist_pay_insert",
    "INSERT INTO assistance_payments (application_id, patient_id, kind, org_path, batch_id,"
    " period_month, amount_fen, status, paid_on, paid_at, receipt_no, recorded_by)"
    " SELECT a.id, a.patient_id, a.kind, p.org_path, $2::bigint, $3::date, $4::bigint, $5,"
    " $6::date, CASE WHEN $5 = 'paid' THEN now() END, $7, $8"
    " FROM assistance_applications a JOIN patients p ON p.id = a.patient_id WHERE a.id = $1"
    " RETURNING id",
    0,
};
jf_stmt jf_aid_pay_doc = {
    "assist_pay_doc",
    "SELECT " PAY_JSON "::text, x.version FROM assistance_payments x WHERE x.id = $1", 0};

/* ---- small helpers --------------------------------------------------------- */

bool jf_aid_receipt_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 32 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* "YYYY-MM" field of the body → "YYYY-MM-01" (arena), or NULL (absent, or
 * bad with an error). Months after the current one are refused unless
 * future is true. */
const char *jf_aid_body_month(jf_req *req, jf_errors *e, const char *field, bool required,
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
const char *jf_aid_query_month(jf_req *req, jf_errors *e, const char *name, jf_date dflt)
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

const char *jf_aid_today_text(jf_req *req)
{
    char out[11];

    jf_date_format(jf_date_today(), out);
    return jf_arena_strdup(&req->arena, out);
}

int jf_aid_refused(jf_req *req, const char *title, const char *detail, const char *field)
{
    jf_resp_problem(req, 409, "transition-refused", title, detail, field, detail);
    return JF_ERR_CONFLICT;
}

/* Answer 404 / 403 for path of a record the caller asked about. */
int jf_aid_scope_gate(jf_req *req, const char *path, jf_access access)
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
 * 0 with *res set (the caller clears it); 404 or 403 for a missing or
 * forbidden record. */
int jf_aid_load_head(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const jf_stmt *lock,
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
        rc = jf_aid_scope_gate(req, PQgetvalue(*res, 0, path_col), access);
    }
    if (rc != 0) {
        PQclear(*res);
        *res = NULL;
    }
    return rc;
}

int jf_aid_audit(jf_req *req, jf_db_conn *conn, const char *action, const char *type,
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
int jf_aid_send_doc(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const char *id, int status,
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
int jf_aid_check_guardian(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
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
int jf_aid_area_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                     long long *unit, const char **path)
{
    if (*unit <= 0)
        *unit = req->claims.org_unit_id;
    return jf_record_area(req, conn, e, field, *unit, path);
}

/* ---- eligibility ----------------------------------------------------------- */

unsigned jf_aid_flag_bits(jf_req *req, const char *csv)
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

long long jf_aid_col_ll(const PGresult *res, int row, int col, long long dflt)
{
    return PQgetisnull(res, row, col) ? dflt : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

bool jf_aid_col_true(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && strcmp(PQgetvalue(res, row, col), "t") == 0;
}

/* Decide row i of a facts result. */
void jf_aid_decide(jf_req *req, const PGresult *res, int i, jf_reward_result *out)
{
    jf_reward_facts f = {
        .on_register = jf_aid_col_true(res, i, F_ON_REGISTER),
        .incidents_to_date = (int)jf_aid_col_ll(res, i, F_INCIDENTS, 0),
        .incidents_in_month = (int)jf_aid_col_ll(res, i, F_INCIDENTS_MONTH, 0),
        .max_risk = (int)jf_aid_col_ll(res, i, F_MAX_RISK, -1),
        .flags = jf_aid_flag_bits(req, PQgetvalue(res, i, F_FLAGS)),
        .police_key_person = jf_aid_col_true(res, i, F_POLICE_KEY),
        .agreement_signed = jf_aid_col_true(res, i, F_AGREEMENT),
    };
    jf_reward_rule rule = {
        .min_risk = (int)jf_aid_col_ll(res, i, F_MIN_RISK, 3),
        .extra_flags = jf_aid_flag_bits(req, PQgetvalue(res, i, F_EXTRA_FLAGS)),
        .police_key_person = jf_aid_col_true(res, i, F_RULE_POLICE),
    };

    jf_reward_eligibility(&f, &rule, out);
}

/* [{condition, met, basis?}] of a decision (new reference). */
json_t *jf_aid_conditions_json(const jf_reward_result *r)
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
long long jf_aid_monthly_fen(const PGresult *res, int i)
{
    if (PQgetisnull(res, i, F_AMOUNT))
        return -1;
    return jf_assist_monthly_fen(strtoll(PQgetvalue(res, i, F_AMOUNT), NULL, 10),
                                 PQgetvalue(res, i, F_PERIOD));
}

/* GET one application or payment {id}: scope by its head row (path and
 * unit in columns path_col/unit_col), audited as a read of type. */
int jf_aid_read_one(jf_req *req, const jf_stmt *head_stmt, int path_col, int unit_col,
                    const char *type, const jf_stmt *doc)
{
    jf_db_conn *conn;
    PGresult *head = NULL;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_aid_load_head(req, conn, head_stmt, NULL, path_col, JF_ACCESS_READ, &head)) != 0)
        return rc;
    rc = jf_aid_audit(req, conn, "assistance.read", type, jf_req_param(req, 0),
                      jf_aid_col_ll(head, 0, unit_col, 0), NULL);
    if (rc == 0)
        rc = jf_aid_send_doc(req, conn, doc, jf_req_param(req, 0), 200, NULL);
    PQclear(head);
    return rc;
}

int jf_res_assistance_init(void)
{
    jf_stmt *const s[] = {&guardian_of, &jf_aid_pay_insert, &jf_aid_pay_doc};
    int rc = jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0 ? JF_ERR_TOO_LARGE : 0;

    if (rc == 0)
        rc = jf_aid_apply_init();
    if (rc == 0)
        rc = jf_aid_pay_init();
    return rc ? rc : jf_aid_config_init();
}
