/* HTTP suite: the episodes beside the follow-ups — hospital stays and their
 * discharge (nothing due in hospital, a visit within 7 days after), incidents
 * (red for a year, the incident-history flag for ever; police report and
 * read them), medication with the pick-ups-overdue worklist, annual health
 * checks, whereabouts unknown (lost, then found by a visit), and the tier
 * configuration. Histories are played through time with X-Test-Date. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUITE_SALT 7 /* keeps this suite's ID numbers apart from the others' */

static char *doctor, *police, *civil, *grid1, *yl_doctor, *tf_admin, *root_admin;
static char *g01, *g02, *yl_unit;
static char *config_before; /* the tier configuration as found, restored at the end */
static char cn_unique[64];  /* test_unique() in Chinese numerals */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

/* ---- helpers ---------------------------------------------------------- */

/* Register a patient as the doctor in unit (default grid 1); returns its id. */
static long long create_patient(const char *tag, const char *unit)
{
    return test_patient(doctor, NULL, "病程", tag, unit ? unit : g01, SUITE_SALT, DIAG, NULL);
}

/* method /api/v1/patients/{pid}/what as token, today being date (NULL: the clock). */
static http_res *call(const char *method, const char *token, long long pid, const char *what,
                      const char *body, const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/%s", pid, what);
    char *hdr = date ? test_fmt("X-Test-Date: %s", date) : NULL;
    http_res *r = http_do(method, path, token, body, hdr);

    free(path);
    free(hdr);
    return r;
}

/* The same, expecting status; returns the response. */
static http_res *expect(long status, const char *method, const char *token, long long pid,
                        const char *what, const char *body, const char *date)
{
    http_res *r = call(method, token, pid, what, body, date);

    if (r->status != status)
        fail_msg("%s %s: expected %ld, got %ld %s", method, what, status, r->status, r->body);
    return r;
}

/* The same, expecting a problem with status naming field (NULL: any). */
static void refused(long status, const char *field, const char *method, const char *token,
                    long long pid, const char *what, const char *body, const char *date)
{
    http_res *r = call(method, token, pid, what, body, date);

    if (r->status != status)
        fail_msg("%s %s: expected %ld, got %ld %s", method, what, status, r->status, r->body);
    http_assert_problem(r, status, field);
    http_free(r);
}

/* A stable reached visit on date (today being date). */
static void visit(long long pid, const char *date)
{
    test_stable_visit(doctor, pid, date);
}

/* The patient's clinical state as of date; free with http_free. */
static http_res *clinical_state(long long pid, const char *date)
{
    return expect(200, "GET", doctor, pid, "clinical-state", NULL, date);
}

/* Rows of table (optionally "table WHERE …") held by patient pid. */
static long count_of(const char *table, long long pid)
{
    char idtxt[32],
        *sql = test_fmt("SELECT count(*) FROM (SELECT * FROM %s) t WHERE patient_id = $1", table);
    const char *p[] = {idtxt};
    long n;

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    n = db_count(sql, 1, p);
    free(sql);
    return n;
}

static long audits(const char *action, long long pid)
{
    char idtxt[32];
    const char *p[] = {action, idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2", 2, p);
}

static char *status_of(long long pid)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_scalar("SELECT status FROM patients WHERE id = $1", 1, p);
}

static void assert_status(long long pid, const char *want)
{
    char *got = status_of(pid);

    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("patient %lld: expected status %s, got %s", pid, want, got ? got : "(none)");
    free(got);
}

/* One bad variant of a valid body: key set to value (JSON text), or
 * removed when value is NULL; the answer must be 400 naming field. */
typedef struct bad_case {
    const char *key, *value, *field;
} bad_case;

/* Post every bad variant of base to what; each is 400 naming its field and
 * leaves count_of(table) unchanged. */
static void bad_inputs(const char *token, long long pid, const char *what, const char *base,
                       const bad_case *cases, size_t n, const char *table, const char *date)
{
    long before = count_of(table, pid);

    for (size_t i = 0; i < n; i++) {
        json_t *b = json_loads(base, 0, NULL);
        char *body;
        http_res *r;

        assert_non_null(b);
        if (cases[i].value == NULL) {
            json_object_del(b, cases[i].key);
        } else {
            json_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, NULL);
            assert_non_null(v);
            json_object_set_new(b, cases[i].key, v);
        }
        body = json_dumps(b, JSON_COMPACT);
        r = call("POST", token, pid, what, body, date);
        if (r->status != 400)
            fail_msg("%s with %s=%s: expected 400, got %ld %s", what, cases[i].key,
                     cases[i].value ? cases[i].value : "(absent)", r->status, r->body);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
        free(body);
        json_decref(b);
        assert_int_equal(count_of(table, pid), before);
    }
}

/* Every patient id of a worklist, walking its pages; the items' sort key
 * (days_late for pick-ups) must not increase when key is not NULL. */
static json_t *walk(const char *token, const char *list, const char *query, const char *date,
                    const char *key)
{
    json_t *all = json_array();
    char *next = NULL, *hdr = test_fmt("X-Test-Date: %s", date);
    long long last = -1;
    int pages = 0;

    do {
        char *path = next ? test_fmt("/api/v1/worklists/%s?limit=50%s&cursor=%s", list, query, next)
                          : test_fmt("/api/v1/worklists/%s?limit=50%s", list, query);
        http_res *r = http_do("GET", path, token, NULL, hdr);
        json_t *items, *it;
        size_t i;

        if (r->status != 200)
            fail_msg("%s: %ld %s", path, r->status, r->body);
        items = json_object_get(r->json, "items");
        json_array_foreach(items, i, it)
        {
            if (key != NULL) {
                long long k = test_jint(it, key);
                if (last >= 0 && k > last)
                    fail_msg("%s: not sorted by %s (%lld after %lld)", list, key, k, last);
                last = k;
            }
            json_array_append(all, it);
        }
        free(next);
        next = json_is_string(json_object_get(r->json, "next_cursor"))
                   ? strdup(test_jstr(r->json, "next_cursor"))
                   : NULL;
        http_free(r);
        free(path);
        assert_true(++pages < 1000);
    } while (next != NULL);
    free(hdr);
    return all;
}

/* The item of patient pid in a worklist, or NULL. */
static json_t *item_of(json_t *items, long long pid)
{
    size_t i;
    json_t *it;

    json_array_foreach(items, i, it)
    {
        if (test_jint(it, "patient_id") == pid)
            return it;
    }
    return NULL;
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    http_res *r;

    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    tf_admin = http_login("tf.admin", NULL);
    root_admin = http_login("admin", NULL);
    g01 = test_unit_id("429005003001G01");
    g02 = test_unit_id("429005003001G02");
    yl_unit = test_unit_id("429005001");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    r = http_do("GET", "/api/v1/config/clinical", doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    json_object_del(r->json, "updated_at");
    config_before = json_dumps(r->json, JSON_COMPACT);
    http_free(r);
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor,   &police,     &civil, &grid1, &yl_doctor,
                    &tf_admin, &root_admin, &g01,   &g02,   &yl_unit};

    /* Leave the configuration as found, whatever happened. */
    if (config_before != NULL && root_admin != NULL)
        http_free(http_do("PUT", "/api/v1/config/clinical", root_admin, config_before, NULL));
    free(config_before);
    config_before = NULL;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- hospital stays ------------------------------------------------------- */

/* Sent twice with one key, a record is written once and the retry gets the
 * first answer; the key with another body is refused; table counts it. */
static void retried_once(long long pid, const char *what, const char *table, const char *body,
                         const char *other, const char *date)
{
    char *key = test_fmt("%s-%s", what, test_unique());
    http_res *first = test_post_keyed(doctor, pid, what, key, body, date), *again, *r;
    long n;

    if (first->status != 201)
        fail_msg("POST %s: %ld %s", what, first->status, first->body);
    n = count_of(table, pid);
    again = test_post_keyed(doctor, pid, what, key, body, date);
    assert_int_equal(again->status, 201);
    assert_string_equal(http_header(again, "Idempotent-Replayed"), "true");
    assert_string_equal(again->body, first->body);
    r = test_post_keyed(doctor, pid, what, key, other, date);
    http_assert_problem(r, 422, "Idempotency-Key");
    assert_int_equal(count_of(table, pid), n);
    http_free(r);
    http_free(first);
    http_free(again);
    free(key);
}

/* Admissions, incidents, health checks, prescriptions, pick-ups and reports
 * of a missing patient take an Idempotency-Key. The retry of an admission
 * replays its answer although the patient is now in hospital (which a new
 * admission would meet: 409). */
static void field_records_retry_with_an_idempotency_key(void **state)
{
    long long pid = create_patient("重发", NULL);

    (void)state;
    visit(pid, "2026-01-10");
    retried_once(pid, "incidents", "incidents",
                 "{\"occurred_on\":\"2026-02-01\",\"place\":\"梅苑路\",\"kind\":\"trouble\","
                 "\"injured\":0,\"dead\":0}",
                 "{\"occurred_on\":\"2026-02-02\",\"place\":\"梅苑路\",\"kind\":\"trouble\","
                 "\"injured\":0,\"dead\":0}",
                 "2026-02-03");
    retried_once(pid, "health-checks", "health_checks", "{\"checked_on\":\"2026-02-03\"}",
                 "{\"checked_on\":\"2026-02-02\"}", "2026-02-03");
    retried_once(pid, "pickups", "medication_pickups",
                 "{\"picked_on\":\"2026-02-03\",\"days_supplied\":30}",
                 "{\"picked_on\":\"2026-02-03\",\"days_supplied\":60}", "2026-02-03");
    retried_once(pid, "admissions", "hospitalisations",
                 "{\"admitted_on\":\"2026-03-20\",\"hospital\":\"潜江市精神卫生中心\","
                 "\"involuntary\":false}",
                 "{\"admitted_on\":\"2026-03-19\",\"hospital\":\"潜江市精神卫生中心\","
                 "\"involuntary\":false}",
                 "2026-03-20");
    assert_status(pid, "hospitalised");

    /* The retry of a report that the patient is missing meets a patient
     * now lost, and replays its answer. */
    long long gone = create_patient("去向", NULL);
    char *key = test_fmt("wu-%s", test_unique());
    const char *body = "{\"reported_on\":\"2026-02-03\"}";
    http_res *first, *again, *r;

    visit(gone, "2026-01-10");
    first = test_post_keyed(doctor, gone, "whereabouts-unknown", key, body, "2026-02-03");
    assert_int_equal(first->status, 200);
    again = test_post_keyed(doctor, gone, "whereabouts-unknown", key, body, "2026-02-03");
    assert_int_equal(again->status, 200);
    assert_string_equal(http_header(again, "Idempotent-Replayed"), "true");
    assert_string_equal(again->body, first->body);
    r = test_post_keyed(doctor, gone, "whereabouts-unknown", key,
                        "{\"reported_on\":\"2026-02-02\"}", "2026-02-03");
    http_assert_problem(r, 422, "Idempotency-Key");
    assert_status(gone, "lost");
    assert_int_equal(count_of("patient_events WHERE kind = 'status'", gone), 2);
    http_free(r);
    http_free(first);
    http_free(again);
    free(key);
}

/* [R-DUE-3, R-HOSP-1] */
static void admission_and_discharge(void **state)
{
    static const bad_case bad[] = {
        {"admitted_on", NULL, "admitted_on"},
        {"admitted_on", "\"2026-04-02\"", "admitted_on"}, /* after today */
        {"admitted_on", "\"2026-02-30\"", "admitted_on"},
        {"admitted_on", "20260320", "admitted_on"},
        {"hospital", NULL, "hospital"},
        {"hospital", "\"\"", "hospital"},
        {"hospital",
         "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
         "hospital"},
        {"involuntary", NULL, "involuntary"},
        {"involuntary", "\"yes\"", "involuntary"},
        {"reason", "\"\"", "reason"},
        {"ward", "\"3\"", "ward"},
    };
    const char *body = "{\"admitted_on\":\"2026-03-20\",\"hospital\":\"潜江市精神卫生中心\","
                       "\"involuntary\":true,\"reason\":\"持刀威胁家人\"}";
    long long pid = create_patient("住院", NULL), other = create_patient("住院乙", NULL), aid,
              other_aid;
    char *path;
    http_res *r;

    visit(pid, "2026-03-01");
    assert_status(pid, "in_care");
    bad_inputs(doctor, pid, "admissions", body, bad, sizeof(bad) / sizeof(bad[0]),
               "hospitalisations", "2026-04-01");
    assert_status(pid, "in_care");

    /* Roles and scope. */
    refused(403, NULL, "POST", grid1, pid, "admissions", body, "2026-04-01");
    refused(403, NULL, "POST", police, pid, "admissions", body, "2026-04-01");
    refused(404, NULL, "POST", yl_doctor, pid, "admissions", body, "2026-04-01");
    assert_int_equal(count_of("hospitalisations", pid), 0);

    r = expect(201, "POST", doctor, pid, "admissions", body, "2026-04-01");
    aid = test_jint(r->json, "id");
    assert_true(aid > 0);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_string_equal(test_jstr(r->json, "admitted_on"), "2026-03-20");
    assert_string_equal(test_jstr(r->json, "hospital"), "潜江市精神卫生中心");
    assert_true(json_is_true(json_object_get(r->json, "involuntary")));
    assert_true(json_is_true(json_object_get(r->json, "open")));
    assert_true(json_is_null(json_object_get(r->json, "discharged_on")));
    http_free(r);
    assert_status(pid, "hospitalised");
    assert_int_equal(audits("admission.create", pid), 1);
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'status' AND from_status = 'in_care'"
                                  " AND to_status = 'hospitalised' AND event_date = '2026-03-20'",
                                  1, p),
                         1);
    }
    /* Nothing is due in hospital; 强制送医 is a key-patient flag. */
    r = clinical_state(pid, "2026-04-01");
    assert_string_equal(test_jstr(r->json, "status"), "hospitalised");
    assert_true(json_is_null(json_object_get(r->json, "next_due")));
    assert_string_equal(test_jstr(r->json, "due_rule"), "in_hospital");
    assert_true(test_jhas(json_object_get(r->json, "key_flags"), "forced_admission"));
    http_free(r);

    /* Admitted already: 409, nothing written. */
    refused(409, NULL, "POST", doctor, pid, "admissions", body, "2026-04-01");
    assert_int_equal(count_of("hospitalisations", pid), 1);
    /* In hospital: whereabouts are known. */
    refused(409, "status", "POST", doctor, pid, "whereabouts-unknown",
            "{\"reported_on\":\"2026-04-01\"}", "2026-04-01");
    assert_status(pid, "hospitalised");

    /* Discharge: bad dates are 400 and change nothing. */
    path = test_fmt("admissions/%lld/discharge", aid);
    {
        static const bad_case dbad[] = {
            {"discharged_on", "\"2026-03-19\"", "discharged_on"}, /* before admitted_on */
            {"discharged_on", "\"2026-04-13\"", "discharged_on"}, /* after today */
            {"discharged_on", NULL, "discharged_on"},
            {"discharge_note", "\"\"", "discharge_note"},
            {"outcome", "\"ok\"", "outcome"},
            {"diagnosis", "\"other\"", "diagnosis"},
            {"risk_level", "-1", "risk_level"},
            {"medications", "[{\"drug\":\"\"}]", "medications"},
            {"community_doctor_id", "\"me\"", "community_doctor_id"},
        };
        bad_inputs(doctor, pid, path, "{\"discharged_on\":\"2026-04-10\"}", dbad,
                   sizeof(dbad) / sizeof(dbad[0]), "hospitalisations", "2026-04-12");
    }
    assert_int_equal(count_of("hospitalisations WHERE discharged_on IS NULL", pid), 1);
    assert_status(pid, "hospitalised");
    refused(403, NULL, "POST", grid1, pid, path, "{\"discharged_on\":\"2026-04-10\"}",
            "2026-04-12");
    refused(404, NULL, "POST", yl_doctor, pid, path, "{\"discharged_on\":\"2026-04-10\"}",
            "2026-04-12");

    /* Another patient's admission is not this one's to discharge. */
    r = expect(201, "POST", doctor, other, "admissions",
               "{\"admitted_on\":\"2026-03-25\",\"hospital\":\"市中心医院\",\"involuntary\":false}",
               "2026-04-01");
    other_aid = test_jint(r->json, "id");
    http_free(r);
    {
        char *wrong = test_fmt("admissions/%lld/discharge", other_aid);
        refused(409, NULL, "POST", doctor, pid, wrong, "{\"discharged_on\":\"2026-04-10\"}",
                "2026-04-12");
        free(wrong);
        wrong = test_fmt("admissions/%lld/discharge", other_aid + 1000000);
        refused(409, NULL, "POST", doctor, pid, wrong, "{\"discharged_on\":\"2026-04-10\"}",
                "2026-04-12");
        free(wrong);
    }
    assert_status(other, "hospitalised");

    /* Discharged with the hospital's summary: back in care, a visit due
     * within 7 days. */
    r = expect(200, "POST", doctor, pid, path,
               "{\"discharged_on\":\"2026-04-10\",\"discharge_note\":\"症状缓解\","
               "\"diagnosis\":\"bipolar\",\"advice\":\"家属监护服药\"}",
               "2026-04-12");
    assert_string_equal(test_jstr(r->json, "discharged_on"), "2026-04-10");
    assert_string_equal(test_jstr(r->json, "discharge_note"), "症状缓解");
    assert_true(json_is_false(json_object_get(r->json, "open")));
    assert_string_equal(test_jstr(json_object_get(r->json, "discharge_summary"), "diagnosis"),
                        "bipolar");
    assert_true(
        json_is_null(json_object_get(json_object_get(r->json, "discharge_summary"), "risk_level")));
    http_free(r);
    assert_int_equal(audits("admission.discharge", pid), 1);
    r = clinical_state(pid, "2026-04-12");
    assert_string_equal(test_jstr(r->json, "status"), "in_care");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-04-17");
    assert_string_equal(test_jstr(r->json, "due_rule"), "discharge_7d");
    http_free(r);

    /* No discharge without an (open) admission. */
    r = call("POST", doctor, pid, path, "{\"discharged_on\":\"2026-04-11\"}", "2026-04-12");
    http_assert_problem(r, 409, NULL);
    assert_non_null(strstr(http_str(r, "title"), "No discharge without an admission"));
    http_free(r);
    assert_status(pid, "in_care");

    /* The list, newest first; grid workers read it without the clinical
     * fields, the police not at all (they hear of a discharge by its
     * notification). */
    r = expect(200, "GET", doctor, pid, "admissions", NULL, "2026-04-12");
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    assert_int_equal(test_jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), aid);
    http_free(r);
    refused(403, NULL, "GET", police, pid, "admissions", NULL, NULL);
    for (int i = 0; i < 1; i++) {
        json_t *a;
        r = expect(200, "GET", grid1, pid, "admissions", NULL, "2026-04-12");
        a = json_array_get(json_object_get(r->json, "items"), 0);
        assert_string_equal(test_jstr(a, "discharged_on"), "2026-04-10");
        assert_null(json_object_get(a, "reason"));
        assert_null(json_object_get(a, "discharge_note"));
        assert_null(json_object_get(json_object_get(a, "discharge_summary"), "diagnosis"));
        assert_null(json_object_get(json_object_get(a, "discharge_summary"), "advice"));
        assert_null(strstr(r->body, "bipolar"));
        http_free(r);
    }
    refused(404, NULL, "GET", yl_doctor, pid, "admissions", NULL, NULL);

    /* A new stay cannot begin before the last one ended. */
    bad_inputs(doctor, pid, "admissions",
               "{\"admitted_on\":\"2026-04-05\",\"hospital\":\"市中心医院\",\"involuntary\":false}",
               (const bad_case[]){{"reason", "\"复发\"", "admitted_on"}}, 1, "hospitalisations",
               "2026-04-12");

    /* Follow-ups go on as before: the visit after discharge sets the next date
     * (yellow for the 强制送医 flag: at most 3 months). */
    visit(pid, "2026-04-15");
    r = clinical_state(pid, "2026-04-15");
    assert_string_equal(test_jstr(r->json, "status"), "in_care");
    assert_string_equal(test_jstr(r->json, "last_reached_on"), "2026-04-15");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-07-15");
    http_free(r);
    free(path);
}

/* ---- incidents ------------------------------------------------------------ */

/* [R-INC-1, R-TIER-1] */
static void incidents_make_red_for_a_year(void **state)
{
    static const bad_case bad[] = {
        {"occurred_on", NULL, "occurred_on"},
        {"occurred_on", "\"2026-02-04\"", "occurred_on"},
        {"place", NULL, "place"},
        {"place", "\"\"", "place"},
        {"kind", NULL, "kind"},
        {"kind", "\"fight\"", "kind"},
        {"injured", NULL, "injured"},
        {"injured", "-1", "injured"},
        {"injured", "\"1\"", "injured"},
        {"dead", NULL, "dead"},
        {"dead", "1.5", "dead"},
        {"police_case_no", "\"\"", "police_case_no"},
        {"description", "7", "description"},
        {"weapon", "\"knife\"", "weapon"},
    };
    const char *body =
        "{\"occurred_on\":\"2026-02-01\",\"place\":\"梅苑路菜市场\","
        "\"kind\":\"trouble\",\"injured\":1,\"dead\":0,"
        "\"police_case_no\":\"泰公(刑)字2026-017\",\"description\":\"持棍打伤摊主\"}";
    long long pid = create_patient("肇事", NULL), iid;
    http_res *r;

    visit(pid, "2026-01-10");
    bad_inputs(police, pid, "incidents", body, bad, sizeof(bad) / sizeof(bad[0]), "incidents",
               "2026-02-03");
    refused(403, NULL, "POST", grid1, pid, "incidents", body, "2026-02-03");
    refused(404, NULL, "POST", yl_doctor, pid, "incidents", body, "2026-02-03");
    assert_int_equal(count_of("incidents", pid), 0);

    /* The police station reports it. */
    r = expect(201, "POST", police, pid, "incidents", body, "2026-02-03");
    iid = test_jint(r->json, "id");
    assert_true(iid > 0);
    assert_string_equal(test_jstr(r->json, "kind"), "trouble");
    assert_string_equal(test_jstr(r->json, "occurred_on"), "2026-02-01");
    assert_int_equal(test_jint(r->json, "injured"), 1);
    assert_int_equal(test_jint(r->json, "dead"), 0);
    assert_string_equal(test_jstr(r->json, "police_case_no"), "泰公(刑)字2026-017");
    http_free(r);
    assert_int_equal(audits("incident.create", pid), 1);

    r = clinical_state(pid, "2026-02-03");
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    assert_true(test_jhas(json_object_get(r->json, "colour_reasons"), "recent_incident"));
    assert_true(test_jhas(json_object_get(r->json, "key_flags"), "incident_history"));
    http_free(r);

    /* Police and doctors read them; the grid worker of the patient's grid too. */
    r = expect(200, "GET", police, pid, "incidents", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    assert_int_equal(test_jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), iid);
    http_free(r);
    http_free(expect(200, "GET", doctor, pid, "incidents", NULL, NULL));
    http_free(expect(200, "GET", grid1, pid, "incidents", NULL, NULL));
    refused(404, NULL, "GET", yl_doctor, pid, "incidents", NULL, NULL);
    /* … but not the medication, nor anything clinical. */
    refused(403, NULL, "GET", police, pid, "medication", NULL, NULL);
    refused(403, NULL, "POST", police, pid, "prescriptions",
            "{\"drug\":\"利培酮\",\"started_on\":\"2026-01-10\"}", "2026-02-03");
    refused(403, NULL, "POST", police, pid, "pickups",
            "{\"picked_on\":\"2026-01-10\",\"days_supplied\":30}", "2026-02-03");
    refused(403, NULL, "GET", police, pid, "health-checks", NULL, NULL);

    /* Thirteen months on, the next recomputation drops recent_incident; the
     * incident history stays a key flag for good. */
    http_free(expect(201, "POST", doctor, pid, "health-checks", "{\"checked_on\":\"2027-03-01\"}",
                     "2027-03-01"));
    r = clinical_state(pid, "2027-03-01");
    assert_false(test_jhas(json_object_get(r->json, "colour_reasons"), "recent_incident"));
    assert_string_not_equal(test_jstr(r->json, "colour"), "red");
    assert_true(test_jhas(json_object_get(r->json, "key_flags"), "incident_history"));
    http_free(r);
}

/* The discharge summary's medications become the prescriptions from the
 * discharge day; a summary recorded after a newer prescription changes
 * nothing. [R-HOSP-2] */
static void discharge_medications_prescribed(void **state)
{
    const char *old_rx = "{\"drug\":\"氯氮平\",\"dose_morning\":25,\"dose_evening\":50,"
                         "\"unit\":\"mg\",\"started_on\":\"2026-02-01\"}";
    const char *adm = "{\"admitted_on\":\"2026-03-20\",\"hospital\":\"潜江市精神卫生中心\","
                      "\"involuntary\":false}";
    const char *meds =
        "{\"discharged_on\":\"2026-04-10\",\"medications\":[{\"drug\":\"利培酮\",\"morning\":2,"
        "\"evening\":2,\"unit\":\"mg\"},{\"drug\":\"棕榈酸帕利哌酮\",\"long_acting\":true,"
        "\"every_weeks\":4,\"dose_mg\":150}]}";
    long long a = create_patient("出院带药甲", NULL), b = create_patient("出院带药乙", NULL);
    http_res *r;
    json_t *rx, *it;
    size_t i;
    int active = 0, long_acting = 0;

    (void)state;
    visit(a, "2026-03-01");
    visit(b, "2026-03-01");
    http_free(expect(201, "POST", doctor, a, "prescriptions", old_rx, "2026-02-01"));
    r = expect(201, "POST", doctor, a, "admissions", adm, "2026-03-20");
    char *path = test_fmt("admissions/%lld/discharge", test_jint(r->json, "id"));
    http_free(r);
    /* An injection of no dose is refused (400), nothing written. */
    refused(400, "medications", "POST", doctor, a, path,
            "{\"discharged_on\":\"2026-04-10\",\"medications\":[{\"drug\":\"氟哌啶醇癸酸酯\","
            "\"long_acting\":true,\"every_weeks\":4,\"dose_mg\":0}]}",
            "2026-04-12");
    assert_int_equal(count_of("prescriptions", a), 1);
    http_free(expect(200, "POST", doctor, a, path, meds, "2026-04-12"));
    r = expect(200, "GET", doctor, a, "medication", NULL, "2026-04-12");
    rx = json_object_get(r->json, "prescriptions");
    assert_int_equal(json_array_size(rx), 3);
    json_array_foreach(rx, i, it)
    {
        if (strcmp(test_jstr(it, "drug"), "氯氮平") == 0) {
            assert_string_equal(test_jstr(it, "ended_on"), "2026-04-10");
            continue;
        }
        assert_string_equal(test_jstr(it, "started_on"), "2026-04-10");
        assert_true(json_is_true(json_object_get(it, "active")));
        active++;
        if (json_is_true(json_object_get(it, "long_acting"))) {
            assert_int_equal(test_jint(it, "every_weeks"), 4);
            assert_true(json_number_value(json_object_get(it, "dose_mg")) == 150.0);
            long_acting++;
        } else {
            assert_true(json_number_value(json_object_get(it, "dose_morning")) == 2.0);
        }
    }
    assert_int_equal(active, 2);
    assert_int_equal(long_acting, 1);
    http_free(r);
    free(path);

    /* Recorded late: the community prescribed after the discharge day. */
    r = expect(201, "POST", doctor, b, "admissions", adm, "2026-03-20");
    path = test_fmt("admissions/%lld/discharge", test_jint(r->json, "id"));
    http_free(r);
    http_free(expect(201, "POST", doctor, b, "prescriptions",
                     "{\"drug\":\"奥氮平\",\"dose_evening\":10,\"unit\":\"mg\","
                     "\"started_on\":\"2026-04-11\"}",
                     "2026-04-12"));
    http_free(expect(200, "POST", doctor, b, path, meds, "2026-04-12"));
    assert_int_equal(count_of("prescriptions", b), 1);
    assert_int_equal(count_of("prescriptions WHERE ended_on IS NULL", b), 1);
    free(path);
}

/* ---- medication ----------------------------------------------------------- */

/* [R-MED-1] */
static void prescriptions_and_pickups(void **state)
{
    static const bad_case rx_bad[] = {
        {"drug", NULL, "drug"},
        {"drug", "\"\"", "drug"},
        {"started_on", NULL, "started_on"},
        {"started_on", "\"2026-05-02\"", "started_on"},
        {"dose_morning", "-1", "dose_morning"},
        {"dose_noon", "\"2\"", "dose_noon"},
        {"unit", "\"pill\"", "unit"},
        {"every_weeks", "4", "every_weeks"}, /* not long-acting */
        {"dose_mg", "150", "dose_mg"},       /* not long-acting */
        {"long_acting", "\"yes\"", "long_acting"},
        {"route", "\"oral\"", "route"},
    };
    static const bad_case la_bad[] = {
        {"every_weeks", NULL, "every_weeks"}, {"every_weeks", "13", "every_weeks"},
        {"every_weeks", "0", "every_weeks"},  {"dose_mg", NULL, "dose_mg"},
        {"dose_mg", "0", "dose_mg"},          {"dose_morning", "1", "dose_morning"},
    };
    const char *oral = "{\"drug\":\"利培酮\",\"dose_morning\":2,\"dose_evening\":2,"
                       "\"unit\":\"mg\",\"started_on\":\"2026-05-01\"}";
    const char *la = "{\"drug\":\"棕榈酸帕利哌酮\",\"long_acting\":true,\"every_weeks\":4,"
                     "\"dose_mg\":150,\"started_on\":\"2026-05-01\"}";
    long long a = create_patient("取药甲", NULL), b = create_patient("取药乙", NULL), rx_a, rx_la,
              rx_b;
    char *path;
    http_res *r;
    json_t *items, *it;

    bad_inputs(doctor, a, "prescriptions", oral, rx_bad, sizeof(rx_bad) / sizeof(rx_bad[0]),
               "prescriptions", "2026-05-01");
    bad_inputs(doctor, a, "prescriptions", la, la_bad, sizeof(la_bad) / sizeof(la_bad[0]),
               "prescriptions", "2026-05-01");
    refused(403, NULL, "POST", grid1, a, "prescriptions", oral, "2026-05-01");
    refused(404, NULL, "POST", yl_doctor, a, "prescriptions", oral, "2026-05-01");

    r = expect(201, "POST", doctor, a, "prescriptions", oral, "2026-05-01");
    rx_a = test_jint(r->json, "id");
    assert_string_equal(test_jstr(r->json, "drug"), "利培酮");
    assert_true(json_is_false(json_object_get(r->json, "long_acting")));
    assert_true(json_is_true(json_object_get(r->json, "active")));
    assert_true(json_number_value(json_object_get(r->json, "dose_morning")) == 2.0);
    assert_string_equal(test_jstr(r->json, "unit"), "mg");
    http_free(r);
    r = expect(201, "POST", doctor, a, "prescriptions", la, "2026-05-01");
    rx_la = test_jint(r->json, "id");
    assert_true(json_is_true(json_object_get(r->json, "long_acting")));
    assert_int_equal(test_jint(r->json, "every_weeks"), 4);
    assert_true(json_number_value(json_object_get(r->json, "dose_mg")) == 150.0);
    http_free(r);
    r = expect(201, "POST", doctor, b, "prescriptions", oral, "2026-05-01");
    rx_b = test_jint(r->json, "id");
    http_free(r);
    assert_int_equal(audits("prescription.create", a), 2);

    /* Pick-ups. */
    {
        char *pbase = test_fmt("{\"picked_on\":\"2026-05-01\",\"days_supplied\":30,"
                               "\"prescription_id\":%lld,\"picked_by\":\"母亲\"}",
                               rx_a);
        char *foreign = test_fmt("%lld", rx_b);
        const bad_case pk_bad[] = {
            {"picked_on", NULL, "picked_on"},
            {"picked_on", "\"2026-05-02\"", "picked_on"},
            {"days_supplied", NULL, "days_supplied"},
            {"days_supplied", "0", "days_supplied"},
            {"days_supplied", "181", "days_supplied"},
            {"prescription_id", foreign, "prescription_id"},
            {"prescription_id", "\"1\"", "prescription_id"},
            {"picked_by", "\"\"", "picked_by"},
            {"picked_by", "\"abcdefghijabcdefghijabcdefghijabc\"", "picked_by"},
            {"pharmacy", "\"x\"", "pharmacy"},
        };
        bad_inputs(doctor, a, "pickups", pbase, pk_bad, sizeof(pk_bad) / sizeof(pk_bad[0]),
                   "medication_pickups", "2026-05-01");
        refused(403, NULL, "POST", grid1, a, "pickups", pbase, "2026-05-01");
        r = expect(201, "POST", doctor, a, "pickups", pbase, "2026-05-01");
        assert_int_equal(test_jint(r->json, "days_supplied"), 30);
        assert_int_equal(test_jint(r->json, "prescription_id"), rx_a);
        assert_string_equal(test_jstr(r->json, "supply_ends"), "2026-05-31");
        http_free(r);
        free(pbase);
        free(foreign);
    }
    assert_int_equal(audits("pickup.create", a), 1);
    /* B picks up in time. */
    http_free(expect(201, "POST", doctor, b, "pickups",
                     "{\"picked_on\":\"2026-05-01\",\"days_supplied\":30}", "2026-05-01"));
    http_free(expect(201, "POST", doctor, b, "pickups",
                     "{\"picked_on\":\"2026-05-30\",\"days_supplied\":30}", "2026-05-30"));

    /* The medication sheet: clinical readers only. */
    r = expect(200, "GET", doctor, a, "medication", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "prescriptions")), 2);
    assert_int_equal(json_array_size(json_object_get(r->json, "pickups")), 1);
    http_free(r);
    http_free(expect(200, "GET", grid1, a, "medication", NULL, NULL));
    refused(404, NULL, "GET", yl_doctor, a, "medication", NULL, NULL);

    /* Within tolerance (supply ended 2026-05-31, 7 days' grace): not listed. */
    items = walk(doctor, "pickups-overdue", "", "2026-06-07", "days_late");
    assert_null(item_of(items, a));
    assert_null(item_of(items, b));
    json_decref(items);
    /* Past it: A is late, B who came back in time is not. */
    items = walk(doctor, "pickups-overdue", "", "2026-06-10", "days_late");
    it = item_of(items, a);
    assert_non_null(it);
    assert_null(item_of(items, b));
    assert_int_equal(test_jint(it, "days_late"), 10);
    assert_string_equal(test_jstr(it, "expected_by"), "2026-05-31");
    assert_string_equal(test_jstr(json_object_get(it, "last_pickup"), "picked_on"), "2026-05-01");
    assert_int_equal(test_jint(json_object_get(it, "last_pickup"), "days_supplied"), 30);
    assert_true(test_jhas(json_object_get(it, "drugs"), "利培酮"));
    assert_true(test_jhas(json_object_get(it, "drugs"), "棕榈酸帕利哌酮"));
    assert_non_null(test_jstr(it, "name"));
    json_decref(items);
    /* Narrowed to the village, then to the other grid; an outside unit is 400. */
    {
        char *village = test_unit_id("429005003001"), *q = test_fmt("&org_unit_id=%s", village);
        items = walk(doctor, "pickups-overdue", q, "2026-06-10", "days_late");
        assert_non_null(item_of(items, a));
        json_decref(items);
        free(q);
        q = test_fmt("&org_unit_id=%s", g02);
        items = walk(doctor, "pickups-overdue", q, "2026-06-10", "days_late");
        assert_null(item_of(items, a));
        json_decref(items);
        free(q);
        q = test_fmt("/api/v1/worklists/pickups-overdue?org_unit_id=%s", yl_unit);
        r = http_do("GET", q, doctor, NULL, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(q);
        free(village);
    }
    /* One item per page still walks every patient once, most late first. */
    {
        char *hdr = strdup("X-Test-Date: 2026-06-10");
        http_res *p1 =
            http_do("GET", "/api/v1/worklists/pickups-overdue?limit=1", doctor, NULL, hdr);
        assert_int_equal(p1->status, 200);
        assert_int_equal(test_jint(p1->json, "tolerance_days"), 7);
        assert_true(json_array_size(json_object_get(p1->json, "items")) == 1);
        http_free(p1);
        r = http_do("GET", "/api/v1/worklists/pickups-overdue?cursor=bm9wZQ", doctor, NULL, hdr);
        http_assert_problem(r, 400, "cursor");
        http_free(r);
        free(hdr);
    }
    r = http_do("GET", "/api/v1/worklists/pickups-overdue", police, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    /* A grid worker sees their grid's late patients. */
    items = walk(grid1, "pickups-overdue", "", "2026-06-10", "days_late");
    assert_non_null(item_of(items, a));
    json_decref(items);
    /* The tolerance is each unit's own [R-MED-1, R-TIER-2]: with 2 days at
     * A's village, on 2026-06-05 (5 days past the supply's end) A is late,
     * where the default's 7 days kept A off the list; the page says the
     * tolerance of the area asked for. */
    {
        char *village = test_unit_id("429005003001"), *body;
        char *q = test_fmt("/api/v1/config/clinical?org_unit_id=%s", village);
        char *vq = test_fmt("/api/v1/worklists/pickups-overdue?org_unit_id=%s", village);
        char *hdr = strdup("X-Test-Date: 2026-06-05");

        r = http_do("GET", q, tf_admin, NULL, NULL);
        assert_int_equal(r->status, 200);
        json_object_set_new(json_object_get(r->json, "settings"), "pickup_tolerance_days",
                            json_integer(2));
        body = json_dumps(r->json, JSON_COMPACT);
        http_free(r);
        r = http_do("PUT", "/api/v1/config/clinical", tf_admin, body, NULL);
        if (r->status != 200)
            fail_msg("PUT the village's tolerance: %ld %s", r->status, r->body);
        http_free(r);
        items = walk(doctor, "pickups-overdue", "", "2026-06-05", "days_late");
        it = item_of(items, a);
        assert_non_null(it);
        assert_int_equal(test_jint(it, "days_late"), 5);
        json_decref(items);
        r = http_do("GET", vq, doctor, NULL, hdr);
        assert_int_equal(r->status, 200);
        assert_int_equal(test_jint(r->json, "tolerance_days"), 2);
        http_free(r);
        /* The village's own removed: the township's default applies again. */
        r = http_do("DELETE", q, tf_admin, NULL, NULL);
        assert_true(r->status < 300);
        http_free(r);
        items = walk(doctor, "pickups-overdue", "", "2026-06-05", "days_late");
        assert_null(item_of(items, a));
        json_decref(items);
        free(hdr);
        free(vq);
        free(q);
        free(body);
        free(village);
    }

    /* Ending the prescriptions: not before they started, not twice. */
    path = test_fmt("prescriptions/%lld/end", rx_a);
    bad_inputs(doctor, a, path, "{\"ended_on\":\"2026-06-08\"}",
               (const bad_case[]){{"ended_on", "\"2026-04-30\"", "ended_on"},
                                  {"ended_on", "\"2026-06-11\"", "ended_on"},
                                  {"ended_on", NULL, "ended_on"}},
               3, "prescriptions WHERE ended_on IS NOT NULL", "2026-06-10");
    r = expect(200, "POST", doctor, a, path, "{\"ended_on\":\"2026-06-08\"}", "2026-06-10");
    assert_true(json_is_false(json_object_get(r->json, "active")));
    assert_string_equal(test_jstr(r->json, "ended_on"), "2026-06-08");
    http_free(r);
    refused(409, NULL, "POST", doctor, a, path, "{\"ended_on\":\"2026-06-09\"}", "2026-06-10");
    free(path);
    path = test_fmt("prescriptions/%lld/end", rx_b); /* B's, through A */
    refused(409, NULL, "POST", doctor, a, path, "{\"ended_on\":\"2026-06-09\"}", "2026-06-10");
    free(path);
    path = test_fmt("prescriptions/%lld/end", rx_la);
    http_free(expect(200, "POST", doctor, a, path, "{\"ended_on\":\"2026-06-08\"}", "2026-06-10"));
    free(path);
    assert_int_equal(audits("prescription.end", a), 2);
    /* No active prescription: nothing to pick up, so not late. */
    items = walk(doctor, "pickups-overdue", "", "2026-06-10", "days_late");
    assert_null(item_of(items, a));
    json_decref(items);
}

/* ---- health checks -------------------------------------------------------- */

/* [R-DUE-7] */
static void health_check_moves_its_due_date(void **state)
{
    static const bad_case bad[] = {
        {"checked_on", NULL, "checked_on"},
        {"checked_on", "\"2026-09-03\"", "checked_on"},
        {"items", "\"ecg\"", "items"},
        {"items", "[\"xray\"]", "items"},
        {"items", "[\"ecg\",\"ecg\"]", "items"},
        {"items", "[1]", "items"},
        {"note", "\"\"", "note"},
        {"result", "\"ok\"", "result"},
    };
    const char *body = "{\"checked_on\":\"2026-09-01\",\"items\":[\"blood_routine\",\"ecg\","
                       "\"liver_function\"],\"note\":\"肝功能轻度异常\"}";
    long long pid = create_patient("体检", NULL);
    http_res *r;

    visit(pid, "2026-08-01");
    bad_inputs(doctor, pid, "health-checks", body, bad, sizeof(bad) / sizeof(bad[0]),
               "health_checks", "2026-09-02");
    refused(403, NULL, "POST", grid1, pid, "health-checks", body, "2026-09-02");
    refused(404, NULL, "POST", yl_doctor, pid, "health-checks", body, "2026-09-02");
    r = expect(201, "POST", doctor, pid, "health-checks", body, "2026-09-02");
    assert_string_equal(test_jstr(r->json, "checked_on"), "2026-09-01");
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 3);
    assert_true(test_jhas(json_object_get(r->json, "items"), "ecg"));
    http_free(r);
    assert_int_equal(audits("health_check.create", pid), 1);
    r = clinical_state(pid, "2026-09-02");
    assert_string_equal(test_jstr(r->json, "health_check_due"), "2027-09-01");
    http_free(r);
    r = expect(200, "GET", doctor, pid, "health-checks", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    http_free(r);
    refused(404, NULL, "GET", yl_doctor, pid, "health-checks", NULL, NULL);
}

/* ---- whereabouts unknown -------------------------------------------------- */

/* [R-LOST-2, R-LOST-4] */
static void whereabouts_unknown_then_found(void **state)
{
    const char *body = "{\"reported_on\":\"2026-03-01\",\"note\":\"外出未归，家属联系不上\"}";
    long long pid = create_patient("去向", NULL);
    json_t *items;
    http_res *r;
    long events;

    visit(pid, "2026-02-01");
    assert_status(pid, "in_care");
    bad_inputs(grid1, pid, "whereabouts-unknown", body,
               (const bad_case[]){{"reported_on", NULL, "reported_on"},
                                  {"reported_on", "\"2026-03-02\"", "reported_on"},
                                  {"note", "\"\"", "note"},
                                  {"place", "\"x\"", "place"}},
               4, "patient_events", "2026-03-01");
    assert_status(pid, "in_care");
    refused(403, NULL, "POST", civil, pid, "whereabouts-unknown", body, "2026-03-01");
    refused(404, NULL, "POST", yl_doctor, pid, "whereabouts-unknown", body, "2026-03-01");

    /* The grid worker reports it: lost at once, red, ever lost. */
    events = count_of("patient_events", pid);
    r = expect(200, "POST", grid1, pid, "whereabouts-unknown", body, "2026-03-01");
    assert_string_equal(test_jstr(r->json, "status"), "lost");
    assert_true(json_is_true(json_object_get(r->json, "ever_lost")));
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    assert_true(test_jhas(json_object_get(r->json, "colour_reasons"), "lost"));
    http_free(r);
    assert_int_equal(count_of("patient_events", pid), events + 1);
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'status' AND from_status = 'in_care' AND"
                                  " to_status = 'lost' AND event_date = '2026-03-01'"
                                  " AND reason LIKE '%去向不明%'",
                                  1, p),
                         1);
    }
    assert_int_equal(audits("patient.whereabouts_unknown", pid), 1);
    refused(409, "status", "POST", doctor, pid, "whereabouts-unknown", body, "2026-03-01");
    items = walk(doctor, "lost", "", "2026-03-01", NULL);
    assert_non_null(item_of(items, pid));
    json_decref(items);

    /* Another change meanwhile does not bring the patient back. */
    http_free(expect(201, "POST", doctor, pid, "health-checks", "{\"checked_on\":\"2026-03-05\"}",
                     "2026-03-05"));
    assert_status(pid, "lost");

    /* Found: a visit that reaches the patient brings them back into care. */
    visit(pid, "2026-03-10");
    assert_status(pid, "in_care");
    r = clinical_state(pid, "2026-03-10");
    assert_true(test_jhas(json_object_get(r->json, "key_flags"), "ever_lost"));
    assert_false(test_jhas(json_object_get(r->json, "colour_reasons"), "lost"));
    http_free(r);
    items = walk(doctor, "lost", "", "2026-03-10", NULL);
    assert_null(item_of(items, pid));
    json_decref(items);
}

/* ---- tier configuration --------------------------------------------------- */

/* [R-TIER-2] */
static void tier_configuration(void **state)
{
    static const struct {
        const char *path, *value, *field; /* path "a.b" or "a.b.c"; value NULL: removed */
    } bad[] = {
        {"tiers.green.interval_months", "0", "tiers.green.interval_months"},
        {"tiers.green.interval_months", "4", "tiers.green.interval_months"},
        {"tiers.red.interval_months", "\"1\"", "tiers.red.interval_months"},
        {"tiers.red.joint", "\"yes\"", "tiers.red.joint"},
        {"tiers.orange", NULL, "tiers.orange"},
        {"tiers.purple", "{\"interval_months\":1,\"joint\":true}", "tiers"},
        {"settings.red_min_risk", "0", "settings.red_min_risk"},
        {"settings.red_min_risk", "6", "settings.red_min_risk"},
        {"settings.incident_months", "37", "settings.incident_months"},
        {"settings.relapse_count", "11", "settings.relapse_count"},
        {"settings.pickup_tolerance_days", "61", "settings.pickup_tolerance_days"},
        {"settings.pickup_tolerance_days", "-1", "settings.pickup_tolerance_days"},
        {"settings.incident_months", NULL, "settings.incident_months"},
        {"settings.colours", "3", "settings"},
        {"tiers", "[]", "tiers"},
        {"settings", NULL, "settings"},
        {"mode", "\"strict\"", "mode"},
    };
    char *green1, *gbody, *gpath;
    json_t *cfg;
    long long pid;
    http_res *r;
    long updates;

    /* Everyone who reads patients reads the configuration. */
    r = http_do("GET", "/api/v1/config/clinical", police, NULL, NULL);
    assert_int_equal(r->status, 200);
    cfg = json_object_get(r->json, "tiers");
    for (const char *const *c = (const char *const[]){"red", "orange", "yellow", "green", NULL}; *c;
         c++) {
        json_t *t = json_object_get(cfg, *c);
        assert_true(json_is_integer(json_object_get(t, "interval_months")));
        assert_true(json_is_boolean(json_object_get(t, "joint")));
    }
    cfg = json_object_get(r->json, "settings");
    assert_true(json_is_integer(json_object_get(cfg, "red_min_risk")));
    assert_true(json_is_integer(json_object_get(cfg, "incident_months")));
    assert_true(json_is_integer(json_object_get(cfg, "relapse_count")));
    assert_true(json_is_integer(json_object_get(cfg, "pickup_tolerance_days")));
    http_free(r);

    /* Every bad value is 400 naming it, and nothing changes. */
    updates = db_count("SELECT count(*) FROM audit_log WHERE action = 'config.update'", 0, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = json_loads(config_before, 0, NULL), *o = b;
        char key[64], *dot, *body;
        const char *k = bad[i].path;

        snprintf(key, sizeof(key), "%s", k);
        while ((dot = strchr(key, '.')) != NULL) {
            *dot = '\0';
            o = json_object_get(o, key);
            memmove(key, dot + 1, strlen(dot + 1) + 1);
        }
        if (bad[i].value == NULL)
            json_object_del(o, key);
        else
            json_object_set_new(o, key, json_loads(bad[i].value, JSON_DECODE_ANY, NULL));
        body = json_dumps(b, JSON_COMPACT);
        r = http_do("PUT", "/api/v1/config/clinical", root_admin, body, NULL);
        if (r->status != 400)
            fail_msg("PUT %s: expected 400, got %ld %s", body, r->status, r->body);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
        free(body);
        json_decref(b);
    }
    assert_int_equal(
        db_count("SELECT count(*) FROM audit_log WHERE action = 'config.update'", 0, NULL),
        updates);
    /* Only an administrator; the default (what this document is) only one of
     * the whole area: a township's administrator edits the township's own
     * (suite http_tiers), not the county's. */
    r = http_do("PUT", "/api/v1/config/clinical", doctor, config_before, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("PUT", "/api/v1/config/clinical", tf_admin, config_before, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);

    /* A green patient: capable guardian, seen stable → due in 3 months. */
    pid = create_patient("分色", NULL);
    gpath = test_fmt("/api/v1/patients/%lld/guardians", pid);
    r = http_do("POST", gpath, doctor,
                "{\"kind\":\"primary\",\"name\":\"刘建华\",\"relation\":\"parent\","
                "\"capacity\":\"adequate\"}",
                NULL);
    assert_int_equal(r->status, 201);
    http_free(r);
    free(gpath);
    visit(pid, "2026-01-05");
    r = clinical_state(pid, "2026-01-05");
    if (strcmp(test_jstr(r->json, "colour"), "green") != 0)
        fail_msg("expected a green patient: %s", r->body);
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-04-05");
    http_free(r);

    /* Green at most 1 month apart. */
    cfg = json_loads(config_before, 0, NULL);
    json_object_set_new(json_object_get(json_object_get(cfg, "tiers"), "green"), "interval_months",
                        json_integer(1));
    green1 = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    r = http_do("PUT", "/api/v1/config/clinical", root_admin, green1, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(
        test_jint(json_object_get(json_object_get(r->json, "tiers"), "green"), "interval_months"),
        1);
    http_free(r);
    assert_int_equal(
        db_count("SELECT count(*) FROM audit_log WHERE action = 'config.update'", 0, NULL),
        updates + 1);
    r = http_do("GET", "/api/v1/config/clinical", grid1, NULL, NULL);
    assert_int_equal(
        test_jint(json_object_get(json_object_get(r->json, "tiers"), "green"), "interval_months"),
        1);
    http_free(r);
    /* Stored due dates move at the patient's next change, not before. */
    r = clinical_state(pid, "2026-01-10");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-04-05");
    http_free(r);
    gbody = strdup("{\"checked_on\":\"2026-01-10\"}");
    http_free(expect(201, "POST", doctor, pid, "health-checks", gbody, "2026-01-10"));
    r = clinical_state(pid, "2026-01-10");
    assert_string_equal(test_jstr(r->json, "colour"), "green");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-02-05");
    assert_string_equal(test_jstr(r->json, "due_rule"), "tier_cap");
    http_free(r);

    /* A document as read may be sent back as it is (updated_at is ignored). */
    r = http_do("GET", "/api/v1/config/clinical", root_admin, NULL, NULL);
    {
        char *doc = json_dumps(r->json, JSON_COMPACT);
        http_free(r);
        r = http_do("PUT", "/api/v1/config/clinical", root_admin, doc, NULL);
        assert_int_equal(r->status, 200);
        http_free(r);
        free(doc);
    }

    /* Put it back. */
    r = http_do("PUT", "/api/v1/config/clinical", root_admin, config_before, NULL);
    assert_int_equal(r->status, 200);
    json_object_del(r->json, "updated_at");
    {
        char *now = json_dumps(r->json, JSON_COMPACT);
        json_t *x = json_loads(now, 0, NULL), *y = json_loads(config_before, 0, NULL);
        assert_true(json_equal(x, y));
        json_decref(x);
        json_decref(y);
        free(now);
    }
    http_free(r);
    free(gbody);
    free(green1);
}

/* ---- scope ------------------------------------------------------------------ */

static void other_township_sees_nothing(void **state)
{
    /* Valid bodies: a body is checked before the patient is looked up. */
    static const struct {
        const char *method, *what, *body;
    } routes[] = {
        {"GET", "admissions", NULL},
        {"POST", "admissions",
         "{\"admitted_on\":\"2026-03-20\",\"hospital\":\"市中心医院\",\"involuntary\":false}"},
        {"POST", "admissions/1/discharge", "{\"discharged_on\":\"2026-03-21\"}"},
        {"GET", "incidents", NULL},
        {"POST", "incidents",
         "{\"occurred_on\":\"2026-03-20\",\"place\":\"家中\",\"kind\":\"mild_trouble\","
         "\"injured\":0,\"dead\":0}"},
        {"GET", "health-checks", NULL},
        {"POST", "health-checks", "{\"checked_on\":\"2026-03-20\"}"},
        {"GET", "medication", NULL},
        {"POST", "prescriptions", "{\"drug\":\"利培酮\",\"started_on\":\"2026-03-20\"}"},
        {"POST", "prescriptions/1/end", "{\"ended_on\":\"2026-03-21\"}"},
        {"POST", "pickups", "{\"picked_on\":\"2026-03-20\",\"days_supplied\":30}"},
        {"POST", "whereabouts-unknown", "{\"reported_on\":\"2026-03-20\"}"},
    };
    long long pid = create_patient("辖区", NULL);

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        /* Another township: as if the patient did not exist. */
        refused(404, NULL, routes[i].method, yl_doctor, pid, routes[i].what, routes[i].body,
                "2026-03-22");
        /* Nobody at all. */
        refused(404, NULL, routes[i].method, doctor, 999999999999LL, routes[i].what, routes[i].body,
                "2026-03-22");
        /* The grid worker may read the clinical lists but not write them. */
        if (routes[i].method[0] == 'P' && strcmp(routes[i].what, "whereabouts-unknown") != 0)
            refused(403, NULL, routes[i].method, grid1, pid, routes[i].what, routes[i].body,
                    "2026-03-22");
    }
    assert_int_equal(count_of("hospitalisations", pid) + count_of("incidents", pid) +
                         count_of("health_checks", pid) + count_of("prescriptions", pid) +
                         count_of("medication_pickups", pid),
                     0);
    assert_status(pid, "registered");
}

/* ---- closed records ------------------------------------------------------- */

static void closed_records_refuse_episodes(void **state)
{
    long long pid = create_patient("身故", NULL);

    http_free(expect(200, "POST", doctor, pid, "status",
                     "{\"status\":\"deceased\",\"date\":\"2026-03-01\","
                     "\"death_cause\":\"illness\"}",
                     "2026-03-02"));
    refused(409, "status", "POST", doctor, pid, "admissions",
            "{\"admitted_on\":\"2026-03-02\",\"hospital\":\"市中心医院\",\"involuntary\":false}",
            "2026-03-02");
    refused(409, "status", "POST", doctor, pid, "whereabouts-unknown",
            "{\"reported_on\":\"2026-03-02\"}", "2026-03-02");
    refused(409, "status", "POST", doctor, pid, "health-checks", "{\"checked_on\":\"2026-03-02\"}",
            "2026-03-02");
    refused(409, "status", "POST", doctor, pid, "prescriptions",
            "{\"drug\":\"利培酮\",\"started_on\":\"2026-03-02\"}", "2026-03-02");
    refused(409, "status", "POST", doctor, pid, "pickups",
            "{\"picked_on\":\"2026-03-02\",\"days_supplied\":30}", "2026-03-02");
    assert_int_equal(count_of("hospitalisations", pid) + count_of("health_checks", pid) +
                         count_of("prescriptions", pid) + count_of("medication_pickups", pid),
                     0);
    assert_status(pid, "deceased");
    /* An incident before the death may still be reported. */
    http_free(expect(201, "POST", police, pid, "incidents",
                     "{\"occurred_on\":\"2026-02-20\",\"place\":\"家中\","
                     "\"kind\":\"mild_trouble\",\"injured\":0,\"dead\":0}",
                     "2026-03-02"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admission_and_discharge),
        cmocka_unit_test(incidents_make_red_for_a_year),
        cmocka_unit_test(discharge_medications_prescribed),
        cmocka_unit_test(prescriptions_and_pickups),
        cmocka_unit_test(health_check_moves_its_due_date),
        cmocka_unit_test(whereabouts_unknown_then_found),
        cmocka_unit_test(tier_configuration),
        cmocka_unit_test(other_township_sees_nothing),
        cmocka_unit_test(closed_records_refuse_episodes),
        cmocka_unit_test(field_records_retry_with_an_idempotency_key),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
