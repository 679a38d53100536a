/**
 * The profile diff view: two profiles (base, head) compared by src/profile/diff.ts — call paths
 * matched by (file, qualname), threads merged, medians over repeated runs — drawn as the union of
 * both call trees, colored by each call path's Δ of the chosen metric (red: slower, blue: faster,
 * pale: about the same; call paths only in base hatched grey at their base width), with the diff's
 * verdict and its table of functions, regressions first. The CLI's options (metric, threshold,
 * minimum time) are controls; a clicked frame shows its base and head values and, when the backend
 * can read the file, its source and bytecode.
 */
import { useEffect, useMemo, useState } from 'preact/hooks'
import { DEFAULT_DIFF_OPTIONS, type DiffOptions, type DiffValues, diffProfiles, type NodeDiff, type ProfileDiff } from '../../../src/profile/diff.js'
import { describeRule, verdictText } from '../../../src/profile/diff-format.js'
import type { ProfileDocument, ProfileFrame, ProfileNode } from '../../../src/profile/document.js'
import { shortFile } from '../../../src/profile/model.js'
import type { Backend, ProfileEntry } from '../backend.js'
import { FlameGraph } from './flame.js'
import { FrameCode, useSourceFiles } from './frame-code.js'
import { formatNs } from '../../../src/profile/units.js'
import { layoutThread } from './layout.js'
import { openProfile } from './viewer.js'

/** A loaded side. */
interface Side {
  readonly name: string
  readonly doc: ProfileDocument
}

/** A mutable node while the tree is built. */
interface Building {
  frame: number | null
  calls: number
  totalNs: number
  selfNs: number
  children: Building[]
}

/**
 * The union of both sides' call trees as a one-thread profile document (for the flame graph), and
 * each node's diff. A node's values are its head values, or its base values for a call path only in
 * base (vanished); its drawn width (totalNs) is its own time plus its children's widths, at least
 * its total — so a vanished path keeps its base width inside a parent that still exists.
 */
export function diffTree(d: ProfileDiff): { doc: ProfileDocument; diffOf: Map<ProfileNode, NodeDiff> } {
  const frames: ProfileFrame[] = []
  const frameIndex = new Map<string, number>()
  const root: Building = { frame: null, calls: 0, totalNs: 0, selfNs: 0, children: [] }
  const byNode = new Map<NodeDiff, Building>()
  const diffOf = new Map<ProfileNode, NodeDiff>()
  // Parents before children: shallower paths first (a path links to its parent: O(1) per path).
  for (const n of [...d.nodes].sort((a, b) => a.depth - b.depth)) {
    const v = n.head ?? n.base
    if (!v) continue
    const id = n.function
    let f = frameIndex.get(id)
    if (f === undefined) {
      f = frames.length
      frameIndex.set(id, f)
      const colon = id.lastIndexOf(':')
      frames.push({ file: colon > 0 ? id.slice(0, colon) : '<built-in>', firstlineno: 0, qualname: n.label, kind: colon > 0 ? 'python' : 'builtin' })
    }
    const parent = n.parent === null ? root : byNode.get(n.parent)
    if (!parent) continue
    const node: Building = { frame: f, calls: v.calls, totalNs: v.totalNs, selfNs: v.selfNs, children: [] }
    parent.children.push(node)
    byNode.set(n, node)
    diffOf.set(node as ProfileNode, n)
  }
  // Widths bottom-up (iteratively: call trees can be deep), then children widest first.
  const order: Building[] = []
  const stack = [root]
  while (stack.length) {
    const b = stack.pop()!
    order.push(b)
    for (const c of b.children) stack.push(c)
  }
  for (let k = order.length - 1; k > 0; k--) {
    const b = order[k]!
    b.totalNs = Math.max(b.totalNs, b.selfNs + b.children.reduce((t, c) => t + c.totalNs, 0))
    b.children.sort((x, y) => y.totalNs - x.totalNs)
  }
  root.children.sort((x, y) => y.totalNs - x.totalNs)
  root.totalNs = root.children.reduce((t, c) => t + c.totalNs, 0)
  const doc: ProfileDocument = {
    pyxray: 'profile',
    version: 3,
    metadata: { python: { implementation: 'CPython', version: d.head.python.split(' ')[1] ?? '' }, argv: [], cwd: '', startTime: '', durationNs: d.head.totalNs, mode: d.head.mode, clock: d.head.clock, overheadNsPerEvent: 0, partial: false },
    frames,
    threads: [{ id: 0, name: 'all threads', main: true, root: root as ProfileNode }],
  } as unknown as ProfileDocument
  return { doc, diffOf }
}

/** Red for slower, blue for faster; the strength is the node's |Δ self| against the largest. */
export function deltaColor(deltaNs: number, largestNs: number): string {
  const s = largestNs > 0 ? Math.min(1, Math.abs(deltaNs) / largestNs) : 0
  if (s < 0.02) return 'hsl(0,0%,90%)'
  return `hsl(${deltaNs > 0 ? 0 : 215},${Math.round(45 + 40 * s)}%,${Math.round(88 - 38 * s)}%)`
}

let hatch: CanvasPattern | null | undefined

/** Grey diagonal stripes: call paths only in base. */
export function vanishedFill(): CanvasPattern | string {
  if (hatch === undefined) {
    const c = document.createElement('canvas')
    c.width = 8
    c.height = 8
    const g = c.getContext('2d')
    if (g) {
      g.fillStyle = '#e8e8e8'
      g.fillRect(0, 0, 8, 8)
      g.strokeStyle = '#a8a8a8'
      g.lineWidth = 2
      g.beginPath()
      g.moveTo(-2, 10)
      g.lineTo(10, -2)
      g.stroke()
    }
    hatch = g ? g.createPattern(c, 'repeat') : null
  }
  return hatch ?? '#bbb'
}

/** The ProfileFrame of a diff identity (FILE:QUALNAME, file relative to cwd) in one side's document. */
export function frameOfId(doc: ProfileDocument, id: string): ProfileFrame | undefined {
  return doc.frames.find((f) => f.kind === 'python' && `${shortFile(f.file, doc.metadata.cwd)}:${f.qualname}` === id)
}

const signedNs = (ns: number) => `${ns > 0 ? '+' : ns < 0 ? '−' : '±'}${formatNs(Math.abs(ns))}`
const percent = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`)

/** One side's picker: a file, or a profile the server offers. */
function SidePicker({ label, entries, onFile, onEntry, side }: { label: 'base' | 'head'; entries: readonly ProfileEntry[]; onFile: (f: File) => void; onEntry: (e: ProfileEntry) => void; side: Side | undefined }) {
  return (
    <span class="side-picker">
      <b>{label}</b>{' '}
      <label class="button">
        open…
        <input type="file" accept=".json,application/json" hidden data-testid={`diff-${label}-file`} onChange={(e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) onFile(f) }} />
      </label>{' '}
      {entries.length ? (
        <select data-testid={`diff-${label}-server`} value={entries.find((e) => e.name === side?.name)?.id ?? ''} onChange={(e) => { const en = entries.find((x) => x.id === (e.target as HTMLSelectElement).value); if (en) onEntry(en) }}>
          <option value="">(served profiles)</option>
          {entries.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      ) : null}{' '}
      <span class="muted" data-testid={`diff-${label}-name`}>{side?.name ?? 'none'}</span>
    </span>
  )
}

/** How one side is opened: from a file, or a profile the server offers; failures go to `setError`. */
function sideLoader(backend: Backend, set: (s: Side) => void, setError: (message: string | undefined) => void) {
  return {
    file: (f: File) =>
      f.text().then(
        (t) => {
          const d = openProfile(t, f.name)
          if (typeof d === 'string') setError(d)
          else {
            setError(undefined)
            set({ name: f.name, doc: d })
          }
        },
        (e: Error) => setError(`${f.name}: ${e.message}`),
      ),
    entry: (en: ProfileEntry) => backend.loadProfile(en.id).then((d) => set({ name: en.name, doc: d }), (e: Error) => setError(e.message)),
  }
}

/** The diff view. */
export function DiffView({ backend }: { backend: Backend }) {
  const [entries, setEntries] = useState<ProfileEntry[]>([])
  const [base, setBase] = useState<Side>()
  const [head, setHead] = useState<Side>()
  const [error, setError] = useState<string>()
  const [selected, setSelected] = useState<number>()
  const [options, setOptions] = useState<DiffOptions>(DEFAULT_DIFF_OPTIONS)
  /** Source files added so far (the static build): the frame panel reloads when it changes. */
  const [sources, addSources] = useSourceFiles(backend, setError)

  const loadBase = useMemo(() => sideLoader(backend, setBase, setError), [backend])
  const loadHead = useMemo(() => sideLoader(backend, setHead, setError), [backend])

  useEffect(() => {
    backend.profiles().then(
      (ps) => {
        const profiles = ps.filter((p) => (p.kind ?? 'profile') === 'profile')
        setEntries(profiles)
        // Served with two or more profiles: the first two are base and head.
        if (profiles.length >= 2) {
          void loadBase.entry(profiles[0]!)
          void loadHead.entry(profiles[1]!)
        }
      },
      (e: Error) => setError(e.message),
    )
  }, [backend, loadBase, loadHead])

  const diff = useMemo(() => {
    if (!base || !head) return undefined
    try {
      return diffProfiles(base.doc, head.doc, options, { base: base.name, head: head.name })
    } catch (e) {
      return e instanceof Error ? e.message : String(e)
    }
  }, [base, head, options])
  useEffect(() => setSelected(undefined), [base, head])
  const tree = useMemo(() => (diff && typeof diff !== 'string' ? diffTree(diff) : undefined), [diff])
  const layout = useMemo(() => (tree ? layoutThread(tree.doc, tree.doc.threads[0]!) : undefined), [tree])
  const largest = useMemo(() => {
    let m = 0
    for (const n of tree?.diffOf.values() ?? []) m = Math.max(m, Math.abs(metricDelta(n, options.metric)))
    return m
  }, [tree, options.metric])
  const nodeDiff = (id: number) => (layout && tree ? tree.diffOf.get(layout.nodes[id]!) : undefined)
  const selDiff = selected === undefined ? undefined : nodeDiff(selected)

  const d = typeof diff === 'string' ? undefined : diff
  return (
    <div class="viewer diff-view" data-testid="diff-view">
      <div class="toolbar">
        <SidePicker label="base" entries={entries} side={base} onFile={(f) => void loadBase.file(f)} onEntry={(e) => void loadBase.entry(e)} />
        <SidePicker label="head" entries={entries} side={head} onFile={(f) => void loadHead.file(f)} onEntry={(e) => void loadHead.entry(e)} />
        {backend.addSource && base && head ? (
          <label class="button" title="the profiled .py files: their source and bytecode (compiled in this browser) show when you click a frame">
            add source files…
            <input type="file" multiple accept=".py,text/x-python" data-testid="diff-sources" hidden onChange={(e) => addSources(Array.from((e.target as HTMLInputElement).files ?? []))} />
          </label>
        ) : null}
        <span class="legend">
          <span class="swatch" style={{ background: deltaColor(1, 1) }} /> slower <span class="swatch" style={{ background: deltaColor(-1, 1) }} /> faster (Δ {options.metric} time) <span class="swatch vanished" /> only in base
        </span>
      </div>
      <DiffControls options={options} onChange={setOptions} />
      {error || typeof diff === 'string' ? (
        <div class="error" data-testid="diff-error">
          {error ?? diff}
        </div>
      ) : null}
      {!d ? (
        <div class="drop-hint">Open two profiles of the same program — base (before) and head (after) — to see what got slower.</div>
      ) : (
        <>
          <div class="meta" data-testid="diff-summary">
            <b>
              {verdictText(d)}
            </b>{' '}
            · total {formatNs(d.base.totalNs)} → {formatNs(d.head.totalNs)} ({signedNs(d.head.totalNs - d.base.totalNs)}) · <span class="muted">{describeRule(d)}</span>
            {d.warnings.map((w) => (
              <div key={w} class="muted">
                ⚠ {w}
              </div>
            ))}
          </div>
          <div class="flame-scroll">
            {layout && tree ? (
              <FlameGraph
                doc={tree.doc}
                layout={layout}
                matches={undefined}
                icicle={false}
                selected={selected}
                onSelect={setSelected}
                testId="diff-flamegraph"
                paint={(id) => {
                  const n = nodeDiff(id)
                  return n?.status === 'vanished' ? vanishedFill() : deltaColor(n ? metricDelta(n, options.metric) : 0, largest)
                }}
                describe={(id) => {
                  const n = nodeDiff(id)
                  return n ? (
                    <div>
                      Δ self {signedNs(n.delta.selfNs)}, Δ total {signedNs(n.delta.totalNs)}, Δ calls {n.delta.calls} {n.status === 'new' ? '(new call path)' : n.status === 'vanished' ? '(only in base: base values)' : ''}
                    </div>
                  ) : null
                }}
              />
            ) : null}
          </div>
          <div class="lower">
          <div class="tables">
            <table class="grid" data-testid="diff-functions">
              <thead>
                <tr>
                  <th>function</th>
                  <th>status</th>
                  <th>base</th>
                  <th>head</th>
                  <th>Δ</th>
                  <th>Δ%</th>
                  <th>p</th>
                  <th>calls</th>
                </tr>
              </thead>
              <tbody>
                {d.functions.slice(0, 300).map((f) => {
                  const metric = d.options.metric === 'self' ? 'selfNs' : 'totalNs'
                  const delta = d.options.metric === 'self' ? f.delta.selfNs : f.delta.totalNs
                  return (
                    <tr key={`${f.file}:${f.qualname}:${f.kind}`} class={`status-${f.status}`} data-status={f.status}>
                      <td>
                        {f.label} <span class="muted">{f.file}</span>
                      </td>
                      <td>{f.status}</td>
                      <td class="num">{f.base ? formatNs(f.base[metric]) : '–'}</td>
                      <td class="num">{f.head ? formatNs(f.head[metric]) : '–'}</td>
                      <td class="num">{signedNs(delta)}</td>
                      <td class="num">{percent(f.change)}</td>
                      <td class="num">{f.p === null ? '–' : f.p.toFixed(3)}</td>
                      <td class="num">
                        {f.head?.calls ?? 0}
                        {f.callsChanged ? ` (${f.delta.calls > 0 ? '+' : ''}${f.delta.calls})` : ''}
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
          <div class="details" data-testid="diff-details">
            {selDiff && base && head ? (
              <NodeDetails backend={backend} n={selDiff} base={base.doc} head={head.doc} sources={sources} />
            ) : (
              <div class="muted">Click a frame for its base and head values{backend.kind === 'report' ? '' : ', source and bytecode'}.</div>
            )}
          </div>
          </div>
        </>
      )}
    </div>
  )
}

/** A node's Δ of the metric. */
function metricDelta(n: NodeDiff, metric: DiffOptions['metric']): number {
  return metric === 'self' ? n.delta.selfNs : n.delta.totalNs
}

/** The CLI's diff options as controls: --metric, --threshold (percent), --min-time (ms). */
function DiffControls({ options, onChange }: { options: DiffOptions; onChange: (o: DiffOptions) => void }) {
  /** A number from an input, or undefined when it is not a valid non-negative number (the diff keeps its options). */
  const num = (e: Event) => {
    const v = (e.target as HTMLInputElement).valueAsNumber
    return Number.isFinite(v) && v >= 0 ? v : undefined
  }
  return (
    <div class="toolbar diff-controls">
      <label>
        metric{' '}
        <select data-testid="diff-metric" value={options.metric} onChange={(e) => onChange({ ...options, metric: (e.target as HTMLSelectElement).value === 'total' ? 'total' : 'self' })}>
          <option value="self">self</option>
          <option value="total">total</option>
        </select>
      </label>
      <label title="relative growth that counts as a regression (pyxray diff --threshold)">
        threshold{' '}
        <input
          type="number"
          min="0"
          step="1"
          data-testid="diff-threshold"
          value={String(Math.round(options.threshold * 1000) / 10)}
          onChange={(e) => {
            const v = num(e)
            if (v !== undefined) onChange({ ...options, threshold: v / 100 })
          }}
        />{' '}
        %
      </label>
      <label title="functions below this time in both profiles are never regressions (pyxray diff --min-time)">
        min time{' '}
        <input
          type="number"
          min="0"
          step="0.1"
          data-testid="diff-min-time"
          value={String(options.minTimeNs / 1e6)}
          onChange={(e) => {
            const v = num(e)
            if (v !== undefined) onChange({ ...options, minTimeNs: Math.round(v * 1e6) })
          }}
        />{' '}
        ms
      </label>
    </div>
  )
}

/** One side's values of a call path, or a dash. */
function valuesCells(v: DiffValues | null, key: 'selfNs' | 'totalNs' | 'calls') {
  if (!v) return <td class="num">–</td>
  return <td class="num">{key === 'calls' ? v.calls : formatNs(v[key])}</td>
}

/** The clicked call path: base vs head, Δ, and the function's source and bytecode. */
function NodeDetails({ backend, n, base, head, sources }: { backend: Backend; n: NodeDiff; base: ProfileDocument; head: ProfileDocument; sources: number }) {
  const id = n.function
  // The function as a frame of the side that has it (head first), for its source.
  const inHead = n.head ? frameOfId(head, id) : undefined
  const frame = inHead ?? frameOfId(base, id)
  const doc = inHead ? head : base
  const rows: [string, 'selfNs' | 'totalNs' | 'calls'][] = [
    ['self', 'selfNs'],
    ['total', 'totalNs'],
    ['calls', 'calls'],
  ]
  return (
    <>
      <h3 data-testid="diff-details-name">{n.label}</h3>
      <div class="muted" data-testid="diff-details-path">
        {n.path.join(' → ')} · <span data-testid="diff-details-status">{n.status === 'vanished' ? 'vanished (only in base)' : n.status === 'new' ? 'new (only in head)' : n.status}</span>
      </div>
      <table class="grid" data-testid="diff-details-values">
        <thead>
          <tr>
            <th />
            <th>base</th>
            <th>head</th>
            <th>Δ</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, key]) => (
            <tr key={key} data-key={key}>
              <td>{label}</td>
              {valuesCells(n.base, key)}
              {valuesCells(n.head, key)}
              <td class="num">{key === 'calls' ? `${n.delta.calls > 0 ? '+' : ''}${n.delta.calls}` : signedNs(n.delta[key])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {frame ? <FrameCode backend={backend} doc={doc} frame={frame} sources={sources} /> : <div class="muted">{id.includes(':') ? `${id}: no source in either profile` : `${id} is a builtin: it has no Python bytecode`}</div>}
    </>
  )
}
