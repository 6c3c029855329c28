-- Notifications (通报) [R-NOTE-1 … R-NOTE-7]: recipients resolved by agency
-- kind and area, the outbox, and the worker's wake-ups.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Raise a notification for a patient: recipients are the nearest agency of
-- each listed kind whose unit contains the patient's (the township police
-- station, the village committee …), and for 'grid' the grid workers of the
-- patient's grid. The event goes to the outbox with a delivery for every
-- active endpoint of a recipient agency. p_path, when given, resolves the
-- recipients in another area (the receiving side of a transfer). Returns the
-- id, or NULL when dedup_key was already raised.
CREATE OR REPLACE FUNCTION notify(p_kind text, p_patient bigint, p_summary text, p_detail jsonb,
                       p_sender_agency bigint, p_sender_user bigint, p_dedup text,
                       p_now timestamptz, p_path text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k notification_kinds%ROWTYPE;
    pt patients%ROWTYPE;
    nid bigint;
    oid bigint;
    v_summary text;
BEGIN
    p_now := coalesce(p_now, now());
    SELECT * INTO k FROM notification_kinds WHERE kind = p_kind;
    SELECT * INTO pt FROM patients WHERE id = p_patient;
    v_summary := coalesce(p_summary, k.title || '：' || pt.name || '（' ||
                        (SELECT name FROM org_units WHERE id = pt.org_unit_id) || '）');
    INSERT INTO notifications (kind, patient_id, org_unit_id, org_path, sender_agency_id,
                               sender_user_id, summary, detail, dedup_key, created_at,
                               deadline_at)
    VALUES (p_kind, p_patient, pt.org_unit_id, pt.org_path, p_sender_agency, p_sender_user,
            v_summary, p_detail, p_dedup, p_now, p_now + make_interval(hours => k.deadline_hours))
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id INTO nid;
    IF nid IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO notification_recipients (notification_id, agency_id)
    SELECT DISTINCT ON (a.kind) nid, a.id
      FROM agencies a JOIN org_units o ON o.id = a.org_unit_id
     WHERE a.kind = ANY (k.recipients) AND starts_with(coalesce(p_path, pt.org_path), o.path)
     ORDER BY a.kind, length(o.path) DESC, a.id;
    IF 'grid' = ANY (k.recipients) THEN
        INSERT INTO notification_recipients (notification_id, user_id)
        SELECT nid, u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id
         WHERE u.role = 'grid_worker' AND u.active AND o.level = 'grid'
           AND starts_with(coalesce(p_path, pt.org_path), o.path);
    END IF;
    INSERT INTO outbox (topic, payload)
    VALUES ('notification.' || p_kind,
            jsonb_build_object('notification_id', nid, 'kind', p_kind, 'title', k.title,
                               'patient_id', p_patient, 'org_unit_id', pt.org_unit_id,
                               'summary', v_summary, 'detail', p_detail,
                               'created_at', p_now,
                               'deadline_at', p_now + make_interval(hours => k.deadline_hours)))
    RETURNING id INTO oid;
    INSERT INTO deliveries (outbox_id, endpoint_id)
    SELECT oid, w.id FROM webhook_endpoints w
     WHERE w.active AND w.agency_id IN (SELECT agency_id FROM notification_recipients
                                         WHERE notification_id = nid AND agency_id IS NOT NULL);
    RETURN nid;
END $$;

CREATE OR REPLACE FUNCTION notifications_informational() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT informational FROM notification_kinds WHERE kind = NEW.kind) THEN
        NEW.deadline_at := 'infinity';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER notifications_informational BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_informational();

-- A new delivery wakes the worker at the commit that makes it (LISTEN
-- jf_outbox) instead of waiting for its next look at the queue: an urgent
-- alert reaches a police system within a second.
CREATE OR REPLACE FUNCTION deliveries_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jf_outbox', '');
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER deliveries_wake AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake();

-- A queued job wakes the worker (LISTEN jf_outbox, as deliveries do).
CREATE OR REPLACE TRIGGER reconcile_jobs_wake AFTER INSERT ON reconcile_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake();

-- A new event wakes the worker at its commit, as a delivery does.
CREATE OR REPLACE TRIGGER record_events_wake AFTER INSERT ON record_events
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake();
