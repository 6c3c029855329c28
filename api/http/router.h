/* The router: method + path pattern → handler. Patterns are literal
 * segments and {name} parameters ("/api/v1/users/{id}"), the same syntax as
 * openapi.yaml, so the contract test can compare them as text.
 *
 * Each resource file declares a static table of routes and registers it
 * once at start (single-threaded); matching afterwards is lock-free. */
#ifndef JF_ROUTER_H
#define JF_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define JF_MAX_ROUTES 256

/* Route flags. */
#define JF_ROUTE_AUTH 1u    /* a valid access token is required */
#define JF_ROUTE_REPLICA 2u /* reads only: may read from a hot standby (db/replica.h) */

/* A handler answers the request through jf_resp_* and returns 0, or a
 * negative jf_err without answering (the server then answers 500, or 503
 * for JF_ERR_UNAVAILABLE). */
typedef int (*jf_handler_fn)(jf_req *req);

typedef struct jf_route {
    const char *method;
    const char *pattern;
    jf_handler_fn fn;
    unsigned flags;
    unsigned cap; /* jf_cap the caller's role must hold; 0 for none */
} jf_route;

/* Register n routes (the array must outlive the server). */
int jf_router_add(const jf_route *routes, size_t n);
/* Find the route for method and path; fills req's path parameters.
 * NULL when none; *path_known is then true if another method would match. */
const jf_route *jf_router_match(const char *method, const char *path, jf_req *req,
                                bool *path_known);
/* Registered routes, for /metrics and the contract test. */
size_t jf_router_count(void);
const jf_route *jf_router_at(size_t i);
/* Index of a registered route (its metrics slot). */
size_t jf_router_index(const jf_route *r);

#endif
