/**
 * Stack-depth analysis: the depth of the value stack before and after every instruction, and the
 * maximum — which for compiler-made code equals CPython's co_stacksize.
 *
 * A worklist over the control-flow graph (cfg.ts) propagates block entry depths: along `next`
 * edges the depth after the block's last instruction, along `jump` and ≤ 3.10 `handler` edges the
 * depth before it plus its `jump=True` effect, along 3.11+ `handler` edges the depth the
 * exception table gives. Effects come from {@link stackEffectTable} (pops-pushes.ts, checked
 * against dis.stack_effect).
 *
 * Bytecode that breaks the model does not throw; it yields {@link DepthFinding}s. Where two paths
 * meet with different depths the larger one is kept and propagated (as CPython's stackdepth()
 * keeps the larger start depth of a block), at most a few times per block so that a loop that
 * grows the stack still terminates.
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */
import type { CodeObject } from '../code.js'
import { type StackEffectTable, stackEffectTable } from './effects.js'
import { buildCfg, type CfgInput, type CfgInstruction, cfgInput, type ControlFlowGraph } from './cfg.js'

/** CALL_INTRINSIC_1 INTRINSIC_STOPITERATION_ERROR: the handler that wraps a generator's body. */
function isStopIterationWrapper(i: CfgInstruction | undefined, callIntrinsic1: number | undefined): boolean {
  return i !== undefined && i.baseOpcode === callIntrinsic1 && i.arg === STOPITERATION_ERROR
}

/** CALL_INTRINSIC_1's oparg for INTRINSIC_STOPITERATION_ERROR (3.12+). */
const STOPITERATION_ERROR = 3

/** What kind of inconsistency a finding reports. */
export type DepthFindingKind =
  /** An instruction pops more slots than the stack holds. */
  | 'underflow'
  /** Two paths reach the same instruction with different depths. */
  | 'merge-mismatch'
  /** Instructions no path from the entry reaches (their depths are undefined). */
  | 'unreachable'
  /** 3.11+: an instruction inside an exception-table range runs with fewer slots than the entry keeps. */
  | 'handler-depth'
  /** An opcode this version defines no stack effect for (counted as 0). */
  | 'unknown-opcode'
  /** A jump or handler target that is not an instruction start. */
  | 'bad-target'
  /** The last instruction can fall through past the end of the code. */
  | 'falls-off-end'
  /** co_exceptiontable could not be decoded (no handler edges were added). */
  | 'exception-table'

/** One inconsistency found by {@link analyzeDepth}. */
export interface DepthFinding {
  readonly kind: DepthFindingKind
  /** Byte offset in co_code of the instruction concerned (the first one of an unreachable run). */
  readonly offset: number
  readonly message: string
}

/** The result of {@link analyzeDepth}. Depths are numbers of stack slots. */
export interface DepthAnalysis {
  readonly cfg: ControlFlowGraph
  /** Depth before each instruction (indexed as the instruction list); undefined when unreachable. */
  readonly before: readonly (number | undefined)[]
  /** Depth after each instruction when it falls through (`jump=False`); undefined when unreachable. */
  readonly after: readonly (number | undefined)[]
  /** Depth each block starts with (indexed as `cfg.blocks`); undefined when unreachable. */
  readonly blockEntryDepth: readonly (number | undefined)[]
  /**
   * The largest depth reached after any instruction or at any jump or handler target, counted as
   * CPython's compiler counts co_stacksize (see model.ts): 3.8/3.9 also count the slots of constant
   * tuples the peephole optimizer folded afterwards, 3.11+ also count unreachable code (walked
   * from inferred depths), 3.13+ never answer less than 1. Equals co_stacksize for code CPython
   * compiled.
   */
  readonly maxDepth: number
  readonly findings: readonly DepthFinding[]
  /**
   * The work done, in steps: instructions walked (and walked again when a path raised a block's
   * depth), slots looked at for folded tuples, and instructions read while giving unreachable
   * blocks their depths; plus the graph's {@link ControlFlowGraph.steps}. Bounded by a small
   * multiple of the instructions and exception-table entries; tests hold hostile code to it.
   */
  readonly steps: number
}

/** How often one block's entry depth may be raised by a deeper incoming path. */
const MAX_RAISES = 8

/**
 * Depth analysis of one code object (not its children): from a {@link CodeObject} (decoded
 * quickly without dis's argument resolution) or from an existing {@link CfgInput} such as a
 * {@link Disassembly}, or an already built {@link ControlFlowGraph}.
 */
export function analyzeDepth(source: CodeObject | CfgInput | ControlFlowGraph): DepthAnalysis {
  const cfg = 'blocks' in source ? source : buildCfg('instructions' in source ? source : cfgInput(source))
  const { input, model, blocks } = cfg
  const ins = input.instructions
  const effects: StackEffectTable = stackEffectTable(model.minor)
  const findings: DepthFinding[] = cfg.problems.map((p) => ({ kind: p.kind, offset: p.offset, message: p.message }))
  const before: (number | undefined)[] = new Array(ins.length).fill(undefined)
  const after: (number | undefined)[] = new Array(ins.length).fill(undefined)
  const entry: (number | undefined)[] = new Array(blocks.length).fill(undefined)
  const raises = new Uint8Array(blocks.length)
  const handlerTargets = new Uint8Array(blocks.length)
  for (const block of blocks) for (const edge of block.successors) if (edge.kind === 'handler') handlerTargets[edge.to] = 1
  const reported = new Set<string>()
  /** false while walking code no path reaches (its findings are not reported). */
  let live = true
  const report = (kind: DepthFindingKind, offset: number, message: string) => {
    const key = `${kind}@${offset}`
    if (!live || reported.has(key)) return
    reported.add(key)
    findings.push({ kind, offset, message })
  }
  let maxDepth = 0
  const see = (depth: number) => {
    if (depth > maxDepth) maxDepth = depth
  }
  const work: number[] = []
  /** Blocks a path from the entry reaches (set once that walk is done). */
  const reached = new Uint8Array(blocks.length)
  const reach = (to: number, depth: number, from: number) => {
    see(depth)
    // Unreachable code flowing into reachable code leaves the latter's depths alone.
    if (!live && reached[to]) return
    const old = entry[to]
    if (old === undefined) {
      entry[to] = depth
      work.push(to)
      entryChanged(to)
      return
    }
    if (old === depth) return
    const at = blocks[to]!.startOffset
    if (!(model.handlerTargetsTakeMax && handlerTargets[to])) report('merge-mismatch', at, `depth ${depth} from offset ${ins[from]!.offset} meets depth ${old} from elsewhere`)
    if (depth > old && raises[to]! < MAX_RAISES) {
      raises[to]!++
      entry[to] = depth
      work.push(to)
      entryChanged(to)
    }
  }
  /**
   * Called when block `b`'s entry depth is set or raised. While unreachable blocks are given
   * depths (below), the blocks without one that lead to `b` may now meet it: they are marked to
   * be checked again.
   */
  let entryChanged = (b: number): void => void b
  const effectOf = (k: number, jump: boolean) => {
    const instr = ins[k]!
    const e = effects.stackEffect(instr.opcode, instr.arg ?? 0, jump)
    // A negative count only comes from a nonsensical oparg (a negative 3.11+ EXTENDED_ARG chain).
    if (e !== undefined) return e.pops >= 0 && e.pushes >= 0 ? e : { pops: Math.max(0, e.pops), pushes: Math.max(0, e.pushes) }
    report('unknown-opcode', instr.offset, `no stack effect known for opcode ${instr.opcode} in 3.${model.minor}`)
    return NO_EFFECT
  }

  let steps = cfg.steps
  const walk = (b: number) => {
    const block = blocks[b]!
    steps += block.end - block.first
    let depth = entry[b]!
    let handlerKeeps = -1
    for (const edge of block.successors) {
      if (edge.kind === 'handler' && edge.exceptionEntry !== undefined) {
        // 3.15's generator wrapper keeps the iterator's slots for the whole body, also after the
        // loop popped them (nothing after the loop can raise): not a finding there.
        const wrapper = model.generatorWrapperKeepsIterator && isStopIterationWrapper(ins[blocks[edge.to]!.first], model.rules.table.opmap.CALL_INTRINSIC_1)
        handlerKeeps = wrapper ? -1 : edge.exceptionEntry.depth
        reach(edge.to, edge.handlerDepth!, edge.instruction)
      }
    }
    for (let k = block.first; k < block.end; k++) {
      const instr = ins[k]!
      before[k] = depth
      if (depth < handlerKeeps) {
        report('handler-depth', instr.offset, `depth ${depth} is below the ${handlerKeeps} slots its exception handler keeps`)
      }
      const e = effectOf(k, false)
      if (e.pops > depth) report('underflow', instr.offset, `pops ${e.pops} slot(s) from a stack of ${depth}`)
      if (model.foldedTupleConsumers[instr.baseOpcode]) see(foldedTuplesPeak(k, block.first, e.pops))
      if (k === block.end - 1) {
        for (const edge of block.successors) {
          if (edge.kind === 'next' || edge.exceptionEntry !== undefined) continue
          const j = effectOf(k, true)
          reach(edge.to, Math.max(0, depth - j.pops) + j.pushes, k)
        }
      }
      depth = Math.max(0, depth - e.pops) + e.pushes
      after[k] = depth
      see(depth)
    }
    for (const edge of block.successors) if (edge.kind === 'next') reach(edge.to, depth, edge.instruction)
    if (block.fallsOffEnd) report('falls-off-end', ins[block.end - 1]!.offset, 'execution can run past the last instruction')
  }

  /**
   * 3.8/3.9: the depth CPython counted for LOAD_CONSTs of tuples the peephole optimizer folded,
   * found through the instruction at `k` that consumes them (see model.ts); 0 when none.
   */
  const foldedTuplesPeak = (k: number, first: number, pops: number): number => {
    const instr = ins[k]!
    const how = model.foldedTupleConsumers[instr.baseOpcode]!
    if (how === 0 || (instr.baseOpcode === MAKE_FUNCTION(model) && ((instr.arg ?? 0) & 1) === 0)) return 0
    // The slots whose pushers count: [bottom, top]. No slot is below 0 (a hostile oparg pops
    // more than the stack holds), and none is above the depth.
    const bottom = Math.max(0, before[k]! - pops)
    const top = how === 1 ? before[k]! - pops : before[k]! - 1
    if (top < bottom) return 0
    // One walk back over the block gives every slot's pusher: the latest instruction before `k`
    // that popped or pushed it (it pushed it when the slot is below its depth after). Slots from
    // `low` up are settled; each instruction settles those from where it starts popping.
    let peak = 0
    let low = top + 1
    for (let i = k - 1; i >= first && low > bottom; i--) {
      steps++
      const touched = Math.max(bottom, before[i]! - effectOf(i, false).pops)
      if (touched >= low) continue
      // Slots [touched, low): pushed by i when below after[i], else by nothing of this block.
      if (Math.min(low, after[i]!) > touched && ins[i]!.baseOpcode === model.rules.table.opmap.LOAD_CONST) {
        const c = input.code.consts[ins[i]!.arg ?? -1]
        if (c?.type === 'tuple') peak = Math.max(peak, before[i]! + c.items.length)
      }
      low = touched
    }
    return peak
  }

  const drain = () => {
    while (work.length > 0) walk(work.pop()!)
  }
  if (blocks.length > 0) {
    entry[0] = model.entryDepth(input.code.flags)
    work.push(0)
    drain()
  }
  entry.forEach((d, b) => {
    if (d !== undefined) reached[b] = 1
  })

  // Unreachable runs of blocks, one finding each.
  for (let b = 0; b < blocks.length; b++) {
    if (reached[b] || (b > 0 && !reached[b - 1])) continue
    let last = b
    while (last + 1 < blocks.length && !reached[last + 1]) last++
    const first = blocks[b]!
    report('unreachable', first.startOffset, `offsets ${first.startOffset} to ${blocks[last]!.endOffset} are never reached`)
  }

  // 3.11+: CPython also counted code that became unreachable (see model.ts). Each unreachable
  // block is walked from the depth that makes it meet an already known successor block, or else
  // from the depth its exception-table entry keeps or the least depth it needs, whichever is more.
  if (model.countsUnreachable) {
    live = false
    // Passes in block order, as CPython's own bookkeeping settles such blocks: in each pass, every
    // block still without a depth that meets a known successor takes the depth that meets it; a
    // pass that settles none gives the first block left its covering or needed depth. A block is
    // looked at again only once the depth of a block it leads to changed (it is "dirty"): its
    // answer cannot change otherwise, and checking them all in every pass was quadratic (32,000
    // unreachable returns took 13 s).
    const dirty = new Uint8Array(blocks.length)
    /** Dirty blocks after the sweep's position (this pass) and at or before it (the next pass). */
    const thisPass = new MinHeap()
    let nextPass: number[] = []
    let position = -1
    const markDirty = (b: number) => {
      if (entry[b] !== undefined || dirty[b]) return
      dirty[b] = 1
      if (b > position) thisPass.push(b)
      else nextPass.push(b)
    }
    entryChanged = (b) => {
      for (const edge of blocks[b]!.predecessors) markDirty(edge.from)
    }
    for (let b = 0; b < blocks.length; b++) markDirty(b)
    let firstLeft = 0
    for (;;) {
      let progressed = false
      for (let b = thisPass.pop(); b !== undefined; b = thisPass.pop()) {
        steps++
        position = b
        dirty[b] = 0
        if (entry[b] !== undefined) continue
        const inferred = depthMeeting(b)
        if (inferred === undefined) continue
        entry[b] = inferred
        entryChanged(b)
        work.push(b)
        drain()
        progressed = true
      }
      position = -1
      for (const b of nextPass) thisPass.push(b)
      nextPass = []
      while (firstLeft < blocks.length && entry[firstLeft] !== undefined) firstLeft++
      if (firstLeft === blocks.length) break
      if (progressed) continue
      const b = firstLeft
      entry[b] = Math.max(coveringDepth(cfg, b), neededDepth(b))
      entryChanged(b)
      work.push(b)
      drain()
    }
    live = true
    for (let b = 0; b < blocks.length; b++) {
      if (reached[b]) continue
      entry[b] = undefined
      for (let k = blocks[b]!.first; k < blocks[b]!.end; k++) before[k] = after[k] = undefined
    }
  }

  /**
   * The entry depth with which block `b` reaches a successor whose depth is known, with the same
   * depth (undefined when no successor is known, or that depth would underflow `b`).
   */
  function depthMeeting(b: number): number | undefined {
    const block = blocks[b]!
    steps += block.successors.length * (block.end - block.first)
    for (const edge of block.successors) {
      const target = entry[edge.to]
      if (target === undefined || edge.exceptionEntry !== undefined) continue
      let net = 0
      for (let k = block.first; k < block.end - 1; k++) {
        const e = effectOf(k, false)
        net += e.pushes - e.pops
      }
      const last = effectOf(block.end - 1, edge.kind !== 'next')
      net += last.pushes - last.pops
      const depth = target - net
      if (depth >= neededDepth(b)) return depth
    }
    return undefined
  }

  /** The least depth block `b` can start with without popping from an empty stack. */
  function neededDepth(b: number): number {
    steps += blocks[b]!.end - blocks[b]!.first
    let need = 0
    let depth = 0
    for (let k = blocks[b]!.first; k < blocks[b]!.end; k++) {
      const e = effectOf(k, false)
      if (e.pops > depth) {
        need += e.pops - depth
        depth = e.pops
      }
      depth += e.pushes - e.pops
    }
    return need
  }

  findings.sort((a, b) => a.offset - b.offset)
  return { cfg, before, after, blockEntryDepth: entry, maxDepth: Math.max(maxDepth, model.minMaxDepth), findings, steps }
}

const NO_EFFECT = { pops: 0, pushes: 0 }

/** The opcode of MAKE_FUNCTION in this version (-1 when absent). */
function MAKE_FUNCTION(model: ControlFlowGraph['model']): number {
  return model.rules.table.opmap.MAKE_FUNCTION ?? -1
}

/** 3.11+: the depth the exception-table entry covering block `b` keeps (0 when none covers it). */
function coveringDepth(cfg: ControlFlowGraph, b: number): number {
  for (const edge of cfg.blocks[b]!.successors) if (edge.exceptionEntry !== undefined) return edge.exceptionEntry.depth
  return 0
}

/** A binary min-heap of block indexes. */
class MinHeap {
  private readonly items: number[] = []
  push(x: number): void {
    const a = this.items
    let i = a.push(x) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (a[parent]! <= x) break
      a[i] = a[parent]!
      i = parent
    }
    a[i] = x
  }
  /** The least item, removed; undefined when empty. */
  pop(): number | undefined {
    const a = this.items
    if (a.length === 0) return undefined
    const top = a[0]!
    const last = a.pop()!
    if (a.length > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= a.length) break
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l
        if (a[c]! >= last) break
        a[i] = a[c]!
        i = c
      }
      a[i] = last
    }
    return top
  }
}
