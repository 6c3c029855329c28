// 工作清单: an official narrows the lists by the responsible doctor, and the
// page lists what the API lists for that doctor.
import { test, expect, apiGet, login, shot, token } from './fixtures'

test('an official picks a responsible doctor on 工作清单', async ({ page, request }) => {
  const tok = await token(request, 'tf.official')
  const { items: doctors } = await apiGet<{ items: { id: number; name: string; patients: number }[] }>(request, tok, '/api/v1/worklists/doctors')
  expect(doctors.length, 'the demo township has patients with a responsible doctor').toBeGreaterThan(0)
  const all = await apiGet<{ items: { patient_id: number }[] }>(request, tok, '/api/v1/worklists/care-gaps?limit=200')
  // A doctor whose narrowed list holds some of the whole list, not all of it.
  type Items = { items: { patient_id: number; name: string }[] }
  let doc: (typeof doctors)[number] | undefined
  let mine: Items = { items: [] }
  for (const d of doctors) {
    mine = await apiGet<Items>(request, tok, `/api/v1/worklists/care-gaps?limit=200&doctor_id=${d.id}`)
    if (mine.items.length > 0 && mine.items.length < all.items.length) {
      doc = d
      break
    }
  }
  expect(doc, 'a doctor with some of the care gaps').toBeTruthy()

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
