// After `vite build`: a gzip twin of each compressible file and dist/files.txt,
// the list of files jingfang-api loads into memory (JF_WEB_DIR); nothing
// outside that list is ever served.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, relative, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// The grid-worker app's build passes its own dist (JF_MOBILE_DIR).
const dist = process.argv[2] ? resolve(process.argv[2]) : join(dirname(fileURLToPath(import.meta.url)), '../dist')
const walk = (d) => readdirSync(d).flatMap((n) => {
  const p = join(d, n)
  return statSync(p).isDirectory() ? walk(p) : [p]
})
const names = []
for (const p of walk(dist).sort()) {
  const name = relative(dist, p)
  if (name === 'files.txt' || name.endsWith('.gz')) continue
  names.push(name)
  const data = readFileSync(p)
  if (/\.(html|js|css|svg|json)$/.test(name) && data.length > 1024) {
    const gz = gzipSync(data, { level: 9 })
    if (gz.length < data.length) {
      writeFileSync(p + '.gz', gz)
      names.push(name + '.gz')
    }
  }
}
writeFileSync(join(dist, 'files.txt'), names.join('\n') + '\n')
console.log(`dist/files.txt: ${names.length} files`)
