/* JWT issue and verification over libjwt 1.10, which takes the algorithm
 * from the token, skips the signature with an empty key and never checks
 * exp: every one of those is checked here instead. A token's JSON is parsed
 * only after its bytes are known to be ours (see token_ours). */
#include "token.h"
#include "../core/crypto.h"
#include "../core/err.h"

#include <jwt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 4096
#define CLOCK_SKEW_S 30
/* base64url of the header libjwt writes for our tokens, {"alg":"HS256","typ":"JWT"}
 * (the unit test checks that issued tokens start with it). */
#define TOKEN_HEADER "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
#define SIG_B64_LEN 43      /* 32 bytes of HMAC-SHA256, base64url without padding */
#define PAYLOAD_DEPTH_MAX 1 /* our claims are one flat object */

int jf_token_issue(const jf_config *cfg, const jf_claims *c, time_t now, char **out)
{
    jwt_t *jwt = NULL;
    unsigned char jti_raw[12];
    char jti[24], sub[24];
    int rc = JF_ERR_CRYPTO;

    *out = NULL;
    if (jf_crypto_random(jti_raw, sizeof(jti_raw)) != 0)
        return JF_ERR_CRYPTO;
    jf_crypto_b64url_encode(jti_raw, sizeof(jti_raw), jti, sizeof(jti));
    snprintf(sub, sizeof(sub), "%lld", c->user_id);
    if (jwt_new(&jwt) != 0)
        return JF_ERR_NOMEM;
    if (jwt_add_grant(jwt, "iss", cfg->jwt_issuer) ||
        jwt_add_grant(jwt, "aud", cfg->jwt_audience) || jwt_add_grant(jwt, "sub", sub) ||
        jwt_add_grant(jwt, "jti", jti) || jwt_add_grant(jwt, "name", c->username) ||
        jwt_add_grant(jwt, "role", c->role) || jwt_add_grant_int(jwt, "ou", (long)c->org_unit_id) ||
        jwt_add_grant(jwt, "oup", c->org_path) ||
        jwt_add_grant_int(jwt, "ag", (long)c->agency_id) ||
        jwt_add_grant_int(jwt, "iat", (long)now) || jwt_add_grant_int(jwt, "nbf", (long)now) ||
        jwt_add_grant_int(jwt, "exp", (long)(now + cfg->access_ttl_s)))
        goto out;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->jwt_secret,
                    (int)cfg->jwt_secret_len) != 0)
        goto out;
    *out = jwt_encode_str(jwt);
    rc = *out ? 0 : JF_ERR_CRYPTO;
out:
    jwt_free(jwt);
    return rc;
}

static int copy_grant(jwt_t *jwt, const char *name, char *dst, size_t dstlen)
{
    const char *v = jwt_get_grant(jwt, name);
    size_t n;

    if (v == NULL)
        return -1;
    n = strlen(v);
    if (n == 0 || n >= dstlen)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Deepest nesting of objects and arrays in JSON text p[0..n), strings
 * skipped; 0 for a scalar. Used on a signed payload before it is parsed, so
 * that the parser's recursion stays within a worker's 100 KB stack. */
static int json_depth(const unsigned char *p, size_t n)
{
    int depth = 0, max = 0;
    bool in_str = false;

    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                in_str = false;
        } else if (p[i] == '"') {
            in_str = true;
        } else if (p[i] == '{' || p[i] == '[') {
            if (++depth > max)
                max = depth;
        } else if (p[i] == '}' || p[i] == ']') {
            depth--;
        }
    }
    return max;
}

/* Is token "<our header>.<payload>.<HMAC-SHA256 of the two under our key>"
 * with a flat payload? Checked on the bytes, before any JSON is parsed: a
 * forged token nested a thousand deep used to overflow the worker's stack
 * inside libjwt's parser before its signature was looked at. */
static bool token_ours(const jf_config *cfg, const char *token, size_t len, const char **why)
{
    const size_t hlen = sizeof(TOKEN_HEADER) - 1;
    unsigned char mac[JF_SHA256_LEN], payload[TOKEN_MAX / 4 * 3];
    char sig[SIG_B64_LEN + 2];
    const char *p, *dot;
    int n;

    *why = "malformed token";
    if (len <= hlen + 1 + 1 + SIG_B64_LEN || memcmp(token, TOKEN_HEADER, hlen) != 0 ||
        token[hlen] != '.')
        return false;
    p = token + hlen + 1;
    dot = memchr(p, '.', len - hlen - 1);
    if (dot == NULL || dot == p || (size_t)(token + len - (dot + 1)) != SIG_B64_LEN)
        return false;
    *why = "bad signature";
    jf_crypto_hmac_sha256(cfg->jwt_secret, cfg->jwt_secret_len, token, (size_t)(dot - token), mac);
    if (jf_crypto_b64url_encode(mac, sizeof(mac), sig, sizeof(sig)) < 0 ||
        !jf_crypto_equal(sig, dot + 1, SIG_B64_LEN))
        return false;
    *why = "malformed token";
    n = jf_crypto_b64url_decode(p, (size_t)(dot - p), payload, sizeof(payload));
    return n > 0 && json_depth(payload, (size_t)n) <= PAYLOAD_DEPTH_MAX;
}

int jf_token_verify(const jf_config *cfg, const char *token, time_t now, jf_claims *c,
                    const char **why)
{
    jwt_t *jwt = NULL;
    const char *v;
    char *end;
    size_t len;
    long exp, nbf;
    int rc = JF_ERR_AUTH;

    memset(c, 0, sizeof(*c));
    *why = "malformed token";
    if (token == NULL)
        return JF_ERR_AUTH;
    len = strnlen(token, TOKEN_MAX + 1);
    if (len > TOKEN_MAX || !token_ours(cfg, token, len, why))
        return JF_ERR_AUTH;
    /* The key is always passed: with a key, libjwt refuses alg "none"
     * tokens and checks the HMAC of whatever HS* the header names. */
    if (jwt_decode(&jwt, token, (const unsigned char *)cfg->jwt_secret, (int)cfg->jwt_secret_len) !=
        0) {
        *why = "bad signature or malformed token";
        return JF_ERR_AUTH;
    }
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        *why = "unexpected algorithm";
        goto out;
    }
    v = jwt_get_grant(jwt, "iss");
    if (v == NULL || strcmp(v, cfg->jwt_issuer) != 0) {
        *why = "wrong issuer";
        goto out;
    }
    v = jwt_get_grant(jwt, "aud");
    if (v == NULL || strcmp(v, cfg->jwt_audience) != 0) {
        *why = "wrong audience";
        goto out;
    }
    exp = jwt_get_grant_int(jwt, "exp");
    if (exp <= 0 || now >= exp) {
        *why = "token expired";
        goto out;
    }
    nbf = jwt_get_grant_int(jwt, "nbf");
    if (nbf <= 0 || now + CLOCK_SKEW_S < nbf) {
        *why = "token not yet valid";
        goto out;
    }
    *why = "missing claims";
    v = jwt_get_grant(jwt, "sub");
    if (v == NULL)
        goto out;
    if (*v < '1' || *v > '9' || strlen(v) > 18)
        goto out;
    c->user_id = strtoll(v, &end, 10);
    if (*end != '\0' || c->user_id <= 0)
        goto out;
    if (copy_grant(jwt, "name", c->username, sizeof(c->username)) ||
        copy_grant(jwt, "role", c->role, sizeof(c->role)) ||
        copy_grant(jwt, "oup", c->org_path, sizeof(c->org_path)))
        goto out;
    c->org_unit_id = jwt_get_grant_int(jwt, "ou");
    c->agency_id = jwt_get_grant_int(jwt, "ag");
    if (c->org_unit_id <= 0 || c->agency_id < 0)
        goto out;
    c->exp = exp;
    *why = NULL;
    rc = 0;
out:
    jwt_free(jwt);
    return rc;
}
