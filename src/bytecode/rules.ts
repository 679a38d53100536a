/**
 * How each CPython version lays out and describes its bytecode, as small named rules over the
 * generated opcode tables. Everything version-specific in decoding and formatting is decided
 * here, so the decoder and formatters hold no scattered version checks.
 */
import { BytecodeError } from './errors.js'
import type { OpcodeTable } from './opcodes/types.js'
import { opcodeTable, SUPPORTED_MINORS } from './opcodes/index.js'

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
