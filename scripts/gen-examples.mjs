#!/usr/bin/env node
// Compiles examples/hello.py with a native CPython of every supported version (test/pyenv.ts finds
// them: pyenv, and scripts/setup-native-pythons.sh for 3.14/3.15) into examples/hello.cpython-3X.pyc
// (timestamp header with mtime 0: reproducible bytes).
// Usage: node --import tsx scripts/gen-examples.mjs
import { execFileSync } from 'node:child_process'
import { SUPPORTED_MINORS } from '../src/versions/index.ts'
import { pythonFor } from '../test/pyenv.ts'

const compile = `
import importlib._bootstrap_external as b, sys
src = open('examples/hello.py', 'rb').read()
code = compile(src, 'hello.py', 'exec', dont_inherit=True)
data = b._code_to_timestamp_pyc(code, 0, len(src))
open('examples/hello.cpython-%d%d.pyc' % sys.version_info[:2], 'wb').write(data)
`
const missing = []
for (const minor of SUPPORTED_MINORS) {
  const python = pythonFor(minor)
  if (python === undefined) {
    missing.push(`3.${minor}`)
    continue
  }
  execFileSync(python, ['-c', compile], { stdio: 'inherit' })
  console.log(`examples/hello.cpython-3${minor}.pyc  (${python})`)
}
if (missing.length > 0) {
  console.error(`no native CPython ${missing.join(', ')}: those examples were not written`)
  process.exit(1)
}
