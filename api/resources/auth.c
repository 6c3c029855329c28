/* Sessions: login with back-off by address and account, refresh-token
 * rotation with reuse detection, logout, and "who am I". */
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

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFRESH_BYTES 32
#define REFRESH_TOKEN_MAX 128

/* Columns shared by the two user look-ups below, in this order. */
#define USER_COLS                                                                                  \
    "u.id, u.username, u.role, u.org_unit_id, o.path, coalesce(u.agency_id, 0), u.active, "        \
    "u.password_hash, au.doc"
static jf_stmt user_by_name = {
    "auth_user_by_name",
    "SELECT " USER_COLS " FROM users u JOIN org_units o ON o.id = u.org_unit_id"
    " JOIN api_users au ON au.id = u.id WHERE u.username = $1",
    0,
};
static jf_stmt user_by_id = {
    "auth_user_by_id",
    "SELECT " USER_COLS " FROM users u JOIN org_units o ON o.id = u.org_unit_id"
    " JOIN api_users au ON au.id = u.id WHERE u.id = $1",
    0,
};
static jf_stmt refresh_insert = {
    "auth_refresh_insert",
    "INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at)"
    " VALUES ($1, coalesce($2::uuid, gen_random_uuid()), decode($3, 'hex'),"
    " now() + make_interval(secs => $4::int)) RETURNING id",
    0,
};
static jf_stmt refresh_lookup = {
    "auth_refresh_lookup",
    "SELECT id, user_id, family, revoked_at IS NOT NULL, expires_at <= now()"
    " FROM refresh_tokens WHERE token_hash = decode($1, 'hex') FOR UPDATE",
    0,
};
static jf_stmt refresh_rotate = {
    "auth_refresh_rotate",
    "UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE id = $1", 0};
static jf_stmt refresh_revoke_family = {
    "auth_refresh_revoke_family",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1::uuid"
    " AND revoked_at IS NULL",
    0,
};
static jf_stmt me_doc = {"auth_me", "SELECT doc FROM api_users WHERE id = $1", 0};

/* What the two user look-ups return. */
enum { U_ID, U_NAME, U_ROLE, U_OU, U_PATH, U_AGENCY, U_ACTIVE, U_HASH, U_DOC };

static void claims_from_row(const PGresult *r, jf_claims *c)
{
    memset(c, 0, sizeof(*c));
    c->user_id = strtoll(PQgetvalue(r, 0, U_ID), NULL, 10);
    snprintf(c->username, sizeof(c->username), "%s", PQgetvalue(r, 0, U_NAME));
    snprintf(c->role, sizeof(c->role), "%s", PQgetvalue(r, 0, U_ROLE));
    c->org_unit_id = strtoll(PQgetvalue(r, 0, U_OU), NULL, 10);
    snprintf(c->org_path, sizeof(c->org_path), "%s", PQgetvalue(r, 0, U_PATH));
    c->agency_id = strtoll(PQgetvalue(r, 0, U_AGENCY), NULL, 10);
}

/* Make a refresh token: the client gets the random text, the database its
 * SHA-256 in hex. */
static int new_refresh(char token[64], char hash_hex[2 * JF_SHA256_LEN + 1])
{
    unsigned char raw[REFRESH_BYTES], h[JF_SHA256_LEN];

    if (jf_crypto_random(raw, sizeof(raw)) != 0)
        return JF_ERR_CRYPTO;
    jf_crypto_b64url_encode(raw, sizeof(raw), token, 64);
    jf_crypto_sha256(token, strlen(token), h);
    jf_crypto_hex(h, sizeof(h), hash_hex);
    return 0;
}

static void hash_hex_of(const char *token, char hash_hex[2 * JF_SHA256_LEN + 1])
{
    unsigned char h[JF_SHA256_LEN];

    jf_crypto_sha256(token, strlen(token), h);
    jf_crypto_hex(h, sizeof(h), hash_hex);
}

/* Store a new refresh token (in family, or a new family when NULL) and write
 * the token pair for the user in row r into out — sent by the caller only
 * after its transaction committed. The new token's id goes to new_id. */
static int issue_pair(jf_req *req, jf_db_conn *conn, const PGresult *r, const char *family,
                      char *new_id, size_t new_id_len, jf_buf *out)
{
    const jf_config *cfg = &req->app->cfg;
    char token[64], hash[2 * JF_SHA256_LEN + 1], ttl[24];
    char *access = NULL;
    PGresult *res = NULL;
    jf_claims c;
    int rc;

    claims_from_row(r, &c);
    rc = new_refresh(token, hash);
    if (rc != 0)
        return rc;
    snprintf(ttl, sizeof(ttl), "%ld", cfg->refresh_ttl_s);
    const char *p[] = {PQgetvalue(r, 0, U_ID), family, hash, ttl};
    rc = jf_db_exec(conn, &refresh_insert, 4, p, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    snprintf(new_id, new_id_len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    rc = jf_token_issue(cfg, &c, time(NULL), &access);
    if (rc != 0)
        return rc;
    rc = jf_buf_printf(out,
                       "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%ld,"
                       "\"refresh_token\":\"%s\",\"refresh_expires_in\":%ld,\"user\":%s}",
                       access, cfg->access_ttl_s, token, cfg->refresh_ttl_s,
                       PQgetvalue(r, 0, U_DOC));
    free(access);
    return rc;
}

static int unauthorized(jf_req *req, const char *detail)
{
    return jf_resp_problem(req, 401, "unauthorized", "Unauthorized", detail, NULL, NULL);
}

static int login(jf_req *req)
{
    static const char *const allowed[] = {"username", "password", NULL};
    const jf_config *cfg = &req->app->cfg;
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *user = NULL;
    const char *username, *password;
    char *key, new_id[24];
    jf_buf pair;
    bool ok;
    int rc;

    jf_buf_init(&pair, 64 * 1024);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    username = jf_body_str(req, &e, "username", true, 1, 64);
    password = jf_body_str(req, &e, "password", true, 1, JF_PASSWORD_MAX_LEN);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    key = jf_arena_strdup(&req->arena, username);
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *kp[] = {key};
    if ((rc = jf_db_exec(conn, &user_by_name, 1, kp, &user)) != 0)
        goto out;
    /* Counted before the password is checked, so that parallel guesses
     * cannot all pass a check made before the first failure is written. */
    if ((rc = jf_throttle_take(req, conn, key, PQntuples(user) == 1, "Too many failed logins")) !=
        0)
        goto out;
    /* PBKDF2 takes a while: do not hold a connection meanwhile. */
    jf_req_db_release(req);
    if (PQntuples(user) == 1) {
        ok = jf_password_verify(password, PQgetvalue(user, 0, U_HASH)) &&
             strcmp(PQgetvalue(user, 0, U_ACTIVE), "t") == 0;
    } else {
        jf_password_dummy_verify(password, (unsigned)cfg->pbkdf2_iterations);
        ok = false;
    }
    if ((rc = jf_req_db(req, &conn)) != 0)
        goto out;

    if (!ok) {
        jf_audit_entry a = {.action = "auth.login_failed", .username = key, .target_type = "user"};
        if ((rc = jf_audit_record(conn, req, &a)) == 0)
            unauthorized(req, "wrong username or password");
        goto out;
    }

    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_throttle_ok(req, conn, key);
    if (rc == 0) {
        jf_audit_entry a = {.action = "auth.login",
                            .target_type = "user",
                            .target_id = PQgetvalue(user, 0, U_ID),
                            .user_id = strtoll(PQgetvalue(user, 0, U_ID), NULL, 10),
                            .username = PQgetvalue(user, 0, U_NAME),
                            .role = PQgetvalue(user, 0, U_ROLE)};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = issue_pair(req, conn, user, NULL, new_id, sizeof(new_id), &pair);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, pair.data, pair.len);
out:
    jf_buf_free(&pair);
    PQclear(user);
    return rc;
}

/* Read {refresh_token} from the body; NULL with the problem sent. */
static const char *body_refresh_token(jf_req *req)
{
    static const char *const allowed[] = {"refresh_token", NULL};
    jf_errors e = {0};
    const char *t;

    if (jf_req_read_json(req) != 0)
        return NULL;
    jf_body_only(req, &e, allowed);
    t = jf_body_str(req, &e, "refresh_token", true, 16, REFRESH_TOKEN_MAX);
    if (jf_errors_any(&e)) {
        jf_errors_respond(req, &e);
        return NULL;
    }
    return t;
}

enum { R_ID, R_USER, R_FAMILY, R_REVOKED, R_EXPIRED };

static int refresh(jf_req *req)
{
    const char *token = body_refresh_token(req);
    char hash[2 * JF_SHA256_LEN + 1], new_id[24];
    jf_db_conn *conn;
    PGresult *tok = NULL, *user = NULL, *res = NULL;
    jf_buf pair;
    int rc;

    if (token == NULL)
        return JF_ERR_INVALID;
    hash_hex_of(token, hash);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    jf_buf_init(&pair, 64 * 1024);
    const char *hp[] = {hash};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &refresh_lookup, 1, hp, &tok)) != 0)
        goto out;
    if (PQntuples(tok) == 0) {
        unauthorized(req, "unknown refresh token");
        goto out;
    }
    if (strcmp(PQgetvalue(tok, 0, R_REVOKED), "t") == 0) {
        /* A rotated token came back: someone holds a copy. End the family. */
        jf_audit_entry a = {.action = "auth.refresh_reused",
                            .target_type = "user",
                            .target_id = PQgetvalue(tok, 0, R_USER),
                            .user_id = strtoll(PQgetvalue(tok, 0, R_USER), NULL, 10)};
        const char *fp[] = {PQgetvalue(tok, 0, R_FAMILY)};
        rc = jf_db_exec(conn, &refresh_revoke_family, 1, fp, &res);
        if (rc == 0)
            rc = jf_audit_record(conn, req, &a);
        if (rc == 0)
            rc = jf_db_commit(conn);
        if (rc == 0)
            unauthorized(req, "refresh token was already used; please log in again");
        goto out;
    }
    if (strcmp(PQgetvalue(tok, 0, R_EXPIRED), "t") == 0) {
        unauthorized(req, "refresh token expired");
        goto out;
    }
    const char *up[] = {PQgetvalue(tok, 0, R_USER)};
    if ((rc = jf_db_exec(conn, &user_by_id, 1, up, &user)) != 0)
        goto out;
    if (PQntuples(user) == 0 || strcmp(PQgetvalue(user, 0, U_ACTIVE), "t") != 0) {
        unauthorized(req, "account disabled");
        goto out;
    }
    rc = issue_pair(req, conn, user, PQgetvalue(tok, 0, R_FAMILY), new_id, sizeof(new_id), &pair);
    if (rc != 0)
        goto out;
    const char *rp[] = {PQgetvalue(tok, 0, R_ID), new_id};
    rc = jf_db_exec(conn, &refresh_rotate, 2, rp, &res);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, pair.data, pair.len);
out:
    jf_buf_free(&pair);
    PQclear(res);
    PQclear(tok);
    PQclear(user);
    return rc;
}

static int logout(jf_req *req)
{
    const char *token = body_refresh_token(req);
    char hash[2 * JF_SHA256_LEN + 1];
    jf_db_conn *conn;
    PGresult *tok = NULL, *res = NULL;
    int rc;

    if (token == NULL)
        return JF_ERR_INVALID;
    hash_hex_of(token, hash);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *hp[] = {hash};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &refresh_lookup, 1, hp, &tok)) != 0)
        goto out;
    if (PQntuples(tok) == 0) {
        unauthorized(req, "unknown refresh token");
        goto out;
    }
    const char *fp[] = {PQgetvalue(tok, 0, R_FAMILY)};
    jf_audit_entry a = {.action = "auth.logout",
                        .target_type = "user",
                        .target_id = PQgetvalue(tok, 0, R_USER),
                        .user_id = strtoll(PQgetvalue(tok, 0, R_USER), NULL, 10)};
    rc = jf_db_exec(conn, &refresh_revoke_family, 1, fp, &res);
    if (rc == 0)
        rc = jf_audit_record(conn, req, &a);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        jf_resp_send(req, 204, NULL, NULL, 0);
out:
    PQclear(res);
    PQclear(tok);
    return rc;
}

static int me(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_res_id(req, req->claims.user_id)};
    return jf_res_send_row(req, conn, &me_doc, 1, p, 200);
}

static const jf_route routes[] = {
    {"POST", "/api/v1/auth/login", login, 0, 0},
    {"POST", "/api/v1/auth/refresh", refresh, 0, 0},
    {"POST", "/api/v1/auth/logout", logout, 0, 0},
    {"GET", "/api/v1/me", me, JF_ROUTE_AUTH, 0},
};

int jf_res_auth_init(void)
{
    jf_stmt *const s[] = {&user_by_name,   &user_by_id,     &refresh_insert,
                          &refresh_lookup, &refresh_rotate, &refresh_revoke_family,
                          &me_doc};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0 || jf_throttle_init() != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
