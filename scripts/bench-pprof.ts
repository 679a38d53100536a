/**
 * Benchmark: a 1,000,000-node profile document → pprof (`toPprof`, gzipped), the bound
 * being under 5 s and 1 GB.
 *
 *   npm run bench:pprof -- [--nodes N] [--shape wide|deep]
 *
 * The document is built in memory, deterministically: `wide` is a call tree of 2,000 functions,
 * 10 levels deep, every node with a call count and self time (the shape of a big real program);
 * `deep` one chain of recursive calls with a sibling at every level (folded below a depth, see
 * src/pprof/export.ts). Prints the CPU time (user + system) and the wall time of the export, the
 * peak RSS of the process, the pprof's size, and checks the bytes decode (pprof-format).
 */
import { Profile } from 'pprof-format'
import { gunzipSync } from 'node:zlib'
import type { ProfileDocument, ProfileFrame, ProfileNode } from '../src/profile/document.js'
import { toPprof } from '../src/pprof/index.js'

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const NODES = Number(arg('nodes', '1000000'))
const SHAPE = arg('shape', 'wide')

function wideDoc(n: number): ProfileDocument {
  const frames: ProfileFrame[] = Array.from({ length: 2000 }, (_, i) => ({ file: `/app/mod${i % 50}.py`, firstlineno: 1 + (i % 400) * 5, qualname: `fn_${i}`, kind: 'python' as const }))
  let made = 0
  let seed = 1
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  // Breadth-first: each node gets children until n nodes exist; depth at most 10.
  const root: ProfileNode & { children: ProfileNode[] } = { frame: null, calls: 0, totalNs: 0, selfNs: 0, children: [] }
  const level: (ProfileNode & { children: ProfileNode[] })[][] = [[root]]
  for (let d = 1; d <= 10 && made < n; d++) {
    const next: (ProfileNode & { children: ProfileNode[] })[] = []
    const per = Math.min(40, Math.ceil((n - made) / level[d - 1]!.length))
    for (const parent of level[d - 1]!) {
      const used = new Set<number>()
      for (let k = 0; k < per && made < n; k++) {
        let f = Math.floor(rand() * frames.length)
        while (used.has(f)) f = (f + 1) % frames.length
        used.add(f)
        const c = { frame: f, calls: 1 + Math.floor(rand() * 50), totalNs: 0, selfNs: 1000 + Math.floor(rand() * 100000), children: [] as ProfileNode[] }
        parent.children.push(c)
        next.push(c as ProfileNode & { children: ProfileNode[] })
        made++
      }
    }
    level.push(next)
  }
  for (let d = level.length - 1; d >= 0; d--) for (const node of level[d]!) (node as { totalNs: number }).totalNs = node.selfNs + node.children.reduce((s, c) => s + c.totalNs, 0)
  return doc(frames, root)
}

function deepDoc(n: number): ProfileDocument {
  const frames: ProfileFrame[] = [{ file: '/app/a.py', firstlineno: 1, qualname: 'walk', kind: 'python' }, { file: '/app/a.py', firstlineno: 9, qualname: 'visit', kind: 'python' }]
  let below: ProfileNode | undefined
  for (let d = n / 2; d >= 1; d--) {
    const visit: ProfileNode = { frame: 1, calls: 1, totalNs: 2000, selfNs: 2000, children: [] }
    const kids = below ? [below, visit] : [visit]
    below = { frame: 0, calls: 1, totalNs: 1000 + kids.reduce((s, c) => s + c.totalNs, 0), selfNs: 1000, children: kids }
  }
  return doc(frames, { frame: null, calls: 0, totalNs: below!.totalNs, selfNs: 0, children: [below!] })
}

function doc(frames: ProfileFrame[], root: ProfileNode): ProfileDocument {
  return {
    pyxray: 'profile',
    version: 3,
    metadata: { python: { implementation: 'CPython', version: '3.12.1' }, argv: ['app.py'], cwd: '/app', startTime: '2026-12-07T00:00:00.000Z', durationNs: root.totalNs, mode: 'trace', clock: 'wall', overheadNsPerEvent: 0, partial: false, exitStatus: 0, warnings: [] },
    frames,
    threads: [{ id: 1, name: 'MainThread', main: true, root }],
  }
}

const d = SHAPE === 'deep' ? deepDoc(NODES) : wideDoc(NODES)
let count = 0
const todo = [d.threads[0]!.root]
while (todo.length) {
  const x = todo.pop()!
  count++
  for (const c of x.children) todo.push(c)
}
const rssBefore = process.memoryUsage().rss
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const bytes = toPprof(d, { producer: 'bench' })
const wall = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const peak = process.resourceUsage().maxRSS / 1024
const p = Profile.decode(gunzipSync(bytes))
console.log(`shape ${SHAPE}: ${count - 1} call nodes, ${d.frames.length} functions`)
console.log(`toPprof: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (user+sys), ${(wall / 1000).toFixed(2)} s wall`)
console.log(`peak RSS after the export ${peak.toFixed(0)} MiB (the document alone: ${(rssBefore / 2 ** 20).toFixed(0)} MiB; decoding to check then took ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`)
console.log(`pprof ${(bytes.length / 2 ** 20).toFixed(1)} MiB gzipped, ${p.sample.length} samples decoded`)
