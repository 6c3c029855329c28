/* Verified access tokens remembered by their exact bytes. A client sends
 * the same token with every request for its fifteen minutes, and checking
 * it (base64, two JSON parses, an HMAC) was an eighth of the service's CPU
 * on the patient read path. A token is served from here only when every
 * byte equals one that passed jf_token_verify, at a time between that
 * check and its exp, so the answer is the one jf_token_verify would give. */
#include "token.h"
#include "../core/err.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SLOTS 256       /* direct-mapped: a colliding token replaces the slot */
#define STRIPES 16      /* locks, each guarding every 16th slot */
#define SLOT_TOKEN 1024 /* longer tokens (ours are ~400 bytes) are not cached */

struct slot {
    const jf_config *cfg; /* verified under this configuration (its key) */
    size_t len;
    char token[SLOT_TOKEN];
    time_t verified_at; /* the time of the full check */
    jf_claims claims;
};

static struct slot slots[SLOTS];
static pthread_mutex_t stripes[STRIPES] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};

/* FNV-1a over the signature end of the token, where tokens differ most. */
static size_t slot_of(const char *t, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t from = n > 32 ? n - 32 : 0;

    for (size_t i = from; i < n; i++)
        h = (h ^ (unsigned char)t[i]) * 1099511628211ULL;
    return (size_t)(h % SLOTS);
}

int jf_token_verify_cached(const jf_config *cfg, const char *token, time_t now, jf_claims *c,
                           const char **why)
{
    size_t n = token ? strlen(token) : 0, i;
    struct slot *s;
    int rc;

    if (n == 0 || n >= SLOT_TOKEN)
        return jf_token_verify(cfg, token, now, c, why);
    i = slot_of(token, n);
    s = &slots[i];
    pthread_mutex_lock(&stripes[i % STRIPES]);
    if (s->cfg == cfg && s->len == n && memcmp(s->token, token, n) == 0 && now >= s->verified_at &&
        now < s->claims.exp) {
        *c = s->claims;
        pthread_mutex_unlock(&stripes[i % STRIPES]);
        *why = NULL;
        return 0;
    }
    pthread_mutex_unlock(&stripes[i % STRIPES]);

    rc = jf_token_verify(cfg, token, now, c, why);
    if (rc == 0) {
        pthread_mutex_lock(&stripes[i % STRIPES]);
        s->cfg = cfg;
        s->len = n;
        memcpy(s->token, token, n);
        s->verified_at = now;
        s->claims = *c;
        pthread_mutex_unlock(&stripes[i % STRIPES]);
    }
    return rc;
}
