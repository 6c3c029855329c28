/* Sensitive personal information at rest (个人信息保护法): the resident ID
 * number is stored as AES-256-GCM ciphertext (key JF_ID_ENC_KEY, aad
 * "patient-id") and found by an HMAC-SHA256 blind index (key
 * JF_ID_INDEX_KEY); a masked copy is kept for display. jingfang-gen uses
 * the same parameters. */
#ifndef JF_PII_H
#define JF_PII_H

#include <stddef.h>

#include "../core/config.h"

#define JF_PII_AAD "patient-id"
#define JF_PII_CIPHER_LEN (18 + 28) /* iv 12 + 18 bytes + tag 16 */
/* '\x' + hex, as PostgreSQL reads bytea text. */
#define JF_PII_BYTEA_HEX_LEN (2 + 2 * 64 + 1)

typedef struct jf_pii_id {
    char cipher[2 + 2 * JF_PII_CIPHER_LEN + 1]; /* bytea text: \x… */
    char index[2 + 2 * 32 + 1];                 /* bytea text: \x… */
    char masked[19];                            /* 420102********123X */
} jf_pii_id;

/* Protect a normalised 18-character ID. 0 or JF_ERR_CRYPTO. */
int jf_pii_protect(const jf_config *cfg, const char *id18, jf_pii_id *out);
/* The blind index alone (for look-ups), as bytea text. */
void jf_pii_index(const jf_config *cfg, const char *id18, char out[2 + 2 * 32 + 1]);
/* Decrypt a bytea text "\x…" into the 18-character ID (out 19 bytes).
 * 0, or JF_ERR_CRYPTO when it does not verify. */
int jf_pii_reveal(const jf_config *cfg, const char *bytea_hex, char out[19]);

#endif
