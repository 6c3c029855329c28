/* Prometheus metrics: requests by route and status, a latency histogram by
 * route, and the database pool's gauges. Lock-free atomic counters. */
#ifndef JF_METRICS_H
#define JF_METRICS_H

#include <stddef.h>

#include "../core/buf.h"
#include "../db/pipeline.h"
#include "../db/pool.h"
#include "../db/replica.h"

/* Count one finished request on route slot (jf_router_index; the count of
 * routes for "no route"), with its status and duration in seconds. */
void jf_metrics_observe(size_t route_slot, int status, double seconds);
/* Render the text exposition format into out. */
int jf_metrics_render(jf_buf *out, jf_db_pool *pool, jf_db_pipe *pipe, jf_db_replica *replica);

#endif
