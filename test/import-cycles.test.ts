/**
 * No import cycles: in the Python agent (python/pyxray) and in src/.
 *
 * Python: every module's imports are read with CPython's own parser (`ast`), at module level and
 * inside functions alike (a function-level import still runs the other module's top level, and a
 * cycle through one is an order-of-initialisation bug waiting for the call). Imports under
 * `if TYPE_CHECKING:` are for type checkers only and never run: they do not count. Neither does
 * reading a name from the module's own package (`from . import __version__`): a package is always
 * initialised before its submodules, so that is no order dependency.
 *
 * TypeScript, twice: (1) relative imports of src/ files that are kept in the emitted JavaScript --
 * value imports, re-exports, side-effect imports (`import './x.js'`), dynamic `import('./x.js')`,
 * and, under verbatimModuleSyntax, `import { type A } from './x.js'` (emitted as `import {} from`,
 * which still loads the module); `import type` and `export type` are erased. No cycle at all.
 * (2) All relative imports, type-only ones too: a type cycle is no runtime bug but two modules
 * that cannot be understood apart; those known and being removed are listed in KNOWN_SRC_CYCLES.
 *
 * A cycle fails the test, named module by module with the line of each import.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { after, test } from 'node:test'
import ts from 'typescript'
import { NATIVE_MINORS, pythonFor } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const AGENT = join(ROOT, 'python', 'pyxray')
const SRC = join(ROOT, 'src')

/**
 * Import cycles of src/ (counting type-only imports) allowed to stay; each entry is the cycle as
 * this test prints it, without the lines. An entry that no longer matches a cycle fails the test
 * too, so the list cannot go stale. Empty: the last one (cli/dis ↔ adaptive ↔ compare through
 * `Console`) went when Console moved to cli/io.ts.
 */
const KNOWN_SRC_CYCLES: readonly string[] = []

/** One import: the module imported and the line it is on. */
interface Edge {
  to: string
  line: number
}
type Graph = Map<string, Edge[]>

/**
 * The cycles to report: for each strongly connected component of more than one module (or a
 * module importing itself), the shortest cycle through each of its modules (each cycle once),
 * printed as `a (line n) → b (line m) → … → a`, starting at its alphabetically first module.
 */
function findCycles(graph: Graph): { key: string; text: string }[] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let next = 0
  // Tarjan's algorithm, iteratively (no recursion-depth concerns on a big graph).
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue
    const work: { node: string; edge: number }[] = [{ node: start, edge: 0 }]
    index.set(start, next)
    low.set(start, next++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const edges = graph.get(frame.node) ?? []
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++]!.to
        if (!graph.has(to)) continue
        if (!index.has(to)) {
          index.set(to, next)
          low.set(to, next++)
          stack.push(to)
          onStack.add(to)
          work.push({ node: to, edge: 0 })
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!))
        }
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = []
        let member: string
        do {
          member = stack.pop()!
          onStack.delete(member)
          component.push(member)
        } while (member !== frame.node)
        const self = (graph.get(frame.node) ?? []).some((e) => e.to === frame.node)
        if (component.length > 1 || self) components.push(component.sort())
      }
    }
  }
  const out: { key: string; text: string }[] = []
  for (const component of components) {
    const members = new Set(component)
    for (const first of component) {
      const cycle = shortestCycle(graph, members, first)
      // The same cycle is found from each of its modules: keep it once, from its smallest module.
      const smallest = cycle.reduce((best, p, i) => (p.node < cycle[best]!.node ? i : best), 0)
      const path = [...cycle.slice(smallest), ...cycle.slice(0, smallest)]
      const key = [...path.map((p) => p.node), path[0]!.node].join(' → ')
      if (out.some((c) => c.key === key)) continue
      out.push({ key, text: path.map((p) => `${p.node} (line ${p.line})`).join(' → ') + ` → ${path[0]!.node}` })
    }
  }
  return out
}

/** The shortest cycle through `first` inside a component: each module with the line importing the next. */
function shortestCycle(graph: Graph, members: Set<string>, first: string): { node: string; line: number }[] {
  const previous = new Map<string, { from: string; line: number }>()
  const queue = [first]
  let closing: { from: string; line: number } | undefined
  for (let i = 0; i < queue.length && closing === undefined; i++) {
    const node = queue[i]!
    for (const e of graph.get(node) ?? []) {
      if (e.to === first) {
        closing = { from: node, line: e.line }
        break
      }
      if (members.has(e.to) && !previous.has(e.to)) {
        previous.set(e.to, { from: node, line: e.line })
        queue.push(e.to)
      }
    }
  }
  const path: { node: string; line: number }[] = []
  let at = closing!
  path.unshift({ node: at.from, line: at.line })
  while (at.from !== first) {
    at = previous.get(at.from)!
    path.unshift({ node: at.from, line: at.line })
  }
  return path
}

// ---------------------------------------------------------------------------------------------
// Python

/** Prints {module: [[imported module, line], ...]} for every module of the package, as JSON. */
const PY_IMPORTS = String.raw`
import ast, json, os, sys
root = sys.argv[1]                      # the folder holding the package
package = os.path.basename(root)
modules = {}
for folder, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for name in sorted(files):
        if name.endswith(".py"):
            path = os.path.join(folder, name)
            parts = os.path.relpath(path, os.path.dirname(root))[:-3].split(os.sep)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            modules[".".join(parts)] = (path, is_package)

def type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")

def imports(tree):
    """Import nodes, except in the body of 'if TYPE_CHECKING:' (its else branch does run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))

out = {}
for name, (path, is_package) in sorted(modules.items()):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    own_package = name if is_package else name.rpartition(".")[0]
    parts = name.split(".")
    ancestors = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}  # its packages, and itself
    edges = []
    for node in imports(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules and alias.name not in ancestors:
                    edges.append([alias.name, node.lineno])
            continue
        if node.level:
            base = own_package.split(".")
            base = base[: len(base) - (node.level - 1)]
            base = ".".join(base + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        if base not in modules and not base.startswith(package):
            continue
        for alias in node.names:
            sub = base + "." + alias.name
            if sub in modules:
                edges.append([sub, node.lineno])
            elif base in modules and base not in ancestors:
                edges.append([base, node.lineno])
    out[name] = edges
print(json.dumps(out))
`

/** The newest installed interpreter (any of 3.8+ parses the agent). */
function anyPython(): string | undefined {
  for (const minor of [...NATIVE_MINORS].reverse()) {
    const python = pythonFor(minor)
    if (python !== undefined) return python
  }
  return undefined
}

function pythonGraph(python: string, root = AGENT): Graph {
  const r = spawnSync(python, ['-I', '-c', PY_IMPORTS, root], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const raw = JSON.parse(r.stdout) as { [module: string]: [string, number][] }
  const graph: Graph = new Map()
  for (const [module, edges] of Object.entries(raw)) graph.set(module, edges.map(([to, line]) => ({ to, line })))
  return graph
}

test('python/pyxray has no import cycle (module-level and function-level imports)', (t) => {
  const python = anyPython()
  if (python === undefined) {
    const reason = 'no CPython 3.8+ is installed to parse the agent with'
    if (process.env.CI === 'true') assert.fail(`${reason} (required under CI=true)`)
    t.skip(reason)
    return
  }
  const graph = pythonGraph(python)
  // The reader sees what it must: a known module-level and a known function-level import.
  assert.ok(graph.get('pyxray.worker')?.some((e) => e.to === 'pyxray.protocol'), 'worker imports protocol at module level')
  assert.ok(graph.get('pyxray.protocol')?.some((e) => e.to === 'pyxray._measure'), 'protocol imports _measure inside a function')
  assert.ok(graph.size >= 20, `expected the agent's modules, got ${[...graph.keys()].join(', ')}`)
  const cycles = findCycles(graph)
  assert.deepEqual(cycles.map((c) => c.text), [], `import cycles in python/pyxray:\n${cycles.map((c) => `  ${c.text}`).join('\n')}`)
})

test('the cycle finder names cycles; the Python reader sees function-level imports and skips TYPE_CHECKING, docstrings, the own package', () => {
  const graph: Graph = new Map([
    ['a', [{ to: 'b', line: 3 }]],
    ['b', [{ to: 'c', line: 7 }]],
    ['c', [{ to: 'a', line: 12 }]],
    ['d', [{ to: 'd', line: 1 }]],
    ['e', [{ to: 'a', line: 1 }]],
  ])
  assert.deepEqual(findCycles(graph).map((c) => c.text).sort(), ['a (line 3) → b (line 7) → c (line 12) → a', 'd (line 1) → d'])
  // The parser itself, on a throwaway package.
  const python = anyPython()
  if (python === undefined) return
  const root = join(mkdtempSync(join(tmpdir(), 'pyxray-cycles-')), 'pkg')
  after(() => rmSync(dirname(root), { recursive: true, force: true }))
  mkdirSync(root)
  const files = {
    '__init__.py': 'VERSION = 1\nfrom . import VERSION\n',
    'a.py': 'from . import VERSION\nfrom .b import x\n',
    'b.py': 'TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from .a import y\nelse:\n    import os\nx = 1\ndef f():\n    from . import c\n',
    'c.py': '"""from . import a"""\ndef g():\n    import pkg.b\n',
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text)
  const r = spawnSync(python, ['-I', '-c', PY_IMPORTS, root], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { pkg: [], 'pkg.a': [['pkg.b', 2]], 'pkg.b': [['pkg.c', 8]], 'pkg.c': [['pkg.b', 3]] })
  assert.deepEqual(findCycles(pythonGraph(python, root)).map((c) => c.text), ['pkg.b (line 8) → pkg.c (line 3) → pkg.b'])
})

// ---------------------------------------------------------------------------------------------
// TypeScript

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* tsFiles(path)
    else if (/\.(m|c)?tsx?$/.test(name) && !name.endsWith('.d.ts')) yield path
  }
}

/**
 * The relative imports of one file: those that stay in the emitted JavaScript (see the top
 * comment), or with `types` all of them.
 */
function relativeImports(path: string, text: string, types = false): { specifier: string; line: number }[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const out: { specifier: string; line: number }[] = []
  const add = (node: ts.Node, specifier: ts.Expression | undefined) => {
    if (specifier === undefined || !ts.isStringLiteralLike(specifier) || !specifier.text.startsWith('.')) return
    out.push({ specifier: specifier.text, line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1 })
  }
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      if (types || !node.importClause?.isTypeOnly) add(node, node.moduleSpecifier)
    } else if (ts.isExportDeclaration(node)) {
      if (types || !node.isTypeOnly) add(node, node.moduleSpecifier)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0])
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return out
}

function tsGraph(dir: string, types: boolean): Graph {
  const graph: Graph = new Map()
  const name = (path: string) => relative(dir, path).split('\\').join('/')
  for (const path of tsFiles(dir)) {
    const edges: Edge[] = []
    for (const { specifier, line } of relativeImports(path, readFileSync(path, 'utf8'), types)) {
      const target = resolve(dirname(path), specifier).replace(/\.(m|c)?js$/, (ext) => ext.replace('js', 'ts'))
      edges.push({ to: name(target), line })
    }
    graph.set(name(path), edges)
  }
  return graph
}

test('src/ has no import cycle (value, re-export, side-effect and dynamic imports)', () => {
  const graph = tsGraph(SRC, false)
  assert.ok(graph.get('cli/main.ts')?.length, 'cli/main.ts imports modules')
  const cycles = findCycles(graph)
  assert.deepEqual(cycles.map((c) => c.text), [], `import cycles in src/:\n${cycles.map((c) => `  ${c.text}`).join('\n')}`)
})

test('src/ has no import cycle through type-only imports either, but the known ones', () => {
  const cycles = findCycles(tsGraph(SRC, true))
  const unknown = cycles.filter((c) => !KNOWN_SRC_CYCLES.includes(c.key))
  assert.deepEqual(unknown.map((c) => c.text), [], `import cycles in src/ (counting import type):\n${unknown.map((c) => `  ${c.text}`).join('\n')}`)
  const gone = KNOWN_SRC_CYCLES.filter((key) => !cycles.some((c) => c.key === key))
  assert.deepEqual(gone, [], 'a cycle in KNOWN_SRC_CYCLES is gone: take it off the list')
})

test('the TypeScript import reader counts what is emitted and skips what is erased', () => {
  const text = [
    "import type { A } from './type-only.js'",
    "import { type B } from './inline-type.js'",
    "import { c } from './value.js'",
    "import './side-effect.js'",
    "export { d } from './re-export.js'",
    "export type { E } from './type-re-export.js'",
    "export * from './star.js'",
    "const f = () => import('./dynamic.js')",
    "import { g } from 'node:fs'",
  ].join('\n')
  assert.deepEqual(
    relativeImports('x.ts', text).map((i) => i.specifier),
    ['./inline-type.js', './value.js', './side-effect.js', './re-export.js', './star.js', './dynamic.js'],
  )
  assert.deepEqual(relativeImports('x.ts', text, true).length, 8)
})
