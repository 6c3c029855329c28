-- The change feed of the grid-worker app (GET /api/v1/changes): every
-- change to a patient, a care-team member or a notification's recipient
-- row, however it is made (a handler, a recompute, a trigger, an
-- integration, a migration), leaves one row here, written by triggers.
-- Readers page by (xid, seq) and stop below the oldest transaction still
-- running, so a change that commits late is never skipped behind a cursor.
-- A patient that moves leaves its old path here, so the phone of the area
-- it left is told to delete it (a tombstone).

CREATE TABLE changes (
    seq        bigserial PRIMARY KEY,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    kind       text NOT NULL CHECK (kind IN ('patient', 'care_team', 'notification')),
    entity_id  bigint NOT NULL,            -- patient, care_team_members or notifications id
    org_path   text COLLATE "C",           -- the patient's path after the change
    old_path   text COLLATE "C",           -- the path it left, when it moved
    agency_id  bigint,                     -- notifications: the recipient agency …
    user_id    bigint,                     -- … or user
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'notification') = (org_path IS NULL))
);
CREATE INDEX changes_path ON changes (org_path, xid, seq) WHERE org_path IS NOT NULL;
CREATE INDEX changes_old_path ON changes (old_path, xid, seq) WHERE old_path IS NOT NULL;
CREATE INDEX changes_agency ON changes (agency_id, xid, seq) WHERE agency_id IS NOT NULL;
CREATE INDEX changes_user ON changes (user_id, xid, seq) WHERE user_id IS NOT NULL;

CREATE FUNCTION changes_patient() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, entity_id, org_path, old_path)
    VALUES ('patient', NEW.id, NEW.org_path,
            CASE WHEN TG_OP = 'UPDATE' AND OLD.org_path IS DISTINCT FROM NEW.org_path
                 THEN OLD.org_path END);
    RETURN NULL;
END $$;

CREATE TRIGGER patients_changes_insert AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION changes_patient();
CREATE TRIGGER patients_changes_update AFTER UPDATE ON patients
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION changes_patient();

-- Records kept beside a patient. TG_ARGV[0] 'patient': one its card shows
-- (the last visit, the absence under way), so a change to it is a change
-- to the patient; 'care_team': a member of its care team, seen where the
-- patient is.
CREATE FUNCTION changes_child() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, entity_id, org_path)
    SELECT TG_ARGV[0], CASE TG_ARGV[0] WHEN 'patient' THEN p.id ELSE NEW.id END, p.org_path
      FROM patients p WHERE p.id = NEW.patient_id;
    RETURN NULL;
END $$;

CREATE TRIGGER home_checks_changes AFTER INSERT OR UPDATE ON home_checks
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');
CREATE TRIGGER absences_changes AFTER INSERT OR UPDATE ON absences
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');
CREATE TRIGGER follow_ups_changes AFTER INSERT OR UPDATE ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');
CREATE TRIGGER care_team_members_changes AFTER INSERT OR UPDATE ON care_team_members
    FOR EACH ROW EXECUTE FUNCTION changes_child('care_team');

CREATE FUNCTION changes_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, entity_id, agency_id, user_id)
    VALUES ('notification', NEW.notification_id, NEW.agency_id, NEW.user_id);
    RETURN NULL;
END $$;

CREATE TRIGGER notification_recipients_changes AFTER INSERT OR UPDATE ON notification_recipients
    FOR EACH ROW EXECUTE FUNCTION changes_notification();

-- What is already there is the first change of each record.
INSERT INTO changes (kind, entity_id, org_path)
SELECT 'patient', id, org_path FROM patients ORDER BY id;
INSERT INTO changes (kind, entity_id, org_path)
SELECT 'care_team', m.id, p.org_path FROM care_team_members m JOIN patients p ON p.id = m.patient_id
 ORDER BY m.id;
INSERT INTO changes (kind, entity_id, agency_id, user_id)
SELECT 'notification', notification_id, agency_id, user_id FROM notification_recipients ORDER BY id;
