/* The batched read pipeline against the real PostgreSQL: many threads' reads
 * each get their own answer, lookups batched into one query too; a read that
 * fails fails alone (the reads its
 * error aborted are sent again); a statement that cannot be prepared answers
 * its own error and no one else's; a backend killed under it is replaced
 * without failing the reads it carried; a database that cannot be reached
 * fails reads at once. Needs JF_TEST_DB (a libpq conninfo). */
#include "../../api/core/err.h"
#include "../../api/db/pipeline.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define THREADS 16
#define READS 400

static jf_stmt add_one = {"pipe_test_add_one", "SELECT $1::int + 1", 0};
static jf_stmt divide = {"pipe_test_divide", "SELECT 100 / $1::int", 0};
static jf_stmt unpreparable = {"pipe_test_bad", "SELEKT $1::int", 0};
/* A lookup: each key's row is (key, key × $2, how many keys the query was
 * given), and keys ending in 999 have none. */
static jf_stmt times = {"pipe_test_times",
                        "SELECT k, k * $2::bigint, cardinality($1::bigint[])"
                        " FROM unnest($1::bigint[]) k WHERE k % 1000 <> 999",
                        0};

static const char *conninfo(void)
{
    const char *c = getenv("JF_TEST_DB");

    if (c == NULL)
        fail_msg("JF_TEST_DB is not set");
    return c;
}

typedef struct reader {
    jf_db_pipe *pipe;
    int base;
    int wrong; /* answers that were not this read's */
    int errors_seen;
} reader;

/* Every seventh read divides by zero: it must fail with 22012, and the
 * reads its error aborted must still get their own sums. */
static void *read_many(void *arg)
{
    reader *r = arg;

    for (int i = 0; i < READS; i++) {
        char v[16], want[16];
        const char *p[] = {v};
        bool bad = i % 7 == 3;
        PGresult *res = NULL;
        int rc;

        snprintf(v, sizeof(v), "%d", bad ? 0 : r->base + i);
        snprintf(want, sizeof(want), "%d", r->base + i + 1);
        rc = jf_db_pipe_exec(r->pipe, bad ? &divide : &add_one, NULL, 1, p, &res);
        if (bad) {
            if (rc == JF_ERR_DB && strcmp(jf_db_sqlstate(res), "22012") == 0)
                r->errors_seen++;
            else
                r->wrong++;
        } else if (rc != 0 || PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), want) != 0) {
            r->wrong++;
        }
        PQclear(res);
    }
    return NULL;
}

static void concurrent_reads_get_their_own_answers(void **state)
{
    jf_db_pipe *pipe;
    pthread_t t[THREADS];
    reader r[THREADS];

    (void)state;
    assert_int_equal(jf_db_pipe_create(&pipe, conninfo(), 2), 0);
    for (int i = 0; i < THREADS; i++) {
        r[i] = (reader){.pipe = pipe, .base = i * 100000};
        assert_int_equal(pthread_create(&t[i], NULL, read_many, &r[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].wrong, 0);
        assert_int_equal(r[i].errors_seen, (READS + 3) / 7);
    }
    jf_db_pipe_destroy(pipe);
}

typedef struct bad_reader {
    jf_db_pipe *pipe;
    int wrong;
} bad_reader;

static void *read_unpreparable(void *arg)
{
    bad_reader *b = arg;

    for (int i = 0; i < 50; i++) {
        PGresult *res = NULL;
        int rc = jf_db_pipe_exec(b->pipe, &unpreparable, NULL, 1, (const char *const[]){"1"}, &res);

        if (rc != JF_ERR_DB || strcmp(jf_db_sqlstate(res), "42601") != 0)
            b->wrong++;
        PQclear(res);
    }
    return NULL;
}

/* A statement that does not prepare fails every time it is run (it is not
 * taken for prepared after the first failure), and only its own reads. */
static void unpreparable_statement_fails_alone(void **state)
{
    jf_db_pipe *pipe;
    pthread_t bad, good[4];
    bad_reader b;
    reader r[4];

    (void)state;
    assert_int_equal(jf_db_pipe_create(&pipe, conninfo(), 1), 0);
    b = (bad_reader){.pipe = pipe};
    assert_int_equal(pthread_create(&bad, NULL, read_unpreparable, &b), 0);
    for (int i = 0; i < 4; i++) {
        r[i] = (reader){.pipe = pipe, .base = 7000000 + i * 1000};
        assert_int_equal(pthread_create(&good[i], NULL, read_many, &r[i]), 0);
    }
    pthread_join(bad, NULL);
    assert_int_equal(b.wrong, 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(good[i], NULL);
        assert_int_equal(r[i].wrong, 0);
    }
    jf_db_pipe_destroy(pipe);
}

typedef struct looker {
    jf_db_pipe *pipe;
    long long base;
    int factor;
    int wrong;
    long most_keys; /* the largest list a query of this thread's carried */
} looker;

/* Lookups batched with other threads' (same factor: one query; another
 * factor: another query), each answered with its own row or none. Factor 0
 * is sent as SQL NULL (and the product is NULL). */
static void *look_many(void *arg)
{
    looker *k = arg;
    char f[8];

    snprintf(f, sizeof(f), "%d", k->factor);
    const char *factor = k->factor ? f : NULL;
    for (int i = 0; i < READS; i++) {
        long long key = k->base + i;
        char ks[24], want[24];
        PGresult *res = NULL;
        int rc, rows = key % 1000 == 999 ? 0 : 1;

        snprintf(ks, sizeof(ks), "%lld", key);
        snprintf(want, sizeof(want), "%lld", key * k->factor);
        rc = jf_db_pipe_lookup(k->pipe, &times, 0, 2, (const char *const[]){ks, factor}, &res);
        if (rows == 1 && rc == 0 && PQntuples(res) == 1 &&
            strtol(PQgetvalue(res, 0, 2), NULL, 10) > k->most_keys)
            k->most_keys = strtol(PQgetvalue(res, 0, 2), NULL, 10);
        if (rc != 0 || PQntuples(res) != rows || PQnfields(res) != 3 ||
            (rows == 1 && (strcmp(PQgetvalue(res, 0, 0), ks) != 0 ||
                           (factor ? strcmp(PQgetvalue(res, 0, 1), want) != 0
                                   : !PQgetisnull(res, 0, 1)))))
            k->wrong++;
        PQclear(res);
    }
    return NULL;
}

/* Sixteen threads, three factors (one of them NULL), and pairs of threads
 * asking for the same keys at once (a key twice in one batch: sent once,
 * answered to both): every answer is the thread's own. Bad keys are refused
 * before they can fail a group. */
static void lookups_share_a_query_and_keep_their_rows(void **state)
{
    jf_db_pipe *pipe;
    pthread_t t[THREADS];
    looker k[THREADS];
    unsigned long long reads, batches;
    long most_keys = 0;
    PGresult *res = NULL;
    const char *bad[] = {"0", "07", "-1", "1x", "", "9223372036854775808", "99999999999999999999"};

    (void)state;
    assert_int_equal(jf_db_pipe_create(&pipe, conninfo(), 1), 0);
    for (int i = 0; i < THREADS; i++) {
        k[i] = (looker){.pipe = pipe,
                        .base = 1000000 + (i / 2) * 1000,
                        .factor = (int[]){2, 3, 0}[(i / 2) % 3]};
        assert_int_equal(pthread_create(&t[i], NULL, look_many, &k[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(k[i].wrong, 0);
        most_keys = k[i].most_keys > most_keys ? k[i].most_keys : most_keys;
    }
    assert_true(most_keys > 1); /* lookups did share queries */
    jf_db_pipe_stats(pipe, &reads, &batches);
    assert_int_equal(reads, THREADS * READS);
    assert_true(batches < reads);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(
            jf_db_pipe_lookup(pipe, &times, 0, 2, (const char *const[]){bad[i], "2"}, &res),
            JF_ERR_INVALID);
        assert_null(res);
    }
    assert_int_equal(
        jf_db_pipe_lookup(pipe, &times, 0, 2, (const char *const[]){"9223372036854775807", "1"},
                          &res),
        0);
    assert_string_equal(PQgetvalue(res, 0, 0), "9223372036854775807");
    PQclear(res);
    jf_db_pipe_destroy(pipe);
}

static long sum_of(jf_db_pipe *pipe, const char *v)
{
    PGresult *res = NULL;
    long out = -1;

    if (jf_db_pipe_exec(pipe, NULL, "SELECT $1::bigint * 2", 1, (const char *const[]){v}, &res) ==
        0)
        out = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return out;
}

/* The lane's backend is terminated between two reads: the next read finds
 * the connection broken, the lane reconnects and sends it again. */
static void killed_backend_is_replaced(void **state)
{
    jf_db_pipe *pipe;
    PGconn *admin = PQconnectdb(conninfo());
    PGresult *k;

    (void)state;
    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    assert_int_equal(jf_db_pipe_create(&pipe, conninfo(), 1), 0);
    assert_int_equal(sum_of(pipe, "21"), 42);
    k = PQexec(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                      " WHERE application_name = '" JF_DB_PIPE_APP_NAME "'"
                      " AND pid <> pg_backend_pid()");
    assert_int_equal(PQresultStatus(k), PGRES_TUPLES_OK);
    assert_true(strtol(PQgetvalue(k, 0, 0), NULL, 10) >= 1);
    PQclear(k);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sum_of(pipe, "50"), 100);
    jf_db_pipe_destroy(pipe);
    PQfinish(admin);
}

/* Nothing listens there: reads fail at once, with the code for a
 * dependency that is down (the service answers 503). */
static void unreachable_database_fails_fast(void **state)
{
    jf_db_pipe *pipe;
    PGresult *res = (PGresult *)1;

    (void)state;
    assert_int_equal(
        jf_db_pipe_create(&pipe, "host=127.0.0.1 port=1 dbname=none connect_timeout=2", 1), 0);
    assert_int_equal(jf_db_pipe_exec(pipe, &add_one, NULL, 1, (const char *const[]){"1"}, &res),
                     JF_ERR_UNAVAILABLE);
    assert_null(res);
    jf_db_pipe_destroy(pipe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_reads_get_their_own_answers),
        cmocka_unit_test(unpreparable_statement_fails_alone),
        cmocka_unit_test(lookups_share_a_query_and_keep_their_rows),
        cmocka_unit_test(killed_backend_is_replaced),
        cmocka_unit_test(unreachable_database_fails_fast),
    };

    jf_stmt *const s[] = {&add_one, &divide, &unpreparable, &times};
    if (jf_db_stmt_register_all(s, 4) != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
