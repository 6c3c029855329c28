-- Early warning and emergency response (预警核处, "1、3、5"分钟快反;
-- DOMAIN.md "Incidents, hospitalisation, emergencies", seed 000): an
-- abnormal-behaviour alert on a patient or on an unknown person reaches the
-- police station, the clinic and 综治中心 in the transaction that records it;
-- each of them records when it received the alert, arrived on scene and
-- handled it, against the targets configured for the grade when the alert
-- was raised; the handling is written up as an emergency record
-- (应急处置记录单). Drills (演练) go the same way, marked, and stay out of
-- the statistics.

CREATE TABLE alerts (
    id            bigserial PRIMARY KEY,
    patient_id    bigint REFERENCES patients(id),          -- NULL: an unknown person
    person        text CHECK (length(person) BETWEEN 1 AND 200),  -- who, when unknown
    org_unit_id   bigint NOT NULL REFERENCES org_units(id),       -- where it was seen
    org_path      text COLLATE "C" NOT NULL,
    grade         text NOT NULL CHECK (grade IN ('watch', 'warning', 'urgent')),  -- 关注/预警/紧急
    place         text NOT NULL CHECK (length(place) BETWEEN 1 AND 200),
    observed      text NOT NULL CHECK (length(observed) BETWEEN 1 AND 1000),
    reporter      text CHECK (length(reporter) BETWEEN 1 AND 64),  -- who saw it (a guardian …)
    drill         boolean NOT NULL DEFAULT false,
    -- Minutes allowed for each step, as configured for the grade and place
    -- when the alert was raised: {"received":1,"arrived":3,"handled":5}.
    targets       jsonb NOT NULL,
    user_id       bigint NOT NULL REFERENCES users(id),
    agency_id     bigint REFERENCES agencies(id),
    linked_at     timestamptz,                              -- tied to a patient later
    linked_by     bigint REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (patient_id IS NOT NULL OR person IS NOT NULL)
);
CREATE INDEX alerts_path ON alerts (org_path, id);
CREATE INDEX alerts_patient ON alerts (patient_id, id) WHERE patient_id IS NOT NULL;

-- One row per receiving agency: its three steps, stamped by the server.
CREATE TABLE alert_responses (
    id           bigserial PRIMARY KEY,
    alert_id     bigint NOT NULL REFERENCES alerts(id),
    agency_id    bigint NOT NULL REFERENCES agencies(id),
    received_at  timestamptz,
    received_by  bigint REFERENCES users(id),
    arrived_at   timestamptz,
    arrived_by   bigint REFERENCES users(id),
    handled_at   timestamptz,
    handled_by   bigint REFERENCES users(id),
    note         text CHECK (length(note) <= 500),
    UNIQUE (alert_id, agency_id),
    CHECK (arrived_at IS NULL OR received_at IS NOT NULL),
    CHECK (handled_at IS NULL OR received_at IS NOT NULL)
);
CREATE INDEX alert_responses_agency ON alert_responses (agency_id, alert_id);

-- 应急处置记录单 (2018 规范): one of the four situations, who came, 送医 and
-- where, restraint and for how long, the outcome.
CREATE TABLE emergency_records (
    id                 bigserial PRIMARY KEY,
    alert_id           bigint NOT NULL REFERENCES alerts(id),
    patient_id         bigint REFERENCES patients(id),
    situation          text NOT NULL CHECK (situation IN (
                           'self_harm',         -- 伤害自身或有伤害自身的危险
                           'harm_others',       -- 危害他人或公共安全
                           'relapse',           -- 病情复发或急性加重
                           'adverse_reaction')),-- 药物不良反应
    occurred_at        timestamptz NOT NULL,
    place              text NOT NULL CHECK (length(place) BETWEEN 1 AND 200),
    responders         text[] NOT NULL CHECK (cardinality(responders) BETWEEN 1 AND 8),
    responder_names    text CHECK (length(responder_names) BETWEEN 1 AND 200),
    sent_to_hospital   boolean NOT NULL,
    hospital           text CHECK (length(hospital) BETWEEN 1 AND 64),
    admission_id       bigint REFERENCES hospitalisations(id),
    restraint          boolean NOT NULL,
    restraint_minutes  integer CHECK (restraint_minutes BETWEEN 1 AND 10080),
    outcome            text NOT NULL CHECK (outcome IN (
                           'stabilised', 'hospitalised', 'outpatient', 'guardian_care',
                           'police_custody', 'died', 'other')),
    note               text CHECK (length(note) <= 1000),
    user_id            bigint NOT NULL REFERENCES users(id),
    agency_id          bigint REFERENCES agencies(id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (sent_to_hospital OR (hospital IS NULL AND admission_id IS NULL)),
    CHECK (restraint OR restraint_minutes IS NULL)
);
CREATE INDEX emergency_records_alert ON emergency_records (alert_id, id);

-- The targets (minutes) are clinical settings, per unit like the others:
-- alert_<grade>_<step>_minutes; "1、3、5" for every grade by default.
UPDATE clinical_configs SET settings = '{
    "alert_urgent_received_minutes": 1, "alert_urgent_arrived_minutes": 3,
    "alert_urgent_handled_minutes": 5,
    "alert_warning_received_minutes": 1, "alert_warning_arrived_minutes": 3,
    "alert_warning_handled_minutes": 5,
    "alert_watch_received_minutes": 1, "alert_watch_arrived_minutes": 3,
    "alert_watch_handled_minutes": 5}'::jsonb || settings;

-- Raise an alert: the row, a response row for the nearest police station,
-- clinic and 综治中心 (stability office) whose unit contains the place, and
-- the webhook event for their systems, all in the caller's transaction.
CREATE FUNCTION alert_raise(p_patient bigint, p_person text, p_unit bigint, p_grade text,
                            p_place text, p_observed text, p_reporter text, p_drill boolean,
                            p_user bigint, p_agency bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_path text;
    v_set jsonb;
    v_targets jsonb;
    aid bigint;
    oid bigint;
BEGIN
    SELECT path INTO v_path FROM org_units WHERE id = p_unit;
    v_set := (clinical_config_at(v_path)).settings;
    v_targets := jsonb_build_object(
        'received', coalesce((v_set->>('alert_' || p_grade || '_received_minutes'))::int, 1),
        'arrived', coalesce((v_set->>('alert_' || p_grade || '_arrived_minutes'))::int, 3),
        'handled', coalesce((v_set->>('alert_' || p_grade || '_handled_minutes'))::int, 5));
    INSERT INTO alerts (patient_id, person, org_unit_id, org_path, grade, place, observed,
                        reporter, drill, targets, user_id, agency_id)
    VALUES (p_patient, p_person, p_unit, v_path, p_grade, p_place, p_observed, p_reporter,
            p_drill, v_targets, p_user, p_agency)
    RETURNING id INTO aid;
    INSERT INTO alert_responses (alert_id, agency_id)
    SELECT DISTINCT ON (a.kind) aid, a.id
      FROM agencies a JOIN org_units o ON o.id = a.org_unit_id
     WHERE a.kind IN ('police_station', 'clinic', 'stability_office')
       AND starts_with(v_path, o.path)
     ORDER BY a.kind, length(o.path) DESC, a.id;
    INSERT INTO outbox (topic, payload)
    VALUES ('alert.' || p_grade,
            jsonb_build_object('alert_id', aid, 'grade', p_grade, 'drill', p_drill,
                               'patient_id', p_patient, 'person', p_person,
                               'org_unit_id', p_unit, 'place', p_place,
                               'observed', p_observed, 'targets', v_targets,
                               'created_at', now()))
    RETURNING id INTO oid;
    INSERT INTO deliveries (outbox_id, endpoint_id)
    SELECT oid, w.id FROM webhook_endpoints w
     WHERE w.active AND w.agency_id IN (SELECT agency_id FROM alert_responses
                                         WHERE alert_id = aid);
    RETURN aid;
END $$;

-- A new delivery wakes the worker at the commit that makes it (LISTEN
-- jf_outbox) instead of waiting for its next look at the queue: an urgent
-- alert reaches a police system within a second.
CREATE FUNCTION deliveries_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jf_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_wake AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake();

-- Was step ('received', 'arrived', 'handled') done within its target? NULL
-- while it is pending and time remains.
CREATE FUNCTION alert_met(a alerts, at timestamptz, step text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN at IS NOT NULL
            THEN at <= a.created_at + make_interval(mins => (a.targets->>step)::int)
        WHEN now() > a.created_at + make_interval(mins => (a.targets->>step)::int)
            THEN false
    END
$$;

CREATE FUNCTION emergency_doc(e emergency_records) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', e.id, 'alert_id', e.alert_id, 'patient_id', e.patient_id,
        'situation', e.situation, 'occurred_at', e.occurred_at, 'place', e.place,
        'responders', e.responders, 'responder_names', e.responder_names,
        'sent_to_hospital', e.sent_to_hospital, 'hospital', e.hospital,
        'admission_id', e.admission_id, 'restraint', e.restraint,
        'restraint_minutes', e.restraint_minutes, 'outcome', e.outcome, 'note', e.note,
        'user_id', e.user_id, 'agency_id', e.agency_id, 'created_at', e.created_at)
$$;

-- An alert as the API shows it: open until every receiving agency has
-- handled it; per agency its steps, seconds taken and targets met.
CREATE FUNCTION alert_doc(a alerts) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', a.id, 'patient_id', a.patient_id,
        'patient_name', (SELECT name FROM patients WHERE id = a.patient_id),
        'person', a.person, 'org_unit_id', a.org_unit_id,
        'org_unit_name', (SELECT name FROM org_units WHERE id = a.org_unit_id),
        'grade', a.grade, 'place', a.place, 'observed', a.observed, 'reporter', a.reporter,
        'drill', a.drill, 'targets', a.targets, 'user_id', a.user_id,
        'agency_id', a.agency_id, 'created_at', a.created_at, 'linked_at', a.linked_at,
        'state', CASE WHEN EXISTS (SELECT 1 FROM alert_responses r WHERE r.alert_id = a.id)
                       AND NOT EXISTS (SELECT 1 FROM alert_responses r
                                        WHERE r.alert_id = a.id AND r.handled_at IS NULL)
                      THEN 'handled' ELSE 'open' END,
        'responses', coalesce((SELECT json_agg(json_build_object(
                'agency_id', r.agency_id, 'agency_kind', g.kind, 'agency_name', g.name,
                'received_at', r.received_at, 'arrived_at', r.arrived_at,
                'handled_at', r.handled_at, 'note', r.note,
                'seconds', json_build_object(
                    'received', extract(epoch FROM r.received_at - a.created_at)::int,
                    'arrived', extract(epoch FROM r.arrived_at - a.created_at)::int,
                    'handled', extract(epoch FROM r.handled_at - a.created_at)::int),
                'met', json_build_object(
                    'received', alert_met(a, r.received_at, 'received'),
                    'arrived', alert_met(a, r.arrived_at, 'arrived'),
                    'handled', alert_met(a, r.handled_at, 'handled')))
                ORDER BY g.kind)
            FROM alert_responses r JOIN agencies g ON g.id = r.agency_id
           WHERE r.alert_id = a.id), '[]'),
        'emergency_records', coalesce((SELECT json_agg(emergency_doc(e) ORDER BY e.id)
            FROM emergency_records e WHERE e.alert_id = a.id), '[]'))
$$;

-- The dashboard's alert figures for the area under p_path and the period:
-- real alerts by grade and still open, drills apart, and per receiving
-- agency the median seconds to each step and the share of decided steps
-- that met their target.
CREATE FUNCTION stat_alerts_json(p_path text, p_from date, p_to date) RETURNS jsonb
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
