-- Saved periods (常用统计时段, api/resources/stat_periods.c): a from–to period
-- a unit asks for again and again, kept in the rollups from the worker's
-- next pass (stat_keep_periods) like the calendar periods and campaigns'.
CREATE TABLE stat_saved_periods (
    id           bigserial PRIMARY KEY,
    org_unit_id  bigint NOT NULL REFERENCES org_units(id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    period_from  date NOT NULL,
    period_to    date NOT NULL CHECK (period_to >= period_from),
    created_by   bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_unit_id, period_from, period_to)
);
GRANT DELETE ON stat_saved_periods TO jingfang_app;

ALTER TABLE stat_rollup_periods DROP CONSTRAINT stat_rollup_periods_kind_check;
ALTER TABLE stat_rollup_periods ADD CONSTRAINT stat_rollup_periods_kind_check
    CHECK (kind IN ('month', 'quarter', 'half', 'year', 'campaign', 'saved'));
