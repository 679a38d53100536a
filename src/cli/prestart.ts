/**
 * What bin/pyxray.js does before it loads the commands: when the command line will compile Python
 * source with the default runtime, start that runtime's worker now, so that the interpreter starts
 * while Node loads the rest of pyxray (see runtime/prestart.ts). Only the command line is read here,
 * and cautiously: a command that names a runtime (--python, --runtime, $PYXRAY_PYTHON), reads .pyc
 * files, or asks for help starts nothing early. A wrong guess costs one interpreter start, not a
 * wrong result: the runtime actually used is still chosen by selectRuntime.
 */
import { prestartDefault } from '../runtime/prestart.js'

/** The commands that compile their target with the runtime selectRuntime picks. */
const COMPILING = new Set(['dis', 'ast', 'stack', 'code'])

/** Options after which the runtime is not the default one, or nothing is compiled at all. */
const NOT_DEFAULT = /^(-h|--help|--python|--runtime|--python-version|--adaptive)(=|$)/

/** Whether `argv` (without node and the script) will compile source with the default runtime. */
export function compilesWithDefaultRuntime(argv: readonly string[]): boolean {
  const [command, ...rest] = argv
  if (command === undefined || !COMPILING.has(command)) return false
  let source = false
  for (const arg of rest) {
    if (arg === '--') break
    if (NOT_DEFAULT.test(arg)) return false
    // -c SOURCE, stdin (-), or a FILE.py target (FILE.py:Qualname, FILE.py:LINE).
    if (arg === '-c' || arg === '--command' || arg.startsWith('--command=') || arg === '-') source = true
    else if (!arg.startsWith('-') && /\.py(:[^/\\]+)?$/.test(arg)) source = true
  }
  return source
}

/** Starts the default runtime's worker when `argv` will need it; returns whether it did. */
export function prestart(argv: readonly string[]): boolean {
  return compilesWithDefaultRuntime(argv) && prestartDefault()
}
