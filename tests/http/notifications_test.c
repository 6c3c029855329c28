/* HTTP suite: inter-agency notifications (通报). Every trigger — a risk
 * assessment crossing to level 3, an unstable visit, three misses, a report
 * that the whereabouts are unknown, a suspected person reported, an
 * incident — raises exactly one notification, in the writer's transaction,
 * to the nearest agencies of the listed kinds (and the grid workers of the
 * patient's grid); each agency's inbox, reading and acknowledging, the
 * summary, overdue notifications, paging and bad queries; webhook endpoints
 * of external systems and the deliveries a notification creates for them.
 * Histories are played through time with X-Test-Date (a notification
 * raised under the test clock is created at noon of that day). */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 10 /* keeps this suite's ID numbers apart from the others' */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2026-12-01\""
/* A visit that reached the patient: stable with insight "complete",
 * unstable with insight "absent" (risk 0 either way). */
#define VISIT                                                                                      \
    "{\"visit_date\":\"%s\",\"mode\":\"home\",\"reached\":true,\"risk_level\":0,"                  \
    "\"insight\":\"%s\",\"compliance\":\"regular\",\"social_function\":{"                          \
    "\"personal_care\":\"good\",\"housework\":\"good\",\"work\":\"good\",\"learning\":"            \
    "\"good\",\"social_contact\":\"good\"}}"
#define MISSED                                                                                     \
    "{\"visit_date\":\"%s\",\"mode\":\"home\",\"informant\":\"other\",\"reached\":false,"          \
    "\"unreached_reason\":\"out_for_work\"}"
#define INCIDENT                                                                                   \
    "{\"occurred_on\":\"%s\",\"place\":\"梅苑路菜市场\",\"kind\":\"trouble\",\"injured\":1," \
    "\"dead\":0,\"police_case_no\":\"泰公(刑)字2027-031\"}"
#define ASSESS "{\"assessed_on\":\"%s\",\"level\":%d,\"tier\":\"township\"}"
#define SECRET "s3cr3t-signing-key-of-the-police-system-0123456789"
#define PASSWORD "Correct-horse-1"

/* Recipients by agency name; a grid worker as "user:<username>". */
#define POLICE "泰丰派出所"
#define STABILITY "泰丰街道综治中心"
#define CLINIC "泰丰街道社区卫生服务中心"
#define HEALTH "泰丰街道卫健办"
#define CIVIL "泰丰街道民政办"
#define VILLAGE "梅苑社区居委会"
#define CENTRE "潜江市精神卫生中心"
#define DISABLED "泰丰街道残联"
#define JUSTICE "泰丰司法所"
#define GRID1 "user:tf.grid1"

static char *doctor, *police, *civil, *official, *grid1, *cadre, *yl_doctor, *yl_admin, *admin,
    *svc;
static char *g01, *taifeng_path;
static char cn_unique[64]; /* test_unique() in Chinese numerals */

/* Who reads each recipient's inbox: a demo user of that agency, or a user
 * made for this suite (no demo user belongs to it). owns: the recipient
 * labels whose rows are that user's (a grid worker's agency is the
 * village committee). */
static struct member {
    const char *label, *username, *role, *unit_code, *owns[2];
    char *token;
} members[] = {
    {POLICE, "tf.police", NULL, NULL, {POLICE}, NULL},
    {CLINIC, "tf.doctor", NULL, NULL, {CLINIC}, NULL},
    {HEALTH, "tf.official", NULL, NULL, {HEALTH}, NULL},
    {CIVIL, "tf.civil", NULL, NULL, {CIVIL}, NULL},
    {VILLAGE, "tf.cadre", NULL, NULL, {VILLAGE}, NULL},
    {GRID1, "tf.grid1", NULL, NULL, {GRID1, VILLAGE}, NULL},
    {STABILITY, NULL, "official", "429005003", {STABILITY}, NULL},
    {CENTRE, NULL, "doctor", "429005", {CENTRE}, NULL},
    {DISABLED, NULL, "official", "429005003", {DISABLED}, NULL},
    {JUSTICE, NULL, "official", "429005003", {JUSTICE}, NULL},
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

/* ---- helpers ---------------------------------------------------------- */

/* method /api/v1/patients/{pid}/what as token on date. */
static http_res *on_patient(const char *date, const char *method, const char *token, long long pid,
                            const char *what, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld/%s", pid, what);
    http_res *r = test_call(date, method, path, token, body);

    free(path);
    return r;
}

/* A request that must answer want; returns the response. */
static http_res *expect(long want, const char *date, const char *method, const char *path,
                        const char *token, const char *body)
{
    http_res *r = test_call(date, method, path, token, body);

    if (r->status != want)
        fail_msg("%s %s: expected %ld, got %ld %s", method, path, want, r->status, r->body);
    return r;
}

/* Register a patient in unit as the doctor on date; returns its id. */
static long long create_patient(const char *tag, const char *unit, const char *date)
{
    return test_patient(doctor, date, "通报", tag, unit, SUITE_SALT, DIAG, NULL);
}

/* POST …/what as token on date, which must answer want. */
static void must_post(long want, const char *date, const char *token, long long pid,
                      const char *what, const char *body)
{
    http_res *r = on_patient(date, "POST", token, pid, what, body);

    if (r->status != want)
        fail_msg("POST %s on %s: expected %ld, got %ld %s (sent %s)", what, date, want, r->status,
                 r->body, body);
    http_free(r);
}

static void visit(long long pid, const char *date, const char *insight)
{
    char *body = test_fmt(VISIT, date, insight);

    must_post(201, date, doctor, pid, "follow-ups", body);
    free(body);
}

static void miss(long long pid, const char *date)
{
    char *body = test_fmt(MISSED, date);

    must_post(201, date, doctor, pid, "follow-ups", body);
    free(body);
}

static void assess(long long pid, const char *date, int level)
{
    char *body = test_fmt(ASSESS, date, level);

    must_post(201, date, doctor, pid, "risk-assessments", body);
    free(body);
}

/* A count by SQL with one id parameter. */
static long count_of(const char *sql, long long id)
{
    char t[32];
    const char *p[] = {t};

    snprintf(t, sizeof(t), "%lld", id);
    return db_count(sql, 1, p);
}

/* The notifications a change of the patient raised; the routine push of
 * every risk assessment (seed 004) is counted apart. */
static long notifications_of(long long pid)
{
    return count_of("SELECT count(*) FROM notifications WHERE patient_id = $1"
                    " AND kind <> 'risk_assessment'",
                    pid);
}

/* Everything a trigger writes, to show that a refused write wrote none. */
static long written_total(void)
{
    return db_count("SELECT (SELECT count(*) FROM notifications) + (SELECT count(*) FROM"
                    " notification_recipients) + (SELECT count(*) FROM outbox) + (SELECT"
                    " count(*) FROM deliveries)",
                    0, NULL);
}

/* The one notification of kind for the patient (fails unless exactly one). */
static long long the_one(long long pid, const char *kind)
{
    char t[32], *v;
    const char *p[] = {t, kind};
    long n;
    long long id;

    snprintf(t, sizeof(t), "%lld", pid);
    n = db_count("SELECT count(*) FROM notifications WHERE patient_id = $1 AND kind = $2", 2, p);
    if (n != 1)
        fail_msg("patient %lld has %ld %s notifications, expected exactly one", pid, n, kind);
    v = db_scalar("SELECT id FROM notifications WHERE patient_id = $1 AND kind = $2", 2, p);
    id = strtoll(v, NULL, 10);
    free(v);
    return id;
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The recipients of nid are exactly want (labels) plus the active grid
 * workers of grid_code (NULL: none), checked by SQL. */
static void expect_recipients(long long nid, const char *const *want, size_t n,
                              const char *grid_code)
{
    const char *all[32];
    char t[32], *got, *users = NULL, *expected;
    const char *p[] = {t};
    size_t k = 0, len = 1;

    for (size_t i = 0; i < n; i++)
        all[k++] = want[i];
    if (grid_code != NULL) {
        const char *gp[] = {grid_code};
        users = db_scalar("SELECT string_agg('user:' || u.username, ',') FROM users u JOIN"
                          " org_units o ON o.id = u.org_unit_id WHERE u.role = 'grid_worker'"
                          " AND u.active AND o.code = $1",
                          1, gp);
        assert_non_null(users);
        for (char *s = strtok(users, ","); s != NULL && k < 32; s = strtok(NULL, ","))
            all[k++] = s;
    }
    qsort(all, k, sizeof(all[0]), by_bytes);
    for (size_t i = 0; i < k; i++)
        len += strlen(all[i]) + 1;
    expected = calloc(1, len);
    assert_non_null(expected);
    for (size_t i = 0, at = 0; i < k; i++)
        at += (size_t)snprintf(expected + at, len - at, "%s%s", i ? "," : "", all[i]);
    snprintf(t, sizeof(t), "%lld", nid);
    got = db_scalar("SELECT coalesce(string_agg(coalesce(a.name, 'user:' || u.username), ','"
                    " ORDER BY coalesce(a.name, 'user:' || u.username) COLLATE \"C\"), '')"
                    " FROM notification_recipients r LEFT JOIN agencies a ON a.id = r.agency_id"
                    " LEFT JOIN users u ON u.id = r.user_id WHERE r.notification_id = $1",
                    1, p);
    if (got == NULL || strcmp(got, expected) != 0)
        fail_msg("notification %lld: recipients [%s], expected [%s]", nid, got ? got : "",
                 expected);
    /* Nobody has read or acknowledged it yet. */
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients WHERE"
                              " notification_id = $1 AND (read_at IS NOT NULL OR"
                              " acknowledged_at IS NOT NULL OR action_taken IS NOT NULL)",
                              nid),
                     0);
    free(got);
    free(users);
    free(expected);
}

/* nid was raised on date (noon, +08) with kind's deadline, by sender (a
 * username, with their agency), and its event is in the outbox. */
static void expect_raised(long long nid, const char *kind, const char *date, const char *sender)
{
    char t[32], *at = test_fmt("%s 12:00:00+08", date);
    const char *p[] = {t, kind, at, sender};

    snprintf(t, sizeof(t), "%lld", nid);
    if (db_count("SELECT count(*) FROM notifications n JOIN notification_kinds k ON k.kind ="
                 " n.kind JOIN users u ON u.username = $4 WHERE n.id = $1 AND n.kind = $2"
                 " AND n.created_at = $3::timestamptz AND n.deadline_at = $3::timestamptz +"
                 " make_interval(hours => k.deadline_hours) AND n.sender_user_id = u.id"
                 " AND n.sender_agency_id IS NOT DISTINCT FROM u.agency_id"
                 " AND n.escalated_at IS NULL",
                 4, p) != 1)
        fail_msg("notification %lld: not a %s raised by %s at %s", nid, kind, sender, at);
    if (db_count("SELECT count(*) FROM outbox WHERE topic = 'notification.' || $2 AND"
                 " (payload->>'notification_id')::bigint = $1::bigint AND payload->>'kind' = $2",
                 2, p) != 1)
        fail_msg("notification %lld: no single outbox event notification.%s", nid, kind);
    free(at);
}

static struct member *member(const char *label)
{
    for (size_t i = 0; i < NMEMBERS; i++)
        if (strcmp(members[i].label, label) == 0)
            return &members[i];
    fail_msg("no member for %s", label);
    return NULL;
}

/* A token of a user of the agency (made on first use when the demo has
 * none). */
static const char *token_of(const char *label)
{
    struct member *m = member(label);
    char *username, *agency, *unit, *body;
    http_res *r;

    if (m->token != NULL)
        return m->token;
    if (m->username != NULL) {
        m->token = http_login(m->username, NULL);
        return m->token;
    }
    username = test_fmt("nt%s.%zu", test_unique(), (size_t)(m - members));
    agency = test_agency_id(label);
    unit = test_unit_id(m->unit_code);
    body = test_fmt("{\"username\":\"%s\",\"display_name\":\"通报测试\",\"password\":\"" PASSWORD
                    "\",\"role\":\"%s\",\"org_unit_id\":%s,\"agency_id\":%s}",
                    username, m->role, unit, agency);
    r = http_do("POST", "/api/v1/users", admin, body, NULL);
    if (r->status != 201)
        fail_msg("create a user of %s: %ld %s", label, r->status, r->body);
    http_free(r);
    m->token = http_login(username, PASSWORD);
    free(username);
    free(agency);
    free(unit);
    free(body);
    return m->token;
}

/* The label of a recipient row of the API. */
static char *label_of(const json_t *rec)
{
    const char *a = test_jstr(rec, "agency_name");
    long long uid = test_jint(rec, "user_id");
    char t[32], *u;
    const char *p[] = {t};

    if (a != NULL)
        return strdup(a);
    snprintf(t, sizeof(t), "%lld", uid);
    u = db_scalar("SELECT 'user:' || username FROM users WHERE id = $1", 1, p);
    assert_non_null(u);
    return u;
}

/* GET /api/v1/notifications?query as token on date: the item nid, or
 * NULL (a new reference). */
static json_t *listed(const char *token, const char *date, const char *query, long long nid)
{
    char *path = test_fmt("/api/v1/notifications?%s", query);
    http_res *r = expect(200, date, "GET", path, token, NULL);
    json_t *items = json_object_get(r->json, "items"), *it, *found = NULL;
    size_t i;

    assert_true(json_is_array(items));
    json_array_foreach(items, i, it)
    {
        if (test_jint(it, "id") == nid)
            found = json_incref(it);
    }
    http_free(r);
    free(path);
    return found;
}

/* The rows of item that are `mine` are exactly those of m. */
static void expect_mine(const json_t *item, const struct member *m)
{
    json_t *recs = json_object_get(item, "recipients"), *rec;
    size_t i;
    int mine = 0;

    assert_true(json_is_array(recs));
    json_array_foreach(recs, i, rec)
    {
        char *l = label_of(rec);
        int owned = strcmp(l, m->owns[0]) == 0 || (m->owns[1] && strcmp(l, m->owns[1]) == 0);
        json_t *v = json_object_get(rec, "mine");
        if (!json_is_boolean(v) || json_is_true(v) != owned)
            fail_msg("notification %lld as %s: recipient %s has mine %s", test_jint(item, "id"),
                     m->label, l, json_is_true(v) ? "true" : "false");
        mine += owned;
        free(l);
    }
    assert_true(mine > 0);
}

/* No row of item is `mine` (a supervisor's view of another's). */
static void expect_none_mine(const json_t *item)
{
    json_t *recs = json_object_get(item, "recipients"), *rec;
    size_t i;

    assert_true(json_array_size(recs) > 0);
    json_array_foreach(recs, i, rec)
    {
        if (!json_is_false(json_object_get(rec, "mine")))
            fail_msg("notification %lld: a row is mine for a non-recipient", test_jint(item, "id"));
    }
}

/* Every recipient finds nid open in its inbox, its own row marked mine. */
static void expect_inboxes(long long nid, long long pid, const char *date,
                           const char *const *labels, size_t n)
{
    char *q = test_fmt("state=open&patient_id=%lld", pid);

    for (size_t i = 0; i < n; i++) {
        json_t *it = listed(token_of(labels[i]), date, q, nid);
        if (it == NULL)
            fail_msg("notification %lld is not open in the inbox of %s", nid, labels[i]);
        assert_int_equal(test_jint(it, "patient_id"), pid);
        expect_mine(it, member(labels[i]));
        json_decref(it);
    }
    free(q);
}

/* GET /api/v1/notifications/summary as token on date. */
static void summary(const char *token, const char *date, long long out[4])
{
    http_res *r = expect(200, date, "GET", "/api/v1/notifications/summary", token, NULL);
    const char *k[] = {"unread", "unacknowledged", "overdue", "escalated"};

    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(r->json, k[i]);
        if (!json_is_integer(v))
            fail_msg("summary has no integer %s: %s", k[i], r->body);
        out[i] = json_integer_value(v);
    }
    http_free(r);
}

/* POST /api/v1/notifications/{nid}/ack as token on date. */
static http_res *ack(const char *token, const char *date, long long nid, const char *body)
{
    char *path = test_fmt("/api/v1/notifications/%lld/ack", nid);
    http_res *r = test_call(date, "POST", path, token, body);

    free(path);
    return r;
}

static http_res *get_one(const char *token, const char *date, long long nid)
{
    char *path = test_fmt("/api/v1/notifications/%lld", nid);
    http_res *r = test_call(date, "GET", path, token, NULL);

    free(path);
    return r;
}

/* The recipient row labelled label in a notification document. */
static const json_t *row_of(const json_t *doc, const char *label)
{
    json_t *recs = json_object_get(doc, "recipients"), *rec;
    const json_t *found = NULL;
    size_t i;

    json_array_foreach(recs, i, rec)
    {
        char *l = label_of(rec);
        if (strcmp(l, label) == 0)
            found = rec;
        free(l);
    }
    if (found == NULL)
        fail_msg("no recipient %s", label);
    return found;
}

static int is_null(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return v == NULL || json_is_null(v);
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    official = http_login("tf.official", NULL);
    grid1 = http_login("tf.grid1", NULL);
    cadre = http_login("tf.cadre", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    yl_admin = http_login("yl.admin", NULL);
    admin = http_login("admin", NULL);
    svc = http_login("svc.police", NULL);
    g01 = test_unit_id("429005003001G01");
    taifeng_path = db_scalar("SELECT path FROM org_units WHERE code = '429005003'", 0, NULL);
    assert_non_null(taifeng_path);
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor,    &police,   &civil, &official, &grid1,        &cadre,
                    &yl_doctor, &yl_admin, &admin, &svc,      &taifeng_path, &g01};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    for (size_t i = 0; i < NMEMBERS; i++) {
        free(members[i].token);
        members[i].token = NULL;
    }
    /* Endpoints this suite registered deliver nothing more. */
    db_try("UPDATE webhook_endpoints SET active = false WHERE url LIKE"
           " 'http://127.0.0.1:9/hook%'");
    return 0;
}

/* ---- triggers ------------------------------------------------------------- */

/* A level-3 assessment raises risk_high to the police station, 综治中心 and
 * the clinic; a later level 4 does not raise another; refused writes raise
 * nothing, and a write whose notification cannot be written is not made. [R-NOTE-1, R-RISK-1] */
static void risk_high_when_the_level_crosses_to_3(void **state)
{
    static const char *const to[] = {POLICE, STABILITY, CLINIC};
    static const char *const bad[] = {
        "{\"assessed_on\":\"2027-01-05\",\"level\":6,\"tier\":\"township\"}",
        "{\"assessed_on\":\"2027-01-05\",\"level\":3,\"tier\":\"province\"}",
        "{\"assessed_on\":\"2027-01-06\",\"level\":3,\"tier\":\"township\"}",
        "{\"assessed_on\":\"2027-01-05\",\"level\":3}",
        "{\"assessed_on\":\"2027-01-05\",\"level\":3,\"tier\":\"township\",\"urgent\":true}",
    };
    const char *day = "2027-01-05";
    char *l3 = test_fmt(ASSESS, day, 3), *l4 = test_fmt(ASSESS, day, 4), *ddl, *drop;
    long long pid = create_patient("危", g01, day), nid;
    long before = written_total();
    http_res *r;
    long st;

    (void)state;
    assert_int_equal(notifications_of(pid), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = on_patient(day, "POST", doctor, pid, "risk-assessments", bad[i]);
        if (r->status != 400)
            fail_msg("bad assessment %zu: expected 400, got %ld %s", i, r->status, r->body);
        http_assert_problem(r, 400, NULL);
        http_free(r);
    }
    must_post(403, day, police, pid, "risk-assessments", l3);
    must_post(404, day, yl_doctor, pid, "risk-assessments", l3);
    assert_int_equal(written_total(), before);
    assert_int_equal(notifications_of(pid), 0);

    /* Same transaction: when the notification cannot be written, neither
     * is the assessment that raised it. */
    ddl = test_fmt("ALTER TABLE notifications ADD CONSTRAINT notifications_test_refuse_%lld"
                   " CHECK (patient_id <> %lld) NOT VALID",
                   pid, pid);
    drop = test_fmt("ALTER TABLE notifications DROP CONSTRAINT IF EXISTS"
                    " notifications_test_refuse_%lld",
                    pid);
    assert_true(db_try(ddl));
    r = on_patient(day, "POST", doctor, pid, "risk-assessments", l3);
    st = r->status;
    http_free(r);
    assert_true(db_try(drop));
    if (st != 500)
        fail_msg("an assessment whose notification fails: expected 500, got %ld", st);
    assert_int_equal(count_of("SELECT count(*) FROM risk_assessments WHERE patient_id = $1", pid),
                     0);
    assert_int_equal(
        count_of("SELECT count(*) FROM patients WHERE id = $1 AND risk_level IS NULL", pid), 1);
    assert_int_equal(written_total(), before);

    /* Level 3: exactly one, to the three agencies. */
    r = on_patient(day, "POST", doctor, pid, "risk-assessments", l3);
    assert_int_equal(r->status, 201);
    assert_int_equal(test_jint(r->json, "risk_level"), 3);
    http_free(r);
    assert_int_equal(notifications_of(pid), 1);
    nid = the_one(pid, "risk_high");
    expect_raised(nid, "risk_high", day, "tf.doctor");
    assert_int_equal(count_of("SELECT count(*) FROM notifications WHERE id = $1 AND"
                              " detail->>'risk_level' = '3'",
                              nid),
                     1);
    expect_recipients(nid, to, 3, NULL);
    expect_inboxes(nid, pid, day, to, 3);

    /* Level 4: already at 3 or more, nothing new. */
    r = on_patient(day, "POST", doctor, pid, "risk-assessments", l4);
    assert_int_equal(r->status, 201);
    assert_int_equal(test_jint(r->json, "risk_level"), 4);
    http_free(r);
    assert_int_equal(notifications_of(pid), 1);
    assert_int_equal(count_of("SELECT count(*) FROM outbox WHERE (payload->>'patient_id')::bigint"
                              " = $1 AND topic <> 'notification.risk_assessment'",
                              pid),
                     1);
    free(l3);
    free(l4);
    free(ddl);
    free(drop);
}

/* An unstable visit raises unstable (police, 综治中心, clinic) once. [R-NOTE-1] */
static void unstable_when_a_visit_becomes_unstable(void **state)
{
    static const char *const to[] = {POLICE, STABILITY, CLINIC};
    long long pid = create_patient("稳", g01, "2027-01-10"), nid;
    char *good = test_fmt(VISIT, "2027-01-26", "absent"), *bad;
    size_t end = strlen(good) - 1;
    long before;
    http_res *r;

    (void)state;
    visit(pid, "2027-01-12", "complete");
    assert_int_equal(notifications_of(pid), 0);
    /* Refused unstable visits raise nothing. */
    /* The same form with a field the form does not have. */
    bad = test_fmt("%.*s,\"mood\":\"low\"}", (int)end, good);
    before = written_total();
    r = on_patient("2027-01-26", "POST", doctor, pid, "follow-ups", bad);
    http_assert_problem(r, 400, "mood");
    http_free(r);
    must_post(403, "2027-01-26", civil, pid, "follow-ups", good);
    must_post(404, "2027-01-26", yl_doctor, pid, "follow-ups", good);
    assert_int_equal(written_total(), before);
    assert_int_equal(notifications_of(pid), 0);

    visit(pid, "2027-01-26", "absent");
    assert_int_equal(notifications_of(pid), 1);
    nid = the_one(pid, "unstable");
    expect_raised(nid, "unstable", "2027-01-26", "tf.doctor");
    expect_recipients(nid, to, 3, NULL);
    expect_inboxes(nid, pid, "2027-01-26", to, 3);

    /* Still unstable at the next visit: nothing new. */
    visit(pid, "2027-02-09", "absent");
    assert_int_equal(notifications_of(pid), 1);
    free(good);
    free(bad);
}

/* The third visit in a row that does not reach the patient makes them
 * lost: the police station, the village committee, the grid's workers,
 * 综治中心 and the mental-health centre. [R-NOTE-2, R-LOST-3] */
static void lost_after_three_misses(void **state)
{
    static const char *const to[] = {POLICE, VILLAGE, STABILITY, CENTRE};
    static const char *const inboxes[] = {POLICE, VILLAGE, GRID1, STABILITY, CENTRE};
    long long pid = create_patient("失", g01, "2027-02-01"), nid, g0[4], g1[4], g2[4];
    long before;
    http_res *r;

    (void)state;
    visit(pid, "2027-02-03", "complete");
    miss(pid, "2027-02-10");
    miss(pid, "2027-02-17");
    assert_int_equal(notifications_of(pid), 0);
    summary(grid1, "2027-02-24", g0);
    before = written_total();
    r = on_patient("2027-02-24", "POST", doctor, pid, "follow-ups",
                   "{\"visit_date\":\"2027-02-24\",\"mode\":\"home\",\"informant\":\"other\","
                   "\"reached\":false,\"unreached_reason\":\"holiday\"}");
    http_assert_problem(r, 400, "unreached_reason");
    http_free(r);
    assert_int_equal(written_total(), before);

    miss(pid, "2027-02-24");
    assert_int_equal(notifications_of(pid), 1);
    nid = the_one(pid, "lost");
    expect_raised(nid, "lost", "2027-02-24", "tf.doctor");
    assert_int_equal(count_of("SELECT count(*) FROM notifications WHERE id = $1 AND"
                              " detail->>'reason' = 'three_misses'",
                              nid),
                     1);
    expect_recipients(nid, to, 4, "429005003001G01");
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients r JOIN users u ON"
                              " u.id = r.user_id WHERE r.notification_id = $1 AND u.username ="
                              " 'tf.grid1'",
                              nid),
                     1);
    expect_inboxes(nid, pid, "2027-02-24", inboxes, 5);
    summary(grid1, "2027-02-24", g1);
    r = get_one(grid1, "2027-02-24", nid);
    assert_int_equal(r->status, 200);
    http_free(r);
    summary(grid1, "2027-02-24", g2);

    /* Lost already: a fourth miss raises nothing. */
    miss(pid, "2027-03-03");
    assert_int_equal(notifications_of(pid), 1);

    /* The grid worker's summary counts the notification once, as the
     * inbox lists it once — though both the grid worker and their agency
     * (the village committee) are recipients. */
    if (g1[0] != g0[0] + 1 || g1[1] != g0[1] + 1 || g2[0] != g1[0] - 1)
        fail_msg("tf.grid1's summary counts one notification as unread %lld, then %lld after"
                 " reading it (unacknowledged %lld); expected %lld, then %lld",
                 g1[0] - g0[0], g1[0] - g2[0], g1[1] - g0[1], 1LL, 1LL);
}

/* Whereabouts unknown makes the patient lost at once: one notification. [R-NOTE-2, R-LOST-2] */
static void lost_when_whereabouts_are_unknown(void **state)
{
    static const char *const to[] = {POLICE, VILLAGE, STABILITY, CENTRE};
    static const char *const inboxes[] = {POLICE, VILLAGE, GRID1, STABILITY, CENTRE};
    const char *body = "{\"reported_on\":\"2027-02-06\",\"note\":\"外出未归，家属联系不上\"}";
    long long pid = create_patient("去向", g01, "2027-02-01"), nid;
    long before;
    http_res *r;

    (void)state;
    visit(pid, "2027-02-03", "complete");
    before = written_total();
    r = on_patient("2027-02-06", "POST", grid1, pid, "whereabouts-unknown",
                   "{\"reported_on\":\"2027-02-07\"}");
    http_assert_problem(r, 400, "reported_on");
    http_free(r);
    must_post(403, "2027-02-06", civil, pid, "whereabouts-unknown", body);
    assert_int_equal(written_total(), before);

    must_post(200, "2027-02-06", grid1, pid, "whereabouts-unknown", body);
    assert_int_equal(notifications_of(pid), 1);
    nid = the_one(pid, "lost");
    expect_raised(nid, "lost", "2027-02-06", "tf.grid1");
    assert_int_equal(count_of("SELECT count(*) FROM notifications WHERE id = $1 AND"
                              " detail->>'reason' = 'whereabouts_unknown'",
                              nid),
                     1);
    expect_recipients(nid, to, 4, "429005003001G01");
    expect_inboxes(nid, pid, "2027-02-06", inboxes, 5);

    /* Already lost: refused, nothing more. */
    must_post(409, "2027-02-07", grid1, pid, "whereabouts-unknown",
              "{\"reported_on\":\"2027-02-07\"}");
    assert_int_equal(notifications_of(pid), 1);
}

/* A suspected person reported by a grid worker: the clinic and the
 * mental-health centre must arrange a diagnosis. [R-NOTE-4] */
static void suspected_reported_to_clinic_and_centre(void **state)
{
    static const char *const to[] = {CLINIC, CENTRE};
    char *rep = test_fmt("{\"name\":\"通报%s疑\",\"address\":\"梅苑路8号\",\"report_note\":"
                         "\"夜间喊叫\",\"org_unit_id\":%s}",
                         cn_unique, g01);
    char *bad = test_fmt("{\"name\":\"通报%s疑\",\"address\":\"梅苑路8号\",\"org_unit_id\":%s}",
                         cn_unique, g01);
    long before = written_total();
    long long pid, nid;
    http_res *r;

    (void)state;
    r = test_call("2027-02-08", "POST", "/api/v1/suspected-reports", grid1, bad);
    http_assert_problem(r, 400, "report_note");
    http_free(r);
    r = test_call("2027-02-08", "POST", "/api/v1/suspected-reports", official, rep);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    assert_int_equal(written_total(), before);

    r = expect(201, "2027-02-08", "POST", "/api/v1/suspected-reports", grid1, rep);
    pid = test_jint(r->json, "id");
    assert_true(pid > 0);
    http_free(r);
    assert_int_equal(notifications_of(pid), 1);
    nid = the_one(pid, "suspected_reported");
    expect_raised(nid, "suspected_reported", "2027-02-08", "tf.grid1");
    expect_recipients(nid, to, 2, NULL);
    expect_inboxes(nid, pid, "2027-02-08", to, 2);
    /* Not the police station's business. */
    r = get_one(police, "2027-02-08", nid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(rep);
    free(bad);
}

/* An incident reaches every agency kind listed for it that serves the
 * patient: the nearest of each. The health office's official and civil
 * affairs, being recipients, acknowledge it. [R-INC-1] */
static void incident_to_every_agency(void **state)
{
    static const char *const to[] = {POLICE,  STABILITY, CLINIC,   HEALTH, CIVIL,
                                     VILLAGE, CENTRE,    DISABLED, JUSTICE};
    const size_t n = sizeof(to) / sizeof(to[0]);
    char *body = test_fmt(INCIDENT, "2027-02-11");
    long long pid = create_patient("肇事", g01, "2027-02-10"), nid;
    long before;
    http_res *r;

    (void)state;
    visit(pid, "2027-02-10", "complete");
    before = written_total();
    r = on_patient("2027-02-12", "POST", police, pid, "incidents",
                   "{\"occurred_on\":\"2027-02-11\",\"place\":\"梅苑路\",\"kind\":\"fight\","
                   "\"injured\":0,\"dead\":0}");
    http_assert_problem(r, 400, "kind");
    http_free(r);
    must_post(403, "2027-02-12", grid1, pid, "incidents", body);
    must_post(404, "2027-02-12", yl_doctor, pid, "incidents", body);
    assert_int_equal(written_total(), before);
    assert_int_equal(notifications_of(pid), 0);

    must_post(201, "2027-02-12", police, pid, "incidents", body);
    assert_int_equal(notifications_of(pid), 1);
    nid = the_one(pid, "incident");
    expect_raised(nid, "incident", "2027-02-12", "tf.police");
    assert_int_equal(count_of("SELECT count(*) FROM notifications WHERE id = $1 AND"
                              " detail->>'kind' = 'trouble' AND deadline_at - created_at ="
                              " interval '2 hours'",
                              nid),
                     1);
    expect_recipients(nid, to, n, NULL);
    expect_inboxes(nid, pid, "2027-02-12", to, n);

    r = ack(official, "2027-02-12", nid, "{\"action_taken\":\"已通知卫生院加强随访\"}");
    assert_int_equal(r->status, 200);
    assert_non_null(test_jstr(row_of(r->json, HEALTH), "acknowledged_at"));
    assert_true(is_null(row_of(r->json, CIVIL), "acknowledged_at"));
    http_free(r);
    r = ack(civil, "2027-02-12", nid, "{\"action_taken\":\"核实低保救助情况\"}");
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients WHERE"
                              " notification_id = $1 AND acknowledged_at IS NOT NULL",
                              nid),
                     2);
    free(body);
}

/* ---- inboxes -------------------------------------------------------------- */

/* Who sees a notification, reading it, acknowledging it, and the summary
 * moving with both; overdue once the deadline has passed. [R-NOTE-6] */
static void inbox_read_acknowledge_and_overdue(void **state)
{
    const char *day = "2027-03-10", *due = "2027-03-11", *late = "2027-03-12";
    long long pid = create_patient("收件", g01, day), nid, s0[4], s1[4], s2[4], s3[4];
    char *q_open = test_fmt("state=open&patient_id=%lld", pid);
    char *q_all = test_fmt("state=all&patient_id=%lld", pid);
    char *q_overdue = test_fmt("state=overdue&patient_id=%lld", pid);
    char *q_acked = test_fmt("state=acknowledged&patient_id=%lld", pid);
    char *police_id = db_scalar("SELECT id FROM users WHERE username = 'tf.police'", 0, NULL);
    char *name = NULL;
    json_t *it;
    http_res *r;

    (void)state;
    summary(police, day, s0);
    assess(pid, day, 3);
    nid = the_one(pid, "risk_high");

    /* The police station: open, addressed to it, not overdue. */
    it = listed(police, day, q_open, nid);
    assert_non_null(it);
    assert_string_equal(test_jstr(it, "kind"), "risk_high");
    assert_string_equal(test_jstr(it, "title"), "危险性评估3级及以上");
    assert_int_equal(test_jint(it, "patient_id"), pid);
    name = test_fmt("通报%s收件", cn_unique);
    assert_string_equal(test_jstr(it, "patient_name"), name);
    {
        char *want = test_fmt("危险性评估3级及以上：%s（梅苑社区第一网格）", name);
        assert_string_equal(test_jstr(it, "summary"), want);
        free(want);
    }
    assert_true(json_is_false(json_object_get(it, "overdue")));
    assert_int_equal(json_array_size(json_object_get(it, "recipients")), 3);
    expect_mine(it, member(POLICE));
    json_decref(it);
    summary(police, day, s1);
    /* The risk_high, and the routine push of the assessment (seed 004). */
    assert_int_equal(s1[0], s0[0] + 2);
    assert_int_equal(s1[1], s0[1] + 2);

    /* Civil affairs is not a recipient and does not supervise: nothing. */
    r = get_one(civil, day, nid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_null(listed(civil, day, q_all, nid));
    assert_null(listed(civil, day, "state=all&kind=risk_high&limit=200", nid));
    /* Nor the other township. */
    r = get_one(yl_doctor, day, nid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_null(listed(yl_doctor, day, q_all, nid));
    {
        http_res *l =
            expect(200, day, "GET", "/api/v1/notifications?state=all&limit=200", yl_doctor, NULL);
        json_t *items = json_object_get(l->json, "items"), *x;
        size_t i;
        json_array_foreach(items, i, x)
        {
            char t[32];
            const char *p[] = {t, taifeng_path};
            snprintf(t, sizeof(t), "%lld", test_jint(x, "id"));
            /* Save 双列管: a patient of 泰丰 whose 户籍地 is 园林 is told
             * there as a status change. */
            if (db_count("SELECT count(*) FROM notifications WHERE id = $1 AND"
                         " starts_with(org_path, $2) AND kind <> 'status_changed'",
                         2, p) != 0)
                fail_msg("yl.doctor sees 泰丰's notification %s", t);
        }
        http_free(l);
    }
    /* Reading as someone else marks nothing. */
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients WHERE"
                              " notification_id = $1 AND read_at IS NOT NULL",
                              nid),
                     0);

    /* Reading it marks the police station's row read, once. */
    r = get_one(police, day, nid);
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "id"), nid);
    assert_non_null(test_jstr(row_of(r->json, POLICE), "read_at"));
    assert_true(is_null(row_of(r->json, CLINIC), "read_at"));
    assert_true(is_null(row_of(r->json, STABILITY), "read_at"));
    assert_true(is_null(row_of(r->json, POLICE), "acknowledged_at"));
    http_free(r);
    summary(police, day, s2);
    assert_int_equal(s2[0], s1[0] - 1);
    assert_int_equal(s2[1], s1[1]);
    http_free(expect(200, day, "GET", "/api/v1/notifications/summary", police, NULL));
    r = get_one(police, day, nid);
    assert_int_equal(r->status, 200);
    http_free(r);
    summary(police, day, s3);
    assert_int_equal(s3[0], s2[0]);
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients WHERE"
                              " notification_id = $1 AND read_at IS NOT NULL",
                              nid),
                     1);

    /* The township's official supervises: sees it among all, not as open
     * (卫健办 is not addressed), and may not acknowledge it. */
    assert_null(listed(official, day, q_open, nid));
    it = listed(official, day, q_all, nid);
    assert_non_null(it);
    expect_none_mine(it);
    json_decref(it);
    r = ack(official, day, nid, "{\"action_taken\":\"已督促派出所处置\"}");
    http_assert_problem(r, 403, NULL);
    http_free(r);

    /* Bad acknowledgements change nothing. */
    {
        static const struct {
            const char *body, *field;
        } bad[] = {
            {"{}", "action_taken"},
            {"{\"action_taken\":\"\"}", "action_taken"},
            {"{\"action_taken\":\"x\"}", "action_taken"},
            {"{\"action_taken\":7}", "action_taken"},
            {"{\"action_taken\":null}", "action_taken"},
            {"{\"action_taken\":\"已上门\",\"by\":\"张伟\"}", "by"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = ack(police, day, nid, bad[i].body);
            http_assert_problem(r, 400, bad[i].field);
            http_free(r);
        }
    }
    /* Non-recipients who cannot see it: 404, never a hint it exists. */
    r = ack(civil, day, nid, "{\"action_taken\":\"已知悉\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = ack(yl_doctor, day, nid, "{\"action_taken\":\"已知悉\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = ack(police, day, 999999999, "{\"action_taken\":\"已知悉\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients WHERE"
                              " notification_id = $1 AND acknowledged_at IS NOT NULL",
                              nid),
                     0);
    summary(police, day, s3);
    assert_int_equal(s3[1], s1[1]);

    /* Overdue: at the deadline not yet; the day after, listed and flagged. */
    assert_null(listed(police, due, q_overdue, nid));
    it = listed(police, due, q_open, nid);
    assert_non_null(it);
    assert_true(json_is_false(json_object_get(it, "overdue")));
    json_decref(it);
    summary(police, due, s2);
    it = listed(police, late, q_overdue, nid);
    assert_non_null(it);
    assert_true(json_is_true(json_object_get(it, "overdue")));
    json_decref(it);
    summary(police, late, s3);
    assert_int_equal(s3[2], s2[2] + 1);
    /* The supervising official sees what is overdue in the township. */
    it = listed(official, late, q_overdue, nid);
    assert_non_null(it);
    json_decref(it);
    assert_null(listed(civil, late, q_overdue, nid));

    /* The police station acknowledges, with what it did. */
    summary(police, late, s2);
    r = ack(police, late, nid, "{\"action_taken\":\"已派民警上门核查，患者在家\"}");
    assert_int_equal(r->status, 200);
    {
        const json_t *row = row_of(r->json, POLICE);
        assert_string_equal(test_jstr(row, "action_taken"), "已派民警上门核查，患者在家");
        assert_non_null(test_jstr(row, "acknowledged_at"));
        assert_int_equal(test_jint(row, "acknowledged_by"), strtoll(police_id, NULL, 10));
        assert_true(is_null(row_of(r->json, CLINIC), "acknowledged_at"));
    }
    http_free(r);
    summary(police, late, s3);
    assert_int_equal(s3[1], s2[1] - 1);
    assert_int_equal(s3[2], s2[2] - 1);
    assert_int_equal(s3[0], s2[0]);
    assert_int_equal(count_of("SELECT count(*) FROM audit_log WHERE action = 'notification.ack'"
                              " AND target_type = 'notification' AND target_id = $1::text",
                              nid),
                     1);
    /* Twice: 409, nothing changes. */
    r = ack(police, late, nid, "{\"action_taken\":\"再次上门\"}");
    http_assert_problem(r, 409, NULL);
    http_free(r);
    /* Acknowledged under the test clock: at noon of that day. */
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients r JOIN users u ON"
                              " u.id = r.acknowledged_by WHERE r.notification_id = $1 AND"
                              " u.username = 'tf.police' AND r.action_taken ="
                              " '已派民警上门核查，患者在家' AND r.acknowledged_at ="
                              " '2027-03-12 12:00:00+08' AND r.read_at IS NOT NULL",
                              nid),
                     1);
    /* No longer open for the police station; still overdue for the others. */
    assert_null(listed(police, late, q_open, nid));
    assert_null(listed(police, late, q_overdue, nid));
    assert_null(listed(police, late, q_acked, nid));
    it = listed(police, late, q_all, nid);
    assert_non_null(it);
    assert_true(json_is_true(json_object_get(it, "overdue")));
    json_decref(it);

    /* Everyone else acknowledges: acknowledged, no longer overdue. */
    r = ack(doctor, late, nid, "{\"action_taken\":\"已安排复诊\"}");
    assert_int_equal(r->status, 200);
    http_free(r);
    r = ack(token_of(STABILITY), late, nid, "{\"action_taken\":\"已纳入重点管控\"}");
    assert_int_equal(r->status, 200);
    http_free(r);
    it = listed(police, late, q_acked, nid);
    assert_non_null(it);
    assert_true(json_is_false(json_object_get(it, "overdue")));
    json_decref(it);
    assert_null(listed(official, late, q_overdue, nid));
    free(q_open);
    free(q_all);
    free(q_overdue);
    free(q_acked);
    free(police_id);
    free(name);
}

/* A supervisor outside the notification's area cannot see it: 404 on
 * acknowledging, as for anyone else who cannot see it. */
static void acknowledging_what_you_cannot_see_is_404(void **state)
{
    const char *day = "2027-03-20";
    long long pid = create_patient("越权", g01, day), nid;
    http_res *r;

    (void)state;
    assess(pid, day, 5);
    nid = the_one(pid, "risk_high");
    r = get_one(yl_admin, day, nid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = ack(yl_admin, day, nid, "{\"action_taken\":\"已知悉\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Nor a notification that does not exist. */
    r = ack(official, day, 999999999, "{\"action_taken\":\"已知悉\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(count_of("SELECT count(*) FROM notification_recipients WHERE"
                              " notification_id = $1 AND acknowledged_at IS NOT NULL",
                              nid),
                     0);
}

/* Pages of one follow next_cursor, newest first; the kind filter; bad
 * queries name what is wrong. */
static void paging_filters_and_bad_queries(void **state)
{
    const char *day = "2027-04-06";
    long long pid = create_patient("分页", g01, "2027-04-01"), ids[5];
    char *body = test_fmt(INCIDENT, "2027-04-05"), *cursor = NULL;
    http_res *r;

    (void)state;
    visit(pid, "2027-04-02", "complete");
    assess(pid, "2027-04-03", 3);
    must_post(201, day, police, pid, "incidents", body);
    must_post(200, day, grid1, pid, "whereabouts-unknown", "{\"reported_on\":\"2027-04-06\"}");
    ids[0] = the_one(pid, "lost");
    ids[1] = the_one(pid, "incident");
    ids[3] = the_one(pid, "risk_high");
    /* The routine pushes of the visit's and the assessment's levels. */
    ids[2] = count_of("SELECT max(id) FROM notifications WHERE patient_id = $1"
                      " AND kind = 'risk_assessment'",
                      pid);
    ids[4] = count_of("SELECT min(id) FROM notifications WHERE patient_id = $1"
                      " AND kind = 'risk_assessment'",
                      pid);
    assert_true(ids[0] > ids[1] && ids[1] > ids[2] && ids[2] > ids[3] && ids[3] > ids[4]);
    assert_int_equal(notifications_of(pid), 3);

    for (int page = 0; page < 5; page++) {
        char *path = test_fmt("/api/v1/notifications?state=all&patient_id=%lld&limit=1%s%s", pid,
                              cursor ? "&cursor=" : "", cursor ? cursor : "");
        json_t *items, *next;
        r = expect(200, day, "GET", path, police, NULL);
        items = json_object_get(r->json, "items");
        assert_int_equal(json_array_size(items), 1);
        assert_int_equal(test_jint(json_array_get(items, 0), "id"), ids[page]);
        next = json_object_get(r->json, "next_cursor");
        free(cursor);
        cursor = NULL;
        if (page < 4) {
            assert_true(json_is_string(next));
            cursor = strdup(json_string_value(next));
        } else {
            assert_true(json_is_null(next));
        }
        http_free(r);
        free(path);
    }
    {
        char *path = test_fmt("/api/v1/notifications?state=all&patient_id=%lld&limit=2", pid);
        r = expect(200, day, "GET", path, police, NULL);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
        assert_true(json_is_string(json_object_get(r->json, "next_cursor")));
        http_free(r);
        free(path);
        path = test_fmt("/api/v1/notifications?state=open&kind=incident&patient_id=%lld", pid);
        r = expect(200, day, "GET", path, police, NULL);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
        assert_int_equal(test_jint(json_array_get(json_object_get(r->json, "items"), 0), "id"),
                         ids[1]);
        assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
        http_free(r);
        free(path);
        /* The default state is open. */
        path = test_fmt("/api/v1/notifications?patient_id=%lld", pid);
        r = expect(200, day, "GET", path, police, NULL);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 5);
        http_free(r);
        free(path);
    }

    {
        static const struct {
            const char *query, *field;
        } bad[] = {
            {"state=closed", "state"},      {"state=", "state"},
            {"kind=riot", "kind"},          {"kind=RISK_HIGH", "kind"},
            {"limit=0", "limit"},           {"limit=201", "limit"},
            {"limit=ten", "limit"},         {"cursor=not-a-cursor", "cursor"},
            {"cursor=", "cursor"},          {"patient_id=abc", "patient_id"},
            {"patient_id=0", "patient_id"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char *path = test_fmt("/api/v1/notifications?%s", bad[i].query);
            r = test_call(day, "GET", path, police, NULL);
            if (r->status != 400)
                fail_msg("GET %s: expected 400, got %ld %s", path, r->status, r->body);
            http_assert_problem(r, 400, bad[i].field);
            http_free(r);
            free(path);
        }
        r = test_call(day, "GET", "/api/v1/notifications?state=soon&kind=riot&limit=0&cursor=x",
                      police, NULL);
        http_assert_problem(r, 400, "state");
        http_assert_problem(r, 400, "kind");
        http_assert_problem(r, 400, "limit");
        http_assert_problem(r, 400, "cursor");
        http_free(r);
    }
    r = test_call(day, "GET", "/api/v1/notifications", NULL, NULL);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    r = test_call(day, "GET", "/api/v1/notifications/abc", police, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(body);
}

/* ---- webhook endpoints ---------------------------------------------------- */

/* Endpoint id of a registration by token that must succeed. */
static long long register_endpoint(const char *agency, const char *path)
{
    char *aid = test_agency_id(agency);
    char *body = test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook%s\",\"secret\":"
                          "\"" SECRET "\"}",
                          aid, path);
    http_res *r = expect(201, NULL, "POST", "/api/v1/webhook-endpoints", admin, body);
    long long id = test_jint(r->json, "id");
    char *loc = test_fmt("/api/v1/webhook-endpoints/%lld", id);

    assert_true(id > 0);
    assert_int_equal(test_jint(r->json, "agency_id"), strtoll(aid, NULL, 10));
    assert_string_equal(test_jstr(r->json, "agency_name"), agency);
    assert_true(json_is_true(json_object_get(r->json, "active")));
    assert_int_equal(json_array_size(json_object_get(r->json, "events")), 0);
    assert_null(json_object_get(r->json, "secret"));
    assert_null(json_object_get(r->json, "secret_cipher"));
    assert_null(strstr(r->body, SECRET));
    assert_non_null(http_header(r, "Location"));
    assert_string_equal(http_header(r, "Location"), loc);
    http_free(r);
    free(loc);
    free(aid);
    free(body);
    return id;
}

/* GET …/webhook-endpoints/{id}/deliveries as token: the response. */
static http_res *deliveries(const char *token, long long ep, const char *query)
{
    char *path = test_fmt("/api/v1/webhook-endpoints/%lld/deliveries%s", ep, query ? query : "");
    http_res *r = test_call(NULL, "GET", path, token, NULL);

    free(path);
    return r;
}

static long deliveries_of(long long ep, long long nid)
{
    char a[32], b[32];
    const char *p[] = {a, b};

    snprintf(a, sizeof(a), "%lld", ep);
    snprintf(b, sizeof(b), "%lld", nid);
    return db_count("SELECT count(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
                    " WHERE d.endpoint_id = $1 AND (o.payload->>'notification_id')::bigint = $2",
                    2, p);
}

/* [R-NOTE-7] */
static void webhook_endpoints_and_deliveries(void **state)
{
    char *police_agency = test_agency_id(POLICE);
    const char *endpoints = "SELECT count(*) FROM webhook_endpoints";
    long before = db_count(endpoints, 0, NULL);
    long long ep, clinic_ep, pid, nid, nid2, nid3;
    http_res *r;

    (void)state;
    /* Refused registrations store nothing. */
    {
        char long_url[600], long_secret[140];
        struct {
            char *body;
            const char *field;
        } bad[] = {
            {test_fmt("{\"agency_id\":%s,\"url\":\"ftp://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                      "\"}",
                      police_agency),
             "url"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"127.0.0.1:9/hook\",\"secret\":\"" SECRET "\"}",
                      police_agency),
             "url"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://\",\"secret\":\"" SECRET "\"}",
                      police_agency),
             "url"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/a hook\",\"secret\":"
                      "\"" SECRET "\"}",
                      police_agency),
             "url"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/\\nhook\",\"secret\":"
                      "\"" SECRET "\"}",
                      police_agency),
             "url"},
            {test_fmt("{\"agency_id\":%s,\"secret\":\"" SECRET "\"}", police_agency), "url"},
            {test_fmt("{\"agency_id\":%s,\"url\":7,\"secret\":\"" SECRET "\"}", police_agency),
             "url"},
            {NULL, "url"}, /* 501 characters */
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":"
                      "\"0123456789012345678901234567890\"}",
                      police_agency),
             "secret"},
            {NULL, "secret"}, /* 129 characters */
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\"}", police_agency),
             "secret"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":12}",
                      police_agency),
             "secret"},
            {strdup("{\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET "\"}"),
             "agency_id"},
            {strdup("{\"agency_id\":0,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                    "\"}"),
             "agency_id"},
            {test_fmt("{\"agency_id\":\"%s\",\"url\":\"http://127.0.0.1:9/hook\",\"secret\":"
                      "\"" SECRET "\"}",
                      police_agency),
             "agency_id"},
            {strdup("{\"agency_id\":999999999,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":"
                    "\"" SECRET "\"}"),
             "agency_id"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                      "\",\"active\":false}",
                      police_agency),
             "active"},
            /* Record-change subscriptions: an array of known kinds, each once. */
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                      "\",\"events\":\"patient.registered\"}",
                      police_agency),
             "events"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                      "\",\"events\":[\"patient.bogus\"]}",
                      police_agency),
             "events[0]"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                      "\",\"events\":[\"patient.registered\",3]}",
                      police_agency),
             "events[1]"},
            {test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"" SECRET
                      "\",\"events\":[\"patient.discharged\",\"patient.discharged\"]}",
                      police_agency),
             "events[1]"},
        };
        memset(long_url, 'a', sizeof(long_url));
        memcpy(long_url, "http://127.0.0.1:9/hook", 23);
        long_url[501] = '\0';
        memset(long_secret, 'k', sizeof(long_secret));
        long_secret[129] = '\0';
        bad[7].body = test_fmt("{\"agency_id\":%s,\"url\":\"%s\",\"secret\":\"" SECRET "\"}",
                               police_agency, long_url);
        bad[9].body =
            test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"%s\"}",
                     police_agency, long_secret);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = test_call(NULL, "POST", "/api/v1/webhook-endpoints", admin, bad[i].body);
            if (r->status != 400)
                fail_msg("bad endpoint %zu: expected 400, got %ld %s", i, r->status, r->body);
            http_assert_problem(r, 400, bad[i].field);
            http_free(r);
            free(bad[i].body);
        }
    }
    {
        char *body = test_fmt("{\"agency_id\":%s,\"url\":\"http://127.0.0.1:9/hook\",\"secret\":"
                              "\"" SECRET "\"}",
                              police_agency);
        /* Only admins register; a township's admin only for its own agencies. */
        r = test_call(NULL, "POST", "/api/v1/webhook-endpoints", police, body);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = test_call(NULL, "POST", "/api/v1/webhook-endpoints", svc, body);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = test_call(NULL, "POST", "/api/v1/webhook-endpoints", yl_admin, body);
        http_assert_problem(r, 400, "agency_id");
        http_free(r);
        r = test_call(NULL, "POST", "/api/v1/webhook-endpoints", NULL, body);
        http_assert_problem(r, 401, NULL);
        http_free(r);
        free(body);
    }
    assert_int_equal(db_count(endpoints, 0, NULL), before);

    /* The county admin registers the police station's system, and the
     * clinic's. The secret is sealed, never answered. */
    ep = register_endpoint(POLICE, "");
    clinic_ep = register_endpoint(CLINIC, "/clinic");
    assert_int_equal(db_count(endpoints, 0, NULL), before + 2);
    {
        char t[32];
        const char *p[] = {t, SECRET};
        snprintf(t, sizeof(t), "%lld", ep);
        assert_int_equal(db_count("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND"
                                  " position(convert_to($2, 'UTF8') in secret_cipher) = 0 AND"
                                  " length(secret_cipher) >= length($2) + 28 AND url ="
                                  " 'http://127.0.0.1:9/hook' AND active",
                                  2, p),
                         1);
    }
    /* Nothing delivered yet. */
    r = deliveries(admin, ep, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    http_free(r);

    /* A new risk_high: a pending delivery for each recipient's endpoint. */
    pid = create_patient("推送", g01, "2027-05-04");
    assess(pid, "2027-05-04", 3);
    nid = the_one(pid, "risk_high");
    assert_int_equal(deliveries_of(ep, nid), 1);
    assert_int_equal(deliveries_of(clinic_ep, nid), 1);
    {
        char t[32], *event;
        const char *p[] = {t};
        const char *who[] = {admin, svc};
        snprintf(t, sizeof(t), "%lld", nid);
        event = db_scalar("SELECT event_id::text FROM outbox WHERE (payload->>'notification_id')"
                          "::bigint = $1",
                          1, p);
        assert_non_null(event);
        for (size_t i = 0; i < 2; i++) {
            json_t *items, *d;
            r = deliveries(who[i], ep, NULL);
            if (r->status != 200)
                fail_msg("deliveries as %zu: %ld %s", i, r->status, r->body);
            items = json_object_get(r->json, "items");
            /* The risk_high, and the routine push of the assessment. */
            assert_int_equal(json_array_size(items), 2);
            d = json_array_get(items, 0);
            if (strcmp(test_jstr(d, "topic"), "notification.risk_high") != 0)
                d = json_array_get(items, 1);
            assert_string_equal(test_jstr(d, "topic"), "notification.risk_high");
            assert_string_equal(test_jstr(d, "state"), "pending");
            assert_string_equal(test_jstr(d, "event_id"), event);
            assert_int_equal(test_jint(d, "attempts"), 0);
            assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
            http_free(r);
        }
        r = deliveries(svc, ep, "?state=pending&limit=1");
        assert_int_equal(r->status, 200);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
        http_free(r);
        r = deliveries(admin, ep, "?state=dead");
        assert_int_equal(r->status, 200);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
        http_free(r);
        r = deliveries(admin, ep, "?state=lost");
        http_assert_problem(r, 400, "state");
        http_free(r);
        free(event);
    }
    /* The service account sees its agency's endpoint only. */
    r = deliveries(svc, clinic_ep, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = deliveries(yl_admin, ep, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = deliveries(yl_doctor, ep, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    {
        /* One endpoint: the admin and the agency's own system read it (no
         * secret); another agency's people and other townships do not. */
        char *one = test_fmt("/api/v1/webhook-endpoints/%lld", ep);
        r = expect(200, NULL, "GET", one, admin, NULL);
        assert_int_equal(test_jint(r->json, "id"), ep);
        assert_null(json_object_get(r->json, "secret"));
        assert_null(json_object_get(r->json, "secret_cipher"));
        http_free(r);
        r = expect(200, NULL, "GET", one, svc, NULL);
        http_free(r);
        r = test_call(NULL, "GET", one, police, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = test_call(NULL, "GET", one, yl_admin, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = test_call(NULL, "GET", "/api/v1/webhook-endpoints/abc", admin, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(one);
    }
    r = expect(200, NULL, "GET", "/api/v1/webhook-endpoints", svc, NULL);
    {
        json_t *items = json_object_get(r->json, "items"), *x;
        size_t i;
        int seen = 0;
        json_array_foreach(items, i, x)
        {
            assert_int_equal(test_jint(x, "agency_id"), strtoll(police_agency, NULL, 10));
            assert_int_not_equal(test_jint(x, "id"), clinic_ep);
            seen += test_jint(x, "id") == ep;
            assert_null(json_object_get(x, "secret"));
        }
        assert_int_equal(seen, 1);
    }
    assert_null(strstr(r->body, SECRET));
    http_free(r);
    {
        char *path = test_fmt("/api/v1/webhook-endpoints/%lld", ep);
        char *cpath = test_fmt("/api/v1/webhook-endpoints/%lld", clinic_ep);
        r = test_call(NULL, "PATCH", path, svc, "{\"active\":false}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = test_call(NULL, "PATCH", cpath, svc, "{\"active\":false}");
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = test_call(NULL, "PATCH", path, yl_admin, "{\"active\":false}");
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = test_call(NULL, "PATCH", path, admin, "{\"url\":\"gopher://x/y\"}");
        http_assert_problem(r, 400, "url");
        http_free(r);
        r = test_call(NULL, "PATCH", path, admin, "{\"active\":\"no\"}");
        http_assert_problem(r, 400, "active");
        http_free(r);
        r = test_call(NULL, "PATCH", path, admin, "{\"events\":[\"patient.moved\"]}");
        http_assert_problem(r, 400, "events[0]");
        http_free(r);
        r = test_call(NULL, "PATCH", path, svc, "{\"events\":[\"patient.transferred\"]}");
        http_assert_problem(r, 403, NULL);
        http_free(r);
        assert_int_equal(count_of("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND"
                                  " events = '{}'",
                                  ep),
                         1);
        /* Subscribed, and the list replaced by the next change of it. */
        r = expect(200, NULL, "PATCH", path, admin,
                   "{\"events\":[\"patient.transferred\",\"patient.risk_crossed\"]}");
        assert_int_equal(json_array_size(json_object_get(r->json, "events")), 2);
        assert_string_equal(json_string_value(json_array_get(json_object_get(r->json, "events"), 0)),
                            "patient.transferred");
        http_free(r);
        r = expect(200, NULL, "PATCH", path, admin, "{\"events\":[]}");
        assert_int_equal(json_array_size(json_object_get(r->json, "events")), 0);
        http_free(r);
        assert_int_equal(count_of("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND"
                                  " active",
                                  ep),
                         1);

        /* A notification the police station does not receive: nothing for
         * its endpoint. */
        {
            char *rep = test_fmt("{\"name\":\"通报%s推送疑\",\"address\":\"梅苑路9号\","
                                 "\"report_note\":\"自言自语\",\"org_unit_id\":%s}",
                                 cn_unique, g01);
            long long sid;
            r = expect(201, "2027-05-05", "POST", "/api/v1/suspected-reports", grid1, rep);
            sid = test_jint(r->json, "id");
            http_free(r);
            nid2 = the_one(sid, "suspected_reported");
            assert_int_equal(deliveries_of(ep, nid2), 0);
            assert_int_equal(deliveries_of(clinic_ep, nid2), 1);
            free(rep);
        }

        /* Deactivated: new notifications create no delivery for it. */
        r = expect(200, NULL, "PATCH", path, admin, "{\"active\":false}");
        assert_true(json_is_false(json_object_get(r->json, "active")));
        assert_null(strstr(r->body, SECRET));
        http_free(r);
        must_post(201, "2027-05-06", police, pid, "incidents",
                  "{\"occurred_on\":\"2027-05-06\",\"place\":\"梅苑路\",\"kind\":"
                  "\"mild_trouble\",\"injured\":0,\"dead\":0}");
        nid3 = the_one(pid, "incident");
        assert_int_equal(deliveries_of(ep, nid3), 0);
        assert_int_equal(deliveries_of(clinic_ep, nid3), 1);
        r = deliveries(admin, ep, NULL);
        assert_int_equal(r->status, 200);
        /* The risk_high and the push of its assessment, from before. */
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
        http_free(r);
        r = expect(200, NULL, "PATCH", cpath, admin, "{\"active\":false}");
        http_free(r);
        free(path);
        free(cpath);
    }
    free(police_agency);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(risk_high_when_the_level_crosses_to_3),
        cmocka_unit_test(unstable_when_a_visit_becomes_unstable),
        cmocka_unit_test(lost_after_three_misses),
        cmocka_unit_test(lost_when_whereabouts_are_unknown),
        cmocka_unit_test(suspected_reported_to_clinic_and_centre),
        cmocka_unit_test(incident_to_every_agency),
        cmocka_unit_test(inbox_read_acknowledge_and_overdue),
        cmocka_unit_test(acknowledging_what_you_cannot_see_is_404),
        cmocka_unit_test(paging_filters_and_bad_queries),
        cmocka_unit_test(webhook_endpoints_and_deliveries),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
