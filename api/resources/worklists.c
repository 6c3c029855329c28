/* Worklists for the morning: who is due, who is overdue, who is lost, whose
 * annual health check is due, who has not been seen in person (面访) for a
 * quarter (seed 001: no long-term phone visits instead of home visits), whose referral
 * (转诊) is open past its last day — in the caller's area,
 * narrowed to a village, grid or doctor, most urgent first (red before orange …, then the oldest
 * due date), paginated by keyset; and the doctors responsible for the area's patients, to
 * narrow them by. */
#include "common.h"
#include "resources.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $1 scope low, $2 scope high, $3 today, $4 kind, $5 doctor, $6..$8 cursor
 * (rank, date, id), $9 limit, $10 risk visible, $11 phone visible. */
static jf_stmt worklist = {
    "worklist",
    "WITH w AS (SELECT p.*, array_position(ARRAY['green','yellow','orange','red'], p.colour)"
    "  AS rank, CASE $4 WHEN 'health_check' THEN p.health_check_due"
    "   WHEN 'face_to_face' THEN coalesce(p.last_face_to_face_on, p.registered_on) + 92"
    "   WHEN 'referral' THEN (SELECT min(r.due_on) FROM referrals r WHERE r.patient_id = p.id"
    "    AND r.status IN ('open', 'accepted'))"
    "   ELSE p.next_due END AS due"
    "  FROM patients p WHERE p.org_path >= $1 AND p.org_path < $2"
    "  AND ($5::bigint IS NULL OR p.doctor_id = $5)"
    "  AND CASE $4 WHEN 'due' THEN p.next_due >= $3::date AND p.next_due <= $3::date + $12::int"
    "   WHEN 'overdue' THEN p.next_due < $3::date"
    "   WHEN 'lost' THEN p.status = 'lost'"
    "   WHEN 'health_check' THEN p.health_check_due <= $3::date + $12::int"
    "   WHEN 'face_to_face' THEN p.status IN ('registered', 'in_care')"
    "    AND coalesce(p.last_face_to_face_on, p.registered_on) + 92 < $3::date"
    "   WHEN 'referral' THEN EXISTS (SELECT FROM referrals r WHERE r.patient_id = p.id"
    "    AND r.status IN ('open', 'accepted') AND r.due_on < $3::date) END)"
    " SELECT w.id, coalesce(w.rank, 0), coalesce(w.due, '1900-01-01'), json_build_object("
    "  'patient_id', w.id, 'name', w.name, 'status', w.status, 'org_unit_id', w.org_unit_id,"
    "  'org_unit_name', (SELECT name FROM org_units WHERE id = w.org_unit_id),"
    "  'colour', CASE WHEN $10 THEN w.colour END, 'risk_level', CASE WHEN $10 THEN w.risk_level"
    "  END, 'phone', CASE WHEN $11 THEN w.phone ELSE w.phone_masked END,"
    "  'doctor_id', w.doctor_id, 'due', w.due, 'joint', w.next_due_joint, 'due_rule', w.due_rule,"
    "  'days_overdue', greatest($3::date - w.due, 0), 'last_reached_on', w.last_reached_on,"
    "  'misses', w.misses, 'last_face_to_face_on', w.last_face_to_face_on)::text FROM w"
    " WHERE (coalesce(w.rank, 0) < $6::int OR (coalesce(w.rank, 0) = $6::int"
    "   AND (coalesce(w.due, '1900-01-01'), w.id) > ($7::date, $8::bigint)))"
    " ORDER BY coalesce(w.rank, 0) DESC, coalesce(w.due, '1900-01-01'), w.id LIMIT $9",
    0,
};

/* The responsible doctors (责任医生) of the patients on the register in
 * the subtree [$1, $2), with how many each has, by name. */
static jf_stmt doctors_stmt = {
    "worklist_doctors",
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', u.id,"
    " 'name', u.display_name, 'patients', d.n) ORDER BY u.display_name, u.id), '[]'))::text"
    " FROM (SELECT p.doctor_id, count(*) AS n FROM patients p"
    "  WHERE p.org_path >= $1 AND p.org_path < $2 AND p.doctor_id IS NOT NULL"
    "  AND on_register(p.status)"
    "  GROUP BY p.doctor_id) d JOIN users u ON u.id = d.doctor_id",
    0,
};

/* The cursor: "w1:<rank>|<date>|<id>". */
static const char *encode_cursor(jf_req *req, const char *rank, const char *date, const char *id)
{
    char plain[96], *out = jf_arena_alloc(&req->arena, 160);
    int n = snprintf(plain, sizeof(plain), "w1:%s|%s|%s", rank, date, id);

    if (out == NULL || n <= 0 || (size_t)n >= sizeof(plain) ||
        jf_crypto_b64url_encode((unsigned char *)plain, (size_t)n, out, 160) < 0)
        return NULL;
    return out;
}

static int decode_cursor(jf_req *req, jf_errors *e, const char **rank, const char **date,
                         const char **id)
{
    const char *s = jf_req_query(req, "cursor");
    unsigned char plain[96];
    int r, n;
    long long i;
    char d[11], tail;
    jf_date dd;

    *rank = "99";
    *date = "1900-01-01";
    *id = "0";
    if (s == NULL)
        return 0;
    n = jf_crypto_b64url_decode(s, strlen(s), plain, sizeof(plain) - 1);
    if (n > 3) {
        plain[n] = '\0';
        if (sscanf((char *)plain, "w1:%d|%10[0-9-]|%lld%c", &r, d, &i, &tail) == 3 && r >= 0 &&
            r <= 4 && i >= 0 && jf_date_parse(d, &dd) == 0) {
            *rank = jf_arena_printf(&req->arena, "%d", r);
            *date = jf_arena_strdup(&req->arena, d);
            *id = jf_arena_printf(&req->arena, "%lld", i);
            return 0;
        }
    }
    jf_errors_add(e, "cursor", "is not a cursor this server issued");
    return -1;
}

static int run(jf_req *req, const char *kind)
{
    jf_patient_view v = jf_record_view(req);
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id");
    long long doctor = jf_query_id(req, &e, "doctor_id");
    const char *within_s = jf_req_query(req, "within_days");
    const char *rank, *cdate, *cid, *scope;
    char today[11];
    long within = 14;
    int limit, rc;
    jf_db_conn *conn;
    PGresult *res = NULL;
    jf_buf out;

    jf_query_limit(req, &e, &limit);
    decode_cursor(req, &e, &rank, &cdate, &cid);
    if (within_s != NULL) {
        char *end = NULL;
        within = strtol(within_s, &end, 10);
        if (end == within_s || *end != '\0' || within < 0 || within > 366)
            jf_errors_add(&e, "within_days", "must be a whole number from 0 to 366");
    }
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_date_format(jf_date_today(), today);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {scope,
                       jf_res_path_upper(req, scope),
                       today,
                       kind,
                       doctor > 0 ? jf_res_id(req, doctor) : NULL,
                       rank,
                       cdate,
                       cid,
                       jf_res_id(req, limit + 1),
                       jf_res_tf(v.risk),
                       jf_res_tf(v.phone_full),
                       jf_res_id(req, within)};
    rc = jf_db_exec(conn, &worklist, 12, p, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    /* The page may go slowly to a phone: the connection need not wait. */
    jf_req_db_release(req);
    jf_buf_init(&out, 16u << 20);
    rc = jf_buf_printf(&out, "{\"as_of\":\"%s\",\"items\":[", today);
    for (int i = 0; rc == 0 && i < PQntuples(res) && i < limit; i++)
        rc = (i ? jf_buf_puts(&out, ",") : 0) || jf_buf_puts(&out, PQgetvalue(res, i, 3));
    rc = rc ? rc : jf_buf_puts(&out, "],\"next_cursor\":");
    if (rc == 0) {
        const char *next = NULL;
        if (PQntuples(res) > limit)
            next = encode_cursor(req, PQgetvalue(res, limit - 1, 1), PQgetvalue(res, limit - 1, 2),
                                 PQgetvalue(res, limit - 1, 0));
        rc = jf_buf_json_str(&out, next);
    }
    rc = rc ? rc : jf_buf_puts(&out, "}");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static int due(jf_req *req)
{
    return run(req, "due");
}

static int overdue(jf_req *req)
{
    return run(req, "overdue");
}

static int lost(jf_req *req)
{
    return run(req, "lost");
}

static int health_checks(jf_req *req)
{
    return run(req, "health_check");
}

static int face_to_face(jf_req *req)
{
    return run(req, "face_to_face");
}

/* Patients with a referral (转诊) still open past its last day. */
static int referrals(jf_req *req)
{
    return run(req, "referral");
}

/* GET /worklists/doctors?org_unit_id= */
static int doctors(jf_req *req)
{
    jf_errors e = {0};
    long long unit = jf_query_id(req, &e, "org_unit_id");
    const char *scope;
    jf_db_conn *conn;
    int rc;

    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {scope, jf_res_path_upper(req, scope)};
    return jf_res_send_row(req, conn, &doctors_stmt, 2, p, 200);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/worklists/doctors", doctors, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/worklists/due", due, JF_ROUTE_AUTH | JF_ROUTE_REPLICA, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/worklists/overdue", overdue, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/worklists/lost", lost, JF_ROUTE_AUTH | JF_ROUTE_REPLICA, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/worklists/health-checks", health_checks, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_CLINICAL_READ},
    {"GET", "/api/v1/worklists/face-to-face", face_to_face, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/worklists/referrals", referrals, JF_ROUTE_AUTH | JF_ROUTE_REPLICA,
     JF_CAP_CLINICAL_READ},
};

int jf_res_worklists_init(void)
{
    jf_stmt *const s[] = {&worklist, &doctors_stmt};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
