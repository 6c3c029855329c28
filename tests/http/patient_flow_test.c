/* HTTP suite: a patient's life cycle — suspected persons reported by grid
 * workers, diagnosed or ruled out by doctors; dated status changes with
 * their rules (death with its cause, deregistration with its reason, closed
 * records); the timeline of events per role; the audit trail for admins. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUITE_SALT 2 /* keeps this suite's ID numbers apart from the others' */

static char *doctor, *police, *civil, *official, *grid1, *grid2, *yl_doctor, *tf_admin, *yl_admin;
static char *g01, *g02, *village;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

/* ---- helpers ---------------------------------------------------------- */

static long patients_total(void)
{
    return db_count("SELECT count(*) FROM patients", 0, NULL);
}

static char *ppath(long long id)
{
    return test_fmt("/api/v1/patients/%lld", id);
}

/* Register a patient as the doctor; returns its id. */
static long long create_patient(const char *name, const char *id18, const char *unit,
                                const char *extra)
{
    return test_create_patient(doctor, NULL, name, id18, unit, extra);
}

/* Report a suspected person in grid 1 as its grid worker; returns the id. */
static long long report(const char *name, const char *extra)
{
    char *body = test_fmt("{\"name\":\"%s\",\"address\":\"梅苑路3号\",\"report_note\":"
                     "\"夜间喊叫，砸坏邻居门窗\",\"org_unit_id\":%s%s}",
                     name, g01, extra);
    http_res *r = http_do("POST", "/api/v1/suspected-reports", grid1, body, NULL);
    long long id;

    if (r->status != 201)
        fail_msg("report %s: %ld %s", name, r->status, r->body);
    id = test_jint(r->json, "id");
    http_free(r);
    free(body);
    return id;
}

static char *status_of(long long pid)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_scalar("SELECT status || '/' || version FROM patients WHERE id = $1", 1, p);
}

/* The record is in status st at version v. */
static void assert_state(long long pid, const char *st, int v)
{
    char *got = status_of(pid), want[64];

    snprintf(want, sizeof(want), "%s/%d", st, v);
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("patient %lld: expected %s, got %s", pid, want, got ? got : "(none)");
    free(got);
}

static long events_of(long long pid)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1", 1, p);
}

static http_res *post(const char *token, long long pid, const char *what, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld/%s", pid, what);
    http_res *r = http_do("POST", path, token, body, NULL);

    free(path);
    return r;
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    official = http_login("tf.official", NULL);
    grid1 = http_login("tf.grid1", NULL);
    grid2 = http_login("tf.grid2", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    tf_admin = http_login("tf.admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    g01 = test_unit_id("429005003001G01");
    g02 = test_unit_id("429005003001G02");
    village = test_unit_id("429005003001");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor,    &police,   &civil,    &official, &grid1, &grid2,
                    &yl_doctor, &tf_admin, &yl_admin, &g01,      &g02,   &village};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- suspected reports ----------------------------------------------------- */

static void grid_worker_reports_a_suspected_person(void **state)
{
    char *name = test_fmt("疑似%s甲", cn_unique), *body, *path, idtxt[32];
    http_res *r;
    long long pid;

    body = test_fmt("{\"name\":\"%s\",\"gender\":\"male\",\"phone\":\"13700001111\",\"address\":"
               "\"梅苑路3号\",\"report_note\":\"夜间喊叫，砸坏邻居门窗\",\"org_unit_id\":%s}",
               name, g01);
    r = http_do("POST", "/api/v1/suspected-reports", grid1, body, NULL);
    assert_int_equal(r->status, 201);
    pid = test_jint(r->json, "id");
    assert_true(pid > 0);
    path = ppath(pid);
    assert_string_equal(http_header(r, "Location"), path);
    assert_string_equal(http_header(r, "ETag"), "\"1\"");
    assert_string_equal(test_jstr(r->json, "status"), "suspected");
    assert_string_equal(test_jstr(r->json, "name"), name);
    assert_string_equal(test_jstr(r->json, "gender"), "male");
    assert_null(json_object_get(r->json, "diagnosis"));
    http_free(r);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    {
        const char *p[] = {idtxt};
        assert_int_equal(db_count("SELECT count(*) FROM patients p JOIN users u ON"
                                  " u.id = p.reported_by WHERE p.id = $1 AND u.username ="
                                  " 'tf.grid1' AND p.status = 'suspected' AND p.diagnosis IS NULL"
                                  " AND p.diagnosis_date IS NULL AND p.id_index IS NULL"
                                  " AND p.phone_masked = '137****1111'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'reported' AND to_status = 'suspected'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'patient.report' AND target_id = $1 AND username = 'tf.grid1'",
                                  1, p),
                         1);
    }
    /* The doctor sees the report and no diagnosis yet. */
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_is_null(json_object_get(r->json, "diagnosis")));
    assert_string_equal(test_jstr(r->json, "report_note"), "夜间喊叫，砸坏邻居门窗");
    http_free(r);
    /* A report with an ID number takes gender and birth date from it. */
    {
        char id[19], birth[11];
        long long pid2;
        char *n2 = test_fmt("疑似%s乙", cn_unique), *extra;
        test_new_id(id, 0, SUITE_SALT);
        extra = test_fmt(",\"id_number\":\"%s\"", id);
        pid2 = report(n2, extra);
        free(path);
        path = ppath(pid2);
        r = http_do("GET", path, doctor, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_string_equal(test_jstr(r->json, "gender"), "female");
        snprintf(birth, sizeof(birth), "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
        assert_string_equal(test_jstr(r->json, "birth_date"), birth);
        assert_string_equal(test_jstr(r->json, "id_number"), id);
        http_free(r);
        free(extra);
        free(n2);
    }
    free(path);
    free(body);
    free(name);
}

static void bad_reports_write_nothing(void **state)
{
    char id[19], *bad_check;
    json_t *base;
    long before = patients_total();
    long events = db_count("SELECT count(*) FROM patient_events", 0, NULL);
    char *sibling = test_unit_id("429005003001G02");
    struct {
        const char *key, *value, *field; /* value NULL: key removed */
    } cases[] = {
        {"report_note", NULL, "report_note"},
        {"report_note", "\"\"", "report_note"},
        {"address", NULL, "address"},
        {"name", NULL, "name"},
        {"name", "\"\"", "name"},
        {"org_unit_id", NULL, "org_unit_id"},
        {"org_unit_id", sibling, "org_unit_id"}, /* the sibling grid */
        {"org_unit_id", village, "org_unit_id"}, /* the village above the grid */
        {"gender", "\"x\"", "gender"},
        {"phone", "\"13abc\"", "phone"},
        {"birth_date", "\"2099-01-01\"", "birth_date"},
        {"birth_date", "\"1980-02-30\"", "birth_date"},
        {"id_number", "\"4290051985\"", "id_number"},
        {"id_number", NULL, NULL}, /* placeholder: replaced with a bad check below */
        {"diagnosis", "\"schizophrenia\"", "diagnosis"}, /* not part of a report */
        {"status", "\"registered\"", "status"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);

    test_new_id(id, 1, SUITE_SALT);
    bad_check = test_fmt("\"%s\"", id);
    bad_check[18] = bad_check[18] == '0' ? '1' : '0'; /* the check character */
    cases[13].value = bad_check;
    cases[13].field = "id_number";
    base = json_pack("{s:s,s:s,s:s,s:I}", "name", "坏报告", "address", "梅苑路3号", "report_note",
                     "自言自语", "org_unit_id", (json_int_t)strtoll(g01, NULL, 10));
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_deep_copy(base);
        char *text;
        http_res *r;

        if (cases[i].value == NULL) {
            json_object_del(b, cases[i].key);
        } else {
            json_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, NULL);
            assert_non_null(v);
            json_object_set_new(b, cases[i].key, v);
        }
        text = json_dumps(b, JSON_COMPACT);
        r = http_do("POST", "/api/v1/suspected-reports", grid1, text, NULL);
        if (r->status != 400)
            fail_msg("case %zu (%s): expected 400, got %ld: %s", i, cases[i].key, r->status,
                     r->body);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
        free(text);
        json_decref(b);
    }
    /* The ID number disagreeing with the gender reported. */
    {
        char *text =
            test_fmt("{\"name\":\"坏报告\",\"address\":\"梅苑路3号\",\"report_note\":\"自言自语\","
                "\"org_unit_id\":%s,\"id_number\":\"%s\",\"gender\":\"female\"}",
                g01, id);
        http_res *r = http_do("POST", "/api/v1/suspected-reports", grid1, text, NULL);
        http_assert_problem(r, 400, "gender");
        http_free(r);
        free(text);
    }
    /* Roles that do not report. */
    {
        char *text = json_dumps(base, JSON_COMPACT);
        const char *tokens[] = {civil, official};
        for (size_t i = 0; i < 2; i++) {
            http_res *r = http_do("POST", "/api/v1/suspected-reports", tokens[i], text, NULL);
            http_assert_problem(r, 403, NULL);
            http_free(r);
        }
        free(text);
    }
    assert_int_equal(patients_total(), before);
    assert_int_equal(db_count("SELECT count(*) FROM patient_events", 0, NULL), events);
    json_decref(base);
    free(bad_check);
    free(sibling);
}

static void report_retry_is_idempotent(void **state)
{
    char *name = test_fmt("疑似%s丙", cn_unique), *key = test_fmt("Idempotency-Key: sr-%s", test_unique());
    char *body = test_fmt("{\"name\":\"%s\",\"address\":\"梅苑路5号\",\"report_note\":\"独自外走\","
                     "\"org_unit_id\":%s}",
                     name, g01);
    char *other = test_fmt("{\"name\":\"%s\",\"address\":\"梅苑路6号\",\"report_note\":\"独自外走\","
                      "\"org_unit_id\":%s}",
                      name, g01);
    const char *p[] = {name};
    http_res *r1, *r2, *r3;

    r1 = http_do("POST", "/api/v1/suspected-reports", grid1, body, key);
    assert_int_equal(r1->status, 201);
    r2 = http_do("POST", "/api/v1/suspected-reports", grid1, body, key);
    assert_int_equal(r2->status, 201);
    assert_non_null(http_header(r2, "Idempotent-Replayed"));
    assert_string_equal(http_header(r2, "Idempotent-Replayed"), "true");
    assert_string_equal(r2->body, r1->body);
    {
        char loc[256];
        snprintf(loc, sizeof(loc), "%s", http_header(r1, "Location"));
        assert_string_equal(http_header(r2, "Location"), loc);
    }
    r3 = http_do("POST", "/api/v1/suspected-reports", grid1, other, key);
    http_assert_problem(r3, 422, "Idempotency-Key");
    assert_int_equal(db_count("SELECT count(*) FROM patients WHERE name = $1", 1, p), 1);
    assert_int_equal(db_count("SELECT count(*) FROM patient_events e JOIN patients p ON"
                              " p.id = e.patient_id WHERE p.name = $1",
                              1, p),
                     1);
    http_free(r1);
    http_free(r2);
    http_free(r3);
    free(body);
    free(other);
    free(key);
    free(name);
}

/* ---- diagnosis and ruling out ---------------------------------------------- */

/* [R-PAT-1, R-ID-2] */
static void doctor_diagnoses_a_suspected_person(void **state)
{
    char *name = test_fmt("确诊%s丁", cn_unique), id[19], *good, *path;
    long long pid = report(name, "");
    http_res *r;

    test_new_id(id, 1, SUITE_SALT);
    path = ppath(pid);
    /* No ID number on the record, none given: 400 id_number. */
    r = post(doctor, pid, "diagnosis",
             "{\"diagnosis\":\"schizophrenia\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
             "\"diagnosis_date\":\"2024-03-01\"}");
    http_assert_problem(r, 400, "id_number");
    http_free(r);
    assert_state(pid, "suspected", 1);
    /* Bad fields. */
    {
        const char *fmts[][2] = {
            {"{\"diagnosis\":\"flu\",\"diagnosing_hospital\":\"市精卫中心\",\"diagnosis_date\":"
             "\"2024-03-01\",\"id_number\":\"%s\"}",
             "diagnosis"},
            {"{\"diagnosing_hospital\":\"市精卫中心\",\"diagnosis_date\":\"2024-03-01\","
             "\"id_number\":\"%s\"}",
             "diagnosis"},
            {"{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"市精卫中心\",\"diagnosis_date\":"
             "\"2099-03-01\",\"id_number\":\"%s\"}",
             "diagnosis_date"},
            {"{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"市精卫中心\","
             "\"id_number\":\"%s\"}",
             "diagnosis_date"},
            {"{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"市精卫中心\",\"diagnosis_date\":"
             "\"2024-03-01\",\"onset_date\":\"2024-04-01\",\"id_number\":\"%s\"}",
             "onset_date"},
            {"{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"市精卫中心\",\"diagnosis_date\":"
             "\"2024-03-01\",\"id_number\":\"%s0\"}",
             "id_number"},
            {"{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"市精卫中心\",\"diagnosis_date\":"
             "\"2024-03-01\",\"id_number\":\"%s\",\"status\":\"in_care\"}",
             "status"},
        };
        for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            char *b = test_fmt(fmts[i][0], id);
#pragma GCC diagnostic pop
            r = post(doctor, pid, "diagnosis", b);
            http_assert_problem(r, 400, fmts[i][1]);
            http_free(r);
            free(b);
        }
    }
    /* The ID number of somebody already registered: 409 pointing there. */
    {
        char taken[19], *b, *other_path;
        long long other;
        char *on = test_fmt("确诊%s他", cn_unique);
        test_new_id(taken, -1, SUITE_SALT);
        other = create_patient(on, taken, g02, DIAG);
        other_path = ppath(other);
        b = test_fmt("{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"市精卫中心\","
                "\"diagnosis_date\":\"2024-03-01\",\"id_number\":\"%s\"}",
                taken);
        r = post(doctor, pid, "diagnosis", b);
        http_assert_problem(r, 409, "id_number");
        assert_string_equal(http_header(r, "Location"), other_path);
        http_free(r);
        free(b);
        free(other_path);
        free(on);
    }
    good = test_fmt("{\"diagnosis\":\"schizophrenia\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
               "\"diagnosis_date\":\"2024-03-01\",\"onset_date\":\"2023-11-01\",\"id_number\":"
               "\"%s\"}",
               id);
    /* A grid worker does not diagnose or rule out; another township's
     * doctor does not see the record. */
    r = post(grid1, pid, "diagnosis", good);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(grid1, pid, "rule-out", "{\"reason\":\"无异常\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(yl_doctor, pid, "diagnosis", good);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_state(pid, "suspected", 1);
    assert_int_equal(events_of(pid), 1);

    r = post(doctor, pid, "diagnosis", good);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "registered");
    assert_string_equal(test_jstr(r->json, "diagnosis"), "schizophrenia");
    assert_string_equal(test_jstr(r->json, "diagnosis_date"), "2024-03-01");
    assert_string_equal(test_jstr(r->json, "onset_date"), "2023-11-01");
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    assert_string_equal(test_jstr(r->json, "gender"), "male");
    assert_string_equal(http_header(r, "ETag"), "\"2\"");
    http_free(r);
    assert_state(pid, "registered", 2);

    /* The timeline: reported, then diagnosed. */
    {
        char *ep = test_fmt("%s/events", path);
        json_t *items, *e0, *e1;
        r = http_do("GET", ep, doctor, NULL, NULL);
        assert_int_equal(r->status, 200);
        items = json_object_get(r->json, "items");
        assert_int_equal(json_array_size(items), 2);
        e0 = json_array_get(items, 0);
        e1 = json_array_get(items, 1);
        assert_string_equal(test_jstr(e0, "kind"), "reported");
        assert_string_equal(test_jstr(e0, "to_status"), "suspected");
        assert_string_equal(test_jstr(e1, "kind"), "diagnosed");
        assert_string_equal(test_jstr(e1, "from_status"), "suspected");
        assert_string_equal(test_jstr(e1, "to_status"), "registered");
        assert_string_equal(test_jstr(e1, "event_date"), "2024-03-01");
        assert_string_equal(test_jstr(json_object_get(e1, "detail"), "diagnosis"), "schizophrenia");
        assert_true(test_jint(e0, "id") < test_jint(e1, "id"));
        http_free(r);
        free(ep);
    }
    /* Diagnosing again: 409, nothing changes. */
    r = post(doctor, pid, "diagnosis", good);
    http_assert_problem(r, 409, NULL);
    http_free(r);
    r = post(doctor, pid, "rule-out", "{\"reason\":\"无异常\"}");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    assert_state(pid, "registered", 2);
    assert_int_equal(events_of(pid), 2);
    free(good);
    free(path);
    free(name);
}

static void ruled_out_person_cannot_be_diagnosed(void **state)
{
    char *name = test_fmt("排除%s戊", cn_unique), id[19], *good;
    long long pid = report(name, "");
    http_res *r;

    test_new_id(id, 0, SUITE_SALT);
    r = post(doctor, pid, "rule-out", "{\"date\":\"2024-03-02\"}");
    http_assert_problem(r, 400, "reason");
    http_free(r);
    r = post(doctor, pid, "rule-out", "{\"reason\":\"经诊断无精神障碍\",\"date\":\"2099-01-01\"}");
    http_assert_problem(r, 400, "date");
    http_free(r);
    assert_state(pid, "suspected", 1);
    r = post(doctor, pid, "rule-out", "{\"reason\":\"经诊断无精神障碍\",\"date\":\"2024-03-02\"}");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "ruled_out");
    http_free(r);
    assert_state(pid, "ruled_out", 2);
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'ruled_out' AND from_status = 'suspected' AND"
                                  " to_status = 'ruled_out' AND event_date = '2024-03-02' AND"
                                  " reason = '经诊断无精神障碍'",
                                  1, p),
                         1);
    }
    good = test_fmt("{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
               "\"diagnosis_date\":\"2024-03-05\",\"id_number\":\"%s\"}",
               id);
    r = post(doctor, pid, "diagnosis", good);
    http_assert_problem(r, 409, NULL);
    http_free(r);
    r = post(doctor, pid, "rule-out", "{\"reason\":\"再次排除\"}");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    r = post(doctor, pid, "status", "{\"status\":\"in_care\",\"date\":\"2024-03-06\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
    assert_state(pid, "ruled_out", 2);
    free(good);
    free(name);
}

/* ---- status changes ------------------------------------------------------- */

/* [R-PAT-2] */
static void status_changes_are_dated_events(void **state)
{
    char *name = test_fmt("状态%s己", cn_unique), id[19], *path, *ep;
    long long pid;
    http_res *r;
    int failures = 0;

    long long doctor_id = db_count("SELECT id FROM users WHERE username = 'tf.doctor'", 0, NULL);

    test_new_id(id, -1, SUITE_SALT);
    pid = create_patient(name, id, g01, DIAG);
    path = ppath(pid);

    /* registered → in care → lost → found again. (Hospital stays are
     * admissions, not status changes: see the refused list below.) */
    const char *steps[][3] = {
        {"in_care", "2024-04-01", ""},
        {"lost", "2024-05-01", ",\"reason\":\"外出后去向不明\""},
        {"in_care", "2024-06-01", ""},
    };
    for (int i = 0; i < 3; i++) {
        char *b =
            test_fmt("{\"status\":\"%s\",\"date\":\"%s\"%s}", steps[i][0], steps[i][1], steps[i][2]);
        r = post(doctor, pid, "status", b);
        free(b);
        if (i == 2) {
            /* Found again only in person or by the police (R-LOST-1, R-LOST-4). */
            http_assert_problem(r, 409, "status");
            http_free(r);
            r = post(police, pid, "whereabouts-confirmed",
                     "{\"confirmed_on\":\"2024-06-01\",\"place\":\"梅苑社区家中\"}");
            assert_int_equal(r->status, 200);
            assert_string_equal(test_jstr(r->json, "status"), "in_care");
            http_free(r);
            continue;
        }
        assert_int_equal(r->status, 200);
        assert_string_equal(test_jstr(r->json, "status"), steps[i][0]);
        assert_int_equal(test_jint(r->json, "version"), i + 2);
        http_free(r);
    }
    assert_state(pid, "in_care", 4);

    /* Bad changes: 400 naming the field; the status stays. */
    static const char *const bad[][2] = {
        {"{\"status\":\"deceased\",\"date\":\"2024-07-01\"}", "death_cause"},
        {"{\"status\":\"deceased\",\"date\":\"2024-07-01\",\"death_cause\":\"boredom\"}",
         "death_cause"},
        {"{\"status\":\"deceased\",\"date\":\"2024-07-01\",\"death_cause\":\"\"}", "death_cause"},
        {"{\"status\":\"hospitalised\",\"date\":\"2024-07-01\",\"death_cause\":\"illness\"}",
         "death_cause"},
        {"{\"status\":\"hospitalised\"}", "date"},
        {"{\"status\":\"hospitalised\",\"date\":\"2099-01-01\"}", "date"},
        {"{\"status\":\"hospitalised\",\"date\":\"2024-02-30\"}", "date"},
        {"{\"status\":\"hospitalised\",\"date\":\"01/07/2024\"}", "date"},
        {"{\"status\":\"deregistered\",\"date\":\"2024-07-01\"}", "reason"},
        {"{\"status\":\"deregistered\",\"date\":\"2024-07-01\",\"reason\":\"\"}", "reason"},
        {"{\"status\":\"asleep\",\"date\":\"2024-07-01\"}", "status"},
        {"{\"date\":\"2024-07-01\"}", "status"},
        {"{\"status\":\"hospitalised\",\"date\":\"2024-07-01\",\"note\":\"x\"}", "note"},
        /* Explicit nulls are no better than absent values. */
        {"{\"status\":\"deceased\",\"date\":\"2024-07-01\",\"death_cause\":null}", "death_cause"},
        {"{\"status\":\"deregistered\",\"date\":\"2024-07-01\",\"reason\":null}", "reason"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = post(doctor, pid, "status", bad[i][0]);
        if (r->status != 400) {
            print_error("%s: expected 400 naming %s, got %ld: %s\n", bad[i][0], bad[i][1],
                        r->status, r->body);
            failures++;
        } else {
            http_assert_problem(r, 400, bad[i][1]);
        }
        http_free(r);
    }
    assert_state(pid, "in_care", 4);
    /* Transitions the table refuses: 409 naming status. */
    static const char *const refused[] = {
        "{\"status\":\"in_care\",\"date\":\"2024-07-01\"}", /* already */
        "{\"status\":\"registered\",\"date\":\"2024-07-01\"}",
        "{\"status\":\"hospitalised\",\"date\":\"2024-07-01\"}", /* admissions do that */
        "{\"status\":\"suspected\",\"date\":\"2024-07-01\"}",
        "{\"status\":\"ruled_out\",\"date\":\"2024-07-01\"}",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        r = post(doctor, pid, "status", refused[i]);
        http_assert_problem(r, 409, "status");
        http_free(r);
    }
    /* Roles and areas. */
    r = post(police, pid, "status", "{\"status\":\"lost\",\"date\":\"2024-07-01\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(grid1, pid, "status", "{\"status\":\"lost\",\"date\":\"2024-07-01\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(yl_doctor, pid, "status", "{\"status\":\"lost\",\"date\":\"2024-07-01\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_state(pid, "in_care", 4);
    assert_int_equal(events_of(pid), 4);

    /* Death, with its date and cause: the record is closed. */
    r = post(doctor, pid, "status",
             "{\"status\":\"deceased\",\"date\":\"2024-07-01\",\"death_cause\":\"suicide\"}");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "deceased");
    http_free(r);
    static const char *const after[] = {
        "{\"status\":\"in_care\",\"date\":\"2024-07-02\"}",
        "{\"status\":\"deregistered\",\"date\":\"2024-07-02\",\"reason\":\"死亡销案\"}",
        "{\"status\":\"deceased\",\"date\":\"2024-07-02\",\"death_cause\":\"illness\"}",
    };
    for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
        const char *detail;
        r = post(doctor, pid, "status", after[i]);
        http_assert_problem(r, 409, "status");
        detail = test_jstr(r->json, "detail");
        assert_non_null(detail);
        if (i < 2) /* the reason names the closed record */
            assert_non_null(strstr(detail, "deceased"));
        else
            assert_true(strlen(detail) > 0);
        http_free(r);
    }
    r = http_do("PATCH", path, doctor, "{\"phone\":\"13700000000\"}", "If-Match: \"5\"");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    assert_state(pid, "deceased", 5);

    /* Every change is on the timeline, in order, with its date. */
    ep = test_fmt("%s/events", path);
    r = http_do("GET", ep, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    {
        json_t *items = json_object_get(r->json, "items");
        const char *want[][6] = {
            /* kind, date, from, to, cause, reason */
            {"created", "2020-01-15", NULL, "registered", NULL, NULL},
            {"status", "2024-04-01", "registered", "in_care", NULL, NULL},
            {"status", "2024-05-01", "in_care", "lost", NULL, "外出后去向不明"},
            {"status", "2024-06-01", "lost", "in_care", NULL,
             "whereabouts confirmed by the police: 梅苑社区家中"},
            {"status", "2024-07-01", "in_care", "deceased", "suicide", NULL},
        };
        long long last = 0;
        assert_int_equal(json_array_size(items), 5);
        for (size_t i = 0; i < 5; i++) {
            json_t *e = json_array_get(items, i);
            assert_string_equal(test_jstr(e, "kind"), want[i][0]);
            assert_string_equal(test_jstr(e, "event_date"), want[i][1]);
            if (want[i][2])
                assert_string_equal(test_jstr(e, "from_status"), want[i][2]);
            else
                assert_true(json_is_null(json_object_get(e, "from_status")));
            assert_string_equal(test_jstr(e, "to_status"), want[i][3]);
            if (want[i][4])
                assert_string_equal(test_jstr(e, "death_cause"), want[i][4]);
            else
                assert_true(json_is_null(json_object_get(e, "death_cause")));
            if (want[i][5])
                assert_string_equal(test_jstr(e, "reason"), want[i][5]);
            else
                assert_true(json_is_null(json_object_get(e, "reason")));
            assert_true(test_jint(e, "id") > last);
            last = test_jint(e, "id");
            if (i != 3) /* the police found the patient */
                assert_int_equal(test_jint(e, "user_id"), doctor_id);
        }
    }
    http_free(r);
    free(ep);
    free(path);
    free(name);
    if (failures)
        fail_msg("%d bad status changes were not answered with 400", failures);
}

static void deregistration_keeps_its_reason(void **state)
{
    char *name = test_fmt("销案%s庚", cn_unique), id[19], idtxt[32];
    long long pid;
    http_res *r;

    test_new_id(id, -1, SUITE_SALT);
    pid = create_patient(name, id, g02, DIAG);
    r = post(
        doctor, pid, "status",
        "{\"status\":\"deregistered\",\"date\":\"2024-08-01\",\"reason\":\"迁往外省，已核实\"}");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "deregistered");
    http_free(r);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    {
        const char *p[] = {idtxt};
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'status' AND to_status = 'deregistered' AND"
                                  " from_status = 'registered' AND reason = '迁往外省，已核实'"
                                  " AND event_date = '2024-08-01'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'patient.status' AND target_id = $1"
                                  " AND detail->>'to' = 'deregistered'",
                                  1, p),
                         1);
    }
    r = post(doctor, pid, "status", "{\"status\":\"in_care\",\"date\":\"2024-08-02\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
    assert_state(pid, "deregistered", 2);
    free(name);
}

/* [R-PAT-2] */
static void suspected_person_changes_status_only_by_diagnosis(void **state)
{
    char *name = test_fmt("疑似%s辛", cn_unique);
    long long pid = report(name, "");
    http_res *r;

    r = post(doctor, pid, "status", "{\"status\":\"in_care\",\"date\":\"2024-03-01\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
    r = post(doctor, pid, "status", "{\"status\":\"registered\",\"date\":\"2024-03-01\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
    assert_state(pid, "suspected", 1);
    assert_int_equal(events_of(pid), 1);
    free(name);
}

/* ---- the timeline per role ---------------------------------------------- */

/* A transition sent twice with one key (a lost answer) is made once: the
 * retry replays the first answer although the record is no longer in the
 * state the transition left from; the key with another body is refused. */
static void keyed_transition(long long pid, const char *what, const char *body,
                             const char *other, const char *after)
{
    char *key = test_fmt("%s-%s", what, test_unique());
    http_res *first = test_post_keyed(doctor, pid, what, key, body, NULL), *again, *r;
    long events;

    if (first->status != 200)
        fail_msg("POST %s: %ld %s", what, first->status, first->body);
    events = events_of(pid);
    again = test_post_keyed(doctor, pid, what, key, body, NULL);
    assert_int_equal(again->status, 200);
    assert_string_equal(http_header(again, "Idempotent-Replayed"), "true");
    assert_string_equal(again->body, first->body);
    r = test_post_keyed(doctor, pid, what, key, other, NULL);
    http_assert_problem(r, 422, "Idempotency-Key");
    http_free(r);
    assert_int_equal(events_of(pid), events);
    assert_string_equal(test_jstr(first->json, "status"), after);
    http_free(first);
    http_free(again);
    free(key);
}

static void transitions_retry_with_an_idempotency_key(void **state)
{
    char *n1 = test_fmt("重诊%s甲", cn_unique), *n2 = test_fmt("重排%s乙", cn_unique);
    char *n3 = test_fmt("重状%s丙", cn_unique), id[19], id3[19];
    long long diagnosed = report(n1, ""), ruled = report(n2, ""), p3;
    char *diag;

    (void)state;
    test_new_id(id, 1, SUITE_SALT);
    diag = test_fmt("{\"diagnosis\":\"schizophrenia\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                    "\"diagnosis_date\":\"2024-03-01\",\"id_number\":\"%s\"}",
                    id);
    keyed_transition(diagnosed, "diagnosis", diag,
                     "{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                     "\"diagnosis_date\":\"2024-03-01\"}",
                     "registered");
    keyed_transition(ruled, "rule-out", "{\"reason\":\"经诊断无精神障碍\"}",
                     "{\"reason\":\"另一理由\"}", "ruled_out");
    test_new_id(id3, -1, SUITE_SALT);
    p3 = create_patient(n3, id3, g01, DIAG);
    keyed_transition(p3, "status", "{\"status\":\"in_care\",\"date\":\"2024-04-01\"}",
                     "{\"status\":\"in_care\",\"date\":\"2024-04-02\"}", "in_care");
    free(diag);
    free(n1);
    free(n2);
    free(n3);
}

static void events_by_role(void **state)
{
    char *name = test_fmt("时间线%s壬", cn_unique), id[19], *good, *ep;
    long long pid = report(name, "");
    http_res *r;
    json_t *items, *e;
    size_t i;

    test_new_id(id, -1, SUITE_SALT);
    good = test_fmt("{\"diagnosis\":\"bipolar\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
               "\"diagnosis_date\":\"2024-03-01\",\"id_number\":\"%s\"}",
               id);
    r = post(doctor, pid, "diagnosis", good);
    assert_int_equal(r->status, 200);
    http_free(r);
    ep = test_fmt("/api/v1/patients/%lld/events", pid);

    /* Police see the dated steps but no clinical detail. */
    r = http_do("GET", ep, police, NULL, NULL);
    assert_int_equal(r->status, 200);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 2);
    json_array_foreach(items, i, e)
    {
        assert_non_null(test_jstr(e, "kind"));
        assert_non_null(test_jstr(e, "event_date"));
        assert_true(json_object_get(e, "detail") == NULL ||
                    json_is_null(json_object_get(e, "detail")));
    }
    assert_null(strstr(r->body, "bipolar"));
    http_free(r);
    /* The doctor sees the detail. */
    r = http_do("GET", ep, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "bipolar"));
    http_free(r);
    /* Outside the area: 404. */
    r = http_do("GET", ep, yl_doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", ep, grid2, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/patients/abc/events", doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(ep);
    free(good);
    free(name);
}

/* What the reporter saw (report_note) is clinical: a role without the
 * clinical view must not read it through the timeline either. */
static void events_hide_the_report_note_without_clinical_view(void **state)
{
    char *name = test_fmt("报告%s癸", cn_unique), *ep;
    long long pid = report(name, "");
    const char *tokens[] = {police, civil, grid1};
    const char *who[] = {"police", "civil affairs", "grid worker"};
    int failures = 0;

    ep = test_fmt("/api/v1/patients/%lld/events", pid);
    for (size_t i = 0; i < 3; i++) {
        http_res *r = http_do("GET", ep, tokens[i], NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
        if (strstr(r->body, "夜间喊叫") != NULL) {
            print_error("%s reads the report note in the events: %s\n", who[i], r->body);
            failures++;
        }
        http_free(r);
    }
    /* The patient document hides it from the same roles. */
    {
        char *path = ppath(pid);
        http_res *r = http_do("GET", path, police, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_null(strstr(r->body, "夜间喊叫"));
        http_free(r);
        free(path);
    }
    free(ep);
    free(name);
    if (failures)
        fail_msg("the report note leaks through /events to %d role(s)", failures);
}

/* ---- the audit trail -------------------------------------------------------- */

static void audit_trail_for_admins(void **state)
{
    char *name = test_fmt("审计%s子", cn_unique), id[19], *path, *ap, *lq, idtxt[32];
    long long pid, last = 0;
    char last_at[64] = "";
    long want, seen = 0;
    http_res *r;
    int saw_create = 0, saw_read = 0, saw_status = 0, saw_list = 0;

    test_new_id(id, -1, SUITE_SALT);
    pid = create_patient(name, id, g01, DIAG);
    path = ppath(pid);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    for (int i = 0; i < 3; i++) {
        r = http_do("GET", path, doctor, NULL, NULL);
        assert_int_equal(r->status, 200);
        http_free(r);
    }
    r = http_do("GET", path, police, NULL, NULL);
    http_free(r);
    r = post(doctor, pid, "status", "{\"status\":\"in_care\",\"date\":\"2024-04-01\"}");
    assert_int_equal(r->status, 200);
    http_free(r);
    lq = test_fmt("/api/v1/patients?id_number=%s", id);
    r = http_do("GET", lq, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    http_free(r);
    r = http_do("GET", path, yl_doctor, NULL, NULL); /* a denied read is on the record too */
    http_free(r);
    test_audit_settle();
    {
        const char *p[] = {idtxt};
        want = db_count("SELECT count(*) FROM audit_log WHERE target_type = 'patient' AND"
                        " (target_id = $1 OR (action = 'patient.list' AND"
                        " detail->'ids' @> to_jsonb($1::bigint)))",
                        1, p);
    }
    assert_true(want >= 7);

    /* Walk the pages, newest first. */
    ap = test_fmt("%s/audit?limit=2", path);
    for (;;) {
        json_t *items, *it;
        const char *next;
        size_t i;

        r = http_do("GET", ap, tf_admin, NULL, NULL);
        if (r->status != 200)
            fail_msg("GET %s: %ld %s", ap, r->status, r->body);
        items = json_object_get(r->json, "items");
        assert_true(json_array_size(items) <= 2);
        json_array_foreach(items, i, it)
        {
            const char *act = test_jstr(it, "action");
            long long aid = test_jint(it, "id");
            const char *at = test_jstr(it, "at");
            assert_non_null(act);
            assert_non_null(test_jstr(it, "at"));
            assert_non_null(test_jstr(it, "username"));
            /* Newest first by the time of the act (a batched read record
             * may be written after a later change), then by id. */
            if (last != 0 && (strcmp(at, last_at) > 0 || (strcmp(at, last_at) == 0 && aid >= last)))
                fail_msg("audit rows not newest first: %lld at %s after %lld at %s", aid, at, last,
                         last_at);
            last = aid;
            snprintf(last_at, sizeof(last_at), "%s", at);
            saw_create += strcmp(act, "patient.create") == 0;
            saw_read += strcmp(act, "patient.read") == 0;
            saw_status += strcmp(act, "patient.status") == 0;
            saw_list += strcmp(act, "patient.list") == 0;
            if (strcmp(act, "patient.status") == 0)
                assert_string_equal(test_jstr(it, "username"), "tf.doctor");
            seen++;
        }
        next = test_jstr(r->json, "next_cursor");
        free(ap);
        if (next == NULL) {
            http_free(r);
            break;
        }
        ap = test_fmt("%s/audit?limit=2&cursor=%s", path, next);
        http_free(r);
    }
    assert_int_equal(seen, want);
    assert_int_equal(saw_create, 1);
    assert_int_equal(saw_read, 4);
    assert_int_equal(saw_status, 1);
    assert_int_equal(saw_list, 1);
    /* The newest row is the denied read. */
    ap = test_fmt("%s/audit?limit=1", path);
    r = http_do("GET", ap, tf_admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "items"), 0), "action"),
                        "patient.read_denied");
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "items"), 0), "username"),
                        "yl.doctor");
    http_free(r);
    free(ap);

    /* Only admins read it, and only in their area. */
    ap = test_fmt("%s/audit", path);
    r = http_do("GET", ap, doctor, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("GET", ap, official, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("GET", ap, yl_admin, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(ap);
    /* Bad page parameters. */
    {
        const char *bad[][2] = {
            {"limit=0", "limit"}, {"limit=x", "limit"}, {"cursor=!!!", "cursor"}};
        for (size_t i = 0; i < 3; i++) {
            ap = test_fmt("%s/audit?%s", path, bad[i][0]);
            r = http_do("GET", ap, tf_admin, NULL, NULL);
            http_assert_problem(r, 400, bad[i][1]);
            http_free(r);
            free(ap);
        }
    }
    free(lq);
    free(path);
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grid_worker_reports_a_suspected_person),
        cmocka_unit_test(bad_reports_write_nothing),
        cmocka_unit_test(report_retry_is_idempotent),
        cmocka_unit_test(doctor_diagnoses_a_suspected_person),
        cmocka_unit_test(ruled_out_person_cannot_be_diagnosed),
        cmocka_unit_test(status_changes_are_dated_events),
        cmocka_unit_test(deregistration_keeps_its_reason),
        cmocka_unit_test(suspected_person_changes_status_only_by_diagnosis),
        cmocka_unit_test(transitions_retry_with_an_idempotency_key),
        cmocka_unit_test(events_by_role),
        cmocka_unit_test(events_hide_the_report_note_without_clinical_view),
        cmocka_unit_test(audit_trail_for_admins),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
