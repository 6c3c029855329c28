/* Audit rows. The table refuses UPDATE/DELETE/TRUNCATE by trigger. */
#include "audit.h"
#include "../core/err.h"

#include <stdio.h>

static jf_stmt insert_audit = {
    "audit_insert",
    "INSERT INTO audit_log (user_id, username, role, action, target_type, target_id,"
    " org_unit_id, client_addr, request_id, detail)"
    " VALUES (nullif($1, '0')::bigint, $2, $3, $4, $5, $6, nullif($7, '0')::bigint, $8, $9,"
    " $10::jsonb)",
    0,
};

int jf_audit_init(void)
{
    return jf_db_stmt_register(&insert_audit);
}

int jf_audit_record(jf_db_conn *conn, const jf_req *req, const jf_audit_entry *e)
{
    char uid[24], ou[24];
    const char *username = e->username, *role = e->role;
    long long user_id = e->user_id;
    PGresult *res = NULL;
    int rc;

    if (user_id == 0 && req->authenticated) {
        user_id = req->claims.user_id;
        username = req->claims.username;
        role = req->claims.role;
    }
    snprintf(uid, sizeof(uid), "%lld", user_id);
    snprintf(ou, sizeof(ou), "%lld", e->org_unit_id);
    const char *params[] = {uid,
                            username,
                            role,
                            e->action,
                            e->target_type,
                            e->target_id,
                            ou,
                            jf_req_remote(req),
                            req->request_id,
                            e->detail_json};
    /* A read on a standby is audited on the primary all the same. */
    if (jf_db_conn_is_replica(conn)) {
        jf_db_conn *primary;

        if ((rc = jf_db_pool_acquire(req->app->pool, &primary)) != 0)
            return rc;
        rc = jf_db_exec(primary, &insert_audit, 10, params, &res);
        jf_db_pool_release(req->app->pool, primary);
    } else {
        rc = jf_db_exec(conn, &insert_audit, 10, params, &res);
    }
    PQclear(res);
    return rc;
}
