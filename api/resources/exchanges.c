/* The inter-agency exchange cadence (信息交换; DOMAIN.md "Ledgers and
 * information exchange", seeds 001 and 004). Every ended period owes, per
 * township and ordered pair of its agencies, a dated package of what
 * changed, cut to the receiver's view (migration 0033 makes the rows and
 * the package); the receiver confirms receipt. The list makes the rows of
 * the caller's area current first, so it never waits for the worker. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../domain/date.h"
#include "../domain/views.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdlib.h>
#include <string.h>

/* The exchange x (sender s, receiver r) as the API shows it; today is the
 * parameter holding the day its state is judged on. */
#define EXCHANGE_JSON(today)                                                                       \
    "json_build_object('id', x.id, 'township_id', x.township_id, 'township_name',"                 \
    " (SELECT name FROM org_units WHERE id = x.township_id), 'sender', json_build_object('id',"    \
    " s.id, 'kind', s.kind, 'name', s.name), 'receiver', json_build_object('id', r.id, 'kind',"    \
    " r.kind, 'name', r.name), 'period_from', x.period_from, 'period_to', x.period_to, 'due_on',"  \
    " x.due_on, 'state', CASE WHEN x.received_at IS NOT NULL THEN 'received' WHEN x.due_on <"      \
    " " today                                                                                      \
    "::date THEN 'overdue' ELSE 'owed' END, 'received_at', x.received_at, 'received_by',"          \
    " x.received_by, 'note', x.note)"

static jf_stmt schedule = {
    "exchange_schedule",
    "SELECT exchange_schedule($1::date, $2)",
    0,
};
/* $1 path, $2 upper, $3 after, $4 state, $5 agency (mine), $6 limit, $7 today. */
static jf_stmt list = {
    "exchange_list",
    "SELECT x.id, " EXCHANGE_JSON(
        "$7") "::text FROM exchanges x"
              " JOIN agencies s ON s.id = x.sender_agency_id JOIN agencies r ON r.id = "
              "x.receiver_agency_id"
              " WHERE x.township_path >= $1 AND x.township_path < $2"
              " AND ($3::bigint = 0 OR x.id < $3::bigint)"
              " AND ($4::text IS NULL OR ($4 = 'received') = (x.received_at IS NOT NULL)"
              "  AND ($4 <> 'overdue' OR x.due_on < $7::date) AND ($4 <> 'owed' OR x.due_on >= "
              "$7::date))"
              " AND ($5::bigint IS NULL OR $5::bigint IN (x.sender_agency_id, "
              "x.receiver_agency_id))"
              " ORDER BY x.id DESC LIMIT $6::int",
    0,
};
/* One exchange, locked for the receipt: the document, the township's path
 * and unit, the receiver agency and its kind. */
static jf_stmt one = {
    "exchange_one",
    "SELECT " EXCHANGE_JSON("$2") "::text, x.township_path, x.township_id, x.receiver_agency_id,"
                                  " r.kind, x.received_at IS NOT NULL, x.period_from, x.period_to"
                                  " FROM exchanges x JOIN agencies s ON s.id = x.sender_agency_id"
                                  " JOIN agencies r ON r.id = x.receiver_agency_id WHERE x.id = "
                                  "$1::bigint FOR UPDATE OF x",
    0,
};
static jf_stmt receipt = {
    "exchange_receipt",
    "UPDATE exchanges SET received_at = now(), received_by = $2::bigint, note = $3"
    " WHERE id = $1::bigint",
    0,
};
/* $1 clinical, $2 risk: the sections the receiver's view allows, in order. */
static jf_stmt sections = {
    "exchange_sections",
    "SELECT s FROM unnest(exchange_package_sections($1::bool, $2::bool)) s",
    0,
};
/* $1 section, $2 path, $3 from, $4 to, $5 clinical, $6 risk, $7 phone_full:
 * its rows, one JSON document each, read one at a time. */
static const char section_sql[] =
    "SELECT d::text FROM exchange_package_section($1, $2, $3::date, $4::date, $5::bool,"
    " $6::bool, $7::bool) d";

enum { X_DOC, X_PATH, X_UNIT, X_RECEIVER, X_RECEIVER_KIND, X_RECEIVED, X_FROM, X_TO };

/* The role whose view an agency of kind receives. */
static jf_role receiver_role(const char *kind)
{
    if (strcmp(kind, "police_station") == 0)
        return JF_ROLE_POLICE;
    if (strcmp(kind, "clinic") == 0 || strcmp(kind, "mental_health_centre") == 0)
        return JF_ROLE_DOCTOR;
    if (strcmp(kind, "civil_affairs") == 0 || strcmp(kind, "disabled_federation") == 0)
        return JF_ROLE_CIVIL_AFFAIRS;
    return JF_ROLE_OFFICIAL;
}

static const char *today_text(jf_req *req)
{
    char d[11];

    jf_date_format(jf_date_today(), d);
    return jf_arena_strdup(&req->arena, d);
}

/* Load exchange {id} (path parameter 0) in the caller's area; 404 outside. */
static int load(jf_req *req, jf_db_conn *conn, PGresult **res)
{
    const char *p[] = {jf_req_param(req, 0), today_text(req)};
    int rc = jf_db_exec(conn, &one, 2, p, res);

    if (rc != 0)
        return rc;
    if (PQntuples(*res) == 0 ||
        jf_scope_check(&req->claims, PQgetvalue(*res, 0, X_PATH), JF_ACCESS_READ) != JF_SCOPE_OK) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    return 0;
}

static bool is_receiver(const jf_req *req, const PGresult *res)
{
    return req->claims.agency_id > 0 &&
           req->claims.agency_id == strtoll(PQgetvalue(res, 0, X_RECEIVER), NULL, 10);
}

static int audit(jf_req *req, jf_db_conn *conn, const char *action, const PGresult *res,
                 bool deferred)
{
    jf_audit_entry a = {.action = action,
                        .target_type = "exchange",
                        .target_id = jf_req_param(req, 0),
                        .org_unit_id = strtoll(PQgetvalue(res, 0, X_UNIT), NULL, 10)};

    return deferred ? jf_audit_defer(conn, req, &a) : jf_audit_record(conn, req, &a);
}

/* GET /exchanges?org_unit_id&state&mine&limit&cursor */
static int list_get(jf_req *req)
{
    static const char *const states[] = {"owed", "overdue", "received", NULL};
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id"), after = 0;
    const char *state = jf_req_query(req, "state"), *path = NULL, *today = today_text(req);
    bool mine = jf_query_bool(req, &e, "mine");
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (state != NULL && !jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be owed, overdue or received");
    if (mine && req->claims.agency_id <= 0)
        jf_errors_add(&e, "mine", "the caller belongs to no agency");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *sp[] = {today, path};
    rc = jf_db_exec(conn, &schedule, 2, sp, &res);
    PQclear(res);
    res = NULL;
    if (rc != 0)
        return rc;
    const char *p[] = {path,
                       jf_res_path_upper(req, path),
                       jf_res_id(req, after),
                       state,
                       mine ? jf_res_id(req, req->claims.agency_id) : NULL,
                       jf_res_id(req, limit + 1),
                       today};
    jf_audit_entry a = {.action = "exchange.list",
                        .target_type = "org_unit",
                        .target_id = jf_res_id(req, unit > 0 ? unit : req->claims.org_unit_id),
                        .org_unit_id = unit > 0 ? unit : req->claims.org_unit_id};
    rc = jf_db_exec(conn, &list, 7, p, &res);
    if (rc == 0)
        rc = jf_audit_defer(conn, req, &a);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* GET /exchanges/{id} */
static int get(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if ((rc = load(req, conn, &res)) == 0)
        rc = audit(req, conn, "exchange.read", res, true);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, X_DOC),
                               (size_t)PQgetlength(res, 0, X_DOC));
    PQclear(res);
    return rc;
}

/* One section's rows into the stream as a JSON array, read in single-row
 * mode: never more than one row held. 0, or a jf_err once the stream has
 * begun (it is then cut short). */
static int stream_section(jf_req *req, PGconn *pg, const char *const *p)
{
    PGresult *r;
    int rc = 0, n = 0;

    if (!PQsendQueryParams(pg, section_sql, 7, NULL, p, NULL, NULL, 0) || !PQsetSingleRowMode(pg))
        rc = JF_ERR_DB;
    while ((r = PQgetResult(pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (rc == 0 && st == PGRES_SINGLE_TUPLE) {
            if (n++ > 0)
                rc = jf_resp_stream_write(req, ",", 1);
            if (rc == 0)
                rc = jf_resp_stream_write(req, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
            jf_log_error("exchange.package", "%s", PQresultErrorMessage(r));
            rc = JF_ERR_DB;
        }
        PQclear(r);
    }
    return rc;
}

/* GET /exchanges/{id}/package: what changed in the period, cut to the
 * receiver's view, streamed section by section ({"exchange": …,
 * "package": {"visits": […], …}}); the exchange itself is the first
 * bytes, so the answer starts at once however large the area. The
 * receiver's agency reads it; officials of the area may too. */
static int get_package(jf_req *req)
{
    jf_role role = jf_role_parse(req->claims.role);
    jf_db_conn *conn;
    PGresult *res = NULL, *secs = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if ((rc = load(req, conn, &res)) != 0)
        goto out;
    if (!is_receiver(req, res) && role != JF_ROLE_OFFICIAL) {
        rc = jf_resp_forbidden(req, "the package is its receiver's");
        goto out;
    }
    jf_patient_view v = jf_view_for_role(receiver_role(PQgetvalue(res, 0, X_RECEIVER_KIND)));
    const char *ps[] = {jf_res_tf(v.clinical), jf_res_tf(v.risk)};
    if ((rc = jf_db_exec(conn, &sections, 2, ps, &secs)) != 0 ||
        (rc = audit(req, conn, "exchange.package", res, true)) != 0 ||
        (rc = jf_resp_stream_begin(req, 200, "application/json")) != 0 ||
        (rc = jf_resp_stream_write(req, "{\"exchange\":", 12)) != 0 ||
        (rc = jf_resp_stream_write(req, PQgetvalue(res, 0, X_DOC),
                                   (size_t)PQgetlength(res, 0, X_DOC))) != 0 ||
        (rc = jf_resp_stream_write(req, ",\"package\":{", 12)) != 0)
        goto out;
    for (int i = 0; rc == 0 && i < PQntuples(secs); i++) {
        const char *name = PQgetvalue(secs, i, 0);
        const char *p[] = {name,
                           PQgetvalue(res, 0, X_PATH),
                           PQgetvalue(res, 0, X_FROM),
                           PQgetvalue(res, 0, X_TO),
                           ps[0],
                           ps[1],
                           jf_res_tf(v.phone_full)};
        const char *head = jf_arena_printf(&req->arena, "%s\"%s\":[", i ? "," : "", name);
        rc = jf_resp_stream_write(req, head, strlen(head));
        if (rc == 0)
            rc = stream_section(req, jf_db_pg(conn), p);
        if (rc == 0)
            rc = jf_resp_stream_write(req, "]", 1);
    }
    if (rc == 0 && (rc = jf_resp_stream_write(req, "}}", 2)) == 0)
        rc = jf_resp_stream_end(req);
    if (rc != 0)
        jf_log_error("exchange.package", "exchange %s: the stream was cut: %s",
                     jf_req_param(req, 0), jf_err_str(rc));
    rc = 0; /* answered: the status went out with the first bytes */
out:
    PQclear(res);
    PQclear(secs);
    return rc;
}

/* POST /exchanges/{id}/receipt {note}: the receiver confirms it. */
static int post_receipt(jf_req *req)
{
    static const char *const allowed[] = {"note", NULL};
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *res = NULL, *upd = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *note = jf_body_str(req, &e, "note", false, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = jf_db_begin(conn)) != 0 ||
        (rc = load(req, conn, &res)) != 0)
        goto out;
    if (!is_receiver(req, res)) {
        rc = jf_resp_forbidden(req, "only the receiving agency confirms receipt");
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, X_RECEIVED), "t") == 0) {
        rc = jf_resp_problem(req, 409, "transition-refused", "Already received",
                             "the receipt was confirmed before", "received_at", "already recorded");
        goto out;
    }
    const char *p[] = {jf_req_param(req, 0), jf_res_id(req, req->claims.user_id), note};
    if ((rc = jf_db_exec(conn, &receipt, 3, p, &upd)) != 0 ||
        (rc = audit(req, conn, "exchange.receipt", res, false)) != 0)
        goto out;
    PQclear(res);
    res = NULL;
    if ((rc = load(req, conn, &res)) == 0 && (rc = jf_db_commit(conn)) == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, X_DOC),
                               (size_t)PQgetlength(res, 0, X_DOC));
out:
    PQclear(res);
    PQclear(upd);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/exchanges", list_get, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/exchanges/{id}", get, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/exchanges/{id}/package", get_package, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/exchanges/{id}/receipt", post_receipt, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
};

int jf_res_exchanges_init(void)
{
    jf_stmt *const s[] = {&schedule, &list, &one, &receipt, &sections};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
