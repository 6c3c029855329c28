/* HTTP suite: service accounts of external systems — client credentials made,
 * listed, rotated and disabled by admins in their area, exchanged for a token
 * (and every way that fails: wrong secret, unknown or disabled client, the old
 * secret after rotation, back-off) — and the incoming calls of a hospital
 * (diagnosis, admission, discharge) and a police station (incident, key-person
 * list): their effects on the patient, refusals for people and for the other
 * kind of system, patients outside the region, idempotent retries, and bad
 * input naming its field with nothing written. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUITE_SALT 9 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

/* A client made through the admin API, and a token from it. */
typedef struct client {
    long long id, user_id;
    char *client_id, *secret, *token;
} client;

static char *root_admin, *tf_admin, *yl_admin, *doctor, *yl_doctor, *grid1, *police;
static char *tf_unit, *yl_unit, *g01, *yl_g01;
static client hosp, pol, yl_pol, civil;
static int serial;

/* ---- helpers ---------------------------------------------------------- */

/* A user of role service in unit for agency (NULL: none), made by admin. */
static long long service_user(const char *admin, const char *unit, const char *agency)
{
    char *name = test_fmt("svc%d.%s", serial++, test_unique());
    char *body =
        test_fmt("{\"username\":\"%s\",\"display_name\":\"接口%d\","
                 "\"password\":\"Correct-horse-1\",\"role\":\"service\","
                 "\"org_unit_id\":%s%s%s}",
                 name, serial, unit, agency ? ",\"agency_id\":" : "", agency ? agency : "");
    http_res *r = http_do("POST", "/api/v1/users", admin, body, NULL);
    long long id;

    if (r->status != 201)
        fail_msg("service user %s: %ld %s", name, r->status, r->body);
    id = test_jint(r->json, "id");
    http_free(r);
    free(body);
    free(name);
    return id;
}

/* Credentials for user_id, made by admin; expects 201. */
static void make_client(client *c, const char *admin, long long user_id)
{
    char *body = test_fmt("{\"user_id\":%lld}", user_id);
    http_res *r = http_do("POST", "/api/v1/service-clients", admin, body, NULL);

    if (r->status != 201)
        fail_msg("client for %lld: %ld %s", user_id, r->status, r->body);
    c->id = test_jint(r->json, "id");
    c->user_id = user_id;
    c->client_id = strdup(http_str(r, "client_id"));
    c->secret = strdup(http_str(r, "client_secret"));
    c->token = NULL;
    http_free(r);
    free(body);
}

/* POST /auth/token with these credentials. */
static http_res *exchange(const char *client_id, const char *secret)
{
    char *body = test_fmt("{\"grant_type\":\"client_credentials\",\"client_id\":\"%s\","
                          "\"client_secret\":\"%s\"}",
                          client_id, secret);
    http_res *r = http_do("POST", "/api/v1/auth/token", NULL, body, NULL);

    free(body);
    return r;
}

/* A token for c (expects 200). */
static char *token_of(const client *c)
{
    http_res *r = exchange(c->client_id, c->secret);
    char *t;

    if (r->status != 200)
        fail_msg("token for %s: %ld %s", c->client_id, r->status, r->body);
    t = strdup(http_str(r, "access_token"));
    http_free(r);
    return t;
}

static void client_free(client *c)
{
    free(c->client_id);
    free(c->secret);
    free(c->token);
    memset(c, 0, sizeof(*c));
}

/* POST /api/v1/integrations/<what> as token; headers may be NULL. */
static http_res *call(const char *token, const char *what, const char *body, const char *headers)
{
    char *path = test_fmt("/api/v1/integrations/%s", what);
    http_res *r = http_do("POST", path, token, body, headers);

    free(path);
    return r;
}

/* The same, expecting status; returns the response. */
static http_res *expect(long status, const char *token, const char *what, const char *body,
                        const char *headers)
{
    http_res *r = call(token, what, body, headers);

    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld %s", what, status, r->status, r->body);
    return r;
}

/* The same, expecting a problem with status naming field (NULL: any). */
static void refused(long status, const char *field, const char *token, const char *what,
                    const char *body, const char *headers)
{
    http_res *r = call(token, what, body, headers);

    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld %s", what, status, r->status, r->body);
    http_assert_problem(r, status, field);
    http_free(r);
}

/* Register a patient as the doctor (of unit, as token); its ID number into id. */
static long long create_patient(const char *token, const char *unit, char id[19])
{
    char *name = test_fmt("接口%d", serial++);
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(token, NULL, name, id, unit, DIAG);
    free(name);
    return pid;
}

/* Report a suspected person with an ID number in grid 1 as its grid worker. */
static long long report_suspected(char id[19])
{
    char *body;
    http_res *r;
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    body = test_fmt("{\"name\":\"疑似%d\",\"id_number\":\"%s\",\"address\":\"梅苑路3号\","
                    "\"report_note\":\"夜间喊叫\",\"org_unit_id\":%s}",
                    serial++, id, g01);
    r = http_do("POST", "/api/v1/suspected-reports", grid1, body, NULL);
    if (r->status != 201)
        fail_msg("report: %ld %s", r->status, r->body);
    pid = test_jint(r->json, "id");
    http_free(r);
    free(body);
    return pid;
}

/* Rows of table (optionally "table WHERE …") held by patient pid. */
static long count_of(const char *table, long long pid)
{
    char idtxt[32], *sql = test_fmt("SELECT count(*) FROM (SELECT * FROM %s) t"
                                    " WHERE patient_id = $1",
                                    table);
    const char *p[] = {idtxt};
    long n;

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    n = db_count(sql, 1, p);
    free(sql);
    return n;
}

/* A column of the patient row, as text (free it). */
static char *patient_col(long long pid, const char *col)
{
    char idtxt[32], *sql = test_fmt("SELECT %s::text FROM patients WHERE id = $1", col);
    const char *p[] = {idtxt};
    char *v;

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    v = db_scalar(sql, 1, p);
    free(sql);
    return v;
}

static void assert_col(long long pid, const char *col, const char *want)
{
    char *got = patient_col(pid, col);

    if (want == NULL ? got != NULL : got == NULL || strcmp(got, want) != 0)
        fail_msg("patient %lld: %s is %s, expected %s", pid, col, got ? got : "NULL",
                 want ? want : "NULL");
    free(got);
}

static long audits(const char *action, long long pid)
{
    char idtxt[32];
    const char *p[] = {action, idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2", 2, p);
}

/* One bad variant of a valid body: key set to value (JSON text), or
 * removed when value is NULL; the answer must be 400 naming field. */
typedef struct bad_case {
    const char *key, *value, *field;
} bad_case;

/* Post every bad variant of base to what; each is 400 naming its field and
 * leaves count_of(table) and the patient's version unchanged. */
static void bad_inputs(const char *token, long long pid, const char *what, const char *base,
                       const bad_case *cases, size_t n, const char *table, const char *date)
{
    long before = count_of(table, pid);
    char *version = patient_col(pid, "version"), *hdr = test_fmt("X-Test-Date: %s", date);

    for (size_t i = 0; i < n; i++) {
        json_t *b = json_loads(base, 0, NULL);
        char *body;
        http_res *r;

        assert_non_null(b);
        if (cases[i].value == NULL) {
            json_object_del(b, cases[i].key);
        } else {
            json_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, NULL);
            assert_non_null(v);
            json_object_set_new(b, cases[i].key, v);
        }
        body = json_dumps(b, JSON_COMPACT);
        r = call(token, what, body, hdr);
        if (r->status != 400)
            fail_msg("%s with %s=%s: expected 400, got %ld %s", what, cases[i].key,
                     cases[i].value ? cases[i].value : "(absent)", r->status, r->body);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
        free(body);
        json_decref(b);
        assert_int_equal(count_of(table, pid), before);
        assert_col(pid, "version", version);
    }
    free(version);
    free(hdr);
}

/* The patient's clinical state as the doctor sees it, today being date. */
static http_res *clinical_state(long long pid, const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/clinical-state", pid);
    char *hdr = test_fmt("X-Test-Date: %s", date);
    http_res *r = http_do("GET", path, doctor, NULL, hdr);

    assert_int_equal(r->status, 200);
    free(path);
    free(hdr);
    return r;
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    char *agency;

    root_admin = http_login("admin", NULL);
    tf_admin = http_login("tf.admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    doctor = http_login("tf.doctor", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    grid1 = http_login("tf.grid1", NULL);
    police = http_login("tf.police", NULL);
    tf_unit = test_unit_id("429005003");
    yl_unit = test_unit_id("429005001");
    g01 = test_unit_id("429005003001G01");
    yl_g01 = test_unit_id("429005001001G01");

    agency = test_agency_id("泰丰街道社区卫生服务中心");
    make_client(&hosp, tf_admin, service_user(tf_admin, tf_unit, agency));
    free(agency);
    agency = test_agency_id("泰丰派出所");
    make_client(&pol, tf_admin, service_user(tf_admin, tf_unit, agency));
    free(agency);
    agency = test_agency_id("园林派出所");
    make_client(&yl_pol, yl_admin, service_user(yl_admin, yl_unit, agency));
    free(agency);
    agency = test_agency_id("泰丰街道民政办");
    make_client(&civil, tf_admin, service_user(tf_admin, tf_unit, agency));
    free(agency);
    hosp.token = token_of(&hosp);
    pol.token = token_of(&pol);
    yl_pol.token = token_of(&yl_pol);
    civil.token = token_of(&civil);
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&root_admin, &tf_admin, &yl_admin, &doctor, &yl_doctor, &grid1,
                    &police,     &tf_unit,  &yl_unit,  &g01,    &yl_g01};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    client_free(&hosp);
    client_free(&pol);
    client_free(&yl_pol);
    client_free(&civil);
    return 0;
}

/* ---- administration of clients -------------------------------------------- */

static void admins_manage_clients(void **state)
{
    char *agency = test_agency_id("潜江市精神卫生中心"), *body, *path, ifm[64];
    long long user = service_user(tf_admin, tf_unit, agency), bare, yl_user, id;
    long before = db_count("SELECT count(*) FROM service_clients", 0, NULL);
    const char *p[1];
    char idtxt[32];
    http_res *r;

    /* Bad requests write nothing. */
    bare = service_user(tf_admin, tf_unit, NULL);
    yl_user = service_user(yl_admin, yl_unit, NULL);
    {
        char *doc_id = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor'", 0, NULL);
        const char *bodies[][2] = {
            {"{}", "user_id"},
            {"{\"user_id\":\"1\"}", "user_id"},
            {"{\"user_id\":0}", "user_id"},
            {"{\"user_id\":999999999}", "user_id"},
            {NULL, "user_id"}, /* a doctor */
            {NULL, "user_id"}, /* a service user without an agency */
            {NULL, "user_id"}, /* a service user of 园林 */
            {NULL, "secret"},  /* an unknown field */
        };
        char *made[4] = {test_fmt("{\"user_id\":%s}", doc_id), test_fmt("{\"user_id\":%lld}", bare),
                         test_fmt("{\"user_id\":%lld}", yl_user),
                         test_fmt("{\"user_id\":%lld,\"secret\":\"x\"}", user)};
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
            r = http_do("POST", "/api/v1/service-clients", tf_admin,
                        bodies[i][0] ? bodies[i][0] : made[i - 4], NULL);
            http_assert_problem(r, 400, bodies[i][1]);
            http_free(r);
        }
        for (int i = 0; i < 4; i++)
            free(made[i]);
        free(doc_id);
    }
    assert_int_equal(db_count("SELECT count(*) FROM service_clients", 0, NULL), before);
    /* People other than admins may not. */
    body = test_fmt("{\"user_id\":%lld}", user);
    r = http_do("POST", "/api/v1/service-clients", doctor, body, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/service-clients", police, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);

    /* Made: the secret is shown once and stored only as a PBKDF2 hash. */
    r = http_do("POST", "/api/v1/service-clients", tf_admin, body, NULL);
    assert_int_equal(r->status, 201);
    id = test_jint(r->json, "id");
    assert_true(id > 0);
    assert_int_equal(test_jint(r->json, "user_id"), user);
    assert_true(strncmp(http_str(r, "client_id"), "jfc_", 4) == 0);
    assert_int_equal(strlen(http_str(r, "client_secret")), 43);
    assert_string_equal(http_str(r, "system"), "hospital");
    assert_string_equal(http_str(r, "agency_kind"), "mental_health_centre");
    assert_true(json_is_true(json_object_get(r->json, "active")));
    assert_null(json_object_get(r->json, "secret_hash"));
    assert_string_equal(http_header(r, "ETag"), "\"1\"");
    assert_string_equal(http_header(r, "Cache-Control"), "no-store");
    path = test_fmt("/api/v1/service-clients/%lld", id);
    assert_string_equal(http_header(r, "Location"), path);
    snprintf(idtxt, sizeof(idtxt), "%lld", id);
    p[0] = idtxt;
    {
        char *hash = db_scalar("SELECT secret_hash FROM service_clients WHERE id = $1", 1, p);
        assert_true(strncmp(hash, "pbkdf2-sha256$", 14) == 0);
        assert_null(strstr(hash, http_str(r, "client_secret")));
        free(hash);
    }
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                              " 'service_client.create' AND target_id = $1",
                              1, p),
                     1);
    /* One client per service user. */
    r = http_do("POST", "/api/v1/service-clients", tf_admin, body, NULL);
    http_assert_problem(r, 409, "user_id");
    assert_string_equal(http_header(r, "Location"), path);
    http_free(r);

    /* Read and list: the secret never again; 园林's admin sees none of 泰丰's. */
    r = http_do("GET", path, tf_admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(json_object_get(r->json, "client_secret"));
    assert_null(json_object_get(r->json, "secret_hash"));
    http_free(r);
    r = http_do("GET", path, yl_admin, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    {
        int seen_tf = 0, seen_yl = 0, pages = 0;
        char *next = NULL;
        do {
            char *q = next ? test_fmt("/api/v1/service-clients?limit=2&cursor=%s", next)
                           : strdup("/api/v1/service-clients?limit=2");
            size_t i;
            json_t *it;
            r = http_do("GET", q, tf_admin, NULL, NULL);
            assert_int_equal(r->status, 200);
            assert_true(json_array_size(json_object_get(r->json, "items")) <= 2);
            json_array_foreach(json_object_get(r->json, "items"), i, it)
            {
                assert_null(json_object_get(it, "client_secret"));
                seen_tf += test_jint(it, "id") == id;
                seen_yl += test_jint(it, "id") == yl_pol.id;
            }
            free(next);
            next = json_is_string(json_object_get(r->json, "next_cursor"))
                       ? strdup(http_str(r, "next_cursor"))
                       : NULL;
            http_free(r);
            free(q);
            assert_true(++pages < 1000);
        } while (next != NULL);
        assert_int_equal(seen_tf, 1);
        assert_int_equal(seen_yl, 0);
    }
    r = http_do("GET", "/api/v1/service-clients?limit=200", root_admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_array_size(json_object_get(r->json, "items")) >= 2);
    http_free(r);

    /* PATCH takes If-Match, and only the active flag. */
    r = http_do("PATCH", path, tf_admin, "{\"active\":false}", NULL);
    http_assert_problem(r, 428, "If-Match");
    http_free(r);
    r = http_do("PATCH", path, tf_admin, "{\"active\":false}", "If-Match: \"7\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);
    r = http_do("PATCH", path, tf_admin, "{\"active\":\"no\"}", "If-Match: \"1\"");
    http_assert_problem(r, 400, "active");
    http_free(r);
    r = http_do("PATCH", path, tf_admin, "{\"active\":false,\"client_id\":\"x\"}",
                "If-Match: \"1\"");
    http_assert_problem(r, 400, "client_id");
    http_free(r);
    r = http_do("PATCH", path, yl_admin, "{\"active\":false}", "If-Match: \"1\"");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("PATCH", path, tf_admin, "{\"active\":false}", "If-Match: \"1\"");
    assert_int_equal(r->status, 200);
    assert_true(json_is_false(json_object_get(r->json, "active")));
    assert_string_equal(http_header(r, "ETag"), "\"2\"");
    http_free(r);
    snprintf(ifm, sizeof(ifm), "If-Match: \"2\"");
    r = http_do("PATCH", path, tf_admin, "{\"active\":true}", ifm);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                              " 'service_client.update' AND target_id = $1",
                              1, p),
                     2);
    free(path);
    free(body);
    free(agency);
}

/* ---- the token exchange --------------------------------------------------- */

static void token_exchange_and_its_attacks(void **state)
{
    char *agency = test_agency_id("泰丰街道社区卫生服务中心"), *path, *hdr, *old_secret, *t;
    client c;
    const char *p[2];
    char idtxt[32];
    http_res *r;

    make_client(&c, tf_admin, service_user(tf_admin, tf_unit, agency));
    snprintf(idtxt, sizeof(idtxt), "%lld", c.id);
    p[0] = idtxt;

    /* A token: no refresh token, not cached; the bearer is the service user. */
    r = exchange(c.client_id, c.secret);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "token_type"), "Bearer");
    assert_true(test_jint(r->json, "expires_in") > 0);
    assert_null(json_object_get(r->json, "refresh_token"));
    assert_string_equal(http_header(r, "Cache-Control"), "no-store");
    t = strdup(http_str(r, "access_token"));
    http_free(r);
    r = http_do("GET", "/api/v1/me", t, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "role"), "service");
    assert_int_equal(test_jint(r->json, "id"), c.user_id);
    http_free(r);
    free(t);
    assert_int_equal(db_count("SELECT count(*) FROM service_clients WHERE id = $1"
                              " AND last_used_at IS NOT NULL",
                              1, p),
                     1);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'auth.token'"
                              " AND target_id = $1 AND role = 'service'",
                              1, p),
                     1);

    /* Wrong secret, unknown client: 401, audited. */
    r = exchange(c.client_id, "not-the-secret-at-all");
    http_assert_problem(r, 401, NULL);
    http_free(r);
    {
        char *key = test_fmt("client:%s", c.client_id);
        p[1] = key;
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'auth.token_failed' AND target_id = $1 AND username = $2"
                                  " AND detail->>'reason' = 'wrong_secret'",
                                  2, p),
                         1);
        free(key);
    }
    r = exchange("jfc_nosuchclient0000", c.secret);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    /* Bad requests. */
    r = http_do("POST", "/api/v1/auth/token", NULL,
                "{\"grant_type\":\"password\",\"client_id\":\"a\",\"client_secret\":\"b\"}", NULL);
    http_assert_problem(r, 400, "grant_type");
    http_free(r);
    r = http_do("POST", "/api/v1/auth/token", NULL,
                "{\"grant_type\":\"client_credentials\",\"client_id\":\"a\"}", NULL);
    http_assert_problem(r, 400, "client_secret");
    http_free(r);
    r = http_raw("POST", "/api/v1/auth/token", NULL, "text/plain", "grant_type=x", 12, 0);
    assert_int_equal(r->status, 415);
    http_free(r);
    /* The OAuth 2.0 form encoding (RFC 6749 §4.4), with its own bad inputs. */
    {
        const char *bad[][2] = {
            {"grant_type=client_credentials", "client_id"},
            {"grant_type=password&client_id=a&client_secret=b", "grant_type"},
            {"grant_type=client_credentials&grant_type=client_credentials", "grant_type"},
            {"grant_type=client_credentials&client_id=%zz&client_secret=b", "client_id"},
            {"grant_type=client_credentials&client_id=a&client_secret=b&scope=x", "scope"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = http_raw("POST", "/api/v1/auth/token", NULL, "application/x-www-form-urlencoded",
                         bad[i][0], strlen(bad[i][0]), 0);
            http_assert_problem(r, 400, bad[i][1]);
            http_free(r);
        }
        char *form = test_fmt("grant_type=client_credentials&client_id=%s&client_secret=%s",
                              c.client_id, c.secret);
        r = http_raw("POST", "/api/v1/auth/token", NULL,
                     "application/x-www-form-urlencoded; charset=utf-8", form, strlen(form), 0);
        assert_int_equal(r->status, 200);
        assert_string_equal(http_str(r, "token_type"), "Bearer");
        assert_non_null(http_str(r, "access_token"));
        http_free(r);
        free(form);
    }

    /* Disabled: no token, and tokens already issued stop working. */
    t = token_of(&c);
    path = test_fmt("/api/v1/service-clients/%lld", c.id);
    r = http_do("PATCH", path, tf_admin, "{\"active\":false}", "If-Match: \"1\"");
    assert_int_equal(r->status, 200);
    http_free(r);
    r = exchange(c.client_id, c.secret);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    refused(401, NULL, t, "hospital/admissions", "{}", NULL);
    r = http_do("PATCH", path, tf_admin, "{\"active\":true}", "If-Match: \"2\"");
    assert_int_equal(r->status, 200);
    http_free(r);
    free(t);
    free(token_of(&c));

    /* Rotated: the old secret stops working, the new one works. */
    hdr = test_fmt("%s/rotate", path);
    r = http_do("POST", hdr, yl_admin, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("POST", hdr, doctor, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = http_do("POST", hdr, tf_admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "client_id"), c.client_id);
    assert_int_equal(strlen(http_str(r, "client_secret")), 43);
    assert_string_not_equal(http_str(r, "client_secret"), c.secret);
    assert_non_null(http_str(r, "secret_rotated_at"));
    old_secret = c.secret;
    c.secret = strdup(http_str(r, "client_secret"));
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                              " 'service_client.rotate' AND target_id = $1",
                              1, p),
                     1);
    r = exchange(c.client_id, old_secret);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    free(token_of(&c));

    /* Back-off as for logins: the fifth failure locks, even the right secret waits. */
    for (int i = 0; i < 4; i++) {
        r = exchange(c.client_id, old_secret);
        http_assert_problem(r, 401, NULL);
        http_free(r);
    }
    free(token_of(&c)); /* success before the fifth failure clears the count */
    for (int i = 0; i < 5; i++) {
        r = exchange(c.client_id, old_secret);
        assert_int_equal(r->status, 401);
        http_free(r);
    }
    r = exchange(c.client_id, c.secret);
    http_assert_problem(r, 429, NULL);
    assert_non_null(http_header(r, "Retry-After"));
    sleep((unsigned)strtoul(http_header(r, "Retry-After"), NULL, 10) + 1);
    http_free(r);
    free(token_of(&c)); /* and success clears the count */
    r = exchange(c.client_id, old_secret);
    http_assert_problem(r, 401, NULL);
    http_free(r);

    /* A client whose user is no longer a service user gets nothing. */
    {
        char *upath = test_fmt("/api/v1/users/%lld", c.user_id);
        r = http_do("PATCH", upath, tf_admin, "{\"role\":\"doctor\"}", "If-Match: \"1\"");
        assert_int_equal(r->status, 200);
        http_free(r);
        r = exchange(c.client_id, c.secret);
        http_assert_problem(r, 401, NULL);
        http_free(r);
        free(upath);
    }
    free(old_secret);
    free(hdr);
    free(path);
    free(agency);
    client_free(&c);
}

/* ---- who may call what ---------------------------------------------------- */

static void only_the_right_system_calls(void **state)
{
    static const char *const hospital[] = {"hospital/diagnoses", "hospital/admissions",
                                           "hospital/discharges"};
    static const char *const police_routes[] = {"police/incidents", "police/key-persons"};
    const char *people[] = {doctor, police, tf_admin, root_admin, grid1};
    char id[19], *body, *svc;
    long long pid = create_patient(doctor, g01, id);

    body = test_fmt("{\"id_number\":\"%s\",\"admitted_on\":\"2026-03-20\",\"hospital\":\"市医院\","
                    "\"involuntary\":false}",
                    id);
    /* People: 403, whatever their role. */
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
        for (size_t j = 0; j < 3; j++)
            refused(403, NULL, people[i], hospital[j], body, NULL);
        for (size_t j = 0; j < 2; j++)
            refused(403, NULL, people[i], police_routes[j], body, NULL);
    }
    /* A police system on hospital routes, a hospital on police routes, and a
     * system of another agency kind on both. */
    for (size_t j = 0; j < 3; j++) {
        refused(403, NULL, pol.token, hospital[j], body, NULL);
        refused(403, NULL, civil.token, hospital[j], body, NULL);
    }
    for (size_t j = 0; j < 2; j++) {
        refused(403, NULL, hosp.token, police_routes[j], body, NULL);
        refused(403, NULL, civil.token, police_routes[j], body, NULL);
    }
    /* A service user that logs in with a password has no client: 403. */
    svc = http_login("svc.police", NULL);
    refused(403, NULL, svc, "police/incidents", body, NULL);
    free(svc);
    /* No token at all. */
    refused(401, NULL, NULL, "hospital/admissions", body, NULL);
    assert_int_equal(count_of("hospitalisations", pid), 0);
    assert_col(pid, "status", "registered");
    free(body);
}

/* ---- the hospital's calls -------------------------------------------------- */

static void hospital_diagnosis(void **state)
{
    static const bad_case bad[] = {
        {"id_number", NULL, "id_number"},
        {"id_number", "\"429005199001011230\"", "id_number"}, /* bad check character */
        {"id_number", "12", "id_number"},
        {"diagnosis", NULL, "diagnosis"},
        {"diagnosis", "\"depression\"", "diagnosis"},
        {"diagnosing_hospital", NULL, "diagnosing_hospital"},
        {"diagnosing_hospital", "\"\"", "diagnosing_hospital"},
        {"diagnosis_date", NULL, "diagnosis_date"},
        {"diagnosis_date", "\"2026-05-02\"", "diagnosis_date"}, /* after today */
        {"onset_date", "\"2026-04-20\"", "onset_date"},         /* after the diagnosis */
        {"ward", "\"3\"", "ward"},
    };
    char id[19], other[19], *body, *hdr;
    long long pid = report_suspected(id), registered = create_patient(doctor, g01, other);
    long events;
    http_res *r, *r2;

    body = test_fmt("{\"id_number\":\"%s\",\"diagnosis\":\"bipolar\","
                    "\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                    "\"diagnosis_date\":\"2026-04-15\",\"onset_date\":\"2026-03-01\"}",
                    id);
    bad_inputs(hosp.token, pid, "hospital/diagnoses", body, bad, sizeof(bad) / sizeof(bad[0]),
               "patient_events", "2026-05-01");
    assert_col(pid, "status", "suspected");

    /* Unknown ID number: 404 naming it, the probe audited. */
    {
        char unknown[19], *b2;
        long probes = db_count("SELECT count(*) FROM audit_log WHERE action ="
                               " 'integration.patient_not_found'",
                               0, NULL);
        test_new_id(unknown, -1, SUITE_SALT);
        b2 = test_fmt("{\"id_number\":\"%s\",\"diagnosis\":\"bipolar\","
                      "\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                      "\"diagnosis_date\":\"2026-04-15\"}",
                      unknown);
        refused(404, "id_number", hosp.token, "hospital/diagnoses", b2, "X-Test-Date: 2026-05-01");
        assert_true(db_count("SELECT count(*) FROM audit_log WHERE action ="
                             " 'integration.patient_not_found'",
                             0, NULL) > probes);
        free(b2);
    }

    /* Confirmed: registered, with the dated event; a retry replays. */
    events = count_of("patient_events", pid);
    hdr = test_fmt("X-Test-Date: 2026-05-01\r\nIdempotency-Key: dx-%s", test_unique());
    r = expect(200, hosp.token, "hospital/diagnoses", body, hdr);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_string_equal(test_jstr(r->json, "status"), "registered");
    assert_string_equal(test_jstr(r->json, "diagnosis"), "bipolar");
    assert_string_equal(test_jstr(r->json, "registered_on"), "2026-05-01");
    assert_col(pid, "status", "registered");
    assert_col(pid, "diagnosis", "bipolar");
    assert_col(pid, "diagnosing_hospital", "潜江市精神卫生中心");
    assert_col(pid, "diagnosis_date", "2026-04-15");
    assert_col(pid, "onset_date", "2026-03-01");
    assert_int_equal(count_of("patient_events WHERE kind = 'diagnosed' AND event_date ="
                              " '2026-04-15' AND to_status = 'registered'",
                              pid),
                     1);
    assert_int_equal(count_of("patient_events", pid), events + 1);
    assert_int_equal(audits("patient.diagnose", pid), 1);
    r2 = expect(200, hosp.token, "hospital/diagnoses", body, hdr);
    assert_string_equal(r2->body, r->body);
    assert_string_equal(http_header(r2, "Idempotent-Replayed"), "true");
    http_free(r2);
    http_free(r);
    assert_int_equal(count_of("patient_events", pid), events + 1);
    assert_int_equal(audits("patient.diagnose", pid), 1);
    {
        /* The same key with another request is refused. */
        char *b3 = test_fmt("{\"id_number\":\"%s\",\"diagnosis\":\"schizophrenia\","
                            "\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                            "\"diagnosis_date\":\"2026-04-15\"}",
                            id);
        refused(422, "Idempotency-Key", hosp.token, "hospital/diagnoses", b3, hdr);
        free(b3);
    }
    /* Newly registered: a visit due within 14 days. */
    r = clinical_state(pid, "2026-05-01");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-05-15");
    http_free(r);

    /* Registered already: 409, nothing recorded. */
    refused(409, "id_number", hosp.token, "hospital/diagnoses", body, "X-Test-Date: 2026-05-01");
    assert_col(pid, "diagnosis", "bipolar");
    {
        char *b4 = test_fmt("{\"id_number\":\"%s\",\"diagnosis\":\"bipolar\","
                            "\"diagnosing_hospital\":\"潜江市精神卫生中心\","
                            "\"diagnosis_date\":\"2026-04-15\"}",
                            other);
        events = count_of("patient_events", registered);
        r = call(hosp.token, "hospital/diagnoses", b4, "X-Test-Date: 2026-05-01");
        http_assert_problem(r, 409, "id_number");
        assert_string_equal(http_str(r, "title"), "Already registered");
        http_free(r);
        assert_col(registered, "diagnosis", "schizophrenia");
        assert_int_equal(count_of("patient_events", registered), events);
        free(b4);
    }
    free(hdr);
    free(body);
}

/* [R-HOSP-1] */
static void hospital_admission_and_discharge(void **state)
{
    static const bad_case bad[] = {
        {"id_number", NULL, "id_number"},
        {"admitted_on", NULL, "admitted_on"},
        {"admitted_on", "\"2026-04-02\"", "admitted_on"}, /* after today */
        {"hospital", NULL, "hospital"},
        {"hospital", "\"\"", "hospital"},
        {"involuntary", NULL, "involuntary"},
        {"involuntary", "\"yes\"", "involuntary"},
        {"reason", "\"\"", "reason"},
        {"admission_id", "1", "admission_id"},
        {"escorted_by", "\"neighbour\"", "escorted_by"},
        {"escort_names", "\"\"", "escort_names"},
    };
    char id[19], other[19], *body, *dbody, *hdr, *tf_doctor_id, *yl_doctor_id, *grid_id;
    long long pid = create_patient(doctor, g01, id), never = create_patient(doctor, g01, other);
    char svc_user[32];
    const char *p[2];
    http_res *r, *r2;

    body = test_fmt("{\"id_number\":\"%s\",\"admitted_on\":\"2026-03-20\","
                    "\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":true,"
                    "\"reason\":\"持刀威胁家人\",\"escorted_by\":\"police\","
                    "\"escort_names\":\"泰丰派出所 李警官\"}",
                    id);
    bad_inputs(hosp.token, pid, "hospital/admissions", body, bad, sizeof(bad) / sizeof(bad[0]),
               "hospitalisations", "2026-04-01");
    {
        /* Names of the escort without who escorted: refused. */
        char *b = test_fmt("{\"id_number\":\"%s\",\"admitted_on\":\"2026-03-20\","
                           "\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":true,"
                           "\"escort_names\":\"李警官\"}",
                           id);
        refused(400, "escort_names", hosp.token, "hospital/admissions", b,
                "X-Test-Date: 2026-04-01");
        free(b);
    }
    assert_col(pid, "status", "registered");

    /* Admitted: hospitalised, nothing due; a retry replays the first answer. */
    hdr = test_fmt("X-Test-Date: 2026-04-01\r\nIdempotency-Key: adm-%s", test_unique());
    r = expect(201, hosp.token, "hospital/admissions", body, hdr);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_string_equal(test_jstr(r->json, "admitted_on"), "2026-03-20");
    assert_true(json_is_true(json_object_get(r->json, "involuntary")));
    assert_true(json_is_true(json_object_get(r->json, "open")));
    assert_string_equal(test_jstr(r->json, "escorted_by"), "police");
    assert_string_equal(test_jstr(r->json, "escort_names"), "泰丰派出所 李警官");
    assert_true(json_is_null(json_object_get(r->json, "discharge_summary")));
    assert_int_equal(test_jint(r->json, "user_id"), hosp.user_id);
    r2 = expect(201, hosp.token, "hospital/admissions", body, hdr);
    assert_string_equal(r2->body, r->body);
    assert_string_equal(http_header(r2, "Idempotent-Replayed"), "true");
    http_free(r2);
    http_free(r);
    assert_int_equal(count_of("hospitalisations", pid), 1);
    assert_col(pid, "status", "hospitalised");
    assert_int_equal(audits("admission.create", pid), 1);
    snprintf(svc_user, sizeof(svc_user), "%lld", hosp.user_id);
    {
        char idtxt[32];
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        p[0] = idtxt;
        p[1] = svc_user;
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'admission.create' AND target_id = $1 AND user_id = $2"
                                  " AND role = 'service'",
                                  2, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                                  " AND kind = 'status' AND to_status = 'hospitalised'"
                                  " AND event_date = '2026-03-20' AND user_id = $2",
                                  2, p),
                         1);
    }
    r = clinical_state(pid, "2026-04-01");
    assert_string_equal(test_jstr(r->json, "status"), "hospitalised");
    assert_true(json_is_null(json_object_get(r->json, "next_due")));
    http_free(r);
    /* Without the key, a second admission is refused. */
    refused(409, NULL, hosp.token, "hospital/admissions", body, "X-Test-Date: 2026-04-01");
    assert_int_equal(count_of("hospitalisations", pid), 1);

    /* Discharged with the summary (出院信息单): bad input changes nothing;
     * then in care, due within 7 days, the hospital's risk level current. */
    tf_doctor_id = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor2'", 0, NULL);
    yl_doctor_id = db_scalar("SELECT id FROM users WHERE username = 'yl.doctor'", 0, NULL);
    grid_id = db_scalar("SELECT id FROM users WHERE username = 'tf.grid1'", 0, NULL);
    dbody = test_fmt("{\"id_number\":\"%s\",\"discharged_on\":\"2026-04-10\","
                     "\"discharge_note\":\"症状缓解\",\"diagnosis\":\"schizophrenia\","
                     "\"medications\":[{\"drug\":\"利培酮\",\"morning\":1,\"evening\":2,"
                     "\"unit\":\"mg\"},{\"drug\":\"棕榈酸帕利哌酮\",\"long_acting\":true,"
                     "\"every_weeks\":4,\"dose_mg\":150}],\"risk_level\":2,"
                     "\"advice\":\"按时服药，两周后门诊复查\",\"community_doctor_id\":%s}",
                     id, tf_doctor_id);
    {
        char *yl_doc = test_fmt("%s", yl_doctor_id), *grid = test_fmt("%s", grid_id);
        char *many = test_fmt("[%s]", "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"},"
                                      "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"},"
                                      "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"},"
                                      "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"},"
                                      "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"},"
                                      "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"},"
                                      "{\"drug\":\"a\"},{\"drug\":\"a\"},{\"drug\":\"a\"}");
        const bad_case dbad[] = {
            {"discharged_on", NULL, "discharged_on"},
            {"discharged_on", "\"2026-04-13\"", "discharged_on"}, /* after today */
            {"discharged_on", "\"2026-03-19\"", "discharged_on"}, /* before admitted_on */
            {"discharge_note", "\"\"", "discharge_note"},
            {"id_number", "\"4290051\"", "id_number"},
            {"diagnosis", "\"depression\"", "diagnosis"},
            {"diagnosis", "\"F20\"", "diagnosis"},
            {"medications", "{}", "medications"},
            {"medications", many, "medications"}, /* 21 */
            {"medications", "[{\"dose_mg\":5}]", "medications"},
            {"medications", "[{\"drug\":\"氯氮平\",\"long_acting\":true}]", "medications"},
            {"risk_level", "6", "risk_level"},
            {"risk_level", "\"2\"", "risk_level"},
            {"advice", "\"\"", "advice"},
            {"community_doctor_id", "0", "community_doctor_id"},
            {"community_doctor_id", yl_doc, "community_doctor_id"}, /* another township's */
            {"community_doctor_id", grid, "community_doctor_id"},   /* not a doctor */
            {"community_doctor_id", "999999999", "community_doctor_id"},
        };
        long assessments = count_of("risk_assessments", pid);
        bad_inputs(hosp.token, pid, "hospital/discharges", dbody, dbad,
                   sizeof(dbad) / sizeof(dbad[0]), "hospitalisations WHERE discharged_on IS NULL",
                   "2026-04-12");
        assert_int_equal(count_of("risk_assessments", pid), assessments);
        assert_int_equal(count_of("notifications WHERE kind = 'discharged'", pid), 0);
        free(many);
        free(grid);
        free(yl_doc);
    }
    assert_col(pid, "status", "hospitalised");
    refused(403, NULL, pol.token, "hospital/discharges", dbody, "X-Test-Date: 2026-04-12");
    free(hdr);
    hdr = test_fmt("X-Test-Date: 2026-04-12\r\nIdempotency-Key: dis-%s", test_unique());
    r = expect(200, hosp.token, "hospital/discharges", dbody, hdr);
    assert_string_equal(test_jstr(r->json, "discharged_on"), "2026-04-10");
    assert_string_equal(test_jstr(r->json, "discharge_note"), "症状缓解");
    assert_true(json_is_false(json_object_get(r->json, "open")));
    {
        json_t *sum = json_object_get(r->json, "discharge_summary");
        assert_string_equal(test_jstr(sum, "diagnosis"), "schizophrenia");
        assert_int_equal(test_jint(sum, "risk_level"), 2);
        assert_string_equal(test_jstr(sum, "advice"), "按时服药，两周后门诊复查");
        assert_int_equal(test_jint(sum, "community_doctor_id"), atoll(tf_doctor_id));
        assert_string_equal(test_jstr(sum, "community_doctor_name"), "陈丽娟");
        assert_int_equal(json_array_size(json_object_get(sum, "medications")), 2);
        assert_true(json_is_true(json_object_get(
            json_array_get(json_object_get(sum, "medications"), 1), "long_acting")));
        assert_true(test_jint(sum, "risk_assessment_id") > 0);
    }
    r2 = expect(200, hosp.token, "hospital/discharges", dbody, hdr);
    assert_string_equal(r2->body, r->body);
    http_free(r2);
    http_free(r);
    assert_col(pid, "status", "in_care");
    assert_int_equal(audits("admission.discharge", pid), 1);
    /* The hospital's level is an assessment of the discharge date: the
     * patient's current risk. */
    assert_int_equal(count_of("risk_assessments WHERE assessed_on = '2026-04-10' AND level = 2"
                              " AND tier = 'city' AND face_to_face",
                              pid),
                     1);
    r = clinical_state(pid, "2026-04-12");
    assert_string_equal(test_jstr(r->json, "status"), "in_care");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-04-17");
    assert_string_equal(test_jstr(r->json, "due_rule"), "discharge_7d");
    assert_int_equal(test_jint(r->json, "risk_level"), 2);
    http_free(r);
    /* The clinic and the police station are told, once, with nothing
     * clinical in what they read. */
    assert_int_equal(count_of("notifications n WHERE kind = 'discharged' AND detail->>'risk_level'"
                              " = '2' AND NOT detail ?| '{diagnosis,medications,advice}'"
                              " AND EXISTS (SELECT 1 FROM notification_recipients x JOIN agencies"
                              " a ON a.id = x.agency_id WHERE x.notification_id = n.id AND"
                              " a.kind = 'clinic') AND EXISTS (SELECT 1 FROM"
                              " notification_recipients x JOIN agencies a ON a.id = x.agency_id"
                              " WHERE x.notification_id = n.id AND a.kind = 'police_station')",
                              pid),
                     1);
    /* Read back: the doctor sees the summary whole; a grid worker sees the
     * stay, the escort and the risk level, not the diagnosis, medicines or
     * notes; the police do not read stays (403), the notification is
     * theirs. */
    {
        char *sql = test_fmt("SELECT id FROM hospitalisations WHERE patient_id = %lld", pid);
        char *aidtxt = db_scalar(sql, 0, NULL);
        long long aid = atoll(aidtxt);
        char *one = test_fmt("/api/v1/patients/%lld/admissions/%lld", pid, aid);
        char *list = test_fmt("/api/v1/patients/%lld/admissions", pid);
        json_t *sum;

        r = http_do("GET", one, doctor, NULL, NULL);
        assert_int_equal(r->status, 200);
        sum = json_object_get(r->json, "discharge_summary");
        assert_string_equal(test_jstr(sum, "diagnosis"), "schizophrenia");
        assert_string_equal(test_jstr(r->json, "reason"), "持刀威胁家人");
        http_free(r);
        r = http_do("GET", list, police, NULL, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = http_do("GET", list, grid1, NULL, NULL);
        assert_int_equal(r->status, 200);
        {
            json_t *a = json_array_get(json_object_get(r->json, "items"), 0);
            assert_string_equal(test_jstr(a, "escorted_by"), "police");
            assert_string_equal(test_jstr(a, "discharged_on"), "2026-04-10");
            sum = json_object_get(a, "discharge_summary");
            assert_int_equal(test_jint(sum, "risk_level"), 2);
            assert_string_equal(test_jstr(sum, "community_doctor_name"), "陈丽娟");
            static const char *const hidden[] = {"diagnosis", "medications", "advice"};
            for (size_t i = 0; i < 3; i++)
                assert_null(json_object_get(sum, hidden[i]));
            assert_null(json_object_get(a, "reason"));
            assert_null(json_object_get(a, "discharge_note"));
            assert_null(strstr(r->body, "schizophrenia"));
            assert_null(strstr(r->body, "利培酮"));
        }
        http_free(r);
        r = http_do("GET", one, yl_doctor, NULL, NULL);
        assert_int_equal(r->status, 404);
        http_free(r);
        free(one);
        one = test_fmt("/api/v1/patients/%lld/admissions/%lld", never, aid);
        r = http_do("GET", one, doctor, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(one);
        free(list);
        free(aidtxt);
        free(sql);
    }
    /* No open admission: 409. */
    refused(409, NULL, hosp.token, "hospital/discharges", dbody, "X-Test-Date: 2026-04-12");
    free(dbody);
    dbody = test_fmt("{\"id_number\":\"%s\",\"discharged_on\":\"2026-04-10\"}", other);
    refused(409, NULL, hosp.token, "hospital/discharges", dbody, "X-Test-Date: 2026-04-12");
    assert_int_equal(count_of("hospitalisations", never), 0);
    assert_col(never, "status", "registered");
    free(dbody);
    free(hdr);
    free(body);
    free(tf_doctor_id);
    free(yl_doctor_id);
    free(grid_id);
}

/* ---- the police's calls ---------------------------------------------------- */

static void police_incident(void **state)
{
    static const bad_case bad[] = {
        {"id_number", NULL, "id_number"},
        {"occurred_on", NULL, "occurred_on"},
        {"occurred_on", "\"2026-02-04\"", "occurred_on"}, /* after today */
        {"place", NULL, "place"},
        {"kind", NULL, "kind"},
        {"kind", "\"fight\"", "kind"},
        {"injured", NULL, "injured"},
        {"injured", "-1", "injured"},
        {"dead", "1.5", "dead"},
        {"police_case_no", NULL, "police_case_no"},
        {"police_case_no", "\"\"", "police_case_no"},
        {"description", "7", "description"},
        {"weapon", "\"knife\"", "weapon"},
    };
    char id[19], *body, *hdr, *tf_police_agency = test_agency_id("泰丰派出所");
    long long pid = create_patient(doctor, g01, id), iid;
    long notes;
    const char *p[3];
    char idtxt[32], uid[32];
    http_res *r, *r2;

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    snprintf(uid, sizeof(uid), "%lld", pol.user_id);
    body = test_fmt("{\"id_number\":\"%s\",\"occurred_on\":\"2026-02-01\","
                    "\"place\":\"梅苑路菜市场\",\"kind\":\"trouble\",\"injured\":1,\"dead\":0,"
                    "\"police_case_no\":\"潜公(泰)立字[2026]0001号\"}",
                    id);
    bad_inputs(pol.token, pid, "police/incidents", body, bad, sizeof(bad) / sizeof(bad[0]),
               "incidents", "2026-02-03");
    notes = count_of("notifications WHERE kind = 'incident'", pid);

    /* A station of 园林 does not find a 泰丰 patient. */
    refused(404, "id_number", yl_pol.token, "police/incidents", body, "X-Test-Date: 2026-02-03");
    assert_int_equal(count_of("incidents", pid), 0);

    hdr = test_fmt("X-Test-Date: 2026-02-03\r\nIdempotency-Key: inc-%s", test_unique());
    r = expect(201, pol.token, "police/incidents", body, hdr);
    iid = test_jint(r->json, "id");
    assert_true(iid > 0);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_string_equal(test_jstr(r->json, "kind"), "trouble");
    assert_string_equal(test_jstr(r->json, "police_case_no"), "潜公(泰)立字[2026]0001号");
    assert_int_equal(test_jint(r->json, "user_id"), pol.user_id);
    r2 = expect(201, pol.token, "police/incidents", body, hdr);
    assert_string_equal(r2->body, r->body);
    http_free(r2);
    http_free(r);
    assert_int_equal(count_of("incidents", pid), 1);
    assert_int_equal(audits("incident.create", pid), 1);
    /* Every agency is told, by the sending station. */
    assert_int_equal(count_of("notifications WHERE kind = 'incident'", pid), notes + 1);
    p[0] = idtxt;
    p[1] = tf_police_agency;
    p[2] = uid;
    assert_int_equal(db_count("SELECT count(*) FROM notifications WHERE patient_id = $1"
                              " AND kind = 'incident' AND sender_agency_id = $2"
                              " AND sender_user_id = $3",
                              3, p),
                     1);
    /* Red for a year: the doctor sees it. */
    r = clinical_state(pid, "2026-02-03");
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    http_free(r);
    free(hdr);
    free(body);
    free(tf_police_agency);
}

static void police_key_person_list(void **state)
{
    static const bad_case bad[] = {
        {"id_number", NULL, "id_number"},
        {"listed", NULL, "listed"},
        {"listed", "\"yes\"", "listed"},
        {"list_date", NULL, "list_date"},
        {"list_date", "\"2026-03-32\"", "list_date"},
        {"list_date", "\"2026-03-02\"", "list_date"}, /* after today */
        {"note", "\"\"", "note"},
        {"level", "1", "level"},
    };
    char id[19], yl_id[19], *body, *hdr;
    long long pid = create_patient(doctor, g01, id),
              yl_pid = create_patient(yl_doctor, yl_g01, yl_id);
    long events;
    http_res *r, *r2;

    body = test_fmt("{\"id_number\":\"%s\",\"listed\":true,\"list_date\":\"2026-02-20\","
                    "\"note\":\"辖区重点人员\"}",
                    id);
    bad_inputs(pol.token, pid, "police/key-persons", body, bad, sizeof(bad) / sizeof(bad[0]),
               "patient_events", "2026-03-01");
    assert_col(pid, "police_key_person", NULL);
    refused(403, NULL, hosp.token, "police/key-persons", body, "X-Test-Date: 2026-03-01");

    events = count_of("patient_events", pid);
    hdr = test_fmt("X-Test-Date: 2026-03-01\r\nIdempotency-Key: kp-%s", test_unique());
    r = expect(200, pol.token, "police/key-persons", body, hdr);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_true(json_is_true(json_object_get(r->json, "police_key_person")));
    assert_string_equal(test_jstr(r->json, "police_key_person_on"), "2026-02-20");
    r2 = expect(200, pol.token, "police/key-persons", body, hdr);
    assert_string_equal(r2->body, r->body);
    http_free(r2);
    http_free(r);
    assert_col(pid, "police_key_person", "true");
    assert_col(pid, "police_key_person_on", "2026-02-20");
    assert_int_equal(count_of("patient_events", pid), events + 1);
    assert_int_equal(count_of("patient_events WHERE kind = 'updated' AND event_date ="
                              " '2026-02-20' AND reason LIKE '%公安重点人员%'",
                              pid),
                     1);
    assert_int_equal(audits("patient.police_key_person", pid), 1);

    /* An older report does not override a newer one. */
    bad_inputs(pol.token, pid, "police/key-persons", body,
               (const bad_case[]){{"list_date", "\"2026-02-19\"", "list_date"}}, 1,
               "patient_events", "2026-03-01");
    assert_col(pid, "police_key_person_on", "2026-02-20");
    /* Taken off the list later. */
    free(body);
    body = test_fmt("{\"id_number\":\"%s\",\"listed\":false,\"list_date\":\"2026-03-01\"}", id);
    r = expect(200, pol.token, "police/key-persons", body, "X-Test-Date: 2026-03-01");
    assert_true(json_is_false(json_object_get(r->json, "police_key_person")));
    http_free(r);
    assert_col(pid, "police_key_person", "false");
    assert_col(pid, "police_key_person_on", "2026-03-01");
    assert_int_equal(audits("patient.police_key_person", pid), 2);

    /* Outside the station's region: 404; 园林's station finds its own. */
    free(body);
    body = test_fmt("{\"id_number\":\"%s\",\"listed\":true,\"list_date\":\"2026-02-20\"}", yl_id);
    refused(404, "id_number", pol.token, "police/key-persons", body, "X-Test-Date: 2026-03-01");
    assert_col(yl_pid, "police_key_person", NULL);
    http_free(expect(200, yl_pol.token, "police/key-persons", body, "X-Test-Date: 2026-03-01"));
    assert_col(yl_pid, "police_key_person", "true");
    free(hdr);
    free(body);
}

/* ---- NDJSON batches ------------------------------------------------------ */

/* POST /api/v1/integrations/<what>/batch with body as NDJSON (ctype NULL:
 * application/x-ndjson). */
static http_res *post_batch(const char *token, const char *what, const char *body, size_t len,
                            const char *ctype)
{
    char *path = test_fmt("/api/v1/integrations/%s/batch", what);
    http_res *r = http_raw("POST", path, token, ctype ? ctype : "application/x-ndjson", body, len, 0);

    free(path);
    return r;
}

/* A batch sent again has the same answers, line by line: the same status,
 * the same result, a problem naming the same fields. */
static void same_answers(const json_t *again, const json_t *first)
{
    assert_int_equal(json_array_size(again), json_array_size(first));
    for (size_t i = 0; i < json_array_size(first); i++) {
        const json_t *x = json_array_get(again, i), *y = json_array_get(first, i);
        assert_int_equal(test_jint(x, "line"), test_jint(y, "line"));
        assert_int_equal(test_jint(x, "status"), test_jint(y, "status"));
        const json_t *rx = json_object_get(x, "result"), *ry = json_object_get(y, "result");
        const json_t *ex = json_object_get(json_object_get(x, "problem"), "errors"),
                     *ey = json_object_get(json_object_get(y, "problem"), "errors");
        assert_true(rx == NULL ? ry == NULL : json_equal(rx, ry));
        assert_true(ex == NULL ? ey == NULL : json_equal(ex, ey));
    }
}

/* What line i (1-based) of the key-person batch is. */
enum line_kind { LINE_GOOD, LINE_NO_DATE, LINE_ELSEWHERE, LINE_MALFORMED, LINE_NO_KEY, LINE_BLANK };

static enum line_kind kp_kind(int i)
{
    return i == 7    ? LINE_MALFORMED
           : i == 9  ? LINE_NO_KEY
           : i == 11 ? LINE_BLANK
           : i % 10 == 3 ? LINE_NO_DATE
           : i % 10 == 5 ? LINE_ELSEWHERE
                         : LINE_GOOD;
}

/* The police key-person list sent as 1,200 lines, mixed: the good lines
 * are recorded and audited one by one; a line without list_date is its
 * own 400 naming it, one naming a patient of another station's region
 * its own 404 naming id_number, one that is not JSON or has no key its
 * own 400; a blank line is skipped but counted. The answers come in line
 * order. Sent again, every line gets its first answer and nothing is
 * written; a line whose key comes back with another body is its own 422.
 * A person's token and a hospital's are refused (403), a JSON body is
 * 415, too many lines or too many bytes 413, an empty batch 400. */
static void police_key_person_batch(void **state)
{
    enum { LINES = 1200, PATIENTS = 4 };
    char ids[PATIENTS][19], yl_id[19], *text = NULL, *again;
    long long pids[PATIENTS], yl_pid = create_patient(yl_doctor, yl_g01, yl_id);
    size_t len = 0;
    long good = 0, per_patient[PATIENTS] = {0};
    FILE *f = open_memstream(&text, &len);
    const char *u = test_unique();
    http_res *r, *r2;
    json_t *items;

    for (int k = 0; k < PATIENTS; k++)
        pids[k] = create_patient(doctor, g01, ids[k]);
    for (int i = 1; i <= LINES; i++) {
        switch (kp_kind(i)) {
        case LINE_GOOD:
            fprintf(f,
                    "{\"key\":\"kb-%s-%d\",\"id_number\":\"%s\",\"listed\":true,"
                    "\"list_date\":\"2026-02-20\"}\n",
                    u, i, ids[i % PATIENTS]);
            good++;
            per_patient[i % PATIENTS]++;
            break;
        case LINE_NO_DATE:
            fprintf(f, "{\"key\":\"kb-%s-%d\",\"id_number\":\"%s\",\"listed\":true}\n", u, i,
                    ids[0]);
            break;
        case LINE_ELSEWHERE:
            fprintf(f,
                    "{\"key\":\"kb-%s-%d\",\"id_number\":\"%s\",\"listed\":true,"
                    "\"list_date\":\"2026-02-20\"}\n",
                    u, i, yl_id);
            break;
        case LINE_MALFORMED:
            fputs("{\"key\":\"kb-broken\",\n", f);
            break;
        case LINE_NO_KEY:
            fprintf(f, "{\"id_number\":\"%s\",\"listed\":true,\"list_date\":\"2026-02-20\"}\n",
                    ids[0]);
            break;
        case LINE_BLANK:
            fputs("  \r\n", f);
            break;
        }
    }
    fclose(f);

    /* Refused as a whole, and nothing written. */
    {
        http_res *x = post_batch(doctor, "police/key-persons", text, len, NULL);
        http_assert_problem(x, 403, NULL);
        http_free(x);
        x = post_batch(hosp.token, "police/key-persons", text, len, NULL);
        http_assert_problem(x, 403, NULL);
        http_free(x);
        x = post_batch(pol.token, "police/key-persons", text, len, "application/json");
        http_assert_problem(x, 415, "Content-Type");
        http_free(x);
        x = post_batch(pol.token, "police/key-persons", "\n \n", 3, NULL);
        http_assert_problem(x, 400, "body");
        http_free(x);
        for (int k = 0; k < PATIENTS; k++)
            assert_col(pids[k], "police_key_person", NULL);
    }
    {
        /* 5,001 lines; then 4 MiB and a byte. */
        size_t n = 5001 * 3, big = 4u * 1024 * 1024 + 1;
        char *many = malloc(n > big ? n : big);
        http_res *x;

        assert_non_null(many);
        for (size_t i = 0; i < n; i += 3)
            memcpy(many + i, "{}\n", 3);
        x = post_batch(pol.token, "police/key-persons", many, n, NULL);
        http_assert_problem(x, 413, "body");
        http_free(x);
        memset(many, ' ', big);
        x = post_batch(pol.token, "police/key-persons", many, big, NULL);
        assert_int_equal(x->status, 413);
        http_free(x);
        free(many);
    }

    r = post_batch(pol.token, "police/key-persons", text, len, NULL);
    if (r->status != 200)
        fail_msg("batch: %ld %.500s", r->status, r->body);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), LINES - 1);
    assert_int_equal(test_jint(r->json, "lines"), LINES - 1);
    assert_int_equal(test_jint(r->json, "succeeded"), good);
    assert_int_equal(test_jint(r->json, "failed"), LINES - 1 - good);
    for (size_t k = 0, i = 1; k < json_array_size(items); k++, i++) {
        json_t *it = json_array_get(items, k), *pr = json_object_get(it, "problem");
        const char *field;

        if (kp_kind((int)i) == LINE_BLANK)
            i++;
        assert_int_equal(test_jint(it, "line"), (long long)i);
        field = pr ? test_jstr(json_array_get(json_object_get(pr, "errors"), 0), "field") : NULL;
        switch (kp_kind((int)i)) {
        case LINE_GOOD:
            assert_int_equal(test_jint(it, "status"), 200);
            assert_int_equal(test_jint(json_object_get(it, "result"), "patient_id"),
                             pids[i % PATIENTS]);
            break;
        case LINE_NO_DATE:
            assert_int_equal(test_jint(it, "status"), 400);
            assert_string_equal(field, "list_date");
            break;
        case LINE_ELSEWHERE:
            assert_int_equal(test_jint(it, "status"), 404);
            assert_string_equal(field, "id_number");
            break;
        case LINE_MALFORMED:
            assert_int_equal(test_jint(it, "status"), 400);
            assert_string_equal(field, "body");
            break;
        case LINE_NO_KEY:
            assert_int_equal(test_jint(it, "status"), 400);
            assert_string_equal(field, "key");
            break;
        case LINE_BLANK:
            fail_msg("a blank line answered");
        }
    }
    for (int k = 0; k < PATIENTS; k++) {
        assert_col(pids[k], "police_key_person", "true");
        assert_int_equal(audits("patient.police_key_person", pids[k]), per_patient[k]);
    }
    assert_col(yl_pid, "police_key_person", NULL);

    /* Sent again: the first answers, nothing written. */
    r2 = post_batch(pol.token, "police/key-persons", text, len, NULL);
    assert_int_equal(r2->status, 200);
    same_answers(json_object_get(r2->json, "items"), items);
    for (int k = 0; k < PATIENTS; k++)
        assert_int_equal(audits("patient.police_key_person", pids[k]), per_patient[k]);
    http_free(r2);
    /* Line 1's key with another body. */
    again = test_fmt("{\"key\":\"kb-%s-1\",\"id_number\":\"%s\",\"listed\":false,"
                     "\"list_date\":\"2026-02-21\"}\n",
                     u, ids[1]);
    r2 = post_batch(pol.token, "police/key-persons", again, strlen(again), NULL);
    assert_int_equal(r2->status, 200);
    {
        json_t *it = json_array_get(json_object_get(r2->json, "items"), 0);
        assert_int_equal(test_jint(it, "status"), 422);
        assert_string_equal(
            test_jstr(json_array_get(json_object_get(json_object_get(it, "problem"), "errors"), 0),
                      "field"),
            "key");
    }
    assert_col(pids[1], "police_key_person", "true");
    http_free(r2);
    http_free(r);
    free(again);
    free(text);
}

/* Hospital admissions as a batch: each line admits as the single call
 * does (201, hospitalised, audited); a second admission of a patient in
 * hospital is that line's 409, a patient of another region that line's
 * 404; sent again, the same answers and no second stay. */
static void hospital_admission_batch(void **state)
{
    char a[19], b[19], yl[19];
    long long pa = create_patient(doctor, g01, a), pb = create_patient(doctor, g01, b);
    const char *u = test_unique();
    static const long want[] = {201, 201, 409, 404};
    char *text;
    http_res *r, *r2;
    json_t *items;

    create_patient(yl_doctor, yl_g01, yl);
    text = test_fmt(
        "{\"key\":\"ab-%s-1\",\"id_number\":\"%s\",\"admitted_on\":\"2026-03-20\","
        "\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":false}\n"
        "{\"key\":\"ab-%s-2\",\"id_number\":\"%s\",\"admitted_on\":\"2026-03-21\","
        "\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":true,\"reason\":\"拒绝服药\"}\n"
        "{\"key\":\"ab-%s-3\",\"id_number\":\"%s\",\"admitted_on\":\"2026-03-22\","
        "\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":false}\n"
        "{\"key\":\"ab-%s-4\",\"id_number\":\"%s\",\"admitted_on\":\"2026-03-22\","
        "\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":false}",
        u, a, u, b, u, a, u, yl);
    r = post_batch(pol.token, "hospital/admissions", text, strlen(text), NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = post_batch(hosp.token, "hospital/admissions", text, strlen(text), NULL);
    if (r->status != 200)
        fail_msg("batch: %ld %.500s", r->status, r->body);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 4);
    /* The lines' own headers stay with the lines. */
    assert_null(http_header(r, "Location"));
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(test_jint(json_array_get(items, i), "status"), want[i]);
    assert_int_equal(
        test_jint(json_object_get(json_array_get(items, 0), "result"), "patient_id"), pa);
    assert_col(pa, "status", "hospitalised");
    assert_col(pb, "status", "hospitalised");
    assert_int_equal(count_of("hospitalisations", pa), 1);
    assert_int_equal(audits("admission.create", pa), 1);
    assert_int_equal(audits("admission.create", pb), 1);

    r2 = post_batch(hosp.token, "hospital/admissions", text, strlen(text), NULL);
    assert_int_equal(r2->status, 200);
    assert_null(http_header(r2, "Idempotent-Replayed"));
    same_answers(json_object_get(r2->json, "items"), items);
    assert_int_equal(count_of("hospitalisations", pa), 1);
    assert_int_equal(count_of("hospitalisations", pb), 1);
    assert_int_equal(audits("admission.create", pa), 1);
    http_free(r2);
    http_free(r);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admins_manage_clients),
        cmocka_unit_test(token_exchange_and_its_attacks),
        cmocka_unit_test(only_the_right_system_calls),
        cmocka_unit_test(hospital_diagnosis),
        cmocka_unit_test(hospital_admission_and_discharge),
        cmocka_unit_test(police_incident),
        cmocka_unit_test(police_key_person_list),
        cmocka_unit_test(police_key_person_batch),
        cmocka_unit_test(hospital_admission_batch),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
