import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { readMarshal, writeMarshal } from '../src/marshal/index.js'
function* walk(d: string): Generator<string> {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name)
    if (e.isDirectory()) { if (e.name !== 'site-packages') yield* walk(p) }
    else if (e.name.endsWith('.pyc')) yield p
  }
}
let t = performance.now()
const files = [...walk(`${process.env.HOME}/.pyenv/versions/3.12.1/lib/python3.12`)].map((f) => readFileSync(f))
console.log('read', performance.now() - t); t = performance.now()
const vals = files.map((b) => readMarshal(b, { pythonVersion: [3, 12] }, 16).value)
console.log('parse', performance.now() - t); t = performance.now()
for (const v of vals) writeMarshal(v, { pythonVersion: [3, 12] })
console.log('write', performance.now() - t)
