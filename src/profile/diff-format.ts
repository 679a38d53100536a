/** Text and markdown layouts of a {@link ProfileDiff}. */
import { type FunctionDiff, INCONCLUSIVE_P_FACTOR, type NodeDiff, type ProfileDiff } from './diff.js'
import { indentMore, indentText, type ReportStyle, type TextLayout, type TreeIndent } from './report-text.js'
import { escapeControls as esc, formatBytes, formatNs, mdCell, mdCode, padEnd, padStart, textWidth, truncate, truncateStart, wrap } from './units.js'

/** How many rows of each section to show. */
export interface DiffLayout extends TextLayout {
  /** Function rows besides regressions and improvements (always all shown). */
  readonly top: number
  /** Show the call paths as one aligned tree instead of a list of the largest changes. */
  readonly tree?: { readonly minPercent: number; readonly depth?: number }
}

const signedNs = (ns: number) => (ns > 0 ? `+${formatNs(ns)}` : ns < 0 ? formatNs(ns) : '0')
const signedInt = (n: number) => (n > 0 ? `+${n}` : String(n))
// A function in both profiles whose base time is 0 is not new: its change has no percentage.
const changeText = (c: number | null, f: { base: unknown; head: unknown }) => (f.base === null ? 'new' : f.head === null ? 'gone' : c === null ? 'from 0' : `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`)
const signedBytes = (b: number) => (b > 0 ? `+${formatBytes(b)}` : formatBytes(b))
const pText = (p: number | null) => (p === null ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3))

function metricOf(d: ProfileDiff, v: { selfNs: number; totalNs: number } | null): number {
  return v === null ? 0 : d.options.metric === 'self' ? v.selfNs : v.totalNs
}

/** The rule line: what counts as a regression. */
export function describeRule(d: ProfileDiff): string {
  const o = d.options
  const pct = `${(o.threshold * 100).toFixed(0)}%`
  const test = o.test === 'mann-whitney' ? `, significantly beyond the threshold: p < ${o.alpha} (one-sided Mann-Whitney U over ${d.base.runs} vs ${d.head.runs} runs; large with p < ${+(INCONCLUSIVE_P_FACTOR * o.alpha).toPrecision(3)}: inconclusive)` : ' (single runs: no significance test)'
  return `${o.metric} time or the total changed by ≥ ${pct} and ≥ ${formatNs(o.minTimeNs)}, or a new function or call path adds ≥ ${pct} of the base total${test}`
}

/** One line naming a function finding (regression or inconclusive), for the gate's message. */
export function describeRegression(d: ProfileDiff, f: FunctionDiff): string {
  const where = f.file ? ` (${esc(f.file)})` : ''
  return `${esc(f.label)}${where}: ${d.options.metric} time ${changeText(f.change, f)} (${formatNs(metricOf(d, f.base))} → ${formatNs(metricOf(d, f.head))}${f.p !== null ? `, p = ${pText(f.p)}` : ''})`
}

/** One line naming a new call path the gate counts. */
export function describeNewPath(d: ProfileDiff, n: NodeDiff): string {
  const share = d.base.totalNs > 0 ? ` = ${((100 * (n.head?.totalNs ?? 0)) / d.base.totalNs).toFixed(1)}% of the base total` : ''
  return `new call path ${esc(n.path.join(' › '))}: +${formatNs(n.head?.totalNs ?? 0)}${share}${n.p !== undefined && n.p !== null ? `, p = ${pText(n.p)}` : ''}`
}

/** One line about the total time, for the gate's message. */
export function describeTotal(d: ProfileDiff): string {
  const c = d.total.change
  return `total time ${c === null ? 'new' : `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`} (${formatNs(d.base.totalNs)} → ${formatNs(d.head.totalNs)}${d.total.p !== null ? `, p = ${pText(d.total.p)}` : ''})`
}

/** Every finding of one kind (regression or inconclusive) as lines: functions, new paths, the total. */
export function gateFindings(d: ProfileDiff, kind: 'regression' | 'inconclusive'): string[] {
  return [
    ...d.functions.filter((f) => f.status === kind).map((f) => describeRegression(d, f)),
    ...d.nodes.filter((n) => n.gate === kind).map((n) => describeNewPath(d, n)),
    ...(d.total.status === kind ? [describeTotal(d)] : []),
  ]
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** The verdict in words: "2 regressions, 1 inconclusive (large but not significant: run more), 0 improvements". */
export function verdictText(d: ProfileDiff): string {
  const parts = [plural(d.regressions, 'regression')]
  if (d.inconclusive) parts.push(`${d.inconclusive} inconclusive (large but not significant: run more)`)
  parts.push(plural(d.improvements, 'improvement'))
  return parts.join(', ')
}

/** A right-aligned column of a diff table; `optional` columns go first when the table is too wide. */
interface DiffColumn<R> {
  readonly title: string
  readonly width: number
  readonly cell: (r: R) => string
  readonly optional?: boolean
}

/**
 * The columns that fit `width` with `room` columns left for the name: optional columns are
 * dropped, then columns shrink to their widest cell (never below the title).
 */
function fitColumns<R>(cols: readonly DiffColumn<R>[], rows: readonly R[], width: number, room: number): DiffColumn<R>[] {
  const size = (list: readonly DiffColumn<R>[]) => list.reduce((n, c) => n + c.width + 1, 0) + 1
  let out = [...cols]
  if (size(out) + room <= width) return out
  // A loop, not Math.max(...rows): a diff of deep recursion has 100,000+ rows (too many arguments).
  out = out.map((c) => ({ ...c, width: Math.min(c.width, rows.reduce((m, r) => Math.max(m, textWidth(c.cell(r))), textWidth(c.title))) }))
  for (const c of cols) if (c.optional && size(out) + room > width) out = out.filter((x) => x.title !== c.title)
  return out
}

function tableLines<R>(cols: readonly DiffColumn<R>[], rows: readonly R[], width: number, nameTitle: string, name: (r: R, room: number) => string, s: ReportStyle, color: (r: R) => (x: string) => string = () => (x) => x): string[] {
  const fitted = fitColumns(cols, rows, width, 12)
  const head = `${fitted.map((c) => padStart(c.title, c.width)).join(' ')}  ${nameTitle}`
  const fixed = textWidth(head) - nameTitle.length
  const out = [s.header(head)]
  for (const r of rows) out.push(`${color(r)(fitted.map((c) => padStart(c.cell(r), c.width)).join(' '))}  ${name(r, Math.max(12, width - fixed))}`)
  return out
}

function functionRows(d: ProfileDiff, rows: readonly FunctionDiff[], width: number, s: ReportStyle): string[] {
  const memory = rows.some((f) => f.delta.netBytes !== undefined)
  const dv = (f: FunctionDiff) => (d.options.metric === 'self' ? f.delta.selfNs : f.delta.totalNs)
  const cols: DiffColumn<FunctionDiff>[] = [
    { title: 'base', width: 9, cell: (f) => (f.base ? formatNs(metricOf(d, f.base)) : '–') },
    { title: 'head', width: 9, cell: (f) => (f.head ? formatNs(metricOf(d, f.head)) : '–') },
    { title: 'Δ', width: 10, cell: (f) => signedNs(dv(f)) },
    { title: 'Δ%', width: 9, cell: (f) => changeText(f.change, f) },
    // Without a significance test every p is "–": the first column to go when narrow.
    { title: 'p', width: 6, cell: (f) => pText(f.p), optional: d.options.test !== 'mann-whitney' },
    { title: 'calls', width: 15, cell: (f) => (f.callsChanged ? `${f.base?.calls ?? 0}→${f.head?.calls ?? 0}` : String(f.head?.calls ?? f.base?.calls ?? 0)) },
    ...(memory ? [{ title: 'Δ net', width: 11, cell: (f: FunctionDiff) => signedBytes(f.delta.netBytes ?? 0), optional: true }] : []),
    ...(rows.some((f) => f.delta.allocations !== undefined) ? [{ title: 'Δ allocs', width: 10, cell: (f: FunctionDiff) => signedInt(f.delta.allocations ?? 0), optional: true }] : []),
  ]
  const color = (f: FunctionDiff) => (f.status === 'regression' || f.status === 'inconclusive' ? s.bad : f.status === 'improvement' ? s.good : (x: string) => x)
  return tableLines(cols, rows, width, 'function', (f, room) => truncate(esc(f.file ? `${f.label}  ${f.file}` : f.label), room), s, color)
}

function nodeRows(rows: readonly NodeDiff[], width: number, s: ReportStyle): string[] {
  const memory = rows.some((n) => n.delta.netBytes !== undefined)
  const cols: DiffColumn<NodeDiff>[] = [
    { title: 'base', width: 9, cell: (n) => (n.base ? formatNs(n.base.totalNs) : '–') },
    { title: 'head', width: 9, cell: (n) => (n.head ? formatNs(n.head.totalNs) : '–') },
    { title: 'Δ total', width: 10, cell: (n) => signedNs(n.delta.totalNs) },
    { title: 'Δ self', width: 10, cell: (n) => signedNs(n.delta.selfNs), optional: true },
    { title: 'Δ calls', width: 8, cell: (n) => signedInt(n.delta.calls) },
    ...(memory ? [{ title: 'Δ net', width: 11, cell: (n: NodeDiff) => signedBytes(n.delta.netBytes ?? 0), optional: true }] : []),
    ...(rows.some((n) => n.delta.allocations !== undefined) ? [{ title: 'Δ allocs', width: 10, cell: (n: NodeDiff) => signedInt(n.delta.allocations ?? 0), optional: true }] : []),
  ]
  const name = (n: NodeDiff, width: number) => {
    const mark = n.gate === 'regression' ? '! ' : n.gate === 'inconclusive' ? '? ' : n.status === 'new' ? '+ ' : n.status === 'vanished' ? '- ' : '  '
    const path = esc(n.path.join(' › '))
    const room = width - 2
    // Keep the end of the path (the callee) when it is too long.
    return `${mark}${truncateStart(path, room)}`
  }
  return tableLines(cols, rows, width, 'call path', name, s)
}

/**
 * The call paths of both profiles as one tree (matched paths on one line), with base, head and the
 * changes; paths below `minPercent` % of the larger total in both profiles are folded into "… N more".
 */
export function diffTreeLines(d: ProfileDiff, o: { minPercent: number; depth?: number; width: number; style: ReportStyle }): string[] {
  const s = o.style
  const byParent = new Map<NodeDiff | null, NodeDiff[]>()
  for (const n of d.nodes) {
    const list = byParent.get(n.parent)
    if (list) list.push(n)
    else byParent.set(n.parent, [n])
  }
  const size = (n: NodeDiff) => Math.max(n.base?.totalNs ?? 0, n.head?.totalNs ?? 0)
  const limit = (o.minPercent / 100) * Math.max(d.base.totalNs, d.head.totalNs)
  const changeOf = (n: NodeDiff) => (n.base === null ? 'new' : n.head === null ? 'gone' : n.base.totalNs > 0 ? `${n.delta.totalNs >= 0 ? '+' : ''}${((100 * n.delta.totalNs) / n.base.totalNs).toFixed(1)}%` : '')
  const cols = fitColumns<NodeDiff>(
    [
      { title: 'base', width: 9, cell: (n) => (n.base ? formatNs(n.base.totalNs) : '–') },
      { title: 'head', width: 9, cell: (n) => (n.head ? formatNs(n.head.totalNs) : '–') },
      { title: 'Δ total', width: 10, cell: (n) => signedNs(n.delta.totalNs) },
      { title: 'Δ%', width: 8, cell: changeOf },
      { title: 'Δ calls', width: 8, cell: (n) => signedInt(n.delta.calls) },
    ],
    d.nodes,
    o.width,
    // Names and two levels of branches.
    12 + 6,
  )
  const head = `${cols.map((c) => padStart(c.title, c.width)).join(' ')}  call tree`
  const fixed = textWidth(head) - 'call tree'.length
  const out = [s.header(head)]
  // Iterative (call paths of deep recursion are 100,000+ levels): items are taken from the end,
  // so a level's lines are pushed in reverse, its "… N more" line first.
  type Item = { readonly node: NodeDiff; readonly up: TreeIndent | null; readonly last: boolean; readonly level: number } | { readonly more: number; readonly up: TreeIndent | null }
  const todo: Item[] = []
  const expand = (parent: NodeDiff | null, up: TreeIndent | null, level: number) => {
    const kids = [...(byParent.get(parent) ?? [])].sort((a, b) => size(b) - size(a))
    const deep = o.depth !== undefined && level >= o.depth
    const shown = deep ? [] : kids.filter((k) => size(k) >= limit)
    const hidden = kids.length - shown.length
    if (hidden > 0) todo.push({ more: hidden, up })
    for (let i = shown.length - 1; i >= 0; i--) todo.push({ node: shown[i]!, up, last: i === shown.length - 1 && hidden === 0, level })
  }
  expand(null, null, 0)
  while (todo.length > 0) {
    const item = todo.pop()!
    const prefix = indentText(item.up)
    if ('more' in item) {
      out.push(`${' '.repeat(fixed)}${s.dim(`${prefix}└─ … ${item.more} more`)}`)
      continue
    }
    const { node: n, up, last, level } = item
    const mark = n.gate === 'regression' ? '! ' : n.gate === 'inconclusive' ? '? ' : n.status === 'new' ? '+ ' : n.status === 'vanished' ? '- ' : ''
    const ratio = n.base && n.base.totalNs > 0 ? n.delta.totalNs / n.base.totalNs : 0
    const color = n.gate !== undefined || (n.base && n.head && Math.abs(n.delta.totalNs) >= d.options.minTimeNs && Math.abs(ratio) >= d.options.threshold) ? (n.gate !== undefined || ratio > 0 ? s.bad : s.good) : (x: string) => x
    const cells = cols.map((c) => padStart(c.cell(n), c.width)).join(' ')
    const branch = `${prefix}${last ? '└─ ' : '├─ '}`
    out.push(`${color(cells)}  ${s.dim(branch)}${truncate(`${mark}${esc(n.label)}`, Math.max(12, o.width - fixed - textWidth(branch)))}`)
    expand(n, indentMore(up, last ? '   ' : '│  '), level + 1)
  }
  return out
}

function pick(d: ProfileDiff, top: number): { gated: FunctionDiff[]; other: FunctionDiff[]; paths: NodeDiff[] } {
  const gated = d.functions.filter((f) => f.status === 'regression' || f.status === 'inconclusive' || f.status === 'improvement')
  const other = d.functions.filter((f) => !gated.includes(f) && (f.status !== 'unchanged' || f.delta.selfNs !== 0 || f.delta.totalNs !== 0 || f.callsChanged)).slice(0, top)
  // Paths the gate counts always show, then the largest other changes.
  const paths = [...d.nodes.filter((n) => n.gate !== undefined), ...d.nodes.filter((n) => n.gate === undefined && n.status !== 'unchanged').slice(0, top)]
  return { gated, other, paths }
}

/** The diff as terminal text: sides, rule, verdict, functions, call paths. */
export function formatDiffText(d: ProfileDiff, layout: DiffLayout): string {
  const s = layout.style
  const w = layout.width
  const sideLine = (label: string, x: ProfileDiff['base']) => `${s.dim(padEnd(label, 9))}${truncate(`${x.runs} run${x.runs === 1 ? '' : 's'}, ${esc(x.python)}, ${x.mode}, ${x.clock} clock: ${esc(x.name)}`, w - 9)}`
  // Header lines wrap at the width, continued under their text.
  const field = (key: string, text: string, keyStyle = s.dim, textStyle = (x: string) => x) =>
    wrap(text, w - 9).map((line, i) => `${i === 0 ? keyStyle(padEnd(key, 9)) : ' '.repeat(9)}${textStyle(line)}`)
  const out = [sideLine('base', d.base), sideLine('head', d.head)]
  out.push(...field('rule', describeRule(d)))
  const dt = d.head.totalNs - d.base.totalNs
  const totalMark = d.total.status === 'unchanged' ? '' : `: ${d.total.status}${d.total.p !== null ? ` (p = ${pText(d.total.p)})` : ''}`
  out.push(...field('total', `${formatNs(d.base.totalNs)} → ${formatNs(d.head.totalNs)} (${signedNs(dt)}${d.base.totalNs > 0 ? `, ${dt >= 0 ? '+' : ''}${((100 * dt) / d.base.totalNs).toFixed(1)}%` : ''})${totalMark}`))
  for (const x of d.warnings) out.push(...field('warning', esc(x), s.bad))
  out.push(...field('verdict', verdictText(d), s.dim, d.regressions || d.inconclusive ? s.bad : d.improvements ? s.good : (x) => x))
  const { gated, other, paths } = pick(d, layout.top)
  const title = (text: string) => s.header(truncate(text, w))
  out.push('')
  out.push(title(`functions (${d.options.metric} time${d.base.runs > 1 || d.head.runs > 1 ? '; medians over runs' : ''})`))
  if (gated.length + other.length === 0) out.push(s.dim('(no function changed)'))
  else out.push(...functionRows(d, [...gated, ...other], w, s))
  const newCount = d.nodes.filter((n) => n.status === 'new').length
  const goneCount = d.nodes.filter((n) => n.status === 'vanished').length
  out.push('')
  if (layout.tree) {
    out.push(title(`call tree (${d.nodes.length} paths: ${newCount} new (+), ${goneCount} vanished (-); below ${layout.tree.minPercent}% folded)`))
    // A loop, not push(...lines): the tree of deep recursion has more lines than a call takes arguments.
    for (const line of diffTreeLines(d, { ...layout.tree, width: w, style: s })) out.push(line)
  } else {
    out.push(title(`call paths (${d.nodes.length} in all: ${newCount} new (+; ! counted as a regression, ? inconclusive), ${goneCount} vanished (-); largest Δ total first)`))
    if (paths.length === 0) out.push(s.dim('(no call path changed)'))
    else out.push(...nodeRows(paths, w, s))
  }
  return `${out.join('\n')}\n`
}

/** The markdown title: the verdict, never "no regression" when a large change could not be judged. */
function markdownVerdict(d: ProfileDiff): string {
  const improvements = d.improvements ? `, ${plural(d.improvements, 'improvement')}` : ''
  if (d.regressions) return `❌ ${plural(d.regressions, 'regression')}${d.inconclusive ? `, ⚠️ ${d.inconclusive} inconclusive` : ''}${improvements}`
  if (d.inconclusive) return `⚠️ inconclusive: ${d.inconclusive} large change${d.inconclusive === 1 ? '' : 's'} not significant — run more${improvements}`
  return `✅ no regression${improvements}`
}

/** The diff as GitHub-flavoured markdown: verdict, function table, call paths. */
export function formatDiffMarkdown(d: ProfileDiff, top: number): string {
  const out = [`### pyxray diff: ${markdownVerdict(d)}`, '']
  const totalMark = d.total.status === 'unchanged' ? '' : ` (${d.total.status}${d.total.p !== null ? `, p = ${pText(d.total.p)}` : ''})`
  out.push(`base ${mdCode(d.base.name)} (${d.base.runs} run${d.base.runs === 1 ? '' : 's'}) → head ${mdCode(d.head.name)} (${d.head.runs} run${d.head.runs === 1 ? '' : 's'}) · total ${formatNs(d.base.totalNs)} → ${formatNs(d.head.totalNs)}${totalMark}`, '')
  out.push(`Rule: ${mdCell(describeRule(d))}.`)
  for (const x of d.warnings) out.push('', `> **warning**: ${mdCell(x)}`)
  const findings = [...gateFindings(d, 'regression').map((x) => `- ❌ ${mdCell(x)}`), ...gateFindings(d, 'inconclusive').map((x) => `- ⚠️ inconclusive (run more): ${mdCell(x)}`)]
  if (findings.length) out.push('', ...findings)
  const { gated, other, paths } = pick(d, top)
  out.push('', '| | function | file | base | head | Δ | Δ% | p | calls |', '| :-- | :-- | :-- | --: | --: | --: | --: | --: | --: |')
  for (const f of [...gated, ...other]) {
    const icon = f.status === 'regression' ? '🔴' : f.status === 'inconclusive' ? '🟡' : f.status === 'improvement' ? '🟢' : f.status === 'new' ? '🆕' : f.status === 'vanished' ? '➖' : ''
    const dv = d.options.metric === 'self' ? f.delta.selfNs : f.delta.totalNs
    const calls = f.callsChanged ? `${f.base?.calls ?? 0} → ${f.head?.calls ?? 0}` : String(f.head?.calls ?? 0)
    out.push(`| ${icon} | ${mdCode(f.label, true)} | ${mdCell(f.file)} | ${f.base ? formatNs(metricOf(d, f.base)) : '–'} | ${f.head ? formatNs(metricOf(d, f.head)) : '–'} | ${signedNs(dv)} | ${changeText(f.change, f)} | ${pText(f.p)} | ${calls} |`)
  }
  if (gated.length + other.length === 0) out.push('| | (no function changed) | | | | | | | |')
  if (paths.length) {
    out.push('', '<details><summary>call paths</summary>', '', '| path | base | head | Δ total | Δ calls |', '| :-- | --: | --: | --: | --: |')
    for (const n of paths) {
      const mark = n.gate === 'regression' ? '❌ (new) ' : n.gate === 'inconclusive' ? '⚠️ (new, inconclusive) ' : n.status === 'new' ? '(new) ' : n.status === 'vanished' ? '(vanished) ' : ''
      out.push(`| ${mark}${mdCell(n.path.join(' › '))} | ${n.base ? formatNs(n.base.totalNs) : '–'} | ${n.head ? formatNs(n.head.totalNs) : '–'} | ${signedNs(n.delta.totalNs)} | ${signedInt(n.delta.calls)} |`)
    }
    out.push('', '</details>')
  }
  return `${out.join('\n')}\n`
}
