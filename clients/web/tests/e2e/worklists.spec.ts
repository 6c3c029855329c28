// 工作清单: an official narrows the lists by the responsible doctor, and the
// page lists what the API lists for that doctor.
import { test, expect, apiGet, apiSend, login, newPatient, shot, token } from './fixtures'

test('an official picks a responsible doctor on 工作清单', async ({ page, request }) => {
  // Two new patients without a guardian (so both are care gaps), one of them tf.doctor2's.
  const [a] = [await newPatient(request, '清单'), await newPatient(request, '清单')]
  const put = await apiSend<{ doctor_id: number }>(request, await token(request, 'tf.doctor'), 'PUT', `/api/v1/patients/${a.id}/doctor`,
    { doctor_id: (await apiGet<{ id: number }>(request, await token(request, 'tf.doctor2'), '/api/v1/me')).id })
  expect(put.status, JSON.stringify(put.body)).toBe(200)
  const tok = await token(request, 'tf.official')
  const { items: doctors } = await apiGet<{ items: { id: number; name: string; patients: number }[] }>(request, tok, '/api/v1/worklists/doctors')
  const doc = doctors.find((d) => d.id === put.body.doctor_id)
  expect(doc, 'tf.doctor2 among the doctors to pick').toBeTruthy()
  const all = await apiGet<{ items: { patient_id: number }[] }>(request, tok, '/api/v1/worklists/care-gaps?limit=200')
  const mine = await apiGet<{ items: { patient_id: number; name: string }[] }>(request, tok, `/api/v1/worklists/care-gaps?limit=200&doctor_id=${doc!.id}`)
  expect(mine.items.map((i) => i.patient_id)).toContain(a.id)
  expect(mine.items.length).toBeLessThan(all.items.length)

  await login(page, 'tf.official')
  await page.locator('.el-menu-item[data-menu="/worklists"]').click()
  await page.getByRole('tab', { name: '服务小组缺员' }).click()
  const rows = page.locator('[data-test=worklist] tbody tr')
  await expect(rows).toHaveCount(all.items.length)
  await page.locator('[data-test=doctor]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: `${doc!.name}（${doc!.patients}人）` }).click()
  await expect(rows).toHaveCount(mine.items.length)
  for (const [i, it] of mine.items.entries()) await expect(rows.nth(i).locator('td').first()).toHaveText(it.name)
  await shot(page, 'worklists-doctor')
})
