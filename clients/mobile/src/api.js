// Calls to jingfang-api with the session's token; one refresh at a time
// (a reused refresh token is treated as theft, so tabs must not race).
import { meta } from './db.js'

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`)
    this.status = status
    this.problem = problem
  }
}

async function refresh(session) {
  const run = async () => {
    const now = await meta.get('session')
    if (!now) return null // logged out meanwhile: never bring the session back
    if (now.access_token !== session.access_token) return now // another tab did it
    const r = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    })
    if (!r.ok) return null
    const t = await r.json()
    const next = { ...session, access_token: t.access_token, refresh_token: t.refresh_token }
    await meta.set('session', next)
    return next
  }
  return navigator.locks ? navigator.locks.request('jf-refresh', run) : run()
}

// method path [body] [headers] → parsed JSON; ApiError for an HTTP error,
// TypeError (from fetch) when the network is down.
export async function api(method, path, body, headers = {}) {
  let session = await meta.get('session')
  for (let attempt = 0; ; attempt++) {
    const r = await fetch('/api/v1' + path, {
      method,
      headers: {
        ...(body ? { 'Content-Type': 'application/json' } : {}),
        ...(session ? { Authorization: 'Bearer ' + session.access_token } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    if (r.status === 401 && session?.refresh_token && attempt === 0) {
      session = await refresh(session)
      if (session) continue
    }
    const json = r.status === 204 ? null : await r.json().catch(() => null)
    if (!r.ok) throw new ApiError(r.status, json)
    return json
  }
}

export async function login(username, password) {
  const r = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  const json = await r.json().catch(() => null)
  if (!r.ok) throw new ApiError(r.status, json)
  return json
}
