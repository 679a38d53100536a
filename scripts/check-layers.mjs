#!/usr/bin/env node
// Fails when a lower layer imports a higher one (see ../shared/ARCHITECTURE.md, "Layers").
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
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* walk(p)
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield p
  }
}
const layerOf = (rel) => Object.keys(layers).find((l) => rel === l || rel.startsWith(`${l}/`))

const problems = []
let files = 0
for (const file of walk(join(root, 'src'))) {
  files++
  const rel = relative(root, file)
  const layer = layerOf(rel)
  if (!layer) continue
  const text = readFileSync(file, 'utf8')
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]
    if (spec.startsWith('.')) {
      const target = relative(root, resolve(dirname(file), spec))
      const tl = layerOf(target)
      if (tl && tl !== layer && !layers[layer].may.includes(tl)) problems.push(`${rel}: imports ${spec} (${tl}), which layer ${layer} may not import`)
    } else if (!layers[layer].node && (spec.startsWith('node:') || /^(fs|path|os|child_process|url|process|worker_threads)$/.test(spec))) {
      problems.push(`${rel}: imports ${spec}; the core layer ${layer} must not use Node APIs`)
    } else if (!layers[layer].node) {
      problems.push(`${rel}: imports package ${spec}; the core layer ${layer} has no runtime dependencies`)
    }
  }
}
if (problems.length) {
  console.error(`layer check failed (${problems.length}):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`layer check: ${files} files, imports point down only`)
