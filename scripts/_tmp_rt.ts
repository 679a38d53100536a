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
for (const v of ['3.8.18','3.9.18','3.10.13','3.11.7','3.12.1','3.13.0']) {
  const minor = Number(v.split('.')[1])
  const t0 = performance.now()
  let n = 0, ok = 0, bytes = 0
  const bad: string[] = []
  for (const f of walk(`${process.env.HOME}/.pyenv/versions/${v}/lib/python3.${minor}`)) {
    const b = readFileSync(f); n++; bytes += b.length
    try {
      const r = readMarshal(b, { pythonVersion: [3, minor] }, 16)
      const w = writeMarshal(r.value, { pythonVersion: [3, minor] })
      if (r.endOffset === b.length && Buffer.compare(Buffer.from(w), b.subarray(16)) === 0) ok++
      else bad.push(f)
    } catch (e) { bad.push(`${f}: ${e}`) }
  }
  console.log(v, n, ok, (bytes/1e6).toFixed(1)+'MB', ((performance.now()-t0)/1000).toFixed(2)+'s', bad)
}
