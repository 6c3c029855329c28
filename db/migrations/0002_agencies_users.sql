-- Agencies (部门) that act on patients, the people who log in, and their sessions.

CREATE TABLE agencies (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN (
                     'health_office',        -- 卫健办
                     'stability_office',     -- 平安办 / 综治中心
                     'police_station',       -- 派出所
                     'clinic',               -- 卫生院 / 社区卫生服务中心
                     'civil_affairs',        -- 民政办
                     'disabled_federation',  -- 残联
                     'medical_insurance',    -- 医保
                     'justice_office',       -- 司法所
                     'finance_office',       -- 财政所
                     'mental_health_centre', -- 市精神卫生中心
                     'village_committee'     -- 村(居)委会
                 )),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    org_unit_id  bigint NOT NULL REFERENCES org_units(id),
    phone        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_unit_id, name)
);

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{3,32}$'),
    display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 32),
    role           text NOT NULL CHECK (role IN ('admin', 'official', 'doctor', 'police',
                                                 'civil_affairs', 'grid_worker', 'service')),
    org_unit_id    bigint NOT NULL REFERENCES org_units(id),
    agency_id      bigint REFERENCES agencies(id),
    phone          text CHECK (phone ~ '^[0-9+-]{5,20}$'),
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX users_org_unit ON users (org_unit_id);

-- Failed logins per lower-cased username (known or not), so that guessing
-- backs off even across replicas and for names that do not exist.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY,
    failures        integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    last_failure_at timestamptz
);

-- Refresh tokens are stored as SHA-256 of the random token. Each login opens
-- a family; rotation revokes the used token and issues the next in the same
-- family; reuse of a revoked token revokes the whole family (stolen token).
CREATE TABLE refresh_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id),
    family       uuid NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    replaced_by  bigint REFERENCES refresh_tokens(id)
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Record one failed login for key and return how many seconds it is now
-- locked (0 when not). Failures older than an hour are forgotten; from the
-- max_failures-th on, each further failure doubles the lock, up to 15 min.
CREATE FUNCTION login_throttle_fail(p_key text, max_failures int) RETURNS int
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
