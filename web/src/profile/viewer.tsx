/**
 * The Profile viewer: open a profile (file picker, drag and drop, or one `pyxray serve` offers),
 * pick a process (when child processes were profiled) and a thread, see the flame graph or icicle, search it, read the tables, click a frame for its
 * source and bytecode.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { type ProfileDocument, readProfileDocument } from '../../../src/profile/document.js'
import { processDocument, processesOf, processLabel } from '../../../src/profile/processes.js'
import type { Backend, ProfileEntry } from '../backend.js'
import { FlameGraph } from './flame.js'
import { FrameCode, useSourceFiles } from './frame-code.js'
import { formatNs } from '../../../src/profile/units.js'
import { layoutThread } from './layout.js'
import { CallTreeTable, TopFunctionsTable } from './tables.js'
import { Divider, FileButton } from '../ui.js'

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
  const layout = useMemo(() => (doc && thread ? layoutThread(doc, thread) : undefined), [doc, thread])
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
    const under = new Uint8Array(layout.nodes.length)
    for (let id = 0; id < layout.nodes.length; id++) {
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
  const memory = useMemo(() => (doc ? doc.metadata.memory === true : false), [doc])
  const selNode = selected !== undefined && layout ? layout.nodes[selected] : undefined
  const selFrame = selNode && selNode.frame !== null && doc ? doc.frames[selNode.frame] : undefined
  const pickFrame = (frame: number) => {
    if (!layout) return
    let best = -1
    for (let id = 0; id < layout.nodes.length; id++) if (layout.frame[id] === frame && (best < 0 || layout.width[id]! > layout.width[best]!)) best = id
    if (best >= 0) setSelected(best)
  }

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
            <input type="search" aria-label="search functions" placeholder="search functions" data-testid="flame-search" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
            {matchShare ? (
              <span class="status" data-testid="search-result">
                {matches!.size} matching function{matches!.size === 1 ? '' : 's'}, {(matchShare.share * 100).toFixed(1)}% of the time
              </span>
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
          <div class="flame-scroll">{layout ? <FlameGraph doc={doc} layout={layout} matches={matches} icicle={icicle} selected={selected} onSelect={setSelected} /> : null}</div>
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
              {selFrame && selNode ? (
                <>
                  <h3>{selFrame.qualname}</h3>
                  <div class="muted">
                    {selFrame.file}:{selFrame.firstlineno} · calls {selNode.calls} · total {formatNs(selNode.totalNs)} · self {formatNs(selNode.selfNs)}
                  </div>
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
