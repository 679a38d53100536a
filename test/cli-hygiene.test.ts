/**
 * Output hygiene: qualnames, file names, thread names and argv come from hostile input (a profile
 * document's frames, a .pyc's co_name / co_qualname / co_filename). pyxray's own views print them
 * with controls escaped as Python's repr does (no ESC, no raw newline, no bidi override reaches the
 * terminal), and Markdown keeps them in code spans whose fence is longer than any backtick run in
 * them, so no name can end its span, its table cell or inject a link. `dis --format dis` stays
 * CPython's text.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { formatDis, toCodeObject } from '../src/bytecode/index.js'
import { type ProfileDocument, toProfileJson } from '../src/profile/document.js'
import { readPyc } from '../src/pyc/index.js'
import { escapeControls, mdCode } from '../src/text/escape.js'
import { mdCell } from '../src/profile/units.js'
import { cells, inline } from './markdown.js'
import { makeDoc, makeMetadata, type T } from './profile-docs.js'
import { requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')

function pyxray(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const ESC = '\x1b'
/** The names the documents are built from: each one an attack on a terminal or on Markdown. */
const HOSTILE = {
  sgr: `${ESC}[31mred${ESC}[0m`,
  osc8: `${ESC}]8;;http://evil${ESC}\\click${ESC}]8;;${ESC}\\`,
  newline: 'first\nsecond',
  backticks: 'a`b``c',
  fence: 'f````g',
  edgeTick: '`edge`',
  link: 'x](http://x)',
  pipe: 'left|right',
  bidi: 'abc\u202Eevil\u2066',
  csi: 'c1\x9b2J',
} as const
const FILE = `${ESC}[31mevil\n.py`
/** Markdown an attacker would put in text that is not a code span (a file name, a warning). */
const MARKUP = '*star* _under_ ~~gone~~ <b>bold</b> &lt;x [l](http://evil) | # head'

/** Characters that must never reach a terminal from a name. */
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

function hostileDocs(dir: string): { base: string; head: string } {
  const names = Object.values(HOSTILE)
  const kids = (scale: number): T[] => names.map((q, i) => [q, 1 + i, (1 + i) * 1_000_000 * scale, [], i === 0 ? { file: FILE } : i === 1 ? { file: `${MARKUP}.py` } : undefined] as T)
  const doc = (scale: number): ProfileDocument => {
    const d = makeDoc([['main', 1, 100_000_000 * scale, kids(scale)]])
    const main = d.threads[0]!
    return {
      ...d,
      metadata: makeMetadata({ argv: ['app.py', `${ESC}[2J`, HOSTILE.newline], warnings: [`warned about ${HOSTILE.osc8}`, MARKUP] }),
      threads: [
        { ...main, name: `Main${ESC}[1mThread` },
        { ...main, id: 2, name: `worker${HOSTILE.bidi}`, main: false },
      ],
    }
  }
  const base = join(dir, 'base.json')
  const head = join(dir, 'head.json')
  writeFileSync(base, toProfileJson(doc(1)))
  writeFileSync(head, toProfileJson(doc(2)))
  return { base, head }
}

function assertClean(what: string, r: { code: number | null; stdout: string; stderr: string }): void {
  assert.ok(r.code === 0 || r.code === 1, `${what}: exit ${r.code}: ${r.stderr}`)
  for (const [stream, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const m = RAW.exec(text)
    assert.equal(m, null, `${what}: ${stream} holds U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} at ${m?.index}: ${JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 40))}`)
    assert.doesNotMatch(text, /first\nsecond/, `${what}: a raw newline inside a name on ${stream}`)
  }
}

test('report and diff as text: names, files, threads, argv and warnings are escaped as Python repr escapes them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-hygiene-'))
  const { base, head } = hostileDocs(dir)
  const runs: [string, string[]][] = [
    ['report', ['report', head, '--top', '0']],
    ['report --tree', ['report', head, '--tree', '--min-percent', '0']],
    ['report --callers', ['report', head, '--callers', HOSTILE.sgr]],
    ['report --callees', ['report', head, '--callees', 'main']],
    ['report --thread', ['report', head, '--thread', `worker${HOSTILE.bidi}`]],
    ['diff', ['diff', base, head]],
    ['diff --tree', ['diff', base, head, '--tree', '--min-percent', '0']],
    ['diff --fail-on regression', ['diff', base, head, '--fail-on', 'regression']],
  ]
  for (const [what, args] of runs) {
    const r = pyxray(args)
    assertClean(what, r)
    if (what !== 'report --thread') assert.ok(r.stdout.includes('\\x1b[31mred\\x1b[0m'), `${what}: the escaped qualname is shown`)
  }
  const text = pyxray(['report', head, '--top', '0', '--width', '200']).stdout
  assert.ok(text.includes('abc\\u202eevil\\u2066'), 'bidi controls as \\u escapes')
  assert.ok(text.includes('first\\nsecond'), 'a newline as \\n')
  assert.ok(text.includes('c1\\x9b2J'), 'C1 controls as \\x escapes')
  assert.ok(text.includes('\\x1b[31mevil\\n.py'), 'the file name is escaped')
  assert.ok(text.includes('app.py \\x1b[2J first\\nsecond'), 'argv is escaped')
  assert.ok(text.includes('Main\\x1b[1mThread'), 'thread names are escaped')
  const gate = pyxray(['diff', base, head, '--fail-on', 'regression'])
  assert.equal(gate.code, 1)
  assert.ok(gate.stderr.includes('\\x1b[31mred'), gate.stderr)
})

function assertMarkdown(what: string, md: string, expectSpans: readonly string[]): void {
  const spans: string[] = []
  let tableWidth = 0
  // A fenced block (the tree) ends at a line of at least as many backticks as opened it.
  let fence = ''
  for (const line of md.split('\n')) {
    const run = /^(`{3,})\s*$/.exec(line)?.[1]
    if (fence) {
      if (run !== undefined && run.length >= fence.length) fence = ''
      else assert.ok(!line.startsWith(fence), `${what}: a line inside the block that starts like its fence: ${line}`)
      continue
    }
    if (run !== undefined) {
      fence = run
      continue
    }
    // pyxray's own HTML: the collapsible call paths of a diff.
    if (/^(<details><summary>[a-z ]+<\/summary>|<\/details>)$/.test(line)) continue
    const inTable = line.startsWith('|')
    if (inTable) {
      const n = cells(line).length
      if (/^\|[ :|-]+\|$/.test(line)) tableWidth = n
      else if (tableWidth) assert.equal(n, tableWidth, `${what}: a row with ${n} cells instead of ${tableWidth}: ${line}`)
    } else tableWidth = 0
    const parsed = inline(line)
    for (const s of parsed.spans) spans.push(inTable ? s.replace(/\\\|/g, '|') : s)
    assert.doesNotMatch(parsed.outside, /\]\(|\[/, `${what}: link syntax outside code spans: ${line}`)
    assert.doesNotMatch(parsed.outside, /<[a-z/!?]/i, `${what}: an HTML tag or autolink outside code spans: ${line}`)
    // The MARKUP of names and warnings renders as text: no emphasis, strike-through, entity or heading.
    assert.doesNotMatch(parsed.outside, /\*star\*|_under_|~~gone~~|&lt;x|(^|\| )# head/, `${what}: Markdown from a name outside code spans: ${line}`)
  }
  assert.equal(fence, '', `${what}: a fenced block left open`)
  for (const name of expectSpans) assert.ok(spans.includes(escapeControls(name)), `${what}: ${JSON.stringify(name)} is not one code span: ${JSON.stringify(spans)}`)
}

test('report and diff as Markdown: each name is one code span with a long enough fence, tables keep their cells, no link outside spans', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-hygiene-'))
  const { base, head } = hostileDocs(dir)
  const names = Object.values(HOSTILE)
  const runs: [string, string[], readonly string[]][] = [
    ['report --format markdown', ['report', head, '--top', '0', '--format', 'markdown'], names],
    ['report --callers --format markdown', ['report', head, '--callees', 'main', '--format', 'markdown'], names],
    ['report --tree --format markdown', ['report', head, '--tree', '--min-percent', '0', '--format', 'markdown'], []],
    ['diff --format markdown', ['diff', base, head, '--format', 'markdown', '--top', '100'], names],
    ['report --tree --format markdown (a fence longer than any name\'s backticks)', ['report', head, '--tree', '--min-percent', '0', '--format', 'markdown'], []],
  ]
  for (const [what, args, expect] of runs) {
    const r = pyxray(args)
    assertClean(what, r)
    assertMarkdown(what, r.stdout, expect)
  }
})

test('mdCell: text outside code spans renders as itself — emphasis, strike-through, links, tags, entities and line-start markers escaped; numbers kept', () => {
  assert.equal(mdCell('*a* _b_ ~~c~~'), '\\*a\\* \\_b\\_ \\~\\~c\\~\\~')
  assert.equal(mdCell('[x](http://e) <b> &amp; a|b `c`'), '\\[x\\](http://e) &lt;b&gt; &amp;amp; a\\|b \\`c\\`')
  assert.equal(mdCell('# h'), '\\# h')
  assert.equal(mdCell('- item'), '\\- item')
  assert.equal(mdCell('1. item'), '1\\. item')
  assert.equal(mdCell('=='), '\\==')
  // Numbers and signed deltas are not list markers: unchanged.
  for (const plain of ['1.31 ms', '-3.2 µs', '+331 ns', '12', 'app.py:14']) assert.equal(mdCell(plain), plain)
  for (const text of [MARKUP, '__init__', '**x**', '<!-- c -->', '![i](http://e/x.png)']) {
    const { spans, outside } = inline(mdCell(text))
    assert.deepEqual(spans, [], text)
    // Only pyxray's own entities (&lt; &gt; &amp;): an entity of the input shows as text.
    assert.doesNotMatch(outside, /[*_~[\]<>`|]|&(?!(lt|gt|amp);)|^#/, `${text} → ${mdCell(text)}`)
  }
})

test('mdCode: the fence is longer than any backtick run, padded when the name starts or ends with one', () => {
  assert.equal(mdCode('fib'), '`fib`')
  assert.equal(mdCode('a`b``c'), '```a`b``c```')
  assert.equal(mdCode('`edge`'), '`` `edge` ``')
  assert.equal(mdCode('a|b', true), '`a\\|b`')
  assert.equal(mdCode(`x${ESC}[31m\ny`), '`x\\x1b[31m\\ny`')
  assert.equal(escapeControls('C:\\work\\app.py\t\r\x7f\u2028'), 'C:\\work\\app.py\\t\\r\\x7f\\u2028')
})

test('code, stack and the text view of a .pyc with a hostile co_name, co_qualname, co_filename and co_names escape them; --format dis stays CPython\'s', (t) => {
  const minor = 11
  const python = requirePython(t, minor)
  if (!python) return
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-hygiene-'))
  const pyc = join(dir, 'evil.pyc')
  const script = `
import importlib.util, marshal, sys
src = "def f(x):\\n    return g(x, 'tab\\\\there')\\n"
code = compile(src, ${JSON.stringify(FILE)}, 'exec')
def hostile(c):
    consts = tuple(hostile(k) if hasattr(k, 'co_code') else k for k in c.co_consts)
    c = c.replace(co_consts=consts, co_names=tuple(n + ${JSON.stringify(HOSTILE.sgr)} for n in c.co_names))
    if c.co_name == 'f':
        c = c.replace(co_name=${JSON.stringify(HOSTILE.osc8)}, co_qualname=${JSON.stringify(`${HOSTILE.bidi}${HOSTILE.newline}`)})
    return c
code = hostile(code)
open(sys.argv[1], 'wb').write(importlib.util.MAGIC_NUMBER + b'\\0' * 12 + marshal.dumps(code))
`
  const made = spawnSync(python, ['-c', script, pyc], { encoding: 'utf8' })
  assert.equal(made.status, 0, made.stderr)
  const runs: [string, string[]][] = [
    ['dis (text view)', ['dis', pyc]],
    ['dis --format text', ['dis', pyc, '--format', 'text']],
    ['code', ['code', pyc]],
    ['stack', ['stack', pyc]],
    ['stack --explain', ['stack', pyc, '--explain']],
  ]
  for (const [what, args] of runs) {
    const r = pyxray(args)
    assert.equal(r.code, 0, `${what}: ${r.stderr}`)
    assertClean(what, r)
    assert.ok(r.stdout.includes('\\x1b[31mevil\\n.py'), `${what}: the file name is escaped`)
  }
  const code = pyxray(['code', pyc]).stdout
  assert.ok(code.includes('\\x1b]8;;http://evil\\x1b\\click'), 'co_name escaped')
  assert.ok(code.includes('abc\\u202eevil\\u2066first\\nsecond'), 'co_qualname escaped')
  assert.ok(code.includes('g\\x1b[31mred\\x1b[0m'), 'co_names escaped')
  // CPython's dis prints names raw ("Disassembly of <code object NAME …, file "FILE" …>"): kept.
  const dis = pyxray(['dis', pyc, '--format', 'dis'])
  assert.equal(dis.code, 0, dis.stderr)
  const parsed = readPyc(new Uint8Array(readFileSync(pyc)))
  assert.equal(dis.stdout, formatDis(toCodeObject(parsed.code, minor)))
  assert.ok(dis.stdout.includes(`<code object ${HOSTILE.osc8} at 0x`), 'dis keeps CPython\'s raw code repr')
})

test('pyxray runtimes escapes the paths it found in the environment: a folder named with ESC and a newline is listed, escaped', (t) => {
  const python = requirePython(t, 11)
  if (python === undefined) return
  const dir = join(mkdtempSync(join(tmpdir(), 'pyxray-hygiene-')), `py${ESC}[31mred\nx`)
  mkdirSync(dir)
  // A wrapper (not a link: the real executable would be listed once, under its own path).
  writeFileSync(join(dir, 'python3.11'), `#!/bin/sh\nexec '${python}' "$@"\n`)
  chmodSync(join(dir, 'python3.11'), 0o755)
  const r = pyxray(['runtimes'], { PYXRAY_PYTHON_PATHS: dir })
  assertClean('runtimes', r)
  assert.ok(r.stdout.includes('py\\x1b[31mred\\nx/python3.11'), r.stdout)
})
