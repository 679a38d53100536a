/**
 * Compare mode of the Explorer: two editors (two implementations, or one source on two runtimes),
 * their bytecode aligned side by side by src/bytecode/compare — one block per source line, blocks
 * matched by line number (same source) or by the line's text (two sources), instructions within a
 * block matched by a longest common subsequence — so equal parts line up and differences stand
 * out; and the static summary of each side. Each side can be narrowed to one code object (picking
 * one on A picks the same qualname on B when B has it); clicking an instruction on either side
 * highlights its source range, from CPython's positions, in that side's editor. "Run both" runs each
 * side (as `pyxray compare -c` runs a snippet, one side after the other) where the backend runs
 * Python: each instruction's executed count, the executed totals and the timings with their A/B
 * ratio join the view until either side changes.
 */
import type { EditorView } from '@codemirror/view'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { buildCompare, type CompareDocument, formatCount, formatSeconds, type MeasureResult, type StaticSummary } from '../../../src/bytecode/compare/index.js'
import type { Backend, MeasureOutcome, RuntimeOption } from '../backend.js'
import type { CodeObject } from '../../../src/bytecode/index.js'
import { type Compiled, disassembly, loadCompiled, spanToRange } from '../compiled.js'
import { createEditor, showMarks } from './editor.js'
import { Legend, useRovingKeys } from '../ui.js'

/** What compare mode keeps (and the permalink stores). */
export interface CompareState {
  /** Source of side A. */
  readonly a: string
  /** Source of side B. */
  readonly b: string
  /** Runtime id of side B; side A uses the explorer's runtime. */
  readonly runtimeB?: string | undefined
  /** Qualname of the code object compared on side A; undefined = the whole module. */
  readonly codeA?: string | undefined
  /** Qualname of the code object compared on side B; undefined = the whole module. */
  readonly codeB?: string | undefined
}

/** The result of compiling one side. */
type SideResult = { readonly ok: true; readonly compiled: Compiled } | { readonly ok: false; readonly message: string }

const COMPILE_DELAY_MS = 80

/** The rows of the static summary, with what each means. */
const SUMMARY_ROWS: readonly [keyof StaticSummary, string][] = [
  ['codeObjects', 'code objects'],
  ['instructions', 'instructions'],
  ['codeBytes', 'co_code bytes'],
  ['maxDepth', 'max stack depth'],
  ['stacksize', 'co_stacksize'],
  ['constants', 'constants'],
  ['names', 'names'],
  ['locals', 'locals'],
  ['jumps', 'jumps'],
  ['loops', 'loops (backward jumps)'],
  ['exceptionEntries', 'exception-table entries'],
]

/** Props of {@link CompareView}. */
export interface CompareViewProps {
  readonly backend: Backend
  readonly runtimes: readonly RuntimeOption[]
  /** Side A's runtime (the explorer's picker). */
  readonly runtime: string | undefined
  readonly optimize: -1 | 0 | 1 | 2
  readonly initial: CompareState
  readonly onChange: (s: CompareState) => void
}

/** The code object of `qualname` in a compiled module, or the module when there is none. */
export function codeNamed(c: Compiled, qualname: string | undefined): CodeObject {
  return (qualname === undefined ? undefined : c.entries.find((e) => e.depth > 0 && e.qualname === qualname)?.code) ?? c.module
}

/** Builds the compare document of two compiled sides (each its whole module, or the code object named). */
export function compareSides(
  a: Compiled,
  b: Compiled,
  sourceA: string,
  sourceB: string,
  kind: string,
  codes: { a?: string | undefined; b?: string | undefined } = {},
  measured: { a?: MeasureResult | undefined; b?: MeasureResult | undefined } = {},
): CompareDocument {
  const side = (label: string, c: Compiled, source: string, qualname: string | undefined, m: MeasureResult | undefined) => ({
    label,
    target: `editor ${label}${qualname === undefined ? '' : `:${qualname}`}`,
    runtime: { kind, version: c.version, executable: '' },
    module: c.module,
    selected: codeNamed(c, qualname),
    sourceLines: source.split('\n'),
    setup: null,
    call: null,
    ...(m ? { measured: m } : {}),
  })
  return buildCompare(sourceA === sourceB ? 'versions' : 'pair', [side('A', a, sourceA, codes.a, measured.a), side('B', b, sourceB, codes.b, measured.b)])
}

/** The compare view. */
export function CompareView({ backend, runtimes, runtime, optimize, initial, onChange }: CompareViewProps) {
  const hostARef = useRef<HTMLDivElement>(null)
  const hostBRef = useRef<HTMLDivElement>(null)
  const [a, setA] = useState(initial.a)
  const [b, setB] = useState(initial.b)
  const [runtimeB, setRuntimeB] = useState(initial.runtimeB ?? runtime)
  const [results, setResults] = useState<{ a?: SideResult; b?: SideResult; sources?: readonly [string, string]; busy: boolean }>({ busy: true })
  const [codeA, setCodeA] = useState(initial.codeA)
  const [codeB, setCodeB] = useState(initial.codeB)
  /** The last run of both sides, for the sources and runtimes it ran (stale once either changes). */
  const [run, setRun] = useState<{ key: string; busy: boolean; a?: MeasureOutcome; b?: MeasureOutcome; error?: string }>()
  /** The clicked instruction: side (0 = A) and index into that side's instructions. */
  const [picked, setPicked] = useState<{ side: 0 | 1; index: number }>()
  const seqRef = useRef(0)
  const pairsRef = useRef<HTMLTableSectionElement>(null)
  useRovingKeys(pairsRef, 'tr.pair', 'button')
  const viewsRef = useRef<(EditorView | undefined)[]>([])
  /** The texts the editors open with: the first render's (the editors own the text from then on). */
  const initialRef = useRef(initial)

  useEffect(() => {
    const edit = (host: HTMLDivElement | null, text: string, change: (t: string) => void, label: string) => (host ? createEditor(host, text, { change, select: () => {} }, label) : undefined)
    const views = [edit(hostARef.current, initialRef.current.a, setA, 'Python source A'), edit(hostBRef.current, initialRef.current.b, setB, 'Python source B')]
    viewsRef.current = views
    ;(window as unknown as { pyxrayCompareEditors?: EditorView[] }).pyxrayCompareEditors = views.filter((v) => v !== undefined)
    return () => views.forEach((v) => v?.destroy())
  }, [])
  useEffect(() => {
    if (runtimeB === undefined && runtime !== undefined) setRuntimeB(runtime)
  }, [runtime, runtimeB])
  useEffect(() => onChange({ a, b, runtimeB, ...(codeA !== undefined ? { codeA } : {}), ...(codeB !== undefined ? { codeB } : {}) }), [onChange, a, b, runtimeB, codeA, codeB])

  useEffect(() => {
    if (!runtime || !runtimeB) return undefined
    const id = ++seqRef.current
    setResults((r) => ({ ...r, busy: true }))
    const one = async (source: string, rt: string): Promise<SideResult> => {
      const r = await backend.compile({ source, runtime: rt, optimize, ast: false })
      return r.ok ? { ok: true, compiled: loadCompiled(r.marshal, r.minor, r.version) } : { ok: false, message: r.message }
    }
    const t = setTimeout(() => {
      Promise.all([one(a, runtime), one(b, runtimeB)]).then(
        ([ra, rb]) => id === seqRef.current && setResults({ a: ra, b: rb, sources: [a, b], busy: false }),
        (e: Error) => id === seqRef.current && setResults({ a: { ok: false, message: e.message }, busy: false }),
      )
    }, COMPILE_DELAY_MS)
    return () => clearTimeout(t)
  }, [backend, a, b, runtime, runtimeB, optimize])

  /** What a run measured: both sources, their runtimes and the optimize level. */
  const runKey = JSON.stringify([a, b, runtime, runtimeB, optimize])
  const current = run && run.key === runKey && !run.busy ? run : undefined
  const measuredOf = (o: MeasureOutcome | undefined) => (o?.ok ? o.measured : undefined)
  const runBoth = async () => {
    const m = backend.measure?.bind(backend)
    if (!m || !runtime || !runtimeB) return
    const key = runKey
    setRun({ key, busy: true })
    try {
      // One after the other: two interpreters timing at once would slow each other down.
      const ra = await m({ source: a, runtime, optimize })
      const rb = await m({ source: b, runtime: runtimeB, optimize })
      setRun({ key, busy: false, a: ra, b: rb })
    } catch (e) {
      setRun({ key, busy: false, error: e instanceof Error ? e.message : String(e) })
    }
  }
  const doc = useMemo(() => {
    const ra = results.a
    const rb = results.b
    if (!ra?.ok || !rb?.ok || !results.sources) return undefined
    // A run counts only for the sources compiled now.
    const fresh = current && current.key === JSON.stringify([results.sources[0], results.sources[1], runtime, runtimeB, optimize]) ? current : undefined
    return compareSides(ra.compiled, rb.compiled, results.sources[0], results.sources[1], backend.kind, { a: codeA, b: codeB }, { a: measuredOf(fresh?.a), b: measuredOf(fresh?.b) })
  }, [results, backend, codeA, codeB, current, runtime, runtimeB, optimize])
  // A new document: the old click means nothing, and its marks go.
  useEffect(() => {
    setPicked(undefined)
    viewsRef.current.forEach((v) => v && showMarks(v, 'linked', []))
  }, [doc])

  /** Qualnames of a side's functions and classes (its code objects below the module). */
  const namesOf = (r: SideResult | undefined) => (r?.ok ? r.compiled.entries.filter((e) => e.depth > 0).map((e) => e.qualname) : [])
  const namesA = namesOf(results.a)
  const namesB = namesOf(results.b)
  /** Picking on A picks the same qualname on B when B has it (the usual question: f of A against f of B). */
  const pickCodeA = (q: string | undefined) => {
    setCodeA(q)
    if (q === undefined || namesB.includes(q)) setCodeB(q)
  }

  /** Highlights the source range of instruction `index` of a side in that side's editor. */
  const pickInstruction = (side: 0 | 1, index: number) => {
    setPicked({ side, index })
    const r = side === 0 ? results.a : results.b
    const ins = doc?.sides[side]?.instructions[index]
    const v = viewsRef.current[side]
    if (!v || !ins || !r?.ok) return
    viewsRef.current.forEach((o) => o && o !== v && showMarks(o, 'linked', []))
    const code = r.compiled.entries[ins.code]?.code
    const p = code ? disassembly(code).instructions.find((i) => i.offset === ins.offset)?.position : undefined
    const range = p && p.line !== undefined ? spanToRange({ lines: v.state.doc.lines, line: (n) => v.state.doc.line(n) }, { line: p.line, col: p.col, endLine: p.endLine ?? p.line, endCol: p.endCol }) : undefined
    showMarks(v, 'linked', range ? [{ ...range, className: 'cm-linked' }] : [], true)
  }

  const stats = useMemo(() => {
    const n = { same: 0, changed: 0, a: 0, b: 0 }
    for (const r of doc?.rows ?? []) for (const p of r.pairs ?? []) n[p.kind]++
    return n
  }, [doc])

  const errors = [results.a, results.b].map((r, k) => (r && !r.ok ? `${k ? 'B' : 'A'}: ${r.message}` : undefined)).filter(Boolean)
  const sideA = doc?.sides[0]
  const sideB = doc?.sides[1]

  return (
    <div class="compare" data-testid="compare">
      <div class="toolbar">
        <span>
          A: <b>{runtimes.find((r) => r.id === runtime)?.label ?? '…'}</b>
        </span>
        <label>
          B: Python{' '}
          <select data-testid="runtime-b" value={runtimeB} onChange={(e) => setRuntimeB((e.target as HTMLSelectElement).value)}>
            {runtimes.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <CodePicker label="A" testId="compare-code-a" names={namesA} value={codeA} onChange={pickCodeA} />
        <CodePicker label="B" testId="compare-code-b" names={namesB} value={codeB} onChange={setCodeB} />
        {backend.measure ? (
          <button type="button" data-testid="compare-run" disabled={run?.busy === true} title="runs A, then B, as pyxray compare -c runs a snippet: each instruction's executed count and the timings" onClick={() => void runBoth()}>
            {run?.busy ? 'running…' : 'run both (count, time)'}
          </button>
        ) : null}
        <span class="status" data-testid="compare-stats">
          {results.busy
            ? 'compiling…'
            : doc
              ? `${doc.mode === 'versions' ? 'same source, aligned by line' : 'two sources, aligned by line text'}: ${stats.same} same, ${stats.changed} changed, ${stats.a} only in A, ${stats.b} only in B`
              : ''}
        </span>
      </div>
      <div class="toolbar">
        <Legend
          testId="compare-legend"
          items={[
            { label: 'changed (same line, other instruction)', class: 'changed' },
            { label: 'only in A', class: 'only-a' },
            { label: 'only in B', class: 'only-b' },
            { label: 'picked (its source is marked)', class: 'selected' },
          ]}
        />
      </div>
      {run && run.key === runKey && !run.busy && (run.error || !run.a?.ok || !run.b?.ok) ? (
        <div class="error" data-testid="compare-run-error">
          {run.error ?? [run.a, run.b].map((o, k) => (o && !o.ok ? `${k ? 'B' : 'A'} did not run: ${o.message}` : '')).filter(Boolean).join(' · ')}
        </div>
      ) : null}
      {errors.length ? (
        <div class="error" data-testid="compare-error">
          {errors.join(' · ')}
        </div>
      ) : null}
      <div class="compare-editors">
        <div class="pane editor-pane" ref={hostARef} data-testid="editor-a" />
        <div class="pane editor-pane" ref={hostBRef} data-testid="editor-b" />
      </div>
      <div class="compare-lower">
        <div class="pane compare-aligned">
          {doc && sideA && sideB ? (
            <table class="bytecode aligned" data-testid="compare-table">
              <thead>
                <tr>
                  <th>A · CPython {sideA.pythonVersion}</th>
                  <th>B · CPython {sideB.pythonVersion}</th>
                </tr>
              </thead>
              <tbody ref={pairsRef}>
                {doc.rows.flatMap((row, r) => {
                  const [la, lb] = row.lines
                  const text = (s: typeof sideA, l: number | null | undefined) => (l === null || l === undefined ? '' : `${l}  ${(s.sourceLines?.[l - 1] ?? '').trim()}`)
                  const head = (
                    <tr key={`h${r}`} class="line-row">
                      <td>{la !== null || row.instructions[0]?.length ? text(sideA, la) || '(no line)' : ''}</td>
                      <td>{lb !== null || row.instructions[1]?.length ? text(sideB, lb) || '(no line)' : ''}</td>
                    </tr>
                  )
                  const ins = (side: 0 | 1, s: typeof sideA, k: number | undefined) => {
                    const i = k === undefined ? undefined : s.instructions[k]
                    return i && k !== undefined ? (
                      <td class={`pick${picked?.side === side && picked.index === k ? ' selected' : ''}`} data-side={side ? 'b' : 'a'}>
                        <button type="button" title={i.count === undefined ? 'shows its source range' : `ran ${i.count} times; shows its source range`} onClick={() => pickInstruction(side, k)}>
                          {i.count !== undefined ? <span class="count" data-testid="executed-count" data-count={i.count} style={{ display: 'inline-block', minWidth: '4.5em', textAlign: 'right', marginRight: '0.6em', opacity: i.count ? 1 : 0.5 }}>{formatCount(i.count)}</span> : null}
                          <span class="opname">{i.opname}</span> <span class="argrepr">{i.argrepr}</span>
                        </button>
                      </td>
                    ) : (
                      <td />
                    )
                  }
                  return [
                    head,
                    ...(row.pairs ?? []).map((p, k) => (
                      <tr key={`${r}.${k}`} class={`pair ${p.kind}`} data-kind={p.kind}>
                        {ins(0, sideA, p.a)}
                        {ins(1, sideB, p.b)}
                      </tr>
                    )),
                  ]
                })}
              </tbody>
            </table>
          ) : (
            <div class="muted">{results.busy ? 'compiling both sides…' : ''}</div>
          )}
        </div>
        <div class="pane compare-summary">
          {sideA && sideB ? (
            <table class="grid" data-testid="compare-summary">
              <thead>
                <tr>
                  <th>static summary</th>
                  <th class="num">A</th>
                  <th class="num">B</th>
                </tr>
              </thead>
              <tbody>
                {SUMMARY_ROWS.map(([key, label]) => {
                  const x = sideA.static.total[key]
                  const y = sideB.static.total[key]
                  return (
                    <tr key={key} class={x === y ? '' : 'differs'} data-key={key}>
                      <td>{label}</td>
                      <td class="num">{x}</td>
                      <td class="num">{y}</td>
                    </tr>
                  )
                })}
                {sideA.executed || sideB.executed ? (
                  <tr data-key="executed">
                    <td>executed instructions</td>
                    <td class="num" data-testid="executed-a">{sideA.executed?.total ?? '–'}</td>
                    <td class="num" data-testid="executed-b">{sideB.executed?.total ?? '–'}</td>
                  </tr>
                ) : null}
                {sideA.timing || sideB.timing ? (
                  <>
                    <tr data-key="timing">
                      <td>time per run (median)</td>
                      <td class="num" data-testid="timing-a">{sideA.timing ? `${formatSeconds(sideA.timing.median)} ±${((sideA.timing.iqr / 2 / sideA.timing.median) * 100).toFixed(1)} %` : '–'}</td>
                      <td class="num" data-testid="timing-b">{sideB.timing ? `${formatSeconds(sideB.timing.median)} ±${((sideB.timing.iqr / 2 / sideB.timing.median) * 100).toFixed(1)} %` : '–'}</td>
                    </tr>
                    <tr data-key="repeats">
                      <td>repeats × loops</td>
                      <td class="num">{sideA.timing ? `${sideA.timing.secondsPerLoop.length} × ${sideA.timing.loops}` : '–'}</td>
                      <td class="num">{sideB.timing ? `${sideB.timing.secondsPerLoop.length} × ${sideB.timing.loops}` : '–'}</td>
                    </tr>
                  </>
                ) : null}
              </tbody>
            </table>
          ) : null}
          {doc?.comparisons[0] && (doc.comparisons[0].timing || doc.comparisons[0].executedRatio !== null) ? (
            <div class="muted" data-testid="compare-ratio" style={{ padding: '4px 6px' }}>
              {doc.comparisons[0].executedRatio !== null ? <div>executed instructions A/B: {doc.comparisons[0].executedRatio.toFixed(2)}×</div> : null}
              {doc.comparisons[0].timing ? <div>{doc.comparisons[0].timing.text} (A and B timed one after the other)</div> : null}
              {sideA?.executed ? <div>counted with {sideA.executed.mechanism}</div> : null}
            </div>
          ) : null}
        </div>
      </div>
    </div>
  )
}

/** One side's code-object picker: the whole module, or one function or class by qualname. */
function CodePicker({ label, testId, names, value, onChange }: { label: string; testId: string; names: readonly string[]; value: string | undefined; onChange: (q: string | undefined) => void }) {
  // A name the side no longer has (edited away) shows as the module, as compareSides falls back.
  const shown = value !== undefined && names.includes(value) ? value : ''
  return (
    <label>
      {label}:{' '}
      <select data-testid={testId} value={shown} onChange={(e) => { const v = (e.target as HTMLSelectElement).value; onChange(v === '' ? undefined : v) }}>
        <option value="">whole module</option>
        {[...new Set(names)].map((q) => (
          <option key={q} value={q}>
            {q}
          </option>
        ))}
      </select>
    </label>
  )
}
