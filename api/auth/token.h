/* Access tokens: HS256 JWTs issued and verified with libjwt, plus the checks
 * libjwt 1.10 does not do. Verification refuses: a token over 4 KiB, a
 * header other than the one we issue (so any algorithm but HS256), a bad
 * signature (checked before any of the token's JSON is parsed), a nested
 * payload, a missing or wrong iss or aud, exp in the past, nbf in the
 * future, missing claims. */
#ifndef JF_TOKEN_H
#define JF_TOKEN_H

#include <stddef.h>
#include <time.h>

#include "../core/config.h"

#define JF_ORG_PATH_MAX 256

/* What a verified token says about its bearer. */
typedef struct jf_claims {
    long long user_id;
    char username[40];
    char role[24];
    long long org_unit_id;
    char org_path[JF_ORG_PATH_MAX]; /* materialised path of the unit: "/1/4/9/" */
    long long agency_id;            /* 0 when none */
    long exp;
} jf_claims;

/* Issue an access token for c, valid from now for cfg->access_ttl_s.
 * *out is malloc'd; the caller frees it. */
int jf_token_issue(const jf_config *cfg, const jf_claims *c, time_t now, char **out);
/* Verify token at time now; fill *c. 0 or JF_ERR_AUTH (reason in *why, static). */
int jf_token_verify(const jf_config *cfg, const char *token, time_t now, jf_claims *c,
                    const char **why);

/* The same answer, remembering tokens that passed (token_cache.c): a token
 * byte for byte equal to one verified under cfg at or before now, and not
 * expired, is not verified again. */
int jf_token_verify_cached(const jf_config *cfg, const char *token, time_t now, jf_claims *c,
                           const char **why);

#endif
