/* Episodes beside the follow-ups: hospital stays (住院, 强制送医) and their
 * discharge, incidents (肇事肇祸), annual health checks (年度体检) and reports
 * that a patient's whereabouts are unknown (去向不明). A write that moves the
 * patient's status does so with a dated status event; every write
 * recomputes the derived clinical state (colour, flags, next due,
 * health-check due) and is audited in the same transaction. The cores of
 * admission, discharge and incident are shared with the incoming calls of
 * external systems (episodes.h, integrations.c). */
#include "episodes.h"
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/kind.h"
#include "../record/notify.h"
#include "../record/patient.h"
#include "../record/patient_fields.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A stay and its discharge summary (null until one is recorded), without
 * the keys of the text[] HIDE: what the caller's role may not see. */
#define ADMISSION_JSON_HIDING(HIDE)                                                                \
    "(jsonb_build_object('id', h.id, 'patient_id', h.patient_id, 'admitted_on', h.admitted_on,"    \
    " 'hospital', h.hospital, 'involuntary', h.involuntary, 'reason', h.reason,"                   \
    " 'escorted_by', h.escorted_by, 'escort_names', h.escort_names,"                               \
    " 'discharged_on', h.discharged_on, 'discharge_note', h.discharge_note,"                       \
    " 'open', h.discharged_on IS NULL, 'user_id', h.user_id,"                                      \
    " 'user_name', (SELECT u.display_name FROM users u WHERE u.id = h.user_id),"                   \
    " 'created_at', h.created_at, 'discharge_summary', CASE WHEN h.discharged_on IS NOT NULL"      \
    "  AND num_nonnulls(h.discharge_diagnosis, h.discharge_medications, h.discharge_risk_level,"   \
    "  h.discharge_advice, h.community_doctor_id) > 0 THEN jsonb_build_object("                    \
    "  'diagnosis', h.discharge_diagnosis, 'medications', h.discharge_medications,"                \
    "  'risk_level', h.discharge_risk_level, 'risk_assessment_id', h.risk_assessment_id,"          \
    "  'advice', h.discharge_advice, 'community_doctor_id', h.community_doctor_id,"                \
    "  'community_doctor_name', (SELECT u.display_name FROM users u"                               \
    "  WHERE u.id = h.community_doctor_id)) - " HIDE " END) - " HIDE ")"
#define ADMISSION_JSON ADMISSION_JSON_HIDING("'{}'::text[]")
/* What a role without the clinical view, and one without the risk view,
 * may not see of a stay (a $n::text[] parameter). */
#define HIDE_CLINICAL "reason,discharge_note,diagnosis,medications,advice"
#define HIDE_RISK "risk_level,risk_assessment_id"
#define CHECK_JSON                                                                                 \
    "json_build_object('id', c.id, 'patient_id', c.patient_id, 'checked_on', c.checked_on,"        \
    " 'items', c.items, 'note', c.note, 'user_id', c.user_id,"                                     \
    " 'user_name', (SELECT u.display_name FROM users u WHERE u.id = c.user_id),"                   \
    " 'created_at', c.created_at)"

/* Generated at start from the kinds' tables (below). */
static char adm_insert_sql[4096], inc_insert_sql[2048], inc_json[1024], inc_list_sql[1536];

/* The open stay (if any) and the last discharge of patient $1. */
static jf_stmt adm_state = {
    "admission_state",
    "SELECT (SELECT id || '|' || admitted_on FROM hospitalisations WHERE patient_id = $1"
    " AND discharged_on IS NULL), (SELECT max(discharged_on) FROM hospitalisations"
    " WHERE patient_id = $1)",
    0,
};
static jf_stmt adm_insert = {"admission_insert", adm_insert_sql, 0};
static jf_stmt adm_lock = {
    "admission_lock",
    "SELECT admitted_on, discharged_on, hospital FROM hospitalisations"
    " WHERE id = $2 AND patient_id = $1 FOR UPDATE",
    0,
};
static jf_stmt adm_open = {
    "admission_open",
    "SELECT id FROM hospitalisations WHERE patient_id = $1 AND discharged_on IS NULL", 0};
static jf_stmt adm_discharge = {
    "admission_discharge",
    "UPDATE hospitalisations h SET discharged_on = $3::date, discharge_note = $4,"
    " discharge_diagnosis = $5, discharge_medications = $6::jsonb,"
    " discharge_risk_level = $7::smallint, discharge_advice = $8,"
    " community_doctor_id = $9::bigint, risk_assessment_id = $10::bigint"
    " WHERE h.id = $2 AND h.patient_id = $1 AND h.discharged_on IS NULL"
    " RETURNING " ADMISSION_JSON "::text",
    0,
};
/* The summary's medications become the prescriptions from the discharge
 * day ($1 patient, $2 day, $3 medications, $4 user) [R-HOSP-2]. */
static jf_stmt discharge_rx = {"admission_discharge_prescriptions",
                               "SELECT prescriptions_from_discharge($1, $2::date, $3::jsonb, $4)",
                               0};
/* The patient's stays ($3: one of them, or NULL for all), cut by $2. */
#define ADMISSION_JSON_CUT ADMISSION_JSON_HIDING("$2::text[]")
static jf_stmt adm_list = {
    "admission_list",
    "SELECT CASE WHEN $3::bigint IS NULL THEN coalesce(jsonb_agg(" ADMISSION_JSON_CUT
    " ORDER BY h.admitted_on DESC, h.id DESC), '[]') ELSE jsonb_agg(" ADMISSION_JSON_CUT ")->0"
    " END::text FROM hospitalisations h WHERE h.patient_id = $1"
    " AND ($3::bigint IS NULL OR h.id = $3::bigint)",
    0,
};
/* The community doctor named by a discharge ($1): an active doctor whose
 * unit covers the patient's ($2, an org path). */
static jf_stmt community_doctor = {
    "discharge_community_doctor",
    "SELECT 1 FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1::bigint"
    " AND u.role = 'doctor' AND u.active AND starts_with($2, o.path)",
    0,
};
/* The hospital's risk level at discharge, as an assessment of the discharge
 * date by a psychiatrist who saw the patient (tier 'city'). */
static jf_stmt discharge_assessment = {
    "discharge_risk_assessment",
    "INSERT INTO risk_assessments (patient_id, assessed_on, level, tier, basis, user_id,"
    " face_to_face) VALUES ($1, $2::date, $3::smallint, 'city', $4, $5, true) RETURNING id",
    0,
};
static jf_stmt inc_insert = {"incident_insert", inc_insert_sql, 0};
static jf_stmt inc_list = {"incident_list", inc_list_sql, 0};
static jf_stmt check_insert = {
    "health_check_insert",
    "INSERT INTO health_checks AS c (patient_id, checked_on, items, note, user_id)"
    " VALUES ($1, $2::date, coalesce($3::text[], '{}'), $4, $5) RETURNING c.id, " CHECK_JSON
    "::text",
    0,
};
static jf_stmt check_list = {
    "health_check_list",
    "SELECT coalesce(json_agg(" CHECK_JSON " ORDER BY c.checked_on DESC, c.id DESC),"
    " '[]')::text FROM health_checks c WHERE c.patient_id = $1",
    0,
};
static jf_stmt state = {
    "episode_clinical_state",
    "SELECT json_build_object('risk_level', risk_level, 'colour', colour, 'key_flags',"
    " key_flags, 'colour_reasons', colour_reasons, 'status', status, 'ever_lost', ever_lost,"
    " 'next_due', next_due, 'next_due_joint', next_due_joint, 'due_rule', due_rule,"
    " 'last_reached_on', last_reached_on, 'last_class', last_class, 'misses', misses,"
    " 'health_check_due', health_check_due)::text FROM patients WHERE id = $1",
    0,
};

const char *const jf_incident_kinds[] = {"mild_trouble", "trouble", "disaster", NULL};
/* Who brought the patient in (送医): police, family, the community's team
 * (村委会, 网格员, 社区医生), the hospital's own, or someone else. */
static const char *const escorts[] = {"police", "family", "community", "hospital", "other", NULL};

/* An admission (住院) as a table: what the body gives and how it is stored.
 * Its JSON (ADMISSION_JSON) stays written out: it carries the discharge
 * summary and hides what the caller's role may not see of it. */
enum {
    AD_PATIENT,
    AD_ADMITTED_ON,
    AD_HOSPITAL,
    AD_INVOLUNTARY,
    AD_REASON,
    AD_ESCORTED_BY,
    AD_ESCORT_NAMES,
    AD_USER,
    AD_N
};
static const jf_kfield ad_fields[] = {
    [AD_PATIENT] = {NULL, "patient_id", JF_K_SET, .flags = 0},
    [AD_ADMITTED_ON] = {"admitted_on", "admitted_on", JF_K_DATE, .cast = "date",
                        .flags = JF_KF_REQUIRED},
    [AD_HOSPITAL] = {"hospital", "hospital", JF_K_TEXT, .min = 1, .max = 100,
                     .flags = JF_KF_REQUIRED},
    [AD_INVOLUNTARY] = {"involuntary", "involuntary", JF_K_BOOL, .cast = "bool",
                        .flags = JF_KF_REQUIRED},
    [AD_REASON] = {"reason", "reason", JF_K_TEXT, .min = 1, .max = 500},
    [AD_ESCORTED_BY] = {"escorted_by", "escorted_by", JF_K_CODE, escorts},
    [AD_ESCORT_NAMES] = {"escort_names", "escort_names", JF_K_TEXT, .min = 1, .max = 200},
    [AD_USER] = {NULL, "user_id", JF_K_SET, .flags = 0},
};
_Static_assert(sizeof(ad_fields) / sizeof(ad_fields[0]) == AD_N, "one row per AD_ field");
static const jf_kind ad_kind = {"hospitalisations", "h", ad_fields, AD_N};

/* An incident (肇事肇祸) as one table: body, row and JSON. */
enum {
    IN_ID,
    IN_PATIENT,
    IN_OCCURRED_ON,
    IN_PLACE,
    IN_KIND,
    IN_INJURED,
    IN_DEAD,
    IN_CASE_NO,
    IN_DESCRIPTION,
    IN_USER,
    IN_USER_NAME,
    IN_CREATED,
    IN_N
};
static const jf_kfield in_fields[] = {
    [IN_ID] = {"id", NULL, JF_K_OUT, .json = "i.id"},
    [IN_PATIENT] = {NULL, "patient_id", JF_K_SET, .flags = 0},
    [IN_OCCURRED_ON] = {"occurred_on", "occurred_on", JF_K_DATE, .cast = "date",
                        .flags = JF_KF_REQUIRED},
    [IN_PLACE] = {"place", "place", JF_K_TEXT, .min = 1, .max = 200, .flags = JF_KF_REQUIRED},
    [IN_KIND] = {"kind", "kind", JF_K_CODE, jf_incident_kinds, .flags = JF_KF_REQUIRED},
    [IN_INJURED] = {"injured", "injured", JF_K_INT, .min = 0, .max = 9999, .cast = "int",
                    .flags = JF_KF_REQUIRED},
    [IN_DEAD] = {"dead", "dead", JF_K_INT, .min = 0, .max = 9999, .cast = "int",
                 .flags = JF_KF_REQUIRED},
    [IN_CASE_NO] = {"police_case_no", "police_case_no", JF_K_TEXT, .min = 1, .max = 64},
    [IN_DESCRIPTION] = {"description", "description", JF_K_TEXT, .min = 1, .max = 2000},
    [IN_USER] = {NULL, "user_id", JF_K_SET, .flags = 0},
    [IN_USER_NAME] = {"user_name", NULL, JF_K_OUT,
                      .json = "(SELECT u.display_name FROM users u WHERE u.id = i.user_id)"},
    [IN_CREATED] = {"created_at", NULL, JF_K_OUT, .json = "i.created_at"},
};
_Static_assert(sizeof(in_fields) / sizeof(in_fields[0]) == IN_N, "one row per IN_ field");
static const jf_kind in_kind = {"incidents", "i", in_fields, IN_N};
static const char *const check_items[] = {
    "blood_routine", "liver_function", "ecg",   "blood_glucose",
    "blood_lipids",  "physical_exam",  "other", NULL};

/* items: distinct codes of check_items, as a text[] literal (arena), or NULL. */
static const char *items_field(jf_req *req, jf_errors *e)
{
    json_t *a = json_object_get(req->body, "items"), *v;
    size_t i;
    jf_buf b;
    char *out;

    if (a == NULL || json_is_null(a))
        return NULL;
    if (!json_is_array(a) || json_array_size(a) > 7) {
        jf_errors_add(e, "items", "must be an array of at most 7 item codes");
        return NULL;
    }
    jf_buf_init(&b, 256);
    jf_buf_puts(&b, "{");
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        bool repeated = false;
        for (size_t j = 0; s != NULL && j < i; j++)
            repeated = repeated || strcmp(s, json_string_value(json_array_get(a, j))) == 0;
        if (s == NULL || !jf_in_set(s, check_items) || repeated) {
            jf_errors_add(e, "items", "item %zu is not an item code, or is repeated", i);
            jf_buf_free(&b);
            return NULL;
        }
        jf_buf_printf(&b, "%s%s", i ? "," : "", s);
    }
    jf_buf_puts(&b, "}");
    out = jf_arena_strdup(&req->arena, b.data);
    jf_buf_free(&b);
    return out;
}

static int refuse(jf_req *req, const char *title, const char *why)
{
    return jf_resp_problem(req, 409, "transition-refused", title, why, "status", why);
}

/* Insert one record (stmt returns its id and JSON) for the loaded patient
 * inside the open transaction, recompute the derived state, raise
 * notify_kind (when not NULL) with the record as detail and audit
 * {"<key>": id} as action; the record goes to out (empty on entry).
 * Returns 0, or a negative jf_err. */
int jf_episode_record_write(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                            const jf_stmt *stmt, int n, const char *const *p, const char *action,
                            const char *key, const char *notify_kind, jf_buf *out)
{
    PGresult *res = NULL;
    const char *id = NULL;
    int rc = jf_db_exec(conn, stmt, n, p, &res);

    if (rc == 0) {
        id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        rc = jf_buf_append(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row->id);
    if (rc == 0 && notify_kind != NULL)
        rc = jf_record_notify(JF_ACTOR(req), conn, notify_kind, row->id, out->data, NULL);
    if (rc == 0)
        rc = jf_record_audit(req, conn, row, action,
                             jf_arena_printf(&req->arena, "{\"%s\":%s}", key, id));
    PQclear(res);
    return rc;
}

/* record_write in a transaction of its own (with the request's
 * Idempotency-Key, if any), committed, answered 201 with the record. */
int jf_episode_record_insert(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                             const jf_stmt *stmt, int n, const char *const *p, const char *action,
                             const char *key, const char *notify_kind)
{
    jf_idem idem;
    jf_buf out;
    int rc;

    jf_buf_init(&out, 1u << 16);
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    rc = jf_episode_record_write(req, conn, row, stmt, n, p, action, key, notify_kind, &out);
    if (rc != 0)
        goto out;
    rc = jf_idem_finish(req, conn, &idem, 201, NULL, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 201, out.data, out.len);
out:
    jf_buf_free(&out);
    return rc;
}

int jf_episode_read(jf_req *req, const jf_stmt *stmt, const char *detail, const char *x2,
                    const char *x3, bool one)
{
    jf_patient_row row;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    jf_buf_init(&out, 16u << 20);
    const char *p[] = {row.id, x2, x3};
    rc = jf_db_exec(conn, stmt, x2 ? 3 : 1, p, &res);
    if (rc == 0 && one && PQgetisnull(res, 0, 0)) {
        rc = jf_resp_not_found(req);
        goto out;
    }
    if (rc == 0)
        rc = jf_record_audit(req, conn, &row, "patient.clinical_read", detail);
    if (rc == 0)
        rc = one ? jf_buf_puts(&out, PQgetvalue(res, 0, 0))
                 : jf_buf_printf(&out, "{\"items\":%s}", PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

int jf_episode_list(jf_req *req, const jf_stmt *stmt, const char *what)
{
    return jf_episode_read(req, stmt, jf_arena_printf(&req->arena, "{\"list\":\"%s\"}", what), NULL,
                           NULL, false);
}

/* Why a patient in status s cannot be admitted (NULL: they can). A lost
 * patient may be: being admitted is how many are found again. */
static const char *admit_refusal(jf_pstatus s)
{
    switch (s) {
    case JF_PS_REGISTERED:
    case JF_PS_IN_CARE:
    case JF_PS_LOST:
        return NULL;
    case JF_PS_HOSPITALISED:
        return "the patient is already in hospital";
    case JF_PS_MOVED_OUT:
        return "the patient moved out: the receiving unit records the admission once it "
               "accepts the transfer";
    case JF_PS_DECEASED:
        return "the patient is deceased";
    default:
        return "only a patient on the register (在册) is admitted";
    }
}

void jf_episode_read_admission(jf_req *req, jf_errors *e, jf_admission *a)
{
    const char *v[AD_N] = {NULL};

    jf_kind_read(req, e, &ad_kind, v);
    a->admitted_on = v[AD_ADMITTED_ON];
    a->hospital = v[AD_HOSPITAL];
    a->reason = v[AD_REASON];
    a->involuntary = v[AD_INVOLUNTARY] != NULL && strcmp(v[AD_INVOLUNTARY], "true") == 0;
    a->escorted_by = v[AD_ESCORTED_BY];
    a->escort_names = v[AD_ESCORT_NAMES];
    if (a->escort_names != NULL && !jf_body_has(req, "escorted_by"))
        jf_errors_add(e, "escort_names", "needs escorted_by");
}

void jf_episode_read_discharge(jf_req *req, jf_errors *e, jf_discharge *d)
{
    d->discharged_on = jf_body_date(req, e, "discharged_on", true);
    d->note = jf_body_str(req, e, "discharge_note", false, 1, 500);
    d->diagnosis =
        jf_body_code(req, e, "diagnosis", false, jf_pfields[jf_pf_index("diagnosis")].codes);
    d->medications = jf_res_medications(req, e, "medications", 20);
    d->advice = jf_body_str(req, e, "advice", false, 1, 2000);
    if (jf_body_int(req, e, "risk_level", false, 0, 5, &d->risk_level) != 1)
        d->risk_level = -1;
    if (jf_body_int(req, e, "community_doctor_id", false, 1, INT64_MAX, &d->community_doctor_id) !=
        1)
        d->community_doctor_id = 0;
}

void jf_episode_read_incident(jf_req *req, jf_errors *e, jf_incident *in, bool case_no_required)
{
    const char *v[IN_N] = {NULL};

    jf_kind_read(req, e, &in_kind, v);
    /* The police system's reports carry their case number. */
    if (case_no_required &&
        (!jf_body_has(req, "police_case_no") || jf_body_null(req, "police_case_no")))
        jf_errors_add(e, "police_case_no", "is required");
    in->occurred_on = v[IN_OCCURRED_ON];
    in->place = v[IN_PLACE];
    in->kind = v[IN_KIND];
    in->police_case_no = v[IN_CASE_NO];
    in->description = v[IN_DESCRIPTION];
    in->injured = v[IN_INJURED] != NULL ? strtoll(v[IN_INJURED], NULL, 10) : 0;
    in->dead = v[IN_DEAD] != NULL ? strtoll(v[IN_DEAD], NULL, 10) : 0;
}

int jf_episode_admit(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                     const jf_admission *a, jf_buf *out)
{
    jf_errors e = {0};
    PGresult *res = NULL;
    const char *why, *aid = NULL;
    int rc;

    why = admit_refusal(row->status);
    if (why != NULL) {
        refuse(req, "No admission for this record", why);
        return JF_ERR_CONFLICT;
    }
    const char *sp[] = {row->id};
    rc = jf_db_exec(conn, &adm_state, 1, sp, &res);
    if (rc != 0)
        goto out;
    if (!PQgetisnull(res, 0, 0)) {
        const char *open = PQgetvalue(res, 0, 0), *bar = strchr(open, '|');
        jf_resp_problem(req, 409, "transition-refused", "Already admitted",
                        jf_arena_printf(&req->arena,
                                        "admission %.*s has been open since %s: discharge "
                                        "it first",
                                        (int)(bar ? bar - open : 0), open, bar ? bar + 1 : ""),
                        "admitted_on", "the patient is already in hospital");
        rc = JF_ERR_CONFLICT;
        goto out;
    }
    if (!PQgetisnull(res, 0, 1) && strcmp(PQgetvalue(res, 0, 1), a->admitted_on) > 0) {
        jf_errors_add(&e, "admitted_on", "must not be before the last discharge (%s)",
                      PQgetvalue(res, 0, 1));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    PQclear(res);
    res = NULL;
    {
        const char *p[] = {
            row->id,   a->admitted_on, a->hospital,     jf_res_tf(a->involuntary),
            a->reason, a->escorted_by, a->escort_names, jf_res_id(req, req->claims.user_id)};
        rc = jf_db_exec(conn, &adm_insert, 8, p, &res);
    }
    if (rc == 0) {
        aid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        rc = jf_buf_append(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    } else if (strcmp(jf_db_sqlstate(res), "23505") == 0) {
        /* hospitalisations_one_open: another admission landed meanwhile */
        jf_resp_problem(req, 409, "transition-refused", "Already admitted",
                        "another admission was recorded meanwhile; reload", "admitted_on",
                        "the patient is already in hospital");
        rc = JF_ERR_CONFLICT;
        goto out;
    }
    if (rc == 0)
        rc = jf_record_move(
            req, conn, row, JF_PS_HOSPITALISED,
            (jf_patient_event){
                .date = a->admitted_on,
                .reason = jf_arena_printf(&req->arena, "admitted to %s%s", a->hospital,
                                          a->involuntary ? " involuntarily (强制送医)" : ""),
                .detail_json = jf_arena_printf(&req->arena, "{\"admission_id\":%s}", aid)});
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row->id);
    if (rc == 0)
        rc =
            jf_record_audit(req, conn, row, "admission.create",
                            jf_arena_printf(&req->arena, "{\"admission_id\":%s,\"involuntary\":%s}",
                                            aid, jf_res_tf(a->involuntary)));
out:
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/admissions {admitted_on, hospital, involuntary, reason?} */
/* What a route does inside its transaction: one of the cores, bound to the
 * fields read from its body. */
typedef struct step {
    enum { STEP_ADMIT, STEP_DISCHARGE, STEP_INCIDENT } kind;
    const jf_admission *admission;
    const char *admission_id;
    const jf_discharge *discharge;
    const jf_incident *incident;
} step;

/* Load the route's patient for writing, run the step in a transaction
 * (with the request's Idempotency-Key, if any, checked before the step's
 * rules: the retry of an admission meets a patient now in hospital),
 * commit and answer status with the record. */
static int run_step(jf_req *req, const step *st, int status)
{
    jf_idem idem;
    jf_patient_row row;
    jf_db_conn *conn;
    jf_buf out;
    int rc;

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    jf_buf_init(&out, 1u << 16);
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    switch (st->kind) {
    case STEP_ADMIT:
        rc = jf_episode_admit(req, conn, &row, st->admission, &out);
        break;
    case STEP_DISCHARGE:
        rc = jf_episode_discharge(req, conn, &row, st->admission_id, st->discharge, &out);
        break;
    case STEP_INCIDENT:
        rc = jf_episode_incident(req, conn, &row, st->incident, &out);
        break;
    }
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, status, NULL, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, status, out.data, out.len);
out:
    jf_buf_free(&out);
    return rc;
}

static int admit(jf_req *req)
{
    static const char *const allowed[] = {"admitted_on", "hospital",     "involuntary", "reason",
                                          "escorted_by", "escort_names", NULL};
    jf_errors e = {0};
    jf_admission a = {0};
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_episode_read_admission(req, &e, &a);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return run_step(req, &(step){.kind = STEP_ADMIT, .admission = &a}, 201);
}

/* The discharge summary's own writes, before the stay is updated: the
 * community doctor must be one of the patient's area (400 naming it
 * otherwise), the risk level becomes an assessment whose id goes to
 * *assessment (NULL without a level). 0, or an error (400, or a jf_db_exec
 * error leaving *res for the caller to clear). */
static int discharge_summary(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                             const jf_discharge *d, const char *hospital, const char **assessment,
                             PGresult **res)
{
    jf_errors e = {0};
    int rc = 0;

    *assessment = NULL;
    if (d->community_doctor_id != 0) {
        const char *p[] = {jf_res_id(req, d->community_doctor_id), row->org_path};
        if ((rc = jf_db_exec(conn, &community_doctor, 2, p, res)) != 0)
            return rc;
        if (PQntuples(*res) == 0) {
            jf_errors_add(&e, "community_doctor_id",
                          "is not an active doctor of the patient's area");
            return jf_errors_respond(req, &e);
        }
        PQclear(*res);
        *res = NULL;
    }
    if (d->risk_level >= 0) {
        const char *p[] = {row->id, d->discharged_on, jf_res_id(req, d->risk_level),
                           jf_arena_printf(&req->arena, "出院评估（%s）", hospital),
                           jf_res_id(req, req->claims.user_id)};
        if ((rc = jf_db_exec(conn, &discharge_assessment, 5, p, res)) != 0)
            return rc;
        *assessment = jf_arena_strdup(&req->arena, PQgetvalue(*res, 0, 0));
        PQclear(*res);
        *res = NULL;
    }
    return rc;
}

int jf_episode_discharge(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                         const char *admission_id, const jf_discharge *d, jf_buf *out)
{
    jf_errors e = {0};
    PGresult *res = NULL;
    const char *hospital, *assessment = NULL;
    int rc;

    if (admission_id == NULL) {
        const char *op[] = {row->id};
        rc = jf_db_exec(conn, &adm_open, 1, op, &res);
        if (rc != 0)
            goto out;
        if (PQntuples(res) == 0) {
            jf_resp_problem(req, 409, "transition-refused", "No discharge without an admission",
                            "this patient has no open admission", "discharged_on",
                            "the patient is not in hospital");
            rc = JF_ERR_CONFLICT;
            goto out;
        }
        admission_id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
        PQclear(res);
        res = NULL;
    }
    const char *lp[] = {row->id, admission_id};
    rc = jf_db_exec(conn, &adm_lock, 2, lp, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0 || !PQgetisnull(res, 0, 1)) {
        jf_resp_problem(
            req, 409, "transition-refused", "No discharge without an admission",
            PQntuples(res) == 0
                ? "this patient has no such admission"
                : jf_arena_printf(&req->arena, "this admission ended on %s", PQgetvalue(res, 0, 1)),
            "admission_id", "is not an open admission of this patient");
        rc = JF_ERR_CONFLICT;
        goto out;
    }
    if (strcmp(d->discharged_on, PQgetvalue(res, 0, 0)) < 0) {
        jf_errors_add(&e, "discharged_on", "must not be before admitted_on (%s)",
                      PQgetvalue(res, 0, 0));
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    hospital = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 2));
    PQclear(res);
    res = NULL;
    if ((rc = discharge_summary(req, conn, row, d, hospital, &assessment, &res)) != 0)
        goto out;
    const char *p[] = {row->id,
                       admission_id,
                       d->discharged_on,
                       d->note,
                       d->diagnosis,
                       d->medications,
                       d->risk_level >= 0 ? jf_res_id(req, d->risk_level) : NULL,
                       d->advice,
                       d->community_doctor_id ? jf_res_id(req, d->community_doctor_id) : NULL,
                       assessment};
    rc = jf_db_exec(conn, &adm_discharge, 10, p, &res);
    if (rc == 0)
        rc = jf_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (rc == 0 && d->medications) {
        const char *rp[] = {row->id, d->discharged_on, d->medications,
                            jf_res_id(req, req->claims.user_id)};
        PQclear(res);
        res = NULL;
        rc = jf_db_exec(conn, &discharge_rx, 4, rp, &res);
    }
    if (rc == 0 && row->status == JF_PS_HOSPITALISED)
        rc = jf_record_move(
            req, conn, row, JF_PS_IN_CARE,
            (jf_patient_event){
                .date = d->discharged_on,
                .reason = jf_arena_printf(&req->arena, "discharged from %s", hospital),
                .detail_json =
                    jf_arena_printf(&req->arena, "{\"admission_id\":%s}", admission_id)});
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row->id);
    /* The clinic and the police station hear of it: the 7-day visit, the
     * risk level and who takes the patient on; nothing clinical, as the
     * police read it. */
    if (rc == 0)
        rc = jf_record_notify(
            JF_ACTOR(req), conn, "discharged", row->id,
            jf_arena_printf(&req->arena,
                            "{\"admission_id\":%s,\"discharged_on\":\"%s\","
                            "\"risk_level\":%s,\"community_doctor_id\":%s}",
                            admission_id, d->discharged_on,
                            d->risk_level >= 0 ? jf_res_id(req, d->risk_level) : "null",
                            d->community_doctor_id ? jf_res_id(req, d->community_doctor_id)
                                                   : "null"),
            NULL);
    if (rc == 0)
        rc = jf_record_audit(
            req, conn, row, "admission.discharge",
            jf_arena_printf(&req->arena, "{\"admission_id\":%s,\"summary\":%s}", admission_id,
                            jf_res_tf(d->diagnosis || d->medications || d->advice ||
                                      d->risk_level >= 0 || d->community_doctor_id)));
out:
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/admissions/{admission_id}/discharge {discharged_on,
 * discharge_note?, and the summary: diagnosis?, medications?, risk_level?,
 * advice?, community_doctor_id?} */
static int discharge(jf_req *req)
{
    static const char *const allowed[] = {
        "discharged_on", "discharge_note", "diagnosis",           "medications",
        "risk_level",    "advice",         "community_doctor_id", NULL};
    jf_errors e = {0};
    jf_discharge d = {0};
    int rc;

    if (jf_req_param_id(req, 1) == 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_episode_read_discharge(req, &e, &d);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return run_step(
        req, &(step){.kind = STEP_DISCHARGE, .admission_id = jf_req_param(req, 1), .discharge = &d},
        200);
}

/* GET /patients/{id}/admissions[/{admission_id}]: every role that reads the
 * patient, cut to its view (the police see the stay, the escort and the
 * risk level at discharge, never the diagnosis, medications or notes). */
static int read_admissions(jf_req *req)
{
    jf_patient_view v = jf_record_view(req);
    const char *one = NULL;

    if (req->npath_params > 1) {
        if (jf_req_param_id(req, 1) == 0)
            return jf_resp_not_found(req);
        one = jf_req_param(req, 1);
    }
    return jf_episode_read(req, &adm_list,
                           one ? jf_arena_printf(&req->arena, "{\"admission_id\":%s}", one)
                               : "{\"list\":\"admissions\"}",
                           jf_arena_printf(&req->arena, "{%s%s%s}", v.clinical ? "" : HIDE_CLINICAL,
                                           !v.clinical && !v.risk ? "," : "",
                                           v.risk ? "" : HIDE_RISK),
                           one, one != NULL);
}

int jf_episode_incident(jf_req *req, jf_db_conn *conn, const jf_patient_row *row,
                        const jf_incident *in, jf_buf *out)
{
    if (row->status == JF_PS_RULED_OUT) {
        refuse(req, "No incident for this record",
               "the person was ruled out: report them again if needed");
        return JF_ERR_CONFLICT;
    }
    const char *p[] = {row->id,
                       in->occurred_on,
                       in->place,
                       in->kind,
                       jf_res_id(req, in->injured),
                       jf_res_id(req, in->dead),
                       in->police_case_no,
                       in->description,
                       jf_res_id(req, req->claims.user_id)};
    return jf_episode_record_write(req, conn, row, &inc_insert, 9, p, "incident.create",
                                   "incident_id", "incident", out);
}

/* POST /patients/{id}/incidents {occurred_on, place, kind, injured, dead,
 * police_case_no?, description?} — by doctors and police. */
static int create_incident(jf_req *req)
{
    static const char *const allowed[] = {"occurred_on", "place",          "kind",        "injured",
                                          "dead",        "police_case_no", "description", NULL};
    jf_errors e = {0};
    jf_incident in = {0};
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_episode_read_incident(req, &e, &in, false);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return run_step(req, &(step){.kind = STEP_INCIDENT, .incident = &in}, 201);
}

static int list_incidents(jf_req *req)
{
    /* Incidents are part of the risk picture: roles that see risk only. */
    if (!jf_record_view(req).risk)
        return jf_resp_forbidden(req, "your role does not see risk information");
    return jf_episode_list(req, &inc_list, "incidents");
}

/* POST /patients/{id}/health-checks {checked_on, items?, note?} */
static int create_check(jf_req *req)
{
    static const char *const allowed[] = {"checked_on", "items", "note", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_db_conn *conn;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "checked_on", true);
    const char *items = items_field(req, &e);
    const char *note = jf_body_str(req, &e, "note", false, 1, 1000);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if (!jf_pstatus_registered(row.status))
        return refuse(req, "Not on the register",
                      "only a patient on the register (在册) has annual health checks");
    const char *p[] = {row.id, on, items, note, jf_res_id(req, req->claims.user_id)};
    return jf_episode_record_insert(req, conn, &row, &check_insert, 5, p, "health_check.create",
                                    "health_check_id", NULL);
}

static int list_checks(jf_req *req)
{
    return jf_episode_list(req, &check_list, "health_checks");
}

/* A change of the patient's whereabouts: from `from` (NONE: any status
 * that may become `to`) to `to`, dated by the body's date field, with a
 * note; the reason, notification and audit follow. */
typedef struct whereabouts_step {
    const char *date_field, *place_field; /* place_field: NULL when none */
    jf_pstatus from, to;
    const char *reason, *detail, *notify_kind, *notify_detail, *action;
} whereabouts_step;

static int whereabouts(jf_req *req, const whereabouts_step *st)
{
    const char *allowed[] = {st->date_field, "note", st->place_field, NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, st->date_field, true);
    const char *place =
        st->place_field ? jf_body_str(req, &e, st->place_field, true, 1, 200) : NULL;
    const char *note = jf_body_str(req, &e, "note", false, 1, 400);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    jf_buf_init(&out, 1u << 16);
    /* The key first: the retry of this report meets the status it made. */
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    if (st->from != JF_PS_NONE && row.status != st->from) {
        rc = refuse(req, "Not lost", "only a patient recorded as lost (失访) is found again");
        goto out;
    }
    if (row.status == st->to) {
        rc = refuse(req, "Already lost", "the patient is already recorded as lost (失访)");
        goto out;
    }
    if (!jf_pstatus_allowed(row.status, st->to)) {
        rc = refuse(req, "Status change refused",
                    row.status == JF_PS_HOSPITALISED
                        ? "the patient is in hospital: record the discharge first"
                        : jf_pstatus_refusal(row.status, st->to));
        goto out;
    }
    rc = jf_record_move(
        req, conn, &row, st->to,
        (jf_patient_event){.date = on,
                           .reason = jf_arena_printf(&req->arena, "%s%s%s%s%s", st->reason,
                                                     place ? place : "", note ? "（" : "",
                                                     note ? note : "", note ? "）" : ""),
                           .detail_json = st->detail});
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0 && st->notify_kind != NULL)
        rc =
            jf_record_notify(JF_ACTOR(req), conn, st->notify_kind, row.id, st->notify_detail, NULL);
    if (rc == 0)
        rc = jf_record_audit(req, conn, &row, st->action,
                             jf_arena_printf(&req->arena, "{\"%s\":\"%s\"}", st->date_field, on));
    const char *p[] = {row.id};
    if (rc == 0)
        rc = jf_db_exec(conn, &state, 1, p, &res);
    if (rc == 0)
        rc = jf_buf_append(&out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, 200, NULL, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/whereabouts-unknown {reported_on, note?}: anyone who
 * reports or treats (grid workers, police, doctors) may say a patient
 * cannot be found; the patient becomes lost (失访) at once. */
static int whereabouts_unknown(jf_req *req)
{
    jf_role role = jf_role_parse(req->claims.role);

    if (!jf_role_has(role, JF_CAP_PATIENT_REPORT) && !jf_role_has(role, JF_CAP_CLINICAL_WRITE))
        return jf_resp_forbidden(req, "your role may not do this");
    return whereabouts(req,
                       &(whereabouts_step){.date_field = "reported_on",
                                           .from = JF_PS_NONE,
                                           .to = JF_PS_LOST,
                                           .reason = "whereabouts unknown (去向不明)",
                                           .detail = "{\"whereabouts_unknown\":true}",
                                           .notify_kind = "lost",
                                           .notify_detail = "{\"reason\":\"whereabouts_unknown\"}",
                                           .action = "patient.whereabouts_unknown"});
}

/* POST /patients/{id}/whereabouts-confirmed {confirmed_on, place, note?}:
 * the police found a lost patient, who is back in care. With a 面访, the
 * only way back from 失访 [R-LOST-4]. */
static int whereabouts_confirmed(jf_req *req)
{
    if (jf_role_parse(req->claims.role) != JF_ROLE_POLICE)
        return jf_resp_forbidden(req, "only the police confirm a lost patient's whereabouts");
    return whereabouts(req, &(whereabouts_step){.date_field = "confirmed_on",
                                                .place_field = "place",
                                                .from = JF_PS_LOST,
                                                .to = JF_PS_IN_CARE,
                                                .reason = "whereabouts confirmed by the police: ",
                                                .detail = "{\"whereabouts_confirmed\":true}",
                                                .action = "patient.whereabouts_confirmed"});
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/admissions", read_admissions, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"GET", "/api/v1/patients/{id}/admissions/{admission_id}", read_admissions, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/admissions", admit, JF_ROUTE_AUTH, JF_CAP_CLINICAL_WRITE},
    {"POST", "/api/v1/patients/{id}/admissions/{admission_id}/discharge", discharge, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_WRITE},
    {"GET", "/api/v1/patients/{id}/incidents", list_incidents, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients/{id}/incidents", create_incident, JF_ROUTE_AUTH,
     JF_CAP_INCIDENT_WRITE},
    {"GET", "/api/v1/patients/{id}/health-checks", list_checks, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/health-checks", create_check, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_WRITE},
    /* Two capabilities qualify; the handler checks them. */
    {"POST", "/api/v1/patients/{id}/whereabouts-unknown", whereabouts_unknown, JF_ROUTE_AUTH,
     JF_CAP_PATIENT_READ},
    /* Police only; the handler checks the role. */
    {"POST", "/api/v1/patients/{id}/whereabouts-confirmed", whereabouts_confirmed, JF_ROUTE_AUTH,
     JF_CAP_WRITE},
};

/* The admission's and the incident's statements, from their tables. */
static int kinds_init(void)
{
    int rc = jf_kind_insert_sql(&ad_kind, ADMISSION_JSON, adm_insert_sql, sizeof(adm_insert_sql));

    if (rc == 0)
        rc = jf_kind_json_sql(&in_kind, inc_json, sizeof(inc_json));
    if (rc == 0)
        rc = jf_kind_insert_sql(&in_kind, inc_json, inc_insert_sql, sizeof(inc_insert_sql));
    if (rc == 0 && snprintf(inc_list_sql, sizeof(inc_list_sql),
                            "SELECT coalesce(json_agg(%s ORDER BY i.occurred_on DESC, i.id DESC),"
                            " '[]')::text FROM incidents i WHERE i.patient_id = $1",
                            inc_json) >= (int)sizeof(inc_list_sql))
        rc = JF_ERR_TOO_LARGE;
    return rc;
}

int jf_res_episodes_init(void)
{
    jf_stmt *const s[] = {
        &community_doctor, &discharge_assessment, &adm_state, &adm_insert,  &adm_lock,
        &adm_open,         &adm_discharge,        &adm_list,  &inc_insert,  &inc_list,
        &check_insert,     &check_list,           &state,     &discharge_rx};

    if (kinds_init() != 0 || jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
