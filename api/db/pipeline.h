/* Reads from many request threads multiplexed over a few connections in
 * libpq pipeline mode.
 *
 * Why: through the pool, every read costs its thread a borrow (often a futex
 * wait for a free connection), a send and a poll, and wakes a PostgreSQL
 * backend for one query. On a small machine those wake-ups, not the queries,
 * were the cost: perf put a third of the service's CPU in try_to_wake_up.
 * Here a dispatcher thread per lane takes every read queued while its
 * previous batch ran, sends them as one pipeline closed by one Sync, and
 * hands each thread its result: one backend wake-up and one round trip per
 * batch, however many reads it carries.
 *
 * Contract:
 * - For single statements that change nothing. A batch is one implicit
 *   transaction (each statement still takes its own snapshot); a statement
 *   that fails aborts the rest of its batch, and those reads are sent again
 *   in the next one.
 * - jf_db_pipe_exec blocks until its result and answers as jf_db_exec does:
 *   0 with *res, JF_ERR_DB with the error result, or JF_ERR_UNAVAILABLE.
 * - A connection found broken is reopened and the reads it carried are sent
 *   once more; while the database cannot be reached, reads fail at once. */
#ifndef JF_DB_PIPELINE_H
#define JF_DB_PIPELINE_H

#include "pool.h"

typedef struct jf_db_pipe jf_db_pipe;

/* Parameters of one read at most. */
#define JF_DB_PIPE_PARAMS_MAX 16

/* The lanes' application_name (it overrides one set in the conninfo). */
#define JF_DB_PIPE_APP_NAME "jingfang-pipeline"

/* Start lanes dispatcher threads, each with its own connection (opened
 * lazily, like the pool's). 0, JF_ERR_NOMEM or JF_ERR_UNAVAILABLE. */
int jf_db_pipe_create(jf_db_pipe **out, const char *conninfo, int lanes);
/* Stop the dispatchers and close their connections. Call after all users
 * stopped; reads still queued fail with JF_ERR_UNAVAILABLE. */
void jf_db_pipe_destroy(jf_db_pipe *pipe);
/* Reads answered and batches sent since start (for /metrics): their ratio
 * is how many reads a round trip carries. */
void jf_db_pipe_stats(jf_db_pipe *pipe, unsigned long long *reads, unsigned long long *batches);
/* Run a registered statement (or, with stmt NULL, the one-off sql) with text
 * parameters; params must stay valid until it returns. */
int jf_db_pipe_exec(jf_db_pipe *pipe, const jf_stmt *stmt, const char *sql, int nparams,
                    const char *const *params, PGresult **res);
/* A lookup by key, batched with the same lookups of other threads into one
 * query (one executor start and one result for all of them: measured,
 * a quarter of the database's cost per row of twelve separate queries).
 * stmt takes, in parameter key_param, a bigint[] of keys, and returns each
 * row's key in its first column; the thread passes its one key there (the
 * canonical decimal of a positive bigint, else JF_ERR_INVALID) and gets the
 * rows of its key alone. Lookups batch together when their other
 * parameters are equal. */
int jf_db_pipe_lookup(jf_db_pipe *pipe, const jf_stmt *stmt, int key_param, int nparams,
                      const char *const *params, PGresult **res);
/* Is key the canonical decimal of a positive bigint ("7", not "07")? */
bool jf_db_key_ok(const char *key);

#endif
