-- The inter-agency exchange cadence (信息交换; DOMAIN.md "Ledgers and
-- information exchange", seeds 001 and 004): per township, each pair of the
-- agencies that work on the patients exchanges, every period, a dated
-- package of what changed (visits, diagnoses, assessments, admissions,
-- medication, guardians), cut to the receiver's view; the receiver confirms
-- receipt, and one not confirmed some days after the period is overdue.
--
-- The cadence is clinical configuration, per unit and inherited like the
-- rest: health ↔ police monthly (exchange_health_police_months, 1), health
-- ↔ 综治 quarterly (exchange_health_stability_months, 3: seed 004), the
-- other pairs half-yearly (exchange_other_months, 6), receipt due within
-- exchange_grace_days (10) after the period.
UPDATE clinical_configs SET settings = '{
    "exchange_health_police_months": 1, "exchange_health_stability_months": 3,
    "exchange_other_months": 6, "exchange_grace_days": 10}'::jsonb || settings;

-- Exchanges are scheduled from the first day of the year the system came
-- into use: periods before it owe nothing.
CREATE TABLE exchange_start (
    since  date NOT NULL
);
INSERT INTO exchange_start VALUES (date_trunc('year', now() AT TIME ZONE 'Asia/Shanghai')::date);
REVOKE INSERT, UPDATE ON exchange_start FROM jingfang_app;

-- One row per (sender, receiver, period) that has ended, made by
-- exchange_schedule() (the worker's sweep, and the list before it reads).
CREATE TABLE exchanges (
    id                  bigserial PRIMARY KEY,
    township_id         bigint NOT NULL REFERENCES org_units(id),
    township_path       text COLLATE "C" NOT NULL,
    sender_agency_id    bigint NOT NULL REFERENCES agencies(id),
    receiver_agency_id  bigint NOT NULL REFERENCES agencies(id),
    period_from         date NOT NULL,
    period_to           date NOT NULL,
    due_on              date NOT NULL,
    received_at         timestamptz,
    received_by         bigint REFERENCES users(id),
    note                text CHECK (length(note) <= 500),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (township_id, sender_agency_id, receiver_agency_id, period_from),
    CHECK (period_from <= period_to AND period_to < due_on)
);
CREATE INDEX exchanges_path ON exchanges (township_path, id);
CREATE INDEX exchanges_receiver ON exchanges (receiver_agency_id, id);
CREATE INDEX exchanges_open ON exchanges (due_on) WHERE received_at IS NULL;

-- Months between exchanges of agency kinds a and b under settings s.
CREATE FUNCTION exchange_months(s jsonb, a text, b text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN ARRAY[a, b] <@ ARRAY['clinic', 'police_station']
            THEN coalesce((s->>'exchange_health_police_months')::int, 1)
        WHEN ARRAY[a, b] <@ ARRAY['clinic', 'stability_office']
            THEN coalesce((s->>'exchange_health_stability_months')::int, 3)
        ELSE coalesce((s->>'exchange_other_months')::int, 6)
    END
$$;

-- Make the rows of every period ended before p_today, for every township
-- (or the one under p_path) and every ordered pair of its agencies of the
-- kinds that exchange (the nearest of each kind whose area holds the
-- township). Idempotent. Returns the rows made.
CREATE FUNCTION exchange_schedule(p_today date, p_path text DEFAULT NULL) RETURNS bigint
LANGUAGE sql AS $$
    WITH t AS (
        SELECT o.id, o.path, (clinical_config_at(o.path)).settings AS s
          FROM org_units o
         WHERE o.level = 'township' AND (p_path IS NULL OR starts_with(o.path, p_path)
                                         OR starts_with(p_path, o.path))),
    ag AS (
        SELECT DISTINCT ON (t.id, a.kind) t.id AS township_id, a.id, a.kind
          FROM t JOIN agencies a ON a.kind IN ('clinic', 'police_station', 'stability_office',
                                               'civil_affairs', 'disabled_federation')
          JOIN org_units u ON u.id = a.org_unit_id AND starts_with(t.path, u.path)
         ORDER BY t.id, a.kind, length(u.path) DESC, a.id),
    pairs AS (
        SELECT t.id AS township_id, t.path, s.id AS sender, r.id AS receiver,
               exchange_months(t.s, s.kind, r.kind) AS months,
               coalesce((t.s->>'exchange_grace_days')::int, 10) AS grace
          FROM t JOIN ag s ON s.township_id = t.id JOIN ag r ON r.township_id = t.id
         WHERE s.id <> r.id),
    periods AS (
        SELECT p.*, g::date AS period_from,
               (g + make_interval(months => p.months) - interval '1 day')::date AS period_to
          FROM pairs p, exchange_start e,
               generate_series(date_trunc('year', e.since)::timestamp,
                               p_today::timestamp, make_interval(months => p.months)) g
         WHERE (g + make_interval(months => p.months))::date <= p_today
           AND g::date >= e.since),
    made AS (
        INSERT INTO exchanges (township_id, township_path, sender_agency_id, receiver_agency_id,
                               period_from, period_to, due_on)
        SELECT township_id, path, sender, receiver, period_from, period_to,
               period_to + greatest(grace, 1)
          FROM periods
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT count(*) FROM made
$$;

-- What changed in [p_from, p_to] for the patients under p_path, as the
-- receiver's view allows: p_clinical (diagnoses, medication, hospital and
-- reasons), p_risk (risk levels, classes, assessments), p_phone_full.
CREATE FUNCTION exchange_package(p_path text, p_from date, p_to date, p_clinical boolean,
                                 p_risk boolean, p_phone_full boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH pt AS (
        SELECT id, name, org_unit_id FROM patients
         WHERE org_path >= p_path AND starts_with(org_path, p_path)),
    doc AS (SELECT jsonb_build_object(
        'visits', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', f.patient_id, 'name', pt.name, 'visit_date', f.visit_date,
                'mode', f.mode, 'reached', f.reached,
                'risk_level', CASE WHEN p_risk THEN f.risk_level END,
                'class', CASE WHEN p_risk THEN f.class END)
                ORDER BY f.visit_date, f.id), '[]')
            FROM follow_ups f JOIN pt ON pt.id = f.patient_id
           WHERE f.visit_date BETWEEN p_from AND p_to),
        'home_checks', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', h.patient_id, 'name', pt.name, 'checked_on', h.checked_on,
                'seen', h.seen, 'whereabouts', h.whereabouts, 'abnormal', h.abnormal,
                'risk_level', CASE WHEN p_risk THEN h.risk_level END)
                ORDER BY h.checked_on, h.id), '[]')
            FROM home_checks h JOIN pt ON pt.id = h.patient_id
           WHERE h.checked_on BETWEEN p_from AND p_to),
        'assessments', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', a.patient_id, 'name', pt.name, 'assessed_on', a.assessed_on,
                'level', a.level) ORDER BY a.assessed_on, a.id), '[]')
            FROM risk_assessments a JOIN pt ON pt.id = a.patient_id
           WHERE p_risk AND a.assessed_on BETWEEN p_from AND p_to),
        'diagnoses', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', e.patient_id, 'name', pt.name, 'diagnosed_on', e.event_date,
                'diagnosis', p.diagnosis) ORDER BY e.event_date, e.id), '[]')
            FROM patient_events e JOIN pt ON pt.id = e.patient_id
            JOIN patients p ON p.id = e.patient_id
           WHERE p_clinical AND e.kind = 'diagnosed' AND e.event_date BETWEEN p_from AND p_to),
        'admissions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', s.patient_id, 'name', pt.name, 'admitted_on', s.admitted_on,
                'discharged_on', s.discharged_on, 'involuntary', s.involuntary,
                'hospital', CASE WHEN p_clinical OR p_risk THEN s.hospital END,
                'reason', CASE WHEN p_clinical THEN s.reason END)
                ORDER BY s.admitted_on, s.id), '[]')
            FROM hospitalisations s JOIN pt ON pt.id = s.patient_id
           WHERE s.admitted_on BETWEEN p_from AND p_to
              OR s.discharged_on BETWEEN p_from AND p_to),
        'medication', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', m.patient_id, 'name', pt.name, 'drug', m.drug,
                'long_acting', m.long_acting, 'started_on', m.started_on,
                'ended_on', m.ended_on,
                'pickups', (SELECT count(*) FROM medication_pickups k
                             WHERE k.prescription_id = m.id
                               AND k.picked_on BETWEEN p_from AND p_to))
                ORDER BY m.started_on, m.id), '[]')
            FROM prescriptions m JOIN pt ON pt.id = m.patient_id
           WHERE p_clinical AND m.started_on <= p_to
             AND (m.ended_on IS NULL OR m.ended_on >= p_from)),
        'guardians', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'patient_id', g.patient_id, 'name', pt.name, 'guardian', g.name,
                'relation', g.relation,
                'phone', CASE WHEN p_phone_full THEN g.phone ELSE g.phone_masked END,
                'active', g.active, 'ended_on', g.ended_on)
                ORDER BY g.id), '[]')
            FROM guardians g JOIN pt ON pt.id = g.patient_id
           WHERE (g.created_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p_from AND p_to
              OR (g.updated_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p_from AND p_to
              OR g.ended_on BETWEEN p_from AND p_to)) AS d)
    -- A section the view does not allow is left out, not sent empty.
    SELECT d - CASE WHEN p_risk THEN '' ELSE 'assessments' END
             - CASE WHEN p_clinical THEN '' ELSE 'diagnoses' END
             - CASE WHEN p_clinical THEN '' ELSE 'medication' END
      FROM doc
$$;

-- The dashboard's exchange figures for the area under p_path as of p_today:
-- exchanges owed (period ended), confirmed, and overdue (not confirmed by
-- their due day).
CREATE FUNCTION stat_exchanges_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'owed', count(*),
        'received', count(*) FILTER (WHERE received_at IS NOT NULL),
        'overdue', count(*) FILTER (WHERE received_at IS NULL AND due_on < p_today))
      FROM exchanges
     WHERE township_path >= p_path AND starts_with(township_path, p_path)
$$;
