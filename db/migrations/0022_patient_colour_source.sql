-- Where each patient's colour came from: the scheme (rules or points), the
-- org unit whose configuration applied (NULL: the default) and, under
-- points, the total and its terms ({"risk_level": 4, "weak_guardian": 2}).
-- Written with the colour by the recompute.
ALTER TABLE patients
    ADD COLUMN colour_scheme         text CHECK (colour_scheme IN ('rules', 'points')),
    ADD COLUMN colour_config_unit_id bigint REFERENCES org_units(id),
    ADD COLUMN colour_points         integer,
    ADD COLUMN colour_points_detail  jsonb;

-- Colours given so far were all given by the rules.
UPDATE patients SET colour_scheme = 'rules' WHERE colour IS NOT NULL;
