/**
 * Per-version opcode data, generated from the real interpreters by `npm run gen:opcodes`
 * (scripts/gen-opcodes.py reads the `opcode` and `dis` modules). One table per CPython minor
 * version in `v3_X.ts`. "Opcode" is the byte value of an instruction; sets are sorted ascending.
 * Lists a version does not have are empty (`[]` / `{}`); the few optional fields are `undefined`
 * where a missing value must be derived rather than read as "none".
 */
export interface OpcodeTable {
  /** Exact interpreter version the table was generated from, e.g. `'3.12.1'`. */
  readonly version: string
  /** Python 3 minor version, e.g. `12`. */
  readonly minor: number
  /** The interpreter's .pyc magic number (`importlib.util.MAGIC_NUMBER`, first two bytes, little-endian). */
  readonly magic: number

  /** Name of every defined opcode (`opcode.opmap` inverted; no `<123>` fillers, no specialized ops).
   *  From 3.12 this includes pseudo-ops (>= 256), which never occur in bytecode. */
  readonly opnames: Readonly<Record<number, string>>
  /** `opcode.opmap`: name → opcode, base instructions only (see `specializedOpmap`). */
  readonly opmap: Readonly<Record<string, number>>
  /** `opcode.HAVE_ARGUMENT`: before 3.12 an opcode takes an oparg iff it is >= this. From 3.12 dis
   *  uses `hasArg` instead; in 3.13/3.14 this very opcode (WITH_EXCEPT_START) takes none. */
  readonly haveArgument: number
  /** `opcode.EXTENDED_ARG`: the prefix instruction that widens the next oparg by 8 bits. */
  readonly extendedArg: number

  /** `opcode.hasarg` (3.12+): opcodes that use their oparg. Undefined before 3.12, where
   *  that is `opcode >= haveArgument`. */
  readonly hasArg?: readonly number[]
  /** `opcode.hasconst`: oparg indexes `co_consts`. */
  readonly hasConst: readonly number[]
  /** `opcode.hasname`: oparg indexes `co_names` (LOAD_GLOBAL/LOAD_ATTR/LOAD_SUPER_ATTR shift it, see dis). */
  readonly hasName: readonly number[]
  /** `opcode.hasjrel`: relative jumps. The oparg counts bytes before 3.10 and 2-byte code units
   *  from 3.10; JUMP_BACKWARD* (3.11+) jump backwards; from 3.12 the target skips the caches. */
  readonly hasJrel: readonly number[]
  /** `opcode.hasjabs`: absolute jumps (oparg in bytes before 3.10, code units in 3.10); empty from 3.11. */
  readonly hasJabs: readonly number[]
  /** `opcode.hasjump` (3.13+): every jump. Undefined before 3.13, where it is `hasJrel ∪ hasJabs`. */
  readonly hasJump?: readonly number[]
  /** `opcode.haslocal`: oparg indexes the fast locals. */
  readonly hasLocal: readonly number[]
  /** `opcode.hascompare`: oparg selects from `cmpOp` (shifted from 3.12, see dis). */
  readonly hasCompare: readonly number[]
  /** `opcode.hasfree`: oparg indexes cell/free variables. */
  readonly hasFree: readonly number[]
  /** `opcode.hasnargs` (3.8–3.11; empty in all of them, gone in 3.12). */
  readonly hasNargs: readonly number[]
  /** `opcode.hasexc` (3.12+): pseudo-ops that set up an exception handler; dis labels their target. */
  readonly hasExc: readonly number[]
  /** `opcode.MIN_INSTRUMENTED_OPCODE` (3.12+): opcodes from here up to 255 are INSTRUMENTED_*. */
  readonly minInstrumentedOpcode?: number

  /** Inline CACHE entries (16-bit code units) after each base instruction, by name; only
   *  non-zero entries (`opcode._inline_cache_entries`, 3.11+). */
  readonly cacheEntries: Readonly<Record<string, number>>
  /** `opcode._cache_format` (3.11+): named cache fields and their sizes in code units, in order;
   *  dis prints these with `show_caches`. */
  readonly cacheFormat: Readonly<Record<string, readonly (readonly [field: string, units: number])[]>>
  /** `opcode._specializations` (3.11+): base instruction → its specialized forms. */
  readonly specializations: Readonly<Record<string, readonly string[]>>
  /** Opcodes of the specialized instructions (3.11+). 3.11/3.12 number them by filling the free
   *  opcode slots in `_specialized_instructions` order, as dis does; 3.13+ `opcode._specialized_opmap`. */
  readonly specializedOpmap: Readonly<Record<string, number>>
  /** Specialized instruction name → base name (dis's `deoptmap`). */
  readonly deopt: Readonly<Record<string, string>>

  /** `opcode._nb_ops` (3.11+): BINARY_OP oparg → [NB_* name, operator symbol dis prints]. */
  readonly nbOps: readonly (readonly [name: string, symbol: string])[]
  /** `opcode.cmp_op`: COMPARE_OP operators. */
  readonly cmpOp: readonly string[]
  /** `opcode._intrinsic_1_descs` (3.12+): CALL_INTRINSIC_1 oparg → name. */
  readonly intrinsic1: readonly string[]
  /** `opcode._intrinsic_2_descs` (3.12+): CALL_INTRINSIC_2 oparg → name. */
  readonly intrinsic2: readonly string[]
  /** `dis.MAKE_FUNCTION_FLAGS` (3.8–3.12): MAKE_FUNCTION oparg bit i → name. */
  readonly makeFunctionFlags: readonly string[]
  /** `dis.FUNCTION_ATTR_FLAGS` (3.13+): SET_FUNCTION_ATTRIBUTE oparg bit i → name. */
  readonly functionAttrFlags: readonly string[]
  /** Names in `dis.FORMAT_VALUE_CONVERTERS` (3.8–3.12): FORMAT_VALUE `oparg & 3` → converter
   *  name (`''` for none). 3.13+ dis spells the CONVERT_VALUE names inline instead. */
  readonly formatValueConverters: readonly string[]
  /** `opcode._common_constants` (3.14+) as dis shows them: LOAD_COMMON_CONSTANT oparg → text. */
  readonly commonConstants: readonly string[]
  /** `opcode._special_method_names` (3.14+): LOAD_SPECIAL oparg → method name. */
  readonly specialMethodNames: readonly string[]
  /** `dis.COMPILER_FLAG_NAMES`: code flag bit → name, as `dis.code_info` prints them. */
  readonly compilerFlagNames: Readonly<Record<number, string>>
}
