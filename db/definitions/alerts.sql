-- Early warning (预警, seed 000) and its 1-3-5 response [R-ALERT-1,
-- R-ALERT-2], and the emergency record [R-EMERG-1].
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Raise an alert: the row, a response row for the nearest police station,
-- clinic and 综治中心 (stability office) whose unit contains the place, and
-- the webhook event for their systems, all in the caller's transaction.
CREATE OR REPLACE FUNCTION alert_raise(p_patient bigint, p_person text, p_unit bigint, p_grade text,
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

-- Was step ('received', 'arrived', 'handled') done within its target? NULL
-- while it is pending and time remains.
CREATE OR REPLACE FUNCTION alert_met(a alerts, at timestamptz, step text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN at IS NOT NULL
            THEN at <= a.created_at + make_interval(mins => (a.targets->>step)::int)
        WHEN now() > a.created_at + make_interval(mins => (a.targets->>step)::int)
            THEN false
    END
$$;

CREATE OR REPLACE FUNCTION emergency_doc(e emergency_records) RETURNS json
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
CREATE OR REPLACE FUNCTION alert_doc(a alerts) RETURNS json
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
