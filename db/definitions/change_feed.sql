-- The change feed (GET /changes, /events): every change to a patient or a
-- record beside it, in commit order.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

CREATE OR REPLACE FUNCTION changes_patient() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, entity_id, org_path, old_path)
    VALUES ('patient', NEW.id, NEW.org_path,
            CASE WHEN TG_OP = 'UPDATE' AND OLD.org_path IS DISTINCT FROM NEW.org_path
                 THEN OLD.org_path END);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER patients_changes_insert AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION changes_patient();

CREATE OR REPLACE TRIGGER patients_changes_update AFTER UPDATE ON patients
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION changes_patient();

-- Records kept beside a patient. TG_ARGV[0] 'patient': one its card shows
-- (the last visit, the absence under way), so a change to it is a change
-- to the patient; 'care_team': a member of its care team, seen where the
-- patient is.
CREATE OR REPLACE FUNCTION changes_child() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, entity_id, org_path)
    SELECT TG_ARGV[0], CASE TG_ARGV[0] WHEN 'patient' THEN p.id ELSE NEW.id END, p.org_path
      FROM patients p WHERE p.id = NEW.patient_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER home_checks_changes AFTER INSERT OR UPDATE ON home_checks
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');

CREATE OR REPLACE TRIGGER absences_changes AFTER INSERT OR UPDATE ON absences
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');

CREATE OR REPLACE TRIGGER follow_ups_changes AFTER INSERT OR UPDATE ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION changes_child('patient');

CREATE OR REPLACE TRIGGER care_team_members_changes AFTER INSERT OR UPDATE ON care_team_members
    FOR EACH ROW EXECUTE FUNCTION changes_child('care_team');

CREATE OR REPLACE FUNCTION changes_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, entity_id, agency_id, user_id)
    VALUES ('notification', NEW.notification_id, NEW.agency_id, NEW.user_id);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER notification_recipients_changes AFTER INSERT OR UPDATE ON notification_recipients
    FOR EACH ROW EXECUTE FUNCTION changes_notification();

-- The opaque cursor of GET /changes and /events: "c1:<xid>:<seq>" in
-- unpadded base64url (api/resources/changes.c decodes it).
CREATE OR REPLACE FUNCTION feed_cursor(p_xid xid8, p_seq bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT rtrim(translate(encode(convert_to('c1:' || p_xid || ':' || p_seq, 'UTF8'), 'base64'),
                           '+/', '-_'), '=')
$$;
