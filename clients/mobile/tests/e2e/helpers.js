// Shared by the browser tests: the API as the office uses it, new patients
// unique to the run, logging in on the phone.
import { expect } from '@playwright/test'

export const PASSWORD = process.env.JF_DEMO_PASSWORD ?? 'demo'
const run = Date.now().toString().slice(-7)
const CN = '〇一二三四五六七八九'
export const tag = (s) => s + [...run].map((d) => CN[d]).join('')

// A GB 11643 ID number of 潜江市, new to the register.
export function newId() {
  const seq = String(Math.floor(Math.random() * 900) + 100)
  const d17 = '429005' + '1980' + String(1 + Math.floor(Math.random() * 12)).padStart(2, '0') +
    String(1 + Math.floor(Math.random() * 28)).padStart(2, '0') + seq
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...d17].reduce((s, c, i) => s + Number(c) * w[i], 0)
  return d17 + '10X98765432'[sum % 11]
}

export async function token(request, username) {
  const r = await request.post('/api/v1/auth/login', { data: { username, password: PASSWORD } })
  expect(r.status()).toBe(200)
  return (await r.json()).access_token
}

export async function call(request, tok, method, path, data, headers = {}) {
  const r = await request.fetch('/api/v1' + path, { method, data, headers: { Authorization: 'Bearer ' + tok, ...headers } })
  return { status: r.status(), json: await r.json().catch(() => null) }
}

export async function unitId(request, tok, code) {
  const r = await call(request, tok, 'GET', '/org-units?limit=200')
  return r.json.items.find((u) => u.code === code).id
}

// A patient in the grid, due today (registered 90 days ago, never visited).
export async function newPatient(request, doctor, unit, name) {
  const r = await call(request, doctor, 'POST', '/patients', {
    name, id_number: newId(), org_unit_id: unit, diagnosis: 'schizophrenia',
    diagnosis_date: '2020-01-15', address: '梅苑社区' + name + '家', phone: '13900001111',
  })
  expect(r.status, JSON.stringify(r.json)).toBe(201)
  return r.json.id
}

// Fail on any console error or warning but the network errors that being
// offline causes by design.
export function watchConsole(page) {
  const bad = []
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !/net::ERR_|Failed to load resource/.test(m.text())) bad.push(m.text())
  })
  page.on('pageerror', (e) => bad.push(String(e)))
  return bad
}

export const PIN = '246810'

// Log in and set the PIN that seals the local copy.
export async function loginOnPhone(page, username) {
  await page.goto('/m/')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(PASSWORD)
  await page.getByRole('button', { name: '登录', exact: true }).click()
  await page.locator('input[name="pin"]').fill(PIN)
  await page.locator('input[name="pin_again"]').fill(PIN)
  await page.getByTestId('pin-ok').click()
  await expect(page.getByTestId('freshness')).toContainText('刚刚同步')
  // The shell is cached before the test goes offline.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true))
}

export async function unlockPhone(page, pin = PIN) {
  await page.locator('input[name="pin"]').fill(pin)
  await page.getByTestId('pin-ok').click()
}

// The rows of an IndexedDB store as stored (sealed), from the page.
export function rawRows(page, store) {
  return page.evaluate((s) => new Promise((ok) => {
    const r = indexedDB.open('jingfang')
    r.onsuccess = () => {
      const g = r.result.transaction(s).objectStore(s).getAll()
      g.onsuccess = () => { ok(JSON.stringify(g.result, (k, v) => (v instanceof Uint8Array ? [...v] : v))); r.result.close() }
    }
  }), store)
}

// 今日 opens each list with its most urgent rows: open them all, once the
// lists are read from the local copy (before that there is no 显示全部 to
// click, and a patient beyond the first rows would never show).
export async function showAll(page) {
  await page.getByTestId('list-overdue').waitFor()
  const more = page.getByText(/^显示全部/)
  while (await more.count()) await more.first().click()
}
