/**
 * A small validator for the subset of JSON Schema (draft 2020-12) that schema/profile.schema.json
 * uses, so that tests check every profile the agent writes against the contract without a
 * validator dependency. Any other keyword is an error of this validator, not of the document.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A JSON Schema (sub)schema: keyword → argument. */
export type Schema = { [keyword: string]: unknown }

/** schema/profile.schema.json, parsed. */
export const PROFILE_SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'schema', 'profile.schema.json'), 'utf8')) as Schema

/** Keywords that only annotate. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs'])
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null
    case 'boolean':
      return typeof value === 'boolean'
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'string':
      return typeof value === 'string'
    case 'array':
      return Array.isArray(value)
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    default:
      throw new Error(`unknown type ${type} in the schema`)
  }
}

/**
 * Violations of `schema` by `value` (the subset of draft 2020-12 the profile schema uses; any
 * other keyword is an error of this validator, not of the document). Iterative: profiles of deep
 * recursion nest 10,000+ levels.
 */
export function schemaErrors(value: unknown, schema: Schema, root: Schema = schema): string[] {
  const errors: string[] = []
  const todo: [unknown, Schema, string][] = [[value, schema, '$']]
  while (todo.length > 0 && errors.length < 20) {
    const [v, s, path] = todo.pop()!
    const isObject = hasType(v, 'object')
    const object = v as { [key: string]: unknown }
    for (const [keyword, arg] of Object.entries(s)) {
      switch (keyword) {
        case '$ref': {
          const ref = String(arg)
          assert.ok(ref.startsWith('#/$defs/'), `unsupported $ref ${ref}`)
          const target = (root.$defs as { [name: string]: Schema })[ref.slice('#/$defs/'.length)]
          assert.ok(target, `unresolved $ref ${ref}`)
          todo.push([v, target, path])
          break
        }
        case 'type': {
          const types = Array.isArray(arg) ? (arg as string[]) : [String(arg)]
          if (!types.some((t) => hasType(v, t))) errors.push(`${path}: ${JSON.stringify(v)?.slice(0, 60)} is not ${types.join(' or ')}`)
          break
        }
        case 'const':
          if (JSON.stringify(v) !== JSON.stringify(arg)) errors.push(`${path}: must be ${JSON.stringify(arg)}`)
          break
        case 'enum':
          if (!(arg as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(v))) errors.push(`${path}: ${JSON.stringify(v)} not in ${JSON.stringify(arg)}`)
          break
        case 'required':
          if (isObject) for (const key of arg as string[]) if (!(key in object)) errors.push(`${path}: missing ${key}`)
          break
        case 'properties':
          if (isObject)
            for (const [key, sub] of Object.entries(arg as { [key: string]: Schema }))
              if (key in object) todo.push([object[key], sub, `${path}.${key}`])
          break
        case 'additionalProperties':
          if (isObject) {
            const known = new Set(Object.keys((s.properties as object | undefined) ?? {}))
            for (const key of Object.keys(object)) {
              if (known.has(key)) continue
              if (arg === false) errors.push(`${path}: unexpected property ${key}`)
              else todo.push([object[key], arg as Schema, `${path}.${key}`])
            }
          }
          break
        case 'items':
          if (Array.isArray(v)) v.forEach((item, i) => todo.push([item, arg as Schema, `${path}[${i}]`]))
          break
        case 'minimum':
          if (typeof v === 'number' && v < (arg as number)) errors.push(`${path}: ${v} < ${arg}`)
          break
        case 'exclusiveMinimum':
          if (typeof v === 'number' && v <= (arg as number)) errors.push(`${path}: ${v} <= ${arg}`)
          break
        case 'pattern':
          if (typeof v === 'string' && !new RegExp(String(arg), 'u').test(v)) errors.push(`${path}: ${JSON.stringify(v)} does not match ${arg}`)
          break
        case 'format':
          assert.equal(arg, 'date-time', `unsupported format ${arg}`)
          if (typeof v === 'string' && (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v)))) errors.push(`${path}: ${v} is not a date-time`)
          break
        default:
          assert.ok(ANNOTATIONS.has(keyword), `the validator does not know the keyword ${keyword}`)
      }
    }
  }
  return errors
}
