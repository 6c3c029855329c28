-- Care team (五包一 / 关爱帮扶小组): for each patient a guardian, a village
-- cadre, a mental-health doctor, a police officer and a grid worker. A
-- member is either a user of the system (name and phone copied from the
-- user) or a named person with a phone. One active member per role; a
-- replaced or ended member is kept as history, never deleted. A full team
-- is required for key patients (key flags, or colour red or orange).

CREATE TABLE care_team_members (
    id            bigserial PRIMARY KEY,
    patient_id    bigint NOT NULL REFERENCES patients(id),
    role          text NOT NULL CHECK (role IN ('guardian', 'village_cadre', 'doctor', 'police',
                                                'grid_worker')),
    user_id       bigint REFERENCES users(id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
    phone         text CHECK (phone ~ '^[0-9+-]{5,20}$'),
    phone_masked  text,
    active        boolean NOT NULL DEFAULT true,
    ended_on      date,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (user_id IS NOT NULL OR phone IS NOT NULL),
    CHECK (active OR ended_on IS NOT NULL)
);

CREATE INDEX care_team_members_patient ON care_team_members (patient_id);
CREATE UNIQUE INDEX care_team_one_per_role ON care_team_members (patient_id, role) WHERE active;

-- Is the patient a key patient (重点患者), whose care team must be full?
CREATE FUNCTION care_team_required(key_flags jsonb, colour text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_array_length(key_flags), 0) > 0 OR coalesce(colour IN ('red', 'orange'), false)
$$;

-- The roles without an active member, in the team's order.
CREATE FUNCTION care_team_missing(pid bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(r ORDER BY o), '{}')
      FROM unnest(ARRAY['guardian', 'village_cadre', 'doctor', 'police', 'grid_worker'])
           WITH ORDINALITY AS t(r, o)
     WHERE NOT EXISTS (SELECT 1 FROM care_team_members m
                        WHERE m.patient_id = pid AND m.role = t.r AND m.active)
$$;
