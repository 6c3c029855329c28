/* Encrypt, index and reveal resident ID numbers. */
#include "pii.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "mask.h"

#include <string.h>

static void bytea_hex(const unsigned char *in, size_t n, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    jf_crypto_hex(in, n, out + 2);
}

int jf_pii_protect(const jf_config *cfg, const char *id18, jf_pii_id *out)
{
    unsigned char ct[JF_PII_CIPHER_LEN];

    if (strlen(id18) != 18)
        return JF_ERR_INVALID;
    if (jf_crypto_seal(cfg->id_enc_key, JF_PII_AAD, strlen(JF_PII_AAD), id18, 18, ct) != 0)
        return JF_ERR_CRYPTO;
    bytea_hex(ct, sizeof(ct), out->cipher);
    jf_pii_index(cfg, id18, out->index);
    jf_mask_idcard(id18, out->masked, sizeof(out->masked));
    return 0;
}

void jf_pii_index(const jf_config *cfg, const char *id18, char out[2 + 2 * 32 + 1])
{
    unsigned char mac[JF_SHA256_LEN];

    jf_crypto_hmac_sha256(cfg->id_index_key, sizeof(cfg->id_index_key), id18, strlen(id18), mac);
    bytea_hex(mac, sizeof(mac), out);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int jf_pii_reveal(const jf_config *cfg, const char *hex, char out[19])
{
    unsigned char ct[JF_PII_CIPHER_LEN], plain[JF_PII_CIPHER_LEN];

    if (hex == NULL || strlen(hex) != 2 + 2 * sizeof(ct) || hex[0] != '\\' || hex[1] != 'x')
        return JF_ERR_CRYPTO;
    for (size_t i = 0; i < sizeof(ct); i++) {
        int hi = hexval(hex[2 + 2 * i]), lo = hexval(hex[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return JF_ERR_CRYPTO;
        ct[i] = (unsigned char)(hi << 4 | lo);
    }
    if (jf_crypto_open(cfg->id_enc_key, JF_PII_AAD, strlen(JF_PII_AAD), ct, sizeof(ct), plain) != 0)
        return JF_ERR_CRYPTO;
    memcpy(out, plain, 18);
    out[18] = '\0';
    return 0;
}
