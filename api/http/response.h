/* Writing responses: JSON bodies, RFC 9457 problem+json errors, headers.
 * Every response carries X-Request-Id and Content-Length (keep-alive). A
 * request is answered once; later attempts are ignored. */
#ifndef JF_RESPONSE_H
#define JF_RESPONSE_H

#include <jansson.h>
#include <stddef.h>

#include "request.h"

/* Add a header line for the response still to be sent. */
void jf_resp_header(jf_req *req, const char *name, const char *value);
/* Send status with a body of content type ctype (NULL body for none). */
int jf_resp_send(jf_req *req, int status, const char *ctype, const char *body, size_t len);
/* Send JSON text produced elsewhere (usually by PostgreSQL). */
int jf_resp_json_text(jf_req *req, int status, const char *json, size_t len);
/* Send a jansson value (borrowed: the caller still owns j). */
int jf_resp_json(jf_req *req, int status, const json_t *j);
/* Send a problem with at most one named field at fault (field NULL: none).
 * type_slug becomes https://jingfang.example/problems/<slug>. */
int jf_resp_problem(jf_req *req, int status, const char *type_slug, const char *title,
                    const char *detail, const char *field, const char *field_message);
/* Send a problem with a list of {field, message} (errors is stolen). */
int jf_resp_problem_list(jf_req *req, int status, const char *type_slug, const char *title,
                         const char *detail, json_t *errors);
/* Shorthands for the common answers. */
int jf_resp_not_found(jf_req *req);
int jf_resp_forbidden(jf_req *req, const char *detail);
int jf_resp_unavailable(jf_req *req);
int jf_resp_internal(jf_req *req);
/* A body streamed in chunks (Transfer-Encoding: chunked), for answers too
 * large to hold: begin sends the status and headers, write buffers and
 * sends a chunk whenever COALESCE_MAX bytes are waiting, end sends the
 * rest and the last chunk. A stream that stops without end is cut short,
 * which the client sees as an incomplete body. */
int jf_resp_stream_begin(jf_req *req, int status, const char *ctype);
int jf_resp_stream_write(jf_req *req, const char *data, size_t len);
int jf_resp_stream_end(jf_req *req);
/* The reason phrase of a status code. */
const char *jf_resp_reason(int status);

#endif
