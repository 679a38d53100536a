/**
 * The static summary of a code object for `pyxray compare`: sizes and shapes that can be read off
 * the bytecode without running it.
 */
import type { CodeObject } from '../code.js'
import type { Disassembly } from '../decode.js'
import { analyzeDepth } from '../stack/index.js'

/** Counts read off one code object (or summed over several). */
export interface StaticSummary {
  /** Code objects summed (1 for one code object). */
  readonly codeObjects: number
  /** Instructions, EXTENDED_ARG prefixes included, inline CACHE entries not. */
  readonly instructions: number
  /** Length of co_code in bytes (caches included, 3.11+). */
  readonly codeBytes: number
  /** Maximum value-stack depth in slots, from pyxray's own stack analysis (the largest over summed code objects). */
  readonly maxDepth: number
  /** co_stacksize as the compiler stored it (the largest over summed code objects). */
  readonly stacksize: number
  /** Entries of co_consts. */
  readonly constants: number
  /** Entries of co_names. */
  readonly names: number
  /** Local variables (co_nlocals). */
  readonly locals: number
  /** Instructions that jump (conditional or not; FOR_ITER counts). */
  readonly jumps: number
  /** Backward jumps: each closes a loop. */
  readonly loops: number
  /** Entries of the exception table (3.11+; 0 before). */
  readonly exceptionEntries: number
}

/** The summary of one decoded code object. */
export function staticSummary(d: Disassembly): StaticSummary {
  const code: CodeObject = d.code
  let jumps = 0
  let loops = 0
  for (const i of d.instructions) {
    if (i.jumpTarget === undefined) continue
    jumps++
    if (i.jumpTarget <= i.offset) loops++
  }
  return {
    codeObjects: 1,
    instructions: d.instructions.length,
    codeBytes: code.code.length,
    maxDepth: analyzeDepth(d).maxDepth,
    stacksize: code.stacksize,
    constants: code.consts.length,
    names: code.names.length,
    locals: code.nlocals,
    jumps,
    loops,
    exceptionEntries: d.exceptionEntries.length,
  }
}

/** Summaries added up (depths: the largest). */
export function sumSummaries(all: readonly StaticSummary[]): StaticSummary {
  const sum = (f: (s: StaticSummary) => number) => all.reduce((t, s) => t + f(s), 0)
  const max = (f: (s: StaticSummary) => number) => all.reduce((t, s) => Math.max(t, f(s)), 0)
  return {
    codeObjects: sum((s) => s.codeObjects),
    instructions: sum((s) => s.instructions),
    codeBytes: sum((s) => s.codeBytes),
    maxDepth: max((s) => s.maxDepth),
    stacksize: max((s) => s.stacksize),
    constants: sum((s) => s.constants),
    names: sum((s) => s.names),
    locals: sum((s) => s.locals),
    jumps: sum((s) => s.jumps),
    loops: sum((s) => s.loops),
    exceptionEntries: sum((s) => s.exceptionEntries),
  }
}
