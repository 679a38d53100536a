/** The pyxray web UI: the Bytecode Explorer and the Profile viewer over one {@link Backend}. */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { type Backend, detectBackend } from './backend.js'
import { Explorer } from './explorer/explorer.js'
import { ProfileViewer } from './profile/viewer.js'
import './style.css'

type View = 'explorer' | 'profile'

function App() {
  const [backend, setBackend] = useState<Backend>()
  const [failure, setFailure] = useState<string>()
  const [view, setView] = useState<View>(() => (location.hash === '#profile' ? 'profile' : 'explorer'))
  useEffect(() => {
    detectBackend().then(setBackend, (e: Error) => setFailure(e.message))
  }, [])
  useEffect(() => {
    history.replaceState(null, '', view === 'profile' ? '#profile' : '#')
  }, [view])
  return (
    <div class="app" data-backend={backend?.kind ?? ''}>
      <header>
        <b class="logo">pyxray</b>
        <nav>
          <button class={view === 'explorer' ? 'active' : ''} data-testid="nav-explorer" onClick={() => setView('explorer')}>
            Bytecode Explorer
          </button>
          <button class={view === 'profile' ? 'active' : ''} data-testid="nav-profile" onClick={() => setView('profile')}>
            Profile viewer
          </button>
        </nav>
        <span class="muted" data-testid="backend">
          {backend ? backend.description : 'starting…'}
        </span>
      </header>
      {failure ? <div class="error">{failure}</div> : null}
      {backend ? (
        <main>
          <div hidden={view !== 'explorer'} class="view">
            <Explorer backend={backend} />
          </div>
          <div hidden={view !== 'profile'} class="view">
            <ProfileViewer backend={backend} />
          </div>
        </main>
      ) : null}
    </div>
  )
}

render(<App />, document.getElementById('app')!)
