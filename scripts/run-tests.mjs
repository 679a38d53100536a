#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (tsx strips the types).
// Usage: node scripts/run-tests.mjs [substring filter…]
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (name === 'fixtures' || name === 'node_modules') continue
    if (statSync(p).isDirectory()) yield* walk(p)
    else if (name.endsWith('.test.ts')) yield p
  }
}
const filters = process.argv.slice(2)
const files = [...walk('test')].filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(2)
}
// A stuck test fails after 10 minutes instead of hanging CI; leftover handles do not keep it alive.
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter', 'spec', '--test-timeout=600000', '--test-force-exit', ...files],
  { stdio: 'inherit' },
)
process.exit(r.status ?? 1)
