// Browser tests: Debian's chromium, headless, against the real API and
// PostgreSQL (JF_E2E_URL: a jingfang-api serving the built client).
import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results/artifacts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.JF_E2E_URL ?? 'http://127.0.0.1:8080',
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    launchOptions: { executablePath: process.env.JF_CHROMIUM ?? '/usr/lib/chromium/chromium' },
  },
})
