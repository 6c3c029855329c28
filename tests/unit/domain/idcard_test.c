/* Unit tests for resident ID numbers (domain/idcard.c): one row per rule branch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/domain/idcard.h"

/* The injected clock of every parse below. */
#define TODAY 20240615

/* [R-ID-1] */
static void test_parse_table(void **state)
{
    /* Valid IDs were built with the check rule and verified independently. */
    static const struct {
        const char *in;
        jf_idcard_result want;
        const char *number; /* normalised, when OK */
        int year, month, day;
        int male;
    } rows[] = {
        /* valid, male (17th digit 3) and female (17th digit 4) */
        {"420102199001011236", JF_IDCARD_OK, "420102199001011236", 1990, 1, 1, 1},
        {"420102199001011244", JF_IDCARD_OK, "420102199001011244", 1990, 1, 1, 0},
        {"429005198503150014", JF_IDCARD_OK, "429005198503150014", 1985, 3, 15, 1},
        {"110101194910010028", JF_IDCARD_OK, "110101194910010028", 1949, 10, 1, 0},
        /* check character X: upper, lower, full-width Ｘ and ｘ */
        {"11010119800101007X", JF_IDCARD_OK, "11010119800101007X", 1980, 1, 1, 1},
        {"11010119800101007x", JF_IDCARD_OK, "11010119800101007X", 1980, 1, 1, 1},
        {"11010119800101007\xEF\xBC\xB8", JF_IDCARD_OK, "11010119800101007X", 1980, 1, 1, 1},
        {"11010119800101007\xEF\xBD\x98", JF_IDCARD_OK, "11010119800101007X", 1980, 1, 1, 1},
        /* full-width digits, all of them and mixed */
        {"\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x90\xEF\xBC\x92"
         "\xEF\xBC\x91\xEF\xBC\x99\xEF\xBC\x99\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x91"
         "\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x96",
         JF_IDCARD_OK, "420102199001011236", 1990, 1, 1, 1},
        {"\xEF\xBC\x94"
         "20102199001011236",
         JF_IDCARD_OK, "420102199001011236", 1990, 1, 1, 1},
        /* spaces and hyphens are dropped */
        {" 420102 1990 0101 1236 ", JF_IDCARD_OK, "420102199001011236", 1990, 1, 1, 1},
        {"420102-19900101-1236", JF_IDCARD_OK, "420102199001011236", 1990, 1, 1, 1},
        /* 15 digits: "19" inserted, check character appended */
        {"420102900101123", JF_IDCARD_OK, "420102199001011236", 1990, 1, 1, 1},
        {"110101491001002", JF_IDCARD_OK, "110101194910010028", 1949, 10, 1, 0},
        /* provinces at the edges of the list */
        {"910101199001010014", JF_IDCARD_OK, "910101199001010014", 1990, 1, 1, 1},
        {"710000199001010023", JF_IDCARD_OK, "710000199001010023", 1990, 1, 1, 0},
        {"820000199001010010", JF_IDCARD_OK, "820000199001010010", 1990, 1, 1, 1},
        {"65010120060101001X", JF_IDCARD_OK, "65010120060101001X", 2006, 1, 1, 1},
        /* leap years: 2000 and 2024 have Feb 29, 1900 and 2023 do not */
        {"420102200002290017", JF_IDCARD_OK, "420102200002290017", 2000, 2, 29, 1},
        {"420102202402290023", JF_IDCARD_OK, "420102202402290023", 2024, 2, 29, 0},
        {"420102190002290010", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        {"420102202302290018", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        /* impossible dates */
        {"42010220230230001X", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        {"420102202300010019", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        {"420102202313010018", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        {"420102202301000015", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        {"420102202301320019", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        {"420102189912310019", JF_IDCARD_BAD_DATE, NULL, 0, 0, 0, 0},
        /* born today is fine, tomorrow is not */
        {"42010220240615001X", JF_IDCARD_OK, "42010220240615001X", 2024, 6, 15, 1},
        {"420102202406160015", JF_IDCARD_FUTURE_DATE, NULL, 0, 0, 0, 0},
        /* wrong check character */
        {"420102199001011235", JF_IDCARD_BAD_CHECK, NULL, 0, 0, 0, 0},
        {"42010219900101123X", JF_IDCARD_BAD_CHECK, NULL, 0, 0, 0, 0},
        /* area codes */
        {"010102199001010018", JF_IDCARD_BAD_AREA, NULL, 0, 0, 0, 0},
        {"990102199001010015", JF_IDCARD_BAD_AREA, NULL, 0, 0, 0, 0},
        {"160101199001010014", JF_IDCARD_BAD_AREA, NULL, 0, 0, 0, 0},
        {"010102900101123", JF_IDCARD_BAD_AREA, NULL, 0, 0, 0, 0},
        /* characters */
        {"42010219900A011236", JF_IDCARD_BAD_CHARS, NULL, 0, 0, 0, 0},
        {"4201021990X1011236", JF_IDCARD_BAD_CHARS, NULL, 0, 0, 0, 0},
        {"X20102199001011236", JF_IDCARD_BAD_CHARS, NULL, 0, 0, 0, 0},
        {"42010290010112X", JF_IDCARD_BAD_CHARS, NULL, 0, 0, 0, 0},
        {"420102199001011_36", JF_IDCARD_BAD_CHARS, NULL, 0, 0, 0, 0},
        /* lengths */
        {"4201021990010112361", JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
        {"12345", JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
        {"42010219900101123", JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
        {"4201021990010112", JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
        {"", JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
        {"   -  ", JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
        {"\xE4\xB8\xAD"
         "20102199001011236",
         JF_IDCARD_BAD_LENGTH, NULL, 0, 0, 0, 0},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_idcard id;
        jf_idcard_result r;

        memset(&id, 0, sizeof(id));
        r = jf_idcard_parse(rows[i].in, TODAY, &id);
        if (r != rows[i].want)
            print_error("row %zu (%s): got %d, want %d\n", i, rows[i].in, (int)r,
                        (int)rows[i].want);
        assert_int_equal(r, rows[i].want);
        if (r != JF_IDCARD_OK)
            continue;
        assert_string_equal(id.number, rows[i].number);
        assert_int_equal(id.year, rows[i].year);
        assert_int_equal(id.month, rows[i].month);
        assert_int_equal(id.day, rows[i].day);
        assert_int_equal(id.male, rows[i].male);
    }
}

static void test_parse_null_and_long(void **state)
{
    char big[100];
    char edge[65];
    jf_idcard id;

    assert_int_equal(jf_idcard_parse(NULL, TODAY, &id), JF_IDCARD_BAD_LENGTH);

    /* A valid ID padded with spaces past 64 bytes is refused before cleaning. */
    memset(big, ' ', sizeof(big));
    memcpy(big + 40, "420102199001011236", 18);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(jf_idcard_parse(big, TODAY, &id), JF_IDCARD_BAD_LENGTH);

    /* Exactly 64 bytes is still looked at. */
    memset(edge, ' ', sizeof(edge));
    memcpy(edge + 46, "420102199001011236", 18);
    edge[64] = '\0';
    assert_int_equal(jf_idcard_parse(edge, TODAY, &id), JF_IDCARD_OK);
    assert_string_equal(id.number, "420102199001011236");
}

static void test_parse_leaves_out_on_error(void **state)
{
    jf_idcard id;

    memset(&id, 0x5a, sizeof(id));
    assert_int_equal(jf_idcard_parse("420102199001011235", TODAY, &id), JF_IDCARD_BAD_CHECK);
    assert_int_equal((unsigned char)id.number[0], 0x5a);
}

static void test_check_char(void **state)
{
    static const struct {
        const char *first17;
        char want;
    } rows[] = {
        {"42010219900101123", '6'},
        {"42010219900101124", '4'},
        {"42900519850315001", '4'},
        {"11010119800101007", 'X'},
        {"42900519750520005", 'X'},
        {"11010119491001002", '8'},
        {"42010220000229001", '7'},
        {"420102199001011236", '6'}, /* only the first 17 count */
        {"4201021990010112A", '\0'},
        {"4201021990", '\0'},
        {"", '\0'},
        {NULL, '\0'},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(jf_idcard_check_char(rows[i].first17), rows[i].want);
}

static void test_birth_iso(void **state)
{
    jf_idcard id;
    char iso[11];

    assert_int_equal(jf_idcard_parse("420102202402290023", TODAY, &id), JF_IDCARD_OK);
    jf_idcard_birth_iso(&id, iso);
    assert_string_equal(iso, "2024-02-29");

    assert_int_equal(jf_idcard_parse("110101491001002", TODAY, &id), JF_IDCARD_OK);
    jf_idcard_birth_iso(&id, iso);
    assert_string_equal(iso, "1949-10-01");

    id.year = 1990;
    id.month = 12;
    id.day = 31;
    jf_idcard_birth_iso(&id, iso);
    assert_string_equal(iso, "1990-12-31");
}

static void test_result_str(void **state)
{
    static const jf_idcard_result all[] = {
        JF_IDCARD_OK,       JF_IDCARD_BAD_LENGTH,  JF_IDCARD_BAD_CHARS, JF_IDCARD_BAD_AREA,
        JF_IDCARD_BAD_DATE, JF_IDCARD_FUTURE_DATE, JF_IDCARD_BAD_CHECK,
    };

    assert_string_equal(jf_idcard_result_str(JF_IDCARD_BAD_CHECK),
                        "check character does not match");
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        assert_non_null(jf_idcard_result_str(all[i]));
        assert_true(strlen(jf_idcard_result_str(all[i])) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(jf_idcard_result_str(all[i]), jf_idcard_result_str(all[j]));
    }
    assert_non_null(jf_idcard_result_str((jf_idcard_result)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_null_and_long),
        cmocka_unit_test(test_parse_leaves_out_on_error),
        cmocka_unit_test(test_check_char),
        cmocka_unit_test(test_birth_iso),
        cmocka_unit_test(test_result_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
