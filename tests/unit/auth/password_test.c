/* Unit tests for password hashing (auth/password.c): round trip, format, malformed hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../../api/auth/password.h"
#include "../../../api/core/crypto.h"
#include "../../../api/core/err.h"

#define ITER 1000 /* the API takes the count; keep the suite fast */

static const char pw[] = "correct horse battery";

static void test_hash_verify(void **state)
{
    static const struct {
        const char *attempt;
        int want;
    } rows[] = {
        {"correct horse battery", 1},
        {"correct horse batterY", 0},
        {"correct horse batter", 0},
        {"correct horse battery ", 0},
        {"", 0},
        {"Correct horse battery", 0},
    };
    char stored[JF_PASSWORD_HASH_MAX];

    assert_int_equal(jf_password_hash(pw, ITER, stored, sizeof(stored)), 0);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (jf_password_verify(rows[i].attempt, stored) != rows[i].want)
            fail_msg("\"%s\": want %d", rows[i].attempt, rows[i].want);
}

static void test_unicode_password(void **state)
{
    char stored[JF_PASSWORD_HASH_MAX];

    assert_int_equal(jf_password_hash("王秀兰的密码-2024", ITER, stored, sizeof(stored)), 0);
    assert_int_equal(jf_password_verify("王秀兰的密码-2024", stored), 1);
    assert_int_equal(jf_password_verify("王秀兰的密码-2025", stored), 0);
}

/* "pbkdf2-sha256$1000$<22 chars: 16-byte salt>$<43 chars: 32-byte hash>". */
static void test_format(void **state)
{
    char stored[JF_PASSWORD_HASH_MAX];
    const char *salt, *hash;
    unsigned char raw[64];

    assert_int_equal(jf_password_hash(pw, ITER, stored, sizeof(stored)), 0);
    assert_true(strncmp(stored, "pbkdf2-sha256$1000$", 19) == 0);
    salt = stored + 19;
    hash = strchr(salt, '$');
    assert_non_null(hash);
    hash++;
    assert_int_equal(hash - salt - 1, 22);
    assert_int_equal(strlen(hash), 43);
    assert_null(strchr(hash, '$'));
    assert_int_equal(jf_crypto_b64url_decode(salt, 22, raw, sizeof(raw)), 16);
    assert_int_equal(jf_crypto_b64url_decode(hash, 43, raw, sizeof(raw)), 32);
    assert_true(strlen(stored) < JF_PASSWORD_HASH_MAX);
}

static void test_salted(void **state)
{
    char a[JF_PASSWORD_HASH_MAX], b[JF_PASSWORD_HASH_MAX];

    assert_int_equal(jf_password_hash(pw, ITER, a, sizeof(a)), 0);
    assert_int_equal(jf_password_hash(pw, ITER, b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(jf_password_verify(pw, a), 1);
    assert_int_equal(jf_password_verify(pw, b), 1);
}

static void test_hash_errors(void **state)
{
    char small[40];
    char stored[JF_PASSWORD_HASH_MAX];

    assert_int_equal(jf_password_hash(pw, ITER, small, sizeof(small)), JF_ERR_TOO_LARGE);
    /* Zero iterations is not a hash at all. */
    assert_int_not_equal(jf_password_hash(pw, 0, stored, sizeof(stored)), 0);
}

/* Expand a row pattern: {s} is the salt, {h} the hash, {h42} its first 42
 * characters, of a valid stored string. */
static void expand(const char *pat, const char *salt, const char *hash, char *out, size_t cap)
{
    size_t o = 0;

    while (*pat && o + 1 < cap) {
        const char *sub = NULL;
        size_t subn = 0, skip = 0;

        if (strncmp(pat, "{s}", 3) == 0) {
            sub = salt;
            subn = strlen(salt);
            skip = 3;
        } else if (strncmp(pat, "{h}", 3) == 0) {
            sub = hash;
            subn = strlen(hash);
            skip = 3;
        } else if (strncmp(pat, "{h42}", 5) == 0) {
            sub = hash;
            subn = 42;
            skip = 5;
        } else {
            out[o++] = *pat++;
            continue;
        }
        assert_true(o + subn < cap);
        memcpy(out + o, sub, subn);
        o += subn;
        pat += skip;
    }
    out[o] = '\0';
}

/* Each row breaks one part of an otherwise valid hash of pw, and is checked
 * with the right password: only the malformation can make it fail. */
static void test_malformed(void **state)
{
    static const struct {
        const char *name;
        const char *pat;
        int want;
    } rows[] = {
        {"reference (valid)", "pbkdf2-sha256$1000${s}${h}", 1},
        {"wrong prefix", "pbkdf2-sha1$1000${s}${h}", 0},
        {"prefix without $", "pbkdf2-sha256 1000${s}${h}", 0},
        {"upper-case prefix", "PBKDF2-SHA256$1000${s}${h}", 0},
        {"no prefix", "1000${s}${h}", 0},
        {"iterations 0", "pbkdf2-sha256$0${s}${h}", 0},
        {"iterations 10000001", "pbkdf2-sha256$10000001${s}${h}", 0},
        {"iterations negative", "pbkdf2-sha256$-1000${s}${h}", 0},
        {"iterations overflow", "pbkdf2-sha256$99999999999999999999999${s}${h}", 0},
        {"iterations non-numeric", "pbkdf2-sha256$abc${s}${h}", 0},
        {"iterations with suffix", "pbkdf2-sha256$1000x${s}${h}", 0},
        {"iterations empty", "pbkdf2-sha256$${s}${h}", 0},
        {"iterations other", "pbkdf2-sha256$1001${s}${h}", 0},
        {"salt missing", "pbkdf2-sha256$1000${h}", 0},
        {"hash missing", "pbkdf2-sha256$1000${s}", 0},
        {"salt empty", "pbkdf2-sha256$1000$${h}", 0},
        {"hash empty", "pbkdf2-sha256$1000${s}$", 0},
        {"salt bad base64", "pbkdf2-sha256$1000$!!!!!!!!${h}", 0},
        {"hash bad base64", "pbkdf2-sha256$1000${s}$****", 0},
        {"hash length 1 mod 4", "pbkdf2-sha256$1000${s}${h}AA", 0},
        {"salt and hash swapped", "pbkdf2-sha256$1000${h}${s}", 0},
        /* A hash shorter than the 32 bytes of SHA-256 is malformed: verifying
         * it would compare only a prefix. */
        {"hash cut to 31 bytes", "pbkdf2-sha256$1000${s}${h42}", 0},
    };
    char stored[JF_PASSWORD_HASH_MAX], salt[32], hash[64], bad[256];
    const char *s, *h;

    assert_int_equal(jf_password_hash(pw, ITER, stored, sizeof(stored)), 0);
    s = stored + strlen("pbkdf2-sha256$1000$");
    h = strchr(s, '$') + 1;
    snprintf(salt, sizeof(salt), "%.*s", (int)(h - s - 1), s);
    snprintf(hash, sizeof(hash), "%s", h);

    assert_int_equal(jf_password_verify(pw, NULL), 0);
    assert_int_equal(jf_password_verify(pw, ""), 0);
    assert_int_equal(jf_password_verify(pw, "pbkdf2-sha256$"), 0);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got;

        expand(rows[i].pat, salt, hash, bad, sizeof(bad));
        got = jf_password_verify(pw, bad);
        if (got != rows[i].want)
            fail_msg("%s (\"%s\"): got %d, want %d", rows[i].name, bad, got, rows[i].want);
    }
}

/* The stored hash is 32 bytes; a shorter one must not turn into a short
 * comparison that another password passes. With a 1-byte hash about one
 * password in 256 collides: find one and check it is refused. */
static void test_short_hash_collision(void **state)
{
    static const unsigned char salt[16] = "fixed-salt-16byt";
    unsigned char dk[1], other[1];
    char salt64[32], dk64[8], stored[128], guess[32];
    int found = 0;

    assert_int_equal(jf_crypto_pbkdf2(pw, strlen(pw), salt, sizeof(salt), 1, dk, 1), 0);
    jf_crypto_b64url_encode(salt, sizeof(salt), salt64, sizeof(salt64));
    jf_crypto_b64url_encode(dk, 1, dk64, sizeof(dk64));
    snprintf(stored, sizeof(stored), "pbkdf2-sha256$1$%s$%s", salt64, dk64);
    for (int i = 0; i < 100000 && !found; i++) {
        snprintf(guess, sizeof(guess), "guess-%d", i);
        assert_int_equal(jf_crypto_pbkdf2(guess, strlen(guess), salt, sizeof(salt), 1, other, 1),
                         0);
        found = other[0] == dk[0];
    }
    assert_true(found);
    assert_int_equal(jf_password_verify(guess, stored), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_unicode_password),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_salted),
        cmocka_unit_test(test_hash_errors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_short_hash_collision),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
