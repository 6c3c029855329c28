-- The dashboard's search-task figure (查找, DOMAIN.md "Lost to follow-up"):
-- the tasks open for patients of the area under p_path, and the oldest
-- one's age in days as of p_today.
CREATE FUNCTION stat_search_tasks_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    -- From the open tasks (few) to their patients: joined the other way,
    -- a township's million patients were read to find its tasks.
    SELECT jsonb_build_object('open', count(*), 'oldest_days', max(p_today - t.opened_on))
      FROM search_tasks t
     WHERE t.state = 'open'
       AND starts_with((SELECT p.org_path FROM patients p WHERE p.id = t.patient_id), p_path)
$$;
