// 三网比对: the police list in GBK (as Excel exports it), the health and grid
// lists in UTF-8, uploaded through the page, produce findings on the page; a
// list with other headers is read through a column mapping saved there.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, expect, apiGet, login, idNumber, shot, token, uniqueName } from './fixtures'

const HEADER = '身份证号,姓名,性别,出生日期,村(社区),状态,风险等级\n'

test('a GBK 三网 upload produces findings on the page', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'jf-e2e-'))
  const stranger = idNumber('19750505')
  const police = `${HEADER}${stranger},比对某,男,1975-05-05,梅苑社区,在管,3\n`
  const policeFile = join(dir, 'police-gbk.csv')
  writeFileSync(policeFile, execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GBK'], { input: police }))
  const gridFile = join(dir, 'grid.csv')
  writeFileSync(gridFile, `${HEADER}${stranger},比对某,男,1975-05-05,梅苑社区,在管,\n`)
  // The health system knows someone our register does not: not_in_registry.
  const healthFile = join(dir, 'health.csv')
  writeFileSync(healthFile, `\uFEFF${HEADER}${idNumber('19660606')},卫健某,男,1966-06-06,梅苑社区,在管,1\n`)

  await login(page, 'tf.doctor')
  await page.locator('.el-menu-item[data-menu="/reconcile"]').click()
  await page.locator('[data-test=new-run]').click()
  await page.locator('input[data-source=police]').setInputFiles(policeFile)
  await expect(page.locator('[data-loaded=police]')).toContainText('1 行（GBK）')
  await page.locator('input[data-source=grid]').setInputFiles(gridFile)
  await expect(page.locator('[data-loaded=grid]')).toContainText('1 行（UTF-8）')
  await page.locator('input[data-source=health]').setInputFiles(healthFile)
  await expect(page.locator('[data-loaded=health]')).toContainText('1 行（UTF-8）')
  await page.locator('[data-test=analyse]').click()
  const findings = page.locator('[data-test=findings]')
  await findings.locator('[data-category=unregistered]').click()
  await expect(findings.locator('tbody tr', { hasText: '比对某' }).first()).toContainText('疑似未登记')
  await findings.locator('[data-category=not_in_registry]').click()
  await expect(findings.locator('tbody tr', { hasText: '卫健某' }).first()).toContainText('不在本地档案')
  await expect(findings.locator('[data-test=diff]')).toContainText('新发现')
  await shot(page, 'reconcile')
})

test('a list with other headers is read through a column mapping saved on the page', async ({ page, request }) => {
  const dir = mkdtempSync(join(tmpdir(), 'jf-e2e-'))
  const stranger = idNumber('19720707')
  const name = uniqueName('映射某')
  const csv = `身份证件号码,人员姓名,性别,所属社区,管控状态\n${stranger},${name},男,梅苑社区,在管\n`
  const file = join(dir, 'police-other-headers.csv')
  writeFileSync(file, execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GBK'], { input: csv }))
  const mapping = uniqueName('派出所导出格式')

  await login(page, 'tf.doctor')
  await page.locator('.el-menu-item[data-menu="/reconcile"]').click()
  await page.locator('[data-test=new-run]').click()
  await page.locator('input[data-source=police]').setInputFiles(file)
  // Not the default headers: the page asks which column is which, guessing the ID number and name.
  const panel = page.locator('[data-test=mapping]')
  await expect(panel).toBeVisible()
  await expect(panel.locator('[data-column=id]')).toContainText('身份证件号码')
  await expect(panel.locator('[data-column=name]')).toContainText('人员姓名')
  await panel.locator('[data-column=village]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '所属社区' }).click()
  await panel.locator('[data-test=mapping-name] input').fill(mapping)
  await shot(page, 'reconcile-mapping')
  await panel.locator('[data-test=save-mapping]').click()
  await expect(panel).toBeHidden()
  await expect(page.locator('[data-loaded=police]')).toContainText('1 行（GBK）')

  // Saved for the next time, with the columns chosen.
  const tok = await token(request, 'tf.doctor')
  const saved = await apiGet<{ items: { name: string; source: string; columns: Record<string, string> }[] }>(request, tok, '/api/v1/reconcile/mappings?limit=200')
  const m = saved.items.find((x) => x.name === mapping)
  expect(m?.source).toBe('police')
  expect(m?.columns).toMatchObject({ id: '身份证件号码', name: '人员姓名', village: '所属社区' })
  // And the upload was read through it: beside a health list that does not
  // know the person, the person is suspected unregistered.
  const healthFile = join(dir, 'health.csv')
  writeFileSync(healthFile, `${HEADER}${idNumber('19680808')},卫健某,男,1968-08-08,梅苑社区,在管,1\n`)
  await page.locator('input[data-source=health]').setInputFiles(healthFile)
  await expect(page.locator('[data-loaded=health]')).toContainText('1 行（UTF-8）')
  await page.locator('[data-test=analyse]').click()
  const findings = page.locator('[data-test=findings]')
  await findings.locator('[data-category=unregistered]').click()
  await expect(findings.locator('tbody tr', { hasText: name }).first()).toContainText('疑似未登记')
})
