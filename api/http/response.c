/* Responses: one buffer, one write for small bodies. */
#include "response.h"
#include "../core/err.h"

#include <civetweb.h>
#include <stdio.h>
#include <string.h>

#define PROBLEM_BASE "https://jingfang.example/problems/"
#define HEADER_MAX 4096
#define COALESCE_MAX 65536

const char *jf_resp_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    }
    return "Unknown";
}

void jf_resp_header(jf_req *req, const char *name, const char *value)
{
    /* Header values come from our own code; refuse CR/LF all the same. */
    if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL)
        return;
    (void)jf_buf_printf(&req->resp_headers, "%s: %s\r\n", name, value);
}

int jf_resp_send(jf_req *req, int status, const char *ctype, const char *body, size_t len)
{
    jf_buf out;
    int rc;

    if (req->status != 0)
        return 0;
    req->status = status;
    if (req->capture != NULL) {
        jf_buf_reset(req->capture);
        return body != NULL ? jf_buf_append(req->capture, body, len) : 0;
    }
    jf_buf_init(&out, HEADER_MAX + COALESCE_MAX);
    rc = jf_buf_printf(&out,
                       "HTTP/1.1 %d %s\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n"
                       "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n",
                       status, jf_resp_reason(status), req->request_id, body ? len : 0);
    if (rc == 0 && ctype != NULL && body != NULL)
        rc = jf_buf_printf(&out, "Content-Type: %s\r\n", ctype);
    if (rc == 0 && req->resp_headers.len > 0)
        rc = jf_buf_append(&out, req->resp_headers.data, req->resp_headers.len);
    if (rc == 0)
        rc = jf_buf_append(&out, "\r\n", 2);
    if (rc == 0 && body != NULL && len <= COALESCE_MAX) {
        rc = jf_buf_append(&out, body, len);
        body = NULL;
    }
    if (rc == 0 && mg_write(req->conn, out.data, out.len) <= 0)
        rc = JF_ERR_IO;
    if (rc == 0 && body != NULL && len > 0 && mg_write(req->conn, body, len) <= 0)
        rc = JF_ERR_IO;
    req->resp_bytes = len;
    jf_buf_free(&out);
    return rc;
}

int jf_resp_stream_begin(jf_req *req, int status, const char *ctype)
{
    jf_buf out;
    int rc;

    if (req->status != 0)
        return JF_ERR_CONFLICT;
    req->status = status;
    req->resp_bytes = 0;
    req->stream_open = true;
    jf_buf_init(&req->stream, COALESCE_MAX + 1);
    jf_buf_init(&out, HEADER_MAX);
    rc = jf_buf_printf(&out,
                       "HTTP/1.1 %d %s\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n"
                       "X-Content-Type-Options: nosniff\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Type: %s\r\n",
                       status, jf_resp_reason(status), req->request_id, ctype);
    if (rc == 0 && req->resp_headers.len > 0)
        rc = jf_buf_append(&out, req->resp_headers.data, req->resp_headers.len);
    if (rc == 0)
        rc = jf_buf_append(&out, "\r\n", 2);
    if (rc == 0 && mg_write(req->conn, out.data, out.len) <= 0)
        rc = JF_ERR_IO;
    jf_buf_free(&out);
    return rc;
}

static int stream_flush(jf_req *req)
{
    int rc = 0;

    if (req->stream.len > 0 &&
        mg_send_chunk(req->conn, req->stream.data, (unsigned)req->stream.len) <= 0)
        rc = JF_ERR_IO;
    req->resp_bytes += req->stream.len;
    req->stream.len = 0;
    return rc;
}

int jf_resp_stream_write(jf_req *req, const char *data, size_t len)
{
    int rc = 0;

    if (req->stream.len + len > COALESCE_MAX)
        rc = stream_flush(req);
    if (rc == 0 && len > COALESCE_MAX) {
        if (mg_send_chunk(req->conn, data, (unsigned)len) <= 0)
            return JF_ERR_IO;
        req->resp_bytes += len;
        return 0;
    }
    return rc != 0 ? rc : jf_buf_append(&req->stream, data, len);
}

int jf_resp_stream_end(jf_req *req)
{
    int rc = stream_flush(req);

    if (rc == 0 && mg_write(req->conn, "0\r\n\r\n", 5) <= 0)
        rc = JF_ERR_IO;
    req->stream_open = rc != 0;
    jf_buf_free(&req->stream);
    return rc;
}

int jf_resp_json_text(jf_req *req, int status, const char *json, size_t len)
{
    return jf_resp_send(req, status, "application/json", json, len);
}

int jf_resp_json(jf_req *req, int status, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    int rc;

    if (s == NULL)
        return jf_resp_internal(req);
    rc = jf_resp_json_text(req, status, s, strlen(s));
    free(s);
    return rc;
}

int jf_resp_problem_list(jf_req *req, int status, const char *type_slug, const char *title,
                         const char *detail, json_t *errors)
{
    json_t *p = json_object();
    char type[128];
    char *s;
    int rc;

    snprintf(type, sizeof(type), PROBLEM_BASE "%s", type_slug);
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(title));
    json_object_set_new(p, "status", json_integer(status));
    if (detail != NULL)
        json_object_set_new(p, "detail", json_string(detail));
    json_object_set_new(p, "request_id", json_string(req->request_id));
    json_object_set_new(p, "errors", errors ? errors : json_array());
    s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (s == NULL)
        return jf_resp_send(req, 500, "text/plain", "internal error", 14);
    rc = jf_resp_send(req, status, "application/problem+json", s, strlen(s));
    free(s);
    return rc;
}

int jf_resp_problem(jf_req *req, int status, const char *type_slug, const char *title,
                    const char *detail, const char *field, const char *field_message)
{
    json_t *errors = json_array();

    if (field != NULL)
        json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message",
                                                field_message ? field_message : "is invalid"));
    return jf_resp_problem_list(req, status, type_slug, title, detail, errors);
}

int jf_resp_not_found(jf_req *req)
{
    return jf_resp_problem(req, 404, "not-found", "Not found",
                           "no such resource, or it is outside your area", NULL, NULL);
}

int jf_resp_forbidden(jf_req *req, const char *detail)
{
    return jf_resp_problem(req, 403, "forbidden", "Forbidden", detail, NULL, NULL);
}

int jf_resp_unavailable(jf_req *req)
{
    jf_resp_header(req, "Retry-After", "1");
    return jf_resp_problem(req, 503, "unavailable", "Service unavailable",
                           "the database is busy or unreachable; retry shortly", NULL, NULL);
}

int jf_resp_internal(jf_req *req)
{
    return jf_resp_problem(req, 500, "internal", "Internal server error",
                           "the request could not be completed", NULL, NULL);
}
