/* Periodic information exchange (定期信息交换): the patients of an agency's
 * area with records of a month, a quarter or a date range, as NDJSON or CSV
 * (UTF-8 with a BOM, as Excel opens it), each record cut to what the
 * receiving agency may see: the police station gets the police view, civil
 * affairs theirs, the clinic and the mental-health centre the clinical one. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../core/csv.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"
#include "../record/patient_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_MAX_BYTES (64u * 1024 * 1024)

static jf_stmt agency = {
    "export_agency",
    "SELECT a.kind, o.path, a.name FROM agencies a JOIN org_units o ON o.id = a.org_unit_id"
    " WHERE a.id = $1",
    0,
};
/* The patients with a record that belongs to the period [f, t]: dated in
 * it by what it records (a visit, an assessment, an admission or a
 * discharge, an incident, a dated status event, a registration, …), or,
 * for what carries no such date (a guardian, a care-team member), written
 * in it. Never by the last update, which moves whenever anything is
 * written later: the export of a past period is the same whenever taken.
 * One EXISTS over a UNION ALL is probed per patient of the area through
 * each table's (patient_id, …) index, the commonest records first, and
 * stops at the first record found, so the cost follows the area, not the
 * size of the tables (separate EXISTS clauses are planned as hashes of
 * every table's rows of the period, the whole province's). */
static jf_stmt rows = {
    "export_rows",
    "SELECT p.id, " JF_PATIENT_DOC_SQL " FROM patients p, (SELECT $4::date AS f, $5::date AS t) b"
    " WHERE p.org_path >= $2 AND p.org_path < $3 AND p.status NOT IN ('suspected', 'ruled_out')"
    " AND (p.registered_on BETWEEN b.f AND b.t OR EXISTS ("
    "  SELECT FROM follow_ups x WHERE x.patient_id = p.id AND x.visit_date BETWEEN b.f AND b.t"
    "  UNION ALL SELECT FROM medication_pickups x WHERE x.patient_id = p.id"
    "   AND x.picked_on BETWEEN b.f AND b.t"
    "  UNION ALL SELECT FROM risk_assessments x WHERE x.patient_id = p.id"
    "   AND x.assessed_on BETWEEN b.f AND b.t"
    "  UNION ALL SELECT FROM patient_events x WHERE x.patient_id = p.id"
    "   AND x.event_date BETWEEN b.f AND b.t"
    "  UNION ALL SELECT FROM hospitalisations x WHERE x.patient_id = p.id"
    "   AND (x.admitted_on BETWEEN b.f AND b.t OR x.discharged_on BETWEEN b.f AND b.t)"
    "  UNION ALL SELECT FROM incidents x WHERE x.patient_id = p.id"
    "   AND x.occurred_on BETWEEN b.f AND b.t"
    "  UNION ALL SELECT FROM prescriptions x WHERE x.patient_id = p.id"
    "   AND (x.started_on BETWEEN b.f AND b.t OR x.ended_on BETWEEN b.f AND b.t)"
    "  UNION ALL SELECT FROM health_checks x WHERE x.patient_id = p.id"
    "   AND x.checked_on BETWEEN b.f AND b.t"
    "  UNION ALL SELECT FROM guardians x WHERE x.patient_id = p.id"
    "   AND (x.created_at >= b.f AND x.created_at < b.t + 1 OR x.ended_on BETWEEN b.f AND b.t)"
    "  UNION ALL SELECT FROM care_team_members x WHERE x.patient_id = p.id"
    "   AND (x.created_at >= b.f AND x.created_at < b.t + 1 OR x.ended_on BETWEEN b.f AND b.t)"
    "  UNION ALL SELECT FROM transfers x WHERE x.patient_id = p.id"
    "   AND (x.moved_on BETWEEN b.f AND b.t OR x.decided_on BETWEEN b.f AND b.t)"
    "  UNION ALL SELECT FROM assistance_applications x WHERE x.patient_id = p.id"
    "   AND (x.applied_on BETWEEN b.f AND b.t OR x.decided_on BETWEEN b.f AND b.t"
    "    OR x.ended_on BETWEEN b.f AND b.t)))"
    " ORDER BY p.org_path, p.id",
    0,
};

/* The view an agency of this kind receives. */
static jf_patient_view view_for_agency(const char *kind)
{
    if (strcmp(kind, "police_station") == 0 || strcmp(kind, "stability_office") == 0)
        return jf_view_for_role(JF_ROLE_POLICE);
    if (strcmp(kind, "civil_affairs") == 0 || strcmp(kind, "disabled_federation") == 0 ||
        strcmp(kind, "medical_insurance") == 0)
        return jf_view_for_role(JF_ROLE_CIVIL_AFFAIRS);
    if (strcmp(kind, "clinic") == 0 || strcmp(kind, "mental_health_centre") == 0 ||
        strcmp(kind, "health_office") == 0)
        return jf_view_for_role(JF_ROLE_DOCTOR);
    return jf_view_for_role(JF_ROLE_GRID_WORKER); /* identity, risk, masked ID */
}

/* "2026-10" or "2026-Q3" → [from, to]; 0 or -1. Exactly those shapes. */
static int period_range(const char *s, jf_date *from, jf_date *to)
{
    int y, m;

    if (strlen(s) != 7 || strspn(s, "0123456789") != 4 || s[4] != '-')
        return -1;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (s[5] == 'Q' && s[6] >= '1' && s[6] <= '4' && jf_date_valid(y, 1, 1)) {
        *from = jf_date_from_ymd(y, 3 * (s[6] - '0') - 2, 1);
        *to = jf_date_add_months(*from, 3) - 1;
        return 0;
    }
    if (strspn(s + 5, "0123456789") != 2)
        return -1;
    m = (s[5] - '0') * 10 + (s[6] - '0');
    if (!jf_date_valid(y, m, 1))
        return -1;
    *from = jf_date_from_ymd(y, m, 1);
    *to = jf_date_add_months(*from, 1) - 1;
    return 0;
}

/* One CSV cell (text through jf_csv_text: quoted, formulas defused). */
static int csv_cell(jf_buf *b, const json_t *v, bool last)
{
    int rc;

    if (json_is_integer(v))
        rc = jf_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        rc = jf_buf_puts(b, json_is_true(v) ? "true" : "false");
    else
        rc = jf_csv_text(b, json_string_value(v), false);
    return rc ? rc : jf_buf_puts(b, last ? "\r\n" : ",");
}

static const char *const csv_columns[] = {"id",
                                          "name",
                                          "gender",
                                          "birth_date",
                                          "id_number",
                                          "id_number_masked",
                                          "phone",
                                          "address",
                                          "org_unit_name",
                                          "status",
                                          "risk_level",
                                          "colour",
                                          "diagnosis",
                                          "economic_status",
                                          "guardian_name",
                                          "guardian_phone",
                                          NULL};

static int csv_row(jf_buf *b, const char *doc)
{
    json_t *j = json_loads(doc, 0, NULL), *g;
    int rc = 0;

    if (j == NULL)
        return JF_ERR_INVALID;
    g = json_array_get(json_object_get(j, "guardians"), 0);
    for (int i = 0; rc == 0 && csv_columns[i]; i++) {
        const json_t *v = strncmp(csv_columns[i], "guardian_", 9) == 0
                              ? json_object_get(g, csv_columns[i] + 9)
                              : json_object_get(j, csv_columns[i]);
        rc = csv_cell(b, v, csv_columns[i + 1] == NULL);
    }
    json_decref(j);
    return rc;
}

static int export_patients(jf_req *req)
{
    jf_errors e = {0};
    long long agency_id = jf_query_id(req, &e, "agency_id");
    const char *format = jf_req_query(req, "format"), *period = jf_req_query(req, "period");
    const char *from_s = jf_req_query(req, "from"), *to_s = jf_req_query(req, "to");
    char from_txt[11], to_txt[11];
    jf_date from = JF_DATE_NONE, to = JF_DATE_NONE;
    jf_patient_view v;
    jf_db_conn *conn;
    PGresult *ag = NULL, *res = NULL;
    bool csv;
    jf_buf out;
    int rc, n = 0;

    if (agency_id == 0)
        jf_errors_add(&e, "agency_id", "is required: the receiving agency");
    if (format == NULL)
        format = "ndjson";
    csv = strcmp(format, "csv") == 0;
    if (!csv && strcmp(format, "ndjson") != 0)
        jf_errors_add(&e, "format", "must be ndjson or csv");
    if (period != NULL) {
        if (period_range(period, &from, &to) != 0)
            jf_errors_add(&e, "period", "must be a month YYYY-MM or a quarter YYYY-Qn");
    } else if (from_s == NULL && to_s == NULL) {
        jf_errors_add(&e, "period", "give period, or from and to");
    } else {
        if (from_s == NULL || jf_date_parse(from_s, &from) != 0)
            jf_errors_add(&e, "from", "must be a date YYYY-MM-DD");
        if (to_s == NULL || jf_date_parse(to_s, &to) != 0)
            jf_errors_add(&e, "to", "must be a date YYYY-MM-DD");
        else if (from != JF_DATE_NONE && (to < from || to - from > 366))
            jf_errors_add(&e, "to", "must be on or after from, at most a year later");
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    /* Exports are handed over by officials and admins, or fetched by the
     * agency's own system; a doctor or a police officer does not export
     * another agency's view. */
    {
        jf_role r = jf_role_parse(req->claims.role);
        if (r != JF_ROLE_OFFICIAL && r != JF_ROLE_ADMIN && r != JF_ROLE_SERVICE)
            return jf_resp_forbidden(req, "exports are for officials, admins and agency systems");
    }
    jf_date_format(from, from_txt);
    jf_date_format(to, to_txt);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    jf_buf_init(&out, EXPORT_MAX_BYTES);
    const char *ap[] = {jf_res_id(req, agency_id)};
    rc = jf_db_exec(conn, &agency, 1, ap, &ag);
    if (rc != 0)
        goto out;
    /* Officials and admins export for agencies in their area; a service
     * account only for its own agency. */
    if (PQntuples(ag) == 0 ||
        (jf_role_parse(req->claims.role) == JF_ROLE_SERVICE
             ? req->claims.agency_id != agency_id
             : !jf_scope_contains(req->claims.org_path, PQgetvalue(ag, 0, 1)))) {
        jf_errors_add(&e, "agency_id", "no such agency in your area");
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    v = view_for_agency(PQgetvalue(ag, 0, 0));
    const char *p[] = {jf_res_tf(v.phone_full), PQgetvalue(ag, 0, 1),
                       jf_res_path_upper(req, PQgetvalue(ag, 0, 1)), from_txt, to_txt};
    rc = jf_db_exec(conn, &rows, 5, p, &res);
    if (rc != 0)
        goto out;
    n = PQntuples(res);
    if (csv) {
        rc = jf_buf_puts(&out, "\xEF\xBB\xBF"); /* BOM: Excel reads UTF-8 */
        for (int i = 0; rc == 0 && csv_columns[i]; i++)
            rc = jf_buf_printf(&out, "%s%s", csv_columns[i], csv_columns[i + 1] ? "," : "\r\n");
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        jf_buf doc;
        jf_buf_init(&doc, 1u << 20);
        rc = jf_patient_doc_append(req, &doc, res, i, 1, v);
        if (rc == 0)
            rc = csv ? csv_row(&out, doc.data)
                     : (jf_buf_append(&out, doc.data, doc.len) || jf_buf_puts(&out, "\n"));
        jf_buf_free(&doc);
    }
    if (rc == JF_ERR_TOO_LARGE) {
        rc = jf_resp_problem(req, 413, "payload-too-large", "Export too large",
                             "narrow the period or the agency's area", "period", "too large");
        goto out;
    }
    if (rc == 0) {
        jf_audit_entry a = {.action = "export.patients",
                            .target_type = "agency",
                            .target_id = jf_res_id(req, agency_id),
                            .detail_json = jf_arena_printf(&req->arena,
                                                           "{\"from\":\"%s\",\"to\":\"%s\","
                                                           "\"format\":\"%s\",\"records\":%d}",
                                                           from_txt, to_txt, format, n)};
        rc = jf_audit_record(conn, req, &a);
    }
    if (rc != 0)
        goto out;
    jf_resp_header(req, "Content-Disposition",
                   jf_arena_printf(&req->arena, "attachment; filename=\"patients-%lld-%s-%s.%s\"",
                                   agency_id, from_txt, to_txt, format));
    rc = jf_resp_send(req, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                      out.data ? out.data : "", out.len);
out:
    jf_buf_free(&out);
    PQclear(ag);
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/exports/patients", export_patients, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_PATIENT_READ},
};

int jf_res_exports_init(void)
{
    jf_stmt *const s[] = {&agency, &rows};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
