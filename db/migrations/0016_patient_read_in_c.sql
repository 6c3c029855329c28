-- The patient read path no longer goes through api_patient_read: the
-- service selects plain columns, builds the document itself and audits the
-- read in a batch (api/resources/patient_doc.c, api/audit/audit_batch.c).
-- api_patient_doc stays as the database's own statement of each view, which
-- the tests hold the service's documents to, field for field.
DROP FUNCTION api_patient_read(bigint, text, boolean, boolean, boolean, boolean, bigint, text,
                               text, text, text);
