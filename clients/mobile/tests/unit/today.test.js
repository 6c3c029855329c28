// 今日 worked out on the phone: overdue, due, lost and pick-up overdue,
// most urgent first; the freshness line; China Standard Time.
import { describe, expect, it } from 'vitest'
import { freshness, localDay, localTime, worklists } from '../../src/today.js'

const P = (id, over) => ({ id, name: 'p' + id, status: 'in_care', colour: 'green', next_due: null, pickup_due: null, ...over })
const ids = (rows) => rows.map((p) => p.id)

describe('worklists', () => {
  const today = '2026-12-06'
  const patients = [
    P(1, { next_due: '2026-12-01', colour: 'yellow' }),
    P(2, { next_due: '2026-12-03', colour: 'red' }),
    P(3, { next_due: '2026-12-06' }),
    P(4, { next_due: '2026-12-20' }),
    P(5, { next_due: '2026-12-21' }), // past the two weeks
    P(6, { status: 'lost', next_due: '2026-11-01' }),
    P(7, { status: 'suspected', next_due: '2026-11-01' }),
    P(8, { next_due: '2026-12-10', colour: 'red' }),
    P(9, { pickup_due: '2026-12-05', colour: 'orange' }),
    P(10, { pickup_due: '2026-12-06' }), // due today: not yet overdue
    P(11, { pickup_due: '2026-11-20' }),
    P(12, { status: 'hospitalised', pickup_due: '2026-11-01' }), // medicine given in hospital
  ]
  const l = worklists(patients, today)
  it('overdue: before today, red first', () => expect(ids(l.overdue)).toEqual([2, 1]))
  it('due: today to fourteen days ahead, red first', () => expect(ids(l.due)).toEqual([8, 3, 4]))
  it('lost: on its own list, not overdue', () => expect(ids(l.lost)).toEqual([6]))
  it('suspected persons are not on any list', () => {
    for (const k of Object.keys(l)) expect(ids(l[k])).not.toContain(7)
  })
  it('pick-up overdue: past its day, the longest overdue first, not in hospital', () => expect(ids(l.pickup)).toEqual([11, 9]))
})

describe('freshness', () => {
  const now = Date.parse('2026-12-06T02:00:00Z')
  const cases = [
    [null, '尚未同步'],
    ['2026-12-06T01:59:30Z', '刚刚同步'],
    ['2026-12-06T01:15:00Z', '45 分钟前同步'],
    ['2026-12-05T22:00:00Z', '4 小时前同步'],
    ['2026-12-03T02:00:00Z', '3 天前同步'],
  ]
  for (const [iso, text] of cases) it(String(iso), () => expect(freshness(iso, now)).toBe(text))
})

describe('China Standard Time', () => {
  it('the day turns at 16:00 UTC', () => {
    expect(localDay(new Date('2026-12-06T15:59:00Z'))).toBe('2026-12-06')
    expect(localDay(new Date('2026-12-06T16:00:00Z'))).toBe('2026-12-07')
  })
  it('localTime', () => expect(localTime('2026-12-06T01:33:00Z')).toBe('2026-12-06 09:33'))
})
