-- 三网 data comparison (seed 003, 集中摸排起底行动): lists from the police
-- key-person database, the national mental-health system and the grid
-- platform (and optionally drug purchases, special outpatient and
-- out-of-town reimbursement) are loaded into staging rows, matched on the
-- ID number's blind index (weakly on name + birth date) against each other
-- and the registry, and every discrepancy becomes a finding: a work item of
-- a unit, open → verifying → resolved. No plain ID number is stored here:
-- only the HMAC blind index and the masked form.

CREATE FUNCTION reconcile_source_bit(source text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE source WHEN 'police' THEN 1 WHEN 'health' THEN 2 WHEN 'grid' THEN 4
                       WHEN 'drug_purchase' THEN 8 WHEN 'special_outpatient' THEN 16
                       WHEN 'reimbursement' THEN 32 ELSE 0 END
$$;

-- Column mappings per source (header texts), saved for reuse.
CREATE TABLE reconcile_mappings (
    id           bigserial PRIMARY KEY,
    org_unit_id  bigint NOT NULL REFERENCES org_units(id),
    source       text NOT NULL CHECK (reconcile_source_bit(source) > 0),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    columns      jsonb NOT NULL CHECK (jsonb_typeof(columns) = 'object'),
    created_by   bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_unit_id, source, name)
);

CREATE TABLE reconcile_runs (
    id               bigserial PRIMARY KEY,
    org_unit_id      bigint NOT NULL REFERENCES org_units(id),
    org_path         text COLLATE "C" NOT NULL,
    status           text NOT NULL DEFAULT 'loading' CHECK (status IN ('loading', 'done')),
    note             text CHECK (length(note) <= 500),
    created_by       bigint REFERENCES users(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    analysed_at      timestamptz,
    previous_run_id  bigint REFERENCES reconcile_runs(id),
    summary          jsonb,   -- findings per category
    diff             jsonb    -- new / persisting / resolved against the previous run
);
CREATE INDEX reconcile_runs_scope ON reconcile_runs (org_path, id);
CREATE INDEX reconcile_runs_unit ON reconcile_runs (org_unit_id, id);

-- One loaded file per source and run (a new upload replaces the old one).
CREATE TABLE reconcile_sources (
    run_id     bigint NOT NULL REFERENCES reconcile_runs(id),
    source     text NOT NULL CHECK (reconcile_source_bit(source) > 0),
    rows       integer NOT NULL CHECK (rows >= 0),
    encoding   text NOT NULL CHECK (encoding IN ('utf-8', 'gbk')),
    loaded_by  bigint REFERENCES users(id),
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, source)
);

-- Staging: one normalised row per CSV line, written by COPY. UNLOGGED (a
-- crash empties it: upload again) and without indexes: matching is
-- set-based (hash joins over one run's rows). id_state: v valid, i invalid,
-- m missing. id_index is the blind index of the normalised ID (of the
-- cleaned text for an invalid one), id_masked its masked form.
CREATE UNLOGGED TABLE reconcile_rows (
    run_id      bigint NOT NULL,
    source      text NOT NULL,
    line        integer NOT NULL,
    id_state    "char" NOT NULL,
    id_index    bytea,
    id_masked   text,
    name        text,
    gender      text,
    birth_date  date,
    village     text,
    status      text,
    risk        smallint
);

CREATE TABLE reconcile_findings (
    id           bigserial PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES reconcile_runs(id),
    org_unit_id  bigint NOT NULL REFERENCES org_units(id),
    org_path     text COLLATE "C" NOT NULL,
    category     text NOT NULL CHECK (category IN ('missing_police', 'unregistered',
                     'not_in_registry', 'deceased_conflict', 'village_conflict', 'risk_conflict',
                     'invalid_id', 'duplicate')),
    person_key   text NOT NULL,   -- identity across runs, with the category
    person_k     bytea,           -- the blind index (or weak key) the rows were grouped by
    weak         boolean NOT NULL DEFAULT false,  -- matched on name + birth date only
    patient_id   bigint REFERENCES patients(id),
    name         text,
    id_masked    text,
    birth_date   date,
    sources      text[] NOT NULL DEFAULT '{}',
    facts        jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'verifying', 'resolved')),
    previous_id  bigint REFERENCES reconcile_findings(id),
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, category, person_key)
);
CREATE INDEX reconcile_findings_scope ON reconcile_findings (org_path, id);
CREATE INDEX reconcile_findings_run ON reconcile_findings (run_id, id);

-- The trail of a finding: every move with its note.
CREATE TABLE reconcile_finding_events (
    id           bigserial PRIMARY KEY,
    finding_id   bigint NOT NULL REFERENCES reconcile_findings(id),
    from_status  text,
    to_status    text NOT NULL,
    note         text CHECK (length(note) <= 500),
    user_id      bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconcile_finding_events_finding ON reconcile_finding_events (finding_id, id);
