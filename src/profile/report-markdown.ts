/** A {@link Report} as GitHub-flavoured markdown (PR comments, $GITHUB_STEP_SUMMARY). */
import type { Report, ReportRow } from './report.js'
import { callsPerRun, halfSpread } from './report-runs.js'
import { formatReportText, overheadTotalsText, PLAIN_REPORT, processesSummary, processHeading } from './report-text.js'
import { bar, formatBytes, formatNs, mdCell, mdCode } from './units.js'
import { instructionLabel, instructionWhere } from './report-lines.js'

function headerLines(r: Report): string[] {
  const h = r.header
  const facts = [
    `${h.python}`,
    `${h.mode}${h.tracer ? ` (${h.tracer})` : ''}, ${h.clock} clock`,
    `${formatNs(h.durationNs)}`,
    `${h.threads.length} thread${h.threads.length === 1 ? '' : 's'}`,
    ...(h.perRun ? [`${h.runs} runs: times and calls per run (medians, ± half the ${h.perRun.spread === 'iqr' ? 'interquartile range' : 'range, min–max'}; % of all runs)`] : h.runs > 1 ? [`${h.runs} runs (times summed)`] : []),
    ...(h.mode === 'trace' ? [`overhead ${h.overheadNsPerEvent.toFixed(0)} ns/event subtracted${overheadTotalsText(h)}`] : []),
  ]
  const out = [`### pyxray profile: ${mdCode(h.name)}`, '', `${facts.map(mdCell).join(' · ')}`, '', mdCode(h.argv.join(' '))]
  if (h.partial) out.push('', '> **partial**: the run was cut short; the profile covers what ran until then')
  for (const w of h.warnings) out.push('', `> **warning**: ${mdCell(w)}`)
  const differ = h.perRun?.callsDiffer ?? []
  if (differ.length) {
    const list = differ.slice(0, 5).map((d) => `${mdCode(d.label)} ${d.min}–${d.max}`)
    out.push('', `> **warning**: calls differ between runs in ${differ.length} function${differ.length === 1 ? '' : 's'} (${list.join(', ')}${differ.length > 5 ? ', …' : ''}): the runs did different work, so their times are not comparable`)
  }
  return out
}

function rowsTable(r: Report, rows: readonly ReportRow[], withBar: boolean): string[] {
  const memory = r.header.memory
  const allocs = memory && rows.some((x) => x.allocations !== undefined)
  const repeated = r.header.perRun !== undefined
  const head = [
    'self',
    ...(repeated ? ['±'] : []),
    'self %',
    'total',
    ...(repeated ? ['±'] : []),
    'total %',
    ...(withBar ? [''] : []),
    repeated ? 'calls/run' : 'calls',
    ...(memory ? ['net', 'peak'] : []),
    ...(allocs ? ['allocs'] : []),
    'function',
    'location',
  ]
  const barAt = repeated ? 6 : 4
  const align = head.map((t, i) => (t === 'function' || t === 'location' || (withBar && i === barAt) ? ':--' : '--:'))
  const out = [`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`]
  for (const x of rows) {
    const p = x.perRun
    const cells = [
      formatNs(p?.selfNs.median ?? x.selfNs),
      ...(repeated ? [`±${formatNs(p ? halfSpread(p.selfNs) : 0)}`] : []),
      x.selfPercent.toFixed(1),
      formatNs(p?.totalNs.median ?? x.totalNs),
      ...(repeated ? [`±${formatNs(p ? halfSpread(p.totalNs) : 0)}`] : []),
      x.totalPercent.toFixed(1),
      ...(withBar ? [`\`${bar((r.sort === 'total' ? x.totalPercent : x.selfPercent) / 100, 10).trimEnd()}\``] : []),
      p ? callsPerRun(p) : String(x.calls),
      ...(memory ? [x.netBytes === undefined ? '' : formatBytes(p?.netBytes ?? x.netBytes), x.peakBytes === undefined ? '' : formatBytes(x.peakBytes)] : []),
      ...(allocs ? [x.allocations === undefined ? '' : String(x.allocations)] : []),
      x.function === null ? '(thread root)' : mdCode(x.function.label, true),
      x.function?.location ? mdCode(x.function.location, true) : '',
    ]
    // The last two cells are code spans already escaped for a table.
    out.push(`| ${cells.map((c, i) => (i >= cells.length - 2 || c.startsWith('`') ? c : mdCell(c))).join(' | ')} |`)
  }
  return out
}

/** The report as markdown: a header, then a table (flat, callers, callees) or the tree in a code block. */
export function formatReportMarkdown(r: Report): string {
  const out = headerLines(r)
  if (r.note !== undefined) out.push('', `> **note**: ${mdCell(r.note)}`)
  out.push('')
  if (r.lines) {
    out.push(`${r.sampleTotal ?? 0} samples = 100%`, '', '| samples | % | line | function | source |', '|---:|---:|---|---|---|')
    for (const l of r.lines) out.push(`| ${l.samples} | ${l.percent.toFixed(1)} | ${mdCode(`${l.file}:${l.line}`, true)} | ${mdCode(l.function.label, true)} | ${l.text?.trim() ? mdCode(l.text.trim(), true) : ''} |`)
    const more = (r.lineCount ?? 0) - r.lines.length
    if (more > 0) out.push('', `… and ${more} more line${more === 1 ? '' : 's'}.`)
  } else if (r.instructions) {
    out.push(`${r.sampleTotal ?? 0} samples = 100%`, '', '| samples | % | instruction | function @offset | where | source |', '|---:|---:|---|---|---|---|')
    for (const i of r.instructions) {
      const source = (i.span ?? i.text)?.trim()
      out.push(`| ${i.samples} | ${i.percent.toFixed(1)} | ${mdCode(instructionLabel(i), true)} | ${mdCode(`${i.function.label} @${i.offset}`, true)} | ${mdCode(instructionWhere(i), true)} | ${source ? mdCode(source, true) : ''} |`)
    }
    const more = (r.instructionCount ?? 0) - r.instructions.length
    if (more > 0) out.push('', `… and ${more} more instruction${more === 1 ? '' : 's'}.`)
  } else if (r.functions) {
    out.push(...rowsTable(r, r.functions, r.sort === 'self' || r.sort === 'total'))
    const more = (r.functionCount ?? 0) - r.functions.length
    if (more > 0) out.push('', `… and ${more} more function${more === 1 ? '' : 's'}.`)
  } else if (r.tree) {
    // The tree keeps its text layout (a table cannot show nesting); wide so nothing is cut.
    const text = formatReportText({ ...r, header: { ...r.header, warnings: [], partial: false } }, { width: 160, style: PLAIN_REPORT })
    const body = text.slice(text.indexOf('\n\n') + 2)
    // Fenced by more backticks than any run of them in a name: no name can close the block.
    const fence = '`'.repeat(Math.max(3, ...(body.match(/`+/g) ?? []).map((run) => run.length + 1)))
    out.push(fence, body.trimEnd(), fence)
  } else if (r.target && r.neighbours) {
    out.push(...rowsTable(r, [r.target], false), '', `**${r.view} of ${mdCode(r.target.function?.label ?? '')}**`, '')
    out.push(...(r.neighbours.length ? rowsTable(r, r.neighbours, false) : ['(none)']))
  }
  if (r.processes?.length) out.push('', `_${processesSummary(r.processes)}_`)
  for (const p of r.processes ?? []) {
    out.push('', `#### ${mdCell(processHeading(p))}`, '')
    out.push(p.report ? formatReportMarkdown(p.report).replace(/^### .*\n/, '').trimEnd() : `(not shown: ${mdCell(p.skipped ?? 'no report')})`)
  }
  return `${out.join('\n')}\n`
}
