#!/usr/bin/env node
// Makes the golden fixtures under test/fixtures/pyc/<X.Y>/ from real interpreters: every case in
// test/fixtures/src/ is compiled by CPython X.Y itself (a native interpreter of every supported version,
// found as test/pyenv.ts finds them; `--versions pyodide` uses the embedded 3.14 instead), and
// the .pyc, dis text (plus show_caches / show_offsets / show_positions variants) and line tables
// are written by scripts/fixtures_oracle.py — see its docstring for the file list.
//
// Usage: node --import tsx scripts/gen-fixtures.mjs [--versions 3.12,3.15] [--check]
//   --versions  regenerate only these versions (default: every version found on this machine)
//   --check     generate into a temporary directory and fail if anything differs from the
//               committed fixtures (proves the goldens are reproducible and up to date)
//
// The output is deterministic: pyc headers carry mtime 0, the interpreters run with
// PYTHONHASHSEED=0, and memory addresses in dis text are written as "at 0xADDR".
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SUPPORTED_MINORS } from '../src/versions/index.ts'
import { pythonFor } from '../test/pyenv.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const srcDir = join(root, 'test/fixtures/src')
const outRoot = join(root, 'test/fixtures/pyc')
const oracle = join(root, 'scripts/fixtures_oracle.py')
/** Files the generator owns inside a version directory (anything else is left alone). */
const generated = /\.(pyc|dis\.txt|lines\.json)$/

/** A native interpreter per supported version (test/pyenv.ts): Map "3.12" → python path. */
function nativeInterpreters() {
  const found = new Map()
  for (const minor of SUPPORTED_MINORS) {
    const python = pythonFor(minor)
    if (python !== undefined) found.set(`3.${minor}`, python)
  }
  return found
}

function parseArgs(argv) {
  const opts = { versions: undefined, check: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--check') opts.check = true
    else if (a === '--versions' && argv[i + 1]) opts.versions = argv[++i].split(',').map((v) => v.trim())
    else if (a.startsWith('--versions=')) opts.versions = a.slice('--versions='.length).split(',')
    else {
      console.error(`gen-fixtures: unknown argument ${a}\nusage: node scripts/gen-fixtures.mjs [--versions 3.12,3.14] [--check]`)
      process.exit(2)
    }
  }
  return opts
}

/** Runs the oracle with a pyenv interpreter; returns its JSON summary. */
function generateNative(python, outDir) {
  const r = spawnSync(python, ['-B', '-s', oracle, 'fixtures', srcDir, outDir], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONHASHSEED: '0', PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' },
  })
  if (r.status !== 0) throw new Error(`${python} fixtures failed (exit ${r.status}):\n${r.stderr}`)
  if (r.stderr) process.stderr.write(r.stderr)
  return JSON.parse(r.stdout)
}

/** Runs the same oracle inside Pyodide (CPython 3.14 compiled to WebAssembly). */
async function generatePyodide(outDir) {
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide({ env: { PYTHONHASHSEED: '0' }, stderr: (line) => console.error(line) })
  const { FS } = py
  for (const dir of ['/fixtures', '/fixtures/src', '/fixtures/out', '/oracle']) FS.mkdir(dir)
  FS.writeFile('/oracle/fixtures_oracle.py', readFileSync(oracle))
  for (const name of readdirSync(srcDir)) FS.writeFile(`/fixtures/src/${name}`, readFileSync(join(srcDir, name)))
  const summary = py.runPython(`
import json, sys
sys.path.insert(0, '/oracle')
import fixtures_oracle
json.dumps(fixtures_oracle.make_fixtures('/fixtures/src', '/fixtures/out'))
`)
  mkdirSync(outDir, { recursive: true })
  for (const name of FS.readdir('/fixtures/out')) {
    if (name === '.' || name === '..') continue
    writeFileSync(join(outDir, name), FS.readFile(`/fixtures/out/${name}`))
  }
  return JSON.parse(summary)
}

function clearGenerated(dir) {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) if (generated.test(name)) rmSync(join(dir, name))
}

function dirSize(dir) {
  let total = 0
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size
  return total
}

/** Names of files that differ between two version directories (missing on either side included). */
function compareDirs(expected, actual) {
  const names = new Set([...readdirSync(expected), ...readdirSync(actual)].filter((n) => generated.test(n)))
  const differ = []
  for (const name of [...names].sort()) {
    const a = join(expected, name)
    const b = join(actual, name)
    if (!existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b))) differ.push(name)
  }
  return differ
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const native = nativeInterpreters()
  // --versions pyodide: the embedded CPython 3.14 writes the 3.14 fixtures (no native 3.14 needed).
  const available = [...native.keys(), 'pyodide']
  const wanted = opts.versions ?? [...native.keys()]
  const unknown = wanted.filter((v) => !available.includes(v))
  if (unknown.length) {
    console.error(`gen-fixtures: no interpreter for ${unknown.join(', ')} (found: ${available.join(', ')})`)
    process.exit(2)
  }
  for (const minor of SUPPORTED_MINORS) {
    if (!native.has(`3.${minor}`)) console.warn(`gen-fixtures: skipping 3.${minor}: no native interpreter found`)
  }
  const scratch = opts.check ? mkdtempSync(join(tmpdir(), 'pyxray-fixtures-')) : undefined
  let stale = 0
  let totalBytes = 0
  try {
    for (const wantedVersion of wanted) {
      const version = wantedVersion === 'pyodide' ? '3.14' : wantedVersion
      const committed = join(outRoot, version)
      const outDir = scratch ? join(scratch, version) : committed
      if (!scratch) clearGenerated(outDir)
      mkdirSync(outDir, { recursive: true })
      const started = Date.now()
      const python = native.get(version)
      const summary = python ? generateNative(python, outDir) : await generatePyodide(outDir)
      if (summary.version !== version) throw new Error(`interpreter for ${version} reports ${summary.version}`)
      const bytes = dirSize(outDir)
      totalBytes += bytes
      const skipped = summary.skipped.length ? `, ${summary.skipped.length} not for this version` : ''
      console.log(
        `${version}: ${summary.written.length} cases${skipped}, ${(bytes / 1024).toFixed(0)} KiB, ${Date.now() - started} ms (${python ?? 'pyodide'})`,
      )
      if (scratch) {
        const differ = existsSync(committed) ? compareDirs(committed, outDir) : ['(no committed fixtures)']
        if (differ.length) {
          stale += differ.length
          console.error(`  ${version}: ${differ.length} file(s) differ from the committed fixtures: ${differ.slice(0, 10).join(', ')}`)
        }
      }
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  }
  console.log(`total: ${(totalBytes / 1024 / 1024).toFixed(2)} MiB`)
  if (stale) {
    console.error(`gen-fixtures --check: ${stale} file(s) differ; run npm run gen:fixtures and review the diff`)
    process.exit(1)
  }
}

await main()
