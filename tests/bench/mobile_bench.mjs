// The grid-worker app in a real browser (Playwright, Debian's chromium, a
// 360×740 phone): the app shell (what the service worker precaches, gzip),
// the cold sync of a grid from an empty phone (PIN set → every patient on
// the phone), beside the change feed's pages fetched alone, and the opening
// of 今日 from the local copy with no network (the PIN's 解锁 tapped after a
// reload → the list rendered, the PIN's key derivation included and shown
// apart), R runs each.
// Usage: node tests/bench/mobile_bench.mjs URL DIST [runs] [patients]   (a measure, never a test)
import { createRequire } from 'node:module'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const [url, dist, runsArg, nArg] = process.argv.slice(2)
const runs = Number(runsArg ?? 5)
const n = Number(nArg ?? 300)
const require = createRequire(join(dist, '..', 'package.json'))
const { chromium } = require('@playwright/test')
const password = process.env.JF_DEMO_PASSWORD ?? 'Jingfang@2026'
const kib = (x) => (x / 1024).toFixed(1)
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]

// 1. The shell: every file the service worker precaches, gzip.
{
  const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]))
  let total = 0
  for (const f of walk(dist)) {
    if (!/\.(js|css|html|svg|webmanifest)$/.test(f)) continue
    total += gzipSync(readFileSync(f), { level: 9 }).length
  }
  console.log(`app shell (precached, incl. service worker): ${kib(total)} KiB gzip`)
}

const browser = await chromium.launch({ executablePath: process.env.JF_CHROMIUM ?? '/usr/lib/chromium/chromium' })
const sync = []
const feed = []
const today = []
const derive = []
const PIN = '246810'
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, serviceWorkers: 'allow' })
  const page = await ctx.newPage()
  await page.goto(`${url}/m/`, { waitUntil: 'networkidle' })
  await page.getByLabel('用户名').fill('bench.grid')
  await page.getByLabel('密码').fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await page.locator('input[name="pin"]').fill(PIN)
  await page.locator('input[name="pin_again"]').fill(PIN)
  const t0 = performance.now()
  await page.locator('[data-test=pin-ok]').click()
  await page.locator('[data-test=freshness]', { hasText: `本机 ${n} 人` }).waitFor({ timeout: 60000 })
  sync.push(performance.now() - t0)

  // The feed alone, with the same token, from empty to the last page.
  const token = await page.evaluate(() => new Promise((ok) => {
    const r = indexedDB.open('jingfang')
    r.onsuccess = () => { const g = r.result.transaction('meta').objectStore('meta').get('session'); g.onsuccess = () => ok(g.result.access_token) }
  }))
  const t1 = performance.now()
  for (let cursor = null; ;) {
    const r = await fetch(`${url}/api/v1/changes${cursor ? '?cursor=' + cursor : ''}`, { headers: { Authorization: `Bearer ${token}` } })
    const page1 = await r.json()
    cursor = page1.next_cursor
    if (!page1.more) break
  }
  feed.push(performance.now() - t1)

  // 今日 from the local copy, offline (the service worker serves the app).
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true))
  await ctx.setOffline(true)
  await page.reload()
  await page.locator('input[name="pin"]').fill(PIN)
  // Timed in the page: from the tap (capture phase) to the first frame
  // with the rows.
  await page.evaluate(() => document.addEventListener('click', () => { window.jfT0 ??= performance.now() }, true))
  await page.locator('[data-test=pin-ok]').click()
  const shown = await page.waitForFunction(() => document.querySelector('[data-test=patient-row]') && performance.now(), null, { polling: 'raf' })
  today.push((await shown.jsonValue()) - (await page.evaluate(() => window.jfT0)))
  derive.push(await page.evaluate(async (iterations) => {
    const t = performance.now()
    const base = await crypto.subtle.importKey('raw', new TextEncoder().encode('246810'), 'PBKDF2', false, ['deriveKey'])
    await crypto.subtle.deriveKey({ name: 'PBKDF2', salt: new Uint8Array(16), iterations, hash: 'SHA-256' },
      base, { name: 'AES-GCM', length: 256 }, false, ['decrypt'])
    return performance.now() - t
  }, 310000))
  await ctx.close()
}
await browser.close()
console.log(`cold sync of ${n} patients, PIN set → all on the phone: median ${median(sync).toFixed(0)} ms, max ${Math.max(...sync).toFixed(0)} ms (${runs} runs, fresh phone)`)
console.log(`  baseline, GET /api/v1/changes from empty to the last page alone: median ${median(feed).toFixed(0)} ms`)
console.log(`今日 from the local copy, offline (解锁 tapped → list rendered): median ${median(today).toFixed(0)} ms, max ${Math.max(...today).toFixed(0)} ms`)
console.log(`  of which the PIN's key (PBKDF2-SHA-256, 310000 rounds) alone: median ${median(derive).toFixed(0)} ms`)
