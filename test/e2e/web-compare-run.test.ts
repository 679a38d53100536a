/**
 * End-to-end, in real Chromium through `pyxray serve` (a real CPython): Compare's "run both" —
 * each side run as `pyxray compare -c` runs a snippet, its instructions' executed counts shown
 * beside them (a 3-iteration loop: its body's `+=` ran 3 times, FOR_ITER 4), the executed totals
 * (the sum of the counts shown) and timings in the summary, the A/B line; a run that raises names
 * the side and the error; an edit drops the stale counts. The same in the static build, where the
 * page's Pyodide runs the code. Nothing depends on how long a run takes.
 * Skipped with the reason without Chromium (a failure under CI=true), as test/e2e/web.test.ts.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Server } from 'node:http'
import type { Browser, Page } from 'playwright-core'
import { type RunningServer, startServer } from '../../src/server/server.js'
import { ARTIFACTS, buildWeb, CHROMIUM, CHROMIUM_ARGS, missing, staticServer, typeSource, WAIT, WEB } from './harness.js'

const LOOP = 'total = 0\nfor i in range(3):\n    total += i\n'
const SUM = 'total = sum(range(3))\n'

describe('Compare: executed instructions and timings in Chromium', { skip: missing }, () => {
  let browser: Browser
  let server: RunningServer
  let site: { server: Server; url: string }
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    buildWeb()
    server = await startServer({})
    site = await staticServer(WEB, '/sub/')
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    await server?.close()
    site?.server.close()
  })

  test('through pyxray serve: counts per instruction, totals, timings; an error names its side; an edit drops the counts', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(server.url)
    await runChecks(page, 'serve')
    await page.close()
  })

  test('as a static build: the same, run in the page’s Pyodide', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(site.url)
    await runChecks(page, 'static')
    await page.close()
  })
})

/** Compare's run on an open Explorer page. */
async function runChecks(page: Page, shot: string): Promise<void> {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.waitForSelector('[data-testid="bytecode"] tbody tr', WAIT)
  await page.check('[data-testid="compare-toggle"]')
  await typeSource(page, LOOP, '[data-testid="editor-a"]')
  await typeSource(page, SUM, '[data-testid="editor-b"]')
  await page.locator('[data-testid="compare-stats"]', { hasText: 'two sources' }).waitFor(WAIT)
  assert.equal(await page.locator('[data-testid="executed-count"]').count(), 0, 'no counts before a run')
  await page.click('[data-testid="compare-run"]')
  await page.locator('[data-testid="executed-a"]').waitFor(WAIT)
  const table = page.locator('[data-testid="compare-table"]')
  /** The count shown on side A's first instruction matching `op`. */
  const countOf = async (op: RegExp) => Number(await table.locator('td[data-side="a"]', { hasText: op }).first().locator('[data-testid="executed-count"]').getAttribute('data-count'))
  // The loop body ran 3 times (BINARY_OP += from 3.11, INPLACE_ADD before); FOR_ITER ran once more, to stop.
  assert.equal(await countOf(/BINARY_OP\s+\+=|INPLACE_ADD/), 3)
  assert.equal(await countOf(/FOR_ITER/), 4)
  // The totals are the counts shown (the whole module is one code object here).
  const sum = async (side: 'a' | 'b') => (await table.locator(`td[data-side="${side}"] [data-testid="executed-count"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))))).reduce((s, n) => s + n, 0)
  assert.equal(Number(await page.locator('[data-testid="executed-a"]').innerText()), await sum('a'))
  assert.equal(Number(await page.locator('[data-testid="executed-b"]').innerText()), await sum('b'))
  assert.match(await page.locator('[data-testid="timing-a"]').innerText(), /^[\d.]+ [nµm]?s ±[\d.]+ %$/)
  assert.match(await page.locator('[data-testid="timing-b"]').innerText(), /^[\d.]+ [nµm]?s ±[\d.]+ %$/)
  assert.match(await page.locator('[data-testid="compare-ratio"]').innerText(), /executed instructions A\/B: [\d.]+×[\s\S]*A and B timed one after the other/)
  await page.screenshot({ path: join(ARTIFACTS, `compare-run-${shot}.png`) })
  // An edit: the counts were for the old source.
  await typeSource(page, '1/0\n', '[data-testid="editor-b"]')
  await page.locator('[data-testid="executed-a"]').waitFor({ ...WAIT, state: 'detached' })
  assert.equal(await page.locator('[data-testid="executed-count"]').count(), 0)
  // A side that raises: the error names the side and the exception.
  await page.click('[data-testid="compare-run"]')
  await page.locator('[data-testid="compare-run-error"]', { hasText: 'B did not run' }).waitFor(WAIT)
  assert.match(await page.locator('[data-testid="compare-run-error"]').innerText(), /ZeroDivisionError/)
  assert.deepEqual(errors, [])
}
