/* Password hashing: PBKDF2-HMAC-SHA256 through OpenSSL, stored as
 * "pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>". */
#ifndef JF_PASSWORD_H
#define JF_PASSWORD_H

#include <stddef.h>

#define JF_PASSWORD_HASH_MAX 160
#define JF_PASSWORD_MIN_LEN 12
#define JF_PASSWORD_MAX_LEN 128

/* Hash password with a fresh 16-byte salt into out (JF_PASSWORD_HASH_MAX). */
int jf_password_hash(const char *password, unsigned iterations, char *out, size_t outlen);
/* 1 when password matches stored, 0 when not (or stored is malformed).
 * The comparison is constant-time; iterations above 10 million are refused
 * so that a tampered row cannot stall a worker. */
int jf_password_verify(const char *password, const char *stored);
/* Burn the same time as a real verification, for unknown users. */
void jf_password_dummy_verify(const char *password, unsigned iterations);

#endif
