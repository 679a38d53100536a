/**
 * Per-version rules of the value-stack model: which instructions end a path, which jumps are
 * edges of the control-flow graph, how exception handlers are entered, the depth a code object
 * starts with, and the places where CPython's own depth bookkeeping (the compiler's stackdepth()
 * that computes co_stacksize) counts something the final bytecode no longer shows.
 *
 * Facts from CPython's Python/compile.c (3.8–3.11) and Python/flowgraph.c (3.12+): stackdepth()
 * walks the compiler's CFG, adds `stack_effect(jump=False)` along fall-through and
 * `stack_effect(jump=True)` along each jump (≤ 3.10 SETUP_* and, 3.11+, the SETUP_* pseudo
 * instructions that become exception-table entries, are jumps to their handler), stops a path
 * after an unconditional jump or a scope exit, and returns the largest depth seen.
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */
import type { VersionRules } from '../rules.js'
import { versionRules } from '../rules.js'
import { has } from '../../versions/index.js'

/** co_flags bits of code that runs as a generator, coroutine or async generator. */
const GENERATOR_LIKE_FLAGS = 0x20 | 0x80 | 0x200

/** The stack-model rules of one Python version, as arrays indexed by base opcode. */
export interface StackModelRules {
  readonly minor: number
  readonly rules: VersionRules
  /** 1: the instruction never falls through (unconditional jump, return, raise, re-raise). */
  readonly noFallThrough: Uint8Array
  /** 1: the instruction's jump target is a control-flow edge (a jump or a ≤ 3.10 handler setup). */
  readonly branches: Uint8Array
  /** 1: ≤ 3.10 SETUP_FINALLY / SETUP_WITH / SETUP_ASYNC_WITH: the "jump" enters an exception handler. */
  readonly setsUpHandler: Uint8Array
  /** 3.11+: handlers come from the exception table (co_exceptiontable). */
  readonly exceptionTable: boolean
  /** Depth (slots) a code object starts with: 1 for 3.10 generators (GEN_START pops the value sent in). */
  entryDepth(flags: number): number
  /** 3.13+: co_stacksize is never below 1, even for code that pushes nothing. */
  readonly minMaxDepth: number
  /**
   * 3.11+: co_stacksize also counts code no path reaches: handlers whose try body the compiler
   * emptied are still in the code (reachable from their SETUP_* pseudo instruction when the
   * depth was computed) but in no exception-table entry.
   */
  readonly countsUnreachable: boolean
  /**
   * 3.8/3.9: the peephole optimizer folded `LOAD_CONST` × n + `BUILD_TUPLE n` into one LOAD_CONST
   * of a tuple after co_stacksize had been computed with the n slots. Recognized by the
   * instruction that consumes the tuple, where the compiler (not the AST optimizer) built it:
   * base opcode → 1 when its bottom input (MAKE_FUNCTION: the defaults, when flag 0x01 is set) may
   * be such a tuple, 2 when every input may (3.8's BUILD_*_UNPACK: the runs of plain items
   * between starred ones). A literal `*(1, 2)` there was folded by the AST optimizer and counted
   * as one slot; bytecode cannot tell the two apart.
   */
  readonly foldedTupleConsumers: Uint8Array
  /**
   * 3.8: a finally block is entered from SETUP_FINALLY (6 slots more), from BEGIN_FINALLY (6 more)
   * and from CALL_FINALLY (1 more: the return address), so paths meet it with different depths;
   * CPython keeps the largest. No merge-mismatch is reported at handler targets then.
   */
  readonly handlerTargetsTakeMax: boolean
  /**
   * 3.15: a generator expression creates its (two-slot) iterator before RETURN_GENERATOR, and the
   * handler that wraps the body (CALL_INTRINSIC_1 INTRINSIC_STOPITERATION_ERROR) keeps those slots
   * to the end, also after POP_ITER removed them; CPython relies on nothing there raising.
   */
  readonly generatorWrapperKeepsIterator: boolean
}

const cache = new Map<number, StackModelRules>()

/** The stack-model rules of CPython 3.`minor` (throws BytecodeError for unsupported versions). */
export function stackModelRules(minor: number): StackModelRules {
  let m = cache.get(minor)
  if (m === undefined) {
    m = makeModel(minor, versionRules(minor))
    cache.set(minor, m)
  }
  return m
}

/** Opcodes (by name) that end a path: CPython's unconditional jumps and scope exits. */
function terminatorNames(minor: number): string[] {
  const exits = ['RETURN_VALUE', 'RETURN_CONST', 'RAISE_VARARGS', 'RERAISE', 'INTERPRETER_EXIT']
  const jumps =
    has(minor, 'jumpBackward') ? ['JUMP_FORWARD', 'JUMP_BACKWARD', 'JUMP_BACKWARD_NO_INTERRUPT'] : ['JUMP_FORWARD', 'JUMP_ABSOLUTE']
  return [...exits, ...jumps]
}

function foldedTupleConsumers(minor: number, rules: VersionRules): Uint8Array {
  const a = new Uint8Array(256)
  if (!has(minor, 'peepholeFoldsTuples')) return a
  const { opmap } = rules.table
  const set = (name: string, how: number) => {
    const op = opmap[name]
    if (op !== undefined) a[op] = how
  }
  set('MAKE_FUNCTION', 1)
  for (const name of ['BUILD_TUPLE_UNPACK', 'BUILD_TUPLE_UNPACK_WITH_CALL', 'BUILD_LIST_UNPACK', 'BUILD_SET_UNPACK']) set(name, 2)
  return a
}

function makeModel(minor: number, rules: VersionRules): StackModelRules {
  const { opmap } = rules.table
  const mark = (names: readonly string[]) => {
    const a = new Uint8Array(256)
    for (const name of names) {
      const op = opmap[name]
      if (op !== undefined && op < 256) a[op] = 1
    }
    return a
  }
  const branches = new Uint8Array(256)
  for (let op = 0; op < 256; op++) branches[op] = rules.arrays.jumpKind[op] === 0 ? 0 : 1
  // 3.14's END_ASYNC_FOR names the SEND of its loop only for monitoring; it never jumps there.
  if (has(minor, 'endAsyncForJumps') && opmap.END_ASYNC_FOR !== undefined) branches[opmap.END_ASYNC_FOR] = 0
  return {
    minor,
    rules,
    noFallThrough: mark(terminatorNames(minor)),
    branches,
    setsUpHandler: has(minor, 'setupBlocks') ? mark(['SETUP_FINALLY', 'SETUP_WITH', 'SETUP_ASYNC_WITH']) : new Uint8Array(256),
    exceptionTable: rules.exceptionTable,
    minMaxDepth: has(minor, 'maxDepthAtLeastOne') ? 1 : 0,
    countsUnreachable: has(minor, 'stackCountsUnreachable'),
    foldedTupleConsumers: foldedTupleConsumers(minor, rules),
    handlerTargetsTakeMax: has(minor, 'handlerTargetsTakeMax'),
    generatorWrapperKeepsIterator: has(minor, 'generatorIteratorInPreamble'),
    entryDepth: (flags) => (has(minor, 'generatorEntryValue') && (flags & GENERATOR_LIKE_FLAGS) !== 0 ? 1 : 0),
  }
}
