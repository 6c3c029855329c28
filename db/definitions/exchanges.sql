-- The inter-agency exchange cadence and its packages [R-EXCH-1].
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Months between exchanges of agency kinds a and b under settings s.
CREATE OR REPLACE FUNCTION exchange_months(s jsonb, a text, b text) RETURNS int
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
CREATE OR REPLACE FUNCTION exchange_schedule(p_today date, p_path text DEFAULT NULL) RETURNS bigint
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

-- The whole package in one document, from the same sections.
CREATE OR REPLACE FUNCTION exchange_package(p_path text, p_from date, p_to date,
                                            p_clinical boolean, p_risk boolean,
                                            p_phone_full boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(s, (SELECT coalesce(jsonb_agg(d), '[]')
              FROM exchange_package_section(s, p_path, p_from, p_to, p_clinical, p_risk,
                                            p_phone_full) d)), '{}')
      FROM unnest(exchange_package_sections(p_clinical, p_risk)) s
$$;

-- The sections in the order they are written, and whether a view allows
-- each (one the view does not allow is left out, not sent empty).
CREATE OR REPLACE FUNCTION exchange_package_sections(p_clinical boolean, p_risk boolean) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT s FROM unnest(ARRAY['visits', 'home_checks', 'assessments', 'diagnoses',
                                            'admissions', 'medication', 'guardians'])
                                WITH ORDINALITY u(s, i)
                  WHERE (s <> 'assessments' OR p_risk)
                    AND (s NOT IN ('diagnoses', 'medication') OR p_clinical)
                  ORDER BY i)
$$;

-- The rows of one section, in its order, for the patients under p_path and
-- [p_from, p_to], cut to the view (p_clinical, p_risk, p_phone_full).
CREATE OR REPLACE FUNCTION exchange_package_section(p_section text, p_path text, p_from date, p_to date,
                                         p_clinical boolean, p_risk boolean,
                                         p_phone_full boolean) RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_section
    WHEN 'visits' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', f.patient_id, 'name', pt.name,
               'visit_date', f.visit_date, 'mode', f.mode, 'reached', f.reached,
               'risk_level', CASE WHEN p_risk THEN f.risk_level END,
               'class', CASE WHEN p_risk THEN f.class END)
          FROM follow_ups f JOIN patients pt ON pt.id = f.patient_id
         WHERE pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND f.visit_date BETWEEN p_from AND p_to
         ORDER BY f.visit_date, f.id;
    WHEN 'home_checks' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', h.patient_id, 'name', pt.name,
               'checked_on', h.checked_on, 'seen', h.seen, 'whereabouts', h.whereabouts,
               'abnormal', h.abnormal, 'risk_level', CASE WHEN p_risk THEN h.risk_level END)
          FROM home_checks h JOIN patients pt ON pt.id = h.patient_id
         WHERE pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND h.checked_on BETWEEN p_from AND p_to
         ORDER BY h.checked_on, h.id;
    WHEN 'assessments' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', a.patient_id, 'name', pt.name,
               'assessed_on', a.assessed_on, 'level', a.level)
          FROM risk_assessments a JOIN patients pt ON pt.id = a.patient_id
         WHERE p_risk AND pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND a.assessed_on BETWEEN p_from AND p_to
         ORDER BY a.assessed_on, a.id;
    WHEN 'diagnoses' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', e.patient_id, 'name', pt.name,
               'diagnosed_on', e.event_date, 'diagnosis', pt.diagnosis)
          FROM patient_events e JOIN patients pt ON pt.id = e.patient_id
         WHERE p_clinical AND pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND e.kind = 'diagnosed' AND e.event_date BETWEEN p_from AND p_to
         ORDER BY e.event_date, e.id;
    WHEN 'admissions' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', s.patient_id, 'name', pt.name,
               'admitted_on', s.admitted_on, 'discharged_on', s.discharged_on,
               'involuntary', s.involuntary,
               'hospital', CASE WHEN p_clinical OR p_risk THEN s.hospital END,
               'reason', CASE WHEN p_clinical THEN s.reason END)
          FROM hospitalisations s JOIN patients pt ON pt.id = s.patient_id
         WHERE pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND (s.admitted_on BETWEEN p_from AND p_to OR s.discharged_on BETWEEN p_from AND p_to)
         ORDER BY s.admitted_on, s.id;
    WHEN 'medication' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', m.patient_id, 'name', pt.name, 'drug', m.drug,
               'long_acting', m.long_acting, 'started_on', m.started_on, 'ended_on', m.ended_on,
               'pickups', (SELECT count(*) FROM medication_pickups k
                            WHERE k.prescription_id = m.id
                              AND k.picked_on BETWEEN p_from AND p_to))
          FROM prescriptions m JOIN patients pt ON pt.id = m.patient_id
         WHERE p_clinical AND pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND m.started_on <= p_to AND (m.ended_on IS NULL OR m.ended_on >= p_from)
         ORDER BY m.started_on, m.id;
    WHEN 'guardians' THEN RETURN QUERY
        SELECT jsonb_build_object('patient_id', g.patient_id, 'name', pt.name,
               'guardian', g.name, 'relation', g.relation,
               'phone', CASE WHEN p_phone_full THEN g.phone ELSE g.phone_masked END,
               'active', g.active, 'ended_on', g.ended_on)
          FROM guardians g JOIN patients pt ON pt.id = g.patient_id
         WHERE pt.org_path >= p_path AND starts_with(pt.org_path, p_path)
           AND ((g.created_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p_from AND p_to
                OR (g.updated_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p_from AND p_to
                OR g.ended_on BETWEEN p_from AND p_to)
         ORDER BY g.id;
    END CASE;
END $$;
