/**
 * `%load_ext pyxray` in a real Jupyter kernel: a notebook executed by nbclient (Debian's
 * python3-nbclient, python3-nbformat and python3-ipykernel for the system python3), its outputs
 * checked — every magic gives one MIME bundle with text/html and a text/plain fallback — and the
 * `%%pyxray profile` output opened in Chromium as a notebook would show it: the viewer in its
 * sandboxed frame draws the profiled function in the flame graph, loads nothing from the network
 * and raises no error. The screenshot is test-artifacts/e2e/notebook-profile.png; with
 * UPDATE_SCREENSHOTS=1 (never under CI) it is also copied to docs/img/notebook-profile.png, the
 * README's.
 *
 * Without the Debian packages (apt-get install -y python3-ipykernel python3-nbclient
 * python3-nbformat) the test is skipped with that reason; under CI=true it fails.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { readProfileDocument } from '../../src/profile/document.js'
import { HTML_REPORT_SLOT } from '../../src/profile/export/index.js'
import { inCi, requireResource } from '../resources.js'
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, missing, ROOT, WAIT } from './harness.js'

/** Debian's python3, whose packages provide the kernel and nbclient. */
const SYSTEM_PYTHON = process.env.PYXRAY_NOTEBOOK_PYTHON ?? '/usr/bin/python3'
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-notebook-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

function notebookMissing(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found (set PYXRAY_NOTEBOOK_PYTHON to a python3 with ipykernel, nbclient and nbformat)`
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import ipykernel, nbclient, nbformat'], { encoding: 'utf8' })
  if (r.status !== 0) return `${SYSTEM_PYTHON} lacks ipykernel, nbclient or nbformat (apt-get install -y python3-ipykernel python3-nbclient python3-nbformat)`
  return undefined
}

const CELLS = [
  '%load_ext pyxray',
  '%%pyxray profile\ndef fibonacci_tree(n):\n    return n if n < 2 else fibonacci_tree(n - 1) + fibonacci_tree(n - 2)\n\nfibonacci_tree(16)',
  '%%pyxray dis\ndef add(a, b):\n    return a + b',
  '%%pyxray compare -c "s = sum(range(100))" --run\ns = 0\nfor i in range(100):\n    s += i',
  '%%pyxray mem leaks -n 5 --warmup 1\nkept = globals().setdefault("kept", [])\nkept.append(bytearray(200_000))',
  'big = {"numbers": list(range(1000))}\n%pyxray size big',
  '%%pyxray profile --count instructions\ndef count_me():\n    return sum(i * i for i in range(200))\ncount_me()',
  '%%pyxray compare --save loop\nt = 0\nfor i in range(10):\n    t += i',
  '%%pyxray compare --with loop\nt = sum(range(10))',
]

/** Executes the notebook in a fresh kernel (nbclient); returns the executed notebook's JSON. */
function execute(cells: readonly string[]): { cells: { source: string; outputs: { output_type: string; data?: Record<string, string | string[]>; ename?: string; evalue?: string }[] }[] } {
  const input = join(WORK, 'in.ipynb')
  const output = join(WORK, 'out.ipynb')
  writeFileSync(input, JSON.stringify({ cells }))
  const script = `
import json, sys, nbformat, nbclient
cells = json.load(open(sys.argv[1]))["cells"]
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
nbformat.write(nb, sys.argv[2])
`
  // The kernel inherits the environment: the agent from this checkout, nothing else of the test's.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? WORK, PYTHONPATH: join(ROOT, 'python'), PYXRAY_REPORT_TEMPLATE: template }
  const r = spawnSync(SYSTEM_PYTHON, ['-c', script, input, output], { encoding: 'utf8', env, cwd: WORK, timeout: 600_000 })
  assert.equal(r.status, 0, `nbclient failed:\n${r.stdout}${r.stderr}`)
  return JSON.parse(readFileSync(output, 'utf8'))
}

/**
 * Builds the report template from the current sources into this test's own folder (other suites
 * build dist/ at the same time), handed to the kernel as $PYXRAY_REPORT_TEMPLATE.
 */
function buildReportTemplate(): string {
  const out = join(WORK, 'report')
  const build = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.report.config.ts', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: ROOT, encoding: 'utf8' },
  )
  assert.equal(build.status, 0, `vite build failed:\n${build.stdout}${build.stderr}`)
  const template = join(out, 'report.html')
  assert.ok(existsSync(template), `${template} was built`)
  return template
}

/** The page inside an `<iframe srcdoc="…">` (its attribute value unescaped). */
function srcdoc(markup: string): string {
  const m = /srcdoc="([^"]*)"/.exec(markup)
  assert.ok(m, 'a frame with srcdoc')
  return m[1]!.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

let browser: Browser | undefined
let template = ''
before(async () => {
  if (missing || notebookMissing()) return
  template = buildReportTemplate()
  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
})
after(async () => {
  await browser?.close()
})

test('the agent fills the report page exactly as pyxray report does (one data slot, same markup)', () => {
  const source = readFileSync(join(ROOT, 'python', 'pyxray', '_jupyter.py'), 'utf8')
  assert.ok(source.includes(`REPORT_SLOT = '${HTML_REPORT_SLOT}'`), 'python/pyxray/_jupyter.py REPORT_SLOT is src/profile/export/html.ts HTML_REPORT_SLOT')
})

test('a notebook executed by a real kernel: every magic answers with HTML and text; the profile viewer shows the function in Chromium', async (t) => {
  const why = notebookMissing() ?? missing
  if (why !== undefined) return requireResource(t, why)
  const nb = execute(CELLS)
  const bundle = (i: number) => {
    const outs = nb.cells[i]!.outputs
    const errors = outs.filter((o) => o.output_type === 'error')
    assert.deepEqual(errors, [], `cell ${i} raised`)
    const shown = outs.find((o) => o.output_type === 'display_data')
    assert.ok(shown?.data, `cell ${i} displays a bundle: ${JSON.stringify(outs).slice(0, 400)}`)
    assert.ok(shown.data['text/plain'] && shown.data['text/html'], `cell ${i}: text/plain and text/html in one bundle`)
    // nbformat stores multi-line text as a list of lines
    const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''))
    return { text: text(shown.data['text/plain']), html: text(shown.data['text/html']) }
  }
  const profile = bundle(1)
  assert.match(profile.text, /fibonacci_tree/)
  assert.match(profile.text, /^\s+3193\s/m, 'fibonacci_tree(16) makes 3,193 calls, exactly counted')
  assert.match(profile.html, /^<iframe class="pyxray-output" sandbox="allow-scripts allow-downloads"/)
  assert.doesNotMatch(profile.html, /no interactive viewer/)
  const disText = bundle(2).text
  assert.match(disText, /BINARY_(ADD|OP)/)
  const disPage = srcdoc(bundle(2).html)
  assert.ok(disPage.includes('<tr data-line="2">') && disPage.includes('<div id="L2">'), 'instructions link to their source line')
  assert.ok(disPage.includes('>BINARY_'), 'the instructions are in the page')
  const compare = bundle(3).text
  assert.match(compare, /FOR_ITER/)
  assert.match(compare, /executed: A [\d,]+, B [\d,]+/)
  assert.match(bundle(4).text, /KiB\/iteration|leak/i)
  assert.match(bundle(5).text, /deep [\d.]+ KiB/)
  const counted = /<script type="application\/json" id="pyxray-report">(.*?)<\/script>/s.exec(srcdoc(bundle(6).html))
  assert.ok(counted, 'the counted profile is in the page')
  const { profile: countedDoc } = JSON.parse(counted[1]!) as { profile: unknown }
  const doc = readProfileDocument(countedDoc, 'notebook cell')
  assert.equal(doc.metadata.count, 'instructions', 'the counted profile carries its counts to the viewer')
  const countMe = doc.frames.findIndex((f) => f.qualname === 'count_me')
  const node = doc.threads[0]!.root.children.flatMap((c) => [c, ...c.children]).find((n) => n.frame === countMe)
  assert.ok(node && node.executedInstructions! > 0, 'count_me executed instructions')
  assert.match(bundle(8).text, /^A: \d+ instructions, B: \d+ \(-\d+\)/, 'two cells compared (--save, then --with)')

  // As a notebook shows it: the cell, then its HTML output.
  const page = await browser!.newPage({ viewport: { width: 1100, height: 760 } })
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  const cellSource = CELLS[1]!.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const file = join(WORK, 'notebook.html')
  writeFileSync(
    file,
    `<!doctype html><html><head><meta charset="utf-8"><style>body{font:13px system-ui,sans-serif;margin:16px;background:#fff}
.in{display:flex;gap:8px}.prompt{color:#303f9f;font:12px monospace;width:60px;text-align:right;padding-top:6px}
pre{margin:0;flex:1;background:#f5f5f5;border:1px solid #e0e0e0;padding:6px;font-size:12px}.out{margin:6px 0 0 68px}</style></head>
<body><div class="in"><div class="prompt">[2]:</div><pre>${cellSource}</pre></div><div class="out">${profile.html}</div></body></html>`,
  )
  await page.goto(pathToFileURL(file).href)
  const frame = page.frameLocator('iframe.pyxray-output')
  await frame.locator('[data-testid="profile-meta"]').waitFor(WAIT)
  const inner = page.frames().find((f) => f !== page.mainFrame())!
  await inner.evaluate('new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))')
  const painted = (await inner.evaluate(`(() => {
    const c = document.querySelector('canvas[data-testid="flamegraph"]')
    if (!c || !c.width || !c.height) return 0
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
    let n = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++
    return n
  })()`)) as number
  assert.ok(painted > 1000, 'the flame graph is drawn')
  const point = (await inner.evaluate(`window.pyxrayFlame.pointOf('fibonacci_tree')`)) as { x: number; y: number } | undefined
  assert.ok(point, 'fibonacci_tree is drawn in the flame graph')
  await frame.locator('[data-testid="flame-search"]').fill('fibonacci_tree')
  assert.match(await frame.locator('[data-testid="search-result"]').innerText(), /^1 matching function/)
  mkdirSync(ARTIFACTS, { recursive: true })
  const shot = join(ARTIFACTS, 'notebook-profile.png')
  await page.screenshot({ path: shot })
  if (process.env.UPDATE_SCREENSHOTS === '1' && !inCi()) {
    mkdirSync(join(ROOT, 'docs', 'img'), { recursive: true })
    copyFileSync(shot, join(ROOT, 'docs', 'img', 'notebook-profile.png'))
  }
  assert.deepEqual(errors, [])
  assert.deepEqual(
    requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('about:')),
    [],
    'no network requests',
  )
  await page.close()
})
