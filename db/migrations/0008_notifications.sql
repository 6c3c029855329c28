-- Inter-agency notifications (通报) that must be acknowledged, and the
-- transactional outbox that carries them to police and hospital systems as
-- signed webhooks. A notification is written in the same transaction as the
-- change that raises it: if the change fails, no notification exists.

CREATE TABLE notification_kinds (
    kind            text PRIMARY KEY CHECK (kind IN (
                        'risk_high',          -- risk ≥ 3
                        'unstable',           -- condition unstable at a visit
                        'lost',               -- 失访 or whereabouts unknown
                        'leaving',            -- a risk ≥ 3 / unstable patient leaving the area
                        'suspected_reported', -- 疑似 reported: diagnosis needed
                        'incident',           -- 肇事肇祸
                        'followup_overdue',   -- a follow-up overdue past tolerance
                        'pickup_overdue',     -- 取药超期
                        'transfer_out', 'transfer_in')),
    title           text NOT NULL,            -- the Chinese label the clients show
    deadline_hours  integer NOT NULL CHECK (deadline_hours BETWEEN 1 AND 720),
    -- Agency kinds that receive it; 'grid' means the grid workers of the
    -- patient's grid.
    recipients      text[] NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

INSERT INTO notification_kinds (kind, title, deadline_hours, recipients) VALUES
    ('risk_high', '危险性评估3级及以上', 24, '{police_station,stability_office,clinic}'),
    ('unstable', '病情不稳定', 24, '{police_station,stability_office,clinic}'),
    ('lost', '失访/去向不明', 24, '{police_station,village_committee,grid}'),
    ('leaving', '高风险患者离开辖区', 2, '{police_station,mental_health_centre}'),
    ('suspected_reported', '疑似患者报告', 72, '{clinic,mental_health_centre}'),
    ('incident', '肇事肇祸', 2, '{police_station,stability_office,clinic,health_office,civil_affairs,village_committee,mental_health_centre,disabled_federation,justice_office}'),
    ('followup_overdue', '随访逾期', 72, '{clinic,grid}'),
    ('pickup_overdue', '取药超期', 72, '{clinic,grid}'),
    ('transfer_out', '患者迁出', 72, '{clinic,police_station}'),
    ('transfer_in', '患者迁入', 72, '{clinic,police_station}');

CREATE TABLE notifications (
    id                 bigserial PRIMARY KEY,
    kind               text NOT NULL REFERENCES notification_kinds(kind),
    patient_id         bigint NOT NULL REFERENCES patients(id),
    org_unit_id        bigint NOT NULL REFERENCES org_units(id),  -- the patient's unit then
    org_path           text COLLATE "C" NOT NULL,
    sender_agency_id   bigint REFERENCES agencies(id),           -- NULL: raised by the system
    sender_user_id     bigint REFERENCES users(id),
    summary            text NOT NULL CHECK (length(summary) <= 500),  -- 标题：姓名（单位）
    detail             jsonb NOT NULL DEFAULT '{}',
    dedup_key          text UNIQUE,          -- periodic sweeps raise each case once
    created_at         timestamptz NOT NULL DEFAULT now(),
    deadline_at        timestamptz NOT NULL,
    escalated_at       timestamptz,
    escalated_unit_id  bigint REFERENCES org_units(id)           -- the township that must act
);
CREATE INDEX notifications_patient ON notifications (patient_id, id);
CREATE INDEX notifications_open ON notifications (deadline_at) WHERE escalated_at IS NULL;

CREATE TABLE notification_recipients (
    id               bigserial PRIMARY KEY,
    notification_id  bigint NOT NULL REFERENCES notifications(id),
    agency_id        bigint REFERENCES agencies(id),
    user_id          bigint REFERENCES users(id),
    read_at          timestamptz,
    acknowledged_at  timestamptz,
    acknowledged_by  bigint REFERENCES users(id),
    action_taken     text CHECK (length(action_taken) <= 1000),
    CHECK ((agency_id IS NULL) <> (user_id IS NULL)),
    CHECK ((acknowledged_at IS NULL) = (action_taken IS NULL))
);
CREATE UNIQUE INDEX notification_recipients_agency ON notification_recipients (notification_id, agency_id)
    WHERE agency_id IS NOT NULL;
CREATE UNIQUE INDEX notification_recipients_user ON notification_recipients (notification_id, user_id)
    WHERE user_id IS NOT NULL;
CREATE INDEX notification_recipients_inbox_agency ON notification_recipients (agency_id, notification_id);
CREATE INDEX notification_recipients_inbox_user ON notification_recipients (user_id, notification_id);

-- External systems (a police station's system, a hospital's) register
-- endpoints; every event for their agency is delivered there, signed.
CREATE TABLE webhook_endpoints (
    id             bigserial PRIMARY KEY,
    agency_id      bigint NOT NULL REFERENCES agencies(id),
    url            text NOT NULL CHECK (url ~ '^https?://[^ ]{3,}$' AND length(url) <= 508),
    secret_cipher  bytea NOT NULL,           -- AES-256-GCM of the signing secret
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The transactional outbox: one row per event, one delivery per endpoint.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    topic       text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deliveries (
    id               bigserial PRIMARY KEY,
    outbox_id        bigint NOT NULL REFERENCES outbox(id),
    endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints(id),
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz,
    UNIQUE (outbox_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';

-- Raise a notification for a patient: recipients are the nearest agency of
-- each listed kind whose unit contains the patient's (the township police
-- station, the village committee …), and for 'grid' the grid workers of the
-- patient's grid. The event goes to the outbox with a delivery for every
-- active endpoint of a recipient agency. p_path, when given, resolves the
-- recipients in another area (the receiving side of a transfer). Returns the
-- id, or NULL when dedup_key was already raised.
CREATE FUNCTION notify(p_kind text, p_patient bigint, p_summary text, p_detail jsonb,
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
