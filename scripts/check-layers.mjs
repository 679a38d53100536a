#!/usr/bin/env node
// Fails when a lower layer imports a higher one (see ../shared/ARCHITECTURE.md, "Layers"), or when
// modules import each other in a cycle (type-only imports included: a cycle is a cycle to a reader).
// Each layer lists the layers it may import; core layers may not import Node built-ins.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const layers = {
  'src/text': { may: [], node: false },
  'src/versions': { may: [], node: false },
  'src/marshal': { may: ['src/text', 'src/versions'], node: false },
  'src/pyc': { may: ['src/text', 'src/versions', 'src/marshal'], node: false },
  'src/bytecode': { may: ['src/text', 'src/versions', 'src/marshal', 'src/pyc'], node: false },
  'src/profile': { may: ['src/text', 'src/versions', 'src/marshal'], node: false },
  'src/runtime': { may: ['src/text', 'src/versions', 'src/marshal', 'src/pyc', 'src/bytecode'], node: true },
  'src/server': { may: ['src/text', 'src/versions', 'src/marshal', 'src/pyc', 'src/bytecode', 'src/profile', 'src/runtime'], node: true },
  'src/cli': { may: ['src/text', 'src/versions', 'src/marshal', 'src/pyc', 'src/bytecode', 'src/profile', 'src/runtime', 'src/server'], node: true },
  // The web UI runs in a browser: the core, and of src/runtime only its Node-free protocol modules
  // (the agent protocol Pyodide speaks in a Web Worker); npm packages (preact, codemirror) are bundled.
  'web/src': { may: ['src/text', 'src/versions', 'src/marshal', 'src/pyc', 'src/bytecode', 'src/profile'], files: ['src/runtime/types.ts', 'src/runtime/agent.ts'], node: false, packages: true },
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* walk(p)
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) yield p
  }
}
const layerOf = (rel) => Object.keys(layers).find((l) => rel === l || rel.startsWith(`${l}/`))

const problems = []
let files = 0
/** Module → the modules it imports (relative imports, as paths from the root, .js → .ts). */
const graph = new Map()
for (const file of [...walk(join(root, 'src')), ...walk(join(root, 'web', 'src'))]) {
  files++
  const rel = relative(root, file)
  const layer = layerOf(rel)
  if (!layer) continue
  const text = readFileSync(file, 'utf8')
  const deps = []
  graph.set(rel, deps)
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]
    if (spec.startsWith('.')) {
      const target = relative(root, resolve(dirname(file), spec))
      deps.push(target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'))
      const tl = layerOf(target)
      const allowedFile = layers[layer].files?.includes(target.replace(/\.js$/, '.ts'))
      if (tl && tl !== layer && !layers[layer].may.includes(tl) && !allowedFile) problems.push(`${rel}: imports ${spec} (${tl}), which layer ${layer} may not import`)
    } else if (!layers[layer].node && (spec.startsWith('node:') || /^(fs|path|os|child_process|url|process|worker_threads)$/.test(spec))) {
      problems.push(`${rel}: imports ${spec}; the layer ${layer} must not use Node APIs`)
    } else if (!layers[layer].node && !layers[layer].packages) {
      problems.push(`${rel}: imports package ${spec}; the core layer ${layer} has no runtime dependencies`)
    }
  }
}
// Import cycles: a depth-first walk; a module met again while still open closes a cycle.
const open = new Set()
const done = new Set()
const path = []
function visit(module) {
  open.add(module)
  path.push(module)
  for (const dep of graph.get(module) ?? []) {
    if (!graph.has(dep)) continue
    if (open.has(dep)) problems.push(`import cycle: ${[...path.slice(path.indexOf(dep)), dep].join(' → ')}`)
    else if (!done.has(dep)) visit(dep)
  }
  path.pop()
  open.delete(module)
  done.add(module)
}
for (const module of graph.keys()) if (!done.has(module)) visit(module)

if (problems.length) {
  console.error(`layer check failed (${problems.length}):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`layer check: ${files} files (src/ and web/src/), imports point down only, no import cycles`)
