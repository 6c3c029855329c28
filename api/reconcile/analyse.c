/* Compare one run's loaded lists with each other and with the registry, in
 * set-based SQL (hash joins and hash aggregates over the run's staging
 * rows), and write the findings, the summary and the diff against the
 * previous run of the same unit. */
#include "load.h"
#include "../core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The registry statuses that count as "active" against a source's 死亡. */
#define ACTIVE_STATUSES "('suspected','registered','in_care','hospitalised','lost','moved_out')"
#define ALL_SOURCES                                                                                \
    "ARRAY['police','health','grid','drug_purchase','special_outpatient','reimbursement']"

/* The run's rows without a valid ID number (few): one scan, then the weak
 * matches and the invalid-ID findings read this small table. $1 run. */
static const char *const sql_nonvalid =
    "CREATE TEMP TABLE rec_nv ON COMMIT DROP AS SELECT source, line, id_state, id_index,"
    " id_masked, name, birth_date, village, status, risk FROM reconcile_rows"
    " WHERE run_id = $1 AND id_state <> 'v'";

/* Rows with no valid ID but a name and a birth date: matched to a patient
 * with that name and birth date (when only one has them), else to a valid
 * row of the run with them (when they name one ID), else grouped by name
 * and birth date (named). $1 run. */
static const char *const sql_weak =
    "CREATE TEMP TABLE rec_weak ON COMMIT DROP AS"
    " WITH w AS MATERIALIZED (SELECT * FROM rec_nv WHERE name IS NOT NULL"
    "  AND birth_date IS NOT NULL),"
    " d AS MATERIALIZED (SELECT DISTINCT name, birth_date FROM w),"
    " pm AS MATERIALIZED (SELECT p.name, p.birth_date, (array_agg(p.id_index))[1] AS k"
    "  FROM d JOIN patients p ON (p.name COLLATE \"C\") = d.name AND p.birth_date = d.birth_date"
    "  WHERE p.id_index IS NOT NULL GROUP BY 1, 2 HAVING count(*) = 1),"
    " d2 AS MATERIALIZED (SELECT * FROM d WHERE NOT EXISTS (SELECT 1 FROM pm"
    "  WHERE pm.name = d.name AND pm.birth_date = d.birth_date)),"
    " rm AS (SELECT r.name, r.birth_date, (array_agg(r.id_index))[1] AS k FROM reconcile_rows r"
    "  JOIN d2 ON d2.name = r.name AND d2.birth_date = r.birth_date"
    "  WHERE r.run_id = $1 AND r.id_state = 'v' AND (SELECT count(*) FROM d2) > 0"
    "  GROUP BY 1, 2 HAVING count(DISTINCT r.id_index) = 1)"
    " SELECT coalesce(pm.k, rm.k, convert_to('n:' || w.name || '|' || w.birth_date, 'UTF8')) AS k,"
    "  (pm.k IS NULL AND rm.k IS NULL) AS named, w.*"
    " FROM w LEFT JOIN pm USING (name, birth_date) LEFT JOIN rm USING (name, birth_date)";

/* Villages of the run's subtree by name, when the name is unique. $1 path. */
static const char *const sql_villages =
    "CREATE TEMP TABLE rec_villages ON COMMIT DROP AS"
    " SELECT name, min(id) AS id, min(path) AS path FROM org_units"
    " WHERE starts_with(path, $1) AND level = 'village' GROUP BY name HAVING count(*) = 1";

/* The usable rows of run $1 with their person key: valid ID numbers and
 * the weak rows. */
#define ROWS_KEYED                                                                                 \
    "SELECT id_index AS k, false AS weak, false AS named, source, line, name, birth_date,"         \
    " id_masked, village, status, risk FROM reconcile_rows WHERE run_id = $1 AND id_state = 'v'"   \
    " UNION ALL SELECT k, true, named, source, line, name, birth_date, id_masked, village,"        \
    " status, risk FROM rec_weak"

/* Persons: the rows grouped by key, with just what the categories need (a
 * source present twice adds its bit twice: sum differs from bit_or). A
 * table, analysed afterwards, so that the planner knows it holds a row per
 * person and joins the registry by hashing. Text compared byte-wise. $1 run. */
static const char *const sql_group =
    "CREATE TEMP TABLE rec_persons ON COMMIT DROP AS"
    " SELECT k, bool_or(weak) AS weak, bool_or(named) AS named, bit_or(b) AS present,"
    "  sum(b) <> bit_or(b) AS dup, min(village COLLATE \"C\") AS vmin,"
    "  max(village COLLATE \"C\") AS vmax, min(risk) AS rmin, max(risk) AS rmax,"
    "  bool_or(status = 'deceased') AS dec, bool_or(status = 'active') AS act"
    " FROM (SELECT k, weak, named, reconcile_source_bit(source) AS b, village, status, risk"
    "  FROM (" ROWS_KEYED ") x) r GROUP BY k";

/* The persons with something to report, joined to the registry, with the
 * category tests. $2 loaded sources (bits). */
static const char *const sql_hits =
    "CREATE TEMP TABLE rec_hits ON COMMIT DROP AS"
    " WITH p AS (SELECT g.*, pa.id AS patient_id, pa.org_unit_id AS p_unit, pa.org_path AS p_path,"
    "  pa.status AS p_status, pa.risk_level AS p_risk, pa.name AS p_name,"
    "  CASE WHEN ou.level = 'grid' THEN par.name ELSE ou.name END AS p_village,"
    "  i.patient_id IS NOT NULL AS incident"
    "  FROM rec_persons g LEFT JOIN patients pa ON pa.id_index = g.k AND NOT g.named"
    "  LEFT JOIN org_units ou ON ou.id = pa.org_unit_id"
    "  LEFT JOIN org_units par ON par.id = ou.parent_id"
    "  LEFT JOIN (SELECT DISTINCT patient_id FROM incidents) i ON i.patient_id = pa.id),"
    " f AS (SELECT p.*, patient_id IS NOT NULL AS reg,"
    "  greatest(rmax, p_risk) AS risk_max, least(rmin, p_risk) AS risk_min,"
    "  least(vmin, p_village COLLATE \"C\") AS v_lo,"
    "  greatest(vmax, p_village COLLATE \"C\") AS v_hi,"
    "  dec OR coalesce(p_status = 'deceased', false) AS deceased,"
    "  act OR coalesce(p_status IN " ACTIVE_STATUSES ", false) AS active FROM p),"
    " c AS (SELECT f.*,"
    "  ($1::int & 1) <> 0 AND (present & 1) = 0 AND (reg OR (present & 2) <> 0)"
    "   AND (coalesce(risk_max, 0) >= 3 OR incident) AND NOT deceased AS c_missing_police,"
    "  ($1::int & 2) <> 0 AND (present & 2) = 0 AND (present & 61) <> 0 AND NOT reg"
    "   AS c_unregistered,"
    "  (present & 2) <> 0 AND NOT reg AS c_not_in_registry,"
    "  deceased AND active AS c_deceased,"
    "  coalesce(v_lo <> v_hi, false) AS c_village,"
    "  coalesce(risk_min <> risk_max, false) AS c_risk FROM f)"
    " SELECT * FROM c WHERE c_missing_police OR c_unregistered OR c_not_in_registry"
    "  OR c_deceased OR c_village OR c_risk OR dup";

/* What each source said about each reported person, and which sources
 * list them twice. $1 run. */
static const char *const sql_facts =
    "CREATE TEMP TABLE rec_facts ON COMMIT DROP AS"
    " SELECT k, jsonb_object_agg(source, jsonb_build_object('lines', lines, 'status', status,"
    "  'village', village, 'risk', risk, 'weak', weak)) AS facts,"
    "  coalesce(array_agg(source) FILTER (WHERE n > 1), '{}') AS dups,"
    "  min(name COLLATE \"C\") AS name, min(id_masked COLLATE \"C\") AS id_masked,"
    "  min(birth_date) AS birth_date"
    " FROM (SELECT r.k, r.source, count(*) AS n, jsonb_agg(r.line ORDER BY r.line) AS lines,"
    "  max(r.status) AS status, max(r.village) AS village, max(r.risk) AS risk,"
    "  bool_or(r.weak) AS weak, min(r.name COLLATE \"C\") AS name,"
    "  min(r.id_masked COLLATE \"C\") AS id_masked, min(r.birth_date) AS birth_date"
    "  FROM (" ROWS_KEYED ") r WHERE r.k IN (SELECT k FROM rec_hits)"
    "  GROUP BY r.k, r.source) s GROUP BY k";

/* One finding per category that applies; duplicates one per source. $1
 * run, $2 run unit, $3 run path. */
static const char *const sql_persons =
    "INSERT INTO reconcile_findings (run_id, org_unit_id, org_path, category, person_key,"
    " person_k, weak, patient_id, name, id_masked, birth_date, sources, facts)"
    " SELECT $1::bigint, coalesce(c.p_unit, v.id, $2::bigint), coalesce(c.p_path, v.path, "
    "$3::text),"
    "  x.category,"
    "  CASE WHEN x.src IS NOT NULL THEN x.src || ':' ELSE '' END ||"
    "  CASE WHEN c.named THEN convert_from(c.k, 'UTF8') ELSE 'i:' || encode(c.k, 'hex') END,"
    "  c.k, c.weak, c.patient_id, coalesce(c.p_name, fa.name), fa.id_masked, fa.birth_date,"
    "  ARRAY(SELECT s FROM unnest(" ALL_SOURCES ") s"
    "   WHERE (c.present & reconcile_source_bit(s)) <> 0 AND (x.src IS NULL OR s = x.src))"
    "   || CASE WHEN c.reg AND x.src IS NULL THEN ARRAY['registry'] ELSE '{}' END,"
    "  CASE WHEN c.reg THEN jsonb_build_object('registry', jsonb_build_object('status', c.p_status,"
    "   'village', c.p_village, 'risk', c.p_risk, 'incident', c.incident)) ELSE '{}' END"
    "   || coalesce(fa.facts, '{}')"
    " FROM rec_hits c LEFT JOIN rec_facts fa ON fa.k = c.k"
    " LEFT JOIN rec_villages v ON v.name = c.vmin"
    " CROSS JOIN LATERAL (VALUES ('missing_police', c.c_missing_police, NULL::text),"
    "  ('unregistered', c.c_unregistered, NULL), ('not_in_registry', c.c_not_in_registry, NULL),"
    "  ('deceased_conflict', c.c_deceased, NULL), ('village_conflict', c.c_village, NULL),"
    "  ('risk_conflict', c.c_risk, NULL)) x(category, hit, src) WHERE x.hit"
    " UNION ALL"
    " SELECT $1, coalesce(c.p_unit, v.id, $2), coalesce(c.p_path, v.path, $3), 'duplicate',"
    "  d.src || ':' ||"
    "  CASE WHEN c.named THEN convert_from(c.k, 'UTF8') ELSE 'i:' || encode(c.k, 'hex') END,"
    "  c.k, c.weak, c.patient_id, coalesce(c.p_name, fa.name), fa.id_masked, fa.birth_date,"
    "  ARRAY[d.src], jsonb_build_object(d.src, fa.facts -> d.src)"
    " FROM rec_hits c JOIN rec_facts fa ON fa.k = c.k CROSS JOIN LATERAL unnest(fa.dups) d(src)"
    " LEFT JOIN rec_villages v ON v.name = c.vmin";

/* Invalid ID numbers, and rows with neither an ID nor a name and birth
 * date to match on: one finding per ID (per row when there is none). $1
 * run, $2 unit, $3 path. */
static const char *const sql_invalid =
    "INSERT INTO reconcile_findings (run_id, org_unit_id, org_path, category, person_key,"
    " person_k, name, id_masked, birth_date, sources, facts)"
    " SELECT $1, coalesce(v.id, $2), coalesce(v.path, $3), 'invalid_id',"
    "  'x:' || r.source || ':' || coalesce(encode(r.id_index, 'hex'), 'line' || r.line), "
    "r.id_index,"
    "  r.name, r.id_masked, r.birth_date, ARRAY[r.source],"
    "  jsonb_build_object(r.source, jsonb_build_object('lines', jsonb_build_array(r.line),"
    "   'reason', CASE WHEN r.id_state = 'i' THEN 'invalid' ELSE 'missing' END,"
    "   'status', r.status, 'village', r.village, 'risk', r.risk))"
    " FROM rec_nv r LEFT JOIN rec_villages v ON v.name = r.village"
    " WHERE r.id_state = 'i' OR r.name IS NULL OR r.birth_date IS NULL"
    " ON CONFLICT (run_id, category, person_key) DO UPDATE"
    " SET facts = jsonb_set(reconcile_findings.facts, ARRAY[EXCLUDED.sources[1], 'lines'],"
    "  (reconcile_findings.facts -> EXCLUDED.sources[1] -> 'lines')"
    "  || (EXCLUDED.facts -> EXCLUDED.sources[1] -> 'lines'))";

/* Findings seen in the previous run keep their state (a resolved one that
 * is back opens again); those not seen again are resolved. $1 run, $2
 * previous run. Returns new, persisting, resolved. */
static const char *const sql_diff =
    "WITH carry AS (UPDATE reconcile_findings f SET previous_id = o.id,"
    "  status = CASE WHEN o.status = 'resolved' THEN 'open' ELSE o.status END"
    "  FROM reconcile_findings o WHERE f.run_id = $1 AND o.run_id = $2"
    "  AND o.category = f.category AND o.person_key = f.person_key RETURNING f.id),"
    " gone AS (SELECT o.id, o.status FROM reconcile_findings o WHERE o.run_id = $2"
    "  AND NOT EXISTS (SELECT 1 FROM reconcile_findings f WHERE f.run_id = $1"
    "   AND f.category = o.category AND f.person_key = o.person_key)),"
    " closed AS (UPDATE reconcile_findings o SET status = 'resolved', version = o.version + 1,"
    "  updated_at = now() FROM gone WHERE o.id = gone.id AND gone.status <> 'resolved'"
    "  RETURNING o.id, gone.status AS from_status),"
    " ev AS (INSERT INTO reconcile_finding_events (finding_id, from_status, to_status, note)"
    "  SELECT id, from_status, 'resolved', '比对批次 ' || $1 || ' 未再发现' FROM closed)"
    " SELECT (SELECT count(*) FROM reconcile_findings WHERE run_id = $1) - (SELECT count(*) FROM "
    "carry),"
    "  (SELECT count(*) FROM carry), (SELECT count(*) FROM gone)";

/* The first event of every finding of run $1. */
static const char *const sql_events =
    "INSERT INTO reconcile_finding_events (finding_id, from_status, to_status, note)"
    " SELECT id, NULL, status, CASE WHEN previous_id IS NULL THEN '比对发现'"
    "  ELSE '比对再次发现（上次 ' || previous_id || '）' END"
    " FROM reconcile_findings WHERE run_id = $1";

/* Close the run: summary per category, the diff. $1 run, $2 previous run
 * (or NULL), $3 new, $4 persisting, $5 resolved. */
static const char *const sql_close =
    "UPDATE reconcile_runs SET status = 'done', analysed_at = now(), previous_run_id = $2,"
    " summary = (SELECT jsonb_object_agg(c, coalesce(n, 0)) FROM unnest(ARRAY['missing_police',"
    "  'unregistered', 'not_in_registry', 'deceased_conflict', 'village_conflict',"
    "  'risk_conflict', 'invalid_id', 'duplicate']) c"
    "  LEFT JOIN (SELECT category, count(*) AS n FROM reconcile_findings WHERE run_id = $1"
    "   GROUP BY category) x ON x.category = c),"
    " diff = jsonb_build_object('previous_run_id', $2::bigint, 'new', $3::bigint,"
    "  'persisting', $4::bigint, 'resolved', $5::bigint)"
    " WHERE id = $1";

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int jf_rec_exec(PGconn *pg, const char *sql, int n, const char *const *p, PGresult **out, char *err,
                size_t errlen)
{
    double t0 = now_s();
    PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);

    if (getenv("JF_RECONCILE_TRACE") != NULL)
        fprintf(stderr, "reconcile: %.3f s  %.60s\n", now_s() - t0, sql);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(r);
        snprintf(err, errlen, "%s", m[0] != '\0' ? m : PQerrorMessage(pg));
        PQclear(r);
        return JF_ERR_DB;
    }
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return 0;
}

int jf_rec_analyse(PGconn *pg, long long run_id, const jf_rec_progress *prog, char *err,
                   size_t errlen)
{
    char run[24], mask[16], unit[24], path[256], prev[24] = "", cnt[3][24] = {"0", "0", "0"};
    PGresult *r = NULL;
    int rc;

    err[0] = '\0';
    snprintf(run, sizeof(run), "%lld", run_id);
    const char *p1[] = {run};
    rc = jf_rec_exec(
        pg,
        "SELECT r.org_unit_id, r.org_path, r.status,"
        " (SELECT coalesce(bit_or(reconcile_source_bit(source)), 0) FROM reconcile_sources"
        "  WHERE run_id = r.id),"
        " (SELECT max(id) FROM reconcile_runs o WHERE o.org_unit_id = r.org_unit_id"
        "  AND o.status = 'done' AND o.id < r.id)"
        " FROM reconcile_runs r WHERE r.id = $1 FOR NO KEY UPDATE",
        1, p1, &r, err, errlen);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        snprintf(err, errlen, "no such run");
        return JF_ERR_NOT_FOUND;
    }
    if (strcmp(PQgetvalue(r, 0, 2), "done") == 0 || strcmp(PQgetvalue(r, 0, 3), "0") == 0) {
        snprintf(err, errlen, "%s",
                 strcmp(PQgetvalue(r, 0, 2), "done") == 0 ? "the run was analysed already"
                                                          : "no source is loaded yet");
        PQclear(r);
        return JF_ERR_CONFLICT;
    }
    snprintf(unit, sizeof(unit), "%s", PQgetvalue(r, 0, 0));
    snprintf(path, sizeof(path), "%s", PQgetvalue(r, 0, 1));
    snprintf(mask, sizeof(mask), "%s", PQgetvalue(r, 0, 3));
    if (!PQgetisnull(r, 0, 4))
        snprintf(prev, sizeof(prev), "%s", PQgetvalue(r, 0, 4));
    PQclear(r);
    r = NULL;

    const char *pv[] = {path};
    const char *pm[] = {mask};
    const char *pinv[] = {run, unit, path};
    /* Each step with the name its progress reports (the first of a group
     * names it; NULL: part of the step before). */
    const struct {
        const char *name, *sql;
        int n;
        const char *const *p;
    } steps[] = {
        {"staging", "SET LOCAL work_mem = '512MB'", 0, NULL},
        {NULL, sql_nonvalid, 1, p1},
        {"weak_matches", sql_weak, 1, p1},
        {NULL, "ANALYZE rec_weak", 0, NULL},
        {NULL, sql_villages, 1, pv},
        /* Group by hashing whatever the (shared, often stale) statistics of
         * the staging table say: sorting 3 M rows costs twice as much. The
         * table is not analysed here: ANALYZE would hold a lock that
         * serialises every township's analysis until commit. */
        {"persons", "SET LOCAL enable_sort = off", 0, NULL},
        {NULL, sql_group, 1, p1},
        {NULL, "SET LOCAL enable_sort = on", 0, NULL},
        {NULL, "ANALYZE rec_persons", 0, NULL},
        {"registry", sql_hits, 1, pm},
        {NULL, "ANALYZE rec_hits", 0, NULL},
        {"facts", sql_facts, 1, p1},
        {NULL, "ANALYZE rec_facts", 0, NULL},
        {"findings", sql_persons, 3, pinv},
        {NULL, sql_invalid, 3, pinv},
    };
    int step = 0;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].name != NULL && prog != NULL &&
            prog->fn(prog->ctx, ++step, JF_REC_STEPS, steps[i].name) != 0) {
            snprintf(err, errlen, "cancelled");
            return JF_ERR_CANCELLED;
        }
        if ((rc = jf_rec_exec(pg, steps[i].sql, steps[i].n, steps[i].p, NULL, err, errlen)) != 0)
            return rc;
    }
    if (prog != NULL && prog->fn(prog->ctx, ++step, JF_REC_STEPS, "closing") != 0) {
        snprintf(err, errlen, "cancelled");
        return JF_ERR_CANCELLED;
    }
    if (prev[0] != '\0') {
        const char *pd[] = {run, prev};
        if ((rc = jf_rec_exec(pg, sql_diff, 2, pd, &r, err, errlen)) != 0)
            return rc;
        for (int i = 0; i < 3; i++)
            snprintf(cnt[i], sizeof(cnt[i]), "%s", PQgetvalue(r, 0, i));
        PQclear(r);
        r = NULL;
    } else {
        const char *pc[] = {run};
        if ((rc = jf_rec_exec(pg, "SELECT count(*) FROM reconcile_findings WHERE run_id = $1", 1,
                              pc, &r, err, errlen)) != 0)
            return rc;
        snprintf(cnt[0], sizeof(cnt[0]), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        r = NULL;
    }
    if ((rc = jf_rec_exec(pg, sql_events, 1, p1, NULL, err, errlen)) != 0)
        return rc;
    const char *pcl[] = {run, prev[0] ? prev : NULL, cnt[0], cnt[1], cnt[2]};
    if ((rc = jf_rec_exec(pg, sql_close, 5, pcl, NULL, err, errlen)) != 0)
        return rc;
    /* Staging rows of the unit's earlier runs are no longer needed, nor
     * those of runs abandoned while loading a week ago. */
    const char *pu[] = {unit, run};
    return jf_rec_exec(pg,
                       "DELETE FROM reconcile_rows WHERE run_id IN (SELECT id FROM reconcile_runs"
                       " WHERE (org_unit_id = $1 AND id < $2 AND status = 'done')"
                       " OR (status = 'loading' AND created_at < now() - interval '7 days'))",
                       2, pu, NULL, err, errlen);
}
