/** Picks the transport of the main UI (kept apart from backend.ts so the HTML report bundles neither transport). */
import type { Backend } from './backend.js'

/** Picks the transport: `pyxray serve` marks the page it serves; anything else is static. */
export async function detectBackend(): Promise<Backend> {
  const served = document.querySelector('meta[name="pyxray-backend"]')?.getAttribute('content') === 'server'
  const forced = new URLSearchParams(location.search).get('backend')
  if (served && forced !== 'pyodide') {
    const { HttpBackend } = await import('./backend-http.js')
    return new HttpBackend(new URL('.', location.href).href)
  }
  const { PyodideBackend } = await import('./backend-pyodide.js')
  return new PyodideBackend(new URL('pyodide/', document.baseURI).href)
}
