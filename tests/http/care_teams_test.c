/* HTTP suite: care teams (五包一 / 关爱帮扶小组) — setting, replacing and
 * ending members (users or named people), completeness for key patients,
 * bad inputs refused with nothing written, who may read and change a team,
 * and the care-gaps worklist. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 17 /* keeps this suite's ID numbers apart from the others' */

static char *doctor, *official, *police, *grid1, *grid2, *yl_doctor;
static char *g01, *qy_g01, *yl_unit;
static char *u_doctor2, *u_police, *u_grid1, *u_grid2, *u_cadre;
static char cn_unique[64];

#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

/* ---- helpers ---------------------------------------------------------- */

static long long create_patient(const char *name, const char *unit)
{
    char id[19];

    test_new_id(id, -1, SUITE_SALT);
    return test_create_patient(doctor, NULL, name, id, unit, DIAG);
}

static char *user_id(const char *username)
{
    const char *p[] = {username};
    char *id = db_scalar("SELECT id FROM users WHERE username = $1", 1, p);

    assert_non_null(id);
    return id;
}

static long members_of(long long pid)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count("SELECT count(*) FROM care_team_members WHERE patient_id = $1", 1, p);
}

/* Make a patient key (flags) or not (no flags, green) directly in the DB. */
static void set_key(long long pid, int key)
{
    char *sql = test_fmt("UPDATE patients SET key_flags = '%s'::jsonb, colour = 'green'"
                         " WHERE id = %lld",
                         key ? "[\"violence\"]" : "[]", pid);

    assert_true(db_try(sql));
    free(sql);
}

/* PUT a member as token; returns the response (free it). */
static http_res *put_member(const char *token, long long pid, const char *role, const char *body)
{
    char *path = test_fmt("/api/v1/patients/%lld/care-team/%s", pid, role);
    http_res *r = http_do("PUT", path, token, body, NULL);

    free(path);
    return r;
}

static void set_member(long long pid, const char *role, const char *body)
{
    http_res *r = put_member(doctor, pid, role, body);

    if (r->status != 200)
        fail_msg("PUT %s %s: %ld %s", role, body, r->status, r->body);
    http_free(r);
}

static void set_user(long long pid, const char *role, const char *uid)
{
    char *body = test_fmt("{\"user_id\":%s}", uid);

    set_member(pid, role, body);
    free(body);
}

static http_res *get_team(const char *token, long long pid)
{
    char *path = test_fmt("/api/v1/patients/%lld/care-team", pid);
    http_res *r = http_do("GET", path, token, NULL, NULL);

    free(path);
    return r;
}

/* The active member of role in a team document, or NULL. */
static json_t *member(const json_t *team, const char *role)
{
    json_t *m;
    size_t i;

    json_array_foreach(json_object_get(team, "members"), i, m)
    {
        if (strcmp(test_jstr(m, "role"), role) == 0)
            return m;
    }
    return NULL;
}

static int missing_has(const json_t *o, const char *role)
{
    json_t *m;
    size_t i;

    json_array_foreach(json_object_get(o, "missing"), i, m)
    {
        if (strcmp(json_string_value(m), role) == 0)
            return 1;
    }
    return 0;
}

static void add_capable_guardian(long long pid)
{
    char *path = test_fmt("/api/v1/patients/%lld/guardians", pid);
    http_res *r = http_do("POST", path, doctor,
                          "{\"kind\":\"primary\",\"name\":\"护者\",\"relation\":\"parent\","
                          "\"capacity\":\"adequate\"}",
                          NULL);

    if (r->status != 201)
        fail_msg("add guardian: %ld %s", r->status, r->body);
    http_free(r);
    free(path);
}

/* Walk every page of the care-gaps worklist as token with query q (may be
 * ""); returns {id: item} and the ids in order (*order). */
static json_t *gaps(const char *token, const char *q, int limit, json_t **order)
{
    json_t *byid = json_object();
    char *path = test_fmt("/api/v1/worklists/care-gaps?limit=%d%s", limit, q);

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
        path = test_fmt("/api/v1/worklists/care-gaps?limit=%d%s&cursor=%s", limit, q, next);
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

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    doctor = http_login("tf.doctor", NULL);
    official = http_login("tf.official", NULL);
    police = http_login("tf.police", NULL);
    grid1 = http_login("tf.grid1", NULL);
    grid2 = http_login("tf.grid2", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    g01 = test_unit_id("429005003001G01");
    qy_g01 = test_unit_id("429005003004G01");
    yl_unit = test_unit_id("429005001001");
    u_doctor2 = user_id("tf.doctor2");
    u_police = user_id("tf.police");
    u_grid1 = user_id("tf.grid1");
    u_grid2 = user_id("tf.grid2");
    u_cadre = user_id("tf.cadre");
    snprintf(cn_unique, sizeof(cn_unique), "%s", test_cn_unique());
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &official, &police, &grid1,    &grid2,   &yl_doctor,
                    &g01,    &qy_g01,   &yl_unit, &u_doctor2, &u_police, &u_grid1,
                    &u_grid2, &u_cadre};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------------- */

static void set_replace_and_end_members(void **state)
{
    char *name = test_fmt("帮扶%s甲", cn_unique), idtxt[32];
    long long pid = create_patient(name, g01);
    const char *p[] = {idtxt};
    http_res *r;
    json_t *m;

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    set_key(pid, 0);
    r = get_team(doctor, pid);
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "patient_id"), pid);
    assert_int_equal(json_array_size(json_object_get(r->json, "members")), 0);
    assert_int_equal(json_array_size(json_object_get(r->json, "missing")), 5);
    assert_true(json_is_false(json_object_get(r->json, "complete")));
    assert_true(json_is_false(json_object_get(r->json, "required")));
    http_free(r);

    /* A named guardian with a phone. */
    r = put_member(doctor, pid, "guardian", "{\"name\":\"李梅\",\"phone\":\"13911112222\"}");
    assert_int_equal(r->status, 200);
    m = member(r->json, "guardian");
    assert_non_null(m);
    assert_string_equal(test_jstr(m, "name"), "李梅");
    assert_string_equal(test_jstr(m, "phone"), "13911112222");
    assert_true(json_is_null(json_object_get(m, "user_id")));
    assert_false(missing_has(r->json, "guardian"));
    assert_true(missing_has(r->json, "doctor"));
    http_free(r);

    /* Users: the name comes from the user. */
    set_user(pid, "doctor", u_doctor2);
    set_user(pid, "police", u_police);
    set_user(pid, "grid_worker", u_grid1);
    set_user(pid, "village_cadre", u_cadre);
    r = get_team(doctor, pid);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "members")), 5);
    assert_int_equal(json_array_size(json_object_get(r->json, "missing")), 0);
    assert_true(json_is_true(json_object_get(r->json, "complete")));
    m = member(r->json, "doctor");
    assert_string_equal(test_jstr(m, "name"), "陈丽娟");
    assert_int_equal(test_jint(m, "user_id"), strtoll(u_doctor2, NULL, 10));
    assert_string_equal(test_jstr(member(r->json, "police"), "name"), "张伟");
    assert_string_equal(test_jstr(json_array_get(json_object_get(r->json, "members"), 0),
                                  "role"),
                        "guardian");
    http_free(r);

    /* The official sees masked phones; the police officer may read. */
    r = get_team(official, pid);
    assert_int_equal(r->status, 200);
    assert_string_equal(test_jstr(member(r->json, "guardian"), "phone"), "139****2222");
    http_free(r);
    r = get_team(police, pid);
    assert_int_equal(r->status, 200);
    http_free(r);

    /* Replacing a member ends the old one, kept as history. */
    set_member(pid, "guardian", "{\"name\":\"李强\",\"phone\":\"13933334444\"}");
    r = get_team(doctor, pid);
    assert_string_equal(test_jstr(member(r->json, "guardian"), "name"), "李强");
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM care_team_members WHERE patient_id = $1"
                              " AND role = 'guardian' AND NOT active AND name = '李梅'"
                              " AND ended_on IS NOT NULL",
                              1, p),
                     1);
    assert_int_equal(db_count("SELECT count(*) FROM care_team_members WHERE patient_id = $1"
                              " AND role = 'guardian' AND active",
                              1, p),
                     1);

    /* Ending a member. */
    {
        char *path = test_fmt("/api/v1/patients/%lld/care-team/police/end", pid);
        r = http_do("POST", path, doctor, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_null(member(r->json, "police"));
        assert_true(missing_has(r->json, "police"));
        assert_true(json_is_false(json_object_get(r->json, "complete")));
        http_free(r);
        /* Nothing left to end. */
        r = http_do("POST", path, doctor, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(path);
    }
    assert_int_equal(members_of(pid), 6);
    assert_int_equal(db_count("SELECT count(*) FROM care_team_members WHERE patient_id = $1"
                              " AND role = 'police' AND NOT active AND ended_on IS NOT NULL",
                              1, p),
                     1);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE target_id = $1 AND"
                              " action = 'care_team.set'",
                              1, p),
                     6);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE target_id = $1 AND"
                              " action = 'care_team.end'",
                              1, p),
                     1);
    free(name);
}

static void bad_inputs_write_nothing(void **state)
{
    char *name = test_fmt("帮扶%s乙", cn_unique), *b;
    long long pid = create_patient(name, g01);
    http_res *r;

    r = put_member(doctor, pid, "nurse", "{\"name\":\"李梅\",\"phone\":\"13911112222\"}");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    {
        char *path = test_fmt("/api/v1/patients/%lld/care-team/nurse/end", pid);
        r = http_do("POST", path, doctor, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        free(path);
    }
    struct {
        const char *role, *body, *field;
    } bad[] = {
        {"doctor", NULL, "user_id"},      /* a police officer as doctor */
        {"grid_worker", NULL, "user_id"}, /* a grid worker of another area */
        {"police", "{\"user_id\":999999999}", "user_id"},
        {"guardian", "{\"name\":\"李梅\"}", "phone"},
        {"guardian", "{\"phone\":\"13911112222\"}", "name"},
        {"guardian", "{\"name\":\"李梅\",\"phone\":\"12ab\"}", "phone"},
        {"guardian", "{\"name\":\"李梅\",\"phone\":\"13911112222\",\"foo\":1}", "foo"},
        {"village_cadre", NULL, "name"}, /* user_id and name together */
        {"guardian", "{}", "name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (i == 0)
            b = test_fmt("{\"user_id\":%s}", u_police);
        else if (i == 1)
            b = test_fmt("{\"user_id\":%s}", u_grid2);
        else if (i == 7)
            b = test_fmt("{\"user_id\":%s,\"name\":\"周德明\"}", u_cadre);
        else
            b = test_fmt("%s", bad[i].body);
        r = put_member(doctor, pid, bad[i].role, b);
        if (r->status != 400)
            fail_msg("%s %s: %ld %s", bad[i].role, b, r->status, r->body);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
        free(b);
    }
    assert_int_equal(members_of(pid), 0);
    free(name);
}

static void who_may_read_and_change(void **state)
{
    char *name = test_fmt("帮扶%s丙", cn_unique);
    long long pid = create_patient(name, g01);
    const char *body = "{\"name\":\"李梅\",\"phone\":\"13911112222\"}";
    http_res *r;

    r = put_member(police, pid, "guardian", body);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = put_member(yl_doctor, pid, "guardian", body);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = get_team(yl_doctor, pid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = get_team(grid2, pid);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = put_member(grid2, pid, "guardian", body);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(members_of(pid), 0);
    /* The grid worker of the patient's grid may. */
    r = put_member(grid1, pid, "guardian", body);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(members_of(pid), 1);
    free(name);
}

/* [R-CARE-1] */
static void care_gaps_worklist(void **state)
{
    char *n1 = test_fmt("帮扶%s丁", cn_unique), *n2 = test_fmt("帮扶%s戊", cn_unique),
         *n3 = test_fmt("帮扶%s己", cn_unique), *q;
    long long key = create_patient(n1, g01), plain = create_patient(n2, g01),
              covered = create_patient(n3, g01);
    json_t *all, *order, *order1, *it;
    http_res *r;

    /* Guardian writes recompute the flags, so they come first. */
    add_capable_guardian(covered);
    set_key(key, 1);
    set_key(plain, 0);
    set_key(covered, 0);

    r = get_team(doctor, key);
    assert_true(json_is_true(json_object_get(r->json, "required")));
    assert_true(json_is_false(json_object_get(r->json, "complete")));
    http_free(r);

    all = gaps(doctor, "", 200, &order);
    it = gap_of(all, key);
    assert_non_null(it);
    assert_string_equal(test_jstr(it, "name"), n1);
    assert_string_equal(test_jstr(it, "colour"), "green");
    assert_int_equal(json_array_size(json_object_get(it, "missing")), 5);
    assert_true(json_is_true(json_object_get(it, "guardian_gap")));
    it = gap_of(all, plain);
    assert_non_null(it);
    assert_int_equal(json_array_size(json_object_get(it, "missing")), 0);
    assert_true(json_is_true(json_object_get(it, "guardian_gap")));
    assert_null(gap_of(all, covered)); /* not key, capable guardian */
    json_decref(all);
    json_decref(order);

    /* A capable guardian: the key patient stays for its team. */
    add_capable_guardian(key);
    set_key(key, 1);
    set_member(key, "guardian", "{\"name\":\"李梅\",\"phone\":\"13911112222\"}");
    set_user(key, "doctor", u_doctor2);
    set_user(key, "police", u_police);
    set_user(key, "village_cadre", u_cadre);
    all = gaps(doctor, "", 200, &order);
    it = gap_of(all, key);
    assert_non_null(it);
    assert_true(json_is_false(json_object_get(it, "guardian_gap")));
    assert_int_equal(json_array_size(json_object_get(it, "missing")), 1);
    assert_true(missing_has(it, "grid_worker"));
    json_decref(all);
    json_decref(order);

    /* The full team takes it off the list. */
    set_user(key, "grid_worker", u_grid1);
    r = get_team(doctor, key);
    assert_true(json_is_true(json_object_get(r->json, "complete")));
    http_free(r);
    all = gaps(doctor, "", 200, &order);
    assert_null(gap_of(all, key));
    assert_non_null(gap_of(all, plain));
    json_decref(all);
    json_decref(order);

    /* Narrowed to another unit; paging walks the same list. */
    q = test_fmt("&org_unit_id=%s", qy_g01);
    all = gaps(doctor, q, 200, &order);
    assert_null(gap_of(all, plain));
    json_decref(all);
    json_decref(order);
    free(q);
    all = gaps(grid1, "", 200, &order);
    assert_non_null(gap_of(all, plain));
    json_decref(all);
    all = gaps(grid1, "", 1, &order1);
    assert_true(json_equal(order, order1));
    json_decref(all);
    json_decref(order);
    json_decref(order1);
    all = gaps(grid2, "", 200, &order);
    assert_null(gap_of(all, plain));
    json_decref(all);
    json_decref(order);

    /* Bad parameters. */
    char *outside = test_fmt("/api/v1/worklists/care-gaps?org_unit_id=%s", yl_unit);
    const char *const bad[][2] = {
        {"/api/v1/worklists/care-gaps?limit=0", "limit"},
        {"/api/v1/worklists/care-gaps?cursor=!!!", "cursor"},
        {"/api/v1/worklists/care-gaps?org_unit_id=abc", "org_unit_id"},
        {outside, "org_unit_id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("GET", bad[i][0], doctor, NULL, NULL);
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
    free(outside);
    free(n1);
    free(n2);
    free(n3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_replace_and_end_members),
        cmocka_unit_test(bad_inputs_write_nothing),
        cmocka_unit_test(who_may_read_and_change),
        cmocka_unit_test(care_gaps_worklist),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
