// A shared phone is not a leak: the local copy is sealed with AES-GCM under
// a key derived from the worker's PIN (PBKDF2-SHA-256). The key lives only
// in memory: a reload, five idle minutes or a lock forgets it, and the PIN
// brings it back. The salt and a sealed check value sit in IndexedDB.
import { reactive } from 'vue'
import { meta } from './db.js'

const ITERATIONS = 310000
const CHECK = 'jingfang'
const IDLE_MS = 5 * 60 * 1000
export const lock = reactive({ unlocked: false, hasPin: null })
let key = null
let idle = null

const enc = new TextEncoder()
const dec = new TextDecoder()

async function derive(pin, salt) {
  const base = await crypto.subtle.importKey('raw', enc.encode(pin), 'PBKDF2', false, ['deriveKey'])
  return crypto.subtle.deriveKey({ name: 'PBKDF2', salt, iterations: ITERATIONS, hash: 'SHA-256' },
    base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

async function sealWith(k, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, enc.encode(JSON.stringify(value)))
  return { iv, ct: new Uint8Array(ct) }
}

async function openWith(k, box) {
  const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv }, k, box.ct)
  return JSON.parse(dec.decode(pt))
}

export async function seal(value) {
  if (!key) throw new Error('locked')
  return sealWith(key, value)
}

export async function unseal(box) {
  if (!key) throw new Error('locked')
  return openWith(key, box)
}

export async function loadLock() {
  lock.hasPin = !!(await meta.get('pin'))
}

// First use after login: a new salt, and the check value sealed under it.
export async function setPin(pin) {
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const k = await derive(pin, salt)
  await meta.set('pin', { salt, check: await sealWith(k, CHECK) })
  key = k
  lock.hasPin = true
  unlocked()
}

// true when the PIN opens the check value.
export async function unlock(pin) {
  const p = await meta.get('pin')
  const k = await derive(pin, p.salt)
  try {
    if ((await openWith(k, p.check)) !== CHECK) return false
  } catch {
    return false
  }
  key = k
  unlocked()
  return true
}

export function lockNow() {
  key = null
  lock.unlocked = false
  clearTimeout(idle)
}

function unlocked() {
  lock.unlocked = true
  touch()
}

function touch() {
  if (!lock.unlocked) return
  clearTimeout(idle)
  idle = setTimeout(lockNow, IDLE_MS)
}

for (const ev of ['pointerdown', 'keydown', 'touchstart']) window.addEventListener(ev, touch, { passive: true })
