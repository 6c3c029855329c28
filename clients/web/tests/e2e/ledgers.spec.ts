// 台账: a patient reported whereabouts unknown is on the police's 失访 ledger
// with the search task; the officer's 查找记录 shows on the row; the
// ledger downloads as Excel.
import { test, expect, login, token, apiSend, newPatient, shot } from './fixtures'

test('the police keep the lost ledger with search notes', async ({ page, request }) => {
  const { id, name } = await newPatient(request, '台账甲')
  const doctor = await token(request, 'tf.doctor')
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
  const r = await apiSend(request, doctor, 'POST', `/api/v1/patients/${id}/whereabouts-unknown`, { reported_on: today, note: '家属称已离家三日' })
  expect(r.status, JSON.stringify(r.body)).toBe(200)

  await login(page, 'tf.police')
  await page.locator('.el-menu-item[data-menu="/ledgers"]').click()
  await expect(page.locator('[data-test=ledger-tabs] .el-tabs__item')).toHaveText(['失访', '监护', '流动', '重点'])
  const row = page.locator('[data-test=ledger] tbody tr', { hasText: name })
  await expect(row).toContainText('查找中')
  await row.getByRole('button', { name: '记录' }).click()
  await page.locator('[data-test=note-text]').fill('走访其姐家，未见本人')
  await page.locator('[data-test=note-save]').click()
  await expect(row).toContainText('走访其姐家，未见本人')
  await shot(page, 'ledger-lost')

  const downloaded = page.waitForEvent('download')
  await page.locator('[data-test=ledger-xlsx]').click()
  const file = await downloaded
  expect(file.suggestedFilename()).toBe('失访台账.xlsx')
})
