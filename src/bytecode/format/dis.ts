/**
 * `--format dis`: the text CPython's `dis.dis(code)` prints, for the code object's own version.
 *
 * Two layouts exist: the classic one (3.8–3.12: offsets and `>>` jump markers) and the labelled
 * one (3.13+: `L1:` labels, optional offsets and, 3.14, positions). Each is one function below;
 * what differs inside a layout comes from the version rules.
 */
import type { PyCode } from '../../marshal/index.js'
import { decodeAscii } from '../../marshal/utf8.js'
import { codeAddress, codeAddressHash } from '../address.js'
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

/**
 * Writes {@link codeRepr}: dis prints one per nested code object twice (in the parent's
 * LOAD_CONST and in the heading), so it is written in place rather than built as a string, with
 * the file name, the same in every code object of a file, copied as bytes.
 */
function writeCodeRepr(out: TextBuffer, code: PyCode, minor: number): void {
  if (code.name.type !== 'str' || code.filename.type !== 'str') {
    out.str(pyRepr(code, { minor, codeAddress }))
    return
  }
  // The format of reprCode in pyrepr.ts.
  out.str('<code object ')
  out.str(code.name.value)
  // codeAddress(code), `0x7f0` + 8 hex digits + `0`, written digit by digit.
  out.str(' at 0x7f0')
  out.hex8(codeAddressHash(code))
  out.str('0, file "')
  out.repeated(code.filename.value)
  out.str('", line ')
  out.num(code.firstlineno !== 0 ? code.firstlineno : -1, 0)
  out.char(0x3e) // '>'
}

/** Formats a code object (and, by default, the code objects nested in it) exactly as dis.dis. */
export function formatDis(code: CodeObject, options: DisOptions = {}): string {
  const out = TextBuffer.shared
  out.reset()
  const walk = (c: CodeObject) => {
    formatOne(c, options, out)
    if (options.recursive === false) return
    for (const child of c.children) {
      out.str('\nDisassembly of ')
      writeCodeRepr(out, child.raw, child.pythonVersion[1])
      out.str(':\n')
      walk(child)
    }
  }
  walk(code)
  // dis prints one empty line for a code object without instructions.
  return out.isEmpty() ? '\n' : out.finish()
}

// Why this formatter looks the way it does: the dis text of a large code base is hundreds of
// megabytes in a few million short lines. Building each line from a fields array, or even by
// string concatenation, allocates several objects per line that the garbage collector then
// copies and frees; here the text goes as bytes into one reused buffer (TextBuffer), padded
// fields and opnames are written from precomputed bytes, and the decoder's scratch arrays
// (decodeStream) and per-code-unit typed arrays stand in for Instruction objects, Maps and Sets. Every rule follows dis.py as the
// Disassembly-based description in decode.ts does; the golden fixtures and the stdlib
// differential (scripts/stdlib-diff.ts) check the two against CPython.

/**
 * The dis text under construction: ASCII in a byte buffer that the platform's decoder turns into a
 * string, and strings with other characters as they are. The result is the concatenation of
 * those pieces, a few per module at most: non-ASCII text (docstrings, names) is rare, and keeping
 * it out of the buffer leaves every decoded piece a one-byte string.
 */
class TextBuffer {
  /** The one buffer formatDis writes into (formatting never nests, and it is reset first). */
  static readonly shared = new TextBuffer()
  private bytes = new Uint8Array(1 << 16)
  /** `bytes`, for writing four bytes at once. */
  private view = new DataView(this.bytes.buffer)
  /** The string of the last {@link repeated} call, and its bytes (3 spare at the end for copy()). */
  private repeatedText = ''
  private repeatedBytes = new DataView(new ArrayBuffer(3))
  private length = 0
  /** The text before `bytes`. */
  private text = ''

  reset(): void {
    this.length = 0
    this.text = ''
  }

  isEmpty(): boolean {
    return this.length === 0 && this.text === ''
  }

  /** The text written since the last reset. */
  finish(): string {
    this.flush()
    const text = this.text
    this.text = ''
    return text
  }

  /** Appends `s`. */
  str(s: string): void {
    const n = s.length
    if (this.length + n > this.bytes.length) this.grow(n)
    const bytes = this.bytes
    const start = this.length
    let at = start
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        // Not ASCII: take back what was copied, and keep the string as a piece of its own.
        this.length = start
        this.flush()
        this.text += s
        return
      }
      bytes[at++] = c
    }
    this.length = at
  }

  /**
   * Appends `n` bytes of `source` (ASCII text) from `start`, four at a time: it may read up to 3
   * bytes past them (`source` must have them) and write as many past the end of the text, where
   * the next write lands anyway.
   */
  copy(source: DataView, start: number, n: number): void {
    if (this.length + n + 3 > this.bytes.length) this.grow(n + 3)
    const view = this.view
    const at = this.length
    for (let i = 0; i < n; i += 4) view.setUint32(at + i, source.getUint32(start + i))
    this.length = at + n
  }

  /**
   * Appends `s`, a string written many times in a row (the file name in code reprs): its bytes are
   * kept from the last call and copied four at a time.
   */
  repeated(s: string): void {
    if (s !== this.repeatedText) {
      const n = s.length
      const bytes = new Uint8Array(n + 3)
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) {
          this.str(s)
          return
        }
        bytes[i] = c
      }
      this.repeatedText = s
      this.repeatedBytes = new DataView(bytes.buffer)
    }
    this.copy(this.repeatedBytes, 0, s.length)
  }

  /** Appends the 8 lowercase hex digits of a uint32. */
  hex8(n: number): void {
    if (this.length + 8 > this.bytes.length) this.grow(8)
    const bytes = this.bytes
    const at = this.length
    for (let i = 7; i >= 0; i--) {
      const digit = (n >>> (4 * (7 - i))) & 0xf
      bytes[at + i] = digit < 10 ? DIGIT_0 + digit : 0x57 + digit // 0x57 + 10 = 'a'
    }
    this.length = at + 8
  }

  /** Appends one ASCII character, by code. */
  char(c: number): void {
    if (this.length === this.bytes.length) this.grow(1)
    this.bytes[this.length++] = c
  }

  /** Appends `n` spaces. */
  spaces(n: number): void {
    if (n <= 0) return
    if (this.length + n + 3 > this.bytes.length) this.grow(n + 3)
    // Four at a time, possibly writing up to 3 past the end of the text (see copy()): dis fields
    // are padded with a few spaces each, too few for fill() to pay off.
    const view = this.view
    const at = this.length
    for (let i = 0; i < n; i += 4) view.setUint32(at + i, FOUR_SPACES)
    this.length = at + n
  }

  /** Appends `String(n).padStart(width)`. */
  num(n: number, width: number): void {
    // Offsets, arguments and line numbers below 10000 in fields of 3 or more: one 4-byte store
    // from a table (see copy() on writing past the end).
    if (n >= 0 && n < 10000 && width >= 3 && Number.isInteger(n)) {
      if (width > 4) this.spaces(width - 4)
      if (this.length + 4 > this.bytes.length) this.grow(4)
      if (width === 3 && n < 1000) {
        this.view.setUint32(this.length, PADDED_3[n]!)
        this.length += 3
      } else {
        this.view.setUint32(this.length, PADDED_4[n]!)
        this.length += 4
      }
      return
    }
    if (!(n >= 0 && n < 2 ** 31 && Number.isInteger(n))) {
      this.str(String(n).padStart(width))
      return
    }
    // Int32 arithmetic: `%` and Math.floor on doubles cost several times more.
    let v = n | 0
    let digits = 1
    for (let p = 10; p <= v; p *= 10) digits++
    this.spaces(width - digits)
    if (this.length + digits > this.bytes.length) this.grow(digits)
    const bytes = this.bytes
    let at = this.length + digits
    this.length = at
    do {
      const q = (v / 10) | 0
      bytes[--at] = DIGIT_0 + v - q * 10
      v = q
    } while (v > 0)
  }

  private flush(): void {
    if (this.length === 0) return
    this.text += decodeAscii(this.bytes.subarray(0, this.length))
    this.length = 0
  }

  private grow(n: number): void {
    // Past a megabyte, decode what is there rather than grow: the buffer stays small (it lives as
    // long as the module) however long the text gets, and the text becomes a few large pieces.
    if (this.length >= FLUSH_AT) {
      this.flush()
      if (n <= this.bytes.length) return
    }
    const bigger = new Uint8Array(Math.max(2 * this.bytes.length, this.length + n))
    bigger.set(this.bytes.subarray(0, this.length))
    this.bytes = bigger
    this.view = new DataView(bigger.buffer)
  }
}

/** Buffer fill at which {@link TextBuffer} decodes instead of growing. */
const FLUSH_AT = 1 << 20
const SPACE = 0x20
const FOUR_SPACES = 0x20202020

/** `String(n).padStart(4)` for n < 10000, as big-endian 4-byte words for {@link TextBuffer.num}. */
const PADDED_4 = new Uint32Array(10000)
/** `String(n).padStart(3)` and a spare byte, for n < 1000. */
const PADDED_3 = new Uint32Array(1000)
for (let n = 0; n < 10000; n++) {
  PADDED_4[n] = word(String(n).padStart(4))
  if (n < 1000) PADDED_3[n] = word(`${String(n).padStart(3)} `)
}

/** Four ASCII characters as a big-endian word (the byte order of DataView's default). */
function word(text: string): number {
  return ((text.charCodeAt(0) << 24) | (text.charCodeAt(1) << 16) | (text.charCodeAt(2) << 8) | text.charCodeAt(3)) >>> 0
}
const DIGIT_0 = 0x30
const NEWLINE = 0x0a

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
function formatOne(code: CodeObject, options: DisOptions, out: TextBuffer): void {
  const r = versionRules(code.pythonVersion[1])
  if (r.labels) formatLabelled(code, r, options, out)
  else formatClassic(code, r, options, out)
}

/**
 * Every opname of a version as ASCII bytes, followed by spaces up to the argument column (the
 * opname padded to its width and the field separator): dis prints one per line, and copying
 * bytes from here costs less than reading the opname string.
 */
interface OpnameColumns {
  /** Bytes per opcode in `bytes`. */
  readonly stride: number
  /** The padded opnames, `stride` bytes apart (and 3 spare bytes at the end for copy()). */
  readonly bytes: DataView
  /** Length of each opname. */
  readonly lengths: Uint8Array
}

const opnameColumns = new Map<number, OpnameColumns>()

function opnameColumnsOf(r: VersionRules): OpnameColumns {
  let columns = opnameColumns.get(r.minor)
  if (columns === undefined) {
    const names = r.arrays.opnames
    const stride = Math.max(OPNAME_WIDTH, ...names.map((n) => n.length)) + 1
    const bytes = new Uint8Array(stride * names.length + 3).fill(SPACE)
    const lengths = new Uint8Array(names.length)
    names.forEach((name, op) => {
      lengths[op] = name.length
      for (let i = 0; i < name.length; i++) bytes[op * stride + i] = name.charCodeAt(i)
    })
    columns = { stride, bytes: new DataView(bytes.buffer), lengths }
    opnameColumns.set(r.minor, columns)
  }
  return columns
}

/**
 * Writes the end of a line from the opname of `op` on: the opname alone when there is no
 * argument (dis's rstrip() drops the padding), else `OPNAME  arg (argrepr)`; then the newline. A
 * long opname eats into the argument's padding (3.13+) when `shift` is set.
 */
function opAndArg(
  out: TextBuffer,
  columns: OpnameColumns,
  op: number,
  hasArg: boolean,
  arg: number,
  argrepr: string | PyCode,
  shift: boolean,
  minor: number,
): void {
  const length = columns.lengths[op]!
  if (!hasArg) {
    out.copy(columns.bytes, op * columns.stride, length)
    out.char(NEWLINE)
    return
  }
  const excess = length - OPNAME_WIDTH
  out.copy(columns.bytes, op * columns.stride, Math.max(OPNAME_WIDTH, length) + 1)
  out.num(arg, shift && excess > 0 ? OPARG_WIDTH - excess : OPARG_WIDTH)
  if (argrepr) {
    out.char(SPACE)
    out.char(0x28) // '('
    if (typeof argrepr === 'string') out.str(argrepr)
    else writeCodeRepr(out, argrepr, minor)
    out.char(0x29) // ')'
  }
  out.char(NEWLINE)
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
function formatClassic(code: CodeObject, r: VersionRules, options: DisOptions, out: TextBuffer): void {
  const n = code.code.length
  const u = unitsFor(n)
  const facts = scanLineStarts(code, r.minor, u)
  const showLineno = r.minor <= 9 || facts.withLine > 0
  const linenoWidth = showLineno ? (facts.maxLine >= 1000 ? String(facts.maxLine).length : 3) : 0
  const offsetWidth = n - 2 >= 10000 ? String(n - 2).length : 4

  const s = decodeStream(code.code, r)
  const exc = exceptionEntries(code, r)
  // Jump markers (dis's findlabels): every jump target, and handlers of non-empty ranges.
  for (let k = 0; k < s.count; k++) markTarget(u, s.target[k]!, n)
  for (const e of exc) if (e.end > e.start) markTarget(u, e.target, n)

  const resolver = new ArgResolver(code, r, s, () => undefined, false)
  const { deopt, caches } = r.arrays
  const columns = opnameColumnsOf(r)
  const cacheOpcode = r.table.opmap.CACHE ?? 0
  // Fields are joined by one space: [lineno] '   ' ('>>' | '  ') offset opname [arg [(argrepr)]].
  const lead = linenoWidth ? linenoWidth + 5 : 4
  for (let k = 0; k < s.count; k++) {
    const offset = s.offset[k]!
    const op = s.opcode[k]!
    const deop = deopt[op]!
    const hasArg = s.hasArg[k] === 1
    const unit = offset >> 1
    const start = u.line[unit]!
    const argrepr = hasArg ? resolver.describe(k) : ''
    const target = u.label[unit] !== 0
    if (Number.isNaN(start) || !linenoWidth) out.spaces(target ? lead : lead + 3)
    else {
      if (offset > 0) out.char(NEWLINE)
      out.num(start, linenoWidth)
      out.spaces(target ? 5 : 8)
    }
    if (target) out.str('>> ')
    out.num(offset, offsetWidth)
    out.char(SPACE)
    opAndArg(out, columns, op, hasArg, s.arg[k]!, argrepr, false, r.minor)
    if (options.showCaches && caches[deop]) {
      let at = offset
      for (const [name, size, value] of cacheInfo(code, r, offset, deop)) {
        for (let i = 0; i < size; i++) {
          at += 2
          // 3.11 describes a cache only for specialized (quickened) instructions.
          const describe = i === 0 && (r.minor >= 12 || op !== deop)
          out.spaces(lead + 3)
          out.num(at, offsetWidth)
          out.char(SPACE)
          opAndArg(out, columns, cacheOpcode, true, 0, describe ? `${name}: ${value}` : '', false, r.minor)
        }
      }
    }
  }
  if (exc.length) {
    out.str('ExceptionTable:\n')
    for (const e of exc) out.str(`  ${e.start} to ${e.end - 2} -> ${e.target} [${e.depth}]${e.lasti ? ' lasti' : ''}\n`)
  }
}

/** Marks a jump target for the classic layout's `>>` (targets no instruction can have are ignored). */
function markTarget(u: Units, target: number, byteLength: number): void {
  if (target >= 0 && target <= byteLength && (target & 1) === 0) u.label[target >> 1] = 1
}

/** 3.13+: `lineno  L1:  [offset]  OPNAME  arg (argrepr)`. */
function formatLabelled(code: CodeObject, r: VersionRules, options: DisOptions, out: TextBuffer): void {
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
  const offsetWidth = options.showOffsets ? String(Math.max(n - 2, 9999)).length : 0

  const resolver = new ArgResolver(code, r, s, labels.of, false)
  const { deopt, caches } = r.arrays
  const columns = opnameColumnsOf(r)
  const cacheOpcode = r.table.opmap.CACHE ?? 0
  // Fields are joined by one space: [lineno] label [offset + 2 spaces] '   ' opname [arg [(argrepr)]].
  const lineno = (unit: number, start: number) => {
    if (!linenoWidth) return
    if (showPositions) out.str(`${positionText(pos[unit]).padEnd(linenoWidth)} `)
    else if (Number.isNaN(start)) out.spaces(linenoWidth + 1)
    else {
      if (start === NO_LINE) out.str(NO_LINENO.padStart(linenoWidth))
      else out.num(start, linenoWidth)
      out.char(SPACE)
    }
  }
  const offsetAndIndent = (offset: number) => {
    if (offsetWidth) {
      out.num(offset, offsetWidth)
      out.spaces(3)
    }
    out.spaces(4)
  }
  for (let k = 0; k < s.count; k++) {
    const offset = s.offset[k]!
    const op = s.opcode[k]!
    const deop = deopt[op]!
    const hasArg = s.hasArg[k] === 1
    const unit = offset >> 1
    const start = u.line[unit]!
    const argrepr = hasArg ? resolver.describe(k) : ''
    if (linenoWidth > 0 && !Number.isNaN(start) && offset > 0) out.char(NEWLINE)
    lineno(unit, start)
    const label = u.label[unit]!
    if (label) {
      out.str(`L${label}:`.padStart(labelWidth))
      out.char(SPACE)
    } else out.spaces(labelWidth + 1)
    offsetAndIndent(offset)
    opAndArg(out, columns, op, hasArg, s.arg[k]!, argrepr, true, r.minor)
    if (options.showCaches && caches[deop]) {
      let at = offset
      for (const [name, size, value] of cacheInfo(code, r, offset, deop)) {
        for (let i = 0; i < size; i++) {
          at += 2
          lineno(unit, NOT_A_START)
          out.spaces(labelWidth + 1)
          offsetAndIndent(at)
          opAndArg(out, columns, cacheOpcode, true, 0, i === 0 ? `${name}: ${value}` : '', true, r.minor)
        }
      }
    }
  }
  if (exc.length) {
    out.str('ExceptionTable:\n')
    for (const e of exc) {
      out.str(`  L${labels.of(e.start)} to L${labels.of(e.end)} -> L${labels.of(e.target)} [${e.depth}]${e.lasti ? ' lasti' : ''}\n`)
    }
  }
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
    else {
      outside ??= []
      outside.push(offset)
    }
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
  for (let i = 0; i < before.length; i++) outsideLabels.set(before[i]!, i + 1)
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
