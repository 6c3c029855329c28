/* Reads from a hot standby (JF_DB_READ_URL): the routes marked
 * JF_ROUTE_REPLICA (list pages, worklists, statistics, exports, the change
 * feed) borrow a connection of the standby's pool when it is usable, and
 * the primary's otherwise. Usable means: in recovery, streaming, and its
 * replay lag, measured at most JF_DB_REPLICA_CHECK_MS ago, within
 * JF_DB_READ_MAX_LAG_MS. A standby that dies between two measures fails
 * the reads in flight on it (503, as for the primary) until the next
 * measure, at most one check interval later, sends them to the primary.
 *
 * Read-your-writes: a user's reads stay on the primary for the lag bound
 * plus two check intervals after any write of theirs. A standby used is at
 * most the bound behind as of its last check, so past that window it holds
 * the write. The window is kept per process, with no round trip on any
 * request (no LSN fetched after each commit, none waited for on the
 * standby), which keeps the standby's reads as cheap as the primary's.
 * Behind a balancer that sends a user's next request to another process,
 * that process has not seen the write: the read is then at most the bound
 * old (JF_DB_READ_MAX_LAG_MS, 1 s by default), never older. */
#ifndef JF_DB_REPLICA_H
#define JF_DB_REPLICA_H

#include "pool.h"

#include <stdint.h>

#define JF_DB_REPLICA_CHECK_MS 250

typedef struct jf_db_replica jf_db_replica;

/* Why a read went where it went (the metric's label). */
typedef enum {
    JF_REPLICA_SERVED,    /* read from the standby */
    JF_REPLICA_OWN_WRITE, /* the user wrote within the window: primary */
    JF_REPLICA_LAGGING,   /* behind past the bound, or not streaming: primary */
    JF_REPLICA_DOWN,      /* unreachable, or no connection free in time: primary */
    JF_REPLICA_NREASONS
} jf_replica_reason;

int jf_db_replica_create(jf_db_replica **out, const char *conninfo, int size, int timeout_ms,
                         long max_lag_ms);
void jf_db_replica_destroy(jf_db_replica *r);
/* A standby connection for a read by user_id: 0 with *conn (release it
 * with jf_db_pool_release like any other), or JF_ERR_UNAVAILABLE when the
 * read belongs on the primary. Counts the outcome. */
int jf_db_replica_acquire(jf_db_replica *r, long long user_id, jf_db_conn **conn);
/* user_id wrote: keep their reads on the primary for the window. */
void jf_db_replica_wrote(jf_db_replica *r, long long user_id);
/* For /metrics: reads per reason, and the lag last measured (-1: unknown). */
uint64_t jf_db_replica_count(jf_db_replica *r, jf_replica_reason why);
long jf_db_replica_lag_ms(jf_db_replica *r);

#endif
