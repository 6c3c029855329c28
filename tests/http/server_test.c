/* HTTP suite: the server core — operations endpoints, routing answers,
 * problem+json shapes, body cap and media type, request ids, the contract
 * covering every route, recovery after PostgreSQL restarts, and batched
 * read records that survive a restart and a shutdown. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUITE_SALT 28 /* keeps this suite's ID numbers apart from the others' */

static void healthz_and_readyz(void **state)
{
    http_res *r = http_do("GET", "/healthz", NULL, NULL, NULL);

    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "status"), "ok");
    assert_non_null(http_header(r, "X-Request-Id"));
    http_free(r);
    r = http_do("GET", "/readyz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "database"), "ok");
    http_free(r);
}

static void metrics_prometheus_text(void **state)
{
    http_res *r = http_do("GET", "/healthz", NULL, NULL, NULL);

    http_free(r);
    r = http_do("GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(http_header(r, "Content-Type"), "text/plain"));
    assert_non_null(strstr(r->body, "# TYPE jingfang_http_requests_total counter"));
    assert_non_null(strstr(r->body, "jingfang_http_requests_total{method=\"GET\","
                                    "route=\"/healthz\",status=\"200\"}"));
    assert_non_null(strstr(r->body, "jingfang_http_request_duration_seconds_bucket{method=\"GET\","
                                    "route=\"/healthz\",le=\"+Inf\"}"));
    assert_non_null(strstr(r->body, "jingfang_db_pool_connections_in_use "));
    assert_non_null(strstr(r->body, "jingfang_db_pool_connections_max 8"));
    http_free(r);
    /* A patient read goes through the batched lane, and is counted there. */
    char *doctor = http_login("tf.doctor", NULL);
    r = http_do("GET", "/api/v1/patients/1", doctor, NULL, NULL);
    http_free(r);
    r = http_do("GET", "/metrics", NULL, NULL, NULL);
    static const char reads[] = "\njingfang_db_pipeline_reads_total ",
                      batches[] = "\njingfang_db_pipeline_batches_total ";
    const char *at_reads = strstr(r->body, reads), *at_batches = strstr(r->body, batches);
    assert_non_null(at_reads);
    assert_non_null(at_batches);
    assert_true(strtoll(at_reads + sizeof(reads) - 1, NULL, 10) >= 1);
    assert_true(strtoll(at_batches + sizeof(batches) - 1, NULL, 10) >= 1);
    http_free(r);
    free(doctor);
}

static void request_id_echoed_or_made(void **state)
{
    http_res *r = http_do("GET", "/healthz", NULL, NULL, "X-Request-Id: abc-123_x.y");

    assert_string_equal(http_header(r, "X-Request-Id"), "abc-123_x.y");
    http_free(r);
    /* Not plain: replaced by a fresh one, never reflected. */
    r = http_do("GET", "/healthz", NULL, NULL, "X-Request-Id: <script>");
    assert_non_null(http_header(r, "X-Request-Id"));
    assert_string_not_equal(http_header(r, "X-Request-Id"), "<script>");
    assert_int_equal(strlen(http_header(r, "X-Request-Id")), 24);
    http_free(r);
}

static void unknown_route_and_method(void **state)
{
    http_res *r = http_do("GET", "/api/v1/nothing-here", NULL, NULL, NULL);

    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("DELETE", "/healthz", NULL, NULL, NULL);
    http_assert_problem(r, 405, NULL);
    http_free(r);
    r = http_do("GET", "/api/v1/me/", NULL, NULL, NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
}

/* The web client (JF_WEB_DIR, set by scripts/test) from memory: exact files
 * with their caching, index.html for the client's routes, never a file the
 * build did not list, and the API's own 404s untouched. */
static void web_client_served_from_memory(void **state)
{
    static const char *spa[] = {"/", "/login", "/patients/12", "/../../etc/passwd", "/index.html"};
    static const char *not_served[] = {"/assets/no-such-chunk.js", "/api/v1/patients-x", "/api"};
    http_res *r;

    for (size_t i = 0; i < sizeof(spa) / sizeof(spa[0]); i++) {
        r = http_do("GET", spa[i], NULL, NULL, NULL);
        assert_int_equal(r->status, 200);
        assert_string_equal(http_header(r, "Content-Type"), "text/html; charset=utf-8");
        assert_string_equal(http_header(r, "Cache-Control"), "no-cache");
        assert_non_null(strstr(http_header(r, "Content-Security-Policy"), "script-src 'self';"));
        assert_non_null(strstr(r->body, "<div id=\"app\">"));
        http_free(r);
    }
    for (size_t i = 0; i < sizeof(not_served) / sizeof(not_served[0]); i++) {
        r = http_do("GET", not_served[i], NULL, NULL, NULL);
        http_assert_problem(r, 404, NULL);
        http_free(r);
    }
    /* A hashed asset that index.html names: cached for good, sent as its gzip twin. */
    r = http_do("GET", "/", NULL, NULL, NULL);
    const char *src = strstr(r->body, "src=\"/assets/"), *end;
    assert_non_null(src);
    src += 5;
    assert_non_null(end = strchr(src, '"'));
    char *asset = test_fmt("%.*s", (int)(end - src), src);
    http_free(r);
    r = http_do("GET", asset, NULL, NULL, "Accept-Encoding: gzip, deflate");
    assert_int_equal(r->status, 200);
    assert_string_equal(http_header(r, "Content-Type"), "text/javascript; charset=utf-8");
    assert_string_equal(http_header(r, "Cache-Control"), "public, max-age=31536000, immutable");
    assert_string_equal(http_header(r, "Content-Encoding"), "gzip");
    http_free(r);
    r = http_do("GET", asset, NULL, NULL, "Accept-Encoding: identity");
    assert_int_equal(r->status, 200);
    assert_null(http_header(r, "Content-Encoding"));
    http_free(r);
    free(asset);
    /* Only GET and HEAD: a write to a client path is the API's 404. */
    r = http_do("POST", "/patients", NULL, "{}", NULL);
    http_assert_problem(r, 404, NULL);
    http_free(r);
    r = http_do("GET", "/files.txt", NULL, NULL, NULL);
    assert_null(strstr(r->body, "index.html\n")); /* the manifest itself is not served */
    http_free(r);
}

static void malformed_json_is_400(void **state)
{
    static const char *bad[] = {"{", "[1,2]", "\"str\"", "{\"username\":}", "nul",
                                "{\"a\":1,\"a\":2}", ""};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http_res *r = http_raw("POST", "/api/v1/auth/login", NULL, "application/json", bad[i],
                               strlen(bad[i]), 0);
        http_assert_problem(r, 400, "body");
        http_free(r);
    }
}

static void wrong_media_type_is_415(void **state)
{
    const char *body = "{\"username\":\"admin\",\"password\":\"x\"}";
    http_res *r = http_raw("POST", "/api/v1/auth/login", NULL, "text/plain", body,
                           strlen(body), 0);

    http_assert_problem(r, 415, "Content-Type");
    http_free(r);
    r = http_raw("POST", "/api/v1/auth/login", NULL, NULL, body, strlen(body), 0);
    http_assert_problem(r, 415, "Content-Type");
    http_free(r);
}

static void body_over_cap_is_413(void **state)
{
    size_t n = 1024 * 1024 + 10;
    char *big = malloc(n + 1);
    http_res *r;

    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    r = http_raw("POST", "/api/v1/auth/login", NULL, "application/json", big, n, 0);
    http_assert_problem(r, 413, "body");
    http_free(r);
    /* Chunked: no Content-Length, the cap applies while reading. */
    r = http_raw("POST", "/api/v1/auth/login", NULL, "application/json", big, n, 1);
    http_assert_problem(r, 413, "body");
    http_free(r);
    free(big);
    /* And a chunked body under the cap is read whole. */
    const char *ok = "{\"username\":\"nobody-here\",\"password\":\"wrong\"}";
    r = http_raw("POST", "/api/v1/auth/login", NULL, "application/json", ok, strlen(ok), 1);
    assert_int_equal(r->status, 401);
    http_free(r);
}

static void bad_query_strings(void **state)
{
    char *token = http_login("admin", NULL);
    http_res *r = http_do("GET", "/api/v1/users?limit=%zz", token, NULL, NULL);

    http_assert_problem(r, 400, "query");
    http_free(r);
    r = http_do("GET", "/api/v1/users?limit=%00", token, NULL, NULL);
    http_assert_problem(r, 400, "query");
    http_free(r);
    char path[2048] = "/api/v1/users?";
    for (int i = 0; i < 40; i++)
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "a%d=1&", i);
    r = http_do("GET", path, token, NULL, NULL);
    http_assert_problem(r, 400, "query");
    http_free(r);
    free(token);
}

/* Every route the server registers is in the contract, with its method. */
static void contract_covers_every_route(void **state)
{
    const char *bin = getenv("JF_TEST_API_BIN");
    http_res *r = http_do("GET", "/openapi.json", NULL, NULL, NULL);
    json_t *paths;
    char cmd[4096], method[16], path[512], lower[16];
    FILE *f;
    int n = 0;

    assert_int_equal(r->status, 200);
    assert_non_null(r->json);
    assert_string_equal(json_string_value(json_object_get(r->json, "openapi")), "3.1.0");
    paths = json_object_get(r->json, "paths");
    assert_non_null(paths);
    assert_non_null(bin);
    snprintf(cmd, sizeof(cmd), "%s routes", bin);
    f = popen(cmd, "r");
    assert_non_null(f);
    while (fscanf(f, "%15s %511s", method, path) == 2) {
        json_t *item = json_object_get(paths, path);
        size_t i;
        for (i = 0; method[i] && i < sizeof(lower) - 1; i++)
            lower[i] = (char)(method[i] | 0x20);
        lower[i] = '\0';
        if (item == NULL || json_object_get(item, lower) == NULL)
            fail_msg("route %s %s is not in openapi.yaml", method, path);
        n++;
    }
    pclose(f);
    assert_true(n >= 15);
    http_free(r);
}

/* Writers running at once while PostgreSQL restarts (restart non-NULL)
 * or right after, so that pooled connections are closed by the server
 * under writes in flight and found closed by the next ones: each answer
 * must be a success or a 503 with Retry-After, never a 500. */
#define WRITERS 8
#define WRITES 40
static void writes_meet_the_restart(const char *admin, const char *path, const char *restart)
{
    pid_t kids[WRITERS];
    int bad = 0;

    for (int k = 0; k < WRITERS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            int rc = 0;
            for (int i = 0; i < WRITES; i++) {
                char *body = test_fmt("{\"population\":%d}", 1000 + k * 100 + i);
                http_res *r = http_do("PUT", path, admin, body, NULL);
                if (r->status != 200 && (r->status != 503 || !http_header(r, "Retry-After"))) {
                    fprintf(stderr, "write %d.%d at the restart: %ld %s\n", k, i, r->status,
                            r->body);
                    rc = 1;
                }
                http_free(r);
                free(body);
            }
            _exit(rc);
        }
    }
    if (restart != NULL)
        assert_int_equal(system(restart), 0);
    for (int k = 0; k < WRITERS; k++) {
        int st = 0;
        while (waitpid(kids[k], &st, 0) < 0 && errno == EINTR)
            ;
        bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    if (bad > 0)
        fail_msg("%d of %d writers got an answer other than 200 or 503 (listed above)", bad,
                 WRITERS);
}

/* The size of the server's log (JF_TEST_API_LOG), to read what follows. */
static long log_size(void)
{
    const char *path = getenv("JF_TEST_API_LOG");
    FILE *f = path ? fopen(path, "r") : NULL;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

/* What the server logged from offset on: every line JSON (libpq printed
 * the server's FATAL notices as plain text), and the database being down
 * said a few times, not once per failed request. */
static void log_since_is_json(long offset)
{
    FILE *f = fopen(getenv("JF_TEST_API_LOG"), "r");
    char line[8192];
    int down = 0;

    assert_non_null(f);
    fseek(f, offset, SEEK_SET);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] != '{')
            fail_msg("a log line is not JSON: %s", line);
        down += strstr(line, "\"level\":\"error\",\"event\":\"db_connect\"") != NULL;
    }
    fclose(f);
    print_message("database down: %d error line(s)\n", down);
    if (down > 5)
        fail_msg("%d error lines about the database being down during one restart", down);
}

/* The pool mends itself: after PostgreSQL restarts, requests work again
 * without restarting the service, and the writes caught by the restart
 * answer 503 (retry), not 500. */
static void survives_database_restart(void **state)
{
    const char *restart = getenv("JF_TEST_PG_RESTART");
    char *token = http_login("tf.official", NULL), *admin = http_login("admin", NULL);
    /* The writers set a village's population, put back at the end. */
    char *unit = test_unit_id("429005003004"), *path, *was, *put_back;
    const char *p[] = {unit};
    http_res *r;

    assert_non_null(restart);
    was = db_scalar("SELECT population::text FROM org_units WHERE id = $1", 1, p);
    assert_non_null(was);
    path = test_fmt("/api/v1/org-units/%s/population", unit);
    /* Every pooled connection open, then a restart under the writes, and
     * one just before them. */
    writes_meet_the_restart(admin, path, NULL);
    long logged = log_size();
    writes_meet_the_restart(admin, path, restart);
    assert_int_equal(system(restart), 0);
    writes_meet_the_restart(admin, path, NULL);
    log_since_is_json(logged);
    r = http_do("GET", "/api/v1/org-units", token, NULL, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    assert_int_equal(system(restart), 0);
    /* The first request on each stale connection reconnects and retries. */
    for (int i = 0; i < 20; i++) {
        r = http_do("GET", "/api/v1/org-units", token, NULL, NULL);
        if (r->status != 200)
            fail_msg("request %d after restart: %ld %s", i, r->status, r->body);
        http_free(r);
    }
    r = http_do("GET", "/readyz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    put_back = test_fmt("{\"population\":%s}", was);
    r = http_do("PUT", path, admin, put_back, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(put_back);
    free(was);
    free(path);
    free(unit);
    free(admin);
    free(token);
}

/* The port of "http://host:port". */
static int url_port(const char *url)
{
    const char *colon = strrchr(url, ':');

    return colon ? (int)strtol(colon + 1, NULL, 10) : 0;
}

/* A patient in 梅苑社区's first grid, for the tests of read records. */
static long long some_patient(const char *doctor)
{
    char id[19], *unit = test_unit_id("429005003001G01");
    char *name = test_fmt("审读%s批", test_cn_unique());
    long long pid;

    test_new_id(id, 1, SUITE_SALT);
    pid = test_create_patient(doctor, NULL, name, id, unit, ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-01\"");
    free(unit);
    free(name);
    return pid;
}

static long read_records(long long pid, const char *rid)
{
    char idtxt[32];
    const char *p[] = {idtxt, rid};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count_until("SELECT count(*) FROM audit_log WHERE action = 'patient.read'"
                          " AND target_id = $1 AND request_id = $2",
                          2, p, 1);
}

/* Read records queued when PostgreSQL goes away are written once it is
 * back: none is lost to a failed batch. */
static void read_records_survive_database_restart(void **state)
{
    const char *restart = getenv("JF_TEST_PG_RESTART");
    char *doctor = http_login("tf.doctor", NULL), *path, rid[80];
    long long pid = some_patient(doctor);
    http_res *r;

    assert_non_null(restart);
    path = test_fmt("/api/v1/patients/%lld", pid);
    r = http_do("GET", path, doctor, NULL, NULL);
    assert_int_equal(r->status, 200);
    snprintf(rid, sizeof(rid), "%s", http_header(r, "X-Request-Id"));
    http_free(r);
    assert_int_equal(system(restart), 0);
    assert_int_equal(read_records(pid, rid), 1);
    /* The batched reads' connection mends itself too: the first read after
     * the restart finds it gone, and is sent again on a new one. */
    for (int i = 0; i < 5; i++) {
        r = http_do("GET", path, doctor, NULL, NULL);
        if (r->status != 200)
            fail_msg("read %d after restart: %ld %s", i, r->status, r->body);
        http_free(r);
    }
    free(path);
    free(doctor);
}

/* A second server with a long flush interval, stopped with SIGTERM right
 * after a read: the record is written on the way out. It runs without the
 * batched read lanes, so the read takes the pool's path, and must answer
 * the very document the main server (lanes on) answers. */
static void read_records_are_written_at_shutdown(void **state)
{
    static const char *const env[] = {"JF_AUDIT_FLUSH_MS=5000", "JF_DB_PIPELINES=0", NULL};
    const char *url = getenv("JF_TEST_URL");
    char *doctor = http_login("tf.doctor", NULL), *path, rid[80], *mine;
    long long pid = some_patient(doctor);
    int port = url_port(url) + 17;
    http_res *r;
    pid_t child;

    child = test_server_start(port, env);
    mine = test_fmt("http://127.0.0.1:%d", port);
    path = test_fmt("/api/v1/patients/%lld", pid);
    http_res *via_lane = http_do("GET", path, doctor, NULL, NULL);
    setenv("JF_TEST_URL", mine, 1);
    r = http_do("GET", path, doctor, NULL, NULL);
    setenv("JF_TEST_URL", url, 1);
    assert_int_equal(via_lane->status, 200);
    assert_string_equal(r->body, via_lane->body);
    http_free(via_lane);
    snprintf(rid, sizeof(rid), "%s", http_header(r, "X-Request-Id"));
    test_server_stop(child);
    assert_int_equal(r->status, 200);
    http_free(r);
    {
        char idtxt[32];
        const char *p[] = {idtxt, rid};
        snprintf(idtxt, sizeof(idtxt), "%lld", pid);
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'patient.read'"
                                  " AND target_id = $1 AND request_id = $2",
                                  2, p),
                         1);
    }
    free(mine);
    free(path);
    free(doctor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz_and_readyz),
        cmocka_unit_test(metrics_prometheus_text),
        cmocka_unit_test(request_id_echoed_or_made),
        cmocka_unit_test(unknown_route_and_method),
        cmocka_unit_test(web_client_served_from_memory),
        cmocka_unit_test(malformed_json_is_400),
        cmocka_unit_test(wrong_media_type_is_415),
        cmocka_unit_test(body_over_cap_is_413),
        cmocka_unit_test(bad_query_strings),
        cmocka_unit_test(contract_covers_every_route),
        cmocka_unit_test(survives_database_restart),
        cmocka_unit_test(read_records_survive_database_restart),
        cmocka_unit_test(read_records_are_written_at_shutdown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
