/**
 * End-to-end, in real Chromium on both transports: the Explorer's compare mode and permalinks, the
 * profile diff view, the memory tab, the HTML report.
 * Screenshots go to test-artifacts/e2e/. Skipped with the reason without Chromium (a failure
 * under CI=true), as test/e2e/web.test.ts.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { type RunningServer, startServer } from '../../src/server/server.js'
import { ARTIFACTS, buildWeb, CHROMIUM, CHROMIUM_ARGS, memoryDocuments, missing, paintedPixels, plantedPair, PROFILES, ROOT, staticServer, typeSource, WAIT, WEB } from './harness.js'

/** Colors along a horizontal strip of `width` CSS px through a frame's widest node, as "r,g,b" strings. */
async function stripOf(page: Page, testId: string, qualname: string, width: number): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const p = window.pyxrayFlames[${JSON.stringify(testId)}].pointOf(${JSON.stringify(qualname)})
    if (!p) return []
    const c = document.querySelector('canvas[data-testid=${JSON.stringify(testId)}]')
    const r = c.getBoundingClientRect()
    const k = c.width / r.width
    const d = c.getContext('2d').getImageData(Math.round((p.x - r.left - ${width} / 2) * k), Math.round((p.y - r.top - 6) * k), Math.round(${width} * k), 1).data
    const out = []
    for (let i = 0; i < d.length; i += 4) out.push(d[i] + ',' + d[i + 1] + ',' + d[i + 2])
    return out
  })()`)) as string[]
}

/** Clicks a frame of a flame graph (its widest node). */
async function clickFrame(page: Page, testId: string, qualname: string, double = false): Promise<void> {
  const p = (await page.evaluate(`window.pyxrayFlames[${JSON.stringify(testId)}].pointOf(${JSON.stringify(qualname)})`)) as { x: number; y: number } | undefined
  assert.ok(p, `${qualname} is drawn in ${testId}`)
  if (double) await page.mouse.dblclick(p.x, p.y)
  else await page.mouse.click(p.x, p.y)
}

/** The color drawn at the middle of a function's widest node in a flame graph, as [r, g, b]. */
async function colorOf(page: Page, testId: string, qualname: string): Promise<[number, number, number]> {
  // Waits for the node to be painted (an opaque pixel): the canvas draws on the next animation frame.
  const handle = await page.waitForFunction(
    `(() => {
    const p = window.pyxrayFlames?.[${JSON.stringify(testId)}]?.pointOf(${JSON.stringify(qualname)})
    if (!p) return null
    const c = document.querySelector('canvas[data-testid=${JSON.stringify(testId)}]')
    const r = c.getBoundingClientRect()
    const k = c.width / r.width
    const d = c.getContext('2d').getImageData(Math.round((p.x - r.left) * k), Math.round((p.y - r.top - 6) * k), 1, 1).data
    return d[3] === 255 ? [d[0], d[1], d[2]] : null
  })()`,
    undefined,
    WAIT,
  )
  return (await handle.jsonValue()) as [number, number, number]
}

/** The diff view of the planted pair: parse is the regression (and with it the total), listed first and drawn red. */
async function diffChecks(page: Page, shot: string): Promise<void> {
  await page.locator('[data-testid="diff-summary"]', { hasText: '2 regressions, 0 improvements' }).waitFor(WAIT)
  const first = page.locator('[data-testid="diff-functions"] tbody tr').first()
  assert.equal(await first.getAttribute('data-status'), 'regression')
  assert.match(await first.innerText(), /^parse\s+planted\.py\s+regression\s+5\.91 ms\s+7\.56 ms\s+\+1\.65 ms\s+\+27\.9%/)
  const [r, g, b] = await colorOf(page, 'diff-flamegraph', 'parse')
  assert.ok(r > b + 60 && r > g + 60, `parse is drawn red (rgb ${r}, ${g}, ${b})`)
  const [r2, , b2] = await colorOf(page, 'diff-flamegraph', 'render')
  assert.ok(b2 > r2, `render (faster) is drawn blue (rgb ${r2}, ?, ${b2})`)
  // The call path only in base is drawn (zoomed in: it is 0.1 % wide) in grey stripes.
  await clickFrame(page, 'diff-flamegraph', 'Mapping.get', true)
  await page.evaluate('new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))')
  const strip = await stripOf(page, 'diff-flamegraph', 'Mapping.get', 40)
  const greys = new Set(strip.filter((c) => {
    const [r, g, b] = c.split(',').map(Number) as [number, number, number]
    return Math.abs(r - g) < 6 && Math.abs(g - b) < 6 && r > 120 && r < 250
  }))
  assert.ok(greys.size >= 2, `Mapping.get is hatched grey: ${strip.slice(0, 12).join(' ')}`)
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-diff-vanished.png`) })
  await clickFrame(page, 'diff-flamegraph', 'Mapping.get')
  assert.equal(await page.locator('[data-testid="diff-details-status"]').innerText(), 'vanished (only in base)')
  const vanished = await page.locator('[data-testid="diff-details-values"] tbody tr').allInnerTexts()
  assert.match(vanished[2]!, /^calls\s+1\s+–\s+-1$/, `calls base 1, head none: ${vanished.join(' | ')}`)
  await page.click('.diff-view button.reset')
  // A frame that got slower: base vs head, and its source and bytecode where the backend reads files.
  await clickFrame(page, 'diff-flamegraph', 'parse')
  assert.equal(await page.locator('[data-testid="diff-details-name"]').innerText(), 'parse')
  assert.match(await page.locator('[data-testid="diff-details-path"]').innerText(), /^<module> → main → parse · changed$/)
  const values = await page.locator('[data-testid="diff-details-values"] tbody tr').allInnerTexts()
  assert.match(values[0]!, /^self\s+5\.91 ms\s+7\.56 ms\s+\+1\.65 ms$/)
  assert.match(values[2]!, /^calls\s+4\s+4\s+0$/)
  if (shot === 'static') {
    // The static build reads no files: the frame asks for its .py, then compiles it with Pyodide.
    assert.match(await page.locator('[data-testid="diff-details"] [data-testid="frame-code-missing"]').innerText(), /open planted\.py with "add source files…"/)
    await page.setInputFiles('[data-testid="diff-sources"]', join(PROFILES, 'src', 'planted.py'))
  }
  const code = page.locator('[data-testid="diff-details"] [data-testid="frame-code"]')
  await code.waitFor(WAIT)
  assert.match(await code.locator('pre.source').innerText(), /def parse\(n\):[\s\S]*return total/)
  assert.ok((await code.locator('[data-testid="bytecode"] tbody tr', { hasText: 'BINARY_OP' }).count()) > 0, 'the bytecode of parse')
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-diff-details.png`) })
  // The CLI's options recompute the diff (the same verdicts as pyxray diff with those flags).
  const summary = (text: string) => page.locator('[data-testid="diff-summary"]', { hasText: text }).waitFor(WAIT)
  // A number is taken when the field commits it (Tab, Enter or leaving the field), as the browser's change event.
  const set = async (field: string, value: string) => {
    await page.fill(`[data-testid="${field}"]`, value)
    await page.press(`[data-testid="${field}"]`, 'Tab')
  }
  await set('diff-threshold', '30')
  await summary('0 regressions, 0 improvements')
  await set('diff-threshold', '10')
  await summary('2 regressions, 0 improvements')
  await set('diff-min-time', '10')
  await summary('0 regressions, 0 improvements')
  await set('diff-min-time', '1')
  await page.selectOption('[data-testid="diff-metric"]', 'total')
  // <module>, main, parse, and the total (+13.5 %)
  await summary('4 regressions, 0 improvements')
  assert.deepEqual((await page.locator('[data-testid="diff-functions"] tbody tr[data-status="regression"] td:first-child').allInnerTexts()).map((t) => t.split(/\s/)[0]).sort(), ['<module>', 'main', 'parse'])
  await set('diff-threshold', '15')
  await summary('1 regression, 0 improvements')
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-diff-options.png`) })
}

/** The memory tab: the leak verdict and its line, the deep size by type, the retention chain. */
async function memoryChecks(page: Page, shot: string): Promise<void> {
  await page.locator('[data-testid="memory-path"]').waitFor(WAIT)
  assert.match(await page.locator('[data-testid="leak-verdict"]').innerText(), /^leaks ~4\.\d KiB\/iteration at planted\.py:14$/)
  assert.match(await page.locator('[data-testid="leak-sites"] tbody tr').first().innerText(), /^planted\.py:14\s+_cache\[len\(_cache\)\] = bytes\(4096\)/)
  assert.equal(await page.locator('[data-testid="leak-curve"] polyline').count(), 1)
  assert.match(await page.locator('[data-testid="size-total"]').innerText(), /\[x, x\] → list: deep 221 B \(2 objects\), shallow 72 B/)
  assert.deepEqual((await page.locator('[data-testid="size-types"] tbody tr td:first-child').allInnerTexts()), ['str', 'list'])
  const chain = page.locator('[data-testid="retention-chain"]')
  assert.equal(await chain.locator('.link').count(), 5, 'the root and four references')
  assert.match((await chain.innerText()).replace(/\s+/g, ' '), /module global __main__\.bus bus → __main__\.Bus .* \.listeners → list .* \[0\] → method .* __self__ → __main__\.Widget/)
  // Line memory: closure_leak's lines, the list it keeps on line 22 the largest.
  assert.match(await page.locator('[data-testid="lines-verdict"]').innerText(), /^closure_leak \(planted\.py:21\) · 1 call · net \d+(\.\d+)? KiB · peak \d+(\.\d+)? KiB$/)
  const lines = page.locator('[data-testid="lines-table"] tbody tr')
  assert.deepEqual(await lines.locator('td:first-child').allInnerTexts(), ['21', '22', '23'])
  assert.match(await lines.nth(1).innerText(), /^22\s+data = \[0\] \* 1000\s+# LEAK closure\s+1\s+7\.\d+ KiB\s+7\.\d+ KiB$/)
  assert.match(await lines.nth(0).innerText(), /^21\s+def closure_leak\(\):\s+0\s+0 B\s+0 B$/)
  // Type growth: each call keeps a function (the lambda) and a cell (its closure over data).
  assert.match(await page.locator('[data-testid="growth-verdict"]').innerText(), /^objects by type that grew over 5 iteration\(s\): \+\d+$/)
  const growth = Object.fromEntries(
    (await page.locator('[data-testid="growth-table"] tbody tr').allInnerTexts()).map((t) => {
      const [type, , delta] = t.split(/\s+/)
      return [type, Number(delta)]
    }),
  )
  assert.ok((growth.function ?? 0) >= 5 && (growth.cell ?? 0) >= 5, `function and cell grew by at least 5: ${JSON.stringify(growth)}`)
  // An error document shows its code and message.
  assert.equal(await page.locator('[data-testid="memory-error-message"]').innerText(), "UNKNOWN_TYPE: no class named 'Nope' exists after running " + join(ROOT, 'test', 'fixtures', 'memory', 'planted.py') + ' (give a class name, e.g. Widget or module.Widget)')
  assert.equal(await page.locator('[data-testid="memory-load-error"]').count(), 0, 'every document opened')
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-memory.png`), fullPage: true })
}

/** Two implementations of one function: the loop's lines differ, `def` and `return` are the same. */
const LOOP = 'def f(data):\n    r = []\n    for x in data:\n        r.append(x * 2)\n    return r'
const COMP = 'def f(data):\n    r = [x * 2 for x in data]\n    return r'

/** Compare mode: two snippets, aligned rows, a difference, the static summary. */
async function compareChecks(page: Page, shot: string): Promise<void> {
  await page.waitForSelector('[data-testid="bytecode"] tbody tr', WAIT)
  await page.check('[data-testid="compare-toggle"]')
  await typeSource(page, LOOP, '[data-testid="editor-a"]')
  await typeSource(page, COMP, '[data-testid="editor-b"]')
  await page
    .locator('[data-testid="compare-stats"]', { hasText: 'two sources' })
    .waitFor(WAIT)
    .catch(async (e: unknown) => {
      await page.screenshot({ path: join(ARTIFACTS, `${shot}-compare-failed.png`) })
      throw e
    })
  const table = page.locator('[data-testid="compare-table"]')
  // The same line on both sides sits in one row: `def f(data):` beside itself, `return r` beside itself.
  const rows = await table.locator('tr.line-row').allInnerTexts()
  assert.ok(rows.some((r) => /1\s+def f\(data\):\s+1\s+def f\(data\):/.test(r)), `def lines aligned: ${rows.join(' | ')}`)
  assert.ok(rows.some((r) => /5\s+return r\s+3\s+return r/.test(r)), `return lines aligned: ${rows.join(' | ')}`)
  // Equal instructions face each other; the loop is a difference.
  const same = table.locator('tr.pair.same', { hasText: /RETURN_VALUE[\s\S]*RETURN_VALUE/ })
  assert.ok((await same.count()) > 0, 'RETURN_VALUE aligned with RETURN_VALUE')
  const differs = await table.locator('tr.pair.changed, tr.pair.a, tr.pair.b').allInnerTexts()
  assert.ok(differs.some((t) => /FOR_ITER|LIST_APPEND|CALL/.test(t)), `the loop shows as a difference: ${differs.slice(0, 5).join(' | ')}`)
  assert.match(await page.locator('[data-testid="compare-stats"]').innerText(), /\d+ same, \d+ changed, \d+ only in A, \d+ only in B/)
  const instructions = page.locator('[data-testid="compare-summary"] tr[data-key="instructions"]')
  assert.match(await instructions.innerText(), /instructions\s+\d+\s+\d+/)
  assert.match((await instructions.getAttribute('class')) ?? '', /differs/)
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-compare.png`) })
  // Clicking an instruction highlights its source range (from its positions) in its own side's editor.
  const linkedA = page.locator('[data-testid="editor-a"] .cm-linked')
  const linkedB = page.locator('[data-testid="editor-b"] .cm-linked')
  await table.locator('td[data-side="a"]', { hasText: /BINARY_OP\s+\*/ }).first().click()
  assert.equal(await linkedA.innerText(), 'x * 2')
  assert.equal(await linkedB.count(), 0)
  await table.locator('td[data-side="b"]', { hasText: /BINARY_OP\s+\*/ }).first().click()
  assert.equal(await linkedB.innerText(), 'x * 2')
  assert.equal(await linkedA.count(), 0, 'one side highlighted at a time')
  assert.equal(await table.locator('td.selected[data-side="b"]').count(), 1)
  // The same by keyboard: an instruction's cell holds a button (focus, Enter).
  await table.locator('td[data-side="a"] button', { hasText: /BINARY_OP\s+\*/ }).first().focus()
  await page.keyboard.press('Enter')
  assert.equal(await linkedA.innerText(), 'x * 2')
  assert.equal(await linkedB.count(), 0)
  assert.equal(await table.locator('td.selected[data-side="a"]').count(), 1)
  // One code object a side: f of A, and B follows by qualname; the module's code leaves the table.
  assert.ok((await table.locator('tr.pair', { hasText: 'MAKE_FUNCTION' }).count()) > 0, 'the whole module at first')
  await page.selectOption('[data-testid="compare-code-a"]', 'f')
  assert.equal(await page.locator('[data-testid="compare-code-b"]').inputValue(), 'f')
  await page.waitForFunction(`![...document.querySelectorAll('[data-testid="compare-table"] tr.pair')].some((r) => r.textContent.includes('MAKE_FUNCTION'))`, undefined, WAIT)
  // The highlight is cleared by the editor's update after the new table renders: wait for it.
  await page.waitForFunction(`document.querySelectorAll('[data-testid="editor-b"] .cm-linked').length === 0`, undefined, WAIT).catch(() => {})
  assert.equal(await linkedB.count(), 0, 'a new table clears the highlight')
  await table.locator('td[data-side="a"]', { hasText: 'RETURN_VALUE' }).last().click()
  assert.equal(await linkedA.innerText(), 'return r')
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-compare-function.png`) })
  await page.selectOption('[data-testid="compare-code-a"]', '')
  assert.equal(await page.locator('[data-testid="compare-code-b"]').inputValue(), '')
  await table.locator('tr.pair', { hasText: 'MAKE_FUNCTION' }).first().waitFor(WAIT)
}

/** A permalink made on one page opens the same code (and compare sources) on a fresh page. */
async function permalinkChecks(page: Page, shot: string): Promise<void> {
  await page.uncheck('[data-testid="compare-toggle"]')
  await typeSource(page, 'permalinked = 6 * 7')
  await page.locator('[data-testid="bytecode"] tbody tr', { hasText: /STORE_NAME\s*\d*\s*permalinked/ }).waitFor(WAIT)
  await page.click('[data-testid="tab-code"]')
  await page.click('[data-testid="copy-link"]')
  const url = await page.locator('[data-testid="permalink"]').inputValue()
  assert.match(url, /#code=z\.[\w-]+$/, 'a compressed link')
  const fresh = await page.context().newPage()
  await fresh.goto(url)
  await fresh.locator('[data-testid="bytecode"] tbody tr', { hasText: /STORE_NAME\s*\d*\s*permalinked/ }).waitFor(WAIT)
  assert.equal(await fresh.locator('[data-testid="editor"] .cm-content').innerText(), 'permalinked = 6 * 7')
  assert.match(await fresh.locator('[data-testid="code-inspector"]').innerText(), /co_names\s+permalinked/, 'the chosen pane is restored')
  await fresh.screenshot({ path: join(ARTIFACTS, `${shot}-permalink.png`) })
  await fresh.close()
  // Compare sources ride along.
  await page.check('[data-testid="compare-toggle"]')
  await page.locator('[data-testid="compare-table"]').waitFor(WAIT)
  await page.click('[data-testid="copy-link"]')
  // The link is made asynchronously (compression): wait for the box to hold the new one.
  await page.waitForFunction(`document.querySelector('[data-testid="permalink"]').value !== ${JSON.stringify(url)}`, undefined, WAIT)
  const url2 = await page.locator('[data-testid="permalink"]').inputValue()
  const again = await page.context().newPage()
  await again.goto(url2)
  await again
    .locator('[data-testid="compare-stats"]', { hasText: 'two sources' })
    .waitFor(WAIT)
    .catch(async (e: unknown) => {
      await again.screenshot({ path: join(ARTIFACTS, `${shot}-permalink-compare-failed.png`) })
      throw e
    })
  assert.equal(await again.locator('[data-testid="editor-b"] .cm-content').innerText(), COMP)
  await again.close()
  // A damaged link says so and falls back to the sample.
  const broken = await page.context().newPage()
  await broken.goto(`${url.split('#')[0]}#code=z.AAAA`)
  await broken.locator('.error', { hasText: 'cannot be read' }).waitFor(WAIT)
  await broken.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
  await broken.close()
}

describe('web UI views in Chromium', { skip: missing }, () => {
  let browser: Browser
  let memory: string[]
  let pair: [string, string]
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    buildWeb()
    memory = memoryDocuments(mkdtempSync(join(tmpdir(), 'pyxray-e2e-mem-')))
    pair = plantedPair(mkdtempSync(join(tmpdir(), 'pyxray-e2e-diff-')))
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
  })

  test('pyxray report --format html: one offline file with the viewer', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pyxray-report-')), 'report.html')
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'report', join(PROFILES, 'threads.json'), '--format', 'html', '-o', out], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const html = readFileSync(out, 'utf8')
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="(?!data:)/, 'nothing is loaded from elsewhere')
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(pathToFileURL(out).href)
    await page.locator('[data-testid="profile-meta"]', { hasText: 'threads.json' }).waitFor(WAIT)
    assert.ok((await paintedPixels(page)) > 1000, 'the flame graph is drawn')
    await page.fill('[data-testid="flame-search"]', 'crunch')
    assert.match(await page.locator('[data-testid="search-result"]').innerText(), /^1 matching function, \d+\.\d% of the time/)
    // The thread switcher: the worker thread's own tree.
    const threads = await page.locator('[data-testid="thread"] option').allInnerTexts()
    assert.deepEqual(threads.map((t) => t.split(' ')[0]), ['MainThread', 'worker'])
    await page.selectOption('[data-testid="thread"]', { index: 1 })
    // The new tree is laid out and scrolled to its root in the next frames.
    await page.evaluate('new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))')
    const point = (await page.evaluate(`window.pyxrayFlame.pointOf('crunch')`)) as { x: number; y: number } | undefined
    assert.ok(point, 'crunch is drawn in the worker thread')
    await page.mouse.click(point.x, point.y)
    await page.locator('[data-testid="frame-details"] h3', { hasText: 'crunch' }).waitFor(WAIT)
    assert.match(await page.locator('[data-testid="frame-code-missing"]').innerText(), /a report holds no Python/)
    await page.screenshot({ path: join(ARTIFACTS, 'report-html.png') })
    assert.deepEqual(errors, [])
    const foreign = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))
    assert.deepEqual(foreign, [], 'no network requests')
    await page.close()
  })

  test('a sampled function in the HTML report: its lines and instructions with their shares', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-report-samples-'))
    // the hot line (9) calls a C function that multiplies big integers: nearly every sample is there
    writeFileSync(join(dir, 'hot.py'), 'from operator import mul\n\n\ndef work(n):\n    a = 7 ** 40000\n    b = 3 ** 40000\n    x = 0\n    for _ in range(n):\n        x = mul(a, b)\n        x = 1\n    return x\n\n\nwork(150)\n')
    const prof = join(dir, 'hot.json')
    const run = spawnSync('python3', ['-m', 'pyxray', '--mode', 'sample', '--quiet', '-o', prof, join(dir, 'hot.py')], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') } })
    assert.equal(run.status, 0, run.stderr)
    const out = join(dir, 'hot.html')
    const html = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'report', prof, '--format', 'html', '-o', out], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(html.status, 0, html.stderr)
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(pathToFileURL(out).href)
    await page.locator('[data-testid="profile-meta"]', { hasText: 'hot.json' }).waitFor(WAIT)
    await page.evaluate('new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))')
    const point = (await page.evaluate(`window.pyxrayFlame.pointOf('work')`)) as { x: number; y: number } | undefined
    assert.ok(point, 'work is drawn')
    await page.mouse.click(point.x, point.y)
    await page.locator('[data-testid="frame-details"] h3', { hasText: 'work' }).waitFor(WAIT)
    await page.locator('[data-testid="frame-samples"]').waitFor(WAIT)
    const line = await page.locator('[data-testid="sample-line"]').first().innerText()
    assert.match(line, /^9\s+\d+\.\d%$/, 'the hot line first')
    assert.ok(Number(/([\d.]+)%/.exec(line)![1]) > 50, line)
    const ins = await page.locator('[data-testid="sample-instruction"]').first().innerText()
    assert.match(ins, /CALL/, 'the call of the hot line first')
    assert.match(ins, /\b9:12-21\b/, 'with its column-exact span')
    await page.screenshot({ path: join(ARTIFACTS, 'report-html-samples.png') })
    assert.deepEqual(errors, [])
    await page.close()
  })

  describe('through pyxray serve', () => {
    let server: RunningServer
    before(async () => {
      server = await startServer({ profiles: [...pair, ...memory] })
    })
    after(() => server.close())

    test('compare mode and permalinks', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 850 } })
      const page = await context.newPage()
      await page.goto(server.url)
      await compareChecks(page, 'serve')
      await permalinkChecks(page, 'serve')
      await context.close()
    })

    test('profile diff of the two served profiles', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(server.url)
      await page.click('[data-testid="nav-diff"]')
      await diffChecks(page, 'serve')
      await page.close()
    })

    test('memory tab: the served memory documents', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(server.url)
      await page.click('[data-testid="nav-memory"]')
      await memoryChecks(page, 'serve')
      await page.close()
    })
  })

  describe('as a static build (Pyodide in a Web Worker)', () => {
    let site: { server: Server; url: string }
    before(async () => {
      site = await staticServer(WEB, '/some/sub/path/')
    })
    after(() => site.server.close())

    test('compare mode and permalinks on Pyodide 3.14', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 850 } })
      const page = await context.newPage()
      await page.goto(site.url)
      await compareChecks(page, 'static')
      await permalinkChecks(page, 'static')
      await context.close()
    })

    test('profile diff of two opened files', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(`${site.url}#diff`)
      await page.setInputFiles('[data-testid="diff-base-file"]', pair[0])
      await page.setInputFiles('[data-testid="diff-head-file"]', pair[1])
      await diffChecks(page, 'static')
      await page.close()
    })

    test('memory tab: opened files', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(`${site.url}#memory`)
      await page.setInputFiles('[data-testid="memory-file"]', memory)
      await memoryChecks(page, 'static')
      await page.close()
    })
  })
})
