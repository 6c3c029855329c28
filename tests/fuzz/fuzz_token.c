/* libFuzzer target: access-token verification (api/auth/token.c), the first
 * code an unauthenticated request reaches. The first input byte picks what
 * the rest is: 0 a whole token as sent; 1 a payload, 2 a header, each
 * signed with the verifier's key so that the fuzzer gets past the
 * signature to the JSON (a forged token never would). Invariants: never a
 * crash; an accepted token carries claims that the rules allow. */
#include "../../api/auth/token.h"
#include "../../api/core/crypto.h"
#include "../../api/core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000L
#define KEY "0123456789abcdef0123456789abcdef"
#define HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define PAYLOAD                                                                                    \
    "{\"iss\":\"jingfang\",\"aud\":\"jingfang-api\",\"sub\":\"42\",\"name\":\"wang\","             \
    "\"role\":\"doctor\",\"ou\":9,\"oup\":\"/1/9/\",\"ag\":3,\"nbf\":1700000000,"                  \
    "\"exp\":1700000900}"

static jf_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memcpy(cfg.jwt_secret, KEY, sizeof(KEY));
    cfg.jwt_secret_len = strlen(KEY);
    memcpy(cfg.jwt_issuer, "jingfang", 9);
    memcpy(cfg.jwt_audience, "jingfang-api", 13);
    cfg.access_ttl_s = 900;
    return 0;
}

/* b64url(header).b64url(payload).b64url(HMAC) into a malloc'd string. */
static char *sign(const uint8_t *h, size_t hn, const uint8_t *p, size_t pn)
{
    size_t cap = (hn + pn) * 4 / 3 + 64;
    char *t = malloc(cap);
    unsigned char mac[JF_SHA256_LEN];
    int n;

    n = jf_crypto_b64url_encode(h, hn, t, cap);
    t[n++] = '.';
    n += jf_crypto_b64url_encode(p, pn, t + n, cap - (size_t)n);
    jf_crypto_hmac_sha256(KEY, strlen(KEY), t, (size_t)n, mac);
    t[n++] = '.';
    jf_crypto_b64url_encode(mac, sizeof(mac), t + n, cap - (size_t)n);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok;
    jf_claims c;
    const char *why;

    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        tok = malloc(size);
        memcpy(tok, data + 1, size - 1);
        tok[size - 1] = '\0';
        break;
    case 1:
        tok = sign((const uint8_t *)HEADER, strlen(HEADER), data + 1, size - 1);
        break;
    default:
        tok = sign(data + 1, size - 1, (const uint8_t *)PAYLOAD, strlen(PAYLOAD));
        break;
    }
    if (jf_token_verify(&cfg, tok, NOW, &c, &why) == 0) {
        if (c.user_id <= 0 || c.org_unit_id <= 0 || c.agency_id < 0 || c.username[0] == '\0' ||
            c.role[0] == '\0' || c.org_path[0] == '\0' || c.exp <= NOW || why != NULL)
            abort();
    } else if (why == NULL) {
        abort();
    }
    free(tok);
    return 0;
}
