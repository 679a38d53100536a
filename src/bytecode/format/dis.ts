/**
 * `--format dis`: the text CPython's `dis.dis(code)` prints, for the code object's own version.
 *
 * Two layouts exist: the classic one (3.8–3.12: offsets and `>>` jump markers) and the labelled
 * one (3.13+: `L1:` labels, optional offsets and, 3.14, positions). Each is one function below;
 * what differs inside a layout comes from the version rules.
 */
import { codeAddress } from '../address.js'
import type { CodeObject } from '../code.js'
import { ArgResolver, decodeStream, type InstructionStream } from '../decode.js'
import { type ExceptionEntry, parseExceptionTable } from '../exceptions.js'
import { type Position, positions, visitLineStarts } from '../lines.js'
import { pyRepr } from '../pyrepr.js'
import { type VersionRules, versionRules } from '../rules.js'

/** Options of {@link formatDis}, named after dis.dis's keyword arguments. */
export interface DisOptions {
  /** Show inline CACHE entries (3.11+), like `show_caches=True`. */
  readonly showCaches?: boolean
  /** Show byte offsets (3.13+; always shown before), like `show_offsets=True`. */
  readonly showOffsets?: boolean
  /** Show full positions instead of line numbers (3.14), like `show_positions=True`. */
  readonly showPositions?: boolean
  /** Recurse into nested code objects (default true, as dis.dis). */
  readonly recursive?: boolean
}

const OPNAME_WIDTH = 20
const OPARG_WIDTH = 5
const NO_LINENO = '  --'

/** The repr of a code object, as in "Disassembly of <code object f at 0x…, file "x.py", line 3>:". */
export function codeRepr(code: CodeObject): string {
  return pyRepr(code.raw, { minor: code.pythonVersion[1], codeAddress })
}

/** Formats a code object (and, by default, the code objects nested in it) exactly as dis.dis. */
export function formatDis(code: CodeObject, options: DisOptions = {}): string {
  // One string grows by concatenation; V8 keeps it as a rope and copies the characters once,
  // when the text is first read, instead of once per line join and once per field join.
  let text = ''
  const walk = (c: CodeObject) => {
    text += formatOne(c, options)
    if (options.recursive === false) return
    for (const child of c.children) {
      text += `\nDisassembly of ${codeRepr(child)}:\n`
      walk(child)
    }
  }
  walk(code)
  // dis prints one empty line for a code object without instructions.
  return text || '\n'
}

// The dis text is made of a few million short lines, so the formatter below works on the
// decoder's scratch arrays (decodeStream) and per-code-unit typed arrays instead of Instruction
// objects, Maps and Sets, and builds each line with one concatenation instead of joining a
// fields array. Instruction order and every rule match the Disassembly-based description in
// dis.py; the golden fixtures and the stdlib differential check it.

/** No line start at this code unit (in {@link Units.line}). */
const NOT_A_START = Number.NaN
/** A line start without a line (3.13+ prints `--`), in {@link Units.line}. */
const NO_LINE = Number.NEGATIVE_INFINITY

/** Facts per 2-byte code unit (index: byte offset / 2), in scratch arrays reused across code objects. */
interface Units {
  /** Line started at this offset: a line number, {@link NOT_A_START} or {@link NO_LINE}. */
  line: Float64Array
  /** Classic layout: 1 when a jump targets the offset. Labelled layout: the label number, 0 if none. */
  label: Int32Array
}
let units: Units = { line: new Float64Array(0), label: new Int32Array(0) }

/** Scratch {@link Units} for offsets 0…byteLength inclusive (exception ranges may end at the end of the code), cleared. */
function unitsFor(byteLength: number): Units {
  const size = (byteLength >> 1) + 2
  if (units.line.length < size) {
    const grown = Math.max(size, 2 * units.line.length)
    units = { line: new Float64Array(grown), label: new Int32Array(grown) }
  }
  units.line.fill(NOT_A_START, 0, size)
  units.label.fill(0, 0, size)
  return units
}

/** What the layouts need to know about the line starts of a code object. */
interface LineStartFacts {
  /** Number of starts with a line. */
  withLine: number
  /** Number of starts with a line other than 0. */
  withNonZeroLine: number
  /** Largest start line (0 when there is none: dis starts its max() from there or filters out 0). */
  maxLine: number
  /** Whether some start has no line (3.13+). */
  someWithout: boolean
}

/** Fills `u.line` from dis.findlinestarts and sums up the starts. */
function scanLineStarts(code: CodeObject, minor: number, u: Units): LineStartFacts {
  const facts: LineStartFacts = { withLine: 0, withNonZeroLine: 0, maxLine: 0, someWithout: false }
  const n = code.code.length
  visitLineStarts(minor, code.linetable, code.firstlineno, n, (offset, line) => {
    if (line === undefined) facts.someWithout = true
    else {
      facts.withLine++
      if (line !== 0) facts.withNonZeroLine++
      if (line > facts.maxLine) facts.maxLine = line
    }
    // Odd offsets or offsets past the code start no instruction; they count for the widths only.
    if ((offset & 1) === 0 && offset >= 0 && offset <= n) u.line[offset >> 1] = line === undefined ? NO_LINE : line
  })
  return facts
}

/** Formats one code object, without its children, as dis.dis. */
function formatOne(code: CodeObject, options: DisOptions): string {
  const r = versionRules(code.pythonVersion[1])
  return r.labels ? formatLabelled(code, r, options) : formatClassic(code, r, options)
}

/** `String(n).padStart(width)`, memoized for the small numbers dis pads on every line. */
function pad(n: number, width: number): string {
  if (n >= 0 && n < PAD_CACHE_LIMIT && width < PAD_CACHE_WIDTHS && Number.isInteger(n)) {
    let byWidth = padCache[width]
    if (byWidth === undefined) {
      byWidth = []
      padCache[width] = byWidth
    }
    let s = byWidth[n]
    if (s === undefined) {
      s = String(n).padStart(width)
      byWidth[n] = s
    }
    return s
  }
  return String(n).padStart(width)
}
const PAD_CACHE_LIMIT = 1 << 16
const PAD_CACHE_WIDTHS = 16
const padCache: (string[] | undefined)[] = []

/** Per version: opname padded to the opname column plus the separating space, by opcode. */
const paddedOpnames = new Map<number, string[]>()

function paddedOpnamesOf(r: VersionRules): string[] {
  let names = paddedOpnames.get(r.minor)
  if (names === undefined) {
    names = r.arrays.opnames.map((name) => `${name.padEnd(OPNAME_WIDTH)} `)
    paddedOpnames.set(r.minor, names)
  }
  return names
}

/**
 * The end of a line from the opname on: `OPNAME` alone when there is no argument (dis's rstrip()
 * drops the padding), else `OPNAME  arg (argrepr)`. `opnameColumn` is the padded opname and its
 * separator; a long opname eats into the argument's padding (3.13+) when `shift` is set.
 */
function opAndArg(opname: string, opnameColumn: string, arg: number, argrepr: string, shift: boolean): string {
  if (Number.isNaN(arg)) return opname
  const width = shift && opname.length > OPNAME_WIDTH ? Math.max(0, OPARG_WIDTH - (opname.length - OPNAME_WIDTH)) : OPARG_WIDTH
  const argText = pad(arg, width)
  return argrepr ? `${opnameColumn}${argText} (${argrepr})` : opnameColumn + argText
}

/** Cache entries shown by show_caches: (name, size, little-endian value) per cache field. */
function cacheInfo(code: CodeObject, r: VersionRules, offset: number, baseOpcode: number): [string, number, bigint][] {
  const format = r.table.cacheFormat[r.opname(baseOpcode)] ?? []
  const out: [string, number, bigint][] = []
  let at = offset + 2
  for (const [name, size] of format) {
    let v = 0n
    for (let i = 2 * size - 1; i >= 0; i--) v = (v << 8n) | BigInt(code.code[at + i] ?? 0)
    out.push([name, size, v])
    // 3.13 reads every field from the first cache entry; 3.14 steps through them.
    if (r.minor !== 13) at += 2 * size
  }
  return out
}

/** The exception table (3.11+), parsed, or empty. */
function exceptionEntries(code: CodeObject, r: VersionRules): ExceptionEntry[] {
  return r.exceptionTable && code.exceptiontable.length > 0 ? parseExceptionTable(code.exceptiontable) : []
}

/** 3.8–3.12: `lineno  >>  offset OPNAME  arg (argrepr)`. */
function formatClassic(code: CodeObject, r: VersionRules, options: DisOptions): string {
  const n = code.code.length
  const u = unitsFor(n)
  const facts = scanLineStarts(code, r.minor, u)
  const showLineno = r.minor <= 9 || facts.withLine > 0
  const linenoWidth = showLineno ? (facts.maxLine >= 1000 ? String(facts.maxLine).length : 3) : 0
  const offsetWidth = n - 2 >= 10000 ? String(n - 2).length : 4
  // The line-number column and the separators up to the jump marker, with and without a number.
  const blankLead = linenoWidth ? `${' '.repeat(linenoWidth)}     ` : '    '

  const s = decodeStream(code.code, r)
  const exc = exceptionEntries(code, r)
  // Jump markers (dis's findlabels): every jump target, and handlers of non-empty ranges.
  for (let k = 0; k < s.count; k++) markTarget(u, s.target[k]!, n)
  for (const e of exc) if (e.end > e.start) markTarget(u, e.target, n)

  const resolver = new ArgResolver(code, r, () => undefined, false)
  const { deopt, caches, opnames } = r.arrays
  const columns = paddedOpnamesOf(r)
  const cacheColumn = `${'CACHE'.padEnd(OPNAME_WIDTH)} `
  let out = ''
  for (let k = 0; k < s.count; k++) {
    const offset = s.offset[k]!
    const op = s.opcode[k]!
    const deop = deopt[op]!
    const arg = s.arg[k]!
    const unit = offset >> 1
    const start = u.line[unit]!
    let lead = blankLead
    if (!Number.isNaN(start)) {
      if (showLineno && offset > 0) out += '\n'
      if (linenoWidth) lead = `${pad(start, linenoWidth)}     `
    }
    const argrepr = Number.isNaN(arg) ? '' : resolver.argrepr(deop, arg, offset, s.target[k]!)
    const marker = u.label[unit] ? '>> ' : '   '
    out += `${lead}${marker}${pad(offset, offsetWidth)} ${opAndArg(opnames[op]!, columns[op]!, arg, argrepr, false)}\n`
    if (options.showCaches && caches[deop]) {
      let at = offset
      for (const [name, size, value] of cacheInfo(code, r, offset, deop)) {
        for (let i = 0; i < size; i++) {
          at += 2
          // 3.11 describes a cache only for specialized (quickened) instructions.
          const describe = i === 0 && (r.minor >= 12 || op !== deop)
          out += `${blankLead}   ${pad(at, offsetWidth)} ${opAndArg('CACHE', cacheColumn, 0, describe ? `${name}: ${value}` : '', false)}\n`
        }
      }
    }
  }
  if (exc.length) {
    out += 'ExceptionTable:\n'
    for (const e of exc) out += `  ${e.start} to ${e.end - 2} -> ${e.target} [${e.depth}]${e.lasti ? ' lasti' : ''}\n`
  }
  return out
}

/** Marks a jump target for the classic layout's `>>` (targets no instruction can have are ignored). */
function markTarget(u: Units, target: number, byteLength: number): void {
  if (target >= 0 && target <= byteLength && (target & 1) === 0) u.label[target >> 1] = 1
}

/** 3.13+: `lineno  L1:  [offset]  OPNAME  arg (argrepr)`. */
function formatLabelled(code: CodeObject, r: VersionRules, options: DisOptions): string {
  const n = code.code.length
  const u = unitsFor(n)
  const facts = scanLineStarts(code, r.minor, u)
  const s = decodeStream(code.code, r)
  const exc = exceptionEntries(code, r)
  const labels = numberLabels(u, s, exc, n)

  const showPositions = options.showPositions === true && r.minor >= 14
  const pos = showPositions ? positions(r.minor, code.linetable, code.firstlineno, n) : []
  const linenoWidth = showPositions ? positionsWidth(pos) : linenoWidthOf(facts)
  const labelWidth = 4 + String(labels.count).length
  const blankLineno = linenoWidth ? `${' '.repeat(linenoWidth)} ` : ''
  const blankLabel = `${' '.repeat(labelWidth)} `
  const offsetWidth = options.showOffsets ? String(Math.max(n - 2, 9999)).length : 0

  const resolver = new ArgResolver(code, r, labels.of, false)
  const { deopt, caches, opnames } = r.arrays
  const columns = paddedOpnamesOf(r)
  const cacheColumn = `${'CACHE'.padEnd(OPNAME_WIDTH)} `
  const offsetColumn = (offset: number) => (offsetWidth ? `${pad(offset, offsetWidth)}   ` : '')
  let out = ''
  for (let k = 0; k < s.count; k++) {
    const offset = s.offset[k]!
    const op = s.opcode[k]!
    const deop = deopt[op]!
    const arg = s.arg[k]!
    const unit = offset >> 1
    const start = u.line[unit]!
    let lineno = blankLineno
    if (showPositions) lineno = `${positionText(pos[unit]).padEnd(linenoWidth)} `
    else if (!Number.isNaN(start) && linenoWidth) {
      lineno = `${start === NO_LINE ? NO_LINENO.padStart(linenoWidth) : pad(start, linenoWidth)} `
    }
    if (linenoWidth > 0 && !Number.isNaN(start) && offset > 0) out += '\n'
    const label = u.label[unit]!
    const labelColumn = label ? `${`L${label}:`.padStart(labelWidth)} ` : blankLabel
    const argrepr = Number.isNaN(arg) ? '' : resolver.argrepr(deop, arg, offset, s.target[k]!)
    out += `${lineno}${labelColumn}${offsetColumn(offset)}    ${opAndArg(opnames[op]!, columns[op]!, arg, argrepr, true)}\n`
    if (options.showCaches && caches[deop]) {
      const cacheLineno = showPositions ? lineno : blankLineno
      let at = offset
      for (const [name, size, value] of cacheInfo(code, r, offset, deop)) {
        for (let i = 0; i < size; i++) {
          at += 2
          out += `${cacheLineno}${blankLabel}${offsetColumn(at)}    ${opAndArg('CACHE', cacheColumn, 0, i === 0 ? `${name}: ${value}` : '', true)}\n`
        }
      }
    }
  }
  if (exc.length) {
    out += 'ExceptionTable:\n'
    for (const e of exc) {
      out += `  L${labels.of(e.start)} to L${labels.of(e.end)} -> L${labels.of(e.target)} [${e.depth}]${e.lasti ? ' lasti' : ''}\n`
    }
  }
  return out
}

/**
 * Numbers the labels of the labelled layout (3.13+) in offset order: jump targets and the start,
 * end and target of every exception-table entry. Offsets within the code go to `u.label`; the
 * rare ones outside it (only in hand-made bytecode) to a small map.
 */
function numberLabels(
  u: Units,
  s: InstructionStream,
  exc: readonly ExceptionEntry[],
  byteLength: number,
): { count: number; of: (offset: number) => number | undefined } {
  const inside = (offset: number) => offset >= 0 && offset <= byteLength && (offset & 1) === 0
  let outside: number[] | undefined
  const add = (offset: number) => {
    if (inside(offset)) u.label[offset >> 1] = 1
    else (outside ??= []).push(offset)
  }
  for (let k = 0; k < s.count; k++) {
    const target = s.target[k]!
    if (!Number.isNaN(target)) add(target)
  }
  for (const e of exc) {
    add(e.start)
    add(e.end)
    add(e.target)
  }
  const before = outside ? [...new Set(outside.filter((o) => o < 0))].sort((a, b) => a - b) : []
  const after = outside ? [...new Set(outside.filter((o) => o >= 0))].sort((a, b) => a - b) : []
  // Label offsets are even (3.13+ jump arguments and exception-table entries count code units),
  // so the ones outside the code are all before it or after it.
  let count = before.length
  const last = byteLength >> 1
  for (let unit = 0; unit <= last; unit++) if (u.label[unit]) u.label[unit] = ++count
  const outsideLabels = new Map<number, number>()
  before.forEach((o, i) => outsideLabels.set(o, i + 1))
  for (const o of after) outsideLabels.set(o, ++count)
  const label = u.label
  return {
    count,
    of: (offset) => (inside(offset) ? label[offset >> 1] || undefined : outsideLabels.get(offset)),
  }
}

function positionText(p: Position | undefined): string {
  const ps = [p?.line, p?.endLine, p?.col, p?.endCol]
  if (ps.every((x) => x === undefined)) return NO_LINENO
  const q = ps.map((x) => (x === undefined ? '?' : String(x)))
  return `${q[0]}:${q[2]}-${q[1]}:${q[3]}`
}

/** dis._get_lineno_width (3.13+). */
function linenoWidthOf(facts: LineStartFacts): number {
  // filter(None, …) drops None and 0.
  if (facts.withNonZeroLine === 0) return 0
  let width = Math.max(3, String(facts.maxLine).length)
  if (width < NO_LINENO.length && facts.someWithout) width = NO_LINENO.length
  return width
}

/** dis._get_positions_width (3.14). */
function positionsWidth(positions: readonly Position[]): number {
  let hasValue = false
  let width = 0
  for (const p of positions) {
    const ps = [p.line, p.endLine, p.col, p.endCol]
    if (ps.some((x) => x !== undefined)) hasValue = true
    width = Math.max(width, ps.reduce((n: number, x) => n + (x === undefined ? 1 : String(x).length), 0))
  }
  return hasValue ? 1 + Math.max(NO_LINENO.length, 3 + width) : 0
}
