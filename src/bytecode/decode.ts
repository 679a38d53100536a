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
import { ArgKind, type VersionRules, versionRules } from './rules.js'

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

/** Decodes one code object (not its children) into instructions, as dis would show them. */
export function disassemble(code: CodeObject, options: DisassembleOptions = {}): Disassembly {
  const r = versionRules(code.pythonVersion[1])
  const t = r.table
  const bytes = code.code
  const n = bytes.length

  // Walk the code units as dis's _unpack_opargs: skip caches, fold EXTENDED_ARG into the next arg.
  const offsets: number[] = []
  const starts0: number[] = []
  const ops: number[] = []
  const args: (number | undefined)[] = []
  {
    let ext = 0
    let extCount = 0
    let skip = 0
    const extendedArg = t.extendedArg
    for (let i = 0; i < n; i += 2) {
      if (skip) {
        skip--
        continue
      }
      const op = bytes[i]!
      const deop = r.deopt(op)
      skip = r.caches(deop)
      let arg: number | undefined
      if (r.hasArg(deop)) {
        arg = (bytes[i + 1] ?? 0) | ext
        ext = deop === extendedArg ? arg * 256 : 0
        if (r.signedExtendedArg) {
          if (ext >= 2 ** 31) ext -= 2 ** 32
        } else {
          ext %= 2 ** 32
        }
      } else {
        ext = 0
      }
      offsets.push(i)
      ops.push(op)
      args.push(arg)
      if (deop === extendedArg) {
        extCount++
        starts0.push(i)
      } else {
        starts0.push(i - 2 * extCount)
        extCount = 0
      }
    }
  }
  const count = offsets.length
  const starts = new Map(lineStarts(r.minor, code.linetable, code.firstlineno, n))
  const wantPositions = options.positions !== false
  const pos = wantPositions ? positions(r.minor, code.linetable, code.firstlineno, n) : []
  const exc = r.exceptionTable ? parseExceptionTable(code.exceptiontable) : []

  // Jump targets (dis's findlabels), then labels for 3.13+.
  const labelOffsets = new Set<number>()
  const targets: (number | undefined)[] = new Array(count)
  for (let k = 0; k < count; k++) {
    const arg = args[k]
    if (arg === undefined) continue
    const target = r.jumpTarget(r.deopt(ops[k]!), arg, offsets[k]!)
    targets[k] = target
    if (target !== undefined) labelOffsets.add(target)
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

  const names = code.names
  const localName = (i: number): string | undefined => (r.localsPlus ? code.localsplusnames[i] : code.varnames[i])
  const freeName = (i: number): string | undefined =>
    r.localsPlus ? code.localsplusnames[i] : (code.cellvars[i] ?? code.freevars[i - code.cellvars.length])
  const reprOpts = { minor: r.minor, codeAddress }
  const constReprs = new Map<number, string>()
  const endAsyncFor = t.opmap.END_ASYNC_FOR

  let line: number | undefined
  const out: Instruction[] = new Array(count)
  for (let k = 0; k < count; k++) {
    const offset = offsets[k]!
    const op = ops[k]!
    const arg = args[k]
    const deop = r.deopt(op)
    const startsLine = starts.has(offset)
    if (startsLine) line = starts.get(offset)
    let argval: ArgValue | undefined
    let argrepr = ''
    let jumpTarget: number | undefined
    if (arg !== undefined) {
      argval = { kind: 'int', value: arg }
      let nameIndex = -1
      switch (r.argKind[deop] as ArgKind) {
        case ArgKind.Const: {
          const c = code.consts[arg]
          if (c === undefined) throw missing(code, offset, `constant index ${arg}`)
          argval = { kind: 'const', value: c }
          let text = constReprs.get(arg)
          if (text === undefined) {
            text = pyRepr(c, reprOpts)
            constReprs.set(arg, text)
          }
          argrepr = text
          break
        }
        case ArgKind.UnresolvedConst:
          argval = { kind: 'unknown' }
          break
        case ArgKind.Name:
          nameIndex = arg
          break
        case ArgKind.LoadGlobal:
        case ArgKind.LoadAttr:
        case ArgKind.LoadSuperAttr: {
          const kind = r.argKind[deop] as ArgKind
          const v = names[kind === ArgKind.LoadSuperAttr ? arg >> 2 : arg >> 1]
          if (v === undefined) throw missing(code, offset, `name index ${arg}`)
          argval = { kind: 'name', value: v }
          argrepr = v
          if (arg & 1) {
            const what = kind === ArgKind.LoadGlobal ? 'NULL' : 'NULL|self'
            argrepr = r.nullAfter ? `${v} + ${what}` : `${what} + ${v}`
          }
          break
        }
        case ArgKind.Jump:
          jumpTarget = targets[k]
          if (r.labels) {
            argval = { kind: 'jump', value: jumpTarget ?? arg }
            const lbl = jumpTarget === undefined ? undefined : labels.get(jumpTarget)
            argrepr = `${deop === endAsyncFor ? 'from' : 'to'} L${lbl}`
          } else if (r.jabsArgrepr || r.isRelativeJump(deop)) {
            argval = { kind: 'jump', value: jumpTarget ?? arg }
            argrepr = `to ${jumpTarget}`
          }
          break
        case ArgKind.LocalPair: {
          const a = localName(arg >> 4)
          const b = localName(arg & 15)
          if (a === undefined || b === undefined) throw missing(code, offset, `local index in ${arg}`)
          argval = { kind: 'names', value: [a, b] }
          argrepr = `${a}, ${b}`
          break
        }
        case ArgKind.Local: {
          const v = localName(arg)
          if (v === undefined) throw missing(code, offset, `local variable index ${arg}`)
          argval = { kind: 'name', value: v }
          argrepr = v
          break
        }
        case ArgKind.Free: {
          const v = freeName(arg)
          if (v === undefined) throw missing(code, offset, `cell or free variable index ${arg}`)
          argval = { kind: 'name', value: v }
          argrepr = v
          break
        }
        case ArgKind.Compare: {
          const v = t.cmpOp[arg >> r.compareShift]
          if (v === undefined) throw missing(code, offset, `comparison ${arg}`)
          argval = { kind: 'compare', value: v }
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
      if (nameIndex >= 0) {
        const v = names[nameIndex]
        if (v === undefined) throw missing(code, offset, `name index ${arg}`)
        argval = { kind: 'name', value: v }
        argrepr = v
      }
    }
    out[k] = {
      offset,
      startOffset: starts0[k]!,
      opcode: op,
      opname: r.opname(op),
      baseOpcode: deop,
      arg,
      argval,
      argrepr,
      cacheCount: r.caches(deop),
      jumpTarget,
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
