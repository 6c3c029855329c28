/* HTTP suite: ledgers (台账) — the lost with their search task, those not
 * taking medication with the reason, since when and the medicine taken
 * home (送药上门), weak or no guardian, migrants, key patients; each
 * entry's work notes; JSON pages, CSV and .xlsx; cut to the caller's role
 * and area; every write keyed, audited, and refused whole on bad input. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 24 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *police, *civil, *grid1, *yl_doctor, *tf_admin;
static char *g01;

static long long create_patient(const char *tag, char **name_out)
{
    char id[19], *name = test_fmt("台账%s%s", test_cn_unique(), tag);
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, NULL, name, id, g01, DIAG);
    if (name_out != NULL)
        *name_out = name;
    else
        free(name);
    return pid;
}

/* The entry of patient pid in ledger kind of grid 1 as token (a new
 * reference, NULL when absent), walking the pages. */
static json_t *entry(const char *token, const char *kind, long long pid)
{
    char *next = NULL;
    json_t *found = NULL;
    int pages = 0;

    do {
        char *path = next ? test_fmt("/api/v1/ledgers/%s?org_unit_id=%s&limit=100&cursor=%s", kind,
                                     g01, next)
                          : test_fmt("/api/v1/ledgers/%s?org_unit_id=%s&limit=100", kind, g01);
        http_res *r = http_do("GET", path, token, NULL, NULL);
        json_t *it;
        size_t i;

        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            if (test_jint(it, "patient_id") == pid && found == NULL)
                found = json_incref(it);
        }
        free(next);
        next = json_is_string(json_object_get(r->json, "next_cursor"))
                   ? strdup(test_jstr(r->json, "next_cursor"))
                   : NULL;
        http_free(r);
        free(path);
    } while (next != NULL && ++pages < 100);
    free(next);
    return found;
}

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    tf_admin = http_login("tf.admin", NULL);
    g01 = test_unit_id("429005003001G01");
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &police, &civil, &grid1, &yl_doctor, &tf_admin, &g01};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* 不服药: the reason and since when, the medicine taken home, work notes;
 * bad input changes nothing; the police do not read it. [R-LEDGER-1] */
static void non_adherent_with_reason_and_deliveries(void **state)
{
    long long pid = create_patient("甲", NULL);
    json_t *e, *d;

    (void)state;
    {
        char *path = test_fmt("/api/v1/patients/%lld/follow-ups", pid);
        http_free(test_expect(201, "2026-03-01", "POST", doctor, path,
                              "{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":true,"
                              "\"risk_level\":0,\"insight\":\"complete\",\"compliance\":"
                              "\"intermittent\",\"social_function\":{\"personal_care\":\"good\","
                              "\"housework\":\"good\",\"work\":\"good\",\"learning\":\"good\","
                              "\"social_contact\":\"good\"}}"));
    }
    e = entry(doctor, "non_adherent", pid);
    assert_non_null(e);
    d = json_object_get(e, "detail");
    assert_string_equal(test_jstr(d, "compliance"), "intermittent");
    assert_true(json_is_null(json_object_get(d, "reason")));
    assert_int_equal(test_jint(d, "deliveries"), 0);
    json_decref(e);

    /* The reason: bad input is 400 naming the field, nothing written. */
    {
        static const struct {
            const char *body, *field;
        } bad[] = {
            {"{\"since\":\"2026-02-01\"}", "reason"},
            {"{\"reason\":\"lazy\",\"since\":\"2026-02-01\"}", "reason"},
            {"{\"reason\":\"distance\"}", "since"},
            {"{\"reason\":\"distance\",\"since\":\"2026-03-09\"}", "since"},
            {"{\"reason\":\"distance\",\"since\":\"2026-02-01\",\"note\":\"\"}", "note"},
            {"{\"reason\":\"distance\",\"since\":\"2026-02-01\",\"x\":1}", "x"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            test_refused(400, bad[i].field, "2026-03-02", "POST", doctor,
                         test_fmt("/api/v1/patients/%lld/non-adherence", pid), bad[i].body);
    }
    const char *why = "{\"reason\":\"distance\",\"since\":\"2026-02-01\",\"note\":\"山路远\"}";
    test_refused(403, NULL, "2026-03-02", "POST", civil,
                 test_fmt("/api/v1/patients/%lld/non-adherence", pid), why);
    test_refused(404, NULL, "2026-03-02", "POST", yl_doctor,
                 test_fmt("/api/v1/patients/%lld/non-adherence", pid), why);
    assert_int_equal(
        db_count_id("SELECT count(*) FROM non_adherence_reasons WHERE patient_id = $1", pid), 0);
    http_free(test_expect(201, "2026-03-02", "POST", grid1,
                          test_fmt("/api/v1/patients/%lld/non-adherence", pid), why));

    /* 送药上门: keyed, written once; bad input writes nothing. */
    {
        static const struct {
            const char *body, *field;
        } bad[] = {
            {"{\"drug\":\"利培酮\",\"received_by\":\"guardian\"}", "delivered_on"},
            {"{\"delivered_on\":\"2026-03-09\",\"drug\":\"利培酮\",\"received_by\":\"guardian\"}",
             "delivered_on"},
            {"{\"delivered_on\":\"2026-03-03\",\"received_by\":\"guardian\"}", "drug"},
            {"{\"delivered_on\":\"2026-03-03\",\"drug\":\"利培酮\",\"received_by\":\"cat\"}",
             "received_by"},
            {"{\"delivered_on\":\"2026-03-03\",\"drug\":\"利培酮\",\"received_by\":\"guardian\","
             "\"days_supplied\":0}",
             "days_supplied"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            test_refused(400, bad[i].field, "2026-03-03", "POST", doctor,
                         test_fmt("/api/v1/patients/%lld/medication-deliveries", pid), bad[i].body);
    }
    const char *drop =
        "{\"delivered_on\":\"2026-03-03\",\"drug\":\"利培酮片\",\"days_supplied\":30,"
        "\"received_by\":\"guardian\"}";
    test_refused(403, NULL, "2026-03-03", "POST", civil,
                 test_fmt("/api/v1/patients/%lld/medication-deliveries", pid), drop);
    test_refused(404, NULL, "2026-03-03", "POST", yl_doctor,
                 test_fmt("/api/v1/patients/%lld/medication-deliveries", pid), drop);
    {
        char *key = test_fmt("delivery-%s", test_unique());
        http_res *a =
            test_post_keyed(doctor, pid, "medication-deliveries", key, drop, "2026-03-03");
        http_res *b =
            test_post_keyed(doctor, pid, "medication-deliveries", key, drop, "2026-03-03");
        assert_int_equal(a->status, 201);
        assert_int_equal(b->status, 201);
        assert_string_equal(a->body, b->body);
        http_free(a);
        http_free(b);
        free(key);
    }
    assert_int_equal(
        db_count_id("SELECT count(*) FROM medication_deliveries WHERE patient_id = $1", pid), 1);
    assert_int_equal(db_count_id("SELECT count(*) FROM audit_log WHERE action ="
                                 " 'medication_delivery.create' AND target_id = $1::text",
                                 pid),
                     1);
    http_free(test_expect(200, NULL, "GET", doctor,
                          test_fmt("/api/v1/patients/%lld/medication-deliveries", pid), NULL));

    /* A work note on the entry. */
    {
        static const struct {
            const char *body, *field;
        } bad[] = {
            {"{\"noted_on\":\"2026-03-04\",\"text\":\"x\"}", "ledger"},
            {"{\"ledger\":\"all\",\"noted_on\":\"2026-03-04\",\"text\":\"x\"}", "ledger"},
            {"{\"ledger\":\"non_adherent\",\"noted_on\":\"2026-03-09\",\"text\":\"x\"}",
             "noted_on"},
            {"{\"ledger\":\"non_adherent\",\"noted_on\":\"2026-03-04\",\"text\":\"\"}", "text"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            test_refused(400, bad[i].field, "2026-03-04", "POST", doctor,
                         test_fmt("/api/v1/patients/%lld/ledger-notes", pid), bad[i].body);
    }
    const char *note = "{\"ledger\":\"non_adherent\",\"noted_on\":\"2026-03-04\","
                       "\"text\":\"向监护人宣传不服药的危害\"}";
    test_refused(403, NULL, "2026-03-04", "POST", police,
                 test_fmt("/api/v1/patients/%lld/ledger-notes", pid), note);
    test_refused(403, NULL, "2026-03-04", "POST", tf_admin,
                 test_fmt("/api/v1/patients/%lld/ledger-notes", pid), note);
    test_refused(404, NULL, "2026-03-04", "POST", yl_doctor,
                 test_fmt("/api/v1/patients/%lld/ledger-notes", pid), note);
    assert_int_equal(db_count_id("SELECT count(*) FROM ledger_notes WHERE patient_id = $1", pid),
                     0);
    http_free(test_expect(201, "2026-03-04", "POST", doctor,
                          test_fmt("/api/v1/patients/%lld/ledger-notes", pid), note));
    assert_int_equal(db_count_id("SELECT count(*) FROM audit_log WHERE action = 'ledger.note'"
                                 " AND target_id = $1::text",
                                 pid),
                     1);

    e = entry(grid1, "non_adherent", pid);
    assert_non_null(e);
    d = json_object_get(e, "detail");
    assert_string_equal(test_jstr(d, "reason"), "distance");
    assert_string_equal(test_jstr(d, "reason_since"), "2026-02-01");
    assert_int_equal(test_jint(d, "deliveries"), 1);
    assert_string_equal(test_jstr(d, "last_delivered_on"), "2026-03-03");
    assert_string_equal(test_jstr(json_array_get(json_object_get(e, "notes"), 0), "text"),
                        "向监护人宣传不服药的危害");
    json_decref(e);
    test_refused(403, NULL, NULL, "GET", police, test_fmt("/api/v1/ledgers/non_adherent"), NULL);
    test_refused(403, NULL, NULL, "GET", civil, test_fmt("/api/v1/ledgers/non_adherent"), NULL);
}

/* 失访 with the search task and its notes; the key ledger names ever lost;
 * CSV and .xlsx of the whole ledger, no diagnosis for the police. [R-LEDGER-1] */
static void lost_key_and_files(void **state)
{
    char *name;
    long long pid = create_patient("乙", &name);
    json_t *e, *d;
    http_res *r;

    (void)state;
    test_stable_visit(doctor, pid, "2026-02-01");
    http_free(test_expect(200, "2026-03-01", "POST", grid1,
                          test_fmt("/api/v1/patients/%lld/whereabouts-unknown", pid),
                          "{\"reported_on\":\"2026-03-01\"}"));
    e = entry(police, "lost", pid);
    assert_non_null(e);
    d = json_object_get(e, "detail");
    assert_string_equal(test_jstr(d, "search_state"), "open");
    assert_string_equal(test_jstr(d, "lost_reason"), "whereabouts_unknown");
    http_free(
        test_expect(201, "2026-03-02", "POST", police,
                    test_fmt("/api/v1/search-tasks/%lld/notes", test_jint(d, "search_task_id")),
                    "{\"noted_on\":\"2026-03-02\",\"text\":\"走访邻居\"}"));
    json_decref(e);
    e = entry(police, "lost", pid);
    d = json_object_get(e, "detail");
    assert_string_equal(test_jstr(json_array_get(json_object_get(d, "search_notes"), 0), "text"),
                        "走访邻居");
    json_decref(e);
    test_refused(400, "org_unit_id", NULL, "GET", yl_doctor,
                 test_fmt("/api/v1/ledgers/lost?org_unit_id=%s", g01), NULL);
    test_refused(403, NULL, NULL, "GET", civil, test_fmt("/api/v1/ledgers/lost"), NULL);

    e = entry(doctor, "key", pid);
    assert_non_null(e);
    assert_true(test_jhas(json_object_get(json_object_get(e, "detail"), "key_flags"), "ever_lost"));
    json_decref(e);
    test_refused(403, NULL, NULL, "GET", civil, test_fmt("/api/v1/ledgers/key"), NULL);

    /* No active guardian: in the guardianship ledger, read by civil affairs too. */
    e = entry(civil, "guardianship", pid);
    assert_non_null(e);
    assert_string_equal(test_jstr(json_object_get(e, "detail"), "guardian_capacity"), "none");
    json_decref(e);

    /* Files: CSV by ?format or Accept, .xlsx; the police's has no diagnosis. */
    r = test_expect(200, NULL, "GET", police,
                    test_fmt("/api/v1/ledgers/lost?org_unit_id=%s&format=csv", g01), NULL);
    assert_non_null(strstr(http_header(r, "Content-Type"), "text/csv"));
    assert_memory_equal(r->body, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(r->body, "查找记录"));
    assert_non_null(strstr(r->body, name));
    assert_non_null(strstr(r->body, "走访邻居"));
    assert_null(strstr(r->body, "schizophrenia"));
    http_free(r);
    {
        char *path = test_fmt("/api/v1/ledgers/lost?org_unit_id=%s", g01);
        r = http_do("GET", path, police, NULL, "Accept: text/csv");
        assert_int_equal(r->status, 200);
        assert_non_null(strstr(r->body, name));
        http_free(r);
        r = http_do("GET", path, police, NULL,
                    "Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_int_equal(r->status, 200);
        assert_memory_equal(r->body, "PK", 2);
        http_free(r);
        free(path);
    }
    assert_true(db_count_until("SELECT count(*) FROM audit_log WHERE action = 'ledger.read'"
                               " AND detail->>'format' = 'xlsx'",
                               0, NULL, 1) >= 1);
    free(name);
}

/* 流动: away now (an open absence) puts the patient on the ledger. [R-LEDGER-1] */
static void migrant_away(void **state)
{
    long long pid = create_patient("丙", NULL);
    json_t *e;

    (void)state;
    assert_null(entry(doctor, "migrant", pid));
    http_free(test_expect(
        201, "2026-03-01", "POST", grid1, test_fmt("/api/v1/patients/%lld/absences", pid),
        "{\"kind\":\"work\",\"destination\":\"宁波市北仑区\",\"left_on\":\"2026-02-20\"}"));
    e = entry(police, "migrant", pid);
    assert_non_null(e);
    assert_string_equal(test_jstr(json_object_get(e, "detail"), "away_to"), "宁波市北仑区");
    json_decref(e);
}

/* Bad list parameters are 400 naming them; an unknown ledger is 404. */
static void bad_queries(void **state)
{
    char *yl = test_unit_id("429005001");

    (void)state;
    test_refused(404, NULL, NULL, "GET", doctor, test_fmt("/api/v1/ledgers/everyone"), NULL);
    test_refused(400, "format", NULL, "GET", doctor, test_fmt("/api/v1/ledgers/key?format=pdf"),
                 NULL);
    test_refused(400, "org_unit_id", NULL, "GET", doctor,
                 test_fmt("/api/v1/ledgers/key?org_unit_id=%s", yl), NULL);
    test_refused(400, "limit", NULL, "GET", doctor, test_fmt("/api/v1/ledgers/key?limit=500"),
                 NULL);
    test_refused(400, "cursor", NULL, "GET", doctor, test_fmt("/api/v1/ledgers/key?cursor=@@"),
                 NULL);
    free(yl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(non_adherent_with_reason_and_deliveries),
        cmocka_unit_test(lost_key_and_files),
        cmocka_unit_test(migrant_away),
        cmocka_unit_test(bad_queries),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
