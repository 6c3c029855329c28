// 首页: the figures equal the API's for the same unit and period (cached, and
// computed live), and a drill-down reaches the patients behind a count.
import { test, expect, login, token, apiGet, shot } from './fixtures'

type Counts = { registered?: number; managed?: number; rates?: Record<string, number>; colour?: Record<string, number>; org_unit: { id: number; name: string } }
type Dash = { totals: Counts; children: Counts[]; org_unit: { id: number } }

const pct = (v: number | undefined) => `${(Math.round((v ?? 0) * 10) / 10).toFixed(1)}%`

test('首页 shows the API figures and drills down to the patients', async ({ page, request }) => {
  const tok = await token(request, 'tf.official')
  const year = new Date(Date.now() + 8 * 3600e3).getUTCFullYear()
  const api = await apiGet<Dash>(request, tok, `/api/v1/statistics/dashboard?year=${year}`)
  await login(page, 'tf.official')
  await expect(page.locator('[data-indicator=registered] [data-value]')).toHaveText(String(api.totals.registered))
  await expect(page.locator('[data-indicator=managed] [data-value]')).toHaveText(String(api.totals.managed))
  for (const k of ['standard_management', 'face_to_face', 'regular_medication', 'medication', 'home_stable'])
    await expect(page.locator(`[data-indicator=${k}] [data-value]`)).toHaveText(pct(api.totals.rates?.[k]))
  await expect(page.locator('[data-test=as-of]')).toContainText('数据截至')
  await expect(page.locator('[data-test=children] tbody tr')).toHaveCount(api.children.length)
  await shot(page, 'home-official')

  // Live figures (the cache may predate patients other tests made), then
  // township → the child unit with the most patients → its patients of a colour.
  await page.locator('[data-test=live]').click()
  await expect(page.locator('[data-test=as-of]')).toContainText('实时计算')
  const live = await apiGet<Dash>(request, tok, `/api/v1/statistics/dashboard?year=${year}&live=true`)
  await expect(page.locator('[data-indicator=registered] [data-value]')).toHaveText(String(live.totals.registered))
  const child = [...live.children].sort((a, b) => (b.registered ?? 0) - (a.registered ?? 0))[0]
  expect(child.registered ?? 0).toBeGreaterThan(0)
  await page.locator('[data-test=drill]', { hasText: child.org_unit.name }).click()
  await expect(page.locator('[data-test=unit-name]')).toHaveText(child.org_unit.name)
  const sub = await apiGet<Dash>(request, tok, `/api/v1/statistics/dashboard?year=${year}&org_unit_id=${child.org_unit.id}&live=true`)
  await expect(page.locator('[data-indicator=registered] [data-value]')).toHaveText(String(sub.totals.registered))
  const [colour, n] = Object.entries(sub.totals.colour ?? {}).filter(([, v]) => v > 0)[0]
  await page.locator(`[data-colour=${colour}]`).click()
  await expect(page).toHaveURL(new RegExp(`/patients\\?.*colour=${colour}`))
  await expect(page.locator('[data-test=total]')).toHaveText(`共 ${n} 人`)
  await expect(page.locator('[data-test=patients] tbody tr').first()).toBeVisible()
  await shot(page, 'patients-drill')
})
