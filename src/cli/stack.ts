/** `pyxray stack TARGET`: the value stack at every instruction. */
import { formatStack, stackToJson } from '../bytecode/format/stack.js'
import { jsonText } from '../bytecode/format/output.js'
import type { TextStyle } from '../bytecode/format/text.js'
import type { Console } from './dis.js'
import { ExitCode } from './errors.js'
import { type SourceOptions, type Target, withTarget } from './source.js'

/** Options of `pyxray stack`. */
export interface StackOptions extends SourceOptions {
  readonly format: 'text' | 'json'
  readonly verbose: boolean
  readonly style: TextStyle
  readonly explain?: (minor: number, opname: string) => string | undefined
}

/** Runs `pyxray stack`. */
export function runStack(target: Target, o: StackOptions, con: Console): Promise<number> {
  return withTarget(target, o, con, (loaded) => {
    if (o.format === 'json') {
      const doc = {
        pyxray: 'stack',
        version: 1,
        file: target.path ?? null,
        pythonVersion: `3.${loaded.code.pythonVersion[1]}`,
        runtime: loaded.runtime ? { ...loaded.runtime.info, reason: loaded.runtime.reason } : null,
        codeObjects: stackToJson(loaded.code, true, loaded.maxOutputBytes),
      }
      con.out(`${jsonText(doc, 2, loaded.maxOutputBytes)}\n`)
    } else {
      const width = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 100
      con.out(formatStack(loaded.code, { maxOutputBytes: loaded.maxOutputBytes, style: o.style, width, ...(o.explain ? { explain: o.explain } : {}) }))
    }
    return ExitCode.Ok
  })
}
