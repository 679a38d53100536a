/** `pyxray stack TARGET`: the value stack at every instruction. */
import { formatStack, stackToJson } from '../bytecode/format/stack.js'
import { jsonText } from '../bytecode/format/output.js'
import type { TextStyle } from '../bytecode/format/text.js'
import type { Console } from './io.js'
import { explainOpcode } from '../bytecode/explain.js'
import { COLOR_HELP, COLOR_OPTIONS, defineCommand, formatOption, formatValue, HELP_OPTION, OUTPUT_HELP, OUTPUT_OPTIONS, outputValue, parseOptions, textStyle, withOutput } from './command.js'
import { ExitCode } from './errors.js'
import { oneTarget, SOURCE_HELP, SOURCE_OPTIONS, type SourceOptions, sourceValues, type Target, withTarget } from './source.js'

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

const STACK_OPTIONS = { ...SOURCE_OPTIONS, ...formatOption('text'), explain: { type: 'boolean', default: false }, ...OUTPUT_OPTIONS, ...COLOR_OPTIONS, ...HELP_OPTION } as const

/** `pyxray stack`. */
export const stackCommand = defineCommand({
  name: 'stack',
  synopsis: 'TARGET',
  summary: 'the value stack at every instruction, max depth vs co_stacksize',
  help: `Usage: pyxray stack TARGET [options]

The value stack at every instruction, simulated symbolically: each slot shows the expression that
produced it (x + 1, obj.attr, f(x, y=2), NULL, <exception>…), top on the right, with the depth and
a summary line "max depth N (co_stacksize N)" per code object. TARGET as for dis (.py or .pyc;
- reads source from standard input).

Options:
  -f, --format FMT          text (default) or json (per instruction: offset, depthBefore,
                            depthAfter, stackAfter [{expr, pushedBy}])
      --explain             text format: add a one-line explanation of every opcode that appears
  -c, --command SOURCE      simulate this source instead of a file
${OUTPUT_HELP}
${COLOR_HELP}
${SOURCE_HELP}
  -h, --help                show this help (also: pyxray help stack)
`,
  options: STACK_OPTIONS,
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, STACK_OPTIONS)
    const format = formatValue('stack', values.format, ['text', 'json'] as const)
    const target = oneTarget('stack', values.command, positionals)
    if (values.explain && format !== 'text') ctx.warn(`--explain applies to the text format; ignored for ${format}`)
    const output = outputValue(values, ctx)
    return { target, output, options: { ...sourceValues(values), format, style: textStyle(values, output), ...(values.explain ? { explain: explainOpcode } : {}) } }
  },
  run(o, ctx) {
    return withOutput(ctx, o.output, o.target.path !== undefined ? [o.target.path] : [], (con) => runStack(o.target, o.options, con))
  },
})
