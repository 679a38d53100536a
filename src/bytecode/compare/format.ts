/**
 * The text view of a compare document: a summary table (static counts, executed instructions,
 * time per run, the ratio), the specializations, then the aligned code — two columns for two
 * sides, stacked blocks per source line for more. Each instruction shows how often it ran, so hot
 * instructions stand out beside the static view.
 */
import { escapeStrings } from '../../text/escape.js'
import { PLAIN, type TextStyle } from '../format/text.js'
import type { CompareDocument, CompareInstruction, CompareRow, CompareSide } from './document.js'
import { formatSeconds } from '../../text/units.js'
import type { StaticSummary } from './summary.js'

/** Options of {@link formatCompareText}. */
export interface CompareTextOptions {
  /** Total width in columns (default 120). */
  readonly width?: number
  readonly style?: TextStyle
}

/** Display width of a string: one column per code point (good enough for code and ASCII source). */
const widthOf = (s: string) => [...s].length

/** Cuts or pads plain text to exactly `w` columns. */
function fit(s: string, w: number): string {
  const chars = [...s]
  if (chars.length > w) return `${chars.slice(0, Math.max(0, w - 1)).join('')}…`
  return s + ' '.repeat(w - chars.length)
}

/** A count in at most 6 columns: 7, 1234, 12.3k, 4.56M; '·' for never. */
export function formatCount(n: number | undefined): string {
  if (n === undefined) return ''
  if (n === 0) return '·'
  if (n < 10_000) return String(n)
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e5 ? 1 : 0)}k`
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e8 ? 2 : 0)}M`
  return `${(n / 1e9).toFixed(1)}G`
}

const COUNT_WIDTH = 6

/** One instruction as a plain-text cell (colors are added by {@link paintCell}). */
function cellText(side: CompareSide, i: CompareInstruction, showCounts: boolean): string {
  const count = showCounts ? `${formatCount(i.count).padStart(COUNT_WIDTH)} ` : ''
  const arg = i.argrepr ? ` ${i.argrepr.replace(/^<code object (\S+) at 0x[0-9a-f]+, file .*>$/, '<code object $1>')}` : ''
  const spec = i.specialized ? ` → ${i.specialized}` : ''
  const code = side.codes[0] && i.code !== side.codes[0].index ? `  [${side.codes.find((c) => c.index === i.code)?.qualname ?? i.code}]` : ''
  return `${count}${i.opname}${arg}${spec}${code}`
}

function sourceCell(side: CompareSide, line: number | null): string {
  if (line === null || line <= 0) return `${(line === null ? '' : String(line)).padStart(4)} │ (no source line)`
  const text = side.sourceLines?.[line - 1]?.trimEnd() ?? ''
  return `${String(line).padStart(4)} │ ${text}`
}

function summaryRows(doc: CompareDocument): [string, string[]][] {
  const s = (f: (x: StaticSummary) => string) => doc.sides.map((side) => f(side.static.total))
  const rows: [string, string[]][] = [
    ['python', doc.sides.map((x) => `${x.pythonVersion}${x.runtime ? ` (${x.runtime.kind})` : ''}`)],
    ['code objects', s((x) => String(x.codeObjects))],
    ['instructions', s((x) => String(x.instructions))],
    ['code bytes', s((x) => String(x.codeBytes))],
    ['max stack depth', s((x) => `${x.maxDepth} (co_stacksize ${x.stacksize})`)],
    ['constants', s((x) => String(x.constants))],
    ['names', s((x) => String(x.names))],
    ['locals', s((x) => String(x.locals))],
    ['jumps / loops', s((x) => `${x.jumps} / ${x.loops}`)],
    ['exception entries', s((x) => String(x.exceptionEntries))],
  ]
  if (doc.sides.some((x) => x.executed)) {
    rows.push(['executed instructions', doc.sides.map((x) => (x.executed ? String(x.executed.total) : '–'))])
  }
  if (doc.sides.some((x) => x.timing)) {
    rows.push([
      'time per run (median)',
      doc.sides.map((x) => (x.timing ? `${formatSeconds(x.timing.median)} ±${((x.timing.iqr / 2 / x.timing.median) * 100).toFixed(1)} %` : '–')),
    ])
    rows.push(['repeats × loops', doc.sides.map((x) => (x.timing ? `${x.timing.secondsPerLoop.length} × ${x.timing.loops}` : '–'))])
  }
  return rows
}

/** Formats a compare document for a terminal (or a file). */
export function formatCompareText(raw: CompareDocument, options: CompareTextOptions = {}): string {
  // Qualnames, targets, source lines and argument reprs come from the programs compared.
  const doc = escapeStrings(raw)
  const st = options.style ?? PLAIN
  const width = Math.max(60, options.width ?? 120)
  const out: string[] = []
  for (const side of doc.sides) {
    const what = side.call ? `${side.target}, running ${side.call}` : side.target
    out.push(`${st.header(side.label.padEnd(5))} ${what}${side.setup ? st.dim(`   setup: ${side.setup.replace(/\n/g, '; ')}`) : ''}`)
  }
  out.push('')
  // Summary table.
  const rows = summaryRows(doc)
  const nameW = Math.max(...rows.map(([n]) => n.length))
  const colW = doc.sides.map((side, k) => Math.max(side.label.length, ...rows.map(([, v]) => widthOf(v[k] ?? ''))))
  out.push(st.dim(`${' '.repeat(nameW)}  ${doc.sides.map((side, k) => side.label.padStart(colW[k]!)).join('  ')}`))
  for (const [name, values] of rows) out.push(`${name.padEnd(nameW)}  ${values.map((v, k) => v.padStart(colW[k]!)).join('  ')}`)
  out.push('')
  for (const c of doc.comparisons) {
    const other = doc.sides[c.side]!
    const first = doc.sides[0]!
    if (c.executedRatio !== null && first.executed && other.executed) {
      const r = c.executedRatio
      const detail = `(${first.label} ${first.executed.total} by ${first.executed.mechanism}, ${other.label} ${other.executed.total} by ${other.executed.mechanism})`
      if (first.executed.total === other.executed.total) out.push(`${first.label} and ${other.label} execute the same number of instructions ${detail}`)
      else out.push(`${r > 1 ? other.label : first.label} executes ${(r > 1 ? r : 1 / r).toFixed(2)}× fewer instructions ${detail}`)
    }
    if (c.timing) out.push(st.header(c.timing.text))
  }
  if (doc.comparisons.some((c) => c.timing)) {
    out.push(st.dim('timing: median of repeats (seconds per loop), ± half the IQR; ratio = median of all pairwise repeat ratios, ± half their IQR'))
  }
  for (const side of doc.sides) {
    if (side.specializations === null) continue
    const list = side.specializations.map((s) => `${s.opname} → ${s.specialized}${s.line !== null ? ` (line ${s.line})` : ''}`)
    const unique = [...new Set(list)]
    out.push(`${st.header(`specialized (${side.label}):`)} ${unique.length ? unique.join(', ') : 'none'}`)
  }
  out.push('')
  // Prose above fits the width (the table's rows are short; aligned rows are cut to fit).
  const wrapped = out.flatMap((l) => wrap(l, width))
  out.length = 0
  out.push(...wrapped)
  if (doc.sides.length === 2) twoColumns(doc, width, st, out)
  else stacked(doc, st, out)
  return `${out.join('\n')}\n`
}

/** Breaks a line longer than `width` at spaces, continuing with a two-space indent (escape codes counted as text). */
function wrap(line: string, width: number): string[] {
  if (widthOf(line) <= width) return [line]
  const out: string[] = []
  let current = ''
  for (const word of line.split(' ')) {
    const next = current ? `${current} ${word}` : word
    if (widthOf(next) > width && current.trim()) {
      out.push(current)
      current = `  ${word}`
    } else current = next
  }
  if (current) out.push(current)
  return out
}

const MARK: Record<string, string> = { same: ' ', changed: '~', a: '<', b: '>' }

function twoColumns(doc: CompareDocument, width: number, st: TextStyle, out: string[]): void {
  const [a, b] = doc.sides as [CompareSide, CompareSide]
  const colW = Math.floor((width - 3) / 2)
  const counts = doc.sides.some((s) => s.executed !== null)
  const line = (left: string, mark: string, right: string, paint: (s: string) => string = (x) => x) =>
    out.push(`${paint(fit(left, colW))} ${mark} ${paint(fit(right, colW))}`.trimEnd())
  line(`${a.label}: ${a.target}`, '│', `${b.label}: ${b.target}`, st.header)
  for (const row of doc.rows) {
    header(row, a, b, colW, st, out)
    for (const p of row.pairs ?? []) {
      const left = p.a === undefined ? '' : cellText(a, a.instructions[p.a]!, counts)
      const right = p.b === undefined ? '' : cellText(b, b.instructions[p.b]!, counts)
      const mark = MARK[p.kind]!
      out.push(`${fit(left, colW)} ${p.kind === 'same' ? ' ' : st.label(mark)} ${fit(right, colW)}`.trimEnd())
    }
  }
}

function header(row: CompareRow, a: CompareSide, b: CompareSide, colW: number, st: TextStyle, out: string[]): void {
  const [la, lb] = row.lines
  const left = row.instructions[0]!.length ? sourceCell(a, la ?? null) : ''
  const right = row.instructions[1]!.length ? sourceCell(b, lb ?? null) : ''
  out.push(st.source(`${fit(left, colW)} │ ${fit(right, colW)}`.trimEnd()))
}

function stacked(doc: CompareDocument, st: TextStyle, out: string[]): void {
  const labelW = Math.max(...doc.sides.map((s) => s.label.length))
  const counts = doc.sides.some((s) => s.executed !== null)
  for (const row of doc.rows) {
    const k = row.instructions.findIndex((list) => list.length > 0)
    if (k < 0) continue
    out.push(st.source(sourceCell(doc.sides[k]!, row.lines[k] ?? null)))
    doc.sides.forEach((side, s) => {
      const list = row.instructions[s]!
      if (list.length === 0) {
        out.push(`  ${st.label(side.label.padEnd(labelW))}  ${st.dim('(no code)')}`)
        return
      }
      list.forEach((index, n) => {
        const lead = n === 0 ? st.label(side.label.padEnd(labelW)) : ' '.repeat(labelW)
        out.push(`  ${lead}  ${cellText(side, side.instructions[index]!, counts)}`)
      })
    })
  }
}
