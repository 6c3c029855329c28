/* Idempotency-Key on POST: an offline client may retry a write safely.
 * Inside the write's transaction the key is reserved; a retry with the same
 * key and the same request gets the first response again and writes
 * nothing; the same key with a different request is refused with 422. */
#ifndef JF_IDEMPOTENCY_H
#define JF_IDEMPOTENCY_H

#include <stdbool.h>

#include "../db/pool.h"
#include "../http/request.h"

typedef struct jf_idem {
    bool active; /* the request carried a key */
    const char *key;
} jf_idem;

enum { JF_IDEM_NEW = 0, JF_IDEM_DONE = 1 };

/* Register the statements (start-up). */
int jf_idem_init(void);
/* Call inside the open transaction, after validation. JF_IDEM_NEW: go on
 * with the write. JF_IDEM_DONE: the response was sent (a replay, or 422 or
 * 400 for the key); roll back. Negative: a database error (not answered). */
int jf_idem_begin(jf_req *req, jf_db_conn *conn, jf_idem *st);
/* Store the response, still inside the transaction, before COMMIT. */
int jf_idem_finish(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status,
                   const char *location, const char *body);

#endif
