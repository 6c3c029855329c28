/* Idempotency keys: reserve, replay, or refuse. */
#include "idempotency.h"
#include "common.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 128

static jf_stmt idem_reserve = {
    "idem_reserve",
    "INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)"
    " VALUES ($1, $2, $3, $4, decode($5, 'hex')) ON CONFLICT DO NOTHING RETURNING 1",
    0,
};
static jf_stmt idem_get = {
    "idem_get",
    "SELECT encode(request_hash, 'hex'), status, location, response, method, path"
    " FROM idempotency_keys WHERE user_id = $1 AND key = $2",
    0,
};
static jf_stmt idem_store = {
    "idem_store",
    "UPDATE idempotency_keys SET status = $3, location = $4, response = $5::bytea"
    " WHERE user_id = $1 AND key = $2",
    0,
};

#define IDEM_AAD "idempotent-response"

/* The stored response is sealed like an ID number: it may contain one. */
static char *seal_response(jf_req *req, const char *body)
{
    size_t n = strlen(body);
    unsigned char *ct = jf_arena_alloc(&req->arena, n + JF_GCM_IV_LEN + JF_GCM_TAG_LEN);
    char *hex = jf_arena_alloc(&req->arena, 2 * (n + JF_GCM_IV_LEN + JF_GCM_TAG_LEN) + 3);

    if (ct == NULL || hex == NULL ||
        jf_crypto_seal(req->app->cfg.id_enc_key, IDEM_AAD, strlen(IDEM_AAD), body, n, ct) != 0)
        return NULL;
    hex[0] = '\\';
    hex[1] = 'x';
    jf_crypto_hex(ct, n + JF_GCM_IV_LEN + JF_GCM_TAG_LEN, hex + 2);
    return hex;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Open a stored response (bytea text "\\x…"); NULL when it does not verify. */
static char *open_response(jf_req *req, const char *hex)
{
    size_t hn = strlen(hex), n;
    unsigned char *ct;
    char *plain;

    if (hn < 2 + 2 * (JF_GCM_IV_LEN + JF_GCM_TAG_LEN) || hex[0] != '\\' || (hn - 2) % 2 != 0)
        return NULL;
    n = (hn - 2) / 2;
    ct = jf_arena_alloc(&req->arena, n);
    plain = jf_arena_alloc(&req->arena, n + 1);
    if (ct == NULL || plain == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 + 2 * i]), lo = hexval(hex[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return NULL;
        ct[i] = (unsigned char)(hi << 4 | lo);
    }
    if (jf_crypto_open(req->app->cfg.id_enc_key, IDEM_AAD, strlen(IDEM_AAD), ct, n,
                       (unsigned char *)plain) != 0)
        return NULL;
    plain[n - JF_GCM_IV_LEN - JF_GCM_TAG_LEN] = '\0';
    return plain;
}

int jf_idem_init(void)
{
    jf_stmt *const s[] = {&idem_reserve, &idem_get, &idem_store};

    return jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

/* SHA-256 of method, path and the body in a canonical form (sorted keys),
 * so whitespace or key order does not make a retry look different. */
static void request_hash(const jf_req *req, char hex[2 * JF_SHA256_LEN + 1])
{
    unsigned char h[JF_SHA256_LEN];
    char *body = req->body ? json_dumps(req->body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    jf_buf b;

    jf_buf_init(&b, 1u << 26);
    if (jf_buf_printf(&b, "%s %s\n%s", req->method, req->path, body ? body : "") != 0)
        jf_buf_reset(&b);
    jf_crypto_sha256(b.data ? b.data : "", b.len, h);
    jf_crypto_hex(h, sizeof(h), hex);
    jf_buf_free(&b);
    free(body);
}

int jf_idem_begin(jf_req *req, jf_db_conn *conn, jf_idem *st)
{
    const char *key = req->idem_key ? req->idem_key : jf_req_header(req, "Idempotency-Key");
    char hash[2 * JF_SHA256_LEN + 1];
    PGresult *res = NULL;
    int rc;

    st->active = false;
    st->key = NULL;
    if (key != NULL && (*key == '\0' || strlen(key) > KEY_MAX)) {
        jf_resp_problem(req, 400, "validation", "Validation failed", "Idempotency-Key is invalid",
                        "Idempotency-Key", "must be 1 to 128 characters");
        return JF_IDEM_DONE;
    }
    if ((rc = jf_db_begin(conn)) != 0)
        return rc;
    if (key == NULL)
        return JF_IDEM_NEW;
    request_hash(req, hash);
    const char *uid = jf_res_id(req, req->claims.user_id);
    const char *p[] = {uid, key, req->method, req->path, hash};
    rc = jf_db_exec(conn, &idem_reserve, 5, p, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 1) {
        PQclear(res);
        st->active = true;
        st->key = key;
        return JF_IDEM_NEW;
    }
    PQclear(res);
    /* Seen before (and committed: the insert waited for it). */
    rc = jf_db_exec(conn, &idem_get, 2, p, &res);
    if (rc == 0 && PQntuples(res) == 0)
        rc = JF_ERR_DB;
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (strcmp(PQgetvalue(res, 0, 0), hash) != 0 || PQgetisnull(res, 0, 1)) {
        jf_resp_problem(req, 422, "idempotency-key-reused", "Idempotency key reused",
                        "this key was used for a different request",
                        req->idem_key ? "key" : "Idempotency-Key",
                        "was already used with another request");
    } else {
        const char *body = open_response(req, PQgetvalue(res, 0, 3));
        if (body == NULL) {
            PQclear(res);
            return JF_ERR_CRYPTO;
        }
        if (!PQgetisnull(res, 0, 2))
            jf_resp_header(req, "Location", PQgetvalue(res, 0, 2));
        jf_resp_header(req, "Idempotent-Replayed", "true");
        jf_resp_json_text(req, (int)strtol(PQgetvalue(res, 0, 1), NULL, 10), body, strlen(body));
    }
    PQclear(res);
    return JF_IDEM_DONE;
}

int jf_idem_finish(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status,
                   const char *location, const char *body)
{
    PGresult *res = NULL;
    char code[8];
    int rc;

    char *sealed;

    if (!st->active)
        return 0;
    sealed = seal_response(req, body);
    if (sealed == NULL)
        return JF_ERR_CRYPTO;
    snprintf(code, sizeof(code), "%d", status);
    const char *p[] = {jf_res_id(req, req->claims.user_id), st->key, code, location, sealed};
    rc = jf_db_exec(conn, &idem_store, 5, p, &res);
    PQclear(res);
    return rc;
}

int jf_idem_commit(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status, const char *body,
                   size_t len)
{
    int rc = jf_idem_finish(req, conn, st, status, NULL, body);

    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        return rc;
    return jf_resp_json_text(req, status, body, len);
}

int jf_idem_commit_row(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status,
                       const jf_stmt *stmt, int n, const char *const *p)
{
    PGresult *res = NULL;
    int rc = jf_db_exec(conn, stmt, n, p, &res);

    if (rc == 0)
        rc = jf_idem_commit(req, conn, st, status, PQgetvalue(res, 0, 0),
                            (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}
