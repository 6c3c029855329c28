/* Back-off of login attempts (login_throttle, migrations 0002 and 0028),
 * shared by the users' login and the service clients' token exchange. Each
 * attempt is counted before the secret is checked, atomically, on three
 * keys: the client address (JF_LOGIN_ADDR_MAX_FAILURES), the account from
 * that address (JF_LOGIN_MAX_FAILURES) and a known account from anywhere
 * (JF_LOGIN_ACCOUNT_MAX_FAILURES); from a key's limit within an hour each
 * further attempt locks it for twice as long (1 min … 15 min), kept by every
 * replica alike. */
#ifndef JF_RES_THROTTLE_H
#define JF_RES_THROTTLE_H

#include <stdbool.h>

#include "../db/pool.h"
#include "../http/request.h"

/* Register the statements (start-up; more than once is harmless). */
int jf_throttle_init(void);
/* Count an attempt on account (lower-cased; known: it exists) from the
 * caller's address. 0: go on and check the secret. JF_ERR_AUTH: a key is
 * locked, and 429 with Retry-After has been sent (title says what failed
 * too often). Else the jf_db_exec error. */
int jf_throttle_take(jf_req *req, jf_db_conn *conn, const char *account, bool known,
                     const char *title);
/* The attempt succeeded: forget account's failures from this address and
 * give the attempt back to the address and the account. 0 or the
 * jf_db_exec error. */
int jf_throttle_ok(jf_req *req, jf_db_conn *conn, const char *account);

#endif
