// The township dashboard in a real browser (Playwright, Debian's chromium):
// what the login page loads (JS and CSS as sent, gzip), what the whole build
// weighs, and the time from the 登录 click until 首页 is interactive (its
// indicators and the table by child unit rendered), R runs; beside it the
// baseline of the same run: the dashboard API request alone.
// Usage: node tests/bench/web_bench.mjs URL DIST [runs]   (a measure, never a test)
import { createRequire } from 'node:module'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const [url, dist, runsArg] = process.argv.slice(2)
const runs = Number(runsArg ?? 5)
const require = createRequire(join(dist, '..', 'package.json'))
const { chromium } = require('@playwright/test')
const password = process.env.JF_DEMO_PASSWORD ?? 'Jingfang@2026'
const kib = (n) => (n / 1024).toFixed(1)
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]

const browser = await chromium.launch({ executablePath: process.env.JF_CHROMIUM ?? '/usr/lib/chromium/chromium' })

// 1. The login page: every script and stylesheet it loads, bytes on the wire.
{
  const page = await browser.newPage()
  const sizes = { script: 0, stylesheet: 0 }
  page.on('requestfinished', async (req) => {
    const t = req.resourceType()
    if (t in sizes) sizes[t] += (await req.sizes()).responseBodySize
  })
  await page.goto(`${url}/login`, { waitUntil: 'networkidle' })
  await page.close()
  console.log(`login page: JS ${kib(sizes.script)} KiB + CSS ${kib(sizes.stylesheet)} KiB = ${kib(sizes.script + sizes.stylesheet)} KiB (gzip, as sent)`)
}

// 2. The whole build, gzip, by kind.
{
  const walk = (d) => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]))
  const total = { js: 0, css: 0 }
  let echarts = 0
  for (const f of walk(join(dist, 'assets'))) {
    const ext = f.endsWith('.js') ? 'js' : f.endsWith('.css') ? 'css' : null
    if (!ext) continue
    const gz = gzipSync(readFileSync(f), { level: 9 }).length
    total[ext] += gz
    if (/EChart-/.test(f) && ext === 'js') echarts = gz
  }
  console.log(`whole build: JS ${kib(total.js)} KiB, CSS ${kib(total.css)} KiB (gzip); the lazy ECharts chunk ${kib(echarts)} KiB`)
}

// 3. Login → 首页 interactive, each run in a fresh context (cold cache), and
//    the dashboard API request alone with the same token.
const ui = []
const afterLogin = []
const apiMs = []
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } })
  const page = await ctx.newPage()
  await page.goto(`${url}/login`, { waitUntil: 'networkidle' })
  await page.locator('input[name=username]').fill('tf.official')
  await page.locator('input[name=password]').fill(password)
  const t0 = performance.now()
  const loggedIn = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')).then(() => performance.now())
  await page.getByRole('button', { name: '登录' }).click()
  await page.locator('[data-indicator=registered] [data-value]').waitFor()
  await page.locator('[data-test=children] tbody tr').first().waitFor()
  const t2 = performance.now()
  ui.push(t2 - t0)
  afterLogin.push(t2 - (await loggedIn))
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('jf.session')).access)
  const t1 = performance.now()
  const r = await fetch(`${url}/api/v1/statistics/dashboard`, { headers: { Authorization: `Bearer ${token}` } })
  await r.arrayBuffer()
  apiMs.push(performance.now() - t1)
  await ctx.close()
}
await browser.close()
const m = median(ui)
const b = median(apiMs)
console.log(`登录 click → 首页 interactive: median ${m.toFixed(0)} ms, max ${Math.max(...ui).toFixed(0)} ms (${runs} runs, fresh context)`)
console.log(`  of which after the login answer (PBKDF2 done): median ${median(afterLogin).toFixed(0)} ms`)
console.log(`baseline, GET /api/v1/statistics/dashboard alone: median ${b.toFixed(0)} ms`)
console.log(`ratio interactive / API request: ${(m / b).toFixed(1)}`)
