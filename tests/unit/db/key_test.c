/* The keys a batched lookup accepts (db/pipeline.c, jf_db_key_ok): only the
 * canonical decimal of a positive bigint, since one key the database
 * refuses would fail the query of every thread batched with it, and a
 * non-canonical one ("07") would never match the row's own key text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../api/db/pipeline.h"

static void canonical_positive_bigints_only(void **state)
{
    static const struct {
        const char *key;
        bool ok;
    } rows[] = {
        {"1", true},
        {"7", true},
        {"100000", true},
        {"9223372036854775807", true}, /* the largest bigint */
        {"1000000000000000000", true}, /* 19 digits */
        {"9223372036854775808", false}, /* one past it */
        {"9999999999999999999", false},
        {"10000000000000000000", false}, /* 20 digits */
        {"0", false},
        {"07", false},
        {"00", false},
        {"", false},
        {"-1", false},
        {"+1", false},
        {" 1", false},
        {"1 ", false},
        {"1x", false},
        {"1.0", false},
        {"１", false}, /* full-width digit */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_db_key_ok(rows[i].key) != rows[i].ok)
            fail_msg("key \"%s\": expected %s", rows[i].key, rows[i].ok ? "ok" : "refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_positive_bigints_only),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
