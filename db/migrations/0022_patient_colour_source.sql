-- Where each patient's colour came from: the scheme (rules or points), the
-- org unit whose configuration applied (NULL: the default) and, under
-- points, the total and its terms ({"risk_level": 4, "weak_guardian": 2}).
-- Written with the colour by the recompute.
ALTER TABLE patients
    ADD COLUMN colour_scheme         text CHECK (colour_scheme IN ('rules', 'points')),
    ADD COLUMN colour_config_unit_id bigint REFERENCES org_units(id),
    ADD COLUMN colour_points         integer,
    ADD COLUMN colour_points_detail  jsonb;

-- Colours given so far were all given by the rules.
UPDATE patients SET colour_scheme = 'rules' WHERE colour IS NOT NULL;

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
