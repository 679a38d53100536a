/**
 * The Web Worker of the static build: loads Pyodide (CPython 3.14 in WebAssembly) from the files
 * copied beside the bundle, writes the pyxray agent into its file system and answers the agent's
 * JSON-line requests (python/pyxray/protocol.py), exactly as the Node worker thread does.
 */

/** The agent's Python files, bundled as text. */
const AGENT = import.meta.glob('../../python/pyxray/*.py', { query: '?raw', import: 'default', eager: true }) as Record<string, string>

interface PyodideApi {
  FS: { mkdirTree(path: string): void; writeFile(path: string, text: string): void }
  runPython(code: string): unknown
  pyimport(name: string): { handle_json: (line: string) => string }
}

import { astAt, astSlice, initialSliceDepth } from '../../src/runtime/ast-slice.js'
import type { AstNode } from '../../src/runtime/types.js'

const scope = self as unknown as { postMessage(message: unknown): void; onmessage: ((e: MessageEvent) => void) | null }

let handle: ((line: string) => string) | undefined
const queue: string[] = []

/** The last tree parsed for a sliced request: opening a node answers from it, not by parsing again. */
let lastTree: { source: string; tree: AstNode } | undefined

/**
 * One request line answered: by the agent, except `parse` with a `slice` ({ path, depth? }), which
 * this worker answers with a piece of the tree (src/runtime/ast-slice.ts) so that the page never
 * receives, or parses on its main thread, a big module's whole tree.
 */
function answer(agent: (line: string) => string, line: string): string {
  if (!line.includes('"slice"')) return agent(line)
  const req = JSON.parse(line) as { id: number; method: string; params: { source?: unknown; slice?: { path: string; depth?: number } } }
  const { slice, ...params } = req.params
  if (req.method !== 'parse' || !slice || typeof params.source !== 'string') return agent(line)
  if (lastTree?.source !== params.source) {
    const out = JSON.parse(agent(JSON.stringify({ ...req, params }))) as { result?: { ast: AstNode } }
    if (!out.result) return JSON.stringify(out)
    lastTree = { source: params.source, tree: out.result.ast }
  }
  const node = astAt(lastTree.tree, slice.path)
  if (!node) return JSON.stringify({ id: req.id, error: { code: 'BAD_REQUEST', message: `the syntax tree has no node at ${JSON.stringify(slice.path)}` } })
  return JSON.stringify({ id: req.id, result: { ast: astSlice(node, slice.depth ?? initialSliceDepth(node)) } })
}

async function start(indexURL: string): Promise<void> {
  try {
    scope.postMessage({ stage: 'fetch' })
    const mod = (await import(/* @vite-ignore */ `${indexURL}pyodide.mjs`)) as { loadPyodide(o: object): Promise<PyodideApi> }
    scope.postMessage({ stage: 'wasm' })
    const py = await mod.loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} })
    scope.postMessage({ stage: 'agent' })
    py.FS.mkdirTree('/pyxray-agent/pyxray')
    for (const [path, text] of Object.entries(AGENT)) py.FS.writeFile(`/pyxray-agent/pyxray/${path.split('/').pop()}`, text)
    py.runPython("import sys; sys.path.insert(0, '/pyxray-agent')")
    handle = py.pyimport('pyxray.protocol').handle_json
    scope.postMessage({ ready: true })
    for (const line of queue.splice(0)) scope.postMessage({ line: answer(handle, line) })
  } catch (e) {
    scope.postMessage({ failed: e instanceof Error ? e.message : String(e) })
  }
}

scope.onmessage = (e: MessageEvent) => {
  const msg = e.data as { start?: string; line?: string }
  if (msg.start !== undefined) void start(msg.start)
  else if (msg.line !== undefined) {
    if (handle) scope.postMessage({ line: answer(handle, msg.line) })
    else queue.push(msg.line)
  }
}
