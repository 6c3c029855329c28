/* Reading from a request: parameters, headers, the JSON body. */
#include "request.h"
#include "response.h"
#include "validate.h"
#include "../core/err.h"

#include <civetweb.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *jf_req_param(const jf_req *req, int i)
{
    return i >= 0 && i < req->npath_params ? req->path_params[i] : NULL;
}

long long jf_req_param_id(const jf_req *req, int i)
{
    const char *s = jf_req_param(req, i);
    char *end = NULL;
    long long v;

    if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18)
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' ? v : 0;
}

const char *jf_req_query(const jf_req *req, const char *name)
{
    for (int i = 0; i < req->nquery; i++)
        if (strcmp(req->qkeys[i], name) == 0)
            return req->qvals[i];
    return NULL;
}

const char *jf_req_header(const jf_req *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

const char *jf_req_remote(const jf_req *req)
{
    return req->client;
}

static int hexdig(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into the arena; '+' is a space. NULL on a bad
 * escape, an embedded NUL or a value over the cap. */
static char *url_decode(jf_arena *a, const char *s, size_t n)
{
    char *out, *o;

    if (n > JF_QUERY_VALUE_MAX * 3)
        return NULL;
    out = o = jf_arena_alloc(a, n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return NULL;
            hi = hexdig((unsigned char)s[i + 1]);
            lo = hexdig((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return (size_t)(o - out) <= JF_QUERY_VALUE_MAX ? out : NULL;
}

int jf_req_parse_query(jf_req *req, const char *qs)
{
    const char *p = qs;

    req->nquery = 0;
    while (p != NULL && *p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char *k, *v;

        if (end > p) {
            if (req->nquery == JF_MAX_QUERY_PARAMS) {
                jf_resp_problem(req, 400, "validation", "Too many query parameters", NULL, "query",
                                "at most 32 query parameters are accepted");
                return JF_ERR_TOO_LARGE;
            }
            k = url_decode(&req->arena, p, (size_t)((eq ? eq : end) - p));
            v = eq ? url_decode(&req->arena, eq + 1, (size_t)(end - eq - 1))
                   : jf_arena_strdup(&req->arena, "");
            if (k == NULL || v == NULL) {
                jf_resp_problem(req, 400, "validation", "Malformed query string", NULL, "query",
                                "a query parameter is badly encoded or too long");
                return JF_ERR_INVALID;
            }
            /* Values go into SQL and logs: PostgreSQL refuses invalid
             * UTF-8 (a 500 before this check), and controls have no place. */
            if (!jf_text_ok(k) || !jf_text_ok(v)) {
                jf_resp_problem(req, 400, "validation", "Malformed query string", NULL,
                                jf_text_ok(k) && *k ? k : "query",
                                "must be UTF-8 text without control characters");
                return JF_ERR_INVALID;
            }
            req->qkeys[req->nquery] = k;
            req->qvals[req->nquery] = v;
            req->nquery++;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

/* Is ct media type want, parameters aside? */
static bool is_type(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool is_json_type(const char *ct)
{
    return is_type(ct, "application/json");
}

/* Deepest nesting a body may have. jansson parses recursively and civetweb
 * worker threads have small stacks: a body nested a thousand deep would
 * overflow the stack, so it is refused before it is parsed. */
#define JSON_MAX_DEPTH 64

/* The nesting depth of JSON text, counting brackets outside strings. */
static int json_depth(const char *s, size_t n)
{
    int depth = 0, max = 0;
    bool in_string = false;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
            if (max > JSON_MAX_DEPTH)
                return max;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

static bool is_form_type(const char *ct)
{
    size_t n = strlen("application/x-www-form-urlencoded");

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Read the whole body into body (capped at cap, chunked bodies included);
 * on failure the problem has been sent. */
static int read_body(jf_req *req, long long cap, jf_buf *body)
{
    char chunk[4096];
    int rc = 0, n;

    jf_buf_init(body, (size_t)cap);
    if (req->ri->content_length > cap) {
        jf_resp_problem(req, 413, "payload-too-large", "Payload too large",
                        "the body is larger than the server accepts", "body", "too large");
        return JF_ERR_TOO_LARGE;
    }
    /* content_length is -1 for chunked bodies: read until mg_read says 0. */
    while ((n = mg_read(req->conn, chunk, sizeof(chunk))) > 0) {
        rc = jf_buf_append(body, chunk, (size_t)n);
        if (rc != 0)
            break;
    }
    if (rc == JF_ERR_TOO_LARGE) {
        jf_resp_problem(req, 413, "payload-too-large", "Payload too large",
                        "the body is larger than the server accepts", "body", "too large");
    } else if (rc != 0 || n < 0) {
        rc = rc ? rc : JF_ERR_IO;
        jf_resp_problem(req, 400, "malformed-body", "Malformed body", "the body could not be read",
                        "body", "could not be read");
    }
    return rc;
}

/* "k=v&k2=v2" → req->body as a JSON object of strings, so the same
 * validation serves both encodings. A repeated or undecodable parameter
 * is refused (RFC 6749 §3.1: parameters must not repeat). */
static int form_to_json(jf_req *req, const char *s, size_t len)
{
    const char *p = s, *end = s + len;

    req->body = json_object();
    if (req->body == NULL)
        return JF_ERR_NOMEM;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        char *k = url_decode(&req->arena, p, (size_t)((eq ? eq : stop) - p));
        char *v = eq ? url_decode(&req->arena, eq + 1, (size_t)(stop - eq - 1)) : NULL;

        if (stop > p) {
            if (k == NULL || v == NULL || *k == '\0' || json_object_get(req->body, k) != NULL) {
                const char *field = k && *k ? k : "body";
                jf_resp_problem(req, 400, "malformed-body", "Malformed body",
                                "a form parameter is empty, undecodable or repeated", field,
                                "is malformed or repeated");
                return JF_ERR_INVALID;
            }
            json_object_set_new(req->body, k, json_string(v));
        }
        p = stop + 1;
    }
    return 0;
}

int jf_req_read_form_or_json(jf_req *req)
{
    const char *ct = jf_req_header(req, "Content-Type");
    jf_buf body;
    int rc;

    if (!is_form_type(ct))
        return jf_req_read_json(req);
    if ((rc = read_body(req, req->app->cfg.body_max_bytes, &body)) == 0)
        rc = form_to_json(req, body.data ? body.data : "", body.len);
    jf_buf_free(&body);
    return rc;
}

int jf_req_read_json(jf_req *req)
{
    json_error_t jerr;
    jf_buf body;
    int rc;

    if (!is_json_type(jf_req_header(req, "Content-Type"))) {
        jf_resp_problem(req, 415, "unsupported-media-type", "Unsupported media type",
                        "the body must be application/json", "Content-Type",
                        "must be application/json");
        return JF_ERR_INVALID;
    }
    if ((rc = read_body(req, req->app->cfg.body_max_bytes, &body)) != 0)
        goto out;
    if (json_depth(body.data ? body.data : "", body.len) > JSON_MAX_DEPTH) {
        jf_resp_problem(req, 400, "malformed-json", "Malformed JSON",
                        "the body is nested more than 64 levels deep", "body",
                        "is nested too deeply");
        rc = JF_ERR_INVALID;
        goto out;
    }
    req->body = json_loadb(body.data ? body.data : "", body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (req->body == NULL) {
        /* jansson names its flag for a \u0000 escape; say what is wrong. */
        const char *why = json_error_code(&jerr) == json_error_null_character
                              ? "a string holds a NUL character (\\u0000), which is not accepted"
                              : jerr.text;
        char *msg = jf_arena_printf(&req->arena, "invalid JSON at line %d column %d: %s", jerr.line,
                                    jerr.column, why);
        jf_resp_problem(req, 400, "malformed-json", "Malformed JSON", msg, "body",
                        "is not valid JSON");
        rc = JF_ERR_INVALID;
        goto out;
    }
    if (!json_is_object(req->body)) {
        jf_resp_problem(req, 400, "malformed-json", "Malformed JSON",
                        "the body must be a JSON object", "body", "must be a JSON object");
        rc = JF_ERR_INVALID;
    }
out:
    jf_buf_free(&body);
    return rc;
}

int jf_req_read_raw(jf_req *req, const char *ctype, long long cap, jf_buf *body)
{
    jf_buf_init(body, (size_t)cap);
    if (!is_type(jf_req_header(req, "Content-Type"), ctype)) {
        jf_resp_problem(req, 415, "unsupported-media-type", "Unsupported media type",
                        jf_arena_printf(&req->arena, "the body must be %s", ctype), "Content-Type",
                        jf_arena_printf(&req->arena, "must be %s", ctype));
        return JF_ERR_INVALID;
    }
    return read_body(req, cap, body);
}

json_t *jf_req_parse_object(const char *text, size_t len)
{
    json_t *j;

    if (json_depth(text, len) > JSON_MAX_DEPTH)
        return NULL;
    j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}
