/**
 * `npm run bench:runtime`: how fast source gets from a runtime to pyxray's disassembly.
 *  - cold: `pyxray dis small.py` (a fresh process: Node start, runtime start, compile, dis) against
 *    `python3 -m dis small.py`;
 *  - warm: compile + disassemble a 300-line file in a running runtime, native and Pyodide.
 * Prints a markdown table for BENCHMARKS.md. Needs `npm run build` first (it times dist/).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatDis, toCodeObject } from '../src/bytecode/index.js'
import { readMarshal } from '../src/marshal/index.js'
import { agentDir, NativeRuntime, PyodideRuntime, type PythonRuntime } from '../src/runtime/index.js'
import { probe, pythonOnPath } from '../src/runtime/native/discover.js'

const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin', 'pyxray.js')
if (!existsSync(join(root, 'dist', 'bundle', 'pyxray.js'))) {
  console.error('bench:runtime: run `npm run build` first')
  process.exit(2)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** A 300-line module: 30 functions of 10 lines with loops, branches, calls and a closure. */
function mediumSource(): string {
  const out: string[] = []
  for (let i = 0; i < 30; i++) {
    out.push(
      `def f${i}(items, limit=${i}):`,
      '    total = 0',
      '    for k, v in enumerate(items):',
      '        if v > limit and k % 2:',
      '            total += v * k',
      '        elif v:',
      '            total -= len(str(v))',
      '    def inner(x):',
      '        return x + total',
      `    return [inner(n) for n in range(${i})]`,
    )
  }
  return `${out.join('\n')}\n`
}

const dir = mkdtempSync(join(tmpdir(), 'pyxray-bench-'))
const small = join(dir, 'small.py')
writeFileSync(small, 'def greet(name):\n    return f"Hello, {name}!"\n\nprint(greet("world"))\n')
const medium = mediumSource()

function timeCommand(cmd: string, args: string[], runs: number): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const r = spawnSync(cmd, args, { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
    times.push(performance.now() - t0)
  }
  return median(times)
}

async function warm(runtime: PythonRuntime, runs: number): Promise<number> {
  const info = await runtime.info()
  const once = async () => {
    const bytes = await runtime.compile(medium, { filename: 'medium.py' })
    const code = readMarshal(bytes, { pythonVersion: [3, info.minor] }).value
    if (code.type !== 'code') throw new Error('not code')
    return formatDis(toCodeObject(code, info.minor)).length
  }
  for (let i = 0; i < 3; i++) await once()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await once()
    times.push(performance.now() - t0)
  }
  return median(times)
}

const rows: string[] = []
const onPath = pythonOnPath()
const python = onPath ? probe(onPath, 'path') : undefined
if (python) {
  const ours = timeCommand(process.execPath, [bin, 'dis', small, '--format', 'dis'], 10)
  const theirs = timeCommand(python.path, ['-m', 'dis', small], 10)
  rows.push(`| cold \`pyxray dis small.py\` (native ${python.version}) | ${ours.toFixed(0)} ms | \`python3 -m dis small.py\` ${theirs.toFixed(0)} ms | ${(ours / theirs).toFixed(1)}× |`)
  const native = new NativeRuntime(python.path, agentDir())
  const w = await warm(native, 30)
  await native.close()
  rows.push(`| warm compile + dis, 300 lines, native ${python.version} | ${w.toFixed(1)} ms | goal ≤ 30 ms | |`)
}
const coldPyodide = timeCommand(process.execPath, [bin, 'dis', small, '--format', 'dis', '--runtime', 'pyodide'], 3)
rows.push(`| cold \`pyxray dis small.py --runtime pyodide\` | ${coldPyodide.toFixed(0)} ms | (loads CPython 3.14 WebAssembly) | |`)
const pyodide = new PyodideRuntime(agentDir())
const wp = await warm(pyodide, 30)
await pyodide.close()
rows.push(`| warm compile + dis, 300 lines, Pyodide 3.14 | ${wp.toFixed(1)} ms | goal ≤ 150 ms | |`)

console.log('| measurement | pyxray | anchor | ratio |')
console.log('|---|---|---|---|')
for (const r of rows) console.log(r)
