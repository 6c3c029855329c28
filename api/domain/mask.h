/* Masking of personal identifiers for display and logs: ID numbers, phones. */
#ifndef JF_MASK_H
#define JF_MASK_H

#include <stddef.h>

/* "420102199001011234" → "420102********1234": the first 6 and last 4 kept.
 * out ≥ 19 bytes. Anything not 18 chars → all '*' of its length (at most
 * outlen-1). NULL → "". The result is always NUL-terminated when outlen > 0. */
void jf_mask_idcard(const char *id18, char *out, size_t outlen);

/* Mobile "13812345678" → "138****5678" (first 3, last 4 kept, the rest '*');
 * for other lengths keep the last 2 when longer than 4, else all '*'.
 * NULL → "". Truncated to outlen-1 bytes; NUL-terminated when outlen > 0. */
void jf_mask_phone(const char *phone, char *out, size_t outlen);

#endif
