// Editing with If-Match: when someone saved first, the 412 is shown with their
// change and the user's edit can be applied again on the new version.
import { test, expect, allowConsole, login, token, apiGet, apiSend, newPatient, shot } from './fixtures'

test('a 412 conflict is shown, not swallowed, and the edit re-applies', async ({ page, request }) => {
  const { id, name } = await newPatient(request, '冲突甲')
  allowConsole(/status of 412/)
  await login(page, 'tf.doctor')
  await page.goto(`/patients/${id}`)
  await page.locator('[data-test=edit]').click()
  await page.locator('input[name=phone]').fill('13900009999')

  // Meanwhile a colleague changes the address.
  const tok = await token(request, 'tf.doctor')
  const cur = await apiGet<{ version: number }>(request, tok, `/api/v1/patients/${id}`)
  const r = await apiSend(request, tok, 'PATCH', `/api/v1/patients/${id}`, { address: '梅苑社区2组8号' }, { 'If-Match': `"${cur.version}"` })
  expect(r.status).toBe(200)

  await page.locator('[data-test=save]').click()
  const conflict = page.locator('[data-test=conflict]')
  await expect(conflict).toContainText('412')
  await expect(conflict).toContainText('梅苑社区2组8号')
  await expect(conflict).toContainText('13900009999')
  await shot(page, 'patient-conflict')
  await page.locator('[data-test=save]').click()
  await expect(conflict).toBeHidden()
  await expect(page.locator('[data-test=basic]')).toContainText('13900009999')
  await expect(page.locator('[data-test=basic]')).toContainText('梅苑社区2组8号')
})
