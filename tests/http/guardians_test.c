/* HTTP suite: guardians (监护人) — primary, assistant and social guardians
 * with their rules, bad fields refused with nothing written, what each
 * role sees, changes with If-Match and ending a guardian; and the worklist
 * of registered patients lacking a capable guardian. */
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

#define SUITE_SALT 3 /* keeps this suite's ID numbers apart from the others' */

static char *doctor, *police, *civil, *official, *grid1, *grid2, *yl_doctor;
static char *g01, *qy_g01;
static char *meiyuan_committee, *qianyang_committee, *tf_police_station, *tf_civil_affairs;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

/* ---- helpers ---------------------------------------------------------- */

/* Register a patient as the doctor in unit; returns its id. */
static long long create_patient(const char *name, const char *unit)
{
    char id[19];

    test_new_id(id, -1, SUITE_SALT);
    return test_create_patient(doctor, NULL, name, id, unit, DIAG);
}

static char *gpath(long long pid)
{
    return test_fmt("/api/v1/patients/%lld/guardians", pid);
}

static long guardians_of(long long pid)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM guardians WHERE patient_id = $1", 1, p);
}

/* Add a guardian as token; expects 201 and returns the guardian's id. */
static long long add_guardian(const char *token, long long pid, const char *body)
{
    char *path = gpath(pid);
    http_res *r = http_do("POST", path, token, body, NULL);
    long long gid;

    if (r->status != 201)
        fail_msg("add guardian %s: %ld %s", body, r->status, r->body);
    gid = test_jint(r->json, "id");
    http_free(r);
    free(path);
    return gid;
}

static void keys_present(const json_t *o, const char *const *keys, int present, const char *who)
{
    for (size_t i = 0; keys[i]; i++) {
        int has = json_object_get(o, keys[i]) != NULL;
        if (has != present) {
            char *s = json_dumps(o, 0);
            fail_msg("%s: '%s' should be %s: %s", who, keys[i], present ? "shown" : "hidden", s);
        }
    }
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
    g01 = test_unit_id("429005003001G01");
    qy_g01 = test_unit_id("429005003004G01");
    meiyuan_committee = test_agency_id("梅苑社区居委会");
    qianyang_committee = test_agency_id("潜阳村村委会");
    tf_police_station = test_agency_id("泰丰派出所");
    tf_civil_affairs = test_agency_id("泰丰街道民政办");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor,
                    &police,
                    &civil,
                    &official,
                    &grid1,
                    &grid2,
                    &yl_doctor,
                    &g01,
                    &qy_g01,
                    &meiyuan_committee,
                    &qianyang_committee,
                    &tf_police_station,
                    &tf_civil_affairs};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- adding guardians --------------------------------------------------------- */

/* [R-GUARD-1] */
static void primary_assistant_and_social_guardians(void **state)
{
    char *name = test_fmt("监护%s甲", cn_unique), *path, *loc, gid_id[19], *body;
    long long pid = create_patient(name, g01), gid;
    http_res *r;
    long before;

    path = gpath(pid);
    test_new_id(gid_id, 1, SUITE_SALT);
    body = test_fmt("{\"kind\":\"primary\",\"name\":\"王建国\",\"relation\":\"parent\","
               "\"id_number\":\"%s\",\"phone\":\"13911112222\",\"address\":\"梅苑路9号\","
               "\"capacity\":\"adequate\",\"agreement_signed_on\":\"2024-01-10\","
               "\"responsibility_notice_on\":\"2024-01-11\"}",
               gid_id);
    r = http_do("POST", path, doctor, body, NULL);
    assert_int_equal(r->status, 201);
    gid = test_jint(r->json, "id");
    assert_true(gid > 0);
    loc = test_fmt("%s/%lld", path, gid);
    assert_string_equal(http_header(r, "Location"), loc);
    assert_string_equal(http_header(r, "ETag"), "\"1\"");
    assert_string_equal(test_jstr(r->json, "kind"), "primary");
    assert_string_equal(test_jstr(r->json, "relation"), "parent");
    assert_string_equal(test_jstr(r->json, "capacity"), "adequate");
    assert_true(json_is_true(json_object_get(r->json, "active")));
    assert_true(json_is_true(json_object_get(r->json, "has_agreement")));
    assert_string_equal(test_jstr(r->json, "agreement_signed_on"), "2024-01-10");
    assert_string_equal(test_jstr(r->json, "responsibility_notice_on"), "2024-01-11");
    assert_string_equal(test_jstr(r->json, "address"), "梅苑路9号");
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    http_free(r);
    {
        char idtxt[32];
        const char *p[] = {idtxt, gid_id};
        snprintf(idtxt, sizeof(idtxt), "%lld", gid);
        /* The guardian's ID number is not kept in plain text either. */
        assert_int_equal(db_count("SELECT count(*) FROM guardians WHERE id = $1 AND"
                                  " encode(id_cipher, 'escape') NOT LIKE '%' || $2 || '%'"
                                  " AND length(id_index) = 32 AND phone_masked = '139****2222'",
                                  2, p),
                         1);
    }
    before = guardians_of(pid);

    /* A second active primary guardian: 409 naming kind. */
    r = http_do("POST", path, doctor,
                "{\"kind\":\"primary\",\"name\":\"王母\",\"relation\":\"parent\","
                "\"capacity\":\"adequate\"}",
                NULL);
    http_assert_problem(r, 409, "kind");
    http_free(r);
    assert_int_equal(guardians_of(pid), before);

    /* Assistants are fine, several of them. */
    add_guardian(doctor, pid,
                 "{\"kind\":\"assistant\",\"name\":\"王弟\",\"relation\":\"sibling\","
                 "\"capacity\":\"adequate\",\"phone\":\"13922223333\"}");
    add_guardian(doctor, pid,
                 "{\"kind\":\"assistant\",\"name\":\"王叔\",\"relation\":\"other_relative\","
                 "\"capacity\":\"weak\"}");
    before = guardians_of(pid);

    /* Social guardians: appointed by the village committee or civil
     * affairs serving the patient's area, nobody else. */
    struct {
        const char *agency;
        long status;
    } social[] = {
        {NULL, 400},
        {tf_police_station, 400},
        {qianyang_committee, 400},
        {"999999999", 400},
    };
    for (size_t i = 0; i < sizeof(social) / sizeof(social[0]); i++) {
        char *b = social[i].agency
                      ? test_fmt("{\"kind\":\"social\",\"name\":\"社区干部\",\"relation\":"
                            "\"village_committee\",\"capacity\":\"adequate\",\"agency_id\":%s}",
                            social[i].agency)
                      : test_fmt("{\"kind\":\"social\",\"name\":\"社区干部\",\"relation\":"
                            "\"village_committee\",\"capacity\":\"adequate\"}");
        r = http_do("POST", path, doctor, b, NULL);
        http_assert_problem(r, social[i].status, "agency_id");
        http_free(r);
        free(b);
    }
    /* An agency on a relative: only social guardians have one. */
    {
        char *b = test_fmt("{\"kind\":\"assistant\",\"name\":\"王姐\",\"relation\":\"sibling\","
                      "\"capacity\":\"adequate\",\"agency_id\":%s}",
                      meiyuan_committee);
        r = http_do("POST", path, doctor, b, NULL);
        http_assert_problem(r, 400, "agency_id");
        http_free(r);
        free(b);
    }
    assert_int_equal(guardians_of(pid), before);
    {
        char *b = test_fmt("{\"kind\":\"social\",\"name\":\"周德明\",\"relation\":"
                      "\"village_committee\",\"capacity\":\"adequate\",\"agency_id\":%s}",
                      meiyuan_committee);
        r = http_do("POST", path, doctor, b, NULL);
        assert_int_equal(r->status, 201);
        assert_string_equal(test_jstr(r->json, "kind"), "social");
        assert_int_equal(test_jint(r->json, "agency_id"), strtoll(meiyuan_committee, NULL, 10));
        assert_string_equal(test_jstr(r->json, "agency_name"), "梅苑社区居委会");
        http_free(r);
        free(b);
        b = test_fmt("{\"kind\":\"social\",\"name\":\"刘芳\",\"relation\":\"civil_affairs\","
                "\"capacity\":\"adequate\",\"agency_id\":%s}",
                tf_civil_affairs);
        r = http_do("POST", path, civil, b, NULL);
        assert_int_equal(r->status, 201);
        http_free(r);
        free(b);
    }
    assert_int_equal(guardians_of(pid), before + 2);
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'guardian.create' AND target_id = $1",
                                  1, p),
                         before + 2);
    }
    free(body);
    free(loc);
    free(path);
    free(name);
}

static void bad_guardians_write_nothing(void **state)
{
    char *name = test_fmt("监护%s乙", cn_unique), *path, id[19], *bad_check;
    long long pid = create_patient(name, g01);
    json_t *base;
    long before, total = db_count("SELECT count(*) FROM guardians", 0, NULL);
    struct {
        const char *key, *value, *field; /* value NULL: key removed */
    } cases[] = {
        {"kind", NULL, "kind"},
        {"kind", "\"uncle\"", "kind"},
        {"name", NULL, "name"},
        {"name", "\"\"", "name"},
        {"name", "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\"", "name"},
        {"relation", NULL, "relation"},
        {"relation", "\"neighbour\"", "relation"},
        {"relation", "7", "relation"},
        {"capacity", NULL, "capacity"},
        {"capacity", "\"strong\"", "capacity"},
        {"phone", "\"abc12\"", "phone"},
        {"phone", "\"12\"", "phone"},
        {"phone", "13911112222", "phone"},
        {"agreement_signed_on", "\"2024-13-01\"", "agreement_signed_on"},
        {"agreement_signed_on", "\"2099-01-01\"", "agreement_signed_on"},
        {"responsibility_notice_on", "\"yesterday\"", "responsibility_notice_on"},
        {"responsibility_notice_on", "\"2024-02-30\"", "responsibility_notice_on"},
        {"email", "\"a@b.c\"", "email"},
        {"active", "false", "active"},
        {"id_number", "\"12345\"", "id_number"},
        {"id_number", NULL, NULL}, /* placeholder: a wrong check character, below */
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);

    test_new_id(id, 1, SUITE_SALT);
    bad_check = test_fmt("\"%s\"", id);
    bad_check[18] = bad_check[18] == '0' ? '1' : '0';
    cases[n - 1].value = bad_check;
    cases[n - 1].field = "id_number";
    path = gpath(pid);
    before = guardians_of(pid);
    base = json_pack("{s:s,s:s,s:s,s:s}", "kind", "primary", "name", "李母", "relation", "parent",
                     "capacity", "adequate");
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
        r = http_do("POST", path, doctor, text, NULL);
        if (r->status != 400)
            fail_msg("case %zu (%s): expected 400, got %ld: %s", i, cases[i].key, r->status,
                     r->body);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
        free(text);
        json_decref(b);
    }
    assert_int_equal(guardians_of(pid), before);
    assert_int_equal(db_count("SELECT count(*) FROM guardians", 0, NULL), total);
    /* The base body is good. */
    {
        char *text = json_dumps(base, JSON_COMPACT);
        http_res *r = http_do("POST", path, doctor, text, NULL);
        assert_int_equal(r->status, 201);
        http_free(r);
        free(text);
    }
    json_decref(base);
    free(bad_check);
    free(path);
    free(name);
}

static void guardian_roles_and_areas(void **state)
{
    char *name = test_fmt("监护%s丙", cn_unique), *path;
    long long pid = create_patient(name, g01);
    const char *body = "{\"kind\":\"assistant\",\"name\":\"赵某\",\"relation\":\"sibling\","
                       "\"capacity\":\"adequate\"}";
    struct {
        const char *who;
        const char *token;
        long status;
    } cases[] = {
        {"police", police, 403},
        {"official", official, 403},
        {"grid worker of another grid", grid2, 404},
        {"doctor of another township", yl_doctor, 404},
    };
    long before;
    http_res *r;

    path = gpath(pid);
    before = guardians_of(pid);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = http_do("POST", path, cases[i].token, body, NULL);
        if (r->status != cases[i].status)
            fail_msg("%s: expected %ld, got %ld: %s", cases[i].who, cases[i].status, r->status,
                     r->body);
        http_assert_problem(r, cases[i].status, NULL);
        http_free(r);
    }
    assert_int_equal(guardians_of(pid), before);
    /* Nor do they read the guardians of a record outside their area. */
    r = http_do("GET", path, grid2, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", path, yl_doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* The grid's own worker may add one; no such patient is 404. */
    add_guardian(grid1, pid, body);
    r = http_do("POST", "/api/v1/patients/999999999/guardians", doctor, body, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("POST", "/api/v1/patients/abc/guardians", doctor, body, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(guardians_of(pid), before + 1);
    free(path);
    free(name);
}

/* ---- reading ------------------------------------------------------------------ */

static void each_role_reads_its_guardian_view(void **state)
{
    static const char *const contact[] = {"name",     "relation",      "phone",
                                          "capacity", "has_agreement", NULL};
    static const char *const detail[] = {"address", "agreement_signed_on",
                                         "responsibility_notice_on", "id_number_masked", NULL};
    char *name = test_fmt("监护%s丁", cn_unique), *path, gid_id[19], *body;
    long long pid = create_patient(name, g01);
    http_res *r;
    json_t *g;

    test_new_id(gid_id, 0, SUITE_SALT);
    body = test_fmt("{\"kind\":\"primary\",\"name\":\"钱母\",\"relation\":\"parent\","
               "\"id_number\":\"%s\",\"phone\":\"13944445555\",\"address\":\"梅苑路12号\","
               "\"capacity\":\"adequate\",\"agreement_signed_on\":\"2024-02-01\"}",
               gid_id);
    add_guardian(doctor, pid, body);
    path = gpath(pid);

    /* Doctor: the agreement dates, the address, the whole ID number. */
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    g = json_array_get(json_object_get(r->json, "items"), 0);
    keys_present(g, contact, 1, "doctor");
    keys_present(g, detail, 1, "doctor");
    assert_string_equal(test_jstr(g, "agreement_signed_on"), "2024-02-01");
    assert_string_equal(test_jstr(g, "address"), "梅苑路12号");
    assert_string_equal(test_jstr(g, "phone"), "13944445555");
    assert_string_equal(test_jstr(g, "id_number"), gid_id);
    assert_true(json_is_true(json_object_get(g, "has_agreement")));
    http_free(r);

    /* Police: whom to call, and whether an agreement exists; nothing more. */
    r = http_do("GET", path, police, NULL, NULL);
    assert_int_equal(r->status, 200);
    g = json_array_get(json_object_get(r->json, "items"), 0);
    assert_non_null(g);
    keys_present(g, contact, 1, "police");
    keys_present(g, detail, 0, "police");
    assert_null(json_object_get(g, "id_number"));
    assert_null(json_object_get(g, "agency_id"));
    assert_null(json_object_get(g, "ended_on"));
    assert_string_equal(test_jstr(g, "name"), "钱母");
    assert_string_equal(test_jstr(g, "relation"), "parent");
    assert_string_equal(test_jstr(g, "phone"), "13944445555");
    assert_string_equal(test_jstr(g, "capacity"), "adequate");
    assert_true(json_is_true(json_object_get(g, "has_agreement")));
    assert_null(strstr(r->body, "梅苑路12号"));
    assert_null(strstr(r->body, "2024-02-01"));
    assert_null(strstr(r->body, gid_id));
    http_free(r);

    /* Official: the detail, but masked phones and no whole ID number. */
    r = http_do("GET", path, official, NULL, NULL);
    assert_int_equal(r->status, 200);
    g = json_array_get(json_object_get(r->json, "items"), 0);
    keys_present(g, detail, 1, "official");
    assert_string_equal(test_jstr(g, "phone"), "139****5555");
    assert_null(json_object_get(g, "id_number"));
    assert_null(strstr(r->body, gid_id));
    http_free(r);

    /* The read is on the record. */
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'patient.guardians' AND target_id = $1",
                                  1, p),
                         3);
    }
    free(body);
    free(path);
    free(name);
}

/* ---- changing and ending ---------------------------------------------------- */

static void patch_and_end_guardians(void **state)
{
    char *name = test_fmt("监护%s戊", cn_unique), *base, *pp, *ap, idtxt[32];
    long long pid = create_patient(name, g01), primary, assistant;
    http_res *r;

    primary = add_guardian(doctor, pid,
                           "{\"kind\":\"primary\",\"name\":\"孙父\",\"relation\":\"parent\","
                           "\"capacity\":\"adequate\",\"phone\":\"13955556666\"}");
    assistant = add_guardian(doctor, pid,
                             "{\"kind\":\"assistant\",\"name\":\"孙兄\",\"relation\":"
                             "\"sibling\",\"capacity\":\"adequate\"}");
    base = gpath(pid);
    pp = test_fmt("%s/%lld", base, primary);
    ap = test_fmt("%s/%lld", base, assistant);

    r = http_do("PATCH", pp, doctor, "{\"capacity\":\"weak\"}", NULL);
    http_assert_problem(r, 428, "If-Match");
    http_free(r);
    r = http_do("PATCH", pp, doctor, "{\"capacity\":\"weak\"}", "If-Match: \"3\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);
    r = http_do("PATCH", pp, doctor,
                "{\"capacity\":\"weak\",\"phone\":\"13966667777\",\"agreement_signed_on\":"
                "\"2024-03-01\"}",
                "If-Match: \"1\"");
    assert_int_equal(r->status, 200);
    assert_string_equal(http_header(r, "ETag"), "\"2\"");
    assert_int_equal(test_jint(r->json, "version"), 2);
    assert_string_equal(test_jstr(r->json, "capacity"), "weak");
    assert_string_equal(test_jstr(r->json, "phone"), "13966667777");
    assert_string_equal(test_jstr(r->json, "agreement_signed_on"), "2024-03-01");
    assert_string_equal(test_jstr(r->json, "name"), "孙父");
    http_free(r);
    snprintf(idtxt, sizeof(idtxt), "%lld", primary);
    {
        const char *p[] = {idtxt};
        assert_int_equal(db_count("SELECT count(*) FROM guardians WHERE id = $1 AND"
                                  " phone_masked = '139****7777'",
                                  1, p),
                         1);
    }
    r = http_do("PATCH", pp, doctor, "{\"capacity\":\"adequate\"}", "If-Match: \"1\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);

    /* Bad changes: 400 naming the field, nothing changed. */
    static const char *const bad[][2] = {
        {"{\"active\":true}", "active"},
        {"{\"active\":\"no\"}", "active"},
        {"{\"kind\":\"social\"}", "kind"},
        {"{\"kind\":\"uncle\"}", "kind"},
        {"{\"name\":null}", "name"},
        {"{\"capacity\":null}", "capacity"},
        {"{\"relation\":\"neighbour\"}", "relation"},
        {"{\"phone\":\"abc12\"}", "phone"},
        {"{\"agreement_signed_on\":\"2099-01-01\"}", "agreement_signed_on"},
        {"{\"id_number\":\"429005198501011234\"}", "id_number"},
        {"{\"agency_id\":1}", "agency_id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("PATCH", pp, doctor, bad[i][0], "If-Match: \"2\"");
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
    {
        const char *p[] = {idtxt};
        assert_int_equal(db_count("SELECT version FROM guardians WHERE id = $1", 1, p), 2);
    }
    /* Roles and areas. */
    r = http_do("PATCH", pp, police, "{\"capacity\":\"none\"}", "If-Match: \"2\"");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("PATCH", pp, grid2, "{\"capacity\":\"none\"}", "If-Match: \"2\"");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* A guardian of another patient under this patient's path: 404. */
    {
        long long other = create_patient("监护他人", g01);
        char *op = test_fmt("/api/v1/patients/%lld/guardians/%lld", other, primary);
        r = http_do("PATCH", op, doctor, "{\"capacity\":\"none\"}", "If-Match: \"2\"");
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(op);
    }

    /* Promoting the assistant while the primary is active: 409 kind. */
    r = http_do("PATCH", ap, doctor, "{\"kind\":\"primary\"}", "If-Match: \"1\"");
    http_assert_problem(r, 409, "kind");
    http_free(r);

    /* Ending the primary: kept, with the date it ended. */
    r = http_do("PATCH", pp, doctor, "{\"active\":false}", "If-Match: \"2\"");
    assert_int_equal(r->status, 200);
    assert_true(json_is_false(json_object_get(r->json, "active")));
    assert_non_null(test_jstr(r->json, "ended_on"));
    http_free(r);
    {
        const char *p[] = {idtxt};
        assert_int_equal(db_count("SELECT count(*) FROM guardians WHERE id = $1 AND NOT active"
                                  " AND ended_on = (now() AT TIME ZONE 'Asia/Shanghai')::date",
                                  1, p),
                         1);
    }
    r = http_do("PATCH", pp, doctor, "{\"capacity\":\"adequate\"}", "If-Match: \"3\"");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    r = http_do("PATCH", pp, doctor, "{\"active\":false}", "If-Match: \"3\"");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    /* Now the assistant may become the primary guardian. */
    r = http_do("PATCH", ap, doctor, "{\"kind\":\"primary\"}", "If-Match: \"1\"");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "kind"), "primary");
    http_free(r);
    /* The ended guardian is history: listed after the active ones, not in
     * the patient's summary. */
    r = http_do("GET", base, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    {
        json_t *items = json_object_get(r->json, "items");
        assert_int_equal(json_array_size(items), 2);
        assert_int_equal(test_jint(json_array_get(items, 0), "id"), assistant);
        assert_int_equal(test_jint(json_array_get(items, 1), "id"), primary);
        assert_true(json_is_false(json_object_get(json_array_get(items, 1), "active")));
    }
    http_free(r);
    {
        char *path = test_fmt("/api/v1/patients/%lld", pid);
        r = http_do("GET", path, doctor, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_int_equal(json_array_size(json_object_get(r->json, "guardians")), 1);
        http_free(r);
        free(path);
    }
    free(pp);
    free(ap);
    free(base);
    free(name);
}

/* ---- the guardian-gaps worklist --------------------------------------------- */

/* Walk every page of the worklist as token; returns {id: item} and the ids
 * in order (*order). */
static json_t *gaps(const char *token, int limit, json_t **order)
{
    json_t *byid = json_object();
    char *path = test_fmt("/api/v1/worklists/guardian-gaps?limit=%d", limit);

    *order = json_array();
    for (;;) {
        http_res *r = http_do("GET", path, token, NULL, NULL);
        json_t *items, *it;
        const char *next;
        size_t i;

        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        items = json_object_get(r->json, "items");
        assert_true(json_array_size(items) <= (size_t)limit);
        json_array_foreach(items, i, it)
        {
            char key[32];
            snprintf(key, sizeof(key), "%lld", test_jint(it, "patient_id"));
            if (json_object_get(byid, key) != NULL)
                fail_msg("patient %s listed twice", key);
            json_object_set(byid, key, it);
            json_array_append_new(*order, json_integer(test_jint(it, "patient_id")));
        }
        next = test_jstr(r->json, "next_cursor");
        free(path);
        if (next == NULL) {
            http_free(r);
            break;
        }
        path = test_fmt("/api/v1/worklists/guardian-gaps?limit=%d&cursor=%s", limit, next);
        http_free(r);
    }
    return byid;
}

static json_t *gap_of(json_t *byid, long long pid)
{
    char key[32];

    snprintf(key, sizeof(key), "%lld", pid);
    return json_object_get(byid, key);
}

/* A guardian added from a phone whose answer was lost is sent again: one
 * guardian, the first answer (with its Location) replayed; the key with
 * another body is refused and writes nothing. */
static void guardian_retries_with_an_idempotency_key(void **state)
{
    char *name = test_fmt("幂等%s", cn_unique);
    long long pid = create_patient(name, g01);
    char *path = gpath(pid), *hdr = test_fmt("Idempotency-Key: g-%s", test_unique());
    const char *body = "{\"kind\":\"primary\",\"name\":\"王秀英\",\"relation\":\"parent\","
                       "\"capacity\":\"adequate\",\"phone\":\"13912345678\"}";
    http_res *first, *again, *r;

    (void)state;
    first = http_do("POST", path, doctor, body, hdr);
    assert_int_equal(first->status, 201);
    again = http_do("POST", path, doctor, body, hdr);
    assert_int_equal(again->status, 201);
    assert_string_equal(http_header(again, "Idempotent-Replayed"), "true");
    assert_string_equal(http_header(again, "Location"), http_header(first, "Location"));
    assert_string_equal(again->body, first->body);
    assert_int_equal(guardians_of(pid), 1);
    r = http_do("POST", path, doctor,
                "{\"kind\":\"assistant\",\"name\":\"王秀英\",\"relation\":\"parent\","
                "\"capacity\":\"adequate\"}",
                hdr);
    http_assert_problem(r, 422, "Idempotency-Key");
    assert_int_equal(guardians_of(pid), 1);
    http_free(r);
    http_free(first);
    http_free(again);
    free(hdr);
    free(path);
    free(name);
}

/* [R-GUARD-1] */
static void guardian_gaps_worklist(void **state)
{
    char *n1 = test_fmt("缺监护%s甲", cn_unique), *n2 = test_fmt("缺监护%s乙", cn_unique),
         *n3 = test_fmt("缺监护%s丙", cn_unique), *n4 = test_fmt("缺监护%s丁", cn_unique),
         *n5 = test_fmt("缺监护%s戊", cn_unique);
    long long none = create_patient(n1, g01), weak = create_patient(n2, g01),
              fixed = create_patient(n3, g01), elsewhere = create_patient(n4, qy_g01), suspected,
              capable;
    json_t *all, *order, *it, *order1;
    http_res *r;

    add_guardian(doctor, weak,
                 "{\"kind\":\"primary\",\"name\":\"弱监护\",\"relation\":\"spouse\","
                 "\"capacity\":\"weak\"}");
    add_guardian(doctor, fixed,
                 "{\"kind\":\"primary\",\"name\":\"无能力\",\"relation\":\"parent\","
                 "\"capacity\":\"none\"}");
    {
        char *body = test_fmt("{\"name\":\"%s\",\"address\":\"梅苑路1号\",\"report_note\":\"疑似\","
                         "\"org_unit_id\":%s}",
                         n5, g01);
        r = http_do("POST", "/api/v1/suspected-reports", grid1, body, NULL);
        assert_int_equal(r->status, 201);
        suspected = test_jint(r->json, "id");
        http_free(r);
        free(body);
    }

    all = gaps(doctor, 200, &order);
    it = gap_of(all, none);
    assert_non_null(it);
    assert_string_equal(test_jstr(it, "gap"), "no_guardian");
    assert_int_equal(test_jint(it, "guardians"), 0);
    assert_string_equal(test_jstr(it, "name"), n1);
    assert_string_equal(test_jstr(it, "status"), "registered");
    it = gap_of(all, weak);
    assert_non_null(it);
    assert_string_equal(test_jstr(it, "gap"), "no_capable_guardian");
    assert_int_equal(test_jint(it, "guardians"), 1);
    assert_non_null(gap_of(all, fixed));
    assert_non_null(gap_of(all, elsewhere));
    assert_null(gap_of(all, suspected));
    json_decref(all);
    json_decref(order);

    /* A capable guardian closes the gap; ending it opens it again. */
    capable = add_guardian(doctor, fixed,
                           "{\"kind\":\"assistant\",\"name\":\"有能力\",\"relation\":\"child\","
                           "\"capacity\":\"adequate\"}");
    all = gaps(doctor, 200, &order);
    assert_null(gap_of(all, fixed));
    assert_non_null(gap_of(all, none));
    json_decref(all);
    json_decref(order);
    {
        char *p = test_fmt("/api/v1/patients/%lld/guardians/%lld", fixed, capable);
        r = http_do("PATCH", p, doctor, "{\"active\":false}", "If-Match: \"1\"");
        assert_int_equal(r->status, 200);
        http_free(r);
        free(p);
    }
    all = gaps(doctor, 200, &order);
    it = gap_of(all, fixed);
    assert_non_null(it);
    assert_string_equal(test_jstr(it, "gap"), "no_capable_guardian");
    json_decref(all);
    json_decref(order);

    /* The grid worker sees its grid only; pages of one walk the same list. */
    all = gaps(grid1, 200, &order);
    {
        const char *key;
        json_t *v;
        json_object_foreach(all, key, v)
        {
            if (test_jint(v, "org_unit_id") != strtoll(g01, NULL, 10))
                fail_msg("grid worker's worklist shows patient %s of unit %lld", key,
                         test_jint(v, "org_unit_id"));
        }
    }
    assert_non_null(gap_of(all, none));
    assert_non_null(gap_of(all, weak));
    assert_null(gap_of(all, elsewhere));
    assert_null(gap_of(all, suspected));
    json_decref(all);
    all = gaps(grid1, 1, &order1);
    assert_true(json_array_size(order) >= 3);
    assert_true(json_equal(order, order1));
    json_decref(all);
    json_decref(order);
    json_decref(order1);

    /* Bad page parameters. */
    static const char *const bad[][2] = {
        {"/api/v1/worklists/guardian-gaps?limit=0", "limit"},
        {"/api/v1/worklists/guardian-gaps?limit=201", "limit"},
        {"/api/v1/worklists/guardian-gaps?cursor=!!!", "cursor"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("GET", bad[i][0], doctor, NULL, NULL);
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
    free(n1);
    free(n2);
    free(n3);
    free(n4);
    free(n5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(primary_assistant_and_social_guardians),
        cmocka_unit_test(bad_guardians_write_nothing),
        cmocka_unit_test(guardian_roles_and_areas),
        cmocka_unit_test(each_role_reads_its_guardian_view),
        cmocka_unit_test(patch_and_end_guardians),
        cmocka_unit_test(guardian_gaps_worklist),
        cmocka_unit_test(guardian_retries_with_an_idempotency_key),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
