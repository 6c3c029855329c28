/* 三网 data comparison (seed 003, 集中摸排起底行动): runs, list uploads
 * (CSV streamed as the raw body into the staging table), saved column
 * mappings, the analysis, and the findings as work items of a unit
 * (open → verifying → resolved, with notes).
 *
 * Who: the township's health centre leads the comparison and the police
 * station takes part with its key-person list, so doctors, admins and
 * police create runs, upload lists, save mappings, analyse and move
 * findings; officials read them. Civil affairs, grid workers and service
 * accounts have no part in it (403). Findings carry no diagnosis. Outside
 * the caller's subtree everything is 404. */
#include "common.h"
#include "resources.h"
#include "../audit/audit.h"
#include "../auth/scope.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../domain/date.h"
#include "../domain/reconcile.h"
#include "../http/response.h"
#include "../http/router.h"
#include "../reconcile/load.h"
#include "../reconcile/runner.h"
#include "../record/patient.h"

#include <civetweb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RUN_JSON                                                                                   \
    "json_build_object('id', r.id, 'org_unit_id', r.org_unit_id, 'org_unit_name', o.name,"         \
    " 'status', r.status, 'note', r.note, 'created_by', r.created_by, 'created_at', r.created_at," \
    " 'analysed_at', r.analysed_at, 'previous_run_id', r.previous_run_id,"                         \
    " 'sources', coalesce((SELECT json_agg(json_build_object('source', s.source, 'rows', s.rows,"  \
    "  'encoding', s.encoding, 'loaded_at', s.loaded_at, 'unknown_columns', s.unknown_columns)"    \
    "  ORDER BY s.source)"                                                                         \
    "  FROM reconcile_sources s WHERE s.run_id = r.id), '[]'),"                                    \
    " 'summary', r.summary, 'diff', r.diff)::text"

#define FINDING_JSON                                                                               \
    "json_build_object('id', f.id, 'run_id', f.run_id, 'org_unit_id', f.org_unit_id,"              \
    " 'org_unit_name', o.name, 'category', f.category, 'weak', f.weak, 'patient_id',"              \
    " f.patient_id, 'name', f.name, 'id_masked', f.id_masked, 'birth_date', f.birth_date,"         \
    " 'sources', f.sources, 'facts', f.facts, 'status', f.status, 'previous_id', f.previous_id,"   \
    " 'version', f.version, 'created_at', f.created_at, 'updated_at', f.updated_at"

static jf_stmt run_insert = {
    "rec_run_insert",
    "INSERT INTO reconcile_runs (org_unit_id, org_path, note, created_by)"
    " SELECT id, path, $2, $3 FROM org_units WHERE id = $1 RETURNING id",
    0,
};
static jf_stmt run_load = {
    "rec_run_load", "SELECT org_unit_id, org_path, status FROM reconcile_runs WHERE id = $1", 0};
/* Held by an upload until it commits, so that an analysis (FOR NO KEY UPDATE)
 * never runs while a list is still being loaded into its run. */
static jf_stmt run_share = {"rec_run_share",
                            "SELECT status FROM reconcile_runs WHERE id = $1 FOR SHARE", 0};
static jf_stmt run_doc = {
    "rec_run_doc",
    "SELECT " RUN_JSON " FROM reconcile_runs r JOIN org_units o ON o.id = r.org_unit_id"
    " WHERE r.id = $1",
    0,
};
/* Runs of the subtree [$1, $2), newest first, before id $3 (0: from the top). */
static jf_stmt run_list = {
    "rec_run_list",
    "SELECT r.id, " RUN_JSON " FROM reconcile_runs r JOIN org_units o ON o.id = r.org_unit_id"
    " WHERE r.org_path >= $1 AND r.org_path < $2 AND ($3::bigint = 0 OR r.id < $3)"
    " ORDER BY r.id DESC LIMIT $4",
    0,
};
static jf_stmt mapping_load = {
    "rec_mapping_load",
    "SELECT m.source, m.columns::text, o.path FROM reconcile_mappings m"
    " JOIN org_units o ON o.id = m.org_unit_id WHERE m.id = $1",
    0,
};
static jf_stmt mapping_insert = {
    "rec_mapping_insert",
    "INSERT INTO reconcile_mappings (org_unit_id, source, name, columns, created_by)"
    " VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (org_unit_id, source, name) DO NOTHING"
    " RETURNING id",
    0,
};
#define MAPPING_JSON                                                                               \
    "json_build_object('id', m.id, 'org_unit_id', m.org_unit_id, 'source', m.source, 'name',"      \
    " m.name, 'columns', m.columns, 'created_at', m.created_at)::text"
static jf_stmt mapping_doc = {
    "rec_mapping_doc", "SELECT " MAPPING_JSON " FROM reconcile_mappings m WHERE m.id = $1", 0};
/* Mappings of units inside the caller's subtree $1 or above it (a
 * county's mapping serves its townships), of source $2 (NULL: any). */
static jf_stmt mapping_list = {
    "rec_mapping_list",
    "SELECT m.id, " MAPPING_JSON " FROM reconcile_mappings m JOIN org_units o"
    " ON o.id = m.org_unit_id WHERE (starts_with(o.path, $1) OR starts_with($1, o.path))"
    " AND ($2::text IS NULL OR m.source = $2) AND m.id > $3 ORDER BY m.id LIMIT $4",
    0,
};
static jf_stmt finding_load = {
    "rec_finding_load",
    "SELECT org_path, status, org_unit_id, version FROM reconcile_findings WHERE id = $1", 0};
static jf_stmt finding_doc = {
    "rec_finding_doc",
    "SELECT " FINDING_JSON ", 'events', coalesce((SELECT json_agg(json_build_object('id', e.id,"
    " 'from_status', e.from_status, 'to_status', e.to_status, 'note', e.note, 'user_id',"
    " e.user_id, 'created_at', e.created_at) ORDER BY e.id) FROM reconcile_finding_events e"
    " WHERE e.finding_id = f.id), '[]'))::text"
    " FROM reconcile_findings f JOIN org_units o ON o.id = f.org_unit_id WHERE f.id = $1",
    0,
};
/* Findings in the subtree [$1, $2) after id $3, filtered by run $4,
 * category $5, status $6 (NULL: any). */
static jf_stmt finding_list = {
    "rec_finding_list",
    "SELECT f.id, " FINDING_JSON ")::text FROM reconcile_findings f"
    " JOIN org_units o ON o.id = f.org_unit_id"
    " WHERE f.org_path >= $1 AND f.org_path < $2 AND f.id > $3"
    " AND ($4::bigint IS NULL OR f.run_id = $4) AND ($5::text IS NULL OR f.category = $5)"
    " AND ($6::text IS NULL OR f.status = $6) ORDER BY f.id LIMIT $7",
    0,
};
static jf_stmt finding_move = {
    "rec_finding_move",
    "UPDATE reconcile_findings SET status = $2, version = version + 1, updated_at = now()"
    " WHERE id = $1 AND status = $3 RETURNING id",
    0,
};
static jf_stmt finding_event = {
    "rec_finding_event",
    "INSERT INTO reconcile_finding_events (finding_id, from_status, to_status, note, user_id)"
    " VALUES ($1, $2, $3, $4, $5)",
    0,
};

/* ---- who may --------------------------------------------------------- */

static bool role_reads(const jf_req *req)
{
    static const char *const r[] = {"admin", "official", "doctor", "police", NULL};
    return jf_in_set(req->claims.role, r);
}

static bool role_writes(const jf_req *req)
{
    static const char *const r[] = {"admin", "doctor", "police", NULL};
    return jf_in_set(req->claims.role, r);
}

/* 403 unless the caller's role takes part (write: changes too). */
static int refuse_role(jf_req *req, bool write)
{
    if (write ? role_writes(req) : role_reads(req))
        return 0;
    jf_resp_forbidden(req, write ? "your role may not change 三网 comparisons"
                                 : "your role takes no part in 三网 comparisons");
    return JF_ERR_AUTH;
}

static int send_run(jf_req *req, jf_db_conn *conn, const char *id, int status)
{
    const char *p[] = {id};
    return jf_res_send_row(req, conn, &run_doc, 1, p, status);
}

/* Load record {id} (path param 0) with stmt, whose row holds the record's
 * org path, status and unit in the columns of cols ({path, status, unit}):
 * its id text, status and unit; 404 sent when it does not exist or lies
 * outside the caller's subtree. */
static int load_scoped(jf_req *req, jf_db_conn *conn, const jf_stmt *stmt, const int cols[3],
                       const char **id_text, const char **status, long long *unit)
{
    long long id = jf_req_param_id(req, 0);
    PGresult *res = NULL;
    int rc;

    if (id <= 0) {
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    *id_text = jf_res_id(req, id);
    rc = jf_db_exec(conn, stmt, 1, (const char *const[]){*id_text}, &res);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0 ||
        !jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, cols[0]))) {
        PQclear(res);
        jf_resp_not_found(req);
        return JF_ERR_NOT_FOUND;
    }
    *status = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, cols[1]));
    *unit = strtoll(PQgetvalue(res, 0, cols[2]), NULL, 10);
    PQclear(res);
    return 0;
}

/* A run: unit, path, status. */
static int load_run(jf_req *req, jf_db_conn *conn, const char **run_id, const char **status,
                    long long *unit)
{
    static const int cols[3] = {1, 2, 0};

    return load_scoped(req, conn, &run_load, cols, run_id, status, unit);
}

static int audit(jf_db_conn *conn, jf_req *req, const char *action, const char *type,
                 const char *id, long long unit, const char *detail)
{
    jf_audit_entry a = {.action = action,
                        .target_type = type,
                        .target_id = id,
                        .org_unit_id = unit,
                        .detail_json = detail};
    return jf_audit_record(conn, req, &a);
}

/* ---- runs ------------------------------------------------------------- */

/* POST /reconcile/runs {org_unit_id, note} */
static int create_run(jf_req *req)
{
    static const char *const allowed[] = {"org_unit_id", "note", NULL};
    jf_errors e = {0};
    long long unit = 0;
    const char *note, *run_id, *path;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if ((rc = refuse_role(req, true)) != 0)
        return 0;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    note = jf_body_str(req, &e, "note", false, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        return rc;
    if (path == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {jf_res_id(req, unit), note, jf_res_id(req, req->claims.user_id)};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &run_insert, 3, p, &res);
    if (rc != 0)
        goto out;
    run_id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = audit(conn, req, "reconcile.run_create", "reconcile_run", run_id, unit, NULL);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/reconcile/runs/%s", run_id));
    rc = send_run(req, conn, run_id, 201);
out:
    PQclear(res);
    return rc;
}

/* GET /reconcile/runs/{id} */
static int get_run(jf_req *req)
{
    const char *run_id, *status;
    long long unit;
    jf_db_conn *conn;
    int rc;

    if (refuse_role(req, false) != 0)
        return 0;
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = load_run(req, conn, &run_id, &status, &unit)) != 0)
        return rc;
    return send_run(req, conn, run_id, 200);
}

/* GET /reconcile/runs?org_unit_id= */
static int list_runs(jf_req *req)
{
    jf_errors e = {0};
    jf_db_conn *conn;
    PGresult *res = NULL;
    long long after = 0, unit;
    const char *scope;
    int limit, rc;

    if (refuse_role(req, false) != 0)
        return 0;
    unit = jf_query_id(req, &e, "org_unit_id");
    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {scope, jf_res_path_upper(req, scope), jf_res_id(req, after),
                       jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &run_list, 4, p, &res);
    /* The page may go slowly to a phone: the connection need not wait. */
    jf_req_db_release(req);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* The request body, read through mg_read under the upload cap. */
typedef struct body_reader {
    struct mg_connection *conn;
    long long total, cap;
} body_reader;

static long body_read(void *ctx, char *buf, size_t cap)
{
    body_reader *b = ctx;
    int n = mg_read(b->conn, buf, cap > (1u << 30) ? (1u << 30) : cap);

    if (n < 0)
        return JF_ERR_IO;
    b->total += n;
    if (b->total > b->cap)
        return JF_ERR_TOO_LARGE;
    return n;
}

/* Fill o's columns from saved mapping id (must be of source and visible). */
static int use_mapping(jf_req *req, jf_db_conn *conn, jf_errors *e, long long id,
                       const char *source, jf_rec_load_opts *o)
{
    PGresult *res = NULL;
    const char *p[] = {jf_res_id(req, id)};
    int rc = jf_db_exec(conn, &mapping_load, 1, p, &res);
    json_t *cols;

    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), source) != 0 ||
        !(jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 2)) ||
          jf_scope_contains(PQgetvalue(res, 0, 2), req->claims.org_path))) {
        jf_errors_add(e, "mapping_id", "no such mapping of source %s in your area", source);
        PQclear(res);
        return 0;
    }
    cols = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    PQclear(res);
    if (cols == NULL)
        return JF_ERR_INVALID;
    for (int c = 0; c < JF_REC_NCOLS; c++) {
        const char *v = json_string_value(json_object_get(cols, jf_rec_col_key((jf_rec_col)c)));
        o->columns[c] = v ? jf_arena_strdup(&req->arena, v) : NULL;
    }
    json_decref(cols);
    o->optional = 0;
    return 0;
}

static bool csv_type(const char *ct)
{
    size_t n = strlen("text/csv");

    return ct != NULL && strncasecmp(ct, "text/csv", n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

/* PUT /reconcile/runs/{id}/sources/{source}?mapping_id=&encoding= (body: the CSV) */
static int put_source(jf_req *req)
{
    static const char *const encodings[] = {"auto", "utf-8", "gbk", NULL};
    const char *source = jf_req_param(req, 1), *enc = jf_req_query(req, "encoding");
    const char *run_id, *status;
    jf_errors e = {0};
    long long unit, mapping = 0;
    jf_rec_load_opts o = {0};
    jf_rec_load_result lr;
    body_reader br = {req->conn, 0, req->app->cfg.upload_max_bytes};
    jf_db_conn *conn;
    int rc;

    if (refuse_role(req, true) != 0)
        return 0;
    if (!jf_rec_source_valid(source))
        return jf_resp_not_found(req);
    mapping = jf_query_id(req, &e, "mapping_id");
    if (enc != NULL && !jf_in_set(enc, encodings))
        jf_errors_add(&e, "encoding", "must be auto, utf-8 or gbk");
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if (!csv_type(jf_req_header(req, "Content-Type")))
        return jf_resp_problem(req, 415, "unsupported-media-type", "Unsupported media type",
                               "the body must be the list as text/csv", "Content-Type",
                               "must be text/csv");
    if (req->ri->content_length > br.cap)
        return jf_resp_problem(req, 413, "payload-too-large", "Payload too large",
                               "the file is larger than the server accepts", "body", "too large");
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = load_run(req, conn, &run_id, &status, &unit)) != 0)
        return rc;
    if (strcmp(status, "loading") != 0)
        return jf_resp_problem(req, 409, "run-analysed", "Run analysed",
                               "the run was analysed already: start a new run", NULL, NULL);
    o.run_id = strtoll(run_id, NULL, 10);
    o.source = source;
    o.encoding = enc == NULL || strcmp(enc, "auto") == 0 ? JF_REC_ENC_AUTO
                 : strcmp(enc, "gbk") == 0               ? JF_REC_ENC_GBK
                                                         : JF_REC_ENC_UTF8;
    o.today_ymd = jf_date_ymd_int(jf_date_today());
    o.index_key = req->app->cfg.id_index_key;
    o.user_id = req->claims.user_id;
    if (mapping > 0) {
        if ((rc = use_mapping(req, conn, &e, mapping, source, &o)) != 0)
            return rc;
        if (jf_errors_any(&e))
            return jf_errors_respond(req, &e);
    } else {
        for (int c = 0; c < JF_REC_NCOLS; c++)
            o.columns[c] = jf_rec_col_default((jf_rec_col)c);
        o.optional = ~((1u << JF_REC_ID) | (1u << JF_REC_NAME));
    }
    if ((rc = jf_db_begin(conn)) != 0)
        return rc;
    {
        PGresult *res = NULL;
        const char *sp[] = {run_id};
        rc = jf_db_exec(conn, &run_share, 1, sp, &res);
        bool done = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "loading") != 0;
        PQclear(res);
        if (rc != 0)
            return rc;
        if (done)
            return jf_resp_problem(req, 409, "run-analysed", "Run analysed",
                                   "the run was analysed meanwhile: start a new run", NULL, NULL);
    }
    rc = jf_rec_load(jf_db_pg(conn), &o, body_read, &br, &lr);
    if (rc == JF_ERR_INVALID || rc == JF_ERR_TOO_LARGE)
        return jf_resp_problem(req, lr.status,
                               lr.status == 413 ? "payload-too-large" : "invalid-file",
                               lr.status == 413 ? "Payload too large" : "Invalid file", lr.message,
                               lr.field, lr.message);
    if (rc == JF_ERR_IO)
        return jf_resp_problem(req, 400, "malformed-body", "Malformed body",
                               "the body could not be read", "body", "could not be read");
    if (rc == 0)
        rc = audit(conn, req, "reconcile.upload", "reconcile_run", run_id, unit,
                   jf_arena_printf(&req->arena,
                                   "{\"source\":\"%s\",\"rows\":%ld,\"encoding\":\"%s\"}", source,
                                   lr.rows, lr.encoding));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0)
        rc = send_run(req, conn, run_id, 200);
    return rc;
}

/* ---- the analysis, a background job (migration 0041) ------------------ */

/* $1 run: how many lists it holds. */
static jf_stmt run_sources = {"rec_run_sources",
                              "SELECT count(*) FROM reconcile_sources WHERE run_id = $1", 0};
/* $1 run, $2 user: the run's queued job, queued now (true) or already. */
static jf_stmt job_queue = {
    "rec_job_queue",
    "WITH n AS (INSERT INTO reconcile_jobs (run_id, org_unit_id, org_path, requested_by)"
    " SELECT id, org_unit_id, org_path, $2 FROM reconcile_runs WHERE id = $1"
    " ON CONFLICT (run_id) WHERE state = 'queued' DO NOTHING RETURNING id)"
    " SELECT id, true FROM n UNION ALL SELECT id, false FROM reconcile_jobs"
    " WHERE run_id = $1 AND state = 'queued' AND NOT EXISTS (SELECT 1 FROM n)",
    0,
};
static jf_stmt job_doc = {"rec_job_doc", "SELECT reconcile_job_json($1)::text", 0};
static jf_stmt job_load = {
    "rec_job_load", "SELECT org_unit_id, org_path, state, run_id FROM reconcile_jobs WHERE id = $1",
    0};
/* $1 job: asked to stop, and ended at once when no runner holds it.
 * Answers whether it ended, and the backend of its runner otherwise. */
static jf_stmt job_cancel = {
    "rec_job_cancel",
    "WITH p AS (INSERT INTO reconcile_job_progress (job_id, step, step_no, steps, rows,"
    "  cancel_requested) VALUES ($1, 'starting', 0, 0, 0, true) ON CONFLICT (job_id)"
    "  DO UPDATE SET cancel_requested = true RETURNING runner_pid),"
    " idle AS (UPDATE reconcile_jobs SET state = 'cancelled', finished_at = now()"
    "  WHERE id IN (SELECT id FROM reconcile_jobs WHERE id = $1 AND state = 'queued'"
    "   FOR UPDATE SKIP LOCKED) RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM idle), (SELECT runner_pid FROM p)",
    0,
};
/* After the request is committed (the runner, interrupted, reads it). */
static jf_stmt job_interrupt = {"rec_job_interrupt", "SELECT pg_cancel_backend($1::int)", 0};

/* Does the client prefer the answer before the work is done? */
static bool respond_async(const jf_req *req)
{
    const char *h = jf_req_header(req, "Prefer");

    return h != NULL && strcasestr(h, "respond-async") != NULL;
}

/* The job's state and, for a failure, why. */
static int job_state(jf_req *req, jf_db_conn *conn, const char *job, char *state, size_t cap)
{
    PGresult *res = NULL;
    const char *p[] = {job};
    int rc = jf_db_exec(conn, &job_load, 1, p, &res);

    if (rc == 0)
        snprintf(state, cap, "%s", PQntuples(res) ? PQgetvalue(res, 0, 2) : "");
    PQclear(res);
    return rc;
}

/* 202 with the job and where to follow it. */
static int send_job(jf_req *req, jf_db_conn *conn, const char *job, int status)
{
    const char *p[] = {job};

    if (status == 202)
        jf_resp_header(req, "Location",
                       jf_arena_printf(&req->arena, "/api/v1/reconcile/jobs/%s", job));
    return jf_res_send_row(req, conn, &job_doc, 1, p, status);
}

/* POST /reconcile/runs/{id}/analyse: the analysis is queued as a job (one
 * per run at a time: asked again while queued, the same job answers) and
 * run by a runner. Done within JF_RECONCILE_WAIT_MS: 200 with the analysed
 * run, as a small township's list always is; else, or with Prefer:
 * respond-async, 202 with the job to poll. */
static int analyse_run(jf_req *req)
{
    const char *run_id, *status;
    long long unit;
    char state[16] = "";
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (refuse_role(req, true) != 0)
        return 0;
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = load_run(req, conn, &run_id, &status, &unit)) != 0)
        return rc;
    if (strcmp(status, "done") == 0)
        return jf_resp_problem(req, 409, "run-state", "Run not ready",
                               "the run was analysed already", NULL, NULL);
    const char *p1[] = {run_id};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &run_sources, 1, p1, &res)) != 0)
        goto out;
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        rc = jf_resp_problem(req, 409, "run-state", "Run not ready", "no source is loaded yet",
                             NULL, NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    const char *pq[] = {run_id, jf_res_id(req, req->claims.user_id)};
    if ((rc = jf_db_exec(conn, &job_queue, 2, pq, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) { /* queued by another request this instant */
        rc = jf_resp_problem(req, 409, "analysis-queued", "Analysis queued",
                             "an analysis of this run is being queued: ask again", NULL, NULL);
        goto out;
    }
    const char *job = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0 &&
        (rc = audit(conn, req, "reconcile.analyse", "reconcile_run", run_id, unit,
                    jf_arena_printf(&req->arena, "{\"job_id\":%s}", job))) != 0)
        goto out;
    if ((rc = jf_db_commit(conn)) != 0)
        goto out;
    jf_rec_runner_kick();
    for (long waited = 0; !respond_async(req) && waited < req->app->cfg.reconcile_wait_ms;
         waited += 50) {
        if ((rc = job_state(req, conn, job, state, sizeof(state))) != 0)
            goto out;
        if (strcmp(state, "queued") != 0)
            break;
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    if (strcmp(state, "done") == 0)
        rc = send_run(req, conn, run_id, 200);
    else if (strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0)
        rc = jf_resp_problem(req, strcmp(state, "failed") == 0 ? 500 : 409,
                             jf_arena_printf(&req->arena, "analysis-%s", state), "Analysis ended",
                             jf_arena_printf(&req->arena, "job %s %s", job, state), NULL, NULL);
    else
        rc = send_job(req, conn, job, 202);
out:
    PQclear(res);
    return rc;
}

/* A job: unit, path, state. */
static int load_job(jf_req *req, jf_db_conn *conn, const char **job_id, const char **state,
                    long long *unit)
{
    static const int cols[3] = {1, 2, 0};

    return load_scoped(req, conn, &job_load, cols, job_id, state, unit);
}

/* GET /reconcile/jobs/{id}: state (queued, running, done, failed,
 * cancelled) and progress. */
static int get_job(jf_req *req)
{
    const char *job, *state;
    long long unit;
    jf_db_conn *conn;
    int rc;

    if (refuse_role(req, false) != 0)
        return 0;
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_job(req, conn, &job, &state, &unit)) != 0)
        return rc;
    return send_job(req, conn, job, 200);
}

/* POST /reconcile/jobs/{id}/cancel: a queued job ends cancelled at once, a
 * running one as soon as its runner sees it (its statement interrupted);
 * 409 once it has ended. */
static int cancel_job(jf_req *req)
{
    const char *job, *state;
    long long unit;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (refuse_role(req, true) != 0)
        return 0;
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_job(req, conn, &job, &state, &unit)) != 0)
        return rc;
    if (strcmp(state, "queued") != 0)
        return jf_resp_problem(req, 409, "job-ended", "Job ended",
                               jf_arena_printf(&req->arena, "the job is %s", state), NULL, NULL);
    const char *p[] = {job};
    if ((rc = jf_db_begin(conn)) != 0 || (rc = jf_db_exec(conn, &job_cancel, 1, p, &res)) != 0 ||
        (rc = audit(conn, req, "reconcile.cancel", "reconcile_job", job, unit, NULL)) != 0 ||
        (rc = jf_db_commit(conn)) != 0)
        goto out;
    bool ended = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (!ended && !PQgetisnull(res, 0, 1)) {
        const char *pid[] = {jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 1))};
        PQclear(res);
        res = NULL;
        if ((rc = jf_db_exec(conn, &job_interrupt, 1, pid, &res)) != 0)
            goto out;
    }
    rc = send_job(req, conn, job, ended ? 200 : 202);
out:
    PQclear(res);
    return rc;
}

/* ---- mappings --------------------------------------------------------- */

/* POST /reconcile/mappings {org_unit_id, source, name, columns{…}} */
static int create_mapping(jf_req *req)
{
    static const char *const allowed[] = {"org_unit_id", "source", "name", "columns", NULL};
    jf_errors e = {0};
    long long unit = 0;
    const char *source, *name, *key, *id, *path;
    json_t *cols, *v, *clean = NULL;
    jf_db_conn *conn;
    PGresult *res = NULL;
    char *text = NULL;
    int rc;

    if (refuse_role(req, true) != 0)
        return 0;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    jf_body_int(req, &e, "org_unit_id", true, 1, INT64_MAX, &unit);
    source = jf_body_code(req, &e, "source", true, jf_rec_sources);
    name = jf_body_str(req, &e, "name", true, 1, 64);
    cols = json_object_get(req->body, "columns");
    if (!json_is_object(cols)) {
        jf_errors_add(&e, "columns", "is required: an object naming the header of each column");
    } else {
        clean = json_object();
        json_object_foreach(cols, key, v)
        {
            int c;
            for (c = 0; c < JF_REC_NCOLS; c++)
                if (strcmp(key, jf_rec_col_key((jf_rec_col)c)) == 0)
                    break;
            if (c == JF_REC_NCOLS)
                jf_errors_add(&e, jf_arena_printf(&req->arena, "columns.%s", key),
                              "is not a column (id, name, gender, birth_date, village, status,"
                              " risk_level)");
            else if (!json_is_string(v) || json_string_length(v) == 0 ||
                     jf_utf8_len(json_string_value(v)) > 64 ||
                     strpbrk(json_string_value(v), "\r\n\"") != NULL)
                jf_errors_add(&e, jf_arena_printf(&req->arena, "columns.%s", key),
                              "must be a header text of 1-64 characters");
            else
                json_object_set(clean, key, v);
        }
        if (json_object_get(cols, "id") == NULL)
            jf_errors_add(&e, "columns.id", "is required");
        if (json_object_get(cols, "name") == NULL)
            jf_errors_add(&e, "columns.name", "is required");
    }
    if (jf_errors_any(&e)) {
        json_decref(clean);
        return jf_errors_respond(req, &e);
    }
    text = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(clean);
    if (text == NULL)
        return JF_ERR_NOMEM;
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &path)) != 0)
        goto out;
    if (path == NULL) {
        rc = jf_errors_respond(req, &e);
        goto out;
    }
    const char *p[] = {jf_res_id(req, unit), source, name, text,
                       jf_res_id(req, req->claims.user_id)};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &mapping_insert, 5, p, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Name taken",
                             "the unit has a mapping of this source with this name", "name",
                             "is taken");
        goto out;
    }
    id = jf_arena_strdup(&req->arena, PQgetvalue(res, 0, 0));
    rc = audit(conn, req, "reconcile.mapping_create", "reconcile_mapping", id, unit, NULL);
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc != 0)
        goto out;
    jf_resp_header(req, "Location",
                   jf_arena_printf(&req->arena, "/api/v1/reconcile/mappings/%s", id));
    {
        const char *dp[] = {id};
        rc = jf_res_send_row(req, conn, &mapping_doc, 1, dp, 201);
    }
out:
    free(text);
    PQclear(res);
    return rc;
}

/* GET /reconcile/mappings/{id} */
static int get_mapping(jf_req *req)
{
    long long id = jf_req_param_id(req, 0);
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (refuse_role(req, false) != 0)
        return 0;
    if (id <= 0)
        return jf_resp_not_found(req);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {jf_res_id(req, id)};
    rc = jf_db_exec(conn, &mapping_load, 1, p, &res);
    if (rc == 0 &&
        (PQntuples(res) == 0 || !(jf_scope_contains(req->claims.org_path, PQgetvalue(res, 0, 2)) ||
                                  jf_scope_contains(PQgetvalue(res, 0, 2), req->claims.org_path))))
        rc = jf_resp_not_found(req);
    else if (rc == 0)
        rc = jf_res_send_row(req, conn, &mapping_doc, 1, p, 200);
    PQclear(res);
    return rc;
}

/* GET /reconcile/mappings?source= */
static int list_mappings(jf_req *req)
{
    jf_errors e = {0};
    const char *source = jf_req_query(req, "source");
    long long after = 0;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    if (refuse_role(req, false) != 0)
        return 0;
    if (source != NULL && !jf_rec_source_valid(source))
        jf_errors_add(&e, "source", "is not a source");
    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0)
        return rc;
    const char *p[] = {req->claims.org_path, source, jf_res_id(req, after),
                       jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &mapping_list, 4, p, &res);
    /* The page may go slowly to a phone: the connection need not wait. */
    jf_req_db_release(req);
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* ---- findings --------------------------------------------------------- */

/* GET /reconcile/findings?run_id=&org_unit_id=&category=&status= */
static int list_findings(jf_req *req)
{
    jf_errors e = {0};
    const char *category = jf_req_query(req, "category"), *status = jf_req_query(req, "status");
    const char *scope;
    long long after = 0, unit, run;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int limit, rc;

    if (refuse_role(req, false) != 0)
        return 0;
    unit = jf_query_id(req, &e, "org_unit_id");
    run = jf_query_id(req, &e, "run_id");
    if (category != NULL && !jf_in_set(category, jf_rec_categories))
        jf_errors_add(&e, "category", "is not a finding category");
    if (status != NULL && !jf_in_set(status, jf_rec_states))
        jf_errors_add(&e, "status", "must be open, verifying or resolved");
    jf_query_limit(req, &e, &limit);
    jf_res_cursor_decode(req, &e, &after);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = jf_record_area(req, conn, &e, "org_unit_id", unit, &scope)) != 0)
        return rc;
    if (scope == NULL)
        return jf_errors_respond(req, &e);
    const char *p[] = {scope,
                       jf_res_path_upper(req, scope),
                       jf_res_id(req, after),
                       run > 0 ? jf_res_id(req, run) : NULL,
                       category,
                       status,
                       jf_res_id(req, limit + 1)};
    rc = jf_db_exec(conn, &finding_list, 7, p, &res);
    if (rc == 0)
        rc = audit(conn, req, "reconcile.findings_list", "reconcile_run",
                   run > 0 ? jf_res_id(req, run) : NULL, unit,
                   jf_arena_printf(&req->arena, "{\"count\":%d}",
                                   PQntuples(res) > limit ? limit : PQntuples(res)));
    if (rc == 0)
        rc = jf_res_send_id_page(req, res, limit, 1);
    PQclear(res);
    return rc;
}

/* A finding: path, status, unit. */
static int load_finding(jf_req *req, jf_db_conn *conn, const char **id, const char **status,
                        long long *unit)
{
    static const int cols[3] = {0, 1, 2};

    return load_scoped(req, conn, &finding_load, cols, id, status, unit);
}

/* GET /reconcile/findings/{id} */
static int get_finding(jf_req *req)
{
    const char *id, *status;
    long long unit;
    jf_db_conn *conn;
    int rc;

    if (refuse_role(req, false) != 0)
        return 0;
    if ((rc = jf_req_db(req, &conn)) != 0 ||
        (rc = load_finding(req, conn, &id, &status, &unit)) != 0 ||
        (rc = audit(conn, req, "reconcile.finding_read", "reconcile_finding", id, unit, NULL)) != 0)
        return rc;
    const char *p[] = {id};
    return jf_res_send_row(req, conn, &finding_doc, 1, p, 200);
}

/* POST /reconcile/findings/{id}/transitions {to, note} */
static int move_finding(jf_req *req)
{
    static const char *const allowed[] = {"to", "note", NULL};
    jf_errors e = {0};
    const char *to, *note, *id, *from;
    long long unit;
    jf_db_conn *conn;
    PGresult *res = NULL;
    int rc;

    if (refuse_role(req, true) != 0)
        return 0;
    if ((rc = jf_req_read_json(req)) != 0)
        return rc;
    jf_body_only(req, &e, allowed);
    to = jf_body_code(req, &e, "to", true, jf_rec_states);
    note = jf_body_str(req, &e, "note", true, 1, 500);
    if (jf_errors_any(&e))
        return jf_errors_respond(req, &e);
    if ((rc = jf_req_db(req, &conn)) != 0 || (rc = load_finding(req, conn, &id, &from, &unit)) != 0)
        return rc;
    if (!jf_rec_transition_ok(from, to))
        return jf_resp_problem(
            req, 409, "illegal-transition", "Illegal transition",
            jf_arena_printf(&req->arena, "a finding cannot move from %s to %s", from, to), "to",
            "not allowed from the finding's state");
    const char *mp[] = {id, to, from};
    const char *ep[] = {id, from, to, note, jf_res_id(req, req->claims.user_id)};
    rc = jf_db_begin(conn);
    if (rc == 0)
        rc = jf_db_exec(conn, &finding_move, 3, mp, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = jf_resp_problem(req, 409, "conflict", "Finding changed",
                             "the finding moved meanwhile; reload and retry", NULL, NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    rc = jf_db_exec(conn, &finding_event, 5, ep, &res);
    if (rc == 0)
        rc = audit(conn, req, "reconcile.finding_move", "reconcile_finding", id, unit,
                   jf_arena_printf(&req->arena, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to));
    if (rc == 0)
        rc = jf_db_commit(conn);
    if (rc == 0) {
        const char *p[] = {id};
        rc = jf_res_send_row(req, conn, &finding_doc, 1, p, 200);
    }
out:
    PQclear(res);
    return rc;
}

static const jf_route routes[] = {
    {"POST", "/api/v1/reconcile/runs", create_run, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/runs", list_runs, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/runs/{id}", get_run, JF_ROUTE_AUTH, 0},
    {"PUT", "/api/v1/reconcile/runs/{id}/sources/{source}", put_source, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/reconcile/runs/{id}/analyse", analyse_run, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/jobs/{id}", get_job, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/reconcile/jobs/{id}/cancel", cancel_job, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/reconcile/mappings", create_mapping, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/mappings", list_mappings, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/mappings/{id}", get_mapping, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/findings", list_findings, JF_ROUTE_AUTH, 0},
    {"GET", "/api/v1/reconcile/findings/{id}", get_finding, JF_ROUTE_AUTH, 0},
    {"POST", "/api/v1/reconcile/findings/{id}/transitions", move_finding, JF_ROUTE_AUTH, 0},
};

int jf_res_reconcile_init(void)
{
    jf_stmt *const s[] = {&run_share,    &run_insert,    &run_load,       &run_doc,
                          &run_list,     &mapping_load,  &mapping_insert, &mapping_doc,
                          &mapping_list, &finding_load,  &finding_doc,    &finding_list,
                          &finding_move, &finding_event, &run_sources,    &job_queue,
                          &job_doc,      &job_load,      &job_cancel,     &job_interrupt};

    if (jf_db_stmt_register_all(s, sizeof(s) / sizeof(s[0])) != 0)
        return JF_ERR_TOO_LARGE;
    return jf_router_add(routes, sizeof(routes) / sizeof(routes[0]));
}
