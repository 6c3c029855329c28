// 救治救助: civil affairs open the applications and run the month's 以奖代补 batch
// (or see the one already run).
import { test, expect, allowConsole, login, shot } from './fixtures'

test('civil affairs run the monthly 以奖代补 batch', async ({ page }) => {
  // A batch of this month may exist (another suite's): the page then shows that one.
  allowConsole(/status of 409/)
  await login(page, 'tf.civil')
  await page.locator('.el-menu-item[data-menu="/assistance"]').click()
  await expect(page.locator('[data-test=applications]')).toBeVisible()
  await page.getByRole('tab', { name: '以奖代补发放' }).click()
  await page.locator('[data-test=run-batch]').click()
  await expect(page.locator('[data-test=batch-totals]')).toContainText(/泰丰街道 \d{4}-\d{2}：发放 \d+ 笔，合计 [\d,]+\.\d{2} 元/)
  await shot(page, 'assistance')
})
