// The worker's view on the phone (IndexedDB): patients, care teams and
// notifications as the change feed left them, the cursor, and the outbox.
import { openDB } from 'idb'

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

// Apply one page of the change feed and its cursor in one transaction, so a
// page is either wholly on the phone or not at all.
export async function applyPage(items, cursor) {
  const tx = (await db()).transaction([...STORES, 'meta'], 'readwrite')
  for (const it of items) {
    const store = tx.objectStore(it.kind === 'care_team' ? 'care_team' : it.kind + 's')
    if (!it.deleted) {
      store.put(it.data)
      continue
    }
    store.delete(it.id)
    if (it.kind === 'patient') {
      // A patient's care team leaves with it.
      const ct = tx.objectStore('care_team')
      for (const m of await ct.getAll()) if (m.patient_id === it.id) ct.delete(m.id)
    }
  }
  tx.objectStore('meta').put(cursor, 'cursor')
  tx.objectStore('meta').put(new Date().toISOString(), 'synced_at')
  await tx.done
}

export async function all(store) {
  return (await db()).getAll(store)
}

export async function get(store, id) {
  return (await db()).get(store, id)
}

// Wipe the local copy of the view (logout): never the outbox, which the
// caller has checked is empty.
export async function wipeView() {
  const tx = (await db()).transaction([...STORES, 'meta'], 'readwrite')
  for (const s of [...STORES, 'meta']) tx.objectStore(s).clear()
  await tx.done
}
