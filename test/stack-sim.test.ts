/**
 * The symbolic stack: on every fixture of 3.8–3.14 it never throws and always holds exactly as
 * many slots as the proven depth analysis says; on small programs compiled by real interpreters
 * the slots read as the expressions that made them. Plus `pyxray stack` text and JSON.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { type CodeObject, codeTree, disassemble, simulateStack, toCodeObject } from '../src/bytecode/index.js'
import { readMarshal } from '../src/marshal/index.js'
import { readPyc } from '../src/pyc/index.js'
import { agentDir, NativeRuntime } from '../src/runtime/index.js'
import { requirePython } from './pyenv.js'

const FIXTURES = join(import.meta.dirname, 'fixtures', 'pyc')
const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')

for (const version of ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14']) {
  test(`${version}: symbolic stacks match the proven depths on every fixture`, () => {
    const dir = join(FIXTURES, version)
    let instructions = 0
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.pyc'))) {
      const pyc = readPyc(new Uint8Array(readFileSync(join(dir, name))))
      for (const { code, qualname } of codeTree(toCodeObject(pyc.code, pyc.version[1]))) {
        const sim = simulateStack(disassemble(code, { positions: false }))
        assert.equal(sim.depth.maxDepth, code.stacksize, `${name} ${qualname}: max depth`)
        sim.before.forEach((slots, k) => {
          instructions++
          assert.equal(slots?.length, sim.depth.before[k], `${name} ${qualname} #${k}: slots before`)
          assert.equal(sim.after[k]?.length, sim.depth.after[k], `${name} ${qualname} #${k}: slots after`)
        })
      }
    }
    assert.ok(instructions > 1000)
  })
}

const SOURCE = `
def f(x, obj, b, g):
    y = x + 1
    z = obj.attr
    r = g(x, y=2)
    for i in range(b):
        pass
    try:
        return [k for k in z]
    except ValueError:
        return None
`

const runtimes: NativeRuntime[] = []
after(async () => {
  for (const r of runtimes) await r.close()
})

/** Every expression the stack holds at some point in f. */
async function expressions(python: string, minor: number): Promise<Set<string>> {
  const runtime = new NativeRuntime(python, agentDir())
  runtimes.push(runtime)
  const bytes = await runtime.compile(SOURCE, { filename: 'sim.py' })
  const module = toCodeObject(readMarshal(bytes, { pythonVersion: [3, minor] }).value as never, minor)
  const f = module.children.find((c) => c.name === 'f') as CodeObject
  const seen = new Set<string>()
  const sim = simulateStack(disassemble(f))
  for (const stack of [...sim.before, ...sim.after]) for (const s of stack?.slots() ?? []) for (const alt of s.expr.split(' | ')) seen.add(alt)
  return seen
}

for (const minor of [8, 10, 11, 12, 13]) {
  test(`3.${minor}: slots read as the expressions that made them`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const seen = await expressions(python, minor)
    for (const expr of ['x', '1', 'x + 1', 'obj.attr', 'iter(range(b))', 'next(iter(range(b)))']) {
      assert.ok(seen.has(expr), `3.${minor}: expected a slot "${expr}" among ${[...seen].slice(0, 60).join(' ; ')}`)
    }
    assert.ok([...seen].some((e) => /^g\(x, y=2\)$/.test(e)), `3.${minor}: the call g(x, y=2)`)
    assert.ok([...seen].some((e) => e === '<exception>' || e === '<exception type>'), `3.${minor}: an exception slot`)
    if (minor >= 11) assert.ok(seen.has('NULL') || seen.has('<lasti>'), `3.${minor}: NULL or lasti slots`)
  })
}

test('pyxray stack: a table with max depth vs co_stacksize, and JSON with every slot', (t) => {
  const python = requirePython(t, 12)
  if (!python) return
  const hello = join(import.meta.dirname, '..', 'examples', 'hello.py')
  const text = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'stack', hello, '--python', '3.12'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, /^max depth 7 \(co_stacksize 7\)$/m)
  assert.match(text.stdout, /'\\n'\.join\(greetings\)/)
  const json = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'stack', `${hello}:counter`, '--python', '3.12', '--format', 'json'], { encoding: 'utf8' })
  assert.equal(json.status, 0, json.stderr)
  const doc = JSON.parse(json.stdout)
  const [counter] = doc.codeObjects
  assert.equal(counter.qualname, 'counter')
  assert.equal(counter.maxDepth, counter.stacksize)
  const first = counter.instructions.find((i: { stackAfter: unknown[] | null }) => i.stackAfter && i.stackAfter.length > 0)
  assert.deepEqual(Object.keys(first.stackAfter[0]).sort(), ['expr', 'pushedBy'])
  assert.equal(typeof first.depthBefore, 'number')
})
