/* Back-off after failed logins (see throttle.h). */
#include "throttle.h"
#include "../core/err.h"
#include "../http/response.h"

#include <stdio.h>

static jf_stmt throttle_check = {
    "throttle_check",
    "SELECT ceil(extract(epoch FROM locked_until - now()))::int FROM login_throttle"
    " WHERE key = $1 AND locked_until > now()",
    0,
};
static jf_stmt throttle_fail = {"throttle_fail", "SELECT login_throttle_fail($1, $2::int)", 0};
static jf_stmt throttle_clear = {"throttle_clear", "DELETE FROM login_throttle WHERE key = $1", 0};

int jf_throttle_init(void)
{
    jf_stmt *const s[] = {&throttle_check, &throttle_fail, &throttle_clear};

    return jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

int jf_throttle_check(jf_req *req, jf_db_conn *conn, const char *key, const char *title)
{
    PGresult *res = NULL;
    int rc = jf_db_exec(conn, &throttle_check, 1, (const char *const[]){key}, &res);

    if (rc == 0 && PQntuples(res) > 0) {
        jf_resp_header(req, "Retry-After", PQgetvalue(res, 0, 0));
        jf_resp_problem(req, 429, "too-many-attempts", title, "wait before trying again", NULL,
                        NULL);
        rc = JF_ERR_AUTH;
    }
    PQclear(res);
    return rc;
}

int jf_throttle_fail(jf_req *req, jf_db_conn *conn, const char *key)
{
    PGresult *res = NULL;
    char maxf[24];
    int rc;

    snprintf(maxf, sizeof(maxf), "%ld", req->app->cfg.login_max_failures);
    rc = jf_db_exec(conn, &throttle_fail, 2, (const char *const[]){key, maxf}, &res);
    PQclear(res);
    return rc;
}

int jf_throttle_clear(jf_db_conn *conn, const char *key)
{
    PGresult *res = NULL;
    int rc = jf_db_exec(conn, &throttle_clear, 1, (const char *const[]){key}, &res);

    PQclear(res);
    return rc;
}
