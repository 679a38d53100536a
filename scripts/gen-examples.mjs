#!/usr/bin/env node
// Compiles examples/hello.py with every CPython 3.8–3.13 found under pyenv into
// examples/hello.cpython-3X.pyc (timestamp header with mtime 0: reproducible bytes).
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

const root = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv')
const versions = existsSync(join(root, 'versions')) ? readdirSync(join(root, 'versions')) : []
const compile = `
import importlib._bootstrap_external as b, sys
src = open('examples/hello.py', 'rb').read()
code = compile(src, 'hello.py', 'exec', dont_inherit=True)
data = b._code_to_timestamp_pyc(code, 0, len(src))
open('examples/hello.cpython-%d%d.pyc' % sys.version_info[:2], 'wb').write(data)
`
for (const v of versions.sort()) {
  const m = /^3\.(\d+)\.\d+$/.exec(v)
  if (!m || Number(m[1]) < 8) continue
  execFileSync(join(root, 'versions', v, 'bin', 'python3'), ['-c', compile], { stdio: 'inherit' })
  console.log(`examples/hello.cpython-3${m[1]}.pyc  (CPython ${v})`)
}
