/* The audit log one can trust: no read is answered before its record is
 * durable (a server killed with SIGKILL during a burst of reads has a row
 * for every read it answered), and `jingfang-api audit-verify` finds an
 * edited, deleted, moved or unchained row. Tampering is done as the owner
 * of the table, who can switch its triggers off; each case is undone. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUITE_SALT 26 /* keeps this suite's ID numbers apart from the others' */
#define READERS 6
#define ANSWERED_BEFORE_KILL 600

/* ---- audit-verify ---------------------------------------------------------------- */

/* Run `jingfang-api audit-verify` (with env prepended to the command, or
 * ""); its first line of output into out, its exit status returned. */
static int verify(const char *env, char *out, size_t size)
{
    char *cmd = test_fmt("%s '%s' audit-verify 2>&1", env, getenv("JF_TEST_API_BIN"));
    FILE *f = popen(cmd, "r");
    int st;

    assert_non_null(f);
    out[0] = '\0';
    if (fgets(out, (int)size, f) == NULL)
        out[0] = '\0';
    st = pclose(f);
    free(cmd);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void assert_intact(void)
{
    char out[512];

    if (verify("", out, sizeof(out)) != 0)
        fail_msg("audit-verify on the untouched log: %s", out);
    assert_non_null(strstr(out, "intact"));
}

/* Verify fails, and its report holds want. */
static void assert_broken(const char *want)
{
    char out[512];

    assert_int_equal(verify("", out, sizeof(out)), 1);
    if (strstr(out, want) == NULL)
        fail_msg("audit-verify said \"%s\", expected it to name \"%s\"", out, want);
}

/* Run sql as the owner with the audit log's triggers off (what someone with
 * the owner's password could do), in one transaction. */
static void as_owner_untriggered(const char *sql)
{
    char *all = test_fmt("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER; %s;"
                         " ALTER TABLE audit_log ENABLE TRIGGER USER; COMMIT",
                         sql);
    if (!db_try(all))
        fail_msg("as the owner: %s", all);
    free(all);
}

/* The id and chain_seq (text, malloc'd) of a recent chained row. */
static void recent_row(int back, char **id, char **seq)
{
    char *sql = test_fmt("SELECT id FROM audit_log WHERE chain_seq IS NOT NULL"
                         " ORDER BY chain_seq DESC OFFSET %d LIMIT 1",
                         back);
    *id = db_scalar(sql, 0, NULL);
    assert_non_null(*id);
    free(sql);
    const char *p[] = {*id};
    *seq = db_scalar("SELECT chain_seq FROM audit_log WHERE id = $1", 1, p);
    assert_non_null(*seq);
}

/* Give row a chain place seq_a and row b seq_b (through -1, so that no two
 * rows ever share a place). */
static void place(const char *a, const char *seq_a, const char *b, const char *seq_b)
{
    char *sql = test_fmt("UPDATE audit_log SET chain_seq = -1 WHERE id = %s;"
                         " UPDATE audit_log SET chain_seq = %s WHERE id = %s;"
                         " UPDATE audit_log SET chain_seq = %s WHERE id = %s",
                         a, seq_b, b, seq_a, a);
    as_owner_untriggered(sql);
    free(sql);
}

static void verify_finds_tampering(void **state)
{
    char *token = http_login("tf.doctor", NULL), *id, *seq, *id2, *seq2, *sql, *want;
    http_res *r;

    (void)state;
    /* A few fresh rows, so that the chain has rows on both sides. */
    for (int i = 0; i < 5; i++) {
        r = http_do("GET", "/api/v1/patients?limit=2", token, NULL, NULL);
        assert_int_equal(r->status, 200);
        http_free(r);
    }
    free(token);
    assert_intact();

    /* The wrong key finds the very first row wrong. */
    {
        char out[512];
        assert_int_equal(
            verify("JF_AUDIT_KEY=00000000000000000000000000000000000000000000000000000000000000ff",
                   out, sizeof(out)),
            1);
        assert_non_null(strstr(out, "broken"));
    }

    /* Edited. */
    recent_row(3, &id, &seq);
    sql = test_fmt("UPDATE audit_log SET action = action || '.x' WHERE id = %s", id);
    as_owner_untriggered(sql);
    free(sql);
    want = test_fmt("audit row id %s (chain_seq %s) was edited", id, seq);
    assert_broken(want);
    free(want);
    sql = test_fmt("UPDATE audit_log SET action = left(action, -2) WHERE id = %s", id);
    as_owner_untriggered(sql);
    free(sql);
    assert_intact();

    /* Deleted. */
    sql = test_fmt("DROP TABLE IF EXISTS jf_saved; CREATE TEMP TABLE jf_saved AS"
                   " SELECT * FROM audit_log WHERE id = %s; DELETE FROM audit_log WHERE id = %s",
                   id, id);
    as_owner_untriggered(sql);
    free(sql);
    want = test_fmt("row %s is missing", seq);
    assert_broken(want);
    free(want);
    as_owner_untriggered("INSERT INTO audit_log SELECT * FROM jf_saved");
    assert_intact();
    free(id);
    free(seq);

    /* Two rows swapped: the first's place in the chain taken by the second. */
    recent_row(2, &id, &seq);
    recent_row(1, &id2, &seq2);
    place(id, seq2, id2, seq);
    want = test_fmt("audit row id %s (chain_seq %s) was edited, moved", id2, seq);
    assert_broken(want);
    free(want);
    place(id, seq, id2, seq2);
    assert_intact();
    free(id2);
    free(seq2);

    /* A row slipped in with the chain trigger off. */
    sql = test_fmt("INSERT INTO audit_log (action, request_id) VALUES ('test.forged', 'forged-%s')",
                   test_unique());
    as_owner_untriggered(sql);
    free(sql);
    assert_broken("outside the chain");
    as_owner_untriggered("DELETE FROM audit_log WHERE action = 'test.forged'");
    assert_intact();
    free(id);
    free(seq);
}

/* ---- archived months ------------------------------------------------------------- */

/* Run cmd; its whole output (up to size) into out, its exit status returned. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *f = popen(cmd, "r");
    size_t n;
    int st;

    assert_non_null(f);
    n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    st = pclose(f);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* An old month leaves the database for a file whose SHA-256 is recorded,
 * and the chain still verifies over the links it took along, even when
 * they come after rows that stay (a transaction open across a month's end
 * chains in commit order, not in time order). A period's query reads only
 * its month; the current month is never archived. */
static void old_months_leave_for_the_archive(void **state)
{
    const char *owner = getenv("JF_TEST_DB_OWNER"), *bin = getenv("JF_TEST_API_BIN");
    char dir[] = "/tmp/jf-archive-XXXXXX", out[4096], *month, *next, *name, *plan, *sha, *sql;
    const char *p;
    int relations = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    /* The oldest month not archived by an earlier run on this database. */
    month = db_scalar("SELECT min(m)::date FROM generate_series('2000-01-01'::date, '2019-12-01',"
                      " '1 month') m WHERE NOT EXISTS (SELECT 1 FROM audit_archives a"
                      " WHERE a.partition = (audit_month(m::date)).name)",
                      0, NULL);
    assert_non_null(month);
    const char *mp[] = {month};
    name = db_scalar("SELECT (audit_month($1::date)).name", 1, mp);
    next = db_scalar("SELECT ($1::date + interval '1 month')::date", 1, mp);
    assert_int_equal(db_count("SELECT audit_partitions_ensure($1::date, $1::date)", 1, mp), 1);
    sql = test_fmt("BEGIN; SET LOCAL jingfang.audit_key = '%s';"
                   " INSERT INTO audit_log (at, action, request_id) VALUES"
                   " ('%s 10:00+08', 'test.archived', 'archived-1-%s'),"
                   " ('%s 23:00+08'::timestamptz - interval '1 day', 'test.archived',"
                   "  'archived-2-%s'); COMMIT",
                   getenv("JF_AUDIT_KEY"), month, test_unique(), next, test_unique());
    assert_true(db_try(sql));
    free(sql);
    assert_intact();

    /* A query naming the period reads its month only. */
    sql = test_fmt("EXPLAIN (FORMAT JSON) SELECT count(*) FROM audit_log"
                   " WHERE at >= '%s 00:00+08' AND at < '%s 00:00+08'",
                   month, next);
    plan = db_scalar(sql, 0, NULL);
    free(sql);
    assert_non_null(plan);
    for (p = plan; (p = strstr(p, "\"Relation Name\"")) != NULL; p++)
        relations++;
    if (relations != 1 || strstr(plan, name) == NULL)
        fail_msg("the plan reads %d partitions, not just %s: %s", relations, name, plan);
    free(plan);

    /* As the owner, everything before the next month goes to files. */
    sql = test_fmt("JF_DB_URL='%s' '%s' audit-archive %s %s 2>&1", owner, bin, next, dir);
    if (run(sql, out, sizeof(out)) != 0 || strstr(out, name) == NULL)
        fail_msg("audit-archive: %s", out);
    free(sql);
    const char *np[] = {name};
    assert_int_equal(db_count("SELECT count(*) FROM pg_class WHERE relname = $1", 1, np), 0);
    sha = db_scalar("SELECT sha256 || ' ' || rows FROM audit_archives WHERE partition = $1", 1, np);
    assert_non_null(sha);
    /* The file is what was recorded: its SHA-256, and the month's two rows. */
    sql = test_fmt("sha256sum < %s/%s.csv | cut -c1-64 | tr -d '\\n';"
                   " echo ' '$(($(grep -c archived- %s/%s.csv)))",
                   dir, name, dir, name);
    run(sql, out, sizeof(out));
    free(sql);
    if (strncmp(out, sha, 64) != 0 || strstr(out, " 2") == NULL || strstr(sha, " 2") == NULL)
        fail_msg("archive file \"%s\" against the record \"%s\"", out, sha);
    free(sha);
    assert_intact();

    /* The current month is never archived. */
    sql = test_fmt("JF_DB_URL='%s' '%s' audit-archive 2999-01-01 %s 2>&1", owner, bin, dir);
    run(sql, out, sizeof(out));
    free(sql);
    assert_int_equal(
        db_count("SELECT count(*) FROM audit_log WHERE at >= date_trunc('month', now())", 0, NULL) >
            0,
        1);
    assert_intact();

    sql = test_fmt("rm -rf %s", dir);
    assert_int_equal(system(sql), 0);
    free(sql);
    free(name);
    free(next);
    free(month);
}

/* ---- durable reads ---------------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* A reader process: GET url as token again and again, each with its own
 * request id (tag-N), and append the id of every read answered 200 (the
 * whole answer received) to fd. Ends when the server is gone. */
static void reader(const char *url, const char *token, const char *tag, int fd)
{
    CURL *c = curl_easy_init();
    char auth[4096], rid[160];
    struct curl_slist *h = NULL;

    if (c == NULL)
        _exit(1);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    for (long i = 0;; i++) {
        long status = 0;

        snprintf(rid, sizeof(rid), "X-Request-Id: %s-%ld", tag, i);
        h = curl_slist_append(curl_slist_append(NULL, auth), rid);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(h);
        if (cc != CURLE_OK)
            _exit(0);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200 && dprintf(fd, "%s-%ld\n", tag, i) < 0)
            _exit(1);
    }
}

static long lines_in(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int ch;

    if (f == NULL)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* A second server, killed with SIGKILL while READERS processes read one
 * patient as fast as it answers: every read it answered with 200 has its
 * patient.read row. (With records written after the answer, a window of
 * them was lost.) */
static void answered_reads_survive_sigkill(void **state)
{
    const char *bin = getenv("JF_TEST_API_BIN"), *base = getenv("JF_TEST_URL");
    char *doctor = http_login("tf.doctor", NULL), *unit = test_unit_id("429005003001G01");
    char *name = test_fmt("审计%s号", test_cn_unique()), id18[19], listen[64];
    char dir[] = "/tmp/jf-audit-XXXXXX", *url, *tag = test_fmt("kill9-%s", test_unique());
    const char *colon = strrchr(base, ':');
    pid_t server, readers[READERS];
    long answered = 0, found;
    int st;

    (void)state;
    assert_non_null(bin);
    assert_non_null(colon);
    test_new_id(id18, -1, SUITE_SALT);
    long long pid = test_create_patient(doctor, NULL, name, id18, unit,
                                        ",\"diagnosis\":\"schizophrenia\","
                                        "\"diagnosis_date\":\"2020-01-01\"");
    assert_non_null(mkdtemp(dir));
    snprintf(listen, sizeof(listen), "127.0.0.1:%ld", strtol(colon + 1, NULL, 10) + 19);
    url = test_fmt("http://%s/api/v1/patients/%lld", listen, pid);

    server = fork();
    assert_true(server >= 0);
    if (server == 0) {
        setenv("JF_LISTEN", listen, 1);
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    /* Up when /healthz answers. */
    for (int i = 0; i < 400; i++) {
        char *hz = test_fmt("http://%s/healthz", listen);
        CURL *c = curl_easy_init();
        long status = 0;
        curl_easy_setopt(c, CURLOPT_URL, hz);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        free(hz);
        if (status == 200)
            break;
        usleep(50 * 1000);
    }
    for (int k = 0; k < READERS; k++) {
        char *path = test_fmt("%s/%d", dir, k), *rtag = test_fmt("%s-%d", tag, k);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        assert_true(fd >= 0);
        readers[k] = fork();
        assert_true(readers[k] >= 0);
        if (readers[k] == 0)
            reader(url, doctor, rtag, fd);
        close(fd);
        free(path);
        free(rtag);
    }
    /* Kill it in the middle of the burst, once enough reads were answered
     * (or after 60 s, whatever came). */
    for (int i = 0; i < 1200 && answered < ANSWERED_BEFORE_KILL; i++) {
        usleep(50 * 1000);
        answered = 0;
        for (int k = 0; k < READERS; k++) {
            char *path = test_fmt("%s/%d", dir, k);
            answered += lines_in(path);
            free(path);
        }
    }
    assert_int_equal(kill(server, SIGKILL), 0);
    waitpid(server, &st, 0);
    for (int k = 0; k < READERS; k++)
        waitpid(readers[k], &st, 0);

    /* Every id a reader saw answered, against the audit rows. */
    answered = 0;
    found = 0;
    for (int k = 0; k < READERS; k++) {
        char *path = test_fmt("%s/%d", dir, k), line[200];
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
            line[strcspn(line, "\n")] = '\0';
            const char *p[] = {line};
            answered++;
            found += db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.read'"
                              " AND request_id = $1",
                              1, p) == 1;
        }
        fclose(f);
        unlink(path);
        free(path);
    }
    rmdir(dir);
    assert_true(answered >= 50);
    if (found != answered)
        fail_msg("%ld of %ld answered reads have no audit row", answered - found, answered);
    free(url);
    free(tag);
    free(name);
    free(unit);
    free(doctor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answered_reads_survive_sigkill),
        cmocka_unit_test(verify_finds_tampering),
        cmocka_unit_test(old_months_leave_for_the_archive),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
