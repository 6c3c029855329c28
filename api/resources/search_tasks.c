/* Search tasks for lost patients (查找, DOMAIN.md "Lost to follow-up"): the
 * police station and the 平安办 look for the patient together, with dated
 * notes, until the patient is found (seen in person, or the whereabouts
 * confirmed by the police) or a decision closes the task. The database
 * opens and closes tasks with the patient's status events (migration
 * 0034); these routes read them, add notes and close by hand. */
#include "common.h"
#include "episodes.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/search.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdlib.h>
#include <string.h>

/* A task with its patient, assigned agencies and notes (newest first). */
#define TASK_JSON                                                                                  \
    "json_build_object('id', t.id, 'patient_id', t.patient_id, 'patient_name', p.name,"            \
    " 'patient_status', p.status, 'org_unit_id', p.org_unit_id, 'org_unit_name',"                  \
    " (SELECT name FROM org_units WHERE id = p.org_unit_id), 'opened_on', t.opened_on,"            \
    " 'opened_reason', t.opened_reason, 'police_agency', (SELECT json_build_object('id', a.id,"    \
    " 'name', a.name) FROM agencies a WHERE a.id = t.police_agency_id), 'stability_agency',"       \
    " (SELECT json_build_object('id', a.id, 'name', a.name) FROM agencies a"                       \
    " WHERE a.id = t.stability_agency_id), 'state', t.state, 'outcome', t.outcome, 'found_by',"    \
    " t.found_by, 'closed_on', t.closed_on, 'close_reason', t.close_reason, 'closed_by',"          \
    " t.closed_by, 'closed_at', t.closed_at, 'notes', coalesce((SELECT json_agg("                  \
    "json_build_object('id', n.id, 'noted_on', n.noted_on, 'text', n.text, 'user_id', n.user_id,"  \
    " 'user_name', u.display_name, 'agency_id', n.agency_id, 'agency_name', g.name,"               \
    " 'created_at', n.created_at) ORDER BY n.noted_on DESC, n.id DESC) FROM search_task_notes n"   \
    " JOIN users u ON u.id = n.user_id LEFT JOIN agencies g ON g.id = n.agency_id"                 \
    " WHERE n.task_id = t.id), '[]'))"

/* $1..$2 the scope's path range, $3 after id, $4 state, $5 limit. */
static jf_stmt task_list = {
    "search_task_list",
    "SELECT t.id, " TASK_JSON "::text FROM search_tasks t JOIN patients p ON p.id = t.patient_id"
    " WHERE p.org_path >= $1 AND p.org_path < $2 AND t.id > $3::bigint"
    " AND ($4::text IS NULL OR t.state = $4) ORDER BY t.id LIMIT $5",
    0,
};
/* The head of task $1: its patient's path and unit, state, and the
 * evidence that the patient was found since it opened. */
static jf_stmt task_head = {
    "search_task_head",
    "SELECT p.org_path, p.org_unit_id, t.patient_id, t.state = 'open',"
    " EXISTS (SELECT FROM follow_ups f WHERE f.patient_id = t.patient_id AND f.reached"
    "  AND f.mode IN ('clinic', 'home') AND coalesce(f.informant, 'patient') = 'patient'"
    "  AND f.visit_date >= t.opened_on),"
    " EXISTS (SELECT FROM patient_events e WHERE e.patient_id = t.patient_id"
    "  AND e.kind = 'status' AND e.detail ? 'whereabouts_confirmed'"
    "  AND e.event_date >= t.opened_on), t.opened_on"
    " FROM search_tasks t JOIN patients p ON p.id = t.patient_id WHERE t.id = $1",
    0,
};
enum { H_PATH, H_UNIT, H_PATIENT, H_OPEN, H_SEEN, H_POLICE, H_OPENED };
static jf_stmt task_lock = {"search_task_lock",
                            "SELECT 1 FROM search_tasks WHERE id = $1 FOR UPDATE", 0};
static jf_stmt task_one = {
    "search_task_one",
    "SELECT " TASK_JSON "::text FROM search_tasks t JOIN patients p ON p.id = t.patient_id"
    " WHERE t.id = $1",
    0,
};
static jf_stmt task_of_patient = {
    "search_task_of_patient",
    "SELECT coalesce(json_agg(" TASK_JSON " ORDER BY t.id DESC), '[]')::text"
    " FROM search_tasks t JOIN patients p ON p.id = t.patient_id WHERE t.patient_id = $1",
    0,
};
static jf_stmt note_insert = {
    "search_task_note_insert",
    "INSERT INTO search_task_notes (task_id, noted_on, text, user_id, agency_id)"
    " VALUES ($1, $2::date, $3, $4, $5) RETURNING id",
    0,
};
/* $2 outcome, $3 found_by, $4 date, $5 reason, $6 user. */
static jf_stmt task_close = {
    "search_task_close",
    "UPDATE search_tasks SET state = 'closed', outcome = $2, found_by = $3, closed_on = $4::date,"
    " close_reason = $5, closed_by = $6, closed_at = now() WHERE id = $1 AND state = 'open'",
    0,
};

/* 403 unless the caller's role takes part in searches (allowed). */
static int role_gate(jf_req *req, bool (*allowed)(jf_role), const char *why)
{
    if (allowed(jf_role_parse(req->claims.role)))
        return 0;
    jf_resp_forbidden(req, why);
    return JF_ERR_AUTH;
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

/* Load the head of task {id} (path parameter 0), locked first when lock,
 * and check the caller's area holds its patient: 0 with *head set, 404
 * sent (for a task outside the area, as for one that does not exist). */
static int load_head(jf_req *req, jf_db_conn *conn, bool lock, PGresult **head)
{
    const char *p[] = {jf_req_param(req, 0)};
    int rc = 0;

    *head = NULL;
    if (jf_req_param_id(req, 0) == 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    if (lock) {
        rc = jf_db_exec(conn, &task_lock, 1, p, head);
        PQclear(*head);
        *head = NULL;
    }
    if (rc == 0)
        rc = jf_db_exec(conn, &task_head, 1, p, head);
    if (rc == 0 && (PQntuples(*head) == 0 ||
                    !jf_scope_contains(req->claims.org_path, PQgetvalue(*head, 0, H_PATH)))) {
        jf_resp_not_found(req);
        rc = JF_ERR_NOT_FOUND;
    }
    if (rc != 0) {
        PQclear(*head);
        *head = NULL;
    }
    return rc;
}

static long long unit_of(const PGresult *head)
{
    return strtoll(PQgetvalue(head, 0, H_UNIT), NULL, 10);
}

/* GET /search-tasks?state&org_unit_id&limit&cursor: the tasks of the
 * patients in the caller's area (or a unit of it). */
static int list_tasks(jf_req *req)
{
    static const char *const states[] = {"open", "closed", NULL};
    jf_errors e = {0};
    long long unit, after = 0;
    const char *state = jf_req_query(req, "state"), *path = NULL;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    /* Refused before any error is collected: e owns nothing yet. */
    if ((rc = role_gate(req, jf_search_may_read, "your role does not take part in searches")))
        return rc;
    unit = jf_query_id(req, &e, "org_unit_id");
    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (state != NULL && !jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be open or closed");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (unit <= 0)
        unit = req->claims.org_unit_id;
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (path == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {path, jf_res_path_upper(req, path), jf_res_id(req, after), state,
                       jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &task_list, 5, p, &res);
    if (rc == 0)
        rc = audit(req, conn, "search_task.list", "org_unit", jf_res_id(req, unit), unit,
                   state ? jf_arena_printf(&req->arena, "{\"state\":\"%s\"}", state) : NULL);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* GET /search-tasks/{id} */
static int get_task(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *head = NULL;
    int rc;

    if ((rc = role_gate(req, jf_search_may_read, "your role does not take part in searches")))
        return rc;
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_head(req, conn, false, &head)) != 0)
        return rc;
    rc = audit(req, conn, "search_task.read", "search_task", jf_req_param(req, 0), unit_of(head),
               NULL);
    PQclear(head);
    if (rc != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0)};
    return jf_res_send_row(req, conn, &task_one, 1, p, 200);
}

/* The end of a write inside the open transaction when it went well (rc
 * 0): the task's document kept for the Idempotency-Key, the commit, the
 * answer with status. */
static int answer_task(jf_req *req, jf_db_conn *conn, const jf_idem *idem, int status, int rc)
{
    const char *p[] = {jf_req_param(req, 0)};

    return rc != 0 ? rc : jf_idem_commit_row(req, conn, idem, status, &task_one, 1, p);
}

/* POST /search-tasks/{id}/notes {noted_on, text}: a dated note of the
 * search (who went where, whom they asked), open or closed. */
static int add_note(jf_req *req)
{
    static const char *const allowed[] = {"noted_on", "text", NULL};
    jf_errors e = {0};
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    int rc;

    if ((rc = role_gate(req, jf_search_may_note, "your role does not take part in searches")))
        return rc;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "noted_on", true);
    const char *text = jf_body_str(req, &e, "text", true, 1, 1000);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_head(req, conn, false, &head)) != 0)
        return rc;
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    if (strcmp(on, PQgetvalue(head, 0, H_OPENED)) < 0) {
        jf_errors_add(&e, "noted_on", "must not be before the task was opened (%s)",
                      PQgetvalue(head, 0, H_OPENED));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *p[] = {jf_req_param(req, 0), on, text, jf_res_id(req, req->claims.user_id),
                       req->claims.agency_id > 0 ? jf_res_id(req, req->claims.agency_id) : NULL};
    rc = jf_db_exec(conn, &note_insert, 5, p, &res);
    if (rc == 0)
        rc =
            audit(req, conn, "search_task.note", "search_task", jf_req_param(req, 0), unit_of(head),
                  jf_arena_printf(&req->arena, "{\"note_id\":%s}", PQgetvalue(res, 0, 0)));
    rc = answer_task(req, conn, &idem, 201, rc);
out:
    PQclear(res);
    PQclear(head);
    return rc;
}

/* POST /search-tasks/{id}/close {outcome, closed_on, reason}: found (when
 * the records show it: seen in person or confirmed by the police since
 * the task opened) or a decision with its reason. */
static int close_task(jf_req *req)
{
    static const char *const allowed[] = {"outcome", "closed_on", "reason", NULL};
    static const char *const outcomes[] = {"found",        "deceased", "moved_away", "detained",
                                           "deregistered", "other",    NULL};
    jf_errors e = {0};
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *head = NULL, *res = NULL;
    int rc;

    if ((rc = role_gate(req, jf_search_may_close,
                        "only an official (平安办, township) or the police close a search")))
        return rc;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *outcome = jf_body_code(req, &e, "outcome", true, outcomes);
    const char *on = jf_body_date(req, &e, "closed_on", true);
    const char *reason = jf_body_str(req, &e, "reason", false, 1, 500);
    if (outcome != NULL && strcmp(outcome, "found") != 0 && reason == NULL &&
        !json_object_get(req->body, "reason"))
        jf_errors_add(&e, "reason", "is required for a decision");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW ||
        (rc = load_head(req, conn, true, &head)) != 0)
        return rc;
    bool seen = strcmp(PQgetvalue(head, 0, H_SEEN), "t") == 0;
    bool police = strcmp(PQgetvalue(head, 0, H_POLICE), "t") == 0;
    const char *why = jf_search_close_refusal(strcmp(PQgetvalue(head, 0, H_OPEN), "t") == 0,
                                              outcome, seen, police);
    if (why != NULL) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Search not closed", why,
                             strcmp(PQgetvalue(head, 0, H_OPEN), "t") ? "state" : "outcome", why);
        goto out;
    }
    if (strcmp(on, PQgetvalue(head, 0, H_OPENED)) < 0) {
        jf_errors_add(&e, "closed_on", "must not be before the task was opened (%s)",
                      PQgetvalue(head, 0, H_OPENED));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *found_by = strcmp(outcome, "found") ? NULL
                           : police                 ? "police_confirmed"
                                                    : "seen_in_person";
    const char *p[] = {
        jf_req_param(req, 0), outcome, found_by, on, reason, jf_res_id(req, req->claims.user_id)};
    rc = jf_db_exec(conn, &task_close, 6, p, &res);
    if (rc == 0)
        rc = audit(req, conn, "search_task.close", "search_task", jf_req_param(req, 0),
                   unit_of(head), jf_arena_printf(&req->arena, "{\"outcome\":\"%s\"}", outcome));
    rc = answer_task(req, conn, &idem, 200, rc);
out:
    PQclear(res);
    PQclear(head);
    return rc;
}

/* GET /patients/{id}/search-tasks: the patient's tasks, newest first. */
static int patient_tasks(jf_req *req)
{
    int rc = role_gate(req, jf_search_may_read, "your role does not take part in searches");

    return rc ? rc : jf_episode_list(req, &task_of_patient, "search_tasks");
}

static const jf_route routes[] = {
    /* The handlers narrow the roles (domain/search.c). */
    {"GET", "/api/v1/search-tasks", list_tasks, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/search-tasks/{id}", get_task, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/search-tasks/{id}/notes", add_note, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/search-tasks/{id}/close", close_task, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/patients/{id}/search-tasks", patient_tasks, JF_ROUTE_AUTH,
     JF_CAP_PATIENT_READ},
};

int jf_res_search_tasks_init(void)
{
    jf_stmt *const s[] = {&task_list,       &task_head,   &task_lock, &task_one,
                          &task_of_patient, &note_insert, &task_close};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
