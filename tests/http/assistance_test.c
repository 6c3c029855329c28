/* HTTP suite: assistance (救治救助) — the application workflow and every
 * refused transition, payments, the monthly 以奖代补 batch with its
 * eligibility explained, in-person collection, payments withheld by an
 * incident recorded after the batch, the configurable standards and local
 * rule, totals by kind and child unit (and the statistics view), bad
 * inputs refused with nothing written, and who may see and do what. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 20 /* keeps this suite's ID numbers apart from the others' */
#define TODAY "2026-06-15"

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *civil, *official, *doctor, *police, *grid1, *tf_admin, *yl_admin, *yl_doctor, *cadre;
static char *g01, *meiyuan, *qy_g01, *yl_unit;
/* The month this run pays for ("YYYY-MM"), one no earlier run used, with
 * its first day and days inside it. */
static char month[24], prev_month[24], m_first[32], m_day5[32], m_day10[32], m_day20[32];
static char before_m[32];

/* ---- helpers ---------------------------------------------------------- */

static http_res *call(const char *token, const char *method, const char *path, const char *body)
{
    return test_call(TODAY, method, path, token, body);
}

/* Call and demand status; returns the response (free it). */
static http_res *expect(long status, const char *token, const char *method, const char *path,
                        const char *body)
{
    http_res *r = call(token, method, path, body);

    if (r->status != status)
        fail_msg("%s %s %s: %ld (want %ld) %s", method, path, body ? body : "", r->status, status,
                 r->body);
    return r;
}

static void expect_free(long status, const char *token, const char *method, const char *path,
                        const char *body)
{
    http_free(expect(status, token, method, path, body));
}

static long long new_patient(const char *what, const char *unit)
{
    char id[19];
    char *name = test_fmt("救助%s%s", what, test_cn_unique());
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, TODAY, name, id, unit, DIAG);
    free(name);
    return pid;
}

/* A guardian of pid; signed: agreement date or NULL. Returns its id. */
static long long add_guardian(long long pid, const char *signed_on)
{
    char *path = test_fmt("/api/v1/patients/%lld/guardians", pid);
    char *body = test_fmt("{\"kind\":\"primary\",\"name\":\"监护者\",\"relation\":\"parent\","
                          "\"capacity\":\"adequate\"%s%s%s}",
                          signed_on ? ",\"agreement_signed_on\":\"" : "",
                          signed_on ? signed_on : "", signed_on ? "\"" : "");
    http_res *r = expect(201, doctor, "POST", path, body);
    long long id = test_jint(r->json, "id");

    http_free(r);
    free(body);
    free(path);
    return id;
}

static void assess(long long pid, int level, const char *on)
{
    char *path = test_fmt("/api/v1/patients/%lld/risk-assessments", pid);
    char *body =
        test_fmt("{\"assessed_on\":\"%s\",\"level\":%d,\"tier\":\"community\"}", on, level);

    expect_free(201, doctor, "POST", path, body);
    free(body);
    free(path);
}

static long long incident(long long pid, const char *on)
{
    char *path = test_fmt("/api/v1/patients/%lld/incidents", pid);
    char *body =
        test_fmt("{\"occurred_on\":\"%s\",\"place\":\"村口\",\"kind\":\"mild_trouble\",\"injured\":0,\"dead\":0}",
                 on);
    http_res *r = expect(201, doctor, "POST", path, body);
    long long id = test_jint(r->json, "id");

    http_free(r);
    free(body);
    free(path);
    return id;
}

/* Apply as civil affairs; returns the application id. */
static long long apply(long long pid, const char *kind, long long gid)
{
    char *path = test_fmt("/api/v1/patients/%lld/assistance", pid);
    char *body = gid ? test_fmt("{\"kind\":\"%s\",\"applied_on\":\"%s\",\"guardian_id\":%lld}",
                                kind, before_m, gid)
                     : test_fmt("{\"kind\":\"%s\",\"applied_on\":\"%s\"}", kind, before_m);
    http_res *r = expect(201, civil, "POST", path, body);
    long long id = test_jint(r->json, "id");
    char *loc = test_fmt("/api/v1/assistance/applications/%lld", id);

    assert_string_equal(test_jstr(r->json, "state"), "pending");
    assert_non_null(http_header(r, "Location"));
    assert_string_equal(http_header(r, "Location"), loc);
    assert_non_null(http_header(r, "ETag"));
    free(loc);
    http_free(r);
    free(body);
    free(path);
    return id;
}

static char *app_path(long long app, const char *step)
{
    return test_fmt("/api/v1/assistance/applications/%lld%s%s", app, step ? "/" : "",
                    step ? step : "");
}

static char *pay_path(long long pay, const char *step)
{
    return test_fmt("/api/v1/assistance/payments/%lld%s%s", pay, step ? "/" : "",
                    step ? step : "");
}

/* POST a step of an application as token; returns the response. */
static http_res *app_step(const char *token, long long app, const char *step, const char *body)
{
    char *path = app_path(app, step);
    http_res *r = call(token, "POST", path, body);

    free(path);
    return r;
}

static char *scalar(const char *sql)
{
    return db_scalar(sql, 0, NULL);
}

static long count_sql(char *sql)
{
    long n = db_count(sql, 0, NULL);

    free(sql);
    return n;
}
/* count("SELECT count(*) … %lld …", id) */
#define count(fmt, id) count_sql(test_fmt(fmt, id))

static const char *app_state(long long app)
{
    static char buf[32];
    char *sql = test_fmt("SELECT state FROM assistance_applications WHERE id = %lld", app);
    char *s = scalar(sql);

    snprintf(buf, sizeof(buf), "%s", s ? s : "");
    free(s);
    free(sql);
    return buf;
}

/* The payment of patient pid in a batch document, or NULL. */
static json_t *batch_payment(const json_t *batch, long long pid)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(batch, "payments"), i, p)
    {
        if (test_jint(p, "patient_id") == pid)
            return p;
    }
    return NULL;
}

static json_t *batch_ineligible(const json_t *batch, long long pid)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(batch, "ineligible"), i, p)
    {
        if (test_jint(p, "patient_id") == pid)
            return p;
    }
    return NULL;
}

/* Is condition cond of a conditions list met (1), not met (0), absent (-1)? */
static int cond_met(const json_t *item, const char *cond)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(item, "conditions"), i, c)
    {
        if (strcmp(test_jstr(c, "condition"), cond) == 0)
            return json_is_true(json_object_get(c, "met"));
    }
    return -1;
}

static int basis_has(const json_t *item, const char *code)
{
    json_t *c, *b;
    size_t i, k;

    json_array_foreach(json_object_get(item, "conditions"), i, c)
    {
        json_array_foreach(json_object_get(c, "basis"), k, b)
        {
            if (strcmp(json_string_value(b), code) == 0)
                return 1;
        }
    }
    return 0;
}

static json_t *explain(long long pid)
{
    char *path = test_fmt("/api/v1/patients/%lld/assistance/guardian-reward?month=%s", pid, month);
    http_res *r = expect(200, civil, "GET", path, NULL);
    json_t *j = json_incref(r->json);

    http_free(r);
    free(path);
    return j;
}

/* ---- setup ---------------------------------------------------------------- */

static void month_text(int y, int m, char out[24])
{
    snprintf(out, 24, "%04d-%02d", (y % 10000 + 10000) % 10000, (m % 100 + 100) % 100);
}

static int setup(void **state)
{
    int y, m;
    char *last;

    civil = http_login("tf.civil", NULL);
    official = http_login("tf.official", NULL);
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    grid1 = http_login("tf.grid1", NULL);
    tf_admin = http_login("tf.admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    cadre = http_login("tf.cadre", NULL);
    g01 = test_unit_id("429005003001G01");
    meiyuan = test_unit_id("429005003001");
    qy_g01 = test_unit_id("429005003004G01");
    yl_unit = test_unit_id("429005001001");
    /* A month no earlier run on this database batched: before all of them. */
    last = scalar("SELECT to_char(coalesce(min(month) - interval '1 month', '2026-05-01'),"
                  " 'YYYY-MM') FROM assistance_batches");
    assert_non_null(last);
    y = (int)strtol(last, NULL, 10);
    m = (int)strtol(last + 5, NULL, 10);
    free(last);
    month_text(y, m, month);
    month_text(m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1, prev_month);
    snprintf(m_first, sizeof(m_first), "%s-01", month);
    snprintf(m_day5, sizeof(m_day5), "%s-05", month);
    snprintf(m_day10, sizeof(m_day10), "%s-10", month);
    snprintf(m_day20, sizeof(m_day20), "%s-20", month);
    snprintf(before_m, sizeof(before_m), "%s-10", prev_month);
    return 0;
}

static int teardown(void **state)
{
    char *all[] = {civil, official, doctor, police, grid1, tf_admin, yl_admin, yl_doctor, cadre,
                   g01,   meiyuan,  qy_g01, yl_unit};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]);
    return 0;
}

/* ---- the workflow ---------------------------------------------------------- */

/* [R-AID-1] */
static void application_workflow(void **state)
{
    long long pid = new_patient("流程", g01), other = new_patient("他人", g01);
    long long gid = add_guardian(pid, "2020-02-01"), other_gid = add_guardian(other, NULL);
    long long app, app2, app3;
    http_res *r;
    char *path, *body;

    /* Apply: one open application per kind. */
    app = apply(pid, "dibao", 0);
    path = test_fmt("/api/v1/patients/%lld/assistance", pid);
    body = test_fmt("{\"kind\":\"dibao\",\"applied_on\":\"%s\"}", before_m);
    r = expect(409, civil, "POST", path, body);
    http_assert_problem(r, 409, "kind");
    http_free(r);
    free(body);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'assistance.apply'"
                           " AND target_id = '%lld'",
                           app),
                     1);

    /* Pay a pending application: 409, nothing written. */
    body = test_fmt("{\"period_month\":\"%s\",\"paid_on\":\"%s\"}", month, m_day20);
    r = app_step(civil, app, "payments", body);
    http_assert_problem(r, 409, "state");
    http_free(r);
    assert_int_equal(
        count("SELECT count(*) FROM assistance_payments WHERE application_id = %lld", app), 0);

    /* Approve without an amount where the kind has no standard: 400. */
    r = app_step(civil, app, "approve", "{}");
    http_assert_problem(r, 400, "amount_fen");
    http_free(r);
    assert_string_equal(app_state(app), "pending");
    /* A decision before the application: 400. */
    r = app_step(civil, app, "approve", "{\"amount_fen\":50000,\"decided_on\":\"2019-01-01\"}");
    http_assert_problem(r, 400, "decided_on");
    http_free(r);
    assert_string_equal(app_state(app), "pending");

    /* Approve: amount, period and months. */
    char *approve = test_fmt("{\"amount_fen\":50000,\"period\":\"month\",\"from_month\":\"%s\","
                             "\"decided_on\":\"%s\",\"note\":\"核定\"}",
                             month, m_first);
    r = app_step(civil, app, "approve", approve);
    if (r->status != 200)
        fail_msg("approve: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "state"), "approved");
    assert_int_equal(test_jint(r->json, "amount_fen"), 50000);
    assert_string_equal(test_jstr(r->json, "from_month"), month);
    http_free(r);

    /* Refused transitions of an approved application. */
    r = app_step(civil, app, "approve", approve);
    http_assert_problem(r, 409, "state");
    http_free(r);
    r = app_step(civil, app, "reject", "{\"reason\":\"不符合\"}");
    http_assert_problem(r, 409, "state");
    http_free(r);
    assert_string_equal(app_state(app), "approved");

    /* Pay: once per month, inside the approved months. */
    r = app_step(civil, app, "payments", body);
    if (r->status != 201)
        fail_msg("pay: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "status"), "paid");
    assert_int_equal(test_jint(r->json, "amount_fen"), 50000);
    assert_string_equal(test_jstr(r->json, "period_month"), month);
    long long pay = test_jint(r->json, "id");
    char *loc = pay_path(pay, NULL);
    assert_string_equal(http_header(r, "Location"), loc);
    http_free(r);
    expect_free(200, civil, "GET", loc, NULL);
    free(loc);
    r = app_step(civil, app, "payments", body);
    http_assert_problem(r, 409, "period_month");
    http_free(r);
    free(body);
    body = test_fmt("{\"period_month\":\"%s\",\"paid_on\":\"%s\"}", prev_month, m_day20);
    r = app_step(civil, app, "payments", body);
    http_assert_problem(r, 400, "period_month");
    http_free(r);
    free(body);
    assert_int_equal(
        count("SELECT count(*) FROM assistance_payments WHERE application_id = %lld", app), 1);

    /* End the support; an ended application is paid no more. */
    r = app_step(civil, app, "end", "{}");
    http_assert_problem(r, 400, "reason");
    http_free(r);
    r = app_step(civil, app, "end", "{\"reason\":\"家庭收入提高\"}");
    if (r->status != 200)
        fail_msg("end: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "state"), "ended");
    assert_string_equal(test_jstr(r->json, "end_reason"), "家庭收入提高");
    assert_string_equal(test_jstr(r->json, "decision_reason"), "核定");
    assert_string_equal(test_jstr(r->json, "to_month"), "2026-06"); /* the month of TODAY */
    http_free(r);
    r = app_step(civil, app, "end", "{\"reason\":\"再次\"}");
    http_assert_problem(r, 409, "state");
    http_free(r);
    body = test_fmt("{\"period_month\":\"%s\",\"paid_on\":\"%s\"}", month, m_day20);
    r = app_step(civil, app, "payments", body);
    http_assert_problem(r, 409, "state");
    http_free(r);
    free(body);

    /* Reject with a reason; a rejected application is never approved. */
    app2 = apply(pid, "medical_assistance", gid);
    r = app_step(civil, app2, "reject", "{}");
    http_assert_problem(r, 400, "reason");
    http_free(r);
    assert_string_equal(app_state(app2), "pending");
    r = app_step(civil, app2, "reject", "{\"reason\":\"已享受其他救助\"}");
    if (r->status != 200)
        fail_msg("reject: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "decision_reason"), "已享受其他救助");
    http_free(r);
    r = app_step(civil, app2, "approve", "{\"amount_fen\":1000}");
    http_assert_problem(r, 409, "state");
    http_free(r);
    r = app_step(civil, app2, "end", "{\"reason\":\"x\"}");
    http_assert_problem(r, 409, "state");
    http_free(r);
    assert_string_equal(app_state(app2), "rejected");
    /* …and a new application of that kind may follow. */
    app3 = apply(pid, "medical_assistance", 0);
    assert_true(app3 > app2);

    /* 以奖代补 names the guardian, who must be the patient's. */
    body = test_fmt("{\"kind\":\"guardian_reward\",\"applied_on\":\"%s\"}", before_m);
    r = expect(400, civil, "POST", path, body);
    http_assert_problem(r, 400, "guardian_id");
    http_free(r);
    free(body);
    body = test_fmt("{\"kind\":\"guardian_reward\",\"applied_on\":\"%s\",\"guardian_id\":%lld}",
                    before_m, other_gid);
    r = expect(400, civil, "POST", path, body);
    http_assert_problem(r, 400, "guardian_id");
    http_free(r);
    free(body);
    /* 以奖代补 is paid by batches at the standard: no amount at approval,
     * no payment by hand. */
    long long reward = apply(pid, "guardian_reward", gid);
    r = app_step(civil, reward, "approve", "{\"amount_fen\":99}");
    http_assert_problem(r, 400, "amount_fen");
    http_free(r);
    r = app_step(civil, reward, "approve", "{}");
    if (r->status != 200)
        fail_msg("approve reward: %ld %s", r->status, r->body);
    assert_int_equal(test_jint(r->json, "amount_fen"), 20000);
    assert_string_equal(test_jstr(r->json, "period"), "month");
    http_free(r);
    body = test_fmt("{\"period_month\":\"%s\",\"paid_on\":\"%s\"}", month, m_day20);
    r = app_step(civil, reward, "payments", body);
    http_assert_problem(r, 409, "kind");
    http_free(r);
    free(body);

    /* The patient's assistance, and every step in the audit log. */
    r = expect(200, official, "GET", path, NULL);
    assert_true(json_array_size(json_object_get(r->json, "items")) == 4);
    http_free(r);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE target_type ="
                           " 'assistance_application' AND target_id = '%lld' AND action IN"
                           " ('assistance.apply', 'assistance.approve', 'assistance.end')",
                           app),
                     3);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE target_type ="
                           " 'assistance_application' AND target_id = '%lld' AND action ="
                           " 'assistance.reject'",
                           app2),
                     1);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'assistance.pay'"
                           " AND target_id = '%lld'",
                           pay),
                     1);
    free(approve);
    free(path);
}

/* ---- 以奖代补 ---------------------------------------------------------------- */

/* [R-AID-2] */
static void reward_batch_collection_and_withholding(void **state)
{
    /* a: risk 3; b: an incident history; c: risk 1 only; d: no agreement;
     * e: an incident in the month. */
    long long a = new_patient("甲", g01), b = new_patient("乙", g01), c = new_patient("丙", g01),
              d = new_patient("丁", g01), e = new_patient("戊", g01);
    long long ga = add_guardian(a, "2020-01-01"), gb = add_guardian(b, "2020-01-01"),
              gc = add_guardian(c, "2020-01-01"), gd = add_guardian(d, NULL),
              ge = add_guardian(e, "2020-01-01");
    long long ids[] = {a, b, c, d, e}, gids[] = {ga, gb, gc, gd, ge}, apps[5];
    http_res *r;
    char *body, *path;

    assess(a, 3, before_m);
    incident(b, before_m);
    assess(c, 1, before_m);
    assess(d, 4, before_m);
    assess(e, 3, before_m);
    incident(e, m_day5);
    for (int i = 0; i < 5; i++) {
        apps[i] = apply(ids[i], "guardian_reward", gids[i]);
        char *ab = test_fmt("{\"from_month\":\"%s\",\"decided_on\":\"%s\"}", prev_month,
                            before_m);
        r = app_step(civil, apps[i], "approve", ab);
        if (r->status != 200)
            fail_msg("approve %d: %ld %s", i, r->status, r->body);
        http_free(r);
        free(ab);
    }

    /* Eligibility explained, condition by condition. */
    json_t *x = explain(a);
    assert_true(json_is_true(json_object_get(x, "eligible")));
    assert_true(basis_has(x, "risk_level"));
    assert_int_equal(test_jint(x, "application_id"), apps[0]);
    assert_int_equal(test_jint(json_object_get(x, "standard"), "monthly_fen"), 20000);
    json_decref(x);
    x = explain(c);
    assert_false(json_is_true(json_object_get(x, "eligible")));
    assert_int_equal(cond_met(x, "target_group"), 0);
    assert_int_equal(cond_met(x, "agreement_signed"), 1);
    assert_int_equal(cond_met(x, "no_incident_in_month"), 1);
    assert_int_equal(cond_met(x, "on_register"), 1);
    json_decref(x);

    /* The batch: a and b paid at the standard, c, d and e explained. */
    path = test_fmt("/api/v1/assistance/batches");
    body = test_fmt("{\"org_unit_id\":%s,\"month\":\"%s\"}", g01, month);
    r = expect(201, civil, "POST", path, body);
    json_t *batch = json_incref(r->json);
    long long bid = test_jint(batch, "id");
    char *bloc = test_fmt("/api/v1/assistance/batches/%lld", bid);
    assert_string_equal(http_header(r, "Location"), bloc);
    http_free(r);
    json_t *pa = batch_payment(batch, a), *pb = batch_payment(batch, b);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_int_equal(test_jint(pa, "amount_fen"), 20000);
    assert_string_equal(test_jstr(pa, "status"), "pending");
    assert_null(batch_payment(batch, c));
    assert_null(batch_payment(batch, d));
    assert_null(batch_payment(batch, e));
    assert_int_equal(cond_met(batch_ineligible(batch, c), "target_group"), 0);
    assert_int_equal(cond_met(batch_ineligible(batch, d), "agreement_signed"), 0);
    assert_int_equal(cond_met(batch_ineligible(batch, d), "target_group"), 1);
    assert_int_equal(cond_met(batch_ineligible(batch, e), "no_incident_in_month"), 0);
    assert_true(basis_has(batch_ineligible(batch, e), "incident_history"));
    long long pay_a = test_jint(pa, "id"), pay_b = test_jint(pb, "id");

    /* The same unit and month again: 409 pointing at the batch, nothing new. */
    long before = db_count("SELECT count(*) FROM assistance_payments", 0, NULL);
    r = expect(409, civil, "POST", path, body);
    http_assert_problem(r, 409, "month");
    assert_string_equal(http_header(r, "Location"), bloc);
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM assistance_payments", 0, NULL), before);
    free(body);
    /* A batch of the village above for the month pays nobody twice. */
    body = test_fmt("{\"org_unit_id\":%s,\"month\":\"%s\"}", meiyuan, month);
    r = expect(201, civil, "POST", path, body);
    assert_null(batch_payment(r->json, a));
    assert_null(batch_payment(r->json, b));
    http_free(r);
    free(body);
    assert_int_equal(count("SELECT count(*) FROM assistance_payments WHERE patient_id = %lld",
                           a),
                     1);

    /* The batch reads back the same. */
    r = expect(200, official, "GET", bloc, NULL);
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "payments"), 2);
    assert_int_equal(test_jint(json_object_get(r->json, "totals"), "amount_fen"), 40000);
    assert_non_null(batch_ineligible(r->json, c));
    http_free(r);

    /* An incident in the month recorded after the batch withholds b's
     * payment, with its reason and audit row; collecting it is refused. */
    long long inc = incident(b, m_day10);
    char *pb_path = pay_path(pay_b, NULL);
    r = expect(200, civil, "GET", pb_path, NULL);
    assert_string_equal(test_jstr(r->json, "status"), "withheld");
    assert_string_equal(test_jstr(r->json, "withheld_cause"), "incident");
    assert_int_equal(test_jint(r->json, "withheld_incident_id"), inc);
    assert_non_null(test_jstr(r->json, "withheld_reason"));
    http_free(r);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action ="
                           " 'assistance.payment_withhold' AND target_id = '%lld'",
                           pay_b),
                     1);
    char *collect_b = pay_path(pay_b, "collect");
    body = test_fmt("{\"collected_on\":\"%s\",\"guardian_id\":%lld,\"receipt_no\":\"R-1\"}",
                    m_day20, gb);
    r = expect(409, civil, "POST", collect_b, body);
    http_assert_problem(r, 409, "status");
    http_free(r);
    free(body);
    assert_int_equal(count("SELECT count(*) FROM assistance_payments WHERE id = %lld"
                           " AND status = 'withheld' AND receipt_no IS NULL",
                           pay_b),
                     1);

    /* In-person collection (当面领取) of a's payment: by a's guardian only. */
    char *collect_a = pay_path(pay_a, "collect");
    body = test_fmt("{\"collected_on\":\"%s\",\"guardian_id\":%lld,\"receipt_no\":\"R-2\"}",
                    m_day20, gb);
    r = expect(400, civil, "POST", collect_a, body);
    http_assert_problem(r, 400, "guardian_id");
    http_free(r);
    free(body);
    body = test_fmt("{\"collected_on\":\"%s\",\"guardian_id\":%lld,\"receipt_no\":\"R-2\"}",
                    before_m, ga);
    r = expect(400, civil, "POST", collect_a, body);
    http_assert_problem(r, 400, "collected_on");
    http_free(r);
    free(body);
    assert_int_equal(count("SELECT count(*) FROM assistance_payments WHERE id = %lld"
                           " AND status = 'pending'",
                           pay_a),
                     1);
    body = test_fmt("{\"collected_on\":\"%s\",\"guardian_id\":%lld,\"receipt_no\":\"QJ-2026-0001\"}",
                    m_day20, ga);
    r = expect(200, civil, "POST", collect_a, body);
    assert_string_equal(test_jstr(r->json, "status"), "paid");
    assert_string_equal(test_jstr(r->json, "receipt_no"), "QJ-2026-0001");
    assert_int_equal(test_jint(r->json, "collected_by_guardian_id"), ga);
    assert_string_equal(test_jstr(r->json, "paid_on"), m_day20);
    assert_non_null(test_jstr(r->json, "paid_at"));
    http_free(r);
    r = expect(409, civil, "POST", collect_a, body);
    http_assert_problem(r, 409, "status");
    http_free(r);
    free(body);
    /* A paid or withheld payment is not withheld again; an incident after
     * collection leaves the payment as it was. */
    char *withhold_a = pay_path(pay_a, "withhold");
    r = expect(409, civil, "POST", withhold_a, "{\"reason\":\"核查\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
    incident(a, m_day20);
    assert_int_equal(count("SELECT count(*) FROM assistance_payments WHERE id = %lld"
                           " AND status = 'paid'",
                           pay_a),
                     1);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'assistance.collect'"
                           " AND target_id = '%lld'",
                           pay_a),
                     1);

    /* A pending payment withheld by decision, with its reason. */
    long long f = new_patient("己", g01), gf = add_guardian(f, "2020-01-01");
    assess(f, 5, before_m);
    long long appf = apply(f, "guardian_reward", gf);
    body = test_fmt("{\"from_month\":\"%s\"}", prev_month);
    r = app_step(civil, appf, "approve", body);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(body);
    body = test_fmt("{\"org_unit_id\":%s,\"month\":\"%s\"}", g01, prev_month);
    r = expect(201, civil, "POST", path, body);
    json_t *pf = batch_payment(r->json, f);
    assert_non_null(pf);
    long long pay_f = test_jint(pf, "id");
    http_free(r);
    free(body);
    char *withhold_f = pay_path(pay_f, "withhold");
    r = expect(400, civil, "POST", withhold_f, "{}");
    http_assert_problem(r, 400, "reason");
    http_free(r);
    r = expect(200, civil, "POST", withhold_f, "{\"reason\":\"监护人未履行看护责任\"}");
    assert_string_equal(test_jstr(r->json, "status"), "withheld");
    assert_string_equal(test_jstr(r->json, "withheld_cause"), "decision");
    http_free(r);

    json_decref(batch);
    free(withhold_f);
    free(withhold_a);
    free(collect_a);
    free(collect_b);
    free(pb_path);
    free(bloc);
    free(path);
}

/* The standards and the local rule are configuration (admins edit them). [R-AID-2] */
static void standards_and_local_rule(void **state)
{
    long long c = new_patient("庚", g01), gc = add_guardian(c, "2020-01-01");
    char *q = test_fmt("/api/v1/config/assistance?org_unit_id=%s", g01);
    char *put;
    http_res *r;
    json_t *x, *s;
    size_t i;

    assess(c, 1, before_m);
    apply(c, "guardian_reward", gc);

    /* The default: 200 元/月 (seed 000). */
    r = expect(200, civil, "GET", q, NULL);
    json_array_foreach(json_object_get(r->json, "standards"), i, s)
    {
        if (strcmp(test_jstr(s, "kind"), "guardian_reward") == 0)
            assert_int_equal(test_jint(s, "amount_fen"), 20000);
    }
    assert_int_equal(json_array_size(json_object_get(r->json, "standards")), 9);
    http_free(r);

    /* Only an admin edits; bad standards change nothing. */
    put = test_fmt("{\"org_unit_id\":%s,\"standards\":{\"guardian_reward\":{\"amount_fen\":360000,"
                   "\"period\":\"year\"}}}",
                   g01);
    expect_free(403, civil, "PUT", "/api/v1/config/assistance", put);
    const char *const bad[][2] = {
        {"{\"standards\":{\"guardian_reward\":{\"amount_fen\":null,\"period\":\"month\"}}}",
         "standards.guardian_reward.amount_fen"},
        {"{\"standards\":{\"guardian_reward\":{\"amount_fen\":100,\"period\":\"case\"}}}",
         "standards.guardian_reward.period"},
        {"{\"standards\":{\"dibao\":{\"amount_fen\":-1,\"period\":\"month\"}}}",
         "standards.dibao.amount_fen"},
        {"{\"standards\":{\"dibao\":{\"amount_fen\":1,\"period\":\"week\"}}}",
         "standards.dibao.period"},
        {"{\"standards\":{\"lottery\":{\"amount_fen\":1,\"period\":\"month\"}}}", "standards"},
        {"{\"reward_rule\":{\"min_risk\":6,\"extra_flags\":[],\"police_key_person\":false}}",
         "reward_rule.min_risk"},
        {"{\"reward_rule\":{\"min_risk\":3,\"extra_flags\":[\"violence\"],"
         "\"police_key_person\":false}}",
         "reward_rule.extra_flags"},
        {"{\"reward_rule\":{\"min_risk\":3,\"extra_flags\":[],\"police_key_person\":1}}",
         "reward_rule.police_key_person"},
        {"{}", "standards"},
        {"{\"standards\":{},\"colour\":1}", "colour"},
    };
    char *before = scalar("SELECT string_agg(kind || coalesce(amount_fen::text, '-') || period,"
                          " ',' ORDER BY id) FROM assistance_standards");
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        r = call(tf_admin, "PUT", "/api/v1/config/assistance", bad[k][0]);
        http_assert_problem(r, 400, bad[k][1]);
        http_free(r);
    }
    /* Outside the admin's area: 400 naming the unit. */
    r = call(yl_admin, "PUT", "/api/v1/config/assistance", put);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    char *after = scalar("SELECT string_agg(kind || coalesce(amount_fen::text, '-') || period,"
                         " ',' ORDER BY id) FROM assistance_standards");
    assert_string_equal(before, after);
    free(after);
    free(before);

    /* 3600 元/年 (seed 004) at the grid: 300 元 a month there. */
    r = expect(200, tf_admin, "PUT", "/api/v1/config/assistance", put);
    json_array_foreach(json_object_get(r->json, "standards"), i, s)
    {
        if (strcmp(test_jstr(s, "kind"), "guardian_reward") == 0) {
            assert_int_equal(test_jint(s, "amount_fen"), 360000);
            assert_string_equal(test_jstr(s, "period"), "year");
        }
    }
    http_free(r);
    x = explain(c);
    assert_int_equal(test_jint(json_object_get(x, "standard"), "monthly_fen"), 30000);
    assert_false(json_is_true(json_object_get(x, "eligible"))); /* risk 1 */
    json_decref(x);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'config.update'"
                              " AND target_id = 'assistance'",
                              0, NULL) > 0,
                     1);

    /* The local widening: the police key-person list qualifies here. */
    char *sql = test_fmt("UPDATE patients SET police_key_person = true,"
                         " police_key_person_on = '2020-01-01' WHERE id = %lld",
                         c);
    assert_true(db_try(sql));
    free(sql);
    char *rule = test_fmt("{\"org_unit_id\":%s,\"reward_rule\":{\"min_risk\":3,\"extra_flags\":"
                          "[\"weak_guardian\"],\"police_key_person\":true}}",
                          g01);
    expect_free(200, tf_admin, "PUT", "/api/v1/config/assistance", rule);
    x = explain(c);
    assert_true(json_is_true(json_object_get(x, "eligible")));
    assert_true(basis_has(x, "police_key_person"));
    assert_true(json_is_true(json_object_get(json_object_get(x, "rule"), "police_key_person")));
    json_decref(x);
    free(rule);

    /* Back to the defaults for the next run. */
    rule = test_fmt("{\"org_unit_id\":%s,\"reward_rule\":{\"min_risk\":3,\"extra_flags\":[],"
                    "\"police_key_person\":false},\"standards\":{\"guardian_reward\":"
                    "{\"amount_fen\":20000,\"period\":\"month\"}}}",
                    g01);
    expect_free(200, tf_admin, "PUT", "/api/v1/config/assistance", rule);
    x = explain(c);
    assert_false(json_is_true(json_object_get(x, "eligible")));
    json_decref(x);
    free(rule);
    free(put);
    free(q);
}

/* ---- totals ------------------------------------------------------------------ */

static void totals_by_kind_and_unit(void **state)
{
    long long p = new_patient("辛", qy_g01);
    long long app = apply(p, "temporary_assistance", 0);
    char *body, *path;
    http_res *r;
    json_t *row;
    size_t i;
    int seen = 0;

    char *ab = test_fmt("{\"amount_fen\":150000,\"period\":\"case\",\"from_month\":\"%s\"}",
                        month);
    r = app_step(civil, app, "approve", ab);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(ab);
    body = test_fmt("{\"period_month\":\"%s\",\"paid_on\":\"%s\"}", month, m_day20);
    path = app_path(app, "payments");
    expect_free(201, civil, "POST", path, body);
    free(path);
    free(body);

    /* The statistics view, exactly as agreed. */
    char *cols = scalar("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY"
                        " ordinal_position) FROM information_schema.columns"
                        " WHERE table_name = 'assistance_payment_facts'");
    assert_string_equal(cols, "payment_id bigint, patient_id bigint, org_path text, kind text,"
                              " period_month date, amount_fen bigint, status text,"
                              " paid_at timestamp with time zone");
    free(cols);

    /* The township, by kind and by village. */
    char *tf = test_unit_id("429005003"), *qy = test_unit_id("429005003004"); /* 潜阳村 */
    path = test_fmt("/api/v1/assistance/totals?unit=%s&from=%s&to=%s", tf, month, month);
    r = expect(200, official, "GET", path, NULL);
    json_array_foreach(json_object_get(r->json, "by_unit"), i, row)
    {
        /* Children of the township only: villages, never their grids. */
        if (test_jint(row, "org_unit_id") == strtoll(qy_g01, NULL, 10) ||
            test_jint(row, "org_unit_id") == strtoll(g01, NULL, 10))
            fail_msg("a grid listed under its township: %s", r->body);
        if (strcmp(test_jstr(row, "kind"), "temporary_assistance") == 0 &&
            test_jint(row, "org_unit_id") == strtoll(qy, NULL, 10)) {
            assert_int_equal(test_jint(row, "paid_count"), 1);
            assert_int_equal(test_jint(row, "paid_fen"), 150000);
            seen++;
        }
        if (strcmp(test_jstr(row, "kind"), "guardian_reward") == 0 &&
            test_jint(row, "org_unit_id") == strtoll(meiyuan, NULL, 10)) {
            /* a collected, b withheld by its incident (and f by decision
             * in the month before). */
            assert_int_equal(test_jint(row, "paid_count"), 1);
            assert_int_equal(test_jint(row, "paid_fen"), 20000);
            assert_int_equal(test_jint(row, "withheld_count"), 1);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    int enrolled = 0;
    json_array_foreach(json_object_get(r->json, "enrolled_by_kind"), i, row)
    {
        if (strcmp(test_jstr(row, "kind"), "temporary_assistance") == 0 ||
            strcmp(test_jstr(row, "kind"), "guardian_reward") == 0)
            enrolled += test_jint(row, "patients") >= (strcmp(test_jstr(row, "kind"),
                                                              "guardian_reward") == 0
                                                           ? 6
                                                           : 1);
    }
    assert_int_equal(enrolled, 2);
    json_t *tot = json_object_get(r->json, "total");
    assert_true(test_jint(tot, "paid_fen") >= 150000 + 20000 + 50000);
    assert_true(json_array_size(json_object_get(r->json, "by_kind")) >= 3);
    http_free(r);
    free(path);

    /* Dates stand for their months. */
    path = test_fmt("/api/v1/assistance/totals?unit=%s&from=%s&to=%s", tf, m_day20, m_day5);
    r = expect(200, official, "GET", path, NULL);
    assert_string_equal(test_jstr(r->json, "from"), month);
    assert_string_equal(test_jstr(r->json, "to"), month);
    assert_true(test_jint(json_object_get(r->json, "total"), "paid_fen") >= 150000 + 20000 + 50000);
    http_free(r);
    free(path);

    /* The grid: its own patients under itself. */
    path = test_fmt("/api/v1/assistance/totals?unit=%s&from=%s&to=%s", qy_g01, month, month);
    r = expect(200, civil, "GET", path, NULL);
    json_array_foreach(json_object_get(r->json, "by_unit"), i, row)
    {
        assert_int_equal(test_jint(row, "org_unit_id"), strtoll(qy_g01, NULL, 10));
    }
    http_free(r);
    free(path);

    /* Bad parameters, and the roles without the area's totals. */
    char *outside = test_fmt("/api/v1/assistance/totals?unit=%s", yl_unit);
    const char *const bad[][2] = {
        {"/api/v1/assistance/totals?from=2026-13", "from"},
        {"/api/v1/assistance/totals?to=2026-1", "to"},
        {"/api/v1/assistance/totals?to=2026-02-30", "to"},
        {"/api/v1/assistance/totals?from=2026-05&to=2026-04", "to"},
        {"/api/v1/assistance/totals?unit=abc", "unit"},
        {outside, "unit"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        r = call(official, "GET", bad[k][0], NULL);
        http_assert_problem(r, 400, bad[k][1]);
        http_free(r);
    }
    free(outside);
    expect_free(403, doctor, "GET", "/api/v1/assistance/totals", NULL);
    expect_free(403, police, "GET", "/api/v1/assistance/totals", NULL);
    expect_free(403, grid1, "GET", "/api/v1/assistance/totals", NULL);
    free(qy);
    free(tf);
}

/* ---- in the statistics -------------------------------------------------------- */

/* sum or count over assistance_payment_facts of 泰丰街道 for this run's month. */
static long long facts(const char *what, const char *kind, const char *status)
{
    char *sql = test_fmt("SELECT coalesce(%s, 0) FROM assistance_payment_facts f"
                         " WHERE starts_with(f.org_path, (SELECT path FROM org_units WHERE code"
                         " = '429005003')) AND f.kind = '%s' AND f.status = '%s'"
                         " AND f.period_month = '%s'::date",
                         what, kind, status, m_first);
    char *v = scalar(sql);
    long long n = strtoll(v, NULL, 10);

    free(v);
    free(sql);
    return n;
}

static long long member(const json_t *o, const char *a, const char *b)
{
    return test_jint(json_object_get(o, a), b);
}

/* The township dashboard and the campaign report carry the payments
 * (docs/domain.md: totals by kind, period and org unit for the statistics),
 * each figure equal to the sum over the facts; police never see them. */
static void statistics_include_assistance(void **state)
{
    char *tf = test_unit_id("429005003"), *last, *path, *body;
    http_res *r;
    json_t *a;

    last = scalar(test_fmt("SELECT ('%s'::date + interval '1 month - 1 day')::date", m_first));
    path = test_fmt("/api/v1/statistics/dashboard?org_unit_id=%s&from=%s&to=%s&live=true", tf,
                    m_first, last);
    r = expect(200, official, "GET", path, NULL);
    a = json_object_get(json_object_get(r->json, "totals"), "assistance");
    assert_non_null(a);
    assert_int_equal(member(a, "paid_fen", "temporary_assistance"),
                     facts("sum(amount_fen)", "temporary_assistance", "paid"));
    assert_int_equal(member(a, "paid_fen", "guardian_reward"),
                     facts("sum(amount_fen)", "guardian_reward", "paid"));
    assert_int_equal(member(a, "paid", "guardian_reward"),
                     facts("count(*)", "guardian_reward", "paid"));
    assert_int_equal(member(a, "withheld", "guardian_reward"),
                     facts("count(*)", "guardian_reward", "withheld"));
    assert_true(member(a, "withheld", "guardian_reward") >= 1);
    assert_true(member(a, "enrolled", "temporary_assistance") >= 1);
    http_free(r);
    r = expect(200, civil, "GET", path, NULL);
    assert_non_null(json_object_get(json_object_get(r->json, "totals"), "assistance"));
    http_free(r);
    r = expect(200, police, "GET", path, NULL);
    assert_null(json_object_get(json_object_get(r->json, "totals"), "assistance"));
    assert_null(strstr(r->body, "assistance"));
    http_free(r);
    free(path);

    /* A campaign over the month: section 六 from the payments. */
    body = test_fmt("{\"name\":\"以奖代补核查%s\",\"starts_on\":\"%s\",\"ends_on\":\"%s\"}",
                    test_cn_unique(), m_first, last);
    r = expect(201, tf_admin, "POST", "/api/v1/campaigns", body);
    path = test_fmt("/api/v1/campaigns/%lld/report", test_jint(r->json, "id"));
    http_free(r);
    r = expect(200, official, "GET", path, NULL);
    {
        char *want = scalar(test_fmt(
            "SELECT round(coalesce(sum(f.amount_fen), 0) / 1000000.0, 2)::text || ' '"
            " || count(DISTINCT f.patient_id) FROM assistance_payment_facts f JOIN patients p"
            " ON p.id = f.patient_id WHERE starts_with(f.org_path, (SELECT path FROM org_units"
            " WHERE code = '429005003')) AND f.kind = 'guardian_reward' AND f.status = 'paid'"
            " AND f.period_month = '%s'::date AND coalesce(p.risk_level, 0) >= 3",
            m_first));
        double amount = 0, got_amount = -1;
        long long guardians = -1, got_guardians = -2;
        size_t i;
        json_t *f;
        assert_int_equal(sscanf(want, "%lf %lld", &amount, &guardians), 2);
        json_array_foreach(json_object_get(r->json, "fields"), i, f)
        {
            if (strcmp(test_jstr(f, "key"), "reward_amount_3_5") == 0) {
                got_amount = json_number_value(json_object_get(f, "value"));
                assert_string_equal(test_jstr(f, "source"), "derived");
            }
            if (strcmp(test_jstr(f, "key"), "reward_guardians_3_5") == 0)
                got_guardians = test_jint(f, "value");
        }
        assert_true(guardians >= 1);
        assert_int_equal(got_guardians, guardians);
        assert_true(got_amount > amount - 0.005 && got_amount < amount + 0.005);
        free(want);
    }
    http_free(r);
    free(path);
    free(body);
    free(last);
    free(tf);
}

/* ---- bad inputs ------------------------------------------------------------- */

static void bad_inputs_write_nothing(void **state)
{
    long long pid = new_patient("壬", g01), gid = add_guardian(pid, "2020-01-01");
    char *path = test_fmt("/api/v1/patients/%lld/assistance", pid);
    char *q = test_fmt("/api/v1/patients/%lld/assistance/guardian-reward?month=2026-13", pid);
    char *long_note = malloc(1600);
    http_res *r;

    assert_non_null(long_note);
    for (int i = 0; i < 501; i++)
        memcpy(long_note + 3 * i, "字", 3);
    long_note[3 * 501] = '\0';
    char *too_long = test_fmt("{\"kind\":\"dibao\",\"applied_on\":\"2026-01-01\",\"note\":\"%s\"}",
                              long_note);
    const char *const apply_bad[][2] = {
        {"{\"kind\":\"lottery\",\"applied_on\":\"2026-01-01\"}", "kind"},
        {"{\"applied_on\":\"2026-01-01\"}", "kind"},
        {"{\"kind\":\"dibao\"}", "applied_on"},
        {"{\"kind\":\"dibao\",\"applied_on\":\"2026-02-30\"}", "applied_on"},
        {"{\"kind\":\"dibao\",\"applied_on\":\"2026-12-01\"}", "applied_on"}, /* after today */
        {"{\"kind\":\"dibao\",\"applied_on\":\"2026-01-01\",\"guardian_id\":\"x\"}", "guardian_id"},
        {"{\"kind\":\"dibao\",\"applied_on\":\"2026-01-01\",\"guardian_id\":999999999}",
         "guardian_id"},
        {"{\"kind\":\"dibao\",\"applied_on\":\"2026-01-01\",\"amount_fen\":1}", "amount_fen"},
        {too_long, "note"},
    };
    for (size_t i = 0; i < sizeof(apply_bad) / sizeof(apply_bad[0]); i++) {
        r = call(civil, "POST", path, apply_bad[i][0]);
        http_assert_problem(r, 400, apply_bad[i][1]);
        http_free(r);
    }
    assert_int_equal(
        count("SELECT count(*) FROM assistance_applications WHERE patient_id = %lld", pid), 0);
    free(too_long);
    free(long_note);
    r = call(civil, "GET", q, NULL);
    http_assert_problem(r, 400, "month");
    http_free(r);

    /* Decisions and payments. */
    long long app = apply(pid, "disability_subsidies", 0);
    const char *const approve_bad[][2] = {
        {"{\"amount_fen\":-5}", "amount_fen"},
        {"{\"amount_fen\":100000001}", "amount_fen"},
        {"{\"amount_fen\":100,\"period\":\"week\"}", "period"},
        {"{\"amount_fen\":100,\"from_month\":\"2026-5\"}", "from_month"},
        {"{\"amount_fen\":100,\"from_month\":\"2026-05\",\"to_month\":\"2026-04\"}", "to_month"},
        {"{\"amount_fen\":100,\"decided_on\":\"2099-01-01\"}", "decided_on"},
        {"{\"amount_fen\":100,\"reason\":\"x\"}", "reason"},
    };
    for (size_t i = 0; i < sizeof(approve_bad) / sizeof(approve_bad[0]); i++) {
        r = app_step(civil, app, "approve", approve_bad[i][0]);
        http_assert_problem(r, 400, approve_bad[i][1]);
        http_free(r);
    }
    r = app_step(civil, app, "reject", "{\"reason\":\"\"}");
    http_assert_problem(r, 400, "reason");
    http_free(r);
    assert_string_equal(app_state(app), "pending");
    char *ab = test_fmt("{\"amount_fen\":30000,\"from_month\":\"%s\"}", prev_month);
    r = app_step(civil, app, "approve", ab);
    http_free(r);
    free(ab);
    assert_string_equal(app_state(app), "approved");
    const char *const pay_bad[][2] = {
        {"{\"paid_on\":\"2026-06-01\"}", "period_month"},
        {"{\"period_month\":\"2026-07\",\"paid_on\":\"2026-06-01\"}", "period_month"},
        {"{\"period_month\":\"2026-06\"}", "paid_on"},
        {"{\"period_month\":\"2026-06\",\"paid_on\":\"2026-06-01\",\"receipt_no\":\"a b\"}",
         "receipt_no"},
        {"{\"period_month\":\"2026-06\",\"paid_on\":\"2026-06-01\",\"amount_fen\":1.5}",
         "amount_fen"},
        {"{\"period_month\":\"2026-06\",\"paid_on\":\"2026-06-01\",\"batch_id\":1}", "batch_id"},
    };
    for (size_t i = 0; i < sizeof(pay_bad) / sizeof(pay_bad[0]); i++) {
        r = app_step(civil, app, "payments", pay_bad[i][0]);
        http_assert_problem(r, 400, pay_bad[i][1]);
        http_free(r);
    }
    assert_int_equal(
        count("SELECT count(*) FROM assistance_payments WHERE application_id = %lld", app), 0);

    /* Batches. */
    char *outside = test_fmt("{\"org_unit_id\":%s,\"month\":\"2026-01\"}", yl_unit);
    const char *const batch_bad[][2] = {
        {"{\"month\":\"2026-01\"}", "org_unit_id"},
        {"{\"org_unit_id\":1}", "month"},
        {"{\"org_unit_id\":1,\"month\":\"2026-13\"}", "month"},
        {"{\"org_unit_id\":1,\"month\":\"2026-07\"}", "month"}, /* after this month */
        {"{\"org_unit_id\":\"x\",\"month\":\"2026-01\"}", "org_unit_id"},
        {"{\"org_unit_id\":999999999,\"month\":\"2026-01\"}", "org_unit_id"},
        {outside, "org_unit_id"},
        {"{\"org_unit_id\":1,\"month\":\"2026-01\",\"kind\":\"dibao\"}", "kind"},
    };
    long batches = db_count("SELECT count(*) FROM assistance_batches", 0, NULL);
    for (size_t i = 0; i < sizeof(batch_bad) / sizeof(batch_bad[0]); i++) {
        r = call(civil, "POST", "/api/v1/assistance/batches", batch_bad[i][0]);
        http_assert_problem(r, 400, batch_bad[i][1]);
        http_free(r);
    }
    assert_int_equal(db_count("SELECT count(*) FROM assistance_batches", 0, NULL), batches);
    free(outside);

    /* Collection. */
    char *sql = test_fmt("INSERT INTO assistance_applications (patient_id, kind, state,"
                         " applied_on, guardian_id, amount_fen, period, from_month, decided_on)"
                         " VALUES (%lld, 'guardian_reward', 'approved', '2020-01-01', %lld, 20000,"
                         " 'month', '2020-01-01', '2020-01-01')",
                         pid, gid);
    assert_true(db_try(sql));
    free(sql);
    sql = test_fmt("INSERT INTO assistance_payments (application_id, patient_id, kind, org_path,"
                   " period_month, amount_fen, status) SELECT a.id, a.patient_id, a.kind,"
                   " p.org_path, '2020-01-01', 20000, 'pending' FROM assistance_applications a"
                   " JOIN patients p ON p.id = a.patient_id WHERE a.patient_id = %lld"
                   " AND a.kind = 'guardian_reward' RETURNING id",
                   pid);
    char *pay = db_scalar(sql, 0, NULL);
    assert_non_null(pay);
    free(sql);
    char *cpath = test_fmt("/api/v1/assistance/payments/%s/collect", pay);
    char *nobody = test_fmt("{\"collected_on\":\"2026-01-05\",\"guardian_id\":%lld}", gid);
    char *bad_receipt = test_fmt(
        "{\"collected_on\":\"2026-01-05\",\"guardian_id\":%lld,\"receipt_no\":\"收据一\"}", gid);
    char *future = test_fmt(
        "{\"collected_on\":\"2026-12-05\",\"guardian_id\":%lld,\"receipt_no\":\"R1\"}", gid);
    const char *const collect_bad[][2] = {
        {nobody, "receipt_no"},
        {bad_receipt, "receipt_no"},
        {future, "collected_on"},
        {"{\"collected_on\":\"2026-01-05\",\"receipt_no\":\"R1\"}", "guardian_id"},
        {"{\"collected_on\":\"2026-01-05\",\"guardian_id\":999999999,\"receipt_no\":\"R1\"}",
         "guardian_id"},
    };
    for (size_t i = 0; i < sizeof(collect_bad) / sizeof(collect_bad[0]); i++) {
        r = call(civil, "POST", cpath, collect_bad[i][0]);
        http_assert_problem(r, 400, collect_bad[i][1]);
        http_free(r);
    }
    sql = test_fmt("SELECT status FROM assistance_payments WHERE id = %s", pay);
    char *st = db_scalar(sql, 0, NULL);
    assert_string_equal(st, "pending");
    free(st);
    free(sql);
    free(nobody);
    free(bad_receipt);
    free(future);
    free(cpath);
    free(pay);
    free(q);
    free(path);
}

/* ---- who may see and do what ------------------------------------------------ */

static void who_may_see_and_do(void **state)
{
    long long pid = new_patient("癸", g01), gid = add_guardian(pid, "2020-01-01");
    long long app = apply(pid, "dibao", gid);
    char *path = test_fmt("/api/v1/patients/%lld/assistance", pid);
    char *apath = app_path(app, NULL);
    char *approve = app_path(app, "approve");
    http_res *r;

    /* Readers of a patient's assistance. */
    expect_free(200, civil, "GET", path, NULL);
    expect_free(200, official, "GET", path, NULL);
    expect_free(200, tf_admin, "GET", path, NULL);
    expect_free(200, doctor, "GET", path, NULL);
    expect_free(200, doctor, "GET", apath, NULL);
    expect_free(200, cadre, "GET", apath, NULL);
    assert_true(count("SELECT count(*) FROM audit_log WHERE action = 'patient.assistance_read'"
                      " AND target_id = '%lld'",
                      pid) >= 4);
    /* Police and grid workers: none (403), whatever the record. */
    expect_free(403, police, "GET", path, NULL);
    expect_free(403, police, "GET", apath, NULL);
    expect_free(403, grid1, "GET", path, NULL);
    expect_free(403, grid1, "GET", apath, NULL);
    char *elig = test_fmt("%s/guardian-reward", path);
    expect_free(403, police, "GET", elig, NULL);
    expect_free(403, grid1, "GET", elig, NULL);
    free(elig);
    /* …but the police see that a guardian agreement exists, and no amount. */
    char *ppath = test_fmt("/api/v1/patients/%lld", pid);
    r = expect(200, police, "GET", ppath, NULL);
    json_t *g = json_array_get(json_object_get(r->json, "guardians"), 0);
    assert_true(json_is_true(json_object_get(g, "has_agreement")));
    assert_null(json_object_get(g, "agreement_signed_on"));
    assert_null(strstr(r->body, "amount_fen"));
    http_free(r);
    free(ppath);

    /* Writers: civil affairs only. */
    const char *const writers_not[] = {official, doctor, police, grid1, tf_admin, cadre};
    for (size_t i = 0; i < sizeof(writers_not) / sizeof(writers_not[0]); i++) {
        r = call(writers_not[i], "POST", approve, "{\"amount_fen\":100}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = call(writers_not[i], "POST", path, "{\"kind\":\"dibao\",\"applied_on\":\"2026-01-01\"}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = call(writers_not[i], "POST", "/api/v1/assistance/batches",
                 "{\"org_unit_id\":1,\"month\":\"2026-01\"}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
    }
    assert_string_equal(app_state(app), "pending");
    /* The area's lists: not the doctor's. */
    expect_free(403, doctor, "GET", "/api/v1/assistance/applications", NULL);

    /* Another township: 404 for every record, as if it did not exist. */
    long long yl;
    {
        char id[19];
        test_new_id(id, -1, SUITE_SALT);
        char *name = test_fmt("园林%s", test_cn_unique());
        yl = test_create_patient(yl_doctor, TODAY, name, id, yl_unit, DIAG);
        free(name);
    }
    char *sql = test_fmt("INSERT INTO assistance_applications (patient_id, kind, applied_on)"
                         " VALUES (%lld, 'dibao', '2026-01-01') RETURNING id",
                         yl);
    char *yl_app = db_scalar(sql, 0, NULL);
    free(sql);
    sql = test_fmt("INSERT INTO assistance_applications (patient_id, kind, state, applied_on,"
                   " amount_fen, period, from_month, decided_on) VALUES (%lld,"
                   " 'temporary_assistance', 'approved', '2026-01-01', 100, 'case', '2026-01-01',"
                   " '2026-01-01') RETURNING id",
                   yl);
    char *yl_app2 = db_scalar(sql, 0, NULL);
    free(sql);
    sql = test_fmt("INSERT INTO assistance_payments (application_id, patient_id, kind, org_path,"
                   " period_month, amount_fen, status) SELECT a.id, a.patient_id, a.kind,"
                   " p.org_path, '2026-01-01', 100, 'pending' FROM assistance_applications a"
                   " JOIN patients p ON p.id = a.patient_id WHERE a.id = %s RETURNING id",
                   yl_app2);
    char *yl_pay = db_scalar(sql, 0, NULL);
    free(sql);
    char *yl_path = test_fmt("/api/v1/patients/%lld/assistance", yl);
    char *yl_apath = test_fmt("/api/v1/assistance/applications/%s", yl_app);
    char *yl_approve = test_fmt("/api/v1/assistance/applications/%s/approve", yl_app);
    char *yl_reject = test_fmt("/api/v1/assistance/applications/%s/reject", yl_app);
    char *yl_ppay = test_fmt("/api/v1/assistance/payments/%s", yl_pay);
    char *yl_collect = test_fmt("/api/v1/assistance/payments/%s/collect", yl_pay);
    char *yl_withhold = test_fmt("/api/v1/assistance/payments/%s/withhold", yl_pay);
    char *yl_pays = test_fmt("/api/v1/assistance/applications/%s/payments", yl_app2);
    expect_free(404, civil, "GET", yl_path, NULL);
    expect_free(404, civil, "POST", yl_path, "{\"kind\":\"medical_assistance\","
                                             "\"applied_on\":\"2026-01-01\"}");
    expect_free(404, civil, "GET", yl_apath, NULL);
    expect_free(404, civil, "POST", yl_approve, "{\"amount_fen\":100}");
    expect_free(404, civil, "POST", yl_reject, "{\"reason\":\"x\"}");
    expect_free(404, civil, "GET", yl_ppay, NULL);
    expect_free(404, civil, "POST", yl_collect,
                "{\"collected_on\":\"2026-01-05\",\"guardian_id\":1,\"receipt_no\":\"R1\"}");
    expect_free(404, civil, "POST", yl_withhold, "{\"reason\":\"x\"}");
    expect_free(404, civil, "POST", yl_pays,
                "{\"period_month\":\"2026-01\",\"paid_on\":\"2026-01-05\"}");
    expect_free(404, official, "GET", yl_apath, NULL);
    expect_free(404, doctor, "GET", yl_path, NULL);
    /* …and the other way round. */
    expect_free(404, yl_admin, "GET", path, NULL);
    expect_free(404, yl_admin, "GET", apath, NULL);
    expect_free(404, yl_doctor, "GET", apath, NULL);
    sql = test_fmt("SELECT state FROM assistance_applications WHERE id = %s", yl_app);
    char *st = db_scalar(sql, 0, NULL);
    assert_string_equal(st, "pending");
    free(st);
    free(sql);
    sql = test_fmt("SELECT status FROM assistance_payments WHERE id = %s", yl_pay);
    st = db_scalar(sql, 0, NULL);
    assert_string_equal(st, "pending");
    free(st);
    free(sql);
    /* A batch of one township is hidden from the other's and from a village. */
    char *bid = scalar("SELECT max(b.id) FROM assistance_batches b JOIN org_units o"
                       " ON o.id = b.org_unit_id WHERE o.code = '429005003001G01'");
    if (bid != NULL) {
        char *bpath = test_fmt("/api/v1/assistance/batches/%s", bid);
        expect_free(404, yl_admin, "GET", bpath, NULL);
        expect_free(403, doctor, "GET", bpath, NULL);
        expect_free(200, cadre, "GET", bpath, NULL);
        free(bpath);
        free(bid);
    }

    /* The area's applications: civil affairs and officials, in their area. */
    char *list = test_fmt("/api/v1/assistance/applications?state=pending&kind=dibao&limit=200");
    r = expect(200, civil, "GET", list, NULL);
    int found = 0;
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        found += test_jint(it, "id") == app;
        assert_string_equal(test_jstr(it, "state"), "pending");
        assert_string_equal(test_jstr(it, "kind"), "dibao");
        if (test_jint(it, "patient_id") == yl)
            fail_msg("another township's application listed");
    }
    assert_int_equal(found, 1);
    http_free(r);
    free(list);
    list = test_fmt("/api/v1/assistance/applications?org_unit_id=%s&limit=1", qy_g01);
    r = expect(200, official, "GET", list, NULL);
    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        assert_true(test_jint(it, "id") != app);
    }
    http_free(r);
    free(list);
    const char *const bad_q[][2] = {
        {"/api/v1/assistance/applications?state=open", "state"},
        {"/api/v1/assistance/applications?kind=lottery", "kind"},
        {"/api/v1/assistance/applications?limit=0", "limit"},
        {"/api/v1/assistance/applications?cursor=!!", "cursor"},
    };
    for (size_t k = 0; k < sizeof(bad_q) / sizeof(bad_q[0]); k++) {
        r = call(civil, "GET", bad_q[k][0], NULL);
        http_assert_problem(r, 400, bad_q[k][1]);
        http_free(r);
    }
    list = test_fmt("/api/v1/assistance/applications?org_unit_id=%s", yl_unit);
    r = call(civil, "GET", list, NULL);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    free(list);

    free(yl_path);
    free(yl_apath);
    free(yl_approve);
    free(yl_reject);
    free(yl_ppay);
    free(yl_collect);
    free(yl_withhold);
    free(yl_pays);
    free(yl_app);
    free(yl_app2);
    free(yl_pay);
    free(approve);
    free(apath);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(application_workflow),
        cmocka_unit_test(reward_batch_collection_and_withholding),
        cmocka_unit_test(standards_and_local_rule),
        cmocka_unit_test(totals_by_kind_and_unit),
        cmocka_unit_test(statistics_include_assistance),
        cmocka_unit_test(bad_inputs_write_nothing),
        cmocka_unit_test(who_may_see_and_do),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
