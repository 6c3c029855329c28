/* The request context every handler receives, and how to read from it:
 * path parameters, query parameters and the JSON body, each under a cap.
 *
 * Ownership: every string a jf_req_* call returns is borrowed from the
 * request (its arena or civetweb's buffers) and lives until the response is
 * sent. The parsed body is owned by the request and freed with it. */
#ifndef JF_REQUEST_H
#define JF_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "../auth/token.h"
#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/config.h"
#include "../core/netaddr.h"
#include "../db/pool.h"

#define JF_MAX_PATH_PARAMS 4
#define JF_MAX_QUERY_PARAMS 32
#define JF_QUERY_VALUE_MAX 1024
#define JF_REQUEST_ID_MAX 64

struct mg_connection;
struct mg_request_info;
struct jf_route;

/* Process-wide state shared (read-only after start) by every request. */
typedef struct jf_app {
    jf_config cfg;
    jf_db_pool *pool;
    struct jf_db_pipe *pipe;        /* batched reads; NULL: reads use the pool */
    struct jf_db_replica *replica;  /* a hot standby for JF_ROUTE_REPLICA reads; NULL: none */
    struct jf_connlimit *connlimit; /* set by jf_server_start */
} jf_app;

typedef struct jf_req {
    jf_app *app;
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    jf_arena arena;
    const struct jf_route *route;
    char request_id[JF_REQUEST_ID_MAX + 1];
    char client[JF_NETADDR_TEXT_MAX]; /* the caller's address (see jf_req_remote) */
    const char *method;
    const char *path;
    const char *path_params[JF_MAX_PATH_PARAMS];
    int npath_params;
    const char *qkeys[JF_MAX_QUERY_PARAMS];
    const char *qvals[JF_MAX_QUERY_PARAMS];
    int nquery;
    bool authenticated;
    jf_claims claims;
    json_t *body;
    jf_buf resp_headers; /* extra header lines for the response */
    jf_buf stream;       /* a streamed body's bytes not yet sent (response.h) */
    bool stream_open;    /* begun and not ended: cut short, the connection closes */
    int status;          /* 0 until a response was sent */
    /* A batch line (NDJSON batches run a single-item handler per line):
     * the answer is kept in capture instead of being sent, and idem_key
     * stands for the Idempotency-Key header. NULL otherwise. */
    jf_buf *capture;
    const char *idem_key;
    size_t resp_bytes;
    struct timespec started;
    jf_db_conn *db; /* taken on first use (jf_req_db), given back by the dispatcher */
} jf_req;

/* Path parameter i (0-based, in pattern order). */
const char *jf_req_param(const jf_req *req, int i);
/* Path parameter i as a positive 64-bit id; 0 when it is not one. */
long long jf_req_param_id(const jf_req *req, int i);
/* The (decoded) query parameter name, or NULL. */
const char *jf_req_query(const jf_req *req, const char *name);
/* A request header, or NULL. */
const char *jf_req_header(const jf_req *req, const char *name);
/* The caller's address: the peer's, or, when the peer is a trusted proxy
 * (JF_TRUSTED_PROXIES), the client it names in X-Forwarded-For. */
const char *jf_req_remote(const jf_req *req);

/* Read and parse the JSON object body under the configured cap.
 * 0 with req->body set; otherwise the problem response (413 too large,
 * 415 not application/json, 400 malformed or not an object) has been sent
 * and a negative jf_err is returned: the handler just returns. */
int jf_req_read_json(jf_req *req);
/* The same, but an application/x-www-form-urlencoded body is also taken
 * (as OAuth 2.0 clients send it), each parameter becoming a string member
 * of req->body; a repeated or undecodable parameter is 400 naming it. */
int jf_req_read_form_or_json(jf_req *req);

/* Read a body of media type ctype (415 otherwise) whole into body
 * (the caller frees it), capped at cap bytes (413 past it). 0, or a
 * negative jf_err with the problem sent. */
int jf_req_read_raw(jf_req *req, const char *ctype, long long cap, jf_buf *body);

/* Parse text (len bytes) as one JSON object under the nesting cap of a
 * body, duplicate keys refused: a new reference, or NULL when it is not
 * one. Nothing is sent (batch lines answer for themselves). */
json_t *jf_req_parse_object(const char *text, size_t len);

/* The request's database connection, taken on first use and kept until
 * the dispatcher gives it back, so a handler neither releases it nor
 * answers for its failures (request_db.c). A JF_ROUTE_REPLICA route reads
 * from the hot standby when it may. 0, or JF_ERR_UNAVAILABLE with nothing
 * sent: the handler returns it and the dispatcher answers 503. */
int jf_req_db(jf_req *req, jf_db_conn **conn);
/* After a handler (or an NDJSON batch line's run of one) returned rc: roll
 * back the transaction it left open and, when it sent nothing, answer the
 * failure: 503 for an unavailable database, else 500, logged with the
 * SQLSTATE of the connection's last error (never shown to the client). */
void jf_req_db_settle(jf_req *req, int rc);
/* Give the connection back to its pool (the dispatcher, once answered). */
void jf_req_db_release(jf_req *req);

/* Internal to the server: parse the query string into the context.
 * Returns 0, or JF_ERR_TOO_LARGE / JF_ERR_INVALID with the problem sent. */
int jf_req_parse_query(jf_req *req, const char *qs);

#endif
