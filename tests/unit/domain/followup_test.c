/* Unit: follow-up classification, due dates and 失访 — one row per branch of
 * docs/domain.md, including its worked examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../../api/domain/followup.h"

#define GOOD {JF_L3_GOOD, JF_L3_GOOD, JF_L3_GOOD, JF_L3_GOOD, JF_L3_GOOD}
#define ONE_POOR {JF_L3_GOOD, JF_L3_POOR, JF_L3_GOOD, JF_L3_GOOD, JF_L3_GOOD}
#define WORK_NA {JF_L3_GOOD, JF_L3_FAIR, JF_L3_NA, JF_L3_FAIR, JF_L3_GOOD}

/* [R-CLASS-1] */
static void classification_table(void **state)
{
    static const struct {
        const char *why;
        jf_visit_form f;
        jf_visit_class want;
    } rows[] = {
        {"all clear", {0, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, false}, JF_CLASS_STABLE},
        {"fair social function, work n/a", {0, 0, false, JF_INSIGHT_COMPLETE, WORK_NA, false, false},
         JF_CLASS_STABLE},
        {"risk 3", {3, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, false}, JF_CLASS_UNSTABLE},
        {"risk 4", {4, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, false}, JF_CLASS_UNSTABLE},
        {"risk 5", {5, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, false}, JF_CLASS_UNSTABLE},
        {"insight absent", {0, 0, false, JF_INSIGHT_ABSENT, GOOD, false, false}, JF_CLASS_UNSTABLE},
        {"serious adverse reaction", {0, 0, false, JF_INSIGHT_COMPLETE, GOOD, true, false},
         JF_CLASS_UNSTABLE},
        {"serious physical illness", {0, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, true},
         JF_CLASS_UNSTABLE},
        {"obvious psychotic symptoms", {0, 2, true, JF_INSIGHT_COMPLETE, GOOD, false, false},
         JF_CLASS_UNSTABLE},
        {"risk 1", {1, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, false},
         JF_CLASS_BASICALLY_STABLE},
        {"risk 2", {2, 0, false, JF_INSIGHT_COMPLETE, GOOD, false, false},
         JF_CLASS_BASICALLY_STABLE},
        {"symptoms left", {0, 1, false, JF_INSIGHT_COMPLETE, GOOD, false, false},
         JF_CLASS_BASICALLY_STABLE},
        {"partial insight", {0, 0, false, JF_INSIGHT_PARTIAL, GOOD, false, false},
         JF_CLASS_BASICALLY_STABLE},
        {"one poor social function", {0, 0, false, JF_INSIGHT_COMPLETE, ONE_POOR, false, false},
         JF_CLASS_BASICALLY_STABLE},
        {"risk 2 and insight absent: unstable wins",
         {2, 0, false, JF_INSIGHT_ABSENT, GOOD, false, false}, JF_CLASS_UNSTABLE},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_visit_class got = jf_followup_classify(&rows[i].f);
        if (got != rows[i].want)
            fail_msg("%s: expected %s, got %s", rows[i].why, jf_visit_class_name(rows[i].want),
                     jf_visit_class_name(got));
    }
}

static jf_date D(const char *s)
{
    jf_date d = JF_DATE_NONE;

    if (s != NULL)
        assert_int_equal(jf_date_parse(s, &d), 0);
    return d;
}

#define ST JF_CLASS_STABLE
#define BS JF_CLASS_BASICALLY_STABLE
#define US JF_CLASS_UNSTABLE
#define NO JF_CLASS_NONE

/* [R-DUE-1, R-DUE-2, R-DUE-3] */
static void due_table(void **state)
{
    static const struct {
        const char *why;
        const char *last, *registered, *discharged;
        jf_visit_class last_class, prev_class;
        bool in_hospital;
        int cap;
        bool tier_joint;
        const char *want;
        bool want_joint;
    } rows[] = {
        /* The worked examples of docs/domain.md. */
        {"example 1: stable, green", "2026-03-01", "2020-01-01", NULL, ST, NO, false, 3, false,
         "2026-06-01", false},
        {"example 2: unstable after stable, red", "2026-03-01", "2020-01-01", NULL, US, ST, false,
         1, true, "2026-03-15", true},
        {"example 3: basically stable after stable, yellow", "2026-03-01", "2020-01-01", NULL, BS,
         ST, false, 3, false, "2026-03-15", false},
        {"example 4: basically stable again, yellow", "2026-03-15", "2020-01-01", NULL, BS, BS,
         false, 3, false, "2026-04-15", false},
        {"example 5: stable, red by a recent incident", "2026-03-15", "2020-01-01", NULL, ST, BS,
         false, 1, true, "2026-04-15", true},
        {"example 6: discharged", NULL, "2020-01-01", "2026-05-10", NO, NO, false, 3, false,
         "2026-05-17", false},
        /* The other branches. */
        {"unstable is joint even in a non-joint tier", "2026-03-01", "2020-01-01", NULL, US, NO,
         false, 3, false, "2026-03-15", true},
        {"basically stable after unstable: 2 weeks", "2026-03-01", "2020-01-01", NULL, BS, US,
         false, 3, false, "2026-03-15", false},
        {"basically stable, first visit ever: 2 weeks", "2026-03-01", "2020-01-01", NULL, BS, NO,
         false, 3, false, "2026-03-15", false},
        {"stable, orange tier caps at 1 month", "2026-01-31", "2020-01-01", NULL, ST, ST, false,
         1, false, "2026-02-28", false},
        {"stable, a bad cap still never exceeds 3 months", "2026-03-01", "2020-01-01", NULL, ST,
         ST, false, 9, false, "2026-06-01", false},
        {"in hospital: nothing is due", "2026-03-01", "2020-01-01", NULL, US, ST, true, 1, true,
         NULL, false},
        {"discharged after the last visit: 7 days", "2026-03-01", "2020-01-01", "2026-04-02", ST,
         ST, false, 3, false, "2026-04-09", false},
        {"discharged before the last visit: the visit rules", "2026-03-01", "2020-01-01",
         "2026-02-01", ST, NO, false, 3, false, "2026-06-01", false},
        {"newly registered, never reached: 14 days", NULL, "2026-03-01", NULL, NO, NO, false, 3,
         false, "2026-03-15", false},
        {"new in a joint tier", NULL, "2026-03-01", NULL, NO, NO, false, 1, true, "2026-03-15",
         true},
        {"a history older than registration keeps the visit rules", "2026-01-10", "2026-03-01",
         NULL, ST, ST, false, 3, false, "2026-04-10", false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_due_input in = {
            .accepted_on = JF_DATE_NONE,
            .last_reached = D(rows[i].last),
            .last_class = rows[i].last_class,
            .prev_class = rows[i].prev_class,
            .registered_on = D(rows[i].registered),
            .in_hospital = rows[i].in_hospital,
            .discharged_on = D(rows[i].discharged),
            .tier_cap_months = rows[i].cap,
            .tier_joint = rows[i].tier_joint,
        };
        jf_due got = jf_followup_next_due(&in);
        char s[11] = "none";

        if (got.date != JF_DATE_NONE)
            jf_date_format(got.date, s);
        if (strcmp(s, rows[i].want ? rows[i].want : "none") != 0 ||
            got.joint != rows[i].want_joint)
            fail_msg("%s: expected %s%s, got %s%s (%s)", rows[i].why,
                     rows[i].want ? rows[i].want : "none", rows[i].want_joint ? " joint" : "", s,
                     got.joint ? " joint" : "", got.rule);
    }
}

/* [R-DUE-4] */
static void transfer_acceptance_restarts_two_weeks(void **state)
{
    jf_due_input in = {.last_reached = D("2026-01-10"), .last_class = ST, .prev_class = ST,
                       .registered_on = D("2020-01-01"), .accepted_on = D("2026-03-01"),
                       .discharged_on = JF_DATE_NONE, .tier_cap_months = 3};
    jf_due got = jf_followup_next_due(&in);

    assert_int_equal(got.date, D("2026-03-15"));
    assert_string_equal(got.rule, "transfer_14d");
    /* Never visited, accepted after registration: two weeks from acceptance. */
    in.last_reached = JF_DATE_NONE;
    got = jf_followup_next_due(&in);
    assert_int_equal(got.date, D("2026-03-15"));
    /* Visited after acceptance: the ordinary rules again. */
    in.last_reached = D("2026-03-10");
    got = jf_followup_next_due(&in);
    assert_int_equal(got.date, D("2026-06-10"));
}

/* [R-DUE-2] */
static void never_more_than_three_months_apart(void **state)
{
    /* Whatever the class and tier, the next visit is at most 3 months on. */
    jf_date start = D("2026-01-01");

    for (jf_date d = start; d < start + 400; d += 7)
        for (int c = ST; c <= US; c++)
            for (int cap = 0; cap <= 4; cap++) {
                jf_due_input in = {.last_reached = d, .last_class = (jf_visit_class)c,
                                   .prev_class = ST, .registered_on = start,
                                   .accepted_on = JF_DATE_NONE, .discharged_on = JF_DATE_NONE,
                                   .tier_cap_months = cap};
                jf_due got = jf_followup_next_due(&in);
                assert_true(got.date > d);
                assert_true(got.date <= jf_date_add_months(d, 3));
            }
}

/* [R-LOST-1] */
static void lost_after_three_misses(void **state)
{
    assert_false(jf_followup_lost(0));
    assert_false(jf_followup_lost(2));
    assert_true(jf_followup_lost(3));
    assert_true(jf_followup_lost(4));
}


/* 面访 is the patient seen in person, at the clinic or at home. [R-VISIT-1] */
static void face_to_face_table(void **state)
{
    static const struct {
        const char *mode, *informant;
        bool want;
    } rows[] = {
        {"clinic", "patient", true}, {"home", "patient", true},  {"home", NULL, true},
        {"clinic", NULL, true},      {"home", "family", false},  {"home", "other", false},
        {"phone", "patient", false}, {"phone", "family", false}, {"phone", NULL, false},
        {NULL, NULL, false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_followup_face_to_face(rows[i].mode, rows[i].informant) != rows[i].want)
            fail_msg("row %zu (%s, %s): expected %d", i, rows[i].mode ? rows[i].mode : "-",
                     rows[i].informant ? rows[i].informant : "-", rows[i].want);
}

#define ST JF_CLASS_STABLE
#define BS JF_CLASS_BASICALLY_STABLE
#define UN JF_CLASS_UNSTABLE
#define NO JF_CLASS_NONE
/* A reached 面访, a reached visit that is not 面访, an unreached attempt. */
#define F2F(d, c) {D(d), true, true, c, true}
#define REMOTE(d, c) {D(d), true, false, c, true}
#define MISS(d) {D(d), false, false, NO, true}
#define MISS_BEFORE_RETURN(d) {D(d), false, false, NO, false}

/* The fold of the visits, one row per branch [R-VISIT-2, R-LOST-1, R-DUE-5]. */
static void visit_fold_table(void **state)
{
    struct row {
        const char *why;
        jf_visit v[6];
        int n;
        bool red_otherwise;
        const char *last_reached, *last_f2f;
        jf_visit_class last, prev;
        int misses;
    };
    static const char *none = NULL;
    struct row rows[] = {
        {"a 面访 sets class and schedule", {F2F("2026-03-01", BS)}, 1, false, "2026-03-01",
         "2026-03-01", BS, NO, 0},
        {"a later 面访 lowers the class", {F2F("2026-03-01", UN), F2F("2026-03-15", ST)}, 2, false,
         "2026-03-15", "2026-03-15", ST, UN, 0},
        {"a phone call never lowers unstable, nor moves its schedule",
         {F2F("2026-03-01", UN), REMOTE("2026-03-10", ST)}, 2, false, "2026-03-01", "2026-03-01",
         UN, NO, 0},
        {"a phone call raises stable to unstable at once, the schedule stays",
         {F2F("2026-03-01", ST), REMOTE("2026-03-10", UN)}, 2, false, "2026-03-01", "2026-03-01",
         UN, NO, 0},
        {"a phone call on a stable, not red patient counts for the schedule",
         {F2F("2026-03-01", ST), REMOTE("2026-06-01", ST)}, 2, false, "2026-06-01", "2026-03-01",
         ST, ST, 0},
        {"but not when the patient is red for another reason",
         {F2F("2026-03-01", ST), REMOTE("2026-06-01", ST)}, 2, true, "2026-03-01", "2026-03-01",
         ST, NO, 0},
        {"a phone call never lowers basically stable", {F2F("2026-03-01", BS), REMOTE("2026-03-15", ST)},
         2, false, "2026-03-01", "2026-03-01", BS, NO, 0},
        {"a phone call is not a first contact", {REMOTE("2026-03-01", ST)}, 1, false, none, none, ST,
         NO, 0},
        {"three misses a week apart count three",
         {F2F("2026-01-10", ST), MISS("2026-04-12"), MISS("2026-04-19"), MISS("2026-04-26")}, 4,
         false, "2026-01-10", "2026-01-10", ST, NO, 3},
        {"misses within 7 days of the one that counted count once",
         {F2F("2026-01-10", ST), MISS("2026-04-12"), MISS("2026-04-13"), MISS("2026-04-14")}, 4,
         false, "2026-01-10", "2026-01-10", ST, NO, 1},
        {"the gap is from the miss that counted, not the last attempt",
         {MISS("2026-04-01"), MISS("2026-04-05"), MISS("2026-04-08"), MISS("2026-04-14"),
          MISS("2026-04-15")},
         5, false, none, none, NO, NO, 3},
        {"a reached 面访 clears the misses",
         {MISS("2026-04-01"), MISS("2026-04-08"), F2F("2026-04-10", ST), MISS("2026-04-20")}, 4,
         false, "2026-04-10", "2026-04-10", ST, NO, 1},
        {"a phone call that does not count leaves the misses",
         {F2F("2026-01-10", UN), MISS("2026-02-01"), REMOTE("2026-02-05", ST), MISS("2026-02-10")},
         4, false, "2026-01-10", "2026-01-10", UN, NO, 2},
        {"misses before the last return to care do not count",
         {MISS_BEFORE_RETURN("2026-04-01"), MISS_BEFORE_RETURN("2026-04-08"), MISS("2026-04-20")}, 3,
         false, none, none, NO, NO, 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        jf_visit_state s = jf_followup_fold(r->v, r->n, r->red_otherwise, 7);
        jf_date want_last = r->last_reached ? D(r->last_reached) : JF_DATE_NONE;
        jf_date want_f2f = r->last_f2f ? D(r->last_f2f) : JF_DATE_NONE;
        if (s.last_reached != want_last || s.last_face_to_face != want_f2f ||
            s.last_class != r->last || s.prev_class != r->prev || s.misses != r->misses)
            fail_msg("%s: got last %d f2f %d class %s prev %s misses %d", r->why, s.last_reached,
                     s.last_face_to_face, jf_visit_class_name(s.last_class),
                     jf_visit_class_name(s.prev_class), s.misses);
    }
}

/* 失访 comes at the earliest two weeks after the first miss (gap 7). [R-LOST-1] */
static void lost_at_the_earliest_two_weeks_after_the_first_miss(void **state)
{
    jf_visit v[16];

    (void)state;
    for (int i = 0; i < 16; i++)
        v[i] = (jf_visit){D("2026-04-01") + i, false, false, JF_CLASS_NONE, true};
    assert_false(jf_followup_lost(jf_followup_fold(v, 14, false, 7).misses)); /* to 04-14 */
    assert_true(jf_followup_lost(jf_followup_fold(v, 15, false, 7).misses));  /* 04-15 */
    /* The gap is configuration. */
    assert_int_equal(jf_followup_fold(v, 16, false, 1).misses, 16);
}

static void class_names_round_trip(void **state)
{
    for (int c = ST; c <= US; c++)
        assert_int_equal(jf_visit_class_parse(jf_visit_class_name((jf_visit_class)c)), c);
    assert_int_equal(jf_visit_class_parse("calm"), JF_CLASS_NONE);
    assert_int_equal(jf_visit_class_parse(NULL), JF_CLASS_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classification_table),
        cmocka_unit_test(due_table),
        cmocka_unit_test(transfer_acceptance_restarts_two_weeks),
        cmocka_unit_test(never_more_than_three_months_apart),
        cmocka_unit_test(lost_after_three_misses),
        cmocka_unit_test(class_names_round_trip),
        cmocka_unit_test(face_to_face_table),
        cmocka_unit_test(visit_fold_table),
        cmocka_unit_test(lost_at_the_earliest_two_weeks_after_the_first_miss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
