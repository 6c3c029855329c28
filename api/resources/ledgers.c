/* Ledgers (台账, seed 001: 逐人建立工作台账): the lost, those not taking
 * medication, those with a weak or no guardian, migrants and key patients
 * of an area, each entry with its work notes, as JSON pages, CSV or .xlsx,
 * cut to the caller's role (domain/ledger.c: which ledgers a role reads;
 * no ledger carries a diagnosis). */
#include "common.h"
#include "idempotency.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/csv.h"
#include "../core/err.h"
#include "../core/xlsx.h"
#include "../domain/ledger.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdlib.h>
#include <string.h>

/* A whole ledger as a file: more rows than this is narrowed by area (its
 * cells live in the request's arena, 16 MB). */
#define LEDGER_FILE_ROWS 5000
#define LEDGER_FILE_BYTES (64u * 1024u * 1024u)

#define NOTE_JSON                                                                                  \
    "json_build_object('id', n.id, 'noted_on', n.noted_on, 'text', n.text, 'user_id', n.user_id,"  \
    " 'user_name', u.display_name, 'agency_name', g.name)"

/* $1..$2 the area's path range, $3 the ledger, $4 after id, $5 limit,
 * $6 whole phone numbers. Each entry: the patient, the ledger's detail
 * (flat, for the files), its work notes newest first. */
static jf_stmt ledger_rows = {
    "ledger_rows",
    "SELECT p.id, json_build_object('patient_id', p.id, 'name', p.name, 'status', p.status,"
    " 'org_unit_id', p.org_unit_id, 'org_unit_name', o.name, 'phone', CASE WHEN $6::bool"
    " THEN p.phone ELSE p.phone_masked END, 'detail', CASE $3"
    "  WHEN 'lost' THEN (SELECT json_build_object('search_task_id', t.id, 'search_state',"
    "   t.state, 'lost_on', t.opened_on, 'lost_reason', t.opened_reason, 'police_agency',"
    "   (SELECT name FROM agencies WHERE id = t.police_agency_id), 'stability_agency',"
    "   (SELECT name FROM agencies WHERE id = t.stability_agency_id), 'search_notes',"
    "   coalesce((SELECT json_agg(" NOTE_JSON " ORDER BY n.noted_on DESC, n.id DESC)"
    "    FROM search_task_notes n JOIN users u ON u.id = n.user_id"
    "    LEFT JOIN agencies g ON g.id = n.agency_id WHERE n.task_id = t.id), '[]'))"
    "   FROM search_tasks t WHERE t.patient_id = p.id ORDER BY t.id DESC LIMIT 1)"
    "  WHEN 'non_adherent' THEN json_build_object('compliance', c.compliance, 'compliance_on',"
    "   c.visit_date, 'reason', r.reason, 'reason_since', r.since, 'reason_note', r.note,"
    "   'deliveries', (SELECT count(*) FROM medication_deliveries d WHERE d.patient_id = p.id),"
    "   'last_delivered_on', (SELECT max(delivered_on) FROM medication_deliveries d"
    "    WHERE d.patient_id = p.id))"
    "  WHEN 'guardianship' THEN json_build_object('guardian_capacity', coalesce((SELECT"
    "   CASE WHEN bool_or(g.capacity = 'weak') THEN 'weak' ELSE 'none' END FROM guardians g"
    "   WHERE g.patient_id = p.id AND g.active), 'none'), 'guardians', (SELECT string_agg("
    "   g.name || '（' || g.kind || '，' || g.capacity || '）', '、' ORDER BY g.id)"
    "   FROM guardians g WHERE g.patient_id = p.id AND g.active), 'social_guardian',"
    "   EXISTS (SELECT FROM guardians g WHERE g.patient_id = p.id AND g.active"
    "   AND g.kind = 'social'))"
    "  WHEN 'migrant' THEN json_build_object('migrant', p.migrant, 'hukou_elsewhere',"
    "   coalesce(p.hukou_area_code <> left(o.code, 9), false), 'hukou_address',"
    "   p.hukou_address, 'away_to', a.destination, 'away_since', a.left_on,"
    "   'expected_return', a.expected_return)"
    "  WHEN 'key' THEN json_build_object('key_flags', p.key_flags, 'risk_level', p.risk_level,"
    "   'colour', p.colour) END,"
    " 'notes', coalesce((SELECT json_agg(" NOTE_JSON " ORDER BY n.noted_on DESC, n.id DESC)"
    "  FROM ledger_notes n JOIN users u ON u.id = n.user_id LEFT JOIN agencies g"
    "  ON g.id = n.agency_id WHERE n.patient_id = p.id AND n.kind = $3), '[]'))::text"
    " FROM patients p JOIN org_units o ON o.id = p.org_unit_id"
    " LEFT JOIN LATERAL (SELECT f.compliance, f.visit_date FROM follow_ups f"
    "  WHERE $3 = 'non_adherent' AND f.patient_id = p.id AND f.compliance IS NOT NULL"
    "  ORDER BY f.visit_date DESC, f.id DESC LIMIT 1) c ON true"
    " LEFT JOIN LATERAL (SELECT x.reason, x.since, x.note FROM non_adherence_reasons x"
    "  WHERE $3 = 'non_adherent' AND x.patient_id = p.id ORDER BY x.id DESC LIMIT 1) r ON true"
    " LEFT JOIN LATERAL (SELECT x.destination, x.left_on, x.expected_return FROM absences x"
    "  WHERE $3 = 'migrant' AND x.patient_id = p.id AND x.returned_on IS NULL"
    "  ORDER BY x.left_on DESC, x.id DESC LIMIT 1) a ON true"
    " WHERE p.org_path >= $1 AND p.org_path < $2 AND p.id > $4::bigint"
    " AND p.status IN ('registered', 'in_care', 'hospitalised', 'lost') AND CASE $3"
    "  WHEN 'lost' THEN p.status = 'lost'"
    "  WHEN 'non_adherent' THEN c.compliance IN ('intermittent', 'none')"
    "  WHEN 'guardianship' THEN NOT EXISTS (SELECT FROM guardians g WHERE g.patient_id = p.id"
    "   AND g.active AND g.capacity = 'adequate')"
    "  WHEN 'migrant' THEN p.migrant OR p.hukou_area_code <> left(o.code, 9)"
    "   OR a.left_on IS NOT NULL"
    "  WHEN 'key' THEN jsonb_array_length(p.key_flags) > 0 END"
    " ORDER BY p.id LIMIT $5",
    0,
};
static jf_stmt note_insert = {
    "ledger_note_insert",
    "WITH n AS (INSERT INTO ledger_notes (kind, patient_id, noted_on, text, user_id, agency_id)"
    " VALUES ($1, $2, $3::date, $4, $5, $6) RETURNING *)"
    " SELECT n.id, " NOTE_JSON "::text FROM n JOIN users u ON u.id = n.user_id"
    " LEFT JOIN agencies g ON g.id = n.agency_id",
    0,
};
/* A column of the files: its header and the member of the entry (name)
 * or of its detail (detail set). */
typedef struct column {
    const char *head, *key;
    bool detail;
} column;

static const column common[] = {
    {"患者编号", "patient_id", false},    {"姓名", "name", false},      {"状态", "status", false},
    {"所属单位", "org_unit_name", false}, {"联系电话", "phone", false},
};
static const column lost_cols[] = {
    {"失访日期", "lost_on", true},        {"失访原因", "lost_reason", true},
    {"查找状态", "search_state", true},   {"派出所", "police_agency", true},
    {"平安办", "stability_agency", true}, {"查找记录", "search_notes", true},
};
static const column non_adherent_cols[] = {
    {"服药情况", "compliance", true},
    {"随访日期", "compliance_on", true},
    {"不服药原因", "reason", true},
    {"起始日期", "reason_since", true},
    {"原因说明", "reason_note", true},
    {"送药上门次数", "deliveries", true},
    {"最近送药上门", "last_delivered_on", true},
};
static const column guardianship_cols[] = {
    {"监护情况", "guardian_capacity", true},
    {"监护人", "guardians", true},
    {"社会监护", "social_guardian", true},
};
static const column migrant_cols[] = {
    {"流动人口", "migrant", true},       {"户籍在外", "hukou_elsewhere", true},
    {"户籍地址", "hukou_address", true}, {"外出去向", "away_to", true},
    {"外出日期", "away_since", true},    {"预计返回", "expected_return", true},
};
static const column key_cols[] = {
    {"重点类别", "key_flags", true},
    {"危险性等级", "risk_level", true},
    {"分色", "colour", true},
};

static const struct {
    const char *title;
    const column *cols;
    size_t n;
} sheets[JF_LEDGER_COUNT] = {
    [JF_LEDGER_LOST] = {"失访患者台账", lost_cols, sizeof(lost_cols) / sizeof(lost_cols[0])},
    [JF_LEDGER_NON_ADHERENT] = {"不服药患者台账", non_adherent_cols,
                                sizeof(non_adherent_cols) / sizeof(non_adherent_cols[0])},
    [JF_LEDGER_GUARDIANSHIP] = {"弱监护无监护患者台账", guardianship_cols,
                                sizeof(guardianship_cols) / sizeof(guardianship_cols[0])},
    [JF_LEDGER_MIGRANT] = {"流动患者台账", migrant_cols,
                           sizeof(migrant_cols) / sizeof(migrant_cols[0])},
    [JF_LEDGER_KEY] = {"重点患者台账", key_cols, sizeof(key_cols) / sizeof(key_cols[0])},
};

#define NCOMMON (sizeof(common) / sizeof(common[0]))

/* A value as one cell's text (arena): strings as they are, numbers and
 * booleans spelt, arrays of notes as "date text；…", other arrays joined.
 * *failed is set when the arena is exhausted. */
static const char *cell(jf_req *req, const json_t *v, bool *failed)
{
    jf_buf b;
    const char *out;
    size_t i;
    json_t *it;

    if (v == NULL || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        out = jf_res_id(req, json_integer_value(v));
        *failed |= out == NULL;
        return out;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "是" : "否";
    if (!json_is_array(v))
        return NULL;
    jf_buf_init(&b, 1u << 20);
    json_array_foreach(v, i, it)
    {
        if (i > 0)
            jf_buf_puts(&b, "；");
        if (json_is_object(it))
            jf_buf_printf(&b, "%s %s（%s）", json_string_value(json_object_get(it, "noted_on")),
                          json_string_value(json_object_get(it, "text")),
                          json_string_value(json_object_get(it, "user_name")));
        else if (json_is_string(it))
            jf_buf_puts(&b, json_string_value(it));
    }
    out = b.data ? jf_arena_strdup(&req->arena, b.data) : NULL;
    *failed |= b.data != NULL && out == NULL;
    jf_buf_free(&b);
    return out;
}

/* The rows of res (column 1 the entry) as a table of cells (arena). */
static const char **table(jf_req *req, const PGresult *res, jf_ledger l, json_t **docs,
                          size_t *ncols)
{
    size_t n = NCOMMON + sheets[l].n + 1, rows = (size_t)PQntuples(res);
    const char **cells = jf_arena_alloc(&req->arena, (rows + 1) * n * sizeof(*cells));
    bool failed = false;

    *ncols = n;
    if (cells == NULL)
        return NULL;
    for (size_t c = 0; c < n; c++)
        cells[c] = c < NCOMMON                 ? common[c].head
                   : c < NCOMMON + sheets[l].n ? sheets[l].cols[c - NCOMMON].head
                                               : "工作记录";
    for (size_t r = 0; r < rows; r++) {
        json_t *e = json_loads(PQgetvalue(res, (int)r, 1), 0, NULL);
        json_t *d = json_object_get(e, "detail");
        const char **row = cells + (r + 1) * n;
        docs[r] = e;
        for (size_t c = 0; c < NCOMMON; c++)
            row[c] = cell(req, json_object_get(e, common[c].key), &failed);
        for (size_t c = 0; c < sheets[l].n; c++)
            row[NCOMMON + c] = cell(req, json_object_get(d, sheets[l].cols[c].key), &failed);
        row[n - 1] = cell(req, json_object_get(e, "notes"), &failed);
    }
    return failed ? NULL : cells;
}

/* The whole ledger as CSV (UTF-8 with a BOM, as Excel opens it) or .xlsx. */
static int send_file(jf_req *req, const PGresult *res, jf_ledger l, bool csv)
{
    size_t rows = (size_t)PQntuples(res), n = 0;
    json_t **docs = calloc(rows ? rows : 1, sizeof(*docs));
    const char **cells = docs ? table(req, res, l, docs, &n) : NULL;
    const char *name = jf_ledger_names[l - 1];
    char *x = NULL;
    size_t len = 0;
    int rc = cells ? 0 : JF_ERR_NOMEM;
    jf_buf b;

    jf_buf_init(&b, LEDGER_FILE_BYTES);
    if (rc == 0 && csv) {
        rc = jf_buf_puts(&b, "\xEF\xBB\xBF");
        for (size_t r = 0; rc == 0 && r <= rows; r++) {
            for (size_t c = 0; rc == 0 && c < n; c++)
                rc = (c ? jf_buf_puts(&b, ",") : 0) || jf_csv_text(&b, cells[r * n + c], false);
            rc = rc ? rc : jf_buf_puts(&b, "\r\n");
        }
    } else if (rc == 0) {
        rc = jf_xlsx_table(name, sheets[l].title, n, cells, rows, cells + n, LEDGER_FILE_BYTES, &x,
                           &len);
    }
    if (rc == 0) {
        jf_resp_header(req, "Content-Disposition",
                       jf_arena_printf(&req->arena, "attachment; filename=\"ledger-%s.%s\"", name,
                                       csv ? "csv" : "xlsx"));
        rc = csv ? jf_resp_send(req, 200, "text/csv; charset=utf-8", b.data, b.len)
                 : jf_resp_send(req, 200,
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                x, len);
    } else {
        jf_resp_internal(req);
    }
    for (size_t r = 0; docs && r < rows; r++)
        json_decref(docs[r]);
    free(docs);
    free(x);
    jf_buf_free(&b);
    return rc;
}

/* json, csv or xlsx: ?format= first, else the Accept header; NULL when the
 * format named is none of them (an error was added). */
static const char *format_of(jf_req *req, jf_errors *e)
{
    static const char *const formats[] = {"json", "csv", "xlsx", NULL};
    const char *f = jf_req_query(req, "format"), *accept = jf_req_header(req, "Accept");

    if (f != NULL) {
        if (jf_in_set(f, formats))
            return f;
        jf_errors_add(e, "format", "must be json, csv or xlsx");
        return NULL;
    }
    if (accept != NULL && strstr(accept, "text/csv") != NULL)
        return "csv";
    if (accept != NULL && strstr(accept, "spreadsheetml") != NULL)
        return "xlsx";
    return "json";
}

/* GET /ledgers/{kind}?org_unit_id&format&limit&cursor */
static int get_ledger(jf_req *req)
{
    jf_ledger l = jf_ledger_parse(jf_req_param(req, 0));
    jf_patient_view v = jf_record_view(req);
    jf_errors e = {0};
    long long unit, after = 0;
    const char *path = NULL, *format;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;
    bool json;

    /* Refused before any error is collected: e owns nothing yet. */
    if (l == JF_LEDGER_NONE)
        return jf_resp_not_found(req);
    if (!jf_ledger_may_read(jf_role_parse(req->claims.role), l))
        return jf_resp_forbidden(req, "your role does not keep this ledger");
    unit = jf_query_id(req, &e, "org_unit_id");
    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    format = format_of(req, &e);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    json = strcmp(format, "json") == 0;
    if (unit <= 0)
        unit = req->claims.org_unit_id;
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (path == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {path,
                       jf_res_path_upper(req, path),
                       jf_ledger_names[l - 1],
                       jf_res_id(req, json ? after : 0),
                       jf_res_id(req, json ? limit + 1 : LEDGER_FILE_ROWS + 1),
                       jf_res_tf(v.phone_full)};
    rc = jf_db_exec(conn, &ledger_rows, 6, p, &res);
    if (rc == 0) {
        jf_audit_entry a = {.action = "ledger.read",
                            .target_type = "org_unit",
                            .target_id = jf_res_id(req, unit),
                            .org_unit_id = unit,
                            .detail_json = jf_arena_printf(&req->arena,
                                                           "{\"ledger\":\"%s\",\"format\":\"%s\"}",
                                                           jf_ledger_names[l - 1], format)};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc != 0)
        goto out;
    /* A page or a whole file may go slowly to the client: the connection
     * need not wait. */
    jf_req_db_release(req);
    if (json)
        rc = jf_res_send_id_page(req, res, limit, 1);
    else if (PQntuples(res) > LEDGER_FILE_ROWS)
        rc = jf_resp_problem(req, 400, "validation", "Too many rows",
                             "the ledger has more rows than one file holds: narrow the area",
                             "org_unit_id", "narrow the area to a village or a grid");
    else
        rc = send_file(req, res, l, strcmp(format, "csv") == 0);
out:
    PQclear(res);
    return rc;
}

/* POST /patients/{id}/ledger-notes {ledger, noted_on, text}: a work note on
 * the patient's entry in a ledger (who went, what was done). */
static int add_note(jf_req *req)
{
    static const char *const allowed[] = {"ledger", "noted_on", "text", NULL};
    jf_errors e = {0};
    jf_patient_row row;
    jf_idem idem;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    const char *kind = jf_body_code(req, &e, "ledger", true, jf_ledger_names);
    const char *on = jf_body_date(req, &e, "noted_on", true);
    const char *text = jf_body_str(req, &e, "text", true, 1, 1000);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (!jf_ledger_may_note(jf_role_parse(req->claims.role), jf_ledger_parse(kind)))
        return jf_resp_forbidden(req, "your role does not keep this ledger");
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_load(req, conn, JF_ACCESS_READ, &row)) != 0)
        return rc;
    if (!jf_scope_contains(req->claims.org_path, row.org_path))
        return jf_resp_not_found(req);
    if ((rc = jf_idem_begin(req, conn, &idem)) != JF_IDEM_NEW)
        return rc;
    const char *p[] = {kind,
                       row.id,
                       on,
                       text,
                       jf_res_id(req, req->claims.user_id),
                       req->claims.agency_id > 0 ? jf_res_id(req, req->claims.agency_id) : NULL};
    rc = jf_db_exec(conn, &note_insert, 6, p, &res);
    if (rc == 0) {
        rc = jf_record_audit(req, conn, &row, "ledger.note",
                             jf_arena_printf(&req->arena, "{\"ledger\":\"%s\",\"note_id\":%s}",
                                             kind, PQgetvalue(res, 0, 0)));
    }
    if (rc == 0)
        rc = jf_idem_commit(req, conn, &idem, 201, PQgetvalue(res, 0, 1),
                            (size_t)PQgetlength(res, 0, 1));
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    /* The handlers narrow the roles per ledger (domain/ledger.c). */
    {"GET", "/api/v1/ledgers/{kind}", get_ledger, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_PATIENT_READ},
    {"POST", "/api/v1/patients/{id}/ledger-notes", add_note, JF_ROUTE_AUTH, JF_CAP_PATIENT_READ},
};

int jf_res_ledgers_init(void)
{
    jf_stmt *const s[] = {&ledger_rows, &note_insert};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
