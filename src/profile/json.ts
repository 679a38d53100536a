/**
 * JSON text of plain data without recursion: `JSON.stringify(value, null, indent)` byte for byte,
 * for values nested deeper than the JavaScript stack allows (the call tree of a program that
 * recursed 100,000 deep is 100,000 objects deep, and V8's JSON.stringify overflows near 10,000).
 * Plain data: objects (through their `toJSON` method when they have one), arrays, strings,
 * numbers, booleans and null; undefined and functions are left out of objects (null in arrays),
 * NaN and the infinities are null, as JSON.stringify does. Arrays and objects whose entries are
 * all scalars are written in one go (most of a diff's or a profile's text: call paths, values).
 *
 * Indented text of a deep tree grows with the square of its depth (each line is indented by its
 * level), so containers nested deeper than {@link JSON_INDENT_LEVELS} levels are written compactly
 * inside their indented parent: still JSON, the same values, and byte-identical to JSON.stringify
 * for anything shallower.
 */

/** Levels of nesting that are indented; deeper containers are compact. */
export const JSON_INDENT_LEVELS = 64

/** One open array or object: its entries and how far they are written. */
interface Open {
  readonly close: string
  readonly keys: readonly string[] | null
  readonly values: readonly unknown[]
  next: number
  /** Entries written so far (undefined values of objects are skipped). */
  written: number
  readonly indent: string
  /** This container's entries go on their own lines. */
  readonly pretty: boolean
}

const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol'

/** A value JSON.stringify writes by itself as it stands (non-finite numbers as null). */
const scalar = (v: unknown) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** Entries of an array or object of scalars only, one a line at `inner` when pretty; null when some entry is not a scalar. */
function flatText(v: object, inner: string, pretty: boolean): string | null {
  const parts: string[] = []
  if (Array.isArray(v)) {
    for (const x of v) {
      if (!scalar(x)) return null
      parts.push(JSON.stringify(x))
    }
  } else {
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return null
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k]
      if (skipped(x)) continue
      if (!scalar(x)) return null
      parts.push(`${JSON.stringify(k)}:${pretty ? ' ' : ''}${JSON.stringify(x)}`)
    }
  }
  return pretty ? parts.map((p) => `\n${inner}${p}`).join(',') : parts.join(',')
}

/** The JSON text would be longer than the limit given to {@link toJsonText}. */
export class JsonSizeError extends Error {
  override readonly name = 'JsonSizeError'
  constructor(readonly limit: number) {
    super(`the JSON text would exceed ${(limit / 2 ** 20).toFixed(1)} MiB`)
  }
}

/**
 * `value` as JSON text, as `JSON.stringify(value, null, indent)` writes it (indent 0: compact).
 * Past `limit` characters it stops with a {@link JsonSizeError} (checked as the text is made).
 */
export function toJsonText(value: unknown, indent = 0, limit = Infinity): string {
  // Text is gathered in chunks (an array of every piece would pass V8's array size limit for big trees).
  const out: string[] = []
  writeJsonText(value, (chunk) => out.push(chunk), indent, limit)
  return out.join('')
}

/**
 * {@link toJsonText}'s text given to `sink` in pieces of about 64 KiB, as it is made: a large
 * document goes to a file without ever being one string (the 264 MB JSON of a 200,000-deep diff
 * held 1.3 GB as chunks, their join and its UTF-8 copy). Past `limit` characters it throws a
 * {@link JsonSizeError}; what `sink` took by then is a cut-off start.
 */
export function writeJsonText(value: unknown, sink: (chunk: string) => void, indent = 0, limit = Infinity): void {
  const pad = ' '.repeat(indent)
  let chunk = ''
  let size = 0
  const emit = (text: string) => {
    chunk += text
    if (chunk.length > 1 << 16) {
      size += chunk.length
      if (size > limit) throw new JsonSizeError(limit)
      sink(chunk)
      chunk = ''
    }
  }
  const stack: Open[] = []
  /** Writes a scalar, or opens a container (its entries follow). */
  const put = (value: unknown, at: string, pretty: boolean) => {
    // An object's own JSON form first, as JSON.stringify takes it (diff paths, dates).
    const v = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON: (key: string) => unknown }).toJSON('') : value
    if (v === null || typeof v !== 'object') {
      emit(typeof v === 'number' && !Number.isFinite(v) ? 'null' : skipped(v) ? 'null' : JSON.stringify(v))
      return
    }
    const flat = flatText(v, at + pad, pretty)
    if (flat !== null) {
      const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}']
      emit(flat === '' ? open + close : pretty ? `${open}${flat}\n${at}${close}` : `${open}${flat}${close}`)
      return
    }
    if (Array.isArray(v)) {
      if (v.length === 0) {
        emit('[]')
        return
      }
      emit('[')
      stack.push({ close: ']', keys: null, values: v, next: 0, written: 0, indent: at, pretty })
      return
    }
    const keys = Object.keys(v)
    const rec = v as Record<string, unknown>
    if (keys.every((k) => skipped(rec[k]))) {
      emit('{}')
      return
    }
    emit('{')
    stack.push({ close: '}', keys, values: keys.map((k) => rec[k]), next: 0, written: 0, indent: at, pretty })
  }
  put(value, '', indent > 0)
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!
    const inner = top.indent + pad
    if (top.keys !== null) while (top.next < top.values.length && skipped(top.values[top.next])) top.next++
    if (top.next >= top.values.length) {
      stack.pop()
      emit(top.pretty ? `\n${top.indent}${top.close}` : top.close)
      continue
    }
    const i = top.next++
    if (top.written++ > 0) emit(',')
    if (top.pretty) emit(`\n${inner}`)
    if (top.keys !== null) emit(`${JSON.stringify(top.keys[i])}:${top.pretty ? ' ' : ''}`)
    put(top.values[i], inner, top.pretty && stack.length < JSON_INDENT_LEVELS)
  }
  if (size + chunk.length > limit) throw new JsonSizeError(limit)
  sink(chunk)
}
