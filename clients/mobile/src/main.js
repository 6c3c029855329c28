// The grid-worker app (网格员): Vue 3 + Vant, offline first.
import { createApp } from 'vue'
import {
  Button, Cell, CellGroup, Checkbox, CheckboxGroup, Empty, Field, Form, NavBar, NoticeBar,
  Radio, RadioGroup, Stepper, Switch, Tabbar, TabbarItem, Tag,
} from 'vant'
import 'vant/lib/index.css'
import './app.css'
import App from './App.vue'

const app = createApp(App)
for (const c of [Button, Cell, CellGroup, Checkbox, CheckboxGroup, Empty, Field, Form, NavBar,
  NoticeBar, Radio, RadioGroup, Stepper, Switch, Tabbar, TabbarItem, Tag]) app.use(c)
app.mount('#app')
// Ask the browser not to evict the outbox when storage runs short.
navigator.storage?.persist?.()
