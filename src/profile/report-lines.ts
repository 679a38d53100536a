/**
 * `pyxray report --lines` and `--instructions`: where inside the functions a sampled profile's
 * time went, from the instruction-level samples of profile documents version 3 (each node's
 * `lines` and `offsets`, the samples in which it was the innermost visible frame; the frame
 * table describes each sampled instruction: opname, argrepr, source span, specialisation).
 *
 * Rows add up every node of a function (all call paths) and are shares of all the samples of the
 * threads shown. The source text of a line comes from a {@link SourceLookup} the caller gives (the
 * CLI reads the files; the core reads none); columns are UTF-8 byte offsets as CPython's location
 * table stores them, so a span is cut out of the line's UTF-8 bytes.
 */
import { decodeUtf8, encodeUtf8 } from '../marshal/utf8.js'
import type { ProfileInstruction, SampleCounts } from './document.js'
import type { CallNode, FunctionInfo } from './model.js'

/** The text of a source file by its path as the profile names it, or undefined when it cannot be read. */
export type SourceLookup = (file: string) => string | undefined

/** A source line of `--lines`. */
export interface ReportLine {
  /** The function's label and location as the other views show them. */
  readonly function: { readonly qualname: string; readonly label: string; readonly location: string }
  /** The file, shortened as in locations. */
  readonly file: string
  /** 1-based. */
  readonly line: number
  readonly samples: number
  /** Share of all samples of the threads shown, in %. */
  readonly percent: number
  /** The line's source text (without its line break), when the file could be read. */
  readonly text?: string
}

/** An instruction of `--instructions`. */
export interface ReportInstruction {
  readonly function: ReportLine['function']
  readonly file: string
  /** Byte offset in co_code, as dis numbers it. */
  readonly offset: number
  /** As dis shows it; "?" when the profile does not describe the offset. */
  readonly opname: string
  readonly argrepr: string
  /** The specialised form the interpreter ran (3.11+), when it differs from opname. */
  readonly specialized?: string
  /** Source line (1-based) and, on 3.11+, the span's end line and UTF-8 byte columns (end exclusive). */
  readonly line?: number
  readonly endLine?: number
  readonly col?: number
  readonly endCol?: number
  readonly samples: number
  readonly percent: number
  /** The source text of `line`, when the file could be read. */
  readonly text?: string
  /** The exact source of a one-line span (3.11+), when the file could be read. */
  readonly span?: string
}

/** What the lines and instructions views add to a report. */
export interface LineSamples {
  /** 100 %: every sample of the threads shown. */
  readonly sampleTotal: number
  readonly lines: readonly ReportLine[]
  readonly lineCount: number
  readonly instructions: readonly ReportInstruction[]
  readonly instructionCount: number
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((1000 * 100 * part) / whole) / 1000 : 0)

/** Splits source text into lines once per file (a lookup may be asked for the same file often). */
class Sources {
  private readonly cache = new Map<string, readonly string[] | null>()
  constructor(private readonly lookup: SourceLookup | undefined) {}
  line(file: string, line: number): string | undefined {
    if (this.lookup === undefined) return undefined
    let lines = this.cache.get(file)
    if (lines === undefined) {
      const text = this.lookup(file)
      lines = text === undefined ? null : text.split(/\r\n|\r|\n/)
      this.cache.set(file, lines)
    }
    return lines?.[line - 1]
  }
}

/** The text between two UTF-8 byte columns of a line, or undefined when they do not fit it. */
export function spanText(line: string, col: number, endCol: number): string | undefined {
  const bytes = encodeUtf8(line)
  if (col < 0 || endCol < col || endCol > bytes.length) return undefined
  return decodeUtf8(bytes, col, endCol)
}

interface Acc {
  readonly fn: FunctionInfo
  samples: number
}

/**
 * The lines and instructions of the trees `roots`, largest first (ties: file, then line or
 * offset), `top` of each (0: all). `label` gives a function's label and location.
 */
export function lineSamples(
  roots: readonly CallNode[],
  top: number,
  describe: (fn: FunctionInfo) => { readonly label: ReportLine['function']; readonly file: string; readonly instructions?: readonly ProfileInstruction[] },
  lookup?: SourceLookup,
): LineSamples {
  const lines = new Map<string, Acc & { readonly line: number }>()
  const instructions = new Map<string, Acc & { readonly offset: number }>()
  let sampleTotal = 0
  const todo: CallNode[] = []
  for (const r of roots) {
    sampleTotal += r.samples ?? 0
    todo.push(r)
  }
  while (todo.length > 0) {
    const n = todo.pop()!
    for (const c of n.children) todo.push(c)
    if (n.fn === null) continue
    for (const [line, count] of n.lines ?? []) {
      const key = `${n.fn.key}\0${line}`
      const acc = lines.get(key)
      if (acc) acc.samples += count
      else lines.set(key, { fn: n.fn, line, samples: count })
    }
    for (const [offset, count] of n.offsets ?? []) {
      const key = `${n.fn.key}\0${offset}`
      const acc = instructions.get(key)
      if (acc) acc.samples += count
      else instructions.set(key, { fn: n.fn, offset, samples: count })
    }
  }
  const sources = new Sources(lookup)
  const order = <T extends Acc>(list: T[], pos: (a: T) => number) =>
    list.sort((a, b) => b.samples - a.samples || (a.fn.file < b.fn.file ? -1 : a.fn.file > b.fn.file ? 1 : 0) || pos(a) - pos(b))
  const lineRows = order([...lines.values()], (a) => a.line)
  const shownLines = (top > 0 ? lineRows.slice(0, top) : lineRows).map((a): ReportLine => {
    const d = describe(a.fn)
    const text = sources.line(a.fn.file, a.line)
    return { function: d.label, file: d.file, line: a.line, samples: a.samples, percent: pct(a.samples, sampleTotal), ...(text !== undefined ? { text } : {}) }
  })
  const tables = new Map<string, Map<number, ProfileInstruction>>()
  const table = (fn: FunctionInfo) => {
    let t = tables.get(fn.key)
    if (t === undefined) {
      t = new Map((describe(fn).instructions ?? []).map((i) => [i.offset, i]))
      tables.set(fn.key, t)
    }
    return t
  }
  const insRows = order([...instructions.values()], (a) => a.offset)
  const shownIns = (top > 0 ? insRows.slice(0, top) : insRows).map((a): ReportInstruction => {
    const d = describe(a.fn)
    const i = table(a.fn).get(a.offset)
    const text = i?.line !== undefined ? sources.line(a.fn.file, i.line) : undefined
    const oneLine = i?.line !== undefined && (i.endLine === undefined || i.endLine === i.line)
    const span = text !== undefined && oneLine && i.col !== undefined && i.endCol !== undefined ? spanText(text, i.col, i.endCol) : undefined
    return {
      function: d.label,
      file: d.file,
      offset: a.offset,
      opname: i?.opname ?? '?',
      argrepr: i?.argrepr ?? '',
      ...(i?.specialized !== undefined ? { specialized: i.specialized } : {}),
      ...(i?.line !== undefined ? { line: i.line } : {}),
      ...(i?.endLine !== undefined ? { endLine: i.endLine } : {}),
      ...(i?.col !== undefined ? { col: i.col } : {}),
      ...(i?.endCol !== undefined ? { endCol: i.endCol } : {}),
      samples: a.samples,
      percent: pct(a.samples, sampleTotal),
      ...(text !== undefined ? { text } : {}),
      ...(span !== undefined ? { span } : {}),
    }
  })
  return { sampleTotal, lines: shownLines, lineCount: lineRows.length, instructions: shownIns, instructionCount: insRows.length }
}

/**
 * Why a report of lines or instructions may be empty or biased, for the reader: `undefined` when
 * there is nothing to say. `python` is major.minor.micro; `remote` the sampler read the stacks from
 * outside; `signal` the in-process sampler noted running threads' instructions at SIGPROF
 * (`metadata.instructionSampler`), so they are where the thread was; `signalReason` why it did not.
 */
export function lineSamplesNote(view: 'lines' | 'instructions', mode: 'trace' | 'sample', python: string, remote: boolean, found: number, signal = false, signalReason?: string): string | undefined {
  if (mode !== 'sample') return `a trace-mode profile has no line or instruction samples: profile with --mode sample`
  const minor = Number(/^3\.(\d+)/.exec(python)?.[1] ?? 'NaN')
  if (found === 0) {
    if (view === 'instructions' && remote && minor === 14) return `CPython 3.14's unwinder reports only lines: --lines shows them; for instructions sample in process (PYXRAY_SAMPLER=thread) or on 3.15`
    return `this profile has no ${view === 'lines' ? 'line' : 'instruction'} samples (written by an older pyxray, or imported from a format without them): profile again with --mode sample`
  }
  if (!remote && !signal && minor >= 10) {
    return `sampled in process on 3.${minor}: a thread is seen only where it lets other threads run (calls, backward jumps, function starts), so time in other instructions counts at the next of those${minor >= 14 ? ' (sampled from outside, the default on 3.14+, it has no such bias)' : ''}; the C engine's signal sampler (Linux) notes where a running thread is, and did not run for this profile${signalReason !== undefined ? ` (${signalReason})` : ''}`
  }
  return undefined
}

/** "BINARY_OP *" (opname and argrepr) with the specialised form: "CALL 1 → CALL_BUILTIN_O". */
export function instructionLabel(i: Pick<ReportInstruction, 'opname' | 'argrepr' | 'specialized'>): string {
  return `${i.opname}${i.argrepr ? ` ${i.argrepr}` : ''}${i.specialized ? ` → ${i.specialized}` : ''}`
}

/** "file.py:9:12-21" (3.11+ one-line spans), "file.py:9-11" (spans over lines), "file.py:9", or "file.py". */
export function instructionWhere(i: Pick<ReportInstruction, 'file' | 'line' | 'endLine' | 'col' | 'endCol'>): string {
  if (i.line === undefined) return i.file
  const multi = i.endLine !== undefined && i.endLine !== i.line
  if (i.col !== undefined && i.endCol !== undefined) return multi ? `${i.file}:${i.line}:${i.col}-${i.endLine}:${i.endCol}` : `${i.file}:${i.line}:${i.col}-${i.endCol}`
  return multi ? `${i.file}:${i.line}-${i.endLine}` : `${i.file}:${i.line}`
}

/** One function's samples by line and by instruction (the web UI's heatmap of a frame). */
export interface FrameSamples {
  /** Samples where the function was the innermost visible frame, over every thread and call path. */
  readonly total: number
  /** line → samples. */
  readonly lines: ReadonlyMap<number, number>
  /** The sampled instructions, largest first, each with its description when the frame has one. */
  readonly instructions: readonly { readonly offset: number; readonly samples: number; readonly info?: ProfileInstruction }[]
}

/** The samples of frame `index` of a document's threads, by line and instruction (iterative). */
export function frameSamples(doc: { readonly frames: readonly { readonly instructions?: readonly ProfileInstruction[] }[]; readonly threads: readonly { readonly root: ProfileNodeLike }[] }, index: number): FrameSamples {
  const lines = new Map<number, number>()
  const offsets = new Map<number, number>()
  for (const t of doc.threads) {
    const todo: ProfileNodeLike[] = [t.root]
    while (todo.length > 0) {
      const n = todo.pop()!
      for (const c of n.children) todo.push(c)
      if (n.frame !== index) continue
      for (const [line, count] of n.lines ?? []) lines.set(line, (lines.get(line) ?? 0) + count)
      for (const [offset, count] of n.offsets ?? []) offsets.set(offset, (offsets.get(offset) ?? 0) + count)
    }
  }
  const described = new Map((doc.frames[index]?.instructions ?? []).map((i) => [i.offset, i]))
  let total = 0
  for (const n of lines.values()) total += n
  if (total === 0) for (const n of offsets.values()) total += n
  const instructions = [...offsets]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .map(([offset, samples]) => {
      const info = described.get(offset)
      return { offset, samples, ...(info ? { info } : {}) }
    })
  return { total, lines, instructions }
}

/** The parts of a document node {@link frameSamples} reads. */
interface ProfileNodeLike {
  readonly frame: number | null
  readonly lines?: SampleCounts
  readonly offsets?: SampleCounts
  readonly children: readonly ProfileNodeLike[]
}
