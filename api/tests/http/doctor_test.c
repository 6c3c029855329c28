/* HTTP suite: assigning the responsible doctor (精防医生) — who may, which
 * doctors qualify, clearing it, and the worklists that filter on it. */
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

static char *doctor, *grid1, *yl_doctor;

static int setup(void **state)
{
    doctor = http_login("tf.doctor", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    return 0;
}

static int teardown(void **state)
{
    free(doctor);
    free(grid1);
    free(yl_doctor);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assign_clear_and_filter),
        cmocka_unit_test(only_doctors_serving_the_area),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
