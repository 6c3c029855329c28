-- The worker's pass takes a bulk change (a county's register imported, a
-- township's patients moved at once) by computing everyone again rather
-- than patient by patient (stat_refresh_bulk), and the log says which pass
-- ran and how many patients had changed. bulk_min: the fewest changed
-- patients taken as a bulk change, an operator's setting.
ALTER TABLE stat_refresh_log
    ADD COLUMN pass text CHECK (pass IN ('rebuild', 'bulk', 'changes')),
    ADD COLUMN changed_patients integer,
    ADD COLUMN bulk_min integer NOT NULL DEFAULT 2000 CHECK (bulk_min > 0);
