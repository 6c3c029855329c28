-- Record-change events for integrators: what crossed (registered, risk 3,
-- unstable, discharged, status, transfer), cut to each agency kind.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

CREATE OR REPLACE FUNCTION record_event_kinds() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['patient.registered', 'patient.risk_crossed', 'patient.unstable',
                 'patient.discharged', 'patient.status_changed', 'patient.transferred']
$$;

CREATE OR REPLACE FUNCTION record_event_snapshot(p patients) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'name', p.name, 'gender', p.gender,
                              'id_masked', p.id_masked, 'status', p.status,
                              'org_unit_id', p.org_unit_id, 'risk_level', p.risk_level,
                              'diagnosis', p.diagnosis)
$$;

CREATE OR REPLACE FUNCTION record_event_add(p_kind text, p patients, p_old_path text, p_detail jsonb)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO record_events (kind, patient_id, org_path, old_path, patient, detail)
    VALUES (p_kind, p.id, p.org_path, p_old_path, record_event_snapshot(p), p_detail)
$$;

-- A suspected person is not on the register: registering is leaving
-- 'suspected' (or 'ruled_out') or being created on it.
CREATE OR REPLACE FUNCTION record_events_patient() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    off_register CONSTANT text[] := '{suspected,ruled_out}';
BEGIN
    IF NOT NEW.status = ANY (off_register)
       AND (TG_OP = 'INSERT' OR OLD.status = ANY (off_register)) THEN
        PERFORM record_event_add('patient.registered', NEW, NULL, '{}');
    END IF;
    IF TG_OP = 'INSERT' THEN
        RETURN NULL;
    END IF;
    IF (coalesce(OLD.risk_level, 0) >= 3) <> (coalesce(NEW.risk_level, 0) >= 3) THEN
        PERFORM record_event_add('patient.risk_crossed', NEW, NULL,
            jsonb_build_object('direction', CASE WHEN NEW.risk_level >= 3 THEN 'up' ELSE 'down' END,
                               'old_level', OLD.risk_level, 'new_level', NEW.risk_level));
    END IF;
    IF NEW.last_class = 'unstable' AND OLD.last_class IS DISTINCT FROM 'unstable' THEN
        PERFORM record_event_add('patient.unstable', NEW, NULL,
                                 jsonb_build_object('last_reached_on', NEW.last_reached_on));
    END IF;
    IF OLD.status IS DISTINCT FROM NEW.status THEN
        PERFORM record_event_add('patient.status_changed', NEW, NULL,
            jsonb_build_object('old_status', OLD.status, 'new_status', NEW.status));
    END IF;
    IF OLD.org_path IS DISTINCT FROM NEW.org_path THEN
        PERFORM record_event_add('patient.transferred', NEW, OLD.org_path,
            jsonb_build_object('old_org_unit_id', OLD.org_unit_id,
                               'new_org_unit_id', NEW.org_unit_id));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER patients_record_events_insert AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION record_events_patient();

CREATE OR REPLACE TRIGGER patients_record_events_update AFTER UPDATE ON patients
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.risk_level IS DISTINCT FROM NEW.risk_level
                       OR OLD.last_class IS DISTINCT FROM NEW.last_class
                       OR OLD.org_path IS DISTINCT FROM NEW.org_path)
    EXECUTE FUNCTION record_events_patient();

CREATE OR REPLACE FUNCTION record_events_discharge() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM record_event_add('patient.discharged', p, NULL,
        jsonb_build_object('hospitalisation_id', NEW.id, 'admitted_on', NEW.admitted_on,
                           'discharged_on', NEW.discharged_on, 'hospital', NEW.hospital))
       FROM patients p WHERE p.id = NEW.patient_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER hospitalisations_record_events AFTER UPDATE ON hospitalisations
    FOR EACH ROW WHEN (OLD.discharged_on IS NULL AND NEW.discharged_on IS NOT NULL)
    EXECUTE FUNCTION record_events_discharge();

-- The event as agency kind p_agency_kind sees it (NULL: an admin), or NULL
-- when it is outside that view. As api/domain/views.c: the health side sees
-- the diagnosis and the hospital; police, 综治, village committees and
-- admins the risk level but no clinical field; civil affairs and the other
-- agencies neither, so risk and instability events are not theirs.
CREATE OR REPLACE FUNCTION record_event_payload(e record_events, p_agency_kind text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    clinical boolean := p_agency_kind IN ('health_office', 'clinic', 'mental_health_centre');
    risk boolean := p_agency_kind IS NULL OR p_agency_kind IN (
                        'health_office', 'clinic', 'mental_health_centre', 'police_station',
                        'stability_office', 'village_committee');
    pt jsonb := e.patient;
    d jsonb := e.detail;
BEGIN
    IF NOT risk THEN
        IF e.kind IN ('patient.risk_crossed', 'patient.unstable') THEN
            RETURN NULL;
        END IF;
        pt := pt - 'risk_level';
    END IF;
    IF NOT clinical THEN
        pt := pt - 'diagnosis';
        d := d - 'hospital';
    END IF;
    RETURN jsonb_build_object('event', e.kind, 'cursor', feed_cursor(e.xid, e.seq),
                              'occurred_at', e.created_at, 'patient', pt, 'detail', d);
END $$;

-- Fan the committed events after the mark out to the subscribed endpoints
-- whose agency's area holds the patient (before or after a transfer), at
-- most p_limit events, in (xid, seq) order: one outbox row and delivery per
-- endpoint. One worker at a time (the mark is locked; another skips).
-- Returns the events passed.
CREATE OR REPLACE FUNCTION record_events_fan_out(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    m record_event_fanout%ROWTYPE;
    e record_events%ROWTYPE;
    w record;
    body jsonb;
    oid bigint;
    n int := 0;
BEGIN
    SELECT * INTO m FROM record_event_fanout FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOR e IN SELECT * FROM record_events
              WHERE (xid, seq) > (m.xid, m.seq) AND xid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY xid, seq LIMIT p_limit LOOP
        FOR w IN SELECT we.id, a.kind FROM webhook_endpoints we
                   JOIN agencies a ON a.id = we.agency_id JOIN org_units o ON o.id = a.org_unit_id
                  WHERE we.active AND e.kind = ANY (we.events)
                    AND (starts_with(e.org_path, o.path) OR starts_with(e.old_path, o.path))
                  ORDER BY we.id LOOP
            body := record_event_payload(e, w.kind);
            CONTINUE WHEN body IS NULL;
            INSERT INTO outbox (topic, payload) VALUES (e.kind, body) RETURNING id INTO oid;
            INSERT INTO deliveries (outbox_id, endpoint_id, patient_id)
            VALUES (oid, w.id, e.patient_id);
        END LOOP;
        m.xid := e.xid;
        m.seq := e.seq;
        n := n + 1;
    END LOOP;
    UPDATE record_event_fanout SET xid = m.xid, seq = m.seq;
    RETURN n;
END $$;
