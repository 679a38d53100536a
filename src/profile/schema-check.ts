/**
 * A small JSON Schema (draft 2020-12) checker for the keywords pyxray's profile schemas use
 * (schema/profile.schema.json, schema/profile-v1.schema.json, compiled into profile-schema.ts by
 * scripts/gen-profile-schema.mjs). It reports the first violation, as ajv does without allErrors,
 * and never recurses: a version-1 profile of a program that recursed 100,000 deep nests its
 * nodes 100,000 levels, and the checker walks them with a work list.
 *
 * Keywords: `type`, `const`, `enum`, `required`, `properties`, `additionalProperties` (false or
 * a schema), `items`, `prefixItems`, `minItems`, `minimum`, `maximum`, `exclusiveMinimum`,
 * `pattern`, `allOf`, `if` / `then` / `else` (the `if` is checked by a nested call: its depth is
 * the schema's nesting of `if`s, never the document's),
 * `format: "date-time"` (RFC 3339, as ajv-formats checks it) and local `$ref`s (`#/…` JSON
 * pointers); `$schema`, `$id`, `title`, `description` and `$defs` only annotate. Any other
 * keyword is an error of the schema, not of the document (the generator refuses it too).
 */

/** A JSON Schema, or a part of one. */
export type JsonSchema = { readonly [keyword: string]: unknown }

/** The keywords {@link schemaViolation} checks. */
export const CHECKED_KEYWORDS: ReadonlySet<string> = new Set([
  'type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'prefixItems',
  'minItems', 'minimum', 'maximum', 'exclusiveMinimum', 'pattern', 'format', '$ref', 'allOf', 'if', 'then', 'else',
])

/** Keywords that only annotate. */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set(['$schema', '$id', 'title', 'description', '$defs'])

/** The first place a value breaks its schema. */
export interface SchemaViolation {
  /** JSON Pointer of the offending value (`/threads/0/nodes/7/calls`; `` for the whole document). */
  readonly path: string
  /** What the schema expected there, for people: `expected integer or null`. */
  readonly expected: string
  /** The keyword that failed (`type`, `required`, `additionalProperties`, …). */
  readonly keyword: string
  /** The offending value (for `required` and `additionalProperties`: the object). */
  readonly value: unknown
}

/** A JSON path built only when needed: deep documents would otherwise copy long strings per level. */
export interface PathLink {
  readonly up: PathLink | undefined
  readonly key: string | number
}

/** The JSON Pointer of a path link (`~` and `/` escaped). */
export function pointerOf(link: PathLink | undefined): string {
  const keys: string[] = []
  for (let l = link; l; l = l.up) keys.push(String(l.key).replace(/~/g, '~0').replace(/\//g, '~1'))
  return keys.length === 0 ? '' : `/${keys.reverse().join('/')}`
}

function typeOk(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null
    case 'boolean':
      return typeof value === 'boolean'
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'string':
      return typeof value === 'string'
    case 'array':
      return Array.isArray(value)
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    default:
      throw new Error(`the schema names an unknown type "${type}"`)
  }
}

/** Structural equality of JSON values (for const and enum), iterative. */
function jsonEqual(a: unknown, b: unknown): boolean {
  const todo: [unknown, unknown][] = [[a, b]]
  while (todo.length > 0) {
    const [x, y] = todo.pop()!
    if (x === y) continue
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || Array.isArray(x) !== Array.isArray(y)) return false
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false
      x.forEach((v, i) => todo.push([v, y[i]]))
      continue
    }
    const kx = Object.keys(x)
    const oy = y as Record<string, unknown>
    if (kx.length !== Object.keys(oy).length) return false
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(oy, k)) return false
      todo.push([(x as Record<string, unknown>)[k], oy[k]])
    }
  }
  return true
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/

/** RFC 3339 date-time: a real calendar day, a real time of day, a time zone. */
export function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s)
  if (!m) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return false
  const zoneHours = m[10] === undefined ? 0 : Number(m[10])
  const zoneMinutes = m[11] === undefined ? 0 : Number(m[11])
  if (zoneHours > 23 || zoneMinutes > 59) return false
  if (hour <= 23 && minute <= 59 && second <= 59) return true
  // A leap second: 23:59:60 in UTC.
  if (second !== 60 || minute > 59 || hour > 23) return false
  const sign = m[9] === '-' ? -1 : 1
  const utc = (((hour * 60 + minute - sign * (zoneHours * 60 + zoneMinutes)) % 1440) + 1440) % 1440
  return utc === 23 * 60 + 59
}

/** The subschema a local `$ref` (`#/$defs/node`, `#/$defs/node/properties/calls`) points at. */
function resolve(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith('#')) throw new Error(`the schema has a non-local $ref ${ref}`)
  let cur: unknown = root
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[key] : undefined
  }
  if (typeof cur !== 'object' || cur === null) throw new Error(`the schema's $ref ${ref} points at nothing`)
  return cur as JsonSchema
}

const show = (v: unknown): string => JSON.stringify(v)

/**
 * A JSON value as a short one-line preview for an error message (at most 40 characters): nested
 * arrays and objects below the first level as `[…]` / `{…}`, so a value nested 100,000 deep costs
 * no recursion (JSON.stringify would overflow the stack).
 */
export function previewJson(v: unknown): string {
  const inner = (x: unknown): string => (Array.isArray(x) ? (x.length ? '[…]' : '[]') : x !== null && typeof x === 'object' ? (Object.keys(x).length ? '{…}' : '{}') : (JSON.stringify(x) ?? String(x)))
  let s: string
  if (Array.isArray(v)) s = `[${v.slice(0, 8).map(inner).join(',')}${v.length > 8 ? ',…' : ''}]`
  else if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v)
    s = `{${keys.slice(0, 8).map((k) => `${JSON.stringify(k)}:${inner((v as Record<string, unknown>)[k])}`).join(',')}${keys.length > 8 ? ',…' : ''}}`
  } else s = inner(v)
  return s.length > 40 ? `${s.slice(0, 37)}…` : s
}

/**
 * The first violation of `schema` by `value`, or undefined when it conforms. `root` is the
 * document schema that `$ref`s resolve against.
 */
export function schemaViolation(value: unknown, schema: JsonSchema, root: JsonSchema = schema): SchemaViolation | undefined {
  // Taken from the end; pushed in reverse so that members are checked in document order.
  const todo: [unknown, JsonSchema, PathLink | undefined][] = [[value, schema, undefined]]
  const fail = (path: PathLink | undefined, keyword: string, expected: string, v: unknown): SchemaViolation => ({ path: pointerOf(path), keyword, expected, value: v })
  while (todo.length > 0) {
    const [v, s, path] = todo.pop()!
    const later: [unknown, JsonSchema, PathLink | undefined][] = []
    const isObject = typeOk(v, 'object')
    for (const keyword in s) {
      const arg = s[keyword]
      switch (keyword) {
        case '$ref':
          later.push([v, resolve(root, arg as string), path])
          break
        case 'type': {
          const types = Array.isArray(arg) ? (arg as string[]) : [arg as string]
          if (!types.some((t) => typeOk(v, t))) return fail(path, keyword, `expected ${types.join(' or ')}`, v)
          break
        }
        case 'const':
          if (!jsonEqual(v, arg)) return fail(path, keyword, `expected ${show(arg)}`, v)
          break
        case 'enum':
          if (!(arg as unknown[]).some((e) => jsonEqual(v, e))) return fail(path, keyword, `expected one of ${(arg as unknown[]).map(show).join(', ')}`, v)
          break
        case 'required':
          if (isObject) for (const key of arg as string[]) if (!Object.prototype.hasOwnProperty.call(v, key)) return fail(path, keyword, `missing required property "${key}"`, v)
          break
        case 'properties':
          if (isObject) {
            const o = v as Record<string, unknown>
            for (const key in arg as Record<string, JsonSchema>) if (Object.prototype.hasOwnProperty.call(o, key)) later.push([o[key], (arg as Record<string, JsonSchema>)[key]!, { up: path, key }])
          }
          break
        case 'additionalProperties':
          if (isObject) {
            const known = (s.properties ?? {}) as Record<string, unknown>
            const o = v as Record<string, unknown>
            for (const key of Object.keys(o)) {
              if (Object.prototype.hasOwnProperty.call(known, key)) continue
              if (arg === false) return fail(path, keyword, `unexpected property "${key}" (not in the schema)`, v)
              if (arg !== true) later.push([o[key], arg as JsonSchema, { up: path, key }])
            }
          }
          break
        case 'prefixItems':
          if (Array.isArray(v)) (arg as JsonSchema[]).forEach((sub, i) => i < v.length && later.push([v[i], sub, { up: path, key: i }]))
          break
        case 'items':
          if (Array.isArray(v)) {
            const from = Array.isArray(s.prefixItems) ? s.prefixItems.length : 0
            for (let i = from; i < v.length; i++) later.push([v[i], arg as JsonSchema, { up: path, key: i }])
          }
          break
        case 'minItems':
          if (Array.isArray(v) && v.length < (arg as number)) return fail(path, keyword, `expected at least ${arg as number} item${arg === 1 ? '' : 's'}`, v)
          break
        case 'minimum':
          if (typeof v === 'number' && !(v >= (arg as number))) return fail(path, keyword, `expected a number >= ${arg as number}`, v)
          break
        case 'maximum':
          if (typeof v === 'number' && !(v <= (arg as number))) return fail(path, keyword, `expected a number <= ${arg as number}`, v)
          break
        case 'allOf':
          for (const sub of arg as JsonSchema[]) later.push([v, sub, path])
          break
        case 'if': {
          const branch = schemaViolation(v, arg as JsonSchema, root) === undefined ? s.then : s.else
          if (branch !== undefined) later.push([v, branch as JsonSchema, path])
          break
        }
        case 'then':
        case 'else':
          break // applied by `if`
        case 'exclusiveMinimum':
          if (typeof v === 'number' && !(v > (arg as number))) return fail(path, keyword, `expected a number > ${arg as number}`, v)
          break
        case 'pattern':
          if (typeof v === 'string' && !new RegExp(arg as string, 'u').test(v)) return fail(path, keyword, `expected a string matching ${arg as string}`, v)
          break
        case 'format':
          if (arg !== 'date-time') throw new Error(`the schema uses the format "${String(arg)}", which this checker does not know`)
          if (typeof v === 'string' && !isDateTime(v)) return fail(path, keyword, 'expected a date-time string', v)
          break
        default:
          if (!ANNOTATION_KEYWORDS.has(keyword)) throw new Error(`the schema uses the keyword "${keyword}", which this checker does not know`)
      }
    }
    for (let i = later.length - 1; i >= 0; i--) todo.push(later[i]!)
  }
  return undefined
}
