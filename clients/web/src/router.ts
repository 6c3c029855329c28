// Routes: every page a lazy chunk; a page opens only for the roles of its menu entry.
import { createRouter, createWebHistory } from 'vue-router'
import { loadSession } from './api/client'
import { MENU } from './stores/auth'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('./layouts/ShellLayout.vue'),
      children: [
        { path: '', component: () => import('./views/HomeView.vue') },
        { path: 'worklists', component: () => import('./views/WorklistsView.vue') },
        { path: 'patients', component: () => import('./views/PatientsView.vue') },
        { path: 'patients/:id', component: () => import('./views/PatientView.vue'), meta: { menu: '/patients' } },
        { path: 'notifications', component: () => import('./views/NotificationsView.vue') },
        { path: 'reconcile', component: () => import('./views/ReconcileView.vue') },
        { path: 'assistance', component: () => import('./views/AssistanceView.vue') },
        { path: 'campaigns', component: () => import('./views/CampaignsView.vue') },
        { path: 'transfers', component: () => import('./views/TransfersView.vue') },
        { path: 'alerts', component: () => import('./views/AlertsView.vue') },
        { path: 'exchanges', component: () => import('./views/ExchangesView.vue') },
        { path: 'ledgers', component: () => import('./views/LedgersView.vue') },
        { path: ':rest(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { any: true } },
      ],
    },
  ],
})

router.beforeEach((to) => {
  const s = loadSession()
  if (to.meta.public) return true
  if (!s) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (to.meta.any) return true
  const menuPath = ((to.meta.menu as string | undefined) ?? to.path.replace(/\/$/, '')) || '/'
  const item = MENU.find((m) => m.path === menuPath)
  if (item && !item.roles.includes(s.user.role)) {
    const first = MENU.find((m) => m.roles.includes(s.user.role))
    return first && first.path !== to.path ? first.path : false
  }
  return true
})
