/* Unit tests for masking (domain/mask.c): ID numbers and phones, one row per branch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/domain/mask.h"

struct mask_row {
    const char *in;
    size_t outlen;
    const char *want;
};

static void test_mask_idcard(void **state)
{
    static const struct mask_row rows[] = {
        {"420102199001011234", 19, "420102********1234"},
        {"11010119800101007X", 32, "110101********007X"},
        {"420102199001011234", 10, "420102***"},    /* short buffer: truncated */
        {"420102900101123", 32, "***************"}, /* 15 digits: not 18 */
        {"4201021990010112345", 32, "*******************"},
        {"12345", 32, "*****"},
        {"123456789012345678901234567890", 10, "*********"},
        {"", 19, ""},
        {NULL, 19, ""},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[64];

        memset(out, '#', sizeof(out));
        jf_mask_idcard(rows[i].in, out, rows[i].outlen);
        assert_string_equal(out, rows[i].want);
        assert_int_equal(out[rows[i].outlen], '#'); /* nothing written past outlen */
    }
}

static void test_mask_phone(void **state)
{
    static const struct mask_row rows[] = {
        {"13812345678", 12, "138****5678"},
        {"13812345678", 8, "138****"}, /* short buffer: truncated */
        {"0728-6241234", 32, "**********34"},
        {"6241234", 32, "*****34"},
        {"12345", 32, "***45"},
        {"1234", 32, "****"},
        {"1", 32, "*"},
        {"", 32, ""},
        {NULL, 32, ""},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[64];

        memset(out, '#', sizeof(out));
        jf_mask_phone(rows[i].in, out, rows[i].outlen);
        assert_string_equal(out, rows[i].want);
        assert_int_equal(out[rows[i].outlen], '#');
    }
}

static void test_zero_outlen(void **state)
{
    char out[4] = "abc";

    jf_mask_idcard("420102199001011234", out, 0);
    jf_mask_phone("13812345678", out, 0);
    assert_string_equal(out, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_idcard),
        cmocka_unit_test(test_mask_phone),
        cmocka_unit_test(test_zero_outlen),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
