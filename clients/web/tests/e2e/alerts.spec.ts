// 预警处置: an urgent alert raised by a grid worker is on the police station's
// page at once; the officer stamps 接警, 到场 and 处置 and the times show.
// 信息交换: the police open a package owed by the clinic and sign for it.
import { test, expect, login, token, apiGet, apiSend, uniqueName, shot } from './fixtures'

test('the police answer an urgent alert step by step', async ({ page, request }) => {
  const person = uniqueName('穿蓝衣男子')
  const grid = await token(request, 'tf.grid1')
  const r = await apiSend(request, grid, 'POST', '/api/v1/alerts',
    { grade: 'urgent', person, place: '梅苑社区东门', observed: '手持木棍追打路人' }, { 'Idempotency-Key': crypto.randomUUID() })
  expect(r.status, JSON.stringify(r.body)).toBe(201)

  await login(page, 'tf.police')
  await page.locator('.el-menu-item[data-menu="/alerts"]').click()
  const row = page.locator('[data-test=alerts] tbody tr', { hasText: person })
  await expect(row).toContainText('紧急')
  await expect(row).toContainText('待处置')
  await shot(page, 'alerts')
  await row.click()
  for (const step of ['received', 'arrived', 'handled']) {
    const button = page.locator(`[data-test=alert-${step}]`)
    await expect(button).toBeEnabled()
    await button.click()
    await expect(button).toBeDisabled()
  }
  await shot(page, 'alert-answered')
  // The police station's three steps are stamped; the others still wait.
  const alert = await apiGet<{ responses: { agency_kind: string; handled_at: string | null }[] }>(
    request, grid, `/api/v1/alerts/${(r.body as { id: number }).id}`)
  expect(alert.responses.find((x) => x.agency_kind === 'police_station')?.handled_at).toBeTruthy()
  expect(alert.responses.find((x) => x.agency_kind === 'clinic')?.handled_at).toBeNull()
})

test('the police open an exchange from the clinic and sign for it', async ({ page, request }) => {
  const tok = await token(request, 'tf.police')
  const owed = await apiGet<{ items: { id: number; sender: { kind: string }; receiver: { kind: string }; period_from: string }[] }>(
    request, tok, '/api/v1/exchanges?mine=true&state=overdue&limit=200')
  const x = owed.items.find((i) => i.sender.kind === 'clinic' && i.receiver.kind === 'police_station')
  // Exchanges start with the year the system came into use: in its first
  // month none has come due yet.
  test.skip(!x, 'no exchange has come due yet this year')

  await login(page, 'tf.police')
  await page.locator('.el-menu-item[data-menu="/exchanges"]').click()
  const row = page.locator(`[data-test=exchanges] tbody tr.exchange-${x!.id}`)
  await expect(row).toContainText('逾期未签收')
  await shot(page, 'exchanges')
  await row.getByRole('button', { name: '查看' }).click()
  await expect(page.locator('[data-test=package]')).toContainText('随访')
  await expect(page.locator('[data-test=package]')).not.toContainText('诊断')
  await page.locator('[data-test=exchange-note]').fill('已核对')
  await page.locator('[data-test=exchange-receipt]').click()
  await expect(page.locator('[data-test=exchange-receipt]')).toHaveCount(0)
  await expect(page.locator('[data-test=exchange-status]')).toContainText('已签收')
  await shot(page, 'exchange-received')
})
