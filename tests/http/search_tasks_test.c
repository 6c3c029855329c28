/* HTTP suite: search tasks (查找) for lost patients — opened in the same
 * write that makes the patient lost (whereabouts unknown, three misses),
 * assigned to the police station and the 平安办 of the area, dated notes
 * read by both and by the township office, clinic and grid, closed as
 * found only on the evidence docs/domain.md asks for (seen in person, or the
 * police confirming the whereabouts), or by a decision with its reason.
 * Histories are played through time with X-Test-Date. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 23 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *police, *civil, *grid1, *official, *pingan, *yl_doctor, *yl_official,
    *tf_admin;
static char *g01;

static long long create_patient(const char *tag)
{
    return test_patient(doctor, NULL, "查找", tag, g01, SUITE_SALT, DIAG, NULL);
}

/* The patient's tasks, newest first (as the doctor). */
static http_res *tasks_of(long long pid, const char *date)
{
    return test_expect(200, date, "GET", doctor,
                       test_fmt("/api/v1/patients/%lld/search-tasks", pid), NULL);
}

/* The id of the patient's newest task, which must be in state. */
static long long task_of(long long pid, const char *date, const char *state)
{
    http_res *r = tasks_of(pid, date);
    json_t *t = json_array_get(json_object_get(r->json, "items"), 0);
    long long id;

    if (t == NULL)
        fail_msg("no search task for patient %lld: %s", pid, r->body);
    assert_string_equal(test_jstr(t, "state"), state);
    id = test_jint(t, "id");
    http_free(r);
    return id;
}

static void lose(long long pid, const char *date)
{
    char *body = test_fmt("{\"reported_on\":\"%s\"}", date);

    http_free(test_expect(200, date, "POST", grid1,
                          test_fmt("/api/v1/patients/%lld/whereabouts-unknown", pid), body));
    free(body);
}

/* Is task id among the pages of GET /search-tasks?query as token? */
static int listed(const char *token, const char *query, long long id)
{
    char *next = NULL;
    int found = 0, pages = 0;

    do {
        char *path = next ? test_fmt("/api/v1/search-tasks?limit=50&%s&cursor=%s", query, next)
                          : test_fmt("/api/v1/search-tasks?limit=50&%s", query);
        http_res *r = http_do("GET", path, token, NULL, NULL);
        json_t *it;
        size_t i;

        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            found |= test_jint(it, "id") == id;
            if (strstr(query, "state=open") && strcmp(test_jstr(it, "state"), "open") != 0)
                fail_msg("closed task %lld in the open list", test_jint(it, "id"));
        }
        free(next);
        next = json_is_string(json_object_get(r->json, "next_cursor"))
                   ? strdup(test_jstr(r->json, "next_cursor"))
                   : NULL;
        http_free(r);
        free(path);
    } while (next != NULL && ++pages < 200);
    free(next);
    return found;
}

static int setup(void **state)
{
    char *hash;
    const char *p[] = {NULL};

    (void)state;
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    grid1 = http_login("tf.grid1", NULL);
    official = http_login("tf.official", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    tf_admin = http_login("tf.admin", NULL);
    g01 = test_unit_id("429005003001G01");
    /* A user of the 平安办 (综治中心): an official of that agency. */
    hash = db_scalar("INSERT INTO users (username, display_name, role, org_unit_id, agency_id,"
                     " password_hash) SELECT 'tf.pingan', '平安办干事', 'official', a.org_unit_id,"
                     " a.id, u.password_hash FROM agencies a, users u WHERE a.name ="
                     " '泰丰街道综治中心' AND u.username = 'tf.official'"
                     " ON CONFLICT (username) DO NOTHING RETURNING 'x'",
                     0, p);
    free(hash);
    /* An official of the other township. */
    hash = db_scalar("INSERT INTO users (username, display_name, role, org_unit_id, password_hash)"
                     " SELECT 'yl.official', '园林干部', 'official', o.id, u.password_hash"
                     " FROM org_units o, users u WHERE o.code = '429005001'"
                     " AND u.username = 'tf.official' ON CONFLICT (username) DO NOTHING"
                     " RETURNING 'x'",
                     0, p);
    free(hash);
    pingan = http_login("tf.pingan", NULL);
    yl_official = http_login("yl.official", NULL);
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &police,    &civil,    &grid1, &official,
                    &pingan, &yl_doctor, &tf_admin, &g01};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* Whereabouts unknown opens the task at once, assigned to 泰丰派出所 and
 * the 平安办; both add notes; a phone call does not find the patient; the
 * police confirming the whereabouts closes it as found. [R-LOST-3, R-LOST-4] */
static void whereabouts_unknown_opens_and_police_find(void **state)
{
    long long pid = create_patient("甲"), tid;
    http_res *r;
    json_t *t;

    (void)state;
    test_stable_visit(doctor, pid, "2026-02-01");
    assert_int_equal(db_count_id("SELECT count(*) FROM search_tasks WHERE patient_id = $1", pid),
                     0);
    lose(pid, "2026-03-01");
    r = tasks_of(pid, "2026-03-01");
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    t = json_array_get(json_object_get(r->json, "items"), 0);
    assert_string_equal(test_jstr(t, "state"), "open");
    assert_string_equal(test_jstr(t, "opened_on"), "2026-03-01");
    assert_string_equal(test_jstr(t, "opened_reason"), "whereabouts_unknown");
    assert_string_equal(test_jstr(json_object_get(t, "police_agency"), "name"), "泰丰派出所");
    assert_string_equal(test_jstr(json_object_get(t, "stability_agency"), "name"),
                        "泰丰街道综治中心");
    assert_string_equal(test_jstr(t, "patient_status"), "lost");
    tid = test_jint(t, "id");
    http_free(r);

    /* Every reader of the area sees it; civil affairs and other townships do not. */
    assert_true(listed(police, "state=open", tid));
    assert_true(listed(pingan, "state=open", tid));
    assert_true(listed(official, "state=open", tid));
    assert_true(listed(grid1, "state=open", tid));
    assert_true(listed(tf_admin, "state=open", tid));
    assert_false(listed(yl_doctor, "state=open", tid));
    assert_false(listed(police, "state=closed", tid));
    http_free(
        test_expect(200, NULL, "GET", police, test_fmt("/api/v1/search-tasks/%lld", tid), NULL));
    test_refused(403, NULL, NULL, "GET", civil, test_fmt("/api/v1/search-tasks/%lld", tid), NULL);
    test_refused(403, NULL, NULL, "GET", civil, test_fmt("/api/v1/search-tasks"), NULL);
    test_refused(404, NULL, NULL, "GET", yl_doctor, test_fmt("/api/v1/search-tasks/%lld", tid),
                 NULL);
    test_refused(404, NULL, NULL, "GET", police,
                 test_fmt("/api/v1/search-tasks/%lld", tid + 1000000), NULL);
    assert_true(db_count_id("SELECT count(*) FROM audit_log WHERE action = 'search_task.read'"
                            " AND target_id = $1::text",
                            tid) >= 1);

    /* Notes: bad input is 400 naming the field and writes nothing. */
    {
        static const struct {
            const char *body, *field;
        } bad[] = {
            {"{\"text\":\"走访亲属\"}", "noted_on"},
            {"{\"noted_on\":\"2026-03-09\",\"text\":\"走访亲属\"}", "noted_on"}, /* future */
            {"{\"noted_on\":\"2026-02-20\",\"text\":\"走访亲属\"}", "noted_on"}, /* before */
            {"{\"noted_on\":\"2026-03-02\"}", "text"},
            {"{\"noted_on\":\"2026-03-02\",\"text\":\"\"}", "text"},
            {"{\"noted_on\":\"2026-03-02\",\"text\":\"x\",\"who\":1}", "who"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            test_refused(400, bad[i].field, "2026-03-08", "POST", police,
                         test_fmt("/api/v1/search-tasks/%lld/notes", tid), bad[i].body);
        assert_int_equal(
            db_count_id("SELECT count(*) FROM search_task_notes WHERE task_id = $1", tid), 0);
    }
    test_refused(403, NULL, "2026-03-02", "POST", civil,
                 test_fmt("/api/v1/search-tasks/%lld/notes", tid),
                 "{\"noted_on\":\"2026-03-02\",\"text\":\"x\"}");
    test_refused(404, NULL, "2026-03-02", "POST", yl_doctor,
                 test_fmt("/api/v1/search-tasks/%lld/notes", tid),
                 "{\"noted_on\":\"2026-03-02\",\"text\":\"x\"}");
    /* The police's note, sent twice with one key, is written once. */
    {
        char *path = test_fmt("/api/v1/search-tasks/%lld/notes", tid);
        char *hdr = test_fmt("Idempotency-Key: note-%s", test_unique());
        const char *body = "{\"noted_on\":\"2026-03-02\",\"text\":\"走访其兄，称去了武汉\"}";
        http_res *a = test_call_h("2026-03-02", "POST", path, police, body, hdr);
        http_res *b = test_call_h("2026-03-02", "POST", path, police, body, hdr);
        assert_int_equal(a->status, 201);
        assert_int_equal(b->status, 201);
        assert_string_equal(a->body, b->body);
        assert_int_equal(json_array_size(json_object_get(a->json, "notes")), 1);
        assert_string_equal(
            test_jstr(json_array_get(json_object_get(a->json, "notes"), 0), "agency_name"),
            "泰丰派出所");
        http_free(a);
        http_free(b);
        free(hdr);
        free(path);
    }
    http_free(test_expect(201, "2026-03-03", "POST", pingan,
                          test_fmt("/api/v1/search-tasks/%lld/notes", tid),
                          "{\"noted_on\":\"2026-03-03\",\"text\":\"联系武汉方面协查\"}"));
    assert_int_equal(db_count_id("SELECT count(*) FROM search_task_notes WHERE task_id = $1", tid),
                     2);
    assert_int_equal(db_count_id("SELECT count(*) FROM audit_log WHERE action = 'search_task.note'"
                                 " AND target_id = $1::text",
                                 tid),
                     2);
    /* Newest first, visible to the grid. */
    r = test_expect(200, NULL, "GET", grid1, test_fmt("/api/v1/search-tasks/%lld", tid), NULL);
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "notes"), 0), "text"),
                        "联系武汉方面协查");
    http_free(r);

    /* Found by hand without the evidence: refused, naming why. */
    test_refused(409, "outcome", "2026-03-04", "POST", pingan,
                 test_fmt("/api/v1/search-tasks/%lld/close", tid),
                 "{\"outcome\":\"found\",\"closed_on\":\"2026-03-04\"}");
    /* The family on the phone is not enough. */
    {
        char *path = test_fmt("/api/v1/patients/%lld/follow-ups", pid);
        http_free(
            test_expect(201, "2026-03-05", "POST", doctor, path,
                        "{\"visit_date\":\"2026-03-05\",\"mode\":\"phone\",\"informant\":"
                        "\"family\",\"reached\":true,\"risk_level\":0,\"insight\":\"complete\","
                        "\"compliance\":\"regular\",\"social_function\":{\"personal_care\":"
                        "\"good\",\"housework\":\"good\",\"work\":\"good\",\"learning\":\"good\","
                        "\"social_contact\":\"good\"}}"));
    }
    assert_int_equal(task_of(pid, "2026-03-05", "open"), tid);
    test_refused(409, "outcome", "2026-03-05", "POST", police,
                 test_fmt("/api/v1/search-tasks/%lld/close", tid),
                 "{\"outcome\":\"found\",\"closed_on\":\"2026-03-05\"}");
    /* The police confirm the whereabouts: found, in the same write. */
    http_free(test_expect(200, "2026-03-06", "POST", police,
                          test_fmt("/api/v1/patients/%lld/whereabouts-confirmed", pid),
                          "{\"confirmed_on\":\"2026-03-06\",\"place\":\"武汉市汉阳区\"}"));
    r = tasks_of(pid, "2026-03-06");
    t = json_array_get(json_object_get(r->json, "items"), 0);
    assert_int_equal(test_jint(t, "id"), tid);
    assert_string_equal(test_jstr(t, "state"), "closed");
    assert_string_equal(test_jstr(t, "outcome"), "found");
    assert_string_equal(test_jstr(t, "found_by"), "police_confirmed");
    assert_string_equal(test_jstr(t, "closed_on"), "2026-03-06");
    http_free(r);
    assert_true(listed(police, "state=closed", tid));
    assert_false(listed(police, "state=open", tid));
    /* Closed stays closed. */
    test_refused(409, "state", "2026-03-07", "POST", police,
                 test_fmt("/api/v1/search-tasks/%lld/close", tid),
                 "{\"outcome\":\"other\",\"closed_on\":\"2026-03-07\",\"reason\":\"x\"}");
}

/* Three misses on distinct cycles open the task at the recompute; a 面访
 * that reaches the patient closes it as seen in person. [R-LOST-3, R-LOST-4] */
static void three_misses_open_and_a_visit_finds(void **state)
{
    long long pid = create_patient("乙"), tid;
    http_res *r;
    json_t *t;
    const char *dates[] = {"2026-04-12", "2026-04-19", "2026-04-26"};

    (void)state;
    test_stable_visit(doctor, pid, "2026-01-10");
    for (int i = 0; i < 3; i++) {
        char *body = test_fmt("{\"visit_date\":\"%s\",\"mode\":\"home\",\"informant\":\"other\","
                              "\"reached\":false,\"unreached_reason\":\"missing\"}",
                              dates[i]);
        http_free(test_expect(201, dates[i], "POST", doctor,
                              test_fmt("/api/v1/patients/%lld/follow-ups", pid), body));
        free(body);
    }
    r = tasks_of(pid, "2026-04-26");
    t = json_array_get(json_object_get(r->json, "items"), 0);
    assert_non_null(t);
    assert_string_equal(test_jstr(t, "opened_reason"), "three_misses");
    assert_string_equal(test_jstr(t, "opened_on"), "2026-04-26");
    tid = test_jint(t, "id");
    http_free(r);
    test_stable_visit(doctor, pid, "2026-05-02");
    r = test_expect(200, NULL, "GET", police, test_fmt("/api/v1/search-tasks/%lld", tid), NULL);
    assert_string_equal(test_jstr(r->json, "outcome"), "found");
    assert_string_equal(test_jstr(r->json, "found_by"), "seen_in_person");
    assert_string_equal(test_jstr(r->json, "patient_status"), "in_care");
    http_free(r);
}

/* A decision closes the task with its reason, by an official or the
 * police; lost again, a new task opens (one open at a time). [R-LOST-3] */
static void a_decision_closes(void **state)
{
    long long pid = create_patient("丙"), tid, tid2;
    http_res *r;

    (void)state;
    test_stable_visit(doctor, pid, "2026-02-01");
    lose(pid, "2026-03-01");
    tid = task_of(pid, "2026-03-01", "open");
    {
        static const struct {
            const char *body, *field;
        } bad[] = {
            {"{\"closed_on\":\"2026-03-10\",\"reason\":\"x\"}", "outcome"},
            {"{\"outcome\":\"escaped\",\"closed_on\":\"2026-03-10\",\"reason\":\"x\"}", "outcome"},
            {"{\"outcome\":\"detained\",\"closed_on\":\"2026-03-10\"}", "reason"},
            {"{\"outcome\":\"detained\",\"closed_on\":\"2026-03-10\",\"reason\":\"\"}", "reason"},
            {"{\"outcome\":\"detained\",\"reason\":\"在押\"}", "closed_on"},
            {"{\"outcome\":\"detained\",\"closed_on\":\"2026-03-11\",\"reason\":\"在押\"}",
             "closed_on"},
            {"{\"outcome\":\"detained\",\"closed_on\":\"2026-02-28\",\"reason\":\"在押\"}",
             "closed_on"},
            {"{\"outcome\":\"detained\",\"closed_on\":\"2026-03-10\",\"reason\":\"在押\","
             "\"x\":1}",
             "x"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            test_refused(400, bad[i].field, "2026-03-10", "POST", official,
                         test_fmt("/api/v1/search-tasks/%lld/close", tid), bad[i].body);
    }
    const char *ok = "{\"outcome\":\"detained\",\"closed_on\":\"2026-03-10\","
                     "\"reason\":\"因盗窃被武汉市公安局羁押\"}";
    test_refused(403, NULL, "2026-03-10", "POST", doctor,
                 test_fmt("/api/v1/search-tasks/%lld/close", tid), ok);
    test_refused(403, NULL, "2026-03-10", "POST", grid1,
                 test_fmt("/api/v1/search-tasks/%lld/close", tid), ok);
    test_refused(404, NULL, "2026-03-10", "POST", yl_official,
                 test_fmt("/api/v1/search-tasks/%lld/close", tid), ok);
    task_of(pid, "2026-03-10", "open");
    r = test_expect(200, "2026-03-10", "POST", pingan,
                    test_fmt("/api/v1/search-tasks/%lld/close", tid), ok);
    assert_string_equal(test_jstr(r->json, "state"), "closed");
    assert_string_equal(test_jstr(r->json, "outcome"), "detained");
    assert_true(json_is_null(json_object_get(r->json, "found_by")));
    assert_string_equal(test_jstr(r->json, "close_reason"), "因盗窃被武汉市公安局羁押");
    http_free(r);
    assert_int_equal(db_count_id("SELECT count(*) FROM audit_log WHERE action = 'search_task.close'"
                                 " AND target_id = $1::text",
                                 tid),
                     1);
    /* Back in care, lost again: a new task. */
    http_free(test_expect(200, "2026-04-01", "POST", police,
                          test_fmt("/api/v1/patients/%lld/whereabouts-confirmed", pid),
                          "{\"confirmed_on\":\"2026-04-01\",\"place\":\"武汉\"}"));
    lose(pid, "2026-05-01");
    tid2 = task_of(pid, "2026-05-01", "open");
    assert_true(tid2 != tid);
    /* A status change out of 失访 closes it as the decision it stands for. */
    http_free(test_expect(200, "2026-05-03", "POST", doctor,
                          test_fmt("/api/v1/patients/%lld/status", pid),
                          "{\"status\":\"deregistered\",\"date\":\"2026-05-03\",\"reason\":"
                          "\"排除诊断\"}"));
    r = test_expect(200, NULL, "GET", police, test_fmt("/api/v1/search-tasks/%lld", tid2), NULL);
    assert_string_equal(test_jstr(r->json, "outcome"), "deregistered");
    assert_string_equal(test_jstr(r->json, "close_reason"), "排除诊断");
    http_free(r);
}

/* Bad list filters are 400 naming them; every lost patient (the demo's
 * included, given theirs by the migration) has one open task. */
static void list_filters_and_every_lost_patient_has_a_task(void **state)
{
    char *yl = test_unit_id("429005001");
    const char *none[] = {NULL};

    (void)state;
    test_refused(400, "state", NULL, "GET", police, test_fmt("/api/v1/search-tasks?state=lost"),
                 NULL);
    test_refused(400, "org_unit_id", NULL, "GET", police,
                 test_fmt("/api/v1/search-tasks?org_unit_id=%s", yl), NULL);
    test_refused(400, "cursor", NULL, "GET", police, test_fmt("/api/v1/search-tasks?cursor=zz"),
                 NULL);
    test_refused(400, "limit", NULL, "GET", police, test_fmt("/api/v1/search-tasks?limit=0"), NULL);
    assert_int_equal(db_count("SELECT count(*) FROM patients p WHERE p.status = 'lost' AND NOT"
                              " EXISTS (SELECT FROM search_tasks t WHERE t.patient_id = p.id"
                              " AND t.state = 'open')",
                              0, none),
                     0);
    assert_int_equal(db_count("SELECT count(*) FROM search_tasks t JOIN patients p ON p.id ="
                              " t.patient_id WHERE t.state = 'open' AND p.status <> 'lost'",
                              0, none),
                     0);
    free(yl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whereabouts_unknown_opens_and_police_find),
        cmocka_unit_test(three_misses_open_and_a_visit_finds),
        cmocka_unit_test(a_decision_closes),
        cmocka_unit_test(list_filters_and_every_lost_patient_has_a_task),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
