-- Org units: derived paths (township → village → grid) and the names
-- copied onto patients.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

CREATE OR REPLACE FUNCTION org_unit_level_rank(text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['province', 'city', 'county', 'township', 'village', 'grid'], $1)
$$;

-- The path is derived, never supplied: '/<root id>/…/<own id>/'.
-- A child must sit strictly below its parent's level.
CREATE OR REPLACE FUNCTION org_units_set_path() RETURNS trigger
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

CREATE OR REPLACE TRIGGER org_units_path BEFORE INSERT OR UPDATE ON org_units
    FOR EACH ROW EXECUTE FUNCTION org_units_set_path();

CREATE OR REPLACE FUNCTION org_units_rename_patients() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients SET org_unit_name = NEW.name WHERE org_unit_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER org_units_patient_names AFTER UPDATE OF name ON org_units
    FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name)
    EXECUTE FUNCTION org_units_rename_patients();
