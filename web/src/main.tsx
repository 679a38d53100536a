/** The pyxray web UI: the Bytecode Explorer and the Profile viewer over one {@link Backend}. */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { Backend } from './backend.js'
import { detectBackend } from './detect.js'
import { Explorer } from './explorer/explorer.js'
import { decodeLink, type ExplorerLink, LINK_PREFIX } from './permalink.js'
import { MemoryView } from './memory/memory-view.js'
import { DiffView } from './profile/diff-view.js'
import { ProfileViewer } from './profile/viewer.js'
import './style.css'
import { initTheme, ShortcutsDialog, ThemeSwitch, typing, useShortcutsDialog } from './ui.js'

initTheme()

type View = 'explorer' | 'profile' | 'diff' | 'memory'

const VIEWS: readonly View[] = ['explorer', 'profile', 'diff', 'memory']

/** The view a hash opens. */
function viewOf(hash: string): View {
  if (hash === '#profile') return 'profile'
  if (hash === '#diff') return 'diff'
  if (hash === '#memory') return 'memory'
  return 'explorer'
}

/**
 * The transport, picked as soon as this module runs — before the UI mounts — so that in the static
 * build Pyodide's worker starts fetching and compiling its WebAssembly at once.
 */
const backendReady = detectBackend()

function App() {
  const [backend, setBackend] = useState<Backend>()
  const [failure, setFailure] = useState<string>()
  const [view, setView] = useState<View>(() => viewOf(location.hash))
  /** The permalink's state: undefined while it is read, null when there is none. */
  const [link, setLink] = useState<ExplorerLink | null | undefined>(location.hash.startsWith(LINK_PREFIX) ? undefined : null)
  useEffect(() => {
    backendReady.then(setBackend, (e: Error) => setFailure(e.message))
  }, [])
  // The permalink is read once: this runs again when it is known, and then does nothing.
  useEffect(() => {
    if (link !== undefined) return
    decodeLink(location.hash).then(
      (l) => setLink(l ?? null),
      (e: Error) => {
        setFailure(`${e.message} — the Explorer opens with its sample instead`)
        setLink(null)
      },
    )
  }, [link])
  const [shortcuts, setShortcuts] = useShortcutsDialog()
  // Alt+1 … Alt+4 switch views (outside text fields and the editor).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const n = Number(e.key)
      if (!e.altKey || e.ctrlKey || e.metaKey || !(n >= 1 && n <= VIEWS.length) || typing(e)) return
      e.preventDefault()
      setView(VIEWS[n - 1]!)
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  useEffect(() => {
    // The Explorer writes its own permalink into the hash; the other views name themselves.
    if (view !== 'explorer') history.replaceState(null, '', `#${view}`)
    else if (!location.hash.startsWith(LINK_PREFIX)) history.replaceState(null, '', '#')
  }, [view])
  return (
    <div class="app" data-backend={backend?.kind ?? ''}>
      <header>
        <b class="logo">pyxray</b>
        <nav aria-label="views">
          <button type="button" aria-current={view === 'explorer' ? 'page' : undefined} class={view === 'explorer' ? 'active' : ''} data-testid="nav-explorer" onClick={() => setView('explorer')}>
            Bytecode Explorer
          </button>
          <button type="button" aria-current={view === 'profile' ? 'page' : undefined} class={view === 'profile' ? 'active' : ''} data-testid="nav-profile" onClick={() => setView('profile')}>
            Profile viewer
          </button>
          <button type="button" aria-current={view === 'diff' ? 'page' : undefined} class={view === 'diff' ? 'active' : ''} data-testid="nav-diff" onClick={() => setView('diff')}>
            Profile diff
          </button>
          <button type="button" aria-current={view === 'memory' ? 'page' : undefined} class={view === 'memory' ? 'active' : ''} data-testid="nav-memory" onClick={() => setView('memory')}>
            Memory
          </button>
        </nav>
        <span class="muted" data-testid="backend">
          {backend ? backend.description : 'starting…'}
        </span>
        <ThemeSwitch />
        <button type="button" class="header-button" data-testid="shortcuts-button" aria-keyshortcuts="?" title="keyboard shortcuts (?)" onClick={() => setShortcuts(true)}>
          ?<span class="visually-hidden"> keyboard shortcuts</span>
        </button>
      </header>
      <ShortcutsDialog open={shortcuts} onClose={() => setShortcuts(false)} />
      {failure ? <div class="error" role="alert">{failure}</div> : null}
      {backend ? (
        <main>
          <div hidden={view !== 'explorer'} class="view">
            {link !== undefined ? <Explorer backend={backend} initial={link ?? undefined} active={view === 'explorer'} /> : null}
          </div>
          <div hidden={view !== 'profile'} class="view">
            <ProfileViewer backend={backend} />
          </div>
          <div hidden={view !== 'diff'} class="view">
            <DiffView backend={backend} />
          </div>
          <div hidden={view !== 'memory'} class="view">
            <MemoryView backend={backend} />
          </div>
        </main>
      ) : null}
    </div>
  )
}

render(<App />, document.getElementById('app')!)
