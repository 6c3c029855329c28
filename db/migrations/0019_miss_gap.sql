-- 失访 counts distinct cycles (DOMAIN.md "Lost to follow-up"): unreached
-- attempts closer than miss_gap_days to the one that counted are logged
-- but count once. Configurable like the other clinical settings.
ALTER TABLE clinical_settings DROP CONSTRAINT clinical_settings_key_check;
ALTER TABLE clinical_settings ADD CONSTRAINT clinical_settings_key_check
    CHECK (key IN ('red_min_risk', 'incident_months', 'relapse_count', 'pickup_tolerance_days',
                   'miss_gap_days'));
INSERT INTO clinical_settings (key, value) VALUES ('miss_gap_days', 7) ON CONFLICT DO NOTHING;
