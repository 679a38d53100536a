/**
 * .pyc files: the header (PEP 552 and its predecessors) and the marshalled module code object.
 */
import { FLAG_REF, MarshalError, outputBudget, type PyCode, readMarshal, TypeCode } from '../marshal/index.js'
import { PycError } from './errors.js'
import { FINAL_MAGIC, MAGIC_HISTORY } from './magic-data.js'
import { has } from '../versions/index.js'

export { PycError, type PycErrorCode } from './errors.js'

/** Bits of the PEP 552 flags word. */
export const enum PycFlags {
  /** Set: the header holds a source hash; clear: mtime and source size. */
  HashBased = 1 << 0,
  /** With HashBased: the importer checks the hash against the source. */
  CheckSource = 1 << 1,
}

/** What a .pyc header says. */
export interface PycHeader {
  /** The magic number (uint16, little-endian in the file, followed by \r\n). */
  readonly magic: number
  /** The release the magic number belongs to, e.g. "3.12b1" or "3.12". */
  readonly release: string
  /** Python version the magic number belongs to. */
  readonly version: readonly [major: number, minor: number]
  /** PEP 552 flags (3.7+); 0 for older files. */
  readonly flags: number
  /** Source modification time, seconds since the epoch (timestamp-based pycs). */
  readonly mtime?: number
  /** Source size in bytes modulo 2**32 (3.3+ timestamp-based pycs). */
  readonly sourceSize?: number
  /** SipHash of the source, 8 bytes as hex (hash-based pycs). */
  readonly sourceHash?: string
  /** Header length in bytes: where the marshal data starts. */
  readonly byteLength: number
}

/** A parsed .pyc: its header (absent for raw marshal data) and the module's code object. */
export interface Pyc {
  readonly header?: PycHeader
  readonly version: readonly [major: number, minor: number]
  readonly code: PyCode
}

/** Options of {@link readPyc}. */
export interface ReadPycOptions {
  /** Read headerless marshal data written by this Python version ("X.Y") instead of a .pyc. */
  readonly pythonVersion?: string
  /**
   * The output budget (see marshal/limits.ts): the code tree, every back-reference counted as a
   * copy, may not expand to more objects and characters. Default: outputBudget(bytes.length).
   */
  readonly maxOutputBytes?: number
}

/** Python versions pyxray knows the magic numbers of, as "3.0"–"3.X" (the newest supported). */
export const KNOWN_VERSIONS: readonly string[] = Object.keys(FINAL_MAGIC)
  .map(Number)
  .sort((a, b) => a - b)
  .map((m) => `3.${m}`)

const byMagic = new Map(MAGIC_HISTORY.map((e) => [e.magic, e]))

/** The release a magic number belongs to, or undefined when it is not a known CPython 3 magic. */
export function lookupMagic(magic: number): { release: string; version: readonly [number, number] } | undefined {
  const e = byMagic.get(magic)
  if (!e) return undefined
  const final = FINAL_MAGIC[e.minor] === magic
  return { release: final ? `3.${e.minor}` : e.release, version: [3, e.minor] }
}

/** Parses "3.12" into [3, 12], or throws a PycError naming the accepted versions. */
export function parseVersion(text: string): readonly [number, number] {
  const m = /^3\.(\d{1,2})$/.exec(text.trim())
  if (!m || FINAL_MAGIC[Number(m[1])] === undefined) {
    throw new PycError(
      'PYC_UNSUPPORTED_VERSION',
      `unknown Python version "${text}": expected one of ${KNOWN_VERSIONS.join(', ')}`,
    )
  }
  return [3, Number(m[1])]
}

/** Reads and checks a .pyc header; throws PycError for a bad magic or a short file. */
export function readPycHeader(bytes: Uint8Array): PycHeader {
  if (bytes.length < 4) {
    throw new PycError('PYC_TRUNCATED', `file is ${bytes.length} byte(s) long; a .pyc header needs at least 16`, bytes.length)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint16(0, true)
  const known = lookupMagic(magic)
  if (!known || bytes[2] !== 0x0d || bytes[3] !== 0x0a) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')
    throw new PycError(
      'PYC_BAD_MAGIC',
      `unknown magic number ${magic} (bytes ${hex}) at byte 0: pyxray reads .pyc files of CPython ${KNOWN_VERSIONS[0]}–${KNOWN_VERSIONS.at(-1)}; pass --python-version X.Y if this is raw marshal data`,
      0,
    )
  }
  const [, minor] = known.version
  const need = has(minor, 'pycFlagsWord') ? 16 : has(minor, 'pycSourceSize') ? 12 : 8
  if (bytes.length < need) {
    throw new PycError('PYC_TRUNCATED', `file ends inside the ${need}-byte .pyc header of Python 3.${minor}`, bytes.length)
  }
  const base = { magic, release: known.release, version: known.version, byteLength: need }
  if (!has(minor, 'pycFlagsWord')) {
    return { ...base, flags: 0, mtime: view.getUint32(4, true), ...(has(minor, 'pycSourceSize') ? { sourceSize: view.getUint32(8, true) } : {}) }
  }
  const flags = view.getUint32(4, true)
  if (flags & ~(PycFlags.HashBased | PycFlags.CheckSource)) {
    throw new PycError('PYC_BAD_FLAGS', `invalid .pyc flags 0x${flags.toString(16)} at byte 4 (only bits 0 and 1 are defined)`, 4)
  }
  if (flags & PycFlags.HashBased) {
    const hash = Array.from(bytes.subarray(8, 16), (b) => b.toString(16).padStart(2, '0')).join('')
    return { ...base, flags, sourceHash: hash }
  }
  return { ...base, flags, mtime: view.getUint32(8, true), sourceSize: view.getUint32(12, true) }
}

/**
 * Reads a .pyc file (or, with `pythonVersion`, raw marshal data) into its header and code object.
 * Throws PycError (marshal problems are reported with their offset in the file), or LimitError
 * when back-references expand the code tree past the output budget.
 */
export function readPyc(bytes: Uint8Array, options: ReadPycOptions = {}): Pyc {
  const header = options.pythonVersion === undefined ? readPycHeader(bytes) : undefined
  const version = header?.version ?? parseVersion(options.pythonVersion ?? '')
  const start = header?.byteLength ?? 0
  // Anything but a code object is refused before it is read (a 20 MB tuple took 1.5 GB to refuse).
  const first = bytes[start]
  if (first !== undefined && (first & ~FLAG_REF) !== TypeCode.Code) {
    const code = first & ~FLAG_REF
    const name = code >= 0x20 && code < 0x7f ? ` ('${String.fromCharCode(code)}')` : ''
    throw new PycError('PYC_BAD_DATA', `the marshal data holds type code 0x${first.toString(16).padStart(2, '0')}${name}, not a code object`, start)
  }
  // Back-references let a few kilobytes stand for an astronomically large tree, which building
  // code objects and formatting constants would expand: the tree is bounded by the output budget
  // (real .pyc files expand to under 2× their size).
  const maxExpandedSize = outputBudget(bytes.length, options.maxOutputBytes)
  let result: ReturnType<typeof readMarshal>
  try {
    result = readMarshal(bytes, { pythonVersion: version, maxExpandedSize }, start)
  } catch (e) {
    if (e instanceof MarshalError) throw new PycError('PYC_BAD_DATA', e.message, e.byteOffset, { cause: e })
    throw e
  }
  if (result.value.type !== 'code') {
    throw new PycError('PYC_BAD_DATA', `the marshal data holds a ${result.value.type}, not a code object`, start)
  }
  if (result.endOffset !== bytes.length) {
    throw new PycError(
      'PYC_TRAILING_BYTES',
      `${bytes.length - result.endOffset} unexpected byte(s) after the code object at byte ${result.endOffset}`,
      result.endOffset,
    )
  }
  return { ...(header ? { header } : {}), version, code: result.value }
}
