// The caller's notification counts, shown in the header and refreshed after an acknowledgement.
import { defineStore } from 'pinia'
import { api, type Schemas } from '../api/client'

export const useInbox = defineStore('inbox', {
  state: () => ({ summary: null as Schemas['NotificationSummary'] | null }),
  actions: {
    async load() {
      const { data } = await api.GET('/api/v1/notifications/summary')
      if (data) this.summary = data
    },
  },
})
