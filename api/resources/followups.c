/* Follow-up visits (随访) on the national form, and risk assessments
 * (危险性评估, 三级三评). The server classifies each reached visit from the
 * form (a clinician may override with a written reason; both are kept),
 * records the visit's risk level as a community assessment, and recomputes
 * the patient's due date, 失访 state, flags and colour in the same
 * transaction. */
#include "field.h"
#include "common.h"
#include "idempotency.h"
#include "referrals.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/followup.h"
#include "../domain/followup_form.h"
#include "../domain/referral.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/notify.h"
#include "../record/kind.h"
#include "../record/patient.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The INSERT and the JSON of a visit, generated at start from the form's
 * table (fu_kind, below). */
static char fu_insert_sql[4096], fu_json[4096], fu_one_sql[4608], fu_list_sql[5120];
static jf_stmt fu_insert = {"followup_insert", fu_insert_sql, 0};
static jf_stmt fu_set_due = {
    "followup_set_due",
    "UPDATE follow_ups f SET next_due = p.next_due, next_due_joint = p.next_due_joint"
    " FROM patients p WHERE f.id = $1 AND f.visit_date = $2::date AND p.id = f.patient_id",
    0,
};
static jf_stmt fu_one = {"followup_one", fu_one_sql, 0};
static jf_stmt fu_list = {"followup_list", fu_list_sql, 0};
static jf_stmt ra_insert = {
    "risk_assessment_insert",
    "INSERT INTO risk_assessments (patient_id, assessed_on, level, tier, basis, follow_up_id,"
    " user_id, face_to_face) VALUES ($1, $2::date, $3::smallint, $4, $5, $6, $7, $8::bool)"
    " RETURNING id",
    0,
};
static jf_stmt ra_list = {
    "risk_assessment_list",
    "SELECT coalesce(json_agg(json_build_object('id', r.id, 'assessed_on', r.assessed_on,"
    " 'level', r.level, 'tier', r.tier, 'face_to_face', r.face_to_face, 'basis', r.basis,"
    " 'follow_up_id', r.follow_up_id,"
    " 'user_id', r.user_id, 'user_name', u.display_name, 'created_at', r.created_at)"
    " ORDER BY r.assessed_on DESC, r.id DESC), '[]') FROM risk_assessments r"
    " LEFT JOIN users u ON u.id = r.user_id WHERE r.patient_id = $1",
    0,
};
static jf_stmt patient_state = {
    "patient_clinical_state",
    "SELECT json_build_object('risk_level', risk_level, 'colour', colour, 'key_flags',"
    " key_flags, 'colour_reasons', colour_reasons, 'status', status, 'next_due', next_due,"
    " 'next_due_joint', next_due_joint, 'due_rule', due_rule, 'last_reached_on',"
    " last_reached_on, 'last_class', last_class, 'misses', misses, 'health_check_due',"
    " health_check_due, 'last_face_to_face_on', last_face_to_face_on, 'colour_scheme',"
    " colour_scheme, 'colour_config_unit_id', colour_config_unit_id,"
    " 'colour_config_unit_name', (SELECT name FROM org_units u"
    " WHERE u.id = colour_config_unit_id), 'colour_points', colour_points,"
    " 'colour_points_detail', colour_points_detail)::text FROM patients WHERE id = $1",
    0,
};

static const char *const modes[] = {"clinic", "home", "phone", NULL};
static const char *const informants[] = {"patient", "family", "other", NULL};
static const char *const unreached_reasons[] = {"out_for_work", "moved", "missing",
                                                "refused",      "other", NULL};
static const char *const death_causes[] = {"illness", "suicide", "accident", "homicide",
                                           "other",   "unknown", NULL};
/* The 12 symptoms of the national form. */
static const char *const symptom_codes[] = {"hallucination",
                                            "communication_difficulty",
                                            "suspicion",
                                            "mood_swings",
                                            "odd_behaviour",
                                            "excited_talkative",
                                            "violence",
                                            "pessimism",
                                            "wandering",
                                            "talking_to_self",
                                            "withdrawn_lazy",
                                            "other",
                                            NULL};
static const char *const insights[] = {"complete", "partial", "absent", NULL};
static const char *const gfp[] = {"good", "fair", "poor", NULL};
static const char *const gfpna[] = {"good", "fair", "poor", "na", NULL};
static const char *const lock_ups[] = {"none", "locked", "released", NULL};
static const char *const hosp[] = {"none", "in_hospital", "discharged", NULL};
static const char *const compliances[] = {"regular", "intermittent", "none", "not_required", NULL};
static const char *const adverse[] = {"yes", "no", "na", NULL};
static const char *const effects[] = {"recovered", "improved", "unchanged", "worse", "na", NULL};
static const char *const rehab_codes[] = {"life_skills",   "vocational", "social",
                                          "psychological", "other",      NULL};
static const char *const joint_codes[] = {"police", "village_cadre", "doctor", "grid_worker",
                                          "family", "other",         NULL};
static const char *const act_codes[] = {"mild_trouble", "trouble",         "disaster", "other_harm",
                                        "self_harm",    "suicide_attempt", NULL};
static const char *const tiers[] = {"community", "township", "city", NULL};

/* The national follow-up form (随访表) as one table: what each field is,
 * where it is stored and how it is shown, in the column order of
 * follow_ups. Rows without a key are filled by the handler: the patient,
 * the user, the social-function items (read from one object), the acts,
 * the medications and the classes the rules compute. */
enum {
    FU_ID,
    FU_PATIENT,
    FU_VISIT_DATE,
    FU_MODE,
    FU_INFORMANT,
    FU_REACHED,
    FU_UNREACHED,
    FU_DIED,
    FU_DEATH_DATE,
    FU_DEATH_CAUSE,
    FU_RISK,
    FU_SYMPTOMS,
    FU_PSYCHOTIC,
    FU_INSIGHT,
    FU_SLEEP,
    FU_DIET,
    FU_SOCIAL,
    FU_SOCIAL_JSON = FU_SOCIAL + 5,
    FU_ACTS,
    FU_LOCK_UP,
    FU_HOSP,
    FU_DISCHARGED_ON,
    FU_LAB,
    FU_COMPLIANCE,
    FU_ADVERSE,
    FU_ADV_SERIOUS,
    FU_PHYS_SERIOUS,
    FU_EFFECT,
    FU_REFERRAL,
    FU_REF_REASON,
    FU_REF_TO,
    FU_REF_ID,
    FU_MEDS,
    FU_REHAB,
    FU_COMPUTED,
    FU_CLASS,
    FU_OVERRIDE_REASON,
    FU_VISITORS,
    FU_JOINT,
    FU_JOINT_WITH,
    FU_NEXT_DUE,
    FU_NEXT_DUE_JOINT,
    FU_NOTE,
    FU_USER,
    FU_CREATED,
    FU_N
};
#define REQ JF_KF_REQUIRED
static const jf_kfield fu_fields[] = {
    [FU_ID] = {"id", NULL, JF_K_OUT, .json = "f.id"},
    [FU_PATIENT] = {NULL, "patient_id", JF_K_SET},
    [FU_VISIT_DATE] = {"visit_date", "visit_date", JF_K_DATE, .cast = "date", .flags = REQ},
    [FU_MODE] = {"mode", "mode", JF_K_CODE, modes, .flags = REQ},
    [FU_INFORMANT] = {"informant", "informant", JF_K_CODE, informants},
    [FU_REACHED] = {"reached", "reached", JF_K_BOOL, .cast = "bool", .flags = REQ},
    [FU_UNREACHED] = {"unreached_reason", "unreached_reason", JF_K_CODE, unreached_reasons},
    [FU_DIED] = {"died", "died", JF_K_BOOL, .cast = "bool", .dflt = "false"},
    [FU_DEATH_DATE] = {"death_date", "death_date", JF_K_DATE, .cast = "date"},
    [FU_DEATH_CAUSE] = {"death_cause", "death_cause", JF_K_CODE, death_causes},
    [FU_RISK] = {"risk_level", "risk_level", JF_K_INT, .min = 0, .max = 5, .cast = "smallint"},
    [FU_SYMPTOMS] = {"symptoms", "symptoms", JF_K_CODES, symptom_codes, .max = 16, .cast = "text[]",
                     .dflt = "'{}'"},
    [FU_PSYCHOTIC] = {"obvious_psychotic", "obvious_psychotic", JF_K_BOOL, .cast = "bool"},
    [FU_INSIGHT] = {"insight", "insight", JF_K_CODE, insights},
    [FU_SLEEP] = {"sleep", "sleep", JF_K_CODE, gfp},
    [FU_DIET] = {"diet", "diet", JF_K_CODE, gfp},
    [FU_SOCIAL + 0] = {NULL, "social_personal_care", JF_K_SET, .flags = JF_KF_NO_JSON},
    [FU_SOCIAL + 1] = {NULL, "social_housework", JF_K_SET, .flags = JF_KF_NO_JSON},
    [FU_SOCIAL + 2] = {NULL, "social_work", JF_K_SET, .flags = JF_KF_NO_JSON},
    [FU_SOCIAL + 3] = {NULL, "social_learning", JF_K_SET, .flags = JF_KF_NO_JSON},
    [FU_SOCIAL + 4] = {NULL, "social_contact", JF_K_SET, .flags = JF_KF_NO_JSON},
    [FU_SOCIAL_JSON] = {"social_function", NULL, JF_K_OUT,
                        .json = "json_build_object('personal_care', f.social_personal_care,"
                                " 'housework', f.social_housework, 'work', f.social_work,"
                                " 'learning', f.social_learning, 'social_contact',"
                                " f.social_contact)"},
    [FU_ACTS] = {NULL, "dangerous_acts", JF_K_SET, .cast = "jsonb", .dflt = "'{}'"},
    [FU_LOCK_UP] = {"lock_up", "lock_up", JF_K_CODE, lock_ups},
    [FU_HOSP] = {"hospitalisation", "hospitalisation", JF_K_CODE, hosp},
    [FU_DISCHARGED_ON] = {"discharged_on", "discharged_on", JF_K_DATE, .cast = "date"},
    [FU_LAB] = {"lab_tests", "lab_tests", JF_K_TEXT, .min = 1, .max = 500},
    [FU_COMPLIANCE] = {"compliance", "compliance", JF_K_CODE, compliances},
    [FU_ADVERSE] = {"adverse_reaction", "adverse_reaction", JF_K_CODE, adverse},
    [FU_ADV_SERIOUS] = {"adverse_serious", "adverse_serious", JF_K_BOOL, .cast = "bool",
                        .dflt = "false"},
    [FU_PHYS_SERIOUS] = {"physical_illness_serious", "physical_illness_serious", JF_K_BOOL,
                         .cast = "bool", .dflt = "false"},
    [FU_EFFECT] = {"treatment_effect", "treatment_effect", JF_K_CODE, effects},
    [FU_REFERRAL] = {"referral", "referral", JF_K_BOOL, .cast = "bool", .dflt = "false"},
    [FU_REF_REASON] = {"referral_reason", "referral_reason", JF_K_TEXT, .min = 1, .max = 200},
    [FU_REF_TO] = {"referral_to", "referral_to", JF_K_TEXT, .min = 1, .max = 100},
    [FU_REF_ID] = {"referral_id", NULL, JF_K_OUT,
                   .json = "(SELECT r.id FROM referrals r WHERE r.follow_up_id = f.id)"},
    [FU_MEDS] = {NULL, "medications", JF_K_SET, .cast = "jsonb", .dflt = "'[]'"},
    [FU_REHAB] = {"rehabilitation", "rehabilitation", JF_K_CODES, rehab_codes, .max = 16,
                  .cast = "text[]", .dflt = "'{}'"},
    [FU_COMPUTED] = {NULL, "computed_class", JF_K_SET},
    [FU_CLASS] = {NULL, "class", JF_K_SET},
    [FU_OVERRIDE_REASON] = {NULL, "class_override_reason", JF_K_SET},
    [FU_VISITORS] = {"visitors", "visitors", JF_K_TEXT, .min = 1, .max = 200},
    [FU_JOINT] = {"joint_visit", "joint_visit", JF_K_BOOL, .cast = "bool", .dflt = "false"},
    [FU_JOINT_WITH] = {"joint_with", "joint_with", JF_K_CODES, joint_codes, .max = 16,
                       .cast = "text[]", .dflt = "'{}'"},
    [FU_NEXT_DUE] = {"next_due", NULL, JF_K_OUT, .json = "f.next_due"},
    [FU_NEXT_DUE_JOINT] = {"next_due_joint", NULL, JF_K_OUT, .json = "f.next_due_joint"},
    [FU_NOTE] = {"note", "note", JF_K_TEXT, .min = 1, .max = 1000},
    [FU_USER] = {NULL, "user_id", JF_K_SET},
    [FU_CREATED] = {"created_at", NULL, JF_K_OUT, .json = "f.created_at"},
};
#undef REQ
_Static_assert(sizeof(fu_fields) / sizeof(fu_fields[0]) == FU_N, "one row per FU_ field");
static const jf_kind fu_kind = {"follow_ups", "f", fu_fields, FU_N};
/* Every field a form may hold: the table's, then the handler's (below). */
static const char *fu_allowed[FU_N + 8];
/* The body's fields besides the table's: read by the handler. */
static const char *const fu_extra_keys[] = {
    "social_function",      "dangerous_acts",   "medications", "class_override",
    "referral_hospital_id", "referral_urgency", "absence",     NULL};

/* {mild_trouble: n, …} counts of dangerous acts since the last visit. */
static const char *acts(jf_req *req, jf_errors *e)
{
    json_t *o = json_object_get(req->body, "dangerous_acts"), *v;
    const char *k;
    char *s;

    if (o == NULL || json_is_null(o))
        return NULL;
    if (!json_is_object(o)) {
        jf_errors_add(e, "dangerous_acts", "must be an object of counts");
        return NULL;
    }
    json_object_foreach(o, k, v)
    {
        if (!jf_in_set(k, act_codes) || !json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 999) {
            jf_errors_add(e, "dangerous_acts", "%s must be a known act with a count 0-999", k);
            return NULL;
        }
    }
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    k = jf_arena_strdup(&req->arena, s);
    free(s);
    return k;
}

static bool is_true(const char *s)
{
    return s != NULL && strcmp(s, "true") == 0;
}

static jf_level3 level3(const char *s)
{
    if (s == NULL || strcmp(s, "na") == 0)
        return JF_L3_NA;
    return strcmp(s, "good") == 0 ? JF_L3_GOOD : strcmp(s, "fair") == 0 ? JF_L3_FAIR : JF_L3_POOR;
}

/* Every risk assessment, a visit's included, is pushed to 综治中心 and the
 * police station (seed 004: 每季度随访时…立即向综治办、派出所推送信息). */
static int push_assessment(jf_req *req, jf_db_conn *conn, const char *pid, const char *on,
                           const char *level)
{
    return jf_record_notify(
        JF_ACTOR(req), conn, "risk_assessment", pid,
        jf_arena_printf(&req->arena, "{\"assessed_on\":\"%s\",\"level\":%s}", on, level), NULL);
}

/* The form's members that are objects: the social-function items into
 * v[FU_SOCIAL…], the class override (its class into *override_class, its
 * reason into v), and the acts and medications. */
static void read_objects(jf_req *req, jf_errors *e, const char **v, const char **override_class)
{
    json_t *sf = json_object_get(req->body, "social_function");
    json_t *ov = json_object_get(req->body, "class_override");

    v[FU_MEDS] = jf_res_medications(req, e, "medications", 10);
    v[FU_ACTS] = acts(req, e);
    if (sf != NULL && !json_is_null(sf)) {
        const char *k;
        json_t *val;
        if (!json_is_object(sf)) {
            jf_errors_add(e, "social_function", "must be an object");
        } else {
            json_object_foreach(sf, k, val)
            {
                int i = 0;
                while (jf_form_social_items[i] && strcmp(jf_form_social_items[i], k) != 0)
                    i++;
                if (jf_form_social_items[i] == NULL || !json_is_string(val) ||
                    !jf_in_set(json_string_value(val), i == 2 ? gfpna : gfp))
                    jf_errors_add(e, "social_function", "%s is not a known item with a code", k);
                else
                    v[FU_SOCIAL + i] = json_string_value(val);
            }
        }
    }
    if (ov != NULL && !json_is_null(ov)) {
        json_t *c = json_object_get(ov, "class"), *r = json_object_get(ov, "reason");
        if (!json_is_object(ov) || json_object_size(ov) != 2 || !json_is_string(c) ||
            jf_visit_class_parse(json_string_value(c)) == JF_CLASS_NONE || !json_is_string(r) ||
            jf_utf8_len(json_string_value(r)) < 2 || jf_utf8_len(json_string_value(r)) > 500)
            jf_errors_add(e, "class_override",
                          "must be {class, reason}: a class code and a written reason");
        else {
            *override_class = json_string_value(c);
            v[FU_OVERRIDE_REASON] = json_string_value(r);
        }
    }
}

/* A referral made at the visit to a hospital of the system is a referral
 * record (转诊), with its reason; one to elsewhere stays the national
 * form's fields (referral_to, in words). */
static void read_referral(jf_req *req, jf_errors *e, const char *const *v, jf_referral_in *ref)
{
    bool referred = is_true(v[FU_REFERRAL]);

    *ref = (jf_referral_in){
        .from_kind = "follow_up",
        .reason = v[FU_REF_REASON],
        .urgency = jf_body_code(req, e, "referral_urgency", false, jf_referral_urgencies),
        .hospital_field = "referral_hospital_id",
        .from_field = "referral"};
    jf_body_int(req, e, "referral_hospital_id", false, 1, INT64_MAX, &ref->hospital_id);
    if (referred && ref->hospital_id > 0 && ref->reason == NULL)
        jf_errors_add(e, "referral_reason", "is required with referral_hospital_id");
    if (!referred &&
        (jf_body_has(req, "referral_hospital_id") || jf_body_has(req, "referral_urgency")))
        jf_errors_add(e,
                      jf_body_has(req, "referral_hospital_id") ? "referral_hospital_id"
                                                               : "referral_urgency",
                      "goes only with referral: true");
}

/* The form's own rules (domain/followup_form.c) over what it holds. */
static void check_form(jf_req *req, jf_errors *e, const char *const *v, bool f2f, bool away)
{
    const char *hosp_s = v[FU_HOSP];
    jf_form_facts facts = {.reached = is_true(v[FU_REACHED]),
                           .died = is_true(v[FU_DIED]),
                           .face_to_face = f2f,
                           .joint = is_true(v[FU_JOINT]),
                           .away = away,
                           .has_unreached_reason = v[FU_UNREACHED] != NULL,
                           .has_death_date = v[FU_DEATH_DATE] != NULL,
                           .has_death_cause = v[FU_DEATH_CAUSE] != NULL,
                           .has_risk_level = v[FU_RISK] != NULL,
                           .has_insight = v[FU_INSIGHT] != NULL,
                           .has_compliance = v[FU_COMPLIANCE] != NULL,
                           .discharged = hosp_s != NULL && strcmp(hosp_s, "discharged") == 0,
                           .has_discharged_on = v[FU_DISCHARGED_ON] != NULL};
    jf_form_problem problems[32];
    size_t np;

    for (int i = 0; i < JF_FORM_SOCIAL_ITEMS; i++)
        facts.has_social[i] = v[FU_SOCIAL + i] != NULL;
    for (int i = 0; jf_form_reached_only[i]; i++)
        facts.has_reached_only[i] = jf_body_has(req, jf_form_reached_only[i]) &&
                                    !jf_body_null(req, jf_form_reached_only[i]);
    np = jf_followup_form_check(&facts, problems, 32);
    for (size_t i = 0; i < np && i < 32; i++)
        jf_errors_add(e, problems[i].field, "%s", problems[i].message);
}

/* The server's class of a reached visit from the form [R-CLASS-1]. */
static jf_visit_class classify(jf_req *req, const char *const *v)
{
    const char *insight = v[FU_INSIGHT];
    jf_visit_form form = {0};

    form.risk_level = (int)strtol(v[FU_RISK], NULL, 10);
    form.symptom_count =
        v[FU_SYMPTOMS] ? (int)json_array_size(json_object_get(req->body, "symptoms")) : 0;
    form.obvious_psychotic = is_true(v[FU_PSYCHOTIC]);
    form.insight = strcmp(insight, "complete") == 0  ? JF_INSIGHT_COMPLETE
                   : strcmp(insight, "partial") == 0 ? JF_INSIGHT_PARTIAL
                                                     : JF_INSIGHT_ABSENT;
    for (int i = 0; i < JF_FORM_SOCIAL_ITEMS; i++)
        form.social[i] = level3(v[FU_SOCIAL + i]);
    form.serious_adverse_reaction = is_true(v[FU_ADV_SERIOUS]);
    form.serious_physical_illness = is_true(v[FU_PHYS_SERIOUS]);
    return jf_followup_classify(&form);
}

static int create_followup(jf_req *req)
{
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    const char *v[FU_N] = {NULL}, *params[FU_N];
    const char *override_class = NULL, *fid = NULL;
    jf_visit_class computed = JF_CLASS_NONE, final = JF_CLASS_NONE;
    jf_referral_in ref;
    jf_absence abs;
    bool f2f;
    int rc;
    jf_buf out;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, fu_allowed);
    jf_kind_read(req, &e, &fu_kind, v);
    read_objects(req, &e, v, &override_class);
    read_referral(req, &e, v, &ref);
    jf_absence_read(req, &e, json_object_get(req->body, "absence"), "absence", &abs);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *visit_date = v[FU_VISIT_DATE], *death_date = v[FU_DEATH_DATE];
    const char *risk_s = v[FU_RISK];
    bool reached = is_true(v[FU_REACHED]), died = is_true(v[FU_DIED]);
    f2f = reached && jf_followup_face_to_face(v[FU_MODE], v[FU_INFORMANT]);
    check_form(req, &e, v, f2f, abs.present);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if (reached && !died) {
        computed = classify(req, v);
        final = override_class ? jf_visit_class_parse(override_class) : computed;
        if (final == computed)
            v[FU_OVERRIDE_REASON] = NULL; /* agreeing with the server is not an override */
    }

    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    jf_buf_init(&out, 1u << 20);
    /* The key before the record's state: the retry of a visit that recorded
     * a death must replay its answer, not meet the death it recorded. */
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        goto out;
    if (row.status == JF_PS_SUSPECTED || row.status == JF_PS_RULED_OUT ||
        row.status == JF_PS_DECEASED || row.status == JF_PS_DEREGISTERED) {
        rc = jf_resp_problem(req, 409, "transition-refused", "No follow-up for this record",
                             row.status == JF_PS_DECEASED ? "the patient is deceased"
                             : row.status == JF_PS_DEREGISTERED
                                 ? "the record is deregistered (销案)"
                                 : "only a diagnosed patient is followed up",
                             "status", "does not allow a follow-up");
        goto out;
    }
    v[FU_PATIENT] = row.id;
    v[FU_COMPUTED] = computed ? jf_visit_class_name(computed) : NULL;
    v[FU_CLASS] = final ? jf_visit_class_name(final) : NULL;
    v[FU_USER] = jf_res_id(req, req->claims.user_id);
    if (rc == 0)
        rc = jf_db_exec(conn, &fu_insert, jf_kind_params(&fu_kind, v, params), params, &res);
    if (rc != 0)
        goto out;
    fid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    if (risk_s != NULL) {
        /* The visit's risk level is a community-level assessment. */
        const char *p[] = {row.id,
                           visit_date,
                           risk_s,
                           "community",
                           NULL,
                           fid,
                           jf_res_id(req, req->claims.user_id),
                           jf_res_tf(f2f)};
        rc = jf_db_exec(conn, &ra_insert, 8, p, &res);
        PQclear(res);
        res = NULL;
    }
    /* Reached: a registered patient is now in care; a lost one is found
     * again only when seen in person (a family phone call is not enough). */
    if (rc == 0 && reached && !died &&
        (row.status == JF_PS_REGISTERED || (row.status == JF_PS_LOST && f2f))) {
        rc = jf_record_move(req, conn, &row, JF_PS_IN_CARE,
                            (jf_patient_event){.date = visit_date,
                                               .reason = row.status == JF_PS_LOST
                                                             ? "found again at a follow-up"
                                                             : "first follow-up"});
    }
    if (rc == 0 && died) {
        rc = jf_record_move(req, conn, &row, JF_PS_DECEASED,
                            (jf_patient_event){.date = death_date,
                                               .reason = "death recorded at a follow-up",
                                               .death_cause = v[FU_DEATH_CAUSE]});
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0 && risk_s != NULL)
        rc = push_assessment(req, conn, row.id, visit_date, risk_s);
    if (rc == 0 && abs.present) {
        if (abs.left_on == NULL)
            abs.left_on = visit_date;
        rc = jf_absence_write(req, conn, &row, &abs, "follow_up", fid, NULL);
    }
    if (rc == 0 && is_true(v[FU_REFERRAL]) && ref.hospital_id > 0) {
        const char *rid;
        ref.from_id = fid;
        ref.referred_on = visit_date;
        rc = jf_referral_create(req, conn, &row, &ref, &rid);
    }
    if (rc == 0) {
        const char *p[] = {fid, visit_date};
        PQclear(res);
        rc = jf_db_exec(conn, &fu_set_due, 2, p, &res);
    }
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "followup.create",
                             jf_arena_printf(&req->arena, "{\"follow_up_id\":%s}", fid));
    }
    if (rc == 0) {
        const char *p[] = {row.id, fid};
        PQclear(res);
        rc = jf_db_exec(conn, &fu_one, 2, p, &res);
    }
    if (rc == 0)
        rc = jf_buf_append(&out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    const char *location =
        jf_arena_printf(&req->arena, "/api/v1/patients/%s/follow-ups/%s", row.id, fid);
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, 201, location, out.data);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0) {
        jf_resp_header(req, "Location", location);
        rc = jf_resp_json_text(req, 201, out.data, out.len);
    }
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

/* Run a statement keyed by the patient (in scope) and send column 0. */
static int patient_read(jf_req *req, const jf_stmt *stmt, const char *wrap_fmt, int extra,
                        const char *x1, const char *x2)
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
    const char *p[] = {row.id, x1, x2};
    rc = jf_db_exec(conn, stmt, 1 + extra, p, &res);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "patient.clinical_read", NULL);
    }
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_not_found(req);
        goto out;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    rc = jf_buf_printf(&out, wrap_fmt, PQgetvalue(res, 0, 0));
#pragma GCC diagnostic pop
    if (rc == 0 && stmt == &fu_list) {
        out.len--; /* reopen the object for the cursor */
        rc = jf_buf_puts(&out, ",\"next_cursor\":");
        if (rc == 0)
            rc = jf_buf_json_str(
                &out, strcmp(PQgetvalue(res, 0, 1), "t") == 0
                          ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, 0, 2), NULL, 10))
                          : NULL);
        rc = rc ? rc : jf_buf_puts(&out, "}");
    }
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
out:
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static int list_followups(jf_req *req)
{
    jf_errors e = {0};
    long long before;
    int limit;

    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &before);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return patient_read(req, &fu_list, "{\"items\":%s}", 2, jf_res_id(req, before),
                        jf_res_id(req, limit));
}

static int get_followup(jf_req *req)
{
    long long fid = jf_req_param_id(req, 1);

    if (fid == 0)
        return jf_resp_not_found(req);
    return patient_read(req, &fu_one, "%s", 1, jf_req_param(req, 1), NULL);
}

static int clinical_state(jf_req *req)
{
    /* Risk, colour and flags: only for roles whose view shows risk. */
    if (!jf_record_view(req).risk)
        return jf_resp_forbidden(req, "your role does not see risk levels");
    return patient_read(req, &patient_state, "%s", 0, NULL, NULL);
}

static int list_assessments(jf_req *req)
{
    return patient_read(req, &ra_list, "{\"items\":%s}", 0, NULL, NULL);
}

static int create_assessment(jf_req *req)
{
    static const char *const allowed[] = {"assessed_on", "level",        "tier",
                                          "basis",       "face_to_face", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    long long level = -1;
    char level_s[4];
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *on = jf_body_date(req, &e, "assessed_on", true);
    const char *tier = jf_body_code(req, &e, "tier", true, tiers);
    const char *basis = jf_body_str(req, &e, "basis", false, 1, 1000);
    jf_body_int(req, &e, "level", true, 0, 5, &level);
    bool f2f = true; /* an assessment sees the patient unless it says otherwise */
    jf_body_bool(req, &e, "face_to_face", false, &f2f);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    snprintf(level_s, sizeof(level_s), "%lld", level);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_WRITE, &row)) != 0)
        return rc;
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    if (!jf_pstatus_registered(row.status))
        return jf_resp_problem(req, 409, "transition-refused", "Not on the register",
                               "only a registered patient is assessed", "status",
                               "does not allow an assessment");
    const char *p[] = {
        row.id,        on, level_s, tier, basis, NULL, jf_res_id(req, req->claims.user_id),
        jf_res_tf(f2f)};
    rc = jf_db_exec(conn, &ra_insert, 8, p, &res);
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0)
        rc = push_assessment(req, conn, row.id, on, level_s);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "risk_assessment.create", NULL);
    }
    if (rc == 0) {
        const char *sp[] = {row.id};
        PQclear(res);
        rc = jf_db_exec(conn, &patient_state, 1, sp, &res);
    }
    if (rc == 0)
        rc = jf_idem_finish(req, conn, &idem, 201, NULL, PQgetvalue(res, 0, 0));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = jf_resp_json_text(req, 201, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/patients/{id}/follow-ups", list_followups, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/follow-ups", create_followup, JF_ROUTE_AUTH,
     JF_CAP_FOLLOWUP_WRITE},
    {"GET", "/api/v1/patients/{id}/follow-ups/{follow_up_id}", get_followup, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"GET", "/api/v1/patients/{id}/risk-assessments", list_assessments, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_READ},
    {"POST", "/api/v1/patients/{id}/risk-assessments", create_assessment, JF_ROUTE_AUTH,
     JF_CAP_CLINICAL_WRITE},
    {"GET", "/api/v1/patients/{id}/clinical-state", clinical_state, JF_ROUTE_AUTH,
     JF_CAP_PATIENT_READ},
};

/* The form's statements and allowed fields, from its table (start-up). */
static int followup_kind_init(void)
{
    size_t n = 0;
    int rc = jf_kind_insert_sql(&fu_kind, NULL, fu_insert_sql, sizeof(fu_insert_sql));

    if (rc == 0)
        rc = jf_kind_json_sql(&fu_kind, fu_json, sizeof(fu_json));
    if (rc == 0 && snprintf(fu_one_sql, sizeof(fu_one_sql),
                            "SELECT %s::text FROM follow_ups f WHERE f.patient_id = $1"
                            " AND f.id = $2",
                            fu_json) >= (int)sizeof(fu_one_sql))
        rc = JF_ERR_TOO_LARGE;
    if (rc == 0 &&
        snprintf(fu_list_sql, sizeof(fu_list_sql),
                 "WITH page AS (SELECT f.* FROM follow_ups f WHERE f.patient_id = $1"
                 "  AND ($2::bigint = 0 OR f.id < $2) ORDER BY f.id DESC LIMIT $3::int + 1),"
                 " shown AS (SELECT * FROM page ORDER BY id DESC LIMIT $3::int)"
                 " SELECT coalesce((SELECT json_agg(%s ORDER BY f.id DESC) FROM shown f),"
                 " '[]'), (SELECT count(*) FROM page) > $3::int, (SELECT min(id) FROM shown)",
                 fu_json) >= (int)sizeof(fu_list_sql))
        rc = JF_ERR_TOO_LARGE;
    for (size_t i = 0; i < fu_kind.n; i++)
        if (fu_fields[i].key != NULL && fu_fields[i].type != JF_K_OUT)
            fu_allowed[n++] = fu_fields[i].key;
    for (size_t i = 0; fu_extra_keys[i] != NULL; i++)
        fu_allowed[n++] = fu_extra_keys[i];
    fu_allowed[n] = NULL;
    return rc;
}

int jf_res_followups_init(void)
{
    jf_stmt *const s[] = {&fu_insert, &fu_set_due, &fu_one,       &fu_list,
                          &ra_insert, &ra_list,    &patient_state};
    int rc = jf_record_recompute_init();

    if (rc == 0)
        rc = followup_kind_init();
    if (rc == 0)
        rc = jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
    return rc ? rc : jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
