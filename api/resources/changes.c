/* The change feed of the grid-worker app (GET /api/v1/changes): what changed
 * in the caller's view since an opaque cursor, in order and in bounded
 * pages: patient cards, care-team members and the notifications addressed
 * to the caller or the caller's agency. A record that left the view comes
 * as a tombstone ("deleted": true) so the phone deletes it. The log is the
 * `changes` table (migration 0031), filled by triggers whoever writes.
 * GET /api/v1/events replays, with the same cursors, the record-change
 * events (migration 0045) the webhooks carry, as the caller's agency sees
 * them, for an integrator that lost deliveries. */
#include "common.h"
#include "resources.h"
#include "../core/crypto.h"
#include "../core/err.h"
#include "../domain/date.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../record/patient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_LIMIT_DEFAULT 500
#define FEED_LIMIT_MAX 1000

/* In view: under the caller's path and still managed here. */
#define IN_VIEW(p)                                                                                 \
    "(" p ".org_path >= $1 AND " p ".org_path < $2 AND " p ".status NOT IN"                        \
    " ('deceased', 'deregistered', 'ruled_out'))"

/* The entities changed after the cursor ($5 xid, $6 seq) that touched the
 * caller's view ($1..$2 paths, $3 agency or $4 user), each once at its
 * latest change, below the oldest running transaction (a change not yet
 * committed may hold a lower seq than one already committed; reading past
 * it would skip it for ever). $7 rows, $8 risk visible, $9 whole phones,
 * $10 guardians' addresses, $11 today. A guardian carries its version, so
 * the phone can change it offline with If-Match; pickup_due is the day after
 * which the last pick-up is overdue (取药超期: the supply's end plus the
 * tolerance of the patient's unit) while a prescription runs: the phone compares it with its day,
 * as it does next_due (a pick-up or a prescription bumps the patient). */
static jf_stmt feed = {
    "changes_feed",
    "WITH x AS ("
    "  SELECT kind, entity_id, xid, seq FROM changes WHERE org_path >= $1 AND org_path < $2"
    "   AND (xid, seq) > ($5::xid8, $6::bigint)"
    "  UNION ALL SELECT kind, entity_id, xid, seq FROM changes WHERE old_path >= $1"
    "   AND old_path < $2 AND (xid, seq) > ($5::xid8, $6::bigint)"
    "  UNION ALL SELECT kind, entity_id, xid, seq FROM changes WHERE agency_id = nullif($3, 0)"
    "   AND (xid, seq) > ($5::xid8, $6::bigint)"
    "  UNION ALL SELECT kind, entity_id, xid, seq FROM changes WHERE user_id = $4"
    "   AND (xid, seq) > ($5::xid8, $6::bigint)),"
    " c AS (SELECT DISTINCT ON (kind, entity_id) kind, entity_id, xid, seq FROM x"
    "  WHERE xid < pg_snapshot_xmin(pg_current_snapshot())"
    "  ORDER BY kind, entity_id, xid DESC, seq DESC),"
    " page AS (SELECT * FROM c ORDER BY xid, seq LIMIT $7),"
    " d AS (SELECT page.*, CASE page.kind"
    "  WHEN 'patient' THEN (SELECT json_build_object('id', p.id, 'version', p.version,"
    "   'name', p.name, 'status', p.status, 'gender', p.gender, 'id_masked', p.id_masked,"
    "   'address', p.address, 'phone', CASE WHEN $9 THEN p.phone ELSE p.phone_masked END,"
    "   'guardians', coalesce((SELECT json_agg(json_build_object('id', g.id, 'kind', g.kind,"
    "    'name', g.name, 'relation', g.relation,"
    "    'phone', CASE WHEN $9 THEN g.phone ELSE g.phone_masked END,"
    "    'address', CASE WHEN $10 THEN g.address END, 'capacity', g.capacity,"
    "    'has_agreement', g.agreement_signed_on IS NOT NULL, 'version', g.version)"
    "    ORDER BY g.kind, g.id) FROM guardians g WHERE g.patient_id = p.id AND g.active),"
    "   '[]'), 'org_unit_id', p.org_unit_id, 'org_unit_name', p.org_unit_name,"
    "   'doctor_id', p.doctor_id, 'doctor_name', p.doctor_name,"
    "   'colour', CASE WHEN $8 THEN p.colour END, 'risk_level', CASE WHEN $8 THEN p.risk_level END,"
    "   'key_flags', CASE WHEN $8 THEN p.key_flags ELSE '[]' END,"
    "   'next_due', p.next_due, 'next_due_joint', p.next_due_joint, 'due_rule', p.due_rule,"
    "   'misses', p.misses, 'last_reached_on', p.last_reached_on,"
    "   'last_face_to_face_on', p.last_face_to_face_on, 'last_home_check_on', h.checked_on,"
    "   'last_visit_on', greatest(p.last_reached_on, h.checked_on), 'away_since', a.left_on,"
    "   'pickup_due', CASE WHEN EXISTS (SELECT 1 FROM prescriptions r WHERE r.patient_id = p.id"
    "    AND r.started_on <= $11::date AND (r.ended_on IS NULL OR r.ended_on > $11::date))"
    "    THEN k.supply_ends + pickup_tolerance_at(p.org_path) END,"
    "   'updated_at', p.updated_at)"
    "   FROM patients p"
    "   LEFT JOIN LATERAL (SELECT max(checked_on) AS checked_on FROM home_checks"
    "    WHERE patient_id = p.id) h ON true"
    "   LEFT JOIN LATERAL (SELECT min(left_on) AS left_on FROM absences"
    "    WHERE patient_id = p.id AND returned_on IS NULL) a ON true"
    "   LEFT JOIN LATERAL (SELECT m.picked_on + m.days_supplied AS supply_ends"
    "    FROM medication_pickups m WHERE m.patient_id = p.id"
    "    ORDER BY m.picked_on DESC, m.id DESC LIMIT 1) k ON true"
    "   WHERE p.id = page.entity_id AND " IN_VIEW(
        "p") ")"
             "  WHEN 'care_team' THEN (SELECT json_build_object('id', m.id, 'patient_id', "
             "m.patient_id,"
             "   'role', m.role, 'name', m.name, 'phone', CASE WHEN $9 THEN m.phone ELSE "
             "m.phone_masked"
             "   END, 'user_id', m.user_id, 'version', m.version)"
             "   FROM care_team_members m JOIN patients p ON p.id = m.patient_id"
             "   WHERE m.id = page.entity_id AND m.active AND " IN_VIEW(
                 "p") ")"
                      "  ELSE (SELECT json_build_object('id', n.id, 'kind', n.kind, 'title', "
                      "k.title,"
                      "   'patient_id', n.patient_id, 'summary', n.summary, 'created_at', "
                      "n.created_at,"
                      "   'deadline_at', CASE WHEN isfinite(n.deadline_at) THEN n.deadline_at END,"
                      "   'read_at', r.read_at, 'acknowledged_at', r.acknowledged_at,"
                      "   'action_taken', r.action_taken)"
                      "   FROM notifications n JOIN notification_kinds k ON k.kind = n.kind"
                      "   JOIN LATERAL (SELECT * FROM notification_recipients r WHERE "
                      "r.notification_id = n.id"
                      "    AND (r.agency_id = nullif($3, 0) OR r.user_id = $4) ORDER BY r.id LIMIT "
                      "1) r ON true"
                      "   WHERE n.id = page.entity_id) END AS data FROM page)"
                      " SELECT d.xid::text, d.seq, json_build_object('kind', d.kind, 'id', "
                      "d.entity_id,"
                      "  'deleted', d.data IS NULL, 'data', d.data)::text FROM d ORDER BY d.xid, "
                      "d.seq",
    0,
};

/* The record events after the cursor ($3 xid, $4 seq) in the area of
 * agency $1 (0: the area $2 of an admin), before or after a transfer, of
 * kinds $5 (NULL: all), $6 rows, below the oldest running transaction as
 * the fan-out reads them; each as record_event_payload cuts it for the
 * agency's kind, which is exactly what its webhooks were sent (NULL: not
 * in its view, skipped but passed by the cursor). */
static jf_stmt events_feed = {
    "changes_events",
    "WITH me AS (SELECT a.kind, o.path FROM agencies a JOIN org_units o ON o.id = a.org_unit_id"
    "  WHERE a.id = $1::bigint),"
    " area AS (SELECT coalesce((SELECT path FROM me), $2) AS path)"
    " SELECT e.xid::text, e.seq, record_event_payload(e, (SELECT kind FROM me))::text"
    " FROM record_events e, area WHERE (e.xid, e.seq) > ($3::xid8, $4::bigint)"
    " AND e.xid < pg_snapshot_xmin(pg_current_snapshot())"
    " AND (starts_with(e.org_path, area.path) OR starts_with(e.old_path, area.path))"
    " AND ($5::text[] IS NULL OR e.kind = ANY ($5::text[])) ORDER BY e.xid, e.seq LIMIT $6",
    0,
};

const char *const jf_res_event_kinds[] = {"patient.registered",
                                          "patient.risk_crossed",
                                          "patient.unstable",
                                          "patient.discharged",
                                          "patient.status_changed",
                                          "patient.transferred",
                                          NULL};

/* The cursor: "c1:<xid>:<seq>" in base64url; the start is xid 0, seq 0. */
static const char *encode_cursor(jf_req *req, const char *xid, const char *seq)
{
    char plain[64], *out = jf_arena_alloc(&req->arena, 96);
    int n = snprintf(plain, sizeof(plain), "c1:%s:%s", xid, seq);

    if (out == NULL || n <= 0 || (size_t)n >= sizeof(plain) ||
        jf_crypto_b64url_encode((unsigned char *)plain, (size_t)n, out, 96) < 0)
        return NULL;
    return out;
}

/* 0 with *xid and *seq (arena text) set; -1 with the error added. */
static int decode_cursor(jf_req *req, jf_errors *e, const char **xid, const char **seq)
{
    const char *s = jf_req_query(req, "cursor");
    unsigned char plain[64];
    unsigned long long x, q;
    char tail;
    int n;

    *xid = "0";
    *seq = "0";
    if (s == NULL)
        return 0;
    n = jf_crypto_b64url_decode(s, strlen(s), plain, sizeof(plain) - 1);
    if (n > 3) {
        plain[n] = '\0';
        if (strncmp((char *)plain, "c1:", 3) == 0 &&
            strspn((char *)plain + 3, "0123456789:") == (size_t)n - 3 &&
            sscanf((char *)plain, "c1:%19llu:%19llu%c", &x, &q, &tail) == 2 &&
            q <= 9223372036854775807ULL && x <= 9223372036854775807ULL) {
            *xid = jf_arena_printf(&req->arena, "%llu", x);
            *seq = jf_arena_printf(&req->arena, "%llu", q);
            return 0;
        }
    }
    jf_errors_add(e, "cursor", "is not a cursor this server issued");
    return -1;
}

static int page_limit(const jf_req *req, jf_errors *e, int *limit)
{
    const char *s = jf_req_query(req, "limit");
    char *end = NULL;
    long v;

    *limit = FEED_LIMIT_DEFAULT;
    if (s == NULL)
        return 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > FEED_LIMIT_MAX) {
        jf_errors_add(e, "limit", "must be a whole number from 1 to %d", FEED_LIMIT_MAX);
        return -1;
    }
    *limit = (int)v;
    return 0;
}

/* Run the page's statement (n params p; columns xid, seq, item JSON; a
 * NULL item is passed over, not shown) and answer {"items",
 * "next_cursor", "more"}: the cursor after its last row, or the one it
 * started from (xid, seq) when empty, so the client keeps it. */
static int send_page(jf_req *req, const jf_stmt *stmt, int np, const char *const *p,
                     const char *xid, const char *seq, int limit)
{
    jf_db_conn *conn;
    PGresult *res = NULL;
    const char *next;
    int n, shown = 0, rc;
    jf_buf out;

    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    rc = jf_db_exec(conn, stmt, np, p, &res);
    /* The page may go slowly to a phone: the connection need not wait. */
    jf_req_db_release(req);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    n = PQntuples(res);
    next = n > 0 ? encode_cursor(req, PQgetvalue(res, n - 1, 0), PQgetvalue(res, n - 1, 1))
                 : encode_cursor(req, xid, seq);
    jf_buf_init(&out, 64u << 20);
    rc = next == NULL ? JF_ERR_NOMEM : jf_buf_puts(&out, "{\"items\":[");
    for (int i = 0; rc == 0 && i < n; i++)
        if (!PQgetisnull(res, i, 2))
            rc = (shown++ ? jf_buf_puts(&out, ",") : 0) || jf_buf_puts(&out, PQgetvalue(res, i, 2));
    rc = rc ? rc : jf_buf_puts(&out, "],\"next_cursor\":");
    rc = rc ? rc : jf_buf_json_str(&out, next);
    rc = rc ? rc : jf_buf_printf(&out, ",\"more\":%s}", n == limit ? "true" : "false");
    if (rc == 0)
        rc = jf_resp_json_text(req, 200, out.data, out.len);
    jf_buf_free(&out);
    PQclear(res);
    return rc;
}

static int changes(jf_req *req)
{
    jf_patient_view v = jf_record_view(req);
    jf_errors e = {0};
    const char *xid, *seq;
    int limit;
    char today[11];

    page_limit(req, &e, &limit);
    decode_cursor(req, &e, &xid, &seq);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    jf_date_format(jf_date_today(), today);
    const char *p[] = {req->claims.org_path,
                       jf_res_path_upper(req, req->claims.org_path),
                       jf_res_id(req, req->claims.agency_id),
                       jf_res_id(req, req->claims.user_id),
                       xid,
                       seq,
                       jf_res_id(req, limit),
                       jf_res_tf(v.risk),
                       jf_res_tf(v.phone_full),
                       jf_res_tf(v.guardian_detail),
                       today};
    return send_page(req, &feed, 11, p, xid, seq, limit);
}

/* ?kinds=a,b as a text[] literal (NULL: all kinds); -1 with an error
 * naming kinds when one is not an event kind. */
static int read_kinds(jf_req *req, jf_errors *e, const char **lit)
{
    const char *s = jf_req_query(req, "kinds");
    char *copy, *save = NULL;
    const char *acc = "";

    *lit = NULL;
    if (s == NULL)
        return 0;
    copy = jf_arena_strdup(&req->arena, s);
    if (copy == NULL)
        return -1;
    for (char *k = strtok_r(copy, ",", &save); k != NULL; k = strtok_r(NULL, ",", &save)) {
        if (!jf_in_set(k, jf_res_event_kinds)) {
            jf_errors_add(e, "kinds", "must be a comma-separated list of event kinds");
            return -1;
        }
        acc = jf_arena_printf(&req->arena, "%s%s%s", acc, *acc ? "," : "", k);
    }
    *lit = jf_arena_printf(&req->arena, "{%s}", acc);
    return 0;
}

/* GET /api/v1/events?cursor=&kinds=&limit=: the service account of an
 * agency (its agency's view and area) or an admin (its area). */
static int events(jf_req *req)
{
    jf_role role = jf_role_parse(req->claims.role);
    jf_errors e = {0};
    const char *xid, *seq, *kinds;
    int limit;

    if (!jf_role_has(role, JF_CAP_CONFIG_WRITE) &&
        !(role == JF_ROLE_SERVICE && req->claims.agency_id > 0))
        return jf_resp_forbidden(req, "record events are replayed to an agency's service account"
                                      " or an admin");
    page_limit(req, &e, &limit);
    decode_cursor(req, &e, &xid, &seq);
    read_kinds(req, &e, &kinds);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    const char *p[] = {jf_res_id(req, role == JF_ROLE_SERVICE ? req->claims.agency_id : 0),
                       req->claims.org_path,
                       xid,
                       seq,
                       kinds,
                       jf_res_id(req, limit)};
    return send_page(req, &events_feed, 6, p, xid, seq, limit);
}

static const jf_route routes[] = {
    {"GET", "/api/v1/changes", changes, JF_ROUTE_AUTH | JF_ROUTE_REPLICA, JF_CAP_PATIENT_READ},
    {"GET", "/api/v1/events", events, JF_ROUTE_AUTH, 0},
};

int jf_res_changes_init(void)
{
    jf_stmt *const s[] = {&feed, &events_feed};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
