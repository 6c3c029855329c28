-- Medication [R-MED-1]: the pick-ups overdue (取药超期), read by the worklist
-- and by the worker's notification sweep alike.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- The patients under org paths [p_lo, p_hi) whose last pick-up's supply,
-- plus p_tolerance days, ran out before p_today while a prescription runs:
-- on the register and not in hospital (medicine is given there), with
-- that pick-up, the day it was expected by and the days late.
CREATE OR REPLACE FUNCTION pickups_overdue(p_lo text, p_hi text, p_today date, p_tolerance int)
RETURNS TABLE (patient_id bigint, pickup_id bigint, picked_on date, days_supplied int,
               picked_by text, prescription_id bigint, expected_by date, days_late int)
LANGUAGE sql STABLE AS $$
    SELECT p.id, lp.id, lp.picked_on, lp.days_supplied, lp.picked_by, lp.prescription_id,
           lp.picked_on + lp.days_supplied, p_today - (lp.picked_on + lp.days_supplied)
      FROM patients p
      JOIN LATERAL (SELECT m.* FROM medication_pickups m WHERE m.patient_id = p.id
                     ORDER BY m.picked_on DESC, m.id DESC LIMIT 1) lp ON true
     WHERE p.org_path >= p_lo AND p.org_path < p_hi
       AND on_register(p.status) AND p.status <> 'hospitalised'
       AND EXISTS (SELECT 1 FROM prescriptions r WHERE r.patient_id = p.id
                    AND r.started_on <= p_today AND (r.ended_on IS NULL OR r.ended_on > p_today))
       AND lp.picked_on + lp.days_supplied + p_tolerance < p_today
$$;
