/* User administration, for admins, within their own org-unit subtree. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/password.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../http/validate.h"
#include "../record/patient.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char *const role_codes[] = {"admin",         "official",    "doctor",  "police",
                                         "civil_affairs", "grid_worker", "service", NULL};

static jf_stmt users_list = {
    "users_list",
    "WITH page AS (SELECT id, doc FROM api_users WHERE starts_with(path, $1)"
    "  AND ($2::text IS NULL OR role = $2) AND ($3::bigint IS NULL OR org_unit_id = $3)"
    "  AND id > $4 ORDER BY id LIMIT $5::int + 1),"
    " shown AS (SELECT id, doc FROM page ORDER BY id LIMIT $5::int)"
    " SELECT coalesce((SELECT json_agg(doc ORDER BY id) FROM shown), '[]'),"
    "  (SELECT count(*) FROM page) > $5::int, (SELECT max(id) FROM shown),"
    "  CASE WHEN $6::bool THEN (SELECT count(*) FROM api_users WHERE starts_with(path, $1)"
    "   AND ($2::text IS NULL OR role = $2) AND ($3::bigint IS NULL OR org_unit_id = $3))"
    "  END",
    0,
};
static jf_stmt user_get = {"users_get", "SELECT doc, path, version FROM api_users WHERE id = $1",
                           0};
static jf_stmt agency_exists = {"users_agency_exists", "SELECT 1 FROM agencies WHERE id = $1", 0};
static jf_stmt user_insert = {
    "users_insert",
    "INSERT INTO users (username, display_name, password_hash, role, org_unit_id, agency_id,"
    " phone) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    0,
};
static jf_stmt user_update = {
    "users_update",
    "UPDATE users SET display_name = coalesce($3, display_name),"
    " password_hash = coalesce($4, password_hash), role = coalesce($5, role),"
    " org_unit_id = coalesce($6::bigint, org_unit_id),"
    " agency_id = CASE WHEN $7::bool THEN $8::bigint ELSE agency_id END,"
    " phone = CASE WHEN $9::bool THEN $10 ELSE phone END, active = coalesce($11::bool, active),"
    " version = version + 1, updated_at = now() WHERE id = $1 AND version = $2 RETURNING id",
    0,
};
static jf_stmt user_revoke_tokens = {
    "users_revoke_tokens",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    0,
};
static jf_stmt user_doc = {"users_doc", "SELECT doc, version FROM api_users WHERE id = $1", 0};

static bool matches(const char *s, const char *pattern)
{
    regex_t re;
    bool ok;

    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int list(jf_req *req)
{
    jf_errors e = {0};
    const char *role = jf_req_query(req, "role");
    long long ou = jf_query_id(req, &e, "org_unit_id"), after;
    bool count = jf_query_bool(req, &e, "count");
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;
    jf_buf out;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (role != NULL && !jf_in_set(role, role_codes))
        jf_errors_add(&e, "role", "must be one of the role codes");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path,
                       role,
                       ou > 0 ? jf_res_id(req, ou) : NULL,
                       jf_res_id(req, after),
                       jf_res_id(req, limit),
                       count ? "true" : "false"};
    rc = jf_db_exec(conn, &users_list, 6, p, &res);
    /* The page may go slowly to the client: the connection need not wait. */
    jf_req_db_release(req);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    jf_buf_init(&out, 16u * 1024 * 1024);
    rc = jf_buf_printf(&out, "{\"items\":%s,\"next_cursor\":", PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_buf_json_str(
            &out, strcmp(PQgetvalue(res, 0, 1), "t") == 0
                      ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, 0, 2), NULL, 10))
                      : NULL);
    if (rc == 0 && count)
        rc = jf_buf_printf(&out, ",\"total\":%s", PQgetvalue(res, 0, 3));
    if (rc == 0)
        rc = jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* Is the org unit id inside the caller's subtree? Adds an error if not. */
static int check_unit(jf_req *req, jf_db_conn *conn, jf_errors *e, long long id)
{
    const char *path;

    return jf_record_area(req, conn, e, "org_unit_id", id, &path);
}

static int check_agency(jf_req *req, jf_db_conn *conn, jf_errors *e, long long id)
{
    PGresult *res = NULL;
    const char *p[] = {jf_res_id(req, id)};
    int rc = jf_db_exec(conn, &agency_exists, 1, p, &res);

    if (rc == 0 && PQntuples(res) == 0)
        jf_errors_add(e, "agency_id", "no such agency");
    PQclear(res);
    return rc;
}

/* Send the user's document with its ETag. */
static int send_user(jf_req *req, jf_db_conn *conn, const char *id, int status)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    int rc = jf_db_exec(conn, &user_doc, 1, p, &res);

    if (rc == 0 && PQntuples(res) == 0)
        jf_resp_not_found(req);
    else if (rc == 0) {
        jf_res_etag(req, PQgetvalue(res, 0, 1));
        rc = jf_resp_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

#define USERNAME_RE "^[a-z0-9_.-]{3,32}$"
#define PHONE_RE "^[0-9+-]{5,20}$"

static int create(jf_req *req)
{
    static const char *const allowed[] = {"username",    "display_name", "password", "role",
                                          "org_unit_id", "agency_id",    "phone",    NULL};
    jf_errors e = {0};
    const char *username, *display, *password, *role, *phone;
    long long ou = 0, agency = 0;
    char hash[JF_PASSWORD_HASH_MAX];
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    username = jf_body_str(req, &e, "username", true, 3, 32);
    display = jf_body_str(req, &e, "display_name", true, 1, 32);
    password = jf_body_str(req, &e, "password", true, JF_PASSWORD_MIN_LEN, JF_PASSWORD_MAX_LEN);
    role = jf_body_str(req, &e, "role", true, 1, 24);
    phone = jf_body_str(req, &e, "phone", false, 5, 20);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &ou);
    jf_body_int(req, &e, "agency_id", false, 1, INT64_MAX, &agency);
    if (username && !matches(username, USERNAME_RE))
        jf_errors_add(&e, "username", "must be 3-32 of a-z, 0-9, '_', '.', '-'");
    if (role && !jf_in_set(role, role_codes))
        jf_errors_add(&e, "role", "must be one of the role codes");
    if (phone && !matches(phone, PHONE_RE))
        jf_errors_add(&e, "phone", "must be 5-20 digits, '+' or '-'");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    rc = check_unit(req, conn, &e, ou);
    if (rc == 0 && agency > 0)
        rc = check_agency(req, conn, &e, agency);
    if (rc != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    rc = jf_password_hash(password, (unsigned)req->app->cfg.pbkdf2_iterations, hash, sizeof(hash));
    if (rc != 0)
        return rc;
    rc = jf_db_begin(conn);
    const char *p[] = {username,
                       display,
                       hash,
                       role,
                       jf_res_id(req, ou),
                       agency > 0 ? jf_res_id(req, agency) : NULL,
                       phone};
    if (rc == 0)
        rc = jf_db_exec(conn, &user_insert, 7, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        jf_resp_problem(req, 409, "conflict", "Username taken", "that username is in use",
                        "username", "is already taken");
        goto out;
    }
    if (rc != 0)
        goto out;
    const char *id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    jf_audit_entry a = {
        .action = "user.create", .target_type = "user", .target_id = id, .org_unit_id = ou};
    rc = jf_audit_record(conn, req, &a);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    jf_resp_header(req, "Location", jf_arena_printf(&req->arena, "/api/v1/users/%s", id));
    rc = send_user(req, conn, id, 201);
out:
    PQclear(res);
    return rc;
}

/* Load the user and check the caller may see it. Returns 1 when visible,
 * else 0: 404 sent, or the database failure in *rcp. */
static int visible_user(jf_req *req, jf_db_conn *conn, const char *id, long long *version, int *rcp)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    int rc = jf_db_exec(conn, &user_get, 1, p, &res), ok = 0;

    if (rc == 0 &&
        (PQntuples(res) == 0 || !jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 1))))
        jf_resp_not_found(req);
    else if (rc == 0) {
        *version = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        ok = 1;
    }
    PQclear(res);
    *rcp = rc;
    return ok;
}

static int get(jf_req *req)
{
    long long id = jf_req_param_id(req, 0), version;
    jf_db_conn *conn;
    int rc;

    if (id == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (visible_user(req, conn, jf_req_param(req, 0), &version, &rc))
        rc = send_user(req, conn, jf_req_param(req, 0), 200);
    return rc;
}

static int patch(jf_req *req)
{
    static const char *const allowed[] = {"display_name", "password", "role",   "org_unit_id",
                                          "agency_id",    "phone",    "active", NULL};
    long long id = jf_req_param_id(req, 0), want, have, ou = 0, agency = 0;
    const char *display, *password, *role, *phone;
    char hash[JF_PASSWORD_HASH_MAX];
    bool active = false, has_active, deactivate;
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (id == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_res_if_match(req, &want)) != 0)
        return rc;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    display = jf_body_str(req, &e, "display_name", false, 1, 32);
    password = jf_body_str(req, &e, "password", false, JF_PASSWORD_MIN_LEN, JF_PASSWORD_MAX_LEN);
    role = jf_body_str(req, &e, "role", false, 1, 24);
    phone = jf_body_str(req, &e, "phone", false, 5, 20);
    jf_body_int(req, &e, "org_unit_id", false, 1, INT64_MAX, &ou);
    jf_body_int(req, &e, "agency_id", false, 1, INT64_MAX, &agency);
    has_active = jf_body_bool(req, &e, "active", false, &active) == 1;
    if (jf_body_null(req, "display_name") || jf_body_null(req, "password") ||
        jf_body_null(req, "role") || jf_body_null(req, "org_unit_id") ||
        jf_body_null(req, "active"))
        jf_errors_add(&e, "body", "only agency_id and phone may be set to null");
    if (role && !jf_in_set(role, role_codes))
        jf_errors_add(&e, "role", "must be one of the role codes");
    if (phone && !matches(phone, PHONE_RE))
        jf_errors_add(&e, "phone", "must be 5-20 digits, '+' or '-'");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (!visible_user(req, conn, jf_req_param(req, 0), &have, &rc))
        return rc;
    if (ou > 0 && (rc = check_unit(req, conn, &e, ou)) != 0)
        return rc;
    if (agency > 0 && (rc = check_agency(req, conn, &e, agency)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (have != want) {
        jf_res_etag(req, jf_res_id(req, have));
        return jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                               "the user changed since you read it; reload and retry", "If-Match",
                               "does not match the current version");
    }
    if (password != NULL &&
        (rc = jf_password_hash(password, (unsigned)req->app->cfg.pbkdf2_iterations, hash,
                               sizeof(hash))) != 0)
        return rc;
    deactivate = has_active && !active;
    const char *p[] = {jf_req_param(req, 0),
                       jf_res_id(req, want),
                       display,
                       password ? hash : NULL,
                       role,
                       ou > 0 ? jf_res_id(req, ou) : NULL,
                       jf_body_has(req, "agency_id") ? "true" : "false",
                       agency > 0 ? jf_res_id(req, agency) : NULL,
                       jf_body_has(req, "phone") ? "true" : "false",
                       phone,
                       has_active ? (active ? "true" : "false") : NULL};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &user_update, 11, p, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                        "the user changed since you read it; reload and retry", "If-Match",
                        "does not match the current version");
        goto out;
    }
    PQclear(res);
    res = NULL;
    /* Disabling an account or changing its password ends its sessions. */
    if (deactivate || password != NULL) {
        const char *rp[] = {jf_req_param(req, 0)};
        if ((rc = jf_db_exec(conn, &user_revoke_tokens, 1, rp, &res)) != 0)
            goto out;
    }
    {
        /* Which fields changed (never their values: one is a password). */
        jf_buf d;
        int n = 0;

        jf_buf_init(&d, 512);
        rc = jf_buf_puts(&d, "{\"fields\":[");
        for (size_t i = 0; rc == 0 && allowed[i] != NULL; i++)
            if (jf_body_has(req, allowed[i]))
                rc = (n++ ? jf_buf_puts(&d, ",") : 0) || jf_buf_json_str(&d, allowed[i]);
        if (rc == 0)
            rc = jf_buf_puts(&d, "]}");
        jf_audit_entry a = {.action = "user.update",
                            .target_type = "user",
                            .target_id = jf_req_param(req, 0),
                            .detail_json = d.data};
        if (rc == 0)
            rc = jf_audit_record(conn, req, &a);
        jf_buf_free(&d);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_user(req, conn, jf_req_param(req, 0), 200);
out:
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/users", list, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"POST", "/api/v1/users", create, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"GET", "/api/v1/users/{id}", get, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"PATCH", "/api/v1/users/{id}", patch, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
};

int jf_res_users_init(void)
{
    jf_stmt *const s[] = {&users_list,  &user_get,           &agency_exists, &user_insert,
                          &user_update, &user_revoke_tokens, &user_doc};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
