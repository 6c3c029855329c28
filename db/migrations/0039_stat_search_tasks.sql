-- The dashboard's search-task figure (查找, DOMAIN.md "Lost to follow-up"):
-- the tasks open for patients of the area under p_path, and the oldest
-- one's age in days as of p_today.
CREATE FUNCTION stat_search_tasks_json(p_path text, p_today date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('open', count(*), 'oldest_days', max(p_today - t.opened_on))
      FROM search_tasks t JOIN patients p ON p.id = t.patient_id
     WHERE t.state = 'open' AND p.org_path >= p_path AND starts_with(p.org_path, p_path)
$$;
