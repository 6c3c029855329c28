// Downloads: the campaign's 统计报表 (.xlsx from the API) and a worklist
// exported in the browser both open as workbooks with the expected cells.
import { execFileSync } from 'node:child_process'
import { test, expect, login, shot } from './fixtures'

/** The text of a cell (shared or inline string, or number) of the first sheet. */
function cell(file: string, ref: string): string {
  const sheet = execFileSync('unzip', ['-p', file, 'xl/worksheets/sheet1.xml']).toString()
  const m = new RegExp(`<c r="${ref}"([^>]*)>(.*?)</c>`).exec(sheet)
  if (!m) return ''
  if (m[1].includes('t="s"')) {
    const sst = execFileSync('unzip', ['-p', file, 'xl/sharedStrings.xml']).toString()
    const strings = [...sst.matchAll(/<si>(.*?)<\/si>/g)].map((s) => s[1].replace(/<[^>]+>/g, ''))
    return strings[Number(/<v>(\d+)<\/v>/.exec(m[2])![1])]
  }
  return m[2].replace(/<[^>]+>/g, '')
}

test('the 统计报表 xlsx downloads and opens', async ({ page }) => {
  await login(page, 'tf.official')
  await page.locator('.el-menu-item[data-menu="/campaigns"]').click()
  const name = (await page.locator('[data-test=campaigns] tbody tr').first().locator('td').first().innerText()).trim()
  await expect(page.locator('[data-test=campaign]')).toContainText(name)
  await shot(page, 'campaigns')
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=report-xlsx]').click()])
  const file = await dl.path()
  expect(cell(file, 'A1')).toBe(`${name}统计`)
  expect(cell(file, 'A2')).toBe('报表填报单位：泰丰街道')
  expect(cell(file, 'B4')).toBe('参加筛查工作人员数')
})

test('a worklist exports as xlsx', async ({ page }) => {
  await login(page, 'tf.doctor')
  await page.locator('.el-menu-item[data-menu="/worklists"]').click()
  await page.getByRole('tab', { name: '服务小组缺员' }).click()
  const rows = page.locator('[data-test=worklist] tbody tr')
  // The rows are the care-team gaps' (their 缺少 is filled), not the list shown before.
  await expect(rows.first().locator('td').nth(3)).not.toBeEmpty()
  const first = (await rows.first().locator('td').first().innerText()).trim()
  await shot(page, 'worklists')
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export]').click()])
  const file = await dl.path()
  expect(cell(file, 'A1')).toBe('姓名')
  expect(cell(file, 'D1')).toBe('缺少')
  expect(cell(file, 'A2')).toBe(first)
})
