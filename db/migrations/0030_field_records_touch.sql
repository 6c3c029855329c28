-- Home checks (走访) and temporary absences change the patient like every
-- other record: the patient's version moves (migration 0023's
-- patients_touch), so ETags, exports and the change feed see them.
CREATE TRIGGER home_checks_touch_insert AFTER INSERT ON home_checks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
CREATE TRIGGER home_checks_touch_update AFTER UPDATE ON home_checks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
CREATE TRIGGER absences_touch_insert AFTER INSERT ON absences
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
CREATE TRIGGER absences_touch_update AFTER UPDATE ON absences
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patients_touch();
