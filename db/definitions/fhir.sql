-- The read-only FHIR R4 view (docs/fhir.md): one function per resource
-- type.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- An instant as FHIR writes it, in UTC.
CREATE OR REPLACE FUNCTION fhir_instant(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE OR REPLACE FUNCTION fhir_coding(system text, code text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('system', system, 'code', code)
$$;

CREATE OR REPLACE FUNCTION fhir_concept(system text, code text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('coding', json_build_array(fhir_coding(system, code)))
$$;

CREATE OR REPLACE FUNCTION fhir_subject(patient_id bigint) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('reference', 'Patient/' || patient_id)
$$;

-- Patient, without its identifier (added by the application, which holds
-- the key): the phone whole or masked; managed by the unit of residence.
CREATE OR REPLACE FUNCTION fhir_patient(p patients, phone_full boolean) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_strip_nulls(json_build_object(
        'resourceType', 'Patient',
        'id', p.id::text,
        'meta', json_build_object('versionId', p.version::text,
                                  'lastUpdated', fhir_instant(p.updated_at)),
        'active', p.status NOT IN ('ruled_out', 'deregistered'),
        'name', json_build_array(json_build_object('text', p.name)),
        'telecom', CASE WHEN p.phone IS NOT NULL THEN json_build_array(json_build_object(
            'system', 'phone',
            'value', CASE WHEN phone_full THEN p.phone ELSE p.phone_masked END)) END,
        'gender', p.gender,
        'birthDate', p.birth_date,
        'deceasedBoolean', p.status = 'deceased',
        'address', CASE WHEN p.address IS NOT NULL THEN
            json_build_array(json_build_object('use', 'home', 'text', p.address)) END,
        'managingOrganization', json_build_object(
            'display', (SELECT o.name FROM org_units o WHERE o.id = p.org_unit_id))))
$$;

-- RelatedPerson: a guardian, GUARD of v3-RoleCode with the kind, and the
-- relation in v3-RoleCode where there is one; the address only with
-- guardian_detail.
CREATE OR REPLACE FUNCTION fhir_related_persons(patient_id bigint, phone_full boolean,
                                     guardian_detail boolean)
RETURNS TABLE (id text, resource json)
LANGUAGE sql STABLE AS $$
    SELECT g.id::text, json_strip_nulls(json_build_object(
        'resourceType', 'RelatedPerson',
        'id', g.id::text,
        'meta', json_build_object('versionId', g.version::text,
                                  'lastUpdated', fhir_instant(g.updated_at)),
        'active', g.active,
        'patient', fhir_subject(g.patient_id),
        'relationship', json_build_array(
            json_build_object('coding', json_build_array(
                fhir_coding('http://terminology.hl7.org/CodeSystem/v3-RoleCode', 'GUARD'),
                fhir_coding('https://jingfang.example/fhir/CodeSystem/guardian-kind', g.kind))),
            json_build_object('coding', CASE WHEN r.v3 IS NULL
                THEN json_build_array(fhir_coding(
                    'https://jingfang.example/fhir/CodeSystem/guardian-relation', g.relation))
                ELSE json_build_array(
                    fhir_coding('http://terminology.hl7.org/CodeSystem/v3-RoleCode', r.v3),
                    fhir_coding('https://jingfang.example/fhir/CodeSystem/guardian-relation',
                                g.relation)) END)),
        'name', json_build_array(json_build_object('text', g.name)),
        'telecom', CASE WHEN g.phone IS NOT NULL THEN json_build_array(json_build_object(
            'system', 'phone',
            'value', CASE WHEN phone_full THEN g.phone ELSE g.phone_masked END)) END,
        'address', CASE WHEN guardian_detail AND g.address IS NOT NULL THEN
            json_build_array(json_build_object('text', g.address)) END,
        'period', CASE WHEN g.ended_on IS NOT NULL THEN
            json_build_object('end', g.ended_on) END))
      FROM guardians g
      CROSS JOIN LATERAL (SELECT CASE g.relation
          WHEN 'spouse' THEN 'SPS' WHEN 'parent' THEN 'PRN' WHEN 'child' THEN 'CHILD'
          WHEN 'sibling' THEN 'SIB' WHEN 'grandparent' THEN 'GRPRN'
          WHEN 'other_relative' THEN 'FAMMEM' END AS v3) r
     WHERE g.patient_id = fhir_related_persons.patient_id
     ORDER BY g.id
$$;

-- Encounter: follow-up visits (fu-<id>; 面访 at home HH, at the clinic AMB,
-- by phone VR; a visit that did not reach the patient is cancelled) and
-- admissions (adm-<id>, IMP, voluntary or involuntary), newest first. With
-- clinical, an admission also gives the hospital, the reason and the
-- discharge note.
CREATE OR REPLACE FUNCTION fhir_encounters(patient_id bigint, clinical boolean)
RETURNS TABLE (id text, resource json)
LANGUAGE sql STABLE AS $$
    SELECT e.id, e.resource FROM (
        SELECT 'fu-' || f.id AS id, f.visit_date AS on_date, f.id AS n,
               json_strip_nulls(json_build_object(
            'resourceType', 'Encounter',
            'id', 'fu-' || f.id,
            'meta', json_build_object('lastUpdated', fhir_instant(f.created_at)),
            'status', CASE WHEN f.reached OR f.died THEN 'finished' ELSE 'cancelled' END,
            'class', fhir_coding('http://terminology.hl7.org/CodeSystem/v3-ActCode',
                                 CASE f.mode WHEN 'home' THEN 'HH' WHEN 'phone' THEN 'VR'
                                             ELSE 'AMB' END),
            'type', json_build_array(
                fhir_concept('https://jingfang.example/fhir/CodeSystem/encounter-type',
                             'follow-up'),
                fhir_concept('https://jingfang.example/fhir/CodeSystem/follow-up-mode', f.mode)),
            'subject', fhir_subject(f.patient_id),
            'period', json_build_object('start', f.visit_date, 'end', f.visit_date))) AS resource
          FROM follow_ups f WHERE f.patient_id = fhir_encounters.patient_id
        UNION ALL
        SELECT 'adm-' || h.id, h.admitted_on, h.id, json_strip_nulls(json_build_object(
            'resourceType', 'Encounter',
            'id', 'adm-' || h.id,
            'status', CASE WHEN h.discharged_on IS NULL THEN 'in-progress' ELSE 'finished' END,
            'class', fhir_coding('http://terminology.hl7.org/CodeSystem/v3-ActCode', 'IMP'),
            'type', json_build_array(
                fhir_concept('https://jingfang.example/fhir/CodeSystem/encounter-type',
                             'admission'),
                fhir_concept('https://jingfang.example/fhir/CodeSystem/admission-kind',
                             CASE WHEN h.involuntary THEN 'involuntary' ELSE 'voluntary' END)),
            'subject', fhir_subject(h.patient_id),
            'period', json_build_object('start', h.admitted_on, 'end', h.discharged_on),
            'reasonCode', CASE WHEN clinical AND h.reason IS NOT NULL THEN
                json_build_array(json_build_object('text', h.reason)) END,
            'hospitalization', CASE WHEN clinical AND h.discharge_note IS NOT NULL THEN
                json_build_object('dischargeDisposition',
                                  json_build_object('text', h.discharge_note)) END,
            'serviceProvider', CASE WHEN clinical THEN
                json_build_object('display', h.hospital) END))
          FROM hospitalisations h WHERE h.patient_id = fhir_encounters.patient_id
    ) e ORDER BY e.on_date DESC, e.id
$$;

-- Condition: the diagnosis on the register (id = the patient's), coded in
-- ICD-10 where the disease has one code, and always in our own codes.
CREATE OR REPLACE FUNCTION fhir_conditions(patient_id bigint)
RETURNS TABLE (id text, resource json)
LANGUAGE sql STABLE AS $$
    SELECT p.id::text, json_strip_nulls(json_build_object(
        'resourceType', 'Condition',
        'id', p.id::text,
        'meta', json_build_object('versionId', p.version::text,
                                  'lastUpdated', fhir_instant(p.updated_at)),
        'clinicalStatus', fhir_concept(
            'http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
        'verificationStatus', fhir_concept(
            'http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed'),
        'category', json_build_array(fhir_concept(
            'http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item')),
        'code', json_build_object('coding', CASE WHEN x.icd IS NULL
            THEN json_build_array(fhir_coding(
                'https://jingfang.example/fhir/CodeSystem/diagnosis', p.diagnosis))
            ELSE json_build_array(fhir_coding('http://hl7.org/fhir/sid/icd-10', x.icd),
                                  fhir_coding('https://jingfang.example/fhir/CodeSystem/diagnosis',
                                              p.diagnosis)) END),
        'subject', fhir_subject(p.id),
        'onsetDateTime', p.onset_date,
        'recordedDate', p.diagnosis_date))
      FROM patients p
      CROSS JOIN LATERAL (SELECT CASE p.diagnosis
          WHEN 'schizophrenia' THEN 'F20' WHEN 'schizoaffective' THEN 'F25'
          WHEN 'paranoid_psychosis' THEN 'F22' WHEN 'bipolar' THEN 'F31'
          WHEN 'epilepsy_psychosis' THEN 'F06' END AS icd) x
     WHERE p.id = fhir_conditions.patient_id AND p.diagnosis IS NOT NULL
$$;

-- RiskAssessment: the level 0–5 as qualitativeRisk, the tier (三级三评) as
-- method, newest first; the basis (free text) only with clinical.
CREATE OR REPLACE FUNCTION fhir_risk_assessments(patient_id bigint, clinical boolean)
RETURNS TABLE (id text, resource json)
LANGUAGE sql STABLE AS $$
    SELECT r.id::text, json_strip_nulls(json_build_object(
        'resourceType', 'RiskAssessment',
        'id', r.id::text,
        'meta', json_build_object('lastUpdated', fhir_instant(r.created_at)),
        'status', 'final',
        'method', fhir_concept('https://jingfang.example/fhir/CodeSystem/assessment-tier', r.tier),
        'subject', fhir_subject(r.patient_id),
        'occurrenceDateTime', r.assessed_on,
        'prediction', json_build_array(json_build_object('qualitativeRisk', fhir_concept(
            'https://jingfang.example/fhir/CodeSystem/risk-level', r.level::text))),
        'note', CASE WHEN clinical AND r.basis IS NOT NULL THEN
            json_build_array(json_build_object('text', r.basis)) END))
      FROM risk_assessments r
     WHERE r.patient_id = fhir_risk_assessments.patient_id
     ORDER BY r.assessed_on DESC, r.id DESC
$$;

-- Flag: the colour tier (colour-<patient>), the current risk when 3 or more
-- (risk-<patient>) and each key-patient flag (kf-<patient>-<flag>), all
-- active safety flags.
CREATE OR REPLACE FUNCTION fhir_flags(patient_id bigint)
RETURNS TABLE (id text, resource json)
LANGUAGE sql STABLE AS $$
    SELECT f.id, json_build_object(
        'resourceType', 'Flag',
        'id', f.id,
        'meta', json_build_object('lastUpdated', fhir_instant(p.updated_at)),
        'status', 'active',
        'category', json_build_array(fhir_concept(
            'http://terminology.hl7.org/CodeSystem/flag-category', 'safety')),
        'code', fhir_concept('https://jingfang.example/fhir/CodeSystem/' || f.system, f.code),
        'subject', fhir_subject(p.id))
      FROM patients p
      CROSS JOIN LATERAL (
          SELECT 0 AS k, 'colour-' || p.id AS id, 'colour-tier' AS system, p.colour AS code
           WHERE p.colour IS NOT NULL
          UNION ALL
          SELECT 1, 'risk-' || p.id, 'risk-level', p.risk_level::text WHERE p.risk_level >= 3
          UNION ALL
          SELECT 2, 'kf-' || p.id || '-' || replace(k.flag, '_', '-'), 'key-patient-flag', k.flag
            FROM jsonb_array_elements_text(p.key_flags) k(flag)) f
     WHERE p.id = fhir_flags.patient_id
     ORDER BY f.k, f.id
$$;

-- MedicationStatement: the prescriptions, active until they end (on today,
-- given by the application), newest first, with the dose as text.
CREATE OR REPLACE FUNCTION fhir_medication_statements(patient_id bigint, today date)
RETURNS TABLE (id text, resource json)
LANGUAGE sql STABLE AS $$
    SELECT m.id::text, json_strip_nulls(json_build_object(
        'resourceType', 'MedicationStatement',
        'id', m.id::text,
        'meta', json_build_object('lastUpdated', fhir_instant(m.created_at)),
        'status', CASE WHEN m.ended_on IS NULL OR m.ended_on >= today THEN 'active'
                       ELSE 'completed' END,
        'medicationCodeableConcept', json_build_object('text', m.drug),
        'subject', fhir_subject(m.patient_id),
        'effectivePeriod', json_build_object('start', m.started_on, 'end', m.ended_on),
        'dateAsserted', fhir_instant(m.created_at),
        'dosage', CASE WHEN d.text IS NOT NULL THEN
            json_build_array(json_build_object('text', d.text)) END))
      FROM prescriptions m
      CROSS JOIN LATERAL (SELECT CASE WHEN m.long_acting
          THEN format('%s mg every %s weeks (long-acting injection)', m.dose_mg, m.every_weeks)
          ELSE nullif(concat_ws(', ',
              CASE WHEN m.dose_morning IS NOT NULL THEN
                  concat_ws(' ', 'morning', m.dose_morning, m.unit) END,
              CASE WHEN m.dose_noon IS NOT NULL THEN
                  concat_ws(' ', 'noon', m.dose_noon, m.unit) END,
              CASE WHEN m.dose_evening IS NOT NULL THEN
                  concat_ws(' ', 'evening', m.dose_evening, m.unit) END), '') END AS text) d
     WHERE m.patient_id = fhir_medication_statements.patient_id
     ORDER BY m.started_on DESC, m.id DESC
$$;
