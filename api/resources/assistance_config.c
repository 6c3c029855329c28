/* Assistance: totals by kind and unit, and the configuration (standards
 * per kind, the local 以奖代补 rule) of an org unit. */
#include "assistance.h"
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/assistance.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Totals of the payments for months $2..$3 in unit $1's subtree, by kind
 * and by child unit (a patient held by the unit itself counts under it),
 * and the patients enrolled per kind. */
#define TOTALS                                                                                     \
    "jsonb_build_object('payments', count(*), 'patients', count(DISTINCT patient_id),"             \
    " 'paid_count', count(*) FILTER (WHERE status = 'paid'), 'paid_fen',"                          \
    " coalesce(sum(amount_fen) FILTER (WHERE status = 'paid'), 0), 'pending_count', count(*)"      \
    " FILTER (WHERE status = 'pending'), 'pending_fen', coalesce(sum(amount_fen) FILTER (WHERE"    \
    " status = 'pending'), 0), 'withheld_count', count(*) FILTER (WHERE status = 'withheld'),"     \
    " 'withheld_fen', coalesce(sum(amount_fen) FILTER (WHERE status = 'withheld'), 0))"

static jf_stmt totals = {
    "assist_totals",
    "WITH u AS (SELECT id, name, path FROM org_units WHERE id = $1),"
    " f AS (SELECT f.*, coalesce(nullif(split_part(substr(f.org_path, length(u.path) + 1), '/',"
    "  1), '')::bigint, u.id) AS unit FROM assistance_payment_facts f, u"
    "  WHERE f.org_path COLLATE \"C\" >= u.path AND f.org_path COLLATE \"C\" <"
    "  left(u.path, -1) || '0' AND f.period_month BETWEEN $2::date AND $3::date)"
    " SELECT jsonb_build_object('org_unit_id', u.id, 'org_unit_name', u.name, 'from',"
    " to_char($2::date, 'YYYY-MM'), 'to', to_char($3::date, 'YYYY-MM'),"
    " 'total', (SELECT " TOTALS " FROM f),"
    " 'by_kind', (SELECT coalesce(jsonb_agg(k.t ORDER BY k.kind), '[]') FROM (SELECT kind,"
    "  jsonb_build_object('kind', kind) || " TOTALS " AS t FROM f GROUP BY kind) k),"
    " 'by_unit', (SELECT coalesce(jsonb_agg(c.t ORDER BY c.unit, c.kind), '[]') FROM (SELECT"
    "  unit, kind, jsonb_build_object('org_unit_id', unit, 'org_unit_name', (SELECT name FROM"
    "  org_units WHERE id = unit), 'kind', kind) || " TOTALS " AS t FROM f GROUP BY unit, kind) c),"
    /* 纳入…患者人数 (seed 000 附件2): patients of the area now with an
     * approved application covering some of the months. */
    " 'enrolled_by_kind', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', e.kind,"
    "  'patients', e.n) ORDER BY e.kind), '[]') FROM (SELECT a.kind, count(DISTINCT a.patient_id)"
    "  AS n FROM assistance_applications a JOIN patients p ON p.id = a.patient_id"
    "  WHERE p.org_path >= u.path AND p.org_path < left(u.path, -1) || '0'"
    "  AND a.state IN ('approved', 'ended') AND a.from_month <= $3::date"
    "  AND (a.to_month IS NULL OR a.to_month >= $2::date) GROUP BY a.kind) e)"
    ")::text FROM u",
    0,
};
/* The configuration in force at the unit of path $1 (id $2). */
static jf_stmt config_doc = {
    "assist_config_doc",
    "SELECT json_build_object('org_unit_id', $2::bigint, 'standards', (SELECT"
    " json_agg(json_build_object('kind', k.kind, 'amount_fen', s.amount_fen, 'period', s.period,"
    " 'set_at_org_unit_id', s.org_unit_id) ORDER BY k.ord) FROM unnest(ARRAY['dibao',"
    " 'medical_assistance', 'outpatient_chronic', 'critical_illness', 'employee_large_medical',"
    " 'disability_subsidies', 'temporary_assistance', 'long_acting_injection',"
    " 'guardian_reward']) WITH ORDINALITY k(kind, ord)"
    " CROSS JOIN LATERAL assistance_standard($1, k.kind) s),"
    " 'reward_rule', (SELECT json_build_object('min_risk', r.min_risk, 'extra_flags',"
    " to_json(r.extra_flags), 'police_key_person', r.police_key_person, 'set_at_org_unit_id',"
    " r.org_unit_id) FROM assistance_reward_rule($1) r))::text",
    0,
};
static jf_stmt standards_store = {
    "assist_standards_store",
    "INSERT INTO assistance_standards (org_unit_id, kind, amount_fen, period, updated_at,"
    " updated_by) SELECT $1::bigint, t.key, (t.value->>'amount_fen')::bigint, t.value->>'period', "
    "now(),"
    " $3 FROM json_each($2::json) t ON CONFLICT (org_unit_id, kind) DO UPDATE SET"
    " amount_fen = excluded.amount_fen, period = excluded.period,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};
static jf_stmt rule_store = {
    "assist_rule_store",
    "INSERT INTO assistance_reward_rules (org_unit_id, min_risk, extra_flags, police_key_person,"
    " updated_at, updated_by) VALUES ($1::bigint, $2::smallint, $3::text[], $4::bool, now(), $5)"
    " ON CONFLICT (org_unit_id) DO UPDATE SET min_risk = excluded.min_risk,"
    " extra_flags = excluded.extra_flags, police_key_person = excluded.police_key_person,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    0,
};

/* ---- totals and configuration -------------------------------------------------- */

/* GET /assistance/totals?unit=&from=YYYY-MM&to=YYYY-MM (default: this year to date) */
static int totals_get(jf_req *req)
{
    jf_errors e = {0};
    jf_date now = jf_assist_month_of(jf_date_today());
    int y, m, d;
    long long unit = jf_query_id(req, &e, "unit");
    const char *from, *to, *path = NULL;
    jf_db_conn *conn;
    int rc;

    jf_date_to_ymd(now, &y, &m, &d);
    from = jf_aid_query_month(req, &e, "from", jf_date_from_ymd(y, 1, 1));
    to = jf_aid_query_month(req, &e, "to", now);
    if (from != NULL && to != NULL && strcmp(to, from) < 0)
        jf_errors_add(&e, "to", "must not be before from");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_aid_area_unit(req, conn, &e, "unit", &unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {jf_res_id(req, unit), from, to};
    return jf_res_send_row(req, conn, &totals, 3, p, 200);
}

/* GET /config/assistance?org_unit_id= */
static int config_get(jf_req *req)
{
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id");
    const char *path = NULL;
    jf_db_conn *conn;
    int rc;

    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_aid_area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        return rc;
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {path, jf_res_id(req, unit)};
    return jf_res_send_row(req, conn, &config_doc, 2, p, 200);
}

/* Validate "standards" into {kind: {amount_fen, period}} (owned), or NULL. */
static json_t *read_standards(const jf_req *req, jf_errors *e)
{
    static const char *const keys[] = {"amount_fen", "period", NULL};
    json_t *in = json_object_get(req->body, "standards"), *out, *v;
    const char *kind, *k;
    json_t *x;
    char field[80];

    if (in == NULL)
        return NULL;
    if (!json_is_object(in) || json_object_size(in) == 0) {
        jf_errors_add(e, "standards", "must be an object of kinds: {amount_fen, period}");
        return NULL;
    }
    out = json_object();
    json_object_foreach(in, kind, v)
    {
        json_t *amount = json_object_get(v, "amount_fen"), *period = json_object_get(v, "period");
        if (!jf_in_set(kind, jf_assist_kinds)) {
            jf_errors_add(e, "standards", "%s is not an assistance kind", kind);
            continue;
        }
        snprintf(field, sizeof(field), "standards.%s", kind);
        if (!json_is_object(v)) {
            jf_errors_add(e, field, "must be {amount_fen, period}");
            continue;
        }
        json_object_foreach(v, k, x)
        {
            if (!jf_in_set(k, keys))
                jf_errors_add(e, field, "%s is not a known key", k);
        }
        snprintf(field, sizeof(field), "standards.%s.amount_fen", kind);
        if (!json_is_null(amount) && (!json_is_integer(amount) || json_integer_value(amount) < 0 ||
                                      json_integer_value(amount) > MAX_FEN))
            jf_errors_add(e, field, "must be null or a whole number of fen from 0 to %lld",
                          MAX_FEN);
        if (amount == NULL)
            jf_errors_add(e, field, "is required (null: decided per application)");
        snprintf(field, sizeof(field), "standards.%s.period", kind);
        if (!json_is_string(period) || !jf_in_set(json_string_value(period), jf_assist_periods))
            jf_errors_add(e, field, "must be month, year or case");
        if (strcmp(kind, "guardian_reward") == 0) {
            if (json_is_null(amount))
                jf_errors_add(e, "standards.guardian_reward.amount_fen",
                              "以奖代补 needs a standard amount");
            if (json_is_string(period) && strcmp(json_string_value(period), "case") == 0)
                jf_errors_add(e, "standards.guardian_reward.period", "must be month or year");
        }
        json_object_set_new(
            out, kind,
            json_pack("{s:O,s:O}", "amount_fen", amount, "period", period ? period : json_null()));
    }
    return out;
}

/* Validate "reward_rule"; fills min_risk, flags ("{a,b}") and police. */
static bool read_rule(jf_req *req, jf_errors *e, long long *min_risk, const char **flags,
                      bool *police)
{
    static const char *const keys[] = {"min_risk", "extra_flags", "police_key_person", NULL};
    json_t *in = json_object_get(req->body, "reward_rule"), *v, *f;
    const char *k;
    size_t i;
    jf_buf b;
    unsigned seen = 0;

    if (in == NULL)
        return false;
    if (!json_is_object(in)) {
        jf_errors_add(e, "reward_rule", "must be {min_risk, extra_flags, police_key_person}");
        return false;
    }
    json_object_foreach(in, k, v)
    {
        if (!jf_in_set(k, keys))
            jf_errors_add(e, "reward_rule", "%s is not a known key", k);
    }
    v = json_object_get(in, "min_risk");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 5)
        jf_errors_add(e, "reward_rule.min_risk", "must be a risk level from 1 to 5");
    else
        *min_risk = json_integer_value(v);
    v = json_object_get(in, "police_key_person");
    if (!json_is_boolean(v))
        jf_errors_add(e, "reward_rule.police_key_person", "must be true or false");
    else
        *police = json_is_true(v);
    f = json_object_get(in, "extra_flags");
    if (!json_is_array(f)) {
        jf_errors_add(e, "reward_rule.extra_flags", "must be a list of key-flag codes");
        return true;
    }
    jf_buf_init(&b, 1024);
    jf_buf_puts(&b, "{");
    json_array_foreach(f, i, v)
    {
        unsigned bit = json_is_string(v) ? jf_reward_flag_bit(json_string_value(v)) : 0;
        if (bit == 0 || (seen & bit) != 0) {
            jf_errors_add(e, "reward_rule.extra_flags", "item %zu is not a new key-flag code", i);
            continue;
        }
        seen |= bit;
        jf_buf_printf(&b, "%s%s", b.len > 1 ? "," : "", json_string_value(v));
    }
    jf_buf_puts(&b, "}");
    *flags = jf_arena_strndup(&req->arena, b.data, b.len);
    jf_buf_free(&b);
    return true;
}

/* PUT /config/assistance {org_unit_id?, standards?, reward_rule?} */
static int config_put(jf_req *req)
{
    static const char *const allowed[] = {"org_unit_id", "standards", "reward_rule", NULL};
    jf_errors e = {0};
    long long unit = 0, min_risk = 3;
    const char *path = NULL, *flags = "{}", *before = NULL;
    bool police = false, has_rule;
    json_t *standards;
    char *stext = NULL;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "org_unit_id", false, 1, INT64_MAX, &unit);
    standards = read_standards(req, &e);
    has_rule = read_rule(req, &e, &min_risk, &flags, &police);
    if (!jf_body_has(req, "standards") && !jf_body_has(req, "reward_rule"))
        jf_errors_add(&e, "standards", "give standards, reward_rule or both");
    if (jf_errors_any(&e)) {
        json_decref(standards);
        return jf_errors_respond(req, &e);
    }
    stext = standards ? json_dumps(standards, JSON_COMPACT) : NULL;
    json_decref(standards);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_aid_area_unit(req, conn, &e, "org_unit_id", &unit, &path)) != 0)
        goto out;
    if (jf_errors_any(&e)) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *cp[] = {path, jf_res_id(req, unit)};
    const char *uid = jf_res_id(req, req->claims.user_id), *uidp = jf_res_id(req, unit);
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &config_doc, 2, cp, &res);
    if (rc == 0)
        before = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    if (rc == 0 && stext != NULL) {
        const char *p[] = {uidp, stext, uid};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &standards_store, 3, p, &res);
    }
    if (rc == 0 && has_rule) {
        const char *p[] = {uidp, jf_res_id(req, min_risk), flags, jf_res_tf(police), uid};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &rule_store, 5, p, &res);
    }
    if (rc == 0) {
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &config_doc, 2, cp, &res);
    }
    if (rc == 0)
        rc = jf_aid_audit(req, conn, "config.update", "config", "assistance", unit,
                          jf_arena_printf(&req->arena, "{\"before\":%s,\"after\":%s}", before,
                                          PQgetvalue(res, 0, 0)));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
out:
    free(stext);
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/config/assistance", config_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_READ},
    {"PUT", "/api/v1/config/assistance", config_put, JF_ROUTE_AUTH, JF_CAP_CONFIG_WRITE},
    {"GET", "/api/v1/assistance/totals", totals_get, JF_ROUTE_AUTH, JF_CAP_ASSIST_AREA},
};

int jf_aid_config_init(void)
{
    jf_stmt *const s[] = {&totals, &config_doc, &standards_store, &rule_store};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
