/**
 * Symbolic simulation of the value stack: every slot holds an expression rebuilt from the
 * instructions that produced it (`x`, `1`, `x + 1`, `obj.attr`, `f(x, y=2)`, `NULL`,
 * `iter(range(b))`, `<exception>`, `<lasti>`, partially built lists…) and the offset of the
 * instruction that pushed it. Depths come from the proven depth analysis (depth.ts); this module
 * only names what is in the slots. Where paths meet with different contents, the alternatives are
 * kept (`a | b`). Best effort by design: an opcode without a rule below still gets slots of the
 * right count, named after the opcode.
 *
 * Cost: stacks are persistent lists ({@link SlotStack}) that share what they do not change, so
 * the simulation makes a node per slot pushed (and per slot a merge or a fit changes), bounded by
 * the instructions times {@link MAX_SYMBOLIC_DEPTH}, never by the sum of the depths over the
 * instructions (which the old copying simulation paid, and which is quadratic in the instructions
 * for a stack that stays deep). A code object deeper than MAX_SYMBOLIC_DEPTH anywhere is not
 * named at all ({@link SymbolicStacks.omitted}): one hostile `UNPACK_SEQUENCE 65535` would
 * otherwise make 65,535 slots from two bytes.
 */
import type { Disassembly, Instruction } from '../decode.js'
import { analyzeDepth, type DepthAnalysis } from './depth.js'
import { stackEffectTable } from './effects.js'
import { has } from '../../versions/index.js'

/** One stack slot. */
export interface Slot {
  /** The value as an expression, abbreviated past {@link MAX_EXPR} characters. */
  readonly expr: string
  /** Byte offset of the instruction that pushed it; -1 for values the frame starts with. */
  readonly pushedBy: number
}

/**
 * A value stack as a persistent list: pushing makes one node on top of the stack below, which is
 * shared, not copied. The stacks around consecutive instructions share everything below what
 * they change, so simulating a code object costs the slots its instructions pop and push, not
 * the sum of its depths (a stack of 1,000 slots kept for 500 instructions is 1,000 nodes, not
 * 500,000 slots). Slots are materialised only on request: {@link top} for what a view shows,
 * {@link slots} for all of them (the JSON document, the stepper's column).
 */
export class SlotStack {
  /** The empty stack. */
  static readonly EMPTY = new SlotStack(0, undefined, undefined)
  private constructor(
    /** Depth in slots. */
    readonly length: number,
    /** The top slot (undefined only for the empty stack). */
    readonly topSlot: Slot | undefined,
    /** The stack under the top slot. */
    readonly below: SlotStack | undefined,
  ) {}
  /** This stack with `slot` on top. */
  push(slot: Slot): SlotStack {
    return new SlotStack(this.length + 1, slot, this)
  }
  /** This stack without its top `n` slots (the empty stack when it holds fewer). */
  drop(n: number): SlotStack {
    return SlotStack.drop(this, n)
  }
  /** The top `n` slots (all of them when fewer), bottom first. */
  top(n: number): Slot[] {
    return SlotStack.top(this, n)
  }
  private static top(stack: SlotStack, n: number): Slot[] {
    const out: Slot[] = []
    for (let s = stack; out.length < n && s.below !== undefined; s = s.below) out.push(s.topSlot!)
    return out.reverse()
  }
  private static drop(stack: SlotStack, n: number): SlotStack {
    let s = stack
    for (let k = 0; k < n && s.below !== undefined; k++) s = s.below
    return s
  }
  /** Every slot, bottom first. */
  slots(): Slot[] {
    return this.top(this.length)
  }
}

/** The symbolic stack around every instruction (bottom first, top last). */
export interface SymbolicStacks {
  readonly depth: DepthAnalysis
  /**
   * Stack before each instruction (indexed as the instruction list); undefined when unreachable,
   * and for every instruction when {@link omitted}.
   */
  readonly before: readonly (SlotStack | undefined)[]
  /** Stack after each instruction when it falls through; undefined when unreachable or {@link omitted}. */
  readonly after: readonly (SlotStack | undefined)[]
  /**
   * How many slots `before` and `after` hold together, the sum of the depths: what materialising
   * every stack (the JSON document) costs; 0 when {@link omitted}.
   */
  readonly slots: number
  /**
   * Slot nodes the simulation made (pushes, merges, padding): the work it did, proportional to
   * the slots the instructions pop and push, never to the sum of the depths.
   */
  readonly nodes: number
  /**
   * Set when the slots were not named: the stack is deeper than {@link MAX_SYMBOLIC_DEPTH}
   * somewhere. One line saying so, for the views to print; the depths are still all there.
   */
  readonly omitted?: string
}

/**
 * The deepest stack whose slots are named. CPython's compiler keeps stacks far shallower (from
 * 3.12 it builds long displays and calls in chunks of 30; older versions reach a few thousand
 * slots only for literals of thousands of items); a deeper stack is a hostile oparg or a claimed
 * co_stacksize (`UNPACK_SEQUENCE 65535`, an exception-table depth of 2**29). Past it the views show
 * the depths without the slots, with a notice, instead of making one slot per unit of the oparg.
 */
export const MAX_SYMBOLIC_DEPTH = 1024

/** Longest expression kept whole; longer ones are cut with "…". */
export const MAX_EXPR = 48
const MAX_ALTERNATIVES = 3

const abbreviate = (s: string) => (s.length > MAX_EXPR ? `${s.slice(0, MAX_EXPR - 1)}…` : s)

/** Binary operators of ≤ 3.10 (BINARY_*, INPLACE_*) by name suffix. */
const BINARY: Record<string, string> = {
  ADD: '+',
  SUBTRACT: '-',
  MULTIPLY: '*',
  MATRIX_MULTIPLY: '@',
  TRUE_DIVIDE: '/',
  FLOOR_DIVIDE: '//',
  MODULO: '%',
  POWER: '**',
  LSHIFT: '<<',
  RSHIFT: '>>',
  AND: '&',
  OR: '|',
  XOR: '^',
}

const UNARY: Record<string, string> = { UNARY_NEGATIVE: '-', UNARY_POSITIVE: '+', UNARY_NOT: 'not ', UNARY_INVERT: '~' }

/**
 * Ops that read slots below the top without consuming them. With the pops/pushes convention of the
 * effect tables (an op "pops" every slot it reads and pushes back the ones it leaves), these push
 * their first popped slots back; the rest of what they push is new.
 */
const KEEPS = new Set([
  'LIST_APPEND', 'SET_ADD', 'MAP_ADD', 'LIST_EXTEND', 'SET_UPDATE', 'DICT_UPDATE', 'DICT_MERGE',
  'COPY', 'DUP_TOP', 'DUP_TOP_TWO', 'FOR_ITER', 'SEND', 'GET_ANEXT', 'MATCH_MAPPING', 'MATCH_SEQUENCE',
  'MATCH_KEYS', 'CHECK_EXC_MATCH', 'CHECK_EG_MATCH', 'GET_LEN',
])

/** Adds an item to the text of a list, set or dict display: "[a]" + "b" → "[a, b]". */
function addItem(container: string, item: string): string {
  const c = container === 'set()' ? '{}' : container
  const close = c.endsWith('}') ? '}' : ']'
  const body = c.slice(0, -1)
  return `${body}${/[[{]$/.test(body) ? '' : ', '}${item}${close}`
}

function join(xs: readonly string[]): string {
  return xs.join(', ')
}

/** The expressions an instruction pushes, given the slots it popped (bottom first). */
function results(i: Instruction, popped: readonly Slot[], pushes: number, minor: number, kwNames: readonly string[] | undefined): string[] {
  const name = i.opname.replace(/^INSTRUMENTED_/, '')
  const e = popped.map((s) => s.expr)
  const top = e[e.length - 1] ?? '?'
  const arg = i.argval?.kind === 'name' ? i.argval.value : i.argrepr
  const one = (x: string) => [x]
  if (KEEPS.has(name) && pushes > 0) {
    // CHECK_*_MATCH and SEND replace the top slot; the others leave every slot they read.
    const keep = /^(CHECK_E|SEND)/.test(name) ? popped.length - 1 : Math.min(popped.length, pushes)
    const out = e.slice(0, keep)
    const at = out.length - (i.arg ?? 1)
    // A hostile oparg (0, or beyond the slots kept) names no container: nothing to add to.
    const inside = at >= 0 && at < out.length
    if ((name === 'LIST_APPEND' || name === 'SET_ADD') && inside) out[at] = addItem(out[at]!, top)
    if (name === 'MAP_ADD' && inside) out[at] = addItem(out[at]!, `${e[e.length - 2]}: ${top}`)
    if ((name === 'LIST_EXTEND' || name === 'SET_UPDATE') && inside) out[at] = addItem(out[at]!, `*${top}`)
    if ((name === 'DICT_UPDATE' || name === 'DICT_MERGE') && inside) out[at] = addItem(out[at]!, `**${top}`)
    while (out.length < pushes) {
      if (name === 'COPY') out.push(e[e.length - (i.arg ?? 1)] ?? '?')
      else if (name === 'DUP_TOP') out.push(top)
      else if (name === 'DUP_TOP_TWO') out.push(e[e.length - 2] ?? '?', top)
      else if (name === 'FOR_ITER') out.push(`next(${e[0] ?? '?'})`)
      else if (name === 'GET_LEN') out.push(`len(${top})`)
      else if (name === 'SEND' || name === 'GET_ANEXT') out.push(`<sent to ${e[0]}>`)
      else if (name.startsWith('CHECK_E')) out.push(`${e[0]} matches ${top}`)
      else out.push(`<${name.toLowerCase()}>`)
    }
    return out.slice(0, pushes)
  }
  if (pushes === 0) return []
  if (name.startsWith('LOAD_CONST') || name === 'RETURN_CONST') {
    const c = i.argval?.kind === 'const' ? i.argval.value : undefined
    if (c?.type === 'code') return one(`<code ${c.qualname?.type === 'str' ? c.qualname.value : c.name.type === 'str' ? c.name.value : '?'}>`)
    return one(i.argrepr)
  }
  if (name === 'LOAD_SMALL_INT') return one(String(i.arg))
  if (name === 'PUSH_NULL') return one('NULL')
  if (name === 'LOAD_FAST_LOAD_FAST' || name === 'LOAD_FAST_BORROW_LOAD_FAST_BORROW') {
    return i.argval?.kind === 'names' ? [...i.argval.value] : ['?', '?']
  }
  if (name === 'LOAD_GLOBAL') {
    if (pushes === 2) return has(minor, 'nullAfterCallable') ? [arg, 'NULL'] : ['NULL', arg]
    return one(arg)
  }
  if (/^LOAD_(FAST|NAME|DEREF|CLOSURE|CLASSDEREF|FROM_DICT_OR_DEREF|FROM_DICT_OR_GLOBALS)/.test(name)) return one(arg)
  if (name === 'LOAD_ATTR' || name === 'LOAD_METHOD' || name === 'LOAD_SUPER_ATTR') {
    const obj = name === 'LOAD_SUPER_ATTR' ? 'super()' : top
    if (pushes === 2) return [`${obj}.${arg}`, obj]
    return one(`${obj}.${arg}`)
  }
  if (name === 'LOAD_BUILD_CLASS') return one('__build_class__')
  if (name === 'LOAD_ASSERTION_ERROR') return one('AssertionError')
  if (name === 'LOAD_COMMON_CONSTANT' || name === 'LOAD_SPECIAL') return pushes === 2 ? [`${top}.${i.argrepr}`, top] : one(i.argrepr)
  if (name === 'IMPORT_NAME') return one(`import ${arg}`)
  if (name === 'IMPORT_FROM') return [top, `${top.replace(/^import /, '')}.${arg}`].slice(-pushes)
  if (name === 'BINARY_OP') {
    const op = i.argrepr.replace(/=$/, '')
    if (op === '[]') return one(`${e[0]}[${e[1]}]`)
    return one(`${e[0]} ${op} ${e[1]}`)
  }
  if (name === 'BINARY_SUBSCR') return one(`${e[0]}[${e[1]}]`)
  if (name === 'BINARY_SLICE') return one(`${e[0]}[${e[1]}:${e[2]}]`)
  const bin = /^(BINARY|INPLACE)_(.+)$/.exec(name)
  if (bin && BINARY[bin[2]!]) return one(`${e[0]} ${BINARY[bin[2]!]} ${e[1]}`)
  if (UNARY[name]) return one(`${UNARY[name]}${top}`)
  if (name === 'TO_BOOL') return one(`bool(${top})`)
  if (name === 'COMPARE_OP') return one(`${e[0]} ${i.argval?.kind === 'compare' ? i.argval.value : i.argrepr} ${e[1]}`)
  if (name === 'IS_OP') return one(`${e[0]} ${i.arg ? 'is not' : 'is'} ${e[1]}`)
  if (name === 'CONTAINS_OP') return one(`${e[0]} ${i.arg ? 'not in' : 'in'} ${e[1]}`)
  // 3.15: a second slot holds the index into a list, tuple or range (a "virtual" iterator), else NULL.
  if (name === 'GET_ITER' || name === 'GET_YIELD_FROM_ITER') return pushes === 2 ? [`iter(${top})`, '<index|NULL>'] : one(`iter(${top})`)
  if (name === 'GET_AITER') return one(`aiter(${top})`)
  if (name === 'GET_AWAITABLE') return one(`await ${top}`)
  if (name === 'BUILD_LIST') return one(`[${join(e)}]`)
  if (name === 'BUILD_TUPLE') return one(e.length === 1 ? `(${e[0]},)` : `(${join(e)})`)
  if (name === 'BUILD_SET') return one(e.length ? `{${join(e)}}` : 'set()')
  if (name === 'BUILD_MAP') {
    const pairs: string[] = []
    for (let k = 0; k + 1 < e.length; k += 2) pairs.push(`${e[k]}: ${e[k + 1]}`)
    return one(`{${join(pairs)}}`)
  }
  if (name === 'BUILD_CONST_KEY_MAP') {
    const keys = top.replace(/^\(|,?\)$/g, '').split(', ')
    return one(`{${join(e.slice(0, -1).map((v, k) => `${keys[k] ?? '?'}: ${v}`))}}`)
  }
  if (name === 'BUILD_STRING') return one(`f"${e.map((x) => (/^'.*'$/.test(x) ? x.slice(1, -1) : `{${x}}`)).join('')}"`)
  if (name === 'FORMAT_VALUE' || name === 'FORMAT_SIMPLE' || name === 'FORMAT_WITH_SPEC' || name === 'CONVERT_VALUE') return one(e[0] ?? '?')
  if (name === 'BUILD_SLICE') return one(`slice(${join(e)})`)
  if (name === 'LIST_TO_TUPLE') return one(`tuple(${top})`)
  if (name === 'MAKE_FUNCTION') {
    const code = has(minor, 'makeFunctionCodeOnTop') ? top : (e[e.length - 2] ?? top)
    const fname = /^<code (.+)>$/.exec(code)?.[1] ?? /^'(.*)'$/.exec(top)?.[1] ?? '?'
    return one(`<function ${fname}>`)
  }
  if (name === 'SET_FUNCTION_ATTRIBUTE') return one(top)
  if (name === 'UNPACK_SEQUENCE' || name === 'UNPACK_EX') {
    return Array.from({ length: pushes }, (_, k) => `${top}[${pushes - 1 - k}]`)
  }
  if (/^CALL/.test(name) || name === 'PRECALL') {
    // 3.11: PRECALL gathers the call into two slots, CALL turns them into the result.
    if (has(minor, 'precall') && name.startsWith('CALL') && !name.startsWith('CALL_FUNCTION_EX') && e.length === 2 && pushes === 1) return one(top)
    let args = e
    let kw: readonly string[] = []
    if (name === 'CALL_KW' || name === 'CALL_FUNCTION_KW') {
      kw = top.replace(/^\(|,?\)$/g, '').split(', ').map((s) => s.replace(/^'(.*)'$/, '$1'))
      args = e.slice(0, -1)
    } else if (kwNames) kw = kwNames
    if (name === 'CALL_FUNCTION_EX') {
      const [f, , star, dstar] = has(minor, 'callFunctionExFourSlots') || args.length === 4 ? [e[0], e[1], e[2], e[3]] : [e[0], undefined, e[1], e[2]]
      return one(`${f}(*${star}${dstar && dstar !== 'NULL' ? `, **${dstar}` : ''})`)
    }
    // Callable first; a NULL or self slot next to it (3.11+, CALL_METHOD).
    let callee = args[0] ?? '?'
    let rest = args.slice(1)
    if (has(minor, 'callWithNull') || name === 'CALL_METHOD') {
      if (callee === 'NULL') callee = rest[0] ?? '?'
      rest = rest.slice(1)
      const self = args[1]
      if (self && self !== 'NULL' && callee !== self && has(minor, 'nullAfterCallable')) rest = args.slice(1)
      if (self === 'NULL') rest = args.slice(2)
    }
    const positional = rest.slice(0, rest.length - kw.length)
    const named = kw.map((k, n) => `${k}=${rest[rest.length - kw.length + n]}`)
    const call = `${callee}(${join([...positional, ...named])})`
    return name === 'PRECALL' ? ['NULL', call].slice(-pushes) : one(call)
  }
  if (name === 'RETURN_GENERATOR') return one('<generator>')
  if (name === 'YIELD_VALUE') return one('<sent value>')
  if (name === 'PUSH_EXC_INFO') return ['<previous exception>', top]
  if (name === 'WITH_EXCEPT_START') return one(`${e[0]}(<exception>)`)
  if (name === 'BEFORE_WITH' || name === 'SETUP_WITH' || name === 'BEFORE_ASYNC_WITH') return [`${top}.__exit__`, `${top}.__enter__()`].slice(-pushes)
  if (name === 'MATCH_CLASS') return one(`<match ${e[0]}>`)
  return Array.from({ length: pushes }, (_, k) => `${name}${pushes > 1 ? `[${k}]` : ''}(${join(e)})`)
}

/** SWAP, ROT_*: the same slots in a new order (undefined for other opcodes). */
function permute(name: string, p: readonly Slot[]): Slot[] | undefined {
  const n = p.length
  if (n < 2) return undefined
  const out = [...p]
  switch (name) {
    case 'SWAP':
    case 'ROT_TWO':
      ;[out[0], out[n - 1]] = [out[n - 1]!, out[0]!]
      return out
    case 'ROT_THREE':
    case 'ROT_FOUR':
    case 'ROT_N':
      // The top moves down to the bottom of the rotated group.
      return [p[n - 1]!, ...p.slice(0, n - 1)]
    default:
      return undefined
  }
}

/** Slots a 3.11+ handler starts with above the kept depth, and ≤ 3.10's exception slots. */
function exceptionSlots(count: number, at: number): Slot[] {
  const names = ['<traceback>', '<exception>', '<exception type>']
  return Array.from({ length: count }, (_, k) => ({ expr: names[k % 3]!, pushedBy: at }))
}

/** The alternatives of two slots where paths meet (`s` itself when they agree). */
function mergeSlot(s: Slot, t: Slot): Slot {
  if (t.expr === s.expr) return s
  // A list, set or dict a loop keeps adding to: show it as partially built.
  const open = s.expr[0]
  if ((open === '[' || open === '{') && t.expr[0] === open) return { expr: open === '[' ? '[…]' : '{…}', pushedBy: Math.min(s.pushedBy, t.pushedBy) }
  const alts = new Set([...s.expr.split(' | '), ...t.expr.split(' | ')])
  const expr = alts.size > MAX_ALTERNATIVES ? `${[...alts].slice(0, MAX_ALTERNATIVES).join(' | ')} | …` : [...alts].join(' | ')
  return { expr, pushedBy: s.pushedBy === t.pushedBy ? s.pushedBy : Math.min(s.pushedBy, t.pushedBy) }
}

/**
 * Meets stack `b` into stack `a`, slot by slot from the bottom; `a`'s depth. Walks down from the
 * top only as far as the two differ: below the first node they share nothing changes. `changed`:
 * some slot's expression changed (a new pushedBy alone does not count, as a path that adds no
 * new expression need not be walked again).
 */
function merge(a: SlotStack, b: SlotStack, made: { nodes: number }): { stack: SlotStack; changed: boolean } {
  // Slots of `a` above b's depth have nothing to meet; slots of `b` above a's are dropped.
  let x = a.drop(Math.max(0, a.length - b.length))
  let y = b.drop(Math.max(0, b.length - a.length))
  const merged: Slot[] = []
  let any = false
  let changed = false
  while (x !== y && x.below !== undefined && y.below !== undefined) {
    const m = mergeSlot(x.topSlot!, y.topSlot!)
    if (m !== x.topSlot) any = true
    if (m.expr !== x.topSlot!.expr) changed = true
    merged.push(m)
    x = x.below
    y = y.below
  }
  if (!any) return { stack: a, changed: false }
  let out = x
  for (let k = merged.length - 1; k >= 0; k--) out = out.push(merged[k]!)
  made.nodes += merged.length
  // The slots of `a` above b's depth, unchanged, back on top.
  for (const slot of a.top(Math.max(0, a.length - b.length))) out = out.push(slot)
  made.nodes += Math.max(0, a.length - b.length)
  return { stack: out, changed }
}

const UNKNOWN: Slot = { expr: '?', pushedBy: -1 }
/** At most this many operands an underflowing instruction does not find are shown as unknown. */
const MAX_UNDERFLOW_SHOWN = 4

/** Fits a stack to the depth the analysis proved: pads with unknown slots or drops the top. */
function fit(stack: SlotStack, depth: number, made: { nodes: number }): SlotStack {
  if (stack.length >= depth) return stack.drop(stack.length - depth)
  let out = stack
  for (let k = stack.length; k < depth; k++) out = out.push(UNKNOWN)
  made.nodes += depth - stack.length
  return out
}

/** Pushes `slots` (bottom first) on `stack`. */
function pushAll(stack: SlotStack, slots: readonly Slot[], made: { nodes: number }): SlotStack {
  let out = stack
  for (const slot of slots) out = out.push(slot)
  made.nodes += slots.length
  return out
}

/** Simulates the value stack of one decoded code object (see {@link SymbolicStacks}). */
export function simulateStack(d: Disassembly): SymbolicStacks {
  const depth = analyzeDepth(d)
  const ins = d.instructions
  let slots = 0
  let deepest = 0
  for (let k = 0; k < ins.length; k++) {
    const b = depth.before[k] ?? 0
    const a = depth.after[k] ?? 0
    slots += b + a
    deepest = Math.max(deepest, b, a)
  }
  for (const e of depth.blockEntryDepth) deepest = Math.max(deepest, e ?? 0)
  if (deepest > MAX_SYMBOLIC_DEPTH) {
    const none: undefined[] = new Array(ins.length).fill(undefined)
    const omitted = `slots not named: the stack reaches ${deepest} slots, more than the ${MAX_SYMBOLIC_DEPTH} the symbolic stack names (depths only)`
    return { depth, before: none, after: none, slots: 0, nodes: 0, omitted }
  }
  const { cfg } = depth
  const minor = d.rules.minor
  const effects = stackEffectTable(minor)
  const made = { nodes: 0 }
  const before: (SlotStack | undefined)[] = new Array(ins.length).fill(undefined)
  const after: (SlotStack | undefined)[] = new Array(ins.length).fill(undefined)
  const entry: (SlotStack | undefined)[] = new Array(cfg.blocks.length).fill(undefined)
  const visits = new Uint8Array(cfg.blocks.length)
  const work: number[] = []
  const arrive = (block: number, stack: SlotStack) => {
    const want = depth.blockEntryDepth[block]
    if (want === undefined) return
    const fitted = fit(stack, want, made)
    const old = entry[block]
    let next = fitted
    if (old) {
      const m = merge(old, fitted, made)
      if (!m.changed) return
      next = m.stack
    }
    if (visits[block]! >= 4) return
    visits[block]!++
    entry[block] = next
    work.push(block)
  }
  const apply = (k: number, stack: SlotStack, jump: boolean, kw: readonly string[] | undefined): SlotStack => {
    const i = ins[k]!
    const e = effects.stackEffect(i.opcode, i.arg ?? 0, jump) ?? { pops: 0, pushes: 0 }
    const pops = Math.min(Math.max(0, e.pops), stack.length)
    const popped = stack.top(pops)
    const kept = stack.drop(pops)
    const moved = permute(i.opname, popped)
    if (moved) return pushAll(kept, moved, made)
    // An underflow (hostile code) pops slots the stack does not hold: they read as unknown, below
    // the ones it does (a few, for the operands the rules name; never one per unit of the oparg).
    const missing = Math.min(Math.max(0, e.pops), MAX_UNDERFLOW_SHOWN) - pops
    const operands = missing > 0 ? [...new Array<Slot>(missing).fill(UNKNOWN), ...popped] : popped
    const results_ = results(i, operands, Math.max(0, e.pushes), minor, kw)
    // Slots pushed back unchanged keep the offset of whoever pushed them first.
    let same = 0
    while (same < results_.length && operands[same]?.expr === results_[same]) same++
    return pushAll(kept, results_.map((expr, n) => (n < same ? operands[n]! : { expr: abbreviate(expr), pushedBy: i.offset })), made)
  }
  if (cfg.blocks.length) arrive(0, SlotStack.EMPTY)
  while (work.length) {
    const b = work.shift()!
    const block = cfg.blocks[b]!
    let stack = entry[b]!
    let kwNames: readonly string[] | undefined
    for (let k = block.first; k < block.end; k++) {
      const i = ins[k]!
      before[k] = before[k] ? merge(before[k]!, stack, made).stack : stack
      for (const edge of block.successors) {
        if (edge.kind !== 'handler' || edge.instruction !== k) continue
        if (edge.exceptionEntry) {
          let base = stack.drop(Math.max(0, stack.length - edge.exceptionEntry.depth))
          if (edge.exceptionEntry.lasti) base = pushAll(base, [{ expr: '<lasti>', pushedBy: -1 }], made)
          arrive(edge.to, pushAll(base, [{ expr: '<exception>', pushedBy: -1 }], made))
        }
      }
      if (i.opname === 'KW_NAMES') {
        // 3.11's dis leaves KW_NAMES unresolved; the names are co_consts[arg].
        const names = d.code.consts[i.arg ?? -1]
        if (names?.type === 'tuple') kwNames = names.items.map((x) => (x.type === 'str' ? x.value : '?'))
      }
      const isLast = k === block.end - 1
      if (isLast) {
        for (const edge of block.successors) {
          if (edge.kind === 'jump') arrive(edge.to, apply(k, stack, true, kwNames))
          else if (edge.kind === 'handler' && !edge.exceptionEntry) {
            const e = effects.stackEffect(i.opcode, i.arg ?? 0, true) ?? { pops: 0, pushes: 0 }
            const kept = stack.drop(Math.min(stack.length, Math.max(0, e.pops)))
            arrive(edge.to, pushAll(kept, exceptionSlots(Math.max(0, e.pushes), i.offset), made))
          }
        }
      }
      const next = apply(k, stack, false, kwNames)
      if (!/^(PRECALL|KW_NAMES)$/.test(i.opname)) kwNames = i.opname.startsWith('CALL') ? undefined : kwNames
      after[k] = next
      stack = next
      if (isLast) for (const edge of block.successors) if (edge.kind === 'next') arrive(edge.to, stack)
    }
  }
  // Fit every recorded stack to the proven depths (merges may have raised a block's entry depth).
  for (let k = 0; k < ins.length; k++) {
    const want = depth.before[k]
    before[k] = want === undefined ? undefined : fit(before[k] ?? SlotStack.EMPTY, want, made)
    const out = depth.after[k]
    after[k] = out === undefined ? undefined : fit(after[k] ?? SlotStack.EMPTY, out, made)
  }
  return { depth, before, after, slots, nodes: made.nodes }
}
