/**
 * End-to-end: the web UI in real Chromium (Debian's /usr/bin/chromium via playwright-core), on both
 * transports — `pyxray serve` (native CPython) and the static build on a plain static server
 * (Pyodide in a Web Worker). Screenshots go to test-artifacts/e2e/. Without Chromium the suite is
 * skipped with the reason, except under CI=true, where that is a failure.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { defaultInterpreter, findInterpreters } from '../../src/runtime/index.js'
import { type RunningServer, startServer } from '../../src/server/server.js'
import { ARTIFACTS, buildWeb, CHROMIUM, CHROMIUM_ARGS, missing, paintedPixels, ROOT, staticServer, typeSource, WAIT, WEB } from './harness.js'

/** The program the e2e profile is taken of: recognizable function names. */
const SCRIPT = `def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def build(n):
    return [str(i) * 3 for i in range(n)]


def main():
    total = 0
    for _ in range(5):
        total += fib(15)
        total += len(build(2000))
    return total


print(main())
`

/** The explorer checks, the same on both transports. */
async function explorerChecks(page: Page, shot: string): Promise<void> {
  await page.waitForSelector('[data-testid="bytecode"] tbody tr', WAIT)
  // Typing code updates the bytecode.
  await typeSource(page, 'answer = 6 * 7')
  const store = page.locator('[data-testid="bytecode"] tbody tr', { hasText: /STORE_NAME\s*\d*\s*answer/ })
  await store.waitFor(WAIT)
  assert.equal(await page.locator('[data-testid="bytecode"] tbody tr', { hasText: 'fib' }).count(), 0, 'the old bytecode is gone')
  // Clicking an instruction highlights exactly its source columns.
  await store.click()
  assert.equal(await page.locator('.cm-linked').innerText(), 'answer')
  const load = page.locator('[data-testid="bytecode"] tbody tr', { hasText: /LOAD_(CONST|SMALL_INT)\s*\d*\s*42/ })
  await load.click()
  assert.equal(await page.locator('.cm-linked').innerText(), '6 * 7', 'the folded constant maps to the whole expression')
  // By keyboard: the chosen row is the table's tab stop, the arrows move the focus, Enter or Space choose.
  assert.equal(await load.getAttribute('tabindex'), '0', 'the chosen row is in the tab order')
  assert.equal(await store.getAttribute('tabindex'), '-1', 'one row in the tab order')
  await load.focus()
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  assert.equal(await page.locator('.cm-linked').innerText(), 'answer', 'Enter chose the row below')
  await page.keyboard.press('ArrowUp')
  await page.keyboard.press(' ')
  assert.equal(await page.locator('.cm-linked').innerText(), '6 * 7', 'Space chose the row above')
  // Stepping the stack (3.14 loads 42 with LOAD_SMALL_INT): after loading 42 the stack holds 42; one step on, STORE_NAME pops it.
  await page.click('[data-testid="tab-stack"]')
  assert.match(await page.locator('[data-testid="stack-current"]').innerText(), /LOAD_(CONST|SMALL_INT)/)
  assert.match(await page.locator('[data-testid="stack-after"]').innerText(), /42/)
  await page.click('[data-testid="step-next"]')
  assert.match(await page.locator('[data-testid="stack-current"]').innerText(), /STORE_NAME/)
  assert.match(await page.locator('[data-testid="stack-before"]').innerText(), /42/)
  assert.doesNotMatch(await page.locator('[data-testid="stack-after"]').innerText(), /42/)
  assert.equal(await page.locator('.cm-linked').innerText(), 'answer', 'stepping follows the source')
  // Selecting source highlights its instructions (the other direction).
  await typeSource(page, 'def f(a, b):\n    return a * b + 1')
  await page.locator('[data-testid="bytecode"] tbody tr', { hasText: /MAKE_FUNCTION/ }).waitFor(WAIT)
  await page.locator('.cm-content').getByText('return').dblclick()
  await page.waitForFunction(`document.querySelector('[data-testid="code-object"]').value === 'f'`, undefined, WAIT)
  const linked = page.locator('[data-testid="bytecode"] tbody tr.linked')
  await linked.first().waitFor(WAIT)
  assert.match((await linked.allInnerTexts()).join('\n'), /RETURN_VALUE/)
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-explorer.png`) })
  // The AST: a click selects the node's source.
  await page.click('[data-testid="tab-ast"]')
  await page.locator('[data-testid="ast-node"]', { hasText: /^.*BinOp/ }).first().click()
  assert.equal(await page.locator('.cm-linked').innerText(), 'a * b + 1')
  const ret = page.locator('[role="treeitem"]', { has: page.locator('[data-testid="ast-node"]', { hasText: /^body\[0\]: Return\b/ }) })
  await ret.focus()
  await page.keyboard.press('Enter')
  assert.equal(await page.locator('.cm-linked').innerText(), 'return a * b + 1', 'Enter on an AST node picks it')
  assert.equal(await ret.getAttribute('aria-expanded'), 'true', 'picking does not fold the node')
  // The tree by keyboard: ↓ moves to the next node, ← on an open node closes it, Enter picks.
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  assert.equal(await page.locator('.cm-linked').innerText(), 'a * b + 1', '↓ then Enter picks the Return\'s value')
  await page.keyboard.press('ArrowUp')
  await page.keyboard.press('ArrowLeft')
  assert.equal(await ret.getAttribute('aria-expanded'), 'false', '← closes the node')
  // Below the top levels the compile sent, a node's subtree is fetched when it is opened: `a * b`.
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  const inner = page.locator('[role="treeitem"][aria-level="5"]', { has: page.locator('[data-testid="ast-node"]', { hasText: /^left: BinOp\b/ }) })
  assert.equal(await inner.getAttribute('aria-expanded'), 'false', 'a node at the cut is closed')
  await page.keyboard.press('ArrowRight')
  await page.locator('[role="treeitem"][aria-level="6"]', { has: page.locator('[data-testid="ast-node"]', { hasText: /^left: Name id="a"/ }) }).waitFor(WAIT)
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  assert.equal(await page.locator('.cm-linked').innerText(), 'a', 'a fetched node picks its source')
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-ast.png`) })
  await page.click('[data-testid="tab-code"]')
  assert.match(await page.locator('[data-testid="code-inspector"]').innerText(), /co_varnames\s+a, b/)
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-code-object.png`) })
  // Exception handling (3.11+ exception table): inside a try, the stepper says where a raise goes;
  // at the handler it shows the handler's entry.
  await typeSource(page, 'try:\n    risky()\nexcept ValueError:\n    pass')
  const call = page.locator('[data-testid="bytecode"] tbody tr', { hasText: /\dCALL\d/ }).first()
  await call.waitFor(WAIT)
  await call.click()
  await page.click('[data-testid="tab-stack"]')
  assert.match(await page.locator('[data-testid="stack-handlers"]').innerText(), /if this raises → jump to L\d+ \(offset \d+\), stack cut to depth 0/)
  // The handler's label is a button: focus and Enter step to it.
  await page.locator('[data-testid="stack-handlers"] button', { hasText: /^L\d+/ }).first().focus()
  await page.keyboard.press('Enter')
  assert.match(await page.locator('[data-testid="stack-handlers"]').innerText(), /exception handler entry: the stack is cut to depth 0/)
  assert.match(await page.locator('[data-testid="stack-before"]').innerText(), /exception/)
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-stack-handler.png`) })
  // A syntax error is shown inline.
  await typeSource(page, 'x = (1,')
  await page.locator('[data-testid="syntax-error"]').waitFor(WAIT)
  // The banner can come from a state typed on the way ('x = ('); the squiggle follows the last one.
  await page.locator('.cm-syntax-error').first().waitFor(WAIT)
  await page.screenshot({ path: join(ARTIFACTS, `${shot}-syntax-error.png`) })
}

/** The profile-viewer checks once a profile is open. */
async function profileChecks(page: Page): Promise<void> {
  await page.locator('[data-testid="flamegraph"]').waitFor(WAIT)
  await page.locator('[data-testid="profile-meta"]', { hasText: 'trace mode' }).waitFor(WAIT)
  assert.ok((await paintedPixels(page)) > 1000, 'the flame graph is drawn')
  await page.fill('[data-testid="flame-search"]', 'fib')
  assert.match(await page.locator('[data-testid="search-result"]').innerText(), /^1 matching function, \d+\.\d% of the time/)
  const point = (await page.evaluate(`window.pyxrayFlame.pointOf('fib')`)) as { x: number; y: number } | undefined
  assert.ok(point, 'fib is drawn')
  await page.mouse.move(point.x, point.y)
  assert.match(await page.locator('[data-testid="flame-tooltip"]').innerText(), /fib[\s\S]*calls \d+[\s\S]*total/)
  await page.mouse.click(point.x, point.y)
  await page.locator('[data-testid="frame-details"] h3', { hasText: 'fib' }).waitFor(WAIT)
  await flameKeyboardChecks(page)
  await tableKeyboardChecks(page)
}

/** The flame graph by keyboard: Enter zooms to the selected node, the arrows move the selection. */
async function flameKeyboardChecks(page: Page): Promise<void> {
  const canvas = page.locator('[data-testid="flamegraph"]')
  await canvas.focus()
  await page.keyboard.press('Enter')
  const box = await canvas.boundingBox()
  const fib = (await page.evaluate(`window.pyxrayFlame.pointOf('fib')`)) as { x: number; y: number } | undefined
  assert.ok(box && fib && Math.abs(fib.x - (box.x + box.width / 2)) < 2, `zoomed to fib, it spans the width (${fib?.x} in ${box?.x}+${box?.width})`)
  // Down is towards the root in a flame graph: fib's caller; up, its first callee; down, back.
  await page.keyboard.press('ArrowDown')
  await page.locator('[data-testid="frame-details"] h3', { hasText: /^main$/ }).waitFor(WAIT)
  await page.keyboard.press('ArrowUp')
  await page.waitForFunction(`document.querySelector('[data-testid="frame-details"] h3')?.textContent !== 'main'`, undefined, WAIT)
  await page.keyboard.press('ArrowDown')
  await page.locator('[data-testid="frame-details"] h3', { hasText: /^main$/ }).waitFor(WAIT)
  await page.locator('.flame-box button.reset').focus()
  await page.keyboard.press('Enter')
}

/**
 * The tables by keyboard, focus and Enter or Space: a function name picks it, a column header sorts,
 * a twisty opens its node. Ends as it began: the top-functions table, fib picked.
 */
async function tableKeyboardChecks(page: Page): Promise<void> {
  const details = (name: string) => page.locator('[data-testid="frame-details"] h3', { hasText: new RegExp(`^${name}$`) }).waitFor(WAIT)
  const pick = (table: string, name: string) => page.locator(`[data-testid="${table}"] button.pick`, { hasText: new RegExp(`^${name}$`) }).first()
  await pick('top-functions', 'main').focus()
  await page.keyboard.press('Enter')
  await details('main')
  const calls = page.locator('[data-testid="top-functions"] [data-testid="sort-calls"]')
  assert.equal(await calls.getAttribute('aria-sort'), null)
  await calls.locator('button').focus()
  await page.keyboard.press('Enter')
  assert.equal(await calls.getAttribute('aria-sort'), 'descending')
  await page.keyboard.press(' ')
  assert.equal(await calls.getAttribute('aria-sort'), 'ascending')
  // The call tree: main's node opens by keyboard and shows fib, which Enter picks.
  await page.locator('.tables .tabs button', { hasText: 'call tree' }).focus()
  await page.keyboard.press('Enter')
  const twisty = page.locator('[data-testid="call-tree"] button.twisty[aria-label="expand main"]')
  await twisty.focus()
  await page.keyboard.press('Enter')
  assert.equal(await page.locator('[data-testid="call-tree"] button.twisty[aria-label="collapse main"]').getAttribute('aria-expanded'), 'true')
  await pick('call-tree', 'fib').focus()
  await page.keyboard.press('Enter')
  await details('fib')
  await page.locator('.tables .tabs button', { hasText: 'top functions' }).focus()
  await page.keyboard.press(' ')
  await page.locator('[data-testid="top-functions"]').waitFor(WAIT)
}

describe('web UI in Chromium', { skip: missing }, () => {
  let browser: Browser
  let work: string
  let profile: string
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    buildWeb()
    work = mkdtempSync(join(tmpdir(), 'pyxray-e2e-'))
    writeFileSync(join(work, 'work.py'), SCRIPT)
    profile = join(work, 'run.json')
    // The agent's profiler, as pyxray profile runs it (python -m pyxray, the agent on PYTHONPATH).
    const run = spawnSync('python3', ['-m', 'pyxray', '--quiet', '--memory', '-o', profile, join(work, 'work.py')], { cwd: work, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') } })
    assert.equal(run.status, 0, `python -m pyxray failed:\n${run.stderr}`)
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
  })

  describe('through pyxray serve', () => {
    let server: RunningServer
    before(async () => {
      server = await startServer({ profiles: [profile] })
    })
    after(() => server.close())

    test('explorer: typing, source ↔ bytecode, stack stepping, AST, code object, syntax errors', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(server.url)
      assert.equal(new URL(page.url()).search, '', 'the token left the address bar')
      await page.locator('[data-testid="backend"]', { hasText: 'pyxray serve' }).waitFor(WAIT)
      // The Explorer starts with the interpreter the CLI would pick (PYXRAY_PYTHON, else the first python3).
      const chosen = defaultInterpreter(findInterpreters())
      if (chosen) await page.waitForFunction(`document.querySelector('[data-testid="runtime"]').value === 'native:3.${chosen.minor}'`, undefined, WAIT)
      // The checks below read the newest version's output (labels in the exception table): that is the first offered.
      await page.selectOption('[data-testid="runtime"]', { index: 0 })
      await explorerChecks(page, 'serve')
      await page.close()
    })

    test('profile viewer: the served profile, flame graph, search, a frame\'s source and bytecode', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(server.url)
      await page.click('[data-testid="nav-profile"]')
      await profileChecks(page)
      const code = page.locator('[data-testid="frame-code"]')
      await code.waitFor(WAIT)
      const text = await code.innerText()
      assert.match(text, /def fib\(n\):/)
      assert.match(text, /LOAD_FAST/)
      assert.match(text, /RETURN_VALUE/)
      await page.screenshot({ path: join(ARTIFACTS, 'serve-profile.png') })
      await page.close()
    })

    test('the server refuses a foreign Origin and a request without the token', async () => {
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(server.url)
      // Same browser, with the cookie, but from another origin: refused.
      const foreign = await page.request.get(`${server.origin}/api/runtimes`, { headers: { origin: 'http://evil.example' } })
      assert.equal(foreign.status(), 403)
      const own = await page.request.get(`${server.origin}/api/runtimes`)
      assert.equal(own.status(), 200)
      await context.close()
      // A fresh browser without the token: refused, page and API alike.
      const stranger = await browser.newContext()
      const bare = await stranger.request.get(`${server.origin}/`)
      assert.equal(bare.status(), 403)
      assert.equal((await stranger.request.get(`${server.origin}/api/profiles/0`)).status(), 403)
      // A page on another origin cannot read the API even if it tries.
      const other = await staticServer(WEB, '/')
      const p2 = await stranger.newPage()
      await p2.goto(other.url)
      const outcome = await p2.evaluate(async (url) => {
        try {
          const r = await fetch(url, { credentials: 'include' })
          return `status ${r.status}`
        } catch (e) {
          return `blocked: ${(e as Error).message}`
        }
      }, `${server.origin}/api/runtimes`)
      assert.doesNotMatch(outcome, /status 200/)
      other.server.close()
      await stranger.close()
    })
  })

  describe('as a static build (Pyodide in a Web Worker)', () => {
    let site: { server: Server; url: string }
    before(async () => {
      site = await staticServer(WEB, '/some/sub/path/')
    })
    after(() => site.server.close())

    test('explorer on Pyodide 3.14', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(site.url)
      await page.locator('[data-testid="backend"]', { hasText: 'Pyodide' }).waitFor(WAIT)
      await explorerChecks(page, 'static')
      assert.match(await page.locator('[data-testid="compile-status"]').innerText(), /CPython 3\.14/)
      await page.close()
    })

    test('profile viewer: open a file, flame graph, search, tooltip, frame details; open its .py for source and bytecode', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
      await page.goto(site.url)
      await page.click('[data-testid="nav-profile"]')
      await page.setInputFiles('[data-testid="profile-file"]', profile)
      await profileChecks(page)
      // No server: the viewer says where the source would come from.
      assert.match(await page.locator('[data-testid="frame-code-missing"]').innerText(), /add source files…[\s\S]*pyxray serve/)
      await page.click('[data-testid="sort-calls"]')
      await page.screenshot({ path: join(ARTIFACTS, 'static-profile.png') })
      // Given the .py file, the frame shows its source and bytecode, compiled by Pyodide.
      await page.setInputFiles('[data-testid="profile-sources"]', join(work, 'work.py'))
      const code = page.locator('[data-testid="frame-code"]')
      await code.waitFor(WAIT)
      const text = await code.innerText()
      assert.match(text, /def fib\(n\):/)
      assert.match(text, /bytecode compiled by CPython 3\.14/)
      assert.match(text, /LOAD_FAST/)
      assert.match(text, /RETURN_VALUE/)
      await page.screenshot({ path: join(ARTIFACTS, 'static-profile-source.png') })
      await page.close()
    })
  })
})
