/**
 * Decoding co_code into instructions with resolved arguments, as CPython's dis computes them.
 */
import type { PyCode, PyObject, PyStr } from '../marshal/index.js'
import { codeAddress } from './address.js'
import type { CodeObject } from './code.js'
import { BytecodeError } from './errors.js'
import { type ExceptionEntry, parseExceptionTable } from './exceptions.js'
import { lineStarts, type Position, positions } from './lines.js'
import { pyRepr, type ReprOptions, scalarRepr } from './pyrepr.js'
import { ArgKind, JumpKind, jumpTargetOf, type VersionRules, versionRules } from './rules.js'

/** What an instruction's argument resolves to (dis's `argval`). */
export type ArgValue =
  | { readonly kind: 'const'; readonly value: PyObject }
  | { readonly kind: 'name'; readonly value: string }
  | { readonly kind: 'names'; readonly value: readonly [string, string] }
  | { readonly kind: 'jump'; readonly value: number }
  | { readonly kind: 'compare'; readonly value: string }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'unknown' }

/** One decoded instruction. */
export interface Instruction {
  /** Byte offset of the opcode in co_code. */
  readonly offset: number
  /** Byte offset of the first EXTENDED_ARG prefix of this instruction (= offset when none). */
  readonly startOffset: number
  readonly opcode: number
  readonly opname: string
  /** Opcode of the base (non-specialized) instruction. */
  readonly baseOpcode: number
  /** The full argument after EXTENDED_ARG; undefined for opcodes without one. */
  readonly arg: number | undefined
  readonly argval: ArgValue | undefined
  /** dis's human-readable argument, e.g. "to 24", "NULL + print", "'hello'". */
  readonly argrepr: string
  /** Inline cache entries following the instruction (2 bytes each, 3.11+). */
  readonly cacheCount: number
  /** Jump target as a byte offset, for jumps and (3.13+) exception-target opcodes. */
  readonly jumpTarget: number | undefined
  /** Line from findlinestarts when this instruction starts a line (dis's starts_line). */
  readonly startsLine: boolean
  /** 1-based source line of the instruction; undefined when it has none. */
  readonly line: number | undefined
  /** co_positions() of the instruction (lines 1-based, columns 0-based UTF-8 bytes). */
  readonly position: Position
  /** Whether some jump (or, 3.11+, exception handler) targets this offset. */
  readonly isJumpTarget: boolean
  /** 3.13+: the label number (`L3`) dis prints for this offset. */
  readonly label: number | undefined
}

/** Everything decoded from one code object (not including nested ones). */
export interface Disassembly {
  readonly code: CodeObject
  readonly rules: VersionRules
  readonly instructions: readonly Instruction[]
  /** Offset → line for offsets that start a line (dis.findlinestarts), in order. */
  readonly lineStarts: ReadonlyMap<number, number | undefined>
  /** co_positions(), one per 2-byte code unit (empty when not requested). */
  readonly positions: readonly Position[]
  readonly exceptionEntries: readonly ExceptionEntry[]
  /** 3.13+: byte offset → label number, for jump targets and exception-table boundaries. */
  readonly labels: ReadonlyMap<number, number>
}

/** Options of {@link disassemble}. */
export interface DisassembleOptions {
  /** Decode co_positions() for every instruction (default true; the dis format rarely needs them). */
  readonly positions?: boolean
}

const CONVERSIONS = ['', 'str', 'repr', 'ascii']

/**
 * The instructions of one code object as parallel arrays indexed by instruction number, as
 * {@link decodeStream} leaves them. The arrays are scratch buffers shared by every call (only
 * the first `count` entries are meaningful): read them before decoding the next code object.
 * This is the allocation-free form {@link disassemble} builds its objects from and the dis
 * formatter prints directly.
 */
export interface InstructionStream {
  /** Number of instructions (caches excluded, EXTENDED_ARG prefixes included). */
  readonly count: number
  /** Byte offset of each instruction's opcode. */
  readonly offset: Int32Array
  /** Byte offset of each instruction's first EXTENDED_ARG prefix (= offset when none). */
  readonly startOffset: Int32Array
  /** Opcode as found in co_code (possibly specialized). */
  readonly opcode: Uint8Array
  /** 1 when the instruction has an argument. */
  readonly hasArg: Uint8Array
  /** Full argument after EXTENDED_ARG (always an int32, as dis's arithmetic is), if it has one. */
  readonly arg: Int32Array
  /** Jump target as a byte offset, or NaN when the instruction does not jump. */
  readonly target: Float64Array
}

/** Scratch arrays of {@link decodeStream}, grown to the largest code object seen. */
let scratch = {
  offset: new Int32Array(0),
  startOffset: new Int32Array(0),
  opcode: new Uint8Array(0),
  hasArg: new Uint8Array(0),
  arg: new Int32Array(0),
  target: new Float64Array(0),
}

/**
 * Walks co_code as dis's `_unpack_opargs`: skips inline caches, folds EXTENDED_ARG into the next
 * argument, and computes jump targets. Returns views of shared scratch arrays (see
 * {@link InstructionStream}).
 */
export function decodeStream(bytes: Uint8Array, r: VersionRules): InstructionStream {
  const n = bytes.length
  const capacity = (n + 1) >> 1
  if (scratch.offset.length < capacity) {
    const size = Math.max(capacity, 2 * scratch.offset.length)
    scratch = {
      offset: new Int32Array(size),
      startOffset: new Int32Array(size),
      opcode: new Uint8Array(size),
      hasArg: new Uint8Array(size),
      arg: new Int32Array(size),
      target: new Float64Array(size),
    }
  }
  const { offset, startOffset, opcode, arg: args, target } = scratch
  const argFlags = scratch.hasArg
  const { deopt, hasArg, caches, jumpKind } = r.arrays
  const extendedArg = r.table.extendedArg
  const signed = r.signedExtendedArg
  const unit = r.jumpUnit
  const skipCaches = r.jumpSkipsCaches
  let count = 0
  let ext = 0
  let extCount = 0
  for (let i = 0; i < n; ) {
    const op = bytes[i]!
    const deop = deopt[op]!
    const withArg = hasArg[deop]!
    let arg = 0
    if (withArg) {
      arg = (bytes[i + 1] ?? 0) | ext
      if (deop === extendedArg) {
        ext = arg * 256
        if (signed) {
          if (ext >= 2 ** 31) ext -= 2 ** 32
        } else {
          ext %= 2 ** 32
        }
      } else {
        ext = 0
      }
    } else {
      ext = 0
    }
    offset[count] = i
    opcode[count] = op
    argFlags[count] = withArg
    args[count] = arg
    const kind = jumpKind[deop]!
    target[count] = kind === JumpKind.None || !withArg ? Number.NaN : jumpTargetOf(kind, arg, i, unit, skipCaches ? caches[deop]! : 0)!
    if (deop === extendedArg) {
      extCount++
      startOffset[count] = i
    } else {
      startOffset[count] = i - 2 * extCount
      extCount = 0
    }
    count++
    i += 2 + 2 * caches[deop]!
  }
  return { count, offset, startOffset, opcode, hasArg: argFlags, arg: args, target }
}

/** The pyRepr options of each version, shared by all resolvers. */
const reprOptions: ReprOptions[] = []

function reprOptionsOf(minor: number): ReprOptions {
  return (reprOptions[minor] ??= { minor, codeAddress })
}

/** Numbers below this get their jump argrepr remembered. */
const NUMBERED_LIMIT = 1 << 14

/** `to N` of classic jumps, by target offset (the same few thousand strings recur in every file). */
const jumpTexts = new Array<string | undefined>(NUMBERED_LIMIT).fill(undefined)
/** `to L<n>` / `from L<n>` of labelled jumps, by label number. */
const toLabelTexts = new Array<string | undefined>(NUMBERED_LIMIT).fill(undefined)
const fromLabelTexts = new Array<string | undefined>(NUMBERED_LIMIT).fill(undefined)

/** `${prefix}${n}`, remembered in `texts` for small `n`. */
function numbered(texts: (string | undefined)[], prefix: string, n: number): string {
  if (!(n >= 0 && n < NUMBERED_LIMIT && Number.isInteger(n))) return `${prefix}${n}`
  let text = texts[n]
  if (text === undefined) {
    text = `${prefix}${n}`
    texts[n] = text
  }
  return text
}

/**
 * Computes dis's argrepr (and, on request, argval) of the instructions of one code object in an
 * {@link InstructionStream}, remembering the repr of each constant once printed. Instructions are
 * passed by index: their numbers stay in the stream's typed arrays instead of crossing a call.
 */
export class ArgResolver {
  /** The argval of the last {@link argrepr} call, when the resolver was made with `wantArgval`. */
  argval: ArgValue | undefined
  /** The repr of each constant once printed, by index (made on first use). */
  private constReprs: (string | undefined)[] | undefined
  private readonly reprOpts: ReprOptions

  constructor(
    private readonly code: CodeObject,
    private readonly r: VersionRules,
    private readonly stream: InstructionStream,
    /** The label number (3.13+) of a jump target. */
    private readonly labelOf: (byteOffset: number) => number | undefined,
    /** Also build the {@link ArgValue} (disassemble() does; the dis formatter needs only text). */
    private readonly wantArgval: boolean,
  ) {
    this.reprOpts = reprOptionsOf(r.minor)
  }

  /** dis's argrepr of instruction `k` of the stream, which must have an argument. */
  argrepr(k: number): string {
    const d = this.describe(k)
    if (typeof d === 'string') return d
    // A code object or a str: its repr, remembered like those of other constants.
    return this.constRepr(this.stream.arg[k]!, d)
  }

  /** The repr of co_consts[index], `c`, remembered once printed. */
  private constRepr(index: number, c: PyObject): string {
    const scalar = scalarRepr(c)
    if (scalar !== undefined) return scalar
    // Sized up front (sparse writes would make it a slow dictionary), on first use.
    const reprs = (this.constReprs ??= new Array<string | undefined>(this.code.consts.length).fill(undefined))
    let text = reprs[index]
    if (text === undefined) {
      text = pyRepr(c, this.reprOpts)
      reprs[index] = text
    }
    return text
  }

  /**
   * {@link argrepr} of instruction `k`, except that a code object or str constant comes back as
   * itself rather than as its repr (the dis formatter writes those in place, see writeCodeRepr
   * and writeStrRepr).
   */
  describe(k: number): string | PyCode | PyStr {
    const { code, r, stream } = this
    const deop = r.arrays.deopt[stream.opcode[k]!]!
    const arg = stream.arg[k]!
    const offset = stream.offset[k]!
    const t = r.table
    const want = this.wantArgval
    let argval: ArgValue | undefined = want ? { kind: 'int', value: arg } : undefined
    let argrepr = ''
    const kind = r.argKind[deop] as ArgKind
    // Ordered by how often the kinds occur in real code.
    switch (kind) {
      case ArgKind.Const: {
        const c = code.consts[arg]
        if (c === undefined) throw missing(code, offset, `constant index ${arg}`)
        if (want) argval = { kind: 'const', value: c }
        if (c.type === 'code' || c.type === 'str') {
          this.argval = argval
          return c
        }
        argrepr = this.constRepr(arg, c)
        break
      }
      case ArgKind.Local: {
        const v = this.localName(arg)
        if (v === undefined) throw missing(code, offset, `local variable index ${arg}`)
        if (want) argval = { kind: 'name', value: v }
        argrepr = v
        break
      }
      case ArgKind.Name: {
        const v = code.names[arg]
        if (v === undefined) throw missing(code, offset, `name index ${arg}`)
        if (want) argval = { kind: 'name', value: v }
        argrepr = v
        break
      }
      case ArgKind.LoadGlobal:
      case ArgKind.LoadAttr:
      case ArgKind.LoadSuperAttr: {
        const index = kind === ArgKind.LoadSuperAttr ? arg >> 2 : arg >> 1
        const v = code.names[index]
        if (v === undefined) throw missing(code, offset, `name index ${arg}`)
        if (want) argval = { kind: 'name', value: v }
        argrepr = v
        if (arg & 1) argrepr = withNull(kind === ArgKind.LoadGlobal, r.nullAfter, v)
        break
      }
      case ArgKind.ImportName: {
        const v = code.names[arg >> 2]
        if (v === undefined) throw missing(code, offset, `name index ${arg >> 2}`)
        if (want) argval = { kind: 'name', value: v }
        argrepr = v && arg & 1 ? `${v} + lazy` : v && arg & 2 ? `${v} + eager` : v
        break
      }
      case ArgKind.Jump: {
        const target = stream.target[k]!
        const jumpTarget = Number.isNaN(target) ? undefined : target
        if (r.labels) {
          if (want) argval = { kind: 'jump', value: jumpTarget ?? arg }
          const lbl = jumpTarget === undefined ? undefined : this.labelOf(jumpTarget)
          const from = deop === t.opmap.END_ASYNC_FOR
          argrepr =
            lbl === undefined
              ? `${from ? 'from' : 'to'} L${lbl}`
              : from
                ? numbered(fromLabelTexts, 'from L', lbl)
                : numbered(toLabelTexts, 'to L', lbl)
        } else if (r.jabsArgrepr || r.isRelativeJump(deop)) {
          if (want) argval = { kind: 'jump', value: jumpTarget ?? arg }
          argrepr = jumpTarget === undefined ? `to ${jumpTarget}` : numbered(jumpTexts, 'to ', jumpTarget)
        }
        break
      }
      case ArgKind.UnresolvedConst:
        if (want) argval = { kind: 'unknown' }
        break
      case ArgKind.LocalPair: {
        const a = this.localName(arg >> 4)
        const b = this.localName(arg & 15)
        if (a === undefined || b === undefined) throw missing(code, offset, `local index in ${arg}`)
        if (want) argval = { kind: 'names', value: [a, b] }
        argrepr = `${a}, ${b}`
        break
      }
      case ArgKind.Free: {
        const v = r.localsPlus
          ? code.localsplusnames[arg]
          : (code.cellvars[arg] ?? code.freevars[arg - code.cellvars.length])
        if (v === undefined) throw missing(code, offset, `cell or free variable index ${arg}`)
        if (want) argval = { kind: 'name', value: v }
        argrepr = v
        break
      }
      case ArgKind.Compare: {
        const v = t.cmpOp[arg >> r.compareShift]
        if (v === undefined) throw missing(code, offset, `comparison ${arg}`)
        if (want) argval = { kind: 'compare', value: v }
        argrepr = r.minor >= 13 && arg & 16 ? `bool(${v})` : v
        break
      }
      case ArgKind.FormatValue:
        argrepr = CONVERSIONS[arg & 3]!
        if (arg & 4) argrepr = argrepr ? `${argrepr}, with format` : 'with format'
        break
      case ArgKind.ConvertValue:
        argrepr = CONVERSIONS[arg] ?? ''
        break
      case ArgKind.MakeFunction:
        argrepr = flagNames(t.makeFunctionFlags, arg)
        break
      case ArgKind.FunctionAttribute:
        argrepr = flagNames(t.functionAttrFlags, arg)
        break
      case ArgKind.BinaryOp:
        argrepr = t.nbOps[arg]?.[1] ?? ''
        break
      case ArgKind.Intrinsic1:
        argrepr = t.intrinsic1[arg] ?? ''
        break
      case ArgKind.Intrinsic2:
        argrepr = t.intrinsic2[arg] ?? ''
        break
      case ArgKind.CommonConstant:
        argrepr = t.commonConstants[arg] ?? ''
        break
      case ArgKind.Special:
        argrepr = t.specialMethodNames[arg] ?? ''
        break
      case ArgKind.IsOp:
        argrepr = arg ? 'is not' : 'is'
        break
      case ArgKind.ContainsOp:
        argrepr = arg ? 'not in' : 'in'
        break
      case ArgKind.Plain:
        break
    }
    this.argval = argval
    return argrepr
  }

  private localName(i: number): string | undefined {
    return this.r.localsPlus ? this.code.localsplusnames[i] : this.code.varnames[i]
  }
}

/**
 * argreprs with a NULL marker by name, for all code objects: programs call the same few names
 * everywhere, so a name costs one string for the lot. A direct-mapped cache per kind of marker —
 * LOAD_GLOBAL's `NULL + name`, LOAD_ATTR's / LOAD_SUPER_ATTR's `NULL|self + name`, then both with
 * the marker after the name (3.13+) — keyed by the name's text (a Map would hash all of each new
 * string object, which costs more than this cache's hash of a few characters).
 */
const WITH_NULL_SLOTS = 1 << 10
const withNullNames = new Array<string>(4 * WITH_NULL_SLOTS).fill('')
const withNullTexts = new Array<string>(4 * WITH_NULL_SLOTS).fill('')

/** The argrepr of a name with a NULL marker (see {@link withNullTexts}). */
function withNull(global: boolean, after: boolean, name: string): string {
  // A hash of the length and three characters: enough to tell most names apart.
  const n = name.length
  const mix = n === 0 ? 0 : (n << 16) ^ (name.charCodeAt(0) << 8) ^ name.charCodeAt(n >> 1) ^ (name.charCodeAt(n - 1) << 4)
  const h = Math.imul(mix, 0x9e3779b1)
  const slot = ((global ? 0 : 1) + (after ? 2 : 0)) * WITH_NULL_SLOTS + (h >>> 22)
  if (withNullNames[slot] === name) return withNullTexts[slot]!
  const what = global ? 'NULL' : 'NULL|self'
  const text = after ? `${name} + ${what}` : `${what} + ${name}`
  withNullNames[slot] = name
  withNullTexts[slot] = text
  return text
}

/** Decodes one code object (not its children) into instructions, as dis would show them. */
export function disassemble(code: CodeObject, options: DisassembleOptions = {}): Disassembly {
  const r = versionRules(code.pythonVersion[1])
  const n = code.code.length
  const stream = decodeStream(code.code, r)
  const { count } = stream
  const starts = new Map(lineStarts(r.minor, code.linetable, code.firstlineno, n))
  const wantPositions = options.positions !== false
  const pos = wantPositions ? positions(r.minor, code.linetable, code.firstlineno, n, Math.ceil(n / 2)) : []
  const exc = r.exceptionTable ? parseExceptionTable(code.exceptiontable) : []

  // Jump targets (dis's findlabels), then labels for 3.13+.
  const labelOffsets = new Set<number>()
  for (let k = 0; k < count; k++) {
    const target = stream.target[k]!
    if (!Number.isNaN(target)) labelOffsets.add(target)
  }
  for (const e of exc) {
    if (r.labels) labelOffsets.add(e.start).add(e.end).add(e.target)
    else if (e.end > e.start) labelOffsets.add(e.target)
  }
  const labels = new Map<number, number>()
  if (r.labels) {
    const sorted = [...labelOffsets].sort((a, b) => a - b)
    for (let k = 0; k < sorted.length; k++) labels.set(sorted[k]!, k + 1)
  }
  const resolver = new ArgResolver(code, r, stream, (offset) => labels.get(offset), true)
  const { deopt, caches, opnames } = r.arrays

  let line: number | undefined
  const out: Instruction[] = new Array(count)
  for (let k = 0; k < count; k++) {
    const offset = stream.offset[k]!
    const op = stream.opcode[k]!
    const a = stream.arg[k]!
    const t = stream.target[k]!
    const deop = deopt[op]!
    const startsLine = starts.has(offset)
    if (startsLine) line = starts.get(offset)
    const hasArg = stream.hasArg[k] === 1
    const argrepr = hasArg ? resolver.argrepr(k) : ''
    out[k] = {
      offset,
      startOffset: stream.startOffset[k]!,
      opcode: op,
      opname: opnames[op]!,
      baseOpcode: deop,
      arg: hasArg ? a : undefined,
      argval: hasArg ? resolver.argval : undefined,
      argrepr,
      cacheCount: caches[deop]!,
      jumpTarget: hasArg && r.argKind[deop] === ArgKind.Jump && !Number.isNaN(t) ? t : undefined,
      startsLine,
      line,
      position: pos[offset >> 1] ?? NO_POSITION,
      isJumpTarget: labelOffsets.has(offset),
      label: labels.get(offset),
    }
  }
  return { code, rules: r, instructions: out, lineStarts: starts, positions: pos, exceptionEntries: exc, labels }
}

const NO_POSITION: Position = Object.freeze({})

function flagNames(names: readonly string[], arg: number): string {
  return names.filter((_, i) => arg & (1 << i)).join(', ')
}

function missing(code: CodeObject, offset: number, what: string): Error {
  return new BytecodeError('BAD_BYTECODE', `${code.qualname}: instruction at byte ${offset} refers to a missing ${what}`, offset)
}
