/**
 * The CPython interpreters pyenv installed on this machine, as oracles for the tests and scripts.
 * A missing interpreter skips a test with a visible reason, except under CI=true where it fails.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { readMarshal, writeMarshal } from '../src/marshal/index.js'

/** The minors pyenv can provide (3.14 comes from Pyodide instead). */
export const PYENV_MINORS: readonly number[] = [8, 9, 10, 11, 12, 13]

const root = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv')

/** The newest installed pyenv 3.`minor`.x prefix (e.g. ~/.pyenv/versions/3.12.1), if any. */
export function pyenvPrefix(minor: number): string | undefined {
  const dir = join(root, 'versions')
  if (!existsSync(dir)) return undefined
  const patch = (v: string) => Number(v.split('.')[2])
  const found = readdirSync(dir)
    .filter((v) => new RegExp(`^3\\.${minor}\\.\\d+$`).test(v) && existsSync(join(dir, v, 'bin', 'python3')))
    .sort((a, b) => patch(b) - patch(a))[0]
  return found === undefined ? undefined : join(dir, found)
}

/** The python3 executable of pyenv's 3.`minor`, if installed. */
export function pythonFor(minor: number): string | undefined {
  const prefix = pyenvPrefix(minor)
  return prefix === undefined ? undefined : join(prefix, 'bin', 'python3')
}

/**
 * The python3 of 3.`minor`, or undefined after marking the test skipped (failed under CI=true).
 */
export function requirePython(t: TestContext, minor: number): string | undefined {
  const python = pythonFor(minor)
  if (python !== undefined) return python
  const reason = `CPython 3.${minor} is not installed under ${root}/versions`
  if (process.env.CI === 'true') assert.fail(`${reason} (required under CI=true)`)
  t.skip(reason)
  return undefined
}

/** Every .pyc under `dir`, recursively, sorted; `site-packages` is skipped unless asked for. */
export function findPycs(dir: string, sitePackages = false): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) {
        if (sitePackages || e.name !== 'site-packages') walk(p)
      } else if (e.name.endsWith('.pyc')) out.push(p)
    }
  }
  if (existsSync(dir)) walk(dir)
  return out.sort()
}

/** The stdlib directory (lib/python3.`minor`) of pyenv's 3.`minor`, if installed. */
export function stdlibDir(minor: number): string | undefined {
  const prefix = pyenvPrefix(minor)
  return prefix === undefined ? undefined : join(prefix, 'lib', `python3.${minor}`)
}

/**
 * Reads the marshal data of a .pyc (from byte 16) and writes it back; returns what went wrong,
 * or undefined when the bytes came back identical.
 */
export function roundTripProblem(pyc: Uint8Array, minor: number, headerLength = 16): string | undefined {
  const options = { pythonVersion: [3, minor] as const }
  let written: Uint8Array
  try {
    const { value, endOffset } = readMarshal(pyc, options, headerLength)
    if (endOffset !== pyc.length) return `read stopped at byte ${endOffset} of ${pyc.length}`
    written = writeMarshal(value, options)
  } catch (e) {
    return String(e)
  }
  const data = pyc.subarray(headerLength)
  let i = 0
  while (i < written.length && i < data.length && written[i] === data[i]) i++
  if (i === data.length && i === written.length) return undefined
  return `written bytes differ from byte ${headerLength + i} (${written.length} vs ${data.length} bytes)`
}

/**
 * An environment in which pyxray finds no native Python: PATH holds only `node`, no
 * PYXRAY_PYTHON, and neither $PYENV_ROOT nor ~/.pyenv exists (HOME is a fresh folder under `work`).
 */
export function withoutNativePython(work: string): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(work, 'home-'))
  const bin = join(home, 'bin')
  mkdirSync(bin)
  symlinkSync(process.execPath, join(bin, 'node'))
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: home, PYENV_ROOT: join(home, 'nonexistent'), TMPDIR: work }
  const probe = spawnSync('/bin/sh', ['-c', 'command -v python3 || echo none'], { encoding: 'utf8', env })
  assert.equal(probe.stdout.trim(), 'none', `python3 still on the stripped PATH: ${probe.stdout}`)
  return env
}
