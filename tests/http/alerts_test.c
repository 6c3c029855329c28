/* HTTP suite: early warning and emergency response (预警核处, "1、3、5"分钟快反).
 * An alert raised on a patient or an unknown person reaches the police
 * station, the clinic and 综治中心 in the same transaction, with its webhook
 * event; each agency stamps received / arrived / handled against the
 * grade's targets (configuration per unit); the emergency record is written
 * against the alert; an unknown person is linked to a patient later;
 * drills are marked. Bad inputs are refused naming the field and change
 * nothing; the wrong role gets 403 and another township 404. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 11 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""
#define ALERTS "/api/v1/alerts"

static char *doctor, *police, *civil, *grid1, *stability, *yl_doctor, *tf_admin;
static char *g01, *village5, *yl_unit;

static long long create_patient(const char *tag, const char *unit, const char *token)
{
    return test_patient(token ? token : doctor, NULL, "预警", tag, unit ? unit : g01, SUITE_SALT, DIAG,
                        NULL);
}

static long alerts_count(void)
{
    return db_count("SELECT count(*) FROM alerts", 0, NULL);
}

/* POST body to path as token with an Idempotency-Key (NULL: none). */
static http_res *post(const char *path, const char *token, const char *body, const char *key)
{
    char *hdr = key ? test_fmt("Idempotency-Key: %s", key) : NULL;
    http_res *r = http_do("POST", path, token, body, hdr);

    free(hdr);
    return r;
}

/* Raise an alert as token; fails unless 201; returns its id. */
static long long raise_alert(const char *token, const char *body)
{
    http_res *r = post(ALERTS, token, body, NULL);
    long long id;

    if (r->status != 201)
        fail_msg("raise %s: %ld %s", body, r->status, r->body);
    id = test_jint(r->json, "id");
    http_free(r);
    return id;
}

static http_res *step(long long id, const char *what, const char *token)
{
    char *path = test_fmt(ALERTS "/%lld/%s", id, what);
    http_res *r = post(path, token, "{}", NULL);

    free(path);
    return r;
}

/* The response of agency kind in an alert document. */
static json_t *response_of(json_t *alert, const char *kind)
{
    json_t *rs = json_object_get(alert, "responses"), *it;
    size_t i;

    json_array_foreach(rs, i, it)
    {
        if (strcmp(test_jstr(it, "agency_kind"), kind) == 0)
            return it;
    }
    return NULL;
}

static json_t *met(json_t *alert, const char *kind, const char *what)
{
    return json_object_get(json_object_get(response_of(alert, kind), "met"), what);
}

/* A grid worker's urgent alert on a patient reaches the three agencies at
 * once, with one webhook event; a retry with its key writes nothing. [R-ALERT-1] */
static void urgent_alert_reaches_three_agencies(void **state)
{
    long long pid = create_patient("甲", NULL, NULL);
    char *body = test_fmt("{\"patient_id\":%lld,\"grade\":\"urgent\",\"place\":\"梅苑社区3栋\","
                          "\"observed\":\"持刀在楼道大声叫喊\",\"reporter\":\"邻居\"}",
                          pid);
    char *key = test_fmt("alert-%s", test_unique());
    long before = alerts_count();
    http_res *r = post(ALERTS, grid1, body, key), *again;
    json_t *targets;
    (void)state;

    if (r->status != 201)
        fail_msg("raise: %ld %s", r->status, r->body);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_string_equal(test_jstr(r->json, "grade"), "urgent");
    assert_string_equal(test_jstr(r->json, "state"), "open");
    assert_false(json_is_true(json_object_get(r->json, "drill")));
    assert_int_equal(json_array_size(json_object_get(r->json, "responses")), 3);
    assert_non_null(response_of(r->json, "police_station"));
    assert_non_null(response_of(r->json, "clinic"));
    assert_non_null(response_of(r->json, "stability_office"));
    assert_true(json_is_null(met(r->json, "police_station", "received")));
    targets = json_object_get(r->json, "targets");
    assert_int_equal(test_jint(targets, "received"), 1);
    assert_int_equal(test_jint(targets, "arrived"), 3);
    assert_int_equal(test_jint(targets, "handled"), 5);
    {
        char *id = test_fmt("%lld", test_jint(r->json, "id"));
        const char *p[] = {id};
        assert_int_equal(db_count("SELECT count(*) FROM outbox WHERE topic = 'alert.urgent'"
                                  " AND (payload->>'alert_id')::bigint = $1::bigint",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'alert.create'"
                                  " AND target_id = $1",
                                  1, p),
                         1);
        free(id);
    }
    /* The phone retries after a lost answer: the same alert, nothing new. */
    again = post(ALERTS, grid1, body, key);
    assert_int_equal(again->status, 201);
    assert_int_equal(test_jint(again->json, "id"), test_jint(r->json, "id"));
    assert_int_equal(alerts_count(), before + 1);
    http_free(again);
    http_free(r);
    free(key);
    free(body);
}

/* Each agency stamps its own steps; receipt first; twice is refused; an
 * agency not sent the alert is refused; all handled closes it. [R-ALERT-2] */
static void response_steps_and_targets(void **state)
{
    long long id = raise_alert(police, "{\"person\":\"穿红衣的中年男子\",\"grade\":\"urgent\","
                                       "\"place\":\"汉城村村口\",\"observed\":\"砸车\"}");
    http_res *r;
    (void)state;

    r = step(id, "arrived", doctor);
    http_assert_problem(r, 409, "received");
    http_free(r);
    r = step(id, "received", police);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(met(r->json, "police_station", "received")));
    assert_true(json_is_null(met(r->json, "clinic", "received")));
    http_free(r);
    r = step(id, "received", police);
    http_assert_problem(r, 409, "received");
    http_free(r);
    /* Civil affairs was not sent it; another township cannot see it. */
    r = step(id, "received", civil);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = step(id, "received", yl_doctor);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = step(id, "arrived", police);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(met(r->json, "police_station", "arrived")));
    http_free(r);
    const char *order[][2] = {{"received", NULL}, {"handled", NULL}};
    const char *who[] = {"doctor", "stability"};
    char *tokens[] = {doctor, stability};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            r = step(id, order[k][0], tokens[i]);
            if (r->status != 200)
                fail_msg("%s %s: %ld %s", who[i], order[k][0], r->status, r->body);
            http_free(r);
        }
    r = step(id, "handled", police);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "state"), "handled");
    http_free(r);
    r = step(id, "arrived", police);
    http_assert_problem(r, 409, NULL);
    http_free(r);

    /* An alert answered late: its receipt misses the one-minute target. */
    id = raise_alert(grid1, "{\"person\":\"不明男子\",\"grade\":\"urgent\",\"place\":\"梅苑\","
                            "\"observed\":\"徘徊\"}");
    {
        char *sid = test_fmt("%lld", id);
        const char *p[] = {sid};
        assert_int_equal(db_count("WITH u AS (UPDATE alerts SET created_at = created_at"
                                  " - interval '10 minutes' WHERE id = $1::bigint RETURNING 1)"
                                  " SELECT count(*) FROM u",
                                  1, p),
                         1);
        free(sid);
    }
    r = step(id, "received", police);
    assert_int_equal(r->status, 200);
    assert_true(json_is_false(met(r->json, "police_station", "received")));
    /* The clinic has not answered and its time is up. */
    assert_true(json_is_false(met(r->json, "clinic", "received")));
    http_free(r);
}

/* Targets are configuration per unit: a village's own applies to alerts
 * raised there from then on. [R-ALERT-2] */
static void targets_follow_the_configuration(void **state)
{
    char *path = test_fmt("/api/v1/config/clinical?org_unit_id=%s", village5), *body;
    http_res *r = http_do("GET", path, tf_admin, NULL, NULL);
    long long id;
    (void)state;

    assert_int_equal(r->status, 200);
    assert_int_equal(
        test_jint(json_object_get(r->json, "settings"), "alert_urgent_received_minutes"), 1);
    json_object_set_new(r->json, "org_unit_id", json_integer(strtoll(village5, NULL, 10)));
    json_object_set_new(json_object_get(r->json, "settings"), "alert_urgent_received_minutes",
                        json_integer(2));
    body = json_dumps(r->json, JSON_COMPACT);
    http_free(r);
    r = http_do("PUT", "/api/v1/config/clinical", tf_admin, body, NULL);
    if (r->status != 200)
        fail_msg("PUT: %ld %s", r->status, r->body);
    http_free(r);
    free(body);
    body = test_fmt("{\"person\":\"某人\",\"grade\":\"urgent\",\"place\":\"汉城村\","
                    "\"observed\":\"喊叫\",\"org_unit_id\":%s}",
                    village5);
    r = post(ALERTS, police, body, NULL);
    assert_int_equal(r->status, 201);
    assert_int_equal(test_jint(json_object_get(r->json, "targets"), "received"), 2);
    id = test_jint(r->json, "id");
    http_free(r);
    free(body);
    assert_true(id > 0);
    r = http_do("DELETE", path, tf_admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(path);
}

/* An alert on an unknown person is linked to a patient later, once. [R-ALERT-1] */
static void unknown_person_linked_later(void **state)
{
    long long id = raise_alert(grid1, "{\"person\":\"戴帽子的青年\",\"grade\":\"warning\","
                                      "\"place\":\"梅苑广场\",\"observed\":\"自言自语、摔东西\"}");
    long long pid = create_patient("乙", NULL, NULL),
              other = create_patient("丙", yl_unit, yl_doctor);
    char *path = test_fmt(ALERTS "/%lld/link", id), *body = test_fmt("{\"patient_id\":%lld}", pid),
         *bad = test_fmt("{\"patient_id\":%lld}", other);
    http_res *r;
    (void)state;

    r = post(path, grid1, bad, NULL);
    http_assert_problem(r, 400, "patient_id");
    http_free(r);
    r = post(path, civil, body, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(path, grid1, body, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_true(json_is_string(json_object_get(r->json, "linked_at")));
    http_free(r);
    r = post(path, grid1, body, NULL);
    http_assert_problem(r, 409, "patient_id");
    http_free(r);
    /* The patient's alerts list it. */
    free(path);
    path = test_fmt(ALERTS "?patient_id=%lld", pid);
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    http_free(r);
    free(path);
    free(body);
    free(bad);
}

/* An alert on an unknown person becomes a suspected-person report: the
 * report names the alert, which becomes the new record's; an alert already
 * on someone is refused and nothing is recorded. */
static void unknown_person_reported_as_suspected(void **state)
{
    long long id =
        raise_alert(grid1, "{\"person\":\"常在菜场游荡的老人\",\"grade\":\"watch\","
                           "\"place\":\"梅苑菜场\",\"observed\":\"衣着不整、喃喃自语\"}");
    char *body = test_fmt("{\"name\":\"无名氏%s\",\"address\":\"梅苑菜场\",\"org_unit_id\":%s,"
                          "\"report_note\":\"预警转疑似\",\"alert_id\":%lld}",
                          test_cn_unique(), g01, id);
    long patients = db_count("SELECT count(*) FROM patients", 0, NULL);
    http_res *r = post("/api/v1/suspected-reports", grid1, body, NULL);
    long long pid;
    (void)state;

    if (r->status != 201)
        fail_msg("report: %ld %s", r->status, r->body);
    pid = test_jint(r->json, "id");
    http_free(r);
    {
        char *sid = test_fmt("%lld", id), *spid = test_fmt("%lld", pid);
        const char *p[] = {sid, spid};
        assert_int_equal(db_count("SELECT count(*) FROM alerts WHERE id = $1::bigint"
                                  " AND patient_id = $2::bigint",
                                  2, p),
                         1);
        free(sid);
        free(spid);
    }
    /* Again with the same alert: it is someone's now. */
    r = post("/api/v1/suspected-reports", grid1, body, NULL);
    http_assert_problem(r, 400, "alert_id");
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM patients", 0, NULL), patients + 1);
    free(body);
}

/* Drills are marked and can be kept out of a list. [R-ALERT-2] */
static void drills_are_marked(void **state)
{
    long long id = raise_alert(police, "{\"person\":\"演练对象\",\"grade\":\"urgent\","
                                       "\"place\":\"泰丰派出所\",\"observed\":\"应急演练\","
                                       "\"drill\":true}");
    http_res *r = http_do("GET", ALERTS "?drill=false&limit=200", police, NULL, NULL);
    json_t *it;
    size_t i;
    (void)state;

    assert_int_equal(r->status, 200);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        assert_int_not_equal(test_jint(it, "id"), id);
        assert_false(json_is_true(json_object_get(it, "drill")));
    }
    http_free(r);
    {
        char *path = test_fmt(ALERTS "/%lld", id);
        r = http_do("GET", path, police, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_true(json_is_true(json_object_get(r->json, "drill")));
        http_free(r);
        free(path);
    }
}

/* The 应急处置记录单: police or doctor write it up; the fields hang together. [R-EMERG-1] */
static void emergency_record(void **state)
{
    long long pid = create_patient("丁", NULL, NULL);
    char *araise = test_fmt("{\"patient_id\":%lld,\"grade\":\"urgent\",\"place\":\"家中\","
                            "\"observed\":\"打砸家具\"}",
                            pid);
    long long id = raise_alert(grid1, araise);
    char *path = test_fmt(ALERTS "/%lld/emergency-records", id);
    const char *good = "{\"situation\":\"harm_others\",\"place\":\"家中\","
                       "\"responders\":[\"police_station\",\"clinic\",\"guardian\"],"
                       "\"responder_names\":\"张伟、王秀兰\",\"sent_to_hospital\":true,"
                       "\"hospital\":\"潜江市精神卫生中心\",\"restraint\":true,"
                       "\"restraint_minutes\":30,\"outcome\":\"hospitalised\"}";
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"place\":\"家\",\"responders\":[\"clinic\"],\"sent_to_hospital\":false,"
         "\"restraint\":false,\"outcome\":\"stabilised\"}",
         "situation"},
        {"{\"situation\":\"fight\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"sent_to_hospital\":false,\"restraint\":false,\"outcome\":\"stabilised\"}",
         "situation"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[],"
         "\"sent_to_hospital\":false,\"restraint\":false,\"outcome\":\"stabilised\"}",
         "responders"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"sent_to_hospital\":false,\"restraint\":true,\"outcome\":\"stabilised\"}",
         "restraint_minutes"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"sent_to_hospital\":false,\"hospital\":\"某院\",\"restraint\":false,"
         "\"outcome\":\"stabilised\"}",
         "hospital"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"sent_to_hospital\":true,\"admission_id\":1,\"restraint\":false,"
         "\"outcome\":\"hospitalised\"}",
         "admission_id"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"occurred_at\":\"2099-01-01T10:00\",\"sent_to_hospital\":false,"
         "\"restraint\":false,\"outcome\":\"stabilised\"}",
         "occurred_at"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"occurred_at\":\"2026-01-01 10:00\",\"sent_to_hospital\":false,"
         "\"restraint\":false,\"outcome\":\"stabilised\"}",
         "occurred_at"},
        {"{\"situation\":\"relapse\",\"place\":\"家\",\"responders\":[\"clinic\"],"
         "\"sent_to_hospital\":false,\"restraint\":false,\"outcome\":\"gone\"}",
         "outcome"},
    };
    long before = db_count("SELECT count(*) FROM emergency_records", 0, NULL);
    http_res *r;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = post(path, police, bad[i].body, NULL);
        if (r->status != 400)
            fail_msg("bad %zu: %ld %s", i, r->status, r->body);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
    }
    assert_int_equal(db_count("SELECT count(*) FROM emergency_records", 0, NULL), before);
    r = post(path, grid1, good, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(path, police, good, NULL);
    if (r->status != 201)
        fail_msg("record: %ld %s", r->status, r->body);
    assert_int_equal(test_jint(r->json, "restraint_minutes"), 30);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    http_free(r);
    free(path);
    path = test_fmt(ALERTS "/%lld", id);
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "emergency_records")), 1);
    http_free(r);
    free(path);
    free(araise);
}

/* Bad inputs name the field and write nothing; roles without the right get
 * 403; a patient or place elsewhere is refused; lists stay in the area. */
static void bad_inputs_roles_and_scope(void **state)
{
    long long other = create_patient("戊", yl_unit, yl_doctor);
    char *other_patient = test_fmt("{\"patient_id\":%lld,\"grade\":\"urgent\",\"place\":\"某地\","
                                   "\"observed\":\"某事\"}",
                                   other),
         *other_place = test_fmt("{\"person\":\"某人\",\"grade\":\"urgent\",\"place\":\"某地\","
                                 "\"observed\":\"某事\",\"org_unit_id\":%s}",
                                 yl_unit);
    const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"person\":\"某人\",\"place\":\"某地\",\"observed\":\"某事\"}", "grade"},
        {"{\"person\":\"某人\",\"grade\":\"red\",\"place\":\"某地\",\"observed\":\"某事\"}",
         "grade"},
        {"{\"grade\":\"urgent\",\"place\":\"某地\",\"observed\":\"某事\"}", "person"},
        {"{\"person\":\"某人\",\"grade\":\"urgent\",\"observed\":\"某事\"}", "place"},
        {"{\"person\":\"某人\",\"grade\":\"urgent\",\"place\":\"某地\"}", "observed"},
        {"{\"person\":\"某人\",\"grade\":\"urgent\",\"place\":\"某地\",\"observed\":\"某事\","
         "\"colour\":\"red\"}",
         "colour"},
        {"{\"person\":\"某人\",\"grade\":\"urgent\",\"place\":\"某地\",\"observed\":\"某事\","
         "\"drill\":\"yes\"}",
         "drill"},
        {other_patient, "patient_id"},
        {other_place, "org_unit_id"},
    };
    const char *good = "{\"person\":\"某人\",\"grade\":\"watch\",\"place\":\"某地\","
                       "\"observed\":\"某事\"}";
    long before = alerts_count();
    http_res *r;
    json_t *it;
    size_t i;
    (void)state;

    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        r = post(ALERTS, grid1, bad[k].body, NULL);
        if (r->status != 400)
            fail_msg("bad %zu: %ld %s", k, r->status, r->body);
        http_assert_problem(r, 400, bad[k].field);
        http_free(r);
    }
    r = post(ALERTS, civil, good, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post(ALERTS, tf_admin, good, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    assert_int_equal(alerts_count(), before);
    r = http_do("GET", ALERTS "?grade=red", police, NULL, NULL);
    http_assert_problem(r, 400, "grade");
    http_free(r);
    r = http_do("GET", ALERTS "?cursor=zzz", police, NULL, NULL);
    http_assert_problem(r, 400, "cursor");
    http_free(r);
    {
        char *path = test_fmt(ALERTS "?org_unit_id=%s", yl_unit);
        r = http_do("GET", path, police, NULL, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(path);
    }
    /* 园林's doctor sees none of 泰丰's alerts, nor one of them by id. */
    r = http_do("GET", ALERTS "?limit=200", yl_doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        assert_int_not_equal(test_jint(it, "org_unit_id"), strtoll(g01, NULL, 10));
    }
    http_free(r);
    {
        char *id = db_scalar("SELECT max(id) FROM alerts WHERE org_path LIKE"
                             " (SELECT path FROM org_units WHERE code = '429005003') || '%'",
                             0, NULL);
        char *path = test_fmt(ALERTS "/%s", id);
        r = http_do("GET", path, yl_doctor, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(path);
        free(id);
    }
    /* Police's own inbox: open alerts sent to its station. */
    r = http_do("GET", ALERTS "?mine=true&state=open&limit=200", police, NULL, NULL);
    assert_int_equal(r->status, 200);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        assert_string_equal(test_jstr(it, "state"), "open");
        assert_non_null(response_of(it, "police_station"));
    }
    http_free(r);
    free(other_patient);
    free(other_place);
}

/* The dashboard counts the real alerts of the area by grade (drills apart)
 * and, per agency, the share of targets met, and the open search tasks;
 * civil affairs sees none of them. */
static void dashboard_alert_figures(void **state)
{
    char *official = http_login("tf.official", NULL);
    http_res *r = http_do("GET", "/api/v1/statistics/dashboard", official, NULL, NULL);
    const char *sql = "SELECT count(*) FROM alerts a JOIN org_units u ON u.code = '429005003'"
                      " WHERE starts_with(a.org_path, u.path) AND a.grade = $1 AND NOT a.drill"
                      " AND date_part('year', a.created_at AT TIME ZONE 'Asia/Shanghai')"
                      " = date_part('year', now() AT TIME ZONE 'Asia/Shanghai')";
    const char *grades[] = {"watch", "warning", "urgent"};
    json_t *alerts, *it;
    size_t i;
    int police_seen = 0;
    (void)state;

    if (r->status != 200)
        fail_msg("dashboard: %ld %s", r->status, r->body);
    alerts = json_object_get(r->json, "alerts");
    assert_non_null(alerts);
    for (int g = 0; g < 3; g++) {
        const char *p[] = {grades[g]};
        assert_int_equal(test_jint(json_object_get(alerts, "by_grade"), grades[g]),
                         db_count(sql, 1, p));
    }
    assert_true(test_jint(alerts, "drills") >= 1);
    json_array_foreach(json_object_get(alerts, "by_agency"), i, it)
    {
        if (strcmp(test_jstr(it, "agency_kind"), "police_station") != 0)
            continue;
        police_seen = 1;
        /* One receipt in time and one late, at least (response_steps_and_targets). */
        double rate =
            json_number_value(json_object_get(json_object_get(it, "met_rate"), "received"));
        assert_true(rate > 0 && rate < 100);
    }
    assert_true(police_seen);
    /* The search tasks open for the township's lost patients. */
    assert_int_equal(test_jint(json_object_get(r->json, "search_tasks"), "open"),
                     db_count("SELECT count(*) FROM search_tasks t JOIN patients p"
                              " ON p.id = t.patient_id JOIN org_units u ON u.code = '429005003'"
                              " WHERE t.state = 'open' AND starts_with(p.org_path, u.path)",
                              0, NULL));
    http_free(r);
    r = http_do("GET", "/api/v1/statistics/dashboard", civil, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(json_object_get(r->json, "alerts"));
    assert_null(json_object_get(r->json, "search_tasks"));
    http_free(r);
    free(official);
}

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    grid1 = http_login("tf.grid1", NULL);
    stability = http_login("tf.stability", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    tf_admin = http_login("tf.admin", NULL);
    g01 = test_unit_id("429005003001G01");
    village5 = test_unit_id("429005003005");
    yl_unit = test_unit_id("429005001001G01");
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor,    &police,   &civil, &grid1,    &stability,
                    &yl_doctor, &tf_admin, &g01,   &village5, &yl_unit};
    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urgent_alert_reaches_three_agencies),
        cmocka_unit_test(response_steps_and_targets),
        cmocka_unit_test(targets_follow_the_configuration),
        cmocka_unit_test(unknown_person_linked_later),
        cmocka_unit_test(unknown_person_reported_as_suspected),
        cmocka_unit_test(drills_are_marked),
        cmocka_unit_test(emergency_record),
        cmocka_unit_test(bad_inputs_roles_and_scope),
        cmocka_unit_test(dashboard_alert_figures),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
