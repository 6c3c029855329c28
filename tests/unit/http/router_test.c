/* Unit tests for route matching (http/router.c) and path parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../../api/core/err.h"
#include "../../../api/http/router.h"

static int h_health(jf_req *req)
{
    return 0;
}

static int h_users(jf_req *req)
{
    return 1;
}

static int h_user(jf_req *req)
{
    return 2;
}

static int h_member(jf_req *req)
{
    return 3;
}

/* The table is global to the process: registered once, in main(). */
static const jf_route routes[] = {
    {"GET", "/api/v1/health", h_health, 0, 0},
    {"GET", "/api/v1/users", h_users, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/users", h_users, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/users/{id}", h_user, JF_ROUTE_AUTH, 0},
    {"PATCH", "/api/v1/users/{id}", h_user, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/users/{id}/reset-password", h_user, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/org-units/{id}/users/{user_id}", h_member, JF_ROUTE_AUTH, 0},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

#define P128                                                                                       \
    "12345678901234567890123456789012345678901234567890123456789012345678901234567890"             \
    "123456789012345678901234567890123456789012345678"

static void test_match(void **state)
{
    static const struct {
        const char *method, *path;
        int route; /* index in routes, or -1 */
        bool path_known;
        const char *p0, *p1;
    } rows[] = {
        {"GET", "/api/v1/health", 0, true, NULL, NULL},
        {"GET", "/api/v1/users", 1, true, NULL, NULL},
        {"POST", "/api/v1/users", 2, true, NULL, NULL},
        {"GET", "/api/v1/users/42", 3, true, "42", NULL},
        {"PATCH", "/api/v1/users/42", 4, true, "42", NULL},
        {"GET", "/api/v1/users/abc", 3, true, "abc", NULL}, /* the handler checks the id */
        {"POST", "/api/v1/users/7/reset-password", 5, true, "7", NULL},
        {"GET", "/api/v1/org-units/7/users/42", 6, true, "7", "42"},
        {"GET", "/api/v1/users/" P128, 3, true, P128, NULL},
        /* Other methods on a known path. */
        {"DELETE", "/api/v1/users/42", -1, true, NULL, NULL},
        {"PUT", "/api/v1/health", -1, true, NULL, NULL},
        {"get", "/api/v1/health", -1, true, NULL, NULL},
        {"GET", "/api/v1/users/7/reset-password", -1, true, NULL, NULL},
        /* Unknown paths. */
        {"GET", "/api/v1/nothing", -1, false, NULL, NULL},
        {"GET", "/api/v1/healthz", -1, false, NULL, NULL},
        {"GET", "/api/v1/healt", -1, false, NULL, NULL},
        {"GET", "/API/v1/health", -1, false, NULL, NULL},
        {"GET", "/api/v1/health/", -1, false, NULL, NULL},
        {"GET", "/api/v1/users/", -1, false, NULL, NULL},
        {"GET", "/api/v1/users/42/", -1, false, NULL, NULL},
        {"GET", "/api/v1/users/42/x", -1, false, NULL, NULL},
        {"GET", "/api/v1/users//reset-password", -1, false, NULL, NULL},
        {"POST", "/api/v1/users//reset-password", -1, false, NULL, NULL},
        {"GET", "/api/v1/org-units//users/42", -1, false, NULL, NULL},
        {"GET", "/api/v1/org-units/7/users/", -1, false, NULL, NULL},
        {"GET", "/api/v1/users/" P128 "9", -1, false, NULL, NULL},
        {"GET", "", -1, false, NULL, NULL},
        {"GET", "/", -1, false, NULL, NULL},
        {"GET", "api/v1/health", -1, false, NULL, NULL},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_req req;
        bool known = !rows[i].path_known;
        const jf_route *r;

        memset(&req, 0, sizeof(req));
        jf_arena_init(&req.arena, 1 << 20);
        r = jf_router_match(rows[i].method, rows[i].path, &req, &known);
        if (rows[i].route < 0 ? r != NULL : r != &routes[rows[i].route])
            fail_msg("%s %s: matched route %td, want %d", rows[i].method, rows[i].path,
                     r ? r - routes : (ptrdiff_t)-1, rows[i].route);
        if (r == NULL && known != rows[i].path_known)
            fail_msg("%s %s: path_known %d", rows[i].method, rows[i].path, known);
        if (r != NULL) {
            int want_n = (rows[i].p0 != NULL) + (rows[i].p1 != NULL);

            assert_int_equal(req.npath_params, want_n);
            if (rows[i].p0)
                assert_string_equal(jf_req_param(&req, 0), rows[i].p0);
            if (rows[i].p1)
                assert_string_equal(jf_req_param(&req, 1), rows[i].p1);
            assert_null(jf_req_param(&req, want_n));
            assert_null(jf_req_param(&req, -1));
        }
        jf_arena_free(&req.arena);
    }
}

static void test_param_id(void **state)
{
    static const struct {
        const char *seg;
        long long want;
    } rows[] = {
        {"42", 42},
        {"1", 1},
        {"123456789012345678", 123456789012345678LL},
        {"0", 0},
        {"007", 0},
        {"-1", 0},
        {"+1", 0},
        {"abc", 0},
        {"1x", 0},
        {"1.5", 0},
        {"1234567890123456789", 0}, /* 19 digits: refused, not wrapped */
        {"99999999999999999999", 0},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char path[64];
        jf_req req;
        bool known;

        memset(&req, 0, sizeof(req));
        jf_arena_init(&req.arena, 1 << 20);
        snprintf(path, sizeof(path), "/api/v1/users/%s", rows[i].seg);
        assert_ptr_equal(jf_router_match("GET", path, &req, &known), &routes[3]);
        if (jf_req_param_id(&req, 0) != rows[i].want)
            fail_msg("\"%s\": got %lld, want %lld", rows[i].seg, jf_req_param_id(&req, 0),
                     rows[i].want);
        assert_int_equal(jf_req_param_id(&req, 1), 0);
        jf_arena_free(&req.arena);
    }
}

static void test_table(void **state)
{
    static jf_route more[JF_MAX_ROUTES];
    static const jf_route stray = {"GET", "/x", h_health, 0, 0};

    assert_int_equal(jf_router_count(), NROUTES);
    for (size_t i = 0; i < NROUTES; i++) {
        assert_ptr_equal(jf_router_at(i), &routes[i]);
        assert_int_equal(jf_router_index(&routes[i]), i);
    }
    assert_null(jf_router_at(NROUTES));
    assert_int_equal(jf_router_index(&stray), NROUTES);
    /* Past JF_MAX_ROUTES in all: refused, nothing added. */
    assert_int_equal(jf_router_add(more, JF_MAX_ROUTES - NROUTES + 1), JF_ERR_TOO_LARGE);
    assert_int_equal(jf_router_count(), NROUTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_param_id),
        cmocka_unit_test(test_table),
    };

    if (jf_router_add(routes, NROUTES) != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
