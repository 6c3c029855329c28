// Generates src/api/schema.d.ts from openapi/openapi.yaml; with --check,
// fails when the committed file is out of date with the contract.
import { execFileSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const spec = join(root, '../../openapi/openapi.yaml')
const target = join(root, 'src/api/schema.d.ts')
const check = process.argv.includes('--check')
const tmp = mkdtempSync(join(tmpdir(), 'jf-schema-'))
const out = check ? join(tmp, 'schema.d.ts') : target

try {
  execFileSync(join(root, 'node_modules/.bin/openapi-typescript'),
    [spec, '-o', out, '--default-non-nullable', 'false'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (check && readFileSync(out, 'utf8') !== readFileSync(target, 'utf8')) {
    console.error('src/api/schema.d.ts is out of date with openapi/openapi.yaml: run `npm run gen:api`')
    process.exitCode = 1
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
