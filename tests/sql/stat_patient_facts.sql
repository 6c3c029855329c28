-- The statistics definitions tested directly (db/definitions/statistics.sql,
-- stat_patient_facts): one patient a row, in a township made here, inside a
-- transaction that is rolled back. Expected output: expected/<this>.out.
\set ON_ERROR_STOP 1
\pset footer off
BEGIN;
SET LOCAL client_min_messages = warning;
INSERT INTO org_units (level, code, name) VALUES ('township', 'SQLTEST1', '测试镇');

-- 规范管理 [R-STAT-3]: reached visits never more than 92 days apart, from the
-- start (1 January or the registration) to the first and from the last to
-- the end (31 December or today), at least ceil(months / 3), months in
-- hospital not gaps. today NULL: the year is over.
CREATE TEMP TABLE standard_rows (k serial, what text, registered date, today date, visits date[],
                                 admitted date, discharged date) ON COMMIT DROP;
INSERT INTO standard_rows (what, registered, today, visits, admitted, discharged) VALUES
 ('quarterly, exactly 92 days apart', '2025-06-01', NULL, '{2026-04-03,2026-07-04,2026-10-04}', NULL, NULL),
 ('four visits 92 days apart, tail 88', '2025-06-01', NULL, '{2026-01-01,2026-04-03,2026-07-04,2026-10-04}', NULL, NULL),
 ('one gap of 93 days', '2025-06-01', NULL, '{2026-01-01,2026-04-04,2026-07-04,2026-10-04}', NULL, NULL),
 ('first visit 92 days after 1 January', '2025-06-01', NULL, '{2026-04-03,2026-06-01,2026-08-01,2026-10-01,2026-12-01}', NULL, NULL),
 ('first visit 93 days after 1 January', '2025-06-01', NULL, '{2026-04-04,2026-06-01,2026-08-01,2026-10-01,2026-12-01}', NULL, NULL),
 ('last visit 92 days before the end', '2025-06-01', NULL, '{2026-02-01,2026-04-01,2026-06-01,2026-08-01,2026-09-30}', NULL, NULL),
 ('last visit 93 days before the end', '2025-06-01', NULL, '{2026-02-01,2026-04-01,2026-06-01,2026-08-01,2026-09-29}', NULL, NULL),
 ('never visited', '2025-06-01', NULL, '{}', NULL, NULL),
 ('monthly but only three visits', '2025-06-01', NULL, '{2026-03-01,2026-06-01,2026-09-01}', NULL, NULL),
 ('registered in July: two visits suffice', '2026-07-15', NULL, '{2026-08-01,2026-11-01}', NULL, NULL),
 ('registered in July: one visit is too few', '2026-07-15', NULL, '{2026-10-01}', NULL, NULL),
 ('120-day gap with 40 days in hospital', '2025-06-01', NULL, '{2026-01-10,2026-05-10,2026-08-01,2026-10-20}', '2026-02-01', '2026-03-13'),
 ('120-day gap with 20 days in hospital', '2025-06-01', NULL, '{2026-01-10,2026-05-10,2026-08-01,2026-10-20}', '2026-02-01', '2026-02-21'),
 ('in hospital since October: no tail gap', '2025-06-01', NULL, '{2026-01-10,2026-04-10,2026-07-10,2026-09-20}', '2026-10-01', NULL),
 ('period until today, four visits', '2025-06-01', '2026-11-25', '{2026-02-01,2026-05-01,2026-07-30,2026-10-20}', NULL, NULL);

-- Diagnosed, with stand-ins for the encrypted ID number the service writes.
INSERT INTO patients (org_unit_id, status, name, registered_on, diagnosis, diagnosis_date,
                      id_index, id_cipher, id_masked)
SELECT (SELECT id FROM org_units WHERE code = 'SQLTEST1'), 'in_care', 'S' || k, registered,
       'schizophrenia', registered, sha256(convert_to('S' || k, 'UTF8')),
       sha256(convert_to('S' || k, 'UTF8')), '110101********0011'
  FROM standard_rows;
INSERT INTO follow_ups (patient_id, visit_date, mode, reached, class, computed_class, compliance)
SELECT p.id, v, 'home', true, 'stable', 'stable', 'regular'
  FROM standard_rows r JOIN patients p ON p.name = 'S' || r.k, unnest(r.visits) v;
INSERT INTO hospitalisations (patient_id, admitted_on, discharged_on, hospital, involuntary)
SELECT p.id, r.admitted, r.discharged, '市精神卫生中心', false
  FROM standard_rows r JOIN patients p ON p.name = 'S' || r.k WHERE r.admitted IS NOT NULL;

SELECT r.what, f.standard
  FROM standard_rows r JOIN patients p ON p.name = 'S' || r.k
 CROSS JOIN LATERAL stat_patient_facts(p.org_path, '2026-01-01', '2026-12-31',
                                       coalesce(r.today, '2027-01-10'), ARRAY[p.id]) f
 ORDER BY p.id;

-- 在管 [R-STAT-2], 面访 / 规律服药 / 服药 / at home / stable at home [R-STAT-4]
-- over the first half of 2026, and the register [R-STAT-1]: who is counted.
CREATE TEMP TABLE rate_rows (k serial, what text, status text, registered date,
                             visits jsonb, admitted date, closed date) ON COMMIT DROP;
INSERT INTO rate_rows (what, status, registered, visits, admitted, closed) VALUES
 ('home visit, regular, stable', 'in_care', '2025-01-01',
  '[{"d":"2026-03-01","mode":"home","c":"regular","k":"stable"}]', NULL, NULL),
 ('phone only: managed, not 面访', 'in_care', '2025-01-01',
  '[{"d":"2026-03-01","mode":"phone","c":"regular","k":"stable"}]', NULL, NULL),
 ('clinic, then intermittent and unstable', 'in_care', '2025-01-01',
  '[{"d":"2026-02-01","mode":"clinic","c":"regular","k":"stable"},{"d":"2026-05-01","mode":"phone","c":"intermittent","k":"unstable"}]', NULL, NULL),
 ('last says none', 'in_care', '2025-01-01',
  '[{"d":"2026-02-01","mode":"home","c":"regular","k":"stable"},{"d":"2026-04-01","mode":"home","c":"none","k":"basically_stable"}]', NULL, NULL),
 ('unreached only: not managed', 'in_care', '2025-01-01',
  '[{"d":"2026-03-01","mode":"home","c":null,"k":null}]', NULL, NULL),
 ('in hospital, no visit: managed and medicated', 'hospitalised', '2025-01-01', '[]', '2026-05-20', NULL),
 ('visit before registration does not count', 'in_care', '2026-04-01',
  '[{"d":"2026-03-01","mode":"home","c":"regular","k":"stable"}]', NULL, NULL),
 ('registered after the period: not counted', 'in_care', '2026-08-01', '[]', NULL, NULL),
 ('died in March: not counted', 'deceased', '2025-01-01', '[]', NULL, '2026-03-10'),
 ('died in August: counted', 'deceased', '2025-01-01',
  '[{"d":"2026-03-01","mode":"home","c":"regular","k":"stable"}]', NULL, '2026-08-10'),
 ('suspected: not counted', 'suspected', NULL, '[]', NULL, NULL);

INSERT INTO patients (org_unit_id, status, name, registered_on, diagnosis, diagnosis_date,
                      id_index, id_cipher, id_masked)
SELECT (SELECT id FROM org_units WHERE code = 'SQLTEST1'), status, 'R' || k, registered,
       d, registered, h, h, CASE WHEN d IS NOT NULL THEN '110101********0011' END
  FROM rate_rows,
       LATERAL (SELECT CASE WHEN status <> 'suspected' THEN 'schizophrenia' END AS d) x,
       LATERAL (SELECT CASE WHEN status <> 'suspected' THEN sha256(convert_to('R' || k, 'UTF8')) END AS h) y;
INSERT INTO follow_ups (patient_id, visit_date, mode, reached, unreached_reason, class,
                        computed_class, compliance)
SELECT p.id, (v->>'d')::date, v->>'mode', v->>'k' IS NOT NULL,
       CASE WHEN v->>'k' IS NULL THEN 'missing' END, v->>'k', v->>'k', v->>'c'
  FROM rate_rows r JOIN patients p ON p.name = 'R' || r.k, jsonb_array_elements(r.visits) v;
INSERT INTO hospitalisations (patient_id, admitted_on, hospital, involuntary)
SELECT p.id, r.admitted, '市精神卫生中心', false
  FROM rate_rows r JOIN patients p ON p.name = 'R' || r.k WHERE r.admitted IS NOT NULL;
INSERT INTO patient_events (patient_id, kind, event_date, from_status, to_status, death_cause)
SELECT p.id, 'status', r.closed, 'in_care', 'deceased', 'illness'
  FROM rate_rows r JOIN patients p ON p.name = 'R' || r.k WHERE r.closed IS NOT NULL;

SELECT r.what, f.patient_id IS NOT NULL AS counted, f.managed, f.face, f.regular,
       f.medicated, f.at_home, f.stable_home
  FROM rate_rows r JOIN patients p ON p.name = 'R' || r.k
  LEFT JOIN LATERAL stat_patient_facts(p.org_path, '2026-01-01', '2026-06-30', '2026-12-06',
                                       ARRAY[p.id]) f ON true
 ORDER BY p.id;
ROLLBACK;
