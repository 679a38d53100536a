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
import { DEFAULT_DIFF_OPTIONS, type DiffOptions, type DiffValues, diffProfiles, type NodeDiff } from '../../../src/profile/diff.js'
import { describeRule, verdictText } from '../../../src/profile/diff-format.js'
import type { ProfileDocument, ProfileFrame } from '../../../src/profile/document.js'
import { type DiffFlameTree, diffFlameTree } from '../../../src/profile/flame-tree.js'
import { shortFile } from '../../../src/profile/model.js'
import type { Backend, ProfileEntry } from '../backend.js'
import { type FlameDataSource, FlameGraph } from './flame.js'
import { FrameCode, useSourceFiles } from './frame-code.js'
import { formatNs } from '../../../src/profile/units.js'
import { formatSignedFraction, formatSignedNs } from '../../../src/text/units.js'
import { FileButton, Legend } from '../ui.js'
import { type FlameLayout, layoutTree } from './layout.js'
import { deltaColour, flameTheme, useThemeVersion, vanishedFill } from './palette.js'
import { emptyProfile, openProfile } from './viewer.js'

/** A loaded side. */
interface Side {
  readonly name: string
  readonly doc: ProfileDocument
}

/**
 * The flame graph's data source over the diff's union tree (src/profile/flame-tree.ts): colour by
 * Δ of the metric (red slower, blue faster, hatched grey for call paths only in base), the
 * tooltip and the spoken description with base, head and Δ.
 */
export function diffSource(t: DiffFlameTree, layout: FlameLayout, metric: DiffOptions['metric']): FlameDataSource {
  let largest = 0
  for (const n of t.diffs) if (n) largest = Math.max(largest, Math.abs(metricDelta(n, metric)))
  const label = (id: number) => (layout.frame[id]! >= 0 ? (t.labels[layout.frame[id]!] ?? '?') : 'all')
  const status = (n: NodeDiff) => (n.status === 'new' ? ' (new call path)' : n.status === 'vanished' ? ' (only in base: base values)' : '')
  return {
    layout,
    label,
    colour(id, theme) {
      const n = t.diffs[id]
      return n?.status === 'vanished' ? vanishedFill(theme) : deltaColour(n ? metricDelta(n, metric) : 0, largest, theme)
    },
    tooltip(id) {
      const n = t.diffs[id]
      const v = layout.tree.nodes[id]!
      if (!n) return [<b key="b">all (both profiles)</b>, <div key="t">total {formatNs(v.totalNs)}</div>]
      return [
        <b key="b">{n.label}</b>,
        <div key="f" class="muted">
          {n.function}
        </div>,
        <div key="c">calls {v.calls}</div>,
        <div key="t">total {formatNs(v.totalNs)}</div>,
        <div key="s">self {formatNs(v.selfNs)}</div>,
        <div key="d">
          Δ self {signedNs(n.delta.selfNs)}, Δ total {signedNs(n.delta.totalNs)}, Δ calls {n.delta.calls}
          {status(n)}
        </div>,
      ]
    },
    describe(id) {
      const n = t.diffs[id]
      if (!n) return 'all: both profiles'
      return `${n.label}, ${n.function}: ${n.status}${status(n)}; Δ self ${signedNs(n.delta.selfNs)}, Δ total ${signedNs(n.delta.totalNs)}, Δ calls ${n.delta.calls}; depth ${layout.depth[id]}`
    },
  }
}

/** The ProfileFrame of a diff identity (FILE:QUALNAME, file relative to cwd) in one side's document. */
export function frameOfId(doc: ProfileDocument, id: string): ProfileFrame | undefined {
  return doc.frames.find((f) => f.kind === 'python' && `${shortFile(f.file, doc.metadata.cwd)}:${f.qualname}` === id)
}

const signedNs = formatSignedNs
const percent = formatSignedFraction

/** One side's picker: a file, or a profile the server offers. */
function SidePicker({ label, entries, onFile, onEntry, side }: { label: 'base' | 'head'; entries: readonly ProfileEntry[]; onFile: (f: File) => void; onEntry: (e: ProfileEntry) => void; side: Side | undefined }) {
  return (
    <span class="side-picker">
      <b>{label}</b>{' '}
      <FileButton label="open…" accept=".json,application/json" testId={`diff-${label}-file`} title={`open the ${label} profile`} onFiles={(fs) => fs[0] && onFile(fs[0])} />{' '}
      {entries.length ? (
        <select aria-label={`${label}: a profile pyxray serve offers`} data-testid={`diff-${label}-server`} value={entries.find((e) => e.name === side?.name)?.id ?? ''} onChange={(e) => { const en = entries.find((x) => x.id === (e.target as HTMLSelectElement).value); if (en) onEntry(en) }}>
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
function sideLoader(backend: Backend, set: (s: Side | undefined) => void, setError: (message: string | undefined) => void) {
  /** A side that cannot be read is emptied: the diff shows the error, not the previous file's result. */
  const fail = (message: string) => {
    set(undefined)
    setError(message)
  }
  const ok = (d: ProfileDocument, name: string) => {
    const empty = emptyProfile(d, name)
    if (empty) return fail(empty)
    setError(undefined)
    set({ name, doc: d })
  }
  return {
    file: (f: File) =>
      f.text().then(
        (t) => {
          const d = openProfile(t, f.name)
          if (typeof d === 'string') fail(d)
          else ok(d, f.name)
        },
        (e: Error) => fail(`${f.name}: ${e.message}`),
      ),
    entry: (en: ProfileEntry) => backend.loadProfile(en.id).then((d) => ok(d, en.name), (e: Error) => fail(e.message)),
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
  const tree = useMemo(() => (diff && typeof diff !== 'string' ? diffFlameTree(diff) : undefined), [diff])
  const layout = useMemo(() => (tree ? layoutTree(tree.tree) : undefined), [tree])
  const source = useMemo(() => (tree && layout ? diffSource(tree, layout, options.metric) : undefined), [tree, layout, options.metric])
  useEffect(() => setSelected(undefined), [tree])
  const selDiff = selected === undefined ? undefined : tree?.diffs[selected]
  useThemeVersion()
  const theme = flameTheme()

  const d = typeof diff === 'string' ? undefined : diff
  return (
    <div class="viewer diff-view" data-testid="diff-view">
      <div class="toolbar">
        <SidePicker label="base" entries={entries} side={base} onFile={(f) => void loadBase.file(f)} onEntry={(e) => void loadBase.entry(e)} />
        <SidePicker label="head" entries={entries} side={head} onFile={(f) => void loadHead.file(f)} onEntry={(e) => void loadHead.entry(e)} />
        {backend.addSource && base && head ? (
          <FileButton
            label="add source files…"
            accept=".py,text/x-python"
            multiple
            testId="diff-sources"
            title="the profiled .py files: their source and bytecode (compiled in this browser) show when you click a frame"
            onFiles={addSources}
          />
        ) : null}
        <Legend
          testId="diff-legend"
          items={[
            { label: `slower (Δ ${options.metric} time; deeper = larger)`, color: deltaColour(1, 1, theme) },
            { label: 'faster', color: deltaColour(-1, 1, theme) },
            { label: 'about the same', color: deltaColour(0, 1, theme) },
            { label: 'only in base', class: 'vanished' },
            { label: 'regression row', class: 'regression' },
            { label: 'improvement row', class: 'improvement' },
          ]}
        />
      </div>
      <DiffControls options={options} onChange={setOptions} />
      {error || typeof diff === 'string' ? (
        <div class="error" role="alert" data-testid="diff-error">
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
            {source ? <FlameGraph source={source} matches={undefined} icicle={false} selected={selected} onSelect={setSelected} testId="diff-flamegraph" title="diff flame graph" /> : null}
          </div>
          <div class="lower">
          <div class="tables">
            <table class="grid" data-testid="diff-functions">
              <thead>
                <tr>
                  <th scope="col">function</th>
                  <th scope="col" class="status">status</th>
                  <th scope="col" class="num">base</th>
                  <th scope="col" class="num">head</th>
                  <th scope="col" class="num">Δ</th>
                  <th scope="col" class="num">Δ%</th>
                  <th scope="col" class="num narrow">p</th>
                  <th scope="col" class="num">calls</th>
                </tr>
              </thead>
              <tbody>
                {d.functions.slice(0, 300).map((f) => {
                  const metric = d.options.metric === 'self' ? 'selfNs' : 'totalNs'
                  const delta = d.options.metric === 'self' ? f.delta.selfNs : f.delta.totalNs
                  return (
                    <tr key={`${f.file}:${f.qualname}:${f.kind}`} class={`status-${f.status}`} data-status={f.status}>
                      <td title={`${f.label} (${f.file}) · ${f.status}`}>
                        {f.label} <span class="muted">{f.file}</span>
                      </td>
                      <td class="status">{f.status}</td>
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
          {/* A scrolling region: focusable, so the keyboard can scroll it. */}
          {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex */}
          <div class="details" data-testid="diff-details" tabIndex={0} role="region" aria-label="the chosen call path">
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

/** The CLI's diff options as controls: --metric, --threshold (percent), --min-time (ms). Applied as typed. */
function DiffControls({ options, onChange }: { options: DiffOptions; onChange: (o: DiffOptions) => void }) {
  return (
    <div class="toolbar diff-controls">
      <label>
        metric{' '}
        <select data-testid="diff-metric" value={options.metric} onChange={(e) => onChange({ ...options, metric: (e.target as HTMLSelectElement).value === 'total' ? 'total' : 'self' })}>
          <option value="self">self</option>
          <option value="total">total</option>
        </select>
      </label>
      <NumberField
        label="threshold"
        unit="%"
        step="1"
        testId="diff-threshold"
        title="relative growth that counts as a regression (pyxray diff --threshold)"
        value={Math.round(options.threshold * 1000) / 10}
        onValue={(v) => onChange({ ...options, threshold: v / 100 })}
      />
      <NumberField
        label="min time"
        unit="ms"
        step="0.1"
        testId="diff-min-time"
        title="functions below this time in both profiles are never regressions (pyxray diff --min-time)"
        value={options.minTimeNs / 1e6}
        onValue={(v) => onChange({ ...options, minTimeNs: Math.round(v * 1e6) })}
      />
    </div>
  )
}

/**
 * A non-negative number, applied on every edit while it is valid; an invalid entry (empty, negative,
 * not a number) is marked, says so beside the box, and the diff keeps the last valid value, which
 * the box shows again when it loses the focus.
 */
function NumberField({ label, unit, step, testId, title, value, onValue }: { label: string; unit: string; step: string; testId: string; title: string; value: number; onValue: (v: number) => void }) {
  const [text, setText] = useState<string>()
  const shown = text ?? String(value)
  const parsed = Number(shown)
  const invalid = shown.trim() === '' || !Number.isFinite(parsed) || parsed < 0
  const errorId = `${testId}-error`
  return (
    <label title={title}>
      {label}{' '}
      <input
        type="number"
        min="0"
        step={step}
        data-testid={testId}
        value={shown}
        aria-invalid={invalid}
        aria-describedby={invalid ? errorId : undefined}
        onInput={(e) => {
          const t = (e.target as HTMLInputElement).value
          setText(t)
          const v = Number(t)
          if (t.trim() !== '' && Number.isFinite(v) && v >= 0) onValue(v)
        }}
        onBlur={() => setText(undefined)}
      />{' '}
      {unit}
      {invalid ? (
        <span class="field-error" id={errorId} data-testid={`${testId}-invalid`} role="alert">
          {' '}
          must be a number ≥ 0; still using {value} {unit}
        </span>
      ) : null}
    </label>
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
