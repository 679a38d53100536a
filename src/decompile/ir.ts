/**
 * Step 1 of the decompiler: the instructions of one code object, normalized into a small
 * version-independent IR. Each version difference is one named rule below (NORMALIZE_RULES says
 * which apply to which versions); the structurer then never looks at an opname again.
 */
import type { PyObject } from '../marshal/index.js'
import { type CodeObject, disassemble, type Instruction } from '../bytecode/index.js'
import { firstAtOrAfter } from './search.js'

/** Where a name lives: fast locals, the namespace dict, globals, or a cell. */
export type Scope = 'fast' | 'name' | 'global' | 'deref'

/** One IR operation. `at` is the byte offset of the instruction it came from. */
export type Op = { readonly at: number } & (
  | { readonly op: 'const'; readonly value: PyObject }
  | { readonly op: 'load'; readonly scope: Scope; readonly name: string }
  /** LOAD_FAST_AND_CLEAR: saves a local around an inlined comprehension (3.12+). */
  | { readonly op: 'load_clear'; readonly name: string }
  | { readonly op: 'store'; readonly scope: Scope; readonly name: string }
  | { readonly op: 'delete'; readonly scope: Scope; readonly name: string }
  | { readonly op: 'load_attr' | 'store_attr' | 'delete_attr'; readonly name: string }
  /** super().name: pops the `super` global, the class cell and the first argument. */
  | { readonly op: 'load_super_attr'; readonly name: string; readonly call: boolean; readonly twoArg: boolean }
  | { readonly op: 'subscr' | 'store_subscr' | 'delete_subscr' }
  | { readonly op: 'binary_slice' | 'store_slice' }
  | { readonly op: 'build_slice'; readonly n: number }
  | { readonly op: 'binop'; readonly operator: string; readonly inplace: boolean }
  | { readonly op: 'unary'; readonly operator: '-' | '+' | '~' | 'not' }
  /** Comparisons, `is`, `in` and their negations. */
  | { readonly op: 'compare'; readonly operator: string }
  /** A call of `argc` arguments; `kwnames` names the last ones; `kwOnStack`: the names tuple is the top value (3.13+ CALL_KW). */
  | { readonly op: 'call'; readonly argc: number; readonly kwnames: readonly string[]; readonly kwOnStack: boolean; readonly slots: 1 | 2 }
  | { readonly op: 'call_ex'; readonly kwargs: boolean; readonly slots: 1 | 2 }
  /** A NULL (PUSH_NULL, the NULL bit of LOAD_GLOBAL / LOAD_ATTR, the self slot of LOAD_METHOD). */
  | { readonly op: 'null' }
  | { readonly op: 'yield' }
  /** A value awaited (`await v`) or delegated to (`yield from v`): the whole send loop (3.12+). */
  | { readonly op: 'await' | 'yield_from' }
  | { readonly op: 'return_generator' }
  | { readonly op: 'build'; readonly type: 'tuple' | 'list' | 'set' | 'map' | 'string'; readonly n: number }
  | { readonly op: 'const_key_map'; readonly n: number }
  | { readonly op: 'list_extend' | 'set_update' | 'dict_update' | 'dict_merge' | 'list_append' | 'set_add' | 'map_add'; readonly n: number }
  | { readonly op: 'list_to_tuple' }
  | { readonly op: 'jump'; readonly target: number }
  /** Pops the top value and jumps when it is true / false / None / not None. */
  | { readonly op: 'cjump'; readonly when: 'true' | 'false' | 'none' | 'notnone'; readonly target: number }
  /** ≤ 3.11: JUMP_IF_TRUE_OR_POP / JUMP_IF_FALSE_OR_POP. */
  | { readonly op: 'cjump_or_pop'; readonly when: 'true' | 'false'; readonly target: number }
  | { readonly op: 'get_iter' }
  | { readonly op: 'for_iter'; readonly target: number }
  /** The end of a for loop: pops the iterator (and, 3.12+, the exhausted value the jump leaves). */
  | { readonly op: 'end_for' }
  | { readonly op: 'return' }
  | { readonly op: 'pop' }
  | { readonly op: 'copy' | 'swap'; readonly n: number }
  | { readonly op: 'unpack'; readonly before: number; readonly after: number; readonly star: boolean }
  | { readonly op: 'import_name'; readonly name: string }
  | { readonly op: 'import_from'; readonly name: string }
  | { readonly op: 'import_star' }
  | { readonly op: 'make_function'; readonly flags: number }
  | { readonly op: 'set_function_attribute'; readonly flag: number }
  | { readonly op: 'load_build_class' }
  | { readonly op: 'raise'; readonly n: number }
  | { readonly op: 'format'; readonly conversion: number; readonly spec: boolean }
  | { readonly op: 'format_simple' }
  | { readonly op: 'convert'; readonly conversion: number }
  | { readonly op: 'format_with_spec' }
  | { readonly op: 'load_locals' }
  /** 3.14+: LOAD_SPECIAL __enter__ / __exit__ (with statements). */
  | { readonly op: 'load_special'; readonly name: string }
  | { readonly op: 'push_exc_info' | 'check_exc_match' | 'pop_except' | 'reraise' | 'before_with' }
  | { readonly op: 'setup_annotations' }
  | { readonly op: 'intrinsic'; readonly which: string }
  | { readonly op: 'unsupported'; readonly opname: string }
)

/** The IR of one code object. */
export interface CodeIR {
  readonly ops: readonly Op[]
  /** Byte offset → index in `ops` of the first op at or after that offset. */
  readonly indexOf: (offset: number) => number
  readonly instructions: readonly Instruction[]
}

/** One named normalization rule: which versions it applies to, and what it says. */
export interface NormalizeRule {
  readonly name: string
  readonly minors: readonly [from: number, to: number]
  readonly what: string
}

/** The version differences the normalizer handles, for the documentation and the tests. */
export const NORMALIZE_RULES: readonly NormalizeRule[] = [
  { name: 'no-op instructions', minors: [8, 15], what: 'NOP, RESUME, CACHE, EXTENDED_ARG, PRECALL, PUSH_NULL, TO_BOOL, NOT_TAKEN, MAKE_CELL, COPY_FREE_VARS, KW_NAMES and the NULL bits of LOAD_GLOBAL / LOAD_ATTR carry no source: dropped' },
  { name: 'superinstructions', minors: [13, 15], what: 'LOAD_FAST_LOAD_FAST, STORE_FAST_LOAD_FAST, STORE_FAST_STORE_FAST split into their two parts' },
  { name: 'borrowed loads', minors: [14, 15], what: 'LOAD_FAST_BORROW(_LOAD_FAST_BORROW), LOAD_FAST_CHECK are plain local loads' },
  { name: 'small ints', minors: [14, 15], what: 'LOAD_SMALL_INT n is a constant' },
  { name: 'return const', minors: [12, 13], what: 'RETURN_CONST c is a constant and a return' },
  { name: 'binary op', minors: [11, 15], what: 'BINARY_OP n is the operator of its argrepr; 3.14 BINARY_OP [] is a subscript' },
  { name: 'old binary ops', minors: [8, 10], what: 'BINARY_ADD … INPLACE_ADD … are binop operators' },
  { name: 'call forms', minors: [8, 15], what: 'CALL_FUNCTION(_KW), CALL_METHOD, CALL with KW_NAMES (3.11–3.12) or CALL_KW (3.13+) become one call with keyword names' },
  { name: 'make function', minors: [8, 15], what: 'MAKE_FUNCTION flags (≤ 3.12 oparg) or MAKE_FUNCTION + SET_FUNCTION_ATTRIBUTE (3.13+)' },
  { name: 'jumps', minors: [8, 15], what: 'relative or absolute, forward or backward jumps become one jump to an op index; POP_JUMP_IF_* in every spelling become cjump' },
  { name: 'for loops', minors: [12, 15], what: 'END_FOR (+ POP_TOP 3.13, POP_ITER 3.14+) ends a for loop' },
  { name: 'with entry', minors: [12, 15], what: 'BEFORE_WITH (3.12–3.13) or COPY 1 + LOAD_SPECIAL __exit__/__enter__ + CALL 0 (3.14+) enter a with block; exit(None, None, None) leaves it' },
  { name: 'common constants', minors: [14, 15], what: 'LOAD_COMMON_CONSTANT: AssertionError (assert), NotImplementedError (__annotate__), 3.15 None/True/False' },
  { name: 'annotations', minors: [14, 15], what: 'SET_FUNCTION_ATTRIBUTE 16 attaches an __annotate__ function whose returned dict holds the annotations' },
  { name: 'old stack shuffles', minors: [8, 10], what: 'DUP_TOP = COPY 1, DUP_TOP_TWO = COPY 2 twice, ROT_TWO = SWAP 2, ROT_THREE = SWAP 3 + SWAP 2, ROT_FOUR = SWAP 4 + SWAP 3 + SWAP 2' },
  { name: 'class free variables', minors: [12, 15], what: 'LOAD_LOCALS + LOAD_FROM_DICT_OR_DEREF (a free variable read in a class body) is one load of the variable; LOAD_DEREF __classdict__ + LOAD_FROM_DICT_OR_GLOBALS (a name read in an annotation scope of a class) is one load of the name' },
  { name: 'await and yield from', minors: [12, 14], what: 'GET_AWAITABLE / GET_YIELD_FROM_ITER and the send loop after it (SEND, YIELD_VALUE, JUMP_BACKWARD_NO_INTERRUPT, END_SEND) become one await / yield_from op; its CLEANUP_THROW handler is left out of the exception table' },
  { name: 'async generator yields', minors: [12, 15], what: 'CALL_INTRINSIC_1 INTRINSIC_ASYNC_GEN_WRAP before an async generator\'s YIELD_VALUE is dropped' },
  { name: 'two-slot iterators', minors: [15, 15], what: 'GET_ITER leaves two values (iterator + NULL/index): modeled as the iterator and a NULL; POP_ITER pops both' },
]

const OLD_BINOPS: Readonly<Record<string, string>> = {
  BINARY_POWER: '**', BINARY_MULTIPLY: '*', BINARY_MATRIX_MULTIPLY: '@', BINARY_FLOOR_DIVIDE: '//', BINARY_TRUE_DIVIDE: '/',
  BINARY_MODULO: '%', BINARY_ADD: '+', BINARY_SUBTRACT: '-', BINARY_LSHIFT: '<<', BINARY_RSHIFT: '>>', BINARY_AND: '&',
  BINARY_XOR: '^', BINARY_OR: '|',
}

/** 3.15's LOAD_COMMON_CONSTANT values that are constants. */
const COMMON_CONSTANTS: Readonly<Record<string, PyObject>> = {
  None: { type: 'none' } as PyObject,
  True: { type: 'bool', value: true } as PyObject,
  False: { type: 'bool', value: false } as PyObject,
}

/** What the send loop of an await or yield from holds between GET_AWAITABLE and END_SEND (3.12+). */
const SEND_LOOP: ReadonlySet<string> = new Set(['LOAD_CONST', 'LOAD_COMMON_CONSTANT', 'SEND', 'YIELD_VALUE', 'RESUME', 'JUMP_BACKWARD_NO_INTERRUPT', 'CACHE', 'EXTENDED_ARG', 'NOP'])

/** The name LOAD_ASSERTION_ERROR loads: no Python name can look like it; `assert` is rebuilt from it. */
export const ASSERTION_ERROR = '$AssertionError$'

/** Normalizes the instructions of `code` (not of its children). */
export function normalize(code: CodeObject): CodeIR {
  const minor = code.pythonVersion[1]
  const dis = disassemble(code, { positions: false })
  const ops: Op[] = []
  const offsets: number[] = []
  const push = (o: Op) => {
    ops.push(o)
    offsets.push(o.at)
  }
  let kwnames: readonly string[] = []
  let skipPop = false
  // inside the send loop of an await or yield from (3.12+), up to its END_SEND
  let inSend = false
  for (const ins of dis.instructions) {
    const at = ins.offset
    if (inSend) {
      if (ins.opname === 'END_SEND') inSend = false
      else if (!SEND_LOOP.has(ins.opname)) push({ at, op: 'unsupported', opname: `${ins.opname} in an await loop` })
      continue
    }
    const name = ins.argval?.kind === 'name' ? ins.argval.value : ''
    const target = ins.jumpTarget ?? -1
    const opname = ins.opname
    switch (opname) {
      case 'PUSH_NULL':
        push({ at, op: 'null' })
        break
      case 'NOP': case 'RESUME': case 'CACHE': case 'EXTENDED_ARG': case 'PRECALL': case 'TO_BOOL':
      case 'NOT_TAKEN': case 'MAKE_CELL': case 'COPY_FREE_VARS': case 'GEN_START':
        break
      case 'KW_NAMES':
      {
        // 3.11's decoder resolves only LOAD_CONST arguments: read the constant itself.
        const names = code.consts[ins.arg ?? -1]
        kwnames = names?.type === 'tuple' ? names.items.map((x) => (x.type === 'str' ? x.value : '?')) : []
        break
      }
      case 'LOAD_CONST': case 'LOAD_SMALL_INT':
        if (ins.argval?.kind === 'const') push({ at, op: 'const', value: ins.argval.value })
        else if (opname === 'LOAD_SMALL_INT') push({ at, op: 'const', value: { type: 'int', value: BigInt(ins.arg ?? 0) } as PyObject })
        else push({ at, op: 'unsupported', opname })
        break
      case 'RETURN_CONST':
        if (ins.argval?.kind === 'const') push({ at, op: 'const', value: ins.argval.value })
        push({ at, op: 'return' })
        break
      case 'LOAD_FAST': case 'LOAD_FAST_CHECK': case 'LOAD_FAST_BORROW':
        push({ at, op: 'load', scope: 'fast', name })
        break
      case 'LOAD_FAST_AND_CLEAR':
        push({ at, op: 'load_clear', name })
        break
      case 'LOAD_FAST_LOAD_FAST': case 'LOAD_FAST_BORROW_LOAD_FAST_BORROW': case 'STORE_FAST_LOAD_FAST': case 'STORE_FAST_STORE_FAST': {
        const [a, b] = ins.argval?.kind === 'names' ? ins.argval.value : ['', '']
        if (opname.startsWith('LOAD')) {
          push({ at, op: 'load', scope: 'fast', name: a })
          push({ at, op: 'load', scope: 'fast', name: b })
        } else {
          push({ at, op: 'store', scope: 'fast', name: a })
          push({ at, op: opname === 'STORE_FAST_LOAD_FAST' ? 'load' : 'store', scope: 'fast', name: b })
        }
        break
      }
      case 'LOAD_NAME': push({ at, op: 'load', scope: 'name', name }); break
      case 'LOAD_GLOBAL': {
        // 3.11+: bit 0 pushes a NULL too, before the global up to 3.12 and after it from 3.13.
        const withNull = minor >= 11 && ((ins.arg ?? 0) & 1) !== 0
        if (withNull && minor <= 12) push({ at, op: 'null' })
        push({ at, op: 'load', scope: 'global', name })
        if (withNull && minor >= 13) push({ at, op: 'null' })
        break
      }
      case 'LOAD_DEREF': case 'LOAD_CLASSDEREF': case 'LOAD_FROM_DICT_OR_DEREF': case 'LOAD_CLOSURE':
        // 3.12+ class body: LOAD_LOCALS + LOAD_FROM_DICT_OR_DEREF reads a free variable
        if (opname === 'LOAD_FROM_DICT_OR_DEREF' && ops[ops.length - 1]?.op === 'load_locals') {
          ops.pop()
          offsets.pop()
        }
        push({ at, op: 'load', scope: 'deref', name })
        break
      case 'LOAD_FROM_DICT_OR_GLOBALS': {
        // an annotation scope of a class (3.12+) reads a name from the class's __classdict__ first
        const last = ops[ops.length - 1]
        if (last?.op === 'load' && last.name === '__classdict__') {
          ops.pop()
          offsets.pop()
        }
        push({ at, op: 'load', scope: 'name', name })
        break
      }
      case 'STORE_FAST': push({ at, op: 'store', scope: 'fast', name }); break
      case 'STORE_NAME': push({ at, op: 'store', scope: 'name', name }); break
      case 'STORE_GLOBAL': push({ at, op: 'store', scope: 'global', name }); break
      case 'STORE_DEREF': push({ at, op: 'store', scope: 'deref', name }); break
      case 'DELETE_FAST': push({ at, op: 'delete', scope: 'fast', name }); break
      case 'DELETE_NAME': push({ at, op: 'delete', scope: 'name', name }); break
      case 'DELETE_GLOBAL': push({ at, op: 'delete', scope: 'global', name }); break
      case 'DELETE_DEREF': push({ at, op: 'delete', scope: 'deref', name }); break
      case 'LOAD_ATTR': case 'LOAD_METHOD':
        push({ at, op: 'load_attr', name })
        // LOAD_METHOD and the method bit of 3.12+ LOAD_ATTR push two values (method + self, or NULL + attribute).
        if (opname === 'LOAD_METHOD' || (minor >= 12 && ((ins.arg ?? 0) & 1) !== 0)) push({ at, op: 'null' })
        break
      case 'STORE_ATTR': push({ at, op: 'store_attr', name }); break
      case 'DELETE_ATTR': push({ at, op: 'delete_attr', name }); break
      case 'LOAD_SUPER_ATTR':
        push({ at, op: 'load_super_attr', name, call: ((ins.arg ?? 0) & 1) !== 0, twoArg: ((ins.arg ?? 0) & 2) !== 0 })
        if (((ins.arg ?? 0) & 1) !== 0) push({ at, op: 'null' })
        break
      case 'BINARY_SUBSCR': push({ at, op: 'subscr' }); break
      case 'STORE_SUBSCR': push({ at, op: 'store_subscr' }); break
      case 'DELETE_SUBSCR': push({ at, op: 'delete_subscr' }); break
      case 'BINARY_SLICE': push({ at, op: 'binary_slice' }); break
      case 'STORE_SLICE': push({ at, op: 'store_slice' }); break
      case 'BUILD_SLICE': push({ at, op: 'build_slice', n: ins.arg ?? 2 }); break
      case 'BINARY_OP': {
        const r = ins.argrepr
        if (r === '[]') push({ at, op: 'subscr' })
        else if (r.endsWith('=')) push({ at, op: 'binop', operator: r.slice(0, -1), inplace: true })
        else push({ at, op: 'binop', operator: r, inplace: false })
        break
      }
      case 'UNARY_NEGATIVE': push({ at, op: 'unary', operator: '-' }); break
      case 'UNARY_INVERT': push({ at, op: 'unary', operator: '~' }); break
      case 'UNARY_NOT': push({ at, op: 'unary', operator: 'not' }); break
      case 'COMPARE_OP': push({ at, op: 'compare', operator: ins.argval?.kind === 'compare' ? ins.argval.value : '?' }); break
      case 'IS_OP': push({ at, op: 'compare', operator: ins.arg ? 'is not' : 'is' }); break
      case 'CONTAINS_OP': push({ at, op: 'compare', operator: ins.arg ? 'not in' : 'in' }); break
      case 'CALL': case 'CALL_FUNCTION': case 'CALL_METHOD':
        push({ at, op: 'call', argc: ins.arg ?? 0, kwnames, kwOnStack: false, slots: opname === 'CALL_FUNCTION' ? 1 : 2 })
        kwnames = []
        break
      case 'CALL_KW': case 'CALL_FUNCTION_KW':
        push({ at, op: 'call', argc: ins.arg ?? 0, kwnames: [], kwOnStack: true, slots: opname === 'CALL_KW' ? 2 : 1 })
        break
      case 'CALL_FUNCTION_EX': push({ at, op: 'call_ex', kwargs: minor >= 14 ? true : ((ins.arg ?? 0) & 1) !== 0, slots: minor >= 11 ? 2 : 1 }); break
      case 'YIELD_VALUE': push({ at, op: 'yield' }); break
      case 'GET_AWAITABLE': case 'GET_YIELD_FROM_ITER':
        if (minor >= 12 && minor <= 14) {
          // GET_AWAITABLE/GET_YIELD_FROM_ITER, None, SEND, YIELD_VALUE, RESUME, JUMP_BACKWARD_NO_INTERRUPT, END_SEND
          push({ at, op: opname === 'GET_AWAITABLE' ? 'await' : 'yield_from' })
          inSend = true
        } else push({ at, op: 'unsupported', opname })
        break
      case 'RETURN_GENERATOR':
        // RETURN_GENERATOR + POP_TOP start every generator (3.11+): no source.
        skipPop = true
        break
      case 'BUILD_TUPLE': push({ at, op: 'build', type: 'tuple', n: ins.arg ?? 0 }); break
      case 'BUILD_LIST': push({ at, op: 'build', type: 'list', n: ins.arg ?? 0 }); break
      case 'BUILD_SET': push({ at, op: 'build', type: 'set', n: ins.arg ?? 0 }); break
      case 'BUILD_MAP': push({ at, op: 'build', type: 'map', n: ins.arg ?? 0 }); break
      case 'BUILD_STRING': push({ at, op: 'build', type: 'string', n: ins.arg ?? 0 }); break
      case 'BUILD_CONST_KEY_MAP': push({ at, op: 'const_key_map', n: ins.arg ?? 0 }); break
      case 'LIST_EXTEND': push({ at, op: 'list_extend', n: ins.arg ?? 1 }); break
      case 'SET_UPDATE': push({ at, op: 'set_update', n: ins.arg ?? 1 }); break
      case 'DICT_UPDATE': push({ at, op: 'dict_update', n: ins.arg ?? 1 }); break
      case 'DICT_MERGE': push({ at, op: 'dict_merge', n: ins.arg ?? 1 }); break
      case 'LIST_APPEND': push({ at, op: 'list_append', n: ins.arg ?? 1 }); break
      case 'SET_ADD': push({ at, op: 'set_add', n: ins.arg ?? 1 }); break
      case 'MAP_ADD': push({ at, op: 'map_add', n: ins.arg ?? 1 }); break
      case 'LIST_TO_TUPLE': push({ at, op: 'list_to_tuple' }); break
      case 'JUMP_FORWARD': case 'JUMP_BACKWARD': case 'JUMP_ABSOLUTE': case 'JUMP': case 'JUMP_BACKWARD_NO_INTERRUPT': case 'JUMP_NO_INTERRUPT':
        push({ at, op: 'jump', target })
        break
      case 'POP_JUMP_IF_FALSE': case 'POP_JUMP_FORWARD_IF_FALSE': case 'POP_JUMP_BACKWARD_IF_FALSE':
        push({ at, op: 'cjump', when: 'false', target })
        break
      case 'POP_JUMP_IF_TRUE': case 'POP_JUMP_FORWARD_IF_TRUE': case 'POP_JUMP_BACKWARD_IF_TRUE':
        push({ at, op: 'cjump', when: 'true', target })
        break
      case 'POP_JUMP_IF_NONE': case 'POP_JUMP_FORWARD_IF_NONE': case 'POP_JUMP_BACKWARD_IF_NONE':
        push({ at, op: 'cjump', when: 'none', target })
        break
      case 'POP_JUMP_IF_NOT_NONE': case 'POP_JUMP_FORWARD_IF_NOT_NONE': case 'POP_JUMP_BACKWARD_IF_NOT_NONE':
        push({ at, op: 'cjump', when: 'notnone', target })
        break
      case 'JUMP_IF_TRUE_OR_POP': push({ at, op: 'cjump_or_pop', when: 'true', target }); break
      case 'JUMP_IF_FALSE_OR_POP': push({ at, op: 'cjump_or_pop', when: 'false', target }); break
      case 'GET_ITER':
        push({ at, op: 'get_iter' })
        // 3.15: a for loop keeps two values on the stack (the iterator and an index or NULL)
        if (minor >= 15) push({ at, op: 'null' })
        break
      case 'FOR_ITER': push({ at, op: 'for_iter', target }); break
      case 'END_FOR':
        push({ at, op: 'end_for' })
        // 3.12's END_FOR pops the iterator too; 3.13 has POP_TOP after it, 3.14 POP_ITER.
        if (minor === 12) push({ at, op: 'pop' })
        break
      case 'POP_ITER':
        push({ at, op: 'pop' })
        if (minor >= 15) push({ at, op: 'pop' })
        break
      case 'RETURN_VALUE': push({ at, op: 'return' }); break
      case 'POP_TOP':
        if (skipPop) skipPop = false
        else push({ at, op: 'pop' })
        break
      case 'COPY': push({ at, op: 'copy', n: ins.arg ?? 1 }); break
      case 'DUP_TOP': push({ at, op: 'copy', n: 1 }); break
      case 'SWAP': push({ at, op: 'swap', n: ins.arg ?? 2 }); break
      case 'ROT_TWO': push({ at, op: 'swap', n: 2 }); break
      // ≤ 3.10 stack shuffles in the 3.11+ spelling
      case 'ROT_THREE':
        push({ at, op: 'swap', n: 3 })
        push({ at, op: 'swap', n: 2 })
        break
      case 'ROT_FOUR':
        push({ at, op: 'swap', n: 4 })
        push({ at, op: 'swap', n: 3 })
        push({ at, op: 'swap', n: 2 })
        break
      case 'DUP_TOP_TWO':
        push({ at, op: 'copy', n: 2 })
        push({ at, op: 'copy', n: 2 })
        break
      case 'UNPACK_SEQUENCE': push({ at, op: 'unpack', before: ins.arg ?? 0, after: 0, star: false }); break
      case 'UNPACK_EX': push({ at, op: 'unpack', before: (ins.arg ?? 0) & 0xff, after: (ins.arg ?? 0) >> 8, star: true }); break
      case 'IMPORT_NAME': push({ at, op: 'import_name', name }); break
      case 'IMPORT_FROM': push({ at, op: 'import_from', name }); break
      case 'IMPORT_STAR': push({ at, op: 'import_star' }); break
      case 'MAKE_FUNCTION': push({ at, op: 'make_function', flags: minor >= 13 ? 0 : (ins.arg ?? 0) }); break
      case 'SET_FUNCTION_ATTRIBUTE': push({ at, op: 'set_function_attribute', flag: ins.arg ?? 0 }); break
      case 'LOAD_COMMON_CONSTANT':
        if (ins.argrepr === 'NotImplementedError') push({ at, op: 'load', scope: 'global', name: 'NotImplementedError' })
        else if (ins.argrepr === 'AssertionError') push({ at, op: 'load', scope: 'global', name: ASSERTION_ERROR })
        else if (ins.argrepr in COMMON_CONSTANTS) push({ at, op: 'const', value: COMMON_CONSTANTS[ins.argrepr]! })
        else push({ at, op: 'unsupported', opname: `${opname} ${ins.argrepr}` })
        break
      case 'LOAD_ASSERTION_ERROR': push({ at, op: 'load', scope: 'global', name: ASSERTION_ERROR }); break
      case 'LOAD_BUILD_CLASS': push({ at, op: 'load_build_class' }); break
      case 'RAISE_VARARGS': push({ at, op: 'raise', n: ins.arg ?? 0 }); break
      case 'FORMAT_VALUE': push({ at, op: 'format', conversion: (ins.arg ?? 0) & 3, spec: ((ins.arg ?? 0) & 4) !== 0 }); break
      case 'FORMAT_SIMPLE': push({ at, op: 'format_simple' }); break
      case 'FORMAT_WITH_SPEC': push({ at, op: 'format_with_spec' }); break
      case 'CONVERT_VALUE': push({ at, op: 'convert', conversion: ins.arg ?? 0 }); break
      case 'LOAD_LOCALS': push({ at, op: 'load_locals' }); break
      case 'PUSH_EXC_INFO': push({ at, op: 'push_exc_info' }); break
      case 'BEFORE_WITH': push({ at, op: 'before_with' }); break
      case 'LOAD_SPECIAL': push({ at, op: 'load_special', name: ins.argrepr }); break
      case 'CHECK_EXC_MATCH': push({ at, op: 'check_exc_match' }); break
      case 'POP_EXCEPT': push({ at, op: 'pop_except' }); break
      case 'RERAISE': push({ at, op: 'reraise' }); break
      case 'SETUP_ANNOTATIONS': push({ at, op: 'setup_annotations' }); break
      case 'CALL_INTRINSIC_1':
        if (ins.argrepr === 'INTRINSIC_LIST_TO_TUPLE') push({ at, op: 'list_to_tuple' })
        else if (ins.argrepr === 'INTRINSIC_IMPORT_STAR') {
          // 3.12+: `from m import *` calls an intrinsic whose None result is popped.
          push({ at, op: 'import_star' })
          skipPop = true
        } else if (ins.argrepr === 'INTRINSIC_UNARY_POSITIVE') push({ at, op: 'unary', operator: '+' })
        else if (ins.argrepr === 'INTRINSIC_ASYNC_GEN_WRAP') {
          // 3.12+: an async generator wraps the value it yields; `yield v` all the same
        } else push({ at, op: 'intrinsic', which: ins.argrepr })
        break
      case 'UNARY_POSITIVE': push({ at, op: 'unary', operator: '+' }); break
      default:
        if (opname in OLD_BINOPS) push({ at, op: 'binop', operator: OLD_BINOPS[opname]!, inplace: false })
        else if (opname.startsWith('INPLACE_') && `BINARY_${opname.slice(8)}` in OLD_BINOPS) push({ at, op: 'binop', operator: OLD_BINOPS[`BINARY_${opname.slice(8)}`]!, inplace: true })
        else push({ at, op: 'unsupported', opname })
    }
  }
  // The first op at or after `offset`.
  const indexOf = (offset: number): number => firstAtOrAfter(offsets, offset)
  return { ops, indexOf, instructions: dis.instructions }
}
