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

/** Fixture name → [program, profiler options, environment, runs (through pyxray profile --repeat)]. */
const CASES = {
  recursion: ['recursion.py', []],
  threads: ['threads.py', []],
  memory: ['memory.py', ['--memory']],
  sample: ['sample.py', ['--mode', 'sample', '--interval', '2ms']],
  // A diff pair: parse() 30 % slower in head (see planted.py).
  'planted-base': ['planted.py', ['--clock', 'cpu'], { PLANTED_SLOWDOWN: '0' }],
  'planted-head': ['planted.py', ['--clock', 'cpu'], { PLANTED_SLOWDOWN: '0.3' }],
  // A repeated profile: pyxray profile --repeat 5 (five runs in one document, see src/profile/runs.ts).
  repeated: ['recursion.py', [], {}, 5],
  // The gate's acceptance (test/diff-gate.test.ts, see gate.py): a branch that only adds a new
  // validate() call of about 30 % of the run time, and a pool of 20 runs of the unchanged program
  // for A/A comparisons.
  'gate-base': ['gate.py', ['--clock', 'cpu'], {}, 5],
  'gate-head': ['gate.py', ['--clock', 'cpu'], { GATE_VALIDATE: '1' }, 5],
  'gate-aa': ['gate.py', ['--clock', 'cpu'], {}, 20],
}

const only = process.argv.slice(2)
const cli = join(root, 'src', 'cli', 'main.ts')
for (const [name, [program, options, env = {}, repeat]] of Object.entries(CASES)) {
  if (only.length && !only.includes(name)) continue
  const out = join(dir, `${name}.json`)
  const tmp = `${out}.tmp`
  // Run from src/ so the profile's cwd and argv are short and the same on every machine layout.
  const argv = repeat ? [process.execPath, ['--import', 'tsx', cli, 'profile', '--repeat', String(repeat), '--python', python, ...options, '-o', tmp, program]] : [python, ['-m', 'pyxray', '--quiet', ...options, '-o', tmp, program]]
  const r = spawnSync(argv[0], argv[1], {
    cwd: join(dir, 'src'),
    env: { ...process.env, ...env, PYTHONPATH: [join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(delimiter) },
    encoding: 'utf8',
  })
  if (r.status !== 0) {
    console.error(`${name}: ${repeat ? 'pyxray profile --repeat' : 'python -m pyxray'} failed (${r.status}):\n${r.stderr}`)
    process.exit(1)
  }
  renameSync(tmp, out)
  console.log(`wrote ${out}`)
}
