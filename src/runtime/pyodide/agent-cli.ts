/**
 * Running one of the agent's command lines (`python -m pyxray`, `python -m pyxray.memory`) inside
 * Pyodide (CPython 3.14 in WebAssembly) in a Node worker thread, for pure-Python scripts: what
 * `pyxray profile --runtime pyodide` and `pyxray mem --runtime pyodide` run.
 *
 * The agent package (python/pyxray, subpackages included) is copied into Pyodide's file system.
 * The host folders the run needs — the current folder, the script's, the output's, those of the
 * arguments that name existing files and any the caller adds — are mounted (NODEFS) at their own
 * paths, so the script reads its files, and the agent writes its document (atomically, temp file +
 * rename) where a native run would. The script's stdout and stderr are passed through; SIGINT
 * reaches Python as a KeyboardInterrupt (Pyodide's interrupt buffer).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { RuntimeError } from '../types.js'

/** What to run and where its output goes. */
export interface PyodideAgentRun {
  /** The folder holding the `pyxray` package (agentDir()). */
  readonly agentDir: string
  /** The agent module whose `main(argv)` runs and returns the exit status, e.g. "pyxray.memory._cli". */
  readonly module: string
  /** The command line given to `main`. */
  readonly argv: readonly string[]
  /** Host folders to mount besides those {@link foldersFor} finds in `argv`. */
  readonly folders?: readonly string[]
  /** The script's current folder (default: this process's). */
  readonly cwd?: string
  /** Environment variables for the agent besides the few handed on from this process's. */
  readonly env?: Readonly<Record<string, string>>
  /** The script's standard output, as it comes. */
  readonly stdout: (text: string) => void
  /** The script's (and the profiler's) standard error, as it comes. */
  readonly stderr: (text: string) => void
}

/** Folders of Pyodide's own file system that host folders may not be mounted over. */
const RESERVED = ['/lib', '/dev', '/proc']

/** The worker: loads Pyodide, mounts the folders, runs the agent's command line, posts its status. */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const post = (stream) => ({ write: (buffer) => { parentPort.postMessage({ stream, bytes: buffer.slice() }); return buffer.length } })
import(workerData.pyodideUrl).then(async ({ loadPyodide }) => {
  const py = await loadPyodide({ indexURL: workerData.indexURL, env: workerData.env })
  py.setStdout(post('stdout'))
  py.setStderr(post('stderr'))
  py.setInterruptBuffer(new Uint8Array(workerData.interrupt))
  for (const f of workerData.files) {
    py.FS.mkdirTree('/pyxray-agent/' + f.name.slice(0, f.name.lastIndexOf('/')))
    py.FS.writeFile('/pyxray-agent/' + f.name, f.text)
  }
  for (const dir of workerData.mounts) {
    py.FS.mkdirTree(dir)
    py.FS.mount(py.FS.filesystems.NODEFS, { root: dir }, dir)
  }
  py.globals.set('_pyxray_cwd', workerData.cwd)
  py.runPython("import os, sys; sys.path.insert(1, '/pyxray-agent'); os.chdir(_pyxray_cwd); del _pyxray_cwd")
  const main = py.pyimport(workerData.module).main
  const argv = py.toPy(workerData.argv)
  // SystemExit (argparse's usage errors) ends the command line with its status, as in python -m.
  py.runPython([
    'def _pyxray_run(main, argv):',
    '    try:',
    '        return main(argv)',
    '    except SystemExit as e:',
    '        if e.code is None or isinstance(e.code, int):',
    '            return e.code or 0',
    '        print(e.code, file=sys.stderr)',
    '        return 1',
  ].join('\\n'))
  const status = py.globals.get('_pyxray_run')(main, argv)
  argv.destroy()
  parentPort.postMessage({ exit: status })
}).catch((e) => parentPort.postMessage({ error: String(e && e.message || e) }))
`

/** The smallest set of folders covering `dirs` (a folder inside another is covered by it). */
export function mountRoots(dirs: readonly string[]): string[] {
  const roots: string[] = []
  for (const dir of [...new Set(dirs.map((d) => resolve(d)))].sort((a, b) => a.length - b.length)) {
    if (roots.some((r) => dir === r || dir.startsWith(r.endsWith('/') ? r : `${r}/`))) continue
    roots.push(dir)
  }
  for (const root of roots) {
    if (root === '/' || RESERVED.some((r) => root === r || root.startsWith(`${r}/`))) {
      throw new RuntimeError(
        'RUNTIME_UNSUPPORTED',
        `the Pyodide runtime cannot see ${root}: it would hide Pyodide's own ${root === '/' ? 'file system' : 'folder'}; run from (and keep the script in) a folder outside ${['/', ...RESERVED].join(', ')}, or use a native CPython`,
      )
    }
  }
  return roots.sort()
}

/** The host folders a run needs (see the module comment). */
export function foldersFor(argv: readonly string[], cwd: string): string[] {
  const dirs = [cwd]
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const path = a === '-o' || a === '--output' ? argv[i + 1] : a.startsWith('--output=') ? a.slice('--output='.length) : undefined
    if (path !== undefined) dirs.push(dirname(resolve(cwd, path)))
    if (a.startsWith('-')) continue
    const full = isAbsolute(a) ? a : join(cwd, a)
    try {
      dirs.push(statSync(full).isDirectory() ? full : dirname(full))
    } catch {
      // not a file: an ordinary argument
    }
  }
  return dirs.filter((d) => existsSync(d))
}

/** The agent's .py files under `dir`/`pkg`, subpackages included, named relative to `dir`. */
export function agentFiles(dir: string, pkg = 'pyxray'): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = []
  for (const entry of readdirSync(join(dir, pkg), { withFileTypes: true })) {
    const name = `${pkg}/${entry.name}`
    if (entry.isDirectory() && entry.name !== '__pycache__') out.push(...agentFiles(dir, name))
    else if (entry.isFile() && entry.name.endsWith('.py')) out.push({ name, text: readFileSync(join(dir, name), 'utf8') })
  }
  return out
}

/** Runs an agent command line in Pyodide; resolves to its exit status. */
export function runPyodideAgent(run: PyodideAgentRun): Promise<number> {
  const cwd = resolve(run.cwd ?? process.cwd())
  const mounts = mountRoots([...foldersFor(run.argv, cwd), ...(run.folders ?? []).map((d) => resolve(cwd, d)).filter((d) => existsSync(d))])
  const files = agentFiles(run.agentDir)
  const pyodideUrl = import.meta.resolve('pyodide')
  const interrupt = new SharedArrayBuffer(1)
  const env: Record<string, string> = { HOME: '/home/pyodide' }
  for (const key of ['PYXRAY_CACHE_DIR', 'PYXRAY_NO_CACHE', 'PYTHONHASHSEED']) if (process.env[key] !== undefined) env[key] = process.env[key]!
  Object.assign(env, run.env)
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { files, module: run.module, pyodideUrl, indexURL: fileURLToPath(new URL('.', pyodideUrl)), mounts, cwd, argv: [...run.argv], interrupt, env },
  })
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
  // Ctrl-C: Pyodide raises KeyboardInterrupt in the script at its next check (signal number 2).
  const onSigint = () => Atomics.store(new Uint8Array(interrupt), 0, 2)
  process.on('SIGINT', onSigint)
  return new Promise<number>((resolvePromise, reject) => {
    let status: number | undefined
    worker.on('message', (msg: { stream: 'stdout' | 'stderr'; bytes: Uint8Array } | { exit: number } | { error: string }) => {
      if ('stream' in msg) {
        const text = decoders[msg.stream].decode(msg.bytes, { stream: true })
        if (msg.stream === 'stdout') run.stdout(text)
        else run.stderr(text)
      } else if ('exit' in msg) {
        status = msg.exit
        void worker.terminate()
      } else reject(new RuntimeError('RUNTIME_CRASHED', `the Pyodide runtime failed: ${msg.error}`))
    })
    worker.on('error', (e) => reject(new RuntimeError('RUNTIME_CRASHED', `the Pyodide runtime failed: ${e.message}`)))
    worker.on('exit', (code) => {
      if (status !== undefined) resolvePromise(status)
      else reject(new RuntimeError('RUNTIME_CRASHED', `the Pyodide runtime stopped (exit code ${code}) before the script ended`))
    })
  }).finally(() => {
    process.off('SIGINT', onSigint)
    const out = decoders.stdout.decode()
    if (out) run.stdout(out)
    const err = decoders.stderr.decode()
    if (err) run.stderr(err)
  })
}
