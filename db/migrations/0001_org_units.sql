-- Org units: province → city → county → township/street → village/community → grid.
-- A user sees what lies in their unit's subtree; the materialised path makes
-- "is X inside Y" a prefix test that an index (COLLATE "C") answers.

CREATE TABLE org_units (
    id          bigserial PRIMARY KEY,
    parent_id   bigint REFERENCES org_units(id),
    level       text NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village', 'grid')),
    code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9A-Z]{2,24}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    path        text COLLATE "C" NOT NULL UNIQUE,
    population  integer CHECK (population >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX org_units_parent ON org_units (parent_id);

CREATE FUNCTION org_unit_level_rank(text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['province', 'city', 'county', 'township', 'village', 'grid'], $1)
$$;

-- The path is derived, never supplied: '/<root id>/…/<own id>/'.
-- A child must sit strictly below its parent's level.
CREATE FUNCTION org_units_set_path() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent org_units%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.id <> OLD.id) THEN
        RAISE EXCEPTION 'org unit % cannot be moved', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.parent_id IS NULL THEN
        NEW.path := '/' || NEW.id || '/';
    ELSE
        SELECT * INTO parent FROM org_units WHERE id = NEW.parent_id;
        IF org_unit_level_rank(NEW.level) <= org_unit_level_rank(parent.level) THEN
            RAISE EXCEPTION 'a % cannot sit under a %', NEW.level, parent.level
                USING ERRCODE = 'check_violation';
        END IF;
        NEW.path := parent.path || NEW.id || '/';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER org_units_path BEFORE INSERT OR UPDATE ON org_units
    FOR EACH ROW EXECUTE FUNCTION org_units_set_path();
