/**
 * Export to pprof (profile.proto, gzipped), the format of `go tool pprof`, Grafana Pyroscope,
 * Parca, Datadog and Google Cloud Profiler. Encoded with npm `pprof-format` (a kept encoder, not a
 * protobuf writer of our own); this layer is outside the core because it uses that package and
 * Node's zlib.
 *
 * - Every call node is one sample whose stack is its call path (innermost first) and whose values
 *   are the node's own: so pprof's flat of a function is pyxray's self, and its cum the inclusive
 *   time (pprof counts a function once per sample, as pyxray counts outermost activations).
 * - Sample types: trace → `calls/count` and `CLOCK/nanoseconds` (CLOCK the profile's clock: wall,
 *   cpu or gil), plus `alloc_space/bytes` with --memory profiles (net bytes: what the calls left
 *   allocated, the node's own share; peaks do not add up and are left out, see the comments);
 *   sample → `samples/count` and `CLOCK/nanoseconds` with period = the sampling interval.
 *   The default sample type is the nanoseconds one.
 * - A thread's root time (frames older than the profile) is a sample with an empty stack.
 * - Functions: one per frame of the document (name = qualname, system_name = the module for
 *   builtins, filename, start_line = first line); one location per function at its first line
 *   (the document holds no per-line data).
 * - Labels: `thread` (name), `thread_id`; `pid` when the document has it. Comments: the producer,
 *   the Python version, mode and clock, argv, and `pyxray.KEY=VALUE` lines the importer reads.
 * - Large documents stream: samples are encoded in chunks as they are walked (each chunk a
 *   Profile message holding only samples; concatenated protobuf messages merge), so no array of
 *   every sample object is ever held. Very deep trees, whose every sample repeats its whole path,
 *   are folded below a depth (as the collapsed export does) when the paths would exceed
 *   {@link PPROF_FRAME_BUDGET} locations: everything below depth N goes into one
 *   `[frames below depth N]` location per path, and the export says so.
 */
import { gzipSync } from 'node:zlib'
import { emptyTableToken, Function as PprofFunction, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format'
import type { ProfileDocument, ProfileNode, ProfileThread } from '../profile/document.js'
import type { Exporter, ExportSettings } from '../profile/export/index.js'
import { ExportError, selectThreads } from '../profile/export/index.js'

/** Locations (over all samples) whole paths may take before deep frames are folded. */
export const PPROF_FRAME_BUDGET = 20_000_000

/** Folding never starts above this depth. */
export const PPROF_MIN_DEPTH = 512

/** Samples per encoded chunk. */
const CHUNK = 16_384

/** Options of {@link toPprof}. */
export interface PprofOptions {
  /** Only this thread (name, id or `#index`). */
  readonly thread?: string
  /** The exporting program, e.g. pyxray@0.1.0. */
  readonly producer?: string
  /** gzip the bytes (default true: what every consumer expects). */
  readonly gzip?: boolean
}

/** The sample types of a document, in value order. */
export function pprofSampleTypes(doc: ProfileDocument): readonly (readonly [type: string, unit: string])[] {
  const clock = doc.metadata.clock
  if (doc.metadata.mode === 'sample') return [['samples', 'count'], [clock, 'nanoseconds']]
  return [
    ['calls', 'count'],
    [clock, 'nanoseconds'],
    ...(doc.metadata.memory ? [['alloc_space', 'bytes'] as const] : []),
    ...(doc.metadata.memory && hasAllocationCounts(doc) ? [['alloc_objects', 'count'] as const] : []),
  ]
}

/** Whether the document's call nodes count allocations (memory mode in the C engine). */
function hasAllocationCounts(doc: ProfileDocument): boolean {
  for (const t of doc.threads) {
    const todo: ProfileNode[] = [t.root]
    while (todo.length > 0) {
      const n = todo.pop()!
      if (n.memory?.allocations !== undefined) return true
      for (const c of n.children) todo.push(c)
    }
  }
  return false
}

/** Per depth (1 = a thread's outermost call), the samples the export writes there. */
function depthCounts(threads: readonly ProfileThread[]): number[] {
  const at: number[] = []
  for (const t of threads) {
    const todo: [ProfileNode, number][] = [[t.root, 0]]
    while (todo.length > 0) {
      const [n, d] = todo.pop()!
      at[d] = (at[d] ?? 0) + 1
      for (const c of n.children) todo.push([c, d + 1])
    }
  }
  return Array.from(at, (x) => x ?? 0)
}

/** The depth below which {@link toPprof} folds frames, or undefined when every path is whole. */
export function pprofFoldDepth(doc: ProfileDocument, thread?: string): number | undefined {
  const at = depthCounts(selectThreads(doc, thread))
  // Locations written when folding below n: nodes down to n whole, one sample of n + 1 per node at n.
  const upTo: number[] = []
  let sum = 0
  for (let d = 0; d < at.length; d++) upTo.push((sum += at[d]! * d))
  const cost = (n: number) => upTo[n]! + (n + 1 < at.length ? at[n]! * (n + 1) : 0)
  const deepest = at.length - 1
  if (deepest <= PPROF_MIN_DEPTH || cost(deepest) <= PPROF_FRAME_BUDGET) return undefined
  let n = deepest - 1
  while (n > PPROF_MIN_DEPTH && cost(n) > PPROF_FRAME_BUDGET) n--
  return n
}

const nanos = (iso: string): bigint => {
  const ms = Date.parse(iso)
  return Number.isFinite(ms) && ms > 0 ? BigInt(ms) * 1_000_000n : 0n
}

/** The document as a pprof profile (gzipped unless `gzip: false`). */
export function toPprof(doc: ProfileDocument, options: PprofOptions = {}): Uint8Array {
  const threads = selectThreads(doc, options.thread)
  const fold = pprofFoldDepth(doc, options.thread)
  const strings = new StringTable()
  const s = (x: string) => strings.dedup(x)
  const types = pprofSampleTypes(doc)
  const trace = doc.metadata.mode === 'trace'
  const memory = trace && doc.metadata.memory === true
  const allocations = memory && types.some(([type]) => type === 'alloc_objects')
  const width = types.length

  const functions = doc.frames.map(
    (f, i) =>
      new PprofFunction({
        id: i + 1,
        name: s(f.qualname),
        systemName: s(f.kind === 'builtin' ? (f.module ?? '') : f.qualname),
        filename: s(f.file),
        startLine: Math.max(0, f.firstlineno),
      }),
  )
  const locations = doc.frames.map((f, i) => new Location({ id: i + 1, line: [{ functionId: i + 1, line: Math.max(0, f.firstlineno) }] }))
  const foldId = doc.frames.length + 1
  if (fold !== undefined) {
    functions.push(new PprofFunction({ id: foldId, name: s(`[frames below depth ${fold}]`), systemName: s(`[frames below depth ${fold}]`), filename: s('') }))
    locations.push(new Location({ id: foldId, line: [{ functionId: foldId }] }))
  }

  // Sample mode with instruction-level data: a node's own samples go to one location per source
  // line it was executing (function and line), the rest to the function's location.
  const lineLocations = new Map<string, number>()
  const lineLocation = (frame: number, line: number): number => {
    const key = `${frame}:${line}`
    let id = lineLocations.get(key)
    if (id === undefined) {
      id = foldId + 1 + lineLocations.size
      lineLocations.set(key, id)
      locations.push(new Location({ id, line: [{ functionId: frame + 1, line }] }))
    }
    return id
  }
  /** Emits a sample-mode node's own values, split over its lines (samples exact, ns in proportion). */
  const emitByLine = (stack: number[], node: ProfileNode, values: number[], labels: ReturnType<typeof threadLabels>) => {
    const [own, ns] = values as [number, number]
    let samplesLeft = own
    let nsLeft = ns
    for (const [line, n] of node.lines ?? []) {
      const take = Math.min(n, samplesLeft)
      if (take <= 0 || line < 1) continue
      const share = samplesLeft === take ? nsLeft : Math.round((ns * take) / own)
      stack[0] = lineLocation(node.frame!, line)
      emit(stack.slice(), [take, share], labels)
      samplesLeft -= take
      nsLeft -= share
    }
    stack[0] = node.frame! + 1
    emit(stack, [samplesLeft, nsLeft], labels)
  }

  const keyThread = s('thread')
  const keyThreadId = s('thread_id')
  const keyPid = s('pid')
  const pid = doc.metadata.pid
  const parts: Uint8Array[] = []
  let chunk: Sample[] = []
  const flush = () => {
    if (chunk.length === 0) return
    // A Profile of samples only (no string table): its bytes are the repeated sample fields.
    parts.push(new Profile({ sample: chunk, stringTable: new StringTable(emptyTableToken) }).encode())
    chunk = []
  }
  const emit = (stack: number[], values: number[], labels: ReturnType<typeof threadLabels>) => {
    if (values.every((v) => v === 0)) return
    chunk.push(new Sample({ locationId: stack, value: values, label: labels }))
    if (chunk.length >= CHUNK) flush()
  }
  const threadLabels = (t: ProfileThread) => [{ key: keyThread, str: s(t.name) }, { key: keyThreadId, num: t.id }, ...(pid !== undefined ? [{ key: keyPid, num: pid }] : [])]

  for (const t of threads) {
    const labels = threadLabels(t)
    /** Location ids of the path, outermost first. */
    const path: number[] = []
    /** The folded sample being summed (below `fold`), if any. */
    let folded: number[] | undefined
    let depth = 0
    const todo: [ProfileNode, boolean][] = [[t.root, false]]
    while (todo.length > 0) {
      const top = todo[todo.length - 1]!
      const [node, expanded] = top
      if (expanded) {
        todo.pop()
        if (node.frame === null) continue
        if (fold !== undefined && depth === fold && folded !== undefined) {
          emit([foldId, ...path.slice().reverse()], folded, labels)
          folded = undefined
        }
        if (fold === undefined || depth <= fold) path.pop()
        depth--
        continue
      }
      top[1] = true
      let childSamples = 0
      let childNet = 0
      let childAllocs = 0
      for (const c of node.children) {
        childSamples += c.samples ?? 0
        childNet += c.memory?.netBytes ?? 0
        childAllocs += c.memory?.allocations ?? 0
      }
      // Memory values are inclusive in the document; each path's own share is written.
      const own = [...(memory ? [(node.memory?.netBytes ?? 0) - childNet] : []), ...(allocations ? [Math.max(0, (node.memory?.allocations ?? 0) - childAllocs)] : [])]
      const values = trace ? [node.calls, node.selfNs, ...own] : [Math.max(0, (node.samples ?? 0) - childSamples), node.selfNs]
      if (node.frame === null) {
        // The thread's own time: no frame of the profile.
        emit([], trace ? [0, node.selfNs, ...own] : values, labels)
      } else {
        if (node.frame < 0 || node.frame >= doc.frames.length) throw new ExportError('EXPORT_BAD_PROFILE', `a call node refers to frame ${node.frame}, but the profile has ${doc.frames.length} frames`)
        depth++
        if (fold !== undefined && depth > fold) {
          // Below the fold: summed into the path's folded sample.
          for (let i = 0; i < width; i++) folded![i] = folded![i]! + values[i]!
        } else {
          path.push(node.frame + 1)
          if (!trace && node.lines !== undefined && node.lines.length > 0 && values[0]! > 0) emitByLine(path.slice().reverse(), node, values, labels)
          else emit(path.slice().reverse(), values, labels)
          if (fold !== undefined && depth === fold && node.children.length > 0) folded = new Array<number>(width).fill(0)
        }
      }
      for (let i = node.children.length - 1; i >= 0; i--) todo.push([node.children[i]!, false])
    }
  }
  flush()

  const m = doc.metadata
  const comments = [
    `${options.producer ?? 'pyxray'} profile of ${m.python.implementation} ${m.python.version}`,
    `pyxray.mode=${m.mode}`,
    `pyxray.clock=${m.clock}`,
    `pyxray.python=${m.python.version}`,
    ...(m.argv.length ? [`pyxray.argv=${JSON.stringify(m.argv)}`] : []),
    ...(m.cwd ? [`pyxray.cwd=${m.cwd}`] : []),
    ...(m.intervalNs !== undefined ? [`pyxray.intervalNs=${m.intervalNs}`] : []),
    ...(m.samples !== undefined ? [`pyxray.samples=${m.samples}`] : []),
    ...(trace ? ['calls/count: entries into the call path (calls plus resumptions, as cProfile ncalls); flat = the function\'s calls'] : []),
    ...(memory ? ['alloc_space/bytes: net bytes (tracemalloc) the calls left allocated when they returned, each call path\'s own share (may be negative); peak bytes do not add up over paths and are not exported'] : []),
    ...(allocations ? ['alloc_objects/count: allocations (C engine) each call path made itself, its callees\' excluded'] : []),
    ...(fold !== undefined ? [`frames below depth ${fold} are folded into one "[frames below depth ${fold}]" location per path (the paths would exceed ${PPROF_FRAME_BUDGET} locations)`] : []),
  ]
  const header = new Profile({
    sampleType: types.map(([type, unit]) => new ValueType({ type: s(type), unit: s(unit) })),
    function: functions,
    location: locations,
    stringTable: strings,
    timeNanos: nanos(m.startTime),
    durationNanos: Math.max(0, Math.round(m.durationNs)),
    ...(m.mode === 'sample' ? { periodType: { type: s(m.clock), unit: s('nanoseconds') }, period: m.intervalNs ?? 0 } : {}),
    comment: comments.map(s),
    defaultSampleType: s(m.clock),
  })
  // The header last: its string table then holds every string the samples' labels took.
  parts.push(header.encode())
  let size = 0
  for (const p of parts) size += p.length
  const raw = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    raw.set(p, at)
    at += p.length
  }
  return options.gzip === false ? raw : new Uint8Array(gzipSync(raw))
}

function pprofOptions(settings: ExportSettings): PprofOptions {
  return { producer: settings.exporter, ...(settings.thread !== undefined ? { thread: settings.thread } : {}) }
}

/** The pprof export format (see ../profile/export/exporter.ts); registered by the CLI. */
export const pprofExporter: Exporter = {
  name: 'pprof',
  description: "pprof (profile.proto, gzipped) for go tool pprof, Grafana Pyroscope, Parca; trace: calls and\nnanoseconds per call path, sample: samples and nanoseconds (pyxray push sends it)",
  binary: true,
  needsFile: true,
  options: {},
  run: (doc, s) => toPprof(doc, pprofOptions(s)),
  notes(doc, s) {
    const fold = pprofFoldDepth(doc, s.thread)
    if (fold === undefined) return []
    return [`the call tree is too deep for whole paths (more than ${PPROF_FRAME_BUDGET.toLocaleString('en-US')} locations): frames below depth ${fold} are folded into one "[frames below depth ${fold}]" location per path`]
  },
}
