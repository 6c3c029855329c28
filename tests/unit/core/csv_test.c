/* Unit tests for CSV cells (core/csv.c): quoting, and formula injection defused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/core/csv.h"
#include "../../../api/core/err.h"

static void test_cells(void **state)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {NULL, ""},
        {"", ""},
        {"王小林", "王小林"},
        {"42", "42"},
        {"a b", "a b"},
        /* RFC 4180: quoted when needed, quotes doubled. */
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"line\nbreak", "\"line\nbreak\""},
        {"cr\rin", "\"cr\rin\""},
        /* A first character a spreadsheet reads as a formula: quote-prefixed. */
        {"=1+1", "'=1+1"},
        {"+8613800000000", "'+8613800000000"},
        {"-2+3", "'-2+3"},
        {"@SUM(A1)", "'@SUM(A1)"},
        {"\t=1", "'\t=1"},
        {"\r=1", "\"'\r=1\""},
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
        /* Only the first character counts. */
        {"a=1", "a=1"},
        {" =1", " =1"},
        {"'=1", "'=1"},
        {"1-2", "1-2"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_buf b;

        jf_buf_init(&b, 1024);
        assert_int_equal(jf_csv_text(&b, rows[i].in, false), 0);
        if (strcmp(b.data ? b.data : "", rows[i].out) != 0)
            fail_msg("row %zu: got [%s], want [%s]", i, b.data ? b.data : "", rows[i].out);
        jf_buf_reset(&b);
        /* Quoted on demand, the rules the same inside. */
        assert_int_equal(jf_csv_text(&b, rows[i].in, true), 0);
        if (rows[i].out[0] == '"')
            assert_string_equal(b.data, rows[i].out);
        else
            assert_true(b.len == strlen(rows[i].out) + 2 && b.data[0] == '"' &&
                        memcmp(b.data + 1, rows[i].out, b.len - 2) == 0 && b.data[b.len - 1] == '"');
        jf_buf_free(&b);
    }
}

static void test_cap(void **state)
{
    jf_buf b;

    jf_buf_init(&b, 4);
    assert_int_equal(jf_csv_text(&b, "=abcd", false), JF_ERR_TOO_LARGE);
    jf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
