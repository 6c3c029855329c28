/* Unit: ledgers (台账) — the codes, and which role reads and keeps which
 * ledger, one row per role. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/ledger.h"

/* read/note per ledger: lost, non_adherent, guardianship, migrant, key. */
static const struct {
    jf_role role;
    const char *read, *note;
} rows[] = {
    {JF_ROLE_ADMIN, "y.yyy", "....."}, /* no clinical view; admins read, never keep */
    {JF_ROLE_OFFICIAL, "yyyyy", "yyyyy"},
    {JF_ROLE_DOCTOR, "yyyyy", "yyyyy"},
    {JF_ROLE_POLICE, "y.yyy", "y.yyy"}, /* no compliance: clinical */
    {JF_ROLE_GRID_WORKER, "yyyyy", "yyyyy"},
    {JF_ROLE_CIVIL_AFFAIRS, "..yy.", "..yy."}, /* not the lost, no risk, nothing clinical */
    {JF_ROLE_SERVICE, "..yyy", "....."},
    {JF_ROLE_NONE, ".....", "....."},
};

/* [R-LEDGER-1] */
static void who_reads_and_keeps(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        for (int l = JF_LEDGER_LOST; l < JF_LEDGER_COUNT; l++) {
            bool read = rows[i].read[l - 1] == 'y', note = rows[i].note[l - 1] == 'y';
            if (jf_ledger_may_read(rows[i].role, (jf_ledger)l) != read ||
                jf_ledger_may_note(rows[i].role, (jf_ledger)l) != note)
                fail_msg("role %s, ledger %s", jf_role_name(rows[i].role), jf_ledger_names[l - 1]);
        }
}

static void codes_round_trip(void **state)
{
    (void)state;
    for (int l = JF_LEDGER_LOST; l < JF_LEDGER_COUNT; l++)
        assert_int_equal(jf_ledger_parse(jf_ledger_names[l - 1]), l);
    assert_null(jf_ledger_names[JF_LEDGER_COUNT - 1]);
    assert_int_equal(jf_ledger_parse("Lost"), JF_LEDGER_NONE);
    assert_int_equal(jf_ledger_parse(""), JF_LEDGER_NONE);
    assert_int_equal(jf_ledger_parse(NULL), JF_LEDGER_NONE);
    assert_false(jf_ledger_may_read(JF_ROLE_DOCTOR, JF_LEDGER_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(who_reads_and_keeps),
        cmocka_unit_test(codes_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
