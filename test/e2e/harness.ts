/** Shared pieces of the web e2e suites: Chromium, a static file server, page helpers. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, resolve, sep } from 'node:path'
import type { Page } from 'playwright-core'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const WEB = join(ROOT, 'dist', 'web')
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')
/** Debian's Chromium, run headless without the services a test does not need (see DEVELOPERS.md). */
export const CHROMIUM = process.env.PYXRAY_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export const missing = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set PYXRAY_CHROMIUM)`
if (missing && process.env.CI === 'true') throw new Error(`${missing}: required under CI=true`)

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.zip': 'application/zip' }

/** A plain static file server for the build, mounted under /some/sub/path/ to prove relative paths. */
export function staticServer(root: string, mount: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    if (!path.startsWith(mount)) {
      res.writeHead(404).end()
      return
    }
    let file = resolve(root, `.${path.slice(mount.length - 1)}`)
    if (file === root || (existsSync(file) && statSync(file).isDirectory())) file = join(file, 'index.html')
    if (!file.startsWith(root + sep) || !existsSync(file)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
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
