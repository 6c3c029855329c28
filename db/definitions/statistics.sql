-- Statistics [R-STAT-1 … R-STAT-5]: the per-patient facts of a period (在管,
-- 规范管理, 面访, 服药, 居家稳定), the rollups the worker keeps, the dashboard's JSON
-- and the campaign report.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Today as the application sees it: China Standard Time.
CREATE OR REPLACE FUNCTION stat_today() RETURNS date
LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date $$;

-- Hospital days inside (a, b] for patient p: the days d with a < d <= b
-- and admitted_on < d <= discharged_on (an open stay runs on). Months in
-- hospital do not count as gaps (规范管理).
CREATE OR REPLACE FUNCTION stat_hosp_days(p bigint, a date, b date) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(greatest(0, least(b, coalesce(h.discharged_on, b))
                                    - greatest(a, h.admitted_on))), 0)::integer
      FROM hospitalisations h
     WHERE h.patient_id = p AND h.admitted_on < b
       AND (h.discharged_on IS NULL OR h.discharged_on > a)
$$;

-- The date a patient left the register (死亡 or 销案), from the status events.
CREATE OR REPLACE FUNCTION stat_closed_on(p bigint) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT max(e.event_date) FROM patient_events e
     WHERE e.patient_id = p AND e.to_status IN ('deceased', 'deregistered')
$$;

-- The same for the whole subtree.
CREATE OR REPLACE FUNCTION stat_patient_facts(p_path text, p_from date, p_to date, p_today date)
RETURNS TABLE (patient_id bigint, org_unit_id bigint, managed boolean, standard boolean,
               face boolean, regular boolean, medicated boolean, at_home boolean,
               stable_home boolean)
LANGUAGE sql STABLE AS $$
    SELECT * FROM stat_patient_facts(p_path, p_from, p_to, p_today, NULL)
$$;

-- The period counts gain the assistance rows: the cache (stat_unit_counts)
-- and the live path both read this one function.
CREATE OR REPLACE FUNCTION stat_period_counts(p_path text, p_from date, p_to date, p_today date)
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
    UNION ALL
    SELECT * FROM stat_assistance_counts(p_path, p_from, least(p_to, p_today))
$$;

-- The current state per org unit, as of p_now: patients on the register by
-- risk level, colour and key category; follow-ups overdue (next_due before
-- p_today); notifications open (a recipient has not acknowledged) and, of
-- those, past their deadline.
CREATE OR REPLACE FUNCTION stat_state_counts(p_path text, p_today date, p_now timestamptz)
RETURNS TABLE (org_unit_id bigint, metric text, key text, n bigint)
LANGUAGE sql STABLE AS $$
    WITH p AS (
        SELECT p.org_unit_id, p.risk_level, p.colour, p.key_flags, p.next_due
          FROM patients p
         WHERE starts_with(p.org_path, p_path)
           AND on_register(p.status))
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

-- Whether a pass takes its n_changed changed patients as a bulk change and
-- computes everyone again: from bulk_min of them and a fiftieth of the
-- n_rolled patients in the rollups. One by one costs index probes per
-- patient and kept period (at 5,000,000 patients: 1,000 in 2.3 s), and
-- past a few thousand PostgreSQL scans each period's history anyway
-- (10,000 in 195 s); everyone costs one scan per period.
CREATE OR REPLACE FUNCTION stat_refresh_bulk(n_changed bigint, bulk_min integer, n_rolled bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT n_changed >= bulk_min AND n_changed * 50 >= n_rolled $$;

-- The worker's pass: the changed patients (or everyone, after a bulk
-- change), a new day's running periods, a new year's build, then the state
-- counts. False when another session is at it (advisory lock).
CREATE OR REPLACE FUNCTION stat_refresh() RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    started timestamptz := clock_timestamp();
    today date := stat_today();
    upto xid8 := pg_snapshot_xmin(pg_current_snapshot());
    log stat_refresh_log;
    running smallint[];
    changed bigint[];
    how text := 'changes';
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('stat_unit_counts')) THEN
        RETURN false;
    END IF;
    SELECT * INTO log FROM stat_refresh_log;
    IF log.rollup_year IS DISTINCT FROM extract(year FROM today)::int
       OR log.change_xmin IS NULL OR log.as_of > today THEN
        DELETE FROM stat_rollup_periods;
        PERFORM stat_rollup_everyone(stat_keep_periods(today), today);
        how := 'rebuild';
    ELSE
        changed := ARRAY(SELECT DISTINCT entity_id FROM changes
                          WHERE kind = 'patient' AND xid >= log.change_xmin AND xid < upto);
        IF stat_refresh_bulk(cardinality(changed), log.bulk_min,
                             (SELECT count(*) FROM stat_patient_rollups)) THEN
            PERFORM stat_keep_periods(today);
            PERFORM stat_rollup_everyone(ARRAY(SELECT idx FROM stat_rollup_periods), today);
            how := 'bulk';
        ELSE
            IF cardinality(changed) > 0 THEN
                PERFORM stat_rollup_patients(changed, today);
            END IF;
            -- Running periods on a new day (those whose end the last
            -- pass's day was), and the periods kept from now on (a new
            -- month, a new campaign): computed again for everyone.
            running := ARRAY(SELECT idx FROM stat_rollup_periods
                              WHERE log.as_of < today AND period_to >= log.as_of)
                       || stat_keep_periods(today);
            IF cardinality(running) > 0 THEN
                PERFORM stat_rollup_everyone(running, today);
            END IF;
        END IF;
    END IF;
    REFRESH MATERIALIZED VIEW CONCURRENTLY stat_unit_counts;
    UPDATE stat_refresh_log SET refreshed_at = started, as_of = today,
           seconds = extract(epoch FROM clock_timestamp() - started),
           rollup_year = extract(year FROM today)::int, change_xmin = upto,
           pass = how, changed_patients = coalesce(cardinality(changed), 0);
    RETURN true;
END $$;

-- A rate in per cent (two decimals), NULL when the denominator is 0.
CREATE OR REPLACE FUNCTION stat_pct(num text, den bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN den > 0 THEN round(100.0 * coalesce(num::bigint, 0) / den, 2) END
$$;

-- The effective resident population of a unit: its own figure, or the sum
-- over its children when it has none.
CREATE OR REPLACE FUNCTION stat_population(p_unit bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(o.population::bigint,
                    (SELECT sum(stat_population(c.id))::bigint FROM org_units c
                      WHERE c.parent_id = o.id))
      FROM org_units o WHERE o.id = p_unit
$$;

-- One block gains "assistance" ({paid_fen, paid, withheld, enrolled}, each
-- by kind) for the roles that see economic figures: 'full' and
-- 'civil_affairs'; never the police.
CREATE OR REPLACE FUNCTION stat_block_json(p_unit bigint, c stat_count[], p_detail text) RETURNS jsonb
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
            THEN coalesce((m.o->>'notifications_overdue')::bigint, 0) END,
        'assistance', CASE WHEN p_detail IN ('full', 'civil_affairs') THEN jsonb_build_object(
            'paid_fen', coalesce(grp.o->'assistance_paid_fen', '{}'),
            'paid', coalesce(grp.o->'assistance_paid', '{}'),
            'withheld', coalesce(grp.o->'assistance_withheld', '{}'),
            'enrolled', coalesce(grp.o->'assistance_enrolled', '{}')) END))
      FROM v, m, grp
$$;

-- The dashboard of unit p_unit from counts c (of its whole subtree): the
-- totals, one block per child unit (the breakdown), and the patients
-- attached to the unit itself (direct) when there are any. Further sources
-- (e.g. assistance totals) add their rows to c or a member here.
CREATE OR REPLACE FUNCTION stat_dashboard_json(p_unit bigint, c stat_count[], p_detail text) RETURNS jsonb
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

-- The same, computed now from the records for any period.
CREATE OR REPLACE FUNCTION stat_live_counts(p_path text, p_from date, p_to date, p_today date,
                                 p_now timestamptz) RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(x.org_unit_id, x.metric, x.key, x.n)::stat_count), '{}')
      FROM (SELECT * FROM stat_period_counts(p_path, p_from, p_to, p_today)
            UNION ALL
            SELECT * FROM stat_state_counts(p_path, p_today, p_now)) x
$$;

-- The due day of month m of campaign c: report_day of that month.
CREATE OR REPLACE FUNCTION campaign_due_on(c campaigns, m date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT make_date(extract(year FROM m)::int, extract(month FROM m)::int, c.report_day)
$$;

-- Every month of every task of campaign p_id due by p_today (or due later
-- this month): its due day, the first entry's date, and the state:
-- submitted (on time), late (after the due day), overdue (none, and the
-- due day has passed) or pending (none yet, not due yet).
CREATE OR REPLACE FUNCTION campaign_task_months(p_id bigint, p_today date)
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
CREATE OR REPLACE FUNCTION campaign_json(p_id bigint, p_today date) RETURNS jsonb
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
-- entered by hand. From a period's counts c (the rollups' or the
-- records', the same metrics: stat_patient_masks), with what is counted
-- apart: the staff who made follow-ups (stat_unit_staff) and the
-- incidents, few, from the records.
CREATE OR REPLACE FUNCTION campaign_report_json(c stat_count[], p_path text, p_from date,
                                                p_to date, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT least(p_to, p_today) AS e),
    k AS (SELECT jsonb_object_agg(metric, n) AS o
            FROM (SELECT (u).metric, sum((u).n) AS n FROM unnest(c) u GROUP BY 1) x),
    i AS (SELECT x.* FROM incidents x JOIN patients q ON q.id = x.patient_id, b
           WHERE starts_with(q.org_path, p_path) AND x.occurred_on BETWEEN p_from AND b.e)
    SELECT jsonb_build_object(
        'followup_staff', (SELECT count(DISTINCT s.user_id)
                             FROM stat_unit_staff s JOIN org_units o ON o.id = s.org_unit_id, b
                            WHERE starts_with(o.path, p_path) AND s.day BETWEEN p_from AND b.e
                              AND s.n > 0),
        'incident_patients', (SELECT count(DISTINCT patient_id) FROM i),
        'incidents', (SELECT count(*) FROM i),
        'incident_injured', (SELECT coalesce(sum(injured), 0) FROM i),
        'incident_dead', (SELECT coalesce(sum(dead), 0) FROM i))
        || (SELECT jsonb_object_agg(f.key, coalesce((k.o->>f.metric)::bigint, 0))
              FROM k, (VALUES ('followup_patients', 'followed_up'),
                              ('patients_total', 'registered'), ('risk_0', 'risk_0'),
                              ('risk_1_2', 'risk_1_2'), ('risk_3_5_new', 'risk_3_5_new'),
                              ('risk_3_5_prior', 'risk_3_5_prior'),
                              ('hospitalised', 'hospitalised'), ('home_treatment', 'at_home'),
                              ('long_acting', 'long_acting'), ('oral', 'oral'),
                              ('migrant_patients', 'migrant'), ('vagrant_patients', 'vagrant'),
                              ('incident_prone', 'incident_prone'), ('police_key', 'police_key'),
                              ('dibao_patients', 'dibao')) f(key, metric))
$$;

-- Follow-ups counted per unit (the patient's), visit day and user in the
-- writing transaction, for the 统计报表's staff of any period: a visit
-- added, removed or changed, and a patient's moving to another unit, which
-- takes their visits along.
CREATE OR REPLACE FUNCTION stat_staff_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stat_unit_staff AS s (org_unit_id, day, user_id, n)
        SELECT p.org_unit_id, v.day, v.user_id, sum(v.n)
          FROM (SELECT OLD.patient_id, OLD.visit_date, OLD.user_id, -1
                 WHERE TG_OP <> 'INSERT'
                UNION ALL
                SELECT NEW.patient_id, NEW.visit_date, NEW.user_id, 1
                 WHERE TG_OP <> 'DELETE') v(patient_id, day, user_id, n)
          JOIN patients p ON p.id = v.patient_id
         WHERE v.user_id IS NOT NULL
         GROUP BY 1, 2, 3
        HAVING sum(v.n) <> 0
         ORDER BY 1, 2, 3
    ON CONFLICT (org_unit_id, day, user_id) DO UPDATE SET n = s.n + excluded.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER follow_ups_staff
    AFTER INSERT OR DELETE OR UPDATE OF patient_id, visit_date, user_id ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION stat_staff_count();

CREATE OR REPLACE FUNCTION stat_staff_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stat_unit_staff AS s (org_unit_id, day, user_id, n)
        SELECT u.unit, f.visit_date, f.user_id, u.sign * count(*)
          FROM follow_ups f, (VALUES (OLD.org_unit_id, -1), (NEW.org_unit_id, 1)) u(unit, sign)
         WHERE f.patient_id = NEW.id AND f.user_id IS NOT NULL
         GROUP BY 1, 2, 3, u.sign
         ORDER BY 1, 2, 3
    ON CONFLICT (org_unit_id, day, user_id) DO UPDATE SET n = s.n + excluded.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER patients_staff_move
    AFTER UPDATE OF org_unit_id ON patients
    FOR EACH ROW WHEN (OLD.org_unit_id IS DISTINCT FROM NEW.org_unit_id)
    EXECUTE FUNCTION stat_staff_move();

-- Assistance per org unit for the months of [p_from, p_to], in the shared
-- count shape:
--   assistance_paid_fen  key kind: fen paid for those months (where paid)
--   assistance_paid      key kind: payments made
--   assistance_withheld  key kind: payments withheld (以奖代补 after an incident)
--   assistance_enrolled  key kind: patients (of the unit now) with an approved
--                        application covering one of the months
CREATE OR REPLACE FUNCTION stat_assistance_counts(p_path text, p_from date, p_to date)
RETURNS TABLE (org_unit_id bigint, metric text, key text, n bigint)
LANGUAGE sql STABLE AS $$
    WITH f AS (SELECT o.id AS org_unit_id, f.kind, f.status, f.amount_fen
                 FROM assistance_payment_facts f JOIN org_units o ON o.path = f.org_path
                WHERE starts_with(f.org_path, p_path)
                  AND f.period_month BETWEEN date_trunc('month', p_from)::date AND p_to
                  AND f.status IN ('paid', 'withheld'))
    SELECT org_unit_id, 'assistance_paid_fen', kind, sum(amount_fen)::bigint FROM f
     WHERE status = 'paid' GROUP BY 1, 3
    UNION ALL
    SELECT org_unit_id, 'assistance_' || status, kind, count(*) FROM f GROUP BY 1, 2, 3
    UNION ALL
    SELECT p.org_unit_id, 'assistance_enrolled', a.kind, count(DISTINCT a.patient_id)
      FROM assistance_applications a JOIN patients p ON p.id = a.patient_id
     WHERE starts_with(p.org_path, p_path) AND a.state IN ('approved', 'ended')
       AND a.from_month <= p_to AND (a.to_month IS NULL OR a.to_month >= date_trunc('month', p_from))
     GROUP BY 1, 3
$$;

-- The report fields of sections 五 and 六 that the assistance records give,
-- for the patients of the subtree at p_path and the months of [p_from,
-- least(p_to, p_today)]:
--   纳入…患者人数   patients with an approved application of the kind
--                   covering one of the months (医疗救助, 门诊慢特病, 职工大额,
--                   大病保险, 残疾人两项补贴)
--   救助金额(民政)   paid 低保, 临时救助 and 残疾人两项补贴, in 万元
--   奖补监护人数/金额 patients whose guardian reward (以奖代补) was paid for
--                   one of the months, and the amount in 万元, by the
--                   patient's risk level now (0–2, 3–5)
CREATE OR REPLACE FUNCTION campaign_report_assistance(p_path text, p_from date, p_to date, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT * FROM stat_assistance_counts(p_path, p_from, least(p_to, p_today))),
    k AS (SELECT metric, key, sum(n) AS n FROM c GROUP BY 1, 2),
    r AS (SELECT coalesce(p.risk_level, 0) >= 3 AS high, count(DISTINCT f.patient_id) AS guardians,
                 sum(f.amount_fen) AS fen
            FROM assistance_payment_facts f JOIN patients p ON p.id = f.patient_id
           WHERE starts_with(f.org_path, p_path) AND f.kind = 'guardian_reward'
             AND f.status = 'paid'
             AND f.period_month BETWEEN date_trunc('month', p_from)::date AND least(p_to, p_today)
           GROUP BY 1)
    SELECT jsonb_build_object(
        'medical_assistance', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                          AND key = 'medical_assistance'), 0),
        'chronic_outpatient', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                          AND key = 'outpatient_chronic'), 0),
        'employee_large_medical', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                              AND key = 'employee_large_medical'), 0),
        'critical_illness', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                        AND key = 'critical_illness'), 0),
        'disability_subsidy', coalesce((SELECT n FROM k WHERE metric = 'assistance_enrolled'
                                          AND key = 'disability_subsidies'), 0),
        'relief_amount', round(coalesce((SELECT sum(n) FROM k WHERE metric = 'assistance_paid_fen'
            AND key IN ('dibao', 'temporary_assistance', 'disability_subsidies')), 0) / 1000000.0, 2),
        'reward_guardians_0_2', coalesce((SELECT guardians FROM r WHERE NOT high), 0),
        'reward_guardians_3_5', coalesce((SELECT guardians FROM r WHERE high), 0),
        'reward_amount_0_2', round(coalesce((SELECT fen FROM r WHERE NOT high), 0) / 1000000.0, 2),
        'reward_amount_3_5', round(coalesce((SELECT fen FROM r WHERE high), 0) / 1000000.0, 2))
$$;

-- The dashboard's alert figures for the area under p_path and the period:
-- real alerts by grade and still open, drills apart, and per receiving
-- agency the median seconds to each step and the share of decided steps
-- that met their target.
CREATE OR REPLACE FUNCTION stat_alerts_json(p_path text, p_from date, p_to date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH a AS (
        SELECT * FROM alerts
         WHERE org_path >= p_path AND starts_with(org_path, p_path)
           AND (created_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p_from AND p_to),
    r AS (
        SELECT g.id, g.name, g.kind, x.received_at, x.arrived_at, x.handled_at,
               extract(epoch FROM x.received_at - a.created_at) AS s_received,
               extract(epoch FROM x.arrived_at - a.created_at) AS s_arrived,
               extract(epoch FROM x.handled_at - a.created_at) AS s_handled,
               alert_met(a, x.received_at, 'received') AS m_received,
               alert_met(a, x.arrived_at, 'arrived') AS m_arrived,
               alert_met(a, x.handled_at, 'handled') AS m_handled
          FROM a JOIN alert_responses x ON x.alert_id = a.id JOIN agencies g ON g.id = x.agency_id
         WHERE NOT a.drill)
    SELECT jsonb_build_object(
        'total', (SELECT count(*) FROM a WHERE NOT drill),
        'by_grade', (SELECT jsonb_build_object(
                         'watch', count(*) FILTER (WHERE grade = 'watch'),
                         'warning', count(*) FILTER (WHERE grade = 'warning'),
                         'urgent', count(*) FILTER (WHERE grade = 'urgent'))
                       FROM a WHERE NOT drill),
        'open', (SELECT count(*) FROM a WHERE NOT drill AND EXISTS (
                     SELECT 1 FROM alert_responses x WHERE x.alert_id = a.id AND x.handled_at IS NULL)),
        'drills', (SELECT count(*) FROM a WHERE drill),
        'by_agency', coalesce((SELECT jsonb_agg(o ORDER BY o->>'agency_kind', o->>'agency_id') FROM (
            SELECT jsonb_build_object(
                'agency_id', id, 'agency_name', name, 'agency_kind', kind, 'alerts', count(*),
                'median_seconds', jsonb_build_object(
                    'received', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s_received)),
                    'arrived', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s_arrived)),
                    'handled', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s_handled))),
                'met_rate', jsonb_build_object(
                    'received', round(avg(m_received::int) * 100, 1),
                    'arrived', round(avg(m_arrived::int) * 100, 1),
                    'handled', round(avg(m_handled::int) * 100, 1))) AS o
              FROM r GROUP BY id, name, kind) per), '[]'))
$$;

-- The dashboard's exchange figures for the area under p_path as of p_today:
-- exchanges owed (period ended), confirmed, and overdue (not confirmed by
-- their due day).
CREATE OR REPLACE FUNCTION stat_exchanges_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'owed', count(*),
        'received', count(*) FILTER (WHERE received_at IS NOT NULL),
        'overdue', count(*) FILTER (WHERE received_at IS NULL AND due_on < p_today))
      FROM exchanges
     WHERE township_path >= p_path AND starts_with(township_path, p_path)
$$;

-- The dashboard's search-task figure (查找, docs/domain.md "Lost to follow-up"):
-- the tasks open for patients of the area under p_path, and the oldest
-- one's age in days as of p_today.
CREATE OR REPLACE FUNCTION stat_search_tasks_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    -- From the area's lost patients (patients_lost), one lookup each: a task
    -- is open exactly while its patient is lost (search_task_follow). From
    -- the open tasks (or joined to them, hashed), a township read the whole
    -- province's; from all its patients, a township of a million read them.
    SELECT jsonb_build_object('open', count(o), 'oldest_days', max(p_today - o))
      FROM (SELECT (SELECT t.opened_on FROM search_tasks t
                     WHERE t.patient_id = p.id AND t.state = 'open') AS o
              FROM patients p
             WHERE starts_with(p.org_path, p_path) AND p.status = 'lost' OFFSET 0) x
$$;

-- Per patient on the register in [p_from, p_to] seen on p_today (p_ids:
-- only those; NULL: the whole subtree at p_path): managed (在管, a reached
-- visit or in hospital) [R-STAT-2], standard (规范管理: reached visits never
-- more than 92 days apart from the start to the end, months in hospital not
-- gaps, at least ceil(months / 3)) [R-STAT-3], 面访, 规律服药, 服药, at home
-- and stable at home [R-STAT-4]. The register is R-STAT-1.
CREATE OR REPLACE FUNCTION stat_patient_facts(p_path text, p_from date, p_to date, p_today date,
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

-- The facts as one bit mask per patient, and the metric each bit counts.
CREATE OR REPLACE FUNCTION stat_rollup_metrics() RETURNS TABLE (metric text, flag integer)
LANGUAGE sql IMMUTABLE AS $$
    VALUES ('registered', 1), ('managed', 2), ('standard', 4), ('face', 8), ('regular', 16),
           ('medicated', 32), ('at_home', 64), ('stable_home', 128),
           -- the 统计报表's (stat_patient_masks)
           ('followed_up', 256), ('risk_0', 512), ('risk_1_2', 1024), ('risk_3_5_new', 2048),
           ('risk_3_5_prior', 4096), ('hospitalised', 8192), ('long_acting', 16384),
           ('oral', 32768), ('migrant', 65536), ('vagrant', 131072),
           ('incident_prone', 262144), ('police_key', 524288), ('dibao', 1048576)
$$;

CREATE OR REPLACE FUNCTION stat_patient_mask(managed boolean, standard boolean, face boolean,
                                  regular boolean, medicated boolean, at_home boolean,
                                  stable_home boolean) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT (1 | CASE WHEN managed THEN 2 ELSE 0 END | CASE WHEN standard THEN 4 ELSE 0 END
              | CASE WHEN face THEN 8 ELSE 0 END | CASE WHEN regular THEN 16 ELSE 0 END
              | CASE WHEN medicated THEN 32 ELSE 0 END | CASE WHEN at_home THEN 64 ELSE 0 END
              | CASE WHEN stable_home THEN 128 ELSE 0 END)::smallint
$$;

-- Every fact a period counts of a patient as one mask (stat_rollup_metrics)
-- for the subtree at p_path (p_ids: only those patients), [p_from, p_to]
-- seen on p_today, E = least(p_to, p_today): the indicators of
-- stat_patient_facts for the patients on the register, with the 统计报表's
-- (seed 000 附件2) [R-STAT-5]: the risk level now (3–5 new when no
-- assessment of 3 or more came before p_from), a stay during the period,
-- long-acting or oral treatment at E, migrant, vagrant, 肇事肇祸倾向 (risk
-- 3 or more, or a past incident), police key person, 低保; and, for any
-- patient of the area, a reached follow-up during [p_from, E].
CREATE OR REPLACE FUNCTION stat_patient_masks(p_path text, p_from date, p_to date, p_today date,
                                              p_ids bigint[])
RETURNS TABLE (patient_id bigint, org_unit_id bigint, mask integer)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT least(p_to, p_today) AS e),
    f AS (SELECT * FROM stat_patient_facts(p_path, p_from, p_to, p_today, p_ids)),
    p AS (SELECT id, org_unit_id, risk_level, migrant, vagrant, key_flags, police_key_person, dibao
            FROM patients WHERE p_ids IS NULL AND starts_with(org_path, p_path)
          UNION ALL
          SELECT id, org_unit_id, risk_level, migrant, vagrant, key_flags, police_key_person, dibao
            FROM patients WHERE p_ids IS NOT NULL AND id = ANY (p_ids)
                           AND starts_with(org_path, p_path))
    SELECT p.id, p.org_unit_id, m.mask
      FROM p CROSS JOIN b
      LEFT JOIN f ON f.patient_id = p.id
     CROSS JOIN LATERAL (
         SELECT EXISTS (SELECT 1 FROM follow_ups x WHERE x.patient_id = p.id AND x.reached
                          AND x.visit_date BETWEEN p_from AND b.e) AS followed_up) v
     CROSS JOIN LATERAL (
         SELECT CASE WHEN v.followed_up THEN 256 ELSE 0 END
              | CASE WHEN f.patient_id IS NULL THEN 0 ELSE
                stat_patient_mask(f.managed, f.standard, f.face, f.regular, f.medicated,
                                  f.at_home, f.stable_home)
                | CASE WHEN p.risk_level = 0 THEN 512 WHEN p.risk_level <= 2 THEN 1024
                       WHEN p.risk_level >= 3 THEN
                           CASE WHEN EXISTS (SELECT 1 FROM risk_assessments r
                                              WHERE r.patient_id = p.id AND r.level >= 3
                                                AND r.assessed_on < p_from)
                                THEN 4096 ELSE 2048 END
                       ELSE 0 END
                | CASE WHEN EXISTS (SELECT 1 FROM hospitalisations h WHERE h.patient_id = p.id
                                      AND h.admitted_on <= b.e
                                      AND (h.discharged_on IS NULL OR h.discharged_on >= p_from))
                       THEN 8192 ELSE 0 END
                | CASE WHEN EXISTS (SELECT 1 FROM prescriptions r WHERE r.patient_id = p.id
                                      AND r.long_acting AND r.started_on <= b.e
                                      AND (r.ended_on IS NULL OR r.ended_on > b.e))
                       THEN 16384 ELSE 0 END
                | CASE WHEN EXISTS (SELECT 1 FROM prescriptions r WHERE r.patient_id = p.id
                                      AND NOT r.long_acting AND r.started_on <= b.e
                                      AND (r.ended_on IS NULL OR r.ended_on > b.e))
                       THEN 32768 ELSE 0 END
                | CASE WHEN p.migrant THEN 65536 ELSE 0 END
                | CASE WHEN p.vagrant THEN 131072 ELSE 0 END
                | CASE WHEN p.risk_level >= 3 OR p.key_flags ? 'incident_history'
                       THEN 262144 ELSE 0 END
                | CASE WHEN p.police_key_person THEN 524288 ELSE 0 END
                | CASE WHEN p.dibao THEN 1048576 ELSE 0 END
                END AS mask) m
     WHERE f.patient_id IS NOT NULL OR v.followed_up
$$;

-- The same for a reader's few changed patients, planned for those ids:
-- inlined with the ids unknown when planned, the planner costed every
-- patient of the subtree and hashed all hospital stays (150 ms at 1M).
CREATE OR REPLACE FUNCTION stat_patient_masks_of(p_path text, p_from date, p_to date,
                                                 p_today date, p_ids bigint[])
RETURNS TABLE (patient_id bigint, org_unit_id bigint, mask integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE 'SELECT * FROM stat_patient_masks($1, $2, $3, $4, $5)'
        USING p_path, p_from, p_to, p_today, p_ids;
END $$;

-- The counts of a period computed from the records (what the rollups
-- hold for a kept one), in the shared count shape.
CREATE OR REPLACE FUNCTION stat_mask_counts(p_path text, p_from date, p_to date, p_today date)
RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(g.org_unit_id, g.metric, '', g.n)::stat_count), '{}')
      FROM (SELECT f.org_unit_id, k.metric, count(*) AS n
              FROM stat_patient_masks(p_path, p_from, p_to, p_today, NULL) f
              JOIN stat_rollup_metrics() k ON f.mask & k.flag <> 0
             GROUP BY 1, 2) g
$$;

-- The calendar periods kept as of p_today: every month, quarter, half-year
-- and year of this and last year that has begun.
CREATE OR REPLACE FUNCTION stat_calendar_periods(p_today date)
RETURNS TABLE (kind text, period_from date, period_to date)
LANGUAGE sql STABLE AS $$
    WITH k(kind, months) AS (VALUES ('month', 1), ('quarter', 3), ('half', 6), ('year', 12)),
    p AS (SELECT k.kind, (make_date(y, 1, 1) + make_interval(months => m))::date AS f, k.months
            FROM k, generate_series(extract(year FROM p_today)::int - 1,
                                    extract(year FROM p_today)::int) y,
                 generate_series(0, 11) m
           WHERE m % k.months = 0)
    SELECT p.kind, p.f, (p.f + make_interval(months => p.months) - interval '1 day')::date
      FROM p WHERE p.f <= p_today
$$;

-- Keep from now on the periods wanted as of p_today that are not kept yet:
-- the calendar ones, the periods of the 32 latest campaigns and of the 64
-- latest saved periods (stat_saved_periods) begun by then and running into
-- last year or later (a campaign's report and dashboard are asked for its
-- own period; an office saves the from–to periods it asks for again). A period is numbered as it is
-- first kept, after the others; the numbers are the masks' positions.
-- Answers the new numbers.
CREATE OR REPLACE FUNCTION stat_keep_periods(p_today date) RETURNS smallint[]
LANGUAGE sql AS $$
    WITH w AS (
        SELECT * FROM stat_calendar_periods(p_today)
        UNION ALL
        (SELECT 'campaign', c.starts_on, c.ends_on FROM campaigns c
          WHERE c.starts_on <= p_today
            AND c.ends_on >= make_date(extract(year FROM p_today)::int - 1, 1, 1)
          ORDER BY c.starts_on DESC, c.id DESC LIMIT 32)
        UNION ALL
        (SELECT 'saved', s.period_from, s.period_to FROM stat_saved_periods s
          WHERE s.period_from <= p_today
            AND s.period_to >= make_date(extract(year FROM p_today)::int - 1, 1, 1)
          ORDER BY s.created_at DESC, s.id DESC LIMIT 64)),
    n AS (SELECT DISTINCT ON (w.period_from, w.period_to) w.*
            FROM w
           WHERE NOT EXISTS (SELECT 1 FROM stat_rollup_periods r
                              WHERE r.period_from = w.period_from AND r.period_to = w.period_to)
           ORDER BY w.period_from, w.period_to, w.kind = 'campaign'),
    ins AS (INSERT INTO stat_rollup_periods (idx, kind, period_from, period_to)
            SELECT (coalesce((SELECT max(idx) FROM stat_rollup_periods), 0)
                    + row_number() OVER (ORDER BY n.period_from, n.period_to))::smallint,
                   n.kind, n.period_from, n.period_to
              FROM n
            RETURNING idx)
    SELECT coalesce(array_agg(idx ORDER BY idx), '{}') FROM ins
$$;

-- The masks of patients p_ids (NULL: everyone) for periods p_idx, as of
-- p_today: (patient, unit, idx, mask) for the patients each period counts.
CREATE OR REPLACE FUNCTION stat_rollup_masks(p_ids bigint[], p_idx smallint[], p_today date)
RETURNS TABLE (patient_id bigint, org_unit_id bigint, idx smallint, mask integer)
LANGUAGE sql STABLE AS $$
    SELECT f.patient_id, f.org_unit_id, r.idx, f.mask
      FROM stat_rollup_periods r
     CROSS JOIN LATERAL stat_patient_masks('/', r.period_from, r.period_to, p_today, p_ids) f
     WHERE r.idx = ANY (p_idx)
$$;

-- Patients p_ids computed again for every period; the unit sums move by
-- the difference.
CREATE OR REPLACE FUNCTION stat_rollup_patients(p_ids bigint[], p_today date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n_periods integer := (SELECT count(*) FROM stat_rollup_periods);
    all_idx smallint[] := ARRAY(SELECT idx FROM stat_rollup_periods ORDER BY idx);
BEGIN
    WITH m AS (SELECT * FROM stat_rollup_masks(p_ids, all_idx, p_today)),
    who AS (SELECT m.patient_id, min(m.org_unit_id) AS org_unit_id FROM m GROUP BY 1),
    new AS (SELECT w.patient_id, w.org_unit_id,
                   array_agg(coalesce(m.mask, 0) ORDER BY i) AS bits
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
CREATE OR REPLACE FUNCTION stat_rollup_everyone(p_idx smallint[], p_today date) RETURNS void
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
                                 ELSE coalesce(o.bits[i], 0) END
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

-- The period counts of the subtree at p_path for [p_from, p_to] seen on
-- p_today, from the rollups, or NULL when they do not hold that period as
-- of that day (not a calendar period kept, a running period whose day the
-- last pass was not, or no pass since yesterday: the state counts that go
-- with them would be older). The patients changed since the last pass are
-- put right from the records.
CREATE OR REPLACE FUNCTION stat_rollup_counts(p_path text, p_from date, p_to date, p_today date)
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
            FROM pend, stat_patient_masks_of(p_path, p_from, p_to, p_today, pend.ids) f
            JOIN stat_rollup_metrics() k ON f.mask & k.flag <> 0)
    SELECT CASE WHEN EXISTS (SELECT 1 FROM s) THEN
           (SELECT coalesce(array_agg(ROW(g.org_unit_id, g.metric, '', g.n)::stat_count), '{}')
              FROM (SELECT org_unit_id, metric, sum(n)::bigint AS n FROM x GROUP BY 1, 2) g
             WHERE g.n <> 0) END
$$;

CREATE OR REPLACE FUNCTION stat_cached_state(p_path text) RETURNS stat_count[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(s.org_unit_id, s.metric, s.key, s.n)::stat_count), '{}')
      FROM stat_unit_counts s JOIN org_units o ON o.id = s.org_unit_id
     WHERE starts_with(o.path, p_path)
$$;

-- The dashboard's referral figure: the referrals still open (not admitted
-- or returned) of the patients of the area under p_path, and how many of
-- them are past their last day as of p_today. Computed live, as the
-- search tasks are (0039): open referrals are few.
CREATE OR REPLACE FUNCTION stat_referrals_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('open', count(*), 'overdue', count(*) FILTER (WHERE r.due_on < p_today))
      FROM referrals r
     WHERE r.status IN ('open', 'accepted')
       AND starts_with((SELECT p.org_path FROM patients p WHERE p.id = r.patient_id), p_path)
$$;
