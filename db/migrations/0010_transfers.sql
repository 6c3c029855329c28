-- Transfers between areas (流转: 双排查/双通报/双管控): a patient moving away
-- is pending acceptance at the receiving unit until accepted or returned;
-- meanwhile both sides see the patient and both are notified. A move out of
-- the system's area names the destination in words and ends with
-- deregistration on the sending side.

CREATE TABLE transfers (
    id              bigserial PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES patients(id),
    from_unit_id    bigint NOT NULL REFERENCES org_units(id),
    to_unit_id      bigint REFERENCES org_units(id),          -- NULL: outside this system
    to_address      text CHECK (length(to_address) <= 200),
    moved_on        date NOT NULL,
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted',
                                                                     'returned', 'cancelled')),
    requested_by    bigint REFERENCES users(id),
    decided_by      bigint REFERENCES users(id),
    decided_on      date,
    decision_note   text CHECK (length(decision_note) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (to_unit_id IS NOT NULL OR to_address IS NOT NULL),
    CHECK ((state = 'pending') = (decided_on IS NULL))
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (patient_id) WHERE state = 'pending';
CREATE INDEX transfers_to_unit ON transfers (to_unit_id) WHERE state = 'pending';
