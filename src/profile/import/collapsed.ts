/**
 * Folded (collapsed) stacks: one `frame;frame;…;frame COUNT` line per distinct stack, outermost
 * frame first, as written by Tachyon `--collapsed`, py-spy `record --format raw`, austin (and
 * austin2speedscope's input) and Brendan Gregg's stackcollapse-perf.pl over `perf script`. The
 * tool is told by the first stack line:
 *
 * | tool | line | frame |
 * |---|---|---|
 * | Tachyon | `tid:N;…` | `file.py:qualname:LINE` (the file's base name), `<GC>`/`<native>` bare |
 * | austin | `P<pid>;T<iid>:<tid>;…` (and `# key: value` header lines; the value is µs in time modes) | `/path/file.py:function:LINE` |
 * | py-spy | `[process N:"cmd";][thread (0xID);]…` | `function (file.py:LINE)` or `function (file.py)` |
 * | perf | `comm;…` with `py::function:/path/file.py` frames (perf's Python trampoline, 3.12+) or C symbols (`sym_[k]` kernel) | |
 *
 * Anything else in this shape is read as `unknown` (pyxray's own `export --to collapsed`, whose
 * `[thread name]` first frames name threads, among them): frames `function (file:LINE)`, `file:function:LINE`
 * or a bare name (file `<unknown>`); `<name>` alone is a synthetic frame (Tachyon's `<GC>`,
 * `<native>`). Counts are non-negative integers.
 */
import { decodeUtf8 } from '../../marshal/utf8.js'
import type { ProfileDocument } from '../document.js'
import { assumedInterval, type ImportedFrame, type ImportOptions, type ImportTool, ProfileBuilder } from './build.js'
import { ImportError } from './errors.js'

/** A stack line: everything before the last run of blanks, then the count. */
const LINE = /^(.*\S)[ \t]+(\d+)[ \t]*$/
const TACHYON = /^tid:(\d+)(;|$)/
const AUSTIN = /^P(\d+);T([^;]*)(;|$)/
const PYSPY_FRAME = /^(.*) \(([^()]*?)(?::(\d+))?\)$/
const FILE_FUNC_LINE = /^(.*):([^:]*):(-?\d+)$/
const SPECIAL = /^<[^<>]*>$/

/** Whether the bytes look like folded stacks: the first line that is not blank or a `#` comment has a stack and a count. */
export function looksCollapsed(bytes: Uint8Array): boolean {
  let start = 0
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start)
    if (end < 0) end = bytes.length
    const line = decodeUtf8(bytes, start, end)?.replace(/\r$/, '')
    if (line === undefined) return false
    if (line.trim() !== '' && !line.startsWith('#')) return LINE.test(line)
    start = end + 1
  }
  return false
}

function toolOf(line: string): ImportTool {
  if (TACHYON.test(line)) return 'tachyon'
  if (AUSTIN.test(line)) return 'austin'
  const frames = line.split(';')
  if (/^\[[^\]]*\]$/.test(frames[0]!)) return 'unknown' // pyxray export --to collapsed: `[thread name];…`
  if (frames.some((f) => PYSPY_FRAME.test(f) && !f.startsWith('thread (0x') && !f.startsWith('process '))) return 'py-spy'
  if (frames.some((f) => f.startsWith('py::') || f.endsWith('_[k]') || f.endsWith('_[j]'))) return 'perf'
  return 'unknown'
}

function special(name: string): ImportedFrame {
  const module = name === '<GC>' ? 'gc' : name === '<native>' ? 'native' : 'synthetic'
  return { file: '<built-in>', qualname: name, kind: 'builtin', module }
}

/** A frame of the given tool's spelling. */
function parseFrame(tool: ImportTool, text: string): ImportedFrame {
  if (tool === 'perf') {
    if (text.startsWith('py::')) {
      const rest = text.slice(4)
      const colon = rest.indexOf(':')
      if (colon > 0) return { file: rest.slice(colon + 1), qualname: rest.slice(0, colon) }
    }
    return { file: '<built-in>', qualname: text.replace(/_\[[kjwi]\]$/, ''), kind: 'builtin', module: text.endsWith('_[k]') ? 'kernel' : 'native' }
  }
  if (tool !== 'tachyon' && tool !== 'austin') {
    const m = PYSPY_FRAME.exec(text)
    if (m) return { file: m[2]!, qualname: m[1]! }
  }
  const m = FILE_FUNC_LINE.exec(text)
  if (m && m[1] !== '') return { file: m[1]!, qualname: m[2]! }
  if (SPECIAL.test(text)) return special(text)
  // a name without a file (generic folded text, py-spy's frames without one)
  if (tool === 'unknown' || tool === 'py-spy') return { file: '<unknown>', qualname: text }
  throw new ImportError('IMPORT_CORRUPT', `frame ${JSON.stringify(text.slice(0, 80))} is not file:function:line`)
}

/** Reads folded stacks (see the module comment). */
export function importCollapsed(bytes: Uint8Array, options: ImportOptions = {}): ProfileDocument {
  const text = decodeUtf8(bytes, 0, bytes.length)
  if (text === undefined) throw new ImportError('IMPORT_CORRUPT', 'collapsed stacks must be UTF-8 text; this file is not')
  const b = new ProfileBuilder(bytes.length)
  const header = new Map<string, string>()
  let tool: ImportTool | undefined
  const lines = text.split('\n')
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^#\s*([\w-]+)\s*:\s*(.*)$/.exec(line)
      if (m) header.set(m[1]!.toLowerCase(), m[2]!.trim())
      return
    }
    const m = LINE.exec(line)
    if (!m) throw new ImportError('IMPORT_CORRUPT', `line ${index + 1}: expected 'frame;frame;… COUNT' (a stack, blanks, a whole number)`, { line: index + 1 })
    const count = Number(m[2])
    if (!Number.isSafeInteger(count)) throw new ImportError('IMPORT_CORRUPT', `line ${index + 1}: the count ${m[2]!.slice(0, 30)} is too large`, { line: index + 1 })
    tool ??= toolOf(line)
    let parts = m[1]!.split(';')
    let key = ''
    let id: number | undefined
    let name = 'MainThread'
    try {
      if (tool === 'tachyon') {
        const t = TACHYON.exec(m[1]!)
        if (!t) throw new ImportError('IMPORT_CORRUPT', `a Tachyon stack starts with tid:N`)
        key = t[1]!
        id = Number(t[1])
        name = `Thread-${t[1]!}`
        parts = parts.slice(1)
      } else if (tool === 'austin') {
        const t = AUSTIN.exec(m[1]!)
        if (!t) throw new ImportError('IMPORT_CORRUPT', `an austin stack starts with P<pid>;T<thread>`)
        key = `${t[1]!};${t[2]!}`
        const tid = t[2]!.split(':').pop()!
        id = /^\d+$/.test(tid) ? Number(tid) : /^[0-9a-f]+$/i.test(tid) ? parseInt(tid, 16) : undefined
        name = `Thread-${tid}`
        parts = parts.slice(2)
      } else if (tool === 'perf') {
        key = parts[0]!
        name = parts[0]!
        parts = parts.slice(1)
      } else {
        const names: string[] = []
        // py-spy's process and thread frames; pyxray's own export's `[thread name]`
        while (parts.length > 0 && (/^process \d+:/.test(parts[0]!) || /^thread \(0x[0-9a-fA-F]+\)/.test(parts[0]!) || /^\[[^\]]*\]$/.test(parts[0]!))) {
          const p = parts.shift()!
          names.push(p)
          const hex = /^thread \(0x([0-9a-fA-F]+)\)/.exec(p)
          if (hex) id = parseInt(hex[1]!, 16)
        }
        key = names.join(';')
        if (key !== '') name = /^\[[^\]]*\]$/.test(key) ? key.slice(1, -1) : key
      }
      const stack = parts.filter((p) => p !== '').map((p) => b.frame(parseFrame(tool!, p)))
      b.add(b.thread(key, id, name, tool === 'tachyon' ? false : key === '' || key === '[MainThread]'), stack, count)
    } catch (e) {
      if (e instanceof ImportError && e.code === 'IMPORT_CORRUPT' && e.at === undefined) throw new ImportError(e.code, `line ${index + 1}: ${e.message}`, { line: index + 1 })
      throw e
    }
  })
  if (tool === undefined) throw new ImportError('IMPORT_EMPTY', 'the file holds no stack lines: nothing to import')
  const what = tool === 'unknown' ? 'these collapsed stacks' : `${tool}'s collapsed output`
  const warnings: string[] = []
  let intervalUs: number
  const austinTime = tool === 'austin' && header.get('mode') !== undefined && header.get('mode') !== 'memory' ? true : false
  if (tool === 'austin' && header.get('mode') === 'memory') throw new ImportError('IMPORT_UNSUPPORTED', "austin's memory mode counts bytes, not samples: import a wall or cpu profile")
  const headerInterval = Number(header.get('interval'))
  if (tool === 'austin' && Number.isFinite(headerInterval) && headerInterval > 0) intervalUs = headerInterval
  else {
    const assumed = assumedInterval(options, what)
    intervalUs = assumed.intervalUs
    if (assumed.warning && !austinTime) warnings.push(assumed.warning)
  }
  if (tool === 'tachyon') warnings.push("Tachyon's collapsed output names files by base name only: frames show no folder")
  const clock = tool === 'austin' && header.get('mode') === 'cpu' ? 'cpu' : 'wall'
  return b.finish({
    source: { format: 'collapsed', tool },
    weightNs: austinTime ? 1000 : intervalUs * 1000,
    samplesAreCounts: !austinTime,
    intervalNs: intervalUs * 1000,
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    ...(austinTime ? { durationNs: Number(header.get('duration')) * 1000 } : {}),
    clock,
    warnings,
  })
}
