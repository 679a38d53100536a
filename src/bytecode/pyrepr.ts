/**
 * Python's `repr()` of the objects marshal can hold, as `dis` prints constants.
 *
 * Pure TypeScript with no platform APIs, so it runs in browsers as well as Node. Every rule here
 * was checked against every supported CPython (see test/pyrepr.test.ts, which compares with the live
 * interpreters). The formats are the same in all these versions except for which characters a
 * str repr escapes: that follows each release's Unicode database, carried here as data so the
 * output doesn't depend on the JS engine's own Unicode version. Like CPython, NaN prints as
 * `nan` whatever its sign bit.
 *
 * Known, accepted differences:
 *
 * - Ints with more than 4300 digits: CPython 3.11+ refuses to repr them (ValueError from
 *   `sys.int_info.str_digits_check_threshold`), so real `dis` fails; we print all the digits.
 * - Sets and frozensets print in marshal order; CPython's order depends on hashing (str hashes
 *   are randomised per process), so only sets of small ints reliably match.
 * - A str holding a high surrogate followed by a low surrogate is two code points in Python but
 *   a single astral character in JS; the object model cannot tell them apart, so we print the
 *   astral character.
 */
import { checkOutput, DEFAULT_MAX_OUTPUT_BYTES } from '../marshal/limits.js'
import type { PyCode, PyObject } from '../marshal/types.js'
import { MAX_MINOR } from '../versions/index.js'
import { FIRST_CLASS_MINOR, NON_PRINTABLE_RUNS } from './printable-data.js'

/** Options for {@link pyRepr}. */
export interface ReprOptions {
  /**
   * The longest repr to build, in characters (see marshal/limits.ts): a longer one throws a
   * LimitError (LIMIT_OUTPUT). Default {@link DEFAULT_MAX_OUTPUT_BYTES}, under V8's longest string.
   */
  maxLength?: number
  /**
   * Reprs already made, by identity, shared by several {@link pyRepr} calls (a JSON document
   * reprs every constant and each of its items). Within one call, containers met more than once
   * (back-references) are made once anyway.
   */
  memo?: Map<PyObject, string>
  /**
   * Python minor version. Only str reprs depend on it (the Unicode version decides which
   * characters are printable); everything else prints the same in every supported version.
   */
  minor: number
  /**
   * How to print a code object's address, e.g. `"0x7f3a12c0"` — a stable fake id. When absent,
   * code objects are numbered in first-seen order within one {@link pyRepr} call
   * (see {@link sequentialCodeAddresses}).
   */
  codeAddress?: (code: PyCode) => string
}

/**
 * Returns an address function for {@link ReprOptions.codeAddress} that gives each distinct code
 * object (by identity) the next fake address in first-seen order: `0x7f0000000000`,
 * `0x7f0000000100`, … — deterministic, shaped like a 64-bit Linux `%p`.
 */
export function sequentialCodeAddresses(): (code: PyCode) => string {
  const seen = new Map<PyCode, string>()
  return (code) => {
    let addr = seen.get(code)
    if (addr === undefined) {
      addr = `0x${(0x7f0000000000 + seen.size * 0x100).toString(16)}`
      seen.set(code, addr)
    }
    return addr
  }
}

/**
 * The repr of the commonest constants, which need no options and no state — None, True, False,
 * Ellipsis and small ints — or undefined for anything else: a shortcut past {@link pyRepr}'s setup.
 */
export function scalarRepr(o: PyObject): string | undefined {
  switch (o.type) {
    case 'none':
      return 'None'
    case 'bool':
      return o.value ? 'True' : 'False'
    case 'ellipsis':
      return 'Ellipsis'
    case 'int':
      return o.value >= 0n && o.value < SMALL_INTS ? smallIntRepr(Number(o.value)) : undefined
    default:
      return undefined
  }
}

/** Python's `repr(o)` for a marshal object; containers repr their elements recursively. */
export function pyRepr(o: PyObject, opts: ReprOptions): string {
  return reprIn({ minor: opts.minor, address: opts.codeAddress ?? sequentialCodeAddresses(), active: undefined, limit: opts.maxLength ?? DEFAULT_MAX_OUTPUT_BYTES, memo: opts.memo, cycles: 0 }, o)
}

/** The state of one {@link pyRepr} call, passed down instead of captured in closures. */
interface ReprContext {
  readonly minor: number
  readonly address: (code: PyCode) => string
  /** {@link ReprOptions.maxLength}. */
  readonly limit: number
  /** {@link ReprOptions.memo}, made at the first container when not given. */
  memo: Map<PyObject, string> | undefined
  /** How many self-references were printed as "(...)": a repr made while one was is not memoized (it depends on its ancestors). */
  cycles: number
  /**
   * Containers being printed, innermost last, to print a self-reference as CPython's reprlib
   * guard does ("[...]"); only hand-crafted marshal data can build such cycles. Made at the first
   * container: most constants are strings, numbers or code objects. (A stack rather than a set:
   * constants nest a few levels at most.)
   */
  active: PyObject[] | undefined
}

function reprIn(cx: ReprContext, x: PyObject): string {
  switch (x.type) {
    case 'none':
      return 'None'
    case 'bool':
      return x.value ? 'True' : 'False'
    case 'stopiteration':
      return "<class 'StopIteration'>"
    case 'ellipsis':
      return 'Ellipsis'
    case 'int':
      // Small ints, the most common, from a table: BigInt's toString() is slow.
      if (x.value >= 0n && x.value < SMALL_INTS) return smallIntRepr(Number(x.value))
      return x.value > MEMO_MIN_INT || x.value < -MEMO_MIN_INT ? bigIntRepr(cx, x) : x.value.toString()
    case 'float':
      return reprFloat(x.value)
    case 'complex':
      return reprComplex(x.real, x.imag)
    case 'bytes':
    case 'str':
      return textRepr(cx, x)
    case 'slice':
      return `slice(${reprIn(cx, x.start)}, ${reprIn(cx, x.stop)}, ${reprIn(cx, x.step)})`
    case 'code':
      return reprCode(x, cx)
    default:
      break
  }
  cx.memo ??= new Map()
  const known = cx.memo.get(x)
  if (known !== undefined) return known
  const cycles = cx.cycles
  const made = containerRepr(cx, x)
  if (cx.cycles === cycles) cx.memo.set(x, made)
  return made
}

/** Strings and bytes at least this long have their repr remembered (a back-reference repeats them). */
const MEMO_MIN_LENGTH = 64

function textRepr(cx: ReprContext, x: Extract<PyObject, { type: 'str' | 'bytes' }>): string {
  const long = x.value.length >= MEMO_MIN_LENGTH
  if (long) {
    const known = cx.memo?.get(x)
    if (known !== undefined) return known
  }
  const made = x.type === 'bytes' ? reprBytes(x.value) : x.utf8 ? reprCodePoints(codePointsOfUtf8(x.utf8), cx.minor) : reprStr(x.value, cx.minor)
  if (long) (cx.memo ??= new Map()).set(x, made)
  return made
}

/** Ints beyond ±this have their repr remembered: a 60,000-digit long takes 100 ms to print, and a back-reference repeats it. */
const MEMO_MIN_INT = 2n ** 64n

function bigIntRepr(cx: ReprContext, x: Extract<PyObject, { type: 'int' }>): string {
  const known = cx.memo?.get(x)
  if (known !== undefined) return known
  const made = x.value.toString()
  ;(cx.memo ??= new Map()).set(x, made)
  return made
}

/** The objects {@link containerRepr} prints. */
type Container = Extract<PyObject, { type: 'tuple' | 'list' | 'dict' | 'frozendict' | 'set' | 'frozenset' }>

function containerRepr(cx: ReprContext, x: Container): string {
  cx.active ??= []
  if (cx.active.includes(x)) {
    cx.cycles++
    return recursiveRepr(x)
  }
  cx.active.push(x)
  try {
    switch (x.type) {
      case 'tuple':
        return x.items.length === 1 ? `(${reprIn(cx, x.items[0]!)},)` : `(${reprItems(cx, x.items)})`
      case 'list':
        return `[${reprItems(cx, x.items)}]`
      case 'dict':
        return `{${reprEntries(cx, x.entries)}}`
      case 'frozendict':
        return x.entries.length === 0 ? 'frozendict()' : `frozendict({${reprEntries(cx, x.entries)}})`
      case 'set':
        return x.items.length === 0 ? 'set()' : `{${reprItems(cx, x.items)}}`
      case 'frozenset':
        return x.items.length === 0 ? 'frozenset()' : `frozenset({${reprItems(cx, x.items)}})`
    }
  } finally {
    cx.active.pop()
  }
}

/** Ints below this have their repr in {@link smallIntReprs}. */
const SMALL_INTS = 1024n
const smallIntReprs: string[] = []

function smallIntRepr(n: number): string {
  if (smallIntReprs.length === 0) for (let i = 0; i < Number(SMALL_INTS); i++) smallIntReprs.push(String(i))
  return smallIntReprs[n]!
}

/** The reprs of `items`, comma-separated. */
function reprItems(cx: ReprContext, items: readonly PyObject[]): string {
  let out = ''
  for (let i = 0; i < items.length; i++) {
    out += i === 0 ? reprIn(cx, items[i]!) : `, ${reprIn(cx, items[i]!)}`
    // Back-references can repeat one long string thousands of times: stop before V8's limit does.
    if (out.length > cx.limit) checkOutput(out.length, cx.limit, 'the repr of a constant')
  }
  return out
}

/** The reprs of dict `entries`, `key: value` comma-separated. */
function reprEntries(cx: ReprContext, entries: readonly (readonly [PyObject, PyObject])[]): string {
  let out = ''
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!
    out += `${i === 0 ? '' : ', '}${reprIn(cx, k)}: ${reprIn(cx, v)}`
    if (out.length > cx.limit) checkOutput(out.length, cx.limit, 'the repr of a constant')
  }
  return out
}

/** What CPython prints for a container that contains itself. */
function recursiveRepr(x: PyObject): string {
  switch (x.type) {
    case 'tuple':
      return '(...)'
    case 'list':
      return '[...]'
    case 'dict':
      return '{...}'
    case 'frozendict':
      return 'frozendict(...)'
    case 'set':
      return 'set(...)'
    case 'frozenset':
      return 'frozenset(...)'
    default:
      return '...'
  }
}

/**
 * `<code object NAME at ADDR, file "FILENAME", line N>` — the same format in every supported version. Name and
 * file name are inserted raw (C `%U`, no escaping); line 0 prints as -1, and a file name that is
 * not a str prints as `???` without quotes. (The dis formatter writes the same text in place, in
 * writeCodeRepr of format/dis.ts.)
 */
function reprCode(code: PyCode, cx: ReprContext): string {
  // A non-str name cannot come from CPython (its %U would crash); show its repr.
  const name = code.name.type === 'str' ? code.name.value : reprIn(cx, code.name)
  const file = code.filename.type === 'str' ? `"${code.filename.value}"` : '???'
  const line = code.firstlineno !== 0 ? code.firstlineno : -1
  return `<code object ${name} at ${cx.address(code)}, file ${file}, line ${line}>`
}

/*
 * Which code points CPython's `str.isprintable()` rejects (they are escaped by repr): Unicode
 * categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than ASCII space. The categories depend on
 * the interpreter's Unicode database (3.8: 12.1 … 3.14: 16.0, 3.15: 17.0), and each release
 * assigns new characters that the earlier ones call unassigned (Cn).
 *
 * We carry the data (generated from every interpreter by scripts/gen-printable.mjs into
 * printable-data.ts) rather than use the JS engine's `/\p{Cn}/u` etc., whose Unicode version
 * depends on the engine (Node 20's ICU is at Unicode 15.0–17.0 depending on the patch release;
 * browsers vary) and would misprint thousands of recently assigned characters.
 */

/** Decoded {@link NON_PRINTABLE_RUNS}: sorted, disjoint [start, end) runs. */
interface RunTable {
  readonly starts: Uint32Array
  readonly ends: Uint32Array
  /** Last Python minor version in which the run is non-printable (255: all). */
  readonly lastMinor: Uint8Array
}

let runTable: RunTable | undefined

function getRunTable(): RunTable {
  if (runTable !== undefined) return runTable
  const entries = NON_PRINTABLE_RUNS.split(' ')
  const starts = new Uint32Array(entries.length)
  const ends = new Uint32Array(entries.length)
  const lastMinor = new Uint8Array(entries.length)
  let end = 0
  entries.forEach((entry, i) => {
    const m = /^([0-9a-z]+)([A-Z])([0-9a-z]+)$/.exec(entry)
    if (m === null) throw new Error(`pyrepr: bad non-printable run ${JSON.stringify(entry)}`)
    const start = end + Number.parseInt(m[1]!, 36)
    end = start + Number.parseInt(m[3]!, 36)
    starts[i] = start
    ends[i] = end
    lastMinor[i] = m[2] === 'N' ? 255 : FIRST_CLASS_MINOR + m[2]!.charCodeAt(0) - 0x41
  })
  runTable = { starts, ends, lastMinor }
  return runTable
}

/**
 * Whether CPython 3.`minor` keeps code point `cp` as is in a str repr (`str.isprintable()`).
 * Minor versions outside the supported ones use the nearest supported one.
 */
export function isPrintable(cp: number, minor: number): boolean {
  if (cp < 0x7f) return cp >= 0x20
  const { starts, ends, lastMinor } = getRunTable()
  // The last run starting at or before cp.
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid]! <= cp) lo = mid
    else hi = mid - 1
  }
  if (starts[lo]! > cp || cp >= ends[lo]!) return true
  return Math.max(minor, FIRST_CLASS_MINOR) > lastMinor[lo]!
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}

/**
 * Python's `repr()` of a str, as CPython 3.`minor` prints it (default 14; the version only
 * matters for which characters are printable). The JS string's surrogate pairs are one code
 * point each; lone surrogates are code points of their own and print as `\udXXX`.
 */
export function reprStr(s: string, minor = MAX_MINOR): string {
  const quote = s.includes("'") && !s.includes('"') ? 0x22 : 0x27
  // Characters that stand for themselves are copied in runs (one slice per run, not one string
  // per character): docstrings make up much of the text dis prints. Pieces go into an array
  // joined at the end: `+=` would make a rope node per escape (35 MB for 600k escapes).
  const parts: string[] = []
  let run = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    let escaped: string
    if (c >= 0x20 && c < 0x7f) {
      if (c !== 0x5c && c !== quote) continue
      escaped = c === 0x5c ? '\\\\' : quote === 0x22 ? '\\"' : "\\'"
    } else if (c < 0x7f) {
      escaped = c === 0x09 ? '\\t' : c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : latin1Escape(c)
    } else {
      let cp = c
      let units = 1
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const lo = s.charCodeAt(i + 1)
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00)
          units = 2
        }
      }
      if (isPrintable(cp, minor)) {
        i += units - 1
        continue
      }
      escaped = cp <= 0xff ? latin1Escape(cp) : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`
      if (i > run) parts.push(s.slice(run, i))
      parts.push(escaped)
      i += units - 1
      run = i + 1
      continue
    }
    if (i > run) parts.push(s.slice(run, i))
    parts.push(escaped)
    run = i + 1
  }
  const q = String.fromCharCode(quote)
  if (run === 0) return q + s + q
  parts.push(s.slice(run))
  return q + parts.join('') + q
}

/** `\\xNN` for each Latin-1 code, made once. */
const latin1Escapes: string[] = []
function latin1Escape(c: number): string {
  return (latin1Escapes[c] ??= `\\x${hex(c, 2)}`)
}

/**
 * The code points of marshal's UTF-8 (surrogatepass) bytes, each 3-byte surrogate sequence a code
 * point of its own — which a JS string cannot tell apart from a real pair. Assumes valid input
 * (the marshal reader checked it).
 */
export function codePointsOfUtf8(b: Uint8Array): number[] {
  const cps: number[] = []
  for (let i = 0; i < b.length; ) {
    const b0 = b[i]!
    const n = b0 < 0x80 ? 1 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4
    let cp = n === 1 ? b0 : n === 2 ? b0 & 0x1f : n === 3 ? b0 & 0x0f : b0 & 0x07
    for (let k = 1; k < n; k++) cp = (cp << 6) | ((b[i + k] ?? 0) & 0x3f)
    cps.push(cp)
    i += n
  }
  return cps
}

/** Python's `repr()` of a str given as code points. */
export function reprCodePoints(cps: readonly number[], minor = MAX_MINOR): string {
  const quote = cps.includes(0x27) && !cps.includes(0x22) ? '"' : "'"
  let out = quote
  for (const cp of cps) {
    if (cp < 0x7f) {
      if (cp === 0x5c || String.fromCharCode(cp) === quote) out += `\\${String.fromCharCode(cp)}`
      else if (cp === 0x09) out += '\\t'
      else if (cp === 0x0a) out += '\\n'
      else if (cp === 0x0d) out += '\\r'
      else if (cp < 0x20) out += `\\x${hex(cp, 2)}`
      else out += String.fromCharCode(cp)
    } else if (isPrintable(cp, minor)) {
      out += String.fromCodePoint(cp)
    } else if (cp <= 0xff) {
      out += `\\x${hex(cp, 2)}`
    } else if (cp <= 0xffff) {
      out += `\\u${hex(cp, 4)}`
    } else {
      out += `\\U${hex(cp, 8)}`
    }
  }
  return out + quote
}

/** Python's `repr()` of a bytes object: `b'…'`. */
export function reprBytes(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? 0x22 : 0x27
  let out = `b${String.fromCharCode(quote)}`
  for (const c of b) {
    if (c === quote || c === 0x5c) out += `\\${String.fromCharCode(c)}`
    else if (c === 0x09) out += '\\t'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c < 0x20 || c >= 0x7f) out += `\\x${hex(c, 2)}`
    else out += String.fromCharCode(c)
  }
  return out + String.fromCharCode(quote)
}

/**
 * Formats a float the way CPython's `PyOS_double_to_string(x, 'r', 0, flags)` does: the
 * shortest digits that round-trip, in positional notation when the decimal exponent is in
 * [-4, 16) and in scientific notation (`1e+16`, `1.5e-07`, at least two exponent digits)
 * otherwise. `addDot0` appends `.0` to integral positional results (float repr does; the parts
 * of a complex repr don't). `sign` prints `+` for non-negative values.
 */
function formatRepr(x: number, addDot0: boolean, sign: boolean): string {
  if (Number.isNaN(x)) return sign ? '+nan' : 'nan'
  const neg = x < 0 || Object.is(x, -0)
  const prefix = neg ? '-' : sign ? '+' : ''
  if (!Number.isFinite(x)) return `${prefix}inf`
  if (x === 0) return `${prefix}${addDot0 ? '0.0' : '0'}`
  // toExponential() without an argument gives the shortest round-trip digits (ECMA-262
  // Number::toString algorithm; V8 and SpiderMonkey pick the closest such digits, as dtoa
  // mode 0 does): "d.ddde±X".
  const e = Math.abs(x).toExponential()
  const ePos = e.indexOf('e')
  const digits = e.slice(0, ePos).replace('.', '')
  const exp10 = Number(e.slice(ePos + 1))
  // The decimal point sits after `decpt` digits: x = 0.DIGITS × 10^decpt.
  const decpt = exp10 + 1
  let body: string
  if (decpt <= -4 || decpt > 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const absExp = Math.abs(exp10)
    body = `${mantissa}e${exp10 < 0 ? '-' : '+'}${absExp < 10 ? '0' : ''}${absExp}`
  } else if (decpt <= 0) {
    body = `0.${'0'.repeat(-decpt)}${digits}`
  } else if (decpt >= digits.length) {
    body = digits + '0'.repeat(decpt - digits.length) + (addDot0 ? '.0' : '')
  } else {
    body = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  }
  return prefix + body
}

/**
 * Python's `repr()` of a float: shortest round-trip digits, e.g. `1.0`, `0.0001`, `1e-05`,
 * `123456789012345.0`, `1e+16`, `1.5e-07`, `inf`, `-inf`, `nan`, `-0.0`.
 */
export function reprFloat(x: number): string {
  return formatRepr(x, true, false)
}

/**
 * Python's `repr()` of a complex: the imaginary part alone when the real part is +0.0 (`1j`,
 * `-0j`, `infj`), otherwise both in parentheses (`(1+2j)`, `(-0-1j)`, `(nan+nanj)`). Parts use
 * float repr digits without the `.0` suffix.
 */
export function reprComplex(re: number, im: number): string {
  if (re === 0 && !Object.is(re, -0)) return `${formatRepr(im, false, false)}j`
  return `(${formatRepr(re, false, false)}${formatRepr(im, false, true)}j)`
}
