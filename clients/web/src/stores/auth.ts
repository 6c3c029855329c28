// The signed-in user and what their role may see (menus, clinical panels).
import { defineStore } from 'pinia'
import { api, loadSession, saveSession, problemText, type Schemas } from '../api/client'

export type Role = Schemas['Role']

export interface MenuItem {
  path: string
  title: string
  roles: Role[]
}

const ALL: Role[] = ['admin', 'official', 'doctor', 'police', 'civil_affairs', 'grid_worker']
const DASH: Role[] = ['admin', 'official', 'doctor', 'police', 'civil_affairs']

/** The menu, by role: each page lists who opens it. */
export const MENU: MenuItem[] = [
  { path: '/', title: '首页', roles: DASH },
  { path: '/worklists', title: '工作清单', roles: ['admin', 'official', 'doctor', 'grid_worker'] },
  { path: '/patients', title: '患者', roles: ALL },
  { path: '/notifications', title: '通报', roles: ALL },
  { path: '/reconcile', title: '三网比对', roles: ['admin', 'official', 'doctor', 'police'] },
  { path: '/assistance', title: '救治救助', roles: ['admin', 'official', 'civil_affairs'] },
  { path: '/campaigns', title: '专项行动', roles: ['admin', 'official', 'doctor', 'police', 'civil_affairs'] },
  { path: '/transfers', title: '流转', roles: ['admin', 'official', 'doctor'] },
  { path: '/ledgers', title: '台账', roles: ['admin', 'official', 'doctor', 'police', 'civil_affairs', 'grid_worker'] },
  { path: '/alerts', title: '预警处置', roles: ['admin', 'official', 'doctor', 'police'] },
  { path: '/exchanges', title: '信息交换', roles: ['admin', 'official', 'doctor', 'police', 'civil_affairs'] },
]

/** Whether the role's view of a patient carries the diagnosis and the other clinical fields. */
export function seesDiagnosis(role: Role | undefined): boolean {
  return role === 'official' || role === 'doctor'
}

/** Whether the role reads the clinical records (follow-ups, assessments, medication, admissions). */
export function readsClinical(role: Role | undefined): boolean {
  return role === 'official' || role === 'doctor' || role === 'grid_worker'
}

/** Whether the role reads risk levels, colours and key flags. */
export function seesRisk(role: Role | undefined): boolean {
  return role !== undefined && role !== 'civil_affairs'
}

export function menuFor(role: Role | undefined): MenuItem[] {
  return role ? MENU.filter((m) => m.roles.includes(role)) : []
}

export const useAuth = defineStore('auth', {
  state: () => ({ user: loadSession()?.user ?? null as Schemas['User'] | null }),
  getters: {
    role: (s): Role | undefined => s.user?.role,
    menu: (s) => menuFor(s.user?.role),
    diagnosis: (s) => seesDiagnosis(s.user?.role),
    clinical: (s) => readsClinical(s.user?.role),
    risk: (s) => seesRisk(s.user?.role),
  },
  actions: {
    async login(username: string, password: string): Promise<string | null> {
      const { data, error } = await api.POST('/api/v1/auth/login', { body: { username, password } })
      if (!data) return problemText(error)
      saveSession({ access: data.access_token, refresh: data.refresh_token, user: data.user })
      this.user = data.user
      return null
    },
    async logout() {
      const s = loadSession()
      if (s) await api.POST('/api/v1/auth/logout', { body: { refresh_token: s.refresh } }).catch(() => undefined)
      saveSession(null)
      this.user = null
    },
    expired() {
      this.user = null
    },
  },
})
