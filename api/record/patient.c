/* The patient record: loaded in the caller's scope, read through the
 * caller's role view, and its dated events. */
#include "patient.h"
#include "patient_doc.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/pii.h"
#include "../domain/date.h"
#include "../http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jf_stmt patient_head = {
    "patient_head",
    "SELECT status, version, org_unit_id, org_path, id_index IS NOT NULL FROM patients"
    " WHERE id = $1",
    0,
};
static jf_stmt patient_doc = {
    "patient_doc",
    "SELECT " JF_PATIENT_DOC_SQL ", p.version FROM patients p WHERE p.id = $2",
    0,
};
/* The receiving side of a pending transfer sees the patient too. */
/* The areas that read a patient besides where they live: the receiving side
 * of a pending transfer (双管控), and the township of the 户籍地 when it is
 * another of the system's (双列管, seed 001: 以居住地为主、户籍地为辅). */
static jf_stmt incoming_path = {
    "patient_incoming_path",
    "SELECT o.path FROM transfers t JOIN org_units o ON o.id = t.to_unit_id"
    " WHERE t.patient_id = $1 AND t.state = 'pending'"
    " UNION ALL SELECT h.path FROM patients p CROSS JOIN LATERAL hukou_path(p.hukou_area_code) "
    "h(path)"
    " WHERE p.id = $1 AND h.path IS NOT NULL",
    0,
};
static jf_stmt patient_event = {
    "patient_event",
    "INSERT INTO patient_events (patient_id, kind, event_date, from_status, to_status, reason,"
    " death_cause, detail, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
    0,
};
static jf_stmt residence_unit = {"patient_residence_unit",
                                 "SELECT path, level FROM org_units WHERE id = $1", 0};
static jf_stmt patient_by_index = {"patient_by_index",
                                   "SELECT id, org_path FROM patients WHERE id_index = $1", 0};

/* Only from the status the caller saw: a concurrent change is a conflict. */
static jf_stmt move = {"record_move",
                       "UPDATE patients SET status = $2, version = version + 1, updated_at = now()"
                       " WHERE id = $1 AND status = $3 RETURNING id",
                       0};

int jf_record_patient_init(void)
{
    jf_stmt *const s[] = {
        &patient_head,  &patient_doc, &residence_unit, &patient_by_index, &patient_event,
        &incoming_path, &move};

    return jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

jf_patient_view jf_record_view(const jf_req *req)
{
    return jf_view_for_role(jf_role_parse(req->claims.role));
}

int jf_record_load(jf_req *req, jf_db_conn *conn, jf_access access, jf_patient_row *row)
{
    long long id = jf_req_param_id(req, 0);
    PGresult *res = NULL;
    int rc;

    if (id == 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    const char *p[] = {jf_req_param(req, 0)};
    rc = jf_db_exec(conn, &patient_head, 1, p, &res);
    if (rc == 0 && PQntuples(res) == 0) {
        rc = JF_ERR_NOT_FOUND;
        jf_resp_not_found(req);
    } else if (rc == 0) {
        jf_scope_verdict v = jf_scope_check(&req->claims, PQgetvalue(res, 0, 3), access);
        if (v == JF_SCOPE_HIDDEN && access == JF_ACCESS_READ) {
            /* 双管控: until a transfer is decided, the receiving side reads
             * too; 双列管: the township of the 户籍地 reads. */
            PGresult *t = NULL;
            if (jf_db_exec(conn, &incoming_path, 1, p, &t) == 0)
                for (int i = 0; i < PQntuples(t) && v != JF_SCOPE_OK; i++)
                    if (jf_scope_contains(req->claims.org_path, PQgetvalue(t, i, 0)))
                        v = JF_SCOPE_OK;
            PQclear(t);
        }
        switch (v) {
        case JF_SCOPE_OK:
            row->id = jf_arena_strdup(&req->arena, jf_req_param(req, 0));
            row->status = jf_pstatus_parse(PQgetvalue(res, 0, 0));
            row->version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
            row->org_unit_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
            row->org_path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 3));
            row->has_id_number = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
            break;
        case JF_SCOPE_HIDDEN:
            rc = JF_ERR_NOT_FOUND;
            jf_resp_not_found(req);
            break;
        case JF_SCOPE_FORBIDDEN:
            rc = JF_ERR_AUTH;
            jf_resp_forbidden(req, "your role may not change this record");
            break;
        }
    }
    PQclear(res);
    return rc;
}

int jf_record_append(jf_req *req, jf_buf *out, const char *doc, size_t len, const char *cipher_hex,
                     jf_patient_view v)
{
    char id18[19];

    if (!v.id_full || cipher_hex == NULL || *cipher_hex == '\0' || len < 2)
        return jf_buf_append(out, doc, len);
    if (jf_pii_reveal(&req->app->cfg, cipher_hex, id18) != 0)
        return JF_ERR_CRYPTO;
    /* doc is a JSON object: put the number in before its closing brace. */
    if (jf_buf_append(out, doc, len - 1) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_buf_printf(out, ",\"id_number\":\"%s\"}", id18);
}

int jf_record_doc(jf_req *req, jf_db_conn *conn, const char *id, jf_buf *out, char version[16])
{
    PGresult *res = NULL;
    jf_patient_view v = jf_record_view(req);
    int rc = jf_db_exec(conn, &patient_doc, 2,
                        (const char *const[]){v.phone_full ? "true" : "false", id}, &res);

    if (rc == 0 && PQntuples(res) == 0)
        rc = JF_ERR_NOT_FOUND;
    if (rc == 0) {
        snprintf(version, 16, "%s", PQgetvalue(res, 0, jf_patient_doc_ncols));
        rc = jf_patient_doc_append(req, out, res, 0, 0, v);
    }
    PQclear(res);
    return rc;
}

int jf_record_residence_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field,
                             long long unit_id, const char **path)
{
    PGresult *res = NULL;
    const char *p[] = {jf_arena_printf(&req->arena, "%lld", unit_id)};
    int rc = jf_db_exec(conn, &residence_unit, 1, p, &res);

    *path = NULL;
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0 ||
        jf_scope_check(&req->claims, PQgetvalue(res, 0, 0), JF_ACCESS_WRITE) != JF_SCOPE_OK)
        jf_errors_add(e, field, "no such org unit in your area");
    else if (strcmp(PQgetvalue(res, 0, 1), "village") != 0 &&
             strcmp(PQgetvalue(res, 0, 1), "grid") != 0)
        jf_errors_add(e, field, "must be a village/community or a grid (the place of residence)");
    else
        *path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int jf_record_area(jf_req *req, jf_db_conn *conn, jf_errors *e, const char *field, long long unit,
                   const char **path)
{
    PGresult *res = NULL;
    int rc;

    *path = NULL;
    if (unit <= 0) {
        *path = req->claims.org_path;
        return 0;
    }
    const char *p[] = {jf_arena_printf(&req->arena, "%lld", unit)};
    rc = jf_db_exec(conn, &residence_unit, 1, p, &res);
    if (rc == 0 && PQntuples(res) == 1 &&
        jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 0)))
        *path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    else if (rc == 0)
        jf_errors_add(e, field, "no such org unit in your area");
    PQclear(res);
    return rc;
}

int jf_record_duplicate(jf_req *req, jf_db_conn *conn, const char *id_index_hex)
{
    PGresult *res = NULL;
    const char *p[] = {id_index_hex};
    int rc = jf_db_exec(conn, &patient_by_index, 1, p, &res);

    if (rc == 0 && PQntuples(res) == 1 &&
        jf_scope_check(&req->claims, PQgetvalue(res, 0, 1), JF_ACCESS_READ) == JF_SCOPE_OK) {
        json_t *errors = json_pack("[{s:s,s:s}]", "field", "id_number", "message",
                                   "a patient with this ID number is already registered");
        jf_resp_header(req, "Location",
                       jf_arena_printf(&req->arena, "/api/v1/patients/%s", PQgetvalue(res, 0, 0)));
        jf_resp_problem_list(req, 409, "duplicate-person", "Already registered",
                             jf_arena_printf(&req->arena, "one person, one record: see patient %s",
                                             PQgetvalue(res, 0, 0)),
                             errors);
    } else if (rc == 0) {
        jf_resp_problem(req, 409, "duplicate-person", "Already registered",
                        "a patient with this ID number is registered outside your area; "
                        "ask the county to transfer the record",
                        "id_number", "is already registered");
    }
    PQclear(res);
    return rc != 0 ? rc : JF_ERR_CONFLICT;
}

/* Parse the ID number field (required or not) and check that gender and
 * birth date, when given, agree with it. Returns 1 with *id set, 0 absent,
 * -1 bad (error added). */
int jf_record_read_id_number(jf_req *req, jf_errors *e, bool required, const jf_pvalues *v,
                             jf_idcard *id)
{
    const char *s = jf_body_str(req, e, "id_number", required, 15, 40);
    const char *gender, *birth;
    jf_idcard_result r;
    char iso[11];

    if (s == NULL) /* absent or null: 0 unless required; bad: jf_body_str said why */
        return required || (jf_body_has(req, "id_number") && !jf_body_null(req, "id_number")) ? -1
                                                                                              : 0;
    r = jf_idcard_parse(s, jf_date_ymd_int(jf_date_today()), id);
    if (r != JF_IDCARD_OK) {
        jf_errors_add(e, "id_number", "%s", jf_idcard_result_str(r));
        return -1;
    }
    gender = v ? jf_pf_get(v, "gender") : NULL;
    birth = v ? jf_pf_get(v, "birth_date") : NULL;
    jf_idcard_birth_iso(id, iso);
    if (gender && strcmp(gender, id->male ? "male" : "female") != 0)
        jf_errors_add(e, "gender", "does not agree with the ID number");
    if (birth && strcmp(birth, iso) != 0)
        jf_errors_add(e, "birth_date", "does not agree with the ID number");
    return 1;
}

int jf_record_move(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, jf_pstatus to,
                   jf_patient_event ev)
{
    PGresult *res = NULL;
    const char *p[] = {row->id, jf_pstatus_name(to), jf_pstatus_name(row->status)};
    int rc = jf_db_exec(conn, &move, 3, p, &res);

    if (rc == 0 && PQntuples(res) == 0) {
        jf_resp_problem(req, 409, "conflict", "Changed meanwhile",
                        "the patient's status changed while you were editing; reload", NULL, NULL);
        rc = JF_ERR_CONFLICT;
    }
    PQclear(res);
    ev.patient_id = row->id;
    ev.kind = ev.kind ? ev.kind : "status";
    ev.from_status = jf_pstatus_name(row->status);
    ev.to_status = jf_pstatus_name(to);
    return rc ? rc : jf_record_event(JF_ACTOR(req), conn, &ev);
}

int jf_record_audit(jf_req *req, jf_db_conn *conn, const jf_patient_row *row, const char *action,
                    const char *detail)
{
    jf_audit_entry a = {.action = action,
                        .target_type = "patient",
                        .target_id = row->id,
                        .org_unit_id = row->org_unit_id,
                        .detail_json = detail};

    return jf_audit_record(conn, req, &a);
}

int jf_record_event(const jf_actor *who, jf_db_conn *conn, const jf_patient_event *ev)
{
    char today[11];
    PGresult *res = NULL;
    int rc;

    jf_date_format(jf_date_today(), today);
    const char *p[] = {ev->patient_id,  ev->kind,        ev->date ? ev->date : today,
                       ev->from_status, ev->to_status,   ev->reason,
                       ev->death_cause, ev->detail_json, jf_actor_id(who, who->user_id)};
    rc = jf_db_exec(conn, &patient_event, 9, p, &res);
    PQclear(res);
    return rc;
}
