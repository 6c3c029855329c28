/* HTTP suite: assigning the responsible doctor (精防医生) — who may, which
 * doctors qualify, clearing it, and the worklists that filter on it (every
 * one of them, with the doctors to pick from). */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 15 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"bipolar\",\"diagnosis_date\":\"2021-03-01\""

static char *doctor, *grid1, *yl_doctor, *official;

static int setup(void **state)
{
    doctor = http_login("tf.doctor", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    official = http_login("tf.official", NULL);
    return 0;
}

static int teardown(void **state)
{
    free(doctor);
    free(grid1);
    free(yl_doctor);
    free(official);
    return 0;
}

static long long new_patient(const char *grid_code)
{
    char id[19], *unit = test_unit_id(grid_code), *name;
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    name = test_fmt("医%s", test_cn_unique());
    pid = test_create_patient(doctor, NULL, name, id, unit, DIAG);
    free(unit);
    free(name);
    return pid;
}

static http_res *put_doctor(const char *token, long long pid, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld/doctor", pid);
    http_res *r = http_do("PUT", path, token, body, NULL);

    free(path);
    return r;
}

static void assign_clear_and_filter(void **state)
{
    long long pid = new_patient("429005003001G01"); /* 梅苑社区第一网格 */
    char *doc2 = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor2'", 0, NULL);
    char *body = test_fmt("{\"doctor_id\":%s}", doc2), *path;
    http_res *r = put_doctor(doctor, pid, body);

    /* tf.doctor2 serves 梅苑社区, the patient's village. */
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "doctor_id"), strtoll(doc2, NULL, 10));
    assert_non_null(test_jstr(r->json, "doctor_name"));
    http_free(r);
    /* The worklist narrowed to that doctor lists the patient (new: due in 14 days). */
    path = test_fmt("/api/v1/worklists/due?doctor_id=%s&limit=200", doc2);
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    {
        char needle[64];
        snprintf(needle, sizeof(needle), "\"patient_id\" : %lld,", pid);
        if (strstr(r->body, needle) == NULL)
            fail_msg("patient %lld not in doctor %s's due list: %s", pid, doc2, r->body);
    }
    http_free(r);
    free(path);
    r = put_doctor(doctor, pid, "{\"doctor_id\":null}");
    assert_int_equal(r->status, 200);
    assert_true(json_is_null(json_object_get(r->json, "doctor_id")));
    http_free(r);
    free(body);
    free(doc2);
}

static void only_doctors_serving_the_area(void **state)
{
    long long pid = new_patient("429005003004G01"); /* 潜阳村: not tf.doctor2's village */
    char *doc2 = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor2'", 0, NULL);
    char *police = db_scalar("SELECT id FROM users WHERE username = 'tf.police'", 0, NULL);
    char *yl = db_scalar("SELECT id FROM users WHERE username = 'yl.doctor'", 0, NULL);
    char *bodies[] = {test_fmt("{\"doctor_id\":%s}", doc2), test_fmt("{\"doctor_id\":%s}", police),
                      test_fmt("{\"doctor_id\":%s}", yl), strdup("{\"doctor_id\":99999999}"),
                      strdup("{\"doctor_id\":\"4\"}"), strdup("{\"doctor_id\":0}"),
                      strdup("{}"), strdup("{\"doctor_id\":null,\"x\":1}")};
    const char *p[] = {NULL};
    char pids[24];

    snprintf(pids, sizeof(pids), "%lld", pid);
    p[0] = pids;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        http_res *r = put_doctor(doctor, pid, bodies[i]);
        http_assert_problem(r, 400, i == 7 ? "x" : "doctor_id");
        http_free(r);
        free(bodies[i]);
    }
    assert_int_equal(db_count("SELECT count(*) FROM patients WHERE id = $1 AND doctor_id IS NULL"
                              " AND version = 1",
                              1, p),
                     1);
    /* Who may: a grid worker may not (403); another township sees nothing (404). */
    {
        http_res *r = put_doctor(grid1, pid, "{\"doctor_id\":null}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = put_doctor(yl_doctor, pid, "{\"doctor_id\":null}");
        http_assert_problem(r, 404, NULL);
        http_free(r);
    }
    free(doc2);
    free(police);
    free(yl);
}

/* How many ids a "{1,2,…}" literal holds. */
static size_t cardinality_of(const char *ids)
{
    size_t n = ids[1] == '}' ? 0 : 1;

    for (const char *c = ids; *c; c++)
        n += *c == ',';
    return n;
}

/* The patient ids of every page of list (query q) as token, as a SQL array
 * literal "{1,2,…}"; fails unless each page is 200. */
static char *list_ids(const char *token, const char *list, const char *q)
{
    size_t cap = 64, len = 1;
    char *ids = malloc(cap), *cursor = NULL;

    assert_non_null(ids);
    ids[0] = '{';
    do {
        char *path = test_fmt("/api/v1/worklists/%s?limit=200&%s%s%s", list, q,
                              cursor ? "&cursor=" : "", cursor ? cursor : "");
        http_res *r = http_do("GET", path, token, NULL, NULL);
        json_t *it;
        size_t i;
        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            char one[32];
            int n = snprintf(one, sizeof(one), "%s%lld", len > 1 ? "," : "",
                             test_jint(it, "patient_id"));
            if (len + (size_t)n + 2 > cap) {
                cap = 2 * cap + (size_t)n;
                ids = realloc(ids, cap);
                assert_non_null(ids);
            }
            memcpy(ids + len, one, (size_t)n);
            len += (size_t)n;
        }
        free(cursor);
        const char *next = http_str(r, "next_cursor");
        cursor = next ? strdup(next) : NULL;
        http_free(r);
        free(path);
    } while (cursor != NULL);
    ids[len] = '}';
    ids[len + 1] = '\0';
    return ids;
}

/* [R-DUE-6] */
static void every_worklist_by_doctor(void **state)
{
    static const char *const lists[] = {"due",         "overdue",   "lost",         "health-checks",
                                        "face-to-face", "pickups-overdue", "care-gaps",
                                        "guardian-gaps"};
    /* A new patient of tf.doctor2 in 梅苑社区: due soon, and with no
     * guardian, so on the care-team and guardian gap lists too. */
    long long pid = new_patient("429005003001G02");
    char *doc2 = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor2'", 0, NULL);
    char *body = test_fmt("{\"doctor_id\":%s}", doc2);
    http_res *r = put_doctor(doctor, pid, body);
    char *mine = test_fmt("doctor_id=%s", doc2), pids[24];

    (void)state;
    assert_int_equal(r->status, 200);
    http_free(r);
    snprintf(pids, sizeof(pids), "%lld", pid);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        /* Narrowed: exactly the patients of the whole list whose doctor it is. */
        char *all = list_ids(official, lists[i], ""), *only = list_ids(official, lists[i], mine);
        const char *in_only[] = {only, doc2}, *in_all[] = {all, doc2}, *has[] = {only, pids};
        if (db_count("SELECT count(*) FROM unnest($1::bigint[]) x JOIN patients p ON p.id = x"
                     " WHERE p.doctor_id IS DISTINCT FROM $2::bigint",
                     2, in_only) != 0 ||
            db_count("SELECT count(*) FROM unnest($1::bigint[]) x JOIN patients p ON p.id = x"
                     " WHERE p.doctor_id = $2::bigint",
                     2, in_all) != (long)cardinality_of(only))
            fail_msg("%s: narrowed to doctor %s it lists %s, of %s", lists[i], doc2, only, all);
        /* The new patient is due soon and has no guardian. */
        if (i == 0 || i >= 6)
            assert_int_equal(
                db_count("SELECT count(*) FROM unnest($1::bigint[]) x WHERE x = $2::bigint", 2, has),
                1);
        free(all);
        free(only);
        /* A malformed doctor_id is refused, naming it. */
        char *path = test_fmt("/api/v1/worklists/%s?doctor_id=abc", lists[i]);
        r = http_do("GET", path, official, NULL, NULL);
        http_assert_problem(r, 400, "doctor_id");
        http_free(r);
        free(path);
    }
    /* The guardian gaps narrow to a village as the other lists do. */
    char *meiyuan = test_unit_id("429005003001"), *qianyang = test_unit_id("429005003004");
    char *q = test_fmt("org_unit_id=%s", meiyuan), *ids = list_ids(official, "guardian-gaps", q);
    assert_non_null(strstr(ids, pids));
    free(ids);
    free(q);
    q = test_fmt("org_unit_id=%s", qianyang);
    ids = list_ids(official, "guardian-gaps", q);
    assert_null(strstr(ids, pids));
    free(ids);
    free(q);
    char *yl_unit = test_unit_id("429005001");
    q = test_fmt("/api/v1/worklists/guardian-gaps?org_unit_id=%s", yl_unit);
    r = http_do("GET", q, official, NULL, NULL);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    free(q);
    free(meiyuan);
    free(qianyang);
    free(yl_unit);
    free(mine);
    free(body);
    free(doc2);
}

/* The doctors to pick from: those responsible for patients in the area. */
static void doctors_of_the_area(void **state)
{
    char *doc2 = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor2'", 0, NULL);
    long long want = db_count("SELECT count(*) FROM patients WHERE doctor_id = $1::bigint"
                              " AND status IN ('registered', 'in_care', 'hospitalised', 'lost',"
                              " 'moved_out') AND org_path LIKE (SELECT path FROM org_units"
                              " WHERE code = '429005003') || '%'",
                              1, (const char *const[]){doc2});
    http_res *r = http_do("GET", "/api/v1/worklists/doctors", official, NULL, NULL);
    json_t *it;
    size_t i;
    int found = 0;

    (void)state;
    assert_int_equal(r->status, 200);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        if (test_jint(it, "id") == strtoll(doc2, NULL, 10)) {
            found = 1;
            assert_int_equal(test_jint(it, "patients"), want);
            assert_non_null(test_jstr(it, "name"));
        }
    }
    assert_true(found && want > 0);
    http_free(r);
    /* Another township's doctor does not see tf.doctor2's patients. */
    r = http_do("GET", "/api/v1/worklists/doctors", yl_doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    assert_true(test_jint(it, "id") != strtoll(doc2, NULL, 10));
    http_free(r);
    const char *bad[] = {"/api/v1/worklists/doctors?org_unit_id=abc",
                         "/api/v1/worklists/doctors?org_unit_id=99999999"};
    for (size_t k = 0; k < 2; k++) {
        r = http_do("GET", bad[k], official, NULL, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
    }
    r = http_do("GET", "/api/v1/worklists/doctors", NULL, NULL, NULL);
    assert_int_equal(r->status, 401);
    http_free(r);
    free(doc2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assign_clear_and_filter),
        cmocka_unit_test(only_doctors_serving_the_area),
        cmocka_unit_test(every_worklist_by_doctor),
        cmocka_unit_test(doctors_of_the_area),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
