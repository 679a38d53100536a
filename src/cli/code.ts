/** `pyxray code TARGET`: the code-object inspector. */
import { closureMap, formatCodeInfo } from '../bytecode/format/code-info.js'
import { codeDocument } from '../bytecode/format/json.js'
import { jsonText } from '../bytecode/format/output.js'
import type { Console } from './dis.js'
import { ExitCode } from './errors.js'
import { type SourceOptions, type Target, withTarget } from './source.js'

/** Options of `pyxray code`. */
export interface CodeOptions extends SourceOptions {
  readonly format: 'text' | 'json'
  readonly verbose: boolean
}

/** Runs `pyxray code`. */
export function runCode(target: Target, o: CodeOptions, con: Console): Promise<number> {
  return withTarget(target, o, con, (loaded) => {
    if (o.format === 'json') {
      con.out(`${jsonText(codeDocument(loaded.code, target.path ?? null, { header: loaded.header ?? null, closures: closureMap(loaded.code) }, loaded.maxOutputBytes), 2, loaded.maxOutputBytes)}\n`)
      return ExitCode.Ok
    }
    if (loaded.header) {
      const h = loaded.header
      const how = h.sourceHash !== undefined ? `source hash ${h.sourceHash}${h.flags & 2 ? ' (checked)' : ' (unchecked)'}` : `mtime ${h.mtime}${h.sourceSize !== undefined ? `, source size ${h.sourceSize}` : ''}`
      con.out(`pyc header: magic ${h.magic} (CPython ${h.release}), flags 0x${h.flags.toString(16)}, ${how}, ${h.byteLength} bytes\n\n`)
    }
    con.out(formatCodeInfo(loaded.code, { maxOutputBytes: loaded.maxOutputBytes }))
    return ExitCode.Ok
  })
}
