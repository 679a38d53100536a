/**
 * `--format json`: the code-object tree with every field, decoded instructions, positions and
 * exception-table entries. Constants are tagged values (`{"type": "int", "value": "12"}`) with
 * their Python repr, so nothing is lost to JSON's number or string limits.
 */
import { checkOutput, DEFAULT_MAX_OUTPUT_BYTES, type PyObject } from '../../marshal/index.js'
import type { CodeObject } from '../code.js'
import { type ArgValue, disassemble } from '../decode.js'
import { lineRanges } from '../lines.js'
import { pyRepr } from '../pyrepr.js'
import { codeAddress } from '../address.js'

/** Version of the JSON document layout; bumped on incompatible changes. */
export const CODE_JSON_VERSION = 1

/** A constant as JSON. Bytes are hex; ints are decimal strings; floats keep their repr. */
export type JsonConst =
  | { type: 'none' | 'ellipsis' | 'stopiteration'; repr: string }
  | { type: 'bool'; value: boolean; repr: string }
  | { type: 'int'; value: string; repr: string }
  | { type: 'float'; repr: string }
  | { type: 'complex'; real: string; imag: string; repr: string }
  | { type: 'bytes'; hex: string; repr: string }
  | { type: 'str'; value: string; repr: string }
  | { type: 'tuple' | 'list' | 'set' | 'frozenset'; items: JsonConst[]; repr: string }
  | { type: 'dict' | 'frozendict'; entries: [JsonConst, JsonConst][]; repr: string }
  | { type: 'slice'; start: JsonConst; stop: JsonConst; step: JsonConst; repr: string }
  | { type: 'code'; qualname: string; firstlineno: number; repr: string }

/**
 * The state of one JSON document under construction: the output budget (see marshal/limits.ts)
 * it counts the constants' reprs against, and each constant's JSON form by identity — a constant
 * that LOAD_CONST uses a hundred times, or a tuple referenced a thousand times, is converted once.
 */
export interface JsonContext {
  readonly limit: number
  /** Characters of repr made so far. */
  used: number
  readonly memo: Map<PyObject, JsonConst>
  /** Reprs by identity, shared by every constant's repr (a tuple's items are repr'd as part of it first). */
  readonly reprs: Map<PyObject, string>
  /**
   * Each converted constant's share of `used` (its JSON form's size, at least): a constant met
   * again is counted again, as the JSON text repeats it, so a document over budget is refused while
   * it is built rather than after.
   */
  readonly sizes: Map<PyObject, number>
}

/** A {@link JsonContext} with the budget `maxOutputBytes` (default {@link DEFAULT_MAX_OUTPUT_BYTES}). */
export function jsonContext(maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES): JsonContext {
  return { limit: maxOutputBytes, used: 0, memo: new Map(), reprs: new Map(), sizes: new Map() }
}

/** Converts a marshal constant to its JSON form; throws LimitError when the reprs exceed `cx`'s budget. */
export function constToJson(o: PyObject, minor: number, cx: JsonContext = jsonContext()): JsonConst {
  const known = cx.memo.get(o)
  if (known !== undefined) {
    cx.used += cx.sizes.get(o) ?? 0
    checkOutput(cx.used, cx.limit, 'the JSON document')
    return known
  }
  const before = cx.used
  const made = constToJsonOnce(o, minor, cx)
  cx.memo.set(o, made)
  cx.sizes.set(o, cx.used - before)
  return made
}

function constToJsonOnce(o: PyObject, minor: number, cx: JsonContext): JsonConst {
  const repr = pyRepr(o, { minor, codeAddress, maxLength: cx.limit, memo: cx.reprs })
  // A lower bound of this value's JSON text without its items (they count themselves): the repr,
  // a string's value, a bytes object's hex — checked before the hex or the items are made.
  cx.used += CONST_JSON_CHARS + repr.length + (o.type === 'str' ? o.value.length : o.type === 'bytes' ? 2 * o.value.length : 0)
  checkOutput(cx.used, cx.limit, 'the JSON document')
  const c = (x: PyObject) => constToJson(x, minor, cx)
  switch (o.type) {
    case 'none':
    case 'ellipsis':
    case 'stopiteration':
      return { type: o.type, repr }
    case 'bool':
      return { type: 'bool', value: o.value, repr }
    case 'int':
      return { type: 'int', value: o.value.toString(), repr }
    case 'float':
      return { type: 'float', repr }
    case 'complex':
      return { type: 'complex', real: pyRepr({ type: 'float', value: o.real, code: 0x67, ref: false }, { minor }), imag: pyRepr({ type: 'float', value: o.imag, code: 0x67, ref: false }, { minor }), repr }
    case 'bytes':
      return { type: 'bytes', hex: Array.from(o.value, (b) => b.toString(16).padStart(2, '0')).join(''), repr }
    case 'str':
      return { type: 'str', value: o.value, repr }
    case 'tuple':
    case 'list':
    case 'set':
    case 'frozenset':
      return { type: o.type, items: o.items.map(c), repr }
    case 'dict':
    case 'frozendict':
      return { type: o.type, entries: o.entries.map(([k, v]) => [c(k), c(v)]), repr }
    case 'slice':
      return { type: 'slice', start: c(o.start), stop: c(o.stop), step: c(o.step), repr }
    case 'code': {
      const q = o.qualname ?? o.name
      return { type: 'code', qualname: q.type === 'str' ? q.value : '', firstlineno: o.firstlineno, repr }
    }
  }
}

function argvalToJson(v: ArgValue | undefined, minor: number, cx: JsonContext): unknown {
  if (v === undefined) return null
  if (v.kind === 'const') return { kind: 'const', value: constToJson(v.value, minor, cx) }
  return v
}

/** Characters of one constant's JSON object at least: `{"type":"x","repr":""}`. */
const CONST_JSON_CHARS = 22
/** Characters of one instruction's JSON object at least: its 18 keys quoted, with colons, commas and braces. */
const INSTRUCTION_JSON_CHARS = 150

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/** The JSON document of one code object and, recursively, the code objects nested in it. */
export function codeToJson(code: CodeObject, cx: JsonContext = jsonContext()): Record<string, unknown> {
  const d = disassemble(code)
  const minor = code.pythonVersion[1]
  // What the document holds at least besides the constants, counted before it is built: the hex
  // of the code and its tables, and each instruction's keys (about 150 characters unindented).
  cx.used += 2 * (code.code.length + code.linetable.length + code.exceptiontable.length) + INSTRUCTION_JSON_CHARS * d.instructions.length
  checkOutput(cx.used, cx.limit, 'the JSON document')
  return {
    qualname: code.qualname,
    name: code.name,
    filename: code.filename,
    firstlineno: code.firstlineno,
    pythonVersion: `3.${minor}`,
    argcount: code.argcount,
    posonlyargcount: code.posonlyargcount,
    kwonlyargcount: code.kwonlyargcount,
    nlocals: code.nlocals,
    stacksize: code.stacksize,
    flags: code.flags,
    code: hex(code.code),
    consts: code.consts.map((c) => constToJson(c, minor, cx)),
    names: code.names,
    varnames: code.varnames,
    cellvars: code.cellvars,
    freevars: code.freevars,
    localsplusnames: code.localsplusnames,
    localspluskinds: Array.from(code.localspluskinds),
    linetable: hex(code.linetable),
    exceptiontable: hex(code.exceptiontable),
    lines: lineRanges(minor, code.linetable, code.firstlineno, code.code.length).map((r) => ({ ...r, line: r.line ?? null })),
    exceptionEntries: d.exceptionEntries,
    instructions: d.instructions.map((i) => ({
      offset: i.offset,
      startOffset: i.startOffset,
      opcode: i.opcode,
      opname: i.opname,
      arg: i.arg ?? null,
      argval: argvalToJson(i.argval, minor, cx),
      argrepr: i.argrepr,
      cacheCount: i.cacheCount,
      jumpTarget: i.jumpTarget ?? null,
      startsLine: i.startsLine,
      line: i.line ?? null,
      position: {
        line: i.position.line ?? null,
        endLine: i.position.endLine ?? null,
        col: i.position.col ?? null,
        endCol: i.position.endCol ?? null,
      },
      isJumpTarget: i.isJumpTarget,
      label: i.label ?? null,
    })),
    children: code.children.map((c) => codeToJson(c, cx)),
  }
}

/**
 * The whole `--format json` document of `pyxray dis` and `pyxray code` (`"pyxray": "code"`): the
 * file (null for code given inline), the Python version, the command's own fields in `extra`
 * (`header`, `runtime`, `adaptive`, `closures`, in the order given), then {@link codeToJson}.
 */
export function codeDocument(code: CodeObject, file: string | null, extra: Record<string, unknown> = {}, maxOutputBytes?: number): Record<string, unknown> {
  return { pyxray: 'code', version: CODE_JSON_VERSION, file, pythonVersion: `3.${code.pythonVersion[1]}`, ...extra, code: codeToJson(code, jsonContext(maxOutputBytes)) }
}
