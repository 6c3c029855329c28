-- The discharge summary (出院信息单, 2018 规范) and who escorted an admission.
-- A hospital stay records, besides its dates: who brought the patient in
-- (强制送医 is always escorted: police, family, community, the hospital's
-- own team); at discharge the diagnosis (one of the six diseases), the
-- medications in the follow-up form's shape (long-acting injections
-- included), the risk level the hospital assessed, its advice for the
-- community, and the community doctor who takes the patient on. The risk
-- level is also written as a risk assessment of the discharge date (tier
-- 'city': a psychiatrist's face-to-face assessment), so it becomes the
-- patient's current level when it is the newest; risk_assessment_id links
-- the two.
ALTER TABLE hospitalisations
    ADD COLUMN escorted_by text
        CHECK (escorted_by IN ('police', 'family', 'community', 'hospital', 'other')),
    ADD COLUMN escort_names text CHECK (length(escort_names) BETWEEN 1 AND 200),
    ADD COLUMN discharge_diagnosis text
        CHECK (discharge_diagnosis IN ('schizophrenia', 'schizoaffective', 'paranoid_psychosis',
                                       'bipolar', 'epilepsy_psychosis',
                                       'intellectual_disability_psychosis', 'other_harm')),
    ADD COLUMN discharge_medications jsonb
        CHECK (jsonb_typeof(discharge_medications) = 'array'),
    ADD COLUMN discharge_risk_level smallint CHECK (discharge_risk_level BETWEEN 0 AND 5),
    ADD COLUMN discharge_advice text CHECK (length(discharge_advice) BETWEEN 1 AND 2000),
    ADD COLUMN community_doctor_id bigint REFERENCES users(id),
    ADD COLUMN risk_assessment_id bigint REFERENCES risk_assessments(id),
    ADD CONSTRAINT hospitalisations_escort_names CHECK (escort_names IS NULL OR escorted_by IS NOT NULL),
    ADD CONSTRAINT hospitalisations_summary_discharged
        CHECK (discharged_on IS NOT NULL OR (discharge_diagnosis IS NULL
               AND discharge_medications IS NULL AND discharge_risk_level IS NULL
               AND discharge_advice IS NULL AND community_doctor_id IS NULL));
