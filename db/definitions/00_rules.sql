-- Predicates of the rules that many definitions and statements share, so
-- that each is written once. First in name order: every other definition
-- may use them.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- On the register (在册) [R-STAT-1]: diagnosed, and neither deceased nor
-- deregistered (a suspected or ruled-out person never was). Inlined by the
-- planner, so it costs what the IN list costs.
CREATE OR REPLACE FUNCTION on_register(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT status IN ('registered', 'in_care', 'hospitalised', 'lost', 'moved_out')
$$;
