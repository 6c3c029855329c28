// 通报: acknowledging a notification with what was done takes it out of the unread count.
import { test, expect, login, token, apiSend, newPatient, shot } from './fixtures'

test('acknowledging a notification removes it from the unread count', async ({ page, request }) => {
  const { id, name } = await newPatient(request, '通报甲')
  const police = await token(request, 'tf.police')
  const r = await apiSend(request, police, 'POST', `/api/v1/patients/${id}/incidents`, {
    occurred_on: new Date(Date.now() + 8 * 3600e3 - 86400e3).toISOString().slice(0, 10), place: '梅苑社区', kind: 'trouble', injured: 0, dead: 0,
  })
  expect(r.status).toBe(201)

  await login(page, 'tf.doctor')
  const unread = page.locator('[data-test=unread]')
  await expect(unread).not.toHaveText('')
  const before = Number(await unread.innerText())
  expect(before).toBeGreaterThan(0)
  await page.locator('.el-menu-item[data-menu="/notifications"]').click()
  await page.locator('[data-test=notifications] tbody tr', { hasText: name }).first().click()
  await page.locator('[data-test=action]').fill('已联系监护人，当日上门走访，患者在家')
  await shot(page, 'notifications')
  await page.locator('[data-test=ack]').click()
  await expect(unread).toHaveText(String(before - 1))
  await expect(page.locator('[data-test=notifications] tbody tr', { hasText: name })).toHaveCount(0)
})
