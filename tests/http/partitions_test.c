/* HTTP suite: the partitioned history besides the audit trail — follow-up
 * visits by year (migration 0049). A query naming a period reads only its
 * partitions; a visit dated in a year with no partition is refused whole
 * (and the API never dates one after today). */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SALT 31
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *g01;

static int setup(void **state)
{
    (void)state;
    doctor = http_login("tf.doctor", NULL);
    g01 = test_unit_id("429005003001G01");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(doctor);
    free(g01);
    return 0;
}

/* The partitions the plan of sql (made with test_fmt, freed) reads must be
 * exactly want (one name). */
static void assert_reads_only(char *sql, const char *want)
{
    char *plan = db_scalar(test_fmt("EXPLAIN (FORMAT JSON) %s", sql), 0, NULL);
    int relations = 0;

    assert_non_null(plan);
    for (const char *p = plan; (p = strstr(p, "\"Relation Name\"")) != NULL; p++)
        relations += strncmp(p, "\"Relation Name\": \"patients\"", 27) != 0;
    if (relations != 1 || strstr(plan, test_fmt("\"%s\"", want)) == NULL)
        fail_msg("the plan reads %d partitions, not just %s: %s", relations, want, plan);
    free(plan);
    free(sql);
}

/* A month's visits, as the export (api/resources/exports.c) and the
 * exchanges' visits section (db/definitions/exchanges.sql) look for them,
 * read the month's year only. */
static void a_month_of_visits_reads_its_year(void **state)
{
    char *year =
        db_scalar("SELECT extract(year FROM now() AT TIME ZONE 'Asia/Shanghai')::text", 0, NULL);
    char *part = test_fmt("follow_ups_%s", year);

    (void)state;
    assert_reads_only(test_fmt("SELECT FROM follow_ups x WHERE x.patient_id = 1"
                               " AND x.visit_date BETWEEN '%s-03-01' AND '%s-03-31'",
                               year, year),
                      part);
    assert_reads_only(test_fmt("SELECT f.id FROM follow_ups f JOIN patients pt"
                               " ON pt.id = f.patient_id WHERE starts_with(pt.org_path, '/')"
                               " AND f.visit_date BETWEEN '%s-03-01' AND '%s-03-31'",
                               year, year),
                      part);
    free(part);
    free(year);
}

/* A visit of a year no partition holds yet is refused whole; once the
 * worker's maker has made the year it goes in. Through the API a visit is
 * never dated after today, and this year and the next are made ahead. */
static void a_visit_needs_its_year(void **state)
{
    char id[19], *name = test_fmt("分区%s", test_cn_unique());
    long long pid;
    char *year, *ins, *sql, *tomorrow;

    (void)state;
    test_new_id(id, -1, SUITE_SALT);
    pid = test_create_patient(doctor, NULL, name, id, g01, DIAG);
    /* The first year after those made. */
    year = db_scalar("SELECT (max(substr(inhrelid::regclass::text, 12)::int) + 1)::text"
                     " FROM pg_inherits WHERE inhparent = 'follow_ups'::regclass"
                     " AND inhrelid::regclass::text ~ '^follow_ups_[0-9]{4}$'",
                     0, NULL);
    assert_non_null(year);
    ins = test_fmt("INSERT INTO follow_ups (patient_id, visit_date, mode, reached,"
                   " unreached_reason) VALUES (%lld, '%s-06-01', 'phone', false, 'moved')",
                   pid, year);
    assert_false(db_try(ins));
    assert_int_equal(db_count_id("SELECT count(*) FROM follow_ups WHERE patient_id = $1", pid), 0);
    /* The year made (once), the visit goes in; in a transaction rolled
     * back, so that the year stays free for a run again on this database. */
    sql = test_fmt("BEGIN; SELECT 1 / (follow_ups_partitions_ensure('%s-01-01', '%s-12-31')"
                   " = 1)::int; SELECT 1 / (follow_ups_partitions_ensure('%s-01-01',"
                   " '%s-12-31') = 0)::int; %s; SELECT 1 / (count(*) = 1)::int FROM follow_ups"
                   " WHERE patient_id = %lld",
                   year, year, year, year, ins, pid);
    assert_true(db_try(sql));
    assert_true(db_try("ROLLBACK"));

    /* The API: tomorrow (China time) is refused, naming the field. */
    tomorrow = db_scalar("SELECT ((now() AT TIME ZONE 'Asia/Shanghai')::date + 1)::text", 0, NULL);
    test_refused(400, "visit_date", NULL, "POST", doctor,
                 test_fmt("/api/v1/patients/%lld/follow-ups", pid),
                 test_fmt(TEST_STABLE_VISIT, tomorrow));
    assert_int_equal(db_count_id("SELECT count(*) FROM follow_ups WHERE patient_id = $1", pid), 0);
    free(tomorrow);
    free(sql);
    free(ins);
    free(year);
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_month_of_visits_reads_its_year),
        cmocka_unit_test(a_visit_needs_its_year),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
