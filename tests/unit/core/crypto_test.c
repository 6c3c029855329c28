/* Unit tests for the OpenSSL wrappers (core/crypto.c): vectors, base64url, AES-GCM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../api/core/crypto.h"
#include "../../../api/core/err.h"

/* Lower-case hex of n bytes, for comparing with published vectors. */
static const char *hexs(const unsigned char *p, size_t n)
{
    static char out[2 * 128 + 1];

    assert_true(n <= 128);
    jf_crypto_hex(p, n, out);
    return out;
}

/* RFC 4648 §10 vectors in the url alphabet without padding. */
static const struct {
    const char *raw;
    size_t n;
    const char *enc;
} b64_rows[] = {
    {"", 0, ""},
    {"f", 1, "Zg"},
    {"fo", 2, "Zm8"},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg"},
    {"fooba", 5, "Zm9vYmE"},
    {"foobar", 6, "Zm9vYmFy"},
    {"\xfb\xff", 2, "-_8"},
    {"\xfb\xef\xbe", 3, "----"},
    {"\xff\xff\xff", 3, "____"},
    {"\x00\x10\x83", 3, "ABCD"},
    {"\x00", 1, "AA"},
};

static void test_b64url_encode(void **state)
{
    for (size_t i = 0; i < sizeof(b64_rows) / sizeof(b64_rows[0]); i++) {
        char out[16];
        int n = jf_crypto_b64url_encode((const unsigned char *)b64_rows[i].raw, b64_rows[i].n, out,
                                        sizeof(out));

        if (n != (int)strlen(b64_rows[i].enc) || strcmp(out, b64_rows[i].enc) != 0)
            fail_msg("row %zu: got %d \"%s\", want \"%s\"", i, n, n >= 0 ? out : "",
                     b64_rows[i].enc);
    }
}

static void test_b64url_decode(void **state)
{
    /* Padding is optional on input. */
    static const struct {
        const char *enc;
        const char *raw;
    } padded[] = {{"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9vYg==", "foob"}, {"Zm9v", "foo"}};

    for (size_t i = 0; i < sizeof(b64_rows) / sizeof(b64_rows[0]); i++) {
        unsigned char out[16];
        int n = jf_crypto_b64url_decode(b64_rows[i].enc, strlen(b64_rows[i].enc), out, sizeof(out));

        if (n != (int)b64_rows[i].n || memcmp(out, b64_rows[i].raw, b64_rows[i].n) != 0)
            fail_msg("row %zu (\"%s\"): got %d bytes", i, b64_rows[i].enc, n);
    }
    for (size_t i = 0; i < sizeof(padded) / sizeof(padded[0]); i++) {
        unsigned char out[16];
        int n = jf_crypto_b64url_decode(padded[i].enc, strlen(padded[i].enc), out, sizeof(out));

        assert_int_equal(n, strlen(padded[i].raw));
        assert_memory_equal(out, padded[i].raw, (size_t)n);
    }
}

static void test_b64url_decode_bad(void **state)
{
    static const struct {
        const char *in;
        size_t n; /* 0: strlen(in) */
    } rows[] = {
        {"Z", 0},                                    /* length 1 mod 4 */
        {"Zm9vY", 0},                                /* length 5 */
        {"Zm9vYmFyZ", 0}, {"Zm9v!", 0},              /* illegal character */
        {"Zm+v", 0},                                 /* the standard alphabet is not the url one */
        {"Zm/v", 0},      {"Zm 9v", 0}, {"Z=g", 0},  /* '=' only at the end */
        {"Zm9v\0Zg", 7},                             /* embedded NUL */
        {"Zg\n", 0},      {"王秀", 0},  {"Z===", 0}, /* 1 mod 4 once the padding is gone */
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char out[16];
        size_t n = rows[i].n ? rows[i].n : strlen(rows[i].in);
        int rc = jf_crypto_b64url_decode(rows[i].in, n, out, sizeof(out));

        if (rc != JF_ERR_INVALID)
            fail_msg("row %zu: got %d, want JF_ERR_INVALID", i, rc);
    }
}

static void test_b64url_short_buffers(void **state)
{
    static const struct {
        const char *raw;
        size_t n;
        size_t cap; /* encode output capacity (NUL included) */
        int ok;
    } enc[] = {
        {"", 0, 1, 1},    {"", 0, 0, 0},    {"f", 1, 3, 1},      {"f", 1, 2, 0},
        {"foo", 3, 5, 1}, {"foo", 3, 4, 0}, {"foobar", 6, 9, 1}, {"foobar", 6, 8, 0},
    };
    static const struct {
        const char *in;
        size_t cap; /* decode output capacity */
        int ok;
    } dec[] = {
        {"Zm9vYmFy", 6, 1}, {"Zm9vYmFy", 5, 0}, {"Zm8", 2, 1}, {"Zm8", 1, 0}, {"Zg", 0, 0},
    };

    for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
        char out[16];
        int rc =
            jf_crypto_b64url_encode((const unsigned char *)enc[i].raw, enc[i].n, out, enc[i].cap);

        if (enc[i].ok ? rc < 0 : rc != JF_ERR_TOO_LARGE)
            fail_msg("encode row %zu: got %d", i, rc);
    }
    for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
        unsigned char out[16];
        int rc = jf_crypto_b64url_decode(dec[i].in, strlen(dec[i].in), out, dec[i].cap);

        if (dec[i].ok ? rc != (int)dec[i].cap : rc != JF_ERR_TOO_LARGE)
            fail_msg("decode row %zu: got %d", i, rc);
    }
}

static void test_pbkdf2(void **state)
{
    /* RFC 7914 §11 and the commonly published PBKDF2-HMAC-SHA256 vectors
     * (checked against Python's hashlib.pbkdf2_hmac). */
    static const struct {
        const char *pass, *salt;
        unsigned iter;
        size_t dklen;
        const char *hex;
    } rows[] = {
        {"passwd", "salt", 1, 64,
         "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
         "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
        {"password", "salt", 1, 32,
         "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
        {"password", "salt", 2, 32,
         "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
        {"password", "salt", 4096, 32,
         "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
        {"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40,
         "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char dk[64];

        assert_int_equal(jf_crypto_pbkdf2(rows[i].pass, strlen(rows[i].pass),
                                          (const unsigned char *)rows[i].salt, strlen(rows[i].salt),
                                          rows[i].iter, dk, rows[i].dklen),
                         0);
        assert_string_equal(hexs(dk, rows[i].dklen), rows[i].hex);
    }
}

static void test_hmac_sha256(void **state)
{
    /* RFC 4231 test cases 1 and 2. */
    static const unsigned char key1[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                           0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                           0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
    static const struct {
        const void *key;
        size_t klen;
        const char *data;
        const char *hex;
    } rows[] = {
        {key1, sizeof(key1), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 4, "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char mac[JF_SHA256_LEN];

        jf_crypto_hmac_sha256(rows[i].key, rows[i].klen, rows[i].data, strlen(rows[i].data), mac);
        assert_string_equal(hexs(mac, sizeof(mac)), rows[i].hex);
    }
}

static void test_sha256(void **state)
{
    static const struct {
        const char *in, *hex;
    } rows[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char md[JF_SHA256_LEN];

        jf_crypto_sha256(rows[i].in, strlen(rows[i].in), md);
        assert_string_equal(hexs(md, sizeof(md)), rows[i].hex);
    }
}

static const unsigned char key_a[32] = "0123456789abcdef0123456789abcde";
static const unsigned char key_b[32] = "0123456789abcdef0123456789abcdX";

static void test_seal_open(void **state)
{
    static const struct {
        const char *plain;
        size_t n;
        const char *aad; /* NULL: none */
    } rows[] = {
        {"", 0, NULL},
        {"x", 1, NULL},
        {"110101199003071234", 18, NULL},
        {"110101199003071234", 18, "patients.id_number"},
        {"0123456789abcdef", 16, "a"},
        {"王秀兰 13800138000 某某村三组", 0, "patients.name"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t n = rows[i].n ? rows[i].n : strlen(rows[i].plain);
        size_t aadlen = rows[i].aad ? strlen(rows[i].aad) : 0;
        unsigned char sealed[128], opened[128];

        assert_int_equal(jf_crypto_seal(key_a, rows[i].aad, aadlen, rows[i].plain, n, sealed), 0);
        if (n >= 8) /* shorter ones could match by chance */
            assert_memory_not_equal(sealed + JF_GCM_IV_LEN, rows[i].plain, n);
        memset(opened, 0, sizeof(opened));
        assert_int_equal(jf_crypto_open(key_a, rows[i].aad, aadlen, sealed, n + 28, opened), 0);
        assert_memory_equal(opened, rows[i].plain, n);
    }
}

static void test_open_tampered(void **state)
{
    enum { FLIP_IV, FLIP_CT, FLIP_TAG, WRONG_AAD, NO_AAD, EXTRA_AAD, WRONG_KEY, TRUNCATE, SHORT };
    static const struct {
        const char *name;
        int how;
        const char *aad;
    } rows[] = {
        {"iv flipped", FLIP_IV, "ctx"},        {"ciphertext flipped", FLIP_CT, "ctx"},
        {"tag flipped", FLIP_TAG, "ctx"},      {"other aad", WRONG_AAD, "ctx"},
        {"aad dropped", NO_AAD, "ctx"},        {"aad added", EXTRA_AAD, NULL},
        {"other key", WRONG_KEY, "ctx"},       {"last byte cut", TRUNCATE, "ctx"},
        {"shorter than iv+tag", SHORT, "ctx"},
    };
    static const char plain[] = "13800138000";
    const size_t n = sizeof(plain) - 1, len = n + JF_GCM_IV_LEN + JF_GCM_TAG_LEN;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char sealed[64], opened[64];
        const unsigned char *key = key_a;
        const char *aad = rows[i].aad;
        size_t inlen = len;
        int rc;

        assert_int_equal(jf_crypto_seal(key_a, aad, aad ? strlen(aad) : 0, plain, n, sealed), 0);
        switch (rows[i].how) {
        case FLIP_IV:
            sealed[0] ^= 1;
            break;
        case FLIP_CT:
            sealed[JF_GCM_IV_LEN + 3] ^= 0x80;
            break;
        case FLIP_TAG:
            sealed[len - 1] ^= 1;
            break;
        case WRONG_AAD:
            aad = "cty";
            break;
        case NO_AAD:
            aad = NULL;
            break;
        case EXTRA_AAD:
            aad = "ctx";
            break;
        case WRONG_KEY:
            key = key_b;
            break;
        case TRUNCATE:
            inlen = len - 1;
            break;
        case SHORT:
            inlen = JF_GCM_IV_LEN + JF_GCM_TAG_LEN - 1;
            break;
        }
        rc = jf_crypto_open(key, aad, aad ? strlen(aad) : 0, sealed, inlen, opened);
        if (rc != JF_ERR_CRYPTO)
            fail_msg("%s: got %d, want JF_ERR_CRYPTO", rows[i].name, rc);
    }
}

static void test_seal_random_iv(void **state)
{
    static const char plain[] = "same plaintext";
    unsigned char s1[64], s2[64];
    const size_t len = sizeof(plain) - 1 + 28;

    assert_int_equal(jf_crypto_seal(key_a, NULL, 0, plain, sizeof(plain) - 1, s1), 0);
    assert_int_equal(jf_crypto_seal(key_a, NULL, 0, plain, sizeof(plain) - 1, s2), 0);
    assert_memory_not_equal(s1, s2, JF_GCM_IV_LEN);
    assert_memory_not_equal(s1 + JF_GCM_IV_LEN, s2 + JF_GCM_IV_LEN, len - JF_GCM_IV_LEN);
}

static void test_hex(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *hex;
    } rows[] = {
        {"", 0, ""},
        {"\x00", 1, "00"},
        {"\x00\xff\x10\xab\x7f", 5, "00ff10ab7f"},
        {"abc", 3, "616263"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[16];

        memset(out, 'X', sizeof(out));
        jf_crypto_hex((const unsigned char *)rows[i].in, rows[i].n, out);
        assert_string_equal(out, rows[i].hex);
    }
}

/* Back from hex: exactly 2n digits of either case, or refused. */
static void test_unhex(void **state)
{
    static const struct {
        const char *hex;
        size_t n;
        int rc;
        const char *out;
    } rows[] = {
        {"", 0, 0, ""},
        {"00ff10AB7f", 5, 0, "\x00\xff\x10\xab\x7f"},
        {"616263", 3, 0, "abc"},
        {"61626", 3, JF_ERR_INVALID, NULL},    /* one digit short */
        {"6162", 3, JF_ERR_INVALID, NULL},     /* a byte short */
        {"61626364", 3, JF_ERR_INVALID, NULL}, /* one byte over */
        {"6g6263", 3, JF_ERR_INVALID, NULL},   /* not a digit */
        {"61 263", 3, JF_ERR_INVALID, NULL},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char out[8];

        assert_int_equal(jf_crypto_unhex(rows[i].hex, out, rows[i].n), rows[i].rc);
        if (rows[i].rc == 0)
            assert_memory_equal(out, rows[i].out, rows[i].n);
    }
}

static void test_equal(void **state)
{
    static const struct {
        const char *a, *b;
        size_t n;
        int want;
    } rows[] = {
        {"abcdef", "abcdef", 6, 1},
        {"abcdef", "xbcdef", 6, 0},
        {"abcdef", "abcdex", 6, 0},
        {"abcdef", "abcdex", 5, 1},
        {"", "", 0, 1},
        {"a", "b", 0, 1},
        {"\x00\x01", "\x00\x02", 2, 0},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_crypto_equal(rows[i].a, rows[i].b, rows[i].n) != rows[i].want)
            fail_msg("row %zu: want %d", i, rows[i].want);
}

static void test_random(void **state)
{
    unsigned char a[32], b[32];

    assert_int_equal(jf_crypto_random(a, sizeof(a)), 0);
    assert_int_equal(jf_crypto_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_encode),
        cmocka_unit_test(test_b64url_decode),
        cmocka_unit_test(test_b64url_decode_bad),
        cmocka_unit_test(test_b64url_short_buffers),
        cmocka_unit_test(test_pbkdf2),
        cmocka_unit_test(test_hmac_sha256),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_open_tampered),
        cmocka_unit_test(test_seal_random_iv),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_unhex),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
