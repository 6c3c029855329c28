/* HTTP suite: user administration — create, read, list with keyset pages,
 * update with If-Match, every bad field refused with nothing written, the
 * audit of each change, and the audit table refusing edits. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *admin_token;
static char *township_id; /* 泰丰街道 */
static char *yl_id;       /* 园林街道 */

static int setup(void **state)
{
    admin_token = http_login("tf.admin", NULL);
    township_id = db_scalar("SELECT id FROM org_units WHERE code = '429005003'", 0, NULL);
    yl_id = db_scalar("SELECT id FROM org_units WHERE code = '429005001'", 0, NULL);
    return 0;
}

static int teardown(void **state)
{
    free(admin_token);
    free(township_id);
    free(yl_id);
    return 0;
}

static long users_total(void)
{
    return db_count("SELECT count(*) FROM users", 0, NULL);
}

static void create_read_update(void **state)
{
    char body[512], name[64], path[128], ifm[64];
    const char *p[1];
    http_res *r;
    long long id;

    snprintf(name, sizeof(name), "new.doc%s", test_unique());
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"display_name\":\"赵敏\",\"password\":\"Correct-horse-1\","
             "\"role\":\"doctor\",\"org_unit_id\":%s,\"phone\":\"13800000099\"}",
             name, township_id);
    r = http_do("POST", "/api/v1/users", admin_token, body, NULL);
    assert_int_equal(r->status, 201);
    id = json_integer_value(json_object_get(r->json, "id"));
    assert_true(id > 0);
    assert_string_equal(http_str(r, "display_name"), "赵敏");
    assert_string_equal(http_header(r, "ETag"), "\"1\"");
    snprintf(path, sizeof(path), "/api/v1/users/%lld", id);
    assert_string_equal(http_header(r, "Location"), path);
    http_free(r);
    p[0] = name;
    assert_int_equal(db_count("SELECT count(*) FROM audit_log a JOIN users u ON a.target_id ="
                              " u.id::text WHERE a.action = 'user.create' AND u.username = $1",
                              1, p),
                     1);
    /* The new account can log in. */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"Correct-horse-1\"}", name);
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);

    r = http_do("GET", path, admin_token, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_header(r, "ETag"), "\"1\"");
    http_free(r);

    /* No If-Match → 428; stale → 412; right → 200 and version 2. */
    r = http_do("PATCH", path, admin_token, "{\"display_name\":\"赵敏敏\"}", NULL);
    http_assert_problem(r, 428, "If-Match");
    http_free(r);
    r = http_do("PATCH", path, admin_token, "{\"display_name\":\"赵敏敏\"}", "If-Match: \"7\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);
    r = http_do("PATCH", path, admin_token, "{\"display_name\":\"赵敏敏\"}", "If-Match: banana");
    http_assert_problem(r, 400, "If-Match");
    http_free(r);
    r = http_do("PATCH", path, admin_token, "{\"display_name\":\"赵敏敏\",\"phone\":null}",
                "If-Match: \"1\"");
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "display_name"), "赵敏敏");
    assert_true(json_is_null(json_object_get(r->json, "phone")));
    assert_int_equal(json_integer_value(json_object_get(r->json, "version")), 2);
    snprintf(ifm, sizeof(ifm), "If-Match: %s", http_header(r, "ETag"));
    assert_string_equal(ifm, "If-Match: \"2\"");
    http_free(r);
    /* The old version is stale now. */
    r = http_do("PATCH", path, admin_token, "{\"role\":\"police\"}", "If-Match: \"1\"");
    http_assert_problem(r, 412, "If-Match");
    http_free(r);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'user.update'"
                              " AND target_id = (SELECT id::text FROM users WHERE username = $1)"
                              " AND detail->'fields' ? 'display_name'",
                              1, p),
                     1);
    /* Duplicate username → 409 naming the field. */
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"display_name\":\"重复\",\"password\":\"Correct-horse-1\","
             "\"role\":\"doctor\",\"org_unit_id\":%s}",
             name, township_id);
    r = http_do("POST", "/api/v1/users", admin_token, body, NULL);
    http_assert_problem(r, 409, "username");
    http_free(r);
}

static void create_bad_fields_write_nothing(void **state)
{
    char good_unit[32];
    struct {
        const char *body_fmt; /* %s: org unit id */
        const char *field;
    } cases[] = {
        {"{\"display_name\":\"甲\",\"password\":\"Correct-horse-1\",\"role\":\"doctor\","
         "\"org_unit_id\":%s}",
         "username"},
        {"{\"username\":\"UPPER\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s}",
         "username"},
        {"{\"username\":\"ab\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s}",
         "username"},
        {"{\"username\":\"okname1\",\"display_name\":\"\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s}",
         "display_name"},
        {"{\"username\":\"okname1\",\"display_name\":\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\","
         "\"password\":\"Correct-horse-1\",\"role\":\"doctor\",\"org_unit_id\":%s}",
         "display_name"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"short\","
         "\"role\":\"doctor\",\"org_unit_id\":%s}",
         "password"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"superuser\",\"org_unit_id\":%s}",
         "role"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":\"%s\"}",
         "org_unit_id"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s0000}",
         "org_unit_id"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s,\"agency_id\":99999999}",
         "agency_id"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s,\"phone\":\"call me\"}",
         "phone"},
        {"{\"username\":\"okname1\",\"display_name\":\"甲\",\"password\":\"Correct-horse-1\","
         "\"role\":\"doctor\",\"org_unit_id\":%s,\"is_root\":true}",
         "is_root"},
    };
    long before = users_total();

    snprintf(good_unit, sizeof(good_unit), "%s", township_id);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[1024];
        http_res *r;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(body, sizeof(body), cases[i].body_fmt, good_unit);
#pragma GCC diagnostic pop
        r = http_do("POST", "/api/v1/users", admin_token, body, NULL);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
    }
    /* A unit outside the admin's township is refused the same way. */
    {
        char body[512];
        http_res *r;
        snprintf(body, sizeof(body),
                 "{\"username\":\"okname2\",\"display_name\":\"甲\",\"password\":"
                 "\"Correct-horse-1\",\"role\":\"doctor\",\"org_unit_id\":%s}",
                 yl_id);
        r = http_do("POST", "/api/v1/users", admin_token, body, NULL);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
    }
    assert_int_equal(users_total(), before);
}

static void patch_bad_fields_change_nothing(void **state)
{
    char *id = db_scalar("SELECT id FROM users WHERE username = 'tf.grid2'", 0, NULL);
    char *ver = db_scalar("SELECT version FROM users WHERE username = 'tf.grid2'", 0, NULL);
    char path[128], ifm[64];
    struct {
        const char *body;
        const char *field;
    } cases[] = {
        {"{\"role\":\"king\"}", "role"},
        {"{\"display_name\":null}", "body"},
        {"{\"active\":\"yes\"}", "active"},
        {"{\"password\":\"short\"}", "password"},
        {"{\"org_unit_id\":-1}", "org_unit_id"},
        {"{\"phone\":\"12\"}", "phone"},
        {"{\"username\":\"renamed\"}", "username"},
    };

    snprintf(path, sizeof(path), "/api/v1/users/%s", id);
    snprintf(ifm, sizeof(ifm), "If-Match: \"%s\"", ver);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http_res *r = http_do("PATCH", path, admin_token, cases[i].body, ifm);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
    }
    {
        char body[64];
        http_res *r;
        snprintf(body, sizeof(body), "{\"org_unit_id\":%s}", yl_id);
        r = http_do("PATCH", path, admin_token, body, ifm);
        http_assert_problem(r, 400, "org_unit_id");
        http_free(r);
    }
    char *after = db_scalar("SELECT version FROM users WHERE username = 'tf.grid2'", 0, NULL);
    assert_string_equal(ver, after);
    free(after);
    free(id);
    free(ver);
}

static void list_pages_with_cursor_and_count(void **state)
{
    http_res *r = http_do("GET", "/api/v1/users?limit=3&count=true", admin_token, NULL, NULL);
    long total, seen = 0;
    char path[256];

    assert_int_equal(r->status, 200);
    total = (long)json_integer_value(json_object_get(r->json, "total"));
    assert_true(total > 3);
    for (;;) {
        json_t *items = json_object_get(r->json, "items");
        const char *next = http_str(r, "next_cursor");
        seen += (long)json_array_size(items);
        assert_true(json_array_size(items) <= 3);
        if (next == NULL)
            break;
        snprintf(path, sizeof(path), "/api/v1/users?limit=3&cursor=%s", next);
        http_free(r);
        r = http_do("GET", path, admin_token, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_null(json_object_get(r->json, "total"));
    }
    assert_int_equal(seen, total);
    http_free(r);
    /* Filters. */
    r = http_do("GET", "/api/v1/users?role=grid_worker&count=true", admin_token, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(strstr(r->body, "\"role\":\"doctor\""));
    assert_true(json_integer_value(json_object_get(r->json, "total")) >= 2);
    http_free(r);
    /* Bad query parameters. */
    static const char *bad[][2] = {{"/api/v1/users?limit=0", "limit"},
                                   {"/api/v1/users?limit=201", "limit"},
                                   {"/api/v1/users?limit=x", "limit"},
                                   {"/api/v1/users?cursor=!!!", "cursor"},
                                   {"/api/v1/users?cursor=azEyMw", "cursor"},
                                   {"/api/v1/users?role=king", "role"},
                                   {"/api/v1/users?org_unit_id=-4", "org_unit_id"},
                                   {"/api/v1/users?count=maybe", "count"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = http_do("GET", bad[i][0], admin_token, NULL, NULL);
        http_assert_problem(r, 400, bad[i][1]);
        http_free(r);
    }
}

static void audit_log_is_append_only(void **state)
{
    assert_true(db_count("SELECT count(*) FROM audit_log", 0, NULL) > 0);
    assert_false(db_try("UPDATE audit_log SET action = 'x'"));
    assert_false(db_try("DELETE FROM audit_log"));
    assert_false(db_try("TRUNCATE audit_log"));
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'x'", 0, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_read_update),
        cmocka_unit_test(create_bad_fields_write_nothing),
        cmocka_unit_test(patch_bad_fields_change_nothing),
        cmocka_unit_test(list_pages_with_cursor_and_count),
        cmocka_unit_test(audit_log_is_append_only),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
