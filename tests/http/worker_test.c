/* HTTP suite: jingfang-worker (the sanitized binary, run as a child
 * process) against a webhook receiver inside this process — signed
 * deliveries, a worker killed mid-delivery, retries with backoff until
 * dead, two workers racing on one queue, escalation past a deadline, and
 * the overdue sweeps raising each case once, record-change events (each
 * kind when it should fire, cut to the agency's view, in order per patient
 * under a failing receiver, replayed from a cursor as they were sent).
 * Everything happens in a county of its own, so no other suite's agencies
 * or patients are touched. */
#include "client.h"
#include "../../api/core/crypto.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RX_MAX 1024       /* receptions recorded */
#define RX_BODY_MAX 65536 /* the receiver's body cap */
#define HOLD_WAIT_S 60    /* a held request waits at most this long */

/* ---- the webhook receiver ------------------------------------------------ */

/* One request as received. */
struct reception {
    char mode[16]; /* the path after /hook/: ok, ok2, hold, fail, slow, flaky, ev* */
    char event_id[64];
    char topic[64];
    char ctype[64];
    char ts[24];
    char sig[80];
    char *body;
    long notification_id;
    long alert_id;
    struct timespec at; /* CLOCK_MONOTONIC, when it came in */
    int sig_ok;         /* the signature verifies with the endpoint's secret */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct reception r[RX_MAX];
    int n;
    int hold_armed; /* the next /hook/hold request is held … */
    int held;       /* … requests held so far */
    int released;   /* held requests may answer */
} rx = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static struct mg_context *server;
static int rx_port;
static int refused_port; /* nothing listens there */

/* The secret of the endpoint at /hook/<mode>. */
static char *secret_of(const char *mode)
{
    return test_fmt("whsec-%s-%s-0123456789abcdef", mode, test_unique());
}

/* sha256=<hex HMAC-SHA256(secret, ts "." body)>, computed here with OpenSSL
 * alone, independently of the worker's code. */
static char *expected_sig(const char *secret, const char *ts, const char *body)
{
    char *msg = test_fmt("%s.%s", ts, body);
    unsigned char mac[32];
    unsigned ml = 0;
    char *out = malloc(7 + 64 + 1);

    assert_non_null(out);
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), mac, &ml);
    memcpy(out, "sha256=", 7);
    for (int i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
    free(msg);
    return out;
}

static void copy_header(struct mg_connection *c, const char *name, char *out, size_t cap)
{
    const char *v = mg_get_header(c, name);

    snprintf(out, cap, "%s", v ? v : "");
}

static int answer(struct mg_connection *c, int status)
{
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
              "Connection: close\r\n\r\nok",
              status, status == 200 ? "OK" : "Internal Server Error");
    return status;
}

static int rx_count(const char *mode, const char *event_id);

static int hook(struct mg_connection *c, void *ud)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    char *body = malloc(RX_BODY_MAX + 1), *secret, *want;
    struct reception *r;
    size_t len = 0;
    int got, status = 200;
    json_t *j;

    if (body == NULL)
        return answer(c, 500);
    while (len < RX_BODY_MAX && (got = mg_read(c, body + len, RX_BODY_MAX - len)) > 0)
        len += (size_t)got;
    body[len] = '\0';
    pthread_mutex_lock(&rx.lock);
    if (rx.n == RX_MAX) {
        pthread_mutex_unlock(&rx.lock);
        free(body);
        return answer(c, 500);
    }
    r = &rx.r[rx.n];
    memset(r, 0, sizeof(*r));
    snprintf(r->mode, sizeof(r->mode), "%s", ri->local_uri + strlen("/hook/"));
    copy_header(c, "X-Jingfang-Event-Id", r->event_id, sizeof(r->event_id));
    copy_header(c, "X-Jingfang-Topic", r->topic, sizeof(r->topic));
    copy_header(c, "Content-Type", r->ctype, sizeof(r->ctype));
    copy_header(c, "X-Jingfang-Timestamp", r->ts, sizeof(r->ts));
    copy_header(c, "X-Jingfang-Signature", r->sig, sizeof(r->sig));
    r->body = body;
    j = json_loads(body, 0, NULL);
    r->notification_id = (long)json_integer_value(json_object_get(j, "notification_id"));
    r->alert_id = (long)json_integer_value(json_object_get(j, "alert_id"));
    clock_gettime(CLOCK_MONOTONIC, &r->at);
    json_decref(j);
    secret = secret_of(r->mode);
    want = expected_sig(secret, r->ts, body);
    r->sig_ok = strcmp(want, r->sig) == 0;
    free(secret);
    free(want);
    rx.n++;
    pthread_cond_broadcast(&rx.cond);
    if (strcmp(r->mode, "hold") == 0 && rx.hold_armed) {
        /* Keep the worker waiting for an answer until the test has killed it. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HOLD_WAIT_S;
        rx.hold_armed = 0;
        rx.held++;
        pthread_cond_broadcast(&rx.cond);
        while (!rx.released && pthread_cond_timedwait(&rx.cond, &rx.lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&rx.lock);
    if (strcmp(ri->local_uri, "/hook/fail") == 0)
        status = 500;
    /* flaky: the first request fails, every later one succeeds. */
    if (strcmp(ri->local_uri, "/hook/flaky") == 0 && rx_count("flaky", NULL) == 1)
        status = 500;
    if (strcmp(ri->local_uri, "/hook/slow") == 0)
        usleep(25 * 1000);
    return answer(c, status);
}

/* A loopback port that is free now (bound, read, closed). */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    port = ntohs(a.sin_port);
    close(s);
    return port;
}

static void receiver_start(void)
{
    for (int attempt = 0; attempt < 5 && server == NULL; attempt++) {
        char ports[32];
        const char *opts[] = {"listening_ports", ports, "num_threads", "16",
                              "tcp_nodelay",     "1",   NULL};

        rx_port = free_port();
        snprintf(ports, sizeof(ports), "127.0.0.1:%d", rx_port);
        server = mg_start(NULL, NULL, opts);
    }
    assert_non_null(server);
    mg_set_request_handler(server, "/hook/", hook, NULL);
    refused_port = free_port();
}

/* Receptions at /hook/<mode>, for event_id (NULL: any). */
static int rx_count(const char *mode, const char *event_id)
{
    int n = 0;

    pthread_mutex_lock(&rx.lock);
    for (int i = 0; i < rx.n; i++)
        if (strcmp(rx.r[i].mode, mode) == 0 &&
            (event_id == NULL || strcmp(rx.r[i].event_id, event_id) == 0))
            n++;
    pthread_mutex_unlock(&rx.lock);
    return n;
}

/* A copy of the receptions at /hook/<mode> (bodies stay owned by rx), so
 * that assertions run with the receiver unlocked. Returns how many. */
static int rx_snapshot(const char *mode, struct reception *out, int cap)
{
    int n = 0;

    pthread_mutex_lock(&rx.lock);
    for (int i = 0; i < rx.n && n < cap; i++)
        if (strcmp(rx.r[i].mode, mode) == 0)
            out[n++] = rx.r[i];
    pthread_mutex_unlock(&rx.lock);
    return n;
}

/* Distinct event ids received at /hook/<mode>: what a receiver that drops
 * duplicates by X-Jingfang-Event-Id acts on. */
static int rx_distinct(const char *mode)
{
    int n = 0;

    pthread_mutex_lock(&rx.lock);
    for (int i = 0; i < rx.n; i++) {
        int first = strcmp(rx.r[i].mode, mode) == 0;
        for (int k = 0; first && k < i; k++)
            if (strcmp(rx.r[k].mode, mode) == 0 && strcmp(rx.r[k].event_id, rx.r[i].event_id) == 0)
                first = 0;
        n += first;
    }
    pthread_mutex_unlock(&rx.lock);
    return n;
}

/* ---- the county of this suite ------------------------------------------ */

static char *township, *village, *police, *clinic, *stability;
static char *tmpdir;
static int runs;     /* worker runs: worker-<n>.log */
static int patients; /* patients made: their names */

static char *insert_unit(const char *parent, const char *level, const char *code, const char *name)
{
    const char *p[] = {parent, level, code, name};

    return db_scalar("INSERT INTO org_units (parent_id, level, code, name, population)"
                     " VALUES ($1::bigint, $2, $3, $4, 1000) RETURNING id",
                     4, p);
}

static char *insert_agency(const char *kind, const char *name)
{
    const char *p[] = {kind, name, township};

    return db_scalar("INSERT INTO agencies (kind, name, org_unit_id) VALUES ($1, $2, $3)"
                     " RETURNING id",
                     3, p);
}

/* A patient on the register in this county's village. next_due: days from
 * today (China time), or NULL. */
static char *insert_patient(const char *status, const char *next_due_days)
{
    char *name = test_fmt("工作者测试%d", ++patients);
    const char *p[] = {village, status, name, next_due_days};
    char *id =
        db_scalar("INSERT INTO patients (org_unit_id, status, name, id_cipher, id_index, id_masked,"
                  " diagnosis, diagnosis_date, registered_on, next_due) VALUES ($1, $2, $3,"
                  " decode(md5(random()::text), 'hex'),"
                  " decode(md5(clock_timestamp()::text || random()::text), 'hex'),"
                  " '429005********0011', 'schizophrenia', current_date - 400, current_date - 400,"
                  " (now() AT TIME ZONE 'Asia/Shanghai')::date + $4::int) RETURNING id",
                  4, p);

    free(name);
    assert_non_null(id);
    return id;
}

/* A webhook endpoint of agency at /hook/<mode> (or refusing connections),
 * its secret sealed exactly as the API seals one. */
static char *insert_endpoint(const char *agency, const char *mode, int refused)
{
    const char *hexkey = getenv("JF_ID_ENC_KEY");
    unsigned char key[32], sealed[256];
    char hex[2 * sizeof(sealed) + 1], *secret = secret_of(mode), *url, *id;
    size_t n = strlen(secret);

    assert_non_null(hexkey);
    assert_int_equal(strlen(hexkey), 64);
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(hexkey + 2 * i, "%2x", &v);
        key[i] = (unsigned char)v;
    }
    assert_true(n + 28 <= sizeof(sealed));
    assert_int_equal(jf_crypto_seal(key, "webhook-secret", 14, secret, n, sealed), 0);
    jf_crypto_hex(sealed, n + 28, hex);
    url = test_fmt("http://127.0.0.1:%d/hook/%s", refused ? refused_port : rx_port, mode);
    {
        const char *p[] = {agency, url, hex};
        id = db_scalar("INSERT INTO webhook_endpoints (agency_id, url, secret_cipher)"
                       " VALUES ($1, $2, decode($3, 'hex')) RETURNING id",
                       3, p);
    }
    free(url);
    free(secret);
    assert_non_null(id);
    return id;
}

/* Every endpoint of this county off: a test that failed half-way leaves
 * none behind to collect the next test's events. */
static void endpoints_reset(void)
{
    const char *p[] = {police, clinic, stability};

    db_count("WITH u AS (UPDATE webhook_endpoints SET active = false"
             " WHERE agency_id IN ($1, $2, $3) AND active RETURNING 1) SELECT count(*) FROM u",
             3, p);
}

static void endpoint_off(const char *id)
{
    const char *p[] = {id};

    db_count("WITH u AS (UPDATE webhook_endpoints SET active = false WHERE id = $1 RETURNING 1)"
             " SELECT count(*) FROM u",
             1, p);
}

/* notify(kind, patient) n times, as of now() + offset; returns the first id. */
static char *raise_n(const char *kind, const char *patient, int n, const char *offset)
{
    char count[16];
    const char *p[] = {kind, patient, count, offset};

    snprintf(count, sizeof(count), "%d", n);
    return db_scalar("SELECT min(notify($1, $2::bigint, NULL, '{}', NULL, NULL, NULL,"
                     " now() + $4::interval)) FROM generate_series(1, $3::int)",
                     4, p);
}

/* now() + interval as the worker's --now takes it. */
static char *at(const char *interval)
{
    const char *p[] = {interval};
    char *s = db_scalar("SELECT to_char((now() + $1::interval) AT TIME ZONE 'Asia/Shanghai',"
                        " 'YYYY-MM-DD HH24:MI:SS') || '+08'",
                        1, p);

    assert_non_null(s);
    return s;
}

/* ---- running the worker ------------------------------------------------- */

static const char *worker_bin(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("JF_TEST_WORKER_BIN");
    ssize_t n;

    if (env != NULL && *env)
        return env;
    /* Beside the suites: <build>/tests/http_worker → <build>/api/jingfang-worker. */
    n = readlink("/proc/self/exe", path, sizeof(path) - 32);
    assert_true(n > 0);
    path[n] = '\0';
    *strrchr(path, '/') = '\0';
    snprintf(strrchr(path, '/'), 32, "/api/jingfang-worker");
    return path;
}

/* Start the worker looping, or with --once [--now now] when once is set;
 * extra: "NAME=value" or NULL. Its output goes to a log file named into
 * *log (free it). Leak checking is on for the worker, whatever this suite
 * runs with. */
static pid_t worker_start(int once, const char *now, const char *extra, char **log)
{
    const char *bin = worker_bin();
    char *argv[] = {(char *)bin, once ? "--once" : NULL, now ? "--now" : NULL, (char *)now, NULL};
    char *envp[512];
    int n = 0, err;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    size_t extra_name = extra ? strcspn(extra, "=") + 1 : 0;

    for (char **e = environ; *e && n < 500; e++)
        if (strncmp(*e, "ASAN_OPTIONS=", 13) != 0 &&
            (extra == NULL || strncmp(*e, extra, extra_name) != 0))
            envp[n++] = *e;
    envp[n++] = "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86";
    if (extra != NULL)
        envp[n++] = (char *)extra;
    envp[n] = NULL;
    *log = test_fmt("%s/worker-%d.log", tmpdir, ++runs);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, *log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    err = posix_spawn(&pid, bin, &fa, NULL, argv, envp);
    if (err != 0)
        fail_msg("cannot start %s: %s", bin, strerror(err));
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static pid_t worker_spawn(const char *now, const char *extra, char **log)
{
    return worker_start(1, now, extra, log);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *s = NULL;
    size_t cap = 0, n = 0;

    assert_non_null(f);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = 2 * cap + 8192;
            s = realloc(s, cap);
            assert_non_null(s);
        }
        size_t got = fread(s + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Lines of the log saying a delivery to endpoint was made. */
static int log_deliveries(const char *log, const char *endpoint)
{
    char *s = slurp(log), *want = test_fmt("\"endpoint_id\":%s,", endpoint);
    int n = 0;

    for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n"))
        if (strstr(line, "\"event\":\"delivery\"") && strstr(line, want) &&
            strstr(line, "\"result\":\"delivered\""))
            n++;
    free(want);
    free(s);
    return n;
}

/* Wait for the worker: it must exit 0 with no sanitizer report. */
static void worker_wait_ok(pid_t pid, const char *log)
{
    int st = 0;
    char *out;

    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    out = slurp(log);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strstr(out, "Sanitizer") != NULL ||
        strstr(out, "runtime error:") != NULL)
        /* The end of the log: where a sanitizer report would be. */
        fail_msg("worker %s: status 0x%x\n%s", log, st,
                 strlen(out) > 3000 ? out + strlen(out) - 3000 : out);
    free(out);
}

/* One complete run: --once [--now now], exit 0, leak-free. */
static void worker_once(const char *now, const char *extra)
{
    char *log;
    pid_t pid = worker_spawn(now, extra, &log);

    worker_wait_ok(pid, log);
    free(log);
}

/* ---- the tests ------------------------------------------------------------ */

/* Every delivery carries the event id, the topic, a fresh timestamp and a
 * signature over timestamp "." body with its own endpoint's secret; the
 * event id is the outbox's; the rows end delivered. [R-NOTE-7] */
static void deliveries_are_signed(void **state)
{
    char *ep1 = insert_endpoint(police, "ok", 0), *ep2 = insert_endpoint(clinic, "ok2", 0);
    char *patient = insert_patient("registered", NULL), *now = at("10 seconds");
    const char *p[] = {ep1, ep2};
    char *wrong, *other;

    free(raise_n("risk_high", patient, 3, "0 s"));
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'pending'",
                              2, p),
                     6);
    worker_once(now, NULL);
    assert_int_equal(rx_count("ok", NULL), 3);
    assert_int_equal(rx_count("ok2", NULL), 3);
    assert_int_equal(rx_distinct("ok"), 3);
    for (int m = 0; m < 2; m++) {
        struct reception got[8];
        int n = rx_snapshot(m == 0 ? "ok" : "ok2", got, 8);

        assert_int_equal(n, 3);
        for (int i = 0; i < n; i++) {
            struct reception *r = &got[i];
            char nid[24];
            const char *q[] = {nid};
            char *event;

            assert_true(r->sig_ok);
            assert_string_equal(r->topic, "notification.risk_high");
            assert_string_equal(r->ctype, "application/json");
            assert_true(labs(strtol(r->ts, NULL, 10) - (long)time(NULL)) < 300);
            snprintf(nid, sizeof(nid), "%ld", r->notification_id);
            event = db_scalar("SELECT event_id FROM outbox"
                              " WHERE (payload->>'notification_id')::bigint = $1::bigint",
                              1, q);
            assert_non_null(event);
            assert_string_equal(r->event_id, event);
            free(event);
        }
        /* The check is not vacuous: the other endpoint's secret does not verify. */
        other = secret_of(m == 0 ? "ok2" : "ok");
        wrong = expected_sig(other, got[0].ts, got[0].body);
        assert_string_not_equal(wrong, got[0].sig);
        free(wrong);
        free(other);
    }
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'delivered' AND attempts = 1 AND last_status = 200"
                              " AND last_error IS NULL AND delivered_at IS NOT NULL",
                              2, p),
                     6);
    endpoint_off(ep1);
    endpoint_off(ep2);
    free(ep1);
    free(ep2);
    free(patient);
    free(now);
}

/* A worker killed while its request is in flight: the row stays claimed
 * (pending, no attempt counted) for the lease, nobody sends it meanwhile,
 * and after the lease the next run delivers it. The receiver got it twice,
 * with one event id: one effective delivery. */
static void killed_worker_redelivers_after_lease(void **state)
{
    char *ep = insert_endpoint(police, "hold", 0), *patient = insert_patient("registered", NULL);
    char *t0 = at("10 seconds"), *t1 = at("1 minute"), *t2 = at("6 minutes"), *log, *event;
    const char *p[] = {ep, t0};
    struct timespec until;
    struct reception got[4];
    pid_t pid;
    int st = 0, held, n;

    free(raise_n("risk_high", patient, 1, "0 s"));
    event = db_scalar("SELECT o.event_id FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
                      " WHERE d.endpoint_id = $1",
                      1, p);
    assert_non_null(event);

    pthread_mutex_lock(&rx.lock);
    rx.hold_armed = 1;
    rx.released = 0;
    pthread_mutex_unlock(&rx.lock);
    pid = worker_spawn(t0, NULL, &log);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += HOLD_WAIT_S;
    pthread_mutex_lock(&rx.lock);
    while (rx.held == 0 && pthread_cond_timedwait(&rx.cond, &rx.lock, &until) == 0)
        ;
    held = rx.held;
    pthread_mutex_unlock(&rx.lock);
    /* The request is in flight, the worker waits for the answer: kill it. */
    assert_int_equal(kill(pid, SIGKILL), 0);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&rx.lock);
    rx.released = 1;
    pthread_cond_broadcast(&rx.cond);
    pthread_mutex_unlock(&rx.lock);
    assert_int_equal(held, 1);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    free(log);

    /* Claimed under a lease of five minutes from the worker's now. */
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                              " AND state = 'pending' AND attempts = 0"
                              " AND next_attempt_at = $2::timestamptz + interval '5 minutes'",
                              2, p),
                     1);
    /* Within the lease another run leaves it alone. */
    worker_once(t1, NULL);
    assert_int_equal(rx_count("hold", event), 1);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                              " AND state = 'pending' AND attempts = 0",
                              1, p),
                     1);
    /* After it, delivered. */
    worker_once(t2, NULL);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                              " AND state = 'delivered' AND attempts = 1 AND last_status = 200",
                              1, p),
                     1);
    assert_int_equal(rx_count("hold", NULL), 2);
    assert_int_equal(rx_count("hold", event), 2);
    assert_int_equal(rx_distinct("hold"), 1);
    n = rx_snapshot("hold", got, 4);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        assert_true(got[i].sig_ok);
    endpoint_off(ep);
    free(ep);
    free(patient);
    free(event);
    free(t0);
    free(t1);
    free(t2);
}

/* A receiver answering 500, and one refusing connections: each run counts
 * an attempt and waits twice as long (2 s, 4 s after the run's now); a run
 * before the wait is over sends nothing; the third failure is the last
 * (JF_WEBHOOK_MAX_ATTEMPTS=3) and the rows are dead for good. */
static void failing_endpoint_backs_off_then_dead(void **state)
{
    char *fail = insert_endpoint(police, "fail", 0), *refused = insert_endpoint(police, "gone", 1);
    char *patient = insert_patient("registered", NULL);
    char *t1 = at("1 minute"), *t2 = at("2 minutes"), *t3 = at("3 minutes"), *t4 = at("1 hour");
    const char *max = "JF_WEBHOOK_MAX_ATTEMPTS=3";
    const char *p1[] = {fail, refused, t1}, *p2[] = {fail, refused, t2}, *pe[] = {fail, refused};

    free(raise_n("risk_high", patient, 1, "0 s"));
    worker_once(t1, max);
    assert_int_equal(rx_count("fail", NULL), 1);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'pending' AND attempts = 1"
                              " AND next_attempt_at = $3::timestamptz + interval '2 seconds'",
                              3, p1),
                     2);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                              " AND last_status = 500 AND last_error = 'HTTP 500'",
                              1, pe),
                     1);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                              " AND last_status IS NULL AND length(last_error) > 0",
                              1, pe + 1),
                     1);

    worker_once(t2, max);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'pending' AND attempts = 2"
                              " AND next_attempt_at = $3::timestamptz + interval '4 seconds'",
                              3, p2),
                     2);
    /* Not due again yet at the same instant: nothing sent, nothing counted. */
    worker_once(t2, max);
    assert_int_equal(rx_count("fail", NULL), 2);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'pending' AND attempts = 2",
                              2, pe),
                     2);

    worker_once(t3, max);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'dead' AND attempts = 3 AND delivered_at IS NULL",
                              2, pe),
                     2);
    worker_once(t4, max);
    assert_int_equal(rx_count("fail", NULL), 3);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)"
                              " AND state = 'dead' AND attempts = 3",
                              2, pe),
                     2);

    /* Re-driven by an admin of the area once the receiver is mended: the
     * dead delivery is pending again with its attempts afresh, and the
     * next run sends it; nobody else may, and not to an inactive endpoint. */
    {
        char *uname = test_fmt("wt.admin%s", test_unique()), *admin, *tf_admin;
        const char *up[] = {uname, township};
        /* An admin of this suite's township, with the demo password. */
        free(db_scalar("INSERT INTO users (username, display_name, role, org_unit_id,"
                       " password_hash) SELECT $1, '工作者测试管理员', 'admin', $2::bigint,"
                       " password_hash FROM users WHERE username = 'tf.admin' RETURNING id",
                       2, up));
        admin = http_login(uname, NULL);
        tf_admin = http_login("tf.admin", NULL);
        char *doctor = http_login("tf.doctor", NULL);
        char *rd = test_fmt("/api/v1/webhook-endpoints/%s/deliveries/redrive", fail);
        http_res *r = http_do("POST", rd, tf_admin, NULL, NULL); /* another township */
        http_assert_problem(r, 404, NULL);
        http_free(r);
        r = http_do("POST", rd, doctor, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
        assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                                  " AND state = 'dead'",
                                  1, pe),
                         1);
        r = http_do("POST", rd, admin, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_int_equal(test_jint(r->json, "redriven"), 1);
        http_free(r);
        assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                                  " AND state = 'pending' AND attempts = 0",
                                  1, pe),
                         1);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action ="
                                  " 'webhook.redrive' AND target_id = $1"
                                  " AND detail->>'redriven' = '1'",
                                  1, pe),
                         1);
        worker_once(t4, max);
        assert_int_equal(rx_count("fail", NULL), 4);
        endpoint_off(fail);
        r = http_do("POST", rd, admin, NULL, NULL);
        http_assert_problem(r, 409, "active");
        http_free(r);
        free(rd);
        free(doctor);
        free(tf_admin);
        free(admin);
        free(uname);
    }
    endpoint_off(fail);
    endpoint_off(refused);
    free(fail);
    free(refused);
    free(patient);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
}

/* Two workers started together on one queue of 60 deliveries: both work,
 * and every event arrives exactly once. */
static void two_workers_never_send_twice(void **state)
{
    enum { N = 60 };
    char *ep = insert_endpoint(police, "slow", 0), *patient = insert_patient("registered", NULL);
    char *now = at("10 seconds"), *log1, *log2;
    const char *p[] = {ep};
    pid_t a, b;
    int n1, n2;

    free(raise_n("risk_high", patient, N, "0 s"));
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1", 1, p), N);
    a = worker_spawn(now, NULL, &log1);
    b = worker_spawn(now, NULL, &log2);
    worker_wait_ok(a, log1);
    worker_wait_ok(b, log2);
    assert_int_equal(rx_count("slow", NULL), N);
    assert_int_equal(rx_distinct("slow"), N);
    assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                              " AND state = 'delivered' AND attempts = 1",
                              1, p),
                     N);
    n1 = log_deliveries(log1, ep);
    n2 = log_deliveries(log2, ep);
    print_message("worker 1 delivered %d, worker 2 delivered %d\n", n1, n2);
    assert_int_equal(n1 + n2, N);
    assert_true(n1 > 0 && n2 > 0);
    endpoint_off(ep);
    free(ep);
    free(patient);
    free(now);
    free(log1);
    free(log2);
}

/* Past its deadline with a recipient that has not acknowledged: escalated
 * once, to the township. Fully acknowledged: not escalated. Before the
 * deadline: neither. [R-NOTE-6] */
static void escalation_to_township(void **state)
{
    char *patient = insert_patient("registered", NULL), *open, *done, *t1 = at("2 hours");
    char *t2 = at("3 hours"), *first;
    const char *po[2], *pd[1];

    /* Raised 23 hours ago: the 24-hour deadline is an hour away. */
    open = raise_n("risk_high", patient, 1, "-23 hours");
    done = raise_n("risk_high", patient, 1, "-23 hours");
    po[0] = open;
    po[1] = township;
    pd[0] = done;
    assert_int_equal(db_count("SELECT count(*) FROM notification_recipients"
                              " WHERE notification_id = $1",
                              1, pd),
                     3);
    assert_true(db_try(test_fmt("UPDATE notification_recipients SET acknowledged_at = now(),"
                                " action_taken = '已上门核实' WHERE notification_id = %s",
                                done)));
    assert_true(db_try(test_fmt("UPDATE notification_recipients SET acknowledged_at = now(),"
                                " action_taken = '已上门核实' WHERE id IN (SELECT id FROM"
                                " notification_recipients WHERE notification_id = %s"
                                " ORDER BY id LIMIT 2)",
                                open)));

    worker_once(NULL, NULL);
    assert_int_equal(db_count("SELECT count(*) FROM notifications WHERE id IN ($1, $2::bigint)"
                              " AND escalated_at IS NOT NULL",
                              2, (const char *[]){open, done}),
                     0);

    worker_once(t1, NULL);
    {
        const char *q[] = {open, township, t1};
        assert_int_equal(db_count("SELECT count(*) FROM notifications WHERE id = $1"
                                  " AND escalated_unit_id = $2 AND escalated_at = $3::timestamptz",
                                  3, q),
                         1);
    }
    assert_int_equal(db_count("SELECT count(*) FROM notifications WHERE id = $1"
                              " AND escalated_at IS NULL AND escalated_unit_id IS NULL",
                              1, pd),
                     1);
    /* Once only: a later run leaves the first escalation as it was. */
    first = db_scalar("SELECT escalated_at::text FROM notifications WHERE id = $1", 1, po);
    worker_once(t2, NULL);
    {
        char *again =
            db_scalar("SELECT escalated_at::text FROM notifications WHERE id = $1", 1, po);
        assert_string_equal(first, again);
        free(again);
    }
    assert_int_equal(db_count("SELECT count(*) FROM notifications WHERE id = $1"
                              " AND escalated_at IS NULL",
                              1, pd),
                     1);
    free(first);
    free(patient);
    free(open);
    free(done);
    free(t1);
    free(t2);
}

static long raised(const char *kind, const char *patient)
{
    const char *p[] = {kind, patient};

    return db_count("SELECT count(*) FROM notifications WHERE kind = $1 AND patient_id = $2", 2, p);
}

/* A prescription active since 60 days ago and one pick-up of days_supplied
 * days, picked_on days from today. */
static void give_medication(const char *patient, const char *picked_on, const char *days)
{
    const char *p[] = {patient, picked_on, days};

    db_count("WITH r AS (INSERT INTO prescriptions (patient_id, drug, dose_morning, unit,"
             " started_on) VALUES ($1, '利培酮', 1, 'mg', current_date - 60) RETURNING id),"
             " m AS (INSERT INTO medication_pickups (patient_id, prescription_id, picked_on,"
             " days_supplied) SELECT $1, r.id, (now() AT TIME ZONE 'Asia/Shanghai')::date +"
             " $2::int, $3::int FROM r RETURNING 1) SELECT count(*) FROM m",
             3, p);
}

/* One notification per case, never two: the dedup key is the patient and
 * the date missed. [R-NOTE-5, R-MED-1] */
static void overdue_sweeps_raise_once(void **state)
{
    char *late = insert_patient("registered", "-10");    /* past the 7-day tolerance */
    char *recent = insert_patient("in_care", "-3");      /* overdue, within tolerance */
    char *dead = insert_patient("deceased", "-30");      /* not on the register */
    char *nopick = insert_patient("registered", NULL);   /* supply out 3 days past tolerance */
    char *supplied = insert_patient("registered", NULL); /* supply lasts 10 more days */
    char *later = at("5 days"), *picked, *late_days, *key, *want;
    long tol = db_count("SELECT coalesce((SELECT value FROM clinical_settings"
                        " WHERE key = 'pickup_tolerance_days'), 7)",
                        0, NULL);
    const char *pl[] = {late};

    picked = test_fmt("%ld", -(30 + tol + 3));
    late_days = test_fmt("%ld", tol + 3);
    give_medication(nopick, picked, "30");
    give_medication(supplied, "-20", "30");

    worker_once(NULL, NULL);
    assert_int_equal(raised("followup_overdue", late), 1);
    assert_int_equal(raised("followup_overdue", recent), 0);
    assert_int_equal(raised("followup_overdue", dead), 0);
    assert_int_equal(raised("pickup_overdue", nopick), 1);
    assert_int_equal(raised("pickup_overdue", supplied), 0);
    key = db_scalar("SELECT dedup_key FROM notifications WHERE kind = 'followup_overdue'"
                    " AND patient_id = $1",
                    1, pl);
    want = db_scalar("SELECT 'followup_overdue:' || id || ':' || to_char(next_due, 'YYYY-MM-DD')"
                     " FROM patients WHERE id = $1",
                     1, pl);
    assert_string_equal(key, want);
    free(key);
    free(want);
    {
        const char *pn[] = {nopick, late_days};
        key = db_scalar("SELECT dedup_key || '|' || (detail->>'days_late') FROM notifications"
                        " WHERE kind = 'pickup_overdue' AND patient_id = $1",
                        1, pn);
        want = db_scalar("SELECT 'pickup_overdue:' || $1 || ':' || to_char((now() AT TIME ZONE"
                         " 'Asia/Shanghai')::date - $2::int, 'YYYY-MM-DD') || '|' || $2",
                         2, pn);
        assert_string_equal(key, want);
        free(key);
        free(want);
    }

    /* Again: nothing new. */
    worker_once(NULL, NULL);
    assert_int_equal(raised("followup_overdue", late), 1);
    assert_int_equal(raised("pickup_overdue", nopick), 1);

    /* Five days on, the recent case is past the tolerance too; the others
     * stay raised once. */
    worker_once(later, NULL);
    assert_int_equal(raised("followup_overdue", recent), 1);
    assert_int_equal(raised("followup_overdue", late), 1);
    assert_int_equal(raised("followup_overdue", dead), 0);
    assert_int_equal(raised("pickup_overdue", nopick), 1);
    worker_once(later, NULL);
    assert_int_equal(raised("followup_overdue", recent), 1);

    /* A new due date missed is a new case. */
    assert_true(
        db_try(test_fmt("UPDATE patients SET next_due = next_due + 1 WHERE id = %s", late)));
    worker_once(NULL, NULL);
    assert_int_equal(raised("followup_overdue", late), 2);
    free(late);
    free(recent);
    free(dead);
    free(nopick);
    free(supplied);
    free(later);
    free(picked);
    free(late_days);
}

/* Looping, the worker delivers what is raised while it runs; SIGTERM stops
 * it after the batch in hand, exit status 0 and nothing leaked. */
static void loop_delivers_and_stops_on_sigterm(void **state)
{
    char *ep = insert_endpoint(police, "loop", 0), *patient = insert_patient("registered", NULL);
    char *log, *out;
    const char *p[] = {ep};
    pid_t pid = worker_start(0, NULL, "JF_WORKER_INTERVAL_MS=100", &log);
    int delivered = 0;

    /* Raised after the worker started: found by a later pass. */
    free(raise_n("risk_high", patient, 2, "0 s"));
    for (int i = 0; i < 600 && delivered < 2; i++) {
        usleep(50 * 1000);
        delivered = (int)db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                                  " AND state = 'delivered'",
                                  1, p);
    }
    assert_int_equal(kill(pid, SIGTERM), 0);
    worker_wait_ok(pid, log);
    assert_int_equal(delivered, 2);
    assert_int_equal(rx_count("loop", NULL), 2);
    out = slurp(log);
    assert_non_null(strstr(out, "\"event\":\"stopped\""));
    free(out);
    free(log);
    endpoint_off(ep);
    free(ep);
    free(patient);
}

/* When alert id came in at /hook/<mode>: waits up to 30 s; 0 when it did not. */
static double rx_alert_at(const char *mode, long id)
{
    struct timespec until;
    double at = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&rx.lock);
    for (;;) {
        for (int i = 0; i < rx.n && at == 0; i++)
            if (strcmp(rx.r[i].mode, mode) == 0 && rx.r[i].alert_id == id)
                at = rx.r[i].at.tv_sec + rx.r[i].at.tv_nsec / 1e9;
        if (at != 0 || pthread_cond_timedwait(&rx.cond, &rx.lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&rx.lock);
    return at;
}

static double mono_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

#define ALERT_RUNS 40

/* An urgent alert's webhook goes out at the commit that raises it (NOTIFY
 * wakes the worker), not at the worker's next look at the queue: with that
 * look a minute apart, every alert POSTed through the API reaches the
 * police system's receiver well within the minute. The time from POST to
 * reception is printed (p50, p99, max). */
static void urgent_alert_webhook_goes_out_at_once(void **state)
{
    char *agency = test_agency_id("泰丰派出所"), *ep = insert_endpoint(agency, "alert", 0);
    char *grid = http_login("tf.grid1", NULL), *log;
    pid_t pid = worker_start(0, NULL, "JF_WORKER_INTERVAL_MS=60000", &log);
    double took[ALERT_RUNS];
    (void)state;

    for (int i = -1; i < ALERT_RUNS; i++) {
        double t0 = mono_now(), at;
        http_res *r = http_do("POST", "/api/v1/alerts", grid,
                              "{\"person\":\"不明男子\",\"grade\":\"urgent\","
                              "\"place\":\"梅苑社区\",\"observed\":\"持械\"}",
                              NULL);
        long id;

        if (r->status != 201)
            fail_msg("alert: %ld %s", r->status, r->body);
        id = (long)test_jint(r->json, "id");
        http_free(r);
        at = rx_alert_at("alert", id);
        if (at == 0)
            fail_msg("alert %ld not delivered within 30 s (the worker looks every 60 s)", id);
        if (i >= 0) /* the first waited for the worker to start */
            took[i] = (at - t0) * 1000;
    }
    assert_int_equal(kill(pid, SIGTERM), 0);
    worker_wait_ok(pid, log);
    qsort(took, ALERT_RUNS, sizeof(took[0]), cmp_double);
    print_message("POST /alerts to webhook received, %d alerts: p50 %.0f ms, p99 %.0f ms,"
                  " max %.0f ms\n",
                  ALERT_RUNS, took[ALERT_RUNS / 2], took[(ALERT_RUNS * 99 - 1) / 100],
                  took[ALERT_RUNS - 1]);
    endpoint_off(ep);
    free(ep);
    free(agency);
    free(grid);
    free(log);
}

/* ---- fixture ---------------------------------------------------------------- */

/* ---- record-change events ------------------------------------------------ */

/* Endpoint id subscribed to events (a text[] literal). */
static void subscribe(const char *id, const char *events)
{
    const char *p[] = {id, events};

    assert_int_equal(db_count("WITH u AS (UPDATE webhook_endpoints SET events = $2::text[]"
                              " WHERE id = $1 RETURNING 1) SELECT count(*) FROM u",
                              2, p),
                     1);
}

/* Run the worker once at a time until mode has had want receptions (a
 * change still uncommitted elsewhere holds the fan-out back a pass). */
static void worker_until(const char *mode, int want, const char *now)
{
    for (int i = 0; i < 20 && rx_count(mode, NULL) < want; i++)
        worker_once(now, NULL);
    assert_int_equal(rx_count(mode, NULL), want);
}

/* The event kind and the patient id of a record-event reception. */
static const char *rx_event(const struct reception *r, long long *patient)
{
    static char kind[64];
    json_t *j = json_loads(r->body, 0, NULL);

    assert_non_null(j);
    snprintf(kind, sizeof(kind), "%s", test_jstr(j, "event"));
    *patient = test_jint(json_object_get(j, "patient"), "id");
    json_decref(j);
    return kind;
}

static void sql(const char *q, const char *patient)
{
    const char *p[] = {patient};
    char *stmt = test_fmt("WITH u AS (%s RETURNING 1) SELECT count(*) FROM u", q);

    assert_int_equal(db_count(stmt, 1, p), 1);
    free(stmt);
}

/* Each kind fires exactly when it should: registered; risk 2→3 up, 3→4
 * nothing, 4→2 down; unstable; a status change; a discharge; a transfer
 * (to a village of the same township). The police endpoint's payload has
 * no diagnosis nor hospital, the clinic's has; an endpoint that did not
 * subscribe, and one of another township's police, get nothing. The
 * webhook topic is the kind, every delivery signed. */
static void record_events_fire_by_kind(void **state)
{
    char *all = "{patient.registered,patient.risk_crossed,patient.unstable,"
                "patient.discharged,patient.status_changed,patient.transferred}";
    const char *tp[] = {township};
    char *county = db_scalar("SELECT parent_id FROM org_units WHERE id = $1", 1, tp);
    char *code = test_fmt("WT%sO", test_unique()), *village2;
    const char *op[] = {county, code};
    char *other = db_scalar("INSERT INTO org_units (parent_id, level, code, name, population)"
                            " VALUES ($1, 'township', $2, '工作者测试他镇', 1000) RETURNING id",
                            2, op);
    const char *ap[] = {other};
    char *other_police = db_scalar("INSERT INTO agencies (kind, name, org_unit_id)"
                                   " VALUES ('police_station', '工作者测试他所', $1) RETURNING id",
                                   1, ap);
    char *civil = insert_agency("civil_affairs", "工作者测试民政办");
    char *pol, *cli, *stab, *oth, *civ, *patient, *svc, *svc_token;
    static const char *const want[] = {"patient.registered",     "patient.risk_crossed",
                                       "patient.risk_crossed",   "patient.unstable",
                                       "patient.status_changed", "patient.discharged",
                                       "patient.transferred"};
    struct reception got[16];
    int n;

    free(code);
    code = test_fmt("WT%sV2", test_unique());
    {
        const char *vp[] = {township, code};
        village2 = db_scalar("INSERT INTO org_units (parent_id, level, code, name, population)"
                             " VALUES ($1, 'village', $2, '工作者测试二村', 1000) RETURNING id",
                             2, vp);
    }
    worker_once(NULL, NULL); /* what earlier tests left is fanned out first */
    pol = insert_endpoint(police, "evpolice", 0);
    cli = insert_endpoint(clinic, "evclinic", 0);
    stab = insert_endpoint(stability, "evnone", 0);
    oth = insert_endpoint(other_police, "evother", 0);
    civ = insert_endpoint(civil, "evcivil", 0);
    subscribe(civ, all);
    subscribe(pol, all);
    subscribe(cli, all);
    subscribe(oth, all);

    patient = insert_patient("registered", NULL);
    sql("UPDATE patients SET risk_level = 2 WHERE id = $1", patient); /* none → 2: nothing */
    sql("UPDATE patients SET risk_level = 3 WHERE id = $1", patient);
    sql("UPDATE patients SET risk_level = 4 WHERE id = $1", patient);
    sql("UPDATE patients SET risk_level = 2 WHERE id = $1", patient);
    sql("UPDATE patients SET last_class = 'unstable' WHERE id = $1", patient);
    sql("UPDATE patients SET last_class = 'unstable', misses = 1 WHERE id = $1", patient);
    sql("UPDATE patients SET status = 'hospitalised' WHERE id = $1", patient);
    sql("INSERT INTO hospitalisations (patient_id, admitted_on, hospital, involuntary)"
        " VALUES ($1, current_date - 3, '工作者测试医院', false)",
        patient);
    sql("UPDATE hospitalisations SET discharged_on = current_date WHERE patient_id = $1", patient);
    {
        const char *mp[] = {patient, village2};
        db_count("WITH u AS (UPDATE patients SET org_unit_id = $2 WHERE id = $1 RETURNING 1)"
                 " SELECT count(*) FROM u",
                 2, mp);
    }
    worker_until("evpolice", 7, NULL);
    worker_until("evclinic", 7, NULL);
    /* Civil affairs see no risk: neither its events nor the level. */
    worker_until("evcivil", 4, NULL);
    n = rx_snapshot("evcivil", got, 16);
    for (int i = 0, k = 0; i < n; i++, k++) {
        long long pid;
        json_t *j = json_loads(got[i].body, 0, NULL);

        while (k == 1 || k == 2 || k == 3) /* risk up, down, unstable */
            k++;
        assert_string_equal(rx_event(&got[i], &pid), want[k]);
        assert_null(json_object_get(json_object_get(j, "patient"), "risk_level"));
        assert_null(json_object_get(json_object_get(j, "patient"), "diagnosis"));
        json_decref(j);
    }

    n = rx_snapshot("evpolice", got, 16);
    for (int i = 0; i < n; i++) {
        long long pid;
        json_t *j = json_loads(got[i].body, 0, NULL);
        json_t *pt = json_object_get(j, "patient"), *d = json_object_get(j, "detail");

        assert_string_equal(rx_event(&got[i], &pid), want[i]);
        assert_int_equal(pid, atoll(patient));
        assert_string_equal(got[i].topic, want[i]);
        assert_true(got[i].sig_ok);
        assert_null(json_object_get(pt, "diagnosis"));
        assert_null(json_object_get(d, "hospital"));
        assert_non_null(json_object_get(pt, "risk_level"));
        assert_non_null(test_jstr(j, "cursor"));
        if (i == 1 || i == 2) {
            assert_string_equal(test_jstr(d, "direction"), i == 1 ? "up" : "down");
            assert_int_equal(test_jint(d, "old_level"), i == 1 ? 2 : 4);
            assert_int_equal(test_jint(d, "new_level"), i == 1 ? 3 : 2);
        }
        if (i == 4) {
            assert_string_equal(test_jstr(d, "old_status"), "registered");
            assert_string_equal(test_jstr(d, "new_status"), "hospitalised");
        }
        if (i == 6)
            assert_int_equal(test_jint(d, "new_org_unit_id"), atoll(village2));
        json_decref(j);
    }
    n = rx_snapshot("evclinic", got, 16);
    for (int i = 0; i < n; i++) {
        long long pid;
        json_t *j = json_loads(got[i].body, 0, NULL);

        assert_string_equal(rx_event(&got[i], &pid), want[i]);
        assert_string_equal(test_jstr(json_object_get(j, "patient"), "diagnosis"), "schizophrenia");
        if (i == 5)
            assert_string_equal(test_jstr(json_object_get(j, "detail"), "hospital"),
                                "工作者测试医院");
        json_decref(j);
    }
    assert_int_equal(rx_count("evnone", NULL), 0);
    assert_int_equal(rx_count("evother", NULL), 0);
    /* Nor does the other station's account replay any of them. */
    {
        const char *up[] = {other, other_police, test_unique()};
        svc = db_scalar("INSERT INTO users (username, display_name, role, org_unit_id, agency_id,"
                        " password_hash) SELECT 'wt-svo-' || lower($3), '工作者测试他所接口',"
                        " 'service', $1, $2, password_hash FROM users WHERE username ="
                        " 'svc.police' RETURNING username",
                        3, up);
        svc_token = http_login(svc, NULL);
        http_res *r = http_do("GET", "/api/v1/events?limit=1000", svc_token, NULL, NULL);
        size_t i;
        json_t *it;

        assert_int_equal(r->status, 200);
        json_array_foreach(json_object_get(r->json, "items"), i, it)
            assert_int_not_equal(test_jint(json_object_get(it, "patient"), "id"), atoll(patient));
        http_free(r);
    }
    /* Nothing was left queued for them either. */
    {
        const char *p[] = {stab, oth};
        assert_int_equal(
            db_count("SELECT count(*) FROM deliveries WHERE endpoint_id IN ($1, $2)", 2, p), 0);
    }
    endpoint_off(pol);
    endpoint_off(cli);
    endpoint_off(stab);
    endpoint_off(oth);
    endpoint_off(civ);
    free(civ);
    free(civil);
    free(svc);
    free(svc_token);
    free(pol);
    free(cli);
    free(stab);
    free(oth);
    free(patient);
    free(village2);
    free(other_police);
    free(other);
    free(county);
    free(code);
}

/* A patient's later event waits while the receiver refuses the earlier
 * one, and goes once the earlier one is through on its retry; another
 * patient's event is not held by it. Then an integrator that kept the
 * first event's cursor replays exactly what it was sent after it, and a
 * kinds filter narrows the replay. */
static void record_events_in_order_and_replayed(void **state)
{
    char *ep = insert_endpoint(police, "flaky", 0), *a, *b, *user, *token, *cursor;
    const char *up[] = {township, police, test_unique()};
    struct reception got[8];
    int n;

    worker_once(NULL, NULL);
    subscribe(ep, "{patient.risk_crossed,patient.status_changed}");
    a = insert_patient("registered", NULL);
    b = insert_patient("registered", NULL);
    sql("UPDATE patients SET risk_level = 3 WHERE id = $1", a);
    sql("UPDATE patients SET status = 'lost' WHERE id = $1", a);
    worker_until("flaky", 1, NULL);
    /* The first was refused; the second of a waits for it. Its retry is
     * put well after the next run, so that the runs below do not race its
     * two-second backoff. */
    {
        const char *p[] = {ep, a};
        assert_int_equal(db_count("SELECT count(*) FROM deliveries WHERE endpoint_id = $1"
                                  " AND patient_id = $2 AND state = 'pending' AND attempts = 0",
                                  2, p),
                         1);
        assert_int_equal(db_count("WITH u AS (UPDATE deliveries SET next_attempt_at = now()"
                                  " + interval '10 minutes' WHERE endpoint_id = $1"
                                  " AND patient_id = $2 AND attempts = 1 RETURNING 1)"
                                  " SELECT count(*) FROM u",
                                  2, p),
                         1);
    }
    /* Another patient's event is not held behind a's. */
    sql("UPDATE patients SET risk_level = 4 WHERE id = $1", b);
    worker_until("flaky", 2, NULL);
    /* An hour on the retry is due: the first goes, then the second. */
    {
        char *later = at("1 hour");
        worker_until("flaky", 4, later);
        free(later);
    }
    n = rx_snapshot("flaky", got, 8);
    assert_int_equal(n, 4);
    {
        long long pid;
        const char *k = rx_event(&got[0], &pid);
        assert_string_equal(k, "patient.risk_crossed");
        assert_int_equal(pid, atoll(a));
        k = rx_event(&got[1], &pid);
        assert_int_equal(pid, atoll(b));
        assert_string_equal(got[2].body, got[0].body); /* the retry */
        k = rx_event(&got[3], &pid);
        assert_string_equal(k, "patient.status_changed");
        assert_int_equal(pid, atoll(a));
    }

    /* Replay as the police station's service account, from the cursor of
     * the first event received: the other two, as sent. */
    user = db_scalar("INSERT INTO users (username, display_name, role, org_unit_id, agency_id,"
                     " password_hash) SELECT 'wt-svc-' || lower($3), '工作者测试接口', 'service',"
                     " $1, $2, password_hash FROM users WHERE username = 'svc.police'"
                     " RETURNING username",
                     3, up);
    token = http_login(user, NULL);
    {
        json_t *first = json_loads(got[0].body, 0, NULL);
        cursor = strdup(test_jstr(first, "cursor"));
        json_decref(first);
    }
    {
        char *q = test_fmt("/api/v1/events?cursor=%s", cursor);
        http_res *r = http_do("GET", q, token, NULL, NULL);
        json_t *items = json_object_get(r->json, "items"), *mine = json_array();
        size_t i;
        json_t *it;

        assert_int_equal(r->status, 200);
        json_array_foreach(items, i, it)
        {
            long long pid = test_jint(json_object_get(it, "patient"), "id");
            if (pid == atoll(a) || pid == atoll(b))
                json_array_append(mine, it);
        }
        /* a's status change, then b's risk, in the log's order, each as sent. */
        assert_int_equal(json_array_size(mine), 2);
        for (int k = 0; k < 2; k++) {
            json_t *sent = json_loads(got[k == 0 ? 3 : 1].body, 0, NULL);
            assert_true(json_equal(sent, json_array_get(mine, (size_t)k)));
            json_decref(sent);
        }
        json_decref(mine);
        http_free(r);
        free(q);
        q = test_fmt("/api/v1/events?cursor=%s&kinds=patient.status_changed", cursor);
        r = http_do("GET", q, token, NULL, NULL);
        assert_int_equal(r->status, 200);
        json_array_foreach(json_object_get(r->json, "items"), i, it)
            assert_string_equal(test_jstr(it, "event"), "patient.status_changed");
        http_free(r);
        free(q);
        /* Bad inputs name their parameter; a person's token is refused. */
        r = http_do("GET", "/api/v1/events?kinds=patient.bogus", token, NULL, NULL);
        http_assert_problem(r, 400, "kinds");
        http_free(r);
        r = http_do("GET", "/api/v1/events?cursor=nope", token, NULL, NULL);
        http_assert_problem(r, 400, "cursor");
        http_free(r);
    }
    {
        char *doctor = http_login("tf.doctor", NULL);
        http_res *r = http_do("GET", "/api/v1/events", doctor, NULL, NULL);
        http_assert_problem(r, 403, NULL);
        http_free(r);
        free(doctor);
    }
    endpoint_off(ep);
    free(cursor);
    free(token);
    free(user);
    free(a);
    free(b);
    free(ep);
}

static int setup(void **state)
{
    const char *u = test_unique();
    char *code = test_fmt("WT%s", u), *name = test_fmt("工作者测试县%s", u);
    char *county = insert_unit(NULL, "county", code, name);
    char tmpl[] = "/tmp/jf-worker-test.XXXXXX";

    free(code);
    free(name);
    code = test_fmt("WT%sT", u);
    township = insert_unit(county, "township", code, "工作者测试街道");
    free(code);
    code = test_fmt("WT%sV", u);
    village = insert_unit(township, "village", code, "工作者测试社区");
    free(code);
    free(county);
    police = insert_agency("police_station", "工作者测试派出所");
    clinic = insert_agency("clinic", "工作者测试卫生院");
    stability = insert_agency("stability_office", "工作者测试综治中心");
    assert_non_null(mkdtemp(tmpl));
    tmpdir = strdup(tmpl);
    mg_init_library(0);
    receiver_start();
    return 0;
}

static int each(void **state)
{
    endpoints_reset();
    return 0;
}

static int teardown(void **state)
{
    char *log;

    mg_stop(server);
    mg_exit_library();
    for (int i = 0; i < rx.n; i++)
        free(rx.r[i].body);
    for (int i = 1; i <= runs; i++) {
        log = test_fmt("%s/worker-%d.log", tmpdir, i);
        unlink(log);
        free(log);
    }
    rmdir(tmpdir);
    free(tmpdir);
    free(township);
    free(village);
    free(police);
    free(clinic);
    free(stability);
    return 0;
}

/* The audit trail's months (migration 0047) are made ahead by the sweep:
 * a pass as of a day over a year on leaves the month three after it ready,
 * and the months then over with their patient-history index. */
static void audit_months_made_ahead(void **state)
{
    char *now = at("400 days");
    const char *p[] = {now};
    const char *sql = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_log'::regclass"
                      " AND inhrelid::regclass::text = (audit_month((($1::timestamptz"
                      " AT TIME ZONE 'Asia/Shanghai') + interval '3 months')::date)).name";

    /* This month's patient-history index, built once the month is over. */
    const char *index = "SELECT count(*) FROM pg_class WHERE relname = (audit_month((now()"
                        " AT TIME ZONE 'Asia/Shanghai')::date)).name || '_target'";

    (void)state;
    assert_int_equal(db_count(sql, 1, p), 0);
    assert_int_equal(db_count(index, 0, NULL), 0);
    worker_once(now, NULL);
    assert_int_equal(db_count(sql, 1, p), 1);
    assert_int_equal(db_count(index, 0, NULL), 1);
    free(now);
}

/* The follow-ups' years (migration 0049) and the deliveries' months (0050)
 * are made ahead by the sweep: a pass as of a day 800 days on leaves the
 * year after it and the month three after it ready; the makers find
 * nothing more to make on a second call. */
static void history_partitions_made_ahead(void **state)
{
    char *now = at("800 days");
    const char *p[] = {now};
    const char *year = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'follow_ups'::regclass"
                       " AND inhrelid::regclass::text = 'follow_ups_' || extract(year FROM"
                       " ($1::timestamptz AT TIME ZONE 'Asia/Shanghai') + interval '1 year')";
    const char *month = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'deliveries'::regclass"
                        " AND inhrelid::regclass::text = (deliveries_month((($1::timestamptz"
                        " AT TIME ZONE 'Asia/Shanghai') + interval '3 months')::date)).name";
    const char *again = "SELECT follow_ups_partitions_ensure(d, (d + interval '1 year')::date)"
                        " + deliveries_partitions_ensure(d, (d + interval '3 months')::date)"
                        " FROM (SELECT ($1::timestamptz AT TIME ZONE 'Asia/Shanghai')::date d) t";

    (void)state;
    assert_int_equal(db_count(year, 1, p), 0);
    assert_int_equal(db_count(month, 1, p), 0);
    worker_once(now, NULL);
    assert_int_equal(db_count(year, 1, p), 1);
    assert_int_equal(db_count(month, 1, p), 1);
    assert_int_equal(db_count(again, 1, p), 0);
    free(now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(deliveries_are_signed, each),
        cmocka_unit_test_setup(killed_worker_redelivers_after_lease, each),
        cmocka_unit_test_setup(failing_endpoint_backs_off_then_dead, each),
        cmocka_unit_test_setup(two_workers_never_send_twice, each),
        cmocka_unit_test_setup(loop_delivers_and_stops_on_sigterm, each),
        cmocka_unit_test_setup(urgent_alert_webhook_goes_out_at_once, each),
        cmocka_unit_test_setup(escalation_to_township, each),
        cmocka_unit_test_setup(overdue_sweeps_raise_once, each),
        cmocka_unit_test_setup(audit_months_made_ahead, each),
        cmocka_unit_test_setup(history_partitions_made_ahead, each),
        cmocka_unit_test_setup(record_events_fire_by_kind, each),
        cmocka_unit_test_setup(record_events_in_order_and_replayed, each),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
