/**
 * Every behavioural difference between the supported CPython versions, as one named fact each:
 * the versions a behaviour holds for and a one-line note on what changed. Code asks
 * `has(minor, 'name')` instead of comparing version numbers, so this table is the only place that
 * does — and the only place to review when a version is added (DEVELOPERS.md, "Adding CPython 3.X").
 *
 * A span with no `to` is open-ended on purpose: the behaviour is expected to carry over to the next
 * version. A span with `to` stops there because a later version changed it. When adding a version,
 * check every open-ended span against the new interpreter (the differential tests find most).
 */

/** The minor versions a behaviour holds for: `from` up to and including `to` (open-ended without). */
export interface VersionSpan {
  readonly from: number
  readonly to?: number
}

/** The behaviours, by name. Each comment says what the behaviour is and when it changed. */
export const FEATURES = {
  // --- marshal and .pyc (spans may start before the oldest supported version: old files) --------
  /** The .pyc header stores the source size after the mtime (3.3). */
  pycSourceSize: { from: 3 },
  /** The .pyc header starts with a flags word (PEP 552, 3.7): 16 bytes in all. */
  pycFlagsWord: { from: 7 },
  /** Code objects carry co_posonlyargcount (3.8, PEP 570). */
  posOnlyArgs: { from: 8 },
  /** Code objects store co_localsplusnames/co_localspluskinds, co_qualname and co_exceptiontable (3.11). */
  localsPlus: { from: 11 },
  /** Handlers come from co_exceptiontable ("zero-cost" exceptions) instead of SETUP_* blocks (3.11). */
  exceptionTable: { from: 11 },
  /** Code objects have co_lines() (3.10, PEP 626). */
  coLines: { from: 10 },

  // --- line and location tables ----------------------------------------------------------------
  /** Line numbers come from co_lnotab, read as dis.findlinestarts does (to 3.9). */
  lnotab: { from: 8, to: 9 },
  /** co_linetable in 3.10's format: (byte delta, line delta) pairs; -128 means no line. */
  linetable310: { from: 10, to: 10 },
  /** co_linetable is the location table with columns and end lines (3.11, PEP 657). */
  locationTable: { from: 11 },
  /** co_lines() gives every negative line as None (3.10, 3.11); later versions only -1. */
  negativeLinesAreNone: { from: 10, to: 11 },
  /** co_lines() merges consecutive entries with the same line into one range (3.12). */
  coLinesMergesEqualLines: { from: 12 },
  /** dis.findlinestarts also reports ranges whose line is None (3.13). */
  lineStartsIncludeNone: { from: 13 },
  /** dis shows line numbers on every instruction that has one, not only line starts (to 3.12). */
  textShowsEveryLineChange: { from: 8, to: 12 },

  // --- decoding and dis text -------------------------------------------------------------------
  /** Jump arguments count 2-byte code units instead of bytes (3.10). */
  jumpsInCodeUnits: { from: 10 },
  /** dis prints "to N" for absolute jumps too (3.10; 3.8/3.9 print the raw argument). */
  absoluteJumpArgrepr: { from: 10 },
  /** Instructions are followed by inline CACHE entries, and EXTENDED_ARG is a signed C int (3.11). */
  inlineCaches: { from: 11 },
  /** Relative jumps also skip the jumping instruction's caches (3.12). */
  jumpsSkipCaches: { from: 12 },
  /** opcode.hasarg says which opcodes take an argument, not `op >= HAVE_ARGUMENT` (3.12). */
  hasArgList: { from: 12 },
  /** opcode.hasjump lists every jump, and exception-table targets are jump targets (3.13). */
  hasJumpList: { from: 13 },
  /** dis labels jump targets `L1:` instead of marking them with `>>` (3.13). */
  jumpLabels: { from: 13 },
  /** LOAD_GLOBAL/LOAD_ATTR print "x + NULL" rather than "NULL + x" (3.13). */
  nullAfterName: { from: 13 },
  /** LOAD_GLOBAL's argument is name index << 1 | push-NULL bit (3.11). */
  loadGlobalNullBit: { from: 11 },
  /** LOAD_ATTR's argument is name index << 1 | method bit (3.12). */
  loadAttrMethodBit: { from: 12 },
  /** COMPARE_OP's argument is the operator index << 4 (3.12) … */
  compareShift4: { from: 12, to: 12 },
  /** … << 5, with bit 16 asking for bool() of the result (3.13). */
  compareShift5: { from: 13 },
  /** 3.11 resolves only LOAD_CONST among the hasconst opcodes (KW_NAMES shows a bare number). */
  onlyLoadConstResolves: { from: 11, to: 11 },
  /** dis describes jump targets of 3.11 by the raw (specialized-free) opcode only. */
  rawJumpsOnly: { from: 11, to: 11 },
  /** MAKE_FUNCTION carries flag bits (to 3.12; SET_FUNCTION_ATTRIBUTE from 3.13). */
  makeFunctionFlags: { from: 8, to: 12 },
  /** IS_OP and CONTAINS_OP print "is"/"is not" and "in"/"not in" (3.14). */
  namedIsContains: { from: 14 },
  /** dis names END_ASYNC_FOR a backward jump (3.14). */
  endAsyncForJumps: { from: 14 },
  /** dis.dis's show_offsets exists (3.13); before, dis shows every offset anyway. */
  showOffsets: { from: 13 },
  /** `dis --show-positions` exists (3.14). */
  showPositions: { from: 14 },
  /** dis prints the line number column even for code without any line (to 3.9). */
  alwaysLineColumn: { from: 8, to: 9 },
  /** Cache entries with show_caches print the specialized name only when it differs … (to 3.11), always from 3.12. */
  describeCacheAlways: { from: 12 },
  /** In 3.13 the line-end table of a CACHE run does not advance past the caches. */
  cacheLineEndsStay: { from: 13, to: 13 },

  // --- stack model -------------------------------------------------------------------------------
  /** Unconditional jumps are JUMP_FORWARD/JUMP_BACKWARD* (3.11), not JUMP_ABSOLUTE. */
  jumpBackward: { from: 11 },
  /** Blocks are set up by SETUP_FINALLY/SETUP_WITH/SETUP_ASYNC_WITH (to 3.10), not an exception table. */
  setupBlocks: { from: 8, to: 10 },
  /** The compiler's max-depth starts at 1 rather than 0 (3.13). */
  maxDepthAtLeastOne: { from: 13 },
  /** Unreachable blocks count towards co_stacksize (3.11). */
  stackCountsUnreachable: { from: 11 },
  /** 3.8 handler targets take the larger of two depths. */
  handlerTargetsTakeMax: { from: 8, to: 8 },
  /** 3.10 generators and coroutines start with one value on the stack. */
  generatorEntryValue: { from: 10, to: 10 },
  /** The peephole optimizer folded LOAD_CONSTs + BUILD_TUPLE after co_stacksize was computed (to 3.9). */
  peepholeFoldsTuples: { from: 8, to: 9 },
  /** PUSH_NULL/LOAD_GLOBAL push NULL after the callable … (3.13), before it (3.11, 3.12). */
  nullAfterCallable: { from: 13 },
  /** CALL takes the callable and self/NULL below the arguments (3.11). */
  callWithNull: { from: 11 },
  /** CALL_FUNCTION_EX always takes four values: callable, NULL, args, kwargs (3.14). */
  callFunctionExFourSlots: { from: 14 },
  /** MAKE_FUNCTION takes the code object alone on top; 3.8–3.10 also take the qualname. */
  makeFunctionCodeOnTop: { from: 11 },
  /** PRECALL gathers a call's arguments into two slots before CALL (3.11 only). */
  precall: { from: 11, to: 11 },
  /** Iterators take two stack slots: iterable + index ("virtual", lists/tuples/ranges) or iterator + NULL (3.15). */
  virtualIterators: { from: 15 },
  /** A generator expression builds its iterator before RETURN_GENERATOR; the body's wrapper handler keeps it (3.15). */
  generatorIteratorInPreamble: { from: 15 },

  // --- profiler and runtime ----------------------------------------------------------------------
  /** IMPORT_NAME's argument is name index << 2 | lazy/eager bits (3.15, PEP 810 lazy imports). */
  lazyImportFlags: { from: 15 },

  /** The specializing adaptive interpreter exists (3.11, PEP 659). */
  adaptiveInterpreter: { from: 11 },
} as const satisfies Record<string, VersionSpan>

/** A behaviour's name. */
export type Feature = keyof typeof FEATURES

/** Whether CPython 3.`minor` has the behaviour `feature`. */
export function has(minor: number, feature: Feature): boolean {
  const span: VersionSpan = FEATURES[feature]
  return minor >= span.from && (span.to === undefined || minor <= span.to)
}
