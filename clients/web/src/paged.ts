// A keyset-paged list as the API gives it: the first page, then "more" appends
// the next one until next_cursor is null.
import { ref, shallowRef } from 'vue'

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export function usePaged<T>(fetch: (cursor?: string) => Promise<Page<T> | null | undefined>) {
  const items = shallowRef<T[]>([])
  const next = ref<string | null>(null)
  const loading = ref(false)
  async function reload() {
    loading.value = true
    const page = await fetch()
    loading.value = false
    items.value = page?.items ?? []
    next.value = page?.next_cursor ?? null
  }
  async function more() {
    const page = next.value ? await fetch(next.value) : null
    if (!page) return
    items.value = [...items.value, ...page.items]
    next.value = page.next_cursor
  }
  return { items, next, loading, reload, more }
}
