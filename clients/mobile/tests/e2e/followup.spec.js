// A village doctor's national follow-up form (随访) in the app: recorded
// offline, it arrives once even when its first answer is lost; one dated
// tomorrow comes back (被退回) with the server's reason naming the field, is
// fixed and arrives.
import { test, expect } from '@playwright/test'
import { call, loginOnPhone, newPatient, showAll, tag, token, unitId, watchConsole } from './helpers.js'

// From the open patient card: the form, saved, back on the card.
async function followUp(page, date) {
  await page.getByTestId('follow-up').click()
  if (date) await page.locator('input[name="visit_date"]').fill(date)
  await page.locator('textarea[name="note"]').fill('病情稳定，继续原方案')
  await page.getByTestId('save').click()
}

test('a doctor records a follow-up offline and it arrives once', async ({ page, context, request }) => {
  const bad = watchConsole(page)
  const doctor = await token(request, 'tf.doctor')
  const g01 = await unitId(request, doctor, '429005003001G01')
  const name = '随访' + tag('庚')
  const id = await newPatient(request, doctor, g01, name)
  const count = async () => {
    const r = await call(request, doctor, 'GET', `/patients/${id}/follow-ups`)
    expect(r.status).toBe(200)
    return (r.json.items ?? r.json).length
  }
  const day = (n) => new Date(Date.now() + 8 * 3600e3 + n * 86400e3).toISOString().slice(0, 10)

  await loginOnPhone(page, 'tf.doctor2')
  await showAll(page)
  await page.getByText(name, { exact: true }).click()
  await context.setOffline(true)
  await followUp(page)
  await followUp(page, day(1)) // tomorrow: the server will refuse it
  await page.locator('.van-nav-bar__left').click()
  await page.getByRole('tab', { name: /待上传/ }).click()
  await expect(page.getByTestId('state').filter({ hasText: '待上传' })).toHaveCount(2)

  // Online: the first arrives once even though its first answer is lost.
  let dropped = 0
  await page.route('**/api/v1/patients/*/follow-ups', async (route) => {
    if (dropped++ === 0) {
      await route.fetch()
      await route.abort('connectionreset')
    } else {
      await route.continue()
    }
  })
  await context.setOffline(false)
  await page.evaluate(() => window.dispatchEvent(new Event('online')))
  await expect(page.getByTestId('state').filter({ hasText: '已上传' })).toHaveCount(1, { timeout: 60_000 })
  await expect(page.getByTestId('problem')).toContainText('visit_date')
  await page.screenshot({ path: 'test-results/08-follow-up-refused.png', fullPage: true })
  expect(dropped).toBeGreaterThanOrEqual(3) // dropped, sent again, the refused one
  expect(await count()).toBe(1)

  await page.getByTestId('fix').click()
  await page.locator('input[name="visit_date"]').fill(day(0))
  await page.getByTestId('save').click()
  await expect(page.getByTestId('state').filter({ hasText: '已上传' })).toHaveCount(2)
  expect(await count()).toBe(2)
  expect(bad).toEqual([])
})
