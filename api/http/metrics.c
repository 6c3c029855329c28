/* Atomic counters rendered in the Prometheus text format. */
#include "metrics.h"
#include "router.h"

#include <stdatomic.h>

static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409,
                               412, 413, 415, 422, 428, 429, 500, 503, 0};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0])) /* last: any other */

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
#define NBUCKET (sizeof(buckets) / sizeof(buckets[0]))

#define NSLOT (JF_MAX_ROUTES + 1)

static atomic_ulong requests[NSLOT][NSTATUS];
static atomic_ulong latency[NSLOT][NBUCKET + 1]; /* cumulative at render time */
static atomic_ulong latency_sum_us[NSLOT];

void jf_metrics_observe(size_t slot, int status, double seconds)
{
    size_t s = NSTATUS - 1, b = NBUCKET;

    if (slot >= NSLOT)
        slot = NSLOT - 1;
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status) {
            s = i;
            break;
        }
    for (size_t i = 0; i < NBUCKET; i++)
        if (seconds <= buckets[i]) {
            b = i;
            break;
        }
    atomic_fetch_add_explicit(&requests[slot][s], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency[slot][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us[slot], (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

static int render_slot(jf_buf *out, size_t slot, const char *method, const char *route)
{
    unsigned long cum = 0;
    int rc = 0;

    for (size_t s = 0; rc == 0 && s < NSTATUS; s++) {
        unsigned long n = atomic_load_explicit(&requests[slot][s], memory_order_relaxed);
        if (n == 0)
            continue;
        if (statuses[s] != 0)
            rc = jf_buf_printf(out,
                               "jingfang_http_requests_total{method=\"%s\",route=\"%s\","
                               "status=\"%d\"} %lu\n",
                               method, route, statuses[s], n);
        else
            rc = jf_buf_printf(out,
                               "jingfang_http_requests_total{method=\"%s\",route=\"%s\","
                               "status=\"other\"} %lu\n",
                               method, route, n);
    }
    for (size_t b = 0; rc == 0 && b <= NBUCKET; b++) {
        cum += atomic_load_explicit(&latency[slot][b], memory_order_relaxed);
        if (cum == 0)
            continue;
        if (b < NBUCKET)
            rc = jf_buf_printf(out,
                               "jingfang_http_request_duration_seconds_bucket{method=\"%s\","
                               "route=\"%s\",le=\"%g\"} %lu\n",
                               method, route, buckets[b], cum);
        else
            rc =
                jf_buf_printf(out,
                              "jingfang_http_request_duration_seconds_bucket{method=\"%s\","
                              "route=\"%s\",le=\"+Inf\"} %lu\n"
                              "jingfang_http_request_duration_seconds_sum{method=\"%s\","
                              "route=\"%s\"} %.6f\n"
                              "jingfang_http_request_duration_seconds_count{method=\"%s\","
                              "route=\"%s\"} %lu\n",
                              method, route, cum, method, route,
                              (double)atomic_load(&latency_sum_us[slot]) / 1e6, method, route, cum);
    }
    return rc;
}

int jf_metrics_render(jf_buf *out, jf_db_pool *pool, jf_db_pipe *pipe, jf_db_replica *replica)
{
    size_t n = jf_router_count();
    int rc;

    rc = jf_buf_puts(out, "# HELP jingfang_http_requests_total HTTP requests by route and "
                          "status.\n# TYPE jingfang_http_requests_total counter\n"
                          "# HELP jingfang_http_request_duration_seconds Request latency.\n"
                          "# TYPE jingfang_http_request_duration_seconds histogram\n");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = render_slot(out, i, jf_router_at(i)->method, jf_router_at(i)->pattern);
    if (rc == 0)
        rc = render_slot(out, NSLOT - 1, "any", "unmatched");
    if (rc == 0)
        rc = jf_buf_printf(out,
                           "# HELP jingfang_db_pool_connections_in_use Connections borrowed.\n"
                           "# TYPE jingfang_db_pool_connections_in_use gauge\n"
                           "jingfang_db_pool_connections_in_use %d\n"
                           "# HELP jingfang_db_pool_connections_max Pool size.\n"
                           "# TYPE jingfang_db_pool_connections_max gauge\n"
                           "jingfang_db_pool_connections_max %d\n",
                           jf_db_pool_in_use(pool), jf_db_pool_size(pool));
    if (rc == 0 && pipe != NULL) {
        unsigned long long reads, batches;

        jf_db_pipe_stats(pipe, &reads, &batches);
        rc = jf_buf_printf(out,
                           "# HELP jingfang_db_pipeline_reads_total Reads answered by the"
                           " batched read lanes.\n"
                           "# TYPE jingfang_db_pipeline_reads_total counter\n"
                           "jingfang_db_pipeline_reads_total %llu\n"
                           "# HELP jingfang_db_pipeline_batches_total Round trips of the"
                           " batched read lanes.\n"
                           "# TYPE jingfang_db_pipeline_batches_total counter\n"
                           "jingfang_db_pipeline_batches_total %llu\n",
                           reads, batches);
    }
    if (rc == 0 && replica != NULL) {
        static const char *const why[JF_REPLICA_NREASONS] = {"served", "own_write", "lagging",
                                                             "down"};

        rc = jf_buf_puts(out, "# HELP jingfang_db_replica_reads_total Reads of read-only routes,"
                              " by where they went and why.\n"
                              "# TYPE jingfang_db_replica_reads_total counter\n");
        for (int i = 0; rc == 0 && i < JF_REPLICA_NREASONS; i++)
            rc = jf_buf_printf(out,
                               "jingfang_db_replica_reads_total{via=\"%s\",reason=\"%s\"} %llu\n",
                               i == JF_REPLICA_SERVED ? "standby" : "primary", why[i],
                               (unsigned long long)jf_db_replica_count(replica, i));
        if (rc == 0)
            rc = jf_buf_printf(out,
                               "# HELP jingfang_db_replica_lag_ms The standby's replay lag when"
                               " last measured (-1: not measured or unreachable).\n"
                               "# TYPE jingfang_db_replica_lag_ms gauge\n"
                               "jingfang_db_replica_lag_ms %ld\n",
                               jf_db_replica_lag_ms(replica));
    }
    return rc;
}
