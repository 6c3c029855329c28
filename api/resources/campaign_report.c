/* The campaign report (统计报表, seed 000 附件2) of a campaign for its period:
 * every field the records give is computed (SQL campaign_report_json and
 * campaign_report_assistance, db/definitions/statistics.sql: from the
 * rollups when they keep the period, else from the records), the
 * others (insurance, custody, 以奖代补 standards, staff, institutions,
 * funding) are entered by hand and kept with the campaign.
 * Served as JSON, as CSV and as .xlsx in the layout of 附件2: two blocks of
 * sections side by side (一～四 on the left, 五～九 on the right). */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/buf.h"
#include "../core/csv.h"
#include "../core/err.h"
#include "../core/xlsx.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The spreadsheet is small; a larger one is an error, not a realloc storm. */
#define REPORT_MAX_BYTES (1024u * 1024u)
#define REPORT_CSV_CAP (256u * 1024u)
/* Largest hand-entered figure (counts, or 万元). */
#define REPORT_MAX_VALUE 1e12

typedef struct report_field {
    const char *key;     /* JSON key; derived ones as campaign_report_json names them */
    const char *section; /* NULL: the same section as the row above */
    const char *label;
    const char *sub; /* the sub-item (其中 …), or NULL */
    bool manual;     /* entered by hand (else computed from the records) */
} report_field;

/* The left block of 附件2: sections 一 to 四. */
static const report_field left[] = {
    {"screening_staff", "一、筛查情况(政法)", "参加筛查工作人员数", NULL, true},
    {"screened_population", NULL, "筛查人口总数", NULL, true},
    {"screened_vagrant", NULL, "其中：筛查流浪人口数", NULL, true},
    {"screened_migrant", NULL, "筛查流动人口数", NULL, true},
    {"followup_staff", "二、随访情况(卫生健康)", "参加随访的工作人员数", NULL, false},
    {"followup_patients", NULL, "随访患者数", NULL, false},
    {"patients_total", "三、患者情况(卫生健康)", "患者总数(≤系统中在册患者总数)", NULL, false},
    {"risk_0", NULL, "其中：0级患者数", NULL, false},
    {"risk_1_2", NULL, "1～2级患者数", NULL, false},
    {"risk_3_5_new", NULL, "3～5级患者数", "目前新发", false},
    {"risk_3_5_prior", NULL, "3～5级患者数", "既往人数", false},
    {"hospitalised", NULL, "住院治疗人数(行动期间)", NULL, false},
    {"home_treatment", NULL, "居家治疗人数", NULL, false},
    {"long_acting", NULL, "长效针剂治疗人数", NULL, false},
    {"oral", NULL, "口服药治疗人数", NULL, false},
    {"migrant_patients", NULL, "流动人口患者数", NULL, false},
    {"vagrant_patients", NULL, "流浪乞讨人员患者数", NULL, false},
    {"incident_prone", "四、管理情况(公安)", "易肇事肇祸患者人数", NULL, false},
    {"police_key", NULL, "列入公安机关重点管控人数", NULL, false},
    {"special_team", NULL, "列入重症患者管理专班人数", NULL, true},
    {"incident_patients", NULL, "行动期间肇事肇祸人数", NULL, false},
    {"incidents", NULL, "行动期间肇事肇祸起数", NULL, false},
    {"incident_injured", NULL, "行动期间肇事肇祸伤人数", NULL, false},
    {"incident_dead", NULL, "行动期间肇事肇祸死亡人数", NULL, false},
};

/* The right block: sections 五 to 九. Enrolments, relief and 以奖代补 come
 * from the assistance records; insurance and custody are other agencies'
 * figures, entered by hand. */
static const report_field right[] = {
    {"insured_patients", "五、帮扶情况(医保、残联、民政)", "办理医保患者人数(医保)", NULL, true},
    {"medical_assistance", NULL, "纳入医疗救助患者人数(医保)", NULL, false},
    {"chronic_outpatient", NULL, "纳入门诊慢特病患者人数(医保)", NULL, false},
    {"employee_large_medical", NULL, "纳入职工大额医疗费用补助患者人数(医保)", NULL, false},
    {"critical_illness", NULL, "纳入城乡居民大病保险患者人数(医保)", NULL, false},
    {"disability_subsidy", NULL, "纳入残疾人两项补贴患者人数(民政)", NULL, false},
    {"dibao_patients", NULL, "办理低保患者人数(民政)", NULL, false},
    {"relief_amount", NULL, "救助金额(万元)(民政)", NULL, false},
    {"custody_care", NULL, "就业年龄段的持证精神残疾人托养人数(残联)", NULL, true},
    {"reward_guardians_0_2", "六、以奖代补", "奖补监护人数", "其中：0～2级", false},
    {"reward_guardians_3_5", NULL, "奖补监护人数", "3～5级", false},
    {"reward_amount_0_2", NULL, "奖补金额(万元)", "其中：0～2级", false},
    {"reward_amount_3_5", NULL, "奖补金额(万元)", "3～5级", false},
    {"reward_standard_2400", NULL, "奖补标准(元/年/人)", "2400元", true},
    {"reward_standard_above", NULL, "奖补标准(元/年/人)", ">2400元", true},
    {"city_institutions", "七、心理服务情况(卫生健康)",
     "市(州)级服务机构建成数(含精神专科、综合医院精神科、中医院神志科等)", NULL, true},
    {"city_staff", NULL, "市(州)级服务机构人数(参与上述筛查机构的医护人数)", NULL, true},
    {"county_institutions", NULL, "县(市、区)级服务机构建成数", NULL, true},
    {"county_staff", NULL, "县(市、区)级服务机构人数", NULL, true},
    {"township_institutions", NULL, "乡镇(街道)级服务机构建成数", NULL, true},
    {"township_staff", NULL, "乡镇(街道)级服务机构人数", NULL, true},
    {"village_institutions", NULL, "社区(村)级服务机构建成数", NULL, true},
    {"village_staff", NULL, "社区(村)级服务机构人数", NULL, true},
    {"rehab_institutions", "八、康复情况(民政、残联)", "开展精康试点县(市、区)康复机构数(民政)",
     NULL, true},
    {"rehab_served", NULL, "开展精康试点县(市、区)接受康复服务人数(民政)", NULL, true},
    {"disabled_employed", NULL, "安排精神残疾就业人数(残联)", NULL, true},
    {"annual_budget", "九、工作经费情况(卫生健康)", "全年计划投入工作经费数(万元)", NULL, true},
    {"campaign_budget", NULL, "专项行动期间投入工作经费数(万元)", NULL, true},
};

#define NLEFT (sizeof(left) / sizeof(left[0]))
#define NRIGHT (sizeof(right) / sizeof(right[0]))

static jf_stmt campaign_row = {
    "report_campaign",
    "SELECT c.org_path, c.org_unit_id, to_char(c.starts_on, 'YYYY-MM-DD'),"
    " to_char(c.ends_on, 'YYYY-MM-DD'), c.name, o.name, c.report_fields::text, c.version"
    " FROM campaigns c JOIN org_units o ON o.id = c.org_unit_id WHERE c.id = $1",
    0,
};
/* The computed fields, from the rollups when they keep the period as of
 * today ('cached', as of the worker's last pass), else from the records
 * ('live', as of now). */
static jf_stmt values = {
    "report_values",
    "WITH r AS (SELECT stat_rollup_counts($1, $2::date, $3::date, $4::date) AS c)"
    " SELECT (campaign_report_json(coalesce(r.c, stat_mask_counts($1, $2::date, $3::date,"
    " $4::date)), $1, $2::date, $3::date, $4::date)"
    " || campaign_report_assistance($1, $2::date, $3::date, $4::date))::text,"
    " CASE WHEN r.c IS NULL THEN 'live' ELSE 'cached' END,"
    " to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM r, LATERAL (SELECT"
    " CASE WHEN r.c IS NULL THEN now() ELSE (SELECT refreshed_at FROM stat_refresh_log) END) a(t)",
    0};
static jf_stmt fields_set = {
    "report_fields_set",
    "UPDATE campaigns SET report_fields = jsonb_strip_nulls(report_fields || $2::jsonb),"
    " version = version + 1, updated_at = now() WHERE id = $1 RETURNING version",
    0,
};

static const report_field *field_find(const char *key)
{
    for (size_t i = 0; i < NLEFT; i++)
        if (strcmp(left[i].key, key) == 0)
            return &left[i];
    for (size_t i = 0; i < NRIGHT; i++)
        if (strcmp(right[i].key, key) == 0)
            return &right[i];
    return NULL;
}

/* Everything a rendering needs, loaded once. */
typedef struct report {
    const char *campaign_name, *unit_name, *from, *to, *end;
    const char *source, *as_of, *as_of_local; /* of the computed fields */
    json_t *derived;                          /* owned */
    json_t *manual;                           /* owned */
} report;

static void report_free(report *r)
{
    json_decref(r->derived);
    json_decref(r->manual);
}

/* The value of field f (borrowed), or NULL when none was entered. */
static json_t *report_value(const report *r, const report_field *f)
{
    return json_object_get(f->manual ? r->manual : r->derived, f->key);
}

static const char *section_of(const report_field *rows, size_t i)
{
    while (rows[i].section == NULL && i > 0)
        i--;
    return rows[i].section;
}

/* ---- loading --------------------------------------------------------- */

/* Load campaign (path param 0) in the caller's area (or above it when
 * !write); 404 otherwise. */
static int load_campaign(jf_req *req, jf_db_conn *conn, bool write, PGresult **out)
{
    const char *p[] = {jf_req_param(req, 0)};
    PGresult *res = NULL;
    int rc;

    if (jf_req_param_id(req, 0) == 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    rc = jf_db_exec(conn, &campaign_row, 1, p, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0 ||
        !(jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 0)) ||
          (!write && jf_scope_contains(PQgetvalue(res, 0, 0), req->claims.org_path)))) {
        PQclear(res);
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    *out = res;
    return 0;
}

static const char *query_day(jf_req *req, jf_errors *e, const char *name, const char *dflt)
{
    const char *s = jf_req_query(req, name);
    jf_date d;

    if (s == NULL)
        return dflt;
    if (jf_date_parse(s, &d) != 0) {
        jf_errors_add(e, name, "must be a date YYYY-MM-DD");
        return NULL;
    }
    return s;
}

/* Fill r for the campaign row c and the period of the query (default: the
 * campaign's); 400 for a bad period. */
static int report_load(jf_req *req, jf_db_conn *conn, const PGresult *c, report *r)
{
    jf_errors e = {0};
    jf_date from, to, today = jf_date_today();
    char end[11], today_s[11];
    PGresult *res = NULL;
    int rc;

    memset(r, 0, sizeof(*r));
    r->from = query_day(req, &e, "from", jf_arena_strdup(&req->arena, PQgetvalue(c, 0, 2)));
    r->to = query_day(req, &e, "to", jf_arena_strdup(&req->arena, PQgetvalue(c, 0, 3)));
    if (r->from && r->to && jf_date_parse(r->from, &from) == 0 && jf_date_parse(r->to, &to) == 0 &&
        to < from)
        jf_errors_add(&e, "to", "must not be before from");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_date_format(to < today ? to : today, end);
    jf_date_format(today, today_s);
    r->end = jf_arena_strdup(&req->arena, end);
    r->campaign_name = jf_arena_strdup(&req->arena, PQgetvalue(c, 0, 4));
    r->unit_name = jf_arena_strdup(&req->arena, PQgetvalue(c, 0, 5));
    r->manual = json_loads(PQgetvalue(c, 0, 6), 0, NULL);
    const char *p[] = {PQgetvalue(c, 0, 0), r->from, r->to, today_s};
    rc = jf_db_exec(conn, &values, 4, p, &res);
    if (rc == 0) {
        r->derived = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        r->source = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1));
        r->as_of = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 2));
        r->as_of_local = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 3));
        if (r->derived == NULL || r->manual == NULL) {
            jf_resp_internal(req);
            rc = JF_ERR_INVALID;
        }
    }
    PQclear(res);
    return rc;
}

/* ---- rendering -------------------------------------------------------- */

static json_t *report_json(const report *r, const char *campaign_id)
{
    json_t *fields = json_array();

    for (int b = 0; b < 2; b++) {
        const report_field *rows = b == 0 ? left : right;
        size_t n = b == 0 ? NLEFT : NRIGHT;
        for (size_t i = 0; i < n; i++) {
            json_t *v = report_value(r, &rows[i]);
            json_array_append_new(fields,
                                  json_pack("{s:s, s:s, s:s, s:s?, s:O?, s:s}", "key", rows[i].key,
                                            "section", section_of(rows, i), "label", rows[i].label,
                                            "sub", rows[i].sub, "value", v ? v : json_null(),
                                            "source", rows[i].manual ? "manual" : "derived"));
        }
    }
    return json_pack("{s:I, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:o}", "campaign_id",
                     (json_int_t)strtoll(campaign_id, NULL, 10), "name", r->campaign_name,
                     "org_unit_name", r->unit_name, "period", "from", r->from, "to", r->to, "end",
                     r->end, "source", r->source, "as_of", r->as_of, "fields", fields);
}

/* A value as CSV/text: integers plainly, other numbers (万元) to at most 2
 * decimals without trailing zeros ("3.5", "12345.67", never "1.2e+04"). */
static void value_text(const json_t *v, char *out, size_t n)
{
    if (json_is_integer(v)) {
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    } else if (json_is_number(v)) {
        size_t len = (size_t)snprintf(out, n, "%.2f", json_number_value(v));
        while (len > 0 && len < n && out[len - 1] == '0')
            out[--len] = '\0';
        if (len > 0 && len < n && out[len - 1] == '.')
            out[--len] = '\0';
    } else {
        out[0] = '\0';
    }
}

static int report_csv(const report *r, jf_buf *b)
{
    int rc = jf_buf_puts(b, "\xEF\xBB\xBF部分,项目,分项,数值,来源\r\n");

    for (int blk = 0; blk < 2 && rc == 0; blk++) {
        const report_field *rows = blk == 0 ? left : right;
        size_t n = blk == 0 ? NLEFT : NRIGHT;
        for (size_t i = 0; i < n && rc == 0; i++) {
            char num[40];
            value_text(report_value(r, &rows[i]), num, sizeof(num));
            rc = jf_csv_text(b, section_of(rows, i), true);
            if (rc == 0)
                rc = jf_buf_puts(b, ",");
            if (rc == 0)
                rc = jf_csv_text(b, rows[i].label, true);
            if (rc == 0)
                rc = jf_buf_puts(b, ",");
            if (rc == 0)
                rc = jf_csv_text(b, rows[i].sub, true);
            if (rc == 0)
                rc = jf_buf_printf(b, ",%s,%s\r\n", num, rows[i].manual ? "手工填报" : "系统生成");
        }
    }
    return rc;
}

/* Row of the first data line in the sheet (0-based): title, unit/date, header. */
#define XLSX_FIRST_ROW 3

/* One block of rows in columns col .. col + 3: section (merged over its
 * rows), item, sub-item, value. */
static void xlsx_block(lxw_worksheet *ws, const report *r, const report_field *rows, size_t n,
                       lxw_col_t col, lxw_format *cell, lxw_format *sec)
{
    size_t start = 0;

    for (size_t i = 0; i < n; i++) {
        lxw_row_t row = (lxw_row_t)(XLSX_FIRST_ROW + i);
        const json_t *v = report_value(r, &rows[i]);
        if (rows[i].section != NULL)
            start = i;
        if (i + 1 == n || rows[i + 1].section != NULL) {
            lxw_row_t top = (lxw_row_t)(XLSX_FIRST_ROW + start);
            if (top == row)
                worksheet_write_string(ws, top, col, rows[start].section, sec);
            else
                worksheet_merge_range(ws, top, col, row, col, rows[start].section, sec);
        }
        worksheet_write_string(ws, row, col + 1, rows[i].label, cell);
        worksheet_write_string(ws, row, col + 2, rows[i].sub ? rows[i].sub : "", cell);
        if (json_is_number(v))
            worksheet_write_number(ws, row, col + 3, json_number_value(v), cell);
        else
            worksheet_write_blank(ws, row, col + 3, cell);
    }
}

static void xlsx_fill(lxw_workbook *wb, void *arg)
{
    const report *r = arg;
    lxw_worksheet *ws;
    lxw_format *title, *cell, *sec;
    char line[256];

    ws = workbook_add_worksheet(wb, "统计报表");
    title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 14);
    format_set_align(title, LXW_ALIGN_CENTER);
    cell = workbook_add_format(wb);
    format_set_border(cell, LXW_BORDER_THIN);
    format_set_text_wrap(cell);
    format_set_align(cell, LXW_ALIGN_VERTICAL_CENTER);
    sec = workbook_add_format(wb);
    format_set_border(sec, LXW_BORDER_THIN);
    format_set_bold(sec);
    format_set_text_wrap(sec);
    format_set_align(sec, LXW_ALIGN_CENTER);
    format_set_align(sec, LXW_ALIGN_VERTICAL_CENTER);
    worksheet_set_column(ws, 0, 0, 14, NULL);
    worksheet_set_column(ws, 1, 1, 30, NULL);
    worksheet_set_column(ws, 2, 3, 11, NULL);
    worksheet_set_column(ws, 4, 4, 14, NULL);
    worksheet_set_column(ws, 5, 5, 34, NULL);
    worksheet_set_column(ws, 6, 7, 11, NULL);
    snprintf(line, sizeof(line), "%s统计", r->campaign_name);
    worksheet_merge_range(ws, 0, 0, 0, 7, line, title);
    snprintf(line, sizeof(line), "报表填报单位：%s", r->unit_name);
    worksheet_merge_range(ws, 1, 0, 1, 3, line, NULL);
    snprintf(line, sizeof(line), "统计期间：%s 至 %s", r->from, r->end);
    worksheet_merge_range(ws, 1, 4, 1, 7, line, NULL);
    const char *head[] = {"部分", "项目", "分项", "数值"};
    for (lxw_col_t c = 0; c < 8; c++)
        worksheet_write_string(ws, 2, c, head[c % 4], sec);
    xlsx_block(ws, r, left, NLEFT, 0, cell, sec);
    xlsx_block(ws, r, right, NRIGHT, 4, cell, sec);
    snprintf(line, sizeof(line),
             "说明：数值为“系统生成”的项由系统按%s至%s的数据计算（数据截至%s），其余项手工填报。",
             r->from, r->end, r->as_of_local);
    worksheet_write_string(ws, (lxw_row_t)(XLSX_FIRST_ROW + (NLEFT > NRIGHT ? NLEFT : NRIGHT) + 1),
                           0, line, NULL);
}

/* ---- handlers ----------------------------------------------------------- */

/* GET /campaigns/{id}/report?format=json|csv|xlsx&from&to */
static int get_report(jf_req *req)
{
    const char *format = jf_req_query(req, "format");
    jf_db_conn *conn;
    PGresult *c = NULL;
    report r = {0};
    int rc;

    if (format == NULL)
        format = "json";
    if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0) {
        jf_errors e = {0};
        jf_errors_add(&e, "format", "must be json, csv or xlsx");
        return jf_errors_respond(req, &e);
    }
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_campaign(req, conn, false, &c)) != 0)
        return rc;
    if (strcmp(req->claims.role, "grid_worker") == 0 || strcmp(req->claims.role, "service") == 0) {
        rc = jf_resp_forbidden(req, "this role does not see statistics");
        goto out;
    }
    if ((rc = report_load(req, conn, c, &r)) != 0)
        goto out;
    /* Building a workbook and sending it may take a while: the connection
     * need not wait. */
    jf_req_db_release(req);
    if (strcmp(format, "json") == 0) {
        json_t *j = report_json(&r, jf_req_param(req, 0));
        rc = jf_resp_json(req, 200, j);
        json_decref(j);
    } else if (strcmp(format, "csv") == 0) {
        jf_buf b;
        jf_buf_init(&b, REPORT_CSV_CAP);
        rc = report_csv(&r, &b);
        if (rc == 0) {
            jf_resp_header(req, "Content-Disposition",
                           jf_arena_printf(&req->arena,
                                           "attachment; filename=\"report-%s-%s-%s.csv\"",
                                           jf_req_param(req, 0), r.from, r.end));
            rc = jf_resp_send(req, 200, "text/csv; charset=utf-8", b.data, b.len);
        } else {
            jf_resp_internal(req);
        }
        jf_buf_free(&b);
    } else {
        char *x = NULL;
        size_t n = 0;
        rc = jf_xlsx_build(xlsx_fill, &r, REPORT_MAX_BYTES, &x, &n);
        if (rc == 0) {
            jf_resp_header(req, "Content-Disposition",
                           jf_arena_printf(&req->arena,
                                           "attachment; filename=\"report-%s-%s-%s.xlsx\"",
                                           jf_req_param(req, 0), r.from, r.end));
            rc = jf_resp_send(req, 200,
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              x, n);
        } else {
            jf_resp_internal(req);
        }
        free(x);
    }
out:
    report_free(&r);
    PQclear(c);
    return rc;
}

/* PUT /campaigns/{id}/report-fields {key: number | null, …}: the fields
 * entered by hand; null clears one. Admins and officials of the area. */
static int put_fields(jf_req *req)
{
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *c = NULL, *res = NULL;
    const char *key;
    json_t *v;
    report r = {0};
    int rc;

    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    json_object_foreach(req->body, key, v)
    {
        const report_field *f = field_find(key);
        if (f == NULL)
            jf_errors_add(&e, key, "is not a field of the report");
        else if (!f->manual)
            jf_errors_add(&e, key, "is computed from the records, not entered");
        else if (!json_is_null(v) && (!json_is_number(v) || json_number_value(v) < 0 ||
                                      json_number_value(v) > REPORT_MAX_VALUE))
            jf_errors_add(&e, key, "must be a number from 0 to 1e12, or null");
    }
    if (json_object_size(req->body) == 0)
        jf_errors_add(&e, "body", "must name at least one field");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_campaign(req, conn, true, &c)) != 0)
        return rc;
    if (strcmp(req->claims.role, "admin") != 0 && strcmp(req->claims.role, "official") != 0) {
        rc = jf_resp_forbidden(req, "only admins and officials fill in the report");
        goto out;
    }
    char *body = json_dumps(req->body, JSON_COMPACT);
    const char *p[] = {jf_req_param(req, 0), body};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &fields_set, 2, p, &res)) != 0) {
        free(body);
        goto out;
    }
    jf_audit_entry a = {.action = "campaign.report_fields",
                        .target_type = "campaign",
                        .target_id = jf_req_param(req, 0),
                        .org_unit_id = strtoll(PQgetvalue(c, 0, 1), NULL, 10),
                        .detail_json = body};
    rc = jf_audit_record(conn, req, &a);
    free(body);
    if (rc != 0 || (rc = jf_db_commit(conn)) != 0)
        goto out;
    PQclear(res);
    res = NULL;
    PQclear(c);
    c = NULL;
    if ((rc = load_campaign(req, conn, true, &c)) != 0 || (rc = report_load(req, conn, c, &r)) != 0)
        goto out;
    json_t *j = report_json(&r, jf_req_param(req, 0));
    rc = jf_resp_json(req, 200, j);
    json_decref(j);
out:
    report_free(&r);
    PQclear(res);
    PQclear(c);
    return rc;
}

static const jf_route routes[] = {
    {"GET", "/api/v1/campaigns/{id}/report", get_report, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
    {"PUT", "/api/v1/campaigns/{id}/report-fields", put_fields, JF_ROUTE_AUTH, JF_CAP_ORG_READ},
};

int jf_res_campaign_report_init(void)
{
    jf_stmt *const s[] = {&campaign_row, &values, &fields_set};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
