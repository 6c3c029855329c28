-- Subsidies and assistance (救治救助) [R-AID-1]: kinds, standards in force,
-- the 以奖代补 rule [R-AID-2] and its withholding on an incident.
--
-- Current definitions, re-applied by jingfang-migrate after the migrations
-- on every run (CREATE OR REPLACE): change them here, not in a migration.

-- Kinds (seed 000 附件2 "帮扶情况" and docs/domain.md), as API codes:
--   dibao                  低保
--   medical_assistance     医疗救助
--   outpatient_chronic     门诊慢特病
--   critical_illness       城乡居民大病保险
--   employee_large_medical 职工大额医疗费用补助
--   disability_subsidies   残疾人两项补贴 (困难残疾人生活补贴, 重度残疾人护理补贴)
--   temporary_assistance   临时救助
--   long_acting_injection  长效针剂补助
--   guardian_reward        以奖代补 (监护人奖补)
CREATE OR REPLACE FUNCTION assistance_kind_valid(text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT $1 IN ('dibao', 'medical_assistance', 'outpatient_chronic', 'critical_illness',
                  'employee_large_medical', 'disability_subsidies', 'temporary_assistance',
                  'long_acting_injection', 'guardian_reward')
$$;

-- The standard of kind in force for a patient at org path p_path.
CREATE OR REPLACE FUNCTION assistance_standard(p_path text, p_kind text)
RETURNS TABLE (amount_fen bigint, period text, org_unit_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.amount_fen, s.period, s.org_unit_id
      FROM assistance_standards s LEFT JOIN org_units o ON o.id = s.org_unit_id
     WHERE s.kind = p_kind AND (s.org_unit_id IS NULL OR starts_with(p_path, o.path))
     ORDER BY length(o.path) DESC NULLS LAST
     LIMIT 1
$$;

CREATE OR REPLACE FUNCTION assistance_reward_rule(p_path text)
RETURNS TABLE (min_risk smallint, extra_flags text[], police_key_person boolean, org_unit_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT r.min_risk, r.extra_flags, r.police_key_person, r.org_unit_id
      FROM assistance_reward_rules r LEFT JOIN org_units o ON o.id = r.org_unit_id
     WHERE r.org_unit_id IS NULL OR starts_with(p_path, o.path)
     ORDER BY length(o.path) DESC NULLS LAST
     LIMIT 1
$$;

-- An incident (肇事肇祸) withholds the 以奖代补 payments of its month that
-- are not yet collected, whoever records it (a doctor, the police system)
-- and however late (after the batch, before collection). The audit row is
-- written here, in the same transaction.
CREATE OR REPLACE FUNCTION assistance_withhold_on_incident() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pay record;
BEGIN
    FOR pay IN
        UPDATE assistance_payments
           SET status = 'withheld', withheld_cause = 'incident', withheld_incident_id = NEW.id,
               withheld_reason = format('肇事肇祸 %s（事件 %s）', NEW.occurred_on, NEW.id),
               withheld_at = now(), version = version + 1, updated_at = now()
         WHERE patient_id = NEW.patient_id AND kind = 'guardian_reward' AND status = 'pending'
           AND period_month = date_trunc('month', NEW.occurred_on)::date
        RETURNING id, application_id
    LOOP
        INSERT INTO audit_log (user_id, action, target_type, target_id, org_unit_id, detail)
        SELECT NEW.user_id, 'assistance.payment_withhold', 'assistance_payment', pay.id::text,
               p.org_unit_id, jsonb_build_object('cause', 'incident', 'incident_id', NEW.id,
                                                 'application_id', pay.application_id)
          FROM patients p WHERE p.id = NEW.patient_id;
    END LOOP;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER incidents_withhold_assistance AFTER INSERT ON incidents
    FOR EACH ROW EXECUTE FUNCTION assistance_withhold_on_incident();

-- Indicator: assistance paid (救助金额, 奖补监护人数 of seed 000 附件2) by
-- kind, month and area. One row per payment; the statistics group it.
-- period_month is the first day of the month paid for.
CREATE OR REPLACE VIEW assistance_payment_facts AS
SELECT x.id::bigint AS payment_id,
       x.patient_id::bigint AS patient_id,
       x.org_path::text AS org_path,
       x.kind::text AS kind,
       x.period_month AS period_month,
       x.amount_fen::bigint AS amount_fen,
       x.status::text AS status,
       x.paid_at AS paid_at
  FROM assistance_payments x;
