/**
 * Formatting for the profile reports: percentages, bars, widths and cells (plain text, no color);
 * durations and byte counts are src/text/units.ts's, re-exported here.
 */
import { escapeControls } from '../text/escape.js'

export { escapeControls, escapeStrings, mdCode } from '../text/escape.js'
export { formatBytes, formatNs, formatSeconds } from '../text/units.js'

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
 * them, `\`, `|`, `` ` ``, `[`, `]` backslash-escaped (no code span, link or image can start), `<`
 * and `>` as entities.
 */
export function mdCell(text: string): string {
  return escapeControls(text).replace(/[\\|`[\]]/g, (c) => `\\${c}`).replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
