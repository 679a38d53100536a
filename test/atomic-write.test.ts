/**
 * The CLI's one atomic write (src/cli/io.ts writeFileAtomic): a temporary file in the target's
 * folder, fsynced and renamed; on any failure the target is untouched and nothing is left behind.
 * And through the commands: `-o` naming an existing folder is a one-line error, exit 2, with the
 * folder and its parent exactly as they were.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { writeFileAtomic } from '../src/cli/io.js'
import { UsageError } from '../src/cli/errors.js'
import { toProfileJson } from '../src/profile/document.js'
import { makeDoc } from './profile-docs.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')

test('writeFileAtomic: replaces a file keeping its mode, refuses a folder, leaves nothing behind on failure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-atomic-'))
  const target = join(dir, 'out.txt')
  writeFileAtomic(target, 'one\n')
  assert.equal(readFileSync(target, 'utf8'), 'one\n')
  chmodSync(target, 0o640)
  writeFileAtomic(target, 'two\n')
  assert.equal(readFileSync(target, 'utf8'), 'two\n')
  assert.equal(statSync(target).mode & 0o777, 0o640, 'the mode of the file replaced is kept')
  mkdirSync(join(dir, 'folder'))
  assert.throws(() => writeFileAtomic(join(dir, 'folder'), 'x'), (e: unknown) => e instanceof UsageError && /folder is a folder: name a file to write/.test(e.message))
  if (process.getuid?.() !== 0) {
    // A folder that cannot be written (root writes anyway, so only checked as a user).
    const locked = join(dir, 'locked')
    mkdirSync(locked)
    chmodSync(locked, 0o500)
    assert.throws(() => writeFileAtomic(join(locked, 'x.txt'), 'x'))
    chmodSync(locked, 0o700)
    assert.deepEqual(readdirSync(locked), [])
  }
  assert.deepEqual(readdirSync(dir).sort(), ['folder', 'out.txt'], 'no temporary file is left')
  assert.deepEqual(readdirSync(join(dir, 'folder')), [])
})

test('-o naming an existing folder: one line, exit 2, nothing left in the folder or beside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-atomic-cli-'))
  const profile = join(dir, 'p.json')
  writeFileSync(profile, toProfileJson(makeDoc([['main', 1, 15, [['work', 1, 10]]]])))
  const folder = join(dir, 'target')
  mkdirSync(folder)
  const runs = [
    ['report', profile, '-o', folder],
    ['report', profile, '--format', 'html', '-o', folder],
    ['export', profile, '--to', 'pstats', '-o', folder],
    ['diff', profile, profile, '-o', folder],
  ]
  for (const args of runs) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0]!, /folder/, r.stderr)
    assert.deepEqual(readdirSync(folder), [], `${args[0]}: the folder is untouched`)
    assert.deepEqual(readdirSync(dir).sort(), ['p.json', 'target'], `${args[0]}: nothing beside it`)
  }
})
