/**
 * The HTML report's data slot: a profile whose names hold `</script>`, `<!--` and U+2028 comes back
 * from the page unchanged and cannot end its element; the CLI's checks (input never overwritten,
 * view options refused, a missing template named). The page itself is tested in Chromium
 * (test/e2e/web-views.test.ts).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { renderHtmlReport } from '../src/cli/report-html.js'
import { UsageError } from '../src/cli/errors.js'
import { ExportError, HTML_REPORT_SLOT, htmlReport, jsonForScript } from '../src/profile/export/index.js'
import { flattenProfile, readProfileDocument, toProfileJson } from '../src/profile/document.js'
import { makeDoc } from './profile-docs.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const TEMPLATE = `<!doctype html><html><head><script type="module">start()</script></head><body>${HTML_REPORT_SLOT}</body></html>`

test('the data slot survives hostile names and reads back unchanged', () => {
  const doc = makeDoc([['evil</script><script>alert(1)</script><!--\u2028\u2029&', 1, 5]])
  const page = htmlReport(TEMPLATE, doc, 'a</script>.json')
  const m = /<script type="application\/json" id="pyxray-report">([\s\S]*?)<\/script>/.exec(page)
  assert.ok(m, 'the slot is one element')
  assert.doesNotMatch(m[1]!, /<|>|\u2028|\u2029/)
  const data = JSON.parse(m[1]!) as { name: string; profile: unknown }
  assert.equal(data.name, 'a</script>.json')
  assert.deepEqual(data.profile, flattenProfile(doc), 'the profile in the file format (flat)')
  assert.deepEqual(readProfileDocument(data.profile, 'slot'), doc)
  // Exactly the template around it.
  assert.equal(page.replace(m[0], HTML_REPORT_SLOT), TEMPLATE)
  assert.equal(jsonForScript('<\u2028>'), '"\\u003c\\u2028\\u003e"')
})

test('a template without its slot is refused', () => {
  assert.throws(() => htmlReport('<html></html>', makeDoc([['f', 1, 1]]), 'x.json'), (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_BAD_TEMPLATE')
  assert.throws(() => renderHtmlReport(makeDoc([['f', 1, 1]]), 'x.json', '/nonexistent/report.html'), (e: unknown) => e instanceof UsageError && /npm run build:web/.test(e.message))
})

test('pyxray report --format html: -o never the input; view options refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-report-html-'))
  const input = join(dir, 'run.json')
  writeFileSync(input, toProfileJson(makeDoc([['f', 1, 1]])))
  const same = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'report', input, '--format', 'html', '-o', input], { encoding: 'utf8' })
  assert.equal(same.status, 2)
  assert.match(same.stderr, /never overwrites its input/)
  assert.equal(JSON.parse(readFileSync(input, 'utf8')).pyxray, 'profile', 'the input is untouched')
  const tree = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'report', input, '--format', 'html', '--tree'], { encoding: 'utf8' })
  assert.equal(tree.status, 2)
  assert.match(tree.stderr, /--format html holds the whole profile/)
})
