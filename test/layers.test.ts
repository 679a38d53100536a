/**
 * The layer rules (eslint.config.js, from ../shared/ARCHITECTURE.md "Layers") catch what they must:
 * each case is linted as if it were a file at the given path, with the project's own config.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ESLint } from 'eslint'

const eslint = new ESLint()

/** The messages of the import rules for `code` placed at `filePath` (repo-relative). */
async function layerProblems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message)
}

const REFUSED: readonly (readonly [path: string, code: string, why: RegExp])[] = [
  ['src/marshal/x.ts', "import { main } from '../cli/main.js'\n", /layer marshal may import only text, versions/],
  ['src/bytecode/stack/x.ts', "import { x } from '../../profile/model.js'\n", /layer bytecode may import only/],
  ['src/bytecode/stack/effects/x.ts', "export { x } from '../../../runtime/index.js'\n", /layer bytecode/],
  ['src/profile/x.ts', "import '../server/server.js'\n", /layer profile/],
  ['src/profile/x.ts', "import { readFileSync } from 'node:fs'\n", /core layer: no Node APIs/],
  ['src/text/x.ts', "import fs from 'fs'\n", /core layer/],
  ['src/pyc/x.ts', "import sirv from 'sirv'\n", /core layer/],
  ['src/versions/x.ts', "export const m = () => import('./y.js')\n", /no dynamic import/],
  ['src/runtime/x.ts', "import { x } from '../cli/main.js'\n", /layer runtime/],
  ['src/server/x.ts', "import { x } from '../cli/io.js'\n", /layer server/],
  ['src/pprof/x.ts', "import { x } from '../cli/io.js'\n", /layer pprof may import only text, versions, marshal, profile/],
  ['src/profile/export/x.ts', "import { toPprof } from '../../pprof/index.js'\n", /layer profile/],
  ['web/src/x.ts', "import { main } from '../../src/cli/main.js'\n", /browser UI may not import src\/cli/],
  ['web/src/profile/x.tsx', "import { startServer } from '../../../src/server/server.js'\n", /browser UI/],
  ['web/src/x.ts', "import { findInterpreters } from '../../src/runtime/index.js'\n", /only src\/runtime\/types\.ts and src\/runtime\/agent\.ts/],
  ['web/src/x.ts', "import { readFile } from 'node:fs/promises'\n", /Node built-ins/],
]

for (const [path, code, why] of REFUSED) {
  test(`refused: ${path}: ${code.trim()}`, async () => {
    const problems = await layerProblems(path, code)
    assert.ok(problems.some((m) => why.test(m)), `expected ${why} in ${JSON.stringify(problems)}`)
  })
}

const ALLOWED: readonly (readonly [path: string, code: string])[] = [
  ['src/cli/x.ts', "import { readFileSync } from 'node:fs'\nimport { startServer } from '../server/server.js'\nimport { readPyc } from '../pyc/index.js'\n"],
  ['src/bytecode/stack/x.ts', "import { x } from '../../marshal/index.js'\nimport { y } from '../format/dis.js'\n"],
  ['src/profile/x.ts', "import { escapeControls } from '../text/escape.js'\n"],
  ['web/src/profile/x.tsx', "import { buildTrees } from '../../../src/profile/model.js'\nimport type { AstNode } from '../../../src/runtime/types.js'\nimport { h } from 'preact'\n"],
]

for (const [path, code] of ALLOWED) {
  test(`allowed: ${path}`, async () => assert.deepEqual(await layerProblems(path, code), []))
}
