/**
 * `pyxray report`: what a report shows, as data (the JSON format is this object). The text and
 * markdown renderers (report-text.ts, report-markdown.ts) only lay it out.
 */
import type { ProfileDocument } from './document.js'
import { focus, hide } from './filter.js'
import { calleesOf, callersOf, flatTable, type FunctionStats } from './flat.js'
import { buildTrees, type CallNode, type FunctionInfo, functionLabel, functionLocation, matchesFunction, totalTime } from './model.js'
import { runsOf } from './runs.js'

/** Which columns the flat table is sorted by. */
export type ReportSort = 'self' | 'total' | 'calls' | 'memory' | 'peak'

/** The sort keys of the flat table. */
export const REPORT_SORTS: readonly ReportSort[] = ['self', 'total', 'calls', 'memory', 'peak']

/** What to show. */
export interface ReportOptions {
  /** flat: the function table; tree: the call tree; callers/callees of `target`. */
  readonly view: 'flat' | 'tree' | 'callers' | 'callees'
  readonly sort: ReportSort
  /** Rows of the flat table (0: all). */
  readonly top: number
  /** Tree: levels below the roots (undefined: all). */
  readonly depth?: number
  /** Tree: hide subtrees below this share of the total time, in %. */
  readonly minPercent: number
  /** Only the subtrees rooted at this function (qualname or FILE:QUALNAME). */
  readonly focus?: string
  /** Functions folded into their callers. */
  readonly hide: readonly string[]
  /** callers/callees: the function (qualname or FILE:QUALNAME). */
  readonly target?: string
  /** Only the threads with this name or id. */
  readonly thread?: string
  /** Shown as the profile's name in the header. */
  readonly name: string
}

/** A report that cannot be made from these options (unknown function or thread); exit status 2. */
export class ReportError extends Error {
  override readonly name = 'ReportError'
  constructor(
    readonly code: 'NO_SUCH_FUNCTION' | 'NO_SUCH_THREAD' | 'NO_MEMORY',
    message: string,
  ) {
    super(message)
  }
}

/** A function as reports show it. */
export interface ReportFunction {
  readonly qualname: string
  /** Qualname, with the module for builtins outside builtins. */
  readonly label: string
  /** File relative to the profile's cwd, ":" first line; empty for builtins. */
  readonly location: string
  readonly kind: 'python' | 'builtin'
}

/** A row of the flat table, callers or callees. */
export interface ReportRow {
  /** null: the thread root (callers view: called from outside the profile). */
  readonly function: ReportFunction | null
  readonly calls: number
  readonly selfNs: number
  readonly totalNs: number
  /** Share of the report's total time, in %. */
  readonly selfPercent: number
  readonly totalPercent: number
  readonly netBytes?: number
  readonly peakBytes?: number
  readonly samples?: number
}

/** A node of the call tree view. */
export interface ReportTreeNode extends ReportRow {
  readonly children: readonly ReportTreeNode[]
  /** Children not shown (below --min-percent or --depth) and their total time. */
  readonly hidden?: { readonly count: number; readonly totalNs: number }
}

/** The header: where the profile came from and how to read it. */
export interface ReportHeader {
  readonly name: string
  readonly python: string
  readonly argv: readonly string[]
  readonly mode: 'trace' | 'sample'
  /** The mechanism and, in trace mode, the engine: "sys.monitoring, C engine". */
  readonly tracer?: string
  readonly clock: 'wall' | 'cpu'
  readonly durationNs: number
  readonly threads: readonly string[]
  readonly runs: number
  readonly overheadNsPerEvent: number
  readonly overheadSource?: string
  readonly intervalNs?: number
  readonly samples?: number
  readonly memory: boolean
  readonly partial: boolean
  readonly exitStatus: number | null
  readonly warnings: readonly string[]
  readonly startTime: string
}

/** A whole report. */
export interface Report {
  readonly pyxray: 'report'
  readonly version: 1
  readonly header: ReportHeader
  readonly view: ReportOptions['view']
  readonly sort: ReportSort
  /** 100 %: the total time of the threads shown, ns. */
  readonly totalNs: number
  /** Filters applied, for the reader. */
  readonly focus?: string
  readonly hide: readonly string[]
  readonly minPercent: number
  /** flat: the rows shown, and how many functions there are in all. */
  readonly functions?: readonly ReportRow[]
  readonly functionCount?: number
  /** tree: one root per thread (or per focused function). */
  readonly tree?: readonly (ReportTreeNode & { readonly thread?: string })[]
  /** callers/callees: the function's own row and its neighbours. */
  readonly target?: ReportRow
  readonly neighbours?: readonly ReportRow[]
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((1000 * 100 * part) / whole) / 1000 : 0)

function reportFunction(fn: FunctionInfo, cwd: string): ReportFunction {
  return { qualname: fn.qualname, label: functionLabel(fn), location: functionLocation(fn, cwd), kind: fn.kind }
}

function row(s: Omit<FunctionStats, 'fn'> & { fn: FunctionInfo | null }, total: number, cwd: string): ReportRow {
  return {
    function: s.fn === null ? null : reportFunction(s.fn, cwd),
    calls: s.calls,
    selfNs: s.selfNs,
    totalNs: s.totalNs,
    selfPercent: pct(s.selfNs, total),
    totalPercent: pct(s.totalNs, total),
    ...(s.netBytes !== undefined ? { netBytes: s.netBytes } : {}),
    ...(s.peakBytes !== undefined ? { peakBytes: s.peakBytes } : {}),
    ...(s.samples !== undefined ? { samples: s.samples } : {}),
  }
}

const SORT_KEY: Record<ReportSort, (s: FunctionStats) => number> = {
  self: (s) => s.selfNs,
  total: (s) => s.totalNs,
  calls: (s) => s.calls,
  memory: (s) => s.netBytes ?? 0,
  peak: (s) => s.peakBytes ?? 0,
}

/** Sorts rows by a key, largest first; ties by total, then by name, so output is stable. */
function sortStats(rows: FunctionStats[], sort: ReportSort): FunctionStats[] {
  const key = SORT_KEY[sort]
  return rows.sort((a, b) => key(b) - key(a) || b.totalNs - a.totalNs || (a.fn.key < b.fn.key ? -1 : a.fn.key > b.fn.key ? 1 : 0))
}

function noFunction(pattern: string, roots: readonly CallNode[]): ReportError {
  const names = [...new Set(flatTable(roots).map((s) => s.fn.qualname))]
  const tail = pattern.split(/[.:]/).pop()!.toLowerCase()
  const near = names.filter((n) => n.toLowerCase().includes(tail)).slice(0, 5)
  return new ReportError('NO_SUCH_FUNCTION', `no function named ${pattern} in the profile${near.length ? ` (similar: ${near.join(', ')})` : ''}; give a qualname (Class.method) or FILE:QUALNAME`)
}

/** The report of a validated profile document. */
export function buildReport(doc: ProfileDocument, o: ReportOptions): Report {
  const md = doc.metadata
  const cwd = md.cwd
  let trees = buildTrees(doc)
  if (o.thread !== undefined) {
    const wanted = o.thread
    const picked = trees.filter((t) => t.name === wanted || String(t.id) === wanted)
    if (picked.length === 0) throw new ReportError('NO_SUCH_THREAD', `no thread named ${wanted}: the profile has ${trees.map((t) => `${t.name} (${t.id})`).join(', ')}`)
    trees = picked
  }
  if ((o.sort === 'memory' || o.sort === 'peak') && md.memory !== true) {
    throw new ReportError('NO_MEMORY', `--sort ${o.sort} needs memory data: profile with pyxray profile --memory`)
  }
  const matcher = (p: string) => (fn: FunctionInfo) => matchesFunction(fn, p)
  let roots: CallNode[] = trees.map((t) => o.hide.reduce((r, h) => hide(r, matcher(h)), t.root))
  const totalNs = totalTime(roots)
  const labels: (string | undefined)[] = trees.map((t) => t.name)
  if (o.focus !== undefined) {
    const focused = focus(roots, matcher(o.focus))
    if (focused.length === 0) throw noFunction(o.focus, roots)
    roots = focused
    labels.length = 0
  }
  const header: ReportHeader = {
    name: o.name,
    python: `${md.python.implementation} ${md.python.version}`,
    argv: md.argv,
    mode: md.mode,
    ...(md.tracer !== undefined ? { tracer: md.engine === undefined ? md.tracer : `${md.tracer}, ${md.engine === 'c' ? 'C' : 'Python'} engine` } : {}),
    clock: md.clock,
    durationNs: md.durationNs,
    threads: trees.map((t) => t.name),
    runs: runsOf(doc).length,
    overheadNsPerEvent: md.overheadNsPerEvent,
    ...(md.overhead ? { overheadSource: md.overhead.source } : {}),
    ...(md.intervalNs !== undefined ? { intervalNs: md.intervalNs } : {}),
    ...(md.samples !== undefined ? { samples: md.samples } : {}),
    memory: md.memory === true,
    partial: md.partial,
    exitStatus: md.exitStatus,
    warnings: md.warnings,
    startTime: md.startTime,
  }
  const base = {
    pyxray: 'report' as const,
    version: 1 as const,
    header,
    view: o.view,
    sort: o.sort,
    totalNs,
    ...(o.focus !== undefined ? { focus: o.focus } : {}),
    hide: o.hide,
    minPercent: o.minPercent,
  }
  if (o.view === 'flat') {
    const all = sortStats(flatTable(roots), o.sort)
    const shown = o.top > 0 ? all.slice(0, o.top) : all
    return { ...base, functions: shown.map((s) => row(s, totalNs, cwd)), functionCount: all.length }
  }
  if (o.view === 'tree') {
    const limit = (o.minPercent / 100) * totalNs
    const treeOf = (n: CallNode, level: number): ReportTreeNode => {
      const deep = o.depth !== undefined && level >= o.depth
      const kept = deep ? [] : n.children.filter((c) => c.totalNs >= limit)
      const dropped = n.children.length - kept.length
      const droppedNs = n.children.reduce((s, c) => s + c.totalNs, 0) - kept.reduce((s, c) => s + c.totalNs, 0)
      return {
        ...row(n, totalNs, cwd),
        children: kept.map((c) => treeOf(c, level + 1)),
        ...(dropped ? { hidden: { count: dropped, totalNs: droppedNs } } : {}),
      }
    }
    return { ...base, tree: roots.map((r, i) => ({ ...treeOf(r, 0), ...(labels[i] !== undefined ? { thread: labels[i] } : {}) })) }
  }
  const target = o.target!
  const nb = (o.view === 'callers' ? callersOf : calleesOf)(roots, matcher(target))
  if (!nb) throw noFunction(target, roots)
  return { ...base, target: row(nb.self, totalNs, cwd), neighbours: nb.rows.map((r) => row(r, totalNs, cwd)) }
}
