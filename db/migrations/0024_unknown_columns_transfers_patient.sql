-- A 三网 list may carry columns that no mapped column names (序号, 民族, a
-- misspelt 风险等级 …). The load keeps going without them, and the loaded
-- source says which they were, so that the run shows what was left out
-- instead of dropping it silently.
ALTER TABLE reconcile_sources ADD COLUMN unknown_columns text[] NOT NULL DEFAULT '{}';

-- The periodic export looks up each patient's transfers of the period
-- (api/resources/exports.c); only the pending one had an index by patient.
CREATE INDEX transfers_patient ON transfers (patient_id);
