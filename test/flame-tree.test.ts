/**
 * The flame graph's trees (src/profile/flame-tree.ts) on constructed profiles with known shapes:
 * a thread's tree in pre-order, library frames collapsed into their callers, a function's
 * callers and callees merged over its call sites (recursion counted once), and the diff's union
 * tree with a vanished call path kept at its base width. Trees are compared as indented dumps
 * (`name value/self`).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_DIFF_OPTIONS, diffProfiles } from '../src/profile/diff.js'
import type { ProfileDocument } from '../src/profile/document.js'
import type { ProfileFrame } from '../src/profile/document.js'
import { collapseFrames, diffFlameTree, dumpFlameTree, type FlameTree, isLibraryFrame, outermostCalls, packageOf, sandwich, threadTree } from '../src/profile/flame-tree.js'
import { makeDoc } from './profile-docs.js'

const dump = (doc: ProfileDocument, t: FlameTree) => dumpFlameTree(t, (f) => doc.frames[f]!.qualname)
const fnOf = (doc: ProfileDocument, q: string) => {
  const i = doc.frames.findIndex((f) => f.qualname === q)
  assert.ok(i >= 0, `no frame ${q}`)
  return i
}

/** Every node's invariants: pre-order (parent before child, first child next), children widest first, value = self + Σ children. */
function wellFormed(t: FlameTree): void {
  t.nodes.forEach((n, i) => {
    if (i === 0) assert.equal(n.parent, -1)
    else assert.ok(n.parent < i && t.nodes[n.parent]!.children.includes(i), `node ${i}'s parent lists it`)
    if (n.children.length) assert.equal(n.children[0], i + 1, `node ${i}'s first child is next in pre-order`)
    for (let k = 1; k < n.children.length; k++) assert.ok(t.nodes[n.children[k - 1]!]!.value >= t.nodes[n.children[k]!]!.value)
    assert.equal(n.self + n.children.reduce((s, c) => s + t.nodes[c]!.value, 0), n.value, `node ${i}: value = self + children`)
  })
}

test("a thread's tree: pre-order, callees widest first, values in ns", () => {
  const doc = makeDoc([['main', 1, 100, [['small', 1, 10], ['big', 2, 60, [['leaf', 3, 5]]]]]])
  const t = threadTree(doc, doc.threads[0]!)
  wellFormed(t)
  assert.equal(t.unit, 'ns')
  assert.equal(dump(doc, t), ['(root) 100/0', '  main 100/30', '    big 60/55', '      leaf 5/5', '    small 10/10'].join('\n'))
  assert.equal(t.nodes[2]!.calls, 2)
})

test('library frames collapse into their callers: their self to the caller, their callees merged with the caller’s', () => {
  const lib = { file: 'venv/lib/python3.11/site-packages/json/__init__.py' }
  const doc = makeDoc([
    [
      'main',
      1,
      100,
      [
        ['dumps', 1, 50, [['encode', 1, 40, [['hook', 4, 30], ['builtin:len', 9, 2]]]], lib],
        ['hook', 2, 20],
        ['work', 1, 10],
      ],
    ],
  ])
  assert.ok(isLibraryFrame(doc.frames[fnOf(doc, 'dumps')]!), 'a site-packages path is library code')
  assert.ok(isLibraryFrame(doc.frames[fnOf(doc, 'len')]!), 'a builtin is library code')
  assert.ok(!isLibraryFrame(doc.frames[fnOf(doc, 'hook')]!))
  const t = threadTree(doc, doc.threads[0]!)
  // encode and len hidden with dumps, as the library toggle hides a whole library call chain.
  const hidden = new Set([fnOf(doc, 'dumps'), fnOf(doc, 'encode'), fnOf(doc, 'len')])
  const c = collapseFrames(t, (f) => hidden.has(f))
  wellFormed(c)
  // main's self: its own 20, dumps' 10, encode's 8, len's 2; hook: 30 through json + 20 direct.
  assert.equal(dump(doc, c), ['(root) 100/0', '  main 100/40', '    hook 50/50', '    work 10/10'].join('\n'))
  const hook = c.nodes.find((n) => n.fn === fnOf(doc, 'hook'))!
  assert.equal(hook.calls, 6)
  assert.equal(c.nodes[0]!.value, t.nodes[0]!.value, 'collapsing keeps the total')
  // Nothing hidden: the same tree.
  assert.equal(dump(doc, collapseFrames(t, () => false)), dump(doc, t))
})

test("a sandwich merges a function's callers and callees over all its call sites, recursion counted once", () => {
  // a is called from main (and recursively from itself through b) and from d.
  const doc = makeDoc([
    [
      'main',
      1,
      200,
      [
        ['a', 1, 100, [['b', 1, 70, [['a', 1, 50, [['c', 1, 40]]]]], ['c', 2, 20]]],
        ['d', 1, 60, [['a', 3, 30, [['c', 3, 25]]]]],
      ],
    ],
  ])
  const t = threadTree(doc, doc.threads[0]!)
  const a = fnOf(doc, 'a')
  assert.deepEqual(outermostCalls(t, a).map((i) => doc.frames[t.nodes[i]!.fn]!.qualname), ['a', 'a'])
  const { callers, callees } = sandwich(t, a)
  wellFormed(callers)
  wellFormed(callees)
  // a's total is 130 (100 under main, 30 under d); the recursive a inside b is not counted again.
  assert.equal(dump(doc, callers), ['a 130/0', '  main 100/100', '  d 30/0', '    main 30/30'].join('\n'))
  assert.equal(
    dump(doc, callees),
    [
      'a 130/15', // self: 10 under main, 5 under d
      '  b 70/20',
      '    a 50/10',
      '      c 40/40',
      '  c 45/45', // 20 under main's a + 25 under d's a
    ].join('\n'),
  )
  assert.equal(callees.nodes[0]!.calls, 4)
  // A function called once at the top: its callers are the root alone.
  const main = sandwich(t, fnOf(doc, 'main'))
  assert.equal(dump(doc, main.callers), 'main 200/200')
  assert.equal(main.callees.nodes[0]!.value, 200)
})

test('a sandwich of 100,000-deep recursion: no stack overflow, the function once', () => {
  const levels = 100_000
  let node: unknown = ['leaf', 1, 1]
  for (let i = 0; i < levels; i++) node = ['f', 1, i + 2, [node]]
  const doc = makeDocDeep(node)
  const t = threadTree(doc, doc.threads[0]!)
  const { callers, callees } = sandwich(t, fnOf(doc, 'f'))
  assert.equal(callers.nodes.length, 1, 'f is called from the top only')
  assert.equal(callees.nodes[0]!.value, levels + 1)
  assert.equal(callees.nodes.length, levels + 1)
  const collapsed = collapseFrames(t, (f) => f === fnOf(doc, 'f'))
  assert.equal(dump(doc, collapsed), ['(root) 100001/100000', '  leaf 1/1'].join('\n'))
})

/** makeDoc without its recursion (a 100,000-deep tuple tree would overflow makeDoc's recursive builder). */
function makeDocDeep(top: unknown): ProfileDocument {
  const small = makeDoc([['f', 1, 1, [['leaf', 1, 1]]]])
  type N = { frame: number; calls: number; totalNs: number; selfNs: number; children: N[] }
  const f = small.frames.findIndex((x) => x.qualname === 'f')
  const leaf = small.frames.findIndex((x) => x.qualname === 'leaf')
  const rootChildren: N[] = []
  const todo: [unknown, N[]][] = [[top, rootChildren]]
  while (todo.length) {
    const [t, out] = todo.pop()! as [[string, number, number, unknown[]?], N[]]
    const n: N = { frame: t[0] === 'f' ? f : leaf, calls: t[1], totalNs: t[2], selfNs: t[2] - (t[3]?.reduce((s: number, k) => s + (k as [string, number, number])[2], 0) ?? 0), children: [] }
    out.push(n)
    for (const k of t[3] ?? []) todo.push([k, n.children])
  }
  const total = rootChildren[0]!.totalNs
  return { ...small, threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: total, selfNs: 0, children: rootChildren } }] }
}

test("the diff's tree is the union of both call trees; a path only in base keeps its base width", () => {
  const MS = 1_000_000
  const base = makeDoc([['main', 1, 100 * MS, [['parse', 1, 40 * MS], ['old', 1, 30 * MS]]]])
  const head = makeDoc([['main', 1, 90 * MS, [['parse', 1, 60 * MS], ['new', 1, 5 * MS]]]])
  const d = diffProfiles(base, head, DEFAULT_DIFF_OPTIONS)
  const { tree, labels, diffs, functions } = diffFlameTree(d)
  wellFormed(tree)
  const text = dumpFlameTree(tree, (f) => labels[f]!)
  // main: head self 25 + parse 60 + old 30 (base) + new 5 = 120 wide (more than its head total, 90).
  assert.equal(text, ['(root) 120000000/0', '  main 120000000/25000000', '    parse 60000000/60000000', '    old 30000000/30000000', '    new 5000000/5000000'].join('\n'))
  assert.equal(diffs[0], undefined, 'the root is no call path')
  const status = tree.nodes.map((n, i) => (n.fn < 0 ? 'root' : `${labels[n.fn]}:${diffs[i]!.status}`))
  assert.deepEqual(status, ['root', 'main:changed', 'parse:changed', 'old:vanished', 'new:new'])
  assert.equal(diffs[2]!.delta.totalNs, 20 * MS)
  assert.equal(tree.nodes[2]!.totalNs, 60 * MS, 'head values')
  assert.equal(tree.nodes[3]!.totalNs, 30 * MS, 'a vanished path: base values')
  assert.deepEqual([...functions].sort(), ['app.py:main', 'app.py:new', 'app.py:old', 'app.py:parse'])
})

test('the package a frame is coloured by, and whether it is library code', () => {
  const py = (file: string, library?: boolean): ProfileFrame => ({ file, firstlineno: 1, qualname: 'f', kind: 'python', ...(library === undefined ? {} : { library }) })
  const cwd = '/work/app'
  const cases: [ProfileFrame, string, boolean][] = [
    [py('/work/app/app.py'), 'app', false],
    [py('/work/app/pkg/sub/mod.py'), 'pkg', false],
    [py('/home/me/elsewhere/tool.py'), 'tool', false],
    [py('/venv/lib/python3.12/site-packages/numpy/core/multiarray.py', true), 'numpy', true],
    [py('/usr/lib/python3.11/json/decoder.py'), 'json', true],
    [py('/usr/lib/python3.13t/asyncio/events.py'), 'asyncio', true],
    [py('/opt/py/lib/python3.12/site-packages/six.py'), 'six', true],
    [py('<frozen importlib._bootstrap>'), 'importlib', true],
    [py('<string>'), '<string>', false],
    [{ file: '<built-in>', firstlineno: 0, qualname: 'len', kind: 'builtin', module: 'builtins' }, 'builtins', true],
    [{ file: '<built-in>', firstlineno: 0, qualname: 'loads', kind: 'builtin', module: '_json' }, '_json', true],
  ]
  for (const [f, pkg, library] of cases) {
    assert.equal(packageOf(f, cwd), pkg, f.file)
    assert.equal(isLibraryFrame(f), library, `${f.file} library`)
  }
})
