/* Guardians (监护人) of a patient — primary, assistant, or a social guardian
 * appointed by the village committee or civil affairs — and the worklist of
 * patients who lack a capable one. Ended, never deleted. */
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/mask.h"
#include "../domain/pii.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARDIAN_JSON                                                                              \
    "json_build_object('id', g.id, 'patient_id', g.patient_id, 'kind', g.kind, 'name', g.name,"    \
    " 'relation', g.relation, 'phone', CASE WHEN $2 THEN g.phone ELSE g.phone_masked END,"         \
    " 'capacity', g.capacity, 'has_agreement', g.agreement_signed_on IS NOT NULL,"                 \
    " 'active', g.active)::jsonb || CASE WHEN $3 THEN jsonb_build_object("                         \
    " 'id_number_masked', g.id_masked, 'address', g.address,"                                      \
    " 'agreement_signed_on', g.agreement_signed_on,"                                               \
    " 'responsibility_notice_on', g.responsibility_notice_on, 'agency_id', g.agency_id,"           \
    " 'agency_name', a.name, 'ended_on', g.ended_on, 'version', g.version,"                        \
    " 'created_at', g.created_at, 'updated_at', g.updated_at) ELSE '{}' END"

static jf_stmt guardians_list = {
    "guardians_list",
    "SELECT (" GUARDIAN_JSON ")::text, g.id_cipher FROM guardians g"
    " LEFT JOIN agencies a ON a.id = g.agency_id WHERE g.patient_id = $1"
    " ORDER BY g.active DESC, g.kind, g.id",
    0,
};
static jf_stmt guardian_one = {
    "guardian_one",
    "SELECT (" GUARDIAN_JSON ")::text, g.id_cipher, g.version FROM guardians g"
    " LEFT JOIN agencies a ON a.id = g.agency_id WHERE g.id = $1 AND g.patient_id = $4",
    0,
};
static jf_stmt guardian_head = {
    "guardian_head",
    "SELECT version, active, kind FROM guardians WHERE id = $1 AND patient_id = $2", 0};
static jf_stmt guardian_insert = {
    "guardian_insert",
    "INSERT INTO guardians (patient_id, kind, name, relation, id_cipher, id_index, id_masked,"
    " phone, phone_masked, address, capacity, agreement_signed_on, responsibility_notice_on,"
    " agency_id) VALUES ($1, $2, $3, $4, $5::bytea, $6::bytea, $7, $8, $9, $10, $11, $12::date,"
    " $13::date, $14) RETURNING id",
    0,
};
static jf_stmt guardian_update = {
    "guardian_update",
    "UPDATE guardians SET kind = coalesce($3, kind), name = coalesce($4, name),"
    " relation = coalesce($5, relation),"
    " phone = CASE WHEN $6::bool THEN $7 ELSE phone END,"
    " phone_masked = CASE WHEN $6::bool THEN $8 ELSE phone_masked END,"
    " address = CASE WHEN $9::bool THEN $10 ELSE address END,"
    " capacity = coalesce($11, capacity),"
    " agreement_signed_on = CASE WHEN $12::bool THEN $13::date ELSE agreement_signed_on END,"
    " responsibility_notice_on = CASE WHEN $14::bool THEN $15::date"
    "  ELSE responsibility_notice_on END,"
    " active = CASE WHEN $16::bool THEN false ELSE active END,"
    " ended_on = CASE WHEN $16::bool THEN current_date ELSE ended_on END,"
    " version = version + 1, updated_at = now()"
    " WHERE id = $1 AND version = $2 RETURNING id",
    0,
};
static jf_stmt appointing_agency = {
    "guardian_agency",
    "SELECT a.kind, o.path FROM agencies a JOIN org_units o ON o.id = a.org_unit_id"
    " WHERE a.id = $1",
    0,
};
/* Patients on the register lacking an active guardian of adequate capacity. */
static jf_stmt gaps = {
    "guardian_gaps",
    "SELECT p.id, p.org_path, json_build_object('patient_id', p.id, 'name', p.name,"
    " 'status', p.status, 'org_unit_id', p.org_unit_id, 'org_unit_name', o.name,"
    " 'risk_level', CASE WHEN $5 THEN p.risk_level END, 'colour', CASE WHEN $5 THEN p.colour END,"
    " 'gap', CASE WHEN g.n = 0 THEN 'no_guardian' ELSE 'no_capable_guardian' END,"
    " 'guardians', g.n)::text"
    " FROM patients p JOIN org_units o ON o.id = p.org_unit_id"
    " CROSS JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE capacity = 'adequate')"
    "  AS capable FROM guardians WHERE patient_id = p.id AND active) g"
    " WHERE p.org_path >= $1 AND p.org_path < $2 AND (p.org_path, p.id) > (greatest($3::text "
    "COLLATE \"C\", $1), $4::bigint)"
    " AND on_register(p.status)"
    " AND g.capable = 0 AND ($7::bigint IS NULL OR p.doctor_id = $7)"
    " ORDER BY p.org_path, p.id LIMIT $6",
    0,
};

static const char *const kinds[] = {"primary", "assistant", "social", NULL};
static const char *const relations[] = {"spouse",
                                        "parent",
                                        "child",
                                        "sibling",
                                        "grandparent",
                                        "other_relative",
                                        "village_committee",
                                        "civil_affairs",
                                        "other",
                                        NULL};
static const char *const capacities[] = {"adequate", "weak", "none", NULL};

static bool phone_ok(const char *s)
{
    return strspn(s, "0123456789+-") == strlen(s);
}

/* Append guardian rows (json text, cipher) as a JSON array to out. */
static int append_guardians(jf_req *req, jf_buf *out, PGresult *res, jf_patient_view v)
{
    int rc = jf_buf_puts(out, "[");

    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (i > 0)
            rc = jf_buf_puts(out, ",");
        if (rc == 0)
            rc = jf_record_append(req, out, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0),
                                  PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1), v);
    }
    return rc ? rc : jf_buf_puts(out, "]");
}

static int list(jf_req *req)
{
    jf_patient_view v = jf_record_view(req);
    jf_patient_row row;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    jf_buf_init(&out, 1u << 20);
    /* The ID number of a guardian is shown only with the detailed view. */
    v.id_full = v.id_full && v.guardian_detail;
    const char *p[] = {row.id, jf_res_tf(v.phone_full), jf_res_tf(v.guardian_detail)};
    rc = jf_db_exec(conn, &guardians_list, 3, p, &res);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.guardians", NULL);
    }
    rc = rc ? rc : jf_buf_puts(&out, "{\"items\":");
    rc = rc ? rc : append_guardians(req, &out, res, v);
    rc = rc ? rc : jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* One guardian as the caller's role sees it, into out (inited by the
 * caller), and its version. 0, or the failure. */
static int guardian_doc(jf_req *req, jf_db_conn *conn, const char *pid, const char *gid,
                        jf_buf *out, const char **version)
{
    jf_patient_view v = jf_record_view(req);
    PGresult *res = NULL;
    int rc;

    v.id_full = v.id_full && v.guardian_detail;
    const char *p[] = {gid, jf_res_tf(v.phone_full), jf_res_tf(v.guardian_detail), pid};
    rc = jf_db_exec(conn, &guardian_one, 4, p, &res);
    if (rc == 0 && PQntuples(res) == 0)
        rc = JF_ERR_DB;
    if (rc == 0)
        rc = jf_record_append(req, out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                              PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1), v);
    if (rc == 0)
        *version = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 2));
    PQclear(res);
    return rc;
}

/* Answer status with out, the guardian's version as ETag and, for 201, its
 * Location. */
static int send_guardian(jf_req *req, const char *pid, const char *gid, int status,
                         const jf_buf *out, const char *version)
{
    jf_res_etag(req, version);
    if (status == 201)
        jf_resp_header(req, "Location",
                       jf_arena_printf(&req->arena, "/api/v1/patients/%s/guardians/%s", pid, gid));
    return jf_resp_json_text(req, status, out->data, out->len);
}

/* A social guardian is appointed by a village committee or civil affairs
 * serving the patient's area. */
static int check_appointing(jf_req *req, jf_db_conn *conn, jf_errors *e, long long agency,
                            const char *patient_path)
{
    PGresult *res = NULL;
    const char *p[] = {jf_res_id(req, agency)};
    int rc = jf_db_exec(conn, &appointing_agency, 1, p, &res);

    if (rc == 0) {
        if (PQntuples(res) == 0 || !jf_scope_contains(PQgetvalue(res, 0, 1), patient_path))
            jf_errors_add(e, "agency_id", "no such agency serving the patient's area");
        else if (strcmp(PQgetvalue(res, 0, 0), "village_committee") != 0 &&
                 strcmp(PQgetvalue(res, 0, 0), "civil_affairs") != 0)
            jf_errors_add(e, "agency_id",
                          "a social guardian is appointed by the village committee or civil "
                          "affairs");
    }
    PQclear(res);
    return rc;
}

static int create(jf_req *req)
{
    static const char *const allowed[] = {"kind",
                                          "name",
                                          "relation",
                                          "id_number",
                                          "phone",
                                          "address",
                                          "capacity",
                                          "agreement_signed_on",
                                          "responsibility_notice_on",
                                          "agency_id",
                                          NULL};
    jf_errors e = {0};
    jf_patient_row row;
    const char *kind, *name, *relation, *phone, *address, *capacity, *signed_on, *notice_on;
    char phone_masked[24];
    long long agency = 0;
    int has_id;
    jf_idcard id;
    jf_pii_id pii;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    const char *version = NULL;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 64 * 1024);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    kind = jf_body_code(req, &e, "kind", true, kinds);
    name = jf_body_str(req, &e, "name", true, 1, 32);
    relation = jf_body_code(req, &e, "relation", true, relations);
    capacity = jf_body_code(req, &e, "capacity", true, capacities);
    phone = jf_body_str(req, &e, "phone", false, 5, 20);
    address = jf_body_str(req, &e, "address", false, 1, 128);
    signed_on = jf_body_date(req, &e, "agreement_signed_on", false);
    notice_on = jf_body_date(req, &e, "responsibility_notice_on", false);
    jf_body_int(req, &e, "agency_id", false, 1, INT64_MAX, &agency);
    if (phone != NULL && !phone_ok(phone))
        jf_errors_add(&e, "phone", "must be 5-20 digits, '+' or '-'");
    if (kind != NULL && strcmp(kind, "social") == 0 && agency == 0)
        jf_errors_add(&e, "agency_id", "is required for a social guardian");
    if (kind != NULL && strcmp(kind, "social") != 0 && jf_body_has(req, "agency_id"))
        jf_errors_add(&e, "agency_id", "only applies to a social guardian");
    has_id = jf_record_read_id_number(req, &e, false, NULL, &id);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (has_id == 1 && jf_pii_protect(&req->app->cfg, id.number, &pii) != 0)
        return JF_ERR_CRYPTO;
    jf_mask_phone(phone, phone_masked, sizeof(phone_masked));

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (row.status == JF_PS_DECEASED || row.status == JF_PS_DEREGISTERED ||
        row.status == JF_PS_RULED_OUT)
        return jf_resp_problem(req, 409, "record-closed", "Record closed",
                               "the patient's record is closed", NULL, NULL);
    if (agency > 0 && (rc = check_appointing(req, conn, &e, agency, row.org_path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    const char *p[] = {row.id,
                       kind,
                       name,
                       relation,
                       has_id == 1 ? pii.cipher : NULL,
                       has_id == 1 ? pii.index : NULL,
                       has_id == 1 ? pii.masked : NULL,
                       phone,
                       phone ? phone_masked : NULL,
                       address,
                       capacity,
                       signed_on,
                       notice_on,
                       agency > 0 ? jf_res_id(req, agency) : NULL};
    if (rc == 0)
        rc = jf_db_exec(conn, &guardian_insert, 14, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Primary guardian exists",
                             "the patient already has an active primary guardian; end it or "
                             "add an assistant",
                             "kind", "a primary guardian is already active");
        goto out;
    }
    if (rc != 0)
        goto out;
    const char *gid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = jf_record_recompute(JF_ACTOR(req), conn, row.id); /* weak_guardian may clear */
    jf_audit_entry a = {.action = "guardian.create",
                        .target_type = "patient",
                        .target_id = row.id,
                        .org_unit_id = row.org_unit_id,
                        .detail_json = jf_arena_printf(&req->arena, "{\"guardian_id\":%s}", gid)};
    if (rc == 0)
        rc = jf_audit_record(conn, req, &a);
    if (rc == 0)
        rc = guardian_doc(req, conn, row.id, gid, &out, &version);
    if (rc == 0)
        rc = jf_idem_finish(
            req, conn, &idem, 201,
            jf_arena_printf(&req->arena, "/api/v1/patients/%s/guardians/%s", row.id, gid),
            out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_guardian(req, row.id, gid, 201, &out, version);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static int patch(jf_req *req)
{
    static const char *const allowed[] = {"kind",
                                          "name",
                                          "relation",
                                          "phone",
                                          "address",
                                          "capacity",
                                          "agreement_signed_on",
                                          "responsibility_notice_on",
                                          "active",
                                          NULL};
    jf_errors e = {0};
    jf_patient_row row;
    long long want, gid = jf_req_param_id(req, 1);
    const char *kind, *name, *relation, *phone, *address, *capacity, *signed_on, *notice_on;
    char phone_masked[24];
    const char *version = NULL;
    jf_buf out;
    bool active = true;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (gid == 0)
        return jf_resp_not_found(req);
    jf_buf_init(&out, 64 * 1024);
    if ((rc = jf_res_if_match(req, &want)) != 0)
        return rc;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    kind = jf_body_code(req, &e, "kind", false, kinds);
    name = jf_body_str(req, &e, "name", false, 1, 32);
    relation = jf_body_code(req, &e, "relation", false, relations);
    capacity = jf_body_code(req, &e, "capacity", false, capacities);
    phone = jf_body_str(req, &e, "phone", false, 5, 20);
    address = jf_body_str(req, &e, "address", false, 1, 128);
    signed_on = jf_body_date(req, &e, "agreement_signed_on", false);
    notice_on = jf_body_date(req, &e, "responsibility_notice_on", false);
    jf_body_bool(req, &e, "active", false, &active);
    if (phone != NULL && !phone_ok(phone))
        jf_errors_add(&e, "phone", "must be 5-20 digits, '+' or '-'");
    if (jf_body_has(req, "active") && active)
        jf_errors_add(&e, "active", "a guardian is ended with false; add a new one instead");
    if (kind != NULL && strcmp(kind, "social") == 0)
        jf_errors_add(&e, "kind", "a social guardian is appointed as a new guardian");
    for (const char *const *f =
             (const char *const[]){"kind", "name", "relation", "capacity", "active", NULL};
         *f; f++)
        if (jf_body_null(req, *f))
            jf_errors_add(&e, *f, "cannot be cleared");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_mask_phone(phone, phone_masked, sizeof(phone_masked));

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    const char *hp[] = {jf_req_param(req, 1), row.id};
    rc = jf_db_exec(conn, &guardian_head, 2, hp, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if (strtoll(PQgetvalue(res, 0, 0), NULL, 10) != want) {
        jf_res_etag(req, PQgetvalue(res, 0, 0));
        rc = jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                             "the guardian changed since you read it; reload and retry", "If-Match",
                             "does not match the current version");
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        rc = jf_resp_problem(req, 409, "record-closed", "Guardian ended",
                             "an ended guardian is kept as history and not changed", NULL, NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_begin(conn);
    const char *p[] = {jf_req_param(req, 1),
                       jf_res_id(req, want),
                       kind,
                       name,
                       relation,
                       jf_res_tf(jf_body_has(req, "phone")),
                       phone,
                       phone ? phone_masked : NULL,
                       jf_res_tf(jf_body_has(req, "address")),
                       address,
                       capacity,
                       jf_res_tf(jf_body_has(req, "agreement_signed_on")),
                       signed_on,
                       jf_res_tf(jf_body_has(req, "responsibility_notice_on")),
                       notice_on,
                       jf_res_tf(jf_body_has(req, "active") && !active)};
    if (rc == 0)
        rc = jf_db_exec(conn, &guardian_update, 16, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Primary guardian exists",
                             "the patient already has an active primary guardian", "kind",
                             "a primary guardian is already active");
        goto out;
    }
    if (rc == 0 && PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                             "the guardian changed since you read it; reload and retry", "If-Match",
                             "does not match the current version");
        goto out;
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0) {
        rc = jf_record_audit(
            req, conn, &row, "guardian.update",
            jf_arena_printf(&req->arena, "{\"guardian_id\":%s}", jf_req_param(req, 1)));
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = guardian_doc(req, conn, row.id, jf_req_param(req, 1), &out, &version);
    if (rc == 0)
        rc = send_guardian(req, row.id, jf_req_param(req, 1), 200, &out, version);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* GET /worklists/guardian-gaps: who needs a (social) guardian appointed,
 * in the caller's area or a unit of it, of one doctor or all. */
static int guardian_gaps(jf_req *req)
{
    return jf_res_area_page(req, &gaps);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/guardians", list, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients/{id}/guardians", create, JF_ROUTE_AUTH, JF_CAP_GUARDIAN_WRITE},
    {"PATCH", "/api/v1/patients/{id}/guardians/{guardian_id}", patch, JF_ROUTE_AUTH,
     JF_CAP_GUARDIAN_WRITE},
    {"GET", "/api/v1/worklists/guardian-gaps", guardian_gaps, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
};

int jf_res_guardians_init(void)
{
    jf_stmt *const s[] = {&guardians_list,  &guardian_one,      &guardian_head, &guardian_insert,
                          &guardian_update, &appointing_agency, &gaps};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
