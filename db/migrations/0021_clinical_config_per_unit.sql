-- The clinical configuration (分色管理, DOMAIN.md "Colour tier") per org
-- unit: each township (or county, or village) may keep its own tiers,
-- thresholds and scheme (the rules of DOMAIN.md, or points: 积分, seed 001);
-- a unit without its own uses its nearest ancestor's, and the row without a
-- unit is the default (the root's). A unit's configuration is one document,
-- replaced whole; the API validates it (resources/settings.c). A unit made
-- to inherit again keeps its row, marked removed (the service deletes
-- nothing here), until it has its own again.
CREATE TABLE clinical_configs (
    org_unit_id  bigint REFERENCES org_units(id),  -- NULL: the default
    tiers        jsonb NOT NULL CHECK (jsonb_typeof(tiers) = 'object'),
    settings     jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
    scheme       text NOT NULL DEFAULT 'rules' CHECK (scheme IN ('rules', 'points')),
    points       jsonb CHECK (jsonb_typeof(points) = 'object'),
    removed_at   timestamptz CHECK (removed_at IS NULL OR org_unit_id IS NOT NULL),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   bigint REFERENCES users(id),
    UNIQUE NULLS NOT DISTINCT (org_unit_id),
    CHECK (scheme = 'rules' OR points IS NOT NULL)
);

INSERT INTO clinical_configs (org_unit_id, tiers, settings, updated_at, updated_by)
SELECT NULL,
       (SELECT jsonb_object_agg(colour, jsonb_build_object('interval_months', interval_months,
                                                           'joint', joint)) FROM tier_config),
       (SELECT jsonb_object_agg(key, value) FROM clinical_settings),
       coalesce(last.updated_at, now()), last.updated_by
  FROM (SELECT NULL) one
  LEFT JOIN (SELECT updated_at, updated_by FROM tier_config
             UNION ALL SELECT updated_at, updated_by FROM clinical_settings
             ORDER BY updated_at DESC LIMIT 1) last ON true;

-- The configuration that applies at an org path: the unit's own, else its
-- nearest ancestor's, else the default.
CREATE FUNCTION clinical_config_at(unit_path text) RETURNS clinical_configs
LANGUAGE sql STABLE AS $$
    SELECT c.* FROM clinical_configs c LEFT JOIN org_units u ON u.id = c.org_unit_id
     WHERE c.removed_at IS NULL AND (c.org_unit_id IS NULL OR starts_with(unit_path, u.path))
     ORDER BY length(u.path) DESC NULLS LAST LIMIT 1
$$;

-- The former tables, as views of the default, for readers of one setting
-- (the 取药超期 tolerance, the generator).
DROP TABLE tier_config, clinical_settings;
CREATE VIEW tier_config AS
SELECT t.key AS colour, (t.value->>'interval_months')::int AS interval_months,
       (t.value->>'joint')::bool AS joint, c.updated_at, c.updated_by
  FROM clinical_configs c, jsonb_each(c.tiers) t WHERE c.org_unit_id IS NULL;
CREATE VIEW clinical_settings AS
SELECT s.key, s.value::int AS value, c.updated_at, c.updated_by
  FROM clinical_configs c, jsonb_each_text(c.settings) s WHERE c.org_unit_id IS NULL;
