-- Every change to a patient moves its version (the ETag of If-Match) and
-- updated_at, whoever writes and whatever is written: the row itself, or a
-- record kept about the patient (a visit, an assessment, a guardian, the
-- care team, medication, an admission, an incident, a health check, a
-- status event, a transfer, assistance). Once per transaction: a visit that
-- inserts the follow-up, recomputes the derived state and changes the
-- status is one new version, not three.
--
-- version_xact is the transaction that made the current version. Rows
-- inserted by a transaction start with it, so that what the creating
-- transaction adds (the 'created' event, the first computation) is still
-- version 1.

ALTER TABLE patients ADD COLUMN version_xact xid8;
ALTER TABLE patients ALTER COLUMN version_xact SET DEFAULT pg_current_xact_id();

-- The trigger owns version and updated_at: a writer's own
-- "version = version + 1, updated_at = now()" is kept as written when it
-- is the transaction's first change and undone when the row already has
-- this transaction's version. An UPDATE that changes nothing (a
-- recomputation that finds the same state) makes no version.
CREATE FUNCTION patients_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    IF OLD.version_xact IS NOT DISTINCT FROM pg_current_xact_id() THEN
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    ELSE
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
        NEW.version_xact := pg_current_xact_id();
    END IF;
    RETURN NEW;
END $$;

-- Named to fire after patients_path (BEFORE triggers run in name order),
-- so that the names it copies count as a change.
CREATE TRIGGER patients_version BEFORE UPDATE ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_bump_version();

-- A record about the patient was written: give each patient concerned its
-- new version, once per statement (a COPY of a million visits is one
-- UPDATE) and not at all where this transaction made it already. The
-- UPDATE fires only the row trigger above, which writes nothing else, so
-- nothing recurses.
CREATE FUNCTION patients_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients SET version_xact = pg_current_xact_id()
     WHERE id IN (SELECT patient_id FROM new_rows)
       AND version_xact IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patient_events', 'guardians', 'care_team_members', 'follow_ups',
                             'risk_assessments', 'hospitalisations', 'incidents',
                             'prescriptions', 'medication_pickups', 'health_checks',
                             'transfers', 'assistance_applications', 'assistance_payments']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION patients_touch()',
                       t || '_touch_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION patients_touch()',
                       t || '_touch_update', t);
    END LOOP;
END $$;
