/* OpenSSL wrappers: one place where every return code is checked. */
#include "crypto.h"
#include "err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

/* AES-256-GCM fetched once: OpenSSL 3 looks an algorithm up by name at every
 * EVP_*Init_ex given EVP_aes_256_gcm(), which was a third of the cost of
 * decrypting an ID number for a patient read. Held until exit. */
static EVP_CIPHER *gcm;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_fetch(void)
{
    gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *aes_gcm(void)
{
    pthread_once(&gcm_once, gcm_fetch);
    return gcm != NULL ? gcm : EVP_aes_256_gcm();
}

int jf_crypto_random(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : JF_ERR_CRYPTO;
}

void jf_crypto_sha256(const void *data, size_t n, unsigned char out[JF_SHA256_LEN])
{
    SHA256(data, n, out);
}

void jf_crypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t n,
                           unsigned char out[JF_SHA256_LEN])
{
    unsigned int len = JF_SHA256_LEN;

    HMAC(EVP_sha256(), key, (int)klen, data, n, out, &len);
}

int jf_crypto_pbkdf2(const char *pass, size_t plen, const unsigned char *salt, size_t slen,
                     unsigned iterations, unsigned char *out, size_t outlen)
{
    return PKCS5_PBKDF2_HMAC(pass, (int)plen, salt, (int)slen, (int)iterations, EVP_sha256(),
                             (int)outlen, out) == 1
               ? 0
               : JF_ERR_CRYPTO;
}

int jf_crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int jf_crypto_seal(const unsigned char key[32], const void *aad, size_t aadlen, const void *plain,
                   size_t n, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len, rc = JF_ERR_CRYPTO;
    unsigned char *iv = out, *ct = out + JF_GCM_IV_LEN;

    if (ctx == NULL)
        return JF_ERR_CRYPTO;
    if (jf_crypto_random(iv, JF_GCM_IV_LEN) != 0)
        goto out;
    if (EVP_EncryptInit_ex(ctx, aes_gcm(), NULL, key, iv) != 1)
        goto out;
    if (aad != NULL && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
        goto out;
    if (EVP_EncryptUpdate(ctx, ct, &len, plain, (int)n) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, ct + len, &len) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, JF_GCM_TAG_LEN, ct + n) != 1)
        goto out;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int jf_crypto_open(const unsigned char key[32], const void *aad, size_t aadlen,
                   const unsigned char *in, size_t inlen, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx;
    int len, rc = JF_ERR_CRYPTO;
    size_t n;
    unsigned char tag[JF_GCM_TAG_LEN];

    if (inlen < JF_GCM_IV_LEN + JF_GCM_TAG_LEN)
        return JF_ERR_CRYPTO;
    n = inlen - JF_GCM_IV_LEN - JF_GCM_TAG_LEN;
    memcpy(tag, in + JF_GCM_IV_LEN + n, JF_GCM_TAG_LEN);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return JF_ERR_CRYPTO;
    if (EVP_DecryptInit_ex(ctx, aes_gcm(), NULL, key, in) != 1)
        goto out;
    if (aad != NULL && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
        goto out;
    if (EVP_DecryptUpdate(ctx, out, &len, in + JF_GCM_IV_LEN, (int)n) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, JF_GCM_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_DecryptFinal_ex(ctx, out + len, &len) != 1)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        OPENSSL_cleanse(out, n); /* never leave unverified plaintext behind */
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int jf_crypto_b64url_encode(const unsigned char *in, size_t n, char *out, size_t outcap)
{
    size_t need = (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0) + 1, o = 0, i;

    if (outcap < need)
        return JF_ERR_TOO_LARGE;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
    return (int)o;
}

static int b64val(int c)
{
    const char *p;

    if (c == '\0')
        return -1;
    p = strchr(b64url, c);
    return p ? (int)(p - b64url) : -1;
}

int jf_crypto_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap)
{
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;

    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return JF_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            return JF_ERR_INVALID;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap)
                return JF_ERR_TOO_LARGE;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    return (int)o;
}

void jf_crypto_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int jf_crypto_unhex(const char *in, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;

        if (in[2 * i] == '\0' || (hi = hexval(in[2 * i])) < 0 || (lo = hexval(in[2 * i + 1])) < 0)
            return JF_ERR_INVALID;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return in[2 * n] == '\0' ? 0 : JF_ERR_INVALID;
}
