/**
 * How many stack slots each opcode pops and pushes, per supported CPython version: a reviewed,
 * hand-written table. (The net effects in effects/v3_X.ts are generated from the interpreters;
 * CPython exposes no pops/pushes to Python code in any version, so these are written here and
 * checked against the generated nets.)
 *
 * ## Convention
 *
 * `pops` counts every slot at the top of the stack the instruction reads — the ones it consumes
 * and the ones it only looks at or updates in place — and `pushes` the slots it leaves there,
 * counting the untouched ones it puts back. LIST_APPEND(i) pops `i + 1` (the list i slots down
 * and the value) and pushes `i` (the list and the slots above it), COPY(n) pops n and pushes
 * n + 1, FOR_ITER pops the iterator and pushes it back with the next value. This is the convention
 * of CPython's own generated instruction metadata (`_PyOpcode_num_popped` / `_num_pushed`, from
 * the stack comments of Python/bytecodes.c, 3.12+); the rows for 3.8–3.11 apply it to what each
 * version's Python/ceval.c reads and writes. A symbolic simulator can therefore treat every
 * instruction alike: take `pops` slots, put `pushes` slots.
 *
 * ## Sources, per version
 *
 * - 3.13: equal to `_PyOpcode_num_popped` / `_PyOpcode_num_pushed` of CPython 3.13.0's
 *   Include/internal/pycore_opcode_metadata.h for every opcode and sampled oparg (checked by
 *   test/stack.test.ts when that header and a C compiler are on the machine).
 * - 3.12: the stack comments of 3.12's Python/bytecodes.c; DICT_UPDATE / DICT_MERGE also count
 *   the dict (and callable) they read below the top, as 3.13 writes them.
 * - 3.14: 3.14's bytecodes.c stack comments (LOAD_SPECIAL, BUILD_INTERPOLATION, BUILD_TEMPLATE,
 *   the 4-slot CALL_FUNCTION_EX, RETURN_VALUE that leaves its value for the caller, …).
 * - 3.15: two-slot ("virtual") iterators and SEND receivers.
 * - 3.13+: equal to `_PyOpcode_num_popped` / `_num_pushed` of the installed interpreter's
 *   pycore_opcode_metadata.h (test/stack.test.ts, on every version whose headers are installed).
 * - 3.8–3.11: Python/ceval.c of each version (POP/PEEK/PUSH of each TARGET), and the compiler's
 *   bookkeeping where that differs from run time: 3.8's BEGIN_FINALLY counts 6 slots for the one
 *   NULL it pushes (so that END_FINALLY's 6 balance), ≤ 3.10's SETUP_* push the 6 exception
 *   slots a handler is entered with, 3.11's PRECALL already folds the arguments into the call.
 *
 * test/stack.test.ts checks `pushes - pops` against the generated net effect (= `dis.stack_effect`)
 * for every opcode, jump direction and sampled oparg of every version. The one deliberate
 * difference is {@link NET_ADJUSTMENTS}.
 *
 * A row applies from the minor version of its key until the next key; whether an opcode exists
 * in a version is the opcode table's business. `null`: no stack effect (3.12/3.13's
 * INSTRUMENTED_LINE, which only replaces another instruction at run time).
 */
import type { PopsPushes, PopsPushesRow } from './types.js'

/** The jump direction differs: `next` when falling through, `jump` when branching. */
const dir = (next: PopsPushes, jump: PopsPushes): PopsPushesRow => ({ next, jump })

/** `popcount(oparg & 0xf)`: one slot per flag (defaults, keyword defaults, annotations, closure). */
const MAKE_FUNCTION_FLAGS = '(oparg & 1) + ((oparg >> 1) & 1) + ((oparg >> 2) & 1) + ((oparg >> 3) & 1)'

/** Opcode name → first minor version a row applies to → pops and pushes. */
export const POPS_PUSHES: Readonly<Record<string, Readonly<Record<number, PopsPushesRow | null>>>> = {
  // --- plain stack shuffling
  POP_TOP: { 8: [1, 0] },
  ROT_TWO: { 8: [2, 2] },
  ROT_THREE: { 8: [3, 3] },
  ROT_FOUR: { 8: [4, 4] },
  ROT_N: { 10: ['oparg', 'oparg'] },
  DUP_TOP: { 8: [1, 2] },
  DUP_TOP_TWO: { 8: [2, 4] },
  COPY: { 11: ['oparg', 'oparg + 1'] },
  SWAP: { 11: ['oparg', 'oparg'] },
  PUSH_NULL: { 11: [0, 1] },
  NOP: { 8: [0, 0] },
  NOT_TAKEN: { 14: [0, 0] },
  CACHE: { 11: [0, 0] },
  RESERVED: { 12: [0, 0] },
  EXTENDED_ARG: { 8: [0, 0] },
  RESUME: { 11: [0, 0] },
  ENTER_EXECUTOR: { 13: [0, 0] },
  TRACE_RECORD: { 15: [0, 0] },
  MAKE_CELL: { 11: [0, 0] },
  COPY_FREE_VARS: { 11: [0, 0] },

  // --- loading and storing names
  LOAD_CONST: { 8: [0, 1] },
  LOAD_SMALL_INT: { 14: [0, 1] },
  LOAD_COMMON_CONSTANT: { 14: [0, 1] },
  LOAD_ASSERTION_ERROR: { 9: [0, 1] },
  LOAD_BUILD_CLASS: { 8: [0, 1] },
  LOAD_LOCALS: { 12: [0, 1] },
  LOAD_NAME: { 8: [0, 1] },
  STORE_NAME: { 8: [1, 0] },
  DELETE_NAME: { 8: [0, 0] },
  LOAD_GLOBAL: { 8: [0, 1], 11: [0, '1 + (oparg & 1)'] },
  STORE_GLOBAL: { 8: [1, 0] },
  DELETE_GLOBAL: { 8: [0, 0] },
  LOAD_FAST: { 8: [0, 1] },
  LOAD_FAST_CHECK: { 12: [0, 1] },
  LOAD_FAST_AND_CLEAR: { 12: [0, 1] },
  LOAD_FAST_BORROW: { 14: [0, 1] },
  LOAD_FAST_LOAD_FAST: { 13: [0, 2] },
  LOAD_FAST_BORROW_LOAD_FAST_BORROW: { 14: [0, 2] },
  STORE_FAST: { 8: [1, 0] },
  STORE_FAST_LOAD_FAST: { 13: [1, 1] },
  STORE_FAST_STORE_FAST: { 13: [2, 0] },
  DELETE_FAST: { 8: [0, 0] },
  LOAD_CLOSURE: { 8: [0, 1] },
  LOAD_DEREF: { 8: [0, 1] },
  LOAD_CLASSDEREF: { 8: [0, 1] },
  /** The mapping to look in first (class body namespace) → the value. */
  LOAD_FROM_DICT_OR_DEREF: { 12: [1, 1] },
  LOAD_FROM_DICT_OR_GLOBALS: { 12: [1, 1] },
  STORE_DEREF: { 8: [1, 0] },
  DELETE_DEREF: { 8: [0, 0] },
  LOAD_ATTR: { 8: [1, 1], 12: [1, '1 + (oparg & 1)'] },
  /** ≤ 3.11: obj → method and self, or NULL and the attribute. */
  LOAD_METHOD: { 8: [1, 2] },
  /** global super, class, self → attribute (and NULL/self for a method call). */
  LOAD_SUPER_ATTR: { 12: [3, '1 + (oparg & 1)'] },
  /** obj → the bound special method and self (or NULL) (3.14, for with / async with). */
  LOAD_SPECIAL: { 14: [1, 2] },
  STORE_ATTR: { 8: [2, 0] },
  DELETE_ATTR: { 8: [1, 0] },
  IMPORT_NAME: { 8: [2, 1] },
  /** The module stays below the imported name. */
  IMPORT_FROM: { 8: [1, 2] },
  IMPORT_STAR: { 8: [1, 0] },
  SETUP_ANNOTATIONS: { 8: [0, 0] },

  // --- operators
  UNARY_POSITIVE: { 8: [1, 1] },
  UNARY_NEGATIVE: { 8: [1, 1] },
  UNARY_NOT: { 8: [1, 1] },
  UNARY_INVERT: { 8: [1, 1] },
  TO_BOOL: { 13: [1, 1] },
  BINARY_OP: { 11: [2, 1] },
  BINARY_POWER: { 8: [2, 1] },
  BINARY_MULTIPLY: { 8: [2, 1] },
  BINARY_MATRIX_MULTIPLY: { 8: [2, 1] },
  BINARY_FLOOR_DIVIDE: { 8: [2, 1] },
  BINARY_TRUE_DIVIDE: { 8: [2, 1] },
  BINARY_MODULO: { 8: [2, 1] },
  BINARY_ADD: { 8: [2, 1] },
  BINARY_SUBTRACT: { 8: [2, 1] },
  BINARY_LSHIFT: { 8: [2, 1] },
  BINARY_RSHIFT: { 8: [2, 1] },
  BINARY_AND: { 8: [2, 1] },
  BINARY_XOR: { 8: [2, 1] },
  BINARY_OR: { 8: [2, 1] },
  INPLACE_POWER: { 8: [2, 1] },
  INPLACE_MULTIPLY: { 8: [2, 1] },
  INPLACE_MATRIX_MULTIPLY: { 8: [2, 1] },
  INPLACE_FLOOR_DIVIDE: { 8: [2, 1] },
  INPLACE_TRUE_DIVIDE: { 8: [2, 1] },
  INPLACE_MODULO: { 8: [2, 1] },
  INPLACE_ADD: { 8: [2, 1] },
  INPLACE_SUBTRACT: { 8: [2, 1] },
  INPLACE_LSHIFT: { 8: [2, 1] },
  INPLACE_RSHIFT: { 8: [2, 1] },
  INPLACE_AND: { 8: [2, 1] },
  INPLACE_XOR: { 8: [2, 1] },
  INPLACE_OR: { 8: [2, 1] },
  BINARY_SUBSCR: { 8: [2, 1] },
  /** container, start, stop → container[start:stop] */
  BINARY_SLICE: { 12: [3, 1] },
  STORE_SUBSCR: { 8: [3, 0] },
  /** value, container, start, stop */
  STORE_SLICE: { 12: [4, 0] },
  DELETE_SUBSCR: { 8: [2, 0] },
  COMPARE_OP: { 8: [2, 1] },
  IS_OP: { 9: [2, 1] },
  CONTAINS_OP: { 9: [2, 1] },
  CALL_INTRINSIC_1: { 12: [1, 1] },
  CALL_INTRINSIC_2: { 12: [2, 1] },

  // --- building containers and strings
  BUILD_TUPLE: { 8: ['oparg', 1] },
  BUILD_LIST: { 8: ['oparg', 1] },
  BUILD_SET: { 8: ['oparg', 1] },
  BUILD_MAP: { 8: ['2 * oparg', 1] },
  /** oparg values and the tuple of their keys. */
  BUILD_CONST_KEY_MAP: { 8: ['oparg + 1', 1] },
  BUILD_STRING: { 8: ['oparg', 1] },
  BUILD_SLICE: { 8: ['2 + (oparg == 3)', 1], 14: ['oparg', 1] },
  BUILD_TUPLE_UNPACK: { 8: ['oparg', 1] },
  BUILD_TUPLE_UNPACK_WITH_CALL: { 8: ['oparg', 1] },
  BUILD_LIST_UNPACK: { 8: ['oparg', 1] },
  BUILD_SET_UNPACK: { 8: ['oparg', 1] },
  BUILD_MAP_UNPACK: { 8: ['oparg', 1] },
  BUILD_MAP_UNPACK_WITH_CALL: { 8: ['oparg', 1] },
  LIST_TO_TUPLE: { 9: [1, 1] },
  /** The list oparg slots down, the slots above it, and the value; the value is consumed. */
  LIST_APPEND: { 8: ['oparg + 1', 'oparg'] },
  SET_ADD: { 8: ['oparg + 1', 'oparg'] },
  /** The dict oparg slots down, …, key and value. */
  MAP_ADD: { 8: ['oparg + 2', 'oparg'] },
  LIST_EXTEND: { 9: ['oparg + 1', 'oparg'] },
  SET_UPDATE: { 9: ['oparg + 1', 'oparg'] },
  DICT_UPDATE: { 9: ['oparg + 1', 'oparg'] },
  /** Also reads the callable below the dict (for its error message): 2, 3 or 4 slots under it. */
  DICT_MERGE: { 9: ['oparg + 2', 'oparg + 1'], 11: ['oparg + 3', 'oparg + 2'], 13: ['oparg + 4', 'oparg + 3'] },
  UNPACK_SEQUENCE: { 8: [1, 'oparg'] },
  UNPACK_EX: { 8: [1, '(oparg & 0xff) + (oparg >> 8) + 1'] },
  /** value (and format spec when bit 2 is set) → the formatted string. */
  FORMAT_VALUE: { 8: ['1 + ((oparg >> 2) & 1)', 1] },
  CONVERT_VALUE: { 13: [1, 1] },
  FORMAT_SIMPLE: { 13: [1, 1] },
  FORMAT_WITH_SPEC: { 13: [2, 1] },
  /** value, expression text, and the format spec when bit 0 is set → an Interpolation. */
  BUILD_INTERPOLATION: { 14: ['2 + (oparg & 1)', 1] },
  /** strings tuple, interpolations tuple → a Template. */
  BUILD_TEMPLATE: { 14: [2, 1] },

  // --- functions and calls
  /** ≤ 3.10: code and qualified name, ≤ 3.12: code, plus what the flags announce. */
  MAKE_FUNCTION: { 8: [`2 + ${MAKE_FUNCTION_FLAGS}`, 1], 11: [`1 + ${MAKE_FUNCTION_FLAGS}`, 1], 13: [1, 1] },
  SET_FUNCTION_ATTRIBUTE: { 13: [2, 1] },
  /** callable and oparg arguments. */
  CALL_FUNCTION: { 8: ['oparg + 1', 1] },
  /** callable, oparg arguments, tuple of keyword names. */
  CALL_FUNCTION_KW: { 8: ['oparg + 2', 1] },
  /** method/NULL, self/callable and oparg arguments. */
  CALL_METHOD: { 8: ['oparg + 2', 1] },
  /** ≤ 3.10: callable, args tuple [, kwargs]; 3.11–3.13: NULL too; 3.14: kwargs always (maybe NULL). */
  CALL_FUNCTION_EX: { 8: ['2 + (oparg & 1)', 1], 11: ['3 + (oparg & 1)', 1], 14: [4, 1] },
  /**
   * 3.11 splits a call in two; the compiler counts the arguments as gone at PRECALL (net
   * -oparg) and the call as finished at CALL (net -1), so here PRECALL folds NULL/method,
   * callable and arguments into two slots that CALL turns into the result.
   */
  PRECALL: { 11: ['oparg + 2', 2] },
  CALL: { 11: [2, 1], 12: ['oparg + 2', 1] },
  /** callable, self/NULL, oparg arguments, tuple of keyword names. */
  CALL_KW: { 13: ['oparg + 3', 1] },
  KW_NAMES: { 11: [0, 0] },
  EXIT_INIT_CHECK: { 13: [1, 0] },
  RETURN_VALUE: { 8: [1, 0], 14: [1, 1] },
  RETURN_CONST: { 12: [0, 0] },
  /**
   * 3.11/3.12: dis.stack_effect says 0, but the first resumption pushes the value sent in, which
   * the POP_TOP after it removes; counted here as 3.13 counts it (see NET_ADJUSTMENTS).
   */
  RETURN_GENERATOR: { 11: [0, 1] },
  /** ≤ 3.10: the value sent into a starting generator (always None). */
  GEN_START: { 10: [1, 0] },
  YIELD_VALUE: { 8: [1, 1] },
  /** receiver, value → the result; the receiver stays while the delegation runs. */
  YIELD_FROM: { 8: [2, 1] },
  /** 3.15: the receiver is two slots, like a virtual iterator (iterator + NULL, or iterable + index). */
  SEND: { 11: dir([2, 2], [2, 1]), 12: [2, 2], 15: [3, 3] },
  END_SEND: { 12: [2, 1], 15: [3, 1] },
  CLEANUP_THROW: { 12: [3, 2], 15: [4, 3] },
  ASYNC_GEN_WRAP: { 11: [1, 1] },
  GET_AWAITABLE: { 8: [1, 1] },
  GET_AITER: { 8: [1, 1] },
  /** The async iterator stays under the awaitable. */
  GET_ANEXT: { 8: [1, 2] },
  /** ≤ 3.10: async iterator and the 6 exception slots; 3.11+: awaitable and exception. */
  END_ASYNC_FOR: { 8: [7, 0], 11: [2, 0] },
  INTERPRETER_EXIT: { 12: [1, 0] },

  // --- iteration
  /** 3.15: an iterator takes two slots (iterable + index for lists, tuples, ranges; else iterator + NULL). */
  GET_ITER: { 8: [1, 1], 15: [1, 2] },
  GET_YIELD_FROM_ITER: { 8: [1, 1] },
  /** ≤ 3.11: when exhausted, pops the iterator and jumps; 3.12+: jumps to END_FOR, which pops. */
  FOR_ITER: { 8: dir([1, 2], [1, 0]), 12: [1, 2], 15: [2, 3] },
  END_FOR: { 12: [2, 0], 13: [1, 0] },
  POP_ITER: { 14: [1, 0], 15: [2, 0] },

  // --- jumps
  JUMP_FORWARD: { 8: [0, 0] },
  JUMP_ABSOLUTE: { 8: [0, 0] },
  JUMP_BACKWARD: { 11: [0, 0] },
  JUMP_BACKWARD_NO_INTERRUPT: { 11: [0, 0] },
  POP_JUMP_IF_FALSE: { 8: [1, 0] },
  POP_JUMP_IF_TRUE: { 8: [1, 0] },
  POP_JUMP_IF_NONE: { 12: [1, 0] },
  POP_JUMP_IF_NOT_NONE: { 12: [1, 0] },
  POP_JUMP_FORWARD_IF_FALSE: { 11: [1, 0] },
  POP_JUMP_FORWARD_IF_TRUE: { 11: [1, 0] },
  POP_JUMP_FORWARD_IF_NONE: { 11: [1, 0] },
  POP_JUMP_FORWARD_IF_NOT_NONE: { 11: [1, 0] },
  POP_JUMP_BACKWARD_IF_FALSE: { 11: [1, 0] },
  POP_JUMP_BACKWARD_IF_TRUE: { 11: [1, 0] },
  POP_JUMP_BACKWARD_IF_NONE: { 11: [1, 0] },
  POP_JUMP_BACKWARD_IF_NOT_NONE: { 11: [1, 0] },
  /** The condition stays when jumping, is popped when falling through. */
  JUMP_IF_FALSE_OR_POP: { 8: dir([1, 0], [1, 1]) },
  JUMP_IF_TRUE_OR_POP: { 8: dir([1, 0], [1, 1]) },

  // --- exceptions and blocks, 3.8–3.10 (the handler is entered with 6 more slots: the previous
  // exception's traceback, value and type, then the new exception's)
  SETUP_FINALLY: { 8: dir([0, 0], [0, 6]) },
  /** context manager → __exit__ and __enter__()'s result; in the handler, __exit__ and 6 slots. */
  SETUP_WITH: { 8: dir([1, 2], [1, 7]) },
  /** __aenter__()'s result stays above the block; in the handler, 6 slots instead. */
  SETUP_ASYNC_WITH: { 8: dir([1, 1], [1, 6]) },
  POP_BLOCK: { 8: [0, 0] },
  /** 3.8: pushes one NULL, counted as the 6 slots END_FINALLY pops. */
  BEGIN_FINALLY: { 8: [0, 6] },
  /** 3.8: pushes the return address when jumping into the finally block. */
  CALL_FINALLY: { 8: dir([0, 0], [0, 1]) },
  END_FINALLY: { 8: [6, 0] },
  /** 3.8: the 6 finally slots, and with oparg ≠ 0 the return value above them, kept. */
  POP_FINALLY: { 8: ['7 - (oparg == 0)', '1 - (oparg == 0)'] },
  /** 3.8: duplicates the exception slot and pushes __exit__()'s result. */
  WITH_CLEANUP_START: { 8: [1, 3] },
  WITH_CLEANUP_FINISH: { 8: [3, 0] },
  /** ≤ 3.10: the 3 slots of the previous exception; 3.11+: the saved exception. */
  POP_EXCEPT: { 8: [3, 0], 11: [1, 0] },
  /** ≤ 3.10: exception type, value, traceback; 3.11+: the exception, under it oparg slots (lasti). */
  RERAISE: { 9: [3, 0], 11: ['oparg + 1', 'oparg'] },
  JUMP_IF_NOT_EXC_MATCH: { 9: [2, 0] },
  /** __exit__ (3.14: and self) under the exception slots → those and exit's result. */
  WITH_EXCEPT_START: { 9: [7, 8], 11: [4, 5], 14: [5, 6] },
  BEFORE_WITH: { 11: [1, 2] },
  BEFORE_ASYNC_WITH: { 8: [1, 2] },
  PUSH_EXC_INFO: { 11: [1, 2] },
  CHECK_EXC_MATCH: { 11: [2, 2] },
  CHECK_EG_MATCH: { 11: [2, 2] },
  PREP_RERAISE_STAR: { 11: [2, 1] },
  RAISE_VARARGS: { 8: ['oparg', 0] },
  PRINT_EXPR: { 8: [1, 0] },

  // --- pattern matching
  GET_LEN: { 10: [1, 2] },
  MATCH_MAPPING: { 10: [1, 2] },
  MATCH_SEQUENCE: { 10: [1, 2] },
  /** 3.10: subject, keys → also values (or None) and a bool; 3.11+: no bool. */
  MATCH_KEYS: { 10: [2, 4], 11: [2, 3] },
  COPY_DICT_WITHOUT_KEYS: { 10: [2, 2] },
  /** subject, class, attribute names → 3.10: attributes (or None) and a bool; 3.11+: no bool. */
  MATCH_CLASS: { 10: [3, 2], 11: [3, 1] },

  // --- instrumented forms (3.12+; only in code being monitored at run time, never in .pyc files).
  // 3.12 and 3.13 count most of them as 0/0: they run the instruction they replace.
  INSTRUMENTED_LINE: { 12: null, 14: [0, 0] },
  INSTRUMENTED_INSTRUCTION: { 12: [0, 0] },
  INSTRUMENTED_RESUME: { 12: [0, 0] },
  INSTRUMENTED_JUMP_FORWARD: { 12: [0, 0] },
  INSTRUMENTED_JUMP_BACKWARD: { 12: [0, 0] },
  INSTRUMENTED_NOT_TAKEN: { 14: [0, 0] },
  INSTRUMENTED_POP_JUMP_IF_FALSE: { 12: [0, 0], 14: [1, 0] },
  INSTRUMENTED_POP_JUMP_IF_TRUE: { 12: [0, 0], 14: [1, 0] },
  INSTRUMENTED_POP_JUMP_IF_NONE: { 12: [0, 0], 14: [1, 0] },
  INSTRUMENTED_POP_JUMP_IF_NOT_NONE: { 12: [0, 0], 14: [1, 0] },
  INSTRUMENTED_CALL: { 12: [0, 0], 14: ['oparg + 2', 1] },
  INSTRUMENTED_CALL_KW: { 13: [0, 0], 14: ['oparg + 3', 1] },
  INSTRUMENTED_CALL_FUNCTION_EX: { 12: [0, 0], 14: [4, 1] },
  INSTRUMENTED_FOR_ITER: { 12: [0, 0], 14: [1, 2], 15: [2, 3] },
  INSTRUMENTED_RETURN_VALUE: { 12: [1, 0], 14: [1, 1] },
  INSTRUMENTED_RETURN_CONST: { 12: [0, 0] },
  INSTRUMENTED_YIELD_VALUE: { 12: [1, 1] },
  INSTRUMENTED_LOAD_SUPER_ATTR: { 12: [3, '1 + (oparg & 1)'] },
  INSTRUMENTED_END_FOR: { 12: [2, 0], 13: [2, 1], 15: [3, 2] },
  INSTRUMENTED_END_SEND: { 12: [2, 1], 15: [3, 1] },
  INSTRUMENTED_POP_ITER: { 14: [1, 0], 15: [2, 0] },
  INSTRUMENTED_END_ASYNC_FOR: { 14: [2, 0] },
}

/**
 * Where `pushes - pops` in {@link POPS_PUSHES} deliberately differs from `dis.stack_effect`, per
 * minor version: opcode name → (pushes - pops) - stack_effect, in slots, for both directions.
 */
export const NET_ADJUSTMENTS: Readonly<Record<number, Readonly<Record<string, number>>>> = {
  11: { RETURN_GENERATOR: 1 },
  12: { RETURN_GENERATOR: 1 },
}
