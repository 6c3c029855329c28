-- Ledgers (台账, seed 001: 逐人建立工作台账; DOMAIN.md "Ledgers and
-- information exchange"): the records they need that nothing kept before —
-- medicine delivered to the home (送药上门), why a patient does not take
-- medication and since when (不服药原因), and the work notes of a ledger's
-- entry (one patient in one ledger).

CREATE TABLE medication_deliveries (
    id             bigserial PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients(id),
    delivered_on   date NOT NULL,
    drug           text NOT NULL CHECK (length(drug) BETWEEN 1 AND 100),
    days_supplied  integer CHECK (days_supplied BETWEEN 1 AND 366),
    received_by    text NOT NULL CHECK (received_by IN ('patient', 'guardian', 'other')),
    note           text CHECK (length(note) BETWEEN 1 AND 500),
    user_id        bigint NOT NULL REFERENCES users(id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX medication_deliveries_patient ON medication_deliveries (patient_id, delivered_on);

-- Each statement of the reason is kept; the latest is the current one.
CREATE TABLE non_adherence_reasons (
    id          bigserial PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES patients(id),
    reason      text NOT NULL CHECK (reason IN ('poverty', 'distance', 'side_effects',
                                                'refuses', 'no_insight', 'no_guardian',
                                                'other')),
    since       date NOT NULL,
    note        text CHECK (length(note) BETWEEN 1 AND 500),
    user_id     bigint NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX non_adherence_reasons_patient ON non_adherence_reasons (patient_id, id);

CREATE TABLE ledger_notes (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('lost', 'non_adherent', 'guardianship', 'migrant',
                                              'key')),
    patient_id  bigint NOT NULL REFERENCES patients(id),
    noted_on    date NOT NULL,
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
    user_id     bigint NOT NULL REFERENCES users(id),
    agency_id   bigint REFERENCES agencies(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_notes_entry ON ledger_notes (patient_id, kind, id);

-- They change the patient like every other record (migration 0023).
CREATE TRIGGER medication_deliveries_touch AFTER INSERT ON medication_deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
CREATE TRIGGER non_adherence_reasons_touch AFTER INSERT ON non_adherence_reasons
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
