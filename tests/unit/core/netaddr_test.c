/* Unit tests for trusted-proxy networks and the client address behind them (core/netaddr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/core/err.h"
#include "../../../api/core/netaddr.h"

static void test_list_parse(void **state)
{
    static const struct {
        const char *text;
        int rc, n;
    } cases[] = {
        {"", 0, 0},
        {"  ", 0, 0},
        {"127.0.0.1", 0, 1},
        {"127.0.0.1, ::1", 0, 2},
        {"10.0.0.0/8,172.16.0.0/12 , fd00::/8", 0, 3},
        {"0.0.0.0/0", 0, 1},
        {"::/0", 0, 1},
        {"10.0.0.0/32", 0, 1},
        {"10.0.0.0/33", JF_ERR_INVALID, 0},
        {"::1/129", JF_ERR_INVALID, 0},
        {"10.0.0.0/", JF_ERR_INVALID, 0},
        {"10.0.0.0/-1", JF_ERR_INVALID, 0},
        {"10.0.0.0/8x", JF_ERR_INVALID, 0},
        {"10.0.0.0/0008", JF_ERR_INVALID, 0},
        {"localhost", JF_ERR_INVALID, 0},
        {"10.0.0.256", JF_ERR_INVALID, 0},
        {"1.2.3", JF_ERR_INVALID, 0},
        {"127.0.0.1,", JF_ERR_INVALID, 0},
        {",127.0.0.1", JF_ERR_INVALID, 0},
        {"127.0.0.1,,::1", JF_ERR_INVALID, 0},
        {"[::1]", JF_ERR_INVALID, 0},
        {"1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,"
         "9.9.9.9,10.10.10.10,11.11.11.11,12.12.12.12,13.13.13.13,14.14.14.14,"
         "15.15.15.15,16.16.16.16",
         0, 16},
        {"1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,"
         "9.9.9.9,10.10.10.10,11.11.11.11,12.12.12.12,13.13.13.13,14.14.14.14,"
         "15.15.15.15,16.16.16.16,17.17.17.17",
         JF_ERR_INVALID, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jf_netaddr_list l;
        int rc = jf_netaddr_list_parse(cases[i].text, &l);
        if (rc != cases[i].rc || (rc == 0 && l.n != cases[i].n))
            fail_msg("\"%s\": rc %d n %d, want rc %d n %d", cases[i].text, rc, l.n, cases[i].rc,
                     cases[i].n);
    }
}

static void test_list_has(void **state)
{
    static const struct {
        const char *nets, *ip;
        bool in;
    } cases[] = {
        {"127.0.0.1, ::1", "127.0.0.1", true},
        {"127.0.0.1, ::1", "::1", true},
        {"127.0.0.1, ::1", "127.0.0.2", false},
        {"127.0.0.1, ::1", "::ffff:127.0.0.1", true}, /* IPv4-mapped */
        {"10.0.0.0/8", "10.255.1.2", true},
        {"10.0.0.0/8", "11.0.0.1", false},
        {"172.16.0.0/12", "172.31.255.255", true},
        {"172.16.0.0/12", "172.32.0.0", false},
        {"192.168.1.128/25", "192.168.1.200", true},
        {"192.168.1.128/25", "192.168.1.127", false},
        {"fd00::/8", "fd12:3456::1", true},
        {"fd00::/8", "fe80::1", false},
        {"0.0.0.0/0", "8.8.8.8", true},
        {"0.0.0.0/0", "::1", false}, /* families apart */
        {"", "127.0.0.1", false},
        {"127.0.0.1", "", false},
        {"127.0.0.1", "127.0.0.1 ", false},
        {"127.0.0.1", "garbage", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jf_netaddr_list l;
        assert_int_equal(jf_netaddr_list_parse(cases[i].nets, &l), 0);
        if (jf_netaddr_list_has(&l, cases[i].ip) != cases[i].in)
            fail_msg("%s in [%s]: want %d", cases[i].ip, cases[i].nets, cases[i].in);
    }
}

static void test_client(void **state)
{
    static const struct {
        const char *trusted, *peer, *xff, *want;
    } cases[] = {
        /* Not behind a trusted proxy: the header is the client's own claim. */
        {"127.0.0.1", "203.0.113.9", "198.51.100.1", "203.0.113.9"},
        {"none", "127.0.0.1", "198.51.100.1", "127.0.0.1"},
        /* Behind one: the right-most entry it did not add itself. */
        {"127.0.0.1", "127.0.0.1", NULL, "127.0.0.1"},
        {"127.0.0.1", "127.0.0.1", "198.51.100.1", "198.51.100.1"},
        {"127.0.0.1", "127.0.0.1", " 198.51.100.1 ", "198.51.100.1"},
        {"127.0.0.1", "127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"},
        {"127.0.0.1,10.0.0.0/8", "127.0.0.1", "6.6.6.6,198.51.100.1,10.1.1.1", "198.51.100.1"},
        {"127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.2.2.2, 10.1.1.1", "10.2.2.2"},
        {"127.0.0.1", "127.0.0.1", "2001:db8::1", "2001:db8::1"},
        {"127.0.0.1", "127.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"},
        {"127.0.0.1", "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"},
        /* Not an IP literal: the walk stops at the last good hop. */
        {"127.0.0.1", "127.0.0.1", "garbage", "127.0.0.1"},
        {"127.0.0.1", "127.0.0.1", "", "127.0.0.1"},
        {"127.0.0.1", "127.0.0.1", "198.51.100.1,", "127.0.0.1"},
        {"127.0.0.1", "127.0.0.1", "198.51.100.1:443", "127.0.0.1"},
        {"127.0.0.1", "127.0.0.1", "[2001:db8::1]", "127.0.0.1"},
        {"127.0.0.1", "127.0.0.1", "6.6.6.6, <script>, 198.51.100.1", "198.51.100.1"},
        {"127.0.0.1,10.0.0.0/8", "127.0.0.1", "<script>, 10.1.1.1", "10.1.1.1"},
        {"127.0.0.1", "127.0.0.1", "\xff\xfe", "127.0.0.1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jf_netaddr_list l = {0};
        char out[JF_NETADDR_TEXT_MAX];
        if (strcmp(cases[i].trusted, "none") != 0)
            assert_int_equal(jf_netaddr_list_parse(cases[i].trusted, &l), 0);
        jf_netaddr_client(&l, cases[i].peer, cases[i].xff, out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("peer %s xff \"%s\": got %s, want %s", cases[i].peer,
                     cases[i].xff ? cases[i].xff : "(none)", out, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_parse),
        cmocka_unit_test(test_list_has),
        cmocka_unit_test(test_client),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
