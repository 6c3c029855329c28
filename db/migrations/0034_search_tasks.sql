-- Search tasks (查找, DOMAIN.md "Lost to follow-up", seed 001: 平安办、派出所
-- 共同查找失访患者下落): one open task per lost patient, assigned to the
-- police station and the 平安办 (agency kind stability_office) of the
-- patient's area, with dated notes, closed as found or by a decision.
--
-- The task follows the patient's status events, so that every way of
-- becoming lost (three misses at a recompute, whereabouts unknown) opens
-- it and every way out closes it, in the writer's transaction: a status
-- event into 'lost' opens one; one out of 'lost' closes it — back in care
-- is "found" (by the police when the event says the whereabouts were
-- confirmed, else seen in person at a 面访, the only two ways back), an
-- admission is found in hospital, any other status is the decision it
-- stands for.

CREATE TABLE search_tasks (
    id                   bigserial PRIMARY KEY,
    patient_id           bigint NOT NULL REFERENCES patients(id),
    opened_on            date NOT NULL,
    opened_reason        text NOT NULL CHECK (opened_reason IN ('three_misses',
                                                                'whereabouts_unknown')),
    police_agency_id     bigint REFERENCES agencies(id),
    stability_agency_id  bigint REFERENCES agencies(id),
    state                text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    outcome              text CHECK (outcome IN ('found', 'deceased', 'moved_away', 'detained',
                                                 'deregistered', 'other')),
    found_by             text CHECK (found_by IN ('seen_in_person', 'police_confirmed',
                                                  'admitted')),
    closed_on            date,
    close_reason         text CHECK (length(close_reason) BETWEEN 1 AND 500),
    closed_by            bigint REFERENCES users(id),
    closed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'open') = (outcome IS NULL)),
    CHECK ((state = 'open') = (closed_on IS NULL)),
    CHECK ((outcome = 'found') = (found_by IS NOT NULL)),
    -- A decision says why; "found" carries its evidence instead.
    CHECK (outcome IS NULL OR outcome = 'found' OR close_reason IS NOT NULL)
);

CREATE UNIQUE INDEX search_tasks_one_open ON search_tasks (patient_id) WHERE state = 'open';
CREATE INDEX search_tasks_patient ON search_tasks (patient_id, id);
CREATE INDEX search_tasks_open ON search_tasks (id) WHERE state = 'open';

CREATE TABLE search_task_notes (
    id          bigserial PRIMARY KEY,
    task_id     bigint NOT NULL REFERENCES search_tasks(id),
    noted_on    date NOT NULL,
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
    user_id     bigint NOT NULL REFERENCES users(id),
    agency_id   bigint REFERENCES agencies(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX search_task_notes_task ON search_task_notes (task_id, id);

-- Open the patient's task (none when one is open), assigned as notify()
-- resolves recipients: the nearest agency of each kind whose unit
-- contains the patient.
CREATE FUNCTION search_task_open(p_patient bigint, p_on date, p_reason text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_tasks (patient_id, opened_on, opened_reason, police_agency_id,
                              stability_agency_id)
    SELECT p.id, p_on, p_reason,
           (SELECT a.id FROM agencies a JOIN org_units o ON o.id = a.org_unit_id
             WHERE a.kind = 'police_station' AND starts_with(p.org_path, o.path)
             ORDER BY length(o.path) DESC, a.id LIMIT 1),
           (SELECT a.id FROM agencies a JOIN org_units o ON o.id = a.org_unit_id
             WHERE a.kind = 'stability_office' AND starts_with(p.org_path, o.path)
             ORDER BY length(o.path) DESC, a.id LIMIT 1)
      FROM patients p WHERE p.id = p_patient
    ON CONFLICT (patient_id) WHERE state = 'open' DO NOTHING
$$;

CREATE FUNCTION search_task_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.to_status = 'lost' AND NEW.from_status IS DISTINCT FROM 'lost' THEN
        PERFORM search_task_open(NEW.patient_id, NEW.event_date,
                                 CASE WHEN NEW.detail ? 'whereabouts_unknown'
                                      THEN 'whereabouts_unknown' ELSE 'three_misses' END);
    ELSIF NEW.from_status = 'lost' AND NEW.to_status IS DISTINCT FROM 'lost' THEN
        UPDATE search_tasks
           SET state = 'closed',
               outcome = CASE NEW.to_status WHEN 'in_care' THEN 'found'
                             WHEN 'hospitalised' THEN 'found'
                             WHEN 'deceased' THEN 'deceased' WHEN 'moved_out' THEN 'moved_away'
                             WHEN 'deregistered' THEN 'deregistered' ELSE 'other' END,
               found_by = CASE WHEN NEW.to_status = 'hospitalised' THEN 'admitted'
                              WHEN NEW.to_status <> 'in_care' THEN NULL
                              WHEN NEW.detail ? 'whereabouts_confirmed' THEN 'police_confirmed'
                              ELSE 'seen_in_person' END,
               closed_on = greatest(NEW.event_date, opened_on),
               close_reason = CASE WHEN NEW.to_status NOT IN ('in_care', 'hospitalised')
                                   THEN coalesce(left(NEW.reason, 500), NEW.to_status) END,
               closed_by = NEW.user_id,
               closed_at = now()
         WHERE patient_id = NEW.patient_id AND state = 'open';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER patient_events_search_task AFTER INSERT ON patient_events
    FOR EACH ROW WHEN (NEW.kind = 'status') EXECUTE FUNCTION search_task_follow();

-- Patients lost before this migration get their task now, dated and
-- explained by the event that made them lost (else today), so the ledger
-- is right at once.
SELECT search_task_open(p.id, coalesce(e.event_date, current_date),
                        CASE WHEN e.detail ? 'whereabouts_unknown' THEN 'whereabouts_unknown'
                             ELSE 'three_misses' END)
  FROM patients p
  LEFT JOIN LATERAL (SELECT e.event_date, e.detail FROM patient_events e
                      WHERE e.patient_id = p.id AND e.kind = 'status' AND e.to_status = 'lost'
                      ORDER BY e.id DESC LIMIT 1) e ON true
 WHERE p.status = 'lost';
