/* libFuzzer target: ID number parsing (api/domain/idcard.c) and masking
 * (api/domain/mask.c), which every registration and every 三网 row reach.
 * Invariants: never a crash; an accepted number is 18 characters, digits
 * with a final digit or X, its check character right, its birth date real
 * and not after today, and it parses again to itself. */
#include "../../api/domain/idcard.h"
#include "../../api/domain/mask.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TODAY 20261206

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), masked[32], birth[11];
    jf_idcard id, again;

    memcpy(in, data, size);
    in[size] = '\0';
    jf_mask_idcard(in, masked, sizeof(masked));
    if (jf_idcard_result_str(jf_idcard_parse(in, TODAY, &id)) == NULL)
        abort();
    if (jf_idcard_parse(in, TODAY, &id) == JF_IDCARD_OK) {
        if (strlen(id.number) != JF_IDCARD_LEN || strspn(id.number, "0123456789") < 17 ||
            jf_idcard_check_char(id.number) != id.number[17])
            abort();
        if (id.month < 1 || id.month > 12 || id.day < 1 || id.day > 31 ||
            id.year * 10000 + id.month * 100 + id.day > TODAY)
            abort();
        jf_idcard_birth_iso(&id, birth);
        if (strlen(birth) != 10)
            abort();
        if (jf_idcard_parse(id.number, TODAY, &again) != JF_IDCARD_OK ||
            strcmp(again.number, id.number) != 0)
            abort();
        jf_mask_idcard(id.number, masked, sizeof(masked));
        if (strlen(masked) != JF_IDCARD_LEN)
            abort();
    }
    free(in);
    return 0;
}
