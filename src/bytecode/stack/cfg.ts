/**
 * The control-flow graph of one code object: basic blocks of instructions, joined by
 * fall-through, jump and exception-handler edges.
 *
 * Blocks start at the first instruction, at every jump target and handler, after every jump or
 * path-ending instruction, and (3.11+) where an exception-table range starts or ends, so that
 * each block is covered by at most one handler. Handler edges:
 * - 3.11+: from every block inside an exception-table range to its target; the handler starts
 *   with `depth` slots from the table, +1 for the offset of the raising instruction when the entry
 *   has `lasti`, +1 for the exception itself ({@link CfgEdge.handlerDepth}).
 * - ≤ 3.10: from SETUP_FINALLY / SETUP_WITH / SETUP_ASYNC_WITH to their handler; the handler
 *   starts with the depth at the SETUP_* plus its `jump` stack effect (the 6 exception slots).
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */
import type { CodeObject } from '../code.js'
import type { Disassembly, Instruction } from '../decode.js'
import { decodeStream } from '../decode.js'
import { type ExceptionEntry, parseExceptionTable } from '../exceptions.js'
import { type StackModelRules, stackModelRules } from './model.js'

/** The fields of an instruction the graph needs (a {@link Instruction} has them all). */
export type CfgInstruction = Pick<Instruction, 'offset' | 'opcode' | 'baseOpcode' | 'arg' | 'jumpTarget' | 'cacheCount'>

/** What {@link buildCfg} reads: a {@link Disassembly}, or the lighter {@link cfgInput} of a code object. */
export interface CfgInput {
  readonly code: CodeObject
  readonly instructions: readonly CfgInstruction[]
  /** 3.11+: co_exceptiontable, offsets in bytes; empty before 3.11. */
  readonly exceptionEntries: readonly ExceptionEntry[]
}

/** How control gets from one block to another. */
export type CfgEdgeKind =
  /** Falls through to the next instruction (the `jump=False` stack effect applies). */
  | 'next'
  /** A jump taken (the `jump=True` stack effect applies). */
  | 'jump'
  /** An exception handler entered: ≤ 3.10 from a SETUP_* (its `jump=True` effect), 3.11+ from the exception table. */
  | 'handler'

/** One edge of the graph. */
export interface CfgEdge {
  readonly kind: CfgEdgeKind
  /** Index of the source block. */
  readonly from: number
  /** Index of the target block. */
  readonly to: number
  /**
   * Index (in the instruction list) of the instruction the edge leaves from: the block's last one
   * for `next`, `jump` and ≤ 3.10 `handler` edges; the block's first one for 3.11+ handler edges,
   * which leave from every instruction of the block.
   */
  readonly instruction: number
  /** 3.11+ handler edges: the depth in slots the handler starts with (table depth + lasti + 1). */
  readonly handlerDepth?: number
  /** 3.11+ handler edges: the exception-table entry. */
  readonly exceptionEntry?: ExceptionEntry
}

/** A maximal run of instructions entered only at its first one and left only after its last one. */
export interface BasicBlock {
  readonly index: number
  /** Index (in the instruction list) of the first instruction. */
  readonly first: number
  /** Index one past the last instruction. */
  readonly end: number
  /** Byte offset in co_code where the block starts (EXTENDED_ARG prefixes are instructions of their own). */
  readonly startOffset: number
  /** Byte offset in co_code just past the block (after the last instruction's inline caches). */
  readonly endOffset: number
  /** Outgoing edges: fall-through first, then the jump, then the handler. */
  readonly successors: readonly CfgEdge[]
  /** Incoming edges. */
  readonly predecessors: readonly CfgEdge[]
  /** The last block ends with an instruction that can fall through past the end of the code. */
  readonly fallsOffEnd: boolean
}

/** Something in the bytecode the graph cannot represent; reported, never thrown. */
export interface CfgProblem {
  readonly kind: 'bad-target' | 'exception-table'
  /** Byte offset in co_code of the instruction concerned (or the table entry's start). */
  readonly offset: number
  readonly message: string
}

/** The control-flow graph of one code object. */
export interface ControlFlowGraph {
  readonly input: CfgInput
  readonly model: StackModelRules
  /** Blocks in code order; block 0 is the entry. */
  readonly blocks: readonly BasicBlock[]
  /** Instruction index → index of its block. */
  readonly blockOf: Int32Array
  readonly problems: readonly CfgProblem[]
  /**
   * The work of building the graph, in steps: instructions, exception-table entries and the
   * blocks each entry was given to. A small multiple of the instructions and entries.
   */
  readonly steps: number
}

/**
 * The instructions and exception table of a code object, decoded without dis's argument
 * resolution (faster than {@link disassemble}, and it cannot fail on bad constant or name
 * indices). An undecodable exception table becomes a {@link CfgProblem} in {@link buildCfg}.
 */
export function cfgInput(code: CodeObject): CfgInput & { readonly exceptionTableError?: string } {
  const rules = stackModelRules(code.pythonVersion[1]).rules
  const s = decodeStream(code.code, rules)
  const { deopt, caches } = rules.arrays
  const instructions: CfgInstruction[] = new Array(s.count)
  for (let k = 0; k < s.count; k++) {
    const op = s.opcode[k]!
    const base = deopt[op]!
    const arg = s.arg[k]!
    const target = s.target[k]!
    instructions[k] = {
      offset: s.offset[k]!,
      opcode: op,
      baseOpcode: base,
      arg: Number.isNaN(arg) ? undefined : arg,
      jumpTarget: Number.isNaN(target) ? undefined : target,
      cacheCount: caches[base]!,
    }
  }
  if (!rules.exceptionTable) return { code, instructions, exceptionEntries: [] }
  try {
    return { code, instructions, exceptionEntries: parseExceptionTable(code.exceptiontable) }
  } catch (e) {
    return { code, instructions, exceptionEntries: [], exceptionTableError: e instanceof Error ? e.message : String(e) }
  }
}

/** Builds the control-flow graph of a disassembled code object (see the module comment). */
export function buildCfg(input: CfgInput & { readonly exceptionTableError?: string }): ControlFlowGraph {
  const model = stackModelRules(input.code.pythonVersion[1])
  const { instructions: ins } = input
  const n = ins.length
  const problems: CfgProblem[] = []
  if (input.exceptionTableError !== undefined) {
    problems.push({ kind: 'exception-table', offset: 0, message: `exception table not decoded: ${input.exceptionTableError}` })
  }

  // Byte offset → instruction index, for every instruction start (EXTENDED_ARG prefixes included).
  const indexAt = new Map<number, number>()
  for (let k = 0; k < n; k++) indexAt.set(ins[k]!.offset, k)
  const endOffsetOf = (k: number) => ins[k]!.offset + 2 + 2 * ins[k]!.cacheCount
  const codeEnd = n === 0 ? 0 : endOffsetOf(n - 1)
  /** The instruction starting at `offset`, or the first one at or after it for range ends. */
  const firstAtOrAfter = (offset: number): number => {
    const exact = indexAt.get(offset)
    if (exact !== undefined) return exact
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (ins[mid]!.offset < offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  // 1. Leaders.
  const leader = new Uint8Array(n + 1)
  leader[0] = 1
  leader[n] = 1
  const jumpTo = new Int32Array(n).fill(-1)
  for (let k = 0; k < n; k++) {
    const op = ins[k]!.baseOpcode
    const target = ins[k]!.jumpTarget
    if (model.branches[op] === 1 && target !== undefined) {
      const t = indexAt.get(target)
      if (t === undefined) {
        problems.push({ kind: 'bad-target', offset: ins[k]!.offset, message: `jump target ${target} is not the start of an instruction` })
      } else {
        jumpTo[k] = t
        leader[t] = 1
      }
      leader[k + 1] = 1
    } else if (model.noFallThrough[op] === 1) {
      leader[k + 1] = 1
    }
  }
  const entries: { entry: ExceptionEntry; first: number; end: number; target: number }[] = []
  for (const entry of input.exceptionEntries) {
    // A handler keeps at most co_stacksize slots in code CPython compiled; a larger claim (2**29
    // in a hostile file) would make every analysis downstream model a stack that large.
    if (entry.depth > input.code.stacksize) {
      problems.push({ kind: 'exception-table', offset: entry.start, message: `exception table entry ${entry.start}–${entry.end} keeps ${entry.depth} stack slots, more than co_stacksize ${input.code.stacksize}: entry ignored` })
      continue
    }
    const target = indexAt.get(entry.target)
    if (target === undefined) {
      problems.push({ kind: 'bad-target', offset: entry.start, message: `exception handler ${entry.target} is not the start of an instruction` })
      continue
    }
    const first = firstAtOrAfter(entry.start)
    const end = firstAtOrAfter(entry.end)
    if (first >= end) continue
    leader[first] = 1
    leader[end] = 1
    leader[target] = 1
    entries.push({ entry, first, end, target })
  }

  // 2. Blocks.
  const blockOf = new Int32Array(n)
  const starts: number[] = []
  for (let k = 0; k < n; k++) if (leader[k]) starts.push(k)
  const succ: CfgEdge[][] = starts.map(() => [])
  const pred: CfgEdge[][] = starts.map(() => [])
  for (let b = 0; b < starts.length; b++) {
    const end = starts[b + 1] ?? n
    for (let k = starts[b]!; k < end; k++) blockOf[k] = b
  }
  const link = (edge: CfgEdge) => {
    succ[edge.from]!.push(edge)
    pred[edge.to]!.push(edge)
  }

  // 3. Edges: fall-through, jump, handler.
  const fallsOff = new Uint8Array(starts.length)
  const handlerOf = new Int32Array(starts.length).fill(-1)
  // The first matching entry wins, as in CPython's lookup (real tables do not overlap). Each block
  // is given its entry once: `unassigned` leads past the blocks already given one (with path
  // halving), so that thousands of entries over the same range cost their number, not their
  // number times the blocks they cover (32,000 overlapping entries took 5 s).
  const unassigned = new Int32Array(starts.length + 1)
  for (let b = 0; b <= starts.length; b++) unassigned[b] = b
  const nextUnassigned = (b: number): number => {
    while (unassigned[b] !== b) {
      unassigned[b] = unassigned[unassigned[b]!]!
      b = unassigned[b]!
    }
    return b
  }
  let steps = n + input.exceptionEntries.length
  entries.forEach(({ first, end }, i) => {
    for (let b = nextUnassigned(blockOf[first]!); b < starts.length && starts[b]! < end; b = nextUnassigned(b + 1)) {
      steps++
      handlerOf[b] = i
      unassigned[b] = b + 1
    }
  })
  for (let b = 0; b < starts.length; b++) {
    const end = starts[b + 1] ?? n
    const last = end - 1
    const op = ins[last]!.baseOpcode
    if (model.noFallThrough[op] !== 1) {
      if (end < n) link({ kind: 'next', from: b, to: b + 1, instruction: last })
      else fallsOff[b] = 1
    }
    const t = jumpTo[last]!
    if (t >= 0) link({ kind: model.setsUpHandler[op] === 1 ? 'handler' : 'jump', from: b, to: blockOf[t]!, instruction: last })
    const h = handlerOf[b]!
    if (h >= 0) {
      const { entry, target } = entries[h]!
      const handlerDepth = entry.depth + (entry.lasti ? 1 : 0) + 1
      link({ kind: 'handler', from: b, to: blockOf[target]!, instruction: starts[b]!, handlerDepth, exceptionEntry: entry })
    }
  }

  const blocks: BasicBlock[] = starts.map((first, b) => {
    const end = starts[b + 1] ?? n
    return {
      index: b,
      first,
      end,
      startOffset: ins[first]!.offset,
      endOffset: end < n ? ins[end]!.offset : codeEnd,
      successors: succ[b]!,
      predecessors: pred[b]!,
      fallsOffEnd: fallsOff[b] === 1,
    }
  })
  return { input, model, blocks, blockOf, problems, steps }
}
