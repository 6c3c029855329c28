/* The clinical configuration (分色管理, DOMAIN.md "Colour tier") per org
 * unit: per colour the longest follow-up interval and whether visits must be
 * joint, the thresholds of the rules, and the scheme that gives the colour
 * (the rules, or points: 积分, seed 001). A unit without its own uses its
 * nearest ancestor's; the default is the root's. An administrator of a unit
 * or of one above it edits the unit's; only one of the root edits the
 * default. A change applies to recomputations from then on (existing due
 * dates move at each patient's next change, or with `jingfang-api
 * recompute`). */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../domain/tier.h"
#include "../http/response.h"
#include "../http/router.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configuration that applies at unit $1 (NULL: the default), and where
 * it comes from. */
static jf_stmt config = {
    "clinical_config_doc",
    "SELECT json_build_object('org_unit_id', $1::bigint,"
    " 'tiers', (SELECT json_object_agg(key, value"
    "  ORDER BY array_position(ARRAY['red','orange','yellow','green'], key))"
    "  FROM jsonb_each(c.tiers)),"
    " 'settings', (SELECT json_object_agg(key, value ORDER BY array_position(ARRAY["
    "  'red_min_risk','incident_months','relapse_count','pickup_tolerance_days',"
    "  'miss_gap_days','alert_urgent_received_minutes','alert_urgent_arrived_minutes',"
    "  'alert_urgent_handled_minutes','alert_warning_received_minutes',"
    "  'alert_warning_arrived_minutes','alert_warning_handled_minutes',"
    "  'alert_watch_received_minutes','alert_watch_arrived_minutes',"
    "  'alert_watch_handled_minutes','exchange_health_police_months',"
    "  'exchange_health_stability_months','exchange_other_months','exchange_grace_days',"
    "  'referral_routine_days','referral_urgent_days','referral_emergency_days'], key))"
    "  FROM jsonb_each(c.settings)),"
    " 'scheme', c.scheme, 'points', c.points,"
    " 'source_unit_id', c.org_unit_id,"
    " 'source_unit_name', (SELECT name FROM org_units WHERE id = c.org_unit_id),"
    " 'inherited', c.org_unit_id IS DISTINCT FROM $1::bigint"
    "  AND (SELECT parent_id FROM org_units WHERE id = $1::bigint) IS NOT NULL,"
    " 'updated_at', c.updated_at)::text"
    " FROM clinical_config_at(coalesce((SELECT path FROM org_units WHERE id = $1::bigint), '')) c",
    0,
};
static jf_stmt unit = {
    "clinical_config_unit",
    "SELECT path, parent_id IS NULL FROM org_units WHERE id = $1::bigint",
    0,
};
/* $1 the unit's own key (NULL: the default), $2 the user, $3 the validated
 * document. Settings missing from the document, and the scheme with its
 * points when the document has none, are those that applied until now. */
static jf_stmt store = {
    "clinical_config_store",
    "INSERT INTO clinical_configs (org_unit_id, tiers, settings, scheme, points,"
    " updated_at, updated_by)"
    " SELECT $1::bigint, $3::jsonb->'tiers', c.settings || ($3::jsonb->'settings'),"
    "  CASE WHEN $3::jsonb ? 'scheme' THEN $3::jsonb->>'scheme' ELSE c.scheme END,"
    "  CASE WHEN $3::jsonb ? 'scheme' THEN nullif($3::jsonb->'points', 'null') ELSE c.points END,"
    "  now(), $2::bigint"
    " FROM clinical_config_at(coalesce((SELECT path FROM org_units WHERE id = $1::bigint), '')) c"
    " ON CONFLICT (org_unit_id) DO UPDATE SET tiers = excluded.tiers,"
    " settings = excluded.settings, scheme = excluded.scheme, points = excluded.points,"
    " removed_at = NULL, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};
/* $1 the unit, $2 the user: the row stays, marked removed. */
static jf_stmt drop = {
    "clinical_config_drop",
    "UPDATE clinical_configs SET removed_at = now(), updated_at = now(), updated_by = $2::bigint"
    " WHERE org_unit_id = $1::bigint AND removed_at IS NULL",
    0,
};

static const char *const colours[] = {"red", "orange", "yellow", "green", NULL};
static const char *const schemes[] = {"rules", "points", NULL};

/* The settings, with their bounds. */
static const struct {
    const char *name;
    long long min, max;
    bool optional; /* added later: a document without it keeps the value that applied */
} settings[] = {
    {"red_min_risk", 1, 5, false},           /* risk at or above this is red */
    {"incident_months", 1, 36, false},       /* an incident this recent is red */
    {"relapse_count", 1, 10, false},         /* this many admissions in 12 months is relapse */
    {"pickup_tolerance_days", 0, 60, false}, /* days past a supply's end before 取药超期 */
    {"miss_gap_days", 1, 30, true},          /* unreached attempts closer than this count once */
    /* Minutes an agency has to receive an alert, arrive and handle it, per
     * grade ("1、3、5"分钟快反, seed 000). */
    {"alert_urgent_received_minutes", 1, 1440, true},
    {"alert_urgent_arrived_minutes", 1, 1440, true},
    {"alert_urgent_handled_minutes", 1, 1440, true},
    {"alert_warning_received_minutes", 1, 1440, true},
    {"alert_warning_arrived_minutes", 1, 1440, true},
    {"alert_warning_handled_minutes", 1, 1440, true},
    {"alert_watch_received_minutes", 1, 1440, true},
    {"alert_watch_arrived_minutes", 1, 1440, true},
    {"alert_watch_handled_minutes", 1, 1440, true},
    /* Months between inter-agency exchanges (信息交换, seeds 001 and 004),
     * and the days after a period by which the receiver confirms one. */
    {"exchange_health_police_months", 1, 12, true},
    {"exchange_health_stability_months", 1, 12, true},
    {"exchange_other_months", 1, 12, true},
    {"exchange_grace_days", 1, 60, true},
    /* Days a hospital has to take up a referral (转诊) of each urgency
     * before it is overdue (0: the same day). */
    {"referral_routine_days", 1, 60, true},
    {"referral_urgent_days", 0, 7, true},
    {"referral_emergency_days", 0, 2, true},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

#define POINTS_ITEM_MAX 100 /* points of one item */
#define POINTS_TOTAL_MAX 1000

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

/* An integer member of o in [min, max], named prefix.key in an error. */
static bool int_in(jf_errors *e, json_t *o, const char *prefix, const char *key, long long min,
                   long long max)
{
    json_t *v = json_object_get(o, key);
    char field[96];

    if (json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max)
        return true;
    snprintf(field, sizeof(field), "%s.%s", prefix, key);
    jf_errors_add(e, field, "must be a whole number from %lld to %lld", min, max);
    return false;
}

/* points: {items: {risk_level: per level, <flag>: points, …}, thresholds:
 * {red, orange, yellow}}. Returns a copy of it when valid. */
static json_t *read_points(jf_errors *e, json_t *p)
{
    static const char *const top[] = {"items", "thresholds", NULL};
    static const char *const limits[] = {"red", "orange", "yellow", NULL};
    const char *items[JF_FLAG_COUNT + 2];
    json_t *it = json_object_get(p, "items"), *th = json_object_get(p, "thresholds");
    const char *k;
    json_t *v;
    bool ok = true;

    if (!json_is_object(p)) {
        jf_errors_add(e, "points", "must be an object {items, thresholds}");
        return NULL;
    }
    items[0] = "risk_level";
    for (int i = 0; i < JF_FLAG_COUNT; i++)
        items[i + 1] = jf_flag_name((jf_flag)i);
    items[JF_FLAG_COUNT + 1] = NULL;
    only_keys(e, p, "points", top);
    if (!json_is_object(it)) {
        jf_errors_add(e, "points.items", "must be an object of points per item");
        ok = false;
    } else {
        only_keys(e, it, "points.items", items);
        json_object_foreach(it, k, v)
        {
            if (jf_in_set(k, items))
                ok = int_in(e, it, "points.items", k, 0, POINTS_ITEM_MAX) && ok;
        }
    }
    if (!json_is_object(th)) {
        jf_errors_add(e, "points.thresholds", "must be an object {red, orange, yellow}");
        return NULL;
    }
    only_keys(e, th, "points.thresholds", limits);
    for (int i = 0; limits[i]; i++)
        ok = int_in(e, th, "points.thresholds", limits[i], 1, POINTS_TOTAL_MAX) && ok;
    if (ok && !(json_integer_value(json_object_get(th, "yellow")) <=
                    json_integer_value(json_object_get(th, "orange")) &&
                json_integer_value(json_object_get(th, "orange")) <=
                    json_integer_value(json_object_get(th, "red"))))
        jf_errors_add(e, "points.thresholds", "must rise from yellow to orange to red");
    return ok ? json_deep_copy(p) : NULL;
}

/* Validate the body into a new object of the canonical shape (owned). */
static json_t *read_config(const jf_req *req, jf_errors *e)
{
    /* org_unit_id names the unit; the rest of what a read gives is
     * accepted so that a document read can be sent back. */
    static const char *const top[] = {
        "tiers",      "settings",  "scheme",         "points",           "org_unit_id",
        "updated_at", "inherited", "source_unit_id", "source_unit_name", NULL};
    static const char *const tier_keys[] = {"interval_months", "joint", NULL};
    const char *setting_names[NSETTINGS + 1];
    json_t *tiers = json_object_get(req->body, "tiers");
    json_t *sets = json_object_get(req->body, "settings");
    json_t *out = json_pack("{s:{},s:{}}", "tiers", "settings");
    const char *scheme;
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
            if (v == NULL && settings[i].optional)
                continue;
            if (int_in(e, sets, "settings", settings[i].name, settings[i].min, settings[i].max))
                json_object_set(json_object_get(out, "settings"), settings[i].name, v);
        }
    }
    /* Without a scheme, the scheme and points stay as they were; with one,
     * the points come with it (required for "points"). */
    scheme = jf_body_code(req, e, "scheme", false, schemes);
    if (scheme != NULL) {
        json_t *p = json_object_get(req->body, "points");
        json_object_set_new(out, "scheme", json_string(scheme));
        if (p != NULL && !json_is_null(p))
            json_object_set_new(out, "points", read_points(e, p));
        else if (strcmp(scheme, "points") == 0)
            jf_errors_add(e, "points", "is required with the points scheme");
    } else if (jf_body_has(req, "points") && !jf_body_has(req, "scheme")) {
        jf_errors_add(e, "points", "comes with a scheme: give scheme too");
    }
    return out;
}

/* Is path that of a root unit ("/1/")? */
static bool root_path(const char *path)
{
    const char *second = path[0] == '/' ? strchr(path + 1, '/') : NULL;

    return second != NULL && second[1] == '\0';
}

/* Whose configuration a request means: unit id (0: the default), as the
 * unit's own key (*key NULL for the default, which is the root's). Adds an
 * error when there is no such unit; *denied says why the caller may not
 * read it (outside their line) or write it (not at or above it). */
static int target(jf_req *req, jf_db_conn *conn, long long id, bool write, jf_errors *e,
                  const char **key, const char **denied)
{
    const char *mine = req->claims.org_path;
    PGresult *res = NULL;
    int rc = 0;

    *key = NULL;
    *denied = NULL;
    if (id > 0) {
        const char *p[] = {jf_res_id(req, id)};
        rc = jf_db_exec(conn, &unit, 1, p, &res);
        if (rc == 0 && PQntuples(res) == 0) {
            jf_errors_add(e, "org_unit_id", "no such org unit");
        } else if (rc == 0) {
            const char *path = PQgetvalue(res, 0, 0);
            if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
                *key = p[0];
            if (write && !jf_scope_contains(mine, path))
                *denied = "only an administrator of this unit or of one above it may change "
                          "its configuration";
            else if (!write && !jf_scope_contains(mine, path) && !jf_scope_contains(path, mine))
                *denied = "this unit is neither in your area nor above it";
        }
        PQclear(res);
    }
    if (rc == 0 && *key == NULL && write && !root_path(mine))
        *denied = "the default configuration applies to the whole area: only an administrator "
                  "of the whole area may change it";
    return rc;
}

/* GET /config/clinical[?org_unit_id=]: the configuration that applies at
 * the unit (without one: the default). */
static int get_config(jf_req *req)
{
    jf_errors e = {0};
    jf_db_conn *conn;
    const char *key, *denied;
    long long id = jf_query_id(req, &e, "org_unit_id");
    int rc;

    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = target(req, conn, id, false, &e, &key, &denied)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (denied != NULL)
        return jf_resp_forbidden(req, denied);
    const char *p[] = {id > 0 ? jf_res_id(req, id) : NULL};
    return jf_res_send_row(req, conn, &config, 1, p, 200);
}

/* A change of unit id's configuration: the document after (NULL: removed),
 * audited with the one before, in one transaction; answers with the
 * configuration that applies at the unit from then on. */
static int change(jf_req *req, long long id, const char *after)
{
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *res = NULL;
    const char *key, *denied, *before = NULL;
    jf_buf out;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    jf_buf_init(&out, 1u << 16);
    rc = target(req, conn, id, true, &e, &key, &denied);
    if (rc != 0)
        goto out;
    if (!jf_errors_any(&e) && after == NULL && key == NULL)
        jf_errors_add(&e, "org_unit_id",
                      "the default configuration cannot be removed, only changed");
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    if (denied != NULL) {
        rc = jf_resp_forbidden(req, denied);
        goto out;
    }
    const char *dp[] = {id > 0 ? jf_res_id(req, id) : NULL};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &config, 1, dp, &res);
    if (rc == 0)
        before = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    const char *sp[] = {key, jf_res_id(req, req->claims.user_id), after};
    if (rc == 0)
        rc = after != NULL ? jf_db_exec(conn, &store, 3, sp, &res)
                           : jf_db_exec(conn, &drop, 2, sp, &res);
    if (rc == 0 && after == NULL && strcmp(PQcmdTuples(res), "0") == 0) {
        rc = jf_resp_problem(req, 404, "not-found", "Not found",
                             "this unit has no configuration of its own: it inherits already",
                             "org_unit_id", "has no configuration of its own");
        goto out;
    }
    if (rc == 0) {
        jf_audit_entry a = {
            .action = after != NULL ? "config.update" : "config.inherit",
            .target_type = "config",
            .target_id =
                key != NULL ? jf_arena_printf(&req->arena, "clinical/%s", key) : "clinical",
            .detail_json = jf_arena_printf(&req->arena, "{\"before\":%s,\"after\":%s}", before,
                                           after != NULL ? after : "null")};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc == 0) {
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &config, 1, dp, &res);
    }
    if (rc == 0)
        rc = jf_buf_append(&out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* PUT /config/clinical {org_unit_id?, tiers: {red: {interval_months, joint},
 * …}, settings: {…}, scheme?, points?}. Without org_unit_id: the caller's
 * own unit; with null: the default. */
static int put_config(jf_req *req)
{
    jf_errors e = {0};
    json_t *cfg;
    char *after;
    long long id = req->claims.org_unit_id;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    if (jf_body_null(req, "org_unit_id"))
        id = 0;
    else if (jf_body_has(req, "org_unit_id"))
        jf_body_int(req, &e, "org_unit_id", true, 1, LLONG_MAX, &id);
    cfg = read_config(req, &e);
    if (jf_errors_any(&e)) {
        json_decref(cfg);
        return jf_errors_respond(req, &e);
    }
    after = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    if (after == NULL)
        return JF_ERR_NOMEM;
    rc = change(req, id, after);
    free(after);
    return rc;
}

/* DELETE /config/clinical?org_unit_id=: the unit inherits again. */
static int delete_config(jf_req *req)
{
    jf_errors e = {0};
    long long id = jf_query_id(req, &e, "org_unit_id");

    if (id == 0)
        jf_errors_add(&e, "org_unit_id", "is required: the unit that is to inherit");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return change(req, id, NULL);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/config/clinical", get_config, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"PUT", "/api/v1/config/clinical", put_config, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
    {"DELETE", "/api/v1/config/clinical", delete_config, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
};

int jf_res_settings_init(void)
{
    jf_stmt *const s[] = {&config, &unit, &store, &drop};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
