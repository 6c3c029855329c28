/* Unit tests of the 三网 row rules: CSV records, UTF-8 prefixes, trimming,
 * status, gender, risk and date normalisation, and the finding moves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../../api/domain/reconcile.h"

static void csv_split(void **state)
{
    struct {
        const char *in;
        int n;
        const char *f0, *f1, *last;
    } cases[] = {
        {"a,b,c", 3, "a", "b", "c"},
        {"", 1, "", NULL, ""},
        {",", 2, "", "", ""},
        {"\"a,b\",c", 2, "a,b", "c", "c"},
        {"\"say \"\"hi\"\"\",x", 2, "say \"hi\"", "x", "x"},
        {"\"line\nbreak\",2", 2, "line\nbreak", "2", "2"},
        {"a,\"\"", 2, "a", "", ""},
        {"\"open", -1, NULL, NULL, NULL},
        {"\"a\"b,c", -1, NULL, NULL, NULL},
        {"a\"b,c", -1, NULL, NULL, NULL},
        {"1,2,3,4,5", -2, NULL, NULL, NULL}, /* max 4 */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64], *f[4];
        int n;
        snprintf(buf, sizeof(buf), "%s", cases[i].in);
        n = jf_rec_csv_split(buf, strlen(buf), f, 4);
        if (n != cases[i].n)
            fail_msg("case %zu (%s): %d fields", i, cases[i].in, n);
        if (n > 0) {
            assert_string_equal(f[0], cases[i].f0);
            if (cases[i].f1)
                assert_string_equal(f[1], cases[i].f1);
            assert_string_equal(f[n - 1], cases[i].last);
        }
    }
    assert_true(jf_rec_csv_complete("a,\"b\"", 5));
    assert_false(jf_rec_csv_complete("a,\"b", 4));
}

static void utf8_prefix(void **state)
{
    bool bad;
    (void)state;
    assert_int_equal(jf_rec_utf8_prefix((const unsigned char *)"abc", 3, &bad), 3);
    assert_false(bad);
    /* 张 = E5 BC A0, cut after two bytes: a truncated tail, not an error. */
    assert_int_equal(jf_rec_utf8_prefix((const unsigned char *)"a\xE5\xBC", 3, &bad), 1);
    assert_false(bad);
    /* GBK 张 = D5 C5: not UTF-8. */
    assert_int_equal(jf_rec_utf8_prefix((const unsigned char *)"a\xD5\xC5z", 4, &bad), 1);
    assert_true(bad);
    /* Overlong and surrogates refused. */
    jf_rec_utf8_prefix((const unsigned char *)"\xC0\x80", 2, &bad);
    assert_true(bad);
    jf_rec_utf8_prefix((const unsigned char *)"\xED\xA0\x80", 3, &bad);
    assert_true(bad);
    assert_int_equal(jf_rec_utf8_prefix((const unsigned char *)"\xF0\x9F\x98\x80", 4, &bad), 4);
    assert_false(bad);
}

static void trim(void **state)
{
    char a[] = "  张三 \t", b[] = "\xE3\x80\x80李四\xE3\x80\x80", c[] = "   ";
    (void)state;
    assert_string_equal(jf_rec_trim(a), "张三");
    assert_string_equal(jf_rec_trim(b), "李四");
    assert_string_equal(jf_rec_trim(c), "");
}

/* [R-3NET-1] */
static void normalise(void **state)
{
    char out[11];
    (void)state;
    assert_string_equal(jf_rec_status_norm("死亡"), "deceased");
    assert_string_equal(jf_rec_status_norm("已故"), "deceased");
    assert_string_equal(jf_rec_status_norm("deceased"), "deceased");
    assert_string_equal(jf_rec_status_norm("在管"), "active");
    assert_string_equal(jf_rec_status_norm(""), "");
    assert_string_equal(jf_rec_status_norm(NULL), "");
    assert_string_equal(jf_rec_gender_norm("男"), "male");
    assert_string_equal(jf_rec_gender_norm("2"), "female");
    assert_null(jf_rec_gender_norm("未知"));
    assert_null(jf_rec_gender_norm(NULL));
    struct {
        const char *in;
        int v;
    } risks[] = {{"3", 3}, {"0", 0}, {"5级", 5}, {"三级", 3}, {"零", 0}, {"6", -1},
                 {"", -1}, {"3.5", -1}, {"高", -1}, {NULL, -1}};
    for (size_t i = 0; i < sizeof(risks) / sizeof(risks[0]); i++)
        assert_int_equal(jf_rec_risk_parse(risks[i].in), risks[i].v);
    struct {
        const char *in, *out;
    } dates[] = {{"1990-01-02", "1990-01-02"}, {"1990/1/2", "1990-01-02"},
                 {"1990.12.31", "1990-12-31"}, {"19900102", "1990-01-02"},
                 {"1990年1月2日", "1990-01-02"}, {"2000-02-29", "2000-02-29"},
                 {"1900-02-29", NULL},       {"1990-13-01", NULL},
                 {"90-01-02", NULL},         {"1990-01-02x", NULL},
                 {"", NULL}};
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        int rc = jf_rec_date_parse(dates[i].in, out);
        if (dates[i].out == NULL)
            assert_int_equal(rc, -1);
        else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, dates[i].out);
        }
    }
}

static void transitions(void **state)
{
    struct {
        const char *from, *to;
        bool ok;
    } t[] = {
        {"open", "verifying", true},      {"verifying", "resolved", true},
        {"verifying", "open", true},      {"resolved", "open", true},
        {"open", "resolved", false},      {"open", "open", false},
        {"resolved", "verifying", false}, {"resolved", "resolved", false},
        {"open", "closed", false},        {NULL, "open", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(jf_rec_transition_ok(t[i].from, t[i].to), t[i].ok);
    assert_true(jf_rec_source_valid("police"));
    assert_true(jf_rec_source_valid("reimbursement"));
    assert_false(jf_rec_source_valid("bank"));
    assert_false(jf_rec_source_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_split),  cmocka_unit_test(utf8_prefix), cmocka_unit_test(trim),
        cmocka_unit_test(normalise), cmocka_unit_test(transitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
