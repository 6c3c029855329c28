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
export const outboxState = { pending: '待上传', sent: '已上传', rejected: '被退回' }
export const outboxKind = {
  home_check: '走访', suspected: '疑似上报', absence: '外出报告', whereabouts: '去向不明',
}
// The fields the server may name when it sends a record back.
export const field = {
  checked_on: '走访日期', seen: '见到本人', whereabouts: '所在', guardian_present: '监护人在场',
  abnormal: '有异常', abnormal_signs: '异常表现', hazards_checked: '已查危险物品',
  risk_level: '危险性等级', note: '情况记录', name: '姓名', gender: '性别', phone: '电话',
  address: '住址', report_note: '看到的情况', org_unit_id: '所属网格', kind: '外出原因',
  destination: '去向', left_on: '离开日期', expected_return: '预计返回', reported_on: '发现日期',
}
