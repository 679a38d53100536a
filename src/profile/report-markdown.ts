/** A {@link Report} as GitHub-flavoured markdown (PR comments, $GITHUB_STEP_SUMMARY). */
import type { Report, ReportRow } from './report.js'
import { formatReportText, PLAIN_REPORT } from './report-text.js'
import { bar, formatBytes, formatNs, mdCell } from './units.js'

function headerLines(r: Report): string[] {
  const h = r.header
  const facts = [
    `${h.python}`,
    `${h.mode}${h.tracer ? ` (${h.tracer})` : ''}, ${h.clock} clock`,
    `${formatNs(h.durationNs)}`,
    `${h.threads.length} thread${h.threads.length === 1 ? '' : 's'}`,
    ...(h.runs > 1 ? [`${h.runs} runs (times summed)`] : []),
    ...(h.mode === 'trace' ? [`overhead ${h.overheadNsPerEvent.toFixed(0)} ns/event subtracted`] : []),
  ]
  const out = [`### pyxray profile: \`${h.name}\``, '', `${facts.map(mdCell).join(' · ')}`, '', `\`${h.argv.join(' ').replace(/`/g, "'")}\``]
  if (h.partial) out.push('', '> **partial**: the run was cut short; the profile covers what ran until then')
  for (const w of h.warnings) out.push('', `> **warning**: ${mdCell(w)}`)
  return out
}

function rowsTable(r: Report, rows: readonly ReportRow[], withBar: boolean): string[] {
  const memory = r.header.memory
  const head = ['self', 'self %', 'total', 'total %', ...(withBar ? [''] : []), 'calls', ...(memory ? ['net', 'peak'] : []), 'function', 'location']
  const align = head.map((t, i) => (t === 'function' || t === 'location' || (withBar && i === 4) ? ':--' : '--:'))
  const out = [`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`]
  for (const x of rows) {
    const cells = [
      formatNs(x.selfNs),
      x.selfPercent.toFixed(1),
      formatNs(x.totalNs),
      x.totalPercent.toFixed(1),
      ...(withBar ? [`\`${bar((r.sort === 'total' ? x.totalPercent : x.selfPercent) / 100, 10).trimEnd()}\``] : []),
      String(x.calls),
      ...(memory ? [x.netBytes === undefined ? '' : formatBytes(x.netBytes), x.peakBytes === undefined ? '' : formatBytes(x.peakBytes)] : []),
      x.function === null ? '(thread root)' : `\`${x.function.label}\``,
      x.function?.location ? `\`${x.function.location}\`` : '',
    ]
    out.push(`| ${cells.map((c) => (c.startsWith('`') ? c.replace(/\|/g, '\\|') : mdCell(c))).join(' | ')} |`)
  }
  return out
}

/** The report as markdown: a header, then a table (flat, callers, callees) or the tree in a code block. */
export function formatReportMarkdown(r: Report): string {
  const out = headerLines(r)
  out.push('')
  if (r.functions) {
    out.push(...rowsTable(r, r.functions, r.sort === 'self' || r.sort === 'total'))
    const more = (r.functionCount ?? 0) - r.functions.length
    if (more > 0) out.push('', `… and ${more} more function${more === 1 ? '' : 's'}.`)
  } else if (r.tree) {
    // The tree keeps its text layout (a table cannot show nesting); wide so nothing is cut.
    const text = formatReportText({ ...r, header: { ...r.header, warnings: [], partial: false } }, { width: 160, style: PLAIN_REPORT })
    const body = text.slice(text.indexOf('\n\n') + 2)
    out.push('```', body.trimEnd(), '```')
  } else if (r.target && r.neighbours) {
    out.push(...rowsTable(r, [r.target], false), '', `**${r.view} of \`${r.target.function?.label ?? ''}\`**`, '')
    out.push(...(r.neighbours.length ? rowsTable(r, r.neighbours, false) : ['(none)']))
  }
  return `${out.join('\n')}\n`
}
