/* HTTP suite: the clinical configuration per org unit (分色管理 per
 * township): a unit inherits its nearest ancestor's, the township's admin
 * edits the township's (not the county's, not another township's), a
 * points scheme (积分) gives the colour at the next recompute — never
 * below the rules' red — and each patient's clinical state says which
 * scheme and which unit's configuration gave it. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 27 /* keeps this suite's ID numbers apart from the others' */
#define PATH "/api/v1/config/clinical"

static char *doctor, *police, *yl_doctor, *tf_admin, *yl_admin, *root_admin;
static char *root, *tf, *village, *g01, *yl;
static char *default_doc; /* the default configuration as found */
static int default_green; /* its longest interval for green */

/* The default document without its scheme, with org_unit_id set to unit
 * (NULL: removed) and further members merged from extra (JSON text, NULL:
 * none). */
static char *doc_for(const char *unit, const char *extra)
{
    json_t *d = json_loads(default_doc, 0, NULL);
    char *s;

    json_object_del(d, "scheme");
    json_object_del(d, "points");
    if (unit != NULL)
        json_object_set_new(d, "org_unit_id", json_integer(strtoll(unit, NULL, 10)));
    else
        json_object_del(d, "org_unit_id");
    if (extra != NULL) {
        json_t *x = json_loads(extra, 0, NULL);
        assert_non_null(x);
        json_object_update(d, x);
        json_decref(x);
    }
    s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return s;
}

/* GET the configuration that applies at unit as token; free with http_free. */
static http_res *get_at(const char *token, const char *unit)
{
    char *path = test_fmt(PATH "?org_unit_id=%s", unit);
    http_res *r = http_do("GET", path, token, NULL, NULL);

    free(path);
    return r;
}

/* As token, the configuration at unit comes from source (NULL: the
 * default), inherited or not, with green at most green_months apart. */
static void expect_source(const char *token, const char *unit, const char *source, int inherited,
                          int green_months)
{
    http_res *r = get_at(token, unit);

    if (r->status != 200)
        fail_msg("GET at %s: %ld %s", unit, r->status, r->body);
    if (source == NULL)
        assert_true(json_is_null(json_object_get(r->json, "source_unit_id")));
    else
        assert_int_equal(test_jint(r->json, "source_unit_id"), strtoll(source, NULL, 10));
    assert_int_equal(test_jint(r->json, "org_unit_id"), strtoll(unit, NULL, 10));
    assert_int_equal(json_is_true(json_object_get(r->json, "inherited")), inherited);
    assert_int_equal(
        test_jint(json_object_get(json_object_get(r->json, "tiers"), "green"), "interval_months"),
        green_months);
    http_free(r);
}

static http_res *del(const char *token, const char *unit)
{
    char *path = test_fmt(PATH "?org_unit_id=%s", unit);
    http_res *r = http_do("DELETE", path, token, NULL, NULL);

    free(path);
    return r;
}

/* No unit keeps a configuration of its own (each test starts so). */
static int clean_setup(void **state)
{
    for (const char *const *u = (const char *const[]){tf, village, yl, NULL}; *u; u++)
        http_free(del(root_admin, *u));
    return 0;
}

static long configs(void)
{
    return db_count("SELECT count(*) FROM clinical_configs WHERE removed_at IS NULL", 0, NULL);
}

static long audited(const char *action)
{
    const char *p[] = {action};
    return db_count("SELECT count(*) FROM audit_log WHERE action = $1", 1, p);
}

static int setup(void **state)
{
    http_res *r;

    doctor = http_login("tf.doctor", NULL);
    police = http_login("tf.police", NULL);
    yl_doctor = http_login("yl.doctor", NULL);
    tf_admin = http_login("tf.admin", NULL);
    yl_admin = http_login("yl.admin", NULL);
    root_admin = http_login("admin", NULL);
    root = test_unit_id("429005");
    tf = test_unit_id("429005003");
    village = test_unit_id("429005003001");
    g01 = test_unit_id("429005003001G01");
    yl = test_unit_id("429005001");
    r = http_do("GET", PATH, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    json_object_del(r->json, "updated_at");
    default_doc = json_dumps(r->json, JSON_COMPACT);
    default_green = (int)test_jint(json_object_get(json_object_get(r->json, "tiers"), "green"),
                                   "interval_months");
    http_free(r);
    return 0;
}

static int teardown(void **state)
{
    char **all[] = {&doctor, &police, &yl_doctor, &tf_admin, &yl_admin, &root_admin,
                    &root,   &tf,     &village,   &g01,      &yl,       &default_doc};

    clean_setup(NULL); /* whatever happened */
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
    return 0;
}

/* County default → township override → village and grid inherit it. */
static void inheritance(void **state)
{
    long updates = audited("config.update"), inherits = audited("config.inherit");
    char *body, *target;
    http_res *r;

    assert_int_not_equal(default_green, 1);
    expect_source(doctor, village, NULL, 1, default_green);
    /* A read of the township's, sent back by its admin, becomes its own. */
    r = get_at(tf_admin, tf);
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "inherited")));
    json_object_set_new(json_object_get(json_object_get(r->json, "tiers"), "green"),
                        "interval_months", json_integer(1));
    body = json_dumps(r->json, JSON_COMPACT);
    http_free(r);
    r = http_do("PUT", PATH, tf_admin, body, NULL);
    if (r->status != 200)
        fail_msg("PUT own township: %ld %s", r->status, r->body);
    assert_int_equal(test_jint(r->json, "source_unit_id"), strtoll(tf, NULL, 10));
    assert_false(json_is_true(json_object_get(r->json, "inherited")));
    http_free(r);
    free(body);
    target = test_fmt("clinical/%s", tf);
    {
        const char *p[] = {target};
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'config.update'"
                                  " AND target_id = $1",
                                  1, p),
                         1);
    }
    assert_int_equal(audited("config.update"), updates + 1);

    expect_source(doctor, tf, tf, 0, 1);
    expect_source(doctor, village, tf, 1, 1);
    expect_source(doctor, g01, tf, 1, 1);
    expect_source(yl_doctor, yl, NULL, 1, default_green);
    /* The default is untouched. */
    r = http_do("GET", PATH, doctor, NULL, NULL);
    assert_int_equal(
        test_jint(json_object_get(json_object_get(r->json, "tiers"), "green"), "interval_months"),
        default_green);
    http_free(r);

    /* The village's own, as the default but for the unit. */
    body = doc_for(village, NULL);
    r = http_do("PUT", PATH, tf_admin, body, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(body);
    expect_source(doctor, g01, village, 1, default_green);

    /* Removing the township's: the village keeps its own, the others
     * inherit the default again; once more is 404, and nothing changes. */
    r = del(tf_admin, tf);
    assert_int_equal(r->status, 200);
    assert_true(json_is_null(json_object_get(r->json, "source_unit_id")));
    http_free(r);
    assert_int_equal(audited("config.inherit"), inherits + 1);
    {
        const char *p[] = {tf}; /* kept, marked removed: the service deletes nothing */
        assert_int_equal(db_count("SELECT count(*) FROM clinical_configs WHERE org_unit_id ="
                                  " $1::bigint AND removed_at IS NOT NULL",
                                  1, p),
                         1);
    }
    expect_source(doctor, tf, NULL, 1, default_green);
    expect_source(doctor, g01, village, 1, default_green);
    r = del(tf_admin, tf);
    http_assert_problem(r, 404, "org_unit_id");
    http_free(r);
    assert_int_equal(audited("config.inherit"), inherits + 1);
    http_free(del(tf_admin, village));
    expect_source(doctor, g01, NULL, 1, default_green);
    free(target);
}

/* A township's admin edits their own township (and below), not the
 * county's default nor another township's; others edit nothing. */
static void access_control(void **state)
{
    static const struct {
        const char *who; /* tf_admin, yl_admin, doctor, police */
        const char *unit;
    } refused[] = {
        {"tf_admin", "yl"},      {"tf_admin", "root"}, {"tf_admin", "default"}, {"yl_admin", "tf"},
        {"yl_admin", "village"}, {"doctor", "tf"},     {"police", "own"},       {"doctor", "own"},
    };
    long before = configs(), updates = audited("config.update");
    http_res *r;
    char *body;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *u = refused[i].unit;
        const char *token = strcmp(refused[i].who, "tf_admin") == 0   ? tf_admin
                            : strcmp(refused[i].who, "yl_admin") == 0 ? yl_admin
                            : strcmp(refused[i].who, "doctor") == 0   ? doctor
                                                                      : police;
        if (strcmp(u, "default") == 0)
            body = doc_for(NULL, "{\"org_unit_id\":null}");
        else if (strcmp(u, "own") == 0)
            body = doc_for(NULL, NULL);
        else
            body = doc_for(strcmp(u, "yl") == 0     ? yl
                           : strcmp(u, "root") == 0 ? root
                           : strcmp(u, "tf") == 0   ? tf
                                                    : village,
                           NULL);
        r = http_do("PUT", PATH, token, body, NULL);
        if (r->status != 403)
            fail_msg("%s PUT %s: expected 403, got %ld %s", refused[i].who, u, r->status, r->body);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        free(body);
    }
    r = del(yl_admin, tf);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = del(doctor, tf);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    assert_int_equal(configs(), before);
    assert_int_equal(audited("config.update"), updates);

    /* Without org_unit_id, the admin's own unit. */
    body = doc_for(NULL, NULL);
    r = http_do("PUT", PATH, tf_admin, body, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(test_jint(r->json, "org_unit_id"), strtoll(tf, NULL, 10));
    http_free(r);
    free(body);
    assert_int_equal(configs(), before + 1);
    http_free(del(tf_admin, tf));

    /* Reading: one's own line (the units above and the area below), not
     * another township's. */
    r = get_at(yl_doctor, tf);
    http_assert_problem(r, 403, NULL);
    http_free(r);
    r = get_at(doctor, root);
    assert_int_equal(r->status, 200);
    assert_false(json_is_true(json_object_get(r->json, "inherited")));
    http_free(r);
    r = get_at(yl_doctor, yl);
    assert_int_equal(r->status, 200);
    http_free(r);
}

/* Every bad input is 400 naming the field, and nothing changes. */
static void bad_inputs(void **state)
{
    static const struct {
        const char *extra, *field;
    } bad[] = {
        {"{\"scheme\":\"bonus\"}", "scheme"},
        {"{\"scheme\":\"points\"}", "points"},
        {"{\"scheme\":\"points\",\"points\":null}", "points"},
        {"{\"points\":{\"items\":{},\"thresholds\":{\"red\":3,\"orange\":2,\"yellow\":1}}}",
         "points"},
        {"{\"scheme\":\"points\",\"points\":\"many\"}", "points"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{\"lives_alone\":-1},"
         "\"thresholds\":{\"red\":3,\"orange\":2,\"yellow\":1}}}",
         "points.items.lives_alone"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{\"lives_alone\":101},"
         "\"thresholds\":{\"red\":3,\"orange\":2,\"yellow\":1}}}",
         "points.items.lives_alone"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{\"handsome\":1},"
         "\"thresholds\":{\"red\":3,\"orange\":2,\"yellow\":1}}}",
         "points.items"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":[],"
         "\"thresholds\":{\"red\":3,\"orange\":2,\"yellow\":1}}}",
         "points.items"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{},\"thresholds\":{\"orange\":2,"
         "\"yellow\":1}}}",
         "points.thresholds.red"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{},\"thresholds\":{\"red\":3,"
         "\"orange\":2,\"yellow\":0}}}",
         "points.thresholds.yellow"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{},\"thresholds\":{\"red\":3,"
         "\"orange\":4,\"yellow\":1}}}",
         "points.thresholds"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{},\"thresholds\":{\"red\":3,"
         "\"orange\":2,\"yellow\":1,\"blue\":0}}}",
         "points.thresholds"},
        {"{\"scheme\":\"points\",\"points\":{\"items\":{},\"thresholds\":{\"red\":3,"
         "\"orange\":2,\"yellow\":1},\"bonus\":1}}",
         "points"},
        {"{\"org_unit_id\":\"429005003\"}", "org_unit_id"},
        {"{\"org_unit_id\":0}", "org_unit_id"},
        {"{\"org_unit_id\":999999999}", "org_unit_id"},
    };
    long before = configs(), updates = audited("config.update");
    http_res *r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = doc_for(tf, bad[i].extra);
        r = http_do("PUT", PATH, tf_admin, body, NULL);
        if (r->status != 400)
            fail_msg("PUT %s: expected 400, got %ld %s", bad[i].extra, r->status, r->body);
        http_assert_problem(r, 400, bad[i].field);
        http_free(r);
        free(body);
    }
    r = http_do("GET", PATH "?org_unit_id=abc", doctor, NULL, NULL);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    r = http_do("GET", PATH "?org_unit_id=999999999", doctor, NULL, NULL);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    r = http_do("DELETE", PATH, root_admin, NULL, NULL);
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    r = del(root_admin, root); /* the default is changed, never removed */
    http_assert_problem(r, 400, "org_unit_id");
    http_free(r);
    assert_int_equal(configs(), before);
    assert_int_equal(audited("config.update"), updates);
}

/* The patient's clinical state as of date; free with http_free. */
static http_res *state_of(long long pid, const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/clinical-state", pid);
    http_res *r = test_call(date, "GET", path, doctor, NULL);

    free(path);
    assert_int_equal(r->status, 200);
    return r;
}

/* As of date, the patient is colour for reason by the rules of the default
 * configuration, with no points. */
static void by_default_rules(long long pid, const char *date, const char *colour,
                             const char *reason)
{
    http_res *r = state_of(pid, date);

    assert_string_equal(test_jstr(r->json, "colour"), colour);
    assert_true(test_jhas(json_object_get(r->json, "colour_reasons"), reason));
    assert_string_equal(test_jstr(r->json, "colour_scheme"), "rules");
    assert_true(json_is_null(json_object_get(r->json, "colour_config_unit_id")));
    assert_true(json_is_null(json_object_get(r->json, "colour_points")));
    assert_true(json_is_null(json_object_get(r->json, "colour_points_detail")));
    http_free(r);
}

/* Under the township's points scheme the colour follows the points at the
 * patient's next recompute; a recent incident is red whatever the points. */
static void points_colour(void **state)
{
    const char *scheme =
        "{\"scheme\":\"points\",\"points\":{\"items\":{\"risk_level\":2,\"weak_guardian\":5,"
        "\"incident_history\":3},\"thresholds\":{\"red\":20,\"orange\":5,\"yellow\":2}}}";
    char id[19], *name = test_fmt("分色积分%s", test_cn_unique()), *body, *ipath;
    long long pid;
    http_res *r;

    /* No guardian, seen stable: yellow by the rules (a key flag). */
    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, "2026-03-01", name, id, g01,
                              ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\"");
    test_stable_visit(doctor, pid, "2026-03-01");
    by_default_rules(pid, "2026-03-01", "yellow", "key_flags");

    body = doc_for(tf, scheme);
    r = http_do("PUT", PATH, tf_admin, body, NULL);
    if (r->status != 200)
        fail_msg("PUT points: %ld %s", r->status, r->body);
    assert_string_equal(test_jstr(r->json, "scheme"), "points");
    assert_int_equal(
        test_jint(json_object_get(json_object_get(r->json, "points"), "thresholds"), "orange"), 5);
    http_free(r);
    free(body);
    /* Stored colours move at the patient's next change, not before. */
    r = state_of(pid, "2026-03-02");
    assert_string_equal(test_jstr(r->json, "colour"), "yellow");
    http_free(r);

    test_stable_visit(doctor, pid, "2026-03-20");
    r = state_of(pid, "2026-03-20");
    if (strcmp(test_jstr(r->json, "colour"), "orange") != 0)
        fail_msg("expected orange by points: %s", r->body);
    assert_string_equal(test_jstr(r->json, "colour_scheme"), "points");
    assert_int_equal(test_jint(r->json, "colour_config_unit_id"), strtoll(tf, NULL, 10));
    assert_string_equal(test_jstr(r->json, "colour_config_unit_name"), "泰丰街道");
    assert_int_equal(test_jint(r->json, "colour_points"), 5);
    assert_int_equal(test_jint(json_object_get(r->json, "colour_points_detail"), "weak_guardian"),
                     5);
    assert_int_equal(json_object_size(json_object_get(r->json, "colour_points_detail")), 1);
    assert_true(test_jhas(json_object_get(r->json, "colour_reasons"), "points"));
    http_free(r);
    /* The patient's document says so too. */
    ipath = test_fmt("/api/v1/patients/%lld", pid);
    r = http_do("GET", ipath, doctor, NULL, NULL);
    assert_string_equal(test_jstr(r->json, "colour"), "orange");
    assert_string_equal(test_jstr(r->json, "colour_scheme"), "points");
    http_free(r);
    free(ipath);

    /* An incident: 3 more points (orange still by points), but red by the rules. */
    ipath = test_fmt("/api/v1/patients/%lld/incidents", pid);
    r = test_call("2026-03-25", "POST", ipath, police,
                  "{\"occurred_on\":\"2026-03-24\",\"place\":\"梅苑路菜市场\",\"kind\":\"trouble\","
                  "\"injured\":0,\"dead\":0,\"description\":\"与摊主争吵\"}");
    if (r->status != 201)
        fail_msg("incident: %ld %s", r->status, r->body);
    http_free(r);
    free(ipath);
    r = state_of(pid, "2026-03-25");
    assert_string_equal(test_jstr(r->json, "colour"), "red");
    assert_string_equal(test_jstr(r->json, "colour_scheme"), "points");
    assert_int_equal(test_jint(r->json, "colour_points"), 8);
    assert_true(test_jhas(json_object_get(r->json, "colour_reasons"), "recent_incident"));
    assert_false(test_jhas(json_object_get(r->json, "colour_reasons"), "points"));
    http_free(r);

    /* Back to the default (the rules): the next change says so. */
    http_free(del(tf_admin, tf));
    test_stable_visit(doctor, pid, "2026-04-10");
    by_default_rules(pid, "2026-04-10", "red", "recent_incident");
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(inheritance, clean_setup),
        cmocka_unit_test_setup(access_control, clean_setup),
        cmocka_unit_test_setup(bad_inputs, clean_setup),
        cmocka_unit_test_setup(points_colour, clean_setup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
