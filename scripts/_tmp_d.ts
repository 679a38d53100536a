import { readFileSync } from 'node:fs'
import { readMarshal, writeMarshal } from '../src/marshal/index.js'
for (const f of process.argv.slice(2)) {
  const minor = Number(/cpython-3(\d+)/.exec(f)![1])
  const b = readFileSync(f)
  try {
    const r = readMarshal(b, { pythonVersion: [3, minor] }, 16)
    const w = writeMarshal(r.value, { pythonVersion: [3, minor] })
    let i = 0; while (i < w.length && w[i] === b[16 + i]) i++
    console.log(f, 'end', r.endOffset, b.length, 'wlen', w.length + 16, 'diff at', i + 16, Buffer.from(b.subarray(i + 16 - 8, i + 16 + 16)).toString('hex'), Buffer.from(w.subarray(i - 8, i + 16)).toString('hex'))
  } catch (e) { console.log(f, String(e)) }
}
