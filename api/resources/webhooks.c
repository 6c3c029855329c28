/* Webhook endpoints of external systems (a police station's system, a
 * hospital's): registered by admins for an agency, with a signing secret
 * stored sealed (AES-256-GCM, aad "webhook-secret") and the record-change
 * events it subscribes to besides its agency's notifications (migration
 * 0045); and the delivery log, readable by admins and by the agency's own
 * service account. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_AAD "webhook-secret"
#define SECRET_MIN 32
#define SECRET_MAX 128

#define ENDPOINT_JSON                                                                              \
    "json_build_object('id', w.id, 'agency_id', w.agency_id, 'agency_name', a.name, 'url',"        \
    " w.url, 'active', w.active, 'events', w.events, 'created_at', w.created_at, 'pending',"       \
    " (SELECT count(*)"                                                                            \
    " FROM deliveries d WHERE d.endpoint_id = w.id AND d.state = 'pending'), 'dead',"              \
    " (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = w.id AND d.state = 'dead'))"

static jf_stmt agency_path = {
    "webhook_agency_path",
    "SELECT o.path FROM agencies a JOIN org_units o ON o.id = a.org_unit_id WHERE a.id = $1", 0};
static jf_stmt insert_ep = {
    "webhook_insert",
    "INSERT INTO webhook_endpoints (agency_id, url, secret_cipher, events)"
    " VALUES ($1, $2, $3::bytea, coalesce($4::text[], '{}')) RETURNING id",
    0,
};
static jf_stmt one_ep = {
    "webhook_one",
    "SELECT " ENDPOINT_JSON "::text, o.path, w.agency_id FROM webhook_endpoints w"
    " JOIN agencies a ON a.id = w.agency_id JOIN org_units o ON o.id = a.org_unit_id"
    " WHERE w.id = $1",
    0,
};
static jf_stmt list_ep = {
    "webhook_list",
    "SELECT coalesce(json_agg(" ENDPOINT_JSON " ORDER BY w.id), '[]') FROM webhook_endpoints w"
    " JOIN agencies a ON a.id = w.agency_id JOIN org_units o ON o.id = a.org_unit_id"
    " WHERE starts_with(o.path, $1) OR a.id = nullif($2::bigint, 0)",
    0,
};
static jf_stmt update_ep = {
    "webhook_update",
    "UPDATE webhook_endpoints SET url = coalesce($2, url), active = coalesce($3::bool, active),"
    " secret_cipher = coalesce($4::bytea, secret_cipher), events = coalesce($5::text[], events)"
    " WHERE id = $1",
    0,
};
/* Dead deliveries of an active endpoint go back to the queue, due now,
 * with their attempts counted afresh (the last error stays for the log). */
static jf_stmt redrive_dead = {
    "webhook_redrive",
    "WITH e AS (SELECT active FROM webhook_endpoints WHERE id = $1),"
    " d AS (UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now()"
    "  WHERE endpoint_id = $1 AND state = 'dead' AND (SELECT active FROM e) RETURNING 1)"
    " SELECT (SELECT active FROM e), (SELECT count(*) FROM d)",
    0,
};
static jf_stmt deliveries = {
    "webhook_deliveries",
    "WITH page AS (SELECT d.*, o.event_id, o.topic, o.created_at AS event_at FROM deliveries d"
    "  JOIN outbox o ON o.id = d.outbox_id WHERE d.endpoint_id = $1"
    "  AND ($2::text IS NULL OR d.state = $2) AND ($3::bigint = 0 OR d.id < $3)"
    "  ORDER BY d.id DESC LIMIT $4::int + 1),"
    " shown AS (SELECT * FROM page ORDER BY id DESC LIMIT $4::int)"
    " SELECT coalesce((SELECT json_agg(json_build_object('id', id, 'event_id', event_id,"
    "  'topic', topic, 'state', state, 'attempts', attempts, 'next_attempt_at',"
    "  next_attempt_at, 'last_status', last_status, 'last_error', last_error, 'delivered_at',"
    "  delivered_at, 'event_at', event_at) ORDER BY id DESC) FROM shown), '[]'),"
    " (SELECT count(*) FROM page) > $4::int, (SELECT min(id) FROM shown)",
    0,
};

static const char *const states[] = {"pending", "delivered", "dead", NULL};

/* The body's events array as a text[] literal, each kind once; NULL when
 * absent or null, or with an error naming events or events[i]. */
static const char *read_events(jf_req *req, jf_errors *e)
{
    json_t *a = json_object_get(req->body, "events"), *v;
    const char *out = NULL;
    jf_buf lit;
    size_t i;

    if (a == NULL || json_is_null(a))
        return NULL;
    if (!json_is_array(a)) {
        jf_errors_add(e, "events", "must be an array of event kinds");
        return NULL;
    }
    jf_buf_init(&lit, 256);
    if (jf_buf_puts(&lit, "{") != 0)
        goto out;
    json_array_foreach(a, i, v)
    {
        const char *k = json_string_value(v);
        if (k == NULL || !jf_in_set(k, jf_res_event_kinds)) {
            jf_errors_add(e, jf_arena_printf(&req->arena, "events[%zu]", i),
                          "must be one of patient.registered, patient.risk_crossed,"
                          " patient.unstable, patient.discharged, patient.status_changed,"
                          " patient.transferred");
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(k, json_string_value(json_array_get(a, j))) == 0) {
                jf_errors_add(e, jf_arena_printf(&req->arena, "events[%zu]", i),
                              "repeats an earlier kind");
                goto out;
            }
        if (jf_buf_printf(&lit, "%s%s", i ? "," : "", k) != 0)
            goto out;
    }
    if (jf_buf_puts(&lit, "}") == 0)
        out = jf_arena_strdup(&req->arena, lit.data);
out:
    jf_buf_free(&lit);
    return out;
}

/* A URL this service may call: http(s), no spaces, not too long. */
static bool url_ok(const char *u)
{
    size_t n = strlen(u);

    return (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) && n <= 500 &&
           n > 10 && strpbrk(u, " \t\"<>\\") == NULL;
}

/* The secret sealed as bytea text, in the request arena. */
static const char *seal_secret(jf_req *req, const char *secret)
{
    size_t n = strlen(secret), total = n + JF_GCM_IV_LEN + JF_GCM_TAG_LEN;
    unsigned char *ct = jf_arena_alloc(&req->arena, total);
    char *hex = jf_arena_alloc(&req->arena, 2 * total + 3);

    if (ct == NULL || hex == NULL ||
        jf_crypto_seal(req->app->cfg.id_enc_key, SECRET_AAD, strlen(SECRET_AAD), secret, n, ct) !=
            0)
        return NULL;
    hex[0] = '\\';
    hex[1] = 'x';
    jf_crypto_hex(ct, total, hex + 2);
    return hex;
}

static int create(jf_req *req)
{
    static const char *const allowed[] = {"agency_id", "url", "secret", "events", NULL};
    jf_errors e = {0};
    long long agency = 0;
    const char *url, *secret, *sealed, *events;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "agency_id", true, 1, INT64_MAX, &agency);
    url = jf_body_str(req, &e, "url", true, 1, 500);
    secret = jf_body_str(req, &e, "secret", true, SECRET_MIN, SECRET_MAX);
    events = read_events(req, &e);
    if (url != NULL && !url_ok(url))
        jf_errors_add(&e, "url", "must be an http:// or https:// URL of at most 500 characters");
    if (secret != NULL && strlen(secret) != jf_utf8_len(secret))
        jf_errors_add(&e, "secret", "must be ASCII (32 to 128 characters)");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    sealed = seal_secret(req, secret);
    if (sealed == NULL)
        return JF_ERR_CRYPTO;
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *ap[] = {jf_res_id(req, agency)};
    rc = jf_db_exec(conn, &agency_path, 1, ap, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0 || !jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 0))) {
        jf_errors_add(&e, "agency_id", "no such agency in your area");
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_begin(conn);
    const char *p[] = {jf_res_id(req, agency), url, sealed, events};
    if (rc == 0)
        rc = jf_db_exec(conn, &insert_ep, 4, p, &res);
    const char *id = rc == 0 ? jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0)) : NULL;
    if (rc == 0) {
        jf_audit_entry a = {
            .action = "webhook.create", .target_type = "webhook_endpoint", .target_id = id};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    PQclear(res);
    const char *op[] = {id};
    rc = jf_db_exec(conn, &one_ep, 1, op, &res);
    if (rc != 0)
        goto out;
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/webhook-endpoints/%s", id));
    rc = jf_resp_json_text(req, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

/* May the caller see endpoint row (path, agency)? Admins in their area; a
 * service account for its own agency. */
static bool may_see(const jf_req *req, const PGresult *r)
{
    jf_role role = jf_role_parse(req->claims.role);

    if (jf_role_has(role, JF_CAP_CONFIG_WRITE))
        return jf_scope_contains(req->claims.org_path, PQgetvalue(r, 0, 1));
    return role == JF_ROLE_SERVICE && req->claims.agency_id > 0 &&
           strtoll(PQgetvalue(r, 0, 2), NULL, 10) == req->claims.agency_id;
}

/* Load endpoint {id} into *res if visible; else 404. */
static int load(jf_req *req, jf_db_conn *conn, PGresult **res)
{
    const char *p[] = {jf_req_param(req, 0)};
    int rc;

    if (jf_req_param_id(req, 0) == 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    rc = jf_db_exec(conn, &one_ep, 1, p, res);
    if (rc != 0)
        return rc;
    if (PQntuples(*res) == 0 || !may_see(req, *res)) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    return 0;
}

static int list(jf_req *req)
{
    jf_db_conn *conn;
    int rc;
    jf_role role = jf_role_parse(req->claims.role);
    bool admin = jf_role_has(role, JF_CAP_CONFIG_WRITE);

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    /* A service account sees its agency's endpoints only. */
    const char *p[] = {admin ? req->claims.org_path : "/none/",
                       jf_res_id(req, role == JF_ROLE_SERVICE ? req->claims.agency_id : 0)};
    PGresult *res = NULL;
    rc = jf_db_exec(conn, &list_ep, 2, p, &res);
    /* Formatting and sending need no connection. */
    jf_req_db_release(req);
    if (rc == 0) {
        jf_buf out;
        jf_buf_init(&out, 4u << 20);
        rc = jf_buf_printf(&out, "{\"items\":%s}", PQgetvalue(res, 0, 0));
        if (rc == 0)
            rc = jf_resp_json_text(req, 200, out.data, out.len);
        jf_buf_free(&out);
    }
    PQclear(res);
    return rc;
}

static int patch(jf_req *req)
{
    static const char *const allowed[] = {"url", "secret", "active", "events", NULL};
    jf_errors e = {0};
    const char *url, *secret, *sealed = NULL, *events;
    bool active = true;
    int has_active;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    url = jf_body_str(req, &e, "url", false, 1, 500);
    secret = jf_body_str(req, &e, "secret", false, SECRET_MIN, SECRET_MAX);
    events = read_events(req, &e);
    has_active = jf_body_bool(req, &e, "active", false, &active);
    if (url != NULL && !url_ok(url))
        jf_errors_add(&e, "url", "must be an http:// or https:// URL of at most 500 characters");
    if (secret != NULL && strlen(secret) != jf_utf8_len(secret))
        jf_errors_add(&e, "secret", "must be ASCII (32 to 128 characters)");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (secret != NULL && (sealed = seal_secret(req, secret)) == NULL)
        return JF_ERR_CRYPTO;
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if ((rc = load(req, conn, &res)) != 0)
        goto out;
    if (!jf_role_has(jf_role_parse(req->claims.role), JF_CAP_CONFIG_WRITE)) {
        rc = jf_resp_forbidden(req, "only an admin changes an endpoint");
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_begin(conn);
    const char *p[] = {jf_req_param(req, 0), url, has_active == 1 ? jf_res_tf(active) : NULL,
                       sealed, events};
    if (rc == 0)
        rc = jf_db_exec(conn, &update_ep, 5, p, &res);
    if (rc == 0) {
        jf_audit_entry a = {.action = "webhook.update",
                            .target_type = "webhook_endpoint",
                            .target_id = jf_req_param(req, 0)};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    PQclear(res);
    const char *op[] = {jf_req_param(req, 0)};
    rc = jf_db_exec(conn, &one_ep, 1, op, &res);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    PQclear(res);
    return rc;
}

static int delivery_log(jf_req *req)
{
    jf_errors e = {0};
    const char *state = jf_req_query(req, "state");
    long long before;
    int limit, rc;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &before);
    if (state != NULL && !jf_in_set(state, states))
        jf_errors_add(&e, "state", "must be pending, delivered or dead");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    jf_buf_init(&out, 16u << 20);
    if ((rc = load(req, conn, &res)) != 0)
        goto out;
    PQclear(res);
    res = NULL;
    const char *p[] = {jf_req_param(req, 0), state, jf_res_id(req, before), jf_res_id(req, limit)};
    if ((rc = jf_db_exec(conn, &deliveries, 4, p, &res)) != 0)
        goto out;
    rc = jf_buf_printf(&out, "{\"items\":%s,\"next_cursor\":", PQgetvalue(res, 0, 0));
    rc = rc ? rc
            : jf_buf_json_str(
                  &out, strcmp(PQgetvalue(res, 0, 1), "t") == 0
                            ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, 0, 2), NULL, 10))
                            : NULL);
    rc = rc ? rc : jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* POST /webhook-endpoints/{id}/deliveries/redrive: after the receiving
 * system is mended, an admin sends what went dead again (audited). */
static int redrive(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    char detail[64];
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if ((rc = load(req, conn, &res)) != 0)
        goto out;
    if (!jf_role_has(jf_role_parse(req->claims.role), JF_CAP_CONFIG_WRITE)) {
        rc = jf_resp_forbidden(req, "only an admin re-drives deliveries");
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_begin(conn);
    rc = rc ? rc
            : jf_db_exec(conn, &redrive_dead, 1, (const char *const[]){jf_req_param(req, 0)}, &res);
    if (rc != 0)
        goto out;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Endpoint inactive",
                             "activate the endpoint before re-driving its deliveries", "active",
                             "is false");
        goto out;
    }
    snprintf(detail, sizeof(detail), "{\"redriven\":%s}", PQgetvalue(res, 0, 1));
    jf_audit_entry a = {.action = "webhook.redrive",
                        .target_type = "webhook_endpoint",
                        .target_id = jf_req_param(req, 0),
                        .detail_json = detail};
    rc = jf_audit_record(conn, req, &a);
    rc = rc ? rc : jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, detail, strlen(detail));
out:
    PQclear(res);
    return rc;
}

static int get_one(jf_req *req)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    if ((rc = load(req, conn, &res)) == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/webhook-endpoints/{id}", get_one, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/webhook-endpoints", list, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/webhook-endpoints", create, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
    {"PATCH", "/api/v1/webhook-endpoints/{id}", patch, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/webhook-endpoints/{id}/deliveries", delivery_log, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/webhook-endpoints/{id}/deliveries/redrive", redrive, JF_ROUTE_AUTH, 0},
};

int jf_res_webhooks_init(void)
{
    jf_stmt *const s[] = {&agency_path, &insert_ep,  &one_ep,      &list_ep,
                          &update_ep,   &deliveries, &redrive_dead};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
