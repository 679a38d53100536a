/**
 * Reading profile documents from disk: the file is read, parsed as JSON and validated against
 * schema/profile.schema.json (JSON Schema 2020-12, with ajv) before the core model sees it. Every
 * problem is a {@link ProfileFileError} naming the file, and for schema errors the JSON path and
 * what was expected.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import type { ProfileDocument } from '../profile/document.js'

/** What went wrong with a profile file. */
export type ProfileFileErrorCode =
  /** The file cannot be read (missing, a folder, no permission). */
  | 'PROFILE_UNREADABLE'
  /** The file is not JSON. */
  | 'PROFILE_NOT_JSON'
  /** JSON, but not a pyxray profile document. */
  | 'PROFILE_NOT_PROFILE'
  /** A pyxray profile of a version this pyxray does not read. */
  | 'PROFILE_VERSION'
  /** A profile that breaks the schema (the message names the JSON path). */
  | 'PROFILE_INVALID'

/** A profile file pyxray cannot use; the CLI prints the message and exits with status 2. */
export class ProfileFileError extends Error {
  override readonly name = 'ProfileFileError'
  constructor(
    readonly code: ProfileFileErrorCode,
    message: string,
    /** The file the problem is in. */
    readonly file: string,
    /** JSON Pointer of the offending value (PROFILE_INVALID), e.g. /threads/0/root/calls. */
    readonly jsonPath?: string,
  ) {
    super(message)
  }
}

/** The profile document versions this pyxray reads. */
export const SUPPORTED_PROFILE_VERSIONS: readonly number[] = [1]

const require = createRequire(import.meta.url)

/** The JSON schemas of pyxray's documents, by file name under schema/. */
export function loadSchema(name: 'profile.schema.json' | 'diff.schema.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../schema/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>
}

const validators = new Map<string, ValidateFunction>()

/** A compiled validator for one of pyxray's schemas (compiled once per process). */
export function schemaValidator(name: 'profile.schema.json' | 'diff.schema.json'): ValidateFunction {
  let v = validators.get(name)
  if (!v) {
    // ajv and ajv-formats are CommonJS; require gives their constructors without interop guesswork.
    const Ajv2020 = (require('ajv/dist/2020.js') as { Ajv2020: new (o: object) => { compile(s: object): ValidateFunction } }).Ajv2020
    const addFormats = require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }
    const ajv = new Ajv2020({ allErrors: false, strict: true })
    addFormats.default(ajv, ['date-time'])
    v = ajv.compile(loadSchema(name))
    validators.set(name, v)
  }
  return v
}

/** One line saying what the schema expected at the failing place. */
export function describeSchemaError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'additionalProperty':
    case 'additionalProperties':
      return `unexpected property "${String(p.additionalProperty)}" (not in the schema)`
    case 'required':
      return `missing required property "${String(p.missingProperty)}"`
    case 'enum':
      return `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'const':
      return `expected ${JSON.stringify(p.allowedValue)}`
    case 'type':
      return `expected ${String(p.type).replace(/,/g, ' or ')}`
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `expected a number ${String(p.comparison)} ${String(p.limit)}`
    case 'format':
      return `expected a ${String(p.format)} string`
    case 'pattern':
      return `expected a string matching ${String(p.pattern)}`
    default:
      return `expected a value that ${(e.message ?? 'matches the schema').replace(/^must /, 'does ')}`
  }
}

/** The value at a JSON Pointer, for the error message. */
function valueAt(doc: unknown, pointer: string): unknown {
  let cur = doc
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function preview(v: unknown): string {
  const s = JSON.stringify(v)
  if (s === undefined) return String(v)
  return s.length > 40 ? `${s.slice(0, 37)}…` : s
}

/**
 * Checks parsed JSON against the profile schema; returns it typed, or throws a
 * {@link ProfileFileError} naming `file`, the JSON path and what was expected.
 */
export function validateProfile(doc: unknown, file: string): ProfileDocument {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || (doc as { pyxray?: unknown }).pyxray !== 'profile') {
    throw new ProfileFileError('PROFILE_NOT_PROFILE', `${file}: not a pyxray profile (no "pyxray": "profile" at the top); write one with pyxray profile -o FILE script.py`, file)
  }
  const version = (doc as { version?: unknown }).version
  if (typeof version !== 'number' || !SUPPORTED_PROFILE_VERSIONS.includes(version)) {
    throw new ProfileFileError(
      'PROFILE_VERSION',
      `${file}: profile version ${JSON.stringify(version)} is not supported: this pyxray reads version ${SUPPORTED_PROFILE_VERSIONS.join(', ')}; use the pyxray that wrote it, or profile again`,
      file,
    )
  }
  const validate = schemaValidator('profile.schema.json')
  if (!validate(doc)) {
    const e = validate.errors![0]!
    const path = e.instancePath || '/'
    const got = e.keyword === 'required' || e.keyword.startsWith('additional') ? '' : ` (got ${preview(valueAt(doc, e.instancePath))})`
    throw new ProfileFileError('PROFILE_INVALID', `${file}: invalid profile at ${path}: ${describeSchemaError(e)}${got}`, file, path)
  }
  return doc as ProfileDocument
}

/** Parses and validates a profile document given as text (`file` names it in messages). */
export function parseProfile(text: string, file: string): ProfileDocument {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new ProfileFileError('PROFILE_NOT_JSON', `${file}: not JSON (${e instanceof Error ? e.message : String(e)}); a profile is the JSON file pyxray profile -o writes`, file)
  }
  return validateProfile(doc, file)
}

/** Reads, parses and validates a profile document; every problem is a {@link ProfileFileError}. */
export function readProfileFile(path: string): ProfileDocument {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a profile file' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e)
    throw new ProfileFileError('PROFILE_UNREADABLE', `${path}: cannot read the profile: ${why}`, path)
  }
  return parseProfile(text, path)
}
