// Each role logs in and sees its own menu; police never see a diagnosis and
// civil affairs get no clinical panels, checked in the DOM.
import { test, expect, loginUi, newPatient, shot } from './fixtures'

const ALL = ['首页', '工作清单', '患者', '通报', '三网比对', '救治救助', '专项行动', '流转', '台账', '预警处置', '信息交换']
const MENUS: Record<string, string[]> = {
  'tf.admin': ALL,
  'tf.official': ALL,
  'tf.doctor': ['首页', '工作清单', '患者', '通报', '三网比对', '专项行动', '流转', '台账', '预警处置', '信息交换'],
  'tf.police': ['首页', '患者', '通报', '三网比对', '专项行动', '台账', '预警处置', '信息交换'],
  'tf.civil': ['首页', '患者', '通报', '救治救助', '专项行动', '台账', '信息交换'],
  'tf.grid1': ['工作清单', '患者', '通报', '台账'],
}
const DIAGNOSES = ['精神分裂症', '分裂情感性障碍', '偏执性精神病', '双相情感障碍', '癫痫所致精神障碍', '精神发育迟滞伴发精神障碍']

for (const [user, menu] of Object.entries(MENUS)) {
  test(`${user} sees the menu of the role`, async ({ page }) => {
    await loginUi(page, user)
    await expect(page.locator('.el-aside .el-menu-item')).toHaveText(menu)
    await shot(page, `landing-${user}`)
  })
}

test('police see no diagnosis on a patient page; the doctor does', async ({ page, request }) => {
  const { id, name } = await newPatient(request, '档案甲')
  await loginUi(page, 'tf.doctor')
  await page.goto(`/patients/${id}`)
  await expect(page.locator('[data-test=basic]')).toContainText('精神分裂症')
  await shot(page, 'patient-doctor')
  await page.getByRole('button', { name: '退出' }).click()

  await loginUi(page, 'tf.police')
  await page.goto(`/patients/${id}`)
  await expect(page.locator('[data-test=patient-head]')).toContainText(name)
  await page.waitForLoadState('networkidle')
  const text = await page.locator('body').innerText()
  expect(text).not.toContain('诊断')
  for (const d of DIAGNOSES) expect(text).not.toContain(d)
  // Every tab the police open renders without a diagnosis either.
  for (const tab of await page.locator('.el-tabs__item').all()) {
    await tab.click()
    await page.waitForLoadState('networkidle')
    expect(await page.locator('body').innerText()).not.toContain('精神分裂症')
  }
  await shot(page, 'patient-police')
})

test('civil affairs get no clinical panels and no empty ones', async ({ page, request }) => {
  const { id, name } = await newPatient(request, '民政甲')
  await loginUi(page, 'tf.civil')
  await expect(page.locator('[data-indicator=registered]')).toBeVisible()
  await expect(page.locator('[data-indicator=standard_management]')).toHaveCount(0)
  await expect(page.getByText('月度趋势')).toHaveCount(0)
  await expect(page.getByText('风险等级分布')).toHaveCount(0)
  await shot(page, 'home-civil')
  await page.goto(`/patients/${id}`)
  await expect(page.locator('[data-test=patient-head]')).toContainText(name)
  const tabs = await page.locator('.el-tabs__item').allInnerTexts()
  expect(tabs).not.toContain('随访记录')
  expect(tabs).not.toContain('危险性评估')
  expect(await page.locator('body').innerText()).not.toContain('精神分裂症')
})
