// The township dashboard: Vue, Pinia and the router; Element Plus components
// are imported where used (vite.config.ts), in Chinese through App.vue.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/base.css'
import './style.css'
import App from './App.vue'
import { router } from './router'

createApp(App).use(createPinia()).use(router).mount('#app')
