/* Thin, checked wrappers over OpenSSL for what the service needs: random
 * bytes, SHA-256, HMAC-SHA256, PBKDF2, AES-256-GCM, base64url, hex. */
#ifndef JF_CRYPTO_H
#define JF_CRYPTO_H

#include <stddef.h>

#define JF_SHA256_LEN 32
#define JF_GCM_IV_LEN 12
#define JF_GCM_TAG_LEN 16

/* n cryptographically strong random bytes. 0 or JF_ERR_CRYPTO. */
int jf_crypto_random(void *out, size_t n);
void jf_crypto_sha256(const void *data, size_t n, unsigned char out[JF_SHA256_LEN]);
void jf_crypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t n,
                           unsigned char out[JF_SHA256_LEN]);
/* PBKDF2-HMAC-SHA256. 0 or JF_ERR_CRYPTO. */
int jf_crypto_pbkdf2(const char *pass, size_t plen, const unsigned char *salt, size_t slen,
                     unsigned iterations, unsigned char *out, size_t outlen);
/* Constant-time equality of two n-byte buffers: 1 equal, 0 not. */
int jf_crypto_equal(const void *a, const void *b, size_t n);

/* AES-256-GCM. Output layout: iv(12) || ciphertext(n) || tag(16); out must
 * hold n + 28 bytes. aad may be NULL. 0 or JF_ERR_CRYPTO. */
int jf_crypto_seal(const unsigned char key[32], const void *aad, size_t aadlen, const void *plain,
                   size_t n, unsigned char *out);
/* Reverse of jf_crypto_seal; in is iv||ct||tag of inlen bytes, out gets
 * inlen - 28 bytes. JF_ERR_CRYPTO when the tag does not verify. */
int jf_crypto_open(const unsigned char key[32], const void *aad, size_t aadlen,
                   const unsigned char *in, size_t inlen, unsigned char *out);

/* base64url without padding. Returns the length written (plus a NUL), or
 * JF_ERR_TOO_LARGE when outcap is short. */
int jf_crypto_b64url_encode(const unsigned char *in, size_t n, char *out, size_t outcap);
/* Decode base64url (padding optional). Returns bytes written or a negative
 * jf_err for bad input or a short buffer. */
int jf_crypto_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void jf_crypto_hex(const unsigned char *in, size_t n, char *out);
/* The n bytes of the NUL-terminated hex string in, which must be exactly 2n
 * digits (either case): 0, or JF_ERR_INVALID. */
int jf_crypto_unhex(const char *in, unsigned char *out, size_t n);

#endif
