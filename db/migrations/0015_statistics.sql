-- Statistics (issue #8): the indicators of DOMAIN.md "Statistics and reports"
-- per org unit and period, computed by one SQL function per patient
-- (stat_patient_facts) and aggregated into counts per org unit. The counts
-- of the current and the previous calendar year, and the current-state
-- counts, are kept in a materialised view (stat_unit_counts) that
-- jingfang-worker refreshes CONCURRENTLY (never blocking writers); any
-- other period is computed live from the same function.

-- Today as the application sees it: China Standard Time.
CREATE FUNCTION stat_today() RETURNS date
LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date $$;

-- Hospital days inside (a, b] for patient p: the days d with a < d <= b
-- and admitted_on < d <= discharged_on (an open stay runs on). Months in
-- hospital do not count as gaps (规范管理).
CREATE FUNCTION stat_hosp_days(p bigint, a date, b date) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(greatest(0, least(b, coalesce(h.discharged_on, b))
                                    - greatest(a, h.admitted_on))), 0)::integer
      FROM hospitalisations h
     WHERE h.patient_id = p AND h.admitted_on < b
       AND (h.discharged_on IS NULL OR h.discharged_on > a)
$$;

-- The date a patient left the register (死亡 or 销案), from the status events.
CREATE FUNCTION stat_closed_on(p bigint) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT max(e.event_date) FROM patient_events e
     WHERE e.patient_id = p AND e.to_status IN ('deceased', 'deregistered')
$$;

-- Per patient of the subtree at path, for the period [p_from, p_to] seen on
-- p_today; E = least(p_to, p_today) is the end that counts, S =
-- greatest(p_from, registered_on) the start.
--   registered  在册: diagnosed, registered by E, not deceased/deregistered by E
--   managed     在管: a reached follow-up in [S, E], or in hospital on E
--   standard    规范管理: reached follow-ups in [S, E] never more than 92 days
--               apart (hospital days not counted), counting S → first and
--               last → E, and at least ceil(months of [S, E] / 3) of them
--               (months: calendar months touched)
--   face        面访: a reached clinic or home follow-up in [S, E]
--   regular     规律服药: the last reached follow-up in [S, E] says regular
--   medicated   服药: … regular or intermittent, or in hospital on E
--   at_home     居家: registered and not in hospital on E
--   stable_home 居家稳定: at home and the last reached follow-up was stable
-- Only patients registered on E are returned.
CREATE FUNCTION stat_patient_facts(p_path text, p_from date, p_to date, p_today date)
RETURNS TABLE (patient_id bigint, org_unit_id bigint, managed boolean, standard boolean,
               face boolean, regular boolean, medicated boolean, at_home boolean,
               stable_home boolean)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT least(p_to, p_today) AS e),
    reg AS (
        SELECT p.id, p.org_unit_id, greatest(p_from, p.registered_on) AS s, b.e
          FROM patients p, b
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
      -- The longest gap: between consecutive anchors (S, each reached visit, E);
      -- hospital days are only counted out of a gap that could exceed 92.
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

-- Period counts per org unit (the patients' own units), in the shape every
-- statistics source shares: (org_unit_id, metric, key, n). Metrics of a
-- period: registered, managed, standard, face, regular, medicated, at_home,
-- stable_home (key '').
CREATE FUNCTION stat_period_counts(p_path text, p_from date, p_to date, p_today date)
RETURNS TABLE (org_unit_id bigint, metric text, key text, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT f.org_unit_id, m.metric, '', count(*) FILTER (WHERE m.hit)
      FROM stat_patient_facts(p_path, p_from, p_to, p_today) f
     CROSS JOIN LATERAL (VALUES ('registered', true), ('managed', f.managed),
                                ('standard', f.standard), ('face', f.face),
                                ('regular', f.regular), ('medicated', f.medicated),
                                ('at_home', f.at_home), ('stable_home', f.stable_home))
                        AS m(metric, hit)
     GROUP BY f.org_unit_id, m.metric
$$;

-- The current state per org unit, as of p_now: patients on the register by
-- risk level, colour and key category; follow-ups overdue (next_due before
-- p_today); notifications open (a recipient has not acknowledged) and, of
-- those, past their deadline.
CREATE FUNCTION stat_state_counts(p_path text, p_today date, p_now timestamptz)
RETURNS TABLE (org_unit_id bigint, metric text, key text, n bigint)
LANGUAGE sql STABLE AS $$
    WITH p AS (
        SELECT p.org_unit_id, p.risk_level, p.colour, p.key_flags, p.next_due
          FROM patients p
         WHERE starts_with(p.org_path, p_path)
           AND p.status IN ('registered', 'in_care', 'hospitalised', 'lost', 'moved_out'))
    SELECT org_unit_id, 'on_register', '', count(*) FROM p GROUP BY 1
    UNION ALL
    SELECT org_unit_id, 'risk', coalesce(risk_level::text, 'unknown'), count(*) FROM p GROUP BY 1, 3
    UNION ALL
    SELECT org_unit_id, 'colour', coalesce(colour, 'unknown'), count(*) FROM p GROUP BY 1, 3
    UNION ALL
    SELECT p.org_unit_id, 'key_category', k.flag, count(*)
      FROM p CROSS JOIN LATERAL jsonb_array_elements_text(p.key_flags) k(flag) GROUP BY 1, 3
    UNION ALL
    SELECT org_unit_id, 'overdue_followups', '', count(*) FROM p
     WHERE next_due < p_today GROUP BY 1
    UNION ALL
    SELECT n.org_unit_id, m.metric, '', count(*)
      FROM notifications n
     CROSS JOIN LATERAL (VALUES ('notifications_open'), ('notifications_overdue')) m(metric)
     WHERE starts_with(n.org_path, p_path)
       AND EXISTS (SELECT 1 FROM notification_recipients r
                    WHERE r.notification_id = n.id AND r.acknowledged_at IS NULL)
       AND (m.metric = 'notifications_open' OR n.deadline_at < p_now)
     GROUP BY 1, 2
$$;

-- The cache: period counts of the current and the previous calendar year
-- (year > 0, E = the refresh day within the current year) and the current
-- state (year 0), as of the last refresh. Refreshed CONCURRENTLY by
-- jingfang-worker through stat_refresh(): readers and writers are never
-- blocked; the dashboard says how old its figures are (as_of).
CREATE MATERIALIZED VIEW stat_unit_counts AS
    SELECT c.org_unit_id, y.year, c.metric, c.key, c.n
      FROM (SELECT extract(year FROM stat_today())::int - k AS year FROM generate_series(0, 1) k) y
     CROSS JOIN LATERAL stat_period_counts('/', make_date(y.year, 1, 1), make_date(y.year, 12, 31),
                                           stat_today()) c
    UNION ALL
    SELECT s.org_unit_id, 0, s.metric, s.key, s.n FROM stat_state_counts('/', stat_today(), now()) s;

CREATE UNIQUE INDEX stat_unit_counts_key ON stat_unit_counts (org_unit_id, year, metric, key);

-- When the cache was last refreshed (one row).
CREATE TABLE stat_refresh_log (
    only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    refreshed_at  timestamptz NOT NULL,
    as_of         date NOT NULL,
    seconds       double precision NOT NULL
);
INSERT INTO stat_refresh_log (refreshed_at, as_of, seconds) VALUES (now(), stat_today(), 0);

-- Refresh the cache unless another session is doing it (advisory lock):
-- returns false when skipped.
CREATE FUNCTION stat_refresh() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('stat_unit_counts')) THEN
        RETURN false;
    END IF;
    REFRESH MATERIALIZED VIEW CONCURRENTLY stat_unit_counts;
    UPDATE stat_refresh_log SET refreshed_at = started, as_of = stat_today(),
           seconds = extract(epoch FROM clock_timestamp() - started);
    RETURN true;
END $$;

-- One count of the shape every statistics source shares.
CREATE TYPE stat_count AS (org_unit_id bigint, metric text, key text, n bigint);

-- A rate in per cent (two decimals), NULL when the denominator is 0.
CREATE FUNCTION stat_pct(num text, den bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN den > 0 THEN round(100.0 * coalesce(num::bigint, 0) / den, 2) END
$$;

-- The effective resident population of a unit: its own figure, or the sum
-- over its children when it has none.
CREATE FUNCTION stat_population(p_unit bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(o.population::bigint,
                    (SELECT sum(stat_population(c.id))::bigint FROM org_units c
                      WHERE c.parent_id = o.id))
      FROM org_units o WHERE o.id = p_unit
$$;

-- One block of figures (the unit or one child) as JSON. p_detail:
-- 'full' (officials, doctors, admins), 'police' (counts of risk, colour,
-- key categories, notifications; no clinical rates), 'civil_affairs'
-- (counts on the register and key categories only).
CREATE FUNCTION stat_block_json(p_unit bigint, c stat_count[], p_detail text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH x AS (SELECT (u).metric, (u).key, sum((u).n)::bigint AS n FROM unnest(c) u GROUP BY 1, 2),
    v AS (SELECT coalesce((SELECT n FROM x WHERE metric = 'registered'), 0) AS registered,
                 coalesce((SELECT n FROM x WHERE metric = 'on_register'), 0) AS on_register,
                 stat_population(p_unit) AS population),
    m AS (SELECT jsonb_object_agg(metric, n) AS o FROM x WHERE key = ''),
    grp AS (SELECT jsonb_object_agg(metric, o) AS o
              FROM (SELECT metric, jsonb_object_agg(key, n) AS o FROM x WHERE key <> ''
                     GROUP BY metric) g)
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'on_register', v.on_register,
        'population', v.population,
        'registered', v.registered,
        'managed', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'managed')::bigint, 0) END,
        'standard', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'standard')::bigint, 0) END,
        'face', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'face')::bigint, 0) END,
        'regular', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'regular')::bigint, 0) END,
        'medicated', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'medicated')::bigint, 0) END,
        'at_home', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'at_home')::bigint, 0) END,
        'stable_home', CASE WHEN p_detail = 'full' THEN coalesce((m.o->>'stable_home')::bigint, 0) END,
        'rates', CASE WHEN p_detail = 'full' THEN jsonb_build_object(
            'standard_management', stat_pct(m.o->>'standard', v.registered),
            'face_to_face', stat_pct(m.o->>'face', v.registered),
            'regular_medication', stat_pct(m.o->>'regular', v.registered),
            'medication', stat_pct(m.o->>'medicated', v.registered),
            'in_care', stat_pct(m.o->>'managed', v.registered),
            'home_stable', stat_pct(m.o->>'stable_home', (m.o->>'at_home')::bigint))
          END,
        'reported_prevalence_permille', CASE WHEN v.population > 0
            THEN round(1000.0 * v.registered / v.population, 2) END,
        'risk', CASE WHEN p_detail <> 'civil_affairs' THEN coalesce(grp.o->'risk', '{}') END,
        'colour', CASE WHEN p_detail <> 'civil_affairs' THEN coalesce(grp.o->'colour', '{}') END,
        'key_categories', coalesce(grp.o->'key_category', '{}'),
        'overdue_followups', CASE WHEN p_detail = 'full'
            THEN coalesce((m.o->>'overdue_followups')::bigint, 0) END,
        'notifications_open', CASE WHEN p_detail <> 'civil_affairs'
            THEN coalesce((m.o->>'notifications_open')::bigint, 0) END,
        'notifications_overdue', CASE WHEN p_detail <> 'civil_affairs'
            THEN coalesce((m.o->>'notifications_overdue')::bigint, 0) END))
      FROM v, m, grp
$$;

-- The dashboard of unit p_unit from counts c (of its whole subtree): the
-- totals, one block per child unit (the breakdown), and the patients
-- attached to the unit itself (direct) when there are any. Further sources
-- (e.g. assistance totals) add their rows to c or a member here.
CREATE FUNCTION stat_dashboard_json(p_unit bigint, c stat_count[], p_detail text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH u AS (SELECT id, code, name, level, path FROM org_units WHERE id = p_unit),
    r AS (SELECT x.org_unit_id, x.metric, x.key, x.n, o.path
            FROM unnest(c) x JOIN org_units o ON o.id = x.org_unit_id),
    kids AS (SELECT k.id, k.code, k.name, k.level,
                    array_agg(ROW(r.org_unit_id, r.metric, r.key, r.n)::stat_count)
                        FILTER (WHERE r.org_unit_id IS NOT NULL) AS cc
               FROM org_units k JOIN u ON k.parent_id = u.id
               LEFT JOIN r ON starts_with(r.path, k.path)
              GROUP BY k.id, k.code, k.name, k.level),
    own AS (SELECT array_agg(ROW(r.org_unit_id, r.metric, r.key, r.n)::stat_count) AS cc
              FROM r JOIN u ON r.org_unit_id = u.id)
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'org_unit', jsonb_build_object('id', u.id, 'code', u.code, 'name', u.name, 'level', u.level),
        'totals', stat_block_json(u.id, c, p_detail),
        'direct', CASE WHEN own.cc IS NOT NULL THEN stat_block_json(NULL, own.cc, p_detail) END,
        'children', coalesce((SELECT jsonb_agg(jsonb_build_object('org_unit', jsonb_build_object(
                        'id', k.id, 'code', k.code, 'name', k.name, 'level', k.level))
                        || stat_block_json(k.id, coalesce(k.cc, '{}'), p_detail) ORDER BY k.code)
                      FROM kids k), '[]'::jsonb)))
      FROM u, own
$$;

-- The cached counts of the subtree at p_path for calendar year p_year
-- (with the current state), as stat_count[].
CREATE FUNCTION stat_cached_counts(p_path text, p_year integer) RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(s.org_unit_id, s.metric, s.key, s.n)::stat_count), '{}')
      FROM stat_unit_counts s JOIN org_units o ON o.id = s.org_unit_id
     WHERE starts_with(o.path, p_path) AND s.year IN (0, p_year)
$$;

-- The same, computed now from the records for any period.
CREATE FUNCTION stat_live_counts(p_path text, p_from date, p_to date, p_today date,
                                 p_now timestamptz) RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(x.org_unit_id, x.metric, x.key, x.n)::stat_count), '{}')
      FROM (SELECT * FROM stat_period_counts(p_path, p_from, p_to, p_today)
            UNION ALL
            SELECT * FROM stat_state_counts(p_path, p_today, p_now)) x
$$;

-- Campaigns (专项行动, seed 003) and their task breakdown (任务分解表): each
-- task has a lead agency (牵头单位) and responsible agencies (责任单位);
-- progress (工作开展情况) is reported monthly by report_day (seed 003: the
-- 25th), from first_report_month until the campaign ends. A month without
-- an entry by its due day is overdue; an entry after it is late. The
-- hand-entered fields of the campaign's 统计报表 are kept per campaign.
CREATE TABLE campaigns (
    id                  bigserial PRIMARY KEY,
    org_unit_id         bigint NOT NULL REFERENCES org_units(id),
    org_path            text COLLATE "C" NOT NULL,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    starts_on           date NOT NULL,
    ends_on             date NOT NULL CHECK (ends_on >= starts_on),
    report_day          integer NOT NULL DEFAULT 25 CHECK (report_day BETWEEN 1 AND 28),
    first_report_month  date NOT NULL CHECK (extract(day FROM first_report_month) = 1),
    report_fields       jsonb NOT NULL DEFAULT '{}',   -- 统计报表: the fields entered by hand
    created_by          bigint REFERENCES users(id),
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (first_report_month <= ends_on)
);
CREATE INDEX campaigns_scope ON campaigns (org_path, id);

CREATE TABLE campaign_tasks (
    id              bigserial PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES campaigns(id),
    seq             integer NOT NULL CHECK (seq BETWEEN 1 AND 999),        -- 序号
    action          text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),  -- 行动名称
    description     text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),  -- 工作任务
    upstream_lead   text CHECK (length(upstream_lead) <= 100),             -- 上级牵头单位
    lead_agency_id  bigint NOT NULL REFERENCES agencies(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, seq)
);

CREATE TABLE campaign_task_agencies (
    task_id    bigint NOT NULL REFERENCES campaign_tasks(id),
    agency_id  bigint NOT NULL REFERENCES agencies(id),
    PRIMARY KEY (task_id, agency_id)
);

-- Append-only: a correction is a new entry; the latest of a month counts.
CREATE TABLE campaign_progress (
    id            bigserial PRIMARY KEY,
    task_id       bigint NOT NULL REFERENCES campaign_tasks(id),
    period_month  date NOT NULL CHECK (extract(day FROM period_month) = 1),
    agency_id     bigint REFERENCES agencies(id),
    content       text NOT NULL CHECK (length(content) BETWEEN 1 AND 2000),
    reported_on   date NOT NULL,
    reported_by   bigint REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_progress_task ON campaign_progress (task_id, period_month, id);

-- The due day of month m of campaign c: report_day of that month.
CREATE FUNCTION campaign_due_on(c campaigns, m date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT make_date(extract(year FROM m)::int, extract(month FROM m)::int, c.report_day)
$$;

-- Every month of every task of campaign p_id due by p_today (or due later
-- this month): its due day, the first entry's date, and the state:
-- submitted (on time), late (after the due day), overdue (none, and the
-- due day has passed) or pending (none yet, not due yet).
CREATE FUNCTION campaign_task_months(p_id bigint, p_today date)
RETURNS TABLE (task_id bigint, period_month date, due_on date, first_on date,
               entries bigint, state text)
LANGUAGE sql STABLE AS $$
    SELECT t.id, m.m::date, campaign_due_on(c, m.m::date), e.first_on, coalesce(e.n, 0),
           CASE WHEN e.first_on IS NULL AND p_today > campaign_due_on(c, m.m::date) THEN 'overdue'
                WHEN e.first_on IS NULL THEN 'pending'
                WHEN e.first_on > campaign_due_on(c, m.m::date) THEN 'late'
                ELSE 'submitted' END
      FROM campaigns c
      JOIN campaign_tasks t ON t.campaign_id = c.id
     CROSS JOIN LATERAL generate_series(c.first_report_month,
                                        least(date_trunc('month', c.ends_on),
                                              date_trunc('month', p_today)),
                                        interval '1 month') m(m)
      LEFT JOIN LATERAL (SELECT min(p.reported_on) AS first_on, count(*) AS n
                           FROM campaign_progress p
                          WHERE p.task_id = t.id AND p.period_month = m.m::date) e ON true
     WHERE c.id = p_id
$$;

-- A campaign with its tasks and, per task, the state of each month's
-- report as of p_today.
CREATE FUNCTION campaign_json(p_id bigint, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH m AS (SELECT * FROM campaign_task_months(p_id, p_today))
    SELECT jsonb_build_object('id', c.id, 'org_unit_id', c.org_unit_id, 'name', c.name,
        'starts_on', c.starts_on, 'ends_on', c.ends_on, 'report_day', c.report_day,
        'first_report_month', to_char(c.first_report_month, 'YYYY-MM'),
        'version', c.version, 'created_at', c.created_at, 'updated_at', c.updated_at,
        'overdue', (SELECT count(*) FROM m WHERE m.state = 'overdue'),
        'tasks', coalesce((SELECT jsonb_agg(jsonb_build_object('id', t.id, 'seq', t.seq,
            'action', t.action, 'description', t.description, 'upstream_lead', t.upstream_lead,
            'lead_agency', jsonb_build_object('id', a.id, 'name', a.name),
            'responsible_agencies', coalesce((SELECT jsonb_agg(jsonb_build_object('id', b.id,
                'name', b.name) ORDER BY b.id) FROM campaign_task_agencies x
                JOIN agencies b ON b.id = x.agency_id WHERE x.task_id = t.id), '[]'::jsonb),
            'overdue', EXISTS (SELECT 1 FROM m WHERE m.task_id = t.id AND m.state = 'overdue'),
            'months', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'month', to_char(m.period_month, 'YYYY-MM'), 'due_on', m.due_on,
                'state', m.state, 'first_reported_on', m.first_on, 'entries', m.entries)
                ORDER BY m.period_month) FROM m WHERE m.task_id = t.id), '[]'::jsonb))
            ORDER BY t.seq)
            FROM campaign_tasks t JOIN agencies a ON a.id = t.lead_agency_id
           WHERE t.campaign_id = c.id), '[]'::jsonb))
      FROM campaigns c WHERE c.id = p_id
$$;

-- The fields of the campaign report (seed 000 附件2, 统计报表) that the
-- records give, over the subtree at p_path for the period [p_from, p_to]
-- seen on p_today (E = least(p_to, p_today)); keys as in
-- api/resources/campaign_report.c, whose table also holds the fields
-- entered by hand.
CREATE FUNCTION campaign_report_values(p_path text, p_from date, p_to date, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT least(p_to, p_today) AS e),
    f AS (SELECT * FROM stat_patient_facts(p_path, p_from, p_to, p_today)),
    p AS (SELECT p.*, b.e FROM patients p JOIN f ON f.patient_id = p.id, b),
    i AS (SELECT x.* FROM incidents x JOIN patients q ON q.id = x.patient_id, b
           WHERE starts_with(q.org_path, p_path) AND x.occurred_on BETWEEN p_from AND b.e),
    fu AS (SELECT x.* FROM follow_ups x JOIN patients q ON q.id = x.patient_id, b
            WHERE starts_with(q.org_path, p_path) AND x.visit_date BETWEEN p_from AND b.e)
    SELECT jsonb_build_object(
        'followup_staff', (SELECT count(DISTINCT user_id) FROM fu),
        'followup_patients', (SELECT count(DISTINCT patient_id) FROM fu WHERE reached),
        'patients_total', (SELECT count(*) FROM f),
        'risk_0', (SELECT count(*) FROM p WHERE risk_level = 0),
        'risk_1_2', (SELECT count(*) FROM p WHERE risk_level BETWEEN 1 AND 2),
        'risk_3_5_new', (SELECT count(*) FROM p WHERE risk_level >= 3
            AND NOT EXISTS (SELECT 1 FROM risk_assessments r WHERE r.patient_id = p.id
                             AND r.level >= 3 AND r.assessed_on < p_from)),
        'risk_3_5_prior', (SELECT count(*) FROM p WHERE risk_level >= 3
            AND EXISTS (SELECT 1 FROM risk_assessments r WHERE r.patient_id = p.id
                         AND r.level >= 3 AND r.assessed_on < p_from)),
        'hospitalised', (SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM hospitalisations h
            WHERE h.patient_id = p.id AND h.admitted_on <= p.e
              AND (h.discharged_on IS NULL OR h.discharged_on >= p_from))),
        'home_treatment', (SELECT count(*) FROM f WHERE at_home),
        'long_acting', (SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM prescriptions r
            WHERE r.patient_id = p.id AND r.long_acting AND r.started_on <= p.e
              AND (r.ended_on IS NULL OR r.ended_on > p.e))),
        'oral', (SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM prescriptions r
            WHERE r.patient_id = p.id AND NOT r.long_acting AND r.started_on <= p.e
              AND (r.ended_on IS NULL OR r.ended_on > p.e))),
        'migrant_patients', (SELECT count(*) FROM p WHERE migrant),
        'vagrant_patients', (SELECT count(*) FROM p WHERE vagrant),
        'incident_prone', (SELECT count(*) FROM p WHERE risk_level >= 3
            OR key_flags ? 'incident_history'),
        'police_key', (SELECT count(*) FROM p WHERE police_key_person),
        'incident_patients', (SELECT count(DISTINCT patient_id) FROM i),
        'incidents', (SELECT count(*) FROM i),
        'incident_injured', (SELECT coalesce(sum(injured), 0) FROM i),
        'incident_dead', (SELECT coalesce(sum(dead), 0) FROM i),
        'dibao_patients', (SELECT count(*) FROM p WHERE dibao))
$$;
