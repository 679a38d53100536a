/**
 * `pyxray import FILE… -o DOC.json`: profiles written by other tools (CPython 3.15's Tachyon,
 * py-spy, austin, perf) as a pyxray profile document, for report, diff, export and serve. The
 * readers are in the core (src/profile/import/); this reads the files and writes the document.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { agentDir, findInterpreters } from '../runtime/index.js'
import { importProfile, ImportError, type InstructionRequest } from '../profile/import/index.js'
import { importPprof, looksPprof } from '../pprof/index.js'
import type { ProfileDocument, ProfileInstruction } from '../profile/document.js'
import { mergeRuns } from '../profile/runs.js'
import { escapeMessage } from '../text/escape.js'
import { defineCommand, HELP_OPTION, numberOption, OUTPUT_OPTIONS, outputValue, parseOptions } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputPath } from './io.js'
import type { Console } from './io.js'
import { writeProfileFile } from './profile-file.js'

/** `pyxray import --help`. */
export const IMPORT_HELP = `Usage: pyxray import FILE… -o DOC.json [options]

Reads profiles other tools wrote and writes them as one pyxray profile document, which
pyxray report, diff (and its --fail-on gate), export and serve then read. The format is told by the
file's content, not its name:

  Tachyon (python -m profiling.sampling, CPython 3.15+)
    --binary       every sample of every thread (zstd-compressed files, the default, are
                   decompressed by a Python 3.14+ found on PATH, pyenv or PYXRAY_PYTHON_PATHS);
                   each sample's line, and with --opcodes its instruction (the sources are
                   compiled by a Python of the profile's version: pyxray report --instructions)
    --collapsed    call paths per thread; files by base name only
    --pstats       per-line counts and caller edges: the call tree is rebuilt from the edges
    --jsonl        per-line counts only: every function at the top level with its own samples
    --gecko        the Firefox Profiler's format: call paths per thread; files by base name
  collapsed stacks ('frame;frame;… COUNT' lines) from py-spy record --format raw, austin, and
    stackcollapse-perf.pl over perf script (perf's py:: frames, C symbols as native frames)
  pprof (profile.proto, gzipped or not) from Go's runtime/pprof, go tool pprof -proto,
    Pyroscope's and Parca's downloads, Node's pprof, and pyxray export --to pprof: one node per
    distinct stack; --sample-type NAME picks the value (default: the file's default, else its
    first); pyxray's own trace exports come back in trace mode with their calls

The document is a sample-mode profile, as pyxray profile --mode sample writes: calls are 0,
samples count the samples with a call path on the stack, times are samples × the sampling
interval (read from Tachyon's binary and jsonl files; otherwise --interval-us, else 1 ms with a
warning in the document). metadata.source names the format and the tool. Functions are
(file, name): these files name the sampled line, not a function's first line (firstlineno 0).
Several files make one repeated document (their runs, as pyxray profile --repeat writes), so
pyxray diff tests the change across them.

Options:
  -o, --output FILE         the document to write (atomically; never one of the inputs)
      --interval-us N       the sampling interval in µs for files that do not record it
                            (Tachyon's default rate is 1 kHz: 1000; py-spy's 100 Hz: 10000)
      --sample-type NAME    pprof: the sample type to read (cpu, samples, alloc_space, …)
  -h, --help                show this help (also: pyxray help import)

Exit codes: 0 written, 2 usage error or a file pyxray cannot import (one line naming the file).

Examples:
  python3.15 -m profiling.sampling run --binary --compression none -o run.bin app.py
  pyxray import run.bin -o app.json && pyxray report app.json
  py-spy record --format raw -o stacks.txt -- python app.py
  pyxray import stacks.txt --interval-us 10000 -o app.json
  pyxray import cpu.pb.gz --sample-type cpu -o go.json
`

/** Decompresses zstd data with a Python 3.14+ (compression.zstd); at most `maxBytes` out. */
const ZSTD_SCRIPT = `import sys
try:
    from compression.zstd import ZstdDecompressor, ZstdError
except ImportError:
    sys.exit(5)
d = ZstdDecompressor()
try:
    out = d.decompress(sys.stdin.buffer.read(), max_length=int(sys.argv[1]))
except ZstdError as e:
    print(e, file=sys.stderr)
    sys.exit(4)
if not d.eof:
    sys.exit(3 if len(out) >= int(sys.argv[1]) else 4)
sys.stdout.buffer.write(out)
`

/** The zstd decoder of {@link importProfile}: the newest Python 3.14+ found runs compression.zstd. */
function zstdWithPython(compressed: Uint8Array, maxBytes: number): Uint8Array {
  const python = findInterpreters()
    .filter((i) => i.major === 3 && i.minor >= 14)
    .sort((a, b) => b.minor - a.minor)[0]
  if (!python) throw new ImportError('IMPORT_UNSUPPORTED', 'Tachyon binary compressed with zstd: pyxray decompresses it with a Python 3.14+ (compression.zstd) and found none (PATH, pyenv, PYXRAY_PYTHON_PATHS); record with --binary --compression none, or convert with python -m profiling.sampling replay --collapsed')
  const r = spawnSync(python.path, ['-I', '-c', ZSTD_SCRIPT, String(maxBytes)], { input: compressed, maxBuffer: maxBytes + 1024 })
  if (r.status === 0 && r.stdout) return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength)
  if (r.status === 3) throw new ImportError('IMPORT_LIMIT', `the zstd-compressed samples expand past ${maxBytes} bytes (16 MiB + 64 × the file's size): not a real profile's`)
  if (r.status === 5) throw new ImportError('IMPORT_UNSUPPORTED', `${python.path} (${python.version}) has no compression.zstd (built without zstd): convert the file with python -m profiling.sampling replay --collapsed`)
  const why = r.stderr?.toString().trim().split('\n').pop() ?? r.error?.message ?? `exit status ${r.status}`
  throw new ImportError('IMPORT_CORRUPT', `Tachyon binary: its zstd-compressed samples cannot be decompressed (${why}): the file is truncated or damaged`)
}

/** Resolves --opcodes frames to instructions (pyxray._profile_sites.resolve_requests): JSON requests on stdin, answers on stdout. */
const INSTRUCTIONS_SCRIPT = `import json, sys
sys.path.insert(0, sys.argv[1])
from pyxray._profile_sites import resolve_requests
json.dump(resolve_requests(json.load(sys.stdin)), sys.stdout)
`

/**
 * The instruction resolver of {@link importProfile}: an interpreter of the profile's major.minor
 * compiles the sources (the offsets are that version's); undefined when there is none, or it fails.
 */
function instructionsWithPython(version: string, requests: readonly InstructionRequest[]): readonly (ProfileInstruction | null)[] | undefined {
  const [major, minor] = version.split('.').map(Number)
  const python = findInterpreters().find((i) => i.implementation === 'CPython' && i.major === major && i.minor === minor)
  if (!python) return undefined
  const r = spawnSync(python.path, ['-I', '-c', INSTRUCTIONS_SCRIPT, agentDir()], { input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (r.status !== 0) return undefined
  try {
    const answers = JSON.parse(r.stdout) as unknown
    return Array.isArray(answers) && answers.length === requests.length ? (answers as (ProfileInstruction | null)[]) : undefined
  } catch {
    return undefined
  }
}

const IMPORT_OPTIONS = { ...OUTPUT_OPTIONS, 'interval-us': { type: 'string' }, 'sample-type': { type: 'string' }, ...HELP_OPTION } as const

/** What `pyxray import` was asked to do. */
interface ImportRequest {
  readonly files: readonly string[]
  readonly output: string
  readonly intervalUs?: number
  readonly sampleType?: string
}

/** `pyxray import`. */
export const importCommand = defineCommand<ImportRequest>({
  name: 'import',
  synopsis: 'FILE…',
  summary: "other tools' profiles (Tachyon, py-spy, austin, perf) as a pyxray profile document",
  help: IMPORT_HELP,
  options: IMPORT_OPTIONS,
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, IMPORT_OPTIONS)
    if (positionals.length === 0) throw new UsageError('USAGE', 'import needs at least one file to read; see pyxray import --help')
    const output = outputValue(values, ctx)
    if (output === undefined) throw new UsageError('USAGE', 'import needs -o DOC.json, the document to write')
    const interval = values['interval-us']
    const intervalUs = interval === undefined ? undefined : numberOption('interval-us', interval, 1000, { integer: false })
    if (intervalUs !== undefined && !(intervalUs > 0)) throw new UsageError('USAGE', `--interval-us takes a number > 0, not "${interval}"`)
    checkOutputPath(output, positionals, '-o')
    const sampleType = values['sample-type']
    if (sampleType !== undefined && sampleType === '') throw new UsageError('USAGE', '--sample-type takes a sample type name (cpu, samples, alloc_space, …)')
    return { files: positionals, output, ...(intervalUs !== undefined ? { intervalUs } : {}), ...(sampleType !== undefined ? { sampleType } : {}) }
  },
  run: (o, ctx) => runImport(o, ctx.con),
})

/** Reads every file, then writes the one document. */
function runImport(o: ImportRequest, con: Console): number {
  const { intervalUs } = o
  const docs: ProfileDocument[] = []
  for (const file of o.files) {
    let bytes: Uint8Array
    let mtime: Date
    try {
      const st = statSync(file)
      if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
      bytes = readFileSync(file)
      mtime = st.mtime
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a profile' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e)
      throw new UsageError('NOT_FOUND', `${file}: cannot read it: ${why}`)
    }
    try {
      if (looksPprof(bytes)) docs.push(importPprof(bytes, { startTime: mtime.toISOString(), ...(o.sampleType !== undefined ? { sampleType: o.sampleType } : {}) }))
      else if (o.sampleType !== undefined) throw new ImportError('IMPORT_UNSUPPORTED', '--sample-type applies to pprof files only, and this is not one')
      else docs.push(importProfile(bytes, { ...(intervalUs !== undefined ? { intervalUs } : {}), startTime: mtime.toISOString(), zstd: zstdWithPython, instructions: instructionsWithPython }))
    } catch (e) {
      if (!(e instanceof ImportError)) throw e
      con.err(`pyxray: ${escapeMessage(`${file}: ${e.message} [${e.code}]`)}\n`)
      return ExitCode.Usage
    }
  }
  const doc = docs.length === 1 ? docs[0]! : mergeRuns(docs)
  writeProfileFile(o.output, doc)
  const samples = doc.metadata.samples
  const source = docs.map((d) => d.metadata.source).map((s) => (s ? `${s.tool} ${s.format}` : '?'))
  con.err(`pyxray: wrote ${o.output} (${[...new Set(source)].join(', ')}${samples !== undefined ? `, ${samples} samples` : ''})\n`)
  return ExitCode.Ok
}
