-- 三网 analysis as a background job (issue #19): POST …/analyse queues a
-- job; a runner (jingfang-worker, or the API's own runner thread) takes the
-- oldest queued one with FOR NO KEY UPDATE SKIP LOCKED and keeps its row locked in
-- the transaction that writes the findings, so two runners never run one
-- job, a runner that dies leaves it queued for the next (the lock goes with
-- its connection), and the findings, the run's close and the job's end
-- commit together. At most one queued job per run: two analyses of a run
-- cannot overlap.
CREATE TABLE reconcile_jobs (
    id            bigserial PRIMARY KEY,
    run_id        bigint NOT NULL REFERENCES reconcile_runs(id),
    org_unit_id   bigint NOT NULL REFERENCES org_units(id),
    org_path      text COLLATE "C" NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'done', 'failed', 'cancelled')),
    requested_by  bigint REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    error         text CHECK (length(error) <= 500),
    new_findings  jsonb        -- per unit id: findings not seen in the previous run
);
CREATE UNIQUE INDEX reconcile_jobs_one_queued ON reconcile_jobs (run_id) WHERE state = 'queued';
CREATE INDEX reconcile_jobs_queued ON reconcile_jobs (id) WHERE state = 'queued';
CREATE INDEX reconcile_jobs_run ON reconcile_jobs (run_id, id);

-- Progress and the cancel request, beside the job row (which the runner
-- holds locked): written by the runner on a second connection as each step
-- starts, read by whoever polls. runner_pid: the backend doing the work,
-- for pg_cancel_backend.
CREATE TABLE reconcile_job_progress (
    job_id            bigint PRIMARY KEY REFERENCES reconcile_jobs(id),
    step              text NOT NULL,
    step_no           integer NOT NULL,
    steps             integer NOT NULL,
    rows              bigint NOT NULL,
    runner_pid        integer,
    started_at        timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    cancel_requested  boolean NOT NULL DEFAULT false
);

-- A queued job wakes the worker (LISTEN jf_outbox, as deliveries do).
CREATE TRIGGER reconcile_jobs_wake AFTER INSERT ON reconcile_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake();

-- A job as the API shows it (what is not known yet left out). running:
-- queued, and its runner's backend is at it now.
CREATE FUNCTION reconcile_job_json(p_id bigint) RETURNS jsonb
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
CREATE FUNCTION reconcile_job_finish(p_job bigint) RETURNS void
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
