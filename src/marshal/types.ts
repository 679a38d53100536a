/**
 * The object model of CPython's marshal format, as read by {@link readMarshal} and written by
 * {@link writeMarshal}.
 *
 * Every node remembers the exact type code it was read with (`code`) and whether it carried
 * FLAG_REF (`ref`), so that writing it back reproduces the input bytes. Objects that marshal
 * shares through back-references (`r`) are the same JS object instance in the model.
 */

/** The marshal type codes (one ASCII byte each; bit 0x80 is FLAG_REF). */
export const enum TypeCode {
  /** '0' — NULL, ends a dict; never a value. */
  Null = 0x30,
  /** 'N' — None. */
  None = 0x4e,
  /** 'F' — False. */
  False = 0x46,
  /** 'T' — True. */
  True = 0x54,
  /** 'S' — StopIteration (the type). */
  StopIteration = 0x53,
  /** '.' — Ellipsis. */
  Ellipsis = 0x2e,
  /** 'i' — 32-bit signed little-endian int. */
  Int = 0x69,
  /** 'I' — 64-bit signed little-endian int (written by Python 2 only). */
  Int64 = 0x49,
  /** 'f' — float as length-prefixed ASCII text (format 0). */
  Float = 0x66,
  /** 'g' — float as IEEE-754 binary64, little-endian (format ≥ 2). */
  BinaryFloat = 0x67,
  /** 'x' — complex as two length-prefixed texts (format 0). */
  Complex = 0x78,
  /** 'y' — complex as two binary64 (format ≥ 2). */
  BinaryComplex = 0x79,
  /** 'l' — arbitrary int: int32 digit count (sign = sign of number), then 15-bit digits as uint16. */
  Long = 0x6c,
  /** 's' — bytes, int32 length. */
  Bytes = 0x73,
  /** 't' — interned str, UTF-8, int32 length. */
  Interned = 0x74,
  /** 'r' — reference to an earlier FLAG_REF object by int32 index (format ≥ 3). */
  Ref = 0x72,
  /** '(' — tuple, int32 length. */
  Tuple = 0x28,
  /** ')' — tuple, uint8 length (format ≥ 4). */
  SmallTuple = 0x29,
  /** '[' — list, int32 length. */
  List = 0x5b,
  /** '{' — dict: key/value pairs until NULL. */
  Dict = 0x7b,
  /** '}' — frozendict: key/value pairs until NULL, as dict (format ≥ 6, CPython 3.15+). */
  FrozenDict = 0x7d,
  /** 'c' — code object. */
  Code = 0x63,
  /** 'u' — str, UTF-8 (surrogatepass), int32 length. */
  Unicode = 0x75,
  /** '?' — unknown; never written. */
  Unknown = 0x3f,
  /** '<' — set, int32 length. */
  Set = 0x3c,
  /** '>' — frozenset, int32 length. */
  FrozenSet = 0x3e,
  /** 'a' — str, ASCII, int32 length (format ≥ 4). */
  Ascii = 0x61,
  /** 'A' — interned ASCII str, int32 length. */
  AsciiInterned = 0x41,
  /** 'z' — ASCII str, uint8 length. */
  ShortAscii = 0x7a,
  /** 'Z' — interned ASCII str, uint8 length. */
  ShortAsciiInterned = 0x5a,
  /** ':' — slice(start, stop, step) (format 5, CPython 3.14). */
  Slice = 0x3a,
}

/** Bit set on a type code when the object is registered for later back-references. */
export const FLAG_REF = 0x80

/** Fields shared by every node. */
interface Node {
  /** The type code byte (without FLAG_REF) the object was read with or will be written with. */
  readonly code: number
  /** Whether the object carries FLAG_REF (is registered in the reference list). */
  readonly ref: boolean
}

export interface PyNone extends Node { readonly type: 'none' }
export interface PyBool extends Node { readonly type: 'bool'; readonly value: boolean }
export interface PyStopIteration extends Node { readonly type: 'stopiteration' }
export interface PyEllipsis extends Node { readonly type: 'ellipsis' }
export interface PyInt extends Node { readonly type: 'int'; readonly value: bigint }
export interface PyFloat extends Node {
  readonly type: 'float'
  readonly value: number
  /** For text floats ('f', format 0): the text as stored. */
  readonly text?: string
}
export interface PyComplex extends Node {
  readonly type: 'complex'
  readonly real: number
  readonly imag: number
  /** For text complex ('x', format 0): the two texts as stored. */
  readonly text?: readonly [string, string]
}
export interface PyBytes extends Node { readonly type: 'bytes'; readonly value: Uint8Array }
export interface PyStr extends Node {
  readonly type: 'str'
  /** The string as JS UTF-16; lone surrogates are kept as lone code units. */
  readonly value: string
  /**
   * The UTF-8 bytes as stored, kept only when `value` cannot reproduce them: a lone high surrogate
   * followed by a lone low one (two 3-byte sequences) reads as one JS surrogate pair, which would
   * re-encode as a single 4-byte sequence. The writer prefers these bytes when present.
   */
  readonly utf8?: Uint8Array
}
export interface PyTuple extends Node { readonly type: 'tuple'; readonly items: readonly PyObject[] }
export interface PyList extends Node { readonly type: 'list'; readonly items: readonly PyObject[] }
export interface PyDict extends Node {
  readonly type: 'dict'
  readonly entries: readonly (readonly [PyObject, PyObject])[]
}
/** A frozendict (CPython 3.15+, marshal format 6). */
export interface PyFrozenDict extends Node {
  readonly type: 'frozendict'
  readonly entries: readonly (readonly [PyObject, PyObject])[]
}
export interface PySet extends Node { readonly type: 'set'; readonly items: readonly PyObject[] }
export interface PyFrozenSet extends Node { readonly type: 'frozenset'; readonly items: readonly PyObject[] }
export interface PySlice extends Node {
  readonly type: 'slice'
  readonly start: PyObject
  readonly stop: PyObject
  readonly step: PyObject
}

/**
 * A marshalled code object. Which fields exist depends on the Python version that wrote it
 * (see `codeLayout` in reader.ts); int32 fields are plain numbers, the rest are objects.
 */
export interface PyCode extends Node {
  readonly type: 'code'
  readonly argcount: number
  /** 3.8+ */
  readonly posonlyargcount?: number
  readonly kwonlyargcount: number
  /** ≤ 3.10 (3.11+ derives it from localspluskinds). */
  readonly nlocals?: number
  readonly stacksize: number
  readonly flags: number
  readonly bytecode: PyObject
  readonly consts: PyObject
  readonly names: PyObject
  /** ≤ 3.10 */
  readonly varnames?: PyObject
  /** ≤ 3.10 */
  readonly freevars?: PyObject
  /** ≤ 3.10 */
  readonly cellvars?: PyObject
  /** 3.11+ */
  readonly localsplusnames?: PyObject
  /** 3.11+: one byte of kind bits per name. */
  readonly localspluskinds?: PyObject
  readonly filename: PyObject
  readonly name: PyObject
  /** 3.11+ */
  readonly qualname?: PyObject
  readonly firstlineno: number
  /** co_lnotab (≤ 3.9) or co_linetable (3.10+). */
  readonly linetable: PyObject
  /** 3.11+ */
  readonly exceptiontable?: PyObject
}

/** Any object marshal can hold. */
export type PyObject =
  | PyNone
  | PyBool
  | PyStopIteration
  | PyEllipsis
  | PyInt
  | PyFloat
  | PyComplex
  | PyBytes
  | PyStr
  | PyTuple
  | PyList
  | PyDict
  | PyFrozenDict
  | PySet
  | PyFrozenSet
  | PySlice
  | PyCode

/** Which code-object field layout the data uses; see the `codeLayout` table in reader.ts. */
export interface MarshalOptions {
  /** Python version as [major, minor]; selects the code-object layout. Default [3, 12]. */
  readonly pythonVersion?: readonly [number, number]
}
