-- Service accounts of external systems (a police station's or a hospital's):
-- a client id and a PBKDF2-hashed secret, exchanged for an access token of
-- the linked user of role 'service', whose org unit is the system's region
-- and whose agency is the system's owner. Also the police key-person list
-- status (公安重点人员) of a patient, as the police system reports it.

-- Which incoming integration endpoints an agency's system may call, by the
-- agency's kind: the one place that maps kinds to systems.
CREATE FUNCTION service_system(agency_kind text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
               WHEN agency_kind = 'police_station' THEN 'police'
               WHEN agency_kind IN ('mental_health_centre', 'clinic') THEN 'hospital'
           END
$$;

CREATE TABLE service_clients (
    id                 bigserial PRIMARY KEY,
    client_id          text NOT NULL UNIQUE CHECK (client_id ~ '^jfc_[A-Za-z0-9_-]{16,64}$'),
    secret_hash        text NOT NULL,           -- as users.password_hash: pbkdf2-sha256$…
    user_id            bigint NOT NULL UNIQUE REFERENCES users(id),
    active             boolean NOT NULL DEFAULT true,
    version            integer NOT NULL DEFAULT 1,
    created_by         bigint REFERENCES users(id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    secret_rotated_at  timestamptz,
    last_used_at       timestamptz
);

-- The JSON shape of a client as the admin API returns it. The secret hash
-- never leaves here.
CREATE VIEW api_service_clients AS
SELECT c.id,
       c.version,
       o.path,
       json_build_object(
           'id', c.id,
           'client_id', c.client_id,
           'user_id', c.user_id,
           'username', u.username,
           'display_name', u.display_name,
           'user_active', u.active,
           'org_unit_id', u.org_unit_id,
           'org_unit_name', o.name,
           'agency_id', u.agency_id,
           'agency_name', a.name,
           'agency_kind', a.kind,
           'system', service_system(a.kind),
           'active', c.active,
           'version', c.version,
           'created_at', c.created_at,
           'secret_rotated_at', c.secret_rotated_at,
           'last_used_at', c.last_used_at) AS doc
FROM service_clients c
JOIN users u ON u.id = c.user_id
JOIN org_units o ON o.id = u.org_unit_id
LEFT JOIN agencies a ON a.id = u.agency_id;

-- The police key-person list (公安重点人员管控名单) as last reported by a
-- police system: NULL when never reported. Compared with the health side
-- in the 三网 reconciliation.
ALTER TABLE patients
    ADD COLUMN police_key_person     boolean,
    ADD COLUMN police_key_person_on  date,
    ADD CONSTRAINT patients_police_key_person_dated
        CHECK ((police_key_person IS NULL) = (police_key_person_on IS NULL));
