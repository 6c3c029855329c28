/* jingfang-worker: the background jobs beside the stateless API — webhook
 * delivery from the outbox, record events fanned out to it first (deliver.h),
 * and the escalation and overdue sweeps (sweep.h), the queued 三网 analyses
 * (reconcile/job.h, woken like deliveries by LISTEN), and a pass over the
 * statistics rollups every JF_STATS_REFRESH_S (0: never; the rollups are
 * always as of the database's now(), whatever --now says). Any number of
 * workers may run on one database; a pass holds its worker for its duration (a new day's pass
 * takes minutes at a million patients), so at scale set
 * JF_STATS_REFRESH_S=0 on all workers but one.
 *   jingfang-worker               loop until SIGTERM/SIGINT (the batch in
 *                                 hand is finished first), exit 0
 *   jingfang-worker --once        one pass of everything, then exit: 0 when
 *                                 every step succeeded, 1 otherwise
 *   jingfang-worker --once --now "2026-05-01 09:00:00+08"
 *                                 the same pass as of that instant instead of
 *                                 the database's now() (tests)
 * Configuration comes from the JF_* variables (core/config.h). */
#include "deliver.h"
#include "sweep.h"
#include "wake.h"
#include "../audit/audit.h"
#include "../core/config.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../db/pool.h"
#include "../reconcile/job.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The sweeps scan the register and deadlines run in hours: once a minute is
 * timely, where deliveries are looked for every JF_WORKER_INTERVAL_MS. */
#define SWEEP_EVERY_MS 60000L
/* Batches per pass, so that the sweeps get their turn and a stop is seen. */
#define BATCHES_PER_PASS 50
/* A --now value: "YYYY-MM-DD HH:MM:SS+08" and the like. */
#define NOW_MAX 40

struct worker {
    jf_config cfg;
    jf_db_pool *pool;
    CURL *curl;
    const char *now; /* --now, or NULL for the database's now() */
    sigset_t stop_signals;
    jf_wake wake; /* looping: the sleep between passes */
    int stopping;
    jf_deliver_stats deliveries;
};

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--once [--now \"YYYY-MM-DD HH:MM:SS+08\"]]\n", argv0);
    return 2;
}

/* Wait up to ms for a stop signal. They are blocked, so one that arrives
 * while a batch is being delivered waits here to be noticed. */
static int stop_requested(struct worker *w, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int sig;

    if (w->stopping)
        return 1;
    sig = sigtimedwait(&w->stop_signals, NULL, &ts);
    if (sig > 0) {
        w->stopping = 1;
        jf_log_info("stopping", "signal %d: the batch in hand is finished, then exit", sig);
    }
    return w->stopping;
}

/* Sleep between passes until the interval ends, a new delivery is
 * committed (NOTIFY jf_outbox) or a stop signal comes. */
static void sleep_between_passes(struct worker *w)
{
    int sig = jf_wake_wait(&w->wake, w->cfg.worker_interval_ms);

    if (sig > 0 && !w->stopping) {
        w->stopping = 1;
        jf_log_info("stopping", "signal %d: exit", sig);
    }
}

static long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only the characters of a timestamp: PostgreSQL judges the rest. */
static int now_plausible(const char *s)
{
    size_t n = strlen(s);

    return n >= 10 && n <= NOW_MAX && strspn(s, "0123456789-:+. TZ") == n;
}

/* Every queued 三网 analysis (reconcile/job.h), on conn and a second
 * connection for the progress. */
static int run_reconcile_jobs(struct worker *w, jf_db_conn *conn)
{
    jf_db_conn *side = NULL;
    char err[512];
    int rc, ran = 1;

    if ((rc = jf_db_pool_acquire(w->pool, &side)) != 0)
        return rc;
    while (ran && !stop_requested(w, 0)) {
        if ((rc = jf_rec_job_next(jf_db_pg(conn), jf_db_pg(side), NULL, &ran, err, sizeof(err))) !=
            0) {
            jf_log_error("reconcile", "%s", err);
            break;
        }
    }
    jf_db_pool_release(w->pool, side);
    return rc;
}

/* One pass on one connection: the sweeps when sweep is set, then delivery
 * batches until nothing is due, then the pass over the statistics rollups
 * when stats is set. *more is set when the batch limit stopped it with rows
 * still due. */
static int worker_pass(struct worker *w, int sweep, int stats, int *more)
{
    jf_deliver_opts o = {w->cfg.id_enc_key, w->cfg.webhook_max_attempts, w->cfg.webhook_timeout_ms,
                         w->now};
    jf_sweep_counts counts;
    jf_db_conn *conn = NULL;
    int rc, batches = 0, fanned = 0;

    *more = 0;
    rc = jf_db_pool_acquire(w->pool, &conn);
    if (rc != 0) {
        conn = NULL;
        goto out;
    }
    /* The sweeps first, so that what they raise is delivered in this pass. */
    if (sweep)
        rc = jf_sweep_run(conn, w->now, &counts);
    /* Record events become deliveries before the batches look for them. */
    if (rc == 0)
        rc = jf_deliver_fan_out(conn, &fanned);
    if (rc == 0 && fanned == JF_FAN_OUT_BATCH)
        *more = 1;
    while (rc == 0 && !stop_requested(w, 0)) {
        rc = jf_deliver_batch(conn, w->curl, &o, &w->deliveries);
        if (rc != 0 || w->deliveries.claimed < JF_DELIVER_BATCH)
            break;
        if (++batches == BATCHES_PER_PASS) {
            *more = 1;
            break;
        }
    }
    /* Queued 三网 analyses, one after another, before the statistics. */
    if (rc == 0 && !stop_requested(w, 0))
        rc = run_reconcile_jobs(w, conn);
    /* The statistics last: a new day's pass over a large register takes a
     * while (minutes at a million patients), and what was due for delivery
     * has gone out before it. */
    if (stats && !stop_requested(w, 0)) {
        int src = jf_sweep_stats(conn);
        if (rc == 0)
            rc = src;
    }
out:
    if (conn != NULL)
        jf_db_pool_release(w->pool, conn);
    return rc;
}

static int run_once(struct worker *w)
{
    int rc, more = 0, first = 1;

    do {
        rc = worker_pass(w, first, first && w->cfg.stats_refresh_s > 0, &more);
        first = 0;
    } while (rc == 0 && more && !stop_requested(w, 0));
    jf_log_info("done", "delivered %ld, retrying %ld, dead %ld, lost %ld%s",
                w->deliveries.delivered, w->deliveries.retried, w->deliveries.dead,
                w->deliveries.lost, rc == 0 ? "" : "; a step failed");
    return rc == 0 ? 0 : 1;
}

static int run_loop(struct worker *w)
{
    long last_sweep = 0, last_stats = 0;
    int first = 1;

    while (!stop_requested(w, 0)) {
        long t = monotonic_ms();
        int sweep = first || t - last_sweep >= SWEEP_EVERY_MS;
        int stats = w->cfg.stats_refresh_s > 0 &&
                    (first || t - last_stats >= w->cfg.stats_refresh_s * 1000L);
        int more = 0;

        if (sweep)
            last_sweep = t;
        if (stats)
            last_stats = t;
        first = 0;
        /* A failure (the database down, say) is logged where it happened;
         * the next pass tries again. */
        if (worker_pass(w, sweep, stats, &more) != 0)
            more = 0;
        if (!more && !stop_requested(w, 0))
            sleep_between_passes(w);
    }
    jf_log_info("stopped", "delivered %ld, retrying %ld, dead %ld, lost %ld",
                w->deliveries.delivered, w->deliveries.retried, w->deliveries.dead,
                w->deliveries.lost);
    return 0;
}

int main(int argc, char **argv)
{
    static struct worker w;
    char err[256];
    int once = 0, status = 1, curl_ready = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc)
            w.now = argv[++i];
        else
            return usage(argv[0]);
    }
    if (w.now != NULL && (!once || !now_plausible(w.now)))
        return usage(argv[0]);

    /* Block the stop signals: they are taken by sigtimedwait between
     * batches, never in the middle of one. */
    sigemptyset(&w.stop_signals);
    sigaddset(&w.stop_signals, SIGTERM);
    sigaddset(&w.stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &w.stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (jf_config_load(&w.cfg, err, sizeof(err)) != 0) {
        jf_log_error("config", "refusing to start: %s", err);
        return 1;
    }
    jf_config_log(&w.cfg);
    if (jf_audit_key_use(w.cfg.audit_key) != 0) {
        jf_log_error("start", "PGOPTIONS too long to carry the audit key");
        return 1;
    }
    if (jf_deliver_init() != 0 || jf_sweep_init() != 0) {
        jf_log_error("start", "statement table overflow");
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        jf_log_error("start", "libcurl does not initialise");
        goto out;
    }
    curl_ready = 1;
    w.curl = curl_easy_init();
    if (w.curl == NULL ||
        jf_db_pool_create(&w.pool, w.cfg.db_url, 2, (int)w.cfg.db_acquire_timeout_ms) != 0) {
        jf_log_error("start", "out of memory");
        goto out;
    }
    jf_log_info("started", "%s%s%s", once ? "one pass" : "looping", w.now ? " as of " : "",
                w.now ? w.now : "");
    if (!once && jf_wake_open(&w.wake, w.cfg.db_url, &w.stop_signals) != 0) {
        jf_log_error("start", "cannot wait for signals: %s", strerror(errno));
        goto out;
    }
    status = once ? run_once(&w) : run_loop(&w);
    if (!once)
        jf_wake_close(&w.wake);
out:
    jf_db_pool_destroy(w.pool);
    if (w.curl != NULL)
        curl_easy_cleanup(w.curl);
    if (curl_ready)
        curl_global_cleanup();
    return status;
}
