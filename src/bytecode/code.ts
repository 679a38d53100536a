/**
 * A convenient, read-only view of a marshalled code object: strings decoded, tuples flattened,
 * and the fields that 3.11+ derives from localsplus kinds (varnames, cellvars, freevars, nlocals)
 * filled in for every version.
 */
import type { PyCode, PyObject } from '../marshal/index.js'
import { BytecodeError } from './errors.js'
import { has } from '../versions/index.js'

/** Kind bits of co_localspluskinds (3.11+), one byte per name in co_localsplusnames. */
export const enum LocalKind {
  /** A positional or keyword argument (with Local). */
  Arg = 0x02,
  /** Set when the name is a hidden local (comprehension inlining, 3.12+). */
  Hidden = 0x10,
  /** A plain local variable. */
  Local = 0x20,
  /** A cell variable: a local captured by an inner scope. */
  Cell = 0x40,
  /** A free variable: captured from an outer scope. */
  Free = 0x80,
}

/** Bits of co_flags (names as dis.COMPILER_FLAG_NAMES). */
export const CODE_FLAG_NAMES: readonly (readonly [bit: number, name: string])[] = [
  [0x1, 'OPTIMIZED'],
  [0x2, 'NEWLOCALS'],
  [0x4, 'VARARGS'],
  [0x8, 'VARKEYWORDS'],
  [0x10, 'NESTED'],
  [0x20, 'GENERATOR'],
  [0x40, 'NOFREE'],
  [0x80, 'COROUTINE'],
  [0x100, 'ITERABLE_COROUTINE'],
  [0x200, 'ASYNC_GENERATOR'],
  [0x4000000, 'HAS_DOCSTRING'],
  [0x8000000, 'METHOD'],
]

/** A code object with every field of its Python version, decoded for use. */
export interface CodeObject {
  /** The Python version that compiled it. */
  readonly pythonVersion: readonly [major: 3, minor: number]
  readonly argcount: number
  readonly posonlyargcount: number
  readonly kwonlyargcount: number
  /** co_nlocals: stored up to 3.10, derived from localspluskinds from 3.11. */
  readonly nlocals: number
  /** co_stacksize: the maximum value-stack depth, as computed by the compiler. */
  readonly stacksize: number
  /** co_flags; see {@link CODE_FLAG_NAMES}. */
  readonly flags: number
  /** co_code: the bytecode (2-byte code units; inline caches included from 3.11). */
  readonly code: Uint8Array
  readonly consts: readonly PyObject[]
  readonly names: readonly string[]
  readonly varnames: readonly string[]
  readonly cellvars: readonly string[]
  readonly freevars: readonly string[]
  /** 3.11+: all locals, cells and frees in frame order; for ≤ 3.10, varnames + cellvars + freevars. */
  readonly localsplusnames: readonly string[]
  /** 3.11+: kind bits per localsplus name ({@link LocalKind}); empty for ≤ 3.10. */
  readonly localspluskinds: Uint8Array
  readonly filename: string
  readonly name: string
  /** co_qualname (3.11+); for older versions, the name. */
  readonly qualname: string
  /** 1-based line of the first source line. */
  readonly firstlineno: number
  /** co_lnotab (≤ 3.9) or co_linetable (3.10+), raw bytes. */
  readonly linetable: Uint8Array
  /** co_exceptiontable (3.11+), raw bytes; empty before 3.11. */
  readonly exceptiontable: Uint8Array
  /** Nested code objects found in consts, in order. */
  readonly children: readonly CodeObject[]
  /** The marshal node this view was made from. */
  readonly raw: PyCode
}

function bytesOf(o: PyObject | undefined, field: string): Uint8Array {
  if (o?.type === 'bytes') return o.value
  throw new BytecodeError('CODE_BAD_FIELD', `code object field ${field} is a ${o?.type ?? 'missing value'}, expected bytes`)
}

function strOf(o: PyObject | undefined, field: string): string {
  if (o?.type === 'str') return o.value
  throw new BytecodeError('CODE_BAD_FIELD', `code object field ${field} is a ${o?.type ?? 'missing value'}, expected str`)
}

function tupleOf(o: PyObject | undefined, field: string): readonly PyObject[] {
  if (o?.type === 'tuple') return o.items
  throw new BytecodeError('CODE_BAD_FIELD', `code object field ${field} is a ${o?.type ?? 'missing value'}, expected tuple`)
}

function strTuple(o: PyObject | undefined, field: string): string[] {
  const items = tupleOf(o, field)
  const out: string[] = new Array(items.length)
  for (let i = 0; i < items.length; i++) {
    const x = items[i]!
    // The field name of an error message is built only for an error.
    out[i] = x.type === 'str' ? x.value : strOf(x, `${field}[${i}]`)
  }
  return out
}

/** One frozen `[3, minor]` per version, shared by all code objects. */
const versionTuples = new Map<number, readonly [3, number]>()

function versionTuple(minor: number): readonly [3, number] {
  let tuple = versionTuples.get(minor)
  if (tuple === undefined) {
    tuple = Object.freeze([3, minor] as const)
    versionTuples.set(minor, tuple)
  }
  return tuple
}

/**
 * Builds the {@link CodeObject} view of a marshalled code object (and of the code objects nested
 * in its constants). Throws {@link BytecodeError} when a field has the wrong type.
 */
export function toCodeObject(raw: PyCode, minor: number): CodeObject {
  return new CodeView(raw, minor)
}

/**
 * The {@link CodeObject} of {@link toCodeObject}. Every field is checked when it is made; the
 * fields derived from others (3.11+ varnames, cellvars, freevars and nlocals from the localsplus
 * kinds; ≤ 3.10 localsplusnames from the three name tuples) are only put together when first
 * read: the dis formatter, which reads a whole standard library's code objects, never needs them.
 */
class CodeView implements CodeObject {
  readonly pythonVersion: readonly [3, number]
  readonly argcount: number
  readonly posonlyargcount: number
  readonly kwonlyargcount: number
  readonly stacksize: number
  readonly flags: number
  readonly code: Uint8Array
  readonly consts: readonly PyObject[]
  readonly names: readonly string[]
  readonly localspluskinds: Uint8Array
  readonly filename: string
  readonly name: string
  readonly qualname: string
  readonly firstlineno: number
  readonly linetable: Uint8Array
  readonly exceptiontable: Uint8Array
  readonly children: readonly CodeObject[]
  readonly raw: PyCode
  /** 3.11+: co_localsplusnames as read; ≤ 3.10: made from the other three on first use. */
  private localsPlus: readonly string[] | undefined
  /** ≤ 3.10: the fields as read; 3.11+: made from the localsplus kinds on first use. */
  private locals: { varnames: readonly string[]; cellvars: readonly string[]; freevars: readonly string[]; nlocals: number } | undefined

  constructor(raw: PyCode, minor: number) {
    // The checks run in a fixed order, which decides the field reported when several are bad.
    const consts = tupleOf(raw.consts, 'co_consts')
    const names = strTuple(raw.names, 'co_names')
    if (raw.localsplusnames !== undefined) {
      const localsplusnames = strTuple(raw.localsplusnames, 'co_localsplusnames')
      const localspluskinds = bytesOf(raw.localspluskinds, 'co_localspluskinds')
      if (localspluskinds.length !== localsplusnames.length) {
        throw new BytecodeError(
          'CODE_BAD_FIELD',
          `co_localspluskinds has ${localspluskinds.length} entries for ${localsplusnames.length} names`,
        )
      }
      this.localsPlus = localsplusnames
      this.localspluskinds = localspluskinds
      this.locals = undefined
    } else {
      const varnames = strTuple(raw.varnames, 'co_varnames')
      const cellvars = strTuple(raw.cellvars, 'co_cellvars')
      const freevars = strTuple(raw.freevars, 'co_freevars')
      this.localsPlus = undefined
      this.localspluskinds = EMPTY_BYTES
      this.locals = { varnames, cellvars, freevars, nlocals: raw.nlocals ?? varnames.length }
    }
    const name = strOf(raw.name, 'co_name')
    const children: CodeObject[] = []
    for (const c of consts) if (c.type === 'code') children.push(new CodeView(c, minor))
    this.pythonVersion = versionTuple(minor)
    this.argcount = raw.argcount
    this.posonlyargcount = raw.posonlyargcount ?? 0
    this.kwonlyargcount = raw.kwonlyargcount
    this.stacksize = raw.stacksize
    this.flags = raw.flags
    this.code = bytesOf(raw.bytecode, 'co_code')
    this.consts = consts
    this.names = names
    this.filename = strOf(raw.filename, 'co_filename')
    this.name = name
    this.qualname = raw.qualname !== undefined ? strOf(raw.qualname, 'co_qualname') : name
    this.firstlineno = raw.firstlineno
    this.linetable = bytesOf(raw.linetable, has(minor, 'lnotab') ? 'co_lnotab' : 'co_linetable')
    this.exceptiontable = raw.exceptiontable !== undefined ? bytesOf(raw.exceptiontable, 'co_exceptiontable') : EMPTY_BYTES
    this.children = children
    this.raw = raw
  }

  get varnames(): readonly string[] {
    return this.localVariables().varnames
  }

  get cellvars(): readonly string[] {
    return this.localVariables().cellvars
  }

  get freevars(): readonly string[] {
    return this.localVariables().freevars
  }

  get nlocals(): number {
    return this.localVariables().nlocals
  }

  get localsplusnames(): readonly string[] {
    if (this.localsPlus === undefined) {
      const { varnames, cellvars, freevars } = this.localVariables()
      this.localsPlus = [...varnames, ...cellvars, ...freevars]
    }
    return this.localsPlus
  }

  /** varnames, cellvars, freevars and nlocals, derived from the localsplus kinds on first use (3.11+). */
  private localVariables(): NonNullable<CodeView['locals']> {
    if (this.locals === undefined) {
      const names = this.localsPlus ?? []
      const kinds = this.localspluskinds
      const varnames: string[] = []
      const cellvars: string[] = []
      const freevars: string[] = []
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!
        const k = kinds[i]!
        if (k & LocalKind.Local) varnames.push(n)
        if (k & LocalKind.Cell) cellvars.push(n)
        else if (k & LocalKind.Free) freevars.push(n)
      }
      this.locals = { varnames, cellvars, freevars, nlocals: varnames.length }
    }
    return this.locals
  }
}

const EMPTY_BYTES = new Uint8Array(0)
