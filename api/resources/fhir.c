/* The read-only FHIR R4 view (docs/fhir.md) for the systems of hospitals
 * and police: Patient, RelatedPerson, Encounter, Condition, RiskAssessment,
 * Flag and MedicationStatement as application/fhir+json, for service
 * accounts only, within their region and cut to their agency's view
 * (domain/fhir.c); every read is audited before it is answered. The
 * mappings are SQL functions, one per type (migration 0046). */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/err.h"
#include "../domain/pii.h"
#include "../domain/date.h"
#include "../domain/fhir.h"
#include "../domain/idcard.h"
#include "../domain/mask.h"
#include "../http/response.h"
#include "../http/router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FHIR_JSON "application/fhir+json"
#define BASE "/api/v1/fhir/"
#define COUNT_DEFAULT 20
#define COUNT_MAX 100
#define LAST_UPDATED_MAX 2 /* e.g. ge… and lt…: one window */
#define BUNDLE_MAX (8u << 20)

static jf_stmt caller = {
    "fhir_caller",
    "SELECT u.active, service_system(a.kind), c.active FROM users u"
    " LEFT JOIN agencies a ON a.id = u.agency_id"
    " LEFT JOIN service_clients c ON c.user_id = u.id WHERE u.id = $1",
    0,
};
static jf_stmt patient_head = {"fhir_patient_head",
                               "SELECT org_path, org_unit_id FROM patients WHERE id = $1", 0};

/* Columns of a Patient row: id, org_path, org_unit_id, id_cipher, resource
 * ($1: whole phone numbers). */
enum { P_ID, P_PATH, P_UNIT, P_CIPHER, P_DOC };
#define PATIENT_SELECT                                                                             \
    "SELECT p.id, p.org_path, p.org_unit_id, p.id_cipher, fhir_patient(p, $1)::text FROM "         \
    "patients p"
static jf_stmt patient_read = {"fhir_patient_read", PATIENT_SELECT " WHERE p.id = $2", 0};
/* In the caller's subtree [$2, $3), by blind index $4 (or any), updated in
 * two ranges [$5 + $6, $7 + $8) and [$9 + $10, $11 + $12) (NULL: open), after
 * id $13, at most $14. */
static jf_stmt patient_page = {
    "fhir_patient_search",
    PATIENT_SELECT
    " WHERE p.org_path >= $2 AND p.org_path < $3"
    " AND ($4::bytea IS NULL OR p.id_index = $4::bytea)"
    " AND ($5::timestamptz IS NULL OR p.updated_at >= $5::timestamptz + $6::interval)"
    " AND ($7::timestamptz IS NULL OR p.updated_at < $7::timestamptz + $8::interval)"
    " AND ($9::timestamptz IS NULL OR p.updated_at >= $9::timestamptz + $10::interval)"
    " AND ($11::timestamptz IS NULL OR p.updated_at < $11::timestamptz + $12::interval)"
    " AND p.id > $13 ORDER BY p.id LIMIT $14",
    0,
};

/* The other types, searched by patient: rows of (id, resource). */
static jf_stmt related_persons = {
    "fhir_related_persons", "SELECT id, resource::text FROM fhir_related_persons($1, $2, $3)", 0};
static jf_stmt encounters = {"fhir_encounters",
                             "SELECT id, resource::text FROM fhir_encounters($1, $2)", 0};
static jf_stmt conditions = {"fhir_conditions",
                             "SELECT id, resource::text FROM fhir_conditions($1)", 0};
static jf_stmt risk_assessments = {
    "fhir_risk_assessments", "SELECT id, resource::text FROM fhir_risk_assessments($1, $2)", 0};
static jf_stmt flags = {"fhir_flags", "SELECT id, resource::text FROM fhir_flags($1)", 0};
static jf_stmt medication_statements = {
    "fhir_medication_statements",
    "SELECT id, resource::text FROM fhir_medication_statements($1, $2::date)", 0};

/* A FHIR call in progress: the connection, the caller's view. */
typedef struct call {
    jf_req *req;
    jf_db_conn *conn;
    jf_patient_view view;
} call;

/* The problem+json counterpart of an issue code: slug and title. */
static void problem_kind(const char *code, const char **slug, const char **title)
{
    static const char *const kinds[][3] = {
        {"invalid", "validation", "Validation failed"},
        {"forbidden", "forbidden", "Forbidden"},
        {"not-found", "not-found", "Not found"},
        {"login", "unauthorized", "Unauthorized"},
    };

    *slug = "internal";
    *title = "Error";
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(code, kinds[i][0]) == 0) {
            *slug = kinds[i][1];
            *title = kinds[i][2];
        }
}

/* Answer an error: an OperationOutcome with one error issue of code (FHIR's
 * issue-type) naming the search parameter param (NULL: none), or, for a
 * client that asks for it in Accept, the same as the rest of the API's
 * problem+json. */
static int outcome(jf_req *req, int status, const char *code, const char *param,
                   const char *diagnostics)
{
    const char *accept = jf_req_header(req, "Accept");
    json_t *issue, *o = NULL;
    char *text = NULL;
    int rc = JF_ERR_NOMEM;

    if (accept != NULL && strstr(accept, "application/problem+json") != NULL) {
        const char *slug, *title;
        problem_kind(code, &slug, &title);
        return jf_resp_problem(req, status, slug, title, diagnostics, param, diagnostics);
    }
    issue =
        json_pack("{s:s,s:s,s:s}", "severity", "error", "code", code, "diagnostics", diagnostics);
    if (issue != NULL && param != NULL)
        json_object_set_new(issue, "expression", json_pack("[s]", param));
    if (issue != NULL)
        o = json_pack("{s:s,s:[o]}", "resourceType", "OperationOutcome", "issue", issue);
    if (o != NULL)
        text = json_dumps(o, JSON_COMPACT);
    if (text != NULL)
        rc = jf_resp_send(req, status, FHIR_JSON, text, strlen(text));
    free(text);
    json_decref(o);
    return rc;
}

static int bad_param(jf_req *req, const char *param, const char *why)
{
    return outcome(req, 400, "invalid", param, jf_arena_printf(&req->arena, "%s %s", param, why));
}

/* Only service accounts of a hospital or a police system read here: 0 with
 * c->conn (the request's) and c->view set; otherwise negative, answered
 * unless a database failure. */
static int open_call(jf_req *req, call *c)
{
    PGresult *res = NULL;
    const char *system;
    int rc;

    memset(c, 0, sizeof(*c));
    c->req = req;
    if (jf_role_parse(req->claims.role) != JF_ROLE_SERVICE) {
        outcome(req, 403, "forbidden", NULL,
                "the FHIR view is for the service accounts of hospital and police systems");
        return JF_ERR_AUTH;
    }
    if ((rc = jf_req_db(req, &c->conn)) != 0)
        return rc;
    rc = jf_db_exec(c->conn, &caller, 1, (const char *const[]){jf_res_id(req, req->claims.user_id)},
                    &res);
    if (rc != 0)
        goto out;
    rc = JF_ERR_AUTH;
    system = PQntuples(res) == 1 && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : NULL;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t") != 0 || PQgetisnull(res, 0, 2) ||
        strcmp(PQgetvalue(res, 0, 2), "t") != 0)
        outcome(req, 401, "login", NULL, "the account or its client is not active");
    else if (system == NULL)
        outcome(req, 403, "forbidden", NULL,
                "the FHIR view is for the systems of hospitals and police stations");
    else {
        c->view = jf_fhir_view_for_system(system);
        rc = 0;
    }
out:
    PQclear(res);
    return rc;
}

static int close_call(call *c, int rc)
{
    return rc < 0 && c->req->status != 0 ? 0 : rc;
}

/* Every query parameter is one of allowed, else 400 naming it. */
static int only_params(jf_req *req, const char *const *allowed)
{
    for (int i = 0; i < req->nquery; i++)
        if (!jf_in_set(req->qkeys[i], allowed)) {
            bad_param(req, req->qkeys[i], "is not a search parameter of this type");
            return JF_ERR_INVALID;
        }
    return 0;
}

/* Percent-encode s into b (everything but RFC 3986's unreserved). */
static int put_encoded(jf_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;

    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) != NULL)
            rc = jf_buf_append(b, p, 1);
        else
            rc = jf_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return rc;
}

/* The request's URL with its parameters but cursor, then cursor=next when
 * next is not NULL, as a JSON string. */
static int put_url(jf_req *req, jf_buf *b, const char *next)
{
    jf_buf u;
    char sep = '?';
    int rc;

    jf_buf_init(&u, 8192);
    rc = jf_buf_puts(&u, req->path);
    for (int i = 0; rc == 0 && i < req->nquery; i++) {
        if (strcmp(req->qkeys[i], "cursor") == 0)
            continue;
        rc = jf_buf_append(&u, &sep, 1);
        rc = rc ? rc : put_encoded(&u, req->qkeys[i]);
        rc = rc ? rc : jf_buf_puts(&u, "=");
        rc = rc ? rc : put_encoded(&u, req->qvals[i]);
        sep = '&';
    }
    if (rc == 0 && next != NULL)
        rc = jf_buf_printf(&u, "%ccursor=%s", sep, next);
    if (rc == 0)
        rc = jf_buf_json_str(b, u.data);
    jf_buf_free(&u);
    return rc;
}

/* Send rows [0, n) of res (column id_col the id, doc_col the resource) of
 * type as a searchset Bundle; next: the cursor of the next page, or NULL
 * (then the Bundle holds every match and says how many). */
static int send_bundle(jf_req *req, const char *type, const PGresult *res, int n, int id_col,
                       int doc_col, const char *const *docs, const char *next)
{
    jf_buf b;
    int rc;

    jf_buf_init(&b, BUNDLE_MAX);
    rc = jf_buf_puts(&b, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"");
    if (rc == 0 && next == NULL)
        rc = jf_buf_printf(&b, ",\"total\":%d", n);
    rc = rc ? rc : jf_buf_puts(&b, ",\"link\":[{\"relation\":\"self\",\"url\":");
    rc = rc ? rc : put_url(req, &b, NULL);
    if (rc == 0 && next != NULL) {
        rc = jf_buf_puts(&b, "},{\"relation\":\"next\",\"url\":");
        rc = rc ? rc : put_url(req, &b, next);
    }
    rc = rc ? rc : jf_buf_puts(&b, "}]");
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = jf_buf_printf(&b, "%s{\"fullUrl\":\"" BASE "%s/%s\",\"resource\":",
                           i == 0 ? ",\"entry\":[" : ",", type, PQgetvalue(res, i, id_col));
        rc = rc ? rc : jf_buf_puts(&b, docs != NULL ? docs[i] : PQgetvalue(res, i, doc_col));
        rc = rc ? rc : jf_buf_puts(&b, ",\"search\":{\"mode\":\"match\"}}");
    }
    if (rc == 0 && n > 0)
        rc = jf_buf_puts(&b, "]");
    rc = rc ? rc : jf_buf_puts(&b, "}");
    if (rc == 0)
        rc = jf_resp_send(req, 200, FHIR_JSON, b.data, b.len);
    jf_buf_free(&b);
    return rc;
}

/* The Patient resource of row i of res with its identifier (whole, or
 * masked when the view masks it: jf_fhir_identifier_json), into the arena;
 * NULL on failure. */
static const char *patient_doc(call *c, const PGresult *res, int i)
{
    const char *doc = PQgetvalue(res, i, P_DOC);
    int len = PQgetlength(res, i, P_DOC);
    char id18[19], ident[JF_FHIR_IDENTIFIER_MAX];

    if (PQgetisnull(res, i, P_CIPHER) || len < 2)
        return doc;
    if (c->view.id_full &&
        jf_pii_reveal(&c->req->app->cfg, PQgetvalue(res, i, P_CIPHER), id18) != 0)
        return NULL;
    if (jf_fhir_identifier_json(c->view.id_full ? id18 : NULL, ident, sizeof(ident)) != 0)
        return NULL;
    /* doc is a JSON object: the identifier goes in before its closing brace. */
    return jf_arena_printf(&c->req->arena, "%.*s,\"identifier\":%s}", len - 1, doc, ident);
}

/* Audit a read of patient id (unit as text) through type: patient.read,
 * or patient.read_denied when out of scope or absent (probing shows in the
 * log, as for GET /patients/{id}). */
static int audit_read(call *c, const char *id, const char *unit, const char *type, bool ok)
{
    jf_audit_entry a = {
        .action = ok ? "patient.read" : "patient.read_denied",
        .target_type = "patient",
        .target_id = id,
        .org_unit_id = unit ? strtoll(unit, NULL, 10) : 0,
        .detail_json = jf_arena_printf(&c->req->arena, "{\"via\":\"fhir\",\"type\":\"%s\"}", type)};

    return jf_audit_defer(c->conn, c->req, &a);
}

/* GET /fhir/Patient/{id} */
static int patient_get(jf_req *req)
{
    call c;
    PGresult *res = NULL;
    const char *doc;
    bool ok;
    int rc;

    if ((rc = open_call(req, &c)) != 0)
        return close_call(&c, rc);
    if (jf_req_param_id(req, 0) == 0) {
        rc = outcome(req, 404, "not-found", NULL, "no such Patient in your area");
        goto out;
    }
    const char *p[] = {jf_res_tf(c.view.phone_full), jf_req_param(req, 0)};
    if ((rc = jf_db_exec(c.conn, &patient_read, 2, p, &res)) != 0)
        goto out;
    ok = PQntuples(res) == 1 &&
         jf_scope_check(&req->claims, PQgetvalue(res, 0, P_PATH), JF_ACCESS_READ) == JF_SCOPE_OK;
    if (PQntuples(res) == 1 &&
        (rc = audit_read(&c, jf_req_param(req, 0), PQgetvalue(res, 0, P_UNIT), "Patient", ok)) != 0)
        goto out;
    if (!ok) {
        rc = outcome(req, 404, "not-found", NULL, "no such Patient in your area");
        goto out;
    }
    if ((doc = patient_doc(&c, res, 0)) == NULL) {
        rc = JF_ERR_CRYPTO;
        goto out;
    }
    rc = jf_resp_send(req, 200, FHIR_JSON, doc, strlen(doc));
out:
    PQclear(res);
    return close_call(&c, rc);
}

/* _count: COUNT_DEFAULT when absent; 0 or -1 (answered). */
static int read_count(jf_req *req, int *count)
{
    const char *s = jf_req_query(req, "_count");
    char *end = NULL;
    long v;

    *count = COUNT_DEFAULT;
    if (s == NULL)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || *s < '0' || *s > '9' || v < 1 || v > COUNT_MAX) {
        bad_param(req, "_count", "must be a whole number from 1 to 100");
        return -1;
    }
    *count = (int)v;
    return 0;
}

/* GET /fhir/Patient?identifier=&_lastUpdated=&_count=&cursor= : the caller's
 * area by id, paged (Bundle link next). One audit row names every patient
 * of the page. */
static int patient_search(jf_req *req)
{
    static const char *const allowed[] = {"identifier", "_lastUpdated", "_count", "cursor", NULL};
    const char *sp[14] = {NULL}, *ident = jf_req_query(req, "identifier"), *number;
    char index_hex[2 + 2 * 32 + 1], masked[24] = "";
    const char **docs = NULL;
    jf_fhir_range ranges[LAST_UPDATED_MAX] = {{0}};
    int count, nranges = 0, n, rc;
    long long after = 0;
    jf_errors e = {0};
    PGresult *res = NULL;
    jf_buf ids;
    call c;

    jf_buf_init(&ids, 64 * 1024);
    if ((rc = open_call(req, &c)) != 0 || (rc = only_params(req, allowed)) != 0 ||
        (rc = read_count(req, &count)) != 0)
        goto out;
    for (int i = 0; i < req->nquery; i++) {
        if (strcmp(req->qkeys[i], "_lastUpdated") != 0)
            continue;
        if (nranges == LAST_UPDATED_MAX) {
            rc = bad_param(req, "_lastUpdated", "may be given at most twice (a window)");
            goto out;
        }
        if (jf_fhir_last_updated(req->qvals[i], &ranges[nranges++]) != 0) {
            rc = bad_param(req, "_lastUpdated",
                           "must be [ge|gt|le|lt|eq] and a date (2026-01-01) or a dateTime with "
                           "its zone (2026-01-01T08:00:00+08:00)");
            goto out;
        }
    }
    if (jf_res_cursor_decode(req, &e, &after) != 0) {
        jf_errors_free(&e);
        rc = bad_param(req, "cursor", "is not a cursor this server issued");
        goto out;
    }
    if (ident != NULL) {
        jf_idcard id;
        if (jf_fhir_identifier(ident, &number) != 0) {
            rc = bad_param(req, "identifier",
                           "must be " JF_FHIR_ID_SYSTEM "|<resident ID number> (the system may be "
                           "left out)");
            goto out;
        }
        jf_idcard_result r = jf_idcard_parse(number, jf_date_ymd_int(jf_date_today()), &id);
        if (r != JF_IDCARD_OK) {
            rc = bad_param(req, "identifier", jf_idcard_result_str(r));
            goto out;
        }
        /* Through the blind index: nothing is decrypted to find it. */
        jf_pii_index(&req->app->cfg, id.number, index_hex);
        jf_mask_idcard(id.number, masked, sizeof(masked));
    }
    sp[0] = jf_res_tf(c.view.phone_full);
    sp[1] = req->claims.org_path;
    sp[2] = jf_res_path_upper(req, req->claims.org_path);
    sp[3] = ident != NULL ? index_hex : NULL;
    for (int i = 0; i < nranges; i++) {
        sp[4 + 4 * i] = ranges[i].lo;
        sp[5 + 4 * i] = ranges[i].lo_step;
        sp[6 + 4 * i] = ranges[i].hi;
        sp[7 + 4 * i] = ranges[i].hi_step;
    }
    sp[12] = jf_res_id(req, after);
    sp[13] = jf_res_id(req, count + 1);
    if ((rc = jf_db_exec(c.conn, &patient_page, 14, sp, &res)) != 0)
        goto out;
    n = PQntuples(res) < count ? PQntuples(res) : count;
    docs = jf_arena_alloc(&req->arena, sizeof(*docs) * (size_t)(n + 1));
    rc =
        docs ? jf_buf_puts(&ids, "{\"via\":\"fhir\",\"type\":\"Patient\",\"ids\":[") : JF_ERR_NOMEM;
    for (int i = 0; rc == 0 && i < n; i++) {
        if ((docs[i] = patient_doc(&c, res, i)) == NULL)
            rc = JF_ERR_CRYPTO;
        rc = rc ? rc : jf_buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(res, i, P_ID));
    }
    rc = rc ? rc : jf_buf_puts(&ids, "]");
    if (rc == 0 && ident != NULL)
        rc = jf_buf_printf(&ids, ",\"id_number_masked\":\"%s\"", masked);
    rc = rc ? rc : jf_buf_puts(&ids, "}");
    if (rc != 0)
        goto out;
    jf_audit_entry a = {
        .action = "patient.list", .target_type = "patient", .detail_json = ids.data};
    if ((rc = jf_audit_defer(c.conn, req, &a)) != 0)
        goto out;
    rc =
        send_bundle(req, "Patient", res, n, P_ID, P_DOC, docs,
                    PQntuples(res) > count
                        ? jf_res_cursor_encode(req, strtoll(PQgetvalue(res, n - 1, P_ID), NULL, 10))
                        : NULL);
out:
    jf_buf_free(&ids);
    PQclear(res);
    return close_call(&c, rc);
}

/* patient=<id> or Patient/<id>: the id, or 0 when malformed. */
static long long patient_param(const char *s)
{
    char *end = NULL;
    long long v;

    if (s == NULL)
        return 0;
    if (strncmp(s, "Patient/", 8) == 0)
        s += 8;
    if (*s < '1' || *s > '9')
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' ? v : 0;
}

/* The type a route serves: the last segment of its pattern. */
static jf_fhir_type route_type(const jf_req *req)
{
    const char *name = strrchr(req->route->pattern, '/') + 1;
    int t = 0;

    while (t < JF_FHIR_NTYPES && strcmp(jf_fhir_type_name((jf_fhir_type)t), name) != 0)
        t++;
    return (jf_fhir_type)t;
}

/* GET /fhir/<type>?patient=<id>: every resource of the route's type of one
 * patient of the caller's area, as a Bundle; a type outside the caller's
 * view is 403, a patient outside the area 404. Audited as a read of the
 * patient. */
static int search_by_patient(jf_req *req)
{
    static const char *const allowed[] = {"patient", NULL};
    jf_fhir_type type = route_type(req);
    const char *name = jf_fhir_type_name(type), *pid, *p[3];
    PGresult *head = NULL, *res = NULL;
    const jf_stmt *stmt = NULL;
    char today[11];
    int np = 1, rc;
    bool ok;
    call c;

    if ((rc = open_call(req, &c)) != 0)
        goto out;
    if (!jf_fhir_type_visible(type, c.view)) {
        rc = outcome(req, 403, "forbidden", NULL,
                     jf_arena_printf(&req->arena, "your agency's view does not include %s", name));
        goto out;
    }
    if ((rc = only_params(req, allowed)) != 0)
        goto out;
    if (patient_param(jf_req_query(req, "patient")) == 0) {
        rc = bad_param(req, "patient", "is required: the id of a Patient (123 or Patient/123)");
        goto out;
    }
    pid = jf_res_id(req, patient_param(jf_req_query(req, "patient")));
    if ((rc = jf_db_exec(c.conn, &patient_head, 1, &pid, &head)) != 0)
        goto out;
    ok = PQntuples(head) == 1 &&
         jf_scope_check(&req->claims, PQgetvalue(head, 0, 0), JF_ACCESS_READ) == JF_SCOPE_OK;
    if (PQntuples(head) == 1 && (rc = audit_read(&c, pid, PQgetvalue(head, 0, 1), name, ok)) != 0)
        goto out;
    if (!ok) {
        rc = outcome(req, 404, "not-found", "patient", "no such Patient in your area");
        goto out;
    }
    p[0] = pid;
    switch (type) {
    case JF_FHIR_RELATED_PERSON:
        stmt = &related_persons;
        p[1] = jf_res_tf(c.view.phone_full);
        p[2] = jf_res_tf(c.view.guardian_detail);
        np = 3;
        break;
    case JF_FHIR_ENCOUNTER:
    case JF_FHIR_RISK_ASSESSMENT:
        stmt = type == JF_FHIR_ENCOUNTER ? &encounters : &risk_assessments;
        p[1] = jf_res_tf(c.view.clinical);
        np = 2;
        break;
    case JF_FHIR_CONDITION:
        stmt = &conditions;
        break;
    case JF_FHIR_FLAG:
        stmt = &flags;
        break;
    case JF_FHIR_MEDICATION_STATEMENT:
        stmt = &medication_statements;
        jf_date_format(jf_date_today(), today);
        p[1] = today;
        np = 2;
        break;
    default:
        rc = JF_ERR_INVALID;
        goto out;
    }
    if ((rc = jf_db_exec(c.conn, stmt, np, p, &res)) != 0)
        goto out;
    rc = send_bundle(req, name, res, PQntuples(res), 0, 1, NULL, NULL);
out:
    PQclear(head);
    PQclear(res);
    return close_call(&c, rc);
}

/* What this server offers, per FHIR open to anyone (it names no person). */
static const char capability[] =
    "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"2026-12-06\","
    "\"kind\":\"instance\",\"software\":{\"name\":\"jingfang\"},"
    "\"implementation\":{\"description\":\"jingfang read-only FHIR view for hospital and police "
    "systems\",\"url\":\"/api/v1/fhir\"},\"fhirVersion\":\"4.0.1\","
    "\"format\":[\"application/fhir+json\"],\"rest\":[{\"mode\":\"server\","
    "\"security\":{\"description\":\"Bearer access token of a service account "
    "(POST /api/v1/auth/token, client credentials) of a hospital or police system; "
    "the answers are cut to that agency's view of its region\"},\"resource\":["
    "{\"type\":\"Patient\",\"interaction\":[{\"code\":\"read\"},{\"code\":\"search-type\"}],"
    "\"searchParam\":[{\"name\":\"identifier\",\"definition\":"
    "\"http://hl7.org/fhir/SearchParameter/Patient-identifier\",\"type\":\"token\"},"
    "{\"name\":\"_lastUpdated\",\"definition\":"
    "\"http://hl7.org/fhir/SearchParameter/Resource-lastUpdated\",\"type\":\"date\"},"
    "{\"name\":\"_count\",\"type\":\"number\"}]}"
#define BY_PATIENT(type)                                                                           \
    ",{\"type\":\"" type "\",\"interaction\":[{\"code\":\"search-type\"}],"                        \
    "\"searchParam\":[{\"name\":\"patient\",\"type\":\"reference\"}]}"
    BY_PATIENT("RelatedPerson") BY_PATIENT("Encounter") BY_PATIENT("Condition")
        BY_PATIENT("RiskAssessment") BY_PATIENT("Flag") BY_PATIENT("MedicationStatement")
#undef BY_PATIENT
            "]}]}";

/* GET /fhir/metadata */
static int metadata(jf_req *req)
{
    return jf_resp_send(req, 200, FHIR_JSON, capability, sizeof(capability) - 1);
}

/* Access is checked in open_call (service accounts of the two systems). */
static const jf_route routes[] = {
    {"GET", "/api/v1/fhir/metadata", metadata, 0, 0},
    {"GET", "/api/v1/fhir/Patient", patient_search, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/Patient/{id}", patient_get, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/RelatedPerson", search_by_patient, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/Encounter", search_by_patient, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/Condition", search_by_patient, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/RiskAssessment", search_by_patient, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/Flag", search_by_patient, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/fhir/MedicationStatement", search_by_patient, JF_ROUTE_AUTH, 0},
};

int jf_res_fhir_init(void)
{
    jf_stmt *const s[] = {&caller,          &patient_head,         &patient_read, &patient_page,
                          &related_persons, &encounters,           &conditions,   &risk_assessments,
                          &flags,           &medication_statements};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
