// The one Chinese dictionary of the API's enum codes (the API speaks stable
// English codes; people read these labels).
export const zh = {
  role: {
    admin: '系统管理员', official: '卫健/综治干部', doctor: '精防医生', police: '派出所民警',
    civil_affairs: '民政干部', grid_worker: '网格员', service: '系统账号',
  },
  status: {
    suspected: '疑似', ruled_out: '已排除', registered: '在册', in_care: '在管', hospitalised: '住院',
    lost: '失访', moved_out: '迁出', deceased: '死亡', deregistered: '销案',
  },
  gender: { male: '男', female: '女' },
  diagnosis: {
    schizophrenia: '精神分裂症', schizoaffective: '分裂情感性障碍', paranoid_psychosis: '偏执性精神病',
    bipolar: '双相情感障碍', epilepsy_psychosis: '癫痫所致精神障碍',
    intellectual_disability_psychosis: '精神发育迟滞伴发精神障碍', other_harm: '其他（有肇事肇祸行为）',
  },
  colour: { red: '红色', orange: '橙色', yellow: '黄色', green: '绿色' },
  risk: { 0: '0级', 1: '1级', 2: '2级', 3: '3级', 4: '4级', 5: '5级' } as Record<string, string>,
  keyFlag: {
    incident_history: '有肇事肇祸史', risk_3_plus: '危险性3级及以上', weak_guardian: '监护薄弱',
    poor_compliance: '服药依从性差', refuses_follow_up: '拒绝随访', ever_lost: '曾失访', unstable: '病情不稳定',
    lives_alone: '独居', family_history: '有家族史', extreme_poverty: '特困', can_drive: '会驾驶',
    forced_admission: '曾强制住院', migrant: '流动人口', vagrant: '流浪乞讨',
  },
  household: { urban: '城镇', rural: '农村' },
  employment: {
    worker: '工人', manager: '管理人员', farmer: '农民', unemployed: '无业', student: '学生',
    retired: '离退休', professional: '专业技术人员', other: '其他', unknown: '不详',
  },
  economic: { poor: '贫困', not_poor: '非贫困', unknown: '不详' },
  consent: { agreed: '同意', refused: '不同意' },
  relation: {
    spouse: '配偶', parent: '父母', child: '子女', sibling: '兄弟姐妹', grandparent: '祖父母/外祖父母',
    other_relative: '其他亲属', village_committee: '村（居）委会', civil_affairs: '民政部门', other: '其他',
  },
  guardianKind: { primary: '第一监护人', assistant: '协助监护人', social: '社会监护' },
  capacity: { adequate: '有监护能力', weak: '监护能力弱', none: '无监护能力' },
  careRole: { guardian: '监护人', village_cadre: '村（社区）干部', doctor: '精防医生', police: '社区民警', grid_worker: '网格员' },
  visitClass: { stable: '稳定', basically_stable: '基本稳定', unstable: '不稳定' },
  visitMode: { clinic: '门诊', home: '家庭访视', phone: '电话' },
  compliance: { regular: '规律', intermittent: '间断', none: '不服药', not_required: '医嘱勿需服药' },
  incident: { mild_trouble: '轻度滋事', trouble: '肇事', disaster: '肇祸' },
  eventKind: { created: '建档', reported: '报告', status: '状态变更', diagnosed: '确诊', ruled_out: '排除', updated: '信息修改' },
  notificationKind: {
    risk_high: '高风险', unstable: '病情不稳定', lost: '失访', leaving: '外出', suspected_reported: '疑似上报',
    incident: '肇事肇祸', followup_overdue: '随访逾期', pickup_overdue: '取药超期', transfer_out: '转出', transfer_in: '转入',
  },
  transferState: { pending: '待接收', accepted: '已接收', returned: '已退回', cancelled: '已撤销' },
  assistanceKind: {
    dibao: '最低生活保障', medical_assistance: '医疗救助', outpatient_chronic: '门诊慢特病', critical_illness: '大病保险',
    employee_large_medical: '职工大额医疗', disability_subsidies: '残疾人两项补贴', temporary_assistance: '临时救助',
    long_acting_injection: '长效针剂补助', guardian_reward: '以奖代补',
  },
  assistanceState: { pending: '待审批', approved: '已批准', rejected: '已驳回', ended: '已终止' },
  assistancePeriod: { month: '月', year: '年', case: '次' },
  paymentStatus: { pending: '待领取', paid: '已领取', withheld: '暂停发放' },
  source: {
    police: '公安重点人员库', health: '国家精防系统', grid: '网格平台', drug_purchase: '购药记录',
    special_outpatient: '特殊门诊', reimbursement: '异地报销',
  },
  category: {
    missing_police: '公安未掌握（有风险）', unregistered: '疑似未登记', not_in_registry: '不在本地档案',
    deceased_conflict: '已死亡仍在管', village_conflict: '村（社区）不一致', risk_conflict: '风险等级不一致',
    invalid_id: '身份证号无效', duplicate: '重复',
  },
  findingStatus: { open: '待核实', verifying: '核实中', resolved: '已处理' },
  progressState: { submitted: '已报送', late: '逾期报送', overdue: '逾期未报', pending: '待报送' },
  level: { province: '省', city: '市', county: '县（区）', township: '乡镇（街道）', village: '村（社区）', grid: '网格' },
  alertGrade: { watch: '关注', warning: '预警', urgent: '紧急' },
  agencyKind: {
    health_office: '卫健办', stability_office: '综治中心', police_station: '派出所', clinic: '卫生院',
    civil_affairs: '民政办', disabled_federation: '残联', medical_insurance: '医保', justice_office: '司法所',
    finance_office: '财政所', mental_health_centre: '精神卫生中心', village_committee: '村（居）委会',
  },
  emergencySituation: { self_harm: '伤害自身', harm_others: '危害他人或公共安全', relapse: '病情复发或急性加重', adverse_reaction: '药物不良反应' },
  emergencyOutcome: {
    stabilised: '现场平息', hospitalised: '送医住院', outpatient: '门诊处置后返家', guardian_care: '交监护人看护',
    police_custody: '公安处置', died: '死亡', other: '其他',
  },
  exchangeState: { owed: '待签收', overdue: '逾期未签收', received: '已签收' },
} as const

export type Dict = Record<string, string>

/** The Chinese label of a code, or the code itself when the dictionary lacks it. */
export function label(dict: Dict, code: string | number | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—'
  return dict[String(code)] ?? String(code)
}
