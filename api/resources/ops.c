/* Operations endpoints: liveness, readiness, metrics, the contract. */
#include "resources.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../http/metrics.h"
#include "../http/response.h"
#include "../http/router.h"

#include <string.h>

/* Generated at build time from openapi/openapi.yaml. */
extern const char jf_openapi_json[];
extern const unsigned long jf_openapi_json_len;

static int healthz(jf_req *req)
{
    static const char body[] = "{\"status\":\"ok\"}";

    return jf_resp_json_text(req, 200, body, sizeof(body) - 1);
}

static int readyz(jf_req *req)
{
    static const char ok[] = "{\"status\":\"ready\",\"database\":\"ok\"}";
    static const char down[] = "{\"status\":\"not_ready\",\"database\":\"unreachable\"}";

    if (jf_db_ping(req->app->pool))
        return jf_resp_json_text(req, 200, ok, sizeof(ok) - 1);
    return jf_resp_json_text(req, 503, down, sizeof(down) - 1);
}

static int metrics(jf_req *req)
{
    jf_buf out;
    int rc;

    jf_buf_init(&out, 4u * 1024 * 1024);
    rc = jf_metrics_render(&out, req->app->pool, req->app->pipe, req->app->replica);
    if (rc == 0)
        rc = jf_resp_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    jf_buf_free(&out);
    return rc;
}

static int openapi(jf_req *req)
{
    return jf_resp_json_text(req, 200, jf_openapi_json, jf_openapi_json_len);
}

static const jf_route routes[] = {
    {"GET", "/healthz", healthz, 0, 0},
    {"GET", "/readyz", readyz, 0, 0},
    {"GET", "/metrics", metrics, 0, 0},
    {"GET", "/openapi.json", openapi, 0, 0},
};

int jf_res_ops_init(void)
{
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
