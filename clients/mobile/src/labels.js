// Chinese labels of the API's enum codes: the one dictionary of the app.
export const colour = { red: '红', orange: '橙', yellow: '黄', green: '绿' }
export const status = {
  suspected: '疑似', registered: '在册', in_care: '在管', hospitalised: '住院', lost: '失访',
  moved_out: '迁出中', deceased: '死亡', deregistered: '销案', ruled_out: '排除',
}
export const whereabouts = {
  at_home: '在家', out_for_work: '外出务工', visiting: '走亲访友', in_hospital: '住院',
  moved: '已搬走', unknown: '去向不明', other: '其他',
}
export const signs = {
  threats: '言语威胁', violence: '暴力行为', self_harm: '自伤', wandering: '外走',
  not_medicating: '未服药', odd_behaviour: '行为异常', other: '其他',
}
export const absenceKind = { work: '务工', visiting: '探亲', treatment: '就医', other: '其他' }
export const relation = {
  spouse: '配偶', parent: '父母', child: '子女', sibling: '兄弟姐妹', grandparent: '祖父母',
  other_relative: '其他亲属', village_committee: '村（居）委会', civil_affairs: '民政', other: '其他',
}
// The national follow-up form (随访, doctors).
export const visitMode = { home: '入户', clinic: '门诊', phone: '电话' }
export const unreached = { out_for_work: '外出务工', moved: '迁居他处', missing: '走失', refused: '拒绝', other: '其他' }
export const symptom = {
  hallucination: '幻觉', communication_difficulty: '交流困难', suspicion: '猜疑', mood_swings: '喜怒无常',
  odd_behaviour: '行为怪异', excited_talkative: '兴奋话多', violence: '伤人毁物', pessimism: '悲观厌世',
  wandering: '无故外走', talking_to_self: '自语自笑', withdrawn_lazy: '孤僻懒散', other: '其他',
}
export const insight = { complete: '自知力完全', partial: '自知力不全', absent: '自知力缺失' }
export const gfp = { good: '良好', fair: '一般', poor: '较差' }
export const social = { personal_care: '个人生活料理', housework: '家务劳动', work: '生产劳动及工作', learning: '学习能力', social_contact: '社会人际交往' }
export const compliance = { regular: '按医嘱规律服药', intermittent: '间断服药', none: '不服药', not_required: '医嘱勿需服药' }
export const effect = { recovered: '痊愈', improved: '好转', unchanged: '无变化', worse: '加重' }
export const alertGrade = { watch: '关注', warning: '预警', urgent: '紧急' }
export const outboxState = { pending: '待上传', sent: '已上传', rejected: '被退回', conflict: '待选择' }
export const outboxKind = {
  home_check: '走访', suspected: '疑似上报', absence: '外出报告', whereabouts: '去向不明',
  guardian: '修改监护人', follow_up: '随访', alert: '异常行为预警',
}
// The fields the server may name when it sends a record back.
export const field = {
  checked_on: '走访日期', seen: '见到本人', whereabouts: '所在', guardian_present: '监护人在场',
  abnormal: '有异常', abnormal_signs: '异常表现', hazards_checked: '已查危险物品',
  risk_level: '危险性等级', note: '情况记录', name: '姓名', gender: '性别', phone: '电话',
  address: '住址', report_note: '看到的情况', org_unit_id: '所属网格', kind: '外出原因',
  destination: '去向', left_on: '离开日期', expected_return: '预计返回', reported_on: '发现日期',
  visit_date: '随访日期', mode: '随访方式', reached: '随访到本人', unreached_reason: '未访到原因',
  symptoms: '目前症状', insight: '自知力', sleep: '睡眠情况', diet: '饮食情况', social_function: '社会功能',
  compliance: '服药依从性', treatment_effect: '治疗效果',
  grade: '等级', place: '地点', observed: '看到的情况', person: '人员特征', reporter: '发现人', patient_id: '患者',
}
