/* HTTP suite: the front door. Header and query text checked at the edge
 * for every header the server reads and every query parameter of every
 * route; request framing (Content-Length with Transfer-Encoding, two
 * Content-Lengths) over raw sockets; the client address behind a trusted
 * proxy, as the audit log records it; the per-address connection cap and
 * the header deadline under a flood of slow connections. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SUITE_SALT 29 /* keeps this suite's ID numbers apart from the others' */
#define MAX_ROUTES 256

/* The port of "http://host:port". */
static int url_port(const char *url)
{
    const char *colon = strrchr(url, ':');

    return colon ? (int)strtol(colon + 1, NULL, 10) : 0;
}

static int server_port(void)
{
    return url_port(getenv("JF_TEST_URL"));
}

/* A TCP connection to 127.0.0.1:port from the loopback address src (any
 * 127.x.y.z is ours on Linux), or -1. */
static int dial(const char *src, int port)
{
    struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    inet_pton(AF_INET, src, &from.sin_addr);
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send req from src and read until the server closes or wait_s pass.
 * The answer (malloc'd, NUL-terminated) is returned; *closed says whether
 * the server closed the connection. */
static char *exchange(const char *src, int port, const char *req, size_t len, int wait_s,
                      bool *closed)
{
    struct timeval tv = {.tv_sec = wait_s};
    size_t n = 0, cap = 65536;
    char *out = malloc(cap + 1);
    int fd = dial(src, port);

    assert_non_null(out);
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    *closed = false;
    while (n < cap) {
        ssize_t got = recv(fd, out + n, cap - n, 0);
        if (got == 0 || (got < 0 && errno == ECONNRESET)) {
            *closed = true;
            break;
        }
        if (got < 0)
            break; /* timed out: still open */
        n += (size_t)got;
    }
    out[n] = '\0';
    close(fd);
    return out;
}

/* ---- framing ------------------------------------------------------------ */

static void ambiguous_framing_is_400_and_closed(void **state)
{
    static const struct {
        const char *req, *field;
    } cases[] = {
        {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         "Transfer-Encoding"},
        {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         "Transfer-Encoding"},
        {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ",
         "Content-Length"},
        {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: 2, 3\r\n\r\n{} ",
         "Content-Length"},
        {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         NULL}, /* civetweb refuses it itself, before the headers reach us */
        {"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "Transfer-Encoding"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool closed;
        char *ans =
            exchange("127.0.0.1", server_port(), cases[i].req, strlen(cases[i].req), 10, &closed);
        char *named = test_fmt("\"field\":\"%s\"", cases[i].field ? cases[i].field : "");
        if (strncmp(ans, "HTTP/1.1 400 ", 13) != 0 ||
            strstr(ans, "application/problem+json") == NULL ||
            (cases[i].field != NULL && strstr(ans, named) == NULL))
            fail_msg("case %zu: want 400 naming %s, got: %.300s", i,
                     cases[i].field ? cases[i].field : "nothing", ans);
        if (!closed)
            fail_msg("case %zu: the connection was kept open", i);
        /* One answer only: nothing read as a second request. */
        assert_null(strstr(ans + 13, "HTTP/1.1 "));
        free(named);
        free(ans);
    }
    /* The same length twice is one length. */
    const char *same = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       "application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
                       "Connection: close\r\n\r\n{}";
    bool closed;
    char *ans = exchange("127.0.0.1", server_port(), same, strlen(same), 10, &closed);
    assert_null(strstr(ans, "\"field\":\"Content-Length\""));
    assert_int_equal(strncmp(ans, "HTTP/1.1 4", 10), 0);
    free(ans);
}

/* ---- header and query text at the edge ----------------------------------- */

static test_route routes[MAX_ROUTES];
static size_t nroutes;

static void load_routes(void)
{
    if (nroutes == 0)
        nroutes = test_routes(routes, MAX_ROUTES);
}

/* The route's pattern with every {param} replaced by 1. */
static char *concrete(const char *pattern)
{
    char *out = malloc(strlen(pattern) + 1), *o = out;

    assert_non_null(out);
    for (const char *p = pattern; *p; p++) {
        if (*p == '{') {
            *o++ = '1';
            p = strchr(p, '}');
            assert_non_null(p);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* A parameter object, following a $ref into components/parameters. */
static json_t *deref(json_t *doc, json_t *p)
{
    const char *ref = json_string_value(json_object_get(p, "$ref"));
    static const char prefix[] = "#/components/parameters/";

    if (ref == NULL)
        return p;
    assert_int_equal(strncmp(ref, prefix, sizeof(prefix) - 1), 0);
    p = json_object_get(json_object_get(json_object_get(doc, "components"), "parameters"),
                        ref + sizeof(prefix) - 1);
    assert_non_null(p);
    return p;
}

static void lower(char *dst, const char *src, size_t cap)
{
    size_t i;

    for (i = 0; src[i] && i + 1 < cap; i++)
        dst[i] = (char)(src[i] | 0x20);
    dst[i] = '\0';
}

/* Every query parameter the contract gives any route, with invalid UTF-8
 * or a control character, is 400 naming the parameter, whatever the
 * caller (it is checked before authentication) and whatever the route. */
static void bad_text_in_every_query_parameter(void **state)
{
    static const char *const bad[] = {"%FF", "a%C0%AFb", "%ED%A0%80", "a%01b", "%7F", "%C2%85"};
    char *token = http_login("admin", NULL);
    http_res *doc = http_do("GET", "/openapi.json", NULL, NULL, NULL);
    json_t *paths = json_object_get(doc->json, "paths");
    int checked = 0;

    (void)state;
    assert_non_null(paths);
    load_routes();
    for (size_t i = 0; i < nroutes; i++) {
        json_t *item = json_object_get(paths, routes[i].path), *op, *lists[2];
        char m[16];

        assert_non_null(item);
        lower(m, routes[i].method, sizeof(m));
        op = json_object_get(item, m);
        lists[0] = json_object_get(item, "parameters");
        lists[1] = op ? json_object_get(op, "parameters") : NULL;
        for (int l = 0; l < 2; l++) {
            size_t k;
            json_t *p;
            json_array_foreach(lists[l], k, p)
            {
                p = deref(doc->json, p);
                if (strcmp(json_string_value(json_object_get(p, "in")), "query") != 0)
                    continue;
                const char *name = json_string_value(json_object_get(p, "name"));
                char *path = concrete(routes[i].path);
                for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                    char *url = test_fmt("%s?%s=%s", path, name, bad[b]);
                    http_res *r = http_do(routes[i].method, url, b % 2 ? token : NULL, NULL, NULL);
                    if (r->status != 400 || strstr(r->body, name) == NULL)
                        fail_msg("%s %s: want 400 naming %s, got %ld %s", routes[i].method, url,
                                 name, r->status, r->body);
                    http_assert_problem(r, 400, name);
                    http_free(r);
                    free(url);
                    checked++;
                }
                free(path);
            }
        }
    }
    /* The finding itself: a name search with a byte that is not UTF-8. */
    http_res *r = http_do("GET", "/api/v1/patients?name=%FF", token, NULL, NULL);
    http_assert_problem(r, 400, "name");
    http_free(r);
    print_message("query text: %d requests\n", checked);
    assert_true(checked > 40);
    http_free(doc);
    free(token);
}

/* Every header the server reads, with invalid UTF-8, is 400 naming the
 * header on every route (a keyed write answered 500 before: the key
 * reached PostgreSQL as it was). A control character is refused by
 * civetweb while it parses the header block, before any header is read:
 * 400 too, as problem+json, and the connection closed. */
static void bad_text_in_every_header(void **state)
{
    static const char *const headers[] = {"Authorization", "Content-Type", "Idempotency-Key",
                                          "If-Match", "X-Test-Date"};
    static const char *const bad_utf8[] = {"\xff\xfe", "k\xc0\xaf", "Bearer \xed\xa0\x80",
                                           "\xe7\xb2", "\xf4\x90\x80\x80"};
    static const char *const controls[] = {"a\x01"
                                           "b",
                                           "x\x7f", "a\x1b[0m"};
    char *token = http_login("admin", NULL);
    int checked = 0;

    (void)state;
    load_routes();
    for (size_t i = 0; i < nroutes; i++) {
        char *path = concrete(routes[i].path);
        for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
            const char *v = bad_utf8[(i + h) % (sizeof(bad_utf8) / sizeof(bad_utf8[0]))];
            char *line = test_fmt("%s: %s", headers[h], v);
            /* With a good token unless the bad header is the token. */
            http_res *r = http_do(routes[i].method, path, h == 0 ? NULL : token,
                                  strcmp(routes[i].method, "GET") ? "{}" : NULL, line);
            if (r->status != 400 || strstr(r->body, headers[h]) == NULL)
                fail_msg("%s %s with %s: want 400 naming it, got %ld %s", routes[i].method, path,
                         headers[h], r->status, r->body);
            http_assert_problem(r, 400, headers[h]);
            http_free(r);
            free(line);
            checked++;
        }
        free(path);
    }
    for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
        for (size_t c = 0; c < sizeof(controls) / sizeof(controls[0]); c++) {
            char *req = test_fmt("POST /api/v1/patients HTTP/1.1\r\nHost: x\r\n%s: %s\r\n"
                                 "Content-Length: 2\r\n\r\n{}",
                                 headers[h], controls[c]);
            bool closed;
            char *ans = exchange("127.0.0.1", server_port(), req, strlen(req), 10, &closed);
            if (strncmp(ans, "HTTP/1.1 400 ", 13) != 0 ||
                strstr(ans, "application/problem+json") == NULL || !closed)
                fail_msg("%s with a control character: got %.300s", headers[h], ans);
            free(ans);
            free(req);
        }
    }
    print_message("header text: %d requests\n", checked);
    free(token);
}

/* A NUL in a JSON string is refused with a message a person can read. */
static void nul_in_json_string(void **state)
{
    static const char body[] = "{\"username\":\"a\\u0000b\",\"password\":\"x\"}";
    http_res *r =
        http_raw("POST", "/api/v1/auth/login", NULL, "application/json", body, strlen(body), 0);

    (void)state;
    http_assert_problem(r, 400, "body");
    assert_non_null(strstr(r->body, "NUL character"));
    assert_null(strstr(r->body, "JSON_ALLOW_NUL"));
    http_free(r);
}

/* Every route that takes a body reads it through the one capped reader:
 * a body past JF_BODY_MAX_BYTES is 413 and one nested past 64 levels is
 * 400, on every route (or an earlier 4xx: a path id that names nothing, a
 * role that may not; never a 2xx or a 5xx). */
static void body_caps_on_every_route(void **state)
{
    /* Each route as the first of these roles that may call it at all. */
    static const char *const users[] = {"admin", "tf.doctor", "tf.grid1", "tf.police",
                                        "tf.civil"};
    char *tokens[sizeof(users) / sizeof(users[0])];
    size_t n = 1024 * 1024 + 10;
    char *big = malloc(n + 1), *deep = malloc(2 * 100 + 2);
    int too_large = 0, too_deep = 0, routes_with_body = 0;

    (void)state;
    assert_non_null(big);
    assert_non_null(deep);
    for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++)
        tokens[u] = http_login(users[u], NULL);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    load_routes();
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, "GET") == 0)
            continue;
        char *path = concrete(routes[i].path);
        http_res *r = NULL;
        size_t u = 0;
        for (; u < sizeof(users) / sizeof(users[0]); u++) {
            http_free(r);
            r = http_raw(routes[i].method, path, tokens[u], "application/json", big, n, 0);
            if (r->status != 403)
                break;
        }
        if (u == sizeof(users) / sizeof(users[0]))
            u--;
        if (r->status < 400 || r->status >= 500)
            fail_msg("%s %s with a body over the cap: %ld", routes[i].method, path, r->status);
        too_large += r->status == 413;
        http_free(r);
        r = http_raw(routes[i].method, path, tokens[u], "application/json", deep, strlen(deep), 1);
        if (r->status < 400 || r->status >= 500)
            fail_msg("%s %s with a body nested 100 deep: %ld", routes[i].method, path, r->status);
        too_deep += r->status == 400 && strstr(r->body, "nested") != NULL;
        http_free(r);
        routes_with_body++;
        free(path);
    }
    print_message("body caps: %d routes, 413 on %d, too deep on %d\n", routes_with_body, too_large,
                  too_deep);
    assert_true(too_large >= routes_with_body / 2);
    assert_true(too_deep >= routes_with_body / 2);
    for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++)
        free(tokens[u]);
    free(deep);
    free(big);
}

/* ---- the client's address behind a trusted proxy ----------------------- */

static long long a_patient(const char *doctor)
{
    char id[19], *unit = test_unit_id("429005003001G01");
    char *name = test_fmt("门前%s址", test_cn_unique());
    long long pid;

    test_new_id(id, 0, SUITE_SALT);
    pid = test_create_patient(doctor, NULL, name, id, unit,
                              ",\"diagnosis\":\"schizophrenia\",\"diagnosis_date\":\"2020-01-01\"");
    free(unit);
    free(name);
    return pid;
}

static long read_records_from(long long pid, const char *rid, const char *addr)
{
    char idtxt[32];
    const char *p[] = {idtxt, rid, addr};

    snprintf(idtxt, sizeof(idtxt), "%lld", pid);
    return db_count_until("SELECT count(*) FROM audit_log WHERE action = 'patient.read'"
                          " AND target_id = $1 AND request_id = $2 AND client_addr = $3",
                          3, p, 1);
}

/* The test server trusts loopback's 127.0.0.1 only (the default): what
 * it forwards for is recorded; anyone else's X-Forwarded-For is not. */
static void forwarded_for_only_from_a_trusted_proxy(void **state)
{
    char *doctor = http_login("tf.doctor", NULL);
    long long pid = a_patient(doctor);
    char *path = test_fmt("/api/v1/patients/%lld", pid);
    char rid[64], *hdr, *req, *ans;
    http_res *r;
    bool closed;

    (void)state;
    /* Through the proxy (127.0.0.1): the right-most address it did not add. */
    snprintf(rid, sizeof(rid), "xff-trusted-%s", test_unique());
    hdr = test_fmt("X-Request-Id: %s\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.23", rid);
    r = http_do("GET", path, doctor, NULL, hdr);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(hdr);
    assert_int_equal(read_records_from(pid, rid, "198.51.100.23"), 1);

    /* Straight from 127.0.0.2, not a proxy: its claim is ignored. */
    snprintf(rid, sizeof(rid), "xff-spoofed-%s", test_unique());
    req = test_fmt("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "X-Request-Id: %s\r\nX-Forwarded-For: 198.51.100.99\r\n"
                   "Connection: close\r\n\r\n",
                   path, doctor, rid);
    ans = exchange("127.0.0.2", server_port(), req, strlen(req), 10, &closed);
    assert_int_equal(strncmp(ans, "HTTP/1.1 200 ", 13), 0);
    assert_int_equal(read_records_from(pid, rid, "127.0.0.2"), 1);
    {
        const char *p[] = {rid};
        assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE request_id = $1"
                                  " AND client_addr = '198.51.100.99'",
                                  1, p),
                         0);
    }
    free(ans);
    free(req);
    free(path);
    free(doctor);
}

/* ---- slow connections ---------------------------------------------------- */

/* A second server: 24 threads, at most 4 connections an address, and a
 * request timeout (20 s) longer than the test waits, so what frees the
 * threads is the cap and nothing else. */
static const char *const capped_env[] = {"JF_THREADS=24", "JF_MAX_CONN_PER_IP=4",
                                         "JF_REQUEST_TIMEOUT_MS=20000", "JF_DB_PIPELINES=0", NULL};

/* 200 connections that send half a request line and stall, from nsrc
 * addresses 127.0.0.(first+i), none used before (the server may not have
 * closed an earlier flood's yet). Another client (127.0.0.3) must still be
 * answered, well before the slow ones' 20 s timeout; and the server must
 * have refused all but 4 an address, and kept those 4 open. */
static void slow_flood(int port, int first, int nsrc)
{
    enum { N = 200 };
    static const char partial[] = "GET /healthz HT";
    struct pollfd fds[N];
    char src[32];
    int refused = 0;
    bool closed;

    for (int i = 0; i < N; i++) {
        snprintf(src, sizeof(src), "127.0.0.%d", first + i % nsrc);
        fds[i].fd = dial(src, port);
        fds[i].events = POLLIN;
        assert_true(fds[i].fd >= 0);
        (void)send(fds[i].fd, partial, sizeof(partial) - 1, MSG_NOSIGNAL);
    }
    const char *get = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *ans = exchange("127.0.0.3", port, get, strlen(get), 15, &closed);
    if (strncmp(ans, "HTTP/1.1 200 ", 13) != 0)
        fail_msg("with %d slow connections from %d address(es), another client got: %.200s", N,
                 nsrc, ans);
    free(ans);
    /* The refused are closed by now or soon; the admitted stay open. */
    for (int round = 0; round < 100 && refused < N - 4 * nsrc; round++) {
        if (poll(fds, N, 100) < 0)
            break;
        for (int i = 0; i < N; i++) {
            char buf[512];
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = recv(fds[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (got > 0)
                assert_int_equal(strncmp(buf, "HTTP/1.1 503 ", 13), 0);
            else if (got < 0 && errno != ECONNRESET)
                continue;
            close(fds[i].fd);
            fds[i].fd = -1;
            refused++;
        }
    }
    if (refused != N - 4 * nsrc)
        fail_msg("%d of %d slow connections refused from %d address(es), want %d", refused, N, nsrc,
                 N - 4 * nsrc);
    assert_true(poll(fds, N, 0) >= 0);
    for (int i = 0; i < N; i++) {
        if (fds[i].fd < 0)
            continue;
        if (fds[i].revents != 0)
            fail_msg("an admitted slow connection was closed too");
        close(fds[i].fd);
    }
}

static void slow_connections_do_not_block_others(void **state)
{
    int port = server_port() + 19;
    pid_t child = test_server_start(port, capped_env);

    (void)state;
    slow_flood(port, 10, 1);
    slow_flood(port, 20, 4);
    test_server_stop(child);
}

/* The main server (default timeout): a request whose headers never end is
 * closed long before the former 30 s. */
static void headers_must_arrive_in_time(void **state)
{
    const char *partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    bool closed;
    char *ans = exchange("127.0.0.4", server_port(), partial, strlen(partial), 20, &closed);

    (void)state;
    assert_true(closed);
    free(ans);
}

/* The header block stays capped (civetweb's max_request_size). */
static void huge_headers_refused(void **state)
{
    char *big = malloc(40000);
    char *req;
    bool closed;

    (void)state;
    memset(big, 'a', 39999);
    big[39999] = '\0';
    req = test_fmt("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big);
    char *ans = exchange("127.0.0.1", server_port(), req, strlen(req), 10, &closed);
    assert_null(strstr(ans, "HTTP/1.1 200"));
    assert_true(closed);
    free(ans);
    free(req);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ambiguous_framing_is_400_and_closed),
        cmocka_unit_test(bad_text_in_every_query_parameter),
        cmocka_unit_test(bad_text_in_every_header),
        cmocka_unit_test(nul_in_json_string),
        cmocka_unit_test(body_caps_on_every_route),
        cmocka_unit_test(forwarded_for_only_from_a_trusted_proxy),
        cmocka_unit_test(huge_headers_refused),
        cmocka_unit_test(headers_must_arrive_in_time),
        cmocka_unit_test(slow_connections_do_not_block_others),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
