/* HTTP suite: the export of a past period (定期信息交换) holds the patients
 * with records of that period — a registration, a visit, a discharge, an
 * assessment dated in it — and is the same when taken again later, after
 * those patients changed; the period's bounds are its first and last days.
 * The history is played in 2022, which no other suite and no demo record
 * uses, with X-Test-Date. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 21 /* keeps this suite's ID numbers apart from the others' */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *official, *g01, *g02, *tf_police;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

static long long create_patient(const char *tag, const char *unit, const char *date)
{
    return test_patient(doctor, date, "交换期", tag, unit, SUITE_SALT, DIAG, NULL);
}

/* POST /api/v1/patients/{pid}/what on date; fails the test unless expect. */
static void post(long long pid, const char *what, const char *body, const char *date, long expect)
{
    char *path = test_fmt("/api/v1/patients/%lld/%s", pid, what);
    http_res *r = test_call(date, "POST", path, doctor, body);

    if (r->status != expect)
        fail_msg("POST %s on %s: expected %ld, got %ld %s", path, date, expect, r->status,
                 r->body);
    http_free(r);
    free(path);
}

/* The ids, in order, of the police station's NDJSON export of period
 * taken on date: a JSON array of integers. */
static json_t *export_ids(const char *period, const char *date)
{
    char *path = test_fmt("/api/v1/exports/patients?agency_id=%s&period=%s", tf_police, period);
    http_res *r = test_call(date, "GET", path, official, NULL);
    json_t *ids = json_array();

    if (r->status != 200)
        fail_msg("export %s on %s: %ld %s", period, date, r->status, r->body);
    for (const char *p = r->body, *nl; *p; p = nl + 1) {
        char *line;
        json_t *j;

        nl = strchr(p, '\n');
        assert_non_null(nl);
        line = strndup(p, (size_t)(nl - p));
        j = json_loads(line, 0, NULL);
        assert_true(json_is_object(j));
        json_array_append_new(ids, json_integer(test_jint(j, "id")));
        json_decref(j);
        free(line);
    }
    http_free(r);
    free(path);
    return ids;
}

static int has_id(const json_t *ids, long long pid)
{
    size_t i;
    json_t *v;

    json_array_foreach(ids, i, v)
    {
        if (json_integer_value(v) == pid)
            return 1;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    official = http_login("tf.official", NULL);
    g01 = test_unit_id("429005003001G01");
    g02 = test_unit_id("429005003001G02");
    tf_police = test_agency_id("泰丰派出所");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &official, &g01, &g02, &tf_police};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

static void past_period_is_reproducible(void **state)
{
    /* visited: registered in February, visited on the last day of March.
     * registered: registered in March, nothing else.
     * discharged: registered and admitted in February, discharged on 1 March.
     * quiet: registered in February, assessed on 28 February, visited on
     * 1 April: nothing of March. */
    long long visited = create_patient("甲", g01, "2022-02-10");
    long long registered = create_patient("乙", g01, "2022-03-05");
    long long discharged = create_patient("丙", g02, "2022-02-11");
    long long quiet = create_patient("丁", g01, "2022-02-12");
    char *s, *etag;
    json_t *march, *again, *april;

    (void)state;
    post(visited, "follow-ups", s = test_fmt(TEST_STABLE_VISIT, "2022-03-31"), "2022-03-31", 201);
    free(s);
    {
        char *path = test_fmt("/api/v1/patients/%lld/admissions", discharged);
        http_res *r = test_call("2022-02-20", "POST", path, doctor,
                                "{\"admitted_on\":\"2022-02-20\",\"hospital\":\"潜江市精神卫生中心\","
                                "\"involuntary\":false}");
        assert_int_equal(r->status, 201);
        free(path);
        path = test_fmt("admissions/%lld/discharge", test_jint(r->json, "id"));
        http_free(r);
        post(discharged, path, "{\"discharged_on\":\"2022-03-01\"}", "2022-03-01", 200);
        free(path);
    }
    post(quiet, "risk-assessments",
         "{\"assessed_on\":\"2022-02-28\",\"level\":1,\"tier\":\"community\"}", "2022-02-28", 201);
    post(quiet, "follow-ups", s = test_fmt(TEST_STABLE_VISIT, "2022-04-01"), "2022-04-01", 201);
    free(s);

    march = export_ids("2022-03", "2022-04-01");
    assert_true(has_id(march, visited));
    assert_true(has_id(march, registered));
    assert_true(has_id(march, discharged));
    assert_false(has_id(march, quiet));

    /* April: every one of them changes. */
    post(visited, "risk-assessments",
         "{\"assessed_on\":\"2022-04-19\",\"level\":2,\"tier\":\"community\"}", "2022-04-19", 201);
    post(registered, "follow-ups", s = test_fmt(TEST_STABLE_VISIT, "2022-04-20"), "2022-04-20",
         201);
    free(s);
    post(discharged, "incidents",
         "{\"occurred_on\":\"2022-04-18\",\"place\":\"村口\",\"kind\":\"mild_trouble\","
         "\"injured\":0,\"dead\":0}",
         "2022-04-18", 201);
    post(quiet, "guardians",
         "{\"kind\":\"primary\",\"name\":\"交换父\",\"relation\":\"parent\","
         "\"phone\":\"13900001111\",\"capacity\":\"adequate\"}",
         "2022-04-21", 201);
    {
        char *path = test_fmt("/api/v1/patients/%lld", visited);
        http_res *r = http_do("GET", path, doctor, NULL, NULL);
        etag = test_fmt("X-Test-Date: 2022-04-22\r\nIf-Match: %s", http_header(r, "ETag"));
        http_free(r);
        r = http_do("PATCH", path, doctor, "{\"address\":\"梅苑路12号\"}", etag);
        assert_int_equal(r->status, 200);
        http_free(r);
        free(etag);
        free(path);
    }

    /* A month later, March is what it was: the same patients in the same
     * order. */
    again = export_ids("2022-03", "2022-05-01");
    if (!json_equal(march, again)) {
        char *a = json_dumps(march, JSON_COMPACT), *b = json_dumps(again, JSON_COMPACT);
        fail_msg("March exported on 1 April: %s; on 1 May: %s", a, b);
    }
    /* April has what was done in April. */
    april = export_ids("2022-04", "2022-05-01");
    assert_true(has_id(april, visited));
    assert_true(has_id(april, registered));
    assert_true(has_id(april, discharged));
    assert_true(has_id(april, quiet));
    json_decref(march);
    json_decref(again);
    json_decref(april);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(past_period_is_reproducible),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
