/**
 * `--format dis`: the text CPython's `dis.dis(code)` prints, for the code object's own version.
 *
 * Two layouts exist: the classic one (3.8–3.12: offsets and `>>` jump markers) and the labelled
 * one (3.13+: `L1:` labels, optional offsets and, 3.14, positions). Each is one function below;
 * what differs inside a layout comes from the version rules.
 */
import { checkOutput, DEFAULT_MAX_OUTPUT_BYTES, type PyCode, type PyStr } from '../../marshal/index.js'
import { decodeAscii } from '../../marshal/utf8.js'
import { codeAddress, codeAddressHash } from '../address.js'
import type { CodeObject } from '../code.js'
import { ArgResolver, decodeStream, type InstructionStream } from '../decode.js'
import { type ExceptionEntry, parseExceptionTable } from '../exceptions.js'
import { type Position, positions, visitLineStarts } from '../lines.js'
import { pyRepr } from '../pyrepr.js'
import { ArgKind, type VersionRules, versionRules } from '../rules.js'

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
  /**
   * The output budget in bytes of text (see marshal/limits.ts): a longer text throws a LimitError
   * (LIMIT_OUTPUT) as soon as it gets there. Default {@link DEFAULT_MAX_OUTPUT_BYTES}.
   */
  readonly maxOutputBytes?: number
}

const OPNAME_WIDTH = 20
const OPARG_WIDTH = 5
const NO_LINENO = '  --'
/** {@link NO_LINENO} as a word (see {@link word}). */
const NO_LINENO_WORD = 0x2d2d2020

/** The repr of a code object, as in "Disassembly of <code object f at 0x…, file "x.py", line 3>:". */
export function codeRepr(code: CodeObject): string {
  return pyRepr(code.raw, { minor: code.pythonVersion[1], codeAddress })
}

/**
 * Writes {@link codeRepr}: dis prints one per nested code object twice (in the parent's
 * LOAD_CONST and in the heading), so it is written in place rather than built as a string, with
 * the file name, the same in every code object of a file, copied as bytes; the second time, the
 * bytes of the first are copied (see {@link codeReprSpans}).
 */
function writeCodeRepr(out: TextBuffer, code: PyCode, minor: number): void {
  const spans = codeReprSpans
  const span = spans?.get(code)
  if (span !== undefined) {
    out.again(Math.floor(span / SPAN_LENGTHS), span % SPAN_LENGTHS)
    return
  }
  if (code.name.type !== 'str' || code.filename.type !== 'str') {
    out.str(pyRepr(code, { minor, codeAddress }))
    return
  }
  const start = out.length
  const pieces = out.pieceCount
  // The format of reprCode in pyrepr.ts: `<code object ${name} at ${codeAddress(code)}, file
  // "${filename}", line ${line}>`, the address being `0x7f0` + 8 hex digits + `0`.
  out.copy(CODE_OBJECT, 0, CODE_OBJECT.byteLength - 3)
  out.str(code.name.value)
  out.copy(AT_0X7F0, 0, AT_0X7F0.byteLength - 3)
  out.hex8(codeAddressHash(code))
  out.codeReprTail(code.filename.value)
  out.num(code.firstlineno !== 0 ? code.firstlineno : -1, 0)
  out.char(0x3e) // '>'
  const length = out.length - start
  if (out.pieceCount === pieces && length < SPAN_LENGTHS) spans?.set(code, start * SPAN_LENGTHS + length)
}

/** Whether `text` is all ASCII. */
function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false
  return true
}

/** ASCII `text` as bytes for {@link TextBuffer.copy}, with its 3 spare bytes. */
function asciiBytes(text: string): DataView {
  const bytes = new Uint8Array(text.length + 3)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return new DataView(bytes.buffer)
}

const CODE_OBJECT = asciiBytes('<code object ')
const AT_0X7F0 = asciiBytes(' at 0x7f0')

/**
 * Where {@link writeCodeRepr} wrote the repr of each code object in the text under construction,
 * as `start * SPAN_LENGTHS + length` (reprs with text kept aside as strings are not recorded).
 * A new map per text, dropped at its end (see {@link writeDis}).
 */
let codeReprSpans: Map<PyCode, number> | undefined
const SPAN_LENGTHS = 1 << 20

/** Formats a code object (and, by default, the code objects nested in it) exactly as dis.dis. */
export function formatDis(code: CodeObject, options: DisOptions = {}): string {
  const out = TextBuffer.shared
  out.reset(false, options.maxOutputBytes)
  writeDis(out, code, options)
  // dis prints one empty line for a code object without instructions.
  return out.isEmpty() ? '\n' : out.finishString()
}

/**
 * {@link formatDis}'s text as UTF-8 bytes (lone surrogates, which a name could hold, become
 * U+FFFD as when Node writes the string to a file): for callers that write the text out, it saves
 * making a string of hundreds of kilobytes and encoding it back.
 */
export function formatDisBytes(code: CodeObject, options: DisOptions = {}): Uint8Array {
  const out = TextBuffer.shared
  out.reset(true, options.maxOutputBytes)
  writeDis(out, code, options)
  return out.isEmpty() ? new Uint8Array([NEWLINE]) : out.finishBytes()
}

function writeDis(out: TextBuffer, code: CodeObject, options: DisOptions): void {
  try {
    writeDisUnchecked(out, code, options)
  } catch (e) {
    out.discard()
    throw e
  }
}

function writeDisUnchecked(out: TextBuffer, code: CodeObject, options: DisOptions): void {
  // Code reprs are remembered for this text only. Keeping them past it, the map would keep the
  // code objects, and all their constants, alive until the next text: through the work in between
  // (reading the next file), where the garbage collector would copy them around or promote them.
  codeReprSpans = new Map()
  try {
    writeDisOf(out, code, options)
  } finally {
    codeReprSpans = undefined
  }
}

function writeDisOf(out: TextBuffer, code: CodeObject, options: DisOptions): void {
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
}

// Why this formatter looks the way it does: the dis text of a large code base is hundreds of
// megabytes in a few million short lines. Building each line from a fields array, or even by
// string concatenation, allocates several objects per line that the garbage collector then
// copies and frees; here the text goes as bytes into one reused buffer (TextBuffer), and the
// loops write the fields before the opname straight into it. The rest of a line is copied
// whenever it was written before: padded opnames come from precomputed bytes, a line end that
// recurs in a code object (`LOAD_FAST                0 (self)`) is copied from its first
// occurrence (LineEnds), and one whose argument means the same in every code object
// (`CALL                     1`) from a cache of such bytes (SharedLineEnds). The decoder's
// scratch arrays (decodeStream) and per-code-unit typed arrays stand in for Instruction objects,
// Maps and Sets. Callers that write the text out take it as bytes (formatDisBytes) and skip
// making a string. Every rule follows dis.py as the Disassembly-based description in decode.ts
// does; the golden fixtures and the stdlib differential (scripts/stdlib-diff.ts) check the two
// against CPython.

/** The size {@link TextBuffer} starts at, and the most it keeps between texts (the dis text of the largest module of the 3.12 standard library is 3.4 MB). */
const INITIAL_SIZE = 1 << 16
const KEEP_AT_MOST = 1 << 24

/**
 * The dis text under construction, as bytes in one buffer reused from call to call. ASCII goes in
 * as is. Other text depends on the caller: {@link formatDisBytes} wants UTF-8 and gets it in the
 * buffer; {@link formatDis} wants a string, so such text is kept aside as strings to be spliced in
 * at their byte position (non-ASCII text is rare, and this way every decoded run of the buffer is
 * a one-byte string and a lone surrogate in a name survives as it is).
 */
class TextBuffer {
  /** The one buffer formatDis writes into (formatting never nests, and it is reset first). */
  static readonly shared = new TextBuffer()
  /** The text so far is `bytes[0, length)`. The formatters' fast paths write here directly after {@link reserve}. */
  bytes = new Uint8Array(INITIAL_SIZE)
  /** `bytes`, for writing four bytes at once. */
  view = new DataView(this.bytes.buffer)
  /** The file name of the last {@link codeReprTail} call, and the bytes it wrote (and 3 spare at the end for copy()). */
  private tailFilename = ''
  private tailBytes: DataView = new DataView(new ArrayBuffer(3))
  length = 0
  /** Whether non-ASCII text is written as UTF-8 (else kept in `pieces`). */
  private utf8 = false
  /** String mode: the non-ASCII strings, in order, and the byte offset in `bytes` each goes at. */
  private pieces: string[] = []
  private pieceAt: number[] = []

  /** The output budget of the text under construction (see {@link DisOptions.maxOutputBytes}). */
  private limit = DEFAULT_MAX_OUTPUT_BYTES
  /** The length of the strings in `pieces`. */
  private asideLength = 0

  /** Empties the buffer; `utf8` chooses how non-ASCII text is kept (see the class comment). */
  reset(utf8: boolean, limit = DEFAULT_MAX_OUTPUT_BYTES): void {
    this.limit = limit
    this.asideLength = 0
    this.length = 0
    this.utf8 = utf8
    this.pieces.length = 0
    this.pieceAt.length = 0
  }

  isEmpty(): boolean {
    return this.length === 0 && this.pieces.length === 0
  }

  /** The text written since the last reset, as a string. */
  finishString(): string {
    const { pieces, pieceAt, bytes } = this
    let text = ''
    let from = 0
    for (let i = 0; i < pieces.length; i++) {
      const at = pieceAt[i]!
      if (at > from) text += decodeAscii(bytes.subarray(from, at))
      text += pieces[i]!
      from = at
    }
    if (this.length > from) text += decodeAscii(bytes.subarray(from, this.length))
    if (pieces.length > 0) {
      pieces.length = 0
      pieceAt.length = 0
    }
    this.shrink()
    return text
  }

  /** The UTF-8 bytes written since the last reset, copied out of the shared buffer. */
  finishBytes(): Uint8Array {
    const bytes = this.bytes.slice(0, this.length)
    this.shrink()
    return bytes
  }

  /** Drops the text under construction (formatting failed). */
  discard(): void {
    this.pieces.length = 0
    this.pieceAt.length = 0
    this.shrink()
    this.length = 0
  }

  /** Lets go of a buffer grown past {@link KEEP_AT_MOST} (it lives as long as the module). */
  private shrink(): void {
    if (this.bytes.length > KEEP_AT_MOST) {
      this.bytes = new Uint8Array(INITIAL_SIZE)
      this.view = new DataView(this.bytes.buffer)
      this.length = 0
    }
  }

  /** Appends `s`. */
  str(s: string): void {
    const n = s.length
    if (n > ENCODER_MIN_LENGTH) {
      this.long(s)
      return
    }
    if (this.length + n > this.bytes.length) this.grow(n)
    const bytes = this.bytes
    const start = this.length
    let at = start
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        // Not ASCII: take back what was copied, and write the string the slow way.
        this.length = start
        this.nonAscii(s)
        return
      }
      bytes[at++] = c
    }
    this.length = at
  }

  /** Appends a long `s` (docstrings, big constants) with the platform's encoder. */
  private long(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.length + 3 * s.length > this.bytes.length) this.grow(3 * s.length)
    const start = this.length
    const { read, written } = platformEncoder.encodeInto(s, this.bytes.subarray(start))
    if (written === read || this.utf8) this.length = start + written
    else this.nonAscii(s)
  }

  /** Appends `s`, which has non-ASCII characters: UTF-8 or a piece of its own (see the class comment). */
  private nonAscii(s: string): void {
    if (this.utf8) {
      if (this.length + 3 * s.length > this.bytes.length) this.grow(3 * s.length)
      this.length += platformEncoder.encodeInto(s, this.bytes.subarray(this.length)).written
    } else {
      this.asideLength += s.length
      checkOutput(this.length + this.asideLength, this.limit, 'the dis text')
      this.pieces.push(s)
      this.pieceAt.push(this.length)
    }
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
    for (let i = 0; i < n; i += 4) view.setUint32(at + i, source.getUint32(start + i, true), true)
    this.length = at + n
  }

  /**
   * Appends again the `n` bytes written at `start` (a span of this text before the current end),
   * four at a time like {@link copy}.
   */
  again(start: number, n: number): void {
    if (this.length + n + 3 > this.bytes.length) this.grow(n + 3)
    const view = this.view
    const at = this.length
    for (let i = 0; i < n; i += 4) view.setUint32(at + i, view.getUint32(start + i, true), true)
    this.length = at + n
  }

  /**
   * Number of strings kept aside so far (string mode): a span of the buffer can be written
   * {@link again} only if no string was spliced into it, i.e. if this did not change meanwhile.
   */
  get pieceCount(): number {
    return this.pieces.length
  }

  /**
   * Appends `0, file "${filename}", line `, the part of code reprs after the address, the same in
   * every code object of a file: its bytes are kept from the last call and copied four at a time.
   */
  codeReprTail(filename: string): void {
    if (filename !== this.tailFilename) {
      const text = `0, file "${filename}", line `
      if (!isAsciiText(text)) {
        this.str(text)
        return
      }
      this.tailFilename = filename
      this.tailBytes = asciiBytes(text)
    }
    this.copy(this.tailBytes, 0, this.tailBytes.byteLength - 3)
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

  /**
   * Makes room for `n` more bytes, and 3 spare for four-byte stores: `bytes` and `view` may be
   * replaced, so read them after this.
   */
  reserve(n: number): void {
    if (this.length + n + 3 > this.bytes.length) this.grow(n + 3)
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
    for (let i = 0; i < n; i += 4) view.setUint32(at + i, FOUR_SPACES, true)
    this.length = at + n
  }

  /** Appends `String(n).padStart(width)`. */
  num(n: number, width: number): void {
    if (!isPutNumber(n)) {
      this.str(String(n).padStart(width))
      return
    }
    this.reserve(Math.max(width, 10))
    this.length = putNumber(this.bytes, this.view, this.length, n, width)
  }

  private grow(n: number): void {
    checkOutput(this.length + this.asideLength + n, this.limit, 'the dis text')
    const bigger = new Uint8Array(Math.min(Math.max(2 * this.bytes.length, this.length + n), Math.max(this.limit + 3, this.length + n)))
    bigger.set(this.bytes.subarray(0, this.length))
    this.bytes = bigger
    this.view = new DataView(bigger.buffer)
  }
}

/** Strings longer than this are written by TextEncoder.encodeInto, which has a fixed cost per call but copies fast. */
const ENCODER_MIN_LENGTH = 48

/**
 * The platform's UTF-8 encoder (lone surrogates become U+FFFD, as when Node writes a string to a
 * file or stdout). TextEncoder exists in browsers and Node but not in the ES library types the
 * core layers compile against, hence the cast.
 */
const platformEncoder = new (
  globalThis as unknown as {
    TextEncoder: new () => { encodeInto(s: string, into: Uint8Array): { read: number; written: number } }
  }
).TextEncoder()
const SPACE = 0x20
const FOUR_SPACES = 0x20202020

/** `String(n).padStart(4)` for n < 10000, as words (see {@link word}) for {@link putNumber}. */
const PADDED_4 = new Uint32Array(10000)
/** `String(n).padStart(3)` and a spare byte, for n < 1000. */
const PADDED_3 = new Uint32Array(1000)
for (let n = 0; n < 10000; n++) {
  PADDED_4[n] = word(String(n).padStart(4))
  if (n < 1000) PADDED_3[n] = word(`${String(n).padStart(3)} `)
}

/**
 * Four ASCII characters as a little-endian word, the first character in the low byte. Every word
 * of this module is written little-endian: that is the machine's order (on the machines Node and
 * browsers run on), and V8 takes about twice as long to write a big-endian word to a DataView.
 */
function word(text: string): number {
  return ((text.charCodeAt(3) << 24) | (text.charCodeAt(2) << 16) | (text.charCodeAt(1) << 8) | text.charCodeAt(0)) >>> 0
}
const DIGIT_0 = 0x30
const NEWLINE = 0x0a
/** `>> ` and a spare space, as a word (see {@link word}). */
const JUMP_MARK = word('>>  ')

/**
 * Writes `n` spaces into `view` at `at`, four at a time (so up to 3 more bytes, which must be
 * reserved); returns the end of the spaces.
 */
function putSpaces(view: DataView, at: number, n: number): number {
  for (let i = 0; i < n; i += 4) view.setUint32(at + i, FOUR_SPACES, true)
  return n > 0 ? at + n : at
}

/**
 * Writes `String(n).padStart(width)` into `bytes` at `at` for an integer 0 ≤ n < 2**31 (room for
 * max(width, 10) + 3 bytes must be reserved); returns the end.
 */
function putNumber(bytes: Uint8Array, view: DataView, at: number, n: number, width: number): number {
  // Offsets, arguments and line numbers below 10000 in fields of 3 or more: one 4-byte store from
  // a table (the spare byte, if any, lands where the next write goes).
  if (n < 10000 && width >= 3) {
    if (width > 4) at = putSpaces(view, at, width - 4)
    if (width === 3 && n < 1000) {
      view.setUint32(at, PADDED_3[n]!, true)
      return at + 3
    }
    view.setUint32(at, PADDED_4[n]!, true)
    return at + 4
  }
  // Int32 arithmetic: `%` and Math.floor on doubles cost several times more.
  let v = n | 0
  const digits = digitCount(v)
  at = putSpaces(view, at, width - digits)
  const end = at + digits
  let i = end
  do {
    const q = (v / 10) | 0
    bytes[--i] = DIGIT_0 + v - q * 10
    v = q
  } while (v > 0)
  return end
}

/** Number of decimal digits of an integer 0 ≤ n < 2**31. */
function digitCount(n: number): number {
  let digits = 1
  for (let p = 10; p <= n; p *= 10) digits++
  return digits
}

/** Whether {@link putNumber} takes `n`. */
function isPutNumber(n: number): boolean {
  return n >= 0 && n < 2 ** 31 && Number.isInteger(n)
}

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
  // The visitor is one function with its state here, rather than a closure made per code object.
  const facts = scan.facts
  facts.withLine = 0
  facts.withNonZeroLine = 0
  facts.maxLine = 0
  facts.someWithout = false
  scan.units = u
  scan.byteLength = code.code.length
  visitLineStarts(minor, code.linetable, code.firstlineno, scan.byteLength, visitLineStart)
  return facts
}

/** The state of {@link visitLineStart}; the facts are overwritten by each {@link scanLineStarts}. */
const scan: { facts: LineStartFacts; units: Units; byteLength: number } = {
  facts: { withLine: 0, withNonZeroLine: 0, maxLine: 0, someWithout: false },
  units,
  byteLength: 0,
}

function visitLineStart(offset: number, line: number | undefined): void {
  const facts = scan.facts
  if (line === undefined) facts.someWithout = true
  else {
    facts.withLine++
    if (line !== 0) facts.withNonZeroLine++
    if (line > facts.maxLine) facts.maxLine = line
  }
  // Odd offsets or offsets past the code start no instruction; they count for the widths only.
  if ((offset & 1) === 0 && offset >= 0 && offset <= scan.byteLength) scan.units.line[offset >> 1] = line === undefined ? NO_LINE : line
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
  /** Bytes per opcode in `bytes` and `lines`. */
  readonly stride: number
  /** The padded opnames, `stride` bytes apart (and 3 spare bytes at the end for copy()). */
  readonly bytes: DataView
  /** The opnames followed by a newline (the whole end of the line of an instruction without argument), `stride` bytes apart. */
  readonly lines: DataView
  /** Length of each opname. */
  readonly lengths: Uint8Array
  /** Per opcode: 1 when its argrepr depends on the argument alone, not on the code object (see {@link SharedLineEnds}). */
  readonly shared: Uint8Array
}

const opnameColumns = new Map<number, OpnameColumns>()

function opnameColumnsOf(r: VersionRules): OpnameColumns {
  let columns = opnameColumns.get(r.minor)
  if (columns === undefined) {
    const names = r.arrays.opnames
    const stride = Math.max(OPNAME_WIDTH, ...names.map((n) => n.length)) + 1
    const bytes = new Uint8Array(stride * names.length + 3).fill(SPACE)
    const lines = new Uint8Array(stride * names.length + 3)
    const lengths = new Uint8Array(names.length)
    const shared = new Uint8Array(names.length)
    names.forEach((name, op) => {
      lengths[op] = name.length
      for (let i = 0; i < name.length; i++) bytes[op * stride + i] = lines[op * stride + i] = name.charCodeAt(i)
      lines[op * stride + name.length] = NEWLINE
      shared[op] = CODE_INDEPENDENT.has(r.argKind[r.arrays.deopt[op]!] as ArgKind) ? 1 : 0
    })
    columns = { stride, bytes: new DataView(bytes.buffer), lines: new DataView(lines.buffer), lengths, shared }
    opnameColumns.set(r.minor, columns)
  }
  return columns
}

/** Argument kinds whose argrepr depends on the version and the argument only, not on the code object. */
const CODE_INDEPENDENT: ReadonlySet<ArgKind> = new Set([
  ArgKind.Plain,
  ArgKind.UnresolvedConst,
  ArgKind.Compare,
  ArgKind.FormatValue,
  ArgKind.ConvertValue,
  ArgKind.MakeFunction,
  ArgKind.FunctionAttribute,
  ArgKind.BinaryOp,
  ArgKind.Intrinsic1,
  ArgKind.Intrinsic2,
  ArgKind.CommonConstant,
  ArgKind.Special,
  ArgKind.IsOp,
  ArgKind.ContainsOp,
])

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
  argrepr: string | PyCode | PyStr,
  shift: boolean,
  minor: number,
): void {
  const length = columns.lengths[op]!
  if (!hasArg) {
    out.copy(columns.lines, op * columns.stride, length + 1)
    return
  }
  const excess = length - OPNAME_WIDTH
  const width = shift && excess > 0 ? OPARG_WIDTH - excess : OPARG_WIDTH
  // The usual cases in one go, written straight into the buffer: the opname column, the argument,
  // and a short ASCII argrepr (checked as it is copied) or the repr of a str constant.
  const text = typeof argrepr === 'string' && argrepr.length <= ENCODER_MIN_LENGTH ? argrepr : undefined
  const strConst = typeof argrepr !== 'string' && argrepr.type === 'str' && argrepr.utf8 === undefined ? argrepr.value : undefined
  if (isPutNumber(arg)) {
    out.reserve(columns.stride + 16 + (strConst !== undefined ? 4 * strConst.length + 2 : ENCODER_MIN_LENGTH))
    const bytes = out.bytes
    const view = out.view
    let at = putBytes(view, out.length, columns.bytes, op * columns.stride, Math.max(OPNAME_WIDTH, length) + 1)
    at = putNumber(bytes, view, at, arg, width)
    if (argrepr === '') {
      bytes[at] = NEWLINE
      out.length = at + 1
      return
    }
    out.length = at
    if (text !== undefined) {
      view.setUint16(at, OPEN_PAREN, true)
      const n = text.length
      let i = 0
      for (; i < n; i++) {
        const c = text.charCodeAt(i)
        if (c >= 0x80) break
        bytes[at + 2 + i] = c
      }
      if (i === n) {
        view.setUint16(at + 2 + n, CLOSE_PAREN_NEWLINE, true)
        out.length = at + n + 4
        return
      }
    } else if (strConst !== undefined) {
      view.setUint16(at, OPEN_PAREN, true)
      const end = putStrRepr(bytes, at + 2, strConst)
      if (end >= 0) {
        view.setUint16(end, CLOSE_PAREN_NEWLINE, true)
        out.length = end + 2
        return
      }
    }
    // Not ASCII: from the argrepr on, the general way.
  } else {
    out.copy(columns.bytes, op * columns.stride, Math.max(OPNAME_WIDTH, length) + 1)
    out.num(arg, width)
  }
  if (argrepr) {
    out.char(SPACE)
    out.char(0x28) // '('
    if (typeof argrepr === 'string') out.str(argrepr)
    else if (argrepr.type === 'str') writeStrRepr(out, argrepr, minor)
    else writeCodeRepr(out, argrepr, minor)
    out.char(0x29) // ')'
  }
  out.char(NEWLINE)
}

/** Writes the repr of a str constant, as pyRepr does, straight into the buffer when it can (see {@link putStrRepr}). */
function writeStrRepr(out: TextBuffer, o: PyStr, minor: number): void {
  if (o.utf8 === undefined) {
    out.reserve(4 * o.value.length + 2)
    const end = putStrRepr(out.bytes, out.length, o.value)
    if (end >= 0) {
      out.length = end
      return
    }
  }
  out.str(pyRepr(o, { minor, codeAddress }))
}

/**
 * Writes `reprStr(s)` into `bytes` at `at` when `s` is ASCII (room for 4 bytes per character and
 * the quotes must be reserved), without building the repr first: docstrings make up much of the
 * text dis prints. Returns the end of the repr, or -1 when `s` has other characters, which only
 * reprStr handles (it knows which ones are printable).
 */
function putStrRepr(bytes: Uint8Array, at: number, s: string): number {
  const n = s.length
  // reprStr's choice of quote.
  const quote = s.includes("'") && !s.includes('"') ? 0x22 : 0x27
  bytes[at++] = quote
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x5c || c === quote) bytes[at++] = 0x5c // a backslash before it
      bytes[at++] = c
    } else if (c < 0x20) {
      bytes[at++] = 0x5c // a backslash, then t, n, r or xNN
      if (c === 0x09) bytes[at++] = 0x74
      else if (c === 0x0a) bytes[at++] = 0x6e
      else if (c === 0x0d) bytes[at++] = 0x72
      else {
        bytes[at++] = 0x78
        bytes[at++] = HEX_DIGITS[c >> 4]!
        bytes[at++] = HEX_DIGITS[c & 15]!
      }
    } else return -1
  }
  bytes[at++] = quote
  return at
}

/** The lowercase hex digits, as character codes. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0))

/** ` (` and `)\n` as little-endian 16-bit words (see {@link word}). */
const OPEN_PAREN = 0x2820
const CLOSE_PAREN_NEWLINE = 0x0a29

/**
 * Copies `n` bytes of `source` from `start` into `view` at `at`, four at a time (so up to 3 more
 * bytes are read and written, which both must have); returns the end of the copy.
 */
function putBytes(view: DataView, at: number, source: DataView, start: number, n: number): number {
  for (let i = 0; i < n; i += 4) view.setUint32(at + i, source.getUint32(start + i, true), true)
  return at + n
}

/** Slots of {@link SharedLineEnds}, a power of two, and bytes per slot (longer line ends are not kept). */
const SHARED_SLOTS = 1 << 10
const SHARED_STRIDE = 64

/** Slots of {@link LineEnds}: a power of two. */
const LINE_END_SLOTS = 1 << 11

/**
 * The end of a line from the opname on (see {@link opAndArg}) is the same text wherever an
 * instruction with the same opcode and argument occurs in a code object (jumps aside: their
 * argrepr depends on the offset too), and about half the instructions repeat an earlier one
 * (`LOAD_FAST 0 (self)`, `LOAD_CONST 0 (None)`…). Such a line end is copied from where it was first
 * written in the text instead of being made again. The cache maps (opcode, argument) to that
 * span; it is direct-mapped (a colliding pair evicts the other) and stamped with a generation
 * number per code object, so starting a code object costs nothing.
 */
class LineEnds {
  static readonly shared = new LineEnds()
  private generation = 0
  readonly generations = new Int32Array(LINE_END_SLOTS)
  readonly opcodes = new Int32Array(LINE_END_SLOTS)
  readonly args = new Int32Array(LINE_END_SLOTS)
  /** Byte offset of the span in the text being written, and its length. */
  readonly starts = new Int32Array(LINE_END_SLOTS)
  readonly lengths = new Int32Array(LINE_END_SLOTS)

  /** Forgets every span (they belong to the previous code object); returns the new generation. */
  begin(): number {
    if (this.generation === 0x3fffffff) {
      this.generations.fill(0)
      this.generation = 0
    }
    return ++this.generation
  }
}

/** The slot of (opcode, argument) in {@link LineEnds}. */
function lineEndSlot(op: number, arg: number): number {
  return Math.imul(arg ^ (op << 21), 0x9e3779b1) >>> 21
}

/** What the line ends of one code object are written with (see {@link writeLineEnd}). */
interface LineEndContext {
  readonly columns: OpnameColumns
  readonly resolver: ArgResolver
  readonly argKind: Uint8Array
  /** The {@link LineEnds} generation of the code object. */
  readonly generation: number
  /** Whether a long opname eats into the argument's padding (3.13+). */
  readonly shift: boolean
  readonly minor: number
}

/**
 * Writes the end of instruction `k`'s line (see {@link opAndArg}) after the text up to `at`, where
 * the caller has written the fields before the opname without updating `out.length`, and with
 * room for {@link INLINE_LINE_END} more bytes reserved. Line ends that were written before are
 * copied (see {@link LineEnds} and {@link SharedLineEnds}); new ones are remembered.
 */
function writeLineEnd(out: TextBuffer, at: number, x: LineEndContext, k: number, op: number, deop: number, hasArg: boolean, arg: number): void {
  const { columns, resolver } = x
  if (!hasArg) {
    out.length = putBytes(out.view, at, columns.lines, op * columns.stride, columns.lengths[op]! + 1)
    return
  }
  if (x.argKind[deop] === ArgKind.Jump) {
    out.length = at
    opAndArg(out, columns, op, true, arg, resolver.describe(k), x.shift, x.minor)
    return
  }
  if (columns.shared[op]) {
    const e = SharedLineEnds
    const key = op | (x.minor << 8)
    const slot = sharedLineEndSlot(key, arg)
    if (e.keys[slot] === key && e.args[slot] === arg) {
      out.length = putBytes(out.view, at, sharedView, slot * SHARED_STRIDE, e.lengths[slot]!)
      return
    }
    out.length = at
    const pieces = out.pieceCount
    opAndArg(out, columns, op, true, arg, resolver.describe(k), x.shift, x.minor)
    const n = out.length - at
    if (out.pieceCount !== pieces || n > SHARED_STRIDE) return
    e.bytes.set(out.bytes.subarray(at, at + n), slot * SHARED_STRIDE)
    e.keys[slot] = key
    e.args[slot] = arg
    e.lengths[slot] = n
    return
  }
  const ends = LineEnds.shared
  const slot = lineEndSlot(op, arg)
  if (ends.generations[slot] === x.generation && ends.opcodes[slot] === op && ends.args[slot] === arg) {
    const n = ends.lengths[slot]!
    if (n <= INLINE_LINE_END) out.length = putBytes(out.view, at, out.view, ends.starts[slot]!, n)
    else {
      out.length = at
      out.again(ends.starts[slot]!, n)
    }
    return
  }
  out.length = at
  const pieces = out.pieceCount
  opAndArg(out, columns, op, true, arg, resolver.describe(k), x.shift, x.minor)
  if (out.pieceCount !== pieces) return
  ends.generations[slot] = x.generation
  ends.opcodes[slot] = op
  ends.args[slot] = arg
  ends.starts[slot] = at
  ends.lengths[slot] = out.length - at
}

/**
 * Line ends whose argrepr does not depend on the code object (`CALL 1`, `BINARY_OP 0 (+)`…: a
 * quarter of all lines) are the same in every code object of a version, so they are kept across
 * code objects and files, in a direct-mapped cache of their own bytes keyed by (version, opcode,
 * argument).
 */
const SharedLineEnds = {
  /** `op | minor << 8` per slot; -1 for an empty slot. */
  keys: new Int32Array(SHARED_SLOTS).fill(-1),
  args: new Int32Array(SHARED_SLOTS),
  lengths: new Uint8Array(SHARED_SLOTS),
  /** The line ends, {@link SHARED_STRIDE} bytes apart (and 3 spare bytes for copy()). */
  bytes: new Uint8Array(SHARED_SLOTS * SHARED_STRIDE + 3),
}
const sharedView = new DataView(SharedLineEnds.bytes.buffer)

/** The slot of (`op | minor << 8`, argument) in {@link SharedLineEnds}. */
function sharedLineEndSlot(key: number, arg: number): number {
  return Math.imul(arg ^ (key << 12), 0x9e3779b1) >>> 22
}

/** Line ends up to this long are copied by the formatter's loop itself. */
const INLINE_LINE_END = 160

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
function exceptionEntries(code: CodeObject, r: VersionRules): readonly ExceptionEntry[] {
  return r.exceptionTable && code.exceptiontable.length > 0 ? parseExceptionTable(code.exceptiontable) : NO_ENTRIES
}

const NO_ENTRIES: readonly ExceptionEntry[] = []

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
  const { deopt, caches } = r.arrays
  // Jump markers (dis's findlabels): every jump target, and handlers of non-empty ranges. 3.11's
  // findlabels tests the raw opcode, so in adaptive code a specialized jump (JUMP_BACKWARD_QUICK)
  // marks nothing there, though its argrepr still says where it goes.
  const rawJumpsOnly = r.minor === 11
  for (let k = 0; k < s.count; k++) {
    const op = s.opcode[k]!
    if (!rawJumpsOnly || deopt[op] === op) markTarget(u, s.target[k]!, n)
  }
  for (const e of exc) if (e.end > e.start) markTarget(u, e.target, n)

  const columns = opnameColumnsOf(r)
  const cacheOpcode = r.table.opmap.CACHE ?? 0
  const ends = LineEnds.shared
  const sharedKey = r.minor << 8
  const x: LineEndContext = {
    columns,
    resolver: new ArgResolver(code, r, s, noLabels, false),
    argKind: r.argKind,
    generation: LineEnds.shared.begin(),
    shift: false,
    minor: r.minor,
  }
  // Fields are joined by one space: [lineno] '   ' ('>>' | '  ') offset opname [arg [(argrepr)]].
  const lead = linenoWidth ? linenoWidth + 5 : 4
  // The most the line takes up to the opname (a newline, the fields, and 10 digits of an offset),
  // and room for the line ends copied in place below.
  const room = linenoWidth + 8 + 3 + Math.max(offsetWidth, 10) + 2 + INLINE_LINE_END
  for (let k = 0; k < s.count; k++) {
    const offset = s.offset[k]!
    const op = s.opcode[k]!
    const deop = deopt[op]!
    const hasArg = s.hasArg[k] === 1
    const unit = offset >> 1
    const start = u.line[unit]!
    const target = u.label[unit] !== 0
    // The fields up to the opname, written straight into the buffer (line numbers other than
    // whole numbers below 2**31 only come from hand-made tables, and go the slow way).
    out.reserve(room)
    let bytes = out.bytes
    let view = out.view
    let at = out.length
    if (Number.isNaN(start) || !linenoWidth) at = putSpaces(view, at, target ? lead : lead + 3)
    else {
      if (offset > 0) bytes[at++] = NEWLINE
      if (isPutNumber(start)) at = putNumber(bytes, view, at, start, linenoWidth)
      else {
        out.length = at
        out.num(start, linenoWidth)
        out.reserve(room)
        bytes = out.bytes
        view = out.view
        at = out.length
      }
      at = putSpaces(view, at, target ? 5 : 8)
    }
    if (target) {
      view.setUint32(at, JUMP_MARK, true)
      at += 3
    }
    at = putNumber(bytes, view, at, offset, offsetWidth)
    bytes[at++] = SPACE
    // The end of the line. writeLineEnd does it all; the copies, most lines, are made right here
    // too, which saves a call per line in the layout of the most common versions.
    const arg = s.arg[k]!
    if (!hasArg) out.length = putBytes(view, at, columns.lines, op * columns.stride, columns.lengths[op]! + 1)
    else if (columns.shared[op]) {
      const slot = sharedLineEndSlot(op | sharedKey, arg)
      if (SharedLineEnds.keys[slot] === (op | sharedKey) && SharedLineEnds.args[slot] === arg) {
        out.length = putBytes(view, at, sharedView, slot * SHARED_STRIDE, SharedLineEnds.lengths[slot]!)
      } else writeLineEnd(out, at, x, k, op, deop, hasArg, arg)
    } else {
      const slot = lineEndSlot(op, arg)
      const n = ends.lengths[slot]!
      if (ends.generations[slot] === x.generation && ends.opcodes[slot] === op && ends.args[slot] === arg && n <= INLINE_LINE_END) {
        out.length = putBytes(view, at, view, ends.starts[slot]!, n)
      } else writeLineEnd(out, at, x, k, op, deop, hasArg, arg)
    }
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
    // `  ${start} to ${end - 2} -> ${target} [${depth}]${lasti ? ' lasti' : ''}`, number by number.
    for (const e of exc) {
      out.str('  ')
      out.num(e.start, 0)
      out.str(' to ')
      out.num(e.end - 2, 0)
      out.str(' -> ')
      out.num(e.target, 0)
      out.str(' [')
      out.num(e.depth, 0)
      out.str(e.lasti ? '] lasti\n' : ']\n')
    }
  }
}

/** The labels of the classic layout: none. */
const noLabels = (): undefined => undefined

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
  const pos = showPositions ? positions(r.minor, code.linetable, code.firstlineno, n, Math.ceil(n / 2)) : []
  const linenoWidth = showPositions ? positionsWidth(pos) : linenoWidthOf(facts)
  const labelWidth = 4 + String(labels.count).length
  const offsetWidth = options.showOffsets ? String(Math.max(n - 2, 9999)).length : 0

  const { deopt, caches } = r.arrays
  const columns = opnameColumnsOf(r)
  const cacheOpcode = r.table.opmap.CACHE ?? 0
  const x: LineEndContext = {
    columns,
    resolver: new ArgResolver(code, r, s, labels.of, false),
    argKind: r.argKind,
    generation: LineEnds.shared.begin(),
    shift: true,
    minor: r.minor,
  }
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
  // The most the line takes up to the opname, but for positions (written the slow way): a newline,
  // the fields, and 10 digits of a line number or label; and room for the line ends copied in place.
  const room = linenoWidth + labelWidth + Math.max(offsetWidth, 10) + 32 + INLINE_LINE_END
  for (let k = 0; k < s.count; k++) {
    const offset = s.offset[k]!
    const op = s.opcode[k]!
    const deop = deopt[op]!
    const hasArg = s.hasArg[k] === 1
    const unit = offset >> 1
    const start = u.line[unit]!
    const label = u.label[unit]!
    if (linenoWidth > 0 && !Number.isNaN(start) && offset > 0) out.char(NEWLINE)
    // The fields up to the opname, straight into the buffer in the usual cases.
    if (showPositions || !(Number.isNaN(start) || start === NO_LINE || isPutNumber(start))) lineno(unit, start)
    out.reserve(room)
    const bytes = out.bytes
    const view = out.view
    let at = out.length
    if (linenoWidth && !showPositions) {
      if (Number.isNaN(start)) at = putSpaces(view, at, linenoWidth + 1)
      else if (start === NO_LINE || isPutNumber(start)) {
        if (start === NO_LINE) {
          at = putSpaces(view, at, linenoWidth - NO_LINENO.length)
          view.setUint32(at, NO_LINENO_WORD, true)
          at += NO_LINENO.length
        } else at = putNumber(bytes, view, at, start, linenoWidth)
        bytes[at++] = SPACE
      }
    }
    if (label) {
      // `L${label}:`, right-aligned.
      at = putSpaces(view, at, labelWidth - 2 - digitCount(label))
      bytes[at++] = 0x4c // 'L'
      at = putNumber(bytes, view, at, label, 0)
      bytes[at++] = 0x3a // ':'
      bytes[at++] = SPACE
    } else at = putSpaces(view, at, labelWidth + 1)
    if (offsetWidth) {
      at = putNumber(bytes, view, at, offset, offsetWidth)
      at = putSpaces(view, at, 3)
    }
    at = putSpaces(view, at, 4)
    writeLineEnd(out, at, x, k, op, deop, hasArg, s.arg[k]!)
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
