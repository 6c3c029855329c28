/* civetweb glue and the per-request pipeline. */
#include "server.h"
#include "connlimit.h"
#include "metrics.h"
#include "response.h"
#include "router.h"
#include "static.h"
#include "validate.h"
#include "../auth/scope.h"
#include "../auth/token.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../db/replica.h"
#include "../domain/date.h"

#include <civetweb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQUEST_ARENA_CAP (16u * 1024 * 1024)
#define RESP_HEADERS_CAP 4096

struct jf_server {
    struct mg_context *ctx;
    jf_connlimit *connlimit;
};

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* splitmix64's finaliser: a bijection on 64-bit values. */
static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static struct {
    pthread_once_t once;
    uint64_t key;          /* random, per process */
    unsigned char inst[4]; /* random, per process: tells replicas apart */
    _Atomic uint64_t seq;
} ids = {.once = PTHREAD_ONCE_INIT};

static void ids_init(void)
{
    unsigned char r[12] = {0};

    (void)jf_crypto_random(r, sizeof(r));
    memcpy(&ids.key, r, 8);
    memcpy(ids.inst, r + 8, 4);
}

/* Keep a caller's (or nginx's) request id when it is short and plain;
 * otherwise make one: 4 random bytes of this process, then a counter mixed
 * with a random key (a bijection, so distinct for every request of the
 * process). Ids are not secrets: drawing 12 bytes from the CSPRNG for each
 * request cost a getpid call and 2 % of the CPU. */
static void set_request_id(jf_req *req)
{
    const char *h = jf_req_header(req, "X-Request-Id");
    unsigned char raw[12];
    size_t n = h ? strlen(h) : 0;
    uint64_t x;

    if (n > 0 && n <= JF_REQUEST_ID_MAX &&
        strspn(h, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789-_.") == n) {
        memcpy(req->request_id, h, n + 1);
        return;
    }
    pthread_once(&ids.once, ids_init);
    x = mix64(atomic_fetch_add(&ids.seq, 1) ^ ids.key);
    memcpy(raw, ids.inst, 4);
    memcpy(raw + 4, &x, 8);
    jf_crypto_hex(raw, sizeof(raw), req->request_id);
}

/* The caller's address (jf_req_remote): X-Forwarded-For is believed only
 * from a trusted proxy. Repeated headers form one list, in order. */
static void set_client(jf_req *req)
{
    const struct mg_request_info *ri = req->ri;
    jf_buf xff;

    jf_buf_init(&xff, 16384); /* civetweb's max_request_size bounds it anyway */
    for (int i = 0; i < ri->num_headers; i++)
        if (strcasecmp(ri->http_headers[i].name, "X-Forwarded-For") == 0 &&
            jf_buf_printf(&xff, "%s%s", xff.len ? "," : "", ri->http_headers[i].value) != 0)
            jf_buf_reset(&xff);
    jf_netaddr_client(&req->app->cfg.trusted_nets, ri->remote_addr, xff.len ? xff.data : NULL,
                      req->client);
    jf_buf_free(&xff);
}

/* RFC 9112 §6.3: a message with both Content-Length and Transfer-Encoding,
 * a transfer coding other than chunked, or Content-Lengths that disagree
 * cannot be framed safely (request smuggling through a proxy that reads it
 * otherwise): 400, and the connection is closed. */
static int check_framing(jf_req *req)
{
    const struct mg_request_info *ri = req->ri;
    const char *cl = NULL, *te = NULL, *field = NULL, *why = NULL;
    int nte = 0;

    for (int i = 0; i < ri->num_headers && why == NULL; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        if (strcasecmp(name, "Content-Length") == 0) {
            field = "Content-Length";
            if (*value == '\0' || strspn(value, "0123456789") != strlen(value))
                why = "must be a decimal number";
            else if (cl != NULL && strcmp(cl, value) != 0)
                why = "is given twice with different values";
            cl = value;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            te = value;
            nte++;
        }
    }
    if (why == NULL && te != NULL) {
        field = "Transfer-Encoding";
        if (cl != NULL)
            why = "must not come with Content-Length";
        else if (nte > 1 || strcasecmp(te, "chunked") != 0)
            why = "only chunked is accepted";
    }
    if (why == NULL)
        return 0;
    mg_disable_connection_keep_alive(req->conn);
    jf_resp_header(req, "Connection", "close");
    jf_resp_problem(req, 400, "malformed-request", "Malformed request",
                    "the request's length cannot be determined safely", field, why);
    return JF_ERR_INVALID;
}

/* The headers the server reads (besides X-Request-Id, replaced when odd,
 * and X-Forwarded-For, whose odd entries are skipped) must be UTF-8 text:
 * they reach SQL, the audit log and error messages. */
static int check_headers(jf_req *req)
{
    static const char *const read[] = {"Authorization", "Content-Type", "Idempotency-Key",
                                       "If-Match", "X-Test-Date"};
    const struct mg_request_info *ri = req->ri;

    /* Every copy of a header: which one a reader takes is civetweb's choice. */
    for (int h = 0; h < ri->num_headers; h++) {
        for (size_t i = 0; i < sizeof(read) / sizeof(read[0]); i++) {
            if (strcasecmp(ri->http_headers[h].name, read[i]) == 0 &&
                !jf_text_ok(ri->http_headers[h].value)) {
                jf_resp_problem(req, 400, "validation", "Validation failed",
                                "a header is not valid text", read[i],
                                "must be UTF-8 text without control characters");
                return JF_ERR_INVALID;
            }
        }
    }
    return 0;
}

static int authenticate(jf_req *req)
{
    const char *h = jf_req_header(req, "Authorization");
    const char *why = "missing bearer token";

    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
        if (jf_token_verify_cached(&req->app->cfg, h + 7, time(NULL), &req->claims, &why) == 0) {
            req->authenticated = true;
            return 0;
        }
    }
    jf_resp_header(req, "WWW-Authenticate", "Bearer realm=\"jingfang\"");
    jf_resp_problem(req, 401, "unauthorized", "Unauthorized", why, "Authorization", why);
    return JF_ERR_AUTH;
}

static void access_log(const jf_req *req, const char *route, double secs)
{
    jf_buf b;
    char ts[40];

    /* The query string is left out on purpose: it may carry ID numbers. */
    jf_log_timestamp(ts, sizeof(ts));
    jf_buf_init(&b, 4096);
    if (jf_buf_printf(&b,
                      "{\"ts\":\"%s\",\"level\":\"info\",\"event\":\"access\","
                      "\"request_id\":\"%s\",\"method\":",
                      ts, req->request_id) == 0 &&
        jf_buf_json_str(&b, req->method) == 0 && jf_buf_puts(&b, ",\"path\":") == 0 &&
        jf_buf_json_str(&b, req->path) == 0 && jf_buf_puts(&b, ",\"route\":") == 0 &&
        jf_buf_json_str(&b, route) == 0 &&
        jf_buf_printf(&b,
                      ",\"status\":%d,\"ms\":%.3f,\"bytes\":%zu,\"user_id\":%lld,"
                      "\"remote\":\"%s\"}",
                      req->status, secs * 1000.0, req->resp_bytes,
                      req->authenticated ? req->claims.user_id : 0, req->client) == 0)
        jf_log_line(b.data, b.len);
    jf_buf_free(&b);
}

/* Tests play a patient's history through time: with JF_TEST_CLOCK=1 the
 * X-Test-Date header sets "today" for this request only. */
static int apply_test_clock(jf_req *req)
{
    const char *h;
    jf_date d;

    if (!req->app->cfg.test_clock || (h = jf_req_header(req, "X-Test-Date")) == NULL)
        return 0;
    if (jf_date_parse(h, &d) != 0) {
        jf_resp_problem(req, 400, "validation", "Validation failed", "X-Test-Date is malformed",
                        "X-Test-Date", "must be YYYY-MM-DD");
        return -1;
    }
    jf_date_set_today(d);
    return 0;
}

static void dispatch(jf_req *req)
{
    const jf_route *route;
    bool path_known = false, wrote;
    int rc;

    if (check_framing(req) != 0 || check_headers(req) != 0)
        return;
    route = jf_router_match(req->method, req->path, req, &path_known);
    if (route == NULL) {
        if (path_known)
            jf_resp_problem(req, 405, "method-not-allowed", "Method not allowed",
                            "this path does not accept that method", NULL, NULL);
        else if (!jf_static_serve(req))
            jf_resp_not_found(req);
        return;
    }
    req->route = route;
    if (jf_req_parse_query(req, req->ri->query_string) != 0 || apply_test_clock(req) != 0)
        return;
    if ((route->flags & JF_ROUTE_AUTH) && authenticate(req) != 0)
        return;
    if (route->cap != 0 && !jf_role_has(jf_role_parse(req->claims.role), (jf_cap)route->cap)) {
        jf_resp_forbidden(req, "your role may not do this");
        return;
    }
    /* Whatever a write does, its author's next reads see it (replica.h):
     * marked before, as the answer may reach the client (and its next read
     * another thread) before this one returns, and after, as a long write
     * may commit after the first mark's window. */
    wrote = req->app->replica != NULL && req->authenticated && strcmp(req->method, "GET") != 0 &&
            strcmp(req->method, "HEAD") != 0;
    if (wrote)
        jf_db_replica_wrote(req->app->replica, req->claims.user_id);
    rc = route->fn(req);
    jf_req_db_settle(req, rc);
    jf_req_db_release(req);
    if (wrote)
        jf_db_replica_wrote(req->app->replica, req->claims.user_id);
    /* A 503 is the database down or busy: the pool logs that, once per
     * outage rather than once per request. */
    if (rc != 0 && rc != JF_ERR_INVALID && rc != JF_ERR_UNAVAILABLE && req->status >= 500)
        jf_log_error("request_failed", "request %s %s failed: %s", req->method, route->pattern,
                     jf_err_str(rc));
}

static int on_request(struct mg_connection *conn)
{
    jf_req req;
    const jf_route *route;

    memset(&req, 0, sizeof(req));
    clock_gettime(CLOCK_MONOTONIC, &req.started);
    req.conn = conn;
    req.ri = mg_get_request_info(conn);
    req.app = req.ri->user_data;
    req.method = req.ri->request_method;
    req.path = req.ri->local_uri ? req.ri->local_uri : "";
    jf_arena_init(&req.arena, REQUEST_ARENA_CAP);
    jf_buf_init(&req.resp_headers, RESP_HEADERS_CAP);
    jf_buf_init(&req.stream, 0);
    set_request_id(&req);
    set_client(&req);

    dispatch(&req);
    jf_date_set_today(JF_DATE_NONE);

    route = req.route;
    double secs = elapsed_s(&req.started);
    jf_metrics_observe(route ? jf_router_index(route) : JF_MAX_ROUTES, req.status, secs);
    access_log(&req, route ? route->pattern : "unmatched", secs);

    json_decref(req.body);
    jf_buf_free(&req.resp_headers);
    jf_buf_free(&req.stream);
    jf_arena_free(&req.arena);
    /* 1: handled. A status code here makes civetweb close the connection:
     * not wanted after a 401 (keep-alive clients), but needed after a
     * streamed body cut short, whose client would wait for the rest. */
    return req.stream_open ? 500 : 1;
}

static int on_connection(const struct mg_connection *conn, void **conn_data)
{
    jf_app *app = mg_get_user_data(mg_get_context(conn));

    *conn_data = NULL;
    jf_connlimit_admit(app->connlimit);
    return 0;
}

static void on_close(const struct mg_connection *conn)
{
    jf_app *app = mg_get_user_data(mg_get_context(conn));

    jf_connlimit_release(app->connlimit);
}

/* Errors civetweb answers itself, before a request reaches on_request (a
 * control character in a header, a header block over max_request_size, a
 * request line it cannot parse): problem+json like every other answer. */
static int on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    const char *title = mg_get_response_code_text(conn, status);
    char body[512];
    int n;

    (void)errmsg; /* may quote the request: not reflected */
    n = snprintf(body, sizeof(body),
                 "{\"type\":\"https://jingfang.example/problems/malformed-request\","
                 "\"title\":\"%s\",\"status\":%d,"
                 "\"detail\":\"the request could not be parsed\",\"errors\":[]}",
                 title, status);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
              "Content-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
              status, title, n, body);
    return 0;
}

static int on_log(const struct mg_connection *conn, const char *message)
{
    jf_log_warn("civetweb", "%s", message);
    return 1;
}

int jf_server_start(jf_app *app, jf_server **out)
{
    struct mg_callbacks cb;
    struct mg_server_port ports[4];
    char threads[16], keepalive[16], timeout[16];
    int listening[4], n;
    jf_server *srv;
    const char *options[] = {
        "listening_ports",
        app->cfg.listen,
        "num_threads",
        threads,
        "enable_keep_alive",
        "yes",
        "keep_alive_timeout_ms",
        keepalive,
        "request_timeout_ms",
        timeout,
        "tcp_nodelay",
        "1",
        "max_request_size",
        "16384",
        "enable_directory_listing",
        "no",
        NULL,
    };

    snprintf(threads, sizeof(threads), "%ld", app->cfg.threads);
    snprintf(keepalive, sizeof(keepalive), "%ld", app->cfg.keepalive_ms);
    snprintf(timeout, sizeof(timeout), "%ld", app->cfg.request_timeout_ms);
    memset(&cb, 0, sizeof(cb));
    cb.begin_request = on_request;
    cb.log_message = on_log;
    cb.init_connection = on_connection;
    cb.connection_close = on_close;
    cb.http_error = on_http_error;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL || jf_connlimit_create(&srv->connlimit, app->cfg.max_conn_per_ip,
                                           &app->cfg.trusted_nets) != 0) {
        free(srv);
        return JF_ERR_NOMEM;
    }
    app->connlimit = srv->connlimit;
    srv->ctx = mg_start(&cb, app, options);
    if (srv->ctx == NULL) {
        jf_connlimit_destroy(srv->connlimit);
        free(srv);
        return JF_ERR_IO;
    }
    n = mg_get_server_ports(srv->ctx, 4, ports);
    for (int i = 0; i < n; i++)
        listening[i] = ports[i].port;
    jf_connlimit_listen(srv->connlimit, listening, n > 0 ? n : 0);
    *out = srv;
    return 0;
}

void jf_server_stop(jf_server *srv)
{
    if (srv == NULL)
        return;
    mg_stop(srv->ctx);
    jf_connlimit_destroy(srv->connlimit);
    free(srv);
}
