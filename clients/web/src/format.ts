// How the dashboard writes dates, money and rates: 2026-03-01, 200.00 元, 92.5%.

/** A date or timestamp as its China Standard Time date, 2026-03-01. */
export function fmtDate(v: string | null | undefined): string {
  if (!v) return '—'
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v
  const t = Date.parse(v)
  if (Number.isNaN(t)) return v
  // UTC+8 has no daylight saving: shift and read the UTC fields.
  return new Date(t + 8 * 3600e3).toISOString().slice(0, 10)
}

/** A timestamp as 2026-03-01 08:30 (China Standard Time). */
export function fmtDateTime(v: string | null | undefined): string {
  if (!v) return '—'
  const t = Date.parse(v)
  if (Number.isNaN(t)) return v
  return new Date(t + 8 * 3600e3).toISOString().slice(0, 16).replace('T', ' ')
}

/** An amount in fen as yuan with two decimals: 20000 → "200.00 元". */
export function fmtYuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '—'
  const sign = fen < 0 ? '-' : ''
  const a = Math.abs(Math.round(fen))
  const yuan = Math.floor(a / 100).toLocaleString('zh-CN')
  return `${sign}${yuan}.${String(a % 100).padStart(2, '0')} 元`
}

/** A per-cent figure with one decimal: 92.456 → "92.5%". */
export function fmtRate(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || Number.isNaN(pct)) return '—'
  return `${(Math.round(pct * 10) / 10).toFixed(1)}%`
}

/** A per-mille figure: 4.56 → "4.56‰". */
export function fmtPermille(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—'
  return `${v.toFixed(2)}‰`
}

/** Today in China Standard Time, 2026-03-01. */
export function todayCst(now = Date.now()): string {
  return new Date(now + 8 * 3600e3).toISOString().slice(0, 10)
}

/** Whether a search text is a full ID number (15 or 18 characters, the last may be X), not a name. */
export function isIdNumber(s: string): boolean {
  return /^(\d{15}|\d{17}[\dXx])$/.test(s.replace(/[\s-]/g, ''))
}
