/**
 * Input generators of the fuzzer (scripts/fuzz.ts). Input `index` of a run with seed `seed` is a
 * pure function of the two, so any finding is reproduced by `npm run fuzz -- --seed S --only I`.
 *
 * Kinds of input:
 * - `mutate`: a real .pyc (the golden fixtures of every version, up to 64 KB) with 1–8 edits —
 *   bit flips, byte overwrites, retyped marshal codes, insertions, deletions, truncations, length
 *   fields set to huge values — to the file, or to the bytecode, line table, exception table or
 *   local kinds of one of its code objects (written back with writeMarshal);
 * - `tree`: a seed module whose constants hold a generated marshal tree: every type code, extreme
 *   lengths and counts (tuples of 100k items, 1 MB bytes, longs of 60k digits), nesting past the
 *   reader's depth limit, back-references that repeat a long string thousands of times or expand
 *   exponentially — sometimes with a length field in the written bytes made to lie;
 * - `code`: a seed module with one code object made hostile: co_stacksize 0, −1, 2**29, 2**31−1;
 *   random bytecode with EXTENDED_ARG chains and huge opargs, or shaped bytecode (one instruction
 *   that pops or pushes a huge count — UNPACK_SEQUENCE 65535, BUILD_TUPLE_UNPACK 2**31−1, CALL,
 *   BUILD_MAP, COPY… — then a run of instructions under that stack; long EXTENDED_ARG chains;
 *   stacks that grow by one per instruction; runs of unreachable returns or jumps), with
 *   co_stacksize claiming the depth; random or extreme line and location tables; exception tables
 *   claiming depths of 2**29, targets past the end, overlapping or nested ranges (thousands of
 *   entries over the same code); bad local kinds, empty names and constants (every index out of
 *   range), extreme counts;
 * - `raw`: a valid header followed by a marshal type code with a huge count or length and too
 *   few bytes, or by random bytes, or a large real payload (300k Nones in a tuple).
 * - `profile`, `memory`, `request`: documents and server requests (scripts/fuzz-docs.ts).
 * Generated inputs stay under {@link MAX_INPUT_BYTES}; all but {@link LARGE_SHARE} of them keep
 * every generated size under {@link SMALL_MAX}.
 */
import { type PyCode, type PyObject, readMarshal, TypeCode, writeMarshal } from '../src/marshal/index.js'
import { opcodeTable, versionRules } from '../src/bytecode/index.js'
import { readPyc } from '../src/pyc/index.js'
import { memoryInput, profileInput, type RequestPlan, requestInput } from './fuzz-docs.js'

/** The largest generated input: the memory bound checked is 256 MB + 64× this. */
export const MAX_INPUT_BYTES = 1 << 20
/**
 * The share of inputs that may be large (sizes up to {@link MAX_INPUT_BYTES}); the others keep
 * every generated length, count and size under {@link SMALL_MAX} (and so run in milliseconds):
 * most bugs need a hostile shape, not a big one, and a hundred thousand inputs fit in an hour.
 */
export const LARGE_SHARE = 0.04
/** The cap on generated sizes of a small input. */
export const SMALL_MAX = 4096

/** A real .pyc to start from. */
export interface Seed {
  /** `<version>/<file>`, e.g. "3.12/closures.pyc". */
  readonly name: string
  readonly bytes: Uint8Array
}

/** One edit of the bytes; positions are taken modulo the current length. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'retype'; readonly at: number; readonly code: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'huge'; readonly at: number; readonly value: number }

/** Applies the mutations to a copy of `seed`. */
export function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(seed)
  for (const m of mutations) {
    const n = b.length
    if (n === 0 && m.kind !== 'insert') continue
    const i = n === 0 ? 0 : m.at % n
    switch (m.kind) {
      case 'flip':
        b[i]! ^= 1 << m.bit
        break
      case 'set':
        b[i] = m.byte
        break
      case 'retype':
        b[i] = m.code
        break
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, i), ...m.bytes, ...b.subarray(i)])
        break
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + m.count)])
        break
      case 'truncate':
        b = b.slice(0, i)
        break
      case 'huge': {
        // The length after the first length-prefixed type code at or after i (wrapping round).
        let j = i
        while (j < i + n && !LENGTH_CODES.has(b[j % n]! & 0x7f)) j++
        j %= n
        const code = b[j]! & 0x7f
        if (code === 0x29 || code === 0x7a || code === 0x5a) b[j + 1] = m.value & 0xff
        else if (j + 5 <= n) new DataView(b.buffer).setUint32(j + 1, m.value, true)
        break
      }
    }
  }
  return b
}

/** The kinds of generated input (see the module comment). */
export const INPUT_KINDS = ['mutate', 'tree', 'code', 'raw', 'profile', 'memory', 'request'] as const
/** The kinds that are .pyc files (the others: profile and memory documents, server requests). */
export const PYC_KINDS: readonly InputKind[] = ['mutate', 'tree', 'code', 'raw']
export type InputKind = (typeof INPUT_KINDS)[number]

/** One generated input. */
export interface GeneratedInput {
  readonly index: number
  readonly kind: InputKind
  /** The seed .pyc it started from (`<version>/<file>`), for the report. */
  readonly seedName: string
  /** What was done, in a few words. */
  readonly what: string
  /** The .pyc file, the document's JSON text (UTF-8), or a request's target and body. */
  readonly bytes: Uint8Array
  /** A `request` input: the request. */
  readonly request?: RequestPlan
}

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private s: number
  /** The largest size {@link size} gives (small inputs: {@link SMALL_MAX}; large ones: no cap). */
  cap = Infinity
  constructor(seed: number) {
    this.s = seed >>> 0
  }
  /** A uniform float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** One of `xs` that is at most the cap (the smallest when none is). */
  pickSize(xs: readonly number[]): number {
    const fit = xs.filter((x) => x <= this.cap)
    return fit.length ? this.pick(fit) : Math.min(...xs)
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  /** Small numbers mostly, sometimes large: 0…max with a log-uniform tail. */
  size(max: number): number {
    max = Math.min(max, this.cap)
    return this.chance(0.7) ? this.int(Math.min(max, 16) + 1) : Math.min(max, Math.floor(Math.exp(this.next() * Math.log(max + 1))))
  }
}

/** Extreme 32-bit values for counts, lengths, sizes and opargs. */
const EXTREMES = [0, 1, 2, 3, 255, 256, 4097, 0xffff, 0x10000, 1_000_000, 2 ** 29, 2 ** 30, 0x7fffffff, -1, -2, -0x80000000]
/** Marshal type codes, with and without FLAG_REF, for 'retype'. */
export const TYPE_CODES = [...'0NFTS.iIfgxylstr()[{cu?<>azZ:'].flatMap((c) => [c.charCodeAt(0), c.charCodeAt(0) | 0x80])
/** Type codes followed by an int32 length or count (a uint8 one for ')', 'z', 'Z'). */
const LENGTH_CODES = new Set([...'ls()[<>uatAzZr'].map((c) => c.charCodeAt(0)))

const FIELDS = ['bytecode', 'linetable', 'exceptiontable', 'localspluskinds'] as const

/** The input `index` of a run seeded with `seed`. */
export function generate(seeds: readonly Seed[], seed: number, index: number): GeneratedInput {
  const rng = new Rng((seed * 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b))
  if (!rng.chance(LARGE_SHARE)) rng.cap = SMALL_MAX
  // Mutations of real files are the bulk; structure-aware inputs reach what mutations cannot.
  const r = rng.next()
  const kind: InputKind = r < 0.32 ? 'mutate' : r < 0.52 ? 'tree' : r < 0.72 ? 'code' : r < 0.8 ? 'raw' : r < 0.9 ? 'profile' : r < 0.95 ? 'memory' : 'request'
  const s = seeds[rng.int(seeds.length)]!
  if (kind === 'profile' || kind === 'memory') {
    const doc = kind === 'profile' ? profileInput(rng) : memoryInput(rng)
    return { index, kind, seedName: '-', what: doc.what, bytes: new TextEncoder().encode(doc.text) }
  }
  if (kind === 'request') {
    const request = requestInput(rng)
    return { index, kind, seedName: '-', what: request.what, bytes: new TextEncoder().encode(request.target + request.body), request }
  }
  let made: { what: string; bytes: Uint8Array }
  try {
    made = kind === 'mutate' ? mutated(rng, s) : kind === 'tree' ? tree(rng, s) : kind === 'code' ? hostileCode(rng, s) : raw(rng, s)
  } catch (e) {
    // A generator that cannot write what it made (writeMarshal refuses some values): the seed.
    made = { what: `generator gave up (${e instanceof Error ? e.message.slice(0, 60) : String(e)})`, bytes: s.bytes }
  }
  const bytes = made.bytes.length > MAX_INPUT_BYTES ? made.bytes.subarray(0, MAX_INPUT_BYTES) : made.bytes
  return { index, kind, seedName: s.name, what: made.what, bytes }
}

// ---------------------------------------------------------------------------------------------
// mutate

function mutation(rng: Rng): Mutation {
  const at = rng.int(0x7fffffff)
  switch (rng.int(7)) {
    case 0:
      return { kind: 'flip', at, bit: rng.int(8) }
    case 1:
      return { kind: 'set', at, byte: rng.int(256) }
    case 2:
      return { kind: 'retype', at, code: rng.pick(TYPE_CODES) }
    case 3:
      return { kind: 'insert', at, bytes: Array.from({ length: 1 + rng.int(8) }, () => rng.int(256)) }
    case 4:
      return { kind: 'delete', at, count: 1 + rng.int(16) }
    case 5:
      return { kind: 'truncate', at }
    default:
      return { kind: 'huge', at, value: rng.pick([0x7fffffff, 0xffffffff, 0x80000000, 0x40000000, 0x10000, 0xff, 4097, 1_000_000, 2 ** 29]) }
  }
}

function mutated(rng: Rng, s: Seed): { what: string; bytes: Uint8Array } {
  const mutations = Array.from({ length: 1 + rng.int(rng.chance(0.8) ? 4 : 8) }, () => mutation(rng))
  const target = rng.chance(0.5) ? 'file' : rng.pick(FIELDS)
  const what = `${target}: ${mutations.map((m) => m.kind).join(',')}`
  if (target === 'file') return { what, bytes: mutate(s.bytes, mutations) }
  return { what, bytes: editCode(s, rng.int(1000), (c) => {
    const field = c[target] === undefined ? 'bytecode' : target
    const old = c[field]
    return old?.type === 'bytes' ? { ...c, [field]: { ...old, value: mutate(old.value, mutations) } } : c
  }) }
}

// ---------------------------------------------------------------------------------------------
// helpers: seed modules and their code objects

interface Parsed {
  readonly header: Uint8Array
  readonly version: readonly [number, number]
  readonly module: PyCode
}

const parsedSeeds = new Map<Seed, Parsed>()

function parse(s: Seed): Parsed {
  let p = parsedSeeds.get(s)
  if (!p) {
    const pyc = readPyc(s.bytes)
    p = { header: s.bytes.subarray(0, pyc.header?.byteLength ?? 0), version: pyc.version, module: pyc.code }
    parsedSeeds.set(s, p)
  }
  return p
}

function codesOf(module: PyCode): PyCode[] {
  const codes: PyCode[] = []
  const walk = (c: PyCode) => {
    codes.push(c)
    if (c.consts.type === 'tuple') for (const x of c.consts.items) if (x.type === 'code') walk(x)
  }
  walk(module)
  return codes
}

/** The seed with its `which`-th code object (depth first, modulo their number) replaced by `edit(it)`. */
function editCode(s: Seed, which: number, edit: (c: PyCode) => PyCode): Uint8Array {
  const p = parse(s)
  const codes = codesOf(p.module)
  const target = codes[which % codes.length]!
  const edited = edit(target)
  const swap = (o: PyObject): PyObject => {
    if (o === target) return edited
    if (o.type !== 'code' || o.consts.type !== 'tuple') return o
    return { ...o, consts: { ...o.consts, items: o.consts.items.map(swap) } }
  }
  return withHeader(p, writeMarshal(swap(p.module), { pythonVersion: p.version }))
}

function withHeader(p: Parsed, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(p.header.length + data.length)
  out.set(p.header)
  out.set(data, p.header.length)
  return out
}

const bytesObj = (value: Uint8Array, ref = false): PyObject => ({ type: 'bytes', value, code: TypeCode.Bytes, ref })
const tupleOf = (items: PyObject[], ref = false): PyObject => ({ type: 'tuple', items, code: TypeCode.Tuple, ref })

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = rng.int(256)
  return b
}

// ---------------------------------------------------------------------------------------------
// tree

function str(rng: Rng, n: number, ref = false): PyObject {
  const alphabet = rng.pick(['ab', 'x', 'é€', '\u{1F600}', 'a\n\\\'"', '\u0000\u007f'])
  let value = ''
  while (value.length < n) value += alphabet
  value = value.slice(0, n)
  // Lone surrogates cannot be written; cut a split pair.
  if (/[\uD800-\uDBFF]$/.test(value)) value = value.slice(0, -1)
  return { type: 'str', value, code: /^[\x00-\x7f]*$/.test(value) ? (n < 256 && rng.chance(0.5) ? TypeCode.ShortAscii : TypeCode.Ascii) : TypeCode.Unicode, ref }
}

function leaf(rng: Rng): PyObject {
  switch (rng.int(12)) {
    case 0:
      return { type: 'none', code: TypeCode.None, ref: false }
    case 1:
      return { type: 'bool', value: rng.chance(0.5), code: rng.chance(0.5) ? TypeCode.True : TypeCode.False, ref: false }
    case 2:
      return { type: 'ellipsis', code: TypeCode.Ellipsis, ref: false }
    case 3:
      return { type: 'stopiteration', code: TypeCode.StopIteration, ref: false }
    case 4:
      return { type: 'int', value: BigInt(rng.pick(EXTREMES)), code: TypeCode.Int, ref: false }
    case 5: {
      // A long of up to 60k 15-bit digits (the reader was quadratic: 88k digits took 7 s).
      const digits = rng.size(60_000)
      const v = digits === 0 ? 1n : (1n << BigInt(15 * digits)) - 1n - BigInt(rng.int(1000))
      return { type: 'int', value: rng.chance(0.3) ? -v : v, code: TypeCode.Long, ref: false }
    }
    case 6:
      return { type: 'float', value: rng.pick([0, -0, 1.5, 1e308, 5e-324, Infinity, -Infinity, NaN]), code: rng.chance(0.5) ? TypeCode.BinaryFloat : TypeCode.Float, ref: false }
    case 7:
      return { type: 'complex', real: rng.pick([0, 1e308, NaN]), imag: rng.pick([-0, Infinity, 2.5]), code: rng.chance(0.5) ? TypeCode.BinaryComplex : TypeCode.Complex, ref: false }
    case 8:
      return bytesObj(randomBytes(rng, rng.size(1 << 20)))
    case 9:
    case 10:
      return str(rng, rng.size(200_000))
    default:
      return { type: 'int', value: BigInt(rng.int(1000)), code: TypeCode.Int, ref: false }
  }
}

/** A random marshal tree of about `budget` nodes; containers of every kind, refs to earlier objects. */
function randomTree(rng: Rng, budget: { nodes: number }, depth: number, refs: PyObject[]): PyObject {
  budget.nodes--
  if (budget.nodes <= 0 || depth > 30 || rng.chance(0.4)) {
    if (refs.length && rng.chance(0.2)) return rng.pick(refs)
    const l = leaf(rng)
    if (rng.chance(0.3)) {
      const r = { ...l, ref: true } as PyObject
      refs.push(r)
      return r
    }
    return l
  }
  const n = rng.size(rng.chance(0.05) ? 100_000 : 64)
  const items = (): PyObject[] => {
    const out: PyObject[] = []
    // Wide containers repeat one cheap child instead of building n random ones.
    const wide = n > 64
    const one = wide ? randomTree(rng, budget, depth + 1, refs) : undefined
    for (let i = 0; i < n; i++) out.push(wide ? one! : randomTree(rng, budget, depth + 1, refs))
    return out
  }
  const ref = rng.chance(0.3)
  let o: PyObject
  switch (rng.int(7)) {
    case 0:
      o = { type: 'tuple', items: items(), code: n < 256 && rng.chance(0.5) ? TypeCode.SmallTuple : TypeCode.Tuple, ref }
      break
    case 1:
      o = { type: 'list', items: items(), code: TypeCode.List, ref }
      break
    case 2:
      o = { type: 'set', items: items(), code: TypeCode.Set, ref }
      break
    case 3:
      o = { type: 'frozenset', items: items(), code: TypeCode.FrozenSet, ref }
      break
    case 4: {
      const xs = items()
      const entries: [PyObject, PyObject][] = []
      for (let i = 0; i + 1 < xs.length; i += 2) entries.push([xs[i]!, xs[i + 1]!])
      o = { type: 'dict', entries, code: TypeCode.Dict, ref }
      break
    }
    case 5:
      o = { type: 'slice', start: randomTree(rng, budget, depth + 1, refs), stop: leaf(rng), step: leaf(rng), code: TypeCode.Slice, ref }
      break
    default:
      o = tupleOf(items(), ref)
  }
  if (ref) refs.push(o)
  return o
}

/** Deep nesting: tuples `depth` levels deep (the reader refuses past 1000). */
function nested(depth: number): PyObject {
  let o: PyObject = { type: 'none', code: TypeCode.None, ref: false }
  for (let i = 0; i < depth; i++) o = tupleOf([o])
  return o
}

/** A long string referenced `times` times ('a 600 kB string referenced 1000×'). */
function repeatedString(rng: Rng): PyObject {
  const s = str(rng, rng.pickSize([1000, 50_000, 600_000]), true)
  return tupleOf(Array(rng.pick([10, 1000, 5000])).fill(s))
}

/** Exponential expansion: k levels of tuples of m references to the level below. */
function laughs(rng: Rng): PyObject {
  let o: PyObject = str(rng, 50, true)
  const m = rng.pick([10, 100, 1000])
  for (let i = 0, k = 1 + rng.int(4); i < k; i++) o = tupleOf(Array(m).fill(o), true)
  return o
}

function tree(rng: Rng, s: Seed): { what: string; bytes: Uint8Array } {
  const p = parse(s)
  const which = rng.int(5)
  const refs: PyObject[] = []
  const extra =
    which === 0 ? nested(rng.pick([10, 500, 999, 1000, 1001, 5000]))
    : which === 1 ? repeatedString(rng)
    : which === 2 ? laughs(rng)
    : randomTree(rng, { nodes: rng.size(rng.cap === Infinity ? 2000 : 200) }, 0, refs)
  const what = ['nested', 'repeated string', 'laughs', 'random tree', 'random tree'][which]!
  const module = p.module
  // The tree goes into the module's constants (the code object must stay the top-level object).
  const consts = module.consts.type === 'tuple' ? module.consts.items : []
  let data = writeMarshal({ ...module, consts: { type: 'tuple', items: [...consts, extra], code: TypeCode.Tuple, ref: false } }, { pythonVersion: p.version })
  if (data.length > MAX_INPUT_BYTES) data = data.subarray(0, MAX_INPUT_BYTES)
  let bytes = withHeader(p, data)
  // Sometimes make a length field lie.
  if (rng.chance(0.3)) bytes = mutate(bytes, [{ kind: 'huge', at: rng.int(bytes.length), value: rng.pick([0x7fffffff, 0x10000, 2 ** 29, 200_000_000]) }])
  return { what, bytes }
}

// ---------------------------------------------------------------------------------------------
// code

/** Random bytecode of `units` code units: random or real opcodes, EXTENDED_ARG chains, extreme args. */
function randomBytecode(rng: Rng, minor: number, units: number): Uint8Array {
  const table = opcodeTable(minor)
  const real = Object.keys(table.opnames).map(Number)
  const out = new Uint8Array(2 * units)
  for (let k = 0; k < units; k++) {
    const r = rng.next()
    out[2 * k] = r < 0.15 ? table.extendedArg : r < 0.85 ? rng.pick(real) : rng.int(256)
    out[2 * k + 1] = rng.chance(0.3) ? 255 : rng.chance(0.5) ? rng.int(8) : rng.int(256)
  }
  return out
}

/** Opcodes whose oparg is a count of stack slots they pop or push (those the version has). */
const COUNT_OPS = [
  'UNPACK_SEQUENCE', 'UNPACK_EX', 'BUILD_TUPLE', 'BUILD_LIST', 'BUILD_MAP', 'BUILD_SET', 'BUILD_STRING', 'BUILD_CONST_KEY_MAP',
  'BUILD_SLICE', 'CALL', 'CALL_KW', 'CALL_FUNCTION', 'CALL_FUNCTION_KW', 'CALL_METHOD', 'PRECALL', 'BUILD_TUPLE_UNPACK',
  'BUILD_TUPLE_UNPACK_WITH_CALL', 'BUILD_LIST_UNPACK', 'BUILD_SET_UNPACK', 'BUILD_MAP_UNPACK', 'ROT_N', 'COPY', 'SWAP',
  'LIST_APPEND', 'MAP_ADD', 'MAKE_FUNCTION', 'RAISE_VARARGS', 'DUP_TOP_TWO',
]
/** Opargs of {@link COUNT_OPS}: around the byte boundaries and huge. */
const COUNT_OPARGS = [255, 256, 1023, 1024, 1025, 4097, 0xffff, 0x10000, 2 ** 20, 2 ** 24 - 1, 2 ** 29, 2 ** 31 - 1, 0xffffffff]

/** Bytecode of 3.`minor` from [name, oparg] pairs: EXTENDED_ARG prefixes for large opargs, zeroed caches. */
function encodeProgram(minor: number, program: readonly (readonly [string, number])[]): Uint8Array {
  const table = opcodeTable(minor)
  const rules = versionRules(minor)
  const out: number[] = []
  const emit = (op: number, arg: number) => {
    out.push(op, arg)
    for (let c = 0; c < rules.caches(op); c++) out.push(0, 0)
  }
  for (const [name, arg] of program) {
    const op = table.opmap[name]
    if (op === undefined) continue
    const bytes: number[] = []
    let v = arg
    do {
      bytes.unshift(v % 256)
      v = Math.floor(v / 256)
    } while (v > 0)
    for (const b of bytes.slice(0, -1)) emit(table.extendedArg, b)
    emit(op, bytes.at(-1)!)
  }
  return Uint8Array.from(out)
}

/**
 * Bytecode of a hostile shape (see the module comment), about `units` instructions, and the
 * stack depth it claims: what made the stack view and the depth analysis slow — huge counts
 * (fuzz #8864: UNPACK_SEQUENCE 65535), stacks kept deep for many instructions, unreachable runs.
 */
function shapedBytecode(rng: Rng, minor: number, units: number): { bytes: Uint8Array; what: string; depth: number } {
  const table = opcodeTable(minor)
  const ret: readonly [string, number] = table.opmap.RETURN_CONST !== undefined ? ['RETURN_CONST', 0] : ['RETURN_VALUE', 0]
  const n = Math.max(1, units)
  const ops = COUNT_OPS.filter((name) => table.opmap[name] !== undefined)
  switch (rng.int(5)) {
    case 0: {
      // One huge count, then instructions under that stack.
      const op = rng.pick(ops)
      const arg = rng.pick(COUNT_OPARGS)
      const filler = rng.pick(['NOP', 'POP_TOP', 'LOAD_CONST', 'STORE_FAST', 'DUP_TOP'].filter((x) => table.opmap[x] !== undefined))
      const program: [string, number][] = [['LOAD_CONST', 0], ['LOAD_CONST', 0], [op, arg], ...Array.from({ length: n }, () => [filler, 0] as [string, number]), [...ret]]
      return { bytes: encodeProgram(minor, program), what: `${op} ${arg} + ${n} ${filler}`, depth: Math.min(arg, 2 ** 31 - 1) }
    }
    case 1: {
      // A long EXTENDED_ARG chain before a count.
      const op = rng.pick(ops)
      const out = [...encodeProgram(minor, [['LOAD_CONST', 0]])]
      const ext = encodeProgram(minor, [['EXTENDED_ARG', 255]])
      for (let k = 0; k < n; k++) out.push(...ext)
      out.push(...encodeProgram(minor, [[op, rng.int(256)], ret]))
      return { bytes: Uint8Array.from(out), what: `${n} EXTENDED_ARG 255 before ${op}`, depth: rng.pick(COUNT_OPARGS) }
    }
    case 2: {
      // A stack that grows by one per instruction, then one instruction takes it all.
      const grow = rng.pick(['LOAD_CONST', 'COPY', 'DUP_TOP'].filter((x) => table.opmap[x] !== undefined))
      const take = rng.pick(ops)
      const program: [string, number][] = [['LOAD_CONST', 0], ...Array.from({ length: n }, () => [grow, grow === 'COPY' ? 1 : 0] as [string, number]), [take, n], [...ret]]
      return { bytes: encodeProgram(minor, program), what: `${n} × ${grow} then ${take} ${n}`, depth: n + 1 }
    }
    case 3: {
      // A run of unreachable blocks that return, or jump to the next one.
      const jump = rng.chance(0.5)
      const block: [string, number][] = jump ? [['NOP', 0], ['JUMP_FORWARD', 0]] : [['NOP', 0], [...ret]]
      const program: [string, number][] = [['LOAD_CONST', 0], [...ret], ...Array.from({ length: Math.ceil(n / 2) }, () => block).flat(), [...ret]]
      return { bytes: encodeProgram(minor, program), what: `${Math.ceil(n / 2)} unreachable ${jump ? 'jumps' : 'returns'}`, depth: 1 }
    }
    default: {
      // A loop back to a deep stack: every merge meets the same slots again.
      const depth = rng.pick([64, 1000, 1024, 1025, 4096])
      const back = table.opmap.JUMP_BACKWARD !== undefined ? 'JUMP_BACKWARD' : 'JUMP_ABSOLUTE'
      const program: [string, number][] = [['LOAD_CONST', 0], ['UNPACK_SEQUENCE', depth], ...Array.from({ length: n }, () => ['NOP', 0] as [string, number]), [back, back === 'JUMP_BACKWARD' ? n + 1 : 0]]
      return { bytes: encodeProgram(minor, program), what: `loop over a stack of ${depth}, ${n} instructions`, depth }
    }
  }
}

/** A 3.11+ exception table varint (6 bits per byte, most significant first; bit 6: more follows). */
function varint(out: number[], value: number, start: boolean): void {
  const groups: number[] = []
  let v = Math.max(0, Math.floor(value))
  do {
    groups.unshift(v & 63)
    v = Math.floor(v / 64)
  } while (v > 0)
  groups.forEach((g, i) => out.push(g | (i < groups.length - 1 ? 64 : 0) | (start && i === 0 ? 128 : 0)))
}

function hostileExceptionTable(rng: Rng, units: number): Uint8Array {
  const out: number[] = []
  if (rng.chance(0.3)) {
    // Thousands of entries over the same instructions (overlapping) or each inside the last (nested).
    const nested = rng.chance(0.5)
    const n = 1 + rng.size(Math.max(1, 4 * units))
    for (let e = 0; e < n; e++) {
      const start = nested ? Math.min(e, units) : 0
      varint(out, start, true)
      varint(out, Math.max(1, nested ? units - 2 * Math.min(e, units >> 1) : units), false)
      varint(out, rng.int(units + 1), false)
      varint(out, rng.int(4) * 2 + rng.int(2), false)
    }
    return Uint8Array.from(out)
  }
  for (let e = 0, n = 1 + rng.size(200); e < n; e++) {
    const start = rng.chance(0.8) ? rng.int(units + 1) : rng.pick(EXTREMES.filter((x) => x >= 0))
    const length = rng.chance(0.8) ? 1 + rng.int(Math.max(1, units)) : rng.pick([0, 2 ** 30, 0x7fffffff])
    const target = rng.chance(0.8) ? rng.int(units + 1) : rng.pick([units, units + 1, 0x7fffffff])
    const depth = rng.chance(0.5) ? rng.int(8) : rng.pick([2 ** 29, 1_000_000, 0x7fffffff >>> 1, 65_535])
    varint(out, start, true)
    varint(out, length, false)
    varint(out, target, false)
    varint(out, depth * 2 + rng.int(2), false)
  }
  return Uint8Array.from(out)
}

function hostileLineTable(rng: Rng, units: number): Uint8Array {
  switch (rng.int(4)) {
    case 0:
      return randomBytes(rng, rng.size(4 * units + 64))
    case 1: {
      // 3.11+ location entries: long form (code 14) with huge line deltas and columns.
      const out: number[] = []
      for (let k = 0; k < Math.min(units, 5000, rng.cap); k++) {
        out.push(0x80 | (14 << 3) | 0)
        for (let f = 0; f < 4; f++) out.push(...[0xff, 0xff, 0xff, 0x0f].slice(0, 1 + rng.int(4)).map((b, i, a) => (i < a.length - 1 ? b | 0x40 : b & 0x3f)))
      }
      return Uint8Array.from(out)
    }
    case 2:
      // Pre-3.10 lnotab / 3.10 linetable pairs with extreme deltas.
      return Uint8Array.from(Array.from({ length: 2 * rng.size(20_000) }, (_, i) => (i % 2 ? rng.pick([0x7f, 0x80, 0xff, 0]) : rng.pick([0, 2, 254, 255]))))
    default:
      return new Uint8Array(0)
  }
}

function hostileCode(rng: Rng, s: Seed): { what: string; bytes: Uint8Array } {
  const p = parse(s)
  const minor = p.version[1]
  const changes: string[] = []
  const bytes = editCode(s, rng.int(1000), (c) => {
    let out: PyCode = c
    const units = rng.chance(0.7) ? c.bytecode.type === 'bytes' ? c.bytecode.value.length / 2 : 16 : rng.size(60_000)
    if (rng.chance(0.4)) {
      out = { ...out, stacksize: rng.pick(EXTREMES) }
      changes.push(`stacksize ${out.stacksize}`)
    }
    if (rng.chance(0.2)) {
      const shaped = shapedBytecode(rng, minor, rng.size(rng.cap === Infinity ? 60_000 : 2048))
      out = { ...out, bytecode: bytesObj(shaped.bytes) }
      changes.push(`bytecode ${shaped.what}`)
      // The depth it reaches, claimed, so that exception-table depths up to it are believed.
      if (rng.chance(0.5)) {
        out = { ...out, stacksize: Math.min(shaped.depth, 2 ** 31 - 1) }
        changes.push(`stacksize ${out.stacksize}`)
      }
    } else if (rng.chance(0.5)) {
      out = { ...out, bytecode: bytesObj(randomBytecode(rng, minor, units)) }
      changes.push(`bytecode ${units} units`)
    }
    if (rng.chance(0.4)) {
      out = { ...out, linetable: bytesObj(hostileLineTable(rng, units)) }
      changes.push('line table')
    }
    if (out.exceptiontable !== undefined && rng.chance(0.5)) {
      out = { ...out, exceptiontable: bytesObj(hostileExceptionTable(rng, units)) }
      changes.push('exception table')
    }
    if (out.localspluskinds !== undefined && rng.chance(0.2)) {
      const n = out.localsplusnames?.type === 'tuple' ? out.localsplusnames.items.length : 0
      out = { ...out, localspluskinds: bytesObj(randomBytes(rng, rng.chance(0.5) ? n : rng.size(64))) }
      changes.push('local kinds')
    }
    if (rng.chance(0.15)) {
      out = { ...out, names: tupleOf([]), consts: tupleOf([]) }
      changes.push('no names or consts')
    }
    if (rng.chance(0.15)) {
      out = { ...out, argcount: rng.pick(EXTREMES), kwonlyargcount: rng.pick(EXTREMES), firstlineno: rng.pick(EXTREMES), flags: rng.pick(EXTREMES) }
      changes.push('extreme counts')
    }
    if (out.nlocals !== undefined && rng.chance(0.1)) {
      out = { ...out, nlocals: rng.pick(EXTREMES) }
      changes.push('nlocals')
    }
    return out
  })
  return { what: changes.join(', ') || 'unchanged', bytes }
}

// ---------------------------------------------------------------------------------------------
// raw

function raw(rng: Rng, s: Seed): { what: string; bytes: Uint8Array } {
  const p = parse(s)
  switch (rng.int(4)) {
    case 0: {
      // A huge count or length with a few bytes behind it, at the top or inside the code object.
      const code = rng.pick([...LENGTH_CODES])
      const b = new Uint8Array(5 + rng.int(64))
      b[0] = code
      new DataView(b.buffer).setInt32(1, rng.pick([200_000_000, 0x7fffffff, 2 ** 29, -1, 1_000_000]), true)
      return { what: `type '${String.fromCharCode(code)}' with a huge length`, bytes: withHeader(p, rng.chance(0.5) ? b : Uint8Array.from([TypeCode.Code, ...randomBytes(rng, 20), ...b])) }
    }
    case 1:
      return { what: 'random bytes', bytes: withHeader(p, randomBytes(rng, rng.size(4096))) }
    case 2: {
      // A large real payload: a tuple of many Nones (not a code object: refused at once).
      const n = rng.pickSize([1000, 300_000, MAX_INPUT_BYTES - 64])
      const b = new Uint8Array(5 + n).fill(TypeCode.None)
      b[0] = TypeCode.Tuple
      new DataView(b.buffer).setInt32(1, n, true)
      return { what: `tuple of ${n} Nones`, bytes: withHeader(p, b) }
    }
    default: {
      // The same inside the constants of a code object (read in full, then disassembled).
      const n = rng.pickSize([1000, 100_000, 300_000])
      const module = readMarshal(s.bytes, { pythonVersion: p.version }, p.header.length).value as PyCode
      return { what: `constants with a tuple of ${n} Nones`, bytes: withHeader(p, writeMarshal({ ...module, consts: tupleOf(Array(n).fill({ type: 'none', code: TypeCode.None, ref: false })) }, { pythonVersion: p.version })) }
    }
  }
}
