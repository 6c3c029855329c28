// Offline first: the outbox goes up first, in the order it was written,
// then the change feed comes down. Network failures and 5xx are retried
// with backoff; any other refusal (400, 403, 404, 409, 422) marks the
// record 被退回 with the server's problem: a person must look, never a
// blind retry. An edit that meets a newer version (412) is merged field by
// field (merge.js): sent again at once when the two sides touched
// different fields, else held (待选择) until the worker chooses.
import { reactive } from 'vue'
import { api, ApiError } from './api.js'
import { applyPage, meta, outboxAll, outboxPut } from './db.js'
import { lock } from './crypto.js'
import { mergeEdit, pick, settle } from './merge.js'

export const state = reactive({ online: navigator.onLine, syncing: false, syncedAt: null, error: '', outbox: [] })

export async function loadOutbox() {
  if (lock.unlocked) state.outbox = await outboxAll()
  return state.outbox
}

// Queue a record: its Idempotency-Key is made now, once, and sent with every
// attempt. opts.after: the outbox seq of a record this one needs (a new
// person before its visit); path may hold "{after}" for that record's
// server id. An edit (opts.method 'PATCH') carries the version it was made
// on (sent as If-Match), base (the fields' values then) and source: where
// the record is read again after a 412 ({path, id}: the item of that id in
// a list, else the document itself).
export async function enqueue(kind, path, body, label, opts = {}) {
  const item = {
    kind, path, body, label, after: null, method: 'POST', version: null, base: null, source: null,
    ...opts, key: crypto.randomUUID(), state: 'pending', problem: null, conflicts: null,
    created_at: new Date().toISOString(), sent_at: null, result_id: null, attempts: 0,
  }
  item.seq = await outboxPut(item)
  await loadOutbox()
  kick()
  return item
}

async function update(item, changes) {
  Object.assign(item, changes)
  await outboxPut(item)
  await loadOutbox()
  kick()
}

// Change a rejected record and send it again (under a new key: the server
// kept nothing of the refused one).
export async function resend(seq, body) {
  const item = (await outboxAll()).find((i) => i.seq === seq)
  await update(item, { body, state: 'pending', problem: null, key: crypto.randomUUID() })
}

// The worker's choice on an edit held after a merge (picks: field →
// 'mine' | 'theirs'): sent under the server's version, or done when the
// server already holds every choice.
export async function choose(seq, picks) {
  const item = (await outboxAll()).find((i) => i.seq === seq)
  const body = settle(item.body, item.conflicts, picks)
  const done = Object.keys(body).length === 0
  await update(item, { body, conflicts: null, state: done ? 'sent' : 'pending', sent_at: done ? new Date().toISOString() : null })
}

// A 412: read the record as it is now and merge the edit into it.
async function remerge(item) {
  const doc = await api('GET', item.source.path)
  const now = item.source.id == null ? doc : doc.items.find((r) => r.id === item.source.id)
  if (!now) return { state: 'rejected', problem: { status: 404, title: '记录已不存在' } }
  const fields = Object.keys(item.base)
  const { body, conflicts } = mergeEdit(item.base, item.body, now)
  const next = { version: now.version, base: pick(now, fields), body }
  if (conflicts.length) return { ...next, state: 'conflict', conflicts }
  if (!Object.keys(body).length) return { ...next, state: 'sent', sent_at: new Date().toISOString() }
  return next // sent again in this pass
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
    // An edit merged after a 412 goes again at once, once per pass.
    for (let tries = 0; item.state === 'pending' && tries < 2; tries++) {
      item.attempts++
      try {
        const headers = item.version != null ? { 'If-Match': `"${item.version}"` } : { 'Idempotency-Key': item.key }
        const res = await api(item.method, path, item.body, headers)
        Object.assign(item, { state: 'sent', sent_at: new Date().toISOString(), result_id: res?.id ?? null })
      } catch (e) {
        if (!(e instanceof ApiError) || e.status >= 500 || e.status === 401 || e.status === 429) {
          await outboxPut(item)
          throw e // offline or the server is struggling: later, in order
        }
        if (e.status === 412 && item.source) Object.assign(item, await remerge(item))
        else Object.assign(item, { state: 'rejected', problem: e.problem ?? { title: e.message, status: e.status } })
      }
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
let queued = null
let delay = 2000
let timer = null

// Sync now (once at a time: a call during a sync runs again after it, so
// a record written meanwhile is not left for the next minute); on failure
// try again later, waiting longer each time up to five minutes. `running`
// is cleared only once the sync has settled: a sync that ends at once
// (locked) must not leave it set for ever.
export function kick() {
  if (running) return (queued ??= running.then(() => { queued = null; return kick() }))
  clearTimeout(timer)
  running = sync().finally(() => { running = null })
  return running
}

// Settled when no sync is running (logout waits for it before the wipe).
export async function idle() {
  while (running) await running
}

async function sync() {
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
    await loadOutbox()
  }
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
