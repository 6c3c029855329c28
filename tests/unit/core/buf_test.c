/* Unit tests for the capped buffer (core/buf.c): appends, JSON escaping, the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/core/buf.h"
#include "../../../api/core/err.h"

static void test_append_puts(void **state)
{
    jf_buf b;

    jf_buf_init(&b, 64);
    assert_null(b.data);
    assert_int_equal(jf_buf_append(&b, "ab", 2), 0);
    assert_int_equal(jf_buf_puts(&b, "cd"), 0);
    assert_int_equal(jf_buf_append(&b, "xyz", 0), 0);
    assert_int_equal(jf_buf_append(&b, "e\0f", 3), 0);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "abcde\0f", 8);
    jf_buf_free(&b);
}

static void test_printf(void **state)
{
    jf_buf b;
    char big[1000];

    jf_buf_init(&b, 4096);
    assert_int_equal(jf_buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_int_equal(jf_buf_printf(&b, "%s", ""), 0);
    assert_string_equal(b.data, "42-x");
    assert_int_equal(b.len, 4);
    /* Larger than the first allocation: the buffer must grow. */
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(jf_buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 4 + 2 + 999);
    assert_int_equal(b.data[5], 'q');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    jf_buf_free(&b);
}

static void test_json_str(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } rows[] = {
        {"", "\"\""},
        {"abc", "\"abc\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"a\\b", "\"a\\\\b\""},
        {"\n\r\t", "\"\\n\\r\\t\""},
        {"\x01", "\"\\u0001\""},
        {"a\x1f"
         "b",
         "\"a\\u001fb\""},
        {"\b\f", "\"\\u0008\\u000c\""},
        {"\x7f", "\"\x7f\""},
        {"/", "\"/\""},
        {"王秀兰", "\"王秀兰\""},
        {"😀 ok", "\"😀 ok\""},
        {NULL, "null"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_buf b;

        jf_buf_init(&b, 256);
        assert_int_equal(jf_buf_json_str(&b, rows[i].in), 0);
        if (strcmp(b.data, rows[i].want) != 0)
            fail_msg("row %zu: got %s, want %s", i, b.data, rows[i].want);
        assert_int_equal(b.len, strlen(rows[i].want));
        jf_buf_free(&b);
    }
}

/* Each way to write: exactly at the cap succeeds, one byte past fails with
 * JF_ERR_TOO_LARGE and leaves the content as it was. */
static void test_cap(void **state)
{
    enum { APPEND, PUTS, PRINTF, JSON };
    static const struct {
        int how;
        const char *fits; /* written second, reaches the cap exactly */
        const char *over; /* written instead, one byte past the cap */
    } rows[] = {
        {APPEND, "6789", "67890"},
        {PUTS, "6789", "67890"},
        {PRINTF, "6789", "67890"},
        {JSON, "67", "678"}, /* +2 for the quotes */
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (int past = 0; past <= 1; past++) {
            const char *s = past ? rows[i].over : rows[i].fits;
            jf_buf b;
            int rc = -100;

            jf_buf_init(&b, 10);
            assert_int_equal(jf_buf_puts(&b, "012345"), 0);
            switch (rows[i].how) {
            case APPEND:
                rc = jf_buf_append(&b, s, strlen(s));
                break;
            case PUTS:
                rc = jf_buf_puts(&b, s);
                break;
            case PRINTF:
                rc = jf_buf_printf(&b, "%s", s);
                break;
            case JSON:
                rc = jf_buf_json_str(&b, s);
                break;
            }
            if (!past) {
                if (rc != 0 || b.len != 10)
                    fail_msg("row %zu at cap: rc %d len %zu", i, rc, b.len);
                assert_int_equal(b.data[10], '\0');
            } else {
                if (rc != JF_ERR_TOO_LARGE)
                    fail_msg("row %zu past cap: rc %d", i, rc);
                /* json_str writes piecewise; callers stop at the first error. */
                if (rows[i].how != JSON) {
                    assert_int_equal(b.len, 6);
                    assert_string_equal(b.data, "012345");
                }
            }
            jf_buf_free(&b);
        }
    }
}

static void test_cap_edges(void **state)
{
    jf_buf b;

    /* A zero cap holds nothing but the empty string. */
    jf_buf_init(&b, 0);
    assert_int_equal(jf_buf_append(&b, "", 0), 0);
    assert_string_equal(b.data, "");
    assert_int_equal(jf_buf_append(&b, "x", 1), JF_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    jf_buf_free(&b);

    /* A length that would wrap size_t arithmetic is refused, not wrapped. */
    jf_buf_init(&b, 100);
    assert_int_equal(jf_buf_puts(&b, "abc"), 0);
    assert_int_equal(jf_buf_append(&b, "x", SIZE_MAX), JF_ERR_TOO_LARGE);
    assert_int_equal(jf_buf_append(&b, "x", SIZE_MAX - 1), JF_ERR_TOO_LARGE);
    assert_string_equal(b.data, "abc");
    jf_buf_free(&b);

    /* Byte by byte up to a cap that is not a power of two. */
    jf_buf_init(&b, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(jf_buf_append(&b, "z", 1), 0);
    assert_int_equal(jf_buf_append(&b, "z", 1), JF_ERR_TOO_LARGE);
    assert_int_equal(b.len, 1000);
    assert_true(b.alloc <= b.cap + 1);
    assert_int_equal(b.data[999], 'z');
    assert_int_equal(b.data[1000], '\0');
    jf_buf_free(&b);
}

static void test_reset_free(void **state)
{
    jf_buf b;
    size_t alloc;

    jf_buf_init(&b, 100);
    jf_buf_reset(&b); /* nothing allocated yet */
    assert_null(b.data);
    assert_int_equal(b.len, 0);

    assert_int_equal(jf_buf_puts(&b, "hello"), 0);
    alloc = b.alloc;
    jf_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.alloc, alloc);
    assert_int_equal(jf_buf_puts(&b, "again"), 0);
    assert_string_equal(b.data, "again");

    jf_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.cap, 100);
    /* Reusable after free; a second free is harmless. */
    assert_int_equal(jf_buf_puts(&b, "third"), 0);
    assert_string_equal(b.data, "third");
    jf_buf_free(&b);
    jf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_puts), cmocka_unit_test(test_printf),
        cmocka_unit_test(test_json_str),    cmocka_unit_test(test_cap),
        cmocka_unit_test(test_cap_edges),   cmocka_unit_test(test_reset_free),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
