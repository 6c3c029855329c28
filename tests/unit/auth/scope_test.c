/* Unit tests for roles and the org-unit subtree rule (auth/scope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../../api/auth/scope.h"

/* [R-VIEW-1] */
static void test_contains(void **state)
{
    static const struct {
        const char *ancestor, *target;
        bool want;
    } rows[] = {
        {"/1/", "/1/4/9/", true},
        {"/1/", "/1/", true},
        {"/1/4/", "/1/4/", true},
        {"/1/4/", "/1/4/9/", true},
        {"/1/4/", "/1/40/", false}, /* not a whole segment */
        {"/1/4/", "/1/40/9/", false},
        {"/1/4/9/", "/1/4/", false}, /* a child cannot see its parent */
        {"/1/4/9/", "/1/", false},
        {"/1/4/", "/1/5/", false}, /* siblings */
        {"/1/4/9/", "/1/4/8/", false},
        {"/1/", "/2/", false},
        {"/12/", "/1/", false},
        {"/1/", "/12/", false},
        /* Malformed paths never match, on either side. */
        {NULL, "/1/4/", false},
        {"/1/", NULL, false},
        {NULL, NULL, false},
        {"", "/1/4/", false},
        {"/1/", "", false},
        {"", "", false},
        {"/", "/1/4/", false},
        {"/", "/", false},
        {"//", "/1/4/", false},
        {"1/4/", "1/4/9/", false},
        {"/1/4", "/1/4/9/", false},
        {"/1/4", "/1/45/", false},
        {"/1/", "/1/4", false},
        {"/1/", "1/4/", false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_scope_contains(rows[i].ancestor, rows[i].target) != rows[i].want)
            fail_msg("contains(%s, %s): want %d", rows[i].ancestor ? rows[i].ancestor : "NULL",
                     rows[i].target ? rows[i].target : "NULL", rows[i].want);
}

static void test_role_parse_name(void **state)
{
    static const struct {
        const char *name;
        jf_role role;
    } known[] = {
        {"admin", JF_ROLE_ADMIN},
        {"official", JF_ROLE_OFFICIAL},
        {"doctor", JF_ROLE_DOCTOR},
        {"police", JF_ROLE_POLICE},
        {"civil_affairs", JF_ROLE_CIVIL_AFFAIRS},
        {"grid_worker", JF_ROLE_GRID_WORKER},
        {"service", JF_ROLE_SERVICE},
    };
    static const char *unknown[] = {
        NULL,          "",         "Admin", "ADMIN", " admin", "admin ", "root",
        "grid-worker", "doctor\n", "adm",   "官员",
    };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(jf_role_parse(known[i].name), known[i].role);
        assert_string_equal(jf_role_name(known[i].role), known[i].name);
    }
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        if (jf_role_parse(unknown[i]) != JF_ROLE_NONE)
            fail_msg("\"%s\" parsed as a role", unknown[i] ? unknown[i] : "NULL");
    assert_string_equal(jf_role_name(JF_ROLE_NONE), "");
    assert_string_equal(jf_role_name((jf_role)99), "");
    assert_string_equal(jf_role_name((jf_role)-1), "");
}

static void test_role_has(void **state)
{
    enum { U = JF_CAP_USERS_ADMIN, O = JF_CAP_ORG_READ, A = JF_CAP_AUDIT_READ, W = JF_CAP_WRITE };
    static const struct {
        jf_role role;
        unsigned has;   /* every one of these */
        unsigned lacks; /* none of these */
    } rows[] = {
        {JF_ROLE_ADMIN, U | O | A | W, 0},     {JF_ROLE_OFFICIAL, O, U | A | W},
        {JF_ROLE_DOCTOR, O | W, U | A},        {JF_ROLE_POLICE, O | W, U | A},
        {JF_ROLE_CIVIL_AFFAIRS, O | W, U | A}, {JF_ROLE_GRID_WORKER, O | W, U | A},
        {JF_ROLE_SERVICE, O | W, U | A},       {JF_ROLE_NONE, 0, U | O | A | W},
        {(jf_role)99, 0, U | O | A | W},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (unsigned cap = 1; cap <= W; cap <<= 1) {
            if ((rows[i].has & cap) && !jf_role_has(rows[i].role, (jf_cap)cap))
                fail_msg("role %d lacks cap %u", rows[i].role, cap);
            if ((rows[i].lacks & cap) && jf_role_has(rows[i].role, (jf_cap)cap))
                fail_msg("role %d holds cap %u", rows[i].role, cap);
        }
    }
    /* Asking for two capabilities needs both. */
    assert_true(jf_role_has(JF_ROLE_ADMIN, (jf_cap)(U | W)));
    assert_false(jf_role_has(JF_ROLE_DOCTOR, (jf_cap)(U | W)));
}

/* Assistance (救助): civil affairs work it, officials and admins read an
 * area's, doctors read a patient's, police and grid workers see none. */
static void test_assistance_caps(void **state)
{
    enum { R = JF_CAP_ASSIST_READ, A = JF_CAP_ASSIST_AREA, W = JF_CAP_ASSIST_WRITE };
    static const struct {
        jf_role role;
        unsigned has, lacks;
    } rows[] = {
        {JF_ROLE_CIVIL_AFFAIRS, R | A | W, 0}, {JF_ROLE_OFFICIAL, R | A, W},
        {JF_ROLE_ADMIN, R | A, W},             {JF_ROLE_DOCTOR, R, A | W},
        {JF_ROLE_POLICE, 0, R | A | W},        {JF_ROLE_GRID_WORKER, 0, R | A | W},
        {JF_ROLE_SERVICE, 0, R | A | W},       {JF_ROLE_NONE, 0, R | A | W},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        for (unsigned cap = R; cap <= W; cap <<= 1) {
            if ((rows[i].has & cap) && !jf_role_has(rows[i].role, (jf_cap)cap))
                fail_msg("role %s lacks cap %u", jf_role_name(rows[i].role), cap);
            if ((rows[i].lacks & cap) && jf_role_has(rows[i].role, (jf_cap)cap))
                fail_msg("role %s holds cap %u", jf_role_name(rows[i].role), cap);
        }
}

#define TOWNSHIP "/1/2/"
#define VILLAGE "/1/2/3/"
#define GRID "/1/2/3/4/"
#define SIBLING_GRID "/1/2/3/5/"
#define OTHER_TOWNSHIP "/1/7/"

static void test_scope_check(void **state)
{
    enum { R = JF_ACCESS_READ, W = JF_ACCESS_WRITE };
    enum { OK = JF_SCOPE_OK, HIDDEN = JF_SCOPE_HIDDEN, FORBIDDEN = JF_SCOPE_FORBIDDEN };
    static const struct {
        const char *role, *home, *target;
        int access;
        int want;
    } rows[] = {
        /* A township doctor works anywhere in the township. */
        {"doctor", TOWNSHIP, GRID, R, OK},
        {"doctor", TOWNSHIP, GRID, W, OK},
        {"doctor", TOWNSHIP, VILLAGE, W, OK},
        {"doctor", TOWNSHIP, TOWNSHIP, W, OK},
        {"doctor", TOWNSHIP, "/1/", R, HIDDEN},
        /* A grid worker sees only their own grid. */
        {"grid_worker", GRID, GRID, R, OK},
        {"grid_worker", GRID, GRID, W, OK},
        {"grid_worker", GRID, SIBLING_GRID, R, HIDDEN},
        {"grid_worker", GRID, SIBLING_GRID, W, HIDDEN},
        {"grid_worker", GRID, VILLAGE, R, HIDDEN},
        {"grid_worker", GRID, TOWNSHIP, R, HIDDEN},
        {"grid_worker", GRID, "/1/2/3/40/", R, HIDDEN},
        /* A village official reads below, never writes. */
        {"official", VILLAGE, GRID, R, OK},
        {"official", VILLAGE, GRID, W, FORBIDDEN},
        {"official", VILLAGE, VILLAGE, W, FORBIDDEN},
        {"official", VILLAGE, TOWNSHIP, R, HIDDEN},
        {"official", VILLAGE, TOWNSHIP, W, HIDDEN}, /* hidden wins over forbidden */
        {"police", VILLAGE, SIBLING_GRID, W, OK},
        {"civil_affairs", VILLAGE, GRID, W, OK},
        {"admin", "/1/", GRID, W, OK},
        {"admin", TOWNSHIP, OTHER_TOWNSHIP, R, HIDDEN},
        /* No known role: nothing is visible, even at home. */
        {"", GRID, GRID, R, HIDDEN},
        {"superuser", TOWNSHIP, GRID, R, HIDDEN},
        {"Doctor", TOWNSHIP, GRID, R, HIDDEN},
        /* Another township sees nothing under /1/2/. */
        {"doctor", OTHER_TOWNSHIP, TOWNSHIP, R, HIDDEN},
        {"doctor", OTHER_TOWNSHIP, VILLAGE, R, HIDDEN},
        {"doctor", OTHER_TOWNSHIP, GRID, W, HIDDEN},
        {"official", OTHER_TOWNSHIP, GRID, R, HIDDEN},
        {"grid_worker", OTHER_TOWNSHIP, SIBLING_GRID, R, HIDDEN},
        {"admin", OTHER_TOWNSHIP, GRID, R, HIDDEN},
        /* Malformed paths hide. */
        {"doctor", "", GRID, R, HIDDEN},
        {"doctor", TOWNSHIP, "", R, HIDDEN},
        {"doctor", TOWNSHIP, NULL, R, HIDDEN},
        {"admin", "/", GRID, R, HIDDEN},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_claims c;
        jf_scope_verdict got;

        memset(&c, 0, sizeof(c));
        c.user_id = 1;
        c.org_unit_id = 1;
        snprintf(c.role, sizeof(c.role), "%s", rows[i].role);
        snprintf(c.org_path, sizeof(c.org_path), "%s", rows[i].home);
        got = jf_scope_check(&c, rows[i].target, (jf_access)rows[i].access);
        if ((int)got != rows[i].want)
            fail_msg("row %zu: %s at %s %s %s: got %d, want %d", i, rows[i].role, rows[i].home,
                     rows[i].access == W ? "writes" : "reads",
                     rows[i].target ? rows[i].target : "NULL", got, rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_role_parse_name),
        cmocka_unit_test(test_role_has),
        cmocka_unit_test(test_assistance_caps),
        cmocka_unit_test(test_scope_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
