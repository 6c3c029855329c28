/* The request owns its database work: the connection is taken on first use
 * and, whatever path the handler left by, the dispatcher rolls back what it
 * left open, answers the failure it did not answer, and gives the
 * connection back (as h2o ties memory and cleanup to the request). */
#include "request.h"
#include "response.h"
#include "router.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../db/replica.h"

int jf_req_db(jf_req *req, jf_db_conn **conn)
{
    int rc = 0;

    if (req->db == NULL) {
        /* A read-only route reads from the standby when it may. */
        if (req->app->replica == NULL || req->route == NULL ||
            !(req->route->flags & JF_ROUTE_REPLICA) ||
            jf_db_replica_acquire(req->app->replica, req->claims.user_id, &req->db) != 0)
            rc = jf_db_pool_acquire(req->app->pool, &req->db);
        if (rc != 0)
            req->db = NULL;
    }
    *conn = req->db;
    return rc;
}

void jf_req_db_settle(jf_req *req, int rc)
{
    const char *state = "", *message = "";

    if (req->db != NULL && jf_db_in_tx(req->db))
        jf_db_rollback(req->db);
    if (req->status != 0)
        return;
    if (rc == JF_ERR_UNAVAILABLE) {
        jf_resp_unavailable(req);
        return;
    }
    if (rc == JF_ERR_DB) {
        if (req->db != NULL)
            state = jf_db_last_error(req->db, &message);
        jf_log_error("db_error", "%s %s: SQLSTATE %s: %s", req->method,
                     req->route ? req->route->pattern : req->path, state,
                     *message ? message : "no statement failed");
    }
    jf_resp_internal(req);
}

void jf_req_db_release(jf_req *req)
{
    if (req->db != NULL)
        jf_db_pool_release(req->app->pool, req->db);
    req->db = NULL;
}
