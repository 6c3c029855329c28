-- The 统计报表 (campaign report, R-STAT-5) from the rollups, and campaigns'
-- own periods kept beside the calendar ones.
--
-- The report counts patients of a period by facts the dashboard does not
-- keep (risk level, stays, long-acting or oral treatment at the end,
-- migrant, 低保 …): they become more bits of the same per-patient mask,
-- which outgrows a smallint. The distinct staff who made follow-ups do not
-- add up per patient, so they are counted per unit, day and user
-- (stat_unit_staff), kept by triggers in the writing transaction
-- (db/definitions/statistics.sql). A campaign's period (专项行动, its
-- report's default) is rarely a calendar one: it becomes a kept period too.

ALTER TABLE stat_patient_rollups ALTER COLUMN bits TYPE integer[] USING bits::integer[];
-- (its masks become integers: defined again in db/definitions)
DROP FUNCTION stat_rollup_masks(bigint[], smallint[], date);
-- (the reader's pending patients and the report go through the masks)
DROP FUNCTION stat_patient_facts_of(text, date, date, date, bigint[]);
DROP FUNCTION campaign_report_values(text, date, date, date);

-- Periods are numbered as they are first kept (a campaign's may come
-- between two months), no longer by their first day.
DROP FUNCTION stat_calendar_periods(date);
ALTER TABLE stat_rollup_periods DROP CONSTRAINT stat_rollup_periods_kind_check;
ALTER TABLE stat_rollup_periods ADD CONSTRAINT stat_rollup_periods_kind_check
    CHECK (kind IN ('month', 'quarter', 'half', 'year', 'campaign'));

-- Follow-ups per unit (the patient's now), visit day and user: the staff
-- of any period are the users with n > 0 on its days.
CREATE TABLE stat_unit_staff (
    org_unit_id  bigint NOT NULL,
    day          date NOT NULL,
    user_id      bigint NOT NULL,
    n            integer NOT NULL,
    PRIMARY KEY (org_unit_id, day, user_id)
);

INSERT INTO stat_unit_staff
    SELECT p.org_unit_id, f.visit_date, f.user_id, count(*)
      FROM follow_ups f JOIN patients p ON p.id = f.patient_id
     WHERE f.user_id IS NOT NULL
     GROUP BY 1, 2, 3;

-- The masks gain the report's bits: the next pass builds every period again.
UPDATE stat_refresh_log SET rollup_year = NULL;
