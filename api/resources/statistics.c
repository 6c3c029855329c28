/* Statistics (统计): the dashboard of indicators of an org unit for a period,
 * broken down by its child units, and the resident population per unit
 * that 报告患病率 needs. The figures come from SQL (migrations 0015, 0040):
 * a calendar month, quarter, half-year or year of this or last year is read
 * from the worker's rollups (exact: the patients changed since its last
 * pass are put right from the records; the current-state counts are as of
 * that pass), any other period is computed live from the records.
 * Officials, doctors and admins see every indicator; police the counts of
 * risk, colour, key categories and notifications; civil affairs the counts
 * on the register and of key categories; grid workers and service accounts
 * none (403). */
#include "statistics.h"
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A live period may span at most this many days (ten years). */
#define STAT_MAX_SPAN_DAYS 3660

static jf_stmt unit_get = {"stat_unit", "SELECT path FROM org_units WHERE id = $1", 0};
/* Figures computed live beside the indicators ($2 path, $3 today, $4
 * detail, $5 from, $6 to, $7 end in both statements below): the alerts and
 * the open search tasks, for the roles that act on them (both are few), the
 * open and overdue referrals as of today for the clinical roles, and the
 * exchanges owed by the area's agencies as of the end of the period. */
#define LIVE_EXTRAS                                                                                \
    " || CASE WHEN $4 IN ('full', 'police') THEN jsonb_build_object('alerts',"                     \
    " stat_alerts_json($2, $5::date, $6::date), 'search_tasks',"                                   \
    " stat_search_tasks_json($2, $7::date)) ELSE '{}' END"                                         \
    " || CASE WHEN $4 = 'full' THEN jsonb_build_object('referrals',"                               \
    " stat_referrals_json($2, $3::date)) ELSE '{}' END"                                            \
    " || jsonb_build_object('exchanges', stat_exchanges_json($2, $7::date))"
/* $1 unit, $2 path, $3 today, $4 detail, $5 from, $6 to, $7 end; no row
 * when the rollups do not hold the period as of today. The cache's state
 * counts and the assistance rows join the rollups' period counts. */
static jf_stmt dash_rollup = {
    "stat_dashboard_rollup",
    "WITH r AS (SELECT stat_rollup_counts($2, $5::date, $6::date, $3::date) AS c)"
    " SELECT (jsonb_build_object('period', jsonb_build_object('from', $5::date, 'to', $6::date,"
    " 'end', $7::date), 'source', 'cached', 'as_of', (SELECT to_char(refreshed_at AT TIME ZONE"
    " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM stat_refresh_log))"
    " || stat_dashboard_json($1, r.c || stat_cached_state($2) || ARRAY(SELECT"
    " ROW(a.*)::stat_count FROM stat_assistance_counts($2, $5::date, $7::date) a), $4)" LIVE_EXTRAS
    ")::text FROM r WHERE r.c IS NOT NULL",
    0,
};
/* $1 unit, $2 path, $3 today, $4 detail, $5 from, $6 to, $7 end, $8 now (NULL: now()). */
static jf_stmt dash_live = {
    "stat_dashboard_live",
    "SELECT (jsonb_build_object('period', jsonb_build_object('from', $5::date, 'to', $6::date,"
    " 'end', $7::date), 'source', 'live',"
    " 'as_of', to_char(coalesce($8::timestamptz, now()) AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
    " || stat_dashboard_json($1, stat_live_counts($2, $5::date, $6::date, $3::date,"
    " coalesce($8::timestamptz, now())), $4)" LIVE_EXTRAS ")::text",
    0,
};
static jf_stmt pop_get = {"stat_population_get",
                          "SELECT path, population FROM org_units WHERE id = $1 FOR UPDATE", 0};
static jf_stmt pop_set = {
    "stat_population_set",
    "UPDATE org_units SET population = $2::int WHERE id = $1"
    " RETURNING json_build_object('id', id, 'parent_id', parent_id, 'level', level, 'code', code,"
    " 'name', name, 'population', population)::text",
    0,
};

const char *jf_stat_detail(const jf_req *req)
{
    switch (jf_role_parse(req->claims.role)) {
    case JF_ROLE_ADMIN:
    case JF_ROLE_OFFICIAL:
    case JF_ROLE_DOCTOR:
        return "full";
    case JF_ROLE_POLICE:
        return "police";
    case JF_ROLE_CIVIL_AFFAIRS:
        return "civil_affairs";
    default:
        return NULL;
    }
}

/* A "YYYY-MM-DD" query parameter; JF_DATE_NONE when absent. */
static jf_date query_date(const jf_req *req, jf_errors *e, const char *name)
{
    const char *s = jf_req_query(req, name);
    jf_date d;

    if (s == NULL)
        return JF_DATE_NONE;
    if (jf_date_parse(s, &d) != 0) {
        jf_errors_add(e, name, "must be a date YYYY-MM-DD");
        return JF_DATE_NONE;
    }
    return d;
}

void jf_stat_period(const jf_req *req, jf_errors *e, jf_date today, jf_date *from, jf_date *to,
                    int *year)
{
    const char *ys = jf_req_query(req, "year");
    int ty, tm, td;

    jf_date_to_ymd(today, &ty, &tm, &td);
    *from = query_date(req, e, "from");
    *to = query_date(req, e, "to");
    *year = 0;
    if (ys != NULL) {
        char *end;
        errno = 0;
        long y = strtol(ys, &end, 10);
        if (errno != 0 || end == ys || *end != '\0' || y < 1900 || y > 2199)
            jf_errors_add(e, "year", "must be a year 1900-2199");
        else if (jf_req_query(req, "from") != NULL || jf_req_query(req, "to") != NULL)
            jf_errors_add(e, "year", "give either year or from and to");
        else
            *year = (int)y;
    } else if (jf_req_query(req, "from") == NULL && jf_req_query(req, "to") == NULL) {
        *year = ty;
    } else if (jf_req_query(req, "from") == NULL) {
        jf_errors_add(e, "from", "is required with to");
    } else if (jf_req_query(req, "to") == NULL) {
        jf_errors_add(e, "to", "is required with from");
    } else if (*from != JF_DATE_NONE && *to != JF_DATE_NONE) {
        if (*from > *to)
            jf_errors_add(e, "to", "must not be before from");
        else if (*to - *from > STAT_MAX_SPAN_DAYS)
            jf_errors_add(e, "to", "the period may span at most %d days", STAT_MAX_SPAN_DAYS);
        else if (*from > today)
            jf_errors_add(e, "from", "must not be after today");
    }
    if (*year > 0) {
        *from = jf_date_from_ymd(*year, 1, 1);
        *to = jf_date_from_ymd(*year, 12, 31);
        if (*from > today)
            jf_errors_add(e, "year", "must not be after this year");
    }
}

static const char *fmt_date(jf_req *req, jf_date d)
{
    char s[11];

    jf_date_format(d, s);
    return jf_arena_strdup(&req->arena, s);
}

/* Resolve the unit asked for (default: the caller's) to its path. 0 with
 * *path set, or 404 outside the caller's area. */
static int unit_path(jf_req *req, jf_db_conn *conn, long long unit, const char **path)
{
    PGresult *res = NULL;
    int rc;

    if (unit == 0) {
        *path = req->claims.org_path;
        return 0;
    }
    const char *p[] = {jf_res_id(req, unit)};
    rc = jf_db_exec(conn, &unit_get, 1, p, &res);
    if (rc == 0 && (PQntuples(res) == 0 || jf_scope_check(&req->claims, PQgetvalue(res, 0, 0),
                                                          JF_ACCESS_READ) != JF_SCOPE_OK)) {
        rc = jf_resp_not_found(req);
        if (rc == 0)
            rc = JF_ERR_NOT_FOUND;
    } else if (rc == 0) {
        *path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

/* GET /statistics/dashboard */
static int dashboard(jf_req *req)
{
    jf_errors e = {0};
    jf_date today = jf_date_today(), from, to;
    const char *detail = jf_stat_detail(req), *path = NULL, *now = NULL;
    long long unit = jf_query_id(req, &e, "org_unit_id");
    bool live = jf_query_bool(req, &e, "live");
    jf_db_conn *conn;
    PGresult *res = NULL;
    int year, rc;

    jf_stat_period(req, &e, today, &from, &to, &year);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = unit_path(req, conn, unit, &path)) != 0)
        return rc;
    if (detail == NULL)
        return jf_resp_problem(req, 403, "forbidden", "Forbidden",
                               "this role does not see statistics", NULL, NULL);
    if (unit == 0)
        unit = req->claims.org_unit_id;
    const char *unit_s = jf_res_id(req, unit), *from_s = fmt_date(req, from),
               *to_s = fmt_date(req, to), *end_s = fmt_date(req, to < today ? to : today);
    const char *today_s = fmt_date(req, today);
    if (!live) {
        const char *p[] = {unit_s, path, today_s, detail, from_s, to_s, end_s};
        if ((rc = jf_db_exec(conn, &dash_rollup, 7, p, &res)) != 0)
            goto out;
        if (PQntuples(res) == 1) {
            rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
            goto out;
        }
        PQclear(res);
        res = NULL;
    }
    if (jf_date_overridden())
        now = jf_arena_printf(&req->arena, "%s 12:00:00+08", fmt_date(req, today));
    const char *p[] = {unit_s, path, today_s, detail, from_s, to_s, end_s, now};
    rc = jf_res_send_row(req, conn, &dash_live, 8, p, 200);
out:
    PQclear(res);
    return rc;
}

/* PUT /org-units/{id}/population: the resident population (常住人口) of a unit. */
static int put_population(jf_req *req)
{
    static const char *const allowed[] = {"population", NULL};
    long long id = jf_req_param_id(req, 0), population = 0;
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (id == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "population", true, 0, 2000000000, &population);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *ids = jf_res_id(req, id);
    const char *gp[] = {ids};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &pop_get, 1, gp, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0 ||
        jf_scope_check(&req->claims, PQgetvalue(res, 0, 0), JF_ACCESS_WRITE) != JF_SCOPE_OK) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    const char *old =
        PQgetisnull(res, 0, 1) ? "null" : jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1));
    PQclear(res);
    res = NULL;
    const char *sp[] = {ids, jf_res_id(req, population)};
    if ((rc = jf_db_exec(conn, &pop_set, 2, sp, &res)) != 0)
        goto out;
    jf_audit_entry a = {
        .action = "org_unit.population",
        .target_type = "org_unit",
        .target_id = ids,
        .org_unit_id = id,
        .detail_json = jf_arena_printf(&req->arena, "{\"from\":%s,\"to\":%lld}", old, population)};
    if ((rc = jf_audit_record(conn, req, &a)) == 0 && (rc = jf_db_commit(conn)) == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/statistics/dashboard", dashboard, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_ORG_READ},
    {"PUT", "/api/v1/org-units/{id}/population", put_population, JF_ROUTE_AUTH,
     JF_CAP_CONFIG_WRITE},
};

int jf_res_statistics_init(void)
{
    jf_stmt *const s[] = {&unit_get, &dash_rollup, &dash_live, &pop_get, &pop_set};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
