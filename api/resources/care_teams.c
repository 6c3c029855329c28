/* Care team (五包一 / 关爱帮扶小组) of a patient: guardian, village cadre,
 * mental-health doctor, police officer and grid worker, each a user or a
 * named person with a phone; and the worklist of patients whose team (for
 * key patients) or guardian is incomplete. Members are ended, never
 * deleted. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/mask.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The team of patient $1, phones in full when $2. */
static jf_stmt team = {
    "care_team",
    "SELECT json_build_object('patient_id', p.id,"
    " 'members', coalesce((SELECT json_agg(json_build_object('id', m.id, 'role', m.role,"
    "  'user_id', m.user_id, 'name', m.name,"
    "  'phone', CASE WHEN $2 THEN m.phone ELSE m.phone_masked END,"
    "  'version', m.version, 'created_at', m.created_at, 'updated_at', m.updated_at)"
    "  ORDER BY array_position(ARRAY['guardian', 'village_cadre', 'doctor', 'police',"
    "  'grid_worker'], m.role)) FROM care_team_members m WHERE m.patient_id = p.id AND m.active),"
    "  '[]'),"
    " 'missing', to_json(t.missing), 'complete', cardinality(t.missing) = 0,"
    " 'required', care_team_required(p.key_flags, p.colour))::text"
    " FROM patients p CROSS JOIN LATERAL (SELECT care_team_missing(p.id) AS missing) t"
    " WHERE p.id = $1",
    0,
};
static jf_stmt member_user = {
    "care_team_user",
    "SELECT u.display_name, u.phone, u.role, u.active, o.path FROM users u"
    " JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1",
    0,
};
static jf_stmt member_end = {
    "care_team_end",
    "UPDATE care_team_members SET active = false, ended_on = current_date,"
    " version = version + 1, updated_at = now()"
    " WHERE patient_id = $1 AND role = $2 AND active RETURNING id",
    0,
};
static jf_stmt member_insert = {
    "care_team_insert",
    "INSERT INTO care_team_members (patient_id, role, user_id, name, phone, phone_masked)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    0,
};
/* Patients on the register that are key patients with an incomplete team,
 * or lack an active guardian of adequate capacity (as the guardian gaps);
 * $7 narrows to one responsible doctor. */
static jf_stmt gaps = {
    "care_gaps",
    "SELECT p.id, p.org_path, json_build_object('patient_id', p.id, 'name', p.name,"
    " 'status', p.status, 'org_unit_id', p.org_unit_id, 'org_unit_name', o.name,"
    " 'colour', CASE WHEN $5 THEN p.colour END,"
    " 'missing', CASE WHEN k.required THEN to_json(k.missing) ELSE '[]'::json END,"
    " 'guardian_gap', g.capable = 0)::text"
    " FROM patients p JOIN org_units o ON o.id = p.org_unit_id"
    " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE capacity = 'adequate') AS capable"
    "  FROM guardians WHERE patient_id = p.id AND active) g"
    " CROSS JOIN LATERAL (SELECT care_team_required(p.key_flags, p.colour) AS required,"
    "  care_team_missing(p.id) AS missing) k"
    " WHERE p.org_path >= $1 AND p.org_path < $2 AND (p.org_path, p.id) > (greatest($3::text "
    "COLLATE \"C\", $1), $4::bigint)"
    " AND on_register(p.status)"
    " AND (g.capable = 0 OR (k.required AND cardinality(k.missing) > 0))"
    " AND ($7::bigint IS NULL OR p.doctor_id = $7) ORDER BY p.org_path, p.id LIMIT $6",
    0,
};

static const char *const roles[] = {"guardian", "village_cadre", "doctor",
                                    "police",   "grid_worker",   NULL};

static bool phone_ok(const char *s)
{
    return strspn(s, "0123456789+-") == strlen(s);
}

/* The role path parameter (1), or NULL when it names no team role. */
static const char *path_role(const jf_req *req)
{
    const char *r = jf_req_param(req, 1);

    return r != NULL && jf_in_set(r, roles) ? r : NULL;
}

static int send_team(jf_req *req, jf_db_conn *conn, const char *pid)
{
    const char *p[] = {pid, jf_res_tf(jf_record_view(req).phone_full)};

    return jf_res_send_row(req, conn, &team, 2, p, 200);
}

static bool record_closed(const jf_patient_row *row)
{
    return row->status == JF_PS_DECEASED || row->status == JF_PS_DEREGISTERED ||
           row->status == JF_PS_RULED_OUT;
}

static int closed_problem(jf_req *req)
{
    return jf_resp_problem(req, 409, "record-closed", "Record closed",
                           "the patient's record is closed", NULL, NULL);
}

/* GET /patients/{id}/care-team */
static int get_team(jf_req *req)
{
    jf_patient_row row;
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    jf_audit_entry a = {.action = "patient.care_team",
                        .target_type = "patient",
                        .target_id = row.id,
                        .org_unit_id = row.org_unit_id};
    if ((rc = jf_audit_record(conn, req, &a)) != 0)
        return rc;
    return send_team(req, conn, row.id);
}

/* Check the user who is to be the member: active, a person serving the
 * patient's area, with the matching user role for doctor, police and grid
 * worker. Sets *name and *phone from the user. */
static int check_user(jf_req *req, jf_db_conn *conn, jf_errors *e, long long uid, const char *role,
                      const char *patient_path, const char **name, const char **phone)
{
    PGresult *res = NULL;
    const char *p[] = {jf_res_id(req, uid)};
    int rc = jf_db_exec(conn, &member_user, 1, p, &res);

    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 3), "t") != 0 ||
        strcmp(PQgetvalue(res, 0, 2), "service") == 0)
        jf_errors_add(e, "user_id", "no such active user");
    else if ((strcmp(role, "doctor") == 0 || strcmp(role, "police") == 0 ||
              strcmp(role, "grid_worker") == 0) &&
             strcmp(PQgetvalue(res, 0, 2), role) != 0)
        jf_errors_add(e, "user_id", "the user's role must be %s", role);
    else if (!jf_scope_contains(PQgetvalue(res, 0, 4), patient_path))
        jf_errors_add(e, "user_id", "the user does not serve the patient's area");
    else {
        *name = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        *phone =
            PQgetisnull(res, 0, 1) ? NULL : jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return 0;
}

/* PUT /patients/{id}/care-team/{role}: set the member, ending the old one. */
static int put_member(jf_req *req)
{
    static const char *const allowed[] = {"user_id", "name", "phone", NULL};
    const char *role = path_role(req), *name, *phone, *old_id = NULL;
    jf_errors e = {0};
    jf_patient_row row;
    long long uid = 0;
    char phone_masked[24];
    jf_db_conn *conn = NULL;
    PGresult *res = NULL;
    int rc;

    if (role == NULL)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "user_id", false, 1, INT64_MAX, &uid);
    name = jf_body_str(req, &e, "name", false, 1, 32);
    phone = jf_body_str(req, &e, "phone", false, 5, 20);
    if (phone != NULL && !phone_ok(phone))
        jf_errors_add(&e, "phone", "must be 5-20 digits, '+' or '-'");
    if (jf_body_has(req, "user_id")) {
        if (jf_body_has(req, "name"))
            jf_errors_add(&e, "name", "a user member takes the user's name");
        if (jf_body_has(req, "phone"))
            jf_errors_add(&e, "phone", "a user member takes the user's phone");
    } else {
        if (!jf_body_has(req, "name"))
            jf_errors_add(&e, "name", "is required unless user_id is given");
        if (!jf_body_has(req, "phone"))
            jf_errors_add(&e, "phone", "is required unless user_id is given");
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (record_closed(&row))
        return closed_problem(req);
    if (uid > 0) {
        if ((rc = check_user(req, conn, &e, uid, role, row.org_path, &name, &phone)) != 0)
            return rc;
        if (jf_errors_any(&e))
            return jf_errors_respond(req, &e);
    }
    jf_mask_phone(phone, phone_masked, sizeof(phone_masked));
    rc = jf_db_begin(conn);
    const char *ep[] = {row.id, role};
    if (rc == 0)
        rc = jf_db_exec(conn, &member_end, 2, ep, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) > 0)
        old_id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    const char *p[] = {row.id, role,  uid > 0 ? jf_res_id(req, uid) : NULL,
                       name,   phone, phone ? phone_masked : NULL};
    rc = jf_db_exec(conn, &member_insert, 6, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Member changed",
                             "the member of this role changed meanwhile; reload and retry", NULL,
                             NULL);
        goto out;
    }
    if (rc != 0)
        goto out;
    rc = jf_record_audit(req, conn, &row, "care_team.set",
                         jf_arena_printf(&req->arena,
                                         "{\"role\":\"%s\",\"member_id\":%s,\"replaced_id\":%s}",
                                         role, PQgetvalue(res, 0, 0), old_id ? old_id : "null"));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_team(req, conn, row.id);
out:
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/care-team/{role}/end: end the active member. */
static int end_member(jf_req *req)
{
    const char *role = path_role(req);
    jf_patient_row row;
    jf_db_conn *conn = NULL;
    PGresult *res = NULL;
    int rc;

    if (role == NULL)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (record_closed(&row))
        return closed_problem(req);
    rc = jf_db_begin(conn);
    const char *ep[] = {row.id, role};
    if (rc == 0)
        rc = jf_db_exec(conn, &member_end, 2, ep, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 404, "not-found", "No such member",
                             "the patient has no active member in this role", NULL, NULL);
        goto out;
    }
    rc = jf_record_audit(req, conn, &row, "care_team.end",
                         jf_arena_printf(&req->arena, "{\"role\":\"%s\",\"member_id\":%s}", role,
                                         PQgetvalue(res, 0, 0)));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_team(req, conn, row.id);
out:
    PQclear(res);
    return rc;
}

/* GET /worklists/care-gaps */
static int care_gaps(jf_req *req)
{
    return jf_res_area_page(req, &gaps);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/care-team", get_team, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"PUT", "/api/v1/patients/{id}/care-team/{role}", put_member, JF_ROUTE_AUTH,
     JF_CAP_GUARDIAN_WRITE},
    {"POST", "/api/v1/patients/{id}/care-team/{role}/end", end_member, JF_ROUTE_AUTH,
     JF_CAP_GUARDIAN_WRITE},
    {"GET", "/api/v1/worklists/care-gaps", care_gaps, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
};

int jf_res_care_teams_init(void)
{
    jf_stmt *const s[] = {&team, &member_user, &member_end, &member_insert, &gaps};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
