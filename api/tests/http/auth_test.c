/* HTTP suite: login, back-off, refresh rotation and reuse, logout, /me, the
 * audit of logins — and every token attack answered with 401. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63];
        out[o++] = t[v >> 6 & 63], out[o++] = t[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63], out[o++] = t[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* header.payload.signature, signed with HMAC(md) under key, or unsigned
 * when md is NULL. */
static char *forge(const char *header, const char *payload, const EVP_MD *md, const char *key)
{
    char *tok = malloc(4 * (strlen(header) + strlen(payload)) / 3 + 128);
    unsigned char sig[64];
    unsigned sl = 0;
    size_t n;

    b64url((const unsigned char *)header, strlen(header), tok);
    n = strlen(tok);
    tok[n++] = '.';
    b64url((const unsigned char *)payload, strlen(payload), tok + n);
    if (md != NULL)
        HMAC(md, key, (int)strlen(key), (unsigned char *)tok, strlen(tok), sig, &sl);
    n = strlen(tok);
    tok[n++] = '.';
    b64url(sig, sl, tok + n);
    return tok;
}

/* A payload for the demo user tf.official with the given times and iss/aud. */
static char *payload(long iat, long nbf, long exp, const char *iss, const char *aud)
{
    char *p = malloc(1024);
    char *ou = db_scalar("SELECT org_unit_id FROM users WHERE username = 'tf.official'", 0, NULL);
    char *path = db_scalar("SELECT o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id"
                           " WHERE username = 'tf.official'",
                           0, NULL);
    char *id = db_scalar("SELECT id FROM users WHERE username = 'tf.official'", 0, NULL);

    snprintf(p, 1024,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"name\":\"tf.official\","
             "\"role\":\"official\",\"ou\":%s,\"oup\":\"%s\",\"ag\":0,\"iat\":%ld,"
             "\"nbf\":%ld,\"exp\":%ld}",
             iss, aud, id, ou, path, iat, nbf, exp);
    free(ou);
    free(path);
    free(id);
    return p;
}

static long me_status(const char *token)
{
    http_res *r = http_do("GET", "/api/v1/me", token, NULL, NULL);
    long s = r->status;

    if (s == 401) {
        http_assert_problem(r, 401, "Authorization");
        assert_non_null(http_header(r, "WWW-Authenticate"));
    }
    http_free(r);
    return s;
}

static void token_attacks_are_401(void **state)
{
    const char *secret = getenv("JF_JWT_SECRET");
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    long now = (long)time(NULL);
    struct {
        const char *name;
        const char *header;
        char *payload;
        const EVP_MD *md;
        const char *key;
        long expect;
    } cases[] = {
        {"control: a good forged-with-the-real-key token", hs,
         payload(now, now, now + 600, "jingfang", "jingfang-api"), EVP_sha256(), secret, 200},
        {"alg none", "{\"alg\":\"none\",\"typ\":\"JWT\"}",
         payload(now, now, now + 600, "jingfang", "jingfang-api"), NULL, NULL, 401},
        {"alg none with signature", "{\"alg\":\"none\"}",
         payload(now, now, now + 600, "jingfang", "jingfang-api"), EVP_sha256(), secret, 401},
        {"alg HS512 with the same secret", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
         payload(now, now, now + 600, "jingfang", "jingfang-api"), EVP_sha512(), secret, 401},
        {"alg HS384 with the same secret", "{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
         payload(now, now, now + 600, "jingfang", "jingfang-api"), EVP_sha384(), secret, 401},
        {"alg RS256 header, HMAC signature", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
         payload(now, now, now + 600, "jingfang", "jingfang-api"), EVP_sha256(), secret, 401},
        {"expired", hs, payload(now - 1000, now - 1000, now - 1, "jingfang", "jingfang-api"),
         EVP_sha256(), secret, 401},
        {"not yet valid", hs, payload(now, now + 600, now + 1200, "jingfang", "jingfang-api"),
         EVP_sha256(), secret, 401},
        {"wrong key", hs, payload(now, now, now + 600, "jingfang", "jingfang-api"), EVP_sha256(),
         "another-secret-that-is-32-bytes-long!!", 401},
        {"wrong issuer", hs, payload(now, now, now + 600, "evil", "jingfang-api"), EVP_sha256(),
         secret, 401},
        {"wrong audience", hs, payload(now, now, now + 600, "jingfang", "other-api"),
         EVP_sha256(), secret, 401},
    };

    assert_non_null(secret);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *tok = forge(cases[i].header, cases[i].payload, cases[i].md, cases[i].key);
        long s = me_status(tok);
        if (s != cases[i].expect)
            fail_msg("%s: expected %ld, got %ld", cases[i].name, cases[i].expect, s);
        free(tok);
        free(cases[i].payload);
    }
}

static void tampered_missing_and_malformed_tokens_are_401(void **state)
{
    char *good = http_login("tf.official", NULL);
    char *bad = strdup(good);
    char *dot = strrchr(bad, '.');
    http_res *r;

    assert_int_equal(me_status(good), 200);
    /* Flip one character of the signature. */
    dot[1] = dot[1] == 'A' ? 'B' : 'A';
    assert_int_equal(me_status(bad), 401);
    /* Change the payload (role) but keep the signature. */
    free(bad);
    bad = strdup(good);
    {
        char *p1 = strchr(bad, '.') + 1, *p2 = strchr(p1, '.');
        p1[2] = p1[2] == 'x' ? 'y' : 'x';
        (void)p2;
    }
    assert_int_equal(me_status(bad), 401);
    free(bad);
    assert_int_equal(me_status(NULL), 401);
    assert_int_equal(me_status("not-a-jwt"), 401);
    assert_int_equal(me_status("a.b.c"), 401);
    r = http_do("GET", "/api/v1/me", NULL, NULL, "Authorization: Basic YWRtaW46eA==");
    http_assert_problem(r, 401, "Authorization");
    http_free(r);
    free(good);
}

/* Bearer tokens nested deep in the header or in the payload, unsigned or
 * signed with the real key, on several routes: each is answered 401 and
 * the server stays up (1,000 deep used to overflow a worker's stack in the
 * JSON parser before the signature was checked, killing the process). */
static void deep_tokens_are_401_and_server_stays_up(void **state)
{
    static const char *const routes[] = {"/api/v1/me", "/api/v1/patients",
                                         "/api/v1/statistics/dashboard", "/api/v1/worklists/due"};
    static const int depths[] = {1000, 2500, 10000};
    const char *secret = getenv("JF_JWT_SECRET");
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        char *deep = malloc((size_t)depths[d] + 1);
        char *toks[3];

        memset(deep, '[', (size_t)depths[d]);
        deep[depths[d]] = '\0';
        toks[0] = forge(deep, "{}", NULL, NULL);        /* as the outside test sent */
        toks[1] = forge(hs, deep, EVP_sha256(), secret); /* a valid signature */
        toks[2] = forge(hs, deep, NULL, NULL);
        for (size_t t = 0; t < 3; t++) {
            for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
                http_res *r = http_do("GET", routes[i], toks[t], NULL, NULL);

                if (r->status != 401)
                    fail_msg("%s, depth %d, token %zu: %ld", routes[i], depths[d], t, r->status);
                http_assert_problem(r, 401, "Authorization");
                http_free(r);
                r = http_do("GET", "/healthz", NULL, NULL, NULL);
                assert_int_equal(r->status, 200);
                http_free(r);
            }
            free(toks[t]);
        }
        free(deep);
    }
}

static void login_returns_pair_and_me(void **state)
{
    char body[256];
    http_res *r, *m;

    snprintf(body, sizeof(body), "{\"username\":\"tf.doctor\",\"password\":\"%s\"}",
             test_demo_password());
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(http_str(r, "token_type"), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(r->json, "expires_in")), 900);
    assert_non_null(http_str(r, "refresh_token"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r->json, "user"), "role")), "doctor");
    assert_null(strstr(r->body, "password"));
    assert_null(strstr(r->body, "pbkdf2"));
    m = http_do("GET", "/api/v1/me", http_str(r, "access_token"), NULL, NULL);
    assert_int_equal(m->status, 200);
    assert_string_equal(http_str(m, "username"), "tf.doctor");
    assert_string_equal(http_str(m, "org_unit_name"), "泰丰街道");
    http_free(m);
    http_free(r);
}

static void login_bad_input(void **state)
{
    struct {
        const char *body;
        const char *field;
    } cases[] = {
        {"{}", "username"},
        {"{\"username\":\"admin\"}", "password"},
        {"{\"username\":5,\"password\":\"x\"}", "username"},
        {"{\"username\":\"admin\",\"password\":\"x\",\"extra\":1}", "extra"},
        {"{\"username\":\"\",\"password\":\"x\"}", "username"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http_res *r = http_do("POST", "/api/v1/auth/login", NULL, cases[i].body, NULL);
        http_assert_problem(r, 400, cases[i].field);
        http_free(r);
    }
}

static void wrong_password_401_audited_and_backs_off(void **state)
{
    char *admin = http_login("admin", NULL);
    char body[512], name[64];
    const char *p[1];
    http_res *r;
    long before;

    /* A fresh user of our own, so no demo login gets locked. */
    snprintf(name, sizeof(name), "lock%s", test_unique());
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"display_name\":\"测试\",\"password\":\"Correct-horse-1\","
             "\"role\":\"doctor\",\"org_unit_id\":%s}",
             name, db_scalar("SELECT id FROM org_units WHERE code = '429005003'", 0, NULL));
    r = http_do("POST", "/api/v1/users", admin, body, NULL);
    assert_int_equal(r->status, 201);
    http_free(r);
    p[0] = name;
    before = db_count("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'"
                      " AND username = $1",
                      1, p);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong-password\"}", name);
    for (int i = 0; i < 4; i++) {
        r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
        http_assert_problem(r, 401, NULL);
        http_free(r);
    }
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'"
                              " AND username = $1",
                              1, p),
                     before + 4);
    /* The fifth failure starts the back-off; then even the right password waits. */
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"Correct-horse-1\"}", name);
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    http_assert_problem(r, 429, NULL);
    assert_non_null(http_header(r, "Retry-After"));
    http_free(r);
    /* Unknown users back off the same way (no way to tell them apart). */
    snprintf(body, sizeof(body), "{\"username\":\"ghost%s\",\"password\":\"x\"}", test_unique());
    for (int i = 0; i < 5; i++) {
        r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
        assert_int_equal(r->status, 401);
        http_free(r);
    }
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    assert_int_equal(r->status, 429);
    http_free(r);
    free(admin);
}

static void successful_login_is_audited(void **state)
{
    const char *p[] = {"tf.police"};
    long before = db_count("SELECT count(*) FROM audit_log WHERE action = 'auth.login'"
                           " AND username = $1 AND client_addr IS NOT NULL"
                           " AND request_id IS NOT NULL",
                           1, p);
    free(http_login("tf.police", NULL));
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'auth.login'"
                              " AND username = $1 AND client_addr IS NOT NULL"
                              " AND request_id IS NOT NULL",
                              1, p),
                     before + 1);
}

static http_res *post_refresh(const char *path, const char *token)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", token);
    return http_do("POST", path, NULL, body, NULL);
}

static void refresh_rotates_and_reuse_revokes_family(void **state)
{
    char body[256];
    http_res *login, *r1, *r2, *again;
    char *first, *second;

    snprintf(body, sizeof(body), "{\"username\":\"tf.civil\",\"password\":\"%s\"}",
             test_demo_password());
    login = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    assert_int_equal(login->status, 200);
    first = strdup(http_str(login, "refresh_token"));
    r1 = post_refresh("/api/v1/auth/refresh", first);
    assert_int_equal(r1->status, 200);
    second = strdup(http_str(r1, "refresh_token"));
    assert_string_not_equal(first, second);
    assert_int_equal(me_status(http_str(r1, "access_token")), 200);
    /* The first token was rotated away: presenting it again is theft. */
    r2 = post_refresh("/api/v1/auth/refresh", first);
    http_assert_problem(r2, 401, NULL);
    /* ... and the whole family, the second token included, is now dead. */
    again = post_refresh("/api/v1/auth/refresh", second);
    http_assert_problem(again, 401, NULL);
    http_free(again);
    again = post_refresh("/api/v1/auth/refresh", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    http_assert_problem(again, 401, NULL);
    http_free(again);
    again = http_do("POST", "/api/v1/auth/refresh", NULL, "{\"refresh_token\":7}", NULL);
    http_assert_problem(again, 400, "refresh_token");
    http_free(again);
    http_free(login);
    http_free(r1);
    http_free(r2);
    free(first);
    free(second);
}

static void logout_revokes(void **state)
{
    char body[256];
    http_res *login, *out, *r;
    char *tok;

    snprintf(body, sizeof(body), "{\"username\":\"tf.grid1\",\"password\":\"%s\"}",
             test_demo_password());
    login = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    assert_int_equal(login->status, 200);
    tok = strdup(http_str(login, "refresh_token"));
    out = post_refresh("/api/v1/auth/logout", tok);
    assert_int_equal(out->status, 204);
    r = post_refresh("/api/v1/auth/refresh", tok);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    r = post_refresh("/api/v1/auth/logout", "unknown-token-unknown-token");
    http_assert_problem(r, 401, NULL);
    http_free(r);
    http_free(login);
    http_free(out);
    free(tok);
}

static void disabled_user_cannot_login_or_refresh(void **state)
{
    char *admin = http_login("admin", NULL);
    char body[512], name[64], path[128], etag[32];
    http_res *r, *login;
    char *refresh;

    snprintf(name, sizeof(name), "gone%s", test_unique());
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"display_name\":\"离职\",\"password\":\"Correct-horse-1\","
             "\"role\":\"grid_worker\",\"org_unit_id\":%s}",
             name, db_scalar("SELECT id FROM org_units WHERE code = '429005003001G01'", 0, NULL));
    r = http_do("POST", "/api/v1/users", admin, body, NULL);
    assert_int_equal(r->status, 201);
    snprintf(path, sizeof(path), "/api/v1/users/%lld",
             (long long)json_integer_value(json_object_get(r->json, "id")));
    snprintf(etag, sizeof(etag), "If-Match: %s", http_header(r, "ETag"));
    http_free(r);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"Correct-horse-1\"}", name);
    login = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    assert_int_equal(login->status, 200);
    refresh = strdup(http_str(login, "refresh_token"));
    r = http_do("PATCH", path, admin, "{\"active\":false}", etag);
    assert_int_equal(r->status, 200);
    http_free(r);
    r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    r = post_refresh("/api/v1/auth/refresh", refresh);
    http_assert_problem(r, 401, NULL);
    http_free(r);
    http_free(login);
    free(refresh);
    free(admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_returns_pair_and_me),
        cmocka_unit_test(login_bad_input),
        cmocka_unit_test(token_attacks_are_401),
        cmocka_unit_test(tampered_missing_and_malformed_tokens_are_401),
        cmocka_unit_test(deep_tokens_are_401_and_server_stays_up),
        cmocka_unit_test(successful_login_is_audited),
        cmocka_unit_test(wrong_password_401_audited_and_backs_off),
        cmocka_unit_test(refresh_rotates_and_reuse_revokes_family),
        cmocka_unit_test(logout_revokes),
        cmocka_unit_test(disabled_user_cannot_login_or_refresh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
