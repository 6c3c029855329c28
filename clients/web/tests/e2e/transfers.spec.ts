// 流转: a transfer into a village of the township is accepted from the incoming list.
import { test, expect, login, token, apiGet, apiSend, newPatient, shot } from './fixtures'

test('an incoming transfer is accepted on the page', async ({ page, request }) => {
  const { id, name } = await newPatient(request, '流转甲')
  const tok = await token(request, 'tf.doctor')
  const units = await apiGet<{ items: { id: number; name: string }[] }>(request, tok, '/api/v1/org-units')
  const to = units.items.find((u) => u.name === '潜阳村')!
  const moved = new Date(Date.now() + 8 * 3600e3 - 86400e3).toISOString().slice(0, 10)
  const r = await apiSend(request, tok, 'POST', `/api/v1/patients/${id}/transfers`, { to_org_unit_id: to.id, moved_on: moved, reason: '随子女搬迁' })
  expect(r.status, JSON.stringify(r.body)).toBe(201)

  await login(page, 'tf.doctor')
  await page.locator('.el-menu-item[data-menu="/transfers"]').click()
  const row = page.locator('[data-test=transfers] tbody tr', { hasText: name })
  await expect(row).toContainText('待接收')
  await shot(page, 'transfers')
  await row.getByRole('button', { name: '接收' }).click()
  await page.locator('[data-test=note]').fill('已核实现住址')
  await page.locator('[data-test=confirm]').click()
  await expect(row).toContainText('已接收')
})
