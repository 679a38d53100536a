/** The terminal layout of a {@link Report}: header, flat table with bars, call tree, callers/callees. */
import type { Report, ReportHeader, ReportProcess, ReportRow, ReportTreeNode } from './report.js'
import { instructionLabel, instructionWhere } from './report-lines.js'
import { callsPerRun, halfSpread } from './report-runs.js'
import { bar, escapeControls as esc, formatBytes, formatNs, padEnd, padStart, textWidth, truncate, truncateStart, wrap } from './units.js'

/** Colors of the terminal reports; {@link PLAIN_REPORT} for none. */
export interface ReportStyle {
  readonly header: (s: string) => string
  readonly dim: (s: string) => string
  readonly bar: (s: string) => string
  readonly name: (s: string) => string
  /** Regressions, warnings. */
  readonly bad: (s: string) => string
  /** Improvements. */
  readonly good: (s: string) => string
}

const id = (s: string) => s

/** No colors. */
export const PLAIN_REPORT: ReportStyle = { header: id, dim: id, bar: id, name: id, bad: id, good: id }

/** Layout settings of the text reports. */
export interface TextLayout {
  /** Columns available (the terminal's, else 100). */
  readonly width: number
  readonly style: ReportStyle
}

const BAR = 10

/** ": 42.1 ms in all, 1.7 ms clamped at 3 nodes" (or nothing for profiles of older agents). */
export function overheadTotalsText(h: ReportHeader): string {
  const t = h.overheadTotals
  if (t === undefined) return ''
  return `: ${formatNs(t.subtractedNs)} in all${t.clampedNs > 0 ? `, ${formatNs(t.clampedNs)} clamped at ${t.clampedNodes} node${t.clampedNodes === 1 ? '' : 's'}` : ''}`
}

/** The header lines: profile, interpreter, argv, mode, duration, overhead, partial, warnings. */
export function formatHeader(h: ReportHeader, layout: TextLayout): string {
  const s = layout.style
  const lines: [string, string][] = [['profile', esc(h.name)]]
  lines.push(['python', esc(h.python)])
  lines.push(['argv', esc(h.argv.join(' '))])
  const mode = [`${h.mode}${h.tracer ? ` (${h.tracer})` : ''}`, `${h.clock} clock`]
  if (h.mode === 'sample' && h.intervalNs !== undefined) mode.push(`every ${formatNs(h.intervalNs)}, ${h.samples ?? 0} samples`)
  if (h.memory) mode.push('memory')
  lines.push(['mode', mode.join(', ')])
  const dur = [`${formatNs(h.durationNs)}`, `${h.threads.length} thread${h.threads.length === 1 ? '' : 's'}${h.threads.length > 1 ? ` (${esc(h.threads.join(', '))})` : ''}`]
  if (h.perRun) dur.push(`${h.runs} runs: ${formatNs(h.perRun.durationNs.median)} per run ±${formatNs(halfSpread(h.perRun.durationNs))}`)
  else if (h.runs > 1) dur.push(`${h.runs} runs, times summed`)
  lines.push(['duration', dur.join(', ')])
  if (h.perRun) lines.push(['runs', `times per run: medians ± half the ${h.perRun.spread === 'iqr' ? 'interquartile range' : 'range (min–max)'}; % of all runs`])
  if (h.mode === 'trace') {
    lines.push(['overhead', h.overheadNsPerEvent > 0 ? `${h.overheadNsPerEvent.toFixed(0)} ns/event subtracted${h.overheadSource ? ` (${h.overheadSource})` : ''}${overheadTotalsText(h)}` : `none subtracted${h.overheadSource ? ` (${h.overheadSource})` : ''}`])
  }
  if (h.exitStatus !== null && h.exitStatus !== 0) lines.push(['exit', `status ${h.exitStatus}`])
  const out = lines.map(([k, v]) => `${s.dim(padEnd(k, 9))}${truncate(v, layout.width - 9)}`)
  if (h.partial) out.push(`${s.bad(padEnd('partial', 9))}the run was cut short: the profile covers what ran until then`)
  for (const w of h.warnings) out.push(...wrap(esc(w), layout.width - 9).map((line, i) => `${i === 0 ? s.bad(padEnd('warning', 9)) : ' '.repeat(9)}${line}`))
  const differ = h.perRun?.callsDiffer ?? []
  if (differ.length) {
    const some = differ.slice(0, 3).map((d) => `${esc(d.label)} ${d.min}–${d.max}`)
    const text = `calls differ between runs in ${differ.length} function${differ.length === 1 ? '' : 's'} (${some.join(', ')}${differ.length > 3 ? ', …' : ''}): the runs did different work, so their times are not comparable`
    out.push(`${s.bad(padEnd('warning', 9))}${truncate(text, layout.width - 9)}`)
  }
  return `${out.join('\n')}\n`
}

interface Column {
  readonly title: string
  readonly width: number
  readonly cell: (r: ReportRow) => string
  readonly left?: boolean
}

function columns(report: Report, withBar: boolean): Column[] {
  const total = report.totalNs
  const memory = report.header.memory
  const allocs = memory && [...(report.functions ?? []), ...(report.neighbours ?? []), ...(report.target ? [report.target] : [])].some((r) => r.allocations !== undefined)
  const repeated = report.header.perRun !== undefined
  const spread = (v: (r: ReportRow) => number): Column => ({ title: '±', width: 8, cell: (r) => `±${formatNs(v(r))}` })
  const cols: Column[] = [
    { title: 'self', width: 9, cell: (r) => formatNs(r.perRun?.selfNs.median ?? r.selfNs) },
    ...(repeated ? [spread((r) => (r.perRun ? halfSpread(r.perRun.selfNs) : 0))] : []),
    { title: 'self%', width: 6, cell: (r) => `${r.selfPercent.toFixed(1)}` },
    { title: 'total', width: 9, cell: (r) => formatNs(r.perRun?.totalNs.median ?? r.totalNs) },
    ...(repeated ? [spread((r) => (r.perRun ? halfSpread(r.perRun.totalNs) : 0))] : []),
    { title: 'total%', width: 6, cell: (r) => `${r.totalPercent.toFixed(1)}` },
  ]
  if (withBar) {
    // Bars show the share of the time of all runs, as the % columns.
    const metric = (r: ReportRow) => (report.sort === 'self' ? r.selfNs / total : report.sort === 'total' ? r.totalNs / total : undefined)
    const rows = report.functions ?? []
    const maxCalls = Math.max(1, ...rows.map((r) => r.calls))
    const maxNet = Math.max(1, ...rows.map((r) => Math.abs(r.netBytes ?? 0)))
    const maxPeak = Math.max(1, ...rows.map((r) => r.peakBytes ?? 0))
    const frac = (r: ReportRow) =>
      metric(r) ?? (report.sort === 'calls' ? r.calls / maxCalls : report.sort === 'memory' ? Math.abs(r.netBytes ?? 0) / maxNet : (r.peakBytes ?? 0) / maxPeak)
    cols.push({ title: '', width: BAR, cell: (r) => bar(frac(r), BAR), left: true })
  }
  // Sample mode counts no calls: show how many samples saw the function instead.
  if (report.header.mode === 'sample') cols.push({ title: 'samples', width: 8, cell: (r) => String(r.perRun?.samples ?? r.samples ?? 0) })
  else cols.push({ title: repeated ? 'calls/run' : 'calls', width: repeated ? 11 : 8, cell: (r) => (r.perRun ? callsPerRun(r.perRun) : String(r.calls)) })
  if (memory) {
    cols.push({ title: 'net', width: 10, cell: (r) => (r.netBytes === undefined ? '' : formatBytes(r.perRun?.netBytes ?? r.netBytes)) })
    cols.push({ title: 'peak', width: 10, cell: (r) => (r.peakBytes === undefined ? '' : formatBytes(r.peakBytes)) })
    if (allocs) cols.push({ title: 'allocs', width: 9, cell: (r) => (r.allocations === undefined ? '' : String(r.allocations)) })
  }
  return cols
}

/** "label  location", cut to `width`: the location goes first, then the label is truncated. */
function fnCell(r: ReportRow, width: number, style: ReportStyle): string {
  const label = r.function === null ? '(thread root)' : esc(r.function.label)
  const loc = esc(r.function?.location ?? '')
  if (loc && textWidth(label) + 2 + textWidth(loc) <= width) return `${style.name(label)}  ${style.dim(loc)}`
  if (loc && textWidth(label) + 22 <= width) return `${style.name(label)}  ${style.dim(truncateStart(loc, width - textWidth(label) - 2))}`
  return style.name(truncate(label, width))
}

/** Columns are dropped in this order while the table is wider than the layout (function names keep 12). */
const OPTIONAL_COLUMNS = ['', '±']

/**
 * Tree views draw the branches of at most this many levels: deeper lines keep the branches of the
 * innermost levels after a `[+N]` mark counting the levels left out, so a line of a call path
 * 100,000 deep stays short (drawing every level would make the text grow with the square of the
 * depth). Trees shallower than this are drawn in full.
 */
export const TREE_INDENT_LEVELS = 100

/** The branches above a tree line: one 3-column segment per level, innermost last, shared by siblings. */
export interface TreeIndent {
  /** "│  " (more siblings below) or "   ". */
  readonly seg: string
  readonly up: TreeIndent | null
  /** Levels in this indent, this one included. */
  readonly levels: number
}

/** The indent `up` plus one level. */
export function indentMore(up: TreeIndent | null, seg: string): TreeIndent {
  return { seg, up, levels: (up?.levels ?? 0) + 1 }
}

/** An indent as text: every segment, or the last {@link TREE_INDENT_LEVELS} after a `[+N] ` mark. */
export function indentText(indent: TreeIndent | null): string {
  const parts: string[] = []
  let x = indent
  while (x !== null && parts.length < TREE_INDENT_LEVELS) {
    parts.push(x.seg)
    x = x.up
  }
  parts.reverse()
  return `${x !== null ? `[+${x.levels}] ` : ''}${parts.join('')}`
}

function table(report: Report, rows: readonly ReportRow[], layout: TextLayout, withBar: boolean): string[] {
  const s = layout.style
  let cols = columns(report, withBar)
  const fixedOf = (list: readonly Column[]) => list.reduce((n, c) => n + c.width + 1, 0)
  for (const title of OPTIONAL_COLUMNS) if (fixedOf(cols) + 13 > layout.width) cols = cols.filter((c) => c.title !== title)
  const fixed = fixedOf(cols)
  const fnWidth = Math.max(12, layout.width - fixed - 1)
  const head = `${cols.map((c) => (c.left ? padEnd(c.title, c.width) : padStart(c.title, c.width))).join(' ')}  function`
  const out = [s.header(head.trimEnd())]
  for (const r of rows) {
    const cells = cols.map((c) => {
      const v = c.cell(r)
      return c.left ? s.bar(padEnd(v, c.width)) : padStart(v, c.width)
    })
    out.push(`${cells.join(' ')}  ${fnCell(r, fnWidth, s)}`.trimEnd())
  }
  return out
}

function treeLines(report: Report, roots: NonNullable<Report['tree']>, layout: TextLayout): string[] {
  const s = layout.style
  const memory = report.header.memory
  const allocs = memory && roots.some((r) => r.allocations !== undefined)
  const sample = report.header.mode === 'sample'
  const repeated = report.header.perRun !== undefined
  const callsW = repeated && !sample ? 11 : 8
  const head = `${padStart('total%', 6)} ${padStart('total', 9)} ${padStart('self', 9)} ${padStart(sample ? 'samples' : repeated ? 'calls/run' : 'calls', callsW)}${memory ? ` ${padStart('net', 10)} ${padStart('peak', 10)}` : ''}${allocs ? ` ${padStart('allocs', 9)}` : ''}  function`
  const fixed = textWidth(head) - 'function'.length
  const out = [s.header(head)]
  const line = (n: ReportTreeNode, prefix: string, label?: string) => {
    const p = n.perRun
    const count = sample ? String(p?.samples ?? n.samples ?? 0) : p ? callsPerRun(p) : String(n.calls)
    const cells = `${padStart(n.totalPercent.toFixed(1), 6)} ${padStart(formatNs(p?.totalNs.median ?? n.totalNs), 9)} ${padStart(formatNs(p?.selfNs.median ?? n.selfNs), 9)} ${padStart(n.function === null ? '' : count, callsW)}`
    const mem =
      (memory ? ` ${padStart(n.netBytes === undefined ? '' : formatBytes(p?.netBytes ?? n.netBytes), 10)} ${padStart(n.peakBytes === undefined ? '' : formatBytes(n.peakBytes), 10)}` : '') +
      (allocs ? ` ${padStart(n.allocations === undefined ? '' : String(n.allocations), 9)}` : '')
    const room = Math.max(12, layout.width - fixed - textWidth(prefix))
    const name = n.function === null ? s.header(truncate(label !== undefined ? `thread ${esc(label)}` : '(thread root)', room)) : fnCell(n, room, s)
    out.push(`${cells}${mem}  ${s.dim(prefix)}${name}`.trimEnd())
  }
  // Iterative (trees of deep recursion nest 100,000+ levels): items are taken from the end, so a
  // node's children are pushed in reverse, its "… N more" line first.
  type Item = { readonly node: ReportTreeNode; readonly up: TreeIndent | null; readonly branch: string; readonly label?: string } | { readonly hidden: NonNullable<ReportTreeNode['hidden']>; readonly up: TreeIndent | null; readonly branch: string }
  const todo: Item[] = []
  for (let i = roots.length - 1; i >= 0; i--) {
    const r = roots[i]!
    todo.push({ node: r, up: null, branch: '', ...(r.thread !== undefined ? { label: r.thread } : {}) })
  }
  while (todo.length > 0) {
    const item = todo.pop()!
    const at = indentText(item.up)
    if ('hidden' in item) {
      const h = item.hidden
      const blank = `${' '.repeat(6)} ${padStart(formatNs(h.perRunNs ?? h.totalNs), 9)} ${' '.repeat(9)} ${' '.repeat(callsW)}${memory ? ' '.repeat(22) : ''}${allocs ? ' '.repeat(10) : ''}`
      out.push(`${blank}  ${s.dim(`${at}${item.branch}… ${h.count} more`)}`)
      continue
    }
    const n = item.node
    line(n, `${at}${item.branch}`, 'label' in item ? item.label : undefined)
    // The children's indent: this line's, plus a segment under its branch (none at the roots).
    const up = item.branch === '' ? item.up : indentMore(item.up, item.branch === '└─ ' ? '   ' : '│  ')
    const count = n.children.length + (n.hidden ? 1 : 0)
    if (n.hidden) todo.push({ hidden: n.hidden, up, branch: '└─ ' })
    for (let i = n.children.length - 1; i >= 0; i--) todo.push({ node: n.children[i]!, up, branch: i === count - 1 ? '└─ ' : '├─ ' })
  }
  return out
}

/** The report as terminal text. */
export function formatReportText(report: Report, layout: TextLayout): string {
  const s = layout.style
  const out: string[] = [formatHeader(report.header, layout).trimEnd()]
  const filters = [
    ...(report.focus !== undefined ? [`focus ${esc(report.focus)}`] : []),
    ...report.hide.map((h) => `hide ${esc(h)}`),
    ...(report.view === 'tree' && report.minPercent > 0 ? [`min ${report.minPercent}%`] : []),
  ]
  if (filters.length) out.push(`${s.dim(padEnd('filters', 9))}${filters.join(', ')}`)
  if (report.processes?.length) out.push(`${s.dim(padEnd('process', 9))}${truncate(processesSummary(report.processes), layout.width - 9)}`)
  const perRun = report.header.perRun
  if (perRun) out.push(`${s.dim(padEnd('total', 9))}${truncate(`${formatNs(perRun.totalNs.median)} per run ±${formatNs(halfSpread(perRun.totalNs))}; ${formatNs(report.totalNs)} in all runs = 100%`, layout.width - 9)}`)
  else if (report.sampleTotal !== undefined) out.push(`${s.dim(padEnd('total', 9))}${report.sampleTotal} samples = 100%`)
  else out.push(`${s.dim(padEnd('total', 9))}${formatNs(report.totalNs)} = 100%`)
  if (report.note !== undefined) out.push(...wrap(esc(report.note), layout.width - 9).map((line, i) => `${s.dim(padEnd(i === 0 ? 'note' : '', 9))}${line}`))
  out.push('')
  if (report.lines || report.instructions) {
    out.push(...sampleRows(report, layout))
  } else if (report.functions) {
    out.push(...table(report, report.functions, layout, true))
    const more = (report.functionCount ?? 0) - report.functions.length
    if (more > 0) out.push(s.dim(`… ${more} more function${more === 1 ? '' : 's'} (--top 0 shows all)`))
  } else if (report.tree) {
    // A loop, not push(...lines): the tree of deep recursion has more lines than a call takes arguments.
    for (const line of treeLines(report, report.tree, layout)) out.push(line)
  } else if (report.target && report.neighbours) {
    const word = report.view === 'callers' ? 'callers of' : 'callees of'
    out.push(...table(report, [report.target], layout, false))
    out.push('')
    const heading = `${word} ${esc(report.target.function?.label ?? '')}${report.view === 'callers' ? ' (time and calls of the function when called from each)' : ' (time and calls of each when called from it)'}`
    for (const line of wrap(heading, layout.width)) out.push(s.header(line))
    if (report.neighbours.length === 0) out.push(s.dim(report.view === 'callers' ? '(none: called only from outside the profile)' : '(none)'))
    else out.push(...table(report, report.neighbours, layout, false))
  }
  for (const p of report.processes ?? []) {
    out.push('', s.header(truncate(`── ${processHeading(p)} `.padEnd(layout.width, '─'), layout.width)))
    if (p.report) out.push(formatReportText(p.report, layout).trimEnd())
    else out.push(s.dim(`(not shown: ${esc(p.skipped ?? 'no report')})`))
  }
  return `${out.join('\n')}\n`
}

/**
 * The rows of --lines and --instructions: samples, share, where (file:line, or the instruction and
 * its span), the function, then the source (an instruction's exact span when known) to the width.
 */
function sampleRows(report: Report, layout: TextLayout): string[] {
  const s = layout.style
  const pctText = (p: number) => `${p.toFixed(1)}%`
  const rows: { samples: number; percent: number; cells: string[]; source: string }[] = report.lines
    ? report.lines.map((l) => ({ samples: l.samples, percent: l.percent, cells: [`${l.file}:${l.line}`, l.function.label], source: l.text?.trim() ?? '' }))
    : report.instructions!.map((i) => ({ samples: i.samples, percent: i.percent, cells: [instructionLabel(i), `${i.function.label} @${i.offset}`, instructionWhere(i)], source: (i.span ?? i.text)?.trim() ?? '' }))
  const titles = report.lines ? ['line', 'function'] : ['instruction', 'function @offset', 'where']
  if (rows.length === 0) return [s.dim(`(no ${report.lines ? 'line' : 'instruction'} samples)`)]
  // natural widths, the widest narrowed until the columns leave the source 16 columns at least
  const widths = titles.map((t, c) => Math.max(textWidth(t), ...rows.map((r) => textWidth(esc(r.cells[c]!)))))
  const budget = layout.width - 17 - 2 * titles.length - 16
  for (let sum = widths.reduce((a, b) => a + b, 0); sum > budget && Math.max(...widths) > 8; sum--) {
    const i = widths.indexOf(Math.max(...widths))
    widths[i] = widths[i]! - 1
  }
  const head = `${padStart('samples', 8)} ${padStart('%', 6)}  ${titles.map((t, c) => padEnd(t, widths[c]!)).join('  ')}  source`
  const out = [s.header(truncate(head, layout.width))]
  for (const r of rows) {
    // places keep their end (file:line:columns), names their start
    const place = report.lines ? 0 : 2
    const cells = r.cells.map((c, i) => padEnd((i === place ? truncateStart : truncate)(esc(c), widths[i]!), widths[i]!)).join('  ')
    out.push(truncate(`${padStart(String(r.samples), 8)} ${padStart(pctText(r.percent), 6)}  ${cells}  ${esc(r.source)}`, layout.width))
  }
  const count = report.lines ? report.lineCount : report.instructionCount
  const more = (count ?? 0) - rows.length
  if (more > 0) out.push(s.dim(`… ${more} more ${report.lines ? 'line' : 'instruction'}${more === 1 ? '' : 's'} (--top 0 shows all)`))
  return out
}

/** "process 1234 (child of 1200, exit 3): app.py --fast": a child process's heading. */
export function processHeading(p: ReportProcess): string {
  const facts = [...(p.parentPid !== undefined ? [`child of ${p.parentPid}`] : []), p.exitStatus === null ? 'replaced by exec' : `exit ${p.exitStatus}`, ...(p.partial ? ['partial'] : [])]
  return `process ${p.pid ?? '?'} (${facts.join(', ')}): ${esc(p.argv.join(' '))}`
}

/** The header's line about child processes: how many, and their exit statuses. */
export function processesSummary(processes: readonly ReportProcess[]): string {
  const failed = processes.filter((p) => p.exitStatus !== null && p.exitStatus !== 0).length
  return `${1 + processes.length} processes: this one and ${processes.length} child process${processes.length === 1 ? '' : 'es'} (each below)${failed ? `, ${failed} with a non-zero exit status` : ''}`
}
