-- Accounts: users and service clients as the API reads them, and the login
-- throttle.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Record one failed login for key and return how many seconds it is now
-- locked (0 when not). Failures older than an hour are forgotten; from the
-- max_failures-th on, each further failure doubles the lock, up to 15 min.
CREATE OR REPLACE FUNCTION login_throttle_fail(p_key text, max_failures int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    INSERT INTO login_throttle AS t (key, failures, last_failure_at)
    VALUES (p_key, 1, now())
    ON CONFLICT (key) DO UPDATE
        SET failures = CASE WHEN t.last_failure_at < now() - interval '1 hour' THEN 1
                            ELSE t.failures + 1 END,
            last_failure_at = now()
    RETURNING failures INTO n;
    IF n < max_failures THEN
        RETURN 0;
    END IF;
    UPDATE login_throttle
       SET locked_until = now() + make_interval(secs => least(900, power(2, n - max_failures)))
     WHERE key = p_key;
    RETURN least(900, power(2, n - max_failures))::int;
END $$;

CREATE OR REPLACE VIEW api_users AS
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

-- Which incoming integration endpoints an agency's system may call, by the
-- agency's kind: the one place that maps kinds to systems.
CREATE OR REPLACE FUNCTION service_system(agency_kind text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
               WHEN agency_kind = 'police_station' THEN 'police'
               WHEN agency_kind IN ('mental_health_centre', 'clinic') THEN 'hospital'
           END
$$;

-- The JSON shape of a client as the admin API returns it. The secret hash
-- never leaves here.
CREATE OR REPLACE VIEW api_service_clients AS
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

CREATE OR REPLACE FUNCTION users_rename_patients() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients SET doctor_name = NEW.display_name WHERE doctor_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER users_patient_names AFTER UPDATE OF display_name ON users
    FOR EACH ROW WHEN (NEW.display_name IS DISTINCT FROM OLD.display_name)
    EXECUTE FUNCTION users_rename_patients();

-- Count one attempt on p_key whose limit is max_attempts, in one statement
-- that increments and tests at once (the row lock orders concurrent ones).
-- Returns 0 when the attempt may go on (counted; from the limit-th one it
-- locks the key for the next), else the seconds the key stays locked (the
-- attempt is refused and not counted: its last_failure_at is not now()).
CREATE OR REPLACE FUNCTION login_throttle_hit(p_key text, max_attempts int) RETURNS int
LANGUAGE sql AS $$
    INSERT INTO login_throttle AS t (key, failures, last_failure_at, locked_until)
    VALUES (p_key, 1, now(), CASE WHEN max_attempts <= 1 THEN now() + interval '1 minute' END)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.locked_until > now() THEN t.failures
                        WHEN t.last_failure_at < now() - interval '1 hour' THEN 1
                        ELSE t.failures + 1 END,
        last_failure_at = CASE WHEN t.locked_until > now() THEN t.last_failure_at ELSE now() END,
        locked_until = CASE
            WHEN t.locked_until > now() THEN t.locked_until
            WHEN t.last_failure_at < now() - interval '1 hour' THEN
                CASE WHEN max_attempts <= 1 THEN now() + interval '1 minute' END
            WHEN t.failures + 1 >= max_attempts THEN
                now() + make_interval(secs => least(900, 60 * power(2, least(10, t.failures + 1 - max_attempts))))
            END
    RETURNING CASE WHEN t.last_failure_at = now() THEN 0
                   ELSE greatest(1, ceil(extract(epoch FROM t.locked_until - now())))::int END
$$;

-- One login (or token) attempt by p_account (lower-cased; p_known: it
-- exists) from p_addr: purge idle rows, then count it on the address, on
-- the account from that address, and on a known account; stop at the first
-- key that refuses. Returns 0 (go on) or the seconds to wait (Retry-After).
CREATE OR REPLACE FUNCTION login_throttle_take(p_addr text, p_account text, p_known boolean,
                                    addr_max int, pair_max int, acct_max int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    wait int;
BEGIN
    DELETE FROM login_throttle WHERE key IN (
        SELECT key FROM login_throttle
         WHERE last_failure_at < now() - interval '1 hour'
           AND (locked_until IS NULL OR locked_until < now())
         LIMIT 100 FOR UPDATE SKIP LOCKED);
    wait := login_throttle_hit('addr:' || p_addr, addr_max);
    IF wait = 0 THEN
        wait := login_throttle_hit('pair:' || p_account || '@' || p_addr, pair_max);
    END IF;
    IF wait = 0 AND p_known THEN
        wait := login_throttle_hit('acct:' || p_account, acct_max);
    END IF;
    RETURN wait;
END $$;

-- The attempt succeeded: forget the account's failures from that address,
-- and give the attempt back to the address and the account (lifting a lock
-- the attempt itself set).
CREATE OR REPLACE FUNCTION login_throttle_ok(p_addr text, p_account text, addr_max int, acct_max int)
RETURNS void
LANGUAGE sql AS $$
    DELETE FROM login_throttle WHERE key = 'pair:' || p_account || '@' || p_addr;
    UPDATE login_throttle
       SET failures = failures - 1,
           locked_until = CASE WHEN failures - 1 >= CASE WHEN key = 'addr:' || p_addr
                                                         THEN addr_max ELSE acct_max END
                               THEN locked_until END
     WHERE key IN ('addr:' || p_addr, 'acct:' || p_account) AND failures > 0;
$$;
