/**
 * pyxray's JSON schemas compiled with ajv (a devDependency: tests only), to check documents and
 * the core's own schema checker against an independent validator.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv/dist/2020.js'

const require = createRequire(import.meta.url)

/** The schema files under schema/. */
export type SchemaName = 'profile.schema.json' | 'profile-v1.schema.json' | 'diff.schema.json'

/** A schema file, parsed. */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'schema', name), 'utf8')) as Record<string, unknown>
}

const validators = new Map<string, ValidateFunction>()

/** A compiled ajv validator (JSON Schema 2020-12, strict, with the date-time format) for a schema file. */
export function schemaValidator(name: SchemaName): ValidateFunction {
  let v = validators.get(name)
  if (!v) {
    // ajv and ajv-formats are CommonJS; require gives their constructors without interop guesswork.
    const Ajv2020 = (require('ajv/dist/2020.js') as { Ajv2020: new (o: object) => { compile(s: object): ValidateFunction } }).Ajv2020
    const addFormats = require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }
    // strictTuples off: a thread's nodes are a root then any number of nodes (prefixItems + items), not a tuple.
    const ajv = new Ajv2020({ allErrors: false, strict: true, strictTuples: false })
    addFormats.default(ajv, ['date-time'])
    v = ajv.compile(loadSchema(name))
    validators.set(name, v)
  }
  return v
}
