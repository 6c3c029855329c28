/* Service accounts of external systems: client credentials (a client id and a
 * secret, hashed like passwords) linked to a user of role service, managed by
 * admins within their subtree, and exchanged for an access token
 * (POST /auth/token, grant_type client_credentials) with the same back-off
 * as password logins. */
#include "common.h"
#include "throttle.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/password.h"
#include "../auth/scope.h"
#include "../auth/token.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../http/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_ID_PREFIX "jfc_"
#define CLIENT_ID_BYTES 12 /* 16 base64url characters */
#define CLIENT_ID_MAX 80
#define SECRET_BYTES 32 /* 43 base64url characters */
#define SECRET_TEXT_MAX 64

/* Everything the token exchange needs, in one round trip. */
static jf_stmt client_by_client_id = {
    "svc_client_by_client_id",
    "SELECT c.id, c.active AND u.active AND u.role = 'service', c.secret_hash, u.id,"
    " u.username, u.role, u.org_unit_id, o.path, coalesce(u.agency_id, 0), c.active, u.active"
    " FROM service_clients c JOIN users u ON u.id = c.user_id"
    " JOIN org_units o ON o.id = u.org_unit_id WHERE c.client_id = $1",
    0,
};
static jf_stmt client_used = {"svc_client_used",
                              "UPDATE service_clients SET last_used_at = now() WHERE id = $1", 0};
static jf_stmt user_for_client = {
    "svc_user_for_client",
    "SELECT u.role, o.path, u.agency_id IS NOT NULL, u.org_unit_id,"
    " (SELECT c.id FROM service_clients c WHERE c.user_id = u.id)"
    " FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1",
    0,
};
static jf_stmt client_insert = {
    "svc_client_insert",
    "INSERT INTO service_clients (client_id, secret_hash, user_id, created_by)"
    " VALUES ($1, $2, $3, $4) RETURNING id",
    0,
};
static jf_stmt client_doc = {"svc_client_doc",
                             "SELECT doc, version, path FROM api_service_clients WHERE id = $1", 0};
static jf_stmt client_list = {
    "svc_client_list",
    "WITH page AS (SELECT id, doc FROM api_service_clients WHERE starts_with(path, $1)"
    "  AND id > $2 ORDER BY id LIMIT $3::int + 1),"
    " shown AS (SELECT id, doc FROM page ORDER BY id LIMIT $3::int)"
    " SELECT coalesce((SELECT json_agg(doc ORDER BY id) FROM shown), '[]'),"
    "  (SELECT count(*) FROM page) > $3::int, (SELECT max(id) FROM shown)",
    0,
};
static jf_stmt client_rotate = {
    "svc_client_rotate",
    "UPDATE service_clients SET secret_hash = $2, secret_rotated_at = now(),"
    " version = version + 1 WHERE id = $1 RETURNING id",
    0,
};
static jf_stmt client_update = {
    "svc_client_update",
    "UPDATE service_clients SET active = $3::bool, version = version + 1"
    " WHERE id = $1 AND version = $2 RETURNING id",
    0,
};

/* What client_by_client_id returns. */
enum {
    C_ID,
    C_USABLE,
    C_HASH,
    C_USER,
    C_NAME,
    C_ROLE,
    C_OU,
    C_PATH,
    C_AGENCY,
    C_ACTIVE,
    C_USER_ACTIVE
};

/* count random bytes as base64url text after prefix into out. */
static int random_text(const char *prefix, size_t count, char *out, size_t outcap)
{
    unsigned char raw[SECRET_BYTES];
    size_t n = strlen(prefix);

    if (count > sizeof(raw) || n >= outcap || jf_crypto_random(raw, count) != 0)
        return JF_ERR_CRYPTO;
    memcpy(out, prefix, n);
    return jf_crypto_b64url_encode(raw, count, out + n, outcap - n) < 0 ? JF_ERR_TOO_LARGE : 0;
}

/* A fresh secret and its PBKDF2 hash (as a password's). */
static int new_secret(jf_req *req, char secret[SECRET_TEXT_MAX], char hash[JF_PASSWORD_HASH_MAX])
{
    int rc = random_text("", SECRET_BYTES, secret, SECRET_TEXT_MAX);

    if (rc == 0)
        rc = jf_password_hash(secret, (unsigned)req->app->cfg.pbkdf2_iterations, hash,
                              JF_PASSWORD_HASH_MAX);
    return rc;
}

/* Send client id's document with status (404 when gone), adding the new
 * secret when not NULL: it is shown this once and never again. */
static int send_client(jf_req *req, jf_db_conn *conn, const char *id, int status,
                       const char *secret)
{
    PGresult *res = NULL;
    const char *p[] = {id};
    jf_buf out;
    int rc = jf_db_exec(conn, &client_doc, 1, p, &res);

    jf_buf_init(&out, 64 * 1024);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    jf_res_etag(req, PQgetvalue(res, 0, 1));
    if (secret == NULL) {
        rc = jf_resp_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        goto out;
    }
    /* The document is a JSON object: the secret goes in before its brace. */
    rc = jf_buf_append(&out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0) - 1);
    if (rc == 0)
        rc = jf_buf_printf(&out, ",\"client_secret\":\"%s\"}", secret);
    if (rc == 0) {
        jf_resp_header(req, "Cache-Control", "no-store");
        rc = jf_resp_json_text(req, status, out.data, out.len);
    }
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* Load client {id} (path parameter 0) if it lies in the caller's subtree:
 * 1 with *version set; 0 when not (404, or the database error in *rcp). */
static int visible_client(jf_req *req, jf_db_conn *conn, long long *version, int *rcp)
{
    PGresult *res = NULL;
    const char *p[] = {jf_req_param(req, 0)};
    int rc = jf_db_exec(conn, &client_doc, 1, p, &res), ok = 0;

    if (rc == 0 &&
        (PQntuples(res) == 0 || !jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 2))))
        jf_resp_not_found(req);
    else if (rc == 0) {
        *version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        ok = 1;
    }
    PQclear(res);
    *rcp = rc;
    return ok;
}

static int audit_client(jf_req *req, jf_db_conn *conn, const char *action, const char *id,
                        const char *detail)
{
    jf_audit_entry a = {
        .action = action, .target_type = "service_client", .target_id = id, .detail_json = detail};

    return jf_audit_record(conn, req, &a);
}

/* POST /service-clients {user_id}: credentials for a service user in the
 * caller's area; the secret is in this answer only. */
static int create(jf_req *req)
{
    static const char *const allowed[] = {"user_id", NULL};
    jf_errors e = {0};
    long long user = 0;
    char client_id[CLIENT_ID_MAX], secret[SECRET_TEXT_MAX], hash[JF_PASSWORD_HASH_MAX];
    jf_db_conn *conn;
    PGresult *res = NULL;
    const char *id, *uid;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "user_id", true, 1, INT64_MAX, &user);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    uid = jf_res_id(req, user);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *up[] = {uid};
    rc = jf_db_exec(conn, &user_for_client, 1, up, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0 || !jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 1)))
        jf_errors_add(&e, "user_id", "no such user in your area");
    else if (strcmp(PQgetvalue(res, 0, 0), "service") != 0)
        jf_errors_add(&e, "user_id", "must be a user of role service");
    else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
        jf_errors_add(&e, "user_id", "must belong to an agency: the system's owner");
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if (!PQgetisnull(res, 0, 4)) {
        jf_resp_header(
            req, "Location",
            jf_arena_printf(&req->arena, "/api/v1/service-clients/%s", PQgetvalue(res, 0, 4)));
        rc = jf_resp_problem(req, 409, "conflict", "Client exists",
                             "this user already has a client: rotate its secret instead", "user_id",
                             "already has a client");
        goto out;
    }
    jf_audit_entry a = {.action = "service_client.create",
                        .target_type = "service_client",
                        .org_unit_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10),
                        .detail_json = jf_arena_printf(&req->arena, "{\"user_id\":%s}", uid)};
    PQclear(res);
    res = NULL;
    rc = random_text(CLIENT_ID_PREFIX, CLIENT_ID_BYTES, client_id, sizeof(client_id));
    if (rc == 0)
        rc = new_secret(req, secret, hash);
    if (rc != 0)
        goto out;
    rc = jf_db_begin(conn);
    const char *p[] = {client_id, hash, uid, jf_res_id(req, req->claims.user_id)};
    if (rc == 0)
        rc = jf_db_exec(conn, &client_insert, 4, p, &res);
    if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "23505") == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Client exists",
                             "this user already has a client: rotate its secret instead", "user_id",
                             "already has a client");
        goto out;
    }
    if (rc != 0)
        goto out;
    id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    a.target_id = id;
    rc = jf_audit_record(conn, req, &a);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0) {
        jf_resp_header(req, "Location",
                       jf_arena_printf(&req->arena, "/api/v1/service-clients/%s", id));
        rc = send_client(req, conn, id, 201, secret);
    }
out:
    PQclear(res);
    return rc;
}

/* GET /service-clients?limit=&cursor=: the clients of the caller's subtree. */
static int list(jf_req *req)
{
    jf_errors e = {0};
    long long after;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;
    jf_buf out;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path, jf_res_id(req, after), jf_res_id(req, limit)};
    rc = jf_db_exec(conn, &client_list, 3, p, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    /* The page may go slowly to the client: the connection need not wait. */
    jf_req_db_release(req);
    jf_buf_init(&out, 16u * 1024 * 1024);
    rc = jf_buf_printf(&out, "{\"items\":%s,\"next_cursor\":", PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_buf_json_str(
            &out, strcmp(PQgetvalue(res, 0, 1), "t") == 0
                      ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, 0, 2), NULL, 10))
                      : NULL);
    if (rc == 0)
        rc = jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* GET /service-clients/{id} */
static int get(jf_req *req)
{
    long long version;
    jf_db_conn *conn;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (visible_client(req, conn, &version, &rc))
        rc = send_client(req, conn, jf_req_param(req, 0), 200, NULL);
    return rc;
}

/* POST /service-clients/{id}/rotate: a new secret; the old one stops
 * working at once. */
static int rotate(jf_req *req)
{
    char secret[SECRET_TEXT_MAX], hash[JF_PASSWORD_HASH_MAX];
    long long version;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (!visible_client(req, conn, &version, &rc))
        return rc;
    if ((rc = new_secret(req, secret, hash)) != 0)
        return rc;
    const char *p[] = {jf_req_param(req, 0), hash};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &client_rotate, 2, p, &res);
    if (rc == 0 && PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if (rc == 0)
        rc = audit_client(req, conn, "service_client.rotate", jf_req_param(req, 0), NULL);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_client(req, conn, jf_req_param(req, 0), 200, secret);
out:
    PQclear(res);
    return rc;
}

/* Answer 412 for a stale If-Match, with the current version as ETag when
 * known (0: not known, it changed meanwhile). */
static int stale(jf_req *req, long long version)
{
    if (version > 0)
        jf_res_etag(req, jf_res_id(req, version));
    return jf_resp_problem(req, 412, "precondition-failed", "Precondition failed",
                           "the client changed since you read it; reload and retry", "If-Match",
                           "does not match the current version");
}

/* PATCH /service-clients/{id} {active} with If-Match. */
static int patch(jf_req *req)
{
    static const char *const allowed[] = {"active", NULL};
    jf_errors e = {0};
    long long want, have;
    bool active = false;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_res_if_match(req, &want)) != 0)
        return rc;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_bool(req, &e, "active", true, &active);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if (!visible_client(req, conn, &have, &rc))
        return rc;
    if (have != want)
        return stale(req, have);
    const char *p[] = {jf_req_param(req, 0), jf_res_id(req, want), jf_res_tf(active)};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &client_update, 3, p, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) { /* changed between the read and the update */
        rc = stale(req, 0);
        goto out;
    }
    rc = audit_client(req, conn, "service_client.update", jf_req_param(req, 0),
                      jf_arena_printf(&req->arena, "{\"active\":%s}", jf_res_tf(active)));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_client(req, conn, jf_req_param(req, 0), 200, NULL);
out:
    PQclear(res);
    return rc;
}

/* POST /auth/token {grant_type: client_credentials, client_id, client_secret},
 * as JSON or as an OAuth 2.0 form (RFC 6749 §4.4)
 * → an access token for the client's service user (no refresh token: the
 * system asks again). Failures back off per client id, as logins do. */
static int token(jf_req *req)
{
    static const char *const allowed[] = {"grant_type", "client_id", "client_secret", NULL};
    const jf_config *cfg = &req->app->cfg;
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *client = NULL, *res = NULL;
    const char *grant, *client_id, *secret, *why = NULL, *key;
    char *access = NULL;
    jf_claims c;
    jf_buf out;
    bool ok;
    int rc;

    jf_buf_init(&out, 8 * 1024);
    if ((rc = jf_req_read_form_or_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    grant = jf_body_str(req, &e, "grant_type", true, 1, 32);
    client_id = jf_body_str(req, &e, "client_id", true, 1, CLIENT_ID_MAX);
    secret = jf_body_str(req, &e, "client_secret", true, 1, JF_PASSWORD_MAX_LEN);
    if (grant != NULL && strcmp(grant, "client_credentials") != 0)
        jf_errors_add(&e, "grant_type", "must be client_credentials");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    key = jf_arena_printf(&req->arena, "client:%s", client_id);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *cp[] = {client_id};
    rc = jf_db_exec(conn, &client_by_client_id, 1, cp, &client);
    if (rc == 0)
        rc = jf_throttle_take(req, conn, key, PQntuples(client) == 1, "Too many failed attempts");
    if (rc != 0)
        goto out;
    /* PBKDF2 takes a while: do not hold a connection meanwhile. */
    jf_req_db_release(req);
    if (PQntuples(client) == 1) {
        ok = jf_password_verify(secret, PQgetvalue(client, 0, C_HASH)) == 1;
        if (!ok)
            why = "wrong_secret";
        else if (strcmp(PQgetvalue(client, 0, C_ACTIVE), "t") != 0)
            why = "client_inactive";
        else if (strcmp(PQgetvalue(client, 0, C_USER_ACTIVE), "t") != 0)
            why = "user_inactive";
        else if (strcmp(PQgetvalue(client, 0, C_USABLE), "t") != 0)
            why = "not_a_service_user";
        ok = why == NULL;
    } else {
        jf_password_dummy_verify(secret, (unsigned)cfg->pbkdf2_iterations);
        why = "unknown_client";
        ok = false;
    }
    if ((rc = jf_req_db(req, &conn)) != 0)
        goto out;

    if (!ok) {
        jf_audit_entry a = {
            .action = "auth.token_failed",
            .username = key,
            .target_type = "service_client",
            .target_id = PQntuples(client) == 1 ? PQgetvalue(client, 0, C_ID) : NULL,
            .detail_json = jf_arena_printf(&req->arena, "{\"reason\":\"%s\"}", why)};
        rc = jf_audit_record(conn, req, &a);
        if (rc == 0)
            rc = jf_resp_problem(req, 401, "unauthorized", "Unauthorized",
                                 "unknown client, wrong secret, or the client is not active", NULL,
                                 NULL);
        goto out;
    }

    memset(&c, 0, sizeof(c));
    c.user_id = strtoll(PQgetvalue(client, 0, C_USER), NULL, 10);
    snprintf(c.username, sizeof(c.username), "%s", PQgetvalue(client, 0, C_NAME));
    snprintf(c.role, sizeof(c.role), "%s", PQgetvalue(client, 0, C_ROLE));
    c.org_unit_id = strtoll(PQgetvalue(client, 0, C_OU), NULL, 10);
    snprintf(c.org_path, sizeof(c.org_path), "%s", PQgetvalue(client, 0, C_PATH));
    c.agency_id = strtoll(PQgetvalue(client, 0, C_AGENCY), NULL, 10);
    const char *ip[] = {PQgetvalue(client, 0, C_ID)};
    jf_audit_entry a = {.action = "auth.token",
                        .target_type = "service_client",
                        .target_id = PQgetvalue(client, 0, C_ID),
                        .user_id = c.user_id,
                        .username = c.username,
                        .role = c.role};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_throttle_ok(req, conn, key);
    if (rc == 0) {
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &client_used, 1, ip, &res);
    }
    if (rc == 0)
        rc = jf_audit_record(conn, req, &a);
    if (rc == 0)
        rc = jf_token_issue(cfg, &c, time(NULL), &access);
    if (rc == 0)
        rc = jf_buf_printf(&out,
                           "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%ld}",
                           access, cfg->access_ttl_s);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0) {
        jf_resp_header(req, "Cache-Control", "no-store");
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    }
out:
    free(access);
    jf_buf_free(&out);
    PQclear(res);
    PQclear(client);
    return rc;
}

static const jf_route routes[] = {
    {"POST", "/api/v1/auth/token", token, 0, 0},
    {"GET", "/api/v1/service-clients", list, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"POST", "/api/v1/service-clients", create, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"GET", "/api/v1/service-clients/{id}", get, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"PATCH", "/api/v1/service-clients/{id}", patch, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
    {"POST", "/api/v1/service-clients/{id}/rotate", rotate, JF_ROUTE_AUTH, JF_CAP_USERS_ADMIN},
};

int jf_res_service_auth_init(void)
{
    jf_stmt *const s[] = {&client_by_client_id, &client_used, &user_for_client, &client_insert,
                          &client_doc,          &client_list, &client_rotate,   &client_update};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0 || jf_throttle_init() != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
