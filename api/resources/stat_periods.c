/* Saved periods (常用统计时段): a from–to period an office asks for again and
 * again (an inspection, a season's campaign, a half-year that is not a
 * calendar one) is saved by the unit, and the worker's next pass keeps it in
 * the rollups beside the calendar periods and the campaigns' (SQL
 * stat_keep_periods), so its dashboard and report are read, not computed.
 * A unit saves at most STAT_SAVED_MAX; its periods are seen by its subtree
 * (a county's period serves its townships) and removed by the unit. */
#include "common.h"
#include "resources.h"
#include "statistics.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Each saved period is one more mask position per patient in the rollups. */
#define STAT_SAVED_MAX 8
/* As for a period asked of the dashboard: ten years at most. */
#define STAT_SAVED_SPAN_DAYS 3660

#define PERIOD_JSON                                                                                \
    "json_build_object('id', s.id, 'name', s.name, 'from', s.period_from, 'to', s.period_to,"      \
    " 'org_unit_id', s.org_unit_id, 'org_unit_name', o.name, 'kept', EXISTS (SELECT 1 FROM"        \
    " stat_rollup_periods r WHERE r.period_from = s.period_from AND r.period_to = s.period_to),"   \
    " 'created_at', s.created_at)"

/* $1 the caller's path: the periods of its unit and of the units above. */
static jf_stmt list = {
    "stat_periods_list",
    "SELECT json_build_object('items', coalesce(json_agg(" PERIOD_JSON
    " ORDER BY s.period_from DESC, s.id DESC), '[]'))::text"
    " FROM stat_saved_periods s JOIN org_units o ON o.id = s.org_unit_id"
    " WHERE starts_with($1, o.path)",
    0,
};
/* $1 unit: its saved periods, the unit's row locked so that two saves
 * cannot both pass the cap. */
static jf_stmt count_own = {
    "stat_periods_count",
    "SELECT (SELECT count(*) FROM stat_saved_periods WHERE org_unit_id = o.id)"
    " FROM org_units o WHERE o.id = $1 FOR UPDATE",
    0,
};
/* $1 unit, $2 name, $3 from, $4 to, $5 user; no row when the unit has it. */
static jf_stmt insert = {
    "stat_periods_insert",
    "WITH s AS (INSERT INTO stat_saved_periods (org_unit_id, name, period_from, period_to,"
    " created_by) VALUES ($1, $2, $3::date, $4::date, $5)"
    " ON CONFLICT (org_unit_id, period_from, period_to) DO NOTHING RETURNING *)"
    " SELECT s.id, " PERIOD_JSON "::text FROM s JOIN org_units o ON o.id = s.org_unit_id",
    0,
};
static jf_stmt get_one = {
    "stat_periods_get",
    "SELECT s.org_unit_id, o.path FROM stat_saved_periods s JOIN org_units o"
    " ON o.id = s.org_unit_id WHERE s.id = $1 FOR UPDATE OF s",
    0,
};
static jf_stmt delete_one = {"stat_periods_delete", "DELETE FROM stat_saved_periods WHERE id = $1",
                             0};

/* Only the roles that see statistics: true when refused (answered 403). */
static bool stat_refused(jf_req *req)
{
    if (jf_stat_detail(req) != NULL)
        return false;
    jf_resp_problem(req, 403, "forbidden", "Forbidden", "this role does not see statistics", NULL,
                    NULL);
    return true;
}

/* GET /statistics/periods */
static int list_periods(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if (stat_refused(req))
        return 0;
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path};
    return jf_res_send_row(req, conn, &list, 1, p, 200);
}

/* POST /statistics/periods {name, from, to}: saved by the caller's unit. */
static int save_period(jf_req *req)
{
    static const char *const allowed[] = {"name", "from", "to", NULL};
    jf_errors e = {0};
    jf_date from = JF_DATE_NONE, to = JF_DATE_NONE, today = jf_date_today();
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (stat_refused(req))
        return 0;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *name = jf_body_str(req, &e, "name", true, 1, 100);
    const char *fs = jf_body_any_date(req, &e, "from", true, &from);
    const char *ts = jf_body_any_date(req, &e, "to", true, &to);
    if (fs && ts) {
        if (to < from)
            jf_errors_add(&e, "to", "must not be before from");
        else if (to - from > STAT_SAVED_SPAN_DAYS)
            jf_errors_add(&e, "to", "the period may span at most %d days", STAT_SAVED_SPAN_DAYS);
        else if (from > today)
            jf_errors_add(&e, "from", "must not be after today");
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0)
        return rc;
    const char *unit = jf_res_id(req, req->claims.org_unit_id);
    const char *cp[] = {unit};
    if ((rc = jf_db_exec(conn, &count_own, 1, cp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 1 && strtol(PQgetvalue(res, 0, 0), NULL, 10) >= STAT_SAVED_MAX) {
        rc = jf_resp_problem(req, 409, "conflict", "Conflict",
                             jf_arena_printf(&req->arena,
                                             "a unit keeps at most %d saved periods: remove one",
                                             STAT_SAVED_MAX),
                             NULL, NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    const char *ip[] = {unit, name, fs, ts, jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_exec(conn, &insert, 5, ip, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Conflict", "the unit has saved this period",
                             "from", "this period is saved already");
        goto out;
    }
    const char *id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    jf_audit_entry a = {.action = "stat_period.save",
                        .target_type = "stat_period",
                        .target_id = id,
                        .org_unit_id = req->claims.org_unit_id};
    if ((rc = jf_audit_record(conn, req, &a)) != 0 || (rc = jf_db_commit(conn)) != 0)
        goto out;
    /* never changed, so always its first version */
    jf_resp_header(req, "ETag", "\"1\"");
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/statistics/periods/%s", id));
    rc = jf_resp_json_text(req, 201, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
out:
    PQclear(res);
    return rc;
}

/* DELETE /statistics/periods/{id}: by the unit that saved it (404 when the
 * caller does not see it, 403 when it is a unit's above). */
static int delete_period(jf_req *req)
{
    long long id = jf_req_param_id(req, 0);
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (stat_refused(req))
        return 0;
    if (id == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0)
        return rc;
    const char *ids = jf_res_id(req, id);
    const char *p[] = {ids};
    if ((rc = jf_db_exec(conn, &get_one, 1, p, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0 || !jf_scope_contains(PQgetvalue(res, 0, 1), req->claims.org_path)) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if (strtoll(PQgetvalue(res, 0, 0), NULL, 10) != req->claims.org_unit_id) {
        rc = jf_resp_forbidden(req, "only the unit that saved a period removes it");
        goto out;
    }
    PQclear(res);
    res = NULL;
    jf_audit_entry a = {.action = "stat_period.delete",
                        .target_type = "stat_period",
                        .target_id = ids,
                        .org_unit_id = req->claims.org_unit_id};
    if ((rc = jf_db_exec(conn, &delete_one, 1, p, &res)) == 0 &&
        (rc = jf_audit_record(conn, req, &a)) == 0 && (rc = jf_db_commit(conn)) == 0)
        rc = jf_resp_send(req, 204, NULL, NULL, 0);
out:
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/statistics/periods", list_periods, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"POST", "/api/v1/statistics/periods", save_period, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"DELETE", "/api/v1/statistics/periods/{id}", delete_period, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
};

int jf_res_stat_periods_init(void)
{
    jf_stmt *const s[] = {&list, &count_own, &insert, &get_one, &delete_one};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
