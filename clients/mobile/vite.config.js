// The grid-worker app: built under /m/, where jingfang-api serves it from
// memory (JF_MOBILE_DIR); the service worker precaches the shell so the
// app opens with no network.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { VitePWA } from 'vite-plugin-pwa'

// Vant's CSS names an icon-font fallback on an outside CDN; townships run on
// intranets and the font is embedded anyway.
const noCdn = {
  name: 'jf-no-cdn',
  enforce: 'pre',
  transform(code, id) {
    if (id.includes('vant') && id.endsWith('.css')) return code.replace(/,?\s*url\("?\/\/at\.alicdn\.com[^)]*\)[^,;}]*/g, '')
  },
}

export default defineConfig({
  base: '/m/',
  plugins: [
    vue(),
    noCdn,
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      manifest: {
        name: '精防 · 网格员',
        short_name: '精防',
        lang: 'zh-CN',
        start_url: '/m/',
        scope: '/m/',
        display: 'standalone',
        background_color: '#f7f8fa',
        theme_color: '#1989fa',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        navigateFallback: '/m/index.html',
        navigateFallbackAllowlist: [/^\/m\//],
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  build: { target: 'es2020', chunkSizeWarningLimit: 400 },
  test: { environment: 'happy-dom', include: ['tests/unit/**/*.test.js'] },
})
