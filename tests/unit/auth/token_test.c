/* Unit tests for access tokens (auth/token.c): round trip and hand-made attack tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../api/auth/token.h"
#include "../../../api/core/err.h"

#define NOW 1700000000L
#define SECRET "0123456789abcdef0123456789abcdef01234567" /* 40 bytes */
#define OTHER_SECRET "another-secret-another-secret-another-se"
#define SECRET_PREFIX "0123456789abcdef0123456789abcdef"

static jf_config cfg;

static int setup(void **state)
{
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.jwt_secret, SECRET, sizeof(SECRET));
    cfg.jwt_secret_len = strlen(SECRET);
    snprintf(cfg.jwt_issuer, sizeof(cfg.jwt_issuer), "jingfang");
    snprintf(cfg.jwt_audience, sizeof(cfg.jwt_audience), "jingfang-api");
    cfg.access_ttl_s = 900;
    return 0;
}

/* Tokens a test issued; freed by teardown even when an assertion fails. */
static char *issued[2];

static int teardown(void **state)
{
    for (size_t i = 0; i < sizeof(issued) / sizeof(issued[0]); i++) {
        free(issued[i]);
        issued[i] = NULL;
    }
    return 0;
}

static const jf_claims claims42 = {
    .user_id = 42,
    .username = "wang.xl",
    .role = "doctor",
    .org_unit_id = 9,
    .org_path = "/1/4/9/",
    .agency_id = 3,
};

static void assert_claims42(const jf_claims *c, long exp)
{
    assert_int_equal(c->user_id, 42);
    assert_string_equal(c->username, "wang.xl");
    assert_string_equal(c->role, "doctor");
    assert_int_equal(c->org_unit_id, 9);
    assert_string_equal(c->org_path, "/1/4/9/");
    assert_int_equal(c->agency_id, 3);
    assert_int_equal(c->exp, exp);
}

static void test_round_trip(void **state)
{
    /* An issued token is good from its nbf (less the 30 s skew) until exp. */
    static const struct {
        long at;
        int ok;
    } rows[] = {
        {NOW, 1}, {NOW + 899, 1}, {NOW + 900, 0}, {NOW + 100000, 0}, {NOW - 30, 1}, {NOW - 31, 0},
    };
    const char *tok;

    assert_int_equal(jf_token_issue(&cfg, &claims42, NOW, &issued[0]), 0);
    tok = issued[0];
    assert_non_null(tok);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_claims c;
        const char *why = NULL;
        int rc = jf_token_verify(&cfg, tok, rows[i].at, &c, &why);

        if (rows[i].ok) {
            if (rc != 0)
                fail_msg("at NOW%+ld: refused (%s)", rows[i].at - NOW, why);
            assert_null(why);
            assert_claims42(&c, NOW + 900);
        } else if (rc != JF_ERR_AUTH || why == NULL) {
            fail_msg("at NOW%+ld: got %d, want JF_ERR_AUTH", rows[i].at - NOW, rc);
        }
    }
}

/* The cache answers as jf_token_verify would: the claims of a token it
 * verified, and nothing for a token differing in one byte, for an expired
 * one, for a time before the check, or under another key. */
static void test_cached(void **state)
{
    jf_config other = cfg;
    jf_claims c;
    const char *why = NULL;
    char *forged;
    size_t n;

    memcpy(other.jwt_secret, OTHER_SECRET, sizeof(OTHER_SECRET));
    other.jwt_secret_len = strlen(OTHER_SECRET);
    assert_int_equal(jf_token_issue(&cfg, &claims42, NOW, &issued[0]), 0);
    for (int round = 0; round < 2; round++) { /* checked, then remembered */
        assert_int_equal(jf_token_verify_cached(&cfg, issued[0], NOW + 10, &c, &why), 0);
        assert_null(why);
        assert_claims42(&c, NOW + 900);
    }
    assert_int_equal(jf_token_verify_cached(&cfg, issued[0], NOW + 900, &c, &why), JF_ERR_AUTH);
    assert_string_equal(why, "token expired");
    assert_int_equal(jf_token_verify_cached(&other, issued[0], NOW + 10, &c, &why), JF_ERR_AUTH);
    /* Before the remembered check the full rules apply again (nbf). */
    assert_int_equal(jf_token_verify_cached(&cfg, issued[0], NOW - 31, &c, &why), JF_ERR_AUTH);
    assert_int_equal(jf_token_verify_cached(&cfg, issued[0], NOW + 10, &c, &why), 0);
    /* One byte of the payload changed, signature kept: refused. */
    forged = strdup(issued[0]);
    assert_non_null(forged);
    n = strcspn(forged, ".") + 5;
    forged[n] = forged[n] == 'A' ? 'B' : 'A';
    assert_int_equal(jf_token_verify_cached(&cfg, forged, NOW + 10, &c, &why), JF_ERR_AUTH);
    free(forged);
    assert_int_equal(jf_token_verify_cached(&cfg, "", NOW, &c, &why), JF_ERR_AUTH);
}

static void test_issue_distinct(void **state)
{
    /* Same claims, same second: the jti still differs. */
    assert_int_equal(jf_token_issue(&cfg, &claims42, NOW, &issued[0]), 0);
    assert_int_equal(jf_token_issue(&cfg, &claims42, NOW, &issued[1]), 0);
    assert_string_not_equal(issued[0], issued[1]);
}

/* base64url without padding, through OpenSSL rather than the code under test. */
static void b64url(const void *in, size_t n, char *out, size_t cap)
{
    size_t len;

    assert_true(4 * ((n + 2) / 3) + 1 <= cap);
    len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
}

enum sign { HS256, HS384, HS512, UNSIGNED };
enum mangle { KEEP, FLIP_SIG_FIRST, FLIP_SIG_MIDDLE, APPEND_SIG, CUT_SIG };

/* header.payload.signature, signed over header.payload with key; when forged
 * is set, it replaces the payload after signing. */
static void craft(const char *header, const char *payload, const char *forged, const char *key,
                  enum sign sign, enum mangle mangle, char *out, size_t cap)
{
    static char h64[16384], p64[16384], s64[128];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    const EVP_MD *md = NULL;
    size_t slen;
    int n;

    b64url(header, strlen(header), h64, sizeof(h64));
    b64url(payload, strlen(payload), p64, sizeof(p64));
    n = snprintf(out, cap, "%s.%s", h64, p64);
    assert_true(n > 0 && (size_t)n < cap);
    switch (sign) {
    case HS256:
        md = EVP_sha256();
        break;
    case HS384:
        md = EVP_sha384();
        break;
    case HS512:
        md = EVP_sha512();
        break;
    case UNSIGNED:
        break;
    }
    s64[0] = '\0';
    if (md != NULL) {
        assert_non_null(
            HMAC(md, key, (int)strlen(key), (unsigned char *)out, (size_t)n, mac, &maclen));
        b64url(mac, maclen, s64, sizeof(s64));
    }
    slen = strlen(s64);
    switch (mangle) {
    case KEEP:
        break;
    case FLIP_SIG_FIRST:
        s64[0] = s64[0] == 'A' ? 'B' : 'A';
        break;
    case FLIP_SIG_MIDDLE:
        s64[slen / 2] = s64[slen / 2] == 'A' ? 'B' : 'A';
        break;
    case APPEND_SIG:
        s64[slen] = 'A';
        s64[slen + 1] = '\0';
        break;
    case CUT_SIG:
        s64[slen - 1] = '\0';
        break;
    }
    if (forged != NULL)
        b64url(forged, strlen(forged), p64, sizeof(p64));
    n = snprintf(out, cap, "%s.%s.%s", h64, p64, s64);
    assert_true(n > 0 && (size_t)n < cap);
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define ISS "\"iss\":\"jingfang\""
#define AUD "\"aud\":\"jingfang-api\""
#define SUB "\"sub\":\"42\""
#define NAME "\"name\":\"wang.xl\""
#define ROLE "\"role\":\"doctor\""
#define OU "\"ou\":9"
#define OUP "\"oup\":\"/1/4/9/\""
#define AG "\"ag\":3"
#define IAT "\"iat\":1700000000"
#define NBF "\"nbf\":1700000000"
#define EXP "\"exp\":1700000900"
/* Every claim but the times, and every claim but one. */
#define WHO ISS "," AUD "," SUB "," NAME "," ROLE "," OU "," OUP "," AG
#define TIMES IAT "," NBF "," EXP
#define GOOD "{" WHO "," TIMES "}"

static const struct token_row {
    const char *name;
    const char *header;
    const char *payload;
    const char *key; /* HMAC key the attacker signs with */
    enum sign sign;
    enum mangle mangle;
    const char *forged; /* payload swapped in after signing, or NULL */
    int expect_ok;
} token_rows[] = {
    {"valid HS256", HDR, GOOD, SECRET, HS256, KEEP, NULL, 1},
    /* Only the exact header we issue: JSON in it is never parsed. */
    {"header without typ", "{\"alg\":\"HS256\"}", GOOD, SECRET, HS256, KEEP, NULL, 0},
    {"header keys swapped", "{\"typ\":\"JWT\",\"alg\":\"HS256\"}", GOOD, SECRET, HS256, KEEP,
     NULL, 0},
    {"header with a space", "{\"alg\": \"HS256\",\"typ\":\"JWT\"}", GOOD, SECRET, HS256, KEEP,
     NULL, 0},
    {"header with a kid", "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}", GOOD, SECRET,
     HS256, KEEP, NULL, 0},
    {"valid, no agency", HDR,
     "{" ISS "," AUD "," SUB "," NAME "," ROLE "," OU "," OUP ",\"ag\":0," TIMES "}", SECRET, HS256,
     KEEP, NULL, 1},

    /* Algorithm confusion. */
    {"alg none, empty signature", "{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD, SECRET, UNSIGNED,
     KEEP, NULL, 0},
    {"alg none, with a signature", "{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD, SECRET, HS256, KEEP,
     NULL, 0},
    {"alg None", "{\"alg\":\"None\"}", GOOD, SECRET, UNSIGNED, KEEP, NULL, 0},
    {"alg NONE", "{\"alg\":\"NONE\"}", GOOD, SECRET, UNSIGNED, KEEP, NULL, 0},
    {"alg missing", "{\"typ\":\"JWT\"}", GOOD, SECRET, HS256, KEEP, NULL, 0},
    {"alg HS384, same secret", "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", GOOD, SECRET, HS384, KEEP,
     NULL, 0},
    {"alg HS512, same secret", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD, SECRET, HS512, KEEP,
     NULL, 0},
    {"alg RS256, HMAC signature", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD, SECRET, HS256, KEEP,
     NULL, 0},
    {"alg ES256, HMAC signature", "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", GOOD, SECRET, HS256, KEEP,
     NULL, 0},
    {"header not an object", "[\"HS256\"]", GOOD, SECRET, HS256, KEEP, NULL, 0},

    /* Signature. */
    {"payload forged: role admin", HDR, GOOD, SECRET, HS256, KEEP,
     "{" ISS "," AUD "," SUB "," NAME ",\"role\":\"admin\"," OU "," OUP "," AG "," TIMES "}", 0},
    {"payload forged: wider org path", HDR, GOOD, SECRET, HS256, KEEP,
     "{" ISS "," AUD "," SUB "," NAME "," ROLE "," OU ",\"oup\":\"/1/\"," AG "," TIMES "}", 0},
    {"signature first char flipped", HDR, GOOD, SECRET, HS256, FLIP_SIG_FIRST, NULL, 0},
    {"signature middle char flipped", HDR, GOOD, SECRET, HS256, FLIP_SIG_MIDDLE, NULL, 0},
    {"signature with a char appended", HDR, GOOD, SECRET, HS256, APPEND_SIG, NULL, 0},
    {"signature cut by a char", HDR, GOOD, SECRET, HS256, CUT_SIG, NULL, 0},
    {"signature missing", HDR, GOOD, SECRET, UNSIGNED, KEEP, NULL, 0},
    {"other secret", HDR, GOOD, OTHER_SECRET, HS256, KEEP, NULL, 0},
    {"secret prefix", HDR, GOOD, SECRET_PREFIX, HS256, KEEP, NULL, 0},
    {"payload not JSON", HDR, "not json", SECRET, HS256, KEEP, NULL, 0},
    {"payload not an object", HDR, "[1,2,3]", SECRET, HS256, KEEP, NULL, 0},
    {"payload nested, signed", HDR, "{" WHO "," TIMES ",\"x\":{\"y\":1}}", SECRET, HS256, KEEP,
     NULL, 0},
    {"payload with a bracket in a string", HDR, "{" WHO "," TIMES ",\"x\":\"[{\\\"[\"}", SECRET,
     HS256, KEEP, NULL, 1},

    /* Time. Verified at NOW. */
    {"expired", HDR, "{" WHO "," IAT "," NBF ",\"exp\":1699999999}", SECRET, HS256, KEEP, NULL, 0},
    {"exp equal to now", HDR, "{" WHO "," IAT "," NBF ",\"exp\":1700000000}", SECRET, HS256, KEEP,
     NULL, 0},
    {"exp one second ahead", HDR, "{" WHO "," IAT "," NBF ",\"exp\":1700000001}", SECRET, HS256,
     KEEP, NULL, 1},
    {"exp missing", HDR, "{" WHO "," IAT "," NBF "}", SECRET, HS256, KEEP, NULL, 0},
    {"exp a string", HDR, "{" WHO "," IAT "," NBF ",\"exp\":\"1700000900\"}", SECRET, HS256, KEEP,
     NULL, 0},
    {"nbf 31 s ahead", HDR, "{" WHO "," IAT ",\"nbf\":1700000031," EXP "}", SECRET, HS256, KEEP,
     NULL, 0},
    {"nbf an hour ahead", HDR, "{" WHO "," IAT ",\"nbf\":1700003600,\"exp\":1700004500}", SECRET,
     HS256, KEEP, NULL, 0},
    {"nbf 30 s ahead (skew)", HDR, "{" WHO "," IAT ",\"nbf\":1700000030," EXP "}", SECRET, HS256,
     KEEP, NULL, 1},
    {"nbf 5 s ahead (skew)", HDR, "{" WHO "," IAT ",\"nbf\":1700000005," EXP "}", SECRET, HS256,
     KEEP, NULL, 1},
    {"nbf missing", HDR, "{" WHO "," IAT "," EXP "}", SECRET, HS256, KEEP, NULL, 0},

    /* Issuer and audience. */
    {"iss wrong", HDR,
     "{\"iss\":\"someone-else\"," AUD "," SUB "," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"iss missing", HDR, "{" AUD "," SUB "," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"iss prefix", HDR,
     "{\"iss\":\"jingfan\"," AUD "," SUB "," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"aud wrong", HDR,
     "{" ISS ",\"aud\":\"jingfang-web\"," SUB "," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"aud missing", HDR, "{" ISS "," SUB "," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},

    /* Subject and scope claims. */
    {"sub missing", HDR, "{" ISS "," AUD "," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"sub not a number", HDR,
     "{" ISS "," AUD ",\"sub\":\"abc\"," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"sub with a suffix", HDR,
     "{" ISS "," AUD ",\"sub\":\"42x\"," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"sub empty", HDR,
     "{" ISS "," AUD ",\"sub\":\"\"," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"sub zero", HDR,
     "{" ISS "," AUD ",\"sub\":\"0\"," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"sub negative", HDR,
     "{" ISS "," AUD ",\"sub\":\"-42\"," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"sub a JSON number", HDR,
     "{" ISS "," AUD ",\"sub\":42," NAME "," ROLE "," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"name missing", HDR, "{" ISS "," AUD "," SUB "," ROLE "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"role missing", HDR, "{" ISS "," AUD "," SUB "," NAME "," OU "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"role empty", HDR,
     "{" ISS "," AUD "," SUB "," NAME ",\"role\":\"\"," OU "," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"role too long", HDR,
     "{" ISS "," AUD "," SUB "," NAME ",\"role\":\"abcdefghijklmnopqrstuvwxyz\"," OU "," OUP "," AG
     "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"oup missing", HDR, "{" ISS "," AUD "," SUB "," NAME "," ROLE "," OU "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"ou missing", HDR, "{" ISS "," AUD "," SUB "," NAME "," ROLE "," OUP "," AG "," TIMES "}",
     SECRET, HS256, KEEP, NULL, 0},
    {"ou zero", HDR,
     "{" ISS "," AUD "," SUB "," NAME "," ROLE ",\"ou\":0," OUP "," AG "," TIMES "}", SECRET, HS256,
     KEEP, NULL, 0},
    {"ou negative", HDR,
     "{" ISS "," AUD "," SUB "," NAME "," ROLE ",\"ou\":-9," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"ou a string", HDR,
     "{" ISS "," AUD "," SUB "," NAME "," ROLE ",\"ou\":\"9\"," OUP "," AG "," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
    {"ag negative", HDR,
     "{" ISS "," AUD "," SUB "," NAME "," ROLE "," OU "," OUP ",\"ag\":-1," TIMES "}", SECRET,
     HS256, KEEP, NULL, 0},
};

static void test_crafted(void **state)
{
    static char tok[8192];

    for (size_t i = 0; i < sizeof(token_rows) / sizeof(token_rows[0]); i++) {
        const struct token_row *r = &token_rows[i];
        jf_claims c;
        const char *why = NULL;
        int rc;

        craft(r->header, r->payload, r->forged, r->key, r->sign, r->mangle, tok, sizeof(tok));
        rc = jf_token_verify(&cfg, tok, NOW, &c, &why);
        if (r->expect_ok && rc != 0)
            fail_msg("%s: refused (%s)", r->name, why ? why : "?");
        if (!r->expect_ok && (rc != JF_ERR_AUTH || why == NULL))
            fail_msg("%s: got %d, want JF_ERR_AUTH with a reason", r->name, rc);
        if (r->expect_ok) {
            assert_null(why);
            assert_int_equal(c.user_id, 42);
            assert_string_equal(c.role, "doctor");
            assert_string_equal(c.org_path, "/1/4/9/");
        }
    }
}

static void test_garbage(void **state)
{
    static const char *rows[] = {
        "",
        "a.b.c",
        ".....",
        "..",
        ".",
        "abc",
        "a.b",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9..",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "!!!.???.***",
        NULL,
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jf_claims c;
        const char *why = NULL;
        int rc = jf_token_verify(&cfg, rows[i], NOW, &c, &why);

        if (rc != JF_ERR_AUTH || why == NULL)
            fail_msg("\"%s\": got %d, want JF_ERR_AUTH", rows[i] ? rows[i] : "(null)", rc);
    }
}

/* A properly signed token with valid claims is still refused past 4096
 * bytes: grow a padding claim until the token crosses the limit. */
static void test_length_cap(void **state)
{
    static char payload[8192], tok[16384], pad[4096];
    size_t last_ok = 0, first_bad = 0;

    for (size_t n = 2700; n < 2950 && first_bad == 0; n++) {
        jf_claims c;
        const char *why = NULL;
        size_t len;
        int rc;

        memset(pad, 'p', n);
        pad[n] = '\0';
        snprintf(payload, sizeof(payload), "{" WHO "," TIMES ",\"pad\":\"%s\"}", pad);
        craft(HDR, payload, NULL, SECRET, HS256, KEEP, tok, sizeof(tok));
        len = strlen(tok);
        rc = jf_token_verify(&cfg, tok, NOW, &c, &why);
        if (len <= 4096) {
            if (rc != 0)
                fail_msg("%zu bytes: refused (%s)", len, why);
            last_ok = len;
        } else {
            if (rc != JF_ERR_AUTH)
                fail_msg("%zu bytes: accepted", len);
            first_bad = len;
        }
    }
    /* The loop did straddle the limit. */
    assert_in_range(last_ok, 4090, 4096);
    assert_in_range(first_bad, 4097, 4100);
}

/* The header libjwt writes is the one jf_token_verify accepts (a libjwt
 * that wrote another would lock every user out: caught here). */
static void test_issued_header(void **state)
{
    assert_int_equal(jf_token_issue(&cfg, &claims42, NOW, &issued[0]), 0);
    assert_true(strncmp(issued[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
}

/* Tokens nested deep in the header or the payload (under the 4 KiB cap),
 * checked on a thread with a civetweb worker's 100 KB stack: refused,
 * without a crash (the parser used to recurse into them before the
 * signature was checked). */
struct deep_job {
    const char *token;
    int rc;
    const char *why;
};

static void *verify_job(void *arg)
{
    struct deep_job *j = arg;
    jf_claims c;

    j->rc = jf_token_verify(&cfg, j->token, NOW, &c, &j->why);
    return NULL;
}

static void test_deep_nesting(void **state)
{
    static char deep[2501], tok[8192];
    static const struct {
        const char *name;
        int in_header, depth;
        enum sign sign;
    } rows[] = {
        {"header [ x1000, unsigned", 1, 1000, UNSIGNED},
        {"header [ x2500, signed", 1, 2500, HS256},
        {"payload [ x1000, signed", 0, 1000, HS256},
        {"payload [ x2500, wrong key", 0, 2500, UNSIGNED},
    };
    pthread_attr_t attr;

    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 100 * 1024), 0);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct deep_job j = {tok, 0, NULL};
        pthread_t t;

        memset(deep, '[', (size_t)rows[i].depth);
        deep[rows[i].depth] = '\0';
        craft(rows[i].in_header ? deep : HDR, rows[i].in_header ? GOOD : deep, NULL, SECRET,
              rows[i].sign, KEEP, tok, sizeof(tok));
        if (rows[i].sign == UNSIGNED) /* "….x", as the outside test sent */
            memcpy(tok + strlen(tok), "x", 2);
        assert_int_equal(pthread_create(&t, &attr, verify_job, &j), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        if (j.rc != JF_ERR_AUTH || j.why == NULL)
            fail_msg("%s: got %d, want JF_ERR_AUTH", rows[i].name, j.rc);
    }
    pthread_attr_destroy(&attr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_round_trip, teardown),
        cmocka_unit_test_teardown(test_issue_distinct, teardown),
        cmocka_unit_test_teardown(test_cached, teardown),
        cmocka_unit_test(test_crafted),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_length_cap),
        cmocka_unit_test_teardown(test_issued_header, teardown),
        cmocka_unit_test(test_deep_nesting),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
