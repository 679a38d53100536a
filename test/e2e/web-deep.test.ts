/**
 * The Profile viewer on a profile 100,000 calls deep (served by pyxray serve): the flame graph
 * draws a window of depths (a canvas of every row could not be allocated), says how many levels
 * are not drawn, and a function found only at the bottom is searched, brought into the window,
 * hovered and selected. The document is written as pyxray writes it (version 2, flat: toProfileJson).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { toProfileJson } from '../../src/profile/document.js'
import { type RunningServer, startServer } from '../../src/server/server.js'
import { deepDoc } from '../deep-docs.js'
import { ARTIFACTS, buildWeb, CHROMIUM, CHROMIUM_ARGS, missing, paintedPixels, WAIT } from './harness.js'

const DEPTH = 100_000
/** The flame graph's depth window (web/src/profile/flame.tsx DEPTH_WINDOW). */
const WINDOW = 200

describe('web UI: a 100,000-deep profile', { skip: missing }, () => {
  let browser: Browser
  let work: string
  let server: RunningServer
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    buildWeb()
    work = mkdtempSync(join(tmpdir(), 'pyxray-e2e-deep-'))
    const path = join(work, 'deep.json')
    writeFileSync(path, toProfileJson(deepDoc(DEPTH, 'siblings', { deepest: true })))
    server = await startServer({ profiles: [path] })
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    server?.close()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('the flame graph draws a window of depths; the deepest function is found, drawn and selected', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
    await page.goto(server.url)
    await page.click('[data-testid="nav-profile"]')
    await page.locator('[data-testid="flamegraph"]').waitFor(WAIT)
    await page.locator('[data-testid="profile-meta"]', { hasText: 'trace mode' }).waitFor(WAIT)
    // root, main, 100,000 calls and the call under the innermost: depths 0–100,002.
    const bar = page.locator('[data-testid="flame-depth"]')
    await bar.waitFor(WAIT)
    assert.match(await bar.innerText(), new RegExp(`depths 0–${WINDOW - 1} of ${DEPTH + 2}`))
    const height = (await page.evaluate(`document.querySelector('canvas[data-testid="flamegraph"]').height`)) as number
    assert.ok(height > 0 && height <= WINDOW * 18 * 2, `canvas height ${height}`)
    await page.waitForFunction(`(() => { const c = document.querySelector('canvas[data-testid="flamegraph"]'); return c && c.width > 0 })()`, undefined, WAIT)
    assert.ok((await paintedPixels(page)) > 1000, 'the flame graph is drawn')
    await page.screenshot({ path: join(ARTIFACTS, 'deep-profile-top.png') })

    // Search: the function at the bottom.
    await page.fill('[data-testid="flame-search"]', 'deepest')
    assert.match(await page.locator('[data-testid="search-result"]').innerText(), /^1 matching function, \d+\.\d% of the time/)
    // The test hook brings its node into the window (and scrolls to it).
    const first = (await page.evaluate(`window.pyxrayFlame.pointOf('deepest')`)) as { x: number; y: number } | undefined
    assert.ok(first, 'deepest is in the layout')
    await page.locator('[data-testid="flame-depth"]', { hasText: `of ${DEPTH + 2}` }).waitFor(WAIT)
    assert.doesNotMatch(await bar.innerText(), /depths 0–/, 'the window moved down')
    await page.waitForTimeout(300)
    const point = (await page.evaluate(`window.pyxrayFlame.pointOf('deepest')`)) as { x: number; y: number }
    assert.ok((await paintedPixels(page)) > 1000, 'the deep window is drawn')
    await page.mouse.move(point.x, point.y)
    assert.match(await page.locator('[data-testid="flame-tooltip"]').innerText(), /deepest[\s\S]*calls 1[\s\S]*total 3\.00 µs/)
    await page.mouse.click(point.x, point.y)
    await page.locator('[data-testid="frame-details"] h3', { hasText: 'deepest' }).waitFor(WAIT)
    await page.screenshot({ path: join(ARTIFACTS, 'deep-profile-bottom.png') })

    // Back to the top with the bar; the table picks the deep function again.
    await page.click('[data-testid="flame-depth"] button:has-text("top")')
    assert.match(await bar.innerText(), new RegExp(`depths 0–${WINDOW - 1} of`))
    // Picking walk (its widest node is at the top) keeps the window; picking deepest moves it down.
    await page.locator('[data-testid="top-functions"] button.pick', { hasText: 'walk' }).first().click()
    await page.locator('[data-testid="frame-details"] h3', { hasText: 'walk' }).waitFor(WAIT)
    assert.match(await bar.innerText(), new RegExp(`depths 0–${WINDOW - 1} of`))
    await page.locator('[data-testid="top-functions"] button.pick', { hasText: 'deepest' }).click()
    await page.locator('[data-testid="flame-depth"]', { hasText: /depths [1-9]\d*–/ }).waitFor(WAIT)
    await page.close()
  })
})
