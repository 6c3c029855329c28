-- Search tasks for lost patients (查找) [R-LOST-3]: opened at 失访 and
-- followed from the patient's events.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Open the patient's task (none when one is open), assigned as notify()
-- resolves recipients: the nearest agency of each kind whose unit
-- contains the patient.
CREATE OR REPLACE FUNCTION search_task_open(p_patient bigint, p_on date, p_reason text) RETURNS void
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

CREATE OR REPLACE FUNCTION search_task_follow() RETURNS trigger
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

CREATE OR REPLACE TRIGGER patient_events_search_task AFTER INSERT ON patient_events
    FOR EACH ROW WHEN (NEW.kind = 'status') EXECUTE FUNCTION search_task_follow();
