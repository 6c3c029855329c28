// 异常行为预警 from the phone: offline, one on a patient from the card and
// one on an unknown person from 今日; online, each arrives once.
import { test, expect } from '@playwright/test'
import { call, loginOnPhone, newPatient, showAll, tag, token, unitId, watchConsole } from './helpers.js'

async function alert(page, place, observed) {
  await page.getByTestId('grade-urgent').click()
  await page.locator('input[name="place"]').fill(place)
  await page.locator('textarea[name="observed"]').fill(observed)
  await page.getByTestId('save').click()
}

test('alerts raised offline arrive once each', async ({ page, context, request }) => {
  const bad = watchConsole(page)
  const doctor = await token(request, 'tf.doctor')
  const g01 = await unitId(request, doctor, '429005003001G01')
  const name = '预警' + tag('辛')
  const id = await newPatient(request, doctor, g01, name)
  const person = '不明男子' + tag('壬') + '，约四十岁，穿蓝色外套'

  await loginOnPhone(page, 'tf.grid1')
  await context.setOffline(true)
  await page.getByTestId('alert-unknown').click()
  await page.locator('textarea[name="person"]').fill(person)
  await alert(page, '梅苑社区菜市场门口', '拿着木棍追赶路人')
  await showAll(page)
  await page.getByText(name, { exact: true }).click()
  await page.getByTestId('alert').click()
  await alert(page, '梅苑社区3栋楼道', '砸门，大声叫喊')
  await page.locator('.van-nav-bar__left').click()
  await page.getByRole('tab', { name: /待上传/ }).click()
  await expect(page.getByTestId('state').filter({ hasText: '待上传' })).toHaveCount(2)
  await page.screenshot({ path: 'test-results/09-alerts-offline.png', fullPage: true })

  await context.setOffline(false)
  await page.evaluate(() => window.dispatchEvent(new Event('online')))
  await expect(page.getByTestId('state').filter({ hasText: '已上传' })).toHaveCount(2)

  const onPatient = await call(request, doctor, 'GET', `/alerts?patient_id=${id}`)
  expect(onPatient.status, JSON.stringify(onPatient.json)).toBe(200)
  expect(onPatient.json.items).toHaveLength(1)
  expect(onPatient.json.items[0].grade).toBe('urgent')
  const all = await call(request, doctor, 'GET', '/alerts?limit=200')
  expect(all.json.items.filter((a) => a.person === person)).toHaveLength(1)
  expect(bad).toEqual([])
})
