/* libFuzzer target: request bodies and query strings through the server's
 * own reading and validation (api/http/request.c, validate.c, response.c;
 * civetweb replaced by mg_stub.c). The first input byte picks a JSON body,
 * a form body (the token endpoint's) or a query string; the rest is it.
 * Invariants: never a crash or a leak; anything refused is answered once
 * with a 4xx problem+json whose errors[] names a field. */
#include "mg_stub.h"
#include "../../api/core/err.h"
#include "../../api/http/request.h"
#include "../../api/http/response.h"
#include "../../api/http/validate.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A handler's checks: the fields of a visit-like write, as the resources do. */
static int validate(jf_req *req)
{
    static const char *const allowed[] = {"name",    "org_unit_id", "visit_date", "mode",
                                          "reached", "risk_level",  "notes",      NULL};
    static const char *const modes[] = {"home", "clinic", "phone", NULL};
    jf_errors e = {0};
    long long id, risk;
    bool reached;

    jf_body_only(req, &e, allowed);
    (void)jf_body_str(req, &e, "name", true, 1, 32);
    (void)jf_body_int(req, &e, "org_unit_id", true, 1, 1LL << 53, &id);
    (void)jf_body_date(req, &e, "visit_date", false);
    (void)jf_body_code(req, &e, "mode", false, modes);
    (void)jf_body_bool(req, &e, "reached", false, &reached);
    (void)jf_body_int(req, &e, "risk_level", false, 0, 5, &risk);
    (void)jf_body_str(req, &e, "notes", false, 0, 2000);
    (void)jf_body_has(req, "notes");
    (void)jf_body_null(req, "notes");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return 0;
}

static int query(jf_req *req, const uint8_t *data, size_t size)
{
    char *qs = jf_arena_strndup(&req->arena, (const char *)data, size);
    jf_errors e = {0};
    int limit, rc;

    if (qs == NULL)
        return JF_ERR_NOMEM;
    if ((rc = jf_req_parse_query(req, qs)) != 0)
        return rc;
    (void)jf_query_limit(req, &e, &limit);
    (void)jf_query_bool(req, &e, "count");
    (void)jf_query_id(req, &e, "org_unit_id");
    (void)jf_req_query(req, "cursor");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    return 0;
}

/* A refusal was answered once, as problem+json naming a field. Known
 * exception (reported to the owner of api/http/): a form parameter whose
 * name is not UTF-8 once decoded is refused with errors[] empty, since
 * jansson will not hold the name; form_to_json should say "body" then. */
static void check_problem(const jf_req *req, const jf_buf *out, bool form)
{
    const char *body = out->data ? strstr(out->data, "\r\n\r\n") : NULL;
    json_t *j, *errs;

    if (req->status < 400 || req->status > 499 || body == NULL)
        abort();
    j = json_loads(body + 4, 0, NULL);
    errs = json_object_get(j, "errors");
    if (!json_is_array(errs) || json_integer_value(json_object_get(j, "status")) != req->status)
        abort();
    if (!json_is_string(json_object_get(json_array_get(errs, 0), "field")) &&
        !(form && json_array_size(errs) == 0))
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jf_app app;
    static struct mg_request_info ri;
    struct mg_connection conn = {0};
    jf_req req;
    int rc;

    if (size == 0)
        return 0;
    app.cfg.body_max_bytes = 1024 * 1024;
    memset(&req, 0, sizeof(req));
    req.app = &app;
    req.conn = &conn;
    req.ri = &ri;
    ri.content_length = -1; /* chunked: read until the end */
    jf_arena_init(&req.arena, 16u * 1024 * 1024);
    jf_buf_init(&req.resp_headers, 4096);
    jf_buf_init(&conn.out, 1024 * 1024);
    conn.in = data + 1;
    conn.in_len = size - 1;
    switch (data[0] % 3) {
    case 0:
        conn.content_type = "application/json";
        rc = jf_req_read_json(&req);
        break;
    case 1:
        conn.content_type = "application/x-www-form-urlencoded";
        rc = jf_req_read_form_or_json(&req);
        break;
    default:
        rc = query(&req, data + 1, size - 1);
        break;
    }
    if (rc == 0 && data[0] % 3 != 2)
        rc = validate(&req);
    if (rc != 0)
        check_problem(&req, &conn.out, data[0] % 3 == 1);
    else if (req.status != 0)
        abort();
    json_decref(req.body);
    jf_buf_free(&conn.out);
    jf_buf_free(&req.resp_headers);
    jf_arena_free(&req.arena);
    return 0;
}
