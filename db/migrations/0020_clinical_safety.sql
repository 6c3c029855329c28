-- Safety of the clinical rules (DOMAIN.md "Risk assessment", "Visit mode",
-- "Lost to follow-up", "Inter-agency notifications"):
-- * whether a risk level was seen face to face: only such a level, by a
--   clinician, may lower the current one (R-RISK-CURRENT);
-- * the 走访 (home check) of grid workers and village cadres;
-- * temporary absences (外出务工, 走亲访友) with destination and return;
-- * the last 面访 on the patient row (a quarter without one is a worklist);
-- * the notifications the rules add, and 失访 reaching 综治中心 and the
--   mental-health centre;
-- * the version of the rules the stored derived state was computed with,
--   so that `jingfang-api recompute --pending` recomputes every patient
--   once after this change.

ALTER TABLE risk_assessments ADD COLUMN face_to_face boolean NOT NULL DEFAULT true;
-- A visit's level was seen face to face only when the visit was a 面访 by
-- a clinician; grid workers recorded the national form before it became
-- the doctors' alone, and their levels may raise but never lower.
UPDATE risk_assessments r
   SET face_to_face = f.mode IN ('clinic', 'home') AND coalesce(f.informant, 'patient') = 'patient'
                      AND coalesce(u.role, 'doctor') <> 'grid_worker'
  FROM follow_ups f LEFT JOIN users u ON u.id = f.user_id
 WHERE f.id = r.follow_up_id;

-- 走访: a short home check; not the national form, no classification.
CREATE TABLE home_checks (
    id               bigserial PRIMARY KEY,
    patient_id       bigint NOT NULL REFERENCES patients(id),
    checked_on       date NOT NULL,
    seen             boolean NOT NULL,          -- the patient seen in person
    whereabouts      text NOT NULL CHECK (whereabouts IN ('at_home', 'out_for_work', 'visiting',
                                                          'in_hospital', 'moved', 'unknown',
                                                          'other')),
    guardian_present boolean NOT NULL,
    abnormal         boolean NOT NULL,          -- anything abnormal seen or told
    abnormal_signs   text[] NOT NULL DEFAULT '{}',
    hazards_checked  boolean NOT NULL,          -- sharp tools and hazards checked
    hazards_found    text CHECK (length(hazards_found) <= 200),
    risk_level       smallint CHECK (risk_level BETWEEN 0 AND 5), -- as observed: raises only
    note             text CHECK (length(note) <= 1000),
    user_id          bigint REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT seen OR whereabouts IN ('at_home', 'other')),
    CHECK (abnormal OR abnormal_signs = '{}')
);
CREATE INDEX home_checks_patient ON home_checks (patient_id, checked_on DESC, id DESC);

-- A temporary absence (外出), reported at a visit, at a home check or alone.
CREATE TABLE absences (
    id               bigserial PRIMARY KEY,
    patient_id       bigint NOT NULL REFERENCES patients(id),
    kind             text NOT NULL CHECK (kind IN ('work', 'visiting', 'treatment', 'other')),
    destination      text NOT NULL CHECK (length(destination) BETWEEN 1 AND 200),
    left_on          date NOT NULL,
    expected_return  date CHECK (expected_return >= left_on),
    returned_on      date CHECK (returned_on >= left_on),
    reported_via     text NOT NULL CHECK (reported_via IN ('report', 'follow_up', 'home_check')),
    source_id        bigint,                    -- the follow-up or home check
    notified         boolean NOT NULL,          -- risk ≥ 3 or unstable: police and centre told
    note             text CHECK (length(note) <= 500),
    user_id          bigint REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX absences_patient ON absences (patient_id, left_on DESC, id DESC);

ALTER TABLE patients ADD COLUMN last_face_to_face_on date;

ALTER TABLE notification_kinds DROP CONSTRAINT notification_kinds_kind_check;
ALTER TABLE notification_kinds ADD CONSTRAINT notification_kinds_kind_check CHECK (kind IN (
    'risk_high', 'unstable', 'lost', 'leaving', 'suspected_reported', 'incident',
    'followup_overdue', 'pickup_overdue', 'transfer_out', 'transfer_in',
    'temporary_absence',  -- a risk ≥ 3 / unstable patient away for a while
    'discharged',         -- discharged from hospital: the 7-day visit
    'risk_assessment',    -- every (quarterly) risk assessment, pushed (seed 004)
    'status_changed'));   -- 双列管: the 户籍地 township hears of every status change
INSERT INTO notification_kinds (kind, title, deadline_hours, recipients) VALUES
    ('temporary_absence', '高风险患者外出', 2, '{police_station,mental_health_centre}'),
    ('discharged', '患者出院', 72, '{clinic,police_station}'),
    ('risk_assessment', '危险性评估结果推送', 720, '{stability_office,police_station}'),
    ('status_changed', '户籍地患者状态变化', 168, '{police_station,stability_office,clinic}')
ON CONFLICT (kind) DO NOTHING;
-- Informational kinds are pushed to be read, not acted on by a deadline:
-- they have none (deadline_at infinity), so they are never overdue nor
-- escalated, and inboxes are not flooded with alarms by routine pushes.
ALTER TABLE notification_kinds ADD COLUMN informational boolean NOT NULL DEFAULT false;
UPDATE notification_kinds SET informational = true
 WHERE kind IN ('risk_assessment', 'status_changed');
CREATE FUNCTION notifications_informational() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT informational FROM notification_kinds WHERE kind = NEW.kind) THEN
        NEW.deadline_at := 'infinity';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER notifications_informational BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_informational();

UPDATE notification_kinds
   SET recipients = '{police_station,village_committee,grid,stability_office,mental_health_centre}',
       updated_at = now()
 WHERE kind = 'lost';

-- 双列管 (seed 001: 以居住地为主、户籍地为辅): a patient whose 户籍地 is
-- another township of the system is followed there too; that township's
-- agencies hear of every status change, raised with the change itself.
CREATE FUNCTION hukou_path(p_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT path FROM org_units WHERE code = p_code AND level = 'township'
$$;

CREATE FUNCTION patient_events_hukou_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pt patients%ROWTYPE;
    hp text;
BEGIN
    SELECT * INTO pt FROM patients WHERE id = NEW.patient_id;
    hp := hukou_path(pt.hukou_area_code);
    IF hp IS NOT NULL AND NOT starts_with(pt.org_path, hp) THEN
        PERFORM notify('status_changed', NEW.patient_id, NULL,
                       jsonb_build_object('from', NEW.from_status, 'to', NEW.to_status,
                                          'date', NEW.event_date, 'reason', NEW.reason),
                       NULL, NEW.user_id, NULL, NULL, hp);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER patient_events_hukou_notify AFTER INSERT ON patient_events
    FOR EACH ROW WHEN (NEW.kind = 'status') EXECUTE FUNCTION patient_events_hukou_notify();

CREATE TABLE clinical_rules_applied (
    version   integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO clinical_rules_applied (version) VALUES (1);
