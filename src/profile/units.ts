/** Formatting of times, sizes, percentages and bars for the profile reports (plain text, no color). */
import { escapeControls } from '../text/escape.js'

export { escapeControls, escapeStrings, mdCode } from '../text/escape.js'

/** A duration in ns as 3 significant digits with a unit: "812 ns", "62.1 µs", "1.23 ms", "4.50 s". */
export function formatNs(ns: number): string {
  const sign = ns < 0 ? '-' : ''
  const a = Math.abs(ns)
  if (a < 1e3) return `${sign}${Math.round(a)} ns`
  const [v, unit] = a < 1e6 ? [a / 1e3, 'µs'] : a < 1e9 ? [a / 1e6, 'ms'] : [a / 1e9, 's']
  return `${sign}${sig3(v)} ${unit}`
}

/** A byte count with a binary unit: "512 B", "9.77 KiB", "1.20 MiB". */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  const a = Math.abs(bytes)
  if (a < 1024) return `${sign}${a} B`
  const [v, unit] = a < 1024 ** 2 ? [a / 1024, 'KiB'] : a < 1024 ** 3 ? [a / 1024 ** 2, 'MiB'] : [a / 1024 ** 3, 'GiB']
  return `${sign}${sig3(v)} ${unit}`
}

/** 3 significant digits, at least 1 before the point: 1.23, 12.3, 123, 1234. */
function sig3(v: number): string {
  if (v >= 100) return v.toFixed(0)
  if (v >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

/** A percentage with one decimal: "26.5%"; "0.0%" for a zero total. */
export function formatPercent(part: number, whole: number): string {
  return `${whole > 0 ? ((100 * part) / whole).toFixed(1) : '0.0'}%`
}

/** A signed relative change: "+30.2%", "-4.0%", "new", "gone". */
export function formatChange(base: number, head: number): string {
  if (base === 0) return head === 0 ? '0.0%' : 'new'
  if (head === 0) return 'gone'
  const r = ((head - base) / base) * 100
  return `${r >= 0 ? '+' : ''}${r.toFixed(1)}%`
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']

/** A horizontal bar of `width` cells for `fraction` (0–1), in eighths of a cell, padded with spaces. */
export function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0))
  const eighths = Math.round(f * width * 8)
  const full = Math.floor(eighths / 8)
  const text = '█'.repeat(full) + EIGHTHS[eighths % 8]!
  return text.padEnd(width)
}

/** `text` cut to `width` characters (code points) with an ellipsis when longer. */
export function truncate(text: string, width: number): string {
  const chars = [...text]
  if (chars.length <= width) return text
  if (width <= 0) return ''
  return `${chars.slice(0, width - 1).join('')}…`
}

/** `text` cut to its last `width` characters with a leading ellipsis (paths: the end matters). */
export function truncateStart(text: string, width: number): string {
  const chars = [...text]
  if (chars.length <= width) return text
  if (width <= 0) return ''
  return `…${chars.slice(chars.length - width + 1).join('')}`
}

/**
 * `text` broken into lines of at most `width` code points at spaces; a word longer than a line is
 * cut into pieces. Always at least one line.
 */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width)
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`
    if (textWidth(candidate) <= w) {
      line = candidate
      continue
    }
    if (line !== '') lines.push(line)
    let rest = [...word]
    while (rest.length > w) {
      lines.push(rest.slice(0, w).join(''))
      rest = rest.slice(w)
    }
    line = rest.join('')
  }
  lines.push(line)
  return lines
}

/** Length in code points (the reports use no wide characters). */
export function textWidth(text: string): number {
  return [...text].length
}

/** Right-aligns `text` in `width` code points. */
export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - textWidth(text))) + text
}

/** Left-aligns `text` in `width` code points. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - textWidth(text)))
}

/**
 * Escapes text for a GitHub-flavoured markdown table cell or paragraph: controls as Python writes
 * them; `\`, `|`, `` ` ``, `[`, `]`, `*`, `_`, `~` backslash-escaped (no code span, link, image,
 * emphasis or strike-through can start); `<`, `>` and `&` as entities (no HTML tag, autolink or
 * entity); a heading, list or setext marker at the start backslash-escaped. The text renders as itself.
 */
export function mdCell(text: string): string {
  return escapeControls(text)
    .replace(/&/g, '&amp;')
    .replace(/[\\|`[\]*_~]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^(\s*)([#=+-])(?=[\s#=+-]|$)/, '$1\\$2')
    .replace(/^(\s*\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
}
