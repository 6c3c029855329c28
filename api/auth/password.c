/* PBKDF2-HMAC-SHA256 password hashes. */
#include "password.h"
#include "../core/crypto.h"
#include "../core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define DK_LEN 32
#define PREFIX "pbkdf2-sha256$"
#define MAX_ITER 10000000UL

int jf_password_hash(const char *password, unsigned iterations, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN], dk[DK_LEN];
    char salt64[32], dk64[64];
    int n;

    if (jf_crypto_random(salt, sizeof(salt)) != 0)
        return JF_ERR_CRYPTO;
    if (jf_crypto_pbkdf2(password, strlen(password), salt, sizeof(salt), iterations, dk,
                         sizeof(dk)) != 0)
        return JF_ERR_CRYPTO;
    jf_crypto_b64url_encode(salt, sizeof(salt), salt64, sizeof(salt64));
    jf_crypto_b64url_encode(dk, sizeof(dk), dk64, sizeof(dk64));
    n = snprintf(out, outlen, PREFIX "%u$%s$%s", iterations, salt64, dk64);
    return n > 0 && (size_t)n < outlen ? 0 : JF_ERR_TOO_LARGE;
}

int jf_password_verify(const char *password, const char *stored)
{
    unsigned char salt[64], want[64], got[64];
    const char *p, *dollar1, *dollar2;
    char *end = NULL;
    unsigned long iter;
    int slen, dlen;

    if (stored == NULL || strncmp(stored, PREFIX, strlen(PREFIX)) != 0)
        return 0;
    p = stored + strlen(PREFIX);
    errno = 0;
    iter = strtoul(p, &end, 10);
    if (errno != 0 || end == p || *end != '$' || iter == 0 || iter > MAX_ITER)
        return 0;
    dollar1 = end;
    dollar2 = strchr(dollar1 + 1, '$');
    if (dollar2 == NULL)
        return 0;
    slen =
        jf_crypto_b64url_decode(dollar1 + 1, (size_t)(dollar2 - dollar1 - 1), salt, sizeof(salt));
    dlen = jf_crypto_b64url_decode(dollar2 + 1, strlen(dollar2 + 1), want, sizeof(want));
    /* Exactly our salt and hash sizes: a shortened stored hash must not
     * turn into a shorter comparison. */
    if (slen != SALT_LEN || dlen != DK_LEN)
        return 0;
    if (jf_crypto_pbkdf2(password, strlen(password), salt, (size_t)slen, (unsigned)iter, got,
                         (size_t)dlen) != 0)
        return 0;
    return jf_crypto_equal(got, want, (size_t)dlen);
}

void jf_password_dummy_verify(const char *password, unsigned iterations)
{
    static const unsigned char salt[SALT_LEN] = {0};
    unsigned char dk[DK_LEN];

    (void)jf_crypto_pbkdf2(password, strlen(password), salt, sizeof(salt), iterations, dk,
                           sizeof(dk));
}
