/* HTTP suite: every change to a patient makes one new version — the
 * patient's own fields, and every record kept about the patient (visits,
 * assessments, guardians, care team, medication, admissions, incidents,
 * health checks, status, assistance, transfers) — so that the ETag read
 * before the change answers 412, and updated_at is the time of the change.
 * One version per write however many rows it touches; none for a write
 * that is refused or changes nothing. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 19 /* keeps this suite's ID numbers apart from the others' */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *civil, *police, *grid1, *g01, *g02;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

/* ---- helpers ---------------------------------------------------------- */

static long long create_patient(const char *tag)
{
    return test_patient(doctor, "2026-03-01", "版本", tag, g01, SUITE_SALT, DIAG, NULL);
}

/* The version in the ETag of GET /patients/{pid}, checked against the
 * document's "version". */
static long long version_of(long long pid)
{
    char *path = test_fmt("/api/v1/patients/%lld", pid), want[32];
    http_res *r = http_do("GET", path, doctor, NULL, NULL);
    long long v;

    assert_int_equal(r->status, 200);
    v = test_jint(r->json, "version");
    snprintf(want, sizeof(want), "\"%lld\"", v);
    assert_string_equal(http_header(r, "ETag"), want);
    http_free(r);
    free(path);
    return v;
}

/* PATCH /patients/{pid} with If-Match: "version". */
static http_res *patch(long long pid, long long version, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld", pid);
    char *hdr = test_fmt("If-Match: \"%lld\"", version);
    http_res *r = http_do("PATCH", path, doctor, body, hdr);

    free(hdr);
    free(path);
    return r;
}

/* The write r (answered with status expect) made exactly one new version
 * of patient pid, dated by the write's own transaction (its audit row);
 * the ETag read before it is stale now. *v: the version before, updated. */
static void one_new_version(const char *what, http_res *r, long expect, long long pid, long long *v)
{
    char *rid, *id = test_fmt("%lld", pid);
    long long now;
    http_res *stale;

    if (r->status != expect)
        fail_msg("%s: expected %ld, got %ld %s", what, expect, r->status, r->body);
    rid = strdup(http_header(r, "X-Request-Id"));
    now = version_of(pid);
    if (now != *v + 1)
        fail_msg("%s: version %lld before, %lld after (want one new version)", what, *v, now);
    {
        const char *p[] = {id, rid};
        if (db_count("SELECT count(*) FROM patients p WHERE p.id = $1::bigint AND p.updated_at IN"
                     " (SELECT a.at FROM audit_log a WHERE a.request_id = $2)",
                     2, p) != 1)
            fail_msg("%s: updated_at is not the time of the write", what);
    }
    stale = patch(pid, *v, "{\"address\":\"旧版本\"}");
    if (stale->status != 412)
        fail_msg("%s: If-Match with the old ETag: expected 412, got %ld %s", what, stale->status,
                 stale->body);
    http_assert_problem(stale, 412, "If-Match");
    http_free(stale);
    http_free(r);
    free(rid);
    free(id);
    *v = now;
}

/* POST /api/v1/patients/{pid}/what as token on date. */
static http_res *post(const char *token, long long pid, const char *what, const char *body,
                      const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/%s", pid, what);
    http_res *r = test_call(date, "POST", path, token, body);

    free(path);
    return r;
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    civil = http_login("tf.civil", NULL);
    police = http_login("tf.police", NULL);
    grid1 = http_login("tf.grid1", NULL);
    g01 = test_unit_id("429005003001G01");
    g02 = test_unit_id("429005003001G02");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &civil, &police, &grid1, &g01, &g02};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- every kind of change ------------------------------------------------- */

/* The writes after a first visit, in order, each as the doctor (or, by
 * `as`, civil affairs, the police, the grid worker) on its date, to /patients/{pid}/path, or, when of is a step's
 * index, to /patients/{pid}/path/{the id that step answered}tail. */
static const struct {
    const char *what;
    const char *method;
    const char *path;
    int of;
    const char *tail;
    const char *body, *date, *if_match;
    int as; /* 0 the doctor, 1 civil affairs, 2 the police, 3 the grid worker */
    long status;
} steps[] = {
    {"assessment", "POST", "risk-assessments", -1, NULL,
     "{\"assessed_on\":\"2026-03-06\",\"level\":1,\"tier\":\"community\"}", "2026-03-06", NULL, 0,
     201},
    {"guardian added", "POST", "guardians", -1, NULL,
     "{\"kind\":\"primary\",\"name\":\"版本父\",\"relation\":\"parent\","
     "\"phone\":\"13900001111\",\"capacity\":\"adequate\"}",
     "2026-03-06", NULL, 0, 201},
    /* A guardian's field that the patient's document does not show. */
    {"guardian changed", "PATCH", "guardians", 1, "", "{\"address\":\"梅苑路9号\"}", "2026-03-06",
     "If-Match: \"1\"", 0, 200},
    {"care team member", "PUT", "care-team/village_cadre", -1, NULL,
     "{\"name\":\"李梅\",\"phone\":\"13911112222\"}", "2026-03-07", NULL, 0, 200},
    {"care team member ended", "POST", "care-team/village_cadre/end", -1, NULL, NULL, "2026-03-07",
     NULL, 0, 200},
    {"prescription", "POST", "prescriptions", -1, NULL,
     "{\"drug\":\"利培酮\",\"started_on\":\"2026-03-07\"}", "2026-03-07", NULL, 0, 201},
    {"pick-up", "POST", "pickups", -1, NULL, "{\"picked_on\":\"2026-03-08\",\"days_supplied\":30}",
     "2026-03-08", NULL, 0, 201},
    {"health check", "POST", "health-checks", -1, NULL, "{\"checked_on\":\"2026-03-09\"}",
     "2026-03-09", NULL, 0, 201},
    {"incident", "POST", "incidents", -1, NULL,
     "{\"occurred_on\":\"2026-03-10\",\"place\":\"村口\",\"kind\":\"mild_trouble\","
     "\"injured\":0,\"dead\":0}",
     "2026-03-10", NULL, 0, 201},
    {"prescription ended", "POST", "prescriptions", 5, "/end", "{\"ended_on\":\"2026-03-20\"}",
     "2026-03-20", NULL, 0, 200},
    {"admission", "POST", "admissions", -1, NULL,
     "{\"admitted_on\":\"2026-03-21\",\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":false}",
     "2026-03-21", NULL, 0, 201},
    {"discharge", "POST", "admissions", 10, "/discharge", "{\"discharged_on\":\"2026-03-25\"}",
     "2026-03-25", NULL, 0, 200},
    {"whereabouts unknown", "POST", "whereabouts-unknown", -1, NULL,
     "{\"reported_on\":\"2026-03-26\"}", "2026-03-26", NULL, 0, 200},
    {"whereabouts confirmed", "POST", "whereabouts-confirmed", -1, NULL,
     "{\"confirmed_on\":\"2026-03-27\",\"place\":\"村口\"}", "2026-03-27", NULL, 2, 200},
    {"home check", "POST", "home-checks", -1, NULL,
     "{\"checked_on\":\"2026-03-27\",\"seen\":true,\"whereabouts\":\"at_home\","
     "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":true}",
     "2026-03-27", NULL, 3, 201},
    {"absence", "POST", "absences", -1, NULL,
     "{\"kind\":\"work\",\"destination\":\"东莞\",\"left_on\":\"2026-03-27\"}",
     "2026-03-27", NULL, 3, 201},
    {"assistance application", "POST", "assistance", -1, NULL,
     "{\"kind\":\"dibao\",\"applied_on\":\"2026-03-27\"}", "2026-03-27", NULL, 1, 201},
};

static void every_change_is_a_new_version(void **state)
{
    const size_t n = sizeof(steps) / sizeof(steps[0]);
    long long pid = create_patient("甲"), v = version_of(pid),
              ids[sizeof(steps) / sizeof(steps[0])];
    char *body;

    (void)state;
    assert_int_equal(v, 1); /* what the registration wrote is all version 1 */
    body = test_fmt(TEST_STABLE_VISIT, "2026-03-05");
    one_new_version("visit", post(doctor, pid, "follow-ups", body, "2026-03-05"), 201, pid, &v);
    free(body);
    for (size_t i = 0; i < n; i++) {
        char *path = steps[i].of >= 0 ? test_fmt("/api/v1/patients/%lld/%s/%lld%s", pid,
                                                 steps[i].path, ids[steps[i].of], steps[i].tail)
                                      : test_fmt("/api/v1/patients/%lld/%s", pid, steps[i].path);
        const char *as[] = {doctor, civil, police, grid1};
        http_res *r = test_call_h(steps[i].date, steps[i].method, path, as[steps[i].as],
                                  steps[i].body, steps[i].if_match);

        ids[i] = r->json ? test_jint(r->json, "id") : 0;
        one_new_version(steps[i].what, r, steps[i].status, pid, &v);
        free(path);
    }
    one_new_version("field", patch(pid, v, "{\"address\":\"梅苑路10号\"}"), 200, pid, &v);
    body = test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"2026-03-28\",\"reason\":\"搬家\"}", g02);
    one_new_version("transfer", post(doctor, pid, "transfers", body, "2026-03-28"), 201, pid, &v);
    free(body);
}

/* A refused write, a read and a write that changes nothing make no
 * version. */
static void no_change_no_version(void **state)
{
    long long pid = create_patient("乙"), v = version_of(pid);
    char *s = test_fmt("%lld", pid);
    http_res *r;

    (void)state;
    r = post(doctor, pid, "follow-ups", "{\"visit_date\":\"2026-03-05\"}", "2026-03-05");
    http_assert_problem(r, 400, "mode");
    http_free(r);
    r = post(doctor, pid, "incidents", "{\"occurred_on\":\"2026-03-10\",\"place\":\"村口\"}",
             "2026-03-10");
    assert_int_equal(r->status, 400);
    http_free(r);
    r = patch(pid, v + 1, "{\"address\":\"不存在的版本\"}");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);
    assert_int_equal(version_of(pid), v);
    {
        const char *p[] = {s};
        char *q = test_fmt("UPDATE patients SET name = name, status = status WHERE id = %s", s);
        assert_true(db_try(q));
        free(q);
        assert_int_equal(db_count("SELECT version FROM patients WHERE id = $1::bigint", 1, p), v);
    }
    free(s);
}

/* Written straight into the database (an import, the worker): one
 * statement over many rows is one version per patient, and one
 * transaction of several statements is one version, including the
 * writer's own "version = version + 1". */
static void one_version_per_transaction(void **state)
{
    long long a = create_patient("丙"), b = create_patient("丁");
    char *sa = test_fmt("%lld", a), *sb = test_fmt("%lld", b), *q;
    const char *pa[] = {sa}, *pb[] = {sb};
    long va = version_of(a), vb = version_of(b);

    (void)state;
    q = test_fmt("INSERT INTO health_checks (patient_id, checked_on) VALUES"
                 " (%s, '2026-03-09'), (%s, '2026-03-10'), (%s, '2026-03-11')",
                 sa, sa, sb);
    assert_true(db_try(q));
    free(q);
    assert_int_equal(db_count("SELECT version FROM patients WHERE id = $1::bigint", 1, pa), va + 1);
    assert_int_equal(db_count("SELECT version FROM patients WHERE id = $1::bigint", 1, pb), vb + 1);

    /* One transaction (one simple query): a record, the writer's own
     * bump, an unrelated field, another record. */
    q = test_fmt("INSERT INTO health_checks (patient_id, checked_on) VALUES (%s, '2026-03-12');"
                 " UPDATE patients SET version = version + 1, updated_at = now() WHERE id = %s;"
                 " UPDATE patients SET address = '梅苑路11号' WHERE id = %s;"
                 " INSERT INTO patient_events (patient_id, kind, event_date) VALUES (%s, 'updated',"
                 " '2026-03-12')",
                 sa, sa, sa, sa);
    assert_true(db_try(q));
    free(q);
    assert_int_equal(db_count("SELECT version FROM patients WHERE id = $1::bigint", 1, pa), va + 2);
    assert_int_equal(db_count("SELECT version FROM patients WHERE id = $1::bigint", 1, pb), vb + 1);
    assert_int_equal(db_count("SELECT count(*) FROM patients WHERE id = $1::bigint"
                              " AND updated_at = (SELECT max(created_at) FROM health_checks"
                              " WHERE patient_id = $1::bigint)",
                              1, pa),
                     1);
    free(sa);
    free(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_change_is_a_new_version),
        cmocka_unit_test(no_change_no_version),
        cmocka_unit_test(one_version_per_transaction),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
