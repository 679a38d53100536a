/**
 * Python's `repr()` of the objects marshal can hold, as `dis` prints constants.
 *
 * Pure TypeScript with no platform APIs, so it runs in browsers as well as Node. Every rule here
 * was checked against CPython 3.8–3.14 (see test/pyrepr.test.ts, which compares with the live
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
import type { PyCode, PyObject } from '../marshal/types.js'

/** Options for {@link pyRepr}. */
export interface ReprOptions {
  /**
   * Python minor version (8..14). Only str reprs depend on it (the Unicode version decides
   * which characters are printable); everything else prints the same in 3.8–3.14.
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
  return reprIn({ minor: opts.minor, address: opts.codeAddress ?? sequentialCodeAddresses(), active: undefined }, o)
}

/** The state of one {@link pyRepr} call, passed down instead of captured in closures. */
interface ReprContext {
  readonly minor: number
  readonly address: (code: PyCode) => string
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
      return x.value >= 0n && x.value < SMALL_INTS ? smallIntRepr(Number(x.value)) : x.value.toString()
    case 'float':
      return reprFloat(x.value)
    case 'complex':
      return reprComplex(x.real, x.imag)
    case 'bytes':
      return reprBytes(x.value)
    case 'str':
      return x.utf8 ? reprCodePoints(codePointsOfUtf8(x.utf8), cx.minor) : reprStr(x.value, cx.minor)
    case 'slice':
      return `slice(${reprIn(cx, x.start)}, ${reprIn(cx, x.stop)}, ${reprIn(cx, x.step)})`
    case 'code':
      return reprCode(x, cx)
    default:
      break
  }
  cx.active ??= []
  if (cx.active.includes(x)) return recursiveRepr(x)
  cx.active.push(x)
  try {
    switch (x.type) {
      case 'tuple':
        return x.items.length === 1 ? `(${reprIn(cx, x.items[0]!)},)` : `(${reprItems(cx, x.items)})`
      case 'list':
        return `[${reprItems(cx, x.items)}]`
      case 'dict':
        return `{${x.entries.map(([k, v]) => `${reprIn(cx, k)}: ${reprIn(cx, v)}`).join(', ')}}`
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
  for (let i = 0; i < items.length; i++) out += i === 0 ? reprIn(cx, items[i]!) : `, ${reprIn(cx, items[i]!)}`
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
    case 'set':
      return 'set(...)'
    case 'frozenset':
      return 'frozenset(...)'
    default:
      return '...'
  }
}

/**
 * `<code object NAME at ADDR, file "FILENAME", line N>` — the same format in 3.8–3.14. Name and
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

/**
 * Which code points CPython's `str.isprintable()` rejects (they are escaped by repr): Unicode
 * categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than ASCII space. The categories depend on
 * the interpreter's Unicode database (3.8: 12.1, 3.9/3.10: 13.0, 3.11: 14.0, 3.12: 15.0,
 * 3.13: 15.1, 3.14: 16.0), and each release assigns new characters that the earlier ones call
 * unassigned (Cn). From 3.8 to 3.14 the non-printable set only ever shrinks.
 *
 * We carry the data rather than use the JS engine's `/\p{Cn}/u` etc., whose Unicode version
 * depends on the engine (Node 20's ICU is at Unicode 15.0–17.0 depending on the patch release;
 * browsers vary) and would misprint thousands of recently assigned characters.
 *
 * Encoding: space-separated runs of non-printable code points, each `GAP CLASS LENGTH` with GAP
 * (printable code points since the previous run's end) and LENGTH in base 36. CLASS says up to
 * which Python the run is non-printable: `N` all versions; `A`–`F` only up to 3.8–3.13 (the
 * characters were assigned in the next release's Unicode version).
 *
 * Derived from `not chr(cp).isprintable()` over all code points on CPython 3.8.18, 3.9.18,
 * 3.10.13, 3.11.7, 3.12.1, 3.13.0 and 3.14.2; test/pyrepr.test.ts re-checks it against every
 * interpreter it can find.
 */
const NON_PRINTABLE_RUNS = [
  '0Nw 2nNy cN1 juN2 6N4 7N1 1N1 kN1 b1N1 12N2 1eN2 3N1 1jN8 rN4 6Nh mN1 0C1 5bN1 1cN2 1nN2',
  '2tNe 1nN2 1dN2 fN1 sN2 1N1 bN5 0Cv 0N8 0F1 0C8 lC1 8Aa 0Cb fN1 4hN1 8N2 2N2 mN1 7N1 1N3 4N2',
  '9N2 2N2 4N8 1N4 2N1 5N2 pN2 3N1 6N4 2N2 mN1 7N1 2N1 2N1 2N2 1N1 5N4 2N2 3N3 1N7 4N1 1N7 hNa',
  '3N1 9N1 3N1 mN1 7N1 2N1 5N2 aN1 3N1 3N2 1Nf 4N2 cN7 7N1 3N1 8N2 2N2 mN1 7N1 2N1 5N2 9N2 2N2',
  '3N7 0A1 2N4 2N1 5N2 iNa 2N1 6N3 3N1 4N3 2N1 1N1 2N3 2N3 3N3 cN4 5N3 3N1 4N2 1N6 1Ne lN5 dN1',
  '3N1 nN1 gN2 0C1 8N1 3N1 4N7 2N1 3N2 0C1 0N2 4N2 aN7 mN1 3N1 nN1 aN1 5N2 9N1 3N1 4N7 2N6 0C1',
  '1N1 4N2 aN1 2D1 0Nc 4A1 8N1 3N1 1fN1 3N1 6N4 gN2 qN1 0A1 2N1 iN3 oN1 9N1 1N2 7N3 1N4 6N1 1N1',
  '8N6 aN2 3Nc 1mN4 tN11 2N1 1N1 5N1 oN1 1N1 nN2 5N1 1N1 6D1 0N1 aN2 4Nw 20N1 10N4 13N1 10N1',
  'fN1 dN11 5iN1 1N5 1N2 ahN1 4N2 7N1 1N1 4N2 15N1 4N2 xN1 4N2 7N1 1N1 4N2 fN1 1lN1 4N2 1vN2',
  'wN3 qN6 2eN2 6N2 hsN1 sN3 2hN7 dC1 7C1 0N9 0C1 nN9 kNc dN1 3N1 2Nc 2mN2 aN6 aN6 eN1 0C1 aN6',
  '2hN7 17N5 1yNa vN1 cN4 cN4 1N3 16N2 5Nb 18N4 qN6 bN3 1qN2 1tN1 tN2 bN6 aN6 eN2 fA2 0Ce 0N1d',
  '24C1 0N1 0F2 19C2 0F1 38N8 1oN3 fN3 1oF2 0N5 17N2 bN8 17N5 6yC1 7vN2 6N2 12N2 6N2 8N1 1N1',
  '1N1 1N1 vN2 1hN1 fN1 eN2 6N1 jN2 3N1 9Nh oN8 1bNh 2N2 rN1 dN3 wC1 0Nf xNf 3wN4 ifF3 0Nm bNl',
  '1ecN2 wN1 0A1 47C1 1bC1 44N5 19N1 1N5 1N2 1kN7 2Ne oN9 7N1 7N1 7N1 7N1 7N1 7N1 7N1 7N1 34A3',
  '0Cb 0Ny qN1 2hNc 5yNq cE4 0N1 1rN1 2eN2 2vN5 17N1 2mN1 17A5 10F2 0N9 0E1 1bN1 5g6Aa g8gAd',
  '0C3 wdN3 1jN9 9oNk 54N8 5cC2 5A4 0F3 0N2 0C2 0N1 0C1 0N1 0C5 0F3 0Nl 0C3 0A2 1hA1 0N3 aN6',
  '1kN8 1yN8 cN6 38Nb uN3 26N1 bN4 xN1 1jN9 eN2 aN2 2vNo sNa 6N2 6N2 6N9 7N1 7N1 1kA4 0N4 3iN2',
  'aN6 8mcNc nN4 1dN6is a6N2 2yN12 7Nc 5N5 qN1 5N1 1N1 2N1 2N1 3gC1 0Ng a5Cg 1sN2 1iN7 0C1 0Nw',
  'eC2 qN6 1fN1 jN1 4N4 5N1 3rN4 5aN3 6N2 6N2 6N2 3N3 7N1 7Nd 2N2 cN1 qN1 jN1 2N1 fN2 eNy 3fN5',
  '3N4 19N3 2gN1 cA1 0N3 1N1b 1aN3m tN3 1dNf sN4 10N9 uN5 17N5 uN1 11N4 eN16 4eN2 aN6 10N4 10N4',
  '14N8 1gNb 1Cb 0N1 0Cf 0N1 0C7 0N1 0C2 0N1 0Cb 0N1 0Cf 0N1 0C7 0N1 0C2 0N3 0F1g 0Nc 8nN9 mNa',
  '8No 0C6 0N1 0C16 0N1 0C9 0N1x 6N2 1N1 18N1 2N3 1N2 nN1 20N8 9N1c jN1 2N5 xN3 rN5 1N1s 1kN4',
  'kN2 1eN1 2N5 8N1 3N1 tN2 3N4 aN7 9N7 1sNw 13N4 cN9 1iN3 tN2 rN5 qN7 4Nc 7N28 21N1j 1fNd 1fN7',
  '1aN8 aN6 0F12 0N3 0Ft 0N8 0F2 0N5s vN1 0A16 0N1 0A3 0N2 0A2 0Ng 0F3 0N1j 0F1 0D3 14N8 16Nm',
  '0Cq 0N12 0As 0Nk nN9 26N4 uC6 0N9 1qN1 4C1 0Nd pN7 aN6 1hN1 hA1 0N8 13N9 26A2 gN1 kNb iN1',
  '18D3 0N1q 7N1 1N1 4N1 fN1 bN6 1nN5 aN6 4N1 8N2 2N2 mN1 7N1 2N1 5N1 aN2 2N2 3N2 1N6 1N5 7N2',
  '7N3 5Nb 0Fa 0N1 0F1 0N2 0F1 0N1 0F12 0N1 0Fa 0N1 0F1 0N2 0F1 0N1 0F4 0N1 0Fa 0N1 0F2 0N8 0F2',
  '0Nt 2iA1 1N1 3A2 0Nu 20N8 aN4m 1iN2 12Ny 1xNb aN6 dNj 1lC1 0N6 aN6 0Fk 0Ns rN2 fN4 gC7 0N55',
  '1oN2s 2bNc 1A7 0N2 0A1 0N2 0A8 0N1 0A2 0N1 0Au 0N1 0A2 0N2 0Ac 0N9 0Aa 0N1y 8N2 1aN2 bNr',
  '20N8 2bNd 0Cg 1lN7 0Da 0N52 0Fy 0Ne 0Fa 0N6 9N1 19N1 eNa tN3 wN2 mN1 eN21 7N1 2N1 18N3 1N1',
  '2N1 9N8 aN6 6N1 2N1 11N1 2N1 6N7 aN8m pN7 0Dh 0N1 0D15 0N3 0Ds 0F1 0N2d 0A1 0Nf 1eNd pnN2u',
  '33N1 5Nb 5gN218 0C2r 0Nd trD1 0Ng 0Dm 0Na 0F32z 0N5 g7N5a1 0F1m 0N1c6 ftN7 vN1 aN4 2C27 0N1',
  '0Ca 0N6 uN2 6Na 1yNa aN1 7N1 lN5 jNc0 0F1m 0N5i 2jN2t 23N4 1lN7 hN1s 4A1 0Nb 0A2 0Ne 4qgN8',
  'kzAdf 0N15 0F1 0A9 0N6w7 0C4 0N1 0C7 0N1 0C2 0N1 7zC4 0Nf 0D1 0Nt 3N2 0D1 0Ne 4N8 b0N1s4',
  '2zN5 dN3 9N7 aN2 4N31c 0F6y 0N6 0Fc4 0N24 0C1a 0N2 0Cn 0N9 0C38 0N1o 6uNa 13N2 22N8 32C2 0Nl',
  '1yN3e 0Dk 0Nc kNc 2fN9 pN3r 2dN1 1zN1 2N2 1N2 2N2 4N1 cN1 1N1 7N1 1tN1 4N2 8N1 7N1 sN1 4N1',
  '5N1 1N3 7N1 9gN2 84N2 jiNf 5N1 fNuo 0Cv 0N6 0D6 0N5x 7N1 hN2 7N1 2N1 5N5 0D1q 0Nx 0D1 0N34',
  '19N3 eN2 aN4 2N8w 0Cv 0Nh 1mN5 1Ncw 0D16 0N5y 0F17 0N4 0F1 0Ndc 0C7 0N1 0C4 0N1 0C2 0N1 0Cf',
  '0N1 5hN2 gN15 24N4 aN4 2Nlt 1wN24 1pN5e 4N1 rN1 2N1 1N2 1N1 aN1 4N1 1N1 1N6 1N4 1N1 1N1 1N1',
  '3N1 2N1 1N2 1N1 1N1 1N1 1N1 1N1 2N1 1N2 4N1 7N1 4N1 4N1 1N1 aN1 hN5 3N1 5N1 hN1g 2N7i 18N4',
  '2sNc fN2 fN1 fN1 11Na dA3 2lA3 1pA1 0N1k tNd 18N4 9N7 2Ne 6N4a raA2 0N4 0D1 0C3 dN3 bA2 0N3',
  '38D3 0N4 0D5 2hD1 0N6 cN4 0C1 0Nf cN4 1kN8 aN6 14N8 uN2 0A2 0Fa 0N4 0F2 0N1q cA1 2tA1 4A2',
  '0C1 15A2 6A3 tA1 0C1 3rNc eN2 4A1 0D3 3C2 0N3 3A4 0D2 0F1 0N5 0F1 6Aj 0C4 0D3 0A7 0C4 0D3',
  '0F1 0D1 0A3 0C3 0F1 0N7 0D2 0A7 0C3 0D2 0F1 0N2 0F1 0C8 0D1 0F1 0N6 0C7 0D2 0N7 0A43 0N1',
  '0A1j 0F11 0Aa 0Nsm wyfA7 0C2 0Nw 379C4 0D1 0N6 66N2 4g2Ne 5rlNf 0Eha 0N1wi f2N15u 0A3t7 0N5',
  '0D38g 0Nf9e8 6oN47bk',
].join(' ')

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
    const m = /^([0-9a-z]+)([A-FN])([0-9a-z]+)$/.exec(entry)
    if (m === null) throw new Error(`pyrepr: bad non-printable run ${JSON.stringify(entry)}`)
    const start = end + Number.parseInt(m[1]!, 36)
    end = start + Number.parseInt(m[3]!, 36)
    starts[i] = start
    ends[i] = end
    lastMinor[i] = m[2] === 'N' ? 255 : 8 + m[2]!.charCodeAt(0) - 0x41
  })
  runTable = { starts, ends, lastMinor }
  return runTable
}

/**
 * Whether CPython 3.`minor` keeps code point `cp` as is in a str repr (`str.isprintable()`).
 * Minor versions outside 8..14 use the nearest supported one.
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
  return Math.max(minor, 8) > lastMinor[lo]!
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}

/**
 * Python's `repr()` of a str, as CPython 3.`minor` prints it (default 14; the version only
 * matters for which characters are printable). The JS string's surrogate pairs are one code
 * point each; lone surrogates are code points of their own and print as `\udXXX`.
 */
export function reprStr(s: string, minor = 14): string {
  const quote = s.includes("'") && !s.includes('"') ? 0x22 : 0x27
  // Characters that stand for themselves are copied in runs (one slice per run, not one string
  // per character): docstrings make up much of the text dis prints.
  let out = ''
  let run = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    let escaped: string
    if (c >= 0x20 && c < 0x7f) {
      if (c !== 0x5c && c !== quote) continue
      escaped = `\\${String.fromCharCode(c)}`
    } else if (c < 0x7f) {
      escaped = c === 0x09 ? '\\t' : c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : `\\x${hex(c, 2)}`
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
      escaped = cp <= 0xff ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`
      out += s.slice(run, i) + escaped
      i += units - 1
      run = i + 1
      continue
    }
    out += s.slice(run, i) + escaped
    run = i + 1
  }
  const q = String.fromCharCode(quote)
  return run === 0 ? q + s + q : q + out + s.slice(run) + q
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
export function reprCodePoints(cps: readonly number[], minor = 14): string {
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
