/* The webhook wire contract, as pure functions: how a delivery is signed,
 * how an endpoint's signing secret is sealed, and how retries back off.
 *
 * A receiver checks a delivery like this:
 *   X-Jingfang-Timestamp: <unix seconds when the request was sent>
 *   X-Jingfang-Signature: sha256=<lower-case hex HMAC-SHA256(secret, timestamp "." body)>
 *   X-Jingfang-Event-Id:  <outbox.event_id> — the same on every retry; drop duplicates
 *   X-Jingfang-Topic:     <outbox.topic>, e.g. notification.risk_high
 * The body is the outbox payload (JSON) byte for byte as sent.
 *
 * The API seals a secret it registers exactly as
 *   jf_crypto_seal(cfg->id_enc_key, "webhook-secret", 14, secret, len, out)
 * and stores out (iv || ciphertext || tag, len + 28 bytes) in
 * webhook_endpoints.secret_cipher. */
#ifndef JF_WEBHOOK_H
#define JF_WEBHOOK_H

#include <stddef.h>

/* Additional authenticated data binding a sealed secret to its purpose. */
#define JF_WEBHOOK_SECRET_AAD "webhook-secret"
/* The longest signing secret accepted, in bytes. */
#define JF_WEBHOOK_SECRET_MAX 256
/* "sha256=" + 64 hex digits + NUL. */
#define JF_WEBHOOK_SIG_LEN (7 + 64 + 1)
/* The longest backoff between two attempts, in seconds (one hour). */
#define JF_WEBHOOK_BACKOFF_MAX_S 3600

/* Open a sealed secret given as the hex text of secret_cipher (with or
 * without PostgreSQL's "\x" prefix). On 0, out holds *outlen bytes (at most
 * JF_WEBHOOK_SECRET_MAX); the caller wipes them after use. JF_ERR_CRYPTO
 * when the text is not hex, too long, or does not open under key. */
int jf_webhook_secret_open(const unsigned char key[32], const char *hex, unsigned char *out,
                           size_t *outlen);
/* The signature header value "sha256=<hex>" over timestamp "." body into
 * out. 0, or JF_ERR_NOMEM (out is then empty). */
int jf_webhook_sign(const unsigned char *secret, size_t slen, const char *timestamp,
                    const char *body, size_t blen, char out[JF_WEBHOOK_SIG_LEN]);
/* Seconds to wait after the attempts-th failed attempt (1-based):
 * 2^attempts, at most JF_WEBHOOK_BACKOFF_MAX_S. */
long jf_webhook_backoff_s(long attempts);
/* Seconds a claimed batch stays leased to one worker: long enough for n
 * POSTs that each time out after timeout_ms, and never under five minutes. */
long jf_webhook_lease_s(long n, long timeout_ms);
/* 1 when s may go into a header value (printable ASCII, no CR/LF), else 0. */
int jf_webhook_header_safe(const char *s);

#endif
