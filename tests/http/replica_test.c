/* Reads from a hot standby (JF_DB_READ_URL, db/replica.h), against the
 * streaming standby scripts/test starts beside the test database: servers
 * of their own read list pages, worklists, statistics and the change feed
 * there, audit those reads on the primary, keep a writer's reads on the
 * primary (proved with replay paused, so the standby is visibly stale),
 * and skip a standby that lags past the bound or cannot be reached. Where
 * each read went is read from /metrics. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUITE_SALT 27 /* keeps this suite's ID numbers apart from the others' */
#define DIAG ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-15\""

static char *doctor, *admin, *grid1, *main_url;
static pid_t server; /* this test's server, stopped after it whatever happens */

/* A server of this suite on the main server's port + offset, reading from
 * read_url with the lag bound given (stopped by stop_server); its URL
 * in *url. */
static void start(int offset, const char *read_url, const char *max_lag_ms, char **url)
{
    int port = (int)strtol(strrchr(main_url, ':') + 1, NULL, 10) + offset;
    char *env[] = {test_fmt("JF_DB_READ_URL=%s", read_url),
                   test_fmt("JF_DB_READ_MAX_LAG_MS=%s", max_lag_ms), NULL};
    server = test_server_start(port, (const char *const *)env);
    *url = test_fmt("http://127.0.0.1:%d", port);
    free(env[0]);
    free(env[1]);
}

/* method path as token on the server at url. */
static http_res *at(const char *url, const char *method, const char *path, const char *token,
                    const char *body)
{
    http_res *r;

    setenv("JF_TEST_URL", url, 1);
    r = http_do(method, path, token, body, NULL);
    setenv("JF_TEST_URL", main_url, 1);
    return r;
}

/* The count of jingfang_db_replica_reads_total for reason on url. */
static long reads(const char *url, const char *reason)
{
    http_res *r = at(url, "GET", "/metrics", NULL, NULL);
    char *key = test_fmt("reason=\"%s\"} ", reason);
    const char *p;
    long n = -1;

    assert_int_equal(r->status, 200);
    if ((p = strstr(r->body, key)) != NULL)
        n = strtol(p + strlen(key), NULL, 10);
    free(key);
    http_free(r);
    assert_true(n >= 0);
    return n;
}

static void standby_sql(const char *sql)
{
    char *cmd =
        test_fmt("psql '%s' -qAtc \"%s\" >/dev/null", getenv("JF_TEST_DB_STANDBY_ADMIN"), sql);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* Until the standby has replayed everything the primary wrote so far. */
static void caught_up(void)
{
    standby_sql("SELECT pg_wal_replay_resume()");
    char *lsn = db_scalar("SELECT pg_current_wal_lsn()", 0, NULL);
    char *cmd = test_fmt("for i in $(seq 100); do [ \"$(psql '%s' -qAtc \"SELECT"
                         " pg_last_wal_replay_lsn() >= '%s'\")\" = t ] && exit 0; sleep 0.1;"
                         " done; exit 1",
                         getenv("JF_TEST_DB_STANDBY_ADMIN"), lsn);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(lsn);
    /* The server's last measure may predate it. */
    usleep(300 * 1000);
}

/* Does the list page r hold patient id? */
static int listed(const http_res *r, long long id)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(r->json, "items"), i, v)
    {
        if (json_integer_value(json_object_get(v, "id")) == id)
            return 1;
    }
    return 0;
}

/* The read-only routes read from the standby, give what the primary gives,
 * and are audited on the primary. */
static void lists_read_from_the_standby(void **state)
{
    static const char *const paths[] = {"/api/v1/patients?limit=5", "/api/v1/worklists/due",
                                        "/api/v1/statistics/dashboard?year=2026",
                                        "/api/v1/ledgers/lost"};
    char *url;
    start(23, getenv("JF_TEST_DB_STANDBY"), "1000", &url);
    long before;
    http_res *r, *p;

    (void)state;
    caught_up();
    before = reads(url, "served");
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        r = at(url, "GET", paths[i], admin, NULL);
        if (r->status != 200)
            fail_msg("%s from the standby: %ld %s", paths[i], r->status, r->body);
        http_free(r);
    }
    r = at(url, "GET", "/api/v1/changes", grid1, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(reads(url, "served"), before + 5);

    /* The same page as the primary's, and its read audited there. */
    r = at(url, "GET", "/api/v1/patients?limit=5", admin, NULL);
    p = http_do("GET", "/api/v1/patients?limit=5", admin, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, p->body);
    const char *rid[] = {http_header(r, "X-Request-Id")};
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE request_id = $1"
                              " AND action = 'patient.list'",
                              1, rid),
                     1);
    http_free(p);
    http_free(r);
    free(url);
}

/* With replay paused the standby is stale (and, with a long bound, still
 * used): a doctor who just registered a patient finds them, read on the
 * primary; someone else, reading the standby, does not yet. */
static void a_writer_reads_its_own_writes(void **state)
{
    char *url, *name = test_fmt("副本%s", test_cn_unique()), id18[19], *path, *q, *unit;
    start(24, getenv("JF_TEST_DB_STANDBY"), "600000", &url);
    long long patient;
    long own, served;
    http_res *r;

    (void)state;
    caught_up();
    standby_sql("SELECT pg_wal_replay_pause()");
    test_new_id(id18, -1, SUITE_SALT);
    unit = test_unit_id("429005003001G01");
    setenv("JF_TEST_URL", url, 1);
    patient = test_create_patient(doctor, NULL, name, id18, unit, DIAG);
    setenv("JF_TEST_URL", main_url, 1);
    own = reads(url, "own_write");
    served = reads(url, "served");
    q = curl_easy_escape(NULL, name, 0);
    path = test_fmt("/api/v1/patients?name=%s", q);
    curl_free(q);
    r = at(url, "GET", path, doctor, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(listed(r, patient), 1);
    http_free(r);
    assert_int_equal(reads(url, "own_write"), own + 1);
    r = at(url, "GET", path, admin, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(listed(r, patient), 0);
    http_free(r);
    assert_int_equal(reads(url, "served"), served + 1);
    standby_sql("SELECT pg_wal_replay_resume()");
    free(path);
    free(unit);
    free(name);
    free(url);
}

/* A standby behind past the bound is skipped until it catches up. */
static void a_lagging_standby_is_skipped(void **state)
{
    char *url;
    start(25, getenv("JF_TEST_DB_STANDBY"), "300", &url);
    long lagging, served;
    http_res *r;

    (void)state;
    caught_up();
    standby_sql("SELECT pg_wal_replay_pause()");
    /* Something to replay, that the paused standby receives and holds. */
    assert_true(db_try("UPDATE org_units SET name = name WHERE code = '429005003'"));
    sleep(1);
    lagging = reads(url, "lagging");
    r = at(url, "GET", "/api/v1/patients?limit=5", admin, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(reads(url, "lagging"), lagging + 1);

    standby_sql("SELECT pg_wal_replay_resume()");
    caught_up();
    served = reads(url, "served");
    r = at(url, "GET", "/api/v1/patients?limit=5", admin, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(reads(url, "served"), served + 1);
    free(url);
}

/* A standby that cannot be reached: reads go on, on the primary. */
static void an_unreachable_standby_is_skipped(void **state)
{
    char *url;
    start(26, "host=127.0.0.1 port=1 dbname=jingfang connect_timeout=1", "1000", &url);
    http_res *r;

    (void)state;
    r = at(url, "GET", "/api/v1/worklists/overdue", admin, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(reads(url, "down"), 1);
    assert_int_equal(reads(url, "served"), 0);
    r = at(url, "GET", "/metrics", NULL, NULL);
    assert_non_null(strstr(r->body, "jingfang_db_replica_lag_ms -1\n"));
    http_free(r);
    free(url);
}

static int setup(void **state)
{
    (void)state;
    main_url = strdup(getenv("JF_TEST_URL"));
    doctor = http_login("tf.doctor", NULL);
    admin = http_login("tf.admin", NULL);
    grid1 = http_login("tf.grid1", NULL);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if (server > 0)
        test_server_stop(server);
    server = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(doctor);
    free(admin);
    free(grid1);
    free(main_url);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lists_read_from_the_standby, stop_server),
        cmocka_unit_test_teardown(a_writer_reads_its_own_writes, stop_server),
        cmocka_unit_test_teardown(a_lagging_standby_is_skipped, stop_server),
        cmocka_unit_test_teardown(an_unreachable_standby_is_skipped, stop_server),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
