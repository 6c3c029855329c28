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
/* Open the write's transaction and, with a key, reserve it; call after
 * validation, and before the record's state is checked (so that the retry
 * of a write that changed it replays instead of meeting what it made).
 * JF_IDEM_NEW: go on with the write. JF_IDEM_DONE: the response was sent
 * (a replay, or 422 or 400 for the key). A negative jf_err: the database
 * failed, nothing sent (the dispatcher rolls back and answers). */
int jf_idem_begin(jf_req *req, jf_db_conn *conn, jf_idem *st);
/* Store the response, still inside the transaction, before COMMIT. */
int jf_idem_finish(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status,
                   const char *location, const char *body);
/* The end of a keyed write inside its open transaction: the answer kept
 * for the key, COMMIT, then body sent with status. */
int jf_idem_commit(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status, const char *body,
                   size_t len);
/* The same with the body the first column of stmt's one row (the record's
 * document, read inside the transaction). */
int jf_idem_commit_row(jf_req *req, jf_db_conn *conn, const jf_idem *st, int status,
                       const jf_stmt *stmt, int n, const char *const *p);

#endif
