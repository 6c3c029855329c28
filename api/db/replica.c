/* Routing reads to a hot standby, with a lag bound and read-your-writes
 * (see replica.h for the rules and why). */
#include "replica.h"
#include "../core/err.h"
#include "../core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Per-user windows, direct-mapped by a hash of the user id: two users that
 * share a slot share the later window, which only sends a read to the
 * primary that could have gone to the standby, never the other way. */
#define WINDOW_SLOTS 8192

/* One statement, run on a standby connection: whether it is usable, and
 * how far behind. Caught up (nothing received left to replay) counts as no
 * lag, however long ago the last commit was; a standby with no WAL
 * receiver (not streaming from a primary) is not used. The app role sees
 * only the receiver's pid, not its status (pg_read_all_stats would show
 * every session's statements too). */
static jf_stmt lag_stmt = {
    "replica_lag",
    "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver"
    "   WHERE pid IS NOT NULL),"
    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    "  ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0)"
    "  END::bigint",
    0,
};

struct jf_db_replica {
    jf_db_pool *pool;
    long max_lag_ms;
    pthread_mutex_t check; /* one thread measures; the others use the last measure */
    _Atomic long long checked_ms;
    _Atomic bool usable;
    _Atomic long lag_ms;
    _Atomic bool reachable;
    _Atomic long long until[WINDOW_SLOTS];
    _Atomic uint64_t count[JF_REPLICA_NREASONS];
};

static long long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t slot(long long user_id)
{
    unsigned long long h = (unsigned long long)user_id * 0x9E3779B97F4A7C15ull;

    return (size_t)(h >> 51) % WINDOW_SLOTS;
}

int jf_db_replica_create(jf_db_replica **out, const char *conninfo, int size, int timeout_ms,
                         long max_lag_ms)
{
    jf_db_replica *r = calloc(1, sizeof(*r));
    int rc;

    if (r == NULL)
        return JF_ERR_NOMEM;
    if ((rc = jf_db_stmt_register(&lag_stmt)) != 0 ||
        (rc = jf_db_pool_create(&r->pool, conninfo, size, timeout_ms)) != 0) {
        free(r);
        return rc;
    }
    jf_db_pool_mark_replica(r->pool);
    pthread_mutex_init(&r->check, NULL);
    r->max_lag_ms = max_lag_ms;
    r->checked_ms = -JF_DB_REPLICA_CHECK_MS;
    r->lag_ms = -1;
    *out = r;
    return 0;
}

void jf_db_replica_destroy(jf_db_replica *r)
{
    if (r == NULL)
        return;
    jf_db_pool_destroy(r->pool);
    pthread_mutex_destroy(&r->check);
    free(r);
}

/* Measure again if the last measure is older than the check interval and
 * no other thread is at it. */
static void measure(jf_db_replica *r)
{
    long long now = now_ms();
    jf_db_conn *c = NULL;
    PGresult *res = NULL;
    bool usable = false, reachable = false;
    long lag = -1;

    if (now - r->checked_ms < JF_DB_REPLICA_CHECK_MS || pthread_mutex_trylock(&r->check) != 0)
        return;
    if (now - r->checked_ms >= JF_DB_REPLICA_CHECK_MS) {
        if (jf_db_pool_acquire(r->pool, &c) == 0) {
            if (jf_db_exec(c, &lag_stmt, 0, NULL, &res) == 0 && PQntuples(res) == 1) {
                reachable = true;
                lag = strtol(PQgetvalue(res, 0, 1), NULL, 10);
                usable = PQgetvalue(res, 0, 0)[0] == 't' && lag <= r->max_lag_ms;
            }
            PQclear(res);
            jf_db_pool_release(r->pool, c);
        }
        if (usable != r->usable)
            jf_log_info("db_replica", "the standby is %s (lag %ld ms)",
                        usable ? "used for reads" : "skipped: reads go to the primary", lag);
        r->lag_ms = lag;
        r->reachable = reachable;
        r->usable = usable;
        r->checked_ms = now_ms();
    }
    pthread_mutex_unlock(&r->check);
}

static int to_primary(jf_db_replica *r, jf_replica_reason why)
{
    atomic_fetch_add(&r->count[why], 1);
    return JF_ERR_UNAVAILABLE;
}

int jf_db_replica_acquire(jf_db_replica *r, long long user_id, jf_db_conn **conn)
{
    if (user_id != 0 && r->until[slot(user_id)] > now_ms())
        return to_primary(r, JF_REPLICA_OWN_WRITE);
    measure(r);
    if (!r->usable)
        return to_primary(r, r->reachable ? JF_REPLICA_LAGGING : JF_REPLICA_DOWN);
    if (jf_db_pool_acquire(r->pool, conn) != 0)
        return to_primary(r, JF_REPLICA_DOWN);
    atomic_fetch_add(&r->count[JF_REPLICA_SERVED], 1);
    return 0;
}

void jf_db_replica_wrote(jf_db_replica *r, long long user_id)
{
    long long until = now_ms() + r->max_lag_ms + 2 * JF_DB_REPLICA_CHECK_MS;
    _Atomic long long *s = &r->until[slot(user_id)];
    long long cur = *s;

    while (cur < until && !atomic_compare_exchange_weak(s, &cur, until))
        ;
}

uint64_t jf_db_replica_count(jf_db_replica *r, jf_replica_reason why)
{
    return r->count[why];
}

long jf_db_replica_lag_ms(jf_db_replica *r)
{
    return r->lag_ms;
}
