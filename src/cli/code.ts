/** `pyxray code TARGET`: the code-object inspector. */
import { closureMap, formatCodeInfo } from '../bytecode/format/code-info.js'
import { codeDocument } from '../bytecode/format/json.js'
import { jsonText } from '../bytecode/format/output.js'
import type { Console } from './io.js'
import { defineCommand, formatOption, formatValue, HELP_OPTION, OUTPUT_HELP, OUTPUT_OPTIONS, outputValue, parseOptions, withOutput } from './command.js'
import { ExitCode } from './errors.js'
import { oneTarget, SOURCE_HELP, SOURCE_OPTIONS, type SourceOptions, sourceValues, type Target, withTarget } from './source.js'

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

const CODE_OPTIONS = { ...SOURCE_OPTIONS, ...formatOption('text'), ...OUTPUT_OPTIONS, ...HELP_OPTION } as const

/** `pyxray code`. */
export const codeCommand = defineCommand({
  name: 'code',
  synopsis: 'TARGET',
  summary: 'everything a code object holds, explained',
  help: `Usage: pyxray code TARGET [options]

Everything a code object holds, explained: every co_* attribute, flags by name, locals and their
kinds, the closure map (which cell feeds which free variable), the constants tree, line-table entries
and positions, the exception table, and the .pyc header for .pyc input. TARGET as for dis (one
file, 'FILE.py:Qualname', FILE.py:LINE, or - for source on standard input).

Options:
  -f, --format FMT          text (default) or json
  -c, --command SOURCE      inspect this source instead of a file
${OUTPUT_HELP}
${SOURCE_HELP}
  -h, --help                show this help (also: pyxray help code)
`,
  options: CODE_OPTIONS,
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, CODE_OPTIONS)
    const format = formatValue('code', values.format, ['text', 'json'] as const)
    const target = oneTarget('code', values.command, positionals)
    return { target, output: outputValue(values, ctx), options: { ...sourceValues(values), format } }
  },
  run(o, ctx) {
    return withOutput(ctx, o.output, o.target.path !== undefined ? [o.target.path] : [], (con) => runCode(o.target, o.options, con))
  },
})
