/**
 * How each CPython version lays out and describes its bytecode, as small named rules over the
 * generated opcode tables. Everything version-specific in decoding and formatting is decided
 * here, so the decoder and formatters hold no scattered version checks.
 */
import { BytecodeError } from './errors.js'
import type { OpcodeTable } from './opcodes/types.js'
import { opcodeTable, SUPPORTED_MINORS } from './opcodes/index.js'

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
}

const cache = new Map<number, VersionRules>()

/** The rules of a Python 3 minor version; throws BytecodeError for versions outside 3.8–3.14. */
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
  const deoptOf = new Map<number, number>()
  for (const [name, op] of Object.entries(t.specializedOpmap)) {
    if (names[op]?.startsWith('<') || names[op] === name) names[op] = name
    const base = t.deopt[name]
    const baseOp = base === undefined ? undefined : t.opmap[base]
    if (baseOp !== undefined) deoptOf.set(op, baseOp)
  }
  const set = (xs: readonly number[] | undefined) => new Set(xs ?? [])
  const hasArgSet = set(t.hasArg)
  const jrel = set(t.hasJrel)
  const jabs = set(t.hasJabs)
  const cacheByOp = new Map<number, number>()
  for (const [name, n] of Object.entries(t.cacheEntries)) {
    const op = t.opmap[name]
    if (op !== undefined) cacheByOp.set(op, n)
  }
  const backwardNames =
    minor >= 14
      ? ['JUMP_BACKWARD', 'JUMP_BACKWARD_NO_INTERRUPT', 'END_ASYNC_FOR']
      : minor >= 13
        ? ['JUMP_BACKWARD', 'JUMP_BACKWARD_NO_INTERRUPT']
        : names.filter((n) => n.includes('JUMP_BACKWARD'))
  const backward = new Set(backwardNames.map((n) => t.opmap[n]).filter((x): x is number => x !== undefined))
  const caches = (op: number) => cacheByOp.get(op) ?? 0
  const unit = minor >= 10 ? 2 : 1
  return {
    argKind: argKinds(minor, t),
    isRelativeJump: (op) => jrel.has(op),
    minor,
    table: t,
    opname: (op) => names[op] ?? `<${op}>`,
    deopt: (op) => deoptOf.get(op) ?? op,
    hasArg: minor >= 12 ? (op) => hasArgSet.has(op) : (op) => op >= t.haveArgument,
    caches,
    jumpTarget: (op, arg, offset) => {
      if (jrel.has(op)) {
        const signed = backward.has(op) ? -arg : arg
        return offset + 2 + signed * unit + (minor >= 12 ? 2 * caches(op) : 0)
      }
      if (jabs.has(op)) return arg * unit
      return undefined
    },
    jabsArgrepr: minor >= 10,
    signedExtendedArg: minor >= 11,
    labels: minor >= 13,
    nullAfter: minor >= 13,
    compareShift: minor >= 13 ? 5 : minor >= 12 ? 4 : 0,
    onlyLoadConstResolves: minor === 11,
    localsPlus: minor >= 11,
    exceptionTable: minor >= 11,
  }
}

/** Classifies every opcode as dis's argval/argrepr code does, first matching branch first. */
function argKinds(minor: number, t: OpcodeTable): Uint8Array {
  const kinds = new Uint8Array(256)
  const has = (xs: readonly number[] | undefined) => new Set(xs ?? [])
  const hasConst = has(t.hasConst)
  const hasName = has(t.hasName)
  const jumps = minor >= 13 ? new Set([...(t.hasJump ?? []), ...t.hasExc]) : new Set([...t.hasJrel, ...t.hasJabs])
  const hasLocal = has(t.hasLocal)
  const hasFree = has(t.hasFree)
  const hasCompare = has(t.hasCompare)
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
