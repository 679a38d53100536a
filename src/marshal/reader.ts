import { MarshalError } from './errors.js'
import { LimitError } from './limits.js'
import type { expandedSize } from './size.js'
import { FLAG_REF, type MarshalOptions, type PyCode, type PyObject, TypeCode } from './types.js'
import { decodeAscii, decodeUtf8, decodeWellFormedUtf8, hasSplitSurrogatePair } from './utf8.js'
import { type Feature, has } from '../versions/index.js'

/**
 * Data nested deeper than this is refused (MARSHAL_TOO_DEEP). CPython's MAX_MARSHAL_STACK_DEPTH is
 * 2000, or 1000 on Windows; we use 1000 because the reader recurses and V8's default stack
 * overflows at about 1,450 nested tuples. Real code objects nest a few dozen levels at most.
 */
const MAX_DEPTH = 1000

/** One field of a marshalled code object: an int32 or a nested object. */
type CodeField = readonly [name: keyof PyCode, kind: 'int32' | 'object']

const OLD_HEAD: readonly CodeField[] = [
  ['argcount', 'int32'],
  ['kwonlyargcount', 'int32'],
  ['nlocals', 'int32'],
  ['stacksize', 'int32'],
  ['flags', 'int32'],
]
const OLD_TAIL: readonly CodeField[] = [
  ['bytecode', 'object'],
  ['consts', 'object'],
  ['names', 'object'],
  ['varnames', 'object'],
  ['freevars', 'object'],
  ['cellvars', 'object'],
  ['filename', 'object'],
  ['name', 'object'],
  ['firstlineno', 'int32'],
  ['linetable', 'object'],
]

/**
 * Code-object field order as marshal writes it, by Python version. (Reader.code reads the same
 * three layouts with one object literal each; the marshal round-trip tests keep the two in step.)
 */
export function codeLayout(version: readonly [number, number]): readonly CodeField[] {
  if (!py3Has(version, 'posOnlyArgs')) return [...OLD_HEAD, ...OLD_TAIL]
  if (!py3Has(version, 'localsPlus')) {
    return [['argcount', 'int32'], ['posonlyargcount', 'int32'], ...OLD_HEAD.slice(1), ...OLD_TAIL]
  }
  return [
    ['argcount', 'int32'],
    ['posonlyargcount', 'int32'],
    ['kwonlyargcount', 'int32'],
    ['stacksize', 'int32'],
    ['flags', 'int32'],
    ['bytecode', 'object'],
    ['consts', 'object'],
    ['names', 'object'],
    ['localsplusnames', 'object'],
    ['localspluskinds', 'object'],
    ['filename', 'object'],
    ['name', 'object'],
    ['qualname', 'object'],
    ['firstlineno', 'int32'],
    ['linetable', 'object'],
    ['exceptiontable', 'object'],
  ]
}

/** Options of {@link readMarshal} beyond the format's. */
export interface ReadLimits {
  /**
   * The most the value may expand to as a tree (see {@link ReadResult.expandedSize}); reading
   * stops with a LimitError (LIMIT_OUTPUT) as soon as it is exceeded. Default: no limit.
   */
  readonly maxExpandedSize?: number
}

/** The result of {@link readMarshal}: the object and where it ended. */
export interface ReadResult {
  readonly value: PyObject
  /** Offset just past the object, in bytes from the start of the input. */
  readonly endOffset: number
  /**
   * The size of `value` as a tree, as {@link expandedSize} computes it, counted while reading
   * (which costs next to nothing, where walking the tree afterwards does not).
   */
  readonly expandedSize: number
}

/**
 * Reads one marshalled object from `bytes`, starting at `byteOffset`.
 * Throws {@link MarshalError} (and nothing else) on bad data; every length is checked against the
 * bytes left before anything is allocated.
 */
export function readMarshal(bytes: Uint8Array, options: MarshalOptions & ReadLimits = {}, byteOffset = 0): ReadResult {
  const r = new Reader(bytes, byteOffset, codeFormat(options.pythonVersion ?? [3, 12]), options.maxExpandedSize ?? Infinity)
  const value = r.object(0)
  return { value, endOffset: r.pos, expandedSize: r.expanded }
}

/** The three code-object layouts of {@link codeLayout}, read by dedicated code in {@link Reader}. */
const enum CodeFormat {
  /** Before 3.8. */
  Old,
  /** 3.8–3.10: posonlyargcount added. */
  PosOnly,
  /** 3.11+: localsplus names and kinds, qualname, exception table. */
  LocalsPlus,
}

/** Whether Python `version` (major, minor) has `feature`; Python 2 has none of them. */
function py3Has(version: readonly [number, number], feature: Feature): boolean {
  return version[0] === 3 && has(version[1], feature)
}

function codeFormat(version: readonly [number, number]): CodeFormat {
  if (!py3Has(version, 'posOnlyArgs')) return CodeFormat.Old
  if (!py3Has(version, 'localsPlus')) return CodeFormat.PosOnly
  return CodeFormat.LocalsPlus
}

/** Strings at least this long are decoded with TextDecoder; a loop is faster for shorter ones. */
const DECODER_MIN_LENGTH = 24

/** Placeholder for a reserved reference whose object is still being read. */
const RESERVED = Symbol('reserved')

class Reader {
  pos: number
  private readonly view: DataView
  private readonly refs: (PyObject | typeof RESERVED)[] = []
  /**
   * The expanded size (see {@link ReadResult.expandedSize}) of everything read so far: one per
   * object plus its characters or bytes, and for each back-reference the expanded size of its
   * target.
   */
  expanded = 0
  /**
   * Per reference slot: `expanded` when the object started (while it is being read), then its
   * expanded size (once read).
   */
  private readonly refSizes: number[] = []
  /**
   * A private copy of the input that bytes objects are views of: one copy per read instead of one
   * allocation per bytes object (a .pyc has several per code object), and the caller's buffer
   * stays free to change.
   */
  private owned: Uint8Array | undefined

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly format: CodeFormat,
    private readonly maxExpanded: number,
  ) {
    this.pos = start
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new MarshalError(
        'MARSHAL_TRUNCATED',
        `marshal data ends inside ${what}: needs ${n} more byte(s), ${this.bytes.length - this.pos} left`,
        this.pos,
      )
    }
  }

  private u8(what: string): number {
    this.need(1, what)
    return this.bytes[this.pos++]!
  }

  private i32(what: string): number {
    this.need(4, what)
    const v = this.view.getInt32(this.pos, true)
    this.pos += 4
    return v
  }

  /** A length, checked to be ≥ 0 and to fit in what is left given `minItemSize` bytes per item. */
  private length(what: string, minItemSize: number, short = false): number {
    const at = this.pos
    const n = short ? this.u8(what) : this.i32(what)
    if (n < 0) throw new MarshalError('MARSHAL_BAD_LENGTH', `negative length ${n} for ${what}`, at)
    if (n * minItemSize > this.bytes.length - this.pos) {
      throw new MarshalError(
        'MARSHAL_TRUNCATED',
        `${what} claims ${n} item(s) but only ${this.bytes.length - this.pos} byte(s) are left`,
        at,
      )
    }
    return n
  }

  private slice(n: number): Uint8Array {
    this.owned ??= this.bytes.slice()
    // A view made by the constructor: subarray() looks up a species constructor and costs twice as much.
    const out = new Uint8Array(this.owned.buffer, this.owned.byteOffset + this.pos, n)
    this.pos += n
    return out
  }

  /** `n` bytes as Latin-1 (CPython decodes its ASCII string types so, without checking the high bit). */
  private ascii(n: number): string {
    const bytes = this.bytes
    const start = this.pos
    const end = start + n
    this.pos = end
    if (n >= DECODER_MIN_LENGTH && isAscii(bytes, start, end)) return decodeAscii(new Uint8Array(bytes.buffer, bytes.byteOffset + start, n))
    return latin1(bytes, start, end)
  }

  private textFloat(what: string): [number, string] {
    const n = this.length(what, 1, true)
    const at = this.pos
    const text = this.ascii(n)
    const v = parsePyFloat(text)
    if (v === undefined) throw new MarshalError('MARSHAL_BAD_VALUE', `bad float text ${JSON.stringify(text)}`, at)
    return [v, text]
  }

  private f64(what: string): number {
    this.need(8, what)
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }

  private items(n: number, depth: number): PyObject[] {
    // Sized up front, push() would over-allocate and copy as the array grows; but V8 makes a
    // very large `new Array(n)` a slow dictionary, so huge tuples still grow by push().
    if (n > 4096) {
      const out: PyObject[] = []
      for (let i = 0; i < n; i++) out.push(this.object(depth + 1))
      return out
    }
    const out: PyObject[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.object(depth + 1)
    return out
  }

  /** Fills the reference slot reserved for `v` (if any) and returns `v`. */
  private done<T extends PyObject>(slot: number, v: T): T {
    if (this.expanded > this.maxExpanded) this.overBudget()
    if (slot >= 0) {
      this.refs[slot] = v
      this.refSizes[slot] = this.expanded - this.refSizes[slot]!
    }
    return v
  }

  private overBudget(): never {
    throw new LimitError('LIMIT_OUTPUT', this.expanded, this.maxExpanded, `the marshal data, with every back-reference expanded (at byte ${this.pos}),`)
  }

  object(depth: number): PyObject {
    const at = this.pos
    if (depth > MAX_DEPTH) throw new MarshalError('MARSHAL_TOO_DEEP', `marshal data nested deeper than ${MAX_DEPTH}`, at)
    const byte = this.u8('a type code')
    const code = byte & ~FLAG_REF
    const ref = (byte & FLAG_REF) !== 0
    // The reference index is reserved before any nested object is read: CPython registers
    // containers and code objects before their items (for scalars the order makes no difference).
    // A FLAG_REF on 'r' itself is ignored, as CPython does.
    const slot = ref && code !== TypeCode.Ref ? this.refs.push(RESERVED) - 1 : -1
    if (slot >= 0) this.refSizes[slot] = this.expanded
    if (code !== TypeCode.Ref) this.expanded++
    switch (code) {
      // Without FLAG_REF these are one shared frozen object each: a tuple of n Nones costs n
      // pointers, not n objects (8 bytes, not 56, per input byte).
      case TypeCode.None:
        return ref ? this.done(slot, { type: 'none', code, ref }) : this.done(slot, NONE)
      case TypeCode.True:
        return ref ? this.done(slot, { type: 'bool', value: true, code, ref }) : this.done(slot, TRUE)
      case TypeCode.False:
        return ref ? this.done(slot, { type: 'bool', value: false, code, ref }) : this.done(slot, FALSE)
      case TypeCode.StopIteration:
        return ref ? this.done(slot, { type: 'stopiteration', code, ref }) : this.done(slot, STOP_ITERATION)
      case TypeCode.Ellipsis:
        return ref ? this.done(slot, { type: 'ellipsis', code, ref }) : this.done(slot, ELLIPSIS)
      case TypeCode.Int:
        return this.done(slot, { type: 'int', value: BigInt(this.i32('an int')), code, ref })
      case TypeCode.Bytes: {
        const n = this.length('bytes', 1)
        this.expanded += n
        return this.done(slot, { type: 'bytes', value: this.slice(n), code, ref })
      }
      case TypeCode.Unicode:
      case TypeCode.Interned: {
        const n = this.length('a str', 1)
        // Pure ASCII (common for 't' strings) reads as such; surrogate pairs need non-ASCII bytes.
        if (isAscii(this.bytes, this.pos, this.pos + n)) {
          this.expanded += n
          return this.done(slot, { type: 'str', value: this.ascii(n), code, ref })
        }
        // Well-formed UTF-8 has no surrogates, so none of the split pairs checked for below.
        const wellFormed = decodeWellFormedUtf8(this.bytes, this.pos, this.pos + n)
        if (wellFormed !== undefined) {
          this.pos += n
          this.expanded += wellFormed.length
          return this.done(slot, { type: 'str', value: wellFormed, code, ref })
        }
        return this.unpairedStr(n, code, ref, slot)
      }
      case TypeCode.Ascii:
      case TypeCode.AsciiInterned:
      case TypeCode.ShortAscii:
      case TypeCode.ShortAsciiInterned: {
        const short = code === TypeCode.ShortAscii || code === TypeCode.ShortAsciiInterned
        const n = this.length('a str', 1, short)
        // CPython decodes these as Latin-1 without checking the high bit.
        this.expanded += n
        return this.done(slot, { type: 'str', value: this.ascii(n), code, ref })
      }
      case TypeCode.SmallTuple:
      case TypeCode.Tuple: {
        const n = this.length('a tuple', 1, code === TypeCode.SmallTuple)
        return this.done(slot, { type: 'tuple', items: this.items(n, depth), code, ref })
      }
      case TypeCode.Set:
      case TypeCode.FrozenSet: {
        const n = this.length('a set', 1)
        const items = this.items(n, depth)
        return this.done(slot, { type: code === TypeCode.Set ? 'set' : 'frozenset', items, code, ref })
      }
      case TypeCode.Code:
        return this.done(slot, this.code(depth, code, ref))
      case TypeCode.Ref: {
        const n = this.i32('a reference index')
        const target = this.refs[n]
        if (target === undefined || target === RESERVED) {
          throw new MarshalError(
            'MARSHAL_BAD_REF',
            `reference ${n} points ${target === RESERVED ? 'to an object still being read' : `past the ${this.refs.length} registered object(s)`}`,
            at,
          )
        }
        this.expanded += this.refSizes[n]!
        if (this.expanded > this.maxExpanded) this.overBudget()
        return target
      }
      default:
        // Types rarer in code objects, read by a method of their own: the first of them met after
        // this method was optimized costs a deoptimization of that smaller method, not of this one.
        return this.rareObject(depth, at, byte, code, ref, slot)
    }
  }

  /** The types {@link object} leaves to this method (see its `default`); `at` is where the object starts. */
  private rareObject(depth: number, at: number, byte: number, code: number, ref: boolean, slot: number): PyObject {
    switch (code) {
      case TypeCode.Int64: {
        this.need(8, 'an int64')
        const v = this.view.getBigInt64(this.pos, true)
        this.pos += 8
        return this.done(slot, { type: 'int', value: v, code, ref })
      }
      case TypeCode.Long: {
        const nAt = this.pos
        const n = this.i32('a long')
        const count = Math.abs(n)
        if (count * 2 > this.bytes.length - this.pos) {
          throw new MarshalError('MARSHAL_TRUNCATED', `long claims ${count} digit(s) but the data ends first`, nAt)
        }
        for (let i = 0; i < count; i++) {
          const d = this.view.getUint16(this.pos + 2 * i, true)
          if (d >= 1 << 15) {
            throw new MarshalError('MARSHAL_BAD_VALUE', `long digit ${d} out of range (digits are 15-bit)`, this.pos + 2 * i)
          }
        }
        const v = longValue(this.view, this.pos, count)
        if (count > 0 && this.view.getUint16(this.pos + 2 * (count - 1), true) === 0) {
          throw new MarshalError('MARSHAL_BAD_VALUE', 'long has a zero top digit (not normalized)', this.pos)
        }
        this.pos += 2 * count
        return this.done(slot, { type: 'int', value: n < 0 ? -v : v, code, ref })
      }
      case TypeCode.Float: {
        const [value, text] = this.textFloat('a float')
        return this.done(slot, { type: 'float', value, text, code, ref })
      }
      case TypeCode.BinaryFloat:
        return this.done(slot, { type: 'float', value: this.f64('a float'), code, ref })
      case TypeCode.Complex: {
        const [real, rt] = this.textFloat('a complex')
        const [imag, it] = this.textFloat('a complex')
        return this.done(slot, { type: 'complex', real, imag, text: [rt, it], code, ref })
      }
      case TypeCode.BinaryComplex: {
        const real = this.f64('a complex')
        const imag = this.f64('a complex')
        return this.done(slot, { type: 'complex', real, imag, code, ref })
      }
      case TypeCode.List: {
        const n = this.length('a list', 1)
        return this.done(slot, { type: 'list', items: this.items(n, depth), code, ref })
      }
      case TypeCode.Dict:
      case TypeCode.FrozenDict: {
        const entries: [PyObject, PyObject][] = []
        for (;;) {
          if (this.pos >= this.bytes.length) {
            throw new MarshalError('MARSHAL_TRUNCATED', `marshal data ends inside a ${code === TypeCode.Dict ? 'dict' : 'frozendict'} (no NULL terminator)`, this.pos)
          }
          if ((this.bytes[this.pos]! & ~FLAG_REF) === TypeCode.Null) {
            this.pos++
            break
          }
          const k = this.object(depth + 1)
          const v = this.object(depth + 1)
          entries.push([k, v])
        }
        return this.done(slot, { type: code === TypeCode.Dict ? 'dict' : 'frozendict', entries, code, ref })
      }
      case TypeCode.Slice: {
        const start = this.object(depth + 1)
        const stop = this.object(depth + 1)
        const step = this.object(depth + 1)
        return this.done(slot, { type: 'slice', start, stop, step, code, ref })
      }
      default:
        throw new MarshalError(
          'MARSHAL_BAD_TYPE',
          `unknown marshal type code 0x${byte.toString(16).padStart(2, '0')}${code >= 0x20 && code < 0x7f ? ` ('${String.fromCharCode(code)}')` : ''}`,
          at,
        )
    }
  }

  /** A str whose UTF-8 is not well formed: split surrogate pairs (kept with their bytes) or an error. */
  private unpairedStr(n: number, code: number, ref: boolean, slot: number): PyObject {
    const value = decodeUtf8(this.bytes, this.pos, this.pos + n)
    if (value === undefined) throw new MarshalError('MARSHAL_BAD_VALUE', 'str is not valid UTF-8', this.pos)
    const split = hasSplitSurrogatePair(this.bytes, this.pos, this.pos + n)
    this.expanded += value.length
    if (split) return this.done(slot, { type: 'str', value, utf8: this.slice(n), code, ref })
    this.pos += n
    return this.done(slot, { type: 'str', value, code, ref })
  }

  /**
   * The fields of a code object in the order of {@link codeLayout}, one object literal per layout:
   * every code object of a file then has the same hidden class, which keeps property reads on
   * them fast everywhere downstream.
   */
  private code(depth: number, code: number, ref: boolean): PyCode {
    const d = depth + 1
    switch (this.format) {
      case CodeFormat.LocalsPlus:
        return {
          argcount: this.i32('code field argcount'),
          posonlyargcount: this.i32('code field posonlyargcount'),
          kwonlyargcount: this.i32('code field kwonlyargcount'),
          stacksize: this.i32('code field stacksize'),
          flags: this.i32('code field flags'),
          bytecode: this.object(d),
          consts: this.object(d),
          names: this.object(d),
          localsplusnames: this.object(d),
          localspluskinds: this.object(d),
          filename: this.object(d),
          name: this.object(d),
          qualname: this.object(d),
          firstlineno: this.i32('code field firstlineno'),
          linetable: this.object(d),
          exceptiontable: this.object(d),
          type: 'code',
          code,
          ref,
        }
      case CodeFormat.PosOnly:
        return {
          argcount: this.i32('code field argcount'),
          posonlyargcount: this.i32('code field posonlyargcount'),
          kwonlyargcount: this.i32('code field kwonlyargcount'),
          nlocals: this.i32('code field nlocals'),
          stacksize: this.i32('code field stacksize'),
          flags: this.i32('code field flags'),
          bytecode: this.object(d),
          consts: this.object(d),
          names: this.object(d),
          varnames: this.object(d),
          freevars: this.object(d),
          cellvars: this.object(d),
          filename: this.object(d),
          name: this.object(d),
          firstlineno: this.i32('code field firstlineno'),
          linetable: this.object(d),
          type: 'code',
          code,
          ref,
        }
      case CodeFormat.Old:
        return {
          argcount: this.i32('code field argcount'),
          kwonlyargcount: this.i32('code field kwonlyargcount'),
          nlocals: this.i32('code field nlocals'),
          stacksize: this.i32('code field stacksize'),
          flags: this.i32('code field flags'),
          bytecode: this.object(d),
          consts: this.object(d),
          names: this.object(d),
          varnames: this.object(d),
          freevars: this.object(d),
          cellvars: this.object(d),
          filename: this.object(d),
          name: this.object(d),
          firstlineno: this.i32('code field firstlineno'),
          linetable: this.object(d),
          type: 'code',
          code,
          ref,
        }
    }
  }
}

const NONE: PyObject = Object.freeze({ type: 'none', code: TypeCode.None, ref: false })
const TRUE: PyObject = Object.freeze({ type: 'bool', value: true, code: TypeCode.True, ref: false })
const FALSE: PyObject = Object.freeze({ type: 'bool', value: false, code: TypeCode.False, ref: false })
const STOP_ITERATION: PyObject = Object.freeze({ type: 'stopiteration', code: TypeCode.StopIteration, ref: false })
const ELLIPSIS: PyObject = Object.freeze({ type: 'ellipsis', code: TypeCode.Ellipsis, ref: false })

/** Longs of up to this many 15-bit digits are built by shifts; longer ones through hex text. */
const SHIFT_MAX_DIGITS = 8

/**
 * The magnitude of a marshal long: `count` 15-bit digits, least significant first, at `pos`.
 * Short ones (nearly all) by shifting; long ones through hex text in linear time, since shifting
 * digit by digit copies the growing BigInt each time (quadratic: 88k digits took 7 s).
 */
function longValue(view: DataView, pos: number, count: number): bigint {
  if (count <= SHIFT_MAX_DIGITS) {
    let v = 0n
    for (let i = 0; i < count; i++) v |= BigInt(view.getUint16(pos + 2 * i, true)) << BigInt(15 * i)
    return v
  }
  // Nibbles, least significant first, then reversed into hex text.
  const nibbles = new Uint8Array(Math.ceil((15 * count) / 4))
  let n = 0
  let acc = 0
  let bits = 0
  for (let i = 0; i < count; i++) {
    acc |= view.getUint16(pos + 2 * i, true) << bits
    bits += 15
    while (bits >= 4) {
      nibbles[n++] = acc & 15
      acc >>>= 4
      bits -= 4
    }
  }
  if (bits > 0) nibbles[n++] = acc & 15
  const chunks: string[] = []
  const CHUNK = 4096
  for (let end = n; end > 0; end -= CHUNK) {
    const start = Math.max(0, end - CHUNK)
    let text = ''
    for (let i = end - 1; i >= start; i--) text += HEX[nibbles[i]!]
    chunks.push(text)
  }
  return BigInt(`0x${chunks.join('')}`)
}
const HEX = '0123456789abcdef'

/**
 * `bytes[start, end)` as Latin-1: short strings four characters at a time (`s +=` allocates a
 * string per step, so this makes a quarter of the garbage of a character-by-character loop),
 * longer ones by one String.fromCharCode call.
 */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start
  if (n >= CONS_MIN_LENGTH && n <= CHAR_CODES_MAX) {
    // Long enough for `+=` to make a rope that is flattened later: one call makes a flat string.
    const codes = charCodes
    codes.length = n
    for (let i = 0; i < n; i++) codes[i] = bytes[start + i]!
    return String.fromCharCode.apply(null, codes)
  }
  let s = ''
  let i = start
  for (; i + 3 < end; i += 4) s += String.fromCharCode(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!)
  for (; i < end; i++) s += String.fromCharCode(bytes[i]!)
  return s
}

/** Strings this long made by concatenation are ropes (V8's ConsString), which cost a copy when first read character by character. */
const CONS_MIN_LENGTH = 13
/** The most characters {@link latin1} passes to one String.fromCharCode call, from {@link charCodes}. */
const CHAR_CODES_MAX = 256
const charCodes: number[] = []

/** Whether `bytes[start, end)` are all below 0x80. */
function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false
  return true
}

/** Parses float text as marshal format 0 wrote it (repr(float), including inf and nan). */
export function parsePyFloat(text: string): number | undefined {
  const t = text.trim().toLowerCase()
  if (/^[+-]?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity
  if (/^[+-]?nan$/.test(t)) return Number.NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined
  return Number(t)
}
