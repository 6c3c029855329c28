/* HTTP suite: the patient registry (一人一档) — registration with the
 * resident ID number checked (GB 11643), encrypted and indexed; every bad
 * field refused with nothing written; duplicates; idempotent retries; what
 * each agency sees of one record; updates with If-Match; lists with
 * filters, keyset pages and their audit. */
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

#define SUITE_SALT 1 /* keeps this suite's ID numbers apart from the others' */

static char *doctor, *police, *civil, *official, *grid1, *grid2, *yl_doctor;
static char *g01, *g02, *village, *township, *qy_g01, *yl_grid;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

/* ---- helpers ---------------------------------------------------------- */

/* The 15-digit form: area + yymmdd + sequence. */
static void to15(const char *id18, char out[16])
{
    snprintf(out, 16, "%.6s%.6s%.3s", id18, id18 + 8, id18 + 14);
}

/* 17 digits made into 18 with their check character. */
static char *with_check(const char *d17)
{
    char *s = test_fmt("%s?", d17);

    s[17] = test_check_char(s);
    return s;
}

static long patients_total(void)
{
    return db_count("SELECT count(*) FROM patients", 0, NULL);
}

/* Register a patient as token; extra is more JSON members (must hold the
 * diagnosis). Returns the new id; fails the test unless 201. */
static long long create_patient(const char *token, const char *name, const char *id18,
                                const char *unit, const char *extra)
{
    long long id = test_create_patient(token, NULL, name, id18, unit, extra);

    assert_true(id > 0);
    return id;
}

static void set_sql(long long pid, const char *assignments)
{
    char *sql = test_fmt("UPDATE patients SET %s WHERE id = %lld", assignments, pid);

    assert_true(db_try(sql));
    free(sql);
}

static char *ppath(long long id)
{
    return test_fmt("/api/v1/patients/%lld", id);
}

/* Percent-encode a query value. */
static char *qenc(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *w = o;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '_' || c == '.')
            *w++ = (char)c;
        else
            w += snprintf(w, 4, "%%%02X", c);
    }
    *w = '\0';
    return o;
}

/* The audit log holds exactly one row of action on patient pid by user,
 * with the request id the server answered r with. */
static void assert_audited(const char *action, long long pid, const char *user, const http_res *r)
{
    char rid[80], idtxt[32];
    const char *h = http_header(r, "X-Request-Id");
    const char *p[4] = {action, idtxt, user, rid};

    assert_non_null(h);
    snprintf(rid, sizeof(rid), "%s", h);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    if (db_count_until("SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.user_id"
                       " WHERE a.action = $1 AND a.target_type = 'patient' AND a.target_id = $2"
                       " AND u.username = $3 AND a.username = $3 AND a.request_id = $4",
                       4, p, 1) != 1)
        fail_msg("no '%s' audit row for patient %s by %s (request %s)", action, idtxt, user, rid);
}

/* ---- setup -------------------------------------------------------------- */

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
    g02 = test_unit_id("429005003001G02");
    village = test_unit_id("429005003001");
    township = test_unit_id("429005003");
    qy_g01 = test_unit_id("429005003004G01");
    yl_grid = test_unit_id("429005001001G01");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &police, &civil,   &official, &grid1,  &grid2,  &yl_doctor,
                    &g01,    &g02,    &village, &township, &qy_g01, &yl_grid};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- registration ----------------------------------------------------- */

/* [R-ID-1] */
static void create_derives_identity_and_encrypts_id(void **state)
{
    char id[19], masked[19], *name = test_fmt("登记%s甲", cn_unique), *path, idtxt[32];
    char *body = NULL;
    http_res *r;
    long long pid;

    test_new_id(id, 1, SUITE_SALT);
    body = test_fmt("{\"name\":\"%s\",\"id_number\":\"%s\",\"org_unit_id\":%s,"
               "\"phone\":\"13812345678\"" DIAG "}",
               name, id, g01);
    r = http_do("POST", "/api/v1/patients", doctor, body, NULL);
    assert_int_equal(r->status, 201);
    pid = test_jint(r->json, "id");
    assert_true(pid > 0);
    path = ppath(pid);
    assert_string_equal(http_header(r, "Location"), path);
    assert_string_equal(http_header(r, "ETag"), "\"1\"");
    assert_string_equal(test_jstr(r->json, "status"), "registered");
    assert_string_equal(test_jstr(r->json, "name"), name);
    assert_int_equal(test_jint(r->json, "org_unit_id"), strtoll(g01, NULL, 10));
    /* Gender and birth date follow from the ID (odd sequence: male). */
    assert_string_equal(test_jstr(r->json, "gender"), "male");
    {
        char birth[11];
        snprintf(birth, sizeof(birth), "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
        assert_string_equal(test_jstr(r->json, "birth_date"), birth);
    }
    /* The doctor sees the whole number and the masked form. */
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    snprintf(masked, sizeof(masked), "%.6s********%.4s", id, id + 14);
    assert_string_equal(test_jstr(r->json, "id_number_masked"), masked);
    assert_string_equal(test_jstr(r->json, "phone"), "13812345678");
    assert_int_equal(test_jint(r->json, "version"), 1);
    http_free(r);

    /* At rest: ciphertext, not the number; a 32-byte blind index, the
     * keyed HMAC of the number (what the generator above probes). */
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    if (getenv("JF_ID_INDEX_KEY") != NULL)
        assert_true(test_id_registered(id));
    {
        const char *p[] = {idtxt, id};
        assert_int_equal(db_count("SELECT count(*) FROM patients WHERE id = $1"
                                  " AND id_cipher::text NOT LIKE '%' || $2 || '%'"
                                  " AND encode(id_cipher, 'escape') NOT LIKE '%' || $2 || '%'"
                                  " AND position(convert_to($2, 'UTF8') IN id_cipher) = 0"
                                  " AND length(id_index) = 32 AND id_masked = "
                                  " substr($2, 1, 6) || '********' || substr($2, 15, 4)",
                                  2, p),
                         1);
        /* The creation is a dated event and an audit row. */
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'created' AND to_status = 'registered'"
                                  " AND event_date = '2020-01-15'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'patient.create' AND target_id = $1",
                                  1, p),
                         1);
    }
    free(path);
    free(body);
    free(name);
}

/* [R-ID-1] */
static void fifteen_digit_id_is_stored_as_eighteen(void **state)
{
    char id[19], id15[16], *name = test_fmt("旧证%s乙", cn_unique), *path;
    char *body;
    http_res *r;
    long long pid;

    test_new_id(id, 0, SUITE_SALT);
    to15(id, id15);
    body =
        test_fmt("{\"name\":\"%s\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", name, id15, g01);
    r = http_do("POST", "/api/v1/patients", doctor, body, NULL);
    assert_int_equal(r->status, 201);
    pid = test_jint(r->json, "id");
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    assert_string_equal(test_jstr(r->json, "gender"), "female");
    http_free(r);
    path = ppath(pid);
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    assert_int_equal((int)strlen(test_jstr(r->json, "id_number_masked")), 18);
    http_free(r);
    free(path);
    free(body);
    free(name);
}

/* [R-ID-1] */
static void bad_id_numbers_write_nothing(void **state)
{
    char good_m[19], good_f[19], d17[18];
    char *wrong_check, *feb30 = with_check("42900519850230123"),
                       *future = with_check("42900520990101123");
    char *letters = test_fmt("42900519850101AB3X");
    long before = patients_total();

    test_new_id(good_m, 1, SUITE_SALT);
    test_new_id(good_f, 0, SUITE_SALT);
    wrong_check = test_fmt("%s", good_m);
    wrong_check[17] = wrong_check[17] == '0' ? '1' : '0';
    snprintf(d17, sizeof(d17), "%.17s", good_m);
    struct {
        const char *id, *extra, *field;
    } cases[] = {
        {wrong_check, "", "id_number"},
        {feb30, "", "id_number"},
        {future, "", "id_number"},
        {d17, "", "id_number"},                /* 17 characters */
        {"4290051985010112", "", "id_number"}, /* 16 */
        {letters, "", "id_number"},
        {good_m, ",\"gender\":\"female\"", "gender"},
        {good_f, ",\"gender\":\"male\"", "gender"},
        {good_m, ",\"birth_date\":\"1999-01-01\"", "birth_date"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = test_fmt("{\"name\":\"坏证\",\"id_number\":\"%s\",\"org_unit_id\":%s%s" DIAG "}",
                         cases[i].id, g01, cases[i].extra);
        http_res *r = http_do("POST", "/api/v1/patients", doctor, body, NULL);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
        free(body);
    }
    /* A number where a string belongs. */
    {
        char *body = test_fmt(
            "{\"name\":\"坏证\",\"id_number\":429005198501011234,\"org_unit_id\":%s" DIAG "}", g01);
        http_res *r = http_do("POST", "/api/v1/patients", doctor, body, NULL);
        http_assert_problem(r, 400, "id_number");
        http_free(r);
        free(body);
    }
    assert_int_equal(patients_total(), before);
    free(wrong_check);
    free(feb30);
    free(future);
    free(letters);
}

/* [R-ID-2] */
static void duplicate_id_is_409_revealing_only_inside_the_area(void **state)
{
    char id[19], id15[16], *name = test_fmt("重号%s丙", cn_unique), *path, *body, *yl_body;
    http_res *r;
    long long pid;
    long before;

    test_new_id(id, -1, SUITE_SALT);
    to15(id, id15);
    pid = create_patient(doctor, name, id, g01, DIAG);
    path = ppath(pid);
    before = patients_total();

    /* The same person again, in either form: 409 pointing at the record. */
    const char *forms[] = {id, id15};
    for (size_t i = 0; i < 2; i++) {
        body = test_fmt("{\"name\":\"另一人\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}",
                   forms[i], g02);
        r = http_do("POST", "/api/v1/patients", doctor, body, NULL);
        http_assert_problem(r, 409, "id_number");
        assert_non_null(http_header(r, "Location"));
        assert_string_equal(http_header(r, "Location"), path);
        http_free(r);
        free(body);
    }
    /* 园林's doctor cannot register in 泰丰 at all ... */
    {
        char other[19];
        test_new_id(other, -1, SUITE_SALT);
        body =
            test_fmt("{\"name\":\"越界\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", other, g01);
        r = http_do("POST", "/api/v1/patients", yl_doctor, body, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(body);
    }
    /* ... and registering the same person in 园林 is refused without
     * revealing where the record is. */
    yl_body =
        test_fmt("{\"name\":\"园林某\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", id, yl_grid);
    r = http_do("POST", "/api/v1/patients", yl_doctor, yl_body, NULL);
    http_assert_problem(r, 409, "id_number");
    assert_null(http_header(r, "Location"));
    assert_null(strstr(r->body, path));
    {
        char needle[48];
        snprintf(needle, sizeof(needle), "patient %lld", pid);
        assert_null(strstr(r->body, needle));
    }
    assert_null(strstr(r->body, name));
    http_free(r);
    assert_int_equal(patients_total(), before);
    free(yl_body);
    free(path);
    free(name);
}

static void create_bad_fields_write_nothing(void **state)
{
    char id[19];
    json_t *base;
    long before = patients_total();
    long events_before = db_count("SELECT count(*) FROM patient_events", 0, NULL);
    int failures = 0;
    /* key set to value (JSON text), or removed when value is NULL. */
    struct {
        const char *key, *value, *field;
    } cases[] = {
        {"name", "\"\"", "name"},
        {"name", "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\"", "name"},
        {"name", NULL, "name"},
        {"name", "null", "name"},
        {"name", "42", "name"},
        {"favourite_colour", "\"blue\"", "favourite_colour"},
        {"status", "\"in_care\"", "status"},
        {"phone", "\"138abc45678\"", "phone"},
        {"phone", "\"12\"", "phone"},
        {"hukou_area_code", "\"42900500\"", "hukou_area_code"},
        {"hukou_area_code", "\"4290050031\"", "hukou_area_code"},
        {"hukou_area_code", "\"42900500a\"", "hukou_area_code"},
        {"gender", "\"m\"", "gender"},
        {"household_type", "\"city\"", "household_type"},
        {"employment", "\"pilot\"", "employment"},
        {"economic_status", "\"rich\"", "economic_status"},
        {"consent", "\"maybe\"", "consent"},
        {"diagnosis", "\"flu\"", "diagnosis"},
        {"dibao", "\"true\"", "dibao"},
        {"tekun", "1", "tekun"},
        {"lives_alone", "\"yes\"", "lives_alone"},
        {"ethnicity", "\"一二三四五六七八九十一二三四五六七\"", "ethnicity"},
        {"onset_date", "\"2020-13-01\"", "onset_date"},
        {"onset_date", "\"2099-01-01\"", "onset_date"},
        {"diagnosis_date", "\"2020/01/15\"", "diagnosis_date"},
        {"diagnosis_date", "\"2020-02-30\"", "diagnosis_date"},
        {"diagnosis_date", "\"2099-01-15\"", "diagnosis_date"},
        {"onset_date", "\"2021-01-01\"", "onset_date"},     /* after the diagnosis */
        {"consent_date", "\"2021-01-01\"", "consent_date"}, /* without consent */
        {"diagnosis", NULL, "diagnosis"},
        {"diagnosis", "null", "diagnosis"},
        {"diagnosis_date", NULL, "diagnosis_date"},
        {"diagnosis_date", "null", "diagnosis_date"},
        {"id_number", NULL, "id_number"},
        {"org_unit_id", NULL, "org_unit_id"},
        {"org_unit_id", "\"12\"", "org_unit_id"},
        {"org_unit_id", "0", "org_unit_id"},
        {"org_unit_id", township, "org_unit_id"}, /* a township holds no residents */
        {"org_unit_id", yl_grid, "org_unit_id"},  /* outside the doctor's area */
        {"org_unit_id", "999999999", "org_unit_id"},
    };

    test_new_id(id, -1, SUITE_SALT);
    base = json_pack("{s:s,s:s,s:I,s:s,s:s}", "name", "坏字段", "id_number", id, "org_unit_id",
                     (json_int_t)strtoll(g01, NULL, 10), "diagnosis", "schizophrenia",
                     "diagnosis_date", "2020-01-15");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
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
        r = http_do("POST", "/api/v1/patients", doctor, text, NULL);
        /* Every case is tried; the failures are reported together. */
        if (r->status != 400) {
            print_error("case %zu (%s=%s): expected 400, got %ld: %s\n", i, cases[i].key,
                        cases[i].value ? cases[i].value : "(absent)", r->status, r->body);
            failures++;
        } else {
            http_assert_problem(r, 400, cases[i].field);
        }
        http_free(r);
        free(text);
        json_decref(b);
    }
    if (failures)
        fail_msg("%d bad bodies were not answered with 400", failures);
    /* The base body itself is good (the cases above fail for their field). */
    assert_int_equal(patients_total(), before);
    assert_int_equal(db_count("SELECT count(*) FROM patient_events", 0, NULL), events_before);
    {
        char *text = json_dumps(base, JSON_COMPACT);
        http_res *r = http_do("POST", "/api/v1/patients", doctor, text, NULL);
        assert_int_equal(r->status, 201);
        http_free(r);
        free(text);
    }
    json_decref(base);
}

static void only_registering_roles_may_create(void **state)
{
    char id[19], *body;
    const char *tokens[] = {grid1, police, civil, official};
    long before = patients_total();

    test_new_id(id, -1, SUITE_SALT);
    body = test_fmt("{\"name\":\"无权\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", id, g01);
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        http_res *r = http_do("POST", "/api/v1/patients", tokens[i], body, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
    }
    /* And no token at all. */
    {
        http_res *r = http_do("POST", "/api/v1/patients", NULL, body, NULL);
        http_assert_problem(r, 401, NULL);
        http_free(r);
    }
    assert_int_equal(patients_total(), before);
    free(body);
}

static void idempotent_retry_replays_the_first_answer(void **state)
{
    char id[19], *name = test_fmt("重试%s丁", cn_unique),
                 *key = test_fmt("Idempotency-Key: pt-%s-1", test_unique());
    char *body, *other;
    http_res *r1, *r2, *r3;
    const char *p[] = {name};

    test_new_id(id, -1, SUITE_SALT);
    body = test_fmt("{\"name\":\"%s\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", name, id, g01);
    other = test_fmt(
        "{\"name\":\"%s\",\"id_number\":\"%s\",\"org_unit_id\":%s,\"phone\":\"13900000000\"" DIAG
        "}",
        name, id, g01);
    r1 = http_do("POST", "/api/v1/patients", doctor, body, key);
    assert_int_equal(r1->status, 201);
    assert_null(http_header(r1, "Idempotent-Replayed"));
    r2 = http_do("POST", "/api/v1/patients", doctor, body, key);
    assert_int_equal(r2->status, 201);
    assert_non_null(http_header(r2, "Idempotent-Replayed"));
    assert_string_equal(http_header(r2, "Idempotent-Replayed"), "true");
    assert_string_equal(r2->body, r1->body);
    {
        char loc[256];
        snprintf(loc, sizeof(loc), "%s", http_header(r1, "Location"));
        assert_string_equal(http_header(r2, "Location"), loc);
    }
    assert_int_equal(db_count("SELECT count(*) FROM patients WHERE name = $1", 1, p), 1);
    /* The same key with another body is refused. */
    r3 = http_do("POST", "/api/v1/patients", doctor, other, key);
    http_assert_problem(r3, 422, "Idempotency-Key");
    assert_int_equal(db_count("SELECT count(*) FROM patients WHERE name = $1", 1, p), 1);
    /* A key over 128 characters is refused before anything is written. */
    {
        char longkey[200], id2[19], *b2;
        long before = patients_total();
        http_res *r4;
        memcpy(longkey, "Idempotency-Key: ", 17);
        memset(longkey + 17, 'k', 129);
        longkey[17 + 129] = '\0';
        test_new_id(id2, -1, SUITE_SALT);
        b2 = test_fmt("{\"name\":\"长键\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", id2, g01);
        r4 = http_do("POST", "/api/v1/patients", doctor, b2, longkey);
        http_assert_problem(r4, 400, "Idempotency-Key");
        http_free(r4);
        free(b2);
        assert_int_equal(patients_total(), before);
    }
    http_free(r1);
    http_free(r2);
    http_free(r3);
    free(body);
    free(other);
    free(key);
    free(name);
}

/* The first answer is kept for replay; the resident ID number inside it
 * must not end up in plain text at rest, as it is in patients. */
static void idempotency_store_keeps_no_plain_id_number(void **state)
{
    char id[19], *name = test_fmt("留存%s戊", cn_unique),
                 *key = test_fmt("Idempotency-Key: pt-%s-2", test_unique());
    char *body;
    http_res *r;
    const char *p[] = {id};

    test_new_id(id, -1, SUITE_SALT);
    body = test_fmt("{\"name\":\"%s\",\"id_number\":\"%s\",\"org_unit_id\":%s" DIAG "}", name, id, g01);
    r = http_do("POST", "/api/v1/patients", doctor, body, key);
    assert_int_equal(r->status, 201);
    http_free(r);
    if (db_count("SELECT count(*) FROM idempotency_keys WHERE encode(response, 'escape') LIKE '%' || $1 || '%'", 1,
                 p) != 0)
        fail_msg("idempotency_keys.response holds the resident ID number in plain text");
    free(body);
    free(key);
    free(name);
}

/* ---- reading through each agency's view --------------------------------- */

static const char *const clinical_keys[] = {"diagnosis",    "diagnosing_hospital", "diagnosis_date",
                                            "onset_date",   "family_history",      "consent",
                                            "consent_date", "report_note",         NULL};
static const char *const economic_keys[] = {"employment", "economic_status", "dibao", "tekun",
                                            NULL};
static const char *const risk_keys[] = {"risk_level", "colour", "colour_scheme", "key_flags",
                                        "can_drive", NULL};
static const char *const identity_keys[] = {
    "id",          "name",       "status",  "org_unit_id", "id_number_masked",
    "gender",      "birth_date", "phone",   "address",     "hukou_area_code",
    "lives_alone", "guardians",  "version", NULL};

static void keys_present(const http_res *r, const char *const *keys, int present, const char *who)
{
    for (size_t i = 0; keys[i]; i++) {
        int has = json_object_get(r->json, keys[i]) != NULL;
        if (has != present)
            fail_msg("%s: '%s' should be %s: %s", who, keys[i], present ? "shown" : "hidden",
                     r->body);
    }
}

/* The document the service builds in C equals, field for field, the one
 * the database's own definition of the view (api_patient_doc) gives with
 * the role's flags: clinical, economic, risk, whole phone numbers. */
static void same_as_sql_view(const char *doc, long long pid, const char *flags)
{
    char idtxt[32];
    char *sql = test_fmt("SELECT (api_patient_doc(p, %s) = ($2::jsonb - 'id_number'))::int"
                         " FROM patients p WHERE p.id = $1::bigint",
                         flags);
    const char *p[] = {idtxt, doc};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    if (db_count(sql, 2, p) != 1)
        fail_msg("patient %lld as (%s) differs from the SQL view: %s", pid, flags, doc);
    free(sql);
}

/* The unit's and the doctor's names and the guardian summaries are kept
 * on the patient row (migration 0018): renaming the unit or the doctor,
 * and adding, changing or retiring a guardian, show in the next read, by
 * the service or by direct SQL alike; the SQL view (computed live) agrees. */
static void document_follows_its_sources(void **state)
{
    char id[19], *name = test_fmt("随源%s改", cn_unique), *path, *gpath;
    long long pid;
    http_res *r;

    test_new_id(id, 1, SUITE_SALT);
    pid = create_patient(doctor, name, id, g01, ",\"diagnosis\":\"bipolar\",\"diagnosis_date\":"
                                                 "\"2020-01-15\"");
    path = ppath(pid);
    gpath = test_fmt("%s/guardians", path);
    r = http_do("POST", gpath, doctor,
                "{\"kind\":\"primary\",\"name\":\"随源父\",\"relation\":\"parent\","
                "\"phone\":\"13900002222\",\"capacity\":\"adequate\"}",
                NULL);
    assert_int_equal(r->status, 201);
    http_free(r);
    set_sql(pid, "doctor_id = (SELECT id FROM users WHERE username = 'tf.doctor2')");
    {
        char *sql = test_fmt("UPDATE org_units SET name = '%s' WHERE code = '429005003001G01'",
                             "梅苑社区第一网格（改）");
        assert_true(db_try(sql));
        free(sql);
    }
    assert_true(db_try("UPDATE users SET display_name = '李医生（改）' WHERE username = 'tf.doctor2'"));
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "org_unit_name"), "梅苑社区第一网格（改）");
    assert_string_equal(test_jstr(r->json, "doctor_name"), "李医生（改）");
    assert_int_equal(json_array_size(json_object_get(r->json, "guardians")), 1);
    same_as_sql_view(r->body, pid, "true, true, true, true");
    http_free(r);
    /* A guardian retired by SQL, another added: the next read has them. */
    {
        char *sql = test_fmt("UPDATE guardians SET active = false, ended_on = current_date"
                             " WHERE patient_id = %lld",
                             pid);
        assert_true(db_try(sql));
        free(sql);
    }
    r = http_do("GET", path, official, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "guardians")), 0);
    same_as_sql_view(r->body, pid, "true, true, true, false");
    http_free(r);
    r = http_do("POST", gpath, doctor,
                "{\"kind\":\"assistant\",\"name\":\"随源兄\",\"relation\":\"sibling\","
                "\"phone\":\"13900003333\",\"capacity\":\"weak\"}",
                NULL);
    assert_int_equal(r->status, 201);
    http_free(r);
    r = http_do("GET", path, official, NULL, NULL); /* phones masked for officials */
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "guardians"), 0), "phone"),
                        "139****3333");
    same_as_sql_view(r->body, pid, "true, true, true, false");
    http_free(r);
    /* Back as they were, for the other suites. */
    {
        char *sql = test_fmt("UPDATE org_units SET name = '%s' WHERE code = '429005003001G01'",
                             "梅苑社区第一网格");
        assert_true(db_try(sql));
        free(sql);
    }
    assert_true(db_try("UPDATE users SET display_name = '陈丽娟' WHERE username = 'tf.doctor2'"));
    free(gpath);
    free(path);
    free(name);
}

/* [R-VIEW-2] */
static void each_agency_sees_its_view(void **state)
{
    char id[19], masked[19], *name = test_fmt("视图%s己", cn_unique), *path, *extra, *gbody, *gpath;
    http_res *r;
    long long pid;
    char idtxt[32];

    test_new_id(id, 1, SUITE_SALT);
    snprintf(masked, sizeof(masked), "%.6s********%.4s", id, id + 14);
    extra = test_fmt(",\"phone\":\"13812345678\",\"address\":\"梅苑路8号\",\"hukou_area_code\":"
                "\"429005003\",\"employment\":\"farmer\",\"economic_status\":\"poor\","
                "\"dibao\":true,\"tekun\":true,\"can_drive\":true,\"lives_alone\":true,"
                "\"family_history\":true,\"consent\":\"agreed\",\"consent_date\":\"2020-02-01\","
                "\"onset_date\":\"2019-06-01\",\"diagnosis\":\"bipolar\",\"diagnosis_date\":"
                "\"2020-01-15\",\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                "\"report_note\":\"夜间喊叫\"");
    pid = create_patient(doctor, name, id, g01, extra);
    path = ppath(pid);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    gpath = test_fmt("%s/guardians", path);
    gbody = test_fmt("{\"kind\":\"primary\",\"name\":\"视图父\",\"relation\":\"parent\","
                "\"phone\":\"13900001111\",\"capacity\":\"adequate\",\"address\":\"梅苑路8号\","
                "\"agreement_signed_on\":\"2024-01-01\"}");
    r = http_do("POST", gpath, doctor, gbody, NULL);
    assert_int_equal(r->status, 201);
    http_free(r);
    set_sql(pid, "risk_level = 3, colour = 'red', key_flags = '[\"risk_3_plus\",\"can_drive\"]'");

    /* Doctor: everything, the whole ID number and phone. Version 3: the
     * guardian and the risk set above are changes to the patient. */
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_header(r, "ETag"), "\"3\"");
    keys_present(r, identity_keys, 1, "doctor");
    keys_present(r, clinical_keys, 1, "doctor");
    keys_present(r, economic_keys, 1, "doctor");
    keys_present(r, risk_keys, 1, "doctor");
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    assert_string_equal(test_jstr(r->json, "id_number_masked"), masked);
    assert_string_equal(test_jstr(r->json, "phone"), "13812345678");
    assert_string_equal(test_jstr(r->json, "diagnosis"), "bipolar");
    assert_string_equal(test_jstr(r->json, "diagnosing_hospital"), "潜江市精神卫生中心");
    assert_string_equal(test_jstr(r->json, "onset_date"), "2019-06-01");
    assert_string_equal(test_jstr(r->json, "consent"), "agreed");
    assert_string_equal(test_jstr(r->json, "report_note"), "夜间喊叫");
    assert_string_equal(test_jstr(r->json, "employment"), "farmer");
    assert_string_equal(test_jstr(r->json, "economic_status"), "poor");
    assert_true(json_is_true(json_object_get(r->json, "dibao")));
    assert_true(json_is_true(json_object_get(r->json, "tekun")));
    assert_int_equal(test_jint(r->json, "risk_level"), 3);
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    assert_true(json_is_true(json_object_get(r->json, "can_drive")));
    assert_string_equal(test_jstr(r->json, "hukou_area_code"), "429005003");
    assert_audited("patient.read", pid, "tf.doctor", r);
    same_as_sql_view(r->body, pid, "true, true, true, true");
    http_free(r);

    /* Police: identity, ID number, phone, risk and guardian contact; no
     * clinical and no economic fields. */
    r = http_do("GET", path, police, NULL, NULL);
    assert_int_equal(r->status, 200);
    keys_present(r, identity_keys, 1, "police");
    keys_present(r, risk_keys, 1, "police");
    keys_present(r, clinical_keys, 0, "police");
    keys_present(r, economic_keys, 0, "police");
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    assert_string_equal(test_jstr(r->json, "phone"), "13812345678");
    assert_int_equal(test_jint(r->json, "risk_level"), 3);
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    assert_true(json_is_array(json_object_get(r->json, "key_flags")));
    {
        json_t *g = json_array_get(json_object_get(r->json, "guardians"), 0);
        assert_non_null(g);
        assert_string_equal(test_jstr(g, "name"), "视图父");
        assert_string_equal(test_jstr(g, "relation"), "parent");
        assert_string_equal(test_jstr(g, "phone"), "13900001111");
    }
    assert_null(strstr(r->body, "夜间喊叫"));
    assert_null(strstr(r->body, "bipolar"));
    assert_audited("patient.read", pid, "tf.police", r);
    same_as_sql_view(r->body, pid, "false, false, true, true");
    http_free(r);

    /* Civil affairs: identity, ID number, economic; no clinical, no risk. */
    r = http_do("GET", path, civil, NULL, NULL);
    assert_int_equal(r->status, 200);
    keys_present(r, identity_keys, 1, "civil affairs");
    keys_present(r, economic_keys, 1, "civil affairs");
    keys_present(r, clinical_keys, 0, "civil affairs");
    keys_present(r, risk_keys, 0, "civil affairs");
    assert_string_equal(test_jstr(r->json, "id_number"), id);
    assert_true(json_is_true(json_object_get(r->json, "dibao")));
    assert_null(strstr(r->body, "bipolar"));
    assert_audited("patient.read", pid, "tf.civil", r);
    same_as_sql_view(r->body, pid, "false, true, false, true");
    http_free(r);

    /* Grid worker of the grid: risk, the whole phone, the masked ID only. */
    r = http_do("GET", path, grid1, NULL, NULL);
    assert_int_equal(r->status, 200);
    keys_present(r, identity_keys, 1, "grid worker");
    keys_present(r, risk_keys, 1, "grid worker");
    keys_present(r, clinical_keys, 0, "grid worker");
    keys_present(r, economic_keys, 0, "grid worker");
    assert_null(json_object_get(r->json, "id_number"));
    assert_null(strstr(r->body, id));
    assert_string_equal(test_jstr(r->json, "id_number_masked"), masked);
    assert_string_equal(test_jstr(r->json, "phone"), "13812345678");
    assert_audited("patient.read", pid, "tf.grid1", r);
    http_free(r);

    /* Official: clinical, but phones masked and no whole ID number. */
    r = http_do("GET", path, official, NULL, NULL);
    assert_int_equal(r->status, 200);
    keys_present(r, identity_keys, 1, "official");
    keys_present(r, clinical_keys, 1, "official");
    assert_null(json_object_get(r->json, "id_number"));
    assert_null(strstr(r->body, id));
    assert_string_equal(test_jstr(r->json, "phone"), "138****5678");
    assert_null(strstr(r->body, "13812345678"));
    assert_null(strstr(r->body, "13900001111"));
    assert_audited("patient.read", pid, "tf.official", r);
    same_as_sql_view(r->body, pid, "true, true, true, false");
    http_free(r);

    /* Another grid's worker and another township's doctor: 404, and the
     * attempt is on the record. */
    r = http_do("GET", path, grid2, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    assert_null(strstr(r->body, name));
    assert_audited("patient.read_denied", pid, "tf.grid2", r);
    http_free(r);
    r = http_do("GET", path, yl_doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    assert_null(strstr(r->body, name));
    assert_audited("patient.read_denied", pid, "yl.doctor", r);
    http_free(r);
    {
        const char *p[] = {idtxt};
        test_audit_settle();
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE target_id = $1 AND"
                                  " action = 'patient.read' AND username IN ('tf.grid2',"
                                  " 'yl.doctor')",
                                  1, p),
                         0);
    }
    /* Not an id, and no such id. */
    r = http_do("GET", "/api/v1/patients/abc", doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/patients/999999999", doctor, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(gbody);
    free(gpath);
    free(extra);
    free(path);
    free(name);
}

/* ---- updates ------------------------------------------------------------ */

static long long version_of(long long pid)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT version FROM patients WHERE id = $1", 1, p);
}

static void patch_with_if_match(void **state)
{
    char id[19], other_id[19], *name = test_fmt("修改%s庚", cn_unique), *path, idtxt[32];
    http_res *r;
    long long pid, other;

    test_new_id(id, 1, SUITE_SALT);
    test_new_id(other_id, 0, SUITE_SALT);
    pid = create_patient(doctor, name, id, g01, ",\"phone\":\"13811112222\"" DIAG);
    other = create_patient(doctor, "修改他人", other_id, g01, DIAG);
    path = ppath(pid);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);

    r = http_do("PATCH", path, doctor, "{\"phone\":\"13922223333\"}", NULL);
    http_assert_problem(r, 428, "If-Match");
    http_free(r);
    r = http_do("PATCH", path, doctor, "{\"phone\":\"13922223333\"}", "If-Match: \"9\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);
    assert_int_equal(version_of(pid), 1);

    r = http_do("PATCH", path, doctor, "{\"phone\":\"13922223333\",\"employment\":\"farmer\"}",
                "If-Match: \"1\"");
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "version"), 2);
    assert_string_equal(http_header(r, "ETag"), "\"2\"");
    assert_string_equal(test_jstr(r->json, "phone"), "13922223333");
    assert_string_equal(test_jstr(r->json, "employment"), "farmer");
    assert_string_equal(test_jstr(r->json, "name"), name); /* untouched */
    http_free(r);
    {
        const char *p[] = {idtxt};
        assert_int_equal(db_count("SELECT count(*) FROM patients WHERE id = $1 AND phone ="
                                  " '13922223333' AND phone_masked = '139****3333'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'patient.update' AND target_id = $1 AND detail->'fields' ?"
                                  " 'phone' AND detail->'fields' ? 'employment'"
                                  " AND NOT detail::text LIKE '%13922223333%'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'updated'",
                                  1, p),
                         1);
    }
    r = http_do("GET", path, official, NULL, NULL);
    assert_string_equal(test_jstr(r->json, "phone"), "139****3333");
    http_free(r);
    /* The old version is stale now. */
    r = http_do("PATCH", path, doctor, "{\"ethnicity\":\"汉\"}", "If-Match: \"1\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);

    /* Bad changes: 400 naming the field, nothing changed. */
    static const char *const bad[][2] = {
        {"{\"name\":null}", "name"},
        {"{\"name\":\"\"}", "name"},
        {"{\"diagnosis\":null}", "diagnosis"},
        {"{\"diagnosis_date\":null}", "diagnosis_date"},
        {"{\"dibao\":null}", "dibao"},
        {"{\"diagnosis\":\"flu\"}", "diagnosis"},
        {"{\"nickname\":\"小王\"}", "nickname"},
        {"{\"status\":\"deceased\"}", "status"},
        {"{\"gender\":\"female\"}", "gender"},
        {"{\"birth_date\":\"1990-01-01\"}", "birth_date"},
        {"{\"phone\":\"call me\"}", "phone"},
        {"{\"id_number\":\"123\"}", "id_number"},
        {"{\"onset_date\":\"2020-03-01\",\"diagnosis_date\":\"2020-02-01\"}", "onset_date"},
        {"{\"org_unit_id\":\"x\"}", "org_unit_id"},
        {"{\"org_unit_id\":null}", "org_unit_id"},
        {"{\"id_number\":null}", "id_number"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("PATCH", path, doctor, bad[i][0], "If-Match: \"2\"");
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
    {
        char *b = test_fmt("{\"org_unit_id\":%s}", yl_grid);
        r = http_do("PATCH", path, doctor, b, "If-Match: \"2\"");
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(b);
        b = test_fmt("{\"org_unit_id\":%s}", township);
        r = http_do("PATCH", path, doctor, b, "If-Match: \"2\"");
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(b);
    }
    /* Another person's ID number: 409 pointing at that record. */
    {
        char *b = test_fmt("{\"id_number\":\"%s\"}", other_id), *opath = ppath(other);
        r = http_do("PATCH", path, doctor, b, "If-Match: \"2\"");
        http_assert_problem(r, 409, "id_number");
        assert_string_equal(http_header(r, "Location"), opath);
        http_free(r);
        free(b);
        free(opath);
    }
    assert_int_equal(version_of(pid), 2);

    /* Roles that do not register: 403, even with the right version. */
    r = http_do("PATCH", path, police, "{\"phone\":\"13900000001\"}", "If-Match: \"2\"");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("PATCH", path, grid1, "{\"phone\":\"13900000001\"}", "If-Match: \"2\"");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("PATCH", path, yl_doctor, "{\"phone\":\"13900000001\"}", "If-Match: \"2\"");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(version_of(pid), 2);

    /* Moving to another grid in the doctor's area. */
    {
        char *b = test_fmt("{\"org_unit_id\":%s}", g02);
        const char *p[] = {idtxt, g02};
        r = http_do("PATCH", path, doctor, b, "If-Match: \"2\"");
        assert_int_equal(r->status, 200);
        assert_int_equal(test_jint(r->json, "org_unit_id"), strtoll(g02, NULL, 10));
        assert_int_equal(test_jint(r->json, "version"), 3);
        http_free(r);
        free(b);
        assert_int_equal(db_count("SELECT count(*) FROM patients p JOIN org_units o ON"
                                  " o.id = $2::bigint WHERE p.id = $1 AND p.org_path = o.path",
                                  2, p),
                         1);
    }
    /* A new ID number brings its own gender and birth date. */
    {
        char nid[19], *b;
        test_new_id(nid, 0, SUITE_SALT);
        b = test_fmt("{\"id_number\":\"%s\"}", nid);
        r = http_do("PATCH", path, doctor, b, "If-Match: \"3\"");
        assert_int_equal(r->status, 200);
        assert_string_equal(test_jstr(r->json, "id_number"), nid);
        assert_string_equal(test_jstr(r->json, "gender"), "female");
        http_free(r);
        free(b);
    }
    free(path);
    free(name);
}

/* Cross-field rules hold against the stored record, not only within the
 * body of one PATCH. */
static void patch_cross_field_rules_use_the_stored_record(void **state)
{
    char id[19], *path, *name = test_fmt("跨字段%s辛", cn_unique);
    http_res *r;
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    pid = create_patient(doctor, name, id, g01,
                         ",\"consent\":\"agreed\",\"onset_date\":\"2019-01-01\"" DIAG);
    path = ppath(pid);
    /* Consent was given at registration: its date alone may be added. */
    int failures = 0;

    r = http_do("PATCH", path, doctor, "{\"consent_date\":\"2020-01-20\"}", "If-Match: \"1\"");
    if (r->status != 200) {
        print_error("consent_date for a record with consent: expected 200, got %ld: %s\n",
                    r->status, r->body);
        failures++;
    }
    http_free(r);
    /* Onset after the stored diagnosis date (2020-01-15) is refused. */
    {
        char ifm[32];
        snprintf(ifm, sizeof(ifm), "If-Match: \"%lld\"", version_of(pid));
        r = http_do("PATCH", path, doctor, "{\"onset_date\":\"2021-06-01\"}", ifm);
        if (r->status != 400) {
            print_error("onset_date after the stored diagnosis_date: expected 400, got %ld:"
                        " %s\n",
                        r->status, r->body);
            failures++;
        } else {
            http_assert_problem(r, 400, "onset_date");
        }
        http_free(r);
    }
    /* Clearing the consent decision would leave its date without one. */
    {
        char id2[19];
        long long pid2;
        char *path2, *name2 = test_fmt("跨字段%s壬", cn_unique);
        test_new_id(id2, -1, SUITE_SALT);
        pid2 = create_patient(doctor, name2, id2, g01,
                              ",\"consent\":\"agreed\",\"consent_date\":\"2020-01-20\"" DIAG);
        path2 = ppath(pid2);
        r = http_do("PATCH", path2, doctor, "{\"consent\":null}", "If-Match: \"1\"");
        if (r->status != 400 || strstr(r->body, "\"consent") == NULL) {
            print_error("consent cleared while consent_date stays: expected 400, got %ld: %s\n",
                        r->status, r->body);
            failures++;
        }
        http_free(r);
        free(path2);
        free(name2);
    }
    if (failures)
        fail_msg("%d cross-field rule(s) ignored the stored record", failures);
    free(path);
    free(name);
}

/* ---- lists ---------------------------------------------------------------- */

/* Every id of every page of query (limit per page), following next_cursor;
 * each page's items are checked with check (may be NULL). Returns the ids
 * as a JSON array and the first page's total in *total (-1 without). */
static json_t *walk(const char *token, const char *query, long *total,
                    void (*check)(const json_t *item))
{
    json_t *ids = json_array();
    char *path = test_fmt("/api/v1/patients?%s", query);
    int first = 1;

    *total = -1;
    for (;;) {
        http_res *r = http_do("GET", path, token, NULL, NULL);
        json_t *items, *it;
        const char *next;
        size_t i;

        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        if (first && json_object_get(r->json, "total") != NULL)
            *total = (long)test_jint(r->json, "total");
        items = json_object_get(r->json, "items");
        assert_true(json_is_array(items));
        json_array_foreach(items, i, it)
        {
            if (check)
                check(it);
            json_array_append_new(ids, json_integer(test_jint(it, "id")));
        }
        next = test_jstr(r->json, "next_cursor");
        free(path);
        if (next == NULL) {
            http_free(r);
            break;
        }
        path = test_fmt("/api/v1/patients?%s&cursor=%s", query, next);
        first = 0;
        http_free(r);
    }
    return ids;
}

/* ids (JSON array) holds exactly the n ids given, once each. */
static void assert_ids(const json_t *ids, const char *what, size_t n, ...)
{
    va_list ap;
    size_t i;
    json_t *v;

    if (json_array_size(ids) != n) {
        char *s = json_dumps(ids, 0);
        fail_msg("%s: expected %zu ids, got %s", what, n, s);
    }
    va_start(ap, n);
    for (size_t k = 0; k < n; k++) {
        long long want = va_arg(ap, long long);
        int seen = 0;
        json_array_foreach(ids, i, v) seen += json_integer_value(v) == want;
        if (seen != 1)
            fail_msg("%s: id %lld seen %d times", what, want, seen);
    }
    va_end(ap);
}

static json_t *list_ids(const char *token, const char *query)
{
    long total;

    return walk(token, query, &total, NULL);
}

static void only_grid1(const json_t *item)
{
    if (test_jint(item, "org_unit_id") != strtoll(g01, NULL, 10))
        fail_msg("grid worker's list shows patient %lld of unit %lld", test_jint(item, "id"),
                 test_jint(item, "org_unit_id"));
    assert_null(json_object_get(item, "diagnosis"));
    assert_null(json_object_get(item, "id_number"));
}

static void list_filters_pages_and_audit(void **state)
{
    char *prefix = test_fmt("列%s", cn_unique), *qp = qenc(prefix), *q;
    char ida[19], idb[19], idc[19], idd[19], ide[19], id15[16];
    long long a, b, c, d, e;
    json_t *ids;
    long total;

    test_new_id(ida, -1, SUITE_SALT);
    test_new_id(idb, -1, SUITE_SALT);
    test_new_id(idc, -1, SUITE_SALT);
    test_new_id(idd, -1, SUITE_SALT);
    test_new_id(ide, -1, SUITE_SALT);
    {
        char *n = test_fmt("%s甲", prefix);
        a = create_patient(doctor, n, ida, g01, DIAG);
        free(n);
        n = test_fmt("%s乙", prefix);
        b = create_patient(doctor, n, idb, g01,
                           ",\"diagnosis\":\"bipolar\",\"diagnosis_date\":\"2021-01-01\"");
        free(n);
        n = test_fmt("%s丙", prefix);
        c = create_patient(doctor, n, idc, g02, DIAG);
        free(n);
        n = test_fmt("%s丁", prefix);
        d = create_patient(doctor, n, idd, qy_g01,
                           ",\"diagnosis\":\"bipolar\",\"diagnosis_date\":\"2021-01-01\"");
        free(n);
        n = test_fmt("%s戊", prefix);
        e = create_patient(doctor, n, ide, g01,
                           ",\"diagnosis\":\"paranoid_psychosis\",\"diagnosis_date\":"
                           "\"2021-01-01\"");
        free(n);
    }
    set_sql(a, "risk_level = 3, colour = 'red', key_flags = '[\"lives_alone\",\"risk_3_plus\"]'");
    set_sql(b, "status = 'in_care', risk_level = 1, colour = 'yellow'");
    set_sql(c, "risk_level = 3, colour = 'red', key_flags = '[\"risk_3_plus\"]'");
    set_sql(d, "status = 'in_care', risk_level = 0, colour = 'green'");
    /* A new patient gets a colour when registered; give e one no case asks for. */
    set_sql(e, "colour = 'orange'");

    q = test_fmt("name=%s", qp);
    ids = list_ids(doctor, q);
    assert_ids(ids, "name prefix", 5, a, b, c, d, e);
    json_decref(ids);
    free(q);
    struct {
        const char *filter;
        size_t n;
        long long x, y, z, w;
    } cases[] = {
        {"status=in_care", 2, b, d, 0, 0},
        {"status=registered", 3, a, c, e, 0},
        {"risk_level=3", 2, a, c, 0, 0},
        {"risk_level=0", 1, d, 0, 0, 0},
        {"colour=red", 2, a, c, 0, 0},
        {"colour=yellow", 1, b, 0, 0, 0},
        {"key_flag=lives_alone", 1, a, 0, 0, 0},
        {"key_flag=risk_3_plus", 2, a, c, 0, 0},
        {"diagnosis=bipolar", 2, b, d, 0, 0},
        {"diagnosis=paranoid_psychosis", 1, e, 0, 0, 0},
        {"status=registered&colour=red", 2, a, c, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        q = test_fmt("name=%s&%s", qp, cases[i].filter);
        ids = list_ids(doctor, q);
        assert_ids(ids, cases[i].filter, cases[i].n, cases[i].x, cases[i].y, cases[i].z,
                   cases[i].w);
        json_decref(ids);
        free(q);
    }
    /* The whole Chinese name narrows to one. */
    {
        char *n = test_fmt("%s丙", prefix), *nq = qenc(n);
        q = test_fmt("name=%s", nq);
        ids = list_ids(doctor, q);
        assert_ids(ids, "full name", 1, c);
        json_decref(ids);
        free(q);
        free(nq);
        free(n);
    }
    /* Exact ID number, 18 or 15 digits, without other filters. */
    to15(ida, id15);
    q = test_fmt("id_number=%s", ida);
    ids = list_ids(doctor, q);
    assert_ids(ids, "id_number 18", 1, a);
    json_decref(ids);
    free(q);
    q = test_fmt("id_number=%s", id15);
    ids = list_ids(doctor, q);
    assert_ids(ids, "id_number 15", 1, a);
    json_decref(ids);
    free(q);
    /* An org unit narrows the subtree: the village holds its grids. */
    q = test_fmt("name=%s&org_unit_id=%s", qp, village);
    ids = list_ids(doctor, q);
    assert_ids(ids, "village", 4, a, b, c, e);
    json_decref(ids);
    free(q);
    q = test_fmt("name=%s&org_unit_id=%s", qp, g02);
    ids = list_ids(doctor, q);
    assert_ids(ids, "grid", 1, c);
    json_decref(ids);
    free(q);

    /* Keyset pages of two walk every row exactly once. */
    q = test_fmt("name=%s&limit=2&count=true", qp);
    ids = walk(doctor, q, &total, NULL);
    assert_int_equal(total, 5);
    assert_ids(ids, "pages of 2", 5, a, b, c, d, e);
    json_decref(ids);
    free(q);
    {
        /* Across many units: the whole village, two at a time. */
        const char *p[] = {village};
        long want = db_count("SELECT count(*) FROM patients WHERE starts_with(org_path,"
                             " (SELECT path FROM org_units WHERE id = $1::bigint))",
                             1, p);
        size_t i, k;
        json_t *v, *w;
        q = test_fmt("org_unit_id=%s&limit=2&count=true", village);
        ids = walk(doctor, q, &total, NULL);
        assert_int_equal(total, want);
        assert_int_equal((long)json_array_size(ids), want);
        json_array_foreach(ids, i, v) json_array_foreach(ids, k, w) if (i != k)
            assert_false(json_integer_value(v) == json_integer_value(w));
        json_decref(ids);
        free(q);
    }

    /* The grid worker's list holds only its grid. */
    ids = walk(grid1, "limit=200", &total, only_grid1);
    {
        size_t i;
        json_t *v;
        int seen_a = 0, seen_c = 0;
        json_array_foreach(ids, i, v)
        {
            seen_a += json_integer_value(v) == a;
            seen_c += json_integer_value(v) == c;
        }
        assert_int_equal(seen_a, 1);
        assert_int_equal(seen_c, 0);
    }
    json_decref(ids);

    /* One audit row names the records a page showed. */
    {
        char *path = test_fmt("/api/v1/patients?name=%s&limit=2", qp), rid[80];
        http_res *r = http_do("GET", path, doctor, NULL, NULL);
        json_t *items = json_object_get(r->json, "items");
        char *want;
        const char *p[2] = {rid, NULL};

        assert_int_equal(r->status, 200);
        assert_int_equal(json_array_size(items), 2);
        snprintf(rid, sizeof(rid), "%s", http_header(r, "X-Request-Id"));
        want = test_fmt("[%lld,%lld]", test_jint(json_array_get(items, 0), "id"),
                   test_jint(json_array_get(items, 1), "id"));
        p[1] = want;
        assert_int_equal(db_count_until("SELECT count(*) FROM audit_log WHERE action ="
                                        " 'patient.list' AND request_id = $1 AND username ="
                                        " 'tf.doctor'",
                                        1, p, 1),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'"
                                  " AND request_id = $1 AND detail->'ids' @> $2::jsonb"
                                  " AND jsonb_array_length(detail->'ids') = 2",
                                  2, p),
                         1);
        http_free(r);
        free(want);
        free(path);
    }
    free(qp);
    free(prefix);
}

static void list_bad_queries_and_view_filters(void **state)
{
    char *outside = test_fmt("/api/v1/patients?org_unit_id=%s", yl_grid);
    char *n33 = qenc("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三");
    char *long_name = test_fmt("/api/v1/patients?name=%s", n33);

    const char *bad[][2] = {
        {"/api/v1/patients?limit=0", "limit"},
        {"/api/v1/patients?limit=201", "limit"},
        {"/api/v1/patients?limit=x", "limit"},
        {"/api/v1/patients?cursor=!!!", "cursor"},
        {"/api/v1/patients?cursor=azEyMw", "cursor"},
        {"/api/v1/patients?cursor=cDE6Lzh8YWJj", "cursor"}, /* p1:/8|abc */
        {"/api/v1/patients?status=alive", "status"},
        {"/api/v1/patients?risk_level=9", "risk_level"},
        {"/api/v1/patients?risk_level=high", "risk_level"},
        {"/api/v1/patients?colour=purple", "colour"},
        {"/api/v1/patients?key_flag=evil", "key_flag"},
        {"/api/v1/patients?diagnosis=flu", "diagnosis"},
        {"/api/v1/patients?count=maybe", "count"},
        {"/api/v1/patients?org_unit_id=-4", "org_unit_id"},
        {"/api/v1/patients?id_number=12345", "id_number"},
        {"/api/v1/patients?name=", "name"},
        {long_name, "name"},
        {outside, "org_unit_id"},
    };
    test_audit_settle();
    long audits = db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'", 0, NULL);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http_res *r = http_do("GET", bad[i][0], doctor, NULL, NULL);
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
    /* A filter on a group the role does not see is refused. */
    const struct {
        const char *token, *query, *field;
    } views[] = {
        {police, "/api/v1/patients?diagnosis=bipolar", "diagnosis"},
        {civil, "/api/v1/patients?risk_level=3", "risk_level"},
        {civil, "/api/v1/patients?colour=red", "colour"},
        {civil, "/api/v1/patients?key_flag=can_drive", "key_flag"},
        {civil, "/api/v1/patients?diagnosis=bipolar", "diagnosis"},
        {grid1, "/api/v1/patients?diagnosis=bipolar", "diagnosis"},
    };
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
        http_res *r = http_do("GET", views[i].query, views[i].token, NULL, NULL);
        http_assert_problem(r, 400, views[i].field);
        http_free(r);
    }
    /* Refused queries are not listings. */
    test_audit_settle();
    assert_int_equal(
        db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.list'", 0, NULL), audits);
    free(outside);
    free(long_name);
    free(n33);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_derives_identity_and_encrypts_id),
        cmocka_unit_test(fifteen_digit_id_is_stored_as_eighteen),
        cmocka_unit_test(bad_id_numbers_write_nothing),
        cmocka_unit_test(duplicate_id_is_409_revealing_only_inside_the_area),
        cmocka_unit_test(create_bad_fields_write_nothing),
        cmocka_unit_test(only_registering_roles_may_create),
        cmocka_unit_test(idempotent_retry_replays_the_first_answer),
        cmocka_unit_test(idempotency_store_keeps_no_plain_id_number),
        cmocka_unit_test(each_agency_sees_its_view),
        cmocka_unit_test(document_follows_its_sources),
        cmocka_unit_test(patch_with_if_match),
        cmocka_unit_test(patch_cross_field_rules_use_the_stored_record),
        cmocka_unit_test(list_filters_pages_and_audit),
        cmocka_unit_test(list_bad_queries_and_view_filters),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
