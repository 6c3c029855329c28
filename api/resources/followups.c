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
#include "../record/patient.h"
#include "../record/recompute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLLOWUP_JSON                                                                              \
    "json_build_object('id', f.id, 'patient_id', f.patient_id, 'visit_date', f.visit_date,"        \
    " 'mode', f.mode, 'informant', f.informant, 'reached', f.reached,"                             \
    " 'unreached_reason', f.unreached_reason, 'died', f.died, 'death_date', f.death_date,"         \
    " 'death_cause', f.death_cause, 'risk_level', f.risk_level, 'symptoms', f.symptoms,"           \
    " 'obvious_psychotic', f.obvious_psychotic, 'insight', f.insight, 'sleep', f.sleep,"           \
    " 'diet', f.diet, 'social_function', json_build_object('personal_care',"                       \
    " f.social_personal_care, 'housework', f.social_housework, 'work', f.social_work,"             \
    " 'learning', f.social_learning, 'social_contact', f.social_contact),"                         \
    " 'dangerous_acts', f.dangerous_acts, 'lock_up', f.lock_up,"                                   \
    " 'hospitalisation', f.hospitalisation, 'discharged_on', f.discharged_on,"                     \
    " 'lab_tests', f.lab_tests, 'compliance', f.compliance,"                                       \
    " 'adverse_reaction', f.adverse_reaction, 'adverse_serious', f.adverse_serious,"               \
    " 'physical_illness_serious', f.physical_illness_serious,"                                     \
    " 'treatment_effect', f.treatment_effect, 'referral', f.referral,"                             \
    " 'referral_reason', f.referral_reason, 'referral_to', f.referral_to, 'referral_id',"          \
    " (SELECT r.id FROM referrals r WHERE r.follow_up_id = f.id),"                                 \
    " 'medications', f.medications, 'rehabilitation', f.rehabilitation,"                           \
    " 'computed_class', f.computed_class, 'class', f.class,"                                       \
    " 'class_override_reason', f.class_override_reason, 'visitors', f.visitors,"                   \
    " 'joint_visit', f.joint_visit, 'joint_with', f.joint_with, 'next_due', f.next_due,"           \
    " 'next_due_joint', f.next_due_joint, 'note', f.note, 'user_id', f.user_id,"                   \
    " 'created_at', f.created_at)"

static jf_stmt fu_insert = {
    "followup_insert",
    "INSERT INTO follow_ups (patient_id, visit_date, mode, informant, reached, unreached_reason,"
    " died, death_date, death_cause, risk_level, symptoms, obvious_psychotic, insight, sleep,"
    " diet, social_personal_care, social_housework, social_work, social_learning,"
    " social_contact, dangerous_acts, lock_up, hospitalisation, discharged_on, lab_tests,"
    " compliance, adverse_reaction, adverse_serious, physical_illness_serious, treatment_effect,"
    " referral, referral_reason, referral_to, medications, rehabilitation, computed_class,"
    " class, class_override_reason, visitors, joint_visit, joint_with, note, user_id)"
    " VALUES ($1, $2::date, $3, $4, $5::bool, $6, $7::bool, $8::date, $9, $10::smallint,"
    " coalesce($11::text[], '{}'), $12::bool, $13, $14, $15, $16, $17, $18, $19, $20,"
    " coalesce($21::jsonb, '{}'), $22, $23, $24::date, $25, $26, $27,"
    " coalesce($28::bool, false), coalesce($29::bool, false), $30, coalesce($31::bool, false),"
    " $32, $33, coalesce($34::jsonb, '[]'), coalesce($35::text[], '{}'), $36, $37, $38, $39,"
    " coalesce($40::bool, false), coalesce($41::text[], '{}'), $42, $43) RETURNING id",
    0,
};
static jf_stmt fu_set_due = {
    "followup_set_due",
    "UPDATE follow_ups f SET next_due = p.next_due, next_due_joint = p.next_due_joint"
    " FROM patients p WHERE f.id = $1 AND p.id = f.patient_id",
    0,
};
static jf_stmt fu_one = {
    "followup_one",
    "SELECT " FOLLOWUP_JSON "::text FROM follow_ups f WHERE f.patient_id = $1"
    " AND f.id = $2",
    0,
};
static jf_stmt fu_list = {
    "followup_list",
    "WITH page AS (SELECT f.* FROM follow_ups f WHERE f.patient_id = $1"
    "  AND ($2::bigint = 0 OR f.id < $2) ORDER BY f.id DESC LIMIT $3::int + 1),"
    " shown AS (SELECT * FROM page ORDER BY id DESC LIMIT $3::int)"
    " SELECT coalesce((SELECT json_agg(" FOLLOWUP_JSON " ORDER BY f.id DESC) FROM shown f),"
    " '[]'), (SELECT count(*) FROM page) > $3::int, (SELECT min(id) FROM shown)",
    0,
};
static jf_stmt set_deceased = {
    "followup_deceased",
    "UPDATE patients SET status = 'deceased', version = version + 1, updated_at = now()"
    " WHERE id = $1",
    0,
};
static jf_stmt set_status = {
    "followup_set_status",
    "UPDATE patients SET status = $2, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND status = $3",
    0,
};
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

/* An array of codes as a PostgreSQL text[] literal ("{a,b}"), or NULL. */
static const char *code_array(jf_req *req, jf_errors *e, const char *f, const char *const *codes,
                              int *count)
{
    json_t *a = json_object_get(req->body, f), *v;
    size_t i;
    jf_buf b;
    char *out;

    *count = 0;
    if (a == NULL || json_is_null(a))
        return NULL;
    if (!json_is_array(a) || json_array_size(a) > 16) {
        jf_errors_add(e, f, "must be an array of at most 16 codes");
        return NULL;
    }
    jf_buf_init(&b, 1024);
    jf_buf_puts(&b, "{");
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || !jf_in_set(json_string_value(v), codes)) {
            jf_errors_add(e, f, "item %zu is not one of the allowed codes", i);
            jf_buf_free(&b);
            return NULL;
        }
        jf_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
    }
    jf_buf_puts(&b, "}");
    *count = (int)json_array_size(a);
    out = jf_arena_strdup(&req->arena, b.data);
    jf_buf_free(&b);
    return out;
}

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

static int create_followup(jf_req *req)
{
    static const char *const allowed[] = {"visit_date",
                                          "mode",
                                          "informant",
                                          "reached",
                                          "unreached_reason",
                                          "died",
                                          "death_date",
                                          "death_cause",
                                          "risk_level",
                                          "symptoms",
                                          "obvious_psychotic",
                                          "insight",
                                          "sleep",
                                          "diet",
                                          "social_function",
                                          "dangerous_acts",
                                          "lock_up",
                                          "hospitalisation",
                                          "discharged_on",
                                          "lab_tests",
                                          "compliance",
                                          "adverse_reaction",
                                          "adverse_serious",
                                          "physical_illness_serious",
                                          "treatment_effect",
                                          "referral",
                                          "referral_reason",
                                          "referral_to",
                                          "referral_hospital_id",
                                          "referral_urgency",
                                          "medications",
                                          "rehabilitation",
                                          "class_override",
                                          "visitors",
                                          "joint_visit",
                                          "joint_with",
                                          "note",
                                          "absence",
                                          NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    bool reached = false, died = false, b;
    long long risk = -1;
    const char *social[5] = {NULL, NULL, NULL, NULL, NULL};
    const char *override_class = NULL, *override_reason = NULL, *fid = NULL;
    jf_visit_form form;
    jf_visit_class computed = JF_CLASS_NONE, final = JF_CLASS_NONE;
    jf_absence abs;
    bool f2f;
    int nsym = 0, nrehab = 0, njoint = 0, rc;
    char risk_s[4];
    jf_buf out;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *visit_date = jf_body_date(req, &e, "visit_date", true);
    const char *mode = jf_body_code(req, &e, "mode", true, modes);
    const char *informant = jf_body_code(req, &e, "informant", false, informants);
    jf_body_bool(req, &e, "reached", true, &reached);
    jf_body_bool(req, &e, "died", false, &died);
    const char *unreached = jf_body_code(req, &e, "unreached_reason", false, unreached_reasons);
    const char *death_date = jf_body_date(req, &e, "death_date", false);
    const char *death_cause = jf_body_code(req, &e, "death_cause", false, death_causes);
    jf_body_int(req, &e, "risk_level", false, 0, 5, &risk);
    const char *symptoms = code_array(req, &e, "symptoms", symptom_codes, &nsym);
    const char *insight = jf_body_code(req, &e, "insight", false, insights);
    const char *sleep = jf_body_code(req, &e, "sleep", false, gfp);
    const char *diet = jf_body_code(req, &e, "diet", false, gfp);
    const char *lock_up = jf_body_code(req, &e, "lock_up", false, lock_ups);
    const char *hospitalisation = jf_body_code(req, &e, "hospitalisation", false, hosp);
    const char *discharged_on = jf_body_date(req, &e, "discharged_on", false);
    const char *lab = jf_body_str(req, &e, "lab_tests", false, 1, 500);
    const char *compliance = jf_body_code(req, &e, "compliance", false, compliances);
    const char *adverse_s = jf_body_code(req, &e, "adverse_reaction", false, adverse);
    const char *effect = jf_body_code(req, &e, "treatment_effect", false, effects);
    const char *ref_reason = jf_body_str(req, &e, "referral_reason", false, 1, 200);
    const char *ref_to = jf_body_str(req, &e, "referral_to", false, 1, 100);
    const char *meds = jf_res_medications(req, &e, "medications", 10);
    const char *rehab = code_array(req, &e, "rehabilitation", rehab_codes, &nrehab);
    const char *visitors = jf_body_str(req, &e, "visitors", false, 1, 200);
    const char *joint_with = code_array(req, &e, "joint_with", joint_codes, &njoint);
    const char *note = jf_body_str(req, &e, "note", false, 1, 1000);
    const char *dacts = acts(req, &e);
    const char *adv_serious =
        jf_body_bool(req, &e, "adverse_serious", false, &b) == 1 ? jf_res_tf(b) : NULL;
    const char *phys_serious =
        jf_body_bool(req, &e, "physical_illness_serious", false, &b) == 1 ? jf_res_tf(b) : NULL;
    const char *psychotic =
        jf_body_bool(req, &e, "obvious_psychotic", false, &b) == 1 ? jf_res_tf(b) : NULL;
    const char *referral = jf_body_bool(req, &e, "referral", false, &b) == 1 ? jf_res_tf(b) : NULL;
    /* A referral made at the visit to a hospital of the system is a
     * referral record (转诊), with its reason; one to elsewhere stays the
     * national form's fields (referral_to, in words), as before. */
    jf_referral_in ref = {
        .from_kind = "follow_up",
        .reason = ref_reason,
        .urgency = jf_body_code(req, &e, "referral_urgency", false, jf_referral_urgencies),
        .hospital_field = "referral_hospital_id",
        .from_field = "referral"};
    bool referred = referral != NULL && strcmp(referral, "true") == 0;
    jf_body_int(req, &e, "referral_hospital_id", false, 1, INT64_MAX, &ref.hospital_id);
    if (referred && ref.hospital_id > 0 && ref_reason == NULL)
        jf_errors_add(&e, "referral_reason", "is required with referral_hospital_id");
    if (!referred &&
        (jf_body_has(req, "referral_hospital_id") || jf_body_has(req, "referral_urgency")))
        jf_errors_add(&e,
                      jf_body_has(req, "referral_hospital_id") ? "referral_hospital_id"
                                                               : "referral_urgency",
                      "goes only with referral: true");
    const char *joint = jf_body_bool(req, &e, "joint_visit", false, &b) == 1 ? jf_res_tf(b) : NULL;
    jf_absence_read(req, &e, json_object_get(req->body, "absence"), "absence", &abs);
    json_t *sf = json_object_get(req->body, "social_function");
    if (sf != NULL && !json_is_null(sf)) {
        const char *k;
        json_t *v;
        if (!json_is_object(sf)) {
            jf_errors_add(&e, "social_function", "must be an object");
        } else {
            json_object_foreach(sf, k, v)
            {
                int i = 0;
                while (jf_form_social_items[i] && strcmp(jf_form_social_items[i], k) != 0)
                    i++;
                if (jf_form_social_items[i] == NULL || !json_is_string(v) ||
                    !jf_in_set(json_string_value(v), i == 2 ? gfpna : gfp))
                    jf_errors_add(&e, "social_function", "%s is not a known item with a code", k);
                else
                    social[i] = json_string_value(v);
            }
        }
    }
    json_t *ov = json_object_get(req->body, "class_override");
    if (ov != NULL && !json_is_null(ov)) {
        json_t *c = json_object_get(ov, "class"), *r = json_object_get(ov, "reason");
        if (!json_is_object(ov) || json_object_size(ov) != 2 || !json_is_string(c) ||
            jf_visit_class_parse(json_string_value(c)) == JF_CLASS_NONE || !json_is_string(r) ||
            jf_utf8_len(json_string_value(r)) < 2 || jf_utf8_len(json_string_value(r)) > 500)
            jf_errors_add(&e, "class_override",
                          "must be {class, reason}: a class code and a written reason");
        else {
            override_class = json_string_value(c);
            override_reason = json_string_value(r);
        }
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    /* The form's own rules (domain/followup_form.c). */
    f2f = reached && jf_followup_face_to_face(mode, informant);
    jf_form_facts facts = {.reached = reached,
                           .died = died,
                           .face_to_face = f2f,
                           .joint = joint != NULL && strcmp(joint, "true") == 0,
                           .away = abs.present,
                           .has_unreached_reason = unreached != NULL,
                           .has_death_date = death_date != NULL,
                           .has_death_cause = death_cause != NULL,
                           .has_risk_level = risk >= 0,
                           .has_insight = insight != NULL,
                           .has_compliance = compliance != NULL,
                           .discharged = hospitalisation != NULL &&
                                         strcmp(hospitalisation, "discharged") == 0,
                           .has_discharged_on = discharged_on != NULL};
    for (int i = 0; i < JF_FORM_SOCIAL_ITEMS; i++)
        facts.has_social[i] = social[i] != NULL;
    for (int i = 0; jf_form_reached_only[i]; i++)
        facts.has_reached_only[i] = jf_body_has(req, jf_form_reached_only[i]) &&
                                    !jf_body_null(req, jf_form_reached_only[i]);
    jf_form_problem problems[32];
    size_t np = jf_followup_form_check(&facts, problems, 32);
    for (size_t i = 0; i < np && i < 32; i++)
        jf_errors_add(&e, problems[i].field, "%s", problems[i].message);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);

    if (reached && !died) {
        memset(&form, 0, sizeof(form));
        form.risk_level = (int)risk;
        form.symptom_count = nsym;
        form.obvious_psychotic = psychotic != NULL && strcmp(psychotic, "true") == 0;
        form.insight = strcmp(insight, "complete") == 0  ? JF_INSIGHT_COMPLETE
                       : strcmp(insight, "partial") == 0 ? JF_INSIGHT_PARTIAL
                                                         : JF_INSIGHT_ABSENT;
        for (int i = 0; i < 5; i++)
            form.social[i] = level3(social[i]);
        form.serious_adverse_reaction = adv_serious != NULL && strcmp(adv_serious, "true") == 0;
        form.serious_physical_illness = phys_serious != NULL && strcmp(phys_serious, "true") == 0;
        computed = jf_followup_classify(&form);
        final = override_class ? jf_visit_class_parse(override_class) : computed;
        if (final == computed)
            override_reason = NULL; /* agreeing with the server is not an override */
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
    snprintf(risk_s, sizeof(risk_s), "%lld", risk);
    {
        const char *p[] = {row.id,
                           visit_date,
                           mode,
                           informant,
                           jf_res_tf(reached),
                           unreached,
                           jf_res_tf(died),
                           death_date,
                           death_cause,
                           risk >= 0 ? risk_s : NULL,
                           symptoms,
                           psychotic,
                           insight,
                           sleep,
                           diet,
                           social[0],
                           social[1],
                           social[2],
                           social[3],
                           social[4],
                           dacts,
                           lock_up,
                           hospitalisation,
                           discharged_on,
                           lab,
                           compliance,
                           adverse_s,
                           adv_serious,
                           phys_serious,
                           effect,
                           referral,
                           ref_reason,
                           ref_to,
                           meds,
                           rehab,
                           computed ? jf_visit_class_name(computed) : NULL,
                           final ? jf_visit_class_name(final) : NULL,
                           override_reason,
                           visitors,
                           joint,
                           joint_with,
                           note,
                           jf_res_id(req, req->claims.user_id)};
        if (rc == 0)
            rc = jf_db_exec(conn, &fu_insert, 43, p, &res);
    }
    if (rc != 0)
        goto out;
    fid = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    if (risk >= 0) {
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
        const char *p[] = {row.id, "in_care", jf_pstatus_name(row.status)};
        rc = jf_db_exec(conn, &set_status, 3, p, &res);
        PQclear(res);
        res = NULL;
        if (rc == 0)
            rc = jf_record_event(JF_ACTOR(req), conn,
                                 &(jf_patient_event){.patient_id = row.id,
                                                     .kind = "status",
                                                     .date = visit_date,
                                                     .from_status = jf_pstatus_name(row.status),
                                                     .to_status = "in_care",
                                                     .reason = row.status == JF_PS_LOST
                                                                   ? "found again at a follow-up"
                                                                   : "first follow-up"});
    }
    if (rc == 0 && died) {
        const char *p[] = {row.id};
        rc = jf_db_exec(conn, &set_deceased, 1, p, &res);
        if (rc == 0)
            rc = jf_record_event(JF_ACTOR(req), conn,
                                 &(jf_patient_event){.patient_id = row.id,
                                                     .kind = "status",
                                                     .date = death_date,
                                                     .from_status = jf_pstatus_name(row.status),
                                                     .to_status = "deceased",
                                                     .reason = "death recorded at a follow-up",
                                                     .death_cause = death_cause});
    }
    if (rc == 0)
        rc = jf_record_recompute(JF_ACTOR(req), conn, row.id);
    if (rc == 0 && risk >= 0)
        rc = push_assessment(req, conn, row.id, visit_date, risk_s);
    if (rc == 0 && abs.present) {
        if (abs.left_on == NULL)
            abs.left_on = visit_date;
        rc = jf_absence_write(req, conn, &row, &abs, "follow_up", fid, NULL);
    }
    if (rc == 0 && referred && ref.hospital_id > 0) {
        const char *rid;
        ref.from_id = fid;
        ref.referred_on = visit_date;
        rc = jf_referral_create(req, conn, &row, &ref, &rid);
    }
    if (rc == 0) {
        const char *p[] = {fid};
        PQclear(res);
        rc = jf_db_exec(conn, &fu_set_due, 1, p, &res);
    }
    if (rc == 0) {
        jf_audit_entry a = {.action = "followup.create",
                            .target_type = "patient",
                            .target_id = row.id,
                            .org_unit_id = row.org_unit_id,
                            .detail_json =
                                jf_arena_printf(&req->arena, "{\"follow_up_id\":%s}", fid)};
        rc = jf_audit_record(conn, req, &a);
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
        jf_audit_entry a = {.action = "patient.clinical_read",
                            .target_type = "patient",
                            .target_id = row.id,
                            .org_unit_id = row.org_unit_id};
        rc = jf_audit_record(conn, req, &a);
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
        jf_audit_entry a = {.action = "risk_assessment.create",
                            .target_type = "patient",
                            .target_id = row.id,
                            .org_unit_id = row.org_unit_id};
        rc = jf_audit_record(conn, req, &a);
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

int jf_res_followups_init(void)
{
    jf_stmt *const s[] = {&fu_insert,  &fu_set_due, &fu_one,  &fu_list,      &set_deceased,
                          &set_status, &ra_insert,  &ra_list, &patient_state};
    int rc = jf_record_recompute_init();

    if (rc == 0)
        rc = jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
    return rc ? rc : jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
