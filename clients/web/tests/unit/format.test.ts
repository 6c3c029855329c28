// The formatters: dates in China Standard Time, yuan from fen, rates, ID-number detection.
import { describe, expect, it } from 'vitest'
import { fmtDate, fmtDateTime, fmtPermille, fmtRate, fmtYuan, isIdNumber, todayCst } from '../../src/format'
import { label, zh } from '../../src/i18n/zh'

describe('formatters', () => {
  it.each([
    ['2026-03-01', '2026-03-01'],
    ['2026-02-28T16:30:00Z', '2026-03-01'], // 00:30 in Beijing
    ['2026-03-01T08:10:38.08+08:00', '2026-03-01'],
    [null, '—'],
    ['', '—'],
    ['not a date', 'not a date'],
  ])('fmtDate(%s) = %s', (v, want) => expect(fmtDate(v)).toBe(want))

  it('fmtDateTime writes Beijing time', () => expect(fmtDateTime('2026-02-28T16:30:00Z')).toBe('2026-03-01 00:30'))

  it.each([
    [20000, '200.00 元'],
    [5, '0.05 元'],
    [360000, '3,600.00 元'],
    [-150, '-1.50 元'],
    [null, '—'],
  ])('fmtYuan(%s) = %s', (v, want) => expect(fmtYuan(v)).toBe(want))

  it.each([
    [92.456, '92.5%'],
    [100, '100.0%'],
    [0, '0.0%'],
    [undefined, '—'],
  ])('fmtRate(%s) = %s', (v, want) => expect(fmtRate(v)).toBe(want))

  it('fmtPermille', () => expect(fmtPermille(4.5)).toBe('4.50‰'))

  it('todayCst crosses midnight at 16:00 UTC', () => {
    expect(todayCst(Date.parse('2026-02-28T15:59:59Z'))).toBe('2026-02-28')
    expect(todayCst(Date.parse('2026-02-28T16:00:00Z'))).toBe('2026-03-01')
  })

  it.each([
    ['429005198001012455', true],
    ['42900519800101245x', true],
    ['429005 1980 0101 2455', true],
    ['429005800101245', true],
    ['张伟', false],
    ['4290051980', false],
  ])('isIdNumber(%s) = %s', (v, want) => expect(isIdNumber(v)).toBe(want))

  it('label falls back to the code and writes — for nothing', () => {
    expect(label(zh.status, 'in_care')).toBe('在管')
    expect(label(zh.status, 'new_code')).toBe('new_code')
    expect(label(zh.risk, 3)).toBe('3级')
    expect(label(zh.status, null)).toBe('—')
  })
})
