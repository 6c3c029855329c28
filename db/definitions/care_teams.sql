-- The care team (五包一) [R-CARE-1]: who is a key patient whose team must be
-- full, and which roles are missing.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Is the patient a key patient (重点患者), whose care team must be full? [R-CARE-1]
CREATE OR REPLACE FUNCTION care_team_required(key_flags jsonb, colour text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_array_length(key_flags), 0) > 0 OR coalesce(colour IN ('red', 'orange'), false)
$$;

-- The roles without an active member, in the team's order.
CREATE OR REPLACE FUNCTION care_team_missing(pid bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(r ORDER BY o), '{}')
      FROM unnest(ARRAY['guardian', 'village_cadre', 'doctor', 'police', 'grid_worker'])
           WITH ORDINALITY AS t(r, o)
     WHERE NOT EXISTS (SELECT 1 FROM care_team_members m
                        WHERE m.patient_id = pid AND m.role = t.r AND m.active)
$$;
