-- The clinical configuration per unit (分色管理) [R-TIER-2]: a unit's own,
-- else its nearest ancestor's, else the default.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- The configuration that applies at an org path: the unit's own, else its
-- nearest ancestor's, else the default.
CREATE OR REPLACE FUNCTION clinical_config_at(unit_path text) RETURNS clinical_configs
LANGUAGE sql STABLE AS $$
    SELECT c.* FROM clinical_configs c LEFT JOIN org_units u ON u.id = c.org_unit_id
     WHERE c.removed_at IS NULL AND (c.org_unit_id IS NULL OR starts_with(unit_path, u.path))
     ORDER BY length(u.path) DESC NULLS LAST LIMIT 1
$$;

CREATE OR REPLACE VIEW tier_config AS
SELECT t.key AS colour, (t.value->>'interval_months')::int AS interval_months,
       (t.value->>'joint')::bool AS joint, c.updated_at, c.updated_by
  FROM clinical_configs c, jsonb_each(c.tiers) t WHERE c.org_unit_id IS NULL;

CREATE OR REPLACE VIEW clinical_settings AS
SELECT s.key, s.value::int AS value, c.updated_at, c.updated_by
  FROM clinical_configs c, jsonb_each_text(c.settings) s WHERE c.org_unit_id IS NULL;
