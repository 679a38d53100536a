/**
 * One-line explanations of every instruction of every supported CPython, for `--explain`.
 * Written for a Python developer learning bytecode; our own words throughout.
 *
 * ## Conventions of the texts
 *
 * - `arg` is the instruction's argument (oparg) after EXTENDED_ARG prefixes are applied.
 * - "top" is the top of the value stack. "pop a, b" lists values top first; "push a, b" pushes
 *   in that order, so b ends on top.
 * - Jump distances: bytes in 3.8–3.9; 2-byte code units from 3.10, counted from the next
 *   instruction (from 3.12, from the end of the jump's inline caches). Absolute targets are a
 *   byte offset (3.8–3.9) or an instruction index (3.10); from 3.11 every jump is relative.
 * - A text never repeats its instruction's name: callers print `NAME: text`.
 *
 * ## Layout of the data
 *
 * {@link BASE} holds the text that is true for the newest version that has an instruction.
 * {@link OVERRIDES} lists, per range of minor versions, the texts that differ there — older
 * argument encodings, older stack layouts. Specialized instructions (3.11+) get a text built from
 * their base instruction's name and a short note on what the specialization assumes
 * ({@link SPECIALIZED_NOTES}). Which names exist in a version is the opcode table's business
 * (`opcodeTable(minor)`), so an explanation is only given for names of that version.
 */
import { opcodeTable, SUPPORTED_MINORS } from './opcodes/index.js'

type Texts = Readonly<Record<string, string>>

/** `sys.monitoring` form of `base` (3.12+): what it reports; otherwise it behaves as `base`. */
const monitored = (base: string, reports: string): string =>
  `sys.monitoring form of ${base}: ${reports}, otherwise the same.`

/** A 3.8–3.10 binary operator instruction. */
const binary = (op: string): string => `pop right (top) and left; push left ${op} right.`

/** A 3.8–3.10 in-place operator instruction (`x op= y`). */
const inplace = (op: string): string =>
  `pop right (top) and left; push left ${op}= right, updating left in place if its type can.`

/** Texts true for the newest version that has the instruction (older versions: see OVERRIDES). */
const BASE: Texts = {
  // --- moving values on the stack
  POP_TOP: 'pop the top value and discard it.',
  ROT_TWO: 'swap the two top values.',
  ROT_THREE: 'move the top value down to third place; the two below it move up one.',
  ROT_FOUR: 'move the top value down to fourth place; the three below it move up one.',
  ROT_N: 'move the top value down to position arg (1 = top); the values it passes move up one.',
  DUP_TOP: 'push the top value again (a second reference, not a copy of the object).',
  DUP_TOP_TWO: 'push the two top values again, in the same order.',
  COPY: 'push the value at position arg from the top again (1 = the top itself); no object is copied.',
  SWAP: 'swap the top value with the one at position arg from the top (2 = just below it).',
  PUSH_NULL: 'push NULL into the self slot after the callable, for a call without self.',
  NOP: 'do nothing; often left so that a line number keeps an instruction of its own.',
  NOT_TAKEN: 'do nothing: marks the fall-through side of a conditional jump, for branch monitoring.',
  EXTENDED_ARG: "supply 8 more high bits (its arg) for the next instruction's argument.",
  CACHE: 'inline cache entry of the instruction before it (data for specialization); never run.',
  RESERVED: 'a reserved opcode number; the compiler never emits it.',
  RESUME: 'start or resume point; checks interrupts. arg&7: 0 start, 1 yield, 2 yield from, 3 await, 4 genexpr; +8: no try.',
  ENTER_EXECUTOR: 'run optimized executor number arg (trace/JIT code) installed in place of a hot loop jump.',
  MAKE_CELL: 'wrap local slot arg in a new cell holding its current value (if any); runs at function start.',
  COPY_FREE_VARS: "copy the arg cells of the function's closure into its free-variable slots; at function start.",
  INTERPRETER_EXIT: 'pop a value and leave the interpreter loop with it (internal, ends a call made from C).',

  // --- constants and names
  LOAD_CONST: 'push the constant co_consts[arg].',
  LOAD_SMALL_INT: 'push the int arg itself (0–255), with no constant-table lookup.',
  LOAD_COMMON_CONSTANT: "push constant arg: 0–6 AssertionError, NotImplementedError, tuple, all, any, list, set; 7–11 None, '', True, False, -1.",
  LOAD_ASSERTION_ERROR: 'push the AssertionError class, for a failing assert statement.',
  LOAD_BUILD_CLASS: 'push builtins.__build_class__, which a class statement calls to create the class.',
  LOAD_LOCALS: "push the current locals mapping (a class body's namespace), e.g. for annotation scopes.",
  LOAD_NAME: 'push the value of name co_names[arg], searched in locals, then globals, then builtins.',
  STORE_NAME: 'pop a value and bind name co_names[arg] to it in the local namespace (module or class body).',
  DELETE_NAME: 'unbind name co_names[arg] in the local namespace (del x in a module or class body).',
  LOAD_GLOBAL: 'push global co_names[arg>>1] (globals, then builtins); if arg&1, also push NULL after it.',
  STORE_GLOBAL: 'pop a value and bind global name co_names[arg] to it.',
  DELETE_GLOBAL: 'unbind global name co_names[arg].',
  LOAD_FROM_DICT_OR_GLOBALS: 'pop a mapping; push co_names[arg] looked up in it, else in globals, else in builtins.',
  SETUP_ANNOTATIONS: 'create __annotations__ in the local namespace if it is missing (module or class body).',
  ANNOTATIONS_PLACEHOLDER: "compiler-only: spot after a module's RESUME where __annotate__ setup may go; else dropped.",

  // --- local variables (fast locals)
  LOAD_FAST: 'push a new reference to local variable number arg (the compiler knows it is set).',
  LOAD_FAST_CHECK: 'push local variable number arg; raise UnboundLocalError if it is not set.',
  LOAD_FAST_AND_CLEAR: 'push local number arg (NULL if unset) and unset it; saves a name an inlined comprehension reuses.',
  LOAD_FAST_BORROW: 'push local number arg without taking a reference; the compiler proved the local outlives it.',
  LOAD_FAST_LOAD_FAST: 'push local number arg>>4, then local number arg&15 (two loads in one instruction).',
  LOAD_FAST_BORROW_LOAD_FAST_BORROW: 'push locals number arg>>4 and arg&15 as borrowed references (two loads in one).',
  STORE_FAST: 'pop a value into local variable number arg.',
  STORE_FAST_LOAD_FAST: 'pop a value into local number arg>>4, then push local number arg&15.',
  STORE_FAST_STORE_FAST: 'pop the top value into local number arg>>4, then the next one into local number arg&15.',
  STORE_FAST_MAYBE_NULL: 'compiler-only: a local store whose value may be NULL (after an inlined comprehension).',
  DELETE_FAST: 'unbind local variable number arg (del x).',

  // --- cells: closures and free variables
  LOAD_CLOSURE: 'compiler-only: push the cell in local slot arg to build a closure; emitted as a LOAD_FAST.',
  LOAD_DEREF: 'push the value held by the cell in local slot arg (a cell or free variable).',
  STORE_DEREF: 'pop a value into the cell in local slot arg (a cell or free variable).',
  DELETE_DEREF: 'empty the cell in local slot arg (del of a cell or free variable).',
  LOAD_CLASSDEREF: "class body: push free variable arg from the class namespace if bound there, else from its cell.",
  LOAD_FROM_DICT_OR_DEREF: "pop a mapping; push its value for the name of cell slot arg if it has one, else the cell's contents.",

  // --- attributes, super(), special methods
  LOAD_ATTR: 'pop obj, push obj.name (name co_names[arg>>1]); if arg&1, push method and obj, or attribute and NULL.',
  LOAD_METHOD: 'compiler-only: an attribute load for a method call; emitted as LOAD_ATTR with arg bit 0 set.',
  STORE_ATTR: 'pop obj (top) and value; set obj.name = value, name co_names[arg].',
  DELETE_ATTR: 'pop obj; delete its attribute co_names[arg].',
  LOAD_SUPER_ATTR: 'pop self, class, super; push super(class, self).name (co_names[arg>>2]); bit 0 method, bit 1 2-arg.',
  LOAD_SUPER_METHOD: 'compiler-only: method load from super(C, self); becomes LOAD_SUPER_ATTR with arg bits 0 and 1 set.',
  LOAD_ZERO_SUPER_ATTR: 'compiler-only: attribute load from super(); becomes LOAD_SUPER_ATTR with both low bits clear.',
  LOAD_ZERO_SUPER_METHOD: 'compiler-only: method load from super(); becomes LOAD_SUPER_ATTR with arg bit 0 set.',
  LOAD_SPECIAL: 'pop obj; push its special method arg picks (0 __enter__ 1 __exit__ 2 __aenter__ 3 __aexit__) and self.',

  // --- imports
  IMPORT_NAME: 'pop fromlist and level; import module co_names[arg>>2] (via __import__) and push it. arg&1 lazy, arg&2 eager.',
  IMPORT_FROM: 'push attribute co_names[arg] of the module on top, which stays (from m import name).',
  IMPORT_STAR: 'pop a module and copy its public names into the local namespace (from m import *).',

  // --- operators
  UNARY_POSITIVE: 'replace the top value x with +x.',
  UNARY_NEGATIVE: 'replace the top value x with -x.',
  UNARY_NOT: 'replace the bool on top with its negation (TO_BOOL has made it a bool).',
  UNARY_INVERT: 'replace the top value x with ~x.',
  TO_BOOL: 'replace the top value with bool(value), ready for a conditional jump or `not`.',
  BINARY_OP: 'pop right (top) and left; push left OP right, OP picked by arg (13–25: OP=, 26: left[right]).',
  BINARY_SUBSCR: 'pop key (top) and container; push container[key].',
  BINARY_SLICE: 'pop stop, start and container; push container[start:stop].',
  STORE_SUBSCR: 'pop key, container and value (key on top); do container[key] = value.',
  STORE_SLICE: 'pop stop, start, container and value; do container[start:stop] = value.',
  DELETE_SUBSCR: 'pop key (top) and container; do del container[key].',
  COMPARE_OP: 'pop right and left; push left OP right, OP = cmp_op[arg>>5]; arg&16 turns the result into a bool.',
  IS_OP: 'pop right and left; push left is right (arg 1: is not).',
  CONTAINS_OP: 'pop container (top) and item; push item in container (arg 1: not in).',
  CALL_INTRINSIC_1: 'pop a value; push the result of the one-argument internal helper arg names (dis shows it).',
  CALL_INTRINSIC_2: 'pop two values; push the result of the two-argument internal helper arg names (dis shows it).',
  BINARY_POWER: binary('**'),
  BINARY_MULTIPLY: binary('*'),
  BINARY_MATRIX_MULTIPLY: binary('@'),
  BINARY_FLOOR_DIVIDE: binary('//'),
  BINARY_TRUE_DIVIDE: binary('/'),
  BINARY_MODULO: binary('%'),
  BINARY_ADD: binary('+'),
  BINARY_SUBTRACT: binary('-'),
  BINARY_LSHIFT: binary('<<'),
  BINARY_RSHIFT: binary('>>'),
  BINARY_AND: binary('&'),
  BINARY_XOR: binary('^'),
  BINARY_OR: binary('|'),
  INPLACE_POWER: inplace('**'),
  INPLACE_MULTIPLY: inplace('*'),
  INPLACE_MATRIX_MULTIPLY: inplace('@'),
  INPLACE_FLOOR_DIVIDE: inplace('//'),
  INPLACE_TRUE_DIVIDE: inplace('/'),
  INPLACE_MODULO: inplace('%'),
  INPLACE_ADD: inplace('+'),
  INPLACE_SUBTRACT: inplace('-'),
  INPLACE_LSHIFT: inplace('<<'),
  INPLACE_RSHIFT: inplace('>>'),
  INPLACE_AND: inplace('&'),
  INPLACE_XOR: inplace('^'),
  INPLACE_OR: inplace('|'),

  // --- building containers and strings
  BUILD_TUPLE: 'pop arg values; push a tuple of them (the deepest one first).',
  BUILD_LIST: 'pop arg values; push a list of them (the deepest one first).',
  BUILD_SET: 'pop arg values; push a set of them.',
  BUILD_MAP: 'pop arg key/value pairs (2*arg values, each value above its key); push a dict of them.',
  BUILD_CONST_KEY_MAP: 'pop a tuple of keys (top) and arg values; push a dict pairing them up.',
  BUILD_STRING: 'pop arg strings; push them joined into one (the pieces of an f-string).',
  BUILD_SLICE: 'pop arg values (start, stop, and step if arg is 3); push a slice object.',
  BUILD_TUPLE_UNPACK: 'pop arg iterables; push one tuple of all their items, for (*a, *b).',
  BUILD_TUPLE_UNPACK_WITH_CALL: 'pop arg iterables; push one tuple of all their items, as the arguments of f(*a, *b).',
  BUILD_LIST_UNPACK: 'pop arg iterables; push one list of all their items, for [*a, *b].',
  BUILD_SET_UNPACK: 'pop arg iterables; push one set of all their items, for {*a, *b}.',
  BUILD_MAP_UNPACK: 'pop arg mappings; push one dict merging them in order, for {**a, **b}.',
  BUILD_MAP_UNPACK_WITH_CALL: 'pop arg mappings; push one dict merging them for f(**a, **b); a repeated key raises.',
  LIST_TO_TUPLE: 'pop a list; push a tuple with the same items.',
  LIST_APPEND: 'pop a value; append it to the list at position arg from the top (comprehensions).',
  SET_ADD: 'pop a value; add it to the set at position arg from the top (set comprehensions).',
  MAP_ADD: 'pop value (top) and key; store them in the dict at position arg from the top (dict comprehensions).',
  LIST_EXTEND: 'pop an iterable; extend the list at position arg from the top with its items ([*a, *b]).',
  SET_UPDATE: 'pop an iterable; add its items to the set at position arg from the top ({*a, *b}).',
  DICT_UPDATE: 'pop a mapping; update the dict at position arg from the top with it ({**a, **b}).',
  DICT_MERGE: 'pop a mapping; merge it into the dict at position arg from the top; repeated keys raise (f(**a)).',
  UNPACK_SEQUENCE: 'pop an iterable; push its arg items, the first on top (for a, b = ...).',
  UNPACK_EX: 'pop an iterable; push its items for a, *b, c = ... (arg&255 before the star, arg>>8 after).',
  FORMAT_VALUE: 'pop a spec if arg&4, then the value; push it formatted, converted first by arg&3 (1 str 2 repr 3 ascii).',
  CONVERT_VALUE: 'replace the top value with str(), repr() or ascii() of it (arg 1, 2, 3): an f-string !conversion.',
  FORMAT_SIMPLE: 'replace the top value with format(value) (a str stays as it is): an f-string field with no spec.',
  FORMAT_WITH_SPEC: 'pop spec (top) and value; push format(value, spec).',
  BUILD_INTERPOLATION: 'pop a spec (if arg&1), the source text and the value; push a t-string Interpolation (conv. arg>>2).',
  BUILD_TEMPLATE: 'pop a tuple of interpolations (top) and a tuple of strings; push a t-string Template.',

  // --- functions and calls
  MAKE_FUNCTION: 'pop a code object; push a new function made from it (SET_FUNCTION_ATTRIBUTE adds the rest).',
  SET_FUNCTION_ATTRIBUTE: 'pop function and value; set what arg names (1 defaults 2 kwdefaults 4 annotations 8 closure 16 annotate).',
  CALL: 'pop arg arguments, the self-or-NULL slot and the callable; push the result of the call.',
  CALL_KW: 'pop a tuple of keyword names, arg arguments (the last ones by keyword), self-or-NULL, callable; push result.',
  CALL_FUNCTION_EX: 'pop kwargs (dict or NULL), an args tuple, a NULL slot, the callable; push callable(*args, **kwargs).',
  CALL_FUNCTION: 'pop arg positional arguments and the callable under them; push the result of the call.',
  CALL_FUNCTION_KW: 'pop a tuple of keyword names, arg arguments (the last ones by keyword), the callable; push result.',
  CALL_METHOD: 'pop arg arguments and the method+self (or NULL+callable) pair under them; push the result.',
  PRECALL: 'start a call of arg arguments: split a bound method into function and self; CALL comes next.',
  KW_NAMES: 'note co_consts[arg], the tuple of keyword names, for the next CALL; the stack is unchanged.',
  RETURN_VALUE: 'return the top value to the caller, ending this frame.',
  RETURN_CONST: 'return the constant co_consts[arg] to the caller, ending this frame.',
  EXIT_INIT_CHECK: "pop __init__'s return value; raise TypeError unless it is None (after a class call).",

  // --- generators and coroutines
  RETURN_GENERATOR: 'make a generator (or coroutine) from this frame and return it; runs first in such code.',
  GEN_START: 'start of a generator body: pop the first value sent (None). arg: 0 generator, 1 coroutine, 2 async.',
  YIELD_VALUE: 'pop a value and yield it; on resume push the value sent in. arg 1: part of a yield from or await.',
  YIELD_FROM: 'pop a value and send it to the iterator below; yield what it yields, else push its return value.',
  SEND: 'pop a value, send it into the two-slot iterator below; push what that yields, or its return value and jump arg ahead.',
  END_SEND: 'pop the finished two-slot iterator of a yield from/await from under the top value, keeping the top.',
  CLEANUP_THROW: 'handler in yield from/await: on StopIteration keep its value as the result (dropping the iterator), else re-raise.',
  ASYNC_GEN_WRAP: 'wrap the top value so an async generator yields it to its consumer rather than an await.',
  GET_AWAITABLE: 'replace the top value with an iterator for await (arg 1/2: result of __aenter__/__aexit__).',
  GET_AITER: 'replace the top value with its async iterator, obj.__aiter__().',
  GET_ANEXT: 'push an awaitable for the next item of the async iterator on top (its __anext__()), keeping it.',
  END_ASYNC_FOR: 'pop exception and async iterator; end the loop on StopAsyncIteration, else re-raise. arg: back to END_SEND.',
  BEFORE_ASYNC_WITH: 'pop a context manager; push its bound __aexit__ and the awaitable __aenter__() returns.',

  // --- iteration
  GET_ITER: 'replace the top value with a two-slot iterator (iterable + index, or iterator + NULL); arg>0: yield from form.',
  GET_YIELD_FROM_ITER: 'for yield from: keep a generator or coroutine on top as is, else replace it with iter(value).',
  FOR_ITER: 'push the next value of the two-slot iterator on top; when exhausted skip the END_FOR arg code units ahead.',
  END_FOR: 'pop one value at loop exit (FOR_ITER normally jumps past this; a finished generator loop lands here).',
  POP_ITER: 'pop the two iterator slots of a for loop once the loop is over.',
  TRACE_RECORD: 'record the instruction for the JIT tracer (switch-based interpreters); never in compiled code.',

  // --- jumps
  JUMP_FORWARD: 'jump forward by arg code units.',
  JUMP_ABSOLUTE: 'jump to instruction number arg (byte offset 2*arg).',
  JUMP_BACKWARD: 'jump back by arg code units (a loop), checking for interrupts first.',
  JUMP_BACKWARD_NO_INTERRUPT: 'jump back by arg code units without checking for interrupts (yield from/await loops).',
  JUMP: 'compiler-only: unconditional jump; becomes JUMP_FORWARD or JUMP_BACKWARD.',
  JUMP_NO_INTERRUPT: 'compiler-only: jump without interrupt check; becomes JUMP_FORWARD or JUMP_BACKWARD_NO_INTERRUPT.',
  JUMP_IF_FALSE: 'compiler-only: jump if the top value is false, keeping it (`and`); becomes COPY, TO_BOOL, POP_JUMP_IF_FALSE.',
  JUMP_IF_TRUE: 'compiler-only: jump if the top value is true, keeping it (`or`); becomes COPY, TO_BOOL, POP_JUMP_IF_TRUE.',
  POP_JUMP_IF_FALSE: 'pop a bool (TO_BOOL made it one); if it is False, jump forward by arg code units.',
  POP_JUMP_IF_TRUE: 'pop a bool (TO_BOOL made it one); if it is True, jump forward by arg code units.',
  POP_JUMP_IF_NONE: 'pop a value; if it is None, jump forward by arg code units.',
  POP_JUMP_IF_NOT_NONE: 'pop a value; if it is not None, jump forward by arg code units.',
  POP_JUMP_FORWARD_IF_FALSE: 'pop a value; if it is false, jump forward by arg code units.',
  POP_JUMP_FORWARD_IF_TRUE: 'pop a value; if it is true, jump forward by arg code units.',
  POP_JUMP_FORWARD_IF_NONE: 'pop a value; if it is None, jump forward by arg code units.',
  POP_JUMP_FORWARD_IF_NOT_NONE: 'pop a value; if it is not None, jump forward by arg code units.',
  POP_JUMP_BACKWARD_IF_FALSE: 'pop a value; if it is false, jump back by arg code units.',
  POP_JUMP_BACKWARD_IF_TRUE: 'pop a value; if it is true, jump back by arg code units.',
  POP_JUMP_BACKWARD_IF_NONE: 'pop a value; if it is None, jump back by arg code units.',
  POP_JUMP_BACKWARD_IF_NOT_NONE: 'pop a value; if it is not None, jump back by arg code units.',
  JUMP_IF_FALSE_OR_POP: 'if the top value is false, jump forward by arg code units keeping it; else pop it (`and`).',
  JUMP_IF_TRUE_OR_POP: 'if the top value is true, jump forward by arg code units keeping it; else pop it (`or`).',

  // --- exceptions, try and with (3.11+: exception table; the SETUP_* are compiler-only)
  SETUP_FINALLY: 'compiler-only: start a try region whose handler is the target; becomes exception-table entries.',
  SETUP_CLEANUP: 'compiler-only: start a region whose handler also gets the raising offset (lasti) pushed.',
  SETUP_WITH: 'compiler-only: start a with-block body guarded by the exit handler at the target.',
  POP_BLOCK: 'compiler-only: end of the region the last SETUP_* started; emits no instruction.',
  PUSH_EXC_INFO: 'pop an exception; push the exception being handled so far, then it, making it the current one.',
  POP_EXCEPT: 'pop the saved exception and make it the handled exception again, leaving an except block.',
  CHECK_EXC_MATCH: 'pop a class (top); push whether the exception below is an instance of it, keeping the exception.',
  CHECK_EG_MATCH: 'except*: pop class and exception group; push the rest, then the matching subgroup (or None).',
  PREP_RERAISE_STAR: 'except*: pop the list of raised exceptions and the original group; push what to re-raise, or None.',
  RERAISE: 'pop the exception and raise it again; if arg is nonzero, first restore f_lasti from the value arg below.',
  RAISE_VARARGS: 'raise: arg 0 re-raises the active exception, 1 raises the top value, 2 the one below, from the top.',
  WITH_EXCEPT_START: "call the with-statement's __exit__ (kept deeper on the stack) with the exception on top; push result.",
  BEFORE_WITH: 'pop a context manager; push its bound __exit__ and the result of calling its __enter__().',
  PRINT_EXPR: 'pop a value and show it with sys.displayhook (expression statements in interactive mode).',

  // --- pattern matching (match statement)
  GET_LEN: 'push len(value) of the top value, keeping it.',
  MATCH_MAPPING: 'push whether the top value is a mapping (for a mapping pattern), keeping it.',
  MATCH_SEQUENCE: 'push whether the top value is a sequence other than str/bytes (sequence pattern), keeping it.',
  MATCH_KEYS: "push a tuple of the subject's values for the keys tuple on top (subject below it), or None if one is absent.",
  MATCH_CLASS: 'pop names tuple, class, subject; push the attributes of a class pattern (arg positional) or None.',
  COPY_DICT_WITHOUT_KEYS: 'replace the key tuple on top with a dict copy of the subject below minus those keys (**rest).',

  // --- 3.8's try/finally and with machinery
  BEGIN_FINALLY: 'push NULL (no exception, no return pending): the state the finally block that follows starts with.',
  CALL_FINALLY: 'push the offset of the next instruction, then jump arg bytes ahead into a finally block.',
  POP_FINALLY: 'leave a finally block early (break, continue, return): pop its state; arg nonzero keeps the top.',
  END_FINALLY: 'end a finally block: pop its state; NULL goes on, an offset is jumped to, an exception re-raised.',
  WITH_CLEANUP_START: 'with-block exit: call __exit__ with the exception on the stack (or 3 Nones); push its result.',
  WITH_CLEANUP_FINISH: "pop __exit__'s result and the exception state; a true result swallows the exception.",
  SETUP_ASYNC_WITH: 'start an async with block whose exit handler is arg code units ahead; the __aenter__ result stays.',
  JUMP_IF_NOT_EXC_MATCH: 'pop a class and the exception below it; jump to instruction arg unless they match.',

  // --- sys.monitoring (3.12+): these replace an instruction only while events are being monitored
  INSTRUMENTED_LINE: 'sys.monitoring: report a LINE event, then run the instruction this one temporarily replaced.',
  INSTRUMENTED_INSTRUCTION: 'sys.monitoring: report an INSTRUCTION event, then run the instruction it replaced.',
  INSTRUMENTED_RESUME: monitored('RESUME', 'reports PY_START or PY_RESUME'),
  INSTRUMENTED_CALL: monitored('CALL', 'reports a CALL event'),
  INSTRUMENTED_CALL_KW: monitored('CALL_KW', 'reports a CALL event'),
  INSTRUMENTED_CALL_FUNCTION_EX: monitored('CALL_FUNCTION_EX', 'reports a CALL event'),
  INSTRUMENTED_RETURN_VALUE: monitored('RETURN_VALUE', 'reports PY_RETURN'),
  INSTRUMENTED_RETURN_CONST: monitored('RETURN_CONST', 'reports PY_RETURN'),
  INSTRUMENTED_YIELD_VALUE: monitored('YIELD_VALUE', 'reports PY_YIELD'),
  INSTRUMENTED_JUMP_FORWARD: monitored('JUMP_FORWARD', 'reports a JUMP event'),
  INSTRUMENTED_JUMP_BACKWARD: monitored('JUMP_BACKWARD', 'reports a JUMP event'),
  INSTRUMENTED_POP_JUMP_IF_FALSE: monitored('POP_JUMP_IF_FALSE', 'reports BRANCH_RIGHT if it jumps'),
  INSTRUMENTED_POP_JUMP_IF_TRUE: monitored('POP_JUMP_IF_TRUE', 'reports BRANCH_RIGHT if it jumps'),
  INSTRUMENTED_POP_JUMP_IF_NONE: monitored('POP_JUMP_IF_NONE', 'reports BRANCH_RIGHT if it jumps'),
  INSTRUMENTED_POP_JUMP_IF_NOT_NONE: monitored('POP_JUMP_IF_NOT_NONE', 'reports BRANCH_RIGHT if it jumps'),
  INSTRUMENTED_NOT_TAKEN: monitored('NOT_TAKEN', 'reports BRANCH_LEFT'),
  INSTRUMENTED_FOR_ITER: monitored('FOR_ITER', 'reports the branch taken'),
  INSTRUMENTED_END_FOR: monitored('END_FOR', 'reports STOP_ITERATION for a generator'),
  INSTRUMENTED_END_SEND: monitored('END_SEND', 'reports STOP_ITERATION for a generator'),
  INSTRUMENTED_POP_ITER: monitored('POP_ITER', 'reports BRANCH_RIGHT (loop exit)'),
  INSTRUMENTED_END_ASYNC_FOR: monitored('END_ASYNC_FOR', 'reports BRANCH_RIGHT (loop exit)'),
  INSTRUMENTED_LOAD_SUPER_ATTR: monitored('LOAD_SUPER_ATTR', 'reports the call of super()'),
}

/** Texts for a range of minor versions (`from`..`to`, inclusive) where an instruction differs from BASE. */
interface Override {
  readonly from: number
  readonly to: number
  /** What changed, for the reader of this file. */
  readonly why: string
  readonly texts: Texts
}

/** Version-specific texts, oldest first. A name appears in at most one override per version. */
const OVERRIDES: readonly Override[] = [
  {
    from: 8,
    to: 14,
    why: 'one-slot iterators; IMPORT_NAME takes the plain name index (3.15 added lazy/eager bits)',
    texts: {
      IMPORT_NAME: 'pop fromlist and level; import module co_names[arg] (via __import__) and push it.',
      GET_ITER: 'replace the top value with iter(value).',
    },
  },
  {
    from: 12,
    to: 14,
    why: 'yield from/await keep a one-slot iterator under the value',
    texts: {
      SEND: 'pop a value, send it into the iterator below; push what that yields, or its return value and jump arg ahead.',
      END_SEND: 'pop the finished iterator of a yield from/await from under the top value, keeping the top.',
      CLEANUP_THROW: 'handler in yield from/await: on StopIteration keep its value as the result, else re-raise.',
    },
  },
  {
    from: 13,
    to: 14,
    why: 'RESUME has no genexpr-start location; its no-try bit is 4',
    texts: {
      RESUME: 'start or resume point; checks interrupts. arg&3: 0 start, 1 yield, 2 yield from, 3 await; +4: no try around.',
    },
  },
  {
    from: 14,
    to: 14,
    why: 'LOAD_COMMON_CONSTANT has builtins only; one-slot for-loop iterators',
    texts: {
      LOAD_COMMON_CONSTANT: 'push a builtin picked by arg: 0 AssertionError, 1 NotImplementedError, 2 tuple, 3 all, 4 any.',
      FOR_ITER: 'push next(iterator on top); when exhausted skip the END_FOR arg code units ahead, landing on POP_ITER.',
      POP_ITER: 'pop the iterator of a for loop once the loop is over.',
    },
  },
  {
    from: 8,
    to: 8,
    why: 'COMPARE_OP still does in/is/exception matching',
    texts: {
      COMPARE_OP: 'pop right and left; push left OP right, OP = cmp_op[arg] (<, ==, in, is not, exception match, …).',
    },
  },
  {
    from: 8,
    to: 9,
    why: 'jump arguments count bytes; absolute jumps name a byte offset',
    texts: {
      JUMP_FORWARD: 'jump forward by arg bytes.',
      JUMP_ABSOLUTE: 'jump to byte offset arg.',
      POP_JUMP_IF_FALSE: 'pop a value; if it is false, jump to byte offset arg.',
      POP_JUMP_IF_TRUE: 'pop a value; if it is true, jump to byte offset arg.',
      JUMP_IF_FALSE_OR_POP: 'if the top value is false, jump to byte offset arg keeping it; else pop it (`and`).',
      JUMP_IF_TRUE_OR_POP: 'if the top value is true, jump to byte offset arg keeping it; else pop it (`or`).',
      JUMP_IF_NOT_EXC_MATCH: 'pop a class and the exception below it; jump to byte offset arg unless they match.',
      FOR_ITER: 'push next(iterator on top); when exhausted pop the iterator and jump arg bytes ahead.',
      SETUP_FINALLY: 'push a try block whose handler (except or finally) is arg bytes ahead.',
      SETUP_WITH: "pop a context manager; push its __exit__ and __enter__()'s result; exit handler arg bytes ahead.",
      SETUP_ASYNC_WITH: 'start an async with block whose exit handler is arg code units ahead; the __aenter__ result stays.',
    },
  },
  {
    from: 8,
    to: 10,
    why: 'the block stack; exceptions take three slots; cells numbered apart from locals; no NULL-for-call bits',
    texts: {
      POP_BLOCK: 'pop the innermost try/with block from the block stack (leaving its protected body).',
      POP_EXCEPT: 'leave an except block: pop its block and 3 values, restoring the exception handled before.',
      END_ASYNC_FOR: 'async for exit: if the exception is StopAsyncIteration pop it and the iterator, else re-raise.',
      LOAD_DEREF: 'push the value of cell arg (co_cellvars first, then co_freevars continue the numbering).',
      STORE_DEREF: 'pop a value into cell arg (co_cellvars first, then co_freevars continue the numbering).',
      DELETE_DEREF: 'empty cell arg (co_cellvars first, then co_freevars continue the numbering).',
      LOAD_CLOSURE: 'push the cell object arg itself, not its value, to build a closure (cellvars, then freevars).',
      LOAD_METHOD: 'pop obj; push method co_names[arg] unbound and obj, or NULL and the attribute, for CALL_METHOD.',
      LOAD_GLOBAL: 'push global co_names[arg], looked up in globals, then builtins.',
      GET_AWAITABLE: 'replace the top value with an iterator for await (a coroutine, or what __await__ returns).',
      MAKE_FUNCTION: 'pop qualname, code, and what arg flags (1 defaults 2 kwdefaults 4 annotations 8 closure); push a function.',
      CALL_FUNCTION_EX: 'pop kwargs (if arg&1), an args tuple and the callable; push callable(*args, **kwargs).',
    },
  },
  {
    from: 8,
    to: 11,
    why: 'plain attribute loads; LOAD_FAST checks for unbound locals; YIELD_VALUE has no argument',
    texts: {
      LOAD_ATTR: 'replace the top value obj with obj.name, name co_names[arg].',
      LOAD_FAST: 'push local variable number arg (co_varnames); raise UnboundLocalError if it is not set.',
      YIELD_VALUE: 'pop a value and yield it to the caller; on resume push the value sent in (None for next()).',
    },
  },
  {
    from: 8,
    to: 12,
    why: 'UNARY_NOT takes any value (no TO_BOOL yet)',
    texts: {
      UNARY_NOT: 'replace the top value x with not x.',
    },
  },
  {
    from: 9,
    to: 9,
    why: 'RERAISE has no argument',
    texts: {
      RERAISE: 'pop the exception (type, value, traceback) and raise it again (end of a finally or with).',
    },
  },
  {
    from: 9,
    to: 10,
    why: '__exit__ sits under the six exception slots',
    texts: {
      WITH_EXCEPT_START: 'call the __exit__ under the 6 exception slots with the exception (type, value, tb); push result.',
    },
  },
  {
    from: 9,
    to: 11,
    why: 'COMPARE_OP arg indexes cmp_op directly',
    texts: {
      COMPARE_OP: 'pop right and left; push left OP right, OP = cmp_op[arg] (<, <=, ==, !=, >, >=).',
    },
  },
  {
    from: 10,
    to: 10,
    why: 'jump arguments count 2-byte code units; absolute jumps name an instruction index',
    texts: {
      POP_JUMP_IF_FALSE: 'pop a value; if it is false, jump to instruction number arg (byte offset 2*arg).',
      POP_JUMP_IF_TRUE: 'pop a value; if it is true, jump to instruction number arg (byte offset 2*arg).',
      JUMP_IF_FALSE_OR_POP: 'if the top value is false, jump to instruction arg keeping it; else pop it (`and`).',
      JUMP_IF_TRUE_OR_POP: 'if the top value is true, jump to instruction arg keeping it; else pop it (`or`).',
      SETUP_FINALLY: 'push a try block whose handler (except or finally) is arg code units ahead.',
      SETUP_WITH: "pop a context manager; push its __exit__ and __enter__()'s result; exit handler arg units ahead.",
      RERAISE: 'pop the exception (type, value, traceback) and raise it again; arg nonzero also restores f_lasti.',
      MATCH_KEYS: "push a tuple of the subject's values for the keys tuple on top (subject below it) and True, or None and False.",
      MATCH_CLASS: 'pop names tuple, class, subject; push the attributes (arg positional) and True, or the subject and False.',
    },
  },
  {
    from: 10,
    to: 11,
    why: 'FOR_ITER pops the exhausted iterator itself and jumps in code units',
    texts: {
      FOR_ITER: 'push next(iterator on top); when exhausted pop the iterator and jump arg code units ahead.',
    },
  },
  {
    from: 11,
    to: 11,
    why: 'PRECALL/CALL pairs; LOAD_METHOD is a real instruction; SEND pops a finished iterator',
    texts: {
      LOAD_METHOD: 'pop obj; push method co_names[arg] unbound and obj, or NULL and the attribute, for the call.',
      CALL: 'finish the call PRECALL began: pop arg arguments and the callable pair; push the result.',
      SEND: 'send the top value into the iterator below; push what it yields, or replace both with its return, jump arg.',
    },
  },
  {
    from: 11,
    to: 12,
    why: 'NULL goes under the callable; RESUME has no exception-depth bit',
    texts: {
      PUSH_NULL: 'push NULL, the marker a call expects under a callable that is not a method.',
      LOAD_GLOBAL: 'push global co_names[arg>>1] (globals, then builtins); if arg&1, push NULL before it.',
      LOAD_CLOSURE: 'push the cell object in local slot arg itself, not its value, to build a closure.',
      MAKE_FUNCTION: 'pop a code object and what arg flags (1 defaults 2 kwdefaults 4 annotations 8 closure); push a function.',
      RESUME: 'mark a start/resume point; check for interrupts. arg: 0 start, 1 yield, 2 yield from, 3 await.',
    },
  },
  {
    from: 11,
    to: 13,
    why: 'no subscript in BINARY_OP; CALL_FUNCTION_EX flags kwargs; END_ASYNC_FOR has no argument',
    texts: {
      BINARY_OP: 'pop right (top) and left; push left OP right, OP picked by arg (13–25: the OP= forms).',
      CALL_FUNCTION_EX: 'pop kwargs (if arg&1), an args tuple, the callable and its NULL slot; push callable(*args, **kwargs).',
      END_ASYNC_FOR: 'pop exception and async iterator; end the loop on StopAsyncIteration, else re-raise.',
    },
  },
  {
    from: 12,
    to: 12,
    why: 'method-form LOAD_ATTR pushes NULL first; COMPARE_OP shifts by 4; END_FOR pops two',
    texts: {
      LOAD_ATTR: 'pop obj, push obj.name (name co_names[arg>>1]); if arg&1, push method and obj, or NULL and attribute.',
      CALL: 'pop arg arguments, then the callable (or self) and the NULL (or method) under it; push the result.',
      COMPARE_OP: 'pop right and left; push left OP right, OP = cmp_op[arg>>4] (low 4 bits: a mask for specializing).',
      YIELD_VALUE: 'pop a value and yield it; on resume push the value sent in. arg: exception-handler depth.',
      POP_JUMP_IF_FALSE: 'pop a value; if it is false, jump forward by arg code units.',
      POP_JUMP_IF_TRUE: 'pop a value; if it is true, jump forward by arg code units.',
      END_FOR: 'pop two values, last item and iterator (FOR_ITER normally jumps past; a generator loop lands here).',
      FOR_ITER: 'push next(iterator on top); when exhausted pop the iterator and skip the END_FOR arg code units ahead.',
    },
  },
  {
    from: 12,
    to: 13,
    why: 'monitoring reports a single BRANCH event',
    texts: {
      INSTRUMENTED_POP_JUMP_IF_FALSE: monitored('POP_JUMP_IF_FALSE', 'reports a BRANCH event'),
      INSTRUMENTED_POP_JUMP_IF_TRUE: monitored('POP_JUMP_IF_TRUE', 'reports a BRANCH event'),
      INSTRUMENTED_POP_JUMP_IF_NONE: monitored('POP_JUMP_IF_NONE', 'reports a BRANCH event'),
      INSTRUMENTED_POP_JUMP_IF_NOT_NONE: monitored('POP_JUMP_IF_NOT_NONE', 'reports a BRANCH event'),
    },
  },
  {
    from: 13,
    to: 13,
    why: 'FOR_ITER skips END_FOR and POP_TOP; no annotate flag yet',
    texts: {
      FOR_ITER: 'push next(iterator on top); when exhausted pop it and skip the END_FOR, POP_TOP pair arg units ahead.',
      SET_FUNCTION_ATTRIBUTE: 'pop function and value; set what arg names (1 defaults, 2 kwdefaults, 4 annotations, 8 closure).',
    },
  },
]

/** What a specialized instruction (3.11+) assumes, by name; the text names its base instruction. */
const SPECIALIZED_NOTES: Texts = {
  BINARY_OP_ADD_FLOAT: 'float + float',
  BINARY_OP_ADD_INT: 'int + int',
  BINARY_OP_ADD_UNICODE: 'str + str',
  BINARY_OP_INPLACE_ADD_UNICODE: 's += t on a str local, appending in place when it can',
  BINARY_OP_MULTIPLY_FLOAT: 'float * float',
  BINARY_OP_MULTIPLY_INT: 'int * int',
  BINARY_OP_SUBTRACT_FLOAT: 'float - float',
  BINARY_OP_SUBTRACT_INT: 'int - int',
  BINARY_OP_EXTEND: 'operand types with a registered fast C routine (e.g. int and float mixed)',
  BINARY_OP_SUBSCR_DICT: 'dict[key]',
  BINARY_OP_SUBSCR_GETITEM: "obj[key] where the class's __getitem__ is Python code, run in a new frame",
  BINARY_OP_SUBSCR_LIST_INT: 'list[int] with an index in range',
  BINARY_OP_SUBSCR_LIST_SLICE: 'list[slice]',
  BINARY_OP_SUBSCR_STR_INT: 'str[int] giving a one-character string',
  BINARY_OP_SUBSCR_USTR_INT: 'str[int] on a non-ASCII str, giving a one-character string',
  BINARY_OP_SUBSCR_TUPLE_INT: 'tuple[int] with an index in range',
  BINARY_SUBSCR_DICT: 'dict[key]',
  BINARY_SUBSCR_GETITEM: "obj[key] where the class's __getitem__ is Python code, run in a new frame",
  BINARY_SUBSCR_LIST_INT: 'list[int] with an index in range',
  BINARY_SUBSCR_STR_INT: 'str[int] giving a one-character string',
  BINARY_SUBSCR_TUPLE_INT: 'tuple[int] with an index in range',

  CALL_ALLOC_AND_ENTER_INIT: 'calling a Python class: allocate the object, run its __init__ in a new frame',
  CALL_BOUND_METHOD_EXACT_ARGS: 'a bound Python method given exactly its positional parameters',
  CALL_BOUND_METHOD_GENERAL: 'a bound Python method, any arguments',
  CALL_BUILTIN_CLASS: 'calling a builtin type such as list or dict',
  CALL_BUILTIN_FAST: 'a builtin function with the fast (array of arguments) convention',
  CALL_BUILTIN_FAST_WITH_KEYWORDS: 'a builtin function with the fast convention, keywords allowed',
  CALL_BUILTIN_O: 'a builtin function taking exactly one argument',
  CALL_ISINSTANCE: 'isinstance(obj, cls), done inline',
  CALL_LEN: 'len(obj), done inline',
  CALL_LIST_APPEND: 'list.append(x) whose result is discarded',
  CALL_METHOD_DESCRIPTOR_FAST: "a builtin type's method (e.g. str.join) with the fast convention",
  CALL_METHOD_DESCRIPTOR_FAST_WITH_KEYWORDS: "a builtin type's method with the fast convention, keywords allowed",
  CALL_METHOD_DESCRIPTOR_NOARGS: "a builtin type's method that takes no arguments",
  CALL_METHOD_DESCRIPTOR_O: "a builtin type's method that takes one argument",
  CALL_NON_PY_GENERAL: 'any callable that is not a Python function',
  CALL_EX_PY: 'f(*args, **kwargs) of a Python function, run in a new frame',
  CALL_EX_NON_PY_GENERAL: 'f(*args, **kwargs) of anything that is not a Python function',
  CALL_PY_EXACT_ARGS: 'a Python function given exactly its positional parameters, run in a new frame',
  CALL_PY_GENERAL: 'any call of a Python function, run in a new frame',
  CALL_PY_WITH_DEFAULTS: 'a Python function whose missing arguments come from its defaults',
  CALL_STR_1: 'str(x)',
  CALL_TUPLE_1: 'tuple(x)',
  CALL_TYPE_1: 'type(x)',
  CALL_NO_KW_BUILTIN_FAST: 'a builtin function with the fast convention, no keywords',
  CALL_NO_KW_BUILTIN_O: 'a builtin function taking exactly one argument, no keywords',
  CALL_NO_KW_ISINSTANCE: 'isinstance(obj, cls), done inline',
  CALL_NO_KW_LEN: 'len(obj), done inline',
  CALL_NO_KW_LIST_APPEND: 'list.append(x) whose result is discarded',
  CALL_NO_KW_METHOD_DESCRIPTOR_FAST: "a builtin type's method with the fast convention, no keywords",
  CALL_NO_KW_METHOD_DESCRIPTOR_NOARGS: "a builtin type's method that takes no arguments",
  CALL_NO_KW_METHOD_DESCRIPTOR_O: "a builtin type's method that takes one argument",
  CALL_NO_KW_STR_1: 'str(x)',
  CALL_NO_KW_TUPLE_1: 'tuple(x)',
  CALL_NO_KW_TYPE_1: 'type(x)',
  CALL_KW_BOUND_METHOD: 'a bound Python method called with keywords',
  CALL_KW_NON_PY: 'a keyword call of something that is not a Python function',
  CALL_KW_PY: 'a Python function called with keywords, run in a new frame',

  PRECALL_BOUND_METHOD: 'a bound method: split it into function and self',
  PRECALL_PYFUNC: 'a Python function: nothing to prepare, CALL does the work',
  PRECALL_BUILTIN_CLASS: 'calling a builtin type: the whole call happens here, CALL is skipped',
  PRECALL_BUILTIN_FAST_WITH_KEYWORDS: 'a fast builtin function with keywords: the call happens here',
  PRECALL_METHOD_DESCRIPTOR_FAST_WITH_KEYWORDS: "a builtin type's method with keywords: the call happens here",
  PRECALL_NO_KW_BUILTIN_FAST: 'a fast builtin function, no keywords: the call happens here',
  PRECALL_NO_KW_BUILTIN_O: 'a one-argument builtin function: the call happens here',
  PRECALL_NO_KW_ISINSTANCE: 'isinstance(obj, cls): the call happens here',
  PRECALL_NO_KW_LEN: 'len(obj): the call happens here',
  PRECALL_NO_KW_LIST_APPEND: 'list.append(x): the call happens here',
  PRECALL_NO_KW_METHOD_DESCRIPTOR_FAST: "a builtin type's method, fast convention: the call happens here",
  PRECALL_NO_KW_METHOD_DESCRIPTOR_NOARGS: "a builtin type's method without arguments: the call happens here",
  PRECALL_NO_KW_METHOD_DESCRIPTOR_O: "a builtin type's one-argument method: the call happens here",
  PRECALL_NO_KW_STR_1: 'str(x): the call happens here',
  PRECALL_NO_KW_TUPLE_1: 'tuple(x): the call happens here',
  PRECALL_NO_KW_TYPE_1: 'type(x): the call happens here',

  COMPARE_OP_FLOAT: 'comparing two floats',
  COMPARE_OP_INT: 'comparing two small ints (one internal digit each)',
  COMPARE_OP_STR: 'str == str or str != str',
  COMPARE_OP_FLOAT_JUMP: 'two floats, doing the conditional jump after it in the same step',
  COMPARE_OP_INT_JUMP: 'two small ints, doing the conditional jump after it in the same step',
  COMPARE_OP_STR_JUMP: 'str == / != str, doing the conditional jump after it in the same step',
  CONTAINS_OP_DICT: 'item in dict',
  CONTAINS_OP_SET: 'item in set or frozenset',

  FOR_ITER_GEN: 'looping over a generator, resuming its frame directly',
  FOR_ITER_LIST: 'looping over a list',
  FOR_ITER_RANGE: 'looping over a range',
  FOR_ITER_TUPLE: 'looping over a tuple',
  FOR_ITER_VIRTUAL: 'a virtual iterator (list, tuple or range plus an index slot): no iterator object',
  GET_ITER_SELF: 'the value is its own iterator (iter(x) is x): keep it, NULL in the second slot',
  GET_ITER_VIRTUAL: 'a list, tuple or range: keep it with index 0 instead of making an iterator',

  LOAD_ATTR_CLASS: 'an attribute of a class object, found through the cached type version',
  LOAD_ATTR_CLASS_WITH_METACLASS_CHECK: 'a class attribute, also checking the metaclass is unchanged',
  LOAD_ATTR_GETATTRIBUTE_OVERRIDDEN: 'a class with a Python __getattribute__, called in a new frame',
  LOAD_ATTR_INSTANCE_VALUE: "an instance attribute kept in the object's inline values, at a cached index",
  LOAD_ATTR_METHOD_LAZY_DICT: "a method load while the instance's __dict__ is not created yet",
  LOAD_ATTR_METHOD_NO_DICT: 'a method load on an instance without __dict__',
  LOAD_ATTR_METHOD_WITH_VALUES: 'a method load on an instance with inline values that do not shadow it',
  LOAD_ATTR_MODULE: 'a module attribute at a cached index of the module dict',
  LOAD_ATTR_NONDESCRIPTOR_NO_DICT: 'a non-descriptor class attribute, instance without __dict__',
  LOAD_ATTR_NONDESCRIPTOR_WITH_VALUES: 'a non-descriptor class attribute, instance with inline values',
  LOAD_ATTR_PROPERTY: 'a property whose getter is Python code, run in a new frame',
  LOAD_ATTR_SLOT: 'a __slots__ attribute at a cached offset',
  LOAD_ATTR_WITH_HINT: "an instance attribute found in its __dict__ at a cached position",
  LOAD_METHOD_CLASS: 'a method looked up on a class object',
  LOAD_METHOD_MODULE: 'a function attribute of a module',
  LOAD_METHOD_NO_DICT: 'a method of an instance without __dict__',
  LOAD_METHOD_WITH_DICT: 'a method of an instance whose __dict__ does not shadow it',
  LOAD_METHOD_WITH_VALUES: 'a method of an instance with inline values',
  LOAD_GLOBAL_BUILTIN: 'a name found in builtins, checking both dicts are unchanged',
  LOAD_GLOBAL_MODULE: 'a name found in the module globals at a cached index',
  LOAD_SUPER_ATTR_ATTR: 'super().name with the real super and a class: no super object is made',
  LOAD_SUPER_ATTR_METHOD: 'super().method(...) with the real super: method and self, no super object made',
  LOAD_CONST_IMMORTAL: 'an immortal constant, pushed without reference counting',
  LOAD_CONST_MORTAL: 'a constant that needs reference counting',

  STORE_ATTR_INSTANCE_VALUE: "storing into the object's inline values at a cached index",
  STORE_ATTR_SLOT: 'storing a __slots__ attribute at a cached offset',
  STORE_ATTR_WITH_HINT: "storing into the instance's __dict__ at a cached position",
  STORE_SUBSCR_DICT: 'dict[key] = value',
  STORE_SUBSCR_LIST_INT: 'list[int] = value with an index in range',
  UNPACK_SEQUENCE_LIST: 'a list of exactly arg items',
  UNPACK_SEQUENCE_TUPLE: 'a tuple of exactly arg items',
  UNPACK_SEQUENCE_TWO_TUPLE: 'a tuple of exactly two items',
  TO_BOOL_ALWAYS_TRUE: 'an instance whose class has no __bool__ or __len__: always True',
  TO_BOOL_BOOL: 'already a bool: nothing to do',
  TO_BOOL_INT: 'an int: True unless zero',
  TO_BOOL_LIST: 'a list: True unless empty',
  TO_BOOL_NONE: 'the value is None, so False',
  TO_BOOL_STR: 'a str: True unless empty',

  SEND_GEN: 'the iterator is a generator or coroutine: resume its frame directly',
  SEND_VIRTUAL: 'sending into a virtual iterator (yield from a list, tuple or range)',
  SEND_ASYNC_GEN: 'the iterator is an async generator step: resume its frame directly',
  RESUME_CHECK: 'only checks the eval breaker and that instrumentation is unchanged',
  RESUME_CHECK_JIT: 'as RESUME_CHECK, also counting towards JIT compilation of the function',
  RESUME_QUICK: 'after quickening: only checks for interrupts',
  JUMP_BACKWARD_JIT: 'counts iterations and hands a hot loop to the JIT',
  JUMP_BACKWARD_NO_JIT: 'no JIT available: a plain backward jump with its interrupt check',
  JUMP_BACKWARD_QUICK: 'after quickening: the jump without warm-up counting',
  EXTENDED_ARG_QUICK: 'after quickening; prefixes the next argument the same way',
}

/** Text of a specialized instruction `name` whose base instruction is `base`. */
function specializedText(name: string, base: string): string {
  if (name.endsWith('_ADAPTIVE')) {
    return `adaptive ${base}: counts runs, then rewrites itself into a specialized form.`
  }
  const pair = name.split('__')
  if (pair.length === 2) return `superinstruction: ${pair[0]} and the ${pair[1]} right after it, in one step.`
  const note = own(SPECIALIZED_NOTES, name)
  if (note !== undefined) return `specialized ${base}: ${note}.`
  return `specialized ${base} (quickened at run time); does what ${base} does under cached assumptions.`
}

/** `texts[name]` if it is an own entry (never an Object.prototype member). */
const own = (texts: Texts, name: string): string | undefined => (Object.hasOwn(texts, name) ? texts[name] : undefined)

/** The override text for `opname` in 3.`minor`, if one applies. */
function overrideText(minor: number, opname: string): string | undefined {
  for (const o of OVERRIDES) {
    const text = minor >= o.from && minor <= o.to ? own(o.texts, opname) : undefined
    if (text !== undefined) return text
  }
  return undefined
}

/**
 * One line explaining what the instruction does, for the given Python minor version:
 * what it pops and pushes and what its argument means, in present tense. `undefined` for a name
 * that version does not have, or for an unsupported version. The text does not repeat the name;
 * print it as `NAME: text`.
 */
export function explainOpcode(minor: number, opname: string): string | undefined {
  if (!SUPPORTED_MINORS.includes(minor)) return undefined
  const table = opcodeTable(minor)
  if (Object.hasOwn(table.opmap, opname)) return overrideText(minor, opname) ?? own(BASE, opname)
  if (Object.hasOwn(table.specializedOpmap, opname)) {
    const base = table.deopt[opname]
    return base === undefined ? undefined : specializedText(opname, base)
  }
  return undefined
}

/** Every opname that has an explanation for this version (for the completeness test); sorted. */
export function explainedOpcodes(minor: number): string[] {
  if (!SUPPORTED_MINORS.includes(minor)) return []
  const table = opcodeTable(minor)
  return [...Object.keys(table.opmap), ...Object.keys(table.specializedOpmap)]
    .filter((name) => explainOpcode(minor, name) !== undefined)
    .sort()
}

/**
 * @internal For the tests: entries of the tables that no supported version can reach (a name
 * spelled wrong, an override for versions that lack the instruction) and overrides that collide
 * (two texts for one name and version). Empty when the data is consistent.
 */
export function explanationTableProblems(): string[] {
  const problems: string[] = []
  const has = (minor: number, name: string): boolean => {
    const t = opcodeTable(minor)
    return Object.hasOwn(t.opmap, name) || Object.hasOwn(t.specializedOpmap, name)
  }
  for (const name of Object.keys(BASE)) {
    const reached = SUPPORTED_MINORS.some((m) => has(m, name) && overrideText(m, name) === undefined)
    if (!reached) problems.push(`BASE.${name} is used by no version`)
  }
  for (const name of Object.keys(SPECIALIZED_NOTES)) {
    if (!SUPPORTED_MINORS.some((m) => Object.hasOwn(opcodeTable(m).specializedOpmap, name))) {
      problems.push(`SPECIALIZED_NOTES.${name} names no specialized instruction`)
    }
  }
  for (const [i, o] of OVERRIDES.entries()) {
    for (const name of Object.keys(o.texts)) {
      const minors = SUPPORTED_MINORS.filter((m) => m >= o.from && m <= o.to)
      if (!minors.some((m) => has(m, name))) problems.push(`override ${o.from}–${o.to} (${o.why}): ${name} exists in none`)
      for (const [j, p] of OVERRIDES.entries()) {
        if (j > i && own(p.texts, name) !== undefined && p.from <= o.to && o.from <= p.to) {
          problems.push(`${name}: overrides ${o.from}–${o.to} and ${p.from}–${p.to} overlap`)
        }
      }
    }
  }
  return problems
}
