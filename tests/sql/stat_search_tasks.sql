-- The dashboard's open search tasks (db/definitions/statistics.sql,
-- stat_search_tasks_json): read from the area's lost patients, so a task
-- must be open exactly while its patient is lost (search_task_follow).
-- Expected output: expected/<this>.out.
\set ON_ERROR_STOP 1
\pset footer off
BEGIN;
SET LOCAL client_min_messages = warning;
INSERT INTO org_units (level, code, name) VALUES ('township', 'SQLTEST2', '查找测试镇'),
                                                 ('township', 'SQLTEST3', '邻镇');
INSERT INTO patients (org_unit_id, status, name, registered_on, diagnosis, diagnosis_date,
                      id_index, id_cipher, id_masked)
SELECT o.id, 'in_care', n, '2025-01-01', 'schizophrenia', '2025-01-01',
       sha256(convert_to(n, 'UTF8')), sha256(convert_to(n, 'UTF8')), '110101********0011'
  FROM (VALUES ('L1', 'SQLTEST2'), ('L2', 'SQLTEST2'), ('F1', 'SQLTEST2'), ('N1', 'SQLTEST3')) v(n, c)
  JOIN org_units o ON o.code = v.c;
-- Status moves as the record module writes them: the status, and its event.
CREATE TEMP TABLE moves (n text, on_date date, from_status text, to_status text) ON COMMIT DROP;
INSERT INTO moves VALUES ('L1', '2026-09-01', 'in_care', 'lost'),
                         ('L2', '2026-11-20', 'in_care', 'lost'),
                         ('F1', '2026-08-01', 'in_care', 'lost'),
                         ('F1', '2026-10-01', 'lost', 'in_care'),
                         ('N1', '2026-06-01', 'in_care', 'lost');
UPDATE patients p SET status = m.to_status
  FROM (SELECT DISTINCT ON (n) n, to_status FROM moves ORDER BY n, on_date DESC) m WHERE p.name = m.n;
INSERT INTO patient_events (patient_id, kind, event_date, from_status, to_status)
SELECT p.id, 'status', m.on_date, m.from_status, m.to_status
  FROM moves m JOIN patients p ON p.name = m.n ORDER BY m.on_date;

SELECT o.code, stat_search_tasks_json(o.path, '2026-12-01') AS search_tasks
  FROM org_units o WHERE o.code IN ('SQLTEST2', 'SQLTEST3') ORDER BY o.code;
-- Found again (F1): its task closed, the patient no longer lost.
SELECT p.name, p.status, t.state, t.outcome
  FROM patients p JOIN search_tasks t ON t.patient_id = p.id
 WHERE p.name IN ('L1', 'L2', 'F1', 'N1') ORDER BY p.name;
ROLLBACK;
