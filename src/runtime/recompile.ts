/**
 * Compiling many sources with the interpreter of each version they were made for: one worker per
 * version (a native CPython of that version, or Pyodide for 3.14 when there is none), started on
 * first use and kept for every later source, with a few requests in flight at once so that the
 * caller's own work overlaps the interpreter's. Used to verify decompiled source: the output goes
 * back through CPython and comes out as a code object to compare with the original.
 */
import { type CodeObject, toCodeObject } from '../bytecode/index.js'
import { readMarshal } from '../marshal/index.js'
import { PYODIDE_MINOR, type RuntimeChoice, type Selected, selectRuntime } from './index.js'
import { fromBase64, RuntimeError, type RuntimeInfo } from './types.js'

/** What compiling one source gave: the module's code object, or why it did not compile. */
export type Recompiled = { readonly code: CodeObject } | { readonly error: string }

/** Options of one {@link Recompilers.compile} call. */
export interface RecompileOptions {
  /** co_filename of the result (default "<decompiled>"). */
  readonly filename?: string
  /** As compile()'s optimize: 0, 1 or 2 (the .pyc's level). */
  readonly optimize: 0 | 1 | 2
}

/** How long one compile may take, queue included (the agent's default is 30 s). */
const COMPILE_TIMEOUT_MS = 300_000

/** Requests sent to one worker before the earlier ones are answered. */
const IN_FLIGHT = 4

interface Lane {
  readonly selected: Promise<Selected>
  readonly info: Promise<RuntimeInfo>
  active: number
  readonly waiting: (() => void)[]
}

/** The interpreters of every version, started on first use. */
export class Recompilers {
  private readonly lanes = new Map<number, Lane>()

  /**
   * `choice`: --runtime and --python as the user gave them. A --python interpreter is used for the
   * sources of its own version only (another version is an error naming both).
   */
  constructor(private readonly choice: RuntimeChoice = {}) {}

  /** Uses an already selected runtime for its version (the one that compiled a .py being checked). */
  adopt(minor: number, selected: Selected): void {
    if (this.lanes.has(minor)) return
    const s = Promise.resolve(selected)
    this.lanes.set(minor, { selected: s, info: selected.runtime.info(), active: 0, waiting: [] })
  }

  private lane(minor: number): Lane {
    let lane = this.lanes.get(minor)
    if (lane === undefined) {
      const python = this.choice.python ?? `3.${minor}`
      const selected =
        this.choice.runtime === 'pyodide' && this.choice.python === undefined && minor !== PYODIDE_MINOR
          ? Promise.reject(new RuntimeError('RUNTIME_UNSUPPORTED', `this bytecode is CPython 3.${minor}; the Pyodide runtime is CPython 3.${PYODIDE_MINOR}, so it recompiles 3.${PYODIDE_MINOR} bytecode only: use --runtime native`))
          : selectRuntime({ ...this.choice, python })
      const info = selected.then(async (s) => {
        const i = await s.runtime.info()
        if (i.minor !== minor) {
          throw new RuntimeError('RUNTIME_UNSUPPORTED', `--python ${python} is CPython ${i.version}; this bytecode is CPython 3.${minor}: it is recompiled by the same version (omit --python, or pass --python 3.${minor})`)
        }
        return i
      })
      // Both are awaited by every caller; an early rejection is not "unhandled" meanwhile.
      selected.catch(() => {})
      info.catch(() => {})
      lane = { selected, info, active: 0, waiting: [] }
      this.lanes.set(minor, lane)
    }
    return lane
  }

  /** The runtime that compiles the sources of 3.`minor`, and why it was chosen. */
  async runtimeFor(minor: number): Promise<{ readonly selected: Selected; readonly info: RuntimeInfo }> {
    const lane = this.lane(minor)
    return { selected: await lane.selected, info: await lane.info }
  }

  /**
   * Compiles `source` with the interpreter of 3.`minor`: `compile(source, filename, 'exec',
   * dont_inherit=True, optimize=…)`, marshalled, read back. A source that does not compile gives
   * `{error}`; a missing or failing interpreter rejects with its RuntimeError.
   */
  async compile(minor: number, source: string, options: RecompileOptions): Promise<Recompiled> {
    const lane = this.lane(minor)
    const { runtime } = await lane.selected
    await lane.info
    if (lane.active >= IN_FLIGHT) await new Promise<void>((go) => lane.waiting.push(go))
    lane.active++
    try {
      // As runtime.compile(), with a longer timeout: a large module, behind a few others, on a busy machine.
      const r = await runtime.request<{ marshal: string }>('compile', { source, filename: options.filename ?? '<decompiled>', mode: 'exec', optimize: options.optimize }, { timeoutMs: COMPILE_TIMEOUT_MS })
      const bytes = fromBase64(r.marshal)
      const { value } = readMarshal(bytes, { pythonVersion: [3, minor] })
      if (value.type !== 'code') return { error: `the interpreter returned a ${value.type}, not a code object` }
      return { code: toCodeObject(value, minor) }
    } catch (e) {
      if (e instanceof RuntimeError && (e.code === 'SYNTAX_ERROR' || e.code === 'COMPILE_ERROR')) return { error: compileErrorText(e) }
      throw e
    } finally {
      lane.active--
      lane.waiting.shift()?.()
    }
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    const lanes = [...this.lanes.values()]
    this.lanes.clear()
    await Promise.all(
      lanes.map(async (l) => {
        try {
          await (await l.selected).runtime.close()
        } catch {
          // never started
        }
      }),
    )
  }
}

/** A syntax or compile error in one line: "SyntaxError: invalid syntax (line 3)". */
function compileErrorText(e: RuntimeError): string {
  const s = e.syntax
  if (s) return `${s.type}: ${s.message}${s.lineno !== null ? ` (line ${s.lineno}${s.offset !== null ? `, column ${s.offset}` : ''})` : ''}`
  return e.message
}
