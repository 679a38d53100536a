/** Shared pieces of the web e2e suites: Chromium, a static file server, page helpers. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import type { ProfileDocument, ProfileNode } from '../../src/profile/document.js'
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

export const PROFILES = join(ROOT, 'test', 'fixtures', 'profiles')
/** A real pair: planted.py profiled twice, parse() made 30 % slower in head (as test/diff.test.ts). */
const BASE = join(PROFILES, 'planted-base.json')
const HEAD = join(PROFILES, 'planted-head.json')

/**
 * The planted pair as the e2e serves and opens it: frames moved to this checkout's
 * test/fixtures/profiles/src (the server then reads planted.py), and head without its
 * `os.environ.get` call (Mapping.get), so the diff has a call path only in base.
 */
export function plantedPair(dir: string): [string, string] {
  const src = join(PROFILES, 'src')
  const load = (file: string) => {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ProfileDocument & { metadata: { cwd: string } }
    const cwd = doc.metadata.cwd
    for (const f of doc.frames as unknown as { file: string }[]) if (f.file.startsWith(`${cwd}/`)) f.file = join(src, f.file.slice(cwd.length + 1))
    doc.metadata.cwd = src
    return doc
  }
  const base = load(BASE)
  const head = load(HEAD)
  const get = head.frames.findIndex((f) => f.qualname === 'Mapping.get')
  const root = head.threads[0]!.root as ProfileNode & { totalNs: number; children: ProfileNode[] }
  const module = root.children[0] as ProfileNode & { totalNs: number; children: ProfileNode[] }
  const gone = module.children.find((c) => c.frame === get)
  assert.ok(gone, 'planted-head.json calls Mapping.get from <module>')
  module.children = module.children.filter((c) => c !== gone)
  module.totalNs -= gone.totalNs
  root.totalNs -= gone.totalNs
  const out: [string, string] = [join(dir, 'planted-base.json'), join(dir, 'planted-head.json')]
  writeFileSync(out[0], JSON.stringify(base))
  writeFileSync(out[1], JSON.stringify(head))
  return out
}

/**
 * The memory documents of the e2e: a planted leak, a deep size, a retention path, line memory and
 * type growth (pyxray mem, system python3), and an error document — written by the memory agent
 * itself (python -m pyxray.memory), as `pyxray mem` stops with exit 2 on an error instead of
 * writing it.
 */
export function memoryDocuments(dir: string): string[] {
  const planted = join(ROOT, 'test', 'fixtures', 'memory', 'planted.py')
  const runs: [string, string[]][] = [
    ['leaks.json', ['leaks', planted, '--call', 'cache_leak()', '--iterations', '10']],
    ['size.json', ['size', '[x, x]', '--setup', 'x = "a" * 100']],
    ['path.json', ['path', '--type', 'Widget', planted, '--call', 'listener_leak()']],
    ['lines.json', ['lines', `${planted}:closure_leak`, '--call', 'closure_leak()']],
    ['growth.json', ['growth', planted, '--call', 'closure_leak()', '--iterations', '5']],
  ]
  const docs = runs.map(([name, args]) => {
    const out = join(dir, name)
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'mem', ...args, '--format', 'json', '-o', out], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(r.status, 0, `pyxray mem ${args[0]} failed:\n${r.stderr}`)
    return out
  })
  const error = join(dir, 'error.json')
  const python = process.env.PYXRAY_PYTHON ?? 'python3'
  const r = spawnSync(python, ['-m', 'pyxray.memory', '-o', error, 'path', '--type', 'Nope', planted], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') } })
  assert.equal(r.status, 2, `the memory agent reports an unknown type with exit 2:\n${r.stderr}`)
  return [...docs, error]
}

