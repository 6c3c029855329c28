/* HTTP suite: login, back-off, refresh rotation and reuse, logout, /me, the
 * audit of logins — and every token attack answered with 401. */
#include "client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* This run's loopback address for scenario k (1..9): each scenario is a
 * client of its own to the server, apart from 127.0.0.1, which every other
 * suite uses, and from the runs before on the same database. */
static const char *scene_addr(int k)
{
    static char a[10][32];
    unsigned pid = (unsigned)getpid();

    snprintf(a[k], sizeof(a[k]), "127.%u.%u.%d", 1 + (pid >> 8) % 250, pid % 256, 10 + k);
    return a[k];
}

/* A new doctor of 泰丰 with password Correct-horse-1 (created as admin from
 * the default address); returns the username (malloc'd). */
static char *new_user(const char *prefix)
{
    char *admin = http_login("admin", NULL);
    char *unit = db_scalar("SELECT id FROM org_units WHERE code = '429005003'", 0, NULL);
    char *name = test_fmt("%s%s", prefix, test_unique());
    char *body = test_fmt("{\"username\":\"%s\",\"display_name\":\"测试\","
                          "\"password\":\"Correct-horse-1\",\"role\":\"doctor\","
                          "\"org_unit_id\":%s}",
                          name, unit);
    http_res *r = http_do("POST", "/api/v1/users", admin, body, NULL);

    assert_int_equal(r->status, 201);
    http_free(r);
    free(body);
    free(unit);
    free(admin);
    return name;
}

/* POST /auth/login as name with password from this thread's address: the
 * status; a 429 must carry a positive Retry-After. */
static long try_login(const char *name, const char *password)
{
    char *body = test_fmt("{\"username\":\"%s\",\"password\":\"%s\"}", name, password);
    http_res *r = http_do("POST", "/api/v1/auth/login", NULL, body, NULL);
    long status = r->status;

    if (status == 429) {
        const char *ra = http_header(r, "Retry-After");
        assert_non_null(ra);
        assert_true(strtol(ra, NULL, 10) >= 1);
        http_assert_problem(r, 429, NULL);
    }
    http_free(r);
    free(body);
    return status;
}

struct guess {
    const char *name, *addr;
    long status;
};

static void *guess_thread(void *arg)
{
    struct guess *g = arg;

    http_source(g->addr);
    g->status = try_login(g->name, "wrong-password");
    return NULL;
}

/* 16 wrong guesses at once from one address: the attempt is counted before
 * the password is checked, in one statement, so no more than
 * JF_LOGIN_MAX_FAILURES (5) reach the check; the rest wait (429). */
static void parallel_guesses_are_bounded(void **state)
{
    enum { N = 16 };
    char *name = new_user("para");
    struct guess g[N];
    pthread_t t[N];
    const char *p[] = {name};
    long checked = 0, refused = 0;

    for (int i = 0; i < N; i++) {
        g[i] = (struct guess){name, scene_addr(2), 0};
        assert_int_equal(pthread_create(&t[i], NULL, guess_thread, &g[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        checked += g[i].status == 401;
        refused += g[i].status == 429;
    }
    if (checked > 5 || checked + refused != N)
        fail_msg("%ld checked, %ld refused of %d", checked, refused, N);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'"
                              " AND username = $1",
                              1, p),
                     checked);
    free(name);
}

/* One address spraying many usernames (unknown ones, one guess each) is
 * refused from JF_LOGIN_ADDR_MAX_FAILURES (30) on, whatever the name, the
 * right password included; another address is not; and the table holds one
 * row per name guessed and no account row for names that do not exist. */
static void spray_from_one_address_is_refused(void **state)
{
    char *real = new_user("spray");
    char like[64];
    const char *p[] = {like};
    long checked, rows;

    snprintf(like, sizeof(like), "%%@%s", scene_addr(3));
    http_source(scene_addr(3));
    for (checked = 0; checked < 40; checked++) {
        char *name = test_fmt("ghost%s_%ld", test_unique(), checked);
        long st = try_login(name, "wrong-password");

        free(name);
        if (st == 429)
            break;
        assert_int_equal(st, 401);
    }
    if (checked != 30)
        fail_msg("%ld guesses checked before the first 429, want 30", checked);
    assert_int_equal(try_login(real, "Correct-horse-1"), 429);
    /* Bounded: no row for a name that does not exist, one pair row per
     * guess, and none more once the address is refused. */
    assert_int_equal(db_count("SELECT count(*) FROM login_throttle WHERE key LIKE 'acct:ghost%'",
                              0, NULL),
                     0);
    rows = db_count("SELECT count(*) FROM login_throttle WHERE key LIKE $1", 1, p);
    assert_int_equal(rows, checked);
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_login("ghost-more", "x"), 429);
    assert_int_equal(db_count("SELECT count(*) FROM login_throttle WHERE key LIKE $1", 1, p),
                     rows);
    /* Another address: the real user logs in. */
    http_source(scene_addr(4));
    assert_int_equal(try_login(real, "Correct-horse-1"), 200);
    http_source(NULL);
    free(real);
}

/* An attacker guessing one user's password from one address locks only
 * that address out of that account: the user, from elsewhere, logs in (the
 * account-wide limit, JF_LOGIN_ACCOUNT_MAX_FAILURES = 50, is not reached by
 * one address). */
static void attacker_cannot_lock_out_the_user(void **state)
{
    char *victim = new_user("victim");
    long checked = 0;

    http_source(scene_addr(5));
    while (checked < 12 && try_login(victim, "wrong-password") == 401)
        checked++;
    if (checked != 5)
        fail_msg("%ld guesses checked before the first 429, want 5", checked);
    assert_int_equal(try_login(victim, "Correct-horse-1"), 429);
    http_source(scene_addr(6));
    assert_int_equal(try_login(victim, "Correct-horse-1"), 200);
    http_source(NULL);
    free(victim);
}

/* Rows idle for an hour go as attempts come (the table stays bounded). */
static void idle_throttle_rows_are_purged(void **state)
{
    static const char idle[] = "SELECT count(*) FROM login_throttle"
                               " WHERE last_failure_at < now() - interval '1 hour'";
    char *sql = test_fmt("INSERT INTO login_throttle (key, failures, last_failure_at)"
                         " SELECT 'pair:idle%s_' || g || '@192.0.2.1', 3,"
                         " now() - interval '61 minutes' FROM generate_series(1, 20) g",
                         test_unique());

    assert_true(db_try(sql));
    assert_true(db_count(idle, 0, NULL) >= 20);
    http_source(scene_addr(7));
    /* Each attempt deletes up to 100 idle rows. */
    for (int i = 0; i < 20 && db_count(idle, 0, NULL) > 0; i++)
        assert_int_equal(try_login("nobody-here", "x"), 401);
    assert_int_equal(db_count(idle, 0, NULL), 0);
    http_source(NULL);
    free(sql);
}

/* The service token exchange backs off the same way: one client id
 * guessed from one address, then the address. */
static void token_exchange_backs_off(void **state)
{
    char *body = test_fmt("{\"grant_type\":\"client_credentials\",\"client_id\":\"nope%s\","
                          "\"client_secret\":\"wrong\"}",
                          test_unique());
    long checked = 0;
    http_res *r;

    http_source(scene_addr(8));
    for (int i = 0; i < 12; i++) {
        r = http_do("POST", "/api/v1/auth/token", NULL, body, NULL);
        if (r->status == 429) {
            assert_non_null(http_header(r, "Retry-After"));
            http_free(r);
            break;
        }
        http_assert_problem(r, 401, NULL);
        http_free(r);
        checked++;
    }
    if (checked != 5)
        fail_msg("%ld attempts checked before the first 429, want 5", checked);
    http_source(NULL);
    free(body);
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
    http_source(scene_addr(1));
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
    http_source(NULL);
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
        cmocka_unit_test(parallel_guesses_are_bounded),
        cmocka_unit_test(spray_from_one_address_is_refused),
        cmocka_unit_test(attacker_cannot_lock_out_the_user),
        cmocka_unit_test(idle_throttle_rows_are_purged),
        cmocka_unit_test(token_exchange_backs_off),
        cmocka_unit_test(refresh_rotates_and_reuse_revokes_family),
        cmocka_unit_test(logout_revokes),
        cmocka_unit_test(disabled_user_cannot_login_or_refresh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
