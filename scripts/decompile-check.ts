/**
 * A quick equivalence measure of the decompiler (src/decompile) against real interpreters: each
 * source file is compiled by CPython 3.X, decompiled, recompiled by the same interpreter, and the
 * code objects compared recursively (opname + argval, NOP/CACHE/EXTENDED_ARG and line data
 * ignored, jump targets as instruction indexes, nested code objects by name). Prints, per version,
 * the % of code objects equivalent, not recovered, and output that did not compile (must be 0).
 *
 *   node --import tsx scripts/decompile-check.ts --versions 3.12,3.13 [--sample N] [--seed S]
 *        [--verbose] [FILE.py …]      (default files: a sample of that version's stdlib)
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toCodeObject } from '../src/bytecode/index.js'
import { decompileModule } from '../src/decompile/index.js'
import { readPyc } from '../src/pyc/index.js'
import { COMPARE_PY, COMPILE_PY } from '../test/decompile-oracle.js'
import { pythonFor, stdlibDir } from '../test/pyenv.js'

interface Args { versions: number[]; sample: number; seed: number; verbose: boolean; files: string[] }

function parseArgs(argv: string[]): Args {
  const a: Args = { versions: [12, 13, 14], sample: 60, seed: 1, verbose: false, files: [] }
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!
    if (x === '--versions') a.versions = argv[++i]!.split(',').map((v) => Number(v.split('.')[1]))
    else if (x === '--sample') a.sample = Number(argv[++i])
    else if (x === '--seed') a.seed = Number(argv[++i])
    else if (x === '--verbose') a.verbose = true
    else a.files.push(x)
  }
  return a
}

function stdlibSample(minor: number, n: number, seed: number): string[] {
  const dir = stdlibDir(minor)
  if (dir === undefined) return []
  const files: string[] = []
  const walk = (d: string, depth: number) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (name === 'site-packages' || name === 'test' || name === 'tests' || name === 'idlelib' || name.startsWith('lib2to3')) continue
      let s
      try {
        s = statSync(p)
      } catch {
        continue // a dangling link
      }
      if (s.isDirectory() && depth < 2) walk(p, depth + 1)
      else if (name.endsWith('.py') && s.size < 200_000) files.push(p)
    }
  }
  walk(dir, 0)
  // a deterministic pseudo-random sample
  let x = seed
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
  const picked = files.map((f) => [rnd(), f] as const).sort((p, q) => p[0] - q[0]).slice(0, n).map((p) => p[1])
  return picked.sort()
}

function main(): void {
  const args = parseArgs(process.argv.slice(2))
  let failed = false
  for (const minor of args.versions) {
    const python = pythonFor(minor)
    if (python === undefined) {
      console.log(`3.${minor}: no interpreter`)
      continue
    }
    const files = args.files.length > 0 ? args.files : stdlibSample(minor, args.sample, args.seed)
    const work = mkdtempSync(join(tmpdir(), 'pyxray-dec-'))
    try {
      const c = spawnSync(python, ['-I', '-c', COMPILE_PY, work, ...files], { encoding: 'utf8' })
      if (c.status !== 0) throw new Error(c.stderr)
      const pairs: string[] = []
      let crashes = 0
      let notRecovered = 0
      const reasons = new Map<string, number>()
      files.forEach((f, i) => {
        let bytes: Uint8Array
        try {
          bytes = new Uint8Array(readFileSync(join(work, `${i}.pyc`)))
        } catch {
          return
        }
        const pyc = readPyc(bytes)
        const code = toCodeObject(pyc.code, pyc.version[1])
        try {
          const r = decompileModule(code, [3, minor])
          for (const u of r.units) {
            if (u.status === 'not-recovered') {
              notRecovered++
              const key = (u.reason ?? '').replace(/offset \d+/, 'offset N')
              reasons.set(key, (reasons.get(key) ?? 0) + 1)
            }
          }
          writeFileSync(join(work, `${i}.dec.py`), r.source)
          pairs.push(`${f}\t${join(work, `${i}.dec.py`)}`)
        } catch (e) {
          crashes++
          console.log(`CRASH ${f}: ${e instanceof Error ? e.stack : String(e)}`)
        }
      })
      const cmp = spawnSync(python, ['-I', '-c', COMPARE_PY], { input: pairs.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 })
      if (cmp.status !== 0) throw new Error(cmp.stderr)
      let total = 0
      let equal = 0
      let syntax = 0
      for (const line of cmp.stdout.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as { file: string; syntax: string | null; units: [string, number, boolean, string][] }
        if (r.syntax !== null) {
          syntax++
          console.log(`SYNTAX ERROR in the output for ${r.file}: ${r.syntax}`)
        }
        for (const [q, l, eq, why] of r.units) {
          total++
          if (eq) equal++
          else if (args.verbose) console.log(`  differs: ${r.file}:${q}:${l} ${why}`)
        }
      }
      const pct = (n: number) => (total === 0 ? '0.0' : ((100 * n) / total).toFixed(1))
      console.log(`3.${minor}: ${files.length} files, ${total} code objects: ${pct(equal)} % equivalent, ${pct(notRecovered)} % not recovered, ${crashes} crashes, ${syntax} outputs not compiling`)
      const top = [...reasons].sort((p, q) => q[1] - p[1]).slice(0, args.verbose ? 30 : 8)
      for (const [r, n] of top) console.log(`    ${n}\t${r}`)
      if (crashes > 0 || syntax > 0) failed = true
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  process.exit(failed ? 1 : 0)
}

main()
