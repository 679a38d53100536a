/**
 * The Pyodide worker thread (Node): loads Pyodide once, installs the agent's files into its file
 * system and answers JSON-line requests by calling the agent's handle_json.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadPyodide } from 'pyodide'

interface Data {
  readonly files: readonly { readonly name: string; readonly text: string }[]
}

const { files } = workerData as Data
const py = await loadPyodide({ stdout: () => {}, stderr: () => {} })
py.FS.mkdirTree('/pyxray-agent/pyxray')
for (const f of files) py.FS.writeFile(`/pyxray-agent/pyxray/${f.name}`, f.text)
py.runPython("import sys; sys.path.insert(0, '/pyxray-agent')")
const handle = py.pyimport('pyxray.protocol').handle_json as (line: string) => string
parentPort?.postMessage({ ready: true })
parentPort?.on('message', (line: string) => {
  parentPort?.postMessage(handle(line))
})
