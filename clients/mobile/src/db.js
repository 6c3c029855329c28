// The worker's view on the phone (IndexedDB): patients, care teams and
// notifications as the change feed left them, the cursor, and the outbox.
// Records are kept sealed ({id, box}, crypto.js): only ids and the
// link of a care-team member to its patient are in the clear.
import { openDB } from 'idb'
import { seal, unseal } from './crypto.js'

const STORES = ['patients', 'care_team', 'notifications']
let dbp = null

export function db() {
  dbp ??= openDB('jingfang', 1, {
    upgrade(d) {
      for (const s of STORES) d.createObjectStore(s, { keyPath: 'id' })
      d.createObjectStore('meta')
      d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
    },
  })
  return dbp
}

export const meta = {
  get: async (k) => (await db()).get('meta', k),
  set: async (k, v) => (await db()).put('meta', v, k),
}

// 今日 opens from one sealed box, not from every card (a decryption each):
// the fields its lists show, of every patient, kept by applyPage.
const TODAY_FIELDS = ['id', 'name', 'status', 'colour', 'next_due', 'pickup_due', 'address', 'phone']
const slim = (p) => Object.fromEntries(TODAY_FIELDS.map((k) => [k, p[k] ?? null]))

// The rows of 今日 (a copy synced before the box existed is read whole once).
export async function todayRows() {
  const box = await meta.get('today')
  return box ? unseal(box) : (await all('patients')).map(slim)
}

// Apply one page of the change feed and its cursor in one transaction, so a
// page is either wholly on the phone or not at all.
export async function applyPage(items, cursor) {
  // Sealed first: a transaction closes when it waits on anything else.
  const boxes = await Promise.all(items.map((it) => (it.deleted ? null : seal(it.data))))
  const rows = new Map((await todayRows()).map((p) => [p.id, p]))
  for (const it of items) {
    if (it.kind !== 'patient') continue
    if (it.deleted) rows.delete(it.id)
    else rows.set(it.id, slim(it.data))
  }
  const today = await seal([...rows.values()])
  const tx = (await db()).transaction([...STORES, 'meta'], 'readwrite')
  // Logged out meanwhile (the wipe took the session): write nothing. In
  // the transaction, so no page can land in a copy wiped after the check.
  if (!(await tx.objectStore('meta').get('session'))) {
    await tx.done
    return
  }
  for (const [i, it] of items.entries()) {
    const store = tx.objectStore(it.kind === 'care_team' ? 'care_team' : it.kind + 's')
    if (!it.deleted) {
      store.put({ id: it.id, patient_id: it.data.patient_id, box: boxes[i] })
      continue
    }
    store.delete(it.id)
    if (it.kind === 'patient') {
      // A patient's care team leaves with it.
      const ct = tx.objectStore('care_team')
      for (const m of await ct.getAll()) if (m.patient_id === it.id) ct.delete(m.id)
    }
  }
  tx.objectStore('meta').put(today, 'today')
  tx.objectStore('meta').put(cursor, 'cursor')
  tx.objectStore('meta').put(new Date().toISOString(), 'synced_at')
  await tx.done
}

export async function all(store) {
  const rows = await (await db()).getAll(store)
  return Promise.all(rows.map((r) => unseal(r.box)))
}

export async function get(store, id) {
  const r = await (await db()).get(store, id)
  return r ? unseal(r.box) : undefined
}

// The outbox keeps what it sends sealed too: {…, box: seal({body, label})}.
export async function outboxAll() {
  const rows = await (await db()).getAll('outbox')
  return Promise.all(rows.map(async ({ box, ...r }) => ({ ...r, ...(await unseal(box)) })))
}

export async function outboxPut(item) {
  const { body, label, ...rest } = item
  const row = { ...rest, box: await seal({ body, label }) }
  return (await db()).put('outbox', row)
}

// Wipe the local copy (logout) with the session and the PIN: the caller
// has checked that nothing in the outbox is unsent.
export async function wipeView() {
  const tx = (await db()).transaction([...STORES, 'meta', 'outbox'], 'readwrite')
  for (const s of [...STORES, 'meta', 'outbox']) tx.objectStore(s).clear()
  await tx.done
}
