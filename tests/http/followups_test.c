/* HTTP suite: follow-up visits (随访) on the national form and risk
 * assessments (三级三评), played through time with X-Test-Date. The worked
 * examples of the due-date rules, the server's classification and the
 * clinician's override, 失访 after three misses, death at a visit, the
 * colour tiers and key flags, the due/overdue/lost/health-check worklists,
 * and every bad form refused with nothing written. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUITE_SALT 4 /* keeps this suite's ID numbers apart from the others' */

static char *doctor, *police, *civil, *official, *grid1, *grid2, *yl_doctor;
static char *g01, *g02, *village, *qy_g01, *yl_grid;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

/* ---- helpers ---------------------------------------------------------- */

/* Register a patient as the doctor on day `on` (diagnosed a month
 * before); returns its id. */
static long long create_patient(const char *tag, const char *unit, const char *on,
                                const char *diagnosed)
{
    char id[19], *name = test_fmt("随访%s%s", cn_unique, tag);
    char *extra = test_fmt(",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"%s\"", diagnosed);
    long long pid;

    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, on, name, id, unit, extra);
    assert_true(pid > 0);
    free(extra);
    free(name);
    return pid;
}

/* An adequate primary guardian, so that weak_guardian does not colour. */
static void add_guardian(long long pid, const char *on)
{
    char *path = test_fmt("/api/v1/patients/%lld/guardians", pid);
    http_res *r = test_call(on, "POST", path, doctor,
                            "{\"kind\":\"primary\",\"name\":\"监护人\",\"relation\":\"parent\","
                            "\"capacity\":\"adequate\",\"phone\":\"13912345678\"}");

    if (r->status != 201)
        fail_msg("add guardian: %ld %s", r->status, r->body);
    http_free(r);
    free(path);
}

/* A reached visit on date: stable unless over (a JSON object) changes it;
 * a null in over removes that field. */
static char *form(const char *date, const char *over)
{
    json_t *b =
        json_pack("{s:s,s:s,s:s,s:b,s:i,s:[],s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s},s:s}",
                  "visit_date", date, "mode", "home", "informant", "patient", "reached", 1,
                  "risk_level", 0, "symptoms", "insight", "complete", "sleep", "good", "diet",
                  "fair", "social_function", "personal_care", "good", "housework", "fair", "work",
                  "na", "learning", "good", "social_contact", "fair", "compliance", "regular");
    char *text;

    assert_non_null(b);
    if (over != NULL) {
        json_t *o = json_loads(over, 0, NULL), *v;
        const char *k;
        if (o == NULL)
            fail_msg("bad override JSON: %s", over);
        json_object_foreach(o, k, v)
        {
            if (json_is_null(v))
                json_object_del(b, k);
            else
                json_object_set(b, k, v);
        }
        json_decref(o);
    }
    text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

/* A visit that did not reach the patient. */
static char *missed(const char *date, const char *reason)
{
    return test_fmt("{\"visit_date\":\"%s\",\"mode\":\"home\",\"informant\":\"other\","
                    "\"reached\":false,\"unreached_reason\":\"%s\"}",
                    date, reason);
}

static http_res *post_fu(const char *token, long long pid, const char *date, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld/follow-ups", pid);
    http_res *r = test_call(date, "POST", path, token, body);

    free(path);
    return r;
}

/* Record a visit that must be accepted; frees body, returns the response. */
static http_res *visit(long long pid, const char *date, char *body)
{
    http_res *r = post_fu(doctor, pid, date, body);

    if (r->status != 201)
        fail_msg("follow-up on %s: %ld %s (sent %s)", date, r->status, r->body, body);
    free(body);
    return r;
}

static http_res *assess(const char *token, long long pid, const char *date, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld/risk-assessments", pid);
    http_res *r = test_call(date, "POST", path, token, body);

    free(path);
    return r;
}

/* GET /api/v1/patients/{pid}{what}. */
static http_res *get(const char *token, const char *date, const char *what, long long pid)
{
    char *path = test_fmt("/api/v1/patients/%lld%s", pid, what);
    http_res *r = test_call(date, "GET", path, token, NULL);

    free(path);
    return r;
}

/* GET clinical-state as the doctor. */
static http_res *state(long long pid)
{
    http_res *r = get(doctor, NULL, "/clinical-state", pid);

    if (r->status != 200)
        fail_msg("clinical-state %lld: %ld %s", pid, r->status, r->body);
    return r;
}

static void expect_str(const http_res *r, const json_t *o, const char *k, const char *want)
{
    json_t *v = json_object_get(o, k);

    if (want == NULL) {
        if (v != NULL && !json_is_null(v))
            fail_msg("%s should be null: %s", k, r->body);
        return;
    }
    if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
        fail_msg("%s should be \"%s\": %s", k, want, r->body);
}

static void expect_bool(const http_res *r, const json_t *o, const char *k, int want)
{
    json_t *v = json_object_get(o, k);

    if (!json_is_boolean(v) || json_is_true(v) != want)
        fail_msg("%s should be %s: %s", k, want ? "true" : "false", r->body);
}

static void expect_int(const http_res *r, const json_t *o, const char *k, long long want)
{
    json_t *v = json_object_get(o, k);

    if (!json_is_integer(v) || json_integer_value(v) != want)
        fail_msg("%s should be %lld: %s", k, want, r->body);
}

/* An array of strings, exactly these in this order (comma-separated). */
static void expect_list(const http_res *r, const json_t *o, const char *k, const char *want)
{
    json_t *a = json_object_get(o, k), *v;
    char got[1024] = "";
    size_t i;

    if (!json_is_array(a))
        fail_msg("%s should be an array: %s", k, r->body);
    json_array_foreach(a, i, v)
    {
        size_t n = strlen(got);
        snprintf(got + n, sizeof(got) - n, "%s%s", i ? "," : "",
                 json_is_string(v) ? json_string_value(v) : "?");
    }
    if (strcmp(got, want) != 0)
        fail_msg("%s should be [%s], got [%s]: %s", k, want, got, r->body);
}

static int list_has(const json_t *o, const char *k, const char *want)
{
    json_t *a = json_object_get(o, k), *v;
    size_t i;

    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return 1;
    }
    return 0;
}

/* The derived state: colour, its reasons, the key flags, the due date,
 * whether that visit must be joint, and the rule that set it. */
static void expect_state(long long pid, const char *colour, const char *reasons, const char *flags,
                         const char *next_due, int joint, const char *rule)
{
    http_res *r = state(pid);

    expect_str(r, r->json, "colour", colour);
    if (reasons != NULL)
        expect_list(r, r->json, "colour_reasons", reasons);
    if (flags != NULL)
        expect_list(r, r->json, "key_flags", flags);
    expect_str(r, r->json, "next_due", next_due);
    expect_bool(r, r->json, "next_due_joint", joint);
    expect_str(r, r->json, "due_rule", rule);
    http_free(r);
}

static char *patient_status(long long pid)
{
    http_res *r = get(doctor, NULL, "", pid);
    char *s;

    assert_int_equal(r->status, 200);
    assert_non_null(test_jstr(r->json, "status"));
    s = strdup(test_jstr(r->json, "status"));
    http_free(r);
    return s;
}

static void expect_status(long long pid, const char *want)
{
    char *s = patient_status(pid);

    if (strcmp(s, want) != 0)
        fail_msg("patient %lld: status %s, expected %s", pid, s, want);
    free(s);
}

static long count_where(const char *table, long long pid)
{
    char idtxt[32], *sql = test_fmt("SELECT count(*) FROM %s WHERE patient_id = $1", table);
    const char *p[] = {idtxt};
    long n;

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    n = db_count(sql, 1, p);
    free(sql);
    return n;
}

/* A status event of the patient to to_status, or NULL (a new reference). */
static json_t *status_event(long long pid, const char *to_status)
{
    http_res *r = get(doctor, NULL, "/events", pid);
    json_t *items, *e, *found = NULL;
    size_t i;

    assert_int_equal(r->status, 200);
    items = json_object_get(r->json, "items");
    assert_true(json_is_array(items));
    json_array_foreach(items, i, e)
    {
        const char *k = test_jstr(e, "kind"), *to = test_jstr(e, "to_status");
        if (k && to && strcmp(k, "status") == 0 && strcmp(to, to_status) == 0)
            found = e;
    }
    if (found != NULL)
        json_incref(found);
    http_free(r);
    return found;
}

/* Every item of a worklist, following next_cursor (each page at most
 * limit items); a new reference. */
static json_t *worklist(const char *token, const char *date, const char *kind, const char *query,
                        int limit)
{
    json_t *all = json_array();
    char *cursor = NULL;
    int pages = 0;

    for (;;) {
        char *path = test_fmt("/api/v1/worklists/%s?limit=%d%s%s%s%s", kind, limit,
                              query && *query ? "&" : "", query ? query : "",
                              cursor ? "&cursor=" : "", cursor ? cursor : "");
        http_res *r = test_call(date, "GET", path, token, NULL);
        json_t *items, *it, *next;
        size_t i;

        if (r->status != 200)
            fail_msg("GET %s: %ld %s", path, r->status, r->body);
        items = json_object_get(r->json, "items");
        assert_true(json_is_array(items));
        assert_true(json_array_size(items) <= (size_t)limit);
        if (date != NULL)
            expect_str(r, r->json, "as_of", date);
        json_array_foreach(items, i, it) json_array_append(all, it);
        next = json_object_get(r->json, "next_cursor");
        free(cursor);
        cursor = json_is_string(next) ? strdup(json_string_value(next)) : NULL;
        if (cursor != NULL && json_array_size(items) != (size_t)limit)
            fail_msg("a short page with a next cursor: %s", r->body);
        http_free(r);
        free(path);
        if (cursor == NULL)
            break;
        if (++pages > 1000)
            fail_msg("worklist %s does not end", kind);
    }
    return all;
}

/* The patient ids of items, comma-separated. */
static char *ids_of(const json_t *items)
{
    char *s = strdup(""), *n;
    const json_t *it;
    size_t i;

    json_array_foreach(items, i, it)
    {
        n = test_fmt("%s%s%lld", s, i ? "," : "", test_jint(it, "patient_id"));
        free(s);
        s = n;
    }
    return s;
}

static const json_t *find_item(const json_t *items, long long pid)
{
    const json_t *it;
    size_t i;

    json_array_foreach(items, i, it)
    {
        if (test_jint(it, "patient_id") == pid)
            return it;
    }
    return NULL;
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state_)
{
    (void)state_;
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
    qy_g01 = test_unit_id("429005003004G01");
    yl_grid = test_unit_id("429005001001G01");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state_)
{
    char **all[] = {&doctor,    &police, &civil, &official, &grid1,  &grid2,
                    &yl_doctor, &g01,    &g02,   &village,  &qy_g01, &yl_grid};

    (void)state_;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- when the next follow-up is due: docs/domain.md's worked examples ------- */

/* A newly registered patient is due within 14 days of registration. [R-DUE-4] */
static void new_patient_is_due_within_14_days(void **state_)
{
    long long pid = create_patient("新", g01, "2026-01-05", "2025-12-20");
    http_res *r = state(pid);

    (void)state_;
    expect_str(r, r->json, "status", "registered");
    expect_str(r, r->json, "next_due", "2026-01-19");
    expect_str(r, r->json, "due_rule", "new_14d");
    expect_str(r, r->json, "last_class", NULL);
    expect_str(r, r->json, "last_reached_on", NULL);
    expect_int(r, r->json, "misses", 0);
    /* Never classified, no guardian: not green. */
    expect_str(r, r->json, "colour", "yellow");
    assert_true(list_has(r->json, "key_flags", "weak_guardian"));
    http_free(r);
}

/* 2026-03-01 stable, no previous visit, green → 2026-06-01. [R-DUE-1] */
static void example_stable_green_3_months(void **state_)
{
    long long pid = create_patient("绿", g01, "2026-02-01", "2026-01-10");
    http_res *r, *s;

    (void)state_;
    add_guardian(pid, "2026-02-01");
    r = visit(pid, "2026-03-01", form("2026-03-01", NULL));
    expect_str(r, r->json, "computed_class", "stable");
    expect_str(r, r->json, "class", "stable");
    expect_str(r, r->json, "class_override_reason", NULL);
    expect_str(r, r->json, "next_due", "2026-06-01");
    expect_bool(r, r->json, "next_due_joint", 0);
    expect_bool(r, r->json, "reached", 1);
    expect_int(r, r->json, "risk_level", 0);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    {
        char *loc =
            test_fmt("/api/v1/patients/%lld/follow-ups/%lld", pid, test_jint(r->json, "id"));
        assert_non_null(http_header(r, "Location"));
        assert_string_equal(http_header(r, "Location"), loc);
        free(loc);
    }
    http_free(r);
    expect_state(pid, "green", "", "", "2026-06-01", 0, "stable_3m");
    s = state(pid);
    expect_str(s, s->json, "status", "in_care");
    expect_str(s, s->json, "last_class", "stable");
    expect_str(s, s->json, "last_reached_on", "2026-03-01");
    expect_int(s, s->json, "risk_level", 0);
    expect_int(s, s->json, "misses", 0);
    http_free(s);
    /* The visit's risk level is recorded as a community assessment. */
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM risk_assessments r JOIN follow_ups f"
                                  " ON f.id = r.follow_up_id WHERE r.patient_id = $1 AND"
                                  " r.tier = 'community' AND r.level = 0 AND"
                                  " r.assessed_on = '2026-03-01'",
                                  1, p),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM follow_ups WHERE patient_id = $1 AND"
                                  " next_due = '2026-06-01' AND NOT next_due_joint AND"
                                  " class = 'stable' AND computed_class = 'stable'",
                                  1, p),
                         1);
    }
}

/* 2026-03-01 unstable after stable, red → 2026-03-15, joint. [R-DUE-1] */
static void example_unstable_after_stable(void **state_)
{
    long long pid = create_patient("红", g01, "2025-11-01", "2025-10-01");
    http_res *r;

    (void)state_;
    add_guardian(pid, "2025-11-01");
    r = visit(pid, "2025-12-01", form("2025-12-01", NULL));
    expect_str(r, r->json, "next_due", "2026-03-01");
    http_free(r);
    expect_state(pid, "green", "", "", "2026-03-01", 0, "stable_3m");
    r = visit(pid, "2026-03-01", form("2026-03-01", "{\"insight\":\"absent\"}"));
    expect_str(r, r->json, "computed_class", "unstable");
    expect_str(r, r->json, "class", "unstable");
    expect_str(r, r->json, "next_due", "2026-03-15");
    expect_bool(r, r->json, "next_due_joint", 1);
    http_free(r);
    expect_state(pid, "red", "unstable", "unstable", "2026-03-15", 1, "unstable_2w");
}

/* 2026-03-01 basically stable after stable, yellow → 2026-03-15; again
 * basically stable at that check → 2026-04-15. [R-DUE-1] */
static void example_basically_stable_then_again(void **state_)
{
    long long pid = create_patient("黄", g02, "2025-11-01", "2025-10-01");
    http_res *r;

    (void)state_;
    add_guardian(pid, "2025-11-01");
    http_free(visit(pid, "2025-12-01", form("2025-12-01", NULL)));
    r = visit(pid, "2026-03-01", form("2026-03-01", "{\"symptoms\":[\"talking_to_self\"]}"));
    expect_str(r, r->json, "computed_class", "basically_stable");
    expect_str(r, r->json, "next_due", "2026-03-15");
    expect_bool(r, r->json, "next_due_joint", 0);
    http_free(r);
    expect_state(pid, "yellow", "basically_stable", "", "2026-03-15", 0, "basically_stable_2w");
    r = visit(pid, "2026-03-15", form("2026-03-15", "{\"insight\":\"partial\"}"));
    expect_str(r, r->json, "computed_class", "basically_stable");
    expect_str(r, r->json, "next_due", "2026-04-15");
    expect_bool(r, r->json, "next_due_joint", 0);
    http_free(r);
    expect_state(pid, "yellow", "basically_stable", "", "2026-04-15", 0,
                 "basically_stable_again_1m");
}

/* 2026-03-15 stable after basically stable, red for an incident in the
 * last 12 months → 2026-04-15, joint (the red cap beats 3 months). [R-DUE-2, R-TIER-1] */
static void example_stable_on_red_incident_patient(void **state_)
{
    long long pid = create_patient("事", g01, "2026-01-10", "2025-12-01");
    char *path = test_fmt("/api/v1/patients/%lld/incidents", pid);
    http_res *r;

    (void)state_;
    add_guardian(pid, "2026-01-10");
    r = test_call("2026-02-01", "POST", path, doctor,
                  "{\"occurred_on\":\"2025-09-20\",\"place\":\"梅苑路口\",\"kind\":\"trouble\","
                  "\"injured\":0,\"dead\":0}");
    if (r->status == 404) {
        /* No incidents route in this build: write the row, then recompute
         * through an assessment. */
        char *sql = test_fmt("INSERT INTO incidents (patient_id, occurred_on, place, kind) VALUES"
                             " (%lld, '2025-09-20', '梅苑路口', 'trouble')",
                             pid);
        assert_true(db_try(sql));
        free(sql);
    } else if (r->status != 201) {
        fail_msg("incident: %ld %s", r->status, r->body);
    }
    http_free(r);
    free(path);
    r = assess(doctor, pid, "2026-02-01",
               "{\"assessed_on\":\"2026-02-01\",\"level\":0,\"tier\":\"community\"}");
    assert_int_equal(r->status, 201);
    expect_str(r, r->json, "colour", "red");
    expect_list(r, r->json, "colour_reasons", "recent_incident");
    expect_list(r, r->json, "key_flags", "incident_history");
    http_free(r);

    r = visit(pid, "2026-03-01",
              form("2026-03-01", "{\"social_function\":{\"personal_care\":"
                                 "\"poor\",\"housework\":\"fair\",\"work\":"
                                 "\"na\",\"learning\":\"fair\","
                                 "\"social_contact\":\"fair\"}}"));
    expect_str(r, r->json, "computed_class", "basically_stable");
    expect_str(r, r->json, "next_due", "2026-03-15");
    expect_bool(r, r->json, "next_due_joint", 1); /* red: every visit joint */
    http_free(r);
    expect_state(pid, "red", "recent_incident", "incident_history", "2026-03-15", 1,
                 "basically_stable_2w");
    r = visit(pid, "2026-03-15", form("2026-03-15", NULL));
    expect_str(r, r->json, "computed_class", "stable");
    expect_str(r, r->json, "next_due", "2026-04-15");
    expect_bool(r, r->json, "next_due_joint", 1);
    http_free(r);
    expect_state(pid, "red", "recent_incident", "incident_history", "2026-04-15", 1, "tier_cap");
}

/* Nothing is due while in hospital; discharged 2026-05-10 → 2026-05-17;
 * a visit after the discharge schedules from the visit again. [R-DUE-3] */
static void example_discharge_due_in_7_days(void **state_)
{
    long long pid = create_patient("院", g01, "2026-01-10", "2025-12-01"), aid;
    char *path = test_fmt("/api/v1/patients/%lld/admissions", pid), *sql;
    http_res *r;

    (void)state_;
    add_guardian(pid, "2026-01-10");
    http_free(visit(pid, "2026-02-01", form("2026-02-01", NULL)));
    expect_state(pid, "green", "", "", "2026-05-01", 0, "stable_3m");
    r = test_call("2026-04-20", "POST", path, doctor,
                  "{\"admitted_on\":\"2026-04-20\",\"hospital\":\"潜江市精神卫生中心\","
                  "\"involuntary\":false}");
    if (r->status == 404) {
        /* No admissions route in this build: write the rows, recompute
         * through assessments. */
        http_free(r);
        sql =
            test_fmt("INSERT INTO hospitalisations (patient_id, admitted_on, hospital, involuntary)"
                     " VALUES (%lld, '2026-04-20', '潜江市精神卫生中心', false)",
                     pid);
        assert_true(db_try(sql));
        free(sql);
        r = assess(doctor, pid, "2026-04-21",
                   "{\"assessed_on\":\"2026-04-21\",\"level\":0,\"tier\":\"community\"}");
        assert_int_equal(r->status, 201);
        http_free(r);
        expect_state(pid, "green", "", "", NULL, 0, "in_hospital");
        sql = test_fmt("UPDATE hospitalisations SET discharged_on = '2026-05-10' WHERE"
                       " patient_id = %lld",
                       pid);
        assert_true(db_try(sql));
        free(sql);
        r = assess(doctor, pid, "2026-05-11",
                   "{\"assessed_on\":\"2026-05-11\",\"level\":0,\"tier\":\"community\"}");
        assert_int_equal(r->status, 201);
        http_free(r);
    } else {
        if (r->status != 201)
            fail_msg("admission: %ld %s", r->status, r->body);
        aid = test_jint(r->json, "id");
        assert_true(aid > 0);
        http_free(r);
        expect_state(pid, "green", "", "", NULL, 0, "in_hospital");
        expect_status(pid, "hospitalised");
        free(path);
        path = test_fmt("/api/v1/patients/%lld/admissions/%lld/discharge", pid, aid);
        r = test_call("2026-05-10", "POST", path, doctor, "{\"discharged_on\":\"2026-05-10\"}");
        if (r->status != 200)
            fail_msg("discharge: %ld %s", r->status, r->body);
        http_free(r);
        expect_status(pid, "in_care");
    }
    free(path);
    expect_state(pid, "green", "", "", "2026-05-17", 0, "discharge_7d");
    r = visit(pid, "2026-05-14", form("2026-05-14", NULL));
    expect_str(r, r->json, "next_due", "2026-08-14");
    http_free(r);
    expect_state(pid, "green", "", "", "2026-08-14", 0, "stable_3m");
}

/* Key flags are recomputed on every change: a capable guardian added
 * after the visit clears weak_guardian and the patient turns green. [R-FLAG-1] */
static void flags_follow_guardian_changes(void **state_)
{
    long long pid = create_patient("监", g01, "2026-02-01", "2026-01-10");
    http_res *r;

    (void)state_;
    http_free(visit(pid, "2026-03-01", form("2026-03-01", NULL)));
    expect_state(pid, "yellow", "key_flags", "weak_guardian", "2026-06-01", 0, "stable_3m");
    add_guardian(pid, "2026-03-02");
    expect_state(pid, "green", "", "", "2026-06-01", 0, "stable_3m");
    /* Poor compliance at a visit is a key flag (yellow when stable). */
    r = visit(pid, "2026-03-20", form("2026-03-20", "{\"compliance\":\"intermittent\"}"));
    expect_str(r, r->json, "computed_class", "stable");
    http_free(r);
    expect_state(pid, "yellow", "key_flags", "poor_compliance", "2026-06-20", 0, "stable_3m");
    /* Risk 1-2 with poor compliance: orange, visits monthly. */
    r = visit(pid, "2026-04-01", form("2026-04-01", "{\"risk_level\":1,\"compliance\":\"none\"}"));
    expect_str(r, r->json, "computed_class", "basically_stable");
    http_free(r);
    expect_state(pid, "orange", "risk_level,poor_compliance", "poor_compliance", "2026-04-15", 0,
                 "basically_stable_2w");
}

/* ---- classification ------------------------------------------------------- */

/* [R-CLASS-1] */
static void classification_from_the_form(void **state_)
{
    static const struct {
        const char *over, *want;
    } cases[] = {
        {NULL, "stable"},
        {"{\"social_function\":{\"personal_care\":\"fair\",\"housework\":\"fair\",\"work\":"
         "\"fair\",\"learning\":\"fair\",\"social_contact\":\"fair\"}}",
         "stable"},
        {"{\"risk_level\":3}", "unstable"},
        {"{\"risk_level\":4}", "unstable"},
        {"{\"risk_level\":5}", "unstable"},
        {"{\"insight\":\"absent\"}", "unstable"},
        {"{\"adverse_reaction\":\"yes\",\"adverse_serious\":true}", "unstable"},
        {"{\"physical_illness_serious\":true}", "unstable"},
        {"{\"obvious_psychotic\":true,\"symptoms\":[\"hallucination\"]}", "unstable"},
        {"{\"risk_level\":2,\"insight\":\"absent\"}", "unstable"},
        {"{\"risk_level\":1}", "basically_stable"},
        {"{\"risk_level\":2}", "basically_stable"},
        {"{\"symptoms\":[\"suspicion\"]}", "basically_stable"},
        {"{\"symptoms\":[\"withdrawn_lazy\",\"talking_to_self\"]}", "basically_stable"},
        {"{\"insight\":\"partial\"}", "basically_stable"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"good\",\"work\":"
         "\"poor\",\"learning\":\"good\",\"social_contact\":\"good\"}}",
         "basically_stable"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"good\",\"social_contact\":\"poor\"}}",
         "basically_stable"},
    };
    long long pid = create_patient("分", g01, "2025-12-01", "2025-11-01");
    char idtxt[32];
    const char *p[] = {idtxt};

    (void)state_;
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http_res *r = visit(pid, "2026-01-05", form("2026-01-05", cases[i].over));
        const char *c = test_jstr(r->json, "computed_class");
        if (c == NULL || strcmp(c, cases[i].want) != 0)
            fail_msg("case %zu (%s): expected %s, got %s", i, cases[i].over ? cases[i].over : "-",
                     cases[i].want, r->body);
        expect_str(r, r->json, "class", cases[i].want);
        expect_str(r, r->json, "class_override_reason", NULL);
        http_free(r);
    }
    assert_int_equal(db_count("SELECT count(*) FROM follow_ups WHERE patient_id = $1 AND"
                              " class = computed_class AND class_override_reason IS NULL",
                              1, p),
                     (long)(sizeof(cases) / sizeof(cases[0])));
}

/* [R-CLASS-1] */
static void class_override_keeps_both_and_the_reason(void **state_)
{
    long long pid = create_patient("改", g01, "2025-12-01", "2025-11-01");
    char idtxt[32], *body;
    const char *p[] = {idtxt};
    long before;
    http_res *r;

    (void)state_;
    add_guardian(pid, "2025-12-01");
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    /* Stable by the form, unstable in the clinician's judgement. */
    r = visit(pid, "2026-01-10",
              form("2026-01-10", "{\"class_override\":{\"class\":\"unstable\",\"reason\":"
                                 "\"家属反映近三日夜间吵闹、拒绝服药\"}}"));
    expect_str(r, r->json, "computed_class", "stable");
    expect_str(r, r->json, "class", "unstable");
    expect_str(r, r->json, "class_override_reason", "家属反映近三日夜间吵闹、拒绝服药");
    /* The class that counts is the clinician's. */
    expect_str(r, r->json, "next_due", "2026-01-24");
    expect_bool(r, r->json, "next_due_joint", 1);
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM follow_ups WHERE patient_id = $1 AND"
                              " computed_class = 'stable' AND class = 'unstable' AND"
                              " class_override_reason = '家属反映近三日夜间吵闹、拒绝服药'",
                              1, p),
                     1);
    expect_state(pid, "red", "unstable", "unstable", "2026-01-24", 1, "unstable_2w");

    /* An override without a written reason, or not a class: refused. */
    before = count_where("follow_ups", pid);
    {
        const char *bad[] = {
            "{\"class_override\":{\"class\":\"stable\"}}",
            "{\"class_override\":{\"class\":\"unstable\",\"reason\":\"\"}}",
            "{\"class_override\":{\"class\":\"unstable\",\"reason\":null}}",
            "{\"class_override\":{\"class\":\"unstable\",\"reason\":\"x\"}}",
            "{\"class_override\":{\"class\":\"fine\",\"reason\":\"医生判断\"}}",
            "{\"class_override\":{\"reason\":\"医生判断\"}}",
            "{\"class_override\":\"unstable\"}",
            "{\"class_override\":{\"class\":\"unstable\",\"reason\":\"医生判断\",\"by\":1}}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            body = form("2026-01-20", bad[i]);
            r = post_fu(doctor, pid, "2026-01-20", body);
            if (r->status != 400)
                fail_msg("override %zu: expected 400, got %ld %s", i, r->status, r->body);
            http_assert_problem(r, 400, "class_override");
            http_free(r);
            free(body);
        }
    }
    /* Not on a visit that did not reach the patient. */
    r = post_fu(doctor, pid, "2026-01-20",
                "{\"visit_date\":\"2026-01-20\",\"mode\":\"phone\",\"reached\":false,"
                "\"unreached_reason\":\"other\",\"class_override\":{\"class\":\"stable\","
                "\"reason\":\"电话未接通\"}}");
    http_assert_problem(r, 400, "class_override");
    http_free(r);
    assert_int_equal(count_where("follow_ups", pid), before);

    /* Agreeing with the server is not an override. */
    r = visit(pid, "2026-01-24",
              form("2026-01-24", "{\"insight\":\"partial\",\"class_override\":{\"class\":"
                                 "\"basically_stable\",\"reason\":\"与计算结果一致\"}}"));
    expect_str(r, r->json, "computed_class", "basically_stable");
    expect_str(r, r->json, "class", "basically_stable");
    expect_str(r, r->json, "class_override_reason", NULL);
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM follow_ups WHERE patient_id = $1 AND"
                              " class_override_reason IS NOT NULL",
                              1, p),
                     1);
}

/* ---- 失访 ------------------------------------------------------------------ */

/* [R-LOST-1, R-DUE-5] */
static void three_misses_make_the_patient_lost(void **state_)
{
    long long pid = create_patient("失", g01, "2025-12-01", "2025-11-01");
    json_t *ev, *lost;
    http_res *r, *s;
    char *due_third, *due_lost;

    (void)state_;
    add_guardian(pid, "2025-12-01");
    r = visit(pid, "2026-01-10", form("2026-01-10", NULL));
    expect_str(r, r->json, "next_due", "2026-04-10");
    http_free(r);
    expect_status(pid, "in_care");

    /* Two misses: still in care, and still due on the same day. */
    r = visit(pid, "2026-04-12", missed("2026-04-12", "out_for_work"));
    expect_bool(r, r->json, "reached", 0);
    expect_str(r, r->json, "unreached_reason", "out_for_work");
    expect_str(r, r->json, "class", NULL);
    expect_str(r, r->json, "computed_class", NULL);
    expect_str(r, r->json, "next_due", "2026-04-10");
    http_free(r);
    r = visit(pid, "2026-04-20", missed("2026-04-20", "moved"));
    expect_str(r, r->json, "next_due", "2026-04-10");
    http_free(r);
    expect_status(pid, "in_care");
    s = state(pid);
    expect_int(s, s->json, "misses", 2);
    expect_str(s, s->json, "next_due", "2026-04-10");
    expect_str(s, s->json, "due_rule", "stable_3m");
    expect_str(s, s->json, "last_reached_on", "2026-01-10");
    expect_str(s, s->json, "colour", "green");
    http_free(s);
    ev = status_event(pid, "lost");
    assert_null(ev);

    /* The third: lost, with a dated status event and its reason. */
    r = visit(pid, "2026-04-28", missed("2026-04-28", "missing"));
    due_third = strdup(test_jstr(r->json, "next_due") ? test_jstr(r->json, "next_due") : "null");
    http_free(r);
    expect_status(pid, "lost");
    s = state(pid);
    expect_str(s, s->json, "status", "lost");
    expect_int(s, s->json, "misses", 3);
    due_lost = strdup(test_jstr(s->json, "next_due") ? test_jstr(s->json, "next_due") : "null");
    expect_str(s, s->json, "colour", "red");
    assert_true(list_has(s->json, "colour_reasons", "lost"));
    assert_true(list_has(s->json, "key_flags", "ever_lost"));
    http_free(s);
    ev = status_event(pid, "lost");
    assert_non_null(ev);
    assert_string_equal(test_jstr(ev, "from_status"), "in_care");
    assert_string_equal(test_jstr(ev, "event_date"), "2026-04-28");
    assert_non_null(test_jstr(ev, "reason"));
    assert_non_null(strstr(test_jstr(ev, "reason"), "three consecutive"));
    json_decref(ev);
    lost = worklist(doctor, "2026-04-28", "lost", NULL, 200);
    assert_non_null(find_item(lost, pid));
    {
        const json_t *it = find_item(lost, pid);
        assert_string_equal(test_jstr(it, "status"), "lost");
        assert_int_equal(test_jint(it, "misses"), 3);
    }
    json_decref(lost);
    /* The grid worker of that grid sees it on the list too. */
    lost = worklist(grid1, "2026-04-28", "lost", NULL, 200);
    assert_non_null(find_item(lost, pid));
    json_decref(lost);
    lost = worklist(grid2, "2026-04-28", "lost", NULL, 200);
    assert_null(find_item(lost, pid));
    json_decref(lost);

    /* Found again: a reached visit brings the patient back into care. */
    r = visit(pid, "2026-05-05", form("2026-05-05", NULL));
    expect_str(r, r->json, "next_due", "2026-08-05");
    http_free(r);
    expect_status(pid, "in_care");
    s = state(pid);
    expect_int(s, s->json, "misses", 0);
    expect_str(s, s->json, "last_reached_on", "2026-05-05");
    assert_true(list_has(s->json, "key_flags", "ever_lost")); /* once lost, flagged */
    expect_str(s, s->json, "colour", "yellow");
    http_free(s);
    ev = status_event(pid, "in_care");
    assert_non_null(ev);
    json_decref(ev);
    {
        char idtxt[32];
        const char *p[] = {idtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM patient_events WHERE patient_id = $1 AND"
                                  " kind = 'status' AND from_status = 'lost' AND"
                                  " to_status = 'in_care'",
                                  1, p),
                         1);
    }
    lost = worklist(doctor, "2026-05-05", "lost", NULL, 200);
    assert_null(find_item(lost, pid));
    json_decref(lost);

    /* Misses start again from zero: two more do not make it lost. */
    http_free(visit(pid, "2026-08-06", missed("2026-08-06", "refused")));
    http_free(visit(pid, "2026-08-13", missed("2026-08-13", "other")));
    expect_status(pid, "in_care");
    s = state(pid);
    expect_int(s, s->json, "misses", 2);
    expect_str(s, s->json, "next_due", "2026-08-05");
    http_free(s);

    /* The third miss did not move the due date either (checked last, so
     * that everything above is checked in any case). */
    if (strcmp(due_third, "2026-04-10") != 0 || strcmp(due_lost, "2026-04-10") != 0)
        fail_msg("the third unreached visit moved the due date from 2026-04-10 to %s (visit)"
                 " / %s (patient)",
                 due_third, due_lost);
    free(due_third);
    free(due_lost);
}

/* ---- death at a visit --------------------------------------------------- */

/* A death learnt at a visit (the family tells) closes the record, whether
 * the form marks the visit as reached or not. */
static void death_flow(const char *tag, int reached)
{
    long long pid = create_patient(tag, g01, "2026-01-05", "2025-12-01");
    json_t *ev;
    http_res *r, *s;
    long fus;

    http_free(visit(pid, "2026-01-20", form("2026-01-20", NULL)));
    r = visit(pid, "2026-02-10",
              test_fmt("{\"visit_date\":\"2026-02-10\",\"mode\":\"home\",\"informant\":\"family\","
                       "\"reached\":%s,\"died\":true,\"death_date\":\"2026-02-08\","
                       "\"death_cause\":\"suicide\",\"note\":\"家属告知\"}",
                       reached ? "true" : "false"));
    expect_bool(r, r->json, "died", 1);
    expect_str(r, r->json, "death_date", "2026-02-08");
    expect_str(r, r->json, "death_cause", "suicide");
    expect_str(r, r->json, "next_due", NULL);
    http_free(r);
    expect_status(pid, "deceased");
    ev = status_event(pid, "deceased");
    assert_non_null(ev);
    assert_string_equal(test_jstr(ev, "death_cause"), "suicide");
    assert_string_equal(test_jstr(ev, "event_date"), "2026-02-08");
    assert_string_equal(test_jstr(ev, "from_status"), "in_care");
    json_decref(ev);
    s = state(pid);
    expect_str(s, s->json, "status", "deceased");
    expect_str(s, s->json, "next_due", NULL);
    expect_str(s, s->json, "due_rule", "not_managed");
    expect_str(s, s->json, "colour", NULL);
    expect_str(s, s->json, "health_check_due", NULL);
    http_free(s);

    /* Nothing more for a closed record. */
    fus = count_where("follow_ups", pid);
    {
        char *bodies[] = {form("2026-02-20", NULL), missed("2026-02-20", "other")};
        for (size_t i = 0; i < 2; i++) {
            r = post_fu(doctor, pid, "2026-02-20", bodies[i]);
            http_assert_problem(r, 409, NULL);
            http_free(r);
            free(bodies[i]);
        }
    }
    r = assess(doctor, pid, "2026-02-20",
               "{\"assessed_on\":\"2026-02-20\",\"level\":1,\"tier\":\"community\"}");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    assert_int_equal(count_where("follow_ups", pid), fus);
    assert_int_equal(count_where("risk_assessments", pid), 1);
    expect_status(pid, "deceased");
}

/* A visit recorded on a phone whose answer was lost is sent again: the
 * same key and form get the first answer and write nothing; the same key
 * with another form is refused. The retry of the visit that recorded a
 * death replays its answer instead of meeting the death it recorded. */
static void followup_retries_with_an_idempotency_key(void **state_)
{
    long long pid = create_patient("重", g01, "2026-01-05", "2025-12-01");
    char *key = test_fmt("fu-%s-1", test_unique()), *dkey = test_fmt("fu-%s-2", test_unique());
    char *body = form("2026-01-20", NULL), *other = form("2026-01-21", NULL);
    char *death = test_fmt("{\"visit_date\":\"2026-02-10\",\"mode\":\"home\","
                           "\"informant\":\"family\",\"reached\":true,\"died\":true,"
                           "\"death_date\":\"2026-02-08\",\"death_cause\":\"illness\"}");
    http_res *first, *again, *r;
    long fus;

    (void)state_;
    first = test_post_keyed(doctor, pid, "follow-ups", key, body, "2026-01-20");
    assert_int_equal(first->status, 201);
    fus = count_where("follow_ups", pid);
    again = test_post_keyed(doctor, pid, "follow-ups", key, body, "2026-01-20");
    assert_int_equal(again->status, 201);
    assert_string_equal(http_header(again, "Idempotent-Replayed"), "true");
    assert_string_equal(http_header(again, "Location"), http_header(first, "Location"));
    assert_string_equal(again->body, first->body);
    assert_int_equal(count_where("follow_ups", pid), fus);
    r = test_post_keyed(doctor, pid, "follow-ups", key, other, "2026-01-21");
    http_assert_problem(r, 422, "Idempotency-Key");
    http_free(r);
    assert_int_equal(count_where("follow_ups", pid), fus);

    http_free(first);
    http_free(again);
    first = test_post_keyed(doctor, pid, "follow-ups", dkey, death, "2026-02-10");
    assert_int_equal(first->status, 201);
    expect_status(pid, "deceased");
    again = test_post_keyed(doctor, pid, "follow-ups", dkey, death, "2026-02-10");
    assert_int_equal(again->status, 201);
    assert_string_equal(again->body, first->body);
    assert_int_equal(count_where("follow_ups", pid), fus + 1);
    /* Without the key the same form is a new visit, which a closed record
     * refuses. */
    r = post_fu(doctor, pid, "2026-02-10", death);
    http_assert_problem(r, 409, NULL);
    http_free(r);
    http_free(first);
    http_free(again);
    free(key);
    free(dkey);
    free(body);
    free(other);
    free(death);
}

/* The same for a risk assessment. */
static void assessment_retries_with_an_idempotency_key(void **state_)
{
    long long pid = create_patient("复", g01, "2026-01-05", "2025-12-01");
    char *key = test_fmt("ra-%s", test_unique());
    const char *body = "{\"assessed_on\":\"2026-01-10\",\"level\":2,\"tier\":\"community\"}";
    http_res *first, *again, *r;

    (void)state_;
    first = test_post_keyed(doctor, pid, "risk-assessments", key, body, "2026-01-10");
    assert_int_equal(first->status, 201);
    again = test_post_keyed(doctor, pid, "risk-assessments", key, body, "2026-01-10");
    assert_int_equal(again->status, 201);
    assert_string_equal(http_header(again, "Idempotent-Replayed"), "true");
    assert_string_equal(again->body, first->body);
    assert_int_equal(count_where("risk_assessments", pid), 1);
    r = test_post_keyed(doctor, pid, "risk-assessments", key,
                        "{\"assessed_on\":\"2026-01-10\",\"level\":3,\"tier\":\"community\"}",
                        "2026-01-10");
    http_assert_problem(r, 422, "Idempotency-Key");
    assert_int_equal(count_where("risk_assessments", pid), 1);
    http_free(r);
    http_free(first);
    http_free(again);
    free(key);
}

static void death_at_a_visit_that_reached_the_family(void **state_)
{
    (void)state_;
    death_flow("亡", 1);
}

/* The same news on a form marked not reached: the server asks for no
 * unreached reason when the patient died, so the form is complete. */
static void death_at_a_visit_that_reached_nobody(void **state_)
{
    (void)state_;
    death_flow("殁", 0);
}

/* ---- worklists -------------------------------------------------------------- */

/* [R-DUE-6] */
static void worklists_due_overdue_order_pages_and_filters(void **state_)
{
    char *uname = test_fmt("fu.doc%s", test_unique()), *q, *ids, *want, *sql;
    const char *up[] = {uname};
    char *doc_id;
    long long red, orange, y1, y2, green;
    json_t *items;
    http_res *r;

    (void)state_;
    doc_id = db_scalar("INSERT INTO users (username, display_name, role, org_unit_id,"
                       " password_hash) SELECT $1, '随访医生', 'doctor', id, 'x' FROM org_units"
                       " WHERE code = '429005003' RETURNING id",
                       1, up);
    assert_non_null(doc_id);
    red = create_patient("单红", g01, "2026-03-20", "2026-03-01");
    orange = create_patient("单橙", g01, "2026-03-20", "2026-03-01");
    y1 = create_patient("单黄一", g01, "2026-03-20", "2026-03-01");
    y2 = create_patient("单黄二", g02, "2026-03-20", "2026-03-01");
    green = create_patient("单绿", qy_g01, "2026-03-20", "2026-03-01");
    add_guardian(red, "2026-03-20");
    add_guardian(y1, "2026-03-20");
    add_guardian(y2, "2026-03-20");
    add_guardian(green, "2026-03-20");
    sql = test_fmt("UPDATE patients SET doctor_id = %s WHERE id IN (%lld, %lld, %lld, %lld, %lld)",
                   doc_id, red, orange, y1, y2, green);
    assert_true(db_try(sql));
    free(sql);

    http_free(visit(green, "2026-04-01", form("2026-04-01", NULL)));
    http_free(visit(y1, "2026-05-01", form("2026-05-01", "{\"symptoms\":[\"mood_swings\"]}")));
    http_free(visit(red, "2026-06-01", form("2026-06-01", "{\"insight\":\"absent\"}")));
    http_free(visit(orange, "2026-06-10", form("2026-06-10", "{\"risk_level\":1}")));
    http_free(visit(y2, "2026-06-20", form("2026-06-20", "{\"symptoms\":[\"pessimism\"]}")));
    expect_state(green, "green", "", "", "2026-07-01", 0, "stable_3m");
    expect_state(y1, "yellow", "basically_stable", "", "2026-05-15", 0, "basically_stable_2w");
    expect_state(red, "red", "unstable", "unstable", "2026-06-15", 1, "unstable_2w");
    expect_state(orange, "orange", "risk_level,weak_guardian", "weak_guardian", "2026-06-24", 0,
                 "basically_stable_2w");
    expect_state(y2, "yellow", "basically_stable", "", "2026-07-04", 0, "basically_stable_2w");

    q = test_fmt("doctor_id=%s", doc_id);
    /* Overdue on 2026-08-01: red, orange, then yellow oldest first, green. */
    items = worklist(doctor, "2026-08-01", "overdue", q, 50);
    ids = ids_of(items);
    want = test_fmt("%lld,%lld,%lld,%lld,%lld", red, orange, y1, y2, green);
    assert_string_equal(ids, want);
    {
        const struct {
            long long pid;
            const char *colour, *due;
            long long days;
            int joint;
        } exp[] = {{red, "red", "2026-06-15", 47, 1},
                   {orange, "orange", "2026-06-24", 38, 0},
                   {y1, "yellow", "2026-05-15", 78, 0},
                   {y2, "yellow", "2026-07-04", 28, 0},
                   {green, "green", "2026-07-01", 31, 0}};
        for (size_t i = 0; i < 5; i++) {
            const json_t *it = find_item(items, exp[i].pid);
            assert_non_null(it);
            assert_string_equal(test_jstr(it, "colour"), exp[i].colour);
            assert_string_equal(test_jstr(it, "due"), exp[i].due);
            assert_int_equal(test_jint(it, "days_overdue"), exp[i].days);
            assert_int_equal(json_is_true(json_object_get(it, "joint")), exp[i].joint);
            assert_int_equal(test_jint(it, "doctor_id"), strtoll(doc_id, NULL, 10));
        }
    }
    free(ids);
    json_decref(items);

    /* Pages of one visit each patient exactly once, in the same order. */
    items = worklist(doctor, "2026-08-01", "overdue", q, 1);
    ids = ids_of(items);
    assert_string_equal(ids, want);
    free(ids);
    json_decref(items);
    items = worklist(doctor, "2026-08-01", "overdue", q, 2);
    ids = ids_of(items);
    assert_string_equal(ids, want);
    free(ids);
    json_decref(items);
    free(want);

    /* On 2026-06-25: overdue red (10 days), orange (1), yellow (41). */
    items = worklist(doctor, "2026-06-25", "overdue", q, 50);
    ids = ids_of(items);
    want = test_fmt("%lld,%lld,%lld", red, orange, y1);
    assert_string_equal(ids, want);
    assert_int_equal(test_jint(find_item(items, red), "days_overdue"), 10);
    assert_int_equal(test_jint(find_item(items, orange), "days_overdue"), 1);
    assert_int_equal(test_jint(find_item(items, y1), "days_overdue"), 41);
    free(ids);
    free(want);
    json_decref(items);
    /* … and due within 7 days: green (07-01); within 10 (and by default,
     * 14): yellow (07-04) before green. */
    {
        char *q7 = test_fmt("%s&within_days=7", q), *q10 = test_fmt("%s&within_days=10", q);
        items = worklist(doctor, "2026-06-25", "due", q7, 50);
        ids = ids_of(items);
        want = test_fmt("%lld", green);
        assert_string_equal(ids, want);
        assert_int_equal(test_jint(find_item(items, green), "days_overdue"), 0);
        free(ids);
        free(want);
        json_decref(items);
        want = test_fmt("%lld,%lld", y2, green);
        items = worklist(doctor, "2026-06-25", "due", q10, 50);
        ids = ids_of(items);
        assert_string_equal(ids, want);
        free(ids);
        json_decref(items);
        items = worklist(doctor, "2026-06-25", "due", q, 50);
        ids = ids_of(items);
        assert_string_equal(ids, want);
        free(ids);
        json_decref(items);
        free(want);
        free(q7);
        free(q10);
    }
    /* On the due day itself: due (within 0 days), not yet overdue. */
    {
        char *q0 = test_fmt("%s&within_days=0", q);
        items = worklist(doctor, "2026-07-01", "due", q0, 50);
        ids = ids_of(items);
        want = test_fmt("%lld", green);
        assert_string_equal(ids, want);
        free(ids);
        free(want);
        json_decref(items);
        items = worklist(doctor, "2026-07-01", "overdue", q, 50);
        assert_null(find_item(items, green));
        assert_int_equal(json_array_size(items), 3);
        json_decref(items);
        free(q0);
    }

    /* Narrowed to a village, a grid, another village; outside the area: 400. */
    {
        char *qv = test_fmt("%s&org_unit_id=%s", q, village),
             *qg = test_fmt("%s&org_unit_id=%s", q, g02),
             *qq = test_fmt("%s&org_unit_id=%s", q, qy_g01);
        items = worklist(doctor, "2026-08-01", "overdue", qv, 50);
        ids = ids_of(items);
        want = test_fmt("%lld,%lld,%lld,%lld", red, orange, y1, y2);
        assert_string_equal(ids, want);
        free(ids);
        free(want);
        json_decref(items);
        items = worklist(doctor, "2026-08-01", "overdue", qg, 50);
        ids = ids_of(items);
        want = test_fmt("%lld", y2);
        assert_string_equal(ids, want);
        free(ids);
        free(want);
        json_decref(items);
        items = worklist(doctor, "2026-08-01", "overdue", qq, 50);
        ids = ids_of(items);
        want = test_fmt("%lld", green);
        assert_string_equal(ids, want);
        free(ids);
        free(want);
        json_decref(items);
        free(qv);
        free(qg);
        free(qq);
    }
    {
        char *paths[] = {test_fmt("/api/v1/worklists/overdue?org_unit_id=%s", yl_grid),
                         test_fmt("/api/v1/worklists/due?org_unit_id=999999999"),
                         test_fmt("/api/v1/worklists/lost?org_unit_id=%s", yl_grid)};
        for (size_t i = 0; i < 3; i++) {
            r = test_call("2026-08-01", "GET", paths[i], doctor, NULL);
            http_assert_problem(r, 400, "org_unit_id");
            http_free(r);
            free(paths[i]);
        }
        /* The grid worker may not widen to the village above the grid. */
        paths[0] = test_fmt("/api/v1/worklists/overdue?org_unit_id=%s", village);
        r = test_call("2026-08-01", "GET", paths[0], grid1, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
        free(paths[0]);
    }

    /* Another doctor's list holds none of these. */
    {
        char *other = db_scalar("SELECT id FROM users WHERE username = 'tf.doctor2'", 0, NULL);
        char *qo = test_fmt("doctor_id=%s", other);
        items = worklist(doctor, "2026-08-01", "overdue", qo, 200);
        for (long long *p = (long long[]){red, orange, y1, y2, green, 0}; *p; p++)
            assert_null(find_item(items, *p));
        json_decref(items);
        free(qo);
        free(other);
    }

    /* Each grid worker sees only their own grid. */
    items = worklist(grid1, "2026-08-01", "overdue", q, 50);
    ids = ids_of(items);
    want = test_fmt("%lld,%lld,%lld", red, orange, y1);
    assert_string_equal(ids, want);
    free(ids);
    free(want);
    json_decref(items);
    items = worklist(grid1, "2026-08-01", "overdue", NULL, 200);
    {
        const json_t *it;
        size_t i;
        json_array_foreach(items, i, it)
            assert_int_equal(test_jint(it, "org_unit_id"), strtoll(g01, NULL, 10));
        assert_non_null(find_item(items, red));
        assert_null(find_item(items, y2));
        assert_null(find_item(items, green));
    }
    json_decref(items);
    items = worklist(grid2, "2026-08-01", "overdue", q, 50);
    ids = ids_of(items);
    want = test_fmt("%lld", green);
    assert_string_equal(ids, want);
    free(ids);
    free(want);
    json_decref(items);

    /* Civil affairs do not see risk or colour on the list. */
    items = worklist(civil, "2026-08-01", "overdue", q, 50);
    assert_int_equal(json_array_size(items), 5);
    {
        const json_t *it;
        size_t i;
        json_array_foreach(items, i, it)
        {
            const json_t *c = json_object_get(it, "colour"), *k = json_object_get(it, "risk_level");
            assert_true(c == NULL || json_is_null(c));
            assert_true(k == NULL || json_is_null(k));
        }
    }
    json_decref(items);

    /* Annual health checks: a year after registration (2027-03-20). */
    {
        char *q14 = test_fmt("%s&within_days=14", q), *q7 = test_fmt("%s&within_days=7", q);
        items = worklist(doctor, "2027-03-10", "health-checks", q14, 50);
        assert_int_equal(json_array_size(items), 5);
        assert_string_equal(test_jstr(find_item(items, green), "due"), "2027-03-20");
        json_decref(items);
        items = worklist(doctor, "2027-03-10", "health-checks", q7, 50);
        assert_int_equal(json_array_size(items), 0);
        json_decref(items);
        r = test_call("2027-03-10", "GET", "/api/v1/worklists/health-checks", police, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        free(q14);
        free(q7);
    }
    free(q);
    free(doc_id);
    free(uname);
}

static void worklists_bad_queries(void **state_)
{
    static const struct {
        const char *query, *field;
    } cases[] = {
        {"within_days=-1", "within_days"},
        {"within_days=367", "within_days"},
        {"within_days=abc", "within_days"},
        {"within_days=", "within_days"},
        {"within_days=7x", "within_days"},
        {"limit=0", "limit"},
        {"limit=201", "limit"},
        {"limit=abc", "limit"},
        {"cursor=garbage", "cursor"},
        {"cursor=dzE6OTl8MjAyNi0wMS0wMXwx", "cursor"},
        {"doctor_id=abc", "doctor_id"},
        {"doctor_id=-4", "doctor_id"},
        {"org_unit_id=abc", "org_unit_id"},
        {"org_unit_id=0", "org_unit_id"},
    };
    const char *kinds[] = {"due", "overdue", "lost", "health-checks"};

    (void)state_;
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char *path = test_fmt("/api/v1/worklists/%s?%s", kinds[k], cases[i].query);
            http_res *r = test_call("2026-08-01", "GET", path, doctor, NULL);
            if (r->status != 400)
                fail_msg("%s: expected 400, got %ld %s", path, r->status, r->body);
            http_assert_problem(r, 400, cases[i].field);
            http_free(r);
            free(path);
        }
    /* No token: 401. */
    {
        http_res *r = http_do("GET", "/api/v1/worklists/overdue", NULL, NULL, NULL);
        http_assert_problem(r, 401, NULL);
        http_free(r);
    }
}

/* ---- risk assessments ------------------------------------------------------- */

/* [R-RISK-1, R-RISK-2] */
static void risk_assessment_tiers_and_the_current_level(void **state_)
{
    long long pid = create_patient("险", g01, "2025-12-01", "2025-11-01");
    http_res *r;
    json_t *items;

    (void)state_;
    add_guardian(pid, "2025-12-01");
    r = assess(doctor, pid, "2026-01-10",
               "{\"assessed_on\":\"2026-01-10\",\"level\":2,\"tier\":\"city\",\"basis\":"
               "\"市精卫中心综合评估\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 2);
    http_free(r);
    /* A later community assessment does not beat the city's. */
    r = assess(doctor, pid, "2026-02-01",
               "{\"assessed_on\":\"2026-02-01\",\"level\":0,\"tier\":\"community\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 2);
    http_free(r);
    /* Nor does a follow-up's own (community) risk level. */
    http_free(visit(pid, "2026-02-05", form("2026-02-05", NULL)));
    r = state(pid);
    expect_int(r, r->json, "risk_level", 2);
    http_free(r);
    /* Nor a later township review. */
    r = assess(doctor, pid, "2026-02-10",
               "{\"assessed_on\":\"2026-02-10\",\"level\":1,\"tier\":\"township\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 2);
    http_free(r);
    /* A later city assessment wins: level 3 makes the patient red. */
    r = assess(doctor, pid, "2026-03-01",
               "{\"assessed_on\":\"2026-03-01\",\"level\":3,\"tier\":\"city\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 3);
    expect_str(r, r->json, "colour", "red");
    assert_true(list_has(r->json, "colour_reasons", "risk_level"));
    assert_true(list_has(r->json, "key_flags", "risk_3_plus"));
    http_free(r);
    r = state(pid);
    expect_int(r, r->json, "risk_level", 3);
    expect_str(r, r->json, "colour", "red");
    expect_list(r, r->json, "key_flags", "risk_3_plus");
    /* Red caps the interval at a month, joint: 2026-02-05 + 1 month. */
    expect_str(r, r->json, "next_due", "2026-03-05");
    expect_bool(r, r->json, "next_due_joint", 1);
    http_free(r);
    /* Back to 1 at the city: no longer red, but risk ≥ 3 once stays a flag. */
    r = assess(doctor, pid, "2026-03-10",
               "{\"assessed_on\":\"2026-03-10\",\"level\":1,\"tier\":\"city\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 1);
    expect_str(r, r->json, "colour", "yellow");
    assert_true(list_has(r->json, "key_flags", "risk_3_plus"));
    http_free(r);

    /* Listed newest first, with who assessed. */
    r = get(doctor, NULL, "/risk-assessments", pid);
    assert_int_equal(r->status, 200);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 6);
    assert_string_equal(test_jstr(json_array_get(items, 0), "assessed_on"), "2026-03-10");
    assert_string_equal(test_jstr(json_array_get(items, 0), "tier"), "city");
    assert_int_equal(test_jint(json_array_get(items, 0), "level"), 1);
    assert_string_equal(test_jstr(json_array_get(items, 0), "user_name"), "王秀兰");
    assert_string_equal(test_jstr(json_array_get(items, 2), "assessed_on"), "2026-02-10");
    assert_string_equal(test_jstr(json_array_get(items, 3), "assessed_on"), "2026-02-05");
    assert_true(test_jint(json_array_get(items, 3), "follow_up_id") > 0);
    assert_string_equal(test_jstr(json_array_get(items, 5), "basis"), "市精卫中心综合评估");
    http_free(r);
}

/* R-RISK-1, R-RISK-2: a level stays until reviewed by the same or a higher
 * tier, however old it is; age alone never lowers a danger. [R-RISK-2] */
static void city_level_stays_until_reviewed(void **state_)
{
    long long pid = create_patient("旧", g01, "2024-12-01", "2024-11-01");
    http_res *r;

    (void)state_;
    r = assess(doctor, pid, "2025-01-10",
               "{\"assessed_on\":\"2025-01-10\",\"level\":3,\"tier\":\"city\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 3);
    http_free(r);
    r = assess(doctor, pid, "2025-06-01",
               "{\"assessed_on\":\"2025-06-01\",\"level\":1,\"tier\":\"community\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 3);
    http_free(r);
    r = assess(doctor, pid, "2026-03-01",
               "{\"assessed_on\":\"2026-02-20\",\"level\":1,\"tier\":\"township\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 3); /* over a year old, still the city's */
    http_free(r);
    r = assess(doctor, pid, "2026-03-05",
               "{\"assessed_on\":\"2026-03-05\",\"level\":1,\"tier\":\"city\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 1); /* reviewed by the city */
    assert_true(list_has(r->json, "key_flags", "risk_3_plus"));
    http_free(r);
}

static void risk_assessment_bad_inputs_and_access(void **state_)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"assessed_on\":\"2026-02-01\",\"level\":6,\"tier\":\"city\"}", "level"},
        {"{\"assessed_on\":\"2026-02-01\",\"level\":-1,\"tier\":\"city\"}", "level"},
        {"{\"assessed_on\":\"2026-02-01\",\"level\":\"2\",\"tier\":\"city\"}", "level"},
        {"{\"assessed_on\":\"2026-02-01\",\"tier\":\"city\"}", "level"},
        {"{\"assessed_on\":\"2026-02-01\",\"level\":2,\"tier\":\"province\"}", "tier"},
        {"{\"assessed_on\":\"2026-02-01\",\"level\":2}", "tier"},
        {"{\"assessed_on\":\"2026-02-02\",\"level\":2,\"tier\":\"city\"}", "assessed_on"},
        {"{\"assessed_on\":\"2026-02-30\",\"level\":2,\"tier\":\"city\"}", "assessed_on"},
        {"{\"level\":2,\"tier\":\"city\"}", "assessed_on"},
        {"{\"assessed_on\":\"2026-02-01\",\"level\":2,\"tier\":\"city\",\"by\":\"me\"}", "by"},
    };
    long long pid = create_patient("评", g01, "2026-01-05", "2025-12-01");
    long before = count_where("risk_assessments", pid);
    char *path = test_fmt("/api/v1/patients/%lld/risk-assessments", pid);
    http_res *r;

    (void)state_;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = assess(doctor, pid, "2026-02-01", cases[i].body);
        if (r->status != 400)
            fail_msg("case %zu: expected 400, got %ld %s", i, r->status, r->body);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
    }
    assert_int_equal(count_where("risk_assessments", pid), before);

    /* Police see the risk, not the clinical record; nobody but clinicians
     * assesses. */
    {
        const char *body = "{\"assessed_on\":\"2026-02-01\",\"level\":4,\"tier\":\"township\"}";
        const char *who[] = {police, civil, grid1, official};
        for (size_t i = 0; i < 4; i++) {
            r = test_call("2026-02-01", "POST", path, who[i], body);
            http_assert_problem(r, 403, NULL);
            http_free(r);
        }
        r = test_call("2026-02-01", "POST", path, yl_doctor, body);
        http_assert_problem(r, 404, NULL);
        http_free(r);
    }
    assert_int_equal(count_where("risk_assessments", pid), before);
    {
        const char *paths[] = {"/follow-ups", "/risk-assessments"};
        for (size_t i = 0; i < 2; i++) {
            r = get(police, NULL, paths[i], pid);
            http_assert_problem(r, 403, NULL);
            http_free(r);
            r = get(civil, NULL, paths[i], pid);
            http_assert_problem(r, 403, NULL);
            http_free(r);
            r = get(official, NULL, paths[i], pid);
            assert_int_equal(r->status, 200);
            http_free(r);
            r = get(yl_doctor, NULL, paths[i], pid);
            http_assert_problem(r, 404, NULL);
            http_free(r);
        }
    }
    /* clinical-state asks only to read the patient: police see their risk
     * and colour. */
    r = get(police, NULL, "/clinical-state", pid);
    assert_int_equal(r->status, 200);
    assert_non_null(json_object_get(r->json, "risk_level"));
    assert_non_null(test_jstr(r->json, "colour"));
    assert_non_null(test_jstr(r->json, "next_due"));
    http_free(r);
    r = get(yl_doctor, NULL, "/clinical-state", pid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Civil affairs do not see risk (their view hides it, as on the
     * worklists): refused, or shown without risk, colour or class. */
    r = assess(doctor, pid, "2026-02-01",
               "{\"assessed_on\":\"2026-02-01\",\"level\":3,\"tier\":\"township\"}");
    assert_int_equal(r->status, 201);
    http_free(r);
    r = get(civil, NULL, "/clinical-state", pid);
    if (r->status == 200) {
        const char *hidden[] = {"risk_level", "colour", "colour_reasons", "last_class"};
        for (size_t i = 0; i < 4; i++) {
            json_t *v = json_object_get(r->json, hidden[i]);
            if (v != NULL && !json_is_null(v))
                fail_msg("civil affairs see %s in clinical-state: %s", hidden[i], r->body);
        }
    } else {
        http_assert_problem(r, 403, NULL);
    }
    http_free(r);
    free(path);
}

/* ---- bad follow-up forms -------------------------------------------------- */

static void bad_followup_forms_write_nothing(void **state_)
{
    static const struct {
        const char *over, *field;
    } cases[] = {
        {"{\"visit_date\":null}", "visit_date"},
        {"{\"mode\":null}", "mode"},
        {"{\"reached\":null}", "reached"},
        {"{\"visit_date\":\"2026-03-02\"}", "visit_date"}, /* tomorrow */
        {"{\"visit_date\":\"2026-02-30\"}", "visit_date"},
        {"{\"visit_date\":\"01/03/2026\"}", "visit_date"},
        {"{\"mode\":\"sms\"}", "mode"},
        {"{\"informant\":\"neighbour\"}", "informant"},
        {"{\"reached\":\"yes\"}", "reached"},
        {"{\"risk_level\":null}", "risk_level"},
        {"{\"risk_level\":6}", "risk_level"},
        {"{\"risk_level\":-1}", "risk_level"},
        {"{\"insight\":null}", "insight"},
        {"{\"insight\":\"good\"}", "insight"},
        {"{\"compliance\":null}", "compliance"},
        {"{\"compliance\":\"sometimes\"}", "compliance"},
        {"{\"social_function\":null}", "social_function"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"good\"}}",
         "social_function"},
        {"{\"social_function\":{\"personal_care\":\"excellent\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"good\",\"social_contact\":\"good\"}}",
         "social_function"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"good\",\"social_contact\":\"good\",\"sports\":\"good\"}}",
         "social_function"},
        {"{\"social_function\":{\"personal_care\":\"na\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"good\",\"social_contact\":\"good\"}}",
         "social_function"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"na\",\"work\":"
         "\"good\",\"learning\":\"good\",\"social_contact\":\"good\"}}",
         "social_function"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"na\",\"social_contact\":\"good\"}}",
         "social_function"},
        {"{\"social_function\":{\"personal_care\":\"good\",\"housework\":\"good\",\"work\":"
         "\"good\",\"learning\":\"good\",\"social_contact\":\"na\"}}",
         "social_function"},
        {"{\"social_function\":\"good\"}", "social_function"},
        {"{\"symptoms\":[\"flying\"]}", "symptoms"},
        {"{\"symptoms\":[\"hallucination\",7]}", "symptoms"},
        {"{\"symptoms\":\"hallucination\"}", "symptoms"},
        {"{\"sleep\":\"excellent\"}", "sleep"},
        {"{\"lock_up\":\"chained\"}", "lock_up"},
        {"{\"medications\":[{\"morning\":1}]}", "medications"},
        {"{\"medications\":[{\"drug\":\"\"}]}", "medications"},
        {"{\"medications\":[{\"drug\":\"利培酮\",\"long_acting\":true,\"dose_mg\":25}]}",
         "medications"},
        {"{\"medications\":[{\"drug\":\"棕榈酸帕利哌酮\",\"long_acting\":true,"
         "\"every_weeks\":4}]}",
         "medications"},
        {"{\"medications\":[{\"drug\":\"利培酮\",\"morning\":-1}]}", "medications"},
        {"{\"medications\":[{\"drug\":\"利培酮\",\"colour\":\"red\"}]}", "medications"},
        {"{\"medications\":{\"drug\":\"利培酮\"}}", "medications"},
        {"{\"dangerous_acts\":{\"arson\":1}}", "dangerous_acts"},
        {"{\"dangerous_acts\":{\"trouble\":-1}}", "dangerous_acts"},
        {"{\"dangerous_acts\":{\"self_harm\":\"2\"}}", "dangerous_acts"},
        {"{\"dangerous_acts\":[\"trouble\"]}", "dangerous_acts"},
        {"{\"discharged_on\":\"2026-02-01\"}", "discharged_on"},
        {"{\"hospitalisation\":\"discharged\",\"discharged_on\":\"2026-03-05\"}", "discharged_on"},
        {"{\"unreached_reason\":\"out_for_work\"}", "unreached_reason"},
        {"{\"died\":true,\"death_cause\":\"illness\"}", "death_date"},
        {"{\"died\":true,\"death_date\":\"2026-02-20\"}", "death_cause"},
        {"{\"died\":true,\"death_date\":\"2026-03-05\",\"death_cause\":\"illness\"}", "death_date"},
        {"{\"died\":true,\"death_date\":\"2026-02-20\",\"death_cause\":\"old_age\"}",
         "death_cause"},
        {"{\"death_date\":\"2026-02-20\"}", "death_date"},
        {"{\"death_cause\":\"illness\"}", "death_cause"},
        {"{\"rehabilitation\":[\"swimming\"]}", "rehabilitation"},
        {"{\"joint_with\":[\"army\"]}", "joint_with"},
        {"{\"treatment_effect\":\"great\"}", "treatment_effect"},
        {"{\"adverse_reaction\":\"maybe\"}", "adverse_reaction"},
        {"{\"adverse_serious\":\"yes\"}", "adverse_serious"},
        {"{\"foo\":1}", "foo"},
        {"{\"class\":\"stable\"}", "class"},
        {"{\"next_due\":\"2026-06-01\"}", "next_due"},
    };
    /* Forms of a visit that did not reach the patient. */
    static const struct {
        const char *body, *field;
    } unreached[] = {
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false}", "unreached_reason"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"holiday\"}",
         "unreached_reason"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"moved\",\"risk_level\":1}",
         "risk_level"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"moved\",\"insight\":\"partial\"}",
         "insight"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"moved\",\"symptoms\":[\"hallucination\"]}",
         "symptoms"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"moved\",\"compliance\":\"regular\"}",
         "compliance"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"moved\",\"social_function\":{\"personal_care\":\"good\"}}",
         "social_function"},
        {"{\"visit_date\":\"2026-03-01\",\"mode\":\"home\",\"reached\":false,"
         "\"unreached_reason\":\"moved\",\"medications\":[{\"drug\":\"利培酮\"}]}",
         "medications"},
    };
    long long pid = create_patient("错", g01, "2026-01-05", "2025-12-01");
    long fus = count_where("follow_ups", pid), ras = count_where("risk_assessments", pid);
    long events = count_where("patient_events", pid);
    char *version, idtxt[32];
    const char *p[] = {idtxt};
    http_res *r;

    (void)state_;
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    version = db_scalar("SELECT version || '/' || coalesce(next_due::text, '-') FROM patients"
                        " WHERE id = $1",
                        1, p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = form("2026-03-01", cases[i].over);
        r = post_fu(doctor, pid, "2026-03-01", body);
        if (r->status != 400)
            fail_msg("case %zu (%s): expected 400, got %ld %s", i, cases[i].over, r->status,
                     r->body);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
        free(body);
        assert_int_equal(count_where("follow_ups", pid), fus);
    }
    for (size_t i = 0; i < sizeof(unreached) / sizeof(unreached[0]); i++) {
        r = post_fu(doctor, pid, "2026-03-01", unreached[i].body);
        if (r->status != 400)
            fail_msg("unreached case %zu: expected 400, got %ld %s", i, r->status, r->body);
        http_assert_problem(r, 400, unreached[i].field);
        http_free(r);
    }
    /* Not JSON, not an object. */
    {
        const char *bodies[] = {"{\"visit_date\":", "[]", "\"visit\""};
        for (size_t i = 0; i < 3; i++) {
            r = post_fu(doctor, pid, "2026-03-01", bodies[i]);
            if (r->status != 400)
                fail_msg("body %zu: expected 400, got %ld %s", i, r->status, r->body);
            http_assert_problem(r, 400, NULL);
            http_free(r);
        }
    }
    assert_int_equal(count_where("follow_ups", pid), fus);
    assert_int_equal(count_where("risk_assessments", pid), ras);
    assert_int_equal(count_where("patient_events", pid), events);
    {
        char *now = db_scalar("SELECT version || '/' || coalesce(next_due::text, '-') FROM"
                              " patients WHERE id = $1",
                              1, p);
        assert_string_equal(now, version);
        free(now);
    }
    /* The base form itself is good, with every optional part filled. */
    r = visit(pid, "2026-03-01",
              form("2026-03-01",
                   "{\"sleep\":\"fair\",\"lock_up\":\"none\",\"hospitalisation\":\"discharged\","
                   "\"discharged_on\":\"2026-02-20\",\"lab_tests\":\"血常规正常\","
                   "\"adverse_reaction\":\"no\",\"treatment_effect\":\"improved\","
                   "\"referral\":false,\"medications\":[{\"drug\":\"利培酮\",\"morning\":1,"
                   "\"evening\":2,\"unit\":\"mg\"},{\"drug\":\"棕榈酸帕利哌酮\","
                   "\"long_acting\":true,\"every_weeks\":4,\"dose_mg\":150}],"
                   "\"rehabilitation\":[\"life_skills\",\"social\"],\"dangerous_acts\":"
                   "{\"mild_trouble\":0,\"self_harm\":0},\"visitors\":\"王秀兰\","
                   "\"joint_visit\":true,\"joint_with\":[\"police\",\"village_cadre\"],"
                   "\"note\":\"情况稳定\"}"));
    expect_str(r, r->json, "hospitalisation", "discharged");
    expect_str(r, r->json, "discharged_on", "2026-02-20");
    expect_bool(r, r->json, "joint_visit", 1);
    expect_list(r, r->json, "joint_with", "police,village_cadre");
    expect_list(r, r->json, "rehabilitation", "life_skills,social");
    assert_int_equal(json_array_size(json_object_get(r->json, "medications")), 2);
    expect_str(r, json_object_get(r->json, "social_function"), "work", "na");
    expect_str(r, r->json, "computed_class", "stable");
    http_free(r);
    assert_int_equal(count_where("follow_ups", pid), fus + 1);
    free(version);
}

static void followup_access_by_role_and_status(void **state_)
{
    long long mine = create_patient("格一", g01, "2026-01-05", "2025-12-01");
    long long other = create_patient("格二", g02, "2026-01-05", "2025-12-01");
    long long fid;
    char *body = form("2026-02-01", NULL), *sql;
    http_res *r;

    (void)state_;
    /* The doctor records the national form; the grid worker, even of the
     * patient's own grid, records a 走访 instead (R-VISIT-2). */
    r = post_fu(doctor, mine, "2026-02-01", body);
    assert_int_equal(r->status, 201);
    fid = test_jint(r->json, "id");
    sql = test_fmt("SELECT count(*) FROM follow_ups f JOIN users u ON u.id = f.user_id WHERE"
                   " f.id = %lld AND u.username = 'tf.doctor'",
                   fid);
    assert_int_equal(db_count(sql, 0, NULL), 1);
    free(sql);
    http_free(r);
    r = post_fu(grid1, mine, "2026-02-01", body);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    /* Another grid's patient does not exist for a grid worker. */
    r = get(grid1, NULL, "/follow-ups", other);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Roles without the follow-up capability; another township. */
    {
        const char *forbidden[] = {civil, police, official};
        for (size_t i = 0; i < 3; i++) {
            r = post_fu(forbidden[i], mine, "2026-02-01", body);
            http_assert_problem(r, 403, NULL);
            http_free(r);
        }
    }
    r = post_fu(yl_doctor, mine, "2026-02-01", body);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = post_fu(NULL, mine, "2026-02-01", body);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    assert_int_equal(count_where("follow_ups", mine), 1);
    assert_int_equal(count_where("follow_ups", other), 0);

    /* A suspected person is not followed up until diagnosed. */
    {
        char *rep = test_fmt("{\"name\":\"随访%s疑\",\"address\":\"梅苑路3号\",\"report_note\":"
                             "\"自言自语\",\"org_unit_id\":%s}",
                             cn_unique, g01);
        long long sid;
        r = test_call("2026-01-20", "POST", "/api/v1/suspected-reports", grid1, rep);
        assert_int_equal(r->status, 201);
        sid = test_jint(r->json, "id");
        http_free(r);
        r = post_fu(doctor, sid, "2026-02-01", body);
        http_assert_problem(r, 409, NULL);
        http_free(r);
        r = assess(doctor, sid, "2026-02-01",
                   "{\"assessed_on\":\"2026-02-01\",\"level\":1,\"tier\":\"community\"}");
        http_assert_problem(r, 409, NULL);
        http_free(r);
        assert_int_equal(count_where("follow_ups", sid), 0);
        assert_int_equal(count_where("risk_assessments", sid), 0);
        free(rep);
    }
    /* Unknown patients. */
    r = post_fu(doctor, 999999999, "2026-02-01", body);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(body);
}

static void followups_read_back_and_page(void **state_)
{
    long long pid = create_patient("读", g01, "2026-01-05", "2025-12-01");
    long long other = create_patient("读他", g01, "2026-01-05", "2025-12-01");
    long long ids[3];
    const char *dates[] = {"2026-01-10", "2026-01-24", "2026-02-07"};
    char *path, *seen = strdup("");
    http_res *r, *one;
    json_t *items;

    (void)state_;
    for (int i = 0; i < 3; i++) {
        r = visit(pid, dates[i], form(dates[i], i == 1 ? "{\"risk_level\":1}" : NULL));
        ids[i] = test_jint(r->json, "id");
        if (i == 2) {
            /* The one recorded reads back the same. */
            one = get(official, NULL, "/follow-ups", pid);
            assert_int_equal(one->status, 200);
            http_free(one);
            path = test_fmt("/api/v1/patients/%lld/follow-ups/%lld", pid, ids[i]);
            one = test_call(NULL, "GET", path, doctor, NULL);
            assert_int_equal(one->status, 200);
            assert_true(json_equal(one->json, r->json));
            http_free(one);
            free(path);
        }
        http_free(r);
    }
    /* Newest first, one per page. */
    {
        char *cursor = NULL;
        for (int page = 0; page < 4; page++) {
            char *n;
            path = test_fmt("/api/v1/patients/%lld/follow-ups?limit=1%s%s", pid,
                            cursor ? "&cursor=" : "", cursor ? cursor : "");
            r = test_call(NULL, "GET", path, doctor, NULL);
            assert_int_equal(r->status, 200);
            items = json_object_get(r->json, "items");
            free(cursor);
            cursor = json_is_string(json_object_get(r->json, "next_cursor"))
                         ? strdup(test_jstr(r->json, "next_cursor"))
                         : NULL;
            if (json_array_size(items) == 1) {
                n = test_fmt("%s%s%lld", seen, *seen ? "," : "",
                             test_jint(json_array_get(items, 0), "id"));
                free(seen);
                seen = n;
            }
            http_free(r);
            free(path);
            if (cursor == NULL)
                break;
        }
        free(cursor);
        path = test_fmt("%lld,%lld,%lld", ids[2], ids[1], ids[0]);
        assert_string_equal(seen, path);
        free(path);
    }
    /* Not through another patient, nor a number that is not one. */
    path = test_fmt("/api/v1/patients/%lld/follow-ups/%lld", other, ids[0]);
    r = test_call(NULL, "GET", path, doctor, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(path);
    path = test_fmt("/api/v1/patients/%lld/follow-ups/abc", pid);
    r = test_call(NULL, "GET", path, doctor, NULL);
    assert_int_equal(r->status, 404);
    http_free(r);
    free(path);
    path = test_fmt("/api/v1/patients/%lld/follow-ups?limit=0", pid);
    r = test_call(NULL, "GET", path, doctor, NULL);
    http_assert_problem(r, 400, "limit");
    http_free(r);
    free(path);
    path = test_fmt("/api/v1/patients/%lld/follow-ups?cursor=zzz", pid);
    r = test_call(NULL, "GET", path, doctor, NULL);
    http_assert_problem(r, 400, "cursor");
    http_free(r);
    free(path);
    free(seen);
}

/* ---- safety of the clinical rules (R-RISK-1, R-RISK-2, R-VISIT-2,
 * R-LOST-1, R-LOST-4, the notifications they raise) ----------------------------- */

/* Notifications of kind for the patient that reached an agency of
 * agency_kind (NULL: any recipient). */
static long notified(long long pid, const char *kind, const char *agency_kind)
{
    char idtxt[32];
    const char *p[] = {idtxt, kind, agency_kind};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM notifications n WHERE n.patient_id = $1"
                    " AND n.kind = $2 AND ($3::text IS NULL OR EXISTS (SELECT 1"
                    " FROM notification_recipients r JOIN agencies a ON a.id = r.agency_id"
                    " WHERE r.notification_id = n.id AND a.kind = $3))",
                    3, p);
}

static void expect_risk(long long pid, long long want)
{
    http_res *r = state(pid);

    expect_int(r, r->json, "risk_level", want);
    http_free(r);
}

/* docs/domain.md's four rows, played through the API, and the police told at
 * once of the raise; the police see the level that is in force. [R-RISK-1, R-RISK-2] */
static void current_risk_is_safety_first(void **state_)
{
    long long pid = create_patient("安", g01, "2026-01-05", "2025-12-01");
    http_res *r;

    (void)state_;
    add_guardian(pid, "2026-01-05");
    /* community 4 two days after township 1 → 4, and risk_high at once. */
    http_free(assess(doctor, pid, "2026-02-01",
                     "{\"assessed_on\":\"2026-02-01\",\"level\":1,\"tier\":\"township\"}"));
    assert_int_equal(notified(pid, "risk_high", "police_station"), 0);
    r = assess(doctor, pid, "2026-02-03",
               "{\"assessed_on\":\"2026-02-03\",\"level\":4,\"tier\":\"community\"}");
    assert_int_equal(r->status, 201);
    expect_int(r, r->json, "risk_level", 4);
    expect_str(r, r->json, "colour", "red");
    http_free(r);
    assert_int_equal(notified(pid, "risk_high", "police_station"), 1);
    assert_int_equal(notified(pid, "risk_high", "stability_office"), 1);
    assert_int_equal(notified(pid, "risk_high", "clinic"), 1);
    r = get(police, "2026-02-03", "", pid);
    assert_int_equal(r->status, 200);
    expect_int(r, r->json, "risk_level", 4);
    http_free(r);
    /* township 1 after community 4 → 1. */
    http_free(assess(doctor, pid, "2026-02-10",
                     "{\"assessed_on\":\"2026-02-10\",\"level\":1,\"tier\":\"township\"}"));
    expect_risk(pid, 1);
    /* community 1 after township 3 → 3. */
    http_free(assess(doctor, pid, "2026-02-20",
                     "{\"assessed_on\":\"2026-02-20\",\"level\":3,\"tier\":\"township\"}"));
    http_free(assess(doctor, pid, "2026-02-22",
                     "{\"assessed_on\":\"2026-02-22\",\"level\":1,\"tier\":\"community\"}"));
    expect_risk(pid, 3);
    /* phone visit 0 after 3 → 3: a phone call can raise, never lower. */
    http_free(visit(pid, "2026-03-01",
                    form("2026-03-01", "{\"mode\":\"phone\",\"informant\":\"patient\"}")));
    expect_risk(pid, 3);
    /* Nor can a phone assessment by the doctor of the same tier. */
    http_free(assess(doctor, pid, "2026-03-02",
                     "{\"assessed_on\":\"2026-03-02\",\"level\":0,\"tier\":\"township\","
                     "\"face_to_face\":false}"));
    expect_risk(pid, 3);
    /* Every assessment, a visit's too, is pushed to 综治中心 and police. */
    assert_true(notified(pid, "risk_assessment", "stability_office") >= 6);
    assert_true(notified(pid, "risk_assessment", "police_station") >= 6);
}

/* A phone call or a family-only visit never clears a danger: an unstable,
 * red patient stays so, and keeps the due date of the last 面访. [R-VISIT-2, R-RISK-2] */
static void remote_visit_never_lowers(void **state_)
{
    long long pid = create_patient("话", g01, "2026-01-05", "2025-12-01");
    http_res *r, *s;
    char *due;

    (void)state_;
    add_guardian(pid, "2026-01-05");
    http_free(visit(pid, "2026-02-01",
                    form("2026-02-01", "{\"risk_level\":3,\"joint_visit\":true,"
                                       "\"joint_with\":[\"police\",\"village_cadre\"]}")));
    s = state(pid);
    expect_str(s, s->json, "last_class", "unstable");
    expect_str(s, s->json, "colour", "red");
    expect_str(s, s->json, "last_face_to_face_on", "2026-02-01");
    due = strdup(test_jstr(s->json, "next_due"));
    http_free(s);
    /* The family on the phone says all is well. */
    r = visit(pid, "2026-02-10",
              form("2026-02-10", "{\"mode\":\"phone\",\"informant\":\"family\"}"));
    expect_str(r, r->json, "class", "stable");
    http_free(r);
    s = state(pid);
    expect_str(s, s->json, "last_class", "unstable");
    expect_str(s, s->json, "colour", "red");
    expect_int(s, s->json, "risk_level", 3);
    expect_str(s, s->json, "next_due", due);
    expect_str(s, s->json, "last_reached_on", "2026-02-01");
    expect_str(s, s->json, "last_face_to_face_on", "2026-02-01");
    http_free(s);
    /* A home visit where only the family was seen is no 面访 either. */
    http_free(visit(pid, "2026-02-12",
                    form("2026-02-12", "{\"mode\":\"home\",\"informant\":\"family\"}")));
    s = state(pid);
    expect_str(s, s->json, "last_class", "unstable");
    http_free(s);
    /* Seen in person and well: the doctor clears it. */
    http_free(visit(pid, "2026-02-15", form("2026-02-15", NULL)));
    s = state(pid);
    expect_str(s, s->json, "last_class", "stable");
    expect_int(s, s->json, "risk_level", 0);
    expect_str(s, s->json, "last_face_to_face_on", "2026-02-15");
    http_free(s);
    free(due);
}

/* A joint visit must be 面访; the national form is the doctor's. [R-VISIT-3, R-VISIT-4] */
static void joint_visit_is_face_to_face_and_form_is_the_doctors(void **state_)
{
    long long pid = create_patient("联", g01, "2026-01-05", "2025-12-01");
    long before = 0;
    http_res *r;
    char *b;

    (void)state_;
    before = count_where("follow_ups", pid);
    b = form("2026-02-01", "{\"mode\":\"phone\",\"joint_visit\":true}");
    r = post_fu(doctor, pid, "2026-02-01", b);
    http_assert_problem(r, 400, "joint_visit");
    http_free(r);
    free(b);
    b = form("2026-02-01", "{\"informant\":\"family\",\"joint_visit\":true}");
    r = post_fu(doctor, pid, "2026-02-01", b);
    http_assert_problem(r, 400, "joint_visit");
    http_free(r);
    /* A grid worker of the patient's own grid may not post the form. */
    r = post_fu(grid1, pid, "2026-02-01", b);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    free(b);
    assert_int_equal(count_where("follow_ups", pid), before);
}

/* 失访 on distinct cycles; found again only in person or by the police;
 * the lost notification reaches 综治中心 and the mental-health centre. [R-LOST-1, R-LOST-4] */
static void lost_counts_cycles_and_is_found_only_in_person(void **state_)
{
    long long pid = create_patient("寻", g01, "2026-01-05", "2025-12-01");
    http_res *r, *s;

    (void)state_;
    add_guardian(pid, "2026-01-05");
    http_free(visit(pid, "2026-01-10", form("2026-01-10", NULL)));
    /* Three unreached attempts within two days count once. */
    http_free(visit(pid, "2026-04-12", missed("2026-04-12", "out_for_work")));
    http_free(visit(pid, "2026-04-13", missed("2026-04-13", "other")));
    http_free(visit(pid, "2026-04-14", missed("2026-04-14", "missing")));
    expect_status(pid, "in_care");
    s = state(pid);
    expect_int(s, s->json, "misses", 1);
    http_free(s);
    assert_int_equal(notified(pid, "lost", NULL), 0);
    /* A week after the one that counted, and another: lost, two weeks on. */
    http_free(visit(pid, "2026-04-19", missed("2026-04-19", "missing")));
    expect_status(pid, "in_care");
    http_free(visit(pid, "2026-04-26", missed("2026-04-26", "missing")));
    expect_status(pid, "lost");
    assert_int_equal(notified(pid, "lost", "police_station"), 1);
    assert_int_equal(notified(pid, "lost", "stability_office"), 1);
    assert_int_equal(notified(pid, "lost", "mental_health_centre"), 1);
    assert_int_equal(notified(pid, "lost", "village_committee"), 1);
    /* The family on the phone: still lost. */
    http_free(visit(pid, "2026-04-28",
                    form("2026-04-28", "{\"mode\":\"phone\",\"informant\":\"family\"}")));
    expect_status(pid, "lost");
    /* Nor does a doctor's status change bring the patient back. */
    r = test_call("2026-04-29", "POST", test_fmt("/api/v1/patients/%lld/status", pid), doctor,
                  "{\"status\":\"in_care\",\"date\":\"2026-04-29\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
    expect_status(pid, "lost");
    /* The police confirm where the patient is: back in care. Only the
     * police, and only a lost patient. */
    r = test_call("2026-04-30", "POST",
                  test_fmt("/api/v1/patients/%lld/whereabouts-confirmed", pid), doctor,
                  "{\"confirmed_on\":\"2026-04-30\",\"place\":\"武汉市汉阳区\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = test_call("2026-04-30", "POST",
                  test_fmt("/api/v1/patients/%lld/whereabouts-confirmed", pid), police,
                  "{\"confirmed_on\":\"2026-04-30\"}");
    http_assert_problem(r, 400, "place");
    http_free(r);
    expect_status(pid, "lost");
    r = test_call("2026-04-30", "POST",
                  test_fmt("/api/v1/patients/%lld/whereabouts-confirmed", pid), police,
                  "{\"confirmed_on\":\"2026-04-30\",\"place\":\"武汉市汉阳区\"}");
    assert_int_equal(r->status, 200);
    expect_str(r, r->json, "status", "in_care");
    http_free(r);
    expect_status(pid, "in_care");
    s = state(pid);
    expect_int(s, s->json, "misses", 0);
    http_free(s);
    r = test_call("2026-04-30", "POST",
                  test_fmt("/api/v1/patients/%lld/whereabouts-confirmed", pid), police,
                  "{\"confirmed_on\":\"2026-04-30\",\"place\":\"武汉市汉阳区\"}");
    http_assert_problem(r, 409, "status");
    http_free(r);
}

/* 走访: the grid worker's home check, keyed; a level it observes raises
 * the patient's at once; bad inputs and the wrong grid change nothing. [R-VISIT-4] */
static void home_check_by_the_grid_worker(void **state_)
{
    long long pid = create_patient("走", g01, "2026-01-05", "2025-12-01");
    long long other = create_patient("走他", qy_g01, "2026-01-05", "2025-12-01");
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"seen\":true,\"whereabouts\":\"at_home\",\"guardian_present\":true,"
         "\"abnormal\":false,\"hazards_checked\":true}",
         "checked_on"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"mars\","
         "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":true}",
         "whereabouts"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"out_for_work\","
         "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":true}",
         "whereabouts"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"at_home\","
         "\"guardian_present\":true,\"abnormal\":false,\"abnormal_signs\":[\"threats\"],"
         "\"hazards_checked\":true}",
         "abnormal_signs"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"at_home\","
         "\"guardian_present\":true,\"abnormal\":true,\"abnormal_signs\":[\"dancing\"],"
         "\"hazards_checked\":true}",
         "abnormal_signs"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"at_home\","
         "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":true,"
         "\"risk_level\":6}",
         "risk_level"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":false,\"whereabouts\":\"out_for_work\","
         "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":false,"
         "\"absence\":{\"kind\":\"work\"}}",
         "absence.destination"},
        {"{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"at_home\","
         "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":true,\"x\":1}",
         "x"},
    };
    const char *good = "{\"checked_on\":\"2026-02-01\",\"seen\":true,\"whereabouts\":\"at_home\","
                       "\"guardian_present\":true,\"abnormal\":true,\"abnormal_signs\":"
                       "[\"threats\",\"not_medicating\"],\"hazards_checked\":true,"
                       "\"hazards_found\":\"菜刀已由家属收起\",\"risk_level\":4,"
                       "\"note\":\"患者情绪激动，扬言报复邻居\"}";
    char *key = test_fmt("hc-%s", test_unique());
    http_res *r;

    (void)state_;
    add_guardian(pid, "2026-01-05");
    http_free(visit(pid, "2026-01-10", form("2026-01-10", NULL)));
    expect_risk(pid, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = test_call("2026-02-01", "POST", test_fmt("/api/v1/patients/%lld/home-checks", pid),
                      grid1, bad[i].body);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
    }
    assert_int_equal(count_where("home_checks", pid), 0);
    /* Not in this grid worker's grid: hidden. The police: no 走访 form. */
    r = test_call("2026-02-01", "POST", test_fmt("/api/v1/patients/%lld/home-checks", other),
                  grid1, good);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = test_call("2026-02-01", "POST", test_fmt("/api/v1/patients/%lld/home-checks", pid), civil,
                  good);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    assert_int_equal(count_where("home_checks", other), 0);
    /* Only a patient on the register is visited. */
    {
        char *rep = test_fmt("{\"name\":\"走访%s疑\",\"address\":\"梅苑路5号\",\"report_note\":"
                             "\"夜间吵闹\",\"org_unit_id\":%s}",
                             cn_unique, g01);
        long long sid;
        r = test_call("2026-01-20", "POST", "/api/v1/suspected-reports", grid1, rep);
        assert_int_equal(r->status, 201);
        sid = test_jint(r->json, "id");
        http_free(r);
        r = test_call("2026-02-01", "POST", test_fmt("/api/v1/patients/%lld/home-checks", sid),
                      grid1, good);
        http_assert_problem(r, 409, "status");
        http_free(r);
        assert_int_equal(count_where("home_checks", sid), 0);
        free(rep);
    }
    /* Recorded once however often the phone retries. */
    for (int i = 0; i < 2; i++) {
        r = test_post_keyed(grid1, pid, "home-checks", key, good, "2026-02-01");
        assert_int_equal(r->status, 201);
        expect_int(r, r->json, "risk_level", 4);
        expect_bool(r, r->json, "abnormal", 1);
        http_free(r);
    }
    assert_int_equal(count_where("home_checks", pid), 1);
    /* The grid worker's observation raised the level at once, and the
     * police station heard. */
    expect_risk(pid, 4);
    assert_int_equal(notified(pid, "risk_high", "police_station"), 1);
    /* A later home check saying all is calm does not lower it. */
    r = test_call("2026-02-05", "POST", test_fmt("/api/v1/patients/%lld/home-checks", pid), grid1,
                  "{\"checked_on\":\"2026-02-05\",\"seen\":true,\"whereabouts\":\"at_home\","
                  "\"guardian_present\":true,\"abnormal\":false,\"hazards_checked\":true,"
                  "\"risk_level\":0}");
    assert_int_equal(r->status, 201);
    http_free(r);
    expect_risk(pid, 4);
    /* The village cadre records them too; everyone in scope reads them. */
    r = get(police, NULL, "/home-checks", pid);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
    http_free(r);
    free(key);
}

/* A temporary absence of a patient at risk tells the police and the
 * mental-health centre at once; of a calm patient it is only recorded. [R-NOTE-3] */
static void temporary_absence_is_told_when_at_risk(void **state_)
{
    long long calm = create_patient("外稳", g01, "2026-01-05", "2025-12-01");
    long long risky = create_patient("外危", g01, "2026-01-05", "2025-12-01");
    const char *body = "{\"kind\":\"work\",\"destination\":\"广东省东莞市\","
                       "\"left_on\":\"2026-03-01\",\"expected_return\":\"2026-12-20\"}";
    http_res *r;

    (void)state_;
    http_free(visit(calm, "2026-02-01", form("2026-02-01", NULL)));
    http_free(visit(risky, "2026-02-01", form("2026-02-01", "{\"risk_level\":3}")));
    r = test_call("2026-03-02", "POST", test_fmt("/api/v1/patients/%lld/absences", calm), grid1,
                  body);
    assert_int_equal(r->status, 201);
    expect_bool(r, r->json, "notified", 0);
    http_free(r);
    assert_int_equal(notified(calm, "temporary_absence", NULL), 0);
    r = test_call("2026-03-02", "POST", test_fmt("/api/v1/patients/%lld/absences", risky), grid1,
                  body);
    assert_int_equal(r->status, 201);
    expect_bool(r, r->json, "notified", 1);
    expect_str(r, r->json, "destination", "广东省东莞市");
    http_free(r);
    assert_int_equal(notified(risky, "temporary_absence", "police_station"), 1);
    assert_int_equal(notified(risky, "temporary_absence", "mental_health_centre"), 1);
    /* Learnt at an unreached visit, it is recorded the same way. */
    r = post_fu(doctor, risky, "2026-03-20",
                "{\"visit_date\":\"2026-03-20\",\"mode\":\"home\",\"informant\":\"family\","
                "\"reached\":false,\"unreached_reason\":\"out_for_work\",\"absence\":"
                "{\"kind\":\"work\",\"destination\":\"浙江省义乌市\"}}");
    assert_int_equal(r->status, 201);
    http_free(r);
    assert_int_equal(notified(risky, "temporary_absence", "police_station"), 2);
    r = get(doctor, NULL, "/absences", risky);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "items"), 0),
                                  "reported_via"),
                        "follow_up");
    {
        long long aid = test_jint(json_array_get(json_object_get(r->json, "items"), 1), "id");
        char *back = test_fmt("/api/v1/patients/%lld/absences/%lld/return", risky, aid);
        char *none = test_fmt("/api/v1/patients/%lld/absences/%lld/return", calm, aid);
        http_free(r);
        r = test_call("2026-03-25", "POST", back, grid1, "{\"returned_on\":\"2026-02-01\"}");
        http_assert_problem(r, 400, "returned_on");
        http_free(r);
        r = test_call("2026-03-25", "POST", none, grid1, "{\"returned_on\":\"2026-03-25\"}");
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = test_call("2026-03-25", "POST", back, civil, "{\"returned_on\":\"2026-03-25\"}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = test_call("2026-03-25", "POST", back, grid1, "{\"returned_on\":\"2026-03-25\"}");
        assert_int_equal(r->status, 200);
        expect_str(r, r->json, "returned_on", "2026-03-25");
        http_free(r);
        r = test_call("2026-03-26", "POST", back, grid1, "{\"returned_on\":\"2026-03-26\"}");
        http_assert_problem(r, 409, "returned_on");
        free(back);
        free(none);
    }
    http_free(r);
    /* Bad inputs name the field and write nothing. */
    r = test_call("2026-03-02", "POST", test_fmt("/api/v1/patients/%lld/absences", calm), grid1,
                  "{\"kind\":\"work\",\"destination\":\"东莞\",\"left_on\":\"2026-03-01\","
                  "\"expected_return\":\"2026-02-01\"}");
    http_assert_problem(r, 400, "expected_return");
    http_free(r);
    r = test_call("2026-03-02", "POST", test_fmt("/api/v1/patients/%lld/absences", calm), grid1,
                  "{\"kind\":\"holiday\",\"destination\":\"东莞\",\"left_on\":\"2026-03-01\"}");
    http_assert_problem(r, 400, "kind");
    http_free(r);
    r = test_call("2026-03-02", "POST", test_fmt("/api/v1/patients/%lld/absences", calm), grid2,
                  body);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(count_where("absences", calm), 1);
}

/* A discharge notifies the clinic and the police; a patient without a
 * 面访 for a quarter is on the face-to-face worklist. [R-HOSP-1, R-VISIT-3] */
static void discharge_told_and_quarter_without_face_to_face_listed(void **state_)
{
    long long pid = create_patient("面", g01, "2026-01-05", "2025-12-01");
    json_t *items;
    http_res *r;

    (void)state_;
    add_guardian(pid, "2026-01-05");
    http_free(visit(pid, "2026-01-10", form("2026-01-10", NULL)));
    /* Stable and green: phone calls keep the schedule, but are no 面访. */
    http_free(visit(pid, "2026-04-05",
                    form("2026-04-05", "{\"mode\":\"phone\",\"informant\":\"patient\"}")));
    items = worklist(doctor, "2026-04-05", "face-to-face", NULL, 200);
    assert_null(find_item(items, pid));
    json_decref(items);
    items = worklist(doctor, "2026-04-20", "face-to-face", NULL, 200);
    assert_non_null(find_item(items, pid));
    assert_string_equal(test_jstr(find_item(items, pid), "last_face_to_face_on"), "2026-01-10");
    json_decref(items);
    items = worklist(grid2, "2026-04-20", "face-to-face", NULL, 200);
    assert_null(find_item(items, pid));
    json_decref(items);

    r = test_call("2026-05-01", "POST", test_fmt("/api/v1/patients/%lld/admissions", pid), doctor,
                  "{\"admitted_on\":\"2026-05-01\",\"hospital\":\"潜江市精神卫生中心\","
                  "\"involuntary\":false}");
    assert_int_equal(r->status, 201);
    http_free(r);
    r = test_call("2026-05-20", "POST", test_fmt("/api/v1/patients/%lld/discharge", pid), doctor,
                  "{\"discharged_on\":\"2026-05-20\"}");
    if (r->status == 404) { /* the discharge of the open admission by its id */
        char *aid = db_scalar(test_fmt("SELECT id FROM hospitalisations WHERE patient_id = %lld",
                                       pid),
                              0, NULL);
        http_free(r);
        r = test_call("2026-05-20", "POST",
                      test_fmt("/api/v1/patients/%lld/admissions/%s/discharge", pid, aid), doctor,
                      "{\"discharged_on\":\"2026-05-20\"}");
        free(aid);
    }
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(notified(pid, "discharged", "clinic"), 1);
    assert_int_equal(notified(pid, "discharged", "police_station"), 1);
}

/* 双列管: a patient living here whose 户籍地 is another township of the
 * system; that township's police station hears of every status change. [R-VIEW-3] */
static void hukou_township_hears_of_status_changes(void **state_)
{
    char id[19], *name = test_fmt("随访%s户籍", cn_unique);
    char *extra = test_fmt(",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2025-12-01\","
                           "\"hukou_area_code\":\"429005001\",\"hukou_address\":\"园林街道红梅路1号\"");
    long long pid;
    char idtxt[32];
    const char *p[] = {idtxt};

    (void)state_;
    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, "2026-01-05", name, id, g01, extra);
    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    http_free(visit(pid, "2026-01-10", form("2026-01-10", NULL)));
    assert_true(notified(pid, "status_changed", "police_station") >= 1);
    /* Told to 园林's station, not to 泰丰's own. */
    assert_true(db_count("SELECT count(*) FROM notifications n JOIN notification_recipients r"
                         " ON r.notification_id = n.id JOIN agencies a ON a.id = r.agency_id"
                         " WHERE n.patient_id = $1 AND n.kind = 'status_changed'"
                         " AND a.name = '园林派出所'",
                         1, p) >= 1);
    assert_int_equal(db_count("SELECT count(*) FROM notifications n JOIN notification_recipients r"
                              " ON r.notification_id = n.id JOIN agencies a ON a.id = r.agency_id"
                              " WHERE n.patient_id = $1 AND n.kind = 'status_changed'"
                              " AND a.name = '泰丰派出所'",
                              1, p),
                     0);
    /* 园林 reads the record, read-only; a patient of 泰丰 from elsewhere
     * stays hidden from 园林. */
    {
        long long local = create_patient("本地", g01, "2026-01-05", "2025-12-01");
        http_res *r = get(yl_doctor, "2026-01-12", "", pid);
        char *b = form("2026-01-12", NULL);
        assert_int_equal(r->status, 200);
        http_free(r);
        r = get(yl_doctor, "2026-01-12", "/follow-ups", pid);
        assert_int_equal(r->status, 200);
        http_free(r);
        r = post_fu(yl_doctor, pid, "2026-01-12", b);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = test_call("2026-01-12", "POST", test_fmt("/api/v1/patients/%lld/absences", pid),
                      yl_doctor, "{\"kind\":\"work\",\"destination\":\"东莞\","
                                 "\"left_on\":\"2026-01-10\"}");
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = get(yl_doctor, "2026-01-12", "", local);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(b);
    }
    free(name);
    free(extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_patient_is_due_within_14_days),
        cmocka_unit_test(example_stable_green_3_months),
        cmocka_unit_test(example_unstable_after_stable),
        cmocka_unit_test(example_basically_stable_then_again),
        cmocka_unit_test(example_stable_on_red_incident_patient),
        cmocka_unit_test(example_discharge_due_in_7_days),
        cmocka_unit_test(flags_follow_guardian_changes),
        cmocka_unit_test(classification_from_the_form),
        cmocka_unit_test(class_override_keeps_both_and_the_reason),
        cmocka_unit_test(three_misses_make_the_patient_lost),
        cmocka_unit_test(death_at_a_visit_that_reached_the_family),
        cmocka_unit_test(followup_retries_with_an_idempotency_key),
        cmocka_unit_test(assessment_retries_with_an_idempotency_key),
        cmocka_unit_test(death_at_a_visit_that_reached_nobody),
        cmocka_unit_test(worklists_due_overdue_order_pages_and_filters),
        cmocka_unit_test(worklists_bad_queries),
        cmocka_unit_test(risk_assessment_tiers_and_the_current_level),
        cmocka_unit_test(city_level_stays_until_reviewed),
        cmocka_unit_test(current_risk_is_safety_first),
        cmocka_unit_test(remote_visit_never_lowers),
        cmocka_unit_test(joint_visit_is_face_to_face_and_form_is_the_doctors),
        cmocka_unit_test(lost_counts_cycles_and_is_found_only_in_person),
        cmocka_unit_test(home_check_by_the_grid_worker),
        cmocka_unit_test(temporary_absence_is_told_when_at_risk),
        cmocka_unit_test(discharge_told_and_quarter_without_face_to_face_listed),
        cmocka_unit_test(hukou_township_hears_of_status_changes),
        cmocka_unit_test(risk_assessment_bad_inputs_and_access),
        cmocka_unit_test(bad_followup_forms_write_nothing),
        cmocka_unit_test(followup_access_by_role_and_status),
        cmocka_unit_test(followups_read_back_and_page),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
