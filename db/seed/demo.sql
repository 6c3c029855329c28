-- Demo data: 潜江市 → 泰丰街道 (villages, grids, agencies, users) and a second
-- street office, 园林街道, for cross-township access checks.
--
-- Usage: psql -v ON_ERROR_STOP=1 -v demo_hash="$HASH" -f db/seed/demo.sql
-- Every demo user gets the password hash passed in :demo_hash. Running the
-- script again changes nothing: existing rows (by code, by unit and name, by
-- username) are kept as they are. Ids are always looked up, never assumed.

\if :{?demo_hash}
\else
\echo 'demo.sql: pass the demo users'' password hash with -v demo_hash=...'
SELECT 1 / 0 AS demo_hash_missing;
\endif

BEGIN;

-- ---------------------------------------------------------------------------
-- Org units: county → township/street → village/community → grid.
-- Populations are resident (常住) populations.
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE seed_org_units (
    ord integer GENERATED ALWAYS AS IDENTITY,
    parent_code text,
    level       text NOT NULL,
    code        text NOT NULL,
    name        text NOT NULL,
    population  integer
) ON COMMIT DROP;

INSERT INTO seed_org_units (parent_code, level, code, name, population) VALUES
    (NULL,           'county',   '429005',          '潜江市',           886500),

    ('429005',       'township', '429005003',       '泰丰街道',          45270),
    ('429005003',    'village',  '429005003001',    '梅苑社区',          12480),
    ('429005003',    'village',  '429005003002',    '曹禹社区',          10260),
    ('429005003',    'village',  '429005003003',    '章华社区',          10930),
    ('429005003',    'village',  '429005003004',    '潜阳村',             6215),
    ('429005003',    'village',  '429005003005',    '汉城村',             5385),
    ('429005003001', 'grid',     '429005003001G01', '梅苑社区第一网格',    4210),
    ('429005003001', 'grid',     '429005003001G02', '梅苑社区第二网格',    4050),
    ('429005003001', 'grid',     '429005003001G03', '梅苑社区第三网格',    4220),
    ('429005003002', 'grid',     '429005003002G01', '曹禹社区第一网格',    5310),
    ('429005003002', 'grid',     '429005003002G02', '曹禹社区第二网格',    4950),
    ('429005003003', 'grid',     '429005003003G01', '章华社区第一网格',    5620),
    ('429005003003', 'grid',     '429005003003G02', '章华社区第二网格',    5310),
    ('429005003004', 'grid',     '429005003004G01', '潜阳村第一网格',      3180),
    ('429005003004', 'grid',     '429005003004G02', '潜阳村第二网格',      3035),
    ('429005003005', 'grid',     '429005003005G01', '汉城村第一网格',      2760),
    ('429005003005', 'grid',     '429005003005G02', '汉城村第二网格',      2625),

    ('429005',       'township', '429005001',       '园林街道',          18650),
    ('429005001',    'village',  '429005001001',    '红梅社区',           9820),
    ('429005001',    'village',  '429005001002',    '城南社区',           8830),
    ('429005001001', 'grid',     '429005001001G01', '红梅社区第一网格',    9820),
    ('429005001002', 'grid',     '429005001002G01', '城南社区第一网格',    8830);

-- One statement per level, so that each level's parents already exist.
INSERT INTO org_units (parent_id, level, code, name, population)
SELECT NULL, s.level, s.code, s.name, s.population
  FROM seed_org_units s
 WHERE s.level = 'county'
 ORDER BY s.ord
ON CONFLICT (code) DO NOTHING;

INSERT INTO org_units (parent_id, level, code, name, population)
SELECT p.id, s.level, s.code, s.name, s.population
  FROM seed_org_units s JOIN org_units p ON p.code = s.parent_code
 WHERE s.level = 'township'
 ORDER BY s.ord
ON CONFLICT (code) DO NOTHING;

INSERT INTO org_units (parent_id, level, code, name, population)
SELECT p.id, s.level, s.code, s.name, s.population
  FROM seed_org_units s JOIN org_units p ON p.code = s.parent_code
 WHERE s.level = 'village'
 ORDER BY s.ord
ON CONFLICT (code) DO NOTHING;

INSERT INTO org_units (parent_id, level, code, name, population)
SELECT p.id, s.level, s.code, s.name, s.population
  FROM seed_org_units s JOIN org_units p ON p.code = s.parent_code
 WHERE s.level = 'grid'
 ORDER BY s.ord
ON CONFLICT (code) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Agencies (部门), keyed by the code of their org unit and their name.
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE seed_agencies (
    ord integer GENERATED ALWAYS AS IDENTITY,
    unit_code text NOT NULL,
    kind      text NOT NULL,
    name      text NOT NULL
) ON COMMIT DROP;

INSERT INTO seed_agencies (unit_code, kind, name) VALUES
    ('429005',       'mental_health_centre', '潜江市精神卫生中心'),

    ('429005003',    'health_office',        '泰丰街道卫健办'),
    ('429005003',    'stability_office',     '泰丰街道综治中心'),
    ('429005003',    'police_station',       '泰丰派出所'),
    ('429005003',    'clinic',               '泰丰街道社区卫生服务中心'),
    ('429005003',    'civil_affairs',        '泰丰街道民政办'),
    ('429005003',    'disabled_federation',  '泰丰街道残联'),
    ('429005003',    'medical_insurance',    '泰丰街道医保办'),
    ('429005003',    'justice_office',       '泰丰司法所'),
    ('429005003',    'finance_office',       '泰丰街道财政所'),
    ('429005003001', 'village_committee',    '梅苑社区居委会'),
    ('429005003002', 'village_committee',    '曹禹社区居委会'),
    ('429005003003', 'village_committee',    '章华社区居委会'),
    ('429005003004', 'village_committee',    '潜阳村村委会'),
    ('429005003005', 'village_committee',    '汉城村村委会'),

    ('429005001',    'police_station',       '园林派出所'),
    ('429005001',    'clinic',               '园林街道社区卫生服务中心'),
    ('429005001001', 'village_committee',    '红梅社区居委会'),
    ('429005001002', 'village_committee',    '城南社区居委会');

INSERT INTO agencies (kind, name, org_unit_id)
SELECT s.kind, s.name, o.id
  FROM seed_agencies s JOIN org_units o ON o.code = s.unit_code
 ORDER BY s.ord
ON CONFLICT (org_unit_id, name) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Users. Phone numbers are placeholders in the 138 0000 xxxx range.
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE seed_users (
    ord integer GENERATED ALWAYS AS IDENTITY,
    username          text NOT NULL,
    display_name      text NOT NULL,
    role              text NOT NULL,
    unit_code         text NOT NULL,
    agency_unit_code  text,
    agency_name       text,
    phone             text
) ON COMMIT DROP;

INSERT INTO seed_users (username, display_name, role, unit_code, agency_unit_code, agency_name, phone) VALUES
    ('admin',       '系统管理员',       'admin',         '429005',          NULL,           NULL,                       '13800000001'),
    ('tf.admin',    '泰丰街道管理员',   'admin',         '429005003',       NULL,           NULL,                       '13800000002'),
    ('tf.official', '李建国',           'official',      '429005003',       '429005003',    '泰丰街道卫健办',           '13800000003'),
    ('tf.doctor',   '王秀兰',           'doctor',        '429005003',       '429005003',    '泰丰街道社区卫生服务中心', '13800000004'),
    ('tf.doctor2',  '陈丽娟',           'doctor',        '429005003001',    '429005003',    '泰丰街道社区卫生服务中心', '13800000005'),
    ('tf.police',   '张伟',             'police',        '429005003',       '429005003',    '泰丰派出所',               '13800000006'),
    ('tf.civil',    '刘芳',             'civil_affairs', '429005003',       '429005003',    '泰丰街道民政办',           '13800000007'),
    ('tf.grid1',    '杨红梅',           'grid_worker',   '429005003001G01', '429005003001', '梅苑社区居委会',           '13800000008'),
    ('tf.grid2',    '黄志强',           'grid_worker',   '429005003004G01', '429005003004', '潜阳村村委会',             '13800000009'),
    ('tf.cadre',    '周德明',           'official',      '429005003001',    '429005003001', '梅苑社区居委会',           '13800000010'),
    ('tf.stability', '孙志刚',          'official',      '429005003',       '429005003',    '泰丰街道综治中心',         '13800000013'),
    ('yl.admin',    '园林街道管理员',   'admin',         '429005001',       NULL,           NULL,                       '13800000011'),
    ('yl.doctor',   '赵敏',             'doctor',        '429005001',       '429005001',    '园林街道社区卫生服务中心', '13800000012'),
    ('svc.police',  '泰丰派出所接口',   'service',       '429005',          '429005003',    '泰丰派出所',               NULL);

INSERT INTO users (username, display_name, role, org_unit_id, agency_id, phone, password_hash)
SELECT s.username, s.display_name, s.role, o.id, a.id, s.phone, :'demo_hash'
  FROM seed_users s
  JOIN org_units o ON o.code = s.unit_code
  LEFT JOIN org_units au ON au.code = s.agency_unit_code
  LEFT JOIN agencies a ON a.org_unit_id = au.id AND a.name = s.agency_name
 ORDER BY s.ord
ON CONFLICT (username) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Everything listed above must now exist (a missing parent or agency would
-- otherwise drop rows silently from the joins).
-- ---------------------------------------------------------------------------

DO $$
DECLARE
    missing text;
BEGIN
    SELECT string_agg(s.code, ', ') INTO missing
      FROM seed_org_units s
      LEFT JOIN org_units p ON p.code = s.parent_code
      LEFT JOIN org_units o ON o.code = s.code
     WHERE o.id IS NULL
        OR (s.parent_code IS NOT NULL AND o.parent_id IS DISTINCT FROM p.id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: org units missing or misplaced: %', missing;
    END IF;

    SELECT string_agg(s.name, ', ') INTO missing
      FROM seed_agencies s
      JOIN org_units o ON o.code = s.unit_code
      LEFT JOIN agencies a ON a.org_unit_id = o.id AND a.name = s.name
     WHERE a.id IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: agencies missing: %', missing;
    END IF;

    SELECT string_agg(s.username, ', ') INTO missing
      FROM seed_users s
      LEFT JOIN users u ON u.username = s.username
     WHERE u.id IS NULL OR (s.agency_name IS NOT NULL AND u.agency_id IS NULL);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'demo seed: users missing or without agency: %', missing;
    END IF;
END $$;

COMMIT;

-- Demo logins (all share the demo password):
--   username     role           unit
--   admin        admin          潜江市
--   tf.admin     admin          泰丰街道
--   tf.official  official       泰丰街道 (泰丰街道卫健办)
--   tf.doctor    doctor         泰丰街道 (泰丰街道社区卫生服务中心)
--   tf.doctor2   doctor         梅苑社区 (泰丰街道社区卫生服务中心)
--   tf.police    police         泰丰街道 (泰丰派出所)
--   tf.civil     civil_affairs  泰丰街道 (泰丰街道民政办)
--   tf.grid1     grid_worker    梅苑社区第一网格 (梅苑社区居委会)
--   tf.grid2     grid_worker    潜阳村第一网格 (潜阳村村委会)
--   tf.cadre     official       梅苑社区 (梅苑社区居委会)
--   yl.admin     admin          园林街道
--   yl.doctor    doctor         园林街道 (园林街道社区卫生服务中心)
--   svc.police   service        潜江市 (泰丰派出所; client credentials to come)

-- ---------------------------------------------------------------------------
-- Assistance (救治救助): 泰丰街道 widens 以奖代补 beyond the national target
-- group, as seed 000 asks (扩大奖补对象范围, 不限于列入公安重点管控和危险性3级及以上
-- 的患者): patients on the police key-person list and those with a weak or no
-- guardian also qualify. The standard stays the default, 200 元/月. Kept as
-- it is when already there (an admin may have changed it).
-- ---------------------------------------------------------------------------
INSERT INTO assistance_reward_rules (org_unit_id, min_risk, extra_flags, police_key_person)
SELECT o.id, 3, '{weak_guardian}', true FROM org_units o WHERE o.code = '429005003'
ON CONFLICT (org_unit_id) DO NOTHING;

-- ---------------------------------------------------------------------------
-- A campaign (专项行动) of 泰丰街道 with part of its task breakdown
-- (任务分解表, after seeds 000 and 003); progress due by the 25th.
-- Kept by (unit, name) and (campaign, seq): loading twice adds nothing.
-- ---------------------------------------------------------------------------

BEGIN;

INSERT INTO campaigns (org_unit_id, org_path, name, starts_on, ends_on, report_day,
                       first_report_month)
SELECT o.id, o.path, '2025年春季预防和减少严重精神障碍患者肇事肇祸专项行动',
       '2025-03-27', '2025-06-30', 25, '2025-04-01'
  FROM org_units o
 WHERE o.code = '429005003'
   AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.org_unit_id = o.id
                    AND c.name = '2025年春季预防和减少严重精神障碍患者肇事肇祸专项行动');

CREATE TEMP TABLE seed_tasks (
    seq          integer NOT NULL,
    action       text NOT NULL,
    description  text NOT NULL,
    upstream     text NOT NULL,
    lead         text NOT NULL,
    responsible  text[] NOT NULL
) ON COMMIT DROP;

INSERT INTO seed_tasks VALUES
    (1, '集中摸排起底行动',
     '组织精防人员、网格员、驻村民警入户走访，开展公安重点人员库、国家精神卫生监测系统和网格平台“三网”数据核查比对，全面摸清辖区患者底数。',
     '市卫健委', '泰丰街道社区卫生服务中心',
     '{泰丰街道卫健办,泰丰街道综治中心,泰丰派出所,泰丰街道民政办}'),
    (2, '危险评估预警行动',
     '落实社区初评、镇级复评、市级综评“三级三评”，对病情不稳定的居家患者至少每两周共同面访一次，及时通报综治中心和派出所。',
     '市卫健委', '泰丰街道社区卫生服务中心',
     '{泰丰街道卫健办,泰丰街道综治中心,泰丰派出所}'),
    (3, '兜底保障覆盖行动',
     '全面摸排生活困难的患者，落实低保、医疗救助、残疾人两项补贴和“以奖代补”政策，确保监护管理补助足额兑付。',
     '市民政局', '泰丰街道民政办',
     '{泰丰街道卫健办,泰丰街道财政所,泰丰街道残联,泰丰街道医保办}');

INSERT INTO campaign_tasks (campaign_id, seq, action, description, upstream_lead, lead_agency_id)
SELECT c.id, t.seq, t.action, t.description, t.upstream, a.id
  FROM seed_tasks t
  JOIN org_units o ON o.code = '429005003'
  JOIN campaigns c ON c.org_unit_id = o.id
                  AND c.name = '2025年春季预防和减少严重精神障碍患者肇事肇祸专项行动'
  JOIN agencies a ON a.org_unit_id = o.id AND a.name = t.lead
 ORDER BY t.seq
ON CONFLICT (campaign_id, seq) DO NOTHING;

INSERT INTO campaign_task_agencies (task_id, agency_id)
SELECT ct.id, a.id
  FROM seed_tasks t
  JOIN org_units o ON o.code = '429005003'
  JOIN campaigns c ON c.org_unit_id = o.id
                  AND c.name = '2025年春季预防和减少严重精神障碍患者肇事肇祸专项行动'
  JOIN campaign_tasks ct ON ct.campaign_id = c.id AND ct.seq = t.seq
  CROSS JOIN LATERAL unnest(t.responsible) r(name)
  JOIN agencies a ON a.org_unit_id = o.id AND a.name = r.name
ON CONFLICT DO NOTHING;

DO $$
BEGIN
    IF (SELECT count(*) FROM campaign_tasks t JOIN campaigns c ON c.id = t.campaign_id
         WHERE c.name = '2025年春季预防和减少严重精神障碍患者肇事肇祸专项行动') <> 3 THEN
        RAISE EXCEPTION 'demo seed: campaign tasks missing';
    END IF;
END $$;

COMMIT;
