/* The gate of the incoming calls of external systems (integrations.c),
 * shared with the hospital's referral calls (referrals.c). */
#ifndef JF_RES_INTEGRATIONS_H
#define JF_RES_INTEGRATIONS_H

#include "../db/pool.h"
#include "../http/request.h"

/* Only the service account of a system of kind `system` ("hospital",
 * "police") may call on: 0 with *conn the request's connection (jf_req_db)
 * and the JSON body read; otherwise negative, with 403 for people and for
 * the other kind of system, 401 for a disabled client. */
int jf_integration_open(jf_req *req, const char *system, jf_db_conn **conn);

#endif
