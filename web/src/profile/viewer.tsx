/**
 * The Profile viewer: open a profile (file picker, drag and drop, or one `pyxray serve` offers),
 * pick a process (when child processes were profiled) and a thread, see the flame graph or icicle
 * — or a function's sandwich, its callers above and its callees below — search it (next and
 * previous match), hide library frames, read the tables, click a frame for its source and bytecode.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { type ProfileDocument, readProfileDocument } from '../../../src/profile/document.js'
import { collapseFrames, type FlameTreeNode, isLibraryFrame, sandwich, threadTree } from '../../../src/profile/flame-tree.js'
import { processDocument, processesOf, processLabel } from '../../../src/profile/processes.js'
import type { Backend, ProfileEntry } from '../backend.js'
import { FlameGraph } from './flame.js'
import { FrameCode, useSourceFiles } from './frame-code.js'
import { formatNs } from '../../../src/profile/units.js'
import { layoutTree } from './layout.js'
import { flameTheme, packageColour, useThemeVersion } from './palette.js'
import { packageLegend, profileSource, shareText, weightText } from './sources.js'
import { CallTreeTable, TopFunctionsTable } from './tables.js'
import { Divider, FileButton } from '../ui.js'

/** What the graph area shows. */
type GraphView = 'flame' | 'sandwich'

/**
 * A profile document from JSON text or a parsed value, read by the core reader (any version pyxray
 * reads, checked against the schema); a one-line message naming `name` when it is not usable.
 */
export function openProfile(input: unknown, name: string): ProfileDocument | string {
  try {
    const doc = readProfileDocument(input, name)
    return emptyProfile(doc, name) ?? doc
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

/** Why a document the reader accepts still has nothing to show (no threads), naming the field; undefined when it has. */
export function emptyProfile(doc: ProfileDocument, name: string): string | undefined {
  return doc.threads.length === 0 ? `${name}: invalid profile at /threads: no threads (nothing was recorded); profile the program again` : undefined
}

/** The viewer. */
export function ProfileViewer({ backend }: { backend: Backend }) {
  const [entries, setEntries] = useState<ProfileEntry[]>([])
  /** The profile as loaded: the root process and its children (`processes`). */
  const [loaded, setLoaded] = useState<ProfileDocument>()
  const [processIx, setProcessIx] = useState(0)
  const [name, setName] = useState('')
  const [error, setError] = useState<string>()
  const [threadIx, setThreadIx] = useState(0)
  const [icicle, setIcicle] = useState(false)
  const [query, setQuery] = useState('')
  const [selected, setSelected] = useState<number>()
  /** The current search match (an index into the matching nodes), after next / previous. */
  const [matchPos, setMatchPos] = useState<{ nodes: readonly number[]; ix: number }>()
  const [hideLibrary, setHideLibrary] = useState(false)
  const [view, setView] = useState<GraphView>('flame')
  /** The sandwich's function (a frame index), and the node selected in its callers or callees graph. */
  const [sandwichFn, setSandwichFn] = useState<number>()
  const [sandwichSel, setSandwichSel] = useState<{ side: 'callers' | 'callees'; node: number }>()
  const [table, setTable] = useState<'tree' | 'top'>('top')
  const [dragging, setDragging] = useState(false)
  /** Source files added so far (the static build): the frame panel reloads when it changes. */
  const [sources, addSources] = useSourceFiles(backend, setError)

  const open = (d: ProfileDocument, n: string) => {
    setLoaded(d)
    setProcessIx(0)
    setName(n)
    setThreadIx(Math.max(0, d.threads.findIndex((t) => t.main)))
    setSelected(undefined)
    setSandwichFn(undefined)
    setSandwichSel(undefined)
    setError(undefined)
  }
  /** A file that cannot be shown replaces the view too: its error, not the previous file's graph. */
  const fail = (message: string) => {
    setLoaded(undefined)
    setName('')
    setSelected(undefined)
    setError(message)
  }
  const openText = (text: string, n: string) => {
    const d = openProfile(text, n)
    if (typeof d === 'string') fail(d)
    else open(d, n)
  }
  const openFile = (f: File | undefined) => {
    if (f) f.text().then((t) => openText(t, f.name), (e: Error) => fail(`${f.name}: ${e.message}`))
  }
  const tablesRef = useRef<HTMLDivElement>(null)
  /** A document a backend read (the core reader ran there): still checked for something to show. */
  const openChecked = (d: ProfileDocument, n: string) => {
    const empty = emptyProfile(d, n)
    if (empty) fail(empty)
    else open(d, n)
  }

  useEffect(() => {
    backend.profiles().then(
      (ps) => {
        const profiles = ps.filter((p) => (p.kind ?? 'profile') === 'profile')
        setEntries(profiles)
        const first = profiles[0]
        if (first) backend.loadProfile(first.id).then((d) => { const empty = emptyProfile(d, first.name); if (empty) fail(empty); else open(d, first.name) }, (e: Error) => fail(e.message))
      },
      (e: Error) => setError(e.message),
    )
  }, [backend])

  /** The process shown, read as a profile of its own (its metadata and threads, the shared frames). */
  const doc = useMemo(() => (loaded ? processDocument(loaded, Math.min(processIx, loaded.processes?.length ?? 0)) : undefined), [loaded, processIx])
  const processes = useMemo(() => (loaded ? processesOf(loaded) : []), [loaded])
  const thread = doc?.threads[threadIx]
  const fullTree = useMemo(() => (doc && thread ? threadTree(doc, thread) : undefined), [doc, thread])
  /** Library frames: their frame indices (stdlib, site-packages, builtins). */
  const libraryFrames = useMemo(() => new Set(doc ? doc.frames.flatMap((f, i) => (isLibraryFrame(f) ? [i] : [])) : []), [doc])
  /** The tree drawn: library frames collapsed into their callers when hidden. */
  const tree = useMemo(() => (fullTree && hideLibrary ? collapseFrames(fullTree, (f) => libraryFrames.has(f)) : fullTree), [fullTree, hideLibrary, libraryFrames])
  const layout = useMemo(() => (tree ? layoutTree(tree) : undefined), [tree])
  const source = useMemo(() => (doc && layout ? profileSource(doc, layout) : undefined), [doc, layout])
  const legend = useMemo(() => (doc && layout ? packageLegend(doc, layout) : []), [doc, layout])
  // Another tree: node ids mean other nodes.
  useEffect(() => {
    setSelected(undefined)
    setSandwichSel(undefined)
  }, [tree])
  const sandwiched = useMemo(() => {
    if (!doc || !tree || sandwichFn === undefined) return undefined
    // A library function while library frames are hidden: its sandwich from the whole tree.
    const { callers, callees } = sandwich(hideLibrary && libraryFrames.has(sandwichFn) && fullTree ? fullTree : tree, sandwichFn)
    const callersLayout = layoutTree(callers)
    const calleesLayout = layoutTree(callees)
    return { callers: profileSource(doc, callersLayout), callees: profileSource(doc, calleesLayout) }
  }, [doc, tree, fullTree, hideLibrary, libraryFrames, sandwichFn])
  useEffect(() => setSandwichSel(undefined), [sandwiched])
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase()
    if (!doc || !q) return undefined
    const s = new Set<number>()
    doc.frames.forEach((f, i) => {
      if (f.qualname.toLowerCase().includes(q) || f.file.toLowerCase().includes(q)) s.add(i)
    })
    return s
  }, [doc, query])
  const matchShare = useMemo(() => {
    if (!layout || !matches) return undefined
    // Time under matching frames, each stack counted once (outermost match only). Ids are in
    // pre-order (a parent before its children), so one pass knows whether a match is above a node:
    // linear, also for a recursive function matched 100,000 times down one path.
    let sum = 0
    let nodes = 0
    const under = new Uint8Array(layout.frame.length)
    for (let id = 0; id < layout.frame.length; id++) {
      const p = layout.parent[id]!
      const above = p >= 0 && under[p] === 1
      const match = matches.has(layout.frame[id]!)
      if (match) {
        nodes++
        if (!above) sum += layout.width[id]!
      }
      under[id] = above || match ? 1 : 0
    }
    return { nodes, share: layout.total ? sum / layout.total : 0 }
  }, [layout, matches])
  /** The matching nodes, left to right and callers before callees (pre-order): what next / previous step through. */
  const matchNodes = useMemo(() => {
    if (!layout || !matches) return []
    const out: number[] = []
    for (let id = 0; id < layout.frame.length; id++) if (matches.has(layout.frame[id]!)) out.push(id)
    return out
  }, [layout, matches])
  /** The current match, while the matches are the ones it was picked from (another search or tree starts over). */
  const matchIx = matchPos?.nodes === matchNodes ? matchPos.ix : undefined
  /** Selects the next (+1) or previous (−1) match, wrapping around. */
  const stepMatch = (dir: 1 | -1) => {
    if (matchNodes.length === 0) return
    const n = matchNodes.length
    const ix = matchIx === undefined ? (dir === 1 ? 0 : n - 1) : (matchIx + dir + n) % n
    setMatchPos({ nodes: matchNodes, ix })
    setSelected(matchNodes[ix])
    if (view !== 'flame') setView('flame')
  }
  const memory = useMemo(() => (doc ? doc.metadata.memory === true : false), [doc])
  /** The frame the details panel shows: the selected node of the graph in view. */
  const detail = ((): { node: FlameTreeNode; share: string; weight: (v: number) => string } | undefined => {
    if (view === 'sandwich') {
      const src = sandwichSel ? sandwiched?.[sandwichSel.side] : undefined
      const node = src && sandwichSel ? src.layout.tree.nodes[sandwichSel.node] : undefined
      return src && node ? { node, share: shareText(src.layout, node.value), weight: (v) => weightText(src.layout, v) } : undefined
    }
    const node = selected !== undefined && layout ? layout.tree.nodes[selected] : undefined
    return node && layout ? { node, share: shareText(layout, node.value), weight: (v) => weightText(layout, v) } : undefined
  })()
  const selFrame = detail && detail.node.fn >= 0 && doc ? doc.frames[detail.node.fn] : undefined
  /** A function picked in a table: the sandwich's function, or its widest node selected in the graph. */
  const pickFrame = (frame: number) => {
    if (view === 'sandwich') {
      setSandwichFn(frame)
      return
    }
    if (!layout) return
    let best = -1
    for (let id = 0; id < layout.frame.length; id++) if (layout.frame[id] === frame && (best < 0 || layout.width[id]! > layout.width[best]!)) best = id
    if (best >= 0) setSelected(best)
  }
  /** Functions the sandwich can show, by total time (each function's outermost calls). */
  const sandwichChoices = useMemo(() => {
    if (!doc || !layout || view !== 'sandwich') return []
    const totals = new Map<number, number>()
    // Pre-order, with how often each function is on the path: only outermost calls add (recursion counts once).
    const path: number[] = []
    const onPath = new Map<number, number>()
    for (let id = 0; id < layout.frame.length; id++) {
      while (path.length > layout.depth[id]!) {
        const left = path.pop()!
        onPath.set(left, (onPath.get(left) ?? 1) - 1)
      }
      const f = layout.frame[id]!
      if (f >= 0 && !onPath.get(f)) totals.set(f, (totals.get(f) ?? 0) + layout.width[id]!)
      onPath.set(f, (onPath.get(f) ?? 0) + 1)
      path.push(f)
    }
    return [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 500)
  }, [doc, layout, view])
  const openSandwich = () => {
    setView('sandwich')
    if (sandwichFn !== undefined) return
    // The selected frame's function, else the root's widest callee's.
    const sel = selected !== undefined && layout ? layout.frame[selected]! : -1
    const first = layout && layout.frame.length > 1 ? layout.frame[1]! : -1
    setSandwichFn(sel >= 0 ? sel : first >= 0 ? first : undefined)
  }
  // Read at every render; a theme switch causes one.
  useThemeVersion()
  const theme = doc ? flameTheme() : undefined

  return (
    <div
      class={`viewer${dragging ? ' dragging' : ''}`}
      data-testid="profile-viewer"
      onDragOver={(e) => {
        e.preventDefault()
        setDragging(true)
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault()
        setDragging(false)
        // .py files are sources for the frame panel; anything else is a profile.
        const files = Array.from(e.dataTransfer?.files ?? [])
        addSources(files.filter((f) => f.name.endsWith('.py')))
        openFile(files.find((f) => !f.name.endsWith('.py')))
      }}
    >
      <div class="toolbar">
        <FileButton label="open profile…" accept=".json,application/json" testId="profile-file" onFiles={(fs) => openFile(fs[0])} />
        {backend.addSource && doc ? (
          <FileButton
            label="add source files…"
            accept=".py,text/x-python"
            multiple
            testId="profile-sources"
            title="the profiled .py files: their source and bytecode (compiled in this browser) show when you click a frame"
            onFiles={addSources}
          />
        ) : null}
        {entries.length ? (
          <select
            aria-label="profiles pyxray serve offers"
            data-testid="server-profiles"
            onChange={(e) => {
              const id = (e.target as HTMLSelectElement).value
              const en = entries.find((x) => x.id === id)
              if (en) backend.loadProfile(id).then((d) => openChecked(d, en.name), (err: Error) => fail(err.message))
            }}
          >
            {entries.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        ) : null}
        {doc ? (
          <>
            {processes.length > 1 ? (
              <select
                aria-label="process"
                data-testid="process"
                title={`${processes.length} processes: the profiled program and the child processes it started`}
                value={String(processIx)}
                onChange={(e) => {
                  const ix = Number((e.target as HTMLSelectElement).value)
                  setProcessIx(ix)
                  setThreadIx(Math.max(0, loaded ? processDocument(loaded, ix).threads.findIndex((t) => t.main) : 0))
                  setSelected(undefined)
                }}
              >
                {processes.map((p) => (
                  <option key={p.index} value={String(p.index)}>
                    {processLabel(p, 60)}
                  </option>
                ))}
              </select>
            ) : null}
            <select aria-label="thread" data-testid="thread" value={String(threadIx)} onChange={(e) => { setThreadIx(Number((e.target as HTMLSelectElement).value)); setSelected(undefined) }}>
              {doc.threads.map((t, i) => (
                <option key={t.id} value={String(i)}>
                  {t.name}
                  {t.main ? ' (main)' : ''} — {formatNs(t.root.totalNs)}
                </option>
              ))}
            </select>
            <label>
              <input type="checkbox" checked={icicle} onChange={(e) => setIcicle((e.target as HTMLInputElement).checked)} /> icicle
            </label>
            <label>
              <input type="checkbox" data-testid="hide-library" checked={hideLibrary} onChange={(e) => setHideLibrary((e.target as HTMLInputElement).checked)} /> hide library frames
            </label>
            <input
              type="search"
              placeholder="search functions"
              aria-label="search functions (Enter: next match, Shift+Enter: previous)"
              data-testid="flame-search"
              value={query}
              onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
              onKeyDown={(e) => {
                if (e.key !== 'Enter') return
                e.preventDefault()
                stepMatch(e.shiftKey ? -1 : 1)
              }}
            />
            {matches ? (
              <>
                <button type="button" data-testid="search-prev" disabled={matchNodes.length === 0} onClick={() => stepMatch(-1)} aria-label="previous match">
                  ◀
                </button>
                <button type="button" data-testid="search-next" disabled={matchNodes.length === 0} onClick={() => stepMatch(1)} aria-label="next match">
                  ▶
                </button>
                <span class="status" data-testid="search-result" role="status">
                  {matches.size} matching function{matches.size === 1 ? '' : 's'}, {((matchShare?.share ?? 0) * 100).toFixed(1)}% of the time ·{' '}
                  <span data-testid="search-position">
                    {matchIx === undefined ? '' : `${matchIx + 1} of `}
                    {matchNodes.length} frame{matchNodes.length === 1 ? '' : 's'}
                  </span>
                </span>
              </>
            ) : null}
          </>
        ) : null}
      </div>
      {error ? (
        <div class="error" role="alert" data-testid="profile-error">
          {error}
        </div>
      ) : null}
      {!doc ? (
        error ? null : <div class="drop-hint">Open a profile (pyxray profile -o run.json script.py) with the button, or drop the file here.</div>
      ) : (
        <>
          <div class="meta muted" data-testid="profile-meta">
            {name} · CPython {doc.metadata.python.version} · {doc.metadata.mode} mode · {doc.metadata.clock} clock · {formatNs(doc.metadata.durationNs)}
            {doc.metadata.partial ? ' · partial run' : ''}
          </div>
          <div class="toolbar graph-views" role="group" aria-label="graph view">
            <button type="button" data-testid="view-flame" class={view === 'flame' ? 'active' : ''} aria-pressed={view === 'flame'} onClick={() => setView('flame')}>
              flame graph
            </button>
            <button type="button" data-testid="view-sandwich" class={view === 'sandwich' ? 'active' : ''} aria-pressed={view === 'sandwich'} onClick={openSandwich}>
              sandwich
            </button>
            <button type="button" data-testid="view-time-order" disabled title="pyxray profiles store call trees merged over time (no timestamps), so there is no time order to show">
              time order
            </button>
            {view === 'sandwich' ? (
              <label>
                function{' '}
                <select data-testid="sandwich-function" value={sandwichFn === undefined ? '' : String(sandwichFn)} onChange={(e) => setSandwichFn(Number((e.target as HTMLSelectElement).value))}>
                  {sandwichFn !== undefined && !sandwichChoices.some(([f]) => f === sandwichFn) ? <option value={String(sandwichFn)}>{doc.frames[sandwichFn]?.qualname}</option> : null}
                  {sandwichChoices.map(([f, total]) => (
                    <option key={f} value={String(f)}>
                      {doc.frames[f]?.qualname} — {layout ? weightText(layout, total) : ''}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            {theme ? (
              <span class="legend" data-testid="flame-legend" title="colour: the package of the function (muted: library code)">
                colour = package:{' '}
                {legend.map((e) => (
                  <span key={e.name} class="legend-entry">
                    <span class="swatch" data-colour={packageColour(e.name, e.library, theme)} style={{ background: packageColour(e.name, e.library, theme) }} /> {e.name}
                    {e.library ? ' (lib)' : ''}{' '}
                  </span>
                ))}
              </span>
            ) : null}
          </div>
          {view === 'flame' ? (
            <div class="flame-scroll">{source ? <FlameGraph source={source} matches={matches} icicle={icicle} selected={selected} onSelect={setSelected} /> : null}</div>
          ) : sandwiched && sandwichFn !== undefined ? (
            <div class="sandwich" data-testid="sandwich" style={{ flex: '0 0 auto', height: '55%', minHeight: 0, display: 'flex', flexDirection: 'column' }}>
              <div class="muted sandwich-title" style={{ padding: '2px 10px' }}>callers of {doc.frames[sandwichFn]?.qualname} (merged over its call sites; the function at the bottom)</div>
              <div class="flame-scroll" style={{ flex: '1 1 50%', maxHeight: 'none', minHeight: 0 }}>
                <FlameGraph source={sandwiched.callers} matches={matches} icicle={false} selected={sandwichSel?.side === 'callers' ? sandwichSel.node : undefined} onSelect={(node) => setSandwichSel({ side: 'callers', node })} testId="sandwich-callers" title={`callers of ${doc.frames[sandwichFn]?.qualname ?? ''}`} minimap={false} />
              </div>
              <div class="muted sandwich-title" style={{ padding: '2px 10px' }}>callees of {doc.frames[sandwichFn]?.qualname} (the function at the top)</div>
              <div class="flame-scroll" style={{ flex: '1 1 50%', maxHeight: 'none', minHeight: 0 }}>
                <FlameGraph source={sandwiched.callees} matches={matches} icicle selected={sandwichSel?.side === 'callees' ? sandwichSel.node : undefined} onSelect={(node) => setSandwichSel({ side: 'callees', node })} testId="sandwich-callees" title={`callees of ${doc.frames[sandwichFn]?.qualname ?? ''}`} minimap={false} />
              </div>
            </div>
          ) : (
            <div class="muted">Pick a function for its callers and callees.</div>
          )}
          <div class="lower">
            <div class="tables" ref={tablesRef}>
              <div class="tabs">
                <button type="button" class={table === 'top' ? 'active' : ''} aria-pressed={table === 'top'} data-testid="table-top" onClick={() => setTable('top')}>
                  top functions
                </button>
                <button type="button" class={table === 'tree' ? 'active' : ''} aria-pressed={table === 'tree'} data-testid="table-tree" onClick={() => setTable('tree')}>
                  call tree
                </button>
              </div>
              {thread ? (
                table === 'top' ? (
                  <TopFunctionsTable doc={doc} thread={thread} memory={memory} onPick={pickFrame} />
                ) : (
                  <CallTreeTable doc={doc} thread={thread} memory={memory} onPick={(n) => n.frame !== null && pickFrame(n.frame)} />
                )
              ) : null}
            </div>
            <Divider target={tablesRef} label="resize the tables" />
            {/* A scrolling region: focusable, so the keyboard can scroll it. */}
            {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex */}
            <div class="details" data-testid="frame-details" tabIndex={0} role="region" aria-label="the chosen frame">
              {selFrame && detail ? (
                <>
                  <h3>{selFrame.qualname}</h3>
                  <div class="muted">
                    {selFrame.file}:{selFrame.firstlineno} · calls {detail.node.calls} · total {detail.weight(detail.node.value)} ({detail.share}) · self {detail.weight(detail.node.self)}
                  </div>
                  {view === 'flame' && detail.node.fn >= 0 ? (
                    <button
                      type="button"
                      data-testid="open-sandwich"
                      onClick={() => {
                        setSandwichFn(detail.node.fn)
                        setView('sandwich')
                      }}
                    >
                      callers and callees (sandwich)
                    </button>
                  ) : null}
                  <FrameCode backend={backend} doc={doc} frame={selFrame} sources={sources} />
                </>
              ) : (
                <div class="muted">Click a frame in the graph or a table row to see its source and bytecode.</div>
              )}
            </div>
          </div>
        </>
      )}
    </div>
  )
}
