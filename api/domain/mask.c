/* Masking of ID numbers and phone numbers: keep a prefix and a suffix, star the rest. */
#include "mask.h"

#include <stdbool.h>
#include <string.h>

/* Copy s (n bytes) into out, keeping its first `head` and last `tail` bytes
 * and replacing the rest with '*'; stops at outlen-1 bytes. */
static void mask_keep(const char *s, size_t n, size_t head, size_t tail, char *out, size_t outlen)
{
    size_t o = 0;

    if (outlen == 0)
        return;
    for (size_t i = 0; i < n && o < outlen - 1; i++) {
        bool keep = i < head || i >= n - tail;

        out[o++] = keep ? s[i] : '*';
    }
    out[o] = '\0';
}

void jf_mask_idcard(const char *id18, char *out, size_t outlen)
{
    size_t n = id18 ? strlen(id18) : 0;

    if (n == 18)
        mask_keep(id18, n, 6, 4, out, outlen);
    else
        mask_keep(id18, n, 0, 0, out, outlen);
}

void jf_mask_phone(const char *phone, char *out, size_t outlen)
{
    size_t n = phone ? strlen(phone) : 0;

    if (n == 11)
        mask_keep(phone, n, 3, 4, out, outlen);
    else if (n > 4)
        mask_keep(phone, n, 0, 2, out, outlen);
    else
        mask_keep(phone, n, 0, 0, out, outlen);
}
