-- The patient record: path, names, version and the document the API reads;
-- 双列管 [R-VIEW-3].
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- The path and now the two names follow the unit and the doctor, whoever
-- writes the row.
CREATE OR REPLACE FUNCTION patients_set_path() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.org_unit_id IS DISTINCT FROM OLD.org_unit_id THEN
        SELECT path, name INTO NEW.org_path, NEW.org_unit_name
          FROM org_units WHERE id = NEW.org_unit_id;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.doctor_id IS DISTINCT FROM OLD.doctor_id THEN
        NEW.doctor_name := (SELECT display_name FROM users WHERE id = NEW.doctor_id);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER patients_path BEFORE INSERT OR UPDATE ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_set_path();

-- The patient document shows the scheme beside the colour (risk group), as
-- the service's own writer does (api/resources/patient_doc.h).
CREATE OR REPLACE FUNCTION api_patient_doc(p patients, clinical boolean, economic boolean, risk boolean,
                                phone_full boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb;
BEGIN
    doc := jsonb_build_object(
               'id', p.id, 'name', p.name, 'status', p.status,
               'org_unit_id', p.org_unit_id,
               'org_unit_name', (SELECT name FROM org_units WHERE id = p.org_unit_id),
               'id_number_masked', p.id_masked, 'gender', p.gender, 'birth_date', p.birth_date,
               'phone', CASE WHEN phone_full THEN p.phone ELSE p.phone_masked END,
               'ethnicity', p.ethnicity, 'address', p.address,
               'hukou_area_code', p.hukou_area_code, 'hukou_address', p.hukou_address,
               'household_type', p.household_type, 'lives_alone', p.lives_alone,
               'migrant', p.migrant, 'vagrant', p.vagrant,
               'guardians', api_guardian_summary(p.id, phone_full),
               'doctor_id', p.doctor_id,
               'doctor_name', (SELECT display_name FROM users WHERE id = p.doctor_id),
               'version', p.version, 'created_at', p.created_at, 'updated_at', p.updated_at);
    IF risk THEN
        doc := doc || jsonb_build_object('risk_level', p.risk_level, 'colour', p.colour,
                                         'colour_scheme', p.colour_scheme,
                                         'key_flags', p.key_flags, 'can_drive', p.can_drive,
                                         'police_key_person', p.police_key_person,
                                         'police_key_person_on', p.police_key_person_on);
    END IF;
    IF economic THEN
        doc := doc || jsonb_build_object('employment', p.employment,
                                         'economic_status', p.economic_status,
                                         'dibao', p.dibao, 'tekun', p.tekun);
    END IF;
    IF clinical THEN
        doc := doc || jsonb_build_object('diagnosis', p.diagnosis,
                                         'diagnosing_hospital', p.diagnosing_hospital,
                                         'diagnosis_date', p.diagnosis_date,
                                         'onset_date', p.onset_date,
                                         'family_history', p.family_history,
                                         'consent', p.consent, 'consent_date', p.consent_date,
                                         'report_note', p.report_note);
    END IF;
    RETURN doc;
END $$;

-- 双列管 (seed 001: 以居住地为主、户籍地为辅) [R-VIEW-3]: a patient whose 户籍地 is
-- another township of the system is followed there too; that township's
-- agencies hear of every status change, raised with the change itself.
CREATE OR REPLACE FUNCTION hukou_path(p_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT path FROM org_units WHERE code = p_code AND level = 'township'
$$;

CREATE OR REPLACE FUNCTION patient_events_hukou_notify() RETURNS trigger
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

CREATE OR REPLACE TRIGGER patient_events_hukou_notify AFTER INSERT ON patient_events
    FOR EACH ROW WHEN (NEW.kind = 'status') EXECUTE FUNCTION patient_events_hukou_notify();

-- The trigger owns version and updated_at: a writer's own
-- "version = version + 1, updated_at = now()" is kept as written when it
-- is the transaction's first change and undone when the row already has
-- this transaction's version. An UPDATE that changes nothing (a
-- recomputation that finds the same state) makes no version.
CREATE OR REPLACE FUNCTION patients_bump_version() RETURNS trigger
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
CREATE OR REPLACE TRIGGER patients_version BEFORE UPDATE ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_bump_version();

-- A record about the patient was written: give each patient concerned its
-- new version, once per statement (a COPY of a million visits is one
-- UPDATE) and not at all where this transaction made it already. The
-- UPDATE fires only the row trigger above, which writes nothing else, so
-- nothing recurses.
CREATE OR REPLACE FUNCTION patients_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients SET version_xact = pg_current_xact_id()
     WHERE id IN (SELECT patient_id FROM new_rows)
       AND version_xact IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END $$;

-- Home checks (走访) and temporary absences change the patient like every
-- other record: the patient's version moves (patients_touch), so ETags, exports and the change feed see them.
CREATE OR REPLACE TRIGGER home_checks_touch_insert AFTER INSERT ON home_checks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();

CREATE OR REPLACE TRIGGER home_checks_touch_update AFTER UPDATE ON home_checks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();

CREATE OR REPLACE TRIGGER absences_touch_insert AFTER INSERT ON absences
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();

CREATE OR REPLACE TRIGGER absences_touch_update AFTER UPDATE ON absences
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();

-- They change the patient like every other record (patients_touch).
CREATE OR REPLACE TRIGGER medication_deliveries_touch AFTER INSERT ON medication_deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();

CREATE OR REPLACE TRIGGER non_adherence_reasons_touch AFTER INSERT ON non_adherence_reasons
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
