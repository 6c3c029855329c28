/* Recomputing a patient's derived clinical state. */
#include "recompute.h"
#include "notify.h"
#include "patient.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../domain/followup.h"
#include "../domain/risk.h"
#include "../domain/tier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything the rules read but the visits and risk levels, in one round
 * trip. $2 is today. */
static jf_stmt facts = {
    "clinical_facts",
    "SELECT p.status,"
    " coalesce(p.registered_on, p.created_at::date),"
    " p.lives_alone, p.family_history, p.tekun, p.can_drive, p.migrant, p.vagrant, p.ever_lost,"
    " (SELECT f.compliance FROM follow_ups f WHERE f.patient_id = p.id AND f.reached"
    "   ORDER BY f.visit_date DESC, f.id DESC LIMIT 1),"
    " coalesce((SELECT NOT f.reached AND f.unreached_reason = 'refused' FROM follow_ups f"
    "   WHERE f.patient_id = p.id ORDER BY f.visit_date DESC, f.id DESC LIMIT 1), false),"
    " (SELECT count(*) FROM incidents i WHERE i.patient_id = p.id),"
    " (SELECT count(*) FROM incidents i WHERE i.patient_id = p.id"
    "   AND i.occurred_on > ($2::date - make_interval(months => $3::int))::date),"
    " EXISTS (SELECT 1 FROM guardians g WHERE g.patient_id = p.id AND g.active"
    "   AND g.capacity = 'adequate'),"
    " EXISTS (SELECT 1 FROM hospitalisations h WHERE h.patient_id = p.id"
    "   AND h.discharged_on IS NULL),"
    " (SELECT max(discharged_on) FROM hospitalisations h WHERE h.patient_id = p.id),"
    " (SELECT count(*) FROM hospitalisations h WHERE h.patient_id = p.id"
    "   AND h.admitted_on > $2::date - 365),"
    " EXISTS (SELECT 1 FROM hospitalisations h WHERE h.patient_id = p.id AND h.involuntary),"
    " (SELECT max(checked_on) FROM health_checks c WHERE c.patient_id = p.id),"
    " p.next_due, p.next_due_joint, p.due_rule, p.risk_level, p.last_class,"
    " (SELECT max(decided_on) FROM transfers t WHERE t.patient_id = p.id"
    "   AND t.state = 'accepted')"
    " FROM patients p WHERE p.id = $1",
    0,
};
enum {
    F_STATUS,
    F_REGISTERED,
    F_ALONE,
    F_FAMILY,
    F_TEKUN,
    F_DRIVE,
    F_MIGRANT,
    F_VAGRANT,
    F_EVER_LOST,
    F_COMPLIANCE,
    F_REFUSED,
    F_INCIDENTS,
    F_INCIDENTS_RECENT,
    F_GUARDIAN,
    F_IN_HOSPITAL,
    F_DISCHARGED,
    F_RELAPSES,
    F_FORCED,
    F_LAST_CHECK,
    F_DUE,
    F_DUE_JOINT,
    F_DUE_RULE,
    F_STORED_RISK,
    F_STORED_CLASS,
    F_ACCEPTED
};

/* The visits, oldest first (the newest 400: far more than a patient
 * gathers in the years that matter), with whether each was
 * a 面访 and whether it came after the patient was last brought back into
 * care (found again after being lost). */
static jf_stmt visits = {
    "clinical_visits",
    "SELECT * FROM (SELECT f.visit_date, f.reached, f.mode IN ('clinic', 'home')"
    "  AND coalesce(f.informant, 'patient') = 'patient', f.class,"
    "  f.created_at > coalesce((SELECT max(e.created_at) FROM patient_events e"
    "   WHERE e.patient_id = f.patient_id AND e.kind = 'status' AND e.to_status = 'in_care'"
    "   AND e.from_status = 'lost'), '-infinity'), f.id"
    "  FROM follow_ups f WHERE f.patient_id = $1 AND NOT f.died"
    "  ORDER BY f.visit_date DESC, f.id DESC LIMIT 400) v ORDER BY 1, 6",
    0,
};
/* Every risk level seen, oldest first: assessments (a visit's level is one)
 * and the levels grid workers observed at home checks. */
static jf_stmt risk_obs = {
    "clinical_risk_obs",
    "SELECT * FROM (SELECT r.assessed_on, r.created_at, r.level, r.tier, r.face_to_face"
    "  FROM risk_assessments r WHERE r.patient_id = $1"
    "  UNION ALL SELECT h.checked_on, h.created_at, h.risk_level, 'observer', h.seen"
    "  FROM home_checks h WHERE h.patient_id = $1 AND h.risk_level IS NOT NULL"
    "  ORDER BY 1 DESC, 2 DESC LIMIT 400) o ORDER BY 1, 2",
    0,
};

/* The configuration that applies to patient $1 (its unit's, else the
 * nearest ancestor's, else the default), one row per value: the unit it
 * belongs to (NULL: the default) and the scheme on every row. */
static jf_stmt config = {
    "clinical_config",
    "SELECT c.org_unit_id, c.scheme, k.kind, k.key, k.value, k.joint"
    " FROM patients p, clinical_config_at(p.org_path) c, LATERAL ("
    "  SELECT 'tier', t.key, (t.value->>'interval_months')::int, (t.value->>'joint')::bool"
    "  FROM jsonb_each(c.tiers) t"
    "  UNION ALL SELECT 'setting', s.key, s.value::int, false FROM jsonb_each_text(c.settings) s"
    "  UNION ALL SELECT 'points', i.key, i.value::int, false"
    "  FROM jsonb_each_text(c.points->'items') i"
    "  UNION ALL SELECT 'threshold', h.key, h.value::int, false"
    "  FROM jsonb_each_text(c.points->'thresholds') h) k(kind, key, value, joint)"
    " WHERE p.id = $1",
    0,
};
/* Where the colour came from: $2 scheme, $3 the unit whose configuration
 * applied, $4 $5 the points and their terms. */
static jf_stmt store_source = {
    "clinical_store_source",
    "UPDATE patients SET colour_scheme = $2, colour_config_unit_id = $3::bigint,"
    " colour_points = $4::int, colour_points_detail = $5::jsonb WHERE id = $1",
    0,
};
static jf_stmt store = {
    "clinical_store",
    "UPDATE patients SET status = $2, risk_level = $3::smallint, colour = $4,"
    " key_flags = $5::jsonb, colour_reasons = $6::jsonb, last_reached_on = $7::date,"
    " last_class = $8, misses = $9::int, ever_lost = $10::bool, next_due = $11::date,"
    " next_due_joint = $12::bool, due_rule = $13, health_check_due = $14::date,"
    " registered_on = coalesce(registered_on, $15::date), last_face_to_face_on = $16::date"
    " WHERE id = $1",
    0,
};

static jf_stmt register_ids = {
    "clinical_register_ids",
    "SELECT id FROM patients WHERE on_register(status)"
    " AND ($1::text IS NULL OR starts_with(org_path, (SELECT path FROM org_units WHERE code = $1)))"
    " ORDER BY id",
    0,
};

int jf_record_recompute_init(void)
{
    jf_stmt *const s[] = {&facts, &visits,       &risk_obs,    &config,
                          &store, &store_source, &register_ids};
    int rc = jf_record_notify_init();

    return rc ? rc : jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

static bool t(const PGresult *r, int col)
{
    return strcmp(PQgetvalue(r, 0, col), "t") == 0;
}

static long n(const PGresult *r, int col, long dflt)
{
    return PQgetisnull(r, 0, col) ? dflt : strtol(PQgetvalue(r, 0, col), NULL, 10);
}

static jf_date d(const PGresult *r, int col)
{
    jf_date v = JF_DATE_NONE;

    if (!PQgetisnull(r, 0, col))
        jf_date_parse(PQgetvalue(r, 0, col), &v);
    return v;
}

/* The configuration that applies to the patient, and the unit it belongs
 * to (unit "" for the default). */
static int load_config(jf_db_conn *conn, const char *patient_id, jf_tier_config *cfg,
                       int *incident_months, char unit[24])
{
    PGresult *res = NULL;
    const char *p[] = {patient_id};
    int rc = jf_db_exec(conn, &config, 1, p, &res);

    *cfg = jf_tier_config_default();
    unit[0] = '\0';
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 2), *key = PQgetvalue(res, i, 3);
        int v = (int)strtol(PQgetvalue(res, i, 4), NULL, 10);
        jf_colour c = jf_colour_parse(key);
        if (i == 0) {
            snprintf(unit, 24, "%s", PQgetvalue(res, 0, 0));
            cfg->scheme =
                strcmp(PQgetvalue(res, 0, 1), "points") == 0 ? JF_SCHEME_POINTS : JF_SCHEME_RULES;
        }
        if (strcmp(kind, "tier") == 0) {
            if ((int)c >= 0) {
                cfg->interval_months[c] = v;
                cfg->joint[c] = strcmp(PQgetvalue(res, i, 5), "t") == 0;
            }
        } else if (strcmp(kind, "threshold") == 0) {
            if ((int)c > JF_GREEN)
                cfg->points.threshold[c] = v;
        } else if (strcmp(kind, "points") == 0) {
            if (strcmp(key, "risk_level") == 0)
                cfg->points.per_risk_level = v;
            for (int f = 0; f < JF_FLAG_COUNT; f++)
                if (strcmp(key, jf_flag_name((jf_flag)f)) == 0)
                    cfg->points.per_flag[f] = v;
        } else if (strcmp(key, "red_min_risk") == 0) {
            cfg->red_min_risk = v;
        } else if (strcmp(key, "incident_months") == 0) {
            cfg->incident_months = v;
        } else if (strcmp(key, "relapse_count") == 0) {
            cfg->relapse_count = v;
        } else if (strcmp(key, "miss_gap_days") == 0) {
            cfg->miss_gap_days = v;
        }
    }
    *incident_months = cfg->incident_months;
    PQclear(res);
    return rc;
}

/* Store where the colour came from: the scheme, the unit whose
 * configuration applied, and under points the total and its terms. */
static int store_colour_source(const jf_actor *who, jf_db_conn *conn, const char *patient_id,
                               bool coloured, const jf_tier_config *cfg, const char *unit,
                               const jf_tier_result *tier)
{
    bool points = coloured && cfg->scheme == JF_SCHEME_POINTS;
    PGresult *res = NULL;
    jf_buf detail;
    int rc = 0;

    jf_buf_init(&detail, 4096);
    for (int i = 0; points && rc == 0 && i < tier->nbreakdown; i++)
        rc = jf_buf_puts(&detail, i ? "," : "{") ||
             jf_buf_json_str(&detail, tier->breakdown[i].item) ||
             jf_buf_printf(&detail, ":%d", tier->breakdown[i].points);
    if (rc == 0 && points)
        rc = jf_buf_puts(&detail, tier->nbreakdown ? "}" : "{}");
    const char *p[] = {patient_id, coloured ? jf_scheme_name(cfg->scheme) : NULL,
                       coloured && unit[0] ? unit : NULL,
                       points ? jf_arena_printf(who->arena, "%d", tier->points) : NULL,
                       points ? detail.data : NULL};
    if (rc == 0)
        rc = jf_db_exec(conn, &store_source, 5, p, &res);
    PQclear(res);
    jf_buf_free(&detail);
    return rc;
}

static int json_names(jf_buf *b, const char *const *names, int count)
{
    int rc = jf_buf_puts(b, "[");

    for (int i = 0; rc == 0 && i < count; i++)
        rc = (i ? jf_buf_puts(b, ",") : 0) || jf_buf_json_str(b, names[i]);
    return rc ? rc : jf_buf_puts(b, "]");
}

/* The current risk level [R-RISK-1, R-RISK-2] and the highest ever, from every
 * level seen, oldest first. */
static int fold_risk(jf_db_conn *conn, const char *patient_id, jf_risk_state *cur, int *max_ever)
{
    PGresult *res = NULL;
    const char *p[] = {patient_id};
    int rc = jf_db_exec(conn, &risk_obs, 1, p, &res);

    *cur = JF_RISK_NONE;
    *max_ever = -1;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        jf_risk_obs o = {(int)strtol(PQgetvalue(res, i, 2), NULL, 10),
                         jf_risk_tier_parse(PQgetvalue(res, i, 3)),
                         strcmp(PQgetvalue(res, i, 4), "t") == 0};
        *cur = jf_risk_apply(*cur, &o);
        if (o.level > *max_ever)
            *max_ever = o.level;
    }
    PQclear(res);
    return rc;
}

/* The visits folded [R-VISIT-2, R-LOST-1]. */
static int fold_visits(const jf_actor *who, jf_db_conn *conn, const char *patient_id,
                       bool red_otherwise, int miss_gap_days, jf_visit_state *out)
{
    PGresult *res = NULL;
    const char *p[] = {patient_id};
    jf_visit *v = NULL;
    int rc = jf_db_exec(conn, &visits, 1, p, &res), n = rc == 0 ? PQntuples(res) : 0;

    if (n > 0)
        v = jf_arena_alloc(who->arena, sizeof(*v) * (size_t)n);
    if (n > 0 && v == NULL)
        rc = JF_ERR_NOMEM;
    for (int i = 0; rc == 0 && i < n; i++) {
        v[i].date = JF_DATE_NONE;
        jf_date_parse(PQgetvalue(res, i, 0), &v[i].date);
        v[i].reached = strcmp(PQgetvalue(res, i, 1), "t") == 0;
        v[i].face_to_face = strcmp(PQgetvalue(res, i, 2), "t") == 0;
        v[i].class = jf_visit_class_parse(PQgetvalue(res, i, 3));
        v[i].after_return = strcmp(PQgetvalue(res, i, 4), "t") == 0;
    }
    if (rc == 0)
        *out = jf_followup_fold(v, n, red_otherwise, miss_gap_days);
    PQclear(res);
    return rc;
}

int jf_record_recompute(const jf_actor *who, jf_db_conn *conn, const char *patient_id)
{
    jf_tier_config cfg;
    jf_patient_facts pf;
    jf_tier_result tier;
    jf_due_input din;
    jf_due due;
    jf_pstatus status, before;
    jf_risk_state risk;
    jf_visit_state vs;
    PGresult *res = NULL;
    char today_s[11], months[8], due_s[11], check_s[11], last_s[11], reg_s[11], misses_s[12];
    char risk_s[8], f2f_s[11], config_unit[24];
    const char *flag_names[JF_FLAG_COUNT];
    int nflags = 0, incident_months, rc;
    jf_date today = jf_date_today(), last_check;
    jf_buf flags, reasons;

    rc = load_config(conn, patient_id, &cfg, &incident_months, config_unit);
    if (rc != 0)
        return rc;
    jf_date_format(today, today_s);
    snprintf(months, sizeof(months), "%d", incident_months);
    const char *p[] = {patient_id, today_s, months};
    rc = jf_db_exec(conn, &facts, 3, p, &res);
    if (rc != 0 || PQntuples(res) == 0) {
        PQclear(res);
        return rc ? rc : JF_ERR_NOT_FOUND;
    }
    status = before = jf_pstatus_parse(PQgetvalue(res, 0, F_STATUS));
    memset(&pf, 0, sizeof(pf));
    rc = fold_risk(conn, patient_id, &risk, &pf.max_risk_ever);
    pf.risk_level = risk.level;
    pf.ever_lost = t(res, F_EVER_LOST);
    pf.incidents_total = (int)n(res, F_INCIDENTS, 0);
    pf.incidents_recent = (int)n(res, F_INCIDENTS_RECENT, 0);
    /* Red for a reason other than the class: a phone call then cannot
     * stand in for a visit. */
    if (rc == 0)
        rc = fold_visits(who, conn, patient_id,
                         pf.risk_level >= cfg.red_min_risk || pf.incidents_recent > 0 ||
                             status == JF_PS_LOST,
                         cfg.miss_gap_days, &vs);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    pf.last_class = vs.last_class;
    pf.capable_guardian = t(res, F_GUARDIAN);
    pf.poor_compliance = !PQgetisnull(res, 0, F_COMPLIANCE) &&
                         (strcmp(PQgetvalue(res, 0, F_COMPLIANCE), "intermittent") == 0 ||
                          strcmp(PQgetvalue(res, 0, F_COMPLIANCE), "none") == 0);
    pf.relapses_recent = (int)n(res, F_RELAPSES, 0);
    pf.refuses_follow_up = t(res, F_REFUSED);
    pf.lives_alone = t(res, F_ALONE);
    pf.family_history = t(res, F_FAMILY);
    pf.extreme_poverty = t(res, F_TEKUN);
    pf.can_drive = t(res, F_DRIVE);
    pf.forced_admission = t(res, F_FORCED);
    pf.migrant = t(res, F_MIGRANT);
    pf.vagrant = t(res, F_VAGRANT);

    /* Three misses on distinct cycles make the patient lost. (Found again
     * is recorded by a 面访 or the police, which bring the patient back.) */
    long misses = vs.misses;
    jf_date last = vs.last_reached;
    if (jf_followup_lost((int)misses) && (status == JF_PS_REGISTERED || status == JF_PS_IN_CARE))
        status = JF_PS_LOST;
    pf.lost = status == JF_PS_LOST;
    pf.ever_lost = pf.ever_lost || pf.lost;

    jf_tier_compute(&pf, &cfg, &tier);
    memset(&din, 0, sizeof(din));
    din.last_reached = last;
    din.last_class = pf.last_class;
    din.prev_class = vs.prev_class;
    din.registered_on = d(res, F_REGISTERED);
    din.accepted_on = d(res, F_ACCEPTED);
    din.in_hospital = t(res, F_IN_HOSPITAL);
    din.discharged_on = d(res, F_DISCHARGED);
    din.tier_cap_months = cfg.interval_months[tier.colour];
    din.tier_joint = cfg.joint[tier.colour];
    due = jf_followup_next_due(&din);
    /* An unreached visit does not move the due date: the patient stays due
     * (or overdue), even when the misses turn the colour red. */
    if (misses > 0 && !din.in_hospital && !PQgetisnull(res, 0, F_DUE)) {
        due.date = d(res, F_DUE);
        due.joint = t(res, F_DUE_JOINT) || due.joint;
        due.rule = jf_arena_strdup(who->arena, PQgetvalue(res, 0, F_DUE_RULE));
    }
    /* Closed or not-yet-diagnosed records are not due for anything. */
    if (!jf_pstatus_registered(status) || status == JF_PS_MOVED_OUT) {
        due.date = JF_DATE_NONE;
        due.rule = "not_managed";
    }
    last_check = d(res, F_LAST_CHECK);
    last_check =
        jf_date_add_months(last_check != JF_DATE_NONE ? last_check : din.registered_on, 12);
    for (int i = 0; i < JF_FLAG_COUNT; i++)
        if (tier.flags & (1u << i))
            flag_names[nflags++] = jf_flag_name((jf_flag)i);
    jf_buf_init(&flags, 4096);
    jf_buf_init(&reasons, 4096);
    rc = json_names(&flags, flag_names, nflags);
    if (rc == 0)
        rc = json_names(&reasons, tier.colour_reasons, tier.ncolour_reasons);
    if (due.date != JF_DATE_NONE)
        jf_date_format(due.date, due_s);
    jf_date_format(last_check, check_s);
    if (last != JF_DATE_NONE)
        jf_date_format(last, last_s);
    if (vs.last_face_to_face != JF_DATE_NONE)
        jf_date_format(vs.last_face_to_face, f2f_s);
    jf_date_format(din.registered_on, reg_s);
    snprintf(misses_s, sizeof(misses_s), "%ld", misses);
    snprintf(risk_s, sizeof(risk_s), "%d", pf.risk_level);
    {
        const char *sp[] = {patient_id,
                            jf_pstatus_name(status),
                            pf.risk_level >= 0 ? risk_s : NULL,
                            jf_pstatus_registered(status) ? jf_colour_name(tier.colour) : NULL,
                            flags.data,
                            reasons.data,
                            last != JF_DATE_NONE ? last_s : NULL,
                            pf.last_class != JF_CLASS_NONE ? jf_visit_class_name(pf.last_class)
                                                           : NULL,
                            misses_s,
                            pf.ever_lost ? "true" : "false",
                            due.date != JF_DATE_NONE ? due_s : NULL,
                            due.joint ? "true" : "false",
                            due.rule,
                            jf_pstatus_registered(status) ? check_s : NULL,
                            reg_s,
                            vs.last_face_to_face != JF_DATE_NONE ? f2f_s : NULL};
        PGresult *sres = NULL;
        if (rc == 0)
            rc = jf_db_exec(conn, &store, 16, sp, &sres);
        PQclear(sres);
    }
    if (rc == 0)
        rc = store_colour_source(who, conn, patient_id, jf_pstatus_registered(status), &cfg,
                                 config_unit, &tier);
    /* Moving into danger notifies the police station, 综治中心 and clinic
     * at once; becoming lost notifies the police station, grid, village,
     * 综治中心 and the mental-health centre. */
    if (rc == 0 && pf.risk_level >= cfg.red_min_risk &&
        n(res, F_STORED_RISK, -1) < cfg.red_min_risk)
        rc = jf_record_notify(who, conn, "risk_high", patient_id,
                              jf_arena_printf(who->arena, "{\"risk_level\":%d}", pf.risk_level),
                              NULL);
    if (rc == 0 && pf.last_class == JF_CLASS_UNSTABLE &&
        jf_visit_class_parse(PQgetvalue(res, 0, F_STORED_CLASS)) != JF_CLASS_UNSTABLE)
        rc = jf_record_notify(who, conn, "unstable", patient_id, "{\"class\":\"unstable\"}", NULL);
    if (rc == 0 && status == JF_PS_LOST && before != JF_PS_LOST)
        rc = jf_record_notify(who, conn, "lost", patient_id, "{\"reason\":\"three_misses\"}", NULL);
    if (rc == 0 && status != before)
        rc = jf_record_event(
            who, conn,
            &(jf_patient_event){.patient_id = patient_id,
                                .kind = "status",
                                .date = today_s,
                                .from_status = jf_pstatus_name(before),
                                .to_status = jf_pstatus_name(status),
                                .reason = "three consecutive follow-ups did not reach the "
                                          "patient"});
    jf_buf_free(&flags);
    jf_buf_free(&reasons);
    PQclear(res);
    return rc;
}

int jf_record_recompute_all(jf_app *app, const char *unit_code)
{
    jf_arena arena;
    jf_actor nobody = {&arena, 0, 0}; /* the service itself: events without a user */
    jf_db_conn *conn;
    PGresult *ids = NULL;
    int rc, n, done = 0;

    rc = jf_db_pool_acquire(app->pool, &conn);
    if (rc != 0)
        return rc;
    jf_arena_init(&arena, 1u << 20);
    const char *p[] = {unit_code};
    rc = jf_db_exec(conn, &register_ids, 1, p, &ids);
    n = rc == 0 ? PQntuples(ids) : 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = jf_db_begin(conn);
        if (rc == 0)
            rc = jf_record_recompute(&nobody, conn, PQgetvalue(ids, i, 0));
        if (rc == 0)
            rc = jf_db_commit(conn);
        else
            jf_db_rollback(conn);
        done += rc == 0;
        if (done % 1000 == 0 || i + 1 == n)
            fprintf(stderr, "\rrecomputed %d of %d patients", done, n);
        jf_arena_free(&arena);
    }
    fprintf(stderr, "\n");
    PQclear(ids);
    jf_db_pool_release(app->pool, conn);
    return rc;
}

int jf_record_recompute_pending(jf_app *app)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    char v[12];
    int rc = jf_db_pool_acquire(app->pool, &conn), applied = 0;

    if (rc != 0)
        return rc;
    rc = jf_db_exec_sql(conn, "SELECT coalesce(max(version), 0) FROM clinical_rules_applied", 0,
                        NULL, &res);
    if (rc == 0)
        applied = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    res = NULL;
    jf_db_pool_release(app->pool, conn);
    if (rc != 0 || applied >= JF_RECORD_RULES_VERSION) {
        if (rc == 0)
            fprintf(stderr, "derived clinical state is up to date (rules %d)\n", applied);
        return rc;
    }
    fprintf(stderr, "rules %d -> %d: recomputing every patient once\n", applied,
            JF_RECORD_RULES_VERSION);
    rc = jf_record_recompute_all(app, NULL);
    if (rc == 0)
        rc = jf_db_pool_acquire(app->pool, &conn);
    if (rc != 0)
        return rc;
    snprintf(v, sizeof(v), "%d", JF_RECORD_RULES_VERSION);
    const char *p[] = {v};
    rc = jf_db_exec_sql(conn, "INSERT INTO clinical_rules_applied (version) VALUES ($1::int)", 1, p,
                        &res);
    PQclear(res);
    jf_db_pool_release(app->pool, conn);
    return rc;
}
