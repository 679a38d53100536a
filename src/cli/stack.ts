/** `pyxray stack TARGET`: the value stack at every instruction. */
import { formatStack, stackToJson } from '../bytecode/format/stack.js'
import type { TextStyle } from '../bytecode/format/text.js'
import { RuntimeError, selectRuntime } from '../runtime/index.js'
import type { Console } from './dis.js'
import { ExitCode } from './errors.js'
import { formatSyntaxError, isSource, loadTarget, type SourceOptions, type Target } from './source.js'

/** Options of `pyxray stack`. */
export interface StackOptions extends SourceOptions {
  readonly format: 'text' | 'json'
  readonly verbose: boolean
  readonly style: TextStyle
  readonly explain?: (minor: number, opname: string) => string | undefined
}

/** Runs `pyxray stack`. */
export async function runStack(target: Target, o: StackOptions, con: Console): Promise<number> {
  const selected = isSource(target) ? await selectRuntime(o) : undefined
  try {
    const loaded = await loadTarget(target, o, selected)
    if (o.verbose && loaded.runtime) con.err(`pyxray: runtime ${loaded.runtime.info.kind} CPython ${loaded.runtime.info.version}: ${loaded.runtime.reason}\n`)
    if (o.format === 'json') {
      const doc = {
        pyxray: 'stack',
        version: 1,
        file: target.path ?? null,
        pythonVersion: `3.${loaded.code.pythonVersion[1]}`,
        runtime: loaded.runtime ? { ...loaded.runtime.info, reason: loaded.runtime.reason } : null,
        codeObjects: stackToJson(loaded.code),
      }
      con.out(`${JSON.stringify(doc, null, 2)}\n`)
    } else {
      const width = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 100
      con.out(formatStack(loaded.code, { style: o.style, width, ...(o.explain ? { explain: o.explain } : {}) }))
    }
    return ExitCode.Ok
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'SYNTAX_ERROR') {
      con.err(`${formatSyntaxError(e, target.path ?? '<string>')}\n`)
      return ExitCode.Usage
    }
    throw e
  } finally {
    await selected?.runtime.close()
  }
}
