/* Unit: the patient life cycle (docs/domain.md "Status"), one row per transition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/patient_status.h"

#define S(x) JF_PS_##x

static const struct {
    jf_pstatus from, to;
    bool allowed;
} rows[] = {
    /* registered → any managed state */
    {S(REGISTERED), S(IN_CARE), true},
    {S(REGISTERED), S(HOSPITALISED), true},
    {S(REGISTERED), S(LOST), true},
    {S(REGISTERED), S(MOVED_OUT), true},
    {S(REGISTERED), S(DECEASED), true},
    {S(REGISTERED), S(DEREGISTERED), true},
    {S(REGISTERED), S(SUSPECTED), false},
    {S(REGISTERED), S(REGISTERED), false},
    /* in care */
    {S(IN_CARE), S(HOSPITALISED), true},
    {S(IN_CARE), S(LOST), true},
    {S(IN_CARE), S(MOVED_OUT), true},
    {S(IN_CARE), S(DECEASED), true},
    {S(IN_CARE), S(DEREGISTERED), true},
    {S(IN_CARE), S(REGISTERED), false},
    {S(IN_CARE), S(IN_CARE), false},
    /* hospitalised: back home, died, or closed; not lost while in hospital */
    {S(HOSPITALISED), S(IN_CARE), true},
    {S(HOSPITALISED), S(DECEASED), true},
    {S(HOSPITALISED), S(DEREGISTERED), true},
    {S(HOSPITALISED), S(LOST), false},
    {S(HOSPITALISED), S(MOVED_OUT), false},
    /* lost: found again, or moved, died, closed */
    {S(LOST), S(IN_CARE), true},
    {S(LOST), S(MOVED_OUT), true},
    {S(LOST), S(DECEASED), true},
    {S(LOST), S(DEREGISTERED), true},
    {S(LOST), S(HOSPITALISED), false},
    /* moved out: returned, closed, died */
    {S(MOVED_OUT), S(IN_CARE), true},
    {S(MOVED_OUT), S(DEREGISTERED), true},
    {S(MOVED_OUT), S(DECEASED), true},
    {S(MOVED_OUT), S(LOST), false},
    /* final states */
    {S(DECEASED), S(IN_CARE), false},
    {S(DECEASED), S(DEREGISTERED), false},
    {S(DEREGISTERED), S(IN_CARE), false},
    {S(RULED_OUT), S(REGISTERED), false},
    /* suspected persons leave only by diagnosis or ruling out */
    {S(SUSPECTED), S(IN_CARE), false},
    {S(SUSPECTED), S(REGISTERED), false},
    {S(SUSPECTED), S(RULED_OUT), false},
    /* nonsense */
    {S(NONE), S(IN_CARE), false},
    {S(IN_CARE), S(NONE), false},
    {(jf_pstatus)99, S(IN_CARE), false},
};

/* [R-PAT-2] */
static void transitions_table(void **state)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool got = jf_pstatus_allowed(rows[i].from, rows[i].to);
        if (got != rows[i].allowed)
            fail_msg("row %zu: %s → %s: expected %d", i, jf_pstatus_name(rows[i].from),
                     jf_pstatus_name(rows[i].to), rows[i].allowed);
        /* A refusal has a reason exactly when the move is not allowed. */
        assert_int_equal(jf_pstatus_refusal(rows[i].from, rows[i].to) == NULL, rows[i].allowed);
    }
}

static void refusal_reasons_name_the_cause(void **state)
{
    assert_non_null(strstr(jf_pstatus_refusal(S(DECEASED), S(IN_CARE)), "deceased"));
    assert_non_null(strstr(jf_pstatus_refusal(S(DEREGISTERED), S(IN_CARE)), "deregistered"));
    assert_non_null(strstr(jf_pstatus_refusal(S(IN_CARE), S(IN_CARE)), "already"));
    assert_non_null(strstr(jf_pstatus_refusal(S(SUSPECTED), S(IN_CARE)), "diagnosed"));
}

static void names_round_trip(void **state)
{
    for (int s = 1; s < JF_PS_COUNT; s++)
        assert_int_equal(jf_pstatus_parse(jf_pstatus_name((jf_pstatus)s)), s);
    assert_int_equal(jf_pstatus_parse("In_Care"), JF_PS_NONE);
    assert_int_equal(jf_pstatus_parse(""), JF_PS_NONE);
    assert_int_equal(jf_pstatus_parse(NULL), JF_PS_NONE);
}

/* [R-STAT-1] */
static void on_the_register(void **state)
{
    /* 在册 = diagnosed and not deceased/deregistered (docs/domain.md statistics). */
    static const struct {
        jf_pstatus s;
        bool registered;
    } r[] = {{S(SUSPECTED), false},   {S(RULED_OUT), false}, {S(REGISTERED), true},
             {S(IN_CARE), true},      {S(HOSPITALISED), true}, {S(LOST), true},
             {S(MOVED_OUT), true},    {S(DECEASED), false},  {S(DEREGISTERED), false}};
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        assert_int_equal(jf_pstatus_registered(r[i].s), r[i].registered);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transitions_table),
        cmocka_unit_test(refusal_reasons_name_the_cause),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(on_the_register),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
