/* libcurl + libpq helpers for the HTTP-level suites. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>

struct sink {
    char *p;
    size_t n;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t len = size * nmemb;
    char *np = realloc(s->p, s->n + len + 1);

    if (np == NULL)
        return 0;
    memcpy(np + s->n, data, len);
    s->n += len;
    np[s->n] = '\0';
    s->p = np;
    return len;
}

struct src {
    const char *p;
    size_t left;
};

static size_t src_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct src *s = ud;
    size_t n = size * nmemb < s->left ? size * nmemb : s->left;

    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    return n;
}

static const char *base_url(void)
{
    const char *u = getenv("JF_TEST_URL");

    if (u == NULL) {
        fprintf(stderr, "JF_TEST_URL is not set: run through scripts/test\n");
        exit(1);
    }
    return u;
}

/* The address this thread's requests leave from ("" : the default). */
static __thread char source_addr[64];

void http_source(const char *addr)
{
    snprintf(source_addr, sizeof(source_addr), "%s", addr ? addr : "");
}

/* Every request of the suites goes through here. */
static http_res *perform(const char *method, const char *path, const char *token,
                         const char *ctype, const char *body, size_t len, int chunked,
                         const char *headers)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct sink b = {0}, hd = {0};
    struct src s = {body, len};
    char url[2048], line[8192];
    http_res *r = calloc(1, sizeof(*r));
    CURLcode cc;

    assert_non_null(c);
    snprintf(url, sizeof(url), "%s%s", base_url(), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (source_addr[0] != '\0') {
        snprintf(line, sizeof(line), "host!%s", source_addr);
        curl_easy_setopt(c, CURLOPT_INTERFACE, line);
    }
    if (token != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
    }
    if (ctype != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, src_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &s);
        if (chunked)
            h = curl_slist_append(h, "Transfer-Encoding: chunked");
        else
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    }
    for (const char *p = headers; p != NULL && *p;) {
        size_t n = strcspn(p, "\r\n");
        if (n > 0 && n < sizeof(line)) {
            memcpy(line, p, n);
            line[n] = '\0';
            h = curl_slist_append(h, line);
        }
        p += n;
        p += strspn(p, "\r\n");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = b.p ? b.p : strdup("");
    r->headers = hd.p ? hd.p : strdup("");
    r->json = json_loads(r->body, 0, NULL);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

http_res *http_raw(const char *method, const char *path, const char *token, const char *ctype,
                   const char *body, size_t len, int chunked)
{
    return perform(method, path, token, ctype, body, len, chunked, NULL);
}

http_res *http_do(const char *method, const char *path, const char *token, const char *body,
                  const char *headers)
{
    return perform(method, path, token, body ? "application/json" : NULL, body,
                   body ? strlen(body) : 0, 0, headers);
}

void http_free(http_res *r)
{
    if (r == NULL)
        return;
    json_decref(r->json);
    free(r->body);
    free(r->headers);
    free(r);
}

const char *http_header(const http_res *r, const char *name)
{
    static __thread char value[1024];
    size_t nl = strlen(name);
    const char *p = r->headers;

    while (p && *p) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t n;
            while (*v == ' ')
                v++;
            n = strcspn(v, "\r\n");
            if (n >= sizeof(value))
                n = sizeof(value) - 1;
            memcpy(value, v, n);
            value[n] = '\0';
            return value;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

const char *http_str(const http_res *r, const char *field)
{
    return json_string_value(json_object_get(r->json, field));
}

void http_assert_problem(const http_res *r, long status, const char *field)
{
    const char *ct = http_header(r, "Content-Type");
    json_t *errors;
    size_t i;
    json_t *e;
    int found = 0;

    if (r->status != status)
        fail_msg("expected status %ld, got %ld: %s", status, r->status, r->body);
    assert_non_null(ct);
    assert_string_equal(ct, "application/problem+json");
    assert_non_null(r->json);
    assert_non_null(http_str(r, "type"));
    assert_non_null(http_str(r, "title"));
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_non_null(http_str(r, "request_id"));
    errors = json_object_get(r->json, "errors");
    assert_true(json_is_array(errors));
    if (field == NULL)
        return;
    json_array_foreach(errors, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (f && strcmp(f, field) == 0)
            found = 1;
    }
    if (!found)
        fail_msg("problem does not name field '%s': %s", field, r->body);
}

const char *test_demo_password(void)
{
    const char *p = getenv("JF_DEMO_PASSWORD");

    return p ? p : "Jingfang@2026";
}

const char *test_unique(void)
{
    static char buf[32];

    if (buf[0] == '\0')
        snprintf(buf, sizeof(buf), "%ld%d", (long)time(NULL) % 100000, (int)getpid() % 1000);
    return buf;
}

char *http_login(const char *username, const char *password)
{
    char body[512];
    http_res *r;
    char *token;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", username,
             password ? password : test_demo_password());
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    if (r->status != 200)
        fail_msg("login %s: %ld %s", username, r->status, r->body);
    token = strdup(http_str(r, "access_token"));
    http_free(r);
    return token;
}

static PGconn *db(void)
{
    static PGconn *pg;

    if (pg == NULL) {
        /* Fixtures are set up as the owner of the tables: the service's
         * own role (JF_TEST_DB) may not change most of what they change. */
        const char *url = getenv("JF_TEST_DB_OWNER") ? getenv("JF_TEST_DB_OWNER") : getenv("JF_TEST_DB");
        pg = PQconnectdb(url ? url : "");
        if (PQstatus(pg) != CONNECTION_OK) {
            fprintf(stderr, "JF_TEST_DB_OWNER: %s", PQerrorMessage(pg));
            exit(1);
        }
    }
    return pg;
}

char *db_scalar(const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(db(), sql, n, NULL, params, NULL, NULL, 0);
    char *v = NULL;

    if (PQstatus(db()) == CONNECTION_BAD) { /* PostgreSQL restarted by a test */
        PQclear(r);
        PQreset(db());
        r = PQexecParams(db(), sql, n, NULL, params, NULL, NULL, 0);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s: %s", sql, PQerrorMessage(db()));
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

long db_count(const char *sql, int n, const char *const *params)
{
    char *v = db_scalar(sql, n, params);
    long c = v ? strtol(v, NULL, 10) : -1;

    free(v);
    return c;
}

void test_audit_settle(void)
{
    usleep(700 * 1000); /* three flush intervals and some */
}

long db_count_until(const char *sql, int n, const char *const *params, long want)
{
    long c = -1;

    for (int i = 0; i < 100 && (c = db_count(sql, n, params)) != want; i++)
        usleep(50 * 1000);
    return c;
}

int db_try(const char *sql)
{
    PGresult *r = PQexec(db(), sql);
    ExecStatusType st = PQresultStatus(r);

    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* ---- routes and further servers ------------------------------------------ */

size_t test_routes(test_route *out, size_t max)
{
    const char *bin = getenv("JF_TEST_API_BIN");
    char cmd[4096];
    size_t n = 0;
    FILE *f;

    assert_non_null(bin);
    snprintf(cmd, sizeof(cmd), "%s routes", bin);
    f = popen(cmd, "r");
    assert_non_null(f);
    while (n < max && fscanf(f, "%15s %255s", out[n].method, out[n].path) == 2)
        n++;
    pclose(f);
    assert_true(n >= 15);
    return n;
}

/* Wait up to 20 s for something to accept connections on 127.0.0.1:port. */
static bool listening(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 400; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

pid_t test_server_start(int port, const char *const *env)
{
    const char *bin = getenv("JF_TEST_API_BIN");
    char listen[64];
    pid_t child;

    assert_non_null(bin);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        setenv("JF_LISTEN", listen, 1);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            if (putenv((char *)env[i]) != 0)
                _exit(125);
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    if (!listening(port)) {
        kill(child, SIGKILL);
        fail_msg("the second server did not start on %s", listen);
    }
    return child;
}

void test_server_stop(pid_t pid)
{
    int st = 0;

    assert_int_equal(kill(pid, SIGTERM), 0);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- fixtures shared by the suites --------------------------------------- */

char *test_fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    assert_non_null(s);
    return s;
}

char test_check_char(const char *d17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int s = 0;

    for (int i = 0; i < 17; i++)
        s += (d17[i] - '0') * w[i];
    return "10X98765432"[s % 11];
}

int test_id_registered(const char *id18)
{
    const char *key = getenv("JF_ID_INDEX_KEY");
    unsigned char k[32], mac[32];
    unsigned ml = 0;
    char hex[65];
    const char *p[1] = {hex};

    if (key == NULL || strlen(key) != 64)
        return 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(key + 2 * i, "%2x", &v);
        k[i] = (unsigned char)v;
    }
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)id18, 18, mac, &ml);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return db_count("SELECT count(*) FROM patients WHERE id_index = decode($1, 'hex')", 1, p) > 0;
}

void test_new_id(char out[19], int male, int salt)
{
    static unsigned counter;
    unsigned long u = strtoul(test_unique(), NULL, 10);

    for (;;) {
        unsigned long n = (u % 20000) * 1000 + salt * 300 + counter++;
        time_t t = (time_t)-946771200 + (time_t)((n / 1000) % 20000) * 86400; /* 1940-01-01 */
        unsigned seq = (unsigned)(n % 1000);
        struct tm tm;
        char d17[64];

        if (male >= 0 && (int)(seq % 2) != male)
            continue;
        gmtime_r(&t, &tm);
        snprintf(d17, sizeof(d17), "429005%04d%02d%02d%03u", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, seq);
        memcpy(out, d17, 17);
        out[17] = test_check_char(out);
        out[18] = '\0';
        if (!test_id_registered(out))
            return;
    }
}

char *test_unit_id(const char *code)
{
    const char *p[] = {code};
    char *id = db_scalar("SELECT id FROM org_units WHERE code = $1", 1, p);

    assert_non_null(id);
    return id;
}

char *test_agency_id(const char *name)
{
    const char *p[] = {name};
    char *id = db_scalar("SELECT id FROM agencies WHERE name = $1", 1, p);

    assert_non_null(id);
    return id;
}

long long test_jint(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

const char *test_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int test_jhas(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

const char *test_cn_unique(void)
{
    static const char *const cn[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    static char buf[64];

    if (buf[0] == '\0') {
        for (const char *d = test_unique(); *d; d++) {
            size_t n = strlen(buf);
            snprintf(buf + n, sizeof(buf) - n, "%s", cn[*d - '0']);
        }
    }
    return buf;
}

http_res *test_call_h(const char *date, const char *method, const char *path, const char *token,
                      const char *body, const char *more)
{
    char *hdr = NULL;
    http_res *r;

    if (date != NULL && more != NULL)
        hdr = test_fmt("X-Test-Date: %s\r\n%s", date, more);
    else if (date != NULL)
        hdr = test_fmt("X-Test-Date: %s", date);
    else if (more != NULL)
        hdr = test_fmt("%s", more);
    r = http_do(method, path, token, body, hdr);
    free(hdr);
    return r;
}

http_res *test_post_keyed(const char *token, long long pid, const char *what, const char *key,
                          const char *body, const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/%s", pid, what);
    char *hdr = test_fmt("Idempotency-Key: %s", key);
    http_res *r = test_call_h(date, "POST", path, token, body, hdr);

    free(hdr);
    free(path);
    return r;
}

http_res *test_call(const char *date, const char *method, const char *path, const char *token,
                    const char *body)
{
    return test_call_h(date, method, path, token, body, NULL);
}

http_res *test_expect(long status, const char *date, const char *method, const char *token,
                      char *path, const char *body)
{
    http_res *r = test_call(date, method, path, token, body);

    if (r->status != status)
        fail_msg("%s %s: expected %ld, got %ld %s", method, path, status, r->status, r->body);
    free(path);
    return r;
}

void test_refused(long status, const char *field, const char *date, const char *method,
                  const char *token, char *path, const char *body)
{
    http_res *r = test_call(date, method, path, token, body);

    if (r->status != status)
        fail_msg("%s %s %s: expected %ld, got %ld %s", method, path, body ? body : "", status,
                 r->status, r->body);
    http_assert_problem(r, status, field);
    http_free(r);
    free(path);
}

long db_count_id(const char *sql, long long id)
{
    char idtxt[32];
    const char *p[] = {idtxt};

    snprintf(idtxt, sizeof(idtxt), "%lld", id);
    return db_count(sql, 1, p);
}

long long test_create_patient(const char *token, const char *date, const char *name,
                              const char *id18, const char *unit, const char *extra)
{
    char *body = test_fmt("{\"name\":\"%s\",\"id_number\":\"%s\",\"org_unit_id\":%s%s}", name, id18,
                          unit, extra ? extra : "");
    http_res *r = test_call(date, "POST", "/api/v1/patients", token, body);
    long long pid;

    if (r->status != 201)
        fail_msg("create %s: %ld %s", name, r->status, r->body);
    pid = test_jint(r->json, "id");
    http_free(r);
    free(body);
    return pid;
}

long long test_patient(const char *token, const char *date, const char *prefix, const char *tag,
                       const char *unit, int salt, const char *extra, char id18[19])
{
    char id[19], *name = test_fmt("%s%s%s", prefix, test_cn_unique(), tag);
    long long pid;

    test_new_id(id, -1, salt);
    pid = test_create_patient(token, date, name, id, unit, extra);
    if (id18 != NULL)
        memcpy(id18, id, sizeof(id));
    free(name);
    return pid;
}

void test_stable_visit(const char *token, long long pid, const char *date)
{
    char *path = test_fmt("/api/v1/patients/%lld/follow-ups", pid);
    char *body = test_fmt(TEST_STABLE_VISIT, date);
    http_res *r = test_call(date, "POST", path, token, body);

    if (r->status != 201)
        fail_msg("follow-up %s: expected 201, got %ld %s", date, r->status, r->body);
    http_free(r);
    free(body);
    free(path);
}
