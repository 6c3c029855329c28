-- The patient registry (一人一档): one record per person, the resident ID
-- number encrypted (AES-256-GCM in the application) and found by a keyed
-- blind index; every status change is a dated event; guardians per patient.

CREATE TABLE patients (
    id                   bigserial PRIMARY KEY,
    org_unit_id          bigint NOT NULL REFERENCES org_units(id),  -- 现住址 unit (village or grid)
    org_path             text COLLATE "C" NOT NULL,                  -- copy of the unit's path, for scope
    status               text NOT NULL CHECK (status IN (
                             'suspected',     -- 疑似, reported, awaiting diagnosis
                             'ruled_out',     -- 排除, not a patient after all
                             'registered',    -- 在册, diagnosed
                             'in_care',       -- 在管
                             'hospitalised',  -- 住院
                             'lost',          -- 失访
                             'moved_out',     -- 迁出, pending transfer
                             'deceased',      -- 死亡
                             'deregistered')),-- 销案
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
    id_cipher            bytea,               -- iv || AES-256-GCM(18-digit ID) || tag
    id_index             bytea UNIQUE,        -- HMAC-SHA256(index key, 18-digit ID)
    id_masked            text CHECK (id_masked ~ '^[0-9]{6}\*{8}[0-9]{3}[0-9X]$'),
    gender               text CHECK (gender IN ('male', 'female')),
    birth_date           date,
    phone                text CHECK (phone ~ '^[0-9+-]{5,20}$'),
    phone_masked         text,                -- masked by the application, shown to roles that need no number
    ethnicity            text CHECK (length(ethnicity) <= 16),
    address              text CHECK (length(address) <= 128),          -- 现住址
    hukou_area_code      text CHECK (hukou_area_code ~ '^[0-9]{9}$'),  -- 户籍地 area code
    hukou_address        text CHECK (length(hukou_address) <= 128),
    household_type       text CHECK (household_type IN ('urban', 'rural')),
    employment           text CHECK (employment IN ('worker', 'manager', 'farmer', 'unemployed',
                             'student', 'retired', 'professional', 'other', 'unknown')),
    economic_status      text NOT NULL DEFAULT 'unknown'
                             CHECK (economic_status IN ('poor', 'not_poor', 'unknown')),
    dibao                boolean NOT NULL DEFAULT false,   -- 低保
    tekun                boolean NOT NULL DEFAULT false,   -- 特困
    lives_alone          boolean NOT NULL DEFAULT false,
    can_drive            boolean NOT NULL DEFAULT false,   -- 掌握驾驶技能
    family_history       boolean NOT NULL DEFAULT false,
    migrant              boolean NOT NULL DEFAULT false,   -- 流动人口
    vagrant              boolean NOT NULL DEFAULT false,   -- 流浪乞讨
    consent              text CHECK (consent IN ('agreed', 'refused')),
    consent_date         date,
    onset_date           date,
    diagnosis            text CHECK (diagnosis IN ('schizophrenia', 'schizoaffective',
                             'paranoid_psychosis', 'bipolar', 'epilepsy_psychosis',
                             'intellectual_disability_psychosis', 'other_harm')),
    diagnosing_hospital  text CHECK (length(diagnosing_hospital) <= 64),
    diagnosis_date       date,
    report_note          text CHECK (length(report_note) <= 500),  -- what the reporter saw
    reported_by          bigint REFERENCES users(id),
    risk_level           smallint CHECK (risk_level BETWEEN 0 AND 5),
    colour               text CHECK (colour IN ('red', 'orange', 'yellow', 'green')),
    key_flags            jsonb NOT NULL DEFAULT '[]',
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- A diagnosed person has a diagnosis and an ID number; a suspected one
    -- may have neither yet.
    CHECK (status IN ('suspected', 'ruled_out') OR
           (diagnosis IS NOT NULL AND diagnosis_date IS NOT NULL AND id_index IS NOT NULL)),
    CHECK ((id_cipher IS NULL) = (id_index IS NULL) AND (id_index IS NULL) = (id_masked IS NULL))
);

-- Lists walk a subtree in (org_path, id) order: one index range scan per page.
CREATE INDEX patients_scope ON patients (org_path, id);
CREATE INDEX patients_name ON patients (name COLLATE "C");
CREATE INDEX patients_status ON patients (status);

-- The path follows the unit, whoever writes the row.
CREATE FUNCTION patients_set_path() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.org_unit_id IS DISTINCT FROM OLD.org_unit_id THEN
        SELECT path INTO NEW.org_path FROM org_units WHERE id = NEW.org_unit_id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER patients_path BEFORE INSERT OR UPDATE ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_set_path();

-- Every status change, with its date and reason (死亡: date and cause; 销案: reason).
CREATE TABLE patient_events (
    id           bigserial PRIMARY KEY,
    patient_id   bigint NOT NULL REFERENCES patients(id),
    kind         text NOT NULL CHECK (kind IN ('created', 'reported', 'status', 'diagnosed',
                                               'ruled_out', 'updated')),
    event_date   date NOT NULL,
    from_status  text,
    to_status    text,
    reason       text CHECK (length(reason) <= 500),
    death_cause  text CHECK (death_cause IN ('illness', 'suicide', 'accident', 'homicide',
                                             'other', 'unknown')),
    detail       jsonb,
    user_id      bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (to_status IS DISTINCT FROM 'deceased' OR death_cause IS NOT NULL),
    CHECK (to_status IS DISTINCT FROM 'deregistered' OR reason IS NOT NULL)
);

CREATE INDEX patient_events_patient ON patient_events (patient_id, id);

-- Guardians (监护人): primary, assistant (seed 004: at least two), or a
-- social guardian appointed from the village committee or civil affairs
-- when no capable relative exists. Ended, never deleted.
CREATE TABLE guardians (
    id                        bigserial PRIMARY KEY,
    patient_id                bigint NOT NULL REFERENCES patients(id),
    kind                      text NOT NULL CHECK (kind IN ('primary', 'assistant', 'social')),
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
    relation                  text NOT NULL CHECK (relation IN ('spouse', 'parent', 'child',
                                  'sibling', 'grandparent', 'other_relative', 'village_committee',
                                  'civil_affairs', 'other')),
    id_cipher                 bytea,
    id_index                  bytea,
    id_masked                 text,
    phone                     text CHECK (phone ~ '^[0-9+-]{5,20}$'),
    phone_masked              text,
    address                   text CHECK (length(address) <= 128),
    capacity                  text NOT NULL CHECK (capacity IN ('adequate', 'weak', 'none')),
    agreement_signed_on       date,   -- 监护责任书/协议
    responsibility_notice_on  date,   -- 法律责任告知书
    agency_id                 bigint REFERENCES agencies(id),  -- the appointing body of a social guardian
    active                    boolean NOT NULL DEFAULT true,
    ended_on                  date,
    version                   integer NOT NULL DEFAULT 1,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'social' OR agency_id IS NOT NULL),
    CHECK (active OR ended_on IS NOT NULL)
);

CREATE INDEX guardians_patient ON guardians (patient_id);
CREATE UNIQUE INDEX guardians_one_primary ON guardians (patient_id) WHERE kind = 'primary' AND active;

-- Retried POSTs (offline clients): the first response is kept and replayed.
CREATE TABLE idempotency_keys (
    user_id       bigint NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    method        text NOT NULL,
    path          text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer,
    location      text,
    response      bytea,   -- AES-256-GCM: a response may carry an ID number
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
