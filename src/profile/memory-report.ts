/**
 * Reports of memory documents (leak checks, deep sizes, retention paths, line-level memory, type
 * growth) as plain text, markdown or JSON. Core module: no Node APIs.
 */
import type { GrowthResult, LeakSite, LeaksResult, LinesResult, MemoryDocument, PathResult, SizeResult } from './memory-document.js'
import { escapeStrings, formatBytes, mdCell, mdCode } from './units.js'

/** Output formats of the memory reports. */
export const MEMORY_FORMATS = ['text', 'json', 'markdown'] as const
/** An output format of the memory reports. */
export type MemoryFormat = (typeof MEMORY_FORMATS)[number]

/**
 * Whether a leak check fails a CI gate: a leak verdict with at least `thresholdBytes` per
 * iteration (default: the check's own minimum growth).
 */
export function leakGateFails(leaks: LeaksResult, thresholdBytes?: number): boolean {
  return leaks.leak && leaks.bytesPerIteration >= (thresholdBytes ?? leaks.minGrowthBytes)
}

const basename = (path: string) => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1)

/** A table: columns padded to their widest cell; `right` columns aligned right. */
function table(rows: readonly (readonly string[])[], right: ReadonlySet<number>): string {
  if (rows.length === 0) return ''
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n'
}

/** A markdown table; cells in `codeColumns` become code spans, the others escaped text. */
function mdTable(head: readonly string[], rows: readonly (readonly string[])[], codeColumns: ReadonlySet<number> = new Set()): string {
  const cell = (c: string, i: number) => (codeColumns.has(i) ? (c ? mdCode(c, true) : '') : mdCell(c))
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n') + '\n'
}

const code = (s: string) => (s ? mdCode(s) : '')

/** Where a site is: its file's base name (taken by {@link renderMemoryReport} before escaping) and line. */
function siteWhere(s: LeakSite): string {
  return `${s.file ?? '?'}:${s.line ?? 0}`
}

function leaksText(r: LeaksResult, md: boolean): string {
  const out: string[] = []
  const summary = `${r.iterations} iterations after ${r.warmup} warm-up: ${formatBytes(r.bytesPerIteration)}/iteration net (slope ${formatBytes(r.slopeBytesPerIteration)}, second half ${formatBytes(r.lateSlopeBytesPerIteration)}, r² ${r.r2.toFixed(2)}; a leak needs steady growth of at least ${formatBytes(r.minGrowthBytes)})`
  if (md) {
    out.push(`## Leak check: ${r.leak ? '**leak**' : 'no leak'}\n\n${mdCell(r.verdict)}\n\n${summary}\n`)
    if (r.sites.length) {
      out.push('\n### Growth by line\n\n')
      out.push(mdTable(['per iteration', 'blocks/it', 'where', 'source'], r.sites.map((s) => [formatBytes(s.bytesPerIteration), s.countPerIteration.toFixed(1), siteWhere(s), s.source ?? '']), new Set([3])))
    }
    if (r.tracebacks.length) {
      out.push('\n### Growth by traceback\n\n')
      for (const t of r.tracebacks) {
        out.push(`- **${formatBytes(t.bytesPerIteration)}/iteration**\n`)
        for (const f of t.frames ?? []) out.push(`  - ${mdCell(f.file)}:${f.line} ${code(f.source)}\n`)
      }
    }
    return out.join('')
  }
  out.push(`${r.verdict}\n`, `${summary}\n`)
  if (r.sites.length) {
    out.push('\nGrowth by line (per iteration):\n')
    out.push(table(r.sites.map((s) => [formatBytes(s.bytesPerIteration), `${s.countPerIteration.toFixed(1)} blocks`, siteWhere(s), s.source ?? '']), new Set([0, 1])))
  }
  if (r.tracebacks.length) {
    out.push('\nGrowth by traceback (per iteration, most recent frame first):\n')
    for (const t of r.tracebacks) {
      out.push(`  ${formatBytes(t.bytesPerIteration)}\n`)
      for (const f of t.frames ?? []) out.push(`    ${f.file}:${f.line}  ${f.source}\n`)
    }
  }
  return out.join('')
}

function sizeText(r: SizeResult, md: boolean): string {
  const head = `${r.expression !== undefined ? `${r.expression} → ` : ''}${r.type}: deep ${formatBytes(r.totalBytes)} (${r.totalBytes} bytes, ${r.objects} objects), shallow sys.getsizeof ${formatBytes(r.shallowBytes)} (${r.shallowBytes} bytes)`
  const rows = r.byType.map((t) => [t.type, String(t.count), formatBytes(t.bytes), `${r.totalBytes > 0 ? ((100 * t.bytes) / r.totalBytes).toFixed(1) : '0.0'}%`])
  const skipped = r.skipped.length ? `not followed (shared): ${r.skipped.map((s) => `${s.count} ${s.type}`).join(', ')}\n` : ''
  if (md) return `## Deep size\n\n${mdCell(head)}\n\n${mdTable(['type', 'objects', 'bytes', 'share'], rows)}${skipped ? `\n${mdCell(skipped.trimEnd())}\n` : ''}`
  return `${head}\n\n${table([['type', 'objects', 'bytes', 'share'], ...rows], new Set([1, 2, 3]))}${skipped}`
}

function pathText(r: PathResult, md: boolean): string {
  const out: string[] = [md ? `## Retention paths: ${mdCell(r.type)}\n\n` : '', `${r.instances} live instance(s) of ${md ? mdCell(r.type) : r.type}${r.paths.length < r.instances ? `, showing ${r.paths.length}` : ''}\n`]
  for (const p of r.paths) {
    out.push(md ? `\n### ${mdCell(p.target.type)} at 0x${p.target.id.toString(16)}\n\n` : `\n${p.target.type} at 0x${p.target.id.toString(16)}:\n`)
    if (!p.found || !p.root || !p.steps) {
      out.push('  no chain from a root found (held only by untracked objects, or deeper than --max-depth)\n')
      continue
    }
    const root = p.root
    const rootText =
      root.kind === 'module global' ? `module ${root.module} global ${root.name}` : root.kind === 'class attribute' ? `class ${root.class} attribute ${root.name}` : `local ${root.name} of ${root.function} (${root.file}:${root.line})`
    const chain = [`  ${rootText}\n`, ...p.steps.map((s, i) => `  ${'  '.repeat(i + 1)}${s.edge} → ${s.type}  ${s.repr}\n`)]
    // In markdown a code block whose fence is longer than any backtick run inside: no line closes it.
    const fence = md ? '`'.repeat(Math.max(3, ...chain.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length + 1))))) : ''
    if (md) out.push(`${fence}\n`)
    out.push(...chain)
    if (md) out.push(`${fence}\n`)
  }
  return out.join('')
}

function linesText(r: LinesResult, md: boolean): string {
  const head = `${r.function} (${r.file}:${r.firstLine}), ${r.calls} call(s): net ${formatBytes(r.totalNetBytes)}, peak ${formatBytes(r.peakBytes)}`
  const rows = r.lines.map((l) => {
    const ran = l.hits > 0
    return [String(l.line), ran ? String(l.hits) : '', ran ? formatBytes(l.netBytes) : '', ran ? formatBytes(l.peakBytes) : '', l.source]
  })
  if (md) return `## Line-level memory\n\n${mdCell(head)}\n\n${mdTable(['line', 'hits', 'net', 'peak', 'source'], rows, new Set([4]))}`
  return `${head}\n\n${table([['line', 'hits', 'net', 'peak', 'source'], ...rows], new Set([0, 1, 2, 3]))}`
}

function growthText(r: GrowthResult, md: boolean): string {
  const head = `objects by type that grew over ${r.iterations} iteration(s): ${r.totalDelta >= 0 ? '+' : ''}${r.totalDelta} in total`
  const rows = r.rows.map((g) => [g.type, String(g.count), `+${g.delta}`, `${r.iterations > 0 ? (g.delta / r.iterations).toFixed(1) : '0'}`])
  if (rows.length === 0) return `${md ? '## Type growth\n\n' : ''}no type grew over ${r.iterations} iteration(s)\n`
  if (md) return `## Type growth\n\n${head}\n\n${mdTable(['type', 'count', 'delta', 'per iteration'], rows)}`
  return `${head}\n\n${table([['type', 'count', 'delta', 'per iteration'], ...rows], new Set([1, 2, 3]))}`
}

/** Renders a memory document; `error` documents render their message. */
export function renderMemoryReport(doc: MemoryDocument, format: MemoryFormat): string {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`
  // Base names first: escaping writes backslashes, which a base name would cut at.
  return renderEscaped(escapeStrings(withBaseNames(doc)), format === 'markdown')
}

/** A leak check's file names as base names (the reports show `cache.py:14`). */
function withBaseNames(doc: MemoryDocument): MemoryDocument {
  if (doc.kind !== 'leaks') return doc
  const r = doc.leaks
  return {
    ...doc,
    leaks: {
      ...r,
      sites: r.sites.map((s) => (s.file === undefined ? s : { ...s, file: basename(s.file) })),
      tracebacks: r.tracebacks.map((t) => (t.frames === undefined ? t : { ...t, frames: t.frames.map((f) => ({ ...f, file: basename(f.file) })) })),
    },
  }
}

function renderEscaped(doc: MemoryDocument, md: boolean): string {
  switch (doc.kind) {
    case 'leaks':
      return leaksText(doc.leaks, md)
    case 'size':
      return sizeText(doc.size, md)
    case 'path':
      return pathText(doc.path, md)
    case 'lines':
      return linesText(doc.lines, md)
    case 'growth':
      return growthText(doc.growth, md)
    case 'error':
      return `${doc.error.code}: ${md ? mdCell(doc.error.message) : doc.error.message}\n`
  }
}
