// An edit made offline that meets a newer version on the server (412) is
// merged field by field: the office changed the guardian's phone while the
// phone was offline and the worker changed the phone and the address; the
// phone shows both phones side by side, the worker picks, and the server
// ends with the pick and the address only the phone changed.
import { test, expect } from '@playwright/test'
import { call, loginOnPhone, newPatient, showAll, tag, token, unitId, watchConsole } from './helpers.js'

test('a conflicting offline edit shows the field-level merge', async ({ page, context, request }) => {
  const bad = watchConsole(page)
  const doctor = await token(request, 'tf.doctor')
  const g01 = await unitId(request, doctor, '429005003001G01')
  const name = '合并' + tag('己')
  const id = await newPatient(request, doctor, g01, name)
  const g = await call(request, doctor, 'POST', `/patients/${id}/guardians`, {
    kind: 'primary', name: '王母', relation: 'parent', phone: '13900001000', address: '梅苑社区1栋', capacity: 'adequate',
  })
  expect(g.status, JSON.stringify(g.json)).toBe(201)

  await loginOnPhone(page, 'tf.grid1')
  await showAll(page)
  await page.getByText(name, { exact: true }).click()
  await expect(page.getByTestId('guardian')).toContainText('13900001000')

  await context.setOffline(true)
  await page.getByTestId('edit-guardian').click()
  await page.locator('input[name="guardian_phone"]').fill('13900002000')
  await page.locator('input[name="guardian_address"]').fill('梅苑社区2栋301')
  await page.getByTestId('save').click()

  // Meanwhile the office changes the same phone.
  const path = `/patients/${id}/guardians/${g.json.id}`
  const list = await call(request, doctor, 'GET', `/patients/${id}/guardians`)
  const version = list.json.items.find((x) => x.id === g.json.id).version
  const office = await call(request, doctor, 'PATCH', path, { phone: '13900003000' }, { 'If-Match': `"${version}"` })
  expect(office.status, JSON.stringify(office.json)).toBe(200)

  await page.locator('.van-nav-bar__left').click()
  await page.getByRole('tab', { name: /待上传/ }).click()
  await context.setOffline(false)
  await page.evaluate(() => window.dispatchEvent(new Event('online')))
  const conflict = page.getByTestId('conflict')
  await expect(conflict).toBeVisible()
  await expect(page.getByTestId('mine-phone')).toContainText('13900002000')
  await expect(page.getByTestId('theirs-phone')).toContainText('13900003000')
  await expect(page.getByTestId('mine-address')).toHaveCount(0) // only the phone changed it: kept, not asked
  await page.screenshot({ path: 'test-results/07-merge.png', fullPage: true })
  await page.getByTestId('mine-phone').click()
  await page.getByTestId('settle').click()
  await expect(page.getByTestId('state').filter({ hasText: '已上传' })).toHaveCount(1)

  const after = await call(request, doctor, 'GET', `/patients/${id}/guardians`)
  const now = after.json.items.find((x) => x.id === g.json.id)
  expect(now.phone).toBe('13900002000')
  expect(now.address).toBe('梅苑社区2栋301')
  expect(bad).toEqual([])
})
