/* HTTP suite: the inter-agency exchange cadence (信息交换). As of a day in
 * July of the year the system came into use, the township's clinic and
 * police station owe each other an exchange for each month, the clinic and
 * 综治中心 one per quarter, the others one per half-year; a package carries
 * what changed in its period, cut to the receiver's view; the receiver
 * confirms receipt once; the dashboard counts the overdue ones. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 12 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *police, *civil, *official, *yl_doctor, *g01;
static char *year;    /* the year exchanges start */
static char *day;     /* "<year>-07-15": today, for this suite */
static long long pid; /* a patient visited in February */

static http_res *get(const char *token, const char *path)
{
    return test_call(day, "GET", path, token, NULL);
}

/* The exchange from sender kind to receiver kind starting on from, in a
 * list as token (mine=true): its JSON (a new reference), or NULL. */
static json_t *find(const char *token, const char *sender, const char *receiver, const char *from)
{
    http_res *r = get(token, "/api/v1/exchanges?mine=true&limit=200");
    json_t *it, *found = NULL;
    size_t i;

    if (r->status != 200)
        fail_msg("list: %ld %s", r->status, r->body);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        if (strcmp(test_jstr(json_object_get(it, "sender"), "kind"), sender) == 0 &&
            strcmp(test_jstr(json_object_get(it, "receiver"), "kind"), receiver) == 0 &&
            strcmp(test_jstr(it, "period_from"), from) == 0)
            found = json_incref(it);
    }
    http_free(r);
    return found;
}

/* The police station's list: each month with the clinic both ways, each
 * half-year with the others; the same rows as the table holds for it. [R-EXCH-1] */
static void cadence_by_pair(void **state)
{
    char *jan = test_fmt("%s-01-01", year), *feb = test_fmt("%s-02-01", year),
         *q1 = test_fmt("%s-01-01", year),
         *feb_end = test_fmt("%s-02-%s", year, strtol(year, NULL, 10) % 4 ? "28" : "29"),
         *h1_end = test_fmt("%s-06-30", year);
    json_t *x = find(police, "clinic", "police_station", feb);
    http_res *r;
    (void)state;

    assert_non_null(x);
    assert_string_equal(test_jstr(x, "period_to"), feb_end);
    assert_string_equal(test_jstr(x, "state"), "overdue");
    json_decref(x);
    x = find(police, "police_station", "clinic", jan);
    assert_non_null(x);
    json_decref(x);
    /* Police and civil affairs: half-yearly, so January opens a period. */
    x = find(police, "police_station", "civil_affairs", jan);
    assert_non_null(x);
    assert_string_equal(test_jstr(x, "period_to"), h1_end);
    json_decref(x);
    x = find(police, "police_station", "civil_affairs", feb);
    assert_null(x);
    /* The clinic and 综治中心: quarterly. */
    x = find(doctor, "clinic", "stability_office", q1);
    assert_non_null(x);
    json_decref(x);
    /* Every row of the police station's, and no other. */
    r = get(police, "/api/v1/exchanges?mine=true&limit=200");
    assert_int_equal(r->status, 200);
    {
        char *agency = test_agency_id("泰丰派出所");
        const char *p[] = {agency};
        assert_int_equal((long)json_array_size(json_object_get(r->json, "items")),
                         db_count("SELECT count(*) FROM exchanges WHERE $1::bigint IN"
                                  " (sender_agency_id, receiver_agency_id)",
                                  1, p));
        free(agency);
    }
    http_free(r);
    free(jan);
    free(feb);
    free(q1);
    free(feb_end);
    free(h1_end);
}

/* A package carries the period's visit, in the receiver's view. [R-EXCH-1] */
static void package_in_the_receivers_view(void **state)
{
    char *feb = test_fmt("%s-02-01", year), *jan = test_fmt("%s-01-01", year), *path;
    json_t *x = find(police, "clinic", "police_station", feb), *pkg, *it;
    http_res *r;
    size_t i;
    int seen = 0;
    (void)state;

    assert_non_null(x);
    path = test_fmt("/api/v1/exchanges/%lld/package", test_jint(x, "id"));
    r = get(police, path);
    if (r->status != 200)
        fail_msg("package: %ld %s", r->status, r->body);
    /* Streamed: no length known up front. */
    assert_string_equal(http_header(r, "Transfer-Encoding"), "chunked");
    assert_null(http_header(r, "Content-Length"));
    pkg = json_object_get(r->json, "package");
    assert_null(json_object_get(pkg, "diagnoses"));
    assert_null(json_object_get(pkg, "medication"));
    assert_non_null(json_object_get(pkg, "assessments"));
    /* The stream says what the one-document package says, section for
     * section (the police station's view: risk and whole phones, nothing
     * clinical). */
    {
        char *want = json_dumps(pkg, JSON_COMPACT);
        const char *pp[] = {test_jstr(x, "period_from"), test_jstr(x, "period_to"), want};
        char *same = db_scalar("SELECT (exchange_package(o.path, $1::date, $2::date, false, true,"
                               " true) = $3::jsonb)::text FROM org_units o"
                               " WHERE o.code = '429005003'",
                               3, pp);
        assert_string_equal(same, "true");
        free(same);
        free(want);
    }
    json_array_foreach(json_object_get(pkg, "visits"), i, it)
    {
        if (test_jint(it, "patient_id") == pid) {
            seen = 1;
            assert_int_equal(test_jint(it, "risk_level"), 0);
        }
    }
    assert_true(seen);
    http_free(r);
    /* Not the clinic's to read (it sends this one), nor another township's. */
    r = get(doctor, path);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = get(yl_doctor, path);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = get(official, path);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(path);
    json_decref(x);

    /* Civil affairs: the visit without risk, no assessments. */
    x = find(civil, "clinic", "civil_affairs", jan);
    assert_non_null(x);
    path = test_fmt("/api/v1/exchanges/%lld/package", test_jint(x, "id"));
    r = get(civil, path);
    assert_int_equal(r->status, 200);
    pkg = json_object_get(r->json, "package");
    assert_null(json_object_get(pkg, "assessments"));
    assert_null(json_object_get(pkg, "diagnoses"));
    seen = 0;
    json_array_foreach(json_object_get(pkg, "visits"), i, it)
    {
        if (test_jint(it, "patient_id") == pid) {
            seen = 1;
            assert_true(json_is_null(json_object_get(it, "risk_level")));
        }
    }
    assert_true(seen);
    http_free(r);
    free(path);
    json_decref(x);
    free(feb);
    free(jan);
}

/* The receiver confirms once; others may not; bad bodies change nothing;
 * the dashboard's overdue count follows. [R-EXCH-1] */
static void receipt_once_by_the_receiver(void **state)
{
    char *mar = test_fmt("%s-03-01", year), *path;
    json_t *x = find(police, "clinic", "police_station", mar);
    const char *sql = "SELECT count(*) FROM exchanges x JOIN org_units u ON u.code = '429005003'"
                      " WHERE starts_with(x.township_path, u.path) AND x.received_at IS NULL"
                      " AND x.due_on < $1::date";
    const char *p[] = {day};
    long overdue = db_count(sql, 1, p);
    http_res *r;
    (void)state;

    assert_non_null(x);
    r = get(official, "/api/v1/statistics/dashboard");
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(json_object_get(r->json, "exchanges"), "overdue"), overdue);
    http_free(r);
    path = test_fmt("/api/v1/exchanges/%lld/receipt", test_jint(x, "id"));
    r = test_call(day, "POST", path, doctor, "{}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = test_call(day, "POST", path, police, "{\"colour\":\"red\"}");
    http_assert_problem(r, 400, "colour");
    http_free(r);
    r = test_call(day, "POST", path, police, "{\"note\":\"\"}");
    http_assert_problem(r, 400, "note");
    http_free(r);
    assert_int_equal(db_count(sql, 1, p), overdue);
    r = test_call(day, "POST", path, police, "{\"note\":\"已核对\"}");
    if (r->status != 200)
        fail_msg("receipt: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "state"), "received");
    http_free(r);
    r = test_call(day, "POST", path, police, "{}");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    assert_int_equal(db_count(sql, 1, p), overdue - 1);
    r = get(official, "/api/v1/statistics/dashboard");
    assert_int_equal(test_jint(json_object_get(r->json, "exchanges"), "overdue"), overdue - 1);
    http_free(r);
    free(path);
    free(mar);
    json_decref(x);
}

static void bad_queries_and_scope(void **state)
{
    char *other = test_unit_id("429005001"), *path;
    http_res *r;
    (void)state;

    r = get(police, "/api/v1/exchanges?state=late");
    http_assert_problem(r, 400, "state");
    http_free(r);
    r = get(police, "/api/v1/exchanges?cursor=zz");
    http_assert_problem(r, 400, "cursor");
    http_free(r);
    path = test_fmt("/api/v1/exchanges?org_unit_id=%s", other);
    r = get(police, path);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    free(path);
    r = get(yl_doctor, "/api/v1/exchanges?limit=200");
    assert_int_equal(r->status, 200);
    {
        json_t *it;
        size_t i;
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            assert_string_not_equal(test_jstr(it, "township_name"), "泰丰街道");
        }
    }
    http_free(r);
    r = get(police, "/api/v1/exchanges/999999999");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(other);
}

static int setup(void **state)
{
    char id[19], *name;
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    official = http_login("tf.official", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    g01 = test_unit_id("429005003001G01");
    year = db_scalar("SELECT extract(year FROM since)::int FROM exchange_start", 0, NULL);
    day = test_fmt("%s-07-15", year);
    {
        char *on = test_fmt("%s-02-03", year), *visit = test_fmt("%s-02-10", year);
        name = test_fmt("交换%s", test_cn_unique());
        test_new_id(id, -1, SUITE_SALT);
        pid = test_create_patient(doctor, on, name, id, g01, DIAG);
        test_stable_visit(doctor, pid, visit);
        free(on);
        free(visit);
        free(name);
    }
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &police, &civil, &official, &yl_doctor, &g01, &year, &day};
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
        cmocka_unit_test(cadence_by_pair),
        cmocka_unit_test(package_in_the_receivers_view),
        cmocka_unit_test(receipt_once_by_the_receiver),
        cmocka_unit_test(bad_queries_and_scope),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
