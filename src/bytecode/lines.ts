/**
 * Line and column information of code objects, decoded from the table a `.pyc` carries, for
 * CPython 3.8–3.14. Three encodings exist:
 *
 * - 3.8, 3.9 — `co_lnotab`: pairs (byte-offset increment 0–255, line increment as a signed byte).
 *   A large increment is split over several pairs, one of them with a zero byte increment.
 * - 3.10 — `co_linetable`: pairs (byte-offset increment 0–254, line increment as a signed byte,
 *   where -128 means "no line"). Each pair is one range of `co_lines()`, unless it is empty.
 * - 3.11–3.14 — the location table: one entry per run of 1–8 code units, each a start byte
 *   (bit 7 set; bits 3–6 a {@link LocationCode}; bits 0–2 the run length minus one) followed by
 *   payload bytes (bit 7 clear) in the form the code names. See CPython's InternalDocs/locations.md.
 *
 * All offsets here are byte offsets into `co_code` (one code unit is 2 bytes). Lines are 1-based,
 * columns are 0-based UTF-8 byte offsets into the source line; `undefined` stands for Python's None.
 *
 * Well-formed tables decode exactly as CPython decodes them. Where CPython would read past the end
 * or misread a broken table, this module throws a {@link LineTableError} instead: an odd-length
 * pair table (3.8–3.10), a 3.10 table ending in an empty pair, a location-table entry cut short by
 * the end of the table or by the next entry, payload bytes left over after an entry, varints over
 * 32 bits.
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */
import { has, isSupportedMinor, SUPPORTED_RANGE } from '../versions/index.js'


/** Why a line table could not be decoded. */
export type LineTableErrorCode =
  /** The table ends in the middle of an entry. */
  | 'LINETABLE_TRUNCATED'
  /** The table is not well formed (bad entry header, stray byte, oversized number…). */
  | 'LINETABLE_BAD'

/** A line table (`co_lnotab`, `co_linetable` or the 3.11+ location table) that cannot be decoded. */
export class LineTableError extends Error {
  override readonly name = 'LineTableError'
  constructor(
    readonly code: LineTableErrorCode,
    message: string,
    /** 0-based offset in the table bytes where the problem was found. */
    readonly byteOffset?: number,
  ) {
    super(message)
  }
}

/** One entry of `co_lines()`: instructions in [start, end) (byte offsets) belong to `line` (1-based; undefined = no line, Python's None). */
export interface LineRange {
  /** Byte offset in `co_code` of the first instruction of the range. */
  start: number
  /** Byte offset in `co_code` just past the range. */
  end: number
  /** 1-based source line; undefined when the instructions have no line (Python's None). */
  line: number | undefined
}

/** One entry per code unit (2 bytes), like `co_positions()`: 1-based lines, 0-based UTF-8 byte columns; undefined = None. */
export interface Position {
  /** 1-based first source line; absent when CPython gives None. */
  line?: number
  /** 1-based last source line; absent when CPython gives None. */
  endLine?: number
  /** 0-based UTF-8 byte column where the source span starts; absent when CPython gives None. */
  col?: number
  /** 0-based UTF-8 byte column just past the source span (on `endLine`); absent when CPython gives None. */
  endCol?: number
}

/**
 * One pair yielded by `dis.findlinestarts(code)`: the instruction at `byteOffset` starts source
 * line `line`. `line` is undefined only from 3.13 on, where `dis` also reports where code without
 * a line starts.
 */
export type LineStart = readonly [byteOffset: number, line: number | undefined]

/**
 * Entry kinds of the 3.11+ location table: bits 3–6 of an entry's start byte. "Current line" is
 * the running line number, which starts at `co_firstlineno`. Varints are 6 bits a byte, low
 * chunk first, bit 6 meaning "more follows"; a signed varint holds `(abs << 1) | sign`.
 */
export const enum LocationCode {
  /** 0–9 are short forms: current line; one more byte `0ccceeee`: col = code·8 + ccc, endCol = col + eeee. */
  ShortFirst = 0,
  /** Last short form code. */
  ShortLast = 9,
  /** One-line form, line += 0; two bytes: col, endCol (each 0–127). */
  OneLine0 = 10,
  /** One-line form, line += 1; two bytes: col, endCol. */
  OneLine1 = 11,
  /** One-line form, line += 2; two bytes: col, endCol. */
  OneLine2 = 12,
  /** No columns: svarint line delta; endLine = line, columns None. */
  NoColumns = 13,
  /** Long form: svarint line delta, varint endLine − line, varint col + 1, varint endCol + 1 (0 = None). */
  Long = 14,
  /** No location at all: line, endLine, col and endCol are all None; the current line is kept. */
  None = 15,
}

/** Bit-layout of the start byte of a location-table entry. */
const enum EntryBits {
  /** Set on the first byte of every entry, clear on payload bytes. */
  StartFlag = 0x80,
  /** Right shift that brings the {@link LocationCode} to bits 0–3. */
  CodeShift = 3,
  /** Mask of the {@link LocationCode} after the shift. */
  CodeMask = 0x0f,
  /** Mask of (number of code units covered − 1). */
  LengthMask = 0x07,
}

/** Varint layout of the 3.11+ location table. */
const enum VarintBits {
  /** Payload bits of a varint byte. */
  ValueMask = 0x3f,
  /** "Another byte follows" flag of a varint byte. */
  More = 0x40,
  /** Bits per varint byte. */
  Shift = 6,
  /** The largest shift accepted: CPython reads varints into 32-bit ints. */
  MaxShift = 30,
}

/** 3.10 `co_linetable`: the line increment meaning "these instructions have no line". */
const NO_LINE_3_10 = -128

/** Internal stand-in for None, as CPython's `-1` in its address-range structs. */
const NONE = -1

/** Size of one code unit in bytes. */
const CODE_UNIT_BYTES = 2

function checkMinor(minor: number): void {
  if (!isSupportedMinor(minor)) {
    throw new RangeError(`Python 3.${minor} line tables are not supported: pyxray reads CPython ${SUPPORTED_RANGE}`)
  }
}

/** A co_lines() line from a location-table entry's line (CPython's C int; see negativeLinesAreNone). */
function coLinesLine(minor: number, line: number): number | undefined {
  return coLinesLineOf(has(minor, 'negativeLinesAreNone'), line)
}

/** {@link coLinesLine} with the version's rule looked up once (`negativeNone`: negativeLinesAreNone), for loops over a table. */
function coLinesLineOf(negativeNone: boolean, line: number): number | undefined {
  return negativeNone ? (line < 0 ? undefined : line) : fromC(line)
}

/** Python's None for CPython's `-1` (how `co_lines()`/`co_positions()` convert a C int). */
function fromC(value: number): number | undefined {
  return value === NONE ? undefined : value
}

// ---------------------------------------------------------------------------------------------
// 3.8 / 3.9: co_lnotab

function checkPairs(table: Uint8Array): void {
  if (table.length % 2 !== 0) {
    throw new LineTableError(
      'LINETABLE_TRUNCATED',
      `line table of ${table.length} bytes ends in the middle of a (byte, line) pair`,
      table.length - 1,
    )
  }
}

/** `dis.findlinestarts` of 3.8/3.9, which walks `co_lnotab` and stops at the end of the code. */
function lnotabStarts(table: Uint8Array, firstLineNo: number, codeByteLength: number): LineStart[] {
  checkPairs(table)
  const starts: LineStart[] = []
  let lastLine: number | undefined
  let line = firstLineNo
  let addr = 0
  for (let i = 0; i < table.length; i += 2) {
    const byteIncr = table[i]!
    const lineIncr = table[i + 1]!
    if (byteIncr !== 0) {
      if (line !== lastLine) {
        starts.push([addr, line])
        lastLine = line
      }
      addr += byteIncr
      // The remaining pairs describe code the optimizer removed.
      if (addr >= codeByteLength) return starts
    }
    // Line increments are signed bytes.
    line += lineIncr >= 0x80 ? lineIncr - 0x100 : lineIncr
  }
  if (line !== lastLine) starts.push([addr, line])
  return starts
}

// ---------------------------------------------------------------------------------------------
// 3.10: co_linetable

/** `co_lines()` of 3.10: every non-empty (byte, line) pair is one range; consecutive equal lines are not merged. */
function linetable310Ranges(table: Uint8Array, firstLineNo: number): LineRange[] {
  checkPairs(table)
  const ranges: LineRange[] = []
  let computedLine = firstLineNo
  let end = 0
  for (let i = 0; i < table.length; i += 2) {
    const start = end
    end += table[i]!
    const lineDelta = table[i + 1]! >= 0x80 ? table[i + 1]! - 0x100 : table[i + 1]!
    let line: number
    if (lineDelta === NO_LINE_3_10) line = NONE
    else {
      computedLine += lineDelta
      line = computedLine
    }
    if (start === end) {
      // CPython skips empty pairs, assuming one with code follows.
      if (i + 2 >= table.length) {
        throw new LineTableError('LINETABLE_BAD', 'line table ends with an entry covering no code', i)
      }
      continue
    }
    // 3.10 reports every negative line as None.
    ranges.push({ start, end, line: line < 0 ? undefined : line })
  }
  return ranges
}

// ---------------------------------------------------------------------------------------------
// 3.11+: location table

/** One decoded location-table entry, with CPython's -1 for None. */
interface LocationEntry {
  /** Byte offset of the first code unit covered. */
  start: number
  /** Byte offset just past the code units covered. */
  end: number
  line: number
  endLine: number
  col: number
  endCol: number
}

/**
 * Reads a location table entry by entry, checking every byte it touches. The fields describe the
 * entry read by the last {@link next} call (CPython's -1 for None); reading them in place, rather
 * than as one object per entry, keeps `dis`-style line scans free of allocations.
 */
class LocationCursor implements LocationEntry {
  /** Offset in the table of the next byte to read. */
  private pos = 0
  /** Byte offset in the table where the current entry starts. */
  private entryAt = 0
  /** The running line number entries are relative to. */
  private computedLine: number
  start = 0
  end = 0
  line = NONE
  endLine = NONE
  col = NONE
  endCol = NONE

  constructor(
    private readonly table: Uint8Array,
    firstLineNo: number,
  ) {
    this.computedLine = firstLineNo
  }

  /** Decodes the next entry into the fields; false at the end of the table. */
  next(): boolean {
    const table = this.table
    if (this.pos >= table.length) return false
    const entryAt = this.pos
    this.entryAt = entryAt
    const head = table[entryAt]!
    if (!(head & EntryBits.StartFlag)) {
      throw new LineTableError(
        'LINETABLE_BAD',
        `location table byte ${entryAt} (0x${head.toString(16).padStart(2, '0')}) should start an entry but has bit 7 clear`,
        entryAt,
      )
    }
    this.pos = entryAt + 1
    const code = ((head >> EntryBits.CodeShift) & EntryBits.CodeMask) as LocationCode
    this.start = this.end
    this.end = this.start + ((head & EntryBits.LengthMask) + 1) * CODE_UNIT_BYTES
    switch (code) {
      case LocationCode.None:
        this.line = this.endLine = this.col = this.endCol = NONE
        break
      case LocationCode.Long:
        this.computedLine += this.svarint()
        this.line = this.computedLine
        this.endLine = this.line + this.varint()
        this.col = this.varint() - 1
        this.endCol = this.varint() - 1
        break
      case LocationCode.NoColumns:
        this.computedLine += this.svarint()
        this.line = this.endLine = this.computedLine
        this.col = this.endCol = NONE
        break
      case LocationCode.OneLine0:
      case LocationCode.OneLine1:
      case LocationCode.OneLine2:
        this.computedLine += code - LocationCode.OneLine0
        this.line = this.endLine = this.computedLine
        this.col = this.byte()
        this.endCol = this.byte()
        break
      default: {
        // Short forms 0–9.
        const second = this.byte()
        this.line = this.endLine = this.computedLine
        this.col = (code << 3) | (second >> 4)
        this.endCol = this.col + (second & 0x0f)
      }
    }
    return true
  }

  /** The next payload byte of the current entry. */
  private byte(): number {
    const at = this.pos
    if (at >= this.table.length) {
      throw new LineTableError(
        'LINETABLE_TRUNCATED',
        `location table ends inside the entry that starts at byte ${this.entryAt}`,
        at,
      )
    }
    const b = this.table[at]!
    if (b & EntryBits.StartFlag) {
      throw new LineTableError(
        'LINETABLE_BAD',
        `location table entry at byte ${this.entryAt} is cut short by a new entry at byte ${at}`,
        at,
      )
    }
    this.pos = at + 1
    return b
  }

  /** An unsigned varint, low chunk first. */
  private varint(): number {
    const first = this.pos
    let b = this.byte()
    let value = b & VarintBits.ValueMask
    let shift = 0
    while (b & VarintBits.More) {
      shift += VarintBits.Shift
      if (shift > VarintBits.MaxShift) {
        throw new LineTableError('LINETABLE_BAD', `varint at byte ${first} of the location table is too long`, first)
      }
      b = this.byte()
      value += (b & VarintBits.ValueMask) * 2 ** shift
    }
    if (value > 0xffffffff) {
      throw new LineTableError('LINETABLE_BAD', `varint at byte ${first} of the location table exceeds 32 bits`, first)
    }
    return value
  }

  /** A signed varint: magnitude in the high bits, sign in bit 0. */
  private svarint(): number {
    const u = this.varint()
    const magnitude = Math.floor(u / 2)
    return u % 2 === 1 ? -magnitude : magnitude
  }
}

/** Decodes every entry of a 3.11+ location table, as CPython's co_positions() walks it. */
function locationEntries(table: Uint8Array, firstLineNo: number): LocationEntry[] {
  const entries: LocationEntry[] = []
  const c = new LocationCursor(table, firstLineNo)
  while (c.next()) entries.push({ start: c.start, end: c.end, line: c.line, endLine: c.endLine, col: c.col, endCol: c.endCol })
  return entries
}

/**
 * `co_lines()` of 3.11+: one range per entry; from 3.12 on, consecutive entries with the same line
 * (None included) are merged into one range.
 */
function locationRanges(minor: number, table: Uint8Array, firstLineNo: number): LineRange[] {
  const entries = locationEntries(table, firstLineNo)
  // Without merging (3.11), every negative line is None here (co_positions() only turns -1 into None).
  if (!has(minor, 'coLinesMergesEqualLines')) return entries.map((e) => ({ start: e.start, end: e.end, line: coLinesLine(minor, e.line) }))
  const ranges: LineRange[] = []
  let current: { start: number; end: number; line: number } | undefined
  for (const e of entries) {
    if (current !== undefined && current.line === e.line) {
      current.end = e.end
      continue
    }
    if (current !== undefined) ranges.push({ start: current.start, end: current.end, line: fromC(current.line) })
    current = { start: e.start, end: e.end, line: e.line }
  }
  if (current !== undefined) ranges.push({ start: current.start, end: current.end, line: fromC(current.line) })
  return ranges
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Exactly `list(code.co_lines())` of Python 3.`minor`, from the code object's line table
 * (`co_lnotab` for 3.8/3.9, `co_linetable` from 3.10).
 *
 * - 3.8/3.9 have no `co_lines()`: the result is what `dis.findlinestarts` implies — one range per
 *   line start, running to the next start or to `codeByteLength`; every range has a line.
 * - 3.10: one range per non-empty table pair; consecutive ranges may share a line.
 * - 3.11: one range per location-table entry (1–8 code units); consecutive ranges may share a line.
 * - 3.12+: consecutive entries with the same line (or both without one) are merged into one range.
 *
 * Lines below 1 only occur in hand-made tables; they come out as CPython gives them: 3.10 and 3.11
 * turn every negative line into None, 3.12+ only -1 (which they cannot tell from "no line").
 *
 * @param minor Python minor version (3.x), one of src/versions SUPPORTED_MINORS.
 * @param table the raw table bytes.
 * @param firstLineNo `co_firstlineno`.
 * @param codeByteLength `len(co_code)` in bytes (only 3.8/3.9 use it).
 * @throws LineTableError when the table is truncated or malformed.
 * @throws RangeError for an unsupported `minor`.
 */
export function lineRanges(minor: number, table: Uint8Array, firstLineNo: number, codeByteLength: number): LineRange[] {
  checkMinor(minor)
  if (has(minor, 'locationTable')) return locationRanges(minor, table, firstLineNo)
  if (has(minor, 'linetable310')) return linetable310Ranges(table, firstLineNo)
  const starts = lnotabStarts(table, firstLineNo, codeByteLength)
  const ranges: LineRange[] = []
  starts.forEach(([start, line], i) => {
    const end = starts[i + 1]?.[0] ?? codeByteLength
    if (start < end) ranges.push({ start, end, line })
  })
  return ranges
}

/**
 * Exactly `list(code.co_positions())` of Python 3.`minor` (3.11+): one {@link Position} per code
 * unit that the location table covers — which is normally all of `co_code`, but a table that
 * stops early gives fewer, as in CPython.
 *
 * CPython 3.8–3.10 have no `co_positions()`; for them this gives one line-only position per code
 * unit covered by {@link lineRanges} (`line` = `endLine`, no columns; `{}` where there is no line).
 *
 * @param minor Python minor version (3.x), one of src/versions SUPPORTED_MINORS.
 * @param table the raw table bytes (`co_lnotab` for 3.8/3.9, `co_linetable` from 3.10).
 * @param firstLineNo `co_firstlineno`.
 * @param codeByteLength `len(co_code)` in bytes (only 3.8/3.9 use it).
 * @param maxUnits at most this many positions: the disassembler passes the code's length in code
 *   units, as a table whose ranges run past the code (a hostile one claims 127 code units per
 *   byte of table, megabytes) adds nothing it uses. Default: all, as CPython yields them.
 * @throws LineTableError when the table is truncated or malformed.
 * @throws RangeError for an unsupported `minor`.
 */
export function positions(minor: number, table: Uint8Array, firstLineNo: number, codeByteLength: number, maxUnits = Infinity): Position[] {
  checkMinor(minor)
  const out: Position[] = []
  if (!has(minor, 'locationTable')) {
    for (const { start, end, line } of lineRanges(minor, table, firstLineNo, codeByteLength)) {
      for (let offset = start; offset < end && out.length < maxUnits; offset += CODE_UNIT_BYTES) {
        out.push(line === undefined ? {} : { line, endLine: line })
      }
      if (out.length >= maxUnits) break
    }
    return out
  }
  for (const e of locationEntries(table, firstLineNo)) {
    const p: Position = {}
    const line = fromC(e.line)
    const endLine = fromC(e.endLine)
    const col = fromC(e.col)
    const endCol = fromC(e.endCol)
    if (line !== undefined) p.line = line
    if (endLine !== undefined) p.endLine = endLine
    if (col !== undefined) p.col = col
    if (endCol !== undefined) p.endCol = endCol
    for (let offset = e.start; offset < e.end && out.length < maxUnits; offset += CODE_UNIT_BYTES) out.push({ ...p })
    if (out.length >= maxUnits) break
  }
  return out
}

/**
 * Exactly `list(dis.findlinestarts(code))` of Python 3.`minor`, in order: pairs of (byte offset,
 * line). Offsets strictly increase, so `new Map(lineStarts(…))` is a faithful lookup table.
 *
 * - 3.8/3.9 walk `co_lnotab` and stop at the end of the code; lines are never undefined.
 * - 3.10–3.12 report each range of `co_lines()` whose line is not None and differs from the last
 *   line reported.
 * - 3.13+ report each range of `co_lines()` whose line differs from the previous range's, None
 *   included (as undefined). (dis compares with `is not`; since 3.12 `co_lines()` never yields
 *   two consecutive ranges with equal lines, so this is the same as a value comparison.)
 *
 * @throws LineTableError when the table is truncated or malformed.
 * @throws RangeError for an unsupported `minor`.
 */
export function lineStarts(minor: number, table: Uint8Array, firstLineNo: number, codeByteLength: number): LineStart[] {
  const starts: LineStart[] = []
  visitLineStarts(minor, table, firstLineNo, codeByteLength, (byteOffset, line) => {
    starts.push([byteOffset, line])
  })
  return starts
}

/**
 * Calls `visit(byteOffset, line)` for each pair {@link lineStarts} returns, in order, without
 * building the list or the `co_lines()` ranges behind it (the dis formatter's hot path). A broken
 * table throws when the scan reaches the problem, after the pairs before it were visited.
 *
 * @throws LineTableError when the table is truncated or malformed.
 * @throws RangeError for an unsupported `minor`.
 */
export function visitLineStarts(
  minor: number,
  table: Uint8Array,
  firstLineNo: number,
  codeByteLength: number,
  visit: (byteOffset: number, line: number | undefined) => void,
): void {
  checkMinor(minor)
  if (has(minor, 'lnotab')) {
    for (const [offset, line] of lnotabStarts(table, firstLineNo, codeByteLength)) visit(offset, line)
    return
  }
  if (has(minor, 'linetable310')) {
    let lastLine: number | undefined
    for (const { start, line } of linetable310Ranges(table, firstLineNo)) {
      if (line !== undefined && line !== lastLine) {
        lastLine = line
        visit(start, line)
      }
    }
    return
  }
  // 3.11+: entry by entry. Merging entries with equal lines into one co_lines() range (3.12+)
  // does not change which offsets start a line: every entry after the first of a merged run
  // repeats the line just seen, and both rules below skip a repeated line.
  const visited = fastLocationStarts(minor, table, firstLineNo, visit)
  if (visited < 0) return
  // The fast scan met something it does not check: the checked reader goes over the table again
  // and reports what follows the `visited` starts already reported (or throws).
  let skip = visited
  checkedLocationStarts(minor, table, firstLineNo, (byteOffset, line) => {
    if (skip > 0) skip--
    else visit(byteOffset, line)
  })
}

/**
 * The line starts of a 3.11+ location table as {@link visitLineStarts} reports them, read entry by
 * entry with a {@link LocationCursor}, which checks every byte.
 */
function checkedLocationStarts(
  minor: number,
  table: Uint8Array,
  firstLineNo: number,
  visit: (byteOffset: number, line: number | undefined) => void,
): void {
  const c = new LocationCursor(table, firstLineNo)
  if (!has(minor, 'lineStartsIncludeNone')) {
    const negativeNone = has(minor, 'negativeLinesAreNone')
    let lastLine: number | undefined
    while (c.next()) {
      const line = coLinesLineOf(negativeNone, c.line)
      if (line !== undefined && line !== lastLine) {
        lastLine = line
        visit(c.start, line)
      }
    }
    return
  }
  let previous: number | undefined | null = null // null: nothing reported yet
  while (c.next()) {
    const line = fromC(c.line)
    if (line !== previous) {
      previous = line
      visit(c.start, line)
    }
  }
}

/**
 * {@link checkedLocationStarts} for well-formed tables, in one tight loop that decodes only what
 * line starts need: the line deltas, skipping columns. Returns -1 when it got to the end of the
 * table; otherwise it stopped before an entry it leaves to the checked reader (a byte that breaks
 * the format, or a varint of 6 bytes or more, which may exceed 32 bits), and returns how many
 * starts it reported before that.
 */
function fastLocationStarts(
  minor: number,
  table: Uint8Array,
  firstLineNo: number,
  visit: (byteOffset: number, line: number | undefined) => void,
): number {
  const n = table.length
  let visited = 0
  let pos = 0
  let end = 0
  let computedLine = firstLineNo
  // The rules of checkedLocationStarts: 3.11/3.12 skip entries without a line and report a line
  // that differs from the last one reported; 3.13+ report each change, None included (`null`:
  // nothing reported yet).
  let lastLine: number | undefined
  let previous: number | undefined | null = null
  const includeNone = has(minor, 'lineStartsIncludeNone')
  const negativeNone = has(minor, 'negativeLinesAreNone')
  while (pos < n) {
    const head = table[pos]!
    if (!(head & EntryBits.StartFlag)) return visited
    const code = (head >> EntryBits.CodeShift) & EntryBits.CodeMask
    let p = pos + 1
    let line: number
    if (code <= LocationCode.ShortLast) {
      // One payload byte: the columns.
      if (p >= n || table[p]! & EntryBits.StartFlag) return visited
      p++
      line = computedLine
    } else if (code <= LocationCode.OneLine2) {
      // Two payload bytes: the columns.
      if (p + 1 >= n || (table[p]! | table[p + 1]!) & EntryBits.StartFlag) return visited
      p += 2
      computedLine += code - LocationCode.OneLine0
      line = computedLine
    } else if (code === LocationCode.None) {
      line = NONE
    } else {
      // NoColumns or Long: a signed varint line delta, then (Long) three varints to skip.
      let value = 0
      let shift = 0
      let b: number
      do {
        if (p >= n || shift > 4 * VarintBits.Shift) return visited
        b = table[p++]!
        if (b & EntryBits.StartFlag) return visited
        value |= (b & VarintBits.ValueMask) << shift
        shift += VarintBits.Shift
      } while (b & VarintBits.More)
      // Five bytes at most: value < 2**30, so the bit operations are exact.
      computedLine += value & 1 ? -(value >>> 1) : value >>> 1
      line = computedLine
      if (code === LocationCode.Long) {
        for (let v = 0; v < 3; v++) {
          let bytes = 0
          do {
            if (p >= n || bytes === 5) return visited
            b = table[p++]!
            bytes++
            if (b & EntryBits.StartFlag) return visited
          } while (b & VarintBits.More)
        }
      }
    }
    const start = end
    end += ((head & EntryBits.LengthMask) + 1) * CODE_UNIT_BYTES
    pos = p
    if (!includeNone) {
      const l = coLinesLineOf(negativeNone, line)
      if (l !== undefined && l !== lastLine) {
        lastLine = l
        visited++
        visit(start, l)
      }
    } else {
      const l = fromC(line)
      if (l !== previous) {
        previous = l
        visited++
        visit(start, l)
      }
    }
  }
  return -1
}
