// 救治救助: civil affairs run the month's 以奖代补 batch (or see the one already run),
// approve and reject applications on the page, and print a payment's receipt.
import type { Page } from '@playwright/test'
import { test, expect, allowConsole, apiGet, apiSend, login, newPatient, shot, token } from './fixtures'

test('civil affairs run the monthly 以奖代补 batch', async ({ page }) => {
  // A batch of this month may exist (another suite's): the page then shows that one.
  allowConsole(/status of 409/)
  await login(page, 'tf.civil')
  await page.locator('.el-menu-item[data-menu="/assistance"]').click()
  await expect(page.locator('[data-test=applications]')).toBeVisible()
  await page.getByRole('tab', { name: '以奖代补发放' }).click()
  await page.locator('[data-test=run-batch]').click()
  await expect(page.locator('[data-test=batch-totals]')).toContainText(/泰丰街道 \d{4}-\d{2}：发放 \d+ 笔，合计 [\d,]+\.\d{2} 元/)
  await shot(page, 'assistance')
})

/** Pick the option text of the Element Plus select marked data-test=name. */
async function choose(page: Page, name: string, option: string) {
  await page.locator(`[data-test=${name}]`).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).click()
}

test('an application is approved on the page and another rejected', async ({ page, request }) => {
  test.setTimeout(120_000)
  const p = await newPatient(request, '救助')
  const civil = await token(request, 'tf.civil')
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
  // One open application per kind: two kinds.
  const apply = async (kind: string) => {
    const r = await apiSend<{ id: number }>(request, civil, 'POST', `/api/v1/patients/${p.id}/assistance`, { kind, applied_on: today })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    return r.body.id
  }
  const [first, second] = [await apply('temporary_assistance'), await apply('medical_assistance')]
  await login(page, 'tf.civil')
  await page.locator('.el-menu-item[data-menu="/assistance"]').click()
  const rows = page.locator('[data-test=applications] tbody tr', { hasText: p.name })
  await expect(rows).toHaveCount(2)

  await rows.filter({ hasText: '临时救助' }).getByRole('button', { name: '批准' }).click()
  await page.locator('[data-test=amount] input').fill('350')
  await page.locator('[data-test=decide]:visible').click()
  await expect(rows).toHaveCount(1)
  await rows.filter({ hasText: '医疗救助' }).getByRole('button', { name: '驳回' }).click()
  await page.locator('[data-test=reason] textarea').fill('家庭收入超出临时救助标准')
  await page.locator('[data-test=decide]:visible').click()
  await expect(rows).toHaveCount(0)

  const a = await apiGet<{ state: string; amount_fen: number }>(request, civil, `/api/v1/assistance/applications/${first}`)
  expect([a.state, a.amount_fen]).toEqual(['approved', 35000])
  const b = await apiGet<{ state: string; decision_reason: string }>(request, civil, `/api/v1/assistance/applications/${second}`)
  expect([b.state, b.decision_reason]).toEqual(['rejected', '家庭收入超出临时救助标准'])
  // Both are listed under their new state, the rejection with its reason.
  await choose(page, 'app-state', '已驳回')
  await expect(rows.first()).toContainText('家庭收入超出临时救助标准')
  await shot(page, 'assistance-decided')
})

test('the printable receipt names the person and the amount paid', async ({ page, request }) => {
  test.setTimeout(120_000)
  const p = await newPatient(request, '凭证')
  const civil = await token(request, 'tf.civil')
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
  const app = await apiSend<{ id: number }>(request, civil, 'POST', `/api/v1/patients/${p.id}/assistance`, { kind: 'temporary_assistance', applied_on: today })
  expect(app.status).toBe(201)
  const ok = await apiSend(request, civil, 'POST', `/api/v1/assistance/applications/${app.body.id}/approve`, { amount_fen: 123456, period: 'case', from_month: today.slice(0, 7) })
  expect(ok.status, JSON.stringify(ok.body)).toBe(200)
  const pay = await apiSend<{ id: number }>(request, civil, 'POST', `/api/v1/assistance/applications/${app.body.id}/payments`,
    { period_month: today.slice(0, 7), paid_on: today, receipt_no: `LS-${app.body.id}` })
  expect(pay.status, JSON.stringify(pay.body)).toBe(201)

  // The print dialog is the browser's; the page's print view is what is checked.
  await page.addInitScript(() => { window.print = () => { (window as unknown as { printed: number }).printed = 1 } })
  await login(page, 'tf.civil')
  await page.locator('.el-menu-item[data-menu="/assistance"]').click()
  await choose(page, 'app-kind', '临时救助')
  await choose(page, 'app-state', '已批准')
  const row = page.locator('[data-test=applications] tbody tr', { hasText: p.name })
  await row.locator(`[data-receipt="${pay.body.id}"]`).click()
  await expect.poll(() => page.evaluate(() => (window as unknown as { printed?: number }).printed)).toBe(1)
  await page.emulateMedia({ media: 'print' })
  const receipt = page.locator('[data-test=receipt]')
  await expect(receipt).toBeVisible()
  await expect(receipt.locator('h2')).toHaveText('临时救助领取凭证')
  await expect(receipt.locator('[data-test=receipt-patient]')).toHaveText(p.name)
  await expect(receipt.locator('[data-test=receipt-amount]')).toHaveText('1,234.56 元')
  await expect(receipt).toContainText(`LS-${app.body.id}`)
  await expect(page.locator('[data-test=applications]')).toBeHidden()
  await shot(page, 'assistance-receipt')
})
