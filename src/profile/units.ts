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

/** Measures text in display cells; the CLI installs a terminal-aware one ({@link setTextWidth}). */
export type WidthFunction = (text: string) => number

/** Code points: right for text without wide characters (the default, no tables needed in the core). */
const codePoints: WidthFunction = (text) => [...text].length
let measure: WidthFunction = codePoints

/**
 * Installs the display-width function every layout of the core uses (tables, trees, wrapping,
 * truncation): the CLI passes one that knows East Asian wide characters, so a CJK qualname takes
 * two cells each and `--width` holds. Returns the previous one.
 */
export function setTextWidth(width: WidthFunction): WidthFunction {
  const previous = measure
  measure = width
  return previous
}

/** Made on first use: making it loads ICU's break rules (about 10 ms), which most runs never need. */
let graphemeSegmenter: Intl.Segmenter | undefined

/** The user-perceived characters of `text` (a base with its combining marks, an emoji sequence). */
function graphemes(text: string): string[] {
  return Array.from((graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text), (g) => g.segment)
}

/**
 * Text whose every character takes one cell by any width function (code points, string-width's
 * narrow default): printable ASCII, Latin-1 without the soft hyphen (µs, ±), Greek capitals and
 * small letters (Δ), general punctuation (…, –, •), arrows, mathematical operators (−, ≤), box
 * drawing and block elements (the bars). All are single UTF-16 units, so such text is cut by
 * index and measured by length, with no grapheme segmentation (which costs microseconds a
 * character: the indented lines of a 200,000-deep tree took seconds).
 */
export const ONE_CELL_EACH = /^[\x20-\x7e\xa0-\xac\xae-\xff\u0391-\u03a1\u03a3-\u03a9\u03b1-\u03c9\u2010-\u2027\u2190-\u22ff\u2500-\u259f]*$/

/** The longest start of `text` (whole graphemes) that fits `cells`; segments only as far as it needs. */
function fitStart(text: string, cells: number): string {
  if (ONE_CELL_EACH.test(text)) return text.slice(0, Math.max(0, cells))
  let out = ''
  let used = 0
  for (const { segment: g } of (graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text)) {
    const w = measure(g)
    if (used + w > cells) break
    out += g
    used += w
  }
  return out
}

/** The longest end of `text` (whole graphemes) that fits `cells`; segments only its end when that is enough. */
function fitEnd(text: string, cells: number): string {
  if (ONE_CELL_EACH.test(text)) return cells > 0 ? text.slice(-cells) : ''
  // When the last `span` code units do not all fit, the answer lies inside them (grapheme breaks
  // are local; only the cut first grapheme could differ, and it is not taken); when they all fit,
  // the whole text is measured.
  const span = cells * 8 + 16
  if (text.length > span) {
    const end = fitEndOf(text.slice(text.length - span), cells)
    if (!end.whole) return end.text
  }
  return fitEndOf(text, cells).text
}

/** {@link fitEnd} of `text`, and whether all of it fitted (its first grapheme may be cut). */
function fitEndOf(text: string, cells: number): { readonly text: string; readonly whole: boolean } {
  const parts = graphemes(text)
  let out = ''
  let used = 0
  for (let i = parts.length - 1; i >= 0; i--) {
    const w = measure(parts[i]!)
    if (used + w > cells) return { text: out, whole: false }
    out = parts[i]! + out
    used += w
  }
  return { text: out, whole: true }
}

/** `text` cut to `width` display cells with an ellipsis when wider. */
export function truncate(text: string, width: number): string {
  if (measure(text) <= width) return text
  if (width <= 0) return ''
  return `${fitStart(text, width - 1)}…`
}

/** `text` cut to its last `width` display cells with a leading ellipsis (paths: the end matters). */
export function truncateStart(text: string, width: number): string {
  if (measure(text) <= width) return text
  if (width <= 0) return ''
  return `…${fitEnd(text, width - 1)}`
}

/**
 * `text` broken into lines of at most `width` display cells at spaces; a word longer than a line is
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
    let rest = word
    while (measure(rest) > w) {
      // At least one grapheme per piece, even one wider than the line.
      const piece = fitStart(rest, w) || graphemes(rest)[0]!
      lines.push(piece)
      rest = rest.slice(piece.length)
    }
    line = rest
  }
  lines.push(line)
  return lines
}

/** Display width in cells, by the installed {@link WidthFunction}. */
export function textWidth(text: string): number {
  return measure(text)
}

/** Right-aligns `text` in `width` display cells. */
export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - textWidth(text))) + text
}

/** Left-aligns `text` in `width` display cells. */
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
