/**
 * Names from hostile input (a .pyc's co_qualname and co_filename, a profile's frames, source file
 * names, argv) made safe for pyxray's own text and Markdown output. Core: no Node APIs, no imports.
 */

/**
 * Characters a terminal or an editor would act on instead of showing: C0 controls and DEL, C1
 * controls (U+0080–U+009F: a terminal may take U+009B as CSI), the line and paragraph separators,
 * and the bidirectional formatting characters (U+061C, U+200E–U+200F, U+202A–U+202E,
 * U+2066–U+2069: "Trojan Source" reordering).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Python's escape of one character: `\t`, `\n`, `\r`, `\xNN` below U+0100, `\uNNNN` above. */
function pyEscape(c: string): string {
  if (c === '\t') return '\\t'
  if (c === '\n') return '\\n'
  if (c === '\r') return '\\r'
  const n = c.charCodeAt(0)
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
}

/**
 * `name` with every control, separator and bidi formatting character written as Python's repr
 * writes it (`\x1b`, `\n`, `\t`, `\r`, `\x7f`, `\x9b`, `\u2028`, `\u202e`); everything else, the
 * backslash included (Windows paths), unchanged. Ordinary names come back identical.
 */
export function escapeControls(name: string): string {
  return name.replace(UNSAFE, pyEscape)
}

/** A line of source text with {@link escapeControls} applied to everything but tabs (indentation). */
export function escapeLine(text: string): string {
  return text.replace(UNSAFE, (c) => (c === '\t' ? c : pyEscape(c)))
}

/**
 * An error message for the terminal: {@link escapeLine} on each line, the line breaks kept (a
 * syntax error shows its source line and a caret below it).
 */
export function escapeMessage(text: string): string {
  return text.split('\n').map(escapeLine).join('\n')
}

/**
 * `name` as a Markdown code span: controls escaped ({@link escapeControls}, so no newline ends a
 * table row), delimited by one backtick more than the longest backtick run inside, padded with a
 * space when it starts or ends with a backtick or a space (CommonMark strips one from each side).
 * In a table cell pass `inTable`: `|` becomes `\|`, which GFM reads as `|` even inside a span.
 */
export function mdCode(name: string, inTable = false): string {
  let text = escapeControls(name)
  if (inTable) text = text.replace(/\|/g, '\\|')
  let longest = 0
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
  const fence = '`'.repeat(longest + 1)
  const pad = text === '' || /^[` ]|[` ]$/.test(text) ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

/**
 * A copy of `value` with every string's controls escaped ({@link escapeControls}), for a view of a
 * whole document whose strings come from hostile input. Plain objects and arrays are copied; other
 * objects (typed arrays, class instances) are kept as they are. Iterative: no recursion proportional
 * to the input's nesting.
 */
export function escapeStrings<T>(value: T): T {
  const plain = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)
  const copyOf = (v: unknown): unknown => {
    if (typeof v === 'string') return escapeControls(v)
    if (!plain(v)) return v
    const copy: Record<string, unknown> = Array.isArray(v) ? (new Array<unknown>(v.length) as unknown as Record<string, unknown>) : {}
    todo.push([v, copy])
    return copy
  }
  const todo: [Record<string, unknown>, Record<string, unknown>][] = []
  const root = copyOf(value)
  while (todo.length > 0) {
    const [src, copy] = todo.pop()!
    for (const [k, v] of Object.entries(src)) copy[k] = copyOf(v)
  }
  return root as T
}
