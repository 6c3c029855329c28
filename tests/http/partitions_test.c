/* HTTP suite: the partitioned history besides the audit trail — follow-up
 * visits by year (migration 0049), webhook deliveries by month (0050). A
 * query naming a period reads only its partitions; a visit dated in a year
 * with no partition is refused whole (and the API never dates one after
 * today); a month of deliveries leaves only once none of them is pending. */
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

/* An old month of deliveries (the oldest month this database never had):
 * its name, made with one pending delivery of an event of that month. */
static char *old_month_with_a_pending_delivery(void)
{
    char *month = db_scalar("SELECT min(m)::date::text FROM generate_series('2000-01-01'::date,"
                            " '2019-12-01', '1 month') m"
                            " WHERE to_regclass((deliveries_month(m::date)).name) IS NULL",
                            0, NULL);
    char *sql;

    assert_non_null(month);
    const char *mp[] = {month};
    assert_int_equal(db_count("SELECT deliveries_partitions_ensure($1::date, $1::date)", 1, mp), 1);
    sql = test_fmt("WITH e AS (INSERT INTO webhook_endpoints (agency_id, url, secret_cipher,"
                   "  active) SELECT min(id), 'http://127.0.0.1:9/partitions', '\\x00', false"
                   "  FROM agencies RETURNING id),"
                   " o AS (INSERT INTO outbox (topic, payload, created_at) VALUES"
                   "  ('test.partitions', '{}', '%s 12:00+08') RETURNING id, created_at)"
                   " INSERT INTO deliveries (outbox_id, endpoint_id, created_at)"
                   " SELECT o.id, e.id, o.created_at FROM o, e",
                   month);
    assert_true(db_try(sql));
    free(sql);
    return month;
}

/* A month's deliveries are read from that month only; the month is
 * detached only once none of its deliveries is pending. */
static void a_month_of_deliveries_leaves_when_done(void **state)
{
    char *month = old_month_with_a_pending_delivery(), *name, *next, *left;
    const char *mp[] = {month};
    const char *attached = "SELECT count(*) FROM pg_inherits WHERE inhparent ="
                           " 'deliveries'::regclass AND inhrelid::regclass::text = $1";
    const char *detach = "SELECT string_agg(n, ',') FROM deliveries_detach_before($1::date) n";
    char *refused;

    (void)state;
    name = db_scalar("SELECT (deliveries_month($1::date)).name", 1, mp);
    next = db_scalar("SELECT ($1::date + interval '1 month')::date::text", 1, mp);
    assert_reads_only(test_fmt("SELECT count(*) FROM deliveries WHERE created_at >= '%s 00:00+08'"
                               " AND created_at < '%s 00:00+08'",
                               month, next),
                      name);

    const char *np[] = {name}, *xp[] = {next};
    /* Pending: refused, and the month stays. */
    refused = test_fmt("SELECT deliveries_detach_before('%s')", next);
    assert_false(db_try(refused));
    assert_int_equal(db_count(attached, 1, np), 1);
    /* Dead: it leaves (and is dropped, as an operator would once dumped). */
    assert_true(db_try(test_fmt("UPDATE deliveries SET state = 'dead'"
                                " WHERE created_at >= '%s 00:00+08' AND created_at < '%s 00:00+08'",
                                month, next)));
    left = db_scalar(detach, 1, xp);
    assert_non_null(left);
    assert_string_equal(left, name);
    assert_int_equal(db_count(attached, 1, np), 0);
    assert_true(db_try(test_fmt("DROP TABLE %s", name)));
    free(refused);
    free(left);
    free(next);
    free(name);
    free(month);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_month_of_visits_reads_its_year),
        cmocka_unit_test(a_visit_needs_its_year),
        cmocka_unit_test(a_month_of_deliveries_leaves_when_done),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
