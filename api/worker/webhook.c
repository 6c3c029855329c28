/* The webhook wire contract: signatures, sealed secrets, backoff, leases. */
#include "webhook.h"
#include "../core/buf.h"
#include "../core/crypto.h"
#include "../core/err.h"

#include <openssl/crypto.h>
#include <string.h>

/* A lease never shorter than this: a killed worker's claims come back
 * after at most this long (plus one batch's worth of timeouts). */
#define LEASE_MIN_S 300
/* Room past the sum of timeouts, for the database round trips. */
#define LEASE_MARGIN_S 60

int jf_webhook_secret_open(const unsigned char key[32], const char *hex, unsigned char *out,
                           size_t *outlen)
{
    unsigned char sealed[JF_WEBHOOK_SECRET_MAX + JF_GCM_IV_LEN + JF_GCM_TAG_LEN];
    size_t n, len;
    int rc = JF_ERR_CRYPTO;

    if (hex == NULL)
        goto out;
    if (hex[0] == '\\' && hex[1] == 'x')
        hex += 2;
    len = strlen(hex);
    n = len / 2;
    if (len % 2 != 0 || n <= JF_GCM_IV_LEN + JF_GCM_TAG_LEN || n > sizeof(sealed))
        goto out;
    if (jf_crypto_unhex(hex, sealed, n) != 0)
        goto out;
    if (jf_crypto_open(key, JF_WEBHOOK_SECRET_AAD, strlen(JF_WEBHOOK_SECRET_AAD), sealed, n, out) !=
        0)
        goto out;
    *outlen = n - JF_GCM_IV_LEN - JF_GCM_TAG_LEN;
    rc = 0;
out:
    OPENSSL_cleanse(sealed, sizeof(sealed));
    return rc;
}

int jf_webhook_sign(const unsigned char *secret, size_t slen, const char *timestamp,
                    const char *body, size_t blen, char out[JF_WEBHOOK_SIG_LEN])
{
    unsigned char mac[JF_SHA256_LEN];
    jf_buf msg;
    int rc;

    /* The signed message is timestamp "." body; the body may be large, so
     * it is assembled on the heap, capped at what the caller holds. */
    jf_buf_init(&msg, strlen(timestamp) + 1 + blen);
    out[0] = '\0';
    rc = jf_buf_puts(&msg, timestamp);
    if (rc == 0)
        rc = jf_buf_append(&msg, ".", 1);
    if (rc == 0)
        rc = jf_buf_append(&msg, body, blen);
    if (rc != 0)
        goto out;
    jf_crypto_hmac_sha256(secret, slen, msg.data, msg.len, mac);
    memcpy(out, "sha256=", 7);
    jf_crypto_hex(mac, sizeof(mac), out + 7);
out:
    jf_buf_free(&msg);
    return rc;
}

long jf_webhook_backoff_s(long attempts)
{
    if (attempts < 1)
        return 1;
    /* 2^12 already passes the cap: no shift can overflow. */
    if (attempts >= 12)
        return JF_WEBHOOK_BACKOFF_MAX_S;
    return (1L << attempts) < JF_WEBHOOK_BACKOFF_MAX_S ? 1L << attempts : JF_WEBHOOK_BACKOFF_MAX_S;
}

long jf_webhook_lease_s(long n, long timeout_ms)
{
    long need = n * ((timeout_ms + 999) / 1000) + LEASE_MARGIN_S;

    return need > LEASE_MIN_S ? need : LEASE_MIN_S;
}

int jf_webhook_header_safe(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}
