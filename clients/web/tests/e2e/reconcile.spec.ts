// 三网比对: the police list in GBK (as Excel exports it), the health and grid
// lists in UTF-8, uploaded through the page, produce findings on the page.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, expect, login, idNumber, shot } from './fixtures'

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
