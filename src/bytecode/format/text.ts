/**
 * `--format text`: a view for people. Each code object gets a header; the source line (when the
 * source is known) stands above its instructions; jump targets get labels for every version, and
 * jumps say where they go and in which direction. Colors come from a {@link TextStyle} the caller
 * passes in (the core knows nothing about terminals).
 */
import type { CodeObject } from '../code.js'
import { escapeControls, escapeLine } from '../../text/escape.js'
import { OutputLines } from './output.js'
import { disassemble, type Instruction } from '../decode.js'
import { codeRepr } from './dis.js'
import { has } from '../../versions/index.js'

/** How to paint each kind of text; identity functions for plain output. */
export interface TextStyle {
  readonly header: (s: string) => string
  readonly source: (s: string) => string
  readonly lineNo: (s: string) => string
  readonly label: (s: string) => string
  readonly opname: (s: string) => string
  readonly arg: (s: string) => string
  readonly dim: (s: string) => string
}

/** No colors. */
export const PLAIN: TextStyle = {
  header: (s) => s,
  source: (s) => s,
  lineNo: (s) => s,
  label: (s) => s,
  opname: (s) => s,
  arg: (s) => s,
  dim: (s) => s,
}

/** Options of {@link formatText}. */
export interface TextOptions {
  readonly style?: TextStyle
  /** The source file's lines (index 0 = line 1), to print above their instructions. */
  readonly sourceLines?: readonly string[]
  /** Show inline cache entries. */
  readonly showCaches?: boolean
  /** Recurse into nested code objects (default true). */
  readonly recursive?: boolean
  /** A one-line explanation per opcode of a Python minor version, listed after the code (`--explain`). */
  readonly explain?: (minor: number, opname: string) => string | undefined
  /** The output budget in characters (see marshal/limits.ts); default {@link DEFAULT_MAX_OUTPUT_BYTES}. */
  readonly maxOutputBytes?: number
}

/** Formats a code object tree for reading. */
export function formatText(code: CodeObject, options: TextOptions = {}): string {
  const out = new OutputLines(options.maxOutputBytes, 'the text')
  const walk = (c: CodeObject) => {
    if (out.length) out.push('')
    formatOne(c, options, out)
    if (options.recursive !== false) c.children.forEach(walk)
  }
  walk(code)
  if (options.explain) {
    const names = new Set<string>()
    const collect = (c: CodeObject) => {
      for (const i of disassemble(c, { positions: false }).instructions) names.add(i.opname)
      if (options.recursive !== false) c.children.forEach(collect)
    }
    collect(code)
    const s = options.style ?? PLAIN
    out.push('', s.header('opcodes:'))
    for (const n of [...names].sort()) out.push(`  ${s.opname(n.padEnd(28))} ${options.explain(code.pythonVersion[1], n) ?? '(no explanation)'}`)
  }
  return out.text()
}

function formatOne(code: CodeObject, options: TextOptions, out: OutputLines): void {
  const s = options.style ?? PLAIN
  const d = disassemble(code)
  const minor = code.pythonVersion[1]
  // To 3.12, dis shows a line number whenever the line changes, not only at line starts.
  const everyLineChange = has(minor, 'textShowsEveryLineChange')
  out.push(
    s.header(escapeControls(code.qualname)) +
      s.dim(`  ${escapeControls(code.filename)}:${code.firstlineno}  Python 3.${minor} · ${d.instructions.length} instructions · stack ${code.stacksize}`),
  )
  // Labels for every jump target, numbered in offset order (dis does this itself from 3.13).
  const targets = new Set<number>()
  for (const i of d.instructions) if (i.jumpTarget !== undefined) targets.add(i.jumpTarget)
  for (const e of d.exceptionEntries) targets.add(e.target)
  const labels = new Map([...targets].sort((a, b) => a - b).map((off, n) => [off, `L${n + 1}`]))
  const labelWidth = Math.max(3, ...[...labels.values()].map((l) => l.length + 1))
  const offsetWidth = Math.max(3, String(code.code.length).length)
  const opWidth = Math.max(20, ...d.instructions.map((i) => i.opname.length))
  const lineWidth = Math.max(3, String(Math.max(code.firstlineno, ...d.instructions.map((i) => i.line ?? 0))).length)
  let lastLine: number | undefined = -1
  const row = (i: Instruction) => {
    const label = labels.get(i.offset)
    const fields = [
      label ? s.label(`${label}:`.padStart(labelWidth)) : ' '.repeat(labelWidth),
      s.dim(String(i.offset).padStart(offsetWidth)),
      s.opname(i.opname.padEnd(opWidth)),
    ]
    if (i.arg !== undefined) fields.push(s.arg(String(i.arg).padStart(5)))
    const desc = describe(i, labels)
    if (desc) fields.push(desc)
    return `${' '.repeat(lineWidth + 3)}${fields.join(' ')}`.trimEnd()
  }
  for (const i of d.instructions) {
    if (i.line !== lastLine && (i.startsLine || everyLineChange)) {
      if (i.line !== undefined && i.line > 0 && i.startsLine) {
        const src = options.sourceLines?.[i.line - 1]
        out.push(`${s.lineNo(String(i.line).padStart(lineWidth))} ${s.dim('│')} ${src !== undefined ? s.source(escapeLine(src.trimEnd())) : ''}`.trimEnd())
        lastLine = i.line
      }
    }
    out.push(row(i))
    if (options.showCaches) {
      for (let k = 1; k <= i.cacheCount; k++) {
        out.push(s.dim(`${' '.repeat(lineWidth + 3 + labelWidth + 1)}${String(i.offset + 2 * k).padStart(offsetWidth)} CACHE`))
      }
    }
  }
  if (d.exceptionEntries.length) {
    out.push(s.dim('exception handlers:'))
    for (const e of d.exceptionEntries) {
      const target = labels.get(e.target) ?? String(e.target)
      out.push(s.dim(`  ${e.start}–${e.end - 2} → ${target}  depth ${e.depth}${e.lasti ? ', pushes lasti' : ''}`))
    }
  }
  const nested = code.children.length
  if (nested) out.push(s.dim(`nested: ${escapeControls(code.children.map((c) => codeRepr(c).replace(/ at 0x[0-9a-f]+,/, ',')).join('; '))}`))
}

function describe(i: Instruction, labels: ReadonlyMap<number, string>): string {
  if (i.jumpTarget !== undefined) {
    const where = labels.get(i.jumpTarget) ?? String(i.jumpTarget)
    return `${i.jumpTarget <= i.offset ? '↑' : '↓'} ${i.argrepr.startsWith('from') ? 'from' : 'to'} ${where}`
  }
  return i.argrepr ? `(${escapeControls(i.argrepr)})` : ''
}
