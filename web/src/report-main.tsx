/**
 * The self-contained HTML report (`pyxray report PROFILE --format html`): the Profile viewer over
 * the profile embedded in the page — no server, no Pyodide, no network. The CLI puts
 * `{ "name": …, "profile": … }` into the `pyxray-report` JSON script of the built template.
 */
import { render } from 'preact'
import type { ProfileDocument } from '../../src/profile/document.js'
import { type Backend, BackendError, type CompileResult, type ProfileEntry, type RuntimeOption } from './backend.js'
import { openProfile, ProfileViewer } from './profile/viewer.js'
import './style.css'
import { initTheme, ShortcutsDialog, ThemeSwitch, useShortcutsDialog } from './ui.js'

initTheme()

/** What the CLI embeds. */
interface ReportData {
  readonly name: string
  readonly profile: unknown
}

/** The report's backend: the embedded profile, and nothing that would need Python or a network. */
export class ReportBackend implements Backend {
  readonly kind = 'report' as const
  readonly description = 'pyxray report (offline)'
  constructor(
    private readonly name: string,
    private readonly doc: ProfileDocument,
  ) {}
  async runtimes(): Promise<RuntimeOption[]> {
    return []
  }
  async compile(): Promise<CompileResult> {
    throw new BackendError('NO_PYTHON', 'a report cannot compile: open the profile with pyxray serve to see bytecode')
  }
  async profiles(): Promise<ProfileEntry[]> {
    return [{ id: '0', name: this.name, path: this.name, kind: 'profile' }]
  }
  async loadProfile(): Promise<ProfileDocument> {
    return this.doc
  }
  async source(): Promise<string | undefined> {
    return undefined
  }
}

function Report({ backend, failure }: { backend?: Backend; failure?: string }) {
  const [shortcuts, setShortcuts] = useShortcutsDialog()
  return (
    <div class="app" data-backend="report">
      <header>
        <b class="logo">pyxray</b>
        <span>profile report</span>
        <span class="muted">{backend?.description ?? ''}</span>
        <ThemeSwitch />
        <button type="button" class="header-button" data-testid="shortcuts-button" aria-keyshortcuts="?" title="keyboard shortcuts (?)" onClick={() => setShortcuts(true)}>
          ?<span class="visually-hidden"> keyboard shortcuts</span>
        </button>
      </header>
      <ShortcutsDialog open={shortcuts} onClose={() => setShortcuts(false)} />
      {failure ? (
        <div class="error" role="alert" data-testid="report-error">
          {failure}
        </div>
      ) : null}
      {backend ? (
        <main>
          <div class="view">
            <ProfileViewer backend={backend} />
          </div>
        </main>
      ) : null}
    </div>
  )
}

function start(): void {
  const root = document.getElementById('app')!
  let data: ReportData | null = null
  try {
    data = JSON.parse(document.getElementById('pyxray-report')?.textContent ?? 'null') as ReportData | null
  } catch (e) {
    render(<Report failure={`the embedded profile is damaged: ${e instanceof Error ? e.message : String(e)}`} />, root)
    return
  }
  if (!data) {
    render(<Report failure="no profile embedded: this is the report template; make a report with pyxray report PROFILE.json --format html -o report.html" />, root)
    return
  }
  const doc = openProfile(data.profile, data.name)
  if (typeof doc === 'string') {
    render(<Report failure={doc} />, root)
    return
  }
  render(<Report backend={new ReportBackend(data.name, doc)} />, root)
}

start()
