/* HTTP suite: org-unit scoping at each level (county, township, village,
 * grid), agencies, and the role checks on user administration. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The codes of the org units the user sees, in order, as one string. */
static char *visible_codes(const char *user)
{
    char *token = http_login(user, NULL);
    http_res *r = http_do("GET", "/api/v1/org-units", token, NULL, NULL);
    json_t *items, *it;
    size_t i;
    char *out = calloc(1, 4096);

    assert_int_equal(r->status, 200);
    items = json_object_get(r->json, "items");
    json_array_foreach(items, i, it)
    {
        size_t n = strlen(out);
        snprintf(out + n, 4096 - n, "%s%s", n ? "," : "",
                 json_string_value(json_object_get(it, "code")));
    }
    http_free(r);
    free(token);
    return out;
}

static long unit_count_under(const char *code)
{
    const char *p[] = {code};

    return db_count("SELECT count(*) FROM org_units WHERE starts_with(path,"
                    " (SELECT path FROM org_units WHERE code = $1))",
                    1, p);
}

/* [R-VIEW-1] */
static void each_level_sees_its_subtree(void **state)
{
    struct {
        const char *user, *unit_code;
    } cases[] = {
        {"admin", "429005"},            /* county */
        {"tf.official", "429005003"},   /* township */
        {"tf.cadre", "429005003001"},   /* village */
        {"tf.grid1", "429005003001G01"}, /* grid */
        {"yl.doctor", "429005001"},     /* another township */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *codes = visible_codes(cases[i].user);
        long n = 1;
        /* It starts with its own unit and holds exactly the subtree. */
        assert_int_equal(strncmp(codes, cases[i].unit_code, strlen(cases[i].unit_code)), 0);
        for (char *p = codes; *p; p++)
            n += *p == ',';
        assert_int_equal(n, unit_count_under(cases[i].unit_code));
        free(codes);
    }
    /* And nothing from the other township. */
    char *tf = visible_codes("tf.official");
    assert_null(strstr(tf, "429005001"));
    free(tf);
    char *grid = visible_codes("tf.grid1");
    assert_string_equal(grid, "429005003001G01");
    free(grid);
}

/* [R-VIEW-1] */
static void unit_outside_scope_is_404(void **state)
{
    char *grid_token = http_login("tf.grid1", NULL);
    char *yl_token = http_login("yl.doctor", NULL);
    char *own = db_scalar("SELECT id FROM org_units WHERE code = '429005003001G01'", 0, NULL);
    char *sibling = db_scalar("SELECT id FROM org_units WHERE code = '429005003001G02'", 0, NULL);
    char *village = db_scalar("SELECT id FROM org_units WHERE code = '429005003001'", 0, NULL);
    char path[128];
    http_res *r;

    snprintf(path, sizeof(path), "/api/v1/org-units/%s", own);
    r = http_do("GET", path, grid_token, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "level"), "grid");
    http_free(r);
    /* Sibling grid, parent village: hidden from the grid worker. */
    snprintf(path, sizeof(path), "/api/v1/org-units/%s", sibling);
    r = http_do("GET", path, grid_token, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    snprintf(path, sizeof(path), "/api/v1/org-units/%s", village);
    r = http_do("GET", path, grid_token, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Another township's doctor cannot see 泰丰's grid. */
    snprintf(path, sizeof(path), "/api/v1/org-units/%s", own);
    r = http_do("GET", path, yl_token, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    /* Not an id, and no such id. */
    r = http_do("GET", "/api/v1/org-units/abc", yl_token, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/org-units/999999999", yl_token, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    free(own);
    free(sibling);
    free(village);
    free(grid_token);
    free(yl_token);
}

static void agencies_in_subtree_and_above(void **state)
{
    char *token = http_login("tf.grid1", NULL);
    http_res *r = http_do("GET", "/api/v1/agencies", token, NULL, NULL);

    assert_int_equal(r->status, 200);
    /* The township's police station and the county's mental-health centre
     * serve the grid; 园林's police station does not. */
    assert_non_null(strstr(r->body, "泰丰派出所"));
    assert_non_null(strstr(r->body, "潜江市精神卫生中心"));
    assert_non_null(strstr(r->body, "梅苑社区居委会"));
    assert_null(strstr(r->body, "园林派出所"));
    assert_null(strstr(r->body, "潜阳村村委会"));
    http_free(r);
    free(token);
}

static void only_admins_manage_users(void **state)
{
    static const char *users[] = {"tf.official", "tf.doctor", "tf.police",  "tf.civil",
                                  "tf.grid1",    "tf.cadre",  "svc.police"};

    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        char *token = http_login(users[i], NULL);
        http_res *r = http_do("GET", "/api/v1/users", token, NULL, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        r = http_do("POST", "/api/v1/users", token,
                    "{\"username\":\"x.y.z\",\"display_name\":\"x\",\"password\":"
                    "\"Correct-horse-1\",\"role\":\"admin\",\"org_unit_id\":1}",
                    NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        free(token);
    }
    assert_int_equal(db_count("SELECT count(*) FROM users WHERE username = 'x.y.z'", 0, NULL),
                     0);
}

static void township_admin_sees_only_own_users(void **state)
{
    char *token = http_login("tf.admin", NULL);
    char *yl_id = db_scalar("SELECT id FROM users WHERE username = 'yl.doctor'", 0, NULL);
    char *county_admin = db_scalar("SELECT id FROM users WHERE username = 'admin'", 0, NULL);
    char path[128];
    http_res *r = http_do("GET", "/api/v1/users?limit=200", token, NULL, NULL);

    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"tf.grid1\""));
    assert_null(strstr(r->body, "\"yl.doctor\""));
    assert_null(strstr(r->body, "\"username\":\"admin\"")); /* the county admin is above */
    http_free(r);
    snprintf(path, sizeof(path), "/api/v1/users/%s", yl_id);
    r = http_do("GET", path, token, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    snprintf(path, sizeof(path), "/api/v1/users/%s", county_admin);
    r = http_do("PATCH", path, token, "{\"active\":false}", "If-Match: \"1\"");
    http_assert_problem(r, 404, NULL);
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM users WHERE username = 'admin' AND active",
                              0, NULL),
                     1);
    free(yl_id);
    free(county_admin);
    free(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_level_sees_its_subtree),
        cmocka_unit_test(unit_outside_scope_is_404),
        cmocka_unit_test(agencies_in_subtree_and_above),
        cmocka_unit_test(only_admins_manage_users),
        cmocka_unit_test(township_admin_sees_only_own_users),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
