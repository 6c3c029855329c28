/* Unit tests for the per-request arena (core/arena.c): alignment, caps, copies, free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/core/arena.h"

static void test_alignment(void **state)
{
    /* Mixed sizes, including 0 and sizes around the 4096-byte chunk. */
    static const size_t sizes[] = {1, 0,    7,    15,   16, 17,    100, 4000,
                                   1, 4095, 4096, 4097, 3,  10000, 5};
    jf_arena a;

    jf_arena_init(&a, 1 << 20);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *p = jf_arena_alloc(&a, sizes[i]);

        if (p == NULL || (uintptr_t)p % 16 != 0)
            fail_msg("size %zu: %p is not 16-aligned", sizes[i], (void *)p);
        memset(p, 0xa5, sizes[i]); /* the whole block is writable */
    }
    jf_arena_free(&a);
}

/* Blocks never overlap: fill each with its own byte, then check them all. */
static void test_no_overlap(void **state)
{
    static const size_t sizes[] = {24, 5000, 1, 4096, 33, 70000, 16, 2000, 2000, 2000};
    unsigned char *blocks[sizeof(sizes) / sizeof(sizes[0])];
    jf_arena a;

    jf_arena_init(&a, 1 << 20);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        blocks[i] = jf_arena_alloc(&a, sizes[i]);
        assert_non_null(blocks[i]);
        memset(blocks[i], (int)i + 1, sizes[i]);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (size_t j = 0; j < sizes[i]; j++)
            if (blocks[i][j] != (unsigned char)(i + 1))
                fail_msg("block %zu byte %zu was overwritten", i, j);
    jf_arena_free(&a);
}

static void test_large(void **state)
{
    jf_arena a;
    unsigned char *big, *small;

    jf_arena_init(&a, 8u << 20);
    small = jf_arena_alloc(&a, 10);
    assert_non_null(small);
    big = jf_arena_alloc(&a, 4u << 20);
    assert_non_null(big);
    memset(big, 1, 4u << 20);
    /* A small block after the large one still comes back aligned. */
    small = jf_arena_alloc(&a, 10);
    assert_non_null(small);
    assert_int_equal((uintptr_t)small % 16, 0);
    assert_int_equal(a.total, 16 + (4u << 20) + 16);
    jf_arena_free(&a);
}

static void test_cap(void **state)
{
    static const struct {
        size_t cap;
        size_t first;  /* allocated first, must succeed */
        size_t second; /* then this one */
        int second_ok;
    } rows[] = {
        {64, 48, 16, 1}, /* exactly to the cap */
        {64, 48, 17, 0}, /* rounds to 32: past the cap */
        {64, 64, 0, 0},  /* even 0 bytes takes 16 */
        {64, 63, 1, 0},
        {10016, 5000, 5000, 1}, /* 5000 rounds to 5008 */
        {10016, 5000, 5009, 0},
        {1 << 20, 0, SIZE_MAX, 0},      /* rounding wraps to 0 */
        {1 << 20, 0, SIZE_MAX - 15, 0}, /* just below the wrap */
        {1 << 20, 0, (1 << 20) + 1, 0},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_arena a;
        void *p;

        jf_arena_init(&a, rows[i].cap);
        if (rows[i].first > 0 && jf_arena_alloc(&a, rows[i].first) == NULL)
            fail_msg("row %zu: first allocation failed", i);
        p = jf_arena_alloc(&a, rows[i].second);
        if ((p != NULL) != rows[i].second_ok)
            fail_msg("row %zu: second allocation %s", i, p ? "succeeded" : "failed");
        assert_true(a.total <= a.cap);
        jf_arena_free(&a);
    }
}

static void test_strings(void **state)
{
    jf_arena a;
    char long_text[6000];
    char *s;

    jf_arena_init(&a, 1 << 20);
    assert_string_equal(jf_arena_strdup(&a, "王秀兰"), "王秀兰");
    assert_string_equal(jf_arena_strdup(&a, ""), "");
    assert_null(jf_arena_strdup(&a, NULL));
    assert_string_equal(jf_arena_strndup(&a, "abcdef", 3), "abc");
    assert_string_equal(jf_arena_strndup(&a, "abcdef", 0), "");
    assert_null(jf_arena_strndup(&a, NULL, 3));
    assert_string_equal(jf_arena_printf(&a, "%s-%d-%05.1f", "id", 42, 3.14159), "id-42-003.1");
    assert_string_equal(jf_arena_printf(&a, "%s", ""), "");

    /* Copies are independent of their source. */
    memcpy(long_text, "mutable", sizeof("mutable"));
    s = jf_arena_strdup(&a, long_text);
    long_text[0] = 'M';
    assert_string_equal(s, "mutable");

    /* Longer than a chunk. */
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    s = jf_arena_printf(&a, "<%s>", long_text);
    assert_non_null(s);
    assert_int_equal(strlen(s), sizeof(long_text) + 1);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[sizeof(long_text)], '>');
    jf_arena_free(&a);

    /* Copies obey the cap too. */
    jf_arena_init(&a, 32);
    assert_non_null(jf_arena_strdup(&a, "0123456789012345678901234567890")); /* 32 with NUL */
    assert_null(jf_arena_strdup(&a, ""));
    jf_arena_free(&a);
    jf_arena_init(&a, 32);
    assert_null(jf_arena_printf(&a, "%s", "01234567890123456789012345678901")); /* 33 */
    assert_null(jf_arena_strndup(&a, "01234567890123456789012345678901", 32));
    jf_arena_free(&a);
}

static void test_free_all(void **state)
{
    jf_arena a;

    jf_arena_init(&a, 1 << 16);
    jf_arena_free(&a); /* nothing allocated */
    assert_null(a.head);

    for (int i = 0; i < 100; i++)
        assert_non_null(jf_arena_alloc(&a, 300));
    assert_int_equal(a.total, 100 * 304);
    jf_arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
    /* The cap is intact and the arena is usable again. */
    assert_int_equal(a.cap, 1 << 16);
    assert_non_null(jf_arena_alloc(&a, 1 << 15));
    jf_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment), cmocka_unit_test(test_no_overlap),
        cmocka_unit_test(test_large),     cmocka_unit_test(test_cap),
        cmocka_unit_test(test_strings),   cmocka_unit_test(test_free_all),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
