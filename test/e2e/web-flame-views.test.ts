/**
 * End-to-end, in real Chromium, the profile viewer's flame-graph views on a real profile
 * (test/fixtures/profiles/recursion.json: fib recursing, a class built by __build_class__, and
 * Table.ordered calling the builtin sorted, which calls a lambda), opened as the offline HTML
 * report: the sandwich (callers and callees merged), the minimap moving the view, search with
 * next / previous and Enter / Shift+Enter, and hiding library frames. Checks read the graph's
 * structure through its test hook (window.pyxrayFlames[…]: row labels, the span in view, the
 * selection), never pixels or time. Skipped with the reason without Chromium (a failure under
 * CI=true), as test/e2e/web.test.ts.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import type { Server } from 'node:http'
import { ARTIFACTS, buildWeb, CHROMIUM, CHROMIUM_ARGS, missing, ROOT, staticServer, WAIT, WEB } from './harness.js'

const PROFILES = join(ROOT, 'test', 'fixtures', 'profiles')
const PROFILE = join(PROFILES, 'recursion.json')
const LAMBDA = 'Table.ordered.<locals>.<lambda>'

/** The labels of one depth of a flame graph, left to right. */
async function row(page: Page, testId: string, depth: number): Promise<string[]> {
  return (await page.evaluate(`window.pyxrayFlames[${JSON.stringify(testId)}].rowLabels(${depth})`)) as string[]
}

/** Opaque pixels of a canvas (is anything drawn at all), and its backing width. */
async function painted(page: Page, testId: string): Promise<{ width: number; opaque: number }> {
  return page.locator(`canvas[data-testid="${testId}"]`).evaluate((c) => {
    const canvas = c as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
    if (!canvas.width || !canvas.height) return { width: canvas.width, opaque: 0 }
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let opaque = 0
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) opaque++
    return { width: canvas.width, opaque }
  })
}

/** Waits until a flame graph's root is `label` (a new graph is drawn after the controls change). */
async function rootIs(page: Page, testId: string, label: string): Promise<void> {
  type Hook = { pyxrayFlames: Record<string, { rowLabels(d: number): string[] } | undefined> }
  await page.waitForFunction(([t, l]) => (globalThis as unknown as Hook).pyxrayFlames[t]?.rowLabels(0)[0] === l, [testId, label] as const, WAIT)
}

/** Every label of a flame graph, all depths. */
async function allLabels(page: Page, testId: string): Promise<string[]> {
  const out: string[] = []
  for (let d = 0; ; d++) {
    const r = await row(page, testId, d)
    if (r.length === 0) return out
    out.push(...r)
  }
}

/** The span of a flame graph in view, in its units. */
async function view(page: Page, testId = 'flamegraph'): Promise<{ x0: number; x1: number; total: number }> {
  return (await page.evaluate(`window.pyxrayFlames[${JSON.stringify(testId)}].view()`)) as { x0: number; x1: number; total: number }
}

/** The label of a flame graph's selected node. */
async function selected(page: Page, testId = 'flamegraph'): Promise<string | undefined> {
  return (await page.evaluate(`window.pyxrayFlames[${JSON.stringify(testId)}].selected()`)) as string | undefined
}

/** Waits until a depth of the flame graph does (or does not) hold `sorted` (the report's CSP forbids string predicates). */
async function rowChanged(page: Page, depth: number, holds: boolean): Promise<void> {
  type Hook = { pyxrayFlames: Record<string, { rowLabels(d: number): string[] }> }
  await page.waitForFunction(([d, h]) => (globalThis as unknown as Hook).pyxrayFlames.flamegraph!.rowLabels(d as number).includes('sorted') === h, [depth, holds] as const, WAIT)
}

describe('profile flame-graph views in Chromium', { skip: missing }, () => {
  let browser: Browser
  let report: string
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    buildWeb()
    report = join(mkdtempSync(join(tmpdir(), 'pyxray-flame-views-')), 'report.html')
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'report', PROFILE, '--format', 'html', '-o', report], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
  })

  /** A fresh page with the report open and no page errors recorded yet. */
  async function open(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(pathToFileURL(report).href)
    await page.locator('[data-testid="profile-meta"]', { hasText: 'recursion.json' }).waitFor(WAIT)
    return { page, errors }
  }

  test("sandwich: a function's callers above and callees below, merged over its call sites", async () => {
    const { page, errors } = await open()
    await page.click('[data-testid="view-sandwich"]')
    await page.locator('[data-testid="sandwich"]').waitFor(WAIT)
    // The lambda: called by the builtin sorted, called by Table.ordered, from main, from <module>.
    const lambda = await page.locator('[data-testid="sandwich-function"] option', { hasText: LAMBDA }).getAttribute('value')
    assert.ok(lambda !== null)
    await page.selectOption('[data-testid="sandwich-function"]', lambda)
    await rootIs(page, 'sandwich-callers', LAMBDA)
    await rootIs(page, 'sandwich-callees', LAMBDA)
    const callers = []
    for (let d = 0; d < 6; d++) callers.push(await row(page, 'sandwich-callers', d))
    assert.deepEqual(callers, [[LAMBDA], ['sorted'], ['Table.ordered'], ['main'], ['<module>'], []])
    assert.deepEqual(await row(page, 'sandwich-callees', 0), [LAMBDA])
    assert.deepEqual(await row(page, 'sandwich-callees', 1), [], 'the lambda calls nothing')
    // fib: called from main only (its recursive calls are its callees, merged into one path per depth).
    const fib = await page.locator('[data-testid="sandwich-function"] option', { hasText: /^fib / }).getAttribute('value')
    await page.selectOption('[data-testid="sandwich-function"]', fib!)
    await rootIs(page, 'sandwich-callers', 'fib')
    await rootIs(page, 'sandwich-callees', 'fib')
    assert.deepEqual(await row(page, 'sandwich-callers', 1), ['main'])
    assert.deepEqual(await row(page, 'sandwich-callers', 2), ['<module>'])
    assert.deepEqual(await row(page, 'sandwich-callees', 1), ['fib'], 'the recursion: one merged callee per depth')
    const callers0 = await view(page, 'sandwich-callers')
    const callees0 = await view(page, 'sandwich-callees')
    assert.equal(callers0.total, callees0.total, 'both halves are the function’s total (each moment once)')
    // The keyboard: focus the callers graph, an arrow selects the function, the next one its caller; the live region says so.
    await page.focus('canvas[data-testid="sandwich-callers"]')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    assert.equal(await selected(page, 'sandwich-callers'), 'main')
    await page.locator('[data-testid="frame-details"] h3', { hasText: /^main$/ }).waitFor(WAIT)
    assert.match(await page.locator('[data-testid="sandwich-callers-focus"]').innerText(), /^main in recursion\.py line \d+: total .*; \d+ calls; depth 1/)
    // From the flame graph: a frame's "callers and callees" button opens its sandwich.
    await page.click('[data-testid="view-flame"]')
    await page.fill('[data-testid="flame-search"]', 'Table.ordered')
    await page.press('[data-testid="flame-search"]', 'Enter')
    await page.locator('[data-testid="frame-details"] h3', { hasText: /^Table\.ordered$/ }).waitFor(WAIT)
    await page.click('[data-testid="open-sandwich"]')
    await rootIs(page, 'sandwich-callees', 'Table.ordered')
    assert.deepEqual(await row(page, 'sandwich-callees', 1), ['sorted'])
    assert.deepEqual(await row(page, 'sandwich-callees', 2), [LAMBDA])
    await page.screenshot({ path: join(ARTIFACTS, 'flame-sandwich.png') })
    assert.deepEqual(errors, [])
    await page.close()
  })

  test('minimap: a click moves the view there, keeping its width; the arrow keys pan it', async () => {
    const { page, errors } = await open()
    const whole = await view(page)
    assert.equal(whole.x0, 0)
    assert.equal(whole.x1, whole.total)
    assert.equal(await page.locator('[data-testid="flamegraph-minimap-view"]').count(), 0, 'no rectangle while everything is in view')
    // Zoom to the first child of the root with the keyboard: an arrow selects the root, the next its first callee, Enter zooms.
    await page.focus('canvas[data-testid="flamegraph"]')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('ArrowUp')
    const zoomedTo = await selected(page)
    assert.ok(zoomedTo)
    await page.keyboard.press('Enter')
    const zoomed = await view(page)
    const span = zoomed.x1 - zoomed.x0
    assert.ok(span < whole.total, `zoomed in to ${zoomedTo}`)
    await page.locator('[data-testid="flamegraph-minimap-view"]').waitFor(WAIT)
    // Click the minimap at its far right: the view moves to the end, as wide as before.
    const box = (await page.locator('[data-testid="flamegraph-minimap"]').boundingBox())!
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2)
    const moved = await view(page)
    assert.ok(Math.abs(moved.x1 - moved.x0 - span) <= span * 1e-9, 'the width is kept')
    assert.ok(Math.abs(moved.x1 - whole.total) <= span * 1e-9, `the view ends at the graph's end (${moved.x1} of ${whole.total})`)
    // Drag to the far left.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + 1, box.y + box.height / 2, { steps: 4 })
    await page.mouse.up()
    const dragged = await view(page)
    assert.equal(dragged.x0, 0, 'dragged to the start')
    // The keyboard on the minimap: ArrowRight pans by a quarter of the view.
    await page.focus('[data-testid="flamegraph-minimap"]')
    await page.keyboard.press('ArrowRight')
    const panned = await view(page)
    assert.ok(Math.abs(panned.x0 - span / 4) <= span * 1e-9, `panned a quarter (${panned.x0})`)
    // Escape on the graph shows everything again.
    await page.focus('canvas[data-testid="flamegraph"]')
    await page.keyboard.press('Escape')
    assert.deepEqual(await view(page), whole)
    const strip = await painted(page, 'flamegraph-minimap')
    assert.ok(strip.width > 0 && strip.opaque > 0, 'the minimap is drawn')
    await page.screenshot({ path: join(ARTIFACTS, 'flame-minimap.png') })
    assert.deepEqual(errors, [])
    await page.close()
  })

  test('search: a match count, next and previous with the buttons and Enter / Shift+Enter, wrapping around', async () => {
    const { page, errors } = await open()
    await page.fill('[data-testid="flame-search"]', 'fib')
    const position = page.locator('[data-testid="search-position"]')
    /** Waits for the match position to read `text` exactly (it is drawn on the next render). */
    const positionIs = (text: string) => page.locator('[data-testid="search-position"]', { hasText: new RegExp(`^${text}$`) }).waitFor(WAIT)
    await page.locator('[data-testid="search-position"]', { hasText: /^\d+ frames$/ }).waitFor(WAIT)
    assert.match(await page.locator('[data-testid="search-result"]').innerText(), /^1 matching function, \d+\.\d% of the time/)
    const count = Number(/^(\d+) frames$/.exec(await position.innerText())?.[1])
    assert.ok(count > 2, `fib(15) recurses: many fib frames (${count})`)
    await page.press('[data-testid="flame-search"]', 'Enter')
    await positionIs(`1 of ${count} frames`)
    assert.equal(await selected(page), 'fib')
    await page.press('[data-testid="flame-search"]', 'Enter')
    await positionIs(`2 of ${count} frames`)
    await page.press('[data-testid="flame-search"]', 'Shift+Enter')
    await page.press('[data-testid="flame-search"]', 'Shift+Enter')
    await positionIs(`${count} of ${count} frames`)
    await page.click('[data-testid="search-next"]')
    await positionIs(`1 of ${count} frames`)
    await page.click('[data-testid="search-prev"]')
    await positionIs(`${count} of ${count} frames`)
    assert.equal(await selected(page), 'fib')
    // The selected match is described for screen readers.
    assert.match(await page.locator('[data-testid="flamegraph-focus"]').innerText(), /^fib in recursion\.py line \d+: total/)
    await page.locator('[data-testid="frame-details"] h3', { hasText: /^fib$/ }).waitFor(WAIT)
    // No match: a count of zero and disabled buttons.
    await page.fill('[data-testid="flame-search"]', 'no-such-function')
    await page.locator('[data-testid="search-position"]', { hasText: /^0 frames$/ }).waitFor(WAIT)
    assert.ok(await page.locator('[data-testid="search-next"]').isDisabled())
    assert.deepEqual(errors, [])
    await page.close()
  })

  test('hide library frames: builtins and stdlib merged into their callers, the total kept', async () => {
    const { page, errors } = await open()
    const before = await allLabels(page, 'flamegraph')
    assert.ok(before.includes('sorted') && before.includes('__build_class__'), 'the builtins are drawn')
    const whole = await view(page)
    // The lambda is sorted's callee, one level below it.
    const depthOf = async (name: string) => {
      for (let d = 0; ; d++) {
        const r = await row(page, 'flamegraph', d)
        if (r.length === 0) return -1
        if (r.includes(name)) return d
      }
    }
    const lambdaDepth = await depthOf(LAMBDA)
    const tableDepth = await depthOf('Table')
    await page.check('[data-testid="hide-library"]')
    await rowChanged(page, lambdaDepth - 1, false)
    const after = await allLabels(page, 'flamegraph')
    assert.ok(!after.includes('sorted') && !after.includes('__build_class__'), 'no library frame is drawn')
    assert.deepEqual(after.filter((l) => l === LAMBDA).length, 1)
    assert.equal(await depthOf(LAMBDA), lambdaDepth - 1, 'the lambda moved up into Table.ordered (sorted collapsed)')
    assert.equal(await depthOf('Table'), tableDepth - 1, 'Table moved up into <module> (__build_class__ collapsed)')
    assert.equal((await view(page)).total, whole.total, 'the total is kept')
    // The search still finds the merged frames; unchecking restores the tree.
    await page.uncheck('[data-testid="hide-library"]')
    await rowChanged(page, lambdaDepth - 1, true)
    assert.deepEqual(await allLabels(page, 'flamegraph'), before)
    // The legend names what the colour encodes; its swatches follow the page's theme (light fills on
    // a light page, dark ones on a dark page), read from the page when it changes.
    assert.match(await page.locator('[data-testid="flame-legend"]').innerText(), /colour = package:[\s\S]*recursion/, "the legend names the encoding and the packages (flex items: innerText puts each on a line)")
    const lightness = async () => (await page.locator('[data-testid="flame-legend"] .swatch').evaluateAll((els) => els.map((e) => Number(/,\s*([\d.]+)%\)$/.exec(e.getAttribute('data-colour') ?? '')?.[1])))) as number[]
    const light = await lightness()
    assert.ok(light.length >= 2 && light.every((l) => l >= 55), `light fills: ${light.join(', ')}`)
    await page.addStyleTag({ content: 'html, body { background: #121212 !important; color: #eee !important; }' })
    await page.evaluate(`document.documentElement.setAttribute('data-theme', 'dark')`)
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document.querySelector('[data-testid="flame-legend"] .swatch')?.getAttribute('data-colour')?.endsWith(',36%)') === true, undefined, WAIT)
    const dark = await lightness()
    assert.ok(dark.every((l) => l <= 45), `dark fills: ${dark.join(', ')}`)
    assert.deepEqual(errors, [])
    await page.close()
  })

  test('the diff view draws from its own data source: the union tree, its minimap, a description of the selected path', async () => {
    const site: { server: Server; url: string } = await staticServer(WEB, '/views/')
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${site.url}#diff`)
      await page.setInputFiles('[data-testid="diff-base-file"]', join(PROFILES, 'planted-base.json'))
      await page.setInputFiles('[data-testid="diff-head-file"]', join(PROFILES, 'planted-head.json'))
      await rootIs(page, 'diff-flamegraph', 'all')
      assert.deepEqual(await row(page, 'diff-flamegraph', 1), ['<module>'])
      assert.ok((await row(page, 'diff-flamegraph', 3)).includes('parse'), 'parse under main')
      await page.waitForFunction(() => {
        const c = (globalThis as unknown as { document: { querySelector(s: string): { width: number } | null } }).document.querySelector('canvas[data-testid="diff-flamegraph-minimap"]')
        return (c?.width ?? 0) > 0
      }, undefined, WAIT)
      assert.ok((await painted(page, 'diff-flamegraph-minimap')).opaque > 0, 'the minimap is drawn')
      // The keyboard: root, then its first callee; the live region describes the path with its Δ.
      await page.focus('canvas[data-testid="diff-flamegraph"]')
      await page.keyboard.press('ArrowUp')
      await page.keyboard.press('ArrowUp')
      assert.equal(await selected(page, 'diff-flamegraph'), '<module>')
      assert.match(await page.locator('[data-testid="diff-flamegraph-focus"]').innerText(), /^<module>, planted\.py:<module>: \w+; Δ self [+−±]/)
      await page.screenshot({ path: join(ARTIFACTS, 'flame-diff.png') })
      assert.deepEqual(errors, [])
      await page.close()
    } finally {
      site.server.close()
    }
  })
})
