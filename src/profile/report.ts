/**
 * `pyxray report`: what a report shows, as data (the JSON format is this object). The text and
 * markdown renderers (report-text.ts, report-markdown.ts) only lay it out.
 */
import { processDocument, processesOf, withoutProcesses } from './processes.js'
import type { ProfileDocument } from './document.js'
import { focus, hide } from './filter.js'
import { calleesOf, callersOf, flatTable, type FunctionStats } from './flat.js'
import { buildThreadTrees, buildTrees, type CallNode, CallPathIds, type FunctionInfo, functionLabel, functionLocation, matchesFunction, shortFile, type ThreadTree, totalTime } from './model.js'
import { lineSamples, lineSamplesNote, type ReportInstruction, type ReportLine, type SourceLookup } from './report-lines.js'
import { addRunValues, type RowRunStats, rowRunStats, type RunSpread, runSpread, type RunValues, type SpreadKind, spreadKind } from './report-runs.js'
import { runsOf } from './runs.js'
import { median } from './stats.js'

/** Which columns the flat table is sorted by. */
export type ReportSort = 'self' | 'total' | 'calls' | 'memory' | 'peak'

/** The sort keys of the flat table. */
export const REPORT_SORTS: readonly ReportSort[] = ['self', 'total', 'calls', 'memory', 'peak']

/** What to show. */
export interface ReportOptions {
  /**
   * flat: the function table; tree: the call tree; callers/callees of `target`; lines and
   * instructions: sample mode's hottest source lines and bytecode instructions (report-lines.ts).
   */
  readonly view: 'flat' | 'tree' | 'callers' | 'callees' | 'lines' | 'instructions'
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
  /** lines and instructions: the source text of a file the profile names (the CLI reads them). */
  readonly sources?: SourceLookup
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
  /** Memory mode with the C engine: allocations (inclusive, as netBytes). */
  readonly allocations?: number
  readonly samples?: number
  /**
   * Repeated profiles: the row per run (medians, spread, calls of each run). The fields above are
   * then summed over the runs, as in the document's top-level tree.
   */
  readonly perRun?: RowRunStats
}

/** A node of the call tree view. */
export interface ReportTreeNode extends ReportRow {
  readonly children: readonly ReportTreeNode[]
  /** Children not shown (below --min-percent or --depth) and their total time (repeated: perRunNs is its median per run). */
  readonly hidden?: { readonly count: number; readonly totalNs: number; readonly perRunNs?: number }
}

/** Repeated profiles: how the runs compare, for the header. */
export interface ReportRunSummary {
  /** How spreads are measured: IQR (4 runs or more) or min–max. */
  readonly spread: SpreadKind
  /** Duration of each run. */
  readonly durationNs: RunSpread
  /** The report's total time (threads shown, functions hidden) in each run. */
  readonly totalNs: RunSpread
  /** Functions whose calls differ between runs (all of them, not only those shown), most varying first. */
  readonly callsDiffer: readonly { readonly label: string; readonly min: number; readonly max: number }[]
}

/** The header: where the profile came from and how to read it. */
export interface ReportHeader {
  readonly name: string
  readonly python: string
  readonly argv: readonly string[]
  readonly mode: 'trace' | 'sample'
  /** The mechanism and, in trace mode, the engine: "sys.monitoring, C engine". */
  readonly tracer?: string
  readonly clock: 'wall' | 'cpu' | 'gil'
  readonly durationNs: number
  readonly threads: readonly string[]
  readonly runs: number
  /** Repeated profiles (runs > 1): the statistics over runs. */
  readonly perRun?: ReportRunSummary
  readonly overheadNsPerEvent: number
  readonly overheadSource?: string
  /** Trace mode: what the overhead subtraction took in all and what its per-node clamp gave back (metadata.overhead), ns. */
  readonly overheadTotals?: { readonly subtractedNs: number; readonly clampedNs: number; readonly clampedNodes: number }
  readonly intervalNs?: number
  readonly samples?: number
  readonly memory: boolean
  readonly partial: boolean
  readonly exitStatus: number | null
  readonly warnings: readonly string[]
  readonly startTime: string
}

/** A child process's part of a report (the profile's `processes`). */
export interface ReportProcess {
  readonly pid?: number
  readonly parentPid?: number
  readonly argv: readonly string[]
  readonly exitStatus: number | null
  readonly partial: boolean
  /** The process's own report, with the same options. */
  readonly report?: Report
  /** Why there is no report: the options do not apply to this process (no such thread or function). */
  readonly skipped?: string
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
  /** lines and instructions: 100 %, every sample of the threads shown. */
  readonly sampleTotal?: number
  /** lines: the hottest source lines (the innermost visible frame's), and how many lines have samples in all. */
  readonly lines?: readonly ReportLine[]
  readonly lineCount?: number
  /** instructions: the hottest bytecode instructions, and how many have samples in all. */
  readonly instructions?: readonly ReportInstruction[]
  readonly instructionCount?: number
  /** lines and instructions: why rows are missing or where samples land, when there is something to say. */
  readonly note?: string
  /** The child processes (the report above is the root process's), oldest first. */
  readonly processes?: readonly ReportProcess[]
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((1000 * 100 * part) / whole) / 1000 : 0)

function reportFunction(fn: FunctionInfo, cwd: string): ReportFunction {
  return { qualname: fn.qualname, label: functionLabel(fn), location: functionLocation(fn, cwd), kind: fn.kind }
}

type RowStats = Omit<FunctionStats, 'fn'> & { fn: FunctionInfo | null }

function row(s: RowStats, total: number, cwd: string, perRun?: RowRunStats): ReportRow {
  return {
    function: s.fn === null ? null : reportFunction(s.fn, cwd),
    calls: s.calls,
    selfNs: s.selfNs,
    totalNs: s.totalNs,
    selfPercent: pct(s.selfNs, total),
    totalPercent: pct(s.totalNs, total),
    ...(s.netBytes !== undefined ? { netBytes: s.netBytes } : {}),
    ...(s.peakBytes !== undefined ? { peakBytes: s.peakBytes } : {}),
    ...(s.allocations !== undefined ? { allocations: s.allocations } : {}),
    ...(s.samples !== undefined ? { samples: s.samples } : {}),
    ...(perRun ? { perRun } : {}),
  }
}

/** Sort keys of a row: per run (medians) for repeated profiles, else the row's own figures. */
const SORT_KEY: Record<ReportSort, (r: ReportRow) => number> = {
  self: (r) => r.perRun?.selfNs.median ?? r.selfNs,
  total: (r) => r.perRun?.totalNs.median ?? r.totalNs,
  calls: (r) => (r.perRun ? median(r.perRun.calls) : r.calls),
  memory: (r) => r.perRun?.netBytes ?? r.netBytes ?? 0,
  peak: (r) => r.peakBytes ?? 0,
}

/** Sorts rows by a key, largest first; ties by total, then by function key, so output is stable. */
function sortRows(rows: { key: string; row: ReportRow }[], sort: ReportSort): { key: string; row: ReportRow }[] {
  const k = SORT_KEY[sort]
  const total = SORT_KEY.total
  return rows.sort((a, b) => k(b.row) - k(a.row) || total(b.row) - total(a.row) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function noFunction(pattern: string, roots: readonly CallNode[]): ReportError {
  const names = [...new Set(flatTable(roots).map((s) => s.fn.qualname))]
  const tail = pattern.split(/[.:]/).pop()!.toLowerCase()
  const near = names.filter((n) => n.toLowerCase().includes(tail)).slice(0, 5)
  return new ReportError('NO_SUCH_FUNCTION', `no function named ${pattern} in the profile${near.length ? ` (similar: ${near.join(', ')})` : ''}; give a qualname (Class.method) or FILE:QUALNAME`)
}

/** The trees a report shows, after --thread, --hide and --focus. */
interface Roots {
  readonly roots: CallNode[]
  /** Matches roots across runs: the thread (main thread by that role, others by name) or the focused function. */
  readonly keys: string[]
  readonly labels: (string | undefined)[]
  /** Total time before focus (100 %). */
  readonly totalNs: number
}

const threadKey = (t: ThreadTree) => `t:${t.main ? '\u0000main' : t.name}`

/**
 * Applies the options' filters to thread trees. Without `runThreads` (the merged document) a thread
 * or focus that matches nothing is an error. For one run of a repeated document, `runThreads` are
 * the keys of the threads picked in the merged document (thread ids differ between runs), and a
 * focus that matches nothing is an empty run.
 */
function selectRoots(all: readonly ThreadTree[], o: ReportOptions, runThreads?: ReadonlySet<string>): Roots {
  let trees = all
  if (runThreads !== undefined) trees = trees.filter((t) => runThreads.has(threadKey(t)))
  else if (o.thread !== undefined) {
    const wanted = o.thread
    trees = trees.filter((t) => t.name === wanted || String(t.id) === wanted)
    if (trees.length === 0) throw new ReportError('NO_SUCH_THREAD', `no thread named ${wanted}: the profile has ${all.map((t) => `${t.name} (${t.id})`).join(', ')}`)
  }
  const matcher = (p: string) => (fn: FunctionInfo) => matchesFunction(fn, p)
  let roots: CallNode[] = trees.map((t) => o.hide.reduce((r, h) => hide(r, matcher(h)), t.root))
  const totalNs = totalTime(roots)
  let keys = trees.map(threadKey)
  let labels: (string | undefined)[] = trees.map((t) => t.name)
  if (o.focus !== undefined) {
    const focused = focus(roots, matcher(o.focus))
    if (focused.length === 0 && runThreads === undefined) throw noFunction(o.focus, roots)
    roots = focused
    keys = focused.map((r) => `f:${r.fn?.key ?? ''}`)
    labels = []
  }
  return { roots, keys, labels, totalNs }
}

/** Each node's values under its call path (root key, then function keys, interned in `ids`), for matching runs. */
function pathIndex(sel: Roots, ids: CallPathIds): Map<number, RunValues> {
  const out = new Map<number, RunValues>()
  const todo: [CallNode, number][] = sel.roots.map((r, i) => [r, ids.id(-1, sel.keys[i]!)])
  while (todo.length > 0) {
    const [n, path] = todo.pop()!
    out.set(path, addRunValues(out.get(path), n))
    for (const c of n.children) todo.push([c, ids.id(path, c.fn?.key ?? '')])
  }
  return out
}

/** Functions whose calls differ between runs, most varying first. */
function callsDiffer(flat: readonly { label: string; perRun: RowRunStats }[]): ReportRunSummary['callsDiffer'] {
  return flat
    .filter((f) => f.perRun.callsDiffer)
    .map((f) => ({ label: f.label, min: Math.min(...f.perRun.calls), max: Math.max(...f.perRun.calls) }))
    .sort((a, b) => b.max - b.min - (a.max - a.min) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
}

/**
 * The report of a validated profile document: the root process's, and with child processes
 * (`processes`) one report per child with the same options.
 */
export function buildReport(doc: ProfileDocument, o: ReportOptions): Report {
  const root = buildProcessReport(withoutProcesses(doc), o)
  if (!doc.processes?.length) return root
  const processes = processesOf(doc)
    .slice(1)
    .map((p): ReportProcess => {
      const facts = { ...(p.pid !== undefined ? { pid: p.pid } : {}), ...(p.parentPid !== undefined ? { parentPid: p.parentPid } : {}), argv: p.argv, exitStatus: p.exitStatus, partial: p.partial }
      try {
        return { ...facts, report: buildProcessReport(processDocument(doc, p.index), { ...o, name: `${o.name} (pid ${p.pid ?? '?'})` }) }
      } catch (e) {
        if (e instanceof ReportError) return { ...facts, skipped: e.message }
        throw e
      }
    })
  return { ...root, processes }
}

function buildProcessReport(doc: ProfileDocument, o: ReportOptions): Report {
  const md = doc.metadata
  const cwd = md.cwd
  if ((o.sort === 'memory' || o.sort === 'peak') && md.memory !== true) {
    throw new ReportError('NO_MEMORY', `--sort ${o.sort} needs memory data: profile with pyxray profile --memory`)
  }
  const trees = buildTrees(doc)
  const sel = selectRoots(trees, o)
  const { roots, totalNs } = sel
  const matcher = (p: string) => (fn: FunctionInfo) => matchesFunction(fn, p)
  // Repeated profiles: the same selection in every run, its rows matched by function or call path.
  const runs = runsOf(doc)
  const repeated = runs.length > 1
  const kind = spreadKind(runs.length)
  const picked = new Set(trees.filter((t) => o.thread === undefined || t.name === o.thread || String(t.id) === o.thread).map(threadKey))
  const perRunSel = repeated ? runs.map((r) => selectRoots(buildThreadTrees(doc.frames, r.threads), o, picked)) : []
  const perRunFlat = perRunSel.map((r) => new Map(flatTable(r.roots).map((f) => [f.fn.key, f])))
  const flatStats = (key: string) => (repeated ? rowRunStats(perRunFlat.map((m) => m.get(key)), kind) : undefined)
  const all = sortRows(
    flatTable(roots).map((s) => ({ key: s.fn.key, row: row(s, totalNs, cwd, flatStats(s.fn.key)) })),
    o.sort,
  )
  const header: ReportHeader = {
    name: o.name,
    python: `${md.python.implementation} ${md.python.version}`,
    argv: md.argv,
    mode: md.mode,
    ...(md.tracer !== undefined ? { tracer: md.engine === undefined ? md.tracer : `${md.tracer}, ${md.engine === 'c' ? 'C' : 'Python'} engine` } : {}),
    clock: md.clock,
    durationNs: md.durationNs,
    threads: trees.filter((t) => o.thread === undefined || t.name === o.thread || String(t.id) === o.thread).map((t) => t.name),
    runs: runs.length,
    ...(repeated
      ? {
          perRun: {
            spread: kind,
            durationNs: runSpread(
              runs.map((r) => r.metadata.durationNs),
              kind,
            ),
            totalNs: runSpread(
              perRunSel.map((r) => r.totalNs),
              kind,
            ),
            callsDiffer: callsDiffer(all.map(({ row: r }) => ({ label: r.function?.label ?? '', perRun: r.perRun! }))),
          },
        }
      : {}),
    overheadNsPerEvent: md.overheadNsPerEvent,
    ...(md.overhead ? { overheadSource: md.overhead.source } : {}),
    ...(md.overhead?.subtractedNs !== undefined ? { overheadTotals: { subtractedNs: md.overhead.subtractedNs, clampedNs: md.overhead.clampedNs ?? 0, clampedNodes: md.overhead.clampedNodes ?? 0 } } : {}),
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
  if (o.view === 'lines' || o.view === 'instructions') {
    const samples = lineSamples(roots, o.top, (fn) => ({ label: reportFunction(fn, cwd), file: shortFile(fn.file, cwd), ...(fn.instructions ? { instructions: fn.instructions } : {}) }), o.sources)
    const found = o.view === 'lines' ? samples.lineCount : samples.instructionCount
    // Tachyon samples from outside too; other imported files have no instructions
    const note = lineSamplesNote(o.view, md.mode, md.python.version, md.sampler === 'remote' || md.source !== undefined, found, md.instructionSampler === 'signal', md.instructionSamplerReason)
    return {
      ...base,
      sampleTotal: samples.sampleTotal,
      ...(o.view === 'lines' ? { lines: samples.lines, lineCount: samples.lineCount } : { instructions: samples.instructions, instructionCount: samples.instructionCount }),
      ...(note !== undefined ? { note } : {}),
    }
  }
  if (o.view === 'flat') {
    const shown = o.top > 0 ? all.slice(0, o.top) : all
    return { ...base, functions: shown.map((r) => r.row), functionCount: all.length }
  }
  if (o.view === 'tree') {
    const limit = (o.minPercent / 100) * totalNs
    const ids = new CallPathIds()
    const indexes = perRunSel.map((r) => pathIndex(r, ids))
    const pathStats = (path: number) => (repeated ? rowRunStats(indexes.map((m) => m.get(path)), kind) : undefined)
    // Built top-down and iteratively (trees of deep recursion nest 100,000+ levels): each node is
    // made with its children array empty and filled as its children are taken.
    type Built = ReportTreeNode & { children: ReportTreeNode[]; hidden?: ReportTreeNode['hidden'] }
    const nodeOf = (n: CallNode, level: number, path: number): { node: Built; kept: CallNode[] } => {
      const deep = o.depth !== undefined && level >= o.depth
      const kept = deep ? [] : n.children.filter((c) => c.totalNs >= limit)
      const keptSet = new Set(kept)
      const dropped = n.children.filter((c) => !keptSet.has(c))
      const droppedNs = dropped.reduce((s, c) => s + c.totalNs, 0)
      const childPath = (c: CallNode) => ids.find(path, c.fn?.key ?? '') ?? -2
      const droppedPerRun = () => runSpread(
        indexes.map((m) => dropped.reduce((s, c) => s + (m.get(childPath(c))?.totalNs ?? 0), 0)),
        kind,
      ).median
      const node: Built = { ...row(n, totalNs, cwd, pathStats(path)), children: [] }
      if (dropped.length) node.hidden = { count: dropped.length, totalNs: droppedNs, ...(repeated ? { perRunNs: droppedPerRun() } : {}) }
      return { node, kept }
    }
    const tree = roots.map((r, i) => {
      const rootPath = ids.id(-1, sel.keys[i]!)
      const top = nodeOf(r, 0, rootPath)
      const todo: [Built, CallNode[], number, number][] = [[top.node, top.kept, 0, rootPath]]
      while (todo.length > 0) {
        const [node, kept, level, path] = todo.pop()!
        for (const c of kept) {
          const p = ids.id(path, c.fn?.key ?? '')
          const child = nodeOf(c, level + 1, p)
          node.children.push(child.node)
          todo.push([child.node, child.kept, level + 1, p])
        }
      }
      return { ...top.node, ...(sel.labels[i] !== undefined ? { thread: sel.labels[i] } : {}) }
    })
    return { ...base, tree }
  }
  const target = o.target!
  const find = o.view === 'callers' ? callersOf : calleesOf
  const nb = find(roots, matcher(target))
  if (!nb) throw noFunction(target, roots)
  const perRunNb = perRunSel.map((r) => find(r.roots, matcher(target)))
  const selfStats = repeated ? rowRunStats(perRunNb.map((x) => x?.self), kind) : undefined
  const nbStats = (key: string) => (repeated ? rowRunStats(perRunNb.map((x) => x?.rows.filter((r) => (r.fn?.key ?? '') === key).reduce<RunValues | undefined>(addRunValues, undefined)), kind) : undefined)
  return { ...base, target: row(nb.self, totalNs, cwd, selfStats), neighbours: nb.rows.map((r) => row(r, totalNs, cwd, nbStats(r.fn?.key ?? ''))) }
}
