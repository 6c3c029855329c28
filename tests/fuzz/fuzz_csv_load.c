/* libFuzzer target: the 三网 list loader (api/reconcile/load.c) — encoding
 * detection (BOM, UTF-8, GBK), record assembly across read boundaries,
 * CSV splitting, header mapping, ID numbers, dates, status and risk — with
 * libpq answered by pq_stub.c, which checks every COPY line it is sent.
 * The first input byte picks the declared encoding and the read sizes; the
 * rest is the file. Invariants: never a crash or a leak; a refused file
 * says why (status 413/422 and a message); a loaded one has rows. */
#include "../../api/core/err.h"
#include "../../api/reconcile/load.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
    const uint8_t *p;
    size_t n, off, step;
};

/* Reads of 1 to step bytes, so records and characters straddle them. */
static long read_some(void *ctx, char *buf, size_t cap)
{
    struct reader *r = ctx;
    size_t n = r->n - r->off;

    if (n > cap)
        n = cap;
    if (n > r->step)
        n = 1 + r->off % r->step;
    memcpy(buf, r->p + r->off, n);
    r->off += n;
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = {1, 2, 3};
    static const size_t steps[] = {65536, 1, 7, 4096};
    jf_rec_load_opts o = {0};
    jf_rec_load_result res;
    struct reader r;
    int rc;

    if (size == 0)
        return 0;
    o.run_id = 1;
    o.source = "police";
    for (int c = 0; c < JF_REC_NCOLS; c++)
        o.columns[c] = jf_rec_col_default((jf_rec_col)c);
    o.optional = ~((1u << JF_REC_ID) | (1u << JF_REC_NAME));
    o.encoding = (jf_rec_encoding)(data[0] % 3);
    o.today_ymd = 20261206;
    o.index_key = key;
    r = (struct reader){data + 1, size - 1, 0, steps[(data[0] >> 2) % 4]};
    rc = jf_rec_load((PGconn *)&r, &o, read_some, &r, &res);
    if (rc == JF_ERR_INVALID || rc == JF_ERR_TOO_LARGE) {
        if ((res.status != 422 && res.status != 413) || res.message[0] == '\0' || res.field == NULL)
            abort();
    } else if (rc != 0 || res.rows <= 0) {
        abort();
    }
    return 0;
}
