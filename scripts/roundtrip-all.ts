/**
 * Marshal round trip over whole stdlibs: every .pyc of every supported CPython on the machine
 * (test/pyenv.ts; all optimization levels) is read from byte 16 and written back; the bytes must
 * be identical. Pyodide's 3.14 is an extra: its stdlib sources are compiled there (optimize 0, 1,
 * 2) and marshal.dumps'ed, as py_compile would. test/marshal.test.ts runs the native part too.
 *
 *   node --import tsx scripts/roundtrip-all.ts [--site-packages] [--no-pyodide]
 *
 * Prints files, identical files and their share per version; exits 1 if any file differs.
 */
import { readFileSync } from 'node:fs'
import { findPycs, NATIVE_MINORS, roundTripProblem, stdlibDir } from '../test/pyenv.js'

interface Row {
  readonly label: string
  readonly files: number
  readonly identical: number
  readonly megabytes: number
  readonly seconds: number
  readonly problems: readonly string[]
}

function check(label: string, minor: number, inputs: Iterable<[name: string, bytes: Uint8Array]>, headerLength: number): Row {
  const t0 = performance.now()
  let files = 0
  let bytes = 0
  const problems: string[] = []
  for (const [name, data] of inputs) {
    files++
    bytes += data.length
    const problem = roundTripProblem(data, minor, headerLength)
    if (problem !== undefined) problems.push(`${name}: ${problem}`)
  }
  const seconds = (performance.now() - t0) / 1000
  return { label, files, identical: files - problems.length, megabytes: bytes / 1e6, seconds, problems }
}

function* readAll(files: string[]): Generator<[string, Uint8Array]> {
  for (const f of files) yield [f, readFileSync(f)]
}

/** Compiles Pyodide's stdlib at every optimization level and returns the marshal data. */
async function pyodideStdlib(): Promise<{ version: string; items: [string, Uint8Array][] }> {
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide()
  const packed = py.runPython(`
import marshal, sys, zipfile
out = bytearray()
names = []
zf = zipfile.ZipFile(next(p for p in sys.path if p.endswith('.zip')))
for name in sorted(zf.namelist()):
    if not name.endswith('.py'):
        continue
    source = zf.read(name)
    for optimize in (0, 1, 2):
        try:
            code = compile(source, name, 'exec', dont_inherit=True, optimize=optimize)
        except SyntaxError:
            continue
        data = marshal.dumps(code)
        names.append(f'{name} (optimize={optimize})')
        out += len(data).to_bytes(4, 'little') + data
'\\n'.join([sys.version.split()[0]] + names), bytes(out)
`) as { toJs(): [string, Uint8Array] }
  const [text, blob] = packed.toJs()
  const [version, ...names] = text.split('\n')
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const items: [string, Uint8Array][] = []
  for (let at = 0, i = 0; at < blob.length; i++) {
    const n = view.getUint32(at, true)
    items.push([names[i]!, blob.subarray(at + 4, at + 4 + n)])
    at += 4 + n
  }
  return { version: version!, items }
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--site-packages' && a !== '--no-pyodide')
  if (unknown.length) {
    console.error(`usage: roundtrip-all.ts [--site-packages] [--no-pyodide]  (unknown: ${unknown.join(' ')})`)
    return 2
  }
  const rows: Row[] = []
  for (const minor of NATIVE_MINORS) {
    const dir = stdlibDir(minor)
    if (dir === undefined) {
      console.log(`3.${minor}: not installed, skipped`)
      continue
    }
    rows.push(check(`3.${minor}`, minor, readAll(findPycs(dir, argv.includes('--site-packages'))), 16))
  }
  if (!argv.includes('--no-pyodide')) {
    const { version, items } = await pyodideStdlib()
    rows.push(check(`${version} (Pyodide)`, 14, items, 0))
  }
  console.log('version          files   identical        %      MB       s')
  for (const r of rows) {
    const pct = r.files ? ((100 * r.identical) / r.files).toFixed(2) : '-'
    console.log(
      `${r.label.padEnd(15)} ${String(r.files).padStart(6)}  ${String(r.identical).padStart(10)}  ${pct.padStart(7)}  ${r.megabytes.toFixed(1).padStart(6)}  ${r.seconds.toFixed(1).padStart(6)}`,
    )
    for (const p of r.problems.slice(0, 5)) console.log(`  ${p}`)
  }
  return rows.every((r) => r.problems.length === 0) ? 0 : 1
}

process.exitCode = await main(process.argv.slice(2))
