/**
 * End-to-end, in real Chromium: accessibility (axe-core: no serious or critical violation on any
 * view, light and dark), phones (390×844: no horizontal page scroll, every numeric column of the
 * visible tables on screen), keyboard-only use (open a profile with the picker button, move through
 * the flame graph, open a frame's source and bytecode, step the stack), bad documents (an error
 * naming the field replaces the view). Skipped with the reason without Chromium (a failure under
 * CI=true), as test/e2e/web.test.ts. No check depends on time.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type RunningServer, startServer } from '../../src/server/server.js'
import { ARTIFACTS, buildWeb, CHROMIUM, CHROMIUM_ARGS, memoryDocuments, missing, plantedPair, PROFILES, ROOT, staticServer, WAIT, WEB } from './harness.js'

const AXE = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js')
const axeMissing = existsSync(AXE) ? undefined : `axe-core not installed (${AXE}): npm install`
if (axeMissing && process.env.CI === 'true') throw new Error(`${axeMissing}: required under CI=true`)

type Theme = 'light' | 'dark'

interface Violation {
  readonly id: string
  readonly impact: string | null
  readonly help: string
  readonly nodes: readonly { readonly target: readonly string[]; readonly failureSummary?: string }[]
}

/** Serious and critical axe-core violations of the page as it is now, one line each. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.addScriptTag({ content: readFileSync(AXE, 'utf8') })
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as Violation[]
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.split('\n').slice(1, 2).join('').trim()}` : ''}`).join(' | ')}${v.nodes.length > 3 ? ` (+${v.nodes.length - 3} more)` : ''}`)
}

/** Asserts no serious or critical violation, in both themes (the system's preference; the UI follows it). */
async function assertAccessible(page: Page, what: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const satisfies readonly Theme[]) {
    await page.emulateMedia({ colorScheme: theme })
    await page.waitForFunction(`document.documentElement.dataset.theme === ${JSON.stringify(theme)}`, undefined, WAIT)
    const found = await axeViolations(page)
    if (found.length) await page.screenshot({ path: join(ARTIFACTS, `a11y-${what.replace(/\W+/g, '-')}-${theme}.png`) })
    assert.deepEqual(found, [], `${what}, ${theme} theme`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

/**
 * The page does not scroll sideways, and every numeric column header (th.num) of the tables in view
 * lies within the viewport.
 */
async function assertFitsPhone(page: Page, what: string): Promise<void> {
  const report = (await page.evaluate(`(() => {
    const w = window.innerWidth
    const out = { scroll: document.documentElement.scrollWidth - w, off: [] }
    for (const th of document.querySelectorAll('table th.num')) {
      const r = th.getBoundingClientRect()
      if (r.width === 0 && r.height === 0) continue
      if (th.closest('[hidden], dialog:not([open])')) continue
      if (r.left < -0.5 || r.right > w + 0.5) out.off.push((th.textContent || '?').trim() + ' ' + Math.round(r.left) + '–' + Math.round(r.right))
    }
    return out
  })()`)) as { scroll: number; off: string[] }
  await page.screenshot({ path: join(ARTIFACTS, `phone-${what.replace(/\W+/g, '-')}.png`), fullPage: true })
  assert.ok(report.scroll <= 0, `${what}: the page scrolls sideways by ${report.scroll}px at 390 px`)
  assert.deepEqual(report.off, [], `${what}: numeric columns off screen at 390 px`)
}

/** Presses Tab until the focused element matches `selector` (Esc first when the editor holds the focus, as its Tab indents). */
async function tabTo(page: Page, selector: string, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate(`!!document.activeElement && document.activeElement.matches(${JSON.stringify(selector)})`)) return
    if (await page.evaluate(`!!document.activeElement?.closest('.cm-editor')`)) await page.keyboard.press('Escape')
    await page.keyboard.press('Tab')
  }
  assert.fail(`${selector} not reached with Tab (focus on ${await page.evaluate('document.activeElement?.outerHTML.slice(0, 120)')})`)
}

describe('web UI: accessibility, phones, keyboard, bad documents', { skip: missing ?? axeMissing }, () => {
  let browser: Browser
  let server: RunningServer
  let pair: [string, string]
  let memory: string[]
  let work: string
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    buildWeb()
    work = mkdtempSync(join(tmpdir(), 'pyxray-e2e-a11y-'))
    pair = plantedPair(work)
    memory = memoryDocuments(mkdtempSync(join(tmpdir(), 'pyxray-e2e-a11y-mem-')))
    server = await startServer({ profiles: [...pair, ...memory], log: () => {} })
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })

  /** A fresh context (no stored theme) with the page's CSP bypassed so axe-core can be injected. */
  const open = async (viewport = { width: 1400, height: 850 }): Promise<[BrowserContext, Page]> => {
    const context = await browser.newContext({ viewport, bypassCSP: true })
    return [context, await context.newPage()]
  }

  test('axe-core: every view served by pyxray serve, light and dark', async () => {
    const [context, page] = await open()
    await page.goto(server.url)
    await page.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
    await assertAccessible(page, 'Explorer')
    await page.click('[data-testid="tab-ast"]')
    await page.locator('[data-testid="ast-node"]').first().waitFor(WAIT)
    await assertAccessible(page, 'Explorer AST')
    await page.click('[data-testid="tab-code"]')
    await assertAccessible(page, 'Explorer code object')
    await page.click('[data-testid="compare-toggle"]')
    await page.locator('[data-testid="compare-table"]').waitFor(WAIT)
    await assertAccessible(page, 'Compare')
    await page.click('[data-testid="compare-toggle"]')
    await page.click('[data-testid="nav-profile"]')
    await page.locator('[data-testid="profile-meta"]').waitFor(WAIT)
    await page.click('[data-testid="table-tree"]')
    await page.locator('[data-testid="call-tree"]').waitFor(WAIT)
    await page.locator('[data-testid="call-tree"] button.pick').first().click()
    await page.locator('[data-testid="frame-code"], [data-testid="frame-code-missing"]').first().waitFor(WAIT)
    await assertAccessible(page, 'Profile')
    await page.click('[data-testid="nav-diff"]')
    await page.locator('[data-testid="diff-summary"]').waitFor(WAIT)
    await page.fill('[data-testid="diff-threshold"]', '-5')
    await page.locator('[data-testid="diff-threshold-invalid"]').waitFor(WAIT)
    await assertAccessible(page, 'Diff')
    await page.click('[data-testid="nav-memory"]')
    await page.locator('[data-testid="leak-curve"]').waitFor(WAIT)
    await assertAccessible(page, 'Memory')
    await page.click('[data-testid="shortcuts-button"]')
    await page.locator('[data-testid="shortcuts"][open]').waitFor(WAIT)
    await assertAccessible(page, 'shortcuts dialog')
    await page.keyboard.press('Escape')
    await context.close()
  })

  test('the theme switch: system, light, dark, remembered in this browser', async () => {
    const [context, page] = await open()
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.goto(server.url)
    const theme = () => page.evaluate('document.documentElement.dataset.theme')
    assert.equal(await theme(), 'dark', 'follows the system')
    const background = () => page.evaluate('getComputedStyle(document.body).backgroundColor')
    const dark = await background()
    await page.click('[data-testid="theme-switch"]')
    assert.equal(await theme(), 'light')
    assert.notEqual(await background(), dark, 'the colours change with the theme')
    await page.reload()
    assert.equal(await theme(), 'light', 'the choice outlives a reload')
    await page.click('[data-testid="theme-switch"]')
    await page.click('[data-testid="theme-switch"]')
    assert.equal(await theme(), 'dark', 'back to the system (dark)')
    await context.close()
  })

  test('390×844: no horizontal page scroll, numeric columns on screen', async () => {
    const [context, page] = await open({ width: 390, height: 844 })
    await page.goto(server.url)
    await page.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
    await assertFitsPhone(page, 'Explorer')
    await page.click('[data-testid="compare-toggle"]')
    await page.locator('[data-testid="compare-table"]').waitFor(WAIT)
    await assertFitsPhone(page, 'Compare')
    await page.click('[data-testid="compare-toggle"]')
    await page.click('[data-testid="nav-profile"]')
    await page.locator('[data-testid="top-functions"]').waitFor(WAIT)
    await assertFitsPhone(page, 'Profile top functions')
    await page.click('[data-testid="table-tree"]')
    await assertFitsPhone(page, 'Profile call tree')
    await page.click('[data-testid="nav-diff"]')
    await page.locator('[data-testid="diff-functions"]').waitFor(WAIT)
    await assertFitsPhone(page, 'Diff')
    await page.click('[data-testid="nav-memory"]')
    await page.locator('[data-testid="leak-sites"]').waitFor(WAIT)
    await assertFitsPhone(page, 'Memory')
    await context.close()
  })

  test('keyboard only: open a profile with the picker button, walk the flame graph, open a frame, step the stack', async () => {
    const [context, page] = await open()
    try {
      await page.goto(server.url)
      await page.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
      await page.keyboard.press('Alt+2')
      await page.locator('[data-testid="profile-viewer"]').waitFor(WAIT)
      await tabTo(page, '[data-testid="profile-file-button"]')
      const chooser = page.waitForEvent('filechooser', WAIT)
      // Enter on the button Tab reached (pressed through its locator: a re-render of the toolbar
      // while the served profiles load can replace the element the focus was on).
      await page.locator('[data-testid="profile-file-button"]').press('Enter')
      await (await chooser).setFiles(pair[1])
      await page.locator('[data-testid="profile-meta"]', { hasText: 'planted-head.json' }).waitFor(WAIT)
      // The flame graph takes the focus; the arrows move the selection, Enter zooms and opens the frame.
      await tabTo(page, 'canvas[data-testid="flamegraph"]')
      const details = page.locator('[data-testid="frame-details"] h3')
      const names: string[] = []
      // (The first arrow selects the root; up goes to callees, down to the caller; the walk ends on main.)
      for (const key of ['ArrowDown', 'ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowDown']) {
        await page.keyboard.press(key)
        if (await details.count()) names.push(await details.innerText())
      }
      assert.ok(new Set(names).size >= 2, `the arrows moved between frames: ${names.join(', ')}`)
      assert.equal(names.at(-1), 'main')
      await page.keyboard.press('Enter')
      await page.keyboard.press('Escape')
      const code = page.locator('[data-testid="frame-details"] [data-testid="frame-code"]')
      await code.waitFor(WAIT)
      assert.ok((await code.locator('pre.source').count()) > 0, "the frame's source")
      assert.ok((await code.locator('[data-testid="bytecode"] tbody tr').count()) > 0, "the frame's bytecode")
      // The tables: ↓ moves between rows, Enter picks.
      await tabTo(page, '[data-testid="top-functions"] tbody button.pick')
      const firstRow = await page.evaluate('document.activeElement.textContent')
      await page.keyboard.press('ArrowDown')
      const second = (await page.evaluate('document.activeElement.textContent')) as string
      assert.notEqual(second, firstRow, '↓ moved to the next row')
      await page.keyboard.press('Enter')
      await page.locator('[data-testid="frame-details"] h3', { hasText: second }).waitFor(WAIT)
      // The Explorer: a bytecode row by Tab (Esc leaves the editor), ↓ and Enter pick it, the stepper steps.
      await page.keyboard.press('Alt+1')
      await tabTo(page, '.cm-content')
      await page.keyboard.press('Tab')
      assert.ok(await page.evaluate(`!!document.activeElement?.closest('.cm-editor')`), 'Tab inside the editor indents: the focus stays')
      assert.match((await page.evaluate(`window.pyxrayEditor.state.doc.toString()`)) as string, /^\s+def fib/, 'Tab indented the line')
      await page.keyboard.press('Shift+Tab')
      assert.match((await page.evaluate(`window.pyxrayEditor.state.doc.toString()`)) as string, /^def fib/, 'Shift+Tab dedented it')
      await page.keyboard.press('Escape')
      await page.keyboard.press('Tab')
      assert.ok(await page.evaluate(`!document.activeElement?.closest('.cm-editor')`), 'Esc then Tab leaves the editor')
      await tabTo(page, '[data-testid="bytecode"] tbody tr')
      await page.keyboard.press('ArrowDown')
      await page.keyboard.press('Enter')
      const at = await page.locator('[data-testid="stack-current"]').innerText()
      await tabTo(page, '[data-testid="step-next"]')
      await page.keyboard.press('Enter')
      assert.notEqual(await page.locator('[data-testid="stack-current"]').innerText(), at, 'Enter on "step" stepped')
      // The shortcuts dialog: ? opens it, Esc closes it.
      await page.keyboard.press('?')
      await page.locator('[data-testid="shortcuts"][open]').waitFor(WAIT)
      await page.keyboard.press('Escape')
      await page.locator('[data-testid="shortcuts"]:not([open])').waitFor({ state: 'attached', ...WAIT })
    } finally {
      await context.close()
    }
  })

  test('picking a code object scrolls the editor to it; in compare, picking on B leaves A where it was', async () => {
    const [context, page] = await open()
    await page.goto(server.url)
    await page.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
    const source = Array.from({ length: 200 }, (_, i) => `def f${i}(x):\n    return x + ${i}`).join('\n')
    await page.evaluate(`window.pyxrayEditor.dispatch({ changes: { from: 0, to: window.pyxrayEditor.state.doc.length, insert: ${JSON.stringify(source)} } })`)
    await page.waitForFunction(`document.querySelectorAll('[data-testid="code-object"] option').length === 201`, undefined, WAIT)
    await page.selectOption('[data-testid="code-object"]', 'f150')
    // f150 starts on line 301: it is in view, the cursor on it.
    await page.waitForFunction(`(() => {
      const v = window.pyxrayEditor
      const top = v.state.doc.lineAt(v.lineBlockAtHeight(v.scrollDOM.scrollTop).from).number
      const bottom = v.state.doc.lineAt(v.lineBlockAtHeight(v.scrollDOM.scrollTop + v.scrollDOM.clientHeight - 1).from).number
      return top <= 301 && 301 <= bottom && v.state.doc.lineAt(v.state.selection.main.head).number === 301
    })()`, undefined, WAIT)
    await page.click('[data-testid="compare-toggle"]')
    await page.locator('[data-testid="compare-table"] td[data-side="b"] button').nth(300).waitFor(WAIT)
    await page.evaluate('window.pyxrayCompareEditors[0].scrollDOM.scrollTop = 1500')
    await page.waitForFunction('window.pyxrayCompareEditors[0].scrollDOM.scrollTop === 1500', undefined, WAIT)
    const pick = page.locator('[data-testid="compare-table"] td[data-side="b"] button').nth(300)
    await pick.click()
    await page.waitForFunction('window.pyxrayCompareEditors[1].scrollDOM.scrollTop > 0', undefined, WAIT)
    assert.equal(await page.evaluate('window.pyxrayCompareEditors[0].scrollDOM.scrollTop'), 1500, "A's editor did not move")
    assert.equal(await page.locator('[data-testid="compare-legend"] .legend-item').count(), 4, 'the colours are explained')
    await context.close()
  })

  test('a profile with children: null or threads: [] shows an error naming the field, in place of the old view', async () => {
    const [context, page] = await open()
    await page.goto(`${server.url}#profile`)
    await page.locator('[data-testid="profile-meta"]').waitFor(WAIT)
    const doc = JSON.parse(readFileSync(pair[0], 'utf8')) as { threads: { root: { children: unknown } }[] }
    const nullChildren = join(work, 'null-children.json')
    writeFileSync(nullChildren, JSON.stringify({ ...doc, threads: [{ ...doc.threads[0], root: { ...doc.threads[0]!.root, children: null } }] }))
    const noThreads = join(work, 'no-threads.json')
    writeFileSync(noThreads, JSON.stringify({ ...doc, threads: [] }))
    for (const [file, field] of [[nullChildren, '/threads/0/root/children'], [noThreads, '/threads']] as const) {
      await page.setInputFiles('[data-testid="profile-file"]', file)
      const error = page.locator('[data-testid="profile-error"]')
      await error.waitFor(WAIT)
      const text = await error.innerText()
      assert.ok(text.includes(field) && text.includes(file.split('/').pop()!), `the error names the file and ${field}: ${text}`)
      assert.equal(await page.locator('[data-testid="profile-meta"]').count(), 0, 'the old profile is gone')
      assert.equal(await page.locator('canvas[data-testid="flamegraph"]').count(), 0, 'no flame graph of the old file')
    }
    // The diff: a bad side empties that side and says why.
    await page.click('[data-testid="nav-diff"]')
    await page.locator('[data-testid="diff-summary"]').waitFor(WAIT)
    await page.setInputFiles('[data-testid="diff-head-file"]', noThreads)
    assert.match(await page.locator('[data-testid="diff-error"]').innerText(), /no-threads\.json: .*\/threads/)
    assert.equal(await page.locator('[data-testid="diff-summary"]').count(), 0, 'no diff of the old head')
    // A good file brings the view back, without the old error.
    await page.click('[data-testid="nav-profile"]')
    await page.setInputFiles('[data-testid="profile-file"]', pair[1])
    await page.locator('[data-testid="profile-meta"]', { hasText: 'planted-head.json' }).waitFor(WAIT)
    assert.equal(await page.locator('[data-testid="profile-error"]').count(), 0)
    await context.close()
  })

  test('the HTML report, light and dark; at 390 px', async () => {
    const out = join(work, 'report.html')
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'report', join(PROFILES, 'threads.json'), '--format', 'html', '-o', out], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const [context, page] = await open()
    await page.goto(pathToFileURL(out).href)
    await page.locator('[data-testid="profile-meta"]').waitFor(WAIT)
    await assertAccessible(page, 'HTML report')
    await page.setViewportSize({ width: 390, height: 844 })
    await assertFitsPhone(page, 'HTML report')
    await context.close()
  })

  test('a 2,400-line module: the virtualized bytecode table scrolls to far instructions, keeps its keyboard, finds, and passes axe-core', async () => {
    const [context, page] = await open()
    try {
      await page.goto(server.url)
      await page.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
      // 800 functions, then a last statement whose instructions are the table's last rows.
      const big = Array.from({ length: 800 }, (_, i) => `def g${i}(x):\n    y = x * ${i}\n    return y`).join('\n') + '\nfinal_marker = g7(7)\n'
      await page.evaluate(`window.pyxrayEditor.dispatch({ changes: { from: 0, to: window.pyxrayEditor.state.doc.length, insert: ${JSON.stringify(big)} } })`)
      await page.waitForFunction(`Number(document.querySelector('[data-testid="bytecode"]')?.getAttribute('data-rows')) > 2400`, undefined, WAIT)
      const table = page.locator('[data-testid="bytecode"]')
      const n = Number(await table.getAttribute('data-rows'))
      assert.equal(await table.getAttribute('aria-rowcount'), String(n + 1), 'aria-rowcount: every instruction and the header row')
      /** The rendered instruction rows: [aria-rowindex of the first, how many, whether they run without a gap]. */
      const rendered = async () =>
        (await page.evaluate(`(() => {
          const ix = [...document.querySelectorAll('[data-testid="bytecode"] tbody tr[aria-rowindex]')].map((r) => Number(r.getAttribute('aria-rowindex')))
          return [ix[0], ix.length, ix.every((v, k) => v === ix[0] + k)]
        })()`)) as [number, number, boolean]
      const [top, count, contiguous] = await rendered()
      assert.equal(top, 2, 'the first instruction is row 2 (the header is row 1)')
      assert.ok(count < 300, `only the rows in view and a margin are in the DOM (${count} of ${n})`)
      assert.ok(contiguous, 'the rendered rows are consecutive')
      /** Whether the element lies inside the bytecode pane's view, below its sticky find bar and header. */
      const inView = (selector: string) =>
        page.evaluate(`(() => {
          const el = document.querySelector(${JSON.stringify(selector)})
          if (!el) return false
          const pane = document.querySelector('.bytecode-pane').getBoundingClientRect()
          const head = document.querySelector('[data-testid="bytecode"] thead').getBoundingClientRect()
          const r = el.getBoundingClientRect()
          return r.top >= head.bottom - 1 && r.bottom <= pane.bottom + 1
        })()`) as Promise<boolean>

      // Source → instruction: selecting the last line in the editor scrolls its (unrendered) rows into view.
      await page.evaluate(`(() => { const v = window.pyxrayEditor; const line = v.state.doc.line(v.state.doc.lines - 1); v.dispatch({ selection: { anchor: line.from, head: line.to }, userEvent: 'select' }) })()`)
      await page.locator('[data-testid="bytecode"] tbody tr.linked', { hasText: 'final_marker' }).waitFor(WAIT)
      await page.waitForFunction(`(() => { const r = document.querySelector('[data-testid="bytecode"] tbody tr.linked'); return r && Number(r.getAttribute('aria-rowindex')) > ${n - 20} })()`, undefined, WAIT)
      assert.ok(await inView('[data-testid="bytecode"] tbody tr.linked'), 'the linked rows at the end are scrolled into view')
      assert.ok((await rendered())[1] < 300, 'still only a window of rows in the DOM')
      await assertAccessible(page, 'Explorer, virtualized bytecode scrolled to its end')

      // Find: an instruction far from the rows in view, by text; Enter goes to the next match.
      await page.evaluate(`document.querySelector('.bytecode-pane').scrollTop = 0`)
      await page.fill('[data-testid="bytecode-find"]', 'g400')
      // g400's code object constant and its STORE_NAME (and, before 3.11, its qualname constant).
      await page.locator('[data-testid="bytecode-find-count"]', { hasText: /^1 of [23]$/ }).waitFor(WAIT)
      const found = page.locator('[data-testid="bytecode"] tbody tr.found')
      await found.waitFor(WAIT)
      assert.match(await found.innerText(), /LOAD_CONST[\s\S]*g400|STORE_NAME[\s\S]*g400/, 'the found row is an instruction of g400')
      assert.ok(await inView('[data-testid="bytecode"] tbody tr.found'), 'the match is scrolled into view')
      const firstHit = Number(await found.getAttribute('aria-rowindex'))
      await page.press('[data-testid="bytecode-find"]', 'Enter')
      await page.locator('[data-testid="bytecode-find-count"]', { hasText: /^2 of [23]$/ }).waitFor(WAIT)
      assert.ok(Number(await found.getAttribute('aria-rowindex')) > firstHit, 'Enter: the next match')
      // Instruction → source: clicking the found row selects g400's source in the editor.
      await found.click()
      assert.match(await page.locator('.cm-linked').first().innerText(), /g400/, 'the chosen instruction links to its source')

      // The keyboard across the render window: PageDown and ↓ move the focus by index, the focused
      // row is rendered and in view; End reaches the last instruction, Home the first.
      await page.fill('[data-testid="bytecode-find"]', '')
      await page.evaluate(`document.querySelector('.bytecode-pane').scrollTop = 0`)
      await page.locator('[data-testid="bytecode"] tbody tr[aria-rowindex="2"]').focus()
      let at = 2
      for (let k = 0; k < 12; k++) {
        await page.keyboard.press('PageDown')
        await page.waitForFunction(`Number(document.activeElement?.getAttribute('aria-rowindex')) > ${at}`, undefined, WAIT)
        at = Number(await page.evaluate(`document.activeElement.getAttribute('aria-rowindex')`))
      }
      assert.ok(at > 200, `PageDown walked past the first render window (at row ${at})`)
      await page.keyboard.press('ArrowDown')
      await page.waitForFunction(`Number(document.activeElement?.getAttribute('aria-rowindex')) === ${at + 1}`, undefined, WAIT)
      assert.ok(await inView('[data-testid="bytecode"] tbody tr:focus'), 'the focused row is in view')
      await page.keyboard.press('End')
      await page.waitForFunction(`Number(document.activeElement?.getAttribute('aria-rowindex')) === ${n + 1}`, undefined, WAIT)
      assert.ok(await inView('[data-testid="bytecode"] tbody tr:focus'), 'End: the last instruction, in view')
      await page.keyboard.press('Enter')
      await page.locator('[data-testid="bytecode"] tbody tr.selected', { hasText: 'RETURN' }).waitFor(WAIT)
      assert.equal(await page.locator('[data-testid="bytecode"] tbody tr[tabindex="0"]').count(), 1, 'one row in the tab order')
      await page.keyboard.press('Home')
      await page.waitForFunction(`document.activeElement?.getAttribute('aria-rowindex') === '2'`, undefined, WAIT)
      await assertAccessible(page, 'Explorer, virtualized bytecode at its start')

      // The AST pane: the tree's top levels came with the compile; a statement's children are
      // fetched when it is opened (→), and shown in place.
      await page.click('[data-testid="tab-ast"]')
      const stmt = page.locator('[role="treeitem"][aria-level="3"]', { has: page.locator('[data-testid="ast-node"]', { hasText: /^body\[0\]: Assign\b/ }) }).first()
      await stmt.waitFor(WAIT)
      assert.equal(await stmt.getAttribute('aria-expanded'), 'false', 'below the top levels, closed')
      await stmt.click()
      await page.keyboard.press('ArrowRight')
      await page.locator('[role="treeitem"][aria-level="4"]', { has: page.locator('[data-testid="ast-node"]', { hasText: /^value: BinOp\b/ }) }).first().waitFor(WAIT)
      assert.equal(await stmt.getAttribute('aria-expanded'), 'true')
      await page.keyboard.press('ArrowDown')
      await page.keyboard.press('ArrowDown')
      await page.keyboard.press('ArrowRight')
      await page.locator('[role="treeitem"][aria-level="5"]', { has: page.locator('[data-testid="ast-node"]', { hasText: /^left: Name id="x"/ }) }).first().waitFor(WAIT)
      await assertAccessible(page, 'Explorer AST of a big module, a node fetched and opened')
    } finally {
      await context.close()
    }
  })

  describe('the static build (Pyodide)', () => {
    let site: { server: Server; url: string }
    before(async () => {
      site = await staticServer(WEB, '/a11y/')
    })
    after(() => site.server.close())

    test('the start shows its stages; axe-core while loading and once loaded, light and dark', async () => {
      const [context, page] = await open()
      // CPython's WebAssembly is held back until the loading state has been checked.
      let release = () => {}
      const held = new Promise<void>((ok) => (release = ok))
      await context.route('**/pyodide.asm.wasm', async (route) => {
        await held
        await route.continue()
      })
      await page.goto(site.url)
      const progress = page.locator('[data-testid="load-progress"]')
      await progress.waitFor(WAIT)
      assert.deepEqual((await progress.locator('li').allInnerTexts()).map((t) => t.replace(/…$/, '')), [
        'downloading the Python runtime (Pyodide)',
        'starting CPython in WebAssembly',
        'installing the pyxray agent',
        'compiling your code',
      ])
      assert.equal(await progress.locator('li.now').count(), 1, 'one stage is the current one')
      await assertAccessible(page, 'static build starting')
      release()
      await page.locator('[data-testid="bytecode"] tbody tr').first().waitFor(WAIT)
      await assertAccessible(page, 'static build Explorer')
      await page.click('[data-testid="nav-profile"]')
      await assertAccessible(page, 'static build Profile (empty)')
      await context.close()
    })
  })
})
