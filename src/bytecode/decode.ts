/**
 * Decoding co_code into instructions with resolved arguments, as CPython's dis computes them.
 */
import type { PyObject } from '../marshal/index.js'
import { codeAddress } from './address.js'
import type { CodeObject } from './code.js'
import { BytecodeError } from './errors.js'
import { type ExceptionEntry, parseExceptionTable } from './exceptions.js'
import { lineStarts, type Position, positions } from './lines.js'
import { pyRepr } from './pyrepr.js'
import { type VersionRules, versionRules } from './rules.js'

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
  /** co_positions(), one per 2-byte code unit. */
  readonly positions: readonly Position[]
  readonly exceptionEntries: readonly ExceptionEntry[]
  /** 3.13+: byte offset → label number, for jump targets and exception-table boundaries. */
  readonly labels: ReadonlyMap<number, number>
}

/** A raw instruction as walked by dis's _unpack_opargs. */
interface Raw {
  offset: number
  startOffset: number
  op: number
  arg: number | undefined
}

function* unpack(code: Uint8Array, r: VersionRules): Generator<Raw> {
  let ext = 0
  let extCount = 0
  let caches = 0
  const extendedArg = r.table.extendedArg
  for (let i = 0; i + 1 < code.length + 1 && i < code.length; i += 2) {
    if (caches) {
      caches--
      continue
    }
    const op = code[i]!
    const deop = r.deopt(op)
    caches = r.caches(deop)
    let arg: number | undefined
    if (r.hasArg(deop)) {
      arg = (code[i + 1] ?? 0) | ext
      ext = deop === extendedArg ? arg * 256 : 0
      if (r.signedExtendedArg && ext >= 2 ** 31) ext -= 2 ** 32
      if (!r.signedExtendedArg) ext = ext % 2 ** 32
    } else {
      arg = undefined
      ext = 0
    }
    if (deop === extendedArg) {
      extCount++
      yield { offset: i, startOffset: i, op, arg }
    } else {
      yield { offset: i, startOffset: i - 2 * extCount, op, arg }
      extCount = 0
    }
  }
}

/** Decodes one code object (not its children) into instructions, as dis would show them. */
export function disassemble(code: CodeObject): Disassembly {
  const r = versionRules(code.pythonVersion[1])
  const t = r.table
  const raws = [...unpack(code.code, r)]
  const starts = new Map(lineStarts(r.minor, code.linetable, code.firstlineno, code.code.length))
  const pos = r.minor >= 11 ? positions(r.minor, code.linetable, code.firstlineno, code.code.length) : []
  const exc = r.exceptionTable ? parseExceptionTable(code.exceptiontable) : []

  // Jump targets, in dis's findlabels order.
  const targets = new Set<number>()
  for (const x of raws) {
    if (x.arg === undefined) continue
    const target = r.jumpTarget(r.deopt(x.op), x.arg, x.offset)
    if (target !== undefined) targets.add(target)
  }
  const labelOffsets = new Set(targets)
  if (r.exceptionTable) {
    for (const e of exc) {
      if (r.labels) {
        labelOffsets.add(e.start).add(e.end).add(e.target)
      } else if (e.end > e.start) {
        labelOffsets.add(e.target)
      }
    }
  }
  const labels = new Map<number, number>()
  if (r.labels) {
    const sorted = [...labelOffsets].sort((a, b) => a - b)
    for (const [i, off] of sorted.entries()) labels.set(off, i + 1)
  }

  const names = code.names
  const localName = (i: number): string | undefined =>
    r.localsPlus ? code.localsplusnames[i] : code.varnames[i]
  const freeName = (i: number): string | undefined =>
    r.localsPlus ? code.localsplusnames[i] : (code.cellvars[i] ?? code.freevars[i - code.cellvars.length])
  const op = t.opmap
  const setOf = (xs: readonly number[] | undefined) => new Set(xs ?? [])
  const hasConst = setOf(t.hasConst)
  const hasName = setOf(t.hasName)
  const hasLocal = setOf(t.hasLocal)
  const hasFree = setOf(t.hasFree)
  const hasCompare = setOf(t.hasCompare)
  const hasJump = new Set([...(t.hasJrel ?? []), ...(t.hasJabs ?? []), ...(t.hasJump ?? [])])
  const hasExc = setOf(t.hasExc)
  const jrel = setOf(t.hasJrel)
  const reprOpts = { minor: r.minor, codeAddress }

  let line: number | undefined
  const out: Instruction[] = []
  for (const x of raws) {
    const deop = r.deopt(x.op)
    const startsLine = starts.has(x.offset)
    if (startsLine) line = starts.get(x.offset)
    let argval: ArgValue | undefined
    let argrepr = ''
    const arg = x.arg
    let jumpTarget: number | undefined
    if (arg !== undefined) {
      argval = { kind: 'int', value: arg }
      const name = (v: string | undefined): void => {
        if (v === undefined) throw missing(code, x.offset, `name index ${arg}`)
        argval = { kind: 'name', value: v }
        argrepr = v
      }
      if (hasConst.has(deop)) {
        if (r.onlyLoadConstResolves && deop !== op.LOAD_CONST) {
          argval = { kind: 'unknown' }
        } else {
          const c = code.consts[arg]
          if (c === undefined) throw missing(code, x.offset, `constant index ${arg}`)
          argval = { kind: 'const', value: c }
          argrepr = pyRepr(c, reprOpts)
        }
      } else if (hasName.has(deop)) {
        if (deop === op.LOAD_GLOBAL && r.minor >= 11) {
          name(names[arg >> 1])
          if (arg & 1) argrepr = r.nullAfter ? `${argrepr} + NULL` : `NULL + ${argrepr}`
        } else if (deop === op.LOAD_ATTR && r.minor >= 12) {
          name(names[arg >> 1])
          if (arg & 1) argrepr = r.nullAfter ? `${argrepr} + NULL|self` : `NULL|self + ${argrepr}`
        } else if (deop === op.LOAD_SUPER_ATTR) {
          name(names[arg >> 2])
          if (arg & 1) argrepr = r.nullAfter ? `${argrepr} + NULL|self` : `NULL|self + ${argrepr}`
        } else {
          name(names[arg])
        }
      } else if (r.labels ? hasJump.has(deop) || hasExc.has(deop) : hasJump.has(deop)) {
        jumpTarget = r.jumpTarget(deop, arg, x.offset)
        if (r.labels) {
          argval = { kind: 'jump', value: jumpTarget ?? arg }
          const lbl = jumpTarget === undefined ? undefined : labels.get(jumpTarget)
          argrepr = `${deop === op.END_ASYNC_FOR ? 'from' : 'to'} L${lbl}`
        } else if (jrel.has(deop) || r.jabsArgrepr) {
          argval = { kind: 'jump', value: jumpTarget ?? arg }
          argrepr = `to ${jumpTarget}`
        }
      } else if (
        deop === op.LOAD_FAST_LOAD_FAST ||
        deop === op.STORE_FAST_LOAD_FAST ||
        deop === op.STORE_FAST_STORE_FAST ||
        deop === op.LOAD_FAST_BORROW_LOAD_FAST_BORROW
      ) {
        const a = localName(arg >> 4)
        const b = localName(arg & 15)
        if (a === undefined || b === undefined) throw missing(code, x.offset, `local index in ${arg}`)
        argval = { kind: 'names', value: [a, b] }
        argrepr = `${a}, ${b}`
      } else if (hasLocal.has(deop)) {
        name(localName(arg))
      } else if (hasFree.has(deop)) {
        name(freeName(arg))
      } else if (hasCompare.has(deop)) {
        const v = t.cmpOp[arg >> r.compareShift]
        if (v === undefined) throw missing(code, x.offset, `comparison ${arg}`)
        argval = { kind: 'compare', value: v }
        argrepr = r.minor >= 13 && arg & 16 ? `bool(${v})` : v
      } else if (deop === op.FORMAT_VALUE) {
        argrepr = ['', 'str', 'repr', 'ascii'][arg & 3]!
        if (arg & 4) argrepr = argrepr ? `${argrepr}, with format` : 'with format'
      } else if (deop === op.CONVERT_VALUE) {
        argrepr = ['', 'str', 'repr', 'ascii'][arg] ?? ''
      } else if (deop === op.MAKE_FUNCTION && r.minor <= 12) {
        argrepr = flagNames(t.makeFunctionFlags, arg)
      } else if (deop === op.SET_FUNCTION_ATTRIBUTE) {
        argrepr = flagNames(t.functionAttrFlags, arg)
      } else if (deop === op.BINARY_OP) {
        argrepr = t.nbOps[arg]?.[1] ?? ''
      } else if (deop === op.CALL_INTRINSIC_1) {
        argrepr = t.intrinsic1[arg] ?? ''
      } else if (deop === op.CALL_INTRINSIC_2) {
        argrepr = t.intrinsic2[arg] ?? ''
      } else if (deop === op.LOAD_COMMON_CONSTANT) {
        argrepr = t.commonConstants[arg] ?? ''
      } else if (deop === op.LOAD_SPECIAL) {
        argrepr = t.specialMethodNames[arg] ?? ''
      } else if (deop === op.IS_OP && r.minor >= 14) {
        argrepr = arg ? 'is not' : 'is'
      } else if (deop === op.CONTAINS_OP && r.minor >= 14) {
        argrepr = arg ? 'not in' : 'in'
      }
    }
    out.push({
      offset: x.offset,
      startOffset: x.startOffset,
      opcode: x.op,
      opname: r.opname(x.op),
      baseOpcode: deop,
      arg,
      argval,
      argrepr,
      cacheCount: r.caches(deop),
      jumpTarget,
      startsLine,
      line,
      position: pos[x.offset >> 1] ?? {},
      isJumpTarget: labelOffsets.has(x.offset),
      label: labels.get(x.offset),
    })
  }
  return { code, rules: r, instructions: out, lineStarts: starts, positions: pos, exceptionEntries: exc, labels }
}


function flagNames(names: readonly string[], arg: number): string {
  return names.filter((_, i) => arg & (1 << i)).join(', ')
}

function missing(code: CodeObject, offset: number, what: string): Error {
  return new BytecodeError('BAD_BYTECODE', `${code.qualname}: instruction at byte ${offset} refers to a missing ${what}`, offset)
}
