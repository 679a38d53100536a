/**
 * The Bytecode Explorer: the editor on the left; the bytecode of the chosen code object in the
 * middle; the stack stepper, AST and code-object inspector on the right. Source and bytecode are
 * linked by CPython's positions, column-precise, both ways.
 */
import { EditorView } from '@codemirror/view'
import { memo } from 'preact/compat'
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { Backend, RuntimeOption } from '../backend.js'
import { type Compiled, disassembly, loadCompiled, type Span, spanToRange } from '../compiled.js'
import { encodeLink, type ExplorerLink, type ExplorerTab } from '../permalink.js'
import type { AstNode, SyntaxErrorDetails } from '../../../src/runtime/types.js'
import { AstPane } from './ast-pane.js'
import { BytecodePane } from './bytecode-pane.js'
import { CodePane } from './code-pane.js'
import { type CompareState, CompareView } from './compare.js'
import { createEditor, showMarks } from './editor.js'
import { StackPane } from './stack-pane.js'
import { Divider, LoadProgress } from '../ui.js'

/** The sample the explorer opens with. */
export const SAMPLE = `def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def safe_div(x, y):
    try:
        return x / y
    except ZeroDivisionError:
        return None


print([fib(i) for i in range(10)], safe_div(1, 0))
`

type Tab = ExplorerTab

/** Pause after the last change before the address bar's permalink is refreshed. */
const LINK_DELAY_MS = 400

/** Props of {@link Explorer}. */
export interface ExplorerProps {
  readonly backend: Backend
  /** The state a permalink restores. */
  readonly initial?: ExplorerLink | undefined
  /** Whether the Explorer is the visible view (it then keeps the address bar's permalink current). */
  readonly active?: boolean
}

/** The runtime of a permalink on this backend: the same id, else the same version, else the first. */
function linkRuntime(rs: readonly RuntimeOption[], link: ExplorerLink | undefined): string | undefined {
  return (rs.find((r) => r.id === link?.runtime) ?? rs.find((r) => r.version === link?.version) ?? rs.find((r) => r.default) ?? rs[0])?.id
}


interface State {
  readonly compiled?: Compiled
  readonly ast?: AstNode
  /** What the state was compiled from: source, runtime and optimize. */
  readonly key?: string
  readonly syntax?: { message: string; details: SyntaxErrorDetails | null }
  readonly failure?: string
  readonly busy: boolean
}

/** Instruction indices whose source span overlaps [from, to) (or contains the cursor). */
function instructionsAt(view: EditorView, d: ReturnType<typeof disassembly>, from: number, to: number): Set<number> {
  const doc = { lines: view.state.doc.lines, line: (n: number) => view.state.doc.line(n) }
  const out = new Set<number>()
  d.instructions.forEach((ins, k) => {
    const p = ins.position
    if (p.line === undefined || p.col === undefined) return
    const r = spanToRange(doc, { line: p.line, col: p.col, endLine: p.endLine ?? p.line, endCol: p.endCol })
    if (!r) return
    if (from === to ? r.from <= from && from <= r.to && r.from < r.to : r.from < to && from < r.to) out.add(k)
  })
  return out
}

/**
 * The URL a copied link gives: under `pyxray serve` with the server's token in the query (the server
 * trades it for its cookie and drops it from the address bar), so the link also opens in a browser
 * that has not been there yet; elsewhere the page's own address.
 */
function shareUrl(hash: string): string {
  const url = new URL(hash, location.href)
  const token = document.querySelector('meta[name="pyxray-token"]')?.getAttribute('content')
  if (token) url.searchParams.set('token', token)
  return url.href
}

/**
 * The code-object picker's options, from one string (depth and qualname per line): a keystroke in a
 * module of a thousand functions recompiles every code object, but the list is the same string, so
 * nothing is diffed.
 */
const CodeObjectOptions = memo(function CodeObjectOptions({ list }: { list: string }) {
  if (!list) return null
  return (
    <>
      {list.split('\n').map((line) => {
        const tab = line.indexOf(' ')
        const name = line.slice(tab + 1)
        return (
          <option key={name} value={name}>
            {'  '.repeat(Number(line.slice(0, tab)))}
            {name}
          </option>
        )
      })}
    </>
  )
})

/** The explorer. */
export function Explorer({ backend, initial, active = true }: ExplorerProps) {
  const editorHostRef = useRef<HTMLDivElement>(null)
  const bytecodePaneRef = useRef<HTMLDivElement>(null)
  const viewRef = useRef<EditorView | undefined>(undefined)
  const [source, setSource] = useState(initial?.source ?? SAMPLE)
  const [runtimes, setRuntimes] = useState<RuntimeOption[]>([])
  const [runtime, setRuntime] = useState<string>()
  const [optimize, setOptimize] = useState<-1 | 0 | 1 | 2>(initial?.optimize ?? -1)
  const [state, setState] = useState<State>({ busy: true })
  const [qualname, setQualname] = useState<string>(initial?.qualname ?? '<module>')
  const [selected, setSelected] = useState<number>()
  const [linked, setLinked] = useState<ReadonlySet<number>>(new Set())
  const [tab, setTab] = useState<Tab>(initial?.tab ?? 'stack')
  const [compare, setCompare] = useState<CompareState | undefined>(initial?.compare)
  const [comparing, setComparing] = useState(initial?.compare !== undefined)
  const [link, setLink] = useState<{ url: string; copied: boolean }>()
  const seqRef = useRef(0)
  /** The permalink's state: read once, when the Explorer opens (runtimes and editor start from it). */
  const initialRef = useRef(initial)

  useEffect(() => {
    backend.runtimes().then(
      (rs) => {
        setRuntimes(rs)
        setRuntime((r) => r ?? linkRuntime(rs, initialRef.current))
      },
      (e: Error) => setState({ busy: false, failure: e.message }),
    )
  }, [backend])

  // The editor lives outside Preact's tree; it reports edits and selections back.
  const onSelectRef = useRef<(from: number, to: number) => void>(() => {})
  useEffect(() => {
    if (!editorHostRef.current) return undefined
    const v = createEditor(editorHostRef.current, initialRef.current?.source ?? SAMPLE, {
      change: (text) => setSource(text),
      select: (from, to) => onSelectRef.current(from, to),
    })
    viewRef.current = v
    ;(window as unknown as { pyxrayEditor?: EditorView }).pyxrayEditor = v
    return () => v.destroy()
  }, [])

  // Compile on every edit, at once, one request at a time: an edit made while a compile is in
  // flight waits for it, and only the newest of those edits is compiled then (typing fast does
  // not queue compiles, and a pause after a keystroke costs no fixed delay). Stale answers are
  // dropped. The AST costs a second agent request (and a large JSON answer), so it is asked for
  // only while the AST pane is open.
  const wantAst = tab === 'ast'
  const currentRef = useRef<State>(state)
  currentRef.current = state
  /** The compile in flight, if any. */
  const inflightRef = useRef<Promise<unknown> | undefined>(undefined)
  // A layout effect: the compile starts when the edit is rendered, not a frame later.
  useLayoutEffect(() => {
    if (!runtime) return undefined
    const key = JSON.stringify([source, runtime, optimize])
    const have = currentRef.current
    if (have.key === key && !have.busy && (!wantAst || have.ast || have.syntax)) return undefined
    const id = ++seqRef.current
    setState((s) => ({ ...s, busy: true }))
    const run = () => {
      // A newer edit came while the last compile was in flight: that one runs instead.
      if (id !== seqRef.current) return
      // Timings for npm run bench:web (performance.getEntriesByType('mark')).
      performance.mark('pyxray:compile-start')
      const done = backend.compile({ source, runtime, optimize, ast: wantAst }).then(
        (r) => {
          if (id !== seqRef.current) return
          performance.mark('pyxray:compiled')
          if (!r.ok) {
            setState((s) => ({ ...s, busy: false, key, syntax: { message: r.message, details: r.syntax }, failure: undefined }))
            return
          }
          // Only the AST was missing (its pane opened): the bytecode stays the same objects, so
          // nothing is decoded or rendered again.
          const had = currentRef.current
          if (had.key === key && had.compiled && r.ast) {
            setState({ busy: false, key, compiled: had.compiled, ast: r.ast })
            return
          }
          try {
            const compiled = loadCompiled(r.marshal, r.minor, r.version)
            performance.mark('pyxray:decoded')
            setState({ busy: false, key, compiled, ...(r.ast ? { ast: r.ast } : {}) })
          } catch (e) {
            setState((s) => ({ ...s, busy: false, failure: e instanceof Error ? e.message : String(e) }))
          }
        },
        (e: Error) => {
          if (id === seqRef.current) setState((s) => ({ ...s, busy: false, failure: e.message }))
        },
      )
      inflightRef.current = done
      void done.finally(() => {
        if (inflightRef.current === done) inflightRef.current = undefined
      })
    }
    // Edits of one task (a paste, a replaced document) are one compile.
    const t = setTimeout(() => {
      const busy = inflightRef.current
      if (busy) void busy.then(run, run)
      else run()
    }, 0)
    return () => clearTimeout(t)
  }, [backend, source, runtime, optimize, wantAst])

  useLayoutEffect(() => {
    if (state.compiled) performance.mark('pyxray:rendered')
  }, [state.compiled])

  const entry = state.compiled?.entries.find((e) => e.qualname === qualname) ?? state.compiled?.entries[0]
  // The AST pane's nodes below the tree's top levels, fetched from the source and runtime the tree came from.
  const astKey = state.ast ? state.key : undefined
  const fetchAstNode = useMemo(() => {
    if (!astKey || !backend.astNode) return undefined
    const [src, rt] = JSON.parse(astKey) as [string, string | undefined]
    const get = backend.astNode.bind(backend)
    return (path: string) => get({ source: src, runtime: rt, path })
  }, [astKey, backend])
  const optionList = useMemo(() => state.compiled?.entries.map((e) => `${e.depth} ${e.qualname}`).join('\n') ?? '', [state.compiled])
  const d = useMemo(() => (entry ? disassembly(entry.code) : undefined), [entry])

  // Syntax errors as a squiggle in the editor.
  useEffect(() => {
    const v = viewRef.current
    if (!v) return
    const s = state.syntax?.details
    if (!s || s.lineno === null) {
      showMarks(v, 'error', [])
      return
    }
    const line = v.state.doc.line(Math.min(Math.max(1, s.lineno), v.state.doc.lines))
    // SyntaxError offsets are 1-based character offsets into the line.
    const from = line.from + Math.min(Math.max(0, (s.offset ?? 1) - 1), line.length)
    const to = s.end_lineno === s.lineno && s.end_offset ? line.from + Math.min(Math.max(0, s.end_offset - 1), line.length) : from + 1
    showMarks(v, 'error', [{ from, to, className: 'cm-syntax-error', title: `${s.type}: ${s.message}` }])
  }, [state.syntax])

  const highlight = useCallback((span: Span | undefined) => {
    const v = viewRef.current
    if (!v) return
    const r = span && spanToRange({ lines: v.state.doc.lines, line: (n) => v.state.doc.line(n) }, span)
    showMarks(v, 'linked', r ? [{ ...r, className: 'cm-linked' }] : [], true)
  }, [])

  const selectInstruction = useCallback(
    (k: number) => {
      setSelected(k)
      setLinked(new Set())
      const p = d?.instructions[k]?.position
      highlight(p && p.line !== undefined ? { line: p.line, col: p.col, endLine: p.endLine ?? p.line, endCol: p.endCol } : undefined)
    },
    [d, highlight],
  )

  /** Shows a code object: its bytecode, and its first line in the editor (scrolled to, cursor there). */
  const pickCodeObject = (name: string) => {
    setQualname(name)
    setSelected(undefined)
    setLinked(new Set())
    const v = viewRef.current
    const code = state.compiled?.entries.find((e) => e.qualname === name)?.code
    if (!v || !code) return
    const line = v.state.doc.line(Math.min(Math.max(1, code.firstlineno), v.state.doc.lines))
    v.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: 'start', yMargin: 24 }) })
  }

  onSelectRef.current = (from, to) => {
    const v = viewRef.current
    if (!v || !state.compiled) return
    // The innermost code object with instructions at the selection.
    for (const e of [...state.compiled.entries].sort((a, b) => b.depth - a.depth)) {
      const hits = instructionsAt(v, disassembly(e.code), from, to)
      if (hits.size) {
        setQualname(e.qualname)
        setLinked(hits)
        setSelected(undefined)
        showMarks(v, 'linked', [])
        return
      }
    }
    setLinked(new Set())
  }

  /** The permalink of the current state. */
  const shownQualname = entry?.qualname ?? qualname
  const currentLink = useCallback(
    (): Promise<string> =>
      encodeLink({
        v: 1,
        source,
        runtime,
        version: runtimes.find((r) => r.id === runtime)?.version,
        optimize,
        tab,
        qualname: shownQualname,
        ...(comparing && compare ? { compare } : {}),
      }),
    [source, runtime, runtimes, optimize, tab, shownQualname, comparing, compare],
  )
  // The address bar follows the state (debounced), so a reload or a bookmark keeps it.
  useEffect(() => {
    if (!active || !runtime) return undefined
    let live = true
    const t = setTimeout(() => {
      void currentLink().then((hash) => live && history.replaceState(null, '', hash))
    }, LINK_DELAY_MS)
    return () => {
      live = false
      clearTimeout(t)
    }
  }, [active, runtime, currentLink])
  const copyLink = async () => {
    const hash = await currentLink()
    history.replaceState(null, '', hash)
    const url = shareUrl(hash)
    let copied = false
    try {
      await navigator.clipboard.writeText(url)
      copied = true
    } catch {
      // No clipboard permission (or an insecure context): the box below holds the link to copy.
    }
    setLink({ url, copied })
  }

  const syntaxLine = state.syntax
    ? (() => {
        const s = state.syntax.details
        return s ? `${s.type} at line ${s.lineno ?? '?'}, column ${s.offset ?? '?'}: ${s.message}` : state.syntax.message
      })()
    : undefined

  return (
    <div class="explorer">
      <div class="toolbar">
        <label>
          Python{' '}
          <select data-testid="runtime" value={runtime} onChange={(e) => setRuntime((e.target as HTMLSelectElement).value)}>
            {runtimes.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          optimize{' '}
          <select value={String(optimize)} onChange={(e) => setOptimize(Number((e.target as HTMLSelectElement).value) as -1 | 0 | 1 | 2)}>
            <option value="-1">default</option>
            <option value="0">0</option>
            <option value="1">1 (-O)</option>
            <option value="2">2 (-OO)</option>
          </select>
        </label>
        <label>
          code object{' '}
          <select data-testid="code-object" value={entry?.qualname} onChange={(e) => pickCodeObject((e.target as HTMLSelectElement).value)}>
            <CodeObjectOptions list={optionList} />
          </select>
        </label>
        <label>
          <input type="checkbox" data-testid="compare-toggle" checked={comparing} onChange={(e) => setComparing((e.target as HTMLInputElement).checked)} /> compare
        </label>
        <button data-testid="copy-link" onClick={() => void copyLink()} title="a link that opens this code, runtime and pane">
          copy link
        </button>
        <span class="status" data-testid="compile-status">
          {state.busy ? 'compiling…' : state.syntax ? `${runtimes.find((r) => r.id === runtime)?.label ?? ''}: syntax error, the bytecode shown is the last that compiled` : state.compiled ? `CPython ${state.compiled.version}` : ''}
        </span>
      </div>
      {link ? (
        <div class="linkbar">
          <span class="muted">{link.copied ? 'link copied:' : 'copy this link:'}</span>
          <input data-testid="permalink" readOnly value={link.url} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          <button onClick={() => setLink(undefined)}>×</button>
        </div>
      ) : null}
      {syntaxLine ? (
        <div class="error" data-testid="syntax-error">
          {syntaxLine}
        </div>
      ) : null}
      {state.failure ? (
        <div class="error" data-testid="failure">
          {state.failure}
        </div>
      ) : null}
      {comparing ? (
        <CompareView
          backend={backend}
          runtimes={runtimes}
          runtime={runtime}
          optimize={optimize}
          initial={compare ?? { a: source, b: source, runtimeB: runtimes.find((r) => r.id !== runtime)?.id }}
          onChange={setCompare}
        />
      ) : null}
      <div class="panes" hidden={comparing}>
        <div class="pane editor-pane" ref={editorHostRef} data-testid="editor" />
        <Divider target={editorHostRef} label="resize the editor" />
        <div class={`pane bytecode-pane${state.syntax ? ' stale' : ''}`} ref={bytecodePaneRef}>
          {d ? <BytecodePane d={d} selected={selected} linked={linked} onSelect={selectInstruction} /> : state.busy ? <LoadProgress backend={backend} /> : null}
        </div>
        <Divider target={bytecodePaneRef} label="resize the bytecode" />
        <div class={`pane side-pane${state.syntax ? ' stale' : ''}`}>
          <div class="tabs">
            {(['stack', 'ast', 'code'] as const).map((t) => (
              <button type="button" key={t} class={t === tab ? 'active' : ''} aria-pressed={t === tab} data-testid={`tab-${t}`} onClick={() => setTab(t)}>
                {t === 'stack' ? 'Stack' : t === 'ast' ? 'AST' : 'Code object'}
              </button>
            ))}
          </div>
          <div class="tab-body">
            {d && tab === 'stack' ? <StackPane d={d} index={selected ?? 0} onStep={selectInstruction} /> : null}
            {state.ast && tab === 'ast' ? <AstPane ast={state.ast} onPick={highlight} fetchNode={fetchAstNode} /> : null}
            {d && entry && tab === 'code' ? <CodePane code={entry.code} d={d} /> : null}
          </div>
        </div>
      </div>
    </div>
  )
}
