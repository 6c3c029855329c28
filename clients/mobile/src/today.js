// 今日: the worker's due, overdue, lost and pick-up overdue (取药超期)
// patients, worked out on the phone from the cards the change feed keeps
// (next_due, pickup_due, status), red first.
const RANK = { red: 3, orange: 2, yellow: 1, green: 0 }

export function localDay(d = new Date()) {
  return localTime(d.toISOString()).slice(0, 10)
}

function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z')
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}

const urgent = (a, b) => (RANK[b.colour] ?? -1) - (RANK[a.colour] ?? -1) ||
  String(a.next_due ?? '9999').localeCompare(String(b.next_due ?? '9999')) || a.id - b.id

export function worklists(patients, today = localDay(), withinDays = 14) {
  const until = addDays(today, withinDays)
  const managed = patients.filter((p) => p.status !== 'suspected')
  return {
    overdue: managed.filter((p) => p.status !== 'lost' && p.next_due && p.next_due < today).sort(urgent),
    due: managed.filter((p) => p.status !== 'lost' && p.next_due && p.next_due >= today && p.next_due <= until).sort(urgent),
    lost: managed.filter((p) => p.status === 'lost').sort(urgent),
    // pickup_due is the last day the pick-up is not yet late; a patient in
    // hospital is given medicine there.
    pickup: managed.filter((p) => p.status !== 'hospitalised' && p.pickup_due && p.pickup_due < today)
      .sort((a, b) => a.pickup_due.localeCompare(b.pickup_due) || urgent(a, b)),
  }
}

export function freshness(iso, now = Date.now()) {
  if (!iso) return '尚未同步'
  const min = Math.floor((now - Date.parse(iso)) / 60000)
  if (min < 1) return '刚刚同步'
  if (min < 60) return `${min} 分钟前同步`
  if (min < 24 * 60) return `${Math.floor(min / 60)} 小时前同步`
  return `${Math.floor(min / 1440)} 天前同步`
}

// "2026-12-06 09:33" in China Standard Time, from an ISO instant.
export function localTime(iso) {
  return new Date(Date.parse(iso) + 8 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ')
}
