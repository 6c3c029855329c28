/* HTTP suite: the change feed of the grid-worker app (GET /api/v1/changes).
 * A phone syncs from empty, then from its cursor: a visit made by someone
 * else shows up; a patient transferred away is a tombstone on the old
 * grid's phone and a record on the new side; nothing outside the caller's
 * view ever appears, for grids, villages, townships and roles; a
 * 300-patient grid syncs from empty in a few pages; a guardian comes with
 * its version, a patient with the day its pick-up falls overdue; bad
 * cursors and limits are refused naming the field. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUITE_SALT 23 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""
#define CREATED_ON "2026-10-01"

static char *doctor, *grid1, *yl_doctor, *root_admin;
static char *g01, *g02, *yl_grid;

/* What a phone holds after syncing: patient id → the last item seen. */
typedef struct phone {
    char *cursor;
    json_t *patients;      /* object: "id" → data, or absent once deleted */
    json_t *tombstones;    /* object: "id" → true, patients deleted by the feed */
    json_t *items;         /* array of every item received */
    int pages;
} phone;

static void phone_init(phone *ph)
{
    memset(ph, 0, sizeof(*ph));
    ph->patients = json_object();
    ph->tombstones = json_object();
    ph->items = json_array();
}

static void phone_free(phone *ph)
{
    json_decref(ph->patients);
    json_decref(ph->tombstones);
    json_decref(ph->items);
    free(ph->cursor);
}

/* Fetch pages from the phone's cursor until the feed says there is no more,
 * applying each item. limit 0: the server's default page. */
static void phone_sync(phone *ph, const char *token, int limit)
{
    for (int guard = 0; guard < 100; guard++) {
        char *path = limit ? test_fmt("/api/v1/changes?limit=%d%s%s", limit,
                                      ph->cursor ? "&cursor=" : "", ph->cursor ? ph->cursor : "")
                           : test_fmt("/api/v1/changes%s%s", ph->cursor ? "?cursor=" : "",
                                      ph->cursor ? ph->cursor : "");
        http_res *r = http_do("GET", path, token, NULL, NULL);
        json_t *items, *it;
        size_t i;
        int more;

        if (r->status != 200)
            fail_msg("changes: %ld %s", r->status, r->body);
        items = json_object_get(r->json, "items");
        assert_true(json_is_array(items));
        json_array_foreach(items, i, it)
        {
            const char *kind = test_jstr(it, "kind");
            char id[32];

            json_array_append(ph->items, it);
            if (strcmp(kind, "patient") != 0)
                continue;
            snprintf(id, sizeof(id), "%lld", test_jint(it, "id"));
            if (json_is_true(json_object_get(it, "deleted"))) {
                json_object_del(ph->patients, id);
                json_object_set_new(ph->tombstones, id, json_true());
            } else {
                json_object_set(ph->patients, id, json_object_get(it, "data"));
                json_object_del(ph->tombstones, id);
            }
        }
        free(ph->cursor);
        ph->cursor = strdup(test_jstr(r->json, "next_cursor"));
        assert_non_null(ph->cursor);
        more = json_is_true(json_object_get(r->json, "more"));
        ph->pages++;
        http_free(r);
        free(path);
        if (!more)
            return;
    }
    fail_msg("changes: no end after 100 pages");
}

static json_t *phone_patient(const phone *ph, long long pid)
{
    char id[32];

    snprintf(id, sizeof(id), "%lld", pid);
    return json_object_get(ph->patients, id);
}

static int phone_deleted(const phone *ph, long long pid)
{
    char id[32];

    snprintf(id, sizeof(id), "%lld", pid);
    return json_object_get(ph->tombstones, id) != NULL;
}

static long long create_patient_as(const char *token, const char *tag, const char *unit)
{
    return test_patient(token, CREATED_ON, "变更", tag, unit, SUITE_SALT, DIAG, NULL);
}

static long long create_patient(const char *tag, const char *unit)
{
    return create_patient_as(doctor, tag, unit);
}

/* ---- bad input ---------------------------------------------------------- */

static void bad_cursors_are_refused(void **state)
{
    /* "w1:…" is a worklist cursor; the others are not cursors at all. */
    const char *bad[] = {"x",
                         "%21%21",
                         "YzE6MTo",          /* "c1:1:" */
                         "YzE6OjE",          /* "c1::1" */
                         "dzE6OTl8MjAyNi0wMS0wMXwx", /* "w1:99|2026-01-01|1" */
                         "YzE6YWJjOjE",      /* "c1:abc:1" */
                         "YzE6LTE6MQ",       /* "c1:-1:1" */
                         "YzE6MToxOng",      /* "c1:1:1:x" */
                         "YzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ"}; /* too large */
    const char *limits[] = {"0", "1001", "abc", "-5", ""};
    http_res *r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *path = test_fmt("/api/v1/changes?cursor=%s", bad[i]);
        r = http_do("GET", path, grid1, NULL, NULL);
        http_assert_problem(r, 400, "cursor");
        http_free(r);
        free(path);
    }
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        char *path = test_fmt("/api/v1/changes?limit=%s", limits[i]);
        r = http_do("GET", path, grid1, NULL, NULL);
        http_assert_problem(r, 400, "limit");
        http_free(r);
        free(path);
    }
    r = http_do("GET", "/api/v1/changes", NULL, NULL, NULL);
    http_assert_problem(r, 401, NULL);
    http_free(r);
}

/* ---- what others do shows up ------------------------------------------- */

static void a_visit_by_someone_else_shows_up(void **state)
{
    long long pid = create_patient("访", g01);
    phone ph;
    json_t *card;

    (void)state;
    phone_init(&ph);
    phone_sync(&ph, grid1, 0);
    card = phone_patient(&ph, pid);
    assert_non_null(card);
    assert_true(json_is_null(json_object_get(card, "last_visit_on")));
    assert_non_null(test_jstr(card, "id_masked"));
    assert_non_null(strchr(test_jstr(card, "id_masked"), '*'));
    assert_null(json_object_get(card, "id_number"));

    /* Nothing changed: an empty page that keeps the cursor. */
    {
        char *before = strdup(ph.cursor);
        size_t n = json_array_size(ph.items);
        phone_sync(&ph, grid1, 0);
        assert_string_equal(before, ph.cursor);
        assert_int_equal(json_array_size(ph.items), n);
        free(before);
    }
    /* The doctor visits; the grid worker's phone learns of it. */
    test_stable_visit(doctor, pid, "2026-10-05");
    phone_sync(&ph, grid1, 0);
    card = phone_patient(&ph, pid);
    assert_non_null(card);
    assert_string_equal(test_jstr(card, "last_visit_on"), "2026-10-05");
    assert_string_equal(test_jstr(card, "last_reached_on"), "2026-10-05");
    assert_non_null(test_jstr(card, "next_due"));
    phone_free(&ph);
}

/* ---- a transfer: a tombstone on one phone, a record on the other ------- */

static void a_transfer_moves_the_record(void **state)
{
    long long pid = create_patient("迁", g01);
    char *body = test_fmt("{\"to_org_unit_id\":%s,\"moved_on\":\"2026-10-02\","
                          "\"reason\":\"随子女迁居\"}",
                          yl_grid);
    char *path = test_fmt("/api/v1/patients/%lld/transfers", pid);
    phone old_side, new_side;
    http_res *r;
    long long tid;

    (void)state;
    phone_init(&old_side);
    phone_init(&new_side);
    phone_sync(&old_side, grid1, 0);
    phone_sync(&new_side, yl_doctor, 0);
    assert_non_null(phone_patient(&old_side, pid));
    assert_null(phone_patient(&new_side, pid));

    r = test_call("2026-10-03", "POST", path, doctor, body);
    if (r->status != 201)
        fail_msg("transfer: %ld %s", r->status, r->body);
    tid = test_jint(r->json, "id");
    http_free(r);
    /* Pending: still here, marked as moving out. */
    phone_sync(&old_side, grid1, 0);
    assert_string_equal(test_jstr(phone_patient(&old_side, pid), "status"), "moved_out");

    free(path);
    path = test_fmt("/api/v1/transfers/%lld/accept", tid);
    r = test_call("2026-10-04", "POST", path, yl_doctor, "{}");
    if (r->status != 200)
        fail_msg("accept: %ld %s", r->status, r->body);
    http_free(r);

    phone_sync(&old_side, grid1, 0);
    assert_null(phone_patient(&old_side, pid));
    assert_true(phone_deleted(&old_side, pid));
    phone_sync(&new_side, yl_doctor, 0);
    assert_non_null(phone_patient(&new_side, pid));
    assert_false(phone_deleted(&new_side, pid));

    phone_free(&old_side);
    phone_free(&new_side);
    free(body);
    free(path);
}

/* Re-assigned to another grid of the village: a tombstone on the grid
 * worker's phone, still a record on the village doctor's. */
static void a_reassignment_is_a_tombstone_for_the_old_grid(void **state)
{
    long long pid = create_patient("调", g01);
    char *path = test_fmt("/api/v1/patients/%lld", pid);
    char *body = test_fmt("{\"org_unit_id\":%s}", g02);
    char *village = http_login("tf.doctor2", NULL);
    phone grid, vill;
    http_res *r;

    (void)state;
    phone_init(&grid);
    phone_init(&vill);
    phone_sync(&grid, grid1, 0);
    phone_sync(&vill, village, 0);
    assert_non_null(phone_patient(&grid, pid));
    r = http_do("PATCH", path, doctor, body, "If-Match: \"1\"");
    if (r->status != 200)
        fail_msg("re-assign: %ld %s", r->status, r->body);
    http_free(r);
    phone_sync(&grid, grid1, 0);
    phone_sync(&vill, village, 0);
    assert_true(phone_deleted(&grid, pid));
    assert_non_null(phone_patient(&vill, pid));
    assert_int_equal(test_jint(phone_patient(&vill, pid), "org_unit_id"), atoll(g02));
    phone_free(&grid);
    phone_free(&vill);
    free(village);
    free(body);
    free(path);
}

/* A death is a tombstone too. */
static void a_death_is_a_tombstone(void **state)
{
    long long pid = create_patient("逝", g01);
    char *path = test_fmt("/api/v1/patients/%lld/status", pid);
    phone ph;
    http_res *r;

    (void)state;
    phone_init(&ph);
    phone_sync(&ph, grid1, 0);
    assert_non_null(phone_patient(&ph, pid));
    r = test_call("2026-10-06", "POST", path, doctor,
                  "{\"status\":\"deceased\",\"date\":\"2026-10-05\",\"death_cause\":\"illness\"}");
    if (r->status != 200 && r->status != 201)
        fail_msg("status: %ld %s", r->status, r->body);
    http_free(r);
    phone_sync(&ph, grid1, 0);
    assert_true(phone_deleted(&ph, pid));
    phone_free(&ph);
    free(path);
}

/* ---- nothing outside the view ------------------------------------------ */

/* Every item user received from empty lies in user's view: patients and
 * care-team members under the user's unit and still managed, tombstones
 * only of patients once there, notifications addressed to the user or
 * the user's agency; roles without risk see no colour. */
static void check_view(const char *user, int risk_visible)
{
    char *token = http_login(user, NULL);
    const char *up[] = {user};
    char *path = db_scalar("SELECT o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id"
                           " WHERE u.username = $1",
                           1, up);
    char *uid = db_scalar("SELECT id FROM users WHERE username = $1", 1, up);
    char *agency = db_scalar("SELECT coalesce(agency_id, 0) FROM users WHERE username = $1", 1, up);
    phone ph;
    json_t *it;
    size_t i;

    phone_init(&ph);
    phone_sync(&ph, token, 100);
    json_array_foreach(ph.items, i, it)
    {
        const char *kind = test_jstr(it, "kind");
        char id[32];
        const char *p[] = {id, path};
        const char *pn[] = {id, agency, uid};
        int deleted = json_is_true(json_object_get(it, "deleted"));
        long n;

        snprintf(id, sizeof(id), "%lld", test_jint(it, "id"));
        if (strcmp(kind, "patient") == 0 && !deleted) {
            json_t *d = json_object_get(it, "data");
            n = db_count("SELECT count(*) FROM patients WHERE id = $1 AND starts_with(org_path, $2)"
                         " AND status NOT IN ('deceased', 'deregistered', 'ruled_out')",
                         2, p);
            if (n != 1)
                fail_msg("%s received patient %s outside the view", user, id);
            if (!risk_visible && (!json_is_null(json_object_get(d, "colour")) ||
                                  !json_is_null(json_object_get(d, "risk_level"))))
                fail_msg("%s sees the risk of patient %s", user, id);
        } else if (strcmp(kind, "patient") == 0) {
            n = db_count("SELECT count(*) FROM changes WHERE kind = 'patient' AND entity_id = $1"
                         " AND (starts_with(org_path, $2) OR starts_with(old_path, $2))",
                         2, p);
            if (n == 0)
                fail_msg("%s received a tombstone of patient %s never in the view", user, id);
        } else if (strcmp(kind, "care_team") == 0) {
            n = db_count("SELECT count(*) FROM care_team_members m JOIN patients p"
                         " ON p.id = m.patient_id WHERE m.id = $1 AND starts_with(p.org_path, $2)",
                         2, p);
            if (!deleted && n != 1)
                fail_msg("%s received care-team member %s outside the view", user, id);
        } else if (strcmp(kind, "notification") == 0) {
            n = db_count("SELECT count(*) FROM notification_recipients WHERE notification_id = $1"
                         " AND (agency_id = nullif($2::bigint, 0) OR user_id = $3::bigint)",
                         3, pn);
            if (n == 0)
                fail_msg("%s received notification %s not addressed to it", user, id);
        } else {
            fail_msg("%s received an item of kind %s", user, kind);
        }
    }
    /* Everything in the view came: the count of managed patients there. */
    {
        const char *p[] = {path};
        long want = db_count("SELECT count(*) FROM patients WHERE starts_with(org_path, $1)"
                             " AND status NOT IN ('deceased', 'deregistered', 'ruled_out')",
                             1, p);
        if ((long)json_object_size(ph.patients) != want)
            fail_msg("%s holds %zu patients, %ld in the view", user,
                     json_object_size(ph.patients), want);
    }
    phone_free(&ph);
    free(token);
    free(path);
    free(uid);
    free(agency);
}

static void nothing_outside_the_view(void **state)
{
    (void)state;
    /* A patient in another grid, village and township, so each view has
     * something next door that it must not see. */
    create_patient("邻", test_unit_id("429005003004G01"));
    create_patient_as(yl_doctor, "远", yl_grid);
    check_view("tf.grid1", 1);   /* grid */
    check_view("tf.grid2", 1);   /* another village's grid */
    check_view("tf.doctor2", 1); /* village */
    check_view("tf.doctor", 1);  /* township */
    check_view("yl.doctor", 1);  /* another township */
    check_view("tf.police", 1);
    check_view("tf.civil", 0);   /* civil affairs: no risk */
}

/* ---- what the phone works with offline --------------------------------- */

static json_t *only_guardian(json_t *card)
{
    json_t *gs = json_object_get(card, "guardians");

    assert_int_equal(json_array_size(gs), 1);
    return json_array_get(gs, 0);
}

/* A guardian carries its version (the phone edits it offline with
 * If-Match) and its address for the roles that see it; a change to the
 * guardian reaches the phone with the new version. */
static void a_guardian_comes_with_its_version(void **state)
{
    long long pid = create_patient("监", g01);
    char *path = test_fmt("/api/v1/patients/%lld/guardians", pid);
    char *gpath, *ifm;
    phone grid, police;
    json_t *g;
    http_res *r;
    long long gid, version;

    (void)state;
    r = http_do("POST", path, doctor,
                "{\"kind\":\"primary\",\"name\":\"王母\",\"relation\":\"parent\","
                "\"phone\":\"13900002222\",\"address\":\"梅苑社区1栋\",\"capacity\":\"adequate\"}",
                NULL);
    if (r->status != 201)
        fail_msg("guardian: %ld %s", r->status, r->body);
    gid = test_jint(r->json, "id");
    http_free(r);
    phone_init(&grid);
    phone_sync(&grid, grid1, 0);
    g = only_guardian(phone_patient(&grid, pid));
    assert_int_equal(test_jint(g, "id"), gid);
    assert_string_equal(test_jstr(g, "phone"), "13900002222");
    assert_string_equal(test_jstr(g, "address"), "梅苑社区1栋");
    version = test_jint(g, "version");
    assert_true(version >= 1);

    /* The police see the phone, not the guardian's address. */
    {
        char *tok = http_login("tf.police", NULL);
        phone_init(&police);
        phone_sync(&police, tok, 0);
        g = only_guardian(phone_patient(&police, pid));
        assert_true(json_is_null(json_object_get(g, "address")));
        phone_free(&police);
        free(tok);
    }

    /* The grid worker changes the phone with the version the feed gave. */
    gpath = test_fmt("/api/v1/patients/%lld/guardians/%lld", pid, gid);
    ifm = test_fmt("If-Match: \"%lld\"", version);
    r = http_do("PATCH", gpath, grid1, "{\"phone\":\"13900003333\"}", ifm);
    if (r->status != 200)
        fail_msg("guardian patch: %ld %s", r->status, r->body);
    http_free(r);
    phone_sync(&grid, grid1, 0);
    g = only_guardian(phone_patient(&grid, pid));
    assert_string_equal(test_jstr(g, "phone"), "13900003333");
    assert_true(test_jint(g, "version") > version);
    phone_free(&grid);
    free(ifm);
    free(gpath);
    free(path);
}

/* 取药超期 on the phone: pickup_due is the last pick-up's supply end plus
 * the tolerance while a prescription runs, null without one; a pick-up
 * moves it. */
static void the_pickup_due_date_follows_the_pickups(void **state)
{
    long long pid = create_patient("药", g01), other = create_patient("无药", g01);
    char *rx = test_fmt("/api/v1/patients/%lld/prescriptions", pid);
    char *pk = test_fmt("/api/v1/patients/%lld/pickups", pid);
    char due[11];
    long long tol;
    phone ph;
    http_res *r;

    (void)state;
    r = http_do("GET", "/api/v1/worklists/pickups-overdue?limit=1", doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    tol = test_jint(r->json, "tolerance_days");
    http_free(r);
    r = test_call("2026-10-01", "POST", rx, doctor,
                  "{\"drug\":\"利培酮\",\"dose_morning\":2,\"unit\":\"mg\","
                  "\"started_on\":\"2026-10-01\"}");
    if (r->status != 201)
        fail_msg("prescription: %ld %s", r->status, r->body);
    http_free(r);
    r = test_call("2026-10-02", "POST", pk, doctor,
                  "{\"picked_on\":\"2026-10-02\",\"days_supplied\":30}");
    if (r->status != 201)
        fail_msg("pickup: %ld %s", r->status, r->body);
    http_free(r);

    phone_init(&ph);
    phone_sync(&ph, grid1, 0);
    {
        /* Supply ends 2026-11-01; overdue after that plus the tolerance. */
        struct tm t = {.tm_year = 126, .tm_mon = 10, .tm_mday = 1 + (int)tol, .tm_hour = 12};
        time_t x = timegm(&t);
        strftime(due, sizeof(due), "%Y-%m-%d", gmtime(&x));
    }
    assert_string_equal(test_jstr(phone_patient(&ph, pid), "pickup_due"), due);
    assert_true(json_is_null(json_object_get(phone_patient(&ph, other), "pickup_due")));

    /* A new pick-up reaches the phone and moves the date. */
    r = test_call("2026-11-20", "POST", pk, doctor,
                  "{\"picked_on\":\"2026-11-20\",\"days_supplied\":60}");
    if (r->status != 201)
        fail_msg("pickup: %ld %s", r->status, r->body);
    http_free(r);
    phone_sync(&ph, grid1, 0);
    assert_true(strcmp(test_jstr(phone_patient(&ph, pid), "pickup_due"), "2027-01-19") >= 0);
    phone_free(&ph);
    free(rx);
    free(pk);
}

/* ---- a 300-patient grid from empty -------------------------------------- */

static void a_big_grid_syncs_in_a_few_pages(void **state)
{
    char *code = test_fmt("CG%s", test_unique());
    const char *cp[] = {code};
    char *unit, *body, *user = test_fmt("cg%s", test_unique()), *token;
    phone ph;
    http_res *r;

    (void)state;
    for (char *c = code; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    unit = db_scalar("INSERT INTO org_units (parent_id, level, code, name)"
                     " SELECT id, 'grid', $1, '变更测试网格' FROM org_units"
                     " WHERE code = '429005003001' RETURNING id",
                     1, cp);
    assert_non_null(unit);
    /* 300 patients as an integration would load them, straight into the
     * table: the triggers log them all the same. Their ID ciphertext is a
     * real one (a patient's made earlier through the API: the cipher is
     * not bound to the row), so that any later suite that lists them can
     * reveal it. */
    {
        const char *p[] = {unit};
        char *n = db_scalar(
            "WITH ins AS (INSERT INTO patients (org_unit_id, org_path, status, name, id_cipher,"
            " id_index, id_masked, phone, phone_masked, address, diagnosis, diagnosis_date,"
            " risk_level, colour, next_due)"
            " SELECT $1::bigint, '', 'in_care', '批量' || g, (SELECT id_cipher FROM patients"
            "  WHERE id_cipher IS NOT NULL ORDER BY id LIMIT 1),"
            " decode(md5('i' || $1 || g), 'hex'), '429005********' || lpad(g::text, 4, '0'),"
            " '1390000' || lpad(g::text, 4, '0'), '139****' || lpad(g::text, 4, '0'),"
            " '梅苑社区' || g || '号', 'schizophrenia', '2020-01-01', g % 4,"
            " (ARRAY['green','yellow','orange','red'])[1 + g % 4], '2026-10-01'::date + g % 30"
            " FROM generate_series(1, 300) g RETURNING 1) SELECT count(*) FROM ins",
            1, p);
        assert_string_equal(n, "300");
        free(n);
    }
    body = test_fmt("{\"username\":\"%s\",\"display_name\":\"网格员\",\"password\":"
                    "\"Correct-horse-1\",\"role\":\"grid_worker\",\"org_unit_id\":%s}",
                    user, unit);
    r = http_do("POST", "/api/v1/users", root_admin, body, NULL);
    if (r->status != 201)
        fail_msg("user: %ld %s", r->status, r->body);
    http_free(r);
    token = http_login(user, "Correct-horse-1");

    phone_init(&ph);
    phone_sync(&ph, token, 0);
    assert_int_equal(json_object_size(ph.patients), 300);
    if (ph.pages > 3)
        fail_msg("300 patients took %d pages", ph.pages);
    /* Each record once. */
    assert_int_equal(json_array_size(ph.items), 300);
    /* Small pages page through the same set, each record once. */
    {
        phone small;
        phone_init(&small);
        phone_sync(&small, token, 70);
        assert_int_equal(json_object_size(small.patients), 300);
        assert_int_equal(json_array_size(small.items), 300);
        assert_int_equal(small.pages, 5);
        phone_free(&small);
    }
    phone_free(&ph);
    free(token);
    free(body);
    free(user);
    free(unit);
    free(code);
}

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    grid1 = http_login("tf.grid1", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    root_admin = http_login("admin", NULL);
    g01 = test_unit_id("429005003001G01");
    g02 = test_unit_id("429005003001G02");
    yl_grid = test_unit_id("429005001001G01");
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &grid1, &yl_doctor, &root_admin, &g01, &g02, &yl_grid};

    (void)state;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(*all[i]);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_cursors_are_refused),
        cmocka_unit_test(a_visit_by_someone_else_shows_up),
        cmocka_unit_test(a_transfer_moves_the_record),
        cmocka_unit_test(a_reassignment_is_a_tombstone_for_the_old_grid),
        cmocka_unit_test(a_death_is_a_tombstone),
        cmocka_unit_test(nothing_outside_the_view),
        cmocka_unit_test(a_guardian_comes_with_its_version),
        cmocka_unit_test(the_pickup_due_date_follows_the_pickups),
        cmocka_unit_test(a_big_grid_syncs_in_a_few_pages),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
