/** Shared pieces of the web e2e suites: Chromium, a static file server, page helpers. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import sirv from 'sirv'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const WEB = join(ROOT, 'dist', 'web')
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')
/** Debian's Chromium, run headless without the services a test does not need (see DEVELOPERS.md). */
export const CHROMIUM = process.env.PYXRAY_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export const missing = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set PYXRAY_CHROMIUM)`
if (missing && process.env.CI === 'true') throw new Error(`${missing}: required under CI=true`)

/**
 * A plain static file host for the build (sirv, as any static host would serve it), mounted under
 * `mount` (/some/sub/path/) to prove the build's relative paths.
 */
export function staticServer(root: string, mount: string): Promise<{ server: Server; url: string }> {
  const files = sirv(root, { dev: true, etag: true })
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (!url.startsWith(mount)) return void res.writeHead(404).end()
    req.url = `/${url.slice(mount.length)}`
    files(req, res, () => void res.writeHead(404).end())
  })
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${mount}` })))
}

/**
 * Pixels of the flame-graph canvas that are not blank. (Browser-side code is passed as text: the
 * tests are type-checked without DOM types.)
 */
export async function paintedPixels(page: Page): Promise<number> {
  return (await page.evaluate(`(() => {
    const c = document.querySelector('canvas[data-testid="flamegraph"]')
    if (!c || !c.width || !c.height) return 0
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
    let n = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++
    return n
  })()`)) as number
}

/** Replaces an editor's text (default: the Explorer's): typed key by key, or pasted when it has several lines (no auto-indent). */
export async function typeSource(page: Page, text: string, editor = '[data-testid="editor"]'): Promise<void> {
  await page.click(`${editor} .cm-content`)
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  if (text.includes('\n')) await page.keyboard.insertText(text)
  else await page.keyboard.type(text)
}

/** Waiting limit of page waits (Pyodide's first load is slow on a busy machine). */
export const WAIT = { timeout: Number(process.env.PYXRAY_E2E_WAIT_MS ?? 120_000) }

/** Builds the web UI and the HTML report template from the current sources (a second or two with Vite). */
export function buildWeb(): void {
  // Always from the current sources (one second with Vite).
  for (const config of ['web/vite.config.ts', 'web/vite.report.config.ts']) {
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', config, '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(build.status, 0, `vite build --config ${config} failed:\n${build.stdout}${build.stderr}`)
  }
}
