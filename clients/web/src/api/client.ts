// The typed API client (openapi-fetch over the generated schema): adds the
// bearer token and refreshes the pair shortly before it expires (one refresh
// in flight at a time: the API treats a reused refresh token as theft).
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']
export type Problem = Schemas['Problem']

export interface Session {
  access: string
  refresh: string
  user: Schemas['User']
}

const KEY = 'jf.session'
let session: Session | null = null
let refreshing: Promise<boolean> | null = null
let onExpired: () => void = () => {}

export function loadSession(): Session | null {
  if (session) return session
  const raw = sessionStorage.getItem(KEY)
  session = raw ? (JSON.parse(raw) as Session) : null
  return session
}

export function saveSession(s: Session | null) {
  session = s
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s))
  else sessionStorage.removeItem(KEY)
}

export function setOnExpired(fn: () => void) {
  onExpired = fn
}

async function refresh(): Promise<boolean> {
  const s = loadSession()
  if (!s) return false
  const r = await fetch('/api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: s.refresh }),
  })
  if (!r.ok) return false
  const t = (await r.json()) as Schemas['TokenPair']
  saveSession({ ...s, access: t.access_token, refresh: t.refresh_token })
  return true
}

/** The bearer token of the session, for downloads that bypass the client. */
export function accessToken(): string {
  return loadSession()?.access ?? ''
}

/** Seconds until a JWT's exp (payload read without trust: the server checks). */
export function secondsLeft(jwt: string, now = Date.now()): number {
  try {
    const b64 = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const exp = (JSON.parse(atob(b64)) as { exp?: number }).exp ?? 0
    return exp - now / 1000
  } catch {
    return 0
  }
}

/** Refresh shortly before the access token expires, once for all requests in flight. */
async function fresh(): Promise<string> {
  const s = loadSession()
  if (s && secondsLeft(s.access) < 60) {
    refreshing ??= refresh().finally(() => (refreshing = null))
    await refreshing
  }
  return accessToken()
}

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await fresh()
    if (token) request.headers.set('Authorization', `Bearer ${token}`)
    return request
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.includes('/auth/') && loadSession()) {
      saveSession(null)
      onExpired()
    }
    return response
  },
}

export const api = createClient<paths>({ baseUrl: '' })
api.use(auth)

/** A problem+json as one line of Chinese-friendly text: detail and the fields named. */
export function problemText(p: unknown): string {
  const pr = p as Partial<Problem> | undefined
  if (!pr || typeof pr !== 'object') return '请求失败'
  const fields = (pr.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('；')
  return [pr.detail ?? pr.title ?? '请求失败', fields].filter(Boolean).join(' — ')
}

/** Fetch a file with the bearer token and hand it to the browser as a download. */
export async function download(url: string, filename: string): Promise<void> {
  const r = await fetch(url, { headers: { Authorization: `Bearer ${await fresh()}` } })
  if (!r.ok) throw new Error(problemText(await r.json().catch(() => undefined)))
  const href = URL.createObjectURL(await r.blob())
  const a = document.createElement('a')
  a.href = href
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 1000)
}
