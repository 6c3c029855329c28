// 首页: the figures equal the API's for the same unit and period (cached, and
// computed live), and a drill-down reaches the patients behind a count.
import { execFileSync } from 'node:child_process'
import { test, expect, login, token, apiGet, apiSend, newPatient, shot } from './fixtures'

type Counts = { registered?: number; managed?: number; rates?: Record<string, number>; colour?: Record<string, number>; org_unit: { id: number; name: string } }
type Dash = { totals: Counts; children: Counts[]; org_unit: { id: number } }

const pct = (v: number | undefined) => (v === undefined ? '—' : `${(Math.round(v * 10) / 10).toFixed(1)}%`)

test('首页 shows the API figures and drills down to the patients', async ({ page, request }) => {
  const tok = await token(request, 'tf.official')
  const year = new Date(Date.now() + 8 * 3600e3).getUTCFullYear()
  const api = await apiGet<Dash>(request, tok, `/api/v1/statistics/dashboard?year=${year}`)
  // The trend's current month is asked whole, as the rollups keep it.
  const today = new Date(Date.now() + 8 * 3600e3)
  const month = today.toISOString().slice(0, 7)
  const monthEnd = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 0)).toISOString().slice(0, 10)
  const thisMonth = page.waitForResponse((r) => r.url().includes(`from=${month}-01&to=${monthEnd}`))
  await login(page, 'tf.official')
  expect((await (await thisMonth).json()).source).toBe('cached')
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

test('every figure of 首页 lists exactly the patients it counts', async ({ page, request }) => {
  test.setTimeout(240_000)
  const tok = await token(request, 'tf.official')
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
  const year = Number(today.slice(0, 4))
  // A patient seen at home today, stable and taking the medicine regularly:
  // every figure of the year counts someone.
  const p = await newPatient(request, '指标')
  const visit = await apiSend(request, await token(request, 'tf.doctor'), 'POST', `/api/v1/patients/${p.id}/follow-ups`, {
    visit_date: today, mode: 'home', informant: 'patient', reached: true, risk_level: 0, symptoms: [], insight: 'complete',
    sleep: 'good', diet: 'fair', social_function: { personal_care: 'good', housework: 'fair', work: 'na', learning: 'good', social_contact: 'fair' },
    compliance: 'regular',
  })
  expect(visit.status, JSON.stringify(visit.body)).toBe(201)
  await login(page, 'tf.official')
  const live = async () => {
    await page.locator('[data-test=live]').click()
    await expect(page.locator('[data-test=as-of]')).toContainText('实时计算')
  }
  await live()
  const api = await apiGet<{ totals: Record<string, number>; children: (Record<string, number> & { org_unit: { id: number } })[] }>(
    request, tok, `/api/v1/statistics/dashboard?year=${year}&live=true`)
  const t = api.totals
  const card = (k: string) => `[data-indicator=${k}] .v a`
  const part = (k: string, p: string) => `[data-indicator=${k}] [data-part=${p}]`
  // [what to click, the indicator it lists, the figure]: each figure, each rate's
  // numerator and denominator, and a rate of the first child unit.
  const figures: [string, string, number][] = [
    [card('registered'), 'registered', t.registered],
    [card('managed'), 'managed', t.managed],
    [card('standard_management'), 'standard', t.standard],
    [part('standard_management', 'registered'), 'registered', t.registered],
    [card('face_to_face'), 'face', t.face],
    [card('regular_medication'), 'regular', t.regular],
    [part('medication', 'medicated'), 'medicated', t.medicated],
    [card('home_stable'), 'stable_home', t.stable_home],
    [part('home_stable', 'at_home'), 'at_home', t.at_home],
    ['[data-test=children] tbody tr:first-child [data-child-rate=standard_management]', 'standard', api.children[0].standard],
  ]
  expect(t.registered, 'the demo township has patients').toBeGreaterThan(0)
  expect(Math.max(t.managed, t.standard, t.face, t.regular, t.stable_home), 'the demo data has visits this year').toBeGreaterThan(0)
  let shown = false
  for (const [sel, indicator, n] of figures) {
    await page.locator(sel).click()
    await expect(page).toHaveURL(new RegExp(`indicator=${indicator}`))
    await expect(page.locator('[data-test=total]'), `${sel}: ${indicator}`).toHaveText(`共 ${n} 人`)
    await expect(page.locator('[data-test=figure]')).toBeVisible()
    if (indicator !== 'registered' && n > 0 && !shown) {
      await expect(page.locator('[data-test=patients] tbody tr').first()).toBeVisible()
      await shot(page, 'patients-figure')
      shown = true
    }
    await page.goBack()
    await live()
  }
})

test('a from–to period is computed live, saved, and read from the rollups after a pass of the worker', async ({ page, request }) => {
  const worker = process.env.JF_TEST_WORKER_BIN
  test.skip(!worker, 'needs the worker (scripts/test sets JF_TEST_WORKER_BIN)')
  const tok = await token(request, 'tf.official')
  const day = (n: number) => new Date(Date.now() + 8 * 3600e3 - n * 86400e3).toISOString().slice(0, 10)
  const [from, to] = [day(70), day(0)]
  await login(page, 'tf.official')
  await page.locator('[data-test=period]').click()
  await page.getByRole('option', { name: '自定义时段…' }).click()
  await page.getByPlaceholder('开始日期').fill(from)
  await page.getByPlaceholder('结束日期').fill(to)
  await page.getByPlaceholder('结束日期').press('Enter')
  await expect(page.locator('[data-test=as-of]')).toContainText('实时计算')
  const live = await apiGet<Dash>(request, tok, `/api/v1/statistics/dashboard?from=${from}&to=${to}&live=true`)
  await expect(page.locator('[data-indicator=registered] [data-value]')).toHaveText(String(live.totals.registered))

  await page.locator('[data-test=save-period]').click()
  await page.locator('.el-message-box input').fill('迎检期间')
  await page.locator('.el-message-box .el-button--primary').click()
  await expect(page.locator('[data-test=period]')).toContainText('迎检期间')
  await expect(page.locator('[data-test=period]')).toContainText('待汇总')
  await shot(page, 'home-saved-period')

  // The worker's pass keeps it: the page now reads it from the rollups.
  execFileSync(worker!, ['--once'], { stdio: 'ignore' })
  await page.reload()
  await page.locator('[data-test=period]').click()
  await page.getByRole('option', { name: /迎检期间/ }).click()
  await expect(page.locator('[data-test=as-of]')).toContainText('统计缓存')
  const cached = await apiGet<Dash>(request, tok, `/api/v1/statistics/dashboard?from=${from}&to=${to}`)
  await expect(page.locator('[data-indicator=registered] [data-value]')).toHaveText(String(cached.totals.registered))
  await expect(page.locator('[data-test=period]')).not.toContainText('待汇总')

  // Removed by the unit that saved it.
  await page.locator('[data-test=delete-period]').click()
  await expect(page.locator('[data-test=period]')).toContainText('按年度')
  const left = await apiGet<{ items: { name: string }[] }>(request, tok, '/api/v1/statistics/periods')
  expect(left.items.map((p) => p.name)).not.toContain('迎检期间')
})
