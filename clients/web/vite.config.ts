// Build of the township dashboard: one entry, routes and ECharts in lazy chunks.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// `npm run dev` proxies the API of `scripts/dev` (JF_API_URL to change it).
export default defineConfig({
  // Element Plus component by component (with its CSS), into the chunks that use them.
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false })],
  build: {
    target: 'es2022',
    // No inline scripts (the server's CSP forbids them), no module preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/api': process.env.JF_API_URL ?? 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.test.ts'],
  },
})
