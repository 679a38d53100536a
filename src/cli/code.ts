/** `pyxray code TARGET`: the code-object inspector. */
import { closureMap, formatCodeInfo } from '../bytecode/format/code-info.js'
import { CODE_JSON_VERSION, codeToJson } from '../bytecode/format/json.js'
import { RuntimeError, selectRuntime } from '../runtime/index.js'
import type { Console } from './dis.js'
import { ExitCode } from './errors.js'
import { formatSyntaxError, isSource, loadTarget, type SourceOptions, type Target } from './source.js'

/** Options of `pyxray code`. */
export interface CodeOptions extends SourceOptions {
  readonly format: 'text' | 'json'
  readonly verbose: boolean
}

/** Runs `pyxray code`. */
export async function runCode(target: Target, o: CodeOptions, con: Console): Promise<number> {
  const selected = isSource(target) ? await selectRuntime(o) : undefined
  try {
    const loaded = await loadTarget(target, o, selected)
    if (o.verbose && loaded.runtime) con.err(`pyxray: runtime ${loaded.runtime.info.kind} CPython ${loaded.runtime.info.version}: ${loaded.runtime.reason}\n`)
    if (o.format === 'json') {
      con.out(
        `${JSON.stringify(
          {
            pyxray: 'code',
            version: CODE_JSON_VERSION,
            file: target.path ?? null,
            pythonVersion: `3.${loaded.code.pythonVersion[1]}`,
            header: loaded.header ?? null,
            closures: closureMap(loaded.code),
            code: codeToJson(loaded.code),
          },
          null,
          2,
        )}\n`,
      )
      return ExitCode.Ok
    }
    if (loaded.header) {
      const h = loaded.header
      const how = h.sourceHash !== undefined ? `source hash ${h.sourceHash}${h.flags & 2 ? ' (checked)' : ' (unchecked)'}` : `mtime ${h.mtime}${h.sourceSize !== undefined ? `, source size ${h.sourceSize}` : ''}`
      con.out(`pyc header: magic ${h.magic} (CPython ${h.release}), flags 0x${h.flags.toString(16)}, ${how}, ${h.byteLength} bytes\n\n`)
    }
    con.out(formatCodeInfo(loaded.code))
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
