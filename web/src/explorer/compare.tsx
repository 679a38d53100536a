/**
 * Compare mode of the Explorer: two editors (two implementations, or one source on two runtimes),
 * their bytecode aligned side by side by src/bytecode/compare — one block per source line, blocks
 * matched by line number (same source) or by the line's text (two sources), instructions within a
 * block matched by a longest common subsequence — so equal parts line up and differences stand
 * out; and the static summary of each side.
 */
import type { EditorView } from '@codemirror/view'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { buildCompare, type CompareDocument, type StaticSummary } from '../../../src/bytecode/compare/index.js'
import type { Backend, RuntimeOption } from '../backend.js'
import { type Compiled, loadCompiled } from '../compiled.js'
import { createEditor } from './editor.js'

/** What compare mode keeps (and the permalink stores). */
export interface CompareState {
  /** Source of side A. */
  readonly a: string
  /** Source of side B. */
  readonly b: string
  /** Runtime id of side B; side A uses the explorer's runtime. */
  readonly runtimeB?: string | undefined
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

/** Builds the compare document of two compiled sides. */
export function compareSides(a: Compiled, b: Compiled, sourceA: string, sourceB: string, kind: string): CompareDocument {
  const side = (label: string, c: Compiled, source: string) => ({
    label,
    target: `editor ${label}`,
    runtime: { kind, version: c.version, executable: '' },
    module: c.module,
    selected: c.module,
    sourceLines: source.split('\n'),
    setup: null,
    call: null,
  })
  return buildCompare(sourceA === sourceB ? 'versions' : 'pair', [side('A', a, sourceA), side('B', b, sourceB)])
}

/** The compare view. */
export function CompareView({ backend, runtimes, runtime, optimize, initial, onChange }: CompareViewProps) {
  const hostA = useRef<HTMLDivElement>(null)
  const hostB = useRef<HTMLDivElement>(null)
  const [a, setA] = useState(initial.a)
  const [b, setB] = useState(initial.b)
  const [runtimeB, setRuntimeB] = useState(initial.runtimeB ?? runtime)
  const [results, setResults] = useState<{ a?: SideResult; b?: SideResult; sources?: readonly [string, string]; busy: boolean }>({ busy: true })
  const seq = useRef(0)

  useEffect(() => {
    const views: EditorView[] = []
    if (hostA.current) views.push(createEditor(hostA.current, initial.a, { change: setA, select: () => {} }))
    if (hostB.current) views.push(createEditor(hostB.current, initial.b, { change: setB, select: () => {} }))
    ;(window as unknown as { pyxrayCompareEditors?: EditorView[] }).pyxrayCompareEditors = views
    return () => views.forEach((v) => v.destroy())
  }, [])
  useEffect(() => {
    if (runtimeB === undefined && runtime !== undefined) setRuntimeB(runtime)
  }, [runtime, runtimeB])
  useEffect(() => onChange({ a, b, runtimeB }), [a, b, runtimeB])

  useEffect(() => {
    if (!runtime || !runtimeB) return undefined
    const id = ++seq.current
    setResults((r) => ({ ...r, busy: true }))
    const one = async (source: string, rt: string): Promise<SideResult> => {
      const r = await backend.compile({ source, runtime: rt, optimize, ast: false })
      return r.ok ? { ok: true, compiled: loadCompiled(r.marshal, r.minor, r.version) } : { ok: false, message: r.message }
    }
    const t = setTimeout(() => {
      Promise.all([one(a, runtime), one(b, runtimeB)]).then(
        ([ra, rb]) => id === seq.current && setResults({ a: ra, b: rb, sources: [a, b], busy: false }),
        (e: Error) => id === seq.current && setResults({ a: { ok: false, message: e.message }, busy: false }),
      )
    }, COMPILE_DELAY_MS)
    return () => clearTimeout(t)
  }, [backend, a, b, runtime, runtimeB, optimize])

  const doc = useMemo(() => {
    const ra = results.a
    const rb = results.b
    if (!ra?.ok || !rb?.ok || !results.sources) return undefined
    return compareSides(ra.compiled, rb.compiled, results.sources[0], results.sources[1], backend.kind)
  }, [results, backend])

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
        <span class="status" data-testid="compare-stats">
          {results.busy
            ? 'compiling…'
            : doc
              ? `${doc.mode === 'versions' ? 'same source, aligned by line' : 'two sources, aligned by line text'}: ${stats.same} same, ${stats.changed} changed, ${stats.a} only in A, ${stats.b} only in B`
              : ''}
        </span>
      </div>
      {errors.length ? (
        <div class="error" data-testid="compare-error">
          {errors.join(' · ')}
        </div>
      ) : null}
      <div class="compare-editors">
        <div class="pane editor-pane" ref={hostA} data-testid="editor-a" />
        <div class="pane editor-pane" ref={hostB} data-testid="editor-b" />
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
              <tbody>
                {doc.rows.flatMap((row, r) => {
                  const [la, lb] = row.lines
                  const text = (s: typeof sideA, l: number | null | undefined) => (l === null || l === undefined ? '' : `${l}  ${(s.sourceLines?.[l - 1] ?? '').trim()}`)
                  const head = (
                    <tr key={`h${r}`} class="line-row">
                      <td>{la !== null || row.instructions[0]?.length ? text(sideA, la) || '(no line)' : ''}</td>
                      <td>{lb !== null || row.instructions[1]?.length ? text(sideB, lb) || '(no line)' : ''}</td>
                    </tr>
                  )
                  const ins = (s: typeof sideA, k: number | undefined) => {
                    const i = k === undefined ? undefined : s.instructions[k]
                    return i ? (
                      <>
                        <span class="opname">{i.opname}</span> <span class="argrepr">{i.argrepr}</span>
                      </>
                    ) : null
                  }
                  return [
                    head,
                    ...(row.pairs ?? []).map((p, k) => (
                      <tr key={`${r}.${k}`} class={`pair ${p.kind}`} data-kind={p.kind}>
                        <td>{ins(sideA, p.a)}</td>
                        <td>{ins(sideB, p.b)}</td>
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
                  <th>A</th>
                  <th>B</th>
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
              </tbody>
            </table>
          ) : null}
        </div>
      </div>
    </div>
  )
}
