-- The JSON shape of a user as the API returns it, built by PostgreSQL so the
-- C code writes it to the socket unchanged. Password hashes never leave here.

CREATE VIEW api_users AS
SELECT u.id,
       u.version,
       u.role,
       u.org_unit_id,
       o.path,
       json_build_object(
           'id', u.id,
           'username', u.username,
           'display_name', u.display_name,
           'role', u.role,
           'org_unit_id', u.org_unit_id,
           'org_unit_name', o.name,
           'agency_id', u.agency_id,
           'agency_name', a.name,
           'phone', u.phone,
           'active', u.active,
           'version', u.version,
           'created_at', u.created_at,
           'updated_at', u.updated_at) AS doc
FROM users u
JOIN org_units o ON o.id = u.org_unit_id
LEFT JOIN agencies a ON a.id = u.agency_id;
