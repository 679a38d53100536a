/**
 * `pyxray profile --runtime pyodide`: runs the agent's profiler command line
 * (python/pyxray/_profile_cli.py, what `python -m pyxray` runs) inside Pyodide (CPython 3.14 in
 * WebAssembly) in a Node worker thread, for pure-Python scripts.
 *
 * The host folders the run needs — the current folder, the script's, the output's and those of
 * the arguments that name existing files — are mounted (NODEFS) at their own paths, so the script
 * reads its files, and the agent writes the profile (atomically, temp file + rename) where a
 * native run would. The script's stdout and stderr are passed through; SIGINT reaches Python as a
 * KeyboardInterrupt (Pyodide's interrupt buffer), so the profile is still written, marked partial.
 * Pyodide has no threads: sample mode (a sampler thread) is refused before anything runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { RuntimeError } from '../types.js'

/** What to run and where its output goes. */
export interface PyodideProfileRun {
  /** The folder holding the `pyxray` package (agentDir()). */
  readonly agentDir: string
  /** The profiler's options, then the script (or -m module / -c code) and its arguments. */
  readonly argv: readonly string[]
  /** The script's current folder (default: this process's). */
  readonly cwd?: string
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
  py.FS.mkdirTree('/pyxray-agent/pyxray')
  for (const f of workerData.files) py.FS.writeFile('/pyxray-agent/pyxray/' + f.name, f.text)
  for (const dir of workerData.mounts) {
    py.FS.mkdirTree(dir)
    py.FS.mount(py.FS.filesystems.NODEFS, { root: dir }, dir)
  }
  py.globals.set('_pyxray_cwd', workerData.cwd)
  py.runPython("import os, sys; sys.path.insert(1, '/pyxray-agent'); os.chdir(_pyxray_cwd); del _pyxray_cwd")
  const main = py.pyimport('pyxray._profile_cli').main
  const argv = py.toPy(workerData.argv)
  const status = main(argv)
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

/** Runs the profiler in Pyodide; resolves to the script's exit status. */
export function runPyodideProfile(run: PyodideProfileRun): Promise<number> {
  const cwd = resolve(run.cwd ?? process.cwd())
  const mounts = mountRoots(foldersFor(run.argv, cwd))
  const files = readdirSync(join(run.agentDir, 'pyxray'))
    .filter((n) => n.endsWith('.py'))
    .map((name) => ({ name, text: readFileSync(join(run.agentDir, 'pyxray', name), 'utf8') }))
  const pyodideUrl = import.meta.resolve('pyodide')
  const interrupt = new SharedArrayBuffer(1)
  const env: Record<string, string> = { HOME: '/home/pyodide' }
  for (const key of ['PYXRAY_CACHE_DIR', 'PYXRAY_NO_CACHE', 'PYTHONHASHSEED']) if (process.env[key] !== undefined) env[key] = process.env[key]!
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { files, pyodideUrl, indexURL: fileURLToPath(new URL('.', pyodideUrl)), mounts, cwd, argv: [...run.argv], interrupt, env },
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
