/* Unit tests for the webhook wire contract (worker/webhook.c): signatures,
 * sealed secrets, backoff and leases, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

/* The statics too, in the manner of h2o's unit tests. */
#include "../../../api/worker/webhook.c"

/* Expected values from `openssl dgst -sha256 -hmac SECRET` over "ts.body". */
static const struct {
    const char *secret, *ts, *body, *sig;
} sign_cases[] = {
    {"whsec-泰丰-0123456789", "1700000000", "{\"kind\":\"risk_high\",\"notification_id\":42}",
     "sha256=ba080c80cc52b9ae86c9ca2064013293aa5323e8dec423c95163004209337f20"},
    {"k", "1", "", "sha256=37c39ff90c9eaf98b76f1cf1a38399fa408e930f34e04a5179d0dc6489fe9c78"},
};

static void test_sign(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sign_cases) / sizeof(sign_cases[0]); i++) {
        char sig[JF_WEBHOOK_SIG_LEN];

        assert_int_equal(jf_webhook_sign((const unsigned char *)sign_cases[i].secret,
                                         strlen(sign_cases[i].secret), sign_cases[i].ts,
                                         sign_cases[i].body, strlen(sign_cases[i].body), sig),
                         0);
        assert_string_equal(sig, sign_cases[i].sig);
    }
}

/* The timestamp is inside the signature: the same body at another time
 * signs differently, so a captured request cannot be replayed as new. */
static void test_sign_covers_timestamp(void **state)
{
    char a[JF_WEBHOOK_SIG_LEN], b[JF_WEBHOOK_SIG_LEN];

    (void)state;
    assert_int_equal(jf_webhook_sign((const unsigned char *)"s", 1, "100", "{}", 2, a), 0);
    assert_int_equal(jf_webhook_sign((const unsigned char *)"s", 1, "101", "{}", 2, b), 0);
    assert_string_not_equal(a, b);
}

static const struct {
    long attempts, seconds;
} backoff_cases[] = {
    {-1, 1},  {0, 1},     {1, 2},     {2, 4},     {3, 8},
    {8, 256}, {11, 2048}, {12, 3600}, {13, 3600}, {1000, 3600},
};

static void test_backoff(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]); i++)
        assert_int_equal(jf_webhook_backoff_s(backoff_cases[i].attempts), backoff_cases[i].seconds);
}

static const struct {
    long n, timeout_ms, seconds;
} lease_cases[] = {
    {20, 5000, 300},   /* the defaults: five minutes */
    {20, 100, 300},    /* never shorter */
    {20, 60000, 1260}, /* 20 timeouts of a minute, and a minute more */
    {20, 12001, 320},  /* a partial second counts whole */
};

static void test_lease(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lease_cases) / sizeof(lease_cases[0]); i++)
        assert_int_equal(jf_webhook_lease_s(lease_cases[i].n, lease_cases[i].timeout_ms),
                         lease_cases[i].seconds);
}

static const unsigned char key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* Seal as the API does, and give the hex text PostgreSQL would return. */
static void seal_hex(const unsigned char k[32], const char *aad, const char *secret, char *hex,
                     int prefix)
{
    unsigned char ct[JF_WEBHOOK_SECRET_MAX + 64];
    size_t n = strlen(secret);

    assert_int_equal(jf_crypto_seal(k, aad, strlen(aad), secret, n, ct), 0);
    if (prefix) {
        hex[0] = '\\';
        hex[1] = 'x';
        hex += 2;
    }
    jf_crypto_hex(ct, n + JF_GCM_IV_LEN + JF_GCM_TAG_LEN, hex);
}

static void test_secret_open(void **state)
{
    char hex[2 * (JF_WEBHOOK_SECRET_MAX + 64) + 3];
    unsigned char out[JF_WEBHOOK_SECRET_MAX];
    size_t n = 0;

    (void)state;
    for (int prefix = 0; prefix <= 1; prefix++) {
        seal_hex(key, "webhook-secret", "whsec-0123456789abcdef", hex, prefix);
        assert_int_equal(jf_webhook_secret_open(key, hex, out, &n), 0);
        assert_int_equal(n, 22);
        assert_memory_equal(out, "whsec-0123456789abcdef", 22);
        /* Upper-case hex is hex too. */
        for (char *p = hex; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        assert_int_equal(jf_webhook_secret_open(key, hex, out, &n), 0);
    }
}

static void test_secret_refused(void **state)
{
    unsigned char other[32], out[JF_WEBHOOK_SECRET_MAX];
    char hex[2 * (JF_WEBHOOK_SECRET_MAX + 64) + 3], big[JF_WEBHOOK_SECRET_MAX + 2];
    size_t n = 0;

    (void)state;
    memcpy(other, key, 32);
    other[0] ^= 1;
    /* Another key, or sealed for another purpose (the resident ID's aad). */
    seal_hex(other, "webhook-secret", "whsec-x", hex, 0);
    assert_int_equal(jf_webhook_secret_open(key, hex, out, &n), JF_ERR_CRYPTO);
    seal_hex(key, "resident-id", "whsec-x", hex, 0);
    assert_int_equal(jf_webhook_secret_open(key, hex, out, &n), JF_ERR_CRYPTO);
    /* Tampered ciphertext. */
    seal_hex(key, "webhook-secret", "whsec-x", hex, 0);
    hex[30] = hex[30] == '0' ? '1' : '0';
    assert_int_equal(jf_webhook_secret_open(key, hex, out, &n), JF_ERR_CRYPTO);
    /* Not hex, odd length, too short to hold iv and tag, none at all. */
    assert_int_equal(jf_webhook_secret_open(key, "zz", out, &n), JF_ERR_CRYPTO);
    assert_int_equal(jf_webhook_secret_open(key, "abc", out, &n), JF_ERR_CRYPTO);
    assert_int_equal(jf_webhook_secret_open(key, "00112233", out, &n), JF_ERR_CRYPTO);
    assert_int_equal(jf_webhook_secret_open(key, "", out, &n), JF_ERR_CRYPTO);
    assert_int_equal(jf_webhook_secret_open(key, NULL, out, &n), JF_ERR_CRYPTO);
    /* A secret longer than the cap is refused, not overflowed. */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    seal_hex(key, "webhook-secret", big, hex, 0);
    assert_int_equal(jf_webhook_secret_open(key, hex, out, &n), JF_ERR_CRYPTO);
}

static const struct {
    const char *s;
    int ok;
} header_cases[] = {
    {"notification.risk_high", 1},
    {"2b1f0c3e-8a47-4d7e-9a51-0d5b1f2e3c4d", 1},
    {"a\r\nX-Evil: 1", 0},
    {"tab\there", 0},
    {"取药", 0},
    {"", 0},
    {NULL, 0},
};

static void test_header_safe(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++)
        assert_int_equal(jf_webhook_header_safe(header_cases[i].s), header_cases[i].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign),        cmocka_unit_test(test_sign_covers_timestamp),
        cmocka_unit_test(test_backoff),     cmocka_unit_test(test_lease),
        cmocka_unit_test(test_secret_open), cmocka_unit_test(test_secret_refused),
        cmocka_unit_test(test_header_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
