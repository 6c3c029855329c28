/* Shared handler helpers. */
#include "common.h"
#include "../record/patient.h"
#include "../db/pipeline.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/validate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int jf_res_lookup(jf_req *req, const jf_stmt *stmt, int key_param, int n, const char *const *params,
                  PGresult **res)
{
    const char *p[JF_DB_PIPE_PARAMS_MAX];
    jf_db_conn *conn;
    int rc;

    *res = NULL;
    if (req->app->pipe != NULL)
        return jf_db_pipe_lookup(req->app->pipe, stmt, key_param, n, params, res);
    /* No lanes: the same statement, for this key alone, on the pool. */
    if (n > JF_DB_PIPE_PARAMS_MAX || key_param < 0 || key_param >= n ||
        !jf_db_key_ok(params[key_param]))
        return JF_ERR_INVALID;
    memcpy(p, params, sizeof(*p) * (size_t)n);
    if ((p[key_param] = jf_arena_printf(&req->arena, "{%s}", params[key_param])) == NULL)
        return JF_ERR_NOMEM;
    if ((rc = jf_db_pool_acquire(req->app->pool, &conn)) != 0)
        return rc;
    rc = jf_db_exec(conn, stmt, n, p, res);
    jf_db_pool_release(req->app->pool, conn);
    return rc;
}

const char *jf_res_path_upper(jf_req *req, const char *path)
{
    char *u = path != NULL ? jf_arena_strdup(&req->arena, path) : NULL;

    if (u != NULL && *u != '\0')
        u[strlen(u) - 1] = '0';
    return u;
}

int jf_res_send_row(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, int n,
                    const char *const *params, int status)
{
    PGresult *res = NULL;
    int rc = jf_db_exec(conn, stmt, n, params, &res);

    if (rc == 0 && (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)))
        jf_resp_not_found(req);
    else if (rc == 0)
        rc = jf_resp_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

const char *jf_res_tf(bool b)
{
    return b ? "true" : "false";
}

const char *jf_res_id(jf_req *req, long long id)
{
    return jf_arena_printf(&req->arena, "%lld", id);
}

int jf_res_if_match(jf_req *req, long long *version)
{
    const char *h = jf_req_header(req, "If-Match");
    char *end = NULL;

    if (h == NULL) {
        jf_resp_problem(req, 428, "precondition-required", "Precondition required",
                        "send If-Match with the version you read (its ETag)", "If-Match",
                        "is required");
        return JF_ERR_INVALID;
    }
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    if (*h == '"')
        h++;
    errno = 0;
    *version = strtoll(h, &end, 10);
    if (errno != 0 || end == h || *version < 1 || (*end != '"' && *end != '\0') ||
        (*end == '"' && end[1] != '\0')) {
        jf_resp_problem(req, 400, "validation", "Validation failed", "If-Match is malformed",
                        "If-Match", "must be the ETag of the resource, e.g. \"3\"");
        return JF_ERR_INVALID;
    }
    return 0;
}

void jf_res_etag(jf_req *req, const char *version)
{
    jf_resp_header(req, "ETag", jf_arena_printf(&req->arena, "\"%s\"", version));
}

const char *jf_res_cursor_encode(jf_req *req, long long last_id)
{
    char plain[32], *out = jf_arena_alloc(&req->arena, 48);
    int n = snprintf(plain, sizeof(plain), "k1:%lld", last_id);

    if (out == NULL || jf_crypto_b64url_encode((unsigned char *)plain, (size_t)n, out, 48) < 0)
        return NULL;
    return out;
}

int jf_res_cursor_decode(jf_req *req, jf_errors *e, long long *after)
{
    const char *s = jf_req_query(req, "cursor");
    unsigned char plain[32];
    char *end = NULL;
    int n;

    *after = 0;
    if (s == NULL)
        return 0;
    n = jf_crypto_b64url_decode(s, strlen(s), plain, sizeof(plain) - 1);
    if (n > 3 && memcmp(plain, "k1:", 3) == 0) {
        plain[n] = '\0';
        errno = 0;
        *after = strtoll((char *)plain + 3, &end, 10);
        if (errno == 0 && *end == '\0' && *after > 0)
            return 0;
    }
    jf_errors_add(e, "cursor", "is not a cursor this server issued");
    return -1;
}

int jf_res_send_id_page(jf_req *req, const PGresult *res, int limit, int json_col)
{
    int n = PQntuples(res), rc;
    jf_buf out;

    jf_buf_init(&out, 8u << 20);
    rc = jf_buf_puts(&out, "{\"items\":[");
    for (int i = 0; rc == 0 && i < n && i < limit; i++)
        rc = (i ? jf_buf_puts(&out, ",") : 0) || jf_buf_puts(&out, PQgetvalue(res, i, json_col));
    rc = rc ? rc : jf_buf_puts(&out, "],\"next_cursor\":");
    rc = rc ? rc
            : jf_buf_json_str(&out, n > limit
                                        ? jf_res_cursor_encode(
                                              req, strtoll(PQgetvalue(res, limit - 1, 0), NULL, 10))
                                        : NULL);
    rc = rc ? rc : jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    return rc;
}

int jf_res_patient_path(jf_req *req, jf_db_conn *conn, long long id, const char **path)
{
    const char *p[] = {jf_res_id(req, id)};
    PGresult *res = NULL;
    int rc = jf_db_exec_sql(conn, "SELECT org_path FROM patients WHERE id = $1", 1, p, &res);

    if (rc == 0 && PQntuples(res) == 1)
        *path = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

const char *jf_res_medications(jf_req *req, jf_errors *e, const char *field, size_t max)
{
    static const char *const keys[] = {"drug",        "morning",     "noon",    "evening", "unit",
                                       "long_acting", "every_weeks", "dose_mg", NULL};
    json_t *a = json_object_get(req->body, field), *m, *v;
    const char *k;
    size_t i;
    char *s, *out;

    if (a == NULL || json_is_null(a))
        return NULL;
    if (!json_is_array(a) || json_array_size(a) > max) {
        jf_errors_add(e, field, "must be an array of at most %zu medications", max);
        return NULL;
    }
    json_array_foreach(a, i, m)
    {
        json_t *drug = json_object_get(m, "drug");
        bool la = json_is_true(json_object_get(m, "long_acting"));
        if (!json_is_object(m) || !json_is_string(drug) || json_string_length(drug) == 0 ||
            jf_utf8_len(json_string_value(drug)) > 100) {
            jf_errors_add(e, field, "item %zu needs a drug name (1-100 characters)", i);
            return NULL;
        }
        json_object_foreach(m, k, v)
        {
            bool ok = jf_in_set(k, keys);
            if (ok && (strcmp(k, "morning") == 0 || strcmp(k, "noon") == 0 ||
                       strcmp(k, "evening") == 0 || strcmp(k, "dose_mg") == 0))
                ok =
                    json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) < 100000;
            /* an injection's dose is never nothing (as a prescription's) */
            if (ok && strcmp(k, "dose_mg") == 0)
                ok = json_number_value(v) > 0;
            if (ok && strcmp(k, "every_weeks") == 0)
                ok =
                    json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 12;
            if (ok && strcmp(k, "unit") == 0)
                ok = json_is_string(v) &&
                     jf_in_set(json_string_value(v),
                               (const char *const[]){"mg", "ml", "tablet", NULL});
            if (ok && strcmp(k, "long_acting") == 0)
                ok = json_is_boolean(v);
            if (!ok) {
                jf_errors_add(e, field, "item %zu: %s is not valid", i, k);
                return NULL;
            }
        }
        if (la &&
            (json_object_get(m, "every_weeks") == NULL || json_object_get(m, "dose_mg") == NULL)) {
            jf_errors_add(e, field,
                          "item %zu: a long-acting injection needs every_weeks and dose_mg", i);
            return NULL;
        }
    }
    s = json_dumps(a, JSON_COMPACT);
    out = jf_arena_strdup(&req->arena, s);
    free(s);
    return out;
}

int jf_res_area_page(jf_req *req, const jf_stmt *stmt)
{
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *res = NULL;
    long long after_id = 0, unit = jf_query_id(req, &e, "org_unit_id");
    long long doctor = jf_query_id(req, &e, "doctor_id");
    const char *after_path = "", *scope;
    int limit, rc;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after_id);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    if (after_id > 0)
        rc = jf_res_patient_path(req, conn, after_id, &after_path);
    const char *p[] = {scope,
                       jf_res_path_upper(req, scope),
                       after_path,
                       jf_res_id(req, after_id),
                       jf_res_tf(jf_record_view(req).risk),
                       jf_res_id(req, limit + 1),
                       doctor > 0 ? jf_res_id(req, doctor) : NULL};
    if (rc == 0)
        rc = jf_db_exec(conn, stmt, 7, p, &res);
    /* The page may go slowly to a phone: the connection need not wait. */
    jf_req_db_release(req);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 2);
    PQclear(res);
    return rc;
}
