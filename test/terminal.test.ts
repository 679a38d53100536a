/**
 * Colour and width, as a terminal user meets them: the colour decision follows NO_COLOR,
 * FORCE_COLOR, TERM=dumb and the TTY (checked in a real pseudo-terminal through script(1)), one
 * palette serves every command, and `--width` counts terminal cells (CJK names take two).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { WriteStream } from 'node:tty'
import stringWidth from 'string-width'
import { useColor } from '../src/cli/io.js'
import { toProfileJson } from '../src/profile/document.js'
import { terminalWidth } from '../src/cli/text-width.js'
import { ONE_CELL_EACH, setTextWidth, truncate, truncateStart, wrap } from '../src/profile/units.js'
import { makeDoc } from './profile-docs.js'
import { requireResource } from './resources.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const EXAMPLE = join(ROOT, 'examples', 'hello.cpython-312.pyc')
const ESC = /\x1b\[/

/** A stand-in for a stream: a terminal (with Node's own colour-depth logic) or a pipe. */
const terminal = { isTTY: true, getColorDepth: WriteStream.prototype.getColorDepth, hasColors: WriteStream.prototype.hasColors } as unknown as NodeJS.WriteStream
const pipe = { isTTY: false } as unknown as NodeJS.WriteStream

test('the colour decision: flag, NO_COLOR, FORCE_COLOR, TERM=dumb, then the terminal', () => {
  const term = { TERM: 'xterm-256color' }
  assert.equal(useColor(terminal, undefined, term), true, 'a colour terminal')
  assert.equal(useColor(pipe, undefined, term), false, 'a pipe')
  assert.equal(useColor(terminal, undefined, { ...term, NO_COLOR: '1' }), false)
  assert.equal(useColor(terminal, undefined, { ...term, NO_COLOR: '' }), true, 'an empty NO_COLOR is unset')
  assert.equal(useColor(terminal, undefined, { TERM: 'dumb' }), false)
  for (const v of ['0', 'false']) assert.equal(useColor(terminal, undefined, { ...term, FORCE_COLOR: v }), false, `FORCE_COLOR=${v}`)
  for (const v of ['1', '2', '3', 'true']) assert.equal(useColor(pipe, undefined, { FORCE_COLOR: v }), true, `FORCE_COLOR=${v} piped`)
  assert.equal(useColor(pipe, undefined, { FORCE_COLOR: '1', NO_COLOR: '1' }), false, 'NO_COLOR wins')
  assert.equal(useColor(pipe, true, { NO_COLOR: '1' }), true, '--color wins')
  assert.equal(useColor(terminal, false, term), false, '--no-color wins')
})

/** `pyxray ARGS` with stdout piped, and the colour variables set as given (others removed). */
function piped(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } })
}

test('piped: FORCE_COLOR=0 → no ESC, FORCE_COLOR=1 → colour, for dis and report alike', () => {
  const profile = join(mkdtempSync(join(tmpdir(), 'pyxray-term-')), 'p.json')
  writeFileSync(profile, toProfileJson(makeDoc([['main', 1, 15, [['work', 1, 10]]]])))
  for (const args of [['dis', EXAMPLE], ['report', profile]]) {
    const off = piped(args, { FORCE_COLOR: '0' })
    assert.equal(off.status, 0, off.stderr)
    assert.doesNotMatch(off.stdout, ESC, `${args[0]}: FORCE_COLOR=0`)
    assert.match(piped(args, { FORCE_COLOR: '1' }).stdout, ESC, `${args[0]}: FORCE_COLOR=1`)
    assert.doesNotMatch(piped(args, {}).stdout, ESC, `${args[0]}: a pipe`)
  }
})

// CI is removed from the terminal's environment: Node's colour depth turns colour off under CI=true
// (as supports-color does), and this is a user's terminal.
test('in a real pseudo-terminal: colour by default, none with NO_COLOR=1, none with TERM=dumb', (t) => {
  if (spawnSync('script', ['--version']).status !== 0) return requireResource(t, 'script(1) is not installed (util-linux)')
  const inPty = (env: Record<string, string>) => {
    const command = [process.execPath, '--import', 'tsx', MAIN, 'dis', EXAMPLE].map((a) => `'${a}'`).join(' ')
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, TERM: 'xterm-256color', ...env } })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /greet/, 'the command ran in the terminal')
    return r.stdout
  }
  assert.match(inPty({}), ESC, 'colour by default')
  assert.doesNotMatch(inPty({ NO_COLOR: '1' }), ESC, 'NO_COLOR=1')
  assert.doesNotMatch(inPty({ TERM: 'dumb' }), ESC, 'TERM=dumb')
})

test('truncate, truncateStart and wrap count terminal cells with a wide-character width', () => {
  const previous = setTextWidth(stringWidth)
  try {
    const name = '数据处理器.计算平均值'
    assert.equal(stringWidth(name), 21)
    const cut = truncate(name, 10)
    assert.ok(stringWidth(cut) <= 10, cut)
    assert.equal(cut, '数据处理…')
    assert.ok(stringWidth(truncateStart(name, 9)) <= 9)
    for (const line of wrap(`${name} ${name}`, 8)) assert.ok(stringWidth(line) <= 8, line)
    assert.equal(truncate('e\u0301te\u0301', 3), 'e\u0301te\u0301', 'combining marks take no cell')
    // Long text is cut without segmenting all of it (fuzz seed 42 #34044: a 3,000-deep tree's
    // indented lines): the same answer as cutting it whole, for one-cell, wide and marked text.
    const long = `${'│ '.repeat(3000)}└─ func_1`
    assert.equal(truncate(long, 20), `${'│ '.repeat(9)}│…`)
    assert.equal(truncateStart(long, 12), '…│ └─ func_1')
    const wide = `${'数据'.repeat(5000)}末尾`
    assert.equal(truncateStart(wide, 7), '…据末尾')
    assert.equal(truncate(wide, 7), '数据数…')
    const marked = `${'e\u0301'.repeat(4000)}xy`
    assert.equal(truncateStart(marked, 4), '…e\u0301xy')
    assert.equal(truncateStart('ab数', 3), '…数', 'a window that fits whole falls back to the whole text')
  } finally {
    setTextWidth(previous)
  }
})

test('the one-cell fast path: every character it admits is one cell for string-width and one UTF-16 unit', () => {
  // Text made only of these characters is measured by length and cut by index (units.ts,
  // text-width.ts); a character that string-width counts otherwise would misalign every column.
  let admitted = 0
  for (let c = 0; c <= 0xffff; c++) {
    const ch = String.fromCharCode(c)
    if (!ONE_CELL_EACH.test(ch)) continue
    admitted++
    assert.equal(stringWidth(ch), 1, `U+${c.toString(16).padStart(4, '0')}`)
    assert.equal(terminalWidth(`ab${ch}`), 3)
  }
  assert.ok(admitted > 780, `${admitted} characters admitted`)
  for (const ch of ['\u00ad', '\u0301', '\u200b', '数', '\u2028']) assert.ok(!ONE_CELL_EACH.test(ch), `U+${ch.charCodeAt(0).toString(16)} is measured`)
  // The units pyxray prints take the fast path (a 200,000-deep tree's lines spent 1 s in string-width).
  for (const text of ['  12.3 µs', '−32.45 ms', 'Δ%', '±', '█▏', '…', '→', '≤']) assert.ok(ONE_CELL_EACH.test(text), text)
})

test('report and diff --width 60 with a long CJK function name: no line wider than 60 cells', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-cjk-'))
  const long = `数据处理器.${'计算平均值和标准差'.repeat(4)}`
  const doc = (slow: number) => makeDoc([['main', 1, 20 + slow, [[long, 1, 3 + slow, [['辅助函数', 1, 3]]], ['other', 1, 4]]]])
  writeFileSync(join(dir, 'a.json'), toProfileJson(doc(10)))
  writeFileSync(join(dir, 'b.json'), toProfileJson(doc(40)))
  const runs = [
    ['report', join(dir, 'a.json'), '--width', '60'],
    ['report', join(dir, 'a.json'), '--width', '60', '--tree'],
    ['report', join(dir, 'a.json'), '--width', '60', '--callers', '辅助函数'],
    ['diff', join(dir, 'a.json'), join(dir, 'b.json'), '--width', '60'],
  ]
  for (const args of runs) {
    const r = piped(args, {})
    assert.ok(r.status === 0 || r.status === 1, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stdout, /数据处理器|辅助函数/, 'the names are shown')
    for (const line of r.stdout.split('\n')) assert.ok(stringWidth(line) <= 60, `${args.slice(0, 2).join(' ')}: ${stringWidth(line)} cells: ${line}`)
  }
})
