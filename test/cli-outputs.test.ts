/**
 * Outputs are never inputs: every command that writes a file (`report -o`, `export -o`, `diff -o`,
 * `diff --ab --keep DIR`, `compare -o`) refuses, before it reads or runs anything, an output that
 * is one of the files it reads (the same file by identity: the path itself, another spelling, a
 * symlink or a hard link to it), a folder, or a file in a missing folder: exit 2, one line, the
 * inputs untouched.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { toProfileJson } from '../src/profile/document.js'
import { makeDoc } from './profile-docs.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-outputs-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

const at = (name: string) => join(WORK, name)

function pyxray(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } })
}

const A = at('a.json')
const B = at('b.json')
const TEXT_A = `${toProfileJson(makeDoc([['main', 1, 3000, [['work', 2, 2000]]]]))}\n`
const TEXT_B = `${toProfileJson(makeDoc([['main', 1, 4000, [['work', 2, 3000]]]]))}\n`
writeFileSync(A, TEXT_A)
writeFileSync(B, TEXT_B)
symlinkSync(A, at('link-a.json'))
linkSync(B, at('hard-b.json'))
mkdirSync(at('folder'))
// A script an --ab run would execute: it leaves a marker, so a refusal "before any work" shows.
const SCRIPT = at('bench.py')
writeFileSync(SCRIPT, `open(${JSON.stringify(at('ran.marker'))}, "w").close()\n`)
mkdirSync(at('keep-linked'))
symlinkSync(SCRIPT, at('keep-linked/a.json'))
writeFileSync(at('a-file'), 'not a folder\n')

test('report, export, diff and compare refuse an output that is an input, a folder or in a missing folder', () => {
  const cases: [string[], RegExp][] = [
    [['report', A, '-o', A], /^pyxray: .*-o .*a\.json: that is an input of this command .*; pyxray never overwrites its inputs$/],
    [['report', A, '-o', at('link-a.json')], /that is an input of this command/],
    [['report', A, '-o', join(WORK, 'folder', '..', 'a.json')], /that is an input of this command/],
    [['report', A, '--format', 'json', '-o', at('folder')], /-o .*folder: that is a folder; give a file name$/],
    [['report', A, '-o', at('missing/report.txt')], /-o .*report\.txt: folder .*missing does not exist$/],
    [['export', A, '--to', 'chrome', '-o', at('link-a.json')], /that is an input of this command/],
    [['export', B, '--to', 'collapsed', '-o', at('hard-b.json')], /that is an input of this command/],
    [['export', A, '--to', 'pstats', '-o', at('folder')], /that is a folder/],
    [['export', A, '--to', 'speedscope', '-o', at('missing/x.json')], /folder .*missing does not exist/],
    [['diff', A, B, '-o', B], /-o .*b\.json: that is an input of this command/],
    [['diff', A, B, '-o', at('hard-b.json')], /that is an input of this command/],
    [['diff', A, B, '--output', at('link-a.json')], /that is an input of this command/],
    [['diff', A, B, '-o', at('folder')], /that is a folder/],
    [['diff', A, B, '-o', at('missing/diff.txt')], /folder .*missing does not exist/],
    [['diff', '--ab', SCRIPT, SCRIPT, '--repeat', '1', '--keep', at('a-file')], /--keep .*a-file: not a folder/],
    [['diff', '--ab', SCRIPT, SCRIPT, '--repeat', '1', '--keep', at('missing/deeper')], /--keep .*deeper: folder .*missing does not exist/],
    [['diff', '--ab', SCRIPT, SCRIPT, '--repeat', '1', '--keep', at('keep-linked')], /^pyxray: --keep .*keep-linked\/a\.json: that is an input of this command \(.*bench\.py\)/],
    [['diff', '--ab', SCRIPT, SCRIPT, '--repeat', '1', '-o', SCRIPT], /that is an input of this command \(.*bench\.py\)/],
    [['compare', SCRIPT, SCRIPT, '--no-run', '-o', SCRIPT], /that is an input of this command/],
  ]
  for (const [args, expected] of cases) {
    const r = pyxray(...args)
    const what = `pyxray ${args.join(' ')}`
    assert.equal(r.status, 2, `${what}: exit 2\n${r.stderr}`)
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line\n${r.stderr}`)
    assert.match(r.stderr.trimEnd(), expected, what)
    assert.equal(r.stdout, '', `${what}: nothing done`)
  }
  assert.equal(readFileSync(A, 'utf8'), TEXT_A, 'the inputs are untouched')
  assert.equal(readFileSync(B, 'utf8'), TEXT_B)
  assert.ok(!existsSync(at('ran.marker')), '--ab ran nothing')
  assert.ok(!existsSync(at('missing')), 'no folder was created')
})

test('the outputs are written when they are new files in existing folders', () => {
  const report = pyxray('report', A, '-o', at('report.txt'))
  assert.equal(report.status, 0, report.stderr)
  assert.match(readFileSync(at('report.txt'), 'utf8'), /main/)
  const diff = pyxray('diff', A, B, '-o', at('diff.md'), '--format', 'markdown')
  assert.equal(diff.status, 0, diff.stderr)
  assert.equal(diff.stdout, '')
  assert.match(readFileSync(at('diff.md'), 'utf8'), /work/)
  const text = pyxray('diff', A, B, '-o', at('diff.txt'))
  assert.equal(text.status, 0, text.stderr)
  assert.doesNotMatch(readFileSync(at('diff.txt'), 'utf8'), /\x1b\[/, 'no colors in a file')
  const exported = pyxray('export', A, '--to', 'collapsed', '-o', at('a.collapsed'))
  assert.equal(exported.status, 0, exported.stderr)
  assert.match(readFileSync(at('a.collapsed'), 'utf8'), /^main [^;\n]*;work [^;\n]* \d+$/m)
})
