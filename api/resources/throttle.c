/* Back-off of login attempts by address and account (see throttle.h). */
#include "throttle.h"
#include "../core/err.h"
#include "../http/response.h"

#include <stdio.h>
#include <string.h>

static jf_stmt throttle_take = {
    "throttle_take", "SELECT login_throttle_take($1, $2, $3::boolean, $4::int, $5::int, $6::int)",
    0};
static jf_stmt throttle_ok = {"throttle_ok", "SELECT login_throttle_ok($1, $2, $3::int, $4::int)",
                              0};

int jf_throttle_init(void)
{
    jf_stmt *const s[] = {&throttle_take, &throttle_ok};

    return jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0]));
}

int jf_throttle_take(jf_req *req, jf_db_conn *conn, const char *account, bool known,
                     const char *title)
{
    const jf_config *cfg = &req->app->cfg;
    PGresult *res = NULL;
    char addr_max[24], pair_max[24], acct_max[24];
    int rc;

    snprintf(addr_max, sizeof(addr_max), "%ld", cfg->login_addr_max);
    snprintf(pair_max, sizeof(pair_max), "%ld", cfg->login_max_failures);
    snprintf(acct_max, sizeof(acct_max), "%ld", cfg->login_account_max);
    const char *p[] = {jf_req_remote(req), account,  known ? "t" : "f",
                       addr_max,           pair_max, acct_max};
    rc = jf_db_exec(conn, &throttle_take, 6, p, &res);
    if (rc == 0 && strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
        jf_resp_header(req, "Retry-After", PQgetvalue(res, 0, 0));
        jf_resp_problem(req, 429, "too-many-attempts", title, "wait before trying again", NULL,
                        NULL);
        rc = JF_ERR_AUTH;
    }
    PQclear(res);
    return rc;
}

int jf_throttle_ok(jf_req *req, jf_db_conn *conn, const char *account)
{
    const jf_config *cfg = &req->app->cfg;
    PGresult *res = NULL;
    char addr_max[24], acct_max[24];
    int rc;

    snprintf(addr_max, sizeof(addr_max), "%ld", cfg->login_addr_max);
    snprintf(acct_max, sizeof(acct_max), "%ld", cfg->login_account_max);
    const char *p[] = {jf_req_remote(req), account, addr_max, acct_max};
    rc = jf_db_exec(conn, &throttle_ok, 4, p, &res);
    PQclear(res);
    return rc;
}
