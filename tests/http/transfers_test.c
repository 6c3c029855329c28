/* HTTP suite: transfers (流转, 双通报/双管控) and the periodic information
 * exchange (定期信息交换). A patient moving from a 泰丰 grid to a 园林 grid is
 * moved out and pending; both sides see the transfer, the receiving side
 * reads (but may not change) the record, both sides' clinic and police
 * station are notified, and a dangerous patient leaving raises an
 * immediate notice. Accepting moves the record (a visit due within 14
 * days), returning or cancelling leaves it in care where it was. Every
 * refusal writes nothing. Exports are cut to the receiving agency's view,
 * as NDJSON or CSV (with a BOM), for officials, admins and the agency's
 * own service account, and audited with their record count. Histories are
 * played through time with X-Test-Date. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 13 /* keeps this suite's ID numbers apart from the others' */

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""
#define CREATED_ON "2026-10-01" /* the patients are registered on this day */
#define MOVED_ON "2026-10-02"
#define TRANSFER_DAY "2026-10-03" /* "today" when the transfer is recorded */

/* Agencies by name. */
#define TF_POLICE "泰丰派出所"
#define TF_CLINIC "泰丰街道社区卫生服务中心"
#define TF_CIVIL "泰丰街道民政办"
#define YL_POLICE "园林派出所"
#define YL_CLINIC "园林街道社区卫生服务中心"
#define CENTRE "潜江市精神卫生中心"

static char *doctor, *yl_doctor, *grid1, *police, *civil, *official, *tf_admin, *yl_admin,
    *root_admin, *svc_police;
static char *g01, *g02, *tf_town, *yl_grid, *yl_village, *yl_town, *county;
static char cn_unique[64];   /* test_unique() in Chinese numerals */
static long long moved_away; /* a patient accepted by 园林 today (0: none yet) */

/* ---- helpers ---------------------------------------------------------- */

/* Fail unless r has status; returns r. */
static http_res *want(http_res *r, long status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld %s", what, status, r->status, r->body);
    return r;
}

/* Register a patient as the doctor on CREATED_ON in unit (NULL: grid 1)
 * with extra fields (",\"k\":v…" or NULL); returns its id, *id18 the ID. */
static long long create_patient_x(const char *tag, const char *unit, const char *extra,
                                  char id18[19])
{
    char *more = test_fmt(DIAG "%s", extra ? extra : "");
    long long pid = test_patient(doctor, CREATED_ON, "流转", tag, unit ? unit : g01, SUITE_SALT,
                                 more, id18);

    free(more);
    return pid;
}

static long long create_patient(const char *tag)
{
    return create_patient_x(tag, NULL, NULL, NULL);
}

/* A stable visit that reached the patient on date, as token. */
static void visit(const char *token, long long pid, const char *date)
{
    test_stable_visit(token, pid, date);
}

/* POST /patients/{pid}/transfers as token on date. */
static http_res *post_transfer(const char *token, long long pid, const char *body, const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/transfers", pid);
    http_res *r = test_call(date, "POST", path, token, body);

    free(path);
    return r;
}

/* A transfer to unit (or to_address when unit is NULL) that must be
 * accepted; returns the transfer id. */
static long long transfer_to(long long pid, const char *unit)
{
    char *body = unit ? test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON
                                 "\",\"reason\":\"随子女迁居\"}",
                                 unit)
                      : test_fmt("{\"to_address\":\"广东省深圳市宝安区\",\"moved_on\":\"" MOVED_ON
                                 "\",\"reason\":\"外出务工\"}");
    http_res *r = want(post_transfer(doctor, pid, body, TRANSFER_DAY), 201, "transfer");
    long long tid = test_jint(r->json, "id");

    assert_true(tid > 0);
    assert_string_equal(test_jstr(r->json, "state"), "pending");
    http_free(r);
    free(body);
    return tid;
}

/* POST /transfers/{tid}/{verb} as token on date. */
static http_res *decide(const char *token, long long tid, const char *verb, const char *body,
                        const char *date)
{
    char *path = test_fmt("/api/v1/transfers/%lld/%s", tid, verb);
    http_res *r = test_call(date, "POST", path, token, body ? body : "{}");

    free(path);
    return r;
}

/* GET /patients/{pid}{what} as token. */
static http_res *get_patient(const char *token, long long pid, const char *what)
{
    char *path = test_fmt("/api/v1/patients/%lld%s", pid, what ? what : "");
    http_res *r = test_call(NULL, "GET", path, token, NULL);

    free(path);
    return r;
}

/* PATCH the patient's phone as token (reading the version as admin). */
static long patch_phone(const char *token, long long pid)
{
    char *path = test_fmt("/api/v1/patients/%lld", pid);
    http_res *g = want(test_call(NULL, "GET", path, root_admin, NULL), 200, "read version");
    char *ifm = test_fmt("If-Match: \"%lld\"", test_jint(g->json, "version"));
    http_res *r = test_call_h(NULL, "PATCH", path, token, "{\"phone\":\"13912345678\"}", ifm);
    long status = r->status;

    http_free(r);
    http_free(g);
    free(ifm);
    free(path);
    return status;
}

/* One column of the patient's row, as text (free it). */
static char *patient_col(long long pid, const char *col)
{
    char idtxt[32], *sql = test_fmt("SELECT %s::text FROM patients WHERE id = $1", col), *v;
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    v = db_scalar(sql, 1, p);
    free(sql);
    return v;
}

static void assert_col(long long pid, const char *col, const char *expected)
{
    char *got = patient_col(pid, col);

    if (got == NULL || strcmp(got, expected) != 0)
        fail_msg("patient %lld: expected %s %s, got %s", pid, col, expected, got ? got : "(null)");
    free(got);
}

/* count(*) of sql with the patient id as $1 (and optionally s as $2). */
static long count_p(const char *sql, long long pid, const char *s)
{
    char idtxt[32];
    const char *p[] = {idtxt, s};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count(sql, s ? 2 : 1, p);
}

static long transfers_of(long long pid)
{
    return count_p("SELECT count(*) FROM transfers WHERE patient_id = $1", pid, NULL);
}

static long events_of(long long pid)
{
    return count_p("SELECT count(*) FROM patient_events WHERE patient_id = $1", pid, NULL);
}

/* Notifications of kind raised for the patient. */
static long notices(long long pid, const char *kind)
{
    return count_p("SELECT count(*) FROM notifications WHERE patient_id = $1 AND kind = $2", pid,
                   kind);
}

static long all_notices(long long pid)
{
    return count_p("SELECT count(*) FROM notifications WHERE patient_id = $1", pid, NULL);
}

/* Recipient rows of the patient's notifications of kind (when agency is
 * not NULL, only that agency's). */
static long recipients(long long pid, const char *kind, const char *agency)
{
    char idtxt[32];
    const char *p[] = {idtxt, kind, agency};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM notifications n JOIN notification_recipients r"
                    " ON r.notification_id = n.id LEFT JOIN agencies a ON a.id = r.agency_id"
                    " WHERE n.patient_id = $1 AND n.kind = $2"
                    " AND ($3::text IS NULL OR a.name = $3)",
                    3, p);
}

static long audits(const char *action, long long pid)
{
    return count_p("SELECT count(*) FROM audit_log WHERE target_id = $1::text AND action = $2", pid,
                   action);
}

/* Is there an item with "id" == id in the "items" of r? Returns it. */
static json_t *item_with_id(const http_res *r, long long id)
{
    json_t *it;
    size_t i;

    json_array_foreach(json_object_get(r->json, "items"), i, it)
    {
        if (test_jint(it, "id") == id)
            return it;
    }
    return NULL;
}

/* GET /transfers?query as token; fails unless 200. */
static http_res *list_transfers(const char *token, const char *query)
{
    char *path = test_fmt("/api/v1/transfers%s", query);
    http_res *r = want(test_call(NULL, "GET", path, token, NULL), 200, path);

    free(path);
    return r;
}

/* Everything the refused requests must leave as it was. */
typedef struct snapshot {
    long transfers, events, notices;
    char *status, *unit, *version;
} snapshot;

static snapshot snap(long long pid)
{
    snapshot s = {transfers_of(pid),
                  events_of(pid),
                  all_notices(pid),
                  patient_col(pid, "status"),
                  patient_col(pid, "org_unit_id"),
                  patient_col(pid, "version")};

    return s;
}

static void assert_unchanged(long long pid, snapshot *s, const char *what)
{
    snapshot now = snap(pid);

    if (now.transfers != s->transfers || now.events != s->events || now.notices != s->notices ||
        strcmp(now.status, s->status) != 0 || strcmp(now.unit, s->unit) != 0 ||
        strcmp(now.version, s->version) != 0)
        fail_msg("%s wrote something: transfers %ld→%ld events %ld→%ld notifications %ld→%ld"
                 " status %s→%s unit %s→%s version %s→%s",
                 what, s->transfers, now.transfers, s->events, now.events, s->notices, now.notices,
                 s->status, now.status, s->unit, now.unit, s->version, now.version);
    free(now.status);
    free(now.unit);
    free(now.version);
}

static void snap_free(snapshot *s)
{
    free(s->status);
    free(s->unit);
    free(s->version);
}

/* The range the export tests ask for: days either side of CREATED_ON,
 * the day the records of their patients belong to (an export selects by
 * the dates of the records, which the test clock sets). */
static void export_range(char from[11], char to[11])
{
    snprintf(from, 11, "%s", "2026-09-29");
    snprintf(to, 11, "%s", "2026-10-03");
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    grid1 = http_login("tf.grid1", NULL);
    police = http_login("tf.police", NULL);
    civil = http_login("tf.civil", NULL);
    official = http_login("tf.official", NULL);
    tf_admin = http_login("tf.admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    root_admin = http_login("admin", NULL);
    svc_police = http_login("svc.police", NULL);
    g01 = test_unit_id("429005003001G01");
    g02 = test_unit_id("429005003001G02");
    tf_town = test_unit_id("429005003");
    yl_grid = test_unit_id("429005001001G01");
    yl_village = test_unit_id("429005001002");
    yl_town = test_unit_id("429005001");
    county = test_unit_id("429005");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor,   &yl_doctor, &grid1,      &police,     &civil, &official,
                    &tf_admin, &yl_admin,  &root_admin, &svc_police, &g01,   &g02,
                    &tf_town,  &yl_grid,   &yl_village, &yl_town,    &county};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- a transfer accepted by the receiving side ---------------------------- */

/* [R-XFER-1] */
static void transfer_then_accept(void **state)
{
    long long pid = create_patient("迁园林"), tid;
    long events_before;
    char *body = test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON
                          "\",\"reason\":\"随子女迁居园林\"}",
                          yl_grid),
         *loc;
    http_res *r;
    json_t *it;

    (void)state;
    /* A patient in care: reached at home the day before moving. */
    visit(doctor, pid, "2026-10-01");
    assert_col(pid, "status", "in_care");
    events_before = events_of(pid);

    /* Recorded by the sending side: pending, the patient moved out. */
    r = want(post_transfer(doctor, pid, body, TRANSFER_DAY), 201, "transfer");
    tid = test_jint(r->json, "id");
    assert_true(tid > 0);
    loc = test_fmt("/api/v1/transfers/%lld", tid);
    assert_non_null(http_header(r, "Location"));
    assert_string_equal(http_header(r, "Location"), loc);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_string_equal(test_jstr(r->json, "state"), "pending");
    assert_int_equal(test_jint(r->json, "from_unit_id"), strtoll(g01, NULL, 10));
    assert_string_equal(test_jstr(r->json, "from_unit_name"), "梅苑社区第一网格");
    assert_int_equal(test_jint(r->json, "to_unit_id"), strtoll(yl_grid, NULL, 10));
    assert_string_equal(test_jstr(r->json, "to_unit_name"), "红梅社区第一网格");
    assert_string_equal(test_jstr(r->json, "moved_on"), MOVED_ON);
    assert_string_equal(test_jstr(r->json, "reason"), "随子女迁居园林");
    assert_true(json_is_null(json_object_get(r->json, "decided_on")));
    http_free(r);
    free(loc);
    assert_int_equal(transfers_of(pid), 1);
    assert_col(pid, "status", "moved_out");
    assert_col(pid, "org_unit_id", g01);
    assert_int_equal(events_of(pid), events_before + 1);
    assert_int_equal(count_p("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                             " AND kind = 'status' AND from_status = 'in_care'"
                             " AND to_status = 'moved_out' AND event_date = '" MOVED_ON "'",
                             pid, NULL),
                     1);
    assert_int_equal(audits("transfer.create", pid), 1);
    /* Nothing is due from a record that is moving. */
    r = want(get_patient(doctor, pid, "/clinical-state"), 200, "clinical-state");
    assert_string_equal(test_jstr(r->json, "status"), "moved_out");
    assert_true(json_is_null(json_object_get(r->json, "next_due")));
    http_free(r);

    /* Both sides see it: outgoing for 泰丰, incoming for 园林. */
    r = list_transfers(doctor, "?direction=outgoing&state=pending");
    it = item_with_id(r, tid);
    assert_non_null(it);
    assert_int_equal(test_jint(it, "patient_id"), pid);
    assert_string_equal(test_jstr(it, "state"), "pending");
    http_free(r);
    r = list_transfers(doctor, "?direction=incoming");
    assert_null(item_with_id(r, tid));
    http_free(r);
    r = list_transfers(yl_doctor, "?direction=incoming&state=pending");
    it = item_with_id(r, tid);
    assert_non_null(it);
    assert_string_equal(test_jstr(it, "to_unit_name"), "红梅社区第一网格");
    http_free(r);
    r = list_transfers(yl_doctor, "?direction=outgoing");
    assert_null(item_with_id(r, tid));
    http_free(r);
    r = list_transfers(yl_doctor, "?direction=incoming&state=accepted");
    assert_null(item_with_id(r, tid));
    http_free(r);
    r = list_transfers(yl_doctor, ""); /* incoming by default */
    assert_non_null(item_with_id(r, tid));
    http_free(r);
    /* The sending grid sees it go out; another grid of 泰丰 does not. */
    r = list_transfers(grid1, "?direction=outgoing");
    assert_non_null(item_with_id(r, tid));
    http_free(r);
    {
        char *grid2 = http_login("tf.grid2", NULL);
        r = list_transfers(grid2, "?direction=outgoing");
        assert_null(item_with_id(r, tid));
        http_free(r);
        free(grid2);
    }

    /* 双管控: the receiving side reads the record, but may not change it. */
    r = want(get_patient(yl_doctor, pid, NULL), 200, "incoming read");
    assert_int_equal(test_jint(r->json, "id"), pid);
    assert_string_equal(test_jstr(r->json, "status"), "moved_out");
    http_free(r);
    test_audit_settle();
    assert_int_equal(count_p("SELECT count(*) FROM audit_log WHERE target_id = $1::text"
                             " AND action = 'patient.read' AND username = 'yl.doctor'",
                             pid, NULL),
                     1);
    assert_int_equal(patch_phone(yl_doctor, pid), 404);
    {
        char *phone = patient_col(pid, "phone");
        assert_null(phone);
        free(phone);
    }
    /* The sending side still reads it. */
    http_free(want(get_patient(doctor, pid, NULL), 200, "sender read"));

    /* 双通报: the sending side's clinic and police station, the receiving
     * side's too; a patient of no risk raises no 'leaving'. */
    assert_int_equal(notices(pid, "transfer_out"), 1);
    assert_int_equal(recipients(pid, "transfer_out", NULL), 2);
    assert_int_equal(recipients(pid, "transfer_out", TF_CLINIC), 1);
    assert_int_equal(recipients(pid, "transfer_out", TF_POLICE), 1);
    assert_int_equal(notices(pid, "transfer_in"), 1);
    assert_int_equal(recipients(pid, "transfer_in", NULL), 2);
    assert_int_equal(recipients(pid, "transfer_in", YL_CLINIC), 1);
    assert_int_equal(recipients(pid, "transfer_in", YL_POLICE), 1);
    assert_int_equal(notices(pid, "leaving"), 0);
    {
        char idtxt[32], tidtxt[32];
        const char *p[] = {idtxt, tidtxt};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        snprintf(tidtxt, sizeof(tidtxt), "%lld", tid);
        assert_int_equal(db_count("SELECT count(*) FROM notifications WHERE patient_id = $1"
                                  " AND kind IN ('transfer_out', 'transfer_in')"
                                  " AND detail->>'transfer_id' = $2",
                                  2, p),
                         2);
    }
    /* The receiving clinic finds it in its inbox. */
    {
        char *path = test_fmt("/api/v1/notifications?kind=transfer_in&patient_id=%lld", pid);
        r = want(test_call(NULL, "GET", path, yl_doctor, NULL), 200, path);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
        http_free(r);
        free(path);
    }

    /* Only the receiving side decides: the sender may not accept it. */
    http_assert_problem(r = decide(doctor, tid, "accept", NULL, "2026-10-06"), 404, NULL);
    http_free(r);
    http_assert_problem(r = decide(grid1, tid, "accept", NULL, "2026-10-06"), 404, NULL);
    http_free(r);
    /* A decision dated in the future is refused. */
    http_assert_problem(
        r = decide(yl_doctor, tid, "accept", "{\"date\":\"2026-10-07\"}", "2026-10-06"), 400,
        "date");
    http_free(r);
    http_assert_problem(
        r = decide(yl_doctor, tid, "accept", "{\"date\":\"2026-10-06\",\"x\":1}", "2026-10-06"),
        400, "x");
    http_free(r);
    assert_col(pid, "status", "moved_out");
    assert_col(pid, "org_unit_id", g01);

    /* Accepted by 园林 (today being 6 October): the record moves there, in
     * care, with a visit due within two weeks. */
    r = want(decide(yl_doctor, tid, "accept", NULL, "2026-10-06"), 200, "accept");
    assert_int_equal(test_jint(r->json, "id"), tid);
    assert_string_equal(test_jstr(r->json, "state"), "accepted");
    assert_string_equal(test_jstr(r->json, "decided_on"), "2026-10-06");
    assert_true(test_jint(r->json, "decided_by") > 0);
    http_free(r);
    assert_col(pid, "status", "in_care");
    assert_col(pid, "org_unit_id", yl_grid);
    assert_int_equal(count_p("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                             " AND kind = 'status' AND from_status = 'moved_out'"
                             " AND to_status = 'in_care' AND event_date = '2026-10-06'",
                             pid, NULL),
                     1);
    assert_int_equal(audits("transfer.accept", pid), 1);
    /* The receiving side must visit within two weeks of accepting, whatever
     * the visits before the move would have allowed. */
    r = want(get_patient(yl_doctor, pid, "/clinical-state"), 200, "clinical-state");
    assert_string_equal(test_jstr(r->json, "status"), "in_care");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-10-20");
    assert_string_equal(test_jstr(r->json, "due_rule"), "transfer_14d");
    assert_string_equal(test_jstr(r->json, "last_reached_on"), "2026-10-01");
    http_free(r);
    r = want(get_patient(yl_doctor, pid, NULL), 200, "receiver read");
    assert_int_equal(test_jint(r->json, "org_unit_id"), strtoll(yl_grid, NULL, 10));
    assert_string_equal(test_jstr(r->json, "org_unit_name"), "红梅社区第一网格");
    http_free(r);
    /* The sending side learns the outcome, and no longer sees the record. */
    assert_int_equal(count_p("SELECT count(*) FROM notifications WHERE patient_id = $1"
                             " AND kind = 'transfer_out' AND detail->>'outcome' = 'accepted'",
                             pid, NULL),
                     1);
    assert_int_equal(notices(pid, "transfer_in"), 1);
    http_assert_problem(r = get_patient(doctor, pid, NULL), 404, NULL);
    http_free(r);
    http_assert_problem(r = get_patient(grid1, pid, NULL), 404, NULL);
    http_free(r);
    assert_int_equal(patch_phone(doctor, pid), 404);
    /* …and the receiving side now may change it. */
    assert_int_equal(patch_phone(yl_doctor, pid), 200);
    moved_away = pid;
    r = list_transfers(yl_doctor, "?direction=incoming&state=accepted");
    assert_non_null(item_with_id(r, tid));
    http_free(r);
    r = list_transfers(yl_doctor, "?direction=incoming&state=pending");
    assert_null(item_with_id(r, tid));
    http_free(r);

    /* Decided once: accepting again, returning or cancelling is 409 (or
     * hidden from the side that may not), and writes nothing. */
    {
        snapshot s = snap(pid);
        http_assert_problem(r = decide(yl_doctor, tid, "accept", NULL, "2026-10-07"), 409, NULL);
        http_free(r);
        http_assert_problem(
            r = decide(yl_doctor, tid, "return", "{\"note\":\"查无此人\"}", "2026-10-07"), 409,
            NULL);
        http_free(r);
        http_assert_problem(r = decide(doctor, tid, "cancel", NULL, "2026-10-07"), 409, NULL);
        http_free(r);
        assert_unchanged(pid, &s, "deciding a decided transfer");
        snap_free(&s);
    }
    assert_int_equal(audits("transfer.accept", pid), 1);

    /* The receiving side's first visit ends the two-week rule. */
    visit(yl_doctor, pid, "2026-10-12");
    r = want(get_patient(yl_doctor, pid, "/clinical-state"), 200, "clinical-state");
    assert_string_equal(test_jstr(r->json, "last_reached_on"), "2026-10-12");
    assert_string_not_equal(test_jstr(r->json, "due_rule"), "transfer_14d");
    assert_string_not_equal(test_jstr(r->json, "next_due"), "2026-10-20");
    http_free(r);
    free(body);
}

/* ---- a dangerous patient leaving ------------------------------------------ */

/* GET /transfers/{id}: both sides read it, nobody else. [R-XFER-1] */
static void either_side_reads_a_transfer(void **state)
{
    long long pid = create_patient("阅");
    long long tid = transfer_to(pid, yl_grid);
    char *path = test_fmt("/api/v1/transfers/%lld", tid);
    char *grid2 = http_login("tf.grid2", NULL);
    const char *readers[] = {doctor, yl_doctor, official, yl_admin};
    http_res *r;

    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
        r = test_call(NULL, "GET", path, readers[i], NULL);
        assert_int_equal(r->status, 200);
        assert_int_equal(test_jint(r->json, "id"), tid);
        assert_string_equal(test_jstr(r->json, "state"), "pending");
        http_free(r);
    }
    /* A grid worker of another grid in the sending township sees nothing. */
    r = test_call(NULL, "GET", path, grid2, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = test_call(NULL, "GET", "/api/v1/transfers/abc", doctor, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = want(decide(doctor, tid, "cancel", "{}", TRANSFER_DAY), 200, "cancel");
    http_free(r);
    free(grid2);
    free(path);
}

/* [R-NOTE-3] */
static void risk_three_patient_raises_leaving(void **state)
{
    long long pid = create_patient("高风险"), tid;
    char *path = test_fmt("/api/v1/patients/%lld/risk-assessments", pid);
    http_res *r;
    json_t *it;

    (void)state;
    http_free(
        want(test_call(CREATED_ON, "POST", path, doctor,
                       "{\"assessed_on\":\"" CREATED_ON "\",\"level\":3,\"tier\":\"township\"}"),
             201, "risk assessment"));
    assert_col(pid, "risk_level", "3");
    assert_int_equal(notices(pid, "leaving"), 0);

    tid = transfer_to(pid, yl_grid);
    /* At once to the police station and the mental-health centre. */
    assert_int_equal(notices(pid, "leaving"), 1);
    assert_int_equal(recipients(pid, "leaving", TF_POLICE), 1);
    assert_int_equal(recipients(pid, "leaving", CENTRE), 1);
    assert_int_equal(count_p("SELECT count(*) FROM notifications WHERE patient_id = $1"
                             " AND kind = 'leaving'"
                             " AND deadline_at <= created_at + interval '2 hours'",
                             pid, NULL),
                     1);
    assert_int_equal(notices(pid, "transfer_out"), 1);
    assert_int_equal(notices(pid, "transfer_in"), 1);
    assert_int_equal(recipients(pid, "transfer_in", YL_POLICE), 1);

    /* The lists show the risk to those who may see it, not to civil affairs. */
    r = list_transfers(yl_doctor, "?direction=incoming&state=pending");
    it = item_with_id(r, tid);
    assert_non_null(it);
    assert_int_equal(test_jint(it, "risk_level"), 3);
    http_free(r);
    r = list_transfers(civil, "?direction=outgoing&state=pending");
    it = item_with_id(r, tid);
    assert_non_null(it);
    assert_true(json_is_null(json_object_get(it, "risk_level")));
    http_free(r);

    /* Accepted with a date and a note. */
    r = want(decide(yl_doctor, tid, "accept", "{\"date\":\"2026-10-04\",\"note\":\"已入户核实\"}",
                    "2026-10-08"),
             200, "accept");
    assert_string_equal(test_jstr(r->json, "decided_on"), "2026-10-04");
    assert_string_equal(test_jstr(r->json, "decision_note"), "已入户核实");
    http_free(r);
    r = want(get_patient(yl_doctor, pid, "/clinical-state"), 200, "clinical-state");
    assert_string_equal(test_jstr(r->json, "status"), "in_care");
    assert_int_equal(test_jint(r->json, "risk_level"), 3);
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    http_free(r);
    /* Deciding does not raise 'leaving' again. */
    assert_int_equal(notices(pid, "leaving"), 1);
    free(path);
}

/* ---- returned, cancelled -------------------------------------------------- */

static void return_and_cancel(void **state)
{
    long long pid = create_patient("退回"), other = create_patient("撤回"), tid, tid2, tid3;
    http_res *r;

    (void)state;
    tid = transfer_to(pid, yl_grid);

    /* Returning needs a note saying why; nothing is written without one. */
    {
        snapshot s = snap(pid);
        http_assert_problem(r = decide(yl_doctor, tid, "return", NULL, "2026-10-05"), 400, "note");
        http_free(r);
        http_assert_problem(r = decide(yl_doctor, tid, "return", "{\"note\":\"\"}", "2026-10-05"),
                            400, "note");
        http_free(r);
        http_assert_problem(r = decide(yl_doctor, tid, "return", "{\"note\":null}", "2026-10-05"),
                            400, "note");
        http_free(r);
        /* The sending side does not return its own transfer. */
        http_assert_problem(r = decide(doctor, tid, "return", "{\"note\":\"不对\"}", "2026-10-05"),
                            404, NULL);
        http_free(r);
        /* Nor does the receiving side cancel it. */
        http_assert_problem(r = decide(yl_doctor, tid, "cancel", NULL, "2026-10-05"), 404, NULL);
        http_free(r);
        assert_unchanged(pid, &s, "refused decisions");
        snap_free(&s);
    }

    r = want(decide(yl_doctor, tid, "return", "{\"note\":\"新住址查无此人\"}", "2026-10-05"), 200,
             "return");
    assert_string_equal(test_jstr(r->json, "state"), "returned");
    assert_string_equal(test_jstr(r->json, "decision_note"), "新住址查无此人");
    assert_string_equal(test_jstr(r->json, "decided_on"), "2026-10-05");
    http_free(r);
    /* Back in care on the sending side; the receiving side no longer reads. */
    assert_col(pid, "status", "in_care");
    assert_col(pid, "org_unit_id", g01);
    assert_int_equal(count_p("SELECT count(*) FROM patient_events WHERE patient_id = $1"
                             " AND kind = 'status' AND from_status = 'moved_out'"
                             " AND to_status = 'in_care' AND event_date = '2026-10-05'"
                             " AND reason LIKE '%新住址查无此人%'",
                             pid, NULL),
                     1);
    assert_int_equal(audits("transfer.return", pid), 1);
    assert_int_equal(count_p("SELECT count(*) FROM notifications WHERE patient_id = $1"
                             " AND kind = 'transfer_out' AND detail->>'outcome' = 'returned'",
                             pid, NULL),
                     1);
    http_free(want(get_patient(doctor, pid, NULL), 200, "sender read"));
    http_assert_problem(r = get_patient(yl_doctor, pid, NULL), 404, NULL);
    http_free(r);
    assert_int_equal(patch_phone(doctor, pid), 200);
    r = want(get_patient(doctor, pid, "/clinical-state"), 200, "clinical-state");
    assert_string_equal(test_jstr(r->json, "status"), "in_care");
    assert_false(json_is_null(json_object_get(r->json, "next_due")));
    http_free(r);
    r = list_transfers(doctor, "?direction=outgoing&state=returned");
    assert_non_null(item_with_id(r, tid));
    http_free(r);

    /* Cancelled by the sender (no note needed). */
    tid2 = transfer_to(other, yl_grid);
    http_free(want(get_patient(yl_doctor, other, NULL), 200, "incoming read"));
    r = want(decide(doctor, tid2, "cancel", NULL, "2026-10-04"), 200, "cancel");
    assert_string_equal(test_jstr(r->json, "state"), "cancelled");
    assert_string_equal(test_jstr(r->json, "decided_on"), "2026-10-04");
    http_free(r);
    assert_col(other, "status", "in_care");
    assert_col(other, "org_unit_id", g01);
    assert_int_equal(audits("transfer.cancel", other), 1);
    http_assert_problem(r = get_patient(yl_doctor, other, NULL), 404, NULL);
    http_free(r);
    http_assert_problem(r = decide(doctor, tid2, "cancel", NULL, "2026-10-04"), 409, NULL);
    http_free(r);
    http_assert_problem(r = decide(yl_doctor, tid2, "accept", NULL, "2026-10-04"), 409, NULL);
    http_free(r);
    assert_col(other, "org_unit_id", g01);
    r = list_transfers(yl_doctor, "?direction=incoming&state=cancelled");
    assert_non_null(item_with_id(r, tid2));
    http_free(r);

    /* Once decided, the patient may be transferred again, and accepted. */
    tid3 = transfer_to(other, yl_village);
    assert_true(tid3 != tid2);
    assert_int_equal(transfers_of(other), 2);
    http_free(want(decide(yl_doctor, tid3, "accept", NULL, "2026-10-09"), 200, "accept"));
    assert_col(other, "org_unit_id", yl_village);
    assert_col(other, "status", "in_care");
}

/* ---- refusals ------------------------------------------------------------- */

static void refusals_write_nothing(void **state)
{
    long long pid = create_patient("拒绝"), sick = create_patient("住院"), tid;
    char *path;
    http_res *r;

    (void)state;
    /* Not to where the patient already lives, nor to a township, the
     * county or a unit that does not exist. */
    {
        const char *units[] = {g01, tf_town, yl_town, county, "999999999"};
        snapshot s = snap(pid);
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            char *body = test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON
                                  "\",\"reason\":\"迁居\"}",
                                  units[i]);
            r = post_transfer(doctor, pid, body, TRANSFER_DAY);
            if (r->status != 400)
                fail_msg("transfer to unit %s: expected 400, got %ld %s", units[i], r->status,
                         r->body);
            http_assert_problem(r, 400, "to_org_unit_id");
            http_free(r);
            free(body);
        }
        assert_unchanged(pid, &s, "transfers to bad units");
        snap_free(&s);
    }

    /* Roles: the grid worker, the police and officials may not; the other
     * township does not see the patient. */
    {
        char *body = test_fmt(
            "{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON "\",\"reason\":\"迁居\"}", yl_grid);
        snapshot s = snap(pid);
        http_assert_problem(r = post_transfer(grid1, pid, body, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = post_transfer(police, pid, body, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = post_transfer(official, pid, body, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = post_transfer(civil, pid, body, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = post_transfer(yl_doctor, pid, body, TRANSFER_DAY), 404, NULL);
        http_free(r);
        http_assert_problem(r = post_transfer(doctor, 999999999, body, TRANSFER_DAY), 404, NULL);
        http_free(r);
        assert_unchanged(pid, &s, "refused roles");
        snap_free(&s);

        /* One pending transfer at a time. */
        tid = transfer_to(pid, yl_grid);
        s = snap(pid);
        http_assert_problem(r = post_transfer(doctor, pid, body, TRANSFER_DAY), 409, NULL);
        http_free(r);
        http_assert_problem(r = post_transfer(tf_admin, pid,
                                              "{\"to_address\":\"武汉市\",\"moved_on\":\"" MOVED_ON
                                              "\",\"reason\":\"迁居\"}",
                                              TRANSFER_DAY),
                            409, NULL);
        http_free(r);
        /* The receiving side may read, not transfer it on. */
        http_assert_problem(r = post_transfer(yl_doctor, pid, body, TRANSFER_DAY), 404, NULL);
        http_free(r);
        assert_unchanged(pid, &s, "a second transfer");
        snap_free(&s);
        assert_int_equal(transfers_of(pid), 1);

        /* The grid worker and the police may not decide either. */
        http_assert_problem(r = decide(grid1, tid, "cancel", NULL, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = decide(police, tid, "cancel", NULL, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = decide(official, tid, "cancel", NULL, TRANSFER_DAY), 403, NULL);
        http_free(r);
        http_assert_problem(r = decide(yl_admin, tid, "cancel", NULL, TRANSFER_DAY), 404, NULL);
        http_free(r);
        assert_col(pid, "status", "moved_out");
        /* Unknown transfers. */
        http_assert_problem(r = decide(doctor, 999999999, "cancel", NULL, TRANSFER_DAY), 404, NULL);
        http_free(r);
        r = test_call(TRANSFER_DAY, "POST", "/api/v1/transfers/abc/cancel", doctor, "{}");
        assert_int_equal(r->status, 404);
        http_free(r);
        r = test_call(TRANSFER_DAY, "POST", "/api/v1/transfers/0/accept", yl_doctor, "{}");
        assert_int_equal(r->status, 404);
        http_free(r);
        free(body);
    }

    /* In hospital: discharge first. */
    path = test_fmt("/api/v1/patients/%lld/admissions", sick);
    http_free(
        want(test_call(TRANSFER_DAY, "POST", path, doctor,
                       "{\"admitted_on\":\"" MOVED_ON "\",\"hospital\":\"潜江市精神卫生中心\","
                       "\"involuntary\":false,\"reason\":\"病情复发\"}"),
             201, "admission"));
    assert_col(sick, "status", "hospitalised");
    {
        char *body = test_fmt(
            "{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON "\",\"reason\":\"迁居\"}", yl_grid);
        snapshot s = snap(sick);
        http_assert_problem(r = post_transfer(doctor, sick, body, TRANSFER_DAY), 409, "status");
        http_free(r);
        assert_unchanged(sick, &s, "transferring a hospitalised patient");
        snap_free(&s);
        free(body);
    }
    free(path);
}

/* ---- a move out of the system -------------------------------------------- */

static void move_outside_the_system(void **state)
{
    long long pid = create_patient("外地"), tid;
    http_res *r;
    json_t *it;

    (void)state;
    tid = transfer_to(pid, NULL);
    r = list_transfers(doctor, "?direction=outgoing&state=pending");
    it = item_with_id(r, tid);
    assert_non_null(it);
    assert_true(json_is_null(json_object_get(it, "to_unit_id")));
    assert_string_equal(test_jstr(it, "to_address"), "广东省深圳市宝安区");
    http_free(r);
    assert_col(pid, "status", "moved_out");
    /* Only the sending side is told; nobody in the system receives it. */
    assert_int_equal(notices(pid, "transfer_out"), 1);
    assert_int_equal(recipients(pid, "transfer_out", TF_POLICE), 1);
    assert_int_equal(notices(pid, "transfer_in"), 0);
    assert_int_equal(notices(pid, "leaving"), 0);
    r = list_transfers(root_admin, "?direction=incoming&state=pending");
    assert_null(item_with_id(r, tid));
    http_free(r);
    http_assert_problem(r = get_patient(yl_doctor, pid, NULL), 404, NULL);
    http_free(r);
    /* Nobody in the system accepts it; the sender may cancel. */
    http_assert_problem(r = decide(root_admin, tid, "accept", NULL, "2026-10-05"), 404, NULL);
    http_free(r);
    assert_col(pid, "status", "moved_out");
    r = want(decide(doctor, tid, "cancel", "{\"note\":\"未成行\"}", "2026-10-05"), 200, "cancel");
    assert_string_equal(test_jstr(r->json, "state"), "cancelled");
    http_free(r);
    assert_col(pid, "status", "in_care");
}

/* ---- bad input ------------------------------------------------------------ */

static void bad_inputs_write_nothing(void **state)
{
    static const struct {
        const char *key, *value, *field;
    } bad[] = {
        {"moved_on", NULL, "moved_on"},
        {"moved_on", "null", "moved_on"},
        {"moved_on", "\"2026-10-04\"", "moved_on"}, /* after today */
        {"moved_on", "\"2026-02-30\"", "moved_on"},
        {"moved_on", "\"2026/10/02\"", "moved_on"},
        {"moved_on", "20261002", "moved_on"},
        {"reason", NULL, "reason"},
        {"reason", "\"\"", "reason"},
        {"reason", "42", "reason"},
        {"reason", "\"迁\\u0001居\"", "reason"},
        {"to_org_unit_id", "0", "to_org_unit_id"},
        {"to_org_unit_id", "-3", "to_org_unit_id"},
        {"to_org_unit_id", "\"abc\"", "to_org_unit_id"},
        {"to_org_unit_id", "1.5", "to_org_unit_id"},
        {"to_org_unit_id", "999999999", "to_org_unit_id"},
        {"to_org_unit_id", NULL, "to_org_unit_id"}, /* neither a unit nor an address */
        {"to_address", "\"\"", "to_address"},
        {"to_address", "7", "to_address"},
        {"colour", "\"red\"", "colour"},
    };
    long long pid = create_patient("坏输入");
    char *base = test_fmt(
        "{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON "\",\"reason\":\"迁居\"}", yl_grid);
    snapshot s = snap(pid);
    char longtext[1600] = "";
    http_res *r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = json_loads(base, 0, NULL);
        char *body;

        assert_non_null(b);
        if (bad[i].value == NULL) {
            json_object_del(b, bad[i].key);
        } else {
            json_t *v = json_loads(bad[i].value, JSON_DECODE_ANY, NULL);
            assert_non_null(v);
            json_object_set_new(b, bad[i].key, v);
        }
        body = json_dumps(b, JSON_COMPACT);
        r = post_transfer(doctor, pid, body, TRANSFER_DAY);
        if (r->status != 400)
            fail_msg("transfer with %s=%s: expected 400, got %ld %s", bad[i].key,
                     bad[i].value ? bad[i].value : "(absent)", r->status, r->body);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
        free(body);
        json_decref(b);
    }
    /* Too long: a reason of 501 characters, an address of 201. */
    for (int i = 0; i < 501; i++)
        memcpy(longtext + 3 * i, "迁", 4); /* three bytes and the NUL */
    {
        char *body =
            test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"" MOVED_ON "\",\"reason\":\"%s\"}",
                     yl_grid, longtext);
        http_assert_problem(r = post_transfer(doctor, pid, body, TRANSFER_DAY), 400, "reason");
        http_free(r);
        free(body);
        longtext[201 * 3] = '\0';
        body = test_fmt("{\"to_address\":\"%s\",\"moved_on\":\"" MOVED_ON "\",\"reason\":\"迁居\"}",
                        longtext);
        http_assert_problem(r = post_transfer(doctor, pid, body, TRANSFER_DAY), 400, "to_address");
        http_free(r);
        free(body);
    }
    /* Not JSON, or not an object. */
    r = post_transfer(doctor, pid, "{\"moved_on\":", TRANSFER_DAY);
    assert_int_equal(r->status, 400);
    http_free(r);
    r = post_transfer(doctor, pid, "[1]", TRANSFER_DAY);
    assert_int_equal(r->status, 400);
    http_free(r);
    assert_unchanged(pid, &s, "bad transfers");
    snap_free(&s);
    assert_int_equal(audits("transfer.create", pid), 0);

    /* Bad list queries. */
    http_assert_problem(
        r = test_call(NULL, "GET", "/api/v1/transfers?direction=sideways", doctor, NULL), 400,
        "direction");
    http_free(r);
    http_assert_problem(r = test_call(NULL, "GET", "/api/v1/transfers?state=done", doctor, NULL),
                        400, "state");
    http_free(r);
    free(base);
}

/* ---- a decision must not bring a closed record back ---------------------- */

static void death_while_pending_is_not_undone(void **state)
{
    long long pid = create_patient("故去"), tid;
    char *path = test_fmt("/api/v1/patients/%lld/status", pid);
    http_res *r;

    (void)state;
    tid = transfer_to(pid, yl_grid);
    /* The patient dies before the receiving side decides. The status change
     * may be refused while the transfer is pending; if it is recorded, the
     * transfer can no longer move or revive the record. */
    r = test_call("2026-10-04", "POST", path, doctor,
                  "{\"status\":\"deceased\",\"date\":\"2026-10-04\",\"death_cause\":\"accident\"}");
    if (r->status == 200) {
        http_free(r);
        assert_col(pid, "status", "deceased");
        r = decide(yl_doctor, tid, "accept", NULL, "2026-10-05");
        if (r->status != 409)
            fail_msg("accepting the transfer of a patient who died meanwhile: expected 409,"
                     " got %ld %s",
                     r->status, r->body);
        http_free(r);
        assert_col(pid, "status", "deceased");
        assert_col(pid, "org_unit_id", g01);
        r = decide(doctor, tid, "cancel", NULL, "2026-10-05");
        http_free(r);
        assert_col(pid, "status", "deceased");
    } else {
        http_assert_problem(r, 409, NULL);
        http_free(r);
        assert_col(pid, "status", "moved_out");
    }
    free(path);
}

/* ---- a patient never visited, accepted later ----------------------------- */

/* [R-DUE-4] */
static void never_visited_patient_gets_two_weeks_after_acceptance(void **state)
{
    long long pid = create_patient("未访"), tid;
    http_res *r;

    (void)state;
    /* Registered on 1 October and never reached: due by 15 October there. */
    r = want(get_patient(doctor, pid, "/clinical-state"), 200, "clinical-state");
    assert_string_equal(test_jstr(r->json, "next_due"), "2026-10-15");
    assert_string_equal(test_jstr(r->json, "due_rule"), "new_14d");
    http_free(r);
    tid = transfer_to(pid, yl_grid);
    /* Accepted on 20 October: the receiving side has its two weeks from
     * then (3 November), not a date already past when it took the record. */
    http_free(want(decide(yl_doctor, tid, "accept", NULL, "2026-10-20"), 200, "accept"));
    assert_col(pid, "registered_on", CREATED_ON);
    r = want(get_patient(yl_doctor, pid, "/clinical-state"), 200, "clinical-state");
    if (test_jstr(r->json, "next_due") == NULL ||
        strcmp(test_jstr(r->json, "next_due"), "2026-11-03") != 0)
        fail_msg("never visited, accepted on 2026-10-20: expected next_due 2026-11-03, got %s"
                 " (due_rule %s)",
                 test_jstr(r->json, "next_due") ? test_jstr(r->json, "next_due") : "null",
                 test_jstr(r->json, "due_rule") ? test_jstr(r->json, "due_rule") : "null");
    assert_true(strcmp(test_jstr(r->json, "due_rule"), "transfer_14d") == 0 ||
                strcmp(test_jstr(r->json, "due_rule"), "new_14d") == 0);
    http_free(r);
}

/* ---- a decision dated before the move ------------------------------------ */

static void decision_before_the_move_is_refused(void **state)
{
    long long pid = create_patient("早于迁出"), tid;
    http_res *r;
    snapshot s;

    (void)state;
    tid = transfer_to(pid, yl_grid);
    s = snap(pid);
    /* Moved on 2 October: it cannot have been accepted (or returned) on 1
     * October — the record would restart its 14-day clock before it came. */
    r = decide(yl_doctor, tid, "accept", "{\"date\":\"2026-10-01\"}", "2026-10-06");
    if (r->status != 400)
        fail_msg("accepting on 2026-10-01 a move of " MOVED_ON ": expected 400, got %ld %s",
                 r->status, r->body);
    http_assert_problem(r, 400, "date");
    http_free(r);
    http_assert_problem(r = decide(yl_doctor, tid, "return",
                                   "{\"date\":\"2026-09-30\",\"note\":\"查无此人\"}", "2026-10-06"),
                        400, "date");
    http_free(r);
    assert_unchanged(pid, &s, "decisions dated before the move");
    snap_free(&s);
}

/* ---- exports -------------------------------------------------------------- */

/* GET the export as token with query; returns the response. */
static http_res *export(const char *token, const char *query)
{
    char *path = test_fmt("/api/v1/exports/patients?%s", query);
    http_res *r = http_do("GET", path, token, NULL, NULL);

    free(path);
    return r;
}

/* The NDJSON records of r (a JSON array; every line must parse). */
static json_t *records(const http_res *r)
{
    json_t *all = json_array();
    const char *p = r->body;

    while (*p) {
        const char *nl = strchr(p, '\n');
        char *line;
        json_t *j;

        if (nl == NULL)
            fail_msg("NDJSON does not end in a newline: %s", p);
        line = strndup(p, (size_t)(nl - p));
        j = json_loads(line, 0, NULL);
        if (!json_is_object(j))
            fail_msg("NDJSON line is not an object: %s", line);
        json_array_append_new(all, j);
        free(line);
        p = nl + 1;
    }
    return all;
}

static json_t *record_of(const json_t *recs, long long pid)
{
    json_t *it;
    size_t i;

    json_array_foreach(recs, i, it)
    {
        if (test_jint(it, "id") == pid)
            return it;
    }
    return NULL;
}

/* The audit row of the request r: action, target and record count. */
static void assert_export_audited(const http_res *r, const char *agency, size_t n,
                                  const char *format)
{
    char *rid = strdup(http_header(r, "X-Request-Id")), count[32];
    const char *p[] = {rid, agency, count, format};

    snprintf(count, sizeof(count), "%zu", n);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE request_id = $1"
                              " AND action = 'export.patients' AND target_type = 'agency'"
                              " AND target_id = $2 AND (detail->>'records')::int = $3::int"
                              " AND detail->>'format' = $4",
                              4, p),
                     1);
    free(rid);
}

static long export_audits(void)
{
    return db_count("SELECT count(*) FROM audit_log WHERE action = 'export.patients'", 0, NULL);
}

static void exports_cut_to_the_agency(void **state)
{
    char id18[19], from[11], to[11], *q, *tf_police = test_agency_id(TF_POLICE),
                                         *tf_civil = test_agency_id(TF_CIVIL),
                                         *tf_clinic = test_agency_id(TF_CLINIC);
    long long pid = create_patient_x("交换", g02,
                                     ",\"address\":\"梅苑路8号,3栋\\\"东\\\"单元\","
                                     "\"economic_status\":\"poor\",\"dibao\":true",
                                     id18);
    http_res *r, *c;
    json_t *recs, *rec, *it;
    size_t i, nclinic;

    (void)state;
    export_range(from, to);

    /* The police station: the whole ID number, never the diagnosis. */
    q = test_fmt("agency_id=%s&from=%s&to=%s", tf_police, from, to);
    r = want(export(official, q), 200, "police export");
    assert_string_equal(http_header(r, "Content-Type"), "application/x-ndjson");
    assert_non_null(http_header(r, "Content-Disposition"));
    assert_non_null(strstr(http_header(r, "Content-Disposition"), "attachment"));
    recs = records(r);
    rec = record_of(recs, pid);
    assert_non_null(rec);
    assert_string_equal(test_jstr(rec, "id_number"), id18);
    assert_string_equal(test_jstr(rec, "address"), "梅苑路8号,3栋\"东\"单元");
    json_array_foreach(recs, i, it)
    {
        assert_null(json_object_get(it, "diagnosis"));
        assert_null(json_object_get(it, "diagnosis_date"));
        assert_null(json_object_get(it, "economic_status"));
        assert_null(json_object_get(it, "id_cipher"));
    }
    /* Only what lies in 泰丰 now: not the patient who moved to 园林. */
    if (moved_away > 0)
        assert_null(record_of(recs, moved_away));
    assert_true(json_object_get(rec, "risk_level") != NULL);
    assert_export_audited(r, tf_police, json_array_size(recs), "ndjson");
    json_decref(recs);
    http_free(r);
    free(q);

    /* Civil affairs: economic status, no risk and no diagnosis. */
    q = test_fmt("agency_id=%s&from=%s&to=%s&format=ndjson", tf_civil, from, to);
    r = want(export(official, q), 200, "civil export");
    recs = records(r);
    rec = record_of(recs, pid);
    assert_non_null(rec);
    assert_string_equal(test_jstr(rec, "economic_status"), "poor");
    assert_true(json_is_true(json_object_get(rec, "dibao")));
    json_array_foreach(recs, i, it)
    {
        assert_null(json_object_get(it, "diagnosis"));
        assert_null(json_object_get(it, "risk_level"));
        assert_null(json_object_get(it, "colour"));
    }
    assert_export_audited(r, tf_civil, json_array_size(recs), "ndjson");
    json_decref(recs);
    http_free(r);
    free(q);

    /* The clinic: the diagnosis. */
    q = test_fmt("agency_id=%s&from=%s&to=%s", tf_clinic, from, to);
    r = want(export(official, q), 200, "clinic export");
    recs = records(r);
    nclinic = json_array_size(recs);
    rec = record_of(recs, pid);
    assert_non_null(rec);
    assert_string_equal(test_jstr(rec, "diagnosis"), "schizophrenia");
    assert_string_equal(test_jstr(rec, "id_number"), id18);
    assert_export_audited(r, tf_clinic, nclinic, "ndjson");
    json_decref(recs);
    http_free(r);
    free(q);

    /* The same as CSV: BOM, header row, one line per record, quoted cells. */
    q = test_fmt("agency_id=%s&from=%s&to=%s&format=csv", tf_clinic, from, to);
    c = want(export(official, q), 200, "clinic CSV");
    assert_non_null(strstr(http_header(c, "Content-Type"), "text/csv"));
    assert_memory_equal(c->body, "\xEF\xBB\xBF", 3);
    {
        static const char header[] =
            "id,name,gender,birth_date,id_number,id_number_masked,phone,address,org_unit_name,"
            "status,risk_level,colour,diagnosis,economic_status,guardian_name,guardian_phone\r\n";
        size_t lines = 0;
        char *row = test_fmt("\r\n%lld,", pid), *cell;
        const char *at;

        assert_memory_equal(c->body + 3, header, strlen(header));
        for (const char *p = c->body; (p = strstr(p, "\r\n")) != NULL; p += 2)
            lines++;
        assert_int_equal(lines, nclinic + 1);
        /* The patient's row: the ID in full, the address quoted with its
         * quotes doubled. */
        at = strstr(c->body, row);
        assert_non_null(at);
        cell = test_fmt("%s,", id18);
        assert_non_null(strstr(at, cell));
        assert_true(strstr(at, cell) < strstr(at + 2, "\r\n"));
        free(cell);
        cell = test_fmt(",\"梅苑路8号,3栋\"\"东\"\"单元\",");
        assert_non_null(strstr(at, cell));
        assert_true(strstr(at, cell) < strstr(at + 2, "\r\n"));
        free(cell);
        assert_non_null(strstr(at, ",schizophrenia,poor,"));
        free(row);
    }
    assert_export_audited(c, tf_clinic, nclinic, "csv");
    http_free(c);
    free(q);

    /* The police station's own system exports for it (police view)… */
    q = test_fmt("agency_id=%s&from=%s&to=%s", tf_police, from, to);
    r = want(export(svc_police, q), 200, "service export");
    recs = records(r);
    rec = record_of(recs, pid);
    assert_non_null(rec);
    assert_string_equal(test_jstr(rec, "id_number"), id18);
    assert_null(json_object_get(rec, "diagnosis"));
    assert_export_audited(r, tf_police, json_array_size(recs), "ndjson");
    json_decref(recs);
    http_free(r);
    free(q);

    /* The county admin and 泰丰's admin may; a period instead of a range. */
    q = test_fmt("agency_id=%s&period=%.7s", tf_clinic, from);
    http_free(want(export(root_admin, q), 200, "county export"));
    http_free(want(export(tf_admin, q), 200, "township export"));
    free(q);
    q = test_fmt("agency_id=%s&period=2026-Q4&format=csv", tf_police);
    r = want(export(official, q), 200, "quarter");
    assert_non_null(strstr(http_header(r, "Content-Disposition"), "2026-10-01-2026-12-31"));
    assert_memory_equal(r->body, "\xEF\xBB\xBF", 3);
    http_free(r);
    free(q);
    free(tf_police);
    free(tf_civil);
    free(tf_clinic);
}

/* A name or an address a spreadsheet would run as a formula reaches the
 * CSV quote-prefixed (OWASP), beside the full ID number; the NDJSON keeps
 * it as it is. */
static void export_csv_defuses_formulas(void **state)
{
    static const char name[] = "=HYPERLINK(\"http://x.cn\",\"看\")",
                      name_json[] = "=HYPERLINK(\\\"http://x.cn\\\",\\\"看\\\")";
    char id18[19], from[11], to[11], *tf_clinic = test_agency_id(TF_CLINIC), *q, *row;
    const char *at, *eol, *cell;
    char *more = test_fmt(DIAG ",\"address\":\"@SUM(1+1)*cmd|' /C calc'!A0\",\"phone\":\"-1+1+1\"");
    long long pid;
    http_res *c;
    json_t *recs;

    (void)state;
    test_new_id(id18, -1, SUITE_SALT);
    pid = test_create_patient(doctor, CREATED_ON, name_json, id18, g01, more);
    export_range(from, to);
    q = test_fmt("agency_id=%s&from=%s&to=%s&format=csv", tf_clinic, from, to);
    c = want(export(official, q), 200, "clinic CSV");
    row = test_fmt("\r\n%lld,\"'=HYPERLINK(\"\"http://x.cn\"\",\"\"看\"\")\",", pid);
    at = strstr(c->body, row);
    if (at == NULL)
        fail_msg("no defused row %s in %s", row, c->body);
    at += strlen(row);
    eol = strstr(at, "\r\n");
    cell = strstr(at, id18);
    assert_true(cell != NULL && cell < eol);
    cell = strstr(at, ",'-1+1+1,'@SUM(1+1)*cmd|' /C calc'!A0,");
    assert_true(cell != NULL && cell < eol);
    assert_null(strstr(c->body, ",=HYPERLINK"));
    assert_null(strstr(c->body, ",\"=HYPERLINK"));
    http_free(c);
    free(q);
    q = test_fmt("agency_id=%s&from=%s&to=%s", tf_clinic, from, to);
    c = want(export(official, q), 200, "clinic NDJSON");
    recs = records(c);
    assert_string_equal(test_jstr(record_of(recs, pid), "name"), name);
    json_decref(recs);
    http_free(c);
    free(q);
    free(row);
    free(more);
    free(tf_clinic);
}

/* Only officials and admins whose area holds the agency, and the agency's
 * own system, export; nothing refused is audited as an export. */
static void export_refused_to_others(void **state)
{
    char from[11], to[11], *q, *tf_clinic = test_agency_id(TF_CLINIC);
    const struct {
        const char *who;
        char **token;
    } roles[] = {{"tf.police", &police}, {"tf.doctor", &doctor}, {"tf.civil", &civil}};
    long audits_before = export_audits();
    char failures[2048] = "";
    http_res *r;

    (void)state;
    export_range(from, to);
    q = test_fmt("agency_id=%s&from=%s&to=%s", tf_clinic, from, to);
    /* The police station's system for the clinic; 园林's admin for 泰丰. */
    http_assert_problem(r = export(svc_police, q), 400, "agency_id");
    http_free(r);
    http_assert_problem(r = export(yl_admin, q), 400, "agency_id");
    http_free(r);
    /* A grid worker's area does not hold the township's clinic. */
    r = export(grid1, q);
    if (r->status != 400 && r->status != 403)
        fail_msg("grid worker export: expected 400 or 403, got %ld %.200s", r->status, r->body);
    http_assert_problem(r, r->status, NULL);
    http_free(r);
    free(q);
    q = test_fmt("agency_id=999999999&from=%s&to=%s", from, to);
    http_assert_problem(r = export(official, q), 400, "agency_id");
    http_free(r);
    free(q);
    assert_int_equal(export_audits(), audits_before);

    /* Township users who are neither officials nor admins: the police would
     * otherwise receive the clinic's view, diagnoses included. */
    q = test_fmt("agency_id=%s&from=%s&to=%s", tf_clinic, from, to);
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        r = export(*roles[i].token, q);
        if (r->status != 403) {
            size_t n = strlen(failures);
            snprintf(failures + n, sizeof(failures) - n,
                     "\n  %s exporting for the clinic: expected 403, got %ld%s", roles[i].who,
                     r->status, strstr(r->body, "\"diagnosis\"") ? " with diagnoses" : "");
        } else {
            http_assert_problem(r, 403, NULL);
        }
        http_free(r);
    }
    if (export_audits() != audits_before) {
        size_t n = strlen(failures);
        snprintf(failures + n, sizeof(failures) - n, "\n  %ld refused exports were audited",
                 export_audits() - audits_before);
    }
    if (failures[0] != '\0')
        fail_msg("export access:%s", failures);
    free(q);
    free(tf_clinic);
}

/* Does the problem r name field in its errors? */
static int names_field(const http_res *r, const char *field)
{
    json_t *e;
    size_t i;

    json_array_foreach(json_object_get(r->json, "errors"), i, e)
    {
        if (test_jstr(e, "field") && strcmp(test_jstr(e, "field"), field) == 0)
            return 1;
    }
    return 0;
}

/* Does r name one of the fields "a|b|…"? */
static int names_one_of(const http_res *r, const char *fields)
{
    char *copy = strdup(fields), *save = NULL;
    int found = 0;

    for (char *f = strtok_r(copy, "|", &save); f != NULL && !found; f = strtok_r(NULL, "|", &save))
        found = names_field(r, f);
    free(copy);
    return found;
}

static void export_bad_queries(void **state)
{
    char *clinic = test_agency_id(TF_CLINIC);
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"period=2026-13", "period"},
        {"period=2026-00", "period"},
        {"period=2026-Q5", "period"},
        {"period=2026-Q0", "period"},
        {"period=2026-Q12", "period"},
        {"period=2026", "period"},
        {"period=2026-1", "period"},
        {"period=26-01", "period"},
        {"period=2026-%2B1", "period"}, /* "2026-+1" */
        {"period=2026-11&format=xml", "format"},
        {"period=2026-11&format=", "format"},
        {"from=2026-11-01&to=2026-11-31", "to"},
        {"from=2026-11-31&to=2026-12-01", "from"},
        {"from=yesterday&to=2026-12-01", "from"},
        {"from=2026-11-01&to=soon", "to"},
        {"from=2026-11-01", "to"},
        {"to=2026-11-30", "from|period"},
        {"", "period"},
    };
    long before = export_audits();
    char failures[4096] = "";
    http_res *r;

    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *q = test_fmt("agency_id=%s&%s", clinic, bad[i].query);
        size_t n = strlen(failures);
        r = export(official, q);
        /* Every case is tried; the mismatches are reported together. */
        if (r->status != 400)
            snprintf(failures + n, sizeof(failures) - n, "\n  ?%s: expected 400, got %ld",
                     bad[i].query, r->status);
        else if (!names_one_of(r, bad[i].field))
            snprintf(failures + n, sizeof(failures) - n, "\n  ?%s: names %s, not %s", bad[i].query,
                     test_jstr(json_array_get(json_object_get(r->json, "errors"), 0), "field"),
                     bad[i].field);
        else
            http_assert_problem(r, 400, NULL);
        http_free(r);
        free(q);
    }
    /* The wrong way round, or more than a year: 400 (naming the range). */
    {
        const char *ranges[] = {"from=2026-11-02&to=2026-11-01", "from=2025-01-01&to=2026-06-30"};
        for (size_t i = 0; i < 2; i++) {
            char *q = test_fmt("agency_id=%s&%s", clinic, ranges[i]);
            r = export(official, q);
            if (r->status != 400)
                fail_msg("export ?%s: expected 400, got %ld", q, r->status);
            http_assert_problem(r, 400, NULL);
            if (!names_field(r, "from") && !names_field(r, "to"))
                fail_msg("export ?%s: names neither from nor to: %s", q, r->body);
            http_free(r);
            free(q);
        }
    }
    /* The agency: missing, or not an id. */
    http_assert_problem(r = export(official, "period=2026-11"), 400, "agency_id");
    http_free(r);
    http_assert_problem(r = export(official, "agency_id=abc&period=2026-11"), 400, "agency_id");
    http_free(r);
    http_assert_problem(r = export(official, "agency_id=-4&period=2026-11"), 400, "agency_id");
    http_free(r);
    free(clinic);
    /* Refused exports are not audited (those answered 200 above are). */
    if (failures[0] == '\0')
        assert_int_equal(export_audits(), before);
    else
        fail_msg("bad export queries:%s", failures);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transfer_then_accept),
        cmocka_unit_test(either_side_reads_a_transfer),
        cmocka_unit_test(risk_three_patient_raises_leaving),
        cmocka_unit_test(return_and_cancel),
        cmocka_unit_test(refusals_write_nothing),
        cmocka_unit_test(move_outside_the_system),
        cmocka_unit_test(bad_inputs_write_nothing),
        cmocka_unit_test(death_while_pending_is_not_undone),
        cmocka_unit_test(never_visited_patient_gets_two_weeks_after_acceptance),
        cmocka_unit_test(decision_before_the_move_is_refused),
        cmocka_unit_test(exports_cut_to_the_agency),
        cmocka_unit_test(export_csv_defuses_formulas),
        cmocka_unit_test(export_refused_to_others),
        cmocka_unit_test(export_bad_queries),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
