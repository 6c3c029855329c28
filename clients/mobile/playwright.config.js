// Browser tests of the grid-worker app: Debian's chromium on a 360×740
// phone screen, against the real API and PostgreSQL (JF_E2E_URL: a
// jingfang-api serving the built app at /m/).
import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results/artifacts',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.JF_E2E_URL ?? 'http://127.0.0.1:8080',
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    serviceWorkers: 'allow',
    testIdAttribute: 'data-test',
    launchOptions: { executablePath: process.env.JF_CHROMIUM ?? '/usr/lib/chromium/chromium' },
  },
})
