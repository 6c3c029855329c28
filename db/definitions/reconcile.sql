-- 三网 comparison jobs [R-3NET-2]: their JSON and the end of a run (new
-- findings to the units that own them).
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

CREATE OR REPLACE FUNCTION reconcile_source_bit(source text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE source WHEN 'police' THEN 1 WHEN 'health' THEN 2 WHEN 'grid' THEN 4
                       WHEN 'drug_purchase' THEN 8 WHEN 'special_outpatient' THEN 16
                       WHEN 'reimbursement' THEN 32 ELSE 0 END
$$;

-- A job as the API shows it (what is not known yet left out). running:
-- queued, and its runner's backend is at it now.
CREATE OR REPLACE FUNCTION reconcile_job_json(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('id', j.id, 'run_id', j.run_id,
        'org_unit_id', j.org_unit_id,
        'state', CASE WHEN j.state = 'queued' AND EXISTS (SELECT 1 FROM pg_stat_activity a
                           WHERE a.pid = p.runner_pid AND p.started_at IS NOT NULL)
                      THEN 'running' ELSE j.state END,
        'cancel_requested', coalesce(p.cancel_requested, false),
        'progress', CASE WHEN p.started_at IS NOT NULL THEN jsonb_build_object(
            'step', p.step, 'step_no', p.step_no, 'steps', p.steps,
            'percent', CASE WHEN j.state = 'done' THEN 100
                            ELSE 100 * greatest(p.step_no - 1, 0) / greatest(p.steps, 1) END,
            'rows', p.rows, 'started_at', p.started_at, 'updated_at', p.updated_at) END,
        'error', j.error, 'new_findings', j.new_findings,
        'created_at', j.created_at, 'finished_at', j.finished_at))
      FROM reconcile_jobs j LEFT JOIN reconcile_job_progress p ON p.job_id = j.id
     WHERE j.id = p_id
$$;

-- The end of a job whose analysis succeeded, in the runner's transaction:
-- per unit the findings new in this run; one event `reconcile.findings`
-- per such unit to the webhooks of the agencies whose area holds it (the
-- township's police station, 综治中心, clinic… and the county's).
CREATE OR REPLACE FUNCTION reconcile_job_finish(p_job bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_run bigint := (SELECT run_id FROM reconcile_jobs WHERE id = p_job);
    v_new jsonb;
BEGIN
    CREATE TEMP TABLE rec_new ON COMMIT DROP AS
        SELECT f.org_unit_id, f.org_path, count(*) AS n,
               jsonb_object_agg(f.category, f.c) AS categories
          FROM (SELECT org_unit_id, org_path, category, count(*) AS c FROM reconcile_findings
                 WHERE run_id = v_run AND previous_id IS NULL GROUP BY 1, 2, 3) f
         GROUP BY 1, 2;
    SELECT coalesce(jsonb_object_agg(org_unit_id::text, n), '{}') INTO v_new FROM rec_new;
    WITH ev AS (
        INSERT INTO outbox (topic, payload)
        SELECT 'reconcile.findings', jsonb_build_object('run_id', v_run, 'job_id', p_job,
               'org_unit_id', n.org_unit_id, 'new', n.n, 'categories', n.categories)
          FROM rec_new n
        RETURNING id, (payload->>'org_unit_id')::bigint AS unit)
    INSERT INTO deliveries (outbox_id, endpoint_id)
    SELECT ev.id, w.id FROM ev
      JOIN org_units u ON u.id = ev.unit
      JOIN agencies a ON true
      JOIN org_units o ON o.id = a.org_unit_id AND starts_with(u.path, o.path)
      JOIN webhook_endpoints w ON w.agency_id = a.id AND w.active;
    UPDATE reconcile_jobs SET state = 'done', finished_at = now(), new_findings = v_new
     WHERE id = p_job;
    DROP TABLE rec_new;
END $$;
