// What every browser test shares: a page that fails the test on any console
// error or warning, logins through the UI and the API, screenshots.
import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test'

export const PASSWORD = process.env.JF_DEMO_PASSWORD ?? 'Jingfang@2026'

let allowed: RegExp[] = []
/** A console line this test causes on purpose (the browser logs a 412 it was sent, say). */
export function allowConsole(re: RegExp) {
  allowed.push(re)
}

export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const problems: string[] = []
    allowed = []
    page.on('console', (m) => {
      const line = `${m.type()}: ${m.text()}`
      if ((m.type() === 'error' || m.type() === 'warning') && !allowed.some((re) => re.test(line))) problems.push(line)
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    await use(page)
    expect(problems, 'console errors or warnings').toEqual([])
  },
})
export { expect }

/** Log in through the login page and wait for the shell. */
export async function loginUi(page: Page, username: string) {
  await page.goto('/login')
  await page.locator('input[name=username]').fill(username)
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.locator('.brand')).toBeVisible()
}

const sessions = new Map<string, string>()

/** Open the dashboard signed in as username: one API login per user for the
 * whole run (the login page itself is tested by loginUi), the session put
 * where the client keeps it. */
export async function login(page: Page, username: string) {
  let s = sessions.get(username)
  if (!s) {
    const r = await page.request.post('/api/v1/auth/login', { data: { username, password: PASSWORD } })
    expect(r.status()).toBe(200)
    const t = await r.json()
    s = JSON.stringify({ access: t.access_token, refresh: t.refresh_token, user: t.user })
    sessions.set(username, s)
  }
  await page.addInitScript((v) => sessionStorage.setItem('jf.session', v), s)
  await page.goto('/')
  await expect(page.locator('.brand')).toBeVisible()
}

/** An access token for direct API calls (the figures the page must show). */
export async function token(request: APIRequestContext, username: string): Promise<string> {
  const r = await request.post('/api/v1/auth/login', { data: { username, password: PASSWORD } })
  expect(r.status()).toBe(200)
  return (await r.json()).access_token as string
}

export async function apiGet<T = unknown>(request: APIRequestContext, tok: string, path: string): Promise<T> {
  const r = await request.get(path, { headers: { Authorization: `Bearer ${tok}` } })
  expect(r.status(), path).toBe(200)
  return (await r.json()) as T
}

export async function apiSend<T = unknown>(request: APIRequestContext, tok: string, method: string, path: string, data: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; etag: string | undefined }> {
  const r = await request.fetch(path, { method, data, headers: { Authorization: `Bearer ${tok}`, ...headers } })
  return { status: r.status(), body: (await r.json().catch(() => null)) as T, etag: r.headers()['etag'] }
}

/** A screenshot kept as a test artifact (test-results/screens, git-ignored). */
export async function shot(page: Page, name: string) {
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: false })
}

/** A valid GB 11643 ID number (checksum included) born on birth (YYYYMMDD), random serial. */
export function idNumber(birth = '19800101', area = '429005'): string {
  const body = area + birth + String(10 + Math.floor(Math.random() * 90)) + '1' // odd: male
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

/** A name unique to this run (names take no ASCII digits): base and five of 甲…癸. */
export function uniqueName(base: string): string {
  return base + [...String(Date.now()).slice(-5)].map((d) => '甲乙丙丁戊己庚辛壬癸'[Number(d)]).join('')
}

/** A patient of 泰丰街道's 梅苑社区 made for one test, as tf.doctor; its id and (unique) name. */
export async function newPatient(request: APIRequestContext, base: string): Promise<{ id: number; name: string }> {
  const name = uniqueName(base)
  const rnd = (lo: number, n: number) => String(lo + Math.floor(Math.random() * n)).padStart(2, '0')
  const birth = `${rnd(1950, 50)}-${rnd(1, 12)}-${rnd(1, 28)}`
  const tok = await token(request, 'tf.doctor')
  const units = await apiGet<{ items: { id: number; name: string }[] }>(request, tok, '/api/v1/org-units?limit=200')
  const unit = units.items.find((u) => u.name === '梅苑社区')
  expect(unit, '梅苑社区 in the demo data').toBeTruthy()
  const r = await apiSend<{ id: number }>(request, tok, 'POST', '/api/v1/patients', {
    name, id_number: idNumber(birth.replace(/-/g, '')), org_unit_id: unit!.id, gender: 'male', birth_date: birth,
    phone: '13800001234', address: '梅苑社区1组1号', diagnosis: 'schizophrenia', diagnosis_date: '2025-01-05',
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return { id: r.body.id, name }
}
