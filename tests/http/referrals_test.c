/* HTTP suite: referrals (转诊) — made at a follow-up (in its transaction)
 * or on their own from a follow-up or an emergency record, with the last
 * day by urgency; read on the patient cut to the role's view and as a list
 * scoped to the area or, for a hospital's system, to its hospital; taken up
 * by the hospital (accept, admit through the admission core, send back),
 * idempotent, 409 naming the state for a move the state does not allow,
 * 404 for another hospital; overdue on the worklist and the dashboard; bad
 * input naming its field with nothing written. */
#include "client.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 23
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

typedef struct client {
    char *token;
} client;

static char *root_admin, *yl_admin, *doctor, *yl_doctor, *grid1, *police, *g01;
static char *mhc, *police_agency; /* agency ids: 潜江市精神卫生中心, 泰丰派出所 */
static client hosp, other_hosp, pol;
static int serial;

/* A client-credentials token of a new service user of agency in unit, made
 * by admin. */
static char *service_token(const char *admin, const char *unit_code, const char *agency_name)
{
    char *unit = test_unit_id(unit_code), *agency = test_agency_id(agency_name);
    char *name = test_fmt("ref%d.%s", serial++, test_unique());
    char *body = test_fmt("{\"username\":\"%s\",\"display_name\":\"转诊接口%d\","
                          "\"password\":\"Correct-horse-1\",\"role\":\"service\","
                          "\"org_unit_id\":%s,\"agency_id\":%s}",
                          name, serial, unit, agency);
    http_res *r = http_do("POST", "/api/v1/users", admin, body, NULL);
    char *cb, *tb, *token;

    if (r->status != 201)
        fail_msg("service user: %ld %s", r->status, r->body);
    cb = test_fmt("{\"user_id\":%lld}", test_jint(r->json, "id"));
    http_free(r);
    r = http_do("POST", "/api/v1/service-clients", admin, cb, NULL);
    if (r->status != 201)
        fail_msg("client: %ld %s", r->status, r->body);
    tb = test_fmt("{\"grant_type\":\"client_credentials\",\"client_id\":\"%s\","
                  "\"client_secret\":\"%s\"}",
                  http_str(r, "client_id"), http_str(r, "client_secret"));
    http_free(r);
    r = http_do("POST", "/api/v1/auth/token", NULL, tb, NULL);
    if (r->status != 200)
        fail_msg("token: %ld %s", r->status, r->body);
    token = strdup(http_str(r, "access_token"));
    http_free(r);
    free(tb);
    free(cb);
    free(body);
    free(name);
    free(agency);
    free(unit);
    return token;
}

static int setup(void **state)
{
    (void)state;
    root_admin = http_login("admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    doctor = http_login("tf.doctor", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    grid1 = http_login("tf.grid1", NULL);
    police = http_login("tf.police", NULL);
    g01 = test_unit_id("429005003001G01");
    mhc = test_agency_id("潜江市精神卫生中心");
    police_agency = test_agency_id("泰丰派出所");
    hosp.token = service_token(root_admin, "429005", "潜江市精神卫生中心");
    other_hosp.token = service_token(yl_admin, "429005001", "园林街道社区卫生服务中心");
    pol.token = service_token(root_admin, "429005003", "泰丰派出所");
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&root_admin,       &yl_admin, &doctor, &yl_doctor,     &grid1,
                    &police,           &g01,      &mhc,    &police_agency, &hosp.token,
                    &other_hosp.token, &pol.token};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

static long long new_patient(void)
{
    char id[19], *name = test_fmt("转诊%s", test_cn_unique());
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, "2026-03-01", name, id, g01, DIAG);
    free(name);
    test_stable_visit(doctor, pid, "2026-03-02");
    return pid;
}

/* The integer that sql (made with test_fmt, freed) selects. */
static long long scalar(char *sql)
{
    char *v = db_scalar(sql, 0, NULL);
    long long n = v ? atoll(v) : 0;

    free(v);
    free(sql);
    return n;
}

static long referrals_of(long long pid)
{
    return db_count_id("SELECT count(*) FROM referrals WHERE patient_id = $1", pid);
}

static long audits(const char *action, long long pid)
{
    char idtxt[32];
    const char *p[] = {action, idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2", 2, p);
}

/* POST /integrations/hospital/referrals/{id}/{what} as token. */
static http_res *hospital_call(const char *token, long long id, const char *what, const char *body,
                               const char *headers)
{
    char *path = test_fmt("/api/v1/integrations/hospital/referrals/%lld/%s", id, what);
    http_res *r = http_do("POST", path, token, body, headers);

    free(path);
    return r;
}

static void hospital_refused(long status, const char *field, const char *token, long long id,
                             const char *what, const char *body)
{
    http_res *r = hospital_call(token, id, what, body, "X-Test-Date: 2026-04-03");

    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld %s", what, status, r->status, r->body);
    http_assert_problem(r, status, field);
    http_free(r);
}

/* The referral with id in the items of r, or NULL. */
static json_t *item_of(const http_res *r, long long id)
{
    json_t *items = json_object_get(r->json, "items"), *it;
    size_t i;

    json_array_foreach(items, i, it)
    {
        if (test_jint(it, "id") == id)
            return it;
    }
    return NULL;
}

/* The township dashboard's referral figure key ("open", "overdue"). */
static long long dashboard(const char *key, const char *date)
{
    http_res *r = test_call(date, "GET", "/api/v1/statistics/dashboard", doctor, NULL);
    long long n;

    assert_int_equal(r->status, 200);
    n = test_jint(json_object_get(r->json, "referrals"), key);
    http_free(r);
    return n;
}

/* A stable visit on 2026-04-01 that reached the patient, with the JSON
 * members extra (",\"k\":v…") added (free it). */
static char *visit_with(const char *extra)
{
    char *base = test_fmt(TEST_STABLE_VISIT, "2026-04-01");
    char *body = test_fmt("%.*s%s}", (int)strlen(base) - 1, base, extra);

    free(base);
    return body;
}

/* A referral made with the follow-up form; bad forms write nothing. */
static void referral_at_follow_up(void **state)
{
    long long pid = new_patient(), fid, rid;
    long visits = db_count_id("SELECT count(*) FROM follow_ups WHERE patient_id = $1", pid);
    char *path = test_fmt("/api/v1/patients/%lld/follow-ups", pid);
    struct {
        char *extra;
        const char *field;
    } bad[] = {
        {test_fmt(",\"referral\":true,\"referral_hospital_id\":%s", mhc), "referral_reason"},
        {test_fmt(",\"referral\":false,\"referral_hospital_id\":%s", mhc), "referral_hospital_id"},
        {test_fmt(",\"referral_urgency\":\"urgent\""), "referral_urgency"},
        {test_fmt(",\"referral\":true,\"referral_reason\":\"病情波动\","
                  "\"referral_hospital_id\":%s,\"referral_urgency\":\"soon\"",
                  mhc),
         "referral_urgency"},
        /* A police station is no hospital: the visit is not written either. */
        {test_fmt(",\"referral\":true,\"referral_reason\":\"病情波动\","
                  "\"referral_hospital_id\":%s",
                  police_agency),
         "referral_hospital_id"},
    };
    http_res *r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = visit_with(bad[i].extra);
        test_refused(400, bad[i].field, "2026-04-01", "POST", doctor, test_fmt("%s", path), body);
        free(body);
        free(bad[i].extra);
    }
    assert_int_equal(db_count_id("SELECT count(*) FROM follow_ups WHERE patient_id = $1", pid),
                     visits);
    assert_int_equal(referrals_of(pid), 0);

    /* Referred elsewhere (in words, no hospital of the system): the national
     * form's fields, no referral record. */
    {
        char *base = test_fmt(TEST_STABLE_VISIT, "2026-03-01");
        char *body = test_fmt("%.*s,\"referral\":true,\"referral_to\":\"外省专科医院\"}",
                              (int)strlen(base) - 1, base);
        r = test_expect(201, "2026-03-01", "POST", doctor, test_fmt("%s", path), body);
        free(body);
        free(base);
        assert_true(json_is_null(json_object_get(r->json, "referral_id")));
        http_free(r);
    }
    assert_int_equal(referrals_of(pid), 0);

    {
        char *extra = test_fmt(",\"referral\":true,\"referral_reason\":\"病情波动\","
                               "\"referral_to\":\"精神科门诊\",\"referral_hospital_id\":%s,"
                               "\"referral_urgency\":\"urgent\"",
                               mhc);
        char *body = visit_with(extra);
        r = test_expect(201, "2026-04-01", "POST", doctor, test_fmt("%s", path), body);
        free(body);
        free(extra);
    }
    fid = test_jint(r->json, "id");
    rid = test_jint(r->json, "referral_id");
    http_free(r);
    assert_true(rid > 0);
    assert_int_equal(db_count_id("SELECT count(*) FROM referrals WHERE id = $1 AND from_kind ="
                                 " 'follow_up' AND urgency = 'urgent' AND status = 'open'"
                                 " AND referred_on = '2026-04-01' AND due_on = '2026-04-02'",
                                 rid),
                     1);
    assert_int_equal(db_count_id("SELECT count(*) FROM referrals WHERE follow_up_id = $1", fid), 1);
    assert_int_equal(audits("referral.create", pid), 1);
    free(path);
}

/* The whole life of referrals: made, read by role, overdue, taken up. [R-REF-1] */
/* A referral reaches the hospital's system at once: an event
 * 'referral.created' delivered to the hospital's webhook endpoints (none to
 * another agency's), carrying the referral and the patient. [R-REF-1] */
static void referral_pushed_to_hospital(void **state)
{
    long long pid = new_patient(), fid, endpoint, other_endpoint;
    char *body, *path, *log;
    http_res *r;

    (void)state;
    body = test_fmt("{\"agency_id\":%s,\"url\":\"https://hospital.example/hook\","
                    "\"secret\":\"0123456789abcdef0123456789abcdef\"}",
                    mhc);
    r = http_do("POST", "/api/v1/webhook-endpoints", root_admin, body, NULL);
    if (r->status != 201)
        fail_msg("endpoint: %ld %s", r->status, r->body);
    endpoint = test_jint(r->json, "id");
    http_free(r);
    free(body);
    body = test_fmt("{\"agency_id\":%s,\"url\":\"https://police.example/hook\","
                    "\"secret\":\"0123456789abcdef0123456789abcdef\"}",
                    police_agency);
    r = http_do("POST", "/api/v1/webhook-endpoints", root_admin, body, NULL);
    assert_int_equal(r->status, 201);
    other_endpoint = test_jint(r->json, "id");
    http_free(r);
    free(body);

    test_stable_visit(doctor, pid, "2026-04-02");
    fid = scalar(test_fmt("SELECT max(id) FROM follow_ups WHERE patient_id = %lld", pid));
    path = test_fmt("/api/v1/patients/%lld/referrals", pid);
    body = test_fmt("{\"from_kind\":\"follow_up\",\"follow_up_id\":%lld,\"hospital_id\":%s,"
                    "\"reason\":\"夜间冲动，需住院评估\",\"urgency\":\"urgent\"}",
                    fid, mhc);
    r = test_call("2026-04-02", "POST", path, doctor, body);
    if (r->status != 201)
        fail_msg("referral: %ld %s", r->status, r->body);
    long long rid = test_jint(r->json, "id");
    http_free(r);

    /* The hospital's delivery log holds the event, pending for the worker. */
    log = test_fmt("/api/v1/webhook-endpoints/%lld/deliveries", endpoint);
    r = http_do("GET", log, root_admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_true(json_array_size(items) >= 1);
    assert_string_equal(test_jstr(json_array_get(items, 0), "topic"), "referral.created");
    assert_string_equal(test_jstr(json_array_get(items, 0), "state"), "pending");
    http_free(r);
    free(log);
    char *q = test_fmt("SELECT count(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
                       " WHERE o.topic = 'referral.created' AND d.endpoint_id = %lld"
                       " AND d.patient_id = %lld AND (o.payload->>'referral_id')::bigint = %lld"
                       " AND o.payload->>'urgency' = 'urgent'"
                       " AND (o.payload->'patient'->>'id')::bigint = %lld",
                       endpoint, pid, rid, pid);
    assert_int_equal(scalar(q), 1);
    q = test_fmt("SELECT count(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
                 " WHERE o.topic = 'referral.created' AND d.endpoint_id = %lld",
                 other_endpoint);
    assert_int_equal(scalar(q), 0);

    /* Endpoints made for this test leave no work for the other suites' worker. */
    q = test_fmt("WITH x AS (UPDATE webhook_endpoints SET active = false"
                 " WHERE id IN (%lld, %lld) RETURNING 1) SELECT count(*) FROM x",
                 endpoint, other_endpoint);
    assert_int_equal(scalar(q), 2);
    free(path);
    free(body);
}

static void referral_lifecycle(void **state)
{
    long long pid = new_patient(), other = new_patient(), fid, fid2, urgent, routine;
    char *path = test_fmt("/api/v1/patients/%lld/referrals", pid), *body, *good;
    long long open0, overdue0;
    http_res *r, *r2;

    (void)state;
    /* Two follow-ups to refer from, and one of another patient. */
    test_stable_visit(doctor, pid, "2026-04-01");
    test_stable_visit(doctor, other, "2026-04-01");
    fid = scalar(test_fmt("SELECT max(id) FROM follow_ups WHERE patient_id = %lld", pid));
    fid2 = scalar(test_fmt("SELECT max(id) FROM follow_ups WHERE patient_id = %lld", other));
    good = test_fmt("{\"from_kind\":\"follow_up\",\"follow_up_id\":%lld,\"hospital_id\":%s,"
                    "\"reason\":\"幻听加重，拒绝服药\",\"urgency\":\"urgent\"}",
                    fid, mhc);
    {
        char *fu2 = test_fmt("%lld", fid2), *none = test_fmt("%lld", fid2 + 1000000);
        const struct {
            const char *key, *value, *field;
        } bad[] = {
            {"from_kind", NULL, "from_kind"},
            {"from_kind", "\"clinic\"", "from_kind"},
            {"follow_up_id", NULL, "follow_up_id"},
            {"follow_up_id", fu2, "follow_up_id"}, /* another patient's visit */
            /* No such visit: no foreign key since follow-ups are partitioned
             * by year (migration 0049); the writer checks. */
            {"follow_up_id", none, "follow_up_id"},
            {"emergency_record_id", "1", "emergency_record_id"},
            {"hospital_id", NULL, "hospital_id"},
            {"hospital_id", police_agency, "hospital_id"},
            {"hospital_id", "\"1\"", "hospital_id"},
            {"reason", NULL, "reason"},
            {"reason", "\"\"", "reason"},
            {"urgency", NULL, "urgency"},
            {"urgency", "\"soon\"", "urgency"},
            {"referred_on", "\"2026-04-04\"", "referred_on"}, /* after today */
            {"ward", "\"3\"", "ward"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            json_t *b = json_loads(good, 0, NULL);
            char *s;
            if (bad[i].value == NULL)
                json_object_del(b, bad[i].key);
            else
                json_object_set_new(b, bad[i].key, json_loads(bad[i].value, JSON_DECODE_ANY, NULL));
            s = json_dumps(b, JSON_COMPACT);
            test_refused(400, bad[i].field, "2026-04-03", "POST", doctor, test_fmt("%s", path), s);
            free(s);
            json_decref(b);
        }
        free(fu2);
        free(none);
    }
    /* Roles and scope. */
    test_refused(403, NULL, "2026-04-03", "POST", grid1, test_fmt("%s", path), good);
    test_refused(403, NULL, "2026-04-03", "POST", police, test_fmt("%s", path), good);
    test_refused(404, NULL, "2026-04-03", "POST", yl_doctor, test_fmt("%s", path), good);
    assert_int_equal(referrals_of(pid), 0);

    open0 = dashboard("open", "2026-04-03");
    overdue0 = dashboard("overdue", "2026-04-03");

    /* Urgent, made on the visit's date: its last day is the next. */
    body = test_fmt("{\"from_kind\":\"follow_up\",\"follow_up_id\":%lld,\"hospital_id\":%s,"
                    "\"reason\":\"幻听加重，拒绝服药\",\"urgency\":\"urgent\","
                    "\"referred_on\":\"2026-04-01\"}",
                    fid, mhc);
    r = test_expect(201, "2026-04-03", "POST", doctor, test_fmt("%s", path), body);
    urgent = test_jint(r->json, "id");
    assert_string_equal(test_jstr(r->json, "status"), "open");
    assert_string_equal(test_jstr(r->json, "due_on"), "2026-04-02");
    assert_true(json_is_true(json_object_get(r->json, "overdue")));
    assert_string_equal(test_jstr(r->json, "hospital_name"), "潜江市精神卫生中心");
    http_free(r);
    /* The same follow-up refers once. */
    test_refused(409, "follow_up_id", "2026-04-03", "POST", doctor, test_fmt("%s", path), body);
    free(body);
    /* From an emergency record (应急处置记录单), routine: a week. */
    {
        char *alert = test_fmt("{\"patient_id\":%lld,\"grade\":\"warning\",\"place\":\"家中\","
                               "\"observed\":\"摔砸物品\"}",
                               pid);
        long long aid, eid;
        r = test_expect(201, NULL, "POST", grid1, test_fmt("/api/v1/alerts"), alert);
        aid = test_jint(r->json, "id");
        http_free(r);
        r = test_expect(201, NULL, "POST", doctor,
                        test_fmt("/api/v1/alerts/%lld/emergency-records", aid),
                        "{\"situation\":\"relapse\",\"place\":\"家中\",\"responders\":"
                        "[\"clinic\"],\"sent_to_hospital\":false,\"restraint\":false,"
                        "\"outcome\":\"stabilised\"}");
        eid = test_jint(r->json, "id");
        http_free(r);
        free(alert);
        body = test_fmt("{\"from_kind\":\"emergency\",\"emergency_record_id\":%lld,"
                        "\"hospital_id\":%s,\"reason\":\"病情复发\",\"urgency\":\"routine\"}",
                        eid, mhc);
        r = test_expect(201, "2026-04-03", "POST", doctor, test_fmt("%s", path), body);
        routine = test_jint(r->json, "id");
        assert_string_equal(test_jstr(r->json, "from_kind"), "emergency");
        assert_int_equal(test_jint(r->json, "emergency_record_id"), eid);
        assert_string_equal(test_jstr(r->json, "due_on"), "2026-04-10");
        assert_true(json_is_false(json_object_get(r->json, "overdue")));
        http_free(r);
        free(body);
    }
    assert_int_equal(referrals_of(pid), 2);
    assert_int_equal(audits("referral.create", pid), 2);

    /* Read on the patient: the doctor whole, the police without reasons. */
    r = test_expect(200, "2026-04-03", "GET", doctor, test_fmt("%s", path), NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
    assert_string_equal(test_jstr(item_of(r, urgent), "reason"), "幻听加重，拒绝服药");
    http_free(r);
    r = test_expect(200, "2026-04-03", "GET", police, test_fmt("%s", path), NULL);
    assert_null(json_object_get(item_of(r, urgent), "reason"));
    assert_string_equal(test_jstr(item_of(r, urgent), "urgency"), "urgent");
    assert_null(strstr(r->body, "幻听"));
    http_free(r);
    test_refused(404, NULL, NULL, "GET", yl_doctor, test_fmt("%s", path), NULL);

    /* Overdue: on the list, the worklist and the dashboard. */
    r = test_expect(200, "2026-04-03", "GET", doctor, test_fmt("/api/v1/referrals?overdue=true"),
                    NULL);
    assert_non_null(item_of(r, urgent));
    assert_null(item_of(r, routine));
    http_free(r);
    r = test_expect(200, "2026-04-03", "GET", doctor,
                    test_fmt("/api/v1/referrals?status=open&limit=200"), NULL);
    assert_non_null(item_of(r, routine));
    http_free(r);
    test_refused(400, "status", NULL, "GET", doctor, test_fmt("/api/v1/referrals?status=closed"),
                 NULL);
    test_refused(400, "overdue", NULL, "GET", doctor, test_fmt("/api/v1/referrals?overdue=2"),
                 NULL);
    r = test_expect(200, "2026-04-03", "GET", yl_doctor,
                    test_fmt("/api/v1/referrals?status=open&limit=200"), NULL);
    assert_null(item_of(r, urgent));
    http_free(r);
    {
        char *wl = test_fmt("/api/v1/worklists/referrals?limit=200");
        json_t *it;
        size_t i;
        bool found = false;
        r = test_expect(200, "2026-04-03", "GET", doctor, wl, NULL);
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            if (test_jint(it, "patient_id") != pid)
                continue;
            found = true;
            assert_string_equal(test_jstr(it, "due"), "2026-04-02");
            assert_int_equal(test_jint(it, "days_overdue"), 1);
        }
        assert_true(found);
        http_free(r);
        test_refused(403, NULL, "2026-04-03", "GET", police,
                     test_fmt("/api/v1/worklists/referrals"), NULL);
    }
    assert_int_equal(dashboard("open", "2026-04-03"), open0 + 2);
    assert_int_equal(dashboard("overdue", "2026-04-03"), overdue0 + 1);

    /* The hospital's side: only its own system, only its referrals. */
    r = http_do("GET", "/api/v1/referrals?limit=200", hosp.token, NULL, "X-Test-Date: 2026-04-03");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(item_of(r, urgent), "reason"), "幻听加重，拒绝服药");
    http_free(r);
    r = http_do("GET", "/api/v1/referrals?limit=200", other_hosp.token, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(item_of(r, urgent));
    http_free(r);
    r = http_do("GET", "/api/v1/referrals", pol.token, NULL, NULL);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    hospital_refused(404, NULL, other_hosp.token, urgent, "accept", "{}");
    hospital_refused(403, NULL, pol.token, urgent, "accept", "{}");
    hospital_refused(403, NULL, doctor, urgent, "accept", "{}");
    hospital_refused(404, NULL, hosp.token, urgent + 1000000, "accept", "{}");
    hospital_refused(400, "note", hosp.token, urgent, "accept", "{\"note\":\"x\"}");

    /* Accepted, once: a retry with its key replays, another accept is 409. */
    {
        char *hdr = test_fmt("X-Test-Date: 2026-04-03\r\nIdempotency-Key: acc-%s", test_unique());
        r = hospital_call(hosp.token, urgent, "accept", "{}", hdr);
        assert_int_equal(r->status, 200);
        assert_string_equal(test_jstr(r->json, "status"), "accepted");
        assert_non_null(test_jstr(r->json, "accepted_at"));
        r2 = hospital_call(hosp.token, urgent, "accept", "{}", hdr);
        assert_int_equal(r2->status, 200);
        assert_string_equal(r2->body, r->body);
        assert_string_equal(http_header(r2, "Idempotent-Replayed"), "true");
        http_free(r2);
        http_free(r);
        free(hdr);
    }
    hospital_refused(409, "status", hosp.token, urgent, "accept", "{}");
    assert_int_equal(audits("referral.accept", pid), 1);
    /* Accepted is still open, and still overdue. */
    assert_int_equal(dashboard("overdue", "2026-04-03"), overdue0 + 1);

    /* Admitted through the admission core: the patient is in hospital. */
    hospital_refused(400, "admitted_on", hosp.token, urgent, "admit",
                     "{\"hospital\":\"潜江市精神卫生中心\",\"involuntary\":false}");
    hospital_refused(400, "escorted_by", hosp.token, urgent, "admit",
                     "{\"admitted_on\":\"2026-04-03\",\"hospital\":\"潜江市精神卫生中心\","
                     "\"involuntary\":false,\"escorted_by\":\"taxi\"}");
    assert_int_equal(
        db_count_id("SELECT count(*) FROM hospitalisations WHERE patient_id = $1", pid), 0);
    r = hospital_call(hosp.token, urgent, "admit",
                      "{\"admitted_on\":\"2026-04-03\",\"hospital\":\"潜江市精神卫生中心\","
                      "\"involuntary\":false,\"escorted_by\":\"family\",\"reason\":\"转诊入院\"}",
                      "X-Test-Date: 2026-04-03");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "admitted");
    assert_string_equal(test_jstr(r->json, "closed_on"), "2026-04-03");
    assert_int_equal(test_jint(r->json, "admission_id"),
                     scalar(test_fmt("SELECT id FROM hospitalisations WHERE patient_id = %lld"
                                     " AND escorted_by = 'family'",
                                     pid)));
    http_free(r);
    assert_int_equal(db_count_id("SELECT count(*) FROM patients WHERE id = $1 AND status ="
                                 " 'hospitalised'",
                                 pid),
                     1);
    assert_int_equal(audits("admission.create", pid), 1);
    hospital_refused(409, "status", hosp.token, urgent, "return", "{\"reason\":\"无床位\"}");
    hospital_refused(409, "status", hosp.token, urgent, "admit",
                     "{\"admitted_on\":\"2026-04-03\",\"hospital\":\"潜江市精神卫生中心\","
                     "\"involuntary\":false}");

    /* Sent back, with the hospital's reason. */
    hospital_refused(400, "reason", hosp.token, routine, "return", "{}");
    r = hospital_call(hosp.token, routine, "return", "{\"reason\":\"已住院，无需转诊\"}",
                      "X-Test-Date: 2026-04-03");
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(r->json, "status"), "returned");
    assert_string_equal(test_jstr(r->json, "return_reason"), "已住院，无需转诊");
    http_free(r);
    assert_int_equal(audits("referral.return", pid), 1);

    /* Closed: off the worklist and out of the figures. */
    assert_int_equal(dashboard("open", "2026-04-03"), open0);
    assert_int_equal(dashboard("overdue", "2026-04-03"), overdue0);
    r = test_expect(200, "2026-04-03", "GET", doctor,
                    test_fmt("/api/v1/worklists/referrals?limit=200"), NULL);
    {
        json_t *it;
        size_t i;
        json_array_foreach(json_object_get(r->json, "items"), i, it)
            assert_true(test_jint(it, "patient_id") != pid);
    }
    http_free(r);
    /* A patient in hospital is not referred. */
    body = test_fmt("{\"from_kind\":\"follow_up\",\"follow_up_id\":%lld,\"hospital_id\":%s,"
                    "\"reason\":\"复诊\",\"urgency\":\"routine\"}",
                    fid, mhc);
    test_refused(409, "status", "2026-04-03", "POST", doctor, test_fmt("%s", path), body);
    free(body);
    free(good);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(referral_at_follow_up),
        cmocka_unit_test(referral_lifecycle),
        cmocka_unit_test(referral_pushed_to_hospital),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
