#!/usr/bin/env node
// Writes the profile fixtures under test/fixtures/profiles/ from real runs of the programs in
// test/fixtures/profiles/src/ with pyxray's agent (python -m pyxray) in python3 ($PYXRAY_PYTHON to
// choose another). Usage: node scripts/gen-profile-fixtures.mjs [name…]
// The golden reports beside them are then refreshed with: UPDATE_GOLDEN=1 npm run test:unit -- report
import { spawnSync } from 'node:child_process'
import { renameSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const dir = join(root, 'test', 'fixtures', 'profiles')
const python = process.env.PYXRAY_PYTHON ?? 'python3'

/** Fixture name → [program, profiler options, environment]. */
const CASES = {
  recursion: ['recursion.py', []],
  threads: ['threads.py', []],
  memory: ['memory.py', ['--memory']],
  sample: ['sample.py', ['--mode', 'sample', '--interval', '2ms']],
  // A diff pair: parse() 30 % slower in head (see planted.py).
  'planted-base': ['planted.py', ['--clock', 'cpu'], { PLANTED_SLOWDOWN: '0' }],
  'planted-head': ['planted.py', ['--clock', 'cpu'], { PLANTED_SLOWDOWN: '0.3' }],
}

const only = process.argv.slice(2)
for (const [name, [program, options, env = {}]] of Object.entries(CASES)) {
  if (only.length && !only.includes(name)) continue
  const out = join(dir, `${name}.json`)
  const tmp = `${out}.tmp`
  // Run from src/ so the profile's cwd and argv are short and the same on every machine layout.
  const r = spawnSync(python, ['-m', 'pyxray', '--quiet', ...options, '-o', tmp, program], {
    cwd: join(dir, 'src'),
    env: { ...process.env, ...env, PYTHONPATH: [join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(delimiter) },
    encoding: 'utf8',
  })
  if (r.status !== 0) {
    console.error(`${name}: python -m pyxray failed (${r.status}):\n${r.stderr}`)
    process.exit(1)
  }
  renameSync(tmp, out)
  console.log(`wrote ${out}`)
}
