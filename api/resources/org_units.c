/* Org units (township → village → grid) and agencies, as the caller sees them. */
#include "common.h"
#include "resources.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"

#define UNIT_JSON                                                                                  \
    "json_build_object('id', id, 'parent_id', parent_id, 'level', level, 'code', code,"            \
    " 'name', name, 'population', population)"

static jf_stmt units_list = {
    "org_units_list",
    "SELECT json_build_object('items', coalesce(json_agg(" UNIT_JSON " ORDER BY path), '[]'))"
    " FROM org_units WHERE starts_with(path, $1)",
    0,
};
static jf_stmt unit_get = {"org_units_get",
                           "SELECT " UNIT_JSON ", path FROM org_units WHERE id = $1", 0};
/* Agencies in the caller's subtree, and those above it (the county's
 * mental-health centre serves every township). */
static jf_stmt agencies_list = {
    "agencies_list",
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', a.id,"
    " 'kind', a.kind, 'name', a.name, 'org_unit_id', a.org_unit_id, 'phone', a.phone)"
    " ORDER BY o.path, a.id), '[]'))"
    " FROM agencies a JOIN org_units o ON o.id = a.org_unit_id"
    " WHERE starts_with(o.path, $1) OR starts_with($1, o.path)",
    0,
};

static int list_units(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path};
    return jf_res_send_row(req, conn, &units_list, 1, p, 200);
}

static int get_unit(jf_req *req)
{
    long long id = jf_req_param_id(req, 0);
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (id == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0)};
    rc = jf_db_exec(conn, &unit_get, 1, p, &res);
    if (rc == 0 && (PQntuples(res) == 0 || jf_scope_check(&req->claims, PQgetvalue(res, 0, 1),
                                                          JF_ACCESS_READ) != JF_SCOPE_OK))
        jf_resp_not_found(req);
    else if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

static int list_agencies(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path};
    return jf_res_send_row(req, conn, &agencies_list, 1, p, 200);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/org-units", list_units, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"GET", "/api/v1/org-units/{id}", get_unit, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"GET", "/api/v1/agencies", list_agencies, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
};

int jf_res_org_units_init(void)
{
    jf_stmt *const s[] = {&units_list, &unit_get, &agencies_list};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
