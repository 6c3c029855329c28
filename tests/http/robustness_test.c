/* HTTP suite: robustness. Every registered route, as several roles, with
 * no token and with a garbage one, gets a bounded, seeded (deterministic)
 * stream of hostile requests: odd path parameters, random query strings,
 * malformed and adversarial JSON bodies (wrong types for every field name
 * the API reads, deep nesting, huge numbers and strings, control
 * characters, invalid UTF-8, truncated documents, duplicate keys) and odd
 * headers. Every answer must be 2xx, 4xx as problem+json (as an
 * OperationOutcome on the FHIR view), or 503; never a
 * 500 or another 5xx. The server must still be healthy afterwards and
 * /metrics must count no 5xx (other than 503) for any route.
 *
 * Writes are kept harmless: methods other than GET only ever get path
 * parameters that name nothing, so no demo row is changed, and the bodies
 * are built to be invalid (or, on the few create routes, cannot pass the
 * required-fields check). The request count is bounded (ROUNDS per token
 * per route). */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ROUTES 256
#define ROUNDS 12 /* per route and token: 7 tokens -> 84 requests a route */
#define MAX_FAILS 400

/* ---- deterministic PRNG (xorshift64*) ---------------------------------- */

static uint64_t rng_state = 0x6a696e6766616e67ull; /* "jingfang" */

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static size_t pick(size_t n)
{
    return (size_t)(rnd() % n);
}

#define PICK(a) ((a)[pick(sizeof(a) / sizeof((a)[0]))])

/* ---- a growable string ------------------------------------------------- */

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void sb_add(sb *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void sb_puts(sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_rep(sb *b, const char *s, size_t times)
{
    for (size_t i = 0; i < times; i++)
        sb_puts(b, s);
}

static void sb_printf(sb *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *f, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, f);
    vsnprintf(tmp, sizeof(tmp), f, ap);
    va_end(ap);
    sb_puts(b, tmp);
}

/* ---- the inputs -------------------------------------------------------- */

/* Every body member name the resources read, plus a few that none does. */
static const char *const fields[] = {
    "active",
    "address",
    "admitted_on",
    "agency_id",
    "agreement_signed_on",
    "birth_date",
    "body",
    "class",
    "class_override",
    "compliance",
    "consent",
    "consent_date",
    "cursor",
    "dangerous_acts",
    "date",
    "death_cause",
    "diagnosis",
    "diagnosis_date",
    "direction",
    "discharged_on",
    "display_name",
    "doctor_id",
    "dose_mg",
    "drug",
    "ended_on",
    "every_weeks",
    "format",
    "from",
    "gender",
    "grant_type",
    "guardians",
    "id_number",
    "insight",
    "interval_months",
    "items",
    "joint",
    "kind",
    "list_date",
    "long_acting",
    "medications",
    "name",
    "onset_date",
    "org_unit_id",
    "password",
    "period",
    "phone",
    "prescription_id",
    "reason",
    "responsibility_notice_on",
    "risk_level",
    "role",
    "secret",
    "settings",
    "social_function",
    "state",
    "status",
    "tiers",
    "to",
    "to_org_unit_id",
    "unreached_reason",
    "url",
    "user_id",
    "username",
    "within_days",
    "visit_date",
    "mode",
    "reached",
    "refresh_token",
    "client_id",
    "client_secret",
    "events",
    "relationship",
    "updated_at",
    "id",
    "__proto__",
    "",
    "a\"b",
    "精防",
};

/* Path parameter values (already URL-safe: escapes are deliberate). */
static const char *const path_values[] = {
    "0",
    "-1",
    "99999999999999999999",
    "abc",
    "%00",
    "..%2F..%2Fhealthz",
    "../",
    "..",
    "%2F",
    "%E7%B2%BE%E9%98%B2",
    "%F0%9F%98%80",
    "%FF%FE",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1.5",
    "1e3",
    "0x10",
    "%2B1",
    "%201",
    "00000000000000000001",
    "1%27--",
    "null",
    "true",
    "%25",
    "%zz",
    "%",
    "1;2",
    "1,2",
    "%0D%0AX-Injected:%201",
    "%C0%AF",
    "%ED%A0%80",
    "99999999",
};

static const char *const query_keys[] = {
    "limit",       "cursor",    "offset",     "q",     "status",    "from",        "to",
    "org_unit_id", "role",      "format",     "sort",  "date",      "within_days", "class",
    "tier",        "agency_id", "patient_id", "state", "direction", "kind",        "active",
    "name",        "id_number", "",           "%00",   "%E7%B2%BE", "a%5B%5D",
};

static const char *const query_values[] = {
    "",           "%00",
    "%zz",        "%",
    "-1",         "0",
    "1",          "99999999999999999999",
    "abc",        "%E7%B2%BE%E9%98%B2",
    "%FF",        "a%20b",
    "a+b",        "2024-13-45",
    "2024-02-30", "0000-00-00",
    "9999-12-31", "true",
    "null",       "%27%3B--",
    "1e308",      "NaN",
    "-0",         "%C3%28",
    "..%2F",      "eyJ4IjoxfQ",
    "%0A",
};

static const char *const str_values[] = {
    "",
    " ",
    "0",
    "-1",
    "abc",
    "2024-02-30",
    "2024-13-01",
    "0000-00-00",
    "9999-12-31",
    "-2024-01-01",
    "2024-1-1",
    "20240101",
    "2024-01-01T00:00:00Z",
    "NaN",
    "Infinity",
    "null",
    "true",
    "精防",
    "\\u0000",
    "\\u0001\\u001f\\u007f",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\udfff",
    "\\\\",
    "\\\"",
    "<script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "\\n\\r\\t",
    "https://",
    "http://127.0.0.1:1/x",
    "javascript:alert(1)",
    "99999999999999999999",
    "+8613800000000",
    "42900519900101001X",
    "１２３",
    "\\u202e",
};

static void gen_value(sb *b, int depth);

static void gen_string(sb *b)
{
    switch (pick(10)) {
    case 0: /* 1 KB */
        sb_puts(b, "\"");
        sb_rep(b, "x", 1024);
        sb_puts(b, "\"");
        break;
    case 1: /* 1 KB of CJK */
        sb_puts(b, "\"");
        sb_rep(b, "精", 342);
        sb_puts(b, "\"");
        break;
    case 2:
        if (pick(4) == 0) { /* 100 KB, now and then */
            sb_puts(b, "\"");
            sb_rep(b, "y", 100 * 1024);
            sb_puts(b, "\"");
            break;
        }
        /* fall through */
    default:
        sb_printf(b, "\"%s\"", PICK(str_values));
        break;
    }
}

static void gen_deep(sb *b, int arrays, int n)
{
    for (int i = 0; i < n; i++)
        sb_puts(b, arrays ? "[" : "{\"a\":");
    sb_puts(b, "1");
    for (int i = 0; i < n; i++)
        sb_puts(b, arrays ? "]" : "}");
}

static void gen_object(sb *b, int depth, size_t members)
{
    sb_puts(b, "{");
    for (size_t i = 0; i < members; i++) {
        if (i)
            sb_puts(b, ",");
        sb_printf(b, "\"%s\":", PICK(fields));
        gen_value(b, depth + 1);
    }
    sb_puts(b, "}");
}

static void gen_value(sb *b, int depth)
{
    static const char *const scalars[] = {
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1",
        "-0",
        "3.14",
        "1e308",
        "-1e308",
        "1e-400",
        "99999999999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "4294967296",
        "2147483648",
        "1.0",
        "0.0000001",
        "1E2",
    };

    switch (depth > 3 ? pick(3) : pick(9)) {
    case 0:
    case 1:
        sb_puts(b, PICK(scalars));
        break;
    case 2:
        gen_string(b);
        break;
    case 3:
        gen_deep(b, (int)pick(2), 100);
        break;
    case 4:
        sb_puts(b, pick(2) ? "[]" : "{}");
        break;
    case 5:
        sb_puts(b, "[");
        gen_value(b, depth + 1);
        sb_puts(b, ",");
        gen_value(b, depth + 1);
        sb_puts(b, "]");
        break;
    default:
        gen_object(b, depth, 1 + pick(3));
        break;
    }
}

/* A body; *raw set when it must go out as raw bytes (NUL inside, or an
 * odd Content-Type), and *len is its length. */
static void gen_body(sb *b, size_t *len)
{
    static const char *const broken[] = {
        "",
        " ",
        "{",
        "}",
        "[",
        "{\"a\":}",
        "{\"a\"}",
        "{\"a\":1,}",
        "{'a':1}",
        "nul",
        "tru",
        "NaN",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":-Infinity}",
        "{\"a\":01}",
        "{\"a\":.5}",
        "{\"a\":1.}",
        "{\"a\":0x10}",
        "{\"a\":+1}",
        "null",
        "true",
        "0",
        "[]",
        "[1,2]",
        "\"str\"",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"unterminated",
        "{\"a\":1}{\"b\":2}",
        "{\"a\":1} trailing",
        "\xef\xbb\xbf{}",
        "{\"a\":\"\t\"}",
        "{\"a\":1,\"a\":2}",
        "{\"name\":\"x\",\"name\":\"y\"}",
        "{\"a\":1e999}",
        "{\"a\":-1e999}",
        "{\"a\":123456789012345678901234567890}",
        "{/*c*/}",
        "{\"a\":[1,2,]}",
        "{\"\\u0000\":1}",
        "{\"a\":\"\\u0000\"}",
    };
    /* Invalid UTF-8, sent as they are. */
    static const char *const bad_utf8[] = {
        "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80",     "\xf8\x88\x80\x80\x80",
        "\x80",     "\xe7\xb2", "\xf4\x90\x80\x80", "\xfe",
    };

    switch (pick(12)) {
    case 0:
    case 1: { /* malformed or odd documents */
        const char *s = PICK(broken);
        sb_puts(b, s);
        break;
    }
    case 2: /* truncated: a random prefix of a generated object */
    {
        sb whole = {0};
        gen_object(&whole, 0, 1 + pick(4));
        sb_add(b, whole.p, whole.n > 1 ? 1 + pick(whole.n - 1) : whole.n);
        free(whole.p);
        break;
    }
    case 3: /* invalid UTF-8 in a key or a value */
        if (pick(2))
            sb_printf(b, "{\"%s\":\"a%sb\"}", PICK(fields), PICK(bad_utf8));
        else
            sb_printf(b, "{\"%s\":1}", PICK(bad_utf8));
        break;
    case 4: /* raw control characters and a NUL inside a string */
        sb_printf(b, "{\"%s\":\"a", PICK(fields));
        sb_add(b, "\x01\x1f\x00\x7f", 4);
        sb_puts(b, "b\"}");
        break;
    case 5: /* deep nesting at the top (deeper still: deep_nesting_is_400) */
    {
        static const int depths[] = {100, 300, 500};
        gen_deep(b, (int)pick(2), PICK(depths));
        break;
    }
    case 6: /* duplicate keys */
    {
        const char *f = PICK(fields);
        sb_printf(b, "{\"%s\":", f);
        gen_value(b, 1);
        sb_printf(b, ",\"%s\":", f);
        gen_value(b, 1);
        sb_puts(b, "}");
        break;
    }
    case 7: /* many members */
        gen_object(b, 2, 20 + pick(40));
        break;
    default: /* wrong types for plausible fields */
        gen_object(b, 0, 1 + pick(4));
        break;
    }
    *len = b->n;
}

/* Random extra header lines. */
static void gen_headers(sb *b)
{
    static const char *const if_match[] = {
        "If-Match: garbage",
        "If-Match: \"\"",
        "If-Match: *",
        "If-Match: W/\"1\"",
        "If-Match: \"99999999999999999999\"",
        "If-Match: \"-1\"",
        "If-Match: \"1\", \"2\"",
        "If-Match: \"精防\"",
        "If-Match;",
        "If-Match: \"abc",
    };
    static const char *const idem[] = {
        "Idempotency-Key;",    "Idempotency-Key: 精防-键", "Idempotency-Key: a",
        "Idempotency-Key: \t", "Idempotency-Key: ../../x", "Idempotency-Key: \xff\xfe",
    };
    static const char *const test_date[] = {
        "X-Test-Date: garbage",     "X-Test-Date: 2024-02-30",  "X-Test-Date: 9999-12-31",
        "X-Test-Date: 0000-00-00",  "X-Test-Date: 2024-1-1",    "X-Test-Date;",
        "X-Test-Date: -2024-01-01", "X-Test-Date: 99999-01-01", "X-Test-Date: 2024-01-01T00:00",
        "X-Test-Date: 0001-01-01",  "X-Test-Date: 2024-02-29",  "X-Test-Date: 1900-02-29",
    };
    static const char *const other[] = {
        "Content-Type: text/plain",
        "Content-Type: application/json; charset=latin1",
        "Accept: application/xml",
        "Accept: */*;q=abc",
        "X-Request-Id: \xe7\xb2\xbe",
        "X-Request-Id;",
        "Content-Encoding: gzip",
        "Range: bytes=0-1",
        "Accept-Encoding: br",
        "Origin: http://evil.example",
        "Authorization: Basic YWRtaW46eA==",
        "Authorization: Bearer",
        "Authorization: Bearer a.b.c",
        "Cookie: a=b",
    };
    size_t n = pick(4);

    for (size_t i = 0; i < n; i++) {
        switch (pick(5)) {
        case 0:
            sb_puts(b, PICK(if_match));
            break;
        case 1:
            if (pick(3) == 0) {
                sb_puts(b, "Idempotency-Key: ");
                sb_rep(b, "k", 1 + pick(4096));
            } else {
                sb_puts(b, PICK(idem));
            }
            break;
        case 2:
            sb_puts(b, PICK(test_date));
            break;
        case 3:
            if (pick(2) == 0) {
                sb_puts(b, "If-Match: \"");
                sb_rep(b, "9", 1 + pick(2048));
                sb_puts(b, "\"");
                break;
            }
            /* fall through */
        default:
            sb_puts(b, PICK(other));
            break;
        }
        sb_puts(b, "\r\n");
    }
}

/* The client's URL buffer holds 2 KB: keep the whole path under that. */
#define PATH_CAP 1900

static void gen_path(sb *b, const char *tmpl, int real_ids)
{
    const char *p = tmpl;

    while (*p) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            assert_non_null(end);
            switch (pick(10)) {
            case 0: { /* long: up to what the URL can carry */
                size_t n = 1 + pick(1400);
                sb_rep(b, pick(2) ? "a" : "9", n);
                break;
            }
            case 1:
                if (real_ids) {
                    sb_puts(b, pick(2) ? "1" : "2");
                    break;
                }
                /* fall through */
            default:
                sb_puts(b, PICK(path_values));
                break;
            }
            p = end + 1;
        } else {
            sb_add(b, p, 1);
            p++;
        }
    }
    if (pick(3) == 0) {
        size_t n = 1 + pick(6);
        for (size_t i = 0; i < n && b->n < PATH_CAP - 200; i++) {
            sb_puts(b, i == 0 ? "?" : "&");
            if (pick(5) == 0 && i > 0) { /* repeat the previous key */
                sb_puts(b, "limit=");
            } else {
                sb_puts(b, PICK(query_keys));
                if (pick(6) == 0)
                    continue; /* key alone, no '=' */
                sb_puts(b, "=");
            }
            if (pick(8) == 0)
                sb_rep(b, "v", pick(b->n < PATH_CAP - 200 ? PATH_CAP - 200 - b->n + 1 : 1));
            else
                sb_puts(b, PICK(query_values));
        }
    }
    if (b->n > PATH_CAP) {
        b->n = PATH_CAP;
        b->p[b->n] = '\0';
    }
}

/* ---- the run ----------------------------------------------------------- */

typedef struct route {
    char method[16];
    char path[256];
    long sent, failed;
} route;

static route routes[MAX_ROUTES];
static size_t nroutes;

static sb report;
static size_t nfail;
/* The request in flight, shown if the server stops answering (the client
 * then aborts the test). */
static sb inflight;
static int finished;

static void load_routes(void)
{
    static test_route found[MAX_ROUTES];

    nroutes = test_routes(found, MAX_ROUTES);
    for (size_t i = 0; i < nroutes; i++) {
        memcpy(routes[i].method, found[i].method, sizeof(routes[i].method));
        memcpy(routes[i].path, found[i].path, sizeof(routes[i].path));
    }
}

/* Printable copy of at most max bytes of s (len bytes). */
static void sb_excerpt(sb *b, const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c >= 0x80)
            sb_printf(b, "\\x%02x", c);
        else
            sb_add(b, (const char *)&c, 1);
    }
    if (len > max)
        sb_printf(b, "…(%zu bytes)", len);
}

/* Is the answer to a request of the route at pattern acceptable? NULL
 * when it is, else why not. The FHIR view answers its errors as FHIR
 * does, with an OperationOutcome. */
static const char *judge(const http_res *r, const char *pattern)
{
    const char *ct;

    if (r->status == 503)
        return NULL;
    if (r->status >= 500)
        return "server error";
    if (r->status < 200 || (r->status >= 300 && r->status < 400))
        return "unexpected status";
    if (r->status >= 400) {
        ct = http_header(r, "Content-Type");
        if (ct != NULL && strncmp(pattern, "/api/v1/fhir/", 13) == 0 &&
            strcasecmp(ct, "application/fhir+json") == 0) {
            const char *type = test_jstr(r->json, "resourceType");
            return type != NULL && strcmp(type, "OperationOutcome") == 0
                       ? NULL
                       : "FHIR 4xx without an OperationOutcome";
        }
        if (ct == NULL || strncasecmp(ct, "application/problem+json", 24) != 0)
            return "4xx without application/problem+json";
        if (r->json == NULL || !json_is_object(r->json))
            return "problem body is not a JSON object";
    }
    return NULL;
}

static void record(route *rt, const char *why, const http_res *r, const char *method,
                   const char *path, const char *ctype, const char *token_name, const char *headers,
                   const char *body, size_t blen, int chunked)
{
    rt->failed++;
    nfail++;
    if (rt->failed > 1 || nfail > MAX_FAILS)
        return; /* the first failure of each route is enough to see it */
    sb_printf(&report, "\n[%s %s] %s: got %ld\n  request: %s ", rt->method, rt->path, why,
              r->status, method);
    sb_excerpt(&report, path, strlen(path), 300);
    sb_printf(&report, "\n  token: %s, Content-Type: %s%s\n  headers: ", token_name,
              ctype ? ctype : "(none)", chunked ? ", chunked" : "");
    sb_excerpt(&report, headers ? headers : "", headers ? strlen(headers) : 0, 300);
    sb_puts(&report, "\n  body: ");
    if (body)
        sb_excerpt(&report, body, blen, 400);
    else
        sb_puts(&report, "(none)");
    sb_puts(&report, "\n  response: ");
    sb_excerpt(&report, r->body, strlen(r->body), 400);
    sb_puts(&report, "\n");
}

/* The value at the end of a metrics line (len bytes). */
static double metric_value(const char *line, size_t len)
{
    const char *sp = line + len;

    while (sp > line && sp[-1] != ' ')
        sp--;
    return strtod(sp, NULL);
}

/* The value of the same series (the text up to '}') in the body text; 0
 * when it is not there. */
static double metric_value_in(const char *text, const char *line, size_t len)
{
    const char *close = memchr(line, '}', len);
    size_t key = close ? (size_t)(close - line) + 1 : len;

    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (n >= key && memcmp(p, line, key) == 0)
            return metric_value(p, n);
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

static void fuzz_every_route(void **state)
{
    static const char *const users[] = {"admin", "tf.doctor", "tf.police", "tf.grid1", "tf.civil"};
    static const char *const ctypes[] = {
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=UTF-8",
        "text/plain",
        "application/problem+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin1",
        "application/jsonx",
        "application/*",
    };
    enum { NTOK = 7 };
    const char *tokens[NTOK];
    const char *names[NTOK] = {"none",      "garbage",  "admin",   "tf.doctor",
                               "tf.police", "tf.grid1", "tf.civil"};
    char *owned[5];
    char *before;
    http_res *r;
    long total = 0;

    (void)state;
    load_routes();
    r = http_do("GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    before = strdup(r->body);
    http_free(r);
    for (int i = 0; i < 5; i++)
        owned[i] = http_login(users[i], test_demo_password());
    tokens[0] = NULL;
    tokens[1] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.garbage";
    for (int i = 0; i < 5; i++)
        tokens[2 + i] = owned[i];

    for (size_t ri = 0; ri < nroutes; ri++) {
        route *rt = &routes[ri];
        int is_get = strcmp(rt->method, "GET") == 0;
        int has_body = !is_get;

        for (int ti = 0; ti < NTOK; ti++) {
            for (int k = 0; k < ROUNDS; k++) {
                sb path = {0}, body = {0}, hdr = {0};
                size_t blen = 0;
                const char *ctype = NULL;
                int raw = 0, chunked = 0;
                const char *why;

                /* Real ids only where nothing can be written. */
                gen_path(&path, rt->path, is_get);
                if (has_body || pick(8) == 0) {
                    if (!has_body || pick(12) != 0)
                        gen_body(&body, &blen);
                }
                gen_headers(&hdr);
                if (ti == 0 && pick(4) == 0) /* odd Authorization without a token */
                    sb_puts(&hdr, pick(2) ? "Authorization: Bearer \r\n"
                                          : "Authorization: bearer x.y.z\r\n");
                /* Raw when the body holds a NUL, else now and then for an odd
                 * Content-Type or chunked transfer. */
                if (body.p != NULL && (memchr(body.p, '\0', blen) != NULL || pick(4) == 0)) {
                    raw = 1;
                    ctype = pick(2) ? "application/json" : PICK(ctypes);
                    if (ctype[0] == '\0' && pick(2))
                        ctype = NULL;
                    chunked = pick(4) == 0;
                }
                if (!raw && body.p != NULL)
                    ctype = "application/json";
                inflight.n = 0;
                sb_printf(&inflight, "%s ", rt->method);
                sb_excerpt(&inflight, path.p, path.n, 300);
                sb_printf(&inflight,
                          "\n  token: %s, raw: %d, Content-Type: %s%s\n  headers: ", names[ti], raw,
                          ctype ? ctype : "(none)", chunked ? ", chunked" : "");
                sb_excerpt(&inflight, raw || hdr.p == NULL ? "" : hdr.p,
                           raw || hdr.p == NULL ? 0 : hdr.n, 300);
                sb_puts(&inflight, "\n  body: ");
                sb_excerpt(&inflight, body.p ? body.p : "", blen, 400);
                if (raw)
                    r = http_raw(rt->method, path.p, tokens[ti], ctype, body.p, blen, chunked);
                else
                    r = http_do(rt->method, path.p, tokens[ti], body.p, hdr.p);
                rt->sent++;
                total++;
                if ((why = judge(r, rt->path)) != NULL)
                    record(rt, why, r, rt->method, path.p, ctype, names[ti], raw ? NULL : hdr.p,
                           body.p, blen, chunked);
                http_free(r);
                free(path.p);
                free(body.p);
                free(hdr.p);
            }
        }
    }

    /* The server survived all of it. */
    r = http_do("GET", "/healthz", NULL, NULL, NULL);
    if (r->status != 200)
        fail_msg("/healthz after %ld requests: %ld %s", total, r->status, r->body);
    http_free(r);
    r = http_do("GET", "/readyz", NULL, NULL, NULL);
    if (r->status != 200)
        fail_msg("/readyz after %ld requests: %ld %s", total, r->status, r->body);
    http_free(r);

    /* And counted no new server error for any route (other suites may
     * provoke one on purpose, so compare with the count before the run). */
    r = http_do("GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    for (const char *line = r->body; line && *line;) {
        size_t n = strcspn(line, "\n");
        const char *st = strstr(line, "status=\"5");
        if (strncmp(line, "jingfang_http_requests_total{", 29) == 0 && st != NULL &&
            st < line + n && strncmp(st, "status=\"503\"", 12) != 0 &&
            metric_value(line, n) > metric_value_in(before, line, n)) {
            nfail++;
            sb_puts(&report, "\n[metrics] ");
            sb_add(&report, line, n);
            sb_puts(&report, "\n");
        }
        line += n;
        if (*line)
            line++;
    }
    http_free(r);

    free(before);
    for (int i = 0; i < 5; i++)
        free(owned[i]);
    print_message("robustness: %ld requests over %zu routes, %zu bad answers\n", total, nroutes,
                  nfail);
    if (nfail > 0) {
        sb_puts(&report, "\nbad answers by route:\n");
        for (size_t ri = 0; ri < nroutes; ri++)
            if (routes[ri].failed > 0)
                sb_printf(&report, "  %s %s: %ld of %ld\n", routes[ri].method, routes[ri].path,
                          routes[ri].failed, routes[ri].sent);
        fprintf(stderr, "%s", report.p);
        fail_msg("%zu bad answers (listed above)", nfail);
    }
    free(report.p);
    finished = 1;
}

/* Nesting up to the parser's own limit (2048) and past it is refused with
 * 400, on a public route and on an authenticated one, and the server
 * lives on. Runs last: a server that crashes here takes nothing else down. */
static void deep_nesting_is_400(void **state)
{
    static const int depths[] = {700, 1000, 2047, 2048, 2049, 5000};
    static const char *const paths[] = {"/api/v1/auth/login", "/api/v1/patients"};
    char *token = http_login("admin", test_demo_password());

    (void)state;
    finished = 0;
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
            for (int arrays = 0; arrays < 2; arrays++) {
                sb body = {0};
                http_res *r;

                gen_deep(&body, arrays, depths[i]);
                inflight.n = 0;
                sb_printf(&inflight, "POST %s, a JSON %s nested %d deep (%zu bytes)", paths[p],
                          arrays ? "array" : "object", depths[i], body.n);
                r = http_do("POST", paths[p], p ? token : NULL, body.p, NULL);
                http_assert_problem(r, 400, NULL);
                http_free(r);
                free(body.p);
            }
        }
    }
    http_res *r = http_do("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r->status, 200);
    http_free(r);
    free(token);
    finished = 1;
}

static int show_inflight(void **state)
{
    (void)state;
    if (!finished && inflight.p != NULL)
        fprintf(stderr, "the test stopped at this request:\n  %s\n", inflight.p);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(fuzz_every_route, show_inflight),
        cmocka_unit_test_teardown(deep_nesting_is_400, show_inflight),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
