/**
 * Output under a budget (see marshal/limits.ts): the line-by-line formatters collect their lines
 * in {@link OutputLines}, JSON documents are measured by {@link jsonText} before they are
 * stringified — a LimitError (LIMIT_OUTPUT) instead of a RangeError or an exhausted heap.
 */
import { checkOutput, DEFAULT_MAX_OUTPUT_BYTES, OUTPUT_MAX_BYTES } from '../../marshal/limits.js'

/** Lines of text whose total length (newlines included, in UTF-16 code units) stays within a budget. */
export class OutputLines {
  private readonly lines: string[] = []
  private size = 0

  constructor(
    /** The budget in characters; default {@link DEFAULT_MAX_OUTPUT_BYTES}. */
    private readonly limit = DEFAULT_MAX_OUTPUT_BYTES,
    /** What is being made, for the error: "the stack table". */
    private readonly what = 'the text',
    /** Applied to every line before it is counted and kept (e.g. escaping controls). */
    private readonly map: (line: string) => string = (line) => line,
  ) {}

  get length(): number {
    return this.lines.length
  }

  /** Appends lines; throws LimitError once the text would exceed the budget. */
  push(...lines: string[]): void {
    for (const raw of lines) {
      const line = this.map(raw)
      this.size += line.length + 1
      checkOutput(this.size, this.limit, this.what)
      this.lines.push(line)
    }
  }

  /** The lines, each ended by a newline. */
  text(): string {
    return `${this.lines.join('\n')}\n`
  }
}

/**
 * `JSON.stringify(value, null, indent)` when its length stays within `limit` characters; a
 * LimitError otherwise, found by measuring the document first (linear in its number of values:
 * a string referenced a thousand times costs a thousand additions, not a thousand copies).
 * The measure counts bytes of memory: escapes at their length, and twice the characters of a
 * string that makes the text two-byte (a character above U+00FF).
 */
export function jsonText(value: unknown, indent: number | undefined, limit = DEFAULT_MAX_OUTPUT_BYTES, what = 'the JSON document'): string {
  limit = Math.min(limit, OUTPUT_MAX_BYTES)
  let size = 0
  const pad = indent ?? 0
  const strings = new Map<string, number>()
  const walk = (v: unknown, depth: number): void => {
    // The value, its separator and (pretty-printed) its line's indentation.
    size += 2 + (pad ? 1 + pad * depth : 0)
    if (typeof v === 'string') {
      // Long strings are measured once however often they occur (a repr referenced 1000×).
      if (v.length < 64) size += jsonStringSize(v)
      else {
        let n = strings.get(v)
        if (n === undefined) strings.set(v, (n = jsonStringSize(v)))
        size += n
      }
    }
    else if (typeof v === 'number') size += String(v).length
    else if (typeof v === 'boolean') size += 5
    else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) walk(v[i], depth + 1)
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>
      for (const k in o) {
        size += k.length + 4
        walk(o[k], depth + 1)
      }
    } else size += 4
    if (size > limit) checkOutput(size, limit, what)
  }
  walk(value, 0)
  const text = JSON.stringify(value, null, indent)
  checkOutput(text.length, limit, what)
  return text
}

const NEEDS_ESCAPE = /[\u0000-\u001f"\\]/
const WIDE = /[^\u0000-\u00ff]/

/** The bytes `s` takes in JSON text: quotes, escapes (\n, \u0001), ×2 when it has a character above U+00FF. */
function jsonStringSize(s: string): number {
  // Most strings need no escape and are one-byte: two native scans instead of a loop.
  if (!NEEDS_ESCAPE.test(s)) return WIDE.test(s) ? 2 * (s.length + 2) : s.length + 2
  let n = s.length + 2
  let wide = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20) n += 5
    else if (c === 0x22 || c === 0x5c) n += 1
    else if (c > 0xff) wide = true
  }
  return wide ? 2 * n : n
}
