/* The audit log one can trust: no read is answered before its record is
 * durable (a server killed with SIGKILL during a burst of reads has a row
 * for every read it answered). */
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
