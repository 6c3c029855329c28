/* Validation helpers: collect every bad field, answer once. */
#include "validate.h"
#include "response.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../domain/date.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jf_errors_add(jf_errors *e, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (e->list == NULL)
        e->list = json_array();
    json_array_append_new(e->list, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

bool jf_errors_any(const jf_errors *e)
{
    return e->list != NULL && json_array_size(e->list) > 0;
}

int jf_errors_respond(jf_req *req, jf_errors *e)
{
    json_t *list = e->list;

    e->list = NULL;
    jf_resp_problem_list(req, 400, "validation", "Validation failed",
                         "one or more fields are invalid; see errors", list);
    return JF_ERR_INVALID;
}

void jf_errors_free(jf_errors *e)
{
    json_decref(e->list);
    e->list = NULL;
}

bool jf_in_set(const char *s, const char *const *allowed)
{
    for (; s != NULL && *allowed != NULL; allowed++)
        if (strcmp(s, *allowed) == 0)
            return true;
    return false;
}

void jf_body_only(const jf_req *req, jf_errors *e, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(req->body, key, v)
    {
        if (!jf_in_set(key, allowed))
            jf_errors_add(e, key, "is not a known field");
    }
}

bool jf_body_has(const jf_req *req, const char *field)
{
    return json_object_get(req->body, field) != NULL;
}

bool jf_body_null(const jf_req *req, const char *field)
{
    return json_is_null(json_object_get(req->body, field));
}

bool jf_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p, need, cp;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        }
        for (unsigned i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false; /* also stops at the NUL */
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return false;
        p += need + 1;
    }
    return true;
}

size_t jf_utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

const char *jf_body_str(const jf_req *req, jf_errors *e, const char *field, bool required,
                        size_t minc, size_t maxc)
{
    json_t *v = json_object_get(req->body, field);
    const char *s;
    size_t n;

    if (v == NULL || json_is_null(v)) {
        if (required)
            jf_errors_add(e, field, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        jf_errors_add(e, field, "must be a string");
        return NULL;
    }
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        jf_errors_add(e, field, "must not contain NUL characters");
        return NULL;
    }
    if (!jf_text_ok(s)) { /* jansson let only valid UTF-8 through: a control it is */
        jf_errors_add(e, field, "must not contain control characters");
        return NULL;
    }
    n = jf_utf8_len(s);
    if (n < minc || n > maxc) {
        jf_errors_add(e, field, "must be %zu to %zu characters long", minc, maxc);
        return NULL;
    }
    return s;
}

const char *jf_body_codes(jf_req *req, jf_errors *e, const char *field, const char *const *codes,
                          size_t max)
{
    json_t *a = json_object_get(req->body, field), *v;
    const char *out = NULL;
    size_t i;
    jf_buf b;

    if (a == NULL || json_is_null(a))
        return NULL;
    if (!json_is_array(a) || json_array_size(a) > max) {
        jf_errors_add(e, field, "must be an array of at most %zu codes", max);
        return NULL;
    }
    jf_buf_init(&b, 4096);
    jf_buf_puts(&b, "{");
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || !jf_in_set(json_string_value(v), codes)) {
            jf_errors_add(e, field, "item %zu is not one of the allowed codes", i);
            jf_buf_free(&b);
            return NULL;
        }
        jf_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
    }
    if (jf_buf_puts(&b, "}") == 0)
        out = jf_arena_strdup(&req->arena, b.data);
    jf_buf_free(&b);
    return out;
}

const char *jf_body_code(const jf_req *req, jf_errors *e, const char *field, bool required,
                         const char *const *codes)
{
    const char *s = jf_body_str(req, e, field, required, 1, 64);

    if (s != NULL && !jf_in_set(s, codes)) {
        jf_errors_add(e, field, "is not one of the allowed codes");
        return NULL;
    }
    return s;
}

const char *jf_body_any_date(const jf_req *req, jf_errors *e, const char *field, bool required,
                             jf_date *out)
{
    const char *s = jf_body_str(req, e, field, required, 10, 10);

    if (s != NULL && jf_date_parse(s, out) != 0) {
        jf_errors_add(e, field, "must be a date YYYY-MM-DD");
        return NULL;
    }
    return s;
}

const char *jf_body_date(const jf_req *req, jf_errors *e, const char *field, bool required)
{
    const char *s = jf_body_str(req, e, field, required, 10, 10);
    jf_date d;

    if (s == NULL)
        return NULL;
    if (jf_date_parse(s, &d) != 0) {
        jf_errors_add(e, field, "must be a real date YYYY-MM-DD");
        return NULL;
    }
    if (d > jf_date_today()) {
        jf_errors_add(e, field, "must not be in the future");
        return NULL;
    }
    return s;
}

int jf_body_int(const jf_req *req, jf_errors *e, const char *field, bool required, long long min,
                long long max, long long *out)
{
    json_t *v = json_object_get(req->body, field);

    if (v == NULL || json_is_null(v)) {
        if (required)
            jf_errors_add(e, field, "is required");
        return required ? -1 : 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        jf_errors_add(e, field, "must be a whole number from %lld to %lld", min, max);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

int jf_body_bool(const jf_req *req, jf_errors *e, const char *field, bool required, bool *out)
{
    json_t *v = json_object_get(req->body, field);

    if (v == NULL || json_is_null(v)) {
        if (required)
            jf_errors_add(e, field, "is required");
        return required ? -1 : 0;
    }
    if (!json_is_boolean(v)) {
        jf_errors_add(e, field, "must be true or false");
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

static int parse_ll(const char *s, long long *out)
{
    char *end = NULL;

    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' ? 0 : -1;
}

int jf_query_limit(const jf_req *req, jf_errors *e, int *limit)
{
    const char *s = jf_req_query(req, "limit");
    long long v;

    *limit = 50;
    if (s == NULL)
        return 0;
    if (parse_ll(s, &v) != 0 || v < 1 || v > 200) {
        jf_errors_add(e, "limit", "must be a whole number from 1 to 200");
        return -1;
    }
    *limit = (int)v;
    return 0;
}

bool jf_query_bool(const jf_req *req, jf_errors *e, const char *name)
{
    const char *s = jf_req_query(req, name);

    if (s == NULL || strcmp(s, "false") == 0)
        return false;
    if (strcmp(s, "true") == 0)
        return true;
    jf_errors_add(e, name, "must be true or false");
    return false;
}

long long jf_query_id(const jf_req *req, jf_errors *e, const char *name)
{
    const char *s = jf_req_query(req, name);
    long long v;

    if (s == NULL)
        return 0;
    if (parse_ll(s, &v) != 0 || v < 1) {
        jf_errors_add(e, name, "must be a positive id");
        return -1;
    }
    return v;
}
