/**
 * How each CPython version lays out and describes its bytecode, as small named rules over the
 * generated opcode tables. Everything version-specific in decoding and formatting is decided
 * here, so the decoder and formatters hold no scattered version checks.
 */
import { BytecodeError } from './errors.js'
import type { OpcodeTable } from './opcodes/types.js'
import { opcodeTable, SUPPORTED_MINORS } from './opcodes/index.js'
import { has } from '../versions/index.js'

/** How dis resolves an opcode's argument (the branches of dis's argval/argrepr logic, in order). */
export const enum ArgKind {
  /** No special meaning: argval is the number, argrepr empty. */
  Plain = 0,
  /** Index into co_consts. */
  Const,
  /** A const opcode whose value dis does not resolve (3.11's KW_NAMES). */
  UnresolvedConst,
  /** Index into co_names. */
  Name,
  /** LOAD_GLOBAL (3.11+): name index << 1 | push NULL. */
  LoadGlobal,
  /** LOAD_ATTR (3.12+): name index << 1 | method call form. */
  LoadAttr,
  /** LOAD_SUPER_ATTR: name index << 2 | flags. */
  LoadSuperAttr,
  /** A jump (relative or absolute), or an exception-target pseudo-op (3.13+). */
  Jump,
  /** Two 4-bit local indices (LOAD_FAST_LOAD_FAST and friends, 3.13+). */
  LocalPair,
  /** A local variable index. */
  Local,
  /** A cell or free variable index. */
  Free,
  /** COMPARE_OP. */
  Compare,
  /** FORMAT_VALUE's conversion and format-spec bits (≤ 3.12). */
  FormatValue,
  /** CONVERT_VALUE (3.13+). */
  ConvertValue,
  /** MAKE_FUNCTION's flag bits (≤ 3.12). */
  MakeFunction,
  /** SET_FUNCTION_ATTRIBUTE's flag (3.13+). */
  FunctionAttribute,
  /** BINARY_OP's operator (3.11+). */
  BinaryOp,
  Intrinsic1,
  Intrinsic2,
  /** LOAD_COMMON_CONSTANT (3.14). */
  CommonConstant,
  /** LOAD_SPECIAL (3.14). */
  Special,
  /** IS_OP shown as is / is not (3.14). */
  IsOp,
  /** CONTAINS_OP shown as in / not in (3.14). */
  ContainsOp,
  /** IMPORT_NAME (3.15): name index << 2 | lazy (1) / eager (2) flags. */
  ImportName,
}

/** How an opcode's argument gives a jump target (see {@link VersionRules.jumpTarget}). */
export const enum JumpKind {
  /** Not a jump. */
  None = 0,
  /** Relative jump forward from the next instruction (after its caches from 3.12). */
  Forward,
  /** Relative jump backward (JUMP_BACKWARD*, 3.11+). */
  Backward,
  /** Absolute jump (≤ 3.10). */
  Absolute,
}

/**
 * The functions of {@link VersionRules} as arrays indexed by opcode (0–255), for the decoder's
 * per-instruction loop: an array read costs much less than a call into a closure over a Set.
 */
export interface OpcodeArrays {
  /** Opcode → base opcode (identity for base opcodes). */
  readonly deopt: Uint8Array
  /** Base opcode → 1 when it takes an argument. */
  readonly hasArg: Uint8Array
  /** Base opcode → inline cache entries that follow it. */
  readonly caches: Uint8Array
  /** Base opcode → {@link JumpKind}. */
  readonly jumpKind: Uint8Array
  /** Opcode → name, as {@link VersionRules.opname}. */
  readonly opnames: readonly string[]
}

/** Version rules, derived once per Python minor version. */
export interface VersionRules {
  readonly minor: number
  readonly table: OpcodeTable
  /** Opcode number → name, with specialized instructions (3.11+) and `<N>` for unused numbers. */
  readonly opname: (op: number) => string
  /** Opcode number of a specialized instruction → its base opcode (identity for base opcodes). */
  readonly deopt: (op: number) => number
  /** Whether the (base) opcode takes its argument from the second byte. */
  readonly hasArg: (op: number) => boolean
  /** Inline cache entries (2-byte units) after a (base) opcode; 0 before 3.11. */
  readonly caches: (op: number) => number
  /** Jump target in bytes for a (base) opcode and argument at `offset`, or undefined if not a jump. */
  readonly jumpTarget: (op: number, arg: number, offset: number) => number | undefined
  /** Whether dis prints "to N" for absolute jumps (3.10+; 3.8/3.9 print the raw argument only). */
  readonly jabsArgrepr: boolean
  /** EXTENDED_ARG accumulates as a signed C int (3.11+). */
  readonly signedExtendedArg: boolean
  /** dis marks jump targets with labels `L1:` (3.13+) rather than `>>` markers. */
  readonly labels: boolean
  /** Where the NULL marker of LOAD_GLOBAL/LOAD_ATTR goes: "NULL + x" (3.11, 3.12) or "x + NULL" (3.13+). */
  readonly nullAfter: boolean
  /** COMPARE_OP's argument is shifted by this many bits before indexing cmp_op. */
  readonly compareShift: number
  /** 3.11 only resolves LOAD_CONST among the const opcodes (KW_NAMES shows no value). */
  readonly onlyLoadConstResolves: boolean
  /** ≤ 3.10: local/free opargs index varnames and cellvars+freevars; 3.11+: localsplusnames. */
  readonly localsPlus: boolean
  /** 3.11+: exception-table targets are labels too. */
  readonly exceptionTable: boolean
  /** How dis resolves the argument of each base opcode ({@link ArgKind}), indexed by opcode. */
  readonly argKind: Uint8Array
  /** Relative jumps print "to N" (all versions); absolute ones only from 3.10. */
  readonly isRelativeJump: (op: number) => boolean
  /** The per-opcode functions above as lookup arrays. */
  readonly arrays: OpcodeArrays
  /** Bytes per unit of a jump argument: 1 before 3.10 (byte offsets), 2 from 3.10 (code units). */
  readonly jumpUnit: number
  /** Whether a relative jump also skips the jumping instruction's caches (3.12+). */
  readonly jumpSkipsCaches: boolean
}

const cache = new Map<number, VersionRules>()

/** The rules of a Python 3 minor version; throws BytecodeError for unsupported versions. */
export function versionRules(minor: number): VersionRules {
  let rules = cache.get(minor)
  if (!rules) {
    if (!SUPPORTED_MINORS.includes(minor)) {
      throw new BytecodeError(
        'UNSUPPORTED_VERSION',
        `pyxray disassembles CPython 3.${SUPPORTED_MINORS[0]}–3.${SUPPORTED_MINORS.at(-1)} bytecode, not 3.${minor}`,
      )
    }
    rules = makeRules(minor, opcodeTable(minor))
    cache.set(minor, rules)
  }
  return rules
}

function makeRules(minor: number, t: OpcodeTable): VersionRules {
  const names: string[] = []
  for (let op = 0; op < 256; op++) names.push(t.opnames[op] ?? `<${op}>`)
  const deopt = new Uint8Array(256)
  for (let op = 0; op < 256; op++) deopt[op] = op
  for (const [name, op] of Object.entries(t.specializedOpmap)) {
    if (names[op]?.startsWith('<') || names[op] === name) names[op] = name
    const base = t.deopt[name]
    const baseOp = base === undefined ? undefined : t.opmap[base]
    if (baseOp !== undefined && op < 256) deopt[op] = baseOp
  }
  const hasArg = new Uint8Array(256)
  if (minor >= 12) for (const op of t.hasArg ?? []) hasArg[op] = 1
  else hasArg.fill(1, t.haveArgument)
  const caches = new Uint8Array(256)
  for (const [name, n] of Object.entries(t.cacheEntries)) {
    const op = t.opmap[name]
    if (op !== undefined) caches[op] = n
  }
  const backwardNames =
    minor >= 14
      ? ['JUMP_BACKWARD', 'JUMP_BACKWARD_NO_INTERRUPT', 'END_ASYNC_FOR']
      : minor >= 13
        ? ['JUMP_BACKWARD', 'JUMP_BACKWARD_NO_INTERRUPT']
        : names.filter((n) => n.includes('JUMP_BACKWARD'))
  const backward = new Set(backwardNames.map((n) => t.opmap[n]).filter((x): x is number => x !== undefined))
  const jumpKind = new Uint8Array(256)
  for (const op of t.hasJabs) if (op < 256) jumpKind[op] = JumpKind.Absolute
  // Relative wins over absolute, as in the Set-based lookup this table replaced.
  for (const op of t.hasJrel) if (op < 256) jumpKind[op] = backward.has(op) ? JumpKind.Backward : JumpKind.Forward
  const unit = minor >= 10 ? 2 : 1
  const jumpSkipsCaches = minor >= 12
  return {
    argKind: argKinds(minor, t),
    isRelativeJump: (op) => jumpKind[op] === JumpKind.Forward || jumpKind[op] === JumpKind.Backward,
    minor,
    table: t,
    opname: (op) => names[op] ?? `<${op}>`,
    deopt: (op) => deopt[op] ?? op,
    // Pseudo-ops (>= 256) never occur in co_code; answer for them as the opcode lists do.
    hasArg: (op) => (op < 256 ? hasArg[op] === 1 : minor >= 12 ? (t.hasArg ?? []).includes(op) : op >= t.haveArgument),
    caches: (op) => caches[op] ?? 0,
    jumpTarget: (op, arg, offset) => jumpTargetOf(jumpKind[op] ?? JumpKind.None, arg, offset, unit, jumpSkipsCaches ? caches[op]! : 0),
    jabsArgrepr: minor >= 10,
    signedExtendedArg: minor >= 11,
    labels: minor >= 13,
    nullAfter: minor >= 13,
    compareShift: minor >= 13 ? 5 : minor >= 12 ? 4 : 0,
    onlyLoadConstResolves: minor === 11,
    localsPlus: minor >= 11,
    exceptionTable: minor >= 11,
    arrays: { deopt, hasArg, caches, jumpKind, opnames: names },
    jumpUnit: unit,
    jumpSkipsCaches,
  }
}

/**
 * The byte offset a jump of kind `kind` at `offset` with argument `arg` lands on, or undefined when
 * `kind` is {@link JumpKind.None}; `unit` is {@link VersionRules.jumpUnit} and `caches` the
 * cache entries skipped (0 before 3.12).
 */
export function jumpTargetOf(kind: number, arg: number, offset: number, unit: number, caches: number): number | undefined {
  switch (kind) {
    case JumpKind.Forward:
      return offset + 2 + arg * unit + 2 * caches
    case JumpKind.Backward:
      return offset + 2 - arg * unit + 2 * caches
    case JumpKind.Absolute:
      return arg * unit
    default:
      return undefined
  }
}

/** Classifies every opcode as dis's argval/argrepr code does, first matching branch first. */
function argKinds(minor: number, t: OpcodeTable): Uint8Array {
  const kinds = new Uint8Array(256)
  const setOf = (xs: readonly number[] | undefined) => new Set(xs ?? [])
  const hasConst = setOf(t.hasConst)
  const hasName = setOf(t.hasName)
  const jumps = minor >= 13 ? new Set([...(t.hasJump ?? []), ...t.hasExc]) : new Set([...t.hasJrel, ...t.hasJabs])
  const hasLocal = setOf(t.hasLocal)
  const hasFree = setOf(t.hasFree)
  const hasCompare = setOf(t.hasCompare)
  const op = t.opmap
  const special: [string | undefined, ArgKind, boolean][] = [
    ['LOAD_FAST_LOAD_FAST', ArgKind.LocalPair, true],
    ['STORE_FAST_LOAD_FAST', ArgKind.LocalPair, true],
    ['STORE_FAST_STORE_FAST', ArgKind.LocalPair, true],
    ['LOAD_FAST_BORROW_LOAD_FAST_BORROW', ArgKind.LocalPair, true],
  ]
  const late: [string, ArgKind, boolean][] = [
    ['FORMAT_VALUE', ArgKind.FormatValue, true],
    ['CONVERT_VALUE', ArgKind.ConvertValue, true],
    ['MAKE_FUNCTION', ArgKind.MakeFunction, minor <= 12],
    ['SET_FUNCTION_ATTRIBUTE', ArgKind.FunctionAttribute, true],
    ['BINARY_OP', ArgKind.BinaryOp, true],
    ['CALL_INTRINSIC_1', ArgKind.Intrinsic1, true],
    ['CALL_INTRINSIC_2', ArgKind.Intrinsic2, true],
    ['LOAD_COMMON_CONSTANT', ArgKind.CommonConstant, true],
    ['LOAD_SPECIAL', ArgKind.Special, true],
    ['IS_OP', ArgKind.IsOp, minor >= 14],
    ['CONTAINS_OP', ArgKind.ContainsOp, minor >= 14],
  ]
  const named = (list: [string | undefined, ArgKind, boolean][], o: number) =>
    list.find(([name, , on]) => on && name !== undefined && op[name] === o)?.[1]
  for (let o = 0; o < 256; o++) {
    let k: ArgKind = ArgKind.Plain
    if (hasConst.has(o)) k = minor === 11 && o !== op.LOAD_CONST ? ArgKind.UnresolvedConst : ArgKind.Const
    else if (hasName.has(o)) {
      if (o === op.LOAD_GLOBAL && minor >= 11) k = ArgKind.LoadGlobal
      else if (o === op.LOAD_ATTR && minor >= 12) k = ArgKind.LoadAttr
      else if (o === op.LOAD_SUPER_ATTR) k = ArgKind.LoadSuperAttr
      else if (o === op.IMPORT_NAME && has(minor, 'lazyImportFlags')) k = ArgKind.ImportName
      else k = ArgKind.Name
    } else if (jumps.has(o)) k = ArgKind.Jump
    else if (named(special, o) !== undefined) k = named(special, o)!
    else if (hasLocal.has(o)) k = ArgKind.Local
    else if (hasFree.has(o)) k = ArgKind.Free
    else if (hasCompare.has(o)) k = ArgKind.Compare
    else k = named(late, o) ?? ArgKind.Plain
    kinds[o] = k
  }
  return kinds
}
