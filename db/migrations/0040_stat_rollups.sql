-- Statistics from rollups (issue #19): every calendar period of the current
-- and the previous year — each month, quarter, half-year and the year —
-- answered from facts the worker keeps, exactly and at once.
--
-- The indicators are counts of patients over a period (面访 at least once,
-- the last visit regular, no gap over 92 days…): they do not add up month
-- by month, so what is kept is each patient's facts for every period
-- (stat_patient_rollups: one bit mask per period) and, per org unit and
-- period, the sum of those bits (stat_unit_rollups). The rule itself stays
-- in one place, stat_patient_facts (migration 0015): the rollups are its
-- answers, stored.
--
-- Kept current by stat_refresh() (the worker, every JF_STATS_REFRESH_S):
--   * the patients changed since its last pass (the `changes` log, which
--     every write about a patient feeds) are computed again, for every
--     period, and the unit sums moved by the difference;
--   * on a new day, the periods still running (their end was the last
--     pass's day) are computed again for everyone, and periods that begin
--     today are added; on a new year everything is built again.
-- A reader never waits for it: stat_rollup_counts() takes the stored sums
-- and puts right the patients changed since the last pass (subtract what
-- was stored for them, add what the rule says now), so a write counts in
-- the next answer, not after the next pass.

-- The rule of migration 0015, for some patients only (p_ids; NULL: all of
-- the subtree). The four-argument form keeps its callers.
CREATE FUNCTION stat_patient_facts(p_path text, p_from date, p_to date, p_today date,
                                   p_ids bigint[])
RETURNS TABLE (patient_id bigint, org_unit_id bigint, managed boolean, standard boolean,
               face boolean, regular boolean, medicated boolean, at_home boolean,
               stable_home boolean)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT least(p_to, p_today) AS e),
    reg AS (
        SELECT p.id, p.org_unit_id, greatest(p_from, p.registered_on) AS s, b.e
          FROM (SELECT id, org_unit_id, org_path, status, registered_on FROM patients
                 WHERE p_ids IS NULL
                UNION ALL
                -- apart, so that a reader's few changed patients are found by id
                SELECT id, org_unit_id, org_path, status, registered_on FROM patients
                 WHERE p_ids IS NOT NULL AND id = ANY (p_ids)) p, b
         WHERE starts_with(p.org_path, p_path)
           AND p.status NOT IN ('suspected', 'ruled_out')
           AND p.registered_on <= b.e
           AND (p.status NOT IN ('deceased', 'deregistered')
                OR coalesce(stat_closed_on(p.id), '-infinity'::date) > b.e)
    )
    SELECT r.id, r.org_unit_id,
           v.n > 0 OR h.in_hosp,
           v.n >= ((extract(year FROM r.e) * 12 + extract(month FROM r.e))
                   - (extract(year FROM r.s) * 12 + extract(month FROM r.s)) + 3)::int / 3
             AND g.worst <= 92,
           v.face,
           v.last_compliance = 'regular',
           v.last_compliance IN ('regular', 'intermittent') OR h.in_hosp,
           NOT h.in_hosp,
           NOT h.in_hosp AND v.last_class = 'stable'
      FROM reg r
      CROSS JOIN LATERAL (
          SELECT EXISTS (SELECT 1 FROM hospitalisations x WHERE x.patient_id = r.id
                          AND x.admitted_on <= r.e
                          AND (x.discharged_on IS NULL OR x.discharged_on > r.e)) AS in_hosp) h
      CROSS JOIN LATERAL (
          SELECT count(*) AS n,
                 coalesce(bool_or(f.mode IN ('clinic', 'home')), false) AS face,
                 (array_agg(f.compliance ORDER BY f.visit_date DESC, f.id DESC))[1] AS last_compliance,
                 (array_agg(f.class ORDER BY f.visit_date DESC, f.id DESC))[1] AS last_class
            FROM follow_ups f
           WHERE f.patient_id = r.id AND f.reached AND f.visit_date BETWEEN r.s AND r.e) v
      CROSS JOIN LATERAL (
          SELECT coalesce(max(CASE WHEN d.b - d.a > 92
                                   THEN d.b - d.a - stat_hosp_days(r.id, d.a, d.b)
                                   ELSE d.b - d.a END), 0) AS worst
            FROM (SELECT lag(t.d) OVER (ORDER BY t.d) AS a, t.d AS b
                    FROM (SELECT r.s AS d
                          UNION ALL
                          SELECT f.visit_date FROM follow_ups f
                           WHERE f.patient_id = r.id AND f.reached
                             AND f.visit_date BETWEEN r.s AND r.e
                          UNION ALL
                          SELECT r.e) t) d
           WHERE d.a IS NOT NULL) g
$$;

CREATE OR REPLACE FUNCTION stat_patient_facts(p_path text, p_from date, p_to date, p_today date)
RETURNS TABLE (patient_id bigint, org_unit_id bigint, managed boolean, standard boolean,
               face boolean, regular boolean, medicated boolean, at_home boolean,
               stable_home boolean)
LANGUAGE sql STABLE AS $$
    SELECT * FROM stat_patient_facts(p_path, p_from, p_to, p_today, NULL)
$$;

-- The same for a reader's few changed patients, planned for those ids:
-- inlined with the ids unknown when planned, the planner costed every
-- patient of the subtree and hashed all hospital stays (150 ms at 1M).
CREATE FUNCTION stat_patient_facts_of(p_path text, p_from date, p_to date, p_today date,
                                      p_ids bigint[])
RETURNS TABLE (patient_id bigint, org_unit_id bigint, managed boolean, standard boolean,
               face boolean, regular boolean, medicated boolean, at_home boolean,
               stable_home boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE 'SELECT * FROM stat_patient_facts($1, $2, $3, $4, $5)'
        USING p_path, p_from, p_to, p_today, p_ids;
END $$;

-- The facts as one bit mask per patient, and the metric each bit counts.
CREATE FUNCTION stat_rollup_metrics() RETURNS TABLE (metric text, flag integer)
LANGUAGE sql IMMUTABLE AS $$
    VALUES ('registered', 1), ('managed', 2), ('standard', 4), ('face', 8), ('regular', 16),
           ('medicated', 32), ('at_home', 64), ('stable_home', 128)
$$;

CREATE FUNCTION stat_patient_mask(managed boolean, standard boolean, face boolean,
                                  regular boolean, medicated boolean, at_home boolean,
                                  stable_home boolean) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT (1 | CASE WHEN managed THEN 2 ELSE 0 END | CASE WHEN standard THEN 4 ELSE 0 END
              | CASE WHEN face THEN 8 ELSE 0 END | CASE WHEN regular THEN 16 ELSE 0 END
              | CASE WHEN medicated THEN 32 ELSE 0 END | CASE WHEN at_home THEN 64 ELSE 0 END
              | CASE WHEN stable_home THEN 128 ELSE 0 END)::smallint
$$;

-- The periods kept: every month, quarter, half-year and year of the
-- current and the previous year that has begun by the pass's day, numbered
-- in order of their first day (a new day only adds periods at the end).
CREATE TABLE stat_rollup_periods (
    idx          smallint PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('month', 'quarter', 'half', 'year')),
    period_from  date NOT NULL,
    period_to    date NOT NULL,
    UNIQUE (period_from, period_to)
);

CREATE FUNCTION stat_calendar_periods(p_today date)
RETURNS TABLE (idx smallint, kind text, period_from date, period_to date)
LANGUAGE sql STABLE AS $$
    WITH k(kind, months) AS (VALUES ('month', 1), ('quarter', 3), ('half', 6), ('year', 12)),
    p AS (SELECT k.kind, (make_date(y, 1, 1) + make_interval(months => m))::date AS f, k.months
            FROM k, generate_series(extract(year FROM p_today)::int - 1,
                                    extract(year FROM p_today)::int) y,
                 generate_series(0, 11) m
           WHERE m % k.months = 0)
    SELECT (row_number() OVER (ORDER BY p.f, p.months))::smallint, p.kind, p.f,
           (p.f + make_interval(months => p.months) - interval '1 day')::date
      FROM p WHERE p.f <= p_today
$$;

-- Per patient on the register in at least one period: its unit and one
-- mask per period (index idx; 0: not on the register then).
CREATE TABLE stat_patient_rollups (
    patient_id   bigint PRIMARY KEY,
    org_unit_id  bigint NOT NULL,
    bits         smallint[] NOT NULL
);
CREATE INDEX stat_patient_rollups_unit ON stat_patient_rollups (org_unit_id);

-- Per unit (the patients' own), period and metric: how many patients.
CREATE TABLE stat_unit_rollups (
    org_unit_id  bigint NOT NULL,
    idx          smallint NOT NULL,
    metric       text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (org_unit_id, idx, metric)
);

-- The pass's state beside the cache's: the year the periods belong to, and
-- where in the changes log the last pass stopped (every change below that
-- transaction id is in the rollups).
ALTER TABLE stat_refresh_log
    ADD COLUMN rollup_year integer,
    ADD COLUMN change_xmin xid8;

-- The worker reads the log by transaction id.
CREATE INDEX changes_patient_xid ON changes (xid) WHERE kind = 'patient';

-- The masks of patients p_ids (NULL: everyone) for periods p_idx, as of
-- p_today: (patient, unit, idx, mask) for the patients on the register in
-- each period.
CREATE FUNCTION stat_rollup_masks(p_ids bigint[], p_idx smallint[], p_today date)
RETURNS TABLE (patient_id bigint, org_unit_id bigint, idx smallint, mask smallint)
LANGUAGE sql STABLE AS $$
    SELECT f.patient_id, f.org_unit_id, r.idx,
           stat_patient_mask(f.managed, f.standard, f.face, f.regular, f.medicated, f.at_home,
                             f.stable_home)
      FROM stat_rollup_periods r
     CROSS JOIN LATERAL stat_patient_facts('/', r.period_from, r.period_to, p_today, p_ids) f
     WHERE r.idx = ANY (p_idx)
$$;

-- Patients p_ids computed again for every period; the unit sums move by
-- the difference.
CREATE FUNCTION stat_rollup_patients(p_ids bigint[], p_today date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n_periods integer := (SELECT count(*) FROM stat_rollup_periods);
    all_idx smallint[] := ARRAY(SELECT idx FROM stat_rollup_periods ORDER BY idx);
BEGIN
    WITH m AS (SELECT * FROM stat_rollup_masks(p_ids, all_idx, p_today)),
    who AS (SELECT m.patient_id, min(m.org_unit_id) AS org_unit_id FROM m GROUP BY 1),
    new AS (SELECT w.patient_id, w.org_unit_id,
                   array_agg(coalesce(m.mask, 0)::smallint ORDER BY i) AS bits
              FROM who w CROSS JOIN generate_series(1, n_periods) i
              LEFT JOIN m ON m.patient_id = w.patient_id AND m.idx = i
             GROUP BY 1, 2),
    old AS (SELECT * FROM stat_patient_rollups WHERE patient_id = ANY (p_ids)),
    up AS (INSERT INTO stat_patient_rollups AS t SELECT * FROM new
           ON CONFLICT (patient_id) DO UPDATE SET org_unit_id = excluded.org_unit_id,
                                                  bits = excluded.bits),
    gone AS (DELETE FROM stat_patient_rollups t WHERE t.patient_id = ANY (p_ids)
              AND NOT EXISTS (SELECT 1 FROM new WHERE new.patient_id = t.patient_id)),
    d AS (SELECT org_unit_id, bits, -1 AS sign FROM old
          UNION ALL SELECT org_unit_id, bits, 1 FROM new),
    sums AS (SELECT d.org_unit_id, b.i::smallint AS idx, k.metric, sum(d.sign) AS n
               FROM d CROSS JOIN LATERAL unnest(d.bits) WITH ORDINALITY b(mask, i)
               JOIN stat_rollup_metrics() k ON b.mask & k.flag <> 0
              GROUP BY 1, 2, 3)
    INSERT INTO stat_unit_rollups AS u SELECT * FROM sums WHERE sums.n <> 0
    ON CONFLICT (org_unit_id, idx, metric) DO UPDATE SET n = u.n + excluded.n;
END $$;

-- Everyone computed again for periods p_idx (the others kept), and the
-- unit sums counted again from the masks.
CREATE FUNCTION stat_rollup_everyone(p_idx smallint[], p_today date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n_periods integer := (SELECT count(*) FROM stat_rollup_periods);
BEGIN
    CREATE TEMP TABLE stat_new ON COMMIT DROP AS
        SELECT patient_id, min(org_unit_id) AS org_unit_id,
               array_agg(idx) AS idx, array_agg(mask) AS mask
          FROM stat_rollup_masks(NULL, p_idx, p_today) GROUP BY patient_id;
    CREATE TEMP TABLE stat_next ON COMMIT DROP AS
        SELECT coalesce(n.patient_id, o.patient_id) AS patient_id,
               coalesce(n.org_unit_id, o.org_unit_id) AS org_unit_id,
               ARRAY(SELECT CASE WHEN i = ANY (p_idx)
                                 THEN coalesce(n.mask[array_position(n.idx, i::smallint)], 0)
                                 ELSE coalesce(o.bits[i], 0) END::smallint
                       FROM generate_series(1, n_periods) i) AS bits
          FROM stat_new n FULL JOIN stat_patient_rollups o ON o.patient_id = n.patient_id;
    DELETE FROM stat_patient_rollups;
    INSERT INTO stat_patient_rollups
        SELECT * FROM stat_next WHERE EXISTS (SELECT 1 FROM unnest(bits) b WHERE b <> 0);
    DELETE FROM stat_unit_rollups;
    INSERT INTO stat_unit_rollups
        SELECT r.org_unit_id, b.i::smallint, k.metric, count(*)
          FROM stat_patient_rollups r CROSS JOIN LATERAL unnest(r.bits) WITH ORDINALITY b(mask, i)
          JOIN stat_rollup_metrics() k ON b.mask & k.flag <> 0
         GROUP BY 1, 2, 3;
    DROP TABLE stat_new, stat_next;
END $$;

-- The state counts alone stay a materialised view (the period counts are
-- the rollups now), so it loses its year.
DROP MATERIALIZED VIEW stat_unit_counts;
CREATE MATERIALIZED VIEW stat_unit_counts AS
    SELECT s.org_unit_id, s.metric, s.key, s.n FROM stat_state_counts('/', stat_today(), now()) s;
CREATE UNIQUE INDEX stat_unit_counts_key ON stat_unit_counts (org_unit_id, metric, key);

-- The worker's pass: the changed patients, a new day's running periods, a
-- new year's build, then the state counts. False when another session is
-- at it (advisory lock).
CREATE OR REPLACE FUNCTION stat_refresh() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    started timestamptz := clock_timestamp();
    today date := stat_today();
    upto xid8 := pg_snapshot_xmin(pg_current_snapshot());
    log stat_refresh_log;
    running smallint[];
    changed bigint[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('stat_unit_counts')) THEN
        RETURN false;
    END IF;
    SELECT * INTO log FROM stat_refresh_log;
    IF log.rollup_year IS DISTINCT FROM extract(year FROM today)::int
       OR log.change_xmin IS NULL OR log.as_of > today THEN
        DELETE FROM stat_rollup_periods;
        INSERT INTO stat_rollup_periods SELECT * FROM stat_calendar_periods(today);
        PERFORM stat_rollup_everyone(ARRAY(SELECT idx FROM stat_rollup_periods), today);
    ELSE
        changed := ARRAY(SELECT DISTINCT entity_id FROM changes
                          WHERE kind = 'patient' AND xid >= log.change_xmin AND xid < upto);
        IF cardinality(changed) > 0 THEN
            PERFORM stat_rollup_patients(changed, today);
        END IF;
        IF log.as_of < today THEN
            -- Running periods: those whose end the last pass's day was.
            running := ARRAY(SELECT idx FROM stat_rollup_periods WHERE period_to >= log.as_of);
            INSERT INTO stat_rollup_periods
                SELECT c.* FROM stat_calendar_periods(today) c
                 WHERE NOT EXISTS (SELECT 1 FROM stat_rollup_periods r WHERE r.idx = c.idx);
            running := running || ARRAY(SELECT idx FROM stat_rollup_periods
                                         WHERE period_from > log.as_of);
            PERFORM stat_rollup_everyone(running, today);
        END IF;
    END IF;
    REFRESH MATERIALIZED VIEW CONCURRENTLY stat_unit_counts;
    UPDATE stat_refresh_log SET refreshed_at = started, as_of = today,
           seconds = extract(epoch FROM clock_timestamp() - started),
           rollup_year = extract(year FROM today)::int, change_xmin = upto;
    RETURN true;
END $$;

-- The period counts of the subtree at p_path for [p_from, p_to] seen on
-- p_today, from the rollups, or NULL when they do not hold that period as
-- of that day (not a calendar period kept, a running period whose day the
-- last pass was not, or no pass since yesterday: the state counts that go
-- with them would be older). The patients changed since the last pass are
-- put right from the records.
CREATE FUNCTION stat_rollup_counts(p_path text, p_from date, p_to date, p_today date)
RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT r.idx FROM stat_refresh_log l
                 JOIN stat_rollup_periods r ON r.period_from = p_from AND r.period_to = p_to
                WHERE l.rollup_year IS NOT NULL AND l.change_xmin IS NOT NULL
                  AND least(p_to, l.as_of) = least(p_to, p_today) AND l.as_of >= p_today - 1),
    pend AS (SELECT coalesce(array_agg(DISTINCT c.entity_id), '{}') AS ids FROM changes c
              WHERE EXISTS (SELECT 1 FROM s) AND c.kind = 'patient'
                AND c.xid >= (SELECT change_xmin FROM stat_refresh_log)
                AND (starts_with(c.org_path, p_path) OR starts_with(c.old_path, p_path))),
    x AS (SELECT u.org_unit_id, u.metric, u.n
            FROM stat_unit_rollups u JOIN s ON u.idx = s.idx
            JOIN org_units o ON o.id = u.org_unit_id
           WHERE starts_with(o.path, p_path)
          UNION ALL
          SELECT r.org_unit_id, k.metric, -1
            FROM pend, s, stat_patient_rollups r
            JOIN org_units o ON o.id = r.org_unit_id
            JOIN stat_rollup_metrics() k ON true
           WHERE r.patient_id = ANY (pend.ids) AND starts_with(o.path, p_path)
             AND r.bits[s.idx] & k.flag <> 0
          UNION ALL
          SELECT f.org_unit_id, k.metric, 1
            FROM pend, stat_patient_facts_of(p_path, p_from, p_to, p_today, pend.ids) f
            JOIN stat_rollup_metrics() k
              ON stat_patient_mask(f.managed, f.standard, f.face, f.regular, f.medicated,
                                   f.at_home, f.stable_home) & k.flag <> 0)
    SELECT CASE WHEN EXISTS (SELECT 1 FROM s) THEN
           (SELECT coalesce(array_agg(ROW(g.org_unit_id, g.metric, '', g.n)::stat_count), '{}')
              FROM (SELECT org_unit_id, metric, sum(n)::bigint AS n FROM x GROUP BY 1, 2) g
             WHERE g.n <> 0) END
$$;

-- The state counts of the subtree at p_path as of the worker's last pass
-- (they replace stat_cached_counts, whose years are gone).
DROP FUNCTION stat_cached_counts(text, integer);
CREATE FUNCTION stat_cached_state(p_path text) RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(s.org_unit_id, s.metric, s.key, s.n)::stat_count), '{}')
      FROM stat_unit_counts s JOIN org_units o ON o.id = s.org_unit_id
     WHERE starts_with(o.path, p_path)
$$;

-- Written by stat_refresh only (it runs as the owner).
REVOKE INSERT, UPDATE ON stat_unit_counts, stat_rollup_periods, stat_patient_rollups,
    stat_unit_rollups FROM jingfang_app;
