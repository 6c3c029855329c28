/* Back-off after failed logins (login_throttle, migration 0002), shared by
 * the users' login and the service clients' token exchange: from the
 * JF_LOGIN_MAX_FAILURES-th failure within an hour each further one doubles
 * a lock on the key (1 s … 15 min), kept by every replica alike. */
#ifndef JF_RES_THROTTLE_H
#define JF_RES_THROTTLE_H

#include "../db/pool.h"
#include "../http/request.h"

/* Register the statements (start-up; more than once is harmless). */
int jf_throttle_init(void);
/* 0: key is not locked, go on. JF_ERR_AUTH: it is, and 429 with
 * Retry-After has been sent (title says what failed too often). Else the
 * jf_db_exec error, not answered. */
int jf_throttle_check(jf_req *req, jf_db_conn *conn, const char *key, const char *title);
/* Count a failure for key. 0 or the jf_db_exec error (not answered). */
int jf_throttle_fail(jf_req *req, jf_db_conn *conn, const char *key);
/* A success: forget key's failures. 0 or the jf_db_exec error. */
int jf_throttle_clear(jf_db_conn *conn, const char *key);

#endif
