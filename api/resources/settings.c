/* The clinical configuration (分色管理, DOMAIN.md "Colour tier"): per colour
 * the longest follow-up interval and whether visits must be joint, and the
 * thresholds of the rules. One table of rows (name, bounds) validates a
 * change; the whole configuration is replaced at once. It is city-wide, so
 * only an administrator of the root unit may change it, and it applies to
 * recomputations from then on (existing due dates move at each patient's
 * next change, or with `jingfang-api recompute`). */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jf_stmt config = {
    "clinical_config_doc",
    "SELECT json_build_object('tiers', (SELECT json_object_agg(colour,"
    " json_build_object('interval_months', interval_months, 'joint', joint)"
    " ORDER BY array_position(ARRAY['red','orange','yellow','green'], colour)) FROM tier_config),"
    " 'settings', (SELECT json_object_agg(key, value ORDER BY array_position(ARRAY["
    "'red_min_risk','incident_months','relapse_count','pickup_tolerance_days',"
    "'miss_gap_days'], key))"
    " FROM clinical_settings), 'updated_at', greatest((SELECT max(updated_at) FROM tier_config),"
    " (SELECT max(updated_at) FROM clinical_settings)))::text",
    0,
};
/* $1 the new configuration (validated JSON), $2 the user. */
static jf_stmt tiers_store = {
    "clinical_config_tiers",
    "INSERT INTO tier_config (colour, interval_months, joint, updated_at, updated_by)"
    " SELECT t.key, (t.value->>'interval_months')::int, (t.value->>'joint')::bool, now(), $2"
    " FROM json_each($1::json->'tiers') t ON CONFLICT (colour) DO UPDATE SET"
    " interval_months = excluded.interval_months, joint = excluded.joint,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};
static jf_stmt settings_store = {
    "clinical_config_settings",
    "INSERT INTO clinical_settings (key, value, updated_at, updated_by)"
    " SELECT s.key, s.value::int, now(), $2 FROM json_each_text($1::json->'settings') s"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};
static jf_stmt is_root = {"clinical_config_root",
                          "SELECT parent_id IS NULL FROM org_units WHERE id = $1", 0};

static const char *const colours[] = {"red", "orange", "yellow", "green", NULL};

/* The settings, with their bounds. */
static const struct {
    const char *name;
    long long min, max;
    bool optional; /* added later: a document without it keeps the stored value */
} settings[] = {
    {"red_min_risk", 1, 5, false},           /* risk at or above this is red */
    {"incident_months", 1, 36, false},       /* an incident this recent is red */
    {"relapse_count", 1, 10, false},         /* this many admissions in 12 months is relapse */
    {"pickup_tolerance_days", 0, 60, false}, /* days past a supply's end before 取药超期 */
    {"miss_gap_days", 1, 30, true},          /* unreached attempts closer than this count once */
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Is every key of o among the NULL-terminated keys? Adds an error under
 * prefix for each that is not. */
static void only_keys(jf_errors *e, json_t *o, const char *prefix, const char *const *keys)
{
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v)
    {
        if (!jf_in_set(k, keys))
            jf_errors_add(e, prefix, "%s is not a known key", k);
    }
}

/* Validate the body into a new object of the canonical shape (owned). */
static json_t *read_config(const jf_req *req, jf_errors *e)
{
    /* updated_at is read-only, accepted so that a document read can be sent back. */
    static const char *const top[] = {"tiers", "settings", "updated_at", NULL};
    static const char *const tier_keys[] = {"interval_months", "joint", NULL};
    const char *setting_names[NSETTINGS + 1];
    json_t *tiers = json_object_get(req->body, "tiers");
    json_t *sets = json_object_get(req->body, "settings");
    json_t *out = json_pack("{s:{},s:{}}", "tiers", "settings");
    char field[64];

    jf_body_only(req, e, top);
    if (!json_is_object(tiers))
        jf_errors_add(e, "tiers", "must be an object with red, orange, yellow and green");
    if (!json_is_object(sets))
        jf_errors_add(e, "settings", "must be an object with every setting");
    if (json_is_object(tiers)) {
        only_keys(e, tiers, "tiers", colours);
        for (int c = 0; colours[c]; c++) {
            json_t *t = json_object_get(tiers, colours[c]);
            json_t *m = json_object_get(t, "interval_months"), *j = json_object_get(t, "joint");
            if (!json_is_object(t)) {
                snprintf(field, sizeof(field), "tiers.%s", colours[c]);
                jf_errors_add(e, field, "is required: {interval_months, joint}");
                continue;
            }
            snprintf(field, sizeof(field), "tiers.%s", colours[c]);
            only_keys(e, t, field, tier_keys);
            snprintf(field, sizeof(field), "tiers.%s.interval_months", colours[c]);
            if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 3)
                jf_errors_add(e, field, "must be a whole number of months from 1 to 3");
            snprintf(field, sizeof(field), "tiers.%s.joint", colours[c]);
            if (!json_is_boolean(j))
                jf_errors_add(e, field, "must be true or false");
            if (json_is_integer(m) && json_is_boolean(j))
                json_object_set_new(json_object_get(out, "tiers"), colours[c],
                                    json_pack("{s:I,s:b}", "interval_months", json_integer_value(m),
                                              "joint", json_is_true(j)));
        }
    }
    for (size_t i = 0; i < NSETTINGS; i++)
        setting_names[i] = settings[i].name;
    setting_names[NSETTINGS] = NULL;
    if (json_is_object(sets)) {
        only_keys(e, sets, "settings", setting_names);
        for (size_t i = 0; i < NSETTINGS; i++) {
            json_t *v = json_object_get(sets, settings[i].name);
            snprintf(field, sizeof(field), "settings.%s", settings[i].name);
            if (v == NULL && settings[i].optional)
                continue;
            if (!json_is_integer(v) || json_integer_value(v) < settings[i].min ||
                json_integer_value(v) > settings[i].max)
                jf_errors_add(e, field, "must be a whole number from %lld to %lld", settings[i].min,
                              settings[i].max);
            else
                json_object_set(json_object_get(out, "settings"), settings[i].name, v);
        }
    }
    return out;
}

/* GET /config/clinical */
static int get_config(jf_req *req)
{
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_res_acquire(req, &conn)) != 0)
        return rc;
    rc = jf_res_send_row(req, conn, &config, 0, NULL, 200);
    jf_db_pool_release(req->app->pool, conn);
    return rc;
}

/* PUT /config/clinical {tiers: {red: {interval_months, joint}, …}, settings: {…}} */
static int put_config(jf_req *req)
{
    jf_errors e = {0};
    jf_db_conn *conn = NULL;
    PGresult *res = NULL;
    json_t *cfg = NULL;
    char *after = NULL;
    const char *before = NULL;
    jf_buf out;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    cfg = read_config(req, &e);
    if (jf_errors_any(&e)) {
        json_decref(cfg);
        return jf_errors_respond(req, &e);
    }
    after = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    if (after == NULL)
        return JF_ERR_NOMEM;
    if ((rc = jf_res_acquire(req, &conn)) != 0) {
        free(after);
        return rc;
    }
    jf_buf_init(&out, 1u << 16);
    const char *rp[] = {jf_res_id(req, req->claims.org_unit_id)};
    rc = jf_db_exec(conn, &is_root, 1, rp, &res);
    if (rc != 0)
        goto dberr;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        rc = jf_resp_forbidden(req, "the tier configuration is city-wide: only an administrator "
                                    "of the whole area may change it");
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &config, 0, NULL, &res);
    if (rc == 0)
        before = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    const char *p[] = {after, jf_res_id(req, req->claims.user_id)};
    for (int i = 0; rc == 0 && i < 2; i++) {
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, i == 0 ? &tiers_store : &settings_store, 2, p, &res);
    }
    if (rc == 0) {
        jf_audit_entry a = {.action = "config.update",
                            .target_type = "config",
                            .target_id = "clinical",
                            .detail_json = jf_arena_printf(
                                &req->arena, "{\"before\":%s,\"after\":%s}", before, after)};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0) {
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &config, 0, NULL, &res);
    }
    if (rc == 0)
        rc = jf_buf_append(&out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto dberr;
    rc = jf_resp_json_text(req, 200, out.data, out.len);
    goto out;
dberr:
    jf_res_db_error(req, rc, res);
out:
    free(after);
    jf_buf_free(&out);
    PQclear(res);
    jf_db_pool_release(req->app->pool, conn);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/config/clinical", get_config, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"PUT", "/api/v1/config/clinical", put_config, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
};

int jf_res_settings_init(void)
{
    jf_stmt *const s[] = {&config, &tiers_store, &settings_store, &is_root};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
