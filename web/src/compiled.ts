/**
 * From a compile result to what the panes show, and the mapping between CPython's positions
 * (1-based lines, 0-based UTF-8 byte columns) and editor offsets (UTF-16 code units).
 */
import { codeTree, type CodeEntry, type CodeObject, disassemble, type Disassembly, toCodeObject } from '../../src/bytecode/index.js'
import { readMarshal } from '../../src/marshal/index.js'

/** A compiled module: every code object, with its disassembly computed on demand. */
export interface Compiled {
  readonly minor: number
  readonly version: string
  readonly module: CodeObject
  readonly entries: readonly CodeEntry[]
}

/** Reads marshal bytes of a module's code object. */
export function loadCompiled(marshal: Uint8Array, minor: number, version: string): Compiled {
  const { value } = readMarshal(marshal, { pythonVersion: [3, minor] })
  if (value.type !== 'code') throw new Error(`the runtime returned a ${value.type}, not a code object`)
  const module = toCodeObject(value, minor)
  return { minor, version, module, entries: codeTree(module) }
}

const cache = new WeakMap<CodeObject, Disassembly>()

/** The disassembly of one code object (cached). */
export function disassembly(code: CodeObject): Disassembly {
  let d = cache.get(code)
  if (!d) {
    d = disassemble(code)
    cache.set(code, d)
  }
  return d
}

/** UTF-16 index in `line` of a 0-based UTF-8 byte column (clamped to the line). */
export function byteColToIndex(line: string, byteCol: number): number {
  let bytes = 0
  let i = 0
  while (i < line.length && bytes < byteCol) {
    const c = line.codePointAt(i)!
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    i += c >= 0x10000 ? 2 : 1
  }
  return i
}

/** 0-based UTF-8 byte column of a UTF-16 index in `line`. */
export function indexToByteCol(line: string, index: number): number {
  let bytes = 0
  for (let i = 0; i < index && i < line.length; ) {
    const c = line.codePointAt(i)!
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    i += c >= 0x10000 ? 2 : 1
  }
  return bytes
}

/** A source span in CPython's terms. */
export interface Span {
  /** 1-based. */
  readonly line: number
  /** 0-based UTF-8 byte column; undefined = whole line. */
  readonly col?: number | undefined
  readonly endLine: number
  readonly endCol?: number | undefined
}

/** Anything that can give a line's text (1-based) and where it starts in the document. */
export interface LineSource {
  readonly lines: number
  line(n: number): { readonly from: number; readonly to: number; readonly text: string }
}

/** Document offsets [from, to) of a span, or undefined when it lies outside the document. */
export function spanToRange(doc: LineSource, s: Span): { from: number; to: number } | undefined {
  if (s.line < 1 || s.line > doc.lines) return undefined
  const a = doc.line(s.line)
  const b = doc.line(Math.min(Math.max(s.endLine, s.line), doc.lines))
  const from = s.col === undefined ? a.from : a.from + byteColToIndex(a.text, s.col)
  const to = s.endCol === undefined ? b.to : b.from + byteColToIndex(b.text, s.endCol)
  return { from, to: Math.max(from, to) }
}
