-- Medication [R-MED-1]: the pick-ups overdue (取药超期), read by the worklist
-- and by the worker's notification sweep alike.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Retired: the tolerance is now each unit's own (below).
DROP FUNCTION IF EXISTS pickups_overdue(text, text, date, int);

-- The days past a supply's end before a pick-up is overdue, as configured
-- for the unit at p_path (its own, else its nearest ancestor's, else the
-- default: clinical_config_at) [R-MED-1, R-TIER-2].
CREATE OR REPLACE FUNCTION pickup_tolerance_at(p_path text) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT coalesce(((clinical_config_at(p_path)).settings->>'pickup_tolerance_days')::int, 7)
$$;

-- The patients under org paths [p_lo, p_hi) whose last pick-up's supply,
-- plus their unit's tolerance, ran out before p_today while a prescription
-- runs: on the register and not in hospital (medicine is given there),
-- with that pick-up, the day it was expected by and the days late.
CREATE OR REPLACE FUNCTION pickups_overdue(p_lo text, p_hi text, p_today date)
RETURNS TABLE (patient_id bigint, pickup_id bigint, picked_on date, days_supplied int,
               picked_by text, prescription_id bigint, expected_by date, days_late int)
LANGUAGE sql STABLE AS $$
    WITH u AS (SELECT o.id, pickup_tolerance_at(o.path) AS tolerance FROM org_units o
                WHERE o.path >= p_lo AND o.path < p_hi)
    SELECT p.id, lp.id, lp.picked_on, lp.days_supplied, lp.picked_by, lp.prescription_id,
           lp.picked_on + lp.days_supplied, p_today - (lp.picked_on + lp.days_supplied)
      FROM patients p
      JOIN u ON u.id = p.org_unit_id
      JOIN LATERAL (SELECT m.* FROM medication_pickups m WHERE m.patient_id = p.id
                     ORDER BY m.picked_on DESC, m.id DESC LIMIT 1) lp ON true
     WHERE p.org_path >= p_lo AND p.org_path < p_hi
       AND on_register(p.status) AND p.status <> 'hospitalised'
       AND EXISTS (SELECT 1 FROM prescriptions r WHERE r.patient_id = p.id
                    AND r.started_on <= p_today AND (r.ended_on IS NULL OR r.ended_on > p_today))
       AND lp.picked_on + lp.days_supplied + u.tolerance < p_today
$$;

-- The medications of a discharge summary (出院信息单, in the follow-up form's
-- shape) become the patient's prescriptions from the discharge day
-- [R-HOSP-2]: the hospital's regimen replaces the one from before the stay,
-- so the prescriptions open then end that day and each listed medication
-- starts on it. Unless the community has prescribed since (a summary
-- recorded late): then nothing changes. Returns how many it started.
CREATE OR REPLACE FUNCTION prescriptions_from_discharge(p_patient bigint, p_day date,
                                                        p_meds jsonb, p_user bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    started integer;
BEGIN
    IF p_meds IS NULL OR jsonb_array_length(p_meds) = 0
       OR EXISTS (SELECT 1 FROM prescriptions WHERE patient_id = p_patient
                                                AND started_on > p_day) THEN
        RETURN 0;
    END IF;
    UPDATE prescriptions SET ended_on = p_day
     WHERE patient_id = p_patient AND ended_on IS NULL;
    INSERT INTO prescriptions (patient_id, drug, long_acting, dose_morning, dose_noon,
                               dose_evening, unit, every_weeks, dose_mg, started_on, user_id)
        SELECT p_patient, m->>'drug', coalesce((m->>'long_acting')::boolean, false),
               (m->>'morning')::numeric, (m->>'noon')::numeric, (m->>'evening')::numeric,
               m->>'unit', (m->>'every_weeks')::int, (m->>'dose_mg')::numeric, p_day, p_user
          FROM jsonb_array_elements(p_meds) m;
    GET DIAGNOSTICS started = ROW_COUNT;
    RETURN started;
END $$;
