// The outbox and the change feed against a scripted server (fetch stubbed,
// IndexedDB in memory): one key per record across retries, a refusal kept
// for a person to look at, an edit merged after a 412, the feed's pages
// and tombstones applied, 今日's box kept beside the cards.
import 'fake-indexeddb/auto'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { lockNow, setPin, unlock } from '../../src/crypto.js'
import { all, meta, outboxAll, todayRows } from '../../src/db.js'
import { choose, enqueue, idle, kick, state } from '../../src/sync.js'

const json = (status, body, headers = {}) =>
  new Response(body == null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
let routes // 'METHOD /path' → (init, url) => Response
let calls
const emptyFeed = () => json(200, { items: [], next_cursor: 'c', more: false })

beforeAll(async () => {
  await meta.set('session', { access_token: 'a', refresh_token: 'r', user: { id: 1 } })
  await setPin('246810')
})
beforeEach(() => {
  calls = []
  routes = { 'GET /api/v1/changes': emptyFeed }
  vi.stubGlobal('fetch', async (url, init = {}) => {
    const u = new URL(url, 'http://phone')
    const k = `${init.method ?? 'GET'} ${u.pathname}`
    calls.push({ k, headers: init.headers ?? {}, body: init.body ? JSON.parse(init.body) : null, url: u })
    if (!routes[k]) throw new Error('no route ' + k)
    return routes[k](init, u)
  })
})
const sent = (k) => calls.filter((c) => c.k === k)
const item = async (seq) => (await outboxAll()).find((i) => i.seq === seq)

describe('the outbox', () => {
  it('sends a record with the key made when it was written, the same on every retry', async () => {
    let n = 0
    routes['POST /api/v1/suspected-reports'] = () => {
      if (n++ === 0) throw new TypeError('network down')
      return json(201, { id: 77 })
    }
    const it1 = await enqueue('suspected', '/suspected-reports', { name: '甲' }, '疑似 甲')
    await kick() // the first attempt meets a dead network, the next goes through
    const posts = sent('POST /api/v1/suspected-reports')
    expect(posts).toHaveLength(2)
    expect(posts[0].headers['Idempotency-Key']).toBe(it1.key)
    expect(posts[1].headers['Idempotency-Key']).toBe(it1.key)
    expect(await item(it1.seq)).toMatchObject({ state: 'sent', result_id: 77 })
  })

  it('keeps a 422 with the server problem and does not send it again', async () => {
    const problem = { status: 422, title: 'Validation failed', errors: [{ field: 'checked_on', message: 'is in the future' }] }
    routes['POST /api/v1/patients/5/home-checks'] = () => json(422, problem)
    const it1 = await enqueue('home_check', '/patients/5/home-checks', { checked_on: '2099-01-01' }, '走访')
    await kick()
    await kick()
    expect(sent('POST /api/v1/patients/5/home-checks')).toHaveLength(1)
    expect(await item(it1.seq)).toMatchObject({ state: 'rejected', problem })
    expect(state.outbox.find((i) => i.seq === it1.seq).state).toBe('rejected')
  })

  it('sends a child after its parent, with the parent server id', async () => {
    routes['POST /api/v1/patients'] = () => json(201, { id: 900 })
    routes['POST /api/v1/patients/900/home-checks'] = () => json(201, { id: 1 })
    const parent = await enqueue('suspected', '/patients', { name: '乙' }, '乙')
    const child = await enqueue('home_check', '/patients/{after}/home-checks', { seen: true }, '走访', { after: parent.seq })
    await kick()
    expect(calls.map((c) => c.k).filter((k) => k.startsWith('POST'))).toEqual(['POST /api/v1/patients', 'POST /api/v1/patients/900/home-checks'])
    expect((await item(child.seq)).state).toBe('sent')
  })
})

describe('an edit that meets a newer version (412)', () => {
  const path = '/patients/5/guardians/8'
  const opts = (version) => ({
    method: 'PATCH', version, base: { phone: '139-1', address: '1栋' },
    source: { path: '/patients/5/guardians', id: 8 },
  })
  const server = (g) => {
    routes['GET /api/v1/patients/5/guardians'] = () => json(200, { items: [{ id: 7, version: 1 }, { id: 8, ...g }] })
    routes['PATCH /api/v1/patients/5/guardians/8'] = (init) =>
      init.headers['If-Match'] === `"${g.version}"` ? json(200, { id: 8 }) : json(412, { status: 412, title: 'Precondition failed' })
  }

  it('goes again at once with the new version when the server changed other fields', async () => {
    server({ version: 3, phone: '139-1', address: '3栋', name: '王母' })
    const e = await enqueue('guardian', path, { phone: '139-2' }, '监护人', opts(2))
    await kick()
    const patches = sent('PATCH /api/v1/patients/5/guardians/8')
    expect(patches.map((c) => c.headers['If-Match'])).toEqual(['"2"', '"3"'])
    expect(patches[1].body).toEqual({ phone: '139-2' })
    expect(patches[0].headers['Idempotency-Key']).toBeUndefined()
    expect((await item(e.seq)).state).toBe('sent')
  })

  it('holds a field both sides changed for the worker, keeps the rest, and sends the choice', async () => {
    server({ version: 4, phone: '139-3', address: '1栋' })
    const e = await enqueue('guardian', path, { phone: '139-2', address: '2栋' }, '监护人', opts(2))
    await kick()
    expect(await item(e.seq)).toMatchObject({
      state: 'conflict', version: 4, body: { address: '2栋' },
      conflicts: [{ field: 'phone', mine: '139-2', theirs: '139-3' }],
    })
    expect(sent('PATCH /api/v1/patients/5/guardians/8')).toHaveLength(1) // nothing sent blindly
    await choose(e.seq, { phone: 'mine' })
    await kick()
    const last = sent('PATCH /api/v1/patients/5/guardians/8').at(-1)
    expect(last.headers['If-Match']).toBe('"4"')
    expect(last.body).toEqual({ address: '2栋', phone: '139-2' })
    expect((await item(e.seq)).state).toBe('sent')
  })

  it('is done without sending when the server already holds every choice', async () => {
    server({ version: 5, phone: '139-3', address: '1栋' })
    const e = await enqueue('guardian', path, { phone: '139-2' }, '监护人', opts(2))
    await kick()
    await choose(e.seq, { phone: 'theirs' })
    await kick()
    expect(sent('PATCH /api/v1/patients/5/guardians/8')).toHaveLength(1)
    expect((await item(e.seq)).state).toBe('sent')
  })
})

describe('kick', () => {
  it('a sync asked for while locked does nothing, and the next one after unlocking runs', async () => {
    lockNow()
    await kick()
    expect(calls).toHaveLength(0)
    expect(await unlock('246810')).toBe(true)
    await kick()
    expect(sent('GET /api/v1/changes')).toHaveLength(1)
  })

  it('idle() waits for the sync under way and the one asked for during it', async () => {
    let release
    routes['GET /api/v1/changes'] = () => new Promise((ok) => { release = () => ok(emptyFeed()) })
    kick()
    kick() // asked for during the first: runs after it
    let settled = false
    const done = idle().then(() => { settled = true })
    await new Promise((ok) => setTimeout(ok, 50))
    expect(settled).toBe(false)
    release()
    await new Promise((ok) => setTimeout(ok, 50))
    release()
    await done
    expect(sent('GET /api/v1/changes')).toHaveLength(2)
  })
})

describe('the change feed', () => {
  it('applies pages until the last, from the cursor it kept, and deletes tombstones', async () => {
    const pages = [
      { items: [{ kind: 'patient', id: 1, deleted: false, data: { id: 1, name: '甲' } },
        { kind: 'patient', id: 2, deleted: false, data: { id: 2, name: '乙' } }], next_cursor: 'p1', more: true },
      { items: [{ kind: 'care_team', id: 9, deleted: false, data: { id: 9, patient_id: 2, name: '医生' } }], next_cursor: 'p2', more: false },
      { items: [{ kind: 'patient', id: 2, deleted: true, data: null }], next_cursor: 'p3', more: false },
    ]
    await meta.set('cursor', undefined)
    routes['GET /api/v1/changes'] = (init, u) => {
      const i = { null: 0, p1: 1, p2: 2 }[u.searchParams.get('cursor')]
      return json(200, pages[i])
    }
    await kick()
    expect((await all('patients')).map((p) => p.name).sort()).toEqual(['乙', '甲'])
    expect(await all('care_team')).toHaveLength(1)
    expect(await meta.get('cursor')).toBe('p2')
    // 今日's box holds the same patients, their list fields only.
    expect((await todayRows()).sort((a, b) => a.id - b.id)).toEqual([
      { id: 1, name: '甲', status: null, colour: null, next_due: null, pickup_due: null, address: null, phone: null },
      { id: 2, name: '乙', status: null, colour: null, next_due: null, pickup_due: null, address: null, phone: null },
    ])
    await kick()
    expect((await all('patients')).map((p) => p.name)).toEqual(['甲'])
    expect(await all('care_team')).toHaveLength(0) // left with its patient
    expect((await todayRows()).map((p) => p.id)).toEqual([1])
    expect(await meta.get('cursor')).toBe('p3')
    expect(state.syncedAt).not.toBeNull()
  })
})
