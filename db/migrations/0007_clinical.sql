-- The clinical workflow: risk assessments (危险性评估, 三级三评), the national
-- follow-up form (随访), hospitalisations, incidents (肇事肇祸), medication,
-- annual health checks, and the colour-tier configuration. Each patient
-- row also carries the state derived from these (due date, colour, flags),
-- recomputed by the application on every relevant change.

-- Configuration of the colour tiers (分色管理), editable by admins.
CREATE TABLE tier_config (
    colour           text PRIMARY KEY CHECK (colour IN ('red', 'orange', 'yellow', 'green')),
    interval_months  integer NOT NULL CHECK (interval_months BETWEEN 1 AND 3),
    joint            boolean NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       bigint REFERENCES users(id)
);
INSERT INTO tier_config (colour, interval_months, joint) VALUES
    ('red', 1, true), ('orange', 1, false), ('yellow', 3, false), ('green', 3, false);

CREATE TABLE clinical_settings (
    key         text PRIMARY KEY CHECK (key IN ('red_min_risk', 'incident_months',
                                              'relapse_count', 'pickup_tolerance_days')),
    value       integer NOT NULL CHECK (value >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  bigint REFERENCES users(id)
);
INSERT INTO clinical_settings (key, value) VALUES
    ('red_min_risk', 3), ('incident_months', 12), ('relapse_count', 2),
    ('pickup_tolerance_days', 7);

CREATE TABLE risk_assessments (
    id            bigserial PRIMARY KEY,
    patient_id    bigint NOT NULL REFERENCES patients(id),
    assessed_on   date NOT NULL,
    level         smallint NOT NULL CHECK (level BETWEEN 0 AND 5),
    tier          text NOT NULL CHECK (tier IN ('community', 'township', 'city')),
    basis         text CHECK (length(basis) <= 1000),
    follow_up_id  bigint,                 -- set when it came with a follow-up visit
    user_id       bigint REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX risk_assessments_patient ON risk_assessments (patient_id, assessed_on DESC, id DESC);

CREATE TABLE follow_ups (
    id                        bigserial PRIMARY KEY,
    patient_id                bigint NOT NULL REFERENCES patients(id),
    visit_date                date NOT NULL,
    mode                      text NOT NULL CHECK (mode IN ('clinic', 'home', 'phone')),
    informant                 text CHECK (informant IN ('patient', 'family', 'other')),
    reached                   boolean NOT NULL,
    unreached_reason          text CHECK (unreached_reason IN ('out_for_work', 'moved', 'missing',
                                                               'refused', 'other')),
    died                      boolean NOT NULL DEFAULT false,
    death_date                date,
    death_cause               text,
    risk_level                smallint CHECK (risk_level BETWEEN 0 AND 5),
    symptoms                  text[] NOT NULL DEFAULT '{}',
    obvious_psychotic         boolean,
    insight                   text CHECK (insight IN ('complete', 'partial', 'absent')),
    sleep                     text CHECK (sleep IN ('good', 'fair', 'poor')),
    diet                      text CHECK (diet IN ('good', 'fair', 'poor')),
    social_personal_care      text CHECK (social_personal_care IN ('good', 'fair', 'poor')),
    social_housework          text CHECK (social_housework IN ('good', 'fair', 'poor')),
    social_work               text CHECK (social_work IN ('good', 'fair', 'poor', 'na')),
    social_learning           text CHECK (social_learning IN ('good', 'fair', 'poor')),
    social_contact            text CHECK (social_contact IN ('good', 'fair', 'poor')),
    dangerous_acts            jsonb NOT NULL DEFAULT '{}',
    lock_up                   text CHECK (lock_up IN ('none', 'locked', 'released')),
    hospitalisation           text CHECK (hospitalisation IN ('none', 'in_hospital', 'discharged')),
    discharged_on             date,
    lab_tests                 text CHECK (length(lab_tests) <= 500),
    compliance                text CHECK (compliance IN ('regular', 'intermittent', 'none',
                                                         'not_required')),
    adverse_reaction          text CHECK (adverse_reaction IN ('yes', 'no', 'na')),
    adverse_serious           boolean NOT NULL DEFAULT false,
    physical_illness_serious  boolean NOT NULL DEFAULT false,
    treatment_effect          text CHECK (treatment_effect IN ('recovered', 'improved',
                                                               'unchanged', 'worse', 'na')),
    referral                  boolean NOT NULL DEFAULT false,
    referral_reason           text CHECK (length(referral_reason) <= 200),
    referral_to               text CHECK (length(referral_to) <= 100),
    medications               jsonb NOT NULL DEFAULT '[]',
    rehabilitation            text[] NOT NULL DEFAULT '{}',
    computed_class            text CHECK (computed_class IN ('stable', 'basically_stable',
                                                             'unstable')),
    class                     text CHECK (class IN ('stable', 'basically_stable', 'unstable')),
    class_override_reason     text CHECK (length(class_override_reason) <= 500),
    visitors                  text CHECK (length(visitors) <= 200),
    joint_visit               boolean NOT NULL DEFAULT false,
    joint_with                text[] NOT NULL DEFAULT '{}',
    next_due                  date,
    next_due_joint            boolean,
    note                      text CHECK (length(note) <= 1000),
    user_id                   bigint REFERENCES users(id),
    created_at                timestamptz NOT NULL DEFAULT now(),
    -- A reached visit is classified; an unreached one says why and is not.
    CHECK (reached = (class IS NOT NULL) OR died),
    CHECK (reached OR died OR unreached_reason IS NOT NULL),
    CHECK (class IS NOT DISTINCT FROM computed_class OR class_override_reason IS NOT NULL),
    CHECK (NOT died OR (death_date IS NOT NULL AND death_cause IS NOT NULL))
);
CREATE INDEX follow_ups_patient ON follow_ups (patient_id, visit_date DESC, id DESC);

CREATE TABLE hospitalisations (
    id               bigserial PRIMARY KEY,
    patient_id       bigint NOT NULL REFERENCES patients(id),
    admitted_on      date NOT NULL,
    hospital         text NOT NULL CHECK (length(hospital) BETWEEN 1 AND 100),
    involuntary      boolean NOT NULL,        -- 强制送医
    reason           text CHECK (length(reason) <= 500),
    discharged_on    date CHECK (discharged_on >= admitted_on),
    discharge_note   text CHECK (length(discharge_note) <= 500),
    user_id          bigint REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hospitalisations_patient ON hospitalisations (patient_id, admitted_on DESC);
CREATE UNIQUE INDEX hospitalisations_one_open ON hospitalisations (patient_id)
    WHERE discharged_on IS NULL;

CREATE TABLE incidents (
    id              bigserial PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES patients(id),
    occurred_on     date NOT NULL,
    place           text NOT NULL CHECK (length(place) BETWEEN 1 AND 200),
    kind            text NOT NULL CHECK (kind IN ('mild_trouble', 'trouble', 'disaster')),
    injured         integer NOT NULL DEFAULT 0 CHECK (injured >= 0),
    dead            integer NOT NULL DEFAULT 0 CHECK (dead >= 0),
    police_case_no  text CHECK (length(police_case_no) <= 64),
    description     text CHECK (length(description) <= 2000),
    user_id         bigint REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_patient ON incidents (patient_id, occurred_on DESC);

CREATE TABLE prescriptions (
    id             bigserial PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients(id),
    drug           text NOT NULL CHECK (length(drug) BETWEEN 1 AND 100),
    long_acting    boolean NOT NULL DEFAULT false,     -- 长效针剂
    dose_morning   numeric(8, 2) CHECK (dose_morning >= 0),
    dose_noon      numeric(8, 2) CHECK (dose_noon >= 0),
    dose_evening   numeric(8, 2) CHECK (dose_evening >= 0),
    unit           text CHECK (unit IN ('mg', 'ml', 'tablet')),
    every_weeks    integer CHECK (every_weeks BETWEEN 1 AND 12),
    dose_mg        numeric(8, 2) CHECK (dose_mg > 0),
    started_on     date NOT NULL,
    ended_on       date CHECK (ended_on >= started_on),
    user_id        bigint REFERENCES users(id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT long_acting OR (every_weeks IS NOT NULL AND dose_mg IS NOT NULL))
);
CREATE INDEX prescriptions_patient ON prescriptions (patient_id);

CREATE TABLE medication_pickups (
    id               bigserial PRIMARY KEY,
    patient_id       bigint NOT NULL REFERENCES patients(id),
    prescription_id  bigint REFERENCES prescriptions(id),
    picked_on        date NOT NULL,
    days_supplied    integer NOT NULL CHECK (days_supplied BETWEEN 1 AND 180),
    picked_by        text CHECK (length(picked_by) <= 32),
    user_id          bigint REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX medication_pickups_patient ON medication_pickups (patient_id, picked_on DESC);

CREATE TABLE health_checks (
    id          bigserial PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES patients(id),
    checked_on  date NOT NULL,
    items       text[] NOT NULL DEFAULT '{}',
    note        text CHECK (length(note) <= 1000),
    user_id     bigint REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX health_checks_patient ON health_checks (patient_id, checked_on DESC);

-- The derived state, written by the application after each change.
ALTER TABLE patients
    ADD COLUMN registered_on     date,
    ADD COLUMN doctor_id         bigint REFERENCES users(id),   -- the responsible 精防医生
    ADD COLUMN last_reached_on   date,
    ADD COLUMN last_class        text CHECK (last_class IN ('stable', 'basically_stable', 'unstable')),
    ADD COLUMN misses            integer NOT NULL DEFAULT 0,     -- unreached visits since the last reached one
    ADD COLUMN ever_lost         boolean NOT NULL DEFAULT false,
    ADD COLUMN next_due          date,
    ADD COLUMN next_due_joint    boolean NOT NULL DEFAULT false,
    ADD COLUMN due_rule          text,
    ADD COLUMN colour_reasons    jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN health_check_due  date;

UPDATE patients SET registered_on = coalesce(diagnosis_date, created_at::date)
 WHERE status NOT IN ('suspected', 'ruled_out');

-- Worklists read due dates by area, most urgent first.
CREATE INDEX patients_due ON patients (org_path, next_due) WHERE next_due IS NOT NULL;
