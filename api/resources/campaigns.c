/* Campaigns (专项行动, seed 003) and their task breakdown (任务分解表): each
 * task has a lead agency (牵头单位) and responsible agencies (责任单位), and
 * progress (工作开展情况) is due every month by the campaign's report day
 * (the 25th); a month without a report by then is flagged overdue. Admins
 * set campaigns and tasks up; the task's agencies (any of their users) and
 * admins report progress. Everyone in the campaign's area, or above it,
 * reads it. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many responsible agencies per task. */
#define CAMPAIGN_MAX_AGENCIES 32

static jf_stmt insert_c = {
    "campaign_insert",
    "INSERT INTO campaigns (org_unit_id, org_path, name, starts_on, ends_on, report_day,"
    " first_report_month, created_by) VALUES ($1, $2, $3, $4::date, $5::date, $6::int,"
    " $7::date, $8) RETURNING id",
    0,
};
static jf_stmt one_c = {"campaign_one", "SELECT campaign_json($1, $2::date)::text", 0};
static jf_stmt path_c = {
    "campaign_path",
    "SELECT org_path, org_unit_id, to_char(first_report_month, 'YYYY-MM-DD'),"
    " to_char(ends_on, 'YYYY-MM-DD') FROM campaigns WHERE id = $1",
    0,
};
/* $1 caller path: campaigns in the subtree or above it, newest first. */
static jf_stmt list_c = {
    "campaign_list",
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', c.id,"
    " 'org_unit_id', c.org_unit_id, 'name', c.name, 'starts_on', c.starts_on,"
    " 'ends_on', c.ends_on, 'report_day', c.report_day,"
    " 'tasks', (SELECT count(*) FROM campaign_tasks t WHERE t.campaign_id = c.id),"
    " 'overdue', (SELECT count(*) FROM campaign_task_months(c.id, $2::date) m"
    "  WHERE m.state = 'overdue')) ORDER BY c.starts_on DESC, c.id DESC), '[]'))::text"
    " FROM campaigns c WHERE starts_with(c.org_path, $1) OR starts_with($1, c.org_path)",
    0,
};
/* The agencies of ids $2 (bigint[]) that serve the campaign's area at path
 * $1: in it, or above it (the county's centre). */
static jf_stmt agencies_ok = {
    "campaign_agencies_ok",
    "SELECT count(*) FROM agencies a JOIN org_units o ON o.id = a.org_unit_id"
    " WHERE a.id = ANY($2::bigint[]) AND (starts_with(o.path, $1) OR starts_with($1, o.path))",
    0,
};
static jf_stmt insert_t = {
    "campaign_task_insert",
    "INSERT INTO campaign_tasks (campaign_id, seq, action, description, upstream_lead,"
    " lead_agency_id) VALUES ($1, $2::int, $3, $4, $5, $6) RETURNING id",
    0,
};
static jf_stmt insert_ta = {
    "campaign_task_agencies_insert",
    "INSERT INTO campaign_task_agencies (task_id, agency_id)"
    " SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
    0,
};
/* $1 task, $2 campaign: may agency $3 report on it? */
static jf_stmt task_get = {
    "campaign_task_get",
    "SELECT t.lead_agency_id = $3::bigint OR EXISTS (SELECT 1 FROM campaign_task_agencies x"
    " WHERE x.task_id = t.id AND x.agency_id = $3::bigint)"
    " FROM campaign_tasks t WHERE t.id = $1 AND t.campaign_id = $2",
    0,
};
static jf_stmt insert_p = {
    "campaign_progress_insert",
    "INSERT INTO campaign_progress (task_id, period_month, agency_id, content, reported_on,"
    " reported_by) VALUES ($1, $2::date, $3, $4, $5::date, $6)"
    " RETURNING json_build_object('id', id, 'task_id', task_id,"
    " 'month', to_char(period_month, 'YYYY-MM'), 'agency_id', agency_id, 'content', content,"
    " 'reported_on', reported_on, 'reported_by', reported_by, 'created_at', created_at)::text,"
    " id",
    0,
};
static jf_stmt list_p = {
    "campaign_progress_list",
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', p.id,"
    " 'task_id', p.task_id, 'month', to_char(p.period_month, 'YYYY-MM'),"
    " 'agency_id', p.agency_id, 'agency_name', a.name, 'content', p.content,"
    " 'reported_on', p.reported_on, 'reported_by', p.reported_by, 'created_at', p.created_at)"
    " ORDER BY p.period_month DESC, p.id DESC), '[]'))::text"
    " FROM campaign_tasks t LEFT JOIN campaign_progress p ON p.task_id = t.id"
    " LEFT JOIN agencies a ON a.id = p.agency_id WHERE t.id = $1 AND t.campaign_id = $2"
    " HAVING count(t.id) > 0",
    0,
};

static const char *today_s(jf_req *req)
{
    char s[11];

    jf_date_format(jf_date_today(), s);
    return jf_arena_strdup(&req->arena, s);
}

/* A "YYYY-MM" body field: the first of that month, or JF_DATE_NONE. */
static jf_date month_field(const jf_req *req, jf_errors *e, const char *field, bool required)
{
    const char *s = jf_body_str(req, e, field, required, 7, 7);
    char buf[11];
    jf_date d;

    if (s == NULL)
        return JF_DATE_NONE;
    snprintf(buf, sizeof(buf), "%s-01", s);
    if (jf_date_parse(buf, &d) != 0) {
        jf_errors_add(e, field, "must be a month YYYY-MM");
        return JF_DATE_NONE;
    }
    return d;
}

static const char *fmt(jf_req *req, jf_date d)
{
    char s[11];

    jf_date_format(d, s);
    return jf_arena_strdup(&req->arena, s);
}

static int send_campaign(jf_req *req, jf_db_conn *conn, const char *id, int status)
{
    const char *p[] = {id, today_s(req)};

    if (status == 201) {
        jf_resp_header(req, "Location", jf_arena_printf(&req->arena, "/api/v1/campaigns/%s", id));
        jf_res_etag(req, "1");
    }
    return jf_res_send_row(req, conn, &one_c, 2, p, status);
}

/* Load campaign (path param 0) visible to the caller: in their subtree or
 * above it; 404 when it is not.
 * For write, the campaign must lie in the caller's subtree. */
static int campaign_load(jf_req *req, jf_db_conn *conn, bool write, const char **path,
                         long long *unit, jf_date *first, jf_date *ends)
{
    PGresult *res = NULL;
    const char *p[] = {jf_req_param(req, 0)};
    int rc;

    if (jf_req_param_id(req, 0) == 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    rc = jf_db_exec(conn, &path_c, 1, p, &res);
    if (rc == 0 &&
        (PQntuples(res) == 0 ||
         !(jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 0)) ||
           (!write && jf_scope_contains(PQgetvalue(res, 0, 0), req->claims.org_path))))) {
        jf_resp_not_found(req);
        rc = JF_ERR_NOT_FOUND;
    } else if (rc == 0) {
        *path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        if (unit)
            *unit = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        if (first)
            jf_date_parse(PQgetvalue(res, 0, 2), first);
        if (ends)
            jf_date_parse(PQgetvalue(res, 0, 3), ends);
    }
    PQclear(res);
    return rc;
}

/* POST /campaigns {name, org_unit_id?, starts_on, ends_on, report_day?, first_report_month?} */
static int create(jf_req *req)
{
    static const char *const allowed[] = {
        "name", "org_unit_id", "starts_on", "ends_on", "report_day", "first_report_month", NULL};
    jf_errors e = {0};
    long long unit = req->claims.org_unit_id, day = 25;
    jf_date starts = 0, ends = 0, first;
    const char *name, *path = req->claims.org_path, *id;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    name = jf_body_str(req, &e, "name", true, 1, 100);
    jf_body_int(req, &e, "org_unit_id", false, 1, INT64_MAX, &unit);
    const char *s1 = jf_body_any_date(req, &e, "starts_on", true, &starts);
    const char *s2 = jf_body_any_date(req, &e, "ends_on", true, &ends);
    jf_body_int(req, &e, "report_day", false, 1, 28, &day);
    first = month_field(req, &e, "first_report_month", false);
    if (s1 && s2 && ends < starts)
        jf_errors_add(&e, "ends_on", "must not be before starts_on");
    if (s1 && first == JF_DATE_NONE && !jf_body_has(req, "first_report_month")) {
        int y, m, d;
        jf_date_to_ymd(starts, &y, &m, &d);
        first = jf_date_from_ymd(y, m, 1);
    }
    if (s2 && first != JF_DATE_NONE && first > ends)
        jf_errors_add(&e, "first_report_month", "must not be after ends_on");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (jf_body_has(req, "org_unit_id")) {
        if ((rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
            return rc;
        if (path == NULL)
            return jf_errors_respond(req, &e);
    }
    const char *p[] = {jf_res_id(req, unit),
                       path,
                       name,
                       fmt(req, starts),
                       fmt(req, ends),
                       jf_res_id(req, day),
                       fmt(req, first),
                       jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &insert_c, 8, p, &res)) != 0)
        goto out;
    id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    jf_audit_entry a = {.action = "campaign.create",
                        .target_type = "campaign",
                        .target_id = id,
                        .org_unit_id = unit};
    if ((rc = jf_audit_record(conn, req, &a)) == 0 && (rc = jf_db_commit(conn)) == 0)
        rc = send_campaign(req, conn, id, 201);
out:
    PQclear(res);
    return rc;
}

/* GET /campaigns */
static int list(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path, today_s(req)};
    return jf_res_send_row(req, conn, &list_c, 2, p, 200);
}

/* GET /campaigns/{id} */
static int get_one(jf_req *req)
{
    const char *path;
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = campaign_load(req, conn, false, &path, NULL, NULL, NULL)) != 0)
        return rc;
    return send_campaign(req, conn, jf_req_param(req, 0), 200);
}

/* The ids of a JSON array field into "{1,2,3}" (a bigint[] literal). */
static const char *id_array(jf_req *req, jf_errors *e, const char *field, int *n)
{
    json_t *a = json_object_get(req->body, field), *v;
    char *out = jf_arena_printf(&req->arena, "%s", "{");
    size_t i;

    *n = 0;
    if (a == NULL || json_is_null(a))
        return "{}";
    if (!json_is_array(a) || json_array_size(a) > CAMPAIGN_MAX_AGENCIES) {
        jf_errors_add(e, field, "must be an array of at most %d agency ids", CAMPAIGN_MAX_AGENCIES);
        return NULL;
    }
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            jf_errors_add(e, field, "must hold agency ids (positive integers)");
            return NULL;
        }
        out = jf_arena_printf(&req->arena, "%s%s%lld", out, i ? "," : "",
                              (long long)json_integer_value(v));
        (*n)++;
    }
    return jf_arena_printf(&req->arena, "%s}", out);
}

/* Count the distinct agencies of arr that serve path. */
static int agencies_count(jf_req *req, jf_db_conn *conn, const char *path, const char *arr,
                          long *count)
{
    PGresult *res = NULL;
    const char *p[] = {path, arr};
    int rc = jf_db_exec(conn, &agencies_ok, 2, p, &res);

    if (rc == 0)
        *count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* The number of distinct ids in the JSON array a (a short one). */
static int distinct_ids(const json_t *a)
{
    size_t n = json_array_size(a), d = 0;

    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            if (json_integer_value(json_array_get(a, i)) ==
                json_integer_value(json_array_get(a, j)))
                seen = true;
        if (!seen)
            d++;
    }
    return (int)d;
}

/* POST /campaigns/{id}/tasks {seq, action, description, upstream_lead?,
 * lead_agency_id, responsible_agency_ids?} */
static int add_task(jf_req *req)
{
    static const char *const allowed[] = {
        "seq", "action", "description", "upstream_lead", "lead_agency_id", "responsible_agency_ids",
        NULL};
    jf_errors e = {0};
    long long seq = 0, lead = 0, unit = 0;
    const char *action, *desc, *upstream, *arr, *path, *tid;
    int nresp = 0;
    long count = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "seq", true, 1, 999, &seq);
    action = jf_body_str(req, &e, "action", true, 1, 100);
    desc = jf_body_str(req, &e, "description", true, 1, 2000);
    upstream = jf_body_str(req, &e, "upstream_lead", false, 1, 100);
    jf_body_int(req, &e, "lead_agency_id", true, 1, INT64_MAX, &lead);
    arr = id_array(req, &e, "responsible_agency_ids", &nresp);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = campaign_load(req, conn, true, &path, &unit, NULL, NULL)) != 0)
        return rc;
    const char *lead_arr = jf_arena_printf(&req->arena, "{%lld}", lead);
    if ((rc = agencies_count(req, conn, path, lead_arr, &count)) != 0)
        return rc;
    if (count != 1)
        jf_errors_add(&e, "lead_agency_id", "no such agency serving the campaign's area");
    if (nresp > 0) {
        if ((rc = agencies_count(req, conn, path, arr, &count)) != 0)
            return rc;
        if (count != distinct_ids(json_object_get(req->body, "responsible_agency_ids")))
            jf_errors_add(&e, "responsible_agency_ids",
                          "each must be an agency serving the campaign's area");
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {jf_req_param(req, 0), jf_res_id(req, seq), action, desc, upstream,
                       jf_res_id(req, lead)};
    if ((rc = jf_db_begin(conn)) != 0)
        return rc;
    rc = jf_db_exec(conn, &insert_t, 6, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Task number taken",
                             "the campaign already has a task with this seq", NULL, NULL);
        goto out;
    }
    if (rc != 0)
        goto out;
    tid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    const char *ap[] = {tid, arr};
    if ((rc = jf_db_exec(conn, &insert_ta, 2, ap, &res)) != 0)
        goto out;
    jf_audit_entry a = {.action = "campaign.task_add",
                        .target_type = "campaign",
                        .target_id = jf_req_param(req, 0),
                        .org_unit_id = unit,
                        .detail_json = jf_arena_printf(&req->arena, "{\"task_id\":%s}", tid)};
    /* The campaign, with the new task in it. */
    if ((rc = jf_audit_record(conn, req, &a)) == 0 && (rc = jf_db_commit(conn)) == 0)
        rc = send_campaign(req, conn, jf_req_param(req, 0), 201);
out:
    PQclear(res);
    return rc;
}

/* POST /campaigns/{id}/tasks/{task_id}/progress {month, content} */
static int add_progress(jf_req *req)
{
    static const char *const allowed[] = {"month", "content", NULL};
    jf_errors e = {0};
    jf_date month, first = 0, ends = 0, today = jf_date_today();
    const char *content, *path;
    long long unit = 0;
    bool is_admin = jf_role_parse(req->claims.role) == JF_ROLE_ADMIN;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 1) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    month = month_field(req, &e, "month", true);
    content = jf_body_str(req, &e, "content", true, 1, 2000);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = campaign_load(req, conn, false, &path, &unit, &first, &ends)) != 0)
        return rc;
    const char *tp[] = {jf_req_param(req, 1), jf_req_param(req, 0),
                        jf_res_id(req, req->claims.agency_id)};
    if ((rc = jf_db_exec(conn, &task_get, 3, tp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    bool member = strcmp(PQgetvalue(res, 0, 0), "t") == 0 && req->claims.agency_id > 0;
    PQclear(res);
    res = NULL;
    if (!member && !(is_admin && jf_scope_contains(req->claims.org_path, path))) {
        rc = jf_resp_problem(req, 403, "forbidden", "Forbidden",
                             "only the task's agencies report its progress", NULL, NULL);
        goto out;
    }
    int y, m, d, ty, tm, td;
    jf_date_to_ymd(today, &ty, &tm, &td);
    jf_date_to_ymd(month, &y, &m, &d);
    if (month < first || month > ends)
        jf_errors_add(&e, "month", "must be a reporting month of the campaign");
    else if (y * 12 + m > ty * 12 + tm)
        jf_errors_add(&e, "month", "must not be after this month");
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *p[] = {jf_req_param(req, 1),
                       fmt(req, month),
                       req->claims.agency_id > 0 ? jf_res_id(req, req->claims.agency_id) : NULL,
                       content,
                       fmt(req, today),
                       jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &insert_p, 6, p, &res)) != 0)
        goto out;
    jf_audit_entry a = {.action = "campaign.progress",
                        .target_type = "campaign",
                        .target_id = jf_req_param(req, 0),
                        .org_unit_id = unit,
                        .detail_json =
                            jf_arena_printf(&req->arena, "{\"task_id\":%s,\"progress_id\":%s}",
                                            jf_req_param(req, 1), PQgetvalue(res, 0, 1))};
    if ((rc = jf_audit_record(conn, req, &a)) != 0 || (rc = jf_db_commit(conn)) != 0)
        goto out;
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/campaigns/%s/tasks/%s/progress",
                                   jf_req_param(req, 0), jf_req_param(req, 1)));
    jf_res_etag(req, "1");
    rc = jf_resp_json_text(req, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

/* GET /campaigns/{id}/tasks/{task_id}/progress */
static int list_progress(jf_req *req)
{
    const char *path;
    jf_db_conn *conn;
    int rc;

    if (jf_req_param_id(req, 1) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = campaign_load(req, conn, false, &path, NULL, NULL, NULL)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 1), jf_req_param(req, 0)};
    return jf_res_send_row(req, conn, &list_p, 2, p, 200);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/campaigns", list, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"POST", "/api/v1/campaigns", create, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
    {"GET", "/api/v1/campaigns/{id}", get_one, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"POST", "/api/v1/campaigns/{id}/tasks", add_task, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
    {"GET", "/api/v1/campaigns/{id}/tasks/{task_id}/progress", list_progress, JF_ROUTE_AUTH,
     JF_CAP_ORG_READ},
    {"POST", "/api/v1/campaigns/{id}/tasks/{task_id}/progress", add_progress, JF_ROUTE_AUTH,
     JF_CAP_ORG_READ},
};

int jf_res_campaigns_init(void)
{
    jf_stmt *const s[] = {&insert_c, &one_c,     &path_c,   &list_c,   &agencies_ok,
                          &insert_t, &insert_ta, &task_get, &insert_p, &list_p};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
