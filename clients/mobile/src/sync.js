// Offline first: the outbox goes up first, in the order it was written,
// then the change feed comes down. Network failures and 5xx are retried
// with backoff; any other refusal (400, 403, 404, 409, 412, 422) marks the
// record 被退回 with the server's problem: a person must look, never a
// blind retry.
import { reactive } from 'vue'
import { api, ApiError } from './api.js'
import { applyPage, meta, outboxAll, outboxPut } from './db.js'
import { lock } from './crypto.js'

export const state = reactive({ online: navigator.onLine, syncing: false, syncedAt: null, error: '', outbox: [] })

export async function loadOutbox() {
  if (lock.unlocked) state.outbox = await outboxAll()
  return state.outbox
}

// Queue a record: its Idempotency-Key is made now, once, and sent with every
// attempt. after: the outbox seq of a record this one needs (a new person
// before its visit); path may hold "{after}" for that record's server id.
export async function enqueue(kind, path, body, label, after = null) {
  const item = {
    kind, path, body, label, after, method: 'POST', key: crypto.randomUUID(), state: 'pending',
    problem: null, created_at: new Date().toISOString(), sent_at: null, result_id: null, attempts: 0,
  }
  item.seq = await outboxPut(item)
  await loadOutbox()
  kick()
  return item
}

// Change a rejected record and send it again (under a new key: the server
// kept nothing of the refused one).
export async function resend(seq, body) {
  const item = (await outboxAll()).find((i) => i.seq === seq)
  Object.assign(item, { body, state: 'pending', problem: null, key: crypto.randomUUID() })
  await outboxPut(item)
  await loadOutbox()
  kick()
}

async function push() {
  const items = await outboxAll()
  for (const item of items) {
    if (item.state !== 'pending') continue
    let path = item.path
    if (item.after != null) {
      const dep = items.find((i) => i.seq === item.after)
      if (!dep || dep.state !== 'sent') continue // waits for (or stays with) its parent
      path = path.replace('{after}', dep.result_id)
    }
    item.attempts++
    try {
      const res = await api(item.method, path, item.body, { 'Idempotency-Key': item.key })
      Object.assign(item, { state: 'sent', sent_at: new Date().toISOString(), result_id: res?.id ?? null })
    } catch (e) {
      if (!(e instanceof ApiError) || e.status >= 500 || e.status === 401 || e.status === 429) {
        await outboxPut(item)
        throw e // offline or the server is struggling: later, in order
      }
      Object.assign(item, { state: 'rejected', problem: e.problem ?? { title: e.message, status: e.status } })
    }
    await outboxPut(item)
    await loadOutbox()
  }
}

async function pull() {
  let cursor = await meta.get('cursor')
  for (;;) {
    const q = cursor ? '?cursor=' + encodeURIComponent(cursor) : ''
    const page = await api('GET', '/changes' + q)
    await applyPage(page.items, page.next_cursor)
    cursor = page.next_cursor
    if (!page.more) break
  }
  state.syncedAt = await meta.get('synced_at')
}

let running = null
let delay = 2000
let timer = null

// Sync now (once at a time); on failure try again later, waiting longer
// each time up to five minutes.
export function kick() {
  if (running) return running
  clearTimeout(timer)
  running = (async () => {
    state.syncing = true
    try {
      if (!lock.unlocked || !(await meta.get('session'))) return
      await push()
      await pull()
      state.error = ''
      delay = 2000
    } catch (e) {
      state.error = e instanceof ApiError ? e.message : '网络不可用，稍后自动重试'
      timer = setTimeout(kick, delay)
      delay = Math.min(delay * 2, 300000)
    } finally {
      state.syncing = false
      running = null
      await loadOutbox()
    }
  })()
  return running
}

export function unsent() {
  return state.outbox.filter((i) => i.state !== 'sent')
}

export function startSync() {
  window.addEventListener('online', () => { state.online = true; delay = 2000; kick() })
  window.addEventListener('offline', () => { state.online = false })
  meta.get('synced_at').then((t) => { state.syncedAt = t })
  loadOutbox()
  setInterval(() => { if (navigator.onLine) kick() }, 60000)
  kick()
}
